//! A clinic's own timing of its plan: view, move or switch off a step, and (only when
//! the owner confirms) re-plan the reminders of patients already enrolled.

use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

use super::templates::may_change;
use crate::catalog::Catalog;
use crate::domain::offset::parse_offset;
use crate::domain::plan::Plan;
use crate::domain::time::parse_clock;
use crate::domain::timing::{StepTiming, apply, parse_request, resolve, short};
use crate::store::access::{self, Audit};
use crate::store::timing::{self as stored, StoredTiming};
use crate::store::{Clinic, StaffRole, Store, clinics};

/// Note on reminders cancelled because the clinic switched their step off.
pub const SWITCHED_OFF: &str = "step switched off by the clinic";

fn to_domain(t: &StoredTiming) -> Option<(String, StepTiming)> {
    let timing = match t.kind.as_str() {
        "off" => StepTiming::Off,
        "default" => StepTiming::Default,
        "moved" => StepTiming::Moved {
            after: parse_offset(t.after.as_deref()?).ok()?,
            at: match t.at.as_deref() {
                Some(a) => Some(parse_clock(a)?),
                None => None,
            },
        },
        _ => return None,
    };
    Some((t.step_id.clone(), timing))
}

/// The clinic's changes to a plan, oldest first.
async fn changes(
    conn: &mut SqliteConnection,
    clinic_id: i64,
    plan: &str,
) -> Result<Vec<(String, StepTiming)>, sqlx::Error> {
    Ok(stored::step_timings(conn, clinic_id, plan)
        .await?
        .iter()
        .filter_map(to_domain)
        .collect())
}

/// The plan as this clinic runs it: the file's plan with the clinic's changes, or the
/// clinic's own course when `plan_id` names one (`course:<key>`).
pub async fn clinic_plan(
    conn: &mut SqliteConnection,
    catalog: &Catalog,
    clinic_id: i64,
    plan_id: &str,
) -> Result<Option<Plan>, sqlx::Error> {
    if crate::course_file::course_key(plan_id).is_some() {
        return super::courses::course_plan(conn, catalog, clinic_id, plan_id).await;
    }
    let Some(plan) = catalog.plan(plan_id) else {
        return Ok(None);
    };
    Ok(Some(apply(plan, &changes(conn, clinic_id, plan_id).await?)))
}

/// The course a patient on `plan` follows at `clinic`: the clinic's timing of that plan,
/// or of the clinic's default plan when the messages folder no longer has it.
pub async fn course_plan(
    conn: &mut SqliteConnection,
    catalog: &Catalog,
    clinic: &Clinic,
    plan: &str,
) -> Result<Option<Plan>, sqlx::Error> {
    match clinic_plan(&mut *conn, catalog, clinic.id, plan).await? {
        Some(p) => Ok(Some(p)),
        None => clinic_plan(conn, catalog, clinic.id, &clinic.default_plan).await,
    }
}

/// A step switched on again (moved or back to default) also brings back the reminders
/// that switching it off cancelled; one switched off only touches pending ones.
fn revives(timing: &StepTiming) -> Option<&'static str> {
    (!matches!(timing, StepTiming::Off)).then_some(SWITCHED_OFF)
}

/// One line of `/timing`.
pub struct StepLine {
    pub step_id: String,
    /// None: switched off.
    pub timing: Option<String>,
    pub changed: bool,
}

pub async fn overview(
    store: &Store,
    catalog: &Catalog,
    clinic: &Clinic,
) -> Result<Vec<StepLine>, sqlx::Error> {
    let Some(file) = catalog.plan(&clinic.default_plan) else {
        return Ok(Vec::new());
    };
    let mut conn = store.pool().acquire().await?;
    let changes = changes(&mut conn, clinic.id, &clinic.default_plan).await?;
    drop(conn);
    let mine = apply(file, &changes);
    Ok(file
        .steps
        .iter()
        .map(|s| {
            let now = mine.step(&s.id);
            StepLine {
                step_id: s.id.clone(),
                timing: now.map(|n| crate::domain::timing::describe(n.after, n.at)),
                changed: now != Some(s),
            }
        })
        .collect())
}

/// What a change does to its step, as staff read it ("is switched off").
pub fn effect(timing: &StepTiming) -> String {
    match timing {
        StepTiming::Moved { after, at } => format!(
            "now goes out {} after the session",
            crate::domain::timing::describe(*after, *at)
        ),
        StepTiming::Off => "is switched off".into(),
        StepTiming::Default => "is back to the default timing".into(),
    }
}

/// A saved change, and how many enrolled patients still have the step ahead of them.
pub struct Changed {
    pub timing_id: i64,
    pub step_id: String,
    pub timing: StepTiming,
    pub pending: usize,
    /// Said with the answer when the step's clock time falls in quiet hours: it is
    /// saved, and goes out when they end.
    pub warning: Option<String>,
}

