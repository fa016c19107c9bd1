#!/usr/bin/env bash
# Installs what the local stack and the tests need on a fresh machine: Python stand-ins (moto,
# PyJWT, cfn-lint, pysaml2 with Debian's xmlsec1), Schemathesis, Debian Chromium for the browser tests, playwright-core, the demo company's
# OpenID provider (oidc-provider), the demo OpenID Connect app (openid-client), rustfmt and clippy.
# Safe to run again: it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt

# Debian Chromium (browser tests) and xmlsec1 (pysaml2's signature checks).
if ! command -v chromium >/dev/null 2>&1 || ! command -v xmlsec1 >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium xmlsec1 >/dev/null
fi

if [ ! -d tests/browser/node_modules/playwright-core ]; then
  (cd tests/browser && npm ci --no-audit --no-fund --silent)
fi

# Schemathesis for `make contracts`, in its own environment (its dependencies stay apart).
if [ ! -x .venv-contracts/bin/schemathesis ]; then
  python3 -m venv .venv-contracts
  .venv-contracts/bin/pip install --quiet --disable-pip-version-check "schemathesis==4.32.5"
fi

# The operators' console's build (Vite, Preact, Chart.js).
if [ ! -d console/node_modules/vite ]; then
  (cd console && npm ci --no-audit --no-fund --silent)
fi

# The demo company's OpenID provider (local stack and tests).
if [ ! -d demo/company-idp/node_modules/oidc-provider ]; then
  (cd demo/company-idp && npm ci --no-audit --no-fund --silent)
fi

# The demo OpenID Connect app, a relying party of the bridge (openid-client).
if [ ! -d demo/oidc-client/node_modules/openid-client ]; then
  (cd demo/oidc-client && npm ci --no-audit --no-fund --silent)
fi

rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
