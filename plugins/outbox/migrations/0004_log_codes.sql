-- A log line says what happened as a code and its parameters, which the logs page renders in the
-- reader's language; `message` keeps the English sentence for the logs and for tools that read
-- the table. Rows written before this change have no code: the page shows their message.
-- One file for both engines.

ALTER TABLE whatsapp_logs ADD COLUMN code TEXT;
ALTER TABLE whatsapp_logs ADD COLUMN params TEXT;  -- JSON object of strings, or NULL
