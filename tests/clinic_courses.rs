//! End to end: a clinic's own courses (treatments), made from Telegram, and patients
//! enrolled into them.

mod support;

use support::people::{anna, berlin, other_owner, owner, sam};

use support::app::{QUIET, TestApp, WAIT};
use support::chat::{button, says};
use support::fake_telegram::TestUser;

fn bea() -> TestUser {
    TestUser::new(2002, "Bea")
}

async fn plan_of(app: &TestApp, name: &str) -> String {
    sqlx::query_scalar("SELECT plan FROM patients WHERE name = ?")
        .bind(name)
        .fetch_one(app.store.pool())
        .await
        .unwrap()
}

/// Olga copies microneedling into "Chemical peel", drops one step, moves another and
/// gives it her own text.
async fn peel_course(app: &TestApp) {
    says(
        app,
        &owner(),
        "/course new \"Chemical peel\" from microneedling",
        "created with 9 steps",
    )
    .await;
    says(
        app,
        &owner(),
        "/course step peel remove sun-morning",
        "removed",
    )
    .await;
    says(
        app,
        &owner(),
        "/course step peel set hydrate-evening 0d at 20:00",
        "step hydrate-evening changed (version 3)",
    )
    .await;
    app.save_text(
        &owner(),
        "course.chemical-peel.hydrate-evening",
        "Peel evening: cool water only, {first_name}.",
    )
    .await;
}

#[tokio::test]
async fn a_copied_and_changed_course_reaches_its_patient_and_the_default_stays_as_it_was() {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    peel_course(&app).await;
    let shown = says(&app, &owner(), "/course peel", "Chemical peel").await;
    let shown = shown.plain_text();
    assert!(shown.contains("hydrate-evening · 0d at 20:00"), "{shown}");
    assert!(!shown.contains("sun-morning"), "{shown}");

    // Bea is enrolled into the peel by one word of its name.
    let payload = app.enroll(&owner(), "Bea Stone peel 14:00").await;
    assert_eq!(plan_of(&app, "Bea Stone").await, "course:chemical-peel");
    assert_eq!(plan_of(&app, "Anna Berg").await, "microneedling");
    app.tg.send_text(&bea(), &format!("/start {payload}"));
    app.tg
        .wait_for(bea().id, |m| m.plain_text().contains("welcome"), WAIT)
        .await;
    // Her first step is the copied one, safety lines filled in.
    let first = app
        .tg
        .wait_for(bea().id, |m| m.plain_text().contains("mild sunburn"), WAIT)
        .await;
    assert!(first.plain_text().contains("Glow Clinic"), "{}", first.text);
    app.tg.skip_sent(bea().id);
    app.tg.skip_sent(anna().id);

    // 19:00: Anna's evening message as before; nothing for Bea.
    app.clock.set(berlin("2026-11-23 19:00"));
    let evening = app
        .tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("Good evening!"),
            WAIT,
        )
        .await;
    assert!(evening.plain_text().contains("Drink plenty of water"));
    app.tg.assert_nothing_sent_to(bea().id, QUIET).await;
    // 20:00: Bea's moved step, with Olga's text; nothing more for Anna.
    app.clock.set(berlin("2026-11-23 20:00"));
    let peel = app
        .tg
        .wait_for(bea().id, |m| m.plain_text().contains("Peel evening"), WAIT)
        .await;
    assert_eq!(peel.plain_text(), "Peel evening: cool water only, Bea.");
    // Next morning: Anna's sun message; Bea's course has no such step.
    app.clock.set(berlin("2026-11-24 09:00"));
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("SPF 30"), WAIT)
        .await;
    app.tg.assert_nothing_sent_to(bea().id, QUIET).await;
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM reminders r JOIN patients p ON p.id = r.patient_id
             WHERE p.name = 'Bea Stone' AND r.step_id = 'sun-morning'"
        )
        .await,
        0
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM reminders r JOIN patients p ON p.id = r.patient_id
             WHERE p.name = 'Anna Berg' AND r.step_id = 'hydrate-evening'
               AND r.status = 'sent'"
        )
        .await,
        1
    );
    // Every change is in the audit, and /patient and /patients name the course.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit WHERE action LIKE 'course.%'")
            .await,
        3
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM course_versions").await, 3);
    let listed = says(&app, &owner(), "/patients", "Patients of").await;
    assert!(
        listed
            .plain_text()
            .contains("Bea Stone · active · Chemical peel"),
        "{}",
        listed.text
    );
    assert!(
        listed
            .plain_text()
            .contains("Anna Berg · active · Microneedling aftercare"),
        "{}",
        listed.text
    );
    says(
        &app,
        &owner(),
        "/patient Bea Stone",
        "Course: Chemical peel",
    )
    .await;
    // The course's own healing gap applies to Bea's bookings.
    says(
        &app,
        &owner(),
        "/course gap peel 2w",
        "asks for at least 2w between sessions",
    )
    .await;
    let ask = says(
        &app,
        &owner(),
        "/book Bea Stone 2026-12-03 10:30",
        "inside the healing gap",
    )
    .await;
    assert!(
        ask.plain_text()
            .contains("“Chemical peel” asks for at least 2w"),
        "{}",
        ask.text
    );
    says(
        &app,
        &owner(),
        "/book Bea Stone 2026-12-08 10:30",
        "Booked Bea Stone",
    )
    .await;
    // The course's check-in comes with its answer buttons.
    app.clock.set(berlin("2026-11-26 10:00"));
    let checkin = app
        .tg
        .wait_for(
            bea().id,
            |m| m.plain_text().contains("how is your skin feeling"),
            WAIT,
        )
        .await;
    assert_eq!(checkin.buttons()[0].0, "All good", "{checkin:?}");
    app.tg
        .press_button(&bea(), checkin.message_id, &checkin.button_data()[0]);
    app.tg
        .wait_for(bea().id, |m| m.plain_text().contains("good to hear"), WAIT)
        .await;
    app.stop().await;
}

