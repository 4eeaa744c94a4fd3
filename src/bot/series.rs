//! `/done` (a new session of the series: the course starts again over the same chat),
//! `/series` (how many sessions), and "Please contact me to book" (`bn:` buttons).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use teloxide::types::CallbackQuery;
use teloxide::utils::html::escape;

use crate::domain::html::escape_with_code;

use super::{Ctx, Deps};
use crate::catalog::Reply;
use crate::domain::booking::PatientRef;
use crate::domain::enroll_args::parse_enroll;
use crate::render::local_when;
use crate::service::checkin::{CheckinOutcome, ask_to_book};
use crate::service::gap::GapOverride;
use crate::service::series::{SeriesOutcome, next_session, set_series};

/// The most sessions a series may have.
const MAX_SESSIONS: i64 = 20;

fn session_label(number: i64, total: Option<i64>) -> String {
    match total {
        Some(t) => format!("session {number} of {t}"),
        None => format!("session {number}"),
    }
}

fn outcome_text(outcome: SeriesOutcome, command: &str, tz: Tz) -> Result<String, String> {
    match outcome {
        SeriesOutcome::SeriesComplete { patient, total } => Err(format!(
            "<b>{}</b> (#{}) has had all {total} sessions of their series, so nothing was \
             recorded. To add a session, extend the series first: /series #{} {}, then /done \
             #{} again.",
            escape(&patient.name),
            patient.id,
            patient.id,
            total + 1,
            patient.id
        )),
        SeriesOutcome::BeforeCurrent(p) => Err(format!(
            "That is before <b>{}</b>'s current session ({}), so nothing was recorded. A new \
             session comes after it: /done #{} HH:MM for today, or with its date.",
            escape(&p.name),
            local_when("en", &p.session().with_timezone(&tz)),
            p.id
        )),
        SeriesOutcome::NotFound(l) => Err(super::booking::not_found(&l, command)),
        SeriesOutcome::TooSoon(gap) => Err(format!(
            "That is inside the healing gap of <b>{}</b> (#{}), so nothing was recorded.",
            escape(&gap.patient_name),
            gap.patient_id
        )),
        SeriesOutcome::NotActive(p) => Err(format!(
            "The bot cannot send <b>{}</b> the course (status: {}).",
            escape(&p.name),
            p.status.label()
        )),
        SeriesOutcome::Done {
            patient,
            session_no,
            total,
        } => Ok(format!(
            "<b>{}</b> (#{}): {}",
            escape(&patient.name),
            patient.id,
            session_label(session_no, total)
        )),
    }
}

/// For `/enroll`: when a linked patient of the clinic has exactly this name, it may be
/// the same person back for their next session, which needs no new link. Said, not
/// assumed: a namesake must never get someone else's chat.
pub(crate) async fn already_linked_hint(
    ctx: &Ctx<'_>,
    clinic: &crate::store::Clinic,
    name: &str,
) -> anyhow::Result<String> {
    let who = PatientRef::Name(name.to_string());
    Ok(match ctx.deps.store.find_patient(clinic.id, &who).await? {
        crate::store::Lookup::One(p)
            if p.name.to_lowercase() == name.to_lowercase()
                && p.status == crate::store::PatientStatus::Active =>
        {
            format!(
                "\n\n<b>{}</b> (#{}) is already linked. If this is the same person back for \
                 their next session, use /enroll #{} (or /done #{}) instead: no new link needed.",
                escape(&p.name),
                p.id,
                p.id,
                p.id
            )
        }
        _ => String::new(),
    })
}

