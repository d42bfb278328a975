#!/usr/bin/env bash
# Walks an account through its whole life against a running Warren, showing each request's
# status and body: sign up, sign in, read and change the profile, list sessions, refresh,
# delete. Stops at the first unexpected status and says why; the account it created is deleted
# even then. Safe to run again and again: a fresh email each run, and only three requests per
# run count against the per-IP signup/signin/refresh limit (10 a minute by default).
#   scripts/try.sh [BASE_URL]        (default http://127.0.0.1:8000; `make try`)
set -euo pipefail

base="${1:-http://127.0.0.1:8000}"
api="$base/api/v1"
email="try-$(date +%s)-$RANDOM@example.com"
password="try it out $RANDOM$RANDOM passphrase"
body_file="$(mktemp)"
header_file="$(mktemp)"
token=""

command -v curl >/dev/null || { echo "error: try.sh needs curl" >&2; exit 1; }

show_body() {
  if [[ ! -s "$body_file" ]]; then
    echo "   (no body)"
  elif command -v jq >/dev/null && jq . "$body_file" >/dev/null 2>&1; then
    jq . "$body_file" | sed 's/^/   /'
  else
    sed 's/^/   /' "$body_file"
    echo
  fi
}

# call EXPECTED-STATUS METHOD PATH [JSON-BODY]: prints the step, fails on any other status.
call() {
  local expected=$1 method=$2 path=$3 data=${4:-} status
  local args=(-sS -o "$body_file" -D "$header_file" -w '%{http_code}' -X "$method" "$api$path")
  [[ -n "$token" ]] && args+=(-H "authorization: Bearer $token")
  [[ -n "$data" ]] && args+=(-H 'content-type: application/json' -d "$data")
  echo "-> $method $path"
  status="$(curl "${args[@]}")" || { echo "error: cannot reach $base (is warren serve running?)" >&2; exit 1; }
  echo "<- $status"
  show_body
  if [[ "$status" != "$expected" ]]; then
    echo "error: $method $path answered $status, expected $expected" >&2
    [[ "$status" == 429 ]] && echo "       rate limited: wait a minute, then run again" >&2
    exit 1
  fi
}

# A field of the last JSON body, without jq if need be.
field() {
  if command -v jq >/dev/null; then
    jq -er ".$1" "$body_file"
  else
    sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" "$body_file"
  fi
}

# Seconds the last answer asked us to wait (Retry-After), at most a minute.
retry_after() {
  local seconds
  seconds="$(tr -d '\r' < "$header_file" | sed -n 's/^retry-after: *//Ip' | head -n 1)"
  [[ "$seconds" =~ ^[0-9]+$ ]] || seconds=6
  echo $((seconds > 60 ? 60 : seconds))
}

# Deletes the account this run created, whatever failed; signs in for it if it must, waiting
# out a rate limit rather than leaving the account behind.
cleanup() {
  local status=$? attempt
  if [[ "$signed_up" == true && -z "$token" ]]; then
    for attempt in 1 2 3; do
      (call 200 POST /auth/signin "{\"email\":\"$email\",\"password\":\"$password\"}") >/dev/null 2>&1 \
        && { token="$(field access_token)"; break; }
      echo "== cleanup: signin for $email refused; retrying in $(retry_after) s (attempt $attempt)"
      sleep "$(retry_after)"
    done
  fi
  if [[ "$signed_up" == true && -n "$token" ]]; then
    echo "== cleanup: deleting $email"
    (call 204 DELETE /users/me "{\"current_password\":\"$password\"}") || status=1
  elif [[ "$signed_up" == true ]]; then
    echo "warning: could not delete $email; it is left behind" >&2
    status=1
  fi
  rm -f "$body_file" "$header_file"
  exit "$status"
}
signed_up=false
trap cleanup EXIT

echo "== sign up $email"
call 201 POST /auth/signup "{\"email\":\"$email\",\"password\":\"$password\",\"full_name\":\"Ada Lovelace\"}"
signed_up=true

echo "== sign in"
call 200 POST /auth/signin "{\"email\":\"$email\",\"password\":\"$password\"}"
token="$(field access_token)"
refresh="$(field refresh_token)"
[[ -n "$token" && -n "$refresh" ]] || { echo "error: the signin answer had no tokens" >&2; exit 1; }

echo "== who am I"
call 200 GET /users/me

echo "== change my name"
call 200 PATCH /users/me '{"full_name":"Countess of Lovelace"}'

echo "== my sessions"
call 200 GET /users/me/sessions

echo "== refresh: a new access token and a rotated refresh token (the old one is spent)"
call 200 POST /auth/refresh "{\"refresh_token\":\"$refresh\"}"
token="$(field access_token)"

echo "== delete the account"
call 204 DELETE /users/me "{\"current_password\":\"$password\"}"
signed_up=false

echo "== the old token no longer works"
call 401 GET /users/me
echo "done: every step answered as expected"