#[tokio::test]
async fn staff_of_another_clinic_cannot_see_or_use_the_course() {
    let app = TestApp::start().await;
    app.clinic_with_owner(&owner(), "Glow Clinic", "Europe/Berlin")
        .await;
    peel_course(&app).await;
    app.clinic_with_owner(&other_owner(), "Other Clinic", "Europe/Berlin")
        .await;
    let listed = says(&app, &other_owner(), "/courses", "Courses at Other Clinic").await;
    assert!(!listed.plain_text().contains("peel"), "{}", listed.text);
    says(&app, &other_owner(), "/course peel", "There is no course").await;
    says(
        &app,
        &other_owner(),
        "/course step chemical-peel remove normal-now",
        "There is no course",
    )
    .await;
    says(
        &app,
        &other_owner(),
        "/edit course.chemical-peel.normal-now en",
        "There is no message",
    )
    .await;
    // "peel" is no course there: it stays part of the name, on the clinic's plan.
    app.enroll(&other_owner(), "Carl Doe peel 14:00").await;
    assert_eq!(plan_of(&app, "Carl Doe peel").await, "microneedling");
    // Nothing of Glow's course changed.
    assert_eq!(app.count("SELECT COUNT(*) FROM course_versions").await, 3);
    app.stop().await;
}

