-- Admin sign-in: failed attempts for throttling, and the permission every signed-in user holds.
-- One file for both engines: the {{...}} tokens are filled in per dialect by the Migrator.

-- One row per failed sign-in, counted twice: once for the account (the e-mail as typed, lower-case)
-- and once for the client address. Kept in the database so that the limit holds across hosts.
-- Rows older than the window are deleted when a new failure is recorded.
CREATE TABLE sign_in_failures (
    id        {{ID_PRIMARY_KEY}},
    scope     TEXT   NOT NULL CHECK (scope IN ('account', 'address')),
    subject   TEXT   NOT NULL,
    failed_at BIGINT NOT NULL
);
CREATE INDEX sign_in_failures_subject_idx ON sign_in_failures(scope, subject, failed_at);

-- admin.self: sign out, choose one's language, see the admin home. Every role holds it.
INSERT INTO permissions (name, owner) VALUES ('admin.self', 'host');
INSERT INTO role_permissions (role_id, permission_id)
SELECT r.id, p.id FROM roles r JOIN permissions p ON p.name = 'admin.self'
WHERE r.name IN ('admin', 'agent', 'viewer');
