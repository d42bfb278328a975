-- The per-IP limits every instance shares (GCRA, on the database's clock). UNLOGGED: the rows
-- are worth a minute at most, so they skip the write-ahead log; a crash empties the table,
-- which only gives clients a fresh burst.
CREATE UNLOGGED TABLE rate_limits (
    name    text NOT NULL,
    client  text NOT NULL,
    -- The theoretical arrival time: the bucket is full again from this instant on, so a row
    -- with tat in the past means the same as no row and can be swept.
    tat     timestamptz NOT NULL,
    -- The verdict on the request that wrote the row, so one statement can both count and
    -- answer.
    allowed boolean NOT NULL,
    PRIMARY KEY (name, client)
);
