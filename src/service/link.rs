//! Opening a one-time link (`/start <payload>`).

use chrono::{DateTime, Utc};

use crate::catalog::Catalog;
use crate::domain::link;
use crate::domain::plan::Plan;
use crate::store::access::{self, Audit};
use crate::store::{
    Clinic, LinkKind, NewReminder, Patient, ReminderStatus, StaffRole, Store, clinics, links,
    patients, reminders,
};

pub enum LinkOutcome {
    /// The person joined the clinic's people (as owner, admin or staff).
    Joined {
        clinic: Clinic,
        role: StaffRole,
    },
    /// The person already works for the clinic; nothing changed.
    AlreadyStaff {
        clinic: Clinic,
        role: StaffRole,
    },
    /// The patient is linked; their course is planned. `replaced`: the chat's earlier
    /// courses from the same clinic that this one ended (courses from other clinics
    /// run alongside).
    Patient {
        patient: Box<Patient>,
        clinic: Clinic,
        lang: String,
        replaced: Vec<i64>,
    },
    Invalid,
    Expired,
    /// A patient link replaced by a newer one (`/relink`): the patient should ask the
    /// clinic for it, not be told it merely expired.
    Replaced {
        clinic: Clinic,
    },
    /// An owner or invite link replaced by a newer one.
    InviteReplaced,
    /// Used before; `by_this_person` when they are the one who used it.
    Used {
        by_this_person: bool,
    },
    /// A staff member of the clinic opened a patient's link.
    StaffOpenedPatientLink,
}

impl super::Wakes for LinkOutcome {
    /// A linked patient's first steps are due at once.
    fn wakes_scheduler(&self) -> bool {
        matches!(self, LinkOutcome::Patient { .. })
    }
}

pub struct Opener<'a> {
    pub user_id: i64,
    pub chat_id: i64,
    pub language_code: Option<&'a str>,
    /// How colleagues see a new staff member: their Telegram name.
    pub display_name: &'a str,
}

