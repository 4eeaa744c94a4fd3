//! Telegram as a strict peer: 429, 403, 5xx and its rate limits.

mod support;

use support::people::{anna, berlin, owner};

use aftercare::outbox::pacer::Limits;
use chrono::Duration;
use support::app::{QUIET, TestApp, WAIT, eventually};
use support::fake_telegram::{Fault, TestUser};

async fn app_with_linked_patient() -> TestApp {
    let app = TestApp::start().await;
    app.clinic_with_owner(&owner(), "Glow Clinic", "Europe/Berlin")
        .await;
    app.linked_patient(&owner(), &anna(), "Anna Berg 14:00")
        .await;
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("mild sunburn"), WAIT)
        .await;
    app
}

#[tokio::test]
async fn a_patient_who_blocked_the_bot_is_marked_unreachable_and_left_alone() {
    let app = app_with_linked_patient().await;
    app.tg.block_bot(anna().id);
    app.clock.set(berlin("2026-11-23 19:00"));
    // The send is refused with 403 once; then nothing more is tried.
    eventually("the patient is marked unreachable", || async {
        app.count("SELECT COUNT(*) FROM patients WHERE status = 'unreachable'")
            .await
            == 1
    })
    .await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM reminders WHERE status = 'pending'")
            .await,
        0
    );
    let refusals = app.tg.rejected().iter().filter(|r| r.2 == 403).count();
    assert_eq!(refusals, 1);
    app.clock.advance(Duration::days(30));
    app.tg.assert_nothing_sent_to(anna().id, QUIET).await;
    assert_eq!(app.tg.rejected().iter().filter(|r| r.2 == 403).count(), 1);
    app.stop().await;
}

/// `patient` blocks the bot, the evening reminder meets the 403, and they unblock it.
async fn unreachable_until_unblocked(app: &TestApp, patient: &TestUser) {
    app.tg.block_bot(patient.id);
    app.clock.set(berlin("2026-11-23 19:00"));
    eventually("the patient is marked unreachable", || async {
        app.count("SELECT COUNT(*) FROM patients WHERE status = 'unreachable'")
            .await
            == 1
    })
    .await;
    app.tg.unblock_bot(patient.id);
    app.tg.skip_sent(patient.id);
}

#[tokio::test]
async fn a_patient_who_unblocks_the_bot_and_writes_gets_the_held_reminders_back() {
    let app = app_with_linked_patient().await;
    unreachable_until_unblocked(&app, &anna()).await;
    // Unblocking in Telegram ("Restart") sends a bare /start.
    app.clock.set(berlin("2026-11-23 20:30"));
    app.tg.send_text(&anna(), "/start");
    app.tg
        .wait_for(
            anna().id,
            |m| {
                m.plain_text()
                    .contains("reminders from Glow Clinic were on hold")
            },
            WAIT,
        )
        .await;
    // The refused evening message is still in time, so it comes now; the course goes on.
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("aloe vera"), WAIT)
        .await;
    app.clock.set(berlin("2026-11-24 09:00"));
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("SPF 30"), WAIT)
        .await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM patients WHERE status = 'active'")
            .await,
        1
    );
    app.stop().await;
}

#[tokio::test]
async fn a_patient_who_unblocks_the_bot_and_opens_their_old_link_gets_the_reminders_back() {
    let app = app_with_linked_patient().await;
    let ben = TestUser::new(2002, "Ben");
    let payload = app.enroll(&owner(), "Ben Ode 14:00").await;
    app.tg.send_text(&ben, &format!("/start {payload}"));
    app.tg
        .wait_for(ben.id, |m| m.plain_text().contains("mild sunburn"), WAIT)
        .await;
    unreachable_until_unblocked(&app, &ben).await;
    app.tg.send_text(&ben, &format!("/start {payload}"));
    app.tg
        .wait_for(ben.id, |m| m.plain_text().contains("were on hold"), WAIT)
        .await;
    app.tg
        .wait_for(ben.id, |m| m.plain_text().contains("aloe vera"), WAIT)
        .await;
    app.stop().await;
}

#[tokio::test]
async fn an_unreachable_patient_who_writes_stop_is_not_switched_back_on_first() {
    let app = app_with_linked_patient().await;
    unreachable_until_unblocked(&app, &anna()).await;
    app.tg.send_text(&anna(), "stop");
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("reminders are stopped"),
            WAIT,
        )
        .await;
    app.tg.assert_nothing_sent_to(anna().id, QUIET).await;
    app.clock.advance(Duration::days(2));
    app.tg.assert_nothing_sent_to(anna().id, QUIET).await;
    // /resume later brings back what was held, expiry permitting.
    app.clock.set(berlin("2026-11-25 09:00"));
    app.tg.send_text(&anna(), "/resume");
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("are on again"), WAIT)
        .await;
    app.clock.set(berlin("2026-11-26 10:00"));
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("how is your skin feeling"),
            WAIT,
        )
        .await;
    app.stop().await;
}

