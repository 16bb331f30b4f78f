//! The regular frame: each case's regular slot, the sessions booked for it (table
//! `therapy_sessions`; `sessions` holds the sign-in sessions) and the history of changes to the
//! frame. Statements are built only from constants and placeholders; every value is a bound
//! parameter.
//!
//! Booking is where two requests at once could both win: two therapists booking the Willow
//! Room for Monday 15:30 in the same second. So every write that books (a slot's series, a
//! session added by hand, a session moved) runs in one write transaction that first locks the
//! rows of the rooms and the therapists it books, in id order (PostgreSQL; SQLite's write
//! transaction holds the only write lock already), then reads the bookings of those rooms and
//! therapists on the days involved, checks each new booking against them and against the
//! request's other new bookings ([`find_clashes`]), and writes only when nothing clashes. Any
//! two bookings that could clash share a room or a therapist, and so a locked row: the second
//! request waits, then sees the first one's sessions.

use crate::rows::IdRow;
use crate::{Engine, from_micros, map_error, map_error_named, placeholders, to_micros};
use alliance_core::Version;
use alliance_core::cases::CaseId;
use alliance_core::children::ChildId;
use alliance_core::crypto::Sealed;
use alliance_core::directory::RoomId;
use alliance_core::identity::UserId;
use alliance_core::schedule::{
    Attendance, AttendanceKind, Booking, BookingId, Clash, MAX_LATE_MINUTES, Slot, clock_text,
    find_clashes, parse_clock_time, parse_weekday, weekday_code,
};
use alliance_service::{
    AuditBatch, Booked, BookingStore, FrameChange, NewSession, RegularSlot, StoreError,
    StoredSession,
};
use jiff::Timestamp;
use jiff::civil::{Date, Time};
use sqlx::AssertSqlSafe;
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// The most values in one `IN (…)` list.
const IN_LIST: usize = 500;

/// The unique constraints of this area, as SQLite reports them (by columns) and by name.
const UNIQUE: &[(&str, &str)] = &[
    ("regular_slots.case_id", "regular_slots_pkey"),
    ("therapy_sessions.id", "therapy_sessions_pkey"),
    ("frame_changes.id", "frame_changes_pkey"),
];

fn named(err: sqlx::Error) -> StoreError {
    map_error_named(err, UNIQUE)
}

const SLOT_COLUMNS: &str = "case_id, calendar_id, room_id, therapist_id, weekday, start, minutes, \
                            from_date, until_date, version, created_at, updated_at";

const SESSION_COLUMNS: &str = "id, case_id, child_id, room_id, therapist_id, date, start, \
                               minutes, regular, attendance, late_minutes, reason, cancelled, \
                               version, created_at, updated_at";

const BOOKING_COLUMNS: &str = "id, room_id, therapist_id, date, start, minutes";

const CHANGE_COLUMNS: &str = "id, case_id, what, session_id, by_id, reason, at";

fn corrupt(what: &str) -> StoreError {
    StoreError::Other(format!("a stored {what} is not valid"))
}

fn date(what: &str, raw: &str) -> Result<Date, StoreError> {
    raw.parse().map_err(|_| corrupt(what))
}

fn clock(what: &str, raw: &str) -> Result<Time, StoreError> {
    parse_clock_time(raw).map_err(|_| corrupt(what))
}

fn minutes(what: &str, raw: i64) -> Result<u16, StoreError> {
    u16::try_from(raw).map_err(|_| corrupt(what))
}

fn version(raw: i64) -> Result<Version, StoreError> {
    Version::new(raw).map_err(|_| corrupt("version"))
}

fn room_id(raw: &str) -> Result<RoomId, StoreError> {
    RoomId::parse(raw).map_err(|_| corrupt("room id"))
}

fn user_id(raw: &str) -> Result<UserId, StoreError> {
    UserId::parse(raw).map_err(|_| corrupt("user id"))
}

fn booking_id(raw: &str) -> Result<BookingId, StoreError> {
    BookingId::parse(raw).map_err(|_| corrupt("session id"))
}

fn case_id(raw: &str) -> Result<CaseId, StoreError> {
    CaseId::parse(raw).map_err(|_| corrupt("case id"))
}

