//! One-time links, stored by hash.

use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

use super::{from_millis, millis};

#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "TEXT", rename_all = "lowercase")]
pub enum LinkKind {
    /// Makes whoever opens it the clinic's owner.
    Owner,
    /// An invitation to join the clinic as an admin.
    Admin,
    /// An invitation to join the clinic as staff.
    Staff,
    /// Links a patient's chat to their enrollment.
    Patient,
}

#[derive(Debug, Clone)]
pub struct Link {
    pub kind: LinkKind,
    pub clinic_id: i64,
    pub patient_id: Option<i64>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub used_by: Option<i64>,
    /// A newer link for the same patient replaced this one.
    pub voided: bool,
}

pub async fn insert_link(
    conn: &mut SqliteConnection,
    hash: &str,
    kind: LinkKind,
    clinic_id: i64,
    patient_id: Option<i64>,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO links (hash, kind, clinic_id, patient_id, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(hash)
    .bind(kind)
    .bind(clinic_id)
    .bind(patient_id)
    .bind(millis(expires_at))
    .bind(millis(now))
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct LinkRow {
    kind: LinkKind,
    clinic_id: i64,
    patient_id: Option<i64>,
    expires_at: i64,
    used_at: Option<i64>,
    used_by: Option<i64>,
    voided_at: Option<i64>,
}

pub async fn find_link(
    conn: &mut SqliteConnection,
    hash: &str,
) -> Result<Option<Link>, sqlx::Error> {
    let row: Option<LinkRow> = sqlx::query_as(
        "SELECT kind, clinic_id, patient_id, expires_at, used_at, used_by, voided_at FROM links WHERE hash = ?",
    )
    .bind(hash)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| Link {
        kind: r.kind,
        clinic_id: r.clinic_id,
        patient_id: r.patient_id,
        expires_at: from_millis(r.expires_at),
        used_at: r.used_at.map(from_millis),
        used_by: r.used_by,
        voided: r.voided_at.is_some(),
    }))
}

/// Marks a link used; false if someone else used it first.
pub async fn use_link(
    conn: &mut SqliteConnection,
    hash: &str,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done =
        sqlx::query("UPDATE links SET used_at = ?, used_by = ? WHERE hash = ? AND used_at IS NULL")
            .bind(millis(now))
            .bind(user_id)
            .bind(hash)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Voids a patient's unused links, so only the newest one works.
pub async fn void_patient_links(
    conn: &mut SqliteConnection,
    patient_id: i64,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE links SET voided_at = ? WHERE patient_id = ? AND used_at IS NULL AND voided_at IS NULL",
    )
    .bind(millis(now))
    .bind(patient_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Voids a clinic's unused owner links, so only the newest one works.
pub async fn void_owner_links(
    conn: &mut SqliteConnection,
    clinic_id: i64,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE links SET voided_at = ? WHERE clinic_id = ? AND kind = 'owner' AND used_at IS NULL AND voided_at IS NULL",
    )
    .bind(millis(now))
    .bind(clinic_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}
