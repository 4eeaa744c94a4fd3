//! One person, several courses, several clinics (issue 11): erasure covers every
//! record of the chat, a link from another clinic runs alongside, a new link from the
//! same clinic replaces the course, an erased record is final, and a patient's /resume
//! undoes only their own /stop.

mod support;

use support::app::{QUIET, TestApp, WAIT, eventually};
use support::chat::{button, says};
use support::fake_telegram::{Fault, SentMessage, TestUser};
use support::people::{anna, berlin, owner, sam};

fn bo() -> TestUser {
    TestUser::new(1101, "Bo")
}

/// Glow Clinic (Olga) and Skin Lab (Bo), both in Berlin, and Anna linked to a course of
/// each: #1 from Glow Clinic, #2 from Skin Lab. Everything sent so far is consumed.
async fn anna_with_two_clinics(app: &TestApp) {
    app.clinic_with_owner(&owner(), "Glow Clinic", "Europe/Berlin")
        .await;
    app.clinic_with_owner(&bo(), "Skin Lab", "Europe/Berlin")
        .await;
    app.linked_patient(&owner(), &anna(), "Anna Berg 14:00")
        .await;
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("mild sunburn"), WAIT)
        .await;
    app.linked_patient(&bo(), &anna(), "Anna Berg 13:30").await;
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("mild sunburn"), WAIT)
        .await;
    for who in [owner().id, bo().id, anna().id] {
        app.tg.skip_sent(who);
    }
}

#[tokio::test]
async fn delete_erases_the_records_of_every_clinic_after_a_confirm_naming_them() {
    let app = TestApp::start().await;
    anna_with_two_clinics(&app).await;
    // Anna answers Glow Clinic's check-in with a warning sign: Olga gets an alert with
    // her name.
    app.clock.set(berlin("2026-11-26 10:00"));
    let glow_checkin =
        |m: &SentMessage| m.plain_text().starts_with("Glow Clinic") && !m.buttons().is_empty();
    support::app::eventually("Glow Clinic's check-in arrives", || async {
        app.tg.sent_to(anna().id).iter().any(glow_checkin)
    })
    .await;
    let checkin = app
        .tg
        .sent_to(anna().id)
        .into_iter()
        .find(glow_checkin)
        .unwrap();
    app.tg
        .press_button(&anna(), checkin.message_id, &checkin.button_data()[1]);
    app.tg
        .wait_for(
            owner().id,
            |m| m.plain_text().contains("Anna Berg (patient #1)"),
            WAIT,
        )
        .await;
    app.tg.skip_sent(anna().id);

    let data = says(&app, &anna(), "/mydata", "/delete").await;
    let text = data.plain_text();
    assert!(text.contains("What Glow Clinic stores about you"), "{text}");
    assert!(text.contains("What Skin Lab stores about you"), "{text}");

    let confirm = says(&app, &anna(), "/delete", "Are you sure").await;
    let text = confirm.plain_text();
    assert!(
        text.contains("Glow Clinic") && text.contains("Skin Lab"),
        "{text}"
    );
    let yes = button(&confirm, "Yes, erase my data");
    app.tg.press_button(&anna(), confirm.message_id, &yes);
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("data is erased"),
            WAIT,
        )
        .await;

    // The staff copy of the alert loses her name.
    let edited = app
        .tg
        .wait_for(
            owner().id,
            |m| {
                m.method == "editMessageText"
                    && m.plain_text().contains("erased patient (patient #1)")
            },
            WAIT,
        )
        .await;
    assert!(
        !edited.plain_text().contains("Anna"),
        "{}",
        edited.plain_text()
    );

    assert_eq!(
        app.count("SELECT COUNT(*) FROM patients WHERE name != '' OR chat_id IS NOT NULL OR erased_at IS NULL")
            .await,
        0
    );
    for sql in [
        "SELECT COUNT(*) FROM reminders",
        "SELECT COUNT(*) FROM links WHERE patient_id IS NOT NULL",
        "SELECT COUNT(*) FROM staff_threads WHERE patient_id IS NOT NULL",
        "SELECT COUNT(*) FROM relay_choices",
        // The audit trail keeps the record ids, never the erased person's Telegram id.
        "SELECT COUNT(*) FROM audit WHERE actor = 2001",
    ] {
        assert_eq!(app.count(sql).await, 0, "{sql}");
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit WHERE action = 'erase' AND subject IN ('patient 1', 'patient 2')")
            .await,
        2
    );

    // Nothing is left: /mydata knows her no more, and her next message reaches no
    // clinic's staff.
    says(&app, &anna(), "/mydata", "I don't know which clinic").await;
    says(&app, &anna(), "Hello again", "I don't know which clinic").await;
    app.tg.assert_nothing_sent_to(owner().id, QUIET).await;
    app.tg.assert_nothing_sent_to(bo().id, QUIET).await;
    app.clock.set(berlin("2026-11-27 19:00"));
    app.tg.assert_nothing_sent_to(anna().id, QUIET).await;
    app.stop().await;
}

