//! A course plan: which steps, and when each is due relative to the session.
//!
//! Plans live in `messages/plans/<plan>.toml`. Loading validates everything a clinic could
//! get wrong (durations, duplicate ids, anchors) and reports `file:line: problem`, so a
//! broken plan stops start-up instead of surfacing at send time.

use std::collections::HashSet;

use chrono::{DateTime, Duration, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use toml::Spanned;

use super::offset::{Offset, parse_elapsed, parse_offset};
use super::problems::{Problem, line_of};
use super::time::{QuietHours, due_at, parse_clock};

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// File stem: `microneedling`.
    pub id: String,
    pub name: String,
    pub steps: Vec<Step>,
    /// The least time between two sessions of this treatment (`min_gap`): `/book` and
    /// `/done` sooner ask staff to confirm.
    pub min_gap: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub id: String,
    pub after: Offset,
    /// Local clock time on the due day, for steps such as "next morning at 9".
    pub at: Option<NaiveTime>,
    /// How late the step may still go out; past that it is skipped and recorded.
    pub expires: Option<Duration>,
    /// A check-in asks the patient how they are.
    pub checkin: bool,
    /// The step gives an all-clear (makeup again, activities back, book the next
    /// session): held while a warning sign from a check-in is open.
    pub all_clear: bool,
    /// The step asks for a photo of the treated area (optional for the patient; the
    /// bot adds who will see it). A photo answering it goes to the clinic's staff.
    pub photo: bool,
}

/// One reminder as planned for a patient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub step_id: String,
    pub due_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlan {
    name: String,
    #[serde(default)]
    min_gap: Option<Spanned<String>>,
    #[serde(default)]
    step: Vec<Spanned<RawStep>>,
}

/// A step as written; shared with the clinic's course files (`course_file.rs`), which
/// carry the same fields plus their wording.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStep {
    pub id: Spanned<String>,
    pub after: Spanned<String>,
    #[serde(default)]
    pub expires: Option<Spanned<String>>,
    #[serde(default)]
    pub at: Option<Spanned<String>>,
    #[serde(default)]
    pub checkin: bool,
    #[serde(default)]
    pub all_clear: bool,
    #[serde(default)]
    pub photo: bool,
}

impl Plan {
    /// Parses a plan file's text; `file` names it in problems.
    pub fn parse(id: &str, file: &str, text: &str) -> Result<Plan, Vec<Problem>> {
        let raw: RawPlan = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(1);
            vec![Problem::new(file, line, e.message())]
        })?;
        let raw_steps: Vec<&RawStep> = raw.step.iter().map(|s| s.get_ref()).collect();
        let (steps, mut problems) = check_steps(file, text, &raw_steps);
        let min_gap = match &raw.min_gap {
            None => None,
            Some(g) => match parse_elapsed(g.get_ref()) {
                Ok(d) => Some(d),
                Err(e) => {
                    problems.push(Problem::new(
                        file,
                        line_of(text, g.span().start),
                        format!("min_gap: {e}"),
                    ));
                    None
                }
            },
        };
        if problems.is_empty() {
            Ok(Plan {
                id: id.to_string(),
                name: raw.name,
                steps,
                min_gap,
            })
        } else {
            Err(problems)
        }
    }

    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// Whether `id` is a step asking for a photo.
    pub fn is_photo_step(&self, id: &str) -> bool {
        self.step(id).is_some_and(|s| s.photo)
    }

    /// The ids of the steps that give an all-clear (`all_clear = true`).
    pub fn all_clear_steps(&self) -> Vec<&str> {
        self.steps
            .iter()
            .filter(|s| s.all_clear)
            .map(|s| s.id.as_str())
            .collect()
    }

    /// Every step's due time for a session, quiet hours applied, in due order.
    ///
    /// A step's `expires` counts from its (deferred) due time: quiet hours never make a
    /// reminder too late by themselves.
    pub fn schedule(&self, session: DateTime<Utc>, tz: Tz, quiet: QuietHours) -> Vec<Planned> {
        let mut out: Vec<Planned> = self
            .steps
            .iter()
            .map(|s| {
                let raw = due_at(session, tz, s.after, s.at);
                // An anchored step on the session day may fall before the session itself.
                let raw = raw.max(session);
                let due = quiet.defer(raw, tz);
                Planned {
                    step_id: s.id.clone(),
                    due_at: due,
                    expires_at: s.expires.map(|e| due + e),
                }
            })
            .collect();
        out.sort_by_key(|p| p.due_at);
        out
    }
}

