//! The people of the end-to-end tests, and local times written the way people read them.

use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;

use super::fake_telegram::TestUser;

/// The owner of the first clinic in most tests.
pub fn owner() -> TestUser {
    TestUser::new(1001, "Olga")
}

/// A staff member (not an owner) of the first clinic, where a test needs two people.
#[allow(dead_code)] // not every test binary uses it
pub fn sam() -> TestUser {
    TestUser::new(1002, "Sam")
}

/// The owner of a second clinic, where a test needs one.
pub fn other_owner() -> TestUser {
    TestUser::new(3001, "Otto")
}

/// The patient in most tests.
pub fn anna() -> TestUser {
    TestUser::new(2001, "Anna")
}

/// "2026-11-23 19:00" in `zone`, resolved like the bot resolves local times.
pub fn local(zone: &str, s: &str) -> DateTime<Utc> {
    let tz: Tz = zone.parse().unwrap();
    aftercare::domain::time::resolve_local(
        tz,
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap(),
    )
}

/// "2026-11-23 19:00" in Berlin.
pub fn berlin(s: &str) -> DateTime<Utc> {
    local("Europe/Berlin", s)
}
