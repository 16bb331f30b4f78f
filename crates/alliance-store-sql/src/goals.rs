//! Storage of GoalStore (issue 17, helper C): the child's own goals, their wordings and their
//! ratings. Words and ratings are stored only sealed (the child's clinical key); this module
//! only moves their bytes. A case holds at most three open goals: each open goal holds one
//! of the case's slots 1 to 3 (unique per case), taken in the adding transaction and freed
//! when the goal is closed, so two writers at once cannot open a fourth.

use crate::{Engine, from_micros, map_error, to_micros};
use alliance_core::Version;
use alliance_core::children::ChildId;
use alliance_core::crypto::Sealed;
use alliance_core::goals::{GoalId, SetBy, Status};
use alliance_core::schedule::BookingId;
use alliance_service::store::{GoalStore, StoredGoal, StoredGoalRating, StoredGoalWording};
use alliance_service::{AuditBatch, StoreError};
use jiff::Timestamp;
use jiff::civil::Date;
use sqlx::AssertSqlSafe;

const GOAL_COLUMNS: &str = "id, child_id, case_id, slot, set_by, set_on, status, closed_on, \
                            version, created_by, created_at, updated_at";
const WORDING_COLUMNS: &str = "id, goal_id, number, content, written_by, created_at";
const RATING_COLUMNS: &str = "id, goal_id, session_id, rated_on, content, recorded_by, created_at";

fn uuid_of(what: &str, raw: &str) -> Result<uuid::Uuid, StoreError> {
    uuid::Uuid::parse_str(raw)
        .map_err(|_| StoreError::Other(format!("a stored {what} is not valid")))
}

fn date_of(what: &str, raw: &str) -> Result<Date, StoreError> {
    raw.parse::<Date>()
        .map_err(|_| StoreError::Other(format!("a stored {what} is not a date")))
}

