//! Session records (issue 12): a draft is kept on the server as it is typed and seen by its
//! author alone; signing locks it; a change after that is an amendment with its reason, the
//! original kept and shown. The case's lead may share a signed record with the case's
//! parent-worker, who sees nothing else of the clinical record's session notes. Everything a
//! record says is sealed under the child's clinical key.

use crate::app::Alliance;
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::store::{StoreError, StoredAmendment, StoredSession, StoredSessionRecord};
use alliance_core::Version;
use alliance_core::access::{Access, ChildData, Limit, Standing, case_access, sees_names};
use alliance_core::audit::{self, Event};
use alliance_core::cases::{CaseId, TeamRole};
use alliance_core::children::ChildId;
use alliance_core::crypto::{KeyOwner, RecordClass, Sealed, SealedAt};
use alliance_core::identity::UserId;
use alliance_core::schedule::BookingId;
use alliance_core::session_records::{RecordContent, RecordStatus, parse_amendment_reason};
use alliance_core::{Invalid, uk};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An amendment as sealed: the record as amended, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct AmendmentBody {
    content: RecordContent,
    reason: String,
}

/// An amendment, opened.
#[derive(Debug, Clone, PartialEq)]
pub struct AmendmentView {
    pub id: Uuid,
    pub content: RecordContent,
    pub reason: String,
    pub author: String,
    pub at: jiff::Timestamp,
}

/// A record, opened for a reader who may see it.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecordView {
    pub stored: StoredSessionRecord,
    /// As written (a draft) or as signed (the original, kept).
    pub content: RecordContent,
    /// Oldest first; the newest is the record as it stands.
    pub amendments: Vec<AmendmentView>,
    pub author: String,
    pub is_author: bool,
    /// The lead may share it with the parent-worker (signed records).
    pub may_share: bool,
}

impl SessionRecordView {
    /// The record as it stands: the newest amendment, else the original.
    pub fn current(&self) -> &RecordContent {
        self.amendments.last().map_or(&self.content, |a| &a.content)
    }
}

/// A session and its record, for the record's page.
#[derive(Debug, Clone)]
pub struct SessionRecordPage {
    pub session: StoredSession,
    pub case_number: String,
    /// The child's name, or initials and case number for a pseudonymised reader.
    pub child_label: String,
    /// `None`: no record the reader may see yet.
    pub record: Option<SessionRecordView>,
    /// Someone else is writing this session's record (a draft the reader may not see).
    pub drafted_by_someone_else: bool,
    pub may_write: bool,
}

/// One line of a case's list of records.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordSummary {
    pub record: StoredSessionRecord,
    pub session_date: jiff::civil::Date,
    pub author: String,
    pub amended: bool,
}

fn clinical_owner(child: ChildId) -> KeyOwner {
    KeyOwner::Child {
        child: child.to_string(),
        class: RecordClass::Clinical,
    }
}

fn decode_error(e: impl std::fmt::Display) -> AppError {
    AppError::Store(StoreError::Other(format!(
        "a sealed record did not open: {e}"
    )))
}

/// What a reader may do with a case's session records.
#[derive(Debug, Clone, Copy)]
struct Reach {
    /// Every signed record, and their own drafts.
    all: bool,
    /// Only the records the lead shared (the parent-worker).
    shared_only: bool,
    /// May write (the role and the token).
    write: bool,
    /// The role may write, whatever the token: enough to read one's own drafts.
    writer: bool,
    names: bool,
}

fn reach(actor: &Actor, standing: &Standing, is_newest: bool) -> Reach {
    let clinical = case_access(&actor.user, standing, ChildData::Clinical, is_newest);
    Reach {
        all: clinical.may_read(),
        shared_only: clinical == Access::Limited(Limit::SharedWithParentWorker),
        write: clinical.may_write() && actor.may_write(),
        writer: clinical.may_write(),
        names: sees_names(&actor.user, standing),
    }
}

