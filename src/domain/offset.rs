//! Step offsets: how long after the session a step is due.
//!
//! People read "3d" as "three days later at the same clock time", not as 72 hours:
//! across a DST change those differ by an hour. So whole days and weeks are kept apart
//! from hours, minutes and seconds, which are elapsed time.

use std::fmt;

use chrono::Duration;

/// A parsed `after` value: calendar days first, then elapsed time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Offset {
    /// Calendar days in the clinic's zone (weeks count as seven).
    pub days: i64,
    /// Elapsed time added after the calendar days.
    pub elapsed: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OffsetError {
    #[error("empty duration")]
    Empty,
    #[error("`{0}` is not a duration (use e.g. 0s, 90m, 24h, 3d, 4w)")]
    Malformed(String),
    #[error("`{0}`: months and years are ambiguous, use days or weeks")]
    Ambiguous(String),
    #[error("`{0}` is too long (at most 366 days)")]
    TooLong(String),
}

impl Offset {
    /// True when the offset is whole calendar days (or zero): an `at` anchor may be used.
    pub fn is_whole_days(&self) -> bool {
        self.elapsed.is_zero()
    }

    /// The length if every day had 24 hours; for ordering and display only.
    pub fn nominal(&self) -> Duration {
        Duration::days(self.days) + self.elapsed
    }
}

/// Parses humantime syntax (`0s`, `500ms`, `90m`, `24h`, `3d`, `4w`, `1d 12h`).
pub fn parse_offset(text: &str) -> Result<Offset, OffsetError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(OffsetError::Empty);
    }
    // humantime validates the whole string; we then split it into its parts to
    // tell calendar units from elapsed ones.
    humantime::parse_duration(trimmed).map_err(|_| OffsetError::Malformed(trimmed.into()))?;
    let mut offset = Offset::default();
    for part in parts(trimmed) {
        let (number, unit) = part;
        let n: i64 = number
            .parse()
            .map_err(|_| OffsetError::Malformed(trimmed.into()))?;
        match unit {
            "d" | "day" | "days" => offset.days += n,
            "w" | "week" | "weeks" => offset.days += n * 7,
            "M" | "month" | "months" | "y" | "year" | "years" => {
                return Err(OffsetError::Ambiguous(trimmed.into()));
            }
            _ => {
                let std = humantime::parse_duration(&format!("{number}{unit}"))
                    .map_err(|_| OffsetError::Malformed(trimmed.into()))?;
                let elapsed =
                    Duration::from_std(std).map_err(|_| OffsetError::TooLong(trimmed.into()))?;
                offset.elapsed += elapsed;
            }
        }
    }
    if offset.nominal() > Duration::days(366) {
        return Err(OffsetError::TooLong(trimmed.into()));
    }
    Ok(offset)
}

/// Parses an `expires` value: plain elapsed time.
pub fn parse_elapsed(text: &str) -> Result<Duration, OffsetError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(OffsetError::Empty);
    }
    let std =
        humantime::parse_duration(trimmed).map_err(|_| OffsetError::Malformed(trimmed.into()))?;
    let d = Duration::from_std(std).map_err(|_| OffsetError::TooLong(trimmed.into()))?;
    if d > Duration::days(366) {
        return Err(OffsetError::TooLong(trimmed.into()));
    }
    Ok(d)
}

/// Splits "1d12h 30m" into ("1","d"), ("12","h"), ("30","m").
fn parts(text: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (number, tail) = rest.split_at(digits);
        let tail = tail.trim_start();
        let letters = tail
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(letters);
        out.push((number, unit));
        rest = tail.trim_start();
    }
    out
}

impl fmt::Display for Offset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut wrote = false;
        if self.days != 0 {
            if self.days % 7 == 0 {
                write!(f, "{}w", self.days / 7)?;
            } else {
                write!(f, "{}d", self.days)?;
            }
            wrote = true;
        }
        if !self.elapsed.is_zero() {
            if wrote {
                f.write_str(" ")?;
            }
            let std = self.elapsed.to_std().unwrap_or_default();
            write!(f, "{}", humantime::format_duration(std))?;
            wrote = true;
        }
        if !wrote {
            f.write_str("0s")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn days_and_weeks_are_calendar_units() {
        assert_eq!(parse_offset("3d").unwrap().days, 3);
        assert_eq!(parse_offset("4w").unwrap().days, 28);
        assert!(parse_offset("3d").unwrap().elapsed.is_zero());
    }

    #[test]
    fn hours_minutes_seconds_are_elapsed() {
        let o = parse_offset("24h").unwrap();
        assert_eq!(o.days, 0);
        assert_eq!(o.elapsed, Duration::hours(24));
        assert_eq!(
            parse_offset("500ms").unwrap().elapsed,
            Duration::milliseconds(500)
        );
        assert_eq!(parse_offset("90m").unwrap().elapsed, Duration::minutes(90));
    }

    #[test]
    fn mixed_units_split() {
        let o = parse_offset("1d 12h").unwrap();
        assert_eq!((o.days, o.elapsed), (1, Duration::hours(12)));
        let o = parse_offset("1d12h").unwrap();
        assert_eq!((o.days, o.elapsed), (1, Duration::hours(12)));
    }

    #[test]
    fn zero_is_allowed() {
        assert_eq!(parse_offset("0s").unwrap(), Offset::default());
        assert!(parse_offset("0d").unwrap().is_whole_days());
    }

    #[test]
    fn bad_input_is_refused() {
        assert_eq!(parse_offset(""), Err(OffsetError::Empty));
        assert!(matches!(
            parse_offset("3 parsecs"),
            Err(OffsetError::Malformed(_))
        ));
        assert!(matches!(
            parse_offset("-3d"),
            Err(OffsetError::Malformed(_))
        ));
        assert!(matches!(
            parse_offset("2months"),
            Err(OffsetError::Ambiguous(_))
        ));
        assert!(matches!(parse_offset("400d"), Err(OffsetError::TooLong(_))));
        assert!(matches!(
            parse_elapsed("nope"),
            Err(OffsetError::Malformed(_))
        ));
    }

    proptest! {
        #[test]
        fn display_round_trips(days in 0i64..300, secs in 0i64..86_400) {
            let o = Offset { days, elapsed: Duration::seconds(secs) };
            let again = parse_offset(&o.to_string()).unwrap();
            prop_assert_eq!(again.nominal(), o.nominal());
            prop_assert_eq!(again.days, o.days);
        }

        #[test]
        fn never_panics(s in "\\PC{0,20}") {
            let _ = parse_offset(&s);
            let _ = parse_elapsed(&s);
        }
    }
}
