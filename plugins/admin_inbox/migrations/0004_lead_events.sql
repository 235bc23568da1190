-- Who changed a B2B lead's status, and when, for the lead page's history (b2b_leads keeps only the
-- status itself). Written by admin_inbox in the same transaction as the change it records.
-- One file for both engines: the {{...}} tokens are filled in per dialect by the Migrator.

CREATE TABLE whatsapp_lead_events (
    id            {{ID_PRIMARY_KEY}},
    lead_id       BIGINT NOT NULL REFERENCES b2b_leads(id) ON DELETE CASCADE,
    kind          TEXT   NOT NULL CHECK (kind IN ('status')),
    actor_user_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    from_status   TEXT,
    to_status     TEXT,
    created_at    BIGINT NOT NULL
);
CREATE INDEX whatsapp_lead_events_lead_idx ON whatsapp_lead_events(lead_id, created_at, id);
