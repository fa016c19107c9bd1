"""The local mailbox: every email the local Cognito and SES sent (scripts/moto_server.py appends
each to its outbox file, a JSON line with `destination`, `kind`, `subject`, `html` or `text`,
`code`, `at`), for local runs and browser tests.

- `GET /` lists them, newest first, each with its subject and its HTML body in a sandboxed
  frame (no scripts, no forms; the page refreshes itself).
- `GET /messages` returns the same as JSON; `?to=EMAIL` keeps one address's.

Usage: python3 demo/mail_inbox.py --port P --outbox FILE
Prints `READY <url>` once listening.
"""

import argparse
import html
import json
import time
import urllib.parse

from local_service import Handler as ServiceHandler, serve


def body(mail):
    """A message's body: HTML (Cognito's) in a sandboxed frame, plain text (SES's) as written."""
    if mail.get("html") is None and mail.get("text") is not None:
        return f"<pre class='text' style='white-space:pre-wrap;border:1px solid #ddd;padding:.5rem'>{html.escape(mail['text'])}</pre>"
    return (f"<iframe sandbox title='{html.escape(mail.get('subject') or '', quote=True)}' srcdoc='{html.escape(mail.get('html') or '', quote=True)}'"
            f" style='width:100%;height:12rem;border:1px solid #ddd'></iframe>")


class Handler(ServiceHandler):
    outbox: str

    def emails(self, to=None):
        try:
            with open(self.outbox, encoding="utf-8") as f:
                lines = [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            lines = []
        mails = [m for m in lines if to is None or m.get("destination", "").lower() == to.lower()]
        return list(reversed(mails))

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        to = urllib.parse.parse_qs(url.query).get("to", [None])[0]
        if url.path == "/messages":
            return self.send_json(200, self.emails(to))
        if url.path != "/":
            return self.send_json(404, {"error": "not found"})
        rows = "".join(
            f"<li class='email'><time>{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(m.get('at', 0)))}</time>"
            f" to <b class='to'>{html.escape(m.get('destination', ''))}</b> <small>{html.escape(m.get('kind', ''))}</small>"
            f"<p class='subject'><b>{html.escape(m.get('subject') or '')}</b></p>"
            f"{body(m)}</li>"
            for m in self.emails(to)
        ) or "<li>No emails yet.</li>"
        self.send_page("Local mail inbox", f"<p>Every email the local Cognito and SES sent (codes, invitations, notices), as the person gets it.</p><ul id='emails'>{rows}</ul>")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--outbox", required=True)
    args = parser.parse_args()
    Handler.outbox = args.outbox
    serve(Handler, args.port)


if __name__ == "__main__":
    main()
