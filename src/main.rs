//! Thin entry point: logging, command line, signals, exit code.

use std::process::ExitCode;

use clap::Parser;
use tokio::sync::watch;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

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
