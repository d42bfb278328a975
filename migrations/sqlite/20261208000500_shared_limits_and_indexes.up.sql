-- SQLite serves one instance, so its per-IP limits stay in process: no rate-limit table here.

-- Operators' user list pages oldest first: without this index each page sorted every user.
CREATE INDEX users_created_at_idx ON users (created_at, id);
