-- Care between the scheduled steps: check-in answers, alerts to staff, and the map that
-- lets a staff member's Telegram reply reach the right patient.

-- A patient's answer to a check-in step (or to "contact me to book"): the first answer
-- counts, one per step per session of a series.
CREATE TABLE checkin_answers (
    patient_id   INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    step_id      TEXT    NOT NULL,
    session_no   INTEGER NOT NULL DEFAULT 1,
    answer       TEXT    NOT NULL,
    answered_at  INTEGER NOT NULL,
    PRIMARY KEY (patient_id, step_id, session_no)
);

-- Where a patient is in a series of sessions; no row means session 1, no total.
CREATE TABLE series (
    patient_id  INTEGER PRIMARY KEY REFERENCES patients(id) ON DELETE CASCADE,
    session_no  INTEGER NOT NULL DEFAULT 1,
    total       INTEGER
);

-- Something a clinic's staff must act on. Open until someone marks it handled.
-- `realert_at` is when the owners are told again if it is still open; the scheduler
-- sleeps until the earliest one. NULL once the re-alert went out (or it was handled).
CREATE TABLE alerts (
    id               INTEGER PRIMARY KEY,
    clinic_id        INTEGER NOT NULL REFERENCES clinics(id),
    patient_id       INTEGER REFERENCES patients(id) ON DELETE CASCADE,
    kind             TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    realert_at       INTEGER,
    realerted_at     INTEGER,
    handled_by       INTEGER,
    handled_by_name  TEXT,
    handled_at       INTEGER
);
CREATE INDEX alerts_open_by_clinic ON alerts(clinic_id) WHERE handled_at IS NULL;
CREATE INDEX alerts_realert_due ON alerts(realert_at) WHERE realert_at IS NOT NULL;

-- Messages the bot sent to staff on a patient's behalf (alerts, relayed messages):
-- a staff member's Telegram reply to one of them goes to this patient. NULL once the
-- patient is erased, so a late reply is told why it went nowhere.
CREATE TABLE staff_threads (
    chat_id     INTEGER NOT NULL,
    message_id  INTEGER NOT NULL,
    clinic_id   INTEGER NOT NULL REFERENCES clinics(id),
    patient_id  INTEGER REFERENCES patients(id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (chat_id, message_id)
);

-- A patient's next appointment: one row per patient, moved by /book, cancelled by
-- /unbook. Its messages are rows in `reminders` (step ids `booking-…`).
CREATE TABLE bookings (
    id          INTEGER PRIMARY KEY,
    clinic_id   INTEGER NOT NULL REFERENCES clinics(id),
    patient_id  INTEGER NOT NULL UNIQUE REFERENCES patients(id) ON DELETE CASCADE,
    starts_at   INTEGER NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('booked', 'cancelled')),
    -- The patient's answer to the reminder buttons: 'yes' or 'reschedule'.
    answer      TEXT,
    booked_by   INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