#[tokio::test]
async fn enrolling_without_a_course_offers_the_others_and_a_press_moves_the_patient() {
    let app = TestApp::start().await;
    let clinic = app
        .clinic_with_owner(&owner(), "Glow Clinic", "Europe/Berlin")
        .await;
    app.add_staff(clinic, &sam()).await;
    says(
        &app,
        &sam(),
        "/course new Laser",
        "Only the clinic's owner and admins",
    )
    .await;
    peel_course(&app).await;
    // An empty course takes nobody.
    says(&app, &owner(), "/course new Laser", "created with 0 steps").await;
    says(
        &app,
        &owner(),
        "/enroll Anna Berg laser 14:00",
        "has no steps yet",
    )
    .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM patients").await, 0);
    // A step without text keeps the course closed too.
    says(
        &app,
        &owner(),
        "/course step laser add cool-down 1d at 09:00 expires 12h checkin",
        "has a new step",
    )
    .await;
    says(&app, &owner(), "/course default laser", "is not ready").await;

    app.tg.send_text(&sam(), "/enroll Anna Berg 14:00");
    let pick = app
        .tg
        .wait_for(sam().id, |m| m.plain_text().contains("Course for #"), WAIT)
        .await;
    assert!(
        pick.plain_text().contains("Microneedling aftercare"),
        "{}",
        pick.text
    );
    assert_eq!(plan_of(&app, "Anna Berg").await, "microneedling");
    app.tg
        .press_button(&sam(), pick.message_id, &button(&pick, "Chemical peel"));
    app.tg
        .wait_for(
            sam().id,
            |m| m.plain_text().contains("is now on “Chemical peel”"),
            WAIT,
        )
        .await;
    assert_eq!(plan_of(&app, "Anna Berg").await, "course:chemical-peel");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit WHERE action = 'course.pick'")
            .await,
        1
    );

    // The peel becomes the default: the next patient gets it without a word.
    says(
        &app,
        &owner(),
        "/course default peel",
        "New patients get “Chemical peel”",
    )
    .await;
    let listed = says(&app, &owner(), "/courses", "Courses at").await;
    assert!(
        listed.plain_text().contains("⭐ chemical-peel"),
        "{}",
        listed.text
    );
    app.enroll(&owner(), "Bea Stone 14:00").await;
    assert_eq!(plan_of(&app, "Bea Stone").await, "course:chemical-peel");
    app.stop().await;
}

#[tokio::test]
async fn book_and_done_inside_the_healing_gap_ask_first_and_the_override_is_audited() {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    // Microneedling asks for 4 weeks (messages/plans/microneedling.toml): session on
    // Mon 23 Nov, so Mon 21 Dec is the first day.
    let ask = says(
        &app,
        &owner(),
        "/book #1 2026-12-10 10:30",
        "inside the healing gap",
    )
    .await;
    assert!(ask.plain_text().contains("at least 4w"), "{}", ask.text);
    assert!(ask.plain_text().contains("Mon 21 Dec 2026"), "{}", ask.text);
    assert_eq!(app.count("SELECT COUNT(*) FROM bookings").await, 0);
    app.tg
        .press_button(&owner(), ask.message_id, &button(&ask, "Book anyway"));
    app.tg
        .wait_for(
            owner().id,
            |m| {
                m.plain_text()
                    .contains("for Thu 10 Dec, 10:30, inside the healing gap")
            },
            WAIT,
        )
        .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM bookings").await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit WHERE action = 'gap.override'")
            .await,
        1
    );
    // Outside the gap: booked at once.
    says(
        &app,
        &owner(),
        "/book #1 2026-12-21 10:30",
        "Moved Anna Berg",
    )
    .await;

    // A session recorded today is inside the gap too. The answer reads as /done's own
    // (with the series' "of N"), and says it was inside the gap.
    says(&app, &owner(), "/series #1 3", "session 1 of 3").await;
    let ask = says(&app, &owner(), "/done #1", "inside the healing gap").await;
    let session_no = "SELECT session_no FROM series WHERE patient_id = 1";
    assert_eq!(app.count(session_no).await, 1);
    app.tg
        .press_button(&owner(), ask.message_id, &button(&ask, "Record anyway"));
    let recorded = app
        .tg
        .wait_for(owner().id, |m| m.plain_text().contains("session 2"), WAIT)
        .await;
    let recorded = recorded.plain_text();
    assert!(
        recorded.starts_with("Anna Berg (#1): session 2 of 3 on Mon 23 Nov, "),
        "{recorded}"
    );
    assert!(
        recorded.ends_with(
            ", inside the healing gap. The aftercare course starts again from it, in the \
             same chat."
        ),
        "{recorded}"
    );
    assert_eq!(app.count(session_no).await, 2);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit WHERE action = 'gap.override'")
            .await,
        2
    );
    app.stop().await;
}

/// Makes writing a `gap.override` row fail, as a full disk or a broken trail would at
/// the very end of the override's transaction. Other audit rows are still written.
async fn refuse_override_rows(app: &TestApp) {
    sqlx::query(
        "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit WHEN NEW.action = 'gap.override'
         BEGIN SELECT RAISE(ABORT, 'the audit trail refuses rows'); END",
    )
    .execute(app.store.pool())
    .await
    .unwrap();
}

