//! Verifying and exporting the audit trail.

use crate::app::Alliance;
use crate::error::AppResult;
use alliance_core::audit::{Break, Entry, Head, Verifier};

const BATCH: i64 = 2_000;

/// What a verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Entries checked.
    pub entries: u64,
    /// The chain's newest entry.
    pub head: Head,
}

impl Alliance {
    /// Checks the whole chain: every entry's MAC, no gaps, and that it reaches both the head
    /// the database records and the head kept outside it (for SQLite). Names the first
    /// altered, removed or reordered entry.
    pub async fn verify_audit(&self) -> AppResult<Result<Verified, Break>> {
        let db_head = self.store.audit_head().await?;
        let witness = self.store.audit_witness()?.unwrap_or(Head::START);
        let mut verifier = Verifier::new(&self.chain_key, Head::START, witness);
        let mut after = 0;
        loop {
            let entries = self.store.audit_entries(after, BATCH).await?;
            let Some(last) = entries.last() else { break };
            after = last.seq;
            for entry in &entries {
                if let Err(broken) = verifier.check(entry) {
                    return Ok(Err(broken));
                }
            }
        }
        let end = match verifier.finish() {
            Ok(end) => end,
            Err(broken) => return Ok(Err(broken)),
        };
        if end.seq < db_head.seq {
            return Ok(Err(Break::Truncated {
                ends_at: end.seq,
                head: db_head.seq,
            }));
        }
        if end != db_head {
            return Ok(Err(Break::HeadMismatch { seq: end.seq }));
        }
        Ok(Ok(Verified {
            entries: verifier.checked,
            head: end,
        }))
    }

    /// After restoring a backup: records, in the chain, that the trail was restored (and how far
    /// the head kept outside the database had gone), so verification carries on from here.
    /// Entries written after the backup was taken are gone with the backup's age; this entry
    /// says so, and the head outside the database moves to it.
    pub async fn checkpoint_after_restore(&self) -> AppResult<Head> {
        let db_head = self.store.audit_head().await?;
        let witness = self.store.audit_witness()?;
        let detail = match witness {
            Some(w) if w.seq > db_head.seq => format!(
                "restored at entry {}; the trail had reached entry {} (MAC {})",
                db_head.seq,
                w.seq,
                alliance_core::auth::hex(&w.mac)
            ),
            _ => format!("restored at entry {}", db_head.seq),
        };
        let event = alliance_core::audit::Event::new(
            alliance_core::audit::Action::RestoreCheckpoint,
            None,
            "audit",
            Some(db_head.seq.to_string()),
        )
        .detail(&detail);
        let head = self
            .store
            .append_audit(&self.audit_batch(&crate::accounts::command_line_origin(), vec![event]))
            .await?;
        Ok(head)
    }

    /// Every entry in order, for an inspector, handed to `each` in batches.
    pub async fn export_audit(&self, mut each: impl FnMut(&Entry)) -> AppResult<u64> {
        let mut after = 0;
        let mut count = 0;
        loop {
            let entries = self.store.audit_entries(after, BATCH).await?;
            let Some(last) = entries.last() else { break };
            after = last.seq;
            for entry in &entries {
                each(entry);
                count += 1;
            }
        }
        Ok(count)
    }
}