pub async fn open_link(
    store: &Store,
    catalog: &Catalog,
    payload: &str,
    who: Opener<'_>,
    now: DateTime<Utc>,
) -> Result<LinkOutcome, sqlx::Error> {
    if !link::is_well_formed(payload) {
        return Ok(LinkOutcome::Invalid);
    }
    let hash = link::hash(payload);
    let mut tx = store.begin().await?;
    let Some(found) = links::find_link(&mut tx, &hash).await? else {
        return Ok(LinkOutcome::Invalid);
    };
    if found.used_at.is_some() {
        let by_this_person = found.used_by == Some(who.user_id);
        // Someone reopening the owner or invite link they joined with: still staff, so
        // they are answered as staff.
        if by_this_person
            && found.kind != LinkKind::Patient
            && let Some(role) = access::role_in(&mut tx, found.clinic_id, who.user_id).await?
            && let Some(clinic) = clinics::clinic_in(&mut tx, found.clinic_id).await?
        {
            return Ok(LinkOutcome::AlreadyStaff { clinic, role });
        }
        return Ok(LinkOutcome::Used { by_this_person });
    }
    if found.voided {
        return Ok(match found.kind {
            LinkKind::Patient => match clinics::clinic_in(&mut tx, found.clinic_id).await? {
                Some(clinic) => LinkOutcome::Replaced { clinic },
                None => LinkOutcome::Invalid,
            },
            _ => LinkOutcome::InviteReplaced,
        });
    }
    if now >= found.expires_at {
        return Ok(LinkOutcome::Expired);
    }
    let Some(clinic) = clinics::clinic_in(&mut tx, found.clinic_id).await? else {
        return Ok(LinkOutcome::Invalid);
    };
    match (found.kind, found.patient_id) {
        (LinkKind::Owner | LinkKind::Admin | LinkKind::Staff, _) => {
            let role = match found.kind {
                LinkKind::Owner => StaffRole::Owner,
                LinkKind::Admin => StaffRole::Admin,
                _ => StaffRole::Staff,
            };
            if let Some(current) = access::role_in(&mut tx, clinic.id, who.user_id).await? {
                // Already in: an invite never changes a role (use /role for that).
                return Ok(LinkOutcome::AlreadyStaff {
                    clinic,
                    role: current,
                });
            }
            clinics::add_staff(&mut tx, clinic.id, who.user_id, role, now).await?;
            access::set_display_name(&mut tx, clinic.id, who.user_id, who.display_name).await?;
            // A new member acts for the clinic they just joined.
            access::set_active_clinic(&mut tx, who.user_id, clinic.id).await?;
            links::use_link(&mut tx, &hash, who.user_id, now).await?;
            let audit = Audit {
                clinic_id: clinic.id,
                actor: Some(who.user_id),
                action: "join",
                subject: Some(format!("user {}", who.user_id)),
                detail: Some(format!("{role:?}").to_lowercase()),
            };
            access::record(&mut tx, audit, now).await?;
            tx.commit().await?;
            Ok(LinkOutcome::Joined { clinic, role })
        }
        (LinkKind::Patient, Some(patient_id)) => {
            let is_staff = access::role_in(&mut tx, clinic.id, who.user_id)
                .await?
                .is_some();
            if is_staff {
                return Ok(LinkOutcome::StaffOpenedPatientLink);
            }
            let Some(patient) = patients::patient_in(&mut tx, patient_id).await? else {
                return Ok(LinkOutcome::Invalid);
            };
            let lang = catalog.pick_language(who.language_code, &clinic.default_lang);
            // The clinic's own timing of the plan, fixed for this patient from now on.
            let plan = super::timing::course_plan(&mut tx, catalog, &clinic, &patient.plan).await?;
            let rows = plan_rows(plan.as_ref(), &patient, &clinic, now);
            let replaced =
                patients::replace_earlier_courses(&mut tx, who.chat_id, clinic.id, patient.id, now)
                    .await?;
            for old in &replaced {
                let audit = Audit {
                    clinic_id: clinic.id,
                    actor: None,
                    action: "replace",
                    subject: Some(format!("patient {old}")),
                    detail: Some(format!("by patient {}", patient.id)),
                };
                access::record(&mut tx, audit, now).await?;
            }
            patients::activate_patient(&mut tx, patient.id, who.chat_id, &lang, now).await?;
            reminders::insert_reminders(&mut tx, patient.id, &rows).await?;
            links::use_link(&mut tx, &hash, who.user_id, now).await?;
            let audit = Audit {
                clinic_id: clinic.id,
                actor: Some(who.user_id),
                action: "link",
                subject: Some(format!("patient {}", patient.id)),
                detail: None,
            };
            access::record(&mut tx, audit, now).await?;
            let patient = patients::patient_in(&mut tx, patient.id)
                .await?
                .unwrap_or(patient);
            tx.commit().await?;
            Ok(LinkOutcome::Patient {
                patient: Box::new(patient),
                clinic,
                lang,
                replaced,
            })
        }
        (LinkKind::Patient, None) => Ok(LinkOutcome::Invalid),
    }
}

/// The patient's reminders as of linking: steps already due go out now, unless they are
/// past their `expires`, in which case they are recorded as skipped.
pub(crate) fn plan_rows(
    plan: Option<&Plan>,
    patient: &Patient,
    clinic: &Clinic,
    now: DateTime<Utc>,
) -> Vec<NewReminder> {
    let Some(plan) = plan else {
        tracing::error!(plan = %patient.plan, "the patient's plan is not in the messages folder");
        return Vec::new();
    };
    plan.schedule(
        patient.session(),
        patient.zone(clinic),
        clinic.quiet_hours(),
    )
    .into_iter()
    .map(|p| {
        let expired = p.expires_at.is_some_and(|e| e <= now);
        NewReminder {
            step_id: p.step_id,
            // A past due time makes the scheduler send it at once.
            due_at: p.due_at,
            expires_at: p.expires_at,
            status: if expired {
                ReminderStatus::Skipped
            } else {
                ReminderStatus::Pending
            },
            note: expired.then_some("expired before the patient linked"),
        }
    })
    .collect()
}
