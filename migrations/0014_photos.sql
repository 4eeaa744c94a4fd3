-- Photo check-ins (issue 13): a patient's photo that answered a photo request (a plan
-- step with `photo = true`). Only Telegram's references to the picture are kept, never
-- the picture or its caption: `file_id` (what the bot sends it back by) and
-- `file_unique_id` (the same picture, whichever message carried it, so a repeated
-- update or the same picture sent twice is kept once). `step_id` is the request it
-- answered, `course_day` the day of the course it came on (0 = the session day, in the
-- patient's zone). Erasing the patient (/delete) deletes their rows.
CREATE TABLE patient_photos (
    id              INTEGER PRIMARY KEY,
    patient_id      INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    clinic_id       INTEGER NOT NULL REFERENCES clinics(id),
    step_id         TEXT    NOT NULL,
    course_day      INTEGER NOT NULL,
    file_id         TEXT    NOT NULL,
    file_unique_id  TEXT    NOT NULL,
    received_at     INTEGER NOT NULL,
    UNIQUE (patient_id, file_unique_id)
);
CREATE INDEX patient_photos_by_patient ON patient_photos(patient_id, received_at, id);
