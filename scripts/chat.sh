#!/usr/bin/env bash
# `make chat`: Warren on :8000 and the chat service on :8001 together, for trying the chat
# example locally (SQLite, development keys in ./data and ./data-chat). Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --locked -p warren -p warren-chat
pids=()
stop() {
  trap - EXIT INT TERM
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop EXIT INT TERM

target/debug/warren serve &
pids+=($!)
# The chat service fetches Warren's keys at start, so wait until Warren listens.
for _ in $(seq 1 50); do
  (exec 3<>/dev/tcp/127.0.0.1/8000) 2>/dev/null && break
  sleep 0.2
done
target/debug/warren-chat serve &
pids+=($!)

cat <<'TEXT'

Warren: http://127.0.0.1:8000   chat: http://127.0.0.1:8001 (Swagger UI at /docs)
Sign up once, then chat from another terminal:
  curl -s -X POST localhost:8000/api/v1/auth/signup -H 'content-type: application/json' \
    -d '{"email":"ada@example.com","password":"correct horse battery","full_name":"Ada Lovelace"}'
  cargo run -q -p warren-chat --bin chat-cli -- --email ada@example.com --room General
Ctrl-C stops both services.

TEXT
wait -n "${pids[@]}"
