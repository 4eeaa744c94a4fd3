//! One patient's own course: `/adjust` moves one of their steps (or switches it off)
//! and `/note` adds a personal line to their next message. Both are for the session
//! the patient is in (`/done` plans the next one from the course again), audited, and
//! shown in `/patient` and in the patient's `/schedule`.

use chrono::{DateTime, Utc};

use crate::catalog::Catalog;
use crate::domain::booking::PatientRef;
use crate::domain::offset::parse_offset;
use crate::store::access::{self, Audit};
use crate::store::adjustments as stored;
use crate::store::timing::replan_reminders;
use crate::store::{Clinic, Lookup, PatientStatus, Store, patient_lookup};

/// Note on a reminder switched off for one patient.
pub const OFF_FOR_PATIENT: &str = "switched off for this patient";

/// The longest personal note.
pub const MAX_NOTE_CHARS: usize = 500;

pub enum Adjusted {
    Done {
        patient_name: String,
        patient_id: i64,
        what: String,
    },
    NotFound(Lookup),
    Refused(String),
}

fn refused(why: impl Into<String>) -> Result<Adjusted, sqlx::Error> {
    Ok(Adjusted::Refused(why.into()))
}

/// `/adjust <#id or name> <step> <3d|36h|off>`.
pub async fn adjust(
    store: &Store,
    catalog: &Catalog,
    clinic: &Clinic,
    user_id: i64,
    args: &str,
    now: DateTime<Utc>,
) -> Result<Adjusted, sqlx::Error> {
    const USAGE: &str = "Use: /adjust #12 &lt;step&gt; 3d (or 36h, or off)";
    let words: Vec<&str> = args.split_whitespace().collect();
    let [who @ .., step_id, value] = words.as_slice() else {
        return refused(USAGE);
    };
    let Some(who) = PatientRef::parse(&who.join(" ")) else {
        return refused(USAGE);
    };
    let off = value.eq_ignore_ascii_case("off");
    let offset = if off {
        None
    } else {
        match parse_offset(value) {
            Ok(o) => Some(o),
            Err(e) => {
                return refused(format!(
                    "`{}`: {e}. {USAGE}",
                    crate::domain::html::escape_with_code(value)
                ));
            }
        }
    };
    let mut tx = store.begin().await?;
    let patient = match patient_lookup::find_patient(&mut tx, clinic.id, &who).await? {
        Lookup::One(p) => p,
        other => return Ok(Adjusted::NotFound(other)),
    };
    if patient.status != PatientStatus::Active {
        return refused(format!(
            "#{} has no course running (status: {}); steps are adjusted once the link is opened.",
            patient.id,
            patient.status.label()
        ));
    }
    let Some(plan) = super::timing::clinic_plan(&mut tx, catalog, clinic.id, &patient.plan).await?
    else {
        return refused("Their course cannot be read.");
    };
    let Some(step) = plan.step(step_id) else {
        let ids: Vec<&str> = plan.steps.iter().map(|s| s.id.as_str()).collect();
        return refused(format!(
            "Their course has no step `{}` (steps: {}).",
            crate::domain::html::escape_with_code(step_id),
            ids.join(", ")
        ));
    };
    let Some(reminder) = stored::reminder_of_step(&mut tx, patient.id, &step.id).await? else {
        return refused("That step is not planned for them.");
    };
    if reminder.status != "pending" {
        return refused(format!(
            "That step is not waiting to go out any more (it is {}).",
            reminder.status
        ));
    }
    let (kind, what, replan) = match offset {
        None => ("off", format!("{} is switched off for them", step.id), None),
        Some(after) => {
            let mut one = plan.clone();
            if let Some(s) = one.steps.iter_mut().find(|s| s.id == step.id) {
                s.after = after;
                if !after.is_whole_days() {
                    s.at = None;
                }
            }
            let rows = super::link::plan_rows(Some(&one), &patient, clinic, now);
            let Some(row) = rows.into_iter().find(|r| r.step_id == step.id) else {
                return refused("That step could not be planned.");
            };
            let when =
                crate::render::local_when("en", &row.due_at.with_timezone(&patient.zone(clinic)));
            (
                "moved",
                format!(
                    "{} now goes out {} after the session ({when})",
                    step.id, value
                ),
                Some((row.due_at, row.expires_at)),
            )
        }
    };
    if replan_reminders(&mut tx, &[(reminder.id, replan)], OFF_FOR_PATIENT).await? == 0 {
        return refused("That step went out meanwhile.");
    }
    stored::insert_adjustment(
        &mut tx,
        patient.id,
        kind,
        &step.id,
        offset.is_some().then_some(*value),
        None,
        None,
        user_id,
        now,
    )
    .await?;
    let audit = Audit {
        clinic_id: clinic.id,
        actor: Some(user_id),
        action: "adjust",
        subject: Some(format!("patient {}", patient.id)),
        detail: Some(format!("{} {}", step.id, value)),
    };
    access::record(&mut tx, audit, now).await?;
    tx.commit().await?;
    Ok(Adjusted::Done {
        patient_name: patient.name.clone(),
        patient_id: patient.id,
        what,
    })
}

/// `/note #12 <text>`: a personal line shown with the patient's next message.
pub async fn note(
    store: &Store,
    clinic: &Clinic,
    user_id: i64,
    args: &str,
    now: DateTime<Utc>,
) -> Result<Adjusted, sqlx::Error> {
    const USAGE: &str = "Use: /note #12 Avoid saunas for 72 hours this time.";
    let args = args.trim();
    let Some((who, text)) = args.split_once(char::is_whitespace) else {
        return refused(USAGE);
    };
    let (Some(who @ PatientRef::Id(_)), text) = (PatientRef::parse(who), text.trim()) else {
        return refused(USAGE);
    };
    if text.is_empty() {
        return refused(USAGE);
    }
    if text.chars().count() > MAX_NOTE_CHARS {
        return refused(format!("A note has at most {MAX_NOTE_CHARS} characters."));
    }
    let mut tx = store.begin().await?;
    let patient = match patient_lookup::find_patient(&mut tx, clinic.id, &who).await? {
        Lookup::One(p) => p,
        other => return Ok(Adjusted::NotFound(other)),
    };
    if patient.status != PatientStatus::Active {
        return refused(format!(
            "#{} has no course running (status: {}).",
            patient.id,
            patient.status.label()
        ));
    }
    let Some(next) = stored::next_pending(&mut tx, patient.id).await? else {
        return refused(
            "Nothing more is planned for them. To write to them now, reply to one of their messages.",
        );
    };
    stored::insert_adjustment(
        &mut tx,
        patient.id,
        "note",
        &next.step_id,
        None,
        Some(text),
        Some(next.id),
        user_id,
        now,
    )
    .await?;
    let audit = Audit {
        clinic_id: clinic.id,
        actor: Some(user_id),
        action: "note",
        subject: Some(format!("patient {}", patient.id)),
        // Never the note itself: it may say something about the patient's health.
        detail: Some(format!("with {}", next.step_id)),
    };
    access::record(&mut tx, audit, now).await?;
    tx.commit().await?;
    Ok(Adjusted::Done {
        patient_name: patient.name.clone(),
        patient_id: patient.id,
        what: format!("the note goes with their next message ({})", next.step_id),
    })
}
