//! Staff accounts, their roles, second factors and supervision. Statements are built only
//! from constants (the column lists in `rows`); every value is a bound parameter.

use crate::rows::{CredentialRow, Number, RoleRow, USER_COLUMNS, UserRow, VersionRow};
use crate::{Engine, map_error, stale_or_missing, to_micros};
use alliance_core::identity::{Role, User, UserDetails, UserId, Username};
use alliance_core::service::ServiceDetails;
use alliance_core::{Page, PageRequest, Version};
use alliance_service::{AccountStore, AuditBatch, Credentials, NewUser, StoreError, UserFilter};
use jiff::Timestamp;
use sqlx::AssertSqlSafe;

impl_for_both_engines!(helpers {
    /// Inserts a user and their roles inside the caller's transaction.
    async fn insert_user_sql(
        tx: &mut sqlx::Transaction<'static, DB>,
        user: &NewUser,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO users (id, username, display_name, registration, registration_number, \
             email, password_hash, active, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, TRUE, 1, $8, $8)",
        )
        .bind(user.id.to_string())
        .bind(user.username.as_str().to_owned())
        .bind(user.details.display_name.clone())
        .bind(user.details.registration.code().to_owned())
        .bind(user.details.registration_number.clone())
        .bind(user.details.email.clone())
        .bind(user.password_hash.clone())
        .bind(to_micros(now))
        .execute(&mut **tx)
        .await
        .map_err(map_error)?;
        for role in &user.details.roles {
            Self::insert_role_sql(tx, user.id, *role).await?;
        }
        Ok(())
    }

    async fn insert_role_sql(
        tx: &mut sqlx::Transaction<'static, DB>,
        user: UserId,
        role: Role,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)")
            .bind(user.to_string())
            .bind(role.code().to_owned())
            .execute(&mut **tx)
            .await
            .map_err(map_error)?;
        Ok(())
    }

    /// Ends a user's open sessions and revokes their API tokens and calendar feed, inside the
    /// caller's transaction: a password change, a role change or deactivation takes effect at
    /// once.
    pub(crate) async fn end_sessions_and_tokens(
        tx: &mut sqlx::Transaction<'static, DB>,
        user: UserId,
        reason: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE sessions SET ended_at = $1, end_reason = $2 WHERE user_id = $3 AND ended_at IS NULL",
        )
        .bind(to_micros(now))
        .bind(reason.to_owned())
        .bind(user.to_string())
        .execute(&mut **tx)
        .await
        .map_err(map_error)?;
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
            .bind(to_micros(now))
            .bind(user.to_string())
            .execute(&mut **tx)
            .await
            .map_err(map_error)?;
        // A calendar feed's address is a token too.
        sqlx::query("UPDATE calendar_feeds SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
            .bind(to_micros(now))
            .bind(user.to_string())
            .execute(&mut **tx)
            .await
            .map_err(map_error)?;
        Ok(())
    }

    /// Why a versioned update of a user matched no row: gone, or moved on.
    async fn why_user_not_updated(tx: &mut sqlx::Transaction<'static, DB>, id: UserId) -> StoreError {
        let current: Result<Option<VersionRow>, _> = sqlx::query_as("SELECT version FROM users WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&mut **tx)
            .await;
        match current {
            Ok(current) => stale_or_missing(current.map(|v| v.version)),
            Err(e) => map_error(e),
        }
    }

    /// The roles of the users in `rows`, in one query. Only placeholders are spliced in.
    async fn roles_of(&self, rows: &[UserRow]) -> Result<Vec<RoleRow>, StoreError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (1..=rows.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT user_id, role FROM user_roles WHERE user_id IN ({})",
            placeholders.join(", ")
        );
        let mut query = sqlx::query_as(AssertSqlSafe(sql));
        for row in rows {
            query = query.bind(row.id.clone());
        }
        query.fetch_all(&self.pool).await.map_err(map_error)
    }
});

