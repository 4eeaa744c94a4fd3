//! What a patient controls: /resume, /language (`lang:` buttons), /mydata and /delete
//! (`del:` confirm button). Stopping is in `patient.rs`; plain "stop" words route there.
//! A patient Telegram had refused who writes again is switched back on here too.

use teloxide::types::{CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup};

use super::{Ctx, Deps};
use crate::catalog::Reply;
use crate::render::local_when;
use crate::store::PatientStatus;

pub async fn resume(ctx: &Ctx<'_>) -> anyhow::Result<()> {
    let Some(p) = &ctx.patient else {
        return ctx.reply(ctx.patient_reply(Reply::NotLinked).await?).await;
    };
    if p.status == PatientStatus::Active {
        return ctx
            .reply(ctx.patient_reply(Reply::ResumeNothing).await?)
            .await;
    }
    switch_back_on(ctx, p.id, Reply::ResumeDone).await?;
    tracing::info!(patient = p.id, "patient resumed their reminders");
    Ok(())
}

/// A patient Telegram had refused (they blocked the bot, or the chat was gone) has
/// written again, so they can be reached: the reminders held meanwhile go back on, and
/// they are told so, with how to stop them. Called before their message is handled.
pub async fn back_in_reach(ctx: &Ctx<'_>) -> anyhow::Result<()> {
    let Some(p) = &ctx.patient else {
        return Ok(());
    };
    switch_back_on(ctx, p.id, Reply::BackInReach).await?;
    tracing::info!(
        patient = p.id,
        "an unreachable patient wrote again; reminders back on"
    );
    Ok(())
}

/// Makes the patient active, queues their held reminders again and answers `reply`.
async fn switch_back_on(ctx: &Ctx<'_>, patient_id: i64, reply: Reply) -> anyhow::Result<()> {
    let resumed = ctx.deps.woken(
        crate::service::patient::resume(&ctx.deps.store, patient_id, ctx.deps.clock.now()).await?,
    );
    tracing::debug!(
        patient = patient_id,
        queued = resumed.queued,
        "reminders queued again"
    );
    // Answers go ahead of the reminders this queued for the chat.
    let text = ctx.patient_reply(reply).await?;
    ctx.reply(text).await
}

pub async fn language(ctx: &Ctx<'_>) -> anyhow::Result<()> {
    if ctx.patient.is_none() {
        return ctx.reply(ctx.patient_reply(Reply::NotLinked).await?).await;
    }
    let buttons: Vec<Vec<InlineKeyboardButton>> = ctx
        .deps
        .catalog
        .languages()
        .map(|l| {
            vec![InlineKeyboardButton::callback(
                l.name.clone(),
                format!("lang:{}", l.code),
            )]
        })
        .collect();
    let text = ctx.patient_reply(Reply::LanguagePick).await?;
    ctx.reply_with_buttons(text, InlineKeyboardMarkup::new(buttons))
        .await
}

pub async fn on_language_button(
    deps: &Deps,
    q: &CallbackQuery,
    code: &str,
) -> anyhow::Result<Option<String>> {
    let chat = q.from.id.0 as i64;
    if !deps.catalog.languages().any(|l| l.code == code) {
        return Ok(None);
    }
    let Some(p) = crate::service::patient::set_language(&deps.store, chat, code).await? else {
        return Ok(None);
    };
    tracing::info!(patient = p.id, lang = code, "language changed");
    // In the new language, and in the clinic's own wording if it has one.
    let text = crate::service::texts::Texts::new(&deps.store, &deps.catalog)
        .reply(Some(p.clinic_id), code, Reply::LanguageSet)
        .await?
        .render(&[]);
    deps.answer(chat, text);
    Ok(Some(String::new()))
}

pub async fn mydata(ctx: &Ctx<'_>) -> anyhow::Result<()> {
    let Some((p, clinic)) = ctx.linked_patient().await? else {
        return Ok(());
    };
    let deps = ctx.deps;
    let lang = ctx.lang();
    let tz = p.zone(&clinic);
    let session = local_when(&lang, &p.session().with_timezone(&tz));
    let language = deps
        .catalog
        .languages()
        .find(|l| l.code == lang)
        .map(|l| l.name.clone())
        .unwrap_or_else(|| lang.clone());
    let upcoming = deps.store.upcoming(p.id).await?.len().to_string();
    let booking = deps
        .store
        .booking_of(p.id)
        .await?
        .filter(|b| b.is_booked())
        .map(|b| local_when(&lang, &b.starts().with_timezone(&tz)))
        .unwrap_or_else(|| "–".into());
    let text = deps.catalog.reply(&lang, Reply::Mydata).render(&[
        ("name", &p.name),
        ("clinic_name", &clinic.name),
        ("session", &session),
        ("language", &language),
        ("upcoming", &upcoming),
        ("booking", &booking),
    ]);
    ctx.reply(text).await
}

pub async fn delete(ctx: &Ctx<'_>) -> anyhow::Result<()> {
    let Some(p) = &ctx.patient else {
        return ctx.reply(ctx.patient_reply(Reply::NotLinked).await?).await;
    };
    let label = crate::domain::html::to_plain(&ctx.patient_reply(Reply::DeleteButton).await?);
    let markup = InlineKeyboardMarkup::new([[InlineKeyboardButton::callback(
        label,
        format!("del:{}", p.id),
    )]]);
    let text = ctx.patient_reply(Reply::DeleteConfirm).await?;
    ctx.reply_with_buttons(text, markup).await
}

pub async fn on_delete_button(
    deps: &Deps,
    q: &CallbackQuery,
    rest: &str,
) -> anyhow::Result<Option<String>> {
    let chat = q.from.id.0 as i64;
    let Ok(patient_id) = rest.parse::<i64>() else {
        return Ok(None);
    };
    // Only the patient's own chat, and only while the data is still there.
    let now = deps.clock.now();
    let Some(p) = crate::service::patient::erase(&deps.store, chat, patient_id, now).await? else {
        return Ok(None);
    };
    let lang = p
        .lang
        .clone()
        .unwrap_or_else(|| crate::catalog::BASE_LANG.to_string());
    tracing::info!(patient = p.id, "patient erased their data");
    let text = crate::render::reply(&deps.catalog, &lang, Reply::DeleteDone, "");
    deps.answer(chat, text);
    Ok(Some(String::new()))
}
