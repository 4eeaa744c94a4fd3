//! Running the bot as a service: the optional HTTP listener (`--http`) with /healthz
//! and /metrics, the heartbeats behind /healthz, and scheduled backups.
//!
//! The outbox owns the one `Telemetry` of a running bot, since every part that has
//! something to count (handlers, scheduler, the outbox itself) already holds it.

pub mod backups;
pub mod health;
pub mod http;
pub mod metrics;
pub mod polling;
pub mod webhook;

pub use health::Heartbeats;
pub use metrics::Metrics;

/// What a running bot counts and how recently its loops turned.
#[derive(Default)]
pub struct Telemetry {
    pub metrics: Metrics,
    pub beats: Heartbeats,
}
