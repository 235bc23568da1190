-- Inbound media (images, audio, video, documents, stickers): one row per message whose media the
-- fetch_media job has tried. The bytes are a file named by their SHA-256 under admin_inbox's
-- media.dir (several messages may share one); this row says which, and what became of the fetch:
-- pending (error_detail holds the last passing error while the job retries), stored, or failed
-- for good with its reason word (expired, not_found, too_large, checksum, type, refused, gave_up).
-- One file for both engines.

CREATE TABLE whatsapp_media (
    message_id   BIGINT  PRIMARY KEY REFERENCES whatsapp_messages(id) ON DELETE CASCADE,
    media_id     TEXT    NOT NULL,          -- the provider's id (Meta's expire after 7 days)
    status       TEXT    NOT NULL CHECK (status IN ('pending', 'stored', 'failed')),
    sha256       TEXT,                      -- stored: lower-case hex of the bytes, the file's name
    mime_type    TEXT,                      -- stored: the type it is served with
    size_bytes   BIGINT,
    filename     TEXT,                      -- a document's name as sent
    error        TEXT,
    error_detail TEXT,
    attempts     INTEGER NOT NULL DEFAULT 0,
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL
);
-- Which messages share a file (operations: before removing one, see docs/operations.md).
CREATE INDEX whatsapp_media_sha256_idx ON whatsapp_media(sha256);

-- The bytes themselves when admin_inbox's media.storage is `database` (by default they are files
-- under media.dir and this table stays empty): one row per content, as one file per content.
CREATE TABLE whatsapp_media_blobs (
    sha256     TEXT   PRIMARY KEY,
    bytes      {{BLOB}} NOT NULL,
    size_bytes BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
