-- Service clients (OAuth 2.0 client credentials): other services that call the admin API or
-- introspect tokens. Only a keyed hash of the secret is kept; scopes are space-separated.
CREATE TABLE service_clients (
    id          BLOB PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    secret_hash BLOB NOT NULL,
    scopes      TEXT NOT NULL,
    created_at  TEXT NOT NULL
) STRICT;
-- The service client that acted, for events caused through the admin API. Not a foreign key:
-- a deleted client's events keep naming it.
ALTER TABLE auth_events ADD COLUMN client_id BLOB;
