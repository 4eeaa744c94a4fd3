//! Staff look after one patient: `/patient`, `/pause`, `/resume <patient>`, `/cancel`.
//! Patients are always looked up within the staff member's clinic.

use teloxide::utils::html::escape;

use super::Ctx;
use crate::domain::booking::PatientRef;
use crate::outbox::staff_alerts::{ERASED, alert_line};
use crate::render::local_when;
use crate::service::patient_admin::{self as care, CareOutcome};
use crate::store::patient_care::{CANCELLED_NOTE, PAUSED_NOTE};
use crate::store::{Clinic, Lookup, Patient};

/// The patient a staff command names, or the answer to give instead.
async fn named_patient<'a>(
    ctx: &'a Ctx<'_>,
    args: &str,
    command: &str,
) -> anyhow::Result<Result<(&'a Clinic, Box<Patient>), String>> {
    let Some(clinic) = super::staff::active_clinic(ctx) else {
        return Ok(Err("Only clinic staff can do that.".into()));
    };
    let Some(who) = PatientRef::parse(args) else {
        return Ok(Err(format!(
            "Please write: /{command} &lt;patient #id or name&gt;"
        )));
    };
    Ok(match ctx.deps.store.find_patient(clinic.id, &who).await? {
        Lookup::One(p) => Ok((clinic, p)),
        other => Err(super::booking::not_found(&other, command)),
    })
}

fn name_of(p: &Patient) -> String {
    if p.name.is_empty() {
        ERASED.to_string()
    } else {
        escape(&p.name)
    }
}

pub async fn show(ctx: &Ctx<'_>, args: &str) -> anyhow::Result<()> {
    let (clinic, p) = match named_patient(ctx, args, "patient").await? {
        Ok(found) => found,
        Err(answer) => return ctx.reply(answer).await,
    };
    let store = &ctx.deps.store;
    let tz = clinic.tz();
    let (sent, total) = store.progress(p.id).await?;
    let (session_no, series_total) = store.series_of(p.id).await?;
    // A course a newer one of this clinic took over says which, and when.
    let status = match p.replaced() {
        Some((by, at)) => format!(
            "replaced by #{by} on {}",
            crate::render::local_date("en", &at.with_timezone(&tz))
        ),
        None => p.status.label().to_string(),
    };
    let mut text = format!(
        "<b>{}</b> (#{}) · {}\nSession {}{} on {}\nMessages sent: {sent} of {total}",
        name_of(&p),
        p.id,
        status,
        session_no,
        series_total.map(|t| format!(" of {t}")).unwrap_or_default(),
        local_when("en", &p.session().with_timezone(&tz)),
    );
    text.push_str(&format!(
        "\nCourse: {}",
        escape(
            &crate::service::courses::plan_name(store, &ctx.deps.catalog, p.clinic_id, &p.plan)
                .await?
        )
    ));
    let photos = store.photo_count(p.id).await?;
    if photos > 0 {
        text.push_str(&format!(
            "\nPhotos from check-ins: {photos} (/photos #{})",
            p.id
        ));
    }
    if let Some(b) = store.booking_of(p.id).await?.filter(|b| b.is_booked()) {
        text.push_str(&format!(
            "\nNext appointment: {}",
            local_when("en", &b.starts().with_timezone(&tz))
        ));
    }
    let titles =
        crate::service::courses::titles(store, &ctx.deps.catalog, p.clinic_id, "en", &p.plan)
            .await?;
    let upcoming = store.upcoming(p.id).await?;
    if !upcoming.is_empty() {
        text.push_str("\n\n<b>Coming up</b>");
        for r in upcoming.iter().take(5) {
            let title = titles
                .get(&r.step_id)
                .cloned()
                .unwrap_or_else(|| ctx.deps.catalog.step_title("en", &p.plan, &r.step_id));
            text.push_str(&format!(
                "\n{} · {}",
                local_when("en", &r.due().with_timezone(&tz)),
                escape(&title)
            ));
        }
    }
    text.push_str(&super::adjust::lines(ctx, p.id).await?);
    let held = store.held(p.id).await?;
    if !held.is_empty() {
        text.push_str("\n\n<b>Held after a warning sign</b> (until its alert is handled)");
        for r in &held {
            let title = titles
                .get(&r.step_id)
                .cloned()
                .unwrap_or_else(|| ctx.deps.catalog.step_title("en", &p.plan, &r.step_id));
            text.push_str(&format!(
                "\n{} · {}",
                local_when("en", &r.due().with_timezone(&tz)),
                escape(&title)
            ));
        }
    }
    let alerts = store.open_alerts_of(p.id).await?;
    if !alerts.is_empty() {
        text.push_str("\n\n<b>Open alerts</b>");
        for a in &alerts {
            text.push('\n');
            text.push_str(&alert_line(a, tz));
        }
    }
    ctx.reply(text).await
}

