//! A clinic's own course as one TOML file: the `messages/plans/` format plus each step's
//! wording per language. The clinic's courses are stored in this form (every version is
//! the whole file), so `/course export` sends back exactly what is in force and an
//! upload is checked by the same parser, with `line N: problem` for every fault.
//!
//! ```toml
//! name = "Chemical peel"
//! min_gap = "4w"            # optional: least time between two sessions
//!
//! [[step]]
//! id = "normal-now"
//! after = "0s"
//! expires = "12h"
//! [step.text.en]
//! title = "Right after your peel"
//! text = "Hello {first_name} … {warning_signs} {urgent_line}"
//! ```

use std::collections::BTreeMap;

use chrono::Duration;
use serde::Deserialize;
use toml::Spanned;

use crate::catalog::STEP_PLACEHOLDERS;
use crate::domain::offset::parse_elapsed;
use crate::domain::plan::{Plan, RawStep, check_steps};
use crate::domain::problems::{Problem, line_of};
use crate::domain::safety::{SAFETY_PLACEHOLDERS, needs_safety_lines};
use crate::domain::template::Template;

/// How a patient's `plan` names a clinic's course: `course:<key>`.
pub const REF_PREFIX: &str = "course:";

/// The plan reference of course `key`.
pub fn plan_ref(key: &str) -> String {
    format!("{REF_PREFIX}{key}")
}

/// The course key of a plan reference, when it names a clinic's course.
pub fn course_key(plan_ref: &str) -> Option<&str> {
    plan_ref.strip_prefix(REF_PREFIX)
}

