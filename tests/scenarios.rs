//! Scenarios against the real binary (`aftercare run` as a child process), the way
//! clinics, staff and patients use it: many at once, with Telegram's limits enforced,
//! random 5xx answers, restarts and hostile input. The course runs on a messages folder
//! whose offsets are compressed (a day passes in a second), so the whole course plays
//! out on the real clock in seconds.

mod support;

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use support::app::{WAIT, messages_dir, payload_of};
use support::fake_telegram::{FakeTelegram, SentMessage, TOKEN, TestUser};

/// How long an answer may take when Telegram answered its first tries with a 500 and
/// the pacing queue is long.
const LATE: Duration = Duration::from_secs(40);

/// One day of the course in real time.
const DAY_MS: u64 = 1000;

/// Each course step of the compressed plan: its id, a phrase only its text has, and its
/// offset after the session in milliseconds.
const STEPS: [(&str, &str, u64); 9] = [
    ("normal-now", "mild sunburn", 0),
    ("hydrate-evening", "aloe vera", 0),
    ("sun-morning", "UVA and UVB", DAY_MS),
    ("makeup-ok", "non-comedogenic", DAY_MS),
    ("activities", "give your skin a break", DAY_MS),
    ("checkin-day3", "how is your skin feeling", 3 * DAY_MS),
    ("activities-ok", "gradually go back", 5 * DAY_MS),
    (
        "checkin-day7",
        "We hope your skin is feeling good",
        7 * DAY_MS,
    ),
    ("book-next", "good time to book", 9 * DAY_MS),
];

/// Turns a humantime offset of the shipped plan into the compressed one (a day a
/// second, an hour 1/24 of it), in milliseconds.
fn compress(value: &str) -> String {
    let (number, unit) = value.split_at(value.find(|c: char| c.is_alphabetic()).unwrap());
    let n: u64 = number.parse().unwrap();
    let ms = match unit {
        "s" | "ms" | "m" if n == 0 => 0,
        "h" => n * DAY_MS / 24,
        "d" => n * DAY_MS,
        // Four weeks would make the test wait 28 s: the last step comes on "day 9".
        "w" => 9 * DAY_MS,
        other => panic!("unexpected unit {other} in {value}"),
    };
    format!("{ms}ms")
}

/// A copy of `messages/` whose microneedling plan runs a day a second (clock-time
/// anchors dropped: they only go with whole days).
fn compressed_messages() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["plans", "en", "de"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        for entry in std::fs::read_dir(messages_dir().join(sub)).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), dir.path().join(sub).join(entry.file_name())).unwrap();
        }
    }
    let plan = std::fs::read_to_string(messages_dir().join("plans/microneedling.toml")).unwrap();
    let mut out = String::new();
    for line in plan.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("at =") {
            continue;
        }
        // Expiries stay long: pacing, a 429's retry_after and the backoff after a 500
        // are real time, not compressed, and would let steps expire.
        if trimmed.starts_with("expires =") {
            out.push_str("expires = \"60s\"\n");
            continue;
        }
        if let Some(key) = ["after", "min_gap"]
            .into_iter()
            .find(|k| trimmed.starts_with(&format!("{k} =")))
        {
            let value = trimmed.split('"').nth(1).unwrap();
            out.push_str(&format!("{key} = \"{}\"\n", compress(value)));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    std::fs::write(dir.path().join("plans/microneedling.toml"), out).unwrap();
    dir
}

/// The bot as a child process, its log (stderr) collected.
struct Bot {
    child: Child,
    log: support::process::Log,
}

impl Bot {
    fn spawn(tg: &FakeTelegram, db: &str, messages: &Path) -> Bot {
        let (child, log) = support::process::spawn_bot(&tg.api_url(), db, messages, &[]);
        Bot { child, log }
    }

    fn log(&self) -> String {
        self.log.lock().clone()
    }

