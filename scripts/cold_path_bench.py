"""The login function's cold path, measured the way Lambda runs it, beside the reference design.

Each subject is a real process that talks to a fake Lambda Runtime API on loopback and is fed
real API Gateway HTTP API (payload 2.0) events. Its AWS calls go to moto through a loopback
proxy that charges each request a round-trip time by operation, and each new connection a
set-up time (the models are below). The proxy listens on one port per service (Cognito, DynamoDB,
Secrets Manager, KMS), as each is its own host in a region: a connection opened to one is never
reused for another. The pool's JWKS is on Cognito's port, as AWS serves it from Cognito's host.
Per scenario the benchmark prints:

- start to ready: process start until it asks for its first event (init done);
- first response: process start until its first answer (the person's wait on a cold start);
- warm median and p99 of the next invocations, each timed from event delivery to answer;
- peak RSS (VmHWM) at the end;
- the serial AWS round trips on the critical path of the first and of a warm invocation, from
  the proxy's own log: back from the last request to end, each step the request that ended last
  before the next began (what the answer waited for), and what ran during init; then each
  call of the first and the last warm invocation with its start and duration.

The company's provider (corporate callback) is the demo one, slowed by the model's `idp`; its
requests show in the critical paths as `idp:` steps.

Scenarios: `POST /login` (password, no MFA), `GET /sso/{app}` with a live session and without
one, and the corporate callback; the reference (`../shared/peer-node`: Node.js, InitiateAuth +
GetUser + jsonwebtoken) runs `POST /login` in the same run. It also times `InitiateAuth` (the
reference's call), `AdminInitiateAuth` (the bridge's, through its sign-in client) and one
DynamoDB `PutItem` alone through the same proxy (boto3, warm connection): the floor of a
password sign-in; and a `TransactWriteItems` of the session write's shape (the session, two
condition checks, the last sign-in and an event), so that the bridge's own time shows apart
from what its atomic write costs over a lone `PutItem`. From those, the bridge secret's
`GetSecretValue` and the model's connection set-up it prints two cold floors of `POST /login`
(`cold_floors`): with the secret read before `InitiateAuth` (the bridge before its sign-in
client), and with nothing read before `AdminInitiateAuth` (the bridge now).

This is a benchmark, not a test: it asserts nothing about time.

Usage: python3 scripts/cold_path_bench.py [--model region|loopback] [--rounds 3] [--warm 20]
         [--binary target/release/login] [--reference DIR] [--only SCENARIO ...]
(`BENCH_LOG_LEVEL=DEBUG` sets the login function's log level; its log is shown if it hangs.)
Needs target/debug/bridge-admin and dev-server (the local stack), a release login binary, and
Node.js with npm for the reference (installed into a temporary copy of its folder).
"""

import argparse
import asyncio
import base64
import functools
import hashlib
import hmac
import http.cookiejar
import itertools
import json
import os
import queue
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Milliseconds. `region` resembles a Lambda function calling Cognito, DynamoDB and Secrets
# Manager in its own region over TLS: a new connection costs a TCP and a TLS 1.3 handshake to a
# regional endpoint (~15 ms with certificate checks); DynamoDB answers a key read in single-digit
# milliseconds and a transaction in about twice that; Cognito's InitiateAuth verifies a password
# hash (~80 ms; the admin flow's `AdminInitiateAuth`, the bridge's, alike) where its other calls are ~30 ms; Secrets Manager and the pool's JWKS (a static
# document on Cognito's host) ~20 ms. These are the figures of the issue's own model, so the
# ratios compare with it directly. In the critical paths printed, `*` marks a request that opened
# a new connection (and paid its set-up), `+` one that waited for a busy connection instead (see
# `Proxy._set_up`).
MODELS = {
    "region": {
        "connect": 15,
        "ops": {"InitiateAuth": 80, "RespondToAuthChallenge": 80, "AdminInitiateAuth": 80, "AdminRespondToAuthChallenge": 80, "cognito": 30, "TransactWriteItems": 12, "dynamodb": 6,
                "secretsmanager": 20, "kms": 10, "jwks": 20, "other": 20},
        "idp": 50,
    },
    "loopback": {"connect": 0, "ops": {}, "idp": 0},
}
# `idp`: the company's provider (the demo one, on loopback) answers its back-channel requests
# (discovery, JWKS, the token request) this much later (`IDP_BACKCHANNEL_DELAY_MS`): a provider
# such as Entra ID or Okta is reached across the internet, and its token endpoint signs a token.
# Its requests are not the proxy's: the provider logs them, and the critical paths show them as
# `idp:<path>` steps, which the serial counts (AWS round trips) leave out.


