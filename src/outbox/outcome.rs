//! What a send's result means for the reminder row.

use std::time::Duration;

use teloxide::ApiError;
use teloxide::RequestError;

use crate::store::patient_care::unreachable;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent {
        message_id: i32,
    },
    /// Telegram asked us to slow down: try again after this long.
    RetryAfter(Duration),
    /// Network trouble or a server error: try again with backoff.
    Transient(String),
    /// The patient blocked the bot, was deactivated or the chat is gone.
    Unreachable(&'static str),
    /// Telegram refused this message for good (it will refuse it again).
    Rejected(String),
}

pub fn classify<T>(result: Result<T, RequestError>, message_id: impl FnOnce(&T) -> i32) -> Outcome {
    match result {
        Ok(m) => Outcome::Sent {
            message_id: message_id(&m),
        },
        Err(RequestError::RetryAfter(s)) => Outcome::RetryAfter(s.duration()),
        Err(RequestError::Network(e)) => {
            Outcome::Transient(crate::outbox::errors::describe_reqwest(&e))
        }
        Err(RequestError::Io(e)) => Outcome::Transient(format!("io: {e}")),
        Err(RequestError::InvalidJson { .. }) => {
            Outcome::Transient("unreadable answer (a proxy or a 5xx page)".into())
        }
        Err(RequestError::MigrateToChatId(_)) => Outcome::Unreachable(unreachable::MIGRATED),
        Err(RequestError::Api(api)) => match api {
            ApiError::BotBlocked => Outcome::Unreachable(unreachable::BLOCKED),
            ApiError::UserDeactivated => Outcome::Unreachable(unreachable::DEACTIVATED),
            ApiError::ChatNotFound | ApiError::UserNotFound => {
                Outcome::Unreachable(unreachable::CHAT_NOT_FOUND)
            }
            ApiError::BotKicked
            | ApiError::BotKickedFromSupergroup
            | ApiError::BotKickedFromChannel => Outcome::Unreachable(unreachable::REMOVED),
            // Telegram's 5xx answers carry a description teloxide does not know.
            ApiError::Unknown(desc) => Outcome::Transient(format!("telegram: {desc}")),
            other => Outcome::Rejected(other.to_string()),
        },
    }
}

/// Capped exponential backoff: 5 s, 10 s, 20 s … at most 10 minutes.
pub fn backoff(attempts: i64) -> Duration {
    let exp = attempts.clamp(1, 20) as u32 - 1;
    Duration::from_secs(5u64.saturating_mul(1u64 << exp.min(12))).min(Duration::from_secs(600))
}

/// After this many failed tries a row is given up as failed.
pub const MAX_ATTEMPTS: i64 = 25;

#[cfg(test)]
mod tests {
    use super::*;
    use teloxide::types::Seconds;

    fn c(e: RequestError) -> Outcome {
        classify::<()>(Err(e), |_| 0)
    }

    #[test]
    fn classifies_telegram_answers() {
        assert_eq!(classify(Ok(7), |m| *m), Outcome::Sent { message_id: 7 });
        assert_eq!(
            c(RequestError::RetryAfter(Seconds::from_seconds(3))),
            Outcome::RetryAfter(Duration::from_secs(3))
        );
        assert_eq!(
            c(RequestError::Api(ApiError::BotBlocked)),
            Outcome::Unreachable(unreachable::BLOCKED)
        );
        assert_eq!(
            c(RequestError::Api(ApiError::ChatNotFound)),
            Outcome::Unreachable(unreachable::CHAT_NOT_FOUND)
        );
        assert!(matches!(
            c(RequestError::Api(ApiError::Unknown(
                "Internal Server Error".into()
            ))),
            Outcome::Transient(_)
        ));
        assert!(matches!(
            c(RequestError::Api(ApiError::MessageIsTooLong)),
            Outcome::Rejected(_)
        ));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(1), Duration::from_secs(5));
        assert_eq!(backoff(2), Duration::from_secs(10));
        assert_eq!(backoff(4), Duration::from_secs(40));
        assert_eq!(backoff(30), Duration::from_secs(600));
        assert_eq!(backoff(0), Duration::from_secs(5));
    }
}