/// Escapes `%`, `_` and `\` so a search term matches literally in `LIKE … ESCAPE '\'`.
fn escape_like(term: &str) -> String {
    let mut out = String::with_capacity(term.len());
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl_for_both_engines!(AccountStore {
    async fn count_users(&self) -> Result<i64, StoreError> {
        let row: Number = sqlx::query_as("SELECT COUNT(*) AS n FROM users")
            .fetch_one(&self.pool)
            .await
            .map_err(map_error)?;
        Ok(row.n)
    }

    async fn create_user(
        &self,
        user: &NewUser,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<User, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        Self::insert_user_sql(&mut tx, user, now).await?;
        self.commit_audited(tx, audit).await?;
        self.user(user.id).await?.ok_or(StoreError::NotFound)
    }

    async fn create_first_user(
        &self,
        user: &NewUser,
        setup_code_hash: &str,
        service: Option<&ServiceDetails>,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<User, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let users: Number = sqlx::query_as("SELECT COUNT(*) AS n FROM users")
            .fetch_one(&mut *tx)
            .await
            .map_err(map_error)?;
        if users.n > 0 {
            return Err(StoreError::Conflict("setup is closed: a user exists".to_owned()));
        }
        let spent = sqlx::query("DELETE FROM setup_codes WHERE code_hash = $1 AND expires_at > $2")
            .bind(setup_code_hash.to_owned())
            .bind(to_micros(now))
            .execute(&mut *tx)
            .await
            .map_err(map_error)?;
        if <DB as crate::Engine>::rows_affected(&spent) != 1 {
            return Err(StoreError::NotFound);
        }
        sqlx::query("DELETE FROM setup_codes")
            .execute(&mut *tx)
            .await
            .map_err(map_error)?;
        if let Some(details) = service {
            sqlx::query(
                "INSERT INTO service (id, name, nation, is_demo, second_factor_required, version, \
                 created_at, updated_at) VALUES (1, $1, $2, FALSE, TRUE, 1, $3, $3) \
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(details.name.as_str().to_owned())
            .bind(details.nation.code().to_owned())
            .bind(to_micros(now))
            .execute(&mut *tx)
            .await
            .map_err(map_error)?;
        }
        Self::insert_user_sql(&mut tx, user, now).await?;
        self.commit_audited(tx, audit).await?;
        self.user(user.id).await?.ok_or(StoreError::NotFound)
    }

    async fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        let row: Option<UserRow> =
            sqlx::query_as(AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1")))
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await
                .map_err(map_error)?;
        let Some(row) = row else { return Ok(None) };
        let roles: Vec<RoleRow> = sqlx::query_as("SELECT user_id, role FROM user_roles WHERE user_id = $1")
            .bind(id.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(map_error)?;
        row.into_user(&roles).map(Some)
    }

    async fn user_by_username(
        &self,
        username: &Username,
    ) -> Result<Option<(User, Credentials)>, StoreError> {
        let row: Option<UserRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE username = $1"
        )))
        .bind(username.as_str().to_owned())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?;
        let Some(row) = row else { return Ok(None) };
        let id = crate::rows::user_id(&row.id)?;
        let roles: Vec<RoleRow> = sqlx::query_as("SELECT user_id, role FROM user_roles WHERE user_id = $1")
            .bind(id.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(map_error)?;
        let user = row.into_user(&roles)?;
        let credentials = self.credentials(id).await?.ok_or(StoreError::NotFound)?;
        Ok(Some((user, credentials)))
    }

    async fn credentials(&self, id: UserId) -> Result<Option<Credentials>, StoreError> {
        let row: Option<CredentialRow> = sqlx::query_as(
            "SELECT password_hash, totp_secret, totp_last_step FROM users WHERE id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?;
        Ok(row.map(Credentials::from))
    }

    async fn list_users(
        &self,
        filter: &UserFilter,
        page: &PageRequest,
    ) -> Result<Page<User>, StoreError> {
        // One statement for every combination of filters: an absent filter is NULL and
        // matches everything.
        let search = filter
            .search
            .as_ref()
            .map(|s| format!("%{}%", escape_like(&s.to_lowercase())));
        let rows: Vec<UserRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE \
             ($1 IS NULL OR u.username > $1) \
             AND ($2 IS NULL OR u.active = ($2 = 'true')) \
             AND ($3 IS NULL OR EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role = $3)) \
             AND ($4 IS NULL OR LOWER(u.username) LIKE $4 ESCAPE '\\' OR LOWER(u.display_name) LIKE $4 ESCAPE '\\') \
             ORDER BY u.username LIMIT $5"
        )))
        .bind(page.after.as_ref().map(|c| c.as_str().to_owned()))
        .bind(filter.active.map(|a| a.to_string()))
        .bind(filter.role.map(|r| r.code().to_owned()))
        .bind(search)
        .bind(page.fetch_limit())
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        let roles = self.roles_of(&rows).await?;
        let users = rows
            .into_iter()
            .map(|row| row.into_user(&roles))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_rows(users, page, |u| u.username.as_str().to_owned()))
    }

    async fn update_user(
        &self,
        id: UserId,
        details: &UserDetails,
        expected: Version,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<User, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let updated = sqlx::query(
            "UPDATE users SET display_name = $1, registration = $2, registration_number = $3, \
             email = $4, version = version + 1, updated_at = $5 WHERE id = $6 AND version = $7",
        )
        .bind(details.display_name.clone())
        .bind(details.registration.code().to_owned())
        .bind(details.registration_number.clone())
        .bind(details.email.clone())
        .bind(to_micros(now))
        .bind(id.to_string())
        .bind(expected.get())
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        if <DB as crate::Engine>::rows_affected(&updated) != 1 {
            return Err(Self::why_user_not_updated(&mut tx, id).await);
        }
        let before: Vec<RoleRow> = sqlx::query_as("SELECT user_id, role FROM user_roles WHERE user_id = $1")
            .bind(id.to_string())
            .fetch_all(&mut *tx)
            .await
            .map_err(map_error)?;
        let mut old: Vec<&str> = before.iter().map(|r| r.role.as_str()).collect();
        old.sort_unstable();
        let mut new: Vec<&str> = details.roles.iter().map(|r| r.code()).collect();
        new.sort_unstable();
        if old != new {
            sqlx::query("DELETE FROM user_roles WHERE user_id = $1")
                .bind(id.to_string())
                .execute(&mut *tx)
                .await
                .map_err(map_error)?;
            for role in &details.roles {
                Self::insert_role_sql(&mut tx, id, *role).await?;
            }
            Self::end_sessions_and_tokens(&mut tx, id, "role change", now).await?;
        }
        self.commit_audited(tx, audit).await?;
        self.user(id).await?.ok_or(StoreError::NotFound)
    }

    async fn set_user_active(
        &self,
        id: UserId,
        active: bool,
        expected: Version,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<User, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let updated = sqlx::query(
            "UPDATE users SET active = $1, version = version + 1, updated_at = $2 \
             WHERE id = $3 AND version = $4",
        )
        .bind(active)
        .bind(to_micros(now))
        .bind(id.to_string())
        .bind(expected.get())
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        if <DB as crate::Engine>::rows_affected(&updated) != 1 {
            return Err(Self::why_user_not_updated(&mut tx, id).await);
        }
        if !active {
            Self::end_sessions_and_tokens(&mut tx, id, "deactivated", now).await?;
        }
        self.commit_audited(tx, audit).await?;
        self.user(id).await?.ok_or(StoreError::NotFound)
    }

    async fn set_password(
        &self,
        id: UserId,
        password_hash: &str,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<User, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let updated = sqlx::query(
            "UPDATE users SET password_hash = $1, version = version + 1, updated_at = $2 WHERE id = $3",
        )
        .bind(password_hash.to_owned())
        .bind(to_micros(now))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        if <DB as crate::Engine>::rows_affected(&updated) != 1 {
            return Err(StoreError::NotFound);
        }
        Self::end_sessions_and_tokens(&mut tx, id, "password change", now).await?;
        self.commit_audited(tx, audit).await?;
        self.user(id).await?.ok_or(StoreError::NotFound)
    }

    async fn set_second_factor(
        &self,
        id: UserId,
        sealed_secret: Option<&alliance_core::crypto::Sealed>,
        recovery_code_hashes: &[String],
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<User, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let updated = sqlx::query(
            "UPDATE users SET totp_secret = $1, totp_last_step = NULL, version = version + 1, \
             updated_at = $2 WHERE id = $3",
        )
        .bind(sealed_secret.map(|s| s.as_bytes().to_vec()))
        .bind(to_micros(now))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        if <DB as crate::Engine>::rows_affected(&updated) != 1 {
            return Err(StoreError::NotFound);
        }
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(map_error)?;
        for hash in recovery_code_hashes {
            sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
                .bind(id.to_string())
                .bind(hash.clone())
                .execute(&mut *tx)
                .await
                .map_err(map_error)?;
        }
        if sealed_secret.is_none() {
            Self::end_sessions_and_tokens(&mut tx, id, "second factor reset", now).await?;
        }
        self.commit_audited(tx, audit).await?;
        self.user(id).await?.ok_or(StoreError::NotFound)
    }

    async fn accept_totp_step(&self, id: UserId, step: i64) -> Result<bool, StoreError> {
        let updated = sqlx::query(
            "UPDATE users SET totp_last_step = $1 WHERE id = $2 \
             AND (totp_last_step IS NULL OR totp_last_step < $1)",
        )
        .bind(step)
        .bind(id.to_string())
        .execute(&self.pool)
        .await
        .map_err(map_error)?;
        Ok(<DB as crate::Engine>::rows_affected(&updated) == 1)
    }

    async fn use_recovery_code(
        &self,
        id: UserId,
        code_hash: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let updated = sqlx::query(
            "UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 \
             AND used_at IS NULL",
        )
        .bind(to_micros(now))
        .bind(id.to_string())
        .bind(code_hash.to_owned())
        .execute(&self.pool)
        .await
        .map_err(map_error)?;
        Ok(<DB as crate::Engine>::rows_affected(&updated) == 1)
    }

    async fn set_supervisees(
        &self,
        supervisor: UserId,
        supervisees: &[(UserId, bool)],
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        sqlx::query("DELETE FROM supervision WHERE supervisor_id = $1")
            .bind(supervisor.to_string())
            .execute(&mut *tx)
            .await
            .map_err(map_error)?;
        for (supervisee, named) in supervisees {
            sqlx::query(
                "INSERT INTO supervision (supervisor_id, supervisee_id, named_access, created_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(supervisor.to_string())
            .bind(supervisee.to_string())
            .bind(*named)
            .bind(to_micros(now))
            .execute(&mut *tx)
            .await
            .map_err(map_error)?;
        }
        self.commit_audited(tx, audit).await?;
        Ok(())
    }

    async fn supervisees(&self, supervisor: UserId) -> Result<Vec<UserId>, StoreError> {
        let rows: Vec<RoleRow> = sqlx::query_as(
            "SELECT supervisee_id AS user_id, 'therapist' AS role FROM supervision \
             WHERE supervisor_id = $1 ORDER BY supervisee_id",
        )
        .bind(supervisor.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.iter().map(|r| crate::rows::user_id(&r.user_id)).collect()
    }

    async fn replace_setup_code(
        &self,
        code_hash: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        sqlx::query("DELETE FROM setup_codes")
            .execute(&mut *tx)
            .await
            .map_err(map_error)?;
        sqlx::query("INSERT INTO setup_codes (code_hash, created_at, expires_at) VALUES ($1, $2, $3)")
            .bind(code_hash.to_owned())
            .bind(to_micros(now))
            .bind(to_micros(expires_at))
            .execute(&mut *tx)
            .await
            .map_err(map_error)?;
        tx.commit().await.map_err(map_error)
    }
});
