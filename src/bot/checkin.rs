//! Check-in answers (`ci:` buttons), "Handled" on alerts (`al:` buttons, which also
//! update every staff copy of the alert) and `/alerts`.

use std::sync::Arc;

use teloxide::types::CallbackQuery;
use teloxide::utils::html::escape;

use super::{Ctx, Deps};
use crate::catalog::Reply;
use crate::domain::checkin::parse_button;
use crate::outbox::staff_alerts::{
    alert_line, alert_text, delivered, handled_button, mark_copies_handled, to_staff,
};
use crate::outbox::{Content, Thread};
use crate::render::local_when;
use crate::service::alerts::{HandleOutcome, handle_alert};
use crate::service::checkin::{CheckinOutcome, answer_checkin};
use crate::store::CheckinTarget;

/// A patient pressed a check-in button. Returns the text for the button's answer.
pub async fn on_checkin_button(
    deps: &Deps,
    q: &CallbackQuery,
    rest: &str,
) -> anyhow::Result<Option<String>> {
    let Some((reminder_id, answer)) = parse_button(rest) else {
        return Ok(None);
    };
    let chat = q.from.id.0 as i64;
    let now = deps.clock.now();
    let outcome = deps
        .woken(answer_checkin(&deps.store, &deps.catalog, reminder_id, chat, answer, now).await?);
    let (target, which, alert) = match outcome {
        CheckinOutcome::Stale => return Ok(None),
        CheckinOutcome::AlreadyAnswered { target, .. } => {
            tracing::info!(
                patient = target.patient_id,
                "check-in answered again; ignored"
            );
            (target, Reply::CheckinAlready, None)
        }
        CheckinOutcome::Recorded { target, alert } => {
            tracing::info!(
                patient = target.patient_id,
                answer = answer.code(),
                alert,
                "check-in answered"
            );
            let which = if !answer.alerts_staff() {
                Reply::CheckinThanks
            } else if answer.is_urgent() {
                Reply::CheckinUrgent
            } else {
                Reply::CheckinAdvice
            };
            (target, which, alert)
        }
    };
    answer_and_alert(deps, chat, &target, which, alert).await
}

/// Answers the patient in the clinic's wording, then sends the alert (if one was opened)
/// to every staff member with a "Handled" button. Check-in answers and "please contact
/// me to book" both end this way.
pub(crate) async fn answer_and_alert(
    deps: &Deps,
    chat: i64,
    target: &CheckinTarget,
    which: Reply,
    alert: Option<i64>,
) -> anyhow::Result<Option<String>> {
    let Some(clinic) = deps.store.clinic(target.clinic_id).await? else {
        return Ok(None);
    };
    let lang = deps
        .store
        .patient(target.patient_id)
        .await?
        .and_then(|p| p.lang)
        .unwrap_or_else(|| crate::catalog::BASE_LANG.to_string());
    // The clinic's own wording when it changed it (/edit), else the default.
    let text = crate::service::texts::Texts::new(&deps.store, &deps.catalog)
        .reply(Some(clinic.id), &lang, which)
        .await?
        .render_dropping_empty(&[
            ("clinic_name", &clinic.name),
            ("clinic_contact", &clinic.contact),
        ]);
    deps.answer(chat, text);
    if let Some(alert_id) = alert {
        alert_staff(deps, &clinic, target.patient_id, alert_id).await?;
    }
    Ok(Some(String::new()))
}

/// Sends an open alert to every staff member of the clinic, with a "Handled" button.
/// (The use case that opened it said to wake the scheduler for its re-alert time.)
pub(crate) async fn alert_staff(
    deps: &Deps,
    clinic: &crate::store::Clinic,
    patient_id: i64,
    alert_id: i64,
) -> anyhow::Result<()> {
    let Some(alert) = deps.store.alert(alert_id).await? else {
        return Ok(());
    };
    let staff = deps.store.staff_chats(clinic.id, None).await?;
    let thread = Thread {
        clinic_id: clinic.id,
        patient_id,
        alert_id: Some(alert_id),
        relay: None,
    };
    let text = alert_text(&alert, clinic.tz(), false);
    let receipts = to_staff(
        &deps.outbox,
        &staff,
        Content::Text(text),
        Some(handled_button(alert_id)),
        Some(thread),
    );
    // Pressed while copies were still going out: the press may not have seen them all,
    // so once every copy is settled, a handled alert has them all marked.
    let (outbox, store, tz, staff_n) = (
        deps.outbox.clone(),
        deps.store.clone(),
        clinic.tz(),
        staff.len(),
    );
    tokio::spawn(async move {
        let delivered = delivered(receipts).await;
        tracing::info!(
            alert = alert_id,
            staff = staff_n,
            delivered,
            "alert sent to staff"
        );
        if let Ok(Some(alert)) = store.alert(alert_id).await
            && alert.handled().is_some()
        {
            mark_copies_handled(&outbox, &store, &alert, tz).await;
        }
    });
    Ok(())
}

