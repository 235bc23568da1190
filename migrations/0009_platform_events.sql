-- Events the training platform posts to POST /api/v1/events (e.g. registration.confirmed).
-- Stored before the API answers 202, then published on the event bus by a job, so a crash
-- between the two loses nothing. One file for both engines ({{...}} tokens filled in per dialect).

CREATE TABLE platform_events (
    id              {{ID_PRIMARY_KEY}},
    type            TEXT    NOT NULL,              -- e.g. 'registration.confirmed'
    data            TEXT    NOT NULL,              -- the JSON object the platform sent, as text
    token_id        BIGINT  REFERENCES api_tokens(id),
    idempotency_key TEXT,                          -- the Idempotency-Key header, per token
    received_at     BIGINT  NOT NULL,
    published_at    BIGINT                         -- when subscribers (flows) were told
);
CREATE UNIQUE INDEX platform_events_idempotency_idx
    ON platform_events(token_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX platform_events_type_idx ON platform_events(type, received_at);
