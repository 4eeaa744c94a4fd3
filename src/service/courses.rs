//! A clinic's own courses: list, create (empty or as a copy), change steps, make one the
//! default, and the lookups the scheduler, the texts and enrolment use. A patient's
//! `plan` names either a plan of the messages folder (`microneedling`) or one of their
//! clinic's courses (`course:<key>`); a course is only ever looked up within the
//! patient's or staff member's own clinic, so another clinic's course stays invisible.

use chrono::{DateTime, Duration, Utc};
use sqlx::SqliteConnection;

use super::templates::may_change;
use super::texts::TextKey;
use crate::catalog::{BASE_LANG, Catalog};
use crate::course_file::{
    Checked, CourseFile, CourseStep, StepText, course_key, key_from_name, plan_ref,
};
use crate::domain::plan::{Plan, valid_id};
use crate::domain::timing::short;
use crate::store::access::{self, Audit};
use crate::store::courses::{self as stored, StoredCourse};
use crate::store::templates::{latest_template_body, saved_course_steps};
use crate::store::{Clinic, StaffRole, Store};

/// A clinic's course as in force.
#[derive(Debug, Clone)]
pub struct Course {
    pub id: i64,
    pub key: String,
    pub is_default: bool,
    pub version: i64,
    pub checked: Checked,
    /// Steps whose base-language text the clinic saved with `/edit` rather than in the
    /// course file (a step added from Telegram gets its text this way).
    pub saved_texts: Vec<String>,
}

impl Course {
    pub fn name(&self) -> &str {
        &self.checked.file.name
    }

    pub fn plan_ref(&self) -> String {
        plan_ref(&self.key)
    }
}

/// The languages the bot speaks, for checking course files.
pub fn languages(catalog: &Catalog) -> Vec<&str> {
    catalog.languages().map(|l| l.code.as_str()).collect()
}

fn checked(catalog: &Catalog, row: StoredCourse) -> Option<Course> {
    match CourseFile::parse(&row.key, &row.key, &row.body, &languages(catalog)) {
        Ok(checked) => Some(Course {
            id: row.id,
            key: row.key,
            is_default: row.is_default,
            version: row.version,
            checked,
            saved_texts: Vec::new(),
        }),
        Err(_) => {
            // Checked when saved; failing now means the messages folder lost a
            // language or a placeholder since.
            tracing::error!(
                course = row.id,
                "a stored course no longer passes the check"
            );
            None
        }
    }
}

/// One course of a clinic by key.
pub async fn course(
    conn: &mut SqliteConnection,
    catalog: &Catalog,
    clinic_id: i64,
    key: &str,
) -> Result<Option<Course>, sqlx::Error> {
    let Some(mut c) = stored::course(&mut *conn, clinic_id, key)
        .await?
        .and_then(|row| checked(catalog, row))
    else {
        return Ok(None);
    };
    c.saved_texts = saved_course_steps(conn, clinic_id, &c.key, BASE_LANG).await?;
    Ok(Some(c))
}

/// Every course of a clinic.
pub async fn courses(
    conn: &mut SqliteConnection,
    catalog: &Catalog,
    clinic_id: i64,
) -> Result<Vec<Course>, sqlx::Error> {
    let mut all: Vec<Course> = stored::courses_of(&mut *conn, clinic_id)
        .await?
        .into_iter()
        .filter_map(|row| checked(catalog, row))
        .collect();
    for c in &mut all {
        c.saved_texts = saved_course_steps(&mut *conn, clinic_id, &c.key, BASE_LANG).await?;
    }
    Ok(all)
}

/// The plan of a clinic's course named by a plan reference (`course:<key>`).
pub async fn course_plan(
    conn: &mut SqliteConnection,
    catalog: &Catalog,
    clinic_id: i64,
    plan_ref: &str,
) -> Result<Option<Plan>, sqlx::Error> {
    let Some(key) = course_key(plan_ref) else {
        return Ok(None);
    };
    Ok(course(conn, catalog, clinic_id, key)
        .await?
        .map(|c| c.checked.plan))
}

/// The plan a patient of `clinic_id` on `plan_ref` follows, read outside any
/// transaction (the scheduler, check-in buttons, titles).
pub async fn plan_of(
    store: &Store,
    catalog: &Catalog,
    clinic_id: i64,
    plan_ref: &str,
) -> Result<Option<Plan>, sqlx::Error> {
    if course_key(plan_ref).is_none() {
        return Ok(catalog.plan(plan_ref).cloned());
    }
    let mut conn = store.pool().acquire().await?;
    course_plan(&mut conn, catalog, clinic_id, plan_ref).await
}

/// A course step's wording in `lang` (else the base language), outside transactions.
pub async fn step_text(
    store: &Store,
    catalog: &Catalog,
    clinic_id: i64,
    key: &str,
    step: &str,
    lang: &str,
) -> Result<Option<StepText>, sqlx::Error> {
    let mut conn = store.pool().acquire().await?;
    let Some(c) = course(&mut conn, catalog, clinic_id, key).await? else {
        return Ok(None);
    };
    let Some(s) = c.checked.file.step(step) else {
        return Ok(None);
    };
    Ok(s.texts
        .get(lang)
        .or_else(|| s.texts.get(BASE_LANG))
        .cloned())
}

