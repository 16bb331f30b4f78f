//! Tasks and notices, the firings that raise them, comments, the queue of nudges, and
//! imported bank holidays. Statements are built only from constants (the column lists in
//! `rows`, and fixed clauses chosen by the filter) and placeholders; every value is a bound
//! parameter.
//!
//! Firings and nudges are claimed the same way: one `UPDATE … WHERE id IN (SELECT … LIMIT n)`
//! that repeats the claimable conditions in its outer `WHERE`. On PostgreSQL a claimer that
//! waited for another's row lock re-checks those conditions on the newest version of the row,
//! so it skips what the other just claimed; on SQLite writers take turns.

use crate::rows::{
    COMMENT_COLUMNS, CommentRow, FIRING_COLUMNS, FiringRow, HolidayRow, NudgeRow, Number,
    TASK_COLUMNS, TaskRow, TaskStateRow, subject_columns,
};
use crate::{Engine, map_error, map_error_named, stale_or_missing, to_micros};
use alliance_core::identity::UserId;
use alliance_core::tasks::{FiringId, Task, TaskId};
use alliance_core::{Page, PageRequest, Version};
use alliance_service::{
    AuditBatch, NewFiring, NewTask, StoreError, StoredComment, StoredHoliday, TaskFilter, TaskStore,
};
use jiff::Timestamp;
use sqlx::AssertSqlSafe;
use uuid::Uuid;

/// The unique constraints of this area, as SQLite reports them (by columns) and by name.
const UNIQUE: &[(&str, &str)] = &[
    ("firings.id", "firings_pkey"),
    ("firings.dedupe_key", "firings_dedupe_key"),
    ("tasks.id", "tasks_pkey"),
    ("task_comments.id", "task_comments_pkey"),
    ("nudges.id", "nudges_pkey"),
    (
        "bank_holidays.division, bank_holidays.date",
        "bank_holidays_pkey",
    ),
];

fn named(err: sqlx::Error) -> StoreError {
    map_error_named(err, UNIQUE)
}

/// How a person's tasks are listed: open first, then by due time (none last), then newest,
/// then by id so that the order is total.
const TASK_ORDER: &str = "CASE WHEN done_at IS NULL THEN 0 ELSE 1 END, \
    CASE WHEN due_at IS NULL THEN 1 ELSE 0 END, COALESCE(due_at, 0), created_at DESC, id";

/// Rows after the position `$2..$6` in [`TASK_ORDER`] (open, undated, due, created, id).
const TASK_AFTER: &str = " AND (CASE WHEN done_at IS NULL THEN 0 ELSE 1 END > $2 \
    OR (CASE WHEN done_at IS NULL THEN 0 ELSE 1 END = $2 \
    AND (CASE WHEN due_at IS NULL THEN 1 ELSE 0 END > $3 \
    OR (CASE WHEN due_at IS NULL THEN 1 ELSE 0 END = $3 \
    AND (COALESCE(due_at, 0) > $4 \
    OR (COALESCE(due_at, 0) = $4 \
    AND (created_at < $5 OR (created_at = $5 AND id > $6))))))))";

/// A task's position in [`TASK_ORDER`], as the list's opaque cursor:
/// `done:undated:due:created:id`, each a number but the id.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TaskPosition {
    done: i64,
    undated: i64,
    due: i64,
    created: i64,
    id: String,
}

impl TaskPosition {
    fn of(task: &Task) -> Self {
        Self {
            done: i64::from(task.done_at.is_some()),
            undated: i64::from(task.due_at.is_none()),
            due: task.due_at.map_or(0, to_micros),
            created: to_micros(task.created_at),
            id: task.id.to_string(),
        }
    }

    fn cursor(&self) -> String {
        format!(
            "{}:{}:{}:{}:{}",
            self.done, self.undated, self.due, self.created, self.id
        )
    }

