//! Series of sessions: `/done` starts the course again from a new session over the same
//! chat (no new link); `/series` sets how many sessions there are.

use chrono::{DateTime, Utc};

use crate::catalog::Catalog;
use crate::domain::booking::PatientRef;
use crate::store::{Clinic, Lookup, Patient, PatientStatus, Store, series};

pub enum SeriesOutcome {
    Done {
        patient: Box<Patient>,
        session_no: i64,
        total: Option<i64>,
    },
    /// Not linked, stopped or unreachable: the course could not reach them.
    NotActive(Box<Patient>),
    NotFound(Lookup),
}

/// Records a new session at `session_at` and plans the course from it.
pub async fn next_session(
    store: &Store,
    catalog: &Catalog,
    clinic: &Clinic,
    who: &PatientRef,
    session_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<SeriesOutcome, sqlx::Error> {
    let patient = match store.find_patient(clinic.id, who).await? {
        Lookup::One(p) => p,
        other => return Ok(SeriesOutcome::NotFound(other)),
    };
    if patient.status != PatientStatus::Active {
        return Ok(SeriesOutcome::NotActive(patient));
    }
    let mut moved = (*patient).clone();
    moved.session_at = session_at.timestamp_millis();
    // The clinic's own timing of the plan, as when the patient linked.
    let plan = match super::timing::clinic_plan(store, catalog, clinic.id, &moved.plan).await? {
        Some(p) => Some(p),
        None => super::timing::clinic_plan(store, catalog, clinic.id, &clinic.default_plan).await?,
    };
    let rows = super::link::plan_rows(plan.as_ref(), &moved, clinic, now);
    let mut tx = store.begin().await?;
    let session_no = series::start_next_session(&mut tx, patient.id, session_at).await?;
    series::restart_reminders(&mut tx, patient.id, &rows).await?;
    let (_, total) = series::series_in(&mut tx, patient.id).await?;
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
    let patient = match store.find_patient(clinic.id, who).await? {
        Lookup::One(p) => p,
        other => return Ok(SeriesOutcome::NotFound(other)),
    };
    let mut tx = store.begin().await?;
    series::set_total(&mut tx, patient.id, total).await?;
    let (session_no, total) = series::series_in(&mut tx, patient.id).await?;
    tx.commit().await?;
    Ok(SeriesOutcome::Done {
        patient,
        session_no,
        total,
    })
}
