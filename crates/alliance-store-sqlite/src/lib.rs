//! Alliance on SQLite: the default engine, one file in the data folder.
//!
//! Durability (policy section 5): WAL journal with `synchronous=FULL`, so a write the server
//! has acknowledged survives a crash of the process or the machine. Foreign keys are on. Every
//! write transaction opens with `BEGIN IMMEDIATE`, taking the write lock at the start: a
//! deferred transaction that reads and then writes fails at once with SQLITE_BUSY when another
//! writer got in first, whatever the busy timeout says.

mod inventory;

use alliance_core::{ServiceProfile, Version, service::ServiceDetails};
use alliance_service::{DatabaseKind, SchemaInventory, SchemaStatus, Store, StoreError};
use alliance_store_common::{
    ServiceRow, map_error, newest_known, refuse_newer, stale_or_missing, to_micros,
};
use async_trait::async_trait;
use jiff::Timestamp;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

/// How to open the database file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Create the file if it is missing (serving, migrating, generating a demo).
    CreateIfMissing,
    /// The file must exist already; nothing on disk is created (checking a configuration).
    MustExist,
}

pub struct SqliteStore {
    pool: SqlitePool,
    path: PathBuf,
}

impl SqliteStore {
    /// Opens (and if asked, creates) the database at `url` (`sqlite://path` or `sqlite:path`).
    pub async fn open(url: &str, mode: OpenMode) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unavailable(format!("not a usable SQLite address: {e}")))?
            .create_if_missing(mode == OpenMode::CreateIfMissing)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let path = options.get_filename().to_path_buf();
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(|e| {
                StoreError::Unavailable(format!(
                    "cannot open the SQLite database at {}: {e}",
                    path.display()
                ))
            })?;
        Ok(Self { pool, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Applies the migrations this binary carries that the database lacks. Refuses, changing
    /// nothing, when the database was migrated by a newer Alliance.
    pub async fn migrate(&self) -> Result<SchemaStatus, StoreError> {
        let status = self.schema_status().await?;
        refuse_newer(status)?;
        if status.is_current() {
            // Nothing to do, and nothing attempted: the server's role on PostgreSQL may not
            // create tables, not even the migration history's.
            return Ok(status);
        }
        MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Schema(format!("migration failed: {e}")))?;
        self.schema_status().await
    }

    /// The schema described for comparison with PostgreSQL's.
    pub async fn schema_inventory(&self) -> Result<SchemaInventory, StoreError> {
        inventory::read(&self.pool).await
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn kind(&self) -> DatabaseKind {
        DatabaseKind::Sqlite
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(map_error)
    }

    async fn schema_status(&self) -> Result<SchemaStatus, StoreError> {
        let has_table: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations')",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(map_error)?;
        let applied: i64 = if has_table {
            sqlx::query_scalar(
                "SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success",
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
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(map_error)?;
        let row: ServiceRow = sqlx::query_as(
            "INSERT INTO service (id, name, nation, is_demo, version, created_at, updated_at) \
             VALUES (1, $1, $2, $3, 1, $4, $4) \
             RETURNING name, nation, is_demo, version, created_at, updated_at",
        )
        .bind(details.name.as_str())
        .bind(details.nation.code())
        .bind(is_demo)
        .bind(to_micros(now))
        .fetch_one(&mut *tx)
        .await
        .map_err(map_error)?;
        tx.commit().await.map_err(map_error)?;
        row.try_into()
    }

    async fn update_service_profile(
        &self,
        details: &ServiceDetails,
        expected: Version,
        now: Timestamp,
    ) -> Result<ServiceProfile, StoreError> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(map_error)?;
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
