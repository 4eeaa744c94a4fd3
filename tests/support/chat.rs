//! What a person does in a chat and waits to see, shared by the end-to-end tests.

use super::app::{TestApp, WAIT};
use super::fake_telegram::{SentMessage, TestUser};

/// `who` sends `text` and waits for an answer containing `expect`.
pub async fn says(app: &TestApp, who: &TestUser, text: &str, expect: &str) -> SentMessage {
    app.tg.send_text(who, text);
    app.tg
        .wait_for(who.id, |m| m.plain_text().contains(expect), WAIT)
        .await
}

/// The callback data of the button labelled `label` on `m`.
pub fn button(m: &SentMessage, label: &str) -> String {
    m.buttons()
        .into_iter()
        .find(|(l, _)| l == label)
        .and_then(|(_, d)| d)
        .unwrap_or_else(|| panic!("no {label} button on {m:?} (buttons: {:?})", m.buttons()))
}
