"""Independent checks of the tokens the bridge mints, written against the apps' own contracts
rather than the bridge's code (the integration tests and the demo apps use them).

  python3 tests/verifiers/verify.py jwt        < {"token", "algorithms", "jwks" | "secret", "audience"?, "issuer"?}
  python3 tests/verifiers/verify.py discourse  < {"sso", "sig", "secret"}

JWTs are checked with PyJWT (signature by `kid` from the JWKS or with the shared secret, `exp`,
`iat`, and `aud`/`iss` when given). DiscourseConnect payloads are checked as Discourse does:
hex HMAC-SHA256 of the Base64 `sso` under the shared secret, compared in constant time.
Prints the claims (or payload fields) as JSON; exits 1 with the reason when a check fails.
"""

import base64
import hashlib
import hmac
import json
import sys
from urllib.parse import parse_qsl

import jwt


def verify_jwt(req):
    token = req["token"]
    header = jwt.get_unverified_header(token)
    if header.get("alg") not in req["algorithms"]:
        raise ValueError(f"algorithm {header.get('alg')} not allowed")
    if "jwks" in req:
        keys = {k.key_id: k for k in jwt.PyJWKSet.from_dict(req["jwks"]).keys}
        if header.get("kid") not in keys:
            raise ValueError(f"kid {header.get('kid')} is not in the JWKS")
        key = keys[header["kid"]].key
    else:
        key = req["secret"]
    options = {"require": ["exp", "iat"], "verify_aud": "audience" in req}
    return jwt.decode(token, key, algorithms=req["algorithms"], audience=req.get("audience"), issuer=req.get("issuer"), options=options)


def sign_discourse(payload, secret):
    """The `sso` and `sig` of a payload (dict), as Discourse builds its requests."""
    from urllib.parse import urlencode
    sso = base64.b64encode(urlencode(payload).encode()).decode()
    return sso, hmac.new(secret.encode(), sso.encode(), hashlib.sha256).hexdigest()


def verify_discourse(req):
    expected = hmac.new(req["secret"].encode(), req["sso"].encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, req["sig"]):
        raise ValueError("sig does not match")
    return dict(parse_qsl(base64.b64decode(req["sso"]).decode(), keep_blank_values=True))


def main():
    mode = sys.argv[1]
    req = json.load(sys.stdin)
    try:
        if mode == "jwt":
            out = verify_jwt(req)
        elif mode == "discourse":
            out = verify_discourse(req)
        elif mode == "discourse-request":
            sso, sig = sign_discourse(req["payload"], req["secret"])
            out = {"sso": sso, "sig": sig}
        else:
            raise SystemExit(f"unknown mode {mode}")
    except (jwt.InvalidTokenError, ValueError, KeyError) as e:
        print(f"{type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
