//! Patients of a clinic.

use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

use super::{Store, from_millis, millis};

#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "TEXT", rename_all = "lowercase")]
pub enum PatientStatus {
    /// Enrolled; the link is not opened yet.
    Invited,
    Active,
    /// The patient ended their reminders.
    Stopped,
    /// Telegram refuses delivery: blocked, deactivated or the chat is gone.
    Unreachable,
}

impl PatientStatus {
    pub fn label(self) -> &'static str {
        match self {
            PatientStatus::Invited => "link not opened",
            PatientStatus::Active => "active",
            PatientStatus::Stopped => "stopped",
            PatientStatus::Unreachable => "unreachable",
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Patient {
    pub id: i64,
    pub clinic_id: i64,
    pub name: String,
    pub plan: String,
    pub session_at: i64,
    pub chat_id: Option<i64>,
    pub lang: Option<String>,
    pub status: PatientStatus,
    /// The patient's own zone (/timezone); `None` follows the clinic.
    #[sqlx(default)]
    pub timezone: Option<String>,
    /// When the patient erased their data: the record is final from then on.
    #[sqlx(default)]
    pub erased_at: Option<i64>,
    /// The newer course of the same clinic that took this one's place, and when.
    #[sqlx(default)]
    pub replaced_by: Option<i64>,
    #[sqlx(default)]
    pub replaced_at: Option<i64>,
    /// Who stopped a stopped record (see `StoppedBy`); `None` reads as the patient.
    #[sqlx(default)]
    pub stopped_by: Option<String>,
}

/// Who stopped a record's reminders: only the patient's own stop is theirs to undo.
pub mod stopped_by {
    pub const PATIENT: &str = "patient";
    pub const PAUSE: &str = "pause";
    pub const CANCEL: &str = "cancel";
    pub const REPLACED: &str = "replaced";
    pub const ERASED: &str = "erased";
}

impl Patient {
    /// The zone the patient's reminders follow: their own, else the clinic's.
    pub fn zone(&self, clinic: &super::Clinic) -> chrono_tz::Tz {
        self.timezone
            .as_deref()
            .and_then(|z| z.parse().ok())
            .unwrap_or_else(|| clinic.tz())
    }

    pub fn session(&self) -> DateTime<Utc> {
        from_millis(self.session_at)
    }

    pub fn erased(&self) -> Option<DateTime<Utc>> {
        self.erased_at.map(from_millis)
    }

    pub fn replaced(&self) -> Option<(i64, DateTime<Utc>)> {
        Some((self.replaced_by?, from_millis(self.replaced_at?)))
    }

    /// Stopped by the clinic (`/pause` or `/cancel`): the patient's `/resume` does not
    /// undo it.
    pub fn halted_by_clinic(&self) -> Option<&str> {
        match self.stopped_by.as_deref() {
            Some(how @ (stopped_by::PAUSE | stopped_by::CANCEL))
                if self.status == PatientStatus::Stopped =>
            {
                Some(how)
            }
            _ => None,
        }
    }
}

/// A line of a staff member's patient list.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PatientListing {
    pub id: i64,
    pub name: String,
    pub plan: String,
    pub status: PatientStatus,
    pub session_at: i64,
    pub next_due: Option<i64>,
    /// The newer course of the same clinic that took this one's place.
    pub replaced_by: Option<i64>,
}

pub(crate) const PATIENT_COLUMNS: &str = "id, clinic_id, name, plan, session_at, chat_id, lang, status, timezone, \
     erased_at, replaced_by, replaced_at, stopped_by";

pub async fn insert_patient(
    conn: &mut SqliteConnection,
    clinic_id: i64,
    name: &str,
    plan: &str,
    session_at: DateTime<Utc>,
    enrolled_by: i64,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO patients (clinic_id, name, plan, session_at, status, enrolled_by, created_at)
         VALUES (?, ?, ?, ?, 'invited', ?, ?) RETURNING id",
    )
    .bind(clinic_id)
    .bind(name)
    .bind(plan)
    .bind(millis(session_at))
    .bind(enrolled_by)
    .bind(millis(now))
    .fetch_one(conn)
    .await
}

pub async fn patient_in(
    conn: &mut SqliteConnection,
    id: i64,
) -> Result<Option<Patient>, sqlx::Error> {
    let sql = format!("SELECT {PATIENT_COLUMNS} FROM patients WHERE id = ?");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await
}

pub async fn activate_patient(
    conn: &mut SqliteConnection,
    id: i64,
    chat_id: i64,
    lang: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE patients SET chat_id = ?, lang = ?, status = 'active', linked_at = ? WHERE id = ?",
    )
    .bind(chat_id)
    .bind(lang)
    .bind(millis(now))
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// A chat's earlier courses from the same clinic, when it links to a new one: each is
/// ended and marked as replaced by `keep`. Courses from other clinics run alongside.
/// Returns the ids of the courses replaced.
pub async fn replace_earlier_courses(
    conn: &mut SqliteConnection,
    chat_id: i64,
    clinic_id: i64,
    keep: i64,
    now: DateTime<Utc>,
) -> Result<Vec<i64>, sqlx::Error> {
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM patients WHERE chat_id = ? AND clinic_id = ? AND id != ?
           AND replaced_by IS NULL AND erased_at IS NULL ORDER BY id",
    )
    .bind(chat_id)
    .bind(clinic_id)
    .bind(keep)
    .fetch_all(&mut *conn)
    .await?;
    for id in &ids {
        sqlx::query(
            "UPDATE reminders SET status = 'cancelled', note = 'replaced by a newer course', lease_until = NULL
             WHERE status IN ('pending', 'leased') AND patient_id = ?",
        )
        .bind(id)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "UPDATE patients SET status = 'stopped', stopped_by = 'replaced', replaced_by = ?, replaced_at = ?
             WHERE id = ?",
        )
        .bind(keep)
        .bind(millis(now))
        .bind(id)
        .execute(&mut *conn)
        .await?;
    }
    Ok(ids)
}

