//! What a patient can do for themselves: stop, resume, change language or zone, erase.

use chrono::{DateTime, Utc};

use crate::catalog::Catalog;
use crate::store::access::{self, Audit};
use crate::store::{
    Clinic, Patient, PatientStatus, RelayCopy, Store, patient_care, patients, reminders, threads,
};

/// Stops every reminder of the patient's courses `patient_ids` (all clinics at once, as
/// "stop" asks); returns how many were cancelled. The stop is the patient's own, so their
/// `/resume` undoes it.
pub async fn stop(store: &Store, patient_ids: &[i64]) -> Result<u64, sqlx::Error> {
    let mut tx = store.begin().await?;
    let mut n = 0;
    for &id in patient_ids {
        n += reminders::cancel_pending(&mut tx, id, patient_care::STOPPED_NOTE).await?;
        patients::set_status(&mut tx, id, PatientStatus::Stopped).await?;
        patients::set_stopped_by(&mut tx, id, Some(patients::stopped_by::PATIENT)).await?;
    }
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

/// Switches the language of the person writing from `chat`, for their courses of
/// every clinic (a language belongs to the person); `None` when the chat follows no
/// course (any more). Returns the newest course.
pub async fn set_language(
    store: &Store,
    chat: i64,
    lang: &str,
) -> Result<Option<Patient>, sqlx::Error> {
    let mut tx = store.begin().await?;
    let records = patients::records_of_chat(&mut tx, chat).await?;
    for p in &records {
        patient_care::set_language(&mut tx, p.id, lang).await?;
    }
    tx.commit().await?;
    Ok(records.into_iter().last())
}

/// What an erasure removed, and what is left to rewrite outside the database.
#[derive(Debug, Default)]
pub struct Erased {
    /// The records as they were, oldest first (empty when nothing was left to erase).
    pub records: Vec<Patient>,
    /// The staff copies of the person's relayed messages, each with its record's id:
    /// they still show the name and the words until edited.
    pub relay_copies: Vec<(i64, RelayCopy)>,
}

/// Erases everything the bot holds about the person writing from `chat`: every record
/// linked to that chat, in every clinic, in one transaction, with an audit row per
/// record (its number; no name, no Telegram id). Returns the records as they were and
/// the staff copies of their relayed messages, read before the erasure unties them.
pub async fn erase(store: &Store, chat: i64, now: DateTime<Utc>) -> Result<Erased, sqlx::Error> {
    let mut tx = store.begin().await?;
    let records = patients::records_of_chat(&mut tx, chat).await?;
    let mut relay_copies = Vec::new();
    for p in &records {
        for copy in threads::relay_copies_of(&mut tx, p.id).await? {
            relay_copies.push((p.id, copy));
        }
        patient_care::erase_patient(&mut tx, p.id, chat, now).await?;
        let audit = Audit {
            clinic_id: p.clinic_id,
            actor: None,
            action: "erase",
            subject: Some(format!("patient {}", p.id)),
            detail: None,
        };
        access::record(&mut tx, audit, now).await?;
    }
    patient_care::forget_chat(&mut tx, chat).await?;
    tx.commit().await?;
    Ok(Erased {
        records,
        relay_copies,
    })
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
