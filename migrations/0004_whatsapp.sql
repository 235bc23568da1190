-- WhatsApp tables shared by webhook_receiver, inbound_router, cloud_api, outbox
-- and admin_inbox. One file for both engines: the {{...}} tokens are filled in per
-- dialect by the Migrator.

-- Every webhook POST, raw bytes exactly as received (the signature is over them),
-- committed before the 200 so a crash never loses an update.
CREATE TABLE whatsapp_webhook_events (
    id           {{ID_PRIMARY_KEY}},
    received_at  BIGINT  NOT NULL DEFAULT ({{NOW_MS}}),
    signature    TEXT,                            -- X-Hub-Signature-256 header as sent
    payload      {{BLOB}}    NOT NULL,
    status       TEXT    NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'processing', 'processed', 'failed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    processed_at BIGINT
);
CREATE INDEX whatsapp_webhook_events_status_idx ON whatsapp_webhook_events(status, id);
CREATE INDEX whatsapp_webhook_events_received_idx ON whatsapp_webhook_events(received_at);

-- One row per (business number, customer). A customer may come with a wa_id, a
-- business-scoped user_id (BSUID), or both. NULLs are distinct in the unique
-- constraints in both engines, so either id alone is enough.
CREATE TABLE whatsapp_contacts (
    id              {{ID_PRIMARY_KEY}},
    phone_number_id TEXT   NOT NULL DEFAULT '',   -- the business number the contact wrote to
    wa_id           TEXT,
    user_id         TEXT,
    phone_e164      TEXT,                         -- '+213555123456', NULL when only a BSUID is known
    profile_name    TEXT,
    matched_type    TEXT,                         -- registration, enrollment, b2b_lead, organization, ...
    matched_id      BIGINT,
    created_at      BIGINT NOT NULL DEFAULT ({{NOW_MS}}),
    updated_at      BIGINT NOT NULL DEFAULT ({{NOW_MS}}),
    CHECK (wa_id IS NOT NULL OR user_id IS NOT NULL),
    UNIQUE (phone_number_id, wa_id),
    UNIQUE (phone_number_id, user_id)
);
CREATE INDEX whatsapp_contacts_phone_idx ON whatsapp_contacts(phone_e164);
CREATE INDEX whatsapp_contacts_matched_idx ON whatsapp_contacts(matched_type, matched_id);

CREATE TABLE whatsapp_conversations (
    id               {{ID_PRIMARY_KEY}},
    contact_id       BIGINT  NOT NULL REFERENCES whatsapp_contacts(id),
    status           TEXT    NOT NULL DEFAULT 'open'
                     CHECK (status IN ('open', 'pending', 'resolved')),
    assigned_user_id BIGINT  REFERENCES users(id) ON DELETE SET NULL,
    b2b_lead_id      BIGINT  REFERENCES b2b_leads(id) ON DELETE SET NULL,
    intent           TEXT,                        -- keyword route that matched, e.g. 'b2b', 'registration'
    last_inbound_at  BIGINT,                      -- start of the 24 h free-text window, NULL = never wrote
    -- NOT NULL on purpose: NULLs sort first under DESC in PostgreSQL and last in
    -- SQLite, which would make inbox pagination differ between engines.
    last_message_at  BIGINT  NOT NULL DEFAULT ({{NOW_MS}}),
    unread_count     INTEGER NOT NULL DEFAULT 0,
    created_at       BIGINT  NOT NULL DEFAULT ({{NOW_MS}}),
    updated_at       BIGINT  NOT NULL DEFAULT ({{NOW_MS}}),
    resolved_at      BIGINT
);
-- At most one conversation that is not resolved per contact.
CREATE UNIQUE INDEX whatsapp_conversations_one_open_idx
    ON whatsapp_conversations(contact_id) WHERE status <> 'resolved';
