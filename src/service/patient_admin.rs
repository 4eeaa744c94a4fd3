//! Staff look after one patient of their clinic: pause, cancel or resume their
//! reminders. The patient is looked up, changed and the audit entry written in one
//! transaction.

use chrono::{DateTime, Utc};

use crate::domain::booking::PatientRef;
use crate::store::access::{self, Audit};
use crate::store::patient_care::{self, PAUSED_NOTE};
use crate::store::{Clinic, Lookup, Patient, PatientStatus, Store, patient_lookup};

pub enum CareOutcome {
    /// `stopped` reminders were cancelled.
    Halted {
        patient: Box<Patient>,
        stopped: u64,
    },
    /// `queued` reminders are pending again.
    Resumed {
        patient: Box<Patient>,
        queued: u64,
    },
    /// The patient is not in a state this applies to (not active; not resumable).
    NotApplicable(Box<Patient>),
    NotFound(Lookup),
}

impl super::Wakes for CareOutcome {
    fn wakes_scheduler(&self) -> bool {
        matches!(self, CareOutcome::Resumed { queued, .. } if *queued > 0)
    }
}

fn audit(clinic: &Clinic, actor: i64, action: &'static str, patient_id: i64) -> Audit<'static> {
    Audit {
        clinic_id: clinic.id,
        actor: Some(actor),
        action,
        subject: Some(format!("patient {patient_id}")),
        detail: None,
    }
}

/// `/pause` (`PAUSED_NOTE`, resumable) or `/cancel` (`CANCELLED_NOTE`): stops an active
/// patient's reminders.
pub async fn halt(
    store: &Store,
    clinic: &Clinic,
    actor: i64,
    who: &PatientRef,
    note: &str,
    now: DateTime<Utc>,
) -> Result<CareOutcome, sqlx::Error> {
    let mut tx = store.begin().await?;
    let patient = match patient_lookup::find_patient(&mut tx, clinic.id, who).await? {
        Lookup::One(p) => p,
        other => return Ok(CareOutcome::NotFound(other)),
    };
    if patient.status != PatientStatus::Active {
        return Ok(CareOutcome::NotApplicable(patient));
    }
    let stopped = patient_care::halt_patient(&mut tx, patient.id, note).await?;
    let action = if note == PAUSED_NOTE {
        "pause"
    } else {
        "cancel"
    };
    access::record(&mut tx, audit(clinic, actor, action, patient.id), now).await?;
    tx.commit().await?;
    Ok(CareOutcome::Halted { patient, stopped })
}

/// `/resume <patient>`: a stopped (not erased, still linked) patient's reminders back on.
pub async fn resume(
    store: &Store,
    clinic: &Clinic,
    actor: i64,
    who: &PatientRef,
    now: DateTime<Utc>,
) -> Result<CareOutcome, sqlx::Error> {
    let mut tx = store.begin().await?;
    let patient = match patient_lookup::find_patient(&mut tx, clinic.id, who).await? {
        Lookup::One(p) => p,
        other => return Ok(CareOutcome::NotFound(other)),
    };
    // A course replaced by a newer one stays ended: the newer one is the patient's.
    if patient.status != PatientStatus::Stopped
        || patient.name.is_empty()
        || patient.chat_id.is_none()
        || patient.replaced_by.is_some()
    {
        return Ok(CareOutcome::NotApplicable(patient));
    }
    let queued = patient_care::resume_patient(&mut tx, patient.id, now).await?;
    access::record(&mut tx, audit(clinic, actor, "resume", patient.id), now).await?;
    tx.commit().await?;
    Ok(CareOutcome::Resumed { patient, queued })
}
