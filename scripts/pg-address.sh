# Sourced by scripts that need Postgres's address. Sets pg_host and pg_port from a
# postgres:// URL (user, password, database and query ignored; port 5432 when absent).
#   pg_address "postgres://user:pw@db.example/warren"   # pg_host=db.example pg_port=5432
pg_address() {
  local authority="${1#*://}"
  authority="${authority%%/*}"
  authority="${authority%%\?*}"
  authority="${authority##*@}"
  if [[ "$authority" == \[* ]]; then # [IPv6]:port
    pg_host="${authority#\[}"
    pg_host="${pg_host%%]*}"
    pg_port="${authority##*]}"
    pg_port="${pg_port#:}"
  elif [[ "$authority" == *:* ]]; then
    pg_host="${authority%:*}"
    pg_port="${authority##*:}"
  else
    pg_host="$authority"
    pg_port=""
  fi
  pg_port="${pg_port:-5432}"
  pg_host="${pg_host:-127.0.0.1}"
}

# Whether something accepts TCP connections at pg_host:pg_port within three seconds.
pg_reachable() {
  timeout 3 bash -c "exec 3<>/dev/tcp/$pg_host/$pg_port" 2>/dev/null
}
