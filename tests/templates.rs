//! End to end: staff change the texts their clinic's patients receive, from Telegram.

mod support;

use support::people::{anna, berlin, owner};

use aftercare::store::StaffRole;
use serde_json::json;
use support::app::{QUIET, TestApp, WAIT, eventually};
use support::chat::button;
use support::fake_telegram::{SentMessage, TestUser};

async fn versions(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM template_versions").await
}

/// `/edit …` by `who`; returns the prompt.
async fn start_edit(app: &TestApp, who: &TestUser, args: &str) -> SentMessage {
    app.tg.send_text(who, &format!("/edit {args}"));
    app.tg
        .wait_for(
            who.id,
            |m| m.plain_text().contains("Send me the new text"),
            WAIT,
        )
        .await
}

/// Waits for the preview with its Save button.
async fn preview(app: &TestApp, who: &TestUser) -> SentMessage {
    app.tg
        .wait_for(who.id, |m| m.plain_text().starts_with("Preview of"), WAIT)
        .await;
    app.tg
        .wait_for(
            who.id,
            |m| m.buttons().iter().any(|(label, _)| label == "Save"),
            WAIT,
        )
        .await
}

async fn save(app: &TestApp, who: &TestUser, preview: &SentMessage) {
    app.tg
        .press_button(who, preview.message_id, &button(preview, "Save"));
    app.tg
        .wait_for(who.id, |m| m.plain_text().starts_with("Saved:"), WAIT)
        .await;
}

/// Edits and saves `text` (no formatting) for `args`.
async fn edit_and_save(app: &TestApp, who: &TestUser, args: &str, text: &str) {
    start_edit(app, who, args).await;
    app.tg.send_text(who, text);
    let p = preview(app, who).await;
    save(app, who, &p).await;
}

#[tokio::test]
async fn an_edit_with_formatting_is_previewed_saved_and_the_next_reminder_carries_it() {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    start_edit(&app, &owner(), "step.hydrate-evening").await;
    // "Evening care, {first_name}! Drink water & rest. Tips" with bold, nested italic,
    // an overlapping underline, a spoiler and a link.
    let text = "Evening care, {first_name}! Drink water & rest. Tips <3";
    app.tg.send_formatted(
        &owner(),
        text,
        json!([
            {"type": "bold", "offset": 0, "length": 12},
            {"type": "italic", "offset": 8, "length": 4},
            {"type": "underline", "offset": 28, "length": 11},
            {"type": "bold", "offset": 34, "length": 13},
            {"type": "spoiler", "offset": 42, "length": 4},
            {"type": "text_link", "offset": 48, "length": 4, "url": "https://glow.test/care?a=1&b=2"},
        ]),
    );
    let p = preview(&app, &owner()).await;
    assert_eq!(
        p.plain_text(),
        "Evening care, Anna! Drink water & rest. Tips <3"
    );
    assert!(p.text.contains("<b>Evening <i>care</i></b>"), "{}", p.text);
    // Nothing changes before Save.
    assert_eq!(versions(&app).await, 0);
    save(&app, &owner(), &p).await;
    assert_eq!(versions(&app).await, 1);

    app.clock.set(berlin("2026-11-23 19:00"));
    let m = app
        .tg
        .wait_for(anna().id, |m| m.plain_text().contains("Drink water"), WAIT)
        .await;
    assert_eq!(
        m.plain_text(),
        "Evening care, Anna! Drink water & rest. Tips <3"
    );
    assert!(m.text.contains("<b>Evening <i>care</i></b>"), "{}", m.text);
    assert!(
        m.text
            .contains("<u>Drink <b>water</b></u><b> &amp; <tg-spoiler>rest</tg-spoiler>.</b>"),
        "{}",
        m.text
    );
    assert!(
        m.text
            .contains("<a href=\"https://glow.test/care?a=1&amp;b=2\">Tips</a> &lt;3"),
        "{}",
        m.text
    );
    app.stop().await;
}

