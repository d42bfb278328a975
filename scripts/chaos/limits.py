"""Scenario 4, continued: the per-IP credential limit is shared by every instance on Postgres."""

import asyncio
import collections
import time

from .harness import Warren, fresh_email

ATTEMPTS = 60
# The default credential limit: at most 20 requests from one client in any 60 s.
MOST_IN_A_MINUTE = 20


async def shared_limit(report, scenario, client, scratch, url, key):
    """Three more instances on the same database, per-IP limits on (the others run without):
    60 signins from one client spread round-robin over them, half in sequence and half at once,
    all within a minute, and at most 20 may pass the limit."""
    limited = [Warren(f"limits-{name}", scratch / f"limits-{name}", url, auth__signing_key_file=key,
                      rate_limit__enabled="true").start() for name in "abc"]
    try:
        for warren in limited:
            await warren.ready()
        bases = [w.base for w in limited]
        started = time.monotonic()
        answers = []
        # Unknown emails, each once: the per-account backoff never answers, only the per-IP limit.
        for i in range(ATTEMPTS // 2):
            answers.append(await client.signin(bases[i % 3], fresh_email("limit"), "wrong password here"))
        answers += await asyncio.gather(*(client.signin(bases[i % 3], fresh_email("limit"), "wrong password here")
                                          for i in range(ATTEMPTS // 2)))
        elapsed = time.monotonic() - started
        statuses = collections.Counter(a[0] for a in answers)
        passed = sum(n for status, n in statuses.items() if status != 429)
        retry_after = all("Retry-After" in a[2] for a in answers if a[0] == 429)
        report.check(scenario, f"{ATTEMPTS} signins from one client over three instances → ≤ {MOST_IN_A_MINUTE} pass the limit",
                     elapsed < 60 and 0 < passed <= MOST_IN_A_MINUTE and retry_after and set(statuses) <= {401, 429},
                     f"{dict(statuses)} in {elapsed:.1f} s; every 429 has Retry-After: {retry_after}")
        report.check(scenario, "no panic in the limited instances' logs", not any(w.panicked() for w in limited),
                     ", ".join(w.log.name for w in limited))
    finally:
        for warren in limited:
            warren.stop()
