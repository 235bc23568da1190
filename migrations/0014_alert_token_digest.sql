-- Which access token an open cloud_api alert is about (the first 16 hex digits of its SHA-256), so
-- that every host stops sending with that token at once and resumes when it is replaced.
ALTER TABLE whatsapp_alerts ADD COLUMN token_digest TEXT;
