//! Two-way messages: a patient's text or photo goes to every staff member of their
//! clinic; a staff member's Telegram reply to it (or to an alert) goes back to the patient.

use teloxide::types::{CallbackQuery, Message};
use teloxide::utils::html::escape;

use super::{Ctx, Deps};
use crate::catalog::Reply;
use crate::domain::relay::{MAX_RELAYED_CAPTION, MAX_RELAYED_TEXT, clip};
use crate::outbox::staff_alerts::{delivered, to_staff};
use crate::outbox::{Content as Sent, Delivery, Lane, Outgoing, Photo, Thread};
use crate::service::relay::{ReplyTarget, reply_target};
use crate::store::Patient;

/// What a person sent that can be passed on.
enum Content {
    Text(String),
    Photo { file_id: String, caption: String },
}

fn content_of(msg: &Message) -> Option<Content> {
    if let Some(sizes) = msg.photo() {
        // The sizes come smallest first.
        let best = sizes.iter().max_by_key(|s| s.width * s.height)?;
        return Some(Content::Photo {
            file_id: best.file.id.0.clone(),
            caption: clip(msg.caption().unwrap_or(""), MAX_RELAYED_CAPTION),
        });
    }
    let text = msg.text()?.trim();
    (!text.is_empty()).then(|| Content::Text(clip(text, MAX_RELAYED_TEXT)))
}

const REPLY_HINT: &str = "<i>Reply to this message to answer.</i>";

/// A linked patient wrote (not a command): it goes to the clinic's staff. A person with
/// courses from several clinics is asked which clinic it is for first (`rc:` buttons);
/// the message waits in the database meanwhile.
pub async fn patient_message(ctx: &Ctx<'_>) -> anyhow::Result<()> {
    let Some(p) = &ctx.patient else {
        return super::patient::plain_text(ctx).await;
    };
    if let Some(location) = ctx.msg.location() {
        return super::timezone::location(ctx, location).await;
    }
    let Some(content) = content_of(ctx.msg) else {
        return ctx
            .reply(ctx.patient_reply(Reply::RelayUnsupported).await?)
            .await;
    };
    if ctx.courses.len() > 1 {
        let (kind, body, file_id) = match &content {
            Content::Text(text) => ("text", text.as_str(), None),
            Content::Photo { file_id, caption } => {
                ("photo", caption.as_str(), Some(file_id.as_str()))
            }
        };
        let now = ctx.deps.clock.now();
        let choice = crate::service::relay::hold_for_choice(
            &ctx.deps.store,
            ctx.chat().0,
            kind,
            body,
            file_id,
            now,
        )
        .await?;
        let courses: Vec<&crate::store::Patient> = ctx.courses.iter().collect();
        let markup = super::controls::clinic_buttons(ctx.deps, &courses, |p| {
            format!("rc:{choice}:{}", p.id)
        })
        .await?;
        let text = ctx.patient_reply(Reply::PickClinic).await?;
        return ctx.reply_with_buttons(text, markup).await;
    }
    relay_to_clinic(ctx.deps, ctx.chat().0, &ctx.lang(), p, content).await
}

/// `rc:<message>:<patient>`: the clinic picked for a waiting message; it goes to that
/// clinic's staff.
pub async fn on_clinic_button(
    deps: &Deps,
    q: &CallbackQuery,
    rest: &str,
) -> anyhow::Result<Option<String>> {
    let chat = q.from.id.0 as i64;
    let Some((choice, patient)) = rest.split_once(':') else {
        return Ok(None);
    };
    let (Ok(choice), Ok(patient)) = (choice.parse::<i64>(), patient.parse::<i64>()) else {
        return Ok(None);
    };
    // Only a course this chat still follows, and a message it is still holding.
    let courses = deps.store.current_courses(chat).await?;
    let Some(p) = courses.into_iter().find(|p| p.id == patient) else {
        return Ok(None);
    };
    let Some(held) = crate::service::relay::take_choice(&deps.store, chat, choice).await? else {
        return Ok(None);
    };
    let content = match held.file_id {
        Some(file_id) => Content::Photo {
            file_id,
            caption: held.body,
        },
        None => Content::Text(held.body),
    };
    let lang = p
        .lang
        .clone()
        .unwrap_or_else(|| crate::catalog::BASE_LANG.to_string());
    relay_to_clinic(deps, chat, &lang, &p, content).await?;
    Ok(Some(String::new()))
}

