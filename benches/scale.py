"""`make bench`'s scale lines: the database seeded with 1,000,000 users and 5,000,000 refresh
tokens (one session per user, five tokens each), then `/users/me` and signin measured again
beside the figures of the nearly empty database.

Every seeded user has the same precomputed Argon2 hash (taken from a benchmark account, so it is
a real one) and tokens have random hashes. Rows are made by the database itself in one
transaction: a recursive CTE on SQLite, `generate_series` on Postgres.
"""

import sqlite3
import subprocess
import sys
import time

USERS = 1_000_000
TOKENS_PER_USER = 5
LABEL = "1M users, 5M refresh tokens"

SQLITE = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :users)
INSERT INTO users (id, email, full_name, password_hash, created_at, updated_at)
SELECT randomblob(16), 'scale-' || i || '@example.com', 'Scale ' || i, :hash,
       strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || i || ' seconds'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
FROM n;
INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at)
SELECT randomblob(16), id, created_at, created_at, '2999-01-01T00:00:00Z' FROM users WHERE email LIKE 'scale-%';
WITH RECURSIVE k(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM k WHERE j < :tokens)
INSERT INTO refresh_tokens (token_hash, session_id, issued_at, expires_at, rotated_at)
SELECT randomblob(32), s.id, s.created_at, s.expires_at, CASE WHEN k.j < :tokens THEN s.created_at END
FROM sessions s JOIN users u ON u.id = s.user_id, k WHERE u.email LIKE 'scale-%';
"""

POSTGRES = """
BEGIN;
INSERT INTO users (id, email, full_name, password_hash, created_at, updated_at)
SELECT gen_random_uuid(), 'scale-' || i || '@example.com', 'Scale ' || i, :'hash',
       now() - i * interval '1 second', now()
FROM generate_series(1, :users) AS i;
INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at)
SELECT gen_random_uuid(), id, created_at, created_at, now() + interval '30 days'
FROM users WHERE email LIKE 'scale-%';
INSERT INTO refresh_tokens (token_hash, session_id, issued_at, expires_at, rotated_at)
SELECT uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()), s.id, s.created_at, s.expires_at,
       CASE WHEN j < :tokens THEN s.created_at END
FROM sessions s JOIN users u ON u.id = s.user_id, generate_series(1, :tokens) AS j
WHERE u.email LIKE 'scale-%';
COMMIT;
ANALYZE;
"""


def sqlite_path(database_url):
    return database_url.removeprefix("sqlite://").split("?", 1)[0]


def seed(database_url, users=USERS):
    """Seeds `users` users (five refresh tokens each, four of them rotated) with the hash of
    the first benchmark account; returns the seconds it took. Warren must be stopped (SQLite)."""
    started = time.monotonic()
    if database_url.startswith("sqlite:"):
        connection = sqlite3.connect(sqlite_path(database_url), isolation_level=None)
        try:
            (password_hash,) = connection.execute(
                "SELECT password_hash FROM users ORDER BY created_at LIMIT 1").fetchone()
            connection.execute("BEGIN")
            for statement in filter(str.strip, SQLITE.split(";")):
                connection.execute(statement, {"users": users, "hash": password_hash, "tokens": TOKENS_PER_USER})
            connection.execute("COMMIT")
            connection.execute("ANALYZE")
        finally:
            connection.close()
    else:
        password_hash = subprocess.run(
            ["psql", database_url, "-Atc", "SELECT password_hash FROM users ORDER BY created_at LIMIT 1"],
            capture_output=True, text=True, check=True).stdout.strip()
        subprocess.run(["psql", database_url, "-q", "-v", "ON_ERROR_STOP=1", "-v", f"users={users}",
                        "-v", f"tokens={TOKENS_PER_USER}", "-v", f"hash={password_hash}"],
                       input=POSTGRES, text=True, check=True)
    return time.monotonic() - started


def within(seeded, empty, higher_is_better):
    """Whether `seeded` is within 10 % of `empty`, in the direction that matters."""
    return seeded >= 0.9 * empty if higher_is_better else seeded <= 1.1 * empty


if __name__ == "__main__":
    # Seeding alone, to time it: `python3 benches/scale.py sqlite:///path/to/warren.db [users]`.
    url = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else USERS
    print(f"seeded {count} users, {count * TOKENS_PER_USER} refresh tokens in {seed(url, count):.1f} s")
