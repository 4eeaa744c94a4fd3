-- The emergency number a clinic's patients are told to call (trouble breathing, sudden
-- swelling). NULL: the number of the clinic's time zone (domain/safety.rs), so it
-- follows a change of zone; `/settings emergency 112` sets one, `auto` clears it.
ALTER TABLE clinics ADD COLUMN emergency TEXT;
