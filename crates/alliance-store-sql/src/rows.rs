//! Rows as both engines return them, and their conversion to domain types. A stored value
//! that does not parse is reported as corrupt storage, never passed on.

use crate::from_micros;
use alliance_core::auth::TokenScope;
use alliance_core::identity::{RegistrationBody, Role, User, UserId, Username};
use alliance_core::{Nation, ServiceName, ServiceProfile, Version};
use alliance_service::{Credentials, ResumeDraft, SessionRecord, StoreError, TokenRecord};
use uuid::Uuid;

fn corrupt(what: &str, why: impl std::fmt::Display) -> StoreError {
    StoreError::Other(format!("a stored {what} is not valid: {why}"))
}

pub(crate) fn user_id(raw: &str) -> Result<UserId, StoreError> {
    UserId::parse(raw).map_err(|e| corrupt("user id", e))
}

pub(crate) fn optional_micros(micros: Option<i64>) -> Result<Option<jiff::Timestamp>, StoreError> {
    micros.map(from_micros).transpose()
}

/// A count or a single number.
#[derive(Debug, sqlx::FromRow)]
pub struct Number {
    pub n: i64,
}

/// A version, or an absent one.
#[derive(Debug, sqlx::FromRow)]
pub struct VersionRow {
    pub version: i64,
}

#[derive(Debug, sqlx::FromRow)]
pub struct ServiceRow {
    pub name: String,
    pub nation: String,
    pub is_demo: bool,
    pub second_factor_required: bool,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

pub(crate) const SERVICE_COLUMNS: &str =
    "name, nation, is_demo, second_factor_required, version, created_at, updated_at";

impl TryFrom<ServiceRow> for ServiceProfile {
    type Error = StoreError;

