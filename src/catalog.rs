//! The messages folder: plans (timing) and wording per language, loaded and checked once.
//!
//! Layout:
//! ```text
//! messages/plans/<plan>.toml     timing of each step
//! messages/<lang>/<plan>.toml    title and text of each step
//! messages/<lang>/bot.toml       the bot's own replies
//! messages/<lang>/safety.toml    the safety lines the bot adds itself (not editable)
//! ```
//! Every problem is reported as `file:line: problem`; one bad file stops start-up.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::domain::plan::Plan;
use crate::domain::problems::{Problem, line_of};
use crate::domain::safety::{SAFETY_PLACEHOLDERS, TIMING_PLACEHOLDERS, needs_safety_lines};
use crate::domain::template::Template;

/// The language every installation must carry; the fallback for everything else.
pub const BASE_LANG: &str = "en";

/// Placeholders a course step may use.
pub const STEP_PLACEHOLDERS: &[&str] = &[
    "first_name",
    "clinic_name",
    "session_date",
    "session_time",
    "clinic_contact",
    "warning_signs",
    "urgent_line",
    "after",
    "makeup_after",
];

/// The lines the bot writes into a plan's first step and every check-in, in one
/// language (`<lang>/safety.toml`). Clinics cannot edit them: their texts must keep
/// `{warning_signs}` and `{urgent_line}`, which these fill.
#[derive(Debug, Clone)]
pub struct SafetyWording {
    /// Signs of infection and the like, and whom to call: `{clinic_name}`,
    /// `{clinic_contact}` (required; its line is left out while the clinic has none).
    pub warning_signs: Template,
    /// Trouble breathing or sudden swelling: `{emergency_number}` (required).
    pub urgent_line: Template,
    /// The same where the bot knows no number for the clinic's zone.
    pub urgent_line_no_number: Template,
    /// Under every photo request: that the photo is optional and that only the
    /// clinic's staff see it (`{clinic_name}`, required). A promise the bot keeps, so
    /// clinics cannot reword it.
    pub photo_request: Template,
}

/// `(key, allowed placeholders, required placeholders)` of `safety.toml`.
const SAFETY_KEYS: [(&str, &[&str], &[&str]); 4] = [
    (
        "warning_signs",
        &["clinic_name", "clinic_contact"],
        &["clinic_contact"],
    ),
    ("urgent_line", &["emergency_number"], &["emergency_number"]),
    ("urgent_line_no_number", &[], &[]),
    ("photo_request", &["clinic_name"], &["clinic_name"]),
];

/// The bot's own replies to patients, each with the placeholders it may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reply {
    Greeting,
    ScheduleHeader,
    ScheduleItem,
    ScheduleEmpty,
    StopDone,
    StopNothing,
    HelpPatient,
    NotLinked,
    LinkInvalid,
    LinkUsed,
    LinkExpired,
    LinkReplaced,
    AlreadyLinked,
    UnknownCommand,
    PlainText,
    PrivateOnly,
    CheckinGood,
    CheckinRedness,
    CheckinInfection,
    CheckinOther,
    CheckinThanks,
    CheckinAdvice,
    CheckinUrgent,
    CheckinAlready,
    /// The one reminder after a check-in nobody answered.
    CheckinNudge,
    RelayFromClinic,
    RelayPhotoCaption,
    RelayUnsupported,
    TimezoneShow,
    TimezoneSet,
    TimezoneUnknown,
    TimezoneLocation,
    RelayFailed,
    BookingConfirmed,
    BookingCancelled,
    BookingPrep,
    BookingDayBefore,
    BookingSoon,
    BookingComingLabel,
    BookingRescheduleLabel,
    BookingComingReply,
    BookingRescheduleReply,
    BookingRescheduleAlready,
    SeriesHeader,
    SeriesHeaderOpen,
    BookNextLabel,
    BookNextReply,
    BookNextAlready,
    ResumeDone,
    ResumeNothing,
    /// To a patient Telegram had refused (blocked, chat gone) who writes again.
    BackInReach,
    LanguagePick,
    LanguageSet,
    Mydata,
    DeleteConfirm,
    DeleteButton,
    DeleteDone,
    TooManyTries,
    ScheduleBooking,
    /// A new link from the same clinic ended the chat's earlier course from it.
    CourseReplaced,
    /// `/resume` after the clinic paused (or cancelled) the reminders: explained, not undone.
    ResumePausedByClinic,
    ResumeCancelledByClinic,
    /// A chat with courses from several clinics: which one a message or `/resume` is for.
    PickClinic,
    /// On top of each course message in a chat with courses from several clinics.
    CourseHeader,
    /// Under `/mydata`'s records.
    MydataFooter,
    /// To a patient whose photo answered a photo request.
    PhotoThanks,
}

