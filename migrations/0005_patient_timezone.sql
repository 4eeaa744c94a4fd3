-- A patient who travels can have their reminders follow their own zone (/timezone).
-- NULL means the clinic's zone.
ALTER TABLE patients ADD COLUMN timezone TEXT;
