-- Refresh tokens: every session is one rotation family of opaque tokens, stored only as
-- SHA-256 hashes. A session ends at its absolute expiry, or when revoked.
ALTER TABLE sessions ADD COLUMN expires_at TEXT NOT NULL DEFAULT '1970-01-01T00:00:00Z';
-- Sessions from before refresh tokens existed have none to refresh: they end now.
UPDATE sessions SET expires_at = created_at;

CREATE TABLE refresh_tokens (
    token_hash BLOB PRIMARY KEY NOT NULL,
    session_id BLOB NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    issued_at  TEXT NOT NULL,
    -- Idle expiry: unused for this long, the token dies (never beyond the session's expiry).
    expires_at TEXT NOT NULL,
    -- Set once, when the token is exchanged for its successor.
    rotated_at TEXT
) STRICT;

CREATE INDEX refresh_tokens_session_id_idx ON refresh_tokens (session_id);
