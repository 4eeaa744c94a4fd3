//! Clinics' own timing of plan steps, and moving the reminders already planned.

use chrono::{DateTime, Utc};

use sqlx::SqliteConnection;

use super::millis;

/// One saved timing change; the latest per step is in force.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredTiming {
    pub id: i64,
    pub clinic_id: i64,
    pub plan: String,
    pub step_id: String,
    /// `moved`, `off` or `default`.
    pub kind: String,
    pub after: Option<String>,
    pub at: Option<String>,
}

const COLUMNS: &str = "id, clinic_id, plan, step_id, kind, after, at";

/// A reminder's new due and expiry times; `None` cancels it.
pub type Replan = (i64, Option<(DateTime<Utc>, Option<DateTime<Utc>>)>);

/// A reminder not yet sent of an active patient, with the patient's session time.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PendingStep {
    pub reminder_id: i64,
    pub session_at: i64,
    /// The patient's own zone (/timezone); `None` follows the clinic.
    pub timezone: Option<String>,
}

/// Every timing change of a clinic's plan, oldest first.
pub async fn step_timings(
    conn: &mut SqliteConnection,
    clinic_id: i64,
    plan: &str,
) -> Result<Vec<StoredTiming>, sqlx::Error> {
    let sql =
        format!("SELECT {COLUMNS} FROM step_timings WHERE clinic_id = ? AND plan = ? ORDER BY id");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(clinic_id)
        .bind(plan)
        .fetch_all(conn)
        .await
}

pub async fn step_timing(
    conn: &mut SqliteConnection,
    id: i64,
) -> Result<Option<StoredTiming>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM step_timings WHERE id = ?");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Marks change `id` as applied to enrolled patients; false if it already was (a second
/// press of the button, or two staff members pressing at once).
pub async fn mark_applied(
    conn: &mut SqliteConnection,
    id: i64,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE step_timings SET applied_at = ?, applied_by = ? WHERE id = ? AND applied_at IS NULL",
    )
    .bind(super::millis(now))
    .bind(user_id)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The id of the change in force for a step, if any.
pub async fn latest_step_timing_id(
    conn: &mut SqliteConnection,
    clinic_id: i64,
    plan: &str,
    step_id: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT MAX(id) FROM step_timings WHERE clinic_id = ? AND plan = ? AND step_id = ?",
    )
    .bind(clinic_id)
    .bind(plan)
    .bind(step_id)
    .fetch_one(conn)
    .await
}

#[allow(clippy::too_many_arguments)]
pub async fn save_step_timing(
    conn: &mut SqliteConnection,
    clinic_id: i64,
    plan: &str,
    step_id: &str,
    kind: &str,
    after: Option<&str>,
    at: Option<&str>,
    saved_by: i64,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO step_timings (clinic_id, plan, step_id, kind, after, at, saved_by, saved_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(clinic_id)
    .bind(plan)
    .bind(step_id)
    .bind(kind)
    .bind(after)
    .bind(at)
    .bind(saved_by)
    .bind(millis(now))
    .fetch_one(conn)
    .await
}

/// The step's reminders not yet sent, of the clinic's active patients on `plan`;
/// with `switched_off`, also those cancelled with that note (to bring them back).
pub async fn pending_step_reminders(
    conn: &mut SqliteConnection,
    clinic_id: i64,
    plan: &str,
    step_id: &str,
    switched_off: Option<&str>,
) -> Result<Vec<PendingStep>, sqlx::Error> {
    sqlx::query_as(
        "SELECT r.id AS reminder_id, p.session_at, p.timezone FROM reminders r
         JOIN patients p ON p.id = r.patient_id
         WHERE p.clinic_id = ? AND p.plan = ? AND p.status = 'active' AND r.step_id = ?
           AND (r.status = 'pending' OR (r.status = 'cancelled' AND r.note = ?))",
    )
    .bind(clinic_id)
    .bind(plan)
    .bind(step_id)
    .bind(switched_off)
    .fetch_all(conn)
    .await
}

/// Moves pending reminders, and brings back those cancelled with `note` (`None` due
/// time: cancels them with `note`). Rows the scheduler claimed meanwhile are left
/// alone; returns how many changed.
pub async fn replan_reminders(
    conn: &mut SqliteConnection,
    rows: &[Replan],
    note: &str,
) -> Result<u64, sqlx::Error> {
    let mut changed = 0;
    for (id, due) in rows {
        let done = match due {
            Some((due_at, expires_at)) => {
                sqlx::query(
                    "UPDATE reminders SET due_at = ?, expires_at = ?, status = 'pending', note = NULL
                     WHERE id = ? AND (status = 'pending' OR (status = 'cancelled' AND note = ?))",
                )
                .bind(millis(*due_at))
                .bind(expires_at.map(millis))
                .bind(id)
                .bind(note)
                .execute(&mut *conn)
                .await?
            }
            None => {
                sqlx::query(
                    "UPDATE reminders SET status = 'cancelled', note = ? WHERE id = ? AND status = 'pending'",
                )
                .bind(note)
                .bind(id)
                .execute(&mut *conn)
                .await?
            }
        };
        changed += done.rows_affected();
    }
    Ok(changed)
}
