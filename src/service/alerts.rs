//! Staff act on alerts: the first to press "Handled" closes it; everyone after is told
//! who did.

use chrono::{DateTime, Utc};

use crate::store::{Alert, Store, alerts};

pub enum HandleOutcome {
    Handled(Alert),
    AlreadyHandled(Alert),
    /// No such alert, or not one of this person's clinics.
    Unknown,
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
    let alert = alerts::alert_in(&mut tx, alert_id).await?.unwrap_or(alert);
    tx.commit().await?;
    Ok(HandleOutcome::Handled(alert))
}