impl Reply {
    pub const ALL: [Reply; 66] = [
        Reply::Greeting,
        Reply::ScheduleHeader,
        Reply::ScheduleItem,
        Reply::ScheduleEmpty,
        Reply::StopDone,
        Reply::StopNothing,
        Reply::HelpPatient,
        Reply::NotLinked,
        Reply::LinkInvalid,
        Reply::LinkUsed,
        Reply::LinkExpired,
        Reply::LinkReplaced,
        Reply::AlreadyLinked,
        Reply::UnknownCommand,
        Reply::PlainText,
        Reply::PrivateOnly,
        Reply::CheckinGood,
        Reply::CheckinRedness,
        Reply::CheckinInfection,
        Reply::CheckinOther,
        Reply::CheckinThanks,
        Reply::CheckinAdvice,
        Reply::CheckinUrgent,
        Reply::CheckinAlready,
        Reply::CheckinNudge,
        Reply::RelayFromClinic,
        Reply::RelayPhotoCaption,
        Reply::RelayUnsupported,
        Reply::TimezoneShow,
        Reply::TimezoneSet,
        Reply::TimezoneUnknown,
        Reply::TimezoneLocation,
        Reply::RelayFailed,
        Reply::BookingConfirmed,
        Reply::BookingCancelled,
        Reply::BookingPrep,
        Reply::BookingDayBefore,
        Reply::BookingSoon,
        Reply::BookingComingLabel,
        Reply::BookingRescheduleLabel,
        Reply::BookingComingReply,
        Reply::BookingRescheduleReply,
        Reply::BookingRescheduleAlready,
        Reply::SeriesHeader,
        Reply::SeriesHeaderOpen,
        Reply::BookNextLabel,
        Reply::BookNextReply,
        Reply::BookNextAlready,
        Reply::ResumeDone,
        Reply::ResumeNothing,
        Reply::BackInReach,
        Reply::LanguagePick,
        Reply::LanguageSet,
        Reply::Mydata,
        Reply::DeleteConfirm,
        Reply::DeleteButton,
        Reply::DeleteDone,
        Reply::TooManyTries,
        Reply::ScheduleBooking,
        Reply::CourseReplaced,
        Reply::ResumePausedByClinic,
        Reply::ResumeCancelledByClinic,
        Reply::PickClinic,
        Reply::CourseHeader,
        Reply::MydataFooter,
        Reply::PhotoThanks,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Reply::Greeting => "greeting",
            Reply::ScheduleHeader => "schedule_header",
            Reply::ScheduleItem => "schedule_item",
            Reply::ScheduleEmpty => "schedule_empty",
            Reply::StopDone => "stop_done",
            Reply::StopNothing => "stop_nothing",
            Reply::HelpPatient => "help_patient",
            Reply::NotLinked => "not_linked",
            Reply::LinkInvalid => "link_invalid",
            Reply::LinkUsed => "link_used",
            Reply::LinkExpired => "link_expired",
            Reply::LinkReplaced => "link_replaced",
            Reply::AlreadyLinked => "already_linked",
            Reply::UnknownCommand => "unknown_command",
            Reply::PlainText => "plain_text",
            Reply::PrivateOnly => "private_only",
            Reply::CheckinGood => "checkin_good",
            Reply::CheckinRedness => "checkin_redness",
            Reply::CheckinInfection => "checkin_infection",
            Reply::CheckinOther => "checkin_other",
            Reply::CheckinThanks => "checkin_thanks",
            Reply::CheckinAdvice => "checkin_advice",
            Reply::CheckinUrgent => "checkin_urgent",
            Reply::CheckinAlready => "checkin_already",
            Reply::CheckinNudge => "checkin_nudge",
            Reply::RelayFromClinic => "relay_from_clinic",
            Reply::RelayPhotoCaption => "relay_photo_caption",
            Reply::RelayUnsupported => "relay_unsupported",
            Reply::TimezoneShow => "timezone_show",
            Reply::TimezoneSet => "timezone_set",
            Reply::TimezoneUnknown => "timezone_unknown",
            Reply::TimezoneLocation => "timezone_location",
            Reply::RelayFailed => "relay_failed",
            Reply::BookingConfirmed => "booking_confirmed",
            Reply::BookingCancelled => "booking_cancelled",
            Reply::BookingPrep => "booking_prep",
            Reply::BookingDayBefore => "booking_day_before",
            Reply::BookingSoon => "booking_soon",
            Reply::BookingComingLabel => "booking_coming_label",
            Reply::BookingRescheduleLabel => "booking_reschedule_label",
            Reply::BookingComingReply => "booking_coming_reply",
            Reply::BookingRescheduleReply => "booking_reschedule_reply",
            Reply::BookingRescheduleAlready => "booking_reschedule_already",
            Reply::SeriesHeader => "series_header",
            Reply::SeriesHeaderOpen => "series_header_open",
            Reply::BookNextLabel => "book_next_label",
            Reply::BookNextReply => "book_next_reply",
            Reply::BookNextAlready => "book_next_already",
            Reply::ResumeDone => "resume_done",
            Reply::ResumeNothing => "resume_nothing",
            Reply::BackInReach => "back_in_reach",
            Reply::LanguagePick => "language_pick",
            Reply::LanguageSet => "language_set",
            Reply::Mydata => "mydata",
            Reply::DeleteConfirm => "delete_confirm",
            Reply::DeleteButton => "delete_button",
            Reply::DeleteDone => "delete_done",
            Reply::TooManyTries => "too_many_tries",
            Reply::ScheduleBooking => "schedule_booking",
            Reply::CourseReplaced => "course_replaced",
            Reply::ResumePausedByClinic => "resume_paused_by_clinic",
            Reply::ResumeCancelledByClinic => "resume_cancelled_by_clinic",
            Reply::PickClinic => "pick_clinic",
            Reply::CourseHeader => "course_header",
            Reply::MydataFooter => "mydata_footer",
            Reply::PhotoThanks => "photo_thanks",
        }
    }

    pub fn placeholders(self) -> &'static [&'static str] {
        match self {
            Reply::Greeting => &["first_name", "clinic_name"],
            Reply::ScheduleItem => &["when", "title"],
            Reply::TooManyTries => &["minutes"],
            Reply::ScheduleHeader
            | Reply::ScheduleEmpty
            | Reply::StopDone
            | Reply::HelpPatient
            | Reply::AlreadyLinked
            | Reply::PlainText => &["clinic_name"],
            Reply::StopNothing
            | Reply::NotLinked
            | Reply::LinkInvalid
            | Reply::LinkUsed
            | Reply::LinkExpired
            | Reply::UnknownCommand
            | Reply::PrivateOnly
            | Reply::CheckinGood
            | Reply::CheckinRedness
            | Reply::CheckinInfection
            | Reply::CheckinOther => &[],
            Reply::CheckinThanks
            | Reply::CheckinAdvice
            | Reply::CheckinUrgent
            | Reply::CheckinAlready
            | Reply::CheckinNudge
            | Reply::RelayFailed => &["clinic_name", "clinic_contact"],
            Reply::RelayFromClinic | Reply::RelayPhotoCaption => &["clinic_name", "message"],
            Reply::RelayUnsupported | Reply::LinkReplaced => &["clinic_name"],
            Reply::TimezoneShow | Reply::TimezoneSet => &["zone", "local_time"],
            Reply::TimezoneUnknown => &["query"],
            Reply::TimezoneLocation => &["zone"],
            Reply::BookingConfirmed
            | Reply::BookingCancelled
            | Reply::BookingPrep
            | Reply::BookingDayBefore
            | Reply::BookingSoon
            | Reply::BookingComingReply => &["clinic_name", "when"],
            Reply::BookingComingLabel | Reply::BookingRescheduleLabel | Reply::BookNextLabel => &[],
            Reply::SeriesHeader => &["number", "total"],
            Reply::SeriesHeaderOpen => &["number"],
            Reply::ResumeDone | Reply::BackInReach | Reply::DeleteConfirm => &["clinic_name"],
            Reply::ResumeNothing
            | Reply::LanguagePick
            | Reply::LanguageSet
            | Reply::DeleteButton
            | Reply::DeleteDone
            | Reply::ScheduleBooking
            | Reply::PickClinic
            | Reply::MydataFooter => &[],
            Reply::CourseReplaced => &["clinic_name", "date"],
            Reply::ResumePausedByClinic | Reply::ResumeCancelledByClinic => {
                &["clinic_name", "clinic_contact"]
            }
            Reply::CourseHeader | Reply::PhotoThanks => &["clinic_name"],
            Reply::Mydata => &[
                "name",
                "clinic_name",
                "session",
                "language",
                "upcoming",
                "booking",
                "photos",
            ],
            Reply::BookNextReply | Reply::BookNextAlready => &["clinic_name", "clinic_contact"],
            Reply::BookingRescheduleReply | Reply::BookingRescheduleAlready => {
                &["clinic_name", "clinic_contact"]
            }
        }
    }
}

