//! The storage interface. Two implementations exist (SQLite and PostgreSQL) and a conformance
//! suite runs the same tests against both.
//!
//! Each method that writes is one transaction: it either happens whole or not at all.

use alliance_core::audit::{self, ChainKey};
use alliance_core::auth::TokenScope;
use alliance_core::cases::{Case, CaseDetails, CaseId, Closure, Membership, MembershipId};
use alliance_core::children::{CarerId, ChildId};
use alliance_core::crypto::Sealed;
use alliance_core::directory::{Room, RoomDetails, RoomId, Site, SiteDetails, SiteId};
use alliance_core::identity::{Role, User, UserDetails, UserId, Username};
use alliance_core::schedule::{Attendance, Booking, BookingId, Clash, Slot, TermCalendar};
use alliance_core::tasks::{FiringId, Recipient, Rule, Subject, Task, TaskId, TaskKind};
use alliance_core::{Page, PageRequest, ServiceProfile, Version, service::ServiceDetails};
use async_trait::async_trait;
use jiff::Timestamp;
use jiff::civil::Date;
use uuid::Uuid;

/// Which database engine holds the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    Sqlite,
    Postgres,
}

impl DatabaseKind {
    pub fn name(self) -> &'static str {
        match self {
            DatabaseKind::Sqlite => "sqlite",
            DatabaseKind::Postgres => "postgresql",
        }
    }
}

/// How the database's schema compares with the migrations this binary carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaStatus {
    /// The newest migration applied to the database (0 for an empty database).
    pub applied: i64,
    /// The newest migration this binary knows.
    pub known: i64,
}

impl SchemaStatus {
    pub fn is_current(self) -> bool {
        self.applied == self.known
    }
}

/// What can go wrong in storage, in the terms the use-cases act on. No driver types leak out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// The record already exists, or a uniqueness rule would be broken.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The update was made against an older version of the record.
    #[error("the record has changed since it was read (now version {})", .current.get())]
    Stale { current: Version },
    /// The database could not be reached or refused the connection.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// The schema is not what this binary expects (too old or too new).
    #[error("{0}")]
    Schema(String),
    #[error("storage failed: {0}")]
    Other(String),
}

/// Everything Alliance stores, one trait per area so each area's implementation stands alone.
pub trait Store:
    SystemStore
    + ServiceStore
    + AccountStore
    + SessionStore
    + TokenStore
    + AuditStore
    + DirectoryStore
    + ChildStore
    + TaskStore
    + CalendarStore
    + BookingStore
    + SettingsStore
    + FeedStore
    + ExplanationStore
    + AgreementStore
    + SessionRecordStore
    + ProcessNoteStore
    + ContactLogStore
    + SupervisionStore
    + ConcernStore
    + TransferStore
    + BreakGlassStore
    + RetentionStore
    + SubjectAccessStore
    + EmergencyStore
    + SiteEmergencyStore
    + DisruptionStore
    + RoomCareStore
    + MeasureStore
    + FeedbackStore
    + GoalStore
{
}

impl<T> Store for T where
    T: SystemStore
        + ServiceStore
        + AccountStore
        + SessionStore
        + TokenStore
        + AuditStore
        + DirectoryStore
        + ChildStore
        + TaskStore
        + CalendarStore
        + BookingStore
        + SettingsStore
        + FeedStore
        + ExplanationStore
        + AgreementStore
        + SessionRecordStore
        + ProcessNoteStore
        + ContactLogStore
        + SupervisionStore
        + ConcernStore
        + TransferStore
        + BreakGlassStore
        + RetentionStore
        + SubjectAccessStore
        + EmergencyStore
        + SiteEmergencyStore
        + DisruptionStore
        + RoomCareStore
        + MeasureStore
        + FeedbackStore
        + GoalStore
{
}

/// Audit entries to append in the same transaction as the change they record (or alone, for
/// reads and refusals). A response is sent only after its entries are durable.
pub struct AuditBatch<'a> {
    pub key: &'a ChainKey,
    pub events: Vec<audit::Event>,
    pub origin: audit::Origin,
    pub at: Timestamp,
    /// What the change schedules (tasks and notices to raise), stored in the same
    /// transaction, so a change and its follow-ups happen together or not at all.
    pub follow_ups: Vec<NewFiring>,
}

#[async_trait]
pub trait AuditStore: Send + Sync + 'static {
    /// Appends the batch's entries onto the chain, in one transaction; returns the new head.
    async fn append_audit(&self, batch: &AuditBatch<'_>) -> Result<audit::Head, StoreError>;

    /// The newest entry as the database records it.
    async fn audit_head(&self) -> Result<audit::Head, StoreError>;

    /// The head as last recorded outside the database (SQLite: a file beside it), if any.
    fn audit_witness(&self) -> Result<Option<audit::Head>, StoreError>;

    /// Entries after `after_seq`, in order, at most `limit`.
    async fn audit_entries(
        &self,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<audit::Entry>, StoreError>;

    /// The entries an audit page asks for, newest first, at most `query.limit`: by child, by
    /// actor, by action, only the categories named (none named: nothing), in a time window,
    /// before a sequence number (the page's cursor).
    async fn audit_trail(&self, query: &AuditQuery) -> Result<Vec<audit::Entry>, StoreError>;
}

/// What an audit page asks storage for (see [`AuditStore::audit_trail`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only rows naming this child.
    pub child: Option<ChildId>,
    /// Only rows by this person.
    pub actor: Option<UserId>,
    pub action: Option<audit::Action>,
    /// Only rows of these categories; an empty list selects nothing.
    pub categories: Vec<audit::Category>,
    /// At or after this instant.
    pub from: Option<Timestamp>,
    /// Before this instant.
    pub until: Option<Timestamp>,
    /// Only rows older than this one (the cursor of the page before).
    pub before_seq: Option<i64>,
    pub limit: i64,
}

#[async_trait]
pub trait SystemStore: Send + Sync + 'static {
    fn kind(&self) -> DatabaseKind;

    /// A cheap round trip to the database, for health checks.
    async fn ping(&self) -> Result<(), StoreError>;

    async fn schema_status(&self) -> Result<SchemaStatus, StoreError>;

    /// True when the database holds no service and no users, so demo data may go into it.
    async fn is_empty(&self) -> Result<bool, StoreError>;
}

#[async_trait]
pub trait ServiceStore: Send + Sync + 'static {
    async fn service_profile(&self) -> Result<Option<ServiceProfile>, StoreError>;

    /// Creates the service's record; a [`StoreError::Conflict`] if one exists already.
    async fn create_service_profile(
        &self,
        details: &ServiceDetails,
        is_demo: bool,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<ServiceProfile, StoreError>;

    /// Changes the service's details if `expected` is still its version.
    async fn update_service_profile(
        &self,
        details: &ServiceDetails,
        expected: Version,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<ServiceProfile, StoreError>;
}

/// A new account, ready to store.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: UserId,
    pub username: Username,
    pub details: UserDetails,
    pub password_hash: String,
}

/// What signing in checks against. Never leaves the service layer.
#[derive(Clone)]
pub struct Credentials {
    pub password_hash: String,
    pub totp_secret: Option<Sealed>,
    pub totp_last_step: Option<i64>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials(..)")
    }
}

/// Filters for the list of users.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub role: Option<Role>,
    pub active: Option<bool>,
    /// Part of a username or display name, case-insensitive.
    pub search: Option<String>,
}

