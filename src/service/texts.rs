//! The one place that decides which text a patient gets: the clinic's own version when
//! it saved one, else the default from the messages folder. The scheduler, the bot's
//! replies and the staff previews all ask here, so they never disagree.

use std::collections::HashMap;

use crate::catalog::{Catalog, Reply, STEP_PLACEHOLDERS};
use crate::domain::plan::Plan;
use crate::domain::safety::{SAFETY_PLACEHOLDERS, needs_safety_lines};
use crate::domain::template::{Template, TemplateError};
use crate::store::Store;

/// A message a clinic's patients can receive: `step.<step id>` or `reply.<reply key>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextKey {
    Step(String),
    /// A step that must carry the bot's safety lines: the plan's first step and every
    /// check-in (`domain::safety::needs_safety_lines`).
    SafetyStep(String),
    /// A step of one of the clinic's own courses (`course.<course key>.<step id>`);
    /// `safety` as for `SafetyStep`, known once the course is read
    /// (`service::courses::text_key`).
    Course {
        course: String,
        step: String,
        safety: bool,
    },
    Reply(Reply),
}

impl TextKey {
    /// Reads a key; a step must belong to `plan`.
    pub fn parse(text: &str, catalog: &Catalog, plan: &str) -> Option<TextKey> {
        let (area, name) = text.trim().split_once('.')?;
        match area.to_ascii_lowercase().as_str() {
            "step" => {
                let plan = catalog.plan(plan)?;
                plan.step(name).map(|s| TextKey::step(plan, &s.id))
            }
            "course" => {
                let (course, step) = name.split_once('.')?;
                let ok = |s: &str| crate::domain::plan::valid_id(s);
                (ok(course) && ok(step)).then(|| TextKey::Course {
                    course: course.to_string(),
                    step: step.to_string(),
                    safety: false,
                })
            }
            "reply" => Reply::ALL
                .iter()
                .find(|r| r.key() == name)
                .map(|r| TextKey::Reply(*r)),
            _ => None,
        }
    }

    /// Every key of a plan: its steps in order, then the replies.
    pub fn all(catalog: &Catalog, plan: &str) -> Vec<TextKey> {
        let steps: Vec<TextKey> = catalog
            .plan(plan)
            .map(|p| p.steps.iter().map(|s| TextKey::step(p, &s.id)).collect())
            .unwrap_or_default();
        steps
            .into_iter()
            .chain(Reply::ALL.iter().map(|r| TextKey::Reply(*r)))
            .collect()
    }

    /// The key of a step of `plan`, which knows whether it needs the safety lines.
    pub fn step(plan: &Plan, id: &str) -> TextKey {
        if needs_safety_lines(plan, id) {
            TextKey::SafetyStep(id.to_string())
        } else {
            TextKey::Step(id.to_string())
        }
    }

    /// The step id, for a step's key.
    pub fn step_id(&self) -> Option<&str> {
        match self {
            TextKey::Step(id) | TextKey::SafetyStep(id) => Some(id),
            TextKey::Course { step, .. } => Some(step),
            TextKey::Reply(_) => None,
        }
    }

    pub fn allowed(&self) -> &'static [&'static str] {
        match self {
            TextKey::Step(_) | TextKey::SafetyStep(_) | TextKey::Course { .. } => STEP_PLACEHOLDERS,
            TextKey::Reply(r) => r.placeholders(),
        }
    }

    /// Placeholders without which the message makes no sense.
    pub fn required(&self) -> &'static [&'static str] {
        match self {
            TextKey::Reply(Reply::ScheduleItem) => &["when", "title"],
            TextKey::SafetyStep(_) | TextKey::Course { safety: true, .. } => SAFETY_PLACEHOLDERS,
            _ => &[],
        }
    }

    /// Checks a text for this message the way the messages folder is checked.
    pub fn check(&self, source: &str) -> Result<Template, TemplateError> {
        Template::parse_requiring(source, self.allowed(), self.required())
    }
}

