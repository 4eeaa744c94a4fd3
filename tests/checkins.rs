//! Check-ins: the patient answers with a button; anything but "all good" reaches every
//! staff member at once, and an alert nobody handles goes to the owners again.

mod support;

use support::people::{anna, berlin, owner, sam};

use chrono::Duration;
use support::app::{QUIET, TestApp, WAIT, eventually};
use support::fake_telegram::{SentMessage, TestUser};

/// A clinic with Olga (owner) and Sam (staff), and Anna linked with a session now.
async fn clinic_with_patient(app: &TestApp, patient: &TestUser, name: &str) {
    let clinic = app
        .clinic_with_owner(&owner(), "Glow Clinic", "Europe/Berlin")
        .await;
    app.add_staff(clinic, &sam()).await;
    let payload = app.enroll(&owner(), &format!("{name} 14:00")).await;
    app.tg.send_text(patient, &format!("/start {payload}"));
    app.tg
        .wait_for(
            patient.id,
            |m| m.plain_text().contains(patient.first_name.as_str()),
            WAIT,
        )
        .await;
    app.tg.skip_sent(owner().id);
}

/// Moves the clock to the day-3 check-in and returns it.
async fn day3_checkin(app: &TestApp, patient: &TestUser) -> SentMessage {
    app.clock.set(berlin("2026-11-26 10:00"));
    app.tg
        .wait_for(patient.id, |m| !m.buttons().is_empty(), WAIT)
        .await
}

/// Waits for the edit of an alert's staff copy after "Handled"; checks the button is
/// gone and returns the copy's new text.
async fn handled_copy(app: &TestApp, chat: i64, copy: &SentMessage) -> String {
    let edited = app
        .tg
        .wait_for(
            chat,
            |m| m.method == "editMessageText" && m.message_id == copy.message_id,
            WAIT,
        )
        .await;
    assert!(
        edited.buttons().is_empty(),
        "the Handled button is still there"
    );
    edited.plain_text()
}

fn data_for(m: &SentMessage, answer: &str) -> String {
    m.button_data()
        .into_iter()
        .find(|d| d.ends_with(&format!(":{answer}")))
        .expect("the check-in has this answer")
}

async fn answer_text(app: &TestApp, callback_id: &str) -> Option<String> {
    eventually("the button press is answered", || async {
        app.tg
            .answered_callbacks()
            .iter()
            .any(|(id, _)| id == callback_id)
    })
    .await;
    app.tg
        .answered_callbacks()
        .into_iter()
        .find(|(id, _)| id == callback_id)
        .and_then(|(_, t)| t)
}

#[tokio::test]
async fn a_check_in_comes_with_four_answer_buttons_in_the_patients_language() {
    let app = TestApp::start().await;
    let erik = TestUser::new(2002, "Erik").lang("de");
    clinic_with_patient(&app, &erik, "Erik Lang").await;
    let checkin = day3_checkin(&app, &erik).await;
    let labels: Vec<String> = checkin.buttons().into_iter().map(|(t, _)| t).collect();
    assert_eq!(labels.len(), 4);
    assert_eq!(labels[0], "Alles gut");
    assert!(labels[2].contains("Infektion"));
    for d in checkin.button_data() {
        assert!(d.starts_with("ci:") && d.len() <= 64, "{d}");
    }
    app.stop().await;
}

#[tokio::test]
async fn all_good_is_thanked_and_bothers_no_one() {
    let app = TestApp::start().await;
    clinic_with_patient(&app, &anna(), "Anna Berg").await;
    let checkin = day3_checkin(&app, &anna()).await;
    app.tg
        .press_button(&anna(), checkin.message_id, &data_for(&checkin, "good"));
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("good to hear"), WAIT)
        .await;
    app.tg.assert_nothing_sent_to(owner().id, QUIET).await;
    app.tg.assert_nothing_sent_to(sam().id, QUIET).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM alerts").await, 0);
    app.stop().await;
}

