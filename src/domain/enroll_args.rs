//! Parsing `/enroll <patient name> [[YYYY-MM-DD] HH:MM]`.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;

use super::time::{parse_clock, resolve_local};

/// The longest patient name accepted: enough for real names, short enough for buttons.
pub const MAX_NAME_CHARS: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollArgs {
    pub name: String,
    pub session_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnrollArgsError {
    #[error("Please add the patient's name: /enroll Anna Berg [14:30]")]
    MissingName,
    #[error("That name is too long (at most {MAX_NAME_CHARS} characters).")]
    NameTooLong,
    #[error("The name holds control characters; please type it plainly.")]
    BadName,
    #[error("`{0}` is not a date like 2026-11-23.")]
    BadDate(String),
    #[error("The session time is more than a day in the future; enroll after the session.")]
    InFuture,
    #[error("The session was more than 30 days ago; please check the date.")]
    TooOld,
}

/// Reads the arguments; the session time defaults to `now` and is read in `tz`.
pub fn parse_enroll(args: &str, now: DateTime<Utc>, tz: Tz) -> Result<EnrollArgs, EnrollArgsError> {
    let mut words: Vec<&str> = args.split_whitespace().collect();
    let mut time = None;
    let mut date = None;
    if let Some(t) = words.last().and_then(|w| parse_clock(w)) {
        time = Some(t);
        words.pop();
        if let Some(last) = words.last()
            && looks_like_date(last)
        {
            date = Some(
                NaiveDate::parse_from_str(last, "%Y-%m-%d")
                    .map_err(|_| EnrollArgsError::BadDate(last.to_string()))?,
            );
            words.pop();
        }
    }
    let name = words.join(" ");
    if name.is_empty() {
        return Err(EnrollArgsError::MissingName);
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(EnrollArgsError::NameTooLong);
    }
    if name.chars().any(char::is_control) {
        return Err(EnrollArgsError::BadName);
    }
    let session_at = match time {
        None => now,
        Some(t) => {
            let day = date.unwrap_or_else(|| now.with_timezone(&tz).date_naive());
            resolve_local(tz, day.and_time(t))
        }
    };
    if session_at > now + Duration::days(1) {
        return Err(EnrollArgsError::InFuture);
    }
    if session_at < now - Duration::days(30) {
        return Err(EnrollArgsError::TooOld);
    }
    Ok(EnrollArgs { name, session_at })
}

fn looks_like_date(word: &str) -> bool {
    word.len() >= 8
        && word.chars().filter(|c| *c == '-').count() == 2
        && word.starts_with(|c: char| c.is_ascii_digit())
}

/// A patient's first name, for greetings.
pub fn first_name(full: &str) -> &str {
    full.split_whitespace().next().unwrap_or(full)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Berlin;
    use proptest::prelude::*;

    fn now() -> DateTime<Utc> {
        "2026-11-23T15:00:00Z".parse().unwrap()
    }

    fn local(a: &EnrollArgs) -> String {
        a.session_at
            .with_timezone(&Berlin)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    }

    #[test]
    fn name_only_means_now() {
        let a = parse_enroll("Anna Berg", now(), Berlin).unwrap();
        assert_eq!(a.name, "Anna Berg");
        assert_eq!(a.session_at, now());
    }

    #[test]
    fn time_and_date_are_local() {
        let a = parse_enroll("Anna Berg 14:30", now(), Berlin).unwrap();
        assert_eq!(
            (a.name.as_str(), local(&a).as_str()),
            ("Anna Berg", "2026-11-23 14:30")
        );
        let a = parse_enroll("Anna Berg 2026-11-22 09:05", now(), Berlin).unwrap();
        assert_eq!(local(&a), "2026-11-22 09:05");
    }

    #[test]
    fn hostile_names_are_kept_as_typed() {
        let a = parse_enroll("<b>Zoë & \"Jo\" 🌸</b>", now(), Berlin).unwrap();
        assert_eq!(a.name, "<b>Zoë & \"Jo\" 🌸</b>");
    }

    #[test]
    fn bad_arguments_are_explained() {
        assert_eq!(
            parse_enroll("", now(), Berlin),
            Err(EnrollArgsError::MissingName)
        );
        assert_eq!(
            parse_enroll("14:30", now(), Berlin),
            Err(EnrollArgsError::MissingName)
        );
        assert_eq!(
            parse_enroll(&"A".repeat(65), now(), Berlin),
            Err(EnrollArgsError::NameTooLong)
        );
        assert!(matches!(
            parse_enroll("Anna 2026-13-45 10:00", now(), Berlin),
            Err(EnrollArgsError::BadDate(_))
        ));
        assert_eq!(
            parse_enroll("Anna 2026-12-24 10:00", now(), Berlin),
            Err(EnrollArgsError::InFuture)
        );
        assert_eq!(
            parse_enroll("Anna 2025-01-01 10:00", now(), Berlin),
            Err(EnrollArgsError::TooOld)
        );
    }

    #[test]
    fn first_names() {
        assert_eq!(first_name("Anna Berg"), "Anna");
        assert_eq!(first_name("Cher"), "Cher");
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,100}") {
            let _ = parse_enroll(&s, now(), Berlin);
        }
    }
}
