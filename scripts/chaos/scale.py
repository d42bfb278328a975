"""Scenario 4: three instances on one Postgres, requests spread round-robin across them."""

import asyncio
import base64
import collections
import json
import time

from .limits import shared_limit
from .harness import Client, PASSWORD, Warren, fresh_email, pg_listeners, pg_url, query
from .net import close_code, next_frame, open_events

RACERS = 30
ROUNDS = 10
SIGNUPS = 1000


def session_of(access_token):
    payload = access_token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sid"]


async def run(report, scratch, database):
    scenario = "4 three instances"
    url = pg_url(database)
    # Long request timeouts: 1,000 signups queue for the password hasher on two cores.
    first = Warren("scale-a", scratch / "scale-a", url, server__request_timeout_secs=600).start()
    instances = [first]
    client = Client(report, scenario, timeout=600)
    try:
        await first.ready()
        key = scratch / "scale-a" / "keys" / "signing.pem"  # one deployment, one signing key
        for name in "bc":
            instances.append(Warren(f"scale-{name}", scratch / f"scale-{name}", url, auth__signing_key_file=key,
                                    server__request_timeout_secs=600).start())
        for warren in instances[1:]:
            await warren.ready()
        bases = [w.base for w in instances]
        await refresh_race(report, scenario, client, bases, url)
        await signout(report, scenario, client, bases)
        await signout_races(report, scenario, client, bases)
        await backoff(report, scenario, client, bases)
        await events(report, scenario, client, bases, database)
        await one_email(report, scenario, client, bases, url)
        await shared_limit(report, scenario, client, scratch, url, key)
        report.check(scenario, "no panic in the logs", not any(w.panicked() for w in instances),
                     ", ".join(w.log.name for w in instances))
    finally:
        await client.close()
        for warren in instances:
            warren.stop()


async def refresh_race(report, scenario, client, bases, url):
    token, refresh = await client.account(bases[0], fresh_email("race"))
    session = session_of(token)
    rounds = []
    for _ in range(3):
        answers = await asyncio.gather(*(client.refresh(bases[i % 3], refresh) for i in range(RACERS)))
        statuses = collections.Counter(a[0] for a in answers)
        successors = {a[1]["refresh_token"] for a in answers if a[0] == 200}
        live = query(url, f"SELECT count(*) FROM refresh_tokens WHERE session_id = '{session}' AND rotated_at IS NULL")
        rounds.append((dict(statuses), len(successors), int(live[0][0])))
        if len(successors) != 1:
            break
        refresh = successors.pop()
    ok = len(rounds) == 3 and all(s == {200: RACERS} and n == 1 and live == 1 for s, n, live in rounds)
    after = (await client.refresh(bases[1], refresh))[0]
    report.check(scenario, f"{RACERS} racing refreshes of one token across 3 instances → one successor",
                 ok and after == 200,
                 f"3 rounds (statuses, successors, live tokens in the database): {rounds}; the successor refreshes: {after}")


async def signout(report, scenario, client, bases):
    email = fresh_email("signout")
    token, refresh = await client.account(bases[0], email)
    before = [(await client.me(b, token))[0] for b in bases]
    out = (await client.call("POST", bases[1] + "/api/v1/auth/signout", {"refresh_token": refresh}))[0]
    after = [(await client.me(b, token))[0] for b in (bases[2], bases[0], bases[1])]
    refreshed = (await client.refresh(bases[2], refresh))[0]
    report.check(scenario, "a sign-out on one instance is effective on the others at once",
                 before == [200] * 3 and out == 204 and after == [401] * 3 and refreshed == 401,
                 f"/users/me before {before}; signout on B {out}; next request on C, A, B {after}; refresh on C {refreshed}")
    statuses = []
    sessions = []
    for base in bases[:2]:
        status, body, _ = await client.signin(base, email)
        statuses.append(status)
        sessions.append((body or {}).get("access_token"))
    everywhere = (await client.call("DELETE", bases[2] + "/api/v1/users/me/sessions", token=sessions[0]))[0]
    after = [(await client.me(bases[0], sessions[1]))[0], (await client.me(bases[1], sessions[0]))[0]]
    report.check(scenario, "sign-out everywhere on one instance is effective on the others at once",
                 statuses == [200, 200] and everywhere == 204 and after == [401, 401],
                 f"signins {statuses}; DELETE sessions on C {everywhere}; next request on A, B {after}")


async def signout_races(report, scenario, client, bases):
    """A sign-out (or sign-out everywhere) racing refreshes of the same session on the other
    instances: once it is acknowledged, nothing the refreshes handed out may still work."""
    email = fresh_email("racing")
    token, refresh = await client.account(bases[0], email)
    alive, outcomes = [], collections.Counter()
    for round_ in range(ROUNDS):
        if round_:
            status, body, _ = await client.signin(bases[round_ % 3], email)
            if status != 200:
                outcomes[f"signin {status}"] += 1
                continue
            token, refresh = body["access_token"], body["refresh_token"]
        ending = (client.call("POST", bases[0] + "/api/v1/auth/signout", {"refresh_token": refresh}) if round_ % 2
                  else client.call("DELETE", bases[0] + "/api/v1/users/me/sessions", token=token))
        ended, *refreshes = await asyncio.gather(ending, client.refresh(bases[1], refresh), client.refresh(bases[2], refresh))
        outcomes[f"end {ended[0]}"] += 1
        for status, body, _ in refreshes:
            outcomes[f"refresh {status}"] += 1
            if status == 200:
                again = (await client.refresh(bases[round_ % 3], body["refresh_token"]))[0]
                me = (await client.me(bases[(round_ + 1) % 3], body["access_token"]))[0]
                if again != 401 or me != 401:
                    alive.append((round_, again, me))
    report.check(scenario, f"sign-outs racing refreshes across instances ({ROUNDS} rounds) leave nothing alive",
                 not alive and outcomes[f"end {204}"] == ROUNDS,
                 f"{dict(outcomes)}; successors still working afterwards: {alive or 'none'}")


