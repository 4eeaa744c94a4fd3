//! The pure side of a course sent as a file (`src/course_file.rs` reads and checks it):
//! which course a file name means, the text inside the bytes, the problems as an owner
//! reads them (`line N: …`, capped to fit one Telegram message), and the preview with
//! what the file changes against the version in force. The handler fetches the file,
//! the service keeps the draft and saves it; everything here is testable without either.

use teloxide::utils::html::escape;

use crate::course_file::{CourseFile, CourseStep, key_from_name};
use crate::domain::html::escape_with_code;
use crate::domain::problems::{Problem, line_of};

/// The largest course file taken, checked from the size Telegram reports before
/// downloading (and again while downloading). The shipped nine-step course in two
/// languages is about 12 KB.
pub const MAX_FILE_BYTES: usize = 256 * 1024;

/// At most this many problems are listed; the rest are counted.
pub const MAX_PROBLEMS_SHOWN: usize = 20;

/// What one answer may hold, in characters of HTML source: the visible text (what
/// Telegram's 4096 limit counts) is never longer than its source.
const BUDGET: usize = 3800;

/// Whether a file name is a TOML file's.
pub fn is_toml(file_name: &str) -> bool {
    file_name.to_ascii_lowercase().ends_with(".toml")
}

/// The course key a file name means: `chemical-peel.toml` is the course
/// `chemical-peel` (what `/course export` names it). A copy number a phone or computer
/// added when saving the file twice (`chemical-peel (1).toml`) is dropped, and other
/// names are made into a key the way course names are (`Chemical Peel.toml` →
/// `chemical-peel`).
pub fn key_of_file(file_name: &str) -> Option<String> {
    if !is_toml(file_name) {
        return None;
    }
    let stem = file_name[..file_name.len() - ".toml".len()].trim();
    let stem = match stem.strip_suffix(')').and_then(|s| s.rsplit_once('(')) {
        Some((before, n)) if !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) => {
            before.trim()
        }
        _ => stem,
    };
    key_from_name(stem)
}

/// The file's text: UTF-8, with a byte-order mark some editors write dropped.
pub fn decode(bytes: &[u8]) -> Result<String, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text.to_string()),
        Err(e) => {
            let good = String::from_utf8_lossy(&bytes[..e.valid_up_to()]);
            Err(format!(
                "The file is not UTF-8 text (line {}). Save it as UTF-8 and send it again; nothing changed.",
                line_of(&good, good.len())
            ))
        }
    }
}

/// At most `max` characters of `s`, with `…` when cut.
fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// The answer to a file with problems (HTML): each as `line N: problem`, the first
/// [`MAX_PROBLEMS_SHOWN`], within one message.
pub fn problem_list(file_name: &str, problems: &[Problem]) -> String {
    let n = problems.len();
    let mut out = format!(
        "<b>Not saved:</b> {} has {n} problem{}. Nothing changed.\n",
        escape(&cut(file_name, 60)),
        if n == 1 { "" } else { "s" }
    );
    let tail = "\nFix the file and send it again.";
    let mut shown = 0;
    for p in problems.iter().take(MAX_PROBLEMS_SHOWN) {
        let line = format!(
            "\nline {}: {}",
            p.line,
            escape_with_code(&cut(&p.message, 300))
        );
        if out.len() + line.len() + tail.len() + 40 > BUDGET {
            break;
        }
        out.push_str(&line);
        shown += 1;
    }
    if shown < n {
        out.push_str(&format!("\n… and {} more.", n - shown));
    }
    out.push('\n');
    out.push_str(tail);
    out
}

/// A step's timing as written: `1d at 09:00 (expires 12h)`.
pub fn timing(s: &CourseStep) -> String {
    let mut out = s.after.clone();
    if let Some(at) = &s.at {
        out.push_str(&format!(" at {at}"));
    }
    if let Some(x) = &s.expires {
        out.push_str(&format!(" (expires {x})"));
    }
    out
}

/// A step's kind in words.
pub fn kind(s: &CourseStep) -> &'static str {
    if s.checkin {
        "check-in"
    } else if s.all_clear {
        "all-clear"
    } else if s.photo {
        "photo"
    } else {
        "message"
    }
}

