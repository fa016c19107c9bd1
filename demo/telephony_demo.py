"""A stand-in for an operator's telephony service, for local runs and browser tests.

It implements the telephony hook contract (Okta's telephony inline hook, see shared
specs/telephony-hook.md) the way an operator's service would, without a real SMS provider:
- `POST /hook` checks the `X-Hook-Secret` header (constant-time), reads the request, "sends" the
  message (keeps it in memory) and answers `SUCCESSFUL` with a transaction id. A wrong secret is
  a 401, a request that is not the contract a 400, both with Okta's `error` shape. A phone
  number ending in 0000 answers `FAILED` (to watch the sender fall back).
- `GET /` is a phone's inbox: every message "sent", newest first (the page refreshes itself).
- `GET /messages` returns the same as JSON.

Usage: python3 demo/telephony_demo.py --port P (secret in env DEMO_HOOK_SECRET)
Prints `READY <url>` once listening.
"""

import argparse
import hmac
import html
import json
import os
import secrets
import threading
import time

from local_service import Handler as ServiceHandler, serve

MAX_BODY = 64 * 1024


class Inbox:
    def __init__(self, secret):
        self.secret = secret.encode()
        self.messages = []
        self.lock = threading.Lock()

    def add(self, message):
        with self.lock:
            self.messages.insert(0, message)

    def all(self):
        with self.lock:
            return list(self.messages)


def error(summary):
    return {"error": {"errorSummary": summary, "errorCauses": [{"errorSummary": summary}]}}


class Handler(ServiceHandler):
    inbox: Inbox

    def do_POST(self):
        if self.path != "/hook":
            return self.send_json(404, error("not found"))
        given = self.headers.get("X-Hook-Secret", "").encode()
        if not hmac.compare_digest(given, self.inbox.secret):
            return self.send_json(401, error("missing or wrong X-Hook-Secret"))
        length = int(self.headers.get("content-length") or 0)
        if length <= 0 or length > MAX_BODY:
            return self.send_json(400, error("a JSON body of at most 64 KiB is expected"))
        try:
            request = json.loads(self.rfile.read(length))
            profile = request["data"]["messageProfile"]
            phone, text = profile["phoneNumber"], profile.get("msgTemplate") or profile["otpCode"]
            assert request["eventType"] == "com.okta.telephony.provider"
        except (ValueError, KeyError, TypeError, AssertionError):
            return self.send_json(400, error("not a telephony hook request"))
        failed = str(phone).endswith("0000")
        transaction = f"demo-{secrets.token_hex(6)}"
        self.inbox.add({"at": time.strftime("%Y-%m-%d %H:%M:%S"), "to": phone, "type": request.get("requestType", ""), "text": text,
                        "status": "FAILED" if failed else "SUCCESSFUL", "transaction": transaction})
        result = {"status": "FAILED" if failed else "SUCCESSFUL", "provider": "demo-sms", "transactionId": transaction}
        self.send_json(200, {"commands": [{"type": "com.okta.telephony.action", "value": [result]}]})

    def do_GET(self):
        messages = self.inbox.all()
        if self.path == "/messages":
            return self.send_json(200, messages)
        if self.path != "/":
            return self.send_json(404, error("not found"))
        rows = "".join(
            f"<li class='message'><time>{html.escape(m['at'])}</time> to <b class='to'>{html.escape(str(m['to']))}</b>"
            f" <small>{html.escape(m['type'])} · {html.escape(m['status'])} · {html.escape(m['transaction'])}</small>"
            f"<p class='text'>{html.escape(str(m['text']))}</p></li>"
            for m in messages
        ) or "<li>No messages yet.</li>"
        self.send_page("Demo SMS inbox", f"<p>Messages the bridge's telephony hook sent through this demo provider.</p><ul id='messages'>{rows}</ul>")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    Handler.inbox = Inbox(os.environ["DEMO_HOOK_SECRET"])
    serve(Handler, args.port)


if __name__ == "__main__":
    main()
