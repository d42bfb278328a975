ALTER TABLE auth_events DROP COLUMN client_id;
DROP TABLE service_clients;
