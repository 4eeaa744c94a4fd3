//! Wiring: messages → database → Telegram → dispatcher and scheduler → shutdown.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use teloxide::dispatching::Dispatcher;
use teloxide::error_handlers::LoggingErrorHandler;
use teloxide::prelude::*;
use teloxide::update_listeners::{Polling, UpdateListener};
use tokio::sync::{Notify, watch};

use crate::bot::{self, Deps};
use crate::catalog::Catalog;
use crate::clock::Clock;
use crate::outbox::errors::describe_request;
use crate::outbox::{Limits, Outbox};
use crate::scheduler::Scheduler;
use crate::store::Store;

/// How long shutdown waits for answers still queued in the outbox.
const DRAIN: Duration = Duration::from_secs(3);

/// Everything `run` needs; built from the command line and environment by `cli`.
#[derive(Clone, Debug)]
pub struct Settings {
    pub database_url: String,
    /// The database pool's size.
    pub db_connections: u32,
    pub messages_dir: PathBuf,
    pub token: String,
    pub api_url: Option<reqwest::Url>,
    /// How long one getUpdates call may wait for news.
    pub poll_timeout: Duration,
    pub limits: Limits,
    /// Running it as a service: HTTP listener, backups (all off by default).
    pub ops: Operations,
}

/// The service side of `run`, all optional.
#[derive(Clone, Debug, Default)]
pub struct Operations {
    /// Where /healthz and /metrics listen.
    pub http: Option<std::net::SocketAddr>,
    /// Scheduled backups.
    pub backups: Option<crate::ops::backups::BackupPlan>,
    /// Webhook mode instead of long polling.
    pub webhook: Option<crate::ops::webhook::WebhookPlan>,
}

/// A start-up failure, shown as one line.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Messages(String),
    #[error(transparent)]
    Database(#[from] crate::store::OpenError),
    #[error("{url}: the database cannot be written ({reason}); the bot needs to write to it")]
    ReadOnly { url: String, reason: String },
    #[error("cannot reach Telegram ({0}); check TELOXIDE_TOKEN and TELOXIDE_API_URL")]
    Telegram(String),
    #[error("--http {addr}: cannot listen there ({reason})")]
    Listen { addr: String, reason: String },
    #[error("--webhook-listen {addr}: cannot listen there ({reason})")]
    WebhookListen { addr: String, reason: String },
    #[error("Telegram refused the webhook ({0}); check --webhook-url")]
    Webhook(String),
}

/// Loads and checks the messages folder; every problem on its own line.
pub fn load_catalog(dir: &std::path::Path) -> Result<Catalog, StartError> {
    if !dir.is_dir() {
        return Err(StartError::Messages(no_messages_folder(dir)));
    }
    Catalog::load(dir).map_err(|problems| {
        StartError::Messages(
            problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
        )
    })
}

/// What to say when the messages folder is not where it is looked for.
pub fn no_messages_folder(dir: &std::path::Path) -> String {
    format!(
        "{}: no messages folder here (it holds plans/ and one folder per language); \
         point at it with --messages DIR or AFTERCARE_MESSAGES=DIR",
        dir.display()
    )
}

pub fn make_bot(token: &str, api_url: Option<&reqwest::Url>) -> Bot {
    let bot = Bot::new(token);
    match api_url {
        Some(url) => bot.set_api_url(url.clone()),
        None => bot,
    }
}

/// Asks Telegram who we are: the username goes into every deep link.
pub async fn bot_username(bot: &Bot) -> Result<String, StartError> {
    let me = bot
        .get_me()
        .await
        .map_err(|e| StartError::Telegram(describe_request(&e)))?;
    Ok(me.username().to_string())
}

