"""`make chaos`: the fault and scale-out scenarios against a release build of Warren.

Prints one table row per check (scenario, check, result, figures) and the HTTP statuses each
scenario saw, and exits 1 when any check failed (or, with CI=true, any scenario was skipped).
scripts/chaos.sh builds, provides the scratch folder and cleans up whatever a crash leaves.
"""

import asyncio
import os
import sys
import time
import traceback

from . import backup, crash, cut, disk, scale
from .harness import CI, SCRATCH, Report, Skip, pg_create, pg_drop_all, pg_reachable, pg_url


# CHAOS_ONLY=3,4 runs only those scenarios (not with CI=true: CI runs everything).
ONLY = {part.strip() for part in os.environ.get("CHAOS_ONLY", "").split(",") if part.strip()}


async def scenario(report, name, needs_postgres, postgres, run):
    if ONLY and name.split()[0] not in ONLY:
        return
    print(f"\n== {name}", flush=True)
    started = time.monotonic()
    if needs_postgres and not postgres:
        report.skip(name, "Postgres is not reachable")
        return
    try:
        await run()
    except Skip as reason:
        report.skip(name, str(reason))
        return
    except Exception as error:  # a scenario that breaks is a failed check, and the rest still run
        traceback.print_exc()
        report.check(name, "ran to the end", False, repr(error)[:200])
    counts = report.statuses[name]
    errors = {status: n for status, n in counts.items() if isinstance(status, int) and status >= 500 and status != 503}
    report.check(name, "no 500 (nor any 5xx but 503)", not errors,
                 f"{sum(counts.values())} answers in {time.monotonic() - started:.0f} s" + (f"; {errors}" if errors else ""))


async def main():
    if ONLY and CI:
        print("error: CHAOS_ONLY is for local runs; CI=true runs every scenario", file=sys.stderr)
        return 2
    SCRATCH.mkdir(parents=True, exist_ok=True)
    report = Report()
    postgres = pg_reachable()
    try:
        await scenario(report, "1 kill -9 (sqlite)", False, postgres,
                       lambda: crash.run(report, "sqlite", SCRATCH / "crash-sqlite", None))
        await scenario(report, "1 kill -9 (postgres)", True, postgres,
                       lambda: crash.run(report, "postgres", SCRATCH / "crash-pg", pg_url(pg_create("crash"))))
        await scenario(report, "2 full SQLite volume", False, postgres, lambda: disk.run(report, SCRATCH))
        await scenario(report, "3 Postgres cut, SMTP down", True, postgres,
                       lambda: cut.run(report, SCRATCH, pg_create("cut")))
        await scenario(report, "4 three instances", True, postgres,
                       lambda: scale.run(report, SCRATCH, pg_create("scale")))
        await scenario(report, "5 backup under load", False, postgres, lambda: backup.run(report, SCRATCH))
    finally:
        if postgres:
            pg_drop_all()
    if report.failed():
        for log in sorted(SCRATCH.glob("*.log")):  # the servers' side of what went wrong
            print(f"\n== last lines of {log.name}")
            print("\n".join(log.read_text(errors="replace").splitlines()[-25:]))
    print("\n" + report.table())
    return 1 if report.failed() else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
