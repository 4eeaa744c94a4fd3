//! Inline buttons that go out with scheduled steps.

use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};

use crate::catalog::{Catalog, Reply};
use crate::domain::checkin::{CheckinAnswer, button_data};

/// A check-in's four answers in the patient's language, one per row (the labels are
/// long), each carrying the reminder row it answers.
pub fn checkin_keyboard(catalog: &Catalog, lang: &str, reminder_id: i64) -> InlineKeyboardMarkup {
    let label = |a: CheckinAnswer| {
        let which = match a {
            CheckinAnswer::Good => Reply::CheckinGood,
            CheckinAnswer::Redness => Reply::CheckinRedness,
            CheckinAnswer::Infection => Reply::CheckinInfection,
            CheckinAnswer::Other => Reply::CheckinOther,
        };
        crate::domain::html::to_plain(&catalog.reply(lang, which).render(&[]))
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
pub fn book_next_keyboard(catalog: &Catalog, lang: &str, reminder_id: i64) -> InlineKeyboardMarkup {
    let label =
        crate::domain::html::to_plain(&catalog.reply(lang, Reply::BookNextLabel).render(&[]));
    InlineKeyboardMarkup::new([[InlineKeyboardButton::callback(
        label,
        format!("bn:{reminder_id}"),
    )]])
}

/// "Session 2 of 3" above course messages, once a patient is in a series.
pub fn series_header(
    catalog: &Catalog,
    lang: &str,
    (number, total): (i64, Option<i64>),
) -> Option<String> {
    let n = number.to_string();
    match total {
        Some(t) => {
            let t = t.to_string();
            Some(
                catalog
                    .reply(lang, Reply::SeriesHeader)
                    .render(&[("number", &n), ("total", &t)]),
            )
        }
        None if number > 1 => Some(
            catalog
                .reply(lang, Reply::SeriesHeaderOpen)
                .render(&[("number", &n)]),
        ),
        None => None,
    }
}
