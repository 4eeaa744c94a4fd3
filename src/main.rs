//! Thin entry point: logging, command line, signals, exit code.

use std::process::ExitCode;

use clap::Parser;
use tokio::sync::watch;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// The longest a stop may take: the outbox's drain (8 s) and a little more, inside the
/// 10 s a supervisor commonly grants (the systemd unit allows 15 s).
const SHUTDOWN_LIMIT: std::time::Duration = std::time::Duration::from_millis(9500);

#[tokio::main]
async fn main() -> ExitCode {
    let cli = aftercare::cli::Cli::parse();
    let filter = EnvFilter::try_new(&cli.common.log).unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::registry()
        .with(aftercare::logs::layer(cli.common.log_format, std::io::stderr).with_filter(filter))
        .init();
    let (stop, shutdown) = watch::channel(false);
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutdown requested");
        let _ = stop.send(true);
        // A stop must end in bounded time (systemd and docker kill after theirs). All
        // state is in SQLite, committed per action, so leaving now loses nothing: a
        // reminder in flight is leased and goes out after the next start.
        std::thread::spawn(|| {
            std::thread::sleep(SHUTDOWN_LIMIT);
            tracing::error!(
                limit = ?SHUTDOWN_LIMIT,
                "shutdown did not finish in time; exiting anyway (state is saved)"
            );
            std::process::exit(0);
        });
    });
    match aftercare::commands::dispatch(cli, shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("aftercare: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

/// SIGINT (Ctrl-C) or SIGTERM (systemd, docker, kill).
async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
