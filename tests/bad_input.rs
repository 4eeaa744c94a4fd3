//! Bad input gets a clear answer and changes nothing.

mod support;

use support::people::owner;

use chrono::Duration;
use support::app::{QUIET, TestApp, WAIT, eventually};
use support::fake_telegram::TestUser;

#[tokio::test]
async fn strangers_cannot_enroll_and_get_told_why() {
    let app = TestApp::start().await;
    app.clinic_with_owner(&owner(), "Glow Clinic", "Europe/Berlin")
        .await;
    let stranger = TestUser::new(3001, "Mallory");
    app.tg.send_text(&stranger, "/enroll Eve");
    app.tg
        .wait_for(
            stranger.id,
            |m| m.plain_text().contains("Only clinic staff"),
            WAIT,
        )
        .await;
    app.tg.send_text(&stranger, "/patients");
    app.tg
        .wait_for(
            stranger.id,
            |m| m.plain_text().contains("Only clinic staff"),
            WAIT,
        )
        .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM patients").await, 0);
    app.tg.send_text(&stranger, "hello?");
    app.tg
        .wait_for(
            stranger.id,
            |m| m.plain_text().contains("open the link"),
            WAIT,
        )
        .await;
    app.stop().await;
}

#[tokio::test]
async fn malformed_enroll_commands_are_explained() {
    let app = TestApp::start().await;
    app.clinic_with_owner(&owner(), "Glow Clinic", "Europe/Berlin")
        .await;
    for (args, answer) in [
        ("", "add the patient's name"),
        ("14:30", "add the patient's name"),
        ("Anna 2026-02-30 10:00", "is not a date"),
        ("Anna 2026-12-24 10:00", "later than now"),
        ("Anna 2020-01-01 10:00", "30 days ago"),
    ] {
        app.tg.send_text(&owner(), &format!("/enroll {args}"));
        app.tg
            .wait_for(owner().id, |m| m.plain_text().contains(answer), WAIT)
            .await;
    }
    let long = "A".repeat(500);
    app.tg.send_text(&owner(), &format!("/enroll {long}"));
    app.tg
        .wait_for(owner().id, |m| m.plain_text().contains("too long"), WAIT)
        .await;
    app.tg.send_text(&owner(), "/frobnicate");
    app.tg
        .wait_for(owner().id, |m| m.plain_text().contains("/help"), WAIT)
        .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM patients").await, 0);
    assert!(
        app.tg.rejected().is_empty(),
        "Telegram refused something: {:?}",
        app.tg.rejected()
    );
    app.stop().await;
}

