//! Staff commands about people and the clinic: /invite, /staff, /revoke, /role, /clinic,
//! /settings, /audit, /relink. Each checks the caller's role in their active clinic.

use teloxide::utils::html::escape;

use crate::domain::html::escape_with_code;

use super::Ctx;
use super::staff::{active_clinic, active_role};
use crate::domain::link;
use crate::domain::roles::{Action, allowed};
use crate::domain::time::{find_zone, parse_clock};
use crate::outbox::Outgoing;
use crate::render::local_when;
use crate::service::access::{self, ChangeOutcome, Setting};
use crate::store::{Clinic, StaffMember, StaffRole, from_millis};

const NOT_STAFF: &str = "This command is for clinic staff.";

/// The caller's clinic if their role there allows `action`; otherwise answers why not.
pub(crate) async fn authorize<'a>(
    ctx: &'a Ctx<'_>,
    action: Action,
    who_may: &str,
) -> anyhow::Result<Option<(&'a Clinic, StaffRole)>> {
    let (Some(clinic), Some(role)) = (active_clinic(ctx), active_role(ctx)) else {
        ctx.reply(NOT_STAFF.into()).await?;
        return Ok(None);
    };
    if !allowed(role, action) {
        tracing::info!(
            user = ctx.user_id(),
            clinic = clinic.id,
            ?action,
            "refused: role"
        );
        ctx.reply(format!("Only {who_may} can do that.")).await?;
        return Ok(None);
    }
    Ok(Some((clinic, role)))
}

pub(crate) fn role_name(role: StaffRole) -> &'static str {
    match role {
        StaffRole::Owner => "owner",
        StaffRole::Admin => "admin",
        StaffRole::Staff => "staff",
    }
}

pub async fn invite(ctx: &Ctx<'_>, args: &str) -> anyhow::Result<()> {
    let Some((clinic, _)) = authorize(ctx, Action::Invite, "owners and admins").await? else {
        return Ok(());
    };
    let role = match args.trim().to_ascii_lowercase().as_str() {
        "staff" => StaffRole::Staff,
        "admin" => StaffRole::Admin,
        _ => {
            return ctx
                .reply("Say who to invite: /invite staff or /invite admin".into())
                .await;
        }
    };
    let now = ctx.deps.clock.now();
    let new = access::invite(&ctx.deps.store, clinic, ctx.user_id(), role, now).await?;
    tracing::info!(
        clinic = clinic.id,
        user = ctx.user_id(),
        ?role,
        "invite created"
    );
    let url = link::url(&ctx.deps.bot_username, &new.payload);
    ctx.reply(format!(
        "Invite to <b>{}</b> as {}:\n{url}\n\nIt works once and until {}. Send it only to the person you mean.",
        escape(&clinic.name),
        role_name(role),
        local_when("en", &new.expires_at.with_timezone(&clinic.tz())),
    ))
    .await
}

pub async fn staff(ctx: &Ctx<'_>) -> anyhow::Result<()> {
    let Some((clinic, _)) = authorize(ctx, Action::CarePatients, "staff").await? else {
        return Ok(());
    };
    let people = ctx.deps.store.staff_of(clinic.id).await?;
    let mut text = format!("<b>People of {}</b>\n", escape(&clinic.name));
    for p in &people {
        let name = if p.display_name.is_empty() {
            "(no name)".to_string()
        } else {
            escape(&p.display_name)
        };
        text.push_str(&format!(
            "\n#{} {} · {}",
            p.user_id,
            name,
            role_name(p.role)
        ));
    }
    ctx.reply(text).await
}

/// Finds a person of the clinic by `#id`, id or exact name.
fn find_person<'p>(people: &'p [StaffMember], query: &str) -> Result<&'p StaffMember, String> {
    let q = query.trim().trim_start_matches('#');
    if q.is_empty() {
        return Err("Say who: a number from /staff, or their name.".into());
    }
    if let Ok(id) = q.parse::<i64>() {
        return people
            .iter()
            .find(|p| p.user_id == id)
            .ok_or_else(|| "No one with that number works here. See /staff.".into());
    }
    let matches: Vec<&StaffMember> = people
        .iter()
        .filter(|p| p.display_name.eq_ignore_ascii_case(q))
        .collect();
    match matches.as_slice() {
        [one] => Ok(one),
        [] => Err("No one by that name works here. See /staff.".into()),
        _ => Err("More than one person has that name; use their number from /staff.".into()),
    }
}

