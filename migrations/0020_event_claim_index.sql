-- The events' claim index names status first (issue #13). The claim asks
-- WHERE status = 'pending' AND run_at <= $now ORDER BY run_at, id; with 0019's index on (run_at, id)
-- SQLite's planner, which has no statistics, took whatsapp_webhook_events_status_idx for the
-- equality on status and sorted the whole backlog for every claim (45 ms a claim of 64 events at a
-- backlog of 60,000, whatever the LIMIT). With status first the claim index matches the equality,
-- the range and the order, and is read alone (covering). Still partial: the size of the backlog,
-- not of the history. One file for both engines.
DROP INDEX whatsapp_webhook_events_claim_idx;
CREATE INDEX whatsapp_webhook_events_claim_idx ON whatsapp_webhook_events(status, run_at, id) WHERE status = 'pending';
