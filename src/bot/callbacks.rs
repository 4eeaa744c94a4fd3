//! Inline-button presses. Callback data is `<area>:<rest>` (at most 64 bytes, Telegram's
//! limit); each area's module reads its own `rest`. A press is always answered, so the
//! button's spinner stops, and a press nobody understands says the button is stale.

use std::sync::Arc;

use teloxide::types::CallbackQuery;

use super::Deps;

/// Shown for a button whose action no longer exists.
const STALE: &str = "This button is no longer active.";

pub async fn on_callback(q: CallbackQuery, deps: Arc<Deps>) -> anyhow::Result<()> {
    let data = q.data.clone().unwrap_or_default();
    let (area, rest) = data.split_once(':').unwrap_or((data.as_str(), ""));
    tracing::info!(user = q.from.id.0, area, "button pressed");
    // The presser's chat hears the answer to the press before anything else.
    let _answer_first = deps.outbox.reserve(q.from.id.0 as i64);
    // Each area (check-ins, template edits, bookings…) dispatches here on `area`.
    // `Ok(None)` means the press matched nothing live: the button is stale.
    let handled = match area {
        "tpl" => super::templates::on_button(&q, rest, &deps).await,
        "tim" => super::timing::on_button(&q, rest, &deps).await,
        "crs" => super::courses::on_button(&q, rest, &deps).await,
        "cf" => super::course_files::on_button(&q, rest, &deps).await,
        "gap" => super::gap::on_button(&q, rest, &deps).await,
        "ci" => super::checkin::on_checkin_button(&deps, &q, rest).await,
        "al" => super::checkin::on_handled_button(&deps, &q, rest).await,
        "bk" => super::booking::on_booking_button(&deps, &q, rest).await,
        "bn" => super::series::on_book_next_button(&deps, &q, rest).await,
        "lang" => super::controls::on_language_button(&deps, &q, rest).await,
        "del" => super::controls::on_delete_button(&deps, &q, rest).await,
        "rs" => super::controls::on_resume_button(&deps, &q, rest).await,
        "rc" => super::relay::on_clinic_button(&deps, &q, rest).await,
        "pl" => super::patient_list::on_page_button(&deps, &q, rest).await,
        _ => Ok(None),
    };
    let answer = match handled {
        Ok(Some(text)) => text,
        Ok(None) => STALE.to_string(),
        Err(e) => {
            tracing::error!(
                user = q.from.id.0,
                area,
                error = crate::outbox::errors::describe(&e),
                "a button press could not be handled"
            );
            super::APOLOGY.to_string()
        }
    };
    deps.outbox.answer_button(q.id.clone(), Some(answer));
    Ok(())
}
