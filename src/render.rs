//! Filling templates for a real (or sample) patient. Shared by the scheduler, the bot and
//! `aftercare preview`, so what a preview shows is what a patient gets.

use chrono::{DateTime, Datelike, TimeZone};

use crate::catalog::{Catalog, Reply};
use crate::domain::enroll_args::first_name;
use crate::domain::template::Template;

/// What a course step can mention.
pub struct StepVars<'a, Tz: TimeZone> {
    pub patient_name: &'a str,
    pub clinic_name: &'a str,
    pub clinic_contact: &'a str,
    pub session: DateTime<Tz>,
    pub lang: &'a str,
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
    template.render_dropping_empty(&[
        ("first_name", first_name(v.patient_name)),
        ("clinic_name", v.clinic_name),
        ("clinic_contact", v.clinic_contact),
        ("session_date", &date),
        ("session_time", &time),
    ])
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
