//! Break-glass grants: written once, ended once by their holder, reviewed once. Each change
//! is a conditional update in the state it needs, so a refused or repeated one writes
//! nothing; a review marks read the notices about the grant in the same transaction. The
//! database itself refuses the deletion of a grant and any other change of one.
//!
//! The reason is sealed; this module only moves its bytes.

use crate::{Engine, from_micros, map_error, map_error_named, to_micros};
use alliance_core::break_glass::{Grant, GrantId};
use alliance_core::children::ChildId;
use alliance_core::crypto::Sealed;
use alliance_core::identity::UserId;
use alliance_core::tasks::Rule;
use alliance_core::{Page, PageRequest};
use alliance_service::store::{BreakGlassStore, StoredGrant};
use alliance_service::{AuditBatch, StoreError};
use jiff::Timestamp;
use sqlx::AssertSqlSafe;

const GRANT_COLUMNS: &str = "id, user_id, child_id, reason, starts_at, expires_at, ended_at, \
     reviewed_by, reviewed_at, created_at";

/// The record type a notice about a grant names as its subject.
const SUBJECT_TYPE: &str = "break-glass";

/// Newest first; the id breaks ties.
const ORDER: &str = "starts_at DESC, id DESC";
/// After the cursor's position in that order.
const AFTER: &str = "(starts_at < $A OR (starts_at = $A AND id < $B))";

/// SQLite names a broken unique constraint by its columns; PostgreSQL by its name.
const UNIQUE: &[(&str, &str)] = &[("break_glass_grants.id", "break_glass_grants_pkey")];

fn corrupt(what: &str) -> StoreError {
    StoreError::Other(format!("a stored {what} is not valid"))
}

#[derive(Debug, sqlx::FromRow)]
pub struct GrantRow {
    pub id: String,
    pub user_id: String,
    pub child_id: String,
    pub reason: Vec<u8>,
    pub starts_at: i64,
    pub expires_at: i64,
    pub ended_at: Option<i64>,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<i64>,
    pub created_at: i64,
}

impl TryFrom<GrantRow> for StoredGrant {
    type Error = StoreError;

    fn try_from(row: GrantRow) -> Result<Self, StoreError> {
        Ok(StoredGrant {
            grant: Grant {
                id: GrantId::parse(&row.id).map_err(|_| corrupt("break-glass grant id"))?,
                user: crate::rows::user_id(&row.user_id)?,
                child: crate::rows::child_id(&row.child_id)?,
                starts_at: from_micros(row.starts_at)?,
                expires_at: from_micros(row.expires_at)?,
                ended_at: crate::rows::optional_micros(row.ended_at)?,
                reviewed_by: row
                    .reviewed_by
                    .as_deref()
                    .map(crate::rows::user_id)
                    .transpose()?,
                reviewed_at: crate::rows::optional_micros(row.reviewed_at)?,
            },
            reason: Sealed::from_stored(row.reason),
            created_at: from_micros(row.created_at)?,
        })
    }
}

/// A position in the newest-first order: `{starts_at micros}.{id}`.
fn cursor_of(grant: &StoredGrant) -> String {
    format!("{}.{}", to_micros(grant.grant.starts_at), grant.grant.id)
}

fn parse_cursor(page: &PageRequest) -> Result<Option<(i64, String)>, StoreError> {
    let Some(cursor) = &page.after else {
        return Ok(None);
    };
    let parsed = cursor
        .as_str()
        .split_once('.')
        .and_then(|(at, id)| Some((at.parse::<i64>().ok()?, GrantId::parse(id).ok()?)));
    match parsed {
        Some((at, id)) => Ok(Some((at, id.to_string()))),
        // Not a cursor this list gave out: there is no such position in it.
        None => Err(StoreError::NotFound),
    }
}

/// The keyset clause with its placeholders numbered from `first`.
fn after_clause(first: usize) -> String {
    AFTER
        .replace("$A", &format!("${first}"))
        .replace("$B", &format!("${}", first + 1))
}

impl_for_both_engines!(helpers {
    /// One page of the grants `clause` selects (a fixed clause whose only placeholder is
    /// `$1`, bound to `first`), newest first.
    async fn grant_page(
        &self,
        clause: &str,
        first: Option<String>,
        page: &PageRequest,
    ) -> Result<Page<StoredGrant>, StoreError> {
        let after = parse_cursor(page)?;
        let base = usize::from(first.is_some()) + 1;
        let keyset = match after {
            Some(_) => format!(" AND {}", after_clause(base)),
            None => String::new(),
        };
        let limit = if after.is_some() { base + 2 } else { base };
        let sql = format!(
            "SELECT {GRANT_COLUMNS} FROM break_glass_grants WHERE {clause}{keyset} \
             ORDER BY {ORDER} LIMIT ${limit}"
        );
        let mut query = sqlx::query_as(AssertSqlSafe(sql));
        if let Some(first) = first {
            query = query.bind(first);
        }
        if let Some((at, id)) = after {
            query = query.bind(at).bind(id);
        }
        let rows: Vec<GrantRow> = query
            .bind(page.fetch_limit())
            .fetch_all(&self.pool)
            .await
            .map_err(map_error)?;
        let grants = rows
            .into_iter()
            .map(StoredGrant::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_rows(grants, page, cursor_of))
    }
});