/// Checks steps as written (durations, ids, anchors); every problem names its line.
pub(crate) fn check_steps(
    file: &str,
    text: &str,
    raw_steps: &[&RawStep],
) -> (Vec<Step>, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut seen = HashSet::new();
    let mut steps = Vec::new();
    for s in raw_steps {
        let at_line = |span: std::ops::Range<usize>| line_of(text, span.start);
        let id = s.id.get_ref().trim().to_string();
        if !valid_id(&id) {
            problems.push(Problem::new(
                file,
                at_line(s.id.span()),
                format!("step id `{id}` must be 1 to 40 of a-z, 0-9 and -"),
            ));
        } else if !seen.insert(id.clone()) {
            problems.push(Problem::new(
                file,
                at_line(s.id.span()),
                format!("duplicate step id `{id}`"),
            ));
        }
        let after = match parse_offset(s.after.get_ref()) {
            Ok(o) => Some(o),
            Err(e) => {
                problems.push(Problem::new(
                    file,
                    at_line(s.after.span()),
                    format!("after: {e}"),
                ));
                None
            }
        };
        let expires = match &s.expires {
            None => None,
            Some(x) => match parse_elapsed(x.get_ref()) {
                Ok(d) => Some(d),
                Err(e) => {
                    problems.push(Problem::new(
                        file,
                        at_line(x.span()),
                        format!("expires: {e}"),
                    ));
                    None
                }
            },
        };
        let at = match &s.at {
            None => None,
            Some(x) => match parse_clock(x.get_ref()) {
                Some(t) => Some(t),
                None => {
                    problems.push(Problem::new(
                        file,
                        at_line(x.span()),
                        format!("at: `{}` is not a clock time like 09:00", x.get_ref()),
                    ));
                    None
                }
            },
        };
        if let (Some(o), Some(x)) = (after, &s.at)
            && !o.is_whole_days()
        {
            problems.push(Problem::new(
                file,
                at_line(x.span()),
                "at: only allowed when `after` is whole days (0d, 1d, 2w)",
            ));
        }
        if s.photo && (s.checkin || s.all_clear) {
            // One kind per step: a check-in's buttons or an all-clear's hold would make
            // the photo request ambiguous to the patient and to the bot.
            problems.push(Problem::new(
                file,
                at_line(s.id.span()),
                format!("step `{id}`: a photo request cannot also be a check-in or an all-clear"),
            ));
        }
        if let Some(after) = after {
            steps.push(Step {
                id,
                after,
                at,
                expires,
                checkin: s.checkin,
                all_clear: s.all_clear,
                photo: s.photo,
            });
        }
    }
    if raw_steps.is_empty() {
        problems.push(Problem::new(file, 1, "the plan has no [[step]]"));
    }
    (steps, problems)
}

pub(crate) fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 40
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::resolve_local;
    use chrono::NaiveDateTime;
    use chrono_tz::Europe::Berlin;

    const PLAN: &str = r#"
