//! What the outbox asks the database just before and just after talking to Telegram.

use super::{PatientStatus, Store};

impl Store {
    /// Whether a claimed reminder should still go out: the row is still leased to us
    /// (not cancelled by a /stop, a pause, an erasure or a re-plan meanwhile) and its
    /// patient is active.
    pub async fn still_wanted(&self, reminder_id: i64) -> Result<bool, sqlx::Error> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT r.id FROM reminders r JOIN patients p ON p.id = r.patient_id
             WHERE r.id = ? AND r.status = 'leased' AND p.status = ?",
        )
        .bind(reminder_id)
        .bind(PatientStatus::Active)
        .fetch_optional(self.pool())
        .await?;
        Ok(found.is_some())
    }

    /// Telegram will not deliver to `chat` (blocked, deactivated, gone): every active
    /// patient linked to it becomes unreachable and their reminders not yet sent are
    /// held with `note`, which a later "back in reach" turns on again. Returns how many
    /// patients.
    pub async fn mark_chat_unreachable(&self, chat: i64, note: &str) -> Result<u64, sqlx::Error> {
        let mut tx = self.begin().await?;
        let ids: Vec<i64> = sqlx::query_scalar(
            "UPDATE patients SET status = ? WHERE chat_id = ? AND status = ? RETURNING id",
        )
        .bind(PatientStatus::Unreachable)
        .bind(chat)
        .bind(PatientStatus::Active)
        .fetch_all(&mut *tx)
        .await?;
        for id in &ids {
            super::reminders::cancel_pending(&mut tx, *id, note).await?;
        }
        tx.commit().await?;
        Ok(ids.len() as u64)
    }
}

impl Store {
    /// A claimed reminder the outbox found no longer wanted: a row still leased (its
    /// patient stopped being active without the row being cancelled) is cancelled; a
    /// row already cancelled keeps its own note.
    pub async fn drop_unwanted(&self, reminder_id: i64) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE reminders SET status = 'cancelled', note = 'patient not active', lease_until = NULL
             WHERE id = ? AND status = 'leased'",
        )
        .bind(reminder_id)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}
