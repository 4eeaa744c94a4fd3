//! Telegram handlers. Every update becomes a call into `service`; every answer is built
//! from the catalog (patients) or plain functions (staff), with user strings escaped.

mod access;
mod adjust;
mod booking;
mod callbacks;
mod checkin;
mod commands;
mod controls;
mod course_files;
mod courses;
mod gap;
mod menus;
mod patient;
mod patient_admin;
mod patient_list;
mod photos;
mod relay;
mod series;
mod staff;
mod stats;
mod templates;
mod timezone;
mod timing;

use std::sync::Arc;

use teloxide::dispatching::UpdateHandler;
use teloxide::prelude::*;
use teloxide::types::{ChatMemberUpdated, InlineKeyboardMarkup};
use tokio::sync::Notify;

use crate::catalog::{BASE_LANG, Catalog, Reply};
use crate::clock::Clock;
use crate::outbox::{Outbox, Outgoing};
use crate::store::{PatientStatus, Store};
use commands::Command;

pub use menus::set_menus;

/// What the handlers need, injected through the dispatcher.
pub struct Deps {
    pub store: Store,
    pub catalog: Arc<Catalog>,
    pub clock: Arc<dyn Clock>,
    /// Every message leaves through it; handlers queue their answers and return.
    pub outbox: Outbox,
    pub wake: Arc<Notify>,
    pub bot_username: String,
    /// Failed link attempts per person, to slow down guessing. In memory: a restart
    /// forgets them, which costs a guesser nothing they could not get by waiting.
    pub link_attempts: std::sync::Mutex<crate::domain::throttle::Throttle>,
}

impl Deps {
    /// Wakes the scheduler when a use case's committed outcome says reminders became due
    /// sooner; called right after the service returns, before any answer is sent, so
    /// nothing due waits on the answer's send.
    pub fn woken<T: crate::service::Wakes>(&self, outcome: T) -> T {
        if outcome.wakes_scheduler() {
            self.wake.notify_one();
        }
        outcome
    }
}

pub fn schema() -> UpdateHandler<anyhow::Error> {
    dptree::entry()
        .branch(
            Update::filter_message().endpoint(|msg: Message, deps: Arc<Deps>| {
                timed(deps.clone(), on_message(msg, deps))
            }),
        )
        .branch(Update::filter_my_chat_member().endpoint(
            |update: ChatMemberUpdated, deps: Arc<Deps>| {
                timed(deps.clone(), on_membership(update, deps))
            },
        ))
        .branch(
            Update::filter_callback_query().endpoint(|q: CallbackQuery, deps: Arc<Deps>| {
                timed(deps.clone(), callbacks::on_callback(q, deps))
            }),
        )
}

/// Every update's handling, timed for /metrics: the one entry all updates pass.
async fn timed(
    deps: Arc<Deps>,
    work: impl std::future::Future<Output = anyhow::Result<()>>,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let result = work.await;
    deps.outbox.telemetry().metrics.handled(started.elapsed());
    result
}

/// Shown when something broke on our side; the cause is logged, not shown.
const APOLOGY: &str = "Sorry, something went wrong on our side. Please try again in a minute.";

async fn on_message(msg: Message, deps: Arc<Deps>) -> anyhow::Result<()> {
    let chat = msg.chat.id;
    // Until this update is answered, nothing else goes to the chat: a step the action
    // made due must not overtake the answer to it.
    let _answer_first = deps.outbox.reserve(chat.0);
    if let Err(e) = route(&msg, &deps).await {
        tracing::error!(
            chat = chat.0,
            error = crate::outbox::errors::describe(&e),
            "handler failed"
        );
        deps.answer(chat.0, APOLOGY.to_string());
    }
    Ok(())
}

/// The bot's own membership changed. Added to a group, it says once that it works in
/// private chats and leaves: a group would show patients' and staff messages to everyone
/// in it.
async fn on_membership(update: ChatMemberUpdated, deps: Arc<Deps>) -> anyhow::Result<()> {
    let chat = update.chat.id.0;
    if update.chat.is_private() || !update.new_chat_member.kind.is_present() {
        return Ok(());
    }
    tracing::info!(chat, "added to a group: leaving");
    leave_group(&deps, chat, update.from.language_code.as_deref());
    Ok(())
}

