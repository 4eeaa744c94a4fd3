//! Course files waiting for Save (`migrations/0015_course_drafts.sql`).

use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

use super::millis;

/// A checked course file, previewed, not yet saved.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CourseDraft {
    pub id: i64,
    pub user_id: i64,
    pub clinic_id: i64,
    pub key: String,
    pub file_name: String,
    /// The course file as the bot writes it (`CourseFile::to_toml`).
    pub body: String,
    /// The version in force when it was previewed; `None`: no such course then.
    pub base_version: Option<i64>,
    pub created_at: i64,
    /// The version Save wrote, once saved.
    pub saved_version: Option<i64>,
}

const COLUMNS: &str =
    "id, user_id, clinic_id, key, file_name, body, base_version, created_at, saved_version";

/// A new draft of `user_id`'s. Their earlier unsaved drafts are discarded (one file at
/// a time, as with text edits), and every draft older than `stale_before` is cleared.
/// Returns the new draft's id and whether an unsaved one was discarded.
#[allow(clippy::too_many_arguments)]
pub async fn insert_draft(
    conn: &mut SqliteConnection,
    user_id: i64,
    clinic_id: i64,
    key: &str,
    file_name: &str,
    body: &str,
    base_version: Option<i64>,
    now: DateTime<Utc>,
    stale_before: DateTime<Utc>,
) -> Result<(i64, bool), sqlx::Error> {
    sqlx::query("DELETE FROM course_drafts WHERE created_at < ?")
        .bind(millis(stale_before))
        .execute(&mut *conn)
        .await?;
    let discarded =
        sqlx::query("DELETE FROM course_drafts WHERE user_id = ? AND saved_version IS NULL")
            .bind(user_id)
            .execute(&mut *conn)
            .await?
            .rows_affected()
            > 0;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO course_drafts (user_id, clinic_id, key, file_name, body, base_version, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(user_id)
    .bind(clinic_id)
    .bind(key)
    .bind(file_name)
    .bind(body)
    .bind(base_version)
    .bind(millis(now))
    .fetch_one(conn)
    .await?;
    Ok((id, discarded))
}

pub async fn draft(
    conn: &mut SqliteConnection,
    id: i64,
) -> Result<Option<CourseDraft>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM course_drafts WHERE id = ?");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Marks a draft saved as `version`; false when it was saved already.
pub async fn mark_saved(
    conn: &mut SqliteConnection,
    id: i64,
    version: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE course_drafts SET saved_version = ? WHERE id = ? AND saved_version IS NULL",
    )
    .bind(version)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes an unsaved draft; false when there was none.
pub async fn delete_draft(conn: &mut SqliteConnection, id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM course_drafts WHERE id = ? AND saved_version IS NULL")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}
