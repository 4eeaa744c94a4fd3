//! The demo's time: a `ManualClock` that a driver task moves at the chosen speed, and
//! that "next message" moves straight to the next reminder due.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use tokio::task::JoinHandle;

use crate::clock::{Clock, ManualClock};
use crate::store::Store;

/// How often the driver moves the clock.
const TICK: Duration = Duration::from_millis(250);
/// The speeds the page offers: demo seconds per real second.
pub const SPEEDS: &[u32] = &[1, 60, 1440];

#[derive(Clone)]
pub struct DemoClock {
    manual: ManualClock,
    speed: Arc<AtomicU32>,
    store: Store,
    zone: Tz,
    driver: Arc<JoinHandle<()>>,
}

/// The clock as the page shows it.
#[derive(Debug, Serialize)]
pub struct ClockView {
    pub utc: String,
    /// Local time in the clinic's zone, e.g. "Mon 23 Nov 2026, 14:30".
    pub local: String,
    pub zone: String,
    pub speed: u32,
}

impl DemoClock {
    /// Starts moving `manual` in real time.
    pub fn start(manual: ManualClock, store: Store, zone: Tz) -> DemoClock {
        let speed = Arc::new(AtomicU32::new(1));
        let driver = {
            let manual = manual.clone();
            let speed = speed.clone();
            tokio::spawn(async move {
                let mut last = tokio::time::Instant::now();
                let mut tick = tokio::time::interval(TICK);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tick.tick().await;
                    let now = tokio::time::Instant::now();
                    let real = now - last;
                    last = now;
                    let by = real * speed.load(Ordering::Relaxed);
                    if let Ok(by) = chrono::Duration::from_std(by) {
                        manual.advance(by);
                    }
                }
            })
        };
        DemoClock {
            manual,
            speed,
            store,
            zone,
            driver: Arc::new(driver),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.manual.now()
    }

    /// Sets the speed; only the offered ones are taken.
    pub fn set_speed(&self, speed: u32) -> bool {
        let ok = SPEEDS.contains(&speed);
        if ok {
            self.speed.store(speed, Ordering::Relaxed);
        }
        ok
    }

    /// Moves the clock to when the next reminder (or re-alert) is due. Returns that
    /// time, or None when nothing is scheduled or something is due already.
    pub async fn jump_to_next(&self) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
        let reminder = self.store.next_pending_due().await?;
        let realert = self.store.next_realert().await?;
        let next = reminder.into_iter().chain(realert).min();
        Ok(match next {
            Some(t) if t > self.manual.now() => {
                self.manual.set(t);
                Some(t)
            }
            _ => None,
        })
    }

    pub fn view(&self) -> ClockView {
        let now = self.manual.now();
        ClockView {
            utc: now.to_rfc3339(),
            local: now
                .with_timezone(&self.zone)
                .format("%a %-d %b %Y, %H:%M")
                .to_string(),
            zone: self.zone.name().to_string(),
            speed: self.speed.load(Ordering::Relaxed),
        }
    }

    pub fn stop(&self) {
        self.driver.abort();
    }
}
