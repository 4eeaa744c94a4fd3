//! `/timezone` and shared locations: a travelling patient's reminders follow them.

use chrono_tz::Tz;
use teloxide::types::Location;

use super::Ctx;
use crate::catalog::Reply;
use crate::domain::time::{find_zone, zone_at};
use crate::service::patient::set_timezone;
use crate::store::{Clinic, Patient};

pub async fn timezone(ctx: &Ctx<'_>, args: &str) -> anyhow::Result<()> {
    let Some((p, clinic)) = ctx.linked_patient().await? else {
        return Ok(());
    };
    let query = args.trim();
    if query.is_empty() {
        let zone = p.zone(&clinic);
        let local = local_time(ctx, zone);
        return answer(
            ctx,
            &clinic,
            Reply::TimezoneShow,
            &[("zone", zone.name()), ("local_time", &local)],
        )
        .await;
    }
    let Some(zone) = find_zone(query) else {
        let shown: String = query.chars().take(40).collect();
        return answer(ctx, &clinic, Reply::TimezoneUnknown, &[("query", &shown)]).await;
    };
    follow(ctx, p, &clinic, zone).await?;
    let local = local_time(ctx, zone);
    answer(
        ctx,
        &clinic,
        Reply::TimezoneSet,
        &[("zone", zone.name()), ("local_time", &local)],
    )
    .await
}

/// A shared location sets the zone of that place (a boundary lookup, not the longitude).
pub async fn location(ctx: &Ctx<'_>, location: &Location) -> anyhow::Result<()> {
    let Some((p, clinic)) = ctx.linked_patient().await? else {
        return Ok(());
    };
    let zone = zone_at(location.latitude, location.longitude);
    follow(ctx, p, &clinic, zone).await?;
    answer(
        ctx,
        &clinic,
        Reply::TimezoneLocation,
        &[("zone", zone.name())],
    )
    .await
}

/// Stores the zone, re-plans what is not yet sent, and wakes the scheduler. The zone
/// is where the person is, so it applies to their course of every clinic.
async fn follow(ctx: &Ctx<'_>, p: &Patient, clinic: &Clinic, zone: Tz) -> anyhow::Result<()> {
    let mut courses: Vec<(Patient, Clinic)> = vec![(p.clone(), clinic.clone())];
    for other in ctx.courses.iter().filter(|c| c.id != p.id) {
        if let Some(c) = ctx.deps.store.clinic(other.clinic_id).await? {
            courses.push((other.clone(), c));
        }
    }
    for (p, clinic) in &courses {
        let set = ctx
            .deps
            .woken(set_timezone(&ctx.deps.store, &ctx.deps.catalog, p, clinic, zone).await?);
        tracing::info!(
            patient = p.id,
            moved = set.moved,
            "patient changed their time zone"
        );
    }
    Ok(())
}

fn local_time(ctx: &Ctx<'_>, zone: Tz) -> String {
    ctx.deps
        .clock
        .now()
        .with_timezone(&zone)
        .format("%H:%M")
        .to_string()
}

/// A reply in the clinic's own wording when it saved one.
async fn answer(
    ctx: &Ctx<'_>,
    clinic: &Clinic,
    which: Reply,
    vars: &[(&str, &str)],
) -> anyhow::Result<()> {
    let text = crate::service::texts::Texts::new(&ctx.deps.store, &ctx.deps.catalog)
        .reply(Some(clinic.id), &ctx.lang(), which)
        .await?;
    ctx.reply(text.render(vars)).await
}
