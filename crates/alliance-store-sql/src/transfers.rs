//! Transfers of a child's safeguarding file to a new school: started (pending), sent (and
//! perhaps sent again, with a new file), received (final). Each move is a conditional update
//! at the version read and in the state it needs, so a stale or refused move writes nothing;
//! it closes the open task it answers and appends its audit in the same transaction. The
//! database itself refuses any change of a received transfer and the deletion of any.
//!
//! What a transfer says is sealed (`destination`, `export`, `receipt`); this module only
//! moves the bytes.

use crate::{Engine, from_micros, map_error, map_error_named, stale_or_missing, to_micros};
use alliance_core::Version;
use alliance_core::children::ChildId;
use alliance_core::crypto::Sealed;
use alliance_core::identity::UserId;
use alliance_core::tasks::Rule;
use alliance_service::store::{StoredTransfer, TransferStatus, TransferStore};
use alliance_service::{AuditBatch, StoreError};
use jiff::Timestamp;
use sqlx::AssertSqlSafe;
use uuid::Uuid;

const TRANSFER_COLUMNS: &str = "id, child_id, started_by, destination, due_at, counted_in, \
     status, export, sent_by, sent_at, receipt, received_by, received_at, version, \
     created_at, updated_at";

/// The record type a task about a transfer names as its subject.
const SUBJECT_TYPE: &str = "transfer";

/// SQLite names a broken unique constraint by its columns; PostgreSQL by its name.
const UNIQUE: &[(&str, &str)] = &[("safeguarding_transfers.id", "safeguarding_transfers_pkey")];

fn named(err: sqlx::Error) -> StoreError {
    map_error_named(err, UNIQUE)
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Other(format!("a stored {what} is not valid"))
}

/// The conflict named when a transfer is sent after its receipt was recorded.
fn received() -> StoreError {
    StoreError::Conflict("safeguarding_transfers_received".to_owned())
}

/// The conflict named when receipt is recorded of a transfer that is not (or no longer) sent.
fn not_sent() -> StoreError {
    StoreError::Conflict("safeguarding_transfers_not_sent".to_owned())
}

#[derive(Debug, sqlx::FromRow)]
pub struct TransferRow {
    pub id: String,
    pub child_id: String,
    pub started_by: String,
    pub destination: Vec<u8>,
    pub due_at: i64,
    pub counted_in: String,
    pub status: String,
    pub export: Option<Vec<u8>>,
    pub sent_by: Option<String>,
    pub sent_at: Option<i64>,
    pub receipt: Option<Vec<u8>>,
    pub received_by: Option<String>,
    pub received_at: Option<i64>,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl TryFrom<TransferRow> for StoredTransfer {
    type Error = StoreError;

    fn try_from(row: TransferRow) -> Result<Self, StoreError> {
        let user = |raw: Option<String>| raw.as_deref().map(crate::rows::user_id).transpose();
        Ok(StoredTransfer {
            id: Uuid::parse_str(&row.id).map_err(|_| corrupt("transfer id"))?,
            child_id: crate::rows::child_id(&row.child_id)?,
            started_by: crate::rows::user_id(&row.started_by)?,
            destination: Sealed::from_stored(row.destination),
            due_at: from_micros(row.due_at)?,
            counted_in: row.counted_in,
            status: TransferStatus::parse(&row.status).map_err(|_| corrupt("transfer status"))?,
            export: row.export.map(Sealed::from_stored),
            sent_by: user(row.sent_by)?,
            sent_at: crate::rows::optional_micros(row.sent_at)?,
            receipt: row.receipt.map(Sealed::from_stored),
            received_by: user(row.received_by)?,
            received_at: crate::rows::optional_micros(row.received_at)?,
            version: Version::new(row.version).map_err(|_| corrupt("transfer version"))?,
            created_at: from_micros(row.created_at)?,
            updated_at: from_micros(row.updated_at)?,
        })
    }
}

/// Where a transfer stands, read when a conditional move matched no row.
#[derive(Debug, sqlx::FromRow)]
pub struct TransferStateRow {
    pub status: String,
    pub version: i64,
}

/// A move of a transfer: what it sets, the state it needs, the task it answers.
#[derive(Clone, Copy)]
enum Move {
    Sent,
    Received,
}

impl Move {
    /// The assignments (`$1` the sealed value, `$2` by whom, `$3` when) and the state the
    /// move needs: both fixed clauses, never a value.
    fn sql(self) -> (&'static str, &'static str) {
        match self {
            // From pending, or sent again with a new file: anything but received.
            Move::Sent => (
                "status = 'sent', export = $1, sent_by = $2, sent_at = $3",
                "status <> 'received'",
            ),
            Move::Received => (
                "status = 'received', receipt = $1, received_by = $2, received_at = $3",
                "status = 'sent'",
            ),
        }
    }

    fn closes(self) -> Rule {
        match self {
            Move::Sent => Rule::SendSafeguardingFile,
            Move::Received => Rule::ConfirmFileReceived,
        }
    }