/// A step's wording in one language.
#[derive(Debug, Clone)]
pub struct StepWording {
    pub title: String,
    pub text: Template,
}

#[derive(Debug, Clone)]
pub struct Language {
    pub code: String,
    pub name: String,
    replies: HashMap<Reply, Template>,
    safety: SafetyWording,
    /// plan id → step id → wording
    steps: HashMap<String, HashMap<String, StepWording>>,
}

#[derive(Debug, Clone)]
pub struct Catalog {
    plans: BTreeMap<String, Plan>,
    languages: BTreeMap<String, Language>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWording {
    title: Spanned<String>,
    text: Spanned<String>,
}

impl Catalog {
    /// Loads and checks a messages folder. Problems name files relative to `dir`.
    pub fn load(dir: &Path) -> Result<Catalog, Vec<Problem>> {
        let shown = |rel: &str| format!("{}/{rel}", dir.display());
        let mut problems = Vec::new();
        if !dir.is_dir() {
            return Err(vec![Problem::new(
                &dir.display().to_string(),
                0,
                "not a readable folder",
            )]);
        }
        let mut plans = BTreeMap::new();
        for (stem, rel) in toml_files(dir, "plans", &mut problems) {
            let Some(text) = read(dir, &rel, &mut problems) else {
                continue;
            };
            match Plan::parse(&stem, &shown(&rel), &text) {
                Ok(plan) => {
                    plans.insert(stem, plan);
                }
                Err(p) => problems.extend(p),
            }
        }
        if plans.is_empty() && problems.is_empty() {
            problems.push(Problem::new(
                &shown("plans"),
                0,
                "no plan files (plans/<plan>.toml)",
            ));
        }

        let mut languages = BTreeMap::new();
        for code in language_dirs(dir, &mut problems) {
            if let Some(lang) = load_language(dir, &code, &plans, &mut problems) {
                languages.insert(code, lang);
            }
        }
        if !languages.contains_key(BASE_LANG)
            && !problems
                .iter()
                .any(|p| p.file.contains(&format!("/{BASE_LANG}/")))
        {
            problems.push(Problem::new(
                &shown(BASE_LANG),
                0,
                "the English wording (en/) is required",
            ));
        }
        if problems.is_empty() {
            Ok(Catalog { plans, languages })
        } else {
            Err(problems)
        }
    }

