//! /stats for owners and admins: one PNG chart and figures that match the database,
//! for their own clinic only; staff without the role are refused.

mod support;

use support::app::{TestApp, WAIT};
use support::fake_telegram::TestUser;
use support::people::{anna, berlin, owner, sam};

/// The number after `label` in `text` (the first run of digits).
fn figure(text: &str, label: &str) -> i64 {
    let at = text
        .find(label)
        .unwrap_or_else(|| panic!("no `{label}` in {text}"))
        + label.len();
    text[at..]
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(|c| c.is_ascii_digit())
        .collect::<String>()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn stats_shows_a_chart_and_this_clinics_figures_to_owners_and_admins_only() {
    let app = TestApp::start().await;
    let glow = app.glow_with_anna().await;
    let ben = TestUser::new(2002, "Ben");
    app.linked_patient(&owner(), &ben, "Ben Stone 14:00").await;
    // Another clinic with its own patient and alert: none of it may show.
    let rival_owner = TestUser::new(3001, "Rita");
    let rival = app
        .clinic_with_owner(&rival_owner, "Rival Skin", "Europe/Berlin")
        .await;
    app.linked_patient(
        &rival_owner,
        &TestUser::new(3002, "Rolf"),
        "Rolf Meyer 14:00",
    )
    .await;

    // Day 3: the check-in; Anna answers it, Ben stops.
    app.clock.set(berlin("2026-11-26 10:00"));
    let checkin = app
        .tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("how is your skin feeling"),
            WAIT,
        )
        .await;
    app.tg
        .press_button(&anna(), checkin.message_id, &checkin.button_data()[0]);
    app.tg.send_text(&ben, "/stop");
    app.tg
        .wait_for(
            ben.id,
            |m| m.plain_text().to_lowercase().contains("stop"),
            WAIT,
        )
        .await;
    support::app::eventually("the answer is stored", || async {
        app.count("SELECT COUNT(*) FROM checkin_answers").await == 1
    })
    .await;

    // Alerts: two handled after 20 and 40 minutes, one open; the rival's never counts.
    let now = berlin("2026-11-26 10:00");
    let ms = |t: chrono::DateTime<chrono::Utc>| t.timestamp_millis();
    for (clinic, created_h, handled_min) in [
        (glow, 5, Some(20)),
        (glow, 4, Some(40)),
        (glow, 3, None),
        (rival, 2, Some(5)),
    ] {
        let created = now - chrono::Duration::hours(created_h);
        let handled = handled_min.map(|m| ms(created + chrono::Duration::minutes(m)));
        sqlx::query(
            "INSERT INTO alerts (clinic_id, patient_id, kind, created_at, handled_at) VALUES (?, NULL, 'seeded', ?, ?)",
        )
        .bind(clinic)
        .bind(ms(created))
        .bind(handled)
        .execute(app.store.pool())
        .await
        .unwrap();
    }

    // Staff without the role are refused.
    app.add_staff(glow, &sam()).await;
    app.tg.send_text(&sam(), "/stats");
    app.tg
        .wait_for(
            sam().id,
            |m| m.plain_text().contains("Only owners and admins"),
            WAIT,
        )
        .await;
    assert!(
        app.tg
            .sent_to(sam().id)
            .iter()
            .all(|m| m.method != "sendPhoto"),
        "no chart for staff"
    );

    app.tg.skip_sent(owner().id);
    app.tg.send_text(&owner(), "/stats");
    let answer = app
        .tg
        .wait_for(
            owner().id,
            |m| m.plain_text().contains("the last 30 days"),
            WAIT,
        )
        .await;
    assert_eq!(answer.method, "sendPhoto", "a chart comes with the figures");
    assert!(answer.photo_bytes.unwrap_or(0) > 500, "a real picture");
    let text = answer.plain_text();
    assert!(text.contains("Glow Clinic"), "{text}");
    assert!(!text.contains("Rival"), "{text}");

    // Figures against the database, read here on their own.
    let pool = app.store.pool().clone();
    let q = |sql: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .bind(glow)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let delivered = q("SELECT COUNT(*) FROM reminders r JOIN patients p ON p.id = r.patient_id WHERE p.clinic_id = ? AND r.status = 'sent'").await;
    let skipped = q("SELECT COUNT(*) FROM reminders r JOIN patients p ON p.id = r.patient_id WHERE p.clinic_id = ? AND r.status = 'skipped'").await;
    assert_eq!(figure(&text, "Patients enrolled:"), 2, "{text}");
    assert_eq!(figure(&text, "Stopped since:"), 1, "{text}");
    assert_eq!(
        figure(&text, "Course messages delivered:"),
        delivered,
        "{text}"
    );
    assert!(delivered >= 2);
    assert_eq!(figure(&text, "skipped:"), skipped, "{text}");
    // One check-in went out (to Anna: Ben's was cancelled by /stop) and she answered.
    let checkins = q("SELECT COUNT(*) FROM reminders r JOIN patients p ON p.id = r.patient_id WHERE p.clinic_id = ? AND r.status = 'sent' AND r.step_id IN (SELECT step_id FROM checkin_answers)").await;
    assert!(
        text.contains(&format!("Check-ins answered: 1 of {checkins}")),
        "{text}"
    );
    assert_eq!(figure(&text, "Alerts:"), 3, "{text}");
    assert_eq!(figure(&text, "handled:"), 2, "{text}");
    assert!(text.contains("median time to Handled 30 min"), "{text}");

    // A period given, and a bad one explained.
    app.tg.send_text(&owner(), "/stats 7");
    app.tg
        .wait_for(
            owner().id,
            |m| m.plain_text().contains("the last 7 days"),
            WAIT,
        )
        .await;
    app.tg.send_text(&owner(), "/stats lots");
    app.tg
        .wait_for(
            owner().id,
            |m| m.plain_text().starts_with("Try /stats"),
            WAIT,
        )
        .await;
    app.stop().await;
}
