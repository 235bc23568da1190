-- A private table of the `good` test plugin, to test plugin-owned migrations.
CREATE TABLE good_items (id INTEGER PRIMARY KEY, label TEXT NOT NULL);
