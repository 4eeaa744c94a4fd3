//! Parsing `/enroll <patient name> [date] [HH:MM]` (and `/done`, which has the same shape).
//!
//! Anything at the end that looks like a time or a date is read as the session time or
//! refused with the reason; it is never folded into the name, since a patient called
//! "Eve 25:00" would be enrolled at the wrong time without anyone noticing. A word like
//! a time or date in the middle of the name is refused too. Accepted:
//! `HH:MM` (today), `YYYY-MM-DD HH:MM`, `DD.MM.YYYY HH:MM`, `DD.MM. HH:MM` (the last such
//! day up to today), `today HH:MM` and `yesterday HH:MM`. Enrolment comes after the
//! session, so a session later than now is refused, with a hint when the day was
//! implied (`did you mean yesterday 23:30?`).

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;

use super::time::resolve_local;

/// The longest patient name accepted: enough for real names, short enough for buttons.
pub const MAX_NAME_CHARS: usize = 64;

/// How far back a session may be.
pub const MAX_AGE_DAYS: i64 = 30;

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
    /// A word shaped like a time that is none: `25:00`, `14:3`.
    #[error("`{word}` is not a time: {reason}.")]
    BadTime { word: String, reason: String },
    /// A word shaped like a date that is none: `30.02.`, `2026-13-01`, `11/30`.
    #[error("`{word}` is not a date: {reason}.")]
    BadDate { word: String, reason: String },
    /// A day without a clock time: `/enroll Eve yesterday`.
    #[error("Please add the session time after `{0}`: /enroll Anna Berg {0} 14:30")]
    MissingTime(String),
    /// A time or date inside the name: `/enroll Eve 14:30 Berg`.
    #[error(
        "`{0}` looks like a time or date inside the name: write the name first, then the session time (/enroll Anna Berg 14:30)."
    )]
    InName(String),
    /// The session is later than now. `hint` is the same clock time a day earlier, when
    /// the day was not typed out.
    #[error("The session time {when} is later than now ({now}); enroll after the session.{}", hint.as_ref().map(|h| format!(" Did you mean yesterday {h}?")).unwrap_or_default())]
    InFuture {
        when: String,
        now: String,
        hint: Option<String>,
    },
    #[error("The session was more than 30 days ago; please check the date.")]
    TooOld,
}

/// The day part of the session, as typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Day {
    /// Not typed, or `today`: the day may be a slip for yesterday.
    Today,
    Yesterday,
    /// Typed out with its year.
    Date(NaiveDate),
    /// `DD.MM.`: the last such day up to today.
    NoYear(u32, u32),
}

/// Reads the arguments; the session time defaults to `now` and is read in `tz`.
pub fn parse_enroll(args: &str, now: DateTime<Utc>, tz: Tz) -> Result<EnrollArgs, EnrollArgsError> {
    let mut words: Vec<&str> = args.split_whitespace().collect();
    let mut time = None;
    let mut day = None;
    if let Some(last) = words.last()
        && looks_like_time(last)
    {
        time = Some(parse_time(last)?);
        words.pop();
    }
    if let Some(last) = words.last()
        && (looks_like_date(last) || day_word(last).is_some())
    {
        let parsed = parse_day(last)?;
        if time.is_none() {
            return Err(EnrollArgsError::MissingTime(last.to_string()));
        }
        day = Some(parsed);
        words.pop();
    }
    if let Some(odd) = words
        .iter()
        .find(|w| looks_like_time(w) || looks_like_date(w))
    {
        return Err(EnrollArgsError::InName(odd.to_string()));
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
        Some(t) => session_time(day.unwrap_or(Day::Today), t, now, tz)?,
    };
    if session_at < now - Duration::days(MAX_AGE_DAYS) {
        return Err(EnrollArgsError::TooOld);
    }
    Ok(EnrollArgs { name, session_at })
}

