-- The next free send slot of each business number, shared by every host (cloud_api's SharedPacer on
-- PostgreSQL): microseconds on the database's clock. On SQLite (one host) pacing stays in memory and
-- nothing writes it; the table is there so that both schemas are the same.
CREATE TABLE whatsapp_send_slots (
    phone_number_id TEXT   PRIMARY KEY,
    next_slot_us    BIGINT NOT NULL
);