    /// A cursor this list gave out; anything else is no position in it.
    fn parse(raw: &str) -> Option<Self> {
        let mut parts = raw.splitn(5, ':');
        let flag = |p: Option<&str>| match p? {
            "0" => Some(0),
            "1" => Some(1),
            _ => None,
        };
        let done = flag(parts.next())?;
        let undated = flag(parts.next())?;
        let due = parts.next()?.parse().ok()?;
        let created = parts.next()?.parse().ok()?;
        let id = TaskId::parse(parts.next()?).ok()?.to_string();
        Some(Self {
            done,
            undated,
            due,
            created,
            id,
        })
    }
}

impl_for_both_engines!(helpers {
    /// Stores `tasks`, new and open, at `now`.
    async fn insert_tasks(
        tx: &mut sqlx::Transaction<'static, DB>,
        tasks: &[NewTask],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        for task in tasks {
            let (child, record_type, record_id) = subject_columns(task.subject.as_ref());
            sqlx::query(
                "INSERT INTO tasks (id, kind, rule, owner_id, title, subject_child, subject_type, \
                 subject_id, due_at, escalation_level, done_at, done_by, version, created_at, \
                 updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, NULL, NULL, 1, $10, $10)",
            )
            .bind(task.id.to_string())
            .bind(task.rule.kind().code().to_owned())
            .bind(task.rule.code().to_owned())
            .bind(task.owner.to_string())
            .bind(task.title.clone())
            .bind(child)
            .bind(record_type)
            .bind(record_id)
            .bind(task.due_at.map(to_micros))
            .bind(to_micros(now))
            .execute(&mut **tx)
            .await
            .map_err(named)?;
        }
        Ok(())
    }

    /// Queues a nudge for each of `users`, sendable from `now`, except for someone who has
    /// one waiting already: one pending nudge per person is enough.
    async fn queue_nudges(
        tx: &mut sqlx::Transaction<'static, DB>,
        users: &[UserId],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        for user in users {
            sqlx::query(
                "INSERT INTO nudges (id, user_id, created_at, not_before, claimed_by, \
                 claimed_until, sent_at, attempts) \
                 SELECT $1, $2, $3, $3, NULL, NULL, NULL, 0 \
                 WHERE NOT EXISTS (SELECT 1 FROM nudges WHERE user_id = $2 AND sent_at IS NULL) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(Uuid::now_v7().to_string())
            .bind(user.to_string())
            .bind(to_micros(now))
            .execute(&mut **tx)
            .await
            .map_err(named)?;
        }
        Ok(())
    }

    /// Why a versioned change of task `id` at `expected` matched no row: it is gone, it has
    /// moved on, or (at the right version) it is done already.
    async fn why_task_not_changed(
        tx: &mut sqlx::Transaction<'static, DB>,
        id: TaskId,
        expected: Version,
    ) -> StoreError {
        let current: Result<Option<TaskStateRow>, _> =
            sqlx::query_as("SELECT version, done_at FROM tasks WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(&mut **tx)
                .await;
        match current {
            Ok(Some(row)) if row.version == expected.get() && row.done_at.is_some() => {
                StoreError::Conflict("tasks_done".to_owned())
            }
            Ok(current) => stale_or_missing(current.map(|r| r.version)),
            Err(e) => map_error(e),
        }
    }
});

impl_for_both_engines!(TaskStore {
    async fn claim_firings(
        &self,
        worker: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: i64,
    ) -> Result<Vec<NewFiring>, StoreError> {
        let rows: Vec<FiringRow> = sqlx::query_as(AssertSqlSafe(format!(
            "UPDATE firings SET claimed_by = $1, claimed_until = $2 \
             WHERE id IN (SELECT id FROM firings WHERE fired_at IS NULL AND fire_at <= $3 \
               AND (claimed_until IS NULL OR claimed_until < $3) ORDER BY fire_at, id LIMIT $4) \
             AND fired_at IS NULL AND (claimed_until IS NULL OR claimed_until < $3) \
             RETURNING {FIRING_COLUMNS}"
        )))
        .bind(worker.to_owned())
        .bind(to_micros(lease_until))
        .bind(to_micros(now))
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        let mut firings = rows
            .into_iter()
            .map(NewFiring::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        // RETURNING promises no order.
        firings.sort_by_key(|f| (f.fire_at, f.id));
        Ok(firings)
    }

    async fn fire(
        &self,
        firing: FiringId,
        tasks: &[NewTask],
        nudges: &[UserId],
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let fired = sqlx::query("UPDATE firings SET fired_at = $1 WHERE id = $2 AND fired_at IS NULL")
            .bind(to_micros(now))
            .bind(firing.to_string())
            .execute(&mut *tx)
            .await
            .map_err(map_error)?;
        if <DB as Engine>::rows_affected(&fired) != 1 {
            tx.rollback().await.map_err(map_error)?;
            return Ok(false);
        }
        Self::insert_tasks(&mut tx, tasks, now).await?;
        Self::queue_nudges(&mut tx, nudges, now).await?;
        self.commit_audited(tx, audit).await?;
        Ok(true)
    }

    async fn overdue_tasks(&self, now: Timestamp, limit: i64) -> Result<Vec<Task>, StoreError> {
        let rows: Vec<TaskRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {TASK_COLUMNS} FROM tasks \
             WHERE done_at IS NULL AND due_at IS NOT NULL AND due_at < $1 \
             ORDER BY due_at, id LIMIT $2"
        )))
        .bind(to_micros(now))
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(Task::try_from).collect()
    }

    async fn escalate(
        &self,
        task: TaskId,
        from_level: u32,
        notices: &[NewTask],
        nudges: &[UserId],
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        // Not an edit by the owner, so the version stays: their open form still saves.
        let stepped = sqlx::query(
            "UPDATE tasks SET escalation_level = $1, updated_at = $2 \
             WHERE id = $3 AND escalation_level = $4 AND done_at IS NULL",
        )
        .bind(i64::from(from_level) + 1)
        .bind(to_micros(now))
        .bind(task.to_string())
        .bind(i64::from(from_level))
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        if <DB as Engine>::rows_affected(&stepped) != 1 {
            tx.rollback().await.map_err(map_error)?;
            return Ok(false);
        }
        Self::insert_tasks(&mut tx, notices, now).await?;
        Self::queue_nudges(&mut tx, nudges, now).await?;
        self.commit_audited(tx, audit).await?;
        Ok(true)
    }

    async fn tasks_for(
        &self,
        owner: UserId,
        filter: TaskFilter,
        page: &PageRequest,
    ) -> Result<Page<Task>, StoreError> {
        let after = match &page.after {
            Some(cursor) => match TaskPosition::parse(cursor.as_str()) {
                Some(position) => Some(position),
                // Not a cursor this list gave out: there is no such position in it.
                None => return Err(StoreError::NotFound),
            },
            None => None,
        };
        // Only fixed clauses and placeholders are spliced in; the values are bound.
        let open = if filter.open_only { " AND done_at IS NULL" } else { "" };
        let mut next = 2;
        let keyset = if after.is_some() {
            next += 5;
            TASK_AFTER
        } else {
            ""
        };
        let kind = if filter.kind.is_some() {
            next += 1;
            format!(" AND kind = ${}", next - 1)
        } else {
            String::new()
        };
        let limit = format!("${next}");
        let sql = format!(
            "SELECT {TASK_COLUMNS} FROM tasks WHERE owner_id = $1{open}{keyset}{kind} \
             ORDER BY {TASK_ORDER} LIMIT {limit}"
        );
        let mut query = sqlx::query_as(AssertSqlSafe(sql)).bind(owner.to_string());
        if let Some(position) = after {
            query = query
                .bind(position.done)
                .bind(position.undated)
                .bind(position.due)
                .bind(position.created)
                .bind(position.id);
        }
        if let Some(kind) = filter.kind {
            query = query.bind(kind.code().to_owned());
        }
        let rows: Vec<TaskRow> = query
            .bind(page.fetch_limit())
            .fetch_all(&self.pool)
            .await
            .map_err(map_error)?;
        let tasks = rows
            .into_iter()
            .map(Task::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_rows(tasks, page, |t| TaskPosition::of(t).cursor()))
    }

    async fn task(&self, id: TaskId) -> Result<Option<Task>, StoreError> {
        let row: Option<TaskRow> =
            sqlx::query_as(AssertSqlSafe(format!("SELECT {TASK_COLUMNS} FROM tasks WHERE id = $1")))
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await
                .map_err(map_error)?;
        row.map(Task::try_from).transpose()
    }

    async fn complete_task(
        &self,
        id: TaskId,
        by: UserId,
        expected: Version,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<Task, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let row: Option<TaskRow> = sqlx::query_as(AssertSqlSafe(format!(
            "UPDATE tasks SET done_at = $1, done_by = $2, version = version + 1, updated_at = $1 \
             WHERE id = $3 AND version = $4 AND done_at IS NULL RETURNING {TASK_COLUMNS}"
        )))
        .bind(to_micros(now))
        .bind(by.to_string())
        .bind(id.to_string())
        .bind(expected.get())
        .fetch_optional(&mut *tx)
        .await
        .map_err(named)?;
        let Some(row) = row else {
            return Err(Self::why_task_not_changed(&mut tx, id, expected).await);
        };
        self.commit_audited(tx, audit).await?;
        row.try_into()
    }

    async fn reassign_task(
        &self,
        id: TaskId,
        to: UserId,
        expected: Version,
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<Task, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let row: Option<TaskRow> = sqlx::query_as(AssertSqlSafe(format!(
            "UPDATE tasks SET owner_id = $1, version = version + 1, updated_at = $2 \
             WHERE id = $3 AND version = $4 RETURNING {TASK_COLUMNS}"
        )))
        .bind(to.to_string())
        .bind(to_micros(now))
        .bind(id.to_string())
        .bind(expected.get())
        .fetch_optional(&mut *tx)
        .await
        .map_err(named)?;
        let Some(row) = row else {
            let current: Option<TaskStateRow> =
                sqlx::query_as("SELECT version, done_at FROM tasks WHERE id = $1")
                    .bind(id.to_string())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(map_error)?;
            return Err(stale_or_missing(current.map(|r| r.version)));
        };
        Self::queue_nudges(&mut tx, &[to], now).await?;
        self.commit_audited(tx, audit).await?;
        row.try_into()
    }

    async fn add_comment(
        &self,
        comment: &StoredComment,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let tasks: Number = sqlx::query_as("SELECT COUNT(*) AS n FROM tasks WHERE id = $1")
            .bind(comment.task_id.to_string())
            .fetch_one(&mut *tx)
            .await
            .map_err(map_error)?;
        if tasks.n == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query(
            "INSERT INTO task_comments (id, task_id, author_id, text, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(comment.id.to_string())
        .bind(comment.task_id.to_string())
        .bind(comment.author.to_string())
        .bind(comment.sealed_text.as_bytes().to_vec())
        .bind(to_micros(comment.created_at))
        .execute(&mut *tx)
        .await
        .map_err(named)?;
        self.commit_audited(tx, audit).await
    }

    async fn comments(&self, task: TaskId) -> Result<Vec<StoredComment>, StoreError> {
        let rows: Vec<CommentRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {COMMENT_COLUMNS} FROM task_comments WHERE task_id = $1 \
             ORDER BY created_at, id"
        )))
        .bind(task.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(StoredComment::try_from).collect()
    }

    async fn claim_nudges(
        &self,
        worker: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: i64,
    ) -> Result<Vec<(Uuid, UserId)>, StoreError> {
        let rows: Vec<NudgeRow> = sqlx::query_as(
            "UPDATE nudges SET claimed_by = $1, claimed_until = $2 \
             WHERE id IN (SELECT id FROM nudges WHERE sent_at IS NULL AND not_before <= $3 \
               AND (claimed_until IS NULL OR claimed_until < $3) ORDER BY not_before, id LIMIT $4) \
             AND sent_at IS NULL AND (claimed_until IS NULL OR claimed_until < $3) \
             RETURNING id, user_id",
        )
        .bind(worker.to_owned())
        .bind(to_micros(lease_until))
        .bind(to_micros(now))
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        let mut claimed = rows
            .into_iter()
            .map(NudgeRow::into_pair)
            .collect::<Result<Vec<_>, _>>()?;
        // RETURNING promises no order; the ids are UUIDv7, so this is oldest first.
        claimed.sort();
        Ok(claimed)
    }

    async fn nudge_done(&self, id: Uuid, now: Timestamp) -> Result<(), StoreError> {
        // Saying so twice keeps the first time.
        let done = sqlx::query("UPDATE nudges SET sent_at = COALESCE(sent_at, $1) WHERE id = $2")
            .bind(to_micros(now))
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(map_error)?;
        if <DB as Engine>::rows_affected(&done) == 1 {
            Ok(())
        } else {
            Err(StoreError::NotFound)
        }
    }

    async fn nudge_failed(&self, id: Uuid, retry_at: Timestamp) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let failed = sqlx::query(
            "UPDATE nudges SET attempts = attempts + 1, not_before = $1, claimed_by = NULL, \
             claimed_until = NULL WHERE id = $2 AND sent_at IS NULL",
        )
        .bind(to_micros(retry_at))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        if <DB as Engine>::rows_affected(&failed) != 1 {
            // A nudge sent already stays sent; one that never was is not found.
            let found: Number = sqlx::query_as("SELECT COUNT(*) AS n FROM nudges WHERE id = $1")
                .bind(id.to_string())
                .fetch_one(&mut *tx)
                .await
                .map_err(map_error)?;
            if found.n == 0 {
                return Err(StoreError::NotFound);
            }
        }
        tx.commit().await.map_err(map_error)
    }

    async fn imported_holidays(&self) -> Result<Vec<StoredHoliday>, StoreError> {
        let rows: Vec<HolidayRow> = sqlx::query_as(
            "SELECT division, date, title FROM bank_holidays ORDER BY division, date",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(StoredHoliday::try_from).collect()
    }

    async fn import_holidays(
        &self,
        holidays: &[StoredHoliday],
        now: Timestamp,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        for holiday in holidays {
            sqlx::query(
                "INSERT INTO bank_holidays (division, date, title, imported_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (division, date) \
                 DO UPDATE SET title = excluded.title, imported_at = excluded.imported_at",
            )
            .bind(holiday.division.clone())
            .bind(holiday.date.to_string())
            .bind(holiday.title.clone())
            .bind(to_micros(now))
            .execute(&mut *tx)
            .await
            .map_err(named)?;
        }
        self.commit_audited(tx, audit).await
    }
});