/// One step as the clinic wrote it (durations kept as typed, so an export reads like
/// the upload).
#[derive(Debug, Clone, PartialEq)]
pub struct CourseStep {
    pub id: String,
    pub after: String,
    pub at: Option<String>,
    pub expires: Option<String>,
    pub checkin: bool,
    pub all_clear: bool,
    /// Asks the patient for a photo of the treated area (`photo = true`).
    pub photo: bool,
    /// language → wording
    pub texts: BTreeMap<String, StepText>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StepText {
    pub title: String,
    pub text: String,
}

/// A whole course as written.
#[derive(Debug, Clone, PartialEq)]
pub struct CourseFile {
    pub name: String,
    pub min_gap: Option<String>,
    pub steps: Vec<CourseStep>,
}

/// A course that passed every check.
#[derive(Debug, Clone)]
pub struct Checked {
    pub file: CourseFile,
    pub plan: Plan,
    pub min_gap: Option<Duration>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCourse {
    name: Spanned<String>,
    #[serde(default)]
    min_gap: Option<Spanned<String>>,
    #[serde(default)]
    step: Vec<RawCourseStep>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCourseStep {
    id: Spanned<String>,
    after: Spanned<String>,
    #[serde(default)]
    expires: Option<Spanned<String>>,
    #[serde(default)]
    at: Option<Spanned<String>>,
    #[serde(default)]
    checkin: bool,
    #[serde(default)]
    all_clear: bool,
    #[serde(default)]
    photo: bool,
    #[serde(default)]
    text: BTreeMap<String, Spanned<RawText>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawText {
    title: Spanned<String>,
    text: Spanned<String>,
}

/// Course names: what staff type and read; short enough for a button.
pub const MAX_NAME_CHARS: usize = 40;

impl CourseFile {
    /// Reads and checks a course file. `key` names the plan (`course:<key>`), `file`
    /// names the file in problems, `languages` are the languages the bot speaks.
    pub fn parse(
        key: &str,
        file: &str,
        text: &str,
        languages: &[&str],
    ) -> Result<Checked, Vec<Problem>> {
        let raw: RawCourse = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(1);
            vec![Problem::new(file, line, e.message())]
        })?;
        let at_line = |span: std::ops::Range<usize>| line_of(text, span.start);
        let mut problems = Vec::new();
        let name = raw.name.get_ref().trim().to_string();
        if name.is_empty()
            || name.chars().count() > MAX_NAME_CHARS
            || name.chars().any(char::is_control)
        {
            problems.push(Problem::new(
                file,
                at_line(raw.name.span()),
                format!("name: 1 to {MAX_NAME_CHARS} characters"),
            ));
        }
        let min_gap = match &raw.min_gap {
            None => None,
            Some(g) => match parse_elapsed(g.get_ref()) {
                Ok(d) => Some(d),
                Err(e) => {
                    problems.push(Problem::new(
                        file,
                        at_line(g.span()),
                        format!("min_gap: {e}"),
                    ));
                    None
                }
            },
        };
        let plan_steps: Vec<RawStep> = raw
            .step
            .iter()
            .map(|s| RawStep {
                id: s.id.clone(),
                after: s.after.clone(),
                expires: s.expires.clone(),
                at: s.at.clone(),
                checkin: s.checkin,
                all_clear: s.all_clear,
                photo: s.photo,
            })
            .collect();
        let refs: Vec<&RawStep> = plan_steps.iter().collect();
        let (steps, step_problems) = check_steps(file, text, &refs);
        // A course may be empty while it is being built; enrolment refuses it.
        problems.extend(
            step_problems
                .into_iter()
                .filter(|p| !(raw.step.is_empty() && p.message.contains("no [[step]]"))),
        );
        let plan = Plan {
            id: plan_ref(key),
            name: name.clone(),
            steps,
            min_gap,
        };
        let mut out_steps = Vec::new();
        for s in &raw.step {
            let id = s.id.get_ref().trim().to_string();
            let mut texts = BTreeMap::new();
            for (lang, t) in &s.text {
                let line = at_line(t.span());
                if !languages.contains(&lang.as_str()) {
                    problems.push(Problem::new(
                        file,
                        line,
                        format!(
                            "step `{id}`: unknown language `{lang}` (known: {})",
                            languages.join(", ")
                        ),
                    ));
                    continue;
                }
                let t = t.get_ref();
                let title = t.title.get_ref().trim().to_string();
                if title.is_empty() || title.chars().any(char::is_control) {
                    problems.push(Problem::new(
                        file,
                        at_line(t.title.span()),
                        format!("step `{id}` ({lang}): the title must be one plain line"),
                    ));
                }
                let required: &[&str] = if needs_safety_lines(&plan, &id) {
                    SAFETY_PLACEHOLDERS
                } else {
                    &[]
                };
                if let Err(e) =
                    Template::parse_requiring(t.text.get_ref(), STEP_PLACEHOLDERS, required)
                {
                    problems.push(Problem::new(
                        file,
                        at_line(t.text.span()),
                        format!("step `{id}` ({lang}): {e}"),
                    ));
                }
                texts.insert(
                    lang.clone(),
                    StepText {
                        title,
                        text: t.text.get_ref().trim().to_string(),
                    },
                );
            }
            out_steps.push(CourseStep {
                id,
                after: s.after.get_ref().trim().to_string(),
                at: s.at.as_ref().map(|a| a.get_ref().trim().to_string()),
                expires: s.expires.as_ref().map(|x| x.get_ref().trim().to_string()),
                checkin: s.checkin,
                all_clear: s.all_clear,
                photo: s.photo,
                texts,
            });
        }
        if !problems.is_empty() {
            problems.sort_by_key(|p| p.line);
            return Err(problems);
        }
        Ok(Checked {
            file: CourseFile {
                name,
                min_gap: raw.min_gap.map(|g| g.get_ref().trim().to_string()),
                steps: out_steps,
            },
            plan,
            min_gap,
        })
    }

    /// The file's text, in the order and form `parse` reads.
    pub fn to_toml(&self) -> String {
        let q = |s: &str| toml::Value::String(s.to_string()).to_string();
        let mut out = format!("name = {}\n", q(&self.name));
        if let Some(g) = &self.min_gap {
            out.push_str(&format!("min_gap = {}\n", q(g)));
        }
        for s in &self.steps {
            out.push_str(&format!(
                "\n[[step]]\nid = {}\nafter = {}\n",
                q(&s.id),
                q(&s.after)
            ));
            if let Some(at) = &s.at {
                out.push_str(&format!("at = {}\n", q(at)));
            }
            if let Some(x) = &s.expires {
                out.push_str(&format!("expires = {}\n", q(x)));
            }
            if s.checkin {
                out.push_str("checkin = true\n");
            }
            if s.all_clear {
                out.push_str("all_clear = true\n");
            }
            if s.photo {
                out.push_str("photo = true\n");
            }
            for (lang, t) in &s.texts {
                out.push_str(&format!(
                    "[step.text.{lang}]\ntitle = {}\ntext = {}\n",
                    q(&t.title),
                    q(&t.text)
                ));
            }
        }
        out
    }

    pub fn step(&self, id: &str) -> Option<&CourseStep> {
        self.steps.iter().find(|s| s.id == id)
    }

    pub fn step_mut(&mut self, id: &str) -> Option<&mut CourseStep> {
        self.steps.iter_mut().find(|s| s.id == id)
    }

    /// Steps with no text in `lang`: a course cannot take patients before each step
    /// has its text in the base language.
    pub fn missing_texts(&self, lang: &str) -> Vec<&str> {
        self.steps
            .iter()
            .filter(|s| !s.texts.contains_key(lang))
            .map(|s| s.id.as_str())
            .collect()
    }
}

/// A course key from its name: lowercase words joined by `-` (`Chemical peel` →
/// `chemical-peel`), at most 40 characters; `None` when nothing is left.
pub fn key_from_name(name: &str) -> Option<String> {
    let mut key = String::new();
    for word in name
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let word: String = word
            .chars()
            .flat_map(char::to_lowercase)
            .map(|c| match c {
                'ä' => 'a',
                'ö' => 'o',
                'ü' => 'u',
                'ß' => 's',
                'é' | 'è' | 'ê' => 'e',
                c => c,
            })
            .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            .collect();
        if word.is_empty() {
            continue;
        }
        if !key.is_empty() {
            key.push('-');
        }
        key.push_str(&word);
    }
    let key: String = key.chars().take(40).collect();
    let key = key.trim_end_matches('-').to_string();
    (!key.is_empty()).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LANGS: &[&str] = &["en", "de"];

