//! The storage interface. Two implementations exist (SQLite and PostgreSQL) and a conformance
//! suite runs the same tests against both.
//!
//! Each method that writes is one transaction: it either happens whole or not at all.

use alliance_core::{ServiceProfile, Version, service::ServiceDetails};
use async_trait::async_trait;
use jiff::Timestamp;

/// Which database engine holds the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    Sqlite,
    Postgres,
}

impl DatabaseKind {
    pub fn name(self) -> &'static str {
        match self {
            DatabaseKind::Sqlite => "sqlite",
            DatabaseKind::Postgres => "postgresql",
        }
    }
}

/// How the database's schema compares with the migrations this binary carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaStatus {
    /// The newest migration applied to the database (0 for an empty database).
    pub applied: i64,
    /// The newest migration this binary knows.
    pub known: i64,
}

impl SchemaStatus {
    pub fn is_current(self) -> bool {
        self.applied == self.known
    }
}

/// What can go wrong in storage, in the terms the use-cases act on. No driver types leak out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// The record already exists, or a uniqueness rule would be broken.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The update was made against an older version of the record.
    #[error("the record has changed since it was read (now version {})", .current.get())]
    Stale { current: Version },
    /// The database could not be reached or refused the connection.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// The schema is not what this binary expects (too old or too new).
    #[error("{0}")]
    Schema(String),
    #[error("storage failed: {0}")]
    Other(String),
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    fn kind(&self) -> DatabaseKind;

    /// A cheap round trip to the database, for health checks.
    async fn ping(&self) -> Result<(), StoreError>;

    async fn schema_status(&self) -> Result<SchemaStatus, StoreError>;

    /// True when the database holds no service, so demo data may be generated into it.
    async fn is_empty(&self) -> Result<bool, StoreError>;

    async fn service_profile(&self) -> Result<Option<ServiceProfile>, StoreError>;

    /// Creates the service's record; a [`StoreError::Conflict`] if one exists already.
    async fn create_service_profile(
        &self,
        details: &ServiceDetails,
        is_demo: bool,
        now: Timestamp,
    ) -> Result<ServiceProfile, StoreError>;

    /// Changes the service's details if `expected` is still its version.
    async fn update_service_profile(
        &self,
        details: &ServiceDetails,
        expected: Version,
        now: Timestamp,
    ) -> Result<ServiceProfile, StoreError>;
}

/// A database's schema described in engine-neutral terms, so the SQLite and PostgreSQL
/// migrations can be checked to stay in step. Every list is sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemaInventory {
    pub tables: Vec<TableInventory>,
    /// Named triggers as (table, trigger).
    pub triggers: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableInventory {
    pub name: String,
    pub columns: Vec<ColumnInventory>,
    /// The primary key's columns in order.
    pub primary_key: Vec<String>,
    /// Unique constraints and unique indexes, as their column lists.
    pub unique: Vec<Vec<String>>,
    /// Named, non-unique indexes as (name, columns).
    pub indexes: Vec<(String, Vec<String>)>,
    pub foreign_keys: Vec<ForeignKeyInventory>,
    /// Named check constraints.
    pub checks: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ForeignKeyInventory {
    pub columns: Vec<String>,
    pub target_table: String,
    pub target_columns: Vec<String>,
    /// `no action`, `restrict`, `cascade`, `set null` or `set default`.
    pub on_delete: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ColumnInventory {
    pub name: String,
    /// One of `text`, `bigint`, `boolean`, `bytes`, `double`.
    pub kind: String,
    pub nullable: bool,
}