/// A step's title for staff and patient lists, whichever kind of plan it is in.
pub async fn step_title(
    store: &Store,
    catalog: &Catalog,
    clinic_id: i64,
    lang: &str,
    plan_ref: &str,
    step: &str,
) -> Result<Option<String>, sqlx::Error> {
    match course_key(plan_ref) {
        None => Ok(catalog.step(lang, plan_ref, step).map(|w| w.title.clone())),
        Some(key) => Ok(step_text(store, catalog, clinic_id, key, step, lang)
            .await?
            .map(|t| t.title)),
    }
}

/// Every step's title of a patient's plan in `lang` (else the base language), for
/// lists such as `/schedule` and `/patient`.
pub async fn titles(
    store: &Store,
    catalog: &Catalog,
    clinic_id: i64,
    lang: &str,
    plan_ref: &str,
) -> Result<std::collections::HashMap<String, String>, sqlx::Error> {
    let Some(key) = course_key(plan_ref) else {
        return Ok(catalog
            .plan(plan_ref)
            .iter()
            .flat_map(|p| p.steps.iter())
            .filter_map(|s| {
                catalog
                    .step(lang, plan_ref, &s.id)
                    .map(|w| (s.id.clone(), w.title.clone()))
            })
            .collect());
    };
    let mut conn = store.pool().acquire().await?;
    let Some(c) = course(&mut conn, catalog, clinic_id, key).await? else {
        return Ok(Default::default());
    };
    Ok(c.checked
        .file
        .steps
        .iter()
        .filter_map(|s| {
            s.texts
                .get(lang)
                .or_else(|| s.texts.get(BASE_LANG))
                .map(|t| (s.id.clone(), t.title.clone()))
        })
        .collect())
}

/// A plan's name for staff: the course's or the messages folder's.
pub async fn plan_name(
    store: &Store,
    catalog: &Catalog,
    clinic_id: i64,
    plan_ref: &str,
) -> Result<String, sqlx::Error> {
    Ok(plan_of(store, catalog, clinic_id, plan_ref)
        .await?
        .map(|p| p.name)
        .unwrap_or_else(|| plan_ref.to_string()))
}

/// One line of `/courses`: a plan of the messages folder or a course of the clinic.
#[derive(Debug, Clone)]
pub struct Listed {
    /// What to type: the plan id or the course key.
    pub key: String,
    pub plan_ref: String,
    pub name: String,
    pub steps: usize,
    pub is_default: bool,
    /// The clinic's own course (not the messages folder's).
    pub own: bool,
    pub min_gap: Option<Duration>,
}

/// Every course a clinic can enroll into, the default first.
pub async fn list(
    conn: &mut SqliteConnection,
    catalog: &Catalog,
    clinic: &Clinic,
) -> Result<Vec<Listed>, sqlx::Error> {
    let own = courses(conn, catalog, clinic.id).await?;
    let own_default = own.iter().any(|c| c.is_default);
    let mut out: Vec<Listed> = catalog
        .plan_ids()
        .filter_map(|id| catalog.plan(id))
        .map(|p| Listed {
            key: p.id.clone(),
            plan_ref: p.id.clone(),
            name: p.name.clone(),
            steps: p.steps.len(),
            is_default: !own_default && p.id == clinic.default_plan,
            own: false,
            min_gap: p.min_gap,
        })
        .collect();
    out.extend(own.into_iter().map(|c| Listed {
        plan_ref: c.plan_ref(),
        name: c.name().to_string(),
        steps: c.checked.plan.steps.len(),
        is_default: c.is_default,
        own: true,
        min_gap: c.checked.min_gap,
        key: c.key,
    }));
    out.sort_by_key(|l| !l.is_default);
    Ok(out)
}

/// The plan new patients get when no course is named.
pub async fn default_plan(
    conn: &mut SqliteConnection,
    catalog: &Catalog,
    clinic: &Clinic,
) -> Result<String, sqlx::Error> {
    Ok(list(conn, catalog, clinic)
        .await?
        .into_iter()
        .find(|l| l.is_default)
        .map(|l| l.plan_ref)
        .unwrap_or_else(|| clinic.default_plan.clone()))
}

/// Finds a course by what staff typed: its key, its whole name, or one word of its
/// name that no other course has (`peel` for "Chemical peel").
pub fn find<'a>(courses: &'a [Listed], typed: &str) -> Option<&'a Listed> {
    let typed = typed.trim().to_lowercase();
    if typed.is_empty() {
        return None;
    }
    if let Some(c) = courses
        .iter()
        .find(|c| c.key == typed || c.name.to_lowercase() == typed)
    {
        return Some(c);
    }
    let mut by_word = courses.iter().filter(|c| {
        c.name
            .to_lowercase()
            .split(|ch: char| !ch.is_alphanumeric())
            .any(|w| w == typed)
            || c.key.split('-').any(|w| w == typed)
    });
    match (by_word.next(), by_word.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    }
}

