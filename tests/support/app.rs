//! Runs the real bot (dispatcher + scheduler) in-process against the fake Bot API, with
//! a fresh SQLite file and a manual clock.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use aftercare::app::{Settings, StartError};
use aftercare::clock::{Clock, ManualClock};
use aftercare::outbox::pacer::Limits;
use aftercare::store::Store;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use tempfile::TempDir;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::fake_telegram::{FakeTelegram, SentMessage, TestUser};

/// How long a test waits for the bot to say something before failing.
pub const WAIT: Duration = Duration::from_secs(10);
/// How long a test watches for something that must not happen.
pub const QUIET: Duration = Duration::from_millis(400);

pub struct TestApp {
    pub tg: FakeTelegram,
    pub clock: ManualClock,
    pub dir: Arc<TempDir>,
    pub store: Store,
    stop: watch::Sender<bool>,
    handle: JoinHandle<Result<(), StartError>>,
}

/// The database pool size, as `aftercare run` reads it: `AFTERCARE_DB_CONNECTIONS`, else
/// the default. `.ci/run` runs the suite a second time with 1.
pub fn db_connections() -> u32 {
    std::env::var("AFTERCARE_DB_CONNECTIONS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(aftercare::store::DEFAULT_CONNECTIONS)
}

/// Opens the test database with the pool size the bot uses.
pub async fn open_store(url: &str) -> Store {
    Store::open(url, db_connections()).await.unwrap()
}

pub fn messages_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("messages")
}

/// Monday 23 November 2026, 13:00 UTC (14:00 in Berlin).
pub fn start_time() -> DateTime<Utc> {
    "2026-11-23T13:00:00Z".parse().unwrap()
}

impl TestApp {
    pub async fn start() -> TestApp {
        Self::start_with_limits(fast_limits()).await
    }

    pub async fn start_with_limits(limits: Limits) -> TestApp {
        let tg = FakeTelegram::start().await;
        let clock = ManualClock::new(start_time());
        let dir = Arc::new(tempfile::tempdir().unwrap());
        Self::launch(tg, clock, dir, limits, Default::default()).await
    }

    pub async fn start_with(tg: FakeTelegram, clock: ManualClock, dir: Arc<TempDir>) -> TestApp {
        Self::launch(tg, clock, dir, fast_limits(), Default::default()).await
    }

    /// With the service side (`--http`, backups…) set as given.
    pub async fn start_with_ops(ops: aftercare::app::Operations) -> TestApp {
        let tg = FakeTelegram::start().await;
        let clock = ManualClock::new(start_time());
        let dir = Arc::new(tempfile::tempdir().unwrap());
        Self::launch(tg, clock, dir, fast_limits(), ops).await
    }

    async fn launch(
        tg: FakeTelegram,
        clock: ManualClock,
        dir: Arc<TempDir>,
        limits: Limits,
        ops: aftercare::app::Operations,
    ) -> TestApp {
        let url = db_url(&dir);
        let settings = Settings {
            database_url: url.clone(),
            db_connections: db_connections(),
            messages_dir: messages_dir(),
            token: super::fake_telegram::TOKEN.to_string(),
            api_url: Some(tg.api_url().parse().unwrap()),
            poll_timeout: Duration::from_secs(1),
            limits,
            ops,
        };
        // Opened (and migrated) before the bot starts, so the two never migrate at once.
        let store = open_store(&url).await;
        let (stop, shutdown) = watch::channel(false);
        let c: Arc<dyn Clock> = Arc::new(clock.clone());
        let handle = tokio::spawn(aftercare::app::run(settings, c, shutdown));

        TestApp {
            tg,
            clock,
            dir,
            store,
            stop,
            handle,
        }
    }

    /// Stops the bot as SIGTERM would and returns what it ran on.
    pub async fn stop(self) -> (FakeTelegram, ManualClock, Arc<TempDir>) {
        let _ = self.stop.send(true);
        let result = tokio::time::timeout(Duration::from_secs(12), self.handle)
            .await
            .expect("the bot did not stop within 12 s")
            .expect("the bot task panicked");
        result.expect("the bot failed");
        self.store.close().await;
        (self.tg, self.clock, self.dir)
    }

    pub async fn restart(self) -> TestApp {
        let (tg, clock, dir) = self.stop().await;
        Self::start_with(tg, clock, dir).await
    }

    /// Creates a clinic the way `aftercare clinic add` does; returns its id and owner link payload.
    pub async fn create_clinic(&self, name: &str, tz: &str) -> (i64, String) {
        let tz: Tz = tz.parse().unwrap();
        let c = aftercare::service::clinic::create_clinic(&self.store, name, tz, self.clock.now())
            .await
            .unwrap();
        (c.clinic_id, c.owner_payload)
    }

    /// A clinic with `owner` as its owner, who has seen the welcome.
    pub async fn clinic_with_owner(&self, owner: &TestUser, name: &str, tz: &str) -> i64 {
        let (id, payload) = self.create_clinic(name, tz).await;
        self.tg.send_text(owner, &format!("/start {payload}"));
        self.tg
            .wait_for(owner.id, |m| m.plain_text().contains("owner of"), WAIT)
            .await;
        id
    }

