//! A clinic's own courses and their versions (`migrations/0009_courses.sql`).

use chrono::{DateTime, Utc};

use sqlx::SqliteConnection;

use super::millis;

/// A course with the version in force.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredCourse {
    pub id: i64,
    pub clinic_id: i64,
    pub key: String,
    pub is_default: bool,
    pub version: i64,
    pub body: String,
}

const LATEST: &str = "SELECT c.id, c.clinic_id, c.key, c.is_default, v.version, v.body
     FROM courses c
     JOIN course_versions v ON v.course_id = c.id
      AND v.version = (SELECT MAX(version) FROM course_versions WHERE course_id = c.id)";

/// Every course of a clinic, by key.
pub async fn courses_of(
    conn: &mut SqliteConnection,
    clinic_id: i64,
) -> Result<Vec<StoredCourse>, sqlx::Error> {
    let sql = format!("{LATEST} WHERE c.clinic_id = ? ORDER BY c.key");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(clinic_id)
        .fetch_all(conn)
        .await
}

/// One course of a clinic by key; another clinic's course is never found.
pub async fn course(
    conn: &mut SqliteConnection,
    clinic_id: i64,
    key: &str,
) -> Result<Option<StoredCourse>, sqlx::Error> {
    let sql = format!("{LATEST} WHERE c.clinic_id = ? AND c.key = ?");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(clinic_id)
        .bind(key)
        .fetch_optional(conn)
        .await
}

/// A new course with its first version; returns its id.
pub async fn insert_course(
    conn: &mut SqliteConnection,
    clinic_id: i64,
    key: &str,
    body: &str,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO courses (clinic_id, key, created_by, created_at) VALUES (?, ?, ?, ?)
         RETURNING id",
    )
    .bind(clinic_id)
    .bind(key)
    .bind(user_id)
    .bind(millis(now))
    .fetch_one(&mut *conn)
    .await?;
    insert_version(conn, id, body, user_id, now).await?;
    Ok(id)
}

/// Saves a new version of a course; returns its number.
pub async fn insert_version(
    conn: &mut SqliteConnection,
    course_id: i64,
    body: &str,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO course_versions (course_id, version, body, saved_by, saved_at)
         VALUES (?, (SELECT COALESCE(MAX(version), 0) + 1 FROM course_versions WHERE course_id = ?), ?, ?, ?)
         RETURNING version",
    )
    .bind(course_id)
    .bind(course_id)
    .bind(body)
    .bind(user_id)
    .bind(millis(now))
    .fetch_one(conn)
    .await
}

/// Makes one course the clinic's default (`None`: the messages folder's plan again).
pub async fn set_default(
    conn: &mut SqliteConnection,
    clinic_id: i64,
    course_id: Option<i64>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE courses SET is_default = (id IS ?) WHERE clinic_id = ?")
        .bind(course_id)
        .bind(clinic_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Moves a patient who has not opened their link yet to another course; false when
/// the patient is not an invited patient of the clinic.
pub async fn set_invited_patient_plan(
    conn: &mut SqliteConnection,
    clinic_id: i64,
    patient_id: i64,
    plan: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE patients SET plan = ? WHERE id = ? AND clinic_id = ? AND status = 'invited'",
    )
    .bind(plan)
    .bind(patient_id)
    .bind(clinic_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Why a reminder of a step the clinic removed from its course was not sent.
pub const STEP_REMOVED: &str = "step removed from the course";

/// A step removed from a course: the reminders of it still pending for the clinic's
/// patients on the course (`plan`) are skipped with [`STEP_REMOVED`]. Returns how many.
/// (Rows held or paused meanwhile are skipped by the scheduler when they come due.)
pub async fn skip_pending_step(
    conn: &mut SqliteConnection,
    clinic_id: i64,
    plan: &str,
    step: &str,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE reminders SET status = 'skipped', note = ?
         WHERE step_id = ? AND status = 'pending'
           AND patient_id IN (SELECT id FROM patients WHERE clinic_id = ? AND plan = ?)",
    )
    .bind(STEP_REMOVED)
    .bind(step)
    .bind(clinic_id)
    .bind(plan)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// A step renamed: the reminders of it not yet sent (pending, or held or paused) for
/// the clinic's patients on the course (`plan`) take the new id, so they go out as
/// planned with the step's texts. A patient who already has a row of the new id (of an
/// earlier step that had it) keeps this one under the old id, where the scheduler
/// skips it. Returns how many moved.
pub async fn rename_pending_step(
    conn: &mut SqliteConnection,
    clinic_id: i64,
    plan: &str,
    from: &str,
    to: &str,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE reminders SET step_id = ?
         WHERE step_id = ? AND status IN ('pending', 'cancelled')
           AND patient_id IN (SELECT id FROM patients WHERE clinic_id = ? AND plan = ?)
           AND NOT EXISTS (SELECT 1 FROM reminders o
                           WHERE o.patient_id = reminders.patient_id AND o.step_id = ?)",
    )
    .bind(to)
    .bind(from)
    .bind(clinic_id)
    .bind(plan)
    .bind(to)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}
