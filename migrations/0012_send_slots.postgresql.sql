-- The next free send slot of each business number, shared by every host (cloud_api's SharedPacer):
-- microseconds on the database's clock.
CREATE TABLE whatsapp_send_slots (
    phone_number_id TEXT PRIMARY KEY,
    next_slot_us BIGINT NOT NULL
);
