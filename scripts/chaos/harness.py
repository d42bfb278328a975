"""What every scenario shares: the report table, Warren processes, databases, HTTP with status counts."""

import asyncio
import collections
import ctypes
import json
import os
import signal
import socket
import sqlite3
import subprocess
import time
import uuid
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
BINARY = ROOT / "target/release/warren"
SCRATCH = Path(os.environ.get("CHAOS_SCRATCH", "/tmp/warren-chaos"))
PG_ADMIN = os.environ.get("POSTGRES_TEST_URL", "postgres://postgres@127.0.0.1:5432/postgres")
DB_PREFIX = os.environ.get("CHAOS_DB_PREFIX", f"warren_chaos_{os.getpid()}")
CI = os.environ.get("CI") == "true"
PASSWORD = "chaos monkey pass phrase"


class Skip(Exception):
    """A scenario cannot run on this machine (never allowed with CI=true)."""


class Report:
    """The table: one row per check, and the HTTP statuses each scenario saw."""

    def __init__(self):
        self.rows = []
        self.statuses = collections.defaultdict(collections.Counter)

    def check(self, scenario, what, ok, figures=""):
        self.rows.append((scenario, what, "PASS" if ok else "FAIL", str(figures)))
        print(f"  [{'PASS' if ok else 'FAIL'}] {scenario}: {what} — {figures}", flush=True)
        return ok

    def skip(self, scenario, why):
        self.rows.append((scenario, "(skipped)", "FAIL" if CI else "SKIP", why))

    def failed(self):
        return any(row[2] == "FAIL" for row in self.rows)

    def table(self):
        header = ("scenario", "check", "result", "figures")
        lines = ["| " + " | ".join(header) + " |", "|---|---|---|---|"]
        lines += ["| " + " | ".join(cell.replace("|", "/") for cell in row) + " |" for row in self.rows]
        lines += ["", "| scenario | HTTP statuses seen |", "|---|---|"]
        for scenario, counts in self.statuses.items():
            seen = ", ".join(f"{status}×{n}" for status, n in sorted(counts.items(), key=lambda kv: str(kv[0])))
            lines.append(f"| {scenario} | {seen} |")
        return "\n".join(lines)


def fresh_email(prefix):
    """A fresh address, so no two runs or workers collide."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.com"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent():
    # A harness killed with SIGKILL must not leave Warren processes behind.
    ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class Warren:
    """One release-build Warren process with per-IP limits off, on a port of its own."""

    def __init__(self, name, data_dir, database_url=None, **settings):
        self.name = name
        self.data_dir = Path(data_dir)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = SCRATCH / f"{name}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("WARREN_") and k not in ("DATABASE_URL", "RUST_LOG")}
        env.update(
            WARREN_DATA_DIR=str(self.data_dir),
            WARREN_SERVER__PORT=str(self.port),
            WARREN_RATE_LIMIT__ENABLED="false",
            WARREN_LOG__LEVEL="warn",
        )
        if database_url:
            env["DATABASE_URL"] = database_url
        env.update({f"WARREN_{key.upper()}": str(value) for key, value in settings.items()})
        self.env = env
        self.process = None

    def start(self):
        with open(self.log, "a") as log:
            self.process = subprocess.Popen(
                [str(BINARY), "serve"], env=self.env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent
            )
        return self

    async def launch(self):
        self.start()
        await self.ready()
        return self

    async def ready(self, within=20.0):
        """Waits for readiness; returns the seconds it took."""
        started = time.monotonic()
        async with aiohttp.ClientSession() as http:
            while time.monotonic() - started < within:
                if self.process.poll() is not None:
                    raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.log}")
                try:
                    async with http.get(self.base + "/api/health/ready", timeout=aiohttp.ClientTimeout(total=1)) as r:
                        if r.status == 200:
                            return time.monotonic() - started
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    pass
                await asyncio.sleep(0.05)
        raise RuntimeError(f"{self.name} not ready within {within} s; see {self.log}")

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def kill9(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def panicked(self):
        return "panicked" in self.log.read_text(errors="replace") if self.log.exists() else False


class Client:
    """aiohttp with every answer's status counted under the scenario's name."""

    def __init__(self, report, scenario, timeout=30):
        self.counts = report.statuses[scenario]
        self.http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=timeout)
        )

    async def close(self):
        await self.http.close()

    async def call(self, method, url, body=None, token=None):
        """(status, json-or-None, headers); status is a string for a transport error."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            async with self.http.request(method, url, json=body, headers=headers) as response:
                raw = await response.read()
                try:
                    data = json.loads(raw) if raw else None
                except ValueError:
                    data = None
                self.counts[response.status] += 1
                return response.status, data, response.headers
        except (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError) as error:
            kind = "timeout" if isinstance(error, asyncio.TimeoutError) else "connection error"
            self.counts[kind] += 1
            return kind, None, {}

    async def signup(self, base, email, full_name=None):
        body = {"email": email, "password": PASSWORD}
        if full_name:
            body["full_name"] = full_name
        return await self.call("POST", base + "/api/v1/auth/signup", body)

    async def signin(self, base, email, password=PASSWORD):
        return await self.call("POST", base + "/api/v1/auth/signin", {"email": email, "password": password})

    async def refresh(self, base, refresh_token):
        return await self.call("POST", base + "/api/v1/auth/refresh", {"refresh_token": refresh_token})

    async def me(self, base, token):
        return await self.call("GET", base + "/api/v1/users/me", token=token)

    async def rename(self, base, token, name):
        return await self.call("PATCH", base + "/api/v1/users/me", {"full_name": name}, token)

    async def account(self, base, email):
        """Signs up and in; returns (access_token, refresh_token)."""
        status, _, _ = await self.signup(base, email)
        if status != 201:
            raise RuntimeError(f"signup of {email} answered {status}")
        status, body, _ = await self.signin(base, email)
        if status != 200:
            raise RuntimeError(f"signin of {email} answered {status}")
        return body["access_token"], body["refresh_token"]


