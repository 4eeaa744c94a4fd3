//! The reminder queue: one row per course step per patient.
//!
//! A row is `pending` until the scheduler claims it (`leased`, with a deadline), then
//! `sent`, `skipped` (too late), `cancelled` (stopped or unreachable) or `failed`
//! (Telegram refused it for good). A lease that runs out returns the row to `pending`,
//! so a crash between claim and outcome loses nothing.

use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

use super::{PatientStatus, Store, from_millis, millis};

#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "TEXT", rename_all = "lowercase")]
pub enum ReminderStatus {
    Pending,
    Leased,
    Sent,
    Skipped,
    Cancelled,
    Failed,
}

#[derive(Debug, Clone)]
pub struct NewReminder {
    pub step_id: String,
    pub due_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub status: ReminderStatus,
    pub note: Option<&'static str>,
}

/// A claimed row with what it takes to render and send it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    pub id: i64,
    pub patient_id: i64,
    pub clinic_id: i64,
    pub step_id: String,
    pub due_at: i64,
    pub expires_at: Option<i64>,
    pub attempts: i64,
    pub chat_id: Option<i64>,
    pub patient_name: String,
    pub patient_status: PatientStatus,
    pub lang: Option<String>,
    pub plan: String,
    pub session_at: i64,
    pub clinic_name: String,
    pub timezone: String,
    pub contact: String,
    pub quiet_start: String,
    pub quiet_end: String,
}

impl Claimed {
    /// The clinic's quiet hours, for follow-ups planned when this row is sent.
    pub fn quiet_hours(&self) -> crate::domain::time::QuietHours {
        use crate::domain::time::{QuietHours, parse_clock};
        let d = QuietHours::default();
        QuietHours {
            start: parse_clock(&self.quiet_start).unwrap_or(d.start),
            end: parse_clock(&self.quiet_end).unwrap_or(d.end),
        }
    }

