//! The directory: sites and their rooms. Statements are built only from constants (the column
//! lists in `rows`); every value is a bound parameter.

use crate::rows::{
    Number, ROOM_COLUMNS, ROOM_COLUMNS_R, RoomRow, SITE_COLUMNS, SiteRow, VersionRow,
};
use crate::{Engine, map_error, map_error_named, stale_or_missing, to_micros};
use alliance_core::Version;
use alliance_core::directory::{Room, RoomDetails, RoomId, Site, SiteDetails, SiteId};
use alliance_service::{AuditBatch, DirectoryStore, StoreError};
use jiff::Timestamp;
use sqlx::AssertSqlSafe;

/// The unique constraints of the directory, as SQLite reports them and by name.
const UNIQUE: &[(&str, &str)] = &[
    ("sites.id", "sites_pkey"),
    ("sites.name", "sites_name_key"),
    ("rooms.id", "rooms_pkey"),
    ("rooms.site_id, rooms.name", "rooms_site_name_key"),
];

fn named(err: sqlx::Error) -> StoreError {
    map_error_named(err, UNIQUE)
}

impl_for_both_engines!(helpers {
    /// Why a versioned update matched no row, read in the same transaction: the record is
    /// gone, or it has moved on. `table` is a constant of the calling module.
    pub(crate) async fn why_not_updated(
        tx: &mut sqlx::Transaction<'static, DB>,
        table: &'static str,
        id: String,
    ) -> StoreError {
        let current: Result<Option<VersionRow>, _> =
            sqlx::query_as(AssertSqlSafe(format!("SELECT version FROM {table} WHERE id = $1")))
                .bind(id)
                .fetch_optional(&mut **tx)
                .await;
        match current {
            Ok(current) => stale_or_missing(current.map(|v| v.version)),
            Err(e) => map_error(e),
        }
    }
});

