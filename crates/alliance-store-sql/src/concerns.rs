//! Safeguarding concerns and allegations against staff: a draft (its author's alone) replaced
//! at every save, then submitted with its linked children in one transaction; after that the
//! database itself seals the row (triggers refuse its deletion and every change but the DSL's
//! one matching of a looked-up child), and what happens next is appended: steps (which close
//! the tasks they answer in the same transaction), addenda and links, never changed or
//! removed. Every change of a concern is a conditional update in the state it needs (a draft
//! at the version read; an unmatched concern), so a stale or refused change writes nothing.
//!
//! What a concern, a step and an addendum say is sealed (`concerns.content`,
//! `concerns.lookup`, `concern_steps.detail`, `concern_addenda.content`); this module only
//! moves the bytes. Readable on purpose: the therapist a `shared-with-team` step was shared
//! with (`concern_steps.shared_with`), so that their list of what was shared is found by it.

use crate::{
    Engine, from_micros, map_error, map_error_named, placeholders, stale_or_missing, to_micros,
};
use alliance_core::Version;
use alliance_core::children::ChildId;
use alliance_core::crypto::Sealed;
use alliance_core::identity::UserId;
use alliance_core::safeguarding::{ConcernId, ConcernKind, ConcernStatus, StepKind};
use alliance_core::schedule::BookingId;
use alliance_core::tasks::Rule;
use alliance_service::store::{
    ConcernLink, ConcernStore, SealedUnder, StoredConcern, StoredConcernAddendum, StoredConcernStep,
};
use alliance_service::{AuditBatch, StoreError};
use jiff::Timestamp;
use sqlx::AssertSqlSafe;
use uuid::Uuid;

const CONCERN_COLUMNS: &str = "id, kind, status, child_id, author_id, subject_user_id, \
     session_id, urgent, sealed_under, content, lookup, version, created_at, updated_at, \
     submitted_at";

const STEP_COLUMNS: &str =
    "id, concern_id, kind, actor_id, sealed_under, detail, created_at, shared_with";

const ADDENDUM_COLUMNS: &str = "id, concern_id, author_id, sealed_under, content, created_at";

const LINK_COLUMNS: &str = "concern_id, child_id, linked_by, created_at";

/// The record types a task about a concern names as its subject.
const SUBJECT_TYPES: &str = "'concern', 'allegation'";

/// SQLite names a broken unique constraint or index by its columns; PostgreSQL by its name.
const UNIQUE: &[(&str, &str)] = &[
    ("concerns.id", "concerns_pkey"),
    ("concern_steps.id", "concern_steps_pkey"),
    ("concern_addenda.id", "concern_addenda_pkey"),
    // A child is linked to a concern once.
    (
        "concern_links.concern_id, concern_links.child_id",
        "concern_links_pkey",
    ),
];

fn named(err: sqlx::Error) -> StoreError {
    map_error_named(err, UNIQUE)
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Other(format!("a stored {what} is not valid"))
}

fn uuid(what: &str, raw: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(raw).map_err(|_| corrupt(what))
}

fn concern_id(raw: &str) -> Result<ConcernId, StoreError> {
    ConcernId::parse(raw).map_err(|_| corrupt("concern id"))
}

fn sealed_under(raw: &str) -> Result<SealedUnder, StoreError> {
    SealedUnder::parse(raw).map_err(|_| corrupt("sealing"))
}

fn status(raw: &str) -> Result<ConcernStatus, StoreError> {
    ConcernStatus::parse(raw).map_err(|_| corrupt("concern status"))
}

/// The conflict named when a draft's change finds the concern submitted (whatever its
/// version: a submitted concern is never saved or submitted again).
fn submitted() -> StoreError {
    StoreError::Conflict("concerns_submitted".to_owned())
}

/// The conflict named when a matching finds the concern matched already.
fn matched() -> StoreError {
    StoreError::Conflict("concerns_matched".to_owned())
}

