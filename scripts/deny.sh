#!/usr/bin/env bash
# cargo-deny with the live advisory database, or with the RustSec snapshot bundled in
# ../shared/advisory-db.bundle when GitHub cannot be reached.
set -euo pipefail
cd "$(dirname "$0")/.."

if timeout 10 git ls-remote --exit-code https://github.com/rustsec/advisory-db HEAD >/dev/null 2>&1; then
  exec cargo deny --locked check
fi

db="${CARGO_HOME:-$HOME/.cargo}/advisory-dbs/advisory-db-3157b0e258782691"
bundle="${ADVISORY_DB_BUNDLE:-../shared/advisory-db.bundle}"
if [[ ! -d "$db/.git" ]]; then
  [[ -f "$bundle" ]] || { echo "error: GitHub unreachable and no advisory bundle at $bundle" >&2; exit 1; }
  git clone -q "$bundle" "$db"
fi
echo "GitHub unreachable: checking against the bundled advisory snapshot ($(git -C "$db" log -1 --format=%cs))"
cargo fetch --locked   # --offline needs every crate, all platforms, downloaded
exec cargo deny --locked --offline check