/// A bot message's words as they stand now in the stand-in (edits applied): its text,
/// or a photo's caption.
fn current_words(app: &TestApp, message_id: i32) -> String {
    let (_, all) = app.tg.chat_messages_since(0);
    let m = all
        .into_iter()
        .find(|m| m.message_id == message_id)
        .unwrap_or_else(|| panic!("no message {message_id}"));
    ["text", "caption"]
        .iter()
        .filter_map(|k| m.json.get(*k).and_then(|v| v.as_str()))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn erasure_rewrites_every_staff_copy_of_the_patients_messages() {
    let app = TestApp::start().await;
    let clinic = app.glow_with_anna().await;
    app.add_staff(clinic, &sam()).await;
    let reached = |m: &SentMessage| m.plain_text().contains("reached Glow Clinic");
    // Anna writes, then sends a photo with a caption: Olga and Sam each get a copy of both.
    app.tg.send_text(&anna(), "My left cheek itches a lot");
    app.tg.wait_for(anna().id, reached, WAIT).await;
    app.tg.send_photo(&anna(), Some("small red spot here"));
    app.tg.wait_for(anna().id, reached, WAIT).await;
    let mut copies = Vec::new();
    for staff in [owner(), sam()] {
        let text = app
            .tg
            .wait_for(staff.id, |m| m.plain_text().contains("wrote:"), WAIT)
            .await;
        let photo = app
            .tg
            .wait_for(staff.id, |m| m.method == "sendPhoto", WAIT)
            .await;
        assert!(
            text.plain_text()
                .contains("Anna Berg (patient #1) wrote:\nMy left cheek")
        );
        assert!(
            photo
                .plain_text()
                .contains("Anna Berg (patient #1) sent a photo:\nsmall red spot")
        );
        copies.push((text.message_id, "💬 A message from an erased patient (#1)."));
        copies.push((photo.message_id, "📷 A photo from an erased patient (#1)."));
    }

    let confirm = says(&app, &anna(), "/delete", "Are you sure").await;
    let yes = button(&confirm, "Yes, erase my data");
    app.tg.press_button(&anna(), confirm.message_id, &yes);
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("data is erased"),
            WAIT,
        )
        .await;

    // Every copy now says only that an erased patient wrote: no name, no words.
    eventually("every staff copy is rewritten", || async {
        copies
            .iter()
            .all(|(id, neutral)| current_words(&app, *id) == *neutral)
    })
    .await;
    for (id, _) in &copies {
        let words = current_words(&app, *id);
        for secret in ["Anna", "Berg", "cheek", "itches", "red spot"] {
            assert!(!words.contains(secret), "{words}");
        }
    }
    assert_eq!(app.tg.requests("editMessageCaption"), 2);
    assert!(app.tg.rejected().is_empty(), "{:?}", app.tg.rejected());
    app.stop().await;
}

#[tokio::test]
async fn a_copy_still_on_its_way_when_the_patient_erases_is_rewritten_too() {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    app.tg.skip_sent(anna().id);
    // Telegram is slow to take Olga's copy: Anna erases her data meanwhile.
    app.tg
        .push_fault(Fault::Slow(std::time::Duration::from_secs(4)));
    app.tg.send_text(&anna(), "My left cheek itches a lot");
    let confirm = says(&app, &anna(), "/delete", "Are you sure").await;
    let yes = button(&confirm, "Yes, erase my data");
    app.tg.press_button(&anna(), confirm.message_id, &yes);
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("data is erased"),
            WAIT,
        )
        .await;
    let copy = app
        .tg
        .wait_for(owner().id, |m| m.plain_text().contains("wrote:"), WAIT)
        .await;
    eventually("the late copy is rewritten", || async {
        current_words(&app, copy.message_id) == "💬 A message from an erased patient (#1)."
    })
    .await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM staff_threads WHERE patient_id IS NOT NULL")
            .await,
        0
    );
    app.stop().await;
}

