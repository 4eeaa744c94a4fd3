//! Check-in answers and what they set off: which answers alert the clinic, how the
//! buttons encode them, and when an unhandled alert goes to the owners again.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use super::time::QuietHours;

/// How long an alert may stay open before the owners are told again.
pub const REALERT_AFTER: Duration = Duration::hours(2);

/// What a patient can answer to "how is your skin?".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckinAnswer {
    Good,
    Redness,
    Infection,
    Other,
}

impl CheckinAnswer {
    pub const ALL: [CheckinAnswer; 4] = [
        CheckinAnswer::Good,
        CheckinAnswer::Redness,
        CheckinAnswer::Infection,
        CheckinAnswer::Other,
    ];

    /// The stored and button form: short, stable, never shown.
    pub fn code(self) -> &'static str {
        match self {
            CheckinAnswer::Good => "good",
            CheckinAnswer::Redness => "redness",
            CheckinAnswer::Infection => "infection",
            CheckinAnswer::Other => "other",
        }
    }

    pub fn from_code(code: &str) -> Option<CheckinAnswer> {
        Self::ALL.into_iter().find(|a| a.code() == code)
    }

    /// Anything but "all good" reaches the staff at once.
    pub fn alerts_staff(self) -> bool {
        self != CheckinAnswer::Good
    }

    /// Signs of infection: the patient is also pointed to urgent care.
    pub fn is_urgent(self) -> bool {
        self == CheckinAnswer::Infection
    }

    /// How the answer reads in a staff alert (staff texts are English).
    pub fn staff_label(self) -> &'static str {
        match self {
            CheckinAnswer::Good => "All good",
            CheckinAnswer::Redness => "More redness or swelling than expected",
            CheckinAnswer::Infection => {
                "Signs of infection (pus, fever, spreading redness, severe pain)"
            }
            CheckinAnswer::Other => "Something else",
        }
    }
}

/// Callback data of a check-in button: `ci:<reminder id>:<answer>`.
pub fn button_data(reminder_id: i64, answer: CheckinAnswer) -> String {
    format!("ci:{reminder_id}:{}", answer.code())
}

/// The `rest` after `ci:`, read back.
pub fn parse_button(rest: &str) -> Option<(i64, CheckinAnswer)> {
    let (id, code) = rest.split_once(':')?;
    Some((id.parse().ok()?, CheckinAnswer::from_code(code)?))
}

/// When an alert raised at `created` goes to the owners again if nobody handled it.
pub fn realert_at(created: DateTime<Utc>) -> DateTime<Utc> {
    created + REALERT_AFTER
}

/// The note on a reminder held after a warning sign, until its alert is handled.
pub const HELD_NOTE: &str = "held after a warning sign";
/// The note on a held reminder whose time passed before its alert was handled.
pub const EXPIRED_WHILE_HELD: &str = "expired while held";

/// When a held reminder goes out once its alert is handled at `now`: at its own time if
/// that is still ahead, else now (quiet hours shift it, as any scheduled step); `None`
/// when it would be past its expiry by then (it is skipped).
pub fn release_due(
    due: DateTime<Utc>,
    expires: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    tz: Tz,
    quiet: QuietHours,
) -> Option<DateTime<Utc>> {
    let due = if due > now { due } else { quiet.defer(now, tz) };
    match expires {
        Some(e) if e <= due || e <= now => None,
        _ => Some(due),
    }
}

/// A check-in's nudge is a reminder row of its own, `nudge-<check-in step>`.
const NUDGE_PREFIX: &str = "nudge-";
/// How long a check-in without `expires` waits for an answer before its nudge.
pub const CHECKIN_WINDOW: Duration = Duration::days(2);
/// How long the nudge waits for an answer before the patient is listed for staff.
pub const NUDGE_WINDOW: Duration = Duration::days(1);
/// The least time a patient has to answer a check-in before its nudge, even when the
/// check-in went out late in its window (the bot was down, Telegram slow).
pub const ANSWER_AT_LEAST: Duration = Duration::days(1);

/// The step id of the nudge after check-in `checkin_step`.
pub fn nudge_step(checkin_step: &str) -> String {
    format!("{NUDGE_PREFIX}{checkin_step}")
}

/// The check-in a nudge step follows up, if `step_id` is a nudge.
pub fn nudged_checkin(step_id: &str) -> Option<&str> {
    step_id
        .strip_prefix(NUDGE_PREFIX)
        .filter(|rest| !rest.is_empty())
}

