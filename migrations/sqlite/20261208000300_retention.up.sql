-- Indexes the retention pruner's batched deletes need, so each batch finds its rows without
-- scanning the table. Times are RFC 3339 text compared through julianday(), so the indexes
-- are on that expression (deterministic without 'now', hence allowed in an index).
CREATE INDEX sessions_revoked_at_idx ON sessions (julianday(revoked_at));
CREATE INDEX sessions_expires_at_idx ON sessions (julianday(expires_at));
CREATE INDEX refresh_tokens_expires_at_idx ON refresh_tokens (julianday(expires_at));
CREATE INDEX email_tokens_expires_at_idx ON email_tokens (julianday(expires_at));
CREATE INDEX mfa_challenges_expires_at_idx ON mfa_challenges (julianday(expires_at));
CREATE INDEX email_outbox_settled_idx ON email_outbox (status, julianday(created_at));
CREATE INDEX auth_events_occurred_at_idx ON auth_events (julianday(occurred_at));
CREATE INDEX auth_events_ip_occurred_at_idx ON auth_events (julianday(occurred_at))
    WHERE ip IS NOT NULL;
CREATE INDEX event_notices_created_at_idx ON event_notices (julianday(created_at));
