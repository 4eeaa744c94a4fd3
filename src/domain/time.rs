//! Local clock time in a clinic's (or patient's) zone, resolved the way a person expects.
//!
//! A local time that does not exist (the spring-forward gap) moves to the first instant
//! after the gap; one that exists twice (the autumn fold) takes the earlier instant.

use chrono::{
    DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;

use super::offset::Offset;

/// Turns a wall-clock time in `tz` into an instant.
pub fn resolve_local(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(earlier, later) => earlier.min(later).with_timezone(&Utc),
        LocalResult::None => {
            // Inside a gap. Gaps in the tz database start and end on whole minutes and
            // last at most a few hours: the first minute that exists is where the gap ends.
            let start = local
                .with_second(0)
                .and_then(|t| t.with_nanosecond(0))
                .unwrap_or(local);
            (1..=24 * 60)
                .map(|m| start + Duration::minutes(m))
                .find_map(|t| tz.from_local_datetime(&t).earliest())
                .map(|t| t.with_timezone(&Utc))
                // No zone has a gap of a day; fall back to reading it as UTC.
                .unwrap_or_else(|| Utc.from_utc_datetime(&local))
        }
    }
}

/// When a step is due: calendar days in `tz` at the session's clock time (or at `at`),
/// then the elapsed part.
pub fn due_at(
    session: DateTime<Utc>,
    tz: Tz,
    offset: Offset,
    at: Option<NaiveTime>,
) -> DateTime<Utc> {
    let local = session.with_timezone(&tz).naive_local();
    let day = local.date() + Duration::days(offset.days);
    let clock = at.unwrap_or(local.time());
    let base = if offset.days == 0 && at.is_none() {
        // Same instant as the session: avoid a round trip through a folded local time.
        session
    } else {
        resolve_local(tz, day.and_time(clock))
    };
    base + offset.elapsed
}

/// Quiet hours: a nightly window in which scheduled reminders are held back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl Default for QuietHours {
    fn default() -> Self {
        QuietHours {
            start: NaiveTime::from_hms_opt(21, 0, 0).expect("valid time"),
            end: NaiveTime::from_hms_opt(8, 0, 0).expect("valid time"),
        }
    }
}

impl QuietHours {
    /// True when the local clock time falls inside the window.
    pub fn contains(&self, t: NaiveTime) -> bool {
        if self.start == self.end {
            false
        } else if self.start < self.end {
            self.start <= t && t < self.end
        } else {
            t >= self.start || t < self.end
        }
    }

    /// How the window reads to a person: `21:00–08:00`, or `off` when start and end are
    /// the same time (nothing is held back).
    pub fn describe(&self) -> String {
        if self.start == self.end {
            "off".into()
        } else {
            format!(
                "{}–{}",
                self.start.format("%H:%M"),
                self.end.format("%H:%M")
            )
        }
    }

    /// Moves an instant inside the window to the window's end (local time in `tz`).
    pub fn defer(&self, when: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
        let local = when.with_timezone(&tz).naive_local();
        if !self.contains(local.time()) {
            return when;
        }
        let end_day: NaiveDate = if self.start > self.end && local.time() >= self.start {
            local.date() + Duration::days(1)
        } else {
            local.date()
        };
        resolve_local(tz, end_day.and_time(self.end))
    }
}

/// Parses "HH:MM" as used in commands, plans and settings.
pub fn parse_clock(text: &str) -> Option<NaiveTime> {
    let (h, m) = text.trim().split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    NaiveTime::from_hms_opt(h.parse().ok()?, m.parse().ok()?, 0)
}

/// Parses a time zone name such as `Europe/Berlin`.
pub fn parse_zone(name: &str) -> Result<Tz, String> {
    name.trim().parse::<Tz>().map_err(|_| {
        format!(
            "`{}` is not a time zone name; use one like Europe/Berlin or America/New_York",
            name.trim()
        )
    })
}

