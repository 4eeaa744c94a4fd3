//! End to end: photo check-ins. A clinic adds a photo step to its own course; the
//! patient's photo in answer reaches the staff with the day of the course, `/photos`
//! gives it back in order as albums, only to that clinic's staff, and erasure removes
//! what was kept.

mod support;

use std::sync::Arc;
use std::time::Duration;

use aftercare::clock::{Clock, ManualClock};
use aftercare::outbox::{AlbumPhoto, Delivery, Lane, Outbox, Outgoing};
use support::app::{QUIET, TestApp, WAIT, eventually, fast_limits, open_store, start_time};
use support::chat::says;
use support::fake_telegram::{FakeTelegram, Fault, SentMessage, TestUser};
use support::people::{anna, berlin, other_owner, owner, sam};

fn bea() -> TestUser {
    TestUser::new(2002, "Bea")
}

/// What the bot writes under every photo request.
const PROMISE: &str = "It's optional, and only the staff of Glow Clinic will see it.";

/// The file id the stand-in gives the largest size of a person's photo message.
fn file_id_of(message_id: i32) -> String {
    format!("user{message_id}-m")
}

async fn bea_id(app: &TestApp) -> i64 {
    app.count("SELECT id FROM patients WHERE name = 'Bea Stone'")
        .await
}

async fn photos_kept(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM patient_photos").await
}

/// Glow Clinic with Anna (default course) and Sam on the staff; Olga makes "Laser care"
/// from microneedling with a photo request on day 3 at 11:00, enrolls Bea into it, and
/// the clock goes to day 3, 11:00. Returns Bea's photo request as she received it.
async fn bea_asked_for_a_photo(app: &TestApp) -> SentMessage {
    let clinic = app.glow_with_anna().await;
    app.add_staff(clinic, &sam()).await;
    says(
        app,
        &owner(),
        "/course new \"Laser care\" from microneedling",
        "created with 9 steps",
    )
    .await;
    says(
        app,
        &owner(),
        "/course step laser add photo-day3 3d at 11:00 expires 1d photo",
        "has a new step",
    )
    .await;
    app.save_text(
        &owner(),
        "course.laser-care.photo-day3",
        "How is your skin healing, {first_name}? We'd love to see it.",
    )
    .await;
    let shown = says(app, &owner(), "/course laser", "Laser care").await;
    assert!(
        shown
            .plain_text()
            .contains("photo-day3 · 3d at 11:00 (expires 1d) · 📷 photo"),
        "{}",
        shown.plain_text()
    );
    let payload = app.enroll(&owner(), "Bea Stone laser 14:00").await;
    app.tg.send_text(&bea(), &format!("/start {payload}"));
    app.tg
        .wait_for(bea().id, |m| m.plain_text().contains("mild sunburn"), WAIT)
        .await;
    app.tg.skip_sent(owner().id);
    app.tg.skip_sent(sam().id);
    app.clock.set(berlin("2026-11-26 11:00"));
    let request = app
        .tg
        .wait_for(bea().id, |m| m.plain_text().contains(PROMISE), WAIT)
        .await;
    assert_eq!(
        request.plain_text(),
        format!(
            "How is your skin healing, Bea? We'd love to see it.\n\n📷 If you like, reply to this message with a photo of the treated area. {PROMISE}"
        )
    );
    assert!(request.button_data().is_empty());
    // A person answers after reading it; by then the bot has written down the message id
    // (under load the test's photo could otherwise overtake that write).
    eventually("the photo request is recorded as sent", || async {
        app.count(
            "SELECT COUNT(*) FROM reminders WHERE step_id = 'photo-day3' AND status = 'sent'
               AND telegram_message_id IS NOT NULL",
        )
        .await
            == 1
    })
    .await;
    request
}

/// Waits for `staff`'s copy of the photo check-in carrying `file_id`.
async fn staff_copy(app: &TestApp, staff: &TestUser, file_id: &str) -> SentMessage {
    app.tg
        .wait_for(
            staff.id,
            |m| m.method == "sendPhoto" && m.photo_file_id.as_deref() == Some(file_id),
            WAIT,
        )
        .await
}

