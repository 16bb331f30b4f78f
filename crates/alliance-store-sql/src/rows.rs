//! Rows as both engines return them, and their conversion to domain types. A stored value
//! that does not parse is reported as corrupt storage, never passed on.

use crate::from_micros;
use alliance_core::auth::TokenScope;
use alliance_core::cases::{
    Case, CaseDetails, CaseId, Closure, ClosureReason, Membership, MembershipId, ReferralSource,
    TeamRole,
};
use alliance_core::children::{CarerId, ChildId};
use alliance_core::crypto::Sealed;
use alliance_core::directory::{Room, RoomDetails, RoomId, Site, SiteDetails, SiteId, SiteKind};
use alliance_core::identity::{RegistrationBody, Role, User, UserId, Username};
use alliance_core::tasks::{FiringId, Recipient, Rule, Subject, Task, TaskId, TaskKind};
use alliance_core::{Nation, ServiceName, ServiceProfile, Version};
use alliance_service::{
    Credentials, NewFiring, ResumeDraft, SessionRecord, StoreError, StoredCarer, StoredCase,
    StoredChild, StoredComment, StoredHoliday, TokenRecord,
};
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

/// One id (of a child found by a lookup, for example).
#[derive(Debug, sqlx::FromRow)]
pub struct IdRow {
    pub id: String,
}

fn date(what: &str, raw: &str) -> Result<jiff::civil::Date, StoreError> {
    raw.parse().map_err(|e| corrupt(what, e))
}

fn optional_date(what: &str, raw: Option<&str>) -> Result<Option<jiff::civil::Date>, StoreError> {
    raw.map(|d| date(what, d)).transpose()
}

fn version(raw: i64) -> Result<Version, StoreError> {
    Version::new(raw).map_err(|e| corrupt("version", e))
}

pub(crate) fn child_id(raw: &str) -> Result<ChildId, StoreError> {
    ChildId::parse(raw).map_err(|e| corrupt("child id", e))
}

pub(crate) fn case_id(raw: &str) -> Result<CaseId, StoreError> {
    CaseId::parse(raw).map_err(|e| corrupt("case id", e))
}

#[derive(Debug, sqlx::FromRow)]
pub struct SiteRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub out_of_hours: Option<String>,
    pub school_dsl_name: Option<String>,
    pub school_dsl_contact: Option<String>,
    pub active: bool,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The columns of [`SiteRow`], for `SELECT … FROM sites` and `RETURNING`.
pub(crate) const SITE_COLUMNS: &str = "id, name, kind, address, phone, out_of_hours, \
    school_dsl_name, school_dsl_contact, active, version, created_at, updated_at";

impl TryFrom<SiteRow> for Site {
    type Error = StoreError;

