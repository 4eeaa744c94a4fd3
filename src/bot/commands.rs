//! The bot's commands, each declared once in [`COMMANDS`]: its name, the variant it
//! parses to, and what patients and staff are told about it. Parsing,
//! [`Command::name`], both menus (`menus.rs`) and the staff /help (`staff.rs`) are read
//! from it; `route` in `bot/mod.rs` decides what each variant does.
//!
//! Adding a command: a variant here, a row in [`COMMANDS`], an arm in `route`. The
//! compiler asks for the arm, and warns about a variant no row makes.

use crate::domain::enroll_args::MAX_NAME_CHARS;
use crate::domain::roles::{Action, allowed};
use crate::store::StaffRole;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Start(String),
    Help,
    Enroll(String),
    Patients(String),
    Alerts,
    Book(String),
    Unbook(String),
    Done(String),
    Series(String),
    Schedule,
    Stop,
    Resume(String),
    Patient(String),
    Photos(String),
    Pause(String),
    Cancel(String),
    Language,
    Timezone(String),
    MyData,
    Delete,
    Templates,
    Template(String),
    Edit(String),
    History(String),
    Revert(String),
    Reset(String),
    Timing(String),
    Courses,
    Course(String),
    Adjust(String),
    Note(String),
    Invite(String),
    Staff,
    Revoke(String),
    Role(String),
    Clinic(String),
    Settings(String),
    Audit(String),
    Stats(String),
    Relink(String),
    /// A command not in [`COMMANDS`]: its name, at most 32 characters.
    Unknown(String),
    /// `/cmd@some_other_bot`: not for us.
    OtherBot,
}

/// Longest argument text accepted; longer input is refused, not parsed.
pub const MAX_ARGS_CHARS: usize = MAX_NAME_CHARS + 40;

/// One command: its name, its variant, and who is shown it.
pub struct Spec {
    /// What follows the slash, lowercase.
    pub name: &'static str,
    /// The variant, given the trimmed argument text (commands without arguments drop it).
    make: fn(String) -> Command,
    /// The description in the patients' menu; `None` keeps it out of that menu.
    /// Patients' /help is worded per language in `messages/*/bot.toml`; a test keeps it
    /// listing the same commands.
    pub patient_menu: Option<&'static str>,
    /// What staff are told; `None` keeps it out of their /help and menu.
    pub staff: Option<StaffDoc>,
}

/// A command as staff see it: one line of /help, and maybe a menu entry.
#[derive(Clone, Copy)]
pub struct StaffDoc {
    /// The arguments for /help, plain text (escaped when shown): `<#id or name>`.
    pub args: &'static str,
    /// The rest of its /help line.
    pub help: &'static str,
    /// The description in the staff menu; `None` leaves a less-used command to /help.
    pub menu: Option<&'static str>,
    /// What the command does, for the permission check: /help and the menu list a
    /// command only for the roles allowed to use it.
    pub needs: Action,
}

impl Spec {
    const fn new(name: &'static str, make: fn(String) -> Command) -> Spec {
        Spec {
            name,
            make,
            patient_menu: None,
            staff: None,
        }
    }

    const fn patient_menu(self, description: &'static str) -> Spec {
        Spec {
            patient_menu: Some(description),
            ..self
        }
    }

    const fn staff(self, args: &'static str, help: &'static str) -> Spec {
        Spec {
            staff: Some(StaffDoc {
                args,
                help,
                menu: None,
                needs: Action::CarePatients,
            }),
            ..self
        }
    }

    /// After [`Spec::staff`]: the command is in the staff menu too.
    const fn staff_menu(self, description: &'static str) -> Spec {
        let Some(doc) = self.staff else {
            panic!("a staff menu entry needs a staff help line first");
        };
        Spec {
            staff: Some(StaffDoc {
                menu: Some(description),
                ..doc
            }),
            ..self
        }
    }

    /// After [`Spec::staff`]: only roles allowed `action` are shown the command.
    const fn needs(self, action: Action) -> Spec {
        let Some(doc) = self.staff else {
            panic!("a permission needs a staff help line first");
        };
        Spec {
            staff: Some(StaffDoc {
                needs: action,
                ..doc
            }),
            ..self
        }
    }
}