#[tokio::test]
async fn cancel_changes_nothing() {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    start_edit(&app, &owner(), "step.hydrate-evening").await;
    app.tg.send_text(&owner(), "Something else entirely");
    let p = preview(&app, &owner()).await;
    app.tg
        .press_button(&owner(), p.message_id, &button(&p, "Cancel"));
    app.tg
        .wait_for(owner().id, |m| m.plain_text().contains("Cancelled"), WAIT)
        .await;
    // A late Save on the same preview is stale.
    app.tg
        .press_button(&owner(), p.message_id, &button(&p, "Save"));
    eventually("the stale press is answered", || async {
        app.tg
            .answered_callbacks()
            .iter()
            .any(|(_, t)| t.as_deref() == Some("This button is no longer active."))
    })
    .await;
    assert_eq!(versions(&app).await, 0);
    // Plain text now gets the usual answer, not a new preview.
    app.tg.send_text(&owner(), "hello");
    app.tg
        .wait_for(owner().id, |m| m.plain_text().contains("/help"), WAIT)
        .await;
    app.clock.set(berlin("2026-11-23 19:00"));
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("aloe vera"), WAIT)
        .await;
    app.stop().await;
}

/// Sends `text` as the new text and returns the refusal.
async fn refused(app: &TestApp, text: &str) -> String {
    app.tg.send_text(&owner(), text);
    app.tg
        .wait_for(
            owner().id,
            |m| m.plain_text().starts_with("Not saved:"),
            WAIT,
        )
        .await
        .plain_text()
}

#[tokio::test]
async fn each_bad_text_is_refused_with_its_problem_and_the_old_text_stays() {
    let app = TestApp::start().await;
    app.glow_with_anna().await;

    start_edit(&app, &owner(), "step.hydrate-evening").await;
    let why = refused(&app, "Good evening {frist_name}!").await;
    assert!(
        why.contains("unknown placeholder {frist_name}; this message can use {first_name}, {clinic_name}, {session_date}, {session_time}, {clinic_contact}, {warning_signs}, {urgent_line}, {after}, {makeup_after}"),
        "{why}"
    );
    assert!(why.contains("current text stays in force"), "{why}");
    let long = format!("{}{{first_name}}", "a".repeat(4080));
    let why = refused(&app, &long).await;
    assert!(
        why.contains("characters once filled in; Telegram allows 4096"),
        "{why}"
    );
    let why = refused(&app, "Hi {first_name").await;
    assert!(why.contains("without its"), "{why}");
    // A photo is not a text, and the edit stays open.
    app.tg.send_photo(&owner(), None);
    let why = app
        .tg
        .wait_for(owner().id, |m| m.plain_text().contains("not a text"), WAIT)
        .await
        .plain_text();
    assert!(why.contains("your edit is still open"), "{why}");

    start_edit(&app, &owner(), "reply.schedule_item").await;
    let why = refused(&app, "{title} soon").await;
    assert!(why.contains("this message must contain {when}"), "{why}");

    app.tg.send_text(&owner(), "/edit step.sauna");
    app.tg
        .wait_for(
            owner().id,
            |m| m.plain_text() == "There is no message step.sauna. /templates lists them.",
            WAIT,
        )
        .await;
    app.tg.send_text(&owner(), "/edit step.sun-morning xx");
    app.tg
        .wait_for(
            owner().id,
            |m| m.plain_text() == "There is no language xx (known: de, en).",
            WAIT,
        )
        .await;
    assert_eq!(versions(&app).await, 0);
    app.clock.set(berlin("2026-11-23 19:00"));
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("aloe vera"), WAIT)
        .await;
    app.stop().await;
}