def now_ms():
    return time.perf_counter() * 1000


# ---------------------------------------------------------------------------------------------
# The latency proxy


# The proxy's listeners: one per service a function calls, each with the SDKs' variable naming
# its endpoint. The pool's JWKS is on Cognito's (its requests are told apart by path).
ENDPOINTS = {
    "cognito": "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER",
    "dynamodb": "AWS_ENDPOINT_URL_DYNAMODB",
    "secretsmanager": "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    "kms": "AWS_ENDPOINT_URL_KMS",
}


class Proxy:
    """An HTTP/1.1 reverse proxy to `upstream`, on one port per endpoint (`ENDPOINTS`), that
    delays each request by its operation's round-trip time (and the first request of a
    connection by the connection's set-up time, see `_set_up`), and logs (start, end,
    connection, operation) for each request."""

    def __init__(self, upstream, model):
        self.upstream = upstream
        self.model = model
        self.log = []
        self.lock = threading.Lock()
        self.connections = itertools.count(1)
        self.ports = {}
        self.busy = {}
        self.generation = 0
        self.loop = asyncio.new_event_loop()
        started = threading.Event()
        threading.Thread(target=self._run, args=(started,), daemon=True).start()
        started.wait()

    def _run(self, started):
        asyncio.set_event_loop(self.loop)
        for name in ENDPOINTS:
            self.busy[name] = [0, asyncio.Condition(), float("-inf")]
            server = self.loop.run_until_complete(asyncio.start_server(functools.partial(self._serve, name), "127.0.0.1", 0))
            self.ports[name] = server.sockets[0].getsockname()[1]
        started.set()
        self.loop.run_forever()

    def url(self, endpoint):
        return f"http://127.0.0.1:{self.ports[endpoint]}"

    def environment(self):
        """The SDKs' endpoint variables: each service to its own listener, and any other to a
        closed loopback port (never to AWS)."""
        return {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", **{variable: self.url(name) for name, variable in ENDPOINTS.items()}}

    def take(self):
        with self.lock:
            entries, self.log = self.log, []
        return entries

    def delay(self, op):
        ops = self.model["ops"]
        if op in ops:
            return ops[op]
        family = op.split(".")[0] if "." in op else op
        return ops.get(family, ops.get("other", 0))

    def reset(self):
        """A new process: connections and requests still open from the last one (killed) no
        longer count as busy for the race below. Done on the proxy's own thread."""
        done = threading.Event()

        def forget():
            self.generation += 1
            for endpoint in self.busy.values():
                endpoint[0] = 0
                endpoint[2] = float("-inf")
            done.set()

        self.loop.call_soon_threadsafe(forget)
        done.wait()

    async def _set_up(self, name, others_busy, start):
        """Waits out the set-up time of a new connection to endpoint `name` before its first
        request; its mark: `*` if it paid it all. The SDK's HTTP client (hyper-util's) races a
        new connection against a busy one (or one being set up) coming back, and takes whichever
        is ready first. Over plain HTTP on loopback the new one is ready at once, so the race is
        played here: with `others_busy`, the request waits for the set-up time or until another
        request to the same endpoint ends, whichever comes first (`+`: it would have taken that
        connection). A request to the same endpoint that ended within the set-up time before this
        one arrived counts as busy too, and as already back (`+`, no wait): the client chose a
        new connection while that answer was still on its way to it, and the answered connection
        returns to its pool long before a new one could be set up. Not modelled: the connection
        that lost the race, idle 15 ms later."""
        connect = self.model["connect"]
        if connect and not others_busy and start - self.busy[name][2] < connect:
            return "+"
        if connect and others_busy:
            freed = self.busy[name][1]
            async with freed:
                try:
                    await asyncio.wait_for(freed.wait(), connect / 1000)
                    return "+"
                except asyncio.TimeoutError:
                    return "*"
        if connect:
            await asyncio.sleep(connect / 1000)
        return "*"

    async def _serve(self, name, reader, writer):
        conn = next(self.connections)
        generation = self.generation
        first = True
        try:
            while True:
                head = await read_head(reader)
                if not head:
                    break
                start = now_ms()
                body = await read_body(reader, head)
                op = operation(head)
                wait = self.delay(op)
                others_busy = self.busy[name][0]
                self.busy[name][0] += 1
                try:
                    if first:
                        op += await self._set_up(name, others_busy, start)
                    first = False
                    if wait:
                        await asyncio.sleep(wait / 1000)
                    status_head, answer = await self._forward(head, body)
                    # Logged before the answer leaves: the caller may answer its own event, and the
                    # bench take this log, before this task runs again after the write.
                    with self.lock:
                        self.log.append((start, now_ms(), conn, op))
                    writer.write(status_head + answer)
                    await writer.drain()
                finally:
                    if generation == self.generation:
                        self.busy[name][0] -= 1
                        self.busy[name][2] = now_ms()
                        async with self.busy[name][1]:
                            self.busy[name][1].notify(1)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def _forward(self, head, body):
        """One request on a fresh upstream connection (free on loopback); the answer framed
        with a Content-Length, keep-alive."""
        host, port = self.upstream
        up_reader, up_writer = await asyncio.open_connection(host, port)
        up_writer.write(head + body)
        await up_writer.drain()
        answer_head = await read_head(up_reader)
        answer = await read_body(up_reader, answer_head, response=True)
        up_writer.close()
        lines = answer_head.decode("latin-1").split("\r\n")
        kept = [l for l in lines[1:] if l and not re.match(r"(?i)(content-length|transfer-encoding|connection|keep-alive):", l)]
        status = lines[0].replace("HTTP/1.0", "HTTP/1.1")
        framed = "\r\n".join([status, *kept, f"Content-Length: {len(answer)}", "Connection: keep-alive", "", ""])
        return framed.encode("latin-1"), answer


async def read_head(reader):
    try:
        return await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as e:
        if e.partial:
            raise
        return b""


async def read_body(reader, head, response=False):
    text = head.decode("latin-1")
    length = re.search(r"(?im)^content-length:\s*(\d+)", text)
    if length:
        return await reader.readexactly(int(length.group(1)))
    if re.search(r"(?im)^transfer-encoding:\s*chunked", text):
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                return body
            body += chunk[:-2]
    if response and not re.match(r"HTTP/1\.\d (1\d\d|204|304)", text):
        return await reader.read()
    return b""


def operation(head):
    text = head.decode("latin-1")
    target = re.search(r"(?im)^x-amz-target:\s*(\S+)", text)
    if target:
        service, _, action = target.group(1).partition(".")
        family = {"AWSCognitoIdentityProviderService": "cognito", "DynamoDB_20120810": "dynamodb", "secretsmanager": "secretsmanager",
                  "TrentService": "kms"}.get(service, service)
        bare = ("InitiateAuth", "RespondToAuthChallenge", "AdminInitiateAuth", "AdminRespondToAuthChallenge", "TransactWriteItems")
        return f"{family}.{action}" if action not in bare else action
    path = text.split(" ", 2)[1] if " " in text else ""
    return "jwks" if path.endswith("/.well-known/jwks.json") else f"other {path}"


def short(op):
    """The operation's name; `*` or `+` marks the first request of a new connection (see `Proxy._set_up`)."""
    return op if op.startswith("idp:") else op.split(".", 1)[-1]


def idp_calls(issuer):
    """The company provider's back-channel requests since the last call, as the proxy's log
    entries (start, end, connection, operation) on this process's clock."""
    with urllib.request.urlopen(f"{issuer}/__backchannel/log") as answer:
        served = json.load(answer)
    offset = time.time() * 1000 - now_ms()
    return [(s["start"] - offset, s["end"] - offset, 0, "idp:" + s["path"].rsplit("/", 1)[-1]) for s in served]


def critical_path(entries, slack=5.0):
    """The chain of requests the answer waited for, back from the last to end: each step is the
    request that ended last before the next one started (of those that ended within `slack` ms of
    it, the one with the longest chain behind it: a task takes a moment to go on). Returns the
    number of its AWS steps (not the company provider's, `idp:`) and the chain, each step with
    what ran beside it (`A | B -> C`: B overlapped A)."""
    entries = sorted(entries)
    if not entries:
        return 0, ""
    depth, before = [], []
    for start, _, _, _ in entries:
        earlier = [j for j in range(len(depth)) if entries[j][1] <= start]
        latest = max((entries[j][1] for j in earlier), default=None)
        waited = [j for j in earlier if entries[j][1] >= latest - slack]
        j = max(waited, key=lambda j: (depth[j], entries[j][1]), default=None)
        before.append(j)
        depth.append(1 + (depth[j] if j is not None else 0))
    last_end = max(e[1] for e in entries)
    i = max((i for i in range(len(entries)) if entries[i][1] >= last_end - slack), key=lambda i: (depth[i], entries[i][1]))
    chain = []
    while i is not None:
        chain.append(i)
        i = before[i]
    chain.reverse()
    placed = set(chain)
    steps = []
    for i in chain:
        start, end = entries[i][0], entries[i][1]
        beside = [k for k in range(len(entries)) if k not in placed and entries[k][0] < end and entries[k][1] > start]
        placed.update(beside)
        steps.append(" | ".join(short(entries[k][3]) for k in [i, *beside]))
    return sum(1 for i in chain if not entries[i][3].startswith("idp:")), " -> ".join(steps)


# ---------------------------------------------------------------------------------------------
# The fake Lambda Runtime API


class Runtime:
    """One process's Runtime API: events wait in a queue; `next` hands them out."""

    def __init__(self):
        self.events = queue.Queue()
        self.answers = queue.Queue()
        self.ready_at = None
        self.delivered = {}

    def invoke(self, event, timeout=30):
        request_id = str(uuid.uuid4())
        self.events.put((request_id, event))
        got_id, answered_at, body = self.answers.get(timeout=timeout)
        assert got_id == request_id
        return self.delivered[request_id], answered_at, body


class RuntimeServer:
    """A fake Lambda Runtime API on loopback serving one process's `runtime`."""

    def __init__(self, runtime):

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # The head and the body go out in two writes: without this, the body waits for the
            # client's delayed ACK (40 ms), an artefact no real Runtime API has.
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def do_GET(self):
                if not self.path.endswith("/runtime/invocation/next"):
                    return self.reply(404, b"{}")
                if runtime.ready_at is None:
                    runtime.ready_at = now_ms()
                request_id, event = runtime.events.get()
                runtime.delivered[request_id] = now_ms()
                self.reply(200, json.dumps(event).encode(), {
                    "Lambda-Runtime-Aws-Request-Id": request_id, "Lambda-Runtime-Deadline-Ms": str(int(time.time() * 1000) + 30000),
                    "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:ap-northeast-1:123456789012:function:login",
                    "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000"})

            def do_POST(self):
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                parts = self.path.split("/")
                if "invocation" in parts:
                    request_id = parts[parts.index("invocation") + 1]
                    runtime.answers.put((request_id, now_ms(), body))
                self.reply(202, b"{}")

            def reply(self, status, body, headers=None):
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # a process killed while it waits for its next event

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def address(self):
        return f"127.0.0.1:{self.server.server_address[1]}"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


# ---------------------------------------------------------------------------------------------
# Events and the set-up of each scenario


def apigw(method, path, query="", headers=None, body=None, form=False):
    headers = {"host": "api.example.com", "user-agent": "bench", **(headers or {})}
    cookies = [c.strip() for c in headers.pop("cookie", "").split(";") if c.strip()]
    if body is not None:
        headers.setdefault("content-type", "application/x-www-form-urlencoded" if form else "application/json")
    event = {
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": query, "headers": headers,
        "requestContext": {"accountId": "123456789012", "apiId": "bench", "domainName": "api.example.com", "domainPrefix": "api",
                           "requestId": str(uuid.uuid4()), "routeKey": "$default", "stage": "$default", "time": "30/Nov/2026:00:00:00 +0000",
                           "timeEpoch": int(time.time() * 1000),
                           "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7", "userAgent": "bench"}},
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if body is not None:
        event["body"] = body
    return event


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def opener(jar=None):
    handlers = [NoRedirect()] + ([urllib.request.HTTPCookieProcessor(jar)] if jar is not None else [])
    return urllib.request.build_opener(*handlers)


def fetch(open_, url, data=None, headers=None, method=None):
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        response = open_.open(request, timeout=30)
    except urllib.error.HTTPError as e:
        response = e
    return response.status, response.headers, response.read().decode("utf-8", "replace")


class Stack:
    """The local stack (moto, resources, demo data, the dev server and the company's provider)
    and the browser steps that set each scenario up, taken through the dev server."""

    def __init__(self, workdir, idp_delay):
        info_file = Path(workdir, "stack.json")
        self.log = open(Path(workdir, "stack.log"), "w")
        self.proc = subprocess.Popen([sys.executable, "scripts/local_stack.py", "--auto-ports", "--no-build", "--info", str(info_file)],
                                     cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
                                     env={**os.environ, "IDP_BACKCHANNEL_DELAY_MS": str(idp_delay)})
        for _ in range(600):
            if info_file.exists() and info_file.stat().st_size:
                time.sleep(0.5)
                break
            if self.proc.poll() is not None:
                raise SystemExit(f"the local stack stopped; see {self.log.name}")
            time.sleep(0.2)
        else:
            raise SystemExit("the local stack did not come up in 120 s")
        self.info = json.loads(info_file.read_text())
        self.api = self.info["api"]
        self.app_id = self.info["app_id"]
        self.return_to = self.info["demo_app"] + "/"
        self.user = self.info["users"]["hanako"]
        form = urllib.parse.urlparse(self.info["form"])
        self.form_origin = f"{form.scheme}://{form.netloc}"

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)

    def ctx(self):
        """A sealed context for the demo app, made for the browser with this stack's device
        cookie (the first call gets one)."""
        query = urllib.parse.urlencode({"return_to": self.return_to})
        headers = {"cookie": self.device} if getattr(self, "device", None) else {}
        status, headers, body = fetch(opener(), f"{self.api}/sso/{self.app_id}?{query}", headers=headers)
        for cookie in headers.get_all("set-cookie") or []:
            if cookie.startswith("__Host-bridge_device="):
                self.device = cookie.split(";", 1)[0]
        location = headers.get("location") or ""
        ctx = urllib.parse.parse_qs(urllib.parse.urlparse(location).query).get("ctx")
        if status != 302 or not ctx:
            raise SystemExit(f"/sso gave {status} {location} {body[:200]}")
        return ctx[0]

    def login_body(self, ctx):
        return json.dumps({"ctx": ctx, "email": self.user["email"], "password": self.user["password"]})

    def session_cookie(self):
        ctx = self.ctx()
        status, _, body = fetch(opener(), f"{self.api}/login", self.login_body(ctx).encode(),
                                {"content-type": "application/json", "origin": self.form_origin})
        handoff = json.loads(body).get("handoff") if status == 200 else None
        if not handoff:
            raise SystemExit(f"/login gave {status} {body[:200]}")
        status, headers, body = fetch(opener(), f"{self.api}/session/handoff", urllib.parse.urlencode({"handoff": handoff}).encode(),
                                      {"content-type": "application/x-www-form-urlencoded", "origin": self.form_origin, "cookie": self.device})
        for cookie in headers.get_all("set-cookie") or []:
            if cookie.startswith("__Host-bridge_session="):
                return cookie.split(";", 1)[0]
        raise SystemExit(f"no session cookie from the handoff ({status} {body[:200]})")

    def corporate_callback(self):
        """A corporate sign-in taken to the provider's redirect back: the callback's query and
        the binding cookie."""
        employee = self.info["employee"]
        status, _, body = fetch(opener(), f"{self.api}/corporate/start", json.dumps({"ctx": self.ctx(), "email": employee["email"]}).encode(),
                                {"content-type": "application/json", "origin": self.form_origin})
        if status != 200:
            raise SystemExit(f"/corporate/start gave {status} {body[:200]}")
        # The browser whose form asked goes on to the provider (its device cookie).
        status, headers, _ = fetch(opener(), json.loads(body)["url"], headers={"cookie": self.device})
        binding = next(c.split(";", 1)[0] for c in headers.get_all("set-cookie") if c.startswith("__Host-bridge_corporate="))
        browser = opener(http.cookiejar.CookieJar())
        url = headers["location"]
        for _ in range(12):
            if url.startswith(self.api):
                return urllib.parse.urlparse(url).query, binding
            status, headers, page = fetch(browser, url)
            if headers.get("location"):
                url = urllib.parse.urljoin(url, headers["location"])
                continue
            action = re.search(r'<form method="post" action="([^"]+)"', page)
            if not action:
                raise SystemExit(f"unexpected provider page at {url}: {page[:300]}")
            form = urllib.parse.urlencode({"login": employee["email"], "password": employee["password"]}).encode()
            status, headers, page = fetch(browser, urllib.parse.urljoin(url, action.group(1)), form, {"content-type": "application/x-www-form-urlencoded"})
            url = urllib.parse.urljoin(url, headers["location"])
        raise SystemExit("the provider never sent the browser back")


