-- Email links (verification, password reset, email change): only the SHA-256 of the token is
-- kept, bound to one user, one purpose and the address the link was sent to. A use deletes
-- the row, so a token works once however many requests race for it.
CREATE TABLE email_tokens (
    token_hash bytea       PRIMARY KEY,
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    text        NOT NULL,
    email      text        NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);

CREATE INDEX email_tokens_user_id_idx ON email_tokens (user_id, purpose);

-- The outbox: a message is written in the transaction of the change that causes it and
-- delivered by the dispatcher. The body (it may hold a token) is deleted once delivered.
CREATE TABLE email_outbox (
    id              uuid        PRIMARY KEY,
    kind            text        NOT NULL,
    recipient       text        NOT NULL,
    subject         text        NOT NULL,
    body_text       text,
    body_html       text,
    status          text        NOT NULL DEFAULT 'pending',
    attempts        bigint      NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL,
    next_attempt_at timestamptz NOT NULL,
    -- A claim is a lease: a dispatcher that dies mid-delivery leaves rows others retry later.
    claimed_until   timestamptz,
    sent_at         timestamptz,
    last_error      text
);

CREATE INDEX email_outbox_due_idx ON email_outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX email_outbox_recipient_idx ON email_outbox (recipient, kind, created_at);