#[tokio::test]
async fn history_lists_versions_and_revert_and_reset_bring_texts_back() {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    edit_and_save(&app, &owner(), "step.hydrate-evening", "First version").await;
    edit_and_save(&app, &owner(), "step.hydrate-evening", "Second version").await;

    app.tg.send_text(&owner(), "/history step.hydrate-evening");
    let h = app
        .tg
        .wait_for(owner().id, |m| m.plain_text().contains("Versions of"), WAIT)
        .await
        .plain_text();
    assert!(
        h.contains("2 (in force) · Mon 23 Nov, 14:00 · by Olga · Second version"),
        "{h}"
    );
    assert!(
        h.contains("1 · Mon 23 Nov, 14:00 · by Olga · First version"),
        "{h}"
    );

    app.tg.send_text(&owner(), "/revert step.hydrate-evening 1");
    app.tg
        .wait_for(
            owner().id,
            |m| {
                m.plain_text()
                    .contains("back to version 1, saved as version 3")
            },
            WAIT,
        )
        .await;
    app.tg.send_text(&owner(), "/revert step.hydrate-evening 9");
    app.tg
        .wait_for(
            owner().id,
            |m| m.plain_text().contains("has no version 9"),
            WAIT,
        )
        .await;
    app.clock.set(berlin("2026-11-23 19:00"));
    app.tg
        .wait_for(anna().id, |m| m.plain_text() == "First version", WAIT)
        .await;

    // Reset: the next step's own text goes, and the default comes back.
    edit_and_save(&app, &owner(), "step.sun-morning", "Sun text of our own").await;
    app.tg.send_text(&owner(), "/reset step.sun-morning");
    app.tg
        .wait_for(
            owner().id,
            |m| m.plain_text().contains("uses the default text again"),
            WAIT,
        )
        .await;
    app.tg.send_text(&owner(), "/template step.sun-morning");
    app.tg
        .wait_for(
            owner().id,
            |m| m.plain_text().contains("the default text."),
            WAIT,
        )
        .await;
    app.clock.set(berlin("2026-11-24 09:00"));
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("SPF 30"), WAIT)
        .await;
    app.stop().await;
}

#[tokio::test]
async fn one_clinics_edit_never_reaches_another_clinics_patients() {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    let other_owner = TestUser::new(1002, "Nia");
    let ben = TestUser::new(2002, "Ben");
    app.clinic_with_owner(&other_owner, "Other Clinic", "Europe/Berlin")
        .await;
    app.linked_patient(&other_owner, &ben, "Ben Ode 14:00")
        .await;
    edit_and_save(
        &app,
        &owner(),
        "step.hydrate-evening",
        "Glow's own evening text",
    )
    .await;
    app.clock.set(berlin("2026-11-23 19:00"));
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text() == "Glow's own evening text",
            WAIT,
        )
        .await;
    app.tg
        .wait_for(ben.id, |m| m.plain_text().contains("aloe vera"), WAIT)
        .await;
    assert!(
        !app.tg
            .sent_to(ben.id)
            .iter()
            .any(|m| m.plain_text().contains("Glow's own")),
    );
    app.stop().await;
}

#[tokio::test]
async fn a_saved_reply_text_is_what_the_clinics_patients_get() {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    edit_and_save(
        &app,
        &owner(),
        "reply.plain_text",
        "Please call {clinic_name} for anything, we read no messages here.",
    )
    .await;
    edit_and_save(&app, &owner(), "reply.schedule_item", "{when}: {title}").await;
    app.tg.send_text(&anna(), "is this normal?");
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text() == "Please call Glow Clinic for anything, we read no messages here.",
            WAIT,
        )
        .await;
    app.tg.send_text(&anna(), "/schedule");
    let s = app
        .tg
        .wait_for(anna().id, |m| m.plain_text().contains("Coming up"), WAIT)
        .await;
    assert!(
        s.plain_text()
            .contains("Mon 23 Nov, 19:00: Evening care: hydrate and soothe"),
        "{}",
        s.plain_text()
    );
    app.stop().await;
}

