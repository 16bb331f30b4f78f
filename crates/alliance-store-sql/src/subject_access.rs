//! Subject access requests: the request (a conditional update at the version read, so a stale
//! or refused change writes nothing), the pauses of its clock (written in the same
//! transaction as the status they change), each item's decision (while the request is in the
//! status the decider needs), and the two reads only a named reviewer's use-case asks for:
//! every author's process notes about a child, and the supervision records that name its
//! cases. The database refuses any change of a closed request and the deletion of any.
//!
//! What a request says is sealed (`details`, `opinion`, `bundle`, each item's `detail`); this
//! module only moves the bytes.

use crate::case_notes::{NoteRow, SupervisionRow};
use crate::rows::Number;
use crate::{
    Engine, from_micros, map_error, map_error_named, placeholders, stale_or_missing, to_micros,
};
use alliance_core::Version;
use alliance_core::children::{CarerId, ChildId};
use alliance_core::crypto::{RecordClass, Sealed};
use alliance_core::subject_access::{
    Decision, ItemKind, PauseReason, Reason, RequesterKind, Status,
};
use alliance_service::store::{
    PauseChange, StoredSarItem, StoredSarPause, StoredSubjectAccess, SubjectAccessStore,
};
use alliance_service::{AuditBatch, StoreError, StoredProcessNote, StoredSupervision};
use jiff::civil::Date;
use sqlx::AssertSqlSafe;
use uuid::Uuid;

const REQUEST_COLUMNS: &str = "id, child_id, requester_kind, carer_id, details, received_on, \
     status, extended_on, extension_told_on, reviewer_id, reviewer_until, reviewer_named_by, \
     opinion, dsl_reviewed_by, dsl_reviewed_at, bundle, closed_by, closed_at, logged_by, \
     version, created_at, updated_at";
const PAUSE_COLUMNS: &str =
    "id, request_id, reason, started_on, ended_on, started_by, ended_by, created_at";
const ITEM_COLUMNS: &str = "request_id, item_kind, item_id, decision, reason, sealed_class, \
     detail, decided_by, decided_at";
const NOTE_COLUMNS: &str = "id, case_id, child_id, author, text, created_at";
const SUPERVISION_COLUMNS: &str =
    "id, supervisor, supervisee, held_on, minutes, cases, is_group, actions, created_at";

/// SQLite names a broken unique constraint by its columns; PostgreSQL by its name.
const UNIQUE: &[(&str, &str)] = &[
    ("subject_access_requests.id", "subject_access_requests_pkey"),
    (
        "subject_access_pauses.request_id",
        "subject_access_pauses_one_open",
    ),
];

fn named(err: sqlx::Error) -> StoreError {
    map_error_named(err, UNIQUE)
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Other(format!("a stored {what} is not valid"))
}

fn day(raw: &str, what: &str) -> Result<Date, StoreError> {
    raw.parse().map_err(|_| corrupt(what))
}

fn optional_day(raw: Option<String>, what: &str) -> Result<Option<Date>, StoreError> {
    raw.as_deref().map(|d| day(d, what)).transpose()
}

fn user(raw: Option<String>) -> Result<Option<alliance_core::identity::UserId>, StoreError> {
    raw.as_deref().map(crate::rows::user_id).transpose()
}

/// The conflict named when an item is decided in a status that does not allow it.
fn closed_to_decisions() -> StoreError {
    StoreError::Conflict("subject_access_items_closed".to_owned())
}