impl Reach {
    fn sees(&self, actor: &Actor, record: &StoredSessionRecord) -> bool {
        match record.status {
            RecordStatus::Draft => record.author == actor.user.id && self.writer,
            RecordStatus::Signed => self.all || (self.shared_only && record.shared_at.is_some()),
        }
    }
}

impl Alliance {
    /// The child's gate for a case, and what the reader may do with its session records;
    /// "not found" (audited) for a reader who may see none of them.
    async fn records_gate(
        &self,
        actor: &Actor,
        case: CaseId,
        asked: &str,
    ) -> AppResult<(ChildId, Reach, String, bool)> {
        let stored = self.store.case(case).await?.ok_or(AppError::NotFound)?;
        let child = stored.case.child_id;
        let (standing, newest) = self.get_child_gate(actor, child, asked).await?;
        let is_newest = newest == Some(case);
        let reach = reach(actor, &standing, is_newest);
        if !(reach.all || reach.shared_only) {
            self.audit_refusal(actor, asked, "case", case.to_string(), child)
                .await?;
            return Err(AppError::NotFound);
        }
        let is_lead = is_newest
            && stored
                .case
                .current_team(self.today())
                .any(|m| m.user_id == actor.user.id && m.role == TeamRole::Lead);
        Ok((child, reach, stored.case.number_label(), is_lead))
    }

    /// Seals a part of the child's clinical record (its `content` column) under the child's
    /// clinical key: session records, their amendments, incidents and their addenda.
    pub(crate) async fn seal_record_part(
        &self,
        child: ChildId,
        table: &str,
        row: Uuid,
        plain: &[u8],
    ) -> AppResult<Sealed> {
        let row = row.to_string();
        Ok(self
            .keys
            .seal(
                &clinical_owner(child),
                plain,
                SealedAt {
                    table,
                    column: "content",
                    row: &row,
                },
                self.clock.now(),
            )
            .await?)
    }

    /// Opens what [`Self::seal_record_part`] sealed, as JSON.
    pub(crate) async fn open_record_part<T: serde::de::DeserializeOwned>(
        &self,
        child: ChildId,
        table: &str,
        row: Uuid,
        sealed: &Sealed,
    ) -> AppResult<T> {
        let row = row.to_string();
        let plain = self
            .keys
            .open(
                &clinical_owner(child),
                sealed,
                SealedAt {
                    table,
                    column: "content",
                    row: &row,
                },
                self.clock.now(),
            )
            .await
            .map_err(AppError::from)?;
        serde_json::from_slice(&plain).map_err(decode_error)
    }

    async fn record_view(
        &self,
        actor: &Actor,
        stored: StoredSessionRecord,
        is_lead: bool,
    ) -> AppResult<SessionRecordView> {
        let content: RecordContent = self
            .open_record_part(
                stored.child_id,
                "session_records",
                stored.id,
                &stored.content,
            )
            .await?;
        let stored_amendments = self.store.amendments(stored.id).await?;
        let mut ids: Vec<UserId> = stored_amendments.iter().map(|a| a.author).collect();
        ids.push(stored.author);
        let names = self.staff_names(&ids).await?;
        let mut amendments = Vec::new();
        for a in stored_amendments {
            let body: AmendmentBody = self
                .open_record_part(
                    stored.child_id,
                    "session_record_amendments",
                    a.id,
                    &a.content,
                )
                .await?;
            amendments.push(AmendmentView {
                id: a.id,
                content: body.content,
                reason: body.reason,
                author: names.get(&a.author).cloned().unwrap_or_default(),
                at: a.created_at,
            });
        }
        Ok(SessionRecordView {
            author: names.get(&stored.author).cloned().unwrap_or_default(),
            is_author: stored.author == actor.user.id,
            may_share: is_lead && stored.status == RecordStatus::Signed && actor.may_write(),
            content,
            amendments,
            stored,
        })
    }

    async fn session_of(&self, session: BookingId) -> AppResult<StoredSession> {
        self.store
            .booked_session(session)
            .await?
            .ok_or(AppError::NotFound)
    }

