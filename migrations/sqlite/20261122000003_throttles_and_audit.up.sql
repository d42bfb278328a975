-- Per-account sign-in backoff, keyed by canonical email whether or not an account exists,
-- so it holds across instances. Times are unix seconds: compared in SQL on both databases.
CREATE TABLE login_throttles (
    email          TEXT PRIMARY KEY NOT NULL,
    failures       INTEGER NOT NULL,
    last_failed_at INTEGER NOT NULL,
    locked_until   INTEGER NOT NULL DEFAULT 0
) STRICT;

-- One row per authentication action. user_id is deliberately not a foreign key: deleting an
-- account keeps its events, which then name only a pseudonymous id.
CREATE TABLE auth_events (
    id          BLOB PRIMARY KEY NOT NULL,
    occurred_at TEXT NOT NULL,
    kind        TEXT NOT NULL,
    user_id     BLOB,
    session_id  BLOB,
    ip          TEXT,
    request_id  TEXT
) STRICT;

CREATE INDEX auth_events_user_id_idx ON auth_events (user_id);
