#!/usr/bin/env bash
# Browser tests (make e2e): the example SPA against a release build of Warren, driven by
# Playwright (playwright-core, pinned in e2e/package-lock.json) in Debian's Chromium, with a
# local SMTP sink. Screenshots and the servers' logs land in target/e2e/.
#
# Missing Chromium or npm is installed with apt-get (as root); if that is impossible the run
# fails. It never skips: a browser test that silently did not run proves nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

chromium="${CHROMIUM:-/usr/bin/chromium}"
# Nothing may download a browser build: Chromium comes from Debian.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

apt_install() { # package…
  if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "error: $* missing, and apt-get cannot install it here (not root, or no apt-get);" \
      "install it yourself (Debian: apt-get install $*)" >&2
    exit 1
  fi
  echo "== installing $* with apt-get"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

[[ -x "$chromium" ]] || apt_install chromium
command -v npm >/dev/null 2>&1 || apt_install nodejs npm
[[ -x "$chromium" ]] || { echo "error: no Chromium at $chromium" >&2; exit 1; }
echo "== $("$chromium" --version 2>/dev/null), node $(node --version)"

echo "== release build"
cargo build --release --locked --quiet --bin warren

echo "== npm ci (e2e/)"
(cd e2e && npm ci --no-audit --no-fund --loglevel=error)

rm -rf target/e2e
mkdir -p target/e2e
echo "== browser tests (screenshots in target/e2e/)"
cd e2e
CHROMIUM="$chromium" E2E_WARREN_BIN="$PWD/../target/release/warren" \
  node --test --test-reporter=spec --test-reporter-destination=stdout tests/
