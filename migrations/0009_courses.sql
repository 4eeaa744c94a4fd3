-- A clinic's own courses (treatments), besides the plans in the messages folder.
-- Every version is the whole course file (timing and wording, see src/course_file.rs);
-- the latest is in force. At most one course per clinic is its default; none means
-- the clinic's default plan from the messages folder.
CREATE TABLE courses (
    id          INTEGER PRIMARY KEY,
    clinic_id   INTEGER NOT NULL REFERENCES clinics(id),
    key         TEXT    NOT NULL,
    is_default  INTEGER NOT NULL DEFAULT 0,
    created_by  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (clinic_id, key)
);

CREATE TABLE course_versions (
    id         INTEGER PRIMARY KEY,
    course_id  INTEGER NOT NULL REFERENCES courses(id),
    version    INTEGER NOT NULL,
    body       TEXT    NOT NULL,
    saved_by   INTEGER NOT NULL,
    saved_at   INTEGER NOT NULL,
    UNIQUE (course_id, version)
);

-- One patient's own changes to their course (/adjust, /note), for the session they
-- are in. `moved` and `off` change that step's reminder; a `note` is a personal line
-- shown with one reminder (`reminder_id`, the next one when it was written). Erasing
-- the patient deletes their rows.
CREATE TABLE patient_adjustments (
    id           INTEGER PRIMARY KEY,
    patient_id   INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    kind         TEXT    NOT NULL CHECK (kind IN ('moved', 'off', 'note')),
    step_id      TEXT    NOT NULL,
    after        TEXT,
    body         TEXT,
    reminder_id  INTEGER REFERENCES reminders(id) ON DELETE SET NULL,
    saved_by     INTEGER NOT NULL,
    saved_at     INTEGER NOT NULL
);
CREATE INDEX patient_adjustments_by_patient ON patient_adjustments(patient_id, id);
CREATE INDEX patient_adjustments_by_reminder ON patient_adjustments(reminder_id);
