//! Storage of feedback links and measure responses (issue 17). A link's token is kept only as
//! its SHA-256; a link is spent by a conditional update in the same transaction that records
//! the response it brought, so of two submits at once only one is kept. Responses are
//! appended, never changed, and their answers are stored only sealed (this module only moves
//! their bytes).

use crate::{Engine, from_micros, map_error, map_error_named, to_micros};
use alliance_core::cases::CaseId;
use alliance_core::children::ChildId;
use alliance_core::crypto::Sealed;
use alliance_core::measures::Respondent;
use alliance_service::store::{
    AuditBatch, FeedbackLinkRecord, FeedbackStore, StoreError, StoredResponse,
};
use jiff::Timestamp;
use sqlx::AssertSqlSafe;
use uuid::Uuid;

const LINK_COLUMNS: &str = "id, token_hash, case_id, child_id, session_id, carer_id, respondent, \
     measure_id, measure_version, created_by, created_at, expires_at, spent_at, revoked_at";
const RESPONSE_COLUMNS: &str = "id, child_id, case_id, session_id, respondent, carer_id, \
     measure_id, measure_version, link_id, recorded_by, given_at, answers";

const UNIQUE: &[(&str, &str)] = &[
    ("feedback_links.id", "feedback_links_pkey"),
    ("feedback_links.token_hash", "feedback_links_token_hash_key"),
    ("measure_responses.id", "measure_responses_pkey"),
    ("measure_responses.link_id", "measure_responses_link_key"),
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

fn respondent_code(r: Respondent) -> &'static str {
    match r {
        Respondent::Child => "child",
        Respondent::Carer => "carer",
        Respondent::Therapist => "therapist",
    }
}

fn respondent(raw: &str) -> Result<Respondent, StoreError> {
    match raw {
        "child" => Ok(Respondent::Child),
        "carer" => Ok(Respondent::Carer),
        "therapist" => Ok(Respondent::Therapist),
        _ => Err(corrupt("respondent")),
    }
}

fn version(raw: i64) -> Result<u32, StoreError> {
    u32::try_from(raw).map_err(|_| corrupt("measure version"))
}

fn case_id(raw: &str) -> Result<CaseId, StoreError> {
    CaseId::parse(raw).map_err(|_| corrupt("case id"))
}

fn booking_id(raw: &str) -> Result<alliance_core::schedule::BookingId, StoreError> {
    alliance_core::schedule::BookingId::parse(raw).map_err(|_| corrupt("session id"))
}

fn carer_id(raw: &str) -> Result<alliance_core::children::CarerId, StoreError> {
    alliance_core::children::CarerId::parse(raw).map_err(|_| corrupt("carer id"))
}

