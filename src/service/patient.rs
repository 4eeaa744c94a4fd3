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
