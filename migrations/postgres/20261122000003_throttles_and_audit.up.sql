-- Per-account sign-in backoff, keyed by canonical email whether or not an account exists,
-- so it holds across instances. Times are unix seconds: compared in SQL on both databases.
CREATE TABLE login_throttles (
    email          text PRIMARY KEY NOT NULL,
    failures       bigint NOT NULL,
    last_failed_at bigint NOT NULL,
    locked_until   bigint NOT NULL DEFAULT 0
);

-- One row per authentication action. user_id is deliberately not a foreign key: deleting an
-- account keeps its events, which then name only a pseudonymous id.
CREATE TABLE auth_events (
    id          uuid PRIMARY KEY NOT NULL,
    occurred_at timestamptz NOT NULL,
    kind        text NOT NULL,
    user_id     uuid,
    session_id  uuid,
    ip          text,
    request_id  text
);

CREATE INDEX auth_events_user_id_idx ON auth_events (user_id);
