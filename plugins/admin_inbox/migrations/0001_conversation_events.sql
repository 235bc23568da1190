-- What happened to a conversation besides its messages, for the system lines of the timeline:
-- assigned, unassigned, resolved, reopened, lead created or linked. Written by admin_inbox in the
-- same transaction as the change it records.
-- One file for both engines: the {{...}} tokens are filled in per dialect by the Migrator.

CREATE TABLE whatsapp_conversation_events (
    id              {{ID_PRIMARY_KEY}},
    conversation_id BIGINT NOT NULL REFERENCES whatsapp_conversations(id) ON DELETE CASCADE,
    kind            TEXT   NOT NULL
                    CHECK (kind IN ('assigned', 'unassigned', 'resolved', 'reopened', 'lead_created', 'lead_linked')),
    actor_user_id   BIGINT REFERENCES users(id) ON DELETE SET NULL,
    target_user_id  BIGINT REFERENCES users(id) ON DELETE SET NULL,  -- assigned: to whom
    lead_id         BIGINT REFERENCES b2b_leads(id) ON DELETE SET NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX whatsapp_conversation_events_conversation_idx
    ON whatsapp_conversation_events(conversation_id, created_at, id);
