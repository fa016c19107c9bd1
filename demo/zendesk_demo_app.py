"""A stand-in for a Zendesk account, for local runs and browser tests.

It behaves as Zendesk's JWT single sign-on does (see shared specs/zendesk-jwt.md):
- a visitor who is not signed in is sent to the bridge's remote login URL with `return_to`,
  `brand_id` and `timestamp`;
- `/access/jwt` (POST form or GET) verifies the JWT: HS256 only with the shared secret, `iat`
  within 3 minutes, a `jti` never seen before, `email` and `name` present;
- a refused JWT sends the browser to the bridge's logout URL with `kind=error&message=...`;
- the home page shows who signed in. `/api/me` returns the same as JSON.

Usage: python3 demo/zendesk_demo_app.py --port P --bridge-url URL --app-id ID (secret in env DEMO_APP_SECRET)
Prints `READY <url>` once listening.
"""

import argparse
import html
import json
import os
import secrets
import threading
import time
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

import jwt

MAX_IAT_SKEW = 180


class State:
    def __init__(self, secret, bridge_url, app_id, origin):
        self.secret = secret
        self.bridge_url = bridge_url.rstrip("/")
        self.app_id = app_id
        self.origin = origin
        self.seen_jti = set()
        self.sessions = {}
        self.lock = threading.Lock()

    def verify(self, token):
        """Returns (claims, None) or (None, reason), as Zendesk would judge the token."""
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") != "HS256":
                return None, "Unsupported JWT algorithm"
            claims = jwt.decode(token, self.secret, algorithms=["HS256"], options={"verify_exp": False, "require": ["iat", "jti"]})
        except jwt.InvalidTokenError as e:
            return None, f"Invalid JWT: {e}"
        if abs(time.time() - claims["iat"]) > MAX_IAT_SKEW:
            return None, "Invalid iat parameter"
        if not claims.get("email") or not claims.get("name"):
            return None, "JWT is missing email or name"
        with self.lock:
            if claims["jti"] in self.seen_jti:
                return None, "JWT token already used (jti)"
            self.seen_jti.add(claims["jti"])
        return claims, None


def make_handler(state):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def session(self):
            cookie = SimpleCookie(self.headers.get("Cookie", ""))
            sid = cookie["demo_session"].value if "demo_session" in cookie else None
            return sid, state.sessions.get(sid)

        def redirect(self, location, cookie=None):
            self.send_response(302)
            self.send_header("Location", location)
            if cookie:
                self.send_header("Set-Cookie", cookie)
            self.end_headers()

        def send(self, status, body, content_type="text/html; charset=utf-8"):
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def remote_login(self, return_to):
            query = urlencode({"return_to": return_to, "brand_id": "1", "locale_id": "1", "timestamp": int(time.time())})
            self.redirect(f"{state.bridge_url}/sso/{state.app_id}?{query}")

        def do_GET(self):
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path == "/access/jwt":
                return self.accept(query)
            if url.path == "/api/me":
                _, claims = self.session()
                return self.send(200 if claims else 401, json.dumps(claims or {}), "application/json")
            if url.path == "/logout":
                sid, claims = self.session()
                state.sessions.pop(sid, None)
                params = urlencode({"email": (claims or {}).get("email", ""), "brand_id": "1", "return_to": f"{state.origin}/"})
                return self.redirect(f"{state.bridge_url}/sso/{state.app_id}/logout?{params}", "demo_session=; Max-Age=0; Path=/")
            _, claims = self.session()
            if not claims:
                return self.remote_login(f"{state.origin}{self.path}")
            rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(json.dumps(v, ensure_ascii=False))}</td></tr>" for k, v in claims.items())
            self.send(200, f"""<!doctype html><html><head><meta charset="utf-8"><title>Demo Help Center</title>
<style>body{{font-family:system-ui,sans-serif;max-width:44rem;margin:3rem auto;padding:0 1rem}}th{{text-align:left;padding-right:1rem}}</style></head>
<body><h1 id="who">Signed in as {html.escape(claims['name'])}</h1><p id="email">{html.escape(claims['email'])}</p>
<p>This page stands in for a Zendesk help center. It accepted this JWT from the bridge:</p><table>{rows}</table>
<p><a href="/logout">Sign out</a></p></body></html>""")

        def do_POST(self):
            url = urlparse(self.path)
            if url.path != "/access/jwt":
                return self.send(404, "not found")
            length = int(self.headers.get("Content-Length", "0") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            self.accept(form)

        def accept(self, params):
            claims, reason = state.verify(params.get("jwt", ""))
            if reason:
                query = urlencode({"kind": "error", "message": reason})
                return self.redirect(f"{state.bridge_url}/sso/{state.app_id}/logout?{query}")
            sid = secrets.token_urlsafe(16)
            state.sessions[sid] = claims
            return_to = params.get("return_to") or "/"
            if not return_to.startswith(state.origin + "/"):
                return_to = "/"
            self.redirect(return_to, f"demo_session={sid}; HttpOnly; Path=/; SameSite=Lax")

    return Handler


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--bridge-url", required=True)
    parser.add_argument("--app-id", required=True)
    args = parser.parse_args()
    secret = os.environ["DEMO_APP_SECRET"]
    server = ThreadingHTTPServer(("127.0.0.1", args.port), None)
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    server.RequestHandlerClass = make_handler(State(secret, args.bridge_url, args.app_id, origin))
    print(f"READY {origin}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
