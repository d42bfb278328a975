-- SQLite serves one instance, so its per-IP limits stay in process: no rate-limit table here.
-- (The users list pages by primary key, which needs no index of its own.) This migration keeps
-- the two histories in step.
SELECT 1;