/// When the one nudge after a check-in sent at `sent` goes out, and until when: when
/// the check-in's window closes (its expiry, but at least `ANSWER_AT_LEAST` after it
/// went out), moved out of quiet hours, then for
/// `NUDGE_WINDOW`. Past that, a patient still silent is listed for staff.
pub fn nudge_times(
    sent: DateTime<Utc>,
    checkin_expires: Option<DateTime<Utc>>,
    tz: Tz,
    quiet: QuietHours,
) -> (DateTime<Utc>, DateTime<Utc>) {
    let closes = checkin_expires
        .unwrap_or(sent + CHECKIN_WINDOW)
        .max(sent + ANSWER_AT_LEAST);
    let due = quiet.defer(closes, tz);
    (due, due + NUDGE_WINDOW)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Berlin;
    use proptest::prelude::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn a_held_step_still_ahead_keeps_its_time() {
        let q = QuietHours::default();
        let due = at("2026-11-28T09:00:00Z");
        let got = release_due(
            due,
            Some(due + Duration::days(2)),
            at("2026-11-27T09:00:00Z"),
            Berlin,
            q,
        );
        assert_eq!(got, Some(due));
    }

    #[test]
    fn a_held_step_whose_time_passed_goes_now_but_not_in_quiet_hours() {
        let q = QuietHours::default();
        let due = at("2026-11-28T09:00:00Z");
        let expires = Some(at("2026-11-30T09:00:00Z"));
        // 15:00 in Berlin: at once.
        let now = at("2026-11-29T14:00:00Z");
        assert_eq!(release_due(due, expires, now, Berlin, q), Some(now));
        // 23:00 in Berlin: the next morning at 08:00.
        let now = at("2026-11-29T22:00:00Z");
        assert_eq!(
            release_due(due, expires, now, Berlin, q),
            Some(at("2026-11-30T07:00:00Z"))
        );
        // Past its expiry: skipped.
        let now = at("2026-11-30T10:00:00Z");
        assert_eq!(release_due(due, expires, now, Berlin, q), None);
    }

    #[test]
    fn the_nudge_comes_when_the_check_in_closes_outside_quiet_hours() {
        let q = QuietHours::default();
        let sent = at("2026-11-26T09:00:00Z");
        let (due, until) = nudge_times(sent, Some(at("2026-11-28T09:00:00Z")), Berlin, q);
        assert_eq!(due, at("2026-11-28T09:00:00Z"));
        assert_eq!(until, due + NUDGE_WINDOW);
        // A window closing at 22:30 in Berlin: the nudge waits for 08:00.
        let (due, _) = nudge_times(sent, Some(at("2026-11-28T21:30:00Z")), Berlin, q);
        assert_eq!(due, at("2026-11-29T07:00:00Z"));
        // No expiry: two days.
        let (due, _) = nudge_times(sent, None, Berlin, q);
        assert_eq!(due, sent + CHECKIN_WINDOW);
        // Sent late in its window: still a day to answer first.
        let (due, _) = nudge_times(sent, Some(sent + Duration::hours(2)), Berlin, q);
        assert_eq!(due, sent + ANSWER_AT_LEAST);
    }

    #[test]
    fn nudge_steps_name_their_check_in() {
        assert_eq!(nudge_step("checkin-day3"), "nudge-checkin-day3");
        assert_eq!(nudged_checkin("nudge-checkin-day3"), Some("checkin-day3"));
        assert_eq!(nudged_checkin("nudge-"), None);
        assert_eq!(nudged_checkin("checkin-day3"), None);
    }

    #[test]
    fn only_all_good_stays_with_the_patient() {
        assert!(!CheckinAnswer::Good.alerts_staff());
        assert!(CheckinAnswer::Redness.alerts_staff());
        assert!(CheckinAnswer::Infection.alerts_staff());
        assert!(CheckinAnswer::Other.alerts_staff());
        assert!(CheckinAnswer::Infection.is_urgent());
        assert!(!CheckinAnswer::Redness.is_urgent());
    }

    #[test]
    fn realert_is_two_hours_later() {
        let t: DateTime<Utc> = "2026-11-26T09:00:00Z".parse().unwrap();
        assert_eq!(
            realert_at(t),
            "2026-11-26T11:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }

    #[test]
    fn malformed_buttons_are_refused() {
        for bad in [
            "",
            "12",
            "12:",
            ":good",
            "x:good",
            "12:great",
            "12:good:extra",
        ] {
            assert_eq!(parse_button(bad), None, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn button_data_reads_back_and_fits_telegrams_64_bytes(id in any::<i64>(), i in 0usize..4) {
            let answer = CheckinAnswer::ALL[i];
            let data = button_data(id, answer);
            prop_assert!(data.len() <= 64);
            let rest = data.strip_prefix("ci:").unwrap();
            prop_assert_eq!(parse_button(rest), Some((id, answer)));
        }
    }
}
