-- What Meta last said about each business number in phone_number_quality_update: its messaging
-- limit tier (Meta's word, e.g. TIER_1K) and whether its quality is flagged, each as of Meta's time
-- for the change that set it, so that a change delivered late undoes nothing newer. Every host reads
-- it for /metrics and the settings page.
CREATE TABLE whatsapp_number_health (
    display_phone TEXT PRIMARY KEY,
    messaging_limit TEXT,
    limit_at BIGINT NOT NULL DEFAULT 0,
    quality_flagged INTEGER NOT NULL DEFAULT 0,
    flagged_at BIGINT NOT NULL DEFAULT 0
);
