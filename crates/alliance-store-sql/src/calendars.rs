//! Term calendars, each kept as one document (its terms and closures as JSON), validated again
//! through the core whenever it is read: a stored calendar that no longer passes is reported
//! as corrupt, never used.

use crate::{Engine, from_micros, map_error, map_error_named, to_micros};
use alliance_core::Version;
use alliance_core::directory::SiteId;
use alliance_core::schedule::TermCalendar;
use alliance_service::{AuditBatch, CalendarStore, StoreError, StoredCalendar};
use jiff::Timestamp;
use sqlx::AssertSqlSafe;
use uuid::Uuid;

const UNIQUE: &[(&str, &str)] = &[
    ("term_calendars.id", "term_calendars_pkey"),
    ("term_calendars.name", "term_calendars_name_key"),
    ("term_calendars.site_id", "term_calendars_site_key"),
];

const COLUMNS: &str = "id, name, site_id, document, version, created_at, updated_at";

fn document(calendar: &TermCalendar) -> Result<String, StoreError> {
    Ok(calendar.to_document())
}

#[derive(Debug, sqlx::FromRow)]
pub struct CalendarRow {
    pub id: String,
    pub name: String,
    pub site_id: Option<String>,
    pub document: String,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl TryFrom<CalendarRow> for StoredCalendar {
    type Error = StoreError;

    fn try_from(row: CalendarRow) -> Result<Self, StoreError> {
        let corrupt =
            |what: &str| StoreError::Other(format!("a stored term calendar's {what} is not valid"));
        Ok(StoredCalendar {
            id: Uuid::parse_str(&row.id).map_err(|_| corrupt("id"))?,
            site: row
                .site_id
                .as_deref()
                .map(SiteId::parse)
                .transpose()
                .map_err(|_| corrupt("site"))?,
            calendar: TermCalendar::from_document(&row.name, &row.document)
                .map_err(|_| corrupt("document"))?,
            version: Version::new(row.version).map_err(|_| corrupt("version"))?,
            created_at: from_micros(row.created_at)?,
            updated_at: from_micros(row.updated_at)?,
        })
    }
}

impl_for_both_engines!(CalendarStore {
    async fn create_calendar(
        &self,
        id: Uuid,
        site: Option<SiteId>,
        calendar: &TermCalendar,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredCalendar, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let row: CalendarRow = sqlx::query_as(AssertSqlSafe(format!(
            "INSERT INTO term_calendars (id, name, site_id, document, version, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, 1, $5, $5) RETURNING {COLUMNS}"
        )))
        .bind(id.to_string())
        .bind(calendar.name().to_owned())
        .bind(site.map(|s| s.to_string()))
        .bind(document(calendar)?)
        .bind(to_micros(now))
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| map_error_named(e, UNIQUE))?;
        self.commit_audited(tx, audit).await?;
        row.try_into()
    }

    async fn update_calendar(
        &self,
        id: Uuid,
        site: Option<SiteId>,
        calendar: &TermCalendar,
        expected: Version,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredCalendar, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let row: Option<CalendarRow> = sqlx::query_as(AssertSqlSafe(format!(
            "UPDATE term_calendars SET name = $1, site_id = $2, document = $3, \
             version = version + 1, updated_at = $4 WHERE id = $5 AND version = $6 \
             RETURNING {COLUMNS}"
        )))
        .bind(calendar.name().to_owned())
        .bind(site.map(|s| s.to_string()))
        .bind(document(calendar)?)
        .bind(to_micros(now))
        .bind(id.to_string())
        .bind(expected.get())
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| map_error_named(e, UNIQUE))?;
        let Some(row) = row else {
            return Err(Self::why_not_updated(&mut tx, "term_calendars", id.to_string()).await);
        };
        self.commit_audited(tx, audit).await?;
        row.try_into()
    }

    async fn calendar(&self, id: Uuid) -> Result<Option<StoredCalendar>, StoreError> {
        let row: Option<CalendarRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM term_calendars WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?;
        row.map(StoredCalendar::try_from).transpose()
    }

    async fn calendars(&self) -> Result<Vec<StoredCalendar>, StoreError> {
        let rows: Vec<CalendarRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM term_calendars ORDER BY name, id"
        )))
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(StoredCalendar::try_from).collect()
    }
});
