//! The outbox under the conditions people create: answers while reminders are queued,
//! a chat that blocks the bot with messages waiting, a 500 on an answer, and many
//! patients opening their links at once. Telegram's real limits (1/s per chat, 30/s
//! overall) are in force in the fake and in the bot.

mod support;

use std::time::{Duration as StdDuration, Instant};

use aftercare::outbox::pacer::Limits;
use aftercare::service::enroll::enroll;
use chrono::Duration;
use support::app::{TestApp, WAIT, eventually, start_time};
use support::fake_telegram::{Fault, TestUser};
use support::people::{anna, berlin, owner};

const APOLOGY: &str = "something went wrong on our side";

/// Glow Clinic with Anna linked for a 14:00 session, her first message received, at
/// Telegram's real pacing.
async fn anna_at_real_pace() -> TestApp {
    let app = TestApp::start_with_limits(Limits::default()).await;
    app.glow_with_anna().await;
    app
}

/// Moves every reminder Anna has not had yet to 19:00 (no expiry), so that they all
/// fall due together when the clock gets there, as after a late link.
async fn all_of_annas_steps_due_at_seven(app: &TestApp) -> i64 {
    let due = berlin("2026-11-23 19:00").timestamp_millis();
    sqlx::query("UPDATE reminders SET due_at = ?, expires_at = NULL WHERE status = 'pending'")
        .bind(due)
        .execute(app.store.pool())
        .await
        .unwrap()
        .rows_affected() as i64
}

#[tokio::test]
async fn stop_with_reminders_queued_is_answered_within_a_second_and_nothing_follows_it() {
    let app = anna_at_real_pace().await;
    let queued = all_of_annas_steps_due_at_seven(&app).await;
    assert!(queued >= 5, "only {queued} reminders to queue");
    let before = app.tg.sent_to(anna().id).len();
    app.clock.set(berlin("2026-11-23 19:00"));
    // The first of them arrives; the rest wait for their turns in Anna's chat.
    app.tg.wait_for_count(anna().id, before + 1, WAIT).await;
    let asked = Instant::now();
    app.tg.send_text(&anna(), "/stop");
    let answer = app
        .tg
        .wait_for(anna().id, |m| m.plain_text().contains("stopped"), WAIT)
        .await;
    let took = answer.at.duration_since(asked);
    assert!(
        took <= StdDuration::from_millis(1_500),
        "the answer to /stop took {took:?}"
    );
    // Two more chat turns: anything still queued would have gone out by then.
    app.tg.skip_sent(anna().id);
    app.tg
        .assert_nothing_sent_to(anna().id, StdDuration::from_millis(2_500))
        .await;
    let after: Vec<String> = app
        .tg
        .sent_to(anna().id)
        .iter()
        .filter(|m| m.at > answer.at)
        .map(|m| m.plain_text())
        .collect();
    assert!(
        after.is_empty(),
        "sent after the answer to /stop: {after:?}"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM reminders WHERE status IN ('pending', 'leased')")
            .await,
        0
    );
    app.stop().await;
}

#[tokio::test]
async fn a_patient_who_blocked_the_bot_costs_one_403_and_the_rest_is_recorded_unsent() {
    let app = anna_at_real_pace().await;
    let queued = all_of_annas_steps_due_at_seven(&app).await;
    assert!(queued >= 5, "only {queued} reminders to queue");
    app.tg.block_bot(anna().id);
    app.clock.set(berlin("2026-11-23 19:00"));
    eventually("every queued reminder is settled", || async {
        app.count("SELECT COUNT(*) FROM reminders WHERE status IN ('pending', 'leased')")
            .await
            == 0
    })
    .await;
    let refusals = app
        .tg
        .rejected()
        .into_iter()
        .filter(|(_, chat, code, _)| *chat == anna().id && *code == 403)
        .count();
    assert_eq!(refusals, 1, "Telegram was asked again after its 403");
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM reminders WHERE status = 'cancelled' AND note = 'blocked the bot'"
        )
        .await,
        queued
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM patients WHERE status = 'unreachable'")
            .await,
        1
    );
    app.stop().await;
}