#[derive(Debug, sqlx::FromRow)]
pub struct ConcernRow {
    pub id: String,
    pub kind: String,
    pub status: String,
    pub child_id: Option<String>,
    pub author_id: String,
    pub subject_user_id: Option<String>,
    pub session_id: Option<String>,
    pub urgent: bool,
    pub sealed_under: String,
    pub content: Vec<u8>,
    pub lookup: Option<Vec<u8>>,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub submitted_at: Option<i64>,
}

impl TryFrom<ConcernRow> for StoredConcern {
    type Error = StoreError;

    fn try_from(row: ConcernRow) -> Result<Self, StoreError> {
        Ok(StoredConcern {
            id: concern_id(&row.id)?,
            kind: ConcernKind::parse(&row.kind).map_err(|_| corrupt("concern kind"))?,
            status: status(&row.status)?,
            child_id: row
                .child_id
                .as_deref()
                .map(crate::rows::child_id)
                .transpose()?,
            author: crate::rows::user_id(&row.author_id)?,
            subject_user: row
                .subject_user_id
                .as_deref()
                .map(crate::rows::user_id)
                .transpose()?,
            session_id: row
                .session_id
                .as_deref()
                .map(|s| BookingId::parse(s).map_err(|_| corrupt("session id")))
                .transpose()?,
            urgent: row.urgent,
            sealed_under: sealed_under(&row.sealed_under)?,
            content: Sealed::from_stored(row.content),
            lookup: row.lookup.map(Sealed::from_stored),
            version: Version::new(row.version).map_err(|_| corrupt("concern version"))?,
            created_at: from_micros(row.created_at)?,
            updated_at: from_micros(row.updated_at)?,
            submitted_at: crate::rows::optional_micros(row.submitted_at)?,
        })
    }
}

/// Where a concern stands, read when a conditional change matched no row.
#[derive(Debug, sqlx::FromRow)]
pub struct ConcernStateRow {
    pub status: String,
    pub version: i64,
}

#[derive(Debug, sqlx::FromRow)]
pub struct ConcernStepRow {
    pub id: String,
    pub concern_id: String,
    pub kind: String,
    pub actor_id: String,
    pub sealed_under: String,
    pub detail: Vec<u8>,
    pub created_at: i64,
    pub shared_with: Option<String>,
}

impl TryFrom<ConcernStepRow> for StoredConcernStep {
    type Error = StoreError;