    /// `/enroll <args>` by `staff`; returns the patient link's payload.
    pub async fn enroll(&self, staff: &TestUser, args: &str) -> String {
        self.tg.send_text(staff, &format!("/enroll {args}"));
        let m = self
            .tg
            .wait_for(staff.id, |m| m.plain_text().contains("?start="), WAIT)
            .await;
        payload_of(&m)
    }

    /// Enrolls and links a patient; returns after the greeting.
    pub async fn linked_patient(
        &self,
        staff: &TestUser,
        patient: &TestUser,
        args: &str,
    ) -> SentMessage {
        let payload = self.enroll(staff, args).await;
        self.tg.send_text(patient, &format!("/start {payload}"));
        self.tg
            .wait_for(patient.id, |m| m.plain_text().contains("welcome"), WAIT)
            .await
    }

    /// Glow Clinic (Berlin) with Olga as its owner and Anna linked for a 14:00 session,
    /// her first message received and Olga's messages so far skipped. Returns the
    /// clinic's id.
    #[allow(dead_code)] // not every test binary uses it
    pub async fn glow_with_anna(&self) -> i64 {
        use super::people::{anna, owner};
        let id = self
            .clinic_with_owner(&owner(), "Glow Clinic", "Europe/Berlin")
            .await;
        self.linked_patient(&owner(), &anna(), "Anna Berg 14:00")
            .await;
        self.tg
            .wait_for(anna().id, |m| m.plain_text().contains("mild sunburn"), WAIT)
            .await;
        self.tg.skip_sent(owner().id);
        id
    }

    /// Makes `user` a staff member of `clinic` (as an invite would) and waits until the
    /// bot answers them as staff.
    #[allow(dead_code)] // not every test binary uses it
    pub async fn add_staff(&self, clinic: i64, user: &TestUser) {
        sqlx::query(
            "INSERT INTO staff (clinic_id, user_id, role, created_at) VALUES (?, ?, 'staff', 0)",
        )
        .bind(clinic)
        .bind(user.id)
        .execute(self.store.pool())
        .await
        .unwrap();
        self.tg.send_text(user, "/help");
        self.tg
            .wait_for(user.id, |m| m.plain_text().contains("Staff commands"), WAIT)
            .await;
    }

    /// Olga sends `command` and waits for her answer containing `expect`.
    #[allow(dead_code)] // not every test binary uses it
    pub async fn owner_says(&self, command: &str, expect: &str) -> SentMessage {
        let owner = super::people::owner();
        self.tg.send_text(&owner, command);
        self.tg
            .wait_for(owner.id, |m| m.plain_text().contains(expect), WAIT)
            .await
    }

    /// `staff` changes a text with `/edit <key> en` and saves the preview.
    #[allow(dead_code)] // not every test binary edits texts
    pub async fn save_text(&self, staff: &TestUser, key: &str, text: &str) {
        self.tg.send_text(staff, &format!("/edit {key} en"));
        self.tg
            .wait_for(
                staff.id,
                |m| m.plain_text().contains("Send me the new text"),
                WAIT,
            )
            .await;
        self.tg.send_text(staff, text);
        let preview = self
            .tg
            .wait_for(
                staff.id,
                |m| m.buttons().iter().any(|(label, _)| label == "Save"),
                WAIT,
            )
            .await;
        let save = preview
            .buttons()
            .into_iter()
            .find(|(l, _)| l == "Save")
            .and_then(|(_, d)| d)
            .unwrap();
        self.tg.press_button(staff, preview.message_id, &save);
        self.tg
            .wait_for(staff.id, |m| m.plain_text().starts_with("Saved:"), WAIT)
            .await;
    }

    /// Runs a SQL query returning one integer, for assertions on stored state.
    pub async fn count(&self, sql: &'static str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(self.store.pool())
            .await
            .unwrap()
    }
}

/// Pacing for tests that are not about pacing: fast, but still one chat at a time.
pub fn fast_limits() -> Limits {
    Limits {
        global_gap: Duration::from_millis(2),
        chat_gap: Duration::from_millis(30),
    }
}

/// Waits until `check` holds, re-checking every few milliseconds (for stored state,
/// which has no notification to wait on).
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub fn db_url(dir: &TempDir) -> String {
    format!("sqlite://{}", dir.path().join("aftercare.db").display())
}

/// The `start` payload in a message holding a deep link.
pub fn payload_of(m: &SentMessage) -> String {
    let text = m.plain_text();
    let at = text.find("?start=").expect("no deep link in the message") + "?start=".len();
    text[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect()
}

/// Holds SQLite's write lock on the test database from another connection for `hold`,
/// as a backup tool or a stuck process would. Returns once the lock is taken.
pub async fn hold_write_lock(url: &str, hold: Duration) -> JoinHandle<()> {
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut conn)
        .await
        .unwrap();
    tokio::spawn(async move {
        tokio::time::sleep(hold).await;
        sqlx::query("COMMIT").execute(&mut conn).await.unwrap();
    })
}
