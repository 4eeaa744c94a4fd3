//! A patient's series of sessions: which session they are in, and how many there are.
//! A new session restarts the course over the same chat: the patient's reminder rows
//! (one per step) are rewritten in place.

use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

use super::{NewReminder, Store, millis};

/// (session number, total if known); session 1 without a row.
pub async fn series_in(
    conn: &mut SqliteConnection,
    patient_id: i64,
) -> Result<(i64, Option<i64>), sqlx::Error> {
    let row: Option<(i64, Option<i64>)> =
        sqlx::query_as("SELECT session_no, total FROM series WHERE patient_id = ?")
            .bind(patient_id)
            .fetch_optional(conn)
            .await?;
    Ok(row.unwrap_or((1, None)))
}

pub async fn set_total(
    conn: &mut SqliteConnection,
    patient_id: i64,
    total: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO series (patient_id, session_no, total) VALUES (?, 1, ?)
         ON CONFLICT (patient_id) DO UPDATE SET total = excluded.total",
    )
    .bind(patient_id)
    .bind(total)
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves the patient to their next session at `session_at`; returns its number.
pub async fn start_next_session(
    conn: &mut SqliteConnection,
    patient_id: i64,
    session_at: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    sqlx::query("UPDATE patients SET session_at = ? WHERE id = ?")
        .bind(millis(session_at))
        .bind(patient_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query_scalar(
        "INSERT INTO series (patient_id, session_no) VALUES (?, 2)
         ON CONFLICT (patient_id) DO UPDATE SET session_no = session_no + 1
         RETURNING session_no",
    )
    .bind(patient_id)
    .fetch_one(conn)
    .await
}

/// Cancels what is still pending and queues `rows` afresh (a step sent in an earlier
/// session is queued again).
pub async fn restart_reminders(
    conn: &mut SqliteConnection,
    patient_id: i64,
    rows: &[NewReminder],
) -> Result<(), sqlx::Error> {
    super::reminders::cancel_pending(&mut *conn, patient_id, "a new session started").await?;
    for r in rows {
        sqlx::query(
            "INSERT INTO reminders (patient_id, step_id, due_at, expires_at, status, note) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (patient_id, step_id) DO UPDATE SET due_at = excluded.due_at,
               expires_at = excluded.expires_at, status = excluded.status, note = excluded.note,
               lease_until = NULL, attempts = 0, telegram_message_id = NULL, sent_at = NULL,
               held_by = NULL",
        )
        .bind(patient_id)
        .bind(&r.step_id)
        .bind(millis(r.due_at))
        .bind(r.expires_at.map(millis))
        .bind(r.status)
        .bind(r.note)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

impl Store {
    pub async fn series_of(&self, patient_id: i64) -> Result<(i64, Option<i64>), sqlx::Error> {
        let mut conn = self.pool.acquire().await?;
        series_in(&mut conn, patient_id).await
    }
}