/// Every command, in menu order (both menus list their commands in this order).
pub const COMMANDS: &[Spec] = &[
    Spec::new("start", Command::Start),
    Spec::new("enroll", Command::Enroll)
        .staff(
            "<name> [[YYYY-MM-DD] HH:MM]",
            "enroll a patient after their session (default: now; the day may also be 23.11.2026, 23.11. or yesterday) and get their one-time link",
        )
        .staff_menu("Enroll a patient: /enroll Anna Berg 14:30"),
    Spec::new("patients", Command::Patients)
        .staff(
            "[name]",
            "your clinic's patients, their status and next reminder, page by page; with a name, those whose name contains it",
        )
        .staff_menu("Your clinic's patients"),
    Spec::new("alerts", |_| Command::Alerts)
        .staff(
            "",
            "open alerts, and patients who did not answer a check-in",
        )
        .staff_menu("Open alerts from patients"),
    Spec::new("book", Command::Book)
        .staff(
            "<#id or name> YYYY-MM-DD HH:MM",
            "book (or move) the patient's next session",
        )
        .staff_menu("Book the next session: /book #12 2026-12-21 10:30"),
    Spec::new("unbook", Command::Unbook)
        .staff("<#id or name>", "cancel the patient's booked session")
        .staff_menu("Cancel a booked session: /unbook #12"),
    Spec::new("done", Command::Done)
        .staff(
            "<#id or name> [[YYYY-MM-DD] HH:MM]",
            "the patient had their next session; the course starts again in the same chat",
        )
        .staff_menu("Next session done: /done #12 [HH:MM]"),
    Spec::new("series", Command::Series)
        .staff(
            "<#id or name> <n>",
            "the patient's series has n sessions (shown as “session 2 of 3”)",
        )
        .staff_menu("Sessions in the series: /series #12 3"),
    Spec::new("patient", Command::Patient)
        .staff(
            "<#id or name>",
            "status, progress, what's coming and open alerts",
        )
        .staff_menu("One patient: /patient #12"),
    Spec::new("photos", Command::Photos)
        .staff(
            "<#id or name>",
            "the photos the patient sent for photo check-ins, oldest first, as albums",
        )
        .staff_menu("A patient's check-in photos: /photos #12"),
    Spec::new("schedule", |_| Command::Schedule).patient_menu("What's coming up"),
    Spec::new("stop", |_| Command::Stop).patient_menu("Stop all reminders"),
    Spec::new("pause", Command::Pause)
        .staff("<#id or name>", "pause a patient's reminders")
        .staff_menu("Pause a patient's reminders: /pause #12"),
    // A patient's own reminders without arguments, a patient's (staff) with them:
    // `route` decides.
    Spec::new("resume", Command::Resume)
        .patient_menu("Turn reminders back on")
        .staff("<#id or name>", "resume a patient's reminders")
        .staff_menu("Resume them: /resume #12"),
    Spec::new("cancel", Command::Cancel)
        .staff("<#id or name>", "end a patient's reminders")
        .staff_menu("End a patient's course: /cancel #12"),
    Spec::new("language", |_| Command::Language).patient_menu("Change the language"),
    Spec::new("timezone", Command::Timezone)
        .patient_menu("Travelling? Reminders follow your time zone"),
    Spec::new("mydata", |_| Command::MyData).patient_menu("What is stored about you"),
    Spec::new("delete", |_| Command::Delete).patient_menu("Erase your data"),
    Spec::new("templates", |_| Command::Templates)
        .staff("", "every message your patients can receive")
        .staff_menu("Messages patients receive, and their texts"),
    Spec::new("template", Command::Template).staff(
        "<key> [lang]",
        "one of those messages, as sent and as written",
    ),
    Spec::new("edit", Command::Edit)
        .staff("<key> [lang]", "change a text (owner, admins)")
        .needs(Action::ChangeTexts)
        .staff_menu("Change a text: /edit step.sun-morning en"),
    Spec::new("history", Command::History).staff("<key> [lang]", "the saved versions of a text"),
    Spec::new("revert", Command::Revert).staff(
        "<key> <version> [lang]",
        "bring back a saved version (owner, admins)",
    )
    .needs(Action::ChangeTexts),
    Spec::new("reset", Command::Reset)
        .staff("<key> [lang]", "back to the default text (owner, admins)")
        .needs(Action::ChangeTexts),
    Spec::new("timing", Command::Timing)
        .staff(
            "[<step> 36h | off | default]",
            "the course timing; with a step, change it (owner, admins)",
        )
        .staff_menu("The course timing: /timing makeup-ok 36h"),
    Spec::new("courses", |_| Command::Courses)
        .staff("", "the clinic's courses (treatments) and the default")
        .staff_menu("Courses (treatments)"),
    Spec::new("course", Command::Course).staff(
        "[new|step|gap|default|export] …",
        "one course; create one or change its steps, or send it as a .toml file (owner, admins); /course alone explains",
    ),
    Spec::new("adjust", Command::Adjust).staff(
        "<#id or name> <step> 3d|36h|off",
        "move or switch off one step for this patient only",
    ),
    Spec::new("note", Command::Note).staff(
        "<#id> <text>",
        "a personal line shown with this patient's next message",
    ),
    Spec::new("relink", Command::Relink)
        .staff(
            "<patient number>",
            "a fresh link for a patient; the old one stops working",
        )
        .staff_menu("A fresh link for a patient"),
    Spec::new("staff", |_| Command::Staff)
        .staff("", "the clinic's people and roles")
        .staff_menu("The clinic's people and roles"),
    Spec::new("invite", Command::Invite)
        .staff("staff|admin", "a one-time invite link (owners and admins)")
        .needs(Action::Invite)
        .staff_menu("Invite staff or an admin"),
    Spec::new("revoke", Command::Revoke)
        .staff("<person>", "take away someone's access (owners and admins)")
        .needs(Action::ManageStaff),
    Spec::new("role", Command::Role).staff(
        "<person> admin|staff",
        "change someone's role (owners and admins)",
    )
    .needs(Action::ManageStaff),
    Spec::new("clinic", Command::Clinic)
        .staff("[number]", "show or switch the clinic you act for")
        .staff_menu("Show or switch your clinic"),
    Spec::new("settings", Command::Settings)
        .staff(
            "",
            "name, time zone, quiet hours, contact, plan, link lifetime (owners)",
        )
        .needs(Action::ChangeSettings)
        .staff_menu("Clinic settings (owners)"),
    Spec::new("stats", Command::Stats)
        .staff(
            "[days]",
            "a chart and figures for the last 30 days or [days] (owners, admins)",
        )
        .staff_menu("Clinic figures (owners, admins)"),
    Spec::new("audit", Command::Audit)
        .staff("[n]", "who did what, recently (owners)")
        .needs(Action::ReadAudit)
        .staff_menu("Recent actions (owners)"),
    Spec::new("help", |_| Command::Help)
        .patient_menu("What this bot does")
        .staff("", "this list")
        .staff_menu("Staff commands"),
];

