//! Who may do what in a clinic. One table, so the rules are read in one place.

use crate::store::StaffRole;

/// What a staff command does, for the permission check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Enroll, list and relink patients.
    CarePatients,
    /// Create invite links.
    Invite,
    /// Revoke people and change roles (owners are protected separately).
    ManageStaff,
    /// Read the audit trail.
    ReadAudit,
    /// Change the clinic's settings.
    ChangeSettings,
    /// See the clinic's figures (/stats).
    ReadStats,
    /// Change what patients receive: texts and the course timing.
    ChangeTexts,
}

pub fn allowed(role: StaffRole, action: Action) -> bool {
    use Action::*;
    use StaffRole::*;
    match action {
        CarePatients => true,
        Invite | ManageStaff | ReadStats | ChangeTexts => matches!(role, Owner | Admin),
        ReadAudit | ChangeSettings => role == Owner,
    }
}

/// Why a change to someone's access is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessChangeError {
    #[error("Only an owner can change an owner's access.")]
    OwnerProtected,
    #[error("A clinic needs at least one owner; make someone else owner first.")]
    LastOwner,
    #[error("Admins can give and take the admin and staff roles; only owners can make owners.")]
    CannotMakeOwner,
}

/// Checks that `actor` may move `target` from `current` to `new` (None: revoke).
pub fn check_change(
    actor: StaffRole,
    current: StaffRole,
    new: Option<StaffRole>,
    owners: i64,
) -> Result<(), AccessChangeError> {
    if current == StaffRole::Owner && actor != StaffRole::Owner {
        return Err(AccessChangeError::OwnerProtected);
    }
    if new == Some(StaffRole::Owner) && actor != StaffRole::Owner {
        return Err(AccessChangeError::CannotMakeOwner);
    }
    let stays_owner = new == Some(StaffRole::Owner);
    if current == StaffRole::Owner && !stays_owner && owners <= 1 {
        return Err(AccessChangeError::LastOwner);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use StaffRole::*;

    #[test]
    fn permissions_by_role() {
        assert!(allowed(Staff, Action::CarePatients));
        assert!(!allowed(Staff, Action::Invite));
        assert!(allowed(Admin, Action::Invite));
        assert!(allowed(Admin, Action::ManageStaff));
        assert!(!allowed(Admin, Action::ReadAudit));
        assert!(!allowed(Admin, Action::ChangeSettings));
        assert!(allowed(Owner, Action::ChangeSettings));
    }

    #[test]
    fn owners_cannot_be_locked_out() {
        assert_eq!(
            check_change(Admin, Owner, None, 2),
            Err(AccessChangeError::OwnerProtected)
        );
        assert_eq!(
            check_change(Admin, Owner, Some(Staff), 2),
            Err(AccessChangeError::OwnerProtected)
        );
        assert_eq!(
            check_change(Owner, Owner, None, 1),
            Err(AccessChangeError::LastOwner)
        );
        assert_eq!(
            check_change(Owner, Owner, Some(Admin), 1),
            Err(AccessChangeError::LastOwner)
        );
        assert_eq!(check_change(Owner, Owner, None, 2), Ok(()));
        assert_eq!(
            check_change(Admin, Staff, Some(Owner), 1),
            Err(AccessChangeError::CannotMakeOwner)
        );
        assert_eq!(check_change(Admin, Staff, Some(Admin), 1), Ok(()));
        assert_eq!(check_change(Admin, Admin, None, 1), Ok(()));
    }
}
