#!/usr/bin/env bash
# Contract fuzzing: schemathesis drives a release build of Warren from its own OpenAPI
# document, on a fresh SQLite database and (when reachable) a fresh Postgres database.
# Fails on any failed check. FUZZ_SECONDS sets the time budget per database (default 90).
# FUZZ_SEED replays a run (schemathesis prints the seed it drew as "Seed: N"), and
# FUZZ_PHASES picks phases (e.g. "coverage"), so a red run can be reproduced exactly.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

venv=target/fuzz-venv
schemathesis_version=4.32.5
if [[ ! -x "$venv/bin/schemathesis" ]]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$schemathesis_version"
fi
cargo build --release --locked --quiet

checks=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,negative_data_rejection,ignored_auth,use_after_free
pg_admin="${POSTGRES_TEST_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
server_pid=""
scratch="$(mktemp -d)"
cleanup() {
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$scratch"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

fuzz() { # backend-name database-url
  local name=$1 url=$2 port
  port="$(free_port)"
  WARREN_DATA_DIR="$scratch/$name" DATABASE_URL="$url" WARREN_SERVER__PORT="$port" \
    WARREN_RATE_LIMIT__ENABLED=false WARREN_LOG__LEVEL=warn \
    target/release/warren serve > "$scratch/$name.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 50); do
    curl -fsS "http://127.0.0.1:$port/api/health/ready" >/dev/null 2>&1 && break
    sleep 0.2
  done
  echo "== schemathesis against $name (http://127.0.0.1:$port)"
  local status=0
  # Run from a fresh folder: schemathesis keeps a cache (.schemathesis/) of what earlier runs
  # learnt from error responses, and stale lessons turn into false failures.
  mkdir -p "$scratch/$name-cwd"
  (cd "$scratch/$name-cwd" &&
    WARREN_FUZZ_URL="http://127.0.0.1:$port" WARREN_FUZZ_PASSWORD="fuzz owner passphrase $RANDOM$RANDOM" \
    PYTHONPATH="$root/scripts" SCHEMATHESIS_HOOKS=fuzz_hooks \
    "$root/$venv/bin/schemathesis" run "$root/src/api/v1/openapi.json" --url "http://127.0.0.1:$port" \
      --checks "$checks" --max-time "${FUZZ_SECONDS:-90}" --workers 2 \
      ${FUZZ_SEED:+--seed "$FUZZ_SEED"} ${FUZZ_PHASES:+--phases "$FUZZ_PHASES"} \
      --suppress-health-check too_slow,filter_too_much --no-color) || status=$?
  if grep -q 'panicked' "$scratch/$name.log"; then
    echo "error: the server panicked during fuzzing:" >&2
    grep -A3 'panicked' "$scratch/$name.log" >&2
    status=1
  fi
  kill "$server_pid" && wait "$server_pid" 2>/dev/null || true
  server_pid=""
  return "$status"
}

# Both databases are fuzzed even when the first one fails, so one run shows every failure.
failed=0
fuzz sqlite "sqlite://$scratch/fuzz.db" || failed=1

# shellcheck source=scripts/pg-address.sh
source scripts/pg-address.sh
pg_address "$pg_admin"
if pg_reachable; then
  database="warren_fuzz_$$"
  pg_url="${pg_admin%/*}/$database"
  psql "$pg_admin" -qc "CREATE DATABASE $database"
  trap 'psql "$pg_admin" -qc "DROP DATABASE IF EXISTS $database WITH (FORCE)"; cleanup' EXIT
  fuzz postgres "$pg_url" || failed=1
elif [[ "${CI:-}" == "true" ]]; then
  echo "error: Postgres is not reachable and CI=true requires it" >&2
  exit 1
else
  echo "warning: Postgres not reachable; fuzzed SQLite only" >&2
fi
exit "$failed"
