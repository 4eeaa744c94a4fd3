//! Messages to a clinic's staff about a patient: alerts and relayed messages. Shared by
//! the bot (alerts raised now) and the scheduler (re-alerts). They leave through the
//! outbox, and every one sent is remembered so a staff member's Telegram reply to it
//! reaches the patient.

use chrono_tz::Tz;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};
use teloxide::utils::html::escape;

use super::{Content, Delivery, Lane, Outbox, Outgoing, Receipt, Thread};
use crate::render::local_when;
use crate::store::{Alert, RelayCopy, Store};

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

/// The alert's patient as staff see it: the escaped name, or "erased patient".
fn patient_name(alert: &Alert) -> String {
    alert
        .patient_name
        .as_deref()
        .filter(|n| !n.is_empty())
        .map(escape)
        .unwrap_or_else(|| ERASED.to_string())
}

/// A staff alert: who, what they answered, and when (clinic time).
pub fn alert_text(alert: &Alert, tz: Tz, again: bool) -> String {
    let name = patient_name(alert);
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
/// twice gets Telegram's "message is not modified", which the outbox takes as done.
pub async fn mark_copies_handled(outbox: &Outbox, store: &Store, alert: &Alert, tz: Tz) {
    let copies = match store.alert_copies(alert.id).await {
        Ok(copies) => copies,
        Err(e) => {
            tracing::error!(alert = alert.id, error = %e, "could not find the alert's copies");
            return;
        }
    };
    let text = handled_alert_text(alert, tz);
    for (chat, message_id) in copies {
        outbox.send(Outgoing::edit(chat, message_id, text.clone()));
    }
}

/// Edits every staff copy of `alert` as it reads now: after the patient erased their
/// data, "erased patient" instead of their name (an open alert keeps its button).
pub async fn rewrite_copies(outbox: &Outbox, store: &Store, alert: &Alert, tz: Tz) {
    let copies = match store.alert_copies(alert.id).await {
        Ok(copies) => copies,
        Err(e) => {
            tracing::error!(alert = alert.id, error = %e, "could not find the alert's copies");
            return;
        }
    };
    for (chat, message_id) in copies {
        let edit = if alert.handled().is_some() {
            Outgoing::edit(chat, message_id, handled_alert_text(alert, tz))
        } else {
            Outgoing::edit(chat, message_id, alert_text(alert, tz, false))
                .with_buttons(handled_button(alert.id))
        };
        outbox.send(edit);
    }
}

/// What a staff copy of an erased patient's relayed message says instead of the name
/// and the words: only the record's number, so staff can still tell the threads apart.
pub fn erased_relay_text(patient_id: i64, photo: bool) -> String {
    if photo {
        format!("📷 A photo from an {ERASED} (#{patient_id}).")
    } else {
        format!("💬 A message from an {ERASED} (#{patient_id}).")
    }
}

/// Edits every staff copy of an erased patient's relayed messages (`(record id, copy)`)
/// to the neutral line: text copies by their text, photos by their caption. They wait
/// their turn behind what is queued for each staff chat; a copy Telegram no longer lets
/// us edit (too old, deleted) is only logged.
pub fn rewrite_erased_relays(outbox: &Outbox, copies: &[(i64, RelayCopy)]) {
    for &(patient_id, copy) in copies {
        let text = erased_relay_text(patient_id, copy.photo);
        outbox.send(if copy.photo {
            Outgoing::edit_caption(copy.chat_id, copy.message_id, text)
        } else {
            Outgoing::edit(copy.chat_id, copy.message_id, text)
        });
    }
}

/// One open alert as a line of `/alerts`.
pub fn alert_line(alert: &Alert, tz: Tz) -> String {
    let name = patient_name(alert);
    format!(
        "#{id} <b>{name}</b> · {what} · {when}",
        id = alert.id,
        what = escape(kind_label(&alert.kind)),
        when = local_when("en", &alert.created().with_timezone(&tz)),
    )
}

/// Queues `content` (with `buttons`) for each staff chat, remembered as a thread about
/// the patient when there is one. A staff member who blocked the bot costs their copy
/// only. The receipts tell who got it (`delivered`).
pub fn to_staff(
    outbox: &Outbox,
    chats: &[i64],
    content: Content,
    buttons: Option<InlineKeyboardMarkup>,
    thread: Option<Thread>,
) -> Vec<Receipt> {
    chats
        .iter()
        .map(|&chat| {
            outbox.send(Outgoing {
                chat,
                content: content.clone(),
                buttons: buttons.clone(),
                lane: Lane::Message,
                thread,
            })
        })
        .collect()
}

/// How many of `receipts` ended in a sent message.
pub async fn delivered(receipts: Vec<Receipt>) -> usize {
    let mut n = 0;
    for r in receipts {
        if matches!(r.delivery().await, Delivery::Sent { .. }) {
            n += 1;
        }
    }
    n
}