/// Says in a group that the bot works in private chats only, then leaves it.
fn leave_group(deps: &Deps, chat: i64, language_code: Option<&str>) {
    let lang = deps.catalog.pick_language(language_code, BASE_LANG);
    let text = deps.catalog.reply(&lang, Reply::PrivateOnly).render(&[]);
    deps.answer(chat, text);
    deps.outbox.send(Outgoing::leave(chat));
}

#[tracing::instrument(skip_all, fields(chat = msg.chat.id.0, command))]
async fn route(msg: &Message, deps: &Deps) -> anyhow::Result<()> {
    let Some(user) = msg.from.as_ref() else {
        return Ok(());
    };
    let text = msg.text().or(msg.caption()).unwrap_or("");
    let command = Command::parse(text, &deps.bot_username);
    if let Some(c) = &command {
        tracing::Span::current().record("command", c.name());
    }
    if !msg.chat.is_private() {
        // Still in a group (added before the bot left groups on its own, or its leaving
        // failed): say so once and leave.
        leave_group(deps, msg.chat.id.0, user.language_code.as_deref());
        return Ok(());
    }
    let memberships = deps.store.memberships(user.id.0 as i64).await?;
    let patient = deps.store.patient_by_chat(msg.chat.id.0).await?;
    let courses = deps.store.current_courses(msg.chat.id.0).await?;
    let mut ctx = Ctx {
        deps,
        msg,
        user,
        memberships,
        patient,
        courses,
    };
    if ctx
        .courses
        .iter()
        .any(|p| p.status == PatientStatus::Unreachable)
        && !decides_about_reminders(command.as_ref(), text)
    {
        controls::back_in_reach(&ctx).await?;
        ctx.patient = deps.store.patient_by_chat(msg.chat.id.0).await?;
        ctx.courses = deps.store.current_courses(msg.chat.id.0).await?;
    }
    if !ctx.is_staff()
        && ctx.patient.is_none()
        && command.as_ref().is_some_and(Command::is_staff_side)
        && let Some((clinic, at)) = deps.store.revoked_from(ctx.user_id()).await?
    {
        // Someone whose staff access was taken away: told so, not greeted as a stranger.
        return ctx
            .reply(format!(
                "You no longer have access to <b>{}</b> (since {}). If this is a mistake, \
                 ask the clinic's owner for a new invite.",
                teloxide::utils::html::escape(&clinic),
                crate::render::local_date("en", &at)
            ))
            .await;
    }
    // A document from staff (or a stranger) is a course file, whatever its caption says;
    // one in reply to a message belongs to that conversation, and a patient's goes the
    // way their messages go.
    if msg.document().is_some()
        && msg.reply_to_message().is_none()
        && (ctx.is_staff() || ctx.patient.is_none())
    {
        return course_files::upload(&ctx).await;
    }
    match command {
        Some(Command::Start(payload)) if !payload.trim().is_empty() => {
            patient::open_link(&ctx, payload.trim()).await
        }
        Some(Command::Start(_)) | Some(Command::Help) => {
            if ctx.is_staff() {
                staff::help(&ctx).await
            } else {
                patient::help(&ctx).await
            }
        }
        Some(Command::Enroll(args)) => staff::enroll(&ctx, &args).await,
        Some(Command::Patients(args)) => patient_list::patients(&ctx, &args).await,
        Some(Command::Alerts) => checkin::alerts(&ctx).await,
        Some(Command::Book(args)) => booking::book(&ctx, &args).await,
        Some(Command::Unbook(args)) => booking::unbook(&ctx, &args).await,
        Some(Command::Done(args)) => series::done(&ctx, &args).await,
        Some(Command::Series(args)) => series::series(&ctx, &args).await,
        // Staff who are not patients themselves get told what they would use instead.
        Some(Command::Schedule) if ctx.is_staff() && ctx.patient.is_none() => {
            ctx.reply(staff::PATIENT_SCHEDULE.into()).await
        }
        Some(Command::Stop) if ctx.is_staff() && ctx.patient.is_none() => {
            ctx.reply(staff::PATIENT_STOP.into()).await
        }
        Some(Command::Schedule) => patient::schedule(&ctx).await,
        Some(Command::Stop) => patient::stop(&ctx).await,
        Some(Command::Resume(args)) if ctx.is_staff() && !args.trim().is_empty() => {
            patient_admin::resume(&ctx, &args).await
        }
        Some(Command::Resume(_)) if ctx.is_staff() && ctx.patient.is_none() => {
            ctx.reply(staff::PATIENT_RESUME.into()).await
        }
        Some(Command::Resume(_)) => controls::resume(&ctx).await,
        Some(Command::Patient(args)) => patient_admin::show(&ctx, &args).await,
        Some(Command::Photos(args)) => photos::photos(&ctx, &args).await,
        Some(Command::Pause(args)) => patient_admin::pause(&ctx, &args).await,
        Some(Command::Cancel(args)) => patient_admin::cancel(&ctx, &args).await,
        Some(Command::Language) => controls::language(&ctx).await,
        Some(Command::Timezone(args)) => timezone::timezone(&ctx, &args).await,
        Some(Command::MyData) => controls::mydata(&ctx).await,
        Some(Command::Delete) => controls::delete(&ctx).await,
        Some(Command::Templates) => templates::list(&ctx).await,
        Some(Command::Template(args)) => templates::show(&ctx, &args).await,
        Some(Command::Edit(args)) => templates::edit(&ctx, &args).await,
        Some(Command::History(args)) => templates::history(&ctx, &args).await,
        Some(Command::Revert(args)) => templates::revert(&ctx, &args).await,
        Some(Command::Reset(args)) => templates::reset(&ctx, &args).await,
        Some(Command::Timing(args)) => timing::timing(&ctx, &args).await,
        Some(Command::Courses) => courses::list(&ctx).await,
        Some(Command::Course(args)) => courses::course(&ctx, &args).await,
        Some(Command::Adjust(args)) => adjust::adjust(&ctx, &args).await,
        Some(Command::Note(args)) => adjust::note(&ctx, &args).await,
        Some(Command::Invite(args)) => access::invite(&ctx, &args).await,
        Some(Command::Staff) => access::staff(&ctx).await,
        Some(Command::Revoke(args)) => access::revoke(&ctx, &args).await,
        Some(Command::Role(args)) => access::role(&ctx, &args).await,
        Some(Command::Clinic(args)) => access::clinic(&ctx, &args).await,
        Some(Command::Settings(args)) => access::settings(&ctx, &args).await,
        Some(Command::Audit(args)) => access::audit(&ctx, &args).await,
        Some(Command::Stats(args)) => stats::stats(&ctx, &args).await,
        Some(Command::Relink(args)) => access::relink(&ctx, &args).await,
        Some(Command::Unknown(_)) => {
            if ctx.is_staff() {
                ctx.reply("I don't know that command. /help lists what I can do.".into())
                    .await
            } else {
                ctx.reply(ctx.patient_reply(Reply::UnknownCommand).await?)
                    .await
            }
        }
        Some(Command::OtherBot) => Ok(()),
        None if ctx.is_staff() => {
            // A reply to a message about a patient goes to that patient; otherwise the
            // text may be the new wording of an edit in progress.
            if let Some(replied) = msg.reply_to_message()
                && relay::staff_reply(&ctx, replied).await?
            {
                return Ok(());
            }
            if templates::new_text(&ctx).await? {
                return Ok(());
            }
            if ctx.patient.is_some() {
                // Someone who works for a clinic and is also a patient.
                return if crate::domain::words::is_stop_word(text) {
                    patient::stop(&ctx).await
                } else {
                    relay::patient_message(&ctx).await
                };
            }
            ctx.reply(
                "Send /help to see what I can do. To write to a patient, reply to their message."
                    .into(),
            )
            .await
        }
        None if ctx.patient.is_some() && crate::domain::words::is_stop_word(text) => {
            patient::stop(&ctx).await
        }
        None if ctx.patient.is_some() => relay::patient_message(&ctx).await,
        None => patient::plain_text(&ctx).await,
    }
}