/// Waits until a button press was answered with the apology.
async fn press_is_answered_with_the_apology(app: &TestApp) {
    support::app::eventually("the press is answered with the apology", || async {
        app.tg.answered_callbacks().iter().any(|(_, text)| {
            text.as_deref()
                .is_some_and(|t| t.contains("something went wrong on our side"))
        })
    })
    .await;
}

#[tokio::test]
async fn an_override_whose_audit_row_cannot_be_written_books_and_records_nothing() {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    // Only the override's row is refused: the booking's and the session's own rows could
    // be written, so what is undone is undone because the override is one with them.
    refuse_override_rows(&app).await;
    let pending = "SELECT COUNT(*) FROM reminders WHERE status = 'pending'";
    let before = app.count(pending).await;

    let ask = says(
        &app,
        &owner(),
        "/book #1 2026-12-10 10:30",
        "inside the healing gap",
    )
    .await;
    app.tg
        .press_button(&owner(), ask.message_id, &button(&ask, "Book anyway"));
    press_is_answered_with_the_apology(&app).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM bookings").await, 0);
    assert_eq!(
        app.count(pending).await,
        before,
        "booking messages were queued"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit WHERE action IN ('book', 'gap.override')")
            .await,
        0
    );

    let ask = says(&app, &owner(), "/done #1", "inside the healing gap").await;
    app.tg
        .press_button(&owner(), ask.message_id, &button(&ask, "Record anyway"));
    support::app::eventually("both presses are answered with the apology", || async {
        app.tg
            .answered_callbacks()
            .iter()
            .filter(|(_, text)| {
                text.as_deref()
                    .is_some_and(|t| t.contains("something went wrong on our side"))
            })
            .count()
            == 2
    })
    .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM series").await, 0);
    assert_eq!(app.count(pending).await, before, "the course was restarted");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit WHERE action IN ('done', 'gap.override')")
            .await,
        0
    );

    // With the trail writable again, the same press books, and the trail says so.
    sqlx::query("DROP TRIGGER refuse_audit")
        .execute(app.store.pool())
        .await
        .unwrap();
    let ask = says(
        &app,
        &owner(),
        "/book #1 2026-12-10 10:30",
        "inside the healing gap",
    )
    .await;
    app.tg
        .press_button(&owner(), ask.message_id, &button(&ask, "Book anyway"));
    app.tg
        .wait_for(
            owner().id,
            |m| {
                m.plain_text()
                    .contains("for Thu 10 Dec, 10:30, inside the healing gap")
            },
            WAIT,
        )
        .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM bookings").await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit WHERE action = 'gap.override'")
            .await,
        1
    );
    app.stop().await;
}