#[cfg(test)]
mod tests {
    use super::*;
    use alliance_core::tasks::{Rule, TaskKind};

    fn task(done: bool, due: Option<i64>) -> Task {
        let at = |s: i64| Timestamp::from_second(s).unwrap_or(Timestamp::UNIX_EPOCH);
        Task {
            id: TaskId(Uuid::from_u128(42)),
            kind: TaskKind::Task,
            rule: Rule::ArrangeFirstSession,
            owner: UserId(Uuid::from_u128(1)),
            title: String::new(),
            subject: None,
            due_at: due.map(at),
            escalation_level: 0,
            done_at: done.then(|| at(5)),
            done_by: None,
            version: Version::FIRST,
            created_at: at(-3),
            updated_at: at(-3),
        }
    }

    #[test]
    fn cursors_round_trip_and_are_cursors_the_list_gives_out() {
        for t in [
            task(false, Some(100)),
            task(true, None),
            task(false, Some(-7)),
        ] {
            let position = TaskPosition::of(&t);
            let cursor = position.cursor();
            assert!(
                alliance_core::paging::Cursor::parse(&cursor).is_ok(),
                "{cursor}"
            );
            assert_eq!(TaskPosition::parse(&cursor), Some(position));
        }
        for bad in [
            "",
            "x",
            "2:0:0:0:00000000-0000-0000-0000-00000000002a",
            "0:0:a:0:id",
            "0:0:0:0:x",
        ] {
            assert_eq!(TaskPosition::parse(bad), None, "{bad}");
        }
    }
}
