//! Running it as a service: /healthz and /metrics on the `--http` listener.

mod support;

use std::process::{Child, Command, Stdio};

use aftercare::app::Operations;
use support::app::{TestApp, WAIT, eventually};
use support::exposition::{self, has, value};
use support::fake_telegram::{FakeTelegram, Fault};
use support::people::{anna, local};

/// A free loopback port for the in-process bot (the subprocess tests read theirs from
/// the log instead).
fn free_addr() -> std::net::SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

async fn get(url: &str) -> Option<(u16, String)> {
    let r = reqwest::get(url).await.ok()?;
    let status = r.status().as_u16();
    Some((status, r.text().await.ok()?))
}

async fn scrape(base: &str) -> Vec<exposition::Sample> {
    let (status, body) = get(&format!("{base}/metrics")).await.expect("no /metrics");
    assert_eq!(status, 200);
    exposition::parse(&body)
}

#[tokio::test]
async fn metrics_count_a_delivered_course_and_match_the_database() {
    let addr = free_addr();
    let app = TestApp::start_with_ops(Operations {
        http: Some(addr),
        backups: None,
        webhook: None,
    })
    .await;
    let base = format!("http://{addr}");
    eventually("the listener answers", || async {
        get(&format!("{base}/metrics")).await.is_some()
    })
    .await;
    let before = scrape(&base).await;
    assert_eq!(
        value(&before, "aftercare_messages_total", &[("outcome", "sent")]),
        0.0
    );

    app.glow_with_anna().await;
    // One 429 on the way: counted with its wait, and the message still goes.
    app.tg.push_fault(Fault::RetryAfter(1));
    app.clock.set(local("Europe/Berlin", "2026-11-24 14:00"));
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("non-comedogenic"),
            WAIT,
        )
        .await;

    let sent_rows = || async {
        app.count("SELECT COUNT(*) FROM reminders WHERE status = 'sent'")
            .await as f64
    };
    eventually("the counters catch up with the database", || async {
        let m = scrape(&base).await;
        let pending = app
            .count("SELECT COUNT(*) FROM reminders WHERE status IN ('pending', 'leased')")
            .await as f64;
        value(
            &m,
            "aftercare_messages_total",
            &[("outcome", "sent"), ("reason", "reminder")],
        ) == sent_rows().await
            && value(&m, "aftercare_reminder_lateness_seconds_count", &[]) == sent_rows().await
            && value(&m, "aftercare_reminders_pending", &[]) == pending
    })
    .await;
    let m = scrape(&base).await;
    assert!(sent_rows().await >= 2.0, "steps went out");
    // Steps whose moment passed while the clock jumped are skipped, and counted so.
    let skipped = app
        .count(
            "SELECT COUNT(*) FROM reminders WHERE status = 'skipped' AND note = 'past its expiry'",
        )
        .await as f64;
    assert_eq!(
        value(
            &m,
            "aftercare_messages_total",
            &[("outcome", "skipped"), ("reason", "past its expiry")]
        ),
        skipped
    );
    // The owner's answers (welcome, enrollment link) and Anna's greeting.
    assert!(
        value(
            &m,
            "aftercare_messages_total",
            &[("outcome", "sent"), ("reason", "answer")]
        ) >= 3.0
    );
    assert_eq!(value(&m, "aftercare_telegram_rate_limited_total", &[]), 1.0);
    assert_eq!(
        value(&m, "aftercare_telegram_retry_after_seconds_total", &[]),
        1.0
    );
    // Every update handled was timed: /start twice and /enroll at least.
    assert!(value(&m, "aftercare_handler_seconds_count", &[]) >= 3.0);
    assert!(has(&m, "aftercare_handler_seconds_bucket"));
    assert_eq!(value(&m, "aftercare_reminders_overdue", &[]), 0.0);
    assert_eq!(value(&m, "aftercare_alerts_open", &[]), 0.0);
    let size = std::fs::metadata(app.dir.path().join("aftercare.db"))
        .unwrap()
        .len() as f64;
    let reported = value(&m, "aftercare_database_bytes", &[]);
    assert!(
        reported > 0.0 && reported <= size,
        "{reported} vs file {size}"
    );

    // /stop: the rest is skipped or cancelled, and pending drops to nothing.
    app.tg.send_text(&anna(), "/stop");
    eventually("nothing pending after /stop", || async {
        value(&scrape(&base).await, "aftercare_reminders_pending", &[]) == 0.0
    })
    .await;
    app.stop().await;
}

