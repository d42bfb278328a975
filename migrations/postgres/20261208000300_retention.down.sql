DROP INDEX auth_events_ip_occurred_at_idx;
DROP INDEX auth_events_occurred_at_idx;
DROP INDEX email_outbox_settled_idx;
DROP INDEX mfa_challenges_expires_at_idx;
DROP INDEX email_tokens_expires_at_idx;
DROP INDEX refresh_tokens_expires_at_idx;
DROP INDEX sessions_expires_at_idx;
DROP INDEX sessions_revoked_at_idx;
