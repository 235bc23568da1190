-- The cross-host event bus runs on PostgreSQL only; the table exists on SQLite so that both
-- schemas stay the same.
CREATE TABLE bus_events (
    id INTEGER PRIMARY KEY,
    topic TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX bus_events_created_at ON bus_events (created_at);