#[tokio::test]
async fn signs_of_infection_send_the_patient_to_urgent_care_and_alert_every_staff_member() {
    let app = TestApp::start().await;
    clinic_with_patient(&app, &anna(), "Anna <Berg> & Co").await;
    let checkin = day3_checkin(&app, &anna()).await;
    app.clock.set(berlin("2026-11-26 10:07"));
    app.tg.press_button(
        &anna(),
        checkin.message_id,
        &data_for(&checkin, "infection"),
    );
    let advice = app
        .tg
        .wait_for(anna().id, |m| m.plain_text().contains("notified"), WAIT)
        .await;
    assert!(advice.plain_text().contains("emergency"));
    assert!(advice.plain_text().contains("Glow Clinic"));
    for staff in [owner(), sam()] {
        let alert = app
            .tg
            .wait_for(
                staff.id,
                |m| m.plain_text().contains("Signs of infection"),
                WAIT,
            )
            .await;
        let text = alert.plain_text();
        assert!(text.contains("Anna <Berg> & Co"), "escaped name: {text}");
        assert!(text.contains("Thu 26 Nov, 10:07"), "local time: {text}");
        assert_eq!(alert.buttons()[0].0, "Handled");
        assert!(alert.button_data()[0].starts_with("al:"));
    }
    app.stop().await;
}

#[tokio::test]
async fn more_redness_points_the_patient_to_the_clinic_without_urgent_care() {
    let app = TestApp::start().await;
    clinic_with_patient(&app, &anna(), "Anna Berg").await;
    let checkin = day3_checkin(&app, &anna()).await;
    app.tg
        .press_button(&anna(), checkin.message_id, &data_for(&checkin, "redness"));
    let advice = app
        .tg
        .wait_for(anna().id, |m| m.plain_text().contains("notified"), WAIT)
        .await;
    assert!(!advice.plain_text().contains("emergency"));
    app.tg
        .wait_for(
            owner().id,
            |m| m.plain_text().contains("More redness"),
            WAIT,
        )
        .await;
    app.stop().await;
}

#[tokio::test]
async fn a_check_in_button_pressed_twice_raises_one_alert_and_says_it_was_answered() {
    let app = TestApp::start().await;
    clinic_with_patient(&app, &anna(), "Anna Berg").await;
    let checkin = day3_checkin(&app, &anna()).await;
    app.tg
        .press_button(&anna(), checkin.message_id, &data_for(&checkin, "other"));
    app.tg
        .wait_for(
            owner().id,
            |m| m.plain_text().contains("Something else"),
            WAIT,
        )
        .await;
    app.tg.press_button(
        &anna(),
        checkin.message_id,
        &data_for(&checkin, "infection"),
    );
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("already answered"),
            WAIT,
        )
        .await;
    app.tg.assert_nothing_sent_to(owner().id, QUIET).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM alerts").await, 1);
    app.stop().await;
}

#[tokio::test]
async fn handled_by_one_staff_member_tells_the_next_who_handled_it() {
    let app = TestApp::start().await;
    clinic_with_patient(&app, &anna(), "Anna Berg").await;
    let checkin = day3_checkin(&app, &anna()).await;
    app.tg
        .press_button(&anna(), checkin.message_id, &data_for(&checkin, "redness"));
    let to_olga = app
        .tg
        .wait_for(owner().id, |m| !m.buttons().is_empty(), WAIT)
        .await;
    let to_sam = app
        .tg
        .wait_for(sam().id, |m| !m.buttons().is_empty(), WAIT)
        .await;
    app.clock.set(berlin("2026-11-26 10:30"));
    let first = app
        .tg
        .press_button(&sam(), to_sam.message_id, &to_sam.button_data()[0]);
    assert!(
        answer_text(&app, &first)
            .await
            .unwrap()
            .contains("Marked as handled")
    );
    // Every copy now says who took it, and loses its button.
    for (who, copy) in [(owner().id, &to_olga), (sam().id, &to_sam)] {
        let text = handled_copy(&app, who, copy).await;
        assert!(text.contains("Handled by Sam, "), "{text}");
        assert!(text.contains("10:30"), "{text}");
        assert!(text.contains("Anna Berg"), "{text}");
    }
    // A press on a copy whose edit the app has not shown yet still gets the answer.
    let second = app
        .tg
        .press_button(&owner(), to_olga.message_id, &to_olga.button_data()[0]);
    let said = answer_text(&app, &second).await.unwrap();
    assert!(said.contains("Already handled by Sam"), "{said}");
    assert!(said.contains("10:30"), "{said}");
    // And Sam again.
    let again = app
        .tg
        .press_button(&sam(), to_sam.message_id, &to_sam.button_data()[0]);
    assert!(
        answer_text(&app, &again)
            .await
            .unwrap()
            .contains("Already handled by Sam")
    );
    app.stop().await;
}

