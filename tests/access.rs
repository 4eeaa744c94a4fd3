//! Clinics, roles and access: invites, revocation, isolation, audit, settings, backup.

mod support;

use support::people::owner;

use aftercare::clock::Clock;
use aftercare::store::{StaffRole, clinics};
use chrono::Duration;
use support::app::{TestApp, WAIT, eventually, payload_of};
use support::fake_telegram::TestUser;

async fn answer(app: &TestApp, who: &TestUser, text: &str) -> String {
    app.tg.send_text(who, text);
    app.tg
        .wait_for_count(who.id, 1, WAIT)
        .await
        .remove(0)
        .plain_text()
}

async fn add_staff(app: &TestApp, clinic: i64, user: i64, role: StaffRole) {
    let mut conn = app.store.pool().acquire().await.unwrap();
    clinics::add_staff(&mut conn, clinic, user, role, app.clock.now())
        .await
        .unwrap();
}

#[tokio::test]
async fn invites_make_staff_and_admins_who_can_work_at_once() {
    let app = TestApp::start().await;
    app.clinic_with_owner(&owner(), "Glow Clinic", "Europe/Berlin")
        .await;
    let text = answer(&app, &owner(), "/invite staff").await;
    assert!(text.contains("as staff"), "{text}");
    let sam = TestUser::new(1002, "Sam").last_name("Lee");
    app.tg
        .send_text(&sam, &format!("/start {}", payload_from(&text)));
    let welcome = app
        .tg
        .wait_for(
            sam.id,
            |m| m.plain_text().contains("You are now staff of"),
            WAIT,
        )
        .await;
    assert!(welcome.plain_text().contains("Glow Clinic"));
    assert!(
        answer(&app, &sam, "/enroll Anna Berg")
            .await
            .contains("?start=")
    );
    // Staff cannot invite; the owner's staff list shows both.
    assert!(
        answer(&app, &sam, "/invite staff")
            .await
            .contains("Only owners and admins")
    );
    let list = answer(&app, &owner(), "/staff").await;
    assert!(
        list.contains("#1001 Olga · owner") && list.contains("#1002 Sam Lee · staff"),
        "{list}"
    );
    // The invite was single use.
    let eve = TestUser::new(3001, "Eve");
    app.tg
        .send_text(&eve, &format!("/start {}", payload_from(&text)));
    app.tg
        .wait_for(
            eve.id,
            |m| m.plain_text().contains("already been used"),
            WAIT,
        )
        .await;
    // Admin invites expire after 48 hours.
    let text = answer(&app, &owner(), "/invite admin").await;
    app.clock.advance(Duration::hours(49));
    app.tg
        .send_text(&eve, &format!("/start {}", payload_from(&text)));
    app.tg
        .wait_for(eve.id, |m| m.plain_text().contains("expired"), WAIT)
        .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM staff").await, 2);
    assert!(
        answer(&app, &owner(), "/invite janitor")
            .await
            .contains("/invite staff or /invite admin")
    );
    app.stop().await;
}

