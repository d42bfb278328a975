-- Account-event notices left by other processes on this database file: an operator's
-- `warren users deactivate|sign-out|delete` runs in its own process, so the serving process
-- cannot hear it in memory. It polls this table while it runs; rows older than a minute are
-- deleted by the next process that writes one.
CREATE TABLE event_notices (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    notice     TEXT    NOT NULL,
    created_at TEXT    NOT NULL
) STRICT;
