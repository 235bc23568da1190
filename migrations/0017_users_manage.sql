-- users.manage: the admin's users page (list, add, change role, deactivate, reset a password, end
-- sessions). Held by the admin role only. One file for both engines.
INSERT INTO permissions (name, owner) VALUES ('users.manage', 'host');
INSERT INTO role_permissions (role_id, permission_id)
SELECT r.id, p.id FROM roles r JOIN permissions p ON p.name = 'users.manage'
WHERE r.name = 'admin';