#[tokio::test]
async fn adjust_and_note_reach_only_that_patient_and_show_in_patient_and_schedule() {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    app.linked_patient(&owner(), &bea(), "Bea Stone 14:00")
        .await;
    app.tg
        .wait_for(bea().id, |m| m.plain_text().contains("mild sunburn"), WAIT)
        .await;
    // Anna: activities (day 1, 12:00) moved to day 3; sun-morning off; a note.
    says(
        &app,
        &owner(),
        "/adjust #1 activities 3d",
        "activities now goes out 3d after the session (Thu 26 Nov, 12:00)",
    )
    .await;
    says(
        &app,
        &owner(),
        "/adjust #1 sun-morning off",
        "sun-morning is switched off for them",
    )
    .await;
    says(&app, &owner(), "/adjust #1 sauna 3d", "has no step").await;
    says(&app, &owner(), "/adjust #1 activities soon", "/adjust #12").await;
    says(
        &app,
        &owner(),
        "/note #1 Avoid saunas for 72 hours this time.",
        "goes with their next message (hydrate-evening)",
    )
    .await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit WHERE action IN ('adjust', 'note')")
            .await,
        3
    );
    let shown = says(&app, &owner(), "/patient #1", "Adjusted for this patient").await;
    let shown = shown.plain_text();
    assert!(shown.contains("activities: 3d"), "{shown}");
    assert!(shown.contains("sun-morning: off"), "{shown}");
    assert!(
        shown.contains("note with hydrate-evening: Avoid saunas for 72 hours this time."),
        "{shown}"
    );
    // Anna sees the note in /schedule, and the moved step at its new time.
    app.tg.send_text(&anna(), "/schedule");
    let schedule = app
        .tg
        .wait_for(anna().id, |m| m.plain_text().contains("Avoid saunas"), WAIT)
        .await;
    let schedule = schedule.plain_text();
    assert!(schedule.contains("Thu 26 Nov, 12:00"), "{schedule}");
    assert!(
        !schedule.contains("Protect your skin from the sun"),
        "{schedule}"
    );

    // The evening message carries the note for Anna only.
    app.clock.set(berlin("2026-11-23 19:00"));
    let evening = app
        .tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("Good evening!"),
            WAIT,
        )
        .await;
    assert!(
        evening
            .plain_text()
            .ends_with("📝 Avoid saunas for 72 hours this time."),
        "{}",
        evening.text
    );
    let bea_evening = app
        .tg
        .wait_for(bea().id, |m| m.plain_text().contains("Good evening!"), WAIT)
        .await;
    assert!(!bea_evening.plain_text().contains("saunas"));
    // Next day: Bea gets the sun and activities messages; Anna neither.
    app.clock.set(berlin("2026-11-24 12:00"));
    app.tg
        .wait_for(bea().id, |m| m.plain_text().contains("SPF 30"), WAIT)
        .await;
    app.tg
        .wait_for(
            bea().id,
            |m| m.plain_text().contains("give your skin a break"),
            WAIT,
        )
        .await;
    app.tg.assert_nothing_sent_to(anna().id, QUIET).await;
    app.clock.set(berlin("2026-11-26 12:00"));
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("give your skin a break"),
            WAIT,
        )
        .await;

    // Erasure removes the note with the rest.
    app.tg.send_text(&anna(), "/delete");
    let confirm = app
        .tg
        .wait_for(anna().id, |m| !m.buttons().is_empty(), WAIT)
        .await;
    app.tg
        .press_button(&anna(), confirm.message_id, &confirm.button_data()[0]);
    support::app::eventually("Anna's adjustments are erased", || async {
        app.count("SELECT COUNT(*) FROM patient_adjustments WHERE patient_id = 1")
            .await
            == 0
    })
    .await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM patient_adjustments WHERE patient_id = 2")
            .await,
        0
    );
    app.stop().await;
}

/// A copy starts from what the clinic's patients get now: the texts the clinic changed
/// with /edit, not the default wording underneath, whether the copy is of a plan of the
/// messages folder or of the clinic's own course.
#[tokio::test]
async fn a_copy_takes_the_clinics_own_texts_not_the_default_wording() {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    app.save_text(
        &owner(),
        "step.hydrate-evening",
        "Glow evening: aloe gel and water only, {first_name}.",
    )
    .await;
    says(
        &app,
        &owner(),
        "/course new \"Chemical peel\" from microneedling",
        "created with 9 steps",
    )
    .await;
    // Bea on the copy gets the clinic's evening text, as Anna on microneedling does.
    let payload = app.enroll(&owner(), "Bea Stone peel 14:00").await;
    app.tg.send_text(&bea(), &format!("/start {payload}"));
    app.tg
        .wait_for(bea().id, |m| m.plain_text().contains("welcome"), WAIT)
        .await;
    app.clock.set(berlin("2026-11-23 19:00"));
    for (who, name) in [(anna(), "Anna"), (bea(), "Bea")] {
        let evening = app
            .tg
            .wait_for(who.id, |m| m.plain_text().contains("Glow evening"), WAIT)
            .await;
        assert_eq!(
            evening.plain_text(),
            format!("Glow evening: aloe gel and water only, {name}.")
        );
    }
    // German stays the default where the clinic changed only the English text.
    let body: String = sqlx::query_scalar(
        "SELECT v.body FROM course_versions v JOIN courses c ON c.id = v.course_id
         WHERE c.key = 'chemical-peel' ORDER BY v.version DESC LIMIT 1",
    )
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert!(body.contains("Glow evening"), "{body}");
    assert!(body.contains("Trinken Sie viel Wasser"), "{body}");

    // A copy of the clinic's own course takes its /edit texts too.
    app.save_text(
        &owner(),
        "course.chemical-peel.makeup-ok",
        "Peel: makeup again from today, {first_name}.",
    )
    .await;
    says(
        &app,
        &owner(),
        "/course new \"Light peel\" from chemical-peel",
        "created with 9 steps",
    )
    .await;
    let body: String = sqlx::query_scalar(
        "SELECT v.body FROM course_versions v JOIN courses c ON c.id = v.course_id
         WHERE c.key = 'light-peel'",
    )
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert!(body.contains("Peel: makeup again from today"), "{body}");
    app.stop().await;
}

