//! The three checks behind /healthz: the database takes a commit, Telegram's updates
//! are being fetched, and the scheduler's loop is turning.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

/// When the scheduler's loop turns at the latest while idle.
pub const SCHEDULER_HEARTBEAT: Duration = Duration::from_secs(30);
/// The scheduler counts as stuck after this long without a turn.
pub const SCHEDULER_STALE: Duration = Duration::from_secs(120);
/// How long /healthz waits for the database's commit.
pub const DATABASE_WAIT: Duration = Duration::from_secs(3);

/// Moments (on the monotonic clock, so a wall-clock jump never fakes health) when the
/// loops last showed life.
pub struct Heartbeats {
    start: Instant,
    /// Milliseconds after `start` plus one; 0 = never.
    updates: AtomicU64,
    scheduler: AtomicU64,
}

impl Default for Heartbeats {
    fn default() -> Self {
        Heartbeats {
            start: Instant::now(),
            updates: AtomicU64::new(0),
            scheduler: AtomicU64::new(0),
        }
    }
}

impl Heartbeats {
    fn stamp(&self, slot: &AtomicU64) {
        let ms = self.start.elapsed().as_millis() as u64 + 1;
        slot.store(ms, Ordering::Relaxed);
    }

    fn age(&self, slot: &AtomicU64) -> Option<Duration> {
        match slot.load(Ordering::Relaxed) {
            0 => None,
            ms => Some(
                self.start
                    .elapsed()
                    .saturating_sub(Duration::from_millis(ms - 1)),
            ),
        }
    }

    /// A getUpdates call came back without an error (or a webhook update arrived).
    pub fn updates_fetched(&self) {
        self.stamp(&self.updates);
    }

    /// The scheduler's loop went round once.
    pub fn scheduler_turned(&self) {
        self.stamp(&self.scheduler);
    }

    pub fn updates_age(&self) -> Option<Duration> {
        self.age(&self.updates)
    }

    pub fn scheduler_age(&self) -> Option<Duration> {
        self.age(&self.scheduler)
    }
}

/// One check's result, as /healthz shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Check {
    pub ok: bool,
    pub detail: String,
}

/// The body of /healthz.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub healthy: bool,
    pub database: Check,
    pub telegram: Check,
    pub scheduler: Check,
}

/// Judges a heartbeat's age against its limit.
pub fn fresh(what: &str, age: Option<Duration>, limit: Duration) -> Check {
    match age {
        None => Check {
            ok: false,
            detail: format!("no {what} yet"),
        },
        Some(age) if age > limit => Check {
            ok: false,
            detail: format!(
                "last {what} {} s ago (limit {} s)",
                age.as_secs(),
                limit.as_secs()
            ),
        },
        Some(age) => Check {
            ok: true,
            detail: format!("last {what} {} s ago", age.as_secs()),
        },
    }
}

impl Report {
    pub fn new(database: Check, telegram: Check, scheduler: Check) -> Report {
        Report {
            healthy: database.ok && telegram.ok && scheduler.ok,
            database,
            telegram,
            scheduler,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_heartbeat_is_fresh_only_within_its_limit() {
        let limit = Duration::from_secs(60);
        assert!(!fresh("x", None, limit).ok);
        assert!(fresh("x", Some(Duration::from_secs(59)), limit).ok);
        let stale = fresh("x", Some(Duration::from_secs(61)), limit);
        assert!(!stale.ok);
        assert!(stale.detail.contains("61 s ago"));
    }

    #[test]
    fn healthy_only_when_every_check_passes() {
        let ok = || Check {
            ok: true,
            detail: String::new(),
        };
        let bad = Check {
            ok: false,
            detail: String::new(),
        };
        assert!(Report::new(ok(), ok(), ok()).healthy);
        assert!(!Report::new(ok(), bad, ok()).healthy);
    }

    #[test]
    fn beats_start_unset_and_age_from_the_stamp() {
        let beats = Heartbeats::default();
        assert_eq!(beats.updates_age(), None);
        beats.updates_fetched();
        assert!(beats.updates_age().unwrap() < Duration::from_secs(5));
        assert_eq!(beats.scheduler_age(), None);
    }
}