/// Records who stopped a patient's reminders (`stopped_by::…`), or clears it (`None`)
/// when they are on again.
pub async fn set_stopped_by(
    conn: &mut SqliteConnection,
    id: i64,
    who: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE patients SET stopped_by = ? WHERE id = ?")
        .bind(who)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Every record linked to a chat, in every clinic, oldest first (erased records are
/// unlinked, so never among them).
pub async fn records_of_chat(
    conn: &mut SqliteConnection,
    chat_id: i64,
) -> Result<Vec<Patient>, sqlx::Error> {
    let sql =
        format!("SELECT {PATIENT_COLUMNS} FROM patients WHERE chat_id = ? ORDER BY linked_at, id");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(chat_id)
        .fetch_all(conn)
        .await
}

/// The courses a chat follows now: per clinic, its newest linked record that no newer
/// course replaced. Oldest clinic first.
pub async fn current_courses(
    conn: &mut SqliteConnection,
    chat_id: i64,
) -> Result<Vec<Patient>, sqlx::Error> {
    let all = records_of_chat(conn, chat_id).await?;
    let mut current: Vec<Patient> = Vec::new();
    for p in all.into_iter().filter(|p| p.replaced_by.is_none()) {
        match current.iter_mut().find(|c| c.clinic_id == p.clinic_id) {
            Some(c) => *c = p,
            None => current.push(p),
        }
    }
    Ok(current)
}

pub async fn set_status(
    conn: &mut SqliteConnection,
    id: i64,
    status: PatientStatus,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE patients SET status = ? WHERE id = ?")
        .bind(status)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

impl Store {
    pub async fn patient(&self, id: i64) -> Result<Option<Patient>, sqlx::Error> {
        let mut conn = self.pool.acquire().await?;
        patient_in(&mut conn, id).await
    }

    /// The course a chat currently follows: its most recently linked enrollment.
    pub async fn patient_by_chat(&self, chat_id: i64) -> Result<Option<Patient>, sqlx::Error> {
        let mut conn = self.pool.acquire().await?;
        patient_by_chat(&mut conn, chat_id).await
    }

    /// Every record linked to a chat, in every clinic.
    pub async fn records_of_chat(&self, chat_id: i64) -> Result<Vec<Patient>, sqlx::Error> {
        let mut conn = self.pool.acquire().await?;
        records_of_chat(&mut conn, chat_id).await
    }

    /// The courses a chat follows now, one per clinic.
    pub async fn current_courses(&self, chat_id: i64) -> Result<Vec<Patient>, sqlx::Error> {
        let mut conn = self.pool.acquire().await?;
        current_courses(&mut conn, chat_id).await
    }

    /// A clinic's patients, newest first, with their next pending reminder.
    /// One page of the clinic's patients, newest first.
    pub async fn list_patients(
        &self,
        clinic_id: i64,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<PatientListing>, sqlx::Error> {
        sqlx::query_as(
            "SELECT p.id, p.name, p.plan, p.status, p.session_at, p.replaced_by,
                    (SELECT MIN(r.due_at) FROM reminders r
                      WHERE r.patient_id = p.id AND r.status IN ('pending', 'leased')) AS next_due
             FROM patients p WHERE p.clinic_id = ? ORDER BY p.id DESC LIMIT ? OFFSET ?",
        )
        .bind(clinic_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await
    }

    /// Every patient of the clinic whose name contains `query` (letter case ignored,
    /// beyond A–Z too, hence compared here rather than in SQL), newest first.
    pub async fn search_patients(
        &self,
        clinic_id: i64,
        query: &str,
    ) -> Result<Vec<PatientListing>, sqlx::Error> {
        let all: Vec<PatientListing> = sqlx::query_as(
            "SELECT p.id, p.name, p.plan, p.status, p.session_at, p.replaced_by,
                    (SELECT MIN(r.due_at) FROM reminders r
                      WHERE r.patient_id = p.id AND r.status IN ('pending', 'leased')) AS next_due
             FROM patients p WHERE p.clinic_id = ? AND p.name != '' ORDER BY p.id DESC",
        )
        .bind(clinic_id)
        .fetch_all(&self.pool)
        .await?;
        let query = query.to_lowercase();
        Ok(all
            .into_iter()
            .filter(|p| p.name.to_lowercase().contains(&query))
            .collect())
    }

    pub async fn count_patients(&self, clinic_id: i64) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COUNT(*) FROM patients WHERE clinic_id = ?")
            .bind(clinic_id)
            .fetch_one(&self.pool)
            .await
    }
}

/// The course a chat currently follows: its most recently linked enrollment.
pub async fn patient_by_chat(
    conn: &mut SqliteConnection,
    chat_id: i64,
) -> Result<Option<Patient>, sqlx::Error> {
    let sql = format!(
        "SELECT {PATIENT_COLUMNS} FROM patients WHERE chat_id = ? ORDER BY linked_at DESC, id DESC LIMIT 1"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(chat_id)
        .fetch_optional(conn)
        .await
}

/// Sets (or, with `None`, clears) the zone a patient's reminders follow.
pub async fn set_timezone(
    conn: &mut SqliteConnection,
    id: i64,
    zone: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE patients SET timezone = ? WHERE id = ?")
        .bind(zone)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}
