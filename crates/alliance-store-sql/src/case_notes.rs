//! Private process notes, contact logs and supervision records: appended, never edited, each
//! with its sealed part. Process notes are selected by author, so no other person's notes are
//! ever loaded.

use crate::{Engine, from_micros, map_error, to_micros};
use alliance_core::cases::CaseId;
use alliance_core::children::CarerId;
use alliance_core::children::ChildId;
use alliance_core::crypto::Sealed;
use alliance_core::identity::UserId;
use alliance_service::{
    AuditBatch, ContactLogStore, ProcessNoteStore, StoreError, StoredContact, StoredProcessNote,
    StoredSupervision, SupervisionStore,
};
use sqlx::AssertSqlSafe;
use uuid::Uuid;

const NOTE_COLUMNS: &str = "id, case_id, child_id, author, text, created_at";
const CONTACT_COLUMNS: &str = "id, case_id, child_id, carer_id, kind, contacted_on, overridden, \
     detail, recorded_by, recorded_at";
const SUPERVISION_COLUMNS: &str =
    "id, supervisor, supervisee, held_on, minutes, cases, is_group, actions, created_at";

fn corrupt(what: &str) -> StoreError {
    StoreError::Other(format!("a stored {what} is not valid"))
}

fn uuid(what: &str, raw: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(raw).map_err(|_| corrupt(what))
}

#[derive(Debug, sqlx::FromRow)]
pub struct NoteRow {
    pub id: String,
    pub case_id: String,
    pub child_id: String,
    pub author: String,
    pub text: Vec<u8>,
    pub created_at: i64,
}

impl TryFrom<NoteRow> for StoredProcessNote {
    type Error = StoreError;

    fn try_from(row: NoteRow) -> Result<Self, StoreError> {
        Ok(StoredProcessNote {
            id: uuid("process note id", &row.id)?,
            case_id: crate::rows::case_id(&row.case_id)?,
            child_id: crate::rows::child_id(&row.child_id)?,
            author: crate::rows::user_id(&row.author)?,
            text: Sealed::from_stored(row.text),
            created_at: from_micros(row.created_at)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct ContactRow {
    pub id: String,
    pub case_id: String,
    pub child_id: String,
    pub carer_id: Option<String>,
    pub kind: String,
    pub contacted_on: String,
    pub overridden: bool,
    pub detail: Vec<u8>,
    pub recorded_by: String,
    pub recorded_at: i64,
}

impl TryFrom<ContactRow> for StoredContact {
    type Error = StoreError;

    fn try_from(row: ContactRow) -> Result<Self, StoreError> {
        Ok(StoredContact {
            id: uuid("contact id", &row.id)?,
            case_id: crate::rows::case_id(&row.case_id)?,
            child_id: crate::rows::child_id(&row.child_id)?,
            carer_id: row
                .carer_id
                .as_deref()
                .map(|c| CarerId::parse(c).map_err(|_| corrupt("carer id")))
                .transpose()?,
            kind: row.kind,
            contacted_on: row
                .contacted_on
                .parse()
                .map_err(|_| corrupt("contact date"))?,
            overridden: row.overridden,
            detail: Sealed::from_stored(row.detail),
            recorded_by: crate::rows::user_id(&row.recorded_by)?,
            recorded_at: from_micros(row.recorded_at)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct SupervisionRow {
    pub id: String,
    pub supervisor: String,
    pub supervisee: String,
    pub held_on: String,
    pub minutes: i64,
    pub cases: String,
    pub is_group: bool,
    pub actions: Vec<u8>,
    pub created_at: i64,
}

impl TryFrom<SupervisionRow> for StoredSupervision {
    type Error = StoreError;

    fn try_from(row: SupervisionRow) -> Result<Self, StoreError> {
        Ok(StoredSupervision {
            id: uuid("supervision id", &row.id)?,
            supervisor: crate::rows::user_id(&row.supervisor)?,
            supervisee: crate::rows::user_id(&row.supervisee)?,
            held_on: row
                .held_on
                .parse()
                .map_err(|_| corrupt("supervision date"))?,
            minutes: row.minutes,
            cases: if row.cases.is_empty() {
                Vec::new()
            } else {
                row.cases.split(',').map(str::to_owned).collect()
            },
            group: row.is_group,
            actions: Sealed::from_stored(row.actions),
            created_at: from_micros(row.created_at)?,
        })
    }
}

impl_for_both_engines!(ProcessNoteStore {
    async fn create_process_note(
        &self,
        note: &StoredProcessNote,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO process_notes ({NOTE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"
        )))
        .bind(note.id.to_string())
        .bind(note.case_id.to_string())
        .bind(note.child_id.to_string())
        .bind(note.author.to_string())
        .bind(note.text.as_bytes().to_vec())
        .bind(to_micros(note.created_at))
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        self.commit_audited(tx, audit).await
    }

    async fn process_notes_by(
        &self,
        author: UserId,
        child: ChildId,
    ) -> Result<Vec<StoredProcessNote>, StoreError> {
        let rows: Vec<NoteRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {NOTE_COLUMNS} FROM process_notes WHERE author = $1 AND child_id = $2 \
             ORDER BY created_at DESC, id DESC"
        )))
        .bind(author.to_string())
        .bind(child.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(StoredProcessNote::try_from).collect()
    }
});

impl_for_both_engines!(ContactLogStore {
    async fn log_contact(
        &self,
        contact: &StoredContact,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO contact_logs ({CONTACT_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        )))
        .bind(contact.id.to_string())
        .bind(contact.case_id.to_string())
        .bind(contact.child_id.to_string())
        .bind(contact.carer_id.map(|c| c.to_string()))
        .bind(contact.kind.clone())
        .bind(contact.contacted_on.to_string())
        .bind(contact.overridden)
        .bind(contact.detail.as_bytes().to_vec())
        .bind(contact.recorded_by.to_string())
        .bind(to_micros(contact.recorded_at))
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        self.commit_audited(tx, audit).await
    }

    async fn contacts_of_case(&self, case: CaseId) -> Result<Vec<StoredContact>, StoreError> {
        let rows: Vec<ContactRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {CONTACT_COLUMNS} FROM contact_logs WHERE case_id = $1 \
             ORDER BY contacted_on DESC, recorded_at DESC, id DESC"
        )))
        .bind(case.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(StoredContact::try_from).collect()
    }
});

impl_for_both_engines!(SupervisionStore {
    async fn record_supervision(
        &self,
        supervision: &StoredSupervision,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError> {
        if supervision
            .cases
            .iter()
            .any(|c| c.is_empty() || c.contains(','))
        {
            return Err(StoreError::Other(
                "a supervision's case number is empty or holds a comma".to_owned(),
            ));
        }
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO supervisions ({SUPERVISION_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        )))
        .bind(supervision.id.to_string())
        .bind(supervision.supervisor.to_string())
        .bind(supervision.supervisee.to_string())
        .bind(supervision.held_on.to_string())
        .bind(supervision.minutes)
        .bind(supervision.cases.join(","))
        .bind(supervision.group)
        .bind(supervision.actions.as_bytes().to_vec())
        .bind(to_micros(supervision.created_at))
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        self.commit_audited(tx, audit).await
    }

    async fn supervisions_of(&self, user: UserId) -> Result<Vec<StoredSupervision>, StoreError> {
        let rows: Vec<SupervisionRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {SUPERVISION_COLUMNS} FROM supervisions WHERE supervisee = $1 OR supervisor = $1 \
             ORDER BY held_on DESC, created_at DESC, id DESC"
        )))
        .bind(user.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(StoredSupervision::try_from).collect()
    }
});