/// Passes `content` from patient `p` (writing from `chat`) to every staff member of
/// their clinic; the patient hears back once the copies are settled.
async fn relay_to_clinic(
    deps: &Deps,
    chat: i64,
    lang: &str,
    p: &Patient,
    content: Content,
) -> anyhow::Result<()> {
    let Some(clinic) = deps.store.clinic(p.clinic_id).await? else {
        return Ok(());
    };
    let staff = deps.store.staff_chats(clinic.id, None).await?;
    let who = format!("<b>{}</b> (patient #{})", escape(&p.name), p.id);
    let thread = Thread {
        clinic_id: clinic.id,
        patient_id: p.id,
        alert_id: None,
    };
    let (kind, to_send) = match &content {
        Content::Text(text) => {
            let html = format!("💬 {who} wrote:\n{}\n\n{REPLY_HINT}", escape(text));
            ("text", Sent::Text(html))
        }
        Content::Photo { file_id, caption } => {
            let caption = if caption.is_empty() {
                format!("📷 {who} sent a photo.\n{REPLY_HINT}")
            } else {
                format!("📷 {who} sent a photo:\n{}\n{REPLY_HINT}", escape(caption))
            };
            let photo = Photo::FileId(file_id.clone());
            (
                "photo",
                Sent::Photo {
                    photo,
                    caption,
                    fallback: None,
                },
            )
        }
    };
    let receipts = to_staff(&deps.outbox, &staff, to_send, None, Some(thread));
    // The patient hears back once the staff copies are settled: that it reached the
    // clinic, or, if no staff member could be reached, how to contact the clinic.
    let texts = crate::service::texts::Texts::new(&deps.store, &deps.catalog);
    let failed = texts
        .reply(Some(clinic.id), lang, Reply::RelayFailed)
        .await?
        .render_dropping_empty(&[
            ("clinic_name", &clinic.name),
            ("clinic_contact", &clinic.contact),
        ]);
    let reached = texts
        .reply(Some(clinic.id), lang, Reply::PlainText)
        .await?
        .render(&[("clinic_name", &clinic.name)]);
    let (outbox, patient, staff_n) = (deps.outbox.clone(), p.id, staff.len());
    tokio::spawn(async move {
        let delivered = delivered(receipts).await;
        tracing::info!(
            patient,
            clinic = thread.clinic_id,
            kind,
            staff = staff_n,
            delivered,
            "patient message relayed"
        );
        let answer = if delivered == 0 { failed } else { reached };
        outbox.send(Outgoing::answer(chat, answer));
    });
    Ok(())
}

/// A staff member replied (in Telegram) to a message; if it was about a patient, the
/// reply goes to them. False when the replied-to message is not about a patient (the
/// caller answers then).
pub async fn staff_reply(ctx: &Ctx<'_>, replied_id: i32) -> anyhow::Result<bool> {
    let clinic_ids: Vec<i64> = ctx.memberships.iter().map(|(c, _)| c.id).collect();
    let target = reply_target(&ctx.deps.store, ctx.chat().0, replied_id, &clinic_ids).await?;
    if matches!(target, ReplyTarget::NotAThread) {
        return Ok(false);
    }
    pass_on_staff_reply(ctx, target).await?;
    Ok(true)
}

async fn pass_on_staff_reply(ctx: &Ctx<'_>, target: ReplyTarget) -> anyhow::Result<()> {
    let deps = ctx.deps;
    let (patient, clinic) = match target {
        ReplyTarget::Patient { patient, clinic } => (patient, clinic),
        ReplyTarget::NotAThread => return Ok(()),
        ReplyTarget::NotYourClinic => {
            return ctx
                .reply("You no longer work for this patient's clinic, so I did not send it.".into())
                .await;
        }
        ReplyTarget::Gone => {
            return ctx
                .reply("This patient's data was erased or Telegram no longer delivers to them, so I did not send it.".into())
                .await;
        }
    };
    let Some(content) = content_of(ctx.msg) else {
        return ctx
            .reply("I can pass text messages and photos on to a patient.".into())
            .await;
    };
    let Some(chat) = patient.chat_id else {
        return Ok(());
    };
    let lang = patient
        .lang
        .clone()
        .unwrap_or_else(|| crate::catalog::BASE_LANG.to_string());
    let texts = crate::service::texts::Texts::new(&deps.store, &deps.catalog);
    let msg = match &content {
        Content::Text(text) => {
            let html = texts
                .reply(Some(clinic.id), &lang, Reply::RelayFromClinic)
                .await?
                .render(&[("clinic_name", &clinic.name), ("message", text)]);
            Outgoing::message(chat, html)
        }
        Content::Photo { file_id, caption } => {
            let html = texts
                .reply(Some(clinic.id), &lang, Reply::RelayPhotoCaption)
                .await?
                .render(&[("clinic_name", &clinic.name), ("message", caption)]);
            Outgoing::photo(chat, Lane::Message, Photo::FileId(file_id.clone()), html)
        }
    };
    let receipt = deps.outbox.send(msg);
    // The staff member hears back once Telegram has answered.
    let name = escape(&patient.name);
    let (outbox, staff_chat, staff_user) = (deps.outbox.clone(), ctx.chat().0, ctx.user_id());
    tokio::spawn(async move {
        let answer = match receipt.delivery().await {
            Delivery::Sent { .. } => {
                tracing::info!(
                    patient = patient.id,
                    clinic = clinic.id,
                    staff = staff_user,
                    "staff reply relayed"
                );
                format!("Sent to <b>{name}</b>.")
            }
            other => {
                tracing::warn!(patient = patient.id, outcome = ?other, "could not relay a staff reply");
                format!(
                    "Telegram did not deliver this to <b>{name}</b>; they may have blocked the bot."
                )
            }
        };
        outbox.send(Outgoing::answer(staff_chat, answer));
    });
    Ok(())
}
