//! The bot's own parts of a course step for a real clinic: the safety lines with its
//! name, phone and emergency number, and timing words from its timing as it is now
//! (so after `/timing makeup-ok 36h` the first message says "36 hours"). Read outside
//! any transaction, at send time, like the text itself.

use crate::catalog::Catalog;
use crate::render::{ClinicLines, StepExtras};
use crate::store::{Clinic, Store};

/// The extras of one step for a patient of `clinic` in `lang`.
pub async fn for_clinic(
    store: &Store,
    catalog: &Catalog,
    clinic: &Clinic,
    lang: &str,
    plan_id: &str,
    step_id: &str,
) -> Result<StepExtras, sqlx::Error> {
    let mut conn = store.pool().acquire().await?;
    let timing = super::timing::clinic_plan(&mut conn, catalog, clinic.id, plan_id).await?;
    // A clinic's own course is its own reference; a plan of the messages folder is.
    let Some(file) = catalog.plan(plan_id).cloned().or_else(|| timing.clone()) else {
        return Ok(StepExtras::default());
    };
    let timing = timing.unwrap_or_else(|| file.clone());
    Ok(StepExtras::build(
        catalog,
        lang,
        &file,
        &timing,
        step_id,
        &lines(clinic),
    ))
}

/// The same for a clinic known by id (the scheduler's rows carry only the id).
pub async fn for_clinic_id(
    store: &Store,
    catalog: &Catalog,
    clinic_id: i64,
    lang: &str,
    plan_id: &str,
    step_id: &str,
) -> Result<StepExtras, sqlx::Error> {
    match store.clinic(clinic_id).await? {
        Some(clinic) => for_clinic(store, catalog, &clinic, lang, plan_id, step_id).await,
        None => Err(sqlx::Error::RowNotFound),
    }
}

/// What the safety lines say about a clinic.
pub fn lines(clinic: &Clinic) -> ClinicLines<'_> {
    ClinicLines {
        name: &clinic.name,
        contact: &clinic.contact,
        emergency: clinic.emergency.as_deref(),
        timezone: &clinic.timezone,
    }
}
