//! Disruptions to sessions, incidents and their addenda (issue 16). A disruption is written
//! once and withdrawn at most once, by its author, in a conditional update (a refused or
//! repeated one writes nothing). Incidents and addenda are written once and never changed;
//! their content is sealed, and this module only moves its bytes.

use crate::{Engine, from_micros, map_error, to_micros};
use alliance_core::children::ChildId;
use alliance_core::crypto::Sealed;
use alliance_core::directory::{RoomId, SiteId};
use alliance_core::disruptions::{DisruptionId, Kind};
use alliance_core::identity::UserId;
use alliance_core::incidents::{AddendumId, IncidentId};
use alliance_core::safeguarding::ConcernId;
use alliance_core::schedule::BookingId;
use alliance_service::store::{
    DisruptionStore, StoredDisruption, StoredIncident, StoredIncidentAddendum,
};
use alliance_service::{AuditBatch, StoreError};
use jiff::Timestamp;
use jiff::civil::Date;
use sqlx::AssertSqlSafe;

const DISRUPTION_COLUMNS: &str = "id, session_id, room_id, site_id, date, kind, minutes, note, \
     logged_by, logged_at, withdrawn_by, withdrawn_at";
const INCIDENT_COLUMNS: &str =
    "id, child_id, case_id, session_id, concern_id, content, recorded_by, recorded_at";
const ADDENDUM_COLUMNS: &str = "id, incident_id, content, written_by, written_at";

fn corrupt(what: &str) -> StoreError {
    StoreError::Other(format!("a stored {what} is not valid"))
}

fn uuid_of(what: &str, raw: &str) -> Result<uuid::Uuid, StoreError> {
    uuid::Uuid::parse_str(raw).map_err(|_| corrupt(what))
}

#[derive(Debug, sqlx::FromRow)]
pub struct DisruptionRow {
    pub id: String,
    pub session_id: String,
    pub room_id: String,
    pub site_id: String,
    pub date: String,
    pub kind: String,
    pub minutes: i64,
    pub note: Option<String>,
    pub logged_by: String,
    pub logged_at: i64,
    pub withdrawn_by: Option<String>,
    pub withdrawn_at: Option<i64>,
}

impl TryFrom<DisruptionRow> for StoredDisruption {
    type Error = StoreError;