#[tokio::test]
async fn staff_without_the_right_role_may_look_but_not_change_and_patients_are_refused() {
    let app = TestApp::start().await;
    let clinic = app.glow_with_anna().await;
    let sam = TestUser::new(1003, "Sam");
    {
        let mut conn = app.store.pool().acquire().await.unwrap();
        aftercare::store::clinics::add_staff(
            &mut conn,
            clinic,
            sam.id,
            StaffRole::Staff,
            aftercare::clock::Clock::now(&app.clock),
        )
        .await
        .unwrap();
    }
    app.tg.send_text(&sam, "/edit step.sun-morning");
    app.tg
        .wait_for(
            sam.id,
            |m| m.plain_text() == "Only the clinic's owner and admins can change texts.",
            WAIT,
        )
        .await;
    app.tg.send_text(&sam, "/reset step.sun-morning");
    app.tg
        .wait_for(
            sam.id,
            |m| m.plain_text().contains("owner and admins"),
            WAIT,
        )
        .await;
    app.tg.send_text(&sam, "/timing activities off");
    app.tg
        .wait_for(
            sam.id,
            |m| {
                m.plain_text()
                    .contains("owner and admins can change the timing")
            },
            WAIT,
        )
        .await;
    // Looking is fine.
    app.tg.send_text(&sam, "/template step.sun-morning");
    app.tg
        .wait_for(sam.id, |m| m.plain_text().contains("Raw text"), WAIT)
        .await;
    // An owner's preview cannot be saved by someone else.
    start_edit(&app, &owner(), "step.sun-morning").await;
    app.tg.send_text(&owner(), "Owner's text");
    let p = preview(&app, &owner()).await;
    app.tg.press_button(&sam, p.message_id, &button(&p, "Save"));
    eventually("the press is answered", || async {
        !app.tg.answered_callbacks().is_empty()
    })
    .await;
    // Patients and strangers are told these are staff commands.
    for who in [anna(), TestUser::new(3001, "Stranger")] {
        for command in [
            "/templates",
            "/edit step.sun-morning",
            "/timing",
            "/history step.sun-morning",
        ] {
            app.tg.send_text(&who, command);
            app.tg
                .wait_for(
                    who.id,
                    |m| m.plain_text() == "This command is for clinic staff only.",
                    WAIT,
                )
                .await;
        }
    }
    assert_eq!(versions(&app).await, 0);
    app.stop().await;
}

#[tokio::test]
async fn templates_lists_every_message_and_marks_the_clinics_own() {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    edit_and_save(&app, &owner(), "step.sun-morning", "Our sun text").await;
    app.tg.skip_sent(owner().id);
    app.tg.send_text(&owner(), "/templates");
    app.tg
        .wait_for(
            owner().id,
            |m| m.plain_text().contains("Messages Glow Clinic"),
            WAIT,
        )
        .await;
    // The list is split over messages; collect them all.
    eventually("the whole list arrived", || async {
        app.tg
            .sent_to(owner().id)
            .iter()
            .any(|m| m.plain_text().contains("reply.private_only · en"))
    })
    .await;
    let all: Vec<SentMessage> = app
        .tg
        .sent_to(owner().id)
        .into_iter()
        .filter(|m| m.plain_text().contains(" · "))
        .collect();
    let text: String = all.iter().map(|m| m.plain_text() + "\n").collect();
    assert!(
        text.contains("✏️ step.sun-morning · en · Our sun text"),
        "{text}"
    );
    assert!(text.contains("step.sun-morning · de · "), "{text}");
    assert!(!text.contains("✏️ step.sun-morning · de"), "{text}");
    assert!(
        text.contains("reply.greeting · en · Hi {first_name}, welcome! 👋"),
        "{text}"
    );
    for key in [
        "step.normal-now",
        "step.book-next",
        "reply.schedule_item",
        "reply.not_linked",
    ] {
        assert!(text.contains(&format!("{key} · de")), "{key}: {text}");
    }
    for m in &all {
        assert!(m.plain_text().encode_utf16().count() <= 4096);
    }
    app.tg
        .send_text(&owner(), "/template reply.schedule_item de");
    let head = app
        .tg
        .wait_for(
            owner().id,
            |m| m.plain_text().contains("reply.schedule_item (de)"),
            WAIT,
        )
        .await
        .plain_text();
    assert!(head.contains("every reminder not yet sent"), "{head}");
    assert!(head.contains("(required: {when}, {title})"), "{head}");
    app.tg
        .wait_for(
            owner().id,
            |m| m.plain_text().contains("<b>{when}</b>"),
            WAIT,
        )
        .await;
    app.tg.assert_nothing_sent_to(anna().id, QUIET).await;
    app.stop().await;
}

