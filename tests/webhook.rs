//! Webhook mode (`--webhook-url`): the bot sets its webhook at the (stand-in) Bot API,
//! takes updates posted to it over loopback with the right secret, and refuses others.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use aftercare::app::Operations;
use aftercare::ops::webhook::WebhookPlan;
use serde_json::{Value, json};
use support::app::{TestApp, WAIT, eventually};
use support::fake_telegram::TestUser;
use support::people::anna;

const URL: &str = "https://bot.example.com/tg";

fn free_addr() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

async fn start(listen: SocketAddr, secret: Option<&str>, http: Option<SocketAddr>) -> TestApp {
    TestApp::start_with_ops(Operations {
        http,
        backups: None,
        webhook: Some(WebhookPlan {
            url: URL.parse().unwrap(),
            listen,
            secret: secret.map(str::to_string),
        }),
    })
    .await
}

/// A private message from `who`, as Telegram posts it to a webhook.
fn message(update_id: i64, who: &TestUser, text: &str) -> Value {
    let user = json!({"id": who.id, "is_bot": false, "first_name": who.first_name});
    let chat = json!({"id": who.id, "type": "private", "first_name": who.first_name});
    json!({
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "from": user,
            "chat": chat,
            "date": 1_795_000_000,
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": text.len()}],
        }
    })
}

/// POSTs `update` to the webhook; the HTTP status, or None while nothing listens.
async fn post(listen: SocketAddr, secret: Option<&str>, update: &Value) -> Option<u16> {
    let mut req = reqwest::Client::new()
        .post(format!("http://{listen}/tg"))
        .header("content-type", "application/json")
        .body(update.to_string());
    if let Some(s) = secret {
        req = req.header("X-Telegram-Bot-Api-Secret-Token", s);
    }
    Some(req.send().await.ok()?.status().as_u16())
}

/// The webhook the bot set at the stand-in, once it has.
async fn webhook_set(app: &TestApp) -> aftercare::standin::Webhook {
    eventually("the bot sets its webhook", || async {
        app.tg.webhook().is_some()
    })
    .await;
    app.tg.webhook().unwrap()
}

#[tokio::test]
async fn an_update_with_the_generated_secret_is_answered_and_a_wrong_secret_is_refused() {
    let listen = free_addr();
    let app = start(listen, None, None).await;
    let hook = webhook_set(&app).await;
    assert_eq!(hook.url, URL);
    let secret = hook
        .secret_token
        .expect("a secret is generated when none is given");
    assert!(
        secret.len() >= 16,
        "a weak secret: {} characters",
        secret.len()
    );

    // Anna has written to the bot before, so the stand-in lets the bot answer her.
    let anna = anna();
    let mallory = TestUser::new(6666, "Mallory");
    app.tg.started_earlier(&anna);
    app.tg.started_earlier(&mallory);

    // A wrong secret, and none at all: refused, and nothing is answered.
    let forged = message(1, &mallory, "/help");
    assert_eq!(
        post(listen, Some("not-the-secret"), &forged).await,
        Some(401)
    );
    assert_eq!(post(listen, None, &forged).await, Some(401));

    assert_eq!(
        post(listen, Some(&secret), &message(2, &anna, "/help")).await,
        Some(200)
    );
    let answer = app.tg.wait_for_count(anna.id, 1, WAIT).await.remove(0);
    // A stranger's /help: the bot answers that it does not know her clinic yet.
    assert!(
        answer.plain_text().contains("which clinic"),
        "{}",
        answer.plain_text()
    );

    app.tg
        .assert_nothing_sent_to(mallory.id, Duration::from_millis(500))
        .await;
    assert_eq!(app.tg.requests("getUpdates"), 0, "long polling ran too");

    // Shutdown removes the webhook, so Telegram stops posting to a bot that is gone.
    let (tg, _, _) = app.stop().await;
    assert_eq!(tg.webhook(), None);
}

#[tokio::test]
async fn a_configured_secret_is_used_and_health_watches_the_webhook_server() {
    let listen = free_addr();
    let http = free_addr();
    let app = start(listen, Some("clinic_Secret-42"), Some(http)).await;
    let hook = webhook_set(&app).await;
    assert_eq!(hook.secret_token.as_deref(), Some("clinic_Secret-42"));

    let anna = anna();
    app.tg.started_earlier(&anna);
    assert_eq!(
        post(
            listen,
            Some("clinic_Secret-42"),
            &message(1, &anna, "/help")
        )
        .await,
        Some(200)
    );
    app.tg.wait_for_count(anna.id, 1, WAIT).await;

    let health = || async {
        let r = reqwest::get(format!("http://{http}/healthz")).await.ok()?;
        r.json::<Value>().await.ok()
    };
    eventually("/healthz says the webhook server beats", || async {
        health().await.is_some_and(|h| {
            h["telegram"]["ok"] == true
                && h["telegram"]["detail"]
                    .as_str()
                    .is_some_and(|d| d.contains("webhook"))
        })
    })
    .await;
    app.stop().await;
}
