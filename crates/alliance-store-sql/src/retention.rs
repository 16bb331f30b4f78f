//! Legal holds, the DSL's retention flags, destruction requests (issue 15). Each change is a
//! conditional write at the version read (and, for a request, in the state it needs), so a
//! stale or refused change writes nothing; it appends its audit in the same transaction. The
//! database itself keeps one hold set per child, one open request and one destruction per child
//! and class, and refuses to delete a hold or a request or to change a decided request.
//!
//! What a hold or flag says is sealed (`legal_holds.reason`, `.lift_reason`,
//! `retention_flags.flag`); this module only moves the bytes. No retention date is stored.

use crate::{Engine, from_micros, map_error, map_error_named, stale_or_missing, to_micros};
use alliance_core::Version;
use alliance_core::children::ChildId;
use alliance_core::crypto::{RecordClass, Sealed};
use alliance_core::identity::UserId;
use alliance_core::tasks::Rule;
use alliance_service::store::{
    DestructionStatus, RetentionStore, StoredDestructionRequest, StoredLegalHold,
    StoredRetentionFlag,
};
use alliance_service::{AuditBatch, StoreError};
use jiff::Timestamp;
use sqlx::AssertSqlSafe;
use uuid::Uuid;

const HOLD_COLUMNS: &str = "id, child_id, reason, set_by, set_at, lifted_by, lifted_at, \
     lift_reason, version";

const FLAG_COLUMNS: &str = "child_id, flag, set_by, set_at, version";

const REQUEST_COLUMNS: &str = "id, child_id, class, status, requested_by, requested_at, \
     decided_by, decided_at, sole_practitioner, version, updated_at";

/// The record type a task about a destruction request names as its subject.
const SUBJECT_TYPE: &str = "destruction";

/// SQLite names a broken unique constraint by its columns; PostgreSQL by its name.
const UNIQUE: &[(&str, &str)] = &[
    ("legal_holds.child_id", "legal_holds_one_active"),
    ("legal_holds.id", "legal_holds_pkey"),
    ("retention_flags.child_id", "retention_flags_pkey"),
    ("destruction_requests.id", "destruction_requests_pkey"),
];

/// A request for a child and class collides with an open one or a destruction: which, read
/// back inside the transaction (SQLite names both partial indexes by the same columns).
fn named(err: sqlx::Error) -> StoreError {
    map_error_named(err, UNIQUE)
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Other(format!("a stored {what} is not valid"))
}

#[derive(Debug, sqlx::FromRow)]
pub struct LegalHoldRow {
    pub id: String,
    pub child_id: String,
    pub reason: Vec<u8>,
    pub set_by: String,
    pub set_at: i64,
    pub lifted_by: Option<String>,
    pub lifted_at: Option<i64>,
    pub lift_reason: Option<Vec<u8>>,
    pub version: i64,
}

impl TryFrom<LegalHoldRow> for StoredLegalHold {
    type Error = StoreError;

