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

/// The check-in row a nudge follows up: its reminder id, and whether the patient has
/// answered it in their current session.
pub async fn checkin_state(
    conn: &mut SqliteConnection,
    patient_id: i64,
    step_id: &str,
) -> Result<Option<(i64, bool)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT r.id, EXISTS (SELECT 1 FROM checkin_answers a
                 WHERE a.patient_id = r.patient_id AND a.step_id = r.step_id
                   AND a.session_no = (SELECT COALESCE(MAX(session_no), 1) FROM series WHERE patient_id = r.patient_id))
         FROM reminders r WHERE r.patient_id = ? AND r.step_id = ?",
    )
    .bind(patient_id)
    .bind(step_id)
    .fetch_optional(conn)
    .await
}

/// An active patient who answered neither a check-in nor its nudge.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Silent {
    pub patient_id: i64,
    pub patient_name: String,
    /// The check-in's step id.
    pub step_id: String,
    /// When the check-in went out.
    pub asked_at: i64,
}

impl Silent {
    pub fn asked(&self) -> DateTime<Utc> {
        super::from_millis(self.asked_at)
    }
}

impl Store {
    /// A clinic's active patients still silent after a check-in's nudge window closed
    /// (the nudge went out, or its time passed unsent), oldest check-in first. The nudge
    /// row's step is `nudge-<check-in step>`; the check-in must have gone out in this
    /// session, before the nudge.
    pub async fn silent_after_checkin(
        &self,
        clinic_id: i64,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<Silent>, sqlx::Error> {
        sqlx::query_as(
            "SELECT p.id AS patient_id, p.name AS patient_name, c.step_id, c.sent_at AS asked_at
             FROM reminders n
             JOIN reminders c ON c.patient_id = n.patient_id AND n.step_id = 'nudge-' || c.step_id
             JOIN patients p ON p.id = n.patient_id
             WHERE p.clinic_id = ? AND p.status = 'active'
               AND n.status IN ('sent', 'skipped') AND n.expires_at <= ?
               AND c.status = 'sent' AND c.sent_at <= n.due_at
               AND NOT EXISTS (SELECT 1 FROM checkin_answers a
                 WHERE a.patient_id = p.id AND a.step_id = c.step_id
                   AND a.session_no = (SELECT COALESCE(MAX(session_no), 1) FROM series WHERE patient_id = p.id))
             ORDER BY c.sent_at, p.id LIMIT ?",
        )
        .bind(clinic_id)
        .bind(millis(now))
        .bind(limit)
        .fetch_all(&self.pool)
        .await
    }

    /// The check-in a nudge follows up (see `checkin_state`), for the scheduler.
    pub async fn checkin_state(
        &self,
        patient_id: i64,
        step_id: &str,
    ) -> Result<Option<(i64, bool)>, sqlx::Error> {
        let mut conn = self.pool.acquire().await?;
        checkin_state(&mut conn, patient_id, step_id).await
    }
}