    const GOOD: &str = r#"name = "Chemical peel"
min_gap = "4w"

[[step]]
id = "normal-now"
after = "0s"
expires = "12h"
[step.text.en]
title = "Right after"
text = "Hello {first_name}. {warning_signs} {urgent_line}"

[[step]]
id = "hydrate"
after = "1d"
at = "09:00"
photo = true
[step.text.en]
title = "Hydrate"
text = "Drink water."
[step.text.de]
title = "Trinken"
text = "Trinken Sie Wasser."
"#;

    #[test]
    fn a_good_file_reads_and_writes_back_the_same() {
        let c = CourseFile::parse("peel", "peel.toml", GOOD, LANGS).unwrap();
        assert_eq!(c.plan.id, "course:peel");
        assert_eq!(c.plan.steps.len(), 2);
        assert_eq!(c.min_gap, Some(Duration::weeks(4)));
        assert_eq!(c.file.step("hydrate").unwrap().texts["de"].title, "Trinken");
        assert!(c.file.step("hydrate").unwrap().photo && c.plan.is_photo_step("hydrate"));
        let again = CourseFile::parse("peel", "x", &c.file.to_toml(), LANGS).unwrap();
        assert_eq!(again.file, c.file);
    }

    #[test]
    fn problems_carry_line_numbers() {
        let bad = GOOD
            .replace("after = \"1d\"", "after = \"1 fortnight\"")
            .replace(
                "Hello {first_name}. {warning_signs} {urgent_line}",
                "Hi {nme}",
            );
        let p = CourseFile::parse("peel", "peel.toml", &bad, LANGS).unwrap_err();
        let shown: Vec<String> = p.iter().map(|p| p.to_string()).collect();
        assert!(
            shown
                .iter()
                .any(|s| s.starts_with("peel.toml:10: step `normal-now` (en):")),
            "{shown:?}"
        );
        assert!(
            shown.iter().any(|s| s.starts_with("peel.toml:14: after:")),
            "{shown:?}"
        );
        let p = CourseFile::parse("peel", "peel.toml", "name = \"x\"\n[[step]]\nid = \"a\"\nafter = \"1h\"\n[step.text.fr]\ntitle = \"t\"\ntext = \"t\"\n", LANGS).unwrap_err();
        assert!(
            p[0].to_string().contains("unknown language `fr`"),
            "{}",
            p[0]
        );
    }

    #[test]
    fn keys_come_from_names() {
        assert_eq!(
            key_from_name("Chemical peel").as_deref(),
            Some("chemical-peel")
        );
        assert_eq!(
            key_from_name("Peeling (Säure)").as_deref(),
            Some("peeling-saure")
        );
        assert_eq!(key_from_name("  !! "), None);
    }
}