/// Commands staff are told about, in /help order.
pub fn staff_docs() -> impl Iterator<Item = (&'static str, StaffDoc)> {
    COMMANDS.iter().filter_map(|c| Some((c.name, c.staff?)))
}

/// The staff commands someone with `role` may use, in /help order.
pub fn staff_docs_for(role: StaffRole) -> impl Iterator<Item = (&'static str, StaffDoc)> {
    staff_docs().filter(move |(_, doc)| allowed(role, doc.needs))
}

/// The staff /help text (HTML) for a role: one line per command that role may use,
/// from [`COMMANDS`].
pub struct StaffHelp(pub StaffRole);

impl std::fmt::Display for StaffHelp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use teloxide::utils::html::escape;
        f.write_str("<b>Staff commands</b>")?;
        for (name, doc) in staff_docs_for(self.0) {
            write!(f, "\n/{name}")?;
            if !doc.args.is_empty() {
                write!(f, " {}", escape(doc.args))?;
            }
            write!(f, ": {}", escape(doc.help))?;
        }
        f.write_str("\nReply to a patient's message or an alert to write to the patient.")
    }
}

impl Command {
    /// `None` when the text is not a command.
    pub fn parse(text: &str, bot_username: &str) -> Option<Command> {
        let rest = text.strip_prefix('/')?;
        let (word, args) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        let (name, target) = word.split_once('@').unwrap_or((word, ""));
        if !target.is_empty() && !target.eq_ignore_ascii_case(bot_username) {
            return Some(Command::OtherBot);
        }
        let name = name.to_ascii_lowercase();
        Some(match COMMANDS.iter().find(|c| c.name == name) {
            Some(c) => (c.make)(args.trim().to_string()),
            None => Command::Unknown(name.chars().take(32).collect()),
        })
    }