def scenarios(stack):
    """name -> a function giving the next invocation's event (fresh state where it must be)."""
    form_headers = {"origin": stack.form_origin}
    sso_query = urllib.parse.urlencode({"return_to": stack.return_to})
    ctx = stack.ctx()
    cookie = stack.session_cookie()
    # The employee signs in once through the dev server: every callback measured is a returning
    # person's (linked to their account), as most are.
    query, binding = stack.corporate_callback()
    status, _, body = fetch(opener(), f"{stack.api}/corporate/callback?{query}", headers={"cookie": f"{binding}; {stack.device}"})
    if status not in (302, 303, 200):
        raise SystemExit(f"the employee's first corporate sign-in gave {status} {body[:200]}")

    def corporate():
        query, binding = stack.corporate_callback()
        return apigw("GET", "/corporate/callback", query, {"cookie": f"{binding}; {stack.device}"})

    return {
        "POST /login": lambda: apigw("POST", "/login", "", form_headers, stack.login_body(ctx)),
        "GET /sso/{app}, live session": lambda: apigw("GET", f"/sso/{stack.app_id}", sso_query, {"cookie": f"{cookie}; {stack.device}"}),
        "GET /sso/{app}, no session": lambda: apigw("GET", f"/sso/{stack.app_id}", sso_query),
        "corporate callback": corporate,
    }


