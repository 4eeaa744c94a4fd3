//! Patient commands: opening a link, /schedule, /stop, /help.

use super::Ctx;
use crate::catalog::Reply;
use crate::render::{local_when, reply};
use crate::service::link::{LinkOutcome, Opener, open_link as open};
use crate::service::patient;
use crate::service::texts::Texts;
use crate::store::{PatientStatus, StaffRole};

pub async fn open_link(ctx: &Ctx<'_>, payload: &str) -> anyhow::Result<()> {
    let deps = ctx.deps;
    let answer = |text: String| ctx.reply(text);
    let now = deps.clock.now();
    let lang = ctx.lang();
    let simple = |which| reply(&deps.catalog, &lang, which, "");
    let held_back = deps
        .link_attempts
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .check(ctx.user_id(), now);
    if let Err(wait) = held_back {
        tracing::warn!(
            user = ctx.user_id(),
            "link attempt refused: too many failures"
        );
        let minutes = (wait.num_seconds() + 59) / 60;
        let text = deps
            .catalog
            .reply(&lang, Reply::TooManyTries)
            .render(&[("minutes", &minutes.to_string())]);
        return answer(text).await;
    }
    let display_name = match &ctx.user.last_name {
        Some(last) => format!("{} {last}", ctx.user.first_name),
        None => ctx.user.first_name.clone(),
    };
    let who = Opener {
        user_id: ctx.user_id(),
        chat_id: ctx.chat().0,
        language_code: ctx.user.language_code.as_deref(),
        display_name: &display_name,
    };
    let outcome = deps.woken(open(&deps.store, &deps.catalog, payload, who, now).await?);
    if matches!(
        outcome,
        LinkOutcome::Invalid
            | LinkOutcome::Expired
            | LinkOutcome::Replaced { .. }
            | LinkOutcome::InviteReplaced
            | LinkOutcome::Used {
                by_this_person: false
            }
    ) {
        let failures = deps
            .link_attempts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .failed(ctx.user_id(), now);
        if failures >= crate::domain::throttle::MAX_FAILURES {
            tracing::warn!(
                user = ctx.user_id(),
                failures,
                "repeated failed link attempts"
            );
        }
    }
    match outcome {
        LinkOutcome::Joined { clinic, role } => {
            tracing::info!(
                clinic = clinic.id,
                user = ctx.user_id(),
                ?role,
                "joined a clinic"
            );
            super::menus::set_staff_menu(&deps.outbox, ctx.chat().0, role);
            let help = super::commands::StaffHelp(role);
            let role = match role {
                StaffRole::Owner => "the owner",
                StaffRole::Admin => "an admin",
                StaffRole::Staff => "staff",
            };
            let text = format!(
                "Welcome! You are now {role} of <b>{}</b>.\n\n{}",
                teloxide::utils::html::escape(&clinic.name),
                help
            );
            answer(text).await
        }
        LinkOutcome::AlreadyStaff { clinic, role } => {
            let text = format!(
                "You already work for <b>{}</b> as {}; nothing changed. Send /help for your \
                 commands.",
                teloxide::utils::html::escape(&clinic.name),
                super::access::role_name(role)
            );
            answer(text).await
        }
        LinkOutcome::Replaced { clinic } => {
            let text = Texts::new(&deps.store, &deps.catalog)
                .reply(Some(clinic.id), &lang, Reply::LinkReplaced)
                .await?
                .render(&[("clinic_name", &clinic.name)]);
            answer(text).await
        }
        LinkOutcome::InviteReplaced => {
            answer(
                "This link was replaced by a newer one, so it no longer works. Please ask \
                 for the new link."
                    .into(),
            )
            .await
        }
        LinkOutcome::Patient {
            patient,
            clinic,
            lang,
            replaced,
        } => {
            tracing::info!(
                patient = patient.id,
                clinic = clinic.id,
                replaced = replaced.len(),
                "patient linked"
            );
            if !replaced.is_empty() {
                // The patient hears that their earlier course from this clinic ended.
                let date = crate::render::local_date(
                    &lang,
                    &patient.session().with_timezone(&patient.zone(&clinic)),
                );
                let notice = Texts::new(&deps.store, &deps.catalog)
                    .reply(Some(clinic.id), &lang, Reply::CourseReplaced)
                    .await?
                    .render(&[("clinic_name", &clinic.name), ("date", &date)]);
                answer(notice).await?;
            }
            let greeting = Texts::new(&deps.store, &deps.catalog)
                .reply(Some(clinic.id), &lang, Reply::Greeting)
                .await?;
            let text = greeting.render(&[
                (
                    "first_name",
                    crate::domain::enroll_args::first_name(&patient.name),
                ),
                ("clinic_name", &clinic.name),
            ]);
            // Steps already due are the scheduler's to send (woken above); the greeting
            // answers what the patient just did, so it goes out now, quiet hours or not,
            // and ahead of any of those queued for this chat.
            answer(text).await
        }
        LinkOutcome::Invalid => {
            tracing::info!(user = ctx.user_id(), "unknown or malformed link");
            answer(simple(Reply::LinkInvalid)).await
        }
        LinkOutcome::Expired => answer(simple(Reply::LinkExpired)).await,
        LinkOutcome::Used {
            by_this_person: true,
        } if ctx.patient.is_some() => {
            // Their own link again, as after unblocking the bot: they can be reached.
            if ctx
                .patient
                .as_ref()
                .is_some_and(|p| p.status == PatientStatus::Unreachable)
            {
                return super::controls::back_in_reach(ctx).await;
            }
            ctx.reply(ctx.patient_reply(Reply::AlreadyLinked).await?)
                .await
        }
        LinkOutcome::Used { .. } => answer(simple(Reply::LinkUsed)).await,
        LinkOutcome::StaffOpenedPatientLink => {
            answer(
                "This is a patient's link, and you work for this clinic, so I did not link you. \
                 Show the QR code or send the link to the patient."
                    .into(),
            )
            .await
        }
    }
}