/// `/enroll` arguments with a course word before the session time taken out, when
/// that word names one of the clinic's courses; otherwise the arguments unchanged.
pub fn split_course<'a>(args: &str, courses: &'a [Listed]) -> (String, Option<&'a Listed>) {
    let words: Vec<&str> = args.split_whitespace().collect();
    // The session time and day come last; the course word right before them.
    let mut end = words.len();
    while end > 0 && looks_like_when(words[end - 1]) {
        end -= 1;
    }
    // A name of one word stays a name.
    if end >= 2
        && let Some(found) = find(courses, words[end - 1])
    {
        let mut rest: Vec<&str> = words[..end - 1].to_vec();
        rest.extend_from_slice(&words[end..]);
        return (rest.join(" "), Some(found));
    }
    (args.trim().to_string(), None)
}

fn looks_like_when(word: &str) -> bool {
    word.chars().any(|c| c.is_ascii_digit())
        || matches!(
            word.to_lowercase().as_str(),
            "today" | "yesterday" | "heute" | "gestern"
        )
}

/// Why a course cannot take patients yet, if it cannot.
pub fn not_ready(course: &Course) -> Option<String> {
    let missing: Vec<&str> = course
        .checked
        .file
        .missing_texts(BASE_LANG)
        .into_iter()
        .filter(|s| !course.saved_texts.iter().any(|t| t == s))
        .collect();
    if missing.is_empty() {
        return None;
    }
    Some(format!(
        "“{}” is not ready: {} no text in {BASE_LANG} yet ({}). Add it with /edit course.{}.{} {BASE_LANG}",
        course.name(),
        if missing.len() == 1 {
            "one step has"
        } else {
            "some steps have"
        },
        missing.join(", "),
        course.key,
        missing[0]
    ))
}

/// Why patients cannot be enrolled into `plan_ref` yet (a course of the clinic still
/// missing texts), read outside transactions.
pub async fn why_not_ready(
    store: &Store,
    catalog: &Catalog,
    clinic: &Clinic,
    plan_ref: &str,
) -> Result<Option<String>, sqlx::Error> {
    let Some(key) = course_key(plan_ref) else {
        return Ok(None);
    };
    let mut conn = store.pool().acquire().await?;
    Ok(match course(&mut conn, catalog, clinic.id, key).await? {
        Some(c) if c.checked.plan.steps.is_empty() => Some(format!(
            "“{}” has no steps yet: /course {}",
            c.name(),
            c.key
        )),
        Some(c) => not_ready(&c),
        None => Some("That course cannot be read. /courses lists them.".into()),
    })
}

/// What a course change did, for the answer.
pub struct Changed {
    pub course: Course,
    pub what: String,
}

fn refuse<T>(why: impl Into<String>) -> Result<Result<T, String>, sqlx::Error> {
    Ok(Err(why.into()))
}

const NOT_ALLOWED: &str = "Only the clinic's owner and admins can change courses.";

/// `/course new <name> [from <course>]`: an empty course, or a copy of a course of
/// the clinic or of the messages folder (with the clinic's own timing of it).
pub async fn create(
    store: &Store,
    catalog: &Catalog,
    clinic: &Clinic,
    role: StaffRole,
    user_id: i64,
    args: &str,
    now: DateTime<Utc>,
) -> Result<Result<Changed, String>, sqlx::Error> {
    if !may_change(role) {
        return refuse(NOT_ALLOWED);
    }
    let (name, from) = match name_and_source(args) {
        Ok(x) => x,
        Err(why) => return refuse(why),
    };
    let Some(key) = key_from_name(&name) else {
        return refuse("Please give the course a name with letters: /course new \"Chemical peel\"");
    };
    let mut tx = store.begin().await?;
    if stored::course(&mut tx, clinic.id, &key).await?.is_some() || catalog.plan(&key).is_some() {
        return refuse(format!(
            "There is already a course <code>{key}</code>. /courses lists them."
        ));
    }
    let file = match &from {
        None => CourseFile {
            name: name.clone(),
            min_gap: None,
            steps: Vec::new(),
        },
        Some(typed) => {
            let all = list(&mut tx, catalog, clinic).await?;
            let Some(source) = find(&all, typed) else {
                return refuse(format!(
                    "There is no course “{}”. /courses lists them.",
                    crate::domain::html::escape_with_code(typed)
                ));
            };
            let mut copy = match course_key(&source.plan_ref) {
                Some(k) => match course(&mut tx, catalog, clinic.id, k).await? {
                    Some(c) => with_clinic_texts(&mut tx, catalog, clinic.id, k, c).await?,
                    None => return refuse("That course cannot be read; it was not copied."),
                },
                None => copy_of_file_plan(&mut tx, catalog, clinic, &source.plan_ref).await?,
            };
            copy.name = name.clone();
            copy
        }
    };
    let body = file.to_toml();
    // An empty course is allowed while it is being built; a copy must check out.
    let checked = if file.steps.is_empty() {
        None
    } else {
        match CourseFile::parse(&key, &key, &body, &languages(catalog)) {
            Ok(c) => Some(c),
            Err(p) => {
                return refuse(format!(
                    "The copy does not check out: {}",
                    p.first().map(|p| p.message.clone()).unwrap_or_default()
                ));
            }
        }
    };
    let id = stored::insert_course(&mut tx, clinic.id, &key, &body, user_id, now).await?;
    let audit = Audit {
        clinic_id: clinic.id,
        actor: Some(user_id),
        action: "course.new",
        subject: Some(format!("course {key}")),
        detail: from.map(|f| format!("copy of {}", f.chars().take(40).collect::<String>())),
    };
    access::record(&mut tx, audit, now).await?;
    tx.commit().await?;
    let checked = checked.unwrap_or(Checked {
        plan: Plan {
            id: plan_ref(&key),
            name: name.clone(),
            steps: Vec::new(),
            min_gap: None,
        },
        min_gap: None,
        file,
    });
    Ok(Ok(Changed {
        what: "created".into(),
        course: Course {
            id,
            key,
            is_default: false,
            version: 1,
            checked,
            saved_texts: Vec::new(),
        },
    }))
}

