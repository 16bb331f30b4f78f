//! API tokens, stored only as hashes.

use crate::rows::{TOKEN_COLUMNS, TokenRow};
use crate::{map_error, to_micros};
use alliance_core::identity::UserId;
use alliance_service::{AuditBatch, StoreError, TokenRecord, TokenStore};
use jiff::Timestamp;
use sqlx::AssertSqlSafe;
use uuid::Uuid;

impl_for_both_engines!(TokenStore {
    async fn create_token(
        &self,
        token: &TokenRecord,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with(<DB as crate::Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        sqlx::query(
            "INSERT INTO api_tokens (id, user_id, name, token_hash, scope, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(token.id.to_string())
        .bind(token.user_id.to_string())
        .bind(token.name.clone())
        .bind(token.token_hash.clone())
        .bind(token.scope.code().to_owned())
        .bind(to_micros(token.created_at))
        .bind(to_micros(token.expires_at))
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        self.commit_audited(tx, audit).await?;
        Ok(())
    }

    async fn token(&self, token_hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        let row: Option<TokenRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = $1"
        )))
        .bind(token_hash.to_owned())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?;
        row.map(TokenRecord::try_from).transpose()
    }

    async fn user_tokens(
        &self,
        user: UserId,
        now: Timestamp,
    ) -> Result<Vec<TokenRecord>, StoreError> {
        let rows: Vec<TokenRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL \
             AND expires_at > $2 ORDER BY created_at DESC"
        )))
        .bind(user.to_string())
        .bind(to_micros(now))
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(TokenRecord::try_from).collect()
    }

    async fn revoke_token(
        &self,
        user: UserId,
        id: Uuid,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin_with(<DB as crate::Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let revoked = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
        )
        .bind(to_micros(now))
        .bind(id.to_string())
        .bind(user.to_string())
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        if <DB as crate::Engine>::rows_affected(&revoked) != 1 {
            return Ok(false);
        }
        self.commit_audited(tx, audit).await?;
        Ok(true)
    }

    async fn touch_token(&self, id: Uuid, now: Timestamp) -> Result<(), StoreError> {
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(to_micros(now))
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(map_error)?;
        Ok(())
    }
});
