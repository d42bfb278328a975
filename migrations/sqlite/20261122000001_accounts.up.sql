-- Accounts and their sign-in sessions.
-- Ids are UUID v7 (16-byte BLOBs); times are RFC 3339 UTC text.
CREATE TABLE users (
    id            BLOB    PRIMARY KEY NOT NULL,
    email         TEXT    NOT NULL,
    full_name     TEXT,
    password_hash TEXT    NOT NULL,
    is_active     INTEGER NOT NULL DEFAULT 1,
    token_version INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
) STRICT;

-- Emails are stored canonical (lowercase, NFC, IDNA), so this index decides uniqueness.
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE sessions (
    id           BLOB PRIMARY KEY NOT NULL,
    user_id      BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   TEXT NOT NULL,
    last_used_at TEXT NOT NULL,
    revoked_at   TEXT,
    user_agent   TEXT,
    ip           TEXT
) STRICT;

CREATE INDEX sessions_user_id_idx ON sessions (user_id);