    /// A session's record as the reader may see it, for its page.
    pub async fn session_record_page(
        &self,
        actor: &Actor,
        session: BookingId,
    ) -> AppResult<SessionRecordPage> {
        let booked = self.session_of(session).await?;
        let (child, reach, case_number, is_lead) = self
            .records_gate(actor, booked.case_id, "read session record")
            .await?;
        let stored = self.store.session_record_of_session(session).await?;
        let (record, drafted_by_someone_else) = match stored {
            Some(r) if reach.sees(actor, &r) => {
                (Some(self.record_view(actor, r, is_lead).await?), false)
            }
            Some(r) => (None, r.status == RecordStatus::Draft && reach.write),
            None => (None, false),
        };
        if let Some(r) = &record {
            self.record(
                &actor.origin,
                vec![
                    Event::new(
                        audit::Action::ChildRead,
                        Some(actor.user.id.to_string()),
                        "session-record",
                        Some(r.stored.id.to_string()),
                    )
                    .for_child(child),
                ],
            )
            .await?;
        }
        let details = self.details_of(child).await?;
        Ok(SessionRecordPage {
            child_label: if reach.names {
                details.known_as().to_owned()
            } else {
                format!("{} ({case_number})", details.initials())
            },
            case_number,
            record,
            drafted_by_someone_else,
            may_write: reach.write,
            session: booked,
        })
    }

    /// Saves what has been typed as the reader's draft of a session's record (creating it
    /// the first time). Nothing typed is refused for being unfinished.
    pub async fn save_session_record_draft(
        &self,
        actor: &Actor,
        session: BookingId,
        input: &RecordContent,
        expected: Option<Version>,
    ) -> AppResult<StoredSessionRecord> {
        let (booked, child) = self.require_record_write(actor, session).await?;
        if booked
            .attendance
            .as_ref()
            .is_some_and(|a| a.is_cancellation())
        {
            return Err(Invalid::field(
                "brought",
                "This session was cancelled: there is nothing to record",
            )
            .into());
        }
        let content = RecordContent::parse_draft(input)?;
        let existing = self.store.session_record_of_session(session).await?;
        match existing {
            None => {
                let id = self.new_id();
                let now = self.clock.now();
                let record = StoredSessionRecord {
                    id,
                    session_id: session,
                    case_id: booked.case_id,
                    child_id: child,
                    author: actor.user.id,
                    status: RecordStatus::Draft,
                    content: self.seal_content(child, id, &content).await?,
                    version: Version::FIRST,
                    created_at: now,
                    updated_at: now,
                    signed_at: None,
                    shared_at: None,
                    shared_by: None,
                };
                let batch =
                    self.record_batch(actor, audit::Action::SessionRecordDrafted, id, child);
                self.store.create_session_record(&record, &batch).await?;
                Ok(record)
            }
            Some(record) => {
                self.require_author_draft(actor, &record).await?;
                let expected = expected.ok_or_else(|| {
                    Invalid::field("version", "Send the version of the draft you are editing")
                })?;
                let sealed = self.seal_content(child, record.id, &content).await?;
                let batch =
                    self.record_batch(actor, audit::Action::SessionRecordDrafted, record.id, child);
                self.stale_or(
                    self.store
                        .save_session_record_draft(
                            record.id,
                            &sealed,
                            expected,
                            self.clock.now(),
                            &batch,
                        )
                        .await,
                )
            }
        }
    }

    /// Signs the reader's draft with its final text: from now on it changes only by
    /// amendment.
    pub async fn sign_session_record(
        &self,
        actor: &Actor,
        session: BookingId,
        input: &RecordContent,
        expected: Version,
    ) -> AppResult<StoredSessionRecord> {
        let (_, child) = self.require_record_write(actor, session).await?;
        let content = RecordContent::parse_draft(input)?;
        content.check_complete()?;
        let record = self
            .store
            .session_record_of_session(session)
            .await?
            .ok_or_else(|| Invalid::field("version", "Save the draft first"))?;
        self.require_author_draft(actor, &record).await?;
        let sealed = self.seal_content(child, record.id, &content).await?;
        let batch = self.record_batch(actor, audit::Action::SessionRecordSigned, record.id, child);
        self.stale_or(
            self.store
                .sign_session_record(record.id, &sealed, expected, self.clock.now(), &batch)
                .await,
        )
    }

