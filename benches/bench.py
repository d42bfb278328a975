#!/usr/bin/env python3
"""`make bench`: drive a release build of Warren with wrk and report its performance figures.

For each database (SQLite always, Postgres when reachable) it starts Warren on a fresh database
with per-IP limits off, measures time-to-ready and idle memory, seeds accounts and sessions, and
runs wrk (a separate process) against: health, /users/me, signin, refresh, /users/me while
signin, then forgot-password, is saturated, a 2-megapixel JPEG avatar upload, and /users/me
while uploads are saturated; then seeds 1M users and 5M refresh tokens (benches/scale.py) and
measures /users/me and signin again. Then, on fresh instances of the same database, the live-events
lines (benches/events.py: 10,000 open sockets' memory; on Postgres, an event's fan-out to 1,000
sockets over two instances). It prints every performance target with its result
(benches/report.py) and writes the table to benches/results.md; it exits non-zero when a target
is missed.
Standard library only; wrk comes from Debian's package, the WebSocket client is
benches/tools/ws_load.rs.
"""

import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import events
import report
import scale

ROOT = Path(__file__).resolve().parent.parent
BINARY = ROOT / "target/release/warren"
WRK = ROOT / "benches/wrk"
DURATION = os.environ.get("BENCH_SECONDS", "10")
ACCOUNTS = 64
PASSWORD = "benchmark pass phrase"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(base, path, body):
    request = urllib.request.Request(
        base + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def rss_kib(pid, field="VmRSS"):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def wait_ready(base, deadline_s=10.0):
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(base + "/api/health/ready", timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.002)
    raise RuntimeError("Warren did not become ready")


def wrk(base, script, connections, env, path="/", duration=DURATION):
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(WRK / script), base + path]
    output = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **env}, check=True).stdout
    return parse_wrk(output)


def parse_wrk(output):
    def latency(label):
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)", output, re.M)
        if not match:
            return float("nan")
        value, unit = float(match[1]), match[2]
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1])
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = int(non_2xx[1]) if non_2xx else 0
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return {"rate": rate, "p50": latency(50), "p99": latency(99), "errors": errors}


def seed(base, scratch):
    credentials, tokens, refresh = [], [], []
    for n in range(ACCOUNTS):
        email = f"bench-{n}@example.com"
        post(base, "/api/v1/auth/signup", {"email": email, "password": PASSWORD})
        credentials.append(f"{email}\t{PASSWORD}")
        signed_in = post(base, "/api/v1/auth/signin", {"email": email, "password": PASSWORD})
        tokens.append(signed_in["access_token"])
        refresh.append(signed_in["refresh_token"])
    files = {}
    for name, lines in [("CREDENTIALS", credentials), ("TOKENS", tokens), ("REFRESH", refresh)]:
        path = Path(scratch) / name.lower()
        path.write_text("\n".join(lines) + "\n")
        files[f"WARREN_BENCH_{name}"] = str(path)
    return files


def timed_signin(base, email):
    started = time.monotonic()
    request = urllib.request.Request(
        base + "/api/v1/auth/signin",
        data=json.dumps({"email": email, "password": "not the password at all"}).encode(),
        headers={"content-type": "application/json"},
    )
    try:
        urllib.request.urlopen(request, timeout=10)
    except urllib.error.HTTPError as error:
        if error.code != 401:
            raise
    return (time.monotonic() - started) * 1000


def enumeration_timing(base):
    """Median ms of a wrong-password signin for known vs unknown emails, interleaved, one
    attempt per email so the backoff never applies. Both must take about as long, or the
    timing tells which emails have accounts."""
    known, unknown = [], []
    for n in range(min(ACCOUNTS, 20)):
        known.append(timed_signin(base, f"bench-{n}@example.com"))
        unknown.append(timed_signin(base, f"nobody-{n}@example.com"))
    return {"known": statistics.median(known), "unknown": statistics.median(unknown)}


