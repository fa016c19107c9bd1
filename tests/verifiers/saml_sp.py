"""A SAML 2.0 service provider (pysaml2, whose signatures xmlsec1 checks), independent of the
bridge's code: it makes the requests a provider sends and checks the responses as one does.

  python3 tests/verifiers/saml_sp.py request  < {"metadata", "entity_id", "acs_url", "binding": "redirect" | "post",
                                                  "relay_state"?, "force_authn"?, "is_passive"?}
  python3 tests/verifiers/saml_sp.py response < {"metadata", "entity_id", "acs_url", "saml_response",
                                                  "outstanding": [request ids] (none: unsolicited allowed)}

`metadata` is the bridge's IdP metadata (`/sso/{app}/metadata`). `request` prints the request's
`id` and its `url` (HTTP-Redirect) or `fields` (HTTP-POST). `response` checks the response as
pysaml2 does (the signatures of the response and of the assertion against the metadata's
certificates, the issuer, `Destination`, `InResponseTo` among the outstanding requests, the
bearer's `Recipient` and times, the audience) and prints `name_id`, `name_id_format`,
`attributes`, `session_index`, `authn_instant`, `in_response_to`; exits 1 with the reason when a check fails.
"""

import json
import re
import sys

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.sigver import get_xmlsec_binary


def client(req, unsolicited=False):
    config = SPConfig()
    config.load({
        "entityid": req["entity_id"],
        "metadata": {"inline": [req["metadata"]]},
        "xmlsec_binary": get_xmlsec_binary(["/usr/bin", "/usr/local/bin"]),
        "service": {"sp": {
            "endpoints": {"assertion_consumer_service": [(req["acs_url"], BINDING_HTTP_POST)]},
            "want_response_signed": True,
            "want_assertions_signed": True,
            "authn_requests_signed": False,
            "allow_unsolicited": unsolicited,
        }},
        "allow_unknown_attributes": True,
    })
    return Saml2Client(config)


def request(req):
    sp = client(req)
    idp = next(iter(sp.metadata.identity_providers()))
    binding = BINDING_HTTP_REDIRECT if req["binding"] == "redirect" else BINDING_HTTP_POST
    extra = {}
    if req.get("force_authn"):
        extra["force_authn"] = "true"
    if req.get("is_passive"):
        extra["is_passive"] = "true"
    request_id, info = sp.prepare_for_authenticate(entityid=idp, relay_state=req.get("relay_state", ""), binding=binding, **extra)
    if binding == BINDING_HTTP_REDIRECT:
        return {"id": request_id, "url": dict(info["headers"])["Location"]}
    fields = dict(re.findall(r'name="(SAMLRequest|RelayState)" value="([^"]*)"', info["data"]))
    return {"id": request_id, "fields": fields}


def response(req):
    outstanding = req.get("outstanding")
    sp = client(req, unsolicited=outstanding is None)
    parsed = sp.parse_authn_request_response(req["saml_response"], BINDING_HTTP_POST, outstanding={i: "/" for i in outstanding or []})
    if parsed is None:
        raise ValueError("the response was not accepted")
    statement = parsed.assertion.authn_statement[0]
    return {
        "name_id": parsed.name_id.text,
        "name_id_format": parsed.name_id.format,
        "attributes": parsed.ava,
        "session_index": statement.session_index,
        "authn_instant": statement.authn_instant,
        "in_response_to": parsed.in_response_to,
        "issuer": parsed.issuer(),
    }


def main():
    mode = sys.argv[1]
    req = json.load(sys.stdin)
    try:
        out = request(req) if mode == "request" else response(req)
    except Exception as e:  # noqa: BLE001 - the reason is the verifier's answer
        print(f"{type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
