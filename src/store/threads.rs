//! Staff-side messages sent on a patient's behalf, so a staff reply finds the patient.

use chrono::{DateTime, Utc};

use super::{Store, millis};

/// A staff-side message about a patient: remembered once sent, so a staff member's
/// Telegram reply to it finds the patient (and, for an alert, the alert).
#[derive(Debug, Clone, Copy)]
pub struct Thread {
    pub clinic_id: i64,
    pub patient_id: i64,
    pub alert_id: Option<i64>,
    /// For a relayed patient message: its Telegram id in the patient's chat, and which
    /// part of it this copy carries, so the other copies can be marked once answered.
    pub relay: Option<(i64, i64)>,
}

impl Store {
    /// Remembers a message sent to staff about a patient (and, for an alert, which
    /// alert it carries).
    pub async fn remember_thread(
        &self,
        chat_id: i64,
        message_id: i32,
        t: &Thread,
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO staff_threads (chat_id, message_id, clinic_id, patient_id, alert_id,
               relay_of, relay_part, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (chat_id, message_id) DO NOTHING",
        )
        .bind(chat_id)
        .bind(message_id)
        .bind(t.clinic_id)
        .bind(t.patient_id)
        .bind(t.alert_id)
        .bind(t.relay.map(|r| r.0))
        .bind(t.relay.map(|r| r.1))
        .bind(millis(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every staff message carrying `alert_id`: (chat, message id), oldest first.
    pub async fn alert_copies(&self, alert_id: i64) -> Result<Vec<(i64, i32)>, sqlx::Error> {
        sqlx::query_as(
            "SELECT chat_id, message_id FROM staff_threads WHERE alert_id = ? ORDER BY created_at",
        )
        .bind(alert_id)
        .fetch_all(&self.pool)
        .await
    }

    /// The other staff copies of the same part of the relayed patient message that
    /// `(chat_id, message_id)` carries: (chat, message id). Empty for anything else.
    pub async fn other_relay_copies(
        &self,
        chat_id: i64,
        message_id: i32,
    ) -> Result<Vec<(i64, i32)>, sqlx::Error> {
        sqlx::query_as(
            "SELECT o.chat_id, o.message_id FROM staff_threads t
             JOIN staff_threads o ON o.patient_id = t.patient_id AND o.relay_of = t.relay_of
               AND o.relay_part = t.relay_part AND o.chat_id != t.chat_id
             WHERE t.chat_id = ? AND t.message_id = ? AND t.relay_of IS NOT NULL
             ORDER BY o.created_at",
        )
        .bind(chat_id)
        .bind(message_id)
        .fetch_all(&self.pool)
        .await
    }

    /// The (clinic, patient) a staff-side message was about; the patient is `None` once
    /// erased.
    pub async fn thread_of(
        &self,
        chat_id: i64,
        message_id: i32,
    ) -> Result<Option<(i64, Option<i64>)>, sqlx::Error> {
        sqlx::query_as(
            "SELECT clinic_id, patient_id FROM staff_threads WHERE chat_id = ? AND message_id = ?",
        )
        .bind(chat_id)
        .bind(message_id)
        .fetch_optional(&self.pool)
        .await
    }
}

/// Keeps a patient's message until they pick the clinic it is for (`relay_choices`).
pub async fn hold_choice(
    conn: &mut sqlx::SqliteConnection,
    chat: i64,
    kind: &str,
    body: &str,
    file_id: Option<&str>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<i64, sqlx::Error> {
    // A message left waiting a day is not passed on any more: its buttons go stale.
    sqlx::query("DELETE FROM relay_choices WHERE chat_id = ? AND created_at < ?")
        .bind(chat)
        .bind(super::millis(now - chrono::Duration::days(1)))
        .execute(&mut *conn)
        .await?;
    sqlx::query_scalar(
        "INSERT INTO relay_choices (chat_id, kind, body, file_id, created_at) VALUES (?, ?, ?, ?, ?)
         RETURNING id",
    )
    .bind(chat)
    .bind(kind)
    .bind(body)
    .bind(file_id)
    .bind(super::millis(now))
    .fetch_one(conn)
    .await
}

/// Removes and returns (body, photo file id) of a held message of `chat`.
pub async fn take_choice(
    conn: &mut sqlx::SqliteConnection,
    chat: i64,
    id: i64,
) -> Result<Option<(String, Option<String>)>, sqlx::Error> {
    sqlx::query_as("DELETE FROM relay_choices WHERE id = ? AND chat_id = ? RETURNING body, file_id")
        .bind(id)
        .bind(chat)
        .fetch_optional(conn)
        .await
}
