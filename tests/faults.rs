//! The real binary under faults: kill -9 in the middle of sending, SIGTERM under load,
//! a machine that slept for three days, and a disk that fills up while it runs.

mod support;

use std::process::Child;

use support::app::{WAIT, eventually, messages_dir};
use support::fake_telegram::{FakeTelegram, Fault, TestUser};
use support::process::Log;

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
            &format!("{lang}/safety.toml"),
            &format!("{lang}/safety.toml"),
        );
        copy(
            &format!("{lang}/microneedling.toml"),
            &format!("{lang}/microneedling.toml"),
        );
    }
    let mut plan = String::from("name = \"Burst\"\n");
    let mut wording = String::new();
    for i in 1..=STEPS {
        plan.push_str(&format!("[[step]]\nid = \"s{i}\"\nafter = \"{i}ms\"\n"));
        // A plan's first step carries the safety lines, like every course's.
        let safety = if i == 1 {
            "\\n{warning_signs}\\n{urgent_line}"
        } else {
            ""
        };
        wording.push_str(&format!(
            "[s{i}]\ntitle = \"Step {i}\"\ntext = \"Burst step {i} for {{first_name}}{safety}\"\n"
        ));
    }
    std::fs::write(dir.path().join("plans/burst.toml"), plan).unwrap();
    std::fs::write(dir.path().join("en/burst.toml"), &wording).unwrap();
    std::fs::write(dir.path().join("de/burst.toml"), &wording).unwrap();
    dir
}

/// The real binary on `messages` (see `support::process::spawn_bot`).
fn spawn_bot(tg: &FakeTelegram, db: &str, messages: &std::path::Path) -> (Child, Log) {
    support::process::spawn_bot(&tg.api_url(), db, messages, &[])
}

/// kill -9 and wait for it, bounded (the test fails with the bot's log otherwise).
/// Off the runtime's threads: the stand-in keeps answering meanwhile.
async fn kill_9(bot: Child, log: &Log) {
    let log = log.clone();
    tokio::task::spawn_blocking(move || {
        let mut bot = bot;
        bot.kill().unwrap();
        support::process::exit_within(&mut bot, &log, EXIT_WAIT);
    })
    .await
    .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
}

/// SIGTERM, then its exit status and how long the exit took, bounded (the test fails
/// with the bot's log if it does not exit). Off the runtime's threads, so the stand-in
/// answers the bot's last requests while it stops.
async fn sigterm(bot: Child, log: &Log) -> (std::process::ExitStatus, std::time::Duration) {
    let log = log.clone();
    tokio::task::spawn_blocking(move || {
        let mut bot = bot;
        let asked = std::time::Instant::now();
        support::process::terminate(&bot);
        let status = support::process::exit_within(&mut bot, &log, EXIT_WAIT);
        let took = asked.elapsed();
        // The bot ends itself 9.5 s after a signal whatever it waits for: that exit is
        // 0 too, so only its log tells a clean stop from a hang cut short.
        let log = log.lock();
        assert!(
            !log.contains("shutdown did not finish in time"),
            "the stop hung and was cut short after {took:?}; the bot's log:\n{log}"
        );
        (status, took)
    })
    .await
    .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}

/// How long a test waits for the bot to exit before it fails with the bot's log: well
/// beyond the 10 s a stop may take.
const EXIT_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

fn burst_messages_sent(tg: &FakeTelegram) -> Vec<(i64, String)> {
    tg.sent()
        .into_iter()
        .filter(|m| m.text.starts_with("Burst step"))
        .map(|m| (m.chat_id, m.text))
        .collect()
}

/// One seeded reminder: due this long from now (negative: overdue), and, if it expires,
/// how long after it is due.
type Due = (chrono::Duration, Option<chrono::Duration>);

/// Due `secs` seconds from now, without expiry.
fn in_secs(secs: i64) -> Due {
    (chrono::Duration::seconds(secs), None)
}

