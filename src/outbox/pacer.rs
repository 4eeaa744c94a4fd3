//! Pacing sends to stay inside Telegram's limits: about 30 messages a second overall and
//! one a second per chat. Staying under them means Telegram never has to answer 429 in
//! normal operation; when it does anyway, everyone waits out its `retry_after`.
//!
//! Slots in the overall stream are handed out by one small task, one slot per
//! `global_gap`, to the most urgent waiter first: an answer to what a person just did
//! takes the next slot even when hundreds of reminders are waiting for theirs. Each
//! chat's spacing is kept by the outbox's one worker per chat (`chat_free_at`, `sent`).
//!
//! Runs on tokio's monotonic clock (real time), not on the injected domain clock:
//! pacing is about how fast we talk to Telegram, not about when reminders are due.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::sync::{Notify, oneshot};
use tokio::time::Instant;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Minimum gap between any two sends.
    pub global_gap: Duration,
    /// Minimum gap between two sends to the same chat.
    pub chat_gap: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            // 1/28 s: under 30/s by enough (71 ms in every 30 sends) that requests
            // delayed on a busy machine do not let 31 arrive within a second (seen at
            // 1/29.5 s, and once at 1/29.15 s with the test suite and a build running).
            global_gap: Duration::from_micros(35_700),
            // A little over a second: request latency varies, arrival spacing must not.
            chat_gap: Duration::from_millis(1_050),
        }
    }
}

/// Who waits for a slot in the overall stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Urgency {
    /// Reminders, alerts, relays: first come, first served.
    Queued,
    /// The answer to what a person just did.
    Answer,
}

#[derive(Debug)]
pub struct Pacer {
    limits: Limits,
    state: Arc<Mutex<State>>,
    /// Wakes the slot task when a waiter arrives, a pause is set, or the pacer is gone.
    changed: Arc<Notify>,
}

#[derive(Debug, Default)]
struct State {
    waiting: BinaryHeap<Waiter>,
    seq: u64,
    /// The earliest instant the next slot may be handed out.
    next_slot: Option<Instant>,
    paused_until: Option<Instant>,
    /// When each chat was last written to.
    last_sent: HashMap<i64, Instant>,
}

#[derive(Debug)]
struct Waiter {
    urgency: Urgency,
    seq: u64,
    grant: oneshot::Sender<()>,
}

