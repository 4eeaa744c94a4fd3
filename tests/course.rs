//! End to end: a clinic starts, enrolls a patient, the patient links, and the course
//! arrives on time. The real dispatcher and scheduler talk HTTP to the fake Bot API;
//! the clock is moved by hand.

mod support;

use support::people::{anna, local, owner};

use chrono::Duration;
use support::app::{QUIET, TestApp, WAIT, eventually};
use support::fake_telegram::TestUser;

#[tokio::test]
async fn opening_the_owner_link_makes_an_owner_with_the_staff_menu() {
    let app = TestApp::start().await;
    let (_, payload) = app.create_clinic("Glow Clinic", "Europe/Berlin").await;
    app.tg.send_text(&owner(), &format!("/start {payload}"));
    let m = app
        .tg
        .wait_for(owner().id, |m| m.plain_text().contains("owner of"), WAIT)
        .await;
    assert!(m.plain_text().contains("Glow Clinic"));
    let menus = app.tg.my_commands();
    let staff_menu = menus
        .iter()
        .find(|(scope, _)| scope["type"] == "chat" && scope["chat_id"] == owner().id)
        .expect("the owner gets the staff menu");
    assert!(staff_menu.1.iter().any(|(c, _)| c == "enroll"));
    let patient_menu = menus
        .iter()
        .find(|(scope, _)| scope["type"] == "all_private_chats")
        .unwrap();
    assert!(patient_menu.1.iter().any(|(c, _)| c == "schedule"));
    assert!(!patient_menu.1.iter().any(|(c, _)| c == "enroll"));

    // The link works once.
    let stranger = TestUser::new(1002, "Sam");
    app.tg.send_text(&stranger, &format!("/start {payload}"));
    app.tg
        .wait_for(
            stranger.id,
            |m| m.plain_text().contains("already been used"),
            WAIT,
        )
        .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM staff").await, 1);
    app.stop().await;
}

#[tokio::test]
async fn a_patient_links_and_the_course_arrives_at_local_times() {
    let app = TestApp::start().await;
    app.clinic_with_owner(&owner(), "Glow Clinic", "Europe/Berlin")
        .await;
    // Monday 23 Nov 2026, session 14:00 Berlin (the clock says 14:00 Berlin).
    app.tg.send_text(&owner(), "/enroll Anna Berg 14:00");
    let enrolled = app
        .tg
        .wait_for(owner().id, |m| m.plain_text().contains("?start="), WAIT)
        .await;
    assert_eq!(
        enrolled.method, "sendPhoto",
        "the link comes with a QR code picture"
    );
    assert!(enrolled.photo_bytes.unwrap_or(0) > 100);
    assert!(enrolled.plain_text().contains("Anna Berg"));
    let payload = support::app::payload_of(&enrolled);
    assert_eq!(payload.len(), 22);

    app.tg.send_text(&anna(), &format!("/start {payload}"));
    let hello = app
        .tg
        .wait_for(anna().id, |m| m.plain_text().contains("welcome"), WAIT)
        .await;
    assert!(hello.plain_text().contains("Hi Anna"));
    assert!(hello.plain_text().contains("Glow Clinic"));
    // The first step is due at the session time, already past: it goes at once.
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("mild sunburn"), WAIT)
        .await;

    // Nothing more until 19:00 Berlin.
    app.clock.set(local("Europe/Berlin", "2026-11-23 18:59"));
    app.tg.assert_nothing_sent_to(anna().id, QUIET).await;
    app.clock.set(local("Europe/Berlin", "2026-11-23 19:00"));
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("aloe vera"), WAIT)
        .await;

    // Next morning at 09:00: SPF.
    app.clock.set(local("Europe/Berlin", "2026-11-24 08:59"));
    app.tg.assert_nothing_sent_to(anna().id, QUIET).await;
    app.clock.set(local("Europe/Berlin", "2026-11-24 09:00"));
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("SPF 30"), WAIT)
        .await;

    // The rest of the course, four weeks in a few hops; each arrives once, in order.
    app.clock.set(local("Europe/Berlin", "2026-11-24 12:00"));
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("sauna"), WAIT)
        .await;
    app.clock.set(local("Europe/Berlin", "2026-11-24 14:00"));
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("non-comedogenic"),
            WAIT,
        )
        .await;
    app.clock.set(local("Europe/Berlin", "2026-11-26 10:00"));
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("how is your skin feeling"),
            WAIT,
        )
        .await;
    app.clock.set(local("Europe/Berlin", "2026-11-28 10:00"));
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("gradually"), WAIT)
        .await;
    // The day-3 check-in's window closed unanswered: one gentle reminder.
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("haven't heard from you"),
            WAIT,
        )
        .await;
    app.clock.set(local("Europe/Berlin", "2026-11-30 10:00"));
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("7 days since your session"),
            WAIT,
        )
        .await;
    // Recorded (with its nudge planned) before the clock jumps on.
    eventually("the day-7 check-in is recorded as sent", || async {
        app.count(
            "SELECT COUNT(*) FROM reminders WHERE step_id = 'checkin-day7' AND status = 'sent'",
        )
        .await
            == 1
    })
    .await;
    app.clock.set(local("Europe/Berlin", "2026-12-21 09:59"));
    app.tg.assert_nothing_sent_to(anna().id, QUIET).await;
    app.clock.set(local("Europe/Berlin", "2026-12-21 10:00"));
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("book your next"),
            WAIT,
        )
        .await;
    // The outcome is recorded just after Telegram answers.
    eventually(
        "all nine steps and one nudge are recorded as sent",
        || async {
            app.count("SELECT COUNT(*) FROM reminders WHERE status = 'sent'")
                .await
                == 10
        },
    )
    .await;
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM reminders WHERE status != 'sent' AND step_id NOT LIKE 'nudge-%'"
        )
        .await,
        0
    );
    // Each step exactly once: greeting + 9 steps + the day-3 nudge (the day-7 one's
    // day passed while the clock jumped: skipped, not sent).
    assert_eq!(app.tg.sent_to(anna().id).len(), 11);
    app.stop().await;
}

