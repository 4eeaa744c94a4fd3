//! End to end: courses sent as TOML files. `/course export` gives the course in force
//! as a file; a file sent back is checked (problems by line, nothing changed), previewed
//! with what it changes, and saved with Save as a new course or a new version.

mod support;

use support::app::{QUIET, TestApp, WAIT};
use support::chat::{button, says};
use support::fake_telegram::{SentMessage, TestUser};
use support::people::{berlin, other_owner, owner, sam};

fn bea() -> TestUser {
    TestUser::new(2002, "Bea")
}

fn stranger() -> TestUser {
    TestUser::new(4001, "Stan")
}

/// A course written by hand: two steps, English only.
const LASER: &str = r#"# Written by the clinic; comments are fine.
name = "Laser toning"

[[step]]
id = "right-after"
after = "0s"
expires = "12h"
[step.text.en]
title = "Right after your laser session"
text = "Hello {first_name}, cool the skin gently today. {warning_signs} {urgent_line}"

[[step]]
id = "day-one"
after = "1d"
at = "09:00"
[step.text.en]
title = "The morning after"
text = "Good morning {first_name}: a light moisturiser and SPF 50 today."
"#;

/// `who` sends a file and waits for an answer containing `expect`.
async fn upload(
    app: &TestApp,
    who: &TestUser,
    file_name: &str,
    body: &str,
    expect: &str,
) -> SentMessage {
    app.tg
        .send_document(who, file_name, body.as_bytes().to_vec(), None);
    app.tg
        .wait_for(who.id, |m| m.plain_text().contains(expect), WAIT)
        .await
}

/// `who` sends a file and waits for its preview (the message with Save).
async fn preview(app: &TestApp, who: &TestUser, file_name: &str, body: &str) -> SentMessage {
    app.tg
        .send_document(who, file_name, body.as_bytes().to_vec(), None);
    app.tg
        .wait_for(
            who.id,
            |m| m.buttons().iter().any(|(l, _)| l == "Save"),
            WAIT,
        )
        .await
}

/// Presses a button of `m` and waits for the answer containing `expect` in the chat.
async fn press(app: &TestApp, who: &TestUser, m: &SentMessage, label: &str, expect: &str) {
    app.tg.press_button(who, m.message_id, &button(m, label));
    app.tg
        .wait_for(who.id, |m| m.plain_text().contains(expect), WAIT)
        .await;
}

/// `/course export <course>`: the file's name and text.
async fn export(app: &TestApp, who: &TestUser, course: &str) -> (String, String) {
    app.tg.send_text(who, &format!("/course export {course}"));
    let sent = app
        .tg
        .wait_for(who.id, |m| m.method == "sendDocument", WAIT)
        .await;
    let (name, bytes) = app.tg.document(sent.message_id).unwrap();
    (name, String::from_utf8(bytes.to_vec()).unwrap())
}

/// The course file in force of `key`, as stored.
async fn stored_body(app: &TestApp, key: &str) -> String {
    sqlx::query_scalar(
        "SELECT v.body FROM course_versions v JOIN courses c ON c.id = v.course_id
         WHERE c.key = ? ORDER BY v.version DESC LIMIT 1",
    )
    .bind(key)
    .fetch_one(app.store.pool())
    .await
    .unwrap()
}

/// The 1-based number of the first line of `text` that starts with `prefix` after the
/// line `after`.
fn line_after(text: &str, after: &str, prefix: &str) -> usize {
    let start = text.lines().position(|l| l == after).unwrap();
    start
        + text
            .lines()
            .skip(start)
            .position(|l| l.starts_with(prefix))
            .unwrap()
        + 1
}

const VERSIONS: &str = "SELECT COUNT(*) FROM course_versions";
const COURSES: &str = "SELECT COUNT(*) FROM courses";

async fn glow(app: &TestApp) -> i64 {
    app.clinic_with_owner(&owner(), "Glow Clinic", "Europe/Berlin")
        .await
}

