//! What a patient can do for themselves: stop, resume, change language or zone, erase.

use chrono::{DateTime, Utc};

use crate::catalog::Catalog;
use crate::store::access::{self, Audit};
use crate::store::{Clinic, Patient, PatientStatus, Store, patient_care, patients, reminders};

/// Stops every reminder of the patient; returns how many were cancelled.
pub async fn stop(store: &Store, patient_id: i64) -> Result<u64, sqlx::Error> {
    let mut tx = store.begin().await?;
    let n = reminders::cancel_pending(&mut tx, patient_id, patient_care::STOPPED_NOTE).await?;
    patients::set_status(&mut tx, patient_id, PatientStatus::Stopped).await?;
    tx.commit().await?;
    Ok(n)
}

/// Reminders queued again by a resume.
pub struct Resumed {
    pub queued: u64,
}

impl super::Wakes for Resumed {
    fn wakes_scheduler(&self) -> bool {
        self.queued > 0
    }
}

/// The patient is active again (after /resume, or after writing again when Telegram had
/// refused them): reminders stopped, paused or held meanwhile and not yet expired are
/// queued again.
pub async fn resume(
    store: &Store,
    patient_id: i64,
    now: DateTime<Utc>,
) -> Result<Resumed, sqlx::Error> {
    let mut tx = store.begin().await?;
    let queued = patient_care::resume_patient(&mut tx, patient_id, now).await?;
    tx.commit().await?;
    Ok(Resumed { queued })
}

/// Switches the language of the patient writing from `chat`; `None` when the chat
/// follows no course (any more).
pub async fn set_language(
    store: &Store,
    chat: i64,
    lang: &str,
) -> Result<Option<Patient>, sqlx::Error> {
    let mut tx = store.begin().await?;
    let Some(p) = patients::patient_by_chat(&mut tx, chat).await? else {
        return Ok(None);
    };
    patient_care::set_language(&mut tx, p.id, lang).await?;
    tx.commit().await?;
    Ok(Some(p))
}

/// Erases patient `patient_id`'s data at the request of their own chat, with the audit
/// entry (their number, never their name). `None` when that chat follows another course
/// or the data is already gone.
pub async fn erase(
    store: &Store,
    chat: i64,
    patient_id: i64,
    now: DateTime<Utc>,
) -> Result<Option<Patient>, sqlx::Error> {
    let mut tx = store.begin().await?;
    let Some(p) = patients::patient_by_chat(&mut tx, chat)
        .await?
        .filter(|p| p.id == patient_id)
    else {
        return Ok(None);
    };
    patient_care::erase_patient(&mut tx, p.id).await?;
    let audit = Audit {
        clinic_id: p.clinic_id,
        actor: Some(chat),
        action: "erase",
        subject: Some(format!("patient {}", p.id)),
        detail: None,
    };
    access::record(&mut tx, audit, now).await?;
    tx.commit().await?;
    Ok(Some(p))
}

/// Reminders re-planned in a patient's own zone.
pub struct ZoneSet {
    pub moved: u64,
}

impl super::Wakes for ZoneSet {
    fn wakes_scheduler(&self) -> bool {
        self.moved > 0
    }
}

/// Makes a patient's reminders follow `zone` (their own, e.g. while travelling): the zone
/// is stored and every plan step not yet sent is planned again in it, quiet hours
/// included.
pub async fn set_timezone(
    store: &Store,
    catalog: &Catalog,
    patient: &Patient,
    clinic: &Clinic,
    zone: chrono_tz::Tz,
) -> Result<ZoneSet, sqlx::Error> {
    let mut tx = store.begin().await?;
    let plan = super::timing::clinic_plan(&mut tx, catalog, clinic.id, &patient.plan).await?;
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
    Ok(ZoneSet { moved })
}
