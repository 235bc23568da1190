-- Events too large for one NOTIFY (8000 bytes): stored here, their id notified; kept minutes.
CREATE TABLE bus_events (
    id BIGSERIAL PRIMARY KEY,
    topic TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX bus_events_created_at ON bus_events (created_at);
