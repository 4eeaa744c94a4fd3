//! Enrolling a patient after a session: a patient row and a one-time link.

use chrono::{DateTime, Duration, Utc};

use crate::domain::enroll_args::EnrollArgs;
use crate::domain::link;
use crate::store::access::{self, Audit};
use crate::store::{Clinic, LinkKind, Store, links, patients};

pub struct Enrolled {
    pub patient_id: i64,
    pub payload: String,
    pub expires_at: DateTime<Utc>,
}

pub async fn enroll(
    store: &Store,
    clinic: &Clinic,
    staff_user: i64,
    args: &EnrollArgs,
    now: DateTime<Utc>,
) -> Result<Enrolled, sqlx::Error> {
    enroll_in(store, clinic, staff_user, args, &clinic.default_plan, now).await
}

/// Enrolls into `plan`: a plan of the messages folder or one of the clinic's courses
/// (`course:<key>`, see `service::courses`).
pub async fn enroll_in(
    store: &Store,
    clinic: &Clinic,
    staff_user: i64,
    args: &EnrollArgs,
    plan: &str,
    now: DateTime<Utc>,
) -> Result<Enrolled, sqlx::Error> {
    let new_link = link::generate();
    let expires_at = now + Duration::seconds(clinic.link_ttl_secs);
    let mut tx = store.begin().await?;
    let patient_id = patients::insert_patient(
        &mut tx,
        clinic.id,
        &args.name,
        plan,
        args.session_at,
        staff_user,
        now,
    )
    .await?;
    links::insert_link(
        &mut tx,
        &new_link.hash,
        LinkKind::Patient,
        clinic.id,
        Some(patient_id),
        expires_at,
        now,
    )
    .await?;
    let audit = Audit {
        clinic_id: clinic.id,
        actor: Some(staff_user),
        action: "enroll",
        subject: Some(format!("patient {patient_id}")),
        detail: None,
    };
    access::record(&mut tx, audit, now).await?;
    tx.commit().await?;
    Ok(Enrolled {
        patient_id,
        payload: new_link.payload,
        expires_at,
    })
}
