//! Who works for a clinic, for telling them about a patient.

use super::{StaffRole, Store};

impl Store {
    /// Every staff member's user id (their private chat) and role, owners first.
    pub async fn team(&self, clinic_id: i64) -> Result<Vec<(i64, StaffRole)>, sqlx::Error> {
        sqlx::query_as(
            "SELECT user_id, role FROM staff WHERE clinic_id = ?
             ORDER BY CASE role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END, created_at, user_id",
        )
        .bind(clinic_id)
        .fetch_all(&self.pool)
        .await
    }
}
