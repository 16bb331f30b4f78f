//! Alliance on PostgreSQL, for a service that outgrows one machine: several Alliance processes
//! may serve one database, so nothing here keeps state between calls.
//!
//! Durability is PostgreSQL's default (`synchronous_commit=on`, `fsync=on`). The tables belong
//! to the role that runs `alliance migrate`; the server should connect as another role, granted
//! only what the application needs by [`PostgresStore::grant_app_role`], so a compromised
//! process cannot alter or drop the schema.

mod inventory;

use alliance_core::{ServiceProfile, Version, service::ServiceDetails};
use alliance_service::{DatabaseKind, SchemaInventory, SchemaStatus, Store, StoreError};
use alliance_store_common::{
    ServiceRow, map_error, newest_known, refuse_newer, stale_or_missing, to_micros,
};
use async_trait::async_trait;
use jiff::Timestamp;
use sqlx::AssertSqlSafe;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgPool, PgPoolOptions};
use std::time::Duration;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://` or `postgresql://`).
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot connect to PostgreSQL: {e}")))?;
        Ok(Self { pool })
    }

    /// Applies the migrations this binary carries that the database lacks (several processes
    /// may try at once: sqlx serialises them with an advisory lock). Refuses, changing
    /// nothing, when the database was migrated by a newer Alliance.
    pub async fn migrate(&self) -> Result<SchemaStatus, StoreError> {
        let status = self.schema_status().await?;
        refuse_newer(status)?;
        if status.is_current() {
            // Nothing to do, and nothing attempted: the server's role on PostgreSQL may not
            // create tables, not even the migration history's.
            return Ok(status);
        }
        MIGRATOR.run(&self.pool).await.map_err(|e| {
            StoreError::Schema(format!(
                "migration failed: {e} (migrations must run as the role that owns the tables: \
                 run `alliance migrate` with the owner's database URL)"
            ))
        })?;
        self.schema_status().await
    }

    /// Lets `role` read and write rows, and nothing else: no DDL, no changes to the migration
    /// history. Run by the owner after migrating; safe to repeat.
    pub async fn grant_app_role(&self, role: &str) -> Result<(), StoreError> {
        let role = quote_role(role)?;
        let statements = [
            format!("GRANT USAGE ON SCHEMA public TO {role}"),
            format!(
                "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"
            ),
            format!("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}"),
            format!("REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON _sqlx_migrations FROM {role}"),
        ];
        let mut tx = self.pool.begin().await.map_err(map_error)?;
        for statement in statements {
            sqlx::query(AssertSqlSafe(statement))
                .execute(&mut *tx)
                .await
                .map_err(map_error)?;
        }
        tx.commit().await.map_err(map_error)
    }

    /// The schema described for comparison with SQLite's.
    pub async fn schema_inventory(&self) -> Result<SchemaInventory, StoreError> {
        inventory::read(&self.pool).await
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A role name as a quoted identifier; only plain names are accepted, since it is spliced
/// into a statement (GRANT cannot take a bound parameter).
fn quote_role(role: &str) -> Result<String, StoreError> {
    let plain = !role.is_empty()
        && role.len() <= 63
        && role.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && role
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        Ok(format!("\"{role}\""))
    } else {
        Err(StoreError::Other(
            "a role name is lower-case letters, digits and underscores, at most 63".to_owned(),
        ))
    }
}

#[async_trait]
impl Store for PostgresStore {
    fn kind(&self) -> DatabaseKind {
        DatabaseKind::Postgres
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(map_error)
    }

    async fn schema_status(&self) -> Result<SchemaStatus, StoreError> {
        let has_table: bool =
            sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
                .fetch_one(&self.pool)
                .await
                .map_err(map_error)?;
        let applied: i64 = if has_table {
            sqlx::query_scalar(
                "SELECT COALESCE(MAX(version), 0)::BIGINT FROM _sqlx_migrations WHERE success",
            )
            .fetch_one(&self.pool)
            .await
            .map_err(map_error)?
        } else {
            0
        };
        Ok(SchemaStatus {
            applied,
            known: newest_known(&MIGRATOR),
        })
    }

    async fn is_empty(&self) -> Result<bool, StoreError> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM service")
            .fetch_one(&self.pool)
            .await
            .map_err(map_error)?;
        Ok(count == 0)
    }

    async fn service_profile(&self) -> Result<Option<ServiceProfile>, StoreError> {
        let row: Option<ServiceRow> = sqlx::query_as(
            "SELECT name, nation, is_demo, version, created_at, updated_at FROM service WHERE id = 1",
        )
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
    ) -> Result<ServiceProfile, StoreError> {
        let row: ServiceRow = sqlx::query_as(
            "INSERT INTO service (id, name, nation, is_demo, version, created_at, updated_at) \
             VALUES (1, $1, $2, $3, 1, $4, $4) \
             RETURNING name, nation, is_demo, version, created_at, updated_at",
        )
        .bind(details.name.as_str())
        .bind(details.nation.code())
        .bind(is_demo)
        .bind(to_micros(now))
        .fetch_one(&self.pool)
        .await
        .map_err(map_error)?;
        row.try_into()
    }

    async fn update_service_profile(
        &self,
        details: &ServiceDetails,
        expected: Version,
        now: Timestamp,
    ) -> Result<ServiceProfile, StoreError> {
        let mut tx = self.pool.begin().await.map_err(map_error)?;
        let updated: Option<ServiceRow> = sqlx::query_as(
            "UPDATE service SET name = $1, nation = $2, version = version + 1, updated_at = $3 \
             WHERE id = 1 AND version = $4 \
             RETURNING name, nation, is_demo, version, created_at, updated_at",
        )
        .bind(details.name.as_str())
        .bind(details.nation.code())
        .bind(to_micros(now))
        .bind(expected.get())
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_error)?;
        let Some(row) = updated else {
            let current: Option<i64> =
                sqlx::query_scalar("SELECT version FROM service WHERE id = 1")
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(map_error)?;
            return Err(stale_or_missing(current));
        };
        tx.commit().await.map_err(map_error)?;
        row.try_into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_role_names_are_spliced() {
        assert_eq!(
            quote_role("alliance_app").ok().as_deref(),
            Some("\"alliance_app\"")
        );
        for bad in ["", "Alliance", "a\"; DROP TABLE service; --", "a b", "1abc"] {
            assert!(quote_role(bad).is_err(), "{bad} was accepted");
        }
    }
}