    fn try_from(row: ConcernStepRow) -> Result<Self, StoreError> {
        Ok(StoredConcernStep {
            id: uuid("concern step id", &row.id)?,
            concern_id: concern_id(&row.concern_id)?,
            kind: StepKind::parse(&row.kind).map_err(|_| corrupt("concern step kind"))?,
            actor: crate::rows::user_id(&row.actor_id)?,
            sealed_under: sealed_under(&row.sealed_under)?,
            detail: Sealed::from_stored(row.detail),
            shared_with: row
                .shared_with
                .as_deref()
                .map(crate::rows::user_id)
                .transpose()?,
            created_at: from_micros(row.created_at)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct ConcernAddendumRow {
    pub id: String,
    pub concern_id: String,
    pub author_id: String,
    pub sealed_under: String,
    pub content: Vec<u8>,
    pub created_at: i64,
}

impl TryFrom<ConcernAddendumRow> for StoredConcernAddendum {
    type Error = StoreError;

    fn try_from(row: ConcernAddendumRow) -> Result<Self, StoreError> {
        Ok(StoredConcernAddendum {
            id: uuid("concern addendum id", &row.id)?,
            concern_id: concern_id(&row.concern_id)?,
            author: crate::rows::user_id(&row.author_id)?,
            sealed_under: sealed_under(&row.sealed_under)?,
            content: Sealed::from_stored(row.content),
            created_at: from_micros(row.created_at)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct ConcernLinkRow {
    pub concern_id: String,
    pub child_id: String,
    pub linked_by: String,
    pub created_at: i64,
}

impl TryFrom<ConcernLinkRow> for ConcernLink {
    type Error = StoreError;

    fn try_from(row: ConcernLinkRow) -> Result<Self, StoreError> {
        Ok(ConcernLink {
            concern_id: concern_id(&row.concern_id)?,
            child_id: crate::rows::child_id(&row.child_id)?,
            linked_by: crate::rows::user_id(&row.linked_by)?,
            created_at: from_micros(row.created_at)?,
        })
    }
}

/// What a change of a draft sets besides its content.
#[derive(Clone, Copy)]
enum DraftChange<'a> {
    Save { lookup: Option<&'a Sealed> },
    Submit { urgent: bool },
}

/// Refuses a step or a link that names another concern than the one it is written with.
fn same_concern(expected: ConcernId, found: ConcernId, what: &str) -> Result<(), StoreError> {
    if expected == found {
        Ok(())
    } else {
        Err(StoreError::Other(format!(
            "{what} names another concern than the one it is written with"
        )))
    }
}

impl_for_both_engines!(helpers {
    /// Why a change of draft `id` at the version read matched no row, read in the same
    /// transaction: the concern is gone (not found), it is submitted (the named conflict,
    /// whatever its version), or it has moved on (stale).
    async fn why_concern_draft_unchanged(
        tx: &mut sqlx::Transaction<'static, DB>,
        id: ConcernId,
    ) -> StoreError {
        let current: Result<Option<ConcernStateRow>, _> =
            sqlx::query_as("SELECT status, version FROM concerns WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(&mut **tx)
                .await;
        match current {
            Ok(Some(state)) => match status(&state.status) {
                Ok(ConcernStatus::Submitted) => submitted(),
                Ok(ConcernStatus::Draft) => stale_or_missing(Some(state.version)),
                Err(e) => e,
            },
            Ok(None) => StoreError::NotFound,
            Err(e) => map_error(e),
        }
    }

    async fn insert_concern_step(
        tx: &mut sqlx::Transaction<'static, DB>,
        step: &StoredConcernStep,
    ) -> Result<(), StoreError> {
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO concern_steps ({STEP_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        )))
        .bind(step.id.to_string())
        .bind(step.concern_id.to_string())
        .bind(step.kind.code().to_owned())
        .bind(step.actor.to_string())
        .bind(step.sealed_under.code().to_owned())
        .bind(step.detail.as_bytes().to_vec())
        .bind(to_micros(step.created_at))
        .bind(step.shared_with.map(|u| u.to_string()))
        .execute(&mut **tx)
        .await
        .map_err(named)?;
        Ok(())
    }

    async fn insert_concern_link(
        tx: &mut sqlx::Transaction<'static, DB>,
        link: &ConcernLink,
    ) -> Result<(), StoreError> {
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO concern_links ({LINK_COLUMNS}) VALUES ($1, $2, $3, $4)"
        )))
        .bind(link.concern_id.to_string())
        .bind(link.child_id.to_string())
        .bind(link.linked_by.to_string())
        .bind(to_micros(link.created_at))
        .execute(&mut **tx)
        .await
        .map_err(named)?;
        Ok(())
    }

    /// Changes draft `id` at `expected` (its content, and the look-up or the submission):
    /// one conditional update, nothing written on a refusal. The transaction is returned
    /// open, for what the change writes with it and its audit.
    async fn change_concern_draft(
        &self,
        id: ConcernId,
        content: &Sealed,
        change: DraftChange<'_>,
        expected: Version,
        now: Timestamp,
    ) -> Result<(sqlx::Transaction<'static, DB>, StoredConcern), StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        // Submitting sets the status and `submitted_at` in the same statement as the final
        // content: the status test in the WHERE clause is what keeps a submitted concern as
        // submitted (and the database's triggers refuse it too, whatever the route).
        let assignments = match change {
            DraftChange::Save { .. } => "lookup = $2",
            DraftChange::Submit { .. } => "urgent = $2, status = 'submitted', submitted_at = $3",
        };
        let query = sqlx::query_as(AssertSqlSafe(format!(
            "UPDATE concerns SET content = $1, {assignments}, version = version + 1, \
             updated_at = $3 WHERE id = $4 AND version = $5 AND status = 'draft' \
             RETURNING {CONCERN_COLUMNS}"
        )))
        .bind(content.as_bytes().to_vec());
        let query = match change {
            DraftChange::Save { lookup } => query.bind(lookup.map(|l| l.as_bytes().to_vec())),
            DraftChange::Submit { urgent } => query.bind(urgent),
        };
        let row: Option<ConcernRow> = query
            .bind(to_micros(now))
            .bind(id.to_string())
            .bind(expected.get())
            .fetch_optional(&mut *tx)
            .await
            .map_err(named)?;
        let Some(row) = row else {
            // Dropping the transaction rolls it back: nothing written, nothing audited.
            return Err(Self::why_concern_draft_unchanged(&mut tx, id).await);
        };
        Ok((tx, row.try_into()?))
    }

    /// The concerns (as `c`) meeting `condition`, in `order`: both fixed clauses of this
    /// module, never a value; the values are bound, `$1` on.
    async fn concerns_where(
        &self,
        condition: &str,
        binds: &[String],
        order: &str,
    ) -> Result<Vec<StoredConcern>, StoreError> {
        let sql = format!(
            "SELECT {CONCERN_COLUMNS} FROM concerns c WHERE {condition} ORDER BY {order}"
        );
        let mut query = sqlx::query_as::<DB, ConcernRow>(AssertSqlSafe(sql));
        for value in binds {
            query = query.bind(value.clone());
        }
        let rows = query.fetch_all(&self.pool).await.map_err(map_error)?;
        rows.into_iter().map(StoredConcern::try_from).collect()
    }
});

impl_for_both_engines!(ConcernStore {
    async fn create_concern(
        &self,
        concern: &StoredConcern,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError> {
        if concern.status != ConcernStatus::Draft || concern.submitted_at.is_some() {
            return Err(StoreError::Other(
                "a new concern is written as a draft".to_owned(),
            ));
        }
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO concerns ({CONCERN_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, NULL)"
        )))
        .bind(concern.id.to_string())
        .bind(concern.kind.code().to_owned())
        .bind(concern.status.code().to_owned())
        .bind(concern.child_id.map(|c| c.to_string()))
        .bind(concern.author.to_string())
        .bind(concern.subject_user.map(|u| u.to_string()))
        .bind(concern.session_id.map(|s| s.to_string()))
        .bind(concern.urgent)
        .bind(concern.sealed_under.code().to_owned())
        .bind(concern.content.as_bytes().to_vec())
        .bind(concern.lookup.as_ref().map(|l| l.as_bytes().to_vec()))
        .bind(concern.version.get())
        .bind(to_micros(concern.created_at))
        .bind(to_micros(concern.updated_at))
        .execute(&mut *tx)
        .await
        .map_err(named)?;
        self.commit_audited(tx, audit).await
    }

    async fn save_concern_draft(
        &self,
        id: ConcernId,
        content: &Sealed,
        lookup: Option<&Sealed>,
        expected: Version,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredConcern, StoreError> {
        let (tx, concern) = self
            .change_concern_draft(id, content, DraftChange::Save { lookup }, expected, now)
            .await?;
        self.commit_audited(tx, audit).await?;
        Ok(concern)
    }

    async fn discard_concern_draft(
        &self,
        id: ConcernId,
        audit: &AuditBatch<'_>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let deleted = sqlx::query("DELETE FROM concerns WHERE id = $1 AND status = 'draft'")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(named)?;
        if <DB as Engine>::rows_affected(&deleted) != 1 {
            tx.rollback().await.map_err(map_error)?;
            return Ok(false);
        }
        self.commit_audited(tx, audit).await?;
        Ok(true)
    }

    async fn submit_concern(
        &self,
        id: ConcernId,
        content: &Sealed,
        urgent: bool,
        links: &[ConcernLink],
        expected: Version,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredConcern, StoreError> {
        for link in links {
            same_concern(id, link.concern_id, "a linked child")?;
        }
        let (mut tx, concern) = self
            .change_concern_draft(id, content, DraftChange::Submit { urgent }, expected, now)
            .await?;
        for link in links {
            Self::insert_concern_link(&mut tx, link).await?;
        }
        self.commit_audited(tx, audit).await?;
        Ok(concern)
    }

    async fn match_concern(
        &self,
        id: ConcernId,
        child: ChildId,
        content: &Sealed,
        step: &StoredConcernStep,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredConcern, StoreError> {
        same_concern(id, step.concern_id, "a matching's step")?;
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        // `child_id IS NULL` in the condition is what makes a concern matched once: the
        // second of two matchings at once finds it matched (and the database's trigger
        // refuses any other change of a submitted concern). The version and the time of the
        // last change stay as submitted: the raiser of a look-up, who may not know the child,
        // must not learn from them that the child was matched.
        let row: Option<ConcernRow> = sqlx::query_as(AssertSqlSafe(format!(
            "UPDATE concerns SET child_id = $1, content = $2, sealed_under = 'child' \
             WHERE id = $3 AND child_id IS NULL \
             RETURNING {CONCERN_COLUMNS}"
        )))
        .bind(child.to_string())
        .bind(content.as_bytes().to_vec())
        .bind(id.to_string())
        .fetch_optional(&mut *tx)
        .await
        .map_err(named)?;
        let Some(row) = row else {
            let current: Option<ConcernStateRow> =
                sqlx::query_as("SELECT status, version FROM concerns WHERE id = $1")
                    .bind(id.to_string())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(map_error)?;
            return Err(match current {
                Some(_) => matched(),
                None => StoreError::NotFound,
            });
        };
        Self::insert_concern_step(&mut tx, step).await?;
        self.commit_audited(tx, audit).await?;
        row.try_into()
    }

    async fn concern(&self, id: ConcernId) -> Result<Option<StoredConcern>, StoreError> {
        let row: Option<ConcernRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {CONCERN_COLUMNS} FROM concerns WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?;
        row.map(StoredConcern::try_from).transpose()
    }

    async fn concerns_by_author(&self, author: UserId) -> Result<Vec<StoredConcern>, StoreError> {
        self.concerns_where("author_id = $1", &[author.to_string()], "created_at DESC, id DESC")
            .await
    }

    async fn concerns_of_child(&self, child: ChildId) -> Result<Vec<StoredConcern>, StoreError> {
        // One row per concern, however it names the child (its own, or linked).
        self.concerns_where(
            "status = 'submitted' AND kind = 'concern' AND (child_id = $1 OR EXISTS \
             (SELECT 1 FROM concern_links l WHERE l.concern_id = c.id AND l.child_id = $1))",
            &[child.to_string()],
            "submitted_at DESC, id DESC",
        )
        .await
    }

    async fn unacknowledged_concerns(
        &self,
        kind: ConcernKind,
    ) -> Result<Vec<StoredConcern>, StoreError> {
        self.concerns_where(
            "status = 'submitted' AND kind = $1 AND NOT EXISTS \
             (SELECT 1 FROM concern_steps s WHERE s.concern_id = c.id AND s.kind = 'acknowledged')",
            &[kind.code().to_owned()],
            "urgent DESC, submitted_at, id",
        )
        .await
    }

    async fn recent_concerns(
        &self,
        kind: ConcernKind,
        limit: i64,
    ) -> Result<Vec<StoredConcern>, StoreError> {
        let rows: Vec<ConcernRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {CONCERN_COLUMNS} FROM concerns WHERE status = 'submitted' AND kind = $1 \
             ORDER BY submitted_at DESC, id DESC LIMIT $2"
        )))
        .bind(kind.code().to_owned())
        .bind(limit.max(0))
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(StoredConcern::try_from).collect()
    }

    async fn add_concern_step(
        &self,
        step: &StoredConcernStep,
        closes: &[Rule],
        audit: &AuditBatch<'_>,
    ) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        Self::insert_concern_step(&mut tx, step).await?;
        let closed = if closes.is_empty() {
            0
        } else {
            // Only open tasks: one done already keeps who did it, and when.
            let mut query = sqlx::query(AssertSqlSafe(format!(
                "UPDATE tasks SET done_at = $1, done_by = $2, version = version + 1, \
                 updated_at = $1 WHERE done_at IS NULL AND subject_type IN ({SUBJECT_TYPES}) \
                 AND subject_id = $3 AND rule IN ({})",
                placeholders(4, closes.len())
            )))
            .bind(to_micros(step.created_at))
            .bind(step.actor.to_string())
            .bind(step.concern_id.to_string());
            for rule in closes {
                query = query.bind(rule.code().to_owned());
            }
            let done = query.execute(&mut *tx).await.map_err(map_error)?;
            <DB as Engine>::rows_affected(&done)
        };
        self.commit_audited(tx, audit).await?;
        Ok(closed)
    }

    async fn concern_steps(
        &self,
        concern: ConcernId,
    ) -> Result<Vec<StoredConcernStep>, StoreError> {
        let rows: Vec<ConcernStepRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {STEP_COLUMNS} FROM concern_steps WHERE concern_id = $1 \
             ORDER BY created_at, id"
        )))
        .bind(concern.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(StoredConcernStep::try_from).collect()
    }

    async fn add_concern_addendum(
        &self,
        addendum: &StoredConcernAddendum,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO concern_addenda ({ADDENDUM_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"
        )))
        .bind(addendum.id.to_string())
        .bind(addendum.concern_id.to_string())
        .bind(addendum.author.to_string())
        .bind(addendum.sealed_under.code().to_owned())
        .bind(addendum.content.as_bytes().to_vec())
        .bind(to_micros(addendum.created_at))
        .execute(&mut *tx)
        .await
        .map_err(named)?;
        self.commit_audited(tx, audit).await
    }

    async fn concern_addenda(
        &self,
        concern: ConcernId,
    ) -> Result<Vec<StoredConcernAddendum>, StoreError> {
        let rows: Vec<ConcernAddendumRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {ADDENDUM_COLUMNS} FROM concern_addenda WHERE concern_id = $1 \
             ORDER BY created_at, id"
        )))
        .bind(concern.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(StoredConcernAddendum::try_from).collect()
    }

    async fn link_concern_child(
        &self,
        link: &ConcernLink,
        step: &StoredConcernStep,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError> {
        same_concern(link.concern_id, step.concern_id, "a link's step")?;
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        Self::insert_concern_link(&mut tx, link).await?;
        Self::insert_concern_step(&mut tx, step).await?;
        self.commit_audited(tx, audit).await
    }

    async fn concern_links(&self, concern: ConcernId) -> Result<Vec<ConcernLink>, StoreError> {
        let rows: Vec<ConcernLinkRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {LINK_COLUMNS} FROM concern_links WHERE concern_id = $1 \
             ORDER BY created_at, child_id"
        )))
        .bind(concern.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(ConcernLink::try_from).collect()
    }

    async fn concern_shares_for(
        &self,
        user: UserId,
    ) -> Result<Vec<(StoredConcern, StoredConcernStep)>, StoreError> {
        // The steps first: each names a concern that is there to be read after it (a step's
        // concern is submitted, and a submitted concern is never deleted).
        let rows: Vec<ConcernStepRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {STEP_COLUMNS} FROM concern_steps WHERE shared_with = $1 AND kind = $2 \
             ORDER BY created_at, id"
        )))
        .bind(user.to_string())
        .bind(StepKind::SharedWithTeam.code().to_owned())
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        let steps = rows
            .into_iter()
            .map(StoredConcernStep::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        if steps.is_empty() {
            return Ok(Vec::new());
        }
        let concerns = self
            .concerns_where(
                "id IN (SELECT s.concern_id FROM concern_steps s \
                 WHERE s.shared_with = $1 AND s.kind = $2)",
                &[user.to_string(), StepKind::SharedWithTeam.code().to_owned()],
                "id",
            )
            .await?;
        steps
            .into_iter()
            .map(|step| {
                concerns
                    .iter()
                    .find(|c| c.id == step.concern_id)
                    .cloned()
                    .map(|concern| (concern, step))
                    .ok_or_else(|| corrupt("shared step's concern"))
            })
            .collect()
    }
});
