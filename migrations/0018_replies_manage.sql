-- whatsapp.replies.manage: the canned replies page of admin_inbox (list, add, change, delete the
-- texts agents insert in a reply by typing /shortcut). Using them needs whatsapp.inbox.reply only.
-- Held by the admin and agent roles (agents write their own answers); the viewer role, read-only,
-- does not get it. One file for both engines.
INSERT INTO permissions (name, owner) VALUES ('whatsapp.replies.manage', 'host');
INSERT INTO role_permissions (role_id, permission_id)
SELECT r.id, p.id FROM roles r JOIN permissions p ON p.name = 'whatsapp.replies.manage'
WHERE r.name IN ('admin', 'agent');
