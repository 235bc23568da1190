-- Twin of 0015_unlogged_slots.sqlite.sql; the two differ because only PostgreSQL has UNLOGGED
-- tables. Send slots (cloud_api's SharedPacer) are reserved once per message by every host: on a
-- logged table each reservation's commit waited for the WAL to reach the disk with the number's
-- row locked, so reservations queued behind each other's fsync (about 4 ms each with 12 workers,
-- far below 1,000 a second). An unlogged table writes no WAL. A crash of the database server
-- empties it, which only restarts the slots from "now": the pacers write the rows back.
ALTER TABLE whatsapp_send_slots SET UNLOGGED;

-- Meta's pair rate (error 131056) per business number and recipient, shared by every host the same
-- way (cloud_api's PairPacer): microseconds on the database's clock. `paid_until_us`: when what was
-- sent to this recipient is paid for at one message per interval; a burst of `burst_left` more
-- messages may go until `burst_until_us`. A row whose paid_until_us has passed says nothing and is
-- deleted from time to time.
CREATE UNLOGGED TABLE whatsapp_pair_slots (
    phone_number_id TEXT    NOT NULL,
    recipient       TEXT    NOT NULL,
    paid_until_us   BIGINT  NOT NULL,
    burst_until_us  BIGINT  NOT NULL,
    burst_left      INTEGER NOT NULL,
    PRIMARY KEY (phone_number_id, recipient)
);