#[tokio::test]
async fn an_alert_nobody_handles_in_two_hours_goes_to_the_owners_again() {
    let app = TestApp::start().await;
    clinic_with_patient(&app, &anna(), "Anna Berg").await;
    let checkin = day3_checkin(&app, &anna()).await;
    app.tg.press_button(
        &anna(),
        checkin.message_id,
        &data_for(&checkin, "infection"),
    );
    app.tg
        .wait_for(owner().id, |m| !m.buttons().is_empty(), WAIT)
        .await;
    app.tg
        .wait_for(sam().id, |m| !m.buttons().is_empty(), WAIT)
        .await;
    app.clock.set(berlin("2026-11-26 11:59"));
    app.tg.assert_nothing_sent_to(owner().id, QUIET).await;
    app.clock.set(berlin("2026-11-26 12:00"));
    let again = app
        .tg
        .wait_for(owner().id, |m| m.plain_text().contains("Still open"), WAIT)
        .await;
    assert!(again.plain_text().contains("Anna Berg"));
    assert_eq!(again.buttons()[0].0, "Handled");
    // Staff who are not owners are not woken twice, and it goes out once.
    app.tg.assert_nothing_sent_to(sam().id, QUIET).await;
    app.clock.advance(Duration::hours(5));
    app.tg.assert_nothing_sent_to(owner().id, QUIET).await;
    app.stop().await;
}

