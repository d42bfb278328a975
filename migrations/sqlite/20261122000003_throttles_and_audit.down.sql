DROP TABLE auth_events;
DROP TABLE login_throttles;
