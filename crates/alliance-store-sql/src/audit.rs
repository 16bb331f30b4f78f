//! Appending to and reading the audit chain. Appends lock the head row, so appends from any
//! number of processes (on PostgreSQL) or tasks form one chain.

use crate::rows::{AuditRow, HeadRow, subject_columns};
use crate::{Engine, map_error, map_error_named, placeholders, to_micros};
use alliance_core::audit::{Entry, Head, next_entry};
use alliance_service::{AuditBatch, AuditQuery, AuditStore, StoreError};
use sqlx::AssertSqlSafe;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The chain's head kept outside the database (beside a SQLite file), so that removing the
/// newest entries from the database, head row and all, is still found by verification.
pub struct Witness {
    path: PathBuf,
    /// The newest head written by this process: written heads only move forward. A cache;
    /// safe to lose.
    written: Mutex<i64>,
}

impl Witness {
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            written: Mutex::new(0),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records `head` if it is newer than what was recorded: write a new file, sync it, then
    /// rename it over the old one, so a crash leaves the old head or the new, never half.
    pub fn record(&self, head: Head) -> Result<(), StoreError> {
        let mut written = self.written.lock().unwrap_or_else(|p| p.into_inner());
        if head.seq <= *written {
            return Ok(());
        }
        // Another process (the command line beside a server) may write a newer head just
        // before this one: a witness left behind the chain is harmless, since verification
        // only needs the chain to pass through it.
        let text = format!("{} {}\n", head.seq, alliance_core::auth::hex(&head.mac));
        let temporary = self.path.with_extension("new");
        let io =
            |e: std::io::Error| StoreError::Other(format!("cannot record the audit head: {e}"));
        {
            use std::io::Write;
            let mut file = std::fs::File::create(&temporary).map_err(io)?;
            file.write_all(text.as_bytes()).map_err(io)?;
            file.sync_all().map_err(io)?;
        }
        std::fs::rename(&temporary, &self.path).map_err(io)?;
        *written = head.seq;
        Ok(())
    }

    pub fn read(&self) -> Result<Option<Head>, StoreError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(StoreError::Other(format!(
                    "cannot read the audit head: {e}"
                )));
            }
        };
        let bad = || {
            StoreError::Other(format!(
                "the audit head file {} is damaged",
                self.path.display()
            ))
        };
        let (seq, mac) = text.trim().split_once(' ').ok_or_else(bad)?;
        let seq: i64 = seq.parse().map_err(|_| bad())?;
        Ok(Some(Head {
            seq,
            mac: parse_mac(mac).ok_or_else(bad)?,
        }))
    }
}

fn parse_mac(hex: &str) -> Option<[u8; 32]> {
    alliance_core::auth::from_hex(hex)?.try_into().ok()
}

pub(crate) fn head_of(row: HeadRow) -> Result<Head, StoreError> {
    let mac: [u8; 32] = row
        .mac
        .as_slice()
        .try_into()
        .map_err(|_| StoreError::Other("the audit head's MAC is damaged".to_owned()))?;
    Ok(Head { seq: row.seq, mac })
}

