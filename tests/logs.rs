//! What the logs carry during a full course: ids, never the token, names or texts.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use chrono::Duration;
use support::app::{TestApp, WAIT};
use support::fake_telegram::{TOKEN, TestUser};

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
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
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
        for secret in [
            "Zephyrine",
            "Quixote",
            "cheek feels warm",
            "mild sunburn",
            "aloe vera",
            "Glow Clinic",
            "Moonlit",
            "marigold",
        ] {
            assert!(!line.contains(secret), "`{secret}` in an info line: {line}");
        }
    }
}
