//! Patient safety: the lines the bot itself writes into a plan's first message and every
//! check-in (the warning signs with whom to call, and the emergency line), the
//! emergency number for a clinic's zone, and the timing words texts take from the
//! clinic's timing ("no makeup for {makeup_after}" → "36 hours" after `/timing`).
//!
//! The safety lines are placeholders rather than template text so a clinic's edit can
//! reword everything around them but never drop them: `{warning_signs}` and
//! `{urgent_line}` are required in those steps, in the messages folder and in `/edit`.

use super::offset::Offset;
use super::plan::Plan;

/// Filled by the bot with the warning signs and the clinic's contact.
pub const WARNING_SIGNS: &str = "warning_signs";
/// Filled by the bot with the emergency line (trouble breathing, sudden swelling).
pub const URGENT_LINE: &str = "urgent_line";
/// Placeholders a plan's first step and every check-in must contain.
pub const SAFETY_PLACEHOLDERS: &[&str] = &[WARNING_SIGNS, URGENT_LINE];

/// Timing placeholders a step may use: the name, and the step whose offset it reads
/// (`None`: the step being sent).
pub const TIMING_PLACEHOLDERS: &[(&str, Option<&str>)] =
    &[("after", None), ("makeup_after", Some("makeup-ok"))];

/// Whether a step must carry the safety lines: the plan's first step (a patient who
/// reads only that one must know the warning signs) and every check-in.
pub fn needs_safety_lines(plan: &Plan, step_id: &str) -> bool {
    plan.steps.first().is_some_and(|s| s.id == step_id)
        || plan.step(step_id).is_some_and(|s| s.checkin)
}

/// Why a required placeholder is required, for the refusal a staff member reads.
pub fn why_required(name: &str) -> &'static str {
    match name {
        WARNING_SIGNS => {
            ": the bot writes the warning signs and the clinic's phone number there, and every patient must see them"
        }
        URGENT_LINE => {
            ": the bot writes what to do in an emergency (trouble breathing, sudden swelling) there, and every patient must see it"
        }
        _ => "",
    }
}

/// The emergency number for a clinic's IANA zone, where the zone settles it; `None`
/// means "your local emergency number" in the patient's text. Only numbers that call
/// an ambulance are listed; a clinic elsewhere sets its own with `/settings emergency`.
pub fn emergency_number_for_zone(zone: &str) -> Option<&'static str> {
    // 112 reaches emergency services across Europe (EU law, and the UK, Switzerland,
    // Norway, Iceland, Turkey and others answer it too).
    const NANP_911: &[&str] = &[
        "America/New_York",
        "America/Chicago",
        "America/Denver",
        "America/Los_Angeles",
        "America/Phoenix",
        "America/Anchorage",
        "America/Detroit",
        "America/Boise",
        "America/Juneau",
        "America/Toronto",
        "America/Vancouver",
        "America/Edmonton",
        "America/Winnipeg",
        "America/Halifax",
        "America/St_Johns",
        "America/Regina",
        "America/Mexico_City",
        "America/Monterrey",
        "America/Tijuana",
        "America/Cancun",
        "Pacific/Honolulu",
    ];
    const OTHERS: &[(&str, &str)] = &[
        ("Pacific/Auckland", "111"),
        ("Asia/Tokyo", "119"),
        ("Asia/Seoul", "119"),
        ("Asia/Kolkata", "112"),
        ("Asia/Hong_Kong", "999"),
        ("Atlantic/Reykjavik", "112"),
        ("Atlantic/Canary", "112"),
        ("Atlantic/Madeira", "112"),
        ("Atlantic/Azores", "112"),
    ];
    let zone = zone.trim();
    if zone.starts_with("Europe/") {
        Some("112")
    } else if NANP_911.contains(&zone)
        || zone.starts_with("US/")
        || zone.starts_with("Canada/")
        || zone.starts_with("America/Indiana/")
        || zone.starts_with("America/Kentucky/")
    {
        Some("911")
    } else if zone.starts_with("Australia/") {
        Some("000")
    } else {
        OTHERS.iter().find(|(z, _)| *z == zone).map(|(_, n)| *n)
    }
}

/// Reads `/settings emergency <number>`: digits (spaces and dashes allowed), 2 to 15 of
/// them. `auto` goes back to the number of the clinic's zone (`Ok(None)`).
pub fn parse_emergency_number(text: &str) -> Result<Option<String>, String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("auto") {
        return Ok(None);
    }
    let digits = text.chars().filter(char::is_ascii_digit).count();
    let only_allowed = text
        .chars()
        .all(|c| c.is_ascii_digit() || c == ' ' || c == '-');
    if !only_allowed || !(2..=15).contains(&digits) || text.chars().count() > 20 {
        return Err(
            "An emergency number is 2 to 15 digits, e.g. /settings emergency 112 (or `auto` for the number of the clinic's time zone).".into(),
        );
    }
    Ok(Some(text.to_string()))
}

/// The line staff read under `/enroll` while the clinic has no contact.
pub fn missing_contact_warning(contact: &str) -> Option<&'static str> {
    contact.trim().is_empty().then_some(
        "⚠️ Your clinic has no phone number set, so the warning signs patients get cannot say whom to call. An owner sets it with /settings contact +49 30 1234567.",
    )
}

