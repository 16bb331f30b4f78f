//! Health, schema state and emptiness.

use crate::rows::Number;
use crate::{Engine, map_error, newest_known};
use alliance_service::{DatabaseKind, SchemaStatus, StoreError, SystemStore};

impl_for_both_engines!(SystemStore {
    fn kind(&self) -> DatabaseKind {
        DB::KIND
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(map_error)
    }

    async fn schema_status(&self) -> Result<SchemaStatus, StoreError> {
        let has_table: Number = sqlx::query_as(<DB as Engine>::HAS_MIGRATIONS_TABLE)
            .fetch_one(&self.pool)
            .await
            .map_err(map_error)?;
        let applied = if has_table.n > 0 {
            let row: Number = sqlx::query_as(
                "SELECT COALESCE(MAX(version), 0) AS n FROM _sqlx_migrations WHERE success = TRUE",
            )
            .fetch_one(&self.pool)
            .await
            .map_err(map_error)?;
            row.n
        } else {
            0
        };
        Ok(SchemaStatus {
            applied,
            known: newest_known(self.migrator),
        })
    }

    async fn is_empty(&self) -> Result<bool, StoreError> {
        let row: Number = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM service) + (SELECT COUNT(*) FROM users) AS n",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(map_error)?;
        Ok(row.n == 0)
    }
});
