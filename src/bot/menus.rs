//! Command menus: patients and staff see different ones (setMyCommands with scopes).

use teloxide::prelude::*;
use teloxide::types::{BotCommand, BotCommandScope, Recipient};

use crate::store::Store;

fn patient_commands() -> Vec<BotCommand> {
    vec![
        BotCommand::new("schedule", "What's coming up"),
        BotCommand::new("stop", "Stop all reminders"),
        BotCommand::new("resume", "Turn reminders back on"),
        BotCommand::new("language", "Change the language"),
        BotCommand::new("timezone", "Travelling? Reminders follow your time zone"),
        BotCommand::new("mydata", "What is stored about you"),
        BotCommand::new("delete", "Erase your data"),
        BotCommand::new("help", "What this bot does"),
    ]
}

fn staff_commands() -> Vec<BotCommand> {
    vec![
        BotCommand::new("enroll", "Enroll a patient: /enroll Anna Berg 14:30"),
        BotCommand::new("patients", "Your clinic's patients"),
        BotCommand::new("alerts", "Open alerts from patients"),
        BotCommand::new("book", "Book the next session: /book #12 2026-12-21 10:30"),
        BotCommand::new("unbook", "Cancel a booked session: /unbook #12"),
        BotCommand::new("done", "Next session done: /done #12 [HH:MM]"),
        BotCommand::new("series", "Sessions in the series: /series #12 3"),
        BotCommand::new("patient", "One patient: /patient #12"),
        BotCommand::new("pause", "Pause a patient's reminders: /pause #12"),
        BotCommand::new("resume", "Resume them: /resume #12"),
        BotCommand::new("cancel", "End a patient's course: /cancel #12"),
        BotCommand::new("templates", "Messages patients receive, and their texts"),
        BotCommand::new("edit", "Change a text: /edit step.sun-morning en"),
        BotCommand::new("timing", "The course timing: /timing makeup-ok 36h"),
        BotCommand::new("relink", "A fresh link for a patient"),
        BotCommand::new("staff", "The clinic's people and roles"),
        BotCommand::new("invite", "Invite staff or an admin"),
        BotCommand::new("clinic", "Show or switch your clinic"),
        BotCommand::new("settings", "Clinic settings (owners)"),
        BotCommand::new("audit", "Recent actions (owners)"),
        BotCommand::new("help", "Staff commands"),
    ]
}

/// Patients' menu for every private chat, the staff menu for each staff member's chat.
pub async fn set_menus(bot: &Bot, store: &Store) -> anyhow::Result<()> {
    bot.set_my_commands(patient_commands())
        .scope(BotCommandScope::AllPrivateChats)
        .await?;
    for user in store.all_staff_user_ids().await? {
        set_staff_menu(bot, ChatId(user)).await;
    }
    Ok(())
}

/// A failure here costs a menu, not a function: logged and carried on.
pub async fn set_staff_menu(bot: &Bot, chat: ChatId) {
    let scope = BotCommandScope::Chat {
        chat_id: Recipient::Id(chat),
    };
    if let Err(e) = bot.set_my_commands(staff_commands()).scope(scope).await {
        tracing::warn!(
            chat = chat.0,
            error = crate::outbox::errors::describe_request(&e),
            "could not set the staff menu"
        );
    }
}
