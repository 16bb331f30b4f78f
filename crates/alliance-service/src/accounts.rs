//! Managing staff accounts and the service's details: administrators only (policy section 1).
//! Every change is audited in its own transaction; every refusal is audited too.

use crate::app::Alliance;
use crate::auth::{AccountRequest, Actor};
use crate::error::{AppError, AppResult};
use crate::store::UserFilter;
use alliance_core::audit::{self, Event, Origin};
use alliance_core::identity::{Role, User, UserDetails, UserId};
use alliance_core::policy::{self, Action, Decision};
use alliance_core::service::ServiceDetails;
use alliance_core::{Invalid, Page, PageRequest, ServiceProfile, Version};

/// The origin of what the command line does: no request, this machine.
pub fn command_line_origin() -> Origin {
    Origin {
        request_id: "command-line".to_owned(),
        address: "local".to_owned(),
    }
}

fn event(
    action: audit::Action,
    actor: &Actor,
    record_type: &str,
    record_id: Option<String>,
) -> Event {
    Event::new(
        action,
        Some(actor.user.id.to_string()),
        record_type,
        record_id,
    )
}

impl Alliance {
    /// Allows, or refuses and audits the refusal (naming what was asked, never content).
    pub(crate) async fn require(
        &self,
        actor: &Actor,
        action: Action,
        asked: &str,
        record_type: &str,
        record_id: Option<String>,
    ) -> AppResult<()> {
        let mut refusal = match policy::decide(&actor.user, action) {
            Decision::Allow => None,
            Decision::Deny(why) => Some(why),
        };
        if refusal.is_none() && !actor.may_write() && action != Action::ReadDirectory {
            refusal = Some("this API token is read-only");
        }
        match refusal {
            None => Ok(()),
            Some(why) => {
                self.record(
                    &actor.origin,
                    vec![event(audit::Action::Denied, actor, record_type, record_id).detail(asked)],
                )
                .await?;
                Err(AppError::Denied(why))
            }
        }
    }

    /// For the administration pages: may this actor manage accounts? A refusal is audited.
    pub async fn ensure_may_manage_users(&self, actor: &Actor, asked: &str) -> AppResult<()> {
        self.require(actor, Action::ManageUsers, asked, "user", None)
            .await
    }

    /// The staff directory, filtered and a page at a time.
    pub async fn list_users(
        &self,
        actor: &Actor,
        filter: &UserFilter,
        page: &PageRequest,
    ) -> AppResult<Page<User>> {
        self.require(actor, Action::ReadDirectory, "list users", "user", None)
            .await?;
        Ok(self.store.list_users(filter, page).await?)
    }

    pub async fn get_user(&self, actor: &Actor, id: UserId) -> AppResult<User> {
        self.require(
            actor,
            Action::ReadDirectory,
            "read user",
            "user",
            Some(id.to_string()),
        )
        .await?;
        self.store.user(id).await?.ok_or(AppError::NotFound)
    }

    /// Opens an account with a first password the new user should change.
    pub async fn create_user(&self, actor: &Actor, account: AccountRequest<'_>) -> AppResult<User> {
        self.require(actor, Action::ManageUsers, "create user", "user", None)
            .await?;
        self.create_user_as(Some(actor.user.id), &actor.origin, account)
            .await
    }

    /// For the command line, which runs with the machine's authority, not a user's.
    pub async fn create_user_unchecked(&self, account: AccountRequest<'_>) -> AppResult<User> {
        self.create_user_as(None, &command_line_origin(), account)
            .await
    }

    async fn create_user_as(
        &self,
        actor: Option<UserId>,
        origin: &Origin,
        account: AccountRequest<'_>,
    ) -> AppResult<User> {
        let new_user = self.validate_new_account(&account).await?;
        let events = vec![Event::new(
            audit::Action::UserCreated,
            actor.map(|a| a.to_string()),
            "user",
            Some(new_user.id.to_string()),
        )];
        match self
            .store
            .create_user(
                &new_user,
                self.clock.now(),
                &self.audit_batch(origin, events),
            )
            .await
        {
            Err(crate::StoreError::Conflict(_)) => {
                Err(Invalid::field("username", "That username is taken; choose another").into())
            }
            other => Ok(other?),
        }
    }

