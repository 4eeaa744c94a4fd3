//! The healing gap: a course's `min_gap`, the least time between two sessions. `/book`
//! and `/done` sooner than that ask staff to confirm; a confirmed override is audited.
//! Both the check and the override's audit row live in the action's own transaction.
//! Days are counted on the clinic's calendar, so "4 weeks" after a session on Monday
//! the 23rd at 14:00 allows any time on Monday the 21st four weeks later.

use chrono::{DateTime, Duration, Utc};
use sqlx::SqliteConnection;

use crate::catalog::Catalog;
use crate::store::access::{self, Audit};
use crate::store::{Clinic, Patient};

/// A session or booking planned inside the gap.
#[derive(Debug, Clone)]
pub struct TooSoon {
    pub patient_id: i64,
    pub patient_name: String,
    pub course: String,
    pub last_session: DateTime<Utc>,
    pub min_gap: Duration,
    /// The first day that keeps the gap, at 00:00 clinic time.
    pub earliest: DateTime<Utc>,
}

/// Whether `when` is too soon after `patient`'s current session, read inside the
/// booking's or session's own transaction (`conn`), so what decides is what the write
/// sees: a `/done` committed in between cannot slip a booking inside the new gap.
/// The caller has already refused what the action itself refuses (not found, not
/// active, for `/done` a date before the current session or a complete series).
pub(super) async fn check_in(
    conn: &mut SqliteConnection,
    catalog: &Catalog,
    clinic: &Clinic,
    patient: &Patient,
    when: DateTime<Utc>,
) -> Result<Option<TooSoon>, sqlx::Error> {
    // A booking before the current session is no next session: no gap to keep.
    if when < patient.session() {
        return Ok(None);
    }
    let plan = super::timing::clinic_plan(conn, catalog, clinic.id, &patient.plan).await?;
    let Some(plan) = plan else {
        return Ok(None);
    };
    let Some(min_gap) = plan.min_gap else {
        return Ok(None);
    };
    let tz = clinic.tz();
    let last = patient.session();
    let first_day = (last.with_timezone(&tz) + min_gap).date_naive();
    if when.with_timezone(&tz).date_naive() >= first_day {
        return Ok(None);
    }
    let earliest =
        crate::domain::time::resolve_local(tz, first_day.and_time(chrono::NaiveTime::MIN));
    Ok(Some(TooSoon {
        patient_id: patient.id,
        patient_name: patient.name.clone(),
        course: plan.name.clone(),
        last_session: last,
        min_gap,
        earliest,
    }))
}

/// Whether staff confirmed going ahead inside the healing gap. A confirmed override is
/// audited by the booking or session it allowed, in the same transaction: without its
/// `gap.override` row, nothing is booked or recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GapOverride {
    /// The plain command: inside the gap, nothing is written and staff are asked.
    No,
    /// "Book anyway" / "Record anyway" was pressed.
    Confirmed,
}

/// Writes the `gap.override` audit row for `what` ("book" or "done") at `when`, inside
/// the caller's transaction; nothing for [`GapOverride::No`].
#[allow(clippy::too_many_arguments)]
pub(super) async fn audit_override(
    conn: &mut SqliteConnection,
    gap: GapOverride,
    clinic: &Clinic,
    user_id: i64,
    patient_id: i64,
    what: &str,
    when: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    if gap == GapOverride::No {
        return Ok(());
    }
    let audit = Audit {
        clinic_id: clinic.id,
        actor: Some(user_id),
        action: "gap.override",
        subject: Some(format!("patient {patient_id}")),
        detail: Some(format!("{what} {}", when.format("%Y-%m-%d %H:%M UTC"))),
    };
    access::record(conn, audit, now).await
}
