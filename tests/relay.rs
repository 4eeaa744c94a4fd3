//! Two-way messages: what a patient writes reaches the clinic's staff, and a staff
//! member's Telegram reply reaches the patient, through the bot.

mod support;

use support::people::{anna, owner, sam};

use support::app::{QUIET, TestApp, WAIT, eventually};
use support::fake_telegram::SentMessage;

/// Olga (owner) and Sam (staff) of Glow Clinic, and Anna linked.
async fn clinic_with_patient(app: &TestApp, name: &str) -> i64 {
    let clinic = app
        .clinic_with_owner(&owner(), "Glow Clinic", "Europe/Berlin")
        .await;
    app.add_staff(clinic, &sam()).await;
    app.linked_patient(&owner(), &anna(), name).await;
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("mild sunburn"), WAIT)
        .await;
    app.tg.skip_sent(owner().id);
    clinic
}

async fn patient_writes(app: &TestApp, text: &str) -> (SentMessage, SentMessage) {
    app.tg.send_text(&anna(), text);
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("reached Glow Clinic"),
            WAIT,
        )
        .await;
    let to_olga = app
        .tg
        .wait_for(owner().id, |m| m.plain_text().contains("wrote:"), WAIT)
        .await;
    let to_sam = app
        .tg
        .wait_for(sam().id, |m| m.plain_text().contains("wrote:"), WAIT)
        .await;
    (to_olga, to_sam)
}

#[tokio::test]
async fn a_patients_message_reaches_every_staff_member_escaped() {
    let app = TestApp::start().await;
    clinic_with_patient(&app, "Anna <Berg>").await;
    let (to_olga, to_sam) = patient_writes(&app, "Is it normal that it <itches> & burns?").await;
    for m in [to_olga, to_sam] {
        let text = m.plain_text();
        assert!(
            text.contains(
                "Anna <Berg> (patient #1) wrote:\nIs it normal that it <itches> & burns?"
            ),
            "{text}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn a_staff_reply_reaches_the_patient_and_the_staff_member_is_told() {
    let app = TestApp::start().await;
    clinic_with_patient(&app, "Anna Berg").await;
    let (_, to_sam) = patient_writes(&app, "Can I use my retinol cream?").await;
    app.tg
        .send_reply(&sam(), "Not for a week, please. <3", to_sam.message_id);
    let answer = app
        .tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("Not for a week"),
            WAIT,
        )
        .await;
    assert_eq!(
        answer.plain_text(),
        "Glow Clinic:\nNot for a week, please. <3"
    );
    app.tg
        .wait_for(
            sam().id,
            |m| m.plain_text().contains("Sent to Anna Berg"),
            WAIT,
        )
        .await;
    // The other staff member is not disturbed by a new message: only their copy of
    // Anna's message now says it was answered.
    app.tg
        .wait_for(owner().id, |m| m.method == "editMessageText", WAIT)
        .await;
    app.tg.assert_nothing_sent_to(owner().id, QUIET).await;
    app.stop().await;
}

#[tokio::test]
async fn photos_travel_both_ways_by_file_id() {
    let app = TestApp::start().await;
    clinic_with_patient(&app, "Anna Berg").await;
    app.tg.send_photo(&anna(), Some("my cheek today"));
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("reached Glow Clinic"),
            WAIT,
        )
        .await;
    let photo = app
        .tg
        .wait_for(owner().id, |m| m.method == "sendPhoto", WAIT)
        .await;
    assert!(
        photo
            .plain_text()
            .contains("Anna Berg (patient #1) sent a photo:\nmy cheek today")
    );
    let file = photo.photo_file_id.clone().expect("sent by file id");
    assert!(file.starts_with("user"), "the patient's own photo: {file}");

    app.tg
        .send_photo_reply(&owner(), Some("compare with this"), photo.message_id);
    let back = app
        .tg
        .wait_for(anna().id, |m| m.method == "sendPhoto", WAIT)
        .await;
    assert_eq!(back.plain_text(), "Glow Clinic: compare with this");
    assert!(back.photo_file_id.is_some());
    app.stop().await;
}

