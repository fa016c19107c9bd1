"""A stand-in for an operator's ServiceNow instance, for local runs and browser tests.

It answers the one call the shipped workflow templates make of ServiceNow's Table API, the way
an instance would (https://developer.servicenow.com, "Table API": POST /api/now/table/{table}):
- `POST /api/now/table/{table}` with HTTP Basic auth (the integration user and its password,
  compared in constant time) creates a record and answers 201 `{"result": {"sys_id", "number"}}`.
  Wrong credentials are a 401, a body that is not a JSON object a 400, both in ServiceNow's
  `{"error": {"message", "detail"}, "status": "failure"}` shape.
- `POST /demo/fail-next` (no auth; a demo control, not ServiceNow's) makes the next record
  creation fail with a 400 `Invalid table` (final, so the run fails at once and waits for a
  replay), to show failures and replays.
- `GET /` is the instance's incident list: every record created, newest first (the page
  refreshes itself). `GET /records` returns the same as JSON.

Usage: python3 demo/servicenow_demo.py --port P (password in env DEMO_SERVICENOW_PASSWORD; the
user is bridge.integration). Prints `READY <url>` once listening.
"""

import argparse
import base64
import hmac
import html
import json
import os
import re
import secrets
import threading
import time

from local_service import Handler as ServiceHandler, serve

MAX_BODY = 64 * 1024
USER = "bridge.integration"
TABLE_PATH = re.compile(r"^/api/now/table/([a-z_]{1,40})$")


class Instance:
    def __init__(self, password):
        self.credentials = base64.b64encode(f"{USER}:{password}".encode()).decode()
        self.records = []
        self.fail_next = 0
        self.lock = threading.Lock()

    def create(self, table, fields):
        with self.lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return None
            record = {"sys_id": secrets.token_hex(16), "number": f"INC{10001 + len(self.records):07d}", "table": table,
                      "at": time.strftime("%Y-%m-%d %H:%M:%S"), "fields": fields}
            self.records.insert(0, record)
            return record

    def all(self):
        with self.lock:
            return list(self.records)


def failure(message, detail=""):
    return {"error": {"message": message, "detail": detail}, "status": "failure"}


class Handler(ServiceHandler):
    instance: Instance

    def do_POST(self):
        if self.path == "/demo/fail-next":
            with self.instance.lock:
                self.instance.fail_next += 1
            return self.send_json(200, {"fail_next": self.instance.fail_next})
        match = TABLE_PATH.match(self.path)
        if not match:
            return self.send_json(404, failure("No such resource"))
        given = self.headers.get("Authorization", "").removeprefix("Basic ").encode()
        if not hmac.compare_digest(given, self.instance.credentials.encode()):
            return self.send_json(401, failure("User Not Authenticated", "Required to provide Auth information"))
        length = int(self.headers.get("content-length") or 0)
        try:
            fields = json.loads(self.rfile.read(length)) if 0 < length <= MAX_BODY else None
        except ValueError:
            fields = None
        if not isinstance(fields, dict):
            return self.send_json(400, failure("Invalid body", "a JSON object of at most 64 KiB is expected"))
        record = self.instance.create(match.group(1), fields)
        if record is None:
            return self.send_json(400, failure("Invalid table", f"the demo was told to fail this call ({match.group(1)})"))
        self.send_json(201, {"result": {"sys_id": record["sys_id"], "number": record["number"], **fields}})

    def do_GET(self):
        records = self.instance.all()
        if self.path == "/records":
            return self.send_json(200, records)
        if self.path != "/":
            return self.send_json(404, failure("No such resource"))
        rows = "".join(
            f"<li class='record'><b class='number'>{html.escape(r['number'])}</b> <time>{html.escape(r['at'])}</time>"
            f" <small>{html.escape(r['table'])}</small>"
            f"<p class='short-description'>{html.escape(str(r['fields'].get('short_description', '')))}</p>"
            f"<p><small>{html.escape(str(r['fields'].get('description', '')))}</small></p></li>"
            for r in records
        ) or "<li>No incidents yet.</li>"
        self.send_page("Demo ServiceNow: incidents", f"<p>Records the bridge's workflows created through the Table API.</p><ul id='records'>{rows}</ul>")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    Handler.instance = Instance(os.environ["DEMO_SERVICENOW_PASSWORD"])
    serve(Handler, args.port)


if __name__ == "__main__":
    main()
