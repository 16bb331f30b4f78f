//! Therapy agreements (versions that are never edited, only moved from draft to active to
//! superseded), consent and assent entries, the first-session checklist and single-use consent
//! links (stored only as hashes of their tokens). The partial unique index
//! `agreements_one_active` allows one active version per case, whatever the use-case checks.
//!
//! What was agreed and what was said is sealed (`agreements.content`,
//! `consent_entries.detail`, `checklist_items.words`); this module only moves the bytes.

use crate::{Engine, from_micros, map_error, map_error_named, to_micros};
use alliance_core::agreements::AgreementStatus;
use alliance_core::cases::CaseId;
use alliance_core::children::{CarerId, ChildId};
use alliance_core::consent::{EntryKind, Via};
use alliance_core::crypto::Sealed;
use alliance_core::identity::UserId;
use alliance_service::{
    AgreementStore, AuditBatch, ChildDetailsUpdate, ConsentLinkRecord, StoreError, StoredAgreement,
    StoredChecklistItem, StoredConsentEntry,
};
use jiff::Timestamp;
use jiff::civil::Date;
use sqlx::AssertSqlSafe;
use uuid::Uuid;

const AGREEMENT_COLUMNS: &str = "id, case_id, child_id, number, status, content, slot_version, \
     created_by, created_at, activated_by, activated_at, superseded_at";

const ENTRY_COLUMNS: &str = "id, case_id, child_id, kind, carer_id, agreement_id, via, given_on, \
     detail, recorded_by, recorded_at";

const CHECKLIST_COLUMNS: &str = "id, case_id, child_id, topic, explained_on, methods, to_whom, \
     library_version, band, revisit, words, recorded_by, recorded_at";

const LINK_COLUMNS: &str = "id, token_hash, case_id, child_id, carer_id, created_by, created_at, \
     expires_at, spent_at, revoked_at";

