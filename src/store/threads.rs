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
    /// For a relayed patient message: which message and part this copy carries.
    pub relay: Option<RelayPart>,
}

/// One part of a relayed patient message, as a staff copy carries it.
#[derive(Debug, Clone, Copy)]
pub struct RelayPart {
    /// The message's Telegram id in the patient's chat (or, for a message that waited
    /// for the patient to pick a clinic, the waiting row's id, negated), so the other
    /// copies can be marked once one is answered.
    pub of: i64,
    /// Which part of a message too long for one Telegram message.
    pub part: i64,
    /// The copy is a photo: its words are the caption, edited as such.
    pub photo: bool,
}

/// A staff copy of a relayed patient message, to be rewritten once the patient is erased.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct RelayCopy {
    pub chat_id: i64,
    pub message_id: i32,
    /// A photo (edit its caption) rather than text.
    pub photo: bool,
}

/// Every staff copy of patient `patient_id`'s relayed messages, oldest first: read by
/// the erasure before it unties the copies from the patient.
pub async fn relay_copies_of(
    conn: &mut sqlx::SqliteConnection,
    patient_id: i64,
) -> Result<Vec<RelayCopy>, sqlx::Error> {
    sqlx::query_as(
        "SELECT chat_id, message_id, relay_photo != 0 AS photo FROM staff_threads
         WHERE patient_id = ? AND relay_of IS NOT NULL ORDER BY created_at, message_id",
    )
    .bind(patient_id)
    .fetch_all(conn)
    .await
}

impl Store {
    /// Remembers a message sent to staff about a patient (and, for an alert, which
    /// alert it carries). True when the patient erased their data while the message was
    /// on its way: it is remembered untied from them (as the erasure leaves the others),
    /// and the caller rewrites it, as the erasure could not see it.
    pub async fn remember_thread(
        &self,
        chat_id: i64,
        message_id: i32,
        t: &Thread,
        now: DateTime<Utc>,
    ) -> Result<bool, sqlx::Error> {
        // One statement, so it runs wholly before or wholly after an erasure's transaction.
        let erased: Option<bool> = sqlx::query_scalar(
            "INSERT INTO staff_threads (chat_id, message_id, clinic_id, patient_id, alert_id,
               relay_of, relay_part, relay_photo, created_at)
             VALUES (?, ?, ?, (SELECT id FROM patients WHERE id = ? AND erased_at IS NULL),
               ?, ?, ?, ?, ?)
             ON CONFLICT (chat_id, message_id) DO NOTHING
             RETURNING patient_id IS NULL",
        )
        .bind(chat_id)
        .bind(message_id)
        .bind(t.clinic_id)
        .bind(t.patient_id)
        .bind(t.alert_id)
        .bind(t.relay.map(|r| r.of))
        .bind(t.relay.map(|r| r.part))
        .bind(t.relay.is_some_and(|r| r.photo))
        .bind(millis(now))
        .fetch_optional(&self.pool)
        .await?;
        Ok(erased.unwrap_or(false))
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
