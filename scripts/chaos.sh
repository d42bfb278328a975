#!/usr/bin/env bash
# `make chaos`: the fault and scale-out scenarios (scripts/chaos/) against a release build:
# kill -9 under load, a full SQLite volume (a tmpfs: needs root), a Postgres cut through a TCP
# proxy, an SMTP outage, three instances on one Postgres, a backup under load. Prints a table;
# exits non-zero on any failed check, and with CI=true on any skipped scenario. Whatever a run
# creates (processes, the tmpfs, scratch files, databases named warren_chaos_<pid>_*) is removed
# on any exit.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/chaos-venv
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import aiohttp, aiosmtpd' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check aiohttp==3.14.5 aiosmtpd==1.4.6
fi
cargo build --release --locked --quiet

export CHAOS_SCRATCH CHAOS_DB_PREFIX="warren_chaos_$$"
CHAOS_SCRATCH="$(mktemp -d -t warren-chaos.XXXXXX)"
pg_admin="${POSTGRES_TEST_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
harness=""
cleanup() {
  set +e # clean up as much as possible, whatever fails
  if [[ -n "$harness" ]]; then
    kill "$harness" 2>/dev/null
    wait "$harness" 2>/dev/null
  fi
  # Warren processes die with the harness (PR_SET_PDEATHSIG); mounts and databases may remain.
  findmnt -rn -o TARGET | grep -F "$CHAOS_SCRATCH/" | xargs -r -n1 umount -l 2>/dev/null
  for database in $(psql -X -qAt "$pg_admin" \
    -c "SELECT datname FROM pg_database WHERE datname LIKE '${CHAOS_DB_PREFIX}_%'" 2>/dev/null); do
    psql -X -q "$pg_admin" -c "DROP DATABASE IF EXISTS $database WITH (FORCE)"
  done
  rm -rf "$CHAOS_SCRATCH"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PYTHONDONTWRITEBYTECODE=1 PYTHONPATH=scripts "$venv/bin/python" -m chaos &
harness=$!
status=0
wait "$harness" || status=$?
harness=""
exit "$status"
