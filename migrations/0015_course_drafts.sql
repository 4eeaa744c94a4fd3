-- A course file an owner or admin sent, checked and previewed, waiting for Save. It
-- survives a restart; Save writes it as a new course or a new version of `key` only if
-- the version in force is still `base_version` (NULL: there was no such course), and
-- marks the draft saved so a second press says so. A newer file from the same person
-- replaces an unsaved one; drafts older than a day are refused and cleared. Ids are
-- never reused (AUTOINCREMENT): a button of a discarded draft must not save a newer one.
CREATE TABLE course_drafts (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id        INTEGER NOT NULL,
    clinic_id      INTEGER NOT NULL REFERENCES clinics(id),
    key            TEXT    NOT NULL,
    file_name      TEXT    NOT NULL,
    body           TEXT    NOT NULL,
    base_version   INTEGER,
    created_at     INTEGER NOT NULL,
    saved_version  INTEGER
);
CREATE INDEX course_drafts_by_user ON course_drafts(user_id);
