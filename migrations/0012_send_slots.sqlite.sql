-- On SQLite there is one host, which paces in memory; the table keeps both schemas the same.
CREATE TABLE whatsapp_send_slots (
    phone_number_id TEXT PRIMARY KEY,
    next_slot_us BIGINT NOT NULL
);
