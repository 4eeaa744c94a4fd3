//! Bookings: a patient's next appointment, and the reminder rows it sets off.
//!
//! Booking messages live in `reminders` (step ids `booking-…`) so they get the
//! scheduler's pacing, leases, retries and unreachable handling for free. A patient has
//! one row per step id, so moving a booking rewrites those rows in place.

use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

use super::{Store, from_millis, millis};
use crate::domain::booking::{BookingMessage, BookingStep};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Booking {
    pub id: i64,
    pub clinic_id: i64,
    pub patient_id: i64,
    pub starts_at: i64,
    pub status: String,
    pub answer: Option<String>,
}

impl Booking {
    pub fn starts(&self) -> DateTime<Utc> {
        from_millis(self.starts_at)
    }
    pub fn is_booked(&self) -> bool {
        self.status == "booked"
    }
}

const BOOKING_COLUMNS: &str = "id, clinic_id, patient_id, starts_at, status, answer";

pub async fn booking_in(
    conn: &mut SqliteConnection,
    patient_id: i64,
) -> Result<Option<Booking>, sqlx::Error> {
    let sql = format!("SELECT {BOOKING_COLUMNS} FROM bookings WHERE patient_id = ?");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(patient_id)
        .fetch_optional(conn)
        .await
}

/// Books (or moves) the patient's appointment; returns the booking id.
pub async fn upsert_booking(
    conn: &mut SqliteConnection,
    clinic_id: i64,
    patient_id: i64,
    starts_at: DateTime<Utc>,
    booked_by: i64,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO bookings (clinic_id, patient_id, starts_at, status, booked_by, updated_at)
         VALUES (?, ?, ?, 'booked', ?, ?)
         ON CONFLICT (patient_id) DO UPDATE SET starts_at = excluded.starts_at, status = 'booked',
           answer = NULL, booked_by = excluded.booked_by, updated_at = excluded.updated_at
         RETURNING id",
    )
    .bind(clinic_id)
    .bind(patient_id)
    .bind(millis(starts_at))
    .bind(booked_by)
    .bind(millis(now))
    .fetch_one(conn)
    .await
}

pub async fn cancel_booking(
    conn: &mut SqliteConnection,
    patient_id: i64,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE bookings SET status = 'cancelled', updated_at = ? WHERE patient_id = ?")
        .bind(millis(now))
        .bind(patient_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Replaces the patient's pending booking messages with `messages`. A step sent for an
/// earlier booking is queued again.
pub async fn schedule_booking_messages(
    conn: &mut SqliteConnection,
    patient_id: i64,
    messages: &[BookingMessage],
) -> Result<(), sqlx::Error> {
    let ids: Vec<&str> = BookingStep::ALL.iter().map(|s| s.id()).collect();
    let ids = serde_json_list(&ids);
    sqlx::query(
        "UPDATE reminders SET status = 'cancelled', note = 'booking changed', lease_until = NULL
         WHERE patient_id = ? AND status IN ('pending', 'leased')
           AND step_id IN (SELECT value FROM json_each(?))",
    )
    .bind(patient_id)
    .bind(ids)
    .execute(&mut *conn)
    .await?;
    for m in messages {
        sqlx::query(
            "INSERT INTO reminders (patient_id, step_id, due_at, expires_at, status) VALUES (?, ?, ?, ?, 'pending')
             ON CONFLICT (patient_id, step_id) DO UPDATE SET due_at = excluded.due_at,
               expires_at = excluded.expires_at, status = 'pending', lease_until = NULL,
               attempts = 0, telegram_message_id = NULL, sent_at = NULL, note = NULL",
        )
        .bind(patient_id)
        .bind(m.step.id())
        .bind(millis(m.due_at))
        .bind(millis(m.expires_at))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The clinic's appointments still booked, for re-planning when its settings change.
pub async fn booked_in_clinic(
    conn: &mut SqliteConnection,
    clinic_id: i64,
) -> Result<Vec<Booking>, sqlx::Error> {
    let sql =
        format!("SELECT {BOOKING_COLUMNS} FROM bookings WHERE clinic_id = ? AND status = 'booked'");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(clinic_id)
        .fetch_all(conn)
        .await
}

/// Moves an appointment's start without touching anything else about it (the patient's
/// answer stands: it is the same appointment, only its stored instant changes).
pub async fn set_start(
    conn: &mut SqliteConnection,
    booking_id: i64,
    starts_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE bookings SET starts_at = ? WHERE id = ?")
        .bind(millis(starts_at))
        .bind(booking_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records the patient's answer; returns the answer before this one.
pub async fn set_answer(
    conn: &mut SqliteConnection,
    booking_id: i64,
    answer: &str,
) -> Result<Option<String>, sqlx::Error> {
    let before: Option<Option<String>> =
        sqlx::query_scalar("SELECT answer FROM bookings WHERE id = ?")
            .bind(booking_id)
            .fetch_optional(&mut *conn)
            .await?;
    sqlx::query("UPDATE bookings SET answer = ? WHERE id = ?")
        .bind(answer)
        .bind(booking_id)
        .execute(conn)
        .await?;
    Ok(before.flatten())
}

pub async fn booking_by_id(
    conn: &mut SqliteConnection,
    id: i64,
) -> Result<Option<Booking>, sqlx::Error> {
    let sql = format!("SELECT {BOOKING_COLUMNS} FROM bookings WHERE id = ?");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await
}

fn serde_json_list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("\"{s}\"")).collect();
    format!("[{}]", quoted.join(","))
}

impl Store {
    pub async fn booking_of(&self, patient_id: i64) -> Result<Option<Booking>, sqlx::Error> {
        let mut conn = self.pool.acquire().await?;
        booking_in(&mut conn, patient_id).await
    }
}