def start_server(database_url, scratch, extra_env=None):
    """Starts Warren on a free port; returns the process, its base URL and ms until ready."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "WARREN_DATA_DIR": str(Path(scratch) / "data"),
        "WARREN_SERVER__PORT": str(port),
        "WARREN_RATE_LIMIT__ENABLED": "false",
        "WARREN_LOG__LEVEL": "warn",
        **(extra_env or {}),
    }
    started = time.monotonic()
    server = subprocess.Popen([str(BINARY), "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_ready(base)
    except RuntimeError:
        stop(server)
        raise
    return server, base, (time.monotonic() - started) * 1000


def stop(*servers):
    for server in servers:
        server.terminate()
    for server in servers:
        server.wait(timeout=10)


def run_backend(database_url, scratch, instances):
    server, base, ready_ms = start_server(database_url, scratch)
    try:
        time.sleep(0.5)
        idle_kib = rss_kib(server.pid)
        files = seed(base, scratch)
        rows = {}
        timing = enumeration_timing(base)
        rows["GET /api/health"] = wrk_plain(base, "/api/health")
        rows["GET /api/v1/users/me"] = wrk(base, "me.lua", 32, files)
        single_ms, bound = argon2_bound()  # just before the run it bounds: the machine drifts
        rows[report.SIGNIN] = wrk(base, "signin.lua", 16, files)
        signin_peak_kib = rss_kib(server.pid, "VmHWM")
        rows["POST /api/v1/auth/refresh"] = wrk(base, "refresh.lua", 32, files)
        rows["GET /users/me during signin flood"] = me_during_flood(base, files, "signin.lua")
        rows["GET /users/me during forgot-password flood"] = me_during_flood(base, files, "forgot.lua")
        uploads = {**files, "WARREN_BENCH_JPEG": avatar_jpeg(scratch)}
        rows["PUT avatar, 2-MP JPEG, one at a time"] = wrk(base, "avatar.lua", 1, uploads)
        rows["GET /users/me during avatar upload flood"] = me_during_flood(base, uploads, "avatar.lua")
        result = {"ready_ms": ready_ms, "idle_kib": idle_kib, "peak_kib": signin_peak_kib, "timing": timing,
                  "single_ms": single_ms, "bound": bound,
                  "upload_peak_kib": rss_kib(server.pid, "VmHWM"),
                  "after_kib": rss_kib(server.pid), "rows": rows}
    finally:
        stop(server)
    result.update(run_scale(database_url, scratch, files))
    result.update(run_events(database_url, scratch, files, instances))
    return result


def run_scale(database_url, scratch, files):
    """`/users/me` and signin again once the database holds 1M users and 5M refresh tokens,
    on a fresh instance of it (same keys, so the seeded tokens hold)."""
    seed_s = scale.seed(database_url)
    server, base, _ = start_server(database_url, scratch)
    try:
        rows = {
            f"{report.ME}, {scale.LABEL}": wrk(base, "me.lua", 32, files),
            f"{report.SIGNIN}, {scale.LABEL}": wrk(base, "signin.lua", 16, files),
        }
    finally:
        stop(server)
    return {"seed_s": seed_s, "scale_rows": rows}


def run_events(database_url, scratch, files, instances):
    """The live-events lines, on fresh instances of the same database (same keys, so the
    seeded tokens hold): sockets' memory on the first, the fan-out across `instances`."""
    servers = []
    try:
        for _ in range(instances):
            servers.append(start_server(database_url, scratch, events.SOCKET_CAP))
        (first, base, _), bases = servers[0], [base for _, base, _ in servers]
        result = {"sockets": events.open_sockets_memory(first, base, files["WARREN_BENCH_TOKENS"], rss_kib)}
        if instances > 1:
            token = Path(files["WARREN_BENCH_TOKENS"]).read_text().split()[0]
            result["fanout"] = events.fanout(bases, token)
        return result
    finally:
        stop(*(server for server, _, _ in servers))


