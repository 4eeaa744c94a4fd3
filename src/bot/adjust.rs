//! `/adjust` and `/note`: one patient's own course (`service::adjust`).

use teloxide::utils::html::escape;

use super::Ctx;
use crate::domain::html::escape_with_code;
use crate::service::adjust::{self as svc, Adjusted};

pub async fn adjust(ctx: &Ctx<'_>, args: &str) -> anyhow::Result<()> {
    let Some(clinic) = super::staff::active_clinic(ctx) else {
        return ctx.reply(super::templates::STAFF_ONLY.into()).await;
    };
    let now = ctx.deps.clock.now();
    let outcome = svc::adjust(
        &ctx.deps.store,
        &ctx.deps.catalog,
        clinic,
        ctx.user_id(),
        args,
        now,
    )
    .await?;
    answer(ctx, outcome, "adjust").await
}

pub async fn note(ctx: &Ctx<'_>, args: &str) -> anyhow::Result<()> {
    let Some(clinic) = super::staff::active_clinic(ctx) else {
        return ctx.reply(super::templates::STAFF_ONLY.into()).await;
    };
    let now = ctx.deps.clock.now();
    let outcome = svc::note(&ctx.deps.store, clinic, ctx.user_id(), args, now).await?;
    answer(ctx, outcome, "note").await
}

async fn answer(ctx: &Ctx<'_>, outcome: Adjusted, command: &str) -> anyhow::Result<()> {
    let text = match outcome {
        Adjusted::Done {
            patient_name,
            patient_id,
            what,
        } => {
            tracing::info!(patient = patient_id, command, "patient's course adjusted");
            // A moved step may now be due at once.
            ctx.deps.woken(Wake);
            format!(
                "<b>{}</b> (#{patient_id}): {}. Only this patient; audited.",
                escape(&patient_name),
                escape_with_code(&what)
            )
        }
        Adjusted::NotFound(l) => super::booking::not_found(&l, command),
        Adjusted::Refused(why) => why,
    };
    ctx.reply(text).await
}

/// Wakes the scheduler after an adjustment.
struct Wake;

impl crate::service::Wakes for Wake {
    fn wakes_scheduler(&self) -> bool {
        true
    }
}

/// A patient's adjustments and notes, for `/patient`.
pub async fn lines(ctx: &Ctx<'_>, patient_id: i64) -> anyhow::Result<String> {
    let all = ctx.deps.store.adjustments_of(patient_id).await?;
    if all.is_empty() {
        return Ok(String::new());
    }
    let mut text = String::from("\n\n<b>Adjusted for this patient</b>");
    for a in &all {
        let line = match a.kind.as_str() {
            "off" => format!("{}: off", a.step_id),
            "moved" => format!("{}: {}", a.step_id, a.after.as_deref().unwrap_or("?")),
            _ => format!(
                "note with {}: {}",
                a.step_id,
                a.body.as_deref().unwrap_or_default()
            ),
        };
        text.push_str(&format!("\n{}", escape(&line)));
    }
    Ok(text)
}
