//! Describing Telegram client errors without leaking the bot token.
//!
//! reqwest's errors print the request URL, and the Bot API puts the token in the URL
//! (`/bot<token>/sendMessage`). Nothing that reaches a log or a terminal may go through
//! their `Display`; it goes through here.

use teloxide::RequestError;

/// A token-free, one-line description of any error chain; a database that cannot be
/// written is named as such, with what to check.
pub fn describe(err: &anyhow::Error) -> String {
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<RequestError>() {
            return describe_request(e);
        }
        if let Some(e) = cause.downcast_ref::<reqwest::Error>() {
            return describe_reqwest(e);
        }
        if let Some(e) = cause.downcast_ref::<sqlx::Error>()
            && crate::store::cannot_write(e)
        {
            return format!("{e}; {}", crate::store::CANNOT_WRITE_HINT);
        }
    }
    format!("{err:#}")
}

pub fn describe_request(e: &RequestError) -> String {
    match e {
        RequestError::Network(inner) => describe_reqwest(inner),
        RequestError::Api(api) => format!("Telegram: {api}"),
        RequestError::RetryAfter(s) => format!("Telegram asked to retry after {} s", s.seconds()),
        RequestError::MigrateToChatId(_) => "the chat was migrated".into(),
        RequestError::InvalidJson { .. } => "Telegram's answer was not readable".into(),
        RequestError::Io(io) => format!("i/o: {io}"),
    }
}

pub fn describe_reqwest(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "broken answer"
    } else {
        "request failed"
    };
    match e.url().and_then(|u| u.host_str().map(str::to_string)) {
        Some(host) => format!("network: {kind} ({host})"),
        None => format!("network: {kind}"),
    }
}
