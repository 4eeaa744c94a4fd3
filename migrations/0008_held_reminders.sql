-- A red flag holds the all-clear (issue 12): after a check-in answer other than "all
-- good", the patient's steps marked `all_clear` in the plan and not yet sent are
-- cancelled with the note 'held after a warning sign' and the alert that holds them.
-- "Handled" on that alert queues again those not yet expired. NULL: not held.
--
-- The nudge after an unanswered check-in needs no table of its own: it is a reminder
-- row (step id `nudge-<check-in step>`), and "did not answer" is read from it and the
-- check-in answers.
ALTER TABLE reminders ADD COLUMN held_by INTEGER REFERENCES alerts(id) ON DELETE SET NULL;
CREATE INDEX reminders_held ON reminders(held_by) WHERE held_by IS NOT NULL;