#[tokio::test]
async fn a_late_link_sends_due_steps_at_once_and_records_expired_ones() {
    let app = TestApp::start().await;
    app.clinic_with_owner(&owner(), "Glow Clinic", "Europe/Berlin")
        .await;
    // Session yesterday 10:00; now is Monday 14:00.
    app.linked_patient(&owner(), &anna(), "Anna Berg 2026-11-22 10:00")
        .await;
    // normal-now (expires 12h) and hydrate-evening (6h) and sun-morning (09:00 + 12h → 21:00 today, not expired)
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("SPF 30"), WAIT)
        .await;
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("non-comedogenic"),
            WAIT,
        )
        .await;
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("sauna"), WAIT)
        .await;
    app.tg.assert_nothing_sent_to(anna().id, QUIET).await;
    let skipped: Vec<(String,)> =
        sqlx::query_as("SELECT step_id FROM reminders WHERE status = 'skipped' ORDER BY due_at")
            .fetch_all(app.store.pool())
            .await
            .unwrap();
    let skipped: Vec<&str> = skipped.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(skipped, ["normal-now", "hydrate-evening"]);
    app.stop().await;
}

#[tokio::test]
async fn quiet_hours_hold_reminders_until_morning_but_not_the_greeting() {
    let app = TestApp::start().await;
    app.clinic_with_owner(&owner(), "Glow Clinic", "Europe/Berlin")
        .await;
    // Linking at 22:30 Berlin, session at 22:00 the same evening.
    app.clock.set(local("Europe/Berlin", "2026-11-23 22:30"));
    app.linked_patient(&owner(), &anna(), "Anna Berg 22:00")
        .await;
    // The greeting came at once; the first step waits for 08:00.
    app.tg.assert_nothing_sent_to(anna().id, QUIET).await;
    app.clock.set(local("Europe/Berlin", "2026-11-24 07:59"));
    app.tg.assert_nothing_sent_to(anna().id, QUIET).await;
    app.clock.set(local("Europe/Berlin", "2026-11-24 08:00"));
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("mild sunburn"), WAIT)
        .await;
    app.stop().await;
}

#[tokio::test]
async fn schedule_lists_local_times_and_stop_ends_everything() {
    let app = TestApp::start().await;
    app.clinic_with_owner(&owner(), "Sunny Skin", "America/New_York")
        .await;
    // 13:00 UTC is 08:00 in New York.
    app.linked_patient(&owner(), &anna(), "Anna Berg 08:00")
        .await;
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("mild sunburn"), WAIT)
        .await;
    app.tg.send_text(&anna(), "/schedule");
    let s = app
        .tg
        .wait_for(anna().id, |m| m.plain_text().contains("Coming up"), WAIT)
        .await;
    let text = s.plain_text();
    assert!(text.contains("Mon 23 Nov, 19:00"), "{text}");
    assert!(text.contains("Tue 24 Nov, 09:00"), "{text}");
    assert!(text.contains("Thu 26 Nov, 10:00"), "{text}");

    app.tg.send_text(&anna(), "/stop");
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("stopped"), WAIT)
        .await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM reminders WHERE status = 'pending'")
            .await,
        0
    );
    app.clock.advance(Duration::days(30));
    app.tg.assert_nothing_sent_to(anna().id, QUIET).await;
    app.tg.send_text(&anna(), "/stop");
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("no active reminders"),
            WAIT,
        )
        .await;
    app.tg.send_text(&anna(), "/schedule");
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("nothing planned"),
            WAIT,
        )
        .await;
    app.stop().await;
}

