-- The lead page unlinks a conversation from its B2B lead: the conversation's timeline records it,
-- with the kind 'lead_unlinked'. SQLite cannot change a CHECK constraint in place, so the table is
-- rebuilt with the same columns (the PostgreSQL twin swaps the constraint instead: they differ).

CREATE TABLE whatsapp_conversation_events_new (
    id              INTEGER PRIMARY KEY,
    conversation_id BIGINT NOT NULL REFERENCES whatsapp_conversations(id) ON DELETE CASCADE,
    kind            TEXT   NOT NULL
                    CHECK (kind IN ('assigned', 'unassigned', 'resolved', 'reopened', 'pending', 'lead_created', 'lead_linked',
                                    'lead_unlinked')),
    actor_user_id   BIGINT REFERENCES users(id) ON DELETE SET NULL,
    target_user_id  BIGINT REFERENCES users(id) ON DELETE SET NULL,
    lead_id         BIGINT REFERENCES b2b_leads(id) ON DELETE SET NULL,
    created_at      BIGINT NOT NULL
);
INSERT INTO whatsapp_conversation_events_new (id, conversation_id, kind, actor_user_id, target_user_id, lead_id, created_at)
    SELECT id, conversation_id, kind, actor_user_id, target_user_id, lead_id, created_at FROM whatsapp_conversation_events;
DROP TABLE whatsapp_conversation_events;
ALTER TABLE whatsapp_conversation_events_new RENAME TO whatsapp_conversation_events;
CREATE INDEX whatsapp_conversation_events_conversation_idx
    ON whatsapp_conversation_events(conversation_id, created_at, id);
