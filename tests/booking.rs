//! Follow-up bookings: staff book, move and cancel; the patient gets a confirmation,
//! a preparation reminder 3 days before, and reminders the day before and 2 hours
//! before with "I'll be there" / "I need to reschedule".

mod support;

use support::people::{anna, berlin, owner};

use support::app::{QUIET, TestApp, WAIT, eventually};
use support::fake_telegram::TestUser;

/// Moves the clock to `t`, lets everything due by then go out, and checks that nothing
/// more comes to Anna.
async fn nothing_more_at(app: &TestApp, t: chrono::DateTime<chrono::Utc>) {
    app.clock.set(t);
    eventually("everything due is sent or settled", || async {
        let open: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM reminders WHERE status IN ('pending', 'leased') AND due_at <= ?",
        )
        .bind(t.timestamp_millis())
        .fetch_one(app.store.pool())
        .await
        .unwrap();
        open == 0
    })
    .await;
    app.tg.skip_sent(anna().id);
    app.tg.assert_nothing_sent_to(anna().id, QUIET).await;
}

#[tokio::test]
async fn a_booking_is_confirmed_and_reminded_three_days_one_day_and_two_hours_before() {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    app.owner_says(
        "/book #1 2026-12-21 10:30",
        "Booked Anna Berg (#1) for Mon 21 Dec, 10:30",
    )
    .await;
    app.tg
        .wait_for(
            anna().id,
            |m| {
                m.plain_text()
                    .contains("Your next appointment at Glow Clinic: Mon 21 Dec, 10:30")
            },
            WAIT,
        )
        .await;

    app.tg.send_text(&anna(), "/schedule");
    let schedule = app
        .tg
        .wait_for(anna().id, |m| m.plain_text().contains("Coming up"), WAIT)
        .await;
    assert!(
        schedule
            .plain_text()
            .contains("Fri 18 Dec, 10:30 — About your next appointment"),
        "{}",
        schedule.plain_text()
    );
    nothing_more_at(&app, berlin("2026-12-18 10:29")).await;
    app.clock.set(berlin("2026-12-18 10:30"));
    let prep = app
        .tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("in three days"),
            WAIT,
        )
        .await;
    assert!(prep.plain_text().contains("pause retinoids"));
    assert!(prep.plain_text().contains("clean skin"));

    app.clock.set(berlin("2026-12-20 10:30"));
    let day_before = app
        .tg
        .wait_for(anna().id, |m| m.plain_text().contains("is tomorrow"), WAIT)
        .await;
    let labels: Vec<String> = day_before.buttons().into_iter().map(|b| b.0).collect();
    assert_eq!(labels, ["I'll be there", "I need to reschedule"]);
    app.tg
        .press_button(&anna(), day_before.message_id, &day_before.button_data()[0]);
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("See you on Mon 21 Dec, 10:30"),
            WAIT,
        )
        .await;

    app.clock.set(berlin("2026-12-21 08:30"));
    let soon = app
        .tg
        .wait_for(anna().id, |m| m.plain_text().contains("See you soon"), WAIT)
        .await;
    assert_eq!(soon.buttons().len(), 2);
    app.stop().await;
}

#[tokio::test]
async fn a_clinics_own_wording_reaches_the_booking_reminders_and_their_buttons() {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    app.save_text(
        &owner(),
        "reply.booking_day_before",
        "Tomorrow, {when}: your visit to {clinic_name}. We look forward to it!",
    )
    .await;
    app.save_text(&owner(), "reply.booking_coming_label", "Yes, see you")
        .await;
    app.owner_says("/book #1 2026-12-21 10:30", "Booked Anna Berg")
        .await;
    app.clock.set(berlin("2026-12-20 10:30"));
    let day_before = app
        .tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("We look forward to it"),
            WAIT,
        )
        .await;
    assert_eq!(
        day_before.plain_text(),
        "Tomorrow, Mon 21 Dec, 10:30: your visit to Glow Clinic. We look forward to it!"
    );
    let labels: Vec<String> = day_before.buttons().into_iter().map(|b| b.0).collect();
    assert_eq!(labels, ["Yes, see you", "I need to reschedule"]);
    app.stop().await;
}