/// Cities people type that the tz database does not name its zones after (it names one
/// city per zone): the clinics' own countries first, then large cities often travelled
/// to. Lowercase, spaces as `_`, as `find_zone` compares.
const CITIES: &[(&str, &str)] = &[
    ("munich", "Europe/Berlin"),
    ("münchen", "Europe/Berlin"),
    ("hamburg", "Europe/Berlin"),
    ("frankfurt", "Europe/Berlin"),
    ("cologne", "Europe/Berlin"),
    ("köln", "Europe/Berlin"),
    ("düsseldorf", "Europe/Berlin"),
    ("stuttgart", "Europe/Berlin"),
    ("leipzig", "Europe/Berlin"),
    ("dresden", "Europe/Berlin"),
    ("hannover", "Europe/Berlin"),
    ("nuremberg", "Europe/Berlin"),
    ("nürnberg", "Europe/Berlin"),
    ("bremen", "Europe/Berlin"),
    ("graz", "Europe/Vienna"),
    ("salzburg", "Europe/Vienna"),
    ("innsbruck", "Europe/Vienna"),
    ("linz", "Europe/Vienna"),
    ("wien", "Europe/Vienna"),
    ("geneva", "Europe/Zurich"),
    ("genf", "Europe/Zurich"),
    ("basel", "Europe/Zurich"),
    ("bern", "Europe/Zurich"),
    ("zürich", "Europe/Zurich"),
    ("milan", "Europe/Rome"),
    ("barcelona", "Europe/Madrid"),
    ("porto", "Europe/Lisbon"),
    ("nice", "Europe/Paris"),
    ("venice", "Europe/Rome"),
    ("florence", "Europe/Rome"),
    ("munchen", "Europe/Berlin"),
    ("san_francisco", "America/Los_Angeles"),
    ("washington", "America/New_York"),
    ("boston", "America/New_York"),
    ("miami", "America/New_York"),
    ("dubai", "Asia/Dubai"),
    ("beijing", "Asia/Shanghai"),
    ("delhi", "Asia/Kolkata"),
    ("mumbai", "Asia/Kolkata"),
    ("wellington", "Pacific/Auckland"),
];

/// A zone from what a traveller types: an IANA name in any case ("europe/paris") or a
/// city from one ("Lisbon", "new york").
pub fn find_zone(query: &str) -> Option<Tz> {
    let q = query.trim();
    if let Ok(tz) = q.parse::<Tz>() {
        return Some(tz);
    }
    let wanted = q.replace(' ', "_").to_lowercase();
    if wanted.is_empty() {
        return None;
    }
    if let Some((_, zone)) = CITIES.iter().find(|(city, _)| *city == wanted)
        && let Ok(tz) = zone.parse::<Tz>()
    {
        return Some(tz);
    }
    let zones = chrono_tz::TZ_VARIANTS.iter();
    zones
        .clone()
        .find(|tz| tz.name().to_lowercase() == wanted)
        .or_else(|| {
            zones.clone().find(|tz| {
                !tz.name().starts_with("Etc/")
                    && tz
                        .name()
                        .rsplit('/')
                        .next()
                        .map(str::to_lowercase)
                        .as_deref()
                        == Some(wanted.as_str())
            })
        })
        .copied()
}

/// The time zone at a place, from the tz boundary data bundled in `tzf-rs` (so Lisbon is
/// Europe/Lisbon, with its summer time). Loaded on first use, then kept. At sea, where
/// the data has only Etc/GMT±N zones, and if the data names a zone chrono-tz does not
/// know, the whole-hour zone of the longitude.
pub fn zone_at(latitude: f64, longitude: f64) -> Tz {
    static FINDER: std::sync::LazyLock<tzf_rs::DefaultFinder> =
        std::sync::LazyLock::new(tzf_rs::DefaultFinder::new);
    if !(-90.0..=90.0).contains(&latitude) || !(-180.0..=180.0).contains(&longitude) {
        return zone_from_longitude(longitude.clamp(-180.0, 180.0));
    }
    FINDER
        .get_tz_name(longitude, latitude)
        .parse()
        .unwrap_or_else(|_| zone_from_longitude(longitude))
}

