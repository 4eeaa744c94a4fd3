//! Two-way messages: a patient's text or photo goes to every staff member of their
//! clinic; a staff member's Telegram reply to it (or to an alert) goes back to the patient.
//! A text too long for one Telegram message goes as several, never cut; once one staff
//! member has answered a patient's message, the other staff copies say who and when.

use teloxide::types::{CallbackQuery, Message};
use teloxide::utils::html::escape;

use super::{Ctx, Deps};
use crate::catalog::Reply;
use crate::domain::relay::{MAX_RELAYED_CAPTION, MAX_RELAYED_TEXT, split};
use crate::outbox::staff_alerts::{delivered, to_staff};
use crate::outbox::{Content as Sent, Lane, Outbox, Outgoing, Photo, Receipt, Thread};
use crate::render::local_when;
use crate::service::relay::{ReplyTarget, reply_target};
use crate::store::{Clinic, Patient, RelayPart, Store};

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
    // A photo answering a photo request is a check-in (it names its clinic itself).
    if matches!(content, Content::Photo { .. }) && super::photos::checkin_photo(ctx).await? {
        return Ok(());
    }
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
    let relay_of = i64::from(ctx.msg.id.0);
    relay_to_clinic(
        ctx.deps,
        ctx.chat().0,
        relay_of,
        &ctx.lang(),
        p,
        content,
        None,
    )
    .await
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
    // The patient's message id is not kept while it waits: the waiting row's id (as a
    // negative number, never a Telegram message id) ties the staff copies together.
    relay_to_clinic(deps, chat, -choice, &lang, &p, content, None).await?;
    Ok(Some(String::new()))
}

/// Passes a photo check-in (patient `p`'s photo `file_id`, with its caption, in answer
/// to a photo request on course day `day`) to every staff member of their clinic, as a
/// relayed photo they can answer by replying. The patient was thanked already.
pub(super) async fn photo_checkin_to_staff(
    deps: &Deps,
    chat: i64,
    relay_of: i64,
    p: &Patient,
    file_id: String,
    caption: String,
    day: i64,
) -> anyhow::Result<()> {
    let content = Content::Photo { file_id, caption };
    relay_to_clinic(deps, chat, relay_of, "", p, content, Some(day)).await
}

/// Passes `content` from patient `p` (writing from `chat`) to every staff member of
/// their clinic; the patient hears back once the copies are settled. A photo check-in
/// (`checkin_day`, the day of the course) is headed with its day, and the patient
/// hears nothing more (they were thanked when it was kept).
async fn relay_to_clinic(
    deps: &Deps,
    chat: i64,
    relay_of: i64,
    lang: &str,
    p: &Patient,
    content: Content,
    checkin_day: Option<i64>,
) -> anyhow::Result<()> {
    let Some(clinic) = deps.store.clinic(p.clinic_id).await? else {
        return Ok(());
    };
    let staff = deps.store.staff_chats(clinic.id, None).await?;
    let who = format!("<b>{}</b> (patient #{})", escape(&p.name), p.id);
    let thread = |part: i64, photo: bool| Thread {
        clinic_id: clinic.id,
        patient_id: p.id,
        alert_id: None,
        relay: Some(RelayPart {
            of: relay_of,
            part,
            photo,
        }),
    };
    let mut receipts = Vec::new();
    let kind = match &content {
        Content::Text(text) => {
            for (i, html) in text_parts_for_staff(&who, text).into_iter().enumerate() {
                let t = thread(i as i64, false);
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
            let caption_html = if let Some(day) = checkin_day {
                checkin_caption(&who, p.id, day, caption, long)
            } else if caption.is_empty() {
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
            receipts.extend(to_staff(
                &deps.outbox,
                &staff,
                photo,
                None,
                Some(thread(0, true)),
            ));
            if long {
                for (i, html) in text_parts_for_staff(&who, caption).into_iter().enumerate() {
                    let t = thread(i as i64 + 1, false);
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
    if checkin_day.is_some() {
        let (patient, clinic_id, staff_n) = (p.id, clinic.id, staff.len());
        tokio::spawn(async move {
            let delivered = delivered(receipts).await;
            tracing::info!(
                patient,
                clinic = clinic_id,
                staff = staff_n,
                delivered,
                "photo check-in passed to staff"
            );
        });
        return Ok(());
    }
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

/// The caption of a photo check-in's staff copy: the day of the course first, then who,
/// their words (unless too long for a caption: they follow as text), and how to answer.
fn checkin_caption(who: &str, patient_id: i64, day: i64, caption: &str, long: bool) -> String {
    let day = crate::domain::photos::day_label(day);
    let words = if caption.is_empty() {
        String::new()
    } else if long {
        "\nTheir words follow.".to_string()
    } else {
        format!("\n{}", escape(caption))
    };
    format!(
        "📷 <b>{day} photo check-in</b> · {who}{words}\n{REPLY_HINT} All their photos: /photos #{patient_id}"
    )
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
