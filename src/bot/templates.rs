//! Staff commands for the texts patients receive: /templates, /template, /edit (then the
//! new text as an ordinary message, a preview, Save or Cancel), /history, /revert,
//! /reset. Buttons are `tpl:save:<draft>` and `tpl:cancel:<draft>`.

use teloxide::types::{
    CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, MessageEntity, MessageEntityKind,
};
use teloxide::utils::html::escape;

use super::{Ctx, Deps};
use crate::domain::entities::{Format, Span, to_html};
use crate::domain::html::{MAX_MESSAGE_LEN, escape_with_code, pack_lines, split_plain, to_plain};
use crate::outbox::{Lane, Outgoing};
use crate::render::local_when;
use crate::service::templates::{self as svc, Refusal, Saved};
use crate::service::texts::TextKey;
use crate::store::{Clinic, StaffRole, from_millis};

/// For patients and strangers who try a staff command.
pub(crate) const STAFF_ONLY: &str = "This command is for clinic staff only.";

/// The staff member's clinic and their role in it.
pub(crate) fn clinic_and_role<'a>(ctx: &'a Ctx<'_>) -> Option<(&'a Clinic, StaffRole)> {
    let clinic = super::staff::active_clinic(ctx)?;
    let role = ctx
        .memberships
        .iter()
        .find(|(c, _)| c.id == clinic.id)
        .map(|(_, r)| *r)?;
    Some((clinic, role))
}

