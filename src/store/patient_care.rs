//! What patients change about themselves: language, resuming, erasing their data.

use chrono::{DateTime, Utc};

use sqlx::SqliteConnection;

use super::{PatientStatus, Store, millis};

/// The note `/stop` leaves on cancelled rows; `/resume` brings exactly those back.
pub const STOPPED_NOTE: &str = "stopped by the patient";
/// The note a staff `/pause` leaves; `/resume` brings these back too.
pub const PAUSED_NOTE: &str = "paused by the clinic";
/// The note a staff `/cancel` leaves: not resumable.
pub const CANCELLED_NOTE: &str = "cancelled by the clinic";

/// The notes left on a patient's rows when Telegram said they cannot be reached (the
/// reason it gave). A patient who writes again, or sends `/resume`, gets these back.
pub mod unreachable {
    pub const BLOCKED: &str = "blocked the bot";
    pub const DEACTIVATED: &str = "account deactivated";
    pub const CHAT_NOT_FOUND: &str = "chat not found";
    pub const REMOVED: &str = "bot removed from the chat";
    pub const MIGRATED: &str = "chat migrated";
}

pub async fn set_language(
    conn: &mut SqliteConnection,
    patient_id: i64,
    lang: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE patients SET lang = ? WHERE id = ?")
        .bind(lang)
        .bind(patient_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Active again; reminders stopped by the patient, paused by the clinic or held while
/// the patient could not be reached, and not yet expired, are queued again. Returns how
/// many.
pub async fn resume_patient(
    conn: &mut SqliteConnection,
    patient_id: i64,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    super::patients::set_status(&mut *conn, patient_id, PatientStatus::Active).await?;
    super::patients::set_stopped_by(&mut *conn, patient_id, None).await?;
    let done = sqlx::query(
        "UPDATE reminders SET status = 'pending', note = NULL
         WHERE patient_id = ? AND status = 'cancelled' AND note IN (?, ?, ?, ?, ?, ?, ?)
           AND (expires_at IS NULL OR expires_at > ?)",
    )
    .bind(patient_id)
    .bind(STOPPED_NOTE)
    .bind(PAUSED_NOTE)
    .bind(unreachable::BLOCKED)
    .bind(unreachable::DEACTIVATED)
    .bind(unreachable::CHAT_NOT_FOUND)
    .bind(unreachable::REMOVED)
    .bind(unreachable::MIGRATED)
    .bind(millis(now))
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Staff stop a patient's reminders: `PAUSED_NOTE` (resumable) or `CANCELLED_NOTE`.
/// The patient's own `/resume` does not undo either.
pub async fn halt_patient(
    conn: &mut SqliteConnection,
    patient_id: i64,
    note: &str,
) -> Result<u64, sqlx::Error> {
    let n = super::reminders::cancel_pending(&mut *conn, patient_id, note).await?;
    super::patients::set_status(&mut *conn, patient_id, PatientStatus::Stopped).await?;
    let by = if note == PAUSED_NOTE {
        super::patients::stopped_by::PAUSE
    } else {
        super::patients::stopped_by::CANCEL
    };
    super::patients::set_stopped_by(conn, patient_id, Some(by)).await?;
    Ok(n)
}

/// Erases what the patient told us and what we planned for them. The row stays,
/// nameless and unlinked, so a clinic's lists and alerts show "erased patient", and
/// `erased_at` makes it final: no staff command acts on it again. Audit rows keep the
/// record's id but lose the Telegram id of the person (`chat`) who acted on it.
pub async fn erase_patient(
    conn: &mut SqliteConnection,
    patient_id: i64,
    chat: i64,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    for sql in [
        "DELETE FROM reminders WHERE patient_id = ?",
        "DELETE FROM checkin_answers WHERE patient_id = ?",
        "DELETE FROM bookings WHERE patient_id = ?",
        "DELETE FROM series WHERE patient_id = ?",
        "DELETE FROM patient_adjustments WHERE patient_id = ?",
        "DELETE FROM patient_photos WHERE patient_id = ?",
        "DELETE FROM links WHERE patient_id = ?",
        "UPDATE staff_threads SET patient_id = NULL WHERE patient_id = ?",
    ] {
        sqlx::query(sql)
            .bind(patient_id)
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query(
        "UPDATE patients SET name = '', chat_id = NULL, lang = NULL, timezone = NULL, status = 'stopped',
                stopped_by = 'erased', erased_at = ? WHERE id = ?",
    )
    .bind(millis(now))
    .bind(patient_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE audit SET actor = NULL WHERE actor = ? AND subject = ?")
        .bind(chat)
        .bind(format!("patient {patient_id}"))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Messages of `chat` still waiting for the patient to say which clinic they are for.
pub async fn forget_chat(conn: &mut SqliteConnection, chat: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM relay_choices WHERE chat_id = ?")
        .bind(chat)
        .execute(conn)
        .await?;
    Ok(())
}

impl Store {
    /// How many of a patient's reminders went out, and how many exist.
    pub async fn progress(&self, patient_id: i64) -> Result<(i64, i64), sqlx::Error> {
        sqlx::query_as(
            "SELECT COALESCE(SUM(status = 'sent'), 0), COUNT(*) FROM reminders WHERE patient_id = ?",
        )
        .bind(patient_id)
        .fetch_one(&self.pool)
        .await
    }
}
