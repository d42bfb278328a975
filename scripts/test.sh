#!/usr/bin/env bash
# Runs the whole test suite with cargo-nextest: always on SQLite, on Postgres when a server
# answers at $POSTGRES_TEST_URL. Under CI=true a missing Postgres is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

export POSTGRES_TEST_URL="${POSTGRES_TEST_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
authority="${POSTGRES_TEST_URL#*://}"
authority="${authority%%/*}"
authority="${authority##*@}"
host="${authority%%:*}"
port="${authority##*:}"
[[ "$port" == "$authority" ]] && port=5432

filter=()
if timeout 3 bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null; then
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
