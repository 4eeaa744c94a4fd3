//! A clinic's own timing of a plan: steps moved to another offset or switched off.
//!
//! The plan file is the default for every clinic; an owner changes timing for their
//! clinic only, from Telegram (`/timing makeup-ok 36h`, `/timing activities off`).
//! Applying the changes is pure: plan + changes → the clinic's plan, which
//! `Plan::schedule` turns into due times as before.

use chrono::NaiveTime;

use super::offset::{Offset, parse_offset};
use super::plan::{Plan, Step};
use super::time::parse_clock;

/// One step's timing at a clinic, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepTiming {
    /// Due `after` the session, at the local clock time `at` when given.
    Moved {
        after: Offset,
        at: Option<NaiveTime>,
    },
    /// Not sent to this clinic's patients.
    Off,
    /// As in the plan file.
    Default,
}

/// What `/timing <step> …` asks for, before it is checked against the step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimingRequest {
    /// A new offset; `at` None keeps the step's anchor if the offset is whole days.
    Move {
        after: Offset,
        at: Option<NaiveTime>,
    },
    Off,
    Default,
}

/// Reads `<step> <after> [[at] HH:MM]`, `<step> off` or `<step> on|default`: what
/// `/timing` shows (`1d at 09:00`) reads back as it is.
pub fn parse_request(args: &str) -> Result<(String, TimingRequest), String> {
    const USAGE: &str = "Use: /timing <step> <after> [at HH:MM], /timing <step> off, or /timing <step> default (e.g. /timing makeup-ok 36h, /timing sun-morning 2d at 10:00)";
    let mut words = args.split_whitespace();
    let (Some(step), Some(first)) = (words.next(), words.next()) else {
        return Err(USAGE.into());
    };
    let rest: Vec<&str> = words.collect();
    let request = match first.to_ascii_lowercase().as_str() {
        "off" if rest.is_empty() => TimingRequest::Off,
        "on" | "default" if rest.is_empty() => TimingRequest::Default,
        _ => {
            // The last word may be a clock time; everything before it is the offset.
            let (mut after_words, at) = match rest.last().and_then(|w| parse_clock(w)) {
                Some(t) => (&rest[..rest.len() - 1], Some(t)),
                None => (&rest[..], None),
            };
            if at.is_some()
                && let Some((last, before)) = after_words.split_last()
                && last.eq_ignore_ascii_case("at")
            {
                after_words = before;
            }
            let text = std::iter::once(first)
                .chain(after_words.iter().copied())
                .collect::<Vec<_>>()
                .join(" ");
            let after = parse_offset(&text).map_err(|e| format!("{e}. {USAGE}"))?;
            if let Some(t) = at
                && !after.is_whole_days()
            {
                return Err(format!(
                    "a clock time only goes with whole days: `0d at {t}` is the session's day, \
                     `1d at {t}` the day after; `{text}` is not whole days (without a clock \
                     time, `{text}` alone is due {text} after the session)",
                    t = t.format("%H:%M")
                ));
            }
            TimingRequest::Move { after, at }
        }
    };
    Ok((step.to_string(), request))
}

/// The timing a request gives `step` (as in the plan file). A step anchored at a clock
/// time keeps its anchor when moved by whole days and loses it otherwise.
pub fn resolve(step: &Step, request: &TimingRequest) -> StepTiming {
    match request {
        TimingRequest::Off => StepTiming::Off,
        TimingRequest::Default => StepTiming::Default,
        TimingRequest::Move { after, at } => StepTiming::Moved {
            after: *after,
            at: match at {
                Some(t) => Some(*t),
                None if after.is_whole_days() => step.at,
                None => None,
            },
        },
    }
}

/// The clinic's plan: `changes` (step id → timing) applied to the file's plan. Steps
/// switched off are left out; unknown step ids are ignored (a plan file may have lost
/// a step since the change was saved).
pub fn apply(plan: &Plan, changes: &[(String, StepTiming)]) -> Plan {
    let mut out = plan.clone();
    out.steps.retain_mut(
        |step| match changes.iter().rev().find(|(id, _)| *id == step.id) {
            None | Some((_, StepTiming::Default)) => true,
            Some((_, StepTiming::Off)) => false,
            Some((_, StepTiming::Moved { after, at })) => {
                step.after = *after;
                step.at = *at;
                true
            }
        },
    );
    out
}

/// "24h", "1d at 09:00", "0d at 19:00": how a step's timing reads in a list, and what
/// `/timing <step> …` reads back. A clock time goes with whole days, shown as days.
pub fn describe(after: Offset, at: Option<NaiveTime>) -> String {
    match at {
        Some(t) if after.is_whole_days() => {
            let days = if after.days != 0 && after.days % 7 == 0 {
                format!("{}w", after.days / 7)
            } else {
                format!("{}d", after.days)
            };
            format!("{days} at {}", t.format("%H:%M"))
        }
        Some(t) => format!("{} at {}", short(after), t.format("%H:%M")),
        None => short(after),
    }
}