    fn try_from(row: DisruptionRow) -> Result<Self, StoreError> {
        Ok(StoredDisruption {
            id: DisruptionId(uuid_of("disruption id", &row.id)?),
            session: BookingId(uuid_of("session id", &row.session_id)?),
            room: RoomId(uuid_of("room id", &row.room_id)?),
            site: SiteId(uuid_of("site id", &row.site_id)?),
            date: row
                .date
                .parse::<Date>()
                .map_err(|_| corrupt("disruption date"))?,
            kind: Kind::parse(&row.kind).map_err(|_| corrupt("disruption kind"))?,
            minutes: u16::try_from(row.minutes).map_err(|_| corrupt("disruption minutes"))?,
            note: row.note,
            logged_by: crate::rows::user_id(&row.logged_by)?,
            logged_at: from_micros(row.logged_at)?,
            withdrawn_by: row
                .withdrawn_by
                .as_deref()
                .map(crate::rows::user_id)
                .transpose()?,
            withdrawn_at: crate::rows::optional_micros(row.withdrawn_at)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct IncidentRow {
    pub id: String,
    pub child_id: String,
    pub case_id: String,
    pub session_id: Option<String>,
    pub concern_id: Option<String>,
    pub content: Vec<u8>,
    pub recorded_by: String,
    pub recorded_at: i64,
}

impl TryFrom<IncidentRow> for StoredIncident {
    type Error = StoreError;

    fn try_from(row: IncidentRow) -> Result<Self, StoreError> {
        Ok(StoredIncident {
            id: IncidentId(uuid_of("incident id", &row.id)?),
            child: crate::rows::child_id(&row.child_id)?,
            case: crate::rows::case_id(&row.case_id)?,
            session: row
                .session_id
                .as_deref()
                .map(|s| uuid_of("session id", s).map(BookingId))
                .transpose()?,
            concern: row
                .concern_id
                .as_deref()
                .map(|s| uuid_of("concern id", s).map(ConcernId))
                .transpose()?,
            content: Sealed::from_stored(row.content),
            recorded_by: crate::rows::user_id(&row.recorded_by)?,
            recorded_at: from_micros(row.recorded_at)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct IncidentAddendumRow {
    pub id: String,
    pub incident_id: String,
    pub content: Vec<u8>,
    pub written_by: String,
    pub written_at: i64,
}

impl TryFrom<IncidentAddendumRow> for StoredIncidentAddendum {
    type Error = StoreError;

    fn try_from(row: IncidentAddendumRow) -> Result<Self, StoreError> {
        Ok(StoredIncidentAddendum {
            id: AddendumId(uuid_of("addendum id", &row.id)?),
            incident: IncidentId(uuid_of("incident id", &row.incident_id)?),
            content: Sealed::from_stored(row.content),
            written_by: crate::rows::user_id(&row.written_by)?,
            written_at: from_micros(row.written_at)?,
        })
    }
}

impl_for_both_engines!(DisruptionStore {
    async fn log_disruption(
        &self,
        d: &StoredDisruption,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO session_disruptions ({DISRUPTION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, \
             $6, $7, $8, $9, $10, NULL, NULL)"
        )))
        .bind(d.id.to_string())
        .bind(d.session.to_string())
        .bind(d.room.to_string())
        .bind(d.site.to_string())
        .bind(d.date.to_string())
        .bind(d.kind.code().to_owned())
        .bind(i64::from(d.minutes))
        .bind(d.note.clone())
        .bind(d.logged_by.to_string())
        .bind(to_micros(d.logged_at))
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        self.commit_audited(tx, audit).await
    }

    async fn disruption(&self, id: DisruptionId) -> Result<Option<StoredDisruption>, StoreError> {
        let row: Option<DisruptionRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {DISRUPTION_COLUMNS} FROM session_disruptions WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?;
        row.map(StoredDisruption::try_from).transpose()
    }

    async fn disruptions_of_session(
        &self,
        session: BookingId,
    ) -> Result<Vec<StoredDisruption>, StoreError> {
        let rows: Vec<DisruptionRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {DISRUPTION_COLUMNS} FROM session_disruptions WHERE session_id = $1 \
             ORDER BY logged_at, id"
        )))
        .bind(session.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(StoredDisruption::try_from).collect()
    }

    async fn withdraw_disruption(
        &self,
        id: DisruptionId,
        by: UserId,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredDisruption, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let row: Option<DisruptionRow> = sqlx::query_as(AssertSqlSafe(format!(
            "UPDATE session_disruptions SET withdrawn_by = $1, withdrawn_at = $2 \
             WHERE id = $3 AND logged_by = $1 AND withdrawn_at IS NULL \
             RETURNING {DISRUPTION_COLUMNS}"
        )))
        .bind(by.to_string())
        .bind(to_micros(now))
        .bind(id.to_string())
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_error)?;
        let Some(row) = row else {
            let found: Option<crate::rows::IdRow> =
                sqlx::query_as("SELECT id FROM session_disruptions WHERE id = $1")
                    .bind(id.to_string())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(map_error)?;
            return Err(match found {
                Some(_) => StoreError::Conflict("disruption_not_withdrawable".to_owned()),
                None => StoreError::NotFound,
            });
        };
        let stored = StoredDisruption::try_from(row)?;
        self.commit_audited(tx, audit).await?;
        Ok(stored)
    }

    async fn disruptions_between(
        &self,
        from: Date,
        until: Date,
        site: Option<SiteId>,
    ) -> Result<Vec<StoredDisruption>, StoreError> {
        let site_clause = if site.is_some() { " AND site_id = $3" } else { "" };
        let sql = format!(
            "SELECT {DISRUPTION_COLUMNS} FROM session_disruptions WHERE date >= $1 \
             AND date <= $2 AND withdrawn_at IS NULL{site_clause} ORDER BY date, logged_at, id"
        );
        let mut query = sqlx::query_as(AssertSqlSafe(sql))
            .bind(from.to_string())
            .bind(until.to_string());
        if let Some(site) = site {
            query = query.bind(site.to_string());
        }
        let rows: Vec<DisruptionRow> = query.fetch_all(&self.pool).await.map_err(map_error)?;
        rows.into_iter().map(StoredDisruption::try_from).collect()
    }

    async fn create_incident(
        &self,
        i: &StoredIncident,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO incidents ({INCIDENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        )))
        .bind(i.id.to_string())
        .bind(i.child.to_string())
        .bind(i.case.to_string())
        .bind(i.session.map(|s| s.to_string()))
        .bind(i.concern.map(|c| c.to_string()))
        .bind(i.content.as_bytes().to_vec())
        .bind(i.recorded_by.to_string())
        .bind(to_micros(i.recorded_at))
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        self.commit_audited(tx, audit).await
    }

    async fn incident(&self, id: IncidentId) -> Result<Option<StoredIncident>, StoreError> {
        let row: Option<IncidentRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?;
        row.map(StoredIncident::try_from).transpose()
    }

    async fn incidents_of_child(&self, child: ChildId) -> Result<Vec<StoredIncident>, StoreError> {
        let rows: Vec<IncidentRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE child_id = $1 \
             ORDER BY recorded_at DESC, id DESC"
        )))
        .bind(child.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(StoredIncident::try_from).collect()
    }

    async fn add_incident_addendum(
        &self,
        a: &StoredIncidentAddendum,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO incident_addenda ({ADDENDUM_COLUMNS}) VALUES ($1, $2, $3, $4, $5)"
        )))
        .bind(a.id.to_string())
        .bind(a.incident.to_string())
        .bind(a.content.as_bytes().to_vec())
        .bind(a.written_by.to_string())
        .bind(to_micros(a.written_at))
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        self.commit_audited(tx, audit).await
    }

    async fn incident_addenda(
        &self,
        incident: IncidentId,
    ) -> Result<Vec<StoredIncidentAddendum>, StoreError> {
        let rows: Vec<IncidentAddendumRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {ADDENDUM_COLUMNS} FROM incident_addenda WHERE incident_id = $1 \
             ORDER BY written_at, id"
        )))
        .bind(incident.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(StoredIncidentAddendum::try_from).collect()
    }
});
