//! One patient's own changes to their course: moved or switched-off steps and personal
//! notes (`patient_adjustments`).

use chrono::{DateTime, Utc};

use sqlx::SqliteConnection;

use super::{Store, millis};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Adjustment {
    pub kind: String,
    pub step_id: String,
    pub after: Option<String>,
    pub body: Option<String>,
    pub reminder_id: Option<i64>,
}

/// A reminder of the patient not yet sent, by step.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PendingReminder {
    pub id: i64,
    pub step_id: String,
    pub status: String,
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_adjustment(
    conn: &mut SqliteConnection,
    patient_id: i64,
    kind: &str,
    step_id: &str,
    after: Option<&str>,
    body: Option<&str>,
    reminder_id: Option<i64>,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO patient_adjustments
             (patient_id, kind, step_id, after, body, reminder_id, saved_by, saved_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(patient_id)
    .bind(kind)
    .bind(step_id)
    .bind(after)
    .bind(body)
    .bind(reminder_id)
    .bind(user_id)
    .bind(millis(now))
    .execute(conn)
    .await?;
    Ok(())
}

/// The patient's reminder for a step, whatever its status.
pub async fn reminder_of_step(
    conn: &mut SqliteConnection,
    patient_id: i64,
    step_id: &str,
) -> Result<Option<PendingReminder>, sqlx::Error> {
    sqlx::query_as("SELECT id, step_id, status FROM reminders WHERE patient_id = ? AND step_id = ?")
        .bind(patient_id)
        .bind(step_id)
        .fetch_optional(conn)
        .await
}

/// The patient's next reminder still to go out.
pub async fn next_pending(
    conn: &mut SqliteConnection,
    patient_id: i64,
) -> Result<Option<PendingReminder>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, step_id, status FROM reminders
          WHERE patient_id = ? AND status = 'pending' ORDER BY due_at, id LIMIT 1",
    )
    .bind(patient_id)
    .fetch_optional(conn)
    .await
}

impl Store {
    /// Every adjustment of a patient, oldest first.
    pub async fn adjustments_of(&self, patient_id: i64) -> Result<Vec<Adjustment>, sqlx::Error> {
        sqlx::query_as(
            "SELECT kind, step_id, after, body, reminder_id FROM patient_adjustments
              WHERE patient_id = ? ORDER BY id",
        )
        .bind(patient_id)
        .fetch_all(&self.pool)
        .await
    }

    /// The personal notes to show with one reminder, oldest first.
    pub async fn notes_for_reminder(&self, reminder_id: i64) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT body FROM patient_adjustments
              WHERE reminder_id = ? AND kind = 'note' AND body IS NOT NULL ORDER BY id",
        )
        .bind(reminder_id)
        .fetch_all(&self.pool)
        .await
    }
}