pub async fn help(ctx: &Ctx<'_>) -> anyhow::Result<()> {
    let which = match &ctx.patient {
        Some(_) => Reply::HelpPatient,
        None => Reply::NotLinked,
    };
    ctx.reply(ctx.patient_reply(which).await?).await
}

pub async fn schedule(ctx: &Ctx<'_>) -> anyhow::Result<()> {
    if ctx.courses.len() > 1 {
        return schedule_of_every_clinic(ctx).await;
    }
    let Some((p, clinic)) = ctx.linked_patient().await? else {
        return Ok(());
    };
    match schedule_section(ctx, p, &clinic).await? {
        Some(text) => ctx.reply(text).await,
        None => {
            ctx.reply(ctx.patient_reply(Reply::ScheduleEmpty).await?)
                .await
        }
    }
}

/// A chat with courses from several clinics: what is coming from each, under its
/// clinic's name.
async fn schedule_of_every_clinic(ctx: &Ctx<'_>) -> anyhow::Result<()> {
    let mut sections = Vec::new();
    for p in &ctx.courses {
        let Some(clinic) = ctx.deps.store.clinic(p.clinic_id).await? else {
            continue;
        };
        if let Some(section) = schedule_section(ctx, p, &clinic).await? {
            sections.push(section);
        }
    }
    if sections.is_empty() {
        return ctx
            .reply(ctx.patient_reply(Reply::ScheduleEmpty).await?)
            .await;
    }
    ctx.reply(sections.join("\n\n")).await
}

/// Course `p`'s upcoming reminders under the header naming `clinic`; `None` when
/// nothing is planned.
async fn schedule_section(
    ctx: &Ctx<'_>,
    p: &crate::store::Patient,
    clinic: &crate::store::Clinic,
) -> anyhow::Result<Option<String>> {
    let deps = ctx.deps;
    let lang = ctx.lang();
    let upcoming = deps.store.upcoming(p.id).await?;
    if upcoming.is_empty() {
        return Ok(None);
    }
    let tz = p.zone(clinic);
    let mut text = crate::service::templates::reply_text(
        &deps.store,
        &deps.catalog,
        Some(clinic),
        &lang,
        Reply::ScheduleHeader,
    )
    .await?;
    let item_template = Texts::new(&deps.store, &deps.catalog)
        .reply(Some(clinic.id), &lang, Reply::ScheduleItem)
        .await?;
    text.push('\n');
    let titles =
        crate::service::courses::titles(&deps.store, &deps.catalog, p.clinic_id, &lang, &p.plan)
            .await?;
    let notes: Vec<_> = deps
        .store
        .adjustments_of(p.id)
        .await?
        .into_iter()
        .filter(|a| a.kind == "note" && a.reminder_id.is_some())
        .collect();
    for r in upcoming.iter().take(30) {
        // A clinic's own course names its steps; the catalog knows the rest (booking
        // messages, nudges, the shipped plans).
        let title = titles
            .get(&r.step_id)
            .cloned()
            .unwrap_or_else(|| deps.catalog.step_title(&lang, &p.plan, &r.step_id));
        let when = local_when(&lang, &r.due().with_timezone(&tz));
        let item = item_template.render(&[("when", &when), ("title", &title)]);
        text.push('\n');
        text.push_str(&item);
        // A personal note from the clinic goes with this message (/note).
        for n in notes.iter().filter(|a| a.step_id == r.step_id) {
            text.push_str(&format!(
                "\n📝 <i>{}</i>",
                teloxide::utils::html::escape(n.body.as_deref().unwrap_or_default())
            ));
        }
    }
    Ok(Some(text))
}

/// `/stop` (or "stop"): ends the reminders of every clinic's course at once, since a
/// person who says stop wants no more messages; the answer names the clinics.
pub async fn stop(ctx: &Ctx<'_>) -> anyhow::Result<()> {
    if ctx.patient.is_none() {
        return ctx.reply(ctx.patient_reply(Reply::NotLinked).await?).await;
    }
    // A patient Telegram had refused has reminders held, not stopped: stopping now
    // makes that their choice, so writing again does not switch them back on.
    let stoppable: Vec<&crate::store::Patient> = ctx
        .courses
        .iter()
        .filter(|p| matches!(p.status, PatientStatus::Active | PatientStatus::Unreachable))
        .collect();
    if stoppable.is_empty() {
        return ctx
            .reply(ctx.patient_reply(Reply::StopNothing).await?)
            .await;
    }
    let ids: Vec<i64> = stoppable.iter().map(|p| p.id).collect();
    let cancelled = patient::stop(&ctx.deps.store, &ids).await?;
    tracing::info!(patients = ?ids, cancelled, "patient stopped their reminders");
    let names = ctx.clinic_names(&stoppable).await?;
    let text = Texts::new(&ctx.deps.store, &ctx.deps.catalog)
        .reply(Some(stoppable[0].clinic_id), &ctx.lang(), Reply::StopDone)
        .await?
        .render(&[("clinic_name", &names)]);
    ctx.reply(text).await
}

/// Free text from a patient (or a stranger).
pub async fn plain_text(ctx: &Ctx<'_>) -> anyhow::Result<()> {
    let which = if ctx.patient.is_some() {
        Reply::PlainText
    } else {
        Reply::NotLinked
    };
    ctx.reply(ctx.patient_reply(which).await?).await
}
