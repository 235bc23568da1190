-- A conversation can be marked pending (waiting on the customer or a colleague): its system line
-- needs the kind 'pending'. PostgreSQL swaps the CHECK constraint in place (the SQLite twin has to
-- rebuild the table: they differ).

ALTER TABLE whatsapp_conversation_events DROP CONSTRAINT whatsapp_conversation_events_kind_check;
ALTER TABLE whatsapp_conversation_events ADD CONSTRAINT whatsapp_conversation_events_kind_check
    CHECK (kind IN ('assigned', 'unassigned', 'resolved', 'reopened', 'pending', 'lead_created', 'lead_linked'));
