//! Filling templates for a real (or sample) patient. Shared by the scheduler, the bot and
//! `aftercare preview`, so what a preview shows is what a patient gets.

use chrono::{DateTime, Datelike, TimeZone};

use crate::catalog::{Catalog, Reply};
use crate::domain::enroll_args::first_name;
use crate::domain::plan::Plan;
use crate::domain::safety::{
    TIMING_PLACEHOLDERS, URGENT_LINE, WARNING_SIGNS, emergency_number_for_zone, offset_words,
};
use crate::domain::template::Template;

/// What a course step can mention.
pub struct StepVars<'a, Tz: TimeZone> {
    pub patient_name: &'a str,
    pub clinic_name: &'a str,
    pub clinic_contact: &'a str,
    pub session: DateTime<Tz>,
    pub lang: &'a str,
    /// What the bot adds itself: safety lines and timing words.
    pub extras: &'a StepExtras,
}

/// The parts of a step the bot writes rather than the template: the safety lines
/// (HTML, put in unescaped) and the timing words, for one clinic, language and step.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepExtras {
    pub warning_signs: String,
    pub urgent_line: String,
    /// `("after", "3 days")`, `("makeup_after", "24 hours")`…
    pub timing: Vec<(&'static str, String)>,
}

/// Who the safety lines name: the clinic's name, phone and emergency number.
pub struct ClinicLines<'a> {
    pub name: &'a str,
    pub contact: &'a str,
    /// The clinic's own emergency number (`/settings emergency`), else `None`.
    pub emergency: Option<&'a str>,
    /// The clinic's zone, for its emergency number when it set none.
    pub timezone: &'a str,
}

impl<'a> ClinicLines<'a> {
    /// The number patients are told to call in an emergency, if the bot knows one.
    pub fn emergency_number(&self) -> Option<&'a str> {
        self.emergency
            .filter(|n| !n.trim().is_empty())
            .or_else(|| emergency_number_for_zone(self.timezone))
    }
}

impl StepExtras {
    /// The extras of `step_id`: safety lines from the catalog in `lang`, timing words
    /// from `timing` (the clinic's plan), falling back to `file` (the messages folder's
    /// plan) for a step the clinic switched off.
    pub fn build(
        catalog: &Catalog,
        lang: &str,
        file: &Plan,
        timing: &Plan,
        step_id: &str,
        clinic: &ClinicLines<'_>,
    ) -> StepExtras {
        let safety = catalog.safety(lang);
        let warning_signs = safety.warning_signs.render_dropping_empty(&[
            ("clinic_name", clinic.name),
            ("clinic_contact", clinic.contact),
        ]);
        let urgent_line = match clinic.emergency_number() {
            Some(n) => safety
                .urgent_line
                .render_dropping_empty(&[("emergency_number", n)]),
            None => safety.urgent_line_no_number.render(&[]),
        };
        let timing = TIMING_PLACEHOLDERS
            .iter()
            .filter_map(|(name, of)| {
                let id = of.unwrap_or(step_id);
                let step = timing.step(id).or_else(|| file.step(id))?;
                Some((*name, offset_words(lang, step.after)))
            })
            .collect();
        StepExtras {
            warning_signs,
            urgent_line,
            timing,
        }
    }
}

/// A step's text as the patient receives it, or `None` when the plan has no such step.
pub fn step_text<Tz: TimeZone>(
    catalog: &Catalog,
    plan: &str,
    step: &str,
    v: &StepVars<'_, Tz>,
) -> Option<String>
where
    Tz::Offset: std::fmt::Display,
{
    let wording = catalog.step(v.lang, plan, step)?;
    Some(fill_step(&wording.text, v))
}

/// A step's template (the clinic's own or the default) filled for a patient.
pub fn fill_step<Tz: TimeZone>(template: &Template, v: &StepVars<'_, Tz>) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let date = local_date(v.lang, &v.session);
    let time = v.session.format("%H:%M").to_string();
    let mut vars = vec![
        ("first_name", first_name(v.patient_name)),
        ("clinic_name", v.clinic_name),
        ("clinic_contact", v.clinic_contact),
        ("session_date", &date),
        ("session_time", &time),
    ];
    vars.extend(v.extras.timing.iter().map(|(n, w)| (*n, w.as_str())));
    template.render_dropping_empty_with_html(
        &vars,
        &[
            (WARNING_SIGNS, &v.extras.warning_signs),
            (URGENT_LINE, &v.extras.urgent_line),
        ],
    )
}

/// A reply with only a clinic name to fill in (or none).
pub fn reply(catalog: &Catalog, lang: &str, which: Reply, clinic_name: &str) -> String {
    catalog
        .reply(lang, which)
        .render(&[("clinic_name", clinic_name)])
}

/// "23 Nov" in English, "23.11." in other languages: short and unambiguous.
pub fn local_date<Tz: TimeZone>(lang: &str, t: &DateTime<Tz>) -> String
where
    Tz::Offset: std::fmt::Display,
{
    if lang == "en" {
        t.format("%-d %b").to_string()
    } else {
        format!("{}.{}.", t.day(), t.month())
    }
}

/// Date and time for lists: "Mon 23 Nov, 14:30" / "Mo 23.11., 14:30".
pub fn local_when<Tz: TimeZone>(lang: &str, t: &DateTime<Tz>) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let weekday = weekday_name(lang, t.weekday().num_days_from_monday() as usize);
    format!("{weekday} {}, {}", local_date(lang, t), t.format("%H:%M"))
}

fn weekday_name(lang: &str, index: usize) -> &'static str {
    const EN: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const DE: [&str; 7] = ["Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"];
    const ES: [&str; 7] = ["lun", "mar", "mié", "jue", "vie", "sáb", "dom"];
    match lang {
        "de" => DE[index],
        "es" => ES[index],
        _ => EN[index],
    }
}
