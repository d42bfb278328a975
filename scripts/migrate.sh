#!/usr/bin/env bash
# Operator migrations with sqlx-cli, on the database `warren` itself would use: the URL comes
# from `warren check-config --print-database-url`, so WARREN_DATA_DIR, warren.toml, .env,
# DATABASE_URL and WARREN_DATABASE__URL count exactly as they do for `warren serve`.
# The migrations folder follows the URL's scheme (migrations/sqlite or migrations/postgres).
#   scripts/migrate.sh run | revert | add NAME | url
# WARREN_BIN names a built binary to ask; by default `cargo run` builds and asks it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

warren() {
  if [[ -n "${WARREN_BIN:-}" ]]; then
    env -u WARREN_BIN "$WARREN_BIN" "$@"
  else
    cargo run --locked --quiet --manifest-path "$root/Cargo.toml" -- "$@"
  fi
}

database_url() { warren check-config --print-database-url; }

# Like `warren`: only data_dir's own SQLite database may be created together with its folder;
# any other file needs its folder to exist (a typo must not create an empty database).
prepare_sqlite_folder() {
  local file="${1#sqlite:}" data_dir
  file="${file#//}"
  file="${file%%\?*}"
  data_dir="$(warren check-config --print-data-dir)"
  if [[ ! -d "$(dirname "$file")" ]]; then
    if [[ "$(dirname "$file")" -ef "$data_dir" || "$(dirname "$file")" == "${data_dir%/}" ]]; then
      mkdir -p "$(dirname "$file")"
    else
      echo "error: the folder $(dirname "$file") of the SQLite database does not exist; create it or fix the path" >&2
      exit 1
    fi
  fi
}

need_sqlx() {
  command -v sqlx >/dev/null || {
    echo "error: sqlx-cli is missing; install it with:" >&2
    echo "  cargo install --locked sqlx-cli --no-default-features --features postgres,sqlite,sqlx-toml" >&2
    exit 1
  }
}

backend_of() {
  case "$1" in
    sqlite:*) echo sqlite ;;
    postgres:* | postgresql:*) echo postgres ;;
    *) echo "error: the database URL must start with sqlite: or postgres:" >&2; exit 1 ;;
  esac
}

case "${1:-}" in
  url)
    database_url
    ;;
  run | revert)
    need_sqlx
    DATABASE_URL="$(database_url)"
    export DATABASE_URL
    backend="$(backend_of "$DATABASE_URL")"
    if [[ "$1" == run ]]; then
      [[ "$backend" == sqlite ]] && prepare_sqlite_folder "$DATABASE_URL"
      sqlx database create
      sqlx migrate run --source "$root/migrations/$backend"
    else
      sqlx migrate revert --source "$root/migrations/$backend"
    fi
    ;;
  add)
    name="${2:?usage: migrate.sh add NAME}"
    # Every schema change needs both dialects; one timestamp keeps their versions aligned.
    version="$(date -u +%Y%m%d%H%M%S)"
    for folder in "$root/migrations/sqlite" "$root/migrations/postgres"; do
      printf -- '-- %s: %s\n' "$name" "${folder#"$root/"}" > "$folder/${version}_${name}.up.sql"
      printf -- '-- revert %s\n' "$name" > "$folder/${version}_${name}.down.sql"
      echo "created ${folder#"$root/"}/${version}_${name}.{up,down}.sql"
    done
    ;;
  *)
    echo "usage: $0 run | revert | add NAME | url" >&2
    exit 2
    ;;
esac
