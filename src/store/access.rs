//! Who works where, in which role, which clinic they act for, and the audit trail.

use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

use super::{StaffRole, Store, millis};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StaffMember {
    pub user_id: i64,
    pub role: StaffRole,
    pub display_name: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    pub clinic_id: i64,
    pub actor: Option<i64>,
    pub action: String,
    pub subject: Option<String>,
    pub detail: Option<String>,
}

/// One thing someone did, for the audit trail. Subjects are ids, never names, so
/// entries survive a patient's erasure without keeping their name.
pub struct Audit<'a> {
    pub clinic_id: i64,
    pub actor: Option<i64>,
    pub action: &'a str,
    pub subject: Option<String>,
    pub detail: Option<String>,
}

pub async fn record(
    conn: &mut SqliteConnection,
    a: Audit<'_>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO audit (at, clinic_id, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?, ?)")
        .bind(millis(now))
        .bind(a.clinic_id)
        .bind(a.actor)
        .bind(a.action)
        .bind(a.subject)
        .bind(a.detail)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_display_name(
    conn: &mut SqliteConnection,
    clinic_id: i64,
    user_id: i64,
    name: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE staff SET display_name = ? WHERE clinic_id = ? AND user_id = ?")
        .bind(name)
        .bind(clinic_id)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn role_in(
    conn: &mut SqliteConnection,
    clinic_id: i64,
    user_id: i64,
) -> Result<Option<StaffRole>, sqlx::Error> {
    sqlx::query_scalar("SELECT role FROM staff WHERE clinic_id = ? AND user_id = ?")
        .bind(clinic_id)
        .bind(user_id)
        .fetch_optional(conn)
        .await
}

pub async fn count_owners(conn: &mut SqliteConnection, clinic_id: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM staff WHERE clinic_id = ? AND role = 'owner'")
        .bind(clinic_id)
        .fetch_one(conn)
        .await
}

pub async fn remove_staff(
    conn: &mut SqliteConnection,
    clinic_id: i64,
    user_id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM staff WHERE clinic_id = ? AND user_id = ?")
        .bind(clinic_id)
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM active_clinic WHERE user_id = ? AND clinic_id = ?")
        .bind(user_id)
        .bind(clinic_id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_role(
    conn: &mut SqliteConnection,
    clinic_id: i64,
    user_id: i64,
    role: StaffRole,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE staff SET role = ? WHERE clinic_id = ? AND user_id = ?")
        .bind(role)
        .bind(clinic_id)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Makes `clinic_id` the clinic a person acts for.
pub async fn set_active_clinic(
    conn: &mut SqliteConnection,
    user_id: i64,
    clinic_id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO active_clinic (user_id, clinic_id) VALUES (?, ?)
         ON CONFLICT (user_id) DO UPDATE SET clinic_id = excluded.clinic_id",
    )
    .bind(user_id)
    .bind(clinic_id)
    .execute(conn)
    .await?;
    Ok(())
}

impl Store {
    /// A clinic's people, owners first.
    pub async fn staff_of(&self, clinic_id: i64) -> Result<Vec<StaffMember>, sqlx::Error> {
        sqlx::query_as(
            "SELECT user_id, role, display_name FROM staff WHERE clinic_id = ?
             ORDER BY CASE role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END, created_at, user_id",
        )
        .bind(clinic_id)
        .fetch_all(&self.pool)
        .await
    }

    /// The private chats of everyone who works for a clinic (a private chat's id is the
    /// user's id), optionally only those with `role`; owners first.
    pub async fn staff_chats(
        &self,
        clinic_id: i64,
        role: Option<StaffRole>,
    ) -> Result<Vec<i64>, sqlx::Error> {
        Ok(self
            .staff_of(clinic_id)
            .await?
            .into_iter()
            .filter(|m| role.is_none_or(|r| m.role == r))
            .map(|m| m.user_id)
            .collect())
    }

    /// The newest `limit` entries of a clinic's trail, newest first.
    pub async fn recent_audit(
        &self,
        clinic_id: i64,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, sqlx::Error> {
        sqlx::query_as(
            "SELECT id, at, clinic_id, actor, action, subject, detail FROM audit
             WHERE clinic_id = ? ORDER BY at DESC, id DESC LIMIT ?",
        )
        .bind(clinic_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
    }

    /// A clinic's trail since `since`, oldest first, for export.
    pub async fn audit_since(
        &self,
        clinic_id: i64,
        since: DateTime<Utc>,
    ) -> Result<Vec<AuditEntry>, sqlx::Error> {
        sqlx::query_as(
            "SELECT id, at, clinic_id, actor, action, subject, detail FROM audit
             WHERE clinic_id = ? AND at >= ? ORDER BY at, id",
        )
        .bind(clinic_id)
        .bind(millis(since))
        .fetch_all(&self.pool)
        .await
    }

    /// Writes a consistent copy of the database to `path` while the bot runs.
    pub async fn backup_to(&self, path: &str) -> Result<(), sqlx::Error> {
        sqlx::query("VACUUM INTO ?")
            .bind(path)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

impl super::Store {
    /// The clinic that last took `user_id`'s staff access away, and when (from the
    /// audit trail), so a former staff member is told rather than treated as a stranger.
    pub async fn revoked_from(
        &self,
        user_id: i64,
    ) -> Result<Option<(String, DateTime<chrono_tz::Tz>)>, sqlx::Error> {
        let row: Option<(String, String, i64)> = sqlx::query_as(
            "SELECT c.name, c.timezone, a.at FROM audit a JOIN clinics c ON c.id = a.clinic_id
             WHERE a.action = 'revoke' AND a.subject = ? ORDER BY a.at DESC, a.id DESC LIMIT 1",
        )
        .bind(format!("user {user_id}"))
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(name, tz, at)| {
            let tz = tz.parse().unwrap_or(chrono_tz::UTC);
            (name, super::from_millis(at).with_timezone(&tz))
        }))
    }
}