#[tokio::test]
async fn a_429_is_obeyed_and_the_reminder_goes_out_after_retry_after() {
    let app = app_with_linked_patient().await;
    app.tg.push_fault(Fault::RetryAfter(2));
    app.clock.set(berlin("2026-11-23 19:00"));
    // Refused once; nothing goes out until the clock passes retry_after.
    eventually("the reminder is tried", || async {
        app.tg.count_429() == 1
    })
    .await;
    app.tg.assert_nothing_sent_to(anna().id, QUIET).await;
    app.clock.advance(Duration::seconds(2));
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("aloe vera"), WAIT)
        .await;
    assert_eq!(app.tg.count_429(), 1);
    app.stop().await;
}

#[tokio::test]
async fn a_server_error_is_retried_with_backoff() {
    let app = app_with_linked_patient().await;
    app.tg.push_fault(Fault::ServerError);
    app.clock.set(berlin("2026-11-23 19:00"));
    // teloxide waits 10 s after a 5xx before reporting it.
    eventually("the failure is recorded for a retry", || async {
        app.count("SELECT COUNT(*) FROM reminders WHERE note LIKE 'retrying%'")
            .await
            == 1
    })
    .await;
    app.tg.assert_nothing_sent_to(anna().id, QUIET).await;
    // First backoff: 5 s of (injected) time.
    app.clock.advance(Duration::seconds(5));
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("aloe vera"), WAIT)
        .await;
    app.stop().await;
}

#[tokio::test]
async fn many_due_reminders_stay_within_telegrams_rate_limits() {
    let app = TestApp::start_with_limits(Limits::default()).await;
    app.tg
        .enforce_rate_limits(30, std::time::Duration::from_secs(1));
    // Five clinics, ten patients linked late: each has three steps due at once.
    let mut owners = Vec::new();
    for i in 0..5 {
        let o = TestUser::new(1100 + i, "Owner");
        app.clinic_with_owner(&o, &format!("Clinic {i}"), "Europe/Berlin")
            .await;
        owners.push(o);
    }
    let mut patients = Vec::new();
    for i in 0..10 {
        let p = TestUser::new(5000 + i, "Pat");
        app.linked_patient(&owners[i as usize % 5], &p, "Pat Doe 2026-11-22 10:00")
            .await;
        patients.push(p);
    }
    for p in &patients {
        app.tg
            .wait_for(p.id, |m| m.plain_text().contains("sauna"), WAIT)
            .await;
    }
    let first = app.tg.sent().first().map(|m| m.at).unwrap();
    let timeline: Vec<String> = app
        .tg
        .sent()
        .iter()
        .map(|m| {
            format!(
                "{} {:?} {}",
                m.chat_id,
                m.at - first,
                m.text.chars().take(20).collect::<String>()
            )
        })
        .collect();
    assert_eq!(
        app.tg.count_429(),
        0,
        "the bot went over a limit: {:?}\n{timeline:#?}",
        app.tg.rejected()
    );
    app.stop().await;
}

#[tokio::test]
async fn after_three_days_asleep_expired_steps_are_skipped_and_the_rest_go_in_order() {
    let app = app_with_linked_patient().await;
    let ben = TestUser::new(2002, "Ben");
    app.linked_patient(&owner(), &ben, "Ben Ode 14:00").await;
    app.tg
        .wait_for(ben.id, |m| m.plain_text().contains("mild sunburn"), WAIT)
        .await;
    // The machine sleeps from Monday 14:00 to Thursday 10:30.
    app.clock.set(berlin("2026-11-26 10:30"));
    for p in [anna(), TestUser::new(2002, "Ben")] {
        // Only the day-3 check-in is still in time; the rest expired while asleep.
        app.tg
            .wait_for(
                p.id,
                |m| m.plain_text().contains("how is your skin feeling"),
                WAIT,
            )
            .await;
        app.tg.assert_nothing_sent_to(p.id, QUIET).await;
    }
    eventually("the missed steps are recorded as skipped", || async {
        app.count(
            "SELECT COUNT(*) FROM reminders WHERE status = 'skipped' AND note = 'past its expiry'",
        )
        .await
            == 8
    })
    .await;
    app.stop().await;
}