fn payload_from(text: &str) -> String {
    let at = text.find("?start=").unwrap() + 7;
    text[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect()
}

#[tokio::test]
async fn a_revoked_person_loses_access_at_once_and_owners_are_protected() {
    let app = TestApp::start().await;
    let clinic = app
        .clinic_with_owner(&owner(), "Glow Clinic", "Europe/Berlin")
        .await;
    let admin = TestUser::new(1002, "Ada");
    let staff = TestUser::new(1003, "Sam");
    add_staff(&app, clinic, admin.id, StaffRole::Admin).await;
    add_staff(&app, clinic, staff.id, StaffRole::Staff).await;
    app.tg.started_earlier(&staff);

    assert!(
        answer(&app, &admin, "/revoke 1001")
            .await
            .contains("Only an owner can change an owner")
    );
    assert!(
        answer(&app, &admin, "/role 1001 staff")
            .await
            .contains("Only an owner can change an owner")
    );
    assert!(
        answer(&app, &admin, "/role 1003 owner")
            .await
            .contains("only owners can make owners")
    );
    assert!(
        answer(&app, &owner(), "/revoke 1001")
            .await
            .contains("at least one owner")
    );
    assert!(
        answer(&app, &owner(), "/role 1001 admin")
            .await
            .contains("at least one owner")
    );
    assert!(
        answer(&app, &admin, "/role 1003 admin")
            .await
            .contains("is now admin")
    );
    assert!(
        answer(&app, &admin, "/role #1003 staff")
            .await
            .contains("is now staff")
    );
    assert!(
        answer(&app, &owner(), "/revoke 4242")
            .await
            .contains("No one with that number")
    );
    assert!(answer(&app, &owner(), "/revoke").await.contains("Say who"));

    assert!(
        answer(&app, &admin, "/revoke 1003")
            .await
            .contains("no longer has access")
    );
    // Sam was told at each change, and the last time lost the staff menu.
    let told = app
        .tg
        .wait_for(
            staff.id,
            |m| {
                m.plain_text()
                    .contains("You no longer have access to Glow Clinic:")
            },
            WAIT,
        )
        .await;
    assert!(told.plain_text().contains("ask the clinic's owner"));
    assert!(
        app.tg
            .sent_to(staff.id)
            .iter()
            .any(|m| m.plain_text().contains("You are now admin at Glow Clinic"))
    );
    eventually("Sam's menu is the patients' one", || async {
        app.tg.my_commands().iter().any(|(scope, commands)| {
            scope["type"] == "chat"
                && scope["chat_id"] == staff.id
                && !commands.iter().any(|(c, _)| c == "enroll")
                && commands.iter().any(|(c, _)| c == "schedule")
        })
    })
    .await;
    for command in ["/enroll Anna", "/patients", "/staff", "/help"] {
        let text = answer(&app, &staff, command).await;
        assert!(
            text.contains("You no longer have access to Glow Clinic (since 23 Nov)"),
            "{command}: {text}"
        );
    }
    let actions: Vec<(String,)> =
        sqlx::query_as("SELECT action FROM audit WHERE action IN ('role', 'revoke') ORDER BY id")
            .fetch_all(app.store.pool())
            .await
            .unwrap();
    let actions: Vec<&str> = actions.iter().map(|a| a.0.as_str()).collect();
    assert_eq!(actions, ["role", "role", "revoke"]);
    app.stop().await;
}

#[tokio::test]
async fn a_person_working_for_two_clinics_switches_between_them() {
    let app = TestApp::start().await;
    let a = app
        .clinic_with_owner(&owner(), "Clinic A", "Europe/Berlin")
        .await;
    let b = app
        .clinic_with_owner(&TestUser::new(1101, "Bo"), "Clinic B", "America/New_York")
        .await;
    let both = TestUser::new(1002, "Sam");
    add_staff(&app, a, both.id, StaffRole::Staff).await;
    add_staff(&app, b, both.id, StaffRole::Admin).await;
    app.enroll(&owner(), "Anna A").await;
    let list = answer(&app, &both, "/clinic").await;
    assert!(
        list.contains(&format!("#{a} Clinic A · staff ← active")),
        "{list}"
    );
    assert!(list.contains(&format!("#{b} Clinic B · admin")), "{list}");
    assert!(answer(&app, &both, "/patients").await.contains("Anna A"));
    assert!(
        answer(&app, &both, &format!("/clinic {b}"))
            .await
            .contains("You now act for Clinic B")
    );
    let patients = answer(&app, &both, "/patients").await;
    assert!(!patients.contains("Anna A"), "{patients}");
    assert!(
        answer(&app, &both, "/invite staff")
            .await
            .contains("Invite to Clinic B")
    );
    assert!(
        answer(&app, &owner(), &format!("/clinic {b}"))
            .await
            .contains("don't work for a clinic with that number")
    );
    app.stop().await;
}

#[tokio::test]
async fn relink_voids_the_old_link_and_never_crosses_clinics() {
    let app = TestApp::start().await;
    app.clinic_with_owner(&owner(), "Clinic A", "Europe/Berlin")
        .await;
    let bo = TestUser::new(1101, "Bo");
    app.clinic_with_owner(&bo, "Clinic B", "Europe/Berlin")
        .await;
    let old = app.enroll(&owner(), "Anna Berg").await;
    app.enroll(&bo, "Ben Ode").await;
    app.tg.send_text(&owner(), "/relink 1");
    let m = app
        .tg
        .wait_for(owner().id, |m| m.plain_text().contains("New link"), WAIT)
        .await;
    let new = payload_of(&m);
    assert!(
        answer(&app, &owner(), "/relink 2")
            .await
            .contains("no patient with that number")
    );
    assert!(
        answer(&app, &owner(), "/relink Anna")
            .await
            .contains("Say which patient")
    );
    let anna = TestUser::new(2001, "Anna");
    app.tg.send_text(&anna, &format!("/start {old}"));
    let replaced = app
        .tg
        .wait_for(anna.id, |m| m.plain_text().contains("replaced"), WAIT)
        .await;
    assert_eq!(
        replaced.plain_text(),
        "This link was replaced by a newer one, so it no longer works. Please ask Clinic A \
         for the new link."
    );
    app.tg.send_text(&anna, &format!("/start {new}"));
    app.tg
        .wait_for(anna.id, |m| m.plain_text().contains("welcome"), WAIT)
        .await;
    app.stop().await;
}

#[tokio::test]
async fn owners_change_settings_and_pending_reminders_move_with_quiet_hours() {
    let app = TestApp::start().await;
    let clinic = app
        .clinic_with_owner(&owner(), "Glow Clinic", "Europe/Berlin")
        .await;
    let admin = TestUser::new(1002, "Ada");
    add_staff(&app, clinic, admin.id, StaffRole::Admin).await;
    let anna = TestUser::new(2001, "Anna");
    app.linked_patient(&owner(), &anna, "Anna Berg 14:00").await;
    assert!(
        answer(&app, &admin, "/settings")
            .await
            .contains("Only owners")
    );
    assert!(
        answer(&app, &owner(), "/settings")
            .await
            .contains("quiet: 21:00–08:00")
    );
    // The evening step at 19:00 falls into new quiet hours from 18:00.
    let text = answer(&app, &owner(), "/settings quiet 18:00 08:00").await;
    assert!(text.contains("re-planned"), "{text}");
    app.tg.send_text(&anna, "/schedule");
    let s = app
        .tg
        .wait_for(anna.id, |m| m.plain_text().contains("Coming up"), WAIT)
        .await;
    assert!(
        !s.plain_text().contains("Mon 23 Nov, 19:00"),
        "{}",
        s.plain_text()
    );
    // The value typed is shown as code, not between literal backticks.
    let text = answer(&app, &owner(), "/settings timezone Mars/Base").await;
    assert!(
        text.contains("Mars/Base is not a city or time zone I know"),
        "{text}"
    );
    assert!(!text.contains('`'), "{text}");
    // The same time twice turns quiet hours off, and reads so.
    let text = answer(&app, &owner(), "/settings quiet 08:00 08:00").await;
    assert!(text.contains("quiet: off"), "{text}");
    assert!(!text.contains("08:00–08:00"), "{text}");
    assert!(
        answer(&app, &owner(), "/settings quiet 25:00 08:00")
            .await
            .contains("Try: /settings quiet")
    );
    assert!(
        answer(&app, &owner(), "/settings contact +49 30 1234567")
            .await
            .contains("contact: +49 30 1234567")
    );
    assert!(
        answer(&app, &owner(), "/settings linkdays 7")
            .await
            .contains("linkdays: 7")
    );
    assert!(
        answer(&app, &owner(), "/settings plan botox")
            .await
            .contains("No plan")
    );
    assert!(
        answer(&app, &owner(), "/settings colour blue")
            .await
            .contains("Settings: name")
    );
    let n = app
        .count("SELECT COUNT(*) FROM audit WHERE action = 'settings'")
        .await;
    assert_eq!(n, 4);
    app.stop().await;
}

#[tokio::test]
async fn every_action_is_audited_with_ids_and_owners_can_read_it() {
    let app = TestApp::start().await;
    app.clinic_with_owner(&owner(), "Glow Clinic", "Europe/Berlin")
        .await;
    let text = answer(&app, &owner(), "/invite staff").await;
    let sam = TestUser::new(1002, "Sam");
    app.tg
        .send_text(&sam, &format!("/start {}", payload_from(&text)));
    app.tg
        .wait_for(sam.id, |m| m.plain_text().contains("staff of"), WAIT)
        .await;
    app.linked_patient(&sam, &TestUser::new(2001, "Anna"), "Anna Berg")
        .await;
    answer(&app, &owner(), "/relink 1").await;
    answer(&app, &owner(), "/role 1002 admin").await;
    answer(&app, &owner(), "/revoke 1002").await;
    let trail = answer(&app, &owner(), "/audit").await;
    for action in [
        "join by #1001",
        "invite by #1001",
        "join by #1002",
        "enroll by #1002: patient 1",
        "link by #2001: patient 1",
        "relink by #1001",
        "role by #1001: user 1002",
        "revoke by #1001: user 1002",
    ] {
        assert!(trail.contains(action), "missing `{action}` in {trail}");
    }
    assert!(!trail.contains("Anna"), "the trail carries ids, not names");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_aftercare"))
        .env("DATABASE_URL", support::app::db_url(&app.dir))
        .args(["audit", "export", "--clinic", "1", "--since", "2026-11-01"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(
        csv.starts_with("id,at_utc,clinic,actor,action,subject,detail\n"),
        "{csv}"
    );
    assert!(csv.contains(",1002,enroll,patient 1,"), "{csv}");
    assert_eq!(csv.lines().count(), 1 + 8, "{csv}");
    assert!(
        answer(&app, &owner(), "/audit 500")
            .await
            .contains("at most 100")
    );
    app.stop().await;
}

#[tokio::test]
async fn repeated_bad_links_are_slowed_down() {
    let app = TestApp::start().await;
    let eve = TestUser::new(3001, "Eve");
    for i in 0..5 {
        app.tg.send_text(&eve, &format!("/start guess{i}"));
        app.tg
            .wait_for(eve.id, |m| m.plain_text().contains("doesn't work"), WAIT)
            .await;
    }
    // Even a good link waits now.
    app.clinic_with_owner(&owner(), "Glow Clinic", "Europe/Berlin")
        .await;
    let good = app.enroll(&owner(), "Eve Adams").await;
    app.tg.send_text(&eve, &format!("/start {good}"));
    app.tg
        .wait_for(eve.id, |m| m.plain_text().contains("wait 10 minutes"), WAIT)
        .await;
    app.clock.advance(Duration::minutes(10));
    app.tg.send_text(&eve, &format!("/start {good}"));
    app.tg
        .wait_for(eve.id, |m| m.plain_text().contains("welcome"), WAIT)
        .await;
    app.stop().await;
}

#[tokio::test]
async fn a_backup_taken_while_the_bot_runs_restores_to_a_working_bot() {
    let app = TestApp::start().await;
    app.clinic_with_owner(&owner(), "Glow Clinic", "Europe/Berlin")
        .await;
    let anna = TestUser::new(2001, "Anna");
    app.linked_patient(&owner(), &anna, "Anna Berg 14:00").await;
    app.tg
        .wait_for(anna.id, |m| m.plain_text().contains("mild sunburn"), WAIT)
        .await;
    let copy = app.dir.path().join("backup.db");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_aftercare"))
        .env("DATABASE_URL", support::app::db_url(&app.dir))
        .arg("backup")
        .arg(&copy)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&copy).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let db = app.dir.path().join("aftercare.db");
        assert_eq!(
            std::fs::metadata(db).unwrap().permissions().mode() & 0o077,
            0,
            "the database is private"
        );
    }
    // Restore: stop, put the copy in place, start again; the course goes on.
    let (tg, clock, dir) = app.stop().await;
    std::fs::copy(&copy, dir.path().join("aftercare.db")).unwrap();
    for ext in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(dir.path().join(format!("aftercare.db{ext}")));
    }
    let app = TestApp::start_with(tg, clock, dir).await;
    app.clock.set("2026-11-23T18:00:00Z".parse().unwrap());
    app.tg
        .wait_for(anna.id, |m| m.plain_text().contains("aloe vera"), WAIT)
        .await;
    eventually("the restored course records its sends", || async {
        app.count("SELECT COUNT(*) FROM reminders WHERE status = 'sent'")
            .await
            == 2
    })
    .await;
    app.stop().await;
}

