//! What a patient controls: stop words, /resume, /language, /mydata and /delete.

mod support;

use support::people::{anna, berlin, owner};

use support::app::{QUIET, TestApp, WAIT, eventually};
use support::fake_telegram::TestUser;

async fn clinic_with(app: &TestApp, patient: &TestUser, greeting: &str) {
    app.clinic_with_owner(&owner(), "Glow Clinic", "Europe/Berlin")
        .await;
    let payload = app.enroll(&owner(), "Anna Berg 14:00").await;
    app.tg.send_text(patient, &format!("/start {payload}"));
    app.tg
        .wait_for(patient.id, |m| m.plain_text().contains(greeting), WAIT)
        .await;
    app.tg
        .wait_for(
            patient.id,
            |m| {
                m.plain_text().contains("Microneedling") || m.plain_text().contains("microneedling")
            },
            WAIT,
        )
        .await;
    app.tg.skip_sent(owner().id);
}

#[tokio::test]
async fn writing_stop_or_stopp_stops_the_reminders_and_resume_brings_them_back() {
    let app = TestApp::start().await;
    clinic_with(&app, &anna(), "welcome").await;
    app.tg.send_text(&anna(), "Stop!");
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("reminders are stopped"),
            WAIT,
        )
        .await;
    // Not relayed to the clinic as a message.
    app.tg.assert_nothing_sent_to(owner().id, QUIET).await;
    app.clock.set(berlin("2026-11-23 19:00"));
    app.tg.assert_nothing_sent_to(anna().id, QUIET).await;

    app.tg.send_text(&anna(), "/resume");
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("Welcome back"), WAIT)
        .await;
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("aloe vera"), WAIT)
        .await;
    app.tg.send_text(&anna(), "/resume");
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("already on"), WAIT)
        .await;
    app.stop().await;
}

#[tokio::test]
async fn a_german_patient_can_write_abmelden() {
    let app = TestApp::start().await;
    let erik = TestUser::new(2002, "Erik").lang("de");
    clinic_with(&app, &erik, "willkommen").await;
    app.tg.send_text(&erik, "abmelden");
    app.tg
        .wait_for(
            erik.id,
            |m| m.plain_text().contains("Erinnerungen sind beendet"),
            WAIT,
        )
        .await;
    app.stop().await;
}

#[tokio::test]
async fn language_offers_every_language_and_switches_the_course() {
    let app = TestApp::start().await;
    clinic_with(&app, &anna(), "welcome").await;
    app.tg.send_text(&anna(), "/language");
    let pick = app
        .tg
        .wait_for(anna().id, |m| !m.buttons().is_empty(), WAIT)
        .await;
    let names: Vec<String> = pick.buttons().into_iter().map(|b| b.0).collect();
    assert_eq!(names, ["Deutsch", "English"]);
    app.tg.press_button(&anna(), pick.message_id, "lang:de");
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("auf Deutsch"), WAIT)
        .await;
    app.clock.set(berlin("2026-11-23 19:00"));
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("Aloe"), WAIT)
        .await;
    app.stop().await;
}

#[tokio::test]
async fn mydata_shows_what_is_stored() {
    let app = TestApp::start().await;
    clinic_with(&app, &anna(), "welcome").await;
    app.tg.send_text(&anna(), "/mydata");
    let m = app
        .tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("What Glow Clinic stores"),
            WAIT,
        )
        .await;
    let text = m.plain_text();
    assert!(text.contains("Name: Anna Berg"), "{text}");
    assert!(text.contains("Mon 23 Nov, 14:00"), "{text}");
    assert!(text.contains("Language: English"), "{text}");
    app.stop().await;
}

#[tokio::test]
async fn delete_erases_the_patient_after_confirmation_and_staff_see_an_erased_patient() {
    let app = TestApp::start().await;
    clinic_with(&app, &anna(), "welcome").await;
    app.tg.send_text(&anna(), "/delete");
    let confirm = app
        .tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("cannot be undone"),
            WAIT,
        )
        .await;
    let data = confirm.button_data()[0].clone();
    assert!(data.starts_with("del:"));
    app.tg.press_button(&anna(), confirm.message_id, &data);
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("data is erased"),
            WAIT,
        )
        .await;
    eventually("the reminders are gone", || async {
        app.count("SELECT COUNT(*) FROM reminders").await == 0
    })
    .await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM patients WHERE name LIKE '%Anna%'")
            .await,
        0
    );
    app.tg.send_text(&owner(), "/patients");
    let list = app
        .tg
        .wait_for(owner().id, |m| m.plain_text().contains("Patients of"), WAIT)
        .await;
    assert!(
        list.plain_text().contains("#1 erased patient"),
        "{}",
        list.plain_text()
    );
    // The chat is no longer linked, and the button does nothing twice.
    app.tg.send_text(&anna(), "/schedule");
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("open the link"),
            WAIT,
        )
        .await;
    let again = app.tg.press_button(&anna(), confirm.message_id, &data);
    eventually("the second press is answered as stale", || async {
        app.tg.answered_callbacks().iter().any(|(i, t)| {
            i == &again && t.as_deref().is_some_and(|t| t.contains("no longer active"))
        })
    })
    .await;
    app.stop().await;
}

#[tokio::test]
async fn a_travelling_patient_sets_a_time_zone_and_reminders_and_quiet_hours_follow() {
    let app = TestApp::start().await;
    clinic_with(&app, &anna(), "welcome").await;
    app.tg.send_text(&anna(), "/timezone");
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("follow Europe/Berlin time"),
            WAIT,
        )
        .await;
    app.tg.send_text(&anna(), "/timezone Atlantis");
    app.tg
        .wait_for(
            anna().id,
            |m| {
                m.plain_text()
                    .contains("don't know a time zone for “Atlantis”")
            },
            WAIT,
        )
        .await;
    app.tg.send_text(&anna(), "/timezone new york");
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("now follow America/New_York time"),
            WAIT,
        )
        .await;
    app.tg.send_text(&anna(), "/schedule");
    let s = app
        .tg
        .wait_for(anna().id, |m| m.plain_text().contains("Coming up"), WAIT)
        .await;
    // The session was 08:00 in New York; the evening step is 19:00 there.
    assert!(
        s.plain_text().contains("Mon 23 Nov, 19:00"),
        "{}",
        s.plain_text()
    );
    assert!(
        s.plain_text().contains("Tue 24 Nov, 09:00"),
        "{}",
        s.plain_text()
    );
    // 19:00 in New York is 01:00 in Berlin, inside the clinic's quiet hours: the patient's
    // own evening counts, so it goes out then.
    app.clock.set("2026-11-23T23:59:00Z".parse().unwrap());
    app.tg.assert_nothing_sent_to(anna().id, QUIET).await;
    app.clock.set("2026-11-24T00:00:00Z".parse().unwrap());
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("aloe vera"), WAIT)
        .await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM patients WHERE timezone = 'America/New_York'")
            .await,
        1
    );
    app.stop().await;
}

#[tokio::test]
async fn only_a_linked_patient_has_a_time_zone_to_set() {
    let app = TestApp::start().await;
    let stranger = TestUser::new(3001, "Eve");
    app.tg.send_text(&stranger, "/timezone Lisbon");
    app.tg
        .wait_for(
            stranger.id,
            |m| m.plain_text().contains("open the link"),
            WAIT,
        )
        .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM patients").await, 0);
    app.stop().await;
}
