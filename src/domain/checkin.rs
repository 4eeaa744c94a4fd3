//! Check-in answers and what they set off: which answers alert the clinic, how the
//! buttons encode them, and when an unhandled alert goes to the owners again.

use chrono::{DateTime, Duration, Utc};

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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
