-- Postgres carries account-event notices between processes with LISTEN/NOTIFY, so it needs no
-- table for them (SQLite does). This migration keeps the two histories in step.
SELECT 1;
