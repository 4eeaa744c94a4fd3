//! Slowing down someone who keeps trying links that do not work (guessing).

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

/// Failed attempts allowed per window before the person has to wait.
pub const MAX_FAILURES: u32 = 5;
pub const WINDOW: Duration = Duration::minutes(10);

#[derive(Debug, Default)]
pub struct Throttle {
    failures: HashMap<i64, (u32, DateTime<Utc>)>,
}

impl Throttle {
    /// `Err(wait)` while the person is held back.
    pub fn check(&self, user: i64, now: DateTime<Utc>) -> Result<(), Duration> {
        match self.failures.get(&user) {
            Some((n, since)) if *n >= MAX_FAILURES && now < *since + WINDOW => {
                Err(*since + WINDOW - now)
            }
            _ => Ok(()),
        }
    }

    /// Records a failed attempt; returns how many in the current window.
    pub fn failed(&mut self, user: i64, now: DateTime<Utc>) -> u32 {
        if self.failures.len() > 10_000 {
            self.failures.retain(|_, (_, since)| now < *since + WINDOW);
        }
        let entry = self.failures.entry(user).or_insert((0, now));
        if now >= entry.1 + WINDOW {
            *entry = (0, now);
        }
        entry.0 += 1;
        entry.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_back_after_repeated_failures_then_lets_go() {
        let mut t = Throttle::default();
        let now: DateTime<Utc> = "2026-11-23T10:00:00Z".parse().unwrap();
        for _ in 0..MAX_FAILURES {
            assert!(t.check(7, now).is_ok());
            t.failed(7, now);
        }
        assert_eq!(
            t.check(7, now + Duration::minutes(1)),
            Err(Duration::minutes(9))
        );
        assert!(t.check(8, now).is_ok(), "others are not affected");
        assert!(t.check(7, now + WINDOW).is_ok());
        assert_eq!(t.failed(7, now + WINDOW), 1, "a new window starts afresh");
    }
}
