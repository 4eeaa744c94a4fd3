//! Starting a clinic: the operator's one command.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use crate::domain::link;
use crate::store::{Audit, LinkKind, Store, access, clinics, links};

/// How long an owner link stays valid.
pub const OWNER_LINK_TTL: Duration = Duration::days(7);

pub struct NewClinic {
    pub clinic_id: i64,
    /// The one-time payload; shown once, stored only as a hash.
    pub owner_payload: String,
    pub expires_at: DateTime<Utc>,
    /// Other clinics of the same name (ignoring case), for a warning.
    pub same_name: Vec<i64>,
}

/// `aftercare clinic owner-link`: a fresh owner link.
pub struct NewOwnerLink {
    /// The one-time payload; shown once, stored only as a hash.
    pub payload: String,
    pub expires_at: DateTime<Utc>,
    /// Earlier owner links that were still unused and now no longer work.
    pub voided: u64,
    /// Owners the clinic has already.
    pub owners: i64,
}

pub async fn create_clinic(
    store: &Store,
    name: &str,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<NewClinic, sqlx::Error> {
    create_clinic_with_contact(store, name, tz, "", now).await
}

/// `aftercare clinic add --contact`: the phone number patients' safety lines name
/// (empty: none yet, and `/enroll` warns staff until an owner sets it).
pub async fn create_clinic_with_contact(
    store: &Store,
    name: &str,
    tz: Tz,
    contact: &str,
    now: DateTime<Utc>,
) -> Result<NewClinic, sqlx::Error> {
    let new_link = link::generate();
    let expires_at = now + OWNER_LINK_TTL;
    let mut tx = store.begin().await?;
    let same_name = clinics::clinics_named(&mut tx, name).await?;
    let clinic_id = clinics::insert_clinic(&mut tx, name, tz, None, now).await?;
    if !contact.is_empty() {
        let setting = super::access::Setting::Contact(contact.to_string());
        clinics::apply_setting(&mut tx, clinic_id, &setting).await?;
    }
    links::insert_link(
        &mut tx,
        &new_link.hash,
        LinkKind::Owner,
        clinic_id,
        None,
        expires_at,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(NewClinic {
        clinic_id,
        owner_payload: new_link.payload,
        expires_at,
        same_name,
    })
}

/// A new owner link for clinic `clinic_id` (valid 7 days); the clinic's earlier unused
/// owner links stop working. Audited with the number of links voided. `None`: no such
/// clinic.
pub async fn new_owner_link(
    store: &Store,
    clinic_id: i64,
    now: DateTime<Utc>,
) -> Result<Option<NewOwnerLink>, sqlx::Error> {
    let mut tx = store.begin().await?;
    if clinics::clinic_in(&mut tx, clinic_id).await?.is_none() {
        return Ok(None);
    }
    let voided = links::void_owner_links(&mut tx, clinic_id, now).await?;
    let new_link = link::generate();
    let expires_at = now + OWNER_LINK_TTL;
    links::insert_link(
        &mut tx,
        &new_link.hash,
        LinkKind::Owner,
        clinic_id,
        None,
        expires_at,
        now,
    )
    .await?;
    let owners = clinics::count_owners(&mut tx, clinic_id).await?;
    access::record(
        &mut tx,
        Audit {
            clinic_id,
            actor: None,
            action: "owner link",
            subject: None,
            detail: Some(format!("by the operator; {voided} earlier link(s) voided")),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Some(NewOwnerLink {
        payload: new_link.payload,
        expires_at,
        voided,
        owners,
    }))
}

/// Checks a clinic's phone line: one line of at most 200 characters (as `/settings
/// contact` takes it).
pub fn check_contact(contact: &str) -> Result<String, String> {
    let contact = contact.trim();
    if contact.chars().count() > 200 || contact.chars().any(char::is_control) {
        return Err("the contact is one line of at most 200 characters".into());
    }
    Ok(contact.to_string())
}

/// Checks a clinic name typed by an operator.
pub fn check_clinic_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("the clinic name is empty".into());
    }
    if name.chars().count() > 100 {
        return Err("the clinic name is longer than 100 characters".into());
    }
    if name.chars().any(char::is_control) {
        return Err("the clinic name holds control characters".into());
    }
    Ok(name.to_string())
}
