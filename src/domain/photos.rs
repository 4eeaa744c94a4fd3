//! Photo check-ins: which photo request a patient's photo answers, the day of the course
//! it came on, and how a patient's photos are grouped into albums for staff.
//!
//! A photo answers a request when it is a Telegram reply to that request (at any time
//! while the session it belongs to is the patient's current one), or, without a reply,
//! when it comes within [`ANSWER_WINDOW`] of the latest request sent. Anything else is an
//! ordinary message to the clinic.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

/// How long after a photo request a photo sent without replying still answers it:
/// long enough for "tonight, in good light", short enough that a photo sent about
/// something else a week later is not filed as a check-in.
pub const ANSWER_WINDOW: Duration = Duration::hours(48);

/// Telegram's most photos in one album (`sendMediaGroup` takes 2 to 10).
pub const MAX_ALBUM: usize = 10;

/// A photo request the patient received: the sent reminder of a photo step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoRequest {
    pub patient_id: i64,
    pub step_id: String,
    /// The request's Telegram message id in the patient's chat.
    pub message_id: i32,
    pub sent_at: DateTime<Utc>,
}

/// The request a photo answers: the one it replies to, else the latest one sent within
/// [`ANSWER_WINDOW`] before `now`. `requests` are the chat's requests of the current
/// sessions, in any order; `reply_to` the message the photo replies to, if any.
pub fn answered_request(
    requests: &[PhotoRequest],
    reply_to: Option<i32>,
    now: DateTime<Utc>,
) -> Option<&PhotoRequest> {
    if let Some(id) = reply_to
        && let Some(r) = requests.iter().find(|r| r.message_id == id)
    {
        return Some(r);
    }
    requests
        .iter()
        .filter(|r| r.sent_at <= now && now - r.sent_at <= ANSWER_WINDOW)
        .max_by_key(|r| (r.sent_at, r.message_id))
}

/// The day of the course `at` falls on, counted in calendar days in `tz` from the
/// session day (day 0), as the plans count them (`3d` is day 3). Never negative.
pub fn course_day(session: DateTime<Utc>, at: DateTime<Utc>, tz: Tz) -> i64 {
    let from = session.with_timezone(&tz).date_naive();
    let to = at.with_timezone(&tz).date_naive();
    (to - from).num_days().max(0)
}

/// How staff read a course day: "Session day", "Day 3".
pub fn day_label(day: i64) -> String {
    if day == 0 {
        "Session day".to_string()
    } else {
        format!("Day {day}")
    }
}

/// The sizes of the albums `n` photos are sent in, in order: as few albums as Telegram
/// allows, evenly filled, so none is a lone photo when there are several (11 → 6 + 5,
/// never 10 + 1). A single photo is one "album" of one, which goes as a plain photo.
pub fn album_sizes(n: usize) -> Vec<usize> {
    if n == 0 {
        return Vec::new();
    }
    let albums = n.div_ceil(MAX_ALBUM);
    let (base, extra) = (n / albums, n % albums);
    (0..albums).map(|i| base + usize::from(i < extra)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::resolve_local;
    use chrono::NaiveDateTime;
    use chrono_tz::Europe::Berlin;
    use proptest::prelude::*;

    fn berlin(s: &str) -> DateTime<Utc> {
        resolve_local(
            Berlin,
            NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap(),
        )
    }

    fn request(step: &str, message_id: i32, sent: &str) -> PhotoRequest {
        PhotoRequest {
            patient_id: 1,
            step_id: step.into(),
            message_id,
            sent_at: berlin(sent),
        }
    }

    #[test]
    fn a_reply_names_its_request_at_any_time() {
        let all = [
            request("photo-day3", 10, "2026-11-26 10:00"),
            request("photo-day7", 20, "2026-11-30 10:00"),
        ];
        let later = berlin("2026-12-20 12:00");
        assert_eq!(
            answered_request(&all, Some(10), later).map(|r| r.step_id.as_str()),
            Some("photo-day3")
        );
    }

    #[test]
    fn without_a_reply_the_latest_request_counts_for_48_hours() {
        let all = [
            request("photo-day3", 10, "2026-11-26 10:00"),
            request("photo-day7", 20, "2026-11-30 10:00"),
        ];
        let step = |now: &str, reply: Option<i32>| {
            answered_request(&all, reply, berlin(now)).map(|r| r.step_id.clone())
        };
        assert_eq!(
            step("2026-11-27 09:00", None).as_deref(),
            Some("photo-day3")
        );
        assert_eq!(
            step("2026-11-30 12:00", None).as_deref(),
            Some("photo-day7")
        );
        assert_eq!(
            step("2026-12-02 10:00", None).as_deref(),
            Some("photo-day7")
        );
        assert_eq!(step("2026-12-02 10:01", None), None);
        // Between the two, once the first's window closed: nothing.
        assert_eq!(step("2026-11-29 10:00", None), None);
        // A reply to something else falls back to the window.
        assert_eq!(
            step("2026-11-30 12:00", Some(99)).as_deref(),
            Some("photo-day7")
        );
        assert_eq!(step("2026-11-29 10:00", Some(99)), None);
        // Not a request of the future (a clock running behind).
        assert_eq!(step("2026-11-26 09:59", None), None);
        assert_eq!(
            answered_request(&[], None, berlin("2026-11-26 10:00")),
            None
        );
    }

    #[test]
    fn the_course_day_counts_calendar_days_in_the_zone() {
        let session = berlin("2026-11-23 14:30");
        assert_eq!(course_day(session, berlin("2026-11-23 23:59"), Berlin), 0);
        assert_eq!(course_day(session, berlin("2026-11-24 00:01"), Berlin), 1);
        assert_eq!(course_day(session, berlin("2026-11-26 10:00"), Berlin), 3);
        // Across the change to summer time, still calendar days.
        let march = berlin("2027-03-27 18:00");
        assert_eq!(course_day(march, berlin("2027-03-30 09:00"), Berlin), 3);
        assert_eq!(course_day(session, berlin("2026-11-22 10:00"), Berlin), 0);
        assert_eq!(day_label(0), "Session day");
        assert_eq!(day_label(3), "Day 3");
    }

    #[test]
    fn albums_are_as_few_and_as_even_as_telegram_allows() {
        assert_eq!(album_sizes(0), Vec::<usize>::new());
        assert_eq!(album_sizes(1), [1]);
        assert_eq!(album_sizes(2), [2]);
        assert_eq!(album_sizes(10), [10]);
        assert_eq!(album_sizes(11), [6, 5]);
        assert_eq!(album_sizes(20), [10, 10]);
        assert_eq!(album_sizes(21), [7, 7, 7]);
    }

    proptest! {
        #[test]
        fn every_photo_is_in_one_album_of_2_to_10(n in 2usize..500) {
            let sizes = album_sizes(n);
            prop_assert_eq!(sizes.iter().sum::<usize>(), n);
            prop_assert_eq!(sizes.len(), n.div_ceil(MAX_ALBUM));
            prop_assert!(sizes.iter().all(|s| (2..=MAX_ALBUM).contains(s)), "{:?}", sizes);
            prop_assert!(sizes.windows(2).all(|w| w[0] >= w[1]));
        }
    }
}