#[tokio::test]
async fn a_photo_in_answer_reaches_staff_with_its_day_and_photos_sends_all_back_in_order_as_albums()
{
    let app = TestApp::start().await;
    let request = bea_asked_for_a_photo(&app).await;
    let id = bea_id(&app).await;

    // Bea answers the request with a photo (a reply to it), with a few words.
    let sent = app
        .tg
        .send_photo_reply(&bea(), Some("a bit red still"), request.message_id);
    app.tg
        .wait_for(
            bea().id,
            |m| m.plain_text() == "Thank you for the photo! It's with the team at Glow Clinic now.",
            WAIT,
        )
        .await;
    let mut olga_copy = None;
    for staff in [owner(), sam()] {
        let copy = staff_copy(&app, &staff, &file_id_of(sent)).await;
        let caption = copy.plain_text();
        assert!(
            caption.starts_with(&format!(
                "📷 Day 3 photo check-in · Bea Stone (patient #{id})\na bit red still\n"
            )),
            "{caption}"
        );
        assert!(caption.contains(&format!("/photos #{id}")), "{caption}");
        olga_copy.get_or_insert(copy.message_id);
    }
    // Only Telegram's ids are kept, with the request, the day and the time.
    let (step, day, file_id, unique, at): (String, i64, String, String, i64) = sqlx::query_as(
        "SELECT step_id, course_day, file_id, file_unique_id, received_at FROM patient_photos",
    )
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert_eq!(
        (step.as_str(), day, file_id.as_str(), unique.as_str()),
        (
            "photo-day3",
            3,
            file_id_of(sent).as_str(),
            format!("user{sent}m").as_str()
        )
    );
    assert_eq!(at, berlin("2026-11-26 11:00").timestamp_millis());

    // Olga answers the staff copy by replying: it reaches Bea, as any relayed message.
    app.tg
        .send_reply(&owner(), "Healing nicely, thank you!", olga_copy.unwrap());
    app.tg
        .wait_for(
            bea().id,
            |m| m.plain_text().contains("Healing nicely, thank you!"),
            WAIT,
        )
        .await;

    // Next morning (day 4), without replying: eleven more within 48 hours of the
    // request, a minute apart. Staff get each; Bea is thanked once for the burst.
    let mut expected = vec![file_id_of(sent)];
    for i in 0..11 {
        app.clock
            .set(berlin("2026-11-27 09:00") + chrono::Duration::minutes(i));
        let m = app.tg.send_photo(&bea(), None);
        let copy = staff_copy(&app, &owner(), &file_id_of(m)).await;
        assert!(
            copy.plain_text().starts_with("📷 Day 4 photo check-in · "),
            "{}",
            copy.plain_text()
        );
        expected.push(file_id_of(m));
    }
    eventually("twelve photos are kept", || async {
        photos_kept(&app).await == 12
    })
    .await;
    app.tg.assert_nothing_sent_to(owner().id, QUIET).await;
    let thanks = app
        .tg
        .sent_to(bea().id)
        .iter()
        .filter(|m| m.plain_text().starts_with("Thank you for the photo"))
        .count();
    assert_eq!(thanks, 2, "one for the reply, one for the morning's burst");

    // Bea and the clinic see how many are held.
    says(&app, &bea(), "/mydata", "Photos you sent for check-ins: 12").await;
    says(
        &app,
        &owner(),
        &format!("/patient #{id}"),
        &format!("Photos from check-ins: 12 (/photos #{id})"),
    )
    .await;

    // /photos: a heading, then the twelve in order as two albums of six.
    eventually("Sam has every staff copy", || async {
        app.tg
            .sent_to(sam().id)
            .iter()
            .filter(|m| m.method == "sendPhoto")
            .count()
            == 12
    })
    .await;
    app.tg.skip_sent(sam().id);
    says(
        &app,
        &sam(),
        &format!("/photos #{id}"),
        &format!("Bea Stone (#{id}): 12 photos from photo check-ins, oldest first."),
    )
    .await;
    let album = app.tg.wait_for_count(sam().id, 12, WAIT).await;
    assert!(album.iter().all(|m| m.method == "sendMediaGroup"));
    let files: Vec<String> = album
        .iter()
        .map(|m| m.photo_file_id.clone().unwrap())
        .collect();
    assert_eq!(files, expected);
    let groups: Vec<String> = album
        .iter()
        .map(|m| m.media_group_id.clone().unwrap())
        .collect();
    assert!(groups[..6].iter().all(|g| *g == groups[0]));
    assert!(groups[6..].iter().all(|g| *g == groups[6]));
    assert_ne!(groups[0], groups[6]);
    assert_eq!(
        album[0].plain_text(),
        format!("#{id} · Day 3 · Thu 26 Nov, 11:00")
    );
    assert_eq!(
        album[11].plain_text(),
        format!("#{id} · Day 4 · Fri 27 Nov, 09:10")
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit WHERE action = 'photos.view' AND actor = 1002")
            .await,
        1
    );
    app.stop().await;
}

