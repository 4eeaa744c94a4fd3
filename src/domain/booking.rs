//! Follow-up bookings: reading `/book <patient> <YYYY-MM-DD> <HH:MM>`, and the messages a
//! booking sets off (confirmation, preparation 3 days before, the day before, 2 hours
//! before), each moved out of quiet hours and never after the appointment itself.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;

use super::time::{QuietHours, parse_clock, resolve_local};

/// Who a staff command is about: `#12` (or `12`) or a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatientRef {
    Id(i64),
    Name(String),
}

impl PatientRef {
    pub fn parse(text: &str) -> Option<PatientRef> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        let digits = text.strip_prefix('#').unwrap_or(text);
        match digits.parse::<i64>() {
            Ok(id) if id > 0 => Some(PatientRef::Id(id)),
            _ => Some(PatientRef::Name(text.to_string())),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookArgs {
    pub patient: PatientRef,
    pub starts_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BookError {
    #[error(
        "Please write: /book <patient #id or name> <YYYY-MM-DD> <HH:MM>, e.g. /book #12 2026-12-21 10:30"
    )]
    Usage,
    #[error("`{0}` is not a date like 2026-12-21.")]
    BadDate(String),
    #[error("`{0}` is not a time like 10:30.")]
    BadTime(String),
    #[error("That time has already passed; please pick a time in the future.")]
    InPast,
    #[error("{0} is in the clinic's quiet hours ({1}); please pick a time outside them.")]
    QuietHours(String, String),
    #[error("That is more than a year ahead; please check the date.")]
    TooFar,
}

/// Reads the arguments in the clinic's zone; refuses the past and quiet hours.
pub fn parse_book(
    args: &str,
    now: DateTime<Utc>,
    tz: Tz,
    quiet: QuietHours,
) -> Result<BookArgs, BookError> {
    let mut words: Vec<&str> = args.split_whitespace().collect();
    if words.len() < 3 {
        return Err(BookError::Usage);
    }
    let time_word = words.pop().unwrap_or_default();
    let date_word = words.pop().unwrap_or_default();
    let time = parse_clock(time_word).ok_or_else(|| BookError::BadTime(time_word.to_string()))?;
    let date = NaiveDate::parse_from_str(date_word, "%Y-%m-%d")
        .map_err(|_| BookError::BadDate(date_word.to_string()))?;
    let patient = PatientRef::parse(&words.join(" ")).ok_or(BookError::Usage)?;
    if quiet.contains(time) {
        return Err(BookError::QuietHours(
            time.format("%H:%M").to_string(),
            quiet.describe(),
        ));
    }
    let starts_at = resolve_local(tz, date.and_time(time));
    if starts_at <= now {
        return Err(BookError::InPast);
    }
    if starts_at > now + Duration::days(366) {
        return Err(BookError::TooFar);
    }
    Ok(BookArgs { patient, starts_at })
}

/// The messages a booking sends the patient; each id is a reminder row's `step_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BookingStep {
    Confirm,
    Prep,
    DayBefore,
    Soon,
    Cancelled,
}

impl BookingStep {
    pub const ALL: [BookingStep; 5] = [
        BookingStep::Confirm,
        BookingStep::Prep,
        BookingStep::DayBefore,
        BookingStep::Soon,
        BookingStep::Cancelled,
    ];

    pub fn id(self) -> &'static str {
        match self {
            BookingStep::Confirm => "booking-confirm",
            BookingStep::Prep => "booking-prep",
            BookingStep::DayBefore => "booking-day-before",
            BookingStep::Soon => "booking-soon",
            BookingStep::Cancelled => "booking-cancelled",
        }
    }

    pub fn from_id(id: &str) -> Option<BookingStep> {
        Self::ALL.into_iter().find(|s| s.id() == id)
    }

    /// The last two reminders ask "will you come?".
    pub fn asks_to_confirm(self) -> bool {
        matches!(self, BookingStep::DayBefore | BookingStep::Soon)
    }
}

/// One planned booking message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingMessage {
    pub step: BookingStep,
    pub due_at: DateTime<Utc>,
    /// Pointless once the appointment has begun.
    pub expires_at: DateTime<Utc>,
}

