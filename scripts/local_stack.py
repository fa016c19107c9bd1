"""Brings up the whole bridge on this machine and keeps it up until interrupted.

  moto (Cognito, DynamoDB, Secrets Manager, KMS) -> the stack's resources, demo users, our
  signing keys and the demo apps -> the dev server (the form and the API, through the same
  handler code Lambda runs) -> the demo Zendesk-style app, the demo token apps (community,
  forum, tool), the demo OpenID Connect app (openid-client), the demo telephony service, registered as the active telephony hook, the
  demo ServiceNow instance, where the shipped workflow opens an incident for each high-risk
  sign-in, and the local mail inbox, where every email the local Cognito sends can be read.

Usage: python3 scripts/local_stack.py [--auto-ports] [--info FILE] [--no-build]
  --auto-ports  free ports instead of the fixed ones (tests)
  --info FILE   write URLs and demo credentials as JSON (tests read it)
"""

import argparse
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "debug"
FIXED_PORTS = {"moto": 5123, "api": 3000, "form": 8080, "demo": 8090, "tokens": 8091, "oidc": 8092, "idp": 8095, "sms": 8096, "servicenow": 8097, "mail": 8098}
REGION = "ap-northeast-1"
APP_ID = "demo-zendesk"
OIDC_APP_ID = "demo-oidc"
USERS = [
    # email, password, name, extra arguments
    ("hanako@example.com", "Demo-Passw0rd!", "山田 花子", ["--company", "Acme 株式会社", "--group", "zd-vip", "--group", "zendesk-agents",
                                                          "--group", "community-3", "--group", "forum-staff"]),
    ("mfa@example.com", "Demo-Passw0rd!", "Taro MFA", ["--sms-phone", "+819012345678", "--locale", "ja"]),
    ("new@example.com", "Temp-Passw0rd!", "Jiro New", ["--temporary"]),
    ("guarded@example.com", "Demo-Passw0rd!", "Saburo Guarded", []),
    ("stepup@example.com", "Demo-Passw0rd!", "Shiro Stepup", []),
    # In no group: the demo-agents app does not admit them.
    ("outsider@example.com", "Demo-Passw0rd!", "Goro Outsider", []),
    # Their SMS code is reset from the console (as for a lost phone).
    ("lostphone@example.com", "Demo-Passw0rd!", "Rokuro Lostphone", ["--sms-phone", "+819000000006"]),
    # Given the console's admin, viewer and operator roles below; an SMS code is their second factor.
    ("admin@example.com", "Demo-Passw0rd!", "Console Admin", ["--sms-phone", "+819000000001"]),
    ("viewer@example.com", "Demo-Passw0rd!", "Console Viewer", ["--sms-phone", "+819000000002"]),
    ("operator@example.com", "Demo-Passw0rd!", "Console Operator", ["--sms-phone", "+819000000003"]),
]
# The same help center behind two more apps: one refuses high-risk sign-ins (a new browser), one
# asks for a second factor then (setting up an authenticator app if the person has none).
GUARDED_APP_ID = "demo-guarded"
STEPUP_APP_ID = "demo-stepup"
AGENTS_APP_ID = "demo-agents"
children = []


def free_ports(names):
    """A free port for each of `names`, all different, from below the kernel's ephemeral range.

    The stack binds them seconds after choosing them (the apps need each other's URLs first), and
    meanwhile its own outgoing connections take ports from the ephemeral range: a port from
    bind(0) was once taken that way before the demo app could bind it. Nothing takes a port below
    that range unless it asks for it by number."""
    try:
        ephemeral_low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral_low = 32768
    candidates = list(range(max(1024, ephemeral_low - 12000), ephemeral_low))
    random.shuffle(candidates)
    ports = {}
    for port in candidates:
        if len(ports) == len(names):
            return ports
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        ports[names[len(ports)]] = port
    raise SystemExit("no free ports below the ephemeral range")