fn spawn_bot(tg: &FakeTelegram, db: &str) -> (Child, support::process::Log) {
    let messages = support::app::messages_dir();
    support::process::spawn_bot(&tg.api_url(), db, &messages, &["--http", "127.0.0.1:0"])
}

async fn health(base: &str) -> (u16, serde_json::Value) {
    let (status, body) = get(&format!("{base}/healthz")).await.expect("no /healthz");
    let json = serde_json::from_str(&body).unwrap_or_else(|_| panic!("not JSON: {body}"));
    (status, json)
}

/// The database stops taking writes (a file-size limit of 0 on the running bot, as on
/// a full disk) and comes back: /healthz says 503 naming the database, then 200.
#[tokio::test(flavor = "multi_thread")]
async fn healthz_fails_while_the_database_cannot_be_written_and_recovers() {
    let tg = FakeTelegram::start().await;
    let data = tempfile::tempdir().unwrap();
    let (mut bot, log) = spawn_bot(&tg, &support::app::db_url(&data));
    let mut addr = None;
    eventually("the bot names its HTTP address", || {
        addr = log.lock().lines().find_map(|l| {
            l.contains("serving /healthz")
                .then(|| l.split("addr=").nth(1))
                .flatten()
                .map(|a| a.split_whitespace().next().unwrap_or("").to_string())
        });
        let found = addr.is_some();
        async move { found }
    })
    .await;
    let base = format!("http://{}", addr.unwrap());

    eventually("healthy once polling and the scheduler run", || async {
        health(&base).await.0 == 200
    })
    .await;
    let addr = base.trim_start_matches("http://").to_string();
    assert_eq!(
        health_command(&addr),
        Some(0),
        "`aftercare health` says healthy"
    );
    let (_, ok) = health(&base).await;
    assert_eq!(ok["healthy"], true);
    for check in ["database", "telegram", "scheduler"] {
        assert_eq!(ok[check]["ok"], true, "{check}: {ok}");
    }

    support::process::limit_file_size(bot.id(), Some(0));
    eventually("unhealthy while nothing can be written", || async {
        health(&base).await.0 == 503
    })
    .await;
    let (_, bad) = health(&base).await;
    assert_eq!(bad["healthy"], false);
    assert_eq!(bad["database"]["ok"], false, "{bad}");
    assert!(
        bad["database"]["detail"]
            .as_str()
            .unwrap()
            .contains("cannot write")
    );
    assert_eq!(
        bad["telegram"]["ok"], true,
        "only the database is at fault: {bad}"
    );
    assert_eq!(
        health_command(&addr),
        Some(1),
        "`aftercare health` says unhealthy"
    );

    support::process::limit_file_size(bot.id(), None);
    eventually("healthy again once the space is back", || async {
        health(&base).await.0 == 200
    })
    .await;

    support::process::terminate(&bot);
    let shown = log.clone();
    let status = tokio::task::spawn_blocking(move || {
        support::process::exit_within(&mut bot, &log, std::time::Duration::from_secs(30))
    })
    .await
    .unwrap();
    assert!(status.success(), "exit: {status:?}\n{}", shown.lock());
}

/// Runs `aftercare health --http ADDR`; its exit code.
fn health_command(addr: &str) -> Option<i32> {
    Command::new(env!("CARGO_BIN_EXE_aftercare"))
        .args(["health", "--http", addr])
        .env_remove("AFTERCARE_HTTP")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .code()
}