#[derive(Debug, sqlx::FromRow)]
pub struct GoalRow {
    pub id: String,
    pub child_id: String,
    pub case_id: String,
    pub slot: Option<i64>,
    pub set_by: String,
    pub set_on: String,
    pub status: String,
    pub closed_on: Option<String>,
    pub version: i64,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl TryFrom<GoalRow> for StoredGoal {
    type Error = StoreError;

    fn try_from(row: GoalRow) -> Result<Self, StoreError> {
        Ok(StoredGoal {
            id: GoalId(uuid_of("goal id", &row.id)?),
            child: crate::rows::child_id(&row.child_id)?,
            case: crate::rows::case_id(&row.case_id)?,
            slot: row.slot,
            set_by: SetBy::parse(&row.set_by).map_err(StoreError::Other)?,
            set_on: date_of("goal's date", &row.set_on)?,
            status: Status::parse(&row.status).map_err(StoreError::Other)?,
            closed_on: row
                .closed_on
                .as_deref()
                .map(|d| date_of("goal's closing date", d))
                .transpose()?,
            version: Version::new(row.version).map_err(StoreError::Other)?,
            created_by: crate::rows::user_id(&row.created_by)?,
            created_at: from_micros(row.created_at)?,
            updated_at: from_micros(row.updated_at)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct GoalWordingRow {
    pub id: String,
    pub goal_id: String,
    pub number: i64,
    pub content: Vec<u8>,
    pub written_by: String,
    pub created_at: i64,
}

impl TryFrom<GoalWordingRow> for StoredGoalWording {
    type Error = StoreError;

    fn try_from(row: GoalWordingRow) -> Result<Self, StoreError> {
        Ok(StoredGoalWording {
            id: uuid_of("goal wording id", &row.id)?,
            goal: GoalId(uuid_of("goal id", &row.goal_id)?),
            number: row.number,
            sealed: Sealed::from_stored(row.content),
            written_by: crate::rows::user_id(&row.written_by)?,
            created_at: from_micros(row.created_at)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct GoalRatingRow {
    pub id: String,
    pub goal_id: String,
    pub session_id: Option<String>,
    pub rated_on: String,
    pub content: Vec<u8>,
    pub recorded_by: String,
    pub created_at: i64,
}

impl TryFrom<GoalRatingRow> for StoredGoalRating {
    type Error = StoreError;

    fn try_from(row: GoalRatingRow) -> Result<Self, StoreError> {
        Ok(StoredGoalRating {
            id: uuid_of("goal rating id", &row.id)?,
            goal: GoalId(uuid_of("goal id", &row.goal_id)?),
            session: row
                .session_id
                .as_deref()
                .map(|s| uuid_of("session id", s).map(BookingId))
                .transpose()?,
            rated_on: date_of("rating's date", &row.rated_on)?,
            sealed: Sealed::from_stored(row.content),
            recorded_by: crate::rows::user_id(&row.recorded_by)?,
            created_at: from_micros(row.created_at)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct GoalSlotRow {
    pub slot: Option<i64>,
}

#[derive(Debug, sqlx::FromRow)]
pub struct GoalStateRow {
    pub status: String,
    pub version: i64,
}

fn stale(current: Option<i64>) -> StoreError {
    match current.and_then(|v| Version::new(v).ok()) {
        Some(current) => StoreError::Stale { current },
        None => StoreError::NotFound,
    }
}

impl_for_both_engines!(GoalStore {
    async fn goals_of_child(&self, child: ChildId) -> Result<Vec<StoredGoal>, StoreError> {
        let rows: Vec<GoalRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {GOAL_COLUMNS} FROM goals WHERE child_id = $1 ORDER BY created_at, id"
        )))
        .bind(child.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(StoredGoal::try_from).collect()
    }

    async fn goal_wordings_of_child(
        &self,
        child: ChildId,
    ) -> Result<Vec<StoredGoalWording>, StoreError> {
        let rows: Vec<GoalWordingRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {WORDING_COLUMNS} FROM goal_wordings WHERE goal_id IN \
             (SELECT id FROM goals WHERE child_id = $1) ORDER BY goal_id, number"
        )))
        .bind(child.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(StoredGoalWording::try_from).collect()
    }

    async fn goal_ratings_of_child(
        &self,
        child: ChildId,
    ) -> Result<Vec<StoredGoalRating>, StoreError> {
        let rows: Vec<GoalRatingRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {RATING_COLUMNS} FROM goal_ratings WHERE goal_id IN \
             (SELECT id FROM goals WHERE child_id = $1) ORDER BY rated_on, created_at, id"
        )))
        .bind(child.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(StoredGoalRating::try_from).collect()
    }

    async fn add_goal(
        &self,
        goal: &StoredGoal,
        words: &StoredGoalWording,
        audit: &AuditBatch<'_>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let held: Vec<GoalSlotRow> = sqlx::query_as(
            "SELECT slot FROM goals WHERE case_id = $1 AND slot IS NOT NULL",
        )
        .bind(goal.case.to_string())
        .fetch_all(&mut *tx)
        .await
        .map_err(map_error)?;
        let max = alliance_core::goals::MAX_OPEN as i64;
        let Some(slot) = (1..=max).find(|s| !held.iter().any(|h| h.slot == Some(*s))) else {
            // Dropping the transaction rolls it back: nothing written, nothing audited.
            return Ok(false);
        };
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO goals ({GOAL_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, 'open', NULL, 1, $7, $8, $8)"
        )))
        .bind(goal.id.to_string())
        .bind(goal.child.to_string())
        .bind(goal.case.to_string())
        .bind(slot)
        .bind(goal.set_by.code().to_owned())
        .bind(goal.set_on.to_string())
        .bind(goal.created_by.to_string())
        .bind(to_micros(goal.created_at))
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO goal_wordings ({WORDING_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"
        )))
        .bind(words.id.to_string())
        .bind(words.goal.to_string())
        .bind(1_i64)
        .bind(words.sealed.as_bytes().to_vec())
        .bind(words.written_by.to_string())
        .bind(to_micros(words.created_at))
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        self.commit_audited(tx, audit).await?;
        Ok(true)
    }

    async fn reword_goal(
        &self,
        words: &StoredGoalWording,
        expected: Version,
        audit: &AuditBatch<'_>,
    ) -> Result<Version, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let done = sqlx::query(
            "UPDATE goals SET version = version + 1, updated_at = $1 \
             WHERE id = $2 AND version = $3 AND status = 'open'",
        )
        .bind(to_micros(words.created_at))
        .bind(words.goal.to_string())
        .bind(expected.get())
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        if <DB as Engine>::rows_affected(&done) != 1 {
            let current: Option<GoalStateRow> =
                sqlx::query_as("SELECT status, version FROM goals WHERE id = $1")
                    .bind(words.goal.to_string())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(map_error)?;
            return Err(stale(current.map(|c| c.version)));
        }
        let newest: crate::emergency::NumberRow = sqlx::query_as(
            "SELECT MAX(number) AS number FROM goal_wordings WHERE goal_id = $1",
        )
        .bind(words.goal.to_string())
        .fetch_one(&mut *tx)
        .await
        .map_err(map_error)?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO goal_wordings ({WORDING_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"
        )))
        .bind(words.id.to_string())
        .bind(words.goal.to_string())
        .bind(newest.number.unwrap_or(0) + 1)
        .bind(words.sealed.as_bytes().to_vec())
        .bind(words.written_by.to_string())
        .bind(to_micros(words.created_at))
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        self.commit_audited(tx, audit).await?;
        Version::new(expected.get() + 1).map_err(StoreError::Other)
    }

    async fn rate_goals(
        &self,
        ratings: &[StoredGoalRating],
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        for rating in ratings {
            let done = sqlx::query(AssertSqlSafe(format!(
                "INSERT INTO goal_ratings ({RATING_COLUMNS}) \
                 SELECT $1, $2, $3, $4, $5, $6, $7 WHERE EXISTS \
                 (SELECT 1 FROM goals WHERE id = $8 AND status = 'open')"
            )))
            .bind(rating.id.to_string())
            .bind(rating.goal.to_string())
            .bind(rating.session.map(|s| s.0.to_string()))
            .bind(rating.rated_on.to_string())
            .bind(rating.sealed.as_bytes().to_vec())
            .bind(rating.recorded_by.to_string())
            .bind(to_micros(rating.created_at))
            .bind(rating.goal.to_string())
            .execute(&mut *tx)
            .await
            .map_err(map_error)?;
            if <DB as Engine>::rows_affected(&done) != 1 {
                return Err(StoreError::Conflict("goal closed".to_owned()));
            }
        }
        self.commit_audited(tx, audit).await
    }

    async fn close_goal(
        &self,
        goal: GoalId,
        status: Status,
        closed_on: Date,
        expected: Version,
        at: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<Version, StoreError> {
        if status == Status::Open {
            return Err(StoreError::Other("a goal is closed as reached or put aside".into()));
        }
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let done = sqlx::query(
            "UPDATE goals SET status = $1, closed_on = $2, slot = NULL, \
             version = version + 1, updated_at = $3 \
             WHERE id = $4 AND version = $5 AND status = 'open'",
        )
        .bind(status.code().to_owned())
        .bind(closed_on.to_string())
        .bind(to_micros(at))
        .bind(goal.to_string())
        .bind(expected.get())
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        if <DB as Engine>::rows_affected(&done) != 1 {
            let current: Option<GoalStateRow> =
                sqlx::query_as("SELECT status, version FROM goals WHERE id = $1")
                    .bind(goal.to_string())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(map_error)?;
            return Err(stale(current.map(|c| c.version)));
        }
        self.commit_audited(tx, audit).await?;
        Version::new(expected.get() + 1).map_err(StoreError::Other)
    }
});
