"""Independent checks of the tokens the bridge mints, written against the apps' own contracts
rather than the bridge's code (the integration tests and the demo apps use them).

  python3 tests/verifiers/verify.py jwt        < {"token", "algorithms", "jwks" | "secret", "audience"?, "issuer"?}
  python3 tests/verifiers/verify.py discourse  < {"sso", "sig", "secret"}
  python3 tests/verifiers/verify.py keypair    < {"alg": "RS256" | "ES256", "kid"}
  python3 tests/verifiers/verify.py sign       < {"jwk" (a private JWK from keypair), "alg", "claims", "headers"?}

JWTs are checked with PyJWT (signature by `kid` from the JWKS or with the shared secret, `exp`,
`iat`, and `aud`/`iss` when given). DiscourseConnect payloads are checked as Discourse does:
hex HMAC-SHA256 of the Base64 `sso` under the shared secret, compared in constant time.
`keypair` and `sign` are an OpenID Connect client's side of `private_key_jwt` (RFC 7523): a key
pair made by `cryptography` (its private and public JWKs) and an assertion signed by PyJWT.
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


def keypair(req):
    """A new key pair of `alg` as a client makes one: its private and public JWKs, named `kid`."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    if req["alg"] == "ES256":
        private = ec.generate_private_key(ec.SECP256R1())
        algorithm = jwt.algorithms.ECAlgorithm
    else:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        algorithm = jwt.algorithms.RSAAlgorithm
    jwks = [json.loads(algorithm.to_jwk(key)) for key in (private, private.public_key())]
    for jwk in jwks:
        jwk["kid"] = req["kid"]
    return {"private": jwks[0], "public": jwks[1]}


def sign(req):
    """A JWT of `claims` signed with the private JWK `jwk` (its `kid` in the header)."""
    key = jwt.PyJWK.from_dict(req["jwk"], algorithm=req["alg"]).key
    headers = {"kid": req["jwk"]["kid"], **req.get("headers", {})}
    return {"token": jwt.encode(req["claims"], key, algorithm=req["alg"], headers=headers)}


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
        elif mode == "keypair":
            out = keypair(req)
        elif mode == "sign":
            out = sign(req)
        else:
            raise SystemExit(f"unknown mode {mode}")
    except (jwt.InvalidTokenError, ValueError, KeyError) as e:
        print(f"{type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