impl_for_both_engines!(BreakGlassStore {
    async fn create_grant(
        &self,
        grant: &StoredGrant,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError> {
        let g = &grant.grant;
        if g.ended_at.is_some() || g.reviewed_at.is_some() || g.reviewed_by.is_some() {
            return Err(StoreError::Other(
                "a new grant is written neither ended nor reviewed".to_owned(),
            ));
        }
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO break_glass_grants ({GRANT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, \
             NULL, NULL, NULL, $7)"
        )))
        .bind(g.id.to_string())
        .bind(g.user.to_string())
        .bind(g.child.to_string())
        .bind(grant.reason.as_bytes().to_vec())
        .bind(to_micros(g.starts_at))
        .bind(to_micros(g.expires_at))
        .bind(to_micros(grant.created_at))
        .execute(&mut *tx)
        .await
        .map_err(|e| map_error_named(e, UNIQUE))?;
        self.commit_audited(tx, audit).await
    }

    async fn grant(&self, id: GrantId) -> Result<Option<StoredGrant>, StoreError> {
        let row: Option<GrantRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {GRANT_COLUMNS} FROM break_glass_grants WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?;
        row.map(StoredGrant::try_from).transpose()
    }

    async fn grant_in_force(
        &self,
        user: UserId,
        child: ChildId,
        now: Timestamp,
    ) -> Result<Option<StoredGrant>, StoreError> {
        let row: Option<GrantRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {GRANT_COLUMNS} FROM break_glass_grants WHERE user_id = $1 \
             AND child_id = $2 AND expires_at > $3 AND starts_at <= $3 AND ended_at IS NULL \
             ORDER BY expires_at DESC LIMIT 1"
        )))
        .bind(user.to_string())
        .bind(child.to_string())
        .bind(to_micros(now))
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?;
        row.map(StoredGrant::try_from).transpose()
    }

    async fn grants_of_user(
        &self,
        user: UserId,
        page: &PageRequest,
    ) -> Result<Page<StoredGrant>, StoreError> {
        self.grant_page("user_id = $1", Some(user.to_string()), page)
            .await
    }

    async fn grants_for_review(
        &self,
        reviewed: bool,
        page: &PageRequest,
    ) -> Result<Page<StoredGrant>, StoreError> {
        let clause = if reviewed {
            "reviewed_at IS NOT NULL"
        } else {
            "reviewed_at IS NULL"
        };
        self.grant_page(clause, None, page).await
    }

    async fn end_grant(
        &self,
        id: GrantId,
        user: UserId,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredGrant, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let row: Option<GrantRow> = sqlx::query_as(AssertSqlSafe(format!(
            "UPDATE break_glass_grants SET ended_at = $1 WHERE id = $2 AND user_id = $3 \
             AND ended_at IS NULL AND starts_at <= $1 AND expires_at > $1 \
             RETURNING {GRANT_COLUMNS}"
        )))
        .bind(to_micros(now))
        .bind(id.to_string())
        .bind(user.to_string())
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_error)?;
        let Some(row) = row else {
            let holder: Option<crate::rows::IdRow> = sqlx::query_as(
                "SELECT user_id AS id FROM break_glass_grants WHERE id = $1",
            )
            .bind(id.to_string())
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_error)?;
            // Dropping the transaction rolls it back: nothing written, nothing audited.
            return Err(match holder {
                Some(h) if h.id == user.to_string() => {
                    StoreError::Conflict("break_glass_not_in_force".to_owned())
                }
                _ => StoreError::NotFound,
            });
        };
        let grant = StoredGrant::try_from(row)?;
        self.commit_audited(tx, audit).await?;
        Ok(grant)
    }

    async fn review_grant(
        &self,
        id: GrantId,
        by: UserId,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredGrant, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        // Over (ended, or expired by now) and not yet reviewed.
        let row: Option<GrantRow> = sqlx::query_as(AssertSqlSafe(format!(
            "UPDATE break_glass_grants SET reviewed_by = $1, reviewed_at = $2 WHERE id = $3 \
             AND reviewed_at IS NULL AND (ended_at IS NOT NULL OR expires_at <= $2) \
             RETURNING {GRANT_COLUMNS}"
        )))
        .bind(by.to_string())
        .bind(to_micros(now))
        .bind(id.to_string())
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_error)?;
        let Some(row) = row else {
            let found: Option<crate::rows::IdRow> =
                sqlx::query_as("SELECT id FROM break_glass_grants WHERE id = $1")
                    .bind(id.to_string())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(map_error)?;
            return Err(match found {
                Some(_) => StoreError::Conflict("break_glass_not_reviewable".to_owned()),
                None => StoreError::NotFound,
            });
        };
        let grant = StoredGrant::try_from(row)?;
        // The notices about it are read: what they asked for is done.
        sqlx::query(
            "UPDATE tasks SET done_at = $1, done_by = $2, version = version + 1, \
             updated_at = $1 WHERE done_at IS NULL AND subject_type = $3 \
             AND subject_id = $4 AND rule = $5",
        )
        .bind(to_micros(now))
        .bind(by.to_string())
        .bind(SUBJECT_TYPE.to_owned())
        .bind(id.to_string())
        .bind(Rule::BreakGlassGranted.code().to_owned())
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        self.commit_audited(tx, audit).await?;
        Ok(grant)
    }
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_cursors_this_list_gave_out_are_taken() {
        let id = GrantId(uuid::Uuid::from_u128(7));
        let good = PageRequest::parse(Some(10), Some(&format!("123.{id}")));
        let good = good.unwrap_or_default();
        assert_eq!(
            parse_cursor(&good).ok().flatten(),
            Some((123, id.to_string()))
        );
        for bad in ["123", "x.y", "123.not-an-id"] {
            let page = PageRequest::parse(Some(10), Some(bad)).unwrap_or_default();
            assert!(parse_cursor(&page).is_err(), "{bad}");
        }
        assert_eq!(
            after_clause(2),
            "(starts_at < $2 OR (starts_at = $2 AND id < $3))"
        );
    }
}