def start(cmd, env=None, ready_prefix="READY"):
    """Starts a child and returns the rest of its READY line."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    children.append(proc)
    for line in proc.stdout:
        if line.startswith(ready_prefix):
            # Keep draining its output (logs), or the child blocks once the pipe is full.
            threading.Thread(target=forward, args=(proc.stdout,), daemon=True).start()
            return line[len(ready_prefix):].strip()
    raise SystemExit(f"{cmd[0]} exited before it was ready (exit code {proc.wait()})")


def forward(stream):
    for line in stream:
        sys.stdout.write(line)
        sys.stdout.flush()


def stop(*_):
    for proc in reversed(children):
        if proc.poll() is None:
            proc.terminate()
    for proc in children:
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
    sys.exit(0)


def admin(env, *args, stdin=None):
    result = subprocess.run([str(TARGET / "bridge-admin"), *args], env=env, input=stdin, text=True, capture_output=True, cwd=ROOT)
    if result.returncode != 0:
        raise SystemExit(f"bridge-admin {' '.join(args[:2])} failed: {result.stderr.strip()}")
    return result.stdout


def create_token_apps(env, origin):
    """Our ES256 and RS256 keys, and a community, a forum, a generic JWT app and a SAML service provider on `origin`.
    Returns the forum's shared secret."""
    admin(env, "key", "rotate", "--alg", "ES256")
    admin(env, "key", "rotate", "--alg", "RS256")
    forum_secret = secrets.token_urlsafe(32)
    apps = [
        ("demo-community", "Demo Community", {"kind": "insided", "community_id": "demo-community", "sso_url": origin, "username_from_email": True},
         {"roles": {"from": "groups", "prefix": "community-", "strip_prefix": True, "join": ","}}, None),
        ("demo-forum", "Demo Forum", {"kind": "discourse", "forum_url": origin},
         {"name": {"from": "attribute", "name": "name"}, "groups": {"from": "groups", "prefix": "forum-", "strip_prefix": True}}, forum_secret),
        ("demo-tool", "Demo Tool", {"kind": "jwt", "url": f"{origin}/tool/sso", "parameter": "token", "algorithm": "RS256",
                                    "audience": "demo-tool", "return_parameter": "next"},
         {"email": {"from": "attribute", "name": "email", "required": True}, "name": {"from": "attribute", "name": "name"}}, None),
        ("demo-wiki", "Demo Wiki", {"kind": "saml", "entity_id": f"{origin}/wiki/metadata", "acs_url": f"{origin}/wiki/acs"},
         {"name": {"from": "attribute", "name": "name"}, "groups": {"from": "groups"}}, None),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for app_id, name, target, claims, secret in apps:
            target_file, claims_file = Path(tmp, f"{app_id}.target.json"), Path(tmp, f"{app_id}.claims.json")
            target_file.write_text(json.dumps(target))
            claims_file.write_text(json.dumps(claims))
            # Each app's own page (`/community/`, ...) is its home: the account page lists it.
            home = f"{origin}/{app_id.removeprefix('demo-')}/"
            args = ["app", "create", app_id, "--name", name, "--target", str(target_file), "--allow-origin", origin, "--claims", str(claims_file),
                    "--home-url", home]
            admin(env, *args, *(["--secret-stdin"] if secret else []), stdin=secret)
    return forum_secret


def create_oidc_app(env, origin):
    """An OpenID Connect client on `origin` (`demo/oidc-client`), confidential with
    `private_key_jwt`: it registers the public half of a new ES256 key and shares no secret.
    Returns the private key (a JWK, JSON) for the client."""
    import jwt  # PyJWT, with `cryptography`
    from cryptography.hazmat.primitives.asymmetric import ec
    key = ec.generate_private_key(ec.SECP256R1())
    private, public = (json.loads(jwt.algorithms.ECAlgorithm.to_jwk(k)) for k in (key, key.public_key()))
    for jwk in (private, public):
        jwk.update(kid="demo-oidc-1", alg="ES256")
    target = {"kind": "oidc", "redirect_uris": [f"{origin}/callback"], "post_logout_redirect_uris": [f"{origin}/signed-out"],
              "client_authentication": "private_key_jwt", "jwks": {"keys": [public]}, "refresh_token_lifetime_seconds": 86400,
              "backchannel_logout_uri": f"{origin}/backchannel-logout"}
    claims = {"groups": {"from": "groups"}}
    with tempfile.TemporaryDirectory() as tmp:
        target_file, claims_file = Path(tmp, "oidc.target.json"), Path(tmp, "oidc.claims.json")
        target_file.write_text(json.dumps(target))
        claims_file.write_text(json.dumps(claims))
        admin(env, "app", "create", OIDC_APP_ID, "--name", "Demo OpenID Connect app", "--target", str(target_file), "--allow-origin", origin,
              "--claims", str(claims_file), "--home-url", f"{origin}/")
    return json.dumps(private)


def create_console_app(env, form_origin):
    """The operators' console signs in like any app: a JWT with our ES256 key, for the admin API."""
    target = {"kind": "jwt", "url": f"{form_origin}/console/index.html", "delivery": "fragment", "algorithm": "ES256", "audience": "bridge-console", "lifetime_seconds": 600}
    claims = {"cognito:username": {"from": "attribute", "name": "cognito:username", "required": True},
              "email": {"from": "attribute", "name": "email"}}
    with tempfile.TemporaryDirectory() as tmp:
        target_file, claims_file = Path(tmp, "console.target.json"), Path(tmp, "console.claims.json")
        target_file.write_text(json.dumps(target))
        claims_file.write_text(json.dumps(claims))
        admin(env, "app", "create", "console", "--name", "Operators' console", "--target", str(target_file), "--allow-origin", form_origin,
              "--claims", str(claims_file))
    admin(env, "admin", "grant", "--email", "admin@example.com", "--role", "admin")
    admin(env, "admin", "grant", "--email", "viewer@example.com", "--role", "viewer")
    admin(env, "admin", "grant", "--email", "operator@example.com", "--role", "operator")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--auto-ports", action="store_true")
    parser.add_argument("--info")
    parser.add_argument("--no-build", action="store_true")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    ports = free_ports(list(FIXED_PORTS)) if args.auto_ports else dict(FIXED_PORTS)
    if not args.no_build:
        subprocess.run(["cargo", "build", "--quiet", "-p", "bridge-admin", "-p", "dev-server"], check=True, cwd=ROOT)

    # The local Cognito's emails land here, a JSON line each, rendered by the trigger function's
    # CustomMessage handler, which the dev server serves at Lambda's Invoke API.
    outbox = Path(tempfile.gettempdir()) / f"bridge-outbox-{os.getpid()}.jsonl"
    moto_env = {**os.environ, "MOTO_COGNITO_OUTBOX": str(outbox), "MOTO_LAMBDA_ENDPOINT": f"http://127.0.0.1:{ports['api']}"}
    moto_port = start([sys.executable, "scripts/moto_server.py", str(ports["moto"])], moto_env)
    moto = f"http://127.0.0.1:{moto_port}"
    env = {**os.environ, "AWS_ENDPOINT_URL": moto, "AWS_REGION": REGION, "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
           "SECRET_PREFIX": "bridge-local"}
    env.pop("AWS_PROFILE", None)
    stack = dict(line.split("=", 1) for line in admin(env, "local", "provision").split())
    env.update(stack)
    for email, password, name, extra in USERS:
        admin(env, "local", "user", "--pool", stack["USER_POOL_ID"], "--email", email, "--password", password, "--name", name, *extra)

    demo_origin = f"http://127.0.0.1:{ports['demo']}"
    api_url = f"http://127.0.0.1:{ports['api']}"
    app_secret = secrets.token_urlsafe(32)
    admin(env, "app", "create", APP_ID, "--name", "Demo Help Center", "--account-url", demo_origin, "--allow-origin", demo_origin,
          "--claims", "demo/claims.json", "--sign-up", "open", "--home-url", f"{demo_origin}/hc/", "--secret-stdin", stdin=app_secret)
    admin(env, "app", "create", GUARDED_APP_ID, "--name", "Demo Help Center (guarded)", "--account-url", demo_origin, "--allow-origin", demo_origin,
          "--claims", "demo/claims.json", "--risk-policy", "deny", "--secret-stdin", stdin=app_secret)
    admin(env, "app", "create", STEPUP_APP_ID, "--name", "Demo Help Center (second factor)", "--account-url", demo_origin, "--allow-origin", demo_origin,
          "--claims", "demo/claims.json", "--risk-policy", "require_mfa", "--secret-stdin", stdin=app_secret)
    admin(env, "app", "create", AGENTS_APP_ID, "--name", "Demo Help Center (agents only)", "--account-url", demo_origin, "--allow-origin", demo_origin,
          "--claims", "demo/claims.json", "--access-group", "zendesk-agents", "--home-url", f"{demo_origin}/agents/", "--secret-stdin", stdin=app_secret)

    tokens_origin = f"http://127.0.0.1:{ports['tokens']}"
    forum_secret = create_token_apps(env, tokens_origin)
    oidc_origin = f"http://127.0.0.1:{ports['oidc']}"
    oidc_key = create_oidc_app(env, oidc_origin)
    create_console_app(env, f"http://localhost:{ports['form']}")

    org = json.loads(admin(env, "org", "create", "--name", "Example Corp", "--domain", "corp.example"))
    scim_token = admin(env, "org", "issue-token", org["id"], "--label", "demo").strip().splitlines()[-1]

    # The demo company's own OpenID provider, and Example Corp connected to it.
    idp_secret = secrets.token_urlsafe(24)
    issuer = start(["node", "demo/company-idp/idp.mjs", "--port", str(ports["idp"]), "--client-id", "identity-bridge", f"--client-secret={idp_secret}",
                    "--redirect-uri", f"{api_url}/corporate/callback", "--post-logout-redirect-uri", f"{api_url}/logout/done"]).split("=", 1)[1]
    admin(env, "org", "connect", org["id"], "--issuer", issuer, "--client-id", "identity-bridge", "--client-secret-stdin",
          "--provisioning", "on_first_sign_in", "--single-logout", stdin=idp_secret)

    # Breached passwords: a local stand-in of the range API (the bridge calls no internet host locally).
    breached_url = start([sys.executable, "demo/pwned_passwords_demo.py"])
    server_env = {**env, "BREACHED_PASSWORDS_URL": breached_url, "DEV_API_ADDR": f"127.0.0.1:{ports['api']}", "DEV_FORM_ADDR": f"127.0.0.1:{ports['form']}",
                  "DEV_STATIC_DIR": str(ROOT / "static-form"), "DEV_CONSOLE_DIR": str(ROOT / "console" / "dist"),
                  "COGNITO_JWKS_URL": f"{moto}/{stack['USER_POOL_ID']}/.well-known/jwks.json",
                  "AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "INFO", "PRODUCT_NAME": "Demo Help Center",
                  "SMS_ALLOWED_PREFIXES": "+81"}
    urls = dict(part.split("=", 1) for part in start([str(TARGET / "dev-server")], server_env).split())
    start([sys.executable, "demo/zendesk_demo_app.py", "--port", str(ports["demo"]), "--bridge-url", api_url, "--app-id", APP_ID],
          {**os.environ, "DEMO_APP_SECRET": app_secret})
    start([sys.executable, "demo/token_apps_demo.py", "--port", str(ports["tokens"]), "--bridge-url", api_url],
          {**os.environ, "DEMO_FORUM_SECRET": forum_secret})
    start(["node", "demo/oidc-client/app.mjs", "--port", str(ports["oidc"]), "--issuer", api_url, "--client-id", OIDC_APP_ID],
          {**os.environ, "DEMO_OIDC_PRIVATE_JWK": oidc_key})

    mail_url = start([sys.executable, "demo/mail_inbox.py", "--port", str(ports["mail"]), "--outbox", str(outbox)])

    # The demo telephony service, registered and activated as the telephony hook.
    hook_secret = secrets.token_urlsafe(24)
    sms_url = start([sys.executable, "demo/telephony_demo.py", "--port", str(ports["sms"])], {**os.environ, "DEMO_HOOK_SECRET": hook_secret})
    admin(env, "hook", "create", "demo-sms", "--url", f"{sms_url}/hook", "--header-name", "X-Hook-Secret", "--secret-stdin", stdin=hook_secret)
    admin(env, "hook", "activate", "demo-sms")

    # The demo ServiceNow instance, its connection and the shipped high-risk sign-in flow.
    servicenow_password = secrets.token_urlsafe(24)
    servicenow_url = start([sys.executable, "demo/servicenow_demo.py", "--port", str(ports["servicenow"])],
                           {**os.environ, "DEMO_SERVICENOW_PASSWORD": servicenow_password})
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as connection:
        json.dump({"name": "servicenow", "base_url": servicenow_url, "auth": {"type": "basic", "username": "bridge.integration", "secret": "(stdin)"}}, connection)
    admin(env, "flow", "connection", connection.name, "--secret-stdin", stdin=servicenow_password)
    os.unlink(connection.name)
    admin(env, "flow", "import", "workflows/templates/high-risk-sign-in-servicenow.json")
    # Security notices, sent through the local SES: they land in the mail inbox.
    for notice in ("notify-password-changed", "notify-email-changed", "notify-factor-removed", "notify-factor-added", "notify-passkey-added",
                   "notify-passkey-removed", "notify-unusual-sign-in"):
        admin(env, "flow", "import", f"workflows/templates/{notice}.json")

    info = {"moto": moto, "telephony": sms_url, "servicenow": servicenow_url, "api": urls["api"], "form": urls["form"], "demo_app": demo_origin, "app_id": APP_ID, "guarded_app_id": GUARDED_APP_ID, "stepup_app_id": STEPUP_APP_ID, "agents_app_id": AGENTS_APP_ID, "token_apps": tokens_origin, "oidc_app": oidc_origin, "oidc_app_id": OIDC_APP_ID, "region": REGION, "outbox": str(outbox), "mail": mail_url,
            **{k.lower(): v for k, v in stack.items()},
            "org_id": org["id"], "scim_url": f"{urls['api']}/scim/v2", "scim_token": scim_token, "company_idp": issuer,
            "employee": {"email": "taro@corp.example", "password": "Corp-Passw0rd!", "name": "山田 太郎"},
            "users": {u[0].split("@")[0]: {"email": u[0], "password": u[1], "name": u[2]} for u in USERS}}
    if args.info:
        Path(args.info).write_text(json.dumps(info, ensure_ascii=False, indent=2))
    print(f"""
The identity bridge is running locally.

  Open the demo help center:  {demo_origin}/
  (it sends you to the sign-in form at {urls['form']}, as Zendesk would)
  The token apps:  {tokens_origin}/community/ (Gainsight community, ES256)
                   {tokens_origin}/forum/ (DiscourseConnect)   {tokens_origin}/tool/ (generic JWT, RS256)
                   {tokens_origin}/wiki/ (SAML 2.0 service provider)
  An OpenID Connect app (openid-client, the code flow with PKCE): {oidc_origin}/
  Our published keys: {urls['api']}/.well-known/jwks.json
  Our OpenID provider: {urls['api']}/.well-known/openid-configuration

  Sign in as:        hanako@example.com / Demo-Passw0rd!
  With an SMS code:  mfa@example.com / Demo-Passw0rd!   (the local Cognito accepts any code)
  New password:      new@example.com / Temp-Passw0rd!   (asks for a new password first)
  Create an account: "Create an account" on the form, with any new email; the code is in the
                     mail inbox below. A password known from breaches (Password123!) is refused

  Corporate sign-in: "Continue with corporate email" with taro@corp.example, then sign in at
  Example Corp's own provider ({issuer}) with Corp-Passw0rd!

  SCIM (organisation "Example Corp", domain corp.example):
    base URL {urls['api']}/scim/v2   token {scim_token}
    curl -H 'Authorization: Bearer {scim_token}' -H 'Content-Type: application/scim+json' \\
         -d '{{"userName":"taro@corp.example","name":{{"givenName":"Taro","familyName":"Yamada"}}}}' {urls['api']}/scim/v2/Users

  Telephony hook "demo-sms" (active): the demo SMS inbox is {sms_url}/
    send it a preview:  target/debug/bridge-admin hook preview demo-sms --user mfa@example.com --send
    (with the admin tool's environment below, and USER_POOL_ID={stack['USER_POOL_ID']})

  Workflow "high-risk-sign-in-servicenow": a high-risk sign-in (guarded@example.com from a second
    browser) opens an incident in the demo ServiceNow instance: {servicenow_url}/
    make its next call fail (to replay the run from the console):  curl -X POST {servicenow_url}/demo/fail-next

  Emails the local Cognito sends (codes, password resets, invitations), in each person's
    language, from the operator's templates (bridge-admin email-template ...), and the security
    notices the workflows send through SES (a password or email changed, a factor added or
    removed, a passkey added or removed, an unusual sign-in): {mail_url}/

  The operators' console:  {urls['form']}/console/index.html
    sign in as admin@example.com / Demo-Passw0rd! with an SMS code (the local Cognito accepts any);
    viewer@example.com (same password) may look but not change; operator@example.com may also
    sign people out, switch hooks and replay failed workflow runs
  Admin API (what the console calls): {urls['api']}/admin/v1
    curl -H "Authorization: Bearer $TOKEN" -H 'Origin: {urls['form']}' {urls['api']}/admin/v1/audit

  API: {urls['api']}   emulated AWS (moto): {moto}   region {REGION}
  Admin tool:  AWS_ENDPOINT_URL={moto} AWS_REGION={REGION} AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local \\
               TABLE_NAME={stack['TABLE_NAME']} target/debug/bridge-admin app list

Press Ctrl-C to stop.""", flush=True)
    signal.pause()


if __name__ == "__main__":
    try:
        main()
    except BaseException:
        for proc in children:
            if proc.poll() is None:
                proc.terminate()
        raise