#[async_trait]
pub trait AccountStore: Send + Sync + 'static {
    async fn count_users(&self) -> Result<i64, StoreError>;

    /// A [`StoreError::Conflict`] when the username is taken.
    async fn create_user(
        &self,
        user: &NewUser,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<User, StoreError>;

    /// The first-run setup, in one transaction: the code must be valid and unexpired and no
    /// user may exist; the service is created too when `service` is given. The code is spent.
    /// [`StoreError::NotFound`] for a bad code, [`StoreError::Conflict`] once a user exists.
    async fn create_first_user(
        &self,
        user: &NewUser,
        setup_code_hash: &str,
        service: Option<&ServiceDetails>,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<User, StoreError>;

    async fn user(&self, id: UserId) -> Result<Option<User>, StoreError>;

    async fn user_by_username(
        &self,
        username: &Username,
    ) -> Result<Option<(User, Credentials)>, StoreError>;

    async fn credentials(&self, id: UserId) -> Result<Option<Credentials>, StoreError>;

    async fn list_users(
        &self,
        filter: &UserFilter,
        page: &PageRequest,
    ) -> Result<Page<User>, StoreError>;

    /// Changes an account's details at `expected`. When the roles change, the user's sessions
    /// and API tokens end in the same transaction.
    async fn update_user(
        &self,
        id: UserId,
        details: &UserDetails,
        expected: Version,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<User, StoreError>;

    /// Deactivating ends the user's sessions and tokens in the same transaction.
    async fn set_user_active(
        &self,
        id: UserId,
        active: bool,
        expected: Version,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<User, StoreError>;

    /// Sets a new password hash and ends every session and token of the user.
    async fn set_password(
        &self,
        id: UserId,
        password_hash: &str,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<User, StoreError>;

    /// Enrols (`Some`) or removes (`None`) the second factor, replacing the recovery codes.
    /// Removing it ends the user's sessions.
    async fn set_second_factor(
        &self,
        id: UserId,
        sealed_secret: Option<&Sealed>,
        recovery_code_hashes: &[String],
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<User, StoreError>;

    /// Records that the TOTP code of `step` was used; false when that step or a later one
    /// was used already (a replay), whichever process saw it.
    async fn accept_totp_step(&self, id: UserId, step: i64) -> Result<bool, StoreError>;

    /// Spends a recovery code; false when it is unknown or spent.
    async fn use_recovery_code(
        &self,
        id: UserId,
        code_hash: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError>;

    /// Replaces whom `supervisor` supervises; each with whether named access is enabled.
    async fn set_supervisees(
        &self,
        supervisor: UserId,
        supervisees: &[(UserId, bool)],
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError>;

    async fn supervisees(&self, supervisor: UserId) -> Result<Vec<UserId>, StoreError>;

    /// Replaces any first-run setup code with this one.
    async fn replace_setup_code(
        &self,
        code_hash: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError>;
}

/// A sign-in session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub token_hash: String,
    pub user_id: UserId,
    pub csrf_token: String,
    pub second_factor_done: bool,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub user_agent: String,
    pub address: String,
    pub ended_at: Option<Timestamp>,
}

/// Recent sign-in failures for one account name and one address.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FailureCounts {
    pub account: u32,
    pub account_latest: Option<Timestamp>,
    pub address: u32,
    pub address_latest: Option<Timestamp>,
}

/// A form kept, sealed, from a submit on an expired session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResumeDraft {
    pub token_hash: String,
    pub user_id: UserId,
    pub path: String,
    pub sealed_form: Sealed,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

#[async_trait]
pub trait SessionStore: Send + Sync + 'static {
    async fn create_session(
        &self,
        session: &SessionRecord,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError>;

    async fn session(&self, token_hash: &str) -> Result<Option<SessionRecord>, StoreError>;

    async fn touch_session(&self, token_hash: &str, now: Timestamp) -> Result<(), StoreError>;

    /// Ends `old` and starts `new` in one transaction (a new token at a change of privilege).
    async fn rotate_session(
        &self,
        old_token_hash: &str,
        new: &SessionRecord,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError>;

    async fn end_session(
        &self,
        token_hash: &str,
        reason: &str,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError>;

    /// Ends every open session of the user; returns how many.
    async fn end_user_sessions(
        &self,
        user: UserId,
        reason: &str,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<u64, StoreError>;

    /// The user's open sessions, newest first.
    async fn user_sessions(&self, user: UserId) -> Result<Vec<SessionRecord>, StoreError>;

    async fn record_login_failure(
        &self,
        account_key: &str,
        address: &str,
        now: Timestamp,
    ) -> Result<(), StoreError>;

    async fn login_failures(
        &self,
        account_key: &str,
        address: &str,
        since: Timestamp,
    ) -> Result<FailureCounts, StoreError>;

    async fn clear_login_failures(&self, account_key: &str) -> Result<(), StoreError>;

    async fn save_resume_draft(&self, draft: &ResumeDraft) -> Result<(), StoreError>;

    async fn resume_draft(&self, token_hash: &str) -> Result<Option<ResumeDraft>, StoreError>;

    async fn delete_resume_draft(&self, token_hash: &str) -> Result<(), StoreError>;
}

/// An API token as stored (its secret only as a hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub id: Uuid,
    pub user_id: UserId,
    pub name: String,
    pub token_hash: String,
    pub scope: TokenScope,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

#[async_trait]
pub trait TokenStore: Send + Sync + 'static {
    async fn create_token(
        &self,
        token: &TokenRecord,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError>;

    async fn token(&self, token_hash: &str) -> Result<Option<TokenRecord>, StoreError>;

    /// The user's tokens that are neither revoked nor expired.
    async fn user_tokens(
        &self,
        user: UserId,
        now: Timestamp,
    ) -> Result<Vec<TokenRecord>, StoreError>;

    /// False when the token is not the user's, or already revoked.
    async fn revoke_token(
        &self,
        user: UserId,
        id: Uuid,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<bool, StoreError>;

    async fn touch_token(&self, id: Uuid, now: Timestamp) -> Result<(), StoreError>;
}

/// A database's schema described in engine-neutral terms, so the SQLite and PostgreSQL
/// migrations can be checked to stay in step. Every list is sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemaInventory {
    pub tables: Vec<TableInventory>,
    /// Named triggers as (table, trigger).
    pub triggers: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableInventory {
    pub name: String,
    pub columns: Vec<ColumnInventory>,
    /// The primary key's columns in order.
    pub primary_key: Vec<String>,
    /// Unique constraints and unique indexes, as their column lists.
    pub unique: Vec<Vec<String>>,
    /// Named, non-unique indexes as (name, columns).
    pub indexes: Vec<(String, Vec<String>)>,
    pub foreign_keys: Vec<ForeignKeyInventory>,
    /// Named check constraints.
    pub checks: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ForeignKeyInventory {
    pub columns: Vec<String>,
    pub target_table: String,
    pub target_columns: Vec<String>,
    /// `no action`, `restrict`, `cascade`, `set null` or `set default`.
    pub on_delete: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ColumnInventory {
    pub name: String,
    /// One of `text`, `bigint`, `boolean`, `bytes`, `double`.
    pub kind: String,
    pub nullable: bool,
}

#[async_trait]
pub trait DirectoryStore: Send + Sync + 'static {
    /// A [`StoreError::Conflict`] when another site has the name.
    async fn create_site(
        &self,
        id: SiteId,
        details: &SiteDetails,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<Site, StoreError>;

    async fn update_site(
        &self,
        id: SiteId,
        details: &SiteDetails,
        active: bool,
        expected: Version,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<Site, StoreError>;

    async fn site(&self, id: SiteId) -> Result<Option<Site>, StoreError>;

    /// Every site, by name (a service has tens, not thousands).
    async fn sites(&self) -> Result<Vec<Site>, StoreError>;

    /// A [`StoreError::Conflict`] when the site has a room of that name.
    async fn create_room(
        &self,
        id: RoomId,
        site: SiteId,
        details: &RoomDetails,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<Room, StoreError>;

    async fn update_room(
        &self,
        id: RoomId,
        details: &RoomDetails,
        active: bool,
        expected: Version,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<Room, StoreError>;

    async fn room(&self, id: RoomId) -> Result<Option<Room>, StoreError>;

    /// Rooms by site name and room name; of one site when `site` is given.
    async fn rooms(&self, site: Option<SiteId>) -> Result<Vec<Room>, StoreError>;
}

/// A child's row as storage holds it: the details only sealed (under the child's identity
/// key, bound to `children.details` and the child's id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredChild {
    pub id: ChildId,
    pub sealed_details: Sealed,
    pub version: Version,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Keyed hashes of a child's identifiers, so a duplicate NHS number or UPN is found (and a
/// child found by one) without storing the identifier readably.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChildLookups {
    pub nhs_number: Option<String>,
    pub upn: Option<String>,
}

/// A carer's row: the details sealed under the child's identity key (`carers.details`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCarer {
    pub id: CarerId,
    pub child_id: ChildId,
    pub sealed_details: Sealed,
    pub active: bool,
    pub version: Version,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A case's row: dates and codes readable; the referral reason and the closing summary
/// sealed under the child's clinical key (`cases.referral_reason`, `cases.closing_summary`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCase {
    pub case: Case,
    pub sealed_reason: Option<Sealed>,
    pub sealed_summary: Option<Sealed>,
}

/// A new case, ready to store. Its number is given by storage.
#[derive(Debug, Clone)]
pub struct NewCase {
    pub id: CaseId,
    pub child_id: ChildId,
    pub details: CaseDetails,
    pub sealed_reason: Option<Sealed>,
    /// The lead therapist, if one is allocated at once.
    pub lead: Option<Membership>,
}

/// What to do with a case's referral reason on an update: an administrator's update keeps
/// it (they may not see it), the team's sets it.
#[derive(Debug, Clone)]
pub enum ReasonUpdate {
    Keep,
    Set(Option<Sealed>),
}

/// A change to a case's team, in one transaction with the case's version check.
#[derive(Debug, Clone)]
pub enum TeamChange {
    Add(Membership),
    /// Ends a membership on `ends_on` (the first day they are off the team).
    End {
        membership: MembershipId,
        ends_on: Date,
    },
    /// Ends the lead's membership and starts the new lead's, the same day.
    Transfer {
        from: MembershipId,
        to: Membership,
    },
}

/// Which children a list selects, before the access policy looks at each one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChildSelection {
    All,
    /// Children whose newest case has one of `members` on its team on `today`.
    TeamsOf {
        members: Vec<UserId>,
        today: Date,
    },
}

/// A child for a list: the row and every case (newest first), to work out each reader's
/// standing without another round trip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildListing {
    pub child: StoredChild,
    pub cases: Vec<Case>,
}

#[async_trait]
pub trait ChildStore: Send + Sync + 'static {
    /// A [`StoreError::Conflict`] naming `children_nhs_lookup_key` or `children_upn_lookup_key`
    /// when a child with that identifier is already recorded.
    async fn create_child(
        &self,
        child: &StoredChild,
        lookups: &ChildLookups,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredChild, StoreError>;

    async fn update_child(
        &self,
        id: ChildId,
        sealed_details: &Sealed,
        lookups: &ChildLookups,
        expected: Version,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredChild, StoreError>;

    async fn child(&self, id: ChildId) -> Result<Option<StoredChild>, StoreError>;

    /// The child with this NHS-number or UPN lookup hash, if any.
    async fn child_by_lookup(&self, lookup: &str) -> Result<Option<ChildId>, StoreError>;

    /// The selected children, each with its cases, in no particular order.
    async fn children(&self, selection: &ChildSelection) -> Result<Vec<ChildListing>, StoreError>;

    /// Who a supervisor supervises, and whether named access is enabled for each.
    async fn supervision_links(
        &self,
        supervisor: UserId,
    ) -> Result<Vec<(UserId, bool)>, StoreError>;

    async fn create_carer(
        &self,
        carer: &StoredCarer,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredCarer, StoreError>;

    async fn update_carer(
        &self,
        id: CarerId,
        sealed_details: &Sealed,
        active: bool,
        expected: Version,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredCarer, StoreError>;

    async fn carer(&self, id: CarerId) -> Result<Option<StoredCarer>, StoreError>;

    /// The child's carers, active first, oldest first.
    async fn carers(&self, child: ChildId) -> Result<Vec<StoredCarer>, StoreError>;

    /// Opens a case with the next case number. A [`StoreError::Conflict`] naming
    /// `cases_one_open` when the child has an open case already.
    async fn open_case(
        &self,
        case: &NewCase,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredCase, StoreError>;

    async fn update_case(
        &self,
        id: CaseId,
        details: &CaseDetails,
        reason: &ReasonUpdate,
        expected: Version,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredCase, StoreError>;

    async fn close_case(
        &self,
        id: CaseId,
        closure: &Closure,
        sealed_summary: &Sealed,
        expected: Version,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredCase, StoreError>;

    /// Changes the team and moves the case's version on, if `expected` is still current.
    async fn change_team(
        &self,
        id: CaseId,
        change: &TeamChange,
        expected: Version,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredCase, StoreError>;

    async fn case(&self, id: CaseId) -> Result<Option<StoredCase>, StoreError>;

    /// The child's cases, newest first.
    async fn cases_of(&self, child: ChildId) -> Result<Vec<StoredCase>, StoreError>;
}

/// A task or notice to raise at `fire_at` (now, for most), by a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFiring {
    pub id: FiringId,
    pub rule: Rule,
    pub fire_at: Timestamp,
    pub recipient: Recipient,
    pub subject: Option<Subject>,
    /// What the title names (a case number): never a name.
    pub reference: String,
    /// The same key is never fired twice (a rule registered twice for the same thing).
    pub dedupe_key: String,
}

/// A new task or notice, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTask {
    pub id: TaskId,
    pub rule: Rule,
    pub owner: UserId,
    pub title: String,
    pub subject: Option<Subject>,
    pub due_at: Option<Timestamp>,
}

/// Filters for a person's inbox.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TaskFilter {
    /// Only what is still open (not completed, not read).
    pub open_only: bool,
    pub kind: Option<TaskKind>,
}

/// A comment as stored: the text sealed (service key `task-comments`, bound to
/// `task_comments.text` and the comment's id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredComment {
    pub id: Uuid,
    pub task_id: TaskId,
    pub author: UserId,
    pub sealed_text: Sealed,
    pub created_at: Timestamp,
}

/// A bank holiday imported into this database (the shipped ones are in the binary).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredHoliday {
    pub division: String,
    pub date: Date,
    pub title: String,
}

#[async_trait]
pub trait TaskStore: Send + Sync + 'static {
    /// Claims up to `limit` firings due by `now` that nobody holds (or whose holder's lease
    /// ran out), for `worker` until `lease_until`. Two processes never hold the same one.
    async fn claim_firings(
        &self,
        worker: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: i64,
    ) -> Result<Vec<NewFiring>, StoreError>;

    /// Raises a claimed firing's tasks, queues the nudges and marks it fired, in one
    /// transaction; false (and nothing written) when it has fired already.
    async fn fire(
        &self,
        firing: FiringId,
        tasks: &[NewTask],
        nudges: &[UserId],
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<bool, StoreError>;

    /// Open tasks due before `now` whose rule has ladder steps left (`escalation_level` below
    /// `max_level` is checked by the caller), oldest due first.
    async fn overdue_tasks(&self, now: Timestamp, limit: i64) -> Result<Vec<Task>, StoreError>;

    /// Takes escalation step `from_level` → `from_level + 1` of an open task, raising the
    /// notices and queueing the nudges; false when another process took it (or it is done).
    async fn escalate(
        &self,
        task: TaskId,
        from_level: u32,
        notices: &[NewTask],
        nudges: &[UserId],
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<bool, StoreError>;

    /// A person's tasks and notices: open first, then by due time, then newest.
    async fn tasks_for(
        &self,
        owner: UserId,
        filter: TaskFilter,
        page: &PageRequest,
    ) -> Result<Page<Task>, StoreError>;

    async fn task(&self, id: TaskId) -> Result<Option<Task>, StoreError>;

    /// Marks a task done (or a notice read) at `expected`.
    async fn complete_task(
        &self,
        id: TaskId,
        by: UserId,
        expected: Version,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<Task, StoreError>;

    /// Gives a task to someone else at `expected`, queueing their nudge.
    async fn reassign_task(
        &self,
        id: TaskId,
        to: UserId,
        expected: Version,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<Task, StoreError>;

    async fn add_comment(
        &self,
        comment: &StoredComment,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError>;

    /// A task's comments, oldest first.
    async fn comments(&self, task: TaskId) -> Result<Vec<StoredComment>, StoreError>;

    /// Claims up to `limit` queued nudges for `worker` until `lease_until`: (nudge id, user).
    async fn claim_nudges(
        &self,
        worker: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: i64,
    ) -> Result<Vec<(Uuid, UserId)>, StoreError>;

    /// A nudge went out (or was not needed).
    async fn nudge_done(&self, id: Uuid, now: Timestamp) -> Result<(), StoreError>;

    /// A nudge failed; it is tried again after `retry_at`.
    async fn nudge_failed(&self, id: Uuid, retry_at: Timestamp) -> Result<(), StoreError>;

    async fn imported_holidays(&self) -> Result<Vec<StoredHoliday>, StoreError>;

    /// Stores imported bank holidays, replacing the title of a date already stored.
    async fn import_holidays(
        &self,
        holidays: &[StoredHoliday],
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError>;
}

/// A term calendar as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCalendar {
    pub id: Uuid,
    pub site: Option<SiteId>,
    pub calendar: TermCalendar,
    pub version: Version,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[async_trait]
pub trait CalendarStore: Send + Sync + 'static {
    /// A [`StoreError::Conflict`] naming `term_calendars_name_key` or
    /// `term_calendars_site_key` when the name or the site is taken.
    async fn create_calendar(
        &self,
        id: Uuid,
        site: Option<SiteId>,
        calendar: &TermCalendar,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredCalendar, StoreError>;

    /// Replaces a calendar's name, site, terms and closures at `expected`.
    async fn update_calendar(
        &self,
        id: Uuid,
        site: Option<SiteId>,
        calendar: &TermCalendar,
        expected: Version,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredCalendar, StoreError>;

    async fn calendar(&self, id: Uuid) -> Result<Option<StoredCalendar>, StoreError>;

    /// Every calendar, by name.
    async fn calendars(&self) -> Result<Vec<StoredCalendar>, StoreError>;
}

/// A case's regular weekly slot: the frame its sessions keep to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegularSlot {
    pub case_id: CaseId,
    pub calendar_id: Uuid,
    pub room: RoomId,
    pub therapist: UserId,
    pub slot: Slot,
    pub version: Version,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A session as stored. The reason given for a change or an absence is sealed under the
/// child's identity key (`therapy_sessions.reason`, bound to the session's id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    pub booking: Booking,
    pub case_id: CaseId,
    pub child_id: ChildId,
    /// Made by the regular slot (not added or moved by hand).
    pub regular: bool,
    pub attendance: Option<Attendance>,
    pub sealed_reason: Option<Sealed>,
    pub version: Version,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A session to book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    pub booking: Booking,
    pub case_id: CaseId,
    pub child_id: ChildId,
    pub regular: bool,
}

/// A change to the frame (the agreed time and place), with its reason, for the case's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameChange {
    pub id: Uuid,
    pub case_id: CaseId,
    /// `slot-set`, `moved`, `added` or `cancelled`.
    pub what: String,
    pub session: Option<BookingId>,
    pub by: UserId,
    pub sealed_reason: Sealed,
    pub at: Timestamp,
}

/// What booking came to: done, or refused for the clashes found (nothing written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Booked<T> {
    Done(T),
    Clashed(Vec<Clash>),
}

// Each write takes the record, what changes, the version read, the frame change, the time
// and the audit batch: one argument over clippy's default.
#[allow(clippy::too_many_arguments)]
#[async_trait]
pub trait BookingStore: Send + Sync + 'static {
    /// Sets or replaces a case's regular slot (at `expected`, or new when `None`), cancels the
    /// case's regular sessions from `slot.slot.from` on that have no attendance yet, and books
    /// `sessions`, all in one transaction. Every new session is checked against the other
    /// bookings of its room and therapist while they are locked, so two requests at once
    /// never both win; on any clash nothing is written.
    async fn set_slot(
        &self,
        slot: &RegularSlot,
        expected: Option<Version>,
        sessions: &[NewSession],
        change: &FrameChange,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<Booked<RegularSlot>, StoreError>;

    async fn slot(&self, case: CaseId) -> Result<Option<RegularSlot>, StoreError>;

    /// Books one session by hand (checked the same way).
    async fn add_session(
        &self,
        session: &NewSession,
        change: &FrameChange,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<Booked<StoredSession>, StoreError>;

    /// Moves a session to another date, time or room at `expected` (checked the same way).
    async fn move_session(
        &self,
        id: BookingId,
        to: &Booking,
        expected: Version,
        change: &FrameChange,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<Booked<StoredSession>, StoreError>;

    /// Records attendance (or a cancellation, which frees the room) at `expected`.
    async fn set_attendance(
        &self,
        id: BookingId,
        attendance: &Attendance,
        sealed_reason: Option<&Sealed>,
        expected: Version,
        change: Option<&FrameChange>,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredSession, StoreError>;

    async fn booked_session(&self, id: BookingId) -> Result<Option<StoredSession>, StoreError>;

    /// The case's sessions by date and time.
    async fn sessions_of_case(&self, case: CaseId) -> Result<Vec<StoredSession>, StoreError>;

    /// Bookings (not cancelled) between two dates, inclusive, in these rooms or with these
    /// therapists: for suggesting free alternatives.
    async fn bookings_between(
        &self,
        from: Date,
        to: Date,
        rooms: &[RoomId],
        therapists: &[UserId],
    ) -> Result<Vec<Booking>, StoreError>;

    /// Every session (cancelled ones too) between two dates, inclusive, in these rooms or
    /// with these therapists, by date, time and room: for timetables and calendar feeds.
    async fn sessions_between(
        &self,
        from: Date,
        to: Date,
        rooms: &[RoomId],
        therapists: &[UserId],
    ) -> Result<Vec<StoredSession>, StoreError>;

    /// Every case's regular slot, for the scheduler's prompts about breaks and endings.
    async fn slots(&self) -> Result<Vec<RegularSlot>, StoreError>;

    /// The case's frame changes, newest first.
    async fn frame_changes(&self, case: CaseId) -> Result<Vec<FrameChange>, StoreError>;
}

/// The service's settings, each one JSON document under a name, checked by the service layer
/// when read (a document that no longer passes is an error, never used).
#[async_trait]
pub trait SettingsStore: Send + Sync + 'static {
    async fn setting(&self, name: &str) -> Result<Option<(String, Version)>, StoreError>;

    /// Writes a setting at `expected` (`None`: it must not exist yet), returning its version.
    async fn put_setting(
        &self,
        name: &str,
        document: &str,
        expected: Option<Version>,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<Version, StoreError>;
}

/// A calendar feed as stored: its secret token only as a hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedRecord {
    pub id: Uuid,
    pub user_id: UserId,
    pub token_hash: String,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// Calendar feeds: one live feed per person.
#[async_trait]
pub trait FeedStore: Send + Sync + 'static {
    /// Stores a new live feed for `feed.user_id`, revoking the live one it `replaces`, in one
    /// transaction. A [`StoreError::Conflict`] (nothing written) when the person's live feed
    /// is no longer `replaces` (another request got in first).
    async fn create_feed(
        &self,
        feed: &FeedRecord,
        replaces: Option<Uuid>,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError>;

    /// The feed whose token has this hash, live or revoked.
    async fn feed_by_token(&self, token_hash: &str) -> Result<Option<FeedRecord>, StoreError>;

    /// The person's live feed, if any.
    async fn live_feed(&self, user: UserId) -> Result<Option<FeedRecord>, StoreError>;

    /// Revokes the person's feed `id`; false (nothing written) when it is not theirs or not
    /// live.
    async fn revoke_feed(
        &self,
        user: UserId,
        id: Uuid,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<bool, StoreError>;
}

/// One version of an explanation-library text as stored. Never changed once written, except
/// for its review and publication: every version is kept, because the record must show what a
/// child was actually given.
#[derive(Debug, Clone, PartialEq)]
pub struct ExplanationVersion {
    pub id: Uuid,
    pub topic: String,
    /// The audience's code (`3-7`, …, `parents`).
    pub audience: String,
    pub language: String,
    /// False where the readability formulas do not apply (another language, easy-read).
    pub measured: bool,
    /// From 1, per topic, audience and language.
    pub number: i64,
    pub title: String,
    pub body: String,
    /// Each picture described (for the read-aloud band).
    pub pictures: Vec<String>,
    /// The version id it was copied from, or `default` for the shipped text.
    pub based_on: String,
    pub reviewed_by: Option<UserId>,
    pub reviewed_at: Option<Timestamp>,
    pub published_at: Option<Timestamp>,
    pub created_by: UserId,
    pub created_at: Timestamp,
}

impl ExplanationVersion {
    pub fn is_reviewed(&self) -> bool {
        self.reviewed_by.is_some()
    }

    pub fn is_published(&self) -> bool {
        self.published_at.is_some()
    }
}

/// A version to write; its number is the next for its topic, audience and language.
#[derive(Debug, Clone, PartialEq)]
pub struct NewExplanationVersion {
    pub id: Uuid,
    pub topic: String,
    pub audience: String,
    pub language: String,
    pub measured: bool,
    pub title: String,
    pub body: String,
    pub pictures: Vec<String>,
    pub based_on: String,
    /// Set when the version is written already reviewed (a clinician's review of a default).
    pub reviewed_by: Option<UserId>,
    pub created_by: UserId,
    pub created_at: Timestamp,
}

/// The explanation library's versions: appended, reviewed and published, never edited.
#[async_trait]
pub trait ExplanationStore: Send + Sync + 'static {
    /// Writes a new version with the next number for its topic, audience and language.
    async fn create_explanation_version(
        &self,
        version: &NewExplanationVersion,
        audit: &AuditBatch<'_>,
    ) -> Result<ExplanationVersion, StoreError>;

    /// Every version of every text, oldest first (by topic, audience, language, number).
    async fn explanation_versions(&self) -> Result<Vec<ExplanationVersion>, StoreError>;

    /// One topic and audience's versions in every language, newest first.
    async fn explanation_versions_of(
        &self,
        topic: &str,
        audience: &str,
    ) -> Result<Vec<ExplanationVersion>, StoreError>;

    async fn explanation_version(&self, id: Uuid)
    -> Result<Option<ExplanationVersion>, StoreError>;

    /// Marks a draft reviewed; false (nothing written) when it is not a draft any more.
    async fn review_explanation_version(
        &self,
        id: Uuid,
        reviewer: UserId,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<bool, StoreError>;

    /// Publishes a version (it becomes the text in use); false when it already was.
    async fn publish_explanation_version(
        &self,
        id: Uuid,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<bool, StoreError>;
}

/// A version of a case's therapy agreement as stored. The content is sealed under the
/// child's clinical key, bound to `agreements.content` and the version's id. Versions are
/// never edited: a change is a new version; only the status moves (draft, active,
/// superseded).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAgreement {
    pub id: Uuid,
    pub case_id: CaseId,
    pub child_id: ChildId,
    /// From 1, per case.
    pub number: i64,
    pub status: alliance_core::agreements::AgreementStatus,
    pub content: Sealed,
    /// The regular slot's version when this version was written (`None`: no slot then), so a
    /// later change of slot shows the agreement needs agreeing again.
    pub slot_version: Option<i64>,
    pub created_by: UserId,
    pub created_at: Timestamp,
    pub activated_by: Option<UserId>,
    pub activated_at: Option<Timestamp>,
    pub superseded_at: Option<Timestamp>,
}

/// A consent, assent, objection, decision or withdrawal as stored. What was said (the
/// child's words, the reasoning, what carers may be told, a typed name) is sealed under the
/// child's clinical key, bound to `consent_entries.detail` and the entry's id.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredConsentEntry {
    pub id: Uuid,
    pub case_id: CaseId,
    pub child_id: ChildId,
    pub kind: alliance_core::consent::EntryKind,
    pub carer_id: Option<CarerId>,
    pub agreement_id: Option<Uuid>,
    pub via: alliance_core::consent::Via,
    pub given_on: Date,
    pub detail: Sealed,
    /// Who recorded it (`None`: a carer, through a consent link).
    pub recorded_by: Option<UserId>,
    pub recorded_at: Timestamp,
}

/// The child's details to write with a consent entry (a young person's own consent records
/// what their carers may be told), if the child's version is still `expected`.
#[derive(Debug, Clone, PartialEq)]
pub struct ChildDetailsUpdate {
    pub child: ChildId,
    pub sealed_details: Sealed,
    pub expected: Version,
}

/// An item of the first-session checklist as stored. What the child said back and anything
/// to revisit are sealed under the child's clinical key (`checklist_items.words`).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredChecklistItem {
    pub id: Uuid,
    pub case_id: CaseId,
    pub child_id: ChildId,
    pub topic: String,
    pub explained_on: Date,
    /// Method codes (`spoken`, `handout`, `drawing`, `story`).
    pub methods: Vec<String>,
    /// `child`, `parent` or `both`.
    pub to_whom: String,
    pub library_version: Option<Uuid>,
    /// The age band the child was in when it was explained (its code).
    pub band: String,
    /// Whether anything is to be revisited (the note itself is sealed).
    pub revisit: bool,
    pub words: Sealed,
    pub recorded_by: UserId,
    pub recorded_at: Timestamp,
}

/// A single-use consent link, stored only as a hash of its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentLinkRecord {
    pub id: Uuid,
    pub token_hash: String,
    pub case_id: CaseId,
    pub child_id: ChildId,
    pub carer_id: CarerId,
    pub created_by: UserId,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub spent_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

impl ConsentLinkRecord {
    pub fn is_usable(&self, now: Timestamp) -> bool {
        self.spent_at.is_none() && self.revoked_at.is_none() && now < self.expires_at
    }
}

/// Therapy agreements, consent and assent, the first-session checklist and consent links.
#[async_trait]
pub trait AgreementStore: Send + Sync + 'static {
    /// Writes a new draft version. A [`StoreError::Conflict`] naming `agreements_case_number`
    /// when another version took that number first.
    async fn create_agreement(
        &self,
        agreement: &StoredAgreement,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError>;

    /// Marks draft `id` of `case` active and supersedes the case's active version, in one
    /// transaction; false (nothing written) when `id` is not a draft of that case any more.
    async fn activate_agreement(
        &self,
        case: CaseId,
        id: Uuid,
        by: UserId,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<bool, StoreError>;

    async fn agreement(&self, id: Uuid) -> Result<Option<StoredAgreement>, StoreError>;

    /// The case's versions, newest first.
    async fn agreements_of_case(&self, case: CaseId) -> Result<Vec<StoredAgreement>, StoreError>;

    /// Records an entry, and the child's details with it when given (a stale child version is
    /// a [`StoreError::Conflict`], nothing written).
    async fn record_consent(
        &self,
        entry: &StoredConsentEntry,
        child: Option<&ChildDetailsUpdate>,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError>;

    /// The case's entries, oldest first.
    async fn consent_entries(&self, case: CaseId) -> Result<Vec<StoredConsentEntry>, StoreError>;

    async fn record_checklist_item(
        &self,
        item: &StoredChecklistItem,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError>;

    /// The child's checklist items over all their cases, newest explanation first.
    async fn checklist_of_child(
        &self,
        child: ChildId,
    ) -> Result<Vec<StoredChecklistItem>, StoreError>;

    async fn create_consent_link(
        &self,
        link: &ConsentLinkRecord,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError>;

    async fn consent_link_by_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<ConsentLinkRecord>, StoreError>;

    /// The case's links, newest first.
    async fn consent_links_of_case(
        &self,
        case: CaseId,
    ) -> Result<Vec<ConsentLinkRecord>, StoreError>;

    /// Spends link `id` and records its entry, in one transaction: only while the link is
    /// unspent, unrevoked and unexpired at `now`; false (nothing written) otherwise.
    async fn use_consent_link(
        &self,
        id: Uuid,
        entry: &StoredConsentEntry,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<bool, StoreError>;

    /// Withdraws an unspent link; false when it was spent or revoked already.
    async fn revoke_consent_link(
        &self,
        id: Uuid,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<bool, StoreError>;
}

/// A session record as stored. What it says is sealed under the child's clinical key, bound
/// to `session_records.content` and the record's id; it is sealed afresh at every save.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSessionRecord {
    pub id: Uuid,
    /// The session it records (one record per session).
    pub session_id: BookingId,
    pub case_id: CaseId,
    pub child_id: ChildId,
    /// Who writes and signs it; a draft is theirs alone.
    pub author: UserId,
    pub status: alliance_core::session_records::RecordStatus,
    pub content: Sealed,
    pub version: Version,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub signed_at: Option<Timestamp>,
    /// Set while the lead shares it with the case's parent-worker.
    pub shared_at: Option<Timestamp>,
    pub shared_by: Option<UserId>,
}

/// An amendment to a signed record: the new text and the reason, sealed under the child's
/// clinical key (`session_record_amendments.content`, bound to the amendment's id). The
/// record's own content stays as it was signed.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAmendment {
    pub id: Uuid,
    pub record_id: Uuid,
    pub content: Sealed,
    pub author: UserId,
    pub created_at: Timestamp,
}

/// Session records: drafts, signing, amendments and sharing with the parent-worker.
#[async_trait]
pub trait SessionRecordStore: Send + Sync + 'static {
    /// Writes a new draft. A [`StoreError::Conflict`] naming `session_records_session` when
    /// the session has a record already.
    async fn create_session_record(
        &self,
        record: &StoredSessionRecord,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError>;

    /// Replaces a draft's content, if it is still a draft at version `expected` (a stale
    /// version is [`StoreError::Stale`]; a signed record is a [`StoreError::Conflict`] naming
    /// `session_records_signed`); the version moves on.
    async fn save_session_record_draft(
        &self,
        id: Uuid,
        content: &Sealed,
        expected: Version,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredSessionRecord, StoreError>;

    /// Signs a draft with its final content, under the same conditions as a save.
    async fn sign_session_record(
        &self,
        id: Uuid,
        content: &Sealed,
        expected: Version,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredSessionRecord, StoreError>;

    /// Adds an amendment to a signed record at version `expected` (the record's version moves
    /// on); a draft is a [`StoreError::Conflict`] naming `session_records_draft`.
    async fn amend_session_record(
        &self,
        amendment: &StoredAmendment,
        expected: Version,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredSessionRecord, StoreError>;

    /// Shares a signed record with the parent-worker (`by` set) or stops sharing (`None`).
    async fn share_session_record(
        &self,
        id: Uuid,
        by: Option<UserId>,
        expected: Version,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredSessionRecord, StoreError>;

    async fn session_record(&self, id: Uuid) -> Result<Option<StoredSessionRecord>, StoreError>;

    async fn session_record_of_session(
        &self,
        session: BookingId,
    ) -> Result<Option<StoredSessionRecord>, StoreError>;

    /// The case's records, newest first (by when they were written).
    async fn session_records_of_case(
        &self,
        case: CaseId,
    ) -> Result<Vec<StoredSessionRecord>, StoreError>;

    /// A record's amendments, oldest first.
    async fn amendments(&self, record: Uuid) -> Result<Vec<StoredAmendment>, StoreError>;
}

/// A private process note as stored: the text sealed under the child's process-notes key
/// (`process_notes.text`, bound to the note's id). Only its author ever reads it here.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredProcessNote {
    pub id: Uuid,
    pub case_id: CaseId,
    pub child_id: ChildId,
    pub author: UserId,
    pub text: Sealed,
    pub created_at: Timestamp,
}

/// Private process notes: written and read by their author alone.
#[async_trait]
pub trait ProcessNoteStore: Send + Sync + 'static {
    async fn create_process_note(
        &self,
        note: &StoredProcessNote,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError>;

    /// `author`'s notes about `child`, newest first: storage selects by author, so no other
    /// person's notes are ever loaded.
    async fn process_notes_by(
        &self,
        author: UserId,
        child: ChildId,
    ) -> Result<Vec<StoredProcessNote>, StoreError>;
}

/// A logged contact as stored: who it was with and what was shared and agreed, sealed under
/// the child's clinical key (`contact_logs.detail`, bound to the entry's id); the date, the
/// kind, whether it was with a carer (and which) and whether it needed an override are plain,
/// for the carer-review reminders and the lists.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredContact {
    pub id: Uuid,
    pub case_id: CaseId,
    pub child_id: ChildId,
    /// The carer's id for a contact with a carer; `None` for a professional.
    pub carer_id: Option<CarerId>,
    /// `meeting`, `phone-call`, ….
    pub kind: String,
    pub contacted_on: Date,
    pub overridden: bool,
    pub detail: Sealed,
    pub recorded_by: UserId,
    pub recorded_at: Timestamp,
}

/// Contact logs with carers and the professional network.
#[async_trait]
pub trait ContactLogStore: Send + Sync + 'static {
    async fn log_contact(
        &self,
        contact: &StoredContact,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError>;

    /// The case's contacts, newest first (by date, then when recorded).
    async fn contacts_of_case(&self, case: CaseId) -> Result<Vec<StoredContact>, StoreError>;
}

/// A supervision as stored: the actions agreed sealed under the service key `supervision`
/// (`supervisions.actions`, bound to the row's id); the cases by number only.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSupervision {
    pub id: Uuid,
    pub supervisor: UserId,
    pub supervisee: UserId,
    pub held_on: Date,
    pub minutes: i64,
    /// Case numbers (`C00042`).
    pub cases: Vec<String>,
    pub group: bool,
    pub actions: Sealed,
    pub created_at: Timestamp,
}

/// Supervision records.
#[async_trait]
pub trait SupervisionStore: Send + Sync + 'static {
    async fn record_supervision(
        &self,
        supervision: &StoredSupervision,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError>;

    /// Supervisions where `user` was the supervisee or the supervisor, newest first.
    async fn supervisions_of(&self, user: UserId) -> Result<Vec<StoredSupervision>, StoreError>;
}

/// Which key a safeguarding row is sealed under (kept with the row, because a concern raised
/// by look-up is sealed before the DSL knows whose it is).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SealedUnder {
    /// The child's safeguarding key (the concern's `child_id`).
    Child,
    /// The service key `safeguarding-intake`: a concern raised by look-up, before matching.
    Intake,
    /// The service key `allegations`: allegations against staff.
    Allegations,
}

impl SealedUnder {
    pub fn code(self) -> &'static str {
        match self {
            SealedUnder::Child => "child",
            SealedUnder::Intake => "intake",
            SealedUnder::Allegations => "allegations",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        match code {
            "child" => Ok(Self::Child),
            "intake" => Ok(Self::Intake),
            "allegations" => Ok(Self::Allegations),
            _ => Err(format!("unknown sealing {code:?}")),
        }
    }
}

/// A safeguarding concern or an allegation as stored. What it says (`content`, a JSON
/// [`alliance_core::safeguarding::ConcernContent`]) and the child as typed at a look-up
/// (`lookup`) are sealed, bound to `concerns.content` / `concerns.lookup` and the row's id.
/// Once submitted the row is sealed: the database refuses any change but the DSL's one
/// matching of a looked-up child (child_id from NULL, content re-sealed under that child's
/// key), and refuses deletion.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredConcern {
    pub id: alliance_core::safeguarding::ConcernId,
    pub kind: alliance_core::safeguarding::ConcernKind,
    pub status: alliance_core::safeguarding::ConcernStatus,
    /// `None` until the DSL matches a concern raised by look-up.
    pub child_id: Option<ChildId>,
    pub author: UserId,
    /// For an allegation: the member of staff it is about.
    pub subject_user: Option<UserId>,
    /// The session record it was raised from, if any.
    pub session_id: Option<BookingId>,
    /// The answer to "is the child in immediate danger?", fixed at submission.
    pub urgent: bool,
    pub sealed_under: SealedUnder,
    pub content: Sealed,
    /// Sealed under the intake key whatever `sealed_under` says.
    pub lookup: Option<Sealed>,
    pub version: Version,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub submitted_at: Option<Timestamp>,
}

/// A step recorded on a submitted concern (append-only). `detail` (a JSON
/// [`alliance_core::safeguarding::StepDetail`]) is sealed under `sealed_under`, bound to
/// `concern_steps.detail` and the step's id.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredConcernStep {
    pub id: Uuid,
    pub concern_id: alliance_core::safeguarding::ConcernId,
    pub kind: alliance_core::safeguarding::StepKind,
    pub actor: UserId,
    pub sealed_under: SealedUnder,
    pub detail: Sealed,
    /// A `shared-with-team` step's therapist (readable on purpose: their list of what was
    /// shared with them is found by it; what was shared stays in `detail`).
    pub shared_with: Option<UserId>,
    pub created_at: Timestamp,
}

/// An addendum: a correction or something learnt later, with its reason (append-only;
/// `content` sealed under `sealed_under`, bound to `concern_addenda.content` and its id).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredConcernAddendum {
    pub id: Uuid,
    pub concern_id: alliance_core::safeguarding::ConcernId,
    pub author: UserId,
    pub sealed_under: SealedUnder,
    pub content: Sealed,
    pub created_at: Timestamp,
}

/// Another child a concern involves (append-only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConcernLink {
    pub concern_id: alliance_core::safeguarding::ConcernId,
    pub child_id: ChildId,
    pub linked_by: UserId,
    pub created_at: Timestamp,
}

/// Safeguarding concerns and allegations: drafts (their author's alone), submission (sealed
/// from then on), steps, addenda and linked children, all append-only.
#[async_trait]
pub trait ConcernStore: Send + Sync + 'static {
    /// Writes a new draft.
    async fn create_concern(
        &self,
        concern: &StoredConcern,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError>;

    /// Replaces a draft's content (and look-up), if it is still a draft at version
    /// `expected` (a stale version is [`StoreError::Stale`]; a submitted concern is a
    /// [`StoreError::Conflict`] naming `concerns_submitted`); the version moves on.
    async fn save_concern_draft(
        &self,
        id: alliance_core::safeguarding::ConcernId,
        content: &Sealed,
        lookup: Option<&Sealed>,
        expected: Version,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredConcern, StoreError>;

    /// Deletes a draft; false when there is no such draft (submitted concerns are never
    /// deleted).
    async fn discard_concern_draft(
        &self,
        id: alliance_core::safeguarding::ConcernId,
        audit: &AuditBatch<'_>,
    ) -> Result<bool, StoreError>;

    /// Submits a draft at version `expected` with its final content and urgency, writing the
    /// linked children, in one transaction (the batch's follow-ups are the urgent path's and
    /// the DSL's tasks). Same conditions as a save.
    #[allow(clippy::too_many_arguments)]
    async fn submit_concern(
        &self,
        id: alliance_core::safeguarding::ConcernId,
        content: &Sealed,
        urgent: bool,
        links: &[ConcernLink],
        expected: Version,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredConcern, StoreError>;

    /// The DSL matches a concern raised by look-up to a child: sets `child_id` (only while it
    /// is `None`), the content re-sealed under the child's key, and writes the step, in one
    /// transaction; a concern already matched is a [`StoreError::Conflict`] naming
    /// `concerns_matched`.
    async fn match_concern(
        &self,
        id: alliance_core::safeguarding::ConcernId,
        child: ChildId,
        content: &Sealed,
        step: &StoredConcernStep,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredConcern, StoreError>;

    async fn concern(
        &self,
        id: alliance_core::safeguarding::ConcernId,
    ) -> Result<Option<StoredConcern>, StoreError>;

    /// Everything one person raised (drafts too), newest first.
    async fn concerns_by_author(&self, author: UserId) -> Result<Vec<StoredConcern>, StoreError>;

    /// The submitted concerns (kind `concern`) about a child or linked to them, newest first.
    async fn concerns_of_child(&self, child: ChildId) -> Result<Vec<StoredConcern>, StoreError>;

    /// Submitted concerns or allegations of `kind` that have no `acknowledged` step yet,
    /// urgent first, then oldest first.
    async fn unacknowledged_concerns(
        &self,
        kind: alliance_core::safeguarding::ConcernKind,
    ) -> Result<Vec<StoredConcern>, StoreError>;

    /// The newest `limit` submitted concerns or allegations of `kind`, newest first.
    async fn recent_concerns(
        &self,
        kind: alliance_core::safeguarding::ConcernKind,
        limit: i64,
    ) -> Result<Vec<StoredConcern>, StoreError>;

    /// Appends a step (with the batch's follow-ups), and in the same transaction marks done
    /// every open task of the rules in `closes` whose subject is this concern (record type
    /// `concern` or `allegation`, record id the concern's id), done by the step's actor.
    /// Returns how many tasks it closed.
    async fn add_concern_step(
        &self,
        step: &StoredConcernStep,
        closes: &[Rule],
        audit: &AuditBatch<'_>,
    ) -> Result<u64, StoreError>;

    /// A concern's steps, oldest first.
    async fn concern_steps(
        &self,
        concern: alliance_core::safeguarding::ConcernId,
    ) -> Result<Vec<StoredConcernStep>, StoreError>;

    async fn add_concern_addendum(
        &self,
        addendum: &StoredConcernAddendum,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError>;

    /// A concern's addenda, oldest first.
    async fn concern_addenda(
        &self,
        concern: alliance_core::safeguarding::ConcernId,
    ) -> Result<Vec<StoredConcernAddendum>, StoreError>;

    /// Links another child, with the step that records it; a child already linked is a
    /// [`StoreError::Conflict`] naming `concern_links_pkey`.
    async fn link_concern_child(
        &self,
        link: &ConcernLink,
        step: &StoredConcernStep,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError>;

    /// The children a concern is linked to, oldest link first.
    async fn concern_links(
        &self,
        concern: alliance_core::safeguarding::ConcernId,
    ) -> Result<Vec<ConcernLink>, StoreError>;

    /// Every `shared-with-team` step addressed to `user`, oldest first, with its concern.
    async fn concern_shares_for(
        &self,
        user: UserId,
    ) -> Result<Vec<(StoredConcern, StoredConcernStep)>, StoreError>;
}

/// Where a transfer of a child's safeguarding file stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferStatus {
    /// Started: the file has not gone yet.
    Pending,
    /// The encrypted file was made and handed over.
    Sent,
    /// The new school confirmed receipt.
    Received,
}

impl TransferStatus {
    pub fn code(self) -> &'static str {
        match self {
            TransferStatus::Pending => "pending",
            TransferStatus::Sent => "sent",
            TransferStatus::Received => "received",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        match code {
            "pending" => Ok(TransferStatus::Pending),
            "sent" => Ok(TransferStatus::Sent),
            "received" => Ok(TransferStatus::Received),
            other => Err(format!("unknown transfer status {other:?}")),
        }
    }
}

/// A transfer of a child's safeguarding file to a new school (issue 14). `destination`
/// (a [`alliance_core::concern_workflow::TransferDestination`] as JSON), `export` (the
/// passphrase-encrypted file, sealed again) and `receipt` (who confirmed, and how) are sealed
/// under the child's safeguarding key, bound to `safeguarding_transfers.<column>` and the id.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredTransfer {
    pub id: Uuid,
    pub child_id: ChildId,
    pub started_by: UserId,
    pub destination: Sealed,
    /// The last moment the file may go (the close of the fifth school day).
    pub due_at: Timestamp,
    /// `school-days` or `working-days` (no term calendar for the child's school).
    pub counted_in: String,
    pub status: TransferStatus,
    pub export: Option<Sealed>,
    pub sent_by: Option<UserId>,
    pub sent_at: Option<Timestamp>,
    pub receipt: Option<Sealed>,
    pub received_by: Option<UserId>,
    pub received_at: Option<Timestamp>,
    pub version: Version,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[async_trait]
pub trait TransferStore: Send + Sync + 'static {
    /// Writes a new (pending) transfer, with the batch's follow-ups.
    async fn create_transfer(
        &self,
        transfer: &StoredTransfer,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError>;

    async fn transfer(&self, id: Uuid) -> Result<Option<StoredTransfer>, StoreError>;

    /// A child's transfers, newest first.
    async fn transfers_of_child(&self, child: ChildId) -> Result<Vec<StoredTransfer>, StoreError>;

    /// Stores the encrypted file and marks the transfer sent (from pending, or sent again
    /// with a new file and passphrase), at version `expected`, with the batch's follow-ups;
    /// in the same transaction marks done the open `safeguarding.send-file` tasks whose
    /// subject is this transfer (record type `transfer`, record id the transfer's id). A
    /// received transfer is a [`StoreError::Conflict`] naming
    /// `safeguarding_transfers_received`; a stale version [`StoreError::Stale`].
    async fn record_transfer_sent(
        &self,
        id: Uuid,
        export: &Sealed,
        by: UserId,
        expected: Version,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredTransfer, StoreError>;

    /// Records receipt (from sent only: otherwise a [`StoreError::Conflict`] naming
    /// `safeguarding_transfers_not_sent`), at version `expected`, closing the open
    /// `safeguarding.confirm-received` tasks of this transfer.
    async fn record_transfer_received(
        &self,
        id: Uuid,
        receipt: &Sealed,
        by: UserId,
        expected: Version,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredTransfer, StoreError>;
}

/// A break-glass grant as stored. Its reason is sealed under the service key `break-glass`,
/// bound to `break_glass_grants.reason` and the grant's id; the rest (who, which child, from
/// when until when, ended, reviewed) is readable, since the gate needs it without a key.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredGrant {
    pub grant: alliance_core::break_glass::Grant,
    pub reason: Sealed,
    pub created_at: Timestamp,
}

/// Break-glass grants: who, which child, why, until when; and their review.
#[async_trait]
pub trait BreakGlassStore: Send + Sync + 'static {
    /// Writes a new grant (neither ended nor reviewed), with the batch's follow-ups (the
    /// notices to the DSL, deputies and the service lead).
    async fn create_grant(
        &self,
        grant: &StoredGrant,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError>;

    async fn grant(
        &self,
        id: alliance_core::break_glass::GrantId,
    ) -> Result<Option<StoredGrant>, StoreError>;

    /// The grant `user` holds for `child` in force at `now` (started, not ended, not
    /// expired), if any: one indexed query, asked by the child's gate.
    async fn grant_in_force(
        &self,
        user: UserId,
        child: ChildId,
        now: Timestamp,
    ) -> Result<Option<StoredGrant>, StoreError>;

    /// `user`'s grants, newest first, a page at a time (a cursor this list did not give
    /// out: [`StoreError::NotFound`]).
    async fn grants_of_user(
        &self,
        user: UserId,
        page: &PageRequest,
    ) -> Result<Page<StoredGrant>, StoreError>;

    /// Grants not yet reviewed (`reviewed` false: in force or over) or reviewed, newest
    /// first, a page at a time.
    async fn grants_for_review(
        &self,
        reviewed: bool,
        page: &PageRequest,
    ) -> Result<Page<StoredGrant>, StoreError>;

    /// Ends grant `id` at `now`: only its holder's (else [`StoreError::NotFound`]), only while
    /// in force (else a [`StoreError::Conflict`] naming `break_glass_not_in_force`).
    async fn end_grant(
        &self,
        id: alliance_core::break_glass::GrantId,
        user: UserId,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredGrant, StoreError>;

    /// Marks grant `id` reviewed by `by` at `now`: once, and only once over (else a
    /// [`StoreError::Conflict`] naming `break_glass_not_reviewable`); in the same transaction
    /// marks read the open `break-glass.granted` notices about it.
    async fn review_grant(
        &self,
        id: alliance_core::break_glass::GrantId,
        by: UserId,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredGrant, StoreError>;
}

/// A legal hold on a child's records (issue 15): while it is set (not lifted) nothing of the
/// child's is destroyed. `reason` and `lift_reason` are sealed under the service key
/// `legal-holds`, bound to `legal_holds.<column>` and the hold's id.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredLegalHold {
    pub id: Uuid,
    pub child_id: ChildId,
    pub reason: Sealed,
    pub set_by: UserId,
    pub set_at: Timestamp,
    pub lifted_by: Option<UserId>,
    pub lifted_at: Option<Timestamp>,
    pub lift_reason: Option<Sealed>,
    pub version: Version,
}

/// The DSL's flag on a child's safeguarding records (the 75-year rule). `flag` (whether it is
/// set, as JSON) is sealed under the child's safeguarding key, bound to
/// `retention_flags.flag` and the child's id.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRetentionFlag {
    pub child_id: ChildId,
    pub flag: Sealed,
    pub set_by: UserId,
    pub set_at: Timestamp,
    pub version: Version,
}

/// Where a destruction request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DestructionStatus {
    /// Asked for; awaiting the approver.
    Requested,
    /// Approved and done: the class's key is destroyed (the row is the tombstone).
    Destroyed,
    /// Refused by an approver.
    Refused,
    /// Withdrawn by the person who asked.
    Withdrawn,
}

impl DestructionStatus {
    pub fn code(self) -> &'static str {
        match self {
            DestructionStatus::Requested => "requested",
            DestructionStatus::Destroyed => "destroyed",
            DestructionStatus::Refused => "refused",
            DestructionStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        match code {
            "requested" => Ok(DestructionStatus::Requested),
            "destroyed" => Ok(DestructionStatus::Destroyed),
            "refused" => Ok(DestructionStatus::Refused),
            "withdrawn" => Ok(DestructionStatus::Withdrawn),
            other => Err(format!("unknown destruction status {other:?}")),
        }
    }
}

/// A request to destroy one class of a child's record, and once destroyed its tombstone.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredDestructionRequest {
    pub id: Uuid,
    pub child_id: ChildId,
    pub class: alliance_core::crypto::RecordClass,
    pub status: DestructionStatus,
    pub requested_by: UserId,
    pub requested_at: Timestamp,
    pub decided_by: Option<UserId>,
    pub decided_at: Option<Timestamp>,
    /// Approved by its own requester (the sole practitioner).
    pub sole_practitioner: bool,
    pub version: Version,
    pub updated_at: Timestamp,
}

/// Retention: legal holds, the DSL's 75-year flag, destruction requests and tombstones.
#[async_trait]
pub trait RetentionStore: Send + Sync + 'static {
    /// A child's legal holds, the newest first (lifted ones too).
    async fn legal_holds_of(&self, child: ChildId) -> Result<Vec<StoredLegalHold>, StoreError>;

    /// Every child with a legal hold set now.
    async fn children_on_legal_hold(&self) -> Result<Vec<ChildId>, StoreError>;

    /// Sets a hold; one is already set for the child: [`StoreError::Conflict`] naming
    /// `legal_holds_one_active`.
    async fn set_legal_hold(
        &self,
        hold: &StoredLegalHold,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError>;

    /// Lifts hold `id` at version `expected` with its reason; a hold already lifted is a
    /// [`StoreError::Conflict`] naming `legal_holds_lifted`, a stale version
    /// [`StoreError::Stale`].
    #[allow(clippy::too_many_arguments)]
    async fn lift_legal_hold(
        &self,
        id: Uuid,
        by: UserId,
        reason: &Sealed,
        expected: Version,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredLegalHold, StoreError>;

    async fn retention_flag(
        &self,
        child: ChildId,
    ) -> Result<Option<StoredRetentionFlag>, StoreError>;

    /// Every child's flag (for the report).
    async fn retention_flags(&self) -> Result<Vec<StoredRetentionFlag>, StoreError>;

    /// Writes the child's flag: new when `expected` is `None` (one already there is
    /// [`StoreError::Stale`] with its version), else at version `expected`.
    async fn put_retention_flag(
        &self,
        flag: &StoredRetentionFlag,
        expected: Option<Version>,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredRetentionFlag, StoreError>;

    /// Writes a new request (with the batch's follow-ups: the approvers' tasks). An open
    /// request for the child and class is a [`StoreError::Conflict`] naming
    /// `destruction_requests_one_open`; a class already destroyed, one naming
    /// `destruction_requests_one_destroyed`.
    async fn create_destruction_request(
        &self,
        request: &StoredDestructionRequest,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError>;

    async fn destruction_request(
        &self,
        id: Uuid,
    ) -> Result<Option<StoredDestructionRequest>, StoreError>;

    /// A child's requests, newest first.
    async fn destruction_requests_of(
        &self,
        child: ChildId,
    ) -> Result<Vec<StoredDestructionRequest>, StoreError>;

    /// Every request in `status`, oldest first.
    async fn destruction_requests_in(
        &self,
        status: DestructionStatus,
    ) -> Result<Vec<StoredDestructionRequest>, StoreError>;

    /// Decides request `id` (destroyed, refused or withdrawn) at version `expected`, and in
    /// the same transaction marks done every open approval task about it (record type
    /// `destruction`), done by `by`. A request already decided is a [`StoreError::Conflict`]
    /// naming `destruction_requests_decided`; a stale version [`StoreError::Stale`].
    #[allow(clippy::too_many_arguments)]
    async fn decide_destruction_request(
        &self,
        id: Uuid,
        status: DestructionStatus,
        by: UserId,
        sole_practitioner: bool,
        expected: Version,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredDestructionRequest, StoreError>;
}

/// A subject access request as stored. What it says is sealed: `details` under the child's
/// identity key (the requester, the checks, competence and wishes, reasons), `opinion` and
/// `bundle` under the child's clinical key, each bound to its column and the request's id.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSubjectAccess {
    pub id: Uuid,
    pub child_id: ChildId,
    pub requester_kind: alliance_core::subject_access::RequesterKind,
    /// The carer with parental responsibility who asked.
    pub carer_id: Option<CarerId>,
    pub details: Sealed,
    pub received_on: Date,
    pub status: alliance_core::subject_access::Status,
    pub extended_on: Option<Date>,
    pub extension_told_on: Option<Date>,
    pub reviewer: Option<UserId>,
    pub reviewer_until: Option<Timestamp>,
    pub reviewer_named_by: Option<UserId>,
    pub opinion: Option<Sealed>,
    pub dsl_reviewed_by: Option<UserId>,
    pub dsl_reviewed_at: Option<Timestamp>,
    pub bundle: Option<Sealed>,
    pub closed_by: Option<UserId>,
    pub closed_at: Option<Timestamp>,
    pub logged_by: UserId,
    pub version: Version,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A pause of a request's clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSarPause {
    pub id: Uuid,
    pub request_id: Uuid,
    pub reason: alliance_core::subject_access::PauseReason,
    pub started_on: Date,
    pub ended_on: Option<Date>,
    pub started_by: UserId,
    pub ended_by: Option<UserId>,
    pub created_at: Timestamp,
}

/// What a change to a request does to its pauses, in the same transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PauseChange {
    Start(StoredSarPause),
    /// Ends the request's open pause.
    End {
        ended_on: Date,
        by: UserId,
    },
}

/// An item's decision. `detail` (the decision with its passages, words and the item's digest)
/// is sealed under the child's key of the item's class, bound to
/// `subject_access_items.detail` and `{request}/{kind}/{item}`.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSarItem {
    pub request_id: Uuid,
    pub item_kind: alliance_core::subject_access::ItemKind,
    pub item_id: String,
    pub decision: alliance_core::subject_access::Decision,
    pub reason: Option<alliance_core::subject_access::Reason>,
    pub sealed_class: alliance_core::crypto::RecordClass,
    pub detail: Sealed,
    pub decided_by: UserId,
    pub decided_at: Timestamp,
}

/// Subject access requests, their reviewer, item decisions and release.
#[async_trait]
pub trait SubjectAccessStore: Send + Sync + 'static {
    /// How many of the child's subject access requests are pending: any not yet released,
    /// refused or withdrawn (a hold on destruction).
    async fn open_subject_access_requests(&self, child: ChildId) -> Result<i64, StoreError>;

    /// Writes a new request (status `logged`, version 1) with its audit.
    async fn create_subject_access(
        &self,
        request: &StoredSubjectAccess,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError>;

    async fn subject_access(&self, id: Uuid) -> Result<Option<StoredSubjectAccess>, StoreError>;

    /// Every request, newest received first, at most `limit`.
    async fn subject_access_requests(
        &self,
        limit: i64,
    ) -> Result<Vec<StoredSubjectAccess>, StoreError>;

    /// Writes `request`'s changeable columns (status, extension, reviewer, opinion, DSL
    /// review, bundle, closing, details) if it is still at `expected`, with `pause` and the
    /// audit, in one transaction; the stored row (version moved on) is returned. A request
    /// changed since is stale; a closed one refuses any change (the database too).
    async fn update_subject_access(
        &self,
        request: &StoredSubjectAccess,
        expected: Version,
        pause: Option<PauseChange>,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredSubjectAccess, StoreError>;

    /// The request's pauses, oldest first.
    async fn sar_pauses(&self, request: Uuid) -> Result<Vec<StoredSarPause>, StoreError>;

    /// Records (or replaces) an item's decision while the request is in one of `allowed`
    /// statuses (a conflict naming `subject_access_items_closed` otherwise), with its audit.
    async fn decide_sar_item(
        &self,
        item: &StoredSarItem,
        allowed: &[alliance_core::subject_access::Status],
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError>;

    /// The request's decisions.
    async fn sar_items(&self, request: Uuid) -> Result<Vec<StoredSarItem>, StoreError>;

    /// Every author's process notes about the child, oldest first: for a named reviewer of a
    /// subject access request, and nobody else.
    async fn process_notes_of_child(
        &self,
        child: ChildId,
    ) -> Result<Vec<StoredProcessNote>, StoreError>;

    /// Supervision records whose cases discussed include any of `case_numbers` (`C00042`).
    async fn supervisions_naming(
        &self,
        case_numbers: &[String],
    ) -> Result<Vec<StoredSupervision>, StoreError>;
}

// ---- RoomCareStore (issue 16, helper A): keep this area's types and methods inside this section ----

/// A room's description and its own checklist as stored (none stored: an empty description
/// and the service's checklist).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRoomCare {
    pub room: alliance_core::directory::RoomId,
    pub description: alliance_core::room_care::RoomDescription,
    /// The room's own checklist; `None`: the service's.
    pub checklist: Option<Vec<String>>,
    pub version: Version,
    pub updated_by: UserId,
    pub updated_at: Timestamp,
}

/// Rooms described, materials and their condition, play kits, pre-session checklists and checks (issue 16).
/// Nothing here holds anything about a child. Every write is audited in its own transaction.
#[async_trait]
pub trait RoomCareStore: Send + Sync + 'static {
    async fn room_care(
        &self,
        room: alliance_core::directory::RoomId,
    ) -> Result<Option<StoredRoomCare>, StoreError>;

    /// Writes a room's description and its own checklist at `expected` (`None`: nothing is
    /// stored for the room yet; a row there already answers `Stale`).
    async fn put_room_care(
        &self,
        care: &StoredRoomCare,
        expected: Option<Version>,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredRoomCare, StoreError>;

    /// Materials, by name: every one, or those in one room, or in one kit.
    async fn materials(
        &self,
        place: Option<alliance_core::room_care::Place>,
    ) -> Result<Vec<alliance_core::room_care::Material>, StoreError>;

    async fn material(
        &self,
        id: alliance_core::room_care::MaterialId,
    ) -> Result<Option<alliance_core::room_care::Material>, StoreError>;

    async fn create_material(
        &self,
        material: &alliance_core::room_care::Material,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError>;

    /// Changes a material at `expected`. With `settle`, the open tasks about it (and any
    /// firing not yet raised) are settled in the same transaction.
    async fn update_material(
        &self,
        material: &alliance_core::room_care::Material,
        expected: Version,
        settle: bool,
        audit: &AuditBatch<'_>,
    ) -> Result<alliance_core::room_care::Material, StoreError>;

    /// Every kit, by name.
    async fn kits(&self) -> Result<Vec<alliance_core::room_care::Kit>, StoreError>;

    async fn kit(
        &self,
        id: alliance_core::room_care::KitId,
    ) -> Result<Option<alliance_core::room_care::Kit>, StoreError>;

    async fn create_kit(
        &self,
        kit: &alliance_core::room_care::Kit,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError>;

    /// Renames a kit or gives it to another holder at `expected`.
    async fn update_kit(
        &self,
        kit: &alliance_core::room_care::Kit,
        expected: Version,
        audit: &AuditBatch<'_>,
    ) -> Result<alliance_core::room_care::Kit, StoreError>;

    /// Moves a kit at `expected`: its site changes and the move is appended to its history.
    async fn move_kit(
        &self,
        kit_move: &alliance_core::room_care::KitMove,
        expected: Version,
        audit: &AuditBatch<'_>,
    ) -> Result<alliance_core::room_care::Kit, StoreError>;

    /// A kit's moves, newest first.
    async fn kit_moves(
        &self,
        kit: alliance_core::room_care::KitId,
    ) -> Result<Vec<alliance_core::room_care::KitMove>, StoreError>;

    async fn room_check(
        &self,
        session: alliance_core::schedule::BookingId,
    ) -> Result<Option<alliance_core::room_care::RoomCheck>, StoreError>;

    /// Records a session's check (once: a second answers `Conflict`).
    async fn record_room_check(
        &self,
        check: &alliance_core::room_care::RoomCheck,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError>;

    /// For these sessions, in one query: whether each checked one found a problem.
    async fn room_check_states(
        &self,
        sessions: &[alliance_core::schedule::BookingId],
    ) -> Result<std::collections::HashMap<alliance_core::schedule::BookingId, bool>, StoreError>;
}

// ---- end of RoomCareStore ----

// ---- DisruptionStore (issue 16, helper B): keep this area's types and methods inside this section ----

/// A disruption as stored: about a room and a session, never the child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDisruption {
    pub id: alliance_core::disruptions::DisruptionId,
    pub session: BookingId,
    pub room: RoomId,
    pub site: SiteId,
    /// The session's date.
    pub date: Date,
    pub kind: alliance_core::disruptions::Kind,
    pub minutes: u16,
    pub note: Option<String>,
    pub logged_by: UserId,
    pub logged_at: Timestamp,
    pub withdrawn_by: Option<UserId>,
    pub withdrawn_at: Option<Timestamp>,
}

/// An incident as stored: its content sealed under the child's clinical key (`incidents.
/// content`, bound to the incident's id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredIncident {
    pub id: alliance_core::incidents::IncidentId,
    pub child: ChildId,
    pub case: CaseId,
    pub session: Option<BookingId>,
    pub concern: Option<alliance_core::safeguarding::ConcernId>,
    pub content: Sealed,
    pub recorded_by: UserId,
    pub recorded_at: Timestamp,
}

/// A correction to an incident, sealed with its reason (`incident_addenda.content`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredIncidentAddendum {
    pub id: alliance_core::incidents::AddendumId,
    pub incident: alliance_core::incidents::IncidentId,
    pub content: Sealed,
    pub written_by: UserId,
    pub written_at: Timestamp,
}

/// Disruptions to sessions and incidents in them (issue 16). Nothing here is ever deleted or
/// rewritten: a disruption is withdrawn (once, by its author), an incident corrected by
/// addenda.
#[async_trait]
pub trait DisruptionStore: Send + Sync + 'static {
    async fn log_disruption(
        &self,
        disruption: &StoredDisruption,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError>;

    async fn disruption(
        &self,
        id: alliance_core::disruptions::DisruptionId,
    ) -> Result<Option<StoredDisruption>, StoreError>;

    /// A session's disruptions, withdrawn ones too, oldest first.
    async fn disruptions_of_session(
        &self,
        session: BookingId,
    ) -> Result<Vec<StoredDisruption>, StoreError>;

    /// Marks a disruption withdrawn by `by` (its author, not yet withdrawn): `NotFound` when
    /// there is none, `Conflict("disruption_not_withdrawable")` otherwise (nothing written).
    async fn withdraw_disruption(
        &self,
        id: alliance_core::disruptions::DisruptionId,
        by: UserId,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredDisruption, StoreError>;

    /// Disruptions not withdrawn on sessions dated `from` to `until` inclusive, at one site
    /// or all.
    async fn disruptions_between(
        &self,
        from: Date,
        until: Date,
        site: Option<SiteId>,
    ) -> Result<Vec<StoredDisruption>, StoreError>;

    /// Writes an incident with its audit entries and any notices (the batch's follow-ups).
    async fn create_incident(
        &self,
        incident: &StoredIncident,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError>;

    async fn incident(
        &self,
        id: alliance_core::incidents::IncidentId,
    ) -> Result<Option<StoredIncident>, StoreError>;

    /// A child's incidents, newest first.
    async fn incidents_of_child(&self, child: ChildId) -> Result<Vec<StoredIncident>, StoreError>;

    async fn add_incident_addendum(
        &self,
        addendum: &StoredIncidentAddendum,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError>;

    /// An incident's addenda, oldest first.
    async fn incident_addenda(
        &self,
        incident: alliance_core::incidents::IncidentId,
    ) -> Result<Vec<StoredIncidentAddendum>, StoreError>;
}

// ---- end of DisruptionStore ----

// ---- SiteEmergencyStore (issue 16, helper B): keep this area's types and methods inside this section ----

/// A site's emergency procedures and who is its DSL and first aider on each day (issue 16).
/// Nothing of its own yet: each site's plan is a settings document (`site-emergency:{site}`,
/// through [`SettingsStore`]), written in its own transaction with its audit entry.
#[async_trait]
pub trait SiteEmergencyStore: Send + Sync + 'static {}

// ---- end of SiteEmergencyStore ----

// ---- EmergencyStore (issue 16, helper C): keep this area's types and methods inside this section ----

/// A child's emergency details as stored: sealed under the child's identity key.
#[derive(Debug, Clone)]
pub struct StoredEmergencyDetails {
    pub child: ChildId,
    /// `alliance_core::emergency::EmergencyDetails` as JSON, sealed.
    pub sealed: Sealed,
    pub version: Version,
    pub updated_by: UserId,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// One version of a young person's safety plan as stored: sealed under the child's clinical
/// key.
#[derive(Debug, Clone)]
pub struct StoredSafetyPlan {
    pub id: alliance_core::safety_plans::SafetyPlanId,
    pub child: ChildId,
    /// 1 for the first plan, then one more for each new version.
    pub number: i64,
    /// `alliance_core::safety_plans::SafetyPlan` as JSON, sealed.
    pub sealed: Sealed,
    pub written_by: UserId,
    pub created_at: Timestamp,
}

/// A child's emergency details (who may collect, medical needs, allergies) and safety plans (issue 16).
#[async_trait]
pub trait EmergencyStore: Send + Sync + 'static {
    async fn emergency_details(
        &self,
        child: ChildId,
    ) -> Result<Option<StoredEmergencyDetails>, StoreError>;

    /// Writes a child's emergency details: the first time with `expected` none, then at the
    /// version read. A stale or lost race writes nothing (`StoreError::Stale`).
    async fn put_emergency_details(
        &self,
        details: &StoredEmergencyDetails,
        expected: Option<Version>,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredEmergencyDetails, StoreError>;

    /// A child's safety plans, newest version first.
    async fn safety_plans(&self, child: ChildId) -> Result<Vec<StoredSafetyPlan>, StoreError>;

    /// Adds a version of a child's plan, numbered one more than the newest, which must be
    /// `plan.number - 1` (none for the first); otherwise nothing is written
    /// (`StoreError::Stale` with the newest number).
    async fn add_safety_plan(
        &self,
        plan: &StoredSafetyPlan,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError>;
}

// ---- end of EmergencyStore ----

// ---- MeasureStore (issue 17, helper A): keep this area's types and methods inside this section ----

/// The measure library: definitions a service added (each `id` and `version` once, for ever)
/// and licensed wording loaded by the service (issue 17).
#[async_trait]
pub trait MeasureStore: Send + Sync + 'static {
    /// Writes a service's definition, once: an `(id, version)` already stored is refused
    /// (`StoreError::Conflict`) and nothing is written.
    async fn add_measure_definition(
        &self,
        definition: &StoredMeasureDefinition,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError>;

    /// Every definition the service added, by id then version.
    async fn measure_definitions(&self) -> Result<Vec<StoredMeasureDefinition>, StoreError>;

    async fn measure_definition(
        &self,
        measure_id: &str,
        version: u32,
    ) -> Result<Option<StoredMeasureDefinition>, StoreError>;

    /// Stores (or replaces) the service's wording for one definition version; a replacement
    /// once a feedback link or response names that version writes nothing
    /// (`StoreError::Conflict` naming `measure_wordings_in_use`).
    async fn put_measure_wording(
        &self,
        wording: &StoredMeasureWording,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError>;

    /// Every wording the service loaded.
    async fn measure_wordings(&self) -> Result<Vec<StoredMeasureWording>, StoreError>;

    async fn measure_wording(
        &self,
        measure_id: &str,
        version: u32,
    ) -> Result<Option<StoredMeasureWording>, StoreError>;
}

/// A definition a service added: validated canonical JSON, and the text as it was pasted.
#[derive(Debug, Clone)]
pub struct StoredMeasureDefinition {
    pub measure_id: String,
    pub version: u32,
    pub respondent: alliance_core::measures::Respondent,
    /// The validated definition as JSON (`Definition::to_json`).
    pub definition: String,
    pub source_text: String,
    pub added_by: UserId,
    pub added_at: Timestamp,
}

/// A licensed measure's wording as the service loaded it (`Wording::to_json`).
#[derive(Debug, Clone)]
pub struct StoredMeasureWording {
    pub measure_id: String,
    pub version: u32,
    pub wording: String,
    pub loaded_by: UserId,
    pub loaded_at: Timestamp,
}

// ---- end of MeasureStore ----

// ---- FeedbackStore (issue 17, helper B; the link and response types are shared with helper C) ----

/// A single-use feedback link as stored: the child's kiosk link for one session (no carer),
/// or a carer's link (helper C). The token is kept only as its SHA-256.
#[derive(Debug, Clone)]
pub struct FeedbackLinkRecord {
    pub id: Uuid,
    pub token_hash: String,
    pub case_id: CaseId,
    pub child_id: ChildId,
    pub session_id: Option<BookingId>,
    /// The carer it was sent to; `None` for the child's kiosk link.
    pub carer_id: Option<CarerId>,
    pub respondent: alliance_core::measures::Respondent,
    pub measure_id: String,
    pub measure_version: u32,
    pub created_by: UserId,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub spent_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

impl FeedbackLinkRecord {
    pub fn is_usable(&self, now: Timestamp) -> bool {
        self.spent_at.is_none() && self.revoked_at.is_none() && now < self.expires_at
    }
}

/// One response to one version of a measure, as stored. The answers and their score (JSON)
/// are sealed under the child's clinical key, bound to `measure_responses.answers` and the id.
#[derive(Debug, Clone)]
pub struct StoredResponse {
    pub id: Uuid,
    pub child_id: ChildId,
    pub case_id: CaseId,
    pub session_id: Option<BookingId>,
    pub respondent: alliance_core::measures::Respondent,
    pub carer_id: Option<CarerId>,
    pub measure_id: String,
    pub measure_version: u32,
    /// The link it came through (child and carer responses).
    pub link_id: Option<Uuid>,
    /// The signed-in person who recorded it (the therapist's own rating); `None` through a link.
    pub recorded_by: Option<UserId>,
    pub given_at: Timestamp,
    pub answers: Sealed,
}

/// Feedback links and measure responses (issue 17).
#[async_trait]
pub trait FeedbackStore: Send + Sync + 'static {
    async fn create_feedback_link(
        &self,
        link: &FeedbackLinkRecord,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError>;

    async fn feedback_link_by_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<FeedbackLinkRecord>, StoreError>;

    async fn feedback_link(&self, id: Uuid) -> Result<Option<FeedbackLinkRecord>, StoreError>;

    /// The case's links, newest first.
    async fn feedback_links_of_case(
        &self,
        case: CaseId,
    ) -> Result<Vec<FeedbackLinkRecord>, StoreError>;

    /// Revokes link `id` if it is still unspent and unrevoked; false (nothing written) otherwise.
    async fn revoke_feedback_link(
        &self,
        id: Uuid,
        at: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<bool, StoreError>;

    /// Spends link `id` and records `response`, in one transaction: only while the link is
    /// unspent, unrevoked and unexpired at `now`; false (nothing written) otherwise.
    async fn submit_through_link(
        &self,
        id: Uuid,
        response: &StoredResponse,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<bool, StoreError>;

    /// Records a response that came through no link (the therapist's rating).
    async fn record_response(
        &self,
        response: &StoredResponse,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError>;

    /// A child's responses, oldest first.
    async fn responses_of_child(&self, child: ChildId) -> Result<Vec<StoredResponse>, StoreError>;
}

// ---- end of FeedbackStore ----

// ---- GoalStore (issue 17, helper C): keep this area's types and methods inside this section ----

/// A goal as stored: who set it and when, where it stands, the slot (1 to 3) it holds on its
/// case while open. Its words are in [`StoredGoalWording`]s.
#[derive(Debug, Clone)]
pub struct StoredGoal {
    pub id: alliance_core::goals::GoalId,
    pub child: ChildId,
    pub case: CaseId,
    /// 1 to 3 while open; `None` once closed.
    pub slot: Option<i64>,
    pub set_by: alliance_core::goals::SetBy,
    pub set_on: Date,
    pub status: alliance_core::goals::Status,
    pub closed_on: Option<Date>,
    pub version: Version,
    pub created_by: UserId,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// One wording of a goal: `alliance_core::goals::GoalWords` as JSON, sealed under the child's
/// clinical key (bound to `goal_wordings.content` and the row's id).
#[derive(Debug, Clone)]
pub struct StoredGoalWording {
    pub id: Uuid,
    pub goal: alliance_core::goals::GoalId,
    /// 1 for the words the goal was set with, then one more for each rewording.
    pub number: i64,
    pub sealed: Sealed,
    pub written_by: UserId,
    pub created_at: Timestamp,
}

/// One rating of a goal: `alliance_core::goals::RatingContent` as JSON, sealed under the
/// child's clinical key (bound to `goal_ratings.content` and the row's id).
#[derive(Debug, Clone)]
pub struct StoredGoalRating {
    pub id: Uuid,
    pub goal: alliance_core::goals::GoalId,
    pub session: Option<BookingId>,
    pub rated_on: Date,
    pub sealed: Sealed,
    pub recorded_by: UserId,
    pub created_at: Timestamp,
}

/// The child's own goals in their words and their ratings (goal-based outcomes, issue 17).
#[async_trait]
pub trait GoalStore: Send + Sync + 'static {
    /// The child's goals (every case), oldest first.
    async fn goals_of_child(&self, child: ChildId) -> Result<Vec<StoredGoal>, StoreError>;

    /// Every wording of the child's goals, by goal and number.
    async fn goal_wordings_of_child(
        &self,
        child: ChildId,
    ) -> Result<Vec<StoredGoalWording>, StoreError>;

    /// Every rating of the child's goals, oldest first.
    async fn goal_ratings_of_child(
        &self,
        child: ChildId,
    ) -> Result<Vec<StoredGoalRating>, StoreError>;

    /// Adds an open goal with its first words in the lowest free slot of its case (the
    /// `slot` given is ignored); false, nothing written, when the case's three slots are held.
    async fn add_goal(
        &self,
        goal: &StoredGoal,
        words: &StoredGoalWording,
        audit: &AuditBatch<'_>,
    ) -> Result<bool, StoreError>;

    /// Adds a wording (numbered one more than the newest) to an open goal at `expected`, and
    /// moves the goal's version on; `Stale` (nothing written) otherwise.
    async fn reword_goal(
        &self,
        words: &StoredGoalWording,
        expected: Version,
        audit: &AuditBatch<'_>,
    ) -> Result<Version, StoreError>;

    /// Records ratings, each of a goal still open; `Conflict` (nothing written) when any is not.
    async fn rate_goals(
        &self,
        ratings: &[StoredGoalRating],
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError>;

    /// Closes an open goal at `expected` (reached or put aside, on a date), freeing its slot;
    /// `Stale` (nothing written) otherwise.
    async fn close_goal(
        &self,
        goal: alliance_core::goals::GoalId,
        status: alliance_core::goals::Status,
        closed_on: Date,
        expected: Version,
        at: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<Version, StoreError>;
}

// ---- end of GoalStore ----
