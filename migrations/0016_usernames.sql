-- Usernames and business-scoped user ids (BSUIDs): a WhatsApp user with a username may come with
-- only `user_id` (already a column) and `profile.username`, shown by the inbox; a status names its
-- recipient by `recipient_user_id` besides (or instead of) `recipient_id`.
-- The same in both dialects.

ALTER TABLE whatsapp_contacts ADD COLUMN username TEXT;
ALTER TABLE whatsapp_message_statuses ADD COLUMN recipient_user_id TEXT;
