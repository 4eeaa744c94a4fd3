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
