"""Scenario 2: the SQLite volume fills up (a small tmpfs and a filler file). Writes answer 503
with Retry-After, reads keep working, writes succeed again once space returns (no restart), the
database passes `PRAGMA integrity_check` and no acknowledged write is lost."""

import asyncio
import collections
import subprocess
import time

from .harness import Client, Skip, Warren, fresh_email, query

VOLUME = "24m"


def mount(path):
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={VOLUME}", "tmpfs", str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        raise Skip(f"cannot mount a tmpfs: {done.stderr.strip()}")


def fill(path):
    """Writes `path` until the volume refuses another byte; returns the bytes written."""
    written = 0
    with open(path, "wb", buffering=0) as filler:
        for chunk in (1 << 20, 4096, 1):
            block = b"\0" * chunk
            while True:
                try:
                    written += filler.write(block)
                except OSError:
                    break
    return written


def refusal(answer):
    status, body, headers = answer
    return status == 503 and (body or {}).get("code") == "service_unavailable" and "Retry-After" in headers


async def run(report, scratch):
    scenario = "2 full SQLite volume"
    volume = scratch / "volume"
    mount(volume)
    warren = Warren("disk", volume / "data")
    database_url = f"sqlite://{volume / 'data' / 'warren.db'}"
    client = Client(report, scenario)
    try:
        await warren.launch()
        owner = fresh_email("disk")
        token, refresh = await client.account(warren.base, owner)
        acknowledged = [owner]
        for _ in range(4):
            email = fresh_email("disk")
            if (await client.signup(warren.base, email))[0] == 201:
                acknowledged.append(email)
        filled = fill(volume / "filler")
        name, first_refusal, writes = None, None, 0
        # Keep writing (a rotation adds a row; a rename rewrites one) until the disk says no.
        while first_refusal is None and writes < 4000:
            writes += 1
            answer = await client.refresh(warren.base, refresh)
            if answer[0] == 200:
                refresh = answer[1]["refresh_token"]
                answer = await client.rename(warren.base, token, f"Name {writes}")
                if answer[0] == 200:
                    name = f"Name {writes}"
                    continue
            first_refusal = answer
        report.check(scenario, "a write on the full volume → 503 service_unavailable + Retry-After",
                     first_refusal is not None and refusal(first_refusal),
                     f"filler {filled >> 20} MiB; refused after {writes} more writes: "
                     f"{first_refusal[0] if first_refusal else 'never'}, Retry-After "
                     f"{first_refusal[2].get('Retry-After') if first_refusal else '-'}")
        await while_full(report, scenario, client, warren, token, refresh, name)
        (volume / "filler").unlink()
        await after_space_returns(report, scenario, client, warren, token, acknowledged)
        warren.stop()
        integrity = query(database_url, "PRAGMA integrity_check")
        report.check(scenario, "PRAGMA integrity_check", integrity == [["ok"]], integrity)
        stored = {row[0] for row in query(database_url, "SELECT email FROM users")}
        kept = sum(email in stored for email in acknowledged)
        report.check(scenario, "no acknowledged signup lost", kept == len(acknowledged), f"{kept}/{len(acknowledged)}")
        report.check(scenario, "no panic in the log", not warren.panicked(), warren.log.name)
    finally:
        await client.close()
        warren.stop()
        subprocess.run(["umount", str(volume)])


async def while_full(report, scenario, client, warren, token, refresh, name):
    base = warren.base
    writes = {
        "signup": await client.signup(base, fresh_email("late")),
        "refresh": await client.refresh(base, refresh),
        "rename": await client.rename(base, token, "Never Stored"),
    }
    report.check(scenario, "signup, refresh and rename all refused with 503 + Retry-After",
                 all(refusal(a) for a in writes.values()), {k: a[0] for k, a in writes.items()})
    burst = await asyncio.gather(*[client.refresh(base, refresh) for _ in range(20)],
                                 *[client.rename(base, token, f"Burst {i}") for i in range(20)],
                                 *[client.me(base, token) for _ in range(20)])
    report.check(scenario, "under a concurrent burst: 40 writes → 503, 20 reads → 200",
                 all(refusal(a) for a in burst[:40]) and all(a[0] == 200 for a in burst[40:]),
                 dict(collections.Counter(a[0] for a in burst)))
    me = await client.me(base, token)
    ready = await client.call("GET", base + "/api/health/ready")
    sessions = await client.call("GET", base + "/api/v1/users/me/sessions", token=token)
    report.check(scenario, "reads keep working: /users/me, sessions, readiness",
                 me[0] == 200 and sessions[0] == 200 and ready[0] == 200 and (me[1] or {}).get("full_name") == name,
                 f"/users/me {me[0]} (full_name = last acknowledged: {(me[1] or {}).get('full_name') == name}), "
                 f"sessions {sessions[0]}, ready {ready[0]}")


async def after_space_returns(report, scenario, client, warren, token, acknowledged):
    pid = warren.process.pid
    started, attempts, status = time.monotonic(), 0, None
    while status != 200 and attempts < 20:
        attempts += 1
        status = (await client.rename(warren.base, token, "After The Storm"))[0]
        if status != 200:
            await asyncio.sleep(0.25)
    email = fresh_email("after")
    signup = (await client.signup(warren.base, email))[0]
    if signup == 201:
        acknowledged.append(email)
    me = await client.me(warren.base, token)
    report.check(scenario, "writes succeed again once space returns, no restart",
                 status == 200 and signup == 201 and warren.alive() and warren.process.pid == pid
                 and (me[1] or {}).get("full_name") == "After The Storm",
                 f"rename 200 after {attempts} attempt(s) in {time.monotonic() - started:.2f} s; signup {signup}; same process")
