-- Service clients (OAuth 2.0 client credentials): other services that call the admin API or
-- introspect tokens. Only a keyed hash of the secret is kept; scopes are space-separated.
CREATE TABLE service_clients (
    id          uuid PRIMARY KEY NOT NULL,
    name        text NOT NULL,
    secret_hash bytea NOT NULL,
    scopes      text NOT NULL,
    created_at  timestamptz NOT NULL
);
-- The service client that acted, for events caused through the admin API. Not a foreign key:
-- a deleted client's events keep naming it.
ALTER TABLE auth_events ADD COLUMN client_id uuid;