    pub fn plan(&self, id: &str) -> Option<&Plan> {
        self.plans.get(id)
    }

    pub fn plan_ids(&self) -> impl Iterator<Item = &str> {
        self.plans.keys().map(String::as_str)
    }

    pub fn languages(&self) -> impl Iterator<Item = &Language> {
        self.languages.values()
    }

    /// The language for a patient: their Telegram language when we have it, else the
    /// clinic's default, else English.
    pub fn pick_language(&self, telegram: Option<&str>, clinic_default: &str) -> String {
        let wanted = telegram.map(|c| c.split(['-', '_']).next().unwrap_or(c).to_ascii_lowercase());
        [wanted.as_deref(), Some(clinic_default)]
            .into_iter()
            .flatten()
            .find(|c| self.languages.contains_key(*c))
            .unwrap_or(BASE_LANG)
            .to_string()
    }

    fn language(&self, code: &str) -> &Language {
        self.languages
            .get(code)
            .or_else(|| self.languages.get(BASE_LANG))
            .expect("the base language is checked at load")
    }

    pub fn reply(&self, lang: &str, reply: Reply) -> &Template {
        &self.language(lang).replies[&reply]
    }

    /// The safety lines in a language (English where it has none: it always has).
    pub fn safety(&self, lang: &str) -> &SafetyWording {
        &self.language(lang).safety
    }

