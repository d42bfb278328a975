-- Accounts and their sign-in sessions. Ids are UUID v7.
CREATE TABLE users (
    id            uuid        PRIMARY KEY,
    email         text        NOT NULL,
    full_name     text,
    password_hash text        NOT NULL,
    is_active     boolean     NOT NULL DEFAULT true,
    token_version bigint      NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);

-- Emails are stored canonical (lowercase, NFC, IDNA), so this index decides uniqueness.
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE sessions (
    id           uuid        PRIMARY KEY,
    user_id      uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz NOT NULL,
    revoked_at   timestamptz,
    user_agent   text,
    ip           text
);

CREATE INDEX sessions_user_id_idx ON sessions (user_id);