#[tokio::test]
async fn a_reply_to_an_alert_already_handled_still_reaches_the_patient() {
    let app = TestApp::start().await;
    clinic_with_patient(&app, "Anna Berg").await;
    app.clock.set("2026-11-26T09:00:00Z".parse().unwrap());
    let checkin = app
        .tg
        .wait_for(anna().id, |m| !m.buttons().is_empty(), WAIT)
        .await;
    let data = checkin.button_data()[1].clone();
    app.tg.press_button(&anna(), checkin.message_id, &data);
    let alert = app
        .tg
        .wait_for(
            owner().id,
            |m| m.plain_text().contains("More redness"),
            WAIT,
        )
        .await;
    let pressed = app
        .tg
        .press_button(&owner(), alert.message_id, &alert.button_data()[0]);
    eventually("the alert is handled", || async {
        app.count("SELECT COUNT(*) FROM alerts WHERE handled_at IS NOT NULL")
            .await
            == 1
    })
    .await;
    let _ = pressed;
    // The outbox notes the alert copy as a thread once Telegram has confirmed it; a
    // person reads before replying, a test must wait for that note.
    let (copy, pool) = (alert.message_id, app.store.pool().clone());
    eventually("the alert copy is remembered as a thread", || {
        let pool = pool.clone();
        async move {
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM staff_threads WHERE chat_id = ? AND message_id = ?",
            )
            .bind(owner().id)
            .bind(copy)
            .fetch_one(&pool)
            .await
            .unwrap();
            n == 1
        }
    })
    .await;
    app.tg
        .send_reply(&owner(), "Please send a photo tomorrow.", alert.message_id);
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("send a photo tomorrow"),
            WAIT,
        )
        .await;
    app.stop().await;
}

#[tokio::test]
async fn a_staff_reply_to_something_not_about_a_patient_is_explained() {
    let app = TestApp::start().await;
    clinic_with_patient(&app, "Anna Berg").await;
    app.tg.send_text(&owner(), "/help");
    let help = app
        .tg
        .wait_for(
            owner().id,
            |m| m.plain_text().contains("Staff commands"),
            WAIT,
        )
        .await;
    app.tg.send_reply(&owner(), "hello?", help.message_id);
    app.tg
        .wait_for(
            owner().id,
            |m| m.plain_text().contains("reply to their message"),
            WAIT,
        )
        .await;
    app.tg.assert_nothing_sent_to(anna().id, QUIET).await;
    app.stop().await;
}

#[tokio::test]
async fn a_former_staff_member_cannot_reply_to_a_patient() {
    let app = TestApp::start().await;
    clinic_with_patient(&app, "Anna Berg").await;
    let (_, to_sam) = patient_writes(&app, "Hello").await;
    sqlx::query("DELETE FROM staff WHERE user_id = ?")
        .bind(sam().id)
        .execute(app.store.pool())
        .await
        .unwrap();
    app.tg.send_reply(&sam(), "hi Anna", to_sam.message_id);
    app.tg.assert_nothing_sent_to(anna().id, QUIET).await;
    app.stop().await;
}

#[tokio::test]
async fn a_reply_about_an_erased_patient_is_not_sent() {
    let app = TestApp::start().await;
    clinic_with_patient(&app, "Anna Berg").await;
    let (to_olga, _) = patient_writes(&app, "Hello").await;
    sqlx::query("DELETE FROM patients")
        .execute(app.store.pool())
        .await
        .unwrap();
    app.tg.send_reply(&owner(), "hi Anna", to_olga.message_id);
    app.tg
        .wait_for(
            owner().id,
            |m| m.plain_text().contains("did not send it"),
            WAIT,
        )
        .await;
    app.tg.assert_nothing_sent_to(anna().id, QUIET).await;
    app.stop().await;
}