    /// Why the move matched no row, given where the transfer stands: the named conflict
    /// whatever its version, else stale.
    fn refused(self, state: &TransferStateRow) -> StoreError {
        let status = match TransferStatus::parse(&state.status) {
            Ok(status) => status,
            Err(_) => return corrupt("transfer status"),
        };
        match (self, status) {
            (Move::Sent, TransferStatus::Received) => received(),
            (Move::Received, TransferStatus::Pending | TransferStatus::Received) => not_sent(),
            _ => stale_or_missing(Some(state.version)),
        }
    }
}

impl_for_both_engines!(helpers {
    /// Moves transfer `id` at `expected`, closes the open tasks of the move's rule about it
    /// (marked done by `by` at `now`), and commits with `audit`; nothing written on a
    /// refusal.
    #[allow(clippy::too_many_arguments)]
    async fn move_transfer(
        &self,
        id: Uuid,
        step: Move,
        sealed: &Sealed,
        by: UserId,
        expected: Version,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredTransfer, StoreError> {
        let (assignments, needs) = step.sql();
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let row: Option<TransferRow> = sqlx::query_as(AssertSqlSafe(format!(
            "UPDATE safeguarding_transfers SET {assignments}, version = version + 1, \
             updated_at = $3 WHERE id = $4 AND version = $5 AND {needs} \
             RETURNING {TRANSFER_COLUMNS}"
        )))
        .bind(sealed.as_bytes().to_vec())
        .bind(by.to_string())
        .bind(to_micros(now))
        .bind(id.to_string())
        .bind(expected.get())
        .fetch_optional(&mut *tx)
        .await
        .map_err(named)?;
        let Some(row) = row else {
            let state: Option<TransferStateRow> = sqlx::query_as(
                "SELECT status, version FROM safeguarding_transfers WHERE id = $1",
            )
            .bind(id.to_string())
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_error)?;
            // Dropping the transaction rolls it back: nothing written, nothing audited.
            return Err(match state {
                Some(state) => step.refused(&state),
                None => StoreError::NotFound,
            });
        };
        let transfer = StoredTransfer::try_from(row)?;
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
        .bind(step.closes().code().to_owned())
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        self.commit_audited(tx, audit).await?;
        Ok(transfer)
    }
});

impl_for_both_engines!(TransferStore {
    async fn create_transfer(
        &self,
        transfer: &StoredTransfer,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError> {
        let unsent = transfer.export.is_none()
            && transfer.sent_by.is_none()
            && transfer.sent_at.is_none()
            && transfer.receipt.is_none()
            && transfer.received_by.is_none()
            && transfer.received_at.is_none();
        if transfer.status != TransferStatus::Pending || !unsent {
            return Err(StoreError::Other(
                "a new transfer is written as pending".to_owned(),
            ));
        }
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO safeguarding_transfers ({TRANSFER_COLUMNS}) VALUES ($1, $2, $3, $4, \
             $5, $6, $7, NULL, NULL, NULL, NULL, NULL, NULL, $8, $9, $10)"
        )))
        .bind(transfer.id.to_string())
        .bind(transfer.child_id.to_string())
        .bind(transfer.started_by.to_string())
        .bind(transfer.destination.as_bytes().to_vec())
        .bind(to_micros(transfer.due_at))
        .bind(transfer.counted_in.clone())
        .bind(transfer.status.code().to_owned())
        .bind(transfer.version.get())
        .bind(to_micros(transfer.created_at))
        .bind(to_micros(transfer.updated_at))
        .execute(&mut *tx)
        .await
        .map_err(named)?;
        self.commit_audited(tx, audit).await
    }

    async fn transfer(&self, id: Uuid) -> Result<Option<StoredTransfer>, StoreError> {
        let row: Option<TransferRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {TRANSFER_COLUMNS} FROM safeguarding_transfers WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?;
        row.map(StoredTransfer::try_from).transpose()
    }

    async fn transfers_of_child(
        &self,
        child: ChildId,
    ) -> Result<Vec<StoredTransfer>, StoreError> {
        let rows: Vec<TransferRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {TRANSFER_COLUMNS} FROM safeguarding_transfers WHERE child_id = $1 \
             ORDER BY created_at DESC, id DESC"
        )))
        .bind(child.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(StoredTransfer::try_from).collect()
    }

    async fn record_transfer_sent(
        &self,
        id: Uuid,
        export: &Sealed,
        by: UserId,
        expected: Version,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredTransfer, StoreError> {
        self.move_transfer(id, Move::Sent, export, by, expected, now, audit)
            .await
    }

    async fn record_transfer_received(
        &self,
        id: Uuid,
        receipt: &Sealed,
        by: UserId,
        expected: Version,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredTransfer, StoreError> {
        self.move_transfer(id, Move::Received, receipt, by, expected, now, audit)
            .await
    }
});