/// `/book` and `/done` decide the healing gap in the transaction that writes, not in a
/// read before it: the services themselves refuse a date inside the gap unless staff
/// confirmed it, so what decides is what the write sees (a `/done` just committed by a
/// colleague moves the gap before this booking is judged).
#[tokio::test]
async fn the_booking_and_session_services_judge_the_gap_in_their_own_transaction() {
    use aftercare::clock::Clock;
    use aftercare::domain::booking::{BookArgs, PatientRef};
    use aftercare::service::booking::{BookOutcome, book};
    use aftercare::service::gap::GapOverride;
    use aftercare::service::series::{SeriesOutcome, next_session};

    let app = TestApp::start().await;
    app.glow_with_anna().await;
    let catalog = aftercare::app::load_catalog(&support::app::messages_dir()).unwrap();
    let (clinic, _) = app.store.memberships(owner().id).await.unwrap().remove(0);
    app.clock.set(berlin("2026-11-30 10:00"));
    let now = app.clock.now();
    let anna_ref = PatientRef::Id(1);
    // Anna's session was Mon 23 Nov at 14:00; microneedling asks for 4 weeks.
    let inside = BookArgs {
        patient: anna_ref.clone(),
        starts_at: berlin("2026-12-10 10:30"),
    };
    let outcome = book(
        &app.store,
        &catalog,
        &clinic,
        owner().id,
        &inside,
        GapOverride::No,
        now,
    )
    .await
    .unwrap();
    let BookOutcome::TooSoon(gap) = outcome else {
        panic!("booked inside the healing gap without a confirmation");
    };
    assert_eq!(gap.earliest, berlin("2026-12-21 00:00"));
    let outcome = next_session(
        &app.store,
        &catalog,
        &clinic,
        owner().id,
        &anna_ref,
        now,
        GapOverride::No,
        now,
    )
    .await
    .unwrap();
    assert!(
        matches!(outcome, SeriesOutcome::TooSoon(_)),
        "a session inside the healing gap was recorded without a confirmation"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM bookings").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit WHERE action IN ('book', 'done', 'gap.override')")
            .await,
        0
    );

    // Confirmed, the same booking goes ahead, with its override in the audit.
    let outcome = book(
        &app.store,
        &catalog,
        &clinic,
        owner().id,
        &inside,
        GapOverride::Confirmed,
        now,
    )
    .await
    .unwrap();
    assert!(matches!(outcome, BookOutcome::Booked { .. }));
    // Outside the gap no confirmation is needed.
    let outside = BookArgs {
        patient: anna_ref,
        starts_at: berlin("2026-12-21 10:30"),
    };
    let outcome = book(
        &app.store,
        &catalog,
        &clinic,
        owner().id,
        &outside,
        GapOverride::No,
        now,
    )
    .await
    .unwrap();
    assert!(matches!(outcome, BookOutcome::Booked { .. }));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit WHERE action = 'gap.override'")
            .await,
        1
    );
    app.stop().await;
}

