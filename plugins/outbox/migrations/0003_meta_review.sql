-- Meta's review of a template, from the message_template_status_update, _quality_update and
-- template_category_update webhooks and from `tawasul templates sync`. All NULL for a template Meta
-- never reviewed (local: sent by hand through the Outbox).
--   meta_status      APPROVED, PENDING, REJECTED, PAUSED, DISABLED, FLAGGED, ... as Meta spells it
--   meta_reason      why, when Meta said (a rejection reason, a pause's title)
--   meta_quality     GREEN, YELLOW, RED, UNKNOWN
--   meta_category    the category Meta holds (it may re-categorise: MARKETING, UTILITY, AUTHENTICATION)
--   meta_reviewed_at the time (seconds) Meta gave for the latest change applied: an older change
--                    delivered late changes nothing
ALTER TABLE whatsapp_templates ADD COLUMN meta_id TEXT;
ALTER TABLE whatsapp_templates ADD COLUMN meta_status TEXT;
ALTER TABLE whatsapp_templates ADD COLUMN meta_reason TEXT;
ALTER TABLE whatsapp_templates ADD COLUMN meta_quality TEXT;
ALTER TABLE whatsapp_templates ADD COLUMN meta_category TEXT;
ALTER TABLE whatsapp_templates ADD COLUMN meta_reviewed_at BIGINT;