async def backoff(report, scenario, client, bases):
    email = fresh_email("backoff")
    status, _, _ = await client.signup(bases[0], email)
    attempts = []
    while len(attempts) < 12 and 429 not in attempts:
        attempts.append((await client.signin(bases[len(attempts) % 3], email, "wrong " + PASSWORD))[0])
    right = [await client.signin(b, email) for b in bases]
    locked = all(a[0] == 429 and "Retry-After" in a[2] for a in right)
    report.check(scenario, "the signin backoff holds across instances",
                 status == 201 and 429 in attempts and attempts.index(429) < 10 and
                 all(a == 401 for a in attempts[: attempts.index(429) if 429 in attempts else None]) and locked,
                 f"wrong passwords round-robin: {attempts}; then the right one on A, B, C: "
                 f"{[a[0] for a in right]}, Retry-After {[a[2].get('Retry-After') for a in right]}")
    # Guesses racing on three instances: each is counted before its password is checked.
    email = fresh_email("guesses")
    status, _, _ = await client.signup(bases[0], email)
    guesses = await asyncio.gather(*(client.signin(bases[i % 3], email, "wrong " + PASSWORD) for i in range(RACERS)))
    statuses = collections.Counter(a[0] for a in guesses)
    report.check(scenario, f"{RACERS} concurrent wrong passwords across 3 instances: at most 5 are checked",
                 status == 201 and set(statuses) <= {401, 429} and statuses[401] <= 5,
                 dict(statuses))


async def events(report, scenario, client, bases, database):
    email = fresh_email("events")
    token, _ = await client.account(bases[0], email)
    listening = await pg_listeners(database, 3)
    sockets = [await open_events(client.http, b, token) for b in bases]
    delays = []
    try:
        for i, base in enumerate(bases):
            name = f"Round {i}"
            started = time.monotonic()
            status = (await client.rename(base, token, name))[0]
            for socket in sockets:
                frame = await next_frame(socket, timeout=5)
                while frame.get("type") != "user_updated":
                    frame = await next_frame(socket, timeout=5)
                delays.append((frame["user"]["full_name"] == name and status == 200, time.monotonic() - started))
        slowest = max(d for _, d in delays)
        report.check(scenario, "an event caused on any instance reaches the sockets on all three within 1 s",
                     listening and len(delays) == 9 and all(ok for ok, _ in delays) and slowest <= 1.0,
                     f"3 listeners: {listening}; 3 renames (one per instance) × 3 sockets: "
                     f"{sum(ok for ok, _ in delays)}/9 delivered, slowest {slowest * 1000:.0f} ms")
        await revocations(report, scenario, client, bases, token, email, sockets)
    except (asyncio.TimeoutError, RuntimeError) as error:
        report.check(scenario, "events reach every instance's sockets", False, repr(error))
    finally:
        for socket in sockets:
            await socket.close()


async def revocations(report, scenario, client, bases, token, email, sockets):
    """Another session's sign-out reaches every socket as `session_revoked`; signing out
    everywhere closes them all with 4401."""
    status, other, _ = await client.signin(bases[2], email)
    out = (await client.call("POST", bases[1] + "/api/v1/auth/signout", {"refresh_token": other["refresh_token"]}))[0]
    frames = []
    for socket in sockets:
        frame = await next_frame(socket, timeout=5)
        frames.append(frame.get("type") == "session_revoked" and frame.get("session_id") == session_of(other["access_token"]))
    everywhere = (await client.call("DELETE", bases[1] + "/api/v1/users/me/sessions", token=token))[0]
    closed = [(await close_code(socket))[0] for socket in sockets]
    report.check(scenario, "revocations on one instance reach the sockets on all three",
                 status == 200 and out == 204 and all(frames) and everywhere == 204 and closed == [4401] * 3,
                 f"another session signed out on B ({out}): session_revoked on {sum(frames)}/3 sockets; "
                 f"sign-out everywhere on B ({everywhere}): close codes {closed}")


async def one_email(report, scenario, client, bases, url):
    email = fresh_email("same")
    started = time.monotonic()
    answers = await asyncio.gather(*(client.signup(bases[i % 3], email) for i in range(SIGNUPS)))
    statuses = collections.Counter(a[0] for a in answers)
    stored = int(query(url, f"SELECT count(*) FROM users WHERE email = '{email}'")[0][0])
    report.check(scenario, f"{SIGNUPS} concurrent signups with one email across 3 → exactly one 201",
                 statuses == {201: 1, 409: SIGNUPS - 1} and stored == 1,
                 f"{dict(statuses)} in {time.monotonic() - started:.1f} s; {stored} user row")