#[tokio::test]
async fn handling_a_re_alert_updates_the_first_copies_too() {
    let app = TestApp::start().await;
    clinic_with_patient(&app, &anna(), "Anna Berg").await;
    let checkin = day3_checkin(&app, &anna()).await;
    app.tg.press_button(
        &anna(),
        checkin.message_id,
        &data_for(&checkin, "infection"),
    );
    let first_to_olga = app
        .tg
        .wait_for(owner().id, |m| !m.buttons().is_empty(), WAIT)
        .await;
    let to_sam = app
        .tg
        .wait_for(sam().id, |m| !m.buttons().is_empty(), WAIT)
        .await;
    app.clock.set(berlin("2026-11-26 12:00"));
    let again = app
        .tg
        .wait_for(owner().id, |m| m.plain_text().contains("Still open"), WAIT)
        .await;
    app.tg
        .press_button(&owner(), again.message_id, &again.button_data()[0]);
    for (who, copy) in [
        (owner().id, &first_to_olga),
        (sam().id, &to_sam),
        (owner().id, &again),
    ] {
        assert!(
            handled_copy(&app, who, copy)
                .await
                .contains("Handled by Olga")
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn a_handled_alert_is_not_sent_again() {
    let app = TestApp::start().await;
    clinic_with_patient(&app, &anna(), "Anna Berg").await;
    let checkin = day3_checkin(&app, &anna()).await;
    app.tg
        .press_button(&anna(), checkin.message_id, &data_for(&checkin, "other"));
    let alert = app
        .tg
        .wait_for(owner().id, |m| !m.buttons().is_empty(), WAIT)
        .await;
    let pressed = app
        .tg
        .press_button(&owner(), alert.message_id, &alert.button_data()[0]);
    answer_text(&app, &pressed).await;
    // The copy is marked handled; after that, nothing more.
    app.tg
        .wait_for(owner().id, |m| m.method == "editMessageText", WAIT)
        .await;
    app.clock.set(berlin("2026-11-26 13:00"));
    app.tg.assert_nothing_sent_to(owner().id, QUIET).await;
    app.stop().await;
}

#[tokio::test]
async fn alerts_lists_open_alerts_until_they_are_handled() {
    let app = TestApp::start().await;
    clinic_with_patient(&app, &anna(), "Anna Berg").await;
    app.tg.send_text(&sam(), "/alerts");
    app.tg
        .wait_for(
            sam().id,
            |m| m.plain_text().contains("No open alerts"),
            WAIT,
        )
        .await;
    let checkin = day3_checkin(&app, &anna()).await;
    app.tg
        .press_button(&anna(), checkin.message_id, &data_for(&checkin, "redness"));
    let alert = app
        .tg
        .wait_for(sam().id, |m| !m.buttons().is_empty(), WAIT)
        .await;
    app.tg.send_text(&sam(), "/alerts");
    let list = app
        .tg
        .wait_for(sam().id, |m| m.plain_text().contains("Open alerts"), WAIT)
        .await;
    assert!(list.plain_text().contains("Anna Berg"));
    assert!(list.plain_text().contains("More redness"));
    let pressed = app
        .tg
        .press_button(&sam(), alert.message_id, &alert.button_data()[0]);
    answer_text(&app, &pressed).await;
    app.tg.send_text(&sam(), "/alerts");
    app.tg
        .wait_for(
            sam().id,
            |m| m.plain_text().contains("No open alerts"),
            WAIT,
        )
        .await;
    // Not for patients.
    app.tg.send_text(&anna(), "/alerts");
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("Only clinic staff"),
            WAIT,
        )
        .await;
    app.stop().await;
}

#[tokio::test]
async fn a_check_in_button_of_an_erased_patient_or_of_someone_else_is_stale() {
    let app = TestApp::start().await;
    clinic_with_patient(&app, &anna(), "Anna Berg").await;
    let checkin = day3_checkin(&app, &anna()).await;
    let mallory = TestUser::new(3001, "Mallory");
    let id = app.tg.press_button(
        &mallory,
        checkin.message_id,
        &data_for(&checkin, "infection"),
    );
    assert!(
        answer_text(&app, &id)
            .await
            .unwrap()
            .contains("no longer active")
    );
    sqlx::query("DELETE FROM patients")
        .execute(app.store.pool())
        .await
        .unwrap();
    let id = app.tg.press_button(
        &anna(),
        checkin.message_id,
        &data_for(&checkin, "infection"),
    );
    assert!(
        answer_text(&app, &id)
            .await
            .unwrap()
            .contains("no longer active")
    );
    app.tg.assert_nothing_sent_to(owner().id, QUIET).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM alerts").await, 0);
    app.stop().await;
}

#[tokio::test]
async fn an_open_alert_is_sent_to_the_owners_again_after_a_restart() {
    let app = TestApp::start().await;
    clinic_with_patient(&app, &anna(), "Anna Berg").await;
    let checkin = day3_checkin(&app, &anna()).await;
    app.tg.press_button(
        &anna(),
        checkin.message_id,
        &data_for(&checkin, "infection"),
    );
    app.tg
        .wait_for(owner().id, |m| !m.buttons().is_empty(), WAIT)
        .await;
    let app = app.restart().await;
    app.clock.set(berlin("2026-11-26 12:00"));
    app.tg
        .wait_for(owner().id, |m| m.plain_text().contains("Still open"), WAIT)
        .await;
    app.stop().await;
}

#[tokio::test]
async fn a_check_in_button_after_the_patient_erased_their_data_is_stale() {
    let app = TestApp::start().await;
    clinic_with_patient(&app, &anna(), "Anna Berg").await;
    let checkin = day3_checkin(&app, &anna()).await;
    app.tg.send_text(&anna(), "/delete");
    let confirm = app
        .tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("cannot be undone"),
            WAIT,
        )
        .await;
    app.tg
        .press_button(&anna(), confirm.message_id, &confirm.button_data()[0]);
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("data is erased"),
            WAIT,
        )
        .await;
    let id = app.tg.press_button(
        &anna(),
        checkin.message_id,
        &data_for(&checkin, "infection"),
    );
    assert!(
        answer_text(&app, &id)
            .await
            .unwrap()
            .contains("no longer active")
    );
    app.tg.assert_nothing_sent_to(owner().id, QUIET).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM alerts").await, 0);
    app.stop().await;
}

#[tokio::test]
async fn a_clinics_own_wording_of_the_check_in_thanks_is_used() {
    let app = TestApp::start().await;
    clinic_with_patient(&app, &anna(), "Anna Berg").await;
    app.save_text(
        &owner(),
        "reply.checkin_thanks",
        "Lovely! {clinic_name} is glad you're well.",
    )
    .await;
    let checkin = day3_checkin(&app, &anna()).await;
    app.tg
        .press_button(&anna(), checkin.message_id, &data_for(&checkin, "good"));
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text() == "Lovely! Glow Clinic is glad you're well.",
            WAIT,
        )
        .await;
    app.stop().await;
}

