//! Who may do what (policy section 1). Every use-case asks here; nothing outside the core
//! decides access. This file grows with each kind of record; children's records arrive with
//! the access policy of foundation 4.

use crate::identity::{Role, User};

/// Something a signed-in user asks to do that is not about one child's record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// See the staff directory (names, roles): everyone who works here.
    ReadDirectory,
    /// Create, change, deactivate accounts; reset passwords and second factors.
    ManageUsers,
    /// Change the service's own details and configuration.
    ManageService,
    /// Add and change sites and rooms.
    ManageDirectory,
    /// Add a child to the service, and open a case for them (intake).
    RegisterChildren,
    /// Write versions of the explanation library's texts and mark them reviewed: clinicians
    /// (therapists, supervisors, the service lead), never staff or administrator-only accounts.
    EditExplanations,
    /// Publish a version of an explanation text (the one in use): administrators and the
    /// service lead.
    PublishExplanations,
    /// Keep the safeguarding on-duty rota: administrators (configuration), the service lead
    /// and the DSL.
    KeepSafeguardingRota,
    /// Change the safeguarding out-of-hours contacts and timing: administrators and the
    /// service lead.
    ManageSafeguardingSettings,
    /// Read the measure library (definitions, scoring, cut-offs; loaded wording): clinicians,
    /// the DSL, the service lead and administrators; not staff-only accounts (issue 17).
    ReadMeasures,
    /// Add a measure definition (a new version) or load a licensed measure's wording:
    /// administrators and the service lead (issue 17).
    ManageMeasures,
}

/// The decision, with the reason kept for the refusal message shown to staff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny(&'static str),
}

impl Decision {
    pub fn is_allowed(self) -> bool {
        self == Decision::Allow
    }
}

pub fn decide(user: &User, action: Action) -> Decision {
    if !user.active {
        return Decision::Deny("this account is deactivated");
    }
    match action {
        Action::ReadDirectory => Decision::Allow,
        Action::ManageUsers
        | Action::ManageService
        | Action::ManageDirectory
        | Action::RegisterChildren => {
            if user.has_role(Role::Administrator) {
                Decision::Allow
            } else {
                Decision::Deny("only an administrator may do this")
            }
        }
        Action::EditExplanations => {
            if [Role::Therapist, Role::Supervisor, Role::ServiceLead]
                .into_iter()
                .any(|r| user.has_role(r))
            {
                Decision::Allow
            } else {
                Decision::Deny(
                    "only a clinician (a therapist, supervisor or the service lead) may do this",
                )
            }
        }
        Action::PublishExplanations => {
            if user.has_role(Role::Administrator) || user.has_role(Role::ServiceLead) {
                Decision::Allow
            } else {
                Decision::Deny("only an administrator or the service lead may publish a text")
            }
        }
        Action::KeepSafeguardingRota => {
            if [Role::Administrator, Role::ServiceLead, Role::Dsl]
                .into_iter()
                .any(|r| user.has_role(r))
            {
                Decision::Allow
            } else {
                Decision::Deny(
                    "only an administrator, the service lead or the DSL may change the rota",
                )
            }
        }
        Action::ManageSafeguardingSettings => {
            if user.has_role(Role::Administrator) || user.has_role(Role::ServiceLead) {
                Decision::Allow
            } else {
                Decision::Deny(
                    "only an administrator or the service lead may change the contacts and timing",
                )
            }
        }
        Action::ReadMeasures => {
            if [
                Role::Therapist,
                Role::Supervisor,
                Role::Dsl,
                Role::DeputyDsl,
                Role::ServiceLead,
                Role::Administrator,
            ]
            .into_iter()
            .any(|r| user.has_role(r))
            {
                Decision::Allow
            } else {
                Decision::Deny(
                    "only clinicians, the DSL, the service lead and administrators read the measure library",
                )
            }
        }
        Action::ManageMeasures => {
            if user.has_role(Role::Administrator) || user.has_role(Role::ServiceLead) {
                Decision::Allow
            } else {
                Decision::Deny(
                    "only an administrator or the service lead may add measures or load their wording",
                )
            }
        }
    }
}

/// An administrator may not lock themselves out: deactivating their own account or removing
/// their own administrator role needs another administrator.
pub fn may_change_own_access(
    actor: &User,
    target: &User,
    keeps_admin: bool,
    stays_active: bool,
) -> Decision {
    if actor.id == target.id && (!keeps_admin || !stays_active) {
        Decision::Deny("ask another administrator to remove your own access")
    } else {
        Decision::Allow
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{RegistrationBody, UserId, Username};
    use crate::version::Version;
    use jiff::Timestamp;

    fn user(roles: &[Role], active: bool) -> User {
        User {
            id: UserId(uuid::Uuid::now_v7()),
            username: Username::parse("someone").unwrap_or_else(|_| unreachable!()),
            display_name: "Some One".into(),
            roles: roles.to_vec(),
            registration: RegistrationBody::None,
            registration_number: None,
            email: None,
            active,
            totp_enrolled: false,
            version: Version::FIRST,
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn only_administrators_manage_users_and_the_service() {
        for role in Role::ALL {
            let decision = decide(&user(&[role], true), Action::ManageUsers);
            assert_eq!(
                decision.is_allowed(),
                role == Role::Administrator,
                "{role:?}"
            );
            for action in [
                Action::ManageService,
                Action::ManageDirectory,
                Action::RegisterChildren,
            ] {
                let decision = decide(&user(&[role], true), action);
                assert_eq!(
                    decision.is_allowed(),
                    role == Role::Administrator,
                    "{role:?} {action:?}"
                );
            }
            assert!(decide(&user(&[role], true), Action::ReadDirectory).is_allowed());
        }
    }

    #[test]
    fn a_deactivated_account_may_do_nothing() {
        let admin = user(&[Role::Administrator], false);
        for action in [
            Action::ReadDirectory,
            Action::ManageUsers,
            Action::ManageService,
        ] {
            assert!(!decide(&admin, action).is_allowed());
        }
    }

    #[test]
    fn administrators_cannot_lock_themselves_out() {
        let admin = user(&[Role::Administrator], true);
        let other = user(&[Role::Administrator], true);
        assert!(!may_change_own_access(&admin, &admin, false, true).is_allowed());
        assert!(!may_change_own_access(&admin, &admin, true, false).is_allowed());
        assert!(may_change_own_access(&admin, &admin, true, true).is_allowed());
        assert!(may_change_own_access(&admin, &other, false, false).is_allowed());
    }
}
