-- Two additions of issue 11 (staff input): relay copies and applied timing changes.

-- The staff copies of one relayed patient message, so that when one staff member
-- answers it the other copies can say "answered by Sam, <time>" (as alerts do).
-- `relay_of` is the patient's Telegram message id (unique within the patient's chat);
-- `relay_part` numbers the parts of a message too long for one Telegram message.
ALTER TABLE staff_threads ADD COLUMN relay_of INTEGER;
ALTER TABLE staff_threads ADD COLUMN relay_part INTEGER;
CREATE INDEX staff_threads_by_relay ON staff_threads(patient_id, relay_of)
    WHERE relay_of IS NOT NULL;

-- "Apply to enrolled patients" of a timing change applies once: who pressed it and when.
ALTER TABLE step_timings ADD COLUMN applied_at INTEGER;
ALTER TABLE step_timings ADD COLUMN applied_by INTEGER;
