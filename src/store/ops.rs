//! What the operator's side (/healthz, /metrics) asks of the database.

use chrono::{DateTime, Utc};

use super::{Store, millis};

/// Figures read at each /metrics scrape.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Gauges {
    /// Reminders waiting for their time (or leased for sending).
    pub pending: i64,
    /// Of those, the ones whose time has passed.
    pub overdue: i64,
    /// Alerts nobody has marked Handled.
    pub open_alerts: i64,
    /// The database file's size in bytes (pages in use and free).
    pub db_bytes: i64,
}

impl Store {
    /// Commits one tiny write, so a full disk or a read-only file shows up here.
    pub async fn probe_write(&self, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO health_probe (id, at) VALUES (1, ?)
             ON CONFLICT (id) DO UPDATE SET at = excluded.at",
        )
        .bind(millis(now))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn ops_gauges(&self, now: DateTime<Utc>) -> Result<Gauges, sqlx::Error> {
        let (pending, overdue): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(due_at <= ?), 0) FROM reminders
             WHERE status IN ('pending', 'leased')",
        )
        .bind(millis(now))
        .fetch_one(self.pool())
        .await?;
        let open_alerts: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM alerts WHERE handled_at IS NULL")
                .fetch_one(self.pool())
                .await?;
        let db_bytes: i64 = sqlx::query_scalar(
            "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
        )
        .fetch_one(self.pool())
        .await?;
        Ok(Gauges {
            pending,
            overdue,
            open_alerts,
            db_bytes,
        })
    }
}