/// `"Chemical peel" from microneedling`, or the same without quotes.
fn name_and_source(args: &str) -> Result<(String, Option<String>), String> {
    const USAGE: &str = "Use: /course new \"Chemical peel\" [from microneedling]";
    let args = args.trim();
    let (name, rest) = if let Some(quoted) = args.strip_prefix('"') {
        let Some((name, rest)) = quoted.split_once('"') else {
            return Err(USAGE.into());
        };
        (name.trim().to_string(), rest.trim().to_string())
    } else {
        match args.rsplit_once(" from ") {
            Some((n, r)) => (n.trim().to_string(), format!("from {}", r.trim())),
            None => (args.to_string(), String::new()),
        }
    };
    if name.is_empty() {
        return Err(USAGE.into());
    }
    if name.chars().count() > crate::course_file::MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(format!(
            "A course name has at most {} characters.",
            crate::course_file::MAX_NAME_CHARS
        ));
    }
    let from = if rest.is_empty() {
        None
    } else if let Some(f) = rest.strip_prefix("from ") {
        Some(f.trim().to_string())
    } else {
        return Err(USAGE.into());
    };
    Ok((name, from))
}

/// The clinic's text in force for `key` in `lang`, when it saved one of its own (`/edit`)
/// that still passes the check; None means the text underneath is in force.
async fn own_text(
    conn: &mut SqliteConnection,
    clinic_id: i64,
    key: &TextKey,
    lang: &str,
) -> Result<Option<String>, sqlx::Error> {
    let body = latest_template_body(conn, clinic_id, &key.to_string(), lang)
        .await?
        .flatten();
    Ok(body.filter(|b| key.check(b).is_ok()))
}

/// One of the clinic's courses as its patients get it: the clinic's own texts of its
/// steps (`/edit course.<key>.<step>`) in place of those in the course file.
async fn with_clinic_texts(
    conn: &mut SqliteConnection,
    catalog: &Catalog,
    clinic_id: i64,
    key: &str,
    course: Course,
) -> Result<CourseFile, sqlx::Error> {
    let mut file = course.checked.file;
    for step in &mut file.steps {
        let text_key = TextKey::Course {
            course: key.to_string(),
            step: step.id.clone(),
            safety: crate::domain::safety::needs_safety_lines(&course.checked.plan, &step.id),
        };
        for lang in catalog.languages() {
            let Some(text) = own_text(conn, clinic_id, &text_key, &lang.code).await? else {
                continue;
            };
            // Texts are edited, titles not: the title the patient sees stays.
            let title = step
                .texts
                .get(&lang.code)
                .or_else(|| step.texts.get(BASE_LANG))
                .map_or_else(|| step.id.clone(), |t| t.title.clone());
            step.texts
                .insert(lang.code.clone(), StepText { title, text });
        }
    }
    Ok(file)
}

/// A plan of the messages folder as a course file: the clinic's timing of it, and in
/// every language the wording the clinic's patients get (its own texts where it saved
/// them with `/edit`, else the default).
async fn copy_of_file_plan(
    conn: &mut SqliteConnection,
    catalog: &Catalog,
    clinic: &Clinic,
    plan_id: &str,
) -> Result<CourseFile, sqlx::Error> {
    let file_plan = catalog.plan(plan_id);
    let timing = super::timing::clinic_plan(conn, catalog, clinic.id, plan_id).await?;
    let mut steps = Vec::new();
    for s in timing.iter().flat_map(|p| p.steps.iter()) {
        let mut texts = std::collections::BTreeMap::new();
        for l in catalog.languages() {
            let Some(w) = catalog.step(&l.code, plan_id, &s.id) else {
                continue;
            };
            let key = match file_plan {
                Some(p) => TextKey::step(p, &s.id),
                None => TextKey::Step(s.id.clone()),
            };
            let text = match own_text(conn, clinic.id, &key, &l.code).await? {
                Some(own) => own,
                None => w.text.source().to_string(),
            };
            let title = w.title.clone();
            texts.insert(l.code.clone(), StepText { title, text });
        }
        steps.push(CourseStep {
            id: s.id.clone(),
            after: after_text(s.after, s.at.is_some()),
            at: s.at.map(|t| t.format("%H:%M").to_string()),
            expires: s.expires.map(duration_text),
            checkin: s.checkin,
            all_clear: s.all_clear,
            photo: s.photo,
            texts,
        });
    }
    Ok(CourseFile {
        name: file_plan.map(|p| p.name.clone()).unwrap_or_default(),
        min_gap: file_plan.and_then(|p| p.min_gap).map(duration_text),
        steps,
    })
}

