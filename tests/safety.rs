//! End to end: what keeps a patient safe whatever the clinic edits. The first message
//! carries the four essentials, the warning signs with the clinic's phone number and
//! the emergency line; an edit that drops them is refused; a clinic without a phone
//! number hears about it at /enroll; timing words follow /timing.

mod support;

use support::app::{TestApp, WAIT};
use support::fake_telegram::{SentMessage, TestUser};
use support::people::{anna, berlin, owner};

fn ben() -> TestUser {
    TestUser::new(2002, "Ben")
}

fn lena() -> TestUser {
    TestUser::new(2003, "Lena").lang("de")
}

/// The first course message a patient received (the one after the greeting).
async fn first_message(app: &TestApp, patient: &TestUser, marker: &str) -> String {
    app.tg
        .wait_for(patient.id, |m| m.plain_text().contains(marker), WAIT)
        .await
        .plain_text()
}

async fn clinic_with_contact(app: &TestApp) -> i64 {
    let id = app
        .clinic_with_owner(&owner(), "Glow Clinic", "Europe/Berlin")
        .await;
    app.owner_says("/settings contact +49 30 1234567", "Saved.")
        .await;
    id
}

#[tokio::test]
async fn the_first_message_carries_the_four_essentials_the_contact_and_the_emergency_number_in_english_and_german()
 {
    let app = TestApp::start().await;
    clinic_with_contact(&app).await;

    app.linked_patient(&owner(), &anna(), "Anna Berg 14:00")
        .await;
    let en = first_message(&app, &anna(), "mild sunburn").await;
    for essential in [
        "What's normal",
        "No makeup for 24 hours",
        "SPF 30",
        "shade",
        "No sauna, swimming pool, hot tub or hard exercise",
        "signs of infection",
        "pus, fever",
        "☎️ +49 30 1234567",
        "Trouble breathing",
        "Call 112 right away",
    ] {
        assert!(en.contains(essential), "{essential:?} missing from:\n{en}");
    }
    assert!(!en.contains("urgent care"), "{en}");

    let payload = app.enroll(&owner(), "Lena Roth 14:00").await;
    app.tg.send_text(&lena(), &format!("/start {payload}"));
    app.tg
        .wait_for(lena().id, |m| m.plain_text().contains("willkommen"), WAIT)
        .await;
    let de = first_message(&app, &lena(), "Sonnenbrand").await;
    for essential in [
        "Guten Tag Lena",
        "normal",
        "24 Stunden lang kein Make-up",
        "LSF 30",
        "Schatten",
        "keine Sauna, kein Schwimmbad, kein Whirlpool und kein anstrengender Sport",
        "Anzeichen einer Infektion",
        "☎️ +49 30 1234567",
        "Atemnot",
        "den Notruf 112",
    ] {
        assert!(de.contains(essential), "{essential:?} missing from:\n{de}");
    }
    assert!(!de.contains("Hallo"), "{de}");
    app.stop().await;
}

#[tokio::test]
async fn a_clinic_without_a_contact_is_warned_at_enroll_until_one_is_set() {
    let app = TestApp::start().await;
    app.clinic_with_owner(&owner(), "Glow Clinic", "Europe/Berlin")
        .await;
    app.tg.send_text(&owner(), "/enroll Anna Berg");
    let m = app
        .tg
        .wait_for(owner().id, |m| m.plain_text().contains("?start="), WAIT)
        .await
        .plain_text();
    assert!(m.contains("⚠️ Your clinic has no phone number set"), "{m}");
    assert!(m.contains("/settings contact"), "{m}");

    app.owner_says("/settings contact +49 30 1234567", "Saved.")
        .await;
    app.tg.send_text(&owner(), "/enroll Ben Ode");
    let m = app
        .tg
        .wait_for(owner().id, |m| m.plain_text().contains("?start="), WAIT)
        .await
        .plain_text();
    assert!(!m.contains("no phone number"), "{m}");
    app.stop().await;
}

/// Olga starts editing `key` and sends `text`; returns the bot's answer to the text.
async fn edit(app: &TestApp, key: &str, text: &str) -> SentMessage {
    app.tg.send_text(&owner(), &format!("/edit {key} en"));
    app.tg
        .wait_for(
            owner().id,
            |m| m.plain_text().contains("Send me the new text"),
            WAIT,
        )
        .await;
    app.tg.send_text(&owner(), text);
    app.tg
        .wait_for(
            owner().id,
            |m| {
                let t = m.plain_text();
                t.starts_with("Not saved:") || t.starts_with("Preview of")
            },
            WAIT,
        )
        .await
}

