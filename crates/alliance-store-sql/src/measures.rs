//! Storage of MeasureStore (issue 17, helper A): the definitions a service added, each
//! `(id, version)` written once, and the licensed wording a service loaded.

use crate::{from_micros, map_error, map_error_named, to_micros};
use alliance_core::measures::Respondent;
use alliance_service::store::MeasureStore;
use alliance_service::{AuditBatch, StoreError, StoredMeasureDefinition, StoredMeasureWording};

const DEFINITION_COLUMNS: &str =
    "measure_id, version, respondent, definition, source_text, added_by, added_at";
const WORDING_COLUMNS: &str = "measure_id, version, wording, loaded_by, loaded_at";

/// SQLite names a broken unique constraint by its columns; PostgreSQL by its name.
const UNIQUE: &[(&str, &str)] = &[(
    "measure_definitions.measure_id, measure_definitions.version",
    "measure_definitions_pkey",
)];

#[derive(Debug, sqlx::FromRow)]
pub struct MeasureDefinitionRow {
    pub measure_id: String,
    pub version: i64,
    pub respondent: String,
    pub definition: String,
    pub source_text: String,
    pub added_by: String,
    pub added_at: i64,
}

#[derive(Debug, sqlx::FromRow)]
pub struct MeasureWordingRow {
    pub measure_id: String,
    pub version: i64,
    pub wording: String,
    pub loaded_by: String,
    pub loaded_at: i64,
}

fn version(raw: i64) -> Result<u32, StoreError> {
    u32::try_from(raw)
        .map_err(|_| StoreError::Other("a stored measure version is not valid".into()))
}

impl TryFrom<MeasureDefinitionRow> for StoredMeasureDefinition {
    type Error = StoreError;

    fn try_from(row: MeasureDefinitionRow) -> Result<Self, StoreError> {
        Ok(StoredMeasureDefinition {
            version: version(row.version)?,
            respondent: Respondent::parse(&row.respondent).ok_or_else(|| {
                StoreError::Other("a stored measure's respondent is not valid".into())
            })?,
            measure_id: row.measure_id,
            definition: row.definition,
            source_text: row.source_text,
            added_by: crate::rows::user_id(&row.added_by)?,
            added_at: from_micros(row.added_at)?,
        })
    }
}

impl TryFrom<MeasureWordingRow> for StoredMeasureWording {
    type Error = StoreError;

    fn try_from(row: MeasureWordingRow) -> Result<Self, StoreError> {
        Ok(StoredMeasureWording {
            version: version(row.version)?,
            measure_id: row.measure_id,
            wording: row.wording,
            loaded_by: crate::rows::user_id(&row.loaded_by)?,
            loaded_at: from_micros(row.loaded_at)?,
        })
    }
}

impl_for_both_engines!(MeasureStore {
    async fn add_measure_definition(
        &self,
        definition: &StoredMeasureDefinition,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError> {
        let mut tx = self
            .pool
            .begin_with(<DB as crate::Engine>::BEGIN_WRITE)
            .await
            .map_err(map_error)?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO measure_definitions ({DEFINITION_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)"
        )))
        .bind(definition.measure_id.clone())
        .bind(i64::from(definition.version))
        .bind(definition.respondent.as_str().to_owned())
        .bind(definition.definition.clone())
        .bind(definition.source_text.clone())
        .bind(definition.added_by.to_string())
        .bind(to_micros(definition.added_at))
        .execute(&mut *tx)
        .await
        .map_err(|e| map_error_named(e, UNIQUE))?;
        self.commit_audited(tx, audit).await?;
        Ok(())
    }

    async fn measure_definitions(&self) -> Result<Vec<StoredMeasureDefinition>, StoreError> {
        let rows: Vec<MeasureDefinitionRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {DEFINITION_COLUMNS} FROM measure_definitions ORDER BY measure_id, version"
        )))
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(StoredMeasureDefinition::try_from).collect()
    }

    async fn measure_definition(
        &self,
        measure_id: &str,
        version: u32,
    ) -> Result<Option<StoredMeasureDefinition>, StoreError> {
        let row: Option<MeasureDefinitionRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {DEFINITION_COLUMNS} FROM measure_definitions \
             WHERE measure_id = $1 AND version = $2"
        )))
        .bind(measure_id.to_owned())
        .bind(i64::from(version))
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?;
        row.map(StoredMeasureDefinition::try_from).transpose()
    }

    async fn put_measure_wording(
        &self,
        wording: &StoredMeasureWording,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError> {
        let mut tx = self
            .pool
            .begin_with(<DB as crate::Engine>::BEGIN_WRITE)
            .await
            .map_err(map_error)?;
        // A wording is replaced only while nothing has been given with it: once a link or a
        // response names the version, its words are what was answered, for ever.
        let written = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO measure_wordings ({WORDING_COLUMNS}) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (measure_id, version) DO UPDATE SET wording = excluded.wording, \
             loaded_by = excluded.loaded_by, loaded_at = excluded.loaded_at \
             WHERE NOT EXISTS (SELECT 1 FROM feedback_links l \
                 WHERE l.measure_id = excluded.measure_id AND l.measure_version = excluded.version) \
             AND NOT EXISTS (SELECT 1 FROM measure_responses r \
                 WHERE r.measure_id = excluded.measure_id AND r.measure_version = excluded.version)"
        )))
        .bind(wording.measure_id.clone())
        .bind(i64::from(wording.version))
        .bind(wording.wording.clone())
        .bind(wording.loaded_by.to_string())
        .bind(to_micros(wording.loaded_at))
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        if <DB as crate::Engine>::rows_affected(&written) == 0 {
            return Err(StoreError::Conflict("measure_wordings_in_use".to_owned()));
        }
        self.commit_audited(tx, audit).await?;
        Ok(())
    }

    async fn measure_wordings(&self) -> Result<Vec<StoredMeasureWording>, StoreError> {
        let rows: Vec<MeasureWordingRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {WORDING_COLUMNS} FROM measure_wordings ORDER BY measure_id, version"
        )))
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(StoredMeasureWording::try_from).collect()
    }

    async fn measure_wording(
        &self,
        measure_id: &str,
        version: u32,
    ) -> Result<Option<StoredMeasureWording>, StoreError> {
        let row: Option<MeasureWordingRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {WORDING_COLUMNS} FROM measure_wordings WHERE measure_id = $1 AND version = $2"
        )))
        .bind(measure_id.to_owned())
        .bind(i64::from(version))
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?;
        row.map(StoredMeasureWording::try_from).transpose()
    }
});
