-- Access control: staff invites, the active clinic per person, an audit trail.

-- Links gain two kinds: invites for staff and admins. SQLite cannot alter a CHECK
-- constraint, so the table is rebuilt.
CREATE TABLE links_new (
    hash        TEXT    PRIMARY KEY,
    kind        TEXT    NOT NULL CHECK (kind IN ('owner', 'admin', 'staff', 'patient')),
    clinic_id   INTEGER NOT NULL REFERENCES clinics(id),
    patient_id  INTEGER REFERENCES patients(id) ON DELETE CASCADE,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER,
    used_by     INTEGER,
    created_at  INTEGER NOT NULL,
    -- Who made the link (NULL for owner links made by the operator).
    created_by  INTEGER,
    -- Set when a newer link replaced this one before it was used.
    voided_at   INTEGER
);
INSERT INTO links_new (hash, kind, clinic_id, patient_id, expires_at, used_at, used_by, created_at)
    SELECT hash, kind, clinic_id, patient_id, expires_at, used_at, used_by, created_at FROM links;
DROP TABLE links;
ALTER TABLE links_new RENAME TO links;
CREATE INDEX links_by_patient ON links(patient_id);

-- How a staff member is shown to colleagues: their Telegram name when they joined.
ALTER TABLE staff ADD COLUMN display_name TEXT NOT NULL DEFAULT '';

-- The clinic a person acts for when they work for several.
CREATE TABLE active_clinic (
    user_id    INTEGER PRIMARY KEY,
    clinic_id  INTEGER NOT NULL REFERENCES clinics(id)
);

-- Who did what, when. Kept when a patient is erased: subjects are ids, never names.
CREATE TABLE audit (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    clinic_id  INTEGER NOT NULL,
    actor      INTEGER,
    action     TEXT    NOT NULL,
    subject    TEXT,
    detail     TEXT
);
CREATE INDEX audit_by_clinic ON audit(clinic_id, at);