#[tokio::test]
async fn staff_of_another_clinic_get_the_answer_for_an_unknown_patient() {
    let app = TestApp::start().await;
    let request = bea_asked_for_a_photo(&app).await;
    let id = bea_id(&app).await;
    let sent = app.tg.send_photo_reply(&bea(), None, request.message_id);
    staff_copy(&app, &owner(), &file_id_of(sent)).await;

    app.clinic_with_owner(&other_owner(), "Other Clinic", "Europe/Berlin")
        .await;
    let theirs = says(&app, &other_owner(), &format!("/photos #{id}"), "patient").await;
    let unknown = says(&app, &other_owner(), "/photos #999", "patient").await;
    assert_eq!(theirs.text, unknown.text);
    assert_eq!(
        theirs.plain_text(),
        "No patient of your clinic matches that. /patients lists them with their numbers."
    );
    let by_name = says(&app, &other_owner(), "/photos Bea", "patient").await;
    assert_eq!(by_name.text, unknown.text);
    app.tg.assert_nothing_sent_to(other_owner().id, QUIET).await;
    assert!(
        app.tg
            .sent_to(other_owner().id)
            .iter()
            .all(|m| m.method == "sendMessage")
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit WHERE action = 'photos.view'")
            .await,
        0
    );
    // Her own clinic's staff get it, as a single photo (an album needs two).
    says(&app, &owner(), &format!("/photos #{id}"), "1 photo from").await;
    let one = app
        .tg
        .wait_for(owner().id, |m| m.method == "sendPhoto", WAIT)
        .await;
    assert_eq!(one.photo_file_id, Some(file_id_of(sent)));
    app.stop().await;
}

#[tokio::test]
async fn erasure_removes_the_photo_ids_and_photos_then_says_the_record_is_erased() {
    let app = TestApp::start().await;
    let request = bea_asked_for_a_photo(&app).await;
    let id = bea_id(&app).await;
    let sent = app.tg.send_photo_reply(&bea(), None, request.message_id);
    let copy = staff_copy(&app, &owner(), &file_id_of(sent)).await;
    assert_eq!(photos_kept(&app).await, 1);

    app.tg.send_text(&bea(), "/delete");
    let confirm = app
        .tg
        .wait_for(
            bea().id,
            |m| m.plain_text().contains("cannot be undone"),
            WAIT,
        )
        .await;
    let data = confirm.button_data()[0].clone();
    app.tg.press_button(&bea(), confirm.message_id, &data);
    app.tg
        .wait_for(
            bea().id,
            |m| m.plain_text().contains("data is erased"),
            WAIT,
        )
        .await;
    assert_eq!(photos_kept(&app).await, 0);
    // The staff copy loses the name, like every relayed photo of an erased patient.
    let edited = app
        .tg
        .wait_for(
            owner().id,
            |m| m.method == "editMessageCaption" && m.message_id == copy.message_id,
            WAIT,
        )
        .await;
    assert_eq!(
        edited.plain_text(),
        format!("📷 A photo from an erased patient (#{id}).")
    );
    let answer = says(&app, &owner(), &format!("/photos #{id}"), "erased").await;
    assert!(
        answer.plain_text().starts_with(&format!(
            "Patient #{id} was erased at the patient's request on"
        )),
        "{}",
        answer.plain_text()
    );
    app.tg.assert_nothing_sent_to(owner().id, QUIET).await;
    app.stop().await;
}

