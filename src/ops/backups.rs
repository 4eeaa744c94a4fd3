//! Backups: one checked copy (`aftercare backup`, and each scheduled one), the schedule
//! inside `run` (`--backup-dir DIR --backup-every 24h --backup-keep 14`), and putting a
//! copy back (`aftercare restore`).
//!
//! A copy is made online with `VACUUM INTO` (a consistent snapshot while the bot runs),
//! checked with `PRAGMA integrity_check`, made readable by its owner only, and only
//! then given its final name, so a half-written or damaged copy never looks like a
//! backup. The schedule runs on the injected clock, so tests move it by hand.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use sqlx::Connection;
use tokio::sync::watch;

use super::Telemetry;
use crate::clock::Clock;
use crate::store::Store;

/// What `run` backs up, how often, and how many copies it keeps.
#[derive(Clone, Debug)]
pub struct BackupPlan {
    pub dir: PathBuf,
    pub every: Duration,
    pub keep: usize,
}

/// A scheduled copy's file name: `aftercare-20261123T130000Z.db` (sorts by time).
const PREFIX: &str = "aftercare-";
const SUFFIX: &str = ".db";
const STAMP: &str = "%Y%m%dT%H%M%SZ";
/// The longest wait before trying again after a failed backup.
const RETRY_MAX: Duration = Duration::from_secs(3600);

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}: already exists; choose a new file")]
    Exists(String),
    #[error("{path}: {why}")]
    Io { path: String, why: String },
    #[error("{path}: the copy failed: {source}")]
    Copy { path: String, source: sqlx::Error },
    #[error("{path}: the copy is damaged ({found})")]
    Damaged { path: String, found: String },
}

fn io(path: &Path, e: impl std::fmt::Display) -> BackupError {
    BackupError::Io {
        path: path.display().to_string(),
        why: e.to_string(),
    }
}

/// Checks a database file with `PRAGMA integrity_check`, opened read-only.
pub async fn check_integrity(path: &Path) -> Result<(), BackupError> {
    let shown = || path.display().to_string();
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .read_only(true);
    let mut conn = sqlx::SqliteConnection::connect_with(&options)
        .await
        .map_err(|source| BackupError::Copy {
            path: shown(),
            source,
        })?;
    let found: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await
        .map_err(|source| BackupError::Copy {
            path: shown(),
            source,
        })?;
    let _ = conn.close().await;
    if found.len() == 1 && found[0] == "ok" {
        Ok(())
    } else {
        Err(BackupError::Damaged {
            path: shown(),
            found: found.join("; ").chars().take(200).collect(),
        })
    }
}

/// Writes a checked, owner-only copy of the database to `path` (which must not exist).
pub async fn copy_checked(store: &Store, path: &Path) -> Result<(), BackupError> {
    if path.exists() {
        return Err(BackupError::Exists(path.display().to_string()));
    }
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let _ = std::fs::remove_file(&partial);
    let result = async {
        store
            .backup_to(&partial.to_string_lossy())
            .await
            .map_err(|source| BackupError::Copy {
                path: path.display().to_string(),
                source,
            })?;
        restrict_to_owner(&partial);
        check_integrity(&partial).await?;
        std::fs::rename(&partial, path).map_err(|e| io(path, e))
    }
    .await;
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

pub fn restrict_to_owner(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
}

/// The scheduled copies in `dir`, oldest first, with when each was taken.
pub fn scheduled_copies(dir: &Path) -> Vec<(DateTime<Utc>, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<(DateTime<Utc>, PathBuf)> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let stamp = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
            let at = NaiveDateTime::parse_from_str(stamp, STAMP).ok()?.and_utc();
            Some((at, e.path()))
        })
        .collect();
    found.sort();
    found
}

/// The copies beyond the newest `keep`, which rotation removes.
pub fn beyond_limit(
    copies: &[(DateTime<Utc>, PathBuf)],
    keep: usize,
) -> &[(DateTime<Utc>, PathBuf)] {
    &copies[..copies.len().saturating_sub(keep.max(1))]
}

