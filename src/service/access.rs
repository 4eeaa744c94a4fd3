//! Managing a clinic's people, links and settings; every change lands in the audit trail.

use chrono::{DateTime, Duration, NaiveTime, Utc};
use chrono_tz::Tz;

use crate::catalog::Catalog;
use crate::domain::link;
use crate::domain::roles::{AccessChangeError, check_change};
use crate::store::access::{self, Audit};
use crate::store::{
    Clinic, LinkKind, StaffRole, Store, bookings, clinics, links, patients, reminders,
};

/// How long a staff or admin invite stays valid.
pub const INVITE_TTL: Duration = Duration::hours(48);

pub struct NewLink {
    pub payload: String,
    pub expires_at: DateTime<Utc>,
}

fn audit(
    clinic: &Clinic,
    actor: i64,
    action: &'static str,
    subject: String,
    detail: Option<String>,
) -> Audit<'static> {
    Audit {
        clinic_id: clinic.id,
        actor: Some(actor),
        action,
        subject: Some(subject),
        detail,
    }
}

pub async fn invite(
    store: &Store,
    clinic: &Clinic,
    actor: i64,
    role: StaffRole,
    now: DateTime<Utc>,
) -> Result<NewLink, sqlx::Error> {
    let kind = if role == StaffRole::Admin {
        LinkKind::Admin
    } else {
        LinkKind::Staff
    };
    let new = link::generate();
    let expires_at = now + INVITE_TTL;
    let mut tx = store.begin().await?;
    links::insert_link(&mut tx, &new.hash, kind, clinic.id, None, expires_at, now).await?;
    let detail = Some(format!("{role:?}").to_lowercase());
    access::record(
        &mut tx,
        audit(clinic, actor, "invite", "invite link".into(), detail),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(NewLink {
        payload: new.payload,
        expires_at,
    })
}

#[derive(Debug, PartialEq, Eq)]
pub enum ChangeOutcome {
    Done,
    NotFound,
    Refused(AccessChangeError),
}

/// Revokes (`new == None`) or changes someone's role, protecting owners.
pub async fn change_access(
    store: &Store,
    clinic: &Clinic,
    actor: i64,
    actor_role: StaffRole,
    target: i64,
    new: Option<StaffRole>,
    now: DateTime<Utc>,
) -> Result<ChangeOutcome, sqlx::Error> {
    let mut tx = store.begin().await?;
    let Some(current) = access::role_in(&mut tx, clinic.id, target).await? else {
        return Ok(ChangeOutcome::NotFound);
    };
    let owners = access::count_owners(&mut tx, clinic.id).await?;
    if let Err(e) = check_change(actor_role, current, new, owners) {
        return Ok(ChangeOutcome::Refused(e));
    }
    let (action, detail) = match new {
        None => {
            access::remove_staff(&mut tx, clinic.id, target).await?;
            ("revoke", None)
        }
        Some(role) => {
            access::set_role(&mut tx, clinic.id, target, role).await?;
            (
                "role",
                Some(format!("{current:?} -> {role:?}").to_lowercase()),
            )
        }
    };
    access::record(
        &mut tx,
        audit(clinic, actor, action, format!("user {target}"), detail),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(ChangeOutcome::Done)
}

/// What `/relink` did.
pub enum Relinked {
    New(NewLink),
    /// The clinic has no such patient (ids never cross clinics).
    NotFound,
    /// The patient erased their data on this date (clinic time): erasure is final.
    Erased(chrono::NaiveDate),
    /// A newer course of this patient (this record number) took this one's place.
    Replaced(i64),
}

/// A fresh link for a patient of `clinic`; earlier unused links stop working.
pub async fn relink(
    store: &Store,
    clinic: &Clinic,
    actor: i64,
    patient_id: i64,
    now: DateTime<Utc>,
) -> Result<Relinked, sqlx::Error> {
    let mut tx = store.begin().await?;
    match patients::patient_in(&mut tx, patient_id).await? {
        Some(p) if p.clinic_id == clinic.id => {
            if let Some(at) = p.erased() {
                return Ok(Relinked::Erased(
                    at.with_timezone(&clinic.tz()).date_naive(),
                ));
            }
            if let Some(by) = p.replaced_by {
                return Ok(Relinked::Replaced(by));
            }
        }
        _ => return Ok(Relinked::NotFound),
    }
    let new = link::generate();
    let expires_at = now + Duration::seconds(clinic.link_ttl_secs);
    links::void_patient_links(&mut tx, patient_id, now).await?;
    links::insert_link(
        &mut tx,
        &new.hash,
        LinkKind::Patient,
        clinic.id,
        Some(patient_id),
        expires_at,
        now,
    )
    .await?;
    access::record(
        &mut tx,
        audit(
            clinic,
            actor,
            "relink",
            format!("patient {patient_id}"),
            None,
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Relinked::New(NewLink {
        payload: new.payload,
        expires_at,
    }))
}

/// A clinic setting an owner can change.
#[derive(Debug, Clone, PartialEq)]
pub enum Setting {
    Name(String),
    Timezone(Tz),
    Quiet(NaiveTime, NaiveTime),
    Contact(String),
    Plan(String),
    LinkDays(i64),
    /// The emergency number patients are told to call; `None`: the zone's.
    Emergency(Option<String>),
}

/// A setting saved: the clinic as it is now, and how many reminders moved.
pub struct SettingChanged {
    pub clinic: Clinic,
    pub moved: u64,
}

impl crate::service::Wakes for SettingChanged {
    fn wakes_scheduler(&self) -> bool {
        self.moved > 0
    }
}

/// Applies a setting; a new zone or quiet hours re-plans every pending reminder of the
/// clinic's patients (their steps keep their ids; only the times move).
pub async fn change_setting(
    store: &Store,
    catalog: &Catalog,
    clinic: &Clinic,
    actor: i64,
    setting: Setting,
    now: DateTime<Utc>,
) -> Result<SettingChanged, sqlx::Error> {
    let mut tx = store.begin().await?;
    let (key, value) = clinics::apply_setting(&mut tx, clinic.id, &setting).await?;
    let updated = clinics::clinic_in(&mut tx, clinic.id)
        .await?
        .unwrap_or_else(|| clinic.clone());
    let mut moved = 0;
    if matches!(setting, Setting::Timezone(_) | Setting::Quiet(..)) {
        let tz = updated.tz();
        let quiet = updated.quiet_hours();
        // By the clinic's own timing of each plan (`/timing`), not the file's.
        let mut plans: std::collections::HashMap<String, Option<crate::domain::plan::Plan>> =
            std::collections::HashMap::new();
        for p in reminders::pending_by_patient(&mut tx, clinic.id).await? {
            if !plans.contains_key(&p.plan) {
                let plan =
                    crate::service::timing::clinic_plan(&mut tx, catalog, clinic.id, &p.plan)
                        .await?;
                plans.insert(p.plan.clone(), plan);
            }
            let Some(plan) = plans.get(&p.plan).and_then(Option::as_ref) else {
                continue;
            };
            let zone = p
                .timezone
                .as_deref()
                .and_then(|z| z.parse().ok())
                .unwrap_or(tz);
            for planned in plan.schedule(p.session(), zone, quiet) {
                moved += reminders::move_pending(
                    &mut tx,
                    p.id,
                    &planned.step_id,
                    planned.due_at,
                    planned.expires_at,
                )
                .await?;
            }
        }
        moved += replan_bookings(&mut tx, clinic, &updated, now).await?;
    }
    access::record(
        &mut tx,
        audit(
            clinic,
            actor,
            "settings",
            format!("clinic {}", clinic.id),
            Some(format!("{key} = {value}")),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(SettingChanged {
        clinic: updated,
        moved,
    })
}

/// Appointments keep their local date and wall-clock time when the clinic's zone
/// changes (15:31 stays 15:31: the patient was told that time); only their reminders
/// not yet sent are re-planned, for the new zone and quiet hours. Returns how many moved.
async fn replan_bookings(
    tx: &mut sqlx::SqliteConnection,
    before: &Clinic,
    after: &Clinic,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let (old_tz, tz, quiet) = (before.tz(), after.tz(), after.quiet_hours());
    let mut moved = 0;
    for b in bookings::booked_in_clinic(tx, after.id).await? {
        let local = b.starts().with_timezone(&old_tz).naive_local();
        let starts_at = crate::domain::time::resolve_local(tz, local);
        if starts_at != b.starts() {
            bookings::set_start(tx, b.id, starts_at).await?;
        }
        for m in crate::domain::booking::booking_messages(starts_at, now, tz, quiet) {
            moved += reminders::move_pending(
                tx,
                b.patient_id,
                m.step.id(),
                m.due_at,
                Some(m.expires_at),
            )
            .await?;
        }
    }
    Ok(moved)
}

/// `/clinic <id>`: the person acts for `clinic_id` from now on (the caller checked they
/// work there).
pub async fn act_for(store: &Store, user_id: i64, clinic_id: i64) -> Result<(), sqlx::Error> {
    let mut tx = store.begin().await?;
    access::set_active_clinic(&mut tx, user_id, clinic_id).await?;
    tx.commit().await
}
