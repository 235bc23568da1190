-- Meta's restrictions of the account end at a time Meta gives (account_update's
-- restriction_info[].expiration): past it, the alert no longer stops sends. NULL: until resolved.
ALTER TABLE whatsapp_alerts ADD COLUMN expires_at BIGINT;