async fn peel_copy(app: &TestApp) {
    says(
        app,
        &owner(),
        "/course new \"Chemical peel\" from microneedling",
        "created with 9 steps",
    )
    .await;
}

#[tokio::test]
async fn a_file_with_an_error_is_refused_with_its_line_and_changes_nothing() {
    let app = TestApp::start().await;
    glow(&app).await;
    peel_copy(&app).await;
    let (_, exported) = export(&app, &owner(), "peel").await;
    let audit = "SELECT COUNT(*) FROM audit";
    let (versions, courses, audits) = (
        app.count(VERSIONS).await,
        app.count(COURSES).await,
        app.count(audit).await,
    );

    // One step with an offset nobody can read, another with a placeholder that does
    // not exist: both named by line.
    let bad_after = line_after(&exported, "id = \"activities\"", "after = ");
    let bad_text = line_after(&exported, "id = \"makeup-ok\"", "text = ");
    let mut lines: Vec<String> = exported.lines().map(str::to_string).collect();
    lines[bad_after - 1] = "after = \"1 fortnight\"".into();
    // The text may be a multi-line string: the unknown placeholder goes at its start.
    let text_line = &lines[bad_text - 1];
    lines[bad_text - 1] = match text_line.strip_prefix("text = \"\"\"") {
        Some(rest) => format!("text = \"\"\"{{frist_name}} {rest}"),
        None => text_line.replacen("text = \"", "text = \"{frist_name} ", 1),
    };
    let bad = lines.join("\n");
    let refused = upload(&app, &owner(), "chemical-peel.toml", &bad, "Not saved").await;
    let shown = refused.plain_text();
    assert!(
        shown.contains("chemical-peel.toml has 2 problems. Nothing changed."),
        "{shown}"
    );
    assert!(
        shown.contains(&format!("\nline {bad_after}: after:")),
        "{shown}"
    );
    assert!(
        shown.contains(&format!(
            "\nline {bad_text}: step makeup-ok (de): unknown placeholder {{frist_name}}"
        )),
        "{shown}"
    );
    assert!(refused.buttons().is_empty());

    // A file that is not TOML at all, and one for a new course: refused the same way.
    let refused = upload(
        &app,
        &owner(),
        "laser.toml",
        "name = \"Laser\n",
        "Not saved",
    )
    .await;
    assert!(
        refused.plain_text().contains("\nline 1: "),
        "{}",
        refused.text
    );
    let no_steps = upload(
        &app,
        &owner(),
        "laser.toml",
        "name = \"Laser\"\n",
        "Not saved",
    )
    .await;
    assert!(
        no_steps
            .plain_text()
            .contains("line 1: no [[step]]: a course needs at least one"),
        "{}",
        no_steps.text
    );

    assert_eq!(app.count(VERSIONS).await, versions);
    assert_eq!(app.count(COURSES).await, courses);
    assert_eq!(app.count(audit).await, audits);
    assert_eq!(app.count("SELECT COUNT(*) FROM course_drafts").await, 0);
    let listed = says(&app, &owner(), "/courses", "Courses at").await;
    assert!(!listed.plain_text().contains("laser"), "{}", listed.text);
    says(&app, &owner(), "/course peel", "version 1").await;
    app.stop().await;
}

