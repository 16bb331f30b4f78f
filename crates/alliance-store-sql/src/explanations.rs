//! The explanation library's versions: appended with the next number for their topic,
//! audience and language, then only ever marked reviewed or published. Every version is kept.

use crate::rows::Number;
use crate::{Engine, from_micros, map_error, map_error_named, to_micros};
use alliance_core::identity::UserId;
use alliance_service::{
    AuditBatch, ExplanationStore, ExplanationVersion, NewExplanationVersion, StoreError,
};
use jiff::Timestamp;
use sqlx::AssertSqlSafe;
use uuid::Uuid;

const COLUMNS: &str = "id, topic, audience, language, measured, number, title, body, pictures, \
     based_on, review_state, reviewed_by, reviewed_at, published, published_at, created_by, \
     created_at";

/// SQLite names a broken unique constraint by its columns; PostgreSQL by its name.
const UNIQUE: &[(&str, &str)] = &[
    ("explanation_versions.id", "explanation_versions_pkey"),
    (
        "explanation_versions.topic, explanation_versions.audience, \
         explanation_versions.language, explanation_versions.number",
        "explanation_versions_number_key",
    ),
];

#[derive(Debug, sqlx::FromRow)]
pub struct ExplanationRow {
    pub id: String,
    pub topic: String,
    pub audience: String,
    pub language: String,
    pub measured: bool,
    pub number: i64,
    pub title: String,
    pub body: String,
    pub pictures: String,
    pub based_on: String,
    pub review_state: String,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<i64>,
    pub published: bool,
    pub published_at: Option<i64>,
    pub created_by: String,
    pub created_at: i64,
}

impl TryFrom<ExplanationRow> for ExplanationVersion {
    type Error = StoreError;

    fn try_from(row: ExplanationRow) -> Result<Self, StoreError> {
        let corrupt = |what: &str| {
            StoreError::Other(format!(
                "a stored explanation version's {what} is not valid"
            ))
        };
        let reviewed_by = row
            .reviewed_by
            .as_deref()
            .map(crate::rows::user_id)
            .transpose()?;
        if (row.review_state == "reviewed") != reviewed_by.is_some() {
            return Err(corrupt("review state"));
        }
        let published_at = crate::rows::optional_micros(row.published_at)?;
        if row.published != published_at.is_some() {
            return Err(corrupt("publication"));
        }
        Ok(ExplanationVersion {
            id: Uuid::parse_str(&row.id).map_err(|_| corrupt("id"))?,
            topic: row.topic,
            audience: row.audience,
            language: row.language,
            measured: row.measured,
            number: row.number,
            title: row.title,
            body: row.body,
            pictures: serde_json::from_str(&row.pictures).map_err(|_| corrupt("pictures"))?,
            based_on: row.based_on,
            reviewed_by,
            reviewed_at: crate::rows::optional_micros(row.reviewed_at)?,
            published_at,
            created_by: crate::rows::user_id(&row.created_by)?,
            created_at: from_micros(row.created_at)?,
        })
    }
}

impl_for_both_engines!(ExplanationStore {
    async fn create_explanation_version(
        &self,
        version: &NewExplanationVersion,
        audit: &AuditBatch<'_>,
    ) -> Result<ExplanationVersion, StoreError> {
        let pictures = serde_json::to_string(&version.pictures)
            .map_err(|e| StoreError::Other(e.to_string()))?;
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        // Two writers at once on PostgreSQL may pick the same number: the unique constraint
        // refuses the second (a conflict), and nothing of it is written.
        let last: Number = sqlx::query_as(
            "SELECT COALESCE(MAX(number), 0) AS n FROM explanation_versions \
             WHERE topic = $1 AND audience = $2 AND language = $3",
        )
        .bind(version.topic.clone())
        .bind(version.audience.clone())
        .bind(version.language.clone())
        .fetch_one(&mut *tx)
        .await
        .map_err(map_error)?;
        let now = to_micros(version.created_at);
        let row: ExplanationRow = sqlx::query_as(AssertSqlSafe(format!(
            "INSERT INTO explanation_versions ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, \
             $8, $9, $10, $11, $12, $13, FALSE, NULL, $14, $15) RETURNING {COLUMNS}"
        )))
        .bind(version.id.to_string())
        .bind(version.topic.clone())
        .bind(version.audience.clone())
        .bind(version.language.clone())
        .bind(version.measured)
        .bind(last.n + 1)
        .bind(version.title.clone())
        .bind(version.body.clone())
        .bind(pictures)
        .bind(version.based_on.clone())
        .bind(if version.reviewed_by.is_some() { "reviewed" } else { "draft" }.to_owned())
        .bind(version.reviewed_by.map(|u| u.to_string()))
        .bind(version.reviewed_by.map(|_| now))
        .bind(version.created_by.to_string())
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| map_error_named(e, UNIQUE))?;
        self.commit_audited(tx, audit).await?;
        row.try_into()
    }

    async fn explanation_versions(&self) -> Result<Vec<ExplanationVersion>, StoreError> {
        let rows: Vec<ExplanationRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM explanation_versions \
             ORDER BY topic, audience, language, number"
        )))
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(ExplanationVersion::try_from).collect()
    }

    async fn explanation_versions_of(
        &self,
        topic: &str,
        audience: &str,
    ) -> Result<Vec<ExplanationVersion>, StoreError> {
        let rows: Vec<ExplanationRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM explanation_versions WHERE topic = $1 AND audience = $2 \
             ORDER BY created_at DESC, number DESC, language"
        )))
        .bind(topic.to_owned())
        .bind(audience.to_owned())
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(ExplanationVersion::try_from).collect()
    }

    async fn explanation_version(
        &self,
        id: Uuid,
    ) -> Result<Option<ExplanationVersion>, StoreError> {
        let row: Option<ExplanationRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM explanation_versions WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?;
        row.map(ExplanationVersion::try_from).transpose()
    }

    async fn review_explanation_version(
        &self,
        id: Uuid,
        reviewer: UserId,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let done = sqlx::query(
            "UPDATE explanation_versions SET review_state = 'reviewed', reviewed_by = $1, \
             reviewed_at = $2 WHERE id = $3 AND review_state = 'draft'",
        )
        .bind(reviewer.to_string())
        .bind(to_micros(now))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        if <DB as Engine>::rows_affected(&done) != 1 {
            return Ok(false);
        }
        self.commit_audited(tx, audit).await?;
        Ok(true)
    }

    async fn publish_explanation_version(
        &self,
        id: Uuid,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let done = sqlx::query(
            "UPDATE explanation_versions SET published = TRUE, published_at = $1 \
             WHERE id = $2 AND NOT published",
        )
        .bind(to_micros(now))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        if <DB as Engine>::rows_affected(&done) != 1 {
            return Ok(false);
        }
        self.commit_audited(tx, audit).await?;
        Ok(true)
    }
});