#[tokio::test]
async fn care_text_and_timing_actions_are_audited_and_an_erasure_keeps_no_name() {
    let app = TestApp::start().await;
    app.clinic_with_owner(&owner(), "Glow Clinic", "Europe/Berlin")
        .await;
    let anna = TestUser::new(2001, "Anna");
    app.linked_patient(&owner(), &anna, "Anna Berg 14:00").await;
    // A text of the clinic's own, so /reset has something to reset.
    app.save_text(&owner(), "step.sun-morning", "Our own sun text")
        .await;
    for (command, answer) in [
        ("/book #1 2026-12-21 10:30", "Booked"),
        ("/unbook #1", "Cancelled"),
        ("/pause #1", "Paused"),
        ("/resume #1", "resumed"),
        ("/timing makeup-ok 36h", "makeup-ok"),
        ("/reset step.sun-morning", "default text again"),
        ("/cancel #1", "will not resume"),
    ] {
        app.tg.send_text(&owner(), command);
        app.tg
            .wait_for(owner().id, |m| m.plain_text().contains(answer), WAIT)
            .await;
    }
    app.tg.send_text(&anna, "/delete");
    let confirm = app
        .tg
        .wait_for(
            anna.id,
            |m| m.plain_text().contains("cannot be undone"),
            WAIT,
        )
        .await;
    app.tg
        .press_button(&anna, confirm.message_id, &confirm.button_data()[0]);
    eventually("the erasure is recorded", || async {
        app.count("SELECT COUNT(*) FROM audit WHERE action = 'erase'")
            .await
            == 1
    })
    .await;
    let rows: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT action, subject FROM audit ORDER BY id")
            .fetch_all(app.store.pool())
            .await
            .unwrap();
    let actions: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    for wanted in [
        "enroll", "link", "book", "unbook", "pause", "resume", "timing", "reset", "cancel", "erase",
    ] {
        assert!(actions.contains(&wanted), "no `{wanted}` in {actions:?}");
    }
    let everything = format!("{rows:?}");
    assert!(
        !everything.contains("Anna"),
        "the trail names the patient: {everything}"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit WHERE subject = 'patient 1'")
            .await,
        8
    );
    app.stop().await;
}