pub async fn pause(ctx: &Ctx<'_>, args: &str) -> anyhow::Result<()> {
    halt(ctx, args, "pause", PAUSED_NOTE).await
}

pub async fn cancel(ctx: &Ctx<'_>, args: &str) -> anyhow::Result<()> {
    halt(ctx, args, "cancel", CANCELLED_NOTE).await
}

/// The staff member's clinic and the patient they named, or the answer to give instead.
fn named<'a>(
    ctx: &'a Ctx<'_>,
    args: &str,
    command: &str,
) -> Result<(&'a Clinic, PatientRef), String> {
    let Some(clinic) = super::staff::active_clinic(ctx) else {
        return Err("Only clinic staff can do that.".into());
    };
    let Some(who) = PatientRef::parse(args) else {
        return Err(format!(
            "Please write: /{command} &lt;patient #id or name&gt;"
        ));
    };
    Ok((clinic, who))
}

async fn halt(ctx: &Ctx<'_>, args: &str, command: &str, note: &str) -> anyhow::Result<()> {
    let (clinic, who) = match named(ctx, args, command) {
        Ok(found) => found,
        Err(answer) => return ctx.reply(answer).await,
    };
    let now = ctx.deps.clock.now();
    let outcome = care::halt(&ctx.deps.store, clinic, ctx.user_id(), &who, note, now).await?;
    let (p, n) = match ctx.deps.woken(outcome) {
        CareOutcome::Halted { patient, stopped } => (patient, stopped),
        CareOutcome::NotFound(other) => {
            return ctx.reply(super::booking::not_found(&other, command)).await;
        }
        CareOutcome::NotApplicable(p) | CareOutcome::Resumed { patient: p, .. } => {
            return ctx
                .reply(format!(
                    "<b>{}</b> has no active reminders (status: {}).",
                    name_of(&p),
                    p.status.label()
                ))
                .await;
        }
    };
    tracing::info!(
        patient = p.id,
        clinic = clinic.id,
        cancelled = n,
        command,
        "staff halted a patient's reminders"
    );
    let how = if note == PAUSED_NOTE {
        "Paused. /resume #ID turns them back on."
    } else {
        "Cancelled; the course will not resume."
    };
    ctx.reply(format!(
        "<b>{}</b> (#{}): {n} reminders stopped. {}",
        name_of(&p),
        p.id,
        how.replace("#ID", &format!("#{}", p.id))
    ))
    .await
}

pub async fn resume(ctx: &Ctx<'_>, args: &str) -> anyhow::Result<()> {
    let (clinic, who) = match named(ctx, args, "resume") {
        Ok(found) => found,
        Err(answer) => return ctx.reply(answer).await,
    };
    let now = ctx.deps.clock.now();
    let outcome = care::resume(&ctx.deps.store, clinic, ctx.user_id(), &who, now).await?;
    let (p, n) = match ctx.deps.woken(outcome) {
        CareOutcome::Resumed { patient, queued } => (patient, queued),
        CareOutcome::NotFound(other) => {
            return ctx.reply(super::booking::not_found(&other, "resume")).await;
        }
        CareOutcome::NotApplicable(p) | CareOutcome::Halted { patient: p, .. } => {
            return ctx
                .reply(format!(
                    "<b>{}</b> cannot be resumed (status: {}).",
                    name_of(&p),
                    p.status.label()
                ))
                .await;
        }
    };
    tracing::info!(
        patient = p.id,
        clinic = clinic.id,
        queued = n,
        "staff resumed a patient's reminders"
    );
    ctx.reply(format!(
        "<b>{}</b> (#{}): resumed, {n} reminders queued again.",
        name_of(&p),
        p.id
    ))
    .await
}
