-- One row that /healthz rewrites: a real commit is the only proof that the database
-- still takes writes (a rolled-back write never reaches the disk, so a full disk or a
-- file-size limit would pass unnoticed).
CREATE TABLE health_probe (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    at INTEGER NOT NULL
);
