-- SQLite serves one instance, so its per-IP limits stay in process; this version exists so
-- both databases carry the same migration history.
SELECT 1;