    fn try_from(row: LegalHoldRow) -> Result<Self, StoreError> {
        Ok(StoredLegalHold {
            id: Uuid::parse_str(&row.id).map_err(|_| corrupt("legal hold id"))?,
            child_id: crate::rows::child_id(&row.child_id)?,
            reason: Sealed::from_stored(row.reason),
            set_by: crate::rows::user_id(&row.set_by)?,
            set_at: from_micros(row.set_at)?,
            lifted_by: row
                .lifted_by
                .as_deref()
                .map(crate::rows::user_id)
                .transpose()?,
            lifted_at: crate::rows::optional_micros(row.lifted_at)?,
            lift_reason: row.lift_reason.map(Sealed::from_stored),
            version: Version::new(row.version).map_err(|_| corrupt("legal hold version"))?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct RetentionFlagRow {
    pub child_id: String,
    pub flag: Vec<u8>,
    pub set_by: String,
    pub set_at: i64,
    pub version: i64,
}

impl TryFrom<RetentionFlagRow> for StoredRetentionFlag {
    type Error = StoreError;

    fn try_from(row: RetentionFlagRow) -> Result<Self, StoreError> {
        Ok(StoredRetentionFlag {
            child_id: crate::rows::child_id(&row.child_id)?,
            flag: Sealed::from_stored(row.flag),
            set_by: crate::rows::user_id(&row.set_by)?,
            set_at: from_micros(row.set_at)?,
            version: Version::new(row.version).map_err(|_| corrupt("retention flag version"))?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct DestructionRow {
    pub id: String,
    pub child_id: String,
    pub class: String,
    pub status: String,
    pub requested_by: String,
    pub requested_at: i64,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    pub sole_practitioner: bool,
    pub version: i64,
    pub updated_at: i64,
}

impl TryFrom<DestructionRow> for StoredDestructionRequest {
    type Error = StoreError;

    fn try_from(row: DestructionRow) -> Result<Self, StoreError> {
        Ok(StoredDestructionRequest {
            id: Uuid::parse_str(&row.id).map_err(|_| corrupt("destruction request id"))?,
            child_id: crate::rows::child_id(&row.child_id)?,
            class: RecordClass::parse(&row.class).map_err(|_| corrupt("record class"))?,
            status: DestructionStatus::parse(&row.status)
                .map_err(|_| corrupt("destruction status"))?,
            requested_by: crate::rows::user_id(&row.requested_by)?,
            requested_at: from_micros(row.requested_at)?,
            decided_by: row
                .decided_by
                .as_deref()
                .map(crate::rows::user_id)
                .transpose()?,
            decided_at: crate::rows::optional_micros(row.decided_at)?,
            sole_practitioner: row.sole_practitioner,
            version: Version::new(row.version)
                .map_err(|_| corrupt("destruction request version"))?,
            updated_at: from_micros(row.updated_at)?,
        })
    }
}

/// Where a row stands, read when a conditional change matched no row.
#[derive(Debug, sqlx::FromRow)]
pub struct RetentionStateRow {
    pub state: String,
    pub version: i64,
}

impl_for_both_engines!(RetentionStore {
    async fn legal_holds_of(&self, child: ChildId) -> Result<Vec<StoredLegalHold>, StoreError> {
        let rows: Vec<LegalHoldRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {HOLD_COLUMNS} FROM legal_holds WHERE child_id = $1 \
             ORDER BY set_at DESC, id DESC"
        )))
        .bind(child.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(StoredLegalHold::try_from).collect()
    }

    async fn children_on_legal_hold(&self) -> Result<Vec<ChildId>, StoreError> {
        let rows: Vec<crate::rows::IdRow> = sqlx::query_as(
            "SELECT child_id AS id FROM legal_holds WHERE lifted_at IS NULL ORDER BY child_id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.iter().map(|r| crate::rows::child_id(&r.id)).collect()
    }

    async fn set_legal_hold(
        &self,
        hold: &StoredLegalHold,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError> {
        if hold.lifted_at.is_some() || hold.lifted_by.is_some() || hold.lift_reason.is_some() {
            return Err(StoreError::Other("a new legal hold is written set".to_owned()));
        }
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO legal_holds ({HOLD_COLUMNS}) VALUES ($1, $2, $3, $4, $5, NULL, NULL, \
             NULL, $6)"
        )))
        .bind(hold.id.to_string())
        .bind(hold.child_id.to_string())
        .bind(hold.reason.as_bytes().to_vec())
        .bind(hold.set_by.to_string())
        .bind(to_micros(hold.set_at))
        .bind(hold.version.get())
        .execute(&mut *tx)
        .await
        .map_err(named)?;
        self.commit_audited(tx, audit).await
    }

    async fn lift_legal_hold(
        &self,
        id: Uuid,
        by: UserId,
        reason: &Sealed,
        expected: Version,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredLegalHold, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let row: Option<LegalHoldRow> = sqlx::query_as(AssertSqlSafe(format!(
            "UPDATE legal_holds SET lifted_by = $1, lifted_at = $2, lift_reason = $3, \
             version = version + 1 WHERE id = $4 AND version = $5 AND lifted_at IS NULL \
             RETURNING {HOLD_COLUMNS}"
        )))
        .bind(by.to_string())
        .bind(to_micros(now))
        .bind(reason.as_bytes().to_vec())
        .bind(id.to_string())
        .bind(expected.get())
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_error)?;
        let Some(row) = row else {
            let state: Option<RetentionStateRow> = sqlx::query_as(
                "SELECT CASE WHEN lifted_at IS NULL THEN 'set' ELSE 'lifted' END AS state, \
                 version FROM legal_holds WHERE id = $1",
            )
            .bind(id.to_string())
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_error)?;
            // Dropping the transaction rolls it back: nothing written, nothing audited.
            return Err(match state {
                Some(s) if s.state == "lifted" => {
                    StoreError::Conflict("legal_holds_lifted".to_owned())
                }
                other => stale_or_missing(other.map(|s| s.version)),
            });
        };
        let hold = StoredLegalHold::try_from(row)?;
        self.commit_audited(tx, audit).await?;
        Ok(hold)
    }

    async fn retention_flag(
        &self,
        child: ChildId,
    ) -> Result<Option<StoredRetentionFlag>, StoreError> {
        let row: Option<RetentionFlagRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {FLAG_COLUMNS} FROM retention_flags WHERE child_id = $1"
        )))
        .bind(child.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?;
        row.map(StoredRetentionFlag::try_from).transpose()
    }

    async fn retention_flags(&self) -> Result<Vec<StoredRetentionFlag>, StoreError> {
        let rows: Vec<RetentionFlagRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {FLAG_COLUMNS} FROM retention_flags ORDER BY child_id"
        )))
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(StoredRetentionFlag::try_from).collect()
    }

    async fn put_retention_flag(
        &self,
        flag: &StoredRetentionFlag,
        expected: Option<Version>,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredRetentionFlag, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let row: Option<RetentionFlagRow> = match expected {
            None => sqlx::query_as(AssertSqlSafe(format!(
                "INSERT INTO retention_flags ({FLAG_COLUMNS}) VALUES ($1, $2, $3, $4, 1) \
                 ON CONFLICT (child_id) DO NOTHING RETURNING {FLAG_COLUMNS}"
            )))
            .bind(flag.child_id.to_string())
            .bind(flag.flag.as_bytes().to_vec())
            .bind(flag.set_by.to_string())
            .bind(to_micros(flag.set_at))
            .fetch_optional(&mut *tx)
            .await
            .map_err(named)?,
            Some(expected) => sqlx::query_as(AssertSqlSafe(format!(
                "UPDATE retention_flags SET flag = $1, set_by = $2, set_at = $3, \
                 version = version + 1 WHERE child_id = $4 AND version = $5 \
                 RETURNING {FLAG_COLUMNS}"
            )))
            .bind(flag.flag.as_bytes().to_vec())
            .bind(flag.set_by.to_string())
            .bind(to_micros(flag.set_at))
            .bind(flag.child_id.to_string())
            .bind(expected.get())
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_error)?,
        };
        let Some(row) = row else {
            let current: Option<crate::rows::VersionRow> =
                sqlx::query_as("SELECT version FROM retention_flags WHERE child_id = $1")
                    .bind(flag.child_id.to_string())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(map_error)?;
            return Err(stale_or_missing(current.map(|c| c.version)));
        };
        let stored = StoredRetentionFlag::try_from(row)?;
        self.commit_audited(tx, audit).await?;
        Ok(stored)
    }

    async fn create_destruction_request(
        &self,
        request: &StoredDestructionRequest,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError> {
        if request.status != DestructionStatus::Requested
            || request.decided_by.is_some()
            || request.decided_at.is_some()
            || request.sole_practitioner
        {
            return Err(StoreError::Other(
                "a new destruction request is written as requested".to_owned(),
            ));
        }
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        // The partial unique indexes would refuse it too; asking first names which, the same
        // on both engines.
        let taken: Option<crate::rows::IdRow> = sqlx::query_as(
            "SELECT status AS id FROM destruction_requests WHERE child_id = $1 AND class = $2 \
             AND status IN ('requested', 'destroyed') ORDER BY status LIMIT 1",
        )
        .bind(request.child_id.to_string())
        .bind(request.class.code().to_owned())
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_error)?;
        if let Some(taken) = taken {
            return Err(StoreError::Conflict(if taken.id == "destroyed" {
                "destruction_requests_one_destroyed".to_owned()
            } else {
                "destruction_requests_one_open".to_owned()
            }));
        }
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO destruction_requests ({REQUEST_COLUMNS}) VALUES ($1, $2, $3, $4, $5, \
             $6, NULL, NULL, FALSE, $7, $8)"
        )))
        .bind(request.id.to_string())
        .bind(request.child_id.to_string())
        .bind(request.class.code().to_owned())
        .bind(request.status.code().to_owned())
        .bind(request.requested_by.to_string())
        .bind(to_micros(request.requested_at))
        .bind(request.version.get())
        .bind(to_micros(request.updated_at))
        .execute(&mut *tx)
        .await
        .map_err(|e| match named(e) {
            // Another request won the race for the open one.
            StoreError::Conflict(c) if c.contains("child_id") || c.contains("one_") => {
                StoreError::Conflict("destruction_requests_one_open".to_owned())
            }
            other => other,
        })?;
        self.commit_audited(tx, audit).await
    }

    async fn destruction_request(
        &self,
        id: Uuid,
    ) -> Result<Option<StoredDestructionRequest>, StoreError> {
        let row: Option<DestructionRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {REQUEST_COLUMNS} FROM destruction_requests WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?;
        row.map(StoredDestructionRequest::try_from).transpose()
    }

    async fn destruction_requests_of(
        &self,
        child: ChildId,
    ) -> Result<Vec<StoredDestructionRequest>, StoreError> {
        let rows: Vec<DestructionRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {REQUEST_COLUMNS} FROM destruction_requests WHERE child_id = $1 \
             ORDER BY requested_at DESC, id DESC"
        )))
        .bind(child.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(StoredDestructionRequest::try_from).collect()
    }

    async fn destruction_requests_in(
        &self,
        status: DestructionStatus,
    ) -> Result<Vec<StoredDestructionRequest>, StoreError> {
        let rows: Vec<DestructionRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {REQUEST_COLUMNS} FROM destruction_requests WHERE status = $1 \
             ORDER BY requested_at, id"
        )))
        .bind(status.code().to_owned())
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(StoredDestructionRequest::try_from).collect()
    }

    async fn decide_destruction_request(
        &self,
        id: Uuid,
        status: DestructionStatus,
        by: UserId,
        sole_practitioner: bool,
        expected: Version,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredDestructionRequest, StoreError> {
        if status == DestructionStatus::Requested
            || (sole_practitioner && status != DestructionStatus::Destroyed)
        {
            return Err(StoreError::Other(
                "a request is decided as destroyed, refused or withdrawn".to_owned(),
            ));
        }
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let row: Option<DestructionRow> = sqlx::query_as(AssertSqlSafe(format!(
            "UPDATE destruction_requests SET status = $1, decided_by = $2, decided_at = $3, \
             sole_practitioner = $4, version = version + 1, updated_at = $3 \
             WHERE id = $5 AND version = $6 AND status = 'requested' \
             RETURNING {REQUEST_COLUMNS}"
        )))
        .bind(status.code().to_owned())
        .bind(by.to_string())
        .bind(to_micros(now))
        .bind(sole_practitioner)
        .bind(id.to_string())
        .bind(expected.get())
        .fetch_optional(&mut *tx)
        .await
        .map_err(named)?;
        let Some(row) = row else {
            let state: Option<RetentionStateRow> = sqlx::query_as(
                "SELECT status AS state, version FROM destruction_requests WHERE id = $1",
            )
            .bind(id.to_string())
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_error)?;
            return Err(match state {
                Some(s) if s.state != "requested" => {
                    StoreError::Conflict("destruction_requests_decided".to_owned())
                }
                other => stale_or_missing(other.map(|s| s.version)),
            });
        };
        let request = StoredDestructionRequest::try_from(row)?;
        // Only open tasks: one done already keeps who did it, and when.
        sqlx::query(
            "UPDATE tasks SET done_at = $1, done_by = $2, version = version + 1, \
             updated_at = $1 WHERE done_at IS NULL AND subject_type = $3 \
             AND subject_id = $4 AND rule = $5",
        )
        .bind(to_micros(now))
        .bind(by.to_string())
        .bind(SUBJECT_TYPE.to_owned())
        .bind(id.to_string())
        .bind(Rule::ApproveDestruction.code().to_owned())
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        self.commit_audited(tx, audit).await?;
        Ok(request)
    }
});
