"""A local stand-in for Have I Been Pwned's Pwned Passwords range API
(https://haveibeenpwned.com/API/v3#PwnedPasswords), for `make dev` and the browser tests: the
bridge must not call the internet locally. `GET /range/{prefix}` answers, as the real API does,
every `SUFFIX:COUNT` line under the 5-character SHA-1 prefix, with decoys of count 0 when
`Add-Padding: true` is sent. It knows only a few common passwords that the pool's rules allow
(below); every other password is unknown to it.

Usage: python3 demo/pwned_passwords_demo.py --port P   (prints `READY <url>`)
"""

import argparse
import hashlib
import re

from local_service import Handler as ServiceHandler, serve

# Common passwords that meet the pool's rules (10 characters or more, a lowercase and an
# uppercase letter, a digit), each with a count as the real API might give it.
KNOWN = {"Password123!": 10_443, "Passw0rd1234": 2_213, "Welcome12345!": 1_071, "Qwerty123456!": 836}
HASHES = {hashlib.sha1(p.encode()).hexdigest().upper(): n for p, n in KNOWN.items()}


class Handler(ServiceHandler):
    def do_GET(self):
        match = re.fullmatch(r"/range/([0-9A-Fa-f]{5})", self.path)
        if not match:
            return self.send_body(400, "text/plain", b"The hash prefix was not in a valid format")
        prefix = match.group(1).upper()
        lines = [f"{h[5:]}:{n}" for h, n in HASHES.items() if h.startswith(prefix)]
        if self.headers.get("Add-Padding", "").lower() == "true":
            lines += [f"{hashlib.sha1(f'{prefix}{i}'.encode()).hexdigest().upper()[5:]}:0" for i in range(800)]
        self.send_body(200, "text/plain", "\r\n".join(lines).encode())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    serve(Handler, parser.parse_args().port)


if __name__ == "__main__":
    main()
