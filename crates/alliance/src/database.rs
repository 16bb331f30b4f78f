//! Picks the storage crate from the database URL.

use crate::config::DatabaseUrl;
use alliance_service::{SchemaStatus, Store, StoreError};
use alliance_store_postgres::PostgresStore;
use alliance_store_sqlite::{OpenMode, SqliteStore};
use secrecy::ExposeSecret;
use std::sync::Arc;

/// One database, the main one or the key store.
pub enum Database {
    Sqlite(Arc<SqliteStore>),
    Postgres(Arc<PostgresStore>),
}

impl Database {
    pub async fn open(url: &DatabaseUrl, mode: OpenMode) -> Result<Self, StoreError> {
        Ok(match url {
            DatabaseUrl::Sqlite { url, .. } => {
                Self::Sqlite(Arc::new(SqliteStore::open(url, mode).await?))
            }
            DatabaseUrl::Postgres(secret) => {
                Self::Postgres(Arc::new(PostgresStore::open(secret.expose_secret()).await?))
            }
        })
    }

    pub async fn open_key_store(url: &DatabaseUrl, mode: OpenMode) -> Result<Self, StoreError> {
        Ok(match url {
            DatabaseUrl::Sqlite { url, .. } => {
                Self::Sqlite(Arc::new(SqliteStore::open_key_store(url, mode).await?))
            }
            DatabaseUrl::Postgres(secret) => Self::Postgres(Arc::new(
                PostgresStore::open_key_store(secret.expose_secret()).await?,
            )),
        })
    }

    pub fn key_store(&self) -> Arc<dyn alliance_service::keys::KeyStore> {
        match self {
            Self::Sqlite(s) => s.key_store(),
            Self::Postgres(s) => s.key_store(),
        }
    }

    pub fn store(&self) -> Arc<dyn Store> {
        match self {
            Self::Sqlite(s) => s.store(),
            Self::Postgres(s) => s.store(),
        }
    }

    pub async fn migrate(&self) -> Result<SchemaStatus, StoreError> {
        match self {
            Self::Sqlite(s) => s.migrate().await,
            Self::Postgres(s) => s.migrate().await,
        }
    }

    pub async fn close(&self) {
        match self {
            Self::Sqlite(s) => s.close().await,
            Self::Postgres(s) => s.close().await,
        }
    }
}