    pub async fn update_user(
        &self,
        actor: &Actor,
        id: UserId,
        details: UserDetails,
        expected: Version,
    ) -> AppResult<User> {
        self.require(
            actor,
            Action::ManageUsers,
            "update user",
            "user",
            Some(id.to_string()),
        )
        .await?;
        let target = self.store.user(id).await?.ok_or(AppError::NotFound)?;
        let keeps_admin = details.roles.contains(&Role::Administrator);
        if let Decision::Deny(why) =
            policy::may_change_own_access(&actor.user, &target, keeps_admin, target.active)
        {
            return Err(AppError::Denied(why));
        }
        let mut events = vec![event(
            audit::Action::UserUpdated,
            actor,
            "user",
            Some(id.to_string()),
        )];
        if target.roles != details.roles {
            events.push(event(
                audit::Action::RolesChanged,
                actor,
                "user",
                Some(id.to_string()),
            ));
        }
        Ok(self
            .store
            .update_user(
                id,
                &details,
                expected,
                self.clock.now(),
                &self.audit_batch(&actor.origin, events),
            )
            .await?)
    }

    pub async fn set_user_active(
        &self,
        actor: &Actor,
        id: UserId,
        active: bool,
        expected: Version,
    ) -> AppResult<User> {
        self.require(
            actor,
            Action::ManageUsers,
            "change user status",
            "user",
            Some(id.to_string()),
        )
        .await?;
        let target = self.store.user(id).await?.ok_or(AppError::NotFound)?;
        if let Decision::Deny(why) = policy::may_change_own_access(
            &actor.user,
            &target,
            target.has_role(Role::Administrator),
            active,
        ) {
            return Err(AppError::Denied(why));
        }
        let action = if active {
            audit::Action::UserReactivated
        } else {
            audit::Action::UserDeactivated
        };
        let events = vec![event(action, actor, "user", Some(id.to_string()))];
        Ok(self
            .store
            .set_user_active(
                id,
                active,
                expected,
                self.clock.now(),
                &self.audit_batch(&actor.origin, events),
            )
            .await?)
    }

    /// Sets a new password for someone who has forgotten theirs; their sessions and tokens end.
    pub async fn reset_password(&self, actor: &Actor, id: UserId, new: &str) -> AppResult<User> {
        self.require(
            actor,
            Action::ManageUsers,
            "reset password",
            "user",
            Some(id.to_string()),
        )
        .await?;
        let target = self.store.user(id).await?.ok_or(AppError::NotFound)?;
        alliance_core::auth::check_password_for(
            new,
            target.username.as_str(),
            &target.display_name,
        )
        .map_err(|m| Invalid::field("password", m))?;
        let hash = self.hash_password(new).await?;
        let events = vec![event(
            audit::Action::PasswordReset,
            actor,
            "user",
            Some(id.to_string()),
        )];
        Ok(self
            .store
            .set_password(
                id,
                &hash,
                self.clock.now(),
                &self.audit_batch(&actor.origin, events),
            )
            .await?)
    }

    /// Removes someone's second factor (a lost phone): they set up a new one at next sign-in.
    pub async fn reset_second_factor(&self, actor: &Actor, id: UserId) -> AppResult<User> {
        self.require(
            actor,
            Action::ManageUsers,
            "reset second factor",
            "user",
            Some(id.to_string()),
        )
        .await?;
        let events = vec![event(
            audit::Action::SecondFactorReset,
            actor,
            "user",
            Some(id.to_string()),
        )];
        Ok(self
            .store
            .set_second_factor(
                id,
                None,
                &[],
                self.clock.now(),
                &self.audit_batch(&actor.origin, events),
            )
            .await?)
    }

