//! What the stand-in's users see: people, the bot's sends, the chats' messages, faults.

use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use super::html::{parse_html, strip_tags_lenient};
use super::http::is_html;

#[derive(Clone, Debug)]
pub struct Person {
    pub id: i64,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub language_code: Option<String>,
}

impl Person {
    pub fn new(id: i64, first_name: &str) -> Self {
        Person {
            id,
            first_name: first_name.to_string(),
            last_name: None,
            username: None,
            language_code: None,
        }
    }

    pub fn lang(mut self, code: &str) -> Self {
        self.language_code = Some(code.to_string());
        self
    }

    pub fn last_name(mut self, last_name: &str) -> Self {
        self.last_name = Some(last_name.to_string());
        self
    }

    pub fn username(mut self, username: &str) -> Self {
        self.username = Some(username.to_string());
        self
    }

    pub(super) fn user_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id));
        m.insert("is_bot".into(), json!(false));
        m.insert("first_name".into(), json!(self.first_name));
        if let Some(v) = &self.last_name {
            m.insert("last_name".into(), json!(v));
        }
        if let Some(v) = &self.username {
            m.insert("username".into(), json!(v));
        }
        if let Some(v) = &self.language_code {
            m.insert("language_code".into(), json!(v));
        }
        Value::Object(m)
    }

    pub(super) fn private_chat_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id));
        m.insert("type".into(), json!("private"));
        m.insert("first_name".into(), json!(self.first_name));
        if let Some(v) = &self.last_name {
            m.insert("last_name".into(), json!(v));
        }
        if let Some(v) = &self.username {
            m.insert("username".into(), json!(v));
        }
        Value::Object(m)
    }
}

/// The webhook the bot asked for with setWebhook (until deleteWebhook).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Webhook {
    pub url: String,
    /// What Telegram would send in `X-Telegram-Bot-Api-Secret-Token`.
    pub secret_token: Option<String>,
}

/// One successful outgoing call of the bot (a send or an edit).
#[derive(Clone, Debug)]
pub struct SentMessage {
    pub message_id: i32,
    pub chat_id: i64,
    /// "sendMessage", "sendPhoto", "sendDocument", "sendMediaGroup" (one per photo of the
    /// album), "editMessageText", "editMessageCaption", "editMessageReplyMarkup".
    pub method: String,
    /// Text or caption exactly as sent (HTML source when parse_mode is HTML).
    pub text: String,
    pub parse_mode: Option<String>,
    /// The reply_markup as sent (any keyboard kind), None if absent.
    pub reply_markup: Option<Value>,
    /// Size of the uploaded photo, for multipart uploads.
    pub photo_bytes: Option<usize>,
    /// The file_id a photo was sent by (re-sending a file Telegram already has).
    pub photo_file_id: Option<String>,
    /// The album a photo belongs to (sendMediaGroup): the same for all its photos.
    pub media_group_id: Option<String>,
    pub at: Instant,
}

impl SentMessage {
    /// The visible text: with parse_mode HTML the tags are stripped and the
    /// entities decoded (exactly as Telegram would show it); without a
    /// parse_mode the text is literal and returned unchanged.
    pub fn plain_text(&self) -> String {
        if is_html(self.parse_mode.as_deref()) {
            match parse_html(&self.text) {
                Ok(p) => p.text,
                Err(_) => strip_tags_lenient(&self.text),
            }
        } else {
            self.text.clone()
        }
    }

    /// callback_data of all inline keyboard buttons, row by row.
    pub fn button_data(&self) -> Vec<String> {
        self.buttons().into_iter().filter_map(|(_, d)| d).collect()
    }

    /// (text, callback_data) of all inline keyboard buttons, row by row.
    pub fn buttons(&self) -> Vec<(String, Option<String>)> {
        let mut out = Vec::new();
        if let Some(rows) = self
            .reply_markup
            .as_ref()
            .and_then(|m| m.get("inline_keyboard"))
            .and_then(Value::as_array)
        {
            for row in rows {
                for b in row.as_array().map(Vec::as_slice).unwrap_or_default() {
                    out.push((
                        b.get("text")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string(),
                        b.get("callback_data")
                            .and_then(Value::as_str)
                            .map(str::to_string),
                    ));
                }
            }
        }
        out
    }
}

#[derive(Clone, Debug)]
pub enum Fault {
    /// HTTP 500 `{"ok":false,"error_code":500,"description":"Internal Server Error"}`.
    /// NB: teloxide sleeps 10 s after any 5xx before returning the error.
    ServerError,
    /// HTTP 502 with a non-JSON html body (teloxide: RequestError::InvalidJson, after 10 s).
    BadGateway,
    /// HTTP 429 with parameters.retry_after = N (teloxide: RequestError::RetryAfter).
    RetryAfter(u32),
    /// Answer correctly, but only after the delay.
    Slow(Duration),
}

/// One message of a chat as it stands now (edits applied), from a person or the bot.
#[derive(Clone, Debug)]
pub struct ChatMessage {
    pub message_id: i32,
    pub chat_id: i64,
    pub from_bot: bool,
    /// The write number of its last change.
    pub seq: u64,
    /// The Bot API `Message` object: text or caption with entities, reply_markup,
    /// reply_to_message, edit_date.
    pub json: Value,
    pub has_photo: bool,
}
