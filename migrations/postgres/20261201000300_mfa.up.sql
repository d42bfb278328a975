-- Two-factor sign-in (TOTP and recovery codes). users.mfa_enabled mirrors a confirmed
-- mfa_totp row and changes in the same transaction; the user object shows it.
ALTER TABLE users ADD COLUMN mfa_enabled boolean NOT NULL DEFAULT false;

-- The amr of the signin that opened a session ('pwd' or 'pwd otp'), so a refreshed access
-- token carries the same.
ALTER TABLE sessions ADD COLUMN amr text NOT NULL DEFAULT 'pwd';

-- One TOTP enrolment per user, pending until a code confirms it. The secret is stored only
-- encrypted (XChaCha20-Poly1305: nonce || ciphertext, bound to the user id). last_step is the
-- newest 30 s step a code was accepted for: a conditional update on it makes every step
-- usable once, however many requests race.
CREATE TABLE mfa_totp (
    user_id      uuid        PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret       bytea       NOT NULL,
    confirmed_at timestamptz,
    last_step    bigint      NOT NULL DEFAULT -1,
    created_at   timestamptz NOT NULL
);

-- Recovery codes, stored only as SHA-256 (they are random, high-entropy strings). A use deletes
-- the row, so a code works once.
CREATE TABLE mfa_recovery_codes (
    code_hash  bytea       PRIMARY KEY,
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL
);

CREATE INDEX mfa_recovery_codes_user_id_idx ON mfa_recovery_codes (user_id);

-- The second step of a signin: the SHA-256 of the mfa_token the first step answered, bound to
-- the user, short-lived, spent by deleting it, dead after too many wrong codes.
CREATE TABLE mfa_challenges (
    token_hash bytea       PRIMARY KEY,
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    failures   integer     NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);

CREATE INDEX mfa_challenges_user_id_idx ON mfa_challenges (user_id);