#[tokio::test]
async fn an_edit_in_progress_survives_a_restart() {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    start_edit(&app, &owner(), "step.hydrate-evening").await;
    let app = app.restart().await;
    app.tg.send_text(&owner(), "After the restart");
    let p = preview(&app, &owner()).await;
    let app = app.restart().await;
    save(&app, &owner(), &p).await;
    app.clock.set(berlin("2026-11-23 19:00"));
    app.tg
        .wait_for(anna().id, |m| m.plain_text() == "After the restart", WAIT)
        .await;
    app.stop().await;
}

#[tokio::test]
async fn save_on_an_older_preview_never_saves_a_newer_text() {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    start_edit(&app, &owner(), "step.hydrate-evening").await;
    app.tg.send_text(&owner(), "First try");
    let first = preview(&app, &owner()).await;
    app.tg.send_text(&owner(), "Second try");
    let second = preview(&app, &owner()).await;
    app.tg
        .press_button(&owner(), first.message_id, &button(&first, "Save"));
    eventually("the old preview's Save is answered as stale", || async {
        app.tg
            .answered_callbacks()
            .iter()
            .any(|(_, t)| t.as_deref() == Some("This button is no longer active."))
    })
    .await;
    assert_eq!(versions(&app).await, 0);
    save(&app, &owner(), &second).await;
    // The preview's buttons are gone once it is saved.
    let edits: Vec<SentMessage> = app
        .tg
        .sent_to(owner().id)
        .into_iter()
        .filter(|m| m.method == "editMessageReplyMarkup")
        .collect();
    assert_eq!(edits.len(), 1);
    assert_eq!(edits[0].message_id, second.message_id);
    assert!(edits[0].buttons().is_empty());
    app.clock.set(berlin("2026-11-23 19:00"));
    app.tg
        .wait_for(anna().id, |m| m.plain_text() == "Second try", WAIT)
        .await;
    app.stop().await;
}

#[tokio::test]
async fn reset_of_a_default_text_adds_no_version_a_second_edit_says_the_first_was_discarded_and_a_photo_is_not_a_text()
 {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    // Never changed: nothing to reset, and no version saved.
    app.owner_says(
        "/reset step.sun-morning",
        "step.sun-morning (en) already uses the default text; nothing changed.",
    )
    .await;
    assert_eq!(versions(&app).await, 0);
    // Reset twice: the second adds nothing.
    edit_and_save(&app, &owner(), "step.sun-morning", "Our own sun text").await;
    app.owner_says("/reset step.sun-morning", "uses the default text again")
        .await;
    assert_eq!(versions(&app).await, 2);
    app.owner_says("/reset step.sun-morning", "already uses the default text")
        .await;
    assert_eq!(versions(&app).await, 2);

    // A second /edit while the first is open says the first was discarded.
    start_edit(&app, &owner(), "step.sun-morning").await;
    let second = start_edit(&app, &owner(), "step.makeup-ok").await;
    assert!(
        second
            .plain_text()
            .starts_with("Your unsaved edit of step.sun-morning (en) was discarded"),
        "{}",
        second.plain_text()
    );

    // A photo with a caption is not taken as the new text; the edit stays open.
    app.tg.skip_sent(owner().id);
    app.tg.send_photo(&owner(), Some("New makeup text"));
    let refused = app
        .tg
        .wait_for(owner().id, |m| m.plain_text().contains("not a text"), WAIT)
        .await;
    assert!(
        refused.plain_text().contains("step.makeup-ok (en)"),
        "{}",
        refused.plain_text()
    );
    app.tg.send_text(&owner(), "New makeup text");
    let p = preview(&app, &owner()).await;
    save(&app, &owner(), &p).await;
    assert_eq!(versions(&app).await, 3);
    app.stop().await;
}