#[tokio::test]
async fn a_429_storm_is_waited_out_and_nothing_goes_early() {
    let app = app_with_linked_patient().await;
    let others: Vec<TestUser> = (0..3).map(|i| TestUser::new(2100 + i, "Pat")).collect();
    for p in &others {
        app.linked_patient(&owner(), p, "Pat Doe 14:00").await;
        app.tg
            .wait_for(p.id, |m| m.plain_text().contains("mild sunburn"), WAIT)
            .await;
    }
    // Telegram's retry_after can reach 30 s; the test waits it out in real time.
    for secs in [30, 1, 2] {
        app.tg.push_fault(Fault::RetryAfter(secs));
    }
    let storm_started = std::time::Instant::now();
    app.clock.set(berlin("2026-11-23 19:00"));
    eventually("all three 429s are answered", || async {
        app.tg.count_429() == 3
    })
    .await;
    // The domain clock moves on; delivery waits out the longest retry_after in real time.
    app.clock.set(berlin("2026-11-23 19:01"));
    for p in others.iter().chain([&anna()]) {
        app.tg
            .wait_for(
                p.id,
                |m| m.plain_text().contains("aloe vera"),
                // Generous: once (in about 1 run of 7 of the whole suite here) the
                // catch-up took longer than 60 s; not reproduced in 48 runs of this
                // file alone. What is asserted is order and nothing early, not speed.
                std::time::Duration::from_secs(120),
            )
            .await;
    }
    let first_after = app
        .tg
        .sent()
        .iter()
        .filter(|m| m.text.contains("aloe vera"))
        .map(|m| m.at)
        .min()
        .unwrap();
    assert!(
        first_after.duration_since(storm_started) >= std::time::Duration::from_secs(30),
        "a message went out before retry_after had passed"
    );
    assert_eq!(app.tg.count_429(), 3);
    app.stop().await;
}

#[tokio::test]
async fn a_database_locked_by_another_process_delays_but_drops_nothing() {
    let app = app_with_linked_patient().await;
    let url = support::app::db_url(&app.dir);
    let lock = support::app::hold_write_lock(&url, std::time::Duration::from_secs(3)).await;
    let locked_at = std::time::Instant::now();
    app.clock.set(berlin("2026-11-23 19:00"));
    app.tg.send_text(&anna(), "/stop");
    // Neither the reminder nor the answer can be recorded while the lock is held.
    let m = app
        .tg
        .wait_for(anna().id, |m| !m.text.is_empty(), WAIT)
        .await;
    assert!(
        locked_at.elapsed() >= std::time::Duration::from_secs(2),
        "something got past the lock: {}",
        m.text
    );
    lock.await.unwrap();
    eventually("the reminder and the stop are both recorded", || async {
        app.count("SELECT COUNT(*) FROM reminders WHERE step_id = 'hydrate-evening' AND status IN ('sent', 'cancelled')").await
            == 1
            && app.count("SELECT COUNT(*) FROM patients WHERE status = 'stopped'").await == 1
    })
    .await;
    app.stop().await;
}

#[tokio::test]
async fn with_thirty_percent_server_errors_every_reminder_still_arrives_once() {
    let app = TestApp::start().await;
    app.clinic_with_owner(&owner(), "Glow Clinic", "Europe/Berlin")
        .await;
    let patients: Vec<TestUser> = (0..10).map(|i| TestUser::new(2200 + i, "Pat")).collect();
    for p in &patients {
        app.linked_patient(&owner(), p, "Pat Doe 14:00").await;
        app.tg
            .wait_for(p.id, |m| m.plain_text().contains("mild sunburn"), WAIT)
            .await;
    }
    app.tg.set_random_faults(0.3, 7);
    app.clock.set(berlin("2026-11-23 19:00"));
    // Each failure is retried after a backoff of injected time; keep the clock moving.
    eventually("every evening reminder arrived", || async {
        app.clock.advance(Duration::seconds(10));
        app.tg
            .sent()
            .iter()
            .filter(|m| m.text.contains("aloe vera"))
            .count()
            >= patients.len()
    })
    .await;
    app.tg.set_random_faults(0.0, 0);
    let failures = app.tg.rejected().iter().filter(|r| r.2 >= 500).count();
    assert!(
        failures > 0,
        "the seed produced no failure; the test proves nothing"
    );
    for p in &patients {
        let n = app
            .tg
            .sent_to(p.id)
            .iter()
            .filter(|m| m.text.contains("aloe vera"))
            .count();
        assert_eq!(n, 1, "patient {} got the reminder {n} times", p.id);
    }
    app.stop().await;
}

#[tokio::test]
async fn an_answer_that_comes_after_the_clients_timeout_is_retried_and_nothing_is_lost() {
    let app = app_with_linked_patient().await;
    // Telegram takes the message but answers after teloxide's 17 s client timeout.
    app.tg
        .push_fault(Fault::Slow(std::time::Duration::from_secs(18)));
    app.clock.set(berlin("2026-11-23 19:00"));
    eventually("the timed-out send is queued for a retry", || async {
        app.count("SELECT COUNT(*) FROM reminders WHERE note LIKE 'retrying%'")
            .await
            == 1
    })
    .await;
    app.clock.advance(Duration::seconds(5));
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("aloe vera"), WAIT)
        .await;
    eventually("the retry is recorded as sent", || async {
        app.count(
            "SELECT COUNT(*) FROM reminders WHERE step_id = 'hydrate-evening' AND status = 'sent'",
        )
        .await
            == 1
    })
    .await;
    // At least once: the slow first attempt may also have been delivered.
    let copies = app
        .tg
        .sent_to(anna().id)
        .iter()
        .filter(|m| m.text.contains("aloe vera"))
        .count();
    assert!((1..=2).contains(&copies), "{copies} copies");
    app.stop().await;
}