impl BackupPlan {
    /// Takes one scheduled copy now and removes the oldest beyond the limit.
    pub async fn take(&self, store: &Store, now: DateTime<Utc>) -> Result<PathBuf, BackupError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| io(&self.dir, e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o700));
        }
        let path = self
            .dir
            .join(format!("{PREFIX}{}{SUFFIX}", now.format(STAMP)));
        copy_checked(store, &path).await?;
        let copies = scheduled_copies(&self.dir);
        for (_, old) in beyond_limit(&copies, self.keep) {
            if let Err(e) = std::fs::remove_file(old) {
                tracing::warn!(path = %old.display(), error = %e, "could not remove an old backup");
            }
        }
        Ok(path)
    }

    /// Takes a copy every `every` on `clock` until shutdown; the first is due `every`
    /// after the newest copy already in the folder (at once when there is none).
    pub async fn run(
        self,
        store: Store,
        clock: Arc<dyn Clock>,
        telemetry: Arc<Telemetry>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let every = chrono::Duration::from_std(self.every).unwrap_or(chrono::Duration::days(1));
        let mut next = scheduled_copies(&self.dir)
            .last()
            .map(|(at, _)| *at + every)
            .unwrap_or_else(|| clock.now());
        loop {
            tokio::select! {
                _ = clock.sleep_until(next) => {}
                _ = shutdown.wait_for(|s| *s) => return,
            }
            let now = clock.now();
            if now < next {
                continue;
            }
            match self.take(&store, now).await {
                Ok(path) => {
                    telemetry.metrics.backup(true);
                    tracing::info!(path = %path.display(), "backup written and checked");
                    next = now + every;
                }
                Err(e) => {
                    telemetry.metrics.backup(false);
                    tracing::error!(error = %e, "scheduled backup failed");
                    let retry = self.every.min(RETRY_MAX);
                    next = now + chrono::Duration::from_std(retry).unwrap_or(every);
                }
            }
        }
    }
}

/// Puts `backup` in place of the database at `db` (the bot must be stopped): checks the
/// copy, writes it next to the database, renames it over, and removes the old WAL and
/// shared-memory files, which belong to the replaced database.
pub async fn restore(backup: &Path, db: &Path) -> Result<(), BackupError> {
    if !backup.is_file() {
        return Err(io(backup, "no such file"));
    }
    check_integrity(backup).await?;
    let mut staging = db.as_os_str().to_owned();
    staging.push(".restoring");
    let staging = PathBuf::from(staging);
    std::fs::copy(backup, &staging).map_err(|e| io(&staging, e))?;
    restrict_to_owner(&staging);
    for side in ["-wal", "-shm"] {
        let mut p = db.as_os_str().to_owned();
        p.push(side);
        let p = PathBuf::from(p);
        if p.exists() {
            std::fs::remove_file(&p).map_err(|e| io(&p, e))?;
        }
    }
    std::fs::rename(&staging, db).map_err(|e| io(db, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_removes_the_oldest_beyond_the_limit() {
        let at = |h: i64| DateTime::<Utc>::from_timestamp(h * 3600, 0).unwrap();
        let copies: Vec<_> = (0..5)
            .map(|h| (at(h), PathBuf::from(h.to_string())))
            .collect();
        let gone: Vec<_> = beyond_limit(&copies, 2).iter().map(|(t, _)| *t).collect();
        assert_eq!(gone, vec![at(0), at(1), at(2)]);
        assert!(beyond_limit(&copies, 9).is_empty());
        // Keeping none would delete the copy just made.
        assert_eq!(beyond_limit(&copies, 0).len(), 4);
    }

    #[test]
    fn only_scheduled_names_count_as_copies() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "aftercare-20261123T130000Z.db",
            "aftercare-20261122T130000Z.db",
            "aftercare-20261124T130000Z.db.partial",
            "notes.txt",
        ] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        let found = scheduled_copies(dir.path());
        assert_eq!(found.len(), 2);
        assert!(found[0].1.ends_with("aftercare-20261122T130000Z.db"));
    }
}
