//! End to end: a clinic's owner changes the timing of the course from Telegram.

mod support;

use support::people::{anna, berlin, owner};

use aftercare::store::StaffRole;
use chrono::{DateTime, Utc};
use support::app::{QUIET, TestApp, WAIT, eventually};
use support::fake_telegram::TestUser;

fn ben() -> TestUser {
    TestUser::new(2002, "Ben")
}

/// The reminder row of a patient (by chat) and step: (due time, status).
async fn row(app: &TestApp, chat: i64, step: &str) -> Option<(DateTime<Utc>, String)> {
    let r: Option<(i64, String)> = sqlx::query_as(
        "SELECT r.due_at, r.status FROM reminders r JOIN patients p ON p.id = r.patient_id
         WHERE p.chat_id = ? AND r.step_id = ?",
    )
    .bind(chat)
    .bind(step)
    .fetch_optional(app.store.pool())
    .await
    .unwrap();
    r.map(|(due, status)| (aftercare::store::from_millis(due), status))
}

#[tokio::test]
async fn timing_shows_each_step_with_its_offset() {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    app.tg.send_text(&owner(), "/timing");
    let m = app
        .tg
        .wait_for(
            owner().id,
            |m| m.plain_text().contains("Course timing"),
            WAIT,
        )
        .await
        .plain_text();
    assert!(
        m.contains("normal-now · 0s · What's normal, and what to do now"),
        "{m}"
    );
    assert!(
        m.contains("sun-morning · 1d at 09:00 · Protect your skin from the sun"),
        "{m}"
    );
    assert!(m.contains("makeup-ok · 24h · "), "{m}");
    assert!(m.contains("book-next · 4w at 10:00 · "), "{m}");
    app.stop().await;
}

#[tokio::test]
async fn a_moved_step_applies_to_new_enrollments_and_to_enrolled_patients_only_when_confirmed() {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    let session = berlin("2026-11-23 14:00");
    assert_eq!(
        row(&app, anna().id, "makeup-ok").await.unwrap().0,
        session + chrono::Duration::hours(24)
    );

    app.tg.send_text(&owner(), "/timing makeup-ok 36h");
    let answer = app
        .tg
        .wait_for(
            owner().id,
            |m| m.plain_text().contains("makeup-ok now goes out 36h"),
            WAIT,
        )
        .await;
    assert!(
        answer
            .plain_text()
            .contains("1 enrolled patient still has this step ahead of them and keeps"),
        "{}",
        answer.plain_text()
    );
    // Anna keeps her schedule for now.
    assert_eq!(
        row(&app, anna().id, "makeup-ok").await.unwrap().0,
        session + chrono::Duration::hours(24)
    );
    // Ben, enrolled after the change, gets the new timing: 36 h after 14:00 is 02:00,
    // inside quiet hours, so 08:00.
    app.linked_patient(&owner(), &ben(), "Ben Ode 14:00").await;
    assert_eq!(
        row(&app, ben().id, "makeup-ok").await.unwrap().0,
        berlin("2026-11-25 08:00")
    );
    // Other steps did not move.
    assert_eq!(
        row(&app, ben().id, "sun-morning").await.unwrap().0,
        berlin("2026-11-24 09:00")
    );
    app.tg.send_text(&owner(), "/timing");
    let overview = app
        .tg
        .wait_for(
            owner().id,
            |m| m.plain_text().contains("Course timing"),
            WAIT,
        )
        .await
        .plain_text();
    assert!(overview.contains("✏️ makeup-ok · 36h"), "{overview}");
    assert!(
        overview.contains("\nsun-morning · 1d at 09:00"),
        "{overview}"
    );

    // The owner confirms: Anna's pending row moves too.
    let data = answer.button_data();
    assert_eq!(data.len(), 1);
    app.tg.press_button(&owner(), answer.message_id, &data[0]);
    app.tg
        .wait_for(
            owner().id,
            |m| m.plain_text().contains("re-planned for 2 enrolled"),
            WAIT,
        )
        .await;
    assert_eq!(
        row(&app, anna().id, "makeup-ok").await.unwrap(),
        (berlin("2026-11-25 08:00"), "pending".into())
    );
    assert_eq!(
        row(&app, anna().id, "sun-morning").await.unwrap().0,
        berlin("2026-11-24 09:00")
    );
    // And it goes out then, not at 24h.
    app.clock.set(berlin("2026-11-24 14:00"));
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("sauna"), WAIT)
        .await;
    app.tg.assert_nothing_sent_to(anna().id, QUIET).await;
    app.clock.set(berlin("2026-11-25 07:59"));
    app.tg.assert_nothing_sent_to(anna().id, QUIET).await;
    app.clock.set(berlin("2026-11-25 08:00"));
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("non-comedogenic"),
            WAIT,
        )
        .await;
    app.stop().await;
}

