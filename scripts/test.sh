#!/usr/bin/env bash
# Runs the whole test suite with cargo-nextest: always on SQLite, on Postgres when a server
# answers at $POSTGRES_TEST_URL. Under CI=true a missing Postgres is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/pg-address.sh
source scripts/pg-address.sh

if ! cargo nextest --version >/dev/null 2>&1; then
  echo "error: make test needs cargo-nextest; install it with:" >&2
  echo "  cargo install --locked cargo-nextest" >&2
  echo "(or run the suite without it: cargo test)" >&2
  exit 1
fi

export POSTGRES_TEST_URL="${POSTGRES_TEST_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
pg_address "$POSTGRES_TEST_URL"
host="$pg_host"
port="$pg_port"

filter=()
if pg_reachable; then
  backends="SQLite and Postgres ($host:$port)"
elif [[ "${CI:-}" == "true" ]]; then
  echo "error: Postgres is not reachable at $host:$port and CI=true requires it" >&2
  exit 1
else
  echo "warning: Postgres is not reachable at $host:$port; running SQLite tests only" >&2
  filter=(-E 'not test(/::postgres$/)')
  backends="SQLite only (Postgres skipped: unreachable)"
fi

profile=default
[[ "${CI:-}" == "true" ]] && profile=ci
cargo nextest run --locked --workspace --lib --bins --tests --examples --profile "$profile" "${filter[@]}"
echo "backends tested: $backends"