    /// SIGTERM, and the exit code once it stopped (within 12 s, else the test fails
    /// with the bot's log), with the whole log.
    fn terminate(mut self) -> (Option<i32>, String) {
        support::process::terminate(&self.child);
        let status =
            support::process::exit_within(&mut self.child, &self.log, Duration::from_secs(12));
        (status.code(), self.log())
    }
}

impl Drop for Bot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Lines of the bot's log that say something failed: errors, panics, a locked database
/// or a pool that ran dry.
fn trouble(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| {
            l.contains(" ERROR ")
                || l.contains("panicked")
                || l.contains("database is locked")
                || l.contains("pool timed out")
        })
        .collect()
}

/// Requests the stand-in refused for a reason other than the faults and limits the
/// test switched on (429s and injected 500s): a 400 "can't parse entities", an unknown
/// chat the bot should have known about…
fn refused(tg: &FakeTelegram) -> Vec<(String, i64, u16, String)> {
    tg.rejected()
        .into_iter()
        .filter(|(_, _, code, _)| *code != 429 && *code != 500)
        .collect()
}

/// `aftercare clinic add` as an operator runs it; the owner link's payload.
async fn clinic_add(tg: &FakeTelegram, db: &str, messages: &Path, name: &str) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_aftercare"));
    command
        .env("TELOXIDE_TOKEN", TOKEN)
        .env("TELOXIDE_API_URL", tg.api_url())
        .env("DATABASE_URL", db)
        .env("AFTERCARE_MESSAGES", messages)
        .args([
            "clinic",
            "add",
            "--name",
            name,
            "--timezone",
            "UTC",
            "--contact",
            "+44 20 1234567",
        ]);
    let out = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let at = stdout.find("?start=").expect("an owner link") + "?start=".len();
    stdout[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect()
}

/// The owner opens their link and turns quiet hours off (the compressed course would
/// otherwise wait for the morning).
async fn become_owner(tg: &FakeTelegram, owner: &TestUser, payload: &str) {
    tg.send_text(owner, &format!("/start {payload}"));
    tg.wait_for(owner.id, |m| m.plain_text().contains("owner of"), WAIT)
        .await;
    tg.send_text(owner, "/settings quiet 00:00 00:00");
    tg.wait_for(owner.id, |m| m.plain_text().contains("uiet"), WAIT)
        .await;
}

/// The links of the next `n` enrollments answered to `staff`.
async fn links(tg: &FakeTelegram, staff: &TestUser, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    for _ in 0..n {
        let m = tg
            .wait_for(staff.id, |m| m.plain_text().contains("?start="), LATE)
            .await;
        out.push(payload_of(&m));
    }
    out
}

/// Which course step a message is, by the phrase only that step's text has.
fn step_of(m: &SentMessage) -> Option<usize> {
    let text = m.plain_text();
    STEPS
        .iter()
        .position(|(_, phrase, _)| text.contains(phrase))
}

/// Every course step `chat` received, in the order it received them.
fn steps_received(tg: &FakeTelegram, chat: i64) -> Vec<(usize, Instant)> {
    tg.sent_to(chat)
        .iter()
        .filter_map(|m| step_of(m).map(|s| (s, m.at)))
        .collect()
}

/// Asserts that `chat` got every step exactly once, in the plan's order, none before
/// its time after `session`.
fn assert_whole_course(tg: &FakeTelegram, chat: i64, session: Instant) {
    let got = steps_received(tg, chat);
    let order: Vec<&str> = got.iter().map(|(s, _)| STEPS[*s].0).collect();
    let want: Vec<&str> = STEPS.iter().map(|(id, _, _)| *id).collect();
    assert_eq!(order, want, "chat {chat} got its course like this");
    for (step, at) in got {
        let due = session + Duration::from_millis(STEPS[step].2);
        assert!(
            at + Duration::from_millis(50) >= due,
            "chat {chat}: {} went out {:?} early",
            STEPS[step].0,
            due - at
        );
    }
}

