//! The outbox's own requests to the Bot API, for the messages it sends.
//!
//! teloxide's request code sleeps a fixed 10 s after any 5xx before it returns the error
//! (`DELAY_ON_SERVER_ERROR` in teloxide-core, not configurable). In the outbox that pause
//! held the chat's worker: one 500 made a greeting 10 s late, or a reminder 15 s late on a
//! course compressed for a demo. Here a 5xx comes back at once and the outbox's own
//! backoff decides (1 s, 2 s for answers; the scheduler's for reminders).
//!
//! Payloads are teloxide's own types, built with its builders and serialized as it
//! serializes them; answers are read into teloxide's `ApiError` and `RequestError`, so
//! `outcome::classify` sees exactly what it saw before. The requests use the bot's own
//! HTTP client (its timeouts), URL and token. Updates, files and everything outside the
//! outbox still go through teloxide.

use serde::Serialize;
use serde::de::DeserializeOwned;
use teloxide::prelude::*;
use teloxide::types::ResponseParameters;
use teloxide::{ApiError, RequestError};

/// Where and how the outbox talks to Telegram.
#[derive(Clone)]
pub struct Wire {
    client: reqwest::Client,
    api_url: reqwest::Url,
    token: String,
}

/// The part of a sent message the outbox keeps.
#[derive(serde::Deserialize)]
pub struct Sent {
    pub message_id: i32,
}

impl Wire {
    pub fn new(bot: &Bot) -> Self {
        Wire {
            client: bot.client().clone(),
            api_url: bot.api_url(),
            token: bot.token().to_string(),
        }
    }

    /// `<api>/bot<token>/<method>`, as teloxide builds it (a path under the API URL).
    fn url(&self, method: &str) -> reqwest::Url {
        let mut url = self.api_url.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty();
            segments.push(&format!("bot{}", self.token));
            segments.push(method);
        }
        url
    }

    /// A method whose parameters are all JSON (texts, edits, file ids).
    pub async fn json<P: Serialize, R: DeserializeOwned>(
        &self,
        method: &str,
        payload: &P,
    ) -> Result<R, RequestError> {
        let body = serde_json::to_vec(payload).map_err(|e| invalid(e, ""))?;
        let response = self
            .client
            .post(self.url(method))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(network)?;
        answer(response).await
    }

    /// A method that uploads a file made here (the QR picture, a course file).
    pub async fn multipart<R: DeserializeOwned>(
        &self,
        method: &str,
        form: reqwest::multipart::Form,
    ) -> Result<R, RequestError> {
        let response = self
            .client
            .post(self.url(method))
            .multipart(form)
            .send()
            .await
            .map_err(network)?;
        answer(response).await
    }
}

/// The text fields of an upload: chat, HTML caption and buttons, as teloxide sends them.
pub fn upload_form(
    chat: i64,
    caption: &str,
    buttons: Option<&teloxide::types::InlineKeyboardMarkup>,
) -> reqwest::multipart::Form {
    let mut form = reqwest::multipart::Form::new()
        .text("chat_id", chat.to_string())
        .text("caption", caption.to_string())
        .text("parse_mode", "HTML");
    if let Some(b) = buttons
        && let Ok(json) = serde_json::to_string(b)
    {
        form = form.text("reply_markup", json);
    }
    form
}

/// A file part of an upload.
pub fn file_part(bytes: Vec<u8>, file_name: &str) -> reqwest::multipart::Part {
    reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_string())
}

/// The error without the request URL, which carries the token.
fn network(e: reqwest::Error) -> RequestError {
    RequestError::from(e.without_url())
}

fn invalid(e: serde_json::Error, raw: &str) -> RequestError {
    RequestError::InvalidJson {
        source: std::sync::Arc::new(e),
        raw: raw.into(),
    }
}

#[derive(serde::Deserialize)]
struct Answer<R> {
    ok: bool,
    result: Option<R>,
    description: Option<String>,
    parameters: Option<ResponseParameters>,
}

/// Telegram's answer, with no pause after a 5xx: an unreadable body (a proxy's error
/// page) is `InvalidJson`, a readable error Telegram's own description.
async fn answer<R: DeserializeOwned>(response: reqwest::Response) -> Result<R, RequestError> {
    let text = response.text().await.map_err(network)?;
    read_answer(&text)
}

fn read_answer<R: DeserializeOwned>(text: &str) -> Result<R, RequestError> {
    let answer: Answer<R> = serde_json::from_str(text).map_err(|e| invalid(e, text))?;
    match answer {
        Answer {
            ok: true,
            result: Some(result),
            ..
        } => Ok(result),
        Answer {
            parameters: Some(ResponseParameters::RetryAfter(s)),
            ..
        } => Err(RequestError::RetryAfter(s)),
        Answer {
            parameters: Some(ResponseParameters::MigrateToChatId(to)),
            ..
        } => Err(RequestError::MigrateToChatId(to)),
        Answer { description, .. } => {
            let description = description.unwrap_or_default();
            // teloxide's own mapping of Telegram's descriptions, unknown ones kept.
            let api = serde_json::from_value(serde_json::Value::String(description.clone()))
                .unwrap_or(ApiError::Unknown(description));
            Err(RequestError::Api(api))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use teloxide::types::Seconds;

    #[test]
    fn reads_telegram_answers_as_teloxide_does() {
        let sent: Sent = read_answer(r#"{"ok":true,"result":{"message_id":7,"chat":{}}}"#).unwrap();
        assert_eq!(sent.message_id, 7);
        let left: bool = read_answer(r#"{"ok":true,"result":true}"#).unwrap();
        assert!(left);
        let r = read_answer::<Sent>(
            r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 3","parameters":{"retry_after":3}}"#,
        );
        assert!(matches!(r, Err(RequestError::RetryAfter(s)) if s == Seconds::from_seconds(3)));
        let r = read_answer::<Sent>(
            r#"{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}"#,
        );
        assert!(matches!(r, Err(RequestError::Api(ApiError::BotBlocked))));
        let r = read_answer::<Sent>(
            r#"{"ok":false,"error_code":500,"description":"Internal Server Error"}"#,
        );
        assert!(
            matches!(r, Err(RequestError::Api(ApiError::Unknown(d))) if d == "Internal Server Error")
        );
        let r = read_answer::<Sent>("<html>502 Bad Gateway</html>");
        assert!(matches!(r, Err(RequestError::InvalidJson { .. })));
    }

    #[test]
    fn urls_are_built_as_teloxide_builds_them() {
        let bot = Bot::new("123:abc").set_api_url("http://127.0.0.1:9/tg".parse().unwrap());
        assert_eq!(
            Wire::new(&bot).url("sendMessage").as_str(),
            "http://127.0.0.1:9/tg/bot123:abc/sendMessage"
        );
        let bot = Bot::new("123:abc").set_api_url("http://127.0.0.1:9".parse().unwrap());
        assert_eq!(
            Wire::new(&bot).url("sendMessage").as_str(),
            "http://127.0.0.1:9/bot123:abc/sendMessage"
        );
    }
}
