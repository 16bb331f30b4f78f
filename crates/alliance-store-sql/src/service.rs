//! The service's own record.

use crate::rows::{SERVICE_COLUMNS, ServiceRow, VersionRow};
use crate::{Engine, map_error, stale_or_missing, to_micros};
use alliance_core::service::ServiceDetails;
use alliance_core::{ServiceProfile, Version};
use alliance_service::{AuditBatch, ServiceStore, StoreError};
use jiff::Timestamp;
use sqlx::AssertSqlSafe;

impl_for_both_engines!(ServiceStore {
    async fn service_profile(&self) -> Result<Option<ServiceProfile>, StoreError> {
        let row: Option<ServiceRow> =
            sqlx::query_as(AssertSqlSafe(format!("SELECT {SERVICE_COLUMNS} FROM service WHERE id = 1")))
                .fetch_optional(&self.pool)
                .await
                .map_err(map_error)?;
        row.map(ServiceProfile::try_from).transpose()
    }

    async fn create_service_profile(
        &self,
        details: &ServiceDetails,
        is_demo: bool,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<ServiceProfile, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let row: ServiceRow = sqlx::query_as(AssertSqlSafe(format!(
            "INSERT INTO service (id, name, nation, is_demo, second_factor_required, version, \
             created_at, updated_at) VALUES (1, $1, $2, $3, $4, 1, $5, $5) \
             RETURNING {SERVICE_COLUMNS}"
        )))
        .bind(details.name.as_str().to_owned())
        .bind(details.nation.code().to_owned())
        .bind(is_demo)
        .bind(!is_demo)
        .bind(to_micros(now))
        .fetch_one(&mut *tx)
        .await
        .map_err(map_error)?;
        self.commit_audited(tx, audit).await?;
        row.try_into()
    }

    async fn update_service_profile(
        &self,
        details: &ServiceDetails,
        expected: Version,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<ServiceProfile, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let updated: Option<ServiceRow> = sqlx::query_as(AssertSqlSafe(format!(
            "UPDATE service SET name = $1, nation = $2, version = version + 1, updated_at = $3 \
             WHERE id = 1 AND version = $4 RETURNING {SERVICE_COLUMNS}"
        )))
        .bind(details.name.as_str().to_owned())
        .bind(details.nation.code().to_owned())
        .bind(to_micros(now))
        .bind(expected.get())
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_error)?;
        let Some(row) = updated else {
            let current: Option<VersionRow> =
                sqlx::query_as("SELECT version FROM service WHERE id = 1")
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(map_error)?;
            return Err(stale_or_missing(current.map(|v| v.version)));
        };
        self.commit_audited(tx, audit).await?;
        row.try_into()
    }
});
