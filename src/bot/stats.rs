//! /stats [days]: a clinic's figures for owners and admins, as one chart and a caption.

use chrono::Duration;
use teloxide::utils::html::escape;

use super::Ctx;
use super::access::authorize;
use crate::domain::roles::Action;
use crate::domain::stats::{chart_png, summary};
use crate::outbox::{Lane, Outgoing, Photo};

const DEFAULT_DAYS: i64 = 30;
const MAX_DAYS: i64 = 366;

pub async fn stats(ctx: &Ctx<'_>, args: &str) -> anyhow::Result<()> {
    let Some((clinic, _)) = authorize(ctx, Action::ReadStats, "owners and admins").await? else {
        return Ok(());
    };
    let days = match args.trim() {
        "" => DEFAULT_DAYS,
        a => match a.parse::<i64>() {
            Ok(n) if (1..=MAX_DAYS).contains(&n) => n,
            _ => {
                return ctx
                    .reply(format!(
                        "Try /stats for the last {DEFAULT_DAYS} days, or /stats 90 (1 to {MAX_DAYS})."
                    ))
                    .await;
            }
        },
    };
    let now = ctx.deps.clock.now();
    let checkin_steps: Vec<String> = ctx
        .deps
        .catalog
        .plan_ids()
        .filter_map(|id| ctx.deps.catalog.plan(id))
        .flat_map(|p| p.steps.iter().filter(|s| s.checkin).map(|s| s.id.clone()))
        .collect();
    let figures = ctx
        .deps
        .store
        .clinic_stats(clinic.id, now - Duration::days(days), now, &checkin_steps)
        .await?;
    tracing::info!(clinic = clinic.id, days, "stats shown");
    let caption = summary(&escape(&clinic.name), days, &figures);
    match chart_png(&figures) {
        Some(png) => {
            let picture =
                Outgoing::photo(ctx.chat().0, Lane::Answer, Photo::Png(png), caption.clone())
                    .or_text(caption);
            ctx.deps.outbox.send(picture);
            Ok(())
        }
        None => ctx.reply(caption).await,
    }
}
