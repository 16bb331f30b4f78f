//! Alliance on PostgreSQL, for a service that outgrows one machine: several Alliance processes
//! may serve one database, so nothing here keeps state between calls.
//!
//! This crate connects, carries PostgreSQL's migrations, grants the server's role its rights
//! and reads the catalogue; the Store itself is the shared SQL of `alliance-store-sql`.
//!
//! Durability is PostgreSQL's default (`synchronous_commit=on`, `fsync=on`). The tables belong
//! to the role that runs `alliance migrate`; the server should connect as another role, granted
//! only what the application needs by [`PostgresStore::grant_app_role`], so a compromised
//! process cannot alter or drop the schema.

mod inventory;

use alliance_service::{SchemaInventory, SchemaStatus, Store, StoreError, SystemStore};
use alliance_store_sql::{SqlStore, map_error, refuse_newer};
use sqlx::migrate::Migrator;
use sqlx::postgres::PgPoolOptions;
use sqlx::{AssertSqlSafe, Postgres};
use std::sync::Arc;
use std::time::Duration;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");
static KEY_STORE_MIGRATOR: Migrator = sqlx::migrate!("./keystore-migrations");

/// A PostgreSQL database: the main one, or the key store (opened with
/// [`PostgresStore::open_key_store`]), which must be a database of its own.
pub struct PostgresStore {
    store: Arc<SqlStore<Postgres>>,
    migrator: &'static Migrator,
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://` or `postgresql://`).
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        Ok(Self {
            store: Arc::new(SqlStore::new(connect(url).await?, &MIGRATOR)),
            migrator: &MIGRATOR,
        })
    }

    /// Connects to the key store's own database.
    pub async fn open_key_store(url: &str) -> Result<Self, StoreError> {
        Ok(Self {
            store: Arc::new(SqlStore::new(connect(url).await?, &KEY_STORE_MIGRATOR)),
            migrator: &KEY_STORE_MIGRATOR,
        })
    }

    /// The key store over this database (for one opened with `open_key_store`).
    pub fn key_store(&self) -> Arc<dyn alliance_service::keys::KeyStore> {
        self.store.clone()
    }
}

async fn connect(url: &str) -> Result<sqlx::PgPool, StoreError> {
    {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot connect to PostgreSQL: {e}")))?;
        Ok(pool)
    }
}

impl PostgresStore {
    /// The Store over this database.
    pub fn store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }

    /// Applies the migrations this binary carries that the database lacks (several processes
    /// may try at once: sqlx serialises them with an advisory lock). Refuses, changing
    /// nothing, when the database was migrated by a newer Alliance.
    pub async fn migrate(&self) -> Result<SchemaStatus, StoreError> {
        let status = self.store.schema_status().await?;
        refuse_newer(status)?;
        if status.is_current() {
            // Nothing to do, and nothing attempted: the server's role on PostgreSQL may not
            // create tables, not even the migration history's.
            return Ok(status);
        }
        self.migrator.run(self.store.pool()).await.map_err(|e| {
            StoreError::Schema(format!(
                "migration failed: {e} (migrations must run as the role that owns the tables: \
                 run `alliance migrate` with the owner's database URL)"
            ))
        })?;
        self.store.schema_status().await
    }

    /// Lets `role` read and write rows, and nothing else: no DDL, no changes to the migration
    /// history. Run by the owner after migrating; safe to repeat.
    pub async fn grant_app_role(&self, role: &str) -> Result<(), StoreError> {
        let role = quote_role(role)?;
        let mut statements = vec![
            format!("GRANT USAGE ON SCHEMA public TO {role}"),
            format!(
                "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"
            ),
            format!("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}"),
            format!("REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON _sqlx_migrations FROM {role}"),
        ];
        if std::ptr::eq(self.migrator, &KEY_STORE_MIGRATOR) {
            // Keys are destroyed by overwriting, never by deleting their row.
            statements.push(format!("REVOKE DELETE, TRUNCATE ON data_keys FROM {role}"));
        } else {
            // The audit trail is append-only for the server: no UPDATE, DELETE or TRUNCATE.
            statements.push(format!(
                "REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM {role}"
            ));
            statements.push(format!("REVOKE DELETE, TRUNCATE ON audit_head FROM {role}"));
            // Safeguarding: steps, addenda and linked children are append-only for the
            // server; a concern keeps UPDATE and DELETE for its drafts (the triggers seal a
            // submitted one), and no table of them may be truncated, which no row trigger sees.
            for table in ["concern_links", "concern_steps", "concern_addenda"] {
                statements.push(format!(
                    "REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {role}"
                ));
            }
            statements.push(format!("REVOKE TRUNCATE ON concerns FROM {role}"));
            // A file's transfer moves on (sent, sent again, received) but is never removed.
            statements.push(format!(
                "REVOKE DELETE, TRUNCATE ON safeguarding_transfers FROM {role}"
            ));
            // Break-glass grants, retention decisions, subject access requests and the
            // practical record (below) move on (ended, reviewed, lifted, approved, decided,
            // released, withdrawn) but are never removed: they are what a service answers for.
            for table in [
                "break_glass_grants",
                "legal_holds",
                "retention_flags",
                "destruction_requests",
                "subject_access_requests",
                "subject_access_pauses",
                "subject_access_items",
                // Issue 16: incidents and their corrections, safety plans' versions, room
                // checks, disruptions (withdrawn, never removed) and a kit's moves.
                "incidents",
                "incident_addenda",
                "safety_plans",
                "room_checks",
                "session_disruptions",
                "play_kit_moves",
            ] {
                statements.push(format!("REVOKE DELETE, TRUNCATE ON {table} FROM {role}"));
            }
        }
        let mut tx = self.store.pool().begin().await.map_err(map_error)?;
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
        inventory::read(self.store.pool()).await
    }

    pub async fn close(&self) {
        self.store.pool().close().await;
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
