//! Two-way messages: a patient's text or photo goes to every staff member of their
//! clinic; a staff member's Telegram reply to it (or to an alert) goes back to the patient.
//! A text too long for one Telegram message goes as several, never cut; once one staff
//! member has answered a patient's message, the other staff copies say who and when.

use teloxide::types::Message;
use teloxide::utils::html::escape;

use super::Ctx;
use crate::catalog::Reply;
use crate::domain::relay::{MAX_RELAYED_CAPTION, MAX_RELAYED_TEXT, split};
use crate::outbox::staff_alerts::{delivered, to_staff};
use crate::outbox::{Content as Sent, Lane, Outbox, Outgoing, Photo, Receipt, Thread};
use crate::render::local_when;
use crate::service::relay::{ReplyTarget, reply_target};
use crate::store::{Clinic, Patient, Store};

/// What a person sent that can be passed on, whole.
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
            caption: msg.caption().unwrap_or("").trim().to_string(),
        });
    }
    let text = msg.text()?.trim();
    (!text.is_empty()).then(|| Content::Text(text.to_string()))
}

const REPLY_HINT: &str = "<i>Reply to this message to answer.</i>";

/// The staff copies of a patient's text: one message per part, each a thread of its own
/// (a reply to any part reaches the patient).
fn text_parts_for_staff(who: &str, text: &str) -> Vec<String> {
    let parts = split(text, MAX_RELAYED_TEXT);
    let n = parts.len();
    parts
        .iter()
        .enumerate()
        .map(|(i, part)| {
            let head = if n > 1 {
                format!("💬 {who} wrote ({}/{n}):", i + 1)
            } else {
                format!("💬 {who} wrote:")
            };
            format!("{head}\n{}\n\n{REPLY_HINT}", escape(part))
        })
        .collect()
}

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
    let relay_of = i64::from(ctx.msg.id.0);
    let thread = |part: i64| Thread {
        clinic_id: clinic.id,
        patient_id: p.id,
        alert_id: None,
        relay: Some((relay_of, part)),
    };
    let mut receipts = Vec::new();
    let kind = match &content {
        Content::Text(text) => {
            for (i, html) in text_parts_for_staff(&who, text).into_iter().enumerate() {
                let t = thread(i as i64);
                receipts.extend(to_staff(
                    &deps.outbox,
                    &staff,
                    Sent::Text(html),
                    None,
                    Some(t),
                ));
            }
            "text"
        }
        Content::Photo { file_id, caption } => {
            let long = caption.chars().count() > MAX_RELAYED_CAPTION;
            let caption_html = if caption.is_empty() {
                format!("📷 {who} sent a photo.\n{REPLY_HINT}")
            } else if long {
                format!("📷 {who} sent a photo; its text follows.\n{REPLY_HINT}")
            } else {
                format!("📷 {who} sent a photo:\n{}\n{REPLY_HINT}", escape(caption))
            };
            let photo = Sent::Photo {
                photo: Photo::FileId(file_id.clone()),
                caption: caption_html,
                fallback: None,
            };
            receipts.extend(to_staff(&deps.outbox, &staff, photo, None, Some(thread(0))));
            if long {
                for (i, html) in text_parts_for_staff(&who, caption).into_iter().enumerate() {
                    let t = thread(i as i64 + 1);
                    receipts.extend(to_staff(
                        &deps.outbox,
                        &staff,
                        Sent::Text(html),
                        None,
                        Some(t),
                    ));
                }
            }
            "photo"
        }
    };
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
    let clinic_id = clinic.id;
    tokio::spawn(async move {
        let delivered = delivered(receipts).await;
        tracing::info!(
            patient,
            clinic = clinic_id,
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
pub async fn staff_reply(ctx: &Ctx<'_>, replied: &Message) -> anyhow::Result<bool> {
    let clinic_ids: Vec<i64> = ctx.memberships.iter().map(|(c, _)| c.id).collect();
    let target = reply_target(&ctx.deps.store, ctx.chat().0, replied.id.0, &clinic_ids).await?;
    if matches!(target, ReplyTarget::NotAThread) {
        return Ok(false);
    }
    pass_on_staff_reply(ctx, target, replied).await?;
    Ok(true)
}

/// The messages that carry a staff member's reply to the patient: the first under the
/// clinic's heading, the rest of a long text after it.
async fn messages_to_patient(
    ctx: &Ctx<'_>,
    patient: &Patient,
    clinic: &Clinic,
    chat: i64,
    content: &Content,
) -> anyhow::Result<Vec<Outgoing>> {
    let lang = patient
        .lang
        .clone()
        .unwrap_or_else(|| crate::catalog::BASE_LANG.to_string());
    let texts = crate::service::texts::Texts::new(&ctx.deps.store, &ctx.deps.catalog);
    let mut out = Vec::new();
    let text = match content {
        Content::Text(text) => text.as_str(),
        Content::Photo { file_id, caption } => {
            let long = caption.chars().count() > MAX_RELAYED_CAPTION;
            let html = texts
                .reply(Some(clinic.id), &lang, Reply::RelayPhotoCaption)
                .await?
                .render(&[
                    ("clinic_name", &clinic.name),
                    ("message", if long { "" } else { caption }),
                ]);
            let photo = Photo::FileId(file_id.clone());
            out.push(Outgoing::photo(chat, Lane::Message, photo, html));
            if !long {
                return Ok(out);
            }
            caption.as_str()
        }
    };
    let heading = texts
        .reply(Some(clinic.id), &lang, Reply::RelayFromClinic)
        .await?;
    for (i, part) in split(text, MAX_RELAYED_TEXT).iter().enumerate() {
        let html = if i == 0 && out.is_empty() {
            heading.render(&[("clinic_name", &clinic.name), ("message", part)])
        } else {
            escape(part)
        };
        out.push(Outgoing::message(chat, html));
    }
    Ok(out)
}

async fn pass_on_staff_reply(
    ctx: &Ctx<'_>,
    target: ReplyTarget,
    replied: &Message,
) -> anyhow::Result<()> {
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
    let receipts: Vec<Receipt> = messages_to_patient(ctx, &patient, &clinic, chat, &content)
        .await?
        .into_iter()
        .map(|m| deps.outbox.send(m))
        .collect();
    // What the other staff copies of the answered message will say once it is sent.
    let answered = answered_note(ctx, &clinic, replied).await?;
    // The staff member hears back once Telegram has answered for every part.
    let name = escape(&patient.name);
    let (outbox, store) = (deps.outbox.clone(), deps.store.clone());
    let (staff_chat, staff_user, replied_id) = (ctx.chat().0, ctx.user_id(), replied.id.0);
    tokio::spawn(async move {
        let total = receipts.len();
        let sent = delivered(receipts).await;
        let answer = if sent == total {
            tracing::info!(
                patient = patient.id,
                clinic = clinic.id,
                staff = staff_user,
                parts = total,
                "staff reply relayed"
            );
            if let Some(note) = answered {
                mark_answered(&outbox, &store, staff_chat, replied_id, note).await;
            }
            if total > 1 {
                format!("Sent to <b>{name}</b>, in {total} messages.")
            } else {
                format!("Sent to <b>{name}</b>.")
            }
        } else {
            tracing::warn!(
                patient = patient.id,
                sent,
                parts = total,
                "could not relay a staff reply"
            );
            if sent == 0 {
                format!(
                    "Telegram did not deliver this to <b>{name}</b>; they may have blocked the bot."
                )
            } else {
                format!(
                    "Telegram delivered only {sent} of the {total} messages to <b>{name}</b>; \
                     they may have blocked the bot."
                )
            }
        };
        outbox.send(Outgoing::answer(staff_chat, answer));
    });
    Ok(())
}

/// The answered message's text as the replier sees it, with "✅ Answered by Sam, <time>"
/// below: the other copies carry the same text. `None` for a photo (its caption cannot
/// be rewritten as text) or a message that is not a relayed patient message.
async fn answered_note(
    ctx: &Ctx<'_>,
    clinic: &Clinic,
    replied: &Message,
) -> anyhow::Result<Option<String>> {
    let Some(text) = replied.text() else {
        return Ok(None);
    };
    let entities = replied.entities().unwrap_or_default();
    let by = ctx
        .deps
        .store
        .staff_of(clinic.id)
        .await?
        .into_iter()
        .find(|s| s.user_id == ctx.user_id())
        .map(|s| s.display_name)
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| ctx.user.first_name.clone());
    let when = local_when("en", &ctx.deps.clock.now().with_timezone(&clinic.tz()));
    let body = crate::domain::entities::to_html(text, &super::templates::spans(entities));
    Ok(Some(format!(
        "{body}\n\n✅ Answered by <b>{}</b>, {when}",
        escape(&by)
    )))
}

/// Rewrites the other staff copies of the answered part so nobody answers twice.
async fn mark_answered(outbox: &Outbox, store: &Store, chat: i64, message_id: i32, note: String) {
    match store.other_relay_copies(chat, message_id).await {
        Ok(copies) => {
            for (other_chat, other_id) in copies {
                outbox.send(Outgoing::edit(other_chat, other_id, note.clone()));
            }
        }
        Err(e) => tracing::error!(chat, error = %e, "could not find the other staff copies"),
    }
}
