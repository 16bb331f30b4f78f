//! Session records: one per session (`session_records_session`), a draft replaced at every
//! save, then signed and locked; after that only amendments are added (the record's own
//! content stays as it was signed) and the sharing with the parent-worker moves. Every change
//! of a record is a conditional update at the version read and in the status it needs, so a
//! stale or refused change writes nothing.
//!
//! What a record and an amendment say is sealed (`session_records.content`,
//! `session_record_amendments.content`); this module only moves the bytes.

use crate::{Engine, from_micros, map_error, map_error_named, stale_or_missing, to_micros};
use alliance_core::Version;
use alliance_core::cases::CaseId;
use alliance_core::crypto::Sealed;
use alliance_core::identity::UserId;
use alliance_core::schedule::BookingId;
use alliance_core::session_records::RecordStatus;
use alliance_service::store::{SessionRecordStore, StoredAmendment, StoredSessionRecord};
use alliance_service::{AuditBatch, StoreError};
use jiff::Timestamp;
use sqlx::AssertSqlSafe;
use uuid::Uuid;

const RECORD_COLUMNS: &str = "id, session_id, case_id, child_id, author, status, content, \
     version, created_at, updated_at, signed_at, shared_at, shared_by";

const AMENDMENT_COLUMNS: &str = "id, record_id, content, author, created_at";

