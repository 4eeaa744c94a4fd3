//! The shape the code keeps (docs/decisions.md): `bot/` parses, calls one service
//! function and renders its outcome. It never talks to Telegram itself (every message
//! leaves through `outbox/`) and never writes to the database (each action's writes
//! and audit row are in its service's one transaction). Checked on the source, so a
//! shortcut taken in a hurry fails here rather than in production.

use std::path::Path;

/// Every `.rs` file under `dir`, with its text.
fn sources(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            out.push((path.display().to_string(), text));
        }
    }
    out
}

fn offending_lines(dir: &str, needles: &[&str]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut found = Vec::new();
    for (path, text) in sources(&root) {
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for needle in needles {
                if code.contains(needle) {
                    found.push(format!("{path}:{}: {}", n + 1, line.trim()));
                }
            }
        }
    }
    found
}

#[test]
fn the_handlers_send_nothing_themselves() {
    let found = offending_lines(
        "src/bot",
        &[
            "send_message(",
            "send_photo(",
            "edit_message_",
            "answer_callback_query(",
            "set_my_commands(",
            "teloxide::Bot",
            ": Bot",
            "&Bot",
            "Pacer",
        ],
    );
    assert!(
        found.is_empty(),
        "bot/ talks to Telegram:\n{}",
        found.join("\n")
    );
}

#[test]
fn only_the_outbox_talks_to_telegram() {
    let mut found = Vec::new();
    for dir in [
        "src/bot",
        "src/service",
        "src/scheduler",
        "src/store",
        "src/domain",
    ] {
        found.extend(offending_lines(
            dir,
            &[
                ".send_message(",
                ".send_photo(",
                ".edit_message_",
                ".answer_callback_query(",
            ],
        ));
    }
    assert!(
        found.is_empty(),
        "sent outside the outbox:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_handlers_write_nothing_to_the_database() {
    let found = offending_lines(
        "src/bot",
        &[
            "sqlx::",
            ".begin()",
            "Tx",
            "store.audit(",
            "crate::store::Audit",
        ],
    );
    assert!(
        found.is_empty(),
        "bot/ writes to the database:\n{}",
        found.join("\n")
    );
}
