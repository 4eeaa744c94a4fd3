//! Staff act on alerts: the first to press "Handled" closes it; everyone after is told
//! who did. Handling a warning sign releases the all-clear steps it held (see
//! `service::checkin`): those not yet expired are queued again, the rest skipped.

use chrono::{DateTime, Utc};

use crate::domain::checkin::{EXPIRED_WHILE_HELD, release_due};
use crate::store::access::{self, Audit};
use crate::store::patient_care::PAUSED_NOTE;
use crate::store::reminders::{self, Release};
use crate::store::{Alert, PatientStatus, Store, alerts, clinics, patients};

pub enum HandleOutcome {
    /// `released`: held reminders queued again.
    Handled {
        alert: Alert,
        released: u64,
    },
    AlreadyHandled(Alert),
    /// No such alert, or not one of this person's clinics.
    Unknown,
}

impl super::Wakes for HandleOutcome {
    /// Released reminders may be due at once.
    fn wakes_scheduler(&self) -> bool {
        matches!(self, HandleOutcome::Handled { released, .. } if *released > 0)
    }
}

pub async fn handle_alert(
    store: &Store,
    alert_id: i64,
    clinic_ids: &[i64],
    user_id: i64,
    user_name: &str,
    now: DateTime<Utc>,
) -> Result<HandleOutcome, sqlx::Error> {
    let mut tx = store.begin().await?;
    let Some(alert) = alerts::alert_in(&mut tx, alert_id).await? else {
        return Ok(HandleOutcome::Unknown);
    };
    if !clinic_ids.contains(&alert.clinic_id) {
        return Ok(HandleOutcome::Unknown);
    }
    if !alerts::mark_handled(&mut tx, alert_id, user_id, user_name, now).await? {
        return Ok(HandleOutcome::AlreadyHandled(alert));
    }
    let released = match alert.patient_id {
        Some(patient_id) => release_holds(&mut tx, alert_id, patient_id, now).await?,
        None => 0,
    };
    access::record(
        &mut tx,
        Audit {
            clinic_id: alert.clinic_id,
            actor: Some(user_id),
            action: "handled",
            subject: Some(format!("alert {alert_id}")),
            detail: (released > 0).then(|| format!("{released} held reminders released")),
        },
        now,
    )
    .await?;
    let alert = alerts::alert_in(&mut tx, alert_id).await?.unwrap_or(alert);
    tx.commit().await?;
    Ok(HandleOutcome::Handled { alert, released })
}

/// Ends the holds of a handled alert. Another warning sign of the same patient still
/// open keeps them held; otherwise each is queued again at its time (now, outside quiet
/// hours, if that passed), or skipped when it expired meanwhile. For a patient who is
/// not active (stopped, paused, unreachable) they wait as paused rows, which `/resume`
/// brings back. Returns how many were queued.
async fn release_holds(
    conn: &mut sqlx::SqliteConnection,
    alert_id: i64,
    patient_id: i64,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    if let Some(other) = alerts::other_open_red_flag(&mut *conn, patient_id, alert_id).await? {
        reminders::move_holds(&mut *conn, alert_id, other).await?;
        return Ok(0);
    }
    let held = reminders::held_by(&mut *conn, alert_id).await?;
    if held.is_empty() {
        return Ok(0);
    }
    let Some(patient) = patients::patient_in(&mut *conn, patient_id).await? else {
        return Ok(0);
    };
    let Some(clinic) = clinics::clinic_in(&mut *conn, patient.clinic_id).await? else {
        return Ok(0);
    };
    let (tz, quiet) = (patient.zone(&clinic), clinic.quiet_hours());
    let mut queued = 0;
    for row in held {
        let how = match release_due(row.due(), row.expires(), now, tz, quiet) {
            None => Release::Skipped(EXPIRED_WHILE_HELD),
            Some(_) if patient.status != PatientStatus::Active => Release::Cancelled(PAUSED_NOTE),
            Some(due) => Release::Pending(due),
        };
        let pending = matches!(how, Release::Pending(_));
        if reminders::release_held(&mut *conn, row.id, how).await? && pending {
            queued += 1;
        }
    }
    tracing::info!(
        patient = patient_id,
        queued,
        "held all-clear steps released"
    );
    Ok(queued)
}