/// An offset the way people type it (`36h`, `1d 30m`, `4w`), which `parse_offset` reads
/// back: stored timings are written with this.
pub fn short(offset: Offset) -> String {
    let mut parts = Vec::new();
    if offset.days != 0 {
        if offset.days % 7 == 0 {
            parts.push(format!("{}w", offset.days / 7));
        } else {
            parts.push(format!("{}d", offset.days));
        }
    }
    let secs = offset.elapsed.num_seconds();
    if secs != 0 || parts.is_empty() {
        parts.push(if secs != 0 && secs % 3600 == 0 {
            format!("{}h", secs / 3600)
        } else if secs != 0 && secs % 60 == 0 {
            format!("{}m", secs / 60)
        } else {
            format!("{secs}s")
        });
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::{QuietHours, resolve_local};
    use chrono::NaiveDateTime;
    use chrono_tz::Europe::Berlin;

    const PLAN: &str = r#"
name = "Test"
[[step]]
id = "sun-morning"
after = "1d"
at = "09:00"
[[step]]
id = "makeup-ok"
after = "24h"
[[step]]
id = "activities"
after = "1d"
at = "12:00"
"#;

    fn plan() -> Plan {
        Plan::parse("t", "t.toml", PLAN).unwrap()
    }

    #[test]
    fn reads_moves_switches_and_defaults() {
        let (step, r) = parse_request("makeup-ok 36h").unwrap();
        assert_eq!(step, "makeup-ok");
        assert_eq!(
            r,
            TimingRequest::Move {
                after: parse_offset("36h").unwrap(),
                at: None
            }
        );
        assert_eq!(
            parse_request("activities off").unwrap().1,
            TimingRequest::Off
        );
        assert_eq!(
            parse_request("activities ON").unwrap().1,
            TimingRequest::Default
        );
        assert_eq!(
            parse_request("sun-morning 2d 10:30").unwrap().1,
            TimingRequest::Move {
                after: parse_offset("2d").unwrap(),
                at: parse_clock("10:30")
            }
        );
        assert!(parse_request("sun-morning").is_err());
        assert!(
            parse_request("sun-morning soon")
                .unwrap_err()
                .contains("not a duration")
        );
        assert!(
            parse_request("sun-morning 36h 10:00")
                .unwrap_err()
                .contains("whole days")
        );
    }

    #[test]
    fn every_timing_shown_reads_back_as_the_same_timing() {
        for (after, at) in [
            ("0s", Some("19:00")),
            ("1d", Some("09:00")),
            ("2w", Some("10:30")),
            ("36h", None),
            ("1d 30m", None),
            ("0s", None),
        ] {
            let after = parse_offset(after).unwrap();
            let at = at.and_then(parse_clock);
            let shown = describe(after, at);
            let (_, read) = parse_request(&format!("step {shown}")).unwrap();
            assert_eq!(read, TimingRequest::Move { after, at }, "{shown}");
        }
        assert_eq!(
            describe(parse_offset("0s").unwrap(), parse_clock("19:00")),
            "0d at 19:00"
        );
    }

    #[test]
    fn an_anchor_stays_with_whole_days_only() {
        let p = plan();
        let sun = p.step("sun-morning").unwrap();
        let two_days = TimingRequest::Move {
            after: parse_offset("2d").unwrap(),
            at: None,
        };
        assert_eq!(
            resolve(sun, &two_days),
            StepTiming::Moved {
                after: parse_offset("2d").unwrap(),
                at: parse_clock("09:00")
            }
        );
        let hours = TimingRequest::Move {
            after: parse_offset("36h").unwrap(),
            at: None,
        };
        assert_eq!(
            resolve(sun, &hours),
            StepTiming::Moved {
                after: parse_offset("36h").unwrap(),
                at: None
            }
        );
    }

    #[test]
    fn changes_move_and_remove_steps_and_the_latest_wins() {
        let p = plan();
        let changed = apply(
            &p,
            &[
                ("activities".into(), StepTiming::Off),
                (
                    "makeup-ok".into(),
                    StepTiming::Moved {
                        after: parse_offset("12h").unwrap(),
                        at: None,
                    },
                ),
                (
                    "makeup-ok".into(),
                    StepTiming::Moved {
                        after: parse_offset("36h").unwrap(),
                        at: None,
                    },
                ),
                ("gone".into(), StepTiming::Off),
            ],
        );
        let ids: Vec<&str> = changed.steps.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["sun-morning", "makeup-ok"]);
        let session = resolve_local(
            Berlin,
            NaiveDateTime::parse_from_str("2026-11-23 08:00", "%Y-%m-%d %H:%M").unwrap(),
        );
        let due = changed.schedule(session, Berlin, QuietHours::default());
        let makeup = due.iter().find(|d| d.step_id == "makeup-ok").unwrap();
        assert_eq!(makeup.due_at, session + chrono::Duration::hours(36));
        // Back to default restores the file's timing.
        let back = apply(&changed, &[("makeup-ok".into(), StepTiming::Default)]);
        assert_eq!(
            back.step("makeup-ok").unwrap().after,
            parse_offset("36h").unwrap()
        );
        let back = apply(
            &p,
            &[
                ("activities".into(), StepTiming::Off),
                ("activities".into(), StepTiming::Default),
            ],
        );
        assert_eq!(back, p);
    }

    #[test]
    fn describes_offsets_with_anchors() {
        assert_eq!(
            describe(parse_offset("1d").unwrap(), parse_clock("09:00")),
            "1d at 09:00"
        );
        assert_eq!(describe(parse_offset("36h").unwrap(), None), "36h");
        for text in ["0s", "90m", "36h", "1d 30m", "4w", "10d"] {
            let o = parse_offset(text).unwrap();
            assert_eq!(short(o), text);
            assert_eq!(parse_offset(&short(o)).unwrap(), o);
        }
    }
}
