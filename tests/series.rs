//! A series of sessions: /done starts the course again over the same chat, /series shows
//! "session 2 of 3", and the book-next step lets the patient ask to be contacted.

mod support;

use support::people::{anna, berlin, owner};

use support::app::{QUIET, TestApp, WAIT, eventually};

#[tokio::test]
async fn done_restarts_the_course_in_the_same_chat_showing_session_2_of_3() {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    app.owner_says("/series #1 3", "Anna Berg (#1): session 1 of 3")
        .await;

    // Session 1's check-in, answered.
    app.clock.set(berlin("2026-11-26 10:00"));
    let checkin = app
        .tg
        .wait_for(anna().id, |m| !m.buttons().is_empty(), WAIT)
        .await;
    assert!(checkin.plain_text().starts_with("Session 1 of 3"));
    app.tg
        .press_button(&anna(), checkin.message_id, &checkin.button_data()[0]);
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("good to hear"), WAIT)
        .await;

    app.clock.set(berlin("2026-12-22 11:00"));
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("book your next"),
            WAIT,
        )
        .await;
    app.owner_says(
        "/done #1",
        "Anna Berg (#1): session 2 of 3 on Tue 22 Dec, 11:00",
    )
    .await;
    let first = app
        .tg
        .wait_for(anna().id, |m| m.plain_text().contains("mild sunburn"), WAIT)
        .await;
    assert!(
        first.plain_text().starts_with("Session 2 of 3"),
        "{}",
        first.plain_text()
    );
    // No new link: the staff member got no QR code.
    assert!(
        !app.tg
            .sent_to(owner().id)
            .iter()
            .any(|m| m.method == "sendPhoto" && m.plain_text().contains("session 2"))
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM links").await, 2);

    // Session 2's check-in can be answered although session 1's was.
    app.clock.set(berlin("2026-12-25 10:00"));
    let checkin = app
        .tg
        .wait_for(anna().id, |m| !m.buttons().is_empty(), WAIT)
        .await;
    assert!(checkin.plain_text().starts_with("Session 2 of 3"));
    app.tg
        .press_button(&anna(), checkin.message_id, &checkin.button_data()[0]);
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("good to hear"), WAIT)
        .await;
    app.stop().await;
}

#[tokio::test]
async fn please_contact_me_to_book_alerts_the_staff_once() {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    app.clock.set(berlin("2026-12-21 10:00"));
    let book_next = app
        .tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("book your next"),
            WAIT,
        )
        .await;
    assert_eq!(book_next.buttons()[0].0, "Please contact me to book");
    let data = book_next.button_data()[0].clone();
    app.tg.press_button(&anna(), book_next.message_id, &data);
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("will contact you to book"),
            WAIT,
        )
        .await;
    let alert = app
        .tg
        .wait_for(
            owner().id,
            |m| m.plain_text().contains("contacted to book"),
            WAIT,
        )
        .await;
    assert!(alert.plain_text().contains("Anna Berg"));
    app.tg.press_button(&anna(), book_next.message_id, &data);
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("already asked"),
            WAIT,
        )
        .await;
    app.tg.assert_nothing_sent_to(owner().id, QUIET).await;
    eventually("one alert only", || async {
        app.count("SELECT COUNT(*) FROM alerts").await == 1
    })
    .await;
    app.stop().await;
}

#[tokio::test]
async fn done_and_series_refuse_what_they_cannot_do() {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    app.enroll(&owner(), "Ben Kurz").await;
    app.owner_says("/done #2", "(status: link not opened)")
        .await;
    app.owner_says("/done #99", "No patient of your clinic")
        .await;
    app.owner_says("/series #1 0", "1 to 20 sessions").await;
    app.owner_says("/series #1", "Please write: /series").await;
    app.owner_says("/done", "/done").await;
    app.tg.assert_nothing_sent_to(anna().id, QUIET).await;
    app.stop().await;
}

#[tokio::test]
async fn enrolling_a_linked_patient_again_points_to_done() {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    app.tg.send_text(&owner(), "/enroll anna berg");
    let m = app
        .tg
        .wait_for(owner().id, |m| m.plain_text().contains("?start="), WAIT)
        .await;
    assert!(
        m.plain_text()
            .contains("Anna Berg (#1) is already linked. If this is the same person back for their next session, use /enroll #1 (or /done #1) instead"),
        "{}",
        m.plain_text()
    );
    // Enrolling by number is the patient's next session, over the same chat (today is
    // inside microneedling's healing gap: confirmed with the button).
    app.tg.send_text(&owner(), "/enroll #1");
    let ask = app
        .tg
        .wait_for(
            owner().id,
            |m| m.plain_text().contains("inside the healing gap"),
            WAIT,
        )
        .await;
    app.tg
        .press_button(&owner(), ask.message_id, &ask.button_data()[0]);
    app.tg
        .wait_for(
            owner().id,
            |m| {
                m.plain_text()
                    .contains("starts again from it, in the same chat")
            },
            WAIT,
        )
        .await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM links WHERE patient_id = 1")
            .await,
        1,
        "no new link for #1"
    );
    app.stop().await;
}

#[tokio::test]
async fn done_past_the_last_session_or_before_the_current_one_is_refused_with_the_reason() {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    // Anna's session was Mon 23 Nov, 14:00 (Berlin): a /done dated before it would restart
    // the course in the past and send every step since at once.
    app.owner_says(
        "/done #1 2026-11-20 10:00",
        "before Anna Berg's current session (Mon 23 Nov, 14:00)",
    )
    .await;
    app.owner_says("/series #1 2", "Anna Berg (#1): session 1 of 2")
        .await;
    // Today is inside microneedling's healing gap: confirmed with the button.
    app.tg.send_text(&owner(), "/done #1");
    let ask = app
        .tg
        .wait_for(
            owner().id,
            |m| m.plain_text().contains("inside the healing gap"),
            WAIT,
        )
        .await;
    app.tg
        .press_button(&owner(), ask.message_id, &ask.button_data()[0]);
    app.tg
        .wait_for(
            owner().id,
            |m| m.plain_text().contains("Anna Berg (#1): session 2"),
            WAIT,
        )
        .await;
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text().starts_with("Session 2 of 2"),
            WAIT,
        )
        .await;
    let refused = app
        .owner_says("/done #1", "has had all 2 sessions of their series")
        .await;
    assert!(
        refused.plain_text().contains("/series #1 3"),
        "{}",
        refused.plain_text()
    );
    eventually("still session 2 of 2", || async {
        app.count("SELECT session_no FROM series WHERE patient_id = 1")
            .await
            == 2
    })
    .await;
    app.tg.skip_sent(anna().id);
    app.tg.assert_nothing_sent_to(anna().id, QUIET).await;
    app.stop().await;
}
