-- Records of the training platform itself, read by the contact matcher (phone
-- matching goes through the normalised index table of the matcher, so there is
-- no index on the raw phone columns here).
-- SQLite dialect. 0003_platform.postgresql.sql must stay column-for-column identical.

CREATE TABLE organizations (
    id         INTEGER PRIMARY KEY,
    name       TEXT   NOT NULL,
    phone      TEXT,
    email      TEXT,
    city       TEXT,
    created_at BIGINT NOT NULL DEFAULT (CAST(ROUND((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER))
);

CREATE TABLE registrations (
    id         INTEGER PRIMARY KEY,
    full_name  TEXT   NOT NULL,
    phone      TEXT,
    email      TEXT,
    programme  TEXT,
    status     TEXT   NOT NULL DEFAULT 'pending',
    created_at BIGINT NOT NULL DEFAULT (CAST(ROUND((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER))
);

CREATE TABLE enrollments (
    id              INTEGER PRIMARY KEY,
    registration_id BIGINT REFERENCES registrations(id) ON DELETE SET NULL,
    full_name       TEXT   NOT NULL,
    phone           TEXT,
    programme       TEXT,
    status          TEXT   NOT NULL DEFAULT 'active',
    created_at      BIGINT NOT NULL DEFAULT (CAST(ROUND((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER))
);
CREATE INDEX enrollments_registration_idx ON enrollments(registration_id);

CREATE TABLE b2b_leads (
    id              INTEGER PRIMARY KEY,
    organization_id BIGINT REFERENCES organizations(id) ON DELETE SET NULL,
    contact_name    TEXT,
    phone           TEXT,
    email           TEXT,
    source          TEXT   NOT NULL DEFAULT 'whatsapp',
    status          TEXT   NOT NULL DEFAULT 'new',
    notes           TEXT,
    created_at      BIGINT NOT NULL DEFAULT (CAST(ROUND((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER)),
    updated_at      BIGINT NOT NULL DEFAULT (CAST(ROUND((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER))
);
CREATE INDEX b2b_leads_organization_idx ON b2b_leads(organization_id);
-- Leads page: newest first, optionally filtered by status.
CREATE INDEX b2b_leads_status_created_idx ON b2b_leads(status, created_at DESC, id DESC);
CREATE INDEX b2b_leads_created_idx ON b2b_leads(created_at DESC, id DESC);