/// `/timing <step> …` by a staff member: saves the change for new enrollments, with its
/// audit entry.
pub async fn change(
    store: &Store,
    catalog: &Catalog,
    clinic: &Clinic,
    role: StaffRole,
    user_id: i64,
    args: &str,
    now: DateTime<Utc>,
) -> Result<Result<Changed, String>, sqlx::Error> {
    if !may_change(role) {
        return Ok(Err(
            "Only the clinic's owner and admins can change the timing.".into(),
        ));
    }
    let (step_id, request) = match parse_request(args) {
        Ok(r) => r,
        Err(e) => return Ok(Err(e)),
    };
    let Some(plan) = catalog.plan(&clinic.default_plan) else {
        return Ok(Err(
            "This clinic's plan is missing from the messages folder.".into(),
        ));
    };
    let Some(step) = plan.step(&step_id) else {
        let ids: Vec<&str> = plan.steps.iter().map(|s| s.id.as_str()).collect();
        return Ok(Err(format!(
            "There is no step `{}` (steps: {}).",
            step_id.chars().take(40).collect::<String>(),
            ids.join(", ")
        )));
    };
    let timing = resolve(step, &request);
    let (kind, after, at) = match &timing {
        StepTiming::Moved { after, at } => (
            "moved",
            Some(short(*after)),
            at.map(|t| t.format("%H:%M").to_string()),
        ),
        StepTiming::Off => ("off", None, None),
        StepTiming::Default => ("default", None, None),
    };
    let mut tx = store.begin().await?;
    let timing_id = stored::save_step_timing(
        &mut tx,
        clinic.id,
        &plan.id,
        &step.id,
        kind,
        after.as_deref(),
        at.as_deref(),
        user_id,
        now,
    )
    .await?;
    let pending =
        stored::pending_step_reminders(&mut tx, clinic.id, &plan.id, &step.id, revives(&timing))
            .await?
            .len();
    let audit = Audit {
        clinic_id: clinic.id,
        actor: Some(user_id),
        action: "timing",
        subject: Some(format!("step {}", step.id)),
        detail: Some(effect(&timing)),
    };
    access::record(&mut tx, audit, now).await?;
    tx.commit().await?;
    tracing::info!(clinic = clinic.id, step = %step.id, kind, timing = timing_id, "step timing changed");
    let warning = match &timing {
        StepTiming::Moved { at: Some(t), .. } if clinic.quiet_hours().contains(*t) => {
            let quiet = clinic.quiet_hours();
            Some(format!(
                "{} is inside your quiet hours ({}), so this message will go out when they end, \
                 at {}.",
                t.format("%H:%M"),
                quiet.describe(),
                quiet.end.format("%H:%M")
            ))
        }
        _ => None,
    };
    Ok(Ok(Changed {
        timing_id,
        step_id: step.id.clone(),
        timing,
        pending,
        warning,
    }))
}

impl super::Wakes for Applied {
    fn wakes_scheduler(&self) -> bool {
        matches!(self, Applied::Done { moved, .. } if *moved > 0)
    }
}

/// What applying a change to enrolled patients did.
pub enum Applied {
    Done {
        step_id: String,
        moved: u64,
    },
    /// Someone already applied this change; nothing was re-planned again.
    AlreadyApplied {
        step_id: String,
    },
    /// A newer change of the step replaced this one, or it does not exist.
    Stale,
    NotAllowed,
}

/// Re-plans the reminders of a step not yet sent for the clinic's enrolled patients, by
/// the timing in force (which must still be change `timing_id`).
pub async fn apply_to_enrolled(
    store: &Store,
    catalog: &Catalog,
    timing_id: i64,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<Applied, sqlx::Error> {
    let mut tx = store.begin().await?;
    let Some(change) = stored::step_timing(&mut tx, timing_id).await? else {
        return Ok(Applied::Stale);
    };
    let memberships = clinics::memberships_in(&mut tx, user_id).await?;
    let Some((clinic, _)) = memberships
        .iter()
        .find(|(c, r)| c.id == change.clinic_id && may_change(*r))
    else {
        return Ok(Applied::NotAllowed);
    };
    let latest =
        stored::latest_step_timing_id(&mut tx, clinic.id, &change.plan, &change.step_id).await?;
    if latest != Some(timing_id) {
        return Ok(Applied::Stale);
    }
    let Some(plan) = clinic_plan(&mut tx, catalog, clinic.id, &change.plan).await? else {
        return Ok(Applied::Stale);
    };
    if !stored::mark_applied(&mut tx, timing_id, user_id, now).await? {
        return Ok(Applied::AlreadyApplied {
            step_id: change.step_id,
        });
    }
    let tz = clinic.tz();
    let quiet = clinic.quiet_hours();
    let timing = to_domain(&change).map(|(_, t)| t);
    let revive = timing.as_ref().and_then(revives);
    let rows: Vec<_> =
        stored::pending_step_reminders(&mut tx, clinic.id, &change.plan, &change.step_id, revive)
            .await?
            .into_iter()
            .map(|r| {
                let session = crate::store::from_millis(r.session_at);
                // A travelling patient's steps follow their own zone, as when enrolled.
                let zone = r
                    .timezone
                    .as_deref()
                    .and_then(|z| z.parse().ok())
                    .unwrap_or(tz);
                let due = plan
                    .schedule(session, zone, quiet)
                    .into_iter()
                    .find(|p| p.step_id == change.step_id)
                    .map(|p| (p.due_at, p.expires_at));
                (r.reminder_id, due)
            })
            .collect();
    let moved = stored::replan_reminders(&mut tx, &rows, SWITCHED_OFF).await?;
    let audit = Audit {
        clinic_id: clinic.id,
        actor: Some(user_id),
        action: "timing applied",
        subject: Some(format!("step {}", change.step_id)),
        detail: Some(format!("{moved} reminder(s) re-planned")),
    };
    access::record(&mut tx, audit, now).await?;
    tx.commit().await?;
    tracing::info!(clinic = clinic.id, step = %change.step_id, rows = moved, "timing applied to enrolled patients");
    Ok(Applied::Done {
        step_id: change.step_id,
        moved,
    })
}
