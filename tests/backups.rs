//! Scheduled backups inside `run`: taken on the (manual) clock, checked, owner-only,
//! rotated; and `aftercare restore` puts one back so the course carries on.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use aftercare::app::Operations;
use aftercare::ops::backups::BackupPlan;
use support::app::{TestApp, WAIT, eventually};
use support::people::{anna, local};

fn copies(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    found.retain(|p| p.extension().is_some_and(|e| e == "db"));
    found.sort();
    found
}

/// The patients and pending reminders a database file holds, read on its own.
async fn contents(path: &Path) -> (Vec<String>, i64) {
    let store = aftercare::store::Store::open(&format!("sqlite://{}", path.display()), 1)
        .await
        .unwrap();
    let names = sqlx::query_scalar("SELECT name FROM patients ORDER BY id")
        .fetch_all(store.pool())
        .await
        .unwrap();
    let pending = sqlx::query_scalar("SELECT COUNT(*) FROM reminders WHERE status = 'pending'")
        .fetch_one(store.pool())
        .await
        .unwrap();
    store.close().await;
    (names, pending)
}

#[tokio::test]
async fn backups_are_taken_on_schedule_rotated_and_one_restores_into_a_running_course() {
    let backups = tempfile::tempdir().unwrap();
    let dir = backups.path().join("backups");
    let app = TestApp::start_with_ops(Operations {
        http: None,
        backups: Some(BackupPlan {
            dir: dir.clone(),
            every: Duration::from_secs(24 * 3600),
            keep: 2,
        }),
        webhook: None,
    })
    .await;
    // None in the folder yet: the first is taken at once.
    eventually("the first backup", || async { copies(&dir).len() == 1 }).await;
    app.glow_with_anna().await;

    // A day later, the second: it holds Anna and her course still to come.
    app.clock.advance(chrono::Duration::hours(24));
    eventually("the second backup", || async { copies(&dir).len() == 2 }).await;
    let second = copies(&dir)[1].clone();
    let (names, pending) = contents(&second).await;
    assert_eq!(names, vec!["Anna Berg".to_string()]);
    assert!(pending > 3, "her course is in the copy: {pending} pending");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&second).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "owner-only: {mode:o}");
    }
    // Kept safe from the next rotation: the copy we restore later.
    let kept = backups.path().join("kept.db");
    std::fs::copy(&second, &kept).unwrap();

    // A third: the oldest goes, two stay.
    app.clock.advance(chrono::Duration::hours(24));
    eventually("the third backup, the first removed", || async {
        let c = copies(&dir);
        c.len() == 2 && c[0] == second
    })
    .await;
    assert!(
        !std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().ends_with(".partial")),
        "no half-written copies left behind"
    );

    // The course moves on past the backup (day 3 check-in), then the database is lost
    // and the copy of day 1 restored.
    app.clock.set(local("Europe/Berlin", "2026-11-26 10:00"));
    app.tg
        .wait_for(
            anna().id,
            |m| m.plain_text().contains("how is your skin feeling"),
            WAIT,
        )
        .await;
    let (tg, clock, data) = app.stop().await;
    let db = data.path().join("aftercare.db");
    std::fs::write(&db, b"not a database any more").unwrap();
    std::fs::write(data.path().join("aftercare.db-wal"), b"stale").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_aftercare"))
        .args(["restore", kept.to_str().unwrap()])
        .env("DATABASE_URL", format!("sqlite://{}", db.display()))
        .env_remove("TELOXIDE_TOKEN")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !data.path().join("aftercare.db-wal").exists(),
        "stale WAL removed"
    );
    assert_eq!(contents(&db).await.0, vec!["Anna Berg".to_string()]);

    // The bot starts on the restored copy and the course carries on: what was pending
    // at the backup goes out (or is skipped past its expiry) and later steps follow.
    tg.skip_sent(anna().id);
    let app = TestApp::start_with(tg, clock, data).await;
    app.clock.set(local("Europe/Berlin", "2026-11-30 10:00"));
    eventually("the course goes on after the restore", || async {
        !app.tg.sent_to(anna().id).is_empty()
    })
    .await;
    app.stop().await;
}

#[tokio::test]
async fn restore_refuses_a_damaged_copy_and_leaves_the_database_alone() {
    let data = tempfile::tempdir().unwrap();
    let db = data.path().join("aftercare.db");
    std::fs::write(&db, b"the current database").unwrap();
    let bad = data.path().join("bad.db");
    std::fs::write(&bad, b"this is not SQLite").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_aftercare"))
        .args(["restore", bad.to_str().unwrap()])
        .env("DATABASE_URL", format!("sqlite://{}", db.display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("restore failed"));
    assert_eq!(std::fs::read(&db).unwrap(), b"the current database");
}
