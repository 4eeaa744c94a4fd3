-- Whether a relayed patient message's staff copy is a photo (its words are the
-- caption) or text, so that erasing the patient can rewrite every copy with the right
-- Telegram method (editMessageCaption or editMessageText). Copies recorded before this
-- column read as text; a photo among them refuses the text edit, which is only logged.
ALTER TABLE staff_threads ADD COLUMN relay_photo INTEGER NOT NULL DEFAULT 0;
