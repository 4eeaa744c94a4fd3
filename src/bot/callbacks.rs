//! Inline-button presses. Callback data is `<area>:<rest>` (at most 64 bytes, Telegram's
//! limit); each area's module reads its own `rest`. A press is always answered, so the
//! button's spinner stops, and a press nobody understands says the button is stale.

use std::sync::Arc;

use teloxide::prelude::*;
use teloxide::types::CallbackQuery;

use super::Deps;

/// Shown for a button whose action no longer exists.
const STALE: &str = "This button is no longer active.";

pub async fn on_callback(bot: Bot, q: CallbackQuery, deps: Arc<Deps>) -> anyhow::Result<()> {
    let data = q.data.clone().unwrap_or_default();
    let (area, rest) = data.split_once(':').unwrap_or((data.as_str(), ""));
    tracing::info!(user = q.from.id.0, area, "button pressed");
    // Each area (check-ins, template edits, bookings…) dispatches here on `area`;
    // `None` means the button is stale.
    let handled = match area {
        "tpl" => super::templates::on_button(&bot, &q, rest, &deps).await,
        "tim" => super::timing::on_button(&bot, &q, rest, &deps).await,
        _ => Ok(None),
    };
    let answer = match handled {
        Ok(Some(answer)) => answer,
        Ok(None) => STALE.to_string(),
        Err(e) => {
            tracing::error!(
                error = crate::telegram_error::describe(&e),
                area,
                "button handler failed"
            );
            super::APOLOGY.to_string()
        }
    };
    if let Err(e) = bot.answer_callback_query(q.id.clone()).text(answer).await {
        tracing::warn!(
            error = crate::telegram_error::describe_request(&e),
            "could not answer a button press"
        );
    }
    Ok(())
}
