//! Messages between a patient and their clinic's staff. A staff member answers by
//! replying (in Telegram) to a message the bot sent them about a patient.

use crate::store::{Clinic, Patient, PatientStatus, Store};

pub enum ReplyTarget {
    Patient {
        patient: Box<Patient>,
        clinic: Box<Clinic>,
    },
    /// The replied-to message is not about a patient.
    NotAThread,
    /// The person no longer works for the patient's clinic.
    NotYourClinic,
    /// The patient is erased, or Telegram no longer delivers to them.
    Gone,
}

/// Whom a staff member's reply to message `replied_id` in `chat` is for.
pub async fn reply_target(
    store: &Store,
    chat: i64,
    replied_id: i32,
    clinic_ids: &[i64],
) -> Result<ReplyTarget, sqlx::Error> {
    let Some((clinic_id, patient_id)) = store.thread_of(chat, replied_id).await? else {
        return Ok(ReplyTarget::NotAThread);
    };
    if !clinic_ids.contains(&clinic_id) {
        return Ok(ReplyTarget::NotYourClinic);
    }
    let Some(patient_id) = patient_id else {
        return Ok(ReplyTarget::Gone);
    };
    let Some(patient) = store.patient(patient_id).await? else {
        return Ok(ReplyTarget::Gone);
    };
    // Patient ids never cross clinics.
    if patient.clinic_id != clinic_id
        || patient.chat_id.is_none()
        || patient.status == PatientStatus::Unreachable
    {
        return Ok(ReplyTarget::Gone);
    }
    let Some(clinic) = store.clinic(clinic_id).await? else {
        return Ok(ReplyTarget::Gone);
    };
    Ok(ReplyTarget::Patient {
        patient: Box::new(patient),
        clinic: Box::new(clinic),
    })
}

/// A patient's message held until they say which clinic it is for.
pub struct HeldMessage {
    pub body: String,
    /// Set for a photo (`body` is its caption).
    pub file_id: Option<String>,
}

/// Holds a message from `chat` until the patient picks a clinic; returns its number
/// (for the buttons).
pub async fn hold_for_choice(
    store: &Store,
    chat: i64,
    kind: &str,
    body: &str,
    file_id: Option<&str>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<i64, sqlx::Error> {
    let mut tx = store.begin().await?;
    let id = crate::store::threads::hold_choice(&mut tx, chat, kind, body, file_id, now).await?;
    tx.commit().await?;
    Ok(id)
}

/// The held message `id` of `chat`, removed from the database; `None` once it was
/// passed on (a second press) or erased.
pub async fn take_choice(
    store: &Store,
    chat: i64,
    id: i64,
) -> Result<Option<HeldMessage>, sqlx::Error> {
    let mut tx = store.begin().await?;
    let found = crate::store::threads::take_choice(&mut tx, chat, id).await?;
    tx.commit().await?;
    Ok(found.map(|(body, file_id)| HeldMessage { body, file_id }))
}
