//! What a patient controls: /resume (`rs:` buttons when several clinics' courses are
//! stopped), /language (`lang:` buttons), /mydata and /delete (`del:` confirm button).
//! Stopping is in `patient.rs`; plain "stop" words route there. A patient Telegram had
//! refused who writes again is switched back on here too.

use teloxide::types::{CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup};

use super::{Ctx, Deps};
use crate::catalog::Reply;
use crate::render::local_when;
use crate::store::patients::stopped_by;
use crate::store::{Patient, PatientStatus};

/// `/resume`: undoes the patient's own `/stop`. With stopped courses from several
/// clinics it asks which one; a course the clinic paused or cancelled is explained and
/// left as it is.
pub async fn resume(ctx: &Ctx<'_>) -> anyhow::Result<()> {
    if ctx.patient.is_none() {
        return ctx.reply(ctx.patient_reply(Reply::NotLinked).await?).await;
    }
    let stopped: Vec<&Patient> = ctx
        .courses
        .iter()
        .filter(|p| p.status != PatientStatus::Active)
        .collect();
    match stopped.as_slice() {
        [] => {
            ctx.reply(ctx.patient_reply(Reply::ResumeNothing).await?)
                .await
        }
        [p] => {
            let text = resume_course(ctx.deps, ctx.chat().0, p, &ctx.lang()).await?;
            ctx.reply(text).await
        }
        several => {
            let markup = clinic_buttons(ctx.deps, several, |p| format!("rs:{}", p.id)).await?;
            let text = ctx.patient_reply(Reply::PickClinic).await?;
            ctx.reply_with_buttons(text, markup).await
        }
    }
}

/// One button per course, labelled with its clinic's name.
pub(crate) async fn clinic_buttons(
    deps: &Deps,
    courses: &[&Patient],
    data: impl Fn(&Patient) -> String,
) -> anyhow::Result<InlineKeyboardMarkup> {
    let mut rows = Vec::new();
    for p in courses {
        let name = deps
            .store
            .clinic(p.clinic_id)
            .await?
            .map(|c| c.name)
            .unwrap_or_default();
        rows.push(vec![InlineKeyboardButton::callback(name, data(p))]);
    }
    Ok(InlineKeyboardMarkup::new(rows))
}

/// `rs:<patient>`: the clinic picked for `/resume`.
pub async fn on_resume_button(
    deps: &Deps,
    q: &CallbackQuery,
    rest: &str,
) -> anyhow::Result<Option<String>> {
    let chat = q.from.id.0 as i64;
    let Ok(id) = rest.parse::<i64>() else {
        return Ok(None);
    };
    // Only a course this chat still follows.
    let courses = deps.store.current_courses(chat).await?;
    let Some(p) = courses.iter().find(|p| p.id == id) else {
        return Ok(None);
    };
    let lang = p
        .lang
        .clone()
        .unwrap_or_else(|| crate::catalog::BASE_LANG.to_string());
    let text = if p.status == PatientStatus::Active {
        crate::service::texts::Texts::new(&deps.store, &deps.catalog)
            .reply(Some(p.clinic_id), &lang, Reply::ResumeNothing)
            .await?
            .render(&[])
    } else {
        resume_course(deps, chat, p, &lang).await?
    };
    deps.answer(chat, text);
    Ok(Some(String::new()))
}

/// Resumes course `p` at the patient's request, unless its clinic paused or cancelled
/// it: then the answer says so and whom to contact, and nothing changes. Returns the
/// answer.
async fn resume_course(deps: &Deps, chat: i64, p: &Patient, lang: &str) -> anyhow::Result<String> {
    let Some(clinic) = deps.store.clinic(p.clinic_id).await? else {
        return Ok(String::new());
    };
    let texts = crate::service::texts::Texts::new(&deps.store, &deps.catalog);
    if let Some(how) = p.halted_by_clinic() {
        let which = if how == stopped_by::PAUSE {
            Reply::ResumePausedByClinic
        } else {
            Reply::ResumeCancelledByClinic
        };
        tracing::info!(
            patient = p.id,
            "patient /resume refused: the clinic stopped the reminders"
        );
        return Ok(texts
            .reply(Some(clinic.id), lang, which)
            .await?
            .render_dropping_empty(&[
                ("clinic_name", &clinic.name),
                ("clinic_contact", &clinic.contact),
            ]));
    }
    let resumed =
        deps.woken(crate::service::patient::resume(&deps.store, p.id, deps.clock.now()).await?);
    tracing::info!(
        patient = p.id,
        queued = resumed.queued,
        chat,
        "patient resumed their reminders"
    );
    Ok(texts
        .reply(Some(clinic.id), lang, Reply::ResumeDone)
        .await?
        .render(&[("clinic_name", &clinic.name)]))
}

