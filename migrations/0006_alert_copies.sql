-- Which staff message carries which alert, so that "Handled" can update every copy
-- (everyone sees who took it, and the button goes away).
ALTER TABLE staff_threads ADD COLUMN alert_id INTEGER REFERENCES alerts(id) ON DELETE SET NULL;
CREATE INDEX staff_threads_by_alert ON staff_threads(alert_id) WHERE alert_id IS NOT NULL;