#[tokio::test]
async fn applying_a_timing_change_keeps_a_travelling_patient_in_their_own_zone() {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    app.tg.send_text(&anna(), "/timezone America/New_York");
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("now follow"), WAIT)
        .await;
    app.tg.send_text(&owner(), "/timing sun-morning 2d 10:00");
    let answer = app
        .tg
        .wait_for(owner().id, |m| !m.button_data().is_empty(), WAIT)
        .await;
    app.tg
        .press_button(&owner(), answer.message_id, &answer.button_data()[0]);
    app.tg
        .wait_for(owner().id, |m| m.plain_text().contains("re-planned"), WAIT)
        .await;
    // Two days after the session, at 10:00 in New York (16:00 in Berlin), not in Berlin.
    let new_york: DateTime<Utc> = "2026-11-25T15:00:00Z".parse().unwrap();
    assert_eq!(
        row(&app, anna().id, "sun-morning").await.unwrap(),
        (new_york, "pending".into())
    );
    app.stop().await;
}

#[tokio::test]
async fn a_step_switched_off_is_left_out_and_enrolled_patients_lose_it_when_confirmed() {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    app.tg.send_text(&owner(), "/timing activities off");
    let answer = app
        .tg
        .wait_for(
            owner().id,
            |m| m.plain_text().contains("activities is switched off"),
            WAIT,
        )
        .await;
    app.linked_patient(&owner(), &ben(), "Ben Ode 14:00").await;
    assert!(row(&app, ben().id, "activities").await.is_none());
    assert_eq!(
        row(&app, anna().id, "activities").await.unwrap().1,
        "pending"
    );
    app.tg
        .press_button(&owner(), answer.message_id, &answer.button_data()[0]);
    app.tg
        .wait_for(
            owner().id,
            |m| m.plain_text().contains("re-planned for 1 enrolled"),
            WAIT,
        )
        .await;
    assert_eq!(
        row(&app, anna().id, "activities").await.unwrap().1,
        "cancelled"
    );
    // A second press of the same button changes nothing more, and says so.
    app.tg
        .press_button(&owner(), answer.message_id, &answer.button_data()[0]);
    eventually(
        "the second press is answered as already applied",
        || async {
            app.tg.answered_callbacks().iter().any(|(_, t)| {
                t.as_deref()
                    .is_some_and(|t| t.starts_with("Already applied"))
            })
        },
    )
    .await;
    app.tg.skip_sent(anna().id);
    app.clock.set(berlin("2026-11-24 13:00"));
    let m = app
        .tg
        .wait_for(anna().id, |m| m.plain_text().contains("SPF 30"), WAIT)
        .await;
    assert!(!m.plain_text().contains("sauna"));
    app.tg.assert_nothing_sent_to(anna().id, QUIET).await;

    // Back to default: a newer change makes the old button stale.
    app.tg.send_text(&owner(), "/timing activities default");
    app.tg
        .wait_for(
            owner().id,
            |m| m.plain_text().contains("back to the default timing"),
            WAIT,
        )
        .await;
    app.tg
        .press_button(&owner(), answer.message_id, &answer.button_data()[0]);
    eventually("the stale press is answered", || async {
        app.tg
            .answered_callbacks()
            .iter()
            .any(|(_, t)| t.as_deref() == Some("This button is no longer active."))
    })
    .await;
    let carl = TestUser::new(2003, "Carl");
    app.linked_patient(&owner(), &carl, "Carl Dee 12:00").await;
    assert!(row(&app, carl.id, "activities").await.is_some());
    app.stop().await;
}

