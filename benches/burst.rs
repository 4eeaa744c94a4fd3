//! B5, the morning rush: 20 clinics enrol 10 patients each, and all 200 open their
//! links within one second. The plan is the microneedling course compressed so that a
//! day passes in a second, so every step falls due while the greetings are still going
//! out. The fake Bot API enforces Telegram's limits (30/s overall, 1/s per chat) and
//! answers 429 to anything over them.
//!
//! Measured: every /start answered and its latency (p50, p99, max); every step of every
//! course delivered; 429s; apologies (handler errors); first link to last message
//! against what 30 messages a second allows.
//!
//! `cargo bench --bench burst`. Sizes: `AFTERCARE_BENCH_B5_CLINICS` (20) ×
//! `AFTERCARE_BENCH_B5_PATIENTS` (10). Real time (the system clock) throughout.

#[path = "../tests/support/fake_telegram.rs"]
mod fake_telegram;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aftercare::app::Settings;
use aftercare::clock::SystemClock;
use aftercare::domain::enroll_args::EnrollArgs;
use aftercare::outbox::pacer::Limits;
use aftercare::store::Store;
use chrono::Utc;
use fake_telegram::{FakeTelegram, TOKEN, TestUser};
use tokio::sync::watch;

/// The microneedling course with a day squeezed into a second.
const COMPRESSED_PLAN: &str = r#"
name = "Microneedling aftercare (compressed: a day is a second)"

[[step]]
id = "normal-now"
after = "0s"

[[step]]
id = "hydrate-evening"
after = "200ms"

[[step]]
id = "sun-morning"
after = "800ms"

[[step]]
id = "makeup-ok"
after = "1s"

[[step]]
id = "activities"
after = "1100ms"

[[step]]
id = "checkin-day3"
after = "3s"
checkin = true

[[step]]
id = "activities-ok"
after = "5s"

[[step]]
id = "checkin-day7"
after = "7s"
checkin = true

[[step]]
id = "book-next"
after = "28s"
"#;

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

async fn b5() {
    let clinics = env_num("AFTERCARE_BENCH_B5_CLINICS", 20);
    let per_clinic = env_num("AFTERCARE_BENCH_B5_PATIENTS", 10);
    let dir = tempfile::tempdir().unwrap();
    let messages = dir.path().join("messages");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("messages"),
        &messages,
    );
    std::fs::write(messages.join("plans/microneedling.toml"), COMPRESSED_PLAN).unwrap();
    let steps = COMPRESSED_PLAN.matches("[[step]]").count();

    let tg = FakeTelegram::start().await;
    tg.enforce_rate_limits(30, Duration::from_secs(1));
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let store = Store::open(&url, aftercare::store::DEFAULT_CONNECTIONS)
        .await
        .unwrap();
    let now = Utc::now();
    let mut patients = Vec::new();
    for c in 0..clinics {
        let created = aftercare::service::clinic::create_clinic(
            &store,
            &format!("Clinic {c}"),
            chrono_tz::UTC,
            now,
        )
        .await
        .unwrap();
        let clinic = store.clinic(created.clinic_id).await.unwrap().unwrap();
        for p in 0..per_clinic {
            let args = EnrollArgs {
                name: format!("Patient {c}-{p}"),
                session_at: now,
            };
            let enrolled = aftercare::service::enroll::enroll(&store, &clinic, 1, &args, now)
                .await
                .unwrap();
            let user = TestUser::new(100_000 + (c * 1000 + p) as i64, "Pat");
            patients.push((user, enrolled.payload));
        }
    }
    // No quiet hours: the rush may be at any hour of the day this runs.
    sqlx::query("UPDATE clinics SET quiet_start = '00:00', quiet_end = '00:00'")
        .execute(store.pool())
        .await
        .unwrap();
    let settings = Settings {
        database_url: url,
        messages_dir: messages,
        token: TOKEN.into(),
        api_url: Some(tg.api_url().parse().unwrap()),
        poll_timeout: Duration::from_secs(1),
        limits: Limits::default(),
        ops: Default::default(),
        db_connections: aftercare::store::DEFAULT_CONNECTIONS,
    };
    let (stop, rx) = watch::channel(false);
    let task = tokio::spawn(aftercare::app::run(settings, Arc::new(SystemClock), rx));
    // Ready once getMe and the menus have gone through.
    while tg.requests("getUpdates") == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    let first = Instant::now();
    let mut asked: HashMap<i64, Instant> = HashMap::new();
    for (user, payload) in &patients {
        asked.insert(user.id, Instant::now());
        tg.send_text(user, &format!("/start {payload}"));
    }
    let opened_in = first.elapsed();
    let expected = patients.len() * (1 + steps);
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let sent = tg
            .sent()
            .iter()
            .filter(|m| asked.contains_key(&m.chat_id))
            .count();
        if sent >= expected || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let sent = tg.sent();
    let last = sent.iter().map(|m| m.at).max().unwrap_or(first);
    let mut answer_latency = Vec::new();
    let mut unanswered = 0;
    for (user, _) in &patients {
        match sent
            .iter()
            .find(|m| m.chat_id == user.id && m.plain_text().contains("welcome"))
        {
            Some(m) => answer_latency.push(m.at.duration_since(asked[&user.id])),
            None => unanswered += 1,
        }
    }
    answer_latency.sort();
    let apologies = sent
        .iter()
        .filter(|m| m.plain_text().contains("something went wrong"))
        .count();
    let delivered = sent
        .iter()
        .filter(|m| asked.contains_key(&m.chat_id))
        .count();
    let took = last.duration_since(first);
    let allowed = Duration::from_secs_f64(delivered as f64 / 30.0);
    println!(
        "B5 burst: {} patients opened their links in {:.0} ms; {delivered}/{expected} messages \
         delivered ({steps} steps + greeting each); {} × 429; {apologies} apologies; \
         {unanswered} /start unanswered",
        patients.len(),
        opened_in.as_secs_f64() * 1000.0,
        tg.count_429(),
    );
    println!(
        "B5 burst: first link to last message {:.2} s; 30/s allows {:.2} s (ratio {:.3}); \
         /start → greeting p50 {:.2} s, p99 {:.2} s, max {:.2} s",
        took.as_secs_f64(),
        allowed.as_secs_f64(),
        took.as_secs_f64() / allowed.as_secs_f64(),
        percentile(&answer_latency, 0.5).as_secs_f64(),
        percentile(&answer_latency, 0.99).as_secs_f64(),
        answer_latency
            .last()
            .copied()
            .unwrap_or_default()
            .as_secs_f64(),
    );
    let _ = stop.send(true);
    let _ = task.await;
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(b5());
}