# ---------------------------------------------------------------------------------------------
# Running a subject


def run_process(command, env, events, proxy, cwd=None, issuer=None):
    """Starts `command` cold, feeds it `events` one by one; returns the figures of that run.
    Each process has a Runtime API of its own: a killed process's last `next`, sent before it
    died, must not take the next process's first event."""
    runtime = Runtime()
    runtime_server = RuntimeServer(runtime)
    proxy.take()
    proxy.reset()
    if issuer:
        idp_calls(issuer)
    started = now_ms()
    # Its log goes to a file: a pipe nobody reads while it runs could fill and stop it.
    log = tempfile.TemporaryFile("w+")
    proc = subprocess.Popen(command, env={**env, "AWS_LAMBDA_RUNTIME_API": runtime_server.address}, cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=log, text=True)
    results = []
    try:
        for event in events:
            try:
                delivered, answered, body = runtime.invoke(event)
            except queue.Empty:
                break
            # Not a call a killed process left in flight before this one started.
            calls = [c for c in proxy.take() + (idp_calls(issuer) if issuer else []) if c[0] >= started]
            answer = json.loads(body or b"{}")
            status = answer.get("statusCode")
            results.append({"delivered": delivered, "answered": answered, "status": status, "calls": calls, "answer": answer})
        rss = peak_rss(proc.pid)
    finally:
        proc.kill()
        proc.wait()
        runtime_server.stop()
        log.seek(0)
        errors = log.read()
        log.close()
    if len(results) < len(events):
        raise SystemExit(f"{command[0]} gave no answer in 30 s (ready: {runtime.ready_at is not None}, events delivered: "
                         f"{len(runtime.delivered)}, calls: {proxy.take()}): {errors[-3000:]}")
    if runtime.ready_at is None:
        raise SystemExit(f"{command[0]} never asked for an event: {errors[-2000:]}")
    first = results[0]
    init_calls = [c for c in first["calls"] if c[0] < first["delivered"]]
    # What the first invocation waited for includes loads init started and left running.
    first_calls = [c for c in first["calls"] if c[1] > first["delivered"]]
    warm = results[1:]
    return {
        "ready": runtime.ready_at - started,
        "first": first["answered"] - started,
        "warm": [r["answered"] - r["delivered"] for r in warm],
        "rss": rss,
        "init": critical_path(init_calls),
        "cold_path": critical_path(first_calls),
        "warm_path": critical_path(warm[-1]["calls"]) if warm else (0, ""),
        "first_calls": timeline(first_calls, first["delivered"]),
        "warm_calls": timeline(warm[-1]["calls"], warm[-1]["delivered"]) if warm else "",
        "warm_self": (warm[-1]["answered"] - warm[-1]["delivered"]) if warm else 0,
        "statuses": sorted({r["status"] for r in results}, key=str),
        "first_answer": first["answer"],
    }


