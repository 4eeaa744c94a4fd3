//! Photo check-ins, the bot's side: a patient's photo that answers a photo request
//! (`service::photos::receive`) is thanked and goes to their clinic's staff headed with
//! the day of the course; `/photos #12` sends a clinic's staff one patient's photos
//! back, oldest first, as albums.

use teloxide::utils::html::escape;

use super::Ctx;
use crate::catalog::{BASE_LANG, Reply};
use crate::domain::photos::day_label;
use crate::outbox::{AlbumPhoto, Lane, Outgoing};
use crate::render::local_when;
use crate::service::photos::{self as svc, IncomingPhoto, PhotosOutcome};

/// Handles the patient's photo when it answers a photo request; false when it answers
/// none (the caller passes it on as an ordinary message).
pub async fn checkin_photo(ctx: &Ctx<'_>) -> anyhow::Result<bool> {
    let Some(best) = ctx
        .msg
        .photo()
        .and_then(|sizes| sizes.iter().max_by_key(|s| s.width * s.height))
    else {
        return Ok(false);
    };
    let deps = ctx.deps;
    let photo = IncomingPhoto {
        file_id: &best.file.id.0,
        file_unique_id: &best.file.unique_id.0,
        reply_to: ctx.msg.reply_to_message().map(|m| m.id.0),
    };
    let now = deps.clock.now();
    let Some(kept) = svc::receive(&deps.store, &deps.catalog, &ctx.courses, photo, now).await?
    else {
        return Ok(false);
    };
    tracing::info!(
        patient = kept.patient.id,
        clinic = kept.clinic.id,
        day = kept.day,
        new = kept.new,
        "photo check-in kept"
    );
    if kept.thank {
        let lang = kept.patient.lang.as_deref().unwrap_or(BASE_LANG);
        let thanks = crate::service::texts::Texts::new(&deps.store, &deps.catalog)
            .reply(Some(kept.clinic.id), lang, Reply::PhotoThanks)
            .await?
            .render(&[("clinic_name", &kept.clinic.name)]);
        ctx.reply(thanks).await?;
    }
    if kept.new {
        let caption = ctx.msg.caption().unwrap_or("").trim().to_string();
        super::relay::photo_checkin_to_staff(
            deps,
            ctx.chat().0,
            i64::from(ctx.msg.id.0),
            &kept.patient,
            best.file.id.0.clone(),
            caption,
            kept.day,
        )
        .await?;
    }
    Ok(true)
}

/// `/photos <#id or name>`: the patient's check-in photos, oldest first, as albums.
pub async fn photos(ctx: &Ctx<'_>, args: &str) -> anyhow::Result<()> {
    let Some(clinic) = super::staff::active_clinic(ctx) else {
        return ctx.reply(super::templates::STAFF_ONLY.into()).await;
    };
    if args.chars().count() > super::commands::MAX_ARGS_CHARS {
        return ctx.reply(svc::USAGE.into()).await;
    }
    let now = ctx.deps.clock.now();
    let outcome = svc::list(&ctx.deps.store, clinic, ctx.user_id(), args, now).await?;
    let (patient, photos) = match outcome {
        PhotosOutcome::Refused(why) => return ctx.reply(why.into()).await,
        PhotosOutcome::NotFound(lookup) => {
            return ctx
                .reply(super::booking::not_found(&lookup, "photos"))
                .await;
        }
        PhotosOutcome::Photos { patient, photos } => (patient, photos),
    };
    let who = format!("<b>{}</b> (#{})", escape(&patient.name), patient.id);
    if photos.is_empty() {
        return ctx
            .reply(format!(
                "{who} has sent no photos for photo check-ins. Photos come in answer to a \
                 course step of the kind photo (/course step … photo)."
            ))
            .await;
    }
    tracing::info!(
        patient = patient.id,
        photos = photos.len(),
        staff = ctx.user_id(),
        "check-in photos shown"
    );
    let n = photos.len();
    ctx.reply(format!(
        "{who}: {n} photo{} from photo check-ins, oldest first.",
        if n == 1 { "" } else { "s" }
    ))
    .await?;
    // Captions carry the record's number, not the name, like the staff copies an
    // erasure leaves behind.
    let tz = clinic.tz();
    let album: Vec<AlbumPhoto> = photos
        .into_iter()
        .map(|p| AlbumPhoto {
            caption: format!(
                "#{} · {} · {}",
                patient.id,
                day_label(p.course_day),
                local_when("en", &p.received().with_timezone(&tz))
            ),
            file_id: p.file_id,
        })
        .collect();
    for msg in Outgoing::albums(ctx.chat().0, Lane::Answer, album) {
        ctx.deps.outbox.send(msg);
    }
    Ok(())
}
