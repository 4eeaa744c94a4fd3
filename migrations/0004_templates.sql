-- Issue 3: clinics adjust the wording and timing of what their patients receive.

-- Every saved version of a clinic's text for one message in one language. The latest
-- version is in force; a version whose body is NULL means "back to the default from
-- messages/". Nothing is ever overwritten, so /history and /revert can show and restore.
CREATE TABLE template_versions (
    id         INTEGER PRIMARY KEY,
    clinic_id  INTEGER NOT NULL REFERENCES clinics(id),
    -- `step.<step id>` or `reply.<reply key>`
    key        TEXT    NOT NULL,
    lang       TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    body       TEXT,
    saved_by   INTEGER NOT NULL,
    saved_at   INTEGER NOT NULL,
    UNIQUE (clinic_id, key, lang, version)
);

-- An edit in progress: one per staff member. `body` is NULL while the bot waits for the
-- new text, and holds the checked text while the preview waits for Save or Cancel.
-- Kept here, not in memory, so a restart between the steps loses nothing.
CREATE TABLE template_drafts (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL UNIQUE,
    clinic_id   INTEGER NOT NULL REFERENCES clinics(id),
    key         TEXT    NOT NULL,
    lang        TEXT    NOT NULL,
    body        TEXT,
    created_at  INTEGER NOT NULL
);

-- A clinic's timing of one step of a plan; the latest row per step is in force.
-- `after` is humantime text as typed (`36h`), `at` a local clock time (`09:00`);
-- kind 'default' means "as in messages/plans".
CREATE TABLE step_timings (
    id         INTEGER PRIMARY KEY,
    clinic_id  INTEGER NOT NULL REFERENCES clinics(id),
    plan       TEXT    NOT NULL,
    step_id    TEXT    NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('moved', 'off', 'default')),
    after      TEXT,
    at         TEXT,
    saved_by   INTEGER NOT NULL,
    saved_at   INTEGER NOT NULL
);
CREATE INDEX step_timings_by_clinic ON step_timings(clinic_id, plan, step_id, id);
