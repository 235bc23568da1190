-- Indexes for the admin inbox's filtered lists (plugins/admin_inbox). Every list is
-- ORDER BY last_message_at DESC, id DESC with a keyset condition on the same pair, so each filter
-- that is common enough to be the whole query gets an index that ends with that pair: the list is
-- then a walk down one index that stops after one page, at 100k conversations as at 100.
-- 0004 already has (last_message_at, id), (status, ...) and (assigned_user_id, ...).
-- Identical in both dialects, hence no dialect suffix.

-- "Mine" and "unassigned" together with a status (the default view of an agent: open, mine).
CREATE INDEX whatsapp_conversations_assigned_status_idx
    ON whatsapp_conversations(assigned_user_id, status, last_message_at DESC, id DESC);

-- The intent filter (b2b, registration, ...), alone or with a status (which then filters the
-- intent's rows in list order: intents are few and narrow enough).
CREATE INDEX whatsapp_conversations_intent_idx
    ON whatsapp_conversations(intent, last_message_at DESC, id DESC);

-- The unread total in the inbox header: only conversations with something unread, which are few.
CREATE INDEX whatsapp_conversations_unread_idx
    ON whatsapp_conversations(status, unread_count) WHERE unread_count > 0;
