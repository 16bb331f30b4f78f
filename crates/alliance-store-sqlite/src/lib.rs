//! Alliance on SQLite: the default engine, one file in the data folder.
//!
//! This crate opens the database, carries SQLite's migrations and reads its catalogue; the
//! Store itself is the shared SQL of `alliance-store-sql`.
//!
//! Durability (policy section 5): WAL journal with `synchronous=FULL`, so a write the server
//! has acknowledged survives a crash of the process or the machine. Foreign keys are on.
//! Write transactions open with `BEGIN IMMEDIATE` (see `alliance_store_sql::Engine`).

mod inventory;

use alliance_service::{SchemaInventory, SchemaStatus, Store, StoreError, SystemStore};
use alliance_store_sql::{SqlStore, Witness, refuse_newer};
use sqlx::Sqlite;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");
static KEY_STORE_MIGRATOR: Migrator = sqlx::migrate!("./keystore-migrations");

/// How to open the database file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Create the file if it is missing (serving, migrating, generating a demo).
    CreateIfMissing,
    /// The file must exist already; nothing on disk is created (checking a configuration).
    MustExist,
}

/// Where the audit head is kept beside the database file `db`.
pub fn audit_head_path(db: &Path) -> PathBuf {
    let mut name = db.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".audit-head");
    db.with_file_name(name)
}

/// A SQLite database: the main one, or the key store (opened with [`SqliteStore::open_key_store`]).
pub struct SqliteStore {
    store: Arc<SqlStore<Sqlite>>,
    path: PathBuf,
    migrator: &'static Migrator,
}

impl SqliteStore {
    /// Opens (and if asked, creates) the database at `url` (`sqlite://path` or `sqlite:path`).
    pub async fn open(url: &str, mode: OpenMode) -> Result<Self, StoreError> {
        let (pool, path) = connect(url, mode, false).await?;
        // The audit chain's head is also kept in a file beside the database, where removing the
        // newest entries from the database cannot reach it.
        let witness = Witness::new(audit_head_path(&path));
        Ok(Self {
            store: Arc::new(SqlStore::new(pool, &MIGRATOR).with_witness(witness)),
            path,
            migrator: &MIGRATOR,
        })
    }

    /// Opens (and if asked, creates) the key store at `url`. Deleted content is overwritten
    /// in the file (`secure_delete`), so a destroyed key does not linger in free pages.
    pub async fn open_key_store(url: &str, mode: OpenMode) -> Result<Self, StoreError> {
        let (pool, path) = connect(url, mode, true).await?;
        Ok(Self {
            store: Arc::new(SqlStore::new(pool, &KEY_STORE_MIGRATOR)),
            path,
            migrator: &KEY_STORE_MIGRATOR,
        })
    }

    /// The key store over this database (for one opened with `open_key_store`).
    pub fn key_store(&self) -> Arc<dyn alliance_service::keys::KeyStore> {
        self.store.clone()
    }
}

async fn connect(
    url: &str,
    mode: OpenMode,
    secure_delete: bool,
) -> Result<(sqlx::SqlitePool, PathBuf), StoreError> {
    {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unavailable(format!("not a usable SQLite address: {e}")))?
            .create_if_missing(mode == OpenMode::CreateIfMissing)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .pragma("secure_delete", if secure_delete { "ON" } else { "OFF" })
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
        Ok((pool, path))
    }
}

impl SqliteStore {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The Store over this database.
    pub fn store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }

    /// Applies the migrations this binary carries that the database lacks. Refuses, changing
    /// nothing, when the database was migrated by a newer Alliance.
    pub async fn migrate(&self) -> Result<SchemaStatus, StoreError> {
        let status = self.store.schema_status().await?;
        refuse_newer(status)?;
        if status.is_current() {
            return Ok(status);
        }
        self.migrator
            .run(self.store.pool())
            .await
            .map_err(|e| StoreError::Schema(format!("migration failed: {e}")))?;
        self.store.schema_status().await
    }

    /// The schema described for comparison with PostgreSQL's.
    pub async fn schema_inventory(&self) -> Result<SchemaInventory, StoreError> {
        inventory::read(self.store.pool()).await
    }

    pub async fn close(&self) {
        self.store.pool().close().await;
    }
}
