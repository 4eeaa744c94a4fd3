//! Use cases: what staff, patients and operators can do, as plain async functions over
//! the store. Refusals a person should read are values (`…Outcome`), not errors;
//! `sqlx::Error` means the database failed and is logged, not shown.
//!
//! One use case, one transaction: it begins (`Store::begin`, `BEGIN IMMEDIATE`), does
//! every read and write through that transaction, writes its audit row in it and
//! commits. Nothing called inside reaches for the pool: every helper takes the
//! transaction (`&mut SqliteConnection`). With SQLite's single writer and a small pool,
//! a transaction waiting for a second connection stalls everyone once a few people act
//! at once; the test suite runs with a pool of one (`AFTERCARE_DB_CONNECTIONS=1`) so any
//! such path fails at once. An outcome that created or moved due reminders says so
//! (`Wakes`), and the caller wakes the scheduler after the commit.

pub mod access;
pub mod adjust;
pub mod alerts;
pub mod booking;
pub mod checkin;
pub mod clinic;
pub mod course_files;
pub mod courses;
pub mod enroll;
pub mod gap;
pub mod link;
pub mod patient;
pub mod patient_admin;
pub mod photos;
pub mod relay;
pub mod series;
pub mod step_extras;
pub mod templates;
pub mod texts;
pub mod timing;

/// Whether what a use case committed makes reminders (or re-alerts) due earlier than the
/// scheduler planned to look: then it must be woken, after the commit and before any
/// answer is sent.
pub trait Wakes {
    fn wakes_scheduler(&self) -> bool;
}
