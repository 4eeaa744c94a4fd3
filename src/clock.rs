//! The injected clock. Production reads the system time; tests move time by hand and
//! run weeks of schedule in milliseconds.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

pub type SleepFuture<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
    /// Resolves once `now() >= deadline` (or a little after: callers re-check).
    fn sleep_until(&self, deadline: DateTime<Utc>) -> SleepFuture<'_>;
}

/// Wall-clock time.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

/// The longest single sleep. tokio's timers run on the monotonic clock, which stands
/// still while a machine is suspended; waking once a minute bounds how late a reminder
/// can be after a suspend or a wall-clock jump, at negligible cost.
const MAX_SLEEP: std::time::Duration = std::time::Duration::from_secs(60);

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn sleep_until(&self, deadline: DateTime<Utc>) -> SleepFuture<'_> {
        let wait = (deadline - Utc::now())
            .to_std()
            .unwrap_or_default()
            .min(MAX_SLEEP);
        Box::pin(tokio::time::sleep(wait))
    }
}

/// A clock that only moves when told to.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<watch::Sender<DateTime<Utc>>>,
}

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        ManualClock {
            now: Arc::new(watch::Sender::new(start)),
        }
    }

    pub fn set(&self, t: DateTime<Utc>) {
        self.now.send_replace(t);
    }

    pub fn advance(&self, by: chrono::Duration) {
        self.now.send_modify(|t| *t += by);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.borrow()
    }

    fn sleep_until(&self, deadline: DateTime<Utc>) -> SleepFuture<'_> {
        let mut rx = self.now.subscribe();
        Box::pin(async move {
            // Err means the sender is gone: nothing will ever move the clock again.
            let _ = rx.wait_for(|now| *now >= deadline).await;
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn manual_clock_wakes_sleepers_when_advanced_past_the_deadline() {
        let clock = ManualClock::new("2026-11-23T10:00:00Z".parse().unwrap());
        let deadline = clock.now() + chrono::Duration::days(3);
        let sleeper = {
            let c = clock.clone();
            tokio::spawn(async move { c.sleep_until(deadline).await })
        };
        clock.advance(chrono::Duration::days(1));
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished());
        clock.advance(chrono::Duration::days(2));
        sleeper.await.unwrap();
        assert!(clock.now() >= deadline);
    }
}
