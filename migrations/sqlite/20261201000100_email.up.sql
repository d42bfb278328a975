-- Email links (verification, password reset, email change): only the SHA-256 of the token is
-- kept, bound to one user, one purpose and the address the link was sent to. A use deletes
-- the row, so a token works once however many requests race for it.
CREATE TABLE email_tokens (
    token_hash BLOB PRIMARY KEY NOT NULL,
    user_id    BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL,
    email      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
) STRICT;

CREATE INDEX email_tokens_user_id_idx ON email_tokens (user_id, purpose);

-- The outbox: a message is written in the transaction of the change that causes it and
-- delivered by the dispatcher. The body (it may hold a token) is deleted once delivered.
CREATE TABLE email_outbox (
    id              BLOB PRIMARY KEY NOT NULL,
    kind            TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body_text       TEXT,
    body_html       TEXT,
    status          TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    next_attempt_at TEXT NOT NULL,
    -- A claim is a lease: a dispatcher that dies mid-delivery leaves rows others retry later.
    claimed_until   TEXT,
    sent_at         TEXT,
    last_error      TEXT
) STRICT;

CREATE INDEX email_outbox_due_idx ON email_outbox (status, next_attempt_at);
CREATE INDEX email_outbox_recipient_idx ON email_outbox (recipient, kind, created_at);