/// Waits (up to 60 s) until every chat of `chats` has received the whole course, or the
/// database has nothing left to send for them; prints what is missing.
async fn wait_for_courses(tg: &FakeTelegram, db: &str, chats: &[i64]) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let store = support::app::open_store(db).await;
    loop {
        // The stand-in's write number before looking: news after it ends the wait below.
        let (seen, _) = tg.chat_messages_since(u64::MAX);
        let done = chats
            .iter()
            .all(|c| steps_received(tg, *c).len() >= STEPS.len());
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM reminders WHERE status IN ('pending', 'leased')
             AND step_id NOT LIKE '%nudge%'",
        )
        .fetch_one(store.pool())
        .await
        .unwrap();
        if done || (waiting == 0 && Instant::now() > deadline - Duration::from_secs(50)) {
            break;
        }
        if Instant::now() > deadline {
            break;
        }
        // Until the bot writes again (rows finishing unsent are re-read twice a second).
        tg.wait_for_news(seen, Duration::from_millis(500)).await;
    }
    let rows: Vec<(i64, String, String, Option<String>, i64)> = sqlx::query_as(
        "SELECT p.chat_id, r.step_id, r.status, r.note, r.attempts FROM reminders r
         JOIN patients p ON p.id = r.patient_id
         WHERE r.status != 'sent' ORDER BY p.chat_id, r.id",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    for row in rows {
        eprintln!("not sent: {row:?}");
    }
    store.close().await;
}

/// Three clinics each enroll six patients at the same moment, and all eighteen patients
/// open their links within the same second, with Telegram's 30/s overall and 1/s per
/// chat limits enforced and 3% of sends failing with a 500: every patient gets every
/// course message once, in order, never early; no handler fails.
#[tokio::test(flavor = "multi_thread")]
async fn a_morning_rush_of_three_clinics_delivers_every_course_once_in_order() {
    const CLINICS: i64 = 3;
    const PER_CLINIC: i64 = 6;
    let tg = FakeTelegram::start().await;
    let data = tempfile::tempdir().unwrap();
    let messages = compressed_messages();
    let db = support::app::db_url(&data);

    let mut payloads = Vec::new();
    for c in 0..CLINICS {
        payloads.push(clinic_add(&tg, &db, messages.path(), &format!("Clinic {c}")).await);
    }
    let bot = Bot::spawn(&tg, &db, messages.path());
    let owners: Vec<TestUser> = (0..CLINICS)
        .map(|c| TestUser::new(1000 + c, "Owner"))
        .collect();
    for (owner, payload) in owners.iter().zip(&payloads) {
        become_owner(&tg, owner, payload).await;
    }

    tg.enforce_rate_limits(30, Duration::from_secs(1));
    let session = Instant::now();
    for i in 0..PER_CLINIC {
        for owner in &owners {
            tg.send_text(owner, &format!("/enroll Patient{i} Of{}", owner.id));
        }
    }
    let mut patients = Vec::new();
    for (c, owner) in owners.iter().enumerate() {
        for (i, payload) in links(&tg, owner, PER_CLINIC as usize)
            .await
            .into_iter()
            .enumerate()
        {
            patients.push((
                TestUser::new(5000 + 100 * c as i64 + i as i64, "Pat"),
                payload,
            ));
        }
    }
    // Telegram fails some sends, greetings included.
    tg.set_random_faults(0.03, 7);
    for (patient, payload) in &patients {
        tg.send_text(patient, &format!("/start {payload}"));
    }
    let chats: Vec<i64> = patients.iter().map(|(p, _)| p.id).collect();
    wait_for_courses(&tg, &db, &chats).await;
    // The stop lets every send on the wire finish: anything that would come twice is in
    // the stand-in's record once the bot has exited.
    let (code, log) = bot.terminate();
    assert_eq!(code, Some(0), "{log}");
    for (patient, _) in &patients {
        assert_whole_course(&tg, patient.id, session);
        let greetings = tg
            .sent_to(patient.id)
            .iter()
            .filter(|m| m.plain_text().contains("welcome"))
            .count();
        assert_eq!(greetings, 1, "chat {}", patient.id);
    }
    assert_eq!(trouble(&log), Vec::<&str>::new(), "{log}");
    assert_eq!(refused(&tg), vec![]);
}

