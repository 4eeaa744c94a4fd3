//! Booking messages as the patient receives them: the clinic's wording (or the
//! default), the appointment's local time, and for the last two reminders the answer
//! buttons.

use chrono_tz::Tz;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};

use crate::catalog::Reply;
use crate::domain::booking::BookingStep;
use crate::render::local_when;
use crate::service::texts::Wording;
use crate::store::Booking;

/// The replies `render` needs for `step`, to fetch beforehand.
pub fn replies(step: BookingStep) -> Vec<Reply> {
    let mut which = vec![match step {
        BookingStep::Cancelled => Reply::BookingCancelled,
        BookingStep::Confirm => Reply::BookingConfirmed,
        BookingStep::Prep => Reply::BookingPrep,
        BookingStep::DayBefore => Reply::BookingDayBefore,
        BookingStep::Soon => Reply::BookingSoon,
    }];
    if step.asks_to_confirm() {
        which.extend([Reply::BookingComingLabel, Reply::BookingRescheduleLabel]);
    }
    which
}

/// Renders a booking step, or `None` when the booking no longer calls for it.
pub fn render(
    wording: &Wording<'_>,
    lang: &str,
    step: BookingStep,
    booking: Option<&Booking>,
    clinic_name: &str,
    tz: Tz,
) -> Option<(String, Option<InlineKeyboardMarkup>)> {
    let booking = booking?;
    let which = match step {
        BookingStep::Cancelled if !booking.is_booked() => Reply::BookingCancelled,
        BookingStep::Cancelled => return None,
        _ if !booking.is_booked() => return None,
        BookingStep::Confirm => Reply::BookingConfirmed,
        BookingStep::Prep => Reply::BookingPrep,
        BookingStep::DayBefore => Reply::BookingDayBefore,
        BookingStep::Soon => Reply::BookingSoon,
    };
    let when = local_when(lang, &booking.starts().with_timezone(&tz));
    let text = wording
        .get(which)
        .render(&[("clinic_name", clinic_name), ("when", &when)]);
    let buttons = step.asks_to_confirm().then(|| {
        let label = |r| wording.label(r);
        InlineKeyboardMarkup::new([
            [InlineKeyboardButton::callback(
                label(Reply::BookingComingLabel),
                format!("bk:{}:yes", booking.id),
            )],
            [InlineKeyboardButton::callback(
                label(Reply::BookingRescheduleLabel),
                format!("bk:{}:re", booking.id),
            )],
        ])
    });
    Some((text, buttons))
}