CREATE INDEX whatsapp_conversations_contact_idx ON whatsapp_conversations(contact_id, id);
-- Inbox keyset pagination: ORDER BY last_message_at DESC, id DESC.
CREATE INDEX whatsapp_conversations_inbox_idx
    ON whatsapp_conversations(last_message_at DESC, id DESC);
CREATE INDEX whatsapp_conversations_status_inbox_idx
    ON whatsapp_conversations(status, last_message_at DESC, id DESC);
CREATE INDEX whatsapp_conversations_assigned_idx
    ON whatsapp_conversations(assigned_user_id, last_message_at DESC, id DESC);
CREATE INDEX whatsapp_conversations_lead_idx ON whatsapp_conversations(b2b_lead_id);

CREATE TABLE whatsapp_messages (
    id                    {{ID_PRIMARY_KEY}},
    conversation_id       BIGINT  NOT NULL REFERENCES whatsapp_conversations(id) ON DELETE CASCADE,
    direction             TEXT    NOT NULL CHECK (direction IN ('in', 'out')),
    wa_message_id         TEXT,                   -- wamid, NULL until the provider accepts an outbound
    type                  TEXT    NOT NULL DEFAULT 'text',
    body                  TEXT,
    payload               TEXT,                   -- JSON: the message object as received / the request sent
    status                TEXT    NOT NULL
                          CHECK (status IN ('received', 'queued', 'sent', 'delivered', 'read', 'failed')),
    error_code            INTEGER,
    error_title           TEXT,
    error_details         TEXT,
    provider              TEXT,                   -- cloud_api, outbox, ... (NULL for inbound)
    context_wa_message_id TEXT,                   -- the wamid this message replies to
    media_id              TEXT,
    media_mime_type       TEXT,
    idempotency_key       TEXT,                   -- outbound: dedupes a double-submitted reply
    created_by_user_id    BIGINT  REFERENCES users(id) ON DELETE SET NULL,
    webhook_event_id      BIGINT  REFERENCES whatsapp_webhook_events(id) ON DELETE SET NULL,
    created_at            BIGINT  NOT NULL DEFAULT ({{NOW_MS}}),
    updated_at            BIGINT  NOT NULL DEFAULT ({{NOW_MS}}),
    sent_at               BIGINT,
    delivered_at          BIGINT,
    read_at               BIGINT,
    failed_at             BIGINT
);
CREATE UNIQUE INDEX whatsapp_messages_wamid_idx
    ON whatsapp_messages(wa_message_id) WHERE wa_message_id IS NOT NULL;
CREATE UNIQUE INDEX whatsapp_messages_idempotency_idx
    ON whatsapp_messages(idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX whatsapp_messages_conversation_idx ON whatsapp_messages(conversation_id, id);
CREATE INDEX whatsapp_messages_webhook_event_idx ON whatsapp_messages(webhook_event_id);

-- Every status event as delivered, for the timeline, also holds a status that
-- arrives before its message (no foreign key on wa_message_id on purpose).
-- Not unique: Meta may redeliver the same status, the router dedupes.
CREATE TABLE whatsapp_message_statuses (
    id               {{ID_PRIMARY_KEY}},
    wa_message_id    TEXT    NOT NULL,
    status           TEXT    NOT NULL,            -- sent, delivered, read, failed, ... as Meta sent it
    recipient_id     TEXT,
    error_code       INTEGER,
    error_title      TEXT,
    error_details    TEXT,
    payload          TEXT,                        -- JSON: the status object
    webhook_event_id BIGINT  REFERENCES whatsapp_webhook_events(id) ON DELETE SET NULL,
    occurred_at      BIGINT  NOT NULL,            -- timestamp from Meta (seconds) * 1000
    received_at      BIGINT  NOT NULL DEFAULT ({{NOW_MS}})
);
CREATE INDEX whatsapp_message_statuses_wamid_idx
    ON whatsapp_message_statuses(wa_message_id, occurred_at, id);
CREATE INDEX whatsapp_message_statuses_webhook_event_idx
    ON whatsapp_message_statuses(webhook_event_id);