#[tokio::test]
async fn a_time_or_date_staff_type_is_read_or_refused_never_taken_into_the_name() {
    let app = TestApp::start().await;
    app.clinic_with_owner(&owner(), "Glow Clinic", "Europe/Berlin")
        .await;
    // It is Monday 23 November 2026, 14:00 in Berlin.
    for (args, answer) in [
        ("Eve 25:00", "25:00 is not a time: hours go from 00 to 23."),
        (
            "Eve 30.02. 10:00",
            "30.02. is not a date: February has no day 30.",
        ),
        (
            "Eve yesterday",
            "Please add the session time after yesterday",
        ),
        (
            "Eve 14:30 Berg",
            "14:30 looks like a time or date inside the name",
        ),
        (
            "Eve 23:30",
            "The session time 23:30 today is later than now (14:00); enroll after the session. Did you mean yesterday 23:30?",
        ),
        ("Eve 30.11.2026 10:00", "later than now"),
    ] {
        app.tg.send_text(&owner(), &format!("/enroll {args}"));
        let m = app
            .tg
            .wait_for(owner().id, |m| m.plain_text().contains(answer), WAIT)
            .await;
        assert!(!m.plain_text().contains('`'), "{}", m.plain_text());
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM patients").await, 0);

    for (args, session) in [
        ("Eve 10:30", "Mon 23 Nov, 10:30"),
        ("Eve 2026-11-20 10:00", "Fri 20 Nov, 10:00"),
        ("Eve 21.11.2026 09:15", "Sat 21 Nov, 09:15"),
        ("Eve 19.11. 16:45", "Thu 19 Nov, 16:45"),
        ("Eve yesterday 23:30", "Sun 22 Nov, 23:30"),
    ] {
        app.tg.send_text(&owner(), &format!("/enroll {args}"));
        app.tg
            .wait_for(
                owner().id,
                |m| {
                    let t = m.plain_text();
                    t.contains("Eve is enrolled") && t.contains(&format!("session {session}."))
                },
                WAIT,
            )
            .await;
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM patients WHERE name <> 'Eve'")
            .await,
        0
    );
    assert!(app.tg.rejected().is_empty(), "{:?}", app.tg.rejected());
    app.stop().await;
}

#[tokio::test]
async fn hostile_names_are_shown_exactly_as_typed() {
    let app = TestApp::start().await;
    app.clinic_with_owner(&owner(), "Glow & <Co>", "Europe/Berlin")
        .await;
    let name = "<b>Zoë</b> & \"Jo\" 🌸";
    let zoe = TestUser::new(2002, "Zoe");
    app.tg.send_text(&owner(), &format!("/enroll {name}"));
    let m = app
        .tg
        .wait_for(owner().id, |m| m.plain_text().contains("?start="), WAIT)
        .await;
    assert!(m.plain_text().contains(name), "{}", m.plain_text());
    let payload = support::app::payload_of(&m);
    app.tg.send_text(&zoe, &format!("/start {payload}"));
    let hello = app
        .tg
        .wait_for(zoe.id, |m| m.plain_text().contains("welcome"), WAIT)
        .await;
    // The first word of the name, exactly, and the clinic's name, exactly.
    assert!(
        hello.plain_text().contains("Hi <b>Zoë</b>,"),
        "{}",
        hello.plain_text()
    );
    assert!(
        hello.plain_text().contains("Glow & <Co>"),
        "{}",
        hello.plain_text()
    );
    app.tg.send_text(&owner(), "/patients");
    let list = app
        .tg
        .wait_for(owner().id, |m| m.plain_text().contains("Patients of"), WAIT)
        .await;
    assert!(list.plain_text().contains(name));
    assert!(
        app.tg.rejected().is_empty(),
        "Telegram refused something: {:?}",
        app.tg.rejected()
    );
    app.stop().await;
}

#[tokio::test]
async fn used_unknown_malformed_and_expired_links_link_nobody() {
    let app = TestApp::start().await;
    app.clinic_with_owner(&owner(), "Glow Clinic", "Europe/Berlin")
        .await;
    let anna = TestUser::new(2001, "Anna");
    let eve = TestUser::new(3001, "Eve");
    let payload = app.enroll(&owner(), "Anna Berg").await;
    app.tg.send_text(&anna, &format!("/start {payload}"));
    app.tg
        .wait_for(anna.id, |m| m.plain_text().contains("welcome"), WAIT)
        .await;

    // Reused by someone else.
    app.tg.send_text(&eve, &format!("/start {payload}"));
    app.tg
        .wait_for(
            eve.id,
            |m| m.plain_text().contains("already been used"),
            WAIT,
        )
        .await;
    // Reused by Anna herself.
    app.tg.send_text(&anna, &format!("/start {payload}"));
    app.tg
        .wait_for(anna.id, |m| m.plain_text().contains("all set"), WAIT)
        .await;
    // Unknown and malformed.
    app.tg.send_text(&eve, "/start AAAAAAAAAAAAAAAAAAAAAA");
    app.tg
        .wait_for(eve.id, |m| m.plain_text().contains("doesn't work"), WAIT)
        .await;
    app.tg.send_text(&eve, "/start <script>alert(1)</script>");
    app.tg
        .wait_for(eve.id, |m| m.plain_text().contains("doesn't work"), WAIT)
        .await;
    app.tg
        .send_text(&eve, &format!("/start {}", "x".repeat(300)));
    app.tg
        .wait_for(eve.id, |m| m.plain_text().contains("doesn't work"), WAIT)
        .await;

    // Expired: patient links live 14 days.
    let late = app.enroll(&owner(), "Ben Ode").await;
    app.clock.advance(Duration::days(15));
    app.tg.send_text(&eve, &format!("/start {late}"));
    app.tg
        .wait_for(eve.id, |m| m.plain_text().contains("expired"), WAIT)
        .await;

    let linked: i64 = app
        .count("SELECT COUNT(*) FROM patients WHERE chat_id IS NOT NULL")
        .await;
    assert_eq!(linked, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM patients WHERE chat_id = 3001")
            .await,
        0
    );
    app.stop().await;
}

#[tokio::test]
async fn staff_opening_a_patient_link_are_not_linked() {
    let app = TestApp::start().await;
    app.clinic_with_owner(&owner(), "Glow Clinic", "Europe/Berlin")
        .await;
    let payload = app.enroll(&owner(), "Anna Berg").await;
    app.tg.send_text(&owner(), &format!("/start {payload}"));
    app.tg
        .wait_for(
            owner().id,
            |m| m.plain_text().contains("patient's link"),
            WAIT,
        )
        .await;
    // The link is still good for the patient.
    let anna = TestUser::new(2001, "Anna");
    app.tg.send_text(&anna, &format!("/start {payload}"));
    app.tg
        .wait_for(anna.id, |m| m.plain_text().contains("welcome"), WAIT)
        .await;
    app.stop().await;
}

#[tokio::test]
async fn added_to_a_group_the_bot_says_once_it_works_in_private_chats_and_leaves() {
    let app = TestApp::start().await;
    app.clinic_with_owner(&owner(), "Glow Clinic", "Europe/Berlin")
        .await;
    app.tg.add_bot_to_group(&owner(), -5001);
    app.tg
        .wait_for(-5001, |m| m.plain_text().contains("private chats"), WAIT)
        .await;
    eventually("the bot left the group", || async {
        app.tg.left_chats() == [-5001]
    })
    .await;
    app.tg.assert_nothing_sent_to(-5001, QUIET).await;

    // A group it was added to before it left groups on its own: a message there gets
    // the same single line, and the bot leaves; nothing it was asked is done.
    app.tg.send_text_in_group(&owner(), -5003, "/enroll Anna");
    app.tg
        .wait_for(-5003, |m| m.plain_text().contains("private chats"), WAIT)
        .await;
    eventually("the bot left that group too", || async {
        app.tg.left_chats().contains(&-5003)
    })
    .await;
    app.tg.assert_nothing_sent_to(-5003, QUIET).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM patients").await, 0);
    app.stop().await;
}

#[tokio::test]
async fn patients_get_answers_in_their_language() {
    let app = TestApp::start().await;
    app.clinic_with_owner(&owner(), "Glow Clinic", "Europe/Berlin")
        .await;
    let payload = app.enroll(&owner(), "Lena Koch").await;
    let lena = TestUser::new(2003, "Lena").lang("de");
    app.tg.send_text(&lena, &format!("/start {payload}"));
    let hello = app
        .tg
        .wait_for(lena.id, |m| m.plain_text().contains("Lena"), WAIT)
        .await;
    assert!(
        hello.plain_text().contains("Willkommen") || hello.plain_text().contains("willkommen"),
        "{}",
        hello.plain_text()
    );
    app.tg
        .wait_for(lena.id, |m| m.plain_text().contains("Microneedling"), WAIT)
        .await;
    app.stop().await;
}

#[tokio::test]
async fn a_stale_button_press_is_answered_and_changes_nothing() {
    let app = TestApp::start().await;
    app.clinic_with_owner(&owner(), "Glow Clinic", "Europe/Berlin")
        .await;
    let m = app.tg.sent_to(owner().id).last().unwrap().message_id;
    app.tg.press_button(&owner(), m, "nonsense:42");
    support::app::eventually("the press is answered", || async {
        !app.tg.answered_callbacks().is_empty()
    })
    .await;
    let answers = app.tg.answered_callbacks();
    assert_eq!(
        answers[0].1.as_deref(),
        Some("This button is no longer active.")
    );
    app.stop().await;
}
