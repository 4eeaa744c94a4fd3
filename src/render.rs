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
    /// For a step asking for a photo: the line under it saying the photo is optional
    /// and who sees it (HTML). Empty for other steps.
    pub photo_request: String,
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
        let is_photo = timing
            .step(step_id)
            .or_else(|| file.step(step_id))
            .is_some_and(|s| s.photo);
        let timing = TIMING_PLACEHOLDERS
            .iter()
            .filter_map(|(name, of)| {
                let id = of.unwrap_or(step_id);
                let step = timing.step(id).or_else(|| file.step(id))?;
                Some((*name, offset_words(lang, step.after)))
            })
            .collect();
        let photo_request = if is_photo {
            safety
                .photo_request
                .render(&[("clinic_name", clinic.name)])
                .trim()
                .to_string()
        } else {
            String::new()
        };
        StepExtras {
            warning_signs,
            urgent_line,
            timing,
            photo_request,
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
    let text = template.render_dropping_empty_with_html(
        &vars,
        &[
            (WARNING_SIGNS, &v.extras.warning_signs),
            (URGENT_LINE, &v.extras.urgent_line),
        ],
    );
    // A photo request's own line, which the clinic's text cannot leave out.
    if v.extras.photo_request.is_empty() {
        text
    } else {
        format!("{}\n\n{}", text.trim_end(), v.extras.photo_request)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("messages");
        Catalog::load(&dir).unwrap()
    }

    /// What each shipped language's first message must say, in that language's words:
    /// what is normal, no makeup (for the makeup step's time), sun protection from
    /// today, no sauna/pool/hot tub/heavy exercise, the warning signs with the clinic's
    /// phone number, and the emergency line. A new language adds its row here.
    fn essentials(lang: &str) -> &'static [&'static str] {
        match lang {
            "en" => &[
                "What's normal",
                "No makeup for 24 hours",
                "SPF 30",
                "shade",
                "sauna",
                "swimming pool",
                "hot tub",
                "hard exercise",
                "signs of infection",
            ],
            "de" => &[
                "normal",
                "24 Stunden lang kein Make-up",
                "LSF 30",
                "Schatten",
                "Sauna",
                "Schwimmbad",
                "Whirlpool",
                "anstrengender Sport",
                "Anzeichen einer Infektion",
            ],
            other => panic!("no list of essentials for the language `{other}`: add one"),
        }
    }

    #[test]
    fn every_shipped_language_s_first_message_has_the_essentials_and_the_contact() {
        let c = catalog();
        let plan = c.plan("microneedling").unwrap();
        let first = &plan.steps[0].id;
        let clinic = ClinicLines {
            name: "Glow Clinic",
            contact: "+49 30 1234567",
            emergency: None,
            timezone: "Europe/Berlin",
        };
        for lang in c.languages() {
            let extras = StepExtras::build(&c, &lang.code, plan, plan, first, &clinic);
            let text = step_text(
                &c,
                "microneedling",
                first,
                &StepVars {
                    patient_name: "Anna Berg",
                    clinic_name: "Glow Clinic",
                    clinic_contact: "+49 30 1234567",
                    session: chrono::Utc::now(),
                    lang: &lang.code,
                    extras: &extras,
                },
            )
            .unwrap();
            for e in essentials(&lang.code) {
                assert!(
                    text.contains(e),
                    "{}: {e:?} missing from\n{text}",
                    lang.code
                );
            }
            assert!(text.contains("+49 30 1234567"), "{}: {text}", lang.code);
            assert!(text.contains("112"), "{}: {text}", lang.code);
        }
    }

    #[test]
    fn the_emergency_line_follows_the_clinic_or_its_zone_or_says_local() {
        let c = catalog();
        let plan = c.plan("microneedling").unwrap();
        let lines = |emergency, timezone| ClinicLines {
            name: "Glow",
            contact: "",
            emergency,
            timezone,
        };
        let urgent = |l: &ClinicLines<'_>| {
            StepExtras::build(&c, "en", plan, plan, "normal-now", l).urgent_line
        };
        assert!(urgent(&lines(None, "America/Chicago")).contains("Call 911"));
        assert!(urgent(&lines(Some("999"), "Europe/London")).contains("Call 999"));
        assert!(urgent(&lines(None, "UTC")).contains("your local emergency number"));
        // No contact: the phone line is left out, the warning signs stay.
        let e = StepExtras::build(&c, "en", plan, plan, "normal-now", &lines(None, "UTC"));
        assert!(e.warning_signs.contains("signs of infection"));
        assert!(!e.warning_signs.contains("☎️"));
    }

    #[test]
    fn timing_words_follow_the_clinic_s_timing() {
        let c = catalog();
        let file = c.plan("microneedling").unwrap();
        let moved = crate::domain::timing::apply(
            file,
            &[(
                "makeup-ok".into(),
                crate::domain::timing::StepTiming::Moved {
                    after: crate::domain::offset::parse_offset("36h").unwrap(),
                    at: None,
                },
            )],
        );
        let lines = ClinicLines {
            name: "Glow",
            contact: "1",
            emergency: None,
            timezone: "Europe/Berlin",
        };
        let e = StepExtras::build(&c, "de", file, &moved, "makeup-ok", &lines);
        assert!(e.timing.contains(&("makeup_after", "36 Stunden".into())));
        assert!(e.timing.contains(&("after", "36 Stunden".into())));
        // Switched off: the file's timing still reads right in the first message.
        let off = crate::domain::timing::apply(
            file,
            &[("makeup-ok".into(), crate::domain::timing::StepTiming::Off)],
        );
        let e = StepExtras::build(&c, "en", file, &off, "normal-now", &lines);
        assert!(e.timing.contains(&("makeup_after", "24 hours".into())));
    }

    /// The words each language's photo request must have: that it is optional, and that
    /// only the clinic's staff (named) will see it. A new language adds its row here.
    fn photo_promise(lang: &str) -> &'static [&'static str] {
        match lang {
            "en" => &["optional", "only the staff of Glow &amp; Co"],
            "de" => &["freiwillig", "nur das Team von Glow &amp; Co"],
            other => panic!("no photo promise listed for the language `{other}`: add one"),
        }
    }

    #[test]
    fn a_photo_step_ends_with_the_promise_in_every_language_and_other_steps_do_not() {
        let c = catalog();
        let mut plan = c.plan("microneedling").unwrap().clone();
        plan.steps[1].photo = true;
        let photo_step = plan.steps[1].id.clone();
        let clinic = ClinicLines {
            name: "Glow & Co",
            contact: "1",
            emergency: None,
            timezone: "Europe/Berlin",
        };
        for lang in c.languages() {
            let extras = StepExtras::build(&c, &lang.code, &plan, &plan, &photo_step, &clinic);
            let template = Template::parse("How is it healing?", &["first_name"]).unwrap();
            let text = fill_step(
                &template,
                &StepVars {
                    patient_name: "Anna Berg",
                    clinic_name: "Glow & Co",
                    clinic_contact: "1",
                    session: chrono::Utc::now(),
                    lang: &lang.code,
                    extras: &extras,
                },
            );
            assert!(text.starts_with("How is it healing?\n\n📷 "), "{text}");
            for words in photo_promise(&lang.code) {
                assert!(
                    text.contains(words),
                    "{}: {words:?} missing from\n{text}",
                    lang.code
                );
            }
            let other = StepExtras::build(&c, &lang.code, &plan, &plan, "normal-now", &clinic);
            assert!(other.photo_request.is_empty());
        }
    }
}