#[tokio::test]
async fn bad_timing_requests_are_refused_and_only_owners_and_admins_may_change() {
    let app = TestApp::start().await;
    let clinic = app.glow_with_anna().await;
    for (args, expected) in [
        ("sauna off", "There is no step sauna (steps: normal-now,"),
        ("makeup-ok soon", "soon is not a duration"),
        (
            "makeup-ok 36h 10:00",
            "a clock time only goes with whole days",
        ),
        ("makeup-ok 2y", "months and years are ambiguous"),
    ] {
        app.tg.send_text(&owner(), &format!("/timing {args}"));
        app.tg
            .wait_for(owner().id, |m| m.plain_text().contains(expected), WAIT)
            .await;
    }
    let admin = TestUser::new(1004, "Ada");
    {
        let mut conn = app.store.pool().acquire().await.unwrap();
        let now = aftercare::clock::Clock::now(&app.clock);
        aftercare::store::clinics::add_staff(&mut conn, clinic, admin.id, StaffRole::Admin, now)
            .await
            .unwrap();
    }
    app.tg.send_text(&admin, "/timing sun-morning 2d");
    app.tg
        .wait_for(
            admin.id,
            |m| {
                m.plain_text()
                    .contains("sun-morning now goes out 2d at 09:00")
            },
            WAIT,
        )
        .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM step_timings").await, 1);
    app.stop().await;
}

#[tokio::test]
async fn a_quiet_hours_change_re_plans_by_the_clinics_own_timing() {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    app.tg.send_text(&owner(), "/timing makeup-ok 30h");
    let answer = app
        .tg
        .wait_for(
            owner().id,
            |m| m.plain_text().contains("makeup-ok now goes out 30h"),
            WAIT,
        )
        .await;
    app.tg
        .press_button(&owner(), answer.message_id, &answer.button_data()[0]);
    app.tg
        .wait_for(
            owner().id,
            |m| m.plain_text().contains("re-planned for 1 enrolled"),
            WAIT,
        )
        .await;
    assert_eq!(
        row(&app, anna().id, "makeup-ok").await.unwrap().0,
        berlin("2026-11-24 20:00")
    );
    // Quiet hours from 18:00: the re-plan keeps 30 h (20:00, now quiet: next 08:00),
    // not the file's 24 h.
    app.tg.send_text(&owner(), "/settings quiet 18:00 08:00");
    eventually("the reminder moved", || async {
        row(&app, anna().id, "makeup-ok").await.unwrap().0 == berlin("2026-11-25 08:00")
    })
    .await;
    app.stop().await;
}

#[tokio::test]
async fn timing_reads_back_as_shown_warns_about_quiet_hours_and_applies_once() {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    let overview = app
        .owner_says("/timing", "Course timing")
        .await
        .plain_text();
    assert!(
        overview.contains("\nhydrate-evening · 0d at 19:00"),
        "{overview}"
    );
    // What is shown can be typed back.
    app.owner_says(
        "/timing hydrate-evening 0d at 19:00",
        "hydrate-evening now goes out",
    )
    .await;
    // Hours and a clock time do not go together, and the answer says what does.
    let refused = app
        .owner_says("/timing makeup-ok 3h 10:00", "whole days")
        .await
        .plain_text();
    assert!(refused.contains("0d at 10:00"), "{refused}");
    // A clock time in quiet hours is saved, with a warning.
    let answer = app
        .owner_says("/timing hydrate-evening 0d at 22:00", "now goes out")
        .await;
    assert!(
        answer
            .plain_text()
            .contains("22:00 is inside your quiet hours (21:00–08:00), so this message will go out when they end, at 08:00"),
        "{}",
        answer.plain_text()
    );
    // Pressed twice, applied once, and audited.
    let data = answer.button_data()[0].clone();
    app.tg.press_button(&owner(), answer.message_id, &data);
    app.tg
        .wait_for(
            owner().id,
            |m| m.plain_text().contains("re-planned for 1 enrolled patient"),
            WAIT,
        )
        .await;
    app.tg.press_button(&owner(), answer.message_id, &data);
    eventually(
        "the second press is answered as already applied",
        || async {
            app.tg.answered_callbacks().iter().any(|(_, text)| {
                text.as_deref()
                    .is_some_and(|t| t.contains("Already applied"))
            })
        },
    )
    .await;
    app.tg.assert_nothing_sent_to(owner().id, QUIET).await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit WHERE action = 'timing applied'")
            .await,
        1
    );
    app.stop().await;
}
