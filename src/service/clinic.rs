//! Starting a clinic: the operator's one command.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use crate::domain::link;
use crate::store::{LinkKind, Store, clinics, links};

/// How long an owner link stays valid.
pub const OWNER_LINK_TTL: Duration = Duration::days(7);

pub struct NewClinic {
    pub clinic_id: i64,
    /// The one-time payload; shown once, stored only as a hash.
    pub owner_payload: String,
    pub expires_at: DateTime<Utc>,
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
    })
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