/// Runs the bot until `shutdown` turns true.
pub async fn run(
    settings: Settings,
    clock: Arc<dyn Clock>,
    shutdown: watch::Receiver<bool>,
) -> Result<(), StartError> {
    let catalog = Arc::new(load_catalog(&settings.messages_dir)?);
    let store = Store::open(&settings.database_url, settings.db_connections).await?;
    if let Err(e) = store.check_writable().await {
        return Err(StartError::ReadOnly {
            url: settings.database_url.clone(),
            reason: e.to_string(),
        });
    }
    // Bound before anything else starts, so a taken port fails at once.
    let http = match settings.ops.http {
        Some(addr) => Some(
            crate::ops::http::bind(addr)
                .await
                .map_err(|e| StartError::Listen {
                    addr: addr.to_string(),
                    reason: e.to_string(),
                })?,
        ),
        None => None,
    };
    let webhook = match &settings.ops.webhook {
        Some(plan) => Some((
            plan.clone(),
            crate::ops::webhook::bind(plan.listen).await.map_err(|e| {
                StartError::WebhookListen {
                    addr: plan.listen.to_string(),
                    reason: e.to_string(),
                }
            })?,
        )),
        None => None,
    };
    let bot = make_bot(&settings.token, settings.api_url.as_ref());
    let bot_username = bot_username(&bot).await?;
    let outbox = Outbox::new(
        bot.clone(),
        store.clone(),
        clock.clone(),
        settings.limits,
        shutdown.clone(),
    );
    if let Err(e) = bot::set_menus(&outbox, &store).await {
        tracing::warn!(
            error = crate::outbox::errors::describe(&e),
            "could not set command menus"
        );
    }
    tracing::info!(bot = %bot_username, "aftercare is running");
    let telemetry = outbox.telemetry().clone();
    // setWebhook before any task starts, so a refusal leaves nothing running. Updates
    // posted before the dispatcher starts wait in teloxide's queue.
    let webhook_on = webhook.is_some();
    let webhook_updates = match webhook {
        Some((plan, listener)) => {
            let listen = plan.listen;
            let updates =
                crate::ops::webhook::start(bot.clone(), plan, listener, telemetry.clone())
                    .await
                    .map_err(|e| StartError::Webhook(describe_request(&e)))?;
            tracing::info!(%listen, "receiving updates by webhook");
            Some(updates)
        }
        None => None,
    };
    let backup_task = settings.ops.backups.clone().map(|plan| {
        tracing::info!(dir = %plan.dir.display(), every = %humantime::format_duration(plan.every), keep = plan.keep, "scheduled backups on");
        tokio::spawn(plan.run(
            store.clone(),
            clock.clone(),
            telemetry.clone(),
            shutdown.clone(),
        ))
    });
    let http_task = http.map(|listener| {
        if let Some(addr) = crate::ops::http::local_addr(&listener) {
            tracing::info!(%addr, "serving /healthz and /metrics");
        }
        let probe = crate::ops::http::Probe {
            store: store.clone(),
            telemetry: telemetry.clone(),
            clock: clock.clone(),
            updates: if webhook_on {
                ("webhook server beat", crate::ops::webhook::STALE)
            } else {
                ("getUpdates answer", updates_stale(settings.poll_timeout))
            },
        };
        crate::ops::http::serve(listener, probe, shutdown.clone())
    });
    let wake = Arc::new(Notify::new());
    let scheduler = Arc::new(Scheduler {
        store: store.clone(),
        catalog: catalog.clone(),
        clock: clock.clone(),
        outbox: outbox.clone(),
        wake: wake.clone(),
    });
    let scheduler_task = tokio::spawn(scheduler.run(shutdown.clone()));
    // The time-zone boundary data is unpacked once, off the handlers' threads, so the
    // first shared location is answered as fast as the rest.
    tokio::task::spawn_blocking(|| crate::domain::time::zone_at(0.0, 0.0));

    let deps = Arc::new(Deps {
        store: store.clone(),
        catalog,
        clock,
        outbox: outbox.clone(),
        wake,
        bot_username,
        link_attempts: Default::default(),
    });
    let mut dispatcher = Dispatcher::builder(bot.clone(), bot::schema())
        .dependencies(dptree::deps![deps])
        .default_handler(|_| async {})
        .error_handler(LoggingErrorHandler::with_custom_text(
            "an update could not be handled",
        ))
        .build();
    // The listener's own stop token ends the update stream at shutdown; the dispatcher
    // then hands out what it already took, waits for the handlers still running and
    // returns. teloxide's `ShutdownToken` is not used: it tells the dispatcher through a
    // `Notify` the dispatcher listens to only between updates, so a shutdown while it
    // was handing a busy chat's updates to that chat's full queue went unheard and the
    // bot polled on (and the token's "done" future can miss the end the same way).
    match webhook_updates {
        Some(mut listener) => {
            let stopper = stop_listening(listener.stop_token(), shutdown.clone());
            let dispatching = dispatcher.dispatch_with_listener(
                listener,
                LoggingErrorHandler::with_custom_text("the webhook failed"),
            );
            until_stopped(dispatching, shutdown.clone()).await;
            stopper.abort();
        }
        None => {
            let mut listener = crate::ops::polling::Watched::new(
                Polling::builder(bot).timeout(settings.poll_timeout).build(),
                telemetry,
            );
            let stopper = stop_listening(listener.stop_token(), shutdown.clone());
            let dispatching = dispatcher.dispatch_with_listener(
                listener,
                LoggingErrorHandler::with_custom_text("polling Telegram failed"),
            );
            until_stopped(dispatching, shutdown.clone()).await;
            stopper.abort();
        }
    }
    let _ = watched_step("the scheduler", scheduler_task).await;
    // Answers queued by the last handlers still go out; queued reminders were given up
    // (they go out after a restart).
    if tokio::time::timeout(DRAIN, outbox.drained()).await.is_err() {
        tracing::warn!(
            chats = outbox.busy_chats(),
            "messages still queued at shutdown were not sent"
        );
    }
    if let Some(task) = http_task {
        let _ = watched_step("the --http listener", task).await;
    }
    if let Some(task) = backup_task {
        let _ = watched_step("a backup", task).await;
    }
    watched_step("the database to close", store.close()).await;
    tracing::info!("stopped");
    Ok(())
}

/// Stops the update listener once `shutdown` turns true.
fn stop_listening(
    token: teloxide::stop::StopToken,
    mut shutdown: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let _ = shutdown.wait_for(|s| *s).await;
        token.stop();
    })
}

/// Runs the dispatcher until it returns; once shutdown has begun, its end is a step of
/// shutdown, watched like the others.
async fn until_stopped(
    dispatching: impl std::future::Future<Output = ()> + Send,
    mut shutdown: watch::Receiver<bool>,
) {
    tokio::pin!(dispatching);
    tokio::select! {
        () = &mut dispatching => {}
        () = async {
            let _ = shutdown.wait_for(|s| *s).await;
        } => {
            watched_step("the dispatcher to stop polling and its handlers to finish", dispatching).await;
        }
    }
}

/// Awaits one step of shutdown, saying every 5 s what it still waits for: a stop that
/// hangs names its cause in the log instead of going quiet.
async fn watched_step<F: std::future::Future>(what: &str, step: F) -> F::Output {
    tokio::pin!(step);
    loop {
        match tokio::time::timeout(Duration::from_secs(5), &mut step).await {
            Ok(out) => return out,
            Err(_) => tracing::warn!(waiting_for = what, "shutdown is taking long"),
        }
    }
}

/// getUpdates counts as stuck after this long without an answer: a long poll answers
/// within its timeout, so three of them (at least a minute) leaves room for a slow network.
fn updates_stale(poll_timeout: Duration) -> Duration {
    (poll_timeout * 3).max(Duration::from_secs(60))
}