name = "Test"
[[step]]
id = "now"
after = "0s"
expires = "12h"
[[step]]
id = "evening"
after = "0d"
at = "19:00"
[[step]]
id = "late-night"
after = "10h"
all_clear = true
[[step]]
id = "check"
after = "3d"
checkin = true
[[step]]
id = "photo-day5"
after = "5d"
photo = true
"#;

    fn berlin(s: &str) -> DateTime<Utc> {
        resolve_local(
            Berlin,
            NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap(),
        )
    }

    #[test]
    fn schedules_in_order_with_quiet_hours() {
        let plan = Plan::parse("t", "t.toml", PLAN).unwrap();
        assert!(plan.step("check").unwrap().checkin);
        let got = plan.schedule(berlin("2026-11-23 14:30"), Berlin, QuietHours::default());
        let shown: Vec<_> = got
            .iter()
            .map(|p| {
                (
                    p.step_id.as_str(),
                    p.due_at
                        .with_timezone(&Berlin)
                        .format("%d %H:%M")
                        .to_string(),
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                ("now", "23 14:30".into()),
                ("evening", "23 19:00".into()),
                ("late-night", "24 08:00".into()),
                ("check", "26 14:30".into()),
                ("photo-day5", "28 14:30".into())
            ]
        );
        assert_eq!(got[0].expires_at, Some(got[0].due_at + Duration::hours(12)));
    }

    #[test]
    fn all_clear_steps_are_the_ones_marked() {
        let plan = Plan::parse("t", "t.toml", PLAN).unwrap();
        assert_eq!(plan.all_clear_steps(), ["late-night"]);
        assert!(!plan.step("now").unwrap().all_clear);
    }

    #[test]
    fn photo_steps_are_marked_and_stand_alone() {
        let plan = Plan::parse("t", "t.toml", PLAN).unwrap();
        assert!(plan.is_photo_step("photo-day5"));
        assert!(!plan.is_photo_step("check") && !plan.is_photo_step("nope"));
        let both =
            "name = \"x\"\n[[step]]\nid = \"a\"\nafter = \"1d\"\ncheckin = true\nphoto = true\n";
        let p = Plan::parse("x", "x.toml", both).unwrap_err();
        assert_eq!(
            p[0].to_string(),
            "x.toml:3: step `a`: a photo request cannot also be a check-in or an all-clear"
        );
    }

    #[test]
    fn anchor_before_the_session_goes_at_the_session() {
        let plan = Plan::parse("t", "t.toml", PLAN).unwrap();
        let session = berlin("2026-11-23 20:00");
        let got = plan.schedule(
            session,
            Berlin,
            QuietHours {
                start: parse_clock("23:00").unwrap(),
                end: parse_clock("07:00").unwrap(),
            },
        );
        let evening = got.iter().find(|p| p.step_id == "evening").unwrap();
        assert_eq!(evening.due_at, session);
    }

    #[test]
    fn problems_name_file_and_line() {
        let text = "name = \"x\"\n[[step]]\nid = \"a\"\nafter = \"3 parsecs\"\n[[step]]\nid = \"a\"\nafter = \"1h\"\nat = \"09:00\"\n";
        let problems = Plan::parse("x", "plans/x.toml", text).unwrap_err();
        let shown: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        assert!(
            shown
                .iter()
                .any(|p| p.starts_with("plans/x.toml:4: after:")),
            "{shown:?}"
        );
        assert!(
            shown
                .iter()
                .any(|p| p == "plans/x.toml:6: duplicate step id `a`"),
            "{shown:?}"
        );
        assert!(
            shown
                .iter()
                .any(|p| p.starts_with("plans/x.toml:8: at: only allowed")),
            "{shown:?}"
        );
    }

    #[test]
    fn syntax_errors_and_unknown_fields_are_reported() {
        let p = Plan::parse(
            "x",
            "x.toml",
            "name = \"x\"\n[[step]]\nid = \"a\"\nafter = \"1h\"\nwhen = 3\n",
        )
        .unwrap_err();
        assert!(p[0].to_string().starts_with("x.toml:5:"), "{}", p[0]);
        let p = Plan::parse("x", "x.toml", "name = \n").unwrap_err();
        assert!(p[0].to_string().starts_with("x.toml:1:"), "{}", p[0]);
        let p = Plan::parse("x", "x.toml", "name = \"x\"\n").unwrap_err();
        assert!(p[0].to_string().contains("no [[step]]"));
    }
}
