-- The outbox: templates with their own text, flows of templates started by platform events,
-- messages rendered for a person to send by hand (wa.me links), and the outbox's log. One file
-- for both engines: the {{...}} tokens are filled in per dialect by the Migrator.

-- Body variables are {{1}}, {{2}}... or {{name}} (one kind per template); checked when saved.
CREATE TABLE whatsapp_templates (
    id         {{ID_PRIMARY_KEY}},
    name       TEXT    NOT NULL,
    language   TEXT    NOT NULL,                 -- fr, ar, en_US, ...
    category   TEXT    NOT NULL DEFAULT 'utility'
               CHECK (category IN ('utility', 'marketing', 'authentication')),
    body       TEXT    NOT NULL,
    status     TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('draft', 'active', 'disabled')),
    created_at BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL,
    UNIQUE (name, language)
);

CREATE TABLE whatsapp_flows (
    id            {{ID_PRIMARY_KEY}},
    name          TEXT    NOT NULL UNIQUE,
    trigger_event TEXT    NOT NULL,              -- a platform event type, e.g. registration.confirmed
    active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL
);
CREATE INDEX whatsapp_flows_trigger_idx ON whatsapp_flows(trigger_event, active);

-- A flow's steps in order: each renders one template, `delay_seconds` after the event.
CREATE TABLE whatsapp_flow_steps (
    id            {{ID_PRIMARY_KEY}},
    flow_id       BIGINT  NOT NULL REFERENCES whatsapp_flows(id) ON DELETE CASCADE,
    position      INTEGER NOT NULL,
    template_name TEXT    NOT NULL,
    language      TEXT    NOT NULL,
    delay_seconds BIGINT  NOT NULL DEFAULT 0 CHECK (delay_seconds >= 0),
    UNIQUE (flow_id, position)
);

CREATE TABLE whatsapp_outbox_messages (
    id              {{ID_PRIMARY_KEY}},
    recipient_phone TEXT    NOT NULL,            -- E.164
    conversation_id BIGINT  REFERENCES whatsapp_conversations(id) ON DELETE SET NULL,
    message_id      BIGINT  REFERENCES whatsapp_messages(id) ON DELETE SET NULL,
    rendered_text   TEXT    NOT NULL,
    wa_me_link      TEXT    NOT NULL,            -- https://wa.me/<digits>?text=<percent-encoded UTF-8>
    status          TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sent', 'failed', 'cancelled')),
    channel         TEXT    NOT NULL DEFAULT 'manual',  -- manual (a person sends the wa.me link)
    flow_id         BIGINT  REFERENCES whatsapp_flows(id) ON DELETE SET NULL,
    flow_step       INTEGER,
    dedupe_key      TEXT,                        -- flows: one row per event, flow and step
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);
CREATE INDEX whatsapp_outbox_messages_status_idx ON whatsapp_outbox_messages(status, id);
-- One outbox row per dispatched message and per flow step of an event, however often a job runs.
CREATE UNIQUE INDEX whatsapp_outbox_messages_message_idx ON whatsapp_outbox_messages(message_id) WHERE message_id IS NOT NULL;
CREATE UNIQUE INDEX whatsapp_outbox_messages_dedupe_idx ON whatsapp_outbox_messages(dedupe_key) WHERE dedupe_key IS NOT NULL;

CREATE TABLE whatsapp_logs (
    id         {{ID_PRIMARY_KEY}},
    level      TEXT    NOT NULL CHECK (level IN ('info', 'warning', 'error')),
    source     TEXT    NOT NULL,                 -- provider, flow, ...
    message    TEXT    NOT NULL,
    context    TEXT,                             -- JSON
    created_at BIGINT  NOT NULL
);
CREATE INDEX whatsapp_logs_created_idx ON whatsapp_logs(created_at);
