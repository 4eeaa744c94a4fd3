-- Times are Unix milliseconds (UTC). Local times are computed, never stored.

CREATE TABLE clinics (
    id             INTEGER PRIMARY KEY,
    name           TEXT    NOT NULL,
    timezone       TEXT    NOT NULL,
    quiet_start    TEXT    NOT NULL DEFAULT '21:00',
    quiet_end      TEXT    NOT NULL DEFAULT '08:00',
    default_plan   TEXT    NOT NULL DEFAULT 'microneedling',
    default_lang   TEXT    NOT NULL DEFAULT 'en',
    contact        TEXT    NOT NULL DEFAULT '',
    link_ttl_secs  INTEGER NOT NULL DEFAULT 1209600,
    created_at     INTEGER NOT NULL
);

-- People who work for a clinic, by Telegram user id.
CREATE TABLE staff (
    clinic_id   INTEGER NOT NULL REFERENCES clinics(id),
    user_id     INTEGER NOT NULL,
    role        TEXT    NOT NULL CHECK (role IN ('owner', 'admin', 'staff')),
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (clinic_id, user_id)
);
CREATE INDEX staff_by_user ON staff(user_id);

CREATE TABLE patients (
    id           INTEGER PRIMARY KEY,
    clinic_id    INTEGER NOT NULL REFERENCES clinics(id),
    name         TEXT    NOT NULL,
    plan         TEXT    NOT NULL,
    session_at   INTEGER NOT NULL,
    -- Set when the patient opens their link; a private chat's id equals the user's id.
    chat_id      INTEGER,
    lang         TEXT,
    status       TEXT    NOT NULL CHECK (status IN ('invited', 'active', 'stopped', 'unreachable')),
    enrolled_by  INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    linked_at    INTEGER
);
CREATE INDEX patients_by_clinic ON patients(clinic_id);
CREATE INDEX patients_by_chat ON patients(chat_id);

-- One-time deep links. Only the SHA-256 of a payload is stored.
CREATE TABLE links (
    hash        TEXT    PRIMARY KEY,
    kind        TEXT    NOT NULL CHECK (kind IN ('owner', 'patient')),
    clinic_id   INTEGER NOT NULL REFERENCES clinics(id),
    patient_id  INTEGER REFERENCES patients(id) ON DELETE CASCADE,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER,
    used_by     INTEGER,
    created_at  INTEGER NOT NULL
);

-- One row per course step per patient: the scheduler's whole state.
CREATE TABLE reminders (
    id                   INTEGER PRIMARY KEY,
    patient_id           INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    step_id              TEXT    NOT NULL,
    due_at               INTEGER NOT NULL,
    expires_at           INTEGER,
    status               TEXT    NOT NULL CHECK (status IN ('pending', 'leased', 'sent', 'skipped', 'cancelled', 'failed')),
    lease_until          INTEGER,
    attempts             INTEGER NOT NULL DEFAULT 0,
    telegram_message_id  INTEGER,
    sent_at              INTEGER,
    -- Why a row was skipped, cancelled or failed; never message text.
    note                 TEXT,
    UNIQUE (patient_id, step_id)
);
CREATE INDEX reminders_pending_due ON reminders(due_at) WHERE status = 'pending';
CREATE INDEX reminders_leased ON reminders(lease_until) WHERE status = 'leased';
