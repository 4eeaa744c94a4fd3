//! Store benchmarks for issue 6: the reminder queue at scale, time to ready, and the
//! idle cost of the scheduler's sleep loop.
//!
//! `cargo bench --bench store`. Plain `main`, no harness. Sizes come from the
//! environment:
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `AFTERCARE_BENCH_PATIENTS` | 100000 | patients in the database (10 reminders each) |
//! | `AFTERCARE_BENCH_REAL_PATIENTS` | 10000 | of those, enrolled through the real store functions |
//! | `AFTERCARE_BENCH_CLAIMS` | 500 | `claim_due` calls measured |
//! | `AFTERCARE_BENCH_CLAIM_LIMIT` | 100 | rows asked for per `claim_due` |
//! | `AFTERCARE_BENCH_IDLE_SECS` | 10 | how long the idle loop is watched |
//! | `AFTERCARE_BENCH_DIR` | a temp dir | where the database goes (kept if set) |
//!
//! The idle and start-up figures come from a child process (this binary run again with
//! `AFTERCARE_BENCH_CHILD` set), so memory used by the setup does not count.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aftercare::clock::{Clock, SystemClock};
use aftercare::store::{NewReminder, ReminderStatus, Store, clinics, patients, reminders};
use chrono::{DateTime, Utc};

const STEPS: [&str; 10] = [
    "normal-now",
    "hydrate-evening",
    "sun-morning",
    "makeup-ok",
    "activities",
    "checkin-day3",
    "activities-ok",
    "checkin-day7",
    "book-next",
    "book-next-2",
];
/// One row in this many is due at the start.
const DUE_ONE_IN: u64 = 100;
const LEASE: chrono::Duration = chrono::Duration::minutes(5);

fn env_num(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .replace('_', "")
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v}: not a number")),
        Err(_) => default,
    }
}

/// A cheap deterministic spread (splitmix64), so runs are comparable.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Due time of row number `k` (0-based over the whole table): one in `DUE_ONE_IN` is
/// due within the last day, the rest spread over the next 8 weeks starting in an hour.
fn due_of(k: u64, now_ms: i64) -> i64 {
    let r = mix(k);
    if k.is_multiple_of(DUE_ONE_IN) {
        now_ms - (r % 86_400_000) as i64 - 1
    } else {
        now_ms + 3_600_000 + (r % (56 * 86_400_000)) as i64
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn summary(label: &str, mut v: Vec<Duration>) {
    v.sort();
    println!(
        "{label}: n={} p50={:.3} ms p99={:.3} ms max={:.3} ms",
        v.len(),
        ms(percentile(&v, 50.0)),
        ms(percentile(&v, 99.0)),
        ms(*v.last().unwrap_or(&Duration::ZERO)),
    );
}

fn file_size(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

fn db_sizes(db: &Path) -> (u64, u64) {
    let wal = PathBuf::from(format!("{}-wal", db.display()));
    (file_size(db), file_size(&wal))
}

fn mib(b: u64) -> f64 {
    b as f64 / (1024.0 * 1024.0)
}

/// VmRSS and VmHWM from /proc/self/status, in KiB.
fn rss_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// utime + stime of the whole process from /proc/self/stat, in clock ticks.
fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The command name (field 2) may hold spaces; fields after the last ')' are fixed.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state); utime is field 14, stime 15.
    let get = |i: usize| {
        f.get(i - 3)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    get(14) + get(15)
}

/// On-CPU time of every live thread of this process, from schedstat, in nanoseconds.
fn cpu_ns_threads() -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    dir.flatten()
        .filter_map(|e| std::fs::read_to_string(e.path().join("schedstat")).ok())
        .filter_map(|s| {
            s.split_whitespace()
                .next()
                .and_then(|v| v.parse::<u64>().ok())
        })
        .sum()
}

async fn explain(store: &Store, label: &str, sql: &str, binds: &[i64]) {
    let mut q = sqlx::query_as::<_, (i64, i64, i64, String)>(sqlx::AssertSqlSafe(sql.to_string()));
    for b in binds {
        q = q.bind(*b);
    }
    let rows = q.fetch_all(store.pool()).await.expect("explain");
    println!("EXPLAIN QUERY PLAN {label}:");
    for (id, parent, _, detail) in rows {
        println!("  [{id} <- {parent}] {detail}");
    }
}

async fn pending_due(store: &Store, now_ms: i64) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM reminders WHERE status = 'pending' AND due_at <= ?")
        .bind(now_ms)
        .fetch_one(store.pool())
        .await
        .expect("count")
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    if let Ok(db) = std::env::var("AFTERCARE_BENCH_CHILD") {
        rt.block_on(child(PathBuf::from(db)));
    } else {
        rt.block_on(parent());
    }
}

