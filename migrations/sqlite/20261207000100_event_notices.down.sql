DROP TABLE event_notices;