    fn try_from(row: SiteRow) -> Result<Self, StoreError> {
        Ok(Site {
            id: SiteId::parse(&row.id).map_err(|e| corrupt("site id", e))?,
            details: SiteDetails {
                name: row.name,
                kind: SiteKind::parse(&row.kind).map_err(|e| corrupt("site kind", e))?,
                address: row.address,
                phone: row.phone,
                out_of_hours: row.out_of_hours,
                school_dsl_name: row.school_dsl_name,
                school_dsl_contact: row.school_dsl_contact,
            },
            active: row.active,
            version: version(row.version)?,
            created_at: from_micros(row.created_at)?,
            updated_at: from_micros(row.updated_at)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct RoomRow {
    pub id: String,
    pub site_id: String,
    pub name: String,
    pub capacity: i64,
    pub step_free: bool,
    pub accessibility_notes: Option<String>,
    pub active: bool,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The columns of [`RoomRow`], for `SELECT … FROM rooms` and `RETURNING`.
pub(crate) const ROOM_COLUMNS: &str = "id, site_id, name, capacity, step_free, \
    accessibility_notes, active, version, created_at, updated_at";

/// The same, for `FROM rooms r JOIN sites s`.
pub(crate) const ROOM_COLUMNS_R: &str = "r.id, r.site_id, r.name, r.capacity, r.step_free, \
    r.accessibility_notes, r.active, r.version, r.created_at, r.updated_at";

impl TryFrom<RoomRow> for Room {
    type Error = StoreError;

    fn try_from(row: RoomRow) -> Result<Self, StoreError> {
        Ok(Room {
            id: RoomId::parse(&row.id).map_err(|e| corrupt("room id", e))?,
            site_id: SiteId::parse(&row.site_id).map_err(|e| corrupt("site id", e))?,
            details: RoomDetails {
                name: row.name,
                capacity: u16::try_from(row.capacity).map_err(|e| corrupt("room capacity", e))?,
                step_free: row.step_free,
                accessibility_notes: row.accessibility_notes,
            },
            active: row.active,
            version: version(row.version)?,
            created_at: from_micros(row.created_at)?,
            updated_at: from_micros(row.updated_at)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct ChildRow {
    pub id: String,
    pub details: Vec<u8>,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The columns of [`ChildRow`], for `SELECT … FROM children` and `RETURNING`.
pub(crate) const CHILD_COLUMNS: &str = "id, details, version, created_at, updated_at";

impl TryFrom<ChildRow> for StoredChild {
    type Error = StoreError;

    fn try_from(row: ChildRow) -> Result<Self, StoreError> {
        Ok(StoredChild {
            id: child_id(&row.id)?,
            sealed_details: Sealed::from_stored(row.details),
            version: version(row.version)?,
            created_at: from_micros(row.created_at)?,
            updated_at: from_micros(row.updated_at)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct CarerRow {
    pub id: String,
    pub child_id: String,
    pub details: Vec<u8>,
    pub active: bool,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The columns of [`CarerRow`], for `SELECT … FROM carers` and `RETURNING`.
pub(crate) const CARER_COLUMNS: &str =
    "id, child_id, details, active, version, created_at, updated_at";

impl TryFrom<CarerRow> for StoredCarer {
    type Error = StoreError;

    fn try_from(row: CarerRow) -> Result<Self, StoreError> {
        Ok(StoredCarer {
            id: CarerId::parse(&row.id).map_err(|e| corrupt("carer id", e))?,
            child_id: child_id(&row.child_id)?,
            sealed_details: Sealed::from_stored(row.details),
            active: row.active,
            version: version(row.version)?,
            created_at: from_micros(row.created_at)?,
            updated_at: from_micros(row.updated_at)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct CaseRow {
    pub id: String,
    pub child_id: String,
    pub number: i64,
    pub referral_source: String,
    pub referral_received: String,
    pub first_seen: Option<String>,
    pub referral_reason: Option<Vec<u8>>,
    pub closed_on: Option<String>,
    pub closure_reason: Option<String>,
    pub closing_summary: Option<Vec<u8>>,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The columns of [`CaseRow`], for `SELECT … FROM cases` and `RETURNING`.
pub(crate) const CASE_COLUMNS: &str = "id, child_id, number, referral_source, \
    referral_received, first_seen, referral_reason, closed_on, closure_reason, closing_summary, \
    version, created_at, updated_at";

impl CaseRow {
    /// The case as stored, with `team` (its memberships, in order).
    pub(crate) fn into_stored(self, team: Vec<Membership>) -> Result<StoredCase, StoreError> {
        let closure = match (self.closed_on.as_deref(), self.closure_reason.as_deref()) {
            (None, None) => None,
            (Some(closed_on), Some(reason)) => Some(Closure {
                closed_on: date("closing date", closed_on)?,
                reason: ClosureReason::parse(reason).map_err(|e| corrupt("closure reason", e))?,
            }),
            _ => {
                return Err(corrupt(
                    "case closure",
                    "a closing date and a reason go together",
                ));
            }
        };
        Ok(StoredCase {
            case: Case {
                id: case_id(&self.id)?,
                child_id: child_id(&self.child_id)?,
                number: self.number,
                details: CaseDetails {
                    referral_source: ReferralSource::parse(&self.referral_source)
                        .map_err(|e| corrupt("referral source", e))?,
                    referral_received: date("referral date", &self.referral_received)?,
                    first_seen: optional_date("first-seen date", self.first_seen.as_deref())?,
                },
                closure,
                team,
                version: version(self.version)?,
                created_at: from_micros(self.created_at)?,
                updated_at: from_micros(self.updated_at)?,
            },
            sealed_reason: self.referral_reason.map(Sealed::from_stored),
            sealed_summary: self.closing_summary.map(Sealed::from_stored),
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct MemberRow {
    pub id: String,
    pub case_id: String,
    pub user_id: String,
    pub role: String,
    pub starts_on: String,
    pub ends_on: Option<String>,
}

/// The columns of [`MemberRow`], for `SELECT … FROM case_members`.
pub(crate) const MEMBER_COLUMNS: &str = "id, case_id, user_id, role, starts_on, ends_on";

/// How a case's team is ordered, wherever it is read.
pub(crate) const MEMBER_ORDER: &str = "starts_on, role, id";

impl TryFrom<MemberRow> for Membership {
    type Error = StoreError;

    fn try_from(row: MemberRow) -> Result<Self, StoreError> {
        Ok(Membership {
            id: MembershipId::parse(&row.id).map_err(|e| corrupt("membership id", e))?,
            case_id: case_id(&row.case_id)?,
            user_id: user_id(&row.user_id)?,
            role: TeamRole::parse(&row.role).map_err(|e| corrupt("team role", e))?,
            starts_on: date("membership start", &row.starts_on)?,
            ends_on: optional_date("membership end", row.ends_on.as_deref())?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct SupervisionRow {
    pub supervisee_id: String,
    pub named_access: bool,
}

// ---- Tasks, notices, firings, nudges and imported bank holidays ----

/// A subject's three columns: the child (if any), the record's type and id. A subject is
/// stored whole or not at all.
fn subject(
    child: Option<&str>,
    record_type: Option<String>,
    record_id: Option<String>,
) -> Result<Option<Subject>, StoreError> {
    match (record_type, record_id) {
        (Some(record_type), Some(record_id)) => Ok(Some(Subject {
            child: child.map(child_id).transpose()?,
            record_type,
            record_id,
        })),
        (None, None) if child.is_none() => Ok(None),
        _ => Err(corrupt(
            "subject",
            "a child, a record type and a record id go together",
        )),
    }
}

/// The columns a subject is stored in: child, record type, record id.
pub(crate) fn subject_columns(
    subject: Option<&Subject>,
) -> (Option<String>, Option<String>, Option<String>) {
    match subject {
        Some(s) => (
            s.child.map(|c| c.to_string()),
            Some(s.record_type.clone()),
            Some(s.record_id.clone()),
        ),
        None => (None, None, None),
    }
}

fn rule(raw: &str) -> Result<Rule, StoreError> {
    Rule::parse(raw).map_err(|e| corrupt("rule", e))
}

pub(crate) fn task_id(raw: &str) -> Result<TaskId, StoreError> {
    TaskId::parse(raw).map_err(|e| corrupt("task id", e))
}

fn uuid(what: &str, raw: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(raw).map_err(|e| corrupt(what, e))
}

#[derive(Debug, sqlx::FromRow)]
pub struct FiringRow {
    pub id: String,
    pub rule: String,
    pub fire_at: i64,
    pub recipient: String,
    pub subject_child: Option<String>,
    pub subject_type: Option<String>,
    pub subject_id: Option<String>,
    pub reference: String,
    pub dedupe_key: String,
}

/// The columns of [`FiringRow`], for `SELECT … FROM firings` and `RETURNING`.
pub(crate) const FIRING_COLUMNS: &str = "id, rule, fire_at, recipient, subject_child, \
    subject_type, subject_id, reference, dedupe_key";

impl TryFrom<FiringRow> for NewFiring {
    type Error = StoreError;

    fn try_from(row: FiringRow) -> Result<Self, StoreError> {
        Ok(NewFiring {
            id: FiringId::parse(&row.id).map_err(|e| corrupt("firing id", e))?,
            rule: rule(&row.rule)?,
            fire_at: from_micros(row.fire_at)?,
            recipient: Recipient::parse(&row.recipient).map_err(|e| corrupt("recipient", e))?,
            subject: subject(
                row.subject_child.as_deref(),
                row.subject_type,
                row.subject_id,
            )?,
            reference: row.reference,
            dedupe_key: row.dedupe_key,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct TaskRow {
    pub id: String,
    pub kind: String,
    pub rule: String,
    pub owner_id: String,
    pub title: String,
    pub subject_child: Option<String>,
    pub subject_type: Option<String>,
    pub subject_id: Option<String>,
    pub due_at: Option<i64>,
    pub escalation_level: i64,
    pub done_at: Option<i64>,
    pub done_by: Option<String>,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The columns of [`TaskRow`], for `SELECT … FROM tasks` and `RETURNING`.
pub(crate) const TASK_COLUMNS: &str = "id, kind, rule, owner_id, title, subject_child, \
    subject_type, subject_id, due_at, escalation_level, done_at, done_by, version, created_at, \
    updated_at";

impl TryFrom<TaskRow> for Task {
    type Error = StoreError;

    fn try_from(row: TaskRow) -> Result<Self, StoreError> {
        Ok(Task {
            id: task_id(&row.id)?,
            kind: TaskKind::parse(&row.kind).map_err(|e| corrupt("task kind", e))?,
            rule: rule(&row.rule)?,
            owner: user_id(&row.owner_id)?,
            title: row.title,
            subject: subject(
                row.subject_child.as_deref(),
                row.subject_type,
                row.subject_id,
            )?,
            due_at: optional_micros(row.due_at)?,
            escalation_level: u32::try_from(row.escalation_level)
                .map_err(|e| corrupt("escalation level", e))?,
            done_at: optional_micros(row.done_at)?,
            done_by: row.done_by.as_deref().map(user_id).transpose()?,
            version: version(row.version)?,
            created_at: from_micros(row.created_at)?,
            updated_at: from_micros(row.updated_at)?,
        })
    }
}

/// Why a versioned change of a task matched no row: its version, and whether it is done.
#[derive(Debug, sqlx::FromRow)]
pub struct TaskStateRow {
    pub version: i64,
    pub done_at: Option<i64>,
}

#[derive(Debug, sqlx::FromRow)]
pub struct CommentRow {
    pub id: String,
    pub task_id: String,
    pub author_id: String,
    pub text: Vec<u8>,
    pub created_at: i64,
}

/// The columns of [`CommentRow`], for `SELECT … FROM task_comments`.
pub(crate) const COMMENT_COLUMNS: &str = "id, task_id, author_id, text, created_at";

impl TryFrom<CommentRow> for StoredComment {
    type Error = StoreError;

    fn try_from(row: CommentRow) -> Result<Self, StoreError> {
        Ok(StoredComment {
            id: uuid("comment id", &row.id)?,
            task_id: task_id(&row.task_id)?,
            author: user_id(&row.author_id)?,
            sealed_text: Sealed::from_stored(row.text),
            created_at: from_micros(row.created_at)?,
        })
    }
}

/// A claimed nudge: its id and whom it is for.
#[derive(Debug, sqlx::FromRow)]
pub struct NudgeRow {
    pub id: String,
    pub user_id: String,
}

impl NudgeRow {
    pub(crate) fn into_pair(self) -> Result<(Uuid, UserId), StoreError> {
        Ok((uuid("nudge id", &self.id)?, user_id(&self.user_id)?))
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct HolidayRow {
    pub division: String,
    pub date: String,
    pub title: String,
}

impl TryFrom<HolidayRow> for StoredHoliday {
    type Error = StoreError;

    fn try_from(row: HolidayRow) -> Result<Self, StoreError> {
        Ok(StoredHoliday {
            date: date("bank holiday", &row.date)?,
            division: row.division,
            title: row.title,
        })
    }
}
