//! Children, their carers, cases and case teams, and the supervision links the access policy
//! reads. Statements are built only from constants (the column lists in `rows`) and
//! placeholders; every value is a bound parameter.
//!
//! Lists are read in a bounded number of queries, whatever their length: the children, then
//! the cases of those children, then the teams of those cases, each `IN (…)` list at most
//! [`IN_LIST`] long.

use crate::rows::{
    CARER_COLUMNS, CASE_COLUMNS, CHILD_COLUMNS, CarerRow, CaseRow, ChildRow, IdRow, MEMBER_COLUMNS,
    MEMBER_ORDER, MemberRow, Number, SupervisionRow,
};
use crate::{Engine, map_error, map_error_named, placeholders, to_micros};
use alliance_core::Version;
use alliance_core::cases::{CaseDetails, CaseId, Closure, Membership};
use alliance_core::children::{CarerId, ChildId};
use alliance_core::crypto::Sealed;
use alliance_core::identity::UserId;
use alliance_service::{
    AuditBatch, ChildListing, ChildLookups, ChildSelection, ChildStore, NewCase, ReasonUpdate,
    StoreError, StoredCarer, StoredCase, StoredChild, TeamChange,
};
use jiff::Timestamp;
use sqlx::AssertSqlSafe;
use std::collections::{BTreeMap, HashMap};

/// The most values in one `IN (…)` list.
const IN_LIST: usize = 500;

/// The unique constraints of this area, as SQLite reports them (by columns) and by name.
const UNIQUE: &[(&str, &str)] = &[
    ("children.id", "children_pkey"),
    ("children.nhs_lookup", "children_nhs_lookup_key"),
    ("children.upn_lookup", "children_upn_lookup_key"),
    ("carers.id", "carers_pkey"),
    ("cases.id", "cases_pkey"),
    ("cases.number", "cases_number_key"),
    // The partial unique index: one open case per child.
    ("cases.child_id", "cases_one_open"),
    ("case_members.id", "case_members_pkey"),
];

fn named(err: sqlx::Error) -> StoreError {
    map_error_named(err, UNIQUE)
}

/// Cases as stored, each with its team from `teams` (which it empties of them).
fn with_teams(
    rows: Vec<CaseRow>,
    teams: &mut HashMap<String, Vec<Membership>>,
) -> Result<Vec<StoredCase>, StoreError> {
    rows.into_iter()
        .map(|row| {
            let team = teams.remove(&row.id).unwrap_or_default();
            row.into_stored(team)
        })
        .collect()
}

