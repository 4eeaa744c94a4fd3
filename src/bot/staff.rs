//! Staff commands: /enroll, /patients, /help. Staff texts are English for now.

use teloxide::utils::html::escape;

use crate::domain::html::escape_with_code;

use super::Ctx;
use crate::domain::enroll_args::parse_enroll;
use crate::domain::link;
use crate::outbox::{Lane, Outgoing, Photo};
use crate::render::local_when;
use crate::store::Clinic;

/// `/schedule` from staff: it shows a patient their own messages.
pub const PATIENT_SCHEDULE: &str = "/schedule shows patients their own coming messages. To see \
     a patient's: /patient #12 (or their name); the course itself: /timing.";
/// `/stop` from staff.
pub const PATIENT_STOP: &str = "/stop is for patients, to stop their own reminders. To stop a \
     patient's: /pause #12 (or /cancel #12 to end their course).";
/// `/resume` without a patient, from staff.
pub const PATIENT_RESUME: &str = "Whose reminders? Write /resume #12 (or their name).";

/// The clinic a staff member acts for: the one chosen with /clinic, else the first
/// they joined (`Store::memberships` puts it first).
pub(crate) fn active_clinic<'a>(ctx: &'a Ctx<'_>) -> Option<&'a Clinic> {
    ctx.memberships.first().map(|(c, _)| c)
}

/// The staff member's role in their active clinic.
pub(crate) fn active_role(ctx: &Ctx<'_>) -> Option<crate::store::StaffRole> {
    ctx.memberships.first().map(|(_, r)| *r)
}

pub async fn help(ctx: &Ctx<'_>) -> anyhow::Result<()> {
    let clinic = active_clinic(ctx)
        .map(|c| escape(&c.name))
        .unwrap_or_default();
    let role = active_role(ctx).unwrap_or(crate::store::StaffRole::Staff);
    let help = super::commands::StaffHelp(role);
    ctx.reply(format!(
        "You work for <b>{clinic}</b> ({}).\n\n{help}",
        super::access::role_name(role)
    ))
    .await
}

pub async fn enroll(ctx: &Ctx<'_>, args: &str) -> anyhow::Result<()> {
    let Some(clinic) = active_clinic(ctx) else {
        return ctx
            .reply("Only clinic staff can enroll patients.".into())
            .await;
    };
    if args.chars().count() > super::commands::MAX_ARGS_CHARS {
        return ctx
            .reply("That is too long for a name and a time. Try: /enroll Anna Berg 14:30".into())
            .await;
    }
    // `/enroll #12 [time]` names a patient already linked: their next session starts the
    // course again over the same chat, exactly as /done does. A name alone never does
    // that, since a namesake must not get someone else's chat.
    if args.trim_start().starts_with('#') {
        return super::series::done(ctx, args).await;
    }
    let now = ctx.deps.clock.now();
    let tz = clinic.tz();
    // A word before the session time that names one of the clinic's courses picks it.
    let courses =
        crate::service::courses::listed(&ctx.deps.store, &ctx.deps.catalog, clinic).await?;
    let (args, named) = crate::service::courses::split_course(args, &courses);
    let parsed = match parse_enroll(&args, now, tz) {
        Ok(p) => p,
        Err(e) => return ctx.reply(escape_with_code(&e.to_string())).await,
    };
    let chosen = named.or_else(|| courses.iter().find(|c| c.is_default));
    let plan = chosen.map_or_else(|| clinic.default_plan.clone(), |c| c.plan_ref.clone());
    if let Some(why) =
        crate::service::courses::why_not_ready(&ctx.deps.store, &ctx.deps.catalog, clinic, &plan)
            .await?
    {
        return ctx.reply(why).await;
    }
    let same_person_hint = super::series::already_linked_hint(ctx, clinic, &parsed.name).await?;
    let enrolled = crate::service::enroll::enroll_in(
        &ctx.deps.store,
        clinic,
        ctx.user_id(),
        &parsed,
        &plan,
        now,
    )
    .await?;
    tracing::info!(
        clinic = clinic.id,
        patient = enrolled.patient_id,
        "patient enrolled"
    );
    let url = link::url(&ctx.deps.bot_username, &enrolled.payload);
    let caption = format!(
        "<b>{name}</b> is enrolled (patient #{id}), session {session}.\n\n\
         Show this QR code or send the link:\n{url}\n\n\
         The link works once and until {expires}.{same_person_hint}{no_contact}",
        name = escape(&parsed.name),
        id = enrolled.patient_id,
        session = local_when("en", &parsed.session_at.with_timezone(&tz)),
        expires = local_when("en", &enrolled.expires_at.with_timezone(&tz)),
        no_contact = crate::domain::safety::missing_contact_warning(&clinic.contact)
            .map(|w| format!("\n\n{w}"))
            .unwrap_or_default(),
    );
    send_link_picture(ctx, &url, caption).await?;
    // Several courses and none named: say which one, with buttons for the others.
    if named.is_none() && courses.len() > 1 {
        let text = format!(
            "Course for #{}: <b>{}</b>. Another one? (Possible until the link is opened.)",
            enrolled.patient_id,
            escape(&super::courses::course_label(&courses, &plan))
        );
        if let Some(buttons) = super::courses::pick_buttons(enrolled.patient_id, &courses, &plan) {
            return ctx.reply_with_buttons(text, buttons).await;
        }
    }
    Ok(())
}

/// Sends the QR picture with its caption; the outbox sends the caption as text if
/// the picture fails.
pub(crate) async fn send_link_picture(
    ctx: &Ctx<'_>,
    url: &str,
    caption: String,
) -> anyhow::Result<()> {
    let Some(png) = crate::qr::png(url) else {
        return ctx.reply(caption).await;
    };
    let picture = Outgoing::photo(ctx.chat().0, Lane::Answer, Photo::Png(png), caption.clone())
        .or_text(caption);
    ctx.deps.outbox.send(picture);
    Ok(())
}