#[tokio::test]
async fn a_500_on_the_greeting_is_retried_and_holds_up_nobody_else() {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    let ben = TestUser::new(2002, "Ben");
    let payload = app.enroll(&owner(), "Ben Ode 14:00").await;
    // Anna's evening message falls due while Ben's greeting is in trouble.
    app.tg.push_fault(Fault::ServerError);
    app.tg.send_text(&ben, &format!("/start {payload}"));
    eventually("the greeting met the 500", || async {
        app.tg
            .rejected()
            .iter()
            .any(|(_, chat, code, _)| *chat == ben.id && *code == 500)
    })
    .await;
    let faulted = Instant::now();
    app.clock.set(berlin("2026-11-23 19:00"));
    let evening = app
        .tg
        .wait_for(anna().id, |m| m.plain_text().contains("aloe vera"), WAIT)
        .await;
    assert!(
        evening.at.duration_since(faulted) < StdDuration::from_secs(2),
        "Anna's reminder waited for Ben's retry"
    );
    // teloxide itself waits 10 s after a 5xx; the outbox then tries again.
    let greeting = app
        .tg
        .wait_for(ben.id, |m| m.plain_text().contains("welcome"), WAIT * 3)
        .await;
    let ben_msgs = app.tg.sent_to(ben.id);
    assert_eq!(
        ben_msgs[0].message_id, greeting.message_id,
        "the greeting still comes first in Ben's chat"
    );
    assert!(
        !ben_msgs.iter().any(|m| m.plain_text().contains(APOLOGY)),
        "Ben got an apology"
    );
    app.stop().await;
}

#[tokio::test]
async fn forty_patients_opening_their_links_at_once_all_get_every_message_within_the_limits() {
    let app = TestApp::start_with_limits(Limits::default()).await;
    app.tg.enforce_rate_limits(30, StdDuration::from_secs(1));
    // Four clinics enrol ten patients each in the morning; the links are opened together.
    let mut payloads = Vec::new();
    for c in 0..4 {
        let (clinic_id, _) = app
            .create_clinic(&format!("Clinic {c}"), "Europe/Berlin")
            .await;
        let clinic = app.store.clinic(clinic_id).await.unwrap().unwrap();
        for p in 0..10 {
            let args = aftercare::domain::enroll_args::EnrollArgs {
                name: format!("Patient {c}-{p}"),
                session_at: start_time(),
            };
            let e = enroll(&app.store, &clinic, 1, &args, start_time())
                .await
                .unwrap();
            payloads.push((TestUser::new(7000 + c * 100 + p, "Pat"), e.payload));
        }
    }
    let first = Instant::now();
    for (user, payload) in &payloads {
        app.tg.send_text(user, &format!("/start {payload}"));
    }
    // The greeting and the first step, for each of the forty.
    for (user, _) in &payloads {
        app.tg.wait_for_count(user.id, 2, WAIT * 3).await;
    }
    let last = app.tg.sent().iter().map(|m| m.at).max().unwrap();
    let messages = app.tg.sent().len() as f64;
    let took = last.duration_since(first).as_secs_f64();
    let allowed = messages / 30.0;
    // Benchmark B5 measures this closely (docs/benchmarks.md); here the bound only has
    // to catch a stall (it was 10 to 20 s) on a machine busy with other tests.
    assert!(
        took <= allowed * 1.10 + 1.5,
        "{messages} messages took {took:.2} s; 30/s allows {allowed:.2} s"
    );
    for (user, _) in &payloads {
        let got = app.tg.sent_to(user.id);
        assert!(
            got[0].plain_text().contains("welcome"),
            "the greeting was not first for {}",
            user.id
        );
    }
    // The rest of the course, each step falling due for all forty at once.
    let mut t = start_time();
    while t < start_time() + Duration::days(60) {
        t += Duration::hours(1);
        app.clock.set(t);
        eventually("the hour's reminders are settled", || async {
            let due_unsent: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM reminders WHERE status IN ('pending', 'leased') AND due_at <= ?",
            )
            .bind(t.timestamp_millis())
            .fetch_one(app.store.pool())
            .await
            .unwrap();
            due_unsent == 0
        })
        .await;
    }
    eventually("every step went out", || async {
        app.count("SELECT COUNT(*) FROM reminders WHERE status = 'sent'")
            .await
            == app.count("SELECT COUNT(*) FROM reminders").await
    })
    .await;
    assert_eq!(app.tg.count_429(), 0, "{:?}", app.tg.rejected());
    assert!(
        !app.tg
            .sent()
            .iter()
            .any(|m| m.plain_text().contains(APOLOGY)),
        "a handler failed"
    );
    app.stop().await;
}
