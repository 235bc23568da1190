-- One open alert per source and code, held by the database: two hosts (or two batches) raising the
-- same alert at once each saw none open and inserted one. Duplicates already there are resolved,
-- the first kept; the writers insert with ON CONFLICT DO NOTHING against this index.
UPDATE whatsapp_alerts SET resolved_at = created_at
 WHERE resolved_at IS NULL
   AND id NOT IN (SELECT MIN(id) FROM whatsapp_alerts WHERE resolved_at IS NULL GROUP BY source, code);
CREATE UNIQUE INDEX whatsapp_alerts_one_open ON whatsapp_alerts (source, code) WHERE resolved_at IS NULL;
