-- Roles, the permissions named in DESIGN.md "Admin", and the default grants.
-- Identical in both dialects, hence no dialect suffix. Grants join on names so
-- no id is hard-coded.

INSERT INTO roles (name) VALUES ('admin'), ('agent'), ('viewer');

INSERT INTO permissions (name, owner) VALUES
    ('whatsapp.inbox.view',       'host'),
    ('whatsapp.inbox.reply',      'host'),
    ('whatsapp.inbox.assign',     'host'),
    ('whatsapp.inbox.resolve',    'host'),
    ('whatsapp.leads.manage',     'host'),
    ('whatsapp.outbox.manage',    'host'),
    ('whatsapp.templates.manage', 'host'),
    ('whatsapp.webhooks.view',    'host'),
    ('whatsapp.settings.manage',  'host');

-- admin: every permission that exists at this point. A permission declared
-- later (by a plugin or a later migration) needs its own grant.
INSERT INTO role_permissions (role_id, permission_id)
SELECT r.id, p.id
FROM roles r
CROSS JOIN permissions p
WHERE r.name = 'admin';

INSERT INTO role_permissions (role_id, permission_id)
SELECT r.id, p.id
FROM roles r
JOIN permissions p ON p.name IN (
    'whatsapp.inbox.view',
    'whatsapp.inbox.reply',
    'whatsapp.inbox.assign',
    'whatsapp.inbox.resolve',
    'whatsapp.leads.manage',
    'whatsapp.outbox.manage')
WHERE r.name = 'agent';

INSERT INTO role_permissions (role_id, permission_id)
SELECT r.id, p.id
FROM roles r
JOIN permissions p ON p.name IN ('whatsapp.inbox.view', 'whatsapp.webhooks.view')
WHERE r.name = 'viewer';
