//! The optional listener (`--http ADDR`): /healthz for a container's or a load
//! balancer's health check, /metrics for Prometheus. Off by default; bind it to
//! loopback or a private network, since it needs no password.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::Telemetry;
use super::health::{self, Check, Report};
use crate::clock::Clock;
use crate::store::Store;

/// What the handlers read.
#[derive(Clone)]
pub struct Probe {
    pub store: Store,
    pub telemetry: Arc<Telemetry>,
    pub clock: Arc<dyn Clock>,
    /// What the "telegram" check watches (a getUpdates answer, or the webhook server's
    /// beat) and how old it may get.
    pub updates: (&'static str, Duration),
}

impl Probe {
    /// Runs the three checks.
    pub async fn report(&self) -> Report {
        let database = match tokio::time::timeout(
            health::DATABASE_WAIT,
            self.store.probe_write(self.clock.now()),
        )
        .await
        {
            Ok(Ok(())) => Check {
                ok: true,
                detail: "writable".into(),
            },
            Ok(Err(e)) => Check {
                ok: false,
                detail: format!("cannot write: {e}"),
            },
            Err(_) => Check {
                ok: false,
                detail: format!(
                    "no commit within {} s (locked?)",
                    health::DATABASE_WAIT.as_secs()
                ),
            },
        };
        let beats = &self.telemetry.beats;
        Report::new(
            database,
            health::fresh(self.updates.0, beats.updates_age(), self.updates.1),
            health::fresh(
                "scheduler turn",
                beats.scheduler_age(),
                health::SCHEDULER_STALE,
            ),
        )
    }
}

/// Binds `addr` (port 0 picks a free one; the log names it).
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

/// Serves /healthz and /metrics until `shutdown` turns true.
pub fn serve(
    listener: TcpListener,
    probe: Probe,
    mut shutdown: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let app = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .with_state(probe);
    tokio::spawn(async move {
        let stop = async move {
            let _ = shutdown.wait_for(|s| *s).await;
        };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(stop)
            .await
        {
            tracing::error!(error = %e, "the HTTP listener failed");
        }
    })
}

async fn healthz(State(probe): State<Probe>) -> impl IntoResponse {
    let report = probe.report().await;
    let status = if report.healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = serde_json::to_string(&report).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, "application/json")], body)
}

async fn metrics(State(probe): State<Probe>) -> impl IntoResponse {
    let gauges = match probe.store.ops_gauges(probe.clock.now()).await {
        Ok(g) => Some(g),
        Err(e) => {
            tracing::warn!(error = %e, "could not read the figures for /metrics");
            None
        }
    };
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        probe.telemetry.metrics.render(gauges),
    )
}

/// Where the listener ended up (after port 0), for the log.
pub fn local_addr(listener: &TcpListener) -> Option<SocketAddr> {
    listener.local_addr().ok()
}
