//! Patient commands: opening a link, /schedule, /stop, /help.

use super::Ctx;
use crate::catalog::Reply;
use crate::render::{local_when, reply};
use crate::service::link::{LinkOutcome, Opener, open_link as open};
use crate::service::patient;
use crate::service::texts::Texts;
use crate::store::PatientStatus;

pub async fn open_link(ctx: &Ctx<'_>, payload: &str) -> anyhow::Result<()> {
    let deps = ctx.deps;
    // The answer's turn is booked before the course is written, so that steps already
    // due, which the scheduler may pick up at once, queue behind the greeting.
    let turn = deps
        .pacer
        .book_chat(ctx.chat().0, tokio::time::Instant::now());
    let answer = |text: String| super::send_at(ctx.bot, deps, ctx.chat(), turn, text);
    let who = Opener {
        user_id: ctx.user_id(),
        chat_id: ctx.chat().0,
        language_code: ctx.user.language_code.as_deref(),
    };
    let outcome = open(&deps.store, &deps.catalog, payload, who, deps.clock.now()).await?;
    let lang = ctx.lang();
    let simple = |which| reply(&deps.catalog, &lang, which, "");
    match outcome {
        LinkOutcome::Owner { clinic } => {
            tracing::info!(clinic = clinic.id, "owner linked");
            super::menus::set_staff_menu(ctx.bot, ctx.chat()).await;
            let text = format!(
                "Welcome! You are now the owner of <b>{}</b>.\n\n{}",
                teloxide::utils::html::escape(&clinic.name),
                super::staff::HELP
            );
            answer(text).await
        }
        LinkOutcome::Patient {
            patient,
            clinic,
            lang,
        } => {
            tracing::info!(patient = patient.id, clinic = clinic.id, "patient linked");
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
            // The greeting answers what the patient just did: it goes out now, quiet
            // hours or not, and before any step that is already due.
            let sent = answer(text).await;
            deps.wake.notify_one();
            sent
        }
        LinkOutcome::Invalid => {
            tracing::info!(user = ctx.user_id(), "unknown or malformed link");
            answer(simple(Reply::LinkInvalid)).await
        }
        LinkOutcome::Expired => answer(simple(Reply::LinkExpired)).await,
        LinkOutcome::Used {
            by_this_person: true,
        } if ctx.patient.is_some() => {
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
    let Some(p) = &ctx.patient else {
        return ctx.reply(ctx.patient_reply(Reply::NotLinked).await?).await;
    };
    let deps = ctx.deps;
    let Some(clinic) = deps.store.clinic(p.clinic_id).await? else {
        return Ok(());
    };
    let lang = ctx.lang();
    let upcoming = deps.store.upcoming(p.id).await?;
    if upcoming.is_empty() {
        return ctx
            .reply(ctx.patient_reply(Reply::ScheduleEmpty).await?)
            .await;
    }
    let tz = clinic.tz();
    let mut text = ctx.patient_reply(Reply::ScheduleHeader).await?;
    let item_template = Texts::new(&deps.store, &deps.catalog)
        .reply(Some(clinic.id), &lang, Reply::ScheduleItem)
        .await?;
    text.push('\n');
    for r in upcoming.iter().take(30) {
        let title = deps
            .catalog
            .step(&lang, &p.plan, &r.step_id)
            .map(|w| w.title.as_str())
            .unwrap_or(&r.step_id);
        let when = local_when(&lang, &r.due().with_timezone(&tz));
        let item = item_template.render(&[("when", &when), ("title", title)]);
        text.push('\n');
        text.push_str(&item);
    }
    ctx.reply(text).await
}

pub async fn stop(ctx: &Ctx<'_>) -> anyhow::Result<()> {
    let Some(p) = &ctx.patient else {
        return ctx.reply(ctx.patient_reply(Reply::NotLinked).await?).await;
    };
    if p.status != PatientStatus::Active {
        return ctx
            .reply(ctx.patient_reply(Reply::StopNothing).await?)
            .await;
    }
    let cancelled = patient::stop(&ctx.deps.store, p.id).await?;
    tracing::info!(patient = p.id, cancelled, "patient stopped their reminders");
    ctx.reply(ctx.patient_reply(Reply::StopDone).await?).await
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
