-- Templates as Meta defines them have a text header and buttons besides the body: the inbox asks
-- for their variables too, and the outbox's hand-sent text carries them. `header` may hold one
-- variable; `buttons` is a JSON array of {"type":"url","text","url"} (the address may end in
-- {{1}}) and {"type":"quick_reply","text"}. Both stay NULL for a body-only template.
ALTER TABLE whatsapp_templates ADD COLUMN header TEXT;
ALTER TABLE whatsapp_templates ADD COLUMN buttons TEXT;