/// The instant of `day` at `t` in `tz`; refused when later than `now`.
fn session_time(
    day: Day,
    t: NaiveTime,
    now: DateTime<Utc>,
    tz: Tz,
) -> Result<DateTime<Utc>, EnrollArgsError> {
    let today = now.with_timezone(&tz).date_naive();
    let date = match day {
        Day::Today => today,
        Day::Yesterday => today - Duration::days(1),
        Day::Date(d) => d,
        Day::NoYear(d, m) => {
            let bad = |reason| EnrollArgsError::BadDate {
                word: format!("{d:02}.{m:02}."),
                reason,
            };
            let this_year = checked_date(today.year(), m, d).map_err(bad)?;
            if this_year <= today {
                this_year
            } else {
                checked_date(today.year() - 1, m, d).map_err(bad)?
            }
        }
    };
    let at = resolve_local(tz, date.and_time(t));
    if at > now {
        let fmt = |x: DateTime<Utc>| x.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string();
        return Err(EnrollArgsError::InFuture {
            when: if day == Day::Today {
                format!("{} today", t.format("%H:%M"))
            } else {
                fmt(at)
            },
            now: if day == Day::Today {
                now.with_timezone(&tz).format("%H:%M").to_string()
            } else {
                fmt(now)
            },
            hint: (day == Day::Today).then(|| t.format("%H:%M").to_string()),
        });
    }
    Ok(at)
}

/// Shaped like a clock time: digits and a colon (`14:30`, `25:00`, `9:5`).
fn looks_like_time(word: &str) -> bool {
    word.contains(':')
        && word.chars().any(|c| c.is_ascii_digit())
        && word.chars().all(|c| c.is_ascii_digit() || c == ':')
}

/// Shaped like a date: digits with `-`, `.` or `/` between them (`2026-11-23`, `30.11.`,
/// `30.02.`, `11/30`, `14.30`).
fn looks_like_date(word: &str) -> bool {
    word.starts_with(|c: char| c.is_ascii_digit())
        && word.contains(['-', '.', '/'])
        && word
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '-' | '.' | '/'))
}

fn day_word(word: &str) -> Option<Day> {
    match word.to_lowercase().as_str() {
        "today" => Some(Day::Today),
        "yesterday" => Some(Day::Yesterday),
        _ => None,
    }
}

fn parse_time(word: &str) -> Result<NaiveTime, EnrollArgsError> {
    let bad = |reason: &str| EnrollArgsError::BadTime {
        word: word.to_string(),
        reason: reason.to_string(),
    };
    let Some((h, m)) = word.split_once(':') else {
        return Err(bad("write it like 14:30"));
    };
    if h.is_empty() || h.len() > 2 || m.len() != 2 || m.contains(':') {
        return Err(bad("write it like 14:30"));
    }
    let (h, m): (u32, u32) = (
        h.parse().map_err(|_| bad("write it like 14:30"))?,
        m.parse().map_err(|_| bad("write it like 14:30"))?,
    );
    if h > 23 {
        return Err(bad("hours go from 00 to 23"));
    }
    if m > 59 {
        return Err(bad("minutes go from 00 to 59"));
    }
    NaiveTime::from_hms_opt(h, m, 0).ok_or_else(|| bad("write it like 14:30"))
}

const FORMATS: &str = "write it as 2026-11-23, 23.11.2026 or 23.11.";