#[tokio::test]
async fn a_clinics_own_button_label_reaches_the_check_in() {
    let app = TestApp::start().await;
    clinic_with_patient(&app, &anna(), "Anna Berg").await;
    app.save_text(&owner(), "reply.checkin_good", "I'm fine, thanks")
        .await;
    let checkin = day3_checkin(&app, &anna()).await;
    let labels: Vec<String> = checkin.buttons().into_iter().map(|(l, _)| l).collect();
    assert_eq!(labels[0], "I'm fine, thanks", "{labels:?}");
    assert_eq!(labels.len(), 4);
    app.stop().await;
}

/// Anna's patient id.
async fn anna_id(app: &TestApp) -> i64 {
    app.count("SELECT id FROM patients WHERE name = 'Anna Berg'")
        .await
}

/// A step's status and note, for assertions on stored state.
async fn step_state(app: &TestApp, patient: i64, step: &str) -> (String, Option<String>) {
    sqlx::query_as("SELECT status, note FROM reminders WHERE patient_id = ? AND step_id = ?")
        .bind(patient)
        .bind(step)
        .fetch_one(app.store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_warning_sign_holds_the_all_clear_until_handled_then_releases_those_not_expired() {
    let app = TestApp::start().await;
    let clinic = app
        .clinic_with_owner(&owner(), "Glow Clinic", "Europe/Berlin")
        .await;
    app.add_staff(clinic, &sam()).await;
    // Makeup comes on day 4 (Fri 27 Nov 14:00, for a day), so it is still ahead at the
    // day-3 check-in.
    app.owner_says("/timing makeup-ok 4d", "makeup-ok now goes out 4d")
        .await;
    let payload = app.enroll(&owner(), "Anna Berg 14:00").await;
    app.tg.send_text(&anna(), &format!("/start {payload}"));
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("Anna"), WAIT)
        .await;
    let anna_id = anna_id(&app).await;
    let checkin = day3_checkin(&app, &anna()).await;
    app.tg
        .press_button(&anna(), checkin.message_id, &data_for(&checkin, "redness"));
    let advice = app
        .tg
        .wait_for(anna().id, |m| m.plain_text().contains("notified"), WAIT)
        .await;
    assert!(
        advice
            .plain_text()
            .contains("will wait until Glow Clinic has been in touch"),
        "{}",
        advice.plain_text()
    );
    let alert = app
        .tg
        .wait_for(sam().id, |m| !m.buttons().is_empty(), WAIT)
        .await;
    for step in ["makeup-ok", "activities-ok", "book-next"] {
        let (status, note) = step_state(&app, anna_id, step).await;
        assert_eq!(status, "cancelled", "{step}");
        assert_eq!(note.as_deref(), Some("held after a warning sign"), "{step}");
    }
    // Staff see what is held.
    app.tg.send_text(&sam(), &format!("/patient #{anna_id}"));
    let shown = app
        .tg
        .wait_for(sam().id, |m| m.plain_text().contains("Held after"), WAIT)
        .await
        .plain_text();
    for title in [
        "Makeup again",
        "Easing back into your routine",
        "Time to book your next session",
    ] {
        assert!(shown.contains(title), "{shown}");
    }
    // Nothing of it goes out while held: Friday's makeup, Saturday's activities.
    app.clock.set(berlin("2026-11-27 14:00"));
    app.tg.assert_nothing_sent_to(anna().id, QUIET).await;
    app.clock.set(berlin("2026-11-28 10:00"));
    app.tg.assert_nothing_sent_to(anna().id, QUIET).await;
    // Sunday noon: makeup's day is over, activities (until Monday 10:00) still good.
    app.clock.set(berlin("2026-11-29 12:00"));
    app.tg.assert_nothing_sent_to(anna().id, QUIET).await;
    let pressed = app
        .tg
        .press_button(&sam(), alert.message_id, &alert.button_data()[0]);
    answer_text(&app, &pressed).await;
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("gradually go back to exercise"),
            WAIT,
        )
        .await;
    let (status, note) = step_state(&app, anna_id, "makeup-ok").await;
    assert_eq!(
        (status.as_str(), note.as_deref()),
        ("skipped", Some("expired while held"))
    );
    eventually("the released step is recorded as sent", || async {
        step_state(&app, anna_id, "activities-ok").await.0 == "sent"
    })
    .await;
    assert_eq!(step_state(&app, anna_id, "book-next").await.0, "pending");
    app.tg.assert_nothing_sent_to(anna().id, QUIET).await;
    // Book-next comes at its own time, four weeks after the session.
    app.clock.set(berlin("2026-12-21 10:00"));
    app.tg
        .wait_for(
            anna().id,
            |m| m.button_data().iter().any(|d| d.starts_with("bn:")),
            WAIT,
        )
        .await;
    app.stop().await;
}