    /// Amends a signed record (its author), with the reason; the original stays visible.
    pub async fn amend_session_record(
        &self,
        actor: &Actor,
        session: BookingId,
        input: &RecordContent,
        reason: &str,
        expected: Version,
    ) -> AppResult<StoredSessionRecord> {
        let (_, child) = self.require_record_write(actor, session).await?;
        let content = RecordContent::parse_draft(input)?;
        content.check_complete()?;
        let reason = parse_amendment_reason(reason).map_err(|m| Invalid::field("reason", m))?;
        let record = self
            .store
            .session_record_of_session(session)
            .await?
            .ok_or(AppError::NotFound)?;
        if record.author != actor.user.id {
            self.audit_refusal(
                actor,
                "amend session record",
                "session-record",
                record.id.to_string(),
                child,
            )
            .await?;
            return Err(if record.status == RecordStatus::Draft {
                AppError::NotFound
            } else {
                AppError::Denied("only the record's author amends it")
            });
        }
        if record.status != RecordStatus::Signed {
            return Err(Invalid::field("reason", "A draft is edited, not amended").into());
        }
        let id = self.new_id();
        let body = AmendmentBody { content, reason };
        let plain = serde_json::to_vec(&body).map_err(decode_error)?;
        let amendment = StoredAmendment {
            id,
            record_id: record.id,
            content: self
                .seal_record_part(child, "session_record_amendments", id, &plain)
                .await?,
            author: actor.user.id,
            created_at: self.clock.now(),
        };
        let batch = self.record_batch(actor, audit::Action::SessionRecordAmended, record.id, child);
        self.stale_or(
            self.store
                .amend_session_record(&amendment, expected, &batch)
                .await,
        )
    }

    /// The case's lead shares a signed record with the parent-worker, or stops sharing it.
    pub async fn share_session_record(
        &self,
        actor: &Actor,
        session: BookingId,
        share: bool,
        expected: Version,
    ) -> AppResult<StoredSessionRecord> {
        let booked = self.session_of(session).await?;
        let (child, reach, _, is_lead) = self
            .records_gate(actor, booked.case_id, "share session record")
            .await?;
        let Some(record) = self
            .store
            .session_record_of_session(session)
            .await?
            .filter(|r| reach.sees(actor, r))
        else {
            self.audit_refusal(
                actor,
                "share session record",
                "session",
                session.to_string(),
                child,
            )
            .await?;
            return Err(AppError::NotFound);
        };
        if !(is_lead && reach.write) {
            self.audit_refusal(
                actor,
                "share session record",
                "session-record",
                record.id.to_string(),
                child,
            )
            .await?;
            return Err(AppError::Denied(
                "only the case's lead shares a record with the parent-worker",
            ));
        }
        if record.status != RecordStatus::Signed {
            return Err(Invalid::field("share", "Only a signed record is shared").into());
        }
        let batch = self.record_batch(actor, audit::Action::SessionRecordShared, record.id, child);
        self.stale_or(
            self.store
                .share_session_record(
                    record.id,
                    share.then_some(actor.user.id),
                    expected,
                    self.clock.now(),
                    &batch,
                )
                .await,
        )
    }

