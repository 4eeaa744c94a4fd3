//! Two-way messages: a patient's text or photo goes to every staff member of their
//! clinic; a staff member's Telegram reply to it (or to an alert) goes back to the patient.

use teloxide::types::Message;
use teloxide::utils::html::escape;

use super::Ctx;
use crate::catalog::Reply;
use crate::domain::relay::{MAX_RELAYED_CAPTION, MAX_RELAYED_TEXT, clip};
use crate::outbox::staff_alerts::{delivered, to_staff};
use crate::outbox::{Content as Sent, Delivery, Lane, Outgoing, Photo, Thread};
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
    let failed = crate::service::texts::Texts::new(&deps.store, &deps.catalog)
        .reply(Some(clinic.id), &ctx.lang(), Reply::RelayFailed)
        .await?
        .render_dropping_empty(&[
            ("clinic_name", &clinic.name),
            ("clinic_contact", &clinic.contact),
        ]);
    let reached = ctx.patient_reply(Reply::PlainText).await?;
    let (outbox, chat, patient, staff_n) = (deps.outbox.clone(), ctx.chat().0, p.id, staff.len());
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
