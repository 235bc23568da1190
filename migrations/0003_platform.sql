-- Records of the training platform itself, read by the contact matcher (phone
-- matching goes through the normalised index table of the matcher, so there is
-- no index on the raw phone columns here).
-- One file for both engines: the {{...}} tokens are filled in per dialect by the Migrator.

CREATE TABLE organizations (
    id         {{ID_PRIMARY_KEY}},
    name       TEXT   NOT NULL,
    phone      TEXT,
    email      TEXT,
    city       TEXT,
    created_at BIGINT NOT NULL DEFAULT ({{NOW_MS}})
);

CREATE TABLE registrations (
    id         {{ID_PRIMARY_KEY}},
    full_name  TEXT   NOT NULL,
    phone      TEXT,
    email      TEXT,
    programme  TEXT,
    status     TEXT   NOT NULL DEFAULT 'pending',
    created_at BIGINT NOT NULL DEFAULT ({{NOW_MS}})
);

CREATE TABLE enrollments (
    id              {{ID_PRIMARY_KEY}},
    registration_id BIGINT REFERENCES registrations(id) ON DELETE SET NULL,
    full_name       TEXT   NOT NULL,
    phone           TEXT,
    programme       TEXT,
    status          TEXT   NOT NULL DEFAULT 'active',
    created_at      BIGINT NOT NULL DEFAULT ({{NOW_MS}})
);
CREATE INDEX enrollments_registration_idx ON enrollments(registration_id);

CREATE TABLE b2b_leads (
    id              {{ID_PRIMARY_KEY}},
    organization_id BIGINT REFERENCES organizations(id) ON DELETE SET NULL,
    contact_name    TEXT,
    phone           TEXT,
    email           TEXT,
    source          TEXT   NOT NULL DEFAULT 'whatsapp',
    status          TEXT   NOT NULL DEFAULT 'new',
    notes           TEXT,
    created_at      BIGINT NOT NULL DEFAULT ({{NOW_MS}}),
    updated_at      BIGINT NOT NULL DEFAULT ({{NOW_MS}})
);
CREATE INDEX b2b_leads_organization_idx ON b2b_leads(organization_id);
-- Leads page: newest first, optionally filtered by status.
CREATE INDEX b2b_leads_status_created_idx ON b2b_leads(status, created_at DESC, id DESC);
CREATE INDEX b2b_leads_created_idx ON b2b_leads(created_at DESC, id DESC);