#[tokio::test]
async fn a_good_file_is_previewed_saved_and_a_new_patient_gets_exactly_its_steps() {
    let app = TestApp::start().await;
    glow(&app).await;
    let shown = preview(&app, &owner(), "laser.toml", LASER).await;
    let text = shown.plain_text();
    assert!(
        text.contains("“Laser toning” (laser): a new course."),
        "{text}"
    );
    assert!(
        text.contains("right-after · 0s (expires 12h) · Right after your laser session [en]"),
        "{text}"
    );
    assert!(
        text.contains("day-one · 1d at 09:00 · The morning after [en]"),
        "{text}"
    );
    assert!(text.contains("de: right-after, day-one"), "{text}");
    assert!(
        text.contains("Nothing changes until you press Save."),
        "{text}"
    );
    // Nothing is in force before Save, yet the draft waits in the database.
    assert_eq!(app.count(COURSES).await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM course_drafts").await, 1);

    press(&app, &owner(), &shown, "Save", "Saved: the new course").await;
    assert_eq!(app.count(COURSES).await, 1);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM audit WHERE action = 'course.new'
             AND subject = 'course laser' AND detail = 'from file laser.toml'"
        )
        .await,
        1
    );
    let listed = says(&app, &owner(), "/course laser", "Laser toning").await;
    assert!(
        listed
            .plain_text()
            .contains("day-one · 1d at 09:00 · The morning after [en]"),
        "{}",
        listed.text
    );

    // Bea is enrolled into it and gets its two steps, and nothing else.
    app.linked_patient(&owner(), &bea(), "Bea Stone laser 14:00")
        .await;
    let first = app
        .tg
        .wait_for(bea().id, |m| m.plain_text().contains("cool the skin"), WAIT)
        .await;
    assert!(
        first
            .plain_text()
            .starts_with("Hello Bea, cool the skin gently today."),
        "{}",
        first.text
    );
    app.clock.set(berlin("2026-11-24 09:00"));
    let next = app
        .tg
        .wait_for(bea().id, |m| m.plain_text().contains("Good morning"), WAIT)
        .await;
    assert_eq!(
        next.plain_text(),
        "Good morning Bea: a light moisturiser and SPF 50 today."
    );
    app.clock.set(berlin("2026-12-31 09:00"));
    app.tg.assert_nothing_sent_to(bea().id, QUIET).await;
    let steps: String = sqlx::query_scalar(
        "SELECT group_concat(step_id, ',') FROM
           (SELECT r.step_id FROM reminders r JOIN patients p ON p.id = r.patient_id
            WHERE p.name = 'Bea Stone' ORDER BY r.due_at)",
    )
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert_eq!(steps, "right-after,day-one");
    app.stop().await;
}

#[tokio::test]
async fn an_exported_course_sent_back_unchanged_changes_nothing_and_a_changed_one_replaces_it() {
    let app = TestApp::start().await;
    glow(&app).await;
    peel_copy(&app).await;
    let (name, exported) = export(&app, &owner(), "Chemical peel").await;
    assert_eq!(name, "chemical-peel.toml");
    assert_eq!(exported, stored_body(&app, "chemical-peel").await);

    // Back unchanged: the same course, nothing saved, no draft, no buttons.
    let same = upload(
        &app,
        &owner(),
        "chemical-peel.toml",
        &exported,
        "this file is the same as version 1",
    )
    .await;
    assert!(same.buttons().is_empty());
    assert_eq!(app.count(VERSIONS).await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM course_drafts").await, 0);

    // Changed: one step moved, one removed, a new name. Saved as a second copy by
    // the phone ("(1)"), it still means the same course.
    let moved_at = line_after(&exported, "id = \"activities\"", "after = ");
    let mut lines: Vec<String> = exported.lines().map(str::to_string).collect();
    lines[moved_at - 1] = "after = \"2d\"".into();
    lines[0] = "name = \"Peel deluxe\"".into();
    let changed = lines.join("\n");
    let start = changed.find("[[step]]\nid = \"sun-morning\"").unwrap();
    let end = start + 1 + changed[start + 1..].find("[[step]]").unwrap();
    let changed = format!("{}{}", &changed[..start], &changed[end..]);
    let shown = preview(&app, &owner(), "chemical-peel (1).toml", &changed).await;
    let text = shown.plain_text();
    assert!(
        text.contains("(chemical-peel): replaces version 1, in force now."),
        "{text}"
    );
    assert!(text.contains("What changes against version 1"), "{text}");
    assert!(
        text.contains("• name: “Chemical peel” → “Peel deluxe”"),
        "{text}"
    );
    assert!(
        text.contains("• step activities: 1d at 12:00 → 2d at 12:00"),
        "{text}"
    );
    assert!(text.contains("• step sun-morning removed"), "{text}");
    assert!(!text.contains("Missing wording"), "{text}");
    assert_eq!(app.count(VERSIONS).await, 1);
    press(&app, &owner(), &shown, "Save", "is now version 2").await;
    assert_eq!(app.count(VERSIONS).await, 2);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM audit WHERE action = 'course.change'
             AND detail = 'v2: from file chemical-peel (1).toml'"
        )
        .await,
        1
    );
    let (_, again) = export(&app, &owner(), "deluxe").await;
    assert!(again.starts_with("name = \"Peel deluxe\"\n"), "{again}");
    assert!(!again.contains("sun-morning"), "{again}");
    says(&app, &owner(), "/course deluxe", "version 2").await;
    app.stop().await;
}

