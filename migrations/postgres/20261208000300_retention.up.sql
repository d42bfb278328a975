-- Indexes the retention pruner's batched deletes need, so each batch finds its rows without
-- scanning the table.
CREATE INDEX sessions_revoked_at_idx ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);
CREATE INDEX refresh_tokens_expires_at_idx ON refresh_tokens (expires_at);
CREATE INDEX email_tokens_expires_at_idx ON email_tokens (expires_at);
CREATE INDEX mfa_challenges_expires_at_idx ON mfa_challenges (expires_at);
CREATE INDEX email_outbox_settled_idx ON email_outbox (created_at)
    WHERE status IN ('sent', 'failed');
CREATE INDEX auth_events_occurred_at_idx ON auth_events (occurred_at);
CREATE INDEX auth_events_ip_occurred_at_idx ON auth_events (occurred_at) WHERE ip IS NOT NULL;