/// A clinic without quiet hours on the burst plan, and `chats` linked patients (Telegram
/// ids from 6000) whose steps s1, s2, … are due as `due[0]`, `due[1]`, … say.
/// Returns the owner's join payload.
async fn seed(tg: &FakeTelegram, db: &str, chats: i64, due: &[Due]) -> String {
    use aftercare::store::{NewReminder, ReminderStatus, patients};
    let store = support::app::open_store(db).await;
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
    for i in 0..chats {
        let user = TestUser::new(6000 + i, "Pat");
        tg.started_earlier(&user);
        let id =
            patients::insert_patient(&mut tx, clinic.clinic_id, "Pat Doe", "burst", now, 1, now)
                .await
                .unwrap();
        patients::activate_patient(&mut tx, id, user.id, "en", now)
            .await
            .unwrap();
        let rows: Vec<_> = due
            .iter()
            .enumerate()
            .map(|(s, (after, expires))| NewReminder {
                step_id: format!("s{}", s + 1),
                due_at: now + *after,
                expires_at: expires.map(|e| now + *after + e),
                status: ReminderStatus::Pending,
                note: None,
            })
            .collect();
        aftercare::store::reminders::insert_reminders(&mut tx, id, &rows)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    store.close().await;
    clinic.owner_payload
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_while_sending_loses_no_reminder() {
    let tg = FakeTelegram::start().await;
    let data = tempfile::tempdir().unwrap();
    let messages = burst_messages();
    let db = support::app::db_url(&data);

    // A clinic without quiet hours whose patients follow the burst plan.
    let owner_payload = seed(&tg, &db, 0, &[]).await;

    let (mut bot, mut log) = spawn_bot(&tg, &db, messages.path());
    let owner = TestUser::new(1001, "Olga");
    tg.send_text(&owner, &format!("/start {owner_payload}"));
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
    // Every link opened (greeted) before the first kill: Telegram's update offset is
    // confirmed when the next poll starts, before the handler has finished, so a kill
    // right after the last /start could otherwise lose that patient's whole course.
    for i in 0..PATIENTS {
        tg.wait_for(5000 + i, |m| m.plain_text().contains("welcome"), WAIT)
            .await;
    }

    // Two kills at different points of the burst, each after the bot has confirmed
    // every update (so no command is handled twice), then a clean run to the end.
    for kill_at in [total / 4, total / 2] {
        eventually("enough reminders went out", || async {
            burst_messages_sent(&tg).len() >= kill_at && tg.pending_updates() == 0
        })
        .await;
        kill_9(bot, &log).await;
        (bot, log) = spawn_bot(&tg, &db, messages.path());
    }
    eventually("every reminder went out", || async {
        let mut distinct = burst_messages_sent(&tg);
        distinct.sort();
        distinct.dedup();
        distinct.len() == total
    })
    .await;
    kill_9(bot, &log).await;
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
    seed(&tg, &db, CHATS, &[in_secs(0); 5]).await;
    let total = (CHATS * 5) as usize;

    let (bot, log) = spawn_bot(&tg, &db, messages.path());
    eventually("the burst is under way", || async {
        burst_messages_sent(&tg).len() >= 30
    })
    .await;
    let (status, took) = sigterm(bot, &log).await;
    let log = log.lock().clone();
    assert!(
        took < std::time::Duration::from_secs(10),
        "took {took:?}; the bot's log:\n{log}"
    );
    assert_eq!(status.code(), Some(0), "{log}");
    let before_restart = burst_messages_sent(&tg).len();
    assert!(
        before_restart < total,
        "everything went out before the signal; the test proves nothing"
    );

    let (bot, log) = spawn_bot(&tg, &db, messages.path());
    eventually("every reminder went out", || async {
        let mut distinct = burst_messages_sent(&tg);
        distinct.sort();
        distinct.dedup();
        distinct.len() == total
    })
    .await;
    kill_9(bot, &log).await;
    let repeats = burst_messages_sent(&tg).len() - total;
    assert_eq!(repeats, 0, "a clean shutdown repeats nothing");
}

/// SIGTERM while one chat floods the bot with messages. teloxide's dispatcher hears of
/// a shutdown through a `Notify` it only listens to between updates: busy handing this
/// chat's updates to its full worker queue, it missed the notice and polled on, and
/// the stop hung. The bot ends the update stream itself, so the stop is prompt.
#[tokio::test(flavor = "multi_thread")]
async fn sigterm_while_a_chat_floods_the_bot_stops_polling_and_exits_cleanly() {
    const FLOOD: usize = 400;
    let tg = FakeTelegram::start().await;
    let data = tempfile::tempdir().unwrap();
    let messages = burst_messages();
    let db = support::app::db_url(&data);
    seed(&tg, &db, 0, &[]).await;
    let (bot, log) = spawn_bot(&tg, &db, messages.path());
    let max = TestUser::new(7100, "Max");
    tg.send_text(&max, "hello");
    tg.wait_for(max.id, |_| true, WAIT).await;
    for i in 0..FLOOD {
        tg.send_text(&max, &format!("hello {i}"));
    }
    // The dispatcher took the first batch and asked for the next: it is handing the
    // flood to the chat's worker, one full queue at a time.
    eventually("the flood is being handled", || async {
        tg.pending_updates() < FLOOD
    })
    .await;
    let (status, took) = sigterm(bot, &log).await;
    assert_eq!(status.code(), Some(0), "{}", log.lock());
    assert!(
        took < std::time::Duration::from_secs(10),
        "took {took:?}:\n{}",
        log.lock()
    );
}

/// The disk fills up while reminders go out, an enrollment is made and a patient opens
/// a link; later the space comes back. Simulated with a file-size limit of 0 on the
/// running bot (no mount needed, so it runs anywhere): every write fails, as on a full
/// disk, and reads still work.
#[tokio::test(flavor = "multi_thread")]
async fn a_full_disk_is_reported_keeps_state_whole_and_delivery_resumes_when_space_is_back() {
    const CHATS: i64 = 10;
    let tg = FakeTelegram::start().await;
    let data = tempfile::tempdir().unwrap();
    let messages = burst_messages();
    let db = support::app::db_url(&data);
    // Step 1 goes out once the owner is set up; steps 2 to 5 fall due together while
    // the disk is full, so the scheduler's failed claim shows they are all due.
    let due = [
        in_secs(5),
        in_secs(11),
        in_secs(11),
        in_secs(11),
        in_secs(11),
    ];
    let owner_payload = seed(&tg, &db, CHATS, &due).await;
    let total = CHATS as usize * due.len();

    let (bot, log) = spawn_bot(&tg, &db, messages.path());
    let owner = TestUser::new(1001, "Olga");
    tg.send_text(&owner, &format!("/start {owner_payload}"));
    tg.wait_for(owner.id, |m| m.plain_text().contains("owner of"), WAIT)
        .await;
    tg.send_text(&owner, "/enroll Lena Late");
    let link = tg
        .wait_for(owner.id, |m| m.plain_text().contains("?start="), WAIT)
        .await;
    // Telegram takes its time over one step-1 message: it is on the wire when the disk
    // fills, and Telegram's answer has to be recorded afterwards.
    tg.push_fault(Fault::Slow(std::time::Duration::from_secs(5)));
    eventually("the other step-1 messages went out", || async {
        burst_messages_sent(&tg).len() >= CHATS as usize - 1
    })
    .await;

    // The disk is full.
    support::process::limit_file_size(bot.id(), Some(0));
    let apology = |m: &support::fake_telegram::SentMessage| {
        m.plain_text().contains("something went wrong on our side")
    };
    tg.skip_sent(owner.id);
    tg.send_text(&owner, "/enroll Fay Fault");
    tg.wait_for(owner.id, apology, WAIT).await;
    let lena = TestUser::new(7001, "Lena");
    tg.send_text(
        &lena,
        &format!("/start {}", support::app::payload_of(&link)),
    );
    tg.wait_for(lena.id, apology, WAIT).await;
    eventually(
        "the slow message's answer could not be recorded",
        || async { log.lock().contains("recording a delivery failed") },
    )
    .await;
    eventually(
        "the scheduler found steps 2 to 5 due and reported the disk",
        || async { log.lock().contains("could not claim due reminders") },
    )
    .await;
    let during = log.lock().clone();
    let sent_while_full = burst_messages_sent(&tg).len();
    assert!(
        sent_while_full < total,
        "everything went out before the disk filled; the test proves nothing"
    );

    // Space is back: the same process carries on, without a restart.
    support::process::limit_file_size(bot.id(), None);
    eventually("every reminder went out", || async {
        let mut distinct = burst_messages_sent(&tg);
        distinct.sort();
        distinct.dedup();
        distinct.len() == total
    })
    .await;
    // The link was not used up by the failed attempt, and enrolling works again.
    tg.skip_sent(lena.id);
    tg.send_text(
        &lena,
        &format!("/start {}", support::app::payload_of(&link)),
    );
    tg.wait_for(lena.id, |m| m.plain_text().contains("Glow"), WAIT)
        .await;
    tg.skip_sent(owner.id);
    tg.send_text(&owner, "/enroll Fay Fault");
    tg.wait_for(owner.id, |m| m.plain_text().contains("?start="), WAIT)
        .await;
    let (status, _) = sigterm(bot, &log).await;
    assert_eq!(status.code(), Some(0), "{}", log.lock());
    let after = log.lock().clone();

    // A clear error, said once, naming what to check; and the recovery said too.
    let hint = "the database file cannot be written: is the disk full";
    assert!(during.contains(hint), "{during}");
    assert_eq!(
        during.matches("could not claim due reminders").count(),
        1,
        "the outage is reported once, not every second:\n{during}"
    );
    assert!(during.contains("handler failed"), "{during}");
    assert!(after.contains("the database accepts work again"), "{after}");
    // Each reminder once: the one Telegram answered while the disk was full was
    // recorded once space was back, not sent again.
    assert_eq!(
        burst_messages_sent(&tg).len(),
        total,
        "a reminder went out twice"
    );

    // Nothing half-written: the file is sound, the failed enrollment left no trace, the
    // retried one and Lena's link took, and every reminder is recorded as sent.
    let store = support::app::open_store(&db).await;
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(check, "ok");
    let count = |sql: &'static str| {
        let pool = store.pool().clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    assert_eq!(
        count("SELECT count(*) FROM patients WHERE name = 'Fay Fault'").await,
        1
    );
    assert_eq!(
        count("SELECT count(*) FROM patients WHERE name = 'Lena Late' AND chat_id IS NOT NULL")
            .await,
        1
    );
    assert_eq!(
        count("SELECT count(*) FROM reminders WHERE step_id LIKE 's%' AND status = 'sent'").await,
        total as i64
    );
}

/// The machine slept for three days: when the bot runs again, steps whose expiry passed
/// meanwhile are skipped and recorded, the late ones still worth sending go out in due
/// order per patient, and the backlog is paced under Telegram's limits, not flooded.
/// (The real binary on the system clock: the rows are three days overdue when it
/// starts, which is what a wake-up shows it. The in-process version with a manual
/// clock jump is `delivery::after_three_days_asleep_…`.)
#[tokio::test(flavor = "multi_thread")]
async fn after_three_days_asleep_the_backlog_is_skipped_or_sent_in_order_and_paced() {
    const CHATS: i64 = 60;
    let tg = FakeTelegram::start().await;
    tg.enforce_rate_limits(30, std::time::Duration::from_secs(1));
    let data = tempfile::tempdir().unwrap();
    let messages = burst_messages();
    let db = support::app::db_url(&data);
    let hours = chrono::Duration::hours;
    let due = [
        (hours(-72), Some(hours(12))), // s1: expired two and a half days ago
        (hours(-71), None),            // s2: late, still worth sending
        (hours(-48), Some(hours(72))), // s3: still in time for another day
        (hours(-1), Some(chrono::Duration::minutes(30))), // s4: expired half an hour ago
        (hours(1), None),              // s5: not due yet
    ];
    seed(&tg, &db, CHATS, &due).await;

    let (bot, log) = spawn_bot(&tg, &db, messages.path());
    let total = CHATS as usize * 2;
    eventually("the late steps went out", || async {
        burst_messages_sent(&tg).len() >= total
    })
    .await;
    // Nothing more follows (step 5 is an hour away).
    tg.skip_sent(6000);
    tg.assert_nothing_sent_to(6000, support::app::QUIET).await;
    kill_9(bot, &log).await;

    // Per patient: step 2, then step 3, a second or more apart; nothing else.
    let sent: Vec<_> = tg
        .sent()
        .into_iter()
        .filter(|m| m.text.starts_with("Burst step"))
        .collect();
    assert_eq!(
        sent.len(),
        total,
        "a step went out twice or expired ones were sent"
    );
    for chat in 6000..6000 + CHATS {
        let mine: Vec<_> = sent.iter().filter(|m| m.chat_id == chat).collect();
        assert_eq!(mine.len(), 2, "chat {chat}");
        assert!(
            mine[0].text.starts_with("Burst step 2"),
            "chat {chat}: {}",
            mine[0].text
        );
        assert!(
            mine[1].text.starts_with("Burst step 3"),
            "chat {chat}: {}",
            mine[1].text
        );
        assert!(mine[1].at.duration_since(mine[0].at) >= std::time::Duration::from_secs(1));
    }
    // Paced: Telegram never had to refuse, and no second carried more than 30.
    assert_eq!(tg.count_429(), 0, "the backlog was flooded out");
    let mut times: Vec<_> = sent.iter().map(|m| m.at).collect();
    times.sort();
    let busiest = times
        .iter()
        .map(|t| {
            times
                .iter()
                .filter(|u| **u >= *t && u.duration_since(*t) < std::time::Duration::from_secs(1))
                .count()
        })
        .max()
        .unwrap();
    assert!(busiest <= 30, "{busiest} messages within one second");

    // The expired steps are recorded as skipped; the future one waits.
    let store = support::app::open_store(&db).await;
    let statuses: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT step_id, status, count(*) FROM reminders GROUP BY step_id, status ORDER BY step_id",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let expect = |step: &str, status: &str| (step.to_string(), status.to_string(), CHATS);
    assert_eq!(
        statuses,
        vec![
            expect("s1", "skipped"),
            expect("s2", "sent"),
            expect("s3", "sent"),
            expect("s4", "skipped"),
            expect("s5", "pending"),
        ]
    );
}
