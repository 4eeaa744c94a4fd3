//! The healing-gap question: `/book` or `/done` sooner than the course's `min_gap`
//! answers with the reason and a button to go ahead anyway
//! (`gap:b:<patient>:<unix seconds>` books, `gap:d:…` records the session).

use chrono::{DateTime, Utc};
use teloxide::types::{CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup};
use teloxide::utils::html::escape;

use super::{Ctx, Deps};
use crate::domain::booking::{BookArgs, PatientRef};
use crate::render::local_when;
use crate::service::booking::{BookOutcome, book as book_patient};
use crate::service::courses::duration_text;
use crate::service::gap::{GapOverride, TooSoon};
use crate::service::series::next_session;

/// What the confirmation goes ahead with.
#[derive(Clone, Copy)]
pub enum Action {
    Book,
    Done,
}

/// Answers with why it is too soon, and the button to go ahead anyway.
pub async fn ask(
    ctx: &Ctx<'_>,
    gap: &TooSoon,
    action: Action,
    when: DateTime<Utc>,
) -> anyhow::Result<()> {
    let tz = super::staff::active_clinic(ctx).map_or(chrono_tz::UTC, |c| c.tz());
    let (what, label, code) = match action {
        Action::Book => ("This booking", "Book anyway", "b"),
        Action::Done => ("This session", "Record anyway", "d"),
    };
    let text = format!(
        "{what} for <b>{}</b> (#{}) is inside the healing gap: “{}” asks for at least {} \
         between sessions, and the last one was {}. The first day that keeps the gap is {}.\n\n\
         Go ahead anyway? (Noted in the audit.)",
        escape(&gap.patient_name),
        gap.patient_id,
        escape(&gap.course),
        duration_text(gap.min_gap),
        local_when("en", &gap.last_session.with_timezone(&tz)),
        gap.earliest.with_timezone(&tz).format("%a %d %b %Y"),
    );
    let markup = InlineKeyboardMarkup::new([[InlineKeyboardButton::callback(
        label,
        format!("gap:{code}:{}:{}", gap.patient_id, when.timestamp()),
    )]]);
    ctx.reply_with_buttons(text, markup).await
}

/// `gap:<b|d>:<patient>:<unix seconds>`.
pub async fn on_button(
    q: &CallbackQuery,
    rest: &str,
    deps: &Deps,
) -> anyhow::Result<Option<String>> {
    let parts: Vec<&str> = rest.split(':').collect();
    let [code, patient, secs] = parts.as_slice() else {
        return Ok(None);
    };
    let (Ok(patient_id), Ok(secs)) = (patient.parse::<i64>(), secs.parse::<i64>()) else {
        return Ok(None);
    };
    let Some(when) = DateTime::<Utc>::from_timestamp(secs, 0) else {
        return Ok(None);
    };
    let user = q.from.id.0 as i64;
    let memberships = deps.store.memberships(user).await?;
    let Some((clinic, _)) = memberships.first() else {
        return Ok(None);
    };
    let now = deps.clock.now();
    let tz = clinic.tz();
    let who = PatientRef::Id(patient_id);
    let shown = local_when("en", &when.with_timezone(&tz));
    // The override's audit row was written with the booking or session itself.
    let (text, overridden) = match *code {
        "b" => {
            let args = BookArgs {
                patient: who,
                starts_at: when,
            };
            let booked = book_patient(
                &deps.store,
                &deps.catalog,
                clinic,
                user,
                &args,
                GapOverride::Confirmed,
                now,
            )
            .await?;
            match deps.woken(booked) {
                BookOutcome::Booked { patient, .. } => (
                    format!(
                        "Booked <b>{}</b> (#{}) for <b>{shown}</b>, inside the healing gap.",
                        escape(&patient.name),
                        patient.id
                    ),
                    true,
                ),
                _ => ("This patient cannot be booked any more.".to_string(), false),
            }
        }
        "d" => {
            let recorded = next_session(
                &deps.store,
                &deps.catalog,
                clinic,
                user,
                &who,
                when,
                GapOverride::Confirmed,
                now,
            )
            .await?;
            match super::series::done_anyway_text(deps.woken(recorded), when, tz) {
                Some(text) => (text, true),
                None => (
                    "This patient's session cannot be recorded any more.".to_string(),
                    false,
                ),
            }
        }
        _ => return Ok(None),
    };
    if overridden {
        tracing::info!(
            clinic = clinic.id,
            patient = patient_id,
            "healing gap overridden"
        );
    }
    deps.answer(user, text);
    Ok(Some("Done".into()))
}