/// A patient Telegram had refused (they blocked the bot, or the chat was gone) has
/// written again, so they can be reached: the reminders held meanwhile go back on, and
/// they are told so, with how to stop them. Called before their message is handled.
pub async fn back_in_reach(ctx: &Ctx<'_>) -> anyhow::Result<()> {
    let held: Vec<&Patient> = ctx
        .courses
        .iter()
        .filter(|p| p.status == PatientStatus::Unreachable)
        .collect();
    if held.is_empty() {
        return Ok(());
    }
    let now = ctx.deps.clock.now();
    for p in &held {
        let resumed = ctx
            .deps
            .woken(crate::service::patient::resume(&ctx.deps.store, p.id, now).await?);
        tracing::info!(
            patient = p.id,
            queued = resumed.queued,
            "an unreachable patient wrote again; reminders back on"
        );
    }
    // Answers go ahead of the reminders this queued for the chat.
    let names = ctx.clinic_names(&held).await?;
    let text = crate::service::texts::Texts::new(&ctx.deps.store, &ctx.deps.catalog)
        .reply(Some(held[0].clinic_id), &ctx.lang(), Reply::BackInReach)
        .await?
        .render(&[("clinic_name", &names)]);
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

/// `/mydata`: every record the bot holds about this chat, one per course, in every
/// clinic.
pub async fn mydata(ctx: &Ctx<'_>) -> anyhow::Result<()> {
    let deps = ctx.deps;
    let records = deps.store.records_of_chat(ctx.chat().0).await?;
    if records.is_empty() {
        return ctx.reply(ctx.patient_reply(Reply::NotLinked).await?).await;
    }
    let lang = ctx.lang();
    let language = deps
        .catalog
        .languages()
        .find(|l| l.code == lang)
        .map(|l| l.name.clone())
        .unwrap_or_else(|| lang.clone());
    let mut parts = Vec::new();
    for p in records.iter().rev() {
        let Some(clinic) = deps.store.clinic(p.clinic_id).await? else {
            continue;
        };
        let tz = p.zone(&clinic);
        let session = local_when(&lang, &p.session().with_timezone(&tz));
        let upcoming = deps.store.upcoming(p.id).await?.len().to_string();
        let booking = deps
            .store
            .booking_of(p.id)
            .await?
            .filter(|b| b.is_booked())
            .map(|b| local_when(&lang, &b.starts().with_timezone(&tz)))
            .unwrap_or_else(|| "–".into());
        let photos = deps.store.photo_count(p.id).await?.to_string();
        parts.push(deps.catalog.reply(&lang, Reply::Mydata).render(&[
            ("name", &p.name),
            ("clinic_name", &clinic.name),
            ("session", &session),
            ("language", &language),
            ("upcoming", &upcoming),
            ("booking", &booking),
            ("photos", &photos),
        ]));
    }
    parts.push(deps.catalog.reply(&lang, Reply::MydataFooter).render(&[]));
    ctx.reply(parts.join("\n\n")).await
}

/// `/delete`: asks to confirm, naming every clinic whose records will be erased.
pub async fn delete(ctx: &Ctx<'_>) -> anyhow::Result<()> {
    let records = ctx.deps.store.records_of_chat(ctx.chat().0).await?;
    if records.is_empty() {
        return ctx.reply(ctx.patient_reply(Reply::NotLinked).await?).await;
    }
    let label = crate::domain::html::to_plain(&ctx.patient_reply(Reply::DeleteButton).await?);
    let markup =
        InlineKeyboardMarkup::new([[InlineKeyboardButton::callback(label, "del:all".to_string())]]);
    let all: Vec<&Patient> = records.iter().collect();
    let names = ctx.clinic_names(&all).await?;
    let text = crate::service::texts::Texts::new(&ctx.deps.store, &ctx.deps.catalog)
        .reply(
            ctx.patient.as_ref().map(|p| p.clinic_id),
            &ctx.lang(),
            Reply::DeleteConfirm,
        )
        .await?
        .render(&[("clinic_name", &names)]);
    ctx.reply_with_buttons(text, markup).await
}

/// `del:…` confirmed: erases every record of the presser's chat, in every clinic.
pub async fn on_delete_button(
    deps: &Deps,
    q: &CallbackQuery,
    _rest: &str,
) -> anyhow::Result<Option<String>> {
    let chat = q.from.id.0 as i64;
    // Only the patient's own chat, and only while there is data left.
    let now = deps.clock.now();
    let erased = crate::service::patient::erase(&deps.store, chat, now).await?;
    let Some(newest) = erased.records.last() else {
        return Ok(None);
    };
    let lang = newest
        .lang
        .clone()
        .unwrap_or_else(|| crate::catalog::BASE_LANG.to_string());
    let ids: Vec<i64> = erased.records.iter().map(|p| p.id).collect();
    tracing::info!(
        patients = ?ids,
        relay_copies = erased.relay_copies.len(),
        "patient erased their data"
    );
    let text = crate::render::reply(&deps.catalog, &lang, Reply::DeleteDone, "");
    deps.answer(chat, text);
    // The staff copies of alerts about them show "erased patient" instead of the name.
    // The staff copies of their relayed messages lose the name and the words.
    crate::outbox::staff_alerts::rewrite_erased_relays(&deps.outbox, &erased.relay_copies);
    for p in &erased.records {
        let tz = match deps.store.clinic(p.clinic_id).await? {
            Some(c) => c.tz(),
            None => continue,
        };
        for alert in deps.store.alerts_of(p.id).await? {
            crate::outbox::staff_alerts::rewrite_copies(&deps.outbox, &deps.store, &alert, tz)
                .await;
        }
    }
    Ok(Some(String::new()))
}
