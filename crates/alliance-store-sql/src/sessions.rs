//! Sign-in sessions, throttling counters and the drafts of expired sessions: all in the
//! database, so any Alliance process can serve any request.

use crate::rows::{DraftRow, FailureRow, SESSION_COLUMNS, SessionRow, optional_micros};
use crate::{Engine, map_error, to_micros};
use alliance_core::identity::UserId;
use alliance_service::{
    AuditBatch, FailureCounts, ResumeDraft, SessionRecord, SessionStore, StoreError,
};
use jiff::Timestamp;
use sqlx::AssertSqlSafe;

impl_for_both_engines!(helpers {
    async fn insert_session_sql(
        tx: &mut sqlx::Transaction<'static, DB>,
        session: &SessionRecord,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, second_factor_done, created_at, \
             last_seen_at, user_agent, address) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(session.token_hash.clone())
        .bind(session.user_id.to_string())
        .bind(session.csrf_token.clone())
        .bind(session.second_factor_done)
        .bind(to_micros(session.created_at))
        .bind(to_micros(session.last_seen_at))
        .bind(session.user_agent.clone())
        .bind(session.address.clone())
        .execute(&mut **tx)
        .await
        .map_err(map_error)?;
        Ok(())
    }
});

impl_for_both_engines!(SessionStore {
    async fn create_session(
        &self,
        session: &SessionRecord,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        Self::insert_session_sql(&mut tx, session).await?;
        self.commit_audited(tx, audit).await?;
        Ok(())
    }

    async fn session(&self, token_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        let row: Option<SessionRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE token_hash = $1"
        )))
        .bind(token_hash.to_owned())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?;
        row.map(SessionRecord::try_from).transpose()
    }

    async fn touch_session(&self, token_hash: &str, now: Timestamp) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2 AND ended_at IS NULL \
             AND last_seen_at < $1",
        )
        .bind(to_micros(now))
        .bind(token_hash.to_owned())
        .execute(&self.pool)
        .await
        .map_err(map_error)?;
        Ok(())
    }

    async fn rotate_session(
        &self,
        old_token_hash: &str,
        new: &SessionRecord,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let ended = sqlx::query(
            "UPDATE sessions SET ended_at = $1, end_reason = 'rotated' WHERE token_hash = $2 \
             AND ended_at IS NULL",
        )
        .bind(to_micros(now))
        .bind(old_token_hash.to_owned())
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        if <DB as crate::Engine>::rows_affected(&ended) != 1 {
            // The old session ended meanwhile (signed out elsewhere): start nothing.
            return Err(StoreError::NotFound);
        }
        Self::insert_session_sql(&mut tx, new).await?;
        self.commit_audited(tx, audit).await?;
        Ok(())
    }

    async fn end_session(
        &self,
        token_hash: &str,
        reason: &str,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let ended = sqlx::query(
            "UPDATE sessions SET ended_at = $1, end_reason = $2 WHERE token_hash = $3 AND ended_at IS NULL",
        )
        .bind(to_micros(now))
        .bind(reason.to_owned())
        .bind(token_hash.to_owned())
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        if <DB as crate::Engine>::rows_affected(&ended) == 0 {
            // Already ended (by another request): nothing happened, nothing to record.
            return Ok(());
        }
        self.commit_audited(tx, audit).await?;
        Ok(())
    }

    async fn end_user_sessions(
        &self,
        user: UserId,
        reason: &str,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let ended = sqlx::query(
            "UPDATE sessions SET ended_at = $1, end_reason = $2 WHERE user_id = $3 AND ended_at IS NULL",
        )
        .bind(to_micros(now))
        .bind(reason.to_owned())
        .bind(user.to_string())
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        self.commit_audited(tx, audit).await?;
        Ok(<DB as crate::Engine>::rows_affected(&ended))
    }

    async fn user_sessions(&self, user: UserId) -> Result<Vec<SessionRecord>, StoreError> {
        let rows: Vec<SessionRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE user_id = $1 AND ended_at IS NULL \
             ORDER BY created_at DESC"
        )))
        .bind(user.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(SessionRecord::try_from).collect()
    }

    async fn record_login_failure(
        &self,
        account_key: &str,
        address: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO login_failures (id, account_key, address, failed_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(account_key.to_owned())
        .bind(address.to_owned())
        .bind(to_micros(now))
        .execute(&self.pool)
        .await
        .map_err(map_error)?;
        Ok(())
    }

    async fn login_failures(
        &self,
        account_key: &str,
        address: &str,
        since: Timestamp,
    ) -> Result<FailureCounts, StoreError> {
        let account: FailureRow = sqlx::query_as(
            "SELECT COUNT(*) AS n, MAX(failed_at) AS latest FROM login_failures \
             WHERE account_key = $1 AND failed_at >= $2",
        )
        .bind(account_key.to_owned())
        .bind(to_micros(since))
        .fetch_one(&self.pool)
        .await
        .map_err(map_error)?;
        let by_address: FailureRow = sqlx::query_as(
            "SELECT COUNT(*) AS n, MAX(failed_at) AS latest FROM login_failures \
             WHERE address = $1 AND failed_at >= $2",
        )
        .bind(address.to_owned())
        .bind(to_micros(since))
        .fetch_one(&self.pool)
        .await
        .map_err(map_error)?;
        Ok(FailureCounts {
            account: u32::try_from(account.n).unwrap_or(u32::MAX),
            account_latest: optional_micros(account.latest)?,
            address: u32::try_from(by_address.n).unwrap_or(u32::MAX),
            address_latest: optional_micros(by_address.latest)?,
        })
    }

    async fn clear_login_failures(&self, account_key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_failures WHERE account_key = $1")
            .bind(account_key.to_owned())
            .execute(&self.pool)
            .await
            .map_err(map_error)?;
        Ok(())
    }

    async fn save_resume_draft(&self, draft: &ResumeDraft) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO resume_drafts (token_hash, user_id, path, sealed_form, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(draft.token_hash.clone())
        .bind(draft.user_id.to_string())
        .bind(draft.path.clone())
        .bind(draft.sealed_form.as_bytes().to_vec())
        .bind(to_micros(draft.created_at))
        .bind(to_micros(draft.expires_at))
        .execute(&self.pool)
        .await
        .map_err(map_error)?;
        Ok(())
    }

    async fn resume_draft(&self, token_hash: &str) -> Result<Option<ResumeDraft>, StoreError> {
        let row: Option<DraftRow> = sqlx::query_as(
            "SELECT token_hash, user_id, path, sealed_form, created_at, expires_at \
             FROM resume_drafts WHERE token_hash = $1",
        )
        .bind(token_hash.to_owned())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?;
        row.map(ResumeDraft::try_from).transpose()
    }

    async fn delete_resume_draft(&self, token_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM resume_drafts WHERE token_hash = $1")
            .bind(token_hash.to_owned())
            .execute(&self.pool)
            .await
            .map_err(map_error)?;
        Ok(())
    }
});
