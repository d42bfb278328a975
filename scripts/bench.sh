#!/usr/bin/env bash
# `make bench`: release build, then benches/bench.py drives it with wrk (installed from Debian's
# packages when missing) and benches/tools/ws_load.rs (event sockets), and writes benches/results.md.
# Every performance target in one run, about 6 minutes (BENCH_SECONDS per wrk run, default 10). Not
# part of CI: figures need a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null; then
  echo "installing wrk (Debian package)…"
  apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
fi
cargo build --release --locked --quiet
exec python3 benches/bench.py
