//! `/timezone` and shared locations: a travelling patient's reminders follow them.

use teloxide::types::Location;

use super::Ctx;
use crate::catalog::Reply;
use crate::domain::time::{find_zone, zone_from_longitude};
use crate::service::patient::set_timezone;

pub async fn timezone(ctx: &Ctx<'_>, args: &str) -> anyhow::Result<()> {
    let Some(p) = &ctx.patient else {
        return ctx.reply(ctx.patient_reply(Reply::NotLinked).await?).await;
    };
    let deps = ctx.deps;
    let Some(clinic) = deps.store.clinic(p.clinic_id).await? else {
        return Ok(());
    };
    let lang = ctx.lang();
    let texts = crate::service::texts::Texts::new(&deps.store, &deps.catalog);
    let query = args.trim();
    if query.is_empty() {
        let zone = p.zone(&clinic);
        let local = deps
            .clock
            .now()
            .with_timezone(&zone)
            .format("%H:%M")
            .to_string();
        let text = texts
            .reply(Some(clinic.id), &lang, Reply::TimezoneShow)
            .await?;
        return ctx
            .reply(text.render(&[("zone", zone.name()), ("local_time", &local)]))
            .await;
    }
    let Some(zone) = find_zone(query) else {
        let text = texts
            .reply(Some(clinic.id), &lang, Reply::TimezoneUnknown)
            .await?;
        let shown: String = query.chars().take(40).collect();
        return ctx.reply(text.render(&[("query", &shown)])).await;
    };
    let moved = set_timezone(&deps.store, &deps.catalog, p, &clinic, zone).await?;
    deps.wake.notify_one();
    tracing::info!(patient = p.id, moved, "patient changed their time zone");
    let local = deps
        .clock
        .now()
        .with_timezone(&zone)
        .format("%H:%M")
        .to_string();
    let text = texts
        .reply(Some(clinic.id), &lang, Reply::TimezoneSet)
        .await?;
    ctx.reply(text.render(&[("zone", zone.name()), ("local_time", &local)]))
        .await
}

/// A shared location sets a whole-hour zone from its longitude.
pub async fn location(ctx: &Ctx<'_>, location: &Location) -> anyhow::Result<()> {
    let Some(p) = &ctx.patient else {
        return ctx.reply(ctx.patient_reply(Reply::NotLinked).await?).await;
    };
    let deps = ctx.deps;
    let Some(clinic) = deps.store.clinic(p.clinic_id).await? else {
        return Ok(());
    };
    let zone = zone_from_longitude(location.longitude);
    let moved = set_timezone(&deps.store, &deps.catalog, p, &clinic, zone).await?;
    deps.wake.notify_one();
    tracing::info!(
        patient = p.id,
        moved,
        "patient shared a location for their time zone"
    );
    let text = crate::service::texts::Texts::new(&deps.store, &deps.catalog)
        .reply(Some(clinic.id), &ctx.lang(), Reply::TimezoneLocation)
        .await?;
    ctx.reply(text.render(&[("zone", zone.name())])).await
}
