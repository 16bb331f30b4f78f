//! The SQLite and PostgreSQL migrations are kept in step: after migrating, both schemas have
//! the same tables, columns, types, keys, constraints, indexes and triggers.

use crate::Opened;
use alliance_testkit::{Backend, TestDatabase};

#[tokio::test]
async fn both_engines_have_the_same_schema() -> anyhow::Result<()> {
    let sqlite_db = TestDatabase::new(Backend::Sqlite).await?;
    let postgres_db = TestDatabase::new(Backend::Postgres).await?;
    let sqlite = Opened::migrated(&sqlite_db).await?;
    let postgres = Opened::migrated(&postgres_db).await?;
    let left = sqlite.inventory().await?;
    let right = postgres.inventory().await?;
    assert!(!left.tables.is_empty(), "no tables were read from SQLite");
    assert!(left.tables.iter().all(|t| !t.columns.is_empty()));
    for (l, r) in left.tables.iter().zip(&right.tables) {
        assert_eq!(
            l, r,
            "table {} differs between SQLite (left) and PostgreSQL (right)",
            l.name
        );
    }
    let names = |i: &alliance_service::SchemaInventory| -> Vec<String> {
        i.tables.iter().map(|t| t.name.clone()).collect()
    };
    assert_eq!(
        names(&left),
        names(&right),
        "the engines have different tables"
    );
    assert_eq!(
        left.triggers, right.triggers,
        "the engines have different triggers"
    );
    // Every check constraint is named, so that it can be compared at all.
    assert!(
        left.tables
            .iter()
            .all(|t| !t.checks.iter().any(|c| c == "unnamed")),
        "an unnamed CHECK constraint in the SQLite schema"
    );
    let status = sqlite.store().schema_status().await?;
    assert_eq!(
        status,
        postgres.store().schema_status().await?,
        "the migration histories differ"
    );
    sqlite.close().await;
    postgres.close().await;
    Ok(())
}

#[tokio::test]
async fn the_server_role_on_postgresql_cannot_change_the_schema() -> anyhow::Result<()> {
    use sqlx::Connection;
    let db = TestDatabase::new(Backend::Postgres).await?;
    let owner = alliance_store_postgres::PostgresStore::open(&db.owner_url).await?;
    owner.migrate().await?;
    owner.grant_app_role(alliance_testkit::APP_ROLE).await?;
    owner.close().await;

    let mut app = sqlx::PgConnection::connect(&db.app_url).await?;
    // It may read and write rows...
    sqlx::query("SELECT COUNT(*) FROM service")
        .execute(&mut app)
        .await?;
    // ...but not alter or drop tables, nor rewrite the migration history.
    for statement in [
        "DROP TABLE service",
        "ALTER TABLE service ADD COLUMN sneaky TEXT",
        "TRUNCATE service",
        "DELETE FROM _sqlx_migrations",
        "CREATE TABLE extra (id BIGINT)",
    ] {
        let result = sqlx::query(sqlx::AssertSqlSafe(statement))
            .execute(&mut app)
            .await;
        assert!(result.is_err(), "the server's role could run: {statement}");
    }
    app.close().await?;
    Ok(())
}

#[tokio::test]
async fn both_engines_have_the_same_key_store_schema() -> anyhow::Result<()> {
    use alliance_store_postgres::PostgresStore;
    use alliance_store_sqlite::{OpenMode, SqliteStore};
    let sqlite_db = TestDatabase::new(Backend::Sqlite).await?;
    let postgres_db = TestDatabase::new(Backend::Postgres).await?;
    let url = format!(
        "sqlite://{}",
        sqlite_db.data_path().join("keystore.sqlite3").display()
    );
    let sqlite = SqliteStore::open_key_store(&url, OpenMode::CreateIfMissing).await?;
    sqlite.migrate().await?;
    let postgres = PostgresStore::open_key_store(
        postgres_db
            .owner_key_store_url
            .as_deref()
            .unwrap_or_default(),
    )
    .await?;
    postgres.migrate().await?;
    let left = sqlite.schema_inventory().await?;
    let right = postgres.schema_inventory().await?;
    assert!(left.tables.iter().any(|t| t.name == "data_keys"));
    assert_eq!(
        left, right,
        "the key store differs between SQLite (left) and PostgreSQL (right)"
    );
    sqlite.close().await;
    postgres.close().await;
    Ok(())
}