#[tokio::test]
async fn i_need_to_reschedule_alerts_the_staff_once() {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    app.owner_says("/book Anna Berg 2026-12-21 10:30", "Booked")
        .await;
    app.clock.set(berlin("2026-12-20 10:30"));
    let day_before = app
        .tg
        .wait_for(anna().id, |m| m.plain_text().contains("is tomorrow"), WAIT)
        .await;
    let reschedule = day_before.button_data()[1].clone();
    app.tg.skip_sent(owner().id);
    app.tg
        .press_button(&anna(), day_before.message_id, &reschedule);
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("find a new time"),
            WAIT,
        )
        .await;
    let alert = app
        .tg
        .wait_for(owner().id, |m| m.plain_text().contains("reschedule"), WAIT)
        .await;
    assert!(alert.plain_text().contains("Anna Berg"));
    assert_eq!(alert.buttons()[0].0, "Handled");
    app.tg
        .press_button(&anna(), day_before.message_id, &reschedule);
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("already asked"),
            WAIT,
        )
        .await;
    app.tg.assert_nothing_sent_to(owner().id, QUIET).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM alerts").await, 1);
    app.stop().await;
}

#[tokio::test]
async fn booking_again_moves_the_appointment_and_its_reminders() {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    app.owner_says("/book #1 2026-12-21 10:30", "Booked").await;
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("Mon 21 Dec, 10:30"),
            WAIT,
        )
        .await;
    app.owner_says(
        "/book #1 2026-12-28 15:00",
        "Moved Anna Berg (#1) from Mon 21 Dec, 10:30 to Mon 28 Dec, 15:00",
    )
    .await;
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("Mon 28 Dec, 15:00"),
            WAIT,
        )
        .await;
    // The old reminders do not come.
    nothing_more_at(&app, berlin("2026-12-20 10:30")).await;
    app.clock.set(berlin("2026-12-27 15:00"));
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("tomorrow, Mon 28 Dec, 15:00"),
            WAIT,
        )
        .await;
    app.stop().await;
}

#[tokio::test]
async fn unbook_cancels_the_appointment_and_tells_the_patient() {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    app.owner_says("/book #1 2026-12-21 10:30", "Booked").await;
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("Mon 21 Dec, 10:30"),
            WAIT,
        )
        .await;
    app.owner_says("/unbook #1", "Cancelled Anna Berg's appointment")
        .await;
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("is cancelled"), WAIT)
        .await;
    // Up to the old appointment, only the course's own steps come.
    app.clock.set(berlin("2026-12-21 09:59"));
    eventually("the course has caught up", || async {
        app.count("SELECT COUNT(*) FROM reminders WHERE status IN ('pending', 'leased') AND step_id != 'book-next'")
            .await
            == 0
    })
    .await;
    for m in app.tg.sent_to(anna().id) {
        let text = m.plain_text();
        assert!(
            !text.contains("three days") && !text.contains("is tomorrow"),
            "{text}"
        );
    }
    app.owner_says("/unbook #1", "has no appointment booked")
        .await;
    app.stop().await;
}

#[tokio::test]
async fn a_booking_in_the_past_or_in_quiet_hours_is_refused() {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    app.owner_says("/book #1 2026-11-20 10:30", "already passed")
        .await;
    app.owner_says("/book #1 2026-12-21 22:00", "quiet hours (21:00–08:00)")
        .await;
    app.owner_says("/book #1 2026-12-21", "Please write: /book")
        .await;
    app.owner_says("/book #1 2026-12-32 10:00", "is not a date")
        .await;
    app.owner_says("/unbook", "Please write: /unbook <patient")
        .await;
    app.tg.assert_nothing_sent_to(anna().id, QUIET).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM bookings").await, 0);
    app.stop().await;
}