    pub fn step(&self, lang: &str, plan: &str, step: &str) -> Option<&StepWording> {
        self.language(lang).steps.get(plan)?.get(step)
    }

    /// The title a patient sees for a reminder row in `/schedule`, for staff too: a plan
    /// step's own title, the booking messages' shared one, a check-in's for its nudge.
    /// Staff never see internal ids such as `booking-soon` unless the catalog lacks it.
    pub fn step_title(&self, lang: &str, plan: &str, step_id: &str) -> String {
        if crate::domain::booking::BookingStep::from_id(step_id).is_some() {
            return self.reply(lang, Reply::ScheduleBooking).render(&[]);
        }
        let own = crate::domain::checkin::nudged_checkin(step_id).unwrap_or(step_id);
        self.step(lang, plan, own)
            .map(|w| w.title.clone())
            .unwrap_or_else(|| step_id.to_string())
    }
}

fn load_language(
    dir: &Path,
    code: &str,
    plans: &BTreeMap<String, Plan>,
    problems: &mut Vec<Problem>,
) -> Option<Language> {
    let shown = |rel: &str| format!("{}/{rel}", dir.display());
    let before = problems.len();
    let bot_rel = format!("{code}/bot.toml");
    let mut replies = HashMap::new();
    let mut name = code.to_string();
    if let Some(text) = read(dir, &bot_rel, problems) {
        match toml::from_str::<HashMap<String, Spanned<String>>>(&text) {
            Err(e) => problems.push(toml_problem(&shown(&bot_rel), &text, &e)),
            Ok(raw) => {
                for (key, value) in &raw {
                    let line = line_of(&text, value.span().start);
                    if key == "language_name" {
                        name = value.get_ref().trim().to_string();
                    } else if let Some(reply) = Reply::ALL.iter().find(|r| r.key() == key) {
                        match Template::parse(value.get_ref(), reply.placeholders()) {
                            Ok(t) => {
                                replies.insert(*reply, t);
                            }
                            Err(e) => problems.push(Problem::new(
                                &shown(&bot_rel),
                                line,
                                format!("{key}: {e}"),
                            )),
                        }
                    } else {
                        problems.push(Problem::new(
                            &shown(&bot_rel),
                            line,
                            format!("unknown key `{key}`"),
                        ));
                    }
                }
                for reply in Reply::ALL {
                    if !raw.contains_key(reply.key()) {
                        problems.push(Problem::new(
                            &shown(&bot_rel),
                            1,
                            format!("missing `{}`", reply.key()),
                        ));
                    }
                }
            }
        }
    }
    let safety = load_safety(dir, code, problems);
    let mut steps = HashMap::new();
    for (plan_id, plan) in plans {
        let rel = format!("{code}/{plan_id}.toml");
        let Some(text) = read(dir, &rel, problems) else {
            continue;
        };
        let raw: HashMap<String, Spanned<RawWording>> = match toml::from_str(&text) {
            Ok(r) => r,
            Err(e) => {
                problems.push(toml_problem(&shown(&rel), &text, &e));
                continue;
            }
        };
        let mut wording = HashMap::new();
        for step in &plan.steps {
            let Some(w) = raw.get(&step.id) else {
                problems.push(Problem::new(
                    &shown(&rel),
                    1,
                    format!("missing wording for step `{}`", step.id),
                ));
                continue;
            };
            let w = w.get_ref();
            let line = line_of(&text, w.text.span().start);
            let title = w.title.get_ref().trim().to_string();
            if title.is_empty() || title.chars().count() > 80 {
                let line = line_of(&text, w.title.span().start);
                problems.push(Problem::new(
                    &shown(&rel),
                    line,
                    format!("{}: the title must be 1 to 80 characters", step.id),
                ));
            }
            let required = if needs_safety_lines(plan, &step.id) {
                SAFETY_PLACEHOLDERS
            } else {
                &[]
            };
            match Template::parse_requiring(w.text.get_ref(), STEP_PLACEHOLDERS, required) {
                Ok(t) => {
                    for (name, of_step) in TIMING_PLACEHOLDERS {
                        if let Some(of_step) = of_step
                            && t.uses(name)
                            && plan.step(of_step).is_none()
                        {
                            problems.push(Problem::new(
                                &shown(&rel),
                                line,
                                format!(
                                    "{}: {{{name}}} reads the timing of step `{of_step}`, which plans/{plan_id}.toml does not have",
                                    step.id
                                ),
                            ));
                        }
                    }
                    wording.insert(step.id.clone(), StepWording { title, text: t });
                }
                Err(e) => problems.push(Problem::new(
                    &shown(&rel),
                    line,
                    format!("{}: {e}", step.id),
                )),
            }
        }
        for (id, w) in &raw {
            if plan.step(id).is_none() {
                let line = line_of(&text, w.span().start);
                problems.push(Problem::new(
                    &shown(&rel),
                    line,
                    format!("`{id}` is not a step of plans/{plan_id}.toml"),
                ));
            }
        }
        steps.insert(plan_id.clone(), wording);
    }
    let safety = safety?;
    (problems.len() == before).then(|| Language {
        code: code.to_string(),
        name,
        replies,
        safety,
        steps,
    })
}

/// `<lang>/safety.toml`: every key present, known and checked.
fn load_safety(dir: &Path, code: &str, problems: &mut Vec<Problem>) -> Option<SafetyWording> {
    let rel = format!("{code}/safety.toml");
    let shown = format!("{}/{rel}", dir.display());
    let text = read(dir, &rel, problems)?;
    let raw = match toml::from_str::<HashMap<String, Spanned<String>>>(&text) {
        Ok(r) => r,
        Err(e) => {
            problems.push(toml_problem(&shown, &text, &e));
            return None;
        }
    };
    for (key, value) in &raw {
        if !SAFETY_KEYS.iter().any(|(k, _, _)| k == key) {
            let line = line_of(&text, value.span().start);
            problems.push(Problem::new(&shown, line, format!("unknown key `{key}`")));
        }
    }
    let mut parsed = Vec::new();
    for (key, allowed, required) in SAFETY_KEYS {
        let Some(value) = raw.get(key) else {
            problems.push(Problem::new(&shown, 1, format!("missing `{key}`")));
            continue;
        };
        match Template::parse_requiring(value.get_ref(), allowed, required) {
            Ok(t) => parsed.push(t),
            Err(e) => {
                let line = line_of(&text, value.span().start);
                problems.push(Problem::new(&shown, line, format!("{key}: {e}")));
            }
        }
    }
    let [
        warning_signs,
        urgent_line,
        urgent_line_no_number,
        photo_request,
    ] = parsed.try_into().ok()?;
    Some(SafetyWording {
        warning_signs,
        urgent_line,
        urgent_line_no_number,
        photo_request,
    })
}

fn toml_problem(file: &str, text: &str, e: &toml::de::Error) -> Problem {
    let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(1);
    Problem::new(file, line, e.message().trim())
}

fn read(dir: &Path, rel: &str, problems: &mut Vec<Problem>) -> Option<String> {
    match fs::read_to_string(dir.join(rel)) {
        Ok(t) => Some(t),
        Err(e) => {
            problems.push(Problem::new(
                &format!("{}/{rel}", dir.display()),
                0,
                format!("cannot read: {e}"),
            ));
            None
        }
    }
}

/// `(stem, relative path)` of each `.toml` in `dir/sub`, sorted.
fn toml_files(dir: &Path, sub: &str, problems: &mut Vec<Problem>) -> Vec<(String, String)> {
    let entries = match fs::read_dir(dir.join(sub)) {
        Ok(e) => e,
        Err(e) => {
            problems.push(Problem::new(
                &format!("{}/{sub}", dir.display()),
                0,
                format!("cannot read: {e}"),
            ));
            return Vec::new();
        }
    };
    let mut out: Vec<(String, String)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let stem = name.strip_suffix(".toml")?.to_string();
            Some((stem, format!("{sub}/{name}")))
        })
        .collect();
    out.sort();
    out
}

/// Language folders: every folder but `plans`.
fn language_dirs(dir: &Path, problems: &mut Vec<Problem>) -> Vec<String> {
    let Ok(entries) = fs::read_dir(dir) else {
        problems.push(Problem::new(
            &dir.display().to_string(),
            0,
            "cannot read the folder",
        ));
        return Vec::new();
    };
    let mut out: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n != "plans" && !n.starts_with('.'))
        .collect();
    out.sort();
    out
}
