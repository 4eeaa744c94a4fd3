-- One person, several courses, several clinics (issue 11).
--
-- `erased_at`: when the patient erased their data (/delete). An erased record is final:
-- no staff command revives or relinks it.
-- `replaced_by`/`replaced_at`: a newer course from the same clinic, linked in the same
-- chat, took this one's place (courses from other clinics run alongside).
-- `stopped_by`: who stopped the reminders of a 'stopped' record: 'patient' (/stop),
-- 'pause' or 'cancel' (staff), 'replaced', 'erased'. A patient's /resume undoes only
-- their own stop. NULL on records stopped before this column existed: read as the
-- patient's own.
ALTER TABLE patients ADD COLUMN erased_at INTEGER;
ALTER TABLE patients ADD COLUMN replaced_by INTEGER REFERENCES patients(id);
ALTER TABLE patients ADD COLUMN replaced_at INTEGER;
ALTER TABLE patients ADD COLUMN stopped_by TEXT
    CHECK (stopped_by IN ('patient', 'pause', 'cancel', 'replaced', 'erased'));

-- Records erased before: the erasure's audit row tells when.
UPDATE patients SET stopped_by = 'erased', erased_at = COALESCE(
    (SELECT MIN(a.at) FROM audit a WHERE a.action = 'erase' AND a.subject = 'patient ' || patients.id),
    created_at)
 WHERE name = '' AND chat_id IS NULL AND linked_at IS NOT NULL;
-- Records the clinic paused or cancelled before: their reminders carry the note.
UPDATE patients SET stopped_by = 'cancel' WHERE status = 'stopped' AND stopped_by IS NULL
   AND EXISTS (SELECT 1 FROM reminders r WHERE r.patient_id = patients.id AND r.note = 'cancelled by the clinic');
UPDATE patients SET stopped_by = 'pause' WHERE status = 'stopped' AND stopped_by IS NULL
   AND EXISTS (SELECT 1 FROM reminders r WHERE r.patient_id = patients.id AND r.note = 'paused by the clinic');
-- Courses a newer link ended before (then in any clinic): the newer course of the chat
-- replaced them, so none comes back with a /resume and nothing planned.
UPDATE patients SET stopped_by = 'replaced',
       replaced_by = (SELECT n.id FROM patients n WHERE n.chat_id = patients.chat_id AND n.id != patients.id
                        AND n.linked_at >= patients.linked_at ORDER BY n.linked_at, n.id LIMIT 1),
       replaced_at = (SELECT n.linked_at FROM patients n WHERE n.chat_id = patients.chat_id AND n.id != patients.id
                        AND n.linked_at >= patients.linked_at ORDER BY n.linked_at, n.id LIMIT 1)
 WHERE status = 'stopped' AND stopped_by IS NULL AND chat_id IS NOT NULL
   AND EXISTS (SELECT 1 FROM reminders r WHERE r.patient_id = patients.id AND r.note = 'replaced by a newer course')
   AND EXISTS (SELECT 1 FROM patients n WHERE n.chat_id = patients.chat_id AND n.id != patients.id
                 AND n.linked_at >= patients.linked_at);
-- No erased person's Telegram id stays in the audit trail.
UPDATE audit SET actor = NULL
 WHERE action IN ('erase', 'link')
   AND subject IN (SELECT 'patient ' || id FROM patients WHERE erased_at IS NOT NULL);

-- A patient's message waiting for them to say which clinic it is for (a chat that
-- follows courses of several clinics). Deleted once passed on, and on erasure.
CREATE TABLE relay_choices (
    id          INTEGER PRIMARY KEY,
    chat_id     INTEGER NOT NULL,
    -- 'text' or 'photo'
    kind        TEXT    NOT NULL CHECK (kind IN ('text', 'photo')),
    body        TEXT    NOT NULL,
    file_id     TEXT,
    created_at  INTEGER NOT NULL
);
CREATE INDEX relay_choices_by_chat ON relay_choices(chat_id);