/// SQLite names a broken unique constraint or index by its columns; PostgreSQL by its name.
const UNIQUE: &[(&str, &str)] = &[
    ("agreements.id", "agreements_pkey"),
    (
        "agreements.case_id, agreements.number",
        "agreements_case_number",
    ),
    // The partial unique index: one active version per case.
    ("agreements.case_id", "agreements_one_active"),
    ("consent_entries.id", "consent_entries_pkey"),
    ("checklist_items.id", "checklist_items_pkey"),
    ("consent_links.id", "consent_links_pkey"),
    ("consent_links.token_hash", "consent_links_token_hash_key"),
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

fn date(what: &str, raw: &str) -> Result<Date, StoreError> {
    raw.parse().map_err(|_| corrupt(what))
}

fn carer_id(raw: &str) -> Result<CarerId, StoreError> {
    CarerId::parse(raw).map_err(|_| corrupt("carer id"))
}

/// The checklist's methods as one TEXT column: codes joined by commas. A code that could not
/// be read back whole (empty, or holding a comma) is refused rather than stored.
fn join_methods(methods: &[String]) -> Result<String, StoreError> {
    if methods.iter().any(|m| m.is_empty() || m.contains(',')) {
        return Err(StoreError::Other(
            "a checklist method code is empty or holds a comma".to_owned(),
        ));
    }
    Ok(methods.join(","))
}

fn split_methods(raw: &str) -> Vec<String> {
    if raw.is_empty() {
        Vec::new()
    } else {
        raw.split(',').map(str::to_owned).collect()
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct AgreementRow {
    pub id: String,
    pub case_id: String,
    pub child_id: String,
    pub number: i64,
    pub status: String,
    pub content: Vec<u8>,
    pub slot_version: Option<i64>,
    pub created_by: String,
    pub created_at: i64,
    pub activated_by: Option<String>,
    pub activated_at: Option<i64>,
    pub superseded_at: Option<i64>,
}

impl TryFrom<AgreementRow> for StoredAgreement {
    type Error = StoreError;

    fn try_from(row: AgreementRow) -> Result<Self, StoreError> {
        Ok(StoredAgreement {
            id: uuid("agreement id", &row.id)?,
            case_id: crate::rows::case_id(&row.case_id)?,
            child_id: crate::rows::child_id(&row.child_id)?,
            number: row.number,
            status: AgreementStatus::parse(&row.status).map_err(|_| corrupt("agreement status"))?,
            content: Sealed::from_stored(row.content),
            slot_version: row.slot_version,
            created_by: crate::rows::user_id(&row.created_by)?,
            created_at: from_micros(row.created_at)?,
            activated_by: row
                .activated_by
                .as_deref()
                .map(crate::rows::user_id)
                .transpose()?,
            activated_at: crate::rows::optional_micros(row.activated_at)?,
            superseded_at: crate::rows::optional_micros(row.superseded_at)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct ConsentEntryRow {
    pub id: String,
    pub case_id: String,
    pub child_id: String,
    pub kind: String,
    pub carer_id: Option<String>,
    pub agreement_id: Option<String>,
    pub via: String,
    pub given_on: String,
    pub detail: Vec<u8>,
    pub recorded_by: Option<String>,
    pub recorded_at: i64,
}

impl TryFrom<ConsentEntryRow> for StoredConsentEntry {
    type Error = StoreError;

    fn try_from(row: ConsentEntryRow) -> Result<Self, StoreError> {
        Ok(StoredConsentEntry {
            id: uuid("consent entry id", &row.id)?,
            case_id: crate::rows::case_id(&row.case_id)?,
            child_id: crate::rows::child_id(&row.child_id)?,
            kind: EntryKind::parse(&row.kind).map_err(|_| corrupt("consent entry kind"))?,
            carer_id: row.carer_id.as_deref().map(carer_id).transpose()?,
            agreement_id: row
                .agreement_id
                .as_deref()
                .map(|a| uuid("agreement id", a))
                .transpose()?,
            via: Via::parse(&row.via).map_err(|_| corrupt("consent entry's way of giving"))?,
            given_on: date("consent entry's date", &row.given_on)?,
            detail: Sealed::from_stored(row.detail),
            recorded_by: row
                .recorded_by
                .as_deref()
                .map(crate::rows::user_id)
                .transpose()?,
            recorded_at: from_micros(row.recorded_at)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct ChecklistRow {
    pub id: String,
    pub case_id: String,
    pub child_id: String,
    pub topic: String,
    pub explained_on: String,
    pub methods: String,
    pub to_whom: String,
    pub library_version: Option<String>,
    pub band: String,
    pub revisit: bool,
    pub words: Vec<u8>,
    pub recorded_by: String,
    pub recorded_at: i64,
}

impl TryFrom<ChecklistRow> for StoredChecklistItem {
    type Error = StoreError;

    fn try_from(row: ChecklistRow) -> Result<Self, StoreError> {
        Ok(StoredChecklistItem {
            id: uuid("checklist item id", &row.id)?,
            case_id: crate::rows::case_id(&row.case_id)?,
            child_id: crate::rows::child_id(&row.child_id)?,
            topic: row.topic,
            explained_on: date("checklist item's date", &row.explained_on)?,
            methods: split_methods(&row.methods),
            to_whom: row.to_whom,
            library_version: row
                .library_version
                .as_deref()
                .map(|v| uuid("library version id", v))
                .transpose()?,
            band: row.band,
            revisit: row.revisit,
            words: Sealed::from_stored(row.words),
            recorded_by: crate::rows::user_id(&row.recorded_by)?,
            recorded_at: from_micros(row.recorded_at)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct ConsentLinkRow {
    pub id: String,
    pub token_hash: String,
    pub case_id: String,
    pub child_id: String,
    pub carer_id: String,
    pub created_by: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub spent_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl TryFrom<ConsentLinkRow> for ConsentLinkRecord {
    type Error = StoreError;

    fn try_from(row: ConsentLinkRow) -> Result<Self, StoreError> {
        Ok(ConsentLinkRecord {
            id: uuid("consent link id", &row.id)?,
            token_hash: row.token_hash,
            case_id: crate::rows::case_id(&row.case_id)?,
            child_id: crate::rows::child_id(&row.child_id)?,
            carer_id: carer_id(&row.carer_id)?,
            created_by: crate::rows::user_id(&row.created_by)?,
            created_at: from_micros(row.created_at)?,
            expires_at: from_micros(row.expires_at)?,
            spent_at: crate::rows::optional_micros(row.spent_at)?,
            revoked_at: crate::rows::optional_micros(row.revoked_at)?,
        })
    }
}

impl_for_both_engines!(helpers {
    /// Writes a consent entry on `conn` (inside the caller's transaction).
    async fn insert_entry(
        conn: &mut <DB as sqlx::Database>::Connection,
        entry: &StoredConsentEntry,
    ) -> Result<(), StoreError> {
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO consent_entries ({ENTRY_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        )))
        .bind(entry.id.to_string())
        .bind(entry.case_id.to_string())
        .bind(entry.child_id.to_string())
        .bind(entry.kind.code().to_owned())
        .bind(entry.carer_id.map(|c| c.to_string()))
        .bind(entry.agreement_id.map(|a| a.to_string()))
        .bind(entry.via.code().to_owned())
        .bind(entry.given_on.to_string())
        .bind(entry.detail.as_bytes().to_vec())
        .bind(entry.recorded_by.map(|u| u.to_string()))
        .bind(to_micros(entry.recorded_at))
        .execute(&mut *conn)
        .await
        .map_err(named)?;
        Ok(())
    }
});

impl_for_both_engines!(AgreementStore {
    async fn create_agreement(
        &self,
        agreement: &StoredAgreement,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError> {
        if agreement.status != AgreementStatus::Draft {
            return Err(StoreError::Other(
                "a new agreement version is written as a draft".to_owned(),
            ));
        }
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO agreements ({AGREEMENT_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        )))
        .bind(agreement.id.to_string())
        .bind(agreement.case_id.to_string())
        .bind(agreement.child_id.to_string())
        .bind(agreement.number)
        .bind(agreement.status.code().to_owned())
        .bind(agreement.content.as_bytes().to_vec())
        .bind(agreement.slot_version)
        .bind(agreement.created_by.to_string())
        .bind(to_micros(agreement.created_at))
        .bind(agreement.activated_by.map(|u| u.to_string()))
        .bind(agreement.activated_at.map(to_micros))
        .bind(agreement.superseded_at.map(to_micros))
        .execute(&mut *tx)
        .await
        .map_err(named)?;
        self.commit_audited(tx, audit).await
    }

    async fn activate_agreement(
        &self,
        case: CaseId,
        id: Uuid,
        by: UserId,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let now = to_micros(now);
        // The draft first: the update locks its row until the commit, so two activations of
        // one draft take turns and the second finds it a draft no more. Its status moves
        // last, once the case's active version has stepped aside for it.
        let claimed = sqlx::query(
            "UPDATE agreements SET activated_by = $1, activated_at = $2 \
             WHERE id = $3 AND case_id = $4 AND status = 'draft'",
        )
        .bind(by.to_string())
        .bind(now)
        .bind(id.to_string())
        .bind(case.to_string())
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        if <DB as Engine>::rows_affected(&claimed) != 1 {
            // Dropping the transaction rolls it back: nothing written, nothing audited.
            return Ok(false);
        }
        sqlx::query(
            "UPDATE agreements SET status = 'superseded', superseded_at = $1 \
             WHERE case_id = $2 AND status = 'active'",
        )
        .bind(now)
        .bind(case.to_string())
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        // Two activations of different drafts of one case at once on PostgreSQL: the second
        // breaks `agreements_one_active` here (a conflict) and writes nothing.
        sqlx::query("UPDATE agreements SET status = 'active' WHERE id = $1 AND status = 'draft'")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(named)?;
        self.commit_audited(tx, audit).await?;
        Ok(true)
    }

    async fn agreement(&self, id: Uuid) -> Result<Option<StoredAgreement>, StoreError> {
        let row: Option<AgreementRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {AGREEMENT_COLUMNS} FROM agreements WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?;
        row.map(StoredAgreement::try_from).transpose()
    }

    async fn agreements_of_case(&self, case: CaseId) -> Result<Vec<StoredAgreement>, StoreError> {
        let rows: Vec<AgreementRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {AGREEMENT_COLUMNS} FROM agreements WHERE case_id = $1 ORDER BY number DESC"
        )))
        .bind(case.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(StoredAgreement::try_from).collect()
    }

    async fn record_consent(
        &self,
        entry: &StoredConsentEntry,
        child: Option<&ChildDetailsUpdate>,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError> {
        if child.is_some_and(|c| c.child != entry.child_id) {
            return Err(StoreError::Other(
                "a consent entry writes only its own child's details".to_owned(),
            ));
        }
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        if let Some(update) = child {
            let updated = sqlx::query(
                "UPDATE children SET details = $1, version = version + 1, updated_at = $2 \
                 WHERE id = $3 AND version = $4",
            )
            .bind(update.sealed_details.as_bytes().to_vec())
            .bind(to_micros(entry.recorded_at))
            .bind(update.child.to_string())
            .bind(update.expected.get())
            .execute(&mut *tx)
            .await
            .map_err(map_error)?;
            if <DB as Engine>::rows_affected(&updated) != 1 {
                // A child that is gone is not found; one that moved on is the conflict the
                // contract names. Either way the transaction is dropped: nothing written.
                return Err(
                    match Self::why_not_updated(&mut tx, "children", update.child.to_string())
                        .await
                    {
                        StoreError::Stale { .. } => {
                            StoreError::Conflict("children_version".to_owned())
                        }
                        other => other,
                    },
                );
            }
        }
        Self::insert_entry(&mut tx, entry).await?;
        self.commit_audited(tx, audit).await
    }

    async fn consent_entries(&self, case: CaseId) -> Result<Vec<StoredConsentEntry>, StoreError> {
        let rows: Vec<ConsentEntryRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {ENTRY_COLUMNS} FROM consent_entries WHERE case_id = $1 \
             ORDER BY recorded_at, id"
        )))
        .bind(case.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(StoredConsentEntry::try_from).collect()
    }

    async fn record_checklist_item(
        &self,
        item: &StoredChecklistItem,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError> {
        let methods = join_methods(&item.methods)?;
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO checklist_items ({CHECKLIST_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        )))
        .bind(item.id.to_string())
        .bind(item.case_id.to_string())
        .bind(item.child_id.to_string())
        .bind(item.topic.clone())
        .bind(item.explained_on.to_string())
        .bind(methods)
        .bind(item.to_whom.clone())
        .bind(item.library_version.map(|v| v.to_string()))
        .bind(item.band.clone())
        .bind(item.revisit)
        .bind(item.words.as_bytes().to_vec())
        .bind(item.recorded_by.to_string())
        .bind(to_micros(item.recorded_at))
        .execute(&mut *tx)
        .await
        .map_err(named)?;
        self.commit_audited(tx, audit).await
    }

    async fn checklist_of_child(
        &self,
        child: ChildId,
    ) -> Result<Vec<StoredChecklistItem>, StoreError> {
        let rows: Vec<ChecklistRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {CHECKLIST_COLUMNS} FROM checklist_items WHERE child_id = $1 \
             ORDER BY explained_on DESC, recorded_at DESC, id"
        )))
        .bind(child.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(StoredChecklistItem::try_from).collect()
    }

    async fn create_consent_link(
        &self,
        link: &ConsentLinkRecord,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO consent_links ({LINK_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        )))
        .bind(link.id.to_string())
        .bind(link.token_hash.clone())
        .bind(link.case_id.to_string())
        .bind(link.child_id.to_string())
        .bind(link.carer_id.to_string())
        .bind(link.created_by.to_string())
        .bind(to_micros(link.created_at))
        .bind(to_micros(link.expires_at))
        .bind(link.spent_at.map(to_micros))
        .bind(link.revoked_at.map(to_micros))
        .execute(&mut *tx)
        .await
        .map_err(named)?;
        self.commit_audited(tx, audit).await
    }

    async fn consent_link_by_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<ConsentLinkRecord>, StoreError> {
        let row: Option<ConsentLinkRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {LINK_COLUMNS} FROM consent_links WHERE token_hash = $1"
        )))
        .bind(token_hash.to_owned())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?;
        row.map(ConsentLinkRecord::try_from).transpose()
    }

    async fn consent_links_of_case(
        &self,
        case: CaseId,
    ) -> Result<Vec<ConsentLinkRecord>, StoreError> {
        let rows: Vec<ConsentLinkRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {LINK_COLUMNS} FROM consent_links WHERE case_id = $1 \
             ORDER BY created_at DESC, id DESC"
        )))
        .bind(case.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(ConsentLinkRecord::try_from).collect()
    }

    async fn use_consent_link(
        &self,
        id: Uuid,
        entry: &StoredConsentEntry,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let now = to_micros(now);
        // Spending is the conditional update: of two answers at once, the second finds the
        // link spent (PostgreSQL re-reads the row it waited for) and writes nothing.
        let spent: Option<ConsentLinkRow> = sqlx::query_as(AssertSqlSafe(format!(
            "UPDATE consent_links SET spent_at = $1 \
             WHERE id = $2 AND spent_at IS NULL AND revoked_at IS NULL AND expires_at > $1 \
             RETURNING {LINK_COLUMNS}"
        )))
        .bind(now)
        .bind(id.to_string())
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_error)?;
        let Some(spent) = spent else {
            return Ok(false);
        };
        // The entry is the link's answer: for its case, its child and its carer only.
        let link = ConsentLinkRecord::try_from(spent)?;
        if (link.case_id, link.child_id, Some(link.carer_id))
            != (entry.case_id, entry.child_id, entry.carer_id)
        {
            return Err(StoreError::Other(
                "a consent link's answer must be for the link's case, child and carer".to_owned(),
            ));
        }
        Self::insert_entry(&mut tx, entry).await?;
        self.commit_audited(tx, audit).await?;
        Ok(true)
    }

    async fn revoke_consent_link(
        &self,
        id: Uuid,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let revoked = sqlx::query(
            "UPDATE consent_links SET revoked_at = $1 \
             WHERE id = $2 AND spent_at IS NULL AND revoked_at IS NULL",
        )
        .bind(to_micros(now))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        if <DB as Engine>::rows_affected(&revoked) != 1 {
            return Ok(false);
        }
        self.commit_audited(tx, audit).await?;
        Ok(true)
    }
});