#[tokio::test]
async fn only_the_clinics_owner_and_admins_export_or_send_course_files() {
    let app = TestApp::start().await;
    let clinic = glow(&app).await;
    app.add_staff(clinic, &sam()).await;
    peel_copy(&app).await;
    let (_, exported) = export(&app, &owner(), "peel").await;

    says(
        &app,
        &sam(),
        "/course export peel",
        "Only the clinic's owner and admins can export courses.",
    )
    .await;
    upload(
        &app,
        &sam(),
        "chemical-peel.toml",
        &exported.replace("Chemical peel", "Sam's peel"),
        "Only the clinic's owner and admins can send course files.",
    )
    .await;
    upload(
        &app,
        &stranger(),
        "chemical-peel.toml",
        &exported,
        "Course files are for a clinic's owner and admins.",
    )
    .await;
    says(
        &app,
        &stranger(),
        "/course export chemical-peel",
        "This command is for clinic staff only.",
    )
    .await;

    // Another clinic's owner: Glow's course does not exist for them; their file makes
    // a course of their own clinic, and Glow's stays as it was.
    app.clinic_with_owner(&other_owner(), "Other Clinic", "Europe/Berlin")
        .await;
    says(
        &app,
        &other_owner(),
        "/course export chemical-peel",
        "There is no course",
    )
    .await;
    let theirs = preview(
        &app,
        &other_owner(),
        "chemical-peel.toml",
        &exported.replace("after = \"1d\"", "after = \"2d\""),
    )
    .await;
    assert!(
        theirs.plain_text().contains("a new course"),
        "{}",
        theirs.text
    );
    // Olga's Save button is hers alone: a press by Otto (as a forged press would) saves
    // nothing.
    let mine = preview(
        &app,
        &owner(),
        "chemical-peel.toml",
        &exported.replace("after = \"1d\"", "after = \"3d\""),
    )
    .await;
    app.tg
        .press_button(&other_owner(), mine.message_id, &button(&mine, "Save"));
    app.tg
        .wait_for(
            other_owner().id,
            |m| m.plain_text().contains("no longer active"),
            WAIT,
        )
        .await;
    assert_eq!(app.count(VERSIONS).await, 1);
    press(
        &app,
        &other_owner(),
        &theirs,
        "Save",
        "Saved: the new course",
    )
    .await;
    assert_eq!(app.count(COURSES).await, 2);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM course_versions v JOIN courses c ON c.id = v.course_id
             WHERE c.clinic_id = 1"
        )
        .await,
        1
    );
    let glow_body: String = sqlx::query_scalar(
        "SELECT v.body FROM course_versions v JOIN courses c ON c.id = v.course_id
         WHERE c.clinic_id = 1",
    )
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert_eq!(glow_body, exported);
    app.stop().await;
}

