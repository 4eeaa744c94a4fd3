//! `/book`, `/unbook` (staff) and the patient's answers to booking reminders (`bk:`).

use teloxide::types::CallbackQuery;
use teloxide::utils::html::escape;

use crate::domain::html::escape_with_code;

use super::{Ctx, Deps};
use crate::catalog::Reply;
use crate::domain::booking::{PatientRef, parse_book};
use crate::render::local_when;
use crate::service::booking::{
    BookOutcome, BookingAnswer, BookingAnswerOutcome, UnbookOutcome, answer_booking,
    book as book_patient, unbook as unbook_patient,
};
use crate::service::gap::GapOverride;
use crate::store::Lookup;

/// What to say when a typed patient matched none or several.
pub(crate) fn not_found(lookup: &Lookup, command: &str) -> String {
    match lookup {
        Lookup::Many(list) => {
            let mut text = format!(
                "Several patients match. Use the number, e.g. /{command} #{} …\n",
                list[0].0
            );
            for (id, name) in list {
                text.push_str(&format!("\n#{id} {}", escape(name)));
            }
            text
        }
        Lookup::Erased { id, on } => erased_refusal(*id, *on),
        _ => "No patient of your clinic matches that. /patients lists them with their numbers."
            .into(),
    }
}

/// Why a staff command does nothing to an erased record: erasure is final.
pub(crate) fn erased_refusal(id: i64, on: chrono::NaiveDate) -> String {
    format!(
        "Patient #{id} was erased at the patient's request on {}. Nothing can be done with this record; a returning patient is enrolled anew.",
        on.format("%a %-d %b %Y")
    )
}

pub async fn book(ctx: &Ctx<'_>, args: &str) -> anyhow::Result<()> {
    let Some(clinic) = super::staff::active_clinic(ctx) else {
        return ctx
            .reply("Only clinic staff can book appointments.".into())
            .await;
    };
    if args.chars().count() > super::commands::MAX_ARGS_CHARS {
        return ctx
            .reply("That is too long. Try: /book #12 2026-12-21 10:30".into())
            .await;
    }
    let now = ctx.deps.clock.now();
    let tz = clinic.tz();
    let parsed = match parse_book(args, now, tz, clinic.quiet_hours()) {
        Ok(p) => p,
        Err(e) => return ctx.reply(escape_with_code(&e.to_string())).await,
    };
    let outcome = ctx.deps.woken(
        book_patient(
            &ctx.deps.store,
            &ctx.deps.catalog,
            clinic,
            ctx.user_id(),
            &parsed,
            GapOverride::No,
            now,
        )
        .await?,
    );
    let when = local_when("en", &parsed.starts_at.with_timezone(&tz));
    let text = match outcome {
        // Inside the healing gap nothing was booked: staff are asked first.
        BookOutcome::TooSoon(gap) => {
            return super::gap::ask(ctx, &gap, super::gap::Action::Book, parsed.starts_at).await;
        }
        BookOutcome::NotFound(l) => not_found(&l, "book"),
        BookOutcome::NotActive(p) => format!(
            "The bot cannot send <b>{}</b> anything (status: {}). Please book them by phone.",
            escape(&p.name),
            p.status.label()
        ),
        BookOutcome::Booked {
            patient,
            moved_from,
        } => {
            tracing::info!(
                patient = patient.id,
                clinic = clinic.id,
                moved = moved_from.is_some(),
                "appointment booked"
            );
            let name = escape(&patient.name);
            match moved_from {
                Some(before) => format!(
                    "Moved <b>{name}</b> (#{}) from {} to <b>{when}</b>. They are told now (or when quiet hours end).",
                    patient.id,
                    local_when("en", &before.with_timezone(&tz)),
                ),
                None => format!(
                    "Booked <b>{name}</b> (#{}) for <b>{when}</b>. They get a confirmation now (or when quiet hours end), \
                     a preparation reminder 3 days before, and reminders the day before and 2 hours before.",
                    patient.id
                ),
            }
        }
    };
    ctx.reply(text).await
}

