"""The live-events performance targets for `make bench`, driven by benches/tools/ws_load.rs
(tokio-tungstenite):

- the resident memory 10,000 open sockets add, on a freshly started instance (a process that
  already ran the floods keeps freed memory and would hide what the sockets cost);
- how long an event takes to reach 1,000 sockets of one user spread over two instances on one
  Postgres (the second instance hears it through LISTEN/NOTIFY).
"""

import os
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOAD = ROOT / "target/release/examples/ws_load"
SOCKETS = int(os.environ.get("BENCH_SOCKETS", "10000"))
FANOUT_SOCKETS = 1000
FANOUT_ROUNDS = int(os.environ.get("BENCH_FANOUT_ROUNDS", "10"))
# The per-user socket cap defaults to 16; the bench spreads sockets over the seeded accounts,
# and the fan-out puts 1,000 on one user, so both instances allow the configurable maximum.
SOCKET_CAP = {"WARREN_EVENTS__MAX_SOCKETS_PER_USER": "1000"}


def build_client():
    subprocess.run(
        ["cargo", "build", "--release", "--locked", "--quiet", "--example", "ws_load"],
        cwd=ROOT, check=True,
    )


def parse_fields(line):
    return {key: float(value) for key, value in (part.split("=") for part in line.split())}


def open_sockets_memory(server, base, tokens_file, rss_kib):
    """RSS of `server` before and with SOCKETS open sockets (cycling through the seeded users'
    tokens); the sockets are held open while the second figure is read."""
    time.sleep(0.5)
    before = rss_kib(server.pid)
    url = base.replace("http://", "ws://") + "/api/v1/events"
    holder = subprocess.Popen(
        [str(LOAD), "hold", url, tokens_file, str(SOCKETS)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        line = holder.stdout.readline()
        if not line.startswith("opened="):
            raise RuntimeError(f"ws_load hold failed: {line!r}")
        fields = parse_fields(line)
        time.sleep(1)
        after = rss_kib(server.pid)
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    return {"sockets": int(fields["opened"]), "open_seconds": fields["seconds"],
            "before_kib": before, "after_kib": after}


def fanout(bases, token):
    """Event latency to FANOUT_SOCKETS sockets of one user spread over `bases` (instances on
    one database): ws_load changes the user's name through the first instance, FANOUT_ROUNDS
    times, and times each socket's `user_updated`."""
    urls = [base.replace("http://", "ws://") + "/api/v1/events" for base in bases]
    command = [str(LOAD), "fanout", bases[0], token, str(FANOUT_SOCKETS), str(FANOUT_ROUNDS), *urls]
    output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=300).stdout
    fields = parse_fields(output.strip().splitlines()[-1])
    fields["instances"] = len(bases)
    return fields
