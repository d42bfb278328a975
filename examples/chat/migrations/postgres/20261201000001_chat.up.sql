-- Rooms, members, encrypted messages, reactions and the display names learnt from Warren.
CREATE TABLE rooms (
    id UUID PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    created_by UUID,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE members (
    room_id UUID NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id UUID NOT NULL,
    joined_at TIMESTAMPTZ NOT NULL,
    last_read_message_id UUID,
    PRIMARY KEY (room_id, user_id)
);

-- Bodies are XChaCha20-Poly1305 ciphertexts; key_id names the key that sealed them.
CREATE TABLE messages (
    id UUID PRIMARY KEY NOT NULL,
    room_id UUID NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    sender_id UUID NOT NULL,
    key_id TEXT NOT NULL,
    nonce BYTEA NOT NULL,
    ciphertext BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX messages_by_room ON messages (room_id, id);

CREATE TABLE reactions (
    message_id UUID NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id UUID NOT NULL,
    emoji TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (message_id, user_id, emoji)
);

CREATE TABLE display_names (
    user_id UUID PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

INSERT INTO rooms (id, name, created_by, created_at) VALUES
    ('00000000-0000-7000-8000-000000000001', 'General', NULL, '2026-01-01T00:00:00Z'),
    ('00000000-0000-7000-8000-000000000002', 'Random', NULL, '2026-01-01T00:00:01Z'),
    ('00000000-0000-7000-8000-000000000003', 'Tech Talk', NULL, '2026-01-01T00:00:02Z');