/// An offset as people type it; `0d` rather than `0s` for "the session day at …".
pub fn after_text(after: crate::domain::offset::Offset, anchored: bool) -> String {
    match short(after) {
        zero if anchored && zero == "0s" => "0d".into(),
        other => other,
    }
}

/// A duration as people type it (`12h`, `2d`, `3w`).
pub fn duration_text(d: Duration) -> String {
    let s = d.num_seconds();
    let (n, unit) = if s % (7 * 86400) == 0 && s != 0 {
        (s / (7 * 86400), "w")
    } else if s % 86400 == 0 && s != 0 {
        (s / 86400, "d")
    } else if s % 3600 == 0 && s != 0 {
        (s / 3600, "h")
    } else if s % 60 == 0 && s != 0 {
        (s / 60, "m")
    } else {
        (s, "s")
    };
    format!("{n}{unit}")
}

/// `<course> <add|set|move|remove|rename|gap> …` (from `/course step …` and `/course gap …`):
/// a change to a course of the clinic, saved as a new version with its audit entry.
/// Patients already on the course keep the times planned for them; a step removed or
/// renamed is carried over to their messages not yet sent ([`for_enrolled`]).
pub async fn change(
    store: &Store,
    catalog: &Catalog,
    clinic: &Clinic,
    role: StaffRole,
    user_id: i64,
    args: &str,
    now: DateTime<Utc>,
) -> Result<Result<Changed, String>, sqlx::Error> {
    if !may_change(role) {
        return refuse(NOT_ALLOWED);
    }
    // `<course> <change…>`
    let args = args.trim();
    let (typed_course, op) = args.split_once(char::is_whitespace).unwrap_or((args, ""));
    let op = op.trim();
    let mut tx = store.begin().await?;
    let all = list(&mut tx, catalog, clinic).await?;
    let Some(found) = find(&all, typed_course) else {
        return refuse(format!(
            "There is no course “{}”. /courses lists them.",
            crate::domain::html::escape_with_code(typed_course)
        ));
    };
    let Some(key) = course_key(&found.plan_ref).map(str::to_string) else {
        return refuse(format!(
            "“{}” comes with the bot and is changed with /timing and /edit. Make your own copy: /course new \"My {}\" from {}",
            found.name, found.name, found.key
        ));
    };
    let Some(current) = course(&mut tx, catalog, clinic.id, &key).await? else {
        return refuse("That course cannot be read.");
    };
    let mut file = current.checked.file.clone();
    let (mut what, effect) = match apply_op(&mut file, op) {
        Ok(w) => w,
        Err(why) => return refuse(why),
    };
    let body = file.to_toml();
    let checked = if file.steps.is_empty() {
        Checked {
            plan: Plan {
                id: plan_ref(&key),
                name: file.name.clone(),
                steps: Vec::new(),
                min_gap: None,
            },
            min_gap: None,
            file,
        }
    } else {
        match CourseFile::parse(&key, &key, &body, &languages(catalog)) {
            Ok(c) => c,
            Err(p) => {
                let shown: Vec<String> = p.iter().map(|p| p.message.clone()).collect();
                return refuse(crate::domain::html::escape_with_code(&shown.join("; ")));
            }
        }
    };
    let version = stored::insert_version(&mut tx, current.id, &body, user_id, now).await?;
    let enrolled = for_enrolled(&mut tx, clinic.id, &key, &effect, user_id, now).await?;
    if let Some(said) = &enrolled {
        what.push_str(&format!("; {said}"));
    }
    let audit = Audit {
        clinic_id: clinic.id,
        actor: Some(user_id),
        action: "course.change",
        subject: Some(format!("course {key}")),
        detail: Some(format!(
            "v{version}: {}{}",
            op.chars().take(80).collect::<String>(),
            enrolled.map(|e| format!(" ({e})")).unwrap_or_default()
        )),
    };
    access::record(&mut tx, audit, now).await?;
    tx.commit().await?;
    Ok(Ok(Changed {
        what,
        course: Course {
            version,
            checked,
            ..current
        },
    }))
}

/// What a change means for patients already on the course, beyond their planned times
/// (which they keep).
#[derive(Debug, PartialEq, Eq)]
enum Effect {
    None,
    /// Its messages not yet sent are skipped: the clinic took the step out.
    Removed(String),
    /// Its messages not yet sent, and the clinic's own texts of it, follow the new id.
    Renamed {
        from: String,
        to: String,
    },
}