fn placeholders(key: &TextKey) -> String {
    let allowed = key.allowed();
    let mut text = if allowed.is_empty() {
        "This message has no placeholders.".to_string()
    } else {
        format!(
            "Placeholders: {}",
            allowed
                .iter()
                .map(|p| format!("{{{p}}}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    if !key.required().is_empty() {
        text.push_str(&format!(
            " (required: {})",
            key.required()
                .iter()
                .map(|p| format!("{{{p}}}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    escape(&text)
}

fn refusal(r: &Refusal) -> String {
    escape_with_code(&r.to_string())
}

pub async fn list(ctx: &Ctx<'_>) -> anyhow::Result<()> {
    let Some((clinic, _)) = clinic_and_role(ctx) else {
        return ctx.reply(STAFF_ONLY.into()).await;
    };
    let listed = svc::list(&ctx.deps.store, &ctx.deps.catalog, clinic).await?;
    let mut lines = vec![format!(
        "<b>Messages {}'s patients can receive</b>\n✏️ = changed by your clinic. /template &lt;key&gt; [lang] shows one.\n",
        escape(&clinic.name)
    )];
    for l in &listed {
        lines.push(format!(
            "{}<code>{}</code> · {} · {}",
            if l.own { "✏️ " } else { "" },
            l.key,
            l.lang,
            escape(&l.excerpt)
        ));
    }
    for message in pack_lines(&lines, MAX_MESSAGE_LEN - 96) {
        ctx.reply(message).await?;
    }
    Ok(())
}

pub async fn show(ctx: &Ctx<'_>, args: &str) -> anyhow::Result<()> {
    let Some((clinic, _)) = clinic_and_role(ctx) else {
        return ctx.reply(STAFF_ONLY.into()).await;
    };
    let deps = ctx.deps;
    let t = match svc::checked_target(&deps.store, &deps.catalog, clinic, args).await? {
        Ok(t) => t,
        Err(r) => return ctx.reply(refusal(&r)).await,
    };
    let Some((template, own)) = svc::current(&deps.store, &deps.catalog, clinic, &t).await? else {
        return ctx
            .reply(refusal(&Refusal::UnknownKey(t.key.to_string())))
            .await;
    };
    let origin = if own {
        "your clinic's own text"
    } else {
        "the default text"
    };
    ctx.reply(format!(
        "<b>{key}</b> ({lang}): {origin}.\n{ph}\nChanges apply to every reminder not yet sent: texts are filled in when each message goes out.\n\nAs a sample patient ({sample}) gets it now:",
        key = t.key,
        lang = t.lang,
        ph = placeholders(&t.key),
        sample = svc::SAMPLE_PATIENT,
    ))
    .await?;
    let now = deps.clock.now();
    let sample = svc::sample(
        &deps.store,
        &deps.catalog,
        clinic,
        &t.key,
        &t.lang,
        &template,
        now,
    )
    .await?;
    ctx.reply(non_empty(sample)).await?;
    show_raw(ctx, "Raw text, with its placeholders:", template.source()).await
}

/// The template source as text (tags and placeholders visible), split if long.
async fn show_raw(ctx: &Ctx<'_>, title: &str, source: &str) -> anyhow::Result<()> {
    for (i, piece) in split_plain(source, MAX_MESSAGE_LEN - 200)
        .iter()
        .enumerate()
    {
        let head = if i == 0 { title } else { "(continued)" };
        ctx.reply(format!("{head}\n<pre>{}</pre>", escape(piece)))
            .await?;
    }
    Ok(())
}

/// Telegram refuses an empty message; a sample can come out empty when every line
/// depends on an empty value.
fn non_empty(html: String) -> String {
    if to_plain(&html).trim().is_empty() {
        "(empty for this sample patient)".into()
    } else {
        html
    }
}

fn buttons(rows: Vec<(&str, String)>) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new([rows
        .into_iter()
        .map(|(label, data)| InlineKeyboardButton::callback(label, data))
        .collect::<Vec<_>>()])
}

pub async fn edit(ctx: &Ctx<'_>, args: &str) -> anyhow::Result<()> {
    let Some((clinic, role)) = clinic_and_role(ctx) else {
        return ctx.reply(STAFF_ONLY.into()).await;
    };
    let deps = ctx.deps;
    let t = match svc::checked_target(&deps.store, &deps.catalog, clinic, args).await? {
        Ok(t) => t,
        Err(r) => return ctx.reply(refusal(&r)).await,
    };
    let now = deps.clock.now();
    let (id, discarded) =
        match svc::start_edit(&deps.store, clinic, role, ctx.user_id(), &t, now).await? {
            Ok(started) => started,
            Err(r) => return ctx.reply(refusal(&r)).await,
        };
    let discarded = match discarded {
        Some(d) => format!(
            "Your unsaved edit of <b>{}</b> ({}) was discarded: one edit at a time.\n\n",
            escape(&d.key),
            escape(&d.lang)
        ),
        None => String::new(),
    };
    tracing::info!(clinic = clinic.id, key = %t.key, lang = %t.lang, draft = id, "edit started");
    ctx.reply_with_buttons(
        format!(
            "{discarded}Send me the new text for <b>{key}</b> ({lang}) as your next message. \
             Bold, italic, underline, strikethrough, spoilers and links are kept.\n{ph}\n\
             Nothing changes until you press Save on the preview. The current text follows, to copy.",
            key = t.key,
            lang = t.lang,
            ph = placeholders(&t.key),
        ),
        buttons(vec![("Cancel", format!("tpl:cancel:{id}"))]),
    )
    .await?;
    if let Some((template, _)) = svc::current(&deps.store, &deps.catalog, clinic, &t).await? {
        // The source is Telegram HTML: shown as such, formatting and placeholders read
        // as the staff member would type them.
        ctx.reply(template.source().to_string()).await?;
    }
    Ok(())
}

/// Telegram's entities as our formats; kinds that carry no formatting are dropped.
pub(crate) fn spans(entities: &[MessageEntity]) -> Vec<Span> {
    entities
        .iter()
        .filter_map(|e| {
            let format = match &e.kind {
                MessageEntityKind::Bold => Format::Bold,
                MessageEntityKind::Italic => Format::Italic,
                MessageEntityKind::Underline => Format::Underline,
                MessageEntityKind::Strikethrough => Format::Strikethrough,
                MessageEntityKind::Spoiler => Format::Spoiler,
                MessageEntityKind::Code => Format::Code,
                MessageEntityKind::Pre { .. } => Format::Pre,
                MessageEntityKind::Blockquote | MessageEntityKind::ExpandableBlockquote => {
                    Format::Blockquote
                }
                MessageEntityKind::TextLink { url } => Format::Link(url.to_string()),
                _ => return None,
            };
            Some(Span {
                format,
                offset: e.offset,
                length: e.length,
            })
        })
        .collect()
}

/// A plain message from a staff member: the new text of their edit in progress, if they
/// have one. Returns false when there is none, so the caller answers as usual.
pub async fn new_text(ctx: &Ctx<'_>) -> anyhow::Result<bool> {
    let deps = ctx.deps;
    // Most plain messages from staff are not an edit's text: a read, no transaction.
    let Some(open) = deps.store.template_draft_of(ctx.user_id()).await? else {
        return Ok(false);
    };
    let msg = ctx.msg;
    if msg.text().is_none() {
        // A photo's caption (or a file's) is not taken as the new text: it would lose the
        // picture without a word.
        ctx.reply(format!(
            "That is not a text, so I did not take it as the new text of <b>{}</b> ({}). \
             Send the new text as a plain message; your edit is still open.",
            escape(&open.key),
            escape(&open.lang)
        ))
        .await?;
        return Ok(true);
    }
    let (text, entities) = match (msg.text(), msg.caption()) {
        (Some(t), _) => (t, msg.entities().unwrap_or_default()),
        (None, Some(c)) => (c, msg.caption_entities().unwrap_or_default()),
        (None, None) => ("", &[][..]),
    };
    let html = to_html(text, &spans(entities));
    let Some(proposal) = svc::propose(&deps.store, &deps.catalog, ctx.user_id(), &html).await?
    else {
        return Ok(false);
    };
    let (draft, clinic) = (&proposal.draft, &proposal.clinic);
    let cancel = || buttons(vec![("Cancel", format!("tpl:cancel:{}", draft.id))]);
    let proposed = match proposal.result {
        Ok(p) => p,
        Err(r) => {
            tracing::info!(clinic = clinic.id, key = %draft.key, draft = draft.id, "new text refused");
            ctx.reply_with_buttons(
                format!(
                    "Not saved: {}\nThe current text stays in force. Send a corrected text, or press Cancel.",
                    refusal(&r)
                ),
                cancel(),
            )
            .await?;
            return Ok(true);
        }
    };
    tracing::info!(clinic = clinic.id, key = %proposed.target.key, draft = draft.id, "new text previewed");
    ctx.reply(format!(
        "Preview of <b>{}</b> ({}) for a sample patient ({}). Nothing changes until you press Save:",
        proposed.target.key,
        proposed.target.lang,
        svc::SAMPLE_PATIENT
    ))
    .await?;
    let sample = svc::sample(
        &deps.store,
        &deps.catalog,
        clinic,
        &proposed.target.key,
        &proposed.target.lang,
        &proposed.template,
        deps.clock.now(),
    )
    .await?;
    ctx.reply_with_buttons(
        non_empty(sample),
        buttons(vec![
            (
                "Save",
                format!(
                    "tpl:save:{}:{}",
                    draft.id,
                    svc::text_tag(proposed.template.source())
                ),
            ),
            ("Cancel", format!("tpl:cancel:{}", draft.id)),
        ]),
    )
    .await?;
    Ok(true)
}

pub async fn history(ctx: &Ctx<'_>, args: &str) -> anyhow::Result<()> {
    let Some((clinic, _)) = clinic_and_role(ctx) else {
        return ctx.reply(STAFF_ONLY.into()).await;
    };
    let deps = ctx.deps;
    let t = match svc::checked_target(&deps.store, &deps.catalog, clinic, args).await? {
        Ok(t) => t,
        Err(r) => return ctx.reply(refusal(&r)).await,
    };
    let versions = svc::history(&deps.store, clinic, &t).await?;
    if versions.is_empty() {
        return ctx
            .reply(format!(
                "<b>{}</b> ({}) has never been changed: the default text is in force.",
                t.key, t.lang
            ))
            .await;
    }
    let tz = clinic.tz();
    let mut lines = vec![format!(
        "<b>Versions of {} ({})</b>, newest first. /revert {} &lt;version&gt; {} brings one back.\n",
        t.key, t.lang, t.key, t.lang
    )];
    for (i, v) in versions.iter().enumerate() {
        let what = match &v.body {
            Some(b) => escape(&first_line(b)),
            None => "(back to the default text)".into(),
        };
        lines.push(format!(
            "<b>{}</b>{} · {} · by {} · {}",
            v.version,
            if i == 0 { " (in force)" } else { "" },
            local_when("en", &from_millis(v.saved_at).with_timezone(&tz)),
            match &v.saved_by_name {
                Some(name) => escape(name),
                None => format!("#{} (no longer on the staff)", v.saved_by),
            },
            what
        ));
    }
    for message in pack_lines(&lines, MAX_MESSAGE_LEN - 96) {
        ctx.reply(message).await?;
    }
    Ok(())
}

fn first_line(source: &str) -> String {
    let plain = to_plain(source);
    let line = plain.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    line.chars().take(60).collect()
}

/// `/revert <key> <version> [lang]`
pub async fn revert(ctx: &Ctx<'_>, args: &str) -> anyhow::Result<()> {
    const USAGE: &str = "/revert <key> <version> [lang], e.g. /revert step.sun-morning 1";
    let Some((clinic, role)) = clinic_and_role(ctx) else {
        return ctx.reply(STAFF_ONLY.into()).await;
    };
    let deps = ctx.deps;
    let mut words: Vec<&str> = args.split_whitespace().collect();
    let version = match words.get(1).map(|v| v.parse::<i64>()) {
        Some(Ok(v)) => v,
        _ => return ctx.reply(refusal(&Refusal::Usage(USAGE))).await,
    };
    words.remove(1);
    let t = match svc::checked_target(&deps.store, &deps.catalog, clinic, &words.join(" ")).await? {
        Ok(t) => t,
        Err(r) => return ctx.reply(refusal(&r)).await,
    };
    let now = deps.clock.now();
    match svc::revert(&deps.store, clinic, role, ctx.user_id(), &t, version, now).await? {
        Ok(new) => {
            tracing::info!(clinic = clinic.id, key = %t.key, lang = %t.lang, version, new, "text reverted");
            ctx.reply(format!(
                "<b>{}</b> ({}) is back to version {version}, saved as version {new}. It applies to every reminder not yet sent.",
                t.key, t.lang
            ))
            .await
        }
        Err(r) => ctx.reply(refusal(&r)).await,
    }
}

pub async fn reset(ctx: &Ctx<'_>, args: &str) -> anyhow::Result<()> {
    let Some((clinic, role)) = clinic_and_role(ctx) else {
        return ctx.reply(STAFF_ONLY.into()).await;
    };
    let deps = ctx.deps;
    let t = match svc::checked_target(&deps.store, &deps.catalog, clinic, args).await? {
        Ok(t) => t,
        Err(r) => return ctx.reply(refusal(&r)).await,
    };
    let now = deps.clock.now();
    match svc::reset(&deps.store, clinic, role, ctx.user_id(), &t, now).await? {
        Ok(None) => {
            ctx.reply(format!(
                "<b>{}</b> ({}) already uses the default text; nothing changed.",
                t.key, t.lang
            ))
            .await
        }
        Ok(Some(new)) => {
            tracing::info!(clinic = clinic.id, key = %t.key, lang = %t.lang, new, "text reset to default");
            ctx.reply(format!(
                "<b>{}</b> ({}) uses the default text again (saved as version {new}; /revert undoes it).",
                t.key, t.lang
            ))
            .await
        }
        Err(r) => ctx.reply(refusal(&r)).await,
    }
}

/// `tpl:save:<draft>` and `tpl:cancel:<draft>`; returns the answer to show.
pub async fn on_button(
    q: &CallbackQuery,
    rest: &str,
    deps: &Deps,
) -> anyhow::Result<Option<String>> {
    let mut parts = rest.split(':');
    let (action, id, tag) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    let Ok(draft_id) = id.parse::<i64>() else {
        return Ok(None);
    };
    let user = q.from.id.0 as i64;
    let chat = user;
    match action {
        "save" => {
            let now = deps.clock.now();
            match svc::save(&deps.store, draft_id, tag, user, now).await? {
                Saved::Done { draft, version } => {
                    remove_buttons(deps, q);
                    tracing::info!(clinic = draft.clinic_id, key = %draft.key, lang = %draft.lang, version, "text saved");
                    deps.answer(
                        chat,
                        format!(
                            "Saved: <b>{}</b> ({}) is now version {version}. It applies to every reminder not yet sent.",
                            escape(&draft.key),
                            escape(&draft.lang)
                        ),
                    );
                    Ok(Some("Saved".into()))
                }
                Saved::NotAllowed => Ok(Some(Refusal::NotAllowed.to_string())),
                Saved::Stale => Ok(None),
            }
        }
        "cancel" => {
            if !svc::cancel(&deps.store, draft_id, user).await? {
                return Ok(None);
            }
            tracing::info!(draft = draft_id, "edit cancelled");
            remove_buttons(deps, q);
            deps.answer(chat, "Cancelled. Nothing changed.".into());
            Ok(Some("Cancelled".into()))
        }
        _ => Ok(None),
    }
}

/// Takes the buttons off a message whose choice is made, as part of the answer to the
/// press (so before the confirmation that follows); a failure costs only looks.
pub(crate) fn remove_buttons(deps: &Deps, q: &CallbackQuery) {
    if let Some(message) = &q.message {
        let edit = Outgoing::remove_buttons(message.chat().id.0, message.id().0);
        deps.outbox.send(edit.in_lane(Lane::Answer));
    }
}
