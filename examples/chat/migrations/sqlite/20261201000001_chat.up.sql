-- Rooms, members, encrypted messages, reactions and the display names learnt from Warren.
CREATE TABLE rooms (
    id BLOB PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    created_by BLOB,
    created_at TEXT NOT NULL
);

CREATE TABLE members (
    room_id BLOB NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id BLOB NOT NULL,
    joined_at TEXT NOT NULL,
    last_read_message_id BLOB,
    PRIMARY KEY (room_id, user_id)
);

-- Bodies are XChaCha20-Poly1305 ciphertexts; key_id names the key that sealed them.
CREATE TABLE messages (
    id BLOB PRIMARY KEY NOT NULL,
    room_id BLOB NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    sender_id BLOB NOT NULL,
    key_id TEXT NOT NULL,
    nonce BLOB NOT NULL,
    ciphertext BLOB NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX messages_by_room ON messages (room_id, id);

CREATE TABLE reactions (
    message_id BLOB NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id BLOB NOT NULL,
    emoji TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (message_id, user_id, emoji)
);

CREATE TABLE display_names (
    user_id BLOB PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

INSERT INTO rooms (id, name, created_by, created_at) VALUES
    (X'00000000000070008000000000000001', 'General', NULL, '2026-01-01T00:00:00Z'),
    (X'00000000000070008000000000000002', 'Random', NULL, '2026-01-01T00:00:01Z'),
    (X'00000000000070008000000000000003', 'Tech Talk', NULL, '2026-01-01T00:00:02Z');