/// The attendance stored as its kind's code and the minutes late. The reason is not part of
/// it: it is stored sealed, and returned sealed beside it.
fn attendance(code: Option<&str>, late: Option<i64>) -> Result<Option<Attendance>, StoreError> {
    let Some(code) = code else {
        return Ok(None);
    };
    let kind = AttendanceKind::parse(code).map_err(|_| corrupt("attendance"))?;
    Ok(Some(match kind {
        AttendanceKind::Attended => Attendance::Attended,
        AttendanceKind::Late => Attendance::Late {
            minutes: late
                .and_then(|m| u16::try_from(m).ok())
                .filter(|m| (1..=MAX_LATE_MINUTES).contains(m))
                .ok_or_else(|| corrupt("number of minutes late"))?,
        },
        AttendanceKind::DidNotAttend => Attendance::DidNotAttend { reason: None },
        AttendanceKind::CancelledByChildOrFamily => {
            Attendance::CancelledByChildOrFamily { reason: None }
        }
        AttendanceKind::CancelledBySchool => Attendance::CancelledBySchool { reason: None },
        AttendanceKind::CancelledByTherapist => Attendance::CancelledByTherapist { reason: None },
    }))
}

#[derive(Debug, sqlx::FromRow)]
pub struct SlotRow {
    pub case_id: String,
    pub calendar_id: String,
    pub room_id: String,
    pub therapist_id: String,
    pub weekday: String,
    pub start: String,
    pub minutes: i64,
    pub from_date: String,
    pub until_date: Option<String>,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl TryFrom<SlotRow> for RegularSlot {
    type Error = StoreError;

    fn try_from(row: SlotRow) -> Result<Self, StoreError> {
        Ok(RegularSlot {
            case_id: case_id(&row.case_id)?,
            calendar_id: Uuid::parse_str(&row.calendar_id).map_err(|_| corrupt("calendar id"))?,
            room: room_id(&row.room_id)?,
            therapist: user_id(&row.therapist_id)?,
            slot: Slot {
                weekday: parse_weekday(&row.weekday).map_err(|_| corrupt("weekday"))?,
                start: clock("slot's start", &row.start)?,
                minutes: minutes("slot's length", row.minutes)?,
                from: date("slot's first date", &row.from_date)?,
                until: row
                    .until_date
                    .as_deref()
                    .map(|d| date("slot's last date", d))
                    .transpose()?,
            },
            version: version(row.version)?,
            created_at: from_micros(row.created_at)?,
            updated_at: from_micros(row.updated_at)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct SessionRow {
    pub id: String,
    pub case_id: String,
    pub child_id: String,
    pub room_id: String,
    pub therapist_id: String,
    pub date: String,
    pub start: String,
    pub minutes: i64,
    pub regular: bool,
    pub attendance: Option<String>,
    pub late_minutes: Option<i64>,
    pub reason: Option<Vec<u8>>,
    pub cancelled: bool,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl TryFrom<SessionRow> for StoredSession {
    type Error = StoreError;

    fn try_from(row: SessionRow) -> Result<Self, StoreError> {
        Ok(StoredSession {
            booking: Booking {
                id: booking_id(&row.id)?,
                room: room_id(&row.room_id)?,
                therapist: user_id(&row.therapist_id)?,
                date: date("session's date", &row.date)?,
                start: clock("session's start", &row.start)?,
                minutes: minutes("session's length", row.minutes)?,
            },
            case_id: case_id(&row.case_id)?,
            child_id: ChildId::parse(&row.child_id).map_err(|_| corrupt("child id"))?,
            regular: row.regular,
            attendance: attendance(row.attendance.as_deref(), row.late_minutes)?,
            sealed_reason: row.reason.map(Sealed::from_stored),
            version: version(row.version)?,
            created_at: from_micros(row.created_at)?,
            updated_at: from_micros(row.updated_at)?,
        })
    }
}

/// A session as a booking of a room and a therapist, for checking clashes.
#[derive(Debug, sqlx::FromRow)]
pub struct BookingRow {
    pub id: String,
    pub room_id: String,
    pub therapist_id: String,
    pub date: String,
    pub start: String,
    pub minutes: i64,
}

impl TryFrom<BookingRow> for Booking {
    type Error = StoreError;

    fn try_from(row: BookingRow) -> Result<Self, StoreError> {
        Ok(Booking {
            id: booking_id(&row.id)?,
            room: room_id(&row.room_id)?,
            therapist: user_id(&row.therapist_id)?,
            date: date("session's date", &row.date)?,
            start: clock("session's start", &row.start)?,
            minutes: minutes("session's length", row.minutes)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct FrameChangeRow {
    pub id: String,
    pub case_id: String,
    pub what: String,
    pub session_id: Option<String>,
    pub by_id: String,
    pub reason: Vec<u8>,
    pub at: i64,
}

impl TryFrom<FrameChangeRow> for FrameChange {
    type Error = StoreError;

    fn try_from(row: FrameChangeRow) -> Result<Self, StoreError> {
        Ok(FrameChange {
            id: Uuid::parse_str(&row.id).map_err(|_| corrupt("frame change id"))?,
            case_id: case_id(&row.case_id)?,
            what: row.what,
            session: row.session_id.as_deref().map(booking_id).transpose()?,
            by: user_id(&row.by_id)?,
            sealed_reason: Sealed::from_stored(row.reason),
            at: from_micros(row.at)?,
        })
    }
}

/// Every clash of the new bookings with those already made, and with each other (each pair
/// of new bookings once).
fn clashes_of(new: &[Booking], existing: &[Booking]) -> Vec<Clash> {
    let mut clashes = Vec::new();
    for (i, booking) in new.iter().enumerate() {
        clashes.extend(find_clashes(booking, existing));
        clashes.extend(find_clashes(booking, &new[..i]));
    }
    clashes
}

/// The days whose bookings could overlap a booking on `date`: the day itself and its
/// neighbours (a late session may run past midnight).
fn days_around(date: Date) -> impl Iterator<Item = String> {
    [date.yesterday().ok(), Some(date), date.tomorrow().ok()]
        .into_iter()
        .flatten()
        .map(|d| d.to_string())
}

impl_for_both_engines!(helpers {
    /// Locks the rows of the rooms and the therapists `bookings` book, rooms first, each in id
    /// order, so requests booking any of them take turns (a no-op on SQLite, whose write
    /// transaction already holds the only write lock).
    async fn lock_for_booking(
        tx: &mut sqlx::Transaction<'static, DB>,
        bookings: &[Booking],
    ) -> Result<(), StoreError> {
        let rooms: BTreeSet<String> = bookings.iter().map(|b| b.room.to_string()).collect();
        let therapists: BTreeSet<String> =
            bookings.iter().map(|b| b.therapist.to_string()).collect();
        for (table, ids) in [("rooms", rooms), ("users", therapists)] {
            let ids: Vec<String> = ids.into_iter().collect();
            for chunk in ids.chunks(IN_LIST) {
                let sql = format!(
                    "SELECT id FROM {table} WHERE id IN ({}) ORDER BY id{}",
                    placeholders(1, chunk.len()),
                    <DB as Engine>::LOCK_ROWS
                );
                let mut query = sqlx::query_as(AssertSqlSafe(sql));
                for id in chunk {
                    query = query.bind(id.clone());
                }
                let _: Vec<IdRow> = query.fetch_all(&mut **tx).await.map_err(map_error)?;
            }
        }
        Ok(())
    }

    /// The bookings (not cancelled) of the rooms and the therapists of `bookings` on the days
    /// around theirs, as `tx` sees them.
    async fn bookings_around(
        tx: &mut sqlx::Transaction<'static, DB>,
        bookings: &[Booking],
    ) -> Result<Vec<Booking>, StoreError> {
        let rooms: BTreeSet<String> = bookings.iter().map(|b| b.room.to_string()).collect();
        let therapists: BTreeSet<String> =
            bookings.iter().map(|b| b.therapist.to_string()).collect();
        let days: Vec<String> = bookings
            .iter()
            .flat_map(|b| days_around(b.date))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut found: BTreeMap<String, BookingRow> = BTreeMap::new();
        for (column, ids) in [("room_id", rooms), ("therapist_id", therapists)] {
            let ids: Vec<String> = ids.into_iter().collect();
            for id_chunk in ids.chunks(IN_LIST) {
                for day_chunk in days.chunks(IN_LIST) {
                    let sql = format!(
                        "SELECT {BOOKING_COLUMNS} FROM therapy_sessions WHERE cancelled = FALSE \
                         AND {column} IN ({}) AND date IN ({})",
                        placeholders(1, id_chunk.len()),
                        placeholders(1 + id_chunk.len(), day_chunk.len())
                    );
                    let mut query = sqlx::query_as(AssertSqlSafe(sql));
                    for id in id_chunk {
                        query = query.bind(id.clone());
                    }
                    for day in day_chunk {
                        query = query.bind(day.clone());
                    }
                    let rows: Vec<BookingRow> =
                        query.fetch_all(&mut **tx).await.map_err(map_error)?;
                    for row in rows {
                        found.insert(row.id.clone(), row);
                    }
                }
            }
        }
        found.into_values().map(Booking::try_from).collect()
    }

    /// Locks what `bookings` book and finds their clashes: none means they may be written in
    /// `tx`.
    async fn clashes_in(
        tx: &mut sqlx::Transaction<'static, DB>,
        bookings: &[Booking],
    ) -> Result<Vec<Clash>, StoreError> {
        if bookings.is_empty() {
            return Ok(Vec::new());
        }
        Self::lock_for_booking(tx, bookings).await?;
        let existing = Self::bookings_around(tx, bookings).await?;
        Ok(clashes_of(bookings, &existing))
    }

    async fn insert_session(
        tx: &mut sqlx::Transaction<'static, DB>,
        session: &NewSession,
        now: Timestamp,
    ) -> Result<SessionRow, StoreError> {
        let b = &session.booking;
        sqlx::query_as(AssertSqlSafe(format!(
            "INSERT INTO therapy_sessions (id, case_id, child_id, room_id, therapist_id, date, \
             start, minutes, regular, attendance, late_minutes, reason, cancelled, version, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, NULL, \
             NULL, FALSE, 1, $10, $10) RETURNING {SESSION_COLUMNS}"
        )))
        .bind(b.id.to_string())
        .bind(session.case_id.to_string())
        .bind(session.child_id.to_string())
        .bind(b.room.to_string())
        .bind(b.therapist.to_string())
        .bind(b.date.to_string())
        .bind(clock_text(b.start))
        .bind(i64::from(b.minutes))
        .bind(session.regular)
        .bind(to_micros(now))
        .fetch_one(&mut **tx)
        .await
        .map_err(named)
    }

    async fn insert_frame_change(
        tx: &mut sqlx::Transaction<'static, DB>,
        change: &FrameChange,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO frame_changes (id, case_id, what, session_id, by_id, reason, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(change.id.to_string())
        .bind(change.case_id.to_string())
        .bind(change.what.clone())
        .bind(change.session.map(|s| s.to_string()))
        .bind(change.by.to_string())
        .bind(change.sealed_reason.as_bytes().to_vec())
        .bind(to_micros(change.at))
        .execute(&mut **tx)
        .await
        .map_err(named)?;
        Ok(())
    }
});

impl_for_both_engines!(BookingStore {
    async fn set_slot(
        &self,
        slot: &RegularSlot,
        expected: Option<Version>,
        sessions: &[NewSession],
        change: &FrameChange,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<Booked<RegularSlot>, StoreError> {
        let bookings: Vec<Booking> = sessions.iter().map(|s| s.booking).collect();
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        if !bookings.is_empty() {
            Self::lock_for_booking(&mut tx, &bookings).await?;
        }
        let s = &slot.slot;
        let row: SlotRow = match expected {
            None => sqlx::query_as(AssertSqlSafe(format!(
                "INSERT INTO regular_slots (case_id, calendar_id, room_id, therapist_id, weekday, \
                 start, minutes, from_date, until_date, version, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10, $10) RETURNING {SLOT_COLUMNS}"
            )))
            .bind(slot.case_id.to_string())
            .bind(slot.calendar_id.to_string())
            .bind(slot.room.to_string())
            .bind(slot.therapist.to_string())
            .bind(weekday_code(s.weekday).to_owned())
            .bind(clock_text(s.start))
            .bind(i64::from(s.minutes))
            .bind(s.from.to_string())
            .bind(s.until.map(|d| d.to_string()))
            .bind(to_micros(now))
            .fetch_one(&mut *tx)
            .await
            .map_err(named)?,
            Some(expected) => {
                let row: Option<SlotRow> = sqlx::query_as(AssertSqlSafe(format!(
                    "UPDATE regular_slots SET calendar_id = $1, room_id = $2, therapist_id = $3, \
                     weekday = $4, start = $5, minutes = $6, from_date = $7, until_date = $8, \
                     version = version + 1, updated_at = $9 WHERE case_id = $10 AND version = $11 \
                     RETURNING {SLOT_COLUMNS}"
                )))
                .bind(slot.calendar_id.to_string())
                .bind(slot.room.to_string())
                .bind(slot.therapist.to_string())
                .bind(weekday_code(s.weekday).to_owned())
                .bind(clock_text(s.start))
                .bind(i64::from(s.minutes))
                .bind(s.from.to_string())
                .bind(s.until.map(|d| d.to_string()))
                .bind(to_micros(now))
                .bind(slot.case_id.to_string())
                .bind(expected.get())
                .fetch_optional(&mut *tx)
                .await
                .map_err(named)?;
                match row {
                    Some(row) => row,
                    None => {
                        let current: Option<crate::rows::VersionRow> = sqlx::query_as(
                            "SELECT version FROM regular_slots WHERE case_id = $1",
                        )
                        .bind(slot.case_id.to_string())
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(map_error)?;
                        return Err(crate::stale_or_missing(current.map(|v| v.version)));
                    }
                }
            }
        };
        // The sessions the old slot planned from the new one's start, not yet held: they were
        // only planned, and the new series replaces them (so they are not clashes either). A
        // session someone has begun a record of, or raised a concern from, was held, whatever
        // its attendance says: kept.
        sqlx::query(
            "DELETE FROM therapy_sessions WHERE case_id = $1 AND regular = TRUE \
             AND attendance IS NULL AND date >= $2 \
             AND NOT EXISTS (SELECT 1 FROM session_records r WHERE r.session_id = therapy_sessions.id) \
             AND NOT EXISTS (SELECT 1 FROM concerns c WHERE c.session_id = therapy_sessions.id)",
        )
        .bind(slot.case_id.to_string())
        .bind(s.from.to_string())
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        let clashes = if bookings.is_empty() {
            Vec::new()
        } else {
            let existing = Self::bookings_around(&mut tx, &bookings).await?;
            clashes_of(&bookings, &existing)
        };
        if !clashes.is_empty() {
            tx.rollback().await.map_err(map_error)?;
            return Ok(Booked::Clashed(clashes));
        }
        for session in sessions {
            Self::insert_session(&mut tx, session, now).await?;
        }
        Self::insert_frame_change(&mut tx, change).await?;
        self.commit_audited(tx, audit).await?;
        Ok(Booked::Done(row.try_into()?))
    }

    async fn slot(&self, case: CaseId) -> Result<Option<RegularSlot>, StoreError> {
        let row: Option<SlotRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {SLOT_COLUMNS} FROM regular_slots WHERE case_id = $1"
        )))
        .bind(case.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?;
        row.map(RegularSlot::try_from).transpose()
    }

    async fn slots(&self) -> Result<Vec<RegularSlot>, StoreError> {
        let rows: Vec<SlotRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {SLOT_COLUMNS} FROM regular_slots ORDER BY case_id"
        )))
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(RegularSlot::try_from).collect()
    }

    async fn add_session(
        &self,
        session: &NewSession,
        change: &FrameChange,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<Booked<StoredSession>, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let clashes = Self::clashes_in(&mut tx, std::slice::from_ref(&session.booking)).await?;
        if !clashes.is_empty() {
            tx.rollback().await.map_err(map_error)?;
            return Ok(Booked::Clashed(clashes));
        }
        let row = Self::insert_session(&mut tx, session, now).await?;
        Self::insert_frame_change(&mut tx, change).await?;
        self.commit_audited(tx, audit).await?;
        Ok(Booked::Done(row.try_into()?))
    }

    async fn move_session(
        &self,
        id: BookingId,
        to: &Booking,
        expected: Version,
        change: &FrameChange,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<Booked<StoredSession>, StoreError> {
        // The session keeps its id, so it is never a clash with itself.
        let to = Booking { id, ..*to };
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        Self::lock_for_booking(&mut tx, std::slice::from_ref(&to)).await?;
        let row: Option<SessionRow> = sqlx::query_as(AssertSqlSafe(format!(
            "UPDATE therapy_sessions SET room_id = $1, therapist_id = $2, date = $3, start = $4, \
             minutes = $5, regular = FALSE, version = version + 1, updated_at = $6 \
             WHERE id = $7 AND version = $8 RETURNING {SESSION_COLUMNS}"
        )))
        .bind(to.room.to_string())
        .bind(to.therapist.to_string())
        .bind(to.date.to_string())
        .bind(clock_text(to.start))
        .bind(i64::from(to.minutes))
        .bind(to_micros(now))
        .bind(id.to_string())
        .bind(expected.get())
        .fetch_optional(&mut *tx)
        .await
        .map_err(named)?;
        let Some(row) = row else {
            return Err(Self::why_not_updated(&mut tx, "therapy_sessions", id.to_string()).await);
        };
        let existing = Self::bookings_around(&mut tx, std::slice::from_ref(&to)).await?;
        let clashes = find_clashes(&to, &existing);
        if !clashes.is_empty() {
            tx.rollback().await.map_err(map_error)?;
            return Ok(Booked::Clashed(clashes));
        }
        Self::insert_frame_change(&mut tx, change).await?;
        self.commit_audited(tx, audit).await?;
        Ok(Booked::Done(row.try_into()?))
    }

    async fn set_attendance(
        &self,
        id: BookingId,
        attendance: &Attendance,
        sealed_reason: Option<&Sealed>,
        expected: Version,
        change: Option<&FrameChange>,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredSession, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let row: Option<SessionRow> = sqlx::query_as(AssertSqlSafe(format!(
            "UPDATE therapy_sessions SET attendance = $1, late_minutes = $2, reason = $3, \
             cancelled = $4, version = version + 1, updated_at = $5 \
             WHERE id = $6 AND version = $7 RETURNING {SESSION_COLUMNS}"
        )))
        .bind(attendance.code().to_owned())
        .bind(attendance.late_minutes().map(i64::from))
        .bind(sealed_reason.map(|s| s.as_bytes().to_vec()))
        .bind(attendance.is_cancellation())
        .bind(to_micros(now))
        .bind(id.to_string())
        .bind(expected.get())
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_error)?;
        let Some(row) = row else {
            return Err(Self::why_not_updated(&mut tx, "therapy_sessions", id.to_string()).await);
        };
        if let Some(change) = change {
            Self::insert_frame_change(&mut tx, change).await?;
        }
        self.commit_audited(tx, audit).await?;
        row.try_into()
    }

    async fn booked_session(&self, id: BookingId) -> Result<Option<StoredSession>, StoreError> {
        let row: Option<SessionRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {SESSION_COLUMNS} FROM therapy_sessions WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?;
        row.map(StoredSession::try_from).transpose()
    }

    async fn sessions_of_case(&self, case: CaseId) -> Result<Vec<StoredSession>, StoreError> {
        let rows: Vec<SessionRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {SESSION_COLUMNS} FROM therapy_sessions WHERE case_id = $1 \
             ORDER BY date, start, id"
        )))
        .bind(case.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(StoredSession::try_from).collect()
    }

    async fn bookings_between(
        &self,
        from: Date,
        to: Date,
        rooms: &[RoomId],
        therapists: &[UserId],
    ) -> Result<Vec<Booking>, StoreError> {
        // The sessions that still hold their room and therapist, in the same order.
        Ok(self
            .sessions_between(from, to, rooms, therapists)
            .await?
            .into_iter()
            .filter(|s| !s.attendance.as_ref().is_some_and(Attendance::is_cancellation))
            .map(|s| s.booking)
            .collect())
    }

    async fn sessions_between(
        &self,
        from: Date,
        to: Date,
        rooms: &[RoomId],
        therapists: &[UserId],
    ) -> Result<Vec<StoredSession>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(map_error)?;
        let rooms: Vec<String> = rooms.iter().map(ToString::to_string).collect();
        let therapists: Vec<String> = therapists.iter().map(ToString::to_string).collect();
        let mut found: BTreeMap<String, SessionRow> = BTreeMap::new();
        for (column, ids) in [("room_id", rooms), ("therapist_id", therapists)] {
            for chunk in ids.chunks(IN_LIST) {
                let sql = format!(
                    "SELECT {SESSION_COLUMNS} FROM therapy_sessions \
                     WHERE date >= $1 AND date <= $2 AND {column} IN ({})",
                    placeholders(3, chunk.len())
                );
                let mut query = sqlx::query_as(AssertSqlSafe(sql))
                    .bind(from.to_string())
                    .bind(to.to_string());
                for id in chunk {
                    query = query.bind(id.clone());
                }
                let rows: Vec<SessionRow> =
                    query.fetch_all(&mut *conn).await.map_err(map_error)?;
                for row in rows {
                    found.insert(row.id.clone(), row);
                }
            }
        }
        let mut sessions = found
            .into_values()
            .map(StoredSession::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        sessions.sort_by_key(|s| (s.booking.date, s.booking.start, s.booking.room, s.booking.id));
        Ok(sessions)
    }

    async fn frame_changes(&self, case: CaseId) -> Result<Vec<FrameChange>, StoreError> {
        let rows: Vec<FrameChangeRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {CHANGE_COLUMNS} FROM frame_changes WHERE case_id = $1 \
             ORDER BY at DESC, id DESC"
        )))
        .bind(case.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(FrameChange::try_from).collect()
    }
});