def timeline(calls, delivered):
    """Each call as `operation start+duration` (ms from the event's delivery), in start order."""
    return ", ".join(f"{short(op)} {start - delivered:.0f}+{end - start:.0f}" for start, end, _, op in sorted(calls))


def peak_rss(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def reference_dir(source, workdir):
    """A copy of the reference with its npm dependencies installed."""
    target = Path(workdir, "peer-node")
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("node_modules"))
    subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund"], cwd=target, check=True)
    return target


def public_client(stack):
    """An app client of the stack's pool without a secret, as the reference design has (it sends
    no `SECRET_HASH`, which Cognito and the moto launcher require of the bridge's client): the
    reference's, and the floor's `InitiateAuth`."""
    import boto3
    cognito = boto3.client("cognito-idp", endpoint_url=stack.info["moto"], region_name=stack.info["region"],
                           aws_access_key_id="local", aws_secret_access_key="local")
    made = cognito.create_user_pool_client(UserPoolId=stack.info["user_pool_id"], ClientName="reference", GenerateSecret=False,
                                           ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])
    return made["UserPoolClient"]["ClientId"]


def floor(stack, proxy, client_id):
    """InitiateAuth (through `client_id`), the bridge's AdminInitiateAuth (through its sign-in
    client), one DynamoDB PutItem, a TransactWriteItems of the
    session write's shape and the bridge secret's GetSecretValue, each timed alone through the
    proxy (median of 20, warm connection)."""
    import boto3
    import botocore.config
    config = botocore.config.Config(retries={"max_attempts": 1})
    session = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name=stack.info["region"])
    cognito = session.client("cognito-idp", endpoint_url=proxy.url("cognito"), config=config)
    dynamo = session.client("dynamodb", endpoint_url=proxy.url("dynamodb"), config=config)
    table = stack.info["table_name"]

    def sign_in():
        cognito.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                              AuthParameters={"USERNAME": stack.user["email"], "PASSWORD": stack.user["password"]})

    def admin_sign_in():
        client = stack.info["sign_in_client_id"]
        digest = hmac.new(stack.info["sign_in_client_secret"].encode(), (stack.user["email"] + client).encode(), hashlib.sha256).digest()
        cognito.admin_initiate_auth(UserPoolId=stack.info["user_pool_id"], ClientId=client, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                    AuthParameters={"USERNAME": stack.user["email"], "PASSWORD": stack.user["password"],
                                                    "SECRET_HASH": base64.b64encode(digest).decode()})

    def put():
        dynamo.put_item(TableName=table, Item={"pk": {"S": "BENCH#floor"}, "sk": {"S": "x"}})

    written = iter(range(1_000_000))

    def transact():
        # As `SessionStore::create`: the session (with its ~1 KB profile) where none is, the
        # revocation's and the hold's checks, the last sign-in and the sign-in's event.
        n = next(written)
        put = lambda pk, extra=None, condition=None: {"Put": {"TableName": table, "Item": {"pk": {"S": pk}, "sk": {"S": "x"}, **(extra or {})},
                                                               **({"ConditionExpression": condition} if condition else {})}}
        check = lambda pk: {"ConditionCheck": {"TableName": table, "Key": {"pk": {"S": pk}, "sk": {"S": "x"}}, "ConditionExpression": "attribute_not_exists(pk)"}}
        dynamo.transact_write_items(TransactItems=[
            put(f"BENCH#session#{n}", {"data": {"S": "p" * 1024}}, "attribute_not_exists(pk)"), check("BENCH#revoked"), check("BENCH#held"),
            put("BENCH#last", {"at": {"N": str(n)}}), put(f"BENCH#event#{n}", {"data": {"S": "e" * 512}})])

    figures = {}
    secrets = session.client("secretsmanager", endpoint_url=proxy.url("secretsmanager"), config=config)

    def secret():
        secrets.get_secret_value(SecretId=stack.info["bridge_secret_id"])

    for name, call in (("InitiateAuth", sign_in), ("AdminInitiateAuth", admin_sign_in), ("PutItem", put), ("TransactWriteItems", transact), ("GetSecretValue", secret)):
        call()
        times = []
        for _ in range(20):
            t = now_ms()
            call()
            times.append(now_ms() - t)
        figures[name] = statistics.median(times)
    return figures


