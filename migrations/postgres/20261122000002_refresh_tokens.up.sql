-- Refresh tokens: every session is one rotation family of opaque tokens, stored only as
-- SHA-256 hashes. A session ends at its absolute expiry, or when revoked.
ALTER TABLE sessions ADD COLUMN expires_at timestamptz;
-- Sessions from before refresh tokens existed have none to refresh: they end now.
UPDATE sessions SET expires_at = created_at;
ALTER TABLE sessions ALTER COLUMN expires_at SET NOT NULL;

CREATE TABLE refresh_tokens (
    token_hash bytea       PRIMARY KEY,
    session_id uuid        NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    issued_at  timestamptz NOT NULL,
    -- Idle expiry: unused for this long, the token dies (never beyond the session's expiry).
    expires_at timestamptz NOT NULL,
    -- Set once, when the token is exchanged for its successor.
    rotated_at timestamptz
);

CREATE INDEX refresh_tokens_session_id_idx ON refresh_tokens (session_id);
