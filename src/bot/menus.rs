//! Command menus: patients and staff see different ones (setMyCommands with scopes),
//! both read from the declarations in `commands.rs`.

use teloxide::types::BotCommand;

use super::commands::{COMMANDS, staff_docs_for};
use crate::outbox::Outbox;
use crate::store::StaffRole;
use crate::store::Store;

pub(crate) fn patient_commands() -> Vec<BotCommand> {
    COMMANDS
        .iter()
        .filter_map(|c| Some(BotCommand::new(c.name, c.patient_menu?)))
        .collect()
}

fn staff_commands(role: StaffRole) -> Vec<BotCommand> {
    staff_docs_for(role)
        .filter_map(|(name, doc)| Some(BotCommand::new(name, doc.menu?)))
        .collect()
}

/// Patients' menu for every private chat, the staff menu for each staff member's chat.
/// Waits until Telegram has answered them all (start-up does, before polling).
pub async fn set_menus(outbox: &Outbox, store: &Store) -> anyhow::Result<()> {
    let mut pending = vec![outbox.set_menu(None, patient_commands())];
    for user in store.all_staff_user_ids().await? {
        // The role in the clinic they act for, as /help answers.
        if let Some((_, role)) = store.memberships(user).await?.first() {
            pending.push(set_staff_menu(outbox, user, *role));
        }
    }
    for p in pending {
        p.await?;
    }
    Ok(())
}

/// The staff menu for one staff member's chat, with what their role may do; a failure
/// is logged by the outbox.
pub fn set_staff_menu(outbox: &Outbox, chat: i64, role: StaffRole) -> tokio::task::JoinHandle<()> {
    outbox.set_menu(Some(chat), staff_commands(role))
}

/// Someone who no longer works for any clinic gets the patients' menu back.
pub fn set_patient_menu(outbox: &Outbox, chat: i64) -> tokio::task::JoinHandle<()> {
    outbox.set_menu(Some(chat), patient_commands())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Catalog, Reply};
    use std::collections::BTreeSet;

    fn names(menu: &[BotCommand]) -> Vec<&str> {
        menu.iter().map(|c| c.command.as_str()).collect()
    }

    #[test]
    fn the_menus_hold_the_commands_they_always_held() {
        assert_eq!(
            names(&patient_commands()),
            [
                "schedule", "stop", "resume", "language", "timezone", "mydata", "delete", "help"
            ]
        );
        assert_eq!(
            names(&staff_commands(StaffRole::Owner)),
            [
                "enroll",
                "patients",
                "alerts",
                "book",
                "unbook",
                "done",
                "series",
                "patient",
                "photos",
                "pause",
                "resume",
                "cancel",
                "templates",
                "edit",
                "timing",
                "courses",
                "relink",
                "staff",
                "invite",
                "clinic",
                "settings",
                "stats",
                "audit",
                "help"
            ]
        );
    }

    #[test]
    fn every_menu_is_within_telegrams_limits() {
        for menu in [patient_commands(), staff_commands(StaffRole::Owner)] {
            assert!(!menu.is_empty() && menu.len() <= 100);
            let unique: BTreeSet<_> = menu.iter().map(|c| &c.command).collect();
            assert_eq!(unique.len(), menu.len(), "a command is listed twice");
            for c in &menu {
                assert!(
                    (1..=32).contains(&c.command.len())
                        && c.command
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                    "/{}",
                    c.command
                );
                let len = c.description.chars().count();
                assert!((1..=256).contains(&len), "/{}: {len} characters", c.command);
            }
        }
    }

    /// The commands a text lists one per line (`/schedule – see what's coming up`).
    fn listed(text: &str) -> BTreeSet<&str> {
        text.lines()
            .filter_map(|l| l.strip_prefix('/'))
            .map(|l| {
                l.split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                    .next()
                    .unwrap()
            })
            .collect()
    }

    #[test]
    fn the_patients_help_in_every_language_lists_the_patients_menu() {
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("messages");
        let catalog = Catalog::load(&dir).unwrap();
        let menu = patient_commands();
        let menu: BTreeSet<&str> = names(&menu).into_iter().collect();
        for lang in catalog.languages() {
            let help = catalog.reply(&lang.code, Reply::HelpPatient).source();
            assert_eq!(listed(help), menu, "help_patient in {}", lang.code);
        }
    }

    #[test]
    fn every_command_a_patient_is_told_about_is_one_they_have() {
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("messages");
        let catalog = Catalog::load(&dir).unwrap();
        let menu = patient_commands();
        for lang in catalog.languages() {
            for reply in Reply::ALL {
                let text = catalog.reply(&lang.code, reply).source();
                // A command starts a word: `</b>` and links are not commands.
                let words = text.split(|c: char| c.is_whitespace() || c == '(');
                for word in words.filter_map(|w| w.strip_prefix('/')) {
                    let name: String = word
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    assert!(
                        menu.iter().any(|c| c.command == name),
                        "{}: {:?} mentions /{name}, which is not in the patients' menu",
                        lang.code,
                        reply.key()
                    );
                }
            }
        }
    }
}
