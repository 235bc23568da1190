-- The durable job queue, one file for both engines ({{...}} tokens filled in per
-- dialect by the Migrator). On PostgreSQL workers claim with
-- FOR UPDATE SKIP LOCKED, on SQLite the single writer serialises claims.
-- A running job whose lease (locked_until) has passed may be claimed again.

CREATE TABLE jobs (
    id           {{ID_PRIMARY_KEY}},
    type         TEXT    NOT NULL,                -- e.g. 'whatsapp.webhook_event'
    payload      TEXT    NOT NULL DEFAULT '{}',   -- JSON
    status       TEXT    NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'running', 'done', 'failed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL DEFAULT 8,
    run_at       BIGINT  NOT NULL,                -- not before, retries push it forward
    locked_by    TEXT,                            -- worker id (host:pid:thread)
    locked_until BIGINT,                          -- lease expiry
    last_error   TEXT,
    created_at   BIGINT  NOT NULL DEFAULT ({{NOW_MS}}),
    updated_at   BIGINT  NOT NULL DEFAULT ({{NOW_MS}}),
    finished_at  BIGINT,
    ref_table    TEXT,                            -- the row this job is about, e.g. whatsapp_webhook_events
    ref_id       BIGINT
);
-- Claim: WHERE status = 'pending' AND run_at <= $now ORDER BY run_at, id.
CREATE INDEX jobs_claim_idx ON jobs(status, run_at, id);
-- Reclaim expired leases: WHERE status = 'running' AND locked_until < $now.
CREATE INDEX jobs_lease_idx ON jobs(status, locked_until);
CREATE INDEX jobs_ref_idx ON jobs(ref_table, ref_id);