    /// The case's records the reader may see (their own drafts, signed records; the
    /// parent-worker only what the lead shared), newest first.
    pub async fn case_session_records(
        &self,
        actor: &Actor,
        case: CaseId,
    ) -> AppResult<Vec<RecordSummary>> {
        let (child, reach, _, _) = self
            .records_gate(actor, case, "list session records")
            .await?;
        let records: Vec<StoredSessionRecord> = self
            .store
            .session_records_of_case(case)
            .await?
            .into_iter()
            .filter(|r| reach.sees(actor, r))
            .collect();
        let names = self
            .staff_names(&records.iter().map(|r| r.author).collect::<Vec<_>>())
            .await?;
        // A list read is audited, naming the records shown.
        self.record(
            &actor.origin,
            vec![
                Event::new(
                    audit::Action::ChildRead,
                    Some(actor.user.id.to_string()),
                    "session-records",
                    Some(case.to_string()),
                )
                .for_child(child)
                .detail(
                    &records
                        .iter()
                        .map(|r| r.id.to_string())
                        .collect::<Vec<_>>()
                        .join(","),
                ),
            ],
        )
        .await?;
        let mut out = Vec::new();
        for record in records {
            let session_date = self
                .store
                .booked_session(record.session_id)
                .await?
                .map(|s| s.booking.date)
                .unwrap_or_else(|| self.today());
            let amended = !self.store.amendments(record.id).await?.is_empty();
            out.push(RecordSummary {
                author: names.get(&record.author).cloned().unwrap_or_default(),
                session_date,
                amended,
                record,
            });
        }
        Ok(out)
    }

    async fn require_record_write(
        &self,
        actor: &Actor,
        session: BookingId,
    ) -> AppResult<(StoredSession, ChildId)> {
        let booked = self.session_of(session).await?;
        let (child, reach, _, _) = self
            .records_gate(actor, booked.case_id, "write session record")
            .await?;
        if !reach.write {
            self.audit_refusal(
                actor,
                "write session record",
                "session",
                session.to_string(),
                child,
            )
            .await?;
            return Err(AppError::Denied(if actor.may_write() {
                "only the case team's therapists write session records on an open case"
            } else {
                "this API token is read-only"
            }));
        }
        Ok((booked, child))
    }

    /// A draft is its author's alone: anyone else is told someone else is writing it.
    async fn require_author_draft(
        &self,
        actor: &Actor,
        record: &StoredSessionRecord,
    ) -> AppResult<()> {
        if record.author != actor.user.id {
            self.audit_refusal(
                actor,
                "edit session record",
                "session-record",
                record.id.to_string(),
                record.child_id,
            )
            .await?;
            return Err(AppError::Conflict(
                "Someone else is writing the record of this session".to_owned(),
            ));
        }
        if record.status != RecordStatus::Draft {
            return Err(Invalid::field(
                "version",
                format!(
                    "This record was signed {}: change it by amendment",
                    record.signed_at.map(uk::date_time).unwrap_or_default()
                ),
            )
            .into());
        }
        Ok(())
    }

    async fn seal_content(
        &self,
        child: ChildId,
        id: Uuid,
        content: &RecordContent,
    ) -> AppResult<Sealed> {
        let plain = serde_json::to_vec(content).map_err(decode_error)?;
        self.seal_record_part(child, "session_records", id, &plain)
            .await
    }

    fn record_batch(
        &self,
        actor: &Actor,
        action: audit::Action,
        id: Uuid,
        child: ChildId,
    ) -> crate::store::AuditBatch<'_> {
        self.audit_batch(
            &actor.origin,
            vec![
                Event::new(
                    action,
                    Some(actor.user.id.to_string()),
                    "session-record",
                    Some(id.to_string()),
                )
                .for_child(child),
            ],
        )
    }

    fn stale_or(
        &self,
        result: Result<StoredSessionRecord, StoreError>,
    ) -> AppResult<StoredSessionRecord> {
        match result {
            Ok(r) => Ok(r),
            Err(StoreError::Stale { current }) => Err(AppError::Stale(current)),
            Err(StoreError::Conflict(name)) if name == "session_records_draft" => Err(
                Invalid::field("version", "This record is still a draft: edit and sign it").into(),
            ),
            Err(StoreError::Conflict(name)) if name == "session_records_signed" => Err(
                Invalid::field("version", "This record is signed: change it by amendment").into(),
            ),
            Err(other) => Err(other.into()),
        }
    }
}
