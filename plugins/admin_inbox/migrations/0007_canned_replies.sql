-- Canned replies: a title, a shortcut (one word, lower case, unique: "/horaires" in the reply box)
-- and the text in one or more of the admin's languages, with fields such as name and phone (written in double braces) filled from the
-- conversation's contact when inserted. Managed under whatsapp.replies.manage (host migration
-- 0018). One file for both engines.

CREATE TABLE whatsapp_canned_replies (
    id                 {{ID_PRIMARY_KEY}},
    title              TEXT   NOT NULL,
    shortcut           TEXT   NOT NULL UNIQUE,
    body_en            TEXT,
    body_fr            TEXT,
    body_ar            TEXT,
    created_by_user_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    CHECK (body_en IS NOT NULL OR body_fr IS NOT NULL OR body_ar IS NOT NULL)
);
