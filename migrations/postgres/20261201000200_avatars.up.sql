-- Avatar images, one row per user, stored in the database so every instance serves them and
-- backups hold them. The row goes with its user (cascade), in the deleting transaction.
CREATE TABLE avatars (
    user_id      uuid        PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    name         text        NOT NULL,
    content_type text        NOT NULL,
    etag         text        NOT NULL,
    bytes        bytea       NOT NULL,
    created_at   timestamptz NOT NULL
);

CREATE UNIQUE INDEX avatars_name_key ON avatars (name);
