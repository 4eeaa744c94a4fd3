//! A patient answers a check-in: the answer is recorded once, and anything but "all
//! good" opens an alert for the clinic's staff and holds the patient's all-clear steps
//! (plan steps with `all_clear = true` not yet sent) until someone handles it.

use chrono::{DateTime, Utc};

use crate::catalog::Catalog;
use crate::domain::checkin::{CheckinAnswer, HELD_NOTE, realert_at};
use crate::store::{CheckinTarget, PatientStatus, Store, alerts, checkins, reminders};

pub enum CheckinOutcome {
    /// The answer counts; `alert` is the alert it opened, if any.
    Recorded {
        target: CheckinTarget,
        alert: Option<i64>,
    },
    /// The step was answered before; nothing changed.
    AlreadyAnswered {
        target: CheckinTarget,
        previous: Option<CheckinAnswer>,
    },
    /// No such check-in for this person (erased, stopped, someone else's, not a check-in).
    Stale,
}

impl super::Wakes for CheckinOutcome {
    /// A new alert's re-alert time is work for the scheduler's sleep.
    fn wakes_scheduler(&self) -> bool {
        matches!(self, CheckinOutcome::Recorded { alert: Some(_), .. })
    }
}

pub async fn answer_checkin(
    store: &Store,
    catalog: &Catalog,
    reminder_id: i64,
    presser_chat: i64,
    answer: CheckinAnswer,
    now: DateTime<Utc>,
) -> Result<CheckinOutcome, sqlx::Error> {
    let mut tx = store.begin().await?;
    let Some(target) = checkins::checkin_target(&mut tx, reminder_id).await? else {
        return Ok(CheckinOutcome::Stale);
    };
    // The messages folder's plan as written, or the clinic's own course.
    let plan = match catalog.plan(&target.plan) {
        Some(p) => Some(p.clone()),
        None => {
            super::courses::course_plan(&mut tx, catalog, target.clinic_id, &target.plan).await?
        }
    };
    let is_checkin = plan
        .as_ref()
        .and_then(|p| p.step(&target.step_id))
        .is_some_and(|s| s.checkin);
    if !is_checkin || target.chat_id != Some(presser_chat) {
        return Ok(CheckinOutcome::Stale);
    }
    if target.status == PatientStatus::Invited {
        return Ok(CheckinOutcome::Stale);
    }
    if !checkins::record_answer(
        &mut tx,
        target.patient_id,
        &target.step_id,
        answer.code(),
        now,
    )
    .await?
    {
        let previous = checkins::recorded_answer(&mut tx, target.patient_id, &target.step_id)
            .await?
            .and_then(|c| CheckinAnswer::from_code(&c));
        return Ok(CheckinOutcome::AlreadyAnswered { target, previous });
    }
    let alert = if answer.alerts_staff() {
        let alert = alerts::insert_alert(
            &mut tx,
            target.clinic_id,
            target.patient_id,
            answer.code(),
            now,
            realert_at(now),
        )
        .await?;
        // No all-clear (makeup, activities, the next session) while a warning sign is
        // open: held until staff press "Handled".
        let all_clear = plan
            .as_ref()
            .map(|p| p.all_clear_steps())
            .unwrap_or_default();
        let held =
            reminders::hold_steps(&mut tx, target.patient_id, &all_clear, alert, HELD_NOTE).await?;
        tracing::info!(patient = target.patient_id, held, "all-clear steps held");
        Some(alert)
    } else {
        None
    };
    tx.commit().await?;
    Ok(CheckinOutcome::Recorded { target, alert })
}

/// The patient pressed "Please contact me to book" under the book-next step: recorded
/// once per session, and an alert for the staff.
pub async fn ask_to_book(
    store: &Store,
    reminder_id: i64,
    presser_chat: i64,
    now: DateTime<Utc>,
) -> Result<CheckinOutcome, sqlx::Error> {
    let mut tx = store.begin().await?;
    let Some(target) = checkins::checkin_target(&mut tx, reminder_id).await? else {
        return Ok(CheckinOutcome::Stale);
    };
    if target.step_id != crate::scheduler::buttons::BOOK_NEXT_STEP
        || target.chat_id != Some(presser_chat)
        || target.status == PatientStatus::Invited
    {
        return Ok(CheckinOutcome::Stale);
    }
    if !checkins::record_answer(&mut tx, target.patient_id, &target.step_id, "contact", now).await?
    {
        return Ok(CheckinOutcome::AlreadyAnswered {
            target,
            previous: None,
        });
    }
    let alert = alerts::insert_alert(
        &mut tx,
        target.clinic_id,
        target.patient_id,
        "book",
        now,
        realert_at(now),
    )
    .await?;
    tx.commit().await?;
    Ok(CheckinOutcome::Recorded {
        target,
        alert: Some(alert),
    })
}