/// What `new` changes against `old`, one plain line each (values in backticks).
pub fn differences(old: &CourseFile, new: &CourseFile) -> Vec<String> {
    let mut out = Vec::new();
    if old.name != new.name {
        out.push(format!("name: “{}” → “{}”", old.name, new.name));
    }
    if old.min_gap != new.min_gap {
        let gap = |g: &Option<String>| g.clone().unwrap_or_else(|| "none".into());
        out.push(format!(
            "healing gap: {} → {}",
            gap(&old.min_gap),
            gap(&new.min_gap)
        ));
    }
    for s in &new.steps {
        let Some(before) = old.step(&s.id) else {
            out.push(format!("new step `{}` ({})", s.id, timing(s)));
            continue;
        };
        let changes = step_changes(before, s);
        if !changes.is_empty() {
            out.push(format!("step `{}`: {}", s.id, changes.join("; ")));
        }
    }
    for s in &old.steps {
        if new.step(&s.id).is_none() {
            out.push(format!("step `{}` removed", s.id));
        }
    }
    let order = |a: &CourseFile, b: &CourseFile| -> Vec<String> {
        a.steps
            .iter()
            .filter(|s| b.step(&s.id).is_some())
            .map(|s| s.id.clone())
            .collect()
    };
    if order(old, new) != order(new, old) {
        out.push("the steps are listed in another order".into());
    }
    out
}

fn step_changes(old: &CourseStep, new: &CourseStep) -> Vec<String> {
    let mut out = Vec::new();
    if (&old.after, &old.at) != (&new.after, &new.at) {
        let when = |s: &CourseStep| match &s.at {
            Some(at) => format!("{} at {at}", s.after),
            None => s.after.clone(),
        };
        out.push(format!("{} → {}", when(old), when(new)));
    }
    if old.expires != new.expires {
        let x = |e: &Option<String>| e.clone().unwrap_or_else(|| "never".into());
        out.push(format!("expires {} → {}", x(&old.expires), x(&new.expires)));
    }
    // Everything else but the wording is the step's kind, however many kinds there are.
    let bare = |s: &CourseStep| CourseStep {
        after: String::new(),
        at: None,
        expires: None,
        texts: Default::default(),
        ..s.clone()
    };
    if bare(old) != bare(new) {
        out.push(format!("{} → {}", kind(old), kind(new)));
    }
    let langs: std::collections::BTreeSet<&String> =
        old.texts.keys().chain(new.texts.keys()).collect();
    for lang in langs {
        match (old.texts.get(lang), new.texts.get(lang)) {
            (None, Some(_)) => out.push(format!("{lang} text added")),
            (Some(_), None) => out.push(format!("{lang} text removed")),
            (Some(a), Some(b)) if a != b => out.push(format!("{lang} text changed")),
            _ => {}
        }
    }
    out
}

/// For each language the bot speaks, the steps with no wording in it.
pub fn missing_wording(file: &CourseFile, languages: &[&str]) -> Vec<(String, Vec<String>)> {
    languages
        .iter()
        .map(|lang| {
            (
                lang.to_string(),
                file.missing_texts(lang)
                    .into_iter()
                    .map(str::to_string)
                    .collect::<Vec<_>>(),
            )
        })
        .filter(|(_, steps)| !steps.is_empty())
        .collect()
}

/// What a preview shows.
pub struct Preview<'a> {
    pub file_name: &'a str,
    pub key: &'a str,
    pub new: &'a CourseFile,
    /// The version in force and its number; `None` for a new course.
    pub current: Option<(&'a CourseFile, i64)>,
    /// The languages the bot speaks.
    pub languages: &'a [&'a str],
    /// The language titles are shown in, and every step needs a text in.
    pub base_lang: &'a str,
}