async fn parent() {
    let patients_total = env_num("AFTERCARE_BENCH_PATIENTS", 100_000);
    let real = env_num("AFTERCARE_BENCH_REAL_PATIENTS", 10_000).min(patients_total);
    let bulk = patients_total - real;
    let claims = env_num("AFTERCARE_BENCH_CLAIMS", 500);
    let limit = env_num("AFTERCARE_BENCH_CLAIM_LIMIT", 100) as i64;

    let (_keep, dir) = match std::env::var("AFTERCARE_BENCH_DIR") {
        Ok(d) => (None, PathBuf::from(d)),
        Err(_) => {
            let t = tempfile::tempdir().expect("tempdir");
            let p = t.path().to_path_buf();
            (Some(t), p)
        }
    };
    std::fs::create_dir_all(&dir).expect("bench dir");
    let db = dir.join("bench.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let url = format!("sqlite://{}", db.display());
    println!(
        "aftercare store bench: {patients_total} patients x {} reminders = {} rows ({bulk} bulk, {real} real path), db {}",
        STEPS.len(),
        patients_total * STEPS.len() as u64,
        db.display()
    );

    let store = Store::open(&url, aftercare::store::DEFAULT_CONNECTIONS)
        .await
        .expect("open");
    let now: DateTime<Utc> = Utc::now();
    let now_ms = now.timestamp_millis();
    let mut tx = store.begin().await.expect("begin");
    let clinic = clinics::insert_clinic(
        &mut tx,
        "Bench Clinic",
        chrono_tz::Europe::Berlin,
        None,
        now,
    )
    .await
    .expect("clinic");
    tx.commit().await.expect("commit");

    // B1a: bulk load, one transaction, prepared statements (sqlx caches them).
    let t = Instant::now();
    {
        let mut conn = store.pool().acquire().await.expect("conn");
        sqlx::query("BEGIN")
            .execute(&mut *conn)
            .await
            .expect("begin");
        let mut values =
            String::from("INSERT INTO reminders (patient_id, step_id, due_at, status) VALUES ");
        values.push_str(&vec!["(?, ?, ?, 'pending')"; STEPS.len()].join(", "));
        let values: Arc<str> = values.into();
        for p in 0..bulk {
            let pid = p as i64 + 1;
            sqlx::query(
                "INSERT INTO patients (id, clinic_id, name, plan, session_at, chat_id, lang, status, enrolled_by, created_at, linked_at)
                 VALUES (?, ?, ?, 'microneedling', ?, ?, 'en', 'active', 1, ?, ?)",
            )
            .bind(pid)
            .bind(clinic)
            .bind(format!("Patient {pid}"))
            .bind(now_ms - 86_400_000)
            .bind(1_000_000 + pid)
            .bind(now_ms)
            .bind(now_ms)
            .execute(&mut *conn)
            .await
            .expect("patient");
            let mut q = sqlx::query(sqlx::AssertSqlSafe(values.clone()));
            for (s, step) in STEPS.iter().enumerate() {
                let k = p * STEPS.len() as u64 + s as u64;
                q = q.bind(pid).bind(*step).bind(due_of(k, now_ms));
            }
            q.execute(&mut *conn).await.expect("reminders");
        }
        sqlx::query("COMMIT")
            .execute(&mut *conn)
            .await
            .expect("commit");
    }
    let bulk_time = t.elapsed();
    let bulk_rows = bulk * STEPS.len() as u64;
    println!(
        "B1 bulk insert (raw SQL, 1 tx): {bulk_rows} rows in {:.2} s = {:.0} rows/s",
        bulk_time.as_secs_f64(),
        bulk_rows as f64 / bulk_time.as_secs_f64()
    );

    // B1b: the real path, one BEGIN IMMEDIATE transaction per patient as link.rs does.
    let t = Instant::now();
    for p in bulk..patients_total {
        let mut tx = store.begin().await.expect("begin");
        let pid = patients::insert_patient(
            &mut tx,
            clinic,
            &format!("Patient {}", p + 1),
            "microneedling",
            now - chrono::Duration::days(1),
            1,
            now,
        )
        .await
        .expect("patient");
        patients::activate_patient(&mut tx, pid, 1_000_000 + pid, "en", now)
            .await
            .expect("activate");
        let rows: Vec<NewReminder> = STEPS
            .iter()
            .enumerate()
            .map(|(s, step)| NewReminder {
                step_id: step.to_string(),
                due_at: aftercare::store::from_millis(due_of(
                    p * STEPS.len() as u64 + s as u64,
                    now_ms,
                )),
                expires_at: None,
                status: ReminderStatus::Pending,
                note: None,
            })
            .collect();
        reminders::insert_reminders(&mut tx, pid, &rows)
            .await
            .expect("reminders");
        tx.commit().await.expect("commit");
    }
    let real_time = t.elapsed();
    let real_rows = real * STEPS.len() as u64;
    if real > 0 {
        println!(
            "B1 real path (insert_patient + activate_patient + insert_reminders, 1 tx per patient): {real_rows} rows in {:.2} s = {:.0} rows/s, {:.3} ms per patient",
            real_time.as_secs_f64(),
            real_rows as f64 / real_time.as_secs_f64(),
            ms(real_time) / real as f64
        );
    }

    let (db_b, wal_b) = db_sizes(&db);
    println!(
        "B1 file size after load: db {:.1} MiB + wal {:.1} MiB = {:.1} MiB",
        mib(db_b),
        mib(wal_b),
        mib(db_b + wal_b)
    );
    println!("B1 due at start: {}", pending_due(&store, now_ms).await);

    let inner = "SELECT id FROM reminders WHERE status = 'pending' AND due_at <= ? ORDER BY due_at, id LIMIT ?";
    explain(
        &store,
        "claim inner SELECT",
        &format!("EXPLAIN QUERY PLAN {inner}"),
        &[now_ms, limit],
    )
    .await;
    explain(
        &store,
        "claim UPDATE",
        &format!(
            "EXPLAIN QUERY PLAN UPDATE reminders SET status = 'leased', lease_until = ?, attempts = attempts + 1 WHERE id IN ({inner}) RETURNING id"
        ),
        &[now_ms, now_ms, limit],
    )
    .await;
    explain(
        &store,
        "claim per-row SELECT",
        "EXPLAIN QUERY PLAN SELECT r.id, p.name, c.name FROM reminders r JOIN patients p ON p.id = r.patient_id JOIN clinics c ON c.id = p.clinic_id WHERE r.id = ?",
        &[1],
    )
    .await;
    explain(
        &store,
        "next_wakeup",
        "EXPLAIN QUERY PLAN SELECT MIN(t) FROM (
           SELECT MIN(due_at) AS t FROM reminders WHERE status = 'pending'
           UNION ALL SELECT MIN(lease_until) FROM reminders WHERE status = 'leased')",
        &[],
    )
    .await;
    explain(
        &store,
        "release_expired_leases",
        "EXPLAIN QUERY PLAN UPDATE reminders SET status = 'pending', lease_until = NULL
         WHERE status = 'leased' AND lease_until <= ? AND id NOT IN (SELECT value FROM json_each('[]'))",
        &[now_ms],
    )
    .await;

    // B1c: claim_due. After each claim the rows are marked sent (as the scheduler does)
    // and as many future rows are made due, so ~1% stays due throughout.
    let max_id: i64 = sqlx::query_scalar("SELECT MAX(id) FROM reminders")
        .fetch_one(store.pool())
        .await
        .expect("max id");
    let mut claim_t = Vec::new();
    let mut release_t = Vec::new();
    let mut wake_t = Vec::new();
    let mut sent_t = Vec::new();
    let mut claimed_total = 0usize;
    let mut topup = 0u64;
    let mut checkpoint_t = Vec::new();
    for i in 0..claims {
        let now = Utc::now();
        let t = Instant::now();
        store
            .release_expired_leases(now, &[])
            .await
            .expect("release");
        release_t.push(t.elapsed());
        let t = Instant::now();
        let rows = store
            .claim_due(now, now + LEASE, limit, &[])
            .await
            .expect("claim");
        claim_t.push(t.elapsed());
        claimed_total += rows.len();
        let t = Instant::now();
        let _ = store.next_wakeup(&[]).await.expect("next_wakeup");
        wake_t.push(t.elapsed());
        for r in &rows {
            let t = Instant::now();
            store.mark_sent(r.id, i as i32, now).await.expect("sent");
            sent_t.push(t.elapsed());
        }
        // Untimed top-up: turn as many future pending rows into due ones.
        let mut tx = store.begin().await.expect("begin");
        let mut made = 0;
        while made < rows.len() {
            topup += 1;
            let id = (mix(topup ^ 0xABCD) % max_id as u64) as i64 + 1;
            let done = sqlx::query(
                "UPDATE reminders SET due_at = ? WHERE id = ? AND status = 'pending' AND due_at > ?",
            )
            .bind(now_ms - (mix(topup) % 86_400_000) as i64)
            .bind(id)
            .bind(now.timestamp_millis())
            .execute(&mut *tx)
            .await
            .expect("topup");
            made += done.rows_affected() as usize;
        }
        tx.commit().await.expect("commit");
        // Between batches the scheduler finds nothing due and checkpoints (untimed here,
        // timed on its own below).
        let t = Instant::now();
        store.checkpoint().await.expect("checkpoint");
        checkpoint_t.push(t.elapsed());
    }
    println!("B1 claimed {claimed_total} rows in {claims} calls of limit {limit}");
    summary(
        "B1 checkpoint between batches (scheduler, while idle)",
        checkpoint_t,
    );
    summary(&format!("B1 claim_due(limit {limit})"), claim_t);
    summary("B1 next_wakeup", wake_t);
    summary("B1 release_expired_leases(no leases)", release_t);
    summary("B1 mark_sent (per row)", sent_t);

    // The same with the scheduler's own batch size, 50.
    let mut claim50 = Vec::new();
    for _ in 0..claims.min(100) {
        let now = Utc::now();
        let t = Instant::now();
        let rows = store
            .claim_due(now, now + LEASE, 50, &[])
            .await
            .expect("claim");
        claim50.push(t.elapsed());
        for r in &rows {
            store.mark_sent(r.id, 0, now).await.expect("sent");
        }
        store.checkpoint().await.expect("checkpoint");
    }
    summary("B1 claim_due(limit 50, draining)", claim50);

    // Idle state for the child: nothing due, nothing leased.
    sqlx::query("UPDATE reminders SET status = 'sent' WHERE status IN ('pending', 'leased') AND due_at <= ?")
        .bind(Utc::now().timestamp_millis() + 60_000)
        .execute(store.pool())
        .await
        .expect("clear due");
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(store.pool())
        .await
        .expect("checkpoint");
    let (db_b, wal_b) = db_sizes(&db);
    println!(
        "B1 file size after claims + checkpoint: db {:.1} MiB + wal {:.1} MiB",
        mib(db_b),
        mib(wal_b)
    );
    store.close().await;
    drop(store);

    let exe = std::env::current_exe().expect("current exe");
    let status = Command::new(exe)
        .env("AFTERCARE_BENCH_CHILD", &db)
        .status()
        .expect("child");
    assert!(status.success(), "child failed: {status}");
}

