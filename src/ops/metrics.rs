//! The counters and histograms behind /metrics, in the Prometheus text format.
//!
//! Each is moved at the one place its event happens: the outbox (every message sent,
//! failed or no longer wanted, every 429), the scheduler (reminders skipped or given
//! up before sending, lateness) and the dispatcher's handler entry (latency). The
//! gauges (pending, overdue, open alerts, database size) are read from the database
//! at each scrape. Labels are fixed words, never ids, names or texts.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::store::ops::Gauges;

/// What became of a message, and why.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MessageLabels {
    /// "sent", "skipped" or "failed".
    pub outcome: &'static str,
    /// A fixed word: the kind of message when sent, the cause otherwise.
    pub reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
}

/// Every metric the bot keeps. One per running bot (the outbox owns it).
pub struct Metrics {
    registry: Registry,
    messages: Family<MessageLabels, Counter>,
    rate_limited: Counter,
    retry_after_seconds: Counter<f64, std::sync::atomic::AtomicU64>,
    lateness: Histogram,
    handler_seconds: Histogram,
    backups: Family<ResultLabels, Counter>,
    pending: Gauge,
    overdue: Gauge,
    open_alerts: Gauge,
    db_bytes: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("aftercare");
        let m = Metrics {
            messages: Family::default(),
            rate_limited: Counter::default(),
            retry_after_seconds: Counter::default(),
            // 0.1 s … about 7 h: a reminder on time, after a 429, after a night asleep.
            lateness: Histogram::new(exponential_buckets(0.1, 3.0, 12)),
            // 1 ms … about 16 s.
            handler_seconds: Histogram::new(exponential_buckets(0.001, 2.0, 15)),
            backups: Family::default(),
            pending: Gauge::default(),
            overdue: Gauge::default(),
            open_alerts: Gauge::default(),
            db_bytes: Gauge::default(),
            registry: Registry::default(),
        };
        registry.register(
            "messages",
            "Messages sent, skipped (no longer wanted, past expiry…) or failed, by reason",
            m.messages.clone(),
        );
        registry.register(
            "telegram_rate_limited",
            "Answers 429 (Too Many Requests) from Telegram",
            m.rate_limited.clone(),
        );
        registry.register(
            "telegram_retry_after_seconds",
            "Seconds Telegram asked us to wait (retry_after), summed",
            m.retry_after_seconds.clone(),
        );
        registry.register(
            "reminder_lateness_seconds",
            "How long after its due time a reminder went out",
            m.lateness.clone(),
        );
        registry.register(
            "handler_seconds",
            "How long the bot took to handle one update from Telegram",
            m.handler_seconds.clone(),
        );
        registry.register(
            "backups",
            "Scheduled backups, by result (ok, failed)",
            m.backups.clone(),
        );
        registry.register(
            "reminders_pending",
            "Reminders waiting to go out",
            m.pending.clone(),
        );
        registry.register(
            "reminders_overdue",
            "Reminders whose time has passed but which have not gone out yet",
            m.overdue.clone(),
        );
        registry.register(
            "alerts_open",
            "Alerts not yet marked Handled",
            m.open_alerts.clone(),
        );
        registry.register(
            "database_bytes",
            "Size of the database file",
            m.db_bytes.clone(),
        );
        Metrics { registry, ..m }
    }

    pub fn message(&self, outcome: &'static str, reason: &'static str) {
        self.messages
            .get_or_create(&MessageLabels { outcome, reason })
            .inc();
    }

    pub fn sent(&self, kind: &'static str) {
        self.message("sent", kind);
    }

    pub fn skipped(&self, reason: &'static str) {
        self.message("skipped", reason);
    }

    pub fn failed(&self, reason: &'static str) {
        self.message("failed", reason);
    }

    pub fn rate_limited(&self, wait: std::time::Duration) {
        self.rate_limited.inc();
        self.retry_after_seconds.inc_by(wait.as_secs_f64());
    }

    pub fn late(&self, by: chrono::Duration) {
        self.lateness
            .observe(by.num_milliseconds().max(0) as f64 / 1000.0);
    }

    pub fn handled(&self, took: std::time::Duration) {
        self.handler_seconds.observe(took.as_secs_f64());
    }

    pub fn backup(&self, ok: bool) {
        let result = if ok { "ok" } else { "failed" };
        self.backups.get_or_create(&ResultLabels { result }).inc();
    }

    /// The exposition text, with the gauges read just now.
    pub fn render(&self, gauges: Option<Gauges>) -> String {
        if let Some(g) = gauges {
            self.pending.set(g.pending);
            self.overdue.set(g.overdue);
            self.open_alerts.set(g.open_alerts);
            self.db_bytes.set(g.db_bytes);
        }
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
