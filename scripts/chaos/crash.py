"""Scenario 1: kill -9 in the middle of a signup and refresh load, restart on the same database;
every acknowledged signup is a user and no refresh family holds two live tokens."""

import asyncio
import collections
import hashlib

from .harness import Client, Warren, fresh_email, hex_of, in_future, query

FAMILIES = 24
SIGNUP_WORKERS = 6


async def signup_load(client, warren, acknowledged, stop):
    while not stop.is_set():
        email = fresh_email("crash")
        status, _, _ = await client.signup(warren.base, email)
        if status == 201:
            acknowledged.append(email)
        elif not isinstance(status, int):
            await asyncio.sleep(0.05)


async def refresh_load(client, warren, chain, stop):
    """Rotates one family as fast as it can; `chain` collects every token handed out."""
    while not stop.is_set():
        status, body, _ = await client.refresh(warren.base, chain[-1])
        if status == 200:
            chain.append(body["refresh_token"])
        elif isinstance(status, int):
            return  # the family ended (it must not, but the checks below will say so)
        else:
            await asyncio.sleep(0.05)


async def families(client, warren):
    """FAMILIES refresh chains: a few users, each signed in several times."""
    chains = []
    for i in range(FAMILIES // 4):
        email = fresh_email(f"family-{i}")
        _, refresh = await client.account(warren.base, email)
        chains.append([refresh])
        for _ in range(3):
            status, body, _ = await client.signin(warren.base, email)
            if status != 200:
                raise RuntimeError(f"signin answered {status}")
            chains.append([body["refresh_token"]])
    return chains


async def run(report, name, data_dir, database_url):
    """`database_url` None: the SQLite file Warren keeps in `data_dir`."""
    scenario = f"1 kill -9 ({name})"
    warren = Warren(f"crash-{name}", data_dir, database_url).start()
    database_url = database_url or f"sqlite://{data_dir / 'warren.db'}"
    await warren.ready()
    client = Client(report, scenario)
    try:
        chains = await families(client, warren)
        acknowledged, stop = [], asyncio.Event()
        workers = [signup_load(client, warren, acknowledged, stop) for _ in range(SIGNUP_WORKERS)]
        workers += [refresh_load(client, warren, chain, stop) for chain in chains]
        tasks = [asyncio.create_task(w) for w in workers]
        await asyncio.sleep(3.0)
        warren.kill9()
        await asyncio.sleep(0.5)
        stop.set()
        await asyncio.gather(*tasks)
        rotations = sum(len(c) - 1 for c in chains)
        report.check(scenario, "load was running when killed", len(acknowledged) > 0 and rotations > 0,
                     f"{len(acknowledged)} signups (201) and {rotations} rotations (200) acknowledged")
        warren.start()
        restart = await warren.ready()
        report.check(scenario, "restarts on the same database within 10 s", restart <= 10, f"ready after {restart:.2f} s")
        await check_users(report, scenario, client, warren, database_url, acknowledged)
        await check_families(report, scenario, client, warren, database_url, chains)
        report.check(scenario, "no panic in the log", not warren.panicked(), warren.log.name)
    finally:
        await client.close()
        warren.stop()


async def check_users(report, scenario, client, warren, database_url, acknowledged):
    stored = {row[0] for row in query(database_url, "SELECT email FROM users")}
    missing = [email for email in acknowledged if email not in stored]
    report.check(scenario, "every acknowledged signup is a user", not missing,
                 f"{len(acknowledged) - len(missing)}/{len(acknowledged)} found")
    # The verification mail is queued in the signup's own transaction: it cannot be lost either.
    rows = query(database_url, "SELECT recipient, status FROM email_outbox")
    queued = collections.Counter(recipient for recipient, _ in rows)
    unqueued = [email for email in acknowledged if queued[email] != 1]
    report.check(scenario, "every acknowledged signup has its one verification mail in the outbox",
                 not unqueued and all(status != "failed" for _, status in rows),
                 f"{len(acknowledged) - len(unqueued)}/{len(acknowledged)}; outbox "
                 f"{dict(collections.Counter(status for _, status in rows))}")
    sample = acknowledged[:: max(1, len(acknowledged) // 4)][:4]
    statuses = [(await client.signin(warren.base, email))[0] for email in sample]
    report.check(scenario, "acknowledged accounts sign in after the restart", statuses and all(s == 200 for s in statuses),
                 f"{len(sample)} tried: {statuses}")


def digest(token):
    return hashlib.sha256(token.encode()).hexdigest()


async def check_families(report, scenario, client, warren, database_url, chains):
    rows = query(database_url, f"SELECT {hex_of(database_url, 'token_hash')}, rotated_at IS NOT NULL FROM refresh_tokens")
    rotated = {row[0]: row[1] in ("1", "t", "True") for row in rows}
    tokens = [token for chain in chains for token in chain]
    lost = [t for t in tokens if digest(t) not in rotated]
    unspent = [t for chain in chains for t in chain[:-1] if not rotated.get(digest(t), True)]
    report.check(scenario, "every acknowledged refresh token is stored; every exchanged one is spent",
                 not lost and not unspent, f"{len(tokens)} tokens: {len(lost)} missing, {len(unspent)} exchanged but live")
    doubles = query(database_url, f"""
        SELECT t.session_id, count(*) FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id
        WHERE t.rotated_at IS NULL AND s.revoked_at IS NULL AND {in_future(database_url, 't.expires_at')}
        GROUP BY t.session_id HAVING count(*) > 1""")
    report.check(scenario, "no refresh family has two live tokens (database)", not doubles,
                 f"{len(chains)} families, {len(doubles)} with more than one live token")
    # The newest token a client holds must still work unless the kill took the answer to its
    # exchange (then it is spent: the grace window hands out the same successor, or it is 401).
    outcomes = []
    for chain in chains:
        spent = rotated.get(digest(chain[-1]), False)
        status, _, _ = await client.refresh(warren.base, chain[-1])
        outcomes.append((spent, status))
    broken = [o for o in outcomes if (not o[0] and o[1] != 200) or (o[0] and o[1] not in (200, 401))]
    spent = collections.Counter(status for was_spent, status in outcomes if was_spent)
    report.check(scenario, "each family's newest acknowledged token still refreshes", not broken,
                 f"{sum(not s for s, _ in outcomes)} live → 200; {sum(spent.values())} spent by the kill "
                 f"(answer lost) → {dict(spent)}" + (f"; broken: {broken}" if broken else ""))