/// `/done <patient> [[YYYY-MM-DD] HH:MM]`: the patient had their next session.
pub async fn done(ctx: &Ctx<'_>, args: &str) -> anyhow::Result<()> {
    let Some(clinic) = super::staff::active_clinic(ctx) else {
        return ctx
            .reply("Only clinic staff can record sessions.".into())
            .await;
    };
    let now = ctx.deps.clock.now();
    let tz = clinic.tz();
    // The same shape as /enroll: a patient, then an optional session time.
    let parsed = match parse_enroll(args, now, tz) {
        Ok(p) => p,
        Err(e) => {
            return ctx
                .reply(escape_with_code(&e.to_string().replace("/enroll", "/done")))
                .await;
        }
    };
    let Some(who) = PatientRef::parse(&parsed.name) else {
        return ctx
            .reply("Please write: /done &lt;patient #id or name&gt; [HH:MM]".into())
            .await;
    };
    let outcome = ctx.deps.woken(
        next_session(
            &ctx.deps.store,
            &ctx.deps.catalog,
            clinic,
            ctx.user_id(),
            &who,
            parsed.session_at,
            GapOverride::No,
            now,
        )
        .await?,
    );
    // Inside the healing gap nothing was recorded: staff are asked first.
    if let SeriesOutcome::TooSoon(gap) = &outcome {
        return super::gap::ask(ctx, gap, super::gap::Action::Done, parsed.session_at).await;
    }
    if let SeriesOutcome::Done {
        patient,
        session_no,
        ..
    } = &outcome
    {
        tracing::info!(
            patient = patient.id,
            clinic = clinic.id,
            session_no,
            "new session recorded"
        );
    }
    let text = match outcome_text(outcome, "done", tz) {
        Ok(head) => done_text(&head, parsed.session_at, tz, GapOverride::No),
        Err(e) => e,
    };
    ctx.reply(text).await
}

/// The answer to a recorded session, the same after `/done` and after "Record anyway"
/// (which says that it was inside the healing gap). `head` is [`outcome_text`]'s.
fn done_text(head: &str, session_at: DateTime<Utc>, tz: Tz, gap: GapOverride) -> String {
    let inside = match gap {
        GapOverride::No => "",
        GapOverride::Confirmed => ", inside the healing gap",
    };
    format!(
        "{head} on {}{inside}. The aftercare course starts again from it, in the same chat.",
        local_when("en", &session_at.with_timezone(&tz))
    )
}

/// The answer to "Record anyway": `Some` for a recorded session (worded as for `/done`),
/// `None` when nothing was recorded.
pub(crate) fn done_anyway_text(
    outcome: SeriesOutcome,
    session_at: DateTime<Utc>,
    tz: Tz,
) -> Option<String> {
    match outcome {
        done @ SeriesOutcome::Done { .. } => outcome_text(done, "done", tz)
            .ok()
            .map(|head| done_text(&head, session_at, tz, GapOverride::Confirmed)),
        _ => None,
    }
}

/// `/series <patient> <n>`: the patient's series has `n` sessions.
pub async fn series(ctx: &Ctx<'_>, args: &str) -> anyhow::Result<()> {
    let Some(clinic) = super::staff::active_clinic(ctx) else {
        return ctx
            .reply("Only clinic staff can set a series.".into())
            .await;
    };
    let usage = "Please write: /series &lt;patient #id or name&gt; &lt;number of sessions&gt;, e.g. /series #12 3";
    let Some((who, n)) = args.trim().rsplit_once(char::is_whitespace) else {
        return ctx.reply(usage.into()).await;
    };
    let (Some(who), Ok(total)) = (PatientRef::parse(who), n.parse::<i64>()) else {
        return ctx.reply(usage.into()).await;
    };
    if !(1..=MAX_SESSIONS).contains(&total) {
        return ctx
            .reply(format!("A series has 1 to {MAX_SESSIONS} sessions."))
            .await;
    }
    let outcome = set_series(&ctx.deps.store, clinic, &who, total).await?;
    let text = match outcome_text(outcome, "series", clinic.tz()) {
        Ok(head) => format!("{head}. Their messages now show it."),
        Err(e) => e,
    };
    ctx.reply(text).await
}

/// A patient pressed "Please contact me to book".
pub async fn on_book_next_button(
    deps: &Deps,
    q: &CallbackQuery,
    rest: &str,
) -> anyhow::Result<Option<String>> {
    let Ok(reminder_id) = rest.parse::<i64>() else {
        return Ok(None);
    };
    let chat = q.from.id.0 as i64;
    let now = deps.clock.now();
    let outcome = deps.woken(ask_to_book(&deps.store, reminder_id, chat, now).await?);
    let (target, which, alert) = match outcome {
        CheckinOutcome::Stale => return Ok(None),
        CheckinOutcome::AlreadyAnswered { target, .. } => (target, Reply::BookNextAlready, None),
        CheckinOutcome::Recorded { target, alert } => (target, Reply::BookNextReply, alert),
    };
    tracing::info!(patient = target.patient_id, alert, "patient asked to book");
    super::checkin::answer_and_alert(deps, chat, &target, which, alert).await
}
