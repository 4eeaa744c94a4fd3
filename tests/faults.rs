//! The real binary under faults: kill -9 in the middle of sending.

mod support;

use std::process::{Child, Command, Stdio};

use support::app::{WAIT, eventually, messages_dir};
use support::fake_telegram::{FakeTelegram, TOKEN, TestUser};

const PATIENTS: i64 = 15;
const STEPS: usize = 5;

/// A messages folder with a "burst" plan: four steps due right after the session.
fn burst_messages() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let copy = |from: &str, to: &str| {
        std::fs::copy(messages_dir().join(from), dir.path().join(to)).unwrap()
    };
    for sub in ["plans", "en", "de"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
    }
    copy("plans/microneedling.toml", "plans/microneedling.toml");
    for lang in ["en", "de"] {
        copy(&format!("{lang}/bot.toml"), &format!("{lang}/bot.toml"));
        copy(
            &format!("{lang}/microneedling.toml"),
            &format!("{lang}/microneedling.toml"),
        );
    }
    let mut plan = String::from("name = \"Burst\"\n");
    let mut wording = String::new();
    for i in 1..=STEPS {
        plan.push_str(&format!("[[step]]\nid = \"s{i}\"\nafter = \"{i}ms\"\n"));
        wording.push_str(&format!(
            "[s{i}]\ntitle = \"Step {i}\"\ntext = \"Burst step {i} for {{first_name}}\"\n"
        ));
    }
    std::fs::write(dir.path().join("plans/burst.toml"), plan).unwrap();
    std::fs::write(dir.path().join("en/burst.toml"), &wording).unwrap();
    std::fs::write(dir.path().join("de/burst.toml"), &wording).unwrap();
    dir
}

fn spawn_bot(tg: &FakeTelegram, db: &str, messages: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_aftercare"))
        .env("TELOXIDE_TOKEN", TOKEN)
        .env("TELOXIDE_API_URL", tg.api_url())
        .env("DATABASE_URL", db)
        .env("AFTERCARE_MESSAGES", messages)
        .env("RUST_LOG", "warn")
        .args(["run", "--poll-timeout", "1s"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn burst_messages_sent(tg: &FakeTelegram) -> Vec<(i64, String)> {
    tg.sent()
        .into_iter()
        .filter(|m| m.text.starts_with("Burst step"))
        .map(|m| (m.chat_id, m.text))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_while_sending_loses_no_reminder() {
    let tg = FakeTelegram::start().await;
    let data = tempfile::tempdir().unwrap();
    let messages = burst_messages();
    let db = support::app::db_url(&data);

    // A clinic without quiet hours whose patients follow the burst plan.
    let store = aftercare::store::Store::open(&db).await.unwrap();
    let now = chrono::Utc::now();
    let clinic = aftercare::service::clinic::create_clinic(&store, "Glow", chrono_tz::UTC, now)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE clinics SET quiet_start = '00:00', quiet_end = '00:00', default_plan = 'burst'",
    )
    .execute(store.pool())
    .await
    .unwrap();
    store.close().await;

    let mut bot = spawn_bot(&tg, &db, messages.path());
    let owner = TestUser::new(1001, "Olga");
    tg.send_text(&owner, &format!("/start {}", clinic.owner_payload));
    tg.wait_for(owner.id, |m| m.plain_text().contains("owner of"), WAIT)
        .await;
    for i in 0..PATIENTS {
        tg.send_text(&owner, &format!("/enroll Pat{i} Doe"));
        let m = tg
            .wait_for(owner.id, |m| m.plain_text().contains("?start="), WAIT)
            .await;
        let patient = TestUser::new(5000 + i, "Pat");
        tg.send_text(
            &patient,
            &format!("/start {}", support::app::payload_of(&m)),
        );
    }
    let total = PATIENTS as usize * STEPS;

    // Two kills at different points of the burst, each after the bot has confirmed
    // every update (so no command is handled twice), then a clean run to the end.
    for kill_at in [total / 4, total / 2] {
        eventually("enough reminders went out", || async {
            burst_messages_sent(&tg).len() >= kill_at && tg.pending_updates() == 0
        })
        .await;
        bot.kill().unwrap();
        bot.wait().unwrap();
        bot = spawn_bot(&tg, &db, messages.path());
    }
    eventually("every reminder went out", || async {
        let mut distinct = burst_messages_sent(&tg);
        distinct.sort();
        distinct.dedup();
        distinct.len() == total
    })
    .await;
    bot.kill().unwrap();
    bot.wait().unwrap();
    // Repeats: at most the send in flight at each kill.
    let repeats = burst_messages_sent(&tg).len() - total;
    assert!(repeats <= 2, "{repeats} reminders went out twice");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_under_load_exits_zero_within_ten_seconds_and_the_next_start_sends_the_rest() {
    const CHATS: i64 = 100;
    let tg = FakeTelegram::start().await;
    let data = tempfile::tempdir().unwrap();
    let messages = burst_messages();
    let db = support::app::db_url(&data);

    // 100 linked patients with five reminders each, all due now: 500 messages.
    let store = aftercare::store::Store::open(&db).await.unwrap();
    let now = chrono::Utc::now();
    let clinic = aftercare::service::clinic::create_clinic(&store, "Glow", chrono_tz::UTC, now)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE clinics SET quiet_start = '00:00', quiet_end = '00:00', default_plan = 'burst'",
    )
    .execute(store.pool())
    .await
    .unwrap();
    let mut tx = store.begin().await.unwrap();
    for i in 0..CHATS {
        let user = TestUser::new(6000 + i, "Pat");
        tg.started_earlier(&user);
        let id = aftercare::store::patients::insert_patient(
            &mut tx,
            clinic.clinic_id,
            "Pat Doe",
            "burst",
            now,
            1,
            now,
        )
        .await
        .unwrap();
        aftercare::store::patients::activate_patient(&mut tx, id, user.id, "en", now)
            .await
            .unwrap();
        let rows: Vec<_> = (1..=5)
            .map(|s| aftercare::store::NewReminder {
                step_id: format!("s{s}"),
                due_at: now,
                expires_at: None,
                status: aftercare::store::ReminderStatus::Pending,
                note: None,
            })
            .collect();
        aftercare::store::reminders::insert_reminders(&mut tx, id, &rows)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    store.close().await;
    let total = (CHATS * 5) as usize;

    let bot = spawn_bot(&tg, &db, messages.path());
    eventually("the burst is under way", || async {
        burst_messages_sent(&tg).len() >= 30
    })
    .await;
    let asked = std::time::Instant::now();
    Command::new("kill")
        .args(["-TERM", &bot.id().to_string()])
        .status()
        .unwrap();
    let status = tokio::task::spawn_blocking(move || {
        let mut bot = bot;
        bot.wait()
    })
    .await
    .unwrap()
    .unwrap();
    assert!(
        asked.elapsed() < std::time::Duration::from_secs(10),
        "took {:?}",
        asked.elapsed()
    );
    assert_eq!(status.code(), Some(0));
    let before_restart = burst_messages_sent(&tg).len();
    assert!(
        before_restart < total,
        "everything went out before the signal; the test proves nothing"
    );

    let mut bot = spawn_bot(&tg, &db, messages.path());
    eventually("every reminder went out", || async {
        let mut distinct = burst_messages_sent(&tg);
        distinct.sort();
        distinct.dedup();
        distinct.len() == total
    })
    .await;
    bot.kill().unwrap();
    bot.wait().unwrap();
    let repeats = burst_messages_sent(&tg).len() - total;
    assert_eq!(repeats, 0, "a clean shutdown repeats nothing");
}
