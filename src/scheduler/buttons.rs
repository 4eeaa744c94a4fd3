//! Inline buttons that go out with scheduled steps.

use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};

use crate::catalog::Reply;
use crate::domain::checkin::{CheckinAnswer, button_data};
use crate::service::texts::Wording;

/// The labels `checkin_keyboard` needs.
pub const CHECKIN_LABELS: [Reply; 4] = [
    Reply::CheckinGood,
    Reply::CheckinRedness,
    Reply::CheckinInfection,
    Reply::CheckinOther,
];

/// A check-in's four answers in the patient's language, one per row (the labels are
/// long), each carrying the reminder row it answers.
pub fn checkin_keyboard(wording: &Wording<'_>, reminder_id: i64) -> InlineKeyboardMarkup {
    let label = |a: CheckinAnswer| {
        wording.label(match a {
            CheckinAnswer::Good => Reply::CheckinGood,
            CheckinAnswer::Redness => Reply::CheckinRedness,
            CheckinAnswer::Infection => Reply::CheckinInfection,
            CheckinAnswer::Other => Reply::CheckinOther,
        })
    };
    InlineKeyboardMarkup::new(CheckinAnswer::ALL.map(|a| {
        [InlineKeyboardButton::callback(
            label(a),
            button_data(reminder_id, a),
        )]
    }))
}

/// The plan step that invites the patient to book their next session.
pub const BOOK_NEXT_STEP: &str = "book-next";

/// "Please contact me to book", under the book-next step: `bn:<reminder id>`.
pub fn book_next_keyboard(wording: &Wording<'_>, reminder_id: i64) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new([[InlineKeyboardButton::callback(
        wording.label(Reply::BookNextLabel),
        format!("bn:{reminder_id}"),
    )]])
}

/// Which header `series_header` renders for a patient's series, if any.
pub fn series_header_reply((number, total): (i64, Option<i64>)) -> Option<Reply> {
    match total {
        Some(_) => Some(Reply::SeriesHeader),
        None if number > 1 => Some(Reply::SeriesHeaderOpen),
        None => None,
    }
}

/// "Session 2 of 3" above course messages, once a patient is in a series.
pub fn series_header(wording: &Wording<'_>, series: (i64, Option<i64>)) -> Option<String> {
    let which = series_header_reply(series)?;
    let (number, total) = series;
    let n = number.to_string();
    let t = total.map(|t| t.to_string()).unwrap_or_default();
    Some(wording.get(which).render(&[("number", &n), ("total", &t)]))
}
