//! Storage of a child's emergency details and safety plans (issue 16). Both are stored only
//! sealed (emergency details under the child's identity key, plans under the child's
//! clinical key); this module only moves their bytes. Emergency details change in place at
//! an optimistic version; a safety plan is never changed: each writing adds a version,
//! numbered one more than the newest, in a transaction that checks the writer read the
//! newest (the unique (child, number) pair settles a race).

use crate::{Engine, from_micros, map_error, to_micros};
use alliance_core::Version;
use alliance_core::children::ChildId;
use alliance_core::crypto::Sealed;
use alliance_core::safety_plans::SafetyPlanId;
use alliance_service::store::{EmergencyStore, StoredEmergencyDetails, StoredSafetyPlan};
use alliance_service::{AuditBatch, StoreError};
use sqlx::AssertSqlSafe;

const DETAILS_COLUMNS: &str = "child_id, details, version, updated_by, created_at, updated_at";
const PLAN_COLUMNS: &str = "id, child_id, number, plan, written_by, created_at";

#[derive(Debug, sqlx::FromRow)]
pub struct EmergencyDetailsRow {
    pub child_id: String,
    pub details: Vec<u8>,
    pub version: i64,
    pub updated_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl TryFrom<EmergencyDetailsRow> for StoredEmergencyDetails {
    type Error = StoreError;

    fn try_from(row: EmergencyDetailsRow) -> Result<Self, StoreError> {
        Ok(StoredEmergencyDetails {
            child: crate::rows::child_id(&row.child_id)?,
            sealed: Sealed::from_stored(row.details),
            version: Version::new(row.version).map_err(StoreError::Other)?,
            updated_by: crate::rows::user_id(&row.updated_by)?,
            created_at: from_micros(row.created_at)?,
            updated_at: from_micros(row.updated_at)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct SafetyPlanRow {
    pub id: String,
    pub child_id: String,
    pub number: i64,
    pub plan: Vec<u8>,
    pub written_by: String,
    pub created_at: i64,
}

impl TryFrom<SafetyPlanRow> for StoredSafetyPlan {
    type Error = StoreError;

    fn try_from(row: SafetyPlanRow) -> Result<Self, StoreError> {
        Ok(StoredSafetyPlan {
            id: SafetyPlanId::parse(&row.id)
                .map_err(|_| StoreError::Other("a stored safety plan id is not valid".into()))?,
            child: crate::rows::child_id(&row.child_id)?,
            number: row.number,
            sealed: Sealed::from_stored(row.plan),
            written_by: crate::rows::user_id(&row.written_by)?,
            created_at: from_micros(row.created_at)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct NumberRow {
    pub number: Option<i64>,
}

/// The refusal of a write that did not start from the newest: stale at `current`, or (nothing
/// stored yet, yet a version was expected) stale at the first version.
fn stale(current: Option<i64>) -> StoreError {
    StoreError::Stale {
        current: current
            .and_then(|v| Version::new(v).ok())
            .unwrap_or(Version::FIRST),
    }
}

impl_for_both_engines!(EmergencyStore {
    async fn emergency_details(
        &self,
        child: ChildId,
    ) -> Result<Option<StoredEmergencyDetails>, StoreError> {
        let row: Option<EmergencyDetailsRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {DETAILS_COLUMNS} FROM emergency_details WHERE child_id = $1"
        )))
        .bind(child.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?;
        row.map(StoredEmergencyDetails::try_from).transpose()
    }

    async fn put_emergency_details(
        &self,
        details: &StoredEmergencyDetails,
        expected: Option<Version>,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredEmergencyDetails, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let row: Option<EmergencyDetailsRow> = match expected {
            None => sqlx::query_as(AssertSqlSafe(format!(
                "INSERT INTO emergency_details ({DETAILS_COLUMNS}) VALUES ($1, $2, 1, $3, $4, $4) \
                 ON CONFLICT (child_id) DO NOTHING RETURNING {DETAILS_COLUMNS}"
            )))
            .bind(details.child.to_string())
            .bind(details.sealed.as_bytes().to_vec())
            .bind(details.updated_by.to_string())
            .bind(to_micros(details.updated_at))
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_error)?,
            Some(version) => sqlx::query_as(AssertSqlSafe(format!(
                "UPDATE emergency_details SET details = $1, updated_by = $2, updated_at = $3, \
                 version = version + 1 WHERE child_id = $4 AND version = $5 \
                 RETURNING {DETAILS_COLUMNS}"
            )))
            .bind(details.sealed.as_bytes().to_vec())
            .bind(details.updated_by.to_string())
            .bind(to_micros(details.updated_at))
            .bind(details.child.to_string())
            .bind(version.get())
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_error)?,
        };
        let Some(row) = row else {
            let current: Option<crate::rows::VersionRow> =
                sqlx::query_as("SELECT version FROM emergency_details WHERE child_id = $1")
                    .bind(details.child.to_string())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(map_error)?;
            // Dropping the transaction rolls it back: nothing written, nothing audited.
            return Err(stale(current.map(|c| c.version)));
        };
        let stored = StoredEmergencyDetails::try_from(row)?;
        self.commit_audited(tx, audit).await?;
        Ok(stored)
    }

    async fn safety_plans(&self, child: ChildId) -> Result<Vec<StoredSafetyPlan>, StoreError> {
        let rows: Vec<SafetyPlanRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {PLAN_COLUMNS} FROM safety_plans WHERE child_id = $1 ORDER BY number DESC"
        )))
        .bind(child.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(StoredSafetyPlan::try_from).collect()
    }

    async fn add_safety_plan(
        &self,
        plan: &StoredSafetyPlan,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let newest: NumberRow =
            sqlx::query_as("SELECT MAX(number) AS number FROM safety_plans WHERE child_id = $1")
                .bind(plan.child.to_string())
                .fetch_one(&mut *tx)
                .await
                .map_err(map_error)?;
        if newest.number.unwrap_or(0) != plan.number - 1 {
            return Err(stale(newest.number));
        }
        let done = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO safety_plans ({PLAN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (child_id, number) DO NOTHING"
        )))
        .bind(plan.id.to_string())
        .bind(plan.child.to_string())
        .bind(plan.number)
        .bind(plan.sealed.as_bytes().to_vec())
        .bind(plan.written_by.to_string())
        .bind(to_micros(plan.created_at))
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        if <DB as Engine>::rows_affected(&done) != 1 {
            // Another writer took this number between the check and the insert (PostgreSQL).
            return Err(stale(Some(plan.number)));
        }
        self.commit_audited(tx, audit).await
    }
});
