//! Calendar feeds, stored only as hashes of their tokens; one live feed per person, which the
//! partial unique index `calendar_feeds_one_live` enforces as well.

use crate::rows::IdRow;
use crate::{Engine, from_micros, map_error, map_error_named, to_micros};
use alliance_core::identity::UserId;
use alliance_service::{AuditBatch, FeedRecord, FeedStore, StoreError};
use jiff::Timestamp;
use sqlx::AssertSqlSafe;
use uuid::Uuid;

const COLUMNS: &str = "id, user_id, token_hash, created_at, revoked_at";

/// SQLite names a broken unique index by its columns; PostgreSQL by its name.
const UNIQUE: &[(&str, &str)] = &[
    ("calendar_feeds.user_id", "calendar_feeds_one_live"),
    ("calendar_feeds.token_hash", "calendar_feeds_token_hash_key"),
    ("calendar_feeds.id", "calendar_feeds_pkey"),
];

#[derive(Debug, sqlx::FromRow)]
pub struct FeedRow {
    pub id: String,
    pub user_id: String,
    pub token_hash: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

impl TryFrom<FeedRow> for FeedRecord {
    type Error = StoreError;

    fn try_from(row: FeedRow) -> Result<Self, StoreError> {
        Ok(FeedRecord {
            id: Uuid::parse_str(&row.id)
                .map_err(|e| StoreError::Other(format!("a stored feed id is not valid: {e}")))?,
            user_id: crate::rows::user_id(&row.user_id)?,
            token_hash: row.token_hash,
            created_at: from_micros(row.created_at)?,
            revoked_at: crate::rows::optional_micros(row.revoked_at)?,
        })
    }
}

impl_for_both_engines!(FeedStore {
    async fn create_feed(
        &self,
        feed: &FeedRecord,
        replaces: Option<Uuid>,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let user = feed.user_id.to_string();
        // The person's row is locked first, so two requests for one person take turns
        // (SQLite's write transaction already holds the only write lock).
        let locked: Option<IdRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT id FROM users WHERE id = $1{}",
            <DB as Engine>::LOCK_ROWS
        )))
        .bind(user.clone())
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_error)?;
        if locked.is_none() {
            return Err(StoreError::NotFound);
        }
        let live: Vec<IdRow> = sqlx::query_as(
            "SELECT id FROM calendar_feeds WHERE user_id = $1 AND revoked_at IS NULL",
        )
        .bind(user.clone())
        .fetch_all(&mut *tx)
        .await
        .map_err(map_error)?;
        let expected: Vec<String> = replaces.iter().map(Uuid::to_string).collect();
        let found: Vec<String> = live.into_iter().map(|r| r.id).collect();
        if found != expected {
            return Err(StoreError::Conflict("calendar_feeds_one_live".to_owned()));
        }
        sqlx::query(
            "UPDATE calendar_feeds SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
        )
        .bind(to_micros(feed.created_at))
        .bind(user.clone())
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        sqlx::query(
            "INSERT INTO calendar_feeds (id, user_id, token_hash, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(feed.id.to_string())
        .bind(user)
        .bind(feed.token_hash.clone())
        .bind(to_micros(feed.created_at))
        .execute(&mut *tx)
        .await
        .map_err(|e| map_error_named(e, UNIQUE))?;
        self.commit_audited(tx, audit).await
    }

    async fn feed_by_token(&self, token_hash: &str) -> Result<Option<FeedRecord>, StoreError> {
        let row: Option<FeedRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM calendar_feeds WHERE token_hash = $1"
        )))
        .bind(token_hash.to_owned())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?;
        row.map(FeedRecord::try_from).transpose()
    }

    async fn live_feed(&self, user: UserId) -> Result<Option<FeedRecord>, StoreError> {
        let row: Option<FeedRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM calendar_feeds WHERE user_id = $1 AND revoked_at IS NULL"
        )))
        .bind(user.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?;
        row.map(FeedRecord::try_from).transpose()
    }

    async fn revoke_feed(
        &self,
        user: UserId,
        id: Uuid,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let revoked = sqlx::query(
            "UPDATE calendar_feeds SET revoked_at = $1 \
             WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
        )
        .bind(to_micros(now))
        .bind(id.to_string())
        .bind(user.to_string())
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        if <DB as Engine>::rows_affected(&revoked) != 1 {
            return Ok(false);
        }
        self.commit_audited(tx, audit).await?;
        Ok(true)
    }
});