#[tokio::test]
async fn staff_see_their_patients_with_status_and_next_reminder() {
    let app = TestApp::start().await;
    app.clinic_with_owner(&owner(), "Glow Clinic", "Europe/Berlin")
        .await;
    app.linked_patient(&owner(), &anna(), "Anna Berg 14:00")
        .await;
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("mild sunburn"), WAIT)
        .await;
    app.enroll(&owner(), "Ben Ode").await;
    app.tg.send_text(&owner(), "/patients");
    let list = app
        .tg
        .wait_for(owner().id, |m| m.plain_text().contains("Patients of"), WAIT)
        .await;
    let text = list.plain_text();
    assert!(
        text.contains("Anna Berg · active · next Mon 23 Nov, 19:00"),
        "{text}"
    );
    assert!(
        text.contains("Ben Ode · link not opened · nothing planned"),
        "{text}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_restart_loses_nothing_pending_or_leased() {
    let app = TestApp::start().await;
    app.clinic_with_owner(&owner(), "Glow Clinic", "Europe/Berlin")
        .await;
    app.linked_patient(&owner(), &anna(), "Anna Berg 14:00")
        .await;
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("mild sunburn"), WAIT)
        .await;
    let app = app.restart().await;
    // A crash mid-send leaves a row leased with a lease in the future.
    sqlx::query("UPDATE reminders SET status = 'leased', lease_until = 99999999999999 WHERE step_id = 'hydrate-evening'")
        .execute(app.store.pool())
        .await
        .unwrap();
    let app = app.restart().await;
    app.clock.set(local("Europe/Berlin", "2026-11-23 19:00"));
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("aloe vera"), WAIT)
        .await;
    app.clock.set(local("Europe/Berlin", "2026-11-24 09:00"));
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("SPF 30"), WAIT)
        .await;
    eventually("three steps are recorded as sent", || async {
        app.count("SELECT COUNT(*) FROM reminders WHERE status = 'sent'")
            .await
            == 3
    })
    .await;
    app.stop().await;
}

#[tokio::test]
async fn courses_keep_local_clock_times_across_both_dst_transitions() {
    let app = TestApp::start().await;
    let berlin_owner = owner();
    let ny_owner = TestUser::new(1002, "Nia");
    app.clinic_with_owner(&berlin_owner, "Glow Berlin", "Europe/Berlin")
        .await;
    app.clinic_with_owner(&ny_owner, "Glow New York", "America/New_York")
        .await;

    // Berlin springs forward on Sunday 29 March 2026.
    app.clock.set(local("Europe/Berlin", "2026-03-27 10:30"));
    app.linked_patient(&berlin_owner, &anna(), "Anna Berg 10:00")
        .await;
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("mild sunburn"), WAIT)
        .await;
    app.tg.send_text(&anna(), "/schedule");
    let s = app
        .tg
        .wait_for(anna().id, |m| m.plain_text().contains("Coming up"), WAIT)
        .await;
    assert!(
        s.plain_text()
            .contains("Mon 30 Mar, 10:00 — Check-in: how is your skin?"),
        "{}",
        s.plain_text()
    );
    assert!(
        s.plain_text().contains("Sat 28 Mar, 10:00 — Makeup again"),
        "{}",
        s.plain_text()
    );
    // The day-3 check-in goes out at 10:00 local, which is 08:00 UTC after the change.
    app.clock.set("2026-03-30T07:59:00Z".parse().unwrap());
    app.tg.skip_sent(anna().id);
    app.tg.assert_nothing_sent_to(anna().id, QUIET).await;
    app.clock.set("2026-03-30T08:00:00Z".parse().unwrap());
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("how is your skin feeling"),
            WAIT,
        )
        .await;

    // New York falls back on Sunday 1 November 2026.
    let ben = TestUser::new(2002, "Ben");
    app.clock.set(local("America/New_York", "2026-10-30 10:30"));
    app.linked_patient(&ny_owner, &ben, "Ben Ode 10:00").await;
    app.tg
        .wait_for(ben.id, |m| m.plain_text().contains("mild sunburn"), WAIT)
        .await;
    app.tg.send_text(&ben, "/schedule");
    let s = app
        .tg
        .wait_for(ben.id, |m| m.plain_text().contains("Coming up"), WAIT)
        .await;
    assert!(
        s.plain_text()
            .contains("Mon 2 Nov, 10:00 — Check-in: how is your skin?"),
        "{}",
        s.plain_text()
    );
    app.clock.set("2026-11-02T14:59:00Z".parse().unwrap());
    app.tg.skip_sent(ben.id);
    app.tg.assert_nothing_sent_to(ben.id, QUIET).await;
    app.clock.set("2026-11-02T15:00:00Z".parse().unwrap());
    app.tg
        .wait_for(
            ben.id,
            |m| m.plain_text().contains("how is your skin feeling"),
            WAIT,
        )
        .await;
    app.stop().await;
}
