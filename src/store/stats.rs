//! The figures behind /stats: one clinic, one period, read only.

use chrono::{DateTime, Utc};

use super::{Store, millis};
use crate::domain::stats::{ClinicStats, Week};

const WEEK_MS: i64 = 7 * 24 * 3600 * 1000;

impl Store {
    /// `checkin_steps`: the step ids that are check-ins (from the plans).
    pub async fn clinic_stats(
        &self,
        clinic_id: i64,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        checkin_steps: &[String],
    ) -> Result<ClinicStats, sqlx::Error> {
        let (from, to) = (millis(since), millis(until));
        let weeks = ((to - from + WEEK_MS - 1) / WEEK_MS).max(1) as usize;
        let mut stats = ClinicStats {
            weeks: vec![Week::default(); weeks],
            ..Default::default()
        };
        let per_week = |sql: &'static str| {
            sqlx::query_as::<_, (i64, i64)>(sql)
                .bind(from)
                .bind(WEEK_MS)
                .bind(clinic_id)
                .bind(to)
        };
        let enrolled = per_week(
            "SELECT (created_at - ?1) / ?2, COUNT(*) FROM patients
             WHERE clinic_id = ?3 AND created_at >= ?1 AND created_at <= ?4 GROUP BY 1",
        )
        .fetch_all(self.pool())
        .await?;
        let delivered = per_week(
            "SELECT (r.sent_at - ?1) / ?2, COUNT(*) FROM reminders r
             JOIN patients p ON p.id = r.patient_id
             WHERE p.clinic_id = ?3 AND r.status = 'sent' AND r.sent_at >= ?1 AND r.sent_at <= ?4
             GROUP BY 1",
        )
        .fetch_all(self.pool())
        .await?;
        let skipped = per_week(
            "SELECT (r.due_at - ?1) / ?2, COUNT(*) FROM reminders r
             JOIN patients p ON p.id = r.patient_id
             WHERE p.clinic_id = ?3 AND r.status = 'skipped' AND r.due_at >= ?1 AND r.due_at <= ?4
             GROUP BY 1",
        )
        .fetch_all(self.pool())
        .await?;
        let mut put = |rows: Vec<(i64, i64)>, field: fn(&mut Week) -> &mut i64| {
            for (w, n) in rows {
                // `until` itself counts in the last week.
                if let Some(week) = stats.weeks.get_mut((w.max(0) as usize).min(weeks - 1)) {
                    *field(week) += n;
                }
            }
        };
        put(enrolled, |w| &mut w.enrolled);
        put(delivered, |w| &mut w.delivered);
        put(skipped, |w| &mut w.skipped);
        stats.stopped = sqlx::query_scalar(
            "SELECT COUNT(*) FROM patients
             WHERE clinic_id = ? AND created_at >= ? AND created_at <= ? AND status = 'stopped'",
        )
        .bind(clinic_id)
        .bind(from)
        .bind(to)
        .fetch_one(self.pool())
        .await?;
        let steps = serde_json::to_string(checkin_steps).unwrap_or_else(|_| "[]".into());
        (stats.checkins_sent, stats.checkins_answered) = sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(EXISTS (
                 SELECT 1 FROM checkin_answers a
                 WHERE a.patient_id = r.patient_id AND a.step_id = r.step_id)), 0)
             FROM reminders r JOIN patients p ON p.id = r.patient_id
             WHERE p.clinic_id = ? AND r.status = 'sent' AND r.sent_at >= ? AND r.sent_at <= ?
               AND r.step_id IN (SELECT value FROM json_each(?))",
        )
        .bind(clinic_id)
        .bind(from)
        .bind(to)
        .bind(steps)
        .fetch_one(self.pool())
        .await?;
        let alerts: Vec<(i64, Option<i64>)> = sqlx::query_as(
            "SELECT created_at, handled_at FROM alerts
             WHERE clinic_id = ? AND created_at >= ? AND created_at <= ?",
        )
        .bind(clinic_id)
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?;
        stats.alerts = alerts.len() as i64;
        stats.handled_after_ms = alerts
            .iter()
            .filter_map(|(created, handled)| handled.map(|h| (h - created).max(0)))
            .collect();
        stats.handled_after_ms.sort_unstable();
        Ok(stats)
    }
}
