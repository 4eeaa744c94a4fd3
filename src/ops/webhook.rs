//! Webhook mode (`--webhook-url`): Telegram posts each update to us instead of the bot
//! asking with getUpdates. teloxide's own axum webhook does the work (setWebhook at
//! start, the secret-token check on every request, deleteWebhook at shutdown); this
//! module binds the address first, so a taken port fails at start like `--http`, and
//! keeps /healthz's "telegram" check beating while the webhook server runs (an idle
//! bot gets no updates, so their age would say nothing).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use teloxide::RequestError;
use teloxide::prelude::*;
use teloxide::update_listeners::UpdateListener;
use teloxide::update_listeners::webhooks::{Options, axum_to_router};
use tokio::net::TcpListener;

use super::Telemetry;

/// How often the running webhook server stamps the heartbeat.
const BEAT: Duration = Duration::from_secs(10);
/// The webhook counts as down after this long without a stamp.
pub const STALE: Duration = Duration::from_secs(60);

/// Where Telegram sends updates and where we listen for them.
#[derive(Clone)]
pub struct WebhookPlan {
    /// The public HTTPS address Telegram posts to (its path is the route served).
    pub url: reqwest::Url,
    /// The local address the webhook server listens on (behind a TLS proxy).
    pub listen: SocketAddr,
    /// Checked against `X-Telegram-Bot-Api-Secret-Token`; generated at start if unset.
    pub secret: Option<String>,
}

/// Never shows the secret.
impl std::fmt::Debug for WebhookPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookPlan")
            .field("url", &self.url.as_str())
            .field("listen", &self.listen)
            .field("secret", &self.secret.as_ref().map(|_| "…"))
            .finish()
    }
}

/// Telegram's rule for a secret token: 1–256 characters from `A-Z a-z 0-9 _ -`.
pub fn check_secret(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 256 {
        return Err("the webhook secret must be 1 to 256 characters long".into());
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err("the webhook secret may hold only A-Z, a-z, 0-9, _ and -".into());
    }
    Ok(())
}

/// Binds the listen address (port 0 picks a free one).
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

/// Sets the webhook at Telegram and serves it on `listener` until the dispatcher stops
/// the returned update listener (which then deletes the webhook).
pub async fn start(
    bot: Bot,
    plan: WebhookPlan,
    listener: TcpListener,
    telemetry: Arc<Telemetry>,
) -> Result<impl UpdateListener<Err = Infallible>, RequestError> {
    let mut options = Options::new(plan.listen, plan.url);
    if let Some(secret) = plan.secret {
        // Checked by `check_secret` on the command line; teloxide panics on a bad one.
        if check_secret(&secret).is_ok() {
            options = options.secret_token(secret);
        }
    }
    let (updates, stopped, router) = axum_to_router(bot, options).await?;
    tokio::spawn(async move {
        let server = axum::serve(listener, router).with_graceful_shutdown(stopped);
        let beat = async {
            loop {
                telemetry.beats.updates_fetched();
                tokio::time::sleep(BEAT).await;
            }
        };
        tokio::select! {
            served = server => {
                if let Err(e) = served {
                    tracing::error!(error = %e, "the webhook server stopped");
                }
            }
            _ = beat => {}
        }
    });
    Ok(updates)
}