    /// A command only staff are told about (no patient has it), or /help and a bare
    /// /start: what someone who lost their staff access would try first.
    pub fn is_staff_side(&self) -> bool {
        let this = std::mem::discriminant(self);
        match self {
            Command::Help => true,
            Command::Start(payload) => payload.trim().is_empty(),
            _ => COMMANDS.iter().any(|c| {
                std::mem::discriminant(&(c.make)(String::new())) == this
                    && c.staff.is_some()
                    && c.patient_menu.is_none()
            }),
        }
    }

    /// For logs: the command word, never its arguments.
    pub fn name(&self) -> &'static str {
        let this = std::mem::discriminant(self);
        match self {
            Command::Unknown(_) => "unknown",
            Command::OtherBot => "other-bot",
            _ => COMMANDS
                .iter()
                .find(|c| std::mem::discriminant(&(c.make)(String::new())) == this)
                .map_or("unknown", |c| c.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::mem::discriminant;

    #[test]
    fn parses_commands_and_arguments() {
        assert_eq!(
            Command::parse("/enroll Anna Berg 14:30", "b"),
            Some(Command::Enroll("Anna Berg 14:30".into()))
        );
        assert_eq!(
            Command::parse("/start abc", "b"),
            Some(Command::Start("abc".into()))
        );
        assert_eq!(Command::parse("/HELP", "b"), Some(Command::Help));
        assert_eq!(Command::parse("/help@b", "b"), Some(Command::Help));
        assert_eq!(Command::parse("/help@other", "b"), Some(Command::OtherBot));
        assert_eq!(Command::parse("hello", "b"), None);
        assert_eq!(
            Command::parse("/frobnicate", "b"),
            Some(Command::Unknown("frobnicate".into()))
        );
        assert_eq!(Command::parse("/", "b"), Some(Command::Unknown("".into())));
        assert_eq!(
            Command::parse("/edit step.sun-morning de", "b"),
            Some(Command::Edit("step.sun-morning de".into()))
        );
        assert_eq!(
            Command::parse("/timing activities off", "b"),
            Some(Command::Timing("activities off".into()))
        );
    }

    #[test]
    fn an_unknown_command_keeps_at_most_32_characters_of_its_name_in_lowercase() {
        let long = format!("/{}", "X".repeat(40));
        assert_eq!(
            Command::parse(&long, "b"),
            Some(Command::Unknown("x".repeat(32)))
        );
        assert_eq!(
            Command::parse("/frobnicate", "b").unwrap().name(),
            "unknown"
        );
        assert_eq!(
            Command::parse("/help@other", "b").unwrap().name(),
            "other-bot"
        );
    }

    #[test]
    fn every_declared_command_parses_back_to_its_variant_and_name() {
        for c in COMMANDS {
            let expected = (c.make)("a b".into());
            for text in [
                format!("/{} a b", c.name),
                format!("/{}@TheBot   a b  ", c.name.to_ascii_uppercase()),
                format!("/{}\na b", c.name),
            ] {
                let parsed = Command::parse(&text, "thebot").unwrap();
                assert_eq!(parsed, expected, "{text:?}");
                assert_eq!(parsed.name(), c.name, "{text:?}");
            }
            assert_eq!(
                Command::parse(&format!("/{}@other_bot a", c.name), "thebot"),
                Some(Command::OtherBot)
            );
        }
    }

    #[test]
    fn no_command_is_declared_twice() {
        let mut names = HashSet::new();
        let mut variants = HashSet::new();
        for c in COMMANDS {
            assert!(names.insert(c.name), "/{} is declared twice", c.name);
            assert!(
                variants.insert(discriminant(&(c.make)(String::new()))),
                "/{} makes the variant of another command",
                c.name
            );
        }
    }

    #[test]
    fn names_are_what_telegram_accepts_as_commands() {
        for c in COMMANDS {
            assert!(
                (1..=32).contains(&c.name.len())
                    && c.name
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "/{}",
                c.name
            );
        }
    }

    /// The command each line of the staff help starts with.
    fn help_lines() -> Vec<String> {
        StaffHelp(StaffRole::Owner)
            .to_string()
            .lines()
            .filter_map(|l| l.strip_prefix('/'))
            .map(|l| l.split([' ', ':']).next().unwrap().to_string())
            .collect()
    }

    #[test]
    fn the_staff_help_has_one_line_per_staff_command_and_no_other() {
        let declared: Vec<&str> = staff_docs().map(|(name, _)| name).collect();
        assert_eq!(help_lines(), declared);
        for (name, doc) in staff_docs() {
            assert!(!doc.help.trim().is_empty(), "/{name} has no help text");
        }
    }

    #[test]
    fn every_staff_menu_entry_has_a_help_line_and_every_help_line_a_command() {
        let lines = help_lines();
        let menu: Vec<&str> = staff_docs()
            .filter(|(_, doc)| doc.menu.is_some())
            .map(|(name, _)| name)
            .collect();
        for name in &menu {
            assert!(lines.iter().any(|l| l == name), "/{name} has no help line");
        }
        // Every help line is a command staff can send; the few without a menu entry
        // are the less-used ones, kept out to keep the menu short.
        for line in &lines {
            let parsed = Command::parse(&format!("/{line}"), "b").unwrap();
            assert!(!matches!(parsed, Command::Unknown(_)), "/{line}");
        }
        let help_only: Vec<&str> = staff_docs()
            .filter(|(_, doc)| doc.menu.is_none())
            .map(|(name, _)| name)
            .collect();
        assert_eq!(
            help_only,
            [
                "template", "history", "revert", "reset", "course", "adjust", "note", "revoke",
                "role"
            ]
        );
    }

    #[test]
    fn the_staff_help_lists_only_what_the_role_may_do() {
        let lines = |role| -> Vec<String> {
            StaffHelp(role)
                .to_string()
                .lines()
                .filter_map(|l| l.strip_prefix('/'))
                .map(|l| l.split([' ', ':']).next().unwrap().to_string())
                .collect()
        };
        let staff = lines(StaffRole::Staff);
        for hidden in [
            "edit", "revert", "reset", "invite", "revoke", "role", "settings", "audit",
        ] {
            assert!(!staff.iter().any(|l| l == hidden), "staff see /{hidden}");
        }
        assert!(staff.iter().any(|l| l == "timing") && staff.iter().any(|l| l == "enroll"));
        let admin = lines(StaffRole::Admin);
        assert!(admin.iter().any(|l| l == "invite") && admin.iter().any(|l| l == "edit"));
        assert!(!admin.iter().any(|l| l == "settings" || l == "audit"));
    }

    #[test]
    fn the_staff_help_is_escaped_html() {
        let help = StaffHelp(StaffRole::Owner).to_string();
        assert!(help.starts_with("<b>Staff commands</b>\n"));
        assert!(help.contains("/enroll &lt;name&gt; [[YYYY-MM-DD] HH:MM]: enroll a patient"));
        assert!(help.contains("\n/help: this list"));
        let tags_removed = help.replace("<b>", "").replace("</b>", "");
        assert!(!tags_removed.contains('<') && !tags_removed.contains('>'));
    }
}
