//! The integration tests: one binary, run against every engine in `ALLIANCE_TEST_BACKENDS`.

mod accounts;
mod agreement_store;
mod agreements;
mod audit;
mod audit_pages;
mod break_glass;
mod calendars;
mod case_notes;
mod children;
mod cli;
mod concern_store;
mod disruptions;
mod emergency;
mod feedback;
mod feeds;
mod first_session;
mod frame;
mod goals;
mod handouts;
mod incidents;
mod keys;
mod library;
mod mail;
mod measures;
mod pdf;
mod retention;
mod room_care;
mod safeguarding;
mod safeguarding_workflow;
mod schema;
mod server;
mod session_record_store;
mod session_records;
mod sessions;
mod site_emergency;
mod store;
mod subject_access;
mod tasks;
mod timetables;
mod transfer_store;

use alliance_service::Store;
use alliance_store_postgres::PostgresStore;
use alliance_store_sqlite::{OpenMode, SqliteStore};
use alliance_testkit::{Backend, TestDatabase};
use std::path::PathBuf;
use std::sync::Arc;

pub fn alliance_binary() -> PathBuf {
    alliance_testkit::binary(env!("CARGO_BIN_EXE_alliance"))
}

/// A store on a fresh database, opened as the tables' owner and migrated.
pub enum Opened {
    Sqlite(Arc<SqliteStore>),
    Postgres(Arc<PostgresStore>),
}

impl Opened {
    pub async fn new(db: &TestDatabase) -> anyhow::Result<Self> {
        Ok(match db.backend {
            Backend::Sqlite => Self::Sqlite(Arc::new(
                SqliteStore::open(&db.owner_url, OpenMode::CreateIfMissing).await?,
            )),
            Backend::Postgres => {
                Self::Postgres(Arc::new(PostgresStore::open(&db.owner_url).await?))
            }
        })
    }

    pub async fn migrated(db: &TestDatabase) -> anyhow::Result<Self> {
        let opened = Self::new(db).await?;
        opened.migrate().await?;
        Ok(opened)
    }

    pub async fn migrate(
        &self,
    ) -> Result<alliance_service::SchemaStatus, alliance_service::StoreError> {
        match self {
            Self::Sqlite(s) => s.migrate().await,
            Self::Postgres(s) => s.migrate().await,
        }
    }

    pub fn store(&self) -> Arc<dyn Store> {
        match self {
            Self::Sqlite(s) => s.store(),
            Self::Postgres(s) => s.store(),
        }
    }

    pub async fn inventory(
        &self,
    ) -> Result<alliance_service::SchemaInventory, alliance_service::StoreError> {
        match self {
            Self::Sqlite(s) => s.schema_inventory().await,
            Self::Postgres(s) => s.schema_inventory().await,
        }
    }

    pub async fn close(&self) {
        match self {
            Self::Sqlite(s) => s.close().await,
            Self::Postgres(s) => s.close().await,
        }
    }
}

/// Runs a raw statement as the owner, for tests that must set up what no API allows (a
/// migration from the future, for example).
pub async fn execute_as_owner(db: &TestDatabase, sql: &str) -> anyhow::Result<()> {
    use sqlx::Connection;
    match db.backend {
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(&db.owner_url).await?;
            sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
                .execute(&mut conn)
                .await?;
            conn.close().await?;
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&db.owner_url).await?;
            sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
                .execute(&mut conn)
                .await?;
            conn.close().await?;
        }
    }
    Ok(())
}

/// Runs `alliance` as the database's owner (with its key store): `args` after the connection
/// options, `input` on standard input.
pub async fn run_as_owner(
    db: &TestDatabase,
    args: &[&str],
    input: &str,
) -> anyhow::Result<alliance_testkit::Output> {
    let mut all = db.owner_args();
    all.extend(args.iter().map(|a| (*a).to_owned()));
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    alliance_testkit::run_with_input(&alliance_binary(), &all, input).await
}

/// Records a migration this binary does not know, as a newer Alliance would have left it.
pub async fn insert_future_migration(db: &TestDatabase) -> anyhow::Result<()> {
    let sql = match db.backend {
        Backend::Sqlite => {
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (999999, 'from the future', TRUE, X'00', 1)"
        }
        Backend::Postgres => {
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (999999, 'from the future', TRUE, '\\x00', 1)"
        }
    };
    execute_as_owner(db, sql).await
}

/// Counts rows with a query run as the owner (for checks no API offers).
pub async fn count_as_owner(db: &TestDatabase, sql: &str) -> anyhow::Result<i64> {
    use sqlx::Connection;
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    Ok(match db.backend {
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(&db.owner_url).await?;
            let n: i64 = sqlx::query_scalar(sql).fetch_one(&mut conn).await?;
            conn.close().await?;
            n
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&db.owner_url).await?;
            let n: i64 = sqlx::query_scalar(sql).fetch_one(&mut conn).await?;
            conn.close().await?;
            n
        }
    })
}
