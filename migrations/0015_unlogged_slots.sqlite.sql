-- Twin of 0015_unlogged_slots.postgresql.sql, which makes the send slots UNLOGGED (SQLite has no
-- such tables, and on SQLite, one host, pacing stays in memory: nothing writes these tables). The
-- pair-rate table is created here too so that both schemas are the same.
CREATE TABLE whatsapp_pair_slots (
    phone_number_id TEXT    NOT NULL,
    recipient       TEXT    NOT NULL,
    paid_until_us   BIGINT  NOT NULL,
    burst_until_us  BIGINT  NOT NULL,
    burst_left      INTEGER NOT NULL,
    PRIMARY KEY (phone_number_id, recipient)
);