/// The text of every message to `chat` after the first one containing `marker`.
fn after_marker(tg: &FakeTelegram, chat: i64, marker: &str) -> Vec<String> {
    let texts: Vec<String> = tg.sent_to(chat).iter().map(|m| m.plain_text()).collect();
    let at = texts
        .iter()
        .position(|t| t.contains(marker))
        .unwrap_or_else(|| panic!("chat {chat} never got {marker:?}: {texts:#?}"));
    texts[at + 1..].to_vec()
}

/// Hostile and broken input from staff, strangers and patients; a patient who stops
/// while messages are queued, one who blocks the bot, one who erases their data; a
/// SIGTERM in the middle of the course and a start on the same database. Every person
/// gets a short answer, Telegram refuses nothing the bot sent (no "can't parse
/// entities"), no handler fails, and nothing is sent twice or after a stop.
#[tokio::test(flavor = "multi_thread")]
async fn hostile_input_stops_blocks_erasure_and_a_restart_mid_course() {
    let tg = FakeTelegram::start().await;
    let data = tempfile::tempdir().unwrap();
    let messages = compressed_messages();
    let db = support::app::db_url(&data);
    let payload = clinic_add(&tg, &db, messages.path(), "Glow <b>&amp; Co").await;
    let bot = Bot::spawn(&tg, &db, messages.path());
    tg.enforce_rate_limits(30, Duration::from_secs(1));
    let owner = TestUser::new(1001, "Olga");
    become_owner(&tg, &owner, &payload).await;

    // Broken and hostile commands, all at once.
    let stranger = TestUser::new(9001, "Eve");
    let long_name = "Zoë".repeat(120);
    let hostile = [
        "/enroll",
        "/enroll 25:00",
        "/enroll Anna 30.02. 10:00",
        "/book",
        "/book #999 2030-01-01 10:00",
        "/book #abc",
        "/edit",
        "/edit step.nope",
        "/timing nope 3x",
        "/patient #99999999999999999999",
        "/relink -1",
        "/settings quiet 99:00 08:00",
        "/series #1 0",
    ];
    for text in hostile {
        tg.send_text(&owner, text);
    }
    for text in [
        "/enroll Mallory",
        "/patients",
        "/start forged_payload_0123456789",
        "/stop",
        "/delete",
        "hello",
    ] {
        tg.send_text(&stranger, text);
    }
    tg.send_text(&owner, &format!("/enroll {long_name}"));
    let names = [
        "<b>Bold</b> & <i>Co",
        "🦄 مريم אבי",
        "Ann &amp; &lt;script&gt;",
        "Plain Patient",
    ];
    let session = Instant::now();
    // A bare /edit names /edit in its answer, not only /template.
    tg.send_text(&owner, "/edit");
    let usage = tg
        .wait_for(owner.id, |m| m.plain_text().starts_with("Use:"), WAIT)
        .await;
    assert!(
        usage.plain_text().contains("/edit"),
        "{}",
        usage.plain_text()
    );
    for name in names {
        tg.send_text(&owner, &format!("/enroll {name}"));
    }
    let links = links(&tg, &owner, names.len()).await;
    let patients: Vec<TestUser> = (0..links.len() as i64)
        .map(|i| TestUser::new(5000 + i, "<b>Pat</b> & 🦄"))
        .collect();
    for (p, l) in patients.iter().zip(&links) {
        tg.send_text(p, &format!("/start {l}"));
    }
    for p in &patients {
        tg.wait_for(p.id, |m| m.plain_text().contains("welcome"), WAIT)
            .await;
    }

    // A link used once is spent; a forged one is refused: short answers both.
    tg.send_text(&stranger, &format!("/start {}", links[0]));
    // The stranger got an answer to each of their 7 messages, and nothing else.
    tg.wait_for_count(stranger.id, 7, WAIT).await;
    // Patient 1 stops as soon as the first message came: three more are due.
    let stopper = &patients[1];
    tg.wait_for(
        stopper.id,
        |m| m.plain_text().contains("mild sunburn"),
        WAIT,
    )
    .await;
    tg.send_text(stopper, "/stop");
    tg.wait_for(stopper.id, |m| m.plain_text().contains("stopped"), WAIT)
        .await;
    // Patient 2 blocks the bot after the first message.
    let blocker = &patients[2];
    tg.wait_for(
        blocker.id,
        |m| m.plain_text().contains("mild sunburn"),
        WAIT,
    )
    .await;
    tg.block_bot(blocker.id);

    // SIGTERM mid-course (once the bot met the block), then a start on the same database.
    support::app::eventually("the bot met the blocked chat", || async {
        tg.rejected()
            .iter()
            .any(|(_, chat, code, _)| *chat == blocker.id && *code == 403)
    })
    .await;
    let (code, first_log) = bot.terminate();
    assert_eq!(code, Some(0), "{first_log}");
    let bot = Bot::spawn(&tg, &db, messages.path());
    let keep = [patients[0].id, patients[3].id];
    wait_for_courses(&tg, &db, &keep).await;
    for chat in keep {
        assert_whole_course(&tg, chat, session);
    }
    // Nothing after the stop answer; nothing tried after the block.
    assert_eq!(
        after_marker(&tg, stopper.id, "stopped"),
        Vec::<String>::new()
    );
    let tried_blocked = tg
        .rejected()
        .into_iter()
        .filter(|(_, chat, code, _)| *chat == blocker.id && *code == 403)
        .count();
    assert_eq!(tried_blocked, 1, "the bot kept writing to a blocked chat");

    // Patient 3 erases everything.
    let eraser = &patients[3];
    tg.skip_sent(eraser.id);
    tg.send_text(eraser, "/delete");
    let confirm = tg
        .wait_for(eraser.id, |m| !m.button_data().is_empty(), WAIT)
        .await;
    let (_, data) = confirm
        .buttons()
        .into_iter()
        .find(|(label, _)| label.contains("erase"))
        .expect("an erase button");
    tg.press_button(eraser, confirm.message_id, &data.unwrap());
    tg.wait_for(eraser.id, |m| m.plain_text().contains("erased"), WAIT)
        .await;
    let (code, log) = bot.terminate();
    assert_eq!(code, Some(0), "{log}");

    let store = support::app::open_store(&db).await;
    let left: Vec<(i64, Option<i64>, String)> =
        sqlx::query_as("SELECT id, chat_id, name FROM patients WHERE chat_id = ? OR name = ?")
            .bind(eraser.id)
            .bind(names[3])
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(left, vec![], "the erased patient is still stored");
    let pending: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM reminders r JOIN patients p ON p.id = r.patient_id
         WHERE p.chat_id IN (?, ?) AND r.status IN ('pending', 'leased')",
    )
    .bind(stopper.id)
    .bind(blocker.id)
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(
        pending, 0,
        "a stopped or blocked patient still has reminders queued"
    );
    store.close().await;

    assert_eq!(trouble(&first_log), Vec::<&str>::new(), "{first_log}");
    assert_eq!(trouble(&log), Vec::<&str>::new(), "{log}");
    let refused: Vec<_> = refused(&tg)
        .into_iter()
        .filter(|(_, chat, code, _)| !(*chat == blocker.id && *code == 403))
        .collect();
    assert_eq!(refused, vec![]);
}
