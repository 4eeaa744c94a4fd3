//! Staff look after one patient: /patient, /pause, /resume, /cancel.

mod support;

use support::people::{anna, berlin, owner, sam};

use support::app::{QUIET, TestApp, WAIT};
use support::fake_telegram::TestUser;

#[tokio::test]
async fn patient_shows_status_progress_what_is_coming_and_open_alerts() {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    support::app::eventually("the first step is recorded", || async {
        app.count("SELECT COUNT(*) FROM reminders WHERE status = 'sent'")
            .await
            == 1
    })
    .await;
    let m = app
        .owner_says("/patient #1", "Anna Berg (#1) · active")
        .await;
    let text = m.plain_text();
    assert!(text.contains("Messages sent: 1 of 9"), "{text}");
    assert!(text.contains("Coming up"), "{text}");
    assert!(text.contains("Mon 23 Nov, 19:00"), "{text}");

    app.clock.set(berlin("2026-11-26 10:00"));
    let checkin = app
        .tg
        .wait_for(anna().id, |m| !m.buttons().is_empty(), WAIT)
        .await;
    app.tg
        .press_button(&anna(), checkin.message_id, &checkin.button_data()[1]);
    app.tg
        .wait_for(
            owner().id,
            |m| m.plain_text().contains("More redness"),
            WAIT,
        )
        .await;
    let m = app.owner_says("/patient Anna", "Open alerts").await;
    assert!(m.plain_text().contains("More redness"));
    app.stop().await;
}

#[tokio::test]
async fn pause_holds_the_reminders_and_resume_brings_them_back() {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    app.owner_says("/pause #1", "Paused").await;
    app.clock.set(berlin("2026-11-23 19:00"));
    app.tg.assert_nothing_sent_to(anna().id, QUIET).await;
    app.owner_says("/pause #1", "has no active reminders").await;
    app.owner_says("/resume #1", "resumed").await;
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("aloe vera"), WAIT)
        .await;
    app.stop().await;
}

#[tokio::test]
async fn cancel_ends_the_course_for_good() {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    app.owner_says("/cancel #1", "will not resume").await;
    app.owner_says("/resume #1", "0 reminders queued").await;
    app.clock.set(berlin("2026-11-24 12:00"));
    app.tg.assert_nothing_sent_to(anna().id, QUIET).await;
    app.stop().await;
}

#[tokio::test]
async fn staff_of_another_clinic_cannot_see_or_pause_a_patient() {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    let other = TestUser::new(1501, "Otto");
    app.clinic_with_owner(&other, "Other Clinic", "Europe/Berlin")
        .await;
    for command in ["/patient #1", "/pause #1", "/cancel #1", "/resume #1"] {
        app.tg.send_text(&other, command);
        app.tg
            .wait_for(
                other.id,
                |m| m.plain_text().contains("No patient of your clinic"),
                WAIT,
            )
            .await;
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM patients WHERE status = 'active'")
            .await,
        1
    );
    app.stop().await;
}

/// Makes every audit insert fail, as a full disk or a broken trail would at the very
/// end of an action's transaction.
async fn refuse_audit_rows(app: &TestApp) {
    sqlx::query(
        "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit
         BEGIN SELECT RAISE(ABORT, 'the audit trail refuses rows'); END",
    )
    .execute(app.store.pool())
    .await
    .unwrap();
}

#[tokio::test]
async fn a_pause_whose_audit_row_cannot_be_written_changes_nothing_and_staff_get_the_apology() {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    let pending = "SELECT COUNT(*) FROM reminders WHERE status = 'pending'";
    let before = app.count(pending).await;
    assert!(before > 0);
    refuse_audit_rows(&app).await;

    app.owner_says("/pause #1", "something went wrong on our side")
        .await;
    assert_eq!(app.count(pending).await, before, "reminders were paused");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM patients WHERE status = 'active'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit WHERE action = 'pause'")
            .await,
        0
    );
    // Anna's evening message still comes: nothing was paused.
    app.clock.set(berlin("2026-11-23 19:00"));
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("aloe vera"), WAIT)
        .await;

    // With the trail writable again the same command pauses, and says so in the trail.
    sqlx::query("DROP TRIGGER refuse_audit")
        .execute(app.store.pool())
        .await
        .unwrap();
    app.owner_says("/pause #1", "Paused").await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit WHERE action = 'pause'")
            .await,
        1
    );
    app.stop().await;
}

#[tokio::test]
async fn an_erasure_whose_audit_row_cannot_be_written_keeps_the_data_and_the_patient_gets_the_apology()
 {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    refuse_audit_rows(&app).await;
    app.tg.send_text(&anna(), "/delete");
    let confirm = app
        .tg
        .wait_for(anna().id, |m| !m.buttons().is_empty(), WAIT)
        .await;
    app.tg
        .press_button(&anna(), confirm.message_id, &confirm.button_data()[0]);
    // A button press is answered on the button itself.
    support::app::eventually("the press is answered with the apology", || async {
        app.tg.answered_callbacks().iter().any(|(_, text)| {
            text.as_deref()
                .is_some_and(|t| t.contains("something went wrong on our side"))
        })
    })
    .await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM patients WHERE name = 'Anna Berg' AND chat_id IS NOT NULL")
            .await,
        1,
        "Anna's data was erased"
    );
    assert!(app.count("SELECT COUNT(*) FROM reminders").await > 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit WHERE action = 'erase'")
            .await,
        0
    );
    app.stop().await;
}

