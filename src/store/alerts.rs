//! Alerts: something a clinic's staff must act on, open until someone marks it handled.
//! An alert still open at its `realert_at` goes to the owners again; the scheduler
//! claims it with a short lease (the same at-least-once rule as reminders).

use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

use super::{Store, from_millis, millis};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Alert {
    pub id: i64,
    pub clinic_id: i64,
    pub patient_id: Option<i64>,
    /// NULL once the patient's data is erased.
    pub patient_name: Option<String>,
    pub kind: String,
    pub created_at: i64,
    pub handled_by_name: Option<String>,
    pub handled_at: Option<i64>,
}

impl Alert {
    pub fn created(&self) -> DateTime<Utc> {
        from_millis(self.created_at)
    }
    pub fn handled(&self) -> Option<DateTime<Utc>> {
        self.handled_at.map(from_millis)
    }
}

const ALERT_SELECT: &str = "SELECT a.id, a.clinic_id, a.patient_id, p.name AS patient_name, a.kind,
        a.created_at, a.handled_by_name, a.handled_at
 FROM alerts a LEFT JOIN patients p ON p.id = a.patient_id";

pub async fn insert_alert(
    conn: &mut SqliteConnection,
    clinic_id: i64,
    patient_id: i64,
    kind: &str,
    now: DateTime<Utc>,
    realert_at: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO alerts (clinic_id, patient_id, kind, created_at, realert_at) VALUES (?, ?, ?, ?, ?)
         RETURNING id",
    )
    .bind(clinic_id)
    .bind(patient_id)
    .bind(kind)
    .bind(millis(now))
    .bind(millis(realert_at))
    .fetch_one(conn)
    .await
}

pub async fn alert_in(conn: &mut SqliteConnection, id: i64) -> Result<Option<Alert>, sqlx::Error> {
    let sql = format!("{ALERT_SELECT} WHERE a.id = ?");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Marks an open alert handled; false when someone was first.
pub async fn mark_handled(
    conn: &mut SqliteConnection,
    id: i64,
    user_id: i64,
    user_name: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE alerts SET handled_by = ?, handled_by_name = ?, handled_at = ?, realert_at = NULL
         WHERE id = ? AND handled_at IS NULL",
    )
    .bind(user_id)
    .bind(user_name)
    .bind(millis(now))
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The patient's latest open alert other than `except` that holds the all-clear (a
/// check-in answer; not a request to book or to reschedule), if any.
pub async fn other_open_red_flag(
    conn: &mut SqliteConnection,
    patient_id: i64,
    except: i64,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM alerts WHERE patient_id = ? AND id <> ? AND handled_at IS NULL
           AND kind IN ('redness', 'infection', 'other')
         ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(patient_id)
    .bind(except)
    .fetch_optional(conn)
    .await
}

impl Store {
    pub async fn alert(&self, id: i64) -> Result<Option<Alert>, sqlx::Error> {
        let mut conn = self.pool.acquire().await?;
        alert_in(&mut conn, id).await
    }

    /// A clinic's open alerts, oldest first.
    pub async fn open_alerts(&self, clinic_id: i64, limit: i64) -> Result<Vec<Alert>, sqlx::Error> {
        let sql = format!(
            "{ALERT_SELECT} WHERE a.clinic_id = ? AND a.handled_at IS NULL ORDER BY a.created_at, a.id LIMIT ?"
        );
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(clinic_id)
            .bind(limit)
            .fetch_all(&self.pool)
            .await
    }

    /// A patient's open alerts, oldest first.
    pub async fn open_alerts_of(&self, patient_id: i64) -> Result<Vec<Alert>, sqlx::Error> {
        let sql = format!(
            "{ALERT_SELECT} WHERE a.patient_id = ? AND a.handled_at IS NULL ORDER BY a.created_at, a.id"
        );
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(patient_id)
            .fetch_all(&self.pool)
            .await
    }

    /// Every alert about a patient, handled or not, oldest first.
    pub async fn alerts_of(&self, patient_id: i64) -> Result<Vec<Alert>, sqlx::Error> {
        let sql = format!("{ALERT_SELECT} WHERE a.patient_id = ? ORDER BY a.created_at, a.id");
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(patient_id)
            .fetch_all(&self.pool)
            .await
    }

    /// Claims open alerts whose re-alert is due, leasing them until `lease_until`.
    pub async fn claim_due_realerts(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Vec<Alert>, sqlx::Error> {
        let mut tx = self.begin().await?;
        let ids: Vec<i64> = sqlx::query_scalar(
            "UPDATE alerts SET realert_at = ? WHERE handled_at IS NULL AND realert_at <= ? RETURNING id",
        )
        .bind(millis(lease_until))
        .bind(millis(now))
        .fetch_all(&mut *tx)
        .await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(a) = alert_in(&mut tx, id).await? {
                out.push(a);
            }
        }
        tx.commit().await?;
        Ok(out)
    }

    /// The re-alert went out: it is not repeated.
    pub async fn finish_realert(&self, id: i64, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE alerts SET realert_at = NULL, realerted_at = ? WHERE id = ?")
            .bind(millis(now))
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The earliest re-alert still to go out, for the scheduler's sleep.
    pub async fn next_realert(&self) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
        let next: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(realert_at) FROM alerts WHERE realert_at IS NOT NULL AND handled_at IS NULL",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(next.map(from_millis))
    }
}
