-- The contact matcher's index: every platform phone in E.164, so that naming a sender is one
-- indexed lookup, never a scan of the platform's tables per message.
-- The same in both dialects.

CREATE TABLE contact_phone_index (
    phone_e164    TEXT    NOT NULL,
    kind          TEXT    NOT NULL,  -- enrollment, registration, b2b_lead, organization
    record_id     BIGINT  NOT NULL,  -- id in the source table of that kind
    name          TEXT,
    source_column TEXT    NOT NULL,  -- the phone column the number came from
    raw_value     TEXT,              -- as written there
    priority      INTEGER NOT NULL,
    PRIMARY KEY (kind, record_id, source_column)
);
CREATE INDEX contact_phone_index_phone_idx ON contact_phone_index(phone_e164);

-- How far the incremental refresh has read each source: ids above last_id are new, rows whose
-- updated column is above last_updated were edited. NULL: not read yet.
CREATE TABLE contact_index_watermarks (
    kind         TEXT PRIMARY KEY,
    last_id      BIGINT,
    last_updated BIGINT
);
