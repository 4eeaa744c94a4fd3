//! Reading a command out of a message's text.

use crate::domain::enroll_args::MAX_NAME_CHARS;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Start(String),
    Help,
    Enroll(String),
    Patients,
    Alerts,
    Book(String),
    Unbook(String),
    Done(String),
    Series(String),
    Schedule,
    Stop,
    Resume(String),
    Patient(String),
    Pause(String),
    Cancel(String),
    Language,
    Timezone(String),
    MyData,
    Delete,
    /// Staff: every message the clinic's patients can receive.
    Templates,
    /// Staff: one message, rendered and raw: `<key> [lang]`.
    Template(String),
    /// Owner/admin: change a message's text: `<key> [lang]`.
    Edit(String),
    /// Staff: saved versions of a message: `<key> [lang]`.
    History(String),
    /// Owner/admin: bring back a version: `<key> <version> [lang]`.
    Revert(String),
    /// Owner/admin: back to the default text: `<key> [lang]`.
    Reset(String),
    /// Staff: the course timing; owner/admin: `<step> <after>|off|default`.
    Timing(String),
    Invite(String),
    Staff,
    Revoke(String),
    Role(String),
    Clinic(String),
    Settings(String),
    Audit(String),
    Relink(String),
    Unknown(String),
    /// `/cmd@some_other_bot`: not for us.
    OtherBot,
}

/// Longest argument text accepted; longer input is refused, not parsed.
pub const MAX_ARGS_CHARS: usize = MAX_NAME_CHARS + 40;

impl Command {
    /// `None` when the text is not a command.
    pub fn parse(text: &str, bot_username: &str) -> Option<Command> {
        let rest = text.strip_prefix('/')?;
        let (word, args) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        let (name, target) = word.split_once('@').unwrap_or((word, ""));
        if !target.is_empty() && !target.eq_ignore_ascii_case(bot_username) {
            return Some(Command::OtherBot);
        }
        let args = args.trim().to_string();
        Some(match name.to_ascii_lowercase().as_str() {
            "start" => Command::Start(args),
            "help" => Command::Help,
            "enroll" => Command::Enroll(args),
            "patients" => Command::Patients,
            "alerts" => Command::Alerts,
            "book" => Command::Book(args),
            "unbook" => Command::Unbook(args),
            "done" => Command::Done(args),
            "series" => Command::Series(args),
            "schedule" => Command::Schedule,
            "stop" => Command::Stop,
            "resume" => Command::Resume(args),
            "patient" => Command::Patient(args),
            "pause" => Command::Pause(args),
            "cancel" => Command::Cancel(args),
            "language" => Command::Language,
            "timezone" => Command::Timezone(args),
            "mydata" => Command::MyData,
            "delete" => Command::Delete,
            "templates" => Command::Templates,
            "template" => Command::Template(args),
            "edit" => Command::Edit(args),
            "history" => Command::History(args),
            "revert" => Command::Revert(args),
            "reset" => Command::Reset(args),
            "timing" => Command::Timing(args),
            "invite" => Command::Invite(args),
            "staff" => Command::Staff,
            "revoke" => Command::Revoke(args),
            "role" => Command::Role(args),
            "clinic" => Command::Clinic(args),
            "settings" => Command::Settings(args),
            "audit" => Command::Audit(args),
            "relink" => Command::Relink(args),
            other => Command::Unknown(other.chars().take(32).collect()),
        })
    }

    /// For logs: the command word, never its arguments.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Start(_) => "start",
            Command::Help => "help",
            Command::Enroll(_) => "enroll",
            Command::Patients => "patients",
            Command::Alerts => "alerts",
            Command::Book(_) => "book",
            Command::Unbook(_) => "unbook",
            Command::Done(_) => "done",
            Command::Series(_) => "series",
            Command::Schedule => "schedule",
            Command::Stop => "stop",
            Command::Resume(_) => "resume",
            Command::Patient(_) => "patient",
            Command::Pause(_) => "pause",
            Command::Cancel(_) => "cancel",
            Command::Language => "language",
            Command::Timezone(_) => "timezone",
            Command::MyData => "mydata",
            Command::Delete => "delete",
            Command::Templates => "templates",
            Command::Template(_) => "template",
            Command::Edit(_) => "edit",
            Command::History(_) => "history",
            Command::Revert(_) => "revert",
            Command::Reset(_) => "reset",
            Command::Timing(_) => "timing",
            Command::Invite(_) => "invite",
            Command::Staff => "staff",
            Command::Revoke(_) => "revoke",
            Command::Role(_) => "role",
            Command::Clinic(_) => "clinic",
            Command::Settings(_) => "settings",
            Command::Audit(_) => "audit",
            Command::Relink(_) => "relink",
            Command::Unknown(_) => "unknown",
            Command::OtherBot => "other-bot",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
