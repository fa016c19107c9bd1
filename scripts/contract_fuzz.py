#!/usr/bin/env python3
"""Schemathesis against the two OpenAPI contracts, on the local stack: `docs/scim-openapi.yaml`
with the demo organisation's SCIM token, and `docs/admin-openapi.yaml` with a console token for
the demo admin. Each run fails on a 5xx, a status the contract does not document, an answer that
breaks its schema, or a request the contract forbids that the service accepts. The cases are
generated from a fixed seed, deterministically, so `make test` tries the same ones on every
machine; change the seed by hand to explore further.

The console token is signed the way the bridge mints it for the `console` app (our ES256 key,
read from the local Secrets Manager; `amr` with `mfa`): the sign-in that earns it is the browser
tests' business, the contract is this script's. A fresh one is minted for every request (a local
minter this script serves, `contract_fuzz_auth.py`'s hook), as the fuzz may sign its own operator
out, which revokes the tokens issued before. `/Me` and `/Bulk` are left out: RFC 7644 answers
them with 501, which is a 5xx by definition.

Usage: scripts/contract_fuzz.py [--seconds N]   (starts and stops its own local stack; the
`schemathesis` command is $SCHEMATHESIS, or the one on PATH)
"""
import argparse
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import botocore.session
import jwt

ROOT = Path(__file__).resolve().parent.parent
CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance,negative_data_rejection"


def start_stack(work):
    info_file = Path(work, "info.json")
    stack = subprocess.Popen([sys.executable, "scripts/local_stack.py", "--auto-ports", "--no-build", "--info", str(info_file)],
                             cwd=ROOT, stdout=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 180
    while not info_file.exists():
        if stack.poll() is not None or time.time() > deadline:
            raise SystemExit("the local stack did not come up")
        time.sleep(0.5)
    return stack, json.loads(info_file.read_text())


def console_minter(info):
    """A function that mints a console token for admin@example.com, as the bridge mints it, each
    time it is called (issued that second)."""
    aws = dict(endpoint_url=info["moto"], region_name=info["region"], aws_access_key_id="local", aws_secret_access_key="local")
    session = botocore.session.get_session()
    table = session.create_client("dynamodb", **aws)
    key_set = json.loads(table.get_item(TableName=info["table_name"], Key={"pk": {"S": "KEYS"}, "sk": {"S": "KEYS"}})["Item"]["data"]["S"])
    key = next(k for k in key_set["keys"] if k["alg"] == "ES256")
    pem = session.create_client("secretsmanager", **aws).get_secret_value(SecretId=key["private_key"])["SecretString"]
    user = session.create_client("cognito-idp", **aws).admin_get_user(UserPoolId=info["user_pool_id"], Username="admin@example.com")
    sub = next(a["Value"] for a in user["UserAttributes"] if a["Name"] == "sub")

    def mint():
        now = int(time.time())
        claims = {"iss": info["api"], "aud": "bridge-console", "azp": "console", "sub": sub, "cognito:username": user["Username"],
                  "email": "admin@example.com", "iat": now, "exp": now + 3600, "jti": str(uuid.uuid4()), "amr": ["pwd", "mfa"]}
        return jwt.encode(claims, pem, algorithm="ES256", headers={"kid": key["kid"]})

    return mint


def serve_tokens(mint):
    """Serves `mint()` at a loopback URL (any path, GET); returns the URL."""

    class Minter(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = mint().encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Minter)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/token"


def fuzz(contract, url, headers, seconds, extra=(), env=None):
    command = [os.environ.get("SCHEMATHESIS") or shutil.which("schemathesis") or "schemathesis", "run", str(ROOT / contract), "--url", url, "--checks", CHECKS,
               "--max-time", str(seconds), "--max-examples", "40", "--seed", "20261201", "--generation-deterministic", "--workers", "1", *extra]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    print(f"== {contract} against {url}", flush=True)
    return subprocess.run(command, cwd=ROOT, env={**os.environ, **(env or {})}).returncode


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=60, help="time budget per contract")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="bridge-fuzz-")
    stack, info = start_stack(work)
    try:
        scim = fuzz("docs/scim-openapi.yaml", info["scim_url"], {"Authorization": f"Bearer {info['scim_token']}"}, args.seconds,
                    ["--exclude-path", "/Me", "--exclude-path", "/Bulk"])
        path = os.pathsep.join(filter(None, [str(ROOT / "scripts"), os.environ.get("PYTHONPATH")]))
        hooks = {"SCHEMATHESIS_HOOKS": "contract_fuzz_auth", "PYTHONPATH": path,
                 "BRIDGE_FUZZ_TOKEN_URL": serve_tokens(console_minter(info))}
        admin = fuzz("docs/admin-openapi.yaml", f"{info['api']}/admin/v1", {"Origin": info["form"]}, args.seconds, env=hooks)
    finally:
        os.killpg(stack.pid, signal.SIGTERM)
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if scim or admin else 0)


if __name__ == "__main__":
    main()
