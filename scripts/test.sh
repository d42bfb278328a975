#!/usr/bin/env bash
# Runs the whole test suite with cargo-nextest: always on SQLite, on Postgres when a server
# answers at $POSTGRES_TEST_URL. Under CI=true a missing Postgres is a failure.
# A machine with only a Rust toolchain gets the pinned cargo-nextest installed first, so
# `make test` works on a fresh clone. `scripts/test.sh --install-only` stops after that
# (.ci/run uses it, so this file is the one place the version is pinned).
set -euo pipefail
cd "$(dirname "$0")/.."

nextest_version=0.9.143
if ! cargo nextest --version >/dev/null 2>&1; then
  echo "make test: cargo-nextest is missing; installing cargo-nextest $nextest_version (once, a few minutes)" >&2
  cargo install --locked cargo-nextest --version "$nextest_version"
fi
[[ "${1:-}" == "--install-only" ]] && exit 0

# shellcheck source=scripts/pg-address.sh
source scripts/pg-address.sh

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
