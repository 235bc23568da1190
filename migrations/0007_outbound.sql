-- Outbound: every attempt to send a message, and admin alerts. One file for both
-- engines: the {{...}} tokens are filled in per dialect by the Migrator.

-- One row per provider call (or per provider that passed a message on without a call), so the
-- message's timeline shows who sent it and why the earlier providers did not.
CREATE TABLE whatsapp_message_attempts (
    id            {{ID_PRIMARY_KEY}},
    message_id    BIGINT  NOT NULL REFERENCES whatsapp_messages(id) ON DELETE CASCADE,
    provider      TEXT    NOT NULL,
    attempt       INTEGER NOT NULL,             -- 1 for this provider's first try of the message
    outcome       TEXT    NOT NULL
                  CHECK (outcome IN ('sent', 'queued', 'retry', 'refused', 'unavailable', 'failed')),
    http_status   INTEGER,                      -- NULL when no HTTP call was made
    error_code    INTEGER,                      -- Meta's error.code (131047, 190, ...)
    error_title   TEXT,
    error_details TEXT,
    note          TEXT,                         -- e.g. "queued for manual sending", "handed to outbox"
    duration_ms   BIGINT  NOT NULL DEFAULT 0,
    created_at    BIGINT  NOT NULL
);
CREATE INDEX whatsapp_message_attempts_message_idx ON whatsapp_message_attempts(message_id, id);

-- Problems an admin must act on (an expired token, a restricted account). Open until resolved_at.
CREATE TABLE whatsapp_alerts (
    id          {{ID_PRIMARY_KEY}},
    source      TEXT    NOT NULL,               -- the provider or plugin that raised it, e.g. cloud_api
    code        TEXT    NOT NULL,               -- e.g. "190"
    message     TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    resolved_at BIGINT
);
CREATE INDEX whatsapp_alerts_open_idx ON whatsapp_alerts(resolved_at, created_at);