/// An offset in plain words for a patient: "24 hours", "3 days", "4 weeks". Two or more
/// whole weeks read as weeks ("7 days" reads better than "1 week" in a sentence), whole
/// days as days, anything with hours as hours (a day and a half is
/// "36 hours"). Built in for `en`, `de` and `es`; other languages get English, like the
/// weekday names in `render.rs`.
pub fn offset_words(lang: &str, offset: Offset) -> String {
    let (n, unit) = if offset.elapsed.is_zero() {
        if offset.days >= 14 && offset.days % 7 == 0 {
            (offset.days / 7, Unit::Week)
        } else {
            (offset.days, Unit::Day)
        }
    } else {
        let minutes = offset.nominal().num_minutes();
        if minutes % 60 == 0 {
            (minutes / 60, Unit::Hour)
        } else {
            (minutes, Unit::Minute)
        }
    };
    format!("{n} {}", unit.name(lang, n == 1))
}

#[derive(Clone, Copy)]
enum Unit {
    Minute,
    Hour,
    Day,
    Week,
}

impl Unit {
    fn name(self, lang: &str, one: bool) -> &'static str {
        let names: [&str; 2] = match (lang, self) {
            ("de", Unit::Minute) => ["Minute", "Minuten"],
            ("de", Unit::Hour) => ["Stunde", "Stunden"],
            ("de", Unit::Day) => ["Tag", "Tage"],
            ("de", Unit::Week) => ["Woche", "Wochen"],
            ("es", Unit::Minute) => ["minuto", "minutos"],
            ("es", Unit::Hour) => ["hora", "horas"],
            ("es", Unit::Day) => ["día", "días"],
            ("es", Unit::Week) => ["semana", "semanas"],
            (_, Unit::Minute) => ["minute", "minutes"],
            (_, Unit::Hour) => ["hour", "hours"],
            (_, Unit::Day) => ["day", "days"],
            (_, Unit::Week) => ["week", "weeks"],
        };
        names[usize::from(!one)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::offset::parse_offset;

    fn words(lang: &str, text: &str) -> String {
        offset_words(lang, parse_offset(text).unwrap())
    }

    #[test]
    fn offsets_read_as_people_say_them() {
        assert_eq!(words("en", "24h"), "24 hours");
        assert_eq!(words("en", "36h"), "36 hours");
        assert_eq!(words("en", "1d 12h"), "36 hours");
        assert_eq!(words("en", "1d"), "1 day");
        assert_eq!(words("en", "3d"), "3 days");
        assert_eq!(words("en", "4w"), "4 weeks");
        assert_eq!(words("en", "14d"), "2 weeks");
        assert_eq!(words("en", "7d"), "7 days");
        assert_eq!(words("en", "90m"), "90 minutes");
        assert_eq!(words("de", "24h"), "24 Stunden");
        assert_eq!(words("de", "2w"), "2 Wochen");
        assert_eq!(words("de", "1d"), "1 Tag");
        assert_eq!(words("de", "5d"), "5 Tage");
        assert_eq!(words("es", "2h"), "2 horas");
        assert_eq!(words("fr", "2h"), "2 hours");
    }

    #[test]
    fn emergency_numbers_follow_the_zone() {
        assert_eq!(emergency_number_for_zone("Europe/Berlin"), Some("112"));
        assert_eq!(emergency_number_for_zone("Europe/London"), Some("112"));
        assert_eq!(emergency_number_for_zone("America/New_York"), Some("911"));
        assert_eq!(emergency_number_for_zone("America/Toronto"), Some("911"));
        assert_eq!(
            emergency_number_for_zone("America/Indiana/Indianapolis"),
            Some("911")
        );
        assert_eq!(emergency_number_for_zone("Australia/Sydney"), Some("000"));
        assert_eq!(emergency_number_for_zone("Pacific/Auckland"), Some("111"));
        // Unknown: the text says "your local emergency number" rather than guess.
        assert_eq!(emergency_number_for_zone("America/Sao_Paulo"), None);
        assert_eq!(emergency_number_for_zone("UTC"), None);
    }

    #[test]
    fn emergency_numbers_are_digits() {
        assert_eq!(parse_emergency_number(" 112 "), Ok(Some("112".into())));
        assert_eq!(parse_emergency_number("10 177"), Ok(Some("10 177".into())));
        assert_eq!(parse_emergency_number("AUTO"), Ok(None));
        for bad in ["", "1", "call 911", "<b>112</b>", "1234567890123456"] {
            assert!(parse_emergency_number(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_first_step_and_checkins_need_the_safety_lines() {
        let plan = Plan::parse(
            "p",
            "p.toml",
            "name = \"p\"\n[[step]]\nid = \"a\"\nafter = \"0s\"\n[[step]]\nid = \"b\"\nafter = \"1d\"\n[[step]]\nid = \"c\"\nafter = \"3d\"\ncheckin = true\n",
        )
        .unwrap();
        assert!(needs_safety_lines(&plan, "a"));
        assert!(!needs_safety_lines(&plan, "b"));
        assert!(needs_safety_lines(&plan, "c"));
        assert!(!needs_safety_lines(&plan, "nope"));
    }

    #[test]
    fn a_missing_contact_is_named() {
        assert!(missing_contact_warning("").is_some());
        assert!(missing_contact_warning("  ").is_some());
        assert!(missing_contact_warning("+49 30 1").is_none());
    }
}