impl_for_both_engines!(DirectoryStore {
    async fn create_site(
        &self,
        id: SiteId,
        details: &SiteDetails,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<Site, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let row: SiteRow = sqlx::query_as(AssertSqlSafe(format!(
            "INSERT INTO sites (id, name, kind, address, phone, out_of_hours, school_dsl_name, \
             school_dsl_contact, active, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, TRUE, 1, $9, $9) RETURNING {SITE_COLUMNS}"
        )))
        .bind(id.to_string())
        .bind(details.name.clone())
        .bind(details.kind.code().to_owned())
        .bind(details.address.clone())
        .bind(details.phone.clone())
        .bind(details.out_of_hours.clone())
        .bind(details.school_dsl_name.clone())
        .bind(details.school_dsl_contact.clone())
        .bind(to_micros(now))
        .fetch_one(&mut *tx)
        .await
        .map_err(named)?;
        self.commit_audited(tx, audit).await?;
        row.try_into()
    }

    async fn update_site(
        &self,
        id: SiteId,
        details: &SiteDetails,
        active: bool,
        expected: Version,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<Site, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let row: Option<SiteRow> = sqlx::query_as(AssertSqlSafe(format!(
            "UPDATE sites SET name = $1, kind = $2, address = $3, phone = $4, out_of_hours = $5, \
             school_dsl_name = $6, school_dsl_contact = $7, active = $8, version = version + 1, \
             updated_at = $9 WHERE id = $10 AND version = $11 RETURNING {SITE_COLUMNS}"
        )))
        .bind(details.name.clone())
        .bind(details.kind.code().to_owned())
        .bind(details.address.clone())
        .bind(details.phone.clone())
        .bind(details.out_of_hours.clone())
        .bind(details.school_dsl_name.clone())
        .bind(details.school_dsl_contact.clone())
        .bind(active)
        .bind(to_micros(now))
        .bind(id.to_string())
        .bind(expected.get())
        .fetch_optional(&mut *tx)
        .await
        .map_err(named)?;
        let Some(row) = row else {
            return Err(Self::why_not_updated(&mut tx, "sites", id.to_string()).await);
        };
        self.commit_audited(tx, audit).await?;
        row.try_into()
    }

    async fn site(&self, id: SiteId) -> Result<Option<Site>, StoreError> {
        let row: Option<SiteRow> =
            sqlx::query_as(AssertSqlSafe(format!("SELECT {SITE_COLUMNS} FROM sites WHERE id = $1")))
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await
                .map_err(map_error)?;
        row.map(Site::try_from).transpose()
    }

    async fn sites(&self) -> Result<Vec<Site>, StoreError> {
        let rows: Vec<SiteRow> =
            sqlx::query_as(AssertSqlSafe(format!("SELECT {SITE_COLUMNS} FROM sites ORDER BY name, id")))
                .fetch_all(&self.pool)
                .await
                .map_err(map_error)?;
        rows.into_iter().map(Site::try_from).collect()
    }

    async fn create_room(
        &self,
        id: RoomId,
        site: SiteId,
        details: &RoomDetails,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<Room, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let sites: Number = sqlx::query_as("SELECT COUNT(*) AS n FROM sites WHERE id = $1")
            .bind(site.to_string())
            .fetch_one(&mut *tx)
            .await
            .map_err(map_error)?;
        if sites.n == 0 {
            return Err(StoreError::NotFound);
        }
        let row: RoomRow = sqlx::query_as(AssertSqlSafe(format!(
            "INSERT INTO rooms (id, site_id, name, capacity, step_free, accessibility_notes, \
             active, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, TRUE, 1, $7, $7) RETURNING {ROOM_COLUMNS}"
        )))
        .bind(id.to_string())
        .bind(site.to_string())
        .bind(details.name.clone())
        .bind(i64::from(details.capacity))
        .bind(details.step_free)
        .bind(details.accessibility_notes.clone())
        .bind(to_micros(now))
        .fetch_one(&mut *tx)
        .await
        .map_err(named)?;
        self.commit_audited(tx, audit).await?;
        row.try_into()
    }

    async fn update_room(
        &self,
        id: RoomId,
        details: &RoomDetails,
        active: bool,
        expected: Version,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<Room, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let row: Option<RoomRow> = sqlx::query_as(AssertSqlSafe(format!(
            "UPDATE rooms SET name = $1, capacity = $2, step_free = $3, accessibility_notes = $4, \
             active = $5, version = version + 1, updated_at = $6 \
             WHERE id = $7 AND version = $8 RETURNING {ROOM_COLUMNS}"
        )))
        .bind(details.name.clone())
        .bind(i64::from(details.capacity))
        .bind(details.step_free)
        .bind(details.accessibility_notes.clone())
        .bind(active)
        .bind(to_micros(now))
        .bind(id.to_string())
        .bind(expected.get())
        .fetch_optional(&mut *tx)
        .await
        .map_err(named)?;
        let Some(row) = row else {
            return Err(Self::why_not_updated(&mut tx, "rooms", id.to_string()).await);
        };
        self.commit_audited(tx, audit).await?;
        row.try_into()
    }

    async fn room(&self, id: RoomId) -> Result<Option<Room>, StoreError> {
        let row: Option<RoomRow> =
            sqlx::query_as(AssertSqlSafe(format!("SELECT {ROOM_COLUMNS} FROM rooms WHERE id = $1")))
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await
                .map_err(map_error)?;
        row.map(Room::try_from).transpose()
    }

    async fn rooms(&self, site: Option<SiteId>) -> Result<Vec<Room>, StoreError> {
        // An absent site is NULL and matches every room.
        let rows: Vec<RoomRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {ROOM_COLUMNS_R} FROM rooms r JOIN sites s ON s.id = r.site_id \
             WHERE ($1 IS NULL OR r.site_id = $1) ORDER BY s.name, r.name, r.id"
        )))
        .bind(site.map(|s| s.to_string()))
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(Room::try_from).collect()
    }
});