pub async fn unbook(ctx: &Ctx<'_>, args: &str) -> anyhow::Result<()> {
    let Some(clinic) = super::staff::active_clinic(ctx) else {
        return ctx
            .reply("Only clinic staff can cancel appointments.".into())
            .await;
    };
    let Some(who) = PatientRef::parse(args) else {
        return ctx
            .reply("Please write: /unbook &lt;patient #id or name&gt;".into())
            .await;
    };
    let now = ctx.deps.clock.now();
    let outcome = unbook_patient(&ctx.deps.store, clinic, ctx.user_id(), &who, now).await?;
    let text = match ctx.deps.woken(outcome) {
        UnbookOutcome::NotFound(l) => not_found(&l, "unbook"),
        UnbookOutcome::NothingBooked(p) => {
            format!("<b>{}</b> has no appointment booked.", escape(&p.name))
        }
        UnbookOutcome::Cancelled { patient, was } => {
            tracing::info!(
                patient = patient.id,
                clinic = clinic.id,
                "appointment cancelled"
            );
            format!(
                "Cancelled <b>{}</b>'s appointment of {}. They are told now (or when quiet hours end).",
                escape(&patient.name),
                local_when("en", &was.with_timezone(&clinic.tz()))
            )
        }
    };
    ctx.reply(text).await
}

/// A patient pressed "I'll be there" or "I need to reschedule".
pub async fn on_booking_button(
    deps: &Deps,
    q: &CallbackQuery,
    rest: &str,
) -> anyhow::Result<Option<String>> {
    let Some((id, code)) = rest.split_once(':') else {
        return Ok(None);
    };
    let (Ok(booking_id), Some(answer)) = (id.parse::<i64>(), BookingAnswer::from_code(code)) else {
        return Ok(None);
    };
    let chat = q.from.id.0 as i64;
    let now = deps.clock.now();
    let outcome = deps.woken(answer_booking(&deps.store, booking_id, chat, answer, now).await?);
    let (clinic_id, which, when, alert) = match outcome {
        BookingAnswerOutcome::Stale => return Ok(None),
        BookingAnswerOutcome::Coming { clinic_id, starts } => {
            (clinic_id, Reply::BookingComingReply, Some(starts), None)
        }
        BookingAnswerOutcome::AlreadyAskedToReschedule { clinic_id } => {
            (clinic_id, Reply::BookingRescheduleAlready, None, None)
        }
        BookingAnswerOutcome::Reschedule {
            clinic_id,
            patient_id,
            alert_id,
        } => (
            clinic_id,
            Reply::BookingRescheduleReply,
            None,
            Some((patient_id, alert_id)),
        ),
    };
    tracing::info!(
        booking = booking_id,
        answer = answer.code(),
        "booking answered"
    );
    let Some(clinic) = deps.store.clinic(clinic_id).await? else {
        return Ok(None);
    };
    let lang = deps
        .store
        .patient_by_chat(chat)
        .await?
        .and_then(|p| p.lang)
        .unwrap_or_else(|| crate::catalog::BASE_LANG.to_string());
    let when = when
        .map(|t| local_when(&lang, &t.with_timezone(&clinic.tz())))
        .unwrap_or_default();
    // The clinic's own wording when it changed it (/edit), else the default.
    let text = crate::service::texts::Texts::new(&deps.store, &deps.catalog)
        .reply(Some(clinic.id), &lang, which)
        .await?
        .render_dropping_empty(&[
            ("clinic_name", &clinic.name),
            ("clinic_contact", &clinic.contact),
            ("when", &when),
        ]);
    deps.answer(chat, text);
    if let Some((patient_id, alert_id)) = alert {
        super::checkin::alert_staff(deps, &clinic, patient_id, alert_id).await?;
    }
    Ok(Some(String::new()))
}