    pub fn due(&self) -> DateTime<Utc> {
        from_millis(self.due_at)
    }
    pub fn expires(&self) -> Option<DateTime<Utc>> {
        self.expires_at.map(from_millis)
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Upcoming {
    pub step_id: String,
    pub due_at: i64,
}

impl Upcoming {
    pub fn due(&self) -> DateTime<Utc> {
        from_millis(self.due_at)
    }
}

pub async fn insert_reminders(
    conn: &mut SqliteConnection,
    patient_id: i64,
    rows: &[NewReminder],
) -> Result<(), sqlx::Error> {
    for r in rows {
        sqlx::query(
            "INSERT INTO reminders (patient_id, step_id, due_at, expires_at, status, note) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (patient_id, step_id) DO NOTHING",
        )
        .bind(patient_id)
        .bind(&r.step_id)
        .bind(millis(r.due_at))
        .bind(r.expires_at.map(millis))
        .bind(r.status)
        .bind(r.note)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Cancels every reminder of a patient not yet sent; returns how many.
pub async fn cancel_pending(
    conn: &mut SqliteConnection,
    patient_id: i64,
    note: &str,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE reminders SET status = 'cancelled', note = ?, lease_until = NULL
         WHERE patient_id = ? AND status IN ('pending', 'leased')",
    )
    .bind(note)
    .bind(patient_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Ids as a JSON array, for `IN (SELECT value FROM json_each(?))`: one bound parameter
/// however many ids.
fn json_ids(ids: &[i64]) -> String {
    format!(
        "[{}]",
        ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
    )
}

impl Store {
    /// Claims up to `limit` due rows, oldest first, leasing them until `lease_until`;
    /// never a row of `in_flight` (still in this process's outbox).
    pub async fn claim_due(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
        in_flight: &[i64],
    ) -> Result<Vec<Claimed>, sqlx::Error> {
        let mut tx = self.begin().await?;
        // A row this process still has in the outbox is not claimed twice: `retry_at`
        // may have put it back to pending behind an earlier row that failed.
        let ids: Vec<i64> = sqlx::query_scalar(
            "UPDATE reminders SET status = 'leased', lease_until = ?, attempts = attempts + 1
             WHERE id IN (SELECT id FROM reminders WHERE status = 'pending' AND due_at <= ?
                            AND id NOT IN (SELECT value FROM json_each(?))
                          ORDER BY due_at, id LIMIT ?)
             RETURNING id",
        )
        .bind(millis(lease_until))
        .bind(millis(now))
        .bind(json_ids(in_flight))
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        // One query for the whole batch rather than one per claimed row.
        let ids_json = json_ids(&ids);
        let mut claimed: Vec<Claimed> = sqlx::query_as(
            "SELECT r.id, r.patient_id, p.clinic_id, r.step_id, r.due_at, r.expires_at, r.attempts,
                    p.chat_id, p.name AS patient_name, p.status AS patient_status, p.lang, p.plan,
                    p.session_at, c.name AS clinic_name, COALESCE(p.timezone, c.timezone) AS timezone, c.contact,
                    c.quiet_start, c.quiet_end
             FROM reminders r JOIN patients p ON p.id = r.patient_id JOIN clinics c ON c.id = p.clinic_id
             WHERE r.id IN (SELECT value FROM json_each(?))",
        )
        .bind(ids_json)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        claimed.sort_by_key(|c| (c.due_at, c.id));
        Ok(claimed)
    }

    /// Returns rows whose lease ran out to the queue, except those this process is still
    /// sending: a wall-clock jump must not make a send in flight look abandoned.
    pub async fn release_expired_leases(
        &self,
        now: DateTime<Utc>,
        in_flight: &[i64],
    ) -> Result<u64, sqlx::Error> {
        let keep = json_ids(in_flight);
        let done = sqlx::query(
            "UPDATE reminders SET status = 'pending', lease_until = NULL
             WHERE status = 'leased' AND lease_until <= ? AND id NOT IN (SELECT value FROM json_each(?))",
        )
        .bind(millis(now))
        .bind(keep)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Returns every leased row to the queue: at start-up no send can be in flight.
    pub async fn release_all_leases(&self) -> Result<u64, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE reminders SET status = 'pending', lease_until = NULL WHERE status = 'leased'",
        )
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// When the scheduler next has work: the earliest pending row or lease deadline,
    /// leaving out rows of `in_flight` (still in this process's outbox): they cannot be
    /// claimed until their send ends, which wakes the scheduler anyway, and a due one
    /// counted here would make it spin meanwhile.
    pub async fn next_wakeup(
        &self,
        in_flight: &[i64],
    ) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
        let in_flight = json_ids(in_flight);
        let next: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(t) FROM (
               SELECT MIN(due_at) AS t FROM reminders WHERE status = 'pending'
                 AND id NOT IN (SELECT value FROM json_each(?1))
               UNION ALL SELECT MIN(lease_until) FROM reminders WHERE status = 'leased'
                 AND id NOT IN (SELECT value FROM json_each(?1)))",
        )
        .bind(in_flight)
        .fetch_one(&self.pool)
        .await?;
        Ok(next.map(from_millis))
    }

    /// The earliest pending reminder's due time (leased ones are on their way): where
    /// the demo's "next message" button moves its clock.
    pub async fn next_pending_due(&self) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
        let next: Option<i64> =
            sqlx::query_scalar("SELECT MIN(due_at) FROM reminders WHERE status = 'pending'")
                .fetch_one(&self.pool)
                .await?;
        Ok(next.map(from_millis))
    }

    pub async fn mark_sent(
        &self,
        id: i64,
        message_id: i32,
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE reminders SET status = 'sent', telegram_message_id = ?, sent_at = ?, lease_until = NULL, note = NULL
             WHERE id = ?",
        )
        .bind(message_id)
        .bind(millis(now))
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Back to the queue at `due_at` (rate limit, network trouble), unless it was
    /// cancelled or held meanwhile: a held row must not come back before its alert is
    /// handled.
    ///
    /// The patient's later rows that would otherwise overtake it (due before its new
    /// time, pending or waiting in the outbox) move to just after it, in their order, so
    /// the course keeps its order: the first message with the warning signs is not
    /// read after the day's others because Telegram failed it once. A moved row that
    /// was leased is taken back (the outbox's last check then skips it) and its claim
    /// not counted as an attempt.
    pub async fn retry_at(
        &self,
        id: i64,
        due_at: DateTime<Utc>,
        note: &str,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.begin().await?;
        let was: Option<(i64, i64)> = sqlx::query_as(
            "SELECT patient_id, due_at FROM reminders WHERE id = ? AND status = 'leased'",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((patient_id, old_due)) = was else {
            return Ok(());
        };
        sqlx::query("UPDATE reminders SET status = 'pending', due_at = ?, lease_until = NULL, note = ? WHERE id = ?")
            .bind(millis(due_at))
            .bind(note)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let later: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM reminders
             WHERE patient_id = ? AND id != ? AND status IN ('pending', 'leased')
               AND (due_at > ? OR (due_at = ? AND id > ?)) AND due_at <= ?
             ORDER BY due_at, id",
        )
        .bind(patient_id)
        .bind(id)
        .bind(old_due)
        .bind(old_due)
        .bind(id)
        .bind(millis(due_at))
        .fetch_all(&mut *tx)
        .await?;
        for (place, later_id) in later.into_iter().enumerate() {
            sqlx::query(
                "UPDATE reminders SET due_at = ?,
                        attempts = CASE WHEN status = 'leased' AND attempts > 0 THEN attempts - 1 ELSE attempts END,
                        status = 'pending', lease_until = NULL
                 WHERE id = ?",
            )
            .bind(millis(due_at) + 1 + place as i64)
            .bind(later_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }

    /// Ends a row without sending: skipped, cancelled or failed, with the reason. A row
    /// cancelled or held meanwhile keeps its own note.
    pub async fn finish_unsent(
        &self,
        id: i64,
        status: ReminderStatus,
        note: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE reminders SET status = ?, lease_until = NULL, note = ? WHERE id = ? AND status = 'leased'",
        )
            .bind(status)
            .bind(note)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Telegram will not deliver to this chat: stop the patient's course.
    pub async fn mark_unreachable(&self, patient_id: i64, note: &str) -> Result<(), sqlx::Error> {
        let mut tx = self.begin().await?;
        super::patients::set_status(&mut tx, patient_id, PatientStatus::Unreachable).await?;
        cancel_pending(&mut tx, patient_id, note).await?;
        tx.commit().await
    }

    /// Reminders still to come for a patient, in order. A check-in's nudge
    /// (`nudge-…`) is not listed: it goes out only if the check-in stays unanswered.
    pub async fn upcoming(&self, patient_id: i64) -> Result<Vec<Upcoming>, sqlx::Error> {
        sqlx::query_as(
            "SELECT step_id, due_at FROM reminders WHERE patient_id = ? AND status IN ('pending', 'leased')
               AND step_id NOT LIKE 'nudge-%'
             ORDER BY due_at, id",
        )
        .bind(patient_id)
        .fetch_all(&self.pool)
        .await
    }

    /// Counts rows by status, for tests, benchmarks and the operator.
    pub async fn count_reminders(&self, status: ReminderStatus) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COUNT(*) FROM reminders WHERE status = ?")
            .bind(status)
            .fetch_one(&self.pool)
            .await
    }

    /// Every reminder of a patient as (step, status, note), for tests and the operator.
    pub async fn reminder_states(
        &self,
        patient_id: i64,
    ) -> Result<Vec<(String, ReminderStatus, Option<String>)>, sqlx::Error> {
        sqlx::query_as(
            "SELECT step_id, status, note FROM reminders WHERE patient_id = ? ORDER BY due_at, id",
        )
        .bind(patient_id)
        .fetch_all(&self.pool)
        .await
    }
}

/// Patients of a clinic who still have reminders to come.
pub async fn pending_by_patient(
    conn: &mut SqliteConnection,
    clinic_id: i64,
) -> Result<Vec<super::Patient>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, clinic_id, name, plan, session_at, chat_id, lang, status, timezone FROM patients p
         WHERE clinic_id = ? AND EXISTS (SELECT 1 FROM reminders r WHERE r.patient_id = p.id AND r.status = 'pending')",
    )
    .bind(clinic_id)
    .fetch_all(conn)
    .await
}

/// Moves a pending step to a new due time; 0 if it is not pending (sent, leased…).
pub async fn move_pending(
    conn: &mut SqliteConnection,
    patient_id: i64,
    step_id: &str,
    due_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE reminders SET due_at = ?, expires_at = ? WHERE patient_id = ? AND step_id = ? AND status = 'pending'",
    )
    .bind(millis(due_at))
    .bind(expires_at.map(millis))
    .bind(patient_id)
    .bind(step_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// A reminder held after a warning sign.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Held {
    pub id: i64,
    pub step_id: String,
    pub due_at: i64,
    pub expires_at: Option<i64>,
}

impl Held {
    pub fn due(&self) -> DateTime<Utc> {
        from_millis(self.due_at)
    }
    pub fn expires(&self) -> Option<DateTime<Utc>> {
        self.expires_at.map(from_millis)
    }
}

/// Holds a patient's reminders of `steps` not yet sent until `alert` is handled:
/// cancelled with `note` (so nothing sends them) and the alert that holds them. A row
/// the scheduler has leased is held too; the outbox's last check drops it. Returns how
/// many.
pub async fn hold_steps(
    conn: &mut SqliteConnection,
    patient_id: i64,
    steps: &[&str],
    alert: i64,
    note: &str,
) -> Result<u64, sqlx::Error> {
    // Step ids are a-z, 0-9 and - (checked when the plan loads); escaped all the same.
    let steps = format!(
        "[{}]",
        steps
            .iter()
            .map(|s| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")))
            .collect::<Vec<_>>()
            .join(",")
    );
    let done = sqlx::query(
        "UPDATE reminders SET status = 'cancelled', note = ?, held_by = ?, lease_until = NULL
         WHERE patient_id = ? AND status IN ('pending', 'leased')
           AND step_id IN (SELECT value FROM json_each(?))",
    )
    .bind(note)
    .bind(alert)
    .bind(patient_id)
    .bind(steps)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// The reminders `alert` holds.
pub async fn held_by(conn: &mut SqliteConnection, alert: i64) -> Result<Vec<Held>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, step_id, due_at, expires_at FROM reminders
         WHERE held_by = ? AND status = 'cancelled' ORDER BY due_at, id",
    )
    .bind(alert)
    .fetch_all(conn)
    .await
}

/// Hands what `from` holds over to `to` (another open alert of the same patient).
pub async fn move_holds(
    conn: &mut SqliteConnection,
    from: i64,
    to: i64,
) -> Result<u64, sqlx::Error> {
    let done =
        sqlx::query("UPDATE reminders SET held_by = ? WHERE held_by = ? AND status = 'cancelled'")
            .bind(to)
            .bind(from)
            .execute(conn)
            .await?;
    Ok(done.rows_affected())
}

/// How a held reminder ends its hold.
pub enum Release<'a> {
    /// Queued again, due at this time.
    Pending(DateTime<Utc>),
    /// Cancelled with this note instead (its patient is not active: the note says
    /// whether `/resume` brings it back).
    Cancelled(&'a str),
    /// Its time passed while held: skipped with this note.
    Skipped(&'a str),
}

/// Ends the hold on one row; false when it was no longer held.
pub async fn release_held(
    conn: &mut SqliteConnection,
    id: i64,
    how: Release<'_>,
) -> Result<bool, sqlx::Error> {
    let (status, due, note) = match how {
        Release::Pending(due) => ("pending", Some(millis(due)), None),
        Release::Cancelled(note) => ("cancelled", None, Some(note)),
        Release::Skipped(note) => ("skipped", None, Some(note)),
    };
    let done = sqlx::query(
        "UPDATE reminders SET status = ?, due_at = COALESCE(?, due_at), note = ?, held_by = NULL
         WHERE id = ? AND held_by IS NOT NULL AND status = 'cancelled'",
    )
    .bind(status)
    .bind(due)
    .bind(note)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

impl Store {
    /// A patient's reminders held after a warning sign, in due order, for `/patient`.
    pub async fn held(&self, patient_id: i64) -> Result<Vec<Upcoming>, sqlx::Error> {
        sqlx::query_as(
            "SELECT step_id, due_at FROM reminders
             WHERE patient_id = ? AND status = 'cancelled' AND held_by IS NOT NULL
             ORDER BY due_at, id",
        )
        .bind(patient_id)
        .fetch_all(&self.pool)
        .await
    }

    /// Records a sent check-in and queues its one nudge (`nudge`), together: a crash
    /// between the two cannot leave a check-in without its follow-up.
    pub async fn mark_sent_with_nudge(
        &self,
        id: i64,
        message_id: i32,
        now: DateTime<Utc>,
        patient_id: i64,
        nudge: &NewReminder,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "UPDATE reminders SET status = 'sent', telegram_message_id = ?, sent_at = ?, lease_until = NULL, note = NULL
             WHERE id = ?",
        )
        .bind(message_id)
        .bind(millis(now))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        // A later session's check-in queues its nudge afresh over the earlier one.
        sqlx::query(
            "INSERT INTO reminders (patient_id, step_id, due_at, expires_at, status, note) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (patient_id, step_id) DO UPDATE SET due_at = excluded.due_at,
               expires_at = excluded.expires_at, status = excluded.status, note = excluded.note,
               lease_until = NULL, attempts = 0, telegram_message_id = NULL, sent_at = NULL, held_by = NULL",
        )
        .bind(patient_id)
        .bind(&nudge.step_id)
        .bind(millis(nudge.due_at))
        .bind(nudge.expires_at.map(millis))
        .bind(nudge.status)
        .bind(nudge.note)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }
}