impl_for_both_engines!(helpers {
    /// Appends `batch` inside the caller's transaction, holding the head row's lock until it
    /// commits, and stores the firings it schedules (its follow-ups) in the same transaction.
    /// Returns the new head.
    pub(crate) async fn append_audit_sql(
        tx: &mut sqlx::Transaction<'static, DB>,
        batch: &AuditBatch<'_>,
    ) -> Result<Head, StoreError> {
        let row: HeadRow = sqlx::query_as(<DB as Engine>::LOCK_AUDIT_HEAD)
            .fetch_one(&mut **tx)
            .await
            .map_err(map_error)?;
        let mut head = head_of(row)?;
        // After the head's lock is taken: two transactions scheduling the same dedupe key then
        // take turns (on PostgreSQL the second's insert would otherwise wait on the first's
        // commit while holding what the first needs).
        Self::insert_follow_ups(tx, batch).await?;
        for event in &batch.events {
            let entry = next_entry(batch.key, head, batch.at, event.clone(), batch.origin.clone());
            sqlx::query(
                "INSERT INTO audit_log (seq, at, action, actor_id, record_type, record_id, child_id, \
                 category, detail, request_id, address, mac) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(entry.seq)
            .bind(to_micros(entry.at))
            .bind(entry.event.action.code().to_owned())
            .bind(entry.event.actor.clone())
            .bind(entry.event.record_type.clone())
            .bind(entry.event.record_id.clone())
            .bind(entry.event.child_id.clone())
            .bind(entry.event.category.code().to_owned())
            .bind(entry.event.detail.clone())
            .bind(entry.origin.request_id.clone())
            .bind(entry.origin.address.clone())
            .bind(entry.mac.to_vec())
            .execute(&mut **tx)
            .await
            .map_err(map_error)?;
            head = Head {
                seq: entry.seq,
                mac: entry.mac,
            };
        }
        if !batch.events.is_empty() {
            sqlx::query("UPDATE audit_head SET seq = $1, mac = $2 WHERE id = 1")
                .bind(head.seq)
                .bind(head.mac.to_vec())
                .execute(&mut **tx)
                .await
                .map_err(map_error)?;
        }
        Ok(head)
    }

    /// Stores what `batch` schedules. A firing whose dedupe key is stored already is left
    /// out, not refused: the change it follows goes ahead, and the thing is raised once.
    async fn insert_follow_ups(
        tx: &mut sqlx::Transaction<'static, DB>,
        batch: &AuditBatch<'_>,
    ) -> Result<(), StoreError> {
        for firing in &batch.follow_ups {
            let (child, record_type, record_id) = subject_columns(firing.subject.as_ref());
            sqlx::query(
                "INSERT INTO firings (id, rule, fire_at, recipient, subject_child, subject_type, \
                 subject_id, reference, dedupe_key, claimed_by, claimed_until, fired_at, \
                 created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, NULL, NULL, $10) \
                 ON CONFLICT (dedupe_key) DO NOTHING",
            )
            .bind(firing.id.to_string())
            .bind(firing.rule.code().to_owned())
            .bind(to_micros(firing.fire_at))
            .bind(firing.recipient.code())
            .bind(child)
            .bind(record_type)
            .bind(record_id)
            .bind(firing.reference.clone())
            .bind(firing.dedupe_key.clone())
            .bind(to_micros(batch.at))
            .execute(&mut **tx)
            .await
            .map_err(|e| map_error_named(e, &[("firings.id", "firings_pkey")]))?;
        }
        Ok(())
    }

    /// Appends `audit` to the change in `tx` and commits both; then the witness (if any)
    /// learns the new head. Every audited write ends here.
    pub(crate) async fn commit_audited(
        &self,
        mut tx: sqlx::Transaction<'static, DB>,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError> {
        let head = Self::append_audit_sql(&mut tx, audit).await?;
        tx.commit().await.map_err(map_error)?;
        self.witness(head)
    }

    /// After a commit that appended: the witness (if any) learns the new head.
    pub(crate) fn witness(&self, head: Head) -> Result<(), StoreError> {
        match &self.witness {
            Some(witness) => witness.record(head),
            None => Ok(()),
        }
    }
});

impl_for_both_engines!(AuditStore {
    async fn append_audit(&self, batch: &AuditBatch<'_>) -> Result<Head, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let head = Self::append_audit_sql(&mut tx, batch).await?;
        tx.commit().await.map_err(map_error)?;
        self.witness(head)?;
        Ok(head)
    }

    async fn audit_head(&self) -> Result<Head, StoreError> {
        let row: HeadRow = sqlx::query_as("SELECT seq, mac FROM audit_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(map_error)?;
        head_of(row)
    }

    fn audit_witness(&self) -> Result<Option<Head>, StoreError> {
        match &self.witness {
            Some(witness) => witness.read(),
            None => Ok(None),
        }
    }

    async fn audit_entries(&self, after_seq: i64, limit: i64) -> Result<Vec<Entry>, StoreError> {
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT seq, at, action, actor_id, record_type, record_id, child_id, category, detail, \
             request_id, address, mac FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after_seq)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(Entry::try_from).collect()
    }

    async fn audit_trail(&self, query: &AuditQuery) -> Result<Vec<Entry>, StoreError> {
        if query.categories.is_empty() || query.limit <= 0 {
            return Ok(Vec::new());
        }
        // Only fixed clauses and numbered placeholders are spliced in; every value is bound.
        let mut clauses = vec![format!(
            "category IN ({})",
            placeholders(1, query.categories.len())
        )];
        let mut next = query.categories.len() + 1;
        let mut clause = |sql: &str| {
            clauses.push(sql.replace('?', &format!("${next}")));
            next += 1;
        };
        if query.child.is_some() {
            clause("child_id = ?");
        }
        if query.actor.is_some() {
            clause("actor_id = ?");
        }
        if query.action.is_some() {
            clause("action = ?");
        }
        if query.from.is_some() {
            clause("at >= ?");
        }
        if query.until.is_some() {
            clause("at < ?");
        }
        if query.before_seq.is_some() {
            clause("seq < ?");
        }
        let sql = format!(
            "SELECT seq, at, action, actor_id, record_type, record_id, child_id, category, \
             detail, request_id, address, mac FROM audit_log WHERE {} ORDER BY seq DESC \
             LIMIT ${next}",
            clauses.join(" AND ")
        );
        let mut statement = sqlx::query_as(AssertSqlSafe(sql));
        for category in &query.categories {
            statement = statement.bind(category.code().to_owned());
        }
        if let Some(child) = query.child {
            statement = statement.bind(child.to_string());
        }
        if let Some(actor) = query.actor {
            statement = statement.bind(actor.to_string());
        }
        if let Some(action) = query.action {
            statement = statement.bind(action.code().to_owned());
        }
        if let Some(from) = query.from {
            statement = statement.bind(to_micros(from));
        }
        if let Some(until) = query.until {
            statement = statement.bind(to_micros(until));
        }
        if let Some(before) = query.before_seq {
            statement = statement.bind(before);
        }
        let rows: Vec<AuditRow> = statement
            .bind(query.limit)
            .fetch_all(&self.pool)
            .await
            .map_err(map_error)?;
        rows.into_iter().map(Entry::try_from).collect()
    }
});
