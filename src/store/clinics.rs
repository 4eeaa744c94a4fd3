//! Clinics and the people who work for them.

use chrono::{DateTime, NaiveTime, Utc};
use chrono_tz::Tz;
use sqlx::SqliteConnection;

use super::{Store, millis};
use crate::domain::time::{QuietHours, parse_clock};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Clinic {
    pub id: i64,
    pub name: String,
    pub timezone: String,
    pub quiet_start: String,
    pub quiet_end: String,
    pub default_plan: String,
    pub default_lang: String,
    pub contact: String,
    pub link_ttl_secs: i64,
}

impl Clinic {
    /// The stored zone; checked on the way in, so a bad value means a hand-edited row.
    pub fn tz(&self) -> Tz {
        self.timezone.parse().unwrap_or(chrono_tz::UTC)
    }

    pub fn quiet_hours(&self) -> QuietHours {
        let d = QuietHours::default();
        QuietHours {
            start: parse_clock(&self.quiet_start).unwrap_or(d.start),
            end: parse_clock(&self.quiet_end).unwrap_or(d.end),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "TEXT", rename_all = "lowercase")]
pub enum StaffRole {
    Owner,
    Admin,
    Staff,
}

const CLINIC_COLUMNS: &str = "id, name, timezone, quiet_start, quiet_end, default_plan, default_lang, contact, link_ttl_secs";

pub async fn insert_clinic(
    conn: &mut SqliteConnection,
    name: &str,
    tz: Tz,
    quiet: Option<(NaiveTime, NaiveTime)>,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    let (start, end) = quiet
        .map(|(s, e)| (s.format("%H:%M").to_string(), e.format("%H:%M").to_string()))
        .unwrap_or_else(|| ("21:00".into(), "08:00".into()));
    let id = sqlx::query_scalar(
        "INSERT INTO clinics (name, timezone, quiet_start, quiet_end, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(name)
    .bind(tz.name())
    .bind(start)
    .bind(end)
    .bind(millis(now))
    .fetch_one(conn)
    .await?;
    Ok(id)
}

pub async fn add_staff(
    conn: &mut SqliteConnection,
    clinic_id: i64,
    user_id: i64,
    role: StaffRole,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO staff (clinic_id, user_id, role, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (clinic_id, user_id) DO UPDATE SET role = excluded.role",
    )
    .bind(clinic_id)
    .bind(user_id)
    .bind(role)
    .bind(millis(now))
    .execute(conn)
    .await?;
    Ok(())
}

impl Store {
    pub async fn clinic(&self, id: i64) -> Result<Option<Clinic>, sqlx::Error> {
        let sql = format!("SELECT {CLINIC_COLUMNS} FROM clinics WHERE id = ?");
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
    }

    /// The clinics a person works for, earliest first, with their role in each.
    pub async fn memberships(&self, user_id: i64) -> Result<Vec<(Clinic, StaffRole)>, sqlx::Error> {
        let rows: Vec<(i64, StaffRole)> = sqlx::query_as(
            "SELECT clinic_id, role FROM staff WHERE user_id = ? ORDER BY created_at, clinic_id",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for (clinic_id, role) in rows {
            if let Some(c) = self.clinic(clinic_id).await? {
                out.push((c, role));
            }
        }
        Ok(out)
    }

    /// Everyone who works for any clinic: they get the staff command menu.
    pub async fn all_staff_user_ids(&self) -> Result<Vec<i64>, sqlx::Error> {
        sqlx::query_scalar("SELECT DISTINCT user_id FROM staff")
            .fetch_all(&self.pool)
            .await
    }
}
