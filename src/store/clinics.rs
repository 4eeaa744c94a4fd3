//! Clinics and the people who work for them.

use chrono::{DateTime, NaiveTime, Utc};
use chrono_tz::Tz;
use sqlx::SqliteConnection;

use super::{Store, millis};
use crate::domain::time::{QuietHours, parse_clock};
use crate::service::access::Setting;

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
    /// Set with `/settings emergency`; `None`: the number of the clinic's zone.
    pub emergency: Option<String>,
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

const CLINIC_COLUMNS: &str = "id, name, timezone, quiet_start, quiet_end, default_plan, default_lang, contact, link_ttl_secs, emergency";

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
        let mut conn = self.pool.acquire().await?;
        memberships_in(&mut conn, user_id).await
    }

    /// Everyone who works for any clinic: they get the staff command menu.
    pub async fn all_staff_user_ids(&self) -> Result<Vec<i64>, sqlx::Error> {
        sqlx::query_scalar("SELECT DISTINCT user_id FROM staff")
            .fetch_all(&self.pool)
            .await
    }
}

/// The clinics a person works for, earliest first, with their role in each.
pub async fn memberships_in(
    conn: &mut SqliteConnection,
    user_id: i64,
) -> Result<Vec<(Clinic, StaffRole)>, sqlx::Error> {
    // Read on every update, so one query. The active clinic (chosen with /clinic)
    // comes first, then by joining order.
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        clinic: Clinic,
        role: StaffRole,
    }
    let columns: Vec<String> = CLINIC_COLUMNS
        .split(", ")
        .map(|c| format!("c.{c}"))
        .collect();
    let sql = format!(
        "SELECT {}, s.role FROM staff s JOIN clinics c ON c.id = s.clinic_id
         LEFT JOIN active_clinic a ON a.user_id = s.user_id AND a.clinic_id = s.clinic_id
         WHERE s.user_id = ? ORDER BY a.clinic_id IS NULL, s.created_at, s.clinic_id",
        columns.join(", ")
    );
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().map(|r| (r.clinic, r.role)).collect())
}

pub async fn clinic_in(
    conn: &mut SqliteConnection,
    id: i64,
) -> Result<Option<Clinic>, sqlx::Error> {
    let sql = format!("SELECT {CLINIC_COLUMNS} FROM clinics WHERE id = ?");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Writes one setting; returns its column and new value for the audit trail.
pub async fn apply_setting(
    conn: &mut SqliteConnection,
    clinic_id: i64,
    setting: &Setting,
) -> Result<(&'static str, String), sqlx::Error> {
    let (sql, key, value): (&'static str, &'static str, String) = match setting {
        Setting::Name(n) => (
            "UPDATE clinics SET name = ? WHERE id = ?",
            "name",
            n.clone(),
        ),
        Setting::Timezone(tz) => (
            "UPDATE clinics SET timezone = ? WHERE id = ?",
            "timezone",
            tz.name().to_string(),
        ),
        Setting::Contact(c) => (
            "UPDATE clinics SET contact = ? WHERE id = ?",
            "contact",
            c.clone(),
        ),
        Setting::Plan(p) => (
            "UPDATE clinics SET default_plan = ? WHERE id = ?",
            "plan",
            p.clone(),
        ),
        Setting::LinkDays(d) => (
            "UPDATE clinics SET link_ttl_secs = ? * 86400 WHERE id = ?",
            "link lifetime (days)",
            d.to_string(),
        ),
        Setting::Emergency(number) => {
            sqlx::query("UPDATE clinics SET emergency = ? WHERE id = ?")
                .bind(number)
                .bind(clinic_id)
                .execute(conn)
                .await?;
            return Ok((
                "emergency number",
                number.clone().unwrap_or_else(|| "auto".into()),
            ));
        }
        Setting::Quiet(start, end) => {
            sqlx::query("UPDATE clinics SET quiet_start = ?, quiet_end = ? WHERE id = ?")
                .bind(start.format("%H:%M").to_string())
                .bind(end.format("%H:%M").to_string())
                .bind(clinic_id)
                .execute(conn)
                .await?;
            return Ok((
                "quiet hours",
                format!("{}-{}", start.format("%H:%M"), end.format("%H:%M")),
            ));
        }
    };
    sqlx::query(sql)
        .bind(&value)
        .bind(clinic_id)
        .execute(conn)
        .await?;
    Ok((key, value))
}

/// Other clinics whose name equals `name` (ignoring ASCII case): `clinic add` warns.
pub async fn clinics_named(
    conn: &mut SqliteConnection,
    name: &str,
) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM clinics WHERE name = ? COLLATE NOCASE ORDER BY id")
        .bind(name)
        .fetch_all(conn)
        .await
}

pub async fn count_owners(conn: &mut SqliteConnection, clinic_id: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM staff WHERE clinic_id = ? AND role = 'owner'")
        .bind(clinic_id)
        .fetch_one(conn)
        .await
}

/// One clinic as `aftercare clinic list` shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClinicOverview {
    pub id: i64,
    pub name: String,
    pub timezone: String,
    pub contact: String,
    pub owners: i64,
    /// Admins and staff, owners not counted.
    pub staff: i64,
    pub patients: i64,
}

impl Store {
    /// Every clinic with its people and patient counts, by number.
    pub async fn clinic_overview(&self) -> Result<Vec<ClinicOverview>, sqlx::Error> {
        sqlx::query_as(
            "SELECT c.id, c.name, c.timezone, c.contact,
                    (SELECT COUNT(*) FROM staff s WHERE s.clinic_id = c.id AND s.role = 'owner') AS owners,
                    (SELECT COUNT(*) FROM staff s WHERE s.clinic_id = c.id AND s.role <> 'owner') AS staff,
                    (SELECT COUNT(*) FROM patients p WHERE p.clinic_id = c.id) AS patients
             FROM clinics c ORDER BY c.id",
        )
        .fetch_all(&self.pool)
        .await
    }
}
