#!/usr/bin/env bash
# Operator migrations with sqlx-cli. The folder follows DATABASE_URL's scheme:
# sqlite:… → migrations/sqlite, postgres:… → migrations/postgres.
#   scripts/migrate.sh run | revert | add NAME
set -euo pipefail
cd "$(dirname "$0")/.."

command -v sqlx >/dev/null || {
  echo "error: sqlx-cli is missing; install it with:" >&2
  echo "  cargo install --locked sqlx-cli --no-default-features --features postgres,sqlite,sqlx-toml" >&2
  exit 1
}

if [[ -z "${DATABASE_URL:-}" && -f .env ]]; then
  DATABASE_URL="$(sed -n 's/^DATABASE_URL=//p' .env | tail -n 1 | tr -d '"'"'"'')"
fi
export DATABASE_URL="${DATABASE_URL:-sqlite://data/warren.db}"

case "$DATABASE_URL" in
  sqlite:*) backend=sqlite ;;
  postgres:* | postgresql:*) backend=postgres ;;
  *) echo "error: DATABASE_URL must start with sqlite: or postgres:" >&2; exit 1 ;;
esac

case "${1:-}" in
  run)
    [[ "$backend" == sqlite ]] && mkdir -p "$(dirname "${DATABASE_URL#sqlite://}")"
    sqlx database create
    sqlx migrate run --source "migrations/$backend"
    ;;
  revert)
    sqlx migrate revert --source "migrations/$backend"
    ;;
  add)
    name="${2:?usage: migrate.sh add NAME}"
    # Every schema change needs both dialects; one timestamp keeps their versions aligned.
    version="$(date -u +%Y%m%d%H%M%S)"
    for folder in migrations/sqlite migrations/postgres; do
      printf -- '-- %s: %s\n' "$name" "$folder" > "$folder/${version}_${name}.up.sql"
      printf -- '-- revert %s\n' "$name" > "$folder/${version}_${name}.down.sql"
      echo "created $folder/${version}_${name}.{up,down}.sql"
    done
    ;;
  *)
    echo "usage: $0 run | revert | add NAME" >&2
    exit 2
    ;;
esac
