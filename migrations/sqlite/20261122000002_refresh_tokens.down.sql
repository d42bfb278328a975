DROP TABLE refresh_tokens;
ALTER TABLE sessions DROP COLUMN expires_at;
