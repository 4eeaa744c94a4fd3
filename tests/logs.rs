//! What the logs carry during a full course: ids, never the token, names or texts.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use chrono::Duration;
use support::app::{TestApp, WAIT};
use support::fake_telegram::{TOKEN, TestUser};

/// What must never show in a line at info or above.
const SECRETS: [&str; 8] = [
    "Zephyrine",
    "Quixote",
    "cheek feels warm",
    "mild sunburn",
    "aloe vera",
    "Glow Clinic",
    "Moonlit",
    "marigold",
];

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_full_course_logs_ids_but_never_the_token_names_or_message_texts() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    // The same events are written twice: as text, and as JSON by the layer that
    // `--log-format json` installs.
    let captured = Captured::default();
    let writer = captured.clone();
    let json = Captured::default();
    let json_writer = json.clone();
    tracing_subscriber::registry()
        .with(tracing_subscriber::filter::LevelFilter::DEBUG)
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(move || writer.clone()),
        )
        .with(aftercare::logs::layer(
            aftercare::logs::LogFormat::Json,
            move || json_writer.clone(),
        ))
        .init();

    let app = TestApp::start().await;
    let owner = TestUser::new(1001, "Olga");
    app.clinic_with_owner(&owner, "Glow Clinic", "Europe/Berlin")
        .await;
    let patient = TestUser::new(2001, "Zephyrine");
    app.linked_patient(&owner, &patient, "Zephyrine Quixote")
        .await;
    // The owner rewrites a step; neither the new text nor a refused one is logged.
    app.tg.send_text(&owner, "/edit step.activities-ok");
    app.tg
        .wait_for(
            owner.id,
            |m| m.plain_text().contains("Send me the new text"),
            WAIT,
        )
        .await;
    app.tg.send_text(&owner, "Hi {frist_marigold}");
    app.tg
        .wait_for(owner.id, |m| m.plain_text().starts_with("Not saved"), WAIT)
        .await;
    app.tg.send_text(&owner, "Moonlit serum time, {first_name}");
    let preview = app
        .tg
        .wait_for(
            owner.id,
            |m| !m.buttons().is_empty() && m.plain_text().contains("Moonlit"),
            WAIT,
        )
        .await;
    let save = preview.button_data()[0].clone();
    app.tg.press_button(&owner, preview.message_id, &save);
    app.tg
        .wait_for(owner.id, |m| m.plain_text().starts_with("Saved:"), WAIT)
        .await;
    app.tg.send_text(&patient, "/schedule");
    app.tg
        .send_text(&patient, "My cheek feels warm, is that ok?");
    for day in 0..30 {
        app.clock.advance(Duration::days(1));
        if day == 2 {
            app.tg
                .wait_for(
                    patient.id,
                    |m| m.plain_text().contains("how is your skin feeling"),
                    WAIT,
                )
                .await;
        }
    }
    app.tg
        .wait_for(
            patient.id,
            |m| m.plain_text().contains("book your next"),
            WAIT,
        )
        .await;
    app.stop().await;

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    check_json(
        &log,
        &String::from_utf8(json.0.lock().unwrap().clone()).unwrap(),
    );
    assert!(log.contains("patient linked"), "the log is captured: {log}");
    assert!(log.contains("sent"), "deliveries are logged: {log}");
    assert!(log.contains("text saved"), "edits are logged: {log}");
    assert!(log.contains("DEBUG"), "debug lines are captured too");
    assert!(!log.contains(TOKEN), "the token leaked");
    assert!(!log.contains("TEST-fake-token"), "part of the token leaked");
    for line in log
        .lines()
        .filter(|l| !l.contains("DEBUG") && !l.contains("TRACE"))
    {
        for secret in SECRETS {
            assert!(!line.contains(secret), "`{secret}` in an info line: {line}");
        }
    }
}

/// `--log-format json`: every line of the same course is one JSON object carrying the
/// same fields, and the privacy rule holds for it too.
fn check_json(text_log: &str, json_log: &str) {
    let lines: Vec<serde_json::Value> = json_log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert_eq!(
        lines.len(),
        text_log.lines().count(),
        "one JSON line per text line"
    );
    let message = |v: &serde_json::Value| v["fields"]["message"].as_str().unwrap_or("").to_string();
    let sent = lines
        .iter()
        .find(|v| message(v) == "sent")
        .expect("a delivery in the JSON log");
    assert!(sent["fields"]["late_ms"].is_i64(), "fields kept: {sent}");
    assert!(
        sent["span"]["reminder"].is_i64(),
        "the span's ids kept: {sent}"
    );
    assert!(lines.iter().any(|v| message(v) == "patient linked"));
    assert!(!json_log.contains(TOKEN) && !json_log.contains("TEST-fake-token"));
    for (raw, v) in json_log.lines().zip(&lines) {
        let level = v["level"].as_str().unwrap_or("");
        if level == "DEBUG" || level == "TRACE" {
            continue;
        }
        for secret in SECRETS {
            assert!(!raw.contains(secret), "`{secret}` in a JSON line: {raw}");
        }
    }
}
