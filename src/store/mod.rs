//! Every SQL statement lives under `store/`. SQLite in WAL mode; read-then-write work
//! runs in `BEGIN IMMEDIATE` transactions so two writers never race on a stale read.

pub mod access;
pub mod adjustments;
pub mod alerts;
pub mod bookings;
pub mod checkins;
pub mod clinics;
pub mod course_drafts;
pub mod courses;
pub mod links;
pub mod ops;
pub mod outbox;
pub mod patient_care;
pub mod patient_lookup;
pub mod patients;
pub mod photos;
pub mod reminders;
pub mod series;
pub mod stats;
pub mod templates;
pub mod threads;
pub mod timing;
pub mod url;

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{SqlitePool, Transaction};

pub use access::{Audit, AuditEntry, StaffMember};
pub use alerts::Alert;
pub use bookings::Booking;
pub use checkins::CheckinTarget;
pub use clinics::{Clinic, StaffRole};
pub use links::{Link, LinkKind};
pub use patient_lookup::Lookup;
pub use patients::{Patient, PatientListing, PatientStatus};
pub use reminders::{Claimed, NewReminder, ReminderStatus, Upcoming};
pub use threads::{RelayCopy, RelayPart, Thread};

pub type Tx = Transaction<'static, sqlx::Sqlite>;

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("{0}")]
    BadUrl(url::BadDatabaseUrl),
    #[error("{path}: cannot open the database: {source}")]
    Open { path: String, source: sqlx::Error },
    #[error("{path}: cannot apply migrations: {source}")]
    Migrate {
        path: String,
        source: sqlx::migrate::MigrateError,
    },
}

/// How many connections the pool holds unless told otherwise (`--db-connections`).
pub const DEFAULT_CONNECTIONS: u32 = 4;

/// How long a pool of one connection waits for it. A use case that wants a second
/// connection while its transaction holds the only one waits forever otherwise; this
/// makes it fail well within a test's 10 s wait, yet lets a handler queue behind a
/// transaction that waits a few seconds for another process's write lock.
const SOLE_CONNECTION_WAIT: Duration = Duration::from_secs(5);

/// The database handle.
#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Opens (creating if missing) and migrates the database at `url`, with a pool of
    /// `connections` connections.
    ///
    /// With one connection, a second acquire while a transaction holds it can never
    /// succeed: it fails after 5 s instead of the default 30 s, so a use case that
    /// reaches for the pool inside its transaction shows up as a failure at once (the
    /// test suite runs a second time this way in `.ci/run`).
    pub async fn open(url: &str, connections: u32) -> Result<Store, OpenError> {
        let url = url::sqlite_url(url).map_err(OpenError::BadUrl)?;
        let options = SqliteConnectOptions::from_str(&url).map_err(|_| {
            OpenError::BadUrl(url::BadDatabaseUrl::NotAPath(
                url.chars().take(60).collect(),
            ))
        })?;
        let path = options.get_filename().display().to_string();
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // Without a limit the WAL file keeps its peak size after a large write.
            .pragma("journal_size_limit", "67108864")
            // The scheduler checkpoints while it waits (`Store::checkpoint`), so the
            // claim on the hot path rarely pays for one; this is only the backstop.
            .pragma("wal_autocheckpoint", "10000");
        restrict_permissions_before_create(options.get_filename().to_path_buf());
        let connections = connections.max(1);
        let mut pool_options = SqlitePoolOptions::new().max_connections(connections);
        if connections == 1 {
            pool_options = pool_options.acquire_timeout(SOLE_CONNECTION_WAIT);
        }
        let pool = pool_options
            .before_acquire(|conn, _| Box::pin(async move { Ok(!stuck_in_transaction(conn)) }))
            .connect_with(options)
            .await
            .map_err(|source| OpenError::Open {
                path: path.clone(),
                source,
            })?;
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .map_err(|source| OpenError::Migrate { path, source })?;
        Ok(Store { pool })
    }

    /// Fails when the database cannot be written (a read-only file or mount), so the bot
    /// refuses to start instead of failing every reminder later.
    pub async fn check_writable(&self) -> Result<(), sqlx::Error> {
        let mut tx = self.begin().await?;
        // Taking the lock is not enough on a read-only connection; a real (undone)
        // write is: the header's user_version, set to what it already is.
        let version: i64 = sqlx::query_scalar("PRAGMA user_version")
            .fetch_one(&mut *tx)
            .await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "PRAGMA user_version = {version}"
        )))
        .execute(&mut *tx)
        .await?;
        tx.rollback().await
    }

    /// A transaction that takes the write lock at once (`BEGIN IMMEDIATE`).
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        self.pool.begin_with("BEGIN IMMEDIATE").await
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Copies the WAL back into the database file without waiting for readers. Called
    /// when the scheduler has nothing to claim, so the work happens off the hot path.
    pub async fn checkpoint(&self) -> Result<(), sqlx::Error> {
        sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Whether an idle connection must be closed rather than handed out.
///
/// sqlx counts transaction depth itself. When SQLite rolls a transaction back on its own,
/// as it does when a COMMIT fails with `SQLITE_FULL` or `SQLITE_IOERR`, sqlx's ROLLBACK
/// then fails ("no transaction is active") and its count stays at 1: that connection
/// refuses every later `BEGIN IMMEDIATE` ("non-zero transaction depth"), long after the
/// disk has space again. Checked when a connection leaves the idle queue, after the
/// pool's own pings have let any queued rollback run, so it costs no round trip; the
/// pool opens a fresh connection instead. Found by the disk-full fault test in
/// `tests/faults.rs`.
fn stuck_in_transaction(conn: &sqlx::SqliteConnection) -> bool {
    use sqlx::Connection;
    conn.is_in_transaction()
}

/// The hint logged with an error that means SQLite could not write its files.
pub const CANNOT_WRITE_HINT: &str = "the database file cannot be written: is the disk full or the file read-only? \
     Nothing is lost; work resumes once it can write again";

/// Whether `e` says SQLite could not write its files: the disk is full (`SQLITE_FULL`),
/// a write failed (`SQLITE_IOERR_*`), or the file is read-only (`SQLITE_READONLY_*`).
/// These do not clear up by retrying a moment later, as a busy database does; an
/// operator has to act, so callers say so once instead of repeating a bare error.
pub fn cannot_write(e: &sqlx::Error) -> bool {
    const READONLY: i64 = 8;
    const IOERR: i64 = 10;
    const FULL: i64 = 13;
    e.as_database_error()
        .and_then(|d| d.code())
        .and_then(|code| code.parse::<i64>().ok())
        .is_some_and(|code| matches!(code & 0xff, READONLY | IOERR | FULL))
}

/// Creates the database file readable by its owner only, before SQLite creates it
/// with the process umask. Patient names live in it.
fn restrict_permissions_before_create(path: PathBuf) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        if path.as_os_str().is_empty()
            || path.exists()
            || path.to_string_lossy().contains(":memory:")
        {
            return;
        }
        // Failure here is not fatal: SQLite reports the real problem when it opens.
        let _ = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path);
    }
}

pub(crate) fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub fn from_millis(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}
