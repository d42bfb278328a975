-- Avatar images, one row per user, stored in the database so every instance serves them and
-- backups hold them. The row goes with its user (cascade), in the deleting transaction.
CREATE TABLE avatars (
    user_id      BLOB PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    etag         TEXT NOT NULL,
    bytes        BLOB NOT NULL,
    created_at   TEXT NOT NULL
) STRICT;

CREATE UNIQUE INDEX avatars_name_key ON avatars (name);
