-- Host tables: settings, users, roles, permissions, sessions, API tokens.
-- One file for both engines: the {{...}} tokens are filled in per dialect by the Migrator.
--
-- Conventions (all migrations):
--   * ids are {{ID_PRIMARY_KEY}}: SQLite's INTEGER PRIMARY KEY (rowid alias), PostgreSQL's
--     BIGINT identity. Columns that hold an id or a time are declared BIGINT (on SQLite
--     both have INTEGER affinity, and Poco 1.11 RecordSet reports both as Int64).
--   * {{NOW_MS}} is the current time in milliseconds, {{BLOB}} the type of raw bytes.
--   * times are milliseconds since the Unix epoch, UTC, in columns ending in _at.
--     The defaults are a convenience for seeds and hand-written SQL: the host
--     writes the value of its own clock.
--   * booleans are INTEGER 0/1.

CREATE TABLE site_settings (
    id         {{ID_PRIMARY_KEY}},
    key        TEXT    NOT NULL UNIQUE,
    value      TEXT,
    -- 1: value is base64(nonce || AES-256-GCM ciphertext || tag), never plaintext.
    encrypted  INTEGER NOT NULL DEFAULT 0 CHECK (encrypted IN (0, 1)),
    updated_at BIGINT  NOT NULL DEFAULT ({{NOW_MS}})
);

CREATE TABLE users (
    id            {{ID_PRIMARY_KEY}},
    -- Stored lower-case by the host (no CHECK: lower() is ASCII-only in SQLite and
    -- Unicode-aware in PostgreSQL, so a CHECK would disagree between dialects).
    email         TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL DEFAULT '',
    password_hash TEXT,                          -- argon2id string, NULL = cannot log in
    locale        TEXT    NOT NULL DEFAULT 'en', -- en, fr, ar
    is_active     INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    created_at    BIGINT  NOT NULL DEFAULT ({{NOW_MS}}),
    updated_at    BIGINT  NOT NULL DEFAULT ({{NOW_MS}})
);

CREATE TABLE roles (
    id   {{ID_PRIMARY_KEY}},
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE permissions (
    id    {{ID_PRIMARY_KEY}},
    name  TEXT NOT NULL UNIQUE,
    owner TEXT NOT NULL DEFAULT 'host'  -- the plugin (or 'host') that declared it
);

CREATE TABLE role_permissions (
    role_id       BIGINT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    permission_id BIGINT NOT NULL REFERENCES permissions(id) ON DELETE CASCADE,
    PRIMARY KEY (role_id, permission_id)
);
CREATE INDEX role_permissions_permission_idx ON role_permissions(permission_id);

CREATE TABLE user_roles (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role_id BIGINT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, role_id)
);
CREATE INDEX user_roles_role_idx ON user_roles(role_id);

CREATE TABLE sessions (
    id           TEXT    NOT NULL PRIMARY KEY,  -- hash of the cookie token (NOT NULL: SQLite lets a non-integer PK be NULL)
    user_id      BIGINT  NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token   TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL DEFAULT ({{NOW_MS}}),
    last_seen_at BIGINT  NOT NULL DEFAULT ({{NOW_MS}}),
    expires_at   BIGINT  NOT NULL,
    ip           TEXT,
    user_agent   TEXT
);
CREATE INDEX sessions_user_idx ON sessions(user_id);
CREATE INDEX sessions_expires_idx ON sessions(expires_at);

CREATE TABLE api_tokens (
    id           {{ID_PRIMARY_KEY}},
    name         TEXT   NOT NULL,
    token_hash   TEXT   NOT NULL UNIQUE,      -- SHA-256 of the token (the token is shown once)
    scopes       TEXT   NOT NULL DEFAULT '',  -- space-separated permission names
    created_at   BIGINT NOT NULL DEFAULT ({{NOW_MS}}),
    last_used_at BIGINT,
    revoked_at   BIGINT
);