# Databases -----------------------------------------------------------------------------------

def pg_reachable():
    return subprocess.run(["psql", "-X", "-qAt", PG_ADMIN, "-c", "SELECT 1"], capture_output=True).returncode == 0


def pg_url(database):
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + database


def pg_create(name):
    database = f"{DB_PREFIX}_{name}"
    subprocess.run(["psql", "-X", "-q", PG_ADMIN, "-c", f"CREATE DATABASE {database}"], check=True)
    return database


def pg_drop_all():
    listed = subprocess.run(
        ["psql", "-X", "-qAt", PG_ADMIN, "-c", f"SELECT datname FROM pg_database WHERE datname LIKE '{DB_PREFIX}%'"],
        capture_output=True, text=True,
    ).stdout.split()
    for database in listed:
        subprocess.run(["psql", "-X", "-q", PG_ADMIN, "-c", f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"])


async def pg_listeners(database, expected):
    """Waits (up to 10 s) until `expected` instances LISTEN for account events on `database`."""
    for _ in range(100):
        rows = query(PG_ADMIN, f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{database}' AND query ILIKE 'LISTEN%'")
        if int(rows[0][0]) >= expected:
            return True
        await asyncio.sleep(0.1)
    return False


def query(database_url, sql):
    """Rows of a query, as lists of strings, on SQLite (a sqlite:// URL) or Postgres."""
    if database_url.startswith("sqlite://"):
        path = database_url.removeprefix("sqlite://").split("?")[0]
        connection = sqlite3.connect(path, timeout=10)
        try:
            return [[str(v) for v in row] for row in connection.execute(sql).fetchall()]
        finally:
            connection.close()
    out = subprocess.run(["psql", "-X", "-qAt", "-F", "\t", database_url, "-c", sql], capture_output=True, text=True, check=True)
    return [line.split("\t") for line in out.stdout.splitlines()]


def hex_of(database_url, column):
    return f"lower(hex({column}))" if database_url.startswith("sqlite://") else f"encode({column}, 'hex')"


def in_future(database_url, column):
    """SQL: `column` holds a time still ahead (SQLite stores RFC 3339 text, Postgres timestamptz)."""
    if database_url.startswith("sqlite://"):
        return f"julianday({column}) > julianday('now')"
    return f"{column} > now()"
