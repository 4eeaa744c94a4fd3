//! Two-way messages: a patient's text or photo goes to every staff member of their
//! clinic; a staff member's Telegram reply to it (or to an alert) goes back to the patient.

use teloxide::prelude::*;
use teloxide::types::{FileId, InputFile, Message, ParseMode};
use teloxide::utils::html::escape;

use super::Ctx;
use crate::catalog::Reply;
use crate::domain::relay::{MAX_RELAYED_CAPTION, MAX_RELAYED_TEXT, clip};
use crate::notify::{About, Outgoing, to_staff};
use crate::service::relay::{ReplyTarget, reply_target};

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

/// A linked patient wrote (not a command): it goes to the clinic's staff.
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
    let deps = ctx.deps;
    let Some(clinic) = deps.store.clinic(p.clinic_id).await? else {
        return Ok(());
    };
    let staff = deps.store.staff_chats(clinic.id, None).await?;
    let who = format!("<b>{}</b> (patient #{})", escape(&p.name), p.id);
    let about = About {
        clinic_id: clinic.id,
        patient_id: Some(p.id),
        alert_id: None,
    };
    let now = deps.clock.now();
    let (kind, delivered) = match &content {
        Content::Text(text) => {
            let html = format!("💬 {who} wrote:\n{}\n\n{REPLY_HINT}", escape(text));
            let n = to_staff(
                ctx.bot,
                &deps.pacer,
                &deps.store,
                &staff,
                about,
                Outgoing::Text(&html),
                None,
                now,
            )
            .await;
            ("text", n)
        }
        Content::Photo { file_id, caption } => {
            let caption = if caption.is_empty() {
                format!("📷 {who} sent a photo.\n{REPLY_HINT}")
            } else {
                format!("📷 {who} sent a photo:\n{}\n{REPLY_HINT}", escape(caption))
            };
            let n = to_staff(
                ctx.bot,
                &deps.pacer,
                &deps.store,
                &staff,
                about,
                Outgoing::Photo {
                    file_id,
                    caption: &caption,
                },
                None,
                now,
            )
            .await;
            ("photo", n)
        }
    };
    tracing::info!(
        patient = p.id,
        clinic = clinic.id,
        kind,
        staff = staff.len(),
        delivered,
        "patient message relayed"
    );
    if delivered == 0 {
        let text = crate::service::texts::Texts::new(&deps.store, &deps.catalog)
            .reply(Some(clinic.id), &ctx.lang(), Reply::RelayFailed)
            .await?
            .render_dropping_empty(&[
                ("clinic_name", &clinic.name),
                ("clinic_contact", &clinic.contact),
            ]);
        return ctx.reply(text).await;
    }
    ctx.reply(ctx.patient_reply(Reply::PlainText).await?).await
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
    deps.pacer.wait_turn(chat).await;
    let texts = crate::service::texts::Texts::new(&deps.store, &deps.catalog);
    let sent = match &content {
        Content::Text(text) => {
            let html = texts
                .reply(Some(clinic.id), &lang, Reply::RelayFromClinic)
                .await?
                .render(&[("clinic_name", &clinic.name), ("message", text)]);
            ctx.bot
                .send_message(ChatId(chat), html)
                .parse_mode(ParseMode::Html)
                .await
        }
        Content::Photo { file_id, caption } => {
            let html = texts
                .reply(Some(clinic.id), &lang, Reply::RelayPhotoCaption)
                .await?
                .render(&[("clinic_name", &clinic.name), ("message", caption)]);
            ctx.bot
                .send_photo(ChatId(chat), InputFile::file_id(FileId(file_id.clone())))
                .caption(html)
                .parse_mode(ParseMode::Html)
                .await
        }
    };
    let name = escape(&patient.name);
    match sent {
        Ok(_) => {
            tracing::info!(
                patient = patient.id,
                clinic = clinic.id,
                staff = ctx.user_id(),
                "staff reply relayed"
            );
            ctx.reply(format!("Sent to <b>{name}</b>.")).await
        }
        Err(e) => {
            tracing::warn!(
                patient = patient.id,
                error = crate::telegram_error::describe_request(&e),
                "could not relay a staff reply"
            );
            ctx.reply(format!(
                "Telegram did not deliver this to <b>{name}</b>; they may have blocked the bot."
            ))
            .await
        }
    }
}