    fn try_from(row: ServiceRow) -> Result<Self, StoreError> {
        Ok(ServiceProfile {
            name: ServiceName::parse(&row.name).map_err(|e| corrupt("service name", e))?,
            nation: Nation::parse(&row.nation).map_err(|e| corrupt("nation", e))?,
            is_demo: row.is_demo,
            second_factor_required: row.second_factor_required,
            version: Version::new(row.version).map_err(|e| corrupt("version", e))?,
            created_at: from_micros(row.created_at)?,
            updated_at: from_micros(row.updated_at)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct UserRow {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub registration: String,
    pub registration_number: Option<String>,
    pub email: Option<String>,
    pub active: bool,
    pub totp_enrolled: bool,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The columns of [`UserRow`], for `SELECT … FROM users`.
pub(crate) const USER_COLUMNS: &str = "id, username, display_name, registration, \
    registration_number, email, active, (totp_secret IS NOT NULL) AS totp_enrolled, version, \
    created_at, updated_at";

#[derive(Debug, sqlx::FromRow)]
pub struct RoleRow {
    pub user_id: String,
    pub role: String,
}

impl UserRow {
    /// The user, with the roles among `roles` that are theirs.
    pub(crate) fn into_user(self, roles: &[RoleRow]) -> Result<User, StoreError> {
        let mut own = Vec::new();
        for row in roles.iter().filter(|r| r.user_id == self.id) {
            own.push(Role::parse(&row.role).map_err(|e| corrupt("role", e))?);
        }
        own.sort();
        Ok(User {
            id: user_id(&self.id)?,
            username: Username::parse(&self.username).map_err(|e| corrupt("username", e))?,
            display_name: self.display_name,
            roles: own,
            registration: RegistrationBody::parse(&self.registration)
                .map_err(|e| corrupt("registration", e))?,
            registration_number: self.registration_number,
            email: self.email,
            active: self.active,
            totp_enrolled: self.totp_enrolled,
            version: Version::new(self.version).map_err(|e| corrupt("version", e))?,
            created_at: from_micros(self.created_at)?,
            updated_at: from_micros(self.updated_at)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct CredentialRow {
    pub password_hash: String,
    pub totp_secret: Option<Vec<u8>>,
    pub totp_last_step: Option<i64>,
}

impl From<CredentialRow> for Credentials {
    fn from(row: CredentialRow) -> Self {
        Credentials {
            password_hash: row.password_hash,
            totp_secret: row
                .totp_secret
                .map(alliance_core::crypto::Sealed::from_stored),
            totp_last_step: row.totp_last_step,
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct SessionRow {
    pub token_hash: String,
    pub user_id: String,
    pub csrf_token: String,
    pub second_factor_done: bool,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub user_agent: String,
    pub address: String,
    pub ended_at: Option<i64>,
}

pub(crate) const SESSION_COLUMNS: &str = "token_hash, user_id, csrf_token, second_factor_done, \
    created_at, last_seen_at, user_agent, address, ended_at";

impl TryFrom<SessionRow> for SessionRecord {
    type Error = StoreError;

    fn try_from(row: SessionRow) -> Result<Self, StoreError> {
        Ok(SessionRecord {
            token_hash: row.token_hash,
            user_id: user_id(&row.user_id)?,
            csrf_token: row.csrf_token,
            second_factor_done: row.second_factor_done,
            created_at: from_micros(row.created_at)?,
            last_seen_at: from_micros(row.last_seen_at)?,
            user_agent: row.user_agent,
            address: row.address,
            ended_at: optional_micros(row.ended_at)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct TokenRow {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub token_hash: String,
    pub scope: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

pub(crate) const TOKEN_COLUMNS: &str = "id, user_id, name, token_hash, scope, created_at, \
    expires_at, last_used_at, revoked_at";

impl TryFrom<TokenRow> for TokenRecord {
    type Error = StoreError;

    fn try_from(row: TokenRow) -> Result<Self, StoreError> {
        Ok(TokenRecord {
            id: Uuid::parse_str(&row.id).map_err(|e| corrupt("token id", e))?,
            user_id: user_id(&row.user_id)?,
            name: row.name,
            token_hash: row.token_hash,
            scope: TokenScope::parse(&row.scope).map_err(|e| corrupt("token scope", e))?,
            created_at: from_micros(row.created_at)?,
            expires_at: from_micros(row.expires_at)?,
            last_used_at: optional_micros(row.last_used_at)?,
            revoked_at: optional_micros(row.revoked_at)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct DraftRow {
    pub token_hash: String,
    pub user_id: String,
    pub path: String,
    pub sealed_form: Vec<u8>,
    pub created_at: i64,
    pub expires_at: i64,
}

impl TryFrom<DraftRow> for ResumeDraft {
    type Error = StoreError;

    fn try_from(row: DraftRow) -> Result<Self, StoreError> {
        Ok(ResumeDraft {
            token_hash: row.token_hash,
            user_id: user_id(&row.user_id)?,
            path: row.path,
            sealed_form: alliance_core::crypto::Sealed::from_stored(row.sealed_form),
            created_at: from_micros(row.created_at)?,
            expires_at: from_micros(row.expires_at)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct FailureRow {
    pub n: i64,
    pub latest: Option<i64>,
}

#[derive(Debug, sqlx::FromRow)]
pub struct HeadRow {
    pub seq: i64,
    pub mac: Vec<u8>,
}

#[derive(Debug, sqlx::FromRow)]
pub struct AuditRow {
    pub seq: i64,
    pub at: i64,
    pub action: String,
    pub actor_id: Option<String>,
    pub record_type: String,
    pub record_id: Option<String>,
    pub child_id: Option<String>,
    pub category: String,
    pub detail: Option<String>,
    pub request_id: String,
    pub address: String,
    pub mac: Vec<u8>,
}

impl TryFrom<AuditRow> for alliance_core::audit::Entry {
    type Error = StoreError;

    fn try_from(row: AuditRow) -> Result<Self, StoreError> {
        use alliance_core::audit::{Action, Category, Event, Origin};
        // A damaged row still becomes an entry where it can: verification then names it.
        let mac: [u8; 32] = row.mac.as_slice().try_into().unwrap_or([0; 32]);
        Ok(alliance_core::audit::Entry {
            seq: row.seq,
            at: from_micros(row.at)?,
            event: Event {
                action: Action::parse(&row.action).map_err(|e| corrupt("audit action", e))?,
                actor: row.actor_id,
                record_type: row.record_type,
                record_id: row.record_id,
                child_id: row.child_id,
                category: Category::parse(&row.category)
                    .map_err(|e| corrupt("audit category", e))?,
                detail: row.detail,
            },
            origin: Origin {
                request_id: row.request_id,
                address: row.address,
            },
            mac,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct KeyRow {
    pub owner: String,
    pub class: String,
    pub key_version: i64,
    pub master_version: i64,
    pub wrapped: Vec<u8>,
    pub destroyed_at: Option<i64>,
}
