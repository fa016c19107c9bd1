"""Stand-ins for three token apps, for local runs and browser tests, on one origin:

- /community/  a Gainsight community (inSided token SSO). A visitor who is not signed in is sent
  to the bridge; the token comes back to /auth/token/return?token=...&customer=... (the SSO
  host's path), verified as ES256 with the bridge's published JWKS (`kid`), `iss` and `exp`.
- /forum/      a Discourse forum (DiscourseConnect). It sends `sso`/`sig` with a fresh nonce and
  /session/sso_login as its return URL; the answer's `sig` is checked in constant time, the
  nonce must be the one it issued, unused, and under 10 minutes old.
- /tool/       any JWT app: the token arrives at /tool/sso?token=... (RS256 from the JWKS, `aud`
  checked) with the page to go back to in `next`.
- /wiki/       a SAML 2.0 service provider (pysaml2, signatures checked by xmlsec1), configured
  from the bridge's metadata for the app: it sends an AuthnRequest (HTTP-Redirect) with the page
  as its RelayState; the response posted to /wiki/acs must answer a request it sent and not yet
  answered.

Each page shows who signed in and the claims it accepted. Refusals are shown as a 401 page.

Usage: python3 demo/token_apps_demo.py --port P --bridge-url URL (DEMO_FORUM_SECRET in env)
Prints `READY <origin>` once listening.
"""

import argparse
import base64
import hashlib
import hmac
import html
import json
import os
import secrets
import threading
import time
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, parse_qsl, urlencode, urlparse

import jwt

NONCE_TTL = 600
APPS = {
    "community": {"app_id": "demo-community", "title": "Demo Community"},
    "forum": {"app_id": "demo-forum", "title": "Demo Forum"},
    "tool": {"app_id": "demo-tool", "title": "Demo Tool"},
    "wiki": {"app_id": "demo-wiki", "title": "Demo Wiki"},
}


class State:
    def __init__(self, bridge_url, forum_secret, origin, community_id):
        self.bridge_url = bridge_url.rstrip("/")
        self.forum_secret = forum_secret
        self.origin = origin
        self.community_id = community_id
        self.jwks = jwt.PyJWKClient(f"{self.bridge_url}/.well-known/jwks.json", cache_keys=True, lifespan=300)
        self.nonces = {}
        self.sessions = {}
        self.lock = threading.Lock()
        self.wiki = Wiki(self.bridge_url, origin)

    def verify_jwt(self, token, algorithms, audience=None):
        key = self.jwks.get_signing_key_from_jwt(token).key
        options = {"require": ["exp", "iat", "sub"], "verify_aud": audience is not None}
        return jwt.decode(token, key, algorithms=algorithms, audience=audience, issuer=self.bridge_url, options=options)

    def forum_request(self, return_path):
        nonce = secrets.token_hex(16)
        with self.lock:
            self.nonces[nonce] = (time.time(), return_path)
        payload = urlencode({"nonce": nonce, "return_sso_url": f"{self.origin}/session/sso_login"})
        sso = base64.b64encode(payload.encode()).decode()
        sig = hmac.new(self.forum_secret.encode(), sso.encode(), hashlib.sha256).hexdigest()
        return sso, sig

    def verify_forum_answer(self, sso, sig):
        expected = hmac.new(self.forum_secret.encode(), sso.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, sig):
            raise ValueError("sig does not match")
        fields = dict(parse_qsl(base64.b64decode(sso).decode(), keep_blank_values=True))
        with self.lock:
            issued = self.nonces.pop(fields.get("nonce", ""), None)
        if issued is None:
            raise ValueError("unknown or already used nonce")
        if time.time() - issued[0] > NONCE_TTL:
            raise ValueError("expired nonce")
        for required in ("email", "external_id"):
            if not fields.get(required):
                raise ValueError(f"missing {required}")
        return fields, issued[1]


class Wiki:
    """The SAML service provider: pysaml2, configured from the bridge's metadata when first used."""

    def __init__(self, bridge_url, origin):
        self.metadata_url = f"{bridge_url}/sso/{APPS['wiki']['app_id']}/metadata"
        self.entity_id, self.acs = f"{origin}/wiki/metadata", f"{origin}/wiki/acs"
        self.outstanding = {}
        self.lock = threading.Lock()

    def client(self):
        from urllib.request import urlopen

        from saml2 import BINDING_HTTP_POST
        from saml2.client import Saml2Client
        from saml2.config import SPConfig
        from saml2.sigver import get_xmlsec_binary
        with urlopen(self.metadata_url, timeout=5) as answer:
            metadata = answer.read().decode()
        config = SPConfig()
        config.load({"entityid": self.entity_id, "metadata": {"inline": [metadata]},
                     "xmlsec_binary": get_xmlsec_binary(["/usr/bin", "/usr/local/bin"]), "allow_unknown_attributes": True,
                     "service": {"sp": {"endpoints": {"assertion_consumer_service": [(self.acs, BINDING_HTTP_POST)]},
                                        "want_response_signed": True, "want_assertions_signed": True}}})
        return Saml2Client(config)

    def request(self, path):
        from saml2 import BINDING_HTTP_REDIRECT
        sp = self.client()
        request_id, info = sp.prepare_for_authenticate(relay_state=path, binding=BINDING_HTTP_REDIRECT)
        with self.lock:
            self.outstanding[request_id] = path
        return dict(info["headers"])["Location"]

    def answer(self, saml_response, relay_state):
        from saml2 import BINDING_HTTP_POST
        with self.lock:
            outstanding = dict(self.outstanding)
        parsed = self.client().parse_authn_request_response(saml_response, BINDING_HTTP_POST, outstanding=outstanding)
        if parsed is None:
            raise ValueError("the response was not accepted")
        with self.lock:
            if self.outstanding.pop(parsed.in_response_to, None) is None:
                raise ValueError("no request of ours is waiting for this response")
        claims = {"name_id": parsed.name_id.text, **{k: v[0] if len(v) == 1 else v for k, v in parsed.ava.items()}}
        return claims, relay_state if relay_state.startswith("/wiki/") else "/wiki/"


