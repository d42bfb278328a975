"""Scenario 3: Postgres behind a TCP proxy the harness cuts (refusing, then black-holing), and an
SMTP server that is down while mail is queued."""

import asyncio
import itertools
import time
import urllib.parse

from .harness import Client, Warren, fresh_email, pg_url, query
from .net import Proxy, SmtpSink, next_frame, open_events

BUDGET_S = 2.0


def through(proxy, database):
    """The database's URL with the proxy's port in place of Postgres's."""
    parts = urllib.parse.urlsplit(pg_url(database))
    userinfo = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{userinfo}127.0.0.1:{proxy.port}"))


async def run(report, scratch, database):
    scenario = "3 Postgres cut, SMTP down"
    upstream = urllib.parse.urlsplit(pg_url(database))
    proxy = await Proxy(upstream.hostname, upstream.port or 5432).start()
    sink = SmtpSink()
    warren = Warren("cut", scratch / "cut", through(proxy, database), email__transport="smtp",
                    email__smtp_url=f"smtp://127.0.0.1:{sink.port}", email__retry_initial_secs=1)
    client = Client(report, scenario)
    try:
        await warren.launch()
        owner = fresh_email("cut")
        token, refresh = await client.account(warren.base, owner)
        await smtp_outage(report, scenario, client, warren, sink, database, owner)
        pid = warren.process.pid
        socket = await open_events(client.http, warren.base, token)
        load = await Load.start(client, warren.base)
        for mode in ("refuse", "blackhole"):
            await getattr(proxy, mode)()
            await while_cut(report, scenario, mode, client, warren, token, refresh)
            await proxy.forward()
            await recovery(report, scenario, mode, client, warren, token, pid)
        await load.check(report, scenario, database)
        refreshed = (await client.refresh(warren.base, refresh))[0]
        report.check(scenario, "the session outlives the cuts (its refresh token, refused twice, refreshes)",
                     refreshed == 200, f"refresh {refreshed}")
        await events_resume(report, scenario, client, warren, token, socket)
        report.check(scenario, "no panic in the log", not warren.panicked(), warren.log.name)
    finally:
        await client.close()
        warren.stop()
        sink.stop()
        await proxy.close()


async def smtp_outage(report, scenario, client, warren, sink, database, owner):
    recipients = [owner]
    for _ in range(4):
        email = fresh_email("mail")
        if (await client.signup(warren.base, email))[0] == 201:
            recipients.append(email)
    await asyncio.sleep(3)
    quoted = ", ".join(f"'{r}'" for r in recipients)
    rows = query(pg_url(database), f"SELECT status, attempts FROM email_outbox WHERE recipient IN ({quoted})")
    tried = all(status == "pending" and int(attempts) >= 1 for status, attempts in rows)
    report.check(scenario, "SMTP down: mail stays queued and is retried", len(rows) == len(recipients) and tried,
                 f"{len(rows)} messages pending, attempts {sorted(int(a) for _, a in rows)}")
    sink.start()
    started = time.monotonic()
    while time.monotonic() - started < 30 and not all(sink.count_to(r) for r in recipients):
        await asyncio.sleep(0.2)
    arrived = time.monotonic() - started
    await asyncio.sleep(3)  # long enough for a duplicate to show up
    counts = [sink.count_to(r) for r in recipients]
    report.check(scenario, "queued mail delivered exactly once after SMTP returns", counts == [1] * len(recipients),
                 f"{len(recipients)} messages, per recipient {counts}, all within {arrived:.1f} s")


async def while_cut(report, scenario, mode, client, warren, token, refresh):
    base = warren.base

    async def timed(label, call):
        started = time.monotonic()
        answer = await call
        return label, answer, time.monotonic() - started

    calls = []
    for _ in range(2):
        calls += [
            timed("me", client.me(base, token)),
            timed("rename", client.rename(base, token, "Cut Off")),
            timed("signup", client.signup(base, fresh_email("cut"))),
            timed("signin", client.signin(base, fresh_email("cut"))),
            timed("refresh", client.refresh(base, refresh)),
            timed("ready", client.call("GET", base + "/api/health/ready")),
        ]
    answers = await asyncio.gather(*calls)
    def refused(label, answer):
        status, body, headers = answer
        if label == "ready":
            return status == 503
        return status == 503 and (body or {}).get("code") == "service_unavailable" and "Retry-After" in headers

    wrong = [(label, a[0]) for label, a, _ in answers if not refused(label, a)]
    slowest, label = max((seconds, label) for label, _, seconds in answers)
    report.check(scenario, f"{mode}: every request and readiness → 503 within {BUDGET_S:.0f} s",
                 not wrong and slowest <= BUDGET_S,
                 f"{len(answers)} concurrent requests under load, slowest {slowest:.2f} s ({label})"
                 + (f"; wrong: {wrong}" if wrong else ""))


