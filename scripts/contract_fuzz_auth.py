"""Schemathesis hook for the admin API's fuzz (`scripts/contract_fuzz.py` loads it through
SCHEMATHESIS_HOOKS): every request carries a console token minted just then, fetched from the
local minter at $BRIDGE_FUZZ_TOKEN_URL. The fuzz may sign its own operator out (`/me/sign-out`,
or `/people/{username}/sign-out` with its own user name), which revokes every
console token issued before that second; a token minted afterwards stands, so later requests are
tried as the operator instead of all answering 401. Standard library only: it runs in
Schemathesis's own environment.
"""
import os
import urllib.request

import schemathesis


@schemathesis.auth(refresh_interval=None)
class ConsoleToken:
    def get(self, case, ctx):
        with urllib.request.urlopen(os.environ["BRIDGE_FUZZ_TOKEN_URL"], timeout=5) as answer:
            return answer.read().decode()

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"