#[tokio::test]
async fn an_edit_that_drops_the_warning_signs_is_refused_with_the_reason() {
    let app = TestApp::start().await;
    clinic_with_contact(&app).await;

    let m = edit(
        &app,
        "step.normal-now",
        "Hi {first_name}! All is well, enjoy your new skin. {urgent_line}",
    )
    .await
    .plain_text();
    assert!(m.starts_with("Not saved:"), "{m}");
    assert!(
        m.contains("this message must contain {warning_signs}: the bot writes the warning signs and the clinic's phone number there"),
        "{m}"
    );

    let m = edit(
        &app,
        "step.checkin-day3",
        "How are you, {first_name}?\n{warning_signs}",
    )
    .await
    .plain_text();
    assert!(m.contains("must contain {urgent_line}"), "{m}");

    // Other steps need no safety lines; the first step keeping them may say anything else.
    let m = edit(&app, "step.sun-morning", "Sunscreen, {first_name}!")
        .await
        .plain_text();
    assert!(m.starts_with("Preview of"), "{m}");
    let m = edit(
        &app,
        "step.normal-now",
        "Welcome, {first_name}.\n{warning_signs}\n{urgent_line}",
    )
    .await
    .plain_text();
    assert!(m.starts_with("Preview of"), "{m}");
    // The preview shows the lines the bot fills in.
    let sample = app
        .tg
        .wait_for(
            owner().id,
            |m| m.buttons().iter().any(|(label, _)| label == "Save"),
            WAIT,
        )
        .await
        .plain_text();
    assert!(sample.contains("☎️ +49 30 1234567"), "{sample}");
    assert!(sample.contains("Call 112 right away"), "{sample}");

    // /template names the required placeholders.
    app.tg.send_text(&owner(), "/template step.checkin-day7 en");
    let m = app
        .tg
        .wait_for(owner().id, |m| m.plain_text().contains("(required:"), WAIT)
        .await
        .plain_text();
    assert!(
        m.contains("(required: {warning_signs}, {urgent_line})"),
        "{m}"
    );
    app.stop().await;
}

#[tokio::test]
async fn timing_makeup_ok_36h_is_reflected_in_the_text() {
    let app = TestApp::start().await;
    clinic_with_contact(&app).await;
    app.owner_says("/timing makeup-ok 36h", "makeup-ok now goes out 36h")
        .await;

    app.linked_patient(&owner(), &ben(), "Ben Ode 14:00").await;
    let first = first_message(&app, &ben(), "mild sunburn").await;
    assert!(first.contains("No makeup for 36 hours"), "{first}");
    assert!(!first.contains("24 hours"), "{first}");

    // 36 h after Monday 14:00 is Wednesday 02:00, inside quiet hours: 08:00.
    app.clock.set(berlin("2026-11-25 08:00"));
    let text = first_message(&app, &ben(), "start wearing makeup again").await;
    assert!(
        text.contains("It's been 36 hours since your session"),
        "{text}"
    );
    app.stop().await;
}

#[tokio::test]
async fn settings_emergency_changes_the_number_patients_are_told_to_call() {
    let app = TestApp::start().await;
    clinic_with_contact(&app).await;
    let m = app.owner_says("/settings", "emergency:").await.plain_text();
    assert!(m.contains("emergency: 112 (from the time zone)"), "{m}");
    let m = app
        .owner_says("/settings emergency 999", "Saved.")
        .await
        .plain_text();
    assert!(m.contains("emergency: 999"), "{m}");
    let m = app
        .owner_says("/settings emergency help", "2 to 15 digits")
        .await
        .plain_text();
    assert!(m.contains("/settings emergency 112"), "{m}");

    app.linked_patient(&owner(), &anna(), "Anna Berg 14:00")
        .await;
    let first = first_message(&app, &anna(), "mild sunburn").await;
    assert!(first.contains("Call 999 right away"), "{first}");

    let m = app
        .owner_says("/settings emergency auto", "Saved.")
        .await
        .plain_text();
    assert!(m.contains("emergency: 112 (from the time zone)"), "{m}");
    app.stop().await;
}