/// A staff member pressed "Handled" on an alert.
pub async fn on_handled_button(
    deps: &Arc<Deps>,
    q: &CallbackQuery,
    rest: &str,
) -> anyhow::Result<Option<String>> {
    let Ok(alert_id) = rest.parse::<i64>() else {
        return Ok(None);
    };
    let user = q.from.id.0 as i64;
    let memberships = deps.store.memberships(user).await?;
    let clinics: Vec<i64> = memberships.iter().map(|(c, _)| c.id).collect();
    let now = deps.clock.now();
    let name = q.from.full_name();
    let outcome =
        deps.woken(handle_alert(&deps.store, alert_id, &clinics, user, &name, now).await?);
    let clinic_tz = |clinic_id: i64| {
        memberships
            .iter()
            .find(|(c, _)| c.id == clinic_id)
            .map(|(c, _)| c.tz())
            .unwrap_or(chrono_tz::UTC)
    };
    Ok(Some(match outcome {
        HandleOutcome::Unknown => return Ok(None),
        HandleOutcome::Handled { alert, released } => {
            tracing::info!(alert = alert_id, user, released, "alert handled");
            // Every copy then shows who took it and loses its button, so nobody else
            // calls the patient too. In the background: the press is answered at once.
            let tz = clinic_tz(alert.clinic_id);
            mark_copies_handled(&deps.outbox, &deps.store, &alert, tz).await;
            "Marked as handled. Thank you!".to_string()
        }
        HandleOutcome::AlreadyHandled(alert) => {
            let tz = clinic_tz(alert.clinic_id);
            let when = alert
                .handled()
                .map(|t| local_when("en", &t.with_timezone(&tz)))
                .unwrap_or_default();
            format!(
                "Already handled by {} ({when}).",
                alert.handled_by_name.as_deref().unwrap_or("someone")
            )
        }
    }))
}

/// `/alerts`: the clinic's open alerts, oldest first, then the patients who answered
/// neither a check-in nor its nudge.
pub async fn alerts(ctx: &Ctx<'_>) -> anyhow::Result<()> {
    let Some(clinic) = super::staff::active_clinic(ctx) else {
        return ctx.reply("Only clinic staff can see alerts.".into()).await;
    };
    const SHOWN: i64 = 30;
    let open = ctx.deps.store.open_alerts(clinic.id, SHOWN).await?;
    let now = ctx.deps.clock.now();
    let silent = ctx
        .deps
        .store
        .silent_after_checkin(clinic.id, now, SHOWN)
        .await?;
    let tz = clinic.tz();
    let mut text = if open.is_empty() {
        format!("No open alerts for <b>{}</b>.", escape(&clinic.name))
    } else {
        let mut text = format!("<b>Open alerts of {}</b>\n", escape(&clinic.name));
        for a in &open {
            text.push('\n');
            text.push_str(&alert_line(a, tz));
        }
        text.push_str("\n\nPress “Handled” on an alert once someone has taken care of it.");
        text
    };
    if !silent.is_empty() {
        text.push_str("\n\n<b>Did not answer the check-in</b> (nor the reminder after it)");
        for s in &silent {
            let name = if s.patient_name.is_empty() {
                crate::outbox::staff_alerts::ERASED.to_string()
            } else {
                escape(&s.patient_name)
            };
            text.push_str(&format!(
                "\n#{} {name} · asked {}",
                s.patient_id,
                local_when("en", &s.asked().with_timezone(&tz)),
            ));
        }
        text.push_str("\n\nA call may be worth it. /patient #id shows more.");
    }
    ctx.reply(text).await
}