#[tokio::test]
async fn save_counts_once_and_a_stale_expired_or_superseded_preview_saves_nothing() {
    let app = TestApp::start().await;
    glow(&app).await;
    peel_copy(&app).await;
    let (_, exported) = export(&app, &owner(), "peel").await;
    let two_days = exported.replacen("after = \"1d\"", "after = \"2d\"", 1);

    // Save twice: one version, and the second press says it was saved already.
    let shown = preview(&app, &owner(), "chemical-peel.toml", &two_days).await;
    press(&app, &owner(), &shown, "Save", "is now version 2").await;
    app.tg
        .press_button(&owner(), shown.message_id, &button(&shown, "Save"));
    app.tg
        .wait_for(
            owner().id,
            |m| {
                m.plain_text()
                    .contains("saved already, as version 2 of chemical-peel. Nothing more changed.")
            },
            WAIT,
        )
        .await;
    assert_eq!(app.count(VERSIONS).await, 2);

    // A preview whose course changed meanwhile (a /course change) saves nothing.
    let three_days = exported.replacen("after = \"1d\"", "after = \"3d\"", 1);
    let shown = preview(&app, &owner(), "chemical-peel.toml", &three_days).await;
    says(&app, &owner(), "/course gap peel 2w", "(version 3)").await;
    press(
        &app,
        &owner(),
        &shown,
        "Save",
        "changed since this preview (version 3 is in force now), so nothing was saved",
    )
    .await;
    assert_eq!(app.count(VERSIONS).await, 3);

    // A newer file replaces an unsaved one: the older preview's Save is no longer active.
    let older = preview(&app, &owner(), "chemical-peel.toml", &three_days).await;
    let newer = preview(&app, &owner(), "chemical-peel.toml", &exported).await;
    assert!(
        newer
            .plain_text()
            .contains("Your earlier file, not saved, is discarded."),
        "{}",
        newer.text
    );
    press(&app, &owner(), &older, "Save", "no longer active").await;
    // Cancel drops it; Save after Cancel saves nothing.
    press(
        &app,
        &owner(),
        &newer,
        "Cancel",
        "Cancelled. Nothing changed.",
    )
    .await;
    press(&app, &owner(), &newer, "Save", "no longer active").await;
    assert_eq!(app.count(VERSIONS).await, 3);

    // A preview survives a restart, but not a day.
    let waiting = preview(&app, &owner(), "chemical-peel.toml", &three_days).await;
    let app = app.restart().await;
    app.clock.advance(chrono::Duration::hours(25));
    press(&app, &owner(), &waiting, "Save", "more than 24 hours old").await;
    assert_eq!(app.count(VERSIONS).await, 3);
    let fresh = preview(&app, &owner(), "chemical-peel.toml", &three_days).await;
    let app = app.restart().await;
    press(&app, &owner(), &fresh, "Save", "is now version 4").await;
    assert_eq!(app.count(VERSIONS).await, 4);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit WHERE action = 'course.change'")
            .await,
        3
    );
    app.stop().await;
}

#[tokio::test]
async fn documents_that_are_not_course_files_are_refused_before_anything_is_read() {
    let app = TestApp::start().await;
    glow(&app).await;
    upload(
        &app,
        &owner(),
        "prices.pdf",
        "%PDF-1.4",
        "I take course files as .toml documents",
    )
    .await;
    let big = format!("name = \"Big\"\n# {}\n", "x".repeat(300 * 1024));
    upload(
        &app,
        &owner(),
        "big.toml",
        &big,
        "big.toml (301 KB) is too big: a course file is at most 256 KB. Nothing changed.",
    )
    .await;
    assert_eq!(app.tg.requests("getFile"), 0);
    app.tg.send_document(
        &owner(),
        "latin1.toml",
        b"name = \"Peeling f\xFCr alle\"\n".to_vec(),
        None,
    );
    app.tg
        .wait_for(
            owner().id,
            |m| m.plain_text().contains("not UTF-8 text (line 1)"),
            WAIT,
        )
        .await;
    // Telegram's file server has a bad moment: send it again, and it works.
    app.tg.fail_downloads(1);
    upload(
        &app,
        &owner(),
        "laser.toml",
        LASER,
        "I could not fetch the file from Telegram. Please send it again; nothing changed.",
    )
    .await;
    preview(&app, &owner(), "laser.toml", LASER).await;
    // The plan that comes with the bot is not a clinic's file to replace.
    upload(
        &app,
        &owner(),
        "microneedling.toml",
        LASER,
        "comes with the bot",
    )
    .await;
    assert_eq!(app.count(COURSES).await, 0);
    app.stop().await;
}