impl_for_both_engines!(helpers {
    /// The teams of the cases `case_ids` (of every case, when `None`), by case id, each in
    /// [`MEMBER_ORDER`].
    async fn teams_of(
        conn: &mut <DB as sqlx::Database>::Connection,
        case_ids: Option<&[String]>,
    ) -> Result<HashMap<String, Vec<Membership>>, StoreError> {
        let mut rows: Vec<MemberRow> = Vec::new();
        match case_ids {
            None => {
                rows = sqlx::query_as(AssertSqlSafe(format!(
                    "SELECT {MEMBER_COLUMNS} FROM case_members ORDER BY case_id, {MEMBER_ORDER}"
                )))
                .fetch_all(&mut *conn)
                .await
                .map_err(map_error)?;
            }
            Some(ids) => {
                for chunk in ids.chunks(IN_LIST) {
                    let sql = format!(
                        "SELECT {MEMBER_COLUMNS} FROM case_members WHERE case_id IN ({}) \
                         ORDER BY case_id, {MEMBER_ORDER}",
                        placeholders(1, chunk.len())
                    );
                    let mut query = sqlx::query_as(AssertSqlSafe(sql));
                    for id in chunk {
                        query = query.bind(id.clone());
                    }
                    let found: Vec<MemberRow> =
                        query.fetch_all(&mut *conn).await.map_err(map_error)?;
                    rows.extend(found);
                }
            }
        }
        let mut teams: HashMap<String, Vec<Membership>> = HashMap::new();
        for row in rows {
            let case = row.case_id.clone();
            teams.entry(case).or_default().push(Membership::try_from(row)?);
        }
        Ok(teams)
    }

    /// The cases of the children `child_ids` (of every child, when `None`), each child's
    /// newest first.
    async fn cases_of_children(
        conn: &mut <DB as sqlx::Database>::Connection,
        child_ids: Option<&[String]>,
    ) -> Result<Vec<StoredCase>, StoreError> {
        let mut rows: Vec<CaseRow> = Vec::new();
        match child_ids {
            None => {
                rows = sqlx::query_as(AssertSqlSafe(format!(
                    "SELECT {CASE_COLUMNS} FROM cases ORDER BY child_id, number DESC"
                )))
                .fetch_all(&mut *conn)
                .await
                .map_err(map_error)?;
            }
            Some(ids) => {
                for chunk in ids.chunks(IN_LIST) {
                    let sql = format!(
                        "SELECT {CASE_COLUMNS} FROM cases WHERE child_id IN ({}) \
                         ORDER BY child_id, number DESC",
                        placeholders(1, chunk.len())
                    );
                    let mut query = sqlx::query_as(AssertSqlSafe(sql));
                    for id in chunk {
                        query = query.bind(id.clone());
                    }
                    let found: Vec<CaseRow> =
                        query.fetch_all(&mut *conn).await.map_err(map_error)?;
                    rows.extend(found);
                }
            }
        }
        let mut teams = if child_ids.is_none() {
            Self::teams_of(conn, None).await?
        } else {
            let case_ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
            Self::teams_of(conn, Some(&case_ids)).await?
        };
        with_teams(rows, &mut teams)
    }

    /// One case with its team, on `conn` (inside a transaction, or not).
    async fn case_on(
        conn: &mut <DB as sqlx::Database>::Connection,
        id: String,
    ) -> Result<Option<StoredCase>, StoreError> {
        let row: Option<CaseRow> =
            sqlx::query_as(AssertSqlSafe(format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = $1")))
                .bind(id)
                .fetch_optional(&mut *conn)
                .await
                .map_err(map_error)?;
        match row {
            Some(row) => Self::with_team_on(conn, row).await.map(Some),
            None => Ok(None),
        }
    }

    /// A case's row as an update returned it, with its team read in the same transaction.
    async fn with_team_on(
        conn: &mut <DB as sqlx::Database>::Connection,
        row: CaseRow,
    ) -> Result<StoredCase, StoreError> {
        let mut teams = Self::teams_of(conn, Some(std::slice::from_ref(&row.id))).await?;
        let team = teams.remove(&row.id).unwrap_or_default();
        row.into_stored(team)
    }

    async fn insert_member(
        conn: &mut <DB as sqlx::Database>::Connection,
        case: CaseId,
        member: &Membership,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO case_members (id, case_id, user_id, role, starts_on, ends_on, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(member.id.to_string())
        .bind(case.to_string())
        .bind(member.user_id.to_string())
        .bind(member.role.code().to_owned())
        .bind(member.starts_on.to_string())
        .bind(member.ends_on.map(|d| d.to_string()))
        .bind(to_micros(now))
        .execute(&mut *conn)
        .await
        .map_err(named)?;
        Ok(())
    }

    /// Ends the membership `id` of case `case` on `ends_on`; not found when the case has no
    /// such membership.
    async fn end_member(
        conn: &mut <DB as sqlx::Database>::Connection,
        case: CaseId,
        id: String,
        ends_on: jiff::civil::Date,
    ) -> Result<(), StoreError> {
        let ended = sqlx::query("UPDATE case_members SET ends_on = $1 WHERE id = $2 AND case_id = $3")
            .bind(ends_on.to_string())
            .bind(id)
            .bind(case.to_string())
            .execute(&mut *conn)
            .await
            .map_err(map_error)?;
        if <DB as Engine>::rows_affected(&ended) == 1 {
            Ok(())
        } else {
            Err(StoreError::NotFound)
        }
    }

    /// The children `children` as listings, each with its cases (newest first); the cases of
    /// every child are read at once when `every_child`.
    async fn listings(
        conn: &mut <DB as sqlx::Database>::Connection,
        children: Vec<ChildRow>,
        every_child: bool,
    ) -> Result<Vec<ChildListing>, StoreError> {
        let cases = if every_child {
            Self::cases_of_children(conn, None).await?
        } else {
            let ids: Vec<String> = children.iter().map(|c| c.id.clone()).collect();
            Self::cases_of_children(conn, Some(&ids)).await?
        };
        let mut by_child: HashMap<ChildId, Vec<alliance_core::cases::Case>> = HashMap::new();
        for stored in cases {
            by_child.entry(stored.case.child_id).or_default().push(stored.case);
        }
        children
            .into_iter()
            .map(|row| {
                let child = StoredChild::try_from(row)?;
                let cases = by_child.remove(&child.id).unwrap_or_default();
                Ok(ChildListing { child, cases })
            })
            .collect()
    }
});

impl_for_both_engines!(ChildStore {
    async fn create_child(
        &self,
        child: &StoredChild,
        lookups: &ChildLookups,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredChild, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let row: ChildRow = sqlx::query_as(AssertSqlSafe(format!(
            "INSERT INTO children (id, details, nhs_lookup, upn_lookup, version, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, 1, $5, $6) RETURNING {CHILD_COLUMNS}"
        )))
        .bind(child.id.to_string())
        .bind(child.sealed_details.as_bytes().to_vec())
        .bind(lookups.nhs_number.clone())
        .bind(lookups.upn.clone())
        .bind(to_micros(child.created_at))
        .bind(to_micros(child.updated_at))
        .fetch_one(&mut *tx)
        .await
        .map_err(named)?;
        self.commit_audited(tx, audit).await?;
        row.try_into()
    }

    async fn update_child(
        &self,
        id: ChildId,
        sealed_details: &Sealed,
        lookups: &ChildLookups,
        expected: Version,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredChild, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let row: Option<ChildRow> = sqlx::query_as(AssertSqlSafe(format!(
            "UPDATE children SET details = $1, nhs_lookup = $2, upn_lookup = $3, \
             version = version + 1, updated_at = $4 WHERE id = $5 AND version = $6 \
             RETURNING {CHILD_COLUMNS}"
        )))
        .bind(sealed_details.as_bytes().to_vec())
        .bind(lookups.nhs_number.clone())
        .bind(lookups.upn.clone())
        .bind(to_micros(now))
        .bind(id.to_string())
        .bind(expected.get())
        .fetch_optional(&mut *tx)
        .await
        .map_err(named)?;
        let Some(row) = row else {
            return Err(Self::why_not_updated(&mut tx, "children", id.to_string()).await);
        };
        self.commit_audited(tx, audit).await?;
        row.try_into()
    }

    async fn child(&self, id: ChildId) -> Result<Option<StoredChild>, StoreError> {
        let row: Option<ChildRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {CHILD_COLUMNS} FROM children WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?;
        row.map(StoredChild::try_from).transpose()
    }

    async fn child_by_lookup(&self, lookup: &str) -> Result<Option<ChildId>, StoreError> {
        let row: Option<IdRow> = sqlx::query_as(
            "SELECT id FROM children WHERE nhs_lookup = $1 OR upn_lookup = $1 ORDER BY id LIMIT 1",
        )
        .bind(lookup.to_owned())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?;
        row.map(|r| crate::rows::child_id(&r.id)).transpose()
    }

    async fn children(&self, selection: &ChildSelection) -> Result<Vec<ChildListing>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(map_error)?;
        match selection {
            ChildSelection::All => {
                let rows: Vec<ChildRow> = sqlx::query_as(AssertSqlSafe(format!(
                    "SELECT {CHILD_COLUMNS} FROM children ORDER BY id"
                )))
                .fetch_all(&mut *conn)
                .await
                .map_err(map_error)?;
                Self::listings(&mut conn, rows, true).await
            }
            ChildSelection::TeamsOf { members, today } => {
                // Children whose newest case (the highest number) has one of `members` on its
                // team today. Dates are 'YYYY-MM-DD', so they compare as text.
                let mut found: BTreeMap<String, ChildRow> = BTreeMap::new();
                for chunk in members.chunks(IN_LIST) {
                    let sql = format!(
                        "SELECT {CHILD_COLUMNS} FROM children c WHERE EXISTS (\
                           SELECT 1 FROM cases k JOIN case_members m ON m.case_id = k.id \
                           WHERE k.child_id = c.id \
                           AND k.number = (SELECT MAX(k2.number) FROM cases k2 WHERE k2.child_id = c.id) \
                           AND m.starts_on <= $1 AND (m.ends_on IS NULL OR m.ends_on > $1) \
                           AND m.user_id IN ({}))",
                        placeholders(2, chunk.len())
                    );
                    let mut query = sqlx::query_as(AssertSqlSafe(sql)).bind(today.to_string());
                    for member in chunk {
                        query = query.bind(member.to_string());
                    }
                    let rows: Vec<ChildRow> =
                        query.fetch_all(&mut *conn).await.map_err(map_error)?;
                    for row in rows {
                        found.insert(row.id.clone(), row);
                    }
                }
                if found.is_empty() {
                    return Ok(Vec::new());
                }
                Self::listings(&mut conn, found.into_values().collect(), false).await
            }
        }
    }

    async fn supervision_links(&self, supervisor: UserId) -> Result<Vec<(UserId, bool)>, StoreError> {
        let rows: Vec<SupervisionRow> = sqlx::query_as(
            "SELECT supervisee_id, named_access FROM supervision WHERE supervisor_id = $1 \
             ORDER BY supervisee_id",
        )
        .bind(supervisor.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter()
            .map(|r| Ok((crate::rows::user_id(&r.supervisee_id)?, r.named_access)))
            .collect()
    }

    async fn create_carer(
        &self,
        carer: &StoredCarer,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredCarer, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let children: Number = sqlx::query_as("SELECT COUNT(*) AS n FROM children WHERE id = $1")
            .bind(carer.child_id.to_string())
            .fetch_one(&mut *tx)
            .await
            .map_err(map_error)?;
        if children.n == 0 {
            return Err(StoreError::NotFound);
        }
        let row: CarerRow = sqlx::query_as(AssertSqlSafe(format!(
            "INSERT INTO carers (id, child_id, details, active, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 1, $5, $6) RETURNING {CARER_COLUMNS}"
        )))
        .bind(carer.id.to_string())
        .bind(carer.child_id.to_string())
        .bind(carer.sealed_details.as_bytes().to_vec())
        .bind(carer.active)
        .bind(to_micros(carer.created_at))
        .bind(to_micros(carer.updated_at))
        .fetch_one(&mut *tx)
        .await
        .map_err(named)?;
        self.commit_audited(tx, audit).await?;
        row.try_into()
    }

    async fn update_carer(
        &self,
        id: CarerId,
        sealed_details: &Sealed,
        active: bool,
        expected: Version,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredCarer, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let row: Option<CarerRow> = sqlx::query_as(AssertSqlSafe(format!(
            "UPDATE carers SET details = $1, active = $2, version = version + 1, updated_at = $3 \
             WHERE id = $4 AND version = $5 RETURNING {CARER_COLUMNS}"
        )))
        .bind(sealed_details.as_bytes().to_vec())
        .bind(active)
        .bind(to_micros(now))
        .bind(id.to_string())
        .bind(expected.get())
        .fetch_optional(&mut *tx)
        .await
        .map_err(named)?;
        let Some(row) = row else {
            return Err(Self::why_not_updated(&mut tx, "carers", id.to_string()).await);
        };
        self.commit_audited(tx, audit).await?;
        row.try_into()
    }

    async fn carer(&self, id: CarerId) -> Result<Option<StoredCarer>, StoreError> {
        let row: Option<CarerRow> =
            sqlx::query_as(AssertSqlSafe(format!("SELECT {CARER_COLUMNS} FROM carers WHERE id = $1")))
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await
                .map_err(map_error)?;
        row.map(StoredCarer::try_from).transpose()
    }

    async fn carers(&self, child: ChildId) -> Result<Vec<StoredCarer>, StoreError> {
        let rows: Vec<CarerRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {CARER_COLUMNS} FROM carers WHERE child_id = $1 \
             ORDER BY active DESC, created_at, id"
        )))
        .bind(child.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(StoredCarer::try_from).collect()
    }

    async fn open_case(
        &self,
        case: &NewCase,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredCase, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        // Taking the number locks the service row until the commit, so on PostgreSQL two
        // processes opening cases take turns (SQLite's write transaction already does): the
        // open-case check below then sees whatever the other committed.
        let number: Option<Number> = sqlx::query_as(
            "UPDATE service SET next_case_number = next_case_number + 1 WHERE id = 1 \
             RETURNING next_case_number - 1 AS n",
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_error)?;
        let Some(number) = number else {
            return Err(StoreError::Other(
                "the service is not set up, so no case number can be given".to_owned(),
            ));
        };
        let child = case.child_id.to_string();
        let children: Number = sqlx::query_as("SELECT COUNT(*) AS n FROM children WHERE id = $1")
            .bind(child.clone())
            .fetch_one(&mut *tx)
            .await
            .map_err(map_error)?;
        if children.n == 0 {
            return Err(StoreError::NotFound);
        }
        let open: Number = sqlx::query_as(
            "SELECT COUNT(*) AS n FROM cases WHERE child_id = $1 AND closed_on IS NULL",
        )
        .bind(child.clone())
        .fetch_one(&mut *tx)
        .await
        .map_err(map_error)?;
        if open.n > 0 {
            return Err(StoreError::Conflict("cases_one_open".to_owned()));
        }
        let row: CaseRow = sqlx::query_as(AssertSqlSafe(format!(
            "INSERT INTO cases (id, child_id, number, referral_source, referral_received, \
             first_seen, referral_reason, closed_on, closure_reason, closing_summary, version, \
             created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, NULL, NULL, 1, $8, $8) \
             RETURNING {CASE_COLUMNS}"
        )))
        .bind(case.id.to_string())
        .bind(child)
        .bind(number.n)
        .bind(case.details.referral_source.code().to_owned())
        .bind(case.details.referral_received.to_string())
        .bind(case.details.first_seen.map(|d| d.to_string()))
        .bind(case.sealed_reason.as_ref().map(|s| s.as_bytes().to_vec()))
        .bind(to_micros(now))
        .fetch_one(&mut *tx)
        .await
        .map_err(named)?;
        if let Some(lead) = &case.lead {
            Self::insert_member(&mut tx, case.id, lead, now).await?;
        }
        let stored = Self::with_team_on(&mut tx, row).await?;
        self.commit_audited(tx, audit).await?;
        Ok(stored)
    }

    async fn update_case(
        &self,
        id: CaseId,
        details: &CaseDetails,
        reason: &ReasonUpdate,
        expected: Version,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredCase, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        // The referral reason is written only when the update sets it.
        let (reason_column, new_reason) = match reason {
            ReasonUpdate::Keep => ("", None),
            ReasonUpdate::Set(sealed) => (
                ", referral_reason = $7",
                Some(sealed.as_ref().map(|s| s.as_bytes().to_vec())),
            ),
        };
        let mut query = sqlx::query_as(AssertSqlSafe(format!(
            "UPDATE cases SET referral_source = $1, referral_received = $2, first_seen = $3, \
             version = version + 1, updated_at = $4{reason_column} \
             WHERE id = $5 AND version = $6 RETURNING {CASE_COLUMNS}"
        )))
        .bind(details.referral_source.code().to_owned())
        .bind(details.referral_received.to_string())
        .bind(details.first_seen.map(|d| d.to_string()))
        .bind(to_micros(now))
        .bind(id.to_string())
        .bind(expected.get());
        if let Some(new_reason) = new_reason {
            query = query.bind(new_reason);
        }
        let row: Option<CaseRow> = query.fetch_optional(&mut *tx).await.map_err(named)?;
        let Some(row) = row else {
            return Err(Self::why_not_updated(&mut tx, "cases", id.to_string()).await);
        };
        let stored = Self::with_team_on(&mut tx, row).await?;
        self.commit_audited(tx, audit).await?;
        Ok(stored)
    }

    async fn close_case(
        &self,
        id: CaseId,
        closure: &Closure,
        sealed_summary: &Sealed,
        expected: Version,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredCase, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let row: Option<CaseRow> = sqlx::query_as(AssertSqlSafe(format!(
            "UPDATE cases SET closed_on = $1, closure_reason = $2, closing_summary = $3, \
             version = version + 1, updated_at = $4 WHERE id = $5 AND version = $6 \
             RETURNING {CASE_COLUMNS}"
        )))
        .bind(closure.closed_on.to_string())
        .bind(closure.reason.code().to_owned())
        .bind(sealed_summary.as_bytes().to_vec())
        .bind(to_micros(now))
        .bind(id.to_string())
        .bind(expected.get())
        .fetch_optional(&mut *tx)
        .await
        .map_err(named)?;
        let Some(row) = row else {
            return Err(Self::why_not_updated(&mut tx, "cases", id.to_string()).await);
        };
        let stored = Self::with_team_on(&mut tx, row).await?;
        self.commit_audited(tx, audit).await?;
        Ok(stored)
    }

    async fn change_team(
        &self,
        id: CaseId,
        change: &TeamChange,
        expected: Version,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredCase, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        // The case's version moves on with its team, so two people changing the team at once
        // cannot both succeed against what they saw.
        let row: Option<CaseRow> = sqlx::query_as(AssertSqlSafe(format!(
            "UPDATE cases SET version = version + 1, updated_at = $1 \
             WHERE id = $2 AND version = $3 RETURNING {CASE_COLUMNS}"
        )))
        .bind(to_micros(now))
        .bind(id.to_string())
        .bind(expected.get())
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_error)?;
        let Some(row) = row else {
            return Err(Self::why_not_updated(&mut tx, "cases", id.to_string()).await);
        };
        match change {
            TeamChange::Add(member) => Self::insert_member(&mut tx, id, member, now).await?,
            TeamChange::End {
                membership,
                ends_on,
            } => Self::end_member(&mut tx, id, membership.to_string(), *ends_on).await?,
            TeamChange::Transfer { from, to } => {
                Self::end_member(&mut tx, id, from.to_string(), to.starts_on).await?;
                Self::insert_member(&mut tx, id, to, now).await?;
            }
        }
        let stored = Self::with_team_on(&mut tx, row).await?;
        self.commit_audited(tx, audit).await?;
        Ok(stored)
    }

    async fn case(&self, id: CaseId) -> Result<Option<StoredCase>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(map_error)?;
        Self::case_on(&mut conn, id.to_string()).await
    }

    async fn cases_of(&self, child: ChildId) -> Result<Vec<StoredCase>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(map_error)?;
        Self::cases_of_children(&mut conn, Some(&[child.to_string()])).await
    }
});
