//! What the SQLite and PostgreSQL stores share. The statements themselves stay in each store
//! crate, written for its engine; this crate holds the conversions around them.

use alliance_core::{Nation, ServiceName, ServiceProfile, Version};
use alliance_service::{SchemaStatus, StoreError};
use jiff::Timestamp;
use sqlx::migrate::Migrator;

/// Instants are stored as microseconds since the Unix epoch, so both engines sort and compare
/// them the same way.
pub fn to_micros(ts: Timestamp) -> i64 {
    ts.as_microsecond()
}

pub fn from_micros(micros: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_microsecond(micros)
        .map_err(|_| StoreError::Other(format!("a stored instant is out of range: {micros}")))
}

/// Maps a driver error to what the use-cases act on. Messages carry no row data: sqlx errors
/// name constraints and columns, never values.
pub fn map_error(err: sqlx::Error) -> StoreError {
    match err {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(db.constraint().unwrap_or("unique").to_owned())
        }
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            StoreError::Conflict(db.constraint().unwrap_or("foreign key").to_owned())
        }
        sqlx::Error::Io(e) => StoreError::Unavailable(e.to_string()),
        sqlx::Error::Tls(e) => StoreError::Unavailable(e.to_string()),
        sqlx::Error::PoolTimedOut => {
            StoreError::Unavailable("no database connection became free in time".to_owned())
        }
        sqlx::Error::PoolClosed => StoreError::Unavailable("the pool is closed".to_owned()),
        other => StoreError::Other(other.to_string()),
    }
}

/// The newest migration this binary carries.
pub fn newest_known(migrator: &Migrator) -> i64 {
    migrator.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Refuses to touch a database that a newer Alliance has migrated: this binary does not know
/// its schema, and running old code on it could damage records.
pub fn refuse_newer(status: SchemaStatus) -> Result<(), StoreError> {
    if status.applied > status.known {
        Err(StoreError::Schema(format!(
            "the database's schema (migration {}) is newer than this Alliance binary knows \
             (migration {}); run the newer Alliance, or restore a backup taken for this version",
            status.applied, status.known
        )))
    } else {
        Ok(())
    }
}

/// The `service` row as both engines return it.
#[derive(Debug, sqlx::FromRow)]
pub struct ServiceRow {
    pub name: String,
    pub nation: String,
    pub is_demo: bool,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl TryFrom<ServiceRow> for ServiceProfile {
    type Error = StoreError;

    fn try_from(row: ServiceRow) -> Result<Self, StoreError> {
        let corrupt = |what: &str, why: String| {
            StoreError::Other(format!("the stored service {what} is not valid: {why}"))
        };
        Ok(ServiceProfile {
            name: ServiceName::parse(&row.name).map_err(|e| corrupt("name", e))?,
            nation: Nation::parse(&row.nation).map_err(|e| corrupt("nation", e))?,
            is_demo: row.is_demo,
            version: Version::new(row.version).map_err(|e| corrupt("version", e))?,
            created_at: from_micros(row.created_at)?,
            updated_at: from_micros(row.updated_at)?,
        })
    }
}

/// Why a versioned update matched no row: the record is gone, or it has moved on.
pub fn stale_or_missing(current_version: Option<i64>) -> StoreError {
    match current_version {
        None => StoreError::NotFound,
        Some(v) => match Version::new(v) {
            Ok(current) => StoreError::Stale { current },
            Err(e) => StoreError::Other(e),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_round_trip_through_microseconds() {
        let ts =
            Timestamp::from_microsecond(1_798_761_600_123_456).unwrap_or(Timestamp::UNIX_EPOCH);
        assert_eq!(from_micros(to_micros(ts)), Ok(ts));
        assert!(from_micros(i64::MAX).is_err());
    }

    #[test]
    fn a_newer_schema_is_refused_and_an_older_one_is_not() {
        assert!(
            refuse_newer(SchemaStatus {
                applied: 3,
                known: 2
            })
            .is_err()
        );
        assert!(
            refuse_newer(SchemaStatus {
                applied: 1,
                known: 2
            })
            .is_ok()
        );
        assert!(
            refuse_newer(SchemaStatus {
                applied: 2,
                known: 2
            })
            .is_ok()
        );
    }
}
