-- The stored webhook event is its own queue entry (issue #13): the host's JobRunner claims
-- process_webhook_event work from this table directly, so the webhook's commit writes one row per
-- event instead of an event and a job, and a claim and a finish update one row instead of two.
-- status keeps its names and meanings (pending, processing, processed, failed), as do attempts,
-- last_error and processed_at. One file for both engines.
ALTER TABLE whatsapp_webhook_events ADD COLUMN run_at BIGINT NOT NULL DEFAULT 0;  -- not before (retries push it forward)
ALTER TABLE whatsapp_webhook_events ADD COLUMN locked_by TEXT;                    -- the claiming host's worker id
ALTER TABLE whatsapp_webhook_events ADD COLUMN locked_until BIGINT;               -- lease expiry, as in jobs
-- Claim: WHERE status = 'pending' AND run_at <= $now ORDER BY run_at, id; the pending rows only,
-- so the index stays the size of the backlog, not of the history.
CREATE INDEX whatsapp_webhook_events_claim_idx ON whatsapp_webhook_events(run_at, id) WHERE status = 'pending';
-- Reclaim expired leases (WHERE status = 'processing' AND locked_until < $now) reads the few
-- claimed rows through whatsapp_webhook_events_status_idx: an index of its own on locked_until
-- would be written at every claim, finish and lease extension for no gain.

-- An upgrade loses nothing: every event with a pending or running process_webhook_event job
-- becomes a pending event, due when its job was (attempts as its job counted them), and the jobs go.
UPDATE whatsapp_webhook_events
SET status = 'pending', processed_at = NULL, locked_by = NULL, locked_until = NULL,
    run_at = (SELECT MIN(j.run_at) FROM jobs j WHERE j.type = 'process_webhook_event' AND j.status IN ('pending', 'running')
              AND j.ref_table = 'whatsapp_webhook_events' AND j.ref_id = whatsapp_webhook_events.id),
    attempts = (SELECT MIN(j.attempts) FROM jobs j WHERE j.type = 'process_webhook_event' AND j.status IN ('pending', 'running')
                AND j.ref_table = 'whatsapp_webhook_events' AND j.ref_id = whatsapp_webhook_events.id)
WHERE id IN (SELECT ref_id FROM jobs WHERE type = 'process_webhook_event' AND status IN ('pending', 'running')
             AND ref_table = 'whatsapp_webhook_events');
DELETE FROM jobs WHERE type = 'process_webhook_event' AND status IN ('pending', 'running');