pub async fn revoke(ctx: &Ctx<'_>, args: &str) -> anyhow::Result<()> {
    change(ctx, args, None).await
}

pub async fn role(ctx: &Ctx<'_>, args: &str) -> anyhow::Result<()> {
    let Some((who, role)) = args.trim().rsplit_once(char::is_whitespace) else {
        return ctx
            .reply("Try: /role &lt;person&gt; admin (or staff)".into())
            .await;
    };
    let role = match role.to_ascii_lowercase().as_str() {
        "owner" => StaffRole::Owner,
        "admin" => StaffRole::Admin,
        "staff" => StaffRole::Staff,
        _ => return ctx.reply("The role is admin, staff or owner.".into()).await,
    };
    change(ctx, who, Some(role)).await
}

async fn change(ctx: &Ctx<'_>, who: &str, new: Option<StaffRole>) -> anyhow::Result<()> {
    let Some((clinic, actor_role)) =
        authorize(ctx, Action::ManageStaff, "owners and admins").await?
    else {
        return Ok(());
    };
    let people = ctx.deps.store.staff_of(clinic.id).await?;
    let person = match find_person(&people, who) {
        Ok(p) => p.clone(),
        Err(why) => return ctx.reply(why).await,
    };
    let now = ctx.deps.clock.now();
    let outcome = access::change_access(
        &ctx.deps.store,
        clinic,
        ctx.user_id(),
        actor_role,
        person.user_id,
        new,
        now,
    )
    .await?;
    let name = escape(&person.display_name);
    match (outcome, new) {
        (ChangeOutcome::Done, None) => {
            tracing::info!(
                clinic = clinic.id,
                user = ctx.user_id(),
                target = person.user_id,
                "access revoked"
            );
            tell_changed(ctx, clinic, person.user_id, None).await?;
            ctx.reply(format!(
                "{name} no longer has access to {}.",
                escape(&clinic.name)
            ))
            .await
        }
        (ChangeOutcome::Done, Some(role)) => {
            tracing::info!(
                clinic = clinic.id,
                user = ctx.user_id(),
                target = person.user_id,
                ?role,
                "role changed"
            );
            tell_changed(ctx, clinic, person.user_id, Some(role)).await?;
            ctx.reply(format!("{name} is now {}.", role_name(role)))
                .await
        }
        (ChangeOutcome::NotFound, _) => ctx.reply("That person no longer works here.".into()).await,
        (ChangeOutcome::Refused(why), _) => ctx.reply(why.to_string()).await,
    }
}

/// The person whose access changed is told, and their command menu follows: the
/// patients' menu once they work for no clinic, else their role's staff menu.
async fn tell_changed(
    ctx: &Ctx<'_>,
    clinic: &Clinic,
    target: i64,
    new: Option<StaffRole>,
) -> anyhow::Result<()> {
    if target == ctx.user_id() {
        return Ok(());
    }
    let clinic_name = escape(&clinic.name);
    let text = match new {
        None => format!(
            "You no longer have access to <b>{clinic_name}</b>: its staff commands are gone \
             from your menu. If this is a mistake, ask the clinic's owner for a new invite."
        ),
        Some(role) => format!(
            "You are now {} at <b>{clinic_name}</b>. /help lists what you can do.",
            role_name(role)
        ),
    };
    match ctx.deps.store.memberships(target).await?.first() {
        Some((_, role)) => {
            super::menus::set_staff_menu(&ctx.deps.outbox, target, *role);
        }
        None => {
            super::menus::set_patient_menu(&ctx.deps.outbox, target);
        }
    }
    ctx.deps.outbox.send(Outgoing::message(target, text));
    Ok(())
}