def cold_floors(figures, connect, ready, reference_first):
    """The least a cold `POST /login` can take in this model, from the calls timed alone (through
    boto3, which adds its own time to each), a new connection's set-up (`connect`) and the
    bridge's start to ready (init begins its loads and connections before it is ready, so each
    counts from the process's start):
    - as the bridge was until its sign-in client: the bridge secret (`SECRET_HASH` and the
      context's key) read on a new connection before `InitiateAuth` (Cognito's connection opened
      meanwhile), then the session's write;
    - as the bridge is, with nothing read before the password check (the sign-in client has no
      secret, the context is opened beside the call): `AdminInitiateAuth` as soon as the process
      is ready and Cognito's connection is, then the write.
    Each with the reference's cold first response over it: the best ratio either can show in
    this run."""
    write = figures["TransactWriteItems"]
    with_secret = max(ready, connect + figures["GetSecretValue"]) + figures["InitiateAuth"] + write
    without = max(ready, connect) + figures["AdminInitiateAuth"] + write
    for name, floor_ms in (("with the bridge secret read before InitiateAuth", with_secret), ("with nothing read before AdminInitiateAuth", without)):
        print(f"cold floor {name}: {floor_ms:.1f} ms; the reference's cold over it: {reference_first / floor_ms:.2f}x")