/// A fresh process: time to ready, memory, and the idle loop's CPU.
async fn child(db: PathBuf) {
    let url = format!("sqlite://{}", db.display());
    let idle_secs = env_num("AFTERCARE_BENCH_IDLE_SECS", 10);
    let (rss0, _) = rss_kib();

    let t = Instant::now();
    let store = Store::open(&url, aftercare::store::DEFAULT_CONNECTIONS)
        .await
        .expect("open");
    let open_t = t.elapsed();
    let messages = Path::new(env!("CARGO_MANIFEST_DIR")).join("messages");
    let t = Instant::now();
    let catalog = aftercare::app::load_catalog(&messages).expect("catalog");
    let catalog_t = t.elapsed();
    drop(catalog);
    let t = Instant::now();
    let next = store.next_wakeup(&[]).await.expect("next_wakeup");
    let first_wake_t = t.elapsed();
    println!(
        "ready: Store::open + migrate {:.2} ms, load_catalog {:.2} ms, first next_wakeup {:.3} ms (next in {} min)",
        ms(open_t),
        ms(catalog_t),
        ms(first_wake_t),
        next.map(|n| (n - Utc::now()).num_minutes()).unwrap_or(-1)
    );
    let (rss, hwm) = rss_kib();
    println!(
        "memory after open + next_wakeup: VmRSS {:.1} MiB (VmHWM {:.1} MiB; {:.1} MiB before open)",
        rss as f64 / 1024.0,
        hwm as f64 / 1024.0,
        rss0 as f64 / 1024.0
    );

    // One scheduler round when nothing is due, measured on its own.
    let one_round = |store: Store| async move {
        let now = Utc::now();
        store
            .release_expired_leases(now, &[])
            .await
            .expect("release");
        let rows = store
            .claim_due(now, now + LEASE, 50, &[])
            .await
            .expect("claim");
        assert!(rows.is_empty(), "idle child found due rows");
        store.next_wakeup(&[]).await.expect("next_wakeup")
    };
    let rounds = 200;
    let (c0, t0) = (cpu_ns_threads(), Instant::now());
    for _ in 0..rounds {
        one_round(store.clone()).await;
    }
    let per_round_cpu = cpu_ns_threads().saturating_sub(c0) as f64 / rounds as f64 / 1e6;
    println!(
        "idle round (release + empty claim + next_wakeup): {:.3} ms wall, {:.3} ms CPU each",
        ms(t0.elapsed()) / rounds as f64,
        per_round_cpu
    );

    // The scheduler's idle loop on the system clock: sleep until the next due time,
    // at most 60 s at a time, then query again.
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let (ticks0, ns0) = (cpu_ticks(), cpu_ns_threads());
    let start = Instant::now();
    let watch = Duration::from_secs(idle_secs);
    let mut wakes = 0u64;
    let _ = tokio::time::timeout(watch, async {
        loop {
            let next = one_round(store.clone()).await;
            wakes += 1;
            let far = clock.now() + chrono::Duration::days(1);
            clock.sleep_until(next.unwrap_or(far)).await;
        }
    })
    .await;
    let wall = start.elapsed();
    let ticks = cpu_ticks().saturating_sub(ticks0);
    let ns = cpu_ns_threads().saturating_sub(ns0);
    // The loop queries once per wake (at most every 60 s): per minute that is one round
    // plus whatever the process burns between wakes.
    let between = (ns as f64 / 1e6 - wakes as f64 * per_round_cpu).max(0.0);
    let per60 = per_round_cpu + between * 60.0 / wall.as_secs_f64();
    println!(
        "idle loop {:.1} s ({} rounds): CPU {:.3} ms (schedstat, live threads), {} ms (/proc/self/stat at 100 Hz ticks); estimate per 60 s (1 round + between-wake rate): {:.3} ms",
        wall.as_secs_f64(),
        wakes,
        ns as f64 / 1e6,
        ticks * 10,
        per60
    );
    let (rss, hwm) = rss_kib();
    println!(
        "memory after idle loop: VmRSS {:.1} MiB (VmHWM {:.1} MiB)",
        rss as f64 / 1024.0,
        hwm as f64 / 1024.0
    );
    store.close().await;
}