#[derive(Debug, sqlx::FromRow)]
pub struct SarRow {
    pub id: String,
    pub child_id: String,
    pub requester_kind: String,
    pub carer_id: Option<String>,
    pub details: Vec<u8>,
    pub received_on: String,
    pub status: String,
    pub extended_on: Option<String>,
    pub extension_told_on: Option<String>,
    pub reviewer_id: Option<String>,
    pub reviewer_until: Option<i64>,
    pub reviewer_named_by: Option<String>,
    pub opinion: Option<Vec<u8>>,
    pub dsl_reviewed_by: Option<String>,
    pub dsl_reviewed_at: Option<i64>,
    pub bundle: Option<Vec<u8>>,
    pub closed_by: Option<String>,
    pub closed_at: Option<i64>,
    pub logged_by: String,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl TryFrom<SarRow> for StoredSubjectAccess {
    type Error = StoreError;

    fn try_from(row: SarRow) -> Result<Self, StoreError> {
        Ok(StoredSubjectAccess {
            id: Uuid::parse_str(&row.id).map_err(|_| corrupt("request id"))?,
            child_id: crate::rows::child_id(&row.child_id)?,
            requester_kind: RequesterKind::parse(&row.requester_kind)
                .map_err(|_| corrupt("requester kind"))?,
            carer_id: row
                .carer_id
                .as_deref()
                .map(|c| CarerId::parse(c).map_err(|_| corrupt("carer id")))
                .transpose()?,
            details: Sealed::from_stored(row.details),
            received_on: day(&row.received_on, "received day")?,
            status: Status::parse(&row.status).map_err(|_| corrupt("request status"))?,
            extended_on: optional_day(row.extended_on, "extension day")?,
            extension_told_on: optional_day(row.extension_told_on, "extension day")?,
            reviewer: user(row.reviewer_id)?,
            reviewer_until: crate::rows::optional_micros(row.reviewer_until)?,
            reviewer_named_by: user(row.reviewer_named_by)?,
            opinion: row.opinion.map(Sealed::from_stored),
            dsl_reviewed_by: user(row.dsl_reviewed_by)?,
            dsl_reviewed_at: crate::rows::optional_micros(row.dsl_reviewed_at)?,
            bundle: row.bundle.map(Sealed::from_stored),
            closed_by: user(row.closed_by)?,
            closed_at: crate::rows::optional_micros(row.closed_at)?,
            logged_by: crate::rows::user_id(&row.logged_by)?,
            version: Version::new(row.version).map_err(|_| corrupt("request version"))?,
            created_at: from_micros(row.created_at)?,
            updated_at: from_micros(row.updated_at)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct SarPauseRow {
    pub id: String,
    pub request_id: String,
    pub reason: String,
    pub started_on: String,
    pub ended_on: Option<String>,
    pub started_by: String,
    pub ended_by: Option<String>,
    pub created_at: i64,
}

impl TryFrom<SarPauseRow> for StoredSarPause {
    type Error = StoreError;

    fn try_from(row: SarPauseRow) -> Result<Self, StoreError> {
        Ok(StoredSarPause {
            id: Uuid::parse_str(&row.id).map_err(|_| corrupt("pause id"))?,
            request_id: Uuid::parse_str(&row.request_id).map_err(|_| corrupt("request id"))?,
            reason: PauseReason::parse(&row.reason).map_err(|_| corrupt("pause reason"))?,
            started_on: day(&row.started_on, "pause day")?,
            ended_on: optional_day(row.ended_on, "pause day")?,
            started_by: crate::rows::user_id(&row.started_by)?,
            ended_by: user(row.ended_by)?,
            created_at: from_micros(row.created_at)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct SarItemRow {
    pub request_id: String,
    pub item_kind: String,
    pub item_id: String,
    pub decision: String,
    pub reason: Option<String>,
    pub sealed_class: String,
    pub detail: Vec<u8>,
    pub decided_by: String,
    pub decided_at: i64,
}

impl TryFrom<SarItemRow> for StoredSarItem {
    type Error = StoreError;

    fn try_from(row: SarItemRow) -> Result<Self, StoreError> {
        Ok(StoredSarItem {
            request_id: Uuid::parse_str(&row.request_id).map_err(|_| corrupt("request id"))?,
            item_kind: ItemKind::parse(&row.item_kind).map_err(|_| corrupt("item kind"))?,
            item_id: row.item_id,
            decision: Decision::parse(&row.decision).map_err(|_| corrupt("decision"))?,
            reason: row
                .reason
                .as_deref()
                .map(|r| Reason::parse(r).map_err(|_| corrupt("decision reason")))
                .transpose()?,
            sealed_class: RecordClass::parse(&row.sealed_class)
                .map_err(|_| corrupt("record class"))?,
            detail: Sealed::from_stored(row.detail),
            decided_by: crate::rows::user_id(&row.decided_by)?,
            decided_at: from_micros(row.decided_at)?,
        })
    }
}

/// Where a request stands, read when a conditional update matched no row.
#[derive(Debug, sqlx::FromRow)]
pub struct SarStateRow {
    pub status: String,
    pub version: i64,
}

fn sealed(value: &Option<Sealed>) -> Option<Vec<u8>> {
    value.as_ref().map(|s| s.as_bytes().to_vec())
}

impl_for_both_engines!(SubjectAccessStore {
    async fn open_subject_access_requests(&self, child: ChildId) -> Result<i64, StoreError> {
        let row: Number = sqlx::query_as(
            "SELECT COUNT(*) AS n FROM subject_access_requests WHERE child_id = $1 \
             AND status NOT IN ('released', 'refused', 'withdrawn')",
        )
        .bind(child.to_string())
        .fetch_one(&self.pool)
        .await
        .map_err(map_error)?;
        Ok(row.n)
    }

    async fn create_subject_access(
        &self,
        request: &StoredSubjectAccess,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError> {
        if request.status != Status::Logged || request.version != Version::FIRST {
            return Err(StoreError::Other(
                "a new subject access request is written as logged, at version 1".to_owned(),
            ));
        }
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO subject_access_requests ({REQUEST_COLUMNS}) VALUES ($1, $2, $3, $4, $5, \
             $6, 'logged', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, $7, \
             1, $8, $9)"
        )))
        .bind(request.id.to_string())
        .bind(request.child_id.to_string())
        .bind(request.requester_kind.code().to_owned())
        .bind(request.carer_id.map(|c| c.to_string()))
        .bind(request.details.as_bytes().to_vec())
        .bind(request.received_on.to_string())
        .bind(request.logged_by.to_string())
        .bind(to_micros(request.created_at))
        .bind(to_micros(request.updated_at))
        .execute(&mut *tx)
        .await
        .map_err(named)?;
        self.commit_audited(tx, audit).await
    }

    async fn subject_access(&self, id: Uuid) -> Result<Option<StoredSubjectAccess>, StoreError> {
        let row: Option<SarRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {REQUEST_COLUMNS} FROM subject_access_requests WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?;
        row.map(StoredSubjectAccess::try_from).transpose()
    }

    async fn subject_access_requests(
        &self,
        limit: i64,
    ) -> Result<Vec<StoredSubjectAccess>, StoreError> {
        let rows: Vec<SarRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {REQUEST_COLUMNS} FROM subject_access_requests \
             ORDER BY received_on DESC, id DESC LIMIT $1"
        )))
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(StoredSubjectAccess::try_from).collect()
    }

    async fn update_subject_access(
        &self,
        request: &StoredSubjectAccess,
        expected: Version,
        pause: Option<PauseChange>,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredSubjectAccess, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let row: Option<SarRow> = sqlx::query_as(AssertSqlSafe(format!(
            "UPDATE subject_access_requests SET status = $1, extended_on = $2, \
             extension_told_on = $3, reviewer_id = $4, reviewer_until = $5, \
             reviewer_named_by = $6, opinion = $7, dsl_reviewed_by = $8, dsl_reviewed_at = $9, \
             bundle = $10, closed_by = $11, closed_at = $12, details = $13, \
             version = version + 1, updated_at = $14 \
             WHERE id = $15 AND version = $16 \
             AND status NOT IN ('released', 'refused', 'withdrawn') \
             RETURNING {REQUEST_COLUMNS}"
        )))
        .bind(request.status.code().to_owned())
        .bind(request.extended_on.map(|d| d.to_string()))
        .bind(request.extension_told_on.map(|d| d.to_string()))
        .bind(request.reviewer.map(|u| u.to_string()))
        .bind(request.reviewer_until.map(to_micros))
        .bind(request.reviewer_named_by.map(|u| u.to_string()))
        .bind(sealed(&request.opinion))
        .bind(request.dsl_reviewed_by.map(|u| u.to_string()))
        .bind(request.dsl_reviewed_at.map(to_micros))
        .bind(sealed(&request.bundle))
        .bind(request.closed_by.map(|u| u.to_string()))
        .bind(request.closed_at.map(to_micros))
        .bind(request.details.as_bytes().to_vec())
        .bind(to_micros(request.updated_at))
        .bind(request.id.to_string())
        .bind(expected.get())
        .fetch_optional(&mut *tx)
        .await
        .map_err(named)?;
        let Some(row) = row else {
            let state: Option<SarStateRow> = sqlx::query_as(
                "SELECT status, version FROM subject_access_requests WHERE id = $1",
            )
            .bind(request.id.to_string())
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_error)?;
            // Dropping the transaction rolls it back: nothing written, nothing audited.
            return Err(match state {
                None => StoreError::NotFound,
                Some(state) if !Status::parse(&state.status).is_ok_and(Status::is_open) => {
                    StoreError::Conflict("subject_access_requests_closed".to_owned())
                }
                Some(state) => stale_or_missing(Some(state.version)),
            });
        };
        let stored = StoredSubjectAccess::try_from(row)?;
        match pause {
            None => {}
            Some(PauseChange::Start(p)) => {
                sqlx::query(AssertSqlSafe(format!(
                    "INSERT INTO subject_access_pauses ({PAUSE_COLUMNS}) VALUES ($1, $2, $3, $4, \
                     NULL, $5, NULL, $6)"
                )))
                .bind(p.id.to_string())
                .bind(request.id.to_string())
                .bind(p.reason.code().to_owned())
                .bind(p.started_on.to_string())
                .bind(p.started_by.to_string())
                .bind(to_micros(p.created_at))
                .execute(&mut *tx)
                .await
                .map_err(named)?;
            }
            Some(PauseChange::End { ended_on, by }) => {
                let ended = sqlx::query(
                    "UPDATE subject_access_pauses SET ended_on = $1, ended_by = $2 \
                     WHERE request_id = $3 AND ended_on IS NULL AND started_on <= $1",
                )
                .bind(ended_on.to_string())
                .bind(by.to_string())
                .bind(request.id.to_string())
                .execute(&mut *tx)
                .await
                .map_err(map_error)?;
                if <DB as Engine>::rows_affected(&ended) != 1 {
                    return Err(StoreError::Conflict(
                        "subject_access_pauses_none_open".to_owned(),
                    ));
                }
            }
        }
        self.commit_audited(tx, audit).await?;
        Ok(stored)
    }

    async fn sar_pauses(&self, request: Uuid) -> Result<Vec<StoredSarPause>, StoreError> {
        let rows: Vec<SarPauseRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {PAUSE_COLUMNS} FROM subject_access_pauses WHERE request_id = $1 \
             ORDER BY started_on, created_at, id"
        )))
        .bind(request.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(StoredSarPause::try_from).collect()
    }

    async fn decide_sar_item(
        &self,
        item: &StoredSarItem,
        allowed: &[Status],
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError> {
        if allowed.is_empty() {
            return Err(closed_to_decisions());
        }
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        // The request's row is locked (PostgreSQL) so the status read holds until the commit;
        // SQLite's write transaction already holds the only write lock.
        let list = placeholders(2, allowed.len());
        let mut query = sqlx::query_as::<_, SarStateRow>(AssertSqlSafe(format!(
            "SELECT status, version FROM subject_access_requests WHERE id = $1 \
             AND status IN ({list}){}",
            <DB as Engine>::LOCK_ROWS
        )))
        .bind(item.request_id.to_string());
        for status in allowed {
            query = query.bind(status.code().to_owned());
        }
        let state: Option<SarStateRow> = query.fetch_optional(&mut *tx).await.map_err(map_error)?;
        if state.is_none() {
            return Err(closed_to_decisions());
        }
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO subject_access_items ({ITEM_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, \
             $7, $8, $9) ON CONFLICT (request_id, item_kind, item_id) DO UPDATE SET \
             decision = excluded.decision, reason = excluded.reason, \
             sealed_class = excluded.sealed_class, detail = excluded.detail, \
             decided_by = excluded.decided_by, decided_at = excluded.decided_at"
        )))
        .bind(item.request_id.to_string())
        .bind(item.item_kind.code().to_owned())
        .bind(item.item_id.clone())
        .bind(item.decision.code().to_owned())
        .bind(item.reason.map(|r| r.code().to_owned()))
        .bind(item.sealed_class.code().to_owned())
        .bind(item.detail.as_bytes().to_vec())
        .bind(item.decided_by.to_string())
        .bind(to_micros(item.decided_at))
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        self.commit_audited(tx, audit).await
    }

    async fn sar_items(&self, request: Uuid) -> Result<Vec<StoredSarItem>, StoreError> {
        let rows: Vec<SarItemRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {ITEM_COLUMNS} FROM subject_access_items WHERE request_id = $1 \
             ORDER BY item_kind, item_id"
        )))
        .bind(request.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(StoredSarItem::try_from).collect()
    }

    async fn process_notes_of_child(
        &self,
        child: ChildId,
    ) -> Result<Vec<StoredProcessNote>, StoreError> {
        let rows: Vec<NoteRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {NOTE_COLUMNS} FROM process_notes WHERE child_id = $1 \
             ORDER BY created_at, id"
        )))
        .bind(child.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(StoredProcessNote::try_from).collect()
    }

    async fn supervisions_naming(
        &self,
        case_numbers: &[String],
    ) -> Result<Vec<StoredSupervision>, StoreError> {
        if case_numbers.is_empty() {
            return Ok(Vec::new());
        }
        // `cases` is a comma-separated list of case numbers: wrapped in commas, each number
        // is found whole (C0004 never matches C00042).
        let tests: Vec<String> = (1..=case_numbers.len())
            .map(|i| format!("(',' || cases || ',') LIKE ${i}"))
            .collect();
        let mut query = sqlx::query_as::<_, SupervisionRow>(AssertSqlSafe(format!(
            "SELECT {SUPERVISION_COLUMNS} FROM supervisions WHERE {} \
             ORDER BY held_on, created_at, id",
            tests.join(" OR ")
        )));
        for number in case_numbers {
            // Case numbers are letters and digits: nothing in them is a LIKE wildcard.
            let clean: String = number.chars().filter(char::is_ascii_alphanumeric).collect();
            query = query.bind(format!("%,{clean},%"));
        }
        let rows = query.fetch_all(&self.pool).await.map_err(map_error)?;
        rows.into_iter().map(StoredSupervision::try_from).collect()
    }
});