fn parse_day(word: &str) -> Result<Day, EnrollArgsError> {
    if let Some(day) = day_word(word) {
        return Ok(day);
    }
    let bad = |reason: String| EnrollArgsError::BadDate {
        word: word.to_string(),
        reason,
    };
    let numbers = |parts: &[&str]| -> Option<Vec<i32>> {
        parts
            .iter()
            .map(|p| {
                (!p.is_empty() && p.len() <= 4)
                    .then(|| p.parse().ok())
                    .flatten()
            })
            .collect()
    };
    let parts: Vec<&str> = if word.contains('-') {
        word.split('-').collect()
    } else {
        word.split('.').collect()
    };
    let dashed = word.contains('-') && !word.contains(['.', '/']);
    let dotted = word.contains('.') && !word.contains(['-', '/']);
    match (dashed, dotted, parts.as_slice()) {
        (true, _, [y, m, d]) if y.len() == 4 && m.len() <= 2 && d.len() <= 2 => {
            let n = numbers(&[y, m, d]).ok_or_else(|| bad(FORMATS.into()))?;
            Ok(Day::Date(
                checked_date(n[0], n[1] as u32, n[2] as u32).map_err(bad)?,
            ))
        }
        (_, true, [d, m, y]) if y.len() == 4 && d.len() <= 2 && m.len() <= 2 => {
            let n = numbers(&[d, m, y]).ok_or_else(|| bad(FORMATS.into()))?;
            Ok(Day::Date(
                checked_date(n[2], n[1] as u32, n[0] as u32).map_err(bad)?,
            ))
        }
        (_, true, [d, m, ""]) if d.len() <= 2 && m.len() <= 2 => {
            let n = numbers(&[d, m]).ok_or_else(|| bad(FORMATS.into()))?;
            let (d, m) = (n[0] as u32, n[1] as u32);
            // Checked against a leap year here; the year chosen later checks again.
            checked_date(2028, m, d).map_err(bad)?;
            Ok(Day::NoYear(d, m))
        }
        (_, true, [_, _]) => Err(bad(
            "a date ends with a dot (23.11.), a time has a colon (14:30)".into(),
        )),
        _ => Err(bad(FORMATS.into())),
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The date, or why there is none (`February has no day 30`).
fn checked_date(year: i32, month: u32, day: u32) -> Result<NaiveDate, String> {
    if !(1..=12).contains(&month) {
        return Err(format!("there is no month {month}"));
    }
    if day == 0 {
        return Err("days start at 1".into());
    }
    NaiveDate::from_ymd_opt(year, month, day).ok_or_else(|| {
        let name = MONTHS[month as usize - 1];
        if month == 2 && day == 29 {
            format!("{name} {year} has no day 29")
        } else {
            format!("{name} has no day {day}")
        }
    })
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

    /// Monday 23 November 2026, 16:00 in Berlin.
    fn now() -> DateTime<Utc> {
        "2026-11-23T15:00:00Z".parse().unwrap()
    }

    fn local(a: &EnrollArgs) -> String {
        a.session_at
            .with_timezone(&Berlin)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    }

    fn parsed(args: &str) -> (String, String) {
        let a = parse_enroll(args, now(), Berlin).unwrap();
        let when = local(&a);
        (a.name, when)
    }

    fn refused(args: &str) -> String {
        parse_enroll(args, now(), Berlin).unwrap_err().to_string()
    }

    #[test]
    fn name_only_means_now() {
        let a = parse_enroll("Anna Berg", now(), Berlin).unwrap();
        assert_eq!(a.name, "Anna Berg");
        assert_eq!(a.session_at, now());
    }

    #[test]
    fn every_accepted_form_is_read_in_the_clinic_zone() {
        for (args, when) in [
            ("Anna Berg 14:30", "2026-11-23 14:30"),
            ("Anna Berg 9:05", "2026-11-23 09:05"),
            ("Anna Berg 2026-11-22 09:05", "2026-11-22 09:05"),
            ("Anna Berg 22.11.2026 09:05", "2026-11-22 09:05"),
            ("Anna Berg 22.11. 09:05", "2026-11-22 09:05"),
            ("Anna Berg 1.11. 09:05", "2026-11-01 09:05"),
            ("Anna Berg yesterday 23:30", "2026-11-22 23:30"),
            ("Anna Berg Yesterday 23:30", "2026-11-22 23:30"),
            ("Anna Berg today 10:00", "2026-11-23 10:00"),
            ("Anna Berg 16:00", "2026-11-23 16:00"),
        ] {
            assert_eq!(parsed(args), ("Anna Berg".into(), when.into()), "{args}");
        }
    }

    #[test]
    fn a_day_and_month_without_a_year_is_the_last_such_day() {
        // 30 December has not come yet this year: last year's.
        let now: DateTime<Utc> = "2027-01-02T10:00:00Z".parse().unwrap();
        let a = parse_enroll("Eve 30.12. 10:00", now, Berlin).unwrap();
        assert_eq!(local(&a), "2026-12-30 10:00");
    }

    #[test]
    fn a_time_that_is_no_time_is_refused_with_the_reason() {
        assert_eq!(
            refused("Eve 25:00"),
            "`25:00` is not a time: hours go from 00 to 23."
        );
        assert_eq!(
            refused("Eve 24:00"),
            "`24:00` is not a time: hours go from 00 to 23."
        );
        assert_eq!(
            refused("Eve 10:75"),
            "`10:75` is not a time: minutes go from 00 to 59."
        );
        assert_eq!(
            refused("Eve 10:5"),
            "`10:5` is not a time: write it like 14:30."
        );
        assert_eq!(
            refused("Eve 1:2:3"),
            "`1:2:3` is not a time: write it like 14:30."
        );
    }

    #[test]
    fn a_date_that_is_no_date_is_refused_with_the_reason() {
        assert_eq!(
            refused("Eve 30.02. 10:00"),
            "`30.02.` is not a date: February has no day 30."
        );
        assert_eq!(
            refused("Eve 2026-13-45 10:00"),
            "`2026-13-45` is not a date: there is no month 13."
        );
        assert_eq!(
            refused("Eve 31.04.2026 10:00"),
            "`31.04.2026` is not a date: April has no day 31."
        );
        assert_eq!(
            refused("Eve 29.02.2026 10:00"),
            "`29.02.2026` is not a date: February 2026 has no day 29."
        );
        assert!(
            refused("Eve 11/22 10:00").contains("write it as 2026-11-23, 23.11.2026 or 23.11.")
        );
        assert!(refused("Eve 14.30").contains("a time has a colon (14:30)"));
        assert!(refused("Eve 30.02.").contains("February has no day 30"));
    }

    #[test]
    fn a_day_without_a_time_asks_for_the_time() {
        assert_eq!(
            refused("Eve yesterday"),
            "Please add the session time after `yesterday`: /enroll Anna Berg yesterday 14:30"
        );
        assert!(refused("Eve 30.11.2026").contains("add the session time after `30.11.2026`"));
        assert!(refused("Eve 22.11.").contains("add the session time"));
    }

    #[test]
    fn a_time_or_date_is_never_folded_into_the_name() {
        assert!(
            refused("Eve 14:30 Berg").contains("`14:30` looks like a time or date inside the name")
        );
        assert!(refused("Eve 30.11.2026 Berg 10:00").contains("`30.11.2026`"));
        assert!(refused("Eve 2026-11-22 2026-11-22 10:00").contains("inside the name"));
        // Plain numbers and words stay part of a name.
        assert_eq!(parsed("Anna Berg 2").0, "Anna Berg 2");
        assert_eq!(parsed("Anna-Lena Berg").0, "Anna-Lena Berg");
    }

    #[test]
    fn a_session_later_than_now_is_refused_with_a_hint_for_yesterday() {
        assert_eq!(
            refused("Eve 23:30"),
            "The session time 23:30 today is later than now (16:00); enroll after the session. Did you mean yesterday 23:30?"
        );
        assert!(refused("Eve today 16:01").contains("Did you mean yesterday 16:01?"));
        let e = refused("Eve 2026-11-24 10:00");
        assert_eq!(
            e,
            "The session time 2026-11-24 10:00 is later than now (2026-11-23 16:00); enroll after the session."
        );
        assert!(refused("Eve 24.11.2026 10:00").contains("later than now"));
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

    fn word() -> impl Strategy<Value = String> {
        prop_oneof![
            "[A-Za-zÄÖÜäöüß]{1,8}",
            "[0-9]{1,4}[:./-][0-9]{0,4}[:./-]?[0-9]{0,4}",
            Just("yesterday".to_string()),
            Just("today".to_string()),
        ]
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,100}") {
            let _ = parse_enroll(&s, now(), Berlin);
        }

        /// Whatever is accepted has a name with no time or date in it, and a session
        /// between 30 days ago and now.
        #[test]
        fn accepted_input_keeps_times_out_of_the_name(words in prop::collection::vec(word(), 1..5)) {
            let args = words.join(" ");
            if let Ok(a) = parse_enroll(&args, now(), Berlin) {
                for w in a.name.split_whitespace() {
                    prop_assert!(!looks_like_time(w) && !looks_like_date(w), "{args} -> {}", a.name);
                }
                prop_assert!(a.session_at <= now());
                prop_assert!(a.session_at >= now() - Duration::days(MAX_AGE_DAYS));
            }
        }

        /// A past session written in each accepted form reads back as the same time.
        #[test]
        fn every_form_of_a_past_session_reads_back(minutes_ago in 0i64..(29 * 24 * 60)) {
            let local = (now() - Duration::minutes(minutes_ago)).with_timezone(&Berlin);
            let (date, time) = (local.date_naive(), local.format("%H:%M").to_string());
            let mut forms = vec![
                format!("{} {time}", date.format("%Y-%m-%d")),
                format!("{} {time}", date.format("%d.%m.%Y")),
                format!("{} {time}", date.format("%d.%m.")),
            ];
            let today = now().with_timezone(&Berlin).date_naive();
            if date == today {
                forms.push(time.clone());
            }
            if date == today - Duration::days(1) {
                forms.push(format!("yesterday {time}"));
            }
            for form in forms {
                let a = parse_enroll(&format!("Anna Berg {form}"), now(), Berlin).unwrap();
                prop_assert_eq!(&a.name, "Anna Berg");
                prop_assert_eq!(a.session_at.with_timezone(&Berlin).format("%Y-%m-%d %H:%M").to_string(),
                    local.format("%Y-%m-%d %H:%M").to_string(), "{}", form);
            }
        }
    }
}
