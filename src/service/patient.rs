//! What a patient can do for themselves.

use crate::store::{PatientStatus, Store, patients, reminders};

/// Stops every reminder of the patient; returns how many were cancelled.
pub async fn stop(store: &Store, patient_id: i64) -> Result<u64, sqlx::Error> {
    let mut tx = store.begin().await?;
    let n = reminders::cancel_pending(
        &mut tx,
        patient_id,
        crate::store::patient_care::STOPPED_NOTE,
    )
    .await?;
    patients::set_status(&mut tx, patient_id, PatientStatus::Stopped).await?;
    tx.commit().await?;
    Ok(n)
}

/// Makes a patient's reminders follow `zone` (their own, e.g. while travelling): the zone
/// is stored and every plan step not yet sent is planned again in it, quiet hours
/// included. Returns how many reminders moved.
pub async fn set_timezone(
    store: &Store,
    catalog: &crate::catalog::Catalog,
    patient: &crate::store::Patient,
    clinic: &crate::store::Clinic,
    zone: chrono_tz::Tz,
) -> Result<u64, sqlx::Error> {
    let plan =
        crate::service::timing::clinic_plan(store, catalog, clinic.id, &patient.plan).await?;
    let mut tx = store.begin().await?;
    patients::set_timezone(&mut tx, patient.id, Some(zone.name())).await?;
    let mut moved = 0;
    if let Some(plan) = plan {
        for planned in plan.schedule(patient.session(), zone, clinic.quiet_hours()) {
            moved += reminders::move_pending(
                &mut tx,
                patient.id,
                &planned.step_id,
                planned.due_at,
                planned.expires_at,
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(moved)
}
