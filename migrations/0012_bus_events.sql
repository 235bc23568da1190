-- The cross-host event bus (PostgreSQL LISTEN/NOTIFY, host/src/db/PostgresEventRelay): an event too
-- large for one NOTIFY (8000 bytes) is stored here and its id notified; rows are kept ten minutes.
-- On SQLite (one host) nothing writes it; the table is there so that both schemas are the same.
CREATE TABLE bus_events (
    id         {{ID_PRIMARY_KEY}},
    topic      TEXT   NOT NULL,
    payload    TEXT   NOT NULL,
    created_at BIGINT NOT NULL DEFAULT ({{NOW_MS}})
);
CREATE INDEX bus_events_created_at ON bus_events (created_at);