#[tokio::test]
async fn a_link_from_another_clinic_runs_alongside_and_each_message_names_its_clinic() {
    let app = TestApp::start().await;
    anna_with_two_clinics(&app).await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM patients WHERE status = 'active'")
            .await,
        2
    );
    app.clock.set(berlin("2026-11-23 19:00"));
    // Both courses go on, each message under its clinic's name.
    support::app::eventually("both clinics' evening messages arrive", || async {
        let sent = app.tg.sent_to(anna().id);
        ["Glow Clinic", "Skin Lab"].iter().all(|clinic| {
            sent.iter().any(|m| {
                let t = m.plain_text();
                t.starts_with(clinic) && t.contains("aloe vera")
            })
        })
    })
    .await;
    app.tg.skip_sent(anna().id);

    let schedule = says(&app, &anna(), "/schedule", "Coming up").await;
    let text = schedule.plain_text();
    assert!(text.contains("Coming up from Glow Clinic"), "{text}");
    assert!(text.contains("Coming up from Skin Lab"), "{text}");

    // A message asks which clinic it is for, and goes to that clinic only.
    let pick = says(&app, &anna(), "Is the redness normal?", "Which clinic").await;
    let skin_lab = button(&pick, "Skin Lab");
    app.tg.press_button(&anna(), pick.message_id, &skin_lab);
    app.tg
        .wait_for(
            bo().id,
            |m| m.plain_text().contains("Anna Berg (patient #2) wrote"),
            WAIT,
        )
        .await;
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("reached Skin Lab"),
            WAIT,
        )
        .await;
    app.tg.assert_nothing_sent_to(owner().id, QUIET).await;
    // A second press passes nothing on twice.
    app.tg.press_button(&anna(), pick.message_id, &skin_lab);
    app.tg.assert_nothing_sent_to(bo().id, QUIET).await;

    // Stop ends both courses at once and says so; /resume asks which.
    let stopped = says(&app, &anna(), "/stop", "reminders are stopped").await;
    let text = stopped.plain_text();
    assert!(text.contains("Glow Clinic, Skin Lab"), "{text}");
    let pick = says(&app, &anna(), "/resume", "Which clinic").await;
    app.tg
        .press_button(&anna(), pick.message_id, &button(&pick, "Glow Clinic"));
    app.tg
        .wait_for(
            anna().id,
            |m| {
                m.plain_text()
                    .contains("Your reminders from Glow Clinic are on again")
            },
            WAIT,
        )
        .await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM patients WHERE id = 1 AND status = 'active'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM patients WHERE id = 2 AND status = 'stopped'")
            .await,
        1
    );

    // A language is the person's: it applies to the courses of both clinics.
    let pick = says(&app, &anna(), "/language", "Which language").await;
    app.tg
        .press_button(&anna(), pick.message_id, &button(&pick, "Deutsch"));
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("auf Deutsch"), WAIT)
        .await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM patients WHERE lang = 'de'")
            .await,
        2
    );
    app.stop().await;
}

#[tokio::test]
async fn a_new_link_from_the_same_clinic_replaces_the_course_and_both_sides_are_told() {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    app.tg.skip_sent(anna().id);
    app.linked_patient(&owner(), &anna(), "Anna Berg 13:00")
        .await;
    let told = app.tg.sent_to(anna().id);
    assert!(
        told.iter().any(|m| m
            .plain_text()
            .contains("Your course from Glow Clinic was replaced by a new course on 23 Nov")),
        "{:?}",
        told.iter().map(|m| m.plain_text()).collect::<Vec<_>>()
    );
    app.owner_says("/patient #1", "replaced by #2 on 23 Nov")
        .await;
    app.owner_says("/patient #2", "Anna Berg (#2) · active")
        .await;
    // The list says so too, rather than "stopped".
    let list = app.owner_says("/patients", "#1 Anna Berg").await;
    assert!(
        list.plain_text()
            .contains("#1 Anna Berg · replaced by #2 ·"),
        "{}",
        list.plain_text()
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM reminders WHERE patient_id = 1 AND status = 'pending'")
            .await,
        0
    );
    // Staff cannot bring the replaced course back.
    app.owner_says("/resume #1", "cannot be resumed").await;
    app.owner_says("/relink 1", "replaced by a newer one, #2")
        .await;
    app.stop().await;
}

#[tokio::test]
async fn an_erased_record_is_final_for_every_staff_command() {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    let confirm = says(&app, &anna(), "/delete", "Are you sure").await;
    app.tg
        .press_button(&anna(), confirm.message_id, &confirm.button_data()[0]);
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("data is erased"),
            WAIT,
        )
        .await;
    for command in [
        "/relink 1",
        "/series #1 3",
        "/book #1 2026-12-21 10:30",
        "/unbook #1",
        "/done #1",
        "/enroll #1",
        "/pause #1",
        "/cancel #1",
        "/resume #1",
        "/patient #1",
    ] {
        let m = app
            .owner_says(command, "erased at the patient's request on")
            .await;
        assert!(m.plain_text().contains("Mon 23 Nov 2026"), "{command}");
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM links WHERE patient_id = 1")
            .await,
        0
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM reminders WHERE patient_id = 1")
            .await,
        0
    );
    app.stop().await;
}

#[tokio::test]
async fn a_patients_resume_does_not_undo_a_clinic_pause_or_cancel() {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    app.owner_says("/settings contact +49 30 1234567", "contact")
        .await;
    app.owner_says("/pause #1", "Paused").await;
    let m = says(&app, &anna(), "/resume", "paused your reminders").await;
    let text = m.plain_text();
    assert!(
        text.starts_with("Glow Clinic paused your reminders"),
        "{text}"
    );
    assert!(text.contains("+49 30 1234567"), "{text}");
    app.clock.set(berlin("2026-11-23 19:00"));
    app.tg.assert_nothing_sent_to(anna().id, QUIET).await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM patients WHERE id = 1 AND status = 'stopped'")
            .await,
        1
    );

    app.owner_says("/resume #1", "resumed").await;
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("aloe vera"), WAIT)
        .await;
    app.owner_says("/cancel #1", "will not resume").await;
    says(&app, &anna(), "/resume", "Glow Clinic ended your reminders").await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM reminders WHERE patient_id = 1 AND status = 'pending'")
            .await,
        0
    );
    app.stop().await;
}
