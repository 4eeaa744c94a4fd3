//! Messages to a clinic's staff about a patient: alerts and relayed messages. Shared by
//! the bot (alerts raised now) and the scheduler (re-alerts). Every send takes its paced
//! turn, and every message sent is remembered so a staff member's Telegram reply to it
//! reaches the patient.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use teloxide::prelude::*;
use teloxide::types::{
    FileId, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, MessageId, ParseMode,
};
use teloxide::utils::html::escape;
use teloxide::{ApiError, RequestError};

use crate::render::local_when;
use crate::scheduler::pacer::Pacer;
use crate::store::{Alert, Store};

/// Shown instead of a name once a patient's data is erased.
pub const ERASED: &str = "erased patient";

/// The "Handled" button of an alert: `al:<alert id>`.
pub fn handled_button(alert_id: i64) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new([[InlineKeyboardButton::callback(
        "Handled",
        format!("al:{alert_id}"),
    )]])
}

/// How an alert's kind reads for staff.
pub fn kind_label(kind: &str) -> &str {
    match crate::domain::checkin::CheckinAnswer::from_code(kind) {
        Some(a) => a.staff_label(),
        None => match kind {
            "reschedule" => "Needs to reschedule their appointment",
            "book" => "Asks to be contacted to book the next session",
            other => other,
        },
    }
}

/// A staff alert: who, what they answered, and when (clinic time).
pub fn alert_text(alert: &Alert, tz: Tz, again: bool) -> String {
    let name = alert
        .patient_name
        .as_deref()
        .filter(|n| !n.is_empty())
        .map(escape)
        .unwrap_or_else(|| ERASED.to_string());
    let head = if again {
        "⏰ <b>Still open after 2 hours</b>\n"
    } else {
        ""
    };
    format!(
        "{head}⚠️ <b>{name}</b> (patient #{pid}): {what}\n{when}\n\nReply to this message to write to the patient.",
        pid = alert.patient_id.unwrap_or_default(),
        what = escape(kind_label(&alert.kind)),
        when = local_when("en", &alert.created().with_timezone(&tz)),
    )
}

/// An alert's staff copy once someone has handled it: the alert, then who and when.
pub fn handled_alert_text(alert: &Alert, tz: Tz) -> String {
    let by = alert
        .handled_by_name
        .as_deref()
        .filter(|n| !n.is_empty())
        .map(escape)
        .unwrap_or_else(|| "someone".to_string());
    let when = alert
        .handled()
        .map(|t| local_when("en", &t.with_timezone(&tz)))
        .unwrap_or_default();
    format!(
        "{}\n\n✅ Handled by <b>{by}</b>, {when}",
        alert_text(alert, tz, false)
    )
}

/// Edits every staff message carrying `alert` to say who handled it, without the button.
///
/// Run by the press, and again by the sender if the alert was handled while its copies
/// were still going out (the press cannot see copies not yet recorded); a copy edited
/// twice gets Telegram's "message is not modified", which is ignored.
pub async fn mark_copies_handled(bot: &Bot, pacer: &Pacer, store: &Store, alert: &Alert, tz: Tz) {
    let copies = match store.alert_copies(alert.id).await {
        Ok(copies) => copies,
        Err(e) => {
            tracing::error!(alert = alert.id, error = %e, "could not find the alert's copies");
            return;
        }
    };
    let text = handled_alert_text(alert, tz);
    for (chat, message_id) in copies {
        pacer.wait_turn(chat).await;
        let edited = bot
            .edit_message_text(ChatId(chat), MessageId(message_id), text.clone())
            .parse_mode(ParseMode::Html)
            .await;
        match edited {
            Ok(_) | Err(RequestError::Api(ApiError::MessageNotModified)) => {}
            // Deleted by the staff member, or too old to edit: nothing to do.
            Err(e) => tracing::warn!(
                alert = alert.id,
                chat,
                error = crate::telegram_error::describe_request(&e),
                "could not mark an alert copy as handled"
            ),
        }
    }
}

/// One open alert as a line of `/alerts`.
pub fn alert_line(alert: &Alert, tz: Tz) -> String {
    let name = alert
        .patient_name
        .as_deref()
        .filter(|n| !n.is_empty())
        .map(escape)
        .unwrap_or_else(|| ERASED.to_string());
    format!(
        "#{id} <b>{name}</b> · {what} · {when}",
        id = alert.id,
        what = escape(kind_label(&alert.kind)),
        when = local_when("en", &alert.created().with_timezone(&tz)),
    )
}

/// What goes to staff: a text, or a photo Telegram already has (by its file id).
#[derive(Debug, Clone, Copy)]
pub enum Outgoing<'a> {
    Text(&'a str),
    Photo { file_id: &'a str, caption: &'a str },
}

/// Whom a staff message is about: replies to it go to `patient_id`.
#[derive(Debug, Clone, Copy)]
pub struct About {
    pub clinic_id: i64,
    pub patient_id: Option<i64>,
    /// The alert the message carries, if it is one.
    pub alert_id: Option<i64>,
}

/// Sends to each of `chats` in turn; returns how many got it. A staff member who
/// blocked the bot costs their copy only: logged and carried on.
#[allow(clippy::too_many_arguments)] // each is a different dependency or part of the message
pub async fn to_staff(
    bot: &Bot,
    pacer: &Pacer,
    store: &Store,
    chats: &[i64],
    about: About,
    content: Outgoing<'_>,
    markup: Option<InlineKeyboardMarkup>,
    now: DateTime<Utc>,
) -> usize {
    let mut delivered = 0;
    for &chat in chats {
        pacer.wait_turn(chat).await;
        let sent = match content {
            Outgoing::Text(html) => {
                let mut req = bot
                    .send_message(ChatId(chat), html.to_string())
                    .parse_mode(ParseMode::Html);
                if let Some(m) = &markup {
                    req = req.reply_markup(m.clone());
                }
                req.await
            }
            Outgoing::Photo { file_id, caption } => {
                let mut req = bot
                    .send_photo(
                        ChatId(chat),
                        InputFile::file_id(FileId(file_id.to_string())),
                    )
                    .caption(caption.to_string())
                    .parse_mode(ParseMode::Html);
                if let Some(m) = &markup {
                    req = req.reply_markup(m.clone());
                }
                req.await
            }
        };
        match sent {
            Ok(sent) => {
                delivered += 1;
                if let Some(patient) = about.patient_id
                    && let Err(e) = store
                        .remember_thread(
                            chat,
                            sent.id.0,
                            about.clinic_id,
                            patient,
                            about.alert_id,
                            now,
                        )
                        .await
                {
                    tracing::error!(error = %e, chat, "could not remember a staff thread");
                }
            }
            Err(e) => tracing::warn!(
                chat,
                error = crate::telegram_error::describe_request(&e),
                "could not reach a staff member"
            ),
        }
    }
    delivered
}
