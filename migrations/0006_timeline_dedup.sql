-- Meta delivers the same status more than once: one row per (message, status, time) keeps the
-- timeline free of repeats while keeping every distinct status event.
CREATE UNIQUE INDEX whatsapp_message_statuses_dedup_idx
    ON whatsapp_message_statuses(wa_message_id, status, occurred_at);

-- Errors Meta reports in value.errors, messages[].errors and statuses[].errors, kept visible.
CREATE TABLE whatsapp_errors (
    id               {{ID_PRIMARY_KEY}},
    webhook_event_id BIGINT REFERENCES whatsapp_webhook_events(id) ON DELETE SET NULL,
    source           TEXT   NOT NULL CHECK (source IN ('value', 'message', 'status')),
    wa_message_id    TEXT   NOT NULL DEFAULT '',  -- '' for errors about the whole notification
    code             INTEGER NOT NULL DEFAULT 0,
    title            TEXT    NOT NULL DEFAULT '',
    message          TEXT,
    details          TEXT,
    created_at       BIGINT NOT NULL
);
CREATE INDEX whatsapp_errors_created_idx ON whatsapp_errors(created_at);
CREATE INDEX whatsapp_errors_wamid_idx ON whatsapp_errors(wa_message_id);
-- Meta redelivers: one error is recorded once per message (or once per code for notification-wide
-- errors), however often it arrives.
CREATE UNIQUE INDEX whatsapp_errors_dedup_idx
    ON whatsapp_errors(source, wa_message_id, code, title);