#[tokio::test]
async fn a_photo_that_answers_no_photo_request_is_only_relayed() {
    let app = TestApp::start().await;
    let _request = bea_asked_for_a_photo(&app).await;

    // Anna's course asks for no photo: hers goes to staff as any message.
    let m = app.tg.send_photo(&anna(), None);
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("reached Glow Clinic"),
            WAIT,
        )
        .await;
    let copy = staff_copy(&app, &owner(), &file_id_of(m)).await;
    assert_eq!(
        copy.plain_text(),
        "📷 Anna Berg (patient #1) sent a photo.\nReply to this message to answer."
    );
    // Bea, three days after her request, without replying to it: relayed, not kept.
    app.clock.set(berlin("2026-11-29 12:00"));
    let late = app.tg.send_photo(&bea(), Some("new spot?"));
    app.tg
        .wait_for(
            bea().id,
            |m| m.plain_text().contains("reached Glow Clinic"),
            WAIT,
        )
        .await;
    let copy = staff_copy(&app, &owner(), &file_id_of(late)).await;
    assert!(
        copy.plain_text()
            .contains("Bea Stone (patient #2) sent a photo:\nnew spot?"),
        "{}",
        copy.plain_text()
    );
    assert!(
        !app.tg
            .sent_to(bea().id)
            .iter()
            .any(|m| m.plain_text().starts_with("Thank you for the photo"))
    );
    assert_eq!(photos_kept(&app).await, 0);
    says(
        &app,
        &owner(),
        "/photos #2",
        "has sent no photos for photo check-ins",
    )
    .await;
    app.stop().await;
}

/// The outbox sends an album like any message: a 429 is waited out and the album sent
/// again whole; its receipt names the album's first message.
#[tokio::test]
async fn an_album_meeting_a_429_is_sent_again_whole() {
    let tg = FakeTelegram::start().await;
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(&support::app::db_url(&dir)).await;
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(start_time()));
    let (_stop, shutdown) = tokio::sync::watch::channel(false);
    let outbox = Outbox::new(tg.bot(), store, clock, fast_limits(), shutdown);
    let olga = owner();
    let photos: Vec<AlbumPhoto> = (0..3)
        .map(|i| AlbumPhoto {
            file_id: file_id_of(tg.send_photo(&olga, None)),
            caption: format!("<b>photo {i}</b>"),
        })
        .collect();
    let expected: Vec<String> = photos.iter().map(|p| p.file_id.clone()).collect();
    tg.push_fault(Fault::RetryAfter(1));
    let mut sends = Outgoing::albums(olga.id, Lane::Message, photos);
    assert_eq!(sends.len(), 1);
    let receipt = outbox.send(sends.remove(0));
    let delivery = tokio::time::timeout(Duration::from_secs(10), receipt.delivery())
        .await
        .unwrap();
    let album = tg.wait_for_count(olga.id, 3, WAIT).await;
    assert_eq!(
        delivery,
        Delivery::Sent {
            message_id: album[0].message_id
        }
    );
    let files: Vec<String> = album
        .iter()
        .map(|m| m.photo_file_id.clone().unwrap())
        .collect();
    assert_eq!(files, expected);
    assert_eq!(album[2].plain_text(), "photo 2");
    assert_eq!(tg.count_429(), 1);
    assert_eq!(tg.requests("sendMediaGroup"), 2);
}
