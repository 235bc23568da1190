-- Internal notes of a conversation: what agents write for each other beside the messages. A note
-- is never sent to WhatsApp (no provider, no outbox, no job): it lives only here and in the
-- timeline, in time order with the messages. The author's name is kept as written, so a note
-- still says who wrote it after the account is removed. At most 4,000 characters (the page
-- refuses more before it gets here). One file for both engines.

CREATE TABLE whatsapp_conversation_notes (
    id              {{ID_PRIMARY_KEY}},
    conversation_id BIGINT NOT NULL REFERENCES whatsapp_conversations(id) ON DELETE CASCADE,
    author_user_id  BIGINT REFERENCES users(id) ON DELETE SET NULL,
    author_name     TEXT   NOT NULL,
    body            TEXT   NOT NULL CHECK (body <> ''),
    created_at      BIGINT NOT NULL
);
CREATE INDEX whatsapp_conversation_notes_conversation_idx
    ON whatsapp_conversation_notes(conversation_id, created_at, id);