#[tokio::test]
async fn a_location_from_a_patient_sets_their_zone_and_is_not_relayed() {
    let app = TestApp::start().await;
    clinic_with_patient(&app, "Anna Berg").await;
    // Lisbon: west of Greenwich's whole-hour band, yet on its own zone, not "Etc/GMT+1".
    app.tg.send_location(&anna(), 38.72, -9.14);
    app.tg
        .wait_for(
            anna().id,
            |m| {
                m.plain_text()
                    .contains("From your location I set Europe/Lisbon")
            },
            WAIT,
        )
        .await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM patients WHERE timezone = 'Europe/Lisbon'")
            .await,
        1
    );
    app.tg.assert_nothing_sent_to(owner().id, QUIET).await;
    app.stop().await;
}

/// 818 numbered words, 4,089 characters: under Telegram's 4,096 for the sender, over
/// what fits once the bot adds its heading.
fn long_text(tag: &str) -> String {
    (0..818)
        .map(|i| format!("{tag}{i:03}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::test]
async fn long_messages_are_split_both_ways_and_never_cut() {
    let app = TestApp::start().await;
    clinic_with_patient(&app, "Anna Berg").await;
    let from_anna = long_text("a");
    app.tg.send_text(&anna(), &from_anna);
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("reached Glow Clinic"),
            WAIT,
        )
        .await;
    let parts = app.tg.wait_for_count(sam().id, 2, WAIT).await;
    assert!(
        parts[0].plain_text().contains("wrote (1/2):"),
        "{}",
        parts[0].plain_text()
    );
    assert!(
        parts[1].plain_text().contains("wrote (2/2):"),
        "{}",
        parts[1].plain_text()
    );
    let joined: String = parts.iter().map(|m| m.plain_text()).collect();
    assert!(!joined.contains('…'));
    for i in [0, 500, 817] {
        assert!(joined.contains(&format!("a{i:03}")), "a{i:03} missing");
    }

    let from_sam = long_text("s");
    app.tg.send_reply(&sam(), &from_sam, parts[1].message_id);
    app.tg
        .wait_for(
            sam().id,
            |m| m.plain_text().contains("Sent to Anna Berg, in 2 messages"),
            WAIT,
        )
        .await;
    let to_anna: String = app
        .tg
        .sent_to(anna().id)
        .iter()
        .map(|m| m.plain_text())
        .filter(|t| t.contains("s000") || t.contains("s817"))
        .collect();
    assert!(!to_anna.contains('…'), "{to_anna}");
    for i in [0, 409, 817] {
        assert!(to_anna.contains(&format!("s{i:03}")), "s{i:03} missing");
    }
    app.stop().await;
}

#[tokio::test]
async fn once_one_staff_member_answers_the_other_copies_say_who_and_when() {
    let app = TestApp::start().await;
    clinic_with_patient(&app, "Anna Berg").await;
    let (to_olga, to_sam) = patient_writes(&app, "Can I go swimming?").await;
    app.tg
        .send_reply(&sam(), "Not for two days, please.", to_sam.message_id);
    app.tg
        .wait_for(
            sam().id,
            |m| m.plain_text().contains("Sent to Anna Berg"),
            WAIT,
        )
        .await;
    let edited = app
        .tg
        .wait_for(
            owner().id,
            |m| m.method == "editMessageText" && m.plain_text().contains("Answered by"),
            WAIT,
        )
        .await;
    let text = edited.plain_text();
    assert!(
        text.contains("Anna Berg (patient #1) wrote:\nCan I go swimming?"),
        "{text}"
    );
    assert!(
        text.contains("✅ Answered by Sam, Mon 23 Nov, 14:00"),
        "{text}"
    );
    assert_eq!(edited.message_id, to_olga.message_id);
    // Sam's own copy stays as it was.
    assert!(
        !app.tg
            .sent_to(sam().id)
            .iter()
            .any(|m| m.method == "editMessageText")
    );
    app.stop().await;
}