/// The preview of a good file (HTML, one message): the course, its steps, what it
/// changes, which wording is missing.
pub fn preview(p: &Preview) -> String {
    let mut head = format!(
        "<b>Course file {}</b>\n“{}” (<code>{}</code>): {}.\n",
        escape(&cut(p.file_name, 60)),
        escape(&p.new.name),
        p.key,
        match p.current {
            None => "a new course".to_string(),
            Some((_, v)) => format!("replaces version {v}, in force now"),
        }
    );
    head.push_str(&format!(
        "Healing gap: {} · languages: {}\n",
        p.new
            .min_gap
            .as_deref()
            .map(escape)
            .unwrap_or("none".into()),
        {
            let mut langs: Vec<&str> = p
                .new
                .steps
                .iter()
                .flat_map(|s| s.texts.keys().map(String::as_str))
                .collect();
            langs.sort();
            langs.dedup();
            if langs.is_empty() {
                "none".to_string()
            } else {
                langs.join(", ")
            }
        }
    ));

    let mut tail = String::new();
    let missing = missing_wording(p.new, p.languages);
    if !missing.is_empty() {
        tail.push_str("\n<b>Missing wording</b>");
        for (lang, steps) in &missing {
            tail.push_str(&format!(
                "\n{lang}: {}",
                escape(&cut(&steps.join(", "), 300))
            ));
        }
        if missing.iter().any(|(l, _)| l == p.base_lang) {
            tail.push_str(&format!(
                "\n⚠️ The course takes no patients until every step has its {} text.",
                p.base_lang
            ));
        } else {
            tail.push_str(&format!(
                "\nPatients in those languages get the {} text.",
                p.base_lang
            ));
        }
        tail.push('\n');
    }
    tail.push_str("\nNothing changes until you press Save.");
    if p.current.is_some() {
        tail.push_str(" Patients already on the course keep the times planned for them.");
    }

    let steps: Vec<String> = p
        .new
        .steps
        .iter()
        .map(|s| {
            let title = s
                .texts
                .get(p.base_lang)
                .or_else(|| s.texts.values().next())
                .map(|t| format!(" · {}", escape(&cut(&t.title, 60))))
                .unwrap_or_default();
            let kind = match kind(s) {
                "message" => String::new(),
                k => format!(" · {k}"),
            };
            let langs = if s.texts.is_empty() {
                " [no text]".to_string()
            } else {
                format!(
                    " [{}]",
                    s.texts.keys().cloned().collect::<Vec<_>>().join(", ")
                )
            };
            format!(
                "<code>{}</code> · {}{kind}{title}{langs}",
                s.id,
                escape(&timing(s))
            )
        })
        .collect();
    let changes: Vec<String> = match p.current {
        None => Vec::new(),
        Some((old, _)) => differences(old, p.new)
            .iter()
            .map(|d| format!("• {}", escape_with_code(d)))
            .collect(),
    };

    let room = BUDGET.saturating_sub(head.len() + tail.len() + 120);
    let changes_room = if changes.is_empty() { 0 } else { room / 2 };
    let (changes, changes_used) = fit(&changes, changes_room, "changes");
    let (steps, _) = fit(&steps, room - changes_used, "steps");
    let mut out = head;
    out.push_str(&format!("\n<b>Steps</b> ({})\n", p.new.steps.len()));
    out.push_str(&steps);
    if let Some((_, v)) = p.current {
        out.push_str(&format!("\n\n<b>What changes</b> against version {v}\n"));
        out.push_str(&changes);
    }
    out.push('\n');
    out.push_str(&tail);
    out
}

