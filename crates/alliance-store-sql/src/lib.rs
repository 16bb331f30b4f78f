//! The Store, written once in the SQL that SQLite and PostgreSQL share: `$N` placeholders,
//! `RETURNING`, `ON CONFLICT`, and only TEXT, BIGINT, BOOLEAN and binary columns. What differs
//! between the engines (how to open a write transaction, how to connect, the migrations, the
//! catalogue) is the [`Engine`] trait's or the engine crates' business.
//!
//! Each area of the Store has its own module and its own `impl`; every write that changes
//! more than one row is one transaction.

/// Implements one of the Store's traits for [`SqlStore`] over either engine. The bounds say
/// that the engine can bind and decode everything the shared SQL uses; they are the same for
/// every area, so they are written once, here.
macro_rules! impl_for_both_engines {
    (helpers { $($body:tt)* }) => {
        impl_for_both_engines!(@impl [impl<DB> $crate::SqlStore<DB>] { $($body)* });
    };
    ($area:path { $($body:tt)* }) => {
        impl_for_both_engines!(@impl [#[async_trait::async_trait] impl<DB> $area for $crate::SqlStore<DB>] { $($body)* });
    };
    (@impl [$($head:tt)*] { $($body:tt)* }) => {
        $($head)*
        where
            DB: $crate::Engine,
            for<'c> &'c mut <DB as sqlx::Database>::Connection: sqlx::Executor<'c, Database = DB>,
            for<'q> <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
            for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
            for<'q> bool: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
            for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
            for<'q> Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
            for<'q> Option<i64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
            for<'q> Vec<u8>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
            for<'q> Option<Vec<u8>>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
            for<'r> $crate::rows::Number: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::rows::VersionRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::rows::ServiceRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::rows::UserRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::rows::RoleRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::rows::CredentialRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::rows::SessionRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::rows::TokenRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::rows::DraftRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::rows::FailureRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::rows::HeadRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::rows::AuditRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::rows::KeyRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::rows::IdRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::rows::SiteRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::calendars::CalendarRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::rows::RoomRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::rows::ChildRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::rows::CarerRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::rows::CaseRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::rows::MemberRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::rows::SupervisionRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::rows::FiringRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::rows::TaskRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::rows::TaskStateRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::rows::CommentRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::rows::NudgeRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::rows::HolidayRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::bookings::SlotRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::bookings::SessionRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::bookings::BookingRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::bookings::FrameChangeRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::settings::SettingRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::feeds::FeedRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::explanations::ExplanationRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::agreements::AgreementRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::agreements::ConsentEntryRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::agreements::ChecklistRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::case_notes::NoteRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::case_notes::ContactRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::case_notes::SupervisionRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::agreements::ConsentLinkRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::session_records::SessionRecordRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::session_records::RecordStateRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::session_records::AmendmentRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::concerns::ConcernRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::concerns::ConcernStateRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::concerns::ConcernStepRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::concerns::ConcernAddendumRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::concerns::ConcernLinkRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::transfers::TransferRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::transfers::TransferStateRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            // break-glass rows
            for<'r> $crate::break_glass::GrantRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            // retention rows
            for<'r> $crate::retention::LegalHoldRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::retention::RetentionFlagRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::retention::DestructionRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::retention::RetentionStateRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            // subject-access rows
            for<'r> $crate::subject_access::SarRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::subject_access::SarPauseRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::subject_access::SarItemRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::subject_access::SarStateRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            // room_care rows (helper A)
            for<'r> $crate::room_care::RoomCareRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::room_care::MaterialRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::room_care::KitRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::room_care::KitMoveRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::room_care::RoomCheckRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::room_care::CheckStateRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            // disruptions rows (helper B)
            for<'r> $crate::disruptions::DisruptionRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::disruptions::IncidentRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::disruptions::IncidentAddendumRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            // site_emergency rows (helper B)
            // measures rows (issue 17, helper A)
            for<'r> $crate::measures::MeasureDefinitionRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::measures::MeasureWordingRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            // feedback rows (issue 17, helper B)
            for<'r> $crate::feedback::FeedbackLinkRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::feedback::ResponseRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            // goals rows (issue 17, helper C)
            for<'r> $crate::goals::GoalRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::goals::GoalWordingRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::goals::GoalRatingRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::goals::GoalSlotRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::goals::GoalStateRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            // emergency rows (helper C)
            for<'r> $crate::emergency::EmergencyDetailsRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::emergency::SafetyPlanRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
            for<'r> $crate::emergency::NumberRow: sqlx::FromRow<'r, <DB as sqlx::Database>::Row>,
        {
            $($body)*
        }
    };
}

mod accounts;
#[doc(hidden)]
pub mod agreements; // public only because the bounds of the Store impls name its rows
mod audit;
#[doc(hidden)]
pub mod bookings; // public only because the bounds of the Store impls name its rows
pub mod break_glass; // public only because the bounds of the Store impls name its rows
mod calendars;
pub mod case_notes; // public only because the bounds of the Store impls name its rows
mod children;
#[doc(hidden)]
pub mod concerns; // public only because the bounds of the Store impls name its rows
mod directory;
pub mod disruptions; // public only because the bounds of the Store impls name its rows
pub mod emergency; // public only because the bounds of the Store impls name its rows
#[doc(hidden)]
pub mod explanations; // public only because the bounds of the Store impls name its rows
pub mod feedback; // public only because the bounds of the Store impls name its rows
#[doc(hidden)]
pub mod feeds; // public only because the bounds of the Store impls name its rows
pub mod goals; // public only because the bounds of the Store impls name its rows
mod keystore;
pub mod measures; // public only because the bounds of the Store impls name its rows
pub mod retention; // public only because the bounds of the Store impls name its rows
pub mod room_care; // public only because the bounds of the Store impls name its rows
#[doc(hidden)]
pub mod rows; // public only because the bounds of the Store impls name its types
mod service;
#[doc(hidden)]
pub mod session_records; // public only because the bounds of the Store impls name its rows
mod sessions;
pub mod settings; // public only because the bounds of the Store impls name its rows
pub mod site_emergency; // public only because the bounds of the Store impls name its rows
#[doc(hidden)]
pub mod subject_access; // public only because the bounds of the Store impls name its rows
mod system;
mod tasks;
mod tokens;
#[doc(hidden)]
pub mod transfers; // public only because the bounds of the Store impls name its rows

use alliance_core::Version;
use alliance_service::{DatabaseKind, SchemaStatus, StoreError};
use jiff::Timestamp;
use sqlx::migrate::Migrator;
use sqlx::{Database, Pool};

/// What differs between the two engines, for the shared SQL.
pub trait Engine: Database {
    const KIND: DatabaseKind;
    /// How a write transaction opens. SQLite: `BEGIN IMMEDIATE`, taking the write lock at the
    /// start, because a deferred transaction that reads and then writes fails at once with
    /// SQLITE_BUSY when another writer got in first, whatever the busy timeout says.
    const BEGIN_WRITE: &'static str;
    /// The statement that tells whether the migration history table exists (as a count).
    const HAS_MIGRATIONS_TABLE: &'static str;
    /// Reads the audit head, locking it until the transaction ends (SQLite's write
    /// transaction already holds the only write lock).
    const LOCK_AUDIT_HEAD: &'static str;
    /// Appended to a `SELECT` to lock the rows it reads until the transaction ends, so that
    /// writers which lock the same rows (the rooms and therapists of a booking) take turns.
    /// PostgreSQL: `FOR NO KEY UPDATE` (it serialises with other lockers and with updates of
    /// the rows, but not with inserts elsewhere that merely reference them). SQLite: nothing,
    /// as its write transaction already holds the only write lock.
    const LOCK_ROWS: &'static str;

    fn rows_affected(result: &Self::QueryResult) -> u64;
}

impl Engine for sqlx::Sqlite {
    const KIND: DatabaseKind = DatabaseKind::Sqlite;
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";
    const HAS_MIGRATIONS_TABLE: &'static str = "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'";
    const LOCK_AUDIT_HEAD: &'static str = "SELECT seq, mac FROM audit_head WHERE id = 1";
    const LOCK_ROWS: &'static str = "";

    fn rows_affected(result: &Self::QueryResult) -> u64 {
        result.rows_affected()
    }
}

impl Engine for sqlx::Postgres {
    const KIND: DatabaseKind = DatabaseKind::Postgres;
    const BEGIN_WRITE: &'static str = "BEGIN";
    const HAS_MIGRATIONS_TABLE: &'static str = "SELECT COUNT(*) AS n FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = '_sqlx_migrations'";
    const LOCK_AUDIT_HEAD: &'static str = "SELECT seq, mac FROM audit_head WHERE id = 1 FOR UPDATE";
    const LOCK_ROWS: &'static str = " FOR NO KEY UPDATE";

    fn rows_affected(result: &Self::QueryResult) -> u64 {
        result.rows_affected()
    }
}

/// The Store over one engine's connection pool.
pub struct SqlStore<DB: Engine> {
    pool: Pool<DB>,
    migrator: &'static Migrator,
    witness: Option<audit::Witness>,
}

pub use audit::Witness;

impl<DB: Engine> SqlStore<DB> {
    pub fn new(pool: Pool<DB>, migrator: &'static Migrator) -> Self {
        Self {
            pool,
            migrator,
            witness: None,
        }
    }

    /// Keeps the audit chain's head in `witness` too, outside the database.
    #[must_use]
    pub fn with_witness(mut self, witness: Witness) -> Self {
        self.witness = Some(witness);
        self
    }

    pub fn pool(&self) -> &Pool<DB> {
        &self.pool
    }

    pub fn migrator(&self) -> &'static Migrator {
        self.migrator
    }
}

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

/// Like [`map_error`], and names the unique constraints that SQLite reports only by their
/// columns (`UNIQUE constraint failed: cases.child_id`, whether a constraint or a unique index
/// was broken): `names` pairs such column lists with the name PostgreSQL reports, so a
/// conflict reads the same on both engines.
pub(crate) fn map_error_named(err: sqlx::Error, names: &[(&str, &str)]) -> StoreError {
    if let sqlx::Error::Database(db) = &err
        && db.is_unique_violation()
        && db.constraint().is_none()
        && let Some(columns) = db.message().strip_prefix("UNIQUE constraint failed: ")
        && let Some((_, name)) = names.iter().find(|(c, _)| *c == columns)
    {
        return StoreError::Conflict((*name).to_owned());
    }
    map_error(err)
}

/// Placeholders `$first, $first+1, …` for `count` values, for an `IN (…)` list: only these
/// are spliced into a statement, never a value.
pub(crate) fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
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