impl std::fmt::Display for TextKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TextKey::Step(id) | TextKey::SafetyStep(id) => write!(f, "step.{id}"),
            TextKey::Course { course, step, .. } => write!(f, "course.{course}.{step}"),
            TextKey::Reply(r) => write!(f, "reply.{}", r.key()),
        }
    }
}

/// Text lookup with the clinic's versions in front of the catalog.
pub struct Texts<'a> {
    pub store: &'a Store,
    pub catalog: &'a Catalog,
}

/// Replies fetched by `Texts::wording`.
pub struct Wording<'a> {
    texts: HashMap<Reply, Template>,
    catalog: &'a Catalog,
    lang: String,
}

impl Wording<'_> {
    /// The reply as fetched. One that was not fetched (a bug in the caller, caught by
    /// the debug assertion in tests) falls back to the default text.
    pub fn get(&self, which: Reply) -> Template {
        debug_assert!(self.texts.contains_key(&which), "{which:?} was not fetched");
        match self.texts.get(&which) {
            Some(t) => t.clone(),
            None => self.catalog.reply(&self.lang, which).clone(),
        }
    }

    /// A reply as plain text, for a button label.
    pub fn label(&self, which: Reply) -> String {
        crate::domain::html::to_plain(&self.get(which).render(&[]))
    }
}

/// A template and whether it is the clinic's own.
pub struct Resolved {
    pub template: Template,
    pub own: bool,
}