pub async fn clinic(ctx: &Ctx<'_>, args: &str) -> anyhow::Result<()> {
    if ctx.memberships.is_empty() {
        return ctx.reply(NOT_STAFF.into()).await;
    }
    let wanted = args.trim().trim_start_matches('#');
    if !wanted.is_empty() {
        let Some((c, _)) = wanted
            .parse::<i64>()
            .ok()
            .and_then(|id| ctx.memberships.iter().find(|(c, _)| c.id == id))
        else {
            return ctx
                .reply(
                    "You don't work for a clinic with that number. Send /clinic to see yours."
                        .into(),
                )
                .await;
        };
        access::act_for(&ctx.deps.store, ctx.user_id(), c.id).await?;
        return ctx
            .reply(format!("You now act for <b>{}</b>.", escape(&c.name)))
            .await;
    }
    let mut text = String::from("<b>Your clinics</b>\n");
    for (i, (c, role)) in ctx.memberships.iter().enumerate() {
        let mark = if i == 0 { " ← active" } else { "" };
        text.push_str(&format!(
            "\n#{} {} · {}{mark}",
            c.id,
            escape(&c.name),
            role_name(*role)
        ));
    }
    if ctx.memberships.len() > 1 {
        text.push_str("\n\nSwitch with /clinic &lt;number&gt;.");
    }
    ctx.reply(text).await
}

pub async fn relink(ctx: &Ctx<'_>, args: &str) -> anyhow::Result<()> {
    let Some((clinic, _)) = authorize(ctx, Action::CarePatients, "staff").await? else {
        return Ok(());
    };
    let Ok(patient_id) = args.trim().trim_start_matches('#').parse::<i64>() else {
        return ctx
            .reply("Say which patient: /relink &lt;number from /patients&gt;".into())
            .await;
    };
    let now = ctx.deps.clock.now();
    let new = match access::relink(&ctx.deps.store, clinic, ctx.user_id(), patient_id, now).await? {
        access::Relinked::New(new) => new,
        access::Relinked::NotFound => {
            return ctx
                .reply("Your clinic has no patient with that number. See /patients.".into())
                .await;
        }
        access::Relinked::Replaced(by) => {
            return ctx
                .reply(format!(
                    "Patient #{patient_id}'s course was replaced by a newer one, #{by}. /relink {by} makes a fresh link for that one."
                ))
                .await;
        }
        access::Relinked::Erased(on) => {
            return ctx
                .reply(super::booking::erased_refusal(patient_id, on))
                .await;
        }
    };
    tracing::info!(clinic = clinic.id, patient = patient_id, "patient relinked");
    let url = link::url(&ctx.deps.bot_username, &new.payload);
    let caption = format!(
        "New link for patient #{patient_id}; earlier links no longer work.\n\n{url}\n\nIt works once and until {}.",
        local_when("en", &new.expires_at.with_timezone(&clinic.tz())),
    );
    super::staff::send_link_picture(ctx, &url, caption).await
}

pub async fn audit(ctx: &Ctx<'_>, args: &str) -> anyhow::Result<()> {
    let Some((clinic, _)) = authorize(ctx, Action::ReadAudit, "owners").await? else {
        return Ok(());
    };
    let n = match args.trim() {
        "" => 20,
        a => match a.parse::<i64>() {
            Ok(n) if (1..=100).contains(&n) => n,
            _ => {
                return ctx
                    .reply("Try /audit or /audit 50 (at most 100).".into())
                    .await;
            }
        },
    };
    let entries = ctx.deps.store.recent_audit(clinic.id, n).await?;
    if entries.is_empty() {
        return ctx.reply("Nothing recorded yet.".into()).await;
    }
    let tz = clinic.tz();
    let mut text = format!("<b>Recent actions at {}</b>\n", escape(&clinic.name));
    for e in entries.iter().rev() {
        let when = from_millis(e.at)
            .with_timezone(&tz)
            .format("%Y-%m-%d %H:%M");
        let actor = e
            .actor
            .map(|a| format!("#{a}"))
            .unwrap_or_else(|| "system".into());
        let subject = e
            .subject
            .as_deref()
            .map(|s| format!(": {}", escape(s)))
            .unwrap_or_default();
        let detail = e
            .detail
            .as_deref()
            .map(|d| format!(" ({})", escape(d)))
            .unwrap_or_default();
        let line = format!("\n{when} {} by {actor}{subject}{detail}", e.action);
        if text.chars().count() + line.chars().count() > 4000 {
            break;
        }
        text.push_str(&line);
    }
    ctx.reply(text).await
}