#[derive(Debug, sqlx::FromRow)]
pub struct FeedbackLinkRow {
    pub id: String,
    pub token_hash: String,
    pub case_id: String,
    pub child_id: String,
    pub session_id: Option<String>,
    pub carer_id: Option<String>,
    pub respondent: String,
    pub measure_id: String,
    pub measure_version: i64,
    pub created_by: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub spent_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl TryFrom<FeedbackLinkRow> for FeedbackLinkRecord {
    type Error = StoreError;

    fn try_from(row: FeedbackLinkRow) -> Result<Self, StoreError> {
        Ok(FeedbackLinkRecord {
            id: uuid("feedback link id", &row.id)?,
            token_hash: row.token_hash,
            case_id: case_id(&row.case_id)?,
            child_id: crate::rows::child_id(&row.child_id)?,
            session_id: row.session_id.as_deref().map(booking_id).transpose()?,
            carer_id: row.carer_id.as_deref().map(carer_id).transpose()?,
            respondent: respondent(&row.respondent)?,
            measure_id: row.measure_id,
            measure_version: version(row.measure_version)?,
            created_by: crate::rows::user_id(&row.created_by)?,
            created_at: from_micros(row.created_at)?,
            expires_at: from_micros(row.expires_at)?,
            spent_at: row.spent_at.map(from_micros).transpose()?,
            revoked_at: row.revoked_at.map(from_micros).transpose()?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct ResponseRow {
    pub id: String,
    pub child_id: String,
    pub case_id: String,
    pub session_id: Option<String>,
    pub respondent: String,
    pub carer_id: Option<String>,
    pub measure_id: String,
    pub measure_version: i64,
    pub link_id: Option<String>,
    pub recorded_by: Option<String>,
    pub given_at: i64,
    pub answers: Vec<u8>,
}

impl TryFrom<ResponseRow> for StoredResponse {
    type Error = StoreError;

    fn try_from(row: ResponseRow) -> Result<Self, StoreError> {
        Ok(StoredResponse {
            id: uuid("response id", &row.id)?,
            child_id: crate::rows::child_id(&row.child_id)?,
            case_id: case_id(&row.case_id)?,
            session_id: row.session_id.as_deref().map(booking_id).transpose()?,
            respondent: respondent(&row.respondent)?,
            carer_id: row.carer_id.as_deref().map(carer_id).transpose()?,
            measure_id: row.measure_id,
            measure_version: version(row.measure_version)?,
            link_id: row
                .link_id
                .as_deref()
                .map(|raw| uuid("feedback link id", raw))
                .transpose()?,
            recorded_by: row
                .recorded_by
                .as_deref()
                .map(crate::rows::user_id)
                .transpose()?,
            given_at: from_micros(row.given_at)?,
            answers: Sealed::from_stored(row.answers),
        })
    }
}

impl_for_both_engines!(helpers {
    async fn insert_response(
        conn: &mut <DB as sqlx::Database>::Connection,
        response: &StoredResponse,
    ) -> Result<(), StoreError> {
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO measure_responses ({RESPONSE_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        )))
        .bind(response.id.to_string())
        .bind(response.child_id.to_string())
        .bind(response.case_id.to_string())
        .bind(response.session_id.map(|s| s.to_string()))
        .bind(respondent_code(response.respondent).to_owned())
        .bind(response.carer_id.map(|c| c.to_string()))
        .bind(response.measure_id.clone())
        .bind(i64::from(response.measure_version))
        .bind(response.link_id.map(|l| l.to_string()))
        .bind(response.recorded_by.map(|u| u.to_string()))
        .bind(to_micros(response.given_at))
        .bind(response.answers.as_bytes().to_vec())
        .execute(&mut *conn)
        .await
        .map_err(named)?;
        Ok(())
    }
});

impl_for_both_engines!(FeedbackStore {
    async fn create_feedback_link(
        &self,
        link: &FeedbackLinkRecord,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO feedback_links ({LINK_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        )))
        .bind(link.id.to_string())
        .bind(link.token_hash.clone())
        .bind(link.case_id.to_string())
        .bind(link.child_id.to_string())
        .bind(link.session_id.map(|s| s.to_string()))
        .bind(link.carer_id.map(|c| c.to_string()))
        .bind(respondent_code(link.respondent).to_owned())
        .bind(link.measure_id.clone())
        .bind(i64::from(link.measure_version))
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

    async fn feedback_link_by_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<FeedbackLinkRecord>, StoreError> {
        let row: Option<FeedbackLinkRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {LINK_COLUMNS} FROM feedback_links WHERE token_hash = $1"
        )))
        .bind(token_hash.to_owned())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?;
        row.map(FeedbackLinkRecord::try_from).transpose()
    }

    async fn feedback_link(&self, id: Uuid) -> Result<Option<FeedbackLinkRecord>, StoreError> {
        let row: Option<FeedbackLinkRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {LINK_COLUMNS} FROM feedback_links WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?;
        row.map(FeedbackLinkRecord::try_from).transpose()
    }

    async fn feedback_links_of_case(
        &self,
        case: CaseId,
    ) -> Result<Vec<FeedbackLinkRecord>, StoreError> {
        let rows: Vec<FeedbackLinkRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {LINK_COLUMNS} FROM feedback_links WHERE case_id = $1 \
             ORDER BY created_at DESC, id DESC"
        )))
        .bind(case.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(FeedbackLinkRecord::try_from).collect()
    }

    async fn revoke_feedback_link(
        &self,
        id: Uuid,
        at: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let revoked = sqlx::query(
            "UPDATE feedback_links SET revoked_at = $1 \
             WHERE id = $2 AND spent_at IS NULL AND revoked_at IS NULL",
        )
        .bind(to_micros(at))
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

    async fn submit_through_link(
        &self,
        id: Uuid,
        response: &StoredResponse,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let now = to_micros(now);
        // Spending is the conditional update: of two submits at once, the second finds the
        // link spent (PostgreSQL re-reads the row it waited for) and writes nothing.
        let spent: Option<FeedbackLinkRow> = sqlx::query_as(AssertSqlSafe(format!(
            "UPDATE feedback_links SET spent_at = $1 \
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
        // The response is the link's answer: for its case, child, session, respondent,
        // carer and measure only.
        let link = FeedbackLinkRecord::try_from(spent)?;
        if (
            link.case_id,
            link.child_id,
            link.session_id,
            link.carer_id,
            link.respondent,
            link.measure_id.as_str(),
            link.measure_version,
            Some(link.id),
        ) != (
            response.case_id,
            response.child_id,
            response.session_id,
            response.carer_id,
            response.respondent,
            response.measure_id.as_str(),
            response.measure_version,
            response.link_id,
        ) {
            return Err(StoreError::Other(
                "a feedback link's response must be for the link's case, child, session, \
                 respondent and measure"
                    .to_owned(),
            ));
        }
        Self::insert_response(&mut tx, response).await?;
        self.commit_audited(tx, audit).await?;
        Ok(true)
    }

    async fn record_response(
        &self,
        response: &StoredResponse,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError> {
        if response.link_id.is_some() {
            return Err(StoreError::Other(
                "a response through a link is recorded by spending the link".to_owned(),
            ));
        }
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        Self::insert_response(&mut tx, response).await?;
        self.commit_audited(tx, audit).await
    }

    async fn responses_of_child(&self, child: ChildId) -> Result<Vec<StoredResponse>, StoreError> {
        let rows: Vec<ResponseRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {RESPONSE_COLUMNS} FROM measure_responses WHERE child_id = $1 \
             ORDER BY given_at, id"
        )))
        .bind(child.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(StoredResponse::try_from).collect()
    }
});
