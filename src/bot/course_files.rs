//! Courses as files. `/course export <course>` sends the course in force as
//! `<key>.toml`; an owner or admin sends such a file (a document in the private chat)
//! to change that course or make a new one. The file is fetched and checked here, with
//! no transaction open (problems as `line N: …`, nothing changed), then previewed with
//! what it changes, and saved with Save (`cf:save:<draft>`) or dropped with Cancel
//! (`cf:cancel:<draft>`). The draft waits in the database, so a restart loses nothing.

use teloxide::types::{CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup};
use teloxide::utils::html::escape;

use super::templates::{clinic_and_role, remove_buttons};
use super::{Ctx, Deps};
use crate::catalog::BASE_LANG;
use crate::course_file::CourseFile;
use crate::course_upload::{
    MAX_FILE_BYTES, Preview, decode, is_toml, key_of_file, preview, problem_list,
};
use crate::domain::problems::Problem;
use crate::outbox::Outgoing;
use crate::outbox::files::FetchError;
use crate::service::course_files::{self as svc, Proposed, Saved};
use crate::service::courses::languages;
use crate::service::templates::may_change;
use crate::store::{Clinic, StaffRole};

/// For anyone but staff who sends a document.
const NOT_STAFF: &str = "Course files are for a clinic's owner and admins. If you are a patient, open the link your clinic gave you; I pass on text and photos.";

/// The answer when the file cannot be fetched from Telegram.
const TRY_AGAIN: &str =
    "I could not fetch the file from Telegram. Please send it again; nothing changed.";

/// A press on a preview that is gone.
const NO_LONGER: &str =
    "This preview is no longer active (cancelled, or replaced by a newer file). Nothing changed.";

fn too_big(file_name: &str, size: Option<usize>) -> String {
    format!(
        "{}{} is too big: a course file is at most {} KB. Nothing changed.",
        escape(file_name),
        size.map(|s| format!(" ({} KB)", s.div_ceil(1024)))
            .unwrap_or_default(),
        MAX_FILE_BYTES / 1024
    )
}

/// A document sent in the private chat, not as a reply: a course file, if it is one.
pub async fn upload(ctx: &Ctx<'_>) -> anyhow::Result<()> {
    let Some(doc) = ctx.msg.document() else {
        return Ok(());
    };
    let file_name = doc.file_name.clone().unwrap_or_default();
    let Some((clinic, role)) = clinic_and_role(ctx) else {
        return ctx.reply(NOT_STAFF.into()).await;
    };
    if !may_change(role) {
        return ctx
            .reply("Only the clinic's owner and admins can send course files. /courses lists the courses.".into())
            .await;
    }
    if !is_toml(&file_name) {
        return ctx
            .reply(format!(
                "I take course files as <code>.toml</code> documents, like the one /course export sends. “{}” is not one; nothing changed.",
                escape(&file_name)
            ))
            .await;
    }
    // Telegram gives the size; a document without one (u32::MAX) is capped while fetched.
    let size = doc.file.size as usize;
    if doc.file.size != u32::MAX && size > MAX_FILE_BYTES {
        return ctx.reply(too_big(&file_name, Some(size))).await;
    }
    let Some(key) = key_of_file(&file_name) else {
        return ctx
            .reply("Name the file after the course, like <code>chemical-peel.toml</code>; nothing changed.".into())
            .await;
    };
    let deps = ctx.deps;
    let bytes = match deps.outbox.fetch_file(&doc.file.id.0, MAX_FILE_BYTES).await {
        Ok(b) => b,
        Err(FetchError::TooBig(_)) => return ctx.reply(too_big(&file_name, None)).await,
        Err(FetchError::Failed(why)) => {
            tracing::warn!(clinic = clinic.id, reason = %why, "could not fetch a course file");
            return ctx.reply(TRY_AGAIN.into()).await;
        }
    };
    let text = match decode(&bytes) {
        Ok(t) => t,
        Err(why) => return ctx.reply(escape(&why)).await,
    };
    let checked = match CourseFile::parse(&key, &file_name, &text, &languages(&deps.catalog)) {
        Ok(c) if c.file.steps.is_empty() => {
            let none = Problem::new(&file_name, 1, "no [[step]]: a course needs at least one");
            return ctx.reply(problem_list(&file_name, &[none])).await;
        }
        Ok(c) => c,
        Err(problems) => {
            tracing::info!(
                clinic = clinic.id,
                problems = problems.len(),
                "course file refused"
            );
            return ctx.reply(problem_list(&file_name, &problems)).await;
        }
    };
    let now = deps.clock.now();
    let proposed = svc::propose(
        &deps.store,
        &deps.catalog,
        clinic,
        role,
        ctx.user_id(),
        &file_name,
        &key,
        &checked,
        now,
    )
    .await?;
    match proposed {
        Err(why) => ctx.reply(why).await,
        Ok(Proposed::Unchanged { name, key, version }) => {
            ctx.reply(format!(
                "“{}” (<code>{key}</code>): this file is the same as version {version}, in force now. Nothing to save; nothing changed.",
                escape(&name)
            ))
            .await
        }
        Ok(Proposed::Preview {
            draft_id,
            key,
            base,
            replaced_unsaved,
        }) => {
            tracing::info!(clinic = clinic.id, key, draft = draft_id, "course file previewed");
            let langs = languages(&deps.catalog);
            let current = base
                .as_ref()
                .and_then(|(v, file)| file.as_ref().map(|f| (f, *v)));
            let mut text = preview(&Preview {
                file_name: &file_name,
                key: &key,
                new: &checked.file,
                current,
                languages: &langs,
                base_lang: BASE_LANG,
            });
            if let Some((v, None)) = &base {
                text.push_str(&format!(
                    "\n(Version {v} in force cannot be read any more, so what changes is not shown.)"
                ));
            }
            if replaced_unsaved {
                text.push_str("\n(Your earlier file, not saved, is discarded.)");
            }
            let buttons = InlineKeyboardMarkup::new(vec![vec![
                InlineKeyboardButton::callback("Save", format!("cf:save:{draft_id}")),
                InlineKeyboardButton::callback("Cancel", format!("cf:cancel:{draft_id}")),
            ]]);
            ctx.reply_with_buttons(text, buttons).await
        }
    }
}

