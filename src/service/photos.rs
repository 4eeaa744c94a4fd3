//! Photo check-ins. A patient's photo that answers a photo request (a step with
//! `photo = true`; see `domain::photos` for which photo answers which request) is kept,
//! Telegram's ids only, and goes to the clinic's staff with the day of the course.
//! `/photos` gives a clinic's staff one patient's photos back; each look is audited.

use chrono::{DateTime, Duration, Utc};

use crate::catalog::Catalog;
use crate::domain::booking::PatientRef;
use crate::domain::photos::{PhotoRequest, answered_request, course_day};
use crate::store::access::{self, Audit};
use crate::store::photos::{self as stored, NewPhoto, StoredPhoto};
use crate::store::{Clinic, Lookup, Patient, Store, clinics, patient_lookup};

/// A burst of photos for one request (a patient sends three at once, as an album) is
/// thanked once: no second thanks for the same request within this time.
const THANK_ONCE_WITHIN: Duration = Duration::minutes(10);

/// What Telegram says about a photo a patient sent.
#[derive(Debug, Clone, Copy)]
pub struct IncomingPhoto<'a> {
    /// The largest size's file id: what the bot sends it on and back by.
    pub file_id: &'a str,
    /// The same picture, whichever message or size carries it.
    pub file_unique_id: &'a str,
    /// The bot's message the photo replies to, if it is a reply.
    pub reply_to: Option<i32>,
}

/// A photo that answered a photo request, kept.
#[derive(Debug, Clone)]
pub struct CheckinPhoto {
    pub patient: Patient,
    pub clinic: Clinic,
    pub step_id: String,
    /// The day of the course it came on (0: the session day).
    pub day: i64,
    /// Kept now for the first time; false for a picture kept already (a repeated
    /// update, or the same picture sent again), which staff have had.
    pub new: bool,
    /// Thank the patient: false for the second and later photos of a burst.
    pub thank: bool,
}

/// Keeps `photo` when it answers a photo request of one of `courses` (the courses the
/// sending chat follows now, one per clinic); `None` when it answers none, and it is
/// an ordinary message to the clinic.
pub async fn receive(
    store: &Store,
    catalog: &Catalog,
    courses: &[Patient],
    photo: IncomingPhoto<'_>,
    now: DateTime<Utc>,
) -> Result<Option<CheckinPhoto>, sqlx::Error> {
    if courses.is_empty() {
        return Ok(None);
    }
    let mut tx = store.begin().await?;
    let mut requests = Vec::new();
    for p in courses.iter().filter(|p| p.erased().is_none()) {
        let Some(plan) = super::timing::clinic_plan(&mut tx, catalog, p.clinic_id, &p.plan).await?
        else {
            continue;
        };
        for (step_id, message_id, sent_at) in stored::sent_steps(&mut tx, p.id).await? {
            if plan.is_photo_step(&step_id) {
                requests.push(PhotoRequest {
                    patient_id: p.id,
                    step_id,
                    message_id,
                    sent_at,
                });
            }
        }
    }
    let Some(request) = answered_request(&requests, photo.reply_to, now).cloned() else {
        return Ok(None);
    };
    let Some(patient) = courses.iter().find(|p| p.id == request.patient_id).cloned() else {
        return Ok(None);
    };
    let Some(clinic) = clinics::clinic_in(&mut tx, patient.clinic_id).await? else {
        return Ok(None);
    };
    let day = course_day(patient.session(), now, patient.zone(&clinic));
    let earlier = stored::photos_for_step_since(
        &mut tx,
        patient.id,
        &request.step_id,
        now - THANK_ONCE_WITHIN,
    )
    .await?;
    let new = stored::insert_photo(
        &mut tx,
        &NewPhoto {
            patient_id: patient.id,
            clinic_id: clinic.id,
            step_id: &request.step_id,
            course_day: day,
            file_id: photo.file_id,
            file_unique_id: photo.file_unique_id,
            received_at: now,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Some(CheckinPhoto {
        patient,
        clinic,
        step_id: request.step_id,
        day,
        new,
        thank: earlier == 0,
    }))
}

/// The answer to `/photos <#id or name>`.
pub enum PhotosOutcome {
    /// The patient's photos, oldest first (none yet: empty).
    Photos {
        patient: Box<Patient>,
        photos: Vec<StoredPhoto>,
    },
    NotFound(Lookup),
    Refused(&'static str),
}

pub const USAGE: &str =
    "Use: /photos #12 (or a name): the photos a patient sent for photo check-ins, oldest first.";

/// One patient's photos for a staff member of `clinic` (only that clinic's patients
/// are found); a look at photos is audited.
pub async fn list(
    store: &Store,
    clinic: &Clinic,
    user_id: i64,
    args: &str,
    now: DateTime<Utc>,
) -> Result<PhotosOutcome, sqlx::Error> {
    let Some(who) = PatientRef::parse(args) else {
        return Ok(PhotosOutcome::Refused(USAGE));
    };
    let mut tx = store.begin().await?;
    let patient = match patient_lookup::find_patient(&mut tx, clinic.id, &who).await? {
        Lookup::One(p) => p,
        other => return Ok(PhotosOutcome::NotFound(other)),
    };
    let photos = stored::photos_of(&mut tx, patient.id).await?;
    if !photos.is_empty() {
        let audit = Audit {
            clinic_id: clinic.id,
            actor: Some(user_id),
            action: "photos.view",
            subject: Some(format!("patient {}", patient.id)),
            detail: Some(format!("{} photos", photos.len())),
        };
        access::record(&mut tx, audit, now).await?;
    }
    tx.commit().await?;
    Ok(PhotosOutcome::Photos { patient, photos })
}