/// The owner changes a course a patient is already on. A removed step's message not yet
/// sent does not go out (recorded as skipped with the reason, said in the answer and
/// kept in the audit), even where the clinic had its own text for it; a renamed step's
/// goes out as planned, with the clinic's text; the other patients' courses are as
/// they were.
#[tokio::test]
async fn a_removed_or_renamed_step_carries_over_to_patients_already_on_the_course() {
    let app = TestApp::start().await;
    app.glow_with_anna().await;
    peel_course(&app).await;
    let payload = app.enroll(&owner(), "Bea Stone peel 14:00").await;
    app.tg.send_text(&bea(), &format!("/start {payload}"));
    app.tg
        .wait_for(bea().id, |m| m.plain_text().contains("welcome"), WAIT)
        .await;
    app.save_text(
        &owner(),
        "course.chemical-peel.makeup-ok",
        "Peel: makeup again, {first_name}.",
    )
    .await;
    app.save_text(
        &owner(),
        "course.chemical-peel.activities",
        "Peel: back to the gym, {first_name}.",
    )
    .await;

    let removed = says(
        &app,
        &owner(),
        "/course step peel remove makeup-ok",
        "removed",
    )
    .await;
    assert!(
        removed.plain_text().contains(
            "step makeup-ok removed; 1 message of it not yet sent to patients on the course \
             will not go out"
        ),
        "{}",
        removed.plain_text()
    );
    let renamed = says(
        &app,
        &owner(),
        "/course step peel rename activities gym-ok",
        "is now",
    )
    .await;
    assert!(
        renamed.plain_text().contains(
            "step activities is now gym-ok; 1 message of it not yet sent to patients on the \
             course will go out under the new name"
        ),
        "{}",
        renamed.plain_text()
    );
    let detail: String = sqlx::query_scalar(
        "SELECT detail FROM audit WHERE action = 'course.change' ORDER BY id DESC LIMIT 1 OFFSET 1",
    )
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert!(
        detail.ends_with("remove makeup-ok (1 message of it not yet sent to patients on the course will not go out)"),
        "{detail}"
    );

    // A row of a step the course no longer has, turned on again later (after a pause,
    // or a warning sign that held it): skipped when due, never sent without its text.
    sqlx::query(
        "INSERT INTO reminders (patient_id, step_id, due_at, status)
         SELECT id, 'makeup-ok-old', ?, 'pending' FROM patients WHERE name = 'Bea Stone'",
    )
    .bind(berlin("2026-11-24 14:00").timestamp_millis())
    .execute(app.store.pool())
    .await
    .unwrap();

    // Tuesday 12:00: the renamed step, with the clinic's text.
    app.tg.skip_sent(bea().id);
    app.clock.set(berlin("2026-11-24 12:00"));
    let gym = app
        .tg
        .wait_for(bea().id, |m| m.plain_text().contains("Peel:"), WAIT)
        .await;
    assert_eq!(gym.plain_text(), "Peel: back to the gym, Bea.");
    // 14:00: Anna's makeup message as ever; nothing for Bea, whose step is gone.
    app.tg.skip_sent(anna().id);
    app.clock.set(berlin("2026-11-24 14:00"));
    app.tg
        .wait_for(anna().id, |m| m.plain_text().contains("makeup"), WAIT)
        .await;
    app.tg.assert_nothing_sent_to(bea().id, QUIET).await;
    support::app::eventually("the row of a step no longer in the course is skipped", || async {
        app.count("SELECT COUNT(*) FROM reminders WHERE step_id = 'makeup-ok-old' AND status = 'skipped'")
            .await
            == 1
    })
    .await;
    let rows: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT r.step_id, r.status, r.note FROM reminders r JOIN patients p ON p.id = r.patient_id
         WHERE p.name = 'Bea Stone'
           AND r.step_id IN ('makeup-ok', 'activities', 'gym-ok', 'makeup-ok-old')
         ORDER BY r.step_id",
    )
    .fetch_all(app.store.pool())
    .await
    .unwrap();
    assert_eq!(
        rows,
        [
            ("gym-ok".to_string(), "sent".to_string(), None),
            (
                "makeup-ok".to_string(),
                "skipped".to_string(),
                Some("step removed from the course".to_string())
            ),
            (
                "makeup-ok-old".to_string(),
                "skipped".to_string(),
                Some("step removed from the course".to_string())
            ),
        ]
    );

    app.tg.assert_nothing_sent_to(bea().id, QUIET).await;
    app.stop().await;
}
