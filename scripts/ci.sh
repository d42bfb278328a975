#!/usr/bin/env bash
# `make ci`: the whole gate, the one .ci/run calls once the machine has its tools. Runs each
# step in order and stops at the first that fails; either way it ends with a table of every
# step's duration and status, so a slow or failing step is visible at a glance.
# CI=true by default here: Postgres is required and no chaos scenario may be skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
export CI="${CI:-true}"
export FUZZ_SECONDS="${FUZZ_SECONDS:-60}"

steps=(lint test deny fuzz-api chaos e2e interop migrations)
declare -A seconds=() outcome=()
current=""
started=0

# The durations table, on any exit: success, a failed step (set -e), or an interrupt.
report() {
  local status=$?
  if [[ -n "$current" ]]; then
    seconds[$current]=$((SECONDS - started))
    outcome[$current]="failed (exit $status)"
  fi
  printf '\n%-12s %8s  %s\n' step seconds status
  for step in "${steps[@]}"; do
    printf '%-12s %8s  %s\n' "$step" "${seconds[$step]:--}" "${outcome[$step]:-not run}"
  done
  printf '%-12s %8s  %s\n' total "$SECONDS" "$([[ $status == 0 ]] && echo passed || echo failed)"
  exit "$status"
}
trap report EXIT
trap 'exit 130' INT TERM

# Applies and reverts every migration with sqlx-cli on a scratch SQLite file.
migrations() {
  local scratch
  scratch="$(mktemp -d)"
  DATABASE_URL="sqlite://$scratch/ci.db" make migrate
  DATABASE_URL="sqlite://$scratch/ci.db" make migrate-revert
  rm -rf "$scratch"
}

for step in "${steps[@]}"; do
  printf '\n== %s\n' "$step"
  current=$step
  started=$SECONDS
  if [[ "$step" == migrations ]]; then
    migrations
  else
    make "$step"
  fi
  seconds[$step]=$((SECONDS - started))
  outcome[$step]=passed
  current=""
done
