#!/usr/bin/env bash
# Interop tests (make interop): stock Node libraries (jose, express-oauth2-jwt-bearer,
# openid-client), pinned in interop/package-lock.json, verify a release build's tokens given
# only its issuer URL, once signing EdDSA and once ES256. Warren's logs land in target/interop/.
#
# INTEROP_WARREN_BIN=target/debug/warren skips the release build while iterating. Missing npm
# is installed with apt-get (as root); otherwise the run fails rather than skipping.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v npm >/dev/null 2>&1; then
  if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "error: npm missing, and apt-get cannot install it here; install Node.js 20 or newer" >&2
    exit 1
  fi
  echo "== installing nodejs and npm with apt-get"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
echo "== node $(node --version)"

if [[ -z "${INTEROP_WARREN_BIN:-}" ]]; then
  echo "== release build"
  cargo build --release --locked --quiet --bin warren
  export INTEROP_WARREN_BIN="$PWD/target/release/warren"
fi

if [[ ! -d interop/node_modules ]]; then
  echo "== npm ci (interop/)"
  (cd interop && npm ci --no-audit --no-fund --loglevel=error)
fi

rm -rf target/interop
echo "== interop tests against $INTEROP_WARREN_BIN"
cd interop
node --test --test-concurrency=1 --test-reporter=spec --test-reporter-destination=stdout tests/