/// SQLite names a broken unique constraint or index by its columns; PostgreSQL by its name.
const UNIQUE: &[(&str, &str)] = &[
    ("session_records.id", "session_records_pkey"),
    // One record per session.
    ("session_records.session_id", "session_records_session"),
    (
        "session_record_amendments.id",
        "session_record_amendments_pkey",
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

fn status(raw: &str) -> Result<RecordStatus, StoreError> {
    RecordStatus::parse(raw).map_err(|_| corrupt("session record status"))
}

/// The conflict named when a change needs a record in `needed` and finds it in the other
/// status: a signed record is not saved or signed again; a draft is not amended or shared.
fn wrong_status(needed: RecordStatus) -> StoreError {
    StoreError::Conflict(
        match needed {
            RecordStatus::Draft => "session_records_signed",
            RecordStatus::Signed => "session_records_draft",
        }
        .to_owned(),
    )
}

#[derive(Debug, sqlx::FromRow)]
pub struct SessionRecordRow {
    pub id: String,
    pub session_id: String,
    pub case_id: String,
    pub child_id: String,
    pub author: String,
    pub status: String,
    pub content: Vec<u8>,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub signed_at: Option<i64>,
    pub shared_at: Option<i64>,
    pub shared_by: Option<String>,
}

impl TryFrom<SessionRecordRow> for StoredSessionRecord {
    type Error = StoreError;

    fn try_from(row: SessionRecordRow) -> Result<Self, StoreError> {
        Ok(StoredSessionRecord {
            id: uuid("session record id", &row.id)?,
            session_id: BookingId::parse(&row.session_id).map_err(|_| corrupt("session id"))?,
            case_id: crate::rows::case_id(&row.case_id)?,
            child_id: crate::rows::child_id(&row.child_id)?,
            author: crate::rows::user_id(&row.author)?,
            status: status(&row.status)?,
            content: Sealed::from_stored(row.content),
            version: Version::new(row.version).map_err(|_| corrupt("session record version"))?,
            created_at: from_micros(row.created_at)?,
            updated_at: from_micros(row.updated_at)?,
            signed_at: crate::rows::optional_micros(row.signed_at)?,
            shared_at: crate::rows::optional_micros(row.shared_at)?,
            shared_by: row
                .shared_by
                .as_deref()
                .map(crate::rows::user_id)
                .transpose()?,
        })
    }
}

/// Where a record stands, read when a conditional change matched no row.
#[derive(Debug, sqlx::FromRow)]
pub struct RecordStateRow {
    pub status: String,
    pub version: i64,
}

#[derive(Debug, sqlx::FromRow)]
pub struct AmendmentRow {
    pub id: String,
    pub record_id: String,
    pub content: Vec<u8>,
    pub author: String,
    pub created_at: i64,
}

impl TryFrom<AmendmentRow> for StoredAmendment {
    type Error = StoreError;

    fn try_from(row: AmendmentRow) -> Result<Self, StoreError> {
        Ok(StoredAmendment {
            id: uuid("amendment id", &row.id)?,
            record_id: uuid("session record id", &row.record_id)?,
            content: Sealed::from_stored(row.content),
            author: crate::rows::user_id(&row.author)?,
            created_at: from_micros(row.created_at)?,
        })
    }
}

impl_for_both_engines!(helpers {
    /// Why a change of record `id`, which needs it in `needed` at the version read, matched
    /// no row, read in the same transaction: the record is gone (not found), it is in the
    /// other status (the conflict that status names, whatever its version), or it has moved
    /// on (stale).
    async fn why_record_unchanged(
        tx: &mut sqlx::Transaction<'static, DB>,
        id: Uuid,
        needed: RecordStatus,
    ) -> StoreError {
        let current: Result<Option<RecordStateRow>, _> =
            sqlx::query_as("SELECT status, version FROM session_records WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(&mut **tx)
                .await;
        match current {
            Ok(Some(state)) => match status(&state.status) {
                Ok(found) if found != needed => wrong_status(needed),
                Ok(_) => stale_or_missing(Some(state.version)),
                Err(e) => e,
            },
            Ok(None) => StoreError::NotFound,
            Err(e) => map_error(e),
        }
    }

    /// Replaces a draft's content at `expected` (and signs it when `sign`): one conditional
    /// update, audited; nothing written on a refusal.
    async fn change_draft(
        &self,
        id: Uuid,
        content: &Sealed,
        expected: Version,
        sign: bool,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredSessionRecord, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let now = to_micros(now);
        // Signing sets the status and `signed_at` in the same statement as the final content:
        // the status test in the WHERE clause is what makes a signed record stay as signed.
        let signing = if sign {
            ", status = 'signed', signed_at = $2"
        } else {
            ""
        };
        let row: Option<SessionRecordRow> = sqlx::query_as(AssertSqlSafe(format!(
            "UPDATE session_records SET content = $1, version = version + 1, updated_at = $2\
             {signing} WHERE id = $3 AND version = $4 AND status = 'draft' \
             RETURNING {RECORD_COLUMNS}"
        )))
        .bind(content.as_bytes().to_vec())
        .bind(now)
        .bind(id.to_string())
        .bind(expected.get())
        .fetch_optional(&mut *tx)
        .await
        .map_err(named)?;
        let Some(row) = row else {
            // Dropping the transaction rolls it back: nothing written, nothing audited.
            return Err(Self::why_record_unchanged(&mut tx, id, RecordStatus::Draft).await);
        };
        self.commit_audited(tx, audit).await?;
        row.try_into()
    }
});

impl_for_both_engines!(SessionRecordStore {
    async fn create_session_record(
        &self,
        record: &StoredSessionRecord,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError> {
        if record.status != RecordStatus::Draft
            || record.signed_at.is_some()
            || record.shared_at.is_some()
            || record.shared_by.is_some()
        {
            return Err(StoreError::Other(
                "a new session record is written as an unshared draft".to_owned(),
            ));
        }
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO session_records ({RECORD_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, NULL, NULL)"
        )))
        .bind(record.id.to_string())
        .bind(record.session_id.to_string())
        .bind(record.case_id.to_string())
        .bind(record.child_id.to_string())
        .bind(record.author.to_string())
        .bind(record.status.code().to_owned())
        .bind(record.content.as_bytes().to_vec())
        .bind(record.version.get())
        .bind(to_micros(record.created_at))
        .bind(to_micros(record.updated_at))
        .execute(&mut *tx)
        .await
        .map_err(named)?;
        self.commit_audited(tx, audit).await
    }

    async fn save_session_record_draft(
        &self,
        id: Uuid,
        content: &Sealed,
        expected: Version,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredSessionRecord, StoreError> {
        self.change_draft(id, content, expected, false, now, audit).await
    }

    async fn sign_session_record(
        &self,
        id: Uuid,
        content: &Sealed,
        expected: Version,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredSessionRecord, StoreError> {
        self.change_draft(id, content, expected, true, now, audit).await
    }

    async fn amend_session_record(
        &self,
        amendment: &StoredAmendment,
        expected: Version,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredSessionRecord, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        // The record first: the update locks its row until the commit, so two amendments at
        // one version take turns and the second finds the record moved on.
        let row: Option<SessionRecordRow> = sqlx::query_as(AssertSqlSafe(format!(
            "UPDATE session_records SET version = version + 1, updated_at = $1 \
             WHERE id = $2 AND version = $3 AND status = 'signed' \
             RETURNING {RECORD_COLUMNS}"
        )))
        .bind(to_micros(amendment.created_at))
        .bind(amendment.record_id.to_string())
        .bind(expected.get())
        .fetch_optional(&mut *tx)
        .await
        .map_err(named)?;
        let Some(row) = row else {
            return Err(
                Self::why_record_unchanged(&mut tx, amendment.record_id, RecordStatus::Signed)
                    .await,
            );
        };
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO session_record_amendments ({AMENDMENT_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5)"
        )))
        .bind(amendment.id.to_string())
        .bind(amendment.record_id.to_string())
        .bind(amendment.content.as_bytes().to_vec())
        .bind(amendment.author.to_string())
        .bind(to_micros(amendment.created_at))
        .execute(&mut *tx)
        .await
        .map_err(named)?;
        self.commit_audited(tx, audit).await?;
        row.try_into()
    }

    async fn share_session_record(
        &self,
        id: Uuid,
        by: Option<UserId>,
        expected: Version,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredSessionRecord, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let row: Option<SessionRecordRow> = sqlx::query_as(AssertSqlSafe(format!(
            "UPDATE session_records SET shared_at = $1, shared_by = $2, version = version + 1 \
             WHERE id = $3 AND version = $4 AND status = 'signed' \
             RETURNING {RECORD_COLUMNS}"
        )))
        .bind(by.map(|_| to_micros(now)))
        .bind(by.map(|u| u.to_string()))
        .bind(id.to_string())
        .bind(expected.get())
        .fetch_optional(&mut *tx)
        .await
        .map_err(named)?;
        let Some(row) = row else {
            return Err(Self::why_record_unchanged(&mut tx, id, RecordStatus::Signed).await);
        };
        self.commit_audited(tx, audit).await?;
        row.try_into()
    }

    async fn session_record(&self, id: Uuid) -> Result<Option<StoredSessionRecord>, StoreError> {
        let row: Option<SessionRecordRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {RECORD_COLUMNS} FROM session_records WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?;
        row.map(StoredSessionRecord::try_from).transpose()
    }

    async fn session_record_of_session(
        &self,
        session: BookingId,
    ) -> Result<Option<StoredSessionRecord>, StoreError> {
        let row: Option<SessionRecordRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {RECORD_COLUMNS} FROM session_records WHERE session_id = $1"
        )))
        .bind(session.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?;
        row.map(StoredSessionRecord::try_from).transpose()
    }

    async fn session_records_of_case(
        &self,
        case: CaseId,
    ) -> Result<Vec<StoredSessionRecord>, StoreError> {
        let rows: Vec<SessionRecordRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {RECORD_COLUMNS} FROM session_records WHERE case_id = $1 \
             ORDER BY created_at DESC, id DESC"
        )))
        .bind(case.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(StoredSessionRecord::try_from).collect()
    }

    async fn amendments(&self, record: Uuid) -> Result<Vec<StoredAmendment>, StoreError> {
        let rows: Vec<AmendmentRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {AMENDMENT_COLUMNS} FROM session_record_amendments WHERE record_id = $1 \
             ORDER BY created_at, id"
        )))
        .bind(record.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(StoredAmendment::try_from).collect()
    }
});
