"""Scenario 5: `warren backup` during a signup load. The copy holds every user acknowledged
before the backup began, passes PRAGMA integrity_check, and a Warren started on it signs them in."""

import asyncio
import os
import subprocess
import time

from .harness import BINARY, Client, Warren, fresh_email, query

SIGNUP_WORKERS = 6


async def signup_load(client, warren, acknowledged, stop):
    while not stop.is_set():
        email = fresh_email("backup")
        status, _, _ = await client.signup(warren.base, email)
        if status == 201:
            acknowledged.append(email)
        elif not isinstance(status, int):
            await asyncio.sleep(0.05)


async def take_backup(warren, target):
    """Runs `warren backup` with the server's own configuration; (exit code, output, seconds)."""
    env = dict(warren.env, WARREN_LOG__LEVEL="warn")
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        str(BINARY), "backup", str(target), env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    return process.returncode, output.decode(errors="replace").strip(), time.monotonic() - started


async def run(report, scratch):
    scenario = "5 backup under load"
    data_dir = scratch / "backup"
    warren = Warren("backup", data_dir).start()
    await warren.ready()
    client = Client(report, scenario)
    copy = scratch / "backup-copy.db"
    restored = None
    try:
        acknowledged, stop = [], asyncio.Event()
        tasks = [asyncio.create_task(signup_load(client, warren, acknowledged, stop)) for _ in range(SIGNUP_WORKERS)]
        await asyncio.sleep(2.0)
        before = list(acknowledged)
        code, output, seconds = await take_backup(warren, copy)
        during = len(acknowledged) - len(before)
        await asyncio.sleep(1.0)
        stop.set()
        await asyncio.gather(*tasks)
        report.check(scenario, "warren backup succeeds while signups are written",
                     code == 0 and len(before) > 0 and len(acknowledged) > len(before),
                     f"exit {code} in {seconds:.2f} s; {len(before)} signups before, {during} during, "
                     f"{len(acknowledged)} in all; {output[-120:]}")
        if code != 0:
            return
        verdict = query(f"sqlite://{copy}", "PRAGMA integrity_check")
        report.check(scenario, "the copy passes PRAGMA integrity_check", verdict == [["ok"]],
                     f"{verdict[:3]}; {os.path.getsize(copy)} bytes")
        stored = {row[0] for row in query(f"sqlite://{copy}", "SELECT email FROM users")}
        missing = [email for email in before if email not in stored]
        report.check(scenario, "every user acknowledged before the backup began is in the copy", not missing,
                     f"{len(before) - len(missing)}/{len(before)} found; {len(stored)} users in the copy")
        # A second Warren on the copy, as a restore would run it.
        restored = Warren("backup-restored", scratch / "backup-restored", f"sqlite://{copy}").start()
        await restored.ready()
        sample = before[:: max(1, len(before) // 8)][:8]
        statuses = [(await client.signin(restored.base, email))[0] for email in sample]
        report.check(scenario, "a Warren started on the copy signs them in", statuses and all(s == 200 for s in statuses),
                     f"{len(sample)} tried: {statuses}")
        panicked = warren.panicked() or restored.panicked()
        report.check(scenario, "no panic in the logs", not panicked, f"{warren.log.name}, {restored.log.name}")
    finally:
        await client.close()
        warren.stop()
        if restored:
            restored.stop()