def make_handler(state):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def send(self, status, body, content_type="text/html; charset=utf-8", cookie=None):
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            if cookie:
                self.send_header("Set-Cookie", cookie)
            self.end_headers()
            self.wfile.write(data)

        def redirect(self, location, cookie=None):
            self.send_response(302)
            self.send_header("Location", location)
            if cookie:
                self.send_header("Set-Cookie", cookie)
            self.end_headers()

        def session(self, app):
            cookie = SimpleCookie(self.headers.get("Cookie", ""))
            name = f"{app}_session"
            return state.sessions.get(cookie[name].value) if name in cookie else None

        def sign_in(self, app, claims, back):
            sid = secrets.token_urlsafe(16)
            state.sessions[sid] = claims
            if not back.startswith("/"):
                back = f"/{app}/"
            self.redirect(back, f"{app}_session={sid}; HttpOnly; Path=/; SameSite=Lax")

        def refuse(self, reason):
            self.send(401, f"<!doctype html><title>Refused</title><h1 id='refused'>Sign-in refused</h1><p>{html.escape(reason)}</p>")

        def do_POST(self):
            if urlparse(self.path).path != "/wiki/acs":
                return self.send(404, "not found")
            form = dict(parse_qsl(self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()))
            try:
                claims, back = state.wiki.answer(form.get("SAMLResponse", ""), form.get("RelayState", ""))
            except Exception as e:  # noqa: BLE001 - pysaml2 raises many kinds; each is a refusal
                return self.refuse(f"{type(e).__name__}: {e}")
            return self.sign_in("wiki", claims, back)

        def do_GET(self):
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            try:
                if url.path == "/auth/token/return":
                    if query.get("customer") != state.community_id:
                        return self.refuse("unknown community")
                    return self.sign_in("community", state.verify_jwt(query.get("token", ""), ["ES256", "RS256"], audience=state.community_id), "/community/")
                if url.path == "/session/sso_login":
                    fields, back = state.verify_forum_answer(query.get("sso", ""), query.get("sig", ""))
                    return self.sign_in("forum", fields, back)
                if url.path == "/tool/sso":
                    claims = state.verify_jwt(query.get("token", ""), ["RS256"], audience="demo-tool")
                    return self.sign_in("tool", claims, query.get("next", "/tool/").removeprefix(state.origin))
            except (jwt.InvalidTokenError, jwt.PyJWKClientError, ValueError) as e:
                return self.refuse(str(e))
            app = url.path.strip("/").split("/")[0]
            if app not in APPS:
                return self.send(200, "".join(f"<p><a href='/{a}/'>{c['title']}</a></p>" for a, c in APPS.items()))
            claims = self.session(app)
            if url.path.endswith("/api/me"):
                return self.send(200 if claims else 401, json.dumps(claims or {}), "application/json")
            if not claims:
                return self.redirect(self.entry(app, url.path))
            who = claims.get("name") or claims.get("username") or claims.get("email") or claims.get("name_id")
            rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(json.dumps(v, ensure_ascii=False))}</td></tr>" for k, v in claims.items())
            self.send(200, f"""<!doctype html><html><head><meta charset="utf-8"><title>{APPS[app]['title']}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:44rem;margin:3rem auto;padding:0 1rem}}th{{text-align:left;padding-right:1rem}}</style></head>
<body><h1 id="who">Signed in to {APPS[app]['title']} as {html.escape(str(who))}</h1>
<p>It accepted this from the bridge:</p><table>{rows}</table></body></html>""")

        def entry(self, app, path):
            """Where the app sends a visitor who is not signed in."""
            sso = f"{state.bridge_url}/sso/{APPS[app]['app_id']}"
            if app == "forum":
                payload, sig = state.forum_request(path)
                return f"{sso}?{urlencode({'sso': payload, 'sig': sig})}"
            if app == "tool":
                return f"{sso}?{urlencode({'return_to': state.origin + path})}"
            if app == "wiki":
                return state.wiki.request(path)
            return sso

    return Handler


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--bridge-url", required=True)
    parser.add_argument("--community-id", default="demo-community")
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), None)
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    server.RequestHandlerClass = make_handler(State(args.bridge_url, os.environ["DEMO_FORUM_SECRET"], origin, args.community_id))
    print(f"READY {origin}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
