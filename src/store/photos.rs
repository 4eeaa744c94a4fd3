//! Photo check-ins: Telegram's references to the photos patients sent in answer to a
//! photo request (`patient_photos`), and the requests they can answer.

use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

use super::{Store, from_millis, millis};

/// A photo to keep: who sent it, for which request and day, and Telegram's ids.
#[derive(Debug, Clone)]
pub struct NewPhoto<'a> {
    pub patient_id: i64,
    pub clinic_id: i64,
    pub step_id: &'a str,
    pub course_day: i64,
    pub file_id: &'a str,
    pub file_unique_id: &'a str,
    pub received_at: DateTime<Utc>,
}

/// A kept photo, as `/photos` sends it back.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredPhoto {
    pub step_id: String,
    pub course_day: i64,
    pub file_id: String,
    received_at: i64,
}

impl StoredPhoto {
    pub fn received(&self) -> DateTime<Utc> {
        from_millis(self.received_at)
    }
}

/// Keeps a photo; false when the patient's same picture is kept already (a repeated
/// update, or the same picture sent again).
pub async fn insert_photo(
    conn: &mut SqliteConnection,
    p: &NewPhoto<'_>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO patient_photos (patient_id, clinic_id, step_id, course_day, file_id,
           file_unique_id, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (patient_id, file_unique_id) DO NOTHING",
    )
    .bind(p.patient_id)
    .bind(p.clinic_id)
    .bind(p.step_id)
    .bind(p.course_day)
    .bind(p.file_id)
    .bind(p.file_unique_id)
    .bind(millis(p.received_at))
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// How many photos of the patient answered `step_id` since `since`.
pub async fn photos_for_step_since(
    conn: &mut SqliteConnection,
    patient_id: i64,
    step_id: &str,
    since: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM patient_photos WHERE patient_id = ? AND step_id = ? AND received_at >= ?",
    )
    .bind(patient_id)
    .bind(step_id)
    .bind(millis(since))
    .fetch_one(conn)
    .await
}

/// The patient's sent reminders of the current session that Telegram numbered:
/// `(step id, message id, sent at)`. A new session clears these ids (see
/// `series::restart_reminders`), so only the current session's requests are found.
pub async fn sent_steps(
    conn: &mut SqliteConnection,
    patient_id: i64,
) -> Result<Vec<(String, i32, DateTime<Utc>)>, sqlx::Error> {
    let rows: Vec<(String, i32, i64)> = sqlx::query_as(
        "SELECT step_id, telegram_message_id, sent_at FROM reminders
         WHERE patient_id = ? AND status = 'sent'
           AND telegram_message_id IS NOT NULL AND sent_at IS NOT NULL",
    )
    .bind(patient_id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(step, id, at)| (step, id, from_millis(at)))
        .collect())
}

/// Every kept photo of a patient, oldest first.
pub async fn photos_of(
    conn: &mut SqliteConnection,
    patient_id: i64,
) -> Result<Vec<StoredPhoto>, sqlx::Error> {
    sqlx::query_as(
        "SELECT step_id, course_day, file_id, received_at FROM patient_photos
         WHERE patient_id = ? ORDER BY received_at, id",
    )
    .bind(patient_id)
    .fetch_all(conn)
    .await
}

impl Store {
    /// How many photos of a patient are kept (for `/mydata` and `/patient`).
    pub async fn photo_count(&self, patient_id: i64) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COUNT(*) FROM patient_photos WHERE patient_id = ?")
            .bind(patient_id)
            .fetch_one(&self.pool)
            .await
    }
}
