//! Use cases: what staff, patients and operators can do, as plain async functions over
//! the store. Refusals a person should read are values (`…Outcome`), not errors;
//! `sqlx::Error` means the database failed and is logged, not shown.

pub mod access;
pub mod alerts;
pub mod booking;
pub mod checkin;
pub mod clinic;
pub mod enroll;
pub mod link;
pub mod patient;
pub mod relay;
pub mod series;
pub mod step_extras;
pub mod templates;
pub mod texts;
pub mod timing;