/// As many of `lines` as fit in `room` characters, then "… and N more <what>"; with
/// the characters used.
fn fit(lines: &[String], room: usize, what: &str) -> (String, usize) {
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        if out.len() + line.len() + 1 > room.saturating_sub(40) {
            out.push_str(&format!("… and {} more {what}", lines.len() - i));
            return (out.clone(), out.len());
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(line);
    }
    let used = out.len();
    (out, used)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::course_file::StepText;

    fn step(id: &str, after: &str) -> CourseStep {
        CourseStep {
            id: id.into(),
            after: after.into(),
            at: None,
            expires: None,
            checkin: false,
            all_clear: false,
            photo: false,
            texts: [(
                "en".to_string(),
                StepText {
                    title: format!("About {id}"),
                    text: "Text.".into(),
                },
            )]
            .into(),
        }
    }

    fn course(steps: Vec<CourseStep>) -> CourseFile {
        CourseFile {
            name: "Chemical peel".into(),
            min_gap: Some("4w".into()),
            steps,
        }
    }

    #[test]
    fn a_file_name_names_its_course() {
        assert_eq!(
            key_of_file("chemical-peel.toml").as_deref(),
            Some("chemical-peel")
        );
        assert_eq!(
            key_of_file("chemical-peel (1).toml").as_deref(),
            Some("chemical-peel")
        );
        assert_eq!(
            key_of_file("Chemical Peel.TOML").as_deref(),
            Some("chemical-peel")
        );
        assert_eq!(key_of_file("peel(2).toml").as_deref(), Some("peel"));
        assert_eq!(key_of_file("laser 2.toml").as_deref(), Some("laser-2"));
        assert_eq!(key_of_file("peel.txt"), None);
        assert_eq!(key_of_file("!!!.toml"), None);
        assert_eq!(key_of_file(".toml"), None);
    }

    #[test]
    fn text_must_be_utf8_and_a_bom_is_dropped() {
        assert_eq!(decode(b"\xEF\xBB\xBFname = \"x\"").unwrap(), "name = \"x\"");
        let e = decode(b"name = \"x\"\nsecond\n\xFF").unwrap_err();
        assert!(e.contains("not UTF-8 text (line 3)"), "{e}");
    }

    #[test]
    fn problems_are_listed_by_line_and_fit_one_message() {
        let problems: Vec<Problem> = (1..=300)
            .map(|i| Problem::new("f", i, format!("step `s{i}`: {}", "x".repeat(400))))
            .collect();
        let shown = problem_list("peel.toml", &problems);
        assert!(shown.len() <= BUDGET, "{}", shown.len());
        assert!(
            shown.contains("\nline 1: step <code>s1</code>: xxx"),
            "{shown}"
        );
        assert!(shown.contains("has 300 problems"));
        assert!(shown.contains("… and "), "{shown}");
        assert!(crate::domain::html::check(&shown).is_ok());
        let one = problem_list("peel.toml", &problems[..1]);
        assert!(one.contains("has 1 problem."), "{one}");
        assert!(!one.contains("more"), "{one}");
    }

    #[test]
    fn differences_name_what_a_file_changes() {
        let old = course(vec![step("a", "0s"), step("b", "1d"), step("c", "2d")]);
        let mut new = course(vec![step("a", "0s"), step("b", "2d"), step("d", "3d")]);
        new.name = "Peel".into();
        new.min_gap = None;
        new.steps[0].checkin = true;
        new.steps[0].texts.get_mut("en").unwrap().text = "New words.".into();
        new.steps[1].at = Some("09:00".into());
        new.steps[1].expires = Some("12h".into());
        new.steps[1].texts.insert(
            "de".into(),
            StepText {
                title: "B".into(),
                text: "B.".into(),
            },
        );
        let d = differences(&old, &new);
        assert_eq!(
            d,
            vec![
                "name: “Chemical peel” → “Peel”",
                "healing gap: 4w → none",
                "step `a`: message → check-in; en text changed",
                "step `b`: 1d → 2d at 09:00; expires never → 12h; de text added",
                "new step `d` (3d)",
                "step `c` removed",
            ]
        );
        assert!(differences(&old, &old).is_empty());
        let swapped = course(vec![step("b", "1d"), step("a", "0s"), step("c", "2d")]);
        assert_eq!(
            differences(&old, &swapped),
            vec!["the steps are listed in another order"]
        );
    }

    #[test]
    fn missing_wording_is_listed_per_language() {
        let mut c = course(vec![step("a", "0s"), step("b", "1d")]);
        c.steps[1].texts.clear();
        assert_eq!(
            missing_wording(&c, &["en", "de"]),
            vec![
                ("en".to_string(), vec!["b".to_string()]),
                ("de".to_string(), vec!["a".to_string(), "b".to_string()]),
            ]
        );
    }

    #[test]
    fn a_preview_says_what_the_file_is_and_changes_within_one_message() {
        let old = course(vec![step("a", "0s")]);
        let mut steps: Vec<CourseStep> = (0..400).map(|i| step(&format!("s{i}"), "1d")).collect();
        steps[0].texts.get_mut("en").unwrap().title = "<Right> & after".into();
        let new = course(steps);
        let p = preview(&Preview {
            file_name: "chemical-peel.toml",
            key: "chemical-peel",
            new: &new,
            current: Some((&old, 3)),
            languages: &["en", "de"],
            base_lang: "en",
        });
        assert!(p.len() <= 4096, "{}", p.len());
        assert!(crate::domain::html::check(&p).is_ok(), "{p}");
        assert!(p.contains("replaces version 3, in force now"), "{p}");
        assert!(p.contains("&lt;Right&gt; &amp; after"), "{p}");
        assert!(p.contains("more steps"), "{p}");
        assert!(p.contains("more changes"), "{p}");
        assert!(p.contains("Missing wording</b>\nde: s0, s1"), "{p}");
        assert!(p.contains("get the en text"), "{p}");

        let small = course(vec![step("a", "0s")]);
        let p = preview(&Preview {
            file_name: "peel.toml",
            key: "peel",
            new: &small,
            current: None,
            languages: &["en"],
            base_lang: "en",
        });
        assert!(p.contains("(<code>peel</code>): a new course."), "{p}");
        assert!(p.contains("<code>a</code> · 0s · About a [en]"), "{p}");
        assert!(!p.contains("What changes"), "{p}");
        assert!(!p.contains("Missing"), "{p}");
    }
}