def wrk_plain(base, path):
    command = ["wrk", "-t1", "-c32", f"-d{DURATION}s", "--latency", base + path]
    return parse_wrk(subprocess.run(command, capture_output=True, text=True, check=True).stdout)


def avatar_jpeg(scratch):
    path = Path(scratch) / "avatar.jpg"
    subprocess.run(
        ["cargo", "run", "--release", "--locked", "--quiet", "--example", "avatar_jpeg", "--", str(path)],
        cwd=ROOT, capture_output=True, check=True,
    )
    return str(path)


def me_during_flood(base, files, flood_script):
    flood_seconds = str(int(DURATION) + 4)
    flood = subprocess.Popen(
        ["wrk", "-t1", "-c16", f"-d{flood_seconds}s", "-s", str(WRK / flood_script), base + "/"],
        env={**os.environ, **files}, stdout=subprocess.DEVNULL,
    )
    try:
        time.sleep(2)
        return wrk(base, "me.lua", 32, files)
    finally:
        flood.wait()


def argon2_bound():
    output = subprocess.run(
        ["cargo", "run", "--release", "--locked", "--quiet", "--example", "argon2_bound"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout
    fields = dict(part.split("=") for part in output.split())
    return float(fields["single_hash_ms"]), float(fields["bound_per_sec"])


def postgres_database():
    admin = os.environ.get("POSTGRES_TEST_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    authority = admin.split("://", 1)[1].split("/", 1)[0].rsplit("@", 1)[-1]
    host, _, port = authority.partition(":")
    try:
        socket.create_connection((host, int(port or 5432)), timeout=2).close()
    except OSError:
        return None, None
    name = f"warren_bench_{os.getpid()}"
    subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {name}"], check=True)
    return admin, admin.rsplit("/", 1)[0] + "/" + name


def warm_up():
    """One untimed start, so that "ready after start" measures Warren's start-up work rather
    than the disk: right after a build (or with a cold page cache) the first exec reads the
    binary from disk, which took 0.3–1.1 s on this machine's virtual disk against 50–120 ms
    warm."""
    with tempfile.TemporaryDirectory() as scratch:
        server, _, _ = start_server(f"sqlite://{scratch}/warm-up.db", scratch)
        stop(server)


def cpu_ticks():
    """The machine's CPU time so far, by kind (/proc/stat: user nice system idle iowait irq
    softirq steal …)."""
    return [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]


def steal_note(start, end):
    """How much CPU the virtual machine's host took away during the run: p99 latencies move
    with it, so the table says it."""
    spent = [b - a for a, b in zip(start, end)]
    steal = 100 * spent[7] / max(1, sum(spent)) if len(spent) > 7 else 0.0
    return f"\nCPU steal during the run (time the virtual machine's host took away): {steal:.1f} %.\n"


def main():
    if not BINARY.exists():
        sys.exit(f"{BINARY} is missing: run `cargo build --release` first")
    events.build_client()
    subprocess.run(["cargo", "build", "--release", "--locked", "--quiet", "--example", "argon2_bound"],
                   cwd=ROOT, check=True)
    warm_up()
    ticks = cpu_ticks()
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        results["SQLite"] = run_backend(f"sqlite://{scratch}/bench.db", scratch, instances=1)
    admin, url = postgres_database()
    if url:
        try:
            with tempfile.TemporaryDirectory() as scratch:
                results["Postgres"] = run_backend(url, scratch, instances=2)
        finally:
            subprocess.run(["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)"])
    else:
        print("Postgres not reachable: SQLite figures only", file=sys.stderr)
    table, missed = report.render(results, DURATION)
    table += steal_note(ticks, cpu_ticks())
    (ROOT / "benches/results.md").write_text("# `make bench` results\n\n" + table)
    print(table)
    if missed:
        sys.exit("performance targets missed: " + "; ".join(missed))


if __name__ == "__main__":
    main()