#[tokio::test]
async fn all_good_holds_nothing() {
    let app = TestApp::start().await;
    clinic_with_patient(&app, &anna(), "Anna Berg").await;
    let anna_id = anna_id(&app).await;
    let checkin = day3_checkin(&app, &anna()).await;
    app.tg
        .press_button(&anna(), checkin.message_id, &data_for(&checkin, "good"));
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("good to hear"), WAIT)
        .await;
    assert_eq!(
        step_state(&app, anna_id, "activities-ok").await.0,
        "pending"
    );
    // An answered check-in gets no nudge when its window closes.
    app.clock.set(berlin("2026-11-28 10:00"));
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("gradually go back to exercise"),
            WAIT,
        )
        .await;
    app.tg.assert_nothing_sent_to(anna().id, QUIET).await;
    let (status, note) = step_state(&app, anna_id, "nudge-checkin-day3").await;
    assert_eq!(
        (status.as_str(), note.as_deref()),
        ("cancelled", Some("check-in answered"))
    );
    app.stop().await;
}

#[tokio::test]
async fn an_unanswered_check_in_is_nudged_once_then_listed_for_staff() {
    let app = TestApp::start().await;
    clinic_with_patient(&app, &anna(), "Anna Berg").await;
    let checkin = day3_checkin(&app, &anna()).await;
    // The nudge is stored with the check-in: a restart keeps it.
    let app = app.restart().await;
    // The check-in's window closes on Saturday at 10:00 (two days).
    app.clock.set(berlin("2026-11-28 09:59"));
    app.tg.assert_nothing_sent_to(anna().id, QUIET).await;
    app.clock.set(berlin("2026-11-28 10:00"));
    let nudge = app
        .tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("haven't heard from you"),
            WAIT,
        )
        .await;
    // Its buttons answer the check-in itself.
    assert_eq!(nudge.button_data(), checkin.button_data());
    // Not yet on the staff list: the nudge has a day.
    app.tg.send_text(&sam(), "/alerts");
    let list = app
        .tg
        .wait_for(
            sam().id,
            |m| m.plain_text().contains("No open alerts"),
            WAIT,
        )
        .await;
    assert!(!list.plain_text().contains("Did not answer"));
    // Still silent a day later: listed, and nudged no more.
    app.clock.set(berlin("2026-11-29 10:00"));
    app.tg.send_text(&sam(), "/alerts");
    let list = app
        .tg
        .wait_for(
            sam().id,
            |m| m.plain_text().contains("Did not answer"),
            WAIT,
        )
        .await
        .plain_text();
    assert!(list.contains("Anna Berg"), "{list}");
    assert!(list.contains("Thu 26 Nov, 10:00"), "{list}");
    app.clock.set(berlin("2026-12-03 10:00"));
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("It's been"), WAIT)
        .await;
    let nudges = app
        .tg
        .sent_to(anna().id)
        .iter()
        .filter(|m| m.plain_text().contains("haven't heard from you"))
        .count();
    assert_eq!(nudges, 1, "one nudge per check-in so far");
    // A late answer (from the nudge) takes her off the list.
    app.tg
        .press_button(&anna(), nudge.message_id, &data_for(&nudge, "good"));
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("good to hear"), WAIT)
        .await;
    app.tg.send_text(&sam(), "/alerts");
    let list = app
        .tg
        .wait_for(
            sam().id,
            |m| m.plain_text().contains("No open alerts"),
            WAIT,
        )
        .await;
    assert!(!list.plain_text().contains("Did not answer"));
    app.stop().await;
}
