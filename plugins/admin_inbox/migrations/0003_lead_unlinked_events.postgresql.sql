-- The lead page unlinks a conversation from its B2B lead: the conversation's timeline records it,
-- with the kind 'lead_unlinked'. PostgreSQL swaps the CHECK constraint in place (the SQLite twin
-- rebuilds the table: they differ).

ALTER TABLE whatsapp_conversation_events DROP CONSTRAINT whatsapp_conversation_events_kind_check;
ALTER TABLE whatsapp_conversation_events ADD CONSTRAINT whatsapp_conversation_events_kind_check
    CHECK (kind IN ('assigned', 'unassigned', 'resolved', 'reopened', 'pending', 'lead_created', 'lead_linked', 'lead_unlinked'));