impl<'a> Texts<'a> {
    pub fn new(store: &'a Store, catalog: &'a Catalog) -> Texts<'a> {
        Texts { store, catalog }
    }

    /// The text in force for `key` at a clinic (none: the catalog's) in `lang`; None
    /// only for a step the plan does not have.
    pub async fn resolve(
        &self,
        clinic_id: Option<i64>,
        lang: &str,
        plan: &str,
        key: &TextKey,
    ) -> Result<Option<Resolved>, sqlx::Error> {
        if let Some(clinic_id) = clinic_id
            && let Some(body) = self
                .store
                .template_override(clinic_id, &key.to_string(), lang)
                .await?
        {
            match key.check(&body) {
                Ok(template) => {
                    return Ok(Some(Resolved {
                        template,
                        own: true,
                    }));
                }
                // Checked when saved; failing now means the messages folder changed
                // its placeholders since. The default still reaches the patient.
                Err(_) => tracing::error!(
                    clinic = clinic_id,
                    key = %key,
                    lang,
                    "a clinic's saved text no longer passes the check, using the default (/history shows it)"
                ),
            }
        }
        if let TextKey::Course { course, step, .. } = key {
            let text = super::courses::step_text(
                self.store,
                self.catalog,
                clinic_id.unwrap_or_default(),
                course,
                step,
                lang,
            )
            .await?;
            return Ok(text
                .and_then(|t| key.check(&t.text).ok())
                .map(|template| Resolved {
                    template,
                    own: false,
                }));
        }
        Ok(self.default(lang, plan, key).map(|template| Resolved {
            template,
            own: false,
        }))
    }

    /// The text from the messages folder.
    pub fn default(&self, lang: &str, plan: &str, key: &TextKey) -> Option<Template> {
        match key {
            TextKey::Step(step) | TextKey::SafetyStep(step) => {
                self.catalog.step(lang, plan, step).map(|w| w.text.clone())
            }
            TextKey::Reply(r) => Some(self.catalog.reply(lang, *r).clone()),
            // A course's own text is in the database: `resolve` reads it.
            TextKey::Course { .. } => None,
        }
    }

    /// A reply to a patient of `clinic_id` (None: someone with no clinic yet).
    pub async fn reply(
        &self,
        clinic_id: Option<i64>,
        lang: &str,
        which: Reply,
    ) -> Result<Template, sqlx::Error> {
        let key = TextKey::Reply(which);
        Ok(match self.resolve(clinic_id, lang, "", &key).await? {
            Some(r) => r.template,
            None => self.catalog.reply(lang, which).clone(),
        })
    }

    /// Several replies at once, each the clinic's own or the default, for rendering
    /// that cannot wait on the database: the scheduler's buttons, booking messages and
    /// series header.
    pub async fn wording(
        &self,
        clinic_id: i64,
        lang: &str,
        which: &[Reply],
    ) -> Result<Wording<'a>, sqlx::Error> {
        let mut texts = HashMap::with_capacity(which.len());
        for &r in which {
            texts.insert(r, self.reply(Some(clinic_id), lang, r).await?);
        }
        Ok(Wording {
            texts,
            catalog: self.catalog,
            lang: lang.to_string(),
        })
    }

    /// A course step's text for a patient of `clinic_id`.
    pub async fn step(
        &self,
        clinic_id: i64,
        lang: &str,
        plan: &str,
        step: &str,
    ) -> Result<Option<Template>, sqlx::Error> {
        let key = if let Some(course) = crate::course_file::course_key(plan) {
            let plan = super::courses::plan_of(self.store, self.catalog, clinic_id, plan).await?;
            TextKey::Course {
                course: course.to_string(),
                step: step.to_string(),
                safety: plan.is_some_and(|p| needs_safety_lines(&p, step)),
            }
        } else {
            match self.catalog.plan(plan) {
                Some(p) => TextKey::step(p, step),
                None => TextKey::Step(step.to_string()),
            }
        };
        Ok(self
            .resolve(Some(clinic_id), lang, plan, &key)
            .await?
            .map(|r| r.template))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("messages");
        Catalog::load(&dir).unwrap()
    }

    #[test]
    fn keys_read_and_print_the_same_way() {
        let c = catalog();
        for text in ["step.sun-morning", "reply.greeting", "reply.schedule_item"] {
            let key = TextKey::parse(text, &c, "microneedling").unwrap();
            assert_eq!(key.to_string(), text);
        }
        assert_eq!(TextKey::parse("step.sauna", &c, "microneedling"), None);
        assert_eq!(TextKey::parse("reply.nope", &c, "microneedling"), None);
        assert_eq!(TextKey::parse("sun-morning", &c, "microneedling"), None);
        let course = TextKey::parse("course.chemical-peel.day-1", &c, "microneedling").unwrap();
        assert_eq!(course.to_string(), "course.chemical-peel.day-1");
        assert_eq!(TextKey::parse("course.peel", &c, "microneedling"), None);
        assert_eq!(TextKey::parse("course.Peel.x_y", &c, "microneedling"), None);
        let all = TextKey::all(&c, "microneedling");
        assert_eq!(all.len(), 9 + Reply::ALL.len());
    }

    #[test]
    fn every_default_text_passes_its_own_check() {
        let c = catalog();
        for lang in c.languages() {
            for key in TextKey::all(&c, "microneedling") {
                let source = match &key {
                    TextKey::Step(s) | TextKey::SafetyStep(s) => {
                        c.step(&lang.code, "microneedling", s).unwrap().text.clone()
                    }
                    TextKey::Reply(r) => c.reply(&lang.code, *r).clone(),
                    TextKey::Course { .. } => unreachable!("not a key of the messages folder"),
                };
                assert!(key.check(source.source()).is_ok(), "{key} {}", lang.code);
            }
        }
        assert!(
            TextKey::Reply(Reply::ScheduleItem)
                .check("{title}")
                .is_err()
        );
    }

    #[test]
    fn the_first_step_and_checkins_must_keep_the_safety_lines() {
        let c = catalog();
        for (key, safety) in [
            ("step.normal-now", true),
            ("step.checkin-day3", true),
            ("step.checkin-day7", true),
            ("step.sun-morning", false),
        ] {
            let key = TextKey::parse(key, &c, "microneedling").unwrap();
            let dropped = key.check("Hi {first_name}, all is well. {urgent_line}");
            assert_eq!(dropped.is_err(), safety, "{key}");
            assert!(key.check("Hi {warning_signs} {urgent_line}").is_ok());
        }
    }
}
