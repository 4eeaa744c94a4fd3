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
