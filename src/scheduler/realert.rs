//! Alerts nobody marked handled in time go to the clinic's owners again. The scheduler
//! claims them like reminders: its sleep includes the earliest `realert_at`.

use chrono::{DateTime, Utc};

use super::{LEASE, Scheduler};
use crate::outbox::staff_alerts::{
    alert_text, delivered, handled_button, mark_copies_handled, to_staff,
};
use crate::outbox::{Content, Thread};
use crate::store::{Alert, StaffRole};

impl Scheduler {
    /// Alerts whose re-alert is due, leased so a crash sends them again (at least once).
    pub(super) async fn claim_realerts(&self) -> Vec<Alert> {
        let now = self.clock.now();
        match self.store.claim_due_realerts(now, now + LEASE).await {
            Ok(a) => a,
            Err(e) => {
                tracing::error!(error = %e, "could not claim due re-alerts");
                Vec::new()
            }
        }
    }

    /// When the next re-alert is due, if any.
    pub(super) async fn next_realert(&self) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
        self.store.next_realert().await
    }

    #[tracing::instrument(skip_all, fields(alert = alert.id, clinic = alert.clinic_id))]
    pub(super) async fn realert(&self, alert: Alert) {
        let owners = match self
            .store
            .staff_chats(alert.clinic_id, Some(StaffRole::Owner))
            .await
        {
            Ok(owners) => owners,
            Err(e) => {
                tracing::error!(error = %e, "could not read the clinic's owners");
                return;
            }
        };
        let tz = match self.store.clinic(alert.clinic_id).await {
            Ok(Some(c)) => c.tz(),
            _ => chrono_tz::UTC,
        };
        let thread = alert.patient_id.map(|patient_id| Thread {
            clinic_id: alert.clinic_id,
            patient_id,
            alert_id: Some(alert.id),
            relay: None,
        });
        let receipts = to_staff(
            &self.outbox,
            &owners,
            Content::Text(alert_text(&alert, tz, true)),
            Some(handled_button(alert.id)),
            thread,
        );
        let delivered = delivered(receipts).await;
        tracing::info!(
            owners = owners.len(),
            delivered,
            "unhandled alert sent to the owners again"
        );
        if let Err(e) = self.store.finish_realert(alert.id, self.clock.now()).await {
            tracing::error!(error = %e, "could not record a re-alert; it may go out again");
        }
        // Handled while the copies went out: the press may not have seen them all.
        if let Ok(Some(alert)) = self.store.alert(alert.id).await
            && alert.handled().is_some()
        {
            mark_copies_handled(&self.outbox, &self.store, &alert, tz).await;
        }
    }
}