/// Carries a removed or renamed step over to the patients already on the course, in
/// the change's transaction; says what it did, for the answer and the audit.
async fn for_enrolled(
    conn: &mut SqliteConnection,
    clinic_id: i64,
    key: &str,
    effect: &Effect,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<Option<String>, sqlx::Error> {
    let plan = plan_ref(key);
    let messages = |n: u64| {
        if n == 1 {
            "1 message".to_string()
        } else {
            format!("{n} messages")
        }
    };
    match effect {
        Effect::None => Ok(None),
        Effect::Removed(step) => {
            let skipped = stored::skip_pending_step(conn, clinic_id, &plan, step).await?;
            if skipped > 0 {
                tracing::info!(clinic = clinic_id, course = key, step = %step, skipped, "pending reminders of a removed step skipped");
            }
            Ok((skipped > 0).then(|| {
                format!(
                    "{} of it not yet sent to patients on the course will not go out",
                    messages(skipped)
                )
            }))
        }
        Effect::Renamed { from, to } => {
            let text_key = |step: &str| {
                TextKey::Course {
                    course: key.to_string(),
                    step: step.to_string(),
                    safety: false,
                }
                .to_string()
            };
            crate::store::templates::move_texts(
                conn,
                clinic_id,
                &text_key(from),
                &text_key(to),
                user_id,
                now,
            )
            .await?;
            let moved = stored::rename_pending_step(conn, clinic_id, &plan, from, to).await?;
            Ok((moved > 0).then(|| {
                format!(
                    "{} of it not yet sent to patients on the course will go out under the new name",
                    messages(moved)
                )
            }))
        }
    }
}

/// Applies one typed change to a course file; the answer says what changed.
fn apply_op(file: &mut CourseFile, op: &str) -> Result<(String, Effect), String> {
    const USAGE: &str = "Use: /course step <course> add <step> <after> [at HH:MM] [expires <time>] [checkin|all-clear|photo] · set <step> [<after>] [at HH:MM|at -] [expires <time>|expires -] [message|checkin|all-clear|photo] · remove <step> · rename <step> <new> · /course gap <course> <4w|off>";
    let words: Vec<&str> = op.split_whitespace().collect();
    match words.as_slice() {
        ["gap", gap] => {
            if gap.eq_ignore_ascii_case("off") {
                file.min_gap = None;
                Ok(("has no healing gap now".into(), Effect::None))
            } else {
                file.min_gap = Some(gap.to_string());
                Ok((
                    format!("asks for at least {gap} between sessions"),
                    Effect::None,
                ))
            }
        }
        ["add", id, rest @ ..] => {
            let id = id.to_lowercase();
            if !valid_id(&id) {
                return Err(format!(
                    "A step id is 1 to 40 of a-z, 0-9 and -, like <code>sauna-ok</code>; `{}` is not.",
                    crate::domain::html::escape_with_code(&id)
                ));
            }
            if file.step(&id).is_some() {
                return Err(format!("The course already has a step <code>{id}</code>."));
            }
            let Some((after, rest)) = rest.split_first() else {
                return Err(USAGE.into());
            };
            let mut step = CourseStep {
                id: id.clone(),
                after: after.to_string(),
                at: None,
                expires: None,
                checkin: false,
                all_clear: false,
                photo: false,
                texts: Default::default(),
            };
            set_options(&mut step, rest)?;
            file.steps.push(step);
            Ok((
                format!(
                    "has a new step <code>{id}</code>; give it its text with /edit course.&lt;course&gt;.{id} en"
                ),
                Effect::None,
            ))
        }
        ["set" | "move", id, rest @ ..] if !rest.is_empty() => {
            let step = file.step_mut(id).ok_or_else(|| {
                format!(
                    "The course has no step <code>{}</code>.",
                    crate::domain::html::escape_with_code(id)
                )
            })?;
            let mut rest = rest;
            if let Some(first) = rest.first()
                && first.chars().next().is_some_and(|c| c.is_ascii_digit())
            {
                step.after = first.to_string();
                rest = &rest[1..];
            }
            set_options(step, rest)?;
            Ok((format!("step <code>{id}</code> changed"), Effect::None))
        }
        ["remove", id] => {
            let before = file.steps.len();
            file.steps.retain(|s| s.id != *id);
            if file.steps.len() == before {
                return Err(format!(
                    "The course has no step <code>{}</code>.",
                    crate::domain::html::escape_with_code(id)
                ));
            }
            Ok((
                format!("step <code>{id}</code> removed"),
                Effect::Removed(id.to_string()),
            ))
        }
        ["rename", id, new] => {
            let new = new.to_lowercase();
            if !valid_id(&new) {
                return Err("A step id is 1 to 40 of a-z, 0-9 and -.".into());
            }
            if file.step(&new).is_some() {
                return Err(format!("The course already has a step <code>{new}</code>."));
            }
            let step = file.step_mut(id).ok_or_else(|| {
                format!(
                    "The course has no step <code>{}</code>.",
                    crate::domain::html::escape_with_code(id)
                )
            })?;
            step.id = new.clone();
            Ok((
                format!("step <code>{id}</code> is now <code>{new}</code>"),
                Effect::Renamed {
                    from: id.to_string(),
                    to: new,
                },
            ))
        }
        _ => Err(USAGE.into()),
    }
}

/// `[at HH:MM|at -] [expires <time>|expires -] [message|checkin|all-clear|photo]`: a
/// step has one kind, so naming one clears the others.
fn set_options(step: &mut CourseStep, words: &[&str]) -> Result<(), String> {
    let mut i = 0;
    while i < words.len() {
        match words[i].to_lowercase().as_str() {
            "at" | "expires" if i + 1 < words.len() => {
                let value = words[i + 1];
                let value = (value != "-").then(|| value.to_string());
                if words[i].eq_ignore_ascii_case("at") {
                    step.at = value;
                } else {
                    step.expires = value;
                }
                i += 2;
            }
            kind @ ("message" | "checkin" | "check-in" | "all-clear" | "all_clear" | "photo") => {
                step.checkin = matches!(kind, "checkin" | "check-in");
                step.all_clear = matches!(kind, "all-clear" | "all_clear");
                step.photo = kind == "photo";
                i += 1;
            }
            other => {
                return Err(format!(
                    "I don't understand `{}` here: use at HH:MM, expires 12h, message, checkin, all-clear or photo.",
                    crate::domain::html::escape_with_code(other)
                ));
            }
        }
    }
    Ok(())
}

/// `/course default <course>`: new patients get this course unless another is named.
pub async fn make_default(
    store: &Store,
    catalog: &Catalog,
    clinic: &Clinic,
    role: StaffRole,
    user_id: i64,
    typed: &str,
    now: DateTime<Utc>,
) -> Result<Result<String, String>, sqlx::Error> {
    if !may_change(role) {
        return refuse(NOT_ALLOWED);
    }
    let mut tx = store.begin().await?;
    let all = list(&mut tx, catalog, clinic).await?;
    let Some(found) = find(&all, typed) else {
        return refuse("There is no such course. /courses lists them.");
    };
    let course_id = match course_key(&found.plan_ref) {
        Some(k) => {
            let Some(c) = course(&mut tx, catalog, clinic.id, k).await? else {
                return refuse("That course cannot be read.");
            };
            if let Some(why) = not_ready(&c) {
                return refuse(why);
            }
            Some(c.id)
        }
        None if found.plan_ref == clinic.default_plan => None,
        None => {
            return refuse(format!(
                "The clinic's plan from the messages folder is {}; set it with /settings plan.",
                clinic.default_plan
            ));
        }
    };
    stored::set_default(&mut tx, clinic.id, course_id).await?;
    let audit = Audit {
        clinic_id: clinic.id,
        actor: Some(user_id),
        action: "course.default",
        subject: Some(format!("course {}", found.key)),
        detail: None,
    };
    access::record(&mut tx, audit, now).await?;
    tx.commit().await?;
    Ok(Ok(found.name.clone()))
}

/// A patient enrolled a moment ago, moved to another course by a button before they
/// open their link (their reminders are planned when they do).
pub async fn pick_for_patient(
    store: &Store,
    catalog: &Catalog,
    clinic: &Clinic,
    user_id: i64,
    patient_id: i64,
    key: &str,
    now: DateTime<Utc>,
) -> Result<Result<String, String>, sqlx::Error> {
    let mut tx = store.begin().await?;
    let all = list(&mut tx, catalog, clinic).await?;
    let Some(found) = all.iter().find(|l| l.key == key) else {
        return refuse("That course is gone. /courses lists them.");
    };
    if let Some(k) = course_key(&found.plan_ref) {
        match course(&mut tx, catalog, clinic.id, k).await? {
            Some(c) => {
                if let Some(why) = not_ready(&c) {
                    return refuse(why);
                }
            }
            None => return refuse("That course cannot be read."),
        }
    }
    if !stored::set_invited_patient_plan(&mut tx, clinic.id, patient_id, &found.plan_ref).await? {
        return refuse(format!(
            "Patient #{patient_id} has opened their link already; their course stays as it is."
        ));
    }
    let audit = Audit {
        clinic_id: clinic.id,
        actor: Some(user_id),
        action: "course.pick",
        subject: Some(format!("patient {patient_id}")),
        detail: Some(format!("course {}", found.key)),
    };
    access::record(&mut tx, audit, now).await?;
    tx.commit().await?;
    Ok(Ok(found.name.clone()))
}

/// Everything staff need to see about one course (`/course <name>`).
pub async fn show(
    store: &Store,
    catalog: &Catalog,
    clinic: &Clinic,
    typed: &str,
) -> Result<Result<(Listed, Plan, Option<Course>), String>, sqlx::Error> {
    let mut conn = store.pool().acquire().await?;
    let all = list(&mut conn, catalog, clinic).await?;
    let Some(found) = find(&all, typed).cloned() else {
        return refuse(format!(
            "There is no course “{}”. /courses lists them.",
            crate::domain::html::escape_with_code(typed)
        ));
    };
    let own = match course_key(&found.plan_ref) {
        Some(k) => course(&mut conn, catalog, clinic.id, k).await?,
        None => None,
    };
    let plan = match &own {
        Some(c) => c.checked.plan.clone(),
        None => super::timing::clinic_plan(&mut conn, catalog, clinic.id, &found.plan_ref)
            .await?
            .unwrap_or_else(|| Plan {
                id: found.plan_ref.clone(),
                name: found.name.clone(),
                steps: Vec::new(),
                min_gap: None,
            }),
    };
    Ok(Ok((found, plan, own)))
}

/// A course text key made exact: `None` when the clinic has no such course or step;
/// otherwise with `safety` set for the course's first step and its check-ins. Other
/// keys come back as they are.
pub async fn text_key(
    conn: &mut SqliteConnection,
    catalog: &Catalog,
    clinic_id: i64,
    key: super::texts::TextKey,
) -> Result<Option<super::texts::TextKey>, sqlx::Error> {
    let super::texts::TextKey::Course {
        course: k, step, ..
    } = key
    else {
        return Ok(Some(key));
    };
    let Some(c) = course(conn, catalog, clinic_id, &k).await? else {
        return Ok(None);
    };
    if c.checked.plan.step(&step).is_none() {
        return Ok(None);
    }
    let safety = crate::domain::safety::needs_safety_lines(&c.checked.plan, &step);
    Ok(Some(super::texts::TextKey::Course {
        course: k,
        step,
        safety,
    }))
}

/// The courses staff may enroll into, read outside transactions (for `/enroll`).
pub async fn listed(
    store: &Store,
    catalog: &Catalog,
    clinic: &Clinic,
) -> Result<Vec<Listed>, sqlx::Error> {
    let mut conn = store.pool().acquire().await?;
    list(&mut conn, catalog, clinic).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(key: &str, name: &str) -> Listed {
        Listed {
            key: key.into(),
            plan_ref: plan_ref(key),
            name: name.into(),
            steps: 1,
            is_default: false,
            own: true,
            min_gap: None,
        }
    }

    #[test]
    fn a_course_word_before_the_time_is_taken_out() {
        let all = [
            listed("microneedling", "Microneedling aftercare"),
            listed("chemical-peel", "Chemical peel"),
        ];
        let (rest, c) = split_course("Anna Berg peel 14:30", &all);
        assert_eq!(rest, "Anna Berg 14:30");
        assert_eq!(c.unwrap().key, "chemical-peel");
        let (rest, c) = split_course("Anna Berg chemical-peel yesterday 14:30", &all);
        assert_eq!(
            (rest.as_str(), c.map(|c| c.key.as_str())),
            ("Anna Berg yesterday 14:30", Some("chemical-peel"))
        );
        // Not a course: part of the name. A lone word stays a name.
        assert_eq!(
            split_course("Anna Berg 14:30", &all)
                .1
                .map(|c| c.key.clone()),
            None
        );
        assert_eq!(
            split_course("Peel 14:30", &all).1.map(|c| c.key.clone()),
            None
        );
    }

    #[test]
    fn ambiguous_words_find_nothing() {
        let all = [
            listed("peel-light", "Light peel"),
            listed("peel-deep", "Deep peel"),
        ];
        assert!(find(&all, "peel").is_none());
        assert_eq!(find(&all, "deep").unwrap().key, "peel-deep");
        assert_eq!(find(&all, "Light Peel").unwrap().key, "peel-light");
    }

    #[test]
    fn steps_are_added_changed_and_removed() {
        let mut f = CourseFile {
            name: "P".into(),
            min_gap: None,
            steps: Vec::new(),
        };
        apply_op(&mut f, "add day1 1d at 09:00 expires 12h checkin").unwrap();
        assert!(f.steps[0].checkin);
        assert_eq!(f.steps[0].at.as_deref(), Some("09:00"));
        apply_op(&mut f, "set day1 2d at - all-clear").unwrap();
        assert_eq!(
            (
                f.steps[0].after.as_str(),
                f.steps[0].at.is_none(),
                f.steps[0].all_clear
            ),
            ("2d", true, true)
        );
        apply_op(&mut f, "set day1 photo").unwrap();
        assert!(f.steps[0].photo && !f.steps[0].all_clear && !f.steps[0].checkin);
        apply_op(&mut f, "set day1 message").unwrap();
        assert!(!f.steps[0].photo);
        apply_op(&mut f, "add pic 3d at 10:00 photo").unwrap();
        assert!(f.step("pic").unwrap().photo);
        apply_op(&mut f, "remove pic").unwrap();
        apply_op(&mut f, "rename day1 day2").unwrap();
        assert!(apply_op(&mut f, "remove day1").is_err());
        apply_op(&mut f, "remove day2").unwrap();
        assert!(f.steps.is_empty());
        assert!(apply_op(&mut f, "add Bad_Id 1d").is_err());
        assert!(apply_op(&mut f, "add x 1d sideways").is_err());
    }
}
