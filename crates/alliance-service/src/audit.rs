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
