//! The service's settings: one JSON document per name, validated by the service layer
//! whenever it is read.

use crate::{Engine, map_error, stale_or_missing, to_micros};
use alliance_core::Version;
use alliance_service::{AuditBatch, SettingsStore, StoreError};
use jiff::Timestamp;

#[derive(Debug, sqlx::FromRow)]
pub struct SettingRow {
    pub document: String,
    pub version: i64,
}

impl_for_both_engines!(SettingsStore {
    async fn setting(&self, name: &str) -> Result<Option<(String, Version)>, StoreError> {
        let row: Option<SettingRow> =
            sqlx::query_as("SELECT document, version FROM settings WHERE name = $1")
                .bind(name.to_owned())
                .fetch_optional(&self.pool)
                .await
                .map_err(map_error)?;
        row.map(|r| {
            Version::new(r.version)
                .map(|v| (r.document, v))
                .map_err(|_| StoreError::Other("a stored setting's version is not valid".into()))
        })
        .transpose()
    }

    async fn put_setting(
        &self,
        name: &str,
        document: &str,
        expected: Option<Version>,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<Version, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let written: Option<SettingRow> = match expected {
            None => sqlx::query_as(
                "INSERT INTO settings (name, document, version, updated_at) \
                 VALUES ($1, $2, 1, $3) ON CONFLICT (name) DO NOTHING \
                 RETURNING document, version",
            )
            .bind(name.to_owned())
            .bind(document.to_owned())
            .bind(to_micros(now))
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_error)?,
            Some(version) => sqlx::query_as(
                "UPDATE settings SET document = $1, version = version + 1, updated_at = $2 \
                 WHERE name = $3 AND version = $4 RETURNING document, version",
            )
            .bind(document.to_owned())
            .bind(to_micros(now))
            .bind(name.to_owned())
            .bind(version.get())
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_error)?,
        };
        let Some(row) = written else {
            let current: Option<SettingRow> =
                sqlx::query_as("SELECT document, version FROM settings WHERE name = $1")
                    .bind(name.to_owned())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(map_error)?;
            return Err(match (expected, current) {
                // Written by someone else first: what we read is stale.
                (None, Some(row)) => stale_or_missing(Some(row.version)),
                (_, current) => stale_or_missing(current.map(|r| r.version)),
            });
        };
        self.commit_audited(tx, audit).await?;
        Version::new(row.version)
            .map_err(|_| StoreError::Other("a stored setting's version is not valid".into()))
    }
});