/// The whole-hour zone of a longitude, for a shared location. It knows no summer time,
/// which is why the patient is told to send their city for the exact zone.
pub fn zone_from_longitude(longitude: f64) -> Tz {
    let hours = (longitude / 15.0).round().clamp(-12.0, 14.0) as i32;
    // The tz database's Etc zones count the other way: Etc/GMT-1 is UTC+1.
    let name = match hours {
        0 => "Etc/GMT".to_string(),
        h if h > 0 => format!("Etc/GMT-{h}"),
        h => format!("Etc/GMT+{}", -h),
    };
    name.parse().unwrap_or(chrono_tz::UTC)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::America::New_York;
    use chrono_tz::Europe::Berlin;
    use proptest::prelude::*;

    fn local(tz: Tz, s: &str) -> DateTime<Utc> {
        resolve_local(
            tz,
            NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap(),
        )
    }

    #[test]
    fn a_place_gets_its_real_zone_not_a_whole_hour_one() {
        assert_eq!(
            zone_at(38.72, -9.14),
            "Europe/Lisbon".parse::<Tz>().unwrap()
        );
        assert_eq!(zone_at(52.5, 13.4), Berlin);
        assert_eq!(
            zone_at(-36.85, 174.76),
            "Pacific/Auckland".parse::<Tz>().unwrap()
        );
        assert_eq!(zone_at(40.71, -74.0), New_York);
        // Out of range input still gets a zone.
        assert_eq!(zone_at(123.0, 13.4), zone_from_longitude(13.4));
    }

    #[test]
    fn cities_the_tz_database_does_not_name_are_found_too() {
        assert_eq!(find_zone("Munich"), Some(Berlin));
        assert_eq!(find_zone("münchen"), Some(Berlin));
        assert_eq!(find_zone("Auckland"), "Pacific/Auckland".parse().ok());
        assert_eq!(
            find_zone("san francisco"),
            "America/Los_Angeles".parse().ok()
        );
        assert_eq!(find_zone("Atlantis"), None);
    }

    #[test]
    fn quiet_hours_read_as_a_window_or_off() {
        assert_eq!(QuietHours::default().describe(), "21:00–08:00");
        let clock = |s| parse_clock(s).unwrap();
        let off = QuietHours {
            start: clock("08:00"),
            end: clock("08:00"),
        };
        assert_eq!(off.describe(), "off");
    }

    fn show(tz: Tz, t: DateTime<Utc>) -> String {
        t.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string()
    }

    fn days(n: i64) -> Offset {
        Offset {
            days: n,
            elapsed: Duration::zero(),
        }
    }

    #[test]
    fn calendar_days_keep_clock_time_across_spring_forward() {
        // Friday 27 March 2026 10:00 in Berlin; clocks go forward on Sunday 29 March.
        let session = local(Berlin, "2026-03-27 10:00");
        let due = due_at(session, Berlin, days(3), None);
        assert_eq!(show(Berlin, due), "2026-03-30 10:00 CEST");
        assert_eq!(due - session, Duration::hours(71));
    }

    #[test]
    fn calendar_days_keep_clock_time_across_fall_back() {
        let session = local(New_York, "2026-10-30 10:00");
        let due = due_at(session, New_York, days(3), None);
        assert_eq!(show(New_York, due), "2026-11-02 10:00 EST");
        assert_eq!(due - session, Duration::hours(73));
    }

    #[test]
    fn hours_are_elapsed_time_across_dst() {
        let session = local(Berlin, "2026-03-28 10:00");
        let o = Offset {
            days: 0,
            elapsed: Duration::hours(24),
        };
        assert_eq!(
            show(Berlin, due_at(session, Berlin, o, None)),
            "2026-03-29 11:00 CEST"
        );
    }

    #[test]
    fn nonexistent_local_time_moves_to_end_of_gap() {
        // 02:30 on 29 March 2026 does not exist in Berlin.
        assert_eq!(
            show(Berlin, local(Berlin, "2026-03-29 02:30")),
            "2026-03-29 03:00 CEST"
        );
        // New York springs forward on 8 March 2026.
        assert_eq!(
            show(New_York, local(New_York, "2026-03-08 02:15")),
            "2026-03-08 03:00 EDT"
        );
    }

    #[test]
    fn ambiguous_local_time_takes_the_earlier() {
        // 02:30 on 25 October 2026 happens twice in Berlin.
        let t = local(Berlin, "2026-10-25 02:30");
        assert_eq!(show(Berlin, t), "2026-10-25 02:30 CEST");
        let t = local(New_York, "2026-11-01 01:30");
        assert_eq!(show(New_York, t), "2026-11-01 01:30 EDT");
    }

    #[test]
    fn anchored_step_lands_in_the_gap_then_moves() {
        let session = local(Berlin, "2026-03-28 02:30");
        let due = due_at(session, Berlin, days(1), None);
        assert_eq!(show(Berlin, due), "2026-03-29 03:00 CEST");
        let at = NaiveTime::from_hms_opt(9, 0, 0);
        assert_eq!(
            show(Berlin, due_at(session, Berlin, days(1), at)),
            "2026-03-29 09:00 CEST"
        );
    }

    #[test]
    fn quiet_hours_defer_to_the_morning() {
        let q = QuietHours::default();
        let late = local(Berlin, "2026-11-23 22:15");
        assert_eq!(show(Berlin, q.defer(late, Berlin)), "2026-11-24 08:00 CET");
        let early = local(Berlin, "2026-11-24 03:00");
        assert_eq!(show(Berlin, q.defer(early, Berlin)), "2026-11-24 08:00 CET");
        let day = local(Berlin, "2026-11-24 12:00");
        assert_eq!(q.defer(day, Berlin), day);
        // The boundaries: 21:00 is quiet, 08:00 is not.
        assert!(q.contains(NaiveTime::from_hms_opt(21, 0, 0).unwrap()));
        assert!(!q.contains(NaiveTime::from_hms_opt(8, 0, 0).unwrap()));
    }

    #[test]
    fn quiet_hours_across_fall_back_night() {
        let q = QuietHours::default();
        let late = local(New_York, "2026-10-31 23:00");
        assert_eq!(
            show(New_York, q.defer(late, New_York)),
            "2026-11-01 08:00 EST"
        );
    }

    #[test]
    fn daytime_window_and_empty_window() {
        let q = QuietHours {
            start: parse_clock("12:00").unwrap(),
            end: parse_clock("14:00").unwrap(),
        };
        let t = local(Berlin, "2026-11-24 13:00");
        assert_eq!(show(Berlin, q.defer(t, Berlin)), "2026-11-24 14:00 CET");
        let none = QuietHours {
            start: parse_clock("08:00").unwrap(),
            end: parse_clock("08:00").unwrap(),
        };
        assert_eq!(none.defer(t, Berlin), t);
    }

    #[test]
    fn zones_from_cities_names_and_longitudes() {
        assert_eq!(find_zone("Lisbon"), Some(chrono_tz::Europe::Lisbon));
        assert_eq!(find_zone("new york"), Some(New_York));
        assert_eq!(find_zone("europe/berlin"), Some(Berlin));
        assert_eq!(find_zone("Atlantis"), None);
        assert_eq!(find_zone("  "), None);
        assert_eq!(zone_from_longitude(13.4).name(), "Etc/GMT-1");
        assert_eq!(zone_from_longitude(-74.0).name(), "Etc/GMT+5");
        assert_eq!(zone_from_longitude(0.1).name(), "Etc/GMT");
        assert_eq!(zone_from_longitude(179.9).name(), "Etc/GMT-12");
    }

    #[test]
    fn clock_and_zone_parsing() {
        assert_eq!(parse_clock("9:05"), NaiveTime::from_hms_opt(9, 5, 0));
        assert_eq!(parse_clock("24:00"), None);
        assert_eq!(parse_clock("12:5"), None);
        assert_eq!(parse_clock("noon"), None);
        assert!(parse_zone("Europe/Berlin").is_ok());
        assert!(
            parse_zone("Mars/Olympus")
                .unwrap_err()
                .contains("Mars/Olympus")
        );
    }

    proptest! {
        #[test]
        fn resolved_local_times_are_never_before_the_asked_time(
            secs in 1_700_000_000i64..1_900_000_000, zone in 0usize..2
        ) {
            let tz = [Berlin, New_York][zone];
            let naive = DateTime::from_timestamp(secs, 0).unwrap().naive_utc();
            let t = resolve_local(tz, naive);
            let back = t.with_timezone(&tz).naive_local();
            // Equal when the time exists; later (end of the gap) when it does not.
            prop_assert!(back >= naive);
            prop_assert!(back - naive <= Duration::hours(1));
        }

        #[test]
        fn deferred_times_are_outside_quiet_hours_and_not_earlier(
            secs in 1_700_000_000i64..1_900_000_000, zone in 0usize..2
        ) {
            let tz = [Berlin, New_York][zone];
            let q = QuietHours::default();
            let t = DateTime::from_timestamp(secs, 0).unwrap();
            let d = q.defer(t, tz);
            prop_assert!(d >= t);
            prop_assert!(!q.contains(d.with_timezone(&tz).time()));
            prop_assert!(d - t <= Duration::hours(12));
        }

        #[test]
        fn calendar_days_keep_the_local_clock(
            secs in 1_700_000_000i64..1_900_000_000, n in 1i64..60
        ) {
            let session = DateTime::from_timestamp(secs, 0).unwrap();
            let due = due_at(session, Berlin, days(n), None);
            let (a, b) = (session.with_timezone(&Berlin), due.with_timezone(&Berlin));
            prop_assert_eq!(b.date_naive(), a.date_naive() + Duration::days(n));
            // Same clock time unless it fell into a gap.
            prop_assert!(b.time() >= a.time() || b.time().hour() == 3);
        }
    }
}
