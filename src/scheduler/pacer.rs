//! Pacing sends to stay inside Telegram's limits: about 30 messages a second overall and
//! one a second per chat. Staying under them means Telegram never has to answer 429 in
//! normal operation; when it does anyway, everyone waits out its `retry_after`.
//!
//! Runs on tokio's monotonic clock (real time), not on the injected domain clock:
//! pacing is about how fast we talk to Telegram, not about when reminders are due.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

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
            // 1/29.15 s: under 30/s by enough that one request delayed ~30 ms on a busy
            // machine does not let 31 arrive within a second (seen at 1/29.5 s).
            global_gap: Duration::from_micros(34_300),
            // A little over a second: request latency varies, arrival spacing must not.
            chat_gap: Duration::from_millis(1_050),
        }
    }
}

#[derive(Debug)]
pub struct Pacer {
    limits: Limits,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    next_global: Option<Instant>,
    next_by_chat: HashMap<i64, Instant>,
    /// When each chat was last actually written to.
    last_sent: HashMap<i64, Instant>,
    paused_until: Option<Instant>,
}

impl State {
    /// The next slot in the overall stream no earlier than `earliest` or a pause's end.
    fn book_global(&mut self, earliest: Instant, gap: Duration) -> Instant {
        let at = [Some(earliest), self.next_global, self.paused_until]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(earliest);
        self.next_global = Some(at + gap);
        at
    }
}

impl Pacer {
    pub fn new(limits: Limits) -> Self {
        Pacer {
            limits,
            state: Mutex::new(State::default()),
        }
    }

    /// Books the chat's next turn: the earliest instant this chat may be written to.
    /// Bookings for one chat are handed out in call order, so order is kept.
    pub fn book_chat(&self, chat: i64, now: Instant) -> Instant {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let at = s.next_by_chat.get(&chat).copied().unwrap_or(now).max(now);
        s.next_by_chat.insert(chat, at + self.limits.chat_gap);
        if s.next_by_chat.len() > 10_000 {
            s.next_by_chat.retain(|_, t| *t > now);
        }
        at
    }

    /// Books a slot in the overall stream, no earlier than `earliest` (senders go
    /// through `wait_booked`, which books under the same lock as its chat check).
    #[cfg(test)]
    fn book_global(&self, earliest: Instant) -> Instant {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.book_global(earliest, self.limits.global_gap)
    }

    /// Telegram said 429: nothing goes out before `until`.
    pub fn pause_until(&self, until: Instant) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.paused_until = Some(s.paused_until.map_or(until, |p| p.max(until)));
    }

    /// Waits for this chat's turn and then a global slot.
    pub async fn wait_turn(&self, chat: i64) {
        let turn = self.book_chat(chat, Instant::now());
        self.wait_booked(chat, turn).await;
    }

    /// Waits for a chat turn booked earlier with `book_chat`, then a global slot.
    ///
    /// Bookings are a plan; what Telegram counts is when messages arrive. A pause after
    /// a 429 can push one message past its slot and onto the next one's heels, so the
    /// last real send to each chat is checked again just before going.
    pub async fn wait_booked(&self, chat: i64, chat_turn: Instant) {
        tokio::time::sleep_until(chat_turn).await;
        loop {
            // Book a global slot only once the chat is free: a slot booked and then
            // given up because the chat was still busy is throughput lost for everyone.
            let now = Instant::now();
            let booked = {
                let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
                let gap = self.limits.chat_gap;
                match s
                    .last_sent
                    .get(&chat)
                    .map(|t| *t + gap)
                    .filter(|t| *t > now)
                {
                    Some(chat_free) => Err(chat_free),
                    None => {
                        let at = s.book_global(now, self.limits.global_gap);
                        // The planned send instant: the chat's next message waits for it.
                        s.last_sent.insert(chat, at);
                        if s.last_sent.len() > 10_000 {
                            s.last_sent.retain(|_, t| *t + gap > now);
                        }
                        Ok(at)
                    }
                }
            };
            match booked {
                Err(chat_free) => tokio::time::sleep_until(chat_free).await,
                Ok(at) => {
                    tokio::time::sleep_until(at).await;
                    // A 429 may have paused everything while we waited for the slot.
                    let paused = {
                        let s = self.state.lock().unwrap_or_else(|e| e.into_inner());
                        s.paused_until.filter(|p| *p > Instant::now())
                    };
                    match paused {
                        Some(p) => tokio::time::sleep_until(p).await,
                        None => return,
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pacer() -> Pacer {
        Pacer::new(Limits {
            global_gap: Duration::from_millis(100),
            chat_gap: Duration::from_secs(1),
        })
    }

    #[test]
    fn one_chat_gets_one_message_a_second() {
        let p = pacer();
        let t0 = Instant::now();
        assert_eq!(p.book_chat(1, t0), t0);
        assert_eq!(p.book_chat(1, t0), t0 + Duration::from_secs(1));
        assert_eq!(p.book_chat(2, t0), t0, "other chats are not held up");
        // Later than the booking: the chat is free again.
        let later = t0 + Duration::from_secs(5);
        assert_eq!(p.book_chat(1, later), later);
    }

    #[test]
    fn global_slots_are_spaced_and_honour_pauses() {
        let p = pacer();
        let t0 = Instant::now();
        assert_eq!(p.book_global(t0), t0);
        assert_eq!(p.book_global(t0), t0 + Duration::from_millis(100));
        p.pause_until(t0 + Duration::from_secs(30));
        assert_eq!(p.book_global(t0), t0 + Duration::from_secs(30));
        assert_eq!(p.book_global(t0), t0 + Duration::from_millis(30_100));
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_never_squeezes_two_messages_to_one_chat() {
        let p = pacer();
        let first = p.book_chat(1, Instant::now());
        let second = p.book_chat(1, Instant::now());
        p.pause_until(Instant::now() + Duration::from_millis(900));
        p.wait_booked(1, first).await;
        let t1 = Instant::now();
        p.wait_booked(1, second).await;
        assert!(Instant::now() - t1 >= Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn wait_turn_keeps_thirty_per_second() {
        let p = Pacer::new(Limits::default());
        let start = Instant::now();
        for chat in 0..60 {
            p.wait_turn(chat).await;
        }
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(59 * 33), "{took:?}");
        assert!(took < Duration::from_millis(2_100), "{took:?}");
    }
}
