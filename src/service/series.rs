//! Series of sessions: `/done` starts the course again from a new session over the same
//! chat (no new link); `/series` sets how many sessions there are.

use chrono::{DateTime, Utc};

use super::gap::{GapOverride, TooSoon};
use crate::catalog::Catalog;
use crate::domain::booking::PatientRef;
use crate::store::access::{self, Audit};
use crate::store::{Clinic, Lookup, Patient, PatientStatus, Store, patient_lookup, series};

pub enum SeriesOutcome {
    Done {
        patient: Box<Patient>,
        session_no: i64,
        total: Option<i64>,
    },
    /// Not linked, stopped or unreachable: the course could not reach them.
    NotActive(Box<Patient>),
    /// `/done` when the patient already had every session of their series: there is no
    /// "session 3 of 2"; staff extend the series first.
    SeriesComplete {
        patient: Box<Patient>,
        total: i64,
    },
    /// `/done` dated before the session the patient is in: the course would restart in
    /// the past and send every step since at once.
    BeforeCurrent(Box<Patient>),
    /// Inside the course's healing gap and not confirmed: nothing recorded; staff are
    /// asked whether to record it anyway.
    TooSoon(TooSoon),
    NotFound(Lookup),
}

impl super::Wakes for SeriesOutcome {
    /// A new session's first steps are due at once. (Setting the number of sessions
    /// also answers `Done`; its wake costs the scheduler one idle look.)
    fn wakes_scheduler(&self) -> bool {
        matches!(self, SeriesOutcome::Done { .. })
    }
}

/// Records a new session at `session_at` and plans the course from it. Inside the
/// course's healing gap it records only when `gap` says staff confirmed it (then
/// audited here too); the gap is read in the same transaction as the session is written.
#[allow(clippy::too_many_arguments)]
pub async fn next_session(
    store: &Store,
    catalog: &Catalog,
    clinic: &Clinic,
    staff_user: i64,
    who: &PatientRef,
    session_at: DateTime<Utc>,
    gap: GapOverride,
    now: DateTime<Utc>,
) -> Result<SeriesOutcome, sqlx::Error> {
    let mut tx = store.begin().await?;
    let patient = match patient_lookup::find_patient(&mut tx, clinic.id, who).await? {
        Lookup::One(p) => p,
        other => return Ok(SeriesOutcome::NotFound(other)),
    };
    if patient.status != PatientStatus::Active {
        return Ok(SeriesOutcome::NotActive(patient));
    }
    if session_at < patient.session() {
        return Ok(SeriesOutcome::BeforeCurrent(patient));
    }
    if let (session_no, Some(total)) = series::series_in(&mut tx, patient.id).await?
        && session_no >= total
    {
        return Ok(SeriesOutcome::SeriesComplete { patient, total });
    }
    if gap == GapOverride::No
        && let Some(too_soon) =
            super::gap::check_in(&mut tx, catalog, clinic, &patient, session_at).await?
    {
        return Ok(SeriesOutcome::TooSoon(too_soon));
    }
    let mut moved = (*patient).clone();
    moved.session_at = session_at.timestamp_millis();
    // The clinic's own timing of the plan, as when the patient linked.
    let plan = super::timing::course_plan(&mut tx, catalog, clinic, &moved.plan).await?;
    let rows = super::link::plan_rows(plan.as_ref(), &moved, clinic, now);
    let session_no = series::start_next_session(&mut tx, patient.id, session_at).await?;
    series::restart_reminders(&mut tx, patient.id, &rows).await?;
    let (_, total) = series::series_in(&mut tx, patient.id).await?;
    let audit = Audit {
        clinic_id: clinic.id,
        actor: Some(staff_user),
        action: "done",
        subject: Some(format!("patient {}", patient.id)),
        detail: Some(format!("session {session_no}")),
    };
    access::record(&mut tx, audit, now).await?;
    super::gap::audit_override(
        &mut tx, gap, clinic, staff_user, patient.id, "done", session_at, now,
    )
    .await?;
    tx.commit().await?;
    Ok(SeriesOutcome::Done {
        patient: Box::new(moved),
        session_no,
        total,
    })
}

/// Sets the number of sessions in the patient's series.
pub async fn set_series(
    store: &Store,
    clinic: &Clinic,
    who: &PatientRef,
    total: i64,
) -> Result<SeriesOutcome, sqlx::Error> {
    let mut tx = store.begin().await?;
    let patient = match patient_lookup::find_patient(&mut tx, clinic.id, who).await? {
        Lookup::One(p) => p,
        other => return Ok(SeriesOutcome::NotFound(other)),
    };
    series::set_total(&mut tx, patient.id, total).await?;
    let (session_no, total) = series::series_in(&mut tx, patient.id).await?;
    tx.commit().await?;
    Ok(SeriesOutcome::Done {
        patient,
        session_no,
        total,
    })
}