async def recovery(report, scenario, mode, client, warren, token, pid):
    started, status = time.monotonic(), None
    while status != 200 and time.monotonic() - started < 10:
        status = (await client.me(warren.base, token))[0]
        if status != 200:
            await asyncio.sleep(0.1)
    healed = time.monotonic() - started
    ready = (await client.call("GET", warren.base + "/api/health/ready"))[0]
    rename = (await client.rename(warren.base, token, f"Back after {mode}"))[0]
    report.check(scenario, f"{mode}: recovers without a restart once the proxy forwards",
                 status == 200 and ready == 200 and rename == 200 and warren.process.pid == pid and warren.alive(),
                 f"/users/me 200 after {healed:.2f} s; ready {ready}; rename {rename}; same process")


async def events_resume(report, scenario, client, warren, token, socket):
    """The event socket opened before the cuts still gets events once the listener is back."""
    started, delivered, error = time.monotonic(), False, None
    for attempt in range(20):
        name = f"Evented {attempt}"
        await client.rename(warren.base, token, name)
        try:
            while not delivered:
                frame = await next_frame(socket, timeout=0.5)
                delivered = frame.get("type") == "user_updated" and frame["user"]["full_name"] == name
        except (asyncio.TimeoutError, RuntimeError) as failure:
            error = failure
            if isinstance(failure, RuntimeError):
                break
        if delivered:
            break
    await socket.close()
    report.check(scenario, "an event socket opened before the cuts gets events after recovery", delivered,
                 f"delivered {time.monotonic() - started:.1f} s after recovery" if delivered else repr(error))


class Load:
    """Renames and signups running flat out through both cuts. Every acknowledged one must stay;
    one answered 503 may or may not have committed (the answer can be what was cut)."""

    def __init__(self, client, base):
        self.client, self.base = client, base
        self.stop = asyncio.Event()
        self.signups, self.refused = [], 0
        self.last, self.since = {}, {}  # per account: last acknowledged name, names tried after it
        self.tasks = []

    @classmethod
    async def start(cls, client, base):
        load = cls(client, base)
        for i in range(3):
            token, _ = await client.account(base, fresh_email(f"load-{i}"))
            load.last[token], load.since[token] = None, []
            load.tasks.append(asyncio.create_task(load.renames(token, i)))
        load.tasks += [asyncio.create_task(load.signup()) for _ in range(2)]
        return load

    async def renames(self, token, i):
        for n in itertools.count():
            if self.stop.is_set():
                return
            name = f"Load {i}.{n}"
            self.since[token].append(name)
            if (await self.client.rename(self.base, token, name))[0] == 200:
                self.last[token], self.since[token] = name, []
            else:
                self.refused += 1
                await asyncio.sleep(0.05)

    async def signup(self):
        while not self.stop.is_set():
            email = fresh_email("load")
            if (await self.client.signup(self.base, email))[0] == 201:
                self.signups.append(email)
            else:
                self.refused += 1
                await asyncio.sleep(0.05)

    async def check(self, report, scenario, database):
        await asyncio.sleep(0.5)
        self.stop.set()
        await asyncio.gather(*self.tasks)
        names = [(await self.client.me(self.base, token))[1] or {} for token in self.last]
        kept = [n.get("full_name") in [self.last[t], *self.since[t]] for n, t in zip(names, self.last)]
        stored = {row[0] for row in query(pg_url(database), "SELECT email FROM users")}
        missing = [e for e in self.signups if e not in stored]
        report.check(scenario, "load through both cuts: every acknowledged write kept", all(kept) and not missing,
                     f"{self.refused} writes refused; "
                     f"{len(self.signups)} signups acknowledged, {len(missing)} missing; "
                     f"renames: {sum(kept)}/3 accounts hold the last acknowledged (or a later) name")