def summarise(name, runs):
    med = lambda xs: statistics.median(xs)
    warm = sorted(x for r in runs for x in r["warm"])
    p99 = warm[min(len(warm) - 1, int(len(warm) * 0.99))] if warm else float("nan")
    ready = [r["ready"] for r in runs]
    first = [r["first"] for r in runs]
    print(f"\n{name}")
    print(f"  start to ready   {med(ready):7.1f} ms   ({min(ready):.1f}-{max(ready):.1f})")
    print(f"  first response   {med(first):7.1f} ms   ({min(first):.1f}-{max(first):.1f})")
    if warm:
        print(f"  warm median      {med(warm):7.1f} ms   p99 {p99:.1f} ms ({len(warm)} invocations)")
    print(f"  peak RSS         {max(r['rss'] for r in runs):7.1f} MB")
    last = runs[-1]
    print(f"  init's calls     {last['init'][0]} serial: {last['init'][1] or '-'}   (started before the first event)")
    print(f"  cold critical    {last['cold_path'][0]} serial: {last['cold_path'][1] or '-'}")
    print(f"  warm critical    {last['warm_path'][0]} serial: {last['warm_path'][1] or '-'}")
    print(f"  first calls      {last['first_calls'] or '-'}   (ms from delivery: start+duration, as the proxy saw them)")
    if last["warm_calls"]:
        print(f"  last warm        {last['warm_self']:.1f} ms; its calls: {last['warm_calls']}")
    print(f"  answers          {last['statuses']}")
    return {"ready": med(ready), "first": med(first), "warm": med(warm) if warm else None, "p99": p99}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", choices=MODELS, default="region")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warm", type=int, default=20)
    parser.add_argument("--binary", default=str(ROOT / "target/release/login"))
    parser.add_argument("--reference", default=str(ROOT.parent / "shared/peer-node"))
    parser.add_argument("--only", nargs="*")
    args = parser.parse_args()
    model = MODELS[args.model]
    workdir = tempfile.mkdtemp(prefix="cold-bench-")
    stack = Stack(workdir, model["idp"])
    try:
        moto = urllib.parse.urlparse(stack.info["moto"])
        proxy = Proxy((moto.hostname, moto.port), model)
        pool = stack.info["user_pool_id"]
        aws_env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), **proxy.environment(),
                   "AWS_REGION": stack.info["region"], "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
        login_env = {
            **aws_env, "AWS_LAMBDA_FUNCTION_NAME": "login", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
            "AWS_LAMBDA_LOG_GROUP_NAME": "g", "AWS_LAMBDA_LOG_STREAM_NAME": "s", "AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARN"),
            "TABLE_NAME": stack.info["table_name"], "USER_POOL_ID": pool, "USER_POOL_CLIENT_ID": stack.info["user_pool_client_id"],
            "SIGN_IN_CLIENT_ID": stack.info["sign_in_client_id"], "SIGN_IN_CLIENT_SECRET": stack.info["sign_in_client_secret"],
            "BRIDGE_SECRET_ID": stack.info["bridge_secret_id"], "FORM_URL": stack.form_origin + "/index.html",
            "PUBLIC_API_URL": stack.api, "COGNITO_JWKS_URL": f"{proxy.url('cognito')}/{pool}/.well-known/jwks.json",
        }
        print(f"model: {args.model} {json.dumps(model)}; {args.rounds} rounds of 1 cold + {args.warm} warm invocations")
        summary = {}
        reference_client = public_client(stack)
        floor_figures = floor(stack, proxy, reference_client)
        print("alone through the proxy: " + ", ".join(f"{k} {v:.1f} ms" for k, v in floor_figures.items()))
        for name, make_event in scenarios(stack).items():
            if args.only and not any(o in name for o in args.only):
                continue
            runs = []
            for _ in range(args.rounds):
                events = [make_event() for _ in range(1 + args.warm)]
                runs.append(run_process([args.binary], login_env, events, proxy, issuer=stack.info["company_idp"]))
            summary[f"login {name}"] = summarise(f"login: {name}", runs)
        if Path(args.reference).is_dir() and (not args.only or any("login" in o for o in args.only)):
            ref = reference_dir(args.reference, workdir)
            ref_env = {**aws_env, "CLIENT_ID": reference_client}
            body = json.dumps({"email": stack.user["email"], "password": stack.user["password"]})
            runs = []
            for _ in range(args.rounds):
                events = [apigw("POST", "/login", "", {}, body) for _ in range(1 + args.warm)]
                runs.append(run_process(["node", "bootstrap.mjs"], ref_env, events, proxy, cwd=ref))
            summary["reference POST /login"] = summarise("reference (Node.js): POST /login", runs)
        login, ref = summary.get("login POST /login"), summary.get("reference POST /login")
        if login and ref:
            print(f"\nPOST /login: first response {ref['first'] / login['first']:.1f}x faster than the reference's; "
                  f"warm {ref['warm'] / login['warm']:.1f}x; the bridge's cold first response is {login['first'] / login['warm']:.1f}x its warm median")
            for call in ("InitiateAuth", "AdminInitiateAuth"):
                base = floor_figures[call]
                print(f"warm median minus ({call} + PutItem alone): {login['warm'] - base - floor_figures['PutItem']:.1f} ms")
                print(f"warm median minus ({call} + the session's TransactWriteItems alone): {login['warm'] - base - floor_figures['TransactWriteItems']:.1f} ms")
            cold_floors(floor_figures, model.get("connect", 0), login["ready"], ref["first"])
    finally:
        stack.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