/// The confirmation (as soon as quiet hours allow) and the reminders still ahead.
/// A reminder whose time has passed, or that quiet hours would push to the appointment
/// itself, is left out.
pub fn booking_messages(
    starts_at: DateTime<Utc>,
    now: DateTime<Utc>,
    tz: Tz,
    quiet: QuietHours,
) -> Vec<BookingMessage> {
    let local = starts_at.with_timezone(&tz).naive_local();
    let days_before = |n: i64| resolve_local(tz, local - Duration::days(n));
    let mut out = vec![BookingMessage {
        step: BookingStep::Confirm,
        due_at: quiet.defer(now, tz).min(starts_at),
        expires_at: starts_at,
    }];
    for (step, at) in [
        (BookingStep::Prep, days_before(3)),
        (BookingStep::DayBefore, days_before(1)),
        (BookingStep::Soon, starts_at - Duration::hours(2)),
    ] {
        let due = quiet.defer(at, tz);
        if at > now && due < starts_at {
            out.push(BookingMessage {
                step,
                due_at: due,
                expires_at: starts_at,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Berlin;
    use proptest::prelude::*;

    fn now() -> DateTime<Utc> {
        "2026-11-23T13:00:00Z".parse().unwrap() // 14:00 Berlin
    }

    fn berlin(t: DateTime<Utc>) -> String {
        t.with_timezone(&Berlin)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    }

    #[test]
    fn reads_an_id_or_a_name_then_date_and_time() {
        let q = QuietHours::default();
        let a = parse_book("#12 2026-12-21 10:30", now(), Berlin, q).unwrap();
        assert_eq!(a.patient, PatientRef::Id(12));
        assert_eq!(berlin(a.starts_at), "2026-12-21 10:30");
        let a = parse_book("Anna Berg 2026-12-21 10:30", now(), Berlin, q).unwrap();
        assert_eq!(a.patient, PatientRef::Name("Anna Berg".into()));
    }

    #[test]
    fn refuses_bad_input_with_a_reason() {
        let q = QuietHours::default();
        let p = |s| parse_book(s, now(), Berlin, q);
        assert_eq!(p(""), Err(BookError::Usage));
        assert_eq!(p("2026-12-21 10:30"), Err(BookError::Usage));
        assert_eq!(
            p("#1 2026-13-01 10:30"),
            Err(BookError::BadDate("2026-13-01".into()))
        );
        assert_eq!(
            p("#1 2026-12-01 25:30"),
            Err(BookError::BadTime("25:30".into()))
        );
        assert_eq!(p("#1 2026-11-23 13:59"), Err(BookError::InPast));
        assert!(matches!(
            p("#1 2026-12-01 21:30"),
            Err(BookError::QuietHours(..))
        ));
        assert!(matches!(
            p("#1 2026-12-01 07:59"),
            Err(BookError::QuietHours(..))
        ));
        assert_eq!(p("#1 2028-12-01 10:00"), Err(BookError::TooFar));
    }

    #[test]
    fn plans_confirmation_prep_day_before_and_two_hours_before() {
        let starts = resolve_local(Berlin, "2026-12-21T10:30:00".parse().unwrap());
        let m = booking_messages(starts, now(), Berlin, QuietHours::default());
        let got: Vec<(BookingStep, String)> =
            m.iter().map(|b| (b.step, berlin(b.due_at))).collect();
        assert_eq!(
            got,
            [
                (BookingStep::Confirm, "2026-11-23 14:00".to_string()),
                (BookingStep::Prep, "2026-12-18 10:30".to_string()),
                (BookingStep::DayBefore, "2026-12-20 10:30".to_string()),
                (BookingStep::Soon, "2026-12-21 08:30".to_string()),
            ]
        );
    }

    #[test]
    fn an_early_appointment_moves_the_two_hour_reminder_to_the_end_of_quiet_hours() {
        let starts = resolve_local(Berlin, "2026-12-21T09:00:00".parse().unwrap());
        let m = booking_messages(starts, now(), Berlin, QuietHours::default());
        let soon = m.iter().find(|b| b.step == BookingStep::Soon).unwrap();
        assert_eq!(berlin(soon.due_at), "2026-12-21 08:00");
    }

    #[test]
    fn reminders_already_past_are_left_out() {
        let starts = resolve_local(Berlin, "2026-11-24T16:00:00".parse().unwrap());
        let m = booking_messages(starts, now(), Berlin, QuietHours::default());
        let steps: Vec<BookingStep> = m.iter().map(|b| b.step).collect();
        assert_eq!(
            steps,
            [
                BookingStep::Confirm,
                BookingStep::DayBefore,
                BookingStep::Soon
            ]
        );
    }

    #[test]
    fn a_booking_at_night_confirms_in_the_morning() {
        let late: DateTime<Utc> = "2026-11-23T22:30:00Z".parse().unwrap(); // 23:30 Berlin
        let starts = resolve_local(Berlin, "2026-12-21T10:30:00".parse().unwrap());
        let m = booking_messages(starts, late, Berlin, QuietHours::default());
        assert_eq!(berlin(m[0].due_at), "2026-11-24 08:00");
    }

    #[test]
    fn step_ids_read_back() {
        for s in BookingStep::ALL {
            assert_eq!(BookingStep::from_id(s.id()), Some(s));
        }
        assert_eq!(BookingStep::from_id("normal-now"), None);
    }

    proptest! {
        #[test]
        fn booking_messages_come_before_the_appointment_and_outside_quiet_hours(
            ahead_min in 1i64..(60 * 24 * 60),
            hour in 8u32..21,
            minute in 0u32..60,
        ) {
            let q = QuietHours::default();
            let day = (now() + Duration::minutes(ahead_min)).with_timezone(&Berlin).date_naive();
            let starts = resolve_local(Berlin, day.and_hms_opt(hour, minute, 0).unwrap());
            prop_assume!(starts > now());
            for m in booking_messages(starts, now(), Berlin, q) {
                prop_assert!(m.due_at <= starts);
                prop_assert!(m.due_at >= now());
                prop_assert!(!q.contains(m.due_at.with_timezone(&Berlin).time()));
                prop_assert_eq!(m.expires_at, starts);
            }
        }
    }
}