#[tokio::test]
async fn staff_cannot_book_another_clinics_patient() {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    let other = TestUser::new(1501, "Otto");
    app.clinic_with_owner(&other, "Other Clinic", "Europe/Berlin")
        .await;
    app.tg.send_text(&other, "/book #1 2026-12-21 10:30");
    app.tg
        .wait_for(
            other.id,
            |m| m.plain_text().contains("No patient of your clinic"),
            WAIT,
        )
        .await;
    app.tg.send_text(&other, "/book Anna 2026-12-21 10:30");
    app.tg
        .wait_for(
            other.id,
            |m| m.plain_text().contains("No patient of your clinic"),
            WAIT,
        )
        .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM bookings").await, 0);
    app.stop().await;
}

#[tokio::test]
async fn a_name_matching_several_patients_asks_for_the_number() {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    app.enroll(&owner(), "Anna Bergmann").await;
    let m = app
        .owner_says("/book Anna 2026-12-21 10:30", "Several patients match")
        .await;
    assert!(m.plain_text().contains("#1 Anna Berg"));
    assert!(m.plain_text().contains("#2 Anna Bergmann"));
    app.stop().await;
}

#[tokio::test]
async fn a_booking_button_after_the_booking_was_cancelled_is_stale() {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    app.owner_says("/book #1 2026-12-21 10:30", "Booked").await;
    app.clock.set(berlin("2026-12-20 10:30"));
    let day_before = app
        .tg
        .wait_for(anna().id, |m| m.plain_text().contains("is tomorrow"), WAIT)
        .await;
    app.owner_says("/unbook #1", "Cancelled").await;
    let id = app
        .tg
        .press_button(&anna(), day_before.message_id, &day_before.button_data()[1]);
    eventually("the press is answered", || async {
        app.tg
            .answered_callbacks()
            .iter()
            .any(|(i, t)| i == &id && t.as_deref().is_some_and(|t| t.contains("no longer active")))
    })
    .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM alerts").await, 0);
    app.stop().await;
}

#[tokio::test]
async fn a_new_clinic_time_zone_keeps_the_appointment_at_its_local_time_and_moves_its_reminders() {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    app.owner_says("/book #1 2026-12-21 15:31", "Mon 21 Dec, 15:31")
        .await;
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("15:31"), WAIT)
        .await;
    app.owner_says(
        "/settings timezone Europe/Lisbon",
        "timezone: Europe/Lisbon",
    )
    .await;
    let lisbon = |s: &str| support::people::local("Europe/Lisbon", s).timestamp_millis();
    eventually("the appointment is 15:31 in Lisbon", || async {
        app.count("SELECT starts_at FROM bookings").await == lisbon("2026-12-21 15:31")
    })
    .await;
    let day_before: i64 = app
        .count("SELECT due_at FROM reminders WHERE step_id = 'booking-day-before'")
        .await;
    assert_eq!(day_before, lisbon("2026-12-20 15:31"));
    // Only the last few steps are listed: let the course's earlier ones go out.
    nothing_more_at(&app, berlin("2026-12-19 12:00")).await;
    let shown = app.owner_says("/patient #1", "Next appointment").await;
    assert!(
        shown
            .plain_text()
            .contains("Next appointment: Mon 21 Dec, 15:31"),
        "{}",
        shown.plain_text()
    );
    assert!(
        shown.plain_text().contains("Sun 20 Dec, 15:31"),
        "{}",
        shown.plain_text()
    );
    app.stop().await;
}

#[tokio::test]
async fn staff_see_the_titles_patients_see_for_booking_messages_not_internal_ids() {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    app.owner_says("/book #1 2026-12-21 10:30", "Mon 21 Dec, 10:30")
        .await;
    nothing_more_at(&app, berlin("2026-12-17 12:00")).await;
    let shown = app.owner_says("/patient #1", "Next appointment").await;
    let text = shown.plain_text();
    assert!(!text.contains("booking-"), "{text}");
    assert!(
        text.contains("Fri 18 Dec, 10:30 · About your next appointment"),
        "{text}"
    );
    app.stop().await;
}