/// `/course export <course>`: the course in force as `<key>.toml`.
pub async fn export(
    ctx: &Ctx<'_>,
    clinic: &Clinic,
    role: StaffRole,
    typed: &str,
) -> anyhow::Result<()> {
    let deps = ctx.deps;
    match svc::export(&deps.store, &deps.catalog, clinic, role, typed).await? {
        Err(why) => ctx.reply(why).await,
        Ok(e) => {
            tracing::info!(
                clinic = clinic.id,
                key = e.key,
                version = e.version,
                "course exported"
            );
            let caption = format!(
                "“{}” (<code>{}</code>), version {}. Change it and send it back to me as a file: I check it, show what it changes, and save it when you press Save. Sent back unchanged, it changes nothing. A file with another name (<code>laser.toml</code>) makes a new course.",
                escape(&e.name),
                e.key,
                e.version
            );
            deps.outbox.send(Outgoing::document(
                ctx.chat().0,
                format!("{}.toml", e.key),
                e.body.into_bytes(),
                caption,
            ));
            Ok(())
        }
    }
}

/// `cf:save:<draft>` and `cf:cancel:<draft>`; returns the answer to the press.
pub async fn on_button(
    q: &CallbackQuery,
    rest: &str,
    deps: &Deps,
) -> anyhow::Result<Option<String>> {
    let Some((action, id)) = rest.split_once(':') else {
        return Ok(None);
    };
    let Ok(draft_id) = id.parse::<i64>() else {
        return Ok(None);
    };
    let user = q.from.id.0 as i64;
    let chat = user;
    match action {
        "save" => {
            let now = deps.clock.now();
            // A preview that is not (or no longer) the presser's keeps its buttons.
            let Some(saved) = svc::save(&deps.store, &deps.catalog, draft_id, user, now).await?
            else {
                deps.answer(chat, NO_LONGER.into());
                return Ok(Some("No longer active".into()));
            };
            remove_buttons(deps, q);
            let (toast, text) = saved_answer(saved);
            deps.answer(chat, text);
            Ok(Some(toast.into()))
        }
        "cancel" => {
            if !svc::cancel(&deps.store, draft_id, user).await? {
                deps.answer(chat, NO_LONGER.into());
                return Ok(Some("No longer active".into()));
            }
            remove_buttons(deps, q);
            tracing::info!(draft = draft_id, "course file cancelled");
            deps.answer(chat, "Cancelled. Nothing changed.".into());
            Ok(Some("Cancelled".into()))
        }
        _ => Ok(None),
    }
}

/// The short answer to the press and the message that follows it.
fn saved_answer(saved: Saved) -> (&'static str, String) {
    match saved {
        Saved::Done {
            course,
            created,
            not_ready,
        } => {
            tracing::info!(
                clinic_course = course.id,
                version = course.version,
                created,
                "course file saved"
            );
            let mut text = if created {
                format!(
                    "Saved: the new course “{}” (<code>{}</code>), version 1, with {} steps. Enroll into it with /enroll Anna Berg {} 14:30.",
                    escape(course.name()),
                    course.key,
                    course.checked.plan.steps.len(),
                    course.key
                )
            } else {
                format!(
                    "Saved: “{}” (<code>{}</code>) is now version {}. Patients enrolled from now on get it; patients already on the course keep the times planned for them.",
                    escape(course.name()),
                    course.key,
                    course.version
                )
            };
            if let Some(why) = not_ready {
                // It names every step without English: a long course must still fit.
                let why: String = if why.chars().count() > 1500 {
                    why.chars().take(1499).chain(['…']).collect()
                } else {
                    why
                };
                text.push_str(&format!(
                    "\n\n{}",
                    crate::domain::html::escape_with_code(&why)
                ));
            }
            ("Saved", text)
        }
        Saved::AlreadySaved { key, version } => (
            "Already saved",
            format!(
                "This file is saved already, as version {version} of <code>{key}</code>. Nothing more changed."
            ),
        ),
        Saved::Expired => (
            "Expired",
            format!(
                "This preview is more than {} hours old, so nothing was saved. Send the file again.",
                svc::DRAFT_LIFETIME.num_hours()
            ),
        ),
        Saved::Superseded { key, version } => (
            "The course changed",
            format!(
                "The course <code>{key}</code> changed since this preview{}, so nothing was saved. Send the file again to see what it changes now.",
                version
                    .map(|v| format!(" (version {v} is in force now)"))
                    .unwrap_or_default()
            ),
        ),
        Saved::NotAllowed => (
            "Not allowed",
            "Only the clinic's owner and admins can save course files; nothing was saved.".into(),
        ),
        Saved::Refused(why) => ("Not saved", why),
    }
}