pub async fn settings(ctx: &Ctx<'_>, args: &str) -> anyhow::Result<()> {
    let Some((clinic, _)) = authorize(ctx, Action::ChangeSettings, "owners").await? else {
        return Ok(());
    };
    let args = args.trim();
    if args.is_empty() {
        return ctx.reply(show_settings(clinic)).await;
    }
    let (key, value) = args.split_once(char::is_whitespace).unwrap_or((args, ""));
    let value = value.trim();
    let setting = match parse_setting(key, value, ctx) {
        Ok(s) => s,
        Err(why) => return ctx.reply(why).await,
    };
    let now = ctx.deps.clock.now();
    let changed = ctx.deps.woken(
        access::change_setting(
            &ctx.deps.store,
            &ctx.deps.catalog,
            clinic,
            ctx.user_id(),
            setting,
            now,
        )
        .await?,
    );
    let moved = changed.moved;
    tracing::info!(
        clinic = clinic.id,
        user = ctx.user_id(),
        key,
        moved,
        "settings changed"
    );
    let updated = changed.clinic;
    let mut note = if moved > 0 {
        format!("\n\n{moved} upcoming reminders were re-planned.")
    } else {
        String::new()
    };
    if key.eq_ignore_ascii_case("timezone") {
        note.push_str("\n\nBooked appointments keep their date and time on the clock.");
    }
    ctx.reply(format!("Saved.\n\n{}{note}", show_settings(&updated)))
        .await
}

fn parse_setting(key: &str, value: &str, ctx: &Ctx<'_>) -> Result<Setting, String> {
    let need = |what: &str| {
        if value.is_empty() {
            Err(format!("Add the new {what}."))
        } else {
            Ok(())
        }
    };
    match key.to_ascii_lowercase().as_str() {
        "name" => {
            need("name")?;
            crate::service::clinic::check_clinic_name(value).map(Setting::Name).map_err(|e| escape_with_code(&e))
        }
        "timezone" => {
            need("time zone")?;
            // A city, as patients' /timezone takes it, or an IANA name.
            find_zone(value).map(Setting::Timezone).ok_or_else(|| {
                format!(
                    "<code>{}</code> is not a city or time zone I know. Try a nearby large \
                     city (/settings timezone Munich) or a zone name like Europe/Berlin.",
                    escape(value)
                )
            })
        }
        "quiet" => {
            let mut parts = value.split_whitespace();
            match (parts.next().and_then(parse_clock), parts.next().and_then(parse_clock), parts.next()) {
                (Some(a), Some(b), None) => Ok(Setting::Quiet(a, b)),
                _ => Err("Try: /settings quiet 21:00 08:00 (the same time twice turns quiet hours off)".into()),
            }
        }
        "contact" => {
            if value.chars().count() > 200 || value.chars().any(char::is_control) {
                return Err("The contact line is one line of at most 200 characters.".into());
            }
            Ok(Setting::Contact(value.to_string()))
        }
        "plan" => match ctx.deps.catalog.plan(value) {
            Some(_) => Ok(Setting::Plan(value.to_string())),
            None => {
                let known: Vec<&str> = ctx.deps.catalog.plan_ids().collect();
                Err(format!("No plan <code>{}</code>; there is {}.", escape(value), known.join(", ")))
            }
        },
        "emergency" => {
            need("emergency number")?;
            crate::domain::safety::parse_emergency_number(value).map(Setting::Emergency)
        }
        "linkdays" => match value.parse::<i64>() {
            Ok(d) if (1..=90).contains(&d) => Ok(Setting::LinkDays(d)),
            _ => Err("Patient links can live 1 to 90 days: /settings linkdays 14".into()),
        },
        _ => Err("Settings: name, timezone, quiet, contact, emergency, plan, linkdays. Example: /settings quiet 21:00 08:00".into()),
    }
}

fn show_settings(c: &Clinic) -> String {
    let contact = if c.contact.is_empty() {
        "(none)".to_string()
    } else {
        escape(&c.contact)
    };
    let emergency = match (
        &c.emergency,
        crate::domain::safety::emergency_number_for_zone(&c.timezone),
    ) {
        (Some(n), _) => escape(n),
        (None, Some(n)) => format!("{n} (from the time zone)"),
        (None, None) => {
            "(none for this time zone: patients are told to call their local emergency number)"
                .into()
        }
    };
    format!(
        "<b>{}</b>\ntimezone: {}\nquiet: {}\ncontact: {contact}\nemergency: {emergency}\nplan: {}\nlinkdays: {}\n\nChange one with /settings &lt;name&gt; &lt;value&gt;.",
        escape(&c.name),
        c.timezone,
        c.quiet_hours().describe(),
        escape(&c.default_plan),
        c.link_ttl_secs / 86_400,
    )
}
