//! Managing staff accounts and the service's details: administrators only (policy section 1).

use crate::app::Alliance;
use crate::auth::{AccountRequest, Actor};
use crate::error::{AppError, AppResult};
use crate::store::UserFilter;
use alliance_core::identity::{Role, User, UserDetails, UserId};
use alliance_core::policy::{self, Action, Decision};
use alliance_core::service::ServiceDetails;
use alliance_core::{Invalid, Page, PageRequest, ServiceProfile, Version};

fn require(actor: &Actor, action: Action) -> AppResult<()> {
    match policy::decide(&actor.user, action) {
        Decision::Allow => Ok(()),
        Decision::Deny(why) => Err(AppError::Denied(why)),
    }
}

impl Alliance {
    /// The staff directory, filtered and a page at a time.
    pub async fn list_users(
        &self,
        actor: &Actor,
        filter: &UserFilter,
        page: &PageRequest,
    ) -> AppResult<Page<User>> {
        require(actor, Action::ReadDirectory)?;
        Ok(self.store.list_users(filter, page).await?)
    }

    pub async fn get_user(&self, actor: &Actor, id: UserId) -> AppResult<User> {
        require(actor, Action::ReadDirectory)?;
        self.store.user(id).await?.ok_or(AppError::NotFound)
    }

    /// Opens an account with a first password the new user should change.
    pub async fn create_user(&self, actor: &Actor, account: AccountRequest<'_>) -> AppResult<User> {
        require(actor, Action::ManageUsers)?;
        actor.ensure_may_write()?;
        self.create_user_unchecked(account).await
    }

    /// For the command line, which runs with the machine's authority, not a user's.
    pub async fn create_user_unchecked(&self, account: AccountRequest<'_>) -> AppResult<User> {
        let new_user = self.validate_new_account(&account).await?;
        match self.store.create_user(&new_user, self.clock.now()).await {
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
        require(actor, Action::ManageUsers)?;
        actor.ensure_may_write()?;
        let target = self.store.user(id).await?.ok_or(AppError::NotFound)?;
        let keeps_admin = details.roles.contains(&Role::Administrator);
        if let Decision::Deny(why) =
            policy::may_change_own_access(&actor.user, &target, keeps_admin, target.active)
        {
            return Err(AppError::Denied(why));
        }
        Ok(self
            .store
            .update_user(id, &details, expected, self.clock.now())
            .await?)
    }

    pub async fn set_user_active(
        &self,
        actor: &Actor,
        id: UserId,
        active: bool,
        expected: Version,
    ) -> AppResult<User> {
        require(actor, Action::ManageUsers)?;
        actor.ensure_may_write()?;
        let target = self.store.user(id).await?.ok_or(AppError::NotFound)?;
        if let Decision::Deny(why) = policy::may_change_own_access(
            &actor.user,
            &target,
            target.has_role(Role::Administrator),
            active,
        ) {
            return Err(AppError::Denied(why));
        }
        Ok(self
            .store
            .set_user_active(id, active, expected, self.clock.now())
            .await?)
    }

    /// Sets a new password for someone who has forgotten theirs; their sessions and tokens end.
    pub async fn reset_password(&self, actor: &Actor, id: UserId, new: &str) -> AppResult<User> {
        require(actor, Action::ManageUsers)?;
        actor.ensure_may_write()?;
        let target = self.store.user(id).await?.ok_or(AppError::NotFound)?;
        let mut context: Vec<&str> = vec![target.username.as_str(), "alliance", "therapy"];
        context.extend(target.display_name.split_whitespace());
        alliance_core::auth::check_password(new, &context)
            .map_err(|m| Invalid::field("password", m))?;
        let hash = self.hash_password(new).await?;
        Ok(self.store.set_password(id, &hash, self.clock.now()).await?)
    }

    /// Removes someone's second factor (a lost phone): they set up a new one at next sign-in.
    pub async fn reset_second_factor(&self, actor: &Actor, id: UserId) -> AppResult<User> {
        require(actor, Action::ManageUsers)?;
        actor.ensure_may_write()?;
        Ok(self
            .store
            .set_second_factor(id, None, &[], self.clock.now())
            .await?)
    }

    /// Names the therapists a supervisor supervises.
    pub async fn set_supervisees(
        &self,
        actor: &Actor,
        supervisor: UserId,
        supervisees: &[UserId],
    ) -> AppResult<()> {
        require(actor, Action::ManageUsers)?;
        actor.ensure_may_write()?;
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
        Ok(self
            .store
            .set_supervisees(supervisor, supervisees, self.clock.now())
            .await?)
    }

    pub async fn supervisees(&self, actor: &Actor, supervisor: UserId) -> AppResult<Vec<UserId>> {
        require(actor, Action::ReadDirectory)?;
        Ok(self.store.supervisees(supervisor).await?)
    }

    /// Changes the service's name or nation.
    pub async fn update_service(
        &self,
        actor: &Actor,
        details: ServiceDetails,
        expected: Version,
    ) -> AppResult<ServiceProfile> {
        require(actor, Action::ManageService)?;
        actor.ensure_may_write()?;
        Ok(self
            .store
            .update_service_profile(&details, expected, self.clock.now())
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
