//! Check-in answers: the first answer to a check-in step is the one that counts.

use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

use super::{PatientStatus, Store, millis};

/// The patient and step a check-in button belongs to (found by its reminder row).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CheckinTarget {
    pub reminder_id: i64,
    pub step_id: String,
    pub patient_id: i64,
    pub clinic_id: i64,
    pub patient_name: String,
    pub chat_id: Option<i64>,
    pub plan: String,
    pub status: PatientStatus,
}

pub async fn checkin_target(
    conn: &mut SqliteConnection,
    reminder_id: i64,
) -> Result<Option<CheckinTarget>, sqlx::Error> {
    sqlx::query_as(
        "SELECT r.id AS reminder_id, r.step_id, p.id AS patient_id, p.clinic_id,
                p.name AS patient_name, p.chat_id, p.plan, p.status
         FROM reminders r JOIN patients p ON p.id = r.patient_id WHERE r.id = ?",
    )
    .bind(reminder_id)
    .fetch_optional(conn)
    .await
}

/// Records an answer unless the step was answered before in the patient's current
/// session; true when this one counts.
pub async fn record_answer(
    conn: &mut SqliteConnection,
    patient_id: i64,
    step_id: &str,
    answer: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO checkin_answers (patient_id, step_id, session_no, answer, answered_at)
         VALUES (?, ?, (SELECT COALESCE(MAX(session_no), 1) FROM series WHERE patient_id = ?), ?, ?)
         ON CONFLICT (patient_id, step_id, session_no) DO NOTHING",
    )
    .bind(patient_id)
    .bind(step_id)
    .bind(patient_id)
    .bind(answer)
    .bind(millis(now))
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn recorded_answer(
    conn: &mut SqliteConnection,
    patient_id: i64,
    step_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT answer FROM checkin_answers WHERE patient_id = ? AND step_id = ?
         AND session_no = (SELECT COALESCE(MAX(session_no), 1) FROM series WHERE patient_id = ?)",
    )
    .bind(patient_id)
    .bind(step_id)
    .bind(patient_id)
    .fetch_optional(conn)
    .await
}

impl Store {
    /// A patient's check-in answers as (step, answer), for tests and `/patient`.
    pub async fn checkin_answers(
        &self,
        patient_id: i64,
    ) -> Result<Vec<(String, String)>, sqlx::Error> {
        sqlx::query_as(
            "SELECT step_id, answer FROM checkin_answers WHERE patient_id = ? ORDER BY answered_at",
        )
        .bind(patient_id)
        .fetch_all(&self.pool)
        .await
    }
}