/// Whether a message settles a patient's reminders itself (stop, resume, erase, or a
/// new link), so a patient Telegram had refused is not switched back on before it.
/// Anything else from them, unblocking's bare `/start` included, shows they can be
/// reached again.
fn decides_about_reminders(command: Option<&Command>, text: &str) -> bool {
    match command {
        Some(Command::Stop | Command::Resume(_) | Command::Delete) => true,
        Some(Command::Start(payload)) => !payload.trim().is_empty(),
        Some(_) => false,
        None => crate::domain::words::is_stop_word(text),
    }
}

/// One update's context.
pub(crate) struct Ctx<'a> {
    pub deps: &'a Deps,
    pub msg: &'a Message,
    pub user: &'a teloxide::types::User,
    pub memberships: Vec<(crate::store::Clinic, crate::store::StaffRole)>,
    /// The chat's newest course (its language is the person's).
    pub patient: Option<crate::store::Patient>,
    /// The courses the chat follows now, one per clinic: several when the person is a
    /// patient of several clinics.
    pub courses: Vec<crate::store::Patient>,
}

impl Ctx<'_> {
    pub fn is_staff(&self) -> bool {
        !self.memberships.is_empty()
    }

    pub fn chat(&self) -> ChatId {
        self.msg.chat.id
    }

    pub fn user_id(&self) -> i64 {
        self.user.id.0 as i64
    }

    /// The language to answer this person in.
    pub fn lang(&self) -> String {
        match &self.patient {
            Some(p) => p.lang.clone().unwrap_or_else(|| BASE_LANG.to_string()),
            None => self
                .deps
                .catalog
                .pick_language(self.user.language_code.as_deref(), BASE_LANG),
        }
    }

    /// The linked patient writing, with their clinic. Anyone else is told to open their
    /// clinic's link, and gets `None`.
    pub async fn linked_patient(
        &self,
    ) -> anyhow::Result<Option<(&crate::store::Patient, crate::store::Clinic)>> {
        let Some(p) = &self.patient else {
            self.reply(self.patient_reply(Reply::NotLinked).await?)
                .await?;
            return Ok(None);
        };
        Ok(self.deps.store.clinic(p.clinic_id).await?.map(|c| (p, c)))
    }

    /// A patient-facing reply with the patient's clinic name filled in, in the
    /// clinic's own wording when it saved one.
    pub async fn patient_reply(&self, which: Reply) -> anyhow::Result<String> {
        let clinic = match &self.patient {
            Some(p) => self.deps.store.clinic(p.clinic_id).await?,
            None => None,
        };
        Ok(crate::service::templates::reply_text(
            &self.deps.store,
            &self.deps.catalog,
            clinic.as_ref(),
            &self.lang(),
            which,
        )
        .await?)
    }

    /// The names of the clinics of `courses`, for a patient-facing answer about them all.
    pub async fn clinic_names(&self, courses: &[&crate::store::Patient]) -> anyhow::Result<String> {
        let mut names: Vec<String> = Vec::new();
        for p in courses {
            if let Some(c) = self.deps.store.clinic(p.clinic_id).await?
                && !names.contains(&c.name)
            {
                names.push(c.name);
            }
        }
        Ok(names.join(", "))
    }

    /// Queues an HTML answer to this chat. Async and fallible only so handlers can end
    /// with it; the outbox sends it (and retries it) on its own.
    pub async fn reply(&self, html: String) -> anyhow::Result<()> {
        self.deps.answer(self.chat().0, html);
        Ok(())
    }

    /// An answer with inline buttons.
    pub async fn reply_with_buttons(
        &self,
        html: String,
        buttons: InlineKeyboardMarkup,
    ) -> anyhow::Result<()> {
        self.deps
            .outbox
            .send(Outgoing::answer(self.chat().0, html).with_buttons(buttons));
        Ok(())
    }
}

impl Deps {
    /// Queues an HTML answer to `chat`: never held for quiet hours, ahead of reminders
    /// queued for the same chat.
    pub(crate) fn answer(&self, chat: i64, html: String) {
        self.outbox.send(Outgoing::answer(chat, html));
    }
}