    /// Names the therapists a supervisor supervises.
    /// Names the therapists a supervisor supervises, and for which of them the supervisor
    /// sees children's names (named access, policy section 1); the rest by initials and case
    /// number. The change is audited.
    pub async fn set_supervisees(
        &self,
        actor: &Actor,
        supervisor: UserId,
        supervisees: &[UserId],
        named: &[UserId],
    ) -> AppResult<()> {
        self.require(
            actor,
            Action::ManageUsers,
            "set supervisees",
            "user",
            Some(supervisor.to_string()),
        )
        .await?;
        let supervisor_user = self
            .store
            .user(supervisor)
            .await?
            .ok_or(AppError::NotFound)?;
        if !supervisor_user.has_role(Role::Supervisor) {
            return Err(
                Invalid::field("supervisor", "Give this person the supervisor role first").into(),
            );
        }
        for id in supervisees {
            if *id == supervisor {
                return Err(Invalid::field("supervisees", "Nobody supervises themselves").into());
            }
            if self.store.user(*id).await?.is_none() {
                return Err(
                    Invalid::field("supervisees", "One of these people does not exist").into(),
                );
            }
        }
        if named.iter().any(|n| !supervisees.contains(n)) {
            return Err(Invalid::field(
                "named",
                "Named access is for people this supervisor supervises",
            )
            .into());
        }
        let links: Vec<(UserId, bool)> = supervisees
            .iter()
            .map(|id| (*id, named.contains(id)))
            .collect();
        let events = vec![event(
            audit::Action::SuperviseesChanged,
            actor,
            "user",
            Some(supervisor.to_string()),
        )];
        Ok(self
            .store
            .set_supervisees(
                supervisor,
                &links,
                self.clock.now(),
                &self.audit_batch(&actor.origin, events),
            )
            .await?)
    }

    pub async fn supervisees(&self, actor: &Actor, supervisor: UserId) -> AppResult<Vec<UserId>> {
        Ok(self
            .supervision_of(actor, supervisor)
            .await?
            .into_iter()
            .map(|(id, _)| id)
            .collect())
    }

    /// Whom a supervisor supervises, each with whether named access is enabled.
    pub async fn supervision_of(
        &self,
        actor: &Actor,
        supervisor: UserId,
    ) -> AppResult<Vec<(UserId, bool)>> {
        self.require(
            actor,
            Action::ReadDirectory,
            "read supervisees",
            "user",
            Some(supervisor.to_string()),
        )
        .await?;
        Ok(self.store.supervision_links(supervisor).await?)
    }

    /// Changes the service's name or nation.
    pub async fn update_service(
        &self,
        actor: &Actor,
        details: ServiceDetails,
        expected: Version,
    ) -> AppResult<ServiceProfile> {
        self.require(
            actor,
            Action::ManageService,
            "update service",
            "service",
            None,
        )
        .await?;
        if self.store.service_profile().await?.is_none() {
            // A first administrator made on the command line finds no service yet: their
            // first save on the Service page creates it.
            let events = vec![event(
                audit::Action::ServiceCreated,
                actor,
                "service",
                Some("1".to_owned()),
            )];
            return match self
                .store
                .create_service_profile(
                    &details,
                    false,
                    self.clock.now(),
                    &self.audit_batch(&actor.origin, events),
                )
                .await
            {
                Err(crate::StoreError::Conflict(_)) => Err(AppError::Stale(expected)),
                other => Ok(other?),
            };
        }
        let events = vec![event(
            audit::Action::ServiceUpdated,
            actor,
            "service",
            Some("1".to_owned()),
        )];
        Ok(self
            .store
            .update_service_profile(
                &details,
                expected,
                self.clock.now(),
                &self.audit_batch(&actor.origin, events),
            )
            .await?)
    }

    /// The user a command-line operation names.
    pub async fn user_by_username(&self, username: &str) -> AppResult<User> {
        let name = alliance_core::identity::Username::parse(username)
            .map_err(|m| Invalid::field("username", m))?;
        self.store
            .user_by_username(&name)
            .await?
            .map(|(u, _)| u)
            .ok_or(AppError::NotFound)
    }
}