#[tokio::test]
async fn staff_get_staff_answers_to_patient_commands_and_help_lists_only_what_their_role_may_do() {
    let app = TestApp::start().await;
    let clinic = app
        .clinic_with_owner(&owner(), "Glow Clinic", "Europe/Berlin")
        .await;
    let sam = TestUser::new(1003, "Sam");
    add_staff(&app, clinic, sam.id, StaffRole::Staff).await;

    let stop = answer(&app, &sam, "/stop").await;
    assert!(stop.contains("/pause #12"), "{stop}");
    let resume = answer(&app, &sam, "/resume").await;
    assert!(resume.contains("/resume #12"), "{resume}");
    let schedule = answer(&app, &sam, "/schedule").await;
    assert!(schedule.contains("/patient #12"), "{schedule}");
    for text in [&stop, &resume, &schedule] {
        assert!(!text.contains("which clinic you're with"), "{text}");
    }

    let help = answer(&app, &sam, "/help").await;
    assert!(
        help.contains("/enroll") && help.contains("/timing"),
        "{help}"
    );
    for hidden in ["/edit", "/invite", "/revoke", "/settings", "/audit"] {
        assert!(!help.contains(hidden), "staff are shown {hidden}: {help}");
    }
    let help = answer(&app, &owner(), "/help").await;
    for shown in ["/edit", "/invite", "/revoke", "/settings", "/audit"] {
        assert!(
            help.contains(shown),
            "the owner is not shown {shown}: {help}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn an_owner_reopening_their_own_owner_link_is_answered_as_the_owner() {
    let app = TestApp::start().await;
    let (_, payload) = app.create_clinic("Glow Clinic", "Europe/Berlin").await;
    app.tg.send_text(&owner(), &format!("/start {payload}"));
    app.tg
        .wait_for(owner().id, |m| m.plain_text().contains("owner of"), WAIT)
        .await;
    let text = answer(&app, &owner(), &format!("/start {payload}")).await;
    assert!(
        text.contains("You already work for Glow Clinic as owner"),
        "{text}"
    );
    assert!(!text.contains("/schedule"), "{text}");
    app.stop().await;
}

#[tokio::test]
async fn owners_set_the_clinic_time_zone_by_city_as_patients_do() {
    let app = TestApp::start().await;
    app.clinic_with_owner(&owner(), "Glow Clinic", "Europe/Berlin")
        .await;
    let text = answer(&app, &owner(), "/settings timezone Auckland").await;
    assert!(text.contains("timezone: Pacific/Auckland"), "{text}");
    // A city the tz database does not name a zone after.
    let text = answer(&app, &owner(), "/settings timezone munich").await;
    assert!(text.contains("timezone: Europe/Berlin"), "{text}");
    let text = answer(&app, &owner(), "/settings timezone new york").await;
    assert!(text.contains("timezone: America/New_York"), "{text}");
    app.stop().await;
}