impl PartialEq for Waiter {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Waiter {}
impl PartialOrd for Waiter {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Waiter {
    /// The heap's top is the most urgent, then the one that asked first.
    fn cmp(&self, other: &Self) -> Ordering {
        self.urgency
            .cmp(&other.urgency)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

impl Pacer {
    /// Starts the slot task; it ends when the pacer is dropped.
    pub fn new(limits: Limits) -> Self {
        let state = Arc::new(Mutex::new(State::default()));
        let changed = Arc::new(Notify::new());
        tokio::spawn(hand_out_slots(
            Arc::downgrade(&state),
            changed.clone(),
            limits.global_gap,
        ));
        Pacer {
            limits,
            state,
            changed,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Telegram said 429: nothing goes out before `until`.
    pub fn pause_until(&self, until: Instant) {
        {
            let mut s = self.state();
            s.paused_until = Some(s.paused_until.map_or(until, |p| p.max(until)));
        }
        self.changed.notify_one();
    }

    /// The earliest instant `chat` may be written to again.
    pub fn chat_free_at(&self, chat: i64) -> Option<Instant> {
        self.state()
            .last_sent
            .get(&chat)
            .map(|t| *t + self.limits.chat_gap)
    }

    /// Records that `chat` was written to now (called when a request starts and again
    /// when Telegram answers it).
    pub fn sent(&self, chat: i64) {
        let now = Instant::now();
        let mut s = self.state();
        s.last_sent.insert(chat, now);
        if s.last_sent.len() > 10_000 {
            let gap = self.limits.chat_gap;
            s.last_sent.retain(|_, t| *t + gap > now);
        }
    }

    /// Waits for a slot in the overall stream; the more urgent go first.
    pub async fn slot(&self, urgency: Urgency) {
        let (grant, granted) = oneshot::channel();
        {
            let mut s = self.state();
            s.seq += 1;
            let seq = s.seq;
            s.waiting.push(Waiter {
                urgency,
                seq,
                grant,
            });
        }
        self.changed.notify_one();
        // The slot task never drops a waiter unanswered while it runs.
        let _ = granted.await;
    }

    /// Waits for the chat to be free and then a slot (for tests and simple senders).
    pub async fn wait_turn(&self, chat: i64, urgency: Urgency) {
        if let Some(free) = self.chat_free_at(chat) {
            tokio::time::sleep_until(free).await;
        }
        self.slot(urgency).await;
        self.sent(chat);
    }
}

impl Drop for Pacer {
    fn drop(&mut self) {
        self.changed.notify_one();
    }
}

/// How late the slot task may wake and still keep to its schedule (timer granularity).
const ON_TIME: Duration = Duration::from_millis(3);

/// The slot task: one slot per `gap`, never during a pause, most urgent waiter first.
/// A waiter that gave up (its future dropped) costs no slot.
async fn hand_out_slots(state: Weak<Mutex<State>>, changed: Arc<Notify>, gap: Duration) {
    loop {
        // Registered before the state is read, so no change in between is missed.
        let notified = changed.notified();
        let next = {
            let Some(st) = state.upgrade() else { return };
            let s = st.lock().unwrap_or_else(|e| e.into_inner());
            (!s.waiting.is_empty()).then(|| {
                let now = Instant::now();
                [Some(now), s.next_slot, s.paused_until]
                    .into_iter()
                    .flatten()
                    .max()
                    .unwrap_or(now)
            })
        };
        let Some(at) = next else {
            notified.await;
            continue;
        };
        // A new pause moves the slot; a new waiter may be more urgent: look again.
        tokio::select! {
            _ = tokio::time::sleep_until(at) => {}
            _ = notified => continue,
        }
        let Some(st) = state.upgrade() else { return };
        let mut s = st.lock().unwrap_or_else(|e| e.into_inner());
        if s.paused_until.is_some_and(|p| p > Instant::now()) {
            continue;
        }
        // The next slot keeps to the schedule while this task is on time; woken late (a
        // busy machine), it counts from now instead, so slots never bunch to catch up.
        let now = Instant::now();
        let base = if now.duration_since(at) <= ON_TIME {
            at
        } else {
            now
        };
        while let Some(w) = s.waiting.pop() {
            if w.grant.send(()).is_ok() {
                s.next_slot = Some(base + gap);
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            global_gap: Duration::from_millis(100),
            chat_gap: Duration::from_secs(1),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn one_chat_gets_one_message_a_second() {
        let p = Pacer::new(limits());
        let t0 = Instant::now();
        p.wait_turn(1, Urgency::Queued).await;
        p.wait_turn(1, Urgency::Queued).await;
        assert!(Instant::now() - t0 >= Duration::from_secs(1));
        let t1 = Instant::now();
        p.wait_turn(2, Urgency::Queued).await;
        assert!(
            Instant::now() - t1 < Duration::from_millis(200),
            "other chats are not held up"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn slots_are_spaced_and_honour_pauses() {
        let p = Arc::new(Pacer::new(limits()));
        let t0 = Instant::now();
        p.slot(Urgency::Queued).await;
        p.slot(Urgency::Queued).await;
        assert!(Instant::now() - t0 >= Duration::from_millis(100));
        p.pause_until(Instant::now() + Duration::from_secs(30));
        p.slot(Urgency::Queued).await;
        assert!(Instant::now() - t0 >= Duration::from_secs(30));
    }

    #[tokio::test(start_paused = true)]
    async fn an_answer_takes_the_next_slot_before_waiting_reminders() {
        let p = Arc::new(Pacer::new(limits()));
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for i in 0..20 {
            let (p, order) = (p.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                p.slot(Urgency::Queued).await;
                order.lock().unwrap().push(i);
            }));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
        let (p2, order2) = (p.clone(), order.clone());
        let answer = tokio::spawn(async move {
            p2.slot(Urgency::Answer).await;
            order2.lock().unwrap().push(99);
        });
        for t in tasks {
            t.await.unwrap();
        }
        answer.await.unwrap();
        let order = order.lock().unwrap();
        let at = order.iter().position(|i| *i == 99).unwrap();
        assert!(at <= 4, "the answer went out {at}th: {order:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn twenty_eight_chats_a_second_at_the_default_limits() {
        let p = Pacer::new(Limits::default());
        let start = Instant::now();
        for chat in 0..57 {
            p.wait_turn(chat, Urgency::Queued).await;
        }
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(56 * 35), "{took:?}");
        assert!(took < Duration::from_millis(2_050), "{took:?}");
    }
}