#[tokio::test]
async fn patients_pages_with_buttons_and_searches_by_name() {
    let app = TestApp::start().await;
    let clinic = app.glow_with_anna().await;
    // 44 more patients, as /enroll would leave them (link not opened yet).
    for i in 2..=45 {
        let name = if i == 30 {
            "Zoë Ørsted".to_string()
        } else {
            format!("Patient {i:02}")
        };
        sqlx::query(
            "INSERT INTO patients (clinic_id, name, plan, session_at, status, enrolled_by, created_at)
             VALUES (?, ?, 'microneedling', 0, 'invited', 1001, 0)",
        )
        .bind(clinic)
        .bind(name)
        .execute(app.store.pool())
        .await
        .unwrap();
    }
    let first = app.owner_says("/patients", "Patients of Glow Clinic").await;
    let text = first.plain_text();
    assert!(text.contains("(1–20 of 45)"), "{text}");
    assert!(
        text.contains("#45 Patient 45") && !text.contains("#25 "),
        "{text}"
    );
    assert!(!text.contains("more."), "{text}");
    assert_eq!(first.buttons().len(), 1);
    assert_eq!(first.buttons()[0].0, "Next ›");

    // Next, Next: the same message shows pages 2 and 3; page 3 has Anna and Prev only.
    app.tg
        .press_button(&owner(), first.message_id, &first.button_data()[0]);
    let second = app
        .tg
        .wait_for(
            owner().id,
            |m| m.method == "editMessageText" && m.plain_text().contains("(21–40 of 45)"),
            WAIT,
        )
        .await;
    assert_eq!(second.message_id, first.message_id);
    let labels: Vec<String> = second.buttons().into_iter().map(|(l, _)| l).collect();
    assert_eq!(labels, ["‹ Prev", "Next ›"]);
    app.tg
        .press_button(&owner(), first.message_id, &second.button_data()[1]);
    let third = app
        .tg
        .wait_for(
            owner().id,
            |m| m.method == "editMessageText" && m.plain_text().contains("(41–45 of 45)"),
            WAIT,
        )
        .await;
    assert!(
        third.plain_text().contains("#1 Anna Berg"),
        "{}",
        third.plain_text()
    );
    let labels: Vec<String> = third.buttons().into_iter().map(|(l, _)| l).collect();
    assert_eq!(labels, ["‹ Prev"]);

    // A search by part of a name, letter case ignored.
    let found = app.owner_says("/patients zoë", "Patients named").await;
    assert!(
        found.plain_text().contains("#30 Zoë Ørsted"),
        "{}",
        found.plain_text()
    );
    assert!(!found.plain_text().contains("Anna"));
    assert!(found.buttons().is_empty());
    app.owner_says("/patients nobody", "No patient's name contains “nobody”")
        .await;
    app.stop().await;
}

/// Sam works for two clinics. A page button turns the page of the list it is on, even
/// after Sam switched to the other clinic with /clinic: never the other clinic's list
/// in its place.
#[tokio::test]
async fn a_page_button_turns_the_page_of_its_own_clinics_list_after_a_switch() {
    let app = TestApp::start().await;
    let glow = app.glow_with_anna().await;
    let lumen = app
        .clinic_with_owner(&TestUser::new(1101, "Bo"), "Lumen Clinic", "Europe/Berlin")
        .await;
    // 24 more patients at each clinic: Glow has 25, Lumen 24.
    for (clinic, prefix) in [(glow, "Glow"), (lumen, "Lumen")] {
        for i in 1..=24 {
            sqlx::query(
                "INSERT INTO patients (clinic_id, name, plan, session_at, status, enrolled_by, created_at)
                 VALUES (?, ?, 'microneedling', 0, 'invited', 1001, 0)",
            )
            .bind(clinic)
            .bind(format!("{prefix} Patient {i:02}"))
            .execute(app.store.pool())
            .await
            .unwrap();
        }
    }
    app.add_staff(glow, &sam()).await;
    app.add_staff(lumen, &sam()).await;
    app.tg.send_text(&sam(), "/patients");
    let first = app
        .tg
        .wait_for(
            sam().id,
            |m| {
                m.plain_text()
                    .contains("Patients of Glow Clinic (1–20 of 25)")
            },
            WAIT,
        )
        .await;
    app.tg.send_text(&sam(), &format!("/clinic {lumen}"));
    app.tg
        .wait_for(
            sam().id,
            |m| m.plain_text().contains("You now act for Lumen Clinic"),
            WAIT,
        )
        .await;

    app.tg
        .press_button(&sam(), first.message_id, &first.button_data()[0]);
    let second = app
        .tg
        .wait_for(sam().id, |m| m.method == "editMessageText", WAIT)
        .await;
    let text = second.plain_text();
    assert!(
        text.contains("Patients of Glow Clinic (21–25 of 25)"),
        "{text}"
    );
    assert!(!text.contains("Lumen"), "{text}");
    // Lumen's own list is Lumen's.
    app.tg.send_text(&sam(), "/patients");
    app.tg
        .wait_for(
            sam().id,
            |m| {
                m.plain_text()
                    .contains("Patients of Lumen Clinic (1–20 of 24)")
            },
            WAIT,
        )
        .await;
    app.stop().await;
}
