//! Subject access requests (policy section 5): logging, identity and authority, the due date,
//! the named reviewer's time-limited read of the child's whole record, item decisions, the
//! DSL's review of safeguarding material, and the bundle released through the outbound rule.
//!
//! Who reaches what is `alliance_core::subject_access::reach` (the matrix row "subject access
//! files") and, for the one request a reviewer is named on, `reviewer_may_read`: the request
//! is its own gate, so a reviewer who has no standing with the child still reads the record,
//! for that request and that time only. Everyone else is answered "not found", audited.
//! Records are opened with the key ring and the openers the other areas use
//! (`details_of`, `carers_of`, `open_sg`, `open_concern`, `open_step`); a class whose key is
//! destroyed is left out.

use crate::app::Alliance;
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::store::{
    NewFiring, PauseChange, StoreError, StoredSarItem, StoredSarPause, StoredSubjectAccess,
};
use alliance_core::audit::{self, Category, Event};
use alliance_core::calendar::WorkingCalendar;
use alliance_core::children::{CarerId, ChildDetails, ChildId};
use alliance_core::crypto::{KeyOwner, RecordClass, Sealed, SealedAt};
use alliance_core::identity::{User, UserId};
use alliance_core::outbound::{self, Item, ItemKind as OutboundKind, Recipient};
use alliance_core::subject_access::{
    self as sar, Check, ChecksInput, Competence, Decision, DecisionInput, Due, ItemDecision,
    ItemKind, Opinion, OpinionInput, Pause, PauseReason, Reach, Reason, Representative,
    RequestInput, RequesterKind, Settings, Status,
};
use alliance_core::{Invalid, Version, uk};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use uuid::Uuid;

/// The settings document's name.
const SETTINGS: &str = "subject-access";
/// The record type of a request in the audit trail and in refusals.
pub(crate) const RECORD: &str = "subject-access";
/// How many requests a list holds at most.
const LIST_LIMIT: i64 = 500;

/// A request's reference in lists and titles (`SAR-…`): never whom it is about.
pub fn sar_reference(id: Uuid) -> String {
    crate::safeguarding::short_reference("SAR", id)
}

/// What a request says, sealed under the child's identity key.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Details {
    #[serde(default)]
    representative: Option<Representative>,
    #[serde(default)]
    how_received: String,
    #[serde(default)]
    asked_for: Option<String>,
    #[serde(default)]
    identity: Option<Check>,
    #[serde(default)]
    authority: Option<Check>,
    #[serde(default)]
    competence: Option<Competence>,
    #[serde(default)]
    extension_reason: Option<String>,
    #[serde(default)]
    closing_reason: Option<String>,
}

fn decode_error(e: impl std::fmt::Display) -> AppError {
    AppError::Store(StoreError::Other(format!(
        "a sealed subject access record did not decode: {e}"
    )))
}

fn child_key(child: ChildId, class: RecordClass) -> KeyOwner {
    KeyOwner::Child {
        child: child.to_string(),
        class,
    }
}

fn is_dsl(user: &User) -> bool {
    sar::reach(user).reviews_safeguarding
}

/// How the reader stands to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub reach: Reach,
    /// The named reviewer, inside their window.
    pub reviewer: bool,
    /// May know that safeguarding material exists (the DSL, deputies, the service lead).
    pub sees_safeguarding: bool,
}

/// A check as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckView {
    pub how: String,
    pub on: Date,
    pub by: String,
}

/// A pause as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PauseView {
    pub reason: PauseReason,
    pub started_on: Date,
    pub ended_on: Option<Date>,
}

/// A request in a list.
#[derive(Debug, Clone)]
pub struct SarSummary {
    pub id: Uuid,
    pub reference: String,
    pub child: ChildId,
    pub child_name: String,
    pub requester_kind: RequesterKind,
    pub requester: String,
    pub received_on: Date,
    /// As this reader may see it (the DSL's review reads as review to those who may not know
    /// of safeguarding material).
    pub status: Status,
    pub due: Due,
    pub reviewer: Option<String>,
    pub reviewer_until: Option<Timestamp>,
}

/// The serious-harm opinion as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpinionView {
    /// "Dr A. Shah, Association of Child Psychotherapists (ACP) PYL123", or the outside
    /// professional's name, profession and registration.
    pub from: String,
    pub given_on: Date,
    pub opinion: String,
}

/// What the reader may do with the request now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SarActions {
    pub record_checks: bool,
    pub pause: bool,
    pub resume: bool,
    pub extend: bool,
    pub name_reviewer: bool,
    /// Open the record (the reviewer), the safeguarding items (the DSL) or the file (the
    /// service lead).
    pub open_file: bool,
    pub record_opinion: bool,
    pub finish_review: bool,
    pub finish_dsl_review: bool,
    pub release: bool,
    pub download: bool,
    pub close: bool,
}

/// A request as this reader may see it.
#[derive(Debug, Clone)]
pub struct SarView {
    pub summary: SarSummary,
    pub carer: Option<CarerId>,
    pub representative: Option<Representative>,
    pub how_received: String,
    pub asked_for: Option<String>,
    pub identity: Option<CheckView>,
    pub authority: Option<CheckView>,
    pub competence: Option<Competence>,
    /// The young person's competence and wishes are to be noted (a parent's request, a young
    /// person of about 12 or over).
    pub competence_needed: bool,
    pub pauses: Vec<PauseView>,
    pub extended_on: Option<Date>,
    pub extension_told_on: Option<Date>,
    pub extension_reason: Option<String>,
    /// Why a weekend or bank holiday moved the date, when it did.
    pub moved_for: Option<&'static str>,
    /// The bank holidays do not cover the due date's year: worked out from weekends alone.
    pub holidays_unknown: bool,
    pub opinion: Option<OpinionView>,
    /// Shown to those who may know of safeguarding material.
    pub dsl_reviewed: Option<(String, Timestamp)>,
    pub closed: Option<(String, Timestamp)>,
    pub closing_reason: Option<String>,
    pub version: Version,
    pub may: SarActions,
    pub standing: Standing,
}

/// One labelled part of an item.
pub type Part = (String, String);

/// An item's decision as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionView {
    pub decision: Decision,
    pub reason: Option<Reason>,
    pub words: Option<String>,
    pub passages: Vec<String>,
    pub by: String,
    pub at: Timestamp,
    /// The item changed after it was decided: decide it again.
    pub stale: bool,
}

/// One item of the child's record, as this reader may see it.
#[derive(Debug, Clone)]
pub struct FileItem {
    pub kind: ItemKind,
    pub id: String,
    pub title: String,
    pub when: Option<String>,
    /// For the reviewer and the DSL: as recorded. For the service lead: as it would be
    /// released (passages redacted; nothing for a withheld item).
    pub parts: Vec<Part>,
    pub decision: Option<DecisionView>,
    pub may_decide: bool,
}

/// Who is reading the file, and so what it shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileMode {
    /// The named reviewer: every item (safeguarding items only when they are a DSL).
    Reviewer,
    /// The DSL or a deputy: the safeguarding items.
    Dsl,
    /// The service lead: the decisions, and what the bundle would hold.
    ServiceLead,
}

/// A request's file.
#[derive(Debug, Clone)]
pub struct SarFile {
    pub view: SarView,
    pub mode: FileMode,
    pub items: Vec<FileItem>,
    /// Classes left out because their key was destroyed under the retention policy.
    pub unreadable: Vec<RecordClass>,
    pub undecided: usize,
}

/// One part of an item in the bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundlePart {
    pub label: String,
    pub text: String,
}

/// One item in the bundle: disclosed, or disclosed with passages removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleItem {
    pub kind: String,
    pub title: String,
    pub when: Option<String>,
    pub redacted: bool,
    pub parts: Vec<BundlePart>,
}

/// What was withheld, in general terms: never what it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WithheldLine {
    pub reason: String,
    pub items: usize,
}

/// The bundle as released (and as its JSON download): the disclosed and redacted items and a
/// cover letter; nothing withheld.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bundle {
    pub reference: String,
    pub service: String,
    pub child_name: String,
    pub date_of_birth: String,
    pub requester: String,
    pub received_on: String,
    pub released_on: String,
    pub letter: Vec<String>,
    pub withheld: Vec<WithheldLine>,
    pub items: Vec<BundleItem>,
}

/// An item of the record before any decision.
#[derive(Debug, Clone)]
struct RecordItem {
    kind: ItemKind,
    id: String,
    title: String,
    when: Option<String>,
    sort: (Timestamp, u8),
    parts: Vec<Part>,
}

impl RecordItem {
    fn digest(&self) -> String {
        let mut texts: Vec<&str> = vec![self.title.as_str()];
        texts.extend(
            self.parts
                .iter()
                .flat_map(|(l, t)| [l.as_str(), t.as_str()]),
        );
        sar::digest(&texts)
    }

    /// Where a passage to remove may be: the title and each part's text.
    fn texts(&self) -> Vec<&str> {
        let mut texts = vec![self.title.as_str()];
        texts.extend(self.parts.iter().map(|(_, t)| t.as_str()));
        texts
    }
}

/// The whole record of a child, as the reviewer reads it.
struct Record {
    items: Vec<RecordItem>,
    unreadable: Vec<RecordClass>,
}

/// Words for a JSON key: `own_words` → "Own words".
fn label_of(key: &str) -> String {
    let words = key.replace(['_', '-'], " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A sealed JSON record as labelled parts: strings, numbers and yes/no as they are, lists
/// joined, nested records with their key before each part; empty values left out.
fn parts_of(value: &serde_json::Value) -> Vec<Part> {
    fn walk(prefix: &str, value: &serde_json::Value, out: &mut Vec<Part>) {
        use serde_json::Value as V;
        let text = match value {
            V::Null => return,
            V::Bool(b) => (if *b { "Yes" } else { "No" }).to_owned(),
            V::Number(n) => n.to_string(),
            V::String(s) => s.trim().to_owned(),
            V::Array(items) => {
                if items.iter().all(|i| !i.is_object() && !i.is_array()) {
                    items
                        .iter()
                        .map(|i| match i {
                            V::String(s) => s.clone(),
                            other => other.to_string(),
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                } else {
                    for (n, item) in items.iter().enumerate() {
                        walk(&format!("{prefix} {}", n + 1), item, out);
                    }
                    return;
                }
            }
            V::Object(map) => {
                for (key, v) in map {
                    let label = if prefix.is_empty() {
                        label_of(key)
                    } else {
                        format!("{prefix}: {}", key.replace(['_', '-'], " "))
                    };
                    walk(&label, v, out);
                }
                return;
            }
        };
        if !text.is_empty() {
            out.push((prefix.to_owned(), text));
        }
    }
    let mut out = Vec::new();
    walk("", value, &mut out);
    out
}

fn push(parts: &mut Vec<Part>, label: &str, value: impl Into<String>) {
    let value = value.into();
    if !value.trim().is_empty() {
        parts.push((label.to_owned(), value));
    }
}

fn at_day(day: Date) -> Timestamp {
    uk::london()
        .to_timestamp(day.to_datetime(jiff::civil::Time::midnight()))
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The order items are listed in: identity first, then by kind and time.
fn kind_order(kind: ItemKind) -> u8 {
    ItemKind::ALL
        .iter()
        .position(|k| *k == kind)
        .and_then(|p| u8::try_from(p).ok())
        .unwrap_or(u8::MAX)
}

fn item_row(request: Uuid, kind: ItemKind, item: &str) -> String {
    format!("{request}/{}/{item}", kind.code())
}

impl Alliance {
    // ----- settings -----

    /// The service's subject access figures (defaults from policy section 5 and the ICO).
    pub async fn subject_access_settings(&self) -> AppResult<(Settings, Option<Version>)> {
        Ok(
            match self
                .settings_document::<Settings>(SETTINGS, "subject access settings")
                .await?
            {
                Some((s, v)) => (s, Some(v)),
                None => (Settings::default(), None),
            },
        )
    }

    /// Changes the figures (administrators).
    pub async fn set_subject_access_settings(
        &self,
        actor: &Actor,
        reviewer_days: &str,
        competence_age: &str,
        expected: Option<Version>,
    ) -> AppResult<Settings> {
        self.require(
            actor,
            alliance_core::policy::Action::ManageService,
            "update subject access settings",
            "service",
            None,
        )
        .await?;
        let settings = Settings::parse(reviewer_days, competence_age)?;
        self.put_settings_document(actor, SETTINGS, &settings, expected)
            .await?;
        Ok(settings)
    }

    /// Whether a task about a request may be shown to `user`: the request's own check (the
    /// named reviewer inside their window, or someone who sees requests).
    pub(crate) async fn may_see_sar_subject(
        &self,
        user: &User,
        subject: &alliance_core::tasks::Subject,
    ) -> AppResult<bool> {
        let Ok(id) = Uuid::parse_str(&subject.record_id) else {
            return Ok(false);
        };
        let Some(request) = self.store.subject_access(id).await? else {
            return Ok(false);
        };
        Ok(user.active
            && (sar::reach(user).sees_requests
                || sar::reviewer_may_read(
                    request.status,
                    request.reviewer,
                    request.reviewer_until,
                    user.id,
                    self.clock.now(),
                )))
    }

    // ----- the gate -----

    fn sar_event(
        &self,
        action: audit::Action,
        actor: &Actor,
        request: &StoredSubjectAccess,
    ) -> Event {
        Event::new(
            action,
            Some(actor.user.id.to_string()),
            RECORD,
            Some(request.id.to_string()),
        )
        .for_child(request.child_id)
    }

    /// Refuses, audited: "not found" to someone who may not know of the request.
    async fn sar_not_found(&self, actor: &Actor, id: Uuid, asked: &str) -> AppError {
        let child = match self.store.subject_access(id).await {
            Ok(found) => found.map(|r| r.child_id),
            Err(e) => return e.into(),
        };
        let mut event = Event::new(
            audit::Action::Denied,
            Some(actor.user.id.to_string()),
            RECORD,
            Some(id.to_string()),
        )
        .detail(asked);
        if let Some(child) = child {
            event = event.for_child(child);
        }
        match self.record(&actor.origin, vec![event]).await {
            Ok(()) => AppError::NotFound,
            Err(e) => e.into(),
        }
    }

    /// Refuses, audited, someone who knows of the request but may not do this.
    async fn sar_denied(
        &self,
        actor: &Actor,
        request: &StoredSubjectAccess,
        asked: &str,
        why: &'static str,
    ) -> AppError {
        let event = self
            .sar_event(audit::Action::Denied, actor, request)
            .detail(asked);
        match self.record(&actor.origin, vec![event]).await {
            Ok(()) => AppError::Denied(if actor.may_write() {
                why
            } else {
                "this API token is read-only"
            }),
            Err(e) => e.into(),
        }
    }

    fn sar_standing_for(&self, actor: &Actor, request: &StoredSubjectAccess) -> Standing {
        let reach = sar::reach(&actor.user);
        let reviewer = actor.user.active
            && sar::reviewer_may_read(
                request.status,
                request.reviewer,
                request.reviewer_until,
                actor.user.id,
                self.clock.now(),
            );
        Standing {
            reach,
            reviewer,
            sees_safeguarding: reach.reads_file || reach.reviews_safeguarding,
        }
    }

    /// The request, for a reader who may know of it: the administrator, the service lead, the
    /// DSL and deputies, and the named reviewer inside their window. Anyone else: "not found",
    /// audited.
    async fn sar_gate(
        &self,
        actor: &Actor,
        id: Uuid,
        asked: &str,
    ) -> AppResult<(StoredSubjectAccess, Standing)> {
        let Some(request) = self.store.subject_access(id).await? else {
            return Err(self.sar_not_found(actor, id, asked).await);
        };
        let standing = self.sar_standing_for(actor, &request);
        if !(standing.reach.sees_requests || standing.reviewer) {
            return Err(self.sar_not_found(actor, id, asked).await);
        }
        Ok((request, standing))
    }

    async fn sar_open_details_of(&self, request: &StoredSubjectAccess) -> AppResult<Details> {
        self.open_sg(
            &child_key(request.child_id, RecordClass::Identity),
            "subject_access_requests",
            "details",
            &request.id.to_string(),
            &request.details,
        )
        .await
    }

    async fn sar_seal_json(
        &self,
        owner: &KeyOwner,
        table: &str,
        column: &str,
        row: &str,
        value: &impl Serialize,
    ) -> AppResult<Sealed> {
        self.seal_sg(owner, table, column, row, value).await
    }

    async fn sar_seal_details(
        &self,
        request: &StoredSubjectAccess,
        details: &Details,
    ) -> AppResult<Sealed> {
        self.sar_seal_json(
            &child_key(request.child_id, RecordClass::Identity),
            "subject_access_requests",
            "details",
            &request.id.to_string(),
            details,
        )
        .await
    }

    async fn sar_pauses_of(&self, request: Uuid) -> AppResult<Vec<StoredSarPause>> {
        Ok(self.store.sar_pauses(request).await?)
    }

    fn sar_core_pauses(pauses: &[StoredSarPause]) -> Vec<Pause> {
        pauses
            .iter()
            .map(|p| Pause {
                reason: p.reason,
                started_on: p.started_on,
                ended_on: p.ended_on,
            })
            .collect()
    }

    fn sar_due_of(
        request: &StoredSubjectAccess,
        pauses: &[StoredSarPause],
        calendar: &WorkingCalendar,
    ) -> Due {
        sar::due(
            request.received_on,
            &Self::sar_core_pauses(pauses),
            request.extended_on.is_some(),
            calendar,
        )
    }

    /// The requester's name (the young person's, the carer's, the representative's).
    async fn sar_requester_name(
        &self,
        request: &StoredSubjectAccess,
        details: &Details,
        child: &ChildDetails,
    ) -> AppResult<String> {
        Ok(match request.requester_kind {
            RequesterKind::YoungPerson => child.known_as().to_owned(),
            RequesterKind::ParentalResponsibility => {
                let carers = self.carers_of(request.child_id).await?;
                carers
                    .iter()
                    .find(|c| Some(c.id) == request.carer_id)
                    .map(|c| format!("{} ({})", c.details.name, c.details.relationship))
                    .unwrap_or_else(|| "A former carer".to_owned())
            }
            RequesterKind::Representative => details
                .representative
                .as_ref()
                .map(|r| match &r.organisation {
                    Some(org) => format!("{} ({org})", r.name),
                    None => r.name.clone(),
                })
                .unwrap_or_default(),
        })
    }

    async fn sar_summary_of(
        &self,
        request: &StoredSubjectAccess,
        standing: &Standing,
        calendar: &WorkingCalendar,
        names: &HashMap<UserId, String>,
    ) -> AppResult<(SarSummary, Details, ChildDetails, Vec<StoredSarPause>)> {
        let details = self.sar_open_details_of(request).await?;
        let child = self.details_of(request.child_id).await?;
        let pauses = self.sar_pauses_of(request.id).await?;
        let requester = self.sar_requester_name(request, &details, &child).await?;
        let status = if standing.sees_safeguarding {
            request.status
        } else {
            request.status.without_safeguarding()
        };
        Ok((
            SarSummary {
                id: request.id,
                reference: sar_reference(request.id),
                child: request.child_id,
                child_name: child.known_as().to_owned(),
                requester_kind: request.requester_kind,
                requester,
                received_on: request.received_on,
                status,
                due: Self::sar_due_of(request, &pauses, calendar),
                reviewer: request.reviewer.and_then(|u| names.get(&u).cloned()),
                reviewer_until: request.reviewer_until,
            },
            details,
            child,
            pauses,
        ))
    }

    fn sar_people_of(request: &StoredSubjectAccess, details: &Details) -> Vec<UserId> {
        let mut ids = vec![request.logged_by];
        ids.extend(request.reviewer);
        ids.extend(request.reviewer_named_by);
        ids.extend(request.dsl_reviewed_by);
        ids.extend(request.closed_by);
        ids.extend(details.identity.as_ref().map(|c| c.by));
        ids.extend(details.authority.as_ref().map(|c| c.by));
        ids
    }

    // ----- the list -----

    /// The requests the reader may see: every request for the administrator and the service
    /// lead; for the DSL and deputies, those that reached their review; for a named reviewer,
    /// their own while their window is open. One audit entry names the requests shown.
    pub async fn list_subject_access(&self, actor: &Actor) -> AppResult<Vec<SarSummary>> {
        let reach = sar::reach(&actor.user);
        let calendar = self.working_calendar().await?;
        let all = self.store.subject_access_requests(LIST_LIMIT).await?;
        let mut shown = Vec::new();
        for request in &all {
            let standing = self.sar_standing_for(actor, request);
            let visible = reach.logs
                || reach.reads_file
                || standing.reviewer
                || (reach.reviews_safeguarding
                    && (request.status == Status::DslReview || request.dsl_reviewed_by.is_some()));
            if visible {
                shown.push((request, standing));
            }
        }
        let ids: Vec<UserId> = shown.iter().filter_map(|(r, _)| r.reviewer).collect();
        let names = self.staff_names(&ids).await?;
        let mut out = Vec::with_capacity(shown.len());
        for (request, standing) in &shown {
            let (summary, ..) = self
                .sar_summary_of(request, standing, &calendar, &names)
                .await?;
            out.push(summary);
        }
        if !out.is_empty() {
            let ids: Vec<String> = out.iter().map(|s| s.id.to_string()).collect();
            self.record(
                &actor.origin,
                vec![
                    Event::new(
                        audit::Action::ChildrenListed,
                        Some(actor.user.id.to_string()),
                        RECORD,
                        None,
                    )
                    .detail(&ids.join(",")),
                ],
            )
            .await?;
        }
        Ok(out)
    }

    /// A child's requests, for the child's page: the administrator and the service lead.
    pub async fn child_subject_access(
        &self,
        actor: &Actor,
        child: ChildId,
    ) -> AppResult<Vec<SarSummary>> {
        let all = self.list_subject_access(actor).await?;
        Ok(all.into_iter().filter(|s| s.child == child).collect())
    }

    // ----- logging and the checks -----

    /// Logs a request (administrators): the requester, the day it was received, how.
    pub async fn log_subject_access(
        &self,
        actor: &Actor,
        child: ChildId,
        input: &RequestInput,
    ) -> AppResult<Uuid> {
        let asked = "log subject access request";
        let reach = sar::reach(&actor.user);
        if !reach.sees_requests {
            // Someone who may not know of subject access files: as for a child not found.
            self.audit_refusal(actor, asked, RECORD, child.to_string(), child)
                .await?;
            return Err(AppError::NotFound);
        }
        self.get_child_gate(actor, child, asked).await?;
        if !(reach.logs && actor.may_write()) {
            self.audit_refusal(actor, asked, RECORD, child.to_string(), child)
                .await?;
            return Err(AppError::Denied(if actor.may_write() {
                "only an administrator logs a subject access request"
            } else {
                "this API token is read-only"
            }));
        }
        let parsed = sar::parse_request(input, self.today())?;
        let carer = match &parsed.carer {
            Some(raw) => {
                let id = CarerId::parse(raw).map_err(|m| Invalid::field("carer", m))?;
                let carers = self.carers_of(child).await?;
                match carers.iter().find(|c| c.id == id) {
                    Some(c) if c.active && c.details.parental_responsibility.is_some() => Some(id),
                    Some(_) => {
                        return Err(Invalid::field(
                            "carer",
                            "This carer has no parental responsibility recorded: record it first, or log the request as a representative's",
                        )
                        .into());
                    }
                    None => {
                        return Err(
                            Invalid::field("carer", "Choose one of the child's carers").into()
                        );
                    }
                }
            }
            None => None,
        };
        let id = self.new_id();
        let now = self.clock.now();
        let details = Details {
            representative: parsed.representative,
            how_received: parsed.how_received,
            asked_for: parsed.asked_for,
            ..Details::default()
        };
        let mut request = StoredSubjectAccess {
            id,
            child_id: child,
            requester_kind: parsed.kind,
            carer_id: carer,
            details: Sealed::from_stored(Vec::new()),
            received_on: parsed.received_on,
            status: Status::Logged,
            extended_on: None,
            extension_told_on: None,
            reviewer: None,
            reviewer_until: None,
            reviewer_named_by: None,
            opinion: None,
            dsl_reviewed_by: None,
            dsl_reviewed_at: None,
            bundle: None,
            closed_by: None,
            closed_at: None,
            logged_by: actor.user.id,
            version: Version::FIRST,
            created_at: now,
            updated_at: now,
        };
        request.details = self.sar_seal_details(&request, &details).await?;
        let audit = self.audit_batch(
            &actor.origin,
            vec![self.sar_event(audit::Action::SubjectAccessLogged, actor, &request)],
        );
        self.store.create_subject_access(&request, &audit).await?;
        Ok(id)
    }

    /// The request as the reader may see it (its facts; never the record's content).
    pub async fn subject_access_view(&self, actor: &Actor, id: Uuid) -> AppResult<SarView> {
        let (request, standing) = self
            .sar_gate(actor, id, "read subject access request")
            .await?;
        let view = self.sar_view_of(actor, &request, standing).await?;
        self.record(
            &actor.origin,
            vec![self.sar_event(audit::Action::ChildRead, actor, &request)],
        )
        .await?;
        Ok(view)
    }

    async fn sar_view_of(
        &self,
        actor: &Actor,
        request: &StoredSubjectAccess,
        standing: Standing,
    ) -> AppResult<SarView> {
        let calendar = self.working_calendar().await?;
        let details = self.sar_open_details_of(request).await?;
        let names = self
            .staff_names(&Self::sar_people_of(request, &details))
            .await?;
        let name = |u: &UserId| names.get(u).cloned().unwrap_or_default();
        let (summary, details, child, pauses) = self
            .sar_summary_of(request, &standing, &calendar, &names)
            .await?;
        let (settings, _) = self.subject_access_settings().await?;
        let parents =
            sar::on_parents_behalf(request.requester_kind, details.representative.as_ref());
        let competence_needed = sar::competence_needed(
            parents,
            child.date_of_birth,
            request.received_on,
            settings.competence_age,
        );
        let (moved_for, holidays_unknown) = match summary.due {
            Due::On(d) => (d.moved_for(&calendar), !calendar.covers(d.date)),
            Due::Paused { .. } => (None, false),
        };
        let opinion = if standing.reach.reads_file
            || standing.reviewer
            || standing.reach.reviews_safeguarding
        {
            match &request.opinion {
                Some(sealed) => {
                    let o: Opinion = self
                        .open_sg(
                            &child_key(request.child_id, RecordClass::Clinical),
                            "subject_access_requests",
                            "opinion",
                            &request.id.to_string(),
                            sealed,
                        )
                        .await?;
                    Some(OpinionView {
                        from: match &o.from {
                            sar::OpinionFrom::Staff {
                                name,
                                registration,
                                number,
                                ..
                            } => format!(
                                "{name}, {}{}",
                                registration.label(),
                                number.as_ref().map(|n| format!(" {n}")).unwrap_or_default()
                            ),
                            sar::OpinionFrom::Outside {
                                name,
                                profession,
                                registration,
                            } => format!(
                                "{name}, {profession} ({registration}), outside the service"
                            ),
                        },
                        given_on: o.given_on,
                        opinion: o.opinion,
                    })
                }
                None => None,
            }
        } else {
            None
        };
        let status = request.status;
        let open = status.is_open();
        let writes = actor.may_write();
        let reach = standing.reach;
        let manages = reach.logs || reach.names_reviewer;
        let may = SarActions {
            record_checks: writes
                && reach.logs
                && matches!(status, Status::Logged | Status::Paused | Status::Checked),
            pause: writes
                && manages
                && matches!(status, Status::Logged | Status::Checked | Status::InReview),
            resume: writes && manages && status == Status::Paused,
            extend: writes
                && manages
                && open
                && status != Status::Paused
                && request.extended_on.is_none(),
            name_reviewer: writes
                && reach.names_reviewer
                && matches!(status, Status::Checked | Status::InReview),
            open_file: standing.reviewer
                || (reach.reviews_safeguarding
                    && (status == Status::DslReview || request.dsl_reviewed_by.is_some()))
                || (reach.reads_file
                    && matches!(
                        status,
                        Status::InReview | Status::DslReview | Status::Ready | Status::Released
                    )),
            record_opinion: writes && standing.reviewer && status == Status::InReview,
            finish_review: writes && standing.reviewer && status == Status::InReview,
            finish_dsl_review: writes && reach.reviews_safeguarding && status == Status::DslReview,
            release: writes && reach.releases && status == Status::Ready,
            download: reach.releases && status == Status::Released,
            close: writes && reach.closes && open,
        };
        Ok(SarView {
            carer: request.carer_id,
            representative: details.representative.clone(),
            how_received: details.how_received.clone(),
            asked_for: details.asked_for.clone(),
            identity: details.identity.as_ref().map(|c| CheckView {
                how: c.how.clone(),
                on: c.on,
                by: name(&c.by),
            }),
            authority: details.authority.as_ref().map(|c| CheckView {
                how: c.how.clone(),
                on: c.on,
                by: name(&c.by),
            }),
            competence: details.competence.clone(),
            competence_needed,
            pauses: pauses
                .iter()
                .map(|p| PauseView {
                    reason: p.reason,
                    started_on: p.started_on,
                    ended_on: p.ended_on,
                })
                .collect(),
            extended_on: request.extended_on,
            extension_told_on: request.extension_told_on,
            extension_reason: details.extension_reason.clone(),
            moved_for,
            holidays_unknown,
            opinion,
            dsl_reviewed: if standing.sees_safeguarding {
                request
                    .dsl_reviewed_by
                    .zip(request.dsl_reviewed_at)
                    .map(|(u, at)| (name(&u), at))
            } else {
                None
            },
            closed: request
                .closed_by
                .zip(request.closed_at)
                .map(|(u, at)| (name(&u), at)),
            closing_reason: details.closing_reason.clone(),
            version: request.version,
            may,
            standing,
            summary,
        })
    }

    /// Loads a request for a change by someone who may make it, at `expected`.
    async fn sar_for_change(
        &self,
        actor: &Actor,
        id: Uuid,
        asked: &str,
        allowed: impl Fn(&Standing) -> bool,
        why: &'static str,
    ) -> AppResult<(StoredSubjectAccess, Standing)> {
        let (request, standing) = self.sar_gate(actor, id, asked).await?;
        if !(allowed(&standing) && actor.may_write()) {
            return Err(self.sar_denied(actor, &request, asked, why).await);
        }
        Ok((request, standing))
    }

    fn sar_conflict(err: StoreError) -> AppError {
        match err {
            StoreError::Conflict(c) if c.contains("closed") => AppError::Conflict(
                "this request is closed (released, refused or withdrawn): it cannot change"
                    .to_owned(),
            ),
            StoreError::Conflict(c) if c.contains("one_open") => {
                AppError::Conflict("the clock is already paused".to_owned())
            }
            StoreError::Conflict(c) if c.contains("none_open") => {
                AppError::Conflict("the clock is not paused".to_owned())
            }
            other => other.into(),
        }
    }

    async fn sar_write_change(
        &self,
        actor: &Actor,
        request: &StoredSubjectAccess,
        expected: Version,
        pause: Option<PauseChange>,
        events: Vec<Event>,
    ) -> AppResult<StoredSubjectAccess> {
        let mut changed = request.clone();
        changed.updated_at = self.clock.now();
        let audit = self.audit_batch(&actor.origin, events);
        self.store
            .update_subject_access(&changed, expected, pause, &audit)
            .await
            .map_err(Self::sar_conflict)
    }

    fn sar_wrong_status(what: &str) -> AppError {
        AppError::Conflict(format!(
            "{what} cannot be done while the request stands as it does"
        ))
    }

    /// Records identity, authority and (for a parent's request about a young person of about
    /// 12 or over) the young person's competence and wishes. A logged request becomes checked.
    pub async fn record_sar_checks(
        &self,
        actor: &Actor,
        id: Uuid,
        input: &ChecksInput,
        expected: Version,
    ) -> AppResult<()> {
        let (mut request, _) = self
            .sar_for_change(
                actor,
                id,
                "record subject access checks",
                |s| s.reach.logs,
                "only an administrator records the checks",
            )
            .await?;
        if !matches!(
            request.status,
            Status::Logged | Status::Paused | Status::Checked
        ) {
            return Err(Self::sar_wrong_status("Recording the checks"));
        }
        let mut details = self.sar_open_details_of(&request).await?;
        let child = self.details_of(request.child_id).await?;
        let (settings, _) = self.subject_access_settings().await?;
        let parents =
            sar::on_parents_behalf(request.requester_kind, details.representative.as_ref());
        let needs = sar::competence_needed(
            parents,
            child.date_of_birth,
            request.received_on,
            settings.competence_age,
        );
        let checks = sar::parse_checks(
            input,
            request.requester_kind,
            needs,
            request.received_on,
            self.today(),
            actor.user.id,
        )?;
        details.identity = Some(checks.identity);
        details.authority = checks.authority;
        details.competence = checks.competence;
        request.details = self.sar_seal_details(&request, &details).await?;
        if request.status == Status::Logged {
            request.status = Status::Checked;
        }
        let event = self
            .sar_event(audit::Action::SubjectAccessUpdated, actor, &request)
            .detail("checked");
        self.sar_write_change(actor, &request, expected, None, vec![event])
            .await?;
        Ok(())
    }

    /// Stops the clock while identity or clarification is awaited.
    pub async fn pause_sar(
        &self,
        actor: &Actor,
        id: Uuid,
        reason: &str,
        started_on: &str,
        expected: Version,
    ) -> AppResult<()> {
        let (mut request, _) = self
            .sar_for_change(
                actor,
                id,
                "pause subject access request",
                |s| s.reach.logs || s.reach.names_reviewer,
                "only an administrator or the service lead stops the clock",
            )
            .await?;
        if !matches!(
            request.status,
            Status::Logged | Status::Checked | Status::InReview
        ) {
            return Err(Self::sar_wrong_status("Pausing the clock"));
        }
        let mut v = alliance_core::Validator::new();
        let reason = v.check("reason", PauseReason::parse(reason));
        let started = v.check("started_on", alliance_core::error::parse_date(started_on));
        v.finish()?;
        let (Some(reason), Some(started)) = (reason, started) else {
            return Err(Invalid::field("reason", "Choose what is awaited").into());
        };
        let pauses = self.sar_pauses_of(id).await?;
        sar::check_pause_start(
            request.received_on,
            started,
            self.today(),
            &Self::sar_core_pauses(&pauses),
        )?;
        request.status = Status::Paused;
        let pause = StoredSarPause {
            id: self.new_id(),
            request_id: id,
            reason,
            started_on: started,
            ended_on: None,
            started_by: actor.user.id,
            ended_by: None,
            created_at: self.clock.now(),
        };
        let event = self
            .sar_event(audit::Action::SubjectAccessUpdated, actor, &request)
            .detail("paused");
        self.sar_write_change(
            actor,
            &request,
            expected,
            Some(PauseChange::Start(pause)),
            vec![event],
        )
        .await?;
        Ok(())
    }

    /// Restarts the clock (what was awaited arrived on `ended_on`).
    pub async fn resume_sar(
        &self,
        actor: &Actor,
        id: Uuid,
        ended_on: &str,
        expected: Version,
    ) -> AppResult<()> {
        let (mut request, _) = self
            .sar_for_change(
                actor,
                id,
                "resume subject access request",
                |s| s.reach.logs || s.reach.names_reviewer,
                "only an administrator or the service lead restarts the clock",
            )
            .await?;
        if request.status != Status::Paused {
            return Err(Self::sar_wrong_status("Restarting the clock"));
        }
        let ended = alliance_core::error::parse_date(ended_on)
            .map_err(|m| Invalid::field("ended_on", m))?;
        let pauses = self.sar_pauses_of(id).await?;
        let Some(open) = Self::sar_core_pauses(&pauses)
            .into_iter()
            .find(|p| p.ended_on.is_none())
        else {
            return Err(AppError::Conflict("the clock is not paused".to_owned()));
        };
        sar::check_pause_end(&open, ended, self.today())?;
        let details = self.sar_open_details_of(&request).await?;
        request.status =
            Status::after_pause(details.identity.is_some(), request.reviewer.is_some());
        let event = self
            .sar_event(audit::Action::SubjectAccessUpdated, actor, &request)
            .detail("resumed");
        self.sar_write_change(
            actor,
            &request,
            expected,
            Some(PauseChange::End {
                ended_on: ended,
                by: actor.user.id,
            }),
            vec![event],
        )
        .await?;
        Ok(())
    }

    /// Extends the time limit by two further months: the requester told (within the first
    /// month) on `told_on`, with the reason.
    pub async fn extend_sar(
        &self,
        actor: &Actor,
        id: Uuid,
        told_on: &str,
        reason: &str,
        expected: Version,
    ) -> AppResult<()> {
        let (mut request, _) = self
            .sar_for_change(
                actor,
                id,
                "extend subject access request",
                |s| s.reach.logs || s.reach.names_reviewer,
                "only an administrator or the service lead extends the time limit",
            )
            .await?;
        if !request.status.is_open() || request.status == Status::Paused {
            return Err(Self::sar_wrong_status("Extending the time limit"));
        }
        if request.extended_on.is_some() {
            return Err(AppError::Conflict(
                "the time limit has been extended already".to_owned(),
            ));
        }
        let mut v = alliance_core::Validator::new();
        let told = v.check("told_on", alliance_core::error::parse_date(told_on));
        let reason = v.check(
            "extension_reason",
            alliance_core::error::parse_text(reason, 1, 1000).map_err(|_| {
                "Say why (the request is complex, or one of several from this person)".to_owned()
            }),
        );
        v.finish()?;
        let (Some(told), Some(reason)) = (told, reason) else {
            return Err(Invalid::field("told_on", "Enter the day the requester was told").into());
        };
        let calendar = self.working_calendar().await?;
        let pauses = self.sar_pauses_of(id).await?;
        sar::check_extension(
            request.received_on,
            &Self::sar_core_pauses(&pauses),
            &calendar,
            told,
            self.today(),
        )?;
        let mut details = self.sar_open_details_of(&request).await?;
        details.extension_reason = Some(reason);
        request.details = self.sar_seal_details(&request, &details).await?;
        request.extended_on = Some(self.today());
        request.extension_told_on = Some(told);
        let event = self
            .sar_event(audit::Action::SubjectAccessUpdated, actor, &request)
            .detail("extended");
        self.sar_write_change(actor, &request, expected, None, vec![event])
            .await?;
        Ok(())
    }

    /// Names the reviewer (the service lead or an administrator): for the service's number of
    /// days from now they read the child's whole record for this request.
    pub async fn name_sar_reviewer(
        &self,
        actor: &Actor,
        id: Uuid,
        reviewer: &str,
        expected: Version,
    ) -> AppResult<()> {
        let (mut request, _) = self
            .sar_for_change(
                actor,
                id,
                "name subject access reviewer",
                |s| s.reach.names_reviewer,
                "only the service lead or an administrator names the reviewer",
            )
            .await?;
        if !matches!(request.status, Status::Checked | Status::InReview) {
            return Err(Self::sar_wrong_status(
                "Naming the reviewer (identity and authority are checked first)",
            ));
        }
        let chosen = UserId::parse(reviewer)
            .map_err(|_| Invalid::field("reviewer", "Choose the reviewer"))?;
        let user = self.store.user(chosen).await?;
        let Some(user) = user.filter(sar::may_be_reviewer) else {
            return Err(Invalid::field(
                "reviewer",
                "Choose an active clinician (a therapist, supervisor, the service lead or a DSL)",
            )
            .into());
        };
        let (settings, _) = self.subject_access_settings().await?;
        let now = self.clock.now();
        request.reviewer = Some(user.id);
        request.reviewer_named_by = Some(actor.user.id);
        request.reviewer_until = Some(
            now.checked_add(jiff::SignedDuration::from_hours(
                24 * i64::from(settings.reviewer_days),
            ))
            .unwrap_or(now),
        );
        request.status = Status::InReview;
        let event = self
            .sar_event(audit::Action::SubjectAccessReviewerNamed, actor, &request)
            .detail(&user.id.to_string());
        // The reviewer's task, committed with the naming: it points at the request, and shows
        // only while they may reach it.
        let mut changed = request.clone();
        changed.updated_at = now;
        let mut audit = self.audit_batch(&actor.origin, vec![event]);
        audit.follow_ups.push(NewFiring {
            id: alliance_core::tasks::FiringId(self.new_id()),
            rule: alliance_core::tasks::Rule::ReviewSubjectAccess,
            fire_at: now,
            recipient: alliance_core::tasks::Recipient::User(user.id),
            subject: Some(alliance_core::tasks::Subject {
                child: Some(request.child_id),
                record_type: RECORD.to_owned(),
                record_id: request.id.to_string(),
            }),
            reference: sar_reference(request.id),
            dedupe_key: format!(
                "{RECORD}:{}:review:{}:{}",
                request.id,
                user.id,
                expected.get()
            ),
        });
        self.store
            .update_subject_access(&changed, expected, None, &audit)
            .await
            .map_err(Self::sar_conflict)?;
        Ok(())
    }

    /// Refuses the request (manifestly unfounded or excessive) or closes it as withdrawn,
    /// with the reason (the service lead or an administrator).
    pub async fn close_sar(
        &self,
        actor: &Actor,
        id: Uuid,
        outcome: &str,
        reason: &str,
        expected: Version,
    ) -> AppResult<()> {
        let (mut request, _) = self
            .sar_for_change(
                actor,
                id,
                "close subject access request",
                |s| s.reach.closes,
                "only the service lead or an administrator closes a request",
            )
            .await?;
        let mut v = alliance_core::Validator::new();
        let status = v.check(
            "outcome",
            match outcome.trim() {
                "refused" => Ok(Status::Refused),
                "withdrawn" => Ok(Status::Withdrawn),
                _ => Err("Choose refused or withdrawn".to_owned()),
            },
        );
        let reason = v.check(
            "closing_reason",
            alliance_core::error::parse_text(reason, 1, 2000)
                .map_err(|_| "Give the reason".to_owned()),
        );
        v.finish()?;
        let (Some(status), Some(reason)) = (status, reason) else {
            return Err(Invalid::field("outcome", "Choose refused or withdrawn").into());
        };
        if !request.status.is_open() {
            return Err(Self::sar_conflict(StoreError::Conflict(
                "closed".to_owned(),
            )));
        }
        let mut details = self.sar_open_details_of(&request).await?;
        details.closing_reason = Some(reason);
        request.details = self.sar_seal_details(&request, &details).await?;
        request.status = status;
        request.closed_by = Some(actor.user.id);
        request.closed_at = Some(self.clock.now());
        let event = self
            .sar_event(audit::Action::SubjectAccessUpdated, actor, &request)
            .detail(status.code());
        self.sar_write_change(actor, &request, expected, None, vec![event])
            .await?;
        Ok(())
    }

    // ----- the record -----

    /// The classes of the child's record whose key can be used (destroyed ones are not).
    async fn sar_readable_classes(&self, child: ChildId) -> AppResult<HashSet<RecordClass>> {
        let owners: Vec<KeyOwner> = RecordClass::ALL
            .into_iter()
            .map(|c| child_key(child, c))
            .collect();
        let keys = self.keys.existing_data_keys(&owners).await?;
        Ok(RecordClass::ALL
            .into_iter()
            .filter(|c| keys.contains_key(&child_key(child, *c)))
            .collect())
    }

    async fn sar_open_text(
        &self,
        owner: &KeyOwner,
        table: &str,
        column: &str,
        row: &str,
        sealed: &Sealed,
    ) -> AppResult<String> {
        let plain = self
            .keys
            .open(
                owner,
                sealed,
                SealedAt { table, column, row },
                self.clock.now(),
            )
            .await
            .map_err(AppError::from)?;
        Ok(String::from_utf8_lossy(&plain).into_owned())
    }

    /// Every item of the child's record (the safeguarding items when `safeguarding`), opened.
    async fn sar_whole_record(&self, child: ChildId, safeguarding: bool) -> AppResult<Record> {
        let readable = self.sar_readable_classes(child).await?;
        let clinical = readable.contains(&RecordClass::Clinical);
        let mut items: Vec<RecordItem> = Vec::new();
        let cases = self.store.cases_of(child).await?;
        let mut staff: Vec<UserId> = cases
            .iter()
            .flat_map(|c| c.case.team.iter().map(|m| m.user_id))
            .collect();
        // Identity: the child, and each carer.
        if readable.contains(&RecordClass::Identity) {
            let details = self.details_of(child).await?;
            let value = serde_json::to_value(&details).map_err(decode_error)?;
            items.push(RecordItem {
                kind: ItemKind::Identity,
                id: child.to_string(),
                title: "The child's details".to_owned(),
                when: None,
                sort: (Timestamp::UNIX_EPOCH, 0),
                parts: parts_of(&value),
            });
            for carer in self.carers_of(child).await? {
                let value = serde_json::to_value(&carer.details).map_err(decode_error)?;
                items.push(RecordItem {
                    kind: ItemKind::Carer,
                    id: carer.id.to_string(),
                    title: format!(
                        "Carer: {} ({})",
                        carer.details.name, carer.details.relationship
                    ),
                    when: None,
                    sort: (carer.created_at, 0),
                    parts: parts_of(&value),
                });
            }
        }
        let clinical_key = child_key(child, RecordClass::Clinical);
        // Per case: the case itself, its agreements, consent, session records, contacts.
        let mut case_records = Vec::new();
        for stored in &cases {
            let case = &stored.case;
            let number = case.number_label();
            let mut parts = Vec::new();
            push(&mut parts, "Case number", number.clone());
            push(
                &mut parts,
                "Referral from",
                case.details.referral_source.label(),
            );
            push(
                &mut parts,
                "Referral received",
                uk::date(case.details.referral_received),
            );
            if let Some(seen) = case.details.first_seen {
                push(&mut parts, "First seen", uk::date(seen));
            }
            if clinical && let Some(sealed) = &stored.sealed_reason {
                let text = self
                    .sar_open_text(
                        &clinical_key,
                        "cases",
                        "referral_reason",
                        &case.id.to_string(),
                        sealed,
                    )
                    .await?;
                push(&mut parts, "Referral reason", text);
            }
            if let Some(closure) = &case.closure {
                push(&mut parts, "Closed on", uk::date(closure.closed_on));
                push(&mut parts, "Why it closed", closure.reason.label());
            }
            if clinical && let Some(sealed) = &stored.sealed_summary {
                let text = self
                    .sar_open_text(
                        &clinical_key,
                        "cases",
                        "closing_summary",
                        &case.id.to_string(),
                        sealed,
                    )
                    .await?;
                push(&mut parts, "Closing summary", text);
            }
            case_records.push((case.clone(), parts));
        }
        // Names of the case teams, then the items that name staff.
        let mut agreements = Vec::new();
        let mut consents = Vec::new();
        let mut records = Vec::new();
        let mut contacts = Vec::new();
        if clinical {
            for stored in &cases {
                let case_id = stored.case.id;
                for a in self.store.agreements_of_case(case_id).await? {
                    staff.push(a.created_by);
                    agreements.push((stored.case.number_label(), a));
                }
                for e in self.store.consent_entries(case_id).await? {
                    staff.extend(e.recorded_by);
                    consents.push((stored.case.number_label(), e));
                }
                for r in self.store.session_records_of_case(case_id).await? {
                    staff.push(r.author);
                    let amendments = self.store.amendments(r.id).await?;
                    staff.extend(amendments.iter().map(|a| a.author));
                    records.push((stored.case.number_label(), r, amendments));
                }
                for c in self.store.contacts_of_case(case_id).await? {
                    staff.push(c.recorded_by);
                    contacts.push((stored.case.number_label(), c));
                }
            }
        }
        let checklist = if clinical {
            self.store.checklist_of_child(child).await?
        } else {
            Vec::new()
        };
        staff.extend(checklist.iter().map(|c| c.recorded_by));
        let notes = if readable.contains(&RecordClass::ProcessNotes) {
            self.store.process_notes_of_child(child).await?
        } else {
            Vec::new()
        };
        staff.extend(notes.iter().map(|n| n.author));
        let numbers: Vec<String> = cases.iter().map(|c| c.case.number_label()).collect();
        let supervisions = self.store.supervisions_naming(&numbers).await?;
        for s in &supervisions {
            staff.push(s.supervisor);
            staff.push(s.supervisee);
        }
        let concerns = if safeguarding && readable.contains(&RecordClass::Safeguarding) {
            let mut out = Vec::new();
            for c in self.store.concerns_of_child(child).await? {
                // A concern about another child that names this one is that child's record.
                if c.child_id != Some(child) {
                    continue;
                }
                staff.push(c.author);
                let steps = self.store.concern_steps(c.id).await?;
                let addenda = self.store.concern_addenda(c.id).await?;
                staff.extend(steps.iter().map(|s| s.actor));
                staff.extend(addenda.iter().map(|a| a.author));
                out.push((c, steps, addenda));
            }
            out
        } else {
            Vec::new()
        };
        let names = self.staff_names(&staff).await?;
        let name = |u: &UserId| names.get(u).cloned().unwrap_or_default();

        for (case, mut parts) in case_records {
            let team: Vec<String> = case
                .team
                .iter()
                .map(|m| {
                    format!(
                        "{} ({}, from {}{})",
                        name(&m.user_id),
                        m.role.label(),
                        uk::date(m.starts_on),
                        m.ends_on
                            .map(|e| format!(" until {}", uk::date(e)))
                            .unwrap_or_default()
                    )
                })
                .collect();
            push(&mut parts, "Case team", team.join("; "));
            items.push(RecordItem {
                kind: ItemKind::Case,
                id: case.id.to_string(),
                title: format!("Case {}", case.number_label()),
                when: Some(uk::date(case.details.referral_received)),
                sort: (at_day(case.details.referral_received), 0),
                parts,
            });
        }
        for (number, a) in agreements {
            let value: serde_json::Value = self
                .open_sg(
                    &clinical_key,
                    "agreements",
                    "content",
                    &a.id.to_string(),
                    &a.content,
                )
                .await?;
            let mut parts = vec![
                ("Case".to_owned(), number.clone()),
                ("Version".to_owned(), a.number.to_string()),
                (
                    "Status".to_owned(),
                    format!("{:?}", a.status).to_lowercase(),
                ),
                ("Written by".to_owned(), name(&a.created_by)),
            ];
            parts.extend(parts_of(&value));
            items.push(RecordItem {
                kind: ItemKind::Agreement,
                id: a.id.to_string(),
                title: format!("Therapy agreement, version {} ({number})", a.number),
                when: Some(uk::date_time(a.created_at)),
                sort: (a.created_at, 0),
                parts,
            });
        }
        for (number, e) in consents {
            let value: serde_json::Value = self
                .open_sg(
                    &clinical_key,
                    "consent_entries",
                    "detail",
                    &e.id.to_string(),
                    &e.detail,
                )
                .await?;
            let mut parts = vec![
                ("Case".to_owned(), number.clone()),
                ("What".to_owned(), e.kind.label().to_owned()),
                ("Given on".to_owned(), uk::date(e.given_on)),
                ("How".to_owned(), e.via.label().to_owned()),
            ];
            if let Some(by) = e.recorded_by {
                parts.push(("Recorded by".to_owned(), name(&by)));
            }
            parts.extend(parts_of(&value));
            items.push(RecordItem {
                kind: ItemKind::ConsentEntry,
                id: e.id.to_string(),
                title: format!("{} ({number})", e.kind.label()),
                when: Some(uk::date(e.given_on)),
                sort: (e.recorded_at, 0),
                parts,
            });
        }
        for c in checklist {
            let value: serde_json::Value = self
                .open_sg(
                    &clinical_key,
                    "checklist_items",
                    "words",
                    &c.id.to_string(),
                    &c.words,
                )
                .await?;
            let mut parts = vec![
                ("Topic".to_owned(), label_of(&c.topic)),
                ("Explained on".to_owned(), uk::date(c.explained_on)),
                ("To whom".to_owned(), c.to_whom.clone()),
                ("How".to_owned(), c.methods.join(", ")),
                ("Recorded by".to_owned(), name(&c.recorded_by)),
            ];
            parts.extend(parts_of(&value));
            items.push(RecordItem {
                kind: ItemKind::ChecklistItem,
                id: c.id.to_string(),
                title: format!("First-session checklist: {}", label_of(&c.topic)),
                when: Some(uk::date(c.explained_on)),
                sort: (c.recorded_at, 0),
                parts,
            });
        }
        for (number, r, amendments) in records {
            let value: serde_json::Value = self
                .open_sg(
                    &clinical_key,
                    "session_records",
                    "content",
                    &r.id.to_string(),
                    &r.content,
                )
                .await?;
            let mut parts = vec![
                ("Case".to_owned(), number.clone()),
                ("Written by".to_owned(), name(&r.author)),
                (
                    "Status".to_owned(),
                    format!("{:?}", r.status).to_lowercase(),
                ),
            ];
            parts.extend(parts_of(&value));
            for a in amendments {
                let value: serde_json::Value = self
                    .open_sg(
                        &clinical_key,
                        "session_record_amendments",
                        "content",
                        &a.id.to_string(),
                        &a.content,
                    )
                    .await?;
                let head = format!(
                    "Amendment of {} by {}",
                    uk::date_time(a.created_at),
                    name(&a.author)
                );
                for (label, text) in parts_of(&value) {
                    parts.push((format!("{head}: {label}"), text));
                }
            }
            items.push(RecordItem {
                kind: ItemKind::SessionRecord,
                id: r.id.to_string(),
                title: format!("Session record ({number})"),
                when: Some(uk::date_time(r.created_at)),
                sort: (r.created_at, 0),
                parts,
            });
        }
        for (number, c) in contacts {
            let value: serde_json::Value = self
                .open_sg(
                    &clinical_key,
                    "contact_logs",
                    "detail",
                    &c.id.to_string(),
                    &c.detail,
                )
                .await?;
            let mut parts = vec![
                ("Case".to_owned(), number.clone()),
                ("Recorded by".to_owned(), name(&c.recorded_by)),
            ];
            parts.extend(parts_of(&value));
            items.push(RecordItem {
                kind: ItemKind::ContactLog,
                id: c.id.to_string(),
                title: format!("Contact on {} ({number})", uk::date(c.contacted_on)),
                when: Some(uk::date(c.contacted_on)),
                sort: (c.recorded_at, 0),
                parts,
            });
        }
        let notes_key = child_key(child, RecordClass::ProcessNotes);
        for n in notes {
            let text = self
                .sar_open_text(
                    &notes_key,
                    "process_notes",
                    "text",
                    &n.id.to_string(),
                    &n.text,
                )
                .await?;
            items.push(RecordItem {
                kind: ItemKind::ProcessNote,
                id: n.id.to_string(),
                title: format!("Process note by {}", name(&n.author)),
                when: Some(uk::date_time(n.created_at)),
                sort: (n.created_at, 0),
                parts: vec![("Note".to_owned(), text)],
            });
        }
        let supervision_key = KeyOwner::Service {
            purpose: "supervision".to_owned(),
        };
        for s in supervisions {
            let text = self
                .sar_open_text(
                    &supervision_key,
                    "supervisions",
                    "actions",
                    &s.id.to_string(),
                    &s.actions,
                )
                .await?;
            items.push(RecordItem {
                kind: ItemKind::Supervision,
                id: s.id.to_string(),
                title: format!(
                    "Supervision of {} by {}",
                    name(&s.supervisee),
                    name(&s.supervisor)
                ),
                when: Some(uk::date(s.held_on)),
                sort: (at_day(s.held_on), 0),
                parts: vec![
                    ("Cases discussed".to_owned(), s.cases.join(", ")),
                    ("Actions agreed".to_owned(), text),
                ],
            });
        }
        for (concern, steps, addenda) in concerns {
            let reference = crate::safeguarding::concern_reference(concern.kind, concern.id);
            let (content, _) = self.open_concern(&concern).await?;
            let value = serde_json::to_value(&content).map_err(decode_error)?;
            let at = concern.submitted_at.unwrap_or(concern.created_at);
            let mut parts = vec![("Raised by".to_owned(), name(&concern.author))];
            parts.extend(parts_of(&value));
            items.push(RecordItem {
                kind: ItemKind::Concern,
                id: concern.id.0.to_string(),
                title: format!("Safeguarding concern {reference}"),
                when: Some(uk::date_time(at)),
                sort: (at, 0),
                parts,
            });
            let describe_name = |raw: &str| {
                UserId::parse(raw)
                    .ok()
                    .map(|u| name(&u))
                    .unwrap_or_default()
            };
            for step in steps {
                let detail = self.open_step(&concern, &step).await?;
                let mut parts = vec![("Recorded by".to_owned(), name(&step.actor))];
                parts.extend(
                    alliance_core::concern_workflow::describe(step.kind, &detail, &describe_name)
                        .into_iter()
                        .map(|(l, v)| (l.to_owned(), v)),
                );
                items.push(RecordItem {
                    kind: ItemKind::ConcernStep,
                    id: step.id.to_string(),
                    title: format!("{} ({reference})", step.kind.label()),
                    when: Some(uk::date_time(step.created_at)),
                    sort: (step.created_at, 1),
                    parts,
                });
            }
            for a in addenda {
                let body: crate::safeguarding::AddendumBody = self
                    .open_sg(
                        &crate::safeguarding::owner_for(a.sealed_under, concern.child_id)?,
                        "concern_addenda",
                        "content",
                        &a.id.to_string(),
                        &a.content,
                    )
                    .await?;
                items.push(RecordItem {
                    kind: ItemKind::ConcernAddendum,
                    id: a.id.to_string(),
                    title: format!("Addendum ({reference})"),
                    when: Some(uk::date_time(a.created_at)),
                    sort: (a.created_at, 2),
                    parts: vec![
                        ("Added by".to_owned(), name(&a.author)),
                        ("Reason".to_owned(), body.reason),
                        ("Text".to_owned(), body.text),
                    ],
                });
            }
        }
        items.sort_by(|a, b| {
            (kind_order(a.kind), a.sort, &a.id).cmp(&(kind_order(b.kind), b.sort, &b.id))
        });
        let mut unreadable: Vec<RecordClass> = RecordClass::ALL
            .into_iter()
            .filter(|c| !readable.contains(c))
            .collect();
        if !safeguarding {
            unreadable.retain(|c| *c != RecordClass::Safeguarding);
        }
        Ok(Record { items, unreadable })
    }

    async fn sar_decisions_of(
        &self,
        request: &StoredSubjectAccess,
    ) -> AppResult<(
        HashMap<(ItemKind, String), (StoredSarItem, ItemDecision)>,
        HashMap<UserId, String>,
    )> {
        let stored = self.store.sar_items(request.id).await?;
        let readable = self.sar_readable_classes(request.child_id).await?;
        let names = self
            .staff_names(&stored.iter().map(|s| s.decided_by).collect::<Vec<_>>())
            .await?;
        let mut out = HashMap::new();
        for item in stored {
            if !readable.contains(&item.sealed_class) {
                continue;
            }
            let decision: ItemDecision = self
                .open_sg(
                    &child_key(request.child_id, item.sealed_class),
                    "subject_access_items",
                    "detail",
                    &item_row(request.id, item.item_kind, &item.item_id),
                    &item.detail,
                )
                .await?;
            out.insert((item.item_kind, item.item_id.clone()), (item, decision));
        }
        Ok((out, names))
    }

    /// The request's file, as the reader reads it: the named reviewer (the whole record), the
    /// DSL (the safeguarding items) or the service lead (the decisions and what the bundle
    /// holds). Each read is audited (`sar.read`, with the child's id).
    pub async fn sar_file(&self, actor: &Actor, id: Uuid) -> AppResult<SarFile> {
        let asked = "read subject access file";
        let (request, standing) = self.sar_gate(actor, id, asked).await?;
        let dsl_file = standing.reach.reviews_safeguarding
            && (request.status == Status::DslReview || request.dsl_reviewed_by.is_some());
        let mode = if dsl_file && request.status == Status::DslReview {
            // The DSL's review comes first, even for a DSL who was the reviewer too.
            FileMode::Dsl
        } else if standing.reviewer {
            FileMode::Reviewer
        } else if dsl_file {
            FileMode::Dsl
        } else if standing.reach.reads_file
            && matches!(
                request.status,
                Status::InReview | Status::DslReview | Status::Ready | Status::Released
            )
        {
            FileMode::ServiceLead
        } else {
            // The administrator (never the content), a DSL before their review, a reviewer
            // whose window closed.
            return Err(self.sar_not_found(actor, id, asked).await);
        };
        let reviewer_is_dsl = is_dsl(&actor.user);
        let with_safeguarding = match mode {
            FileMode::Reviewer => reviewer_is_dsl,
            FileMode::Dsl | FileMode::ServiceLead => true,
        };
        let record = self
            .sar_whole_record(request.child_id, with_safeguarding)
            .await?;
        let (decisions, names) = self.sar_decisions_of(&request).await?;
        let writes = actor.may_write();
        let mut items = Vec::new();
        for item in record.items {
            if mode == FileMode::Dsl && !item.kind.is_safeguarding() {
                continue;
            }
            let decided = decisions.get(&(item.kind, item.id.clone()));
            let digest = item.digest();
            let decision = decided.map(|(stored, d)| DecisionView {
                decision: d.decision,
                reason: d.reason,
                words: d.words.clone(),
                passages: d.passages.clone(),
                by: names.get(&stored.decided_by).cloned().unwrap_or_default(),
                at: stored.decided_at,
                stale: d.digest != digest,
            });
            let may_decide = writes
                && match mode {
                    FileMode::Reviewer => {
                        request.status == Status::InReview
                            && (!item.kind.is_safeguarding() || reviewer_is_dsl)
                    }
                    FileMode::Dsl => request.status == Status::DslReview,
                    FileMode::ServiceLead => false,
                };
            let parts = match mode {
                FileMode::ServiceLead => match decided {
                    Some((_, d)) if d.digest == digest => match d.decision {
                        Decision::Disclose => item.parts.clone(),
                        Decision::Redact => item
                            .parts
                            .iter()
                            .map(|(l, t)| (l.clone(), sar::redact(t, &d.passages)))
                            .collect(),
                        Decision::Withhold => Vec::new(),
                    },
                    _ => Vec::new(),
                },
                _ => item.parts.clone(),
            };
            let title = match (mode, decided) {
                (FileMode::ServiceLead, Some((_, d))) if d.decision == Decision::Redact => {
                    sar::redact(&item.title, &d.passages)
                }
                _ => item.title,
            };
            items.push(FileItem {
                kind: item.kind,
                id: item.id,
                title,
                when: item.when,
                parts,
                decision,
                may_decide,
            });
        }
        let undecided = items
            .iter()
            .filter(|i| i.decision.as_ref().is_none_or(|d| d.stale))
            .count();
        let view = self.sar_view_of(actor, &request, standing).await?;
        let mut event = self
            .sar_event(audit::Action::SubjectAccessRead, actor, &request)
            .detail(match mode {
                FileMode::Reviewer => "reviewer",
                FileMode::Dsl => "dsl",
                FileMode::ServiceLead => "service-lead",
            });
        if mode == FileMode::Dsl || (mode == FileMode::Reviewer && with_safeguarding) {
            event.category = Category::Safeguarding;
        }
        self.record(&actor.origin, vec![event]).await?;
        Ok(SarFile {
            view,
            mode,
            unreadable: record.unreadable,
            undecided,
            items,
        })
    }

    /// Decides one item: the named reviewer (in review; safeguarding items only when they are
    /// a DSL) or the DSL (in the DSL's review, safeguarding items).
    pub async fn decide_sar_item(
        &self,
        actor: &Actor,
        id: Uuid,
        kind: &str,
        item_id: &str,
        input: &DecisionInput,
    ) -> AppResult<()> {
        let asked = "decide subject access item";
        let (request, standing) = self.sar_gate(actor, id, asked).await?;
        let Ok(kind) = ItemKind::parse(kind) else {
            return Err(AppError::NotFound);
        };
        let dsl = is_dsl(&actor.user);
        let (allowed, may) = if standing.reviewer && request.status == Status::InReview {
            (vec![Status::InReview], !kind.is_safeguarding() || dsl)
        } else if standing.reach.reviews_safeguarding && request.status == Status::DslReview {
            (vec![Status::DslReview], kind.is_safeguarding())
        } else {
            (Vec::new(), false)
        };
        if !(may && actor.may_write()) {
            if !(standing.reviewer
                || standing.reach.reviews_safeguarding
                || standing.reach.reads_file)
            {
                return Err(self.sar_not_found(actor, id, asked).await);
            }
            return Err(self
                .sar_denied(
                    actor,
                    &request,
                    asked,
                    "only the named reviewer decides the items, and the DSL the safeguarding ones, while the request is with them",
                )
                .await);
        }
        let record = self
            .sar_whole_record(request.child_id, kind.is_safeguarding())
            .await?;
        let Some(item) = record
            .items
            .into_iter()
            .find(|i| i.kind == kind && i.id == item_id.trim())
        else {
            return Err(AppError::NotFound);
        };
        let details = self.sar_open_details_of(&request).await?;
        let parents =
            sar::on_parents_behalf(request.requester_kind, details.representative.as_ref());
        let mut decision = sar::parse_decision(input, parents, request.opinion.is_some())?;
        if decision.decision == Decision::Redact
            && !sar::missing_passages(&item.texts(), &decision.passages).is_empty()
        {
            return Err(Invalid::field(
                "passages",
                "A passage to remove is not in this item: copy it exactly as it is written",
            )
            .into());
        }
        decision.digest = item.digest();
        let class = kind.class();
        let row = item_row(id, kind, &item.id);
        let sealed = self
            .sar_seal_json(
                &child_key(request.child_id, class),
                "subject_access_items",
                "detail",
                &row,
                &decision,
            )
            .await?;
        let stored = StoredSarItem {
            request_id: id,
            item_kind: kind,
            item_id: item.id.clone(),
            decision: decision.decision,
            reason: decision.reason,
            sealed_class: class,
            detail: sealed,
            decided_by: actor.user.id,
            decided_at: self.clock.now(),
        };
        let mut event = self
            .sar_event(audit::Action::SubjectAccessItemDecided, actor, &request)
            .detail(kind.code());
        if kind.is_safeguarding() {
            event.category = Category::Safeguarding;
        }
        let audit = self.audit_batch(&actor.origin, vec![event]);
        self.store
            .decide_sar_item(&stored, &allowed, &audit)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => AppError::Conflict(
                    "the request has moved on: it is no longer with you for decisions".to_owned(),
                ),
                other => other.into(),
            })
    }

    /// Records the serious-harm opinion (the named reviewer, or the DSL in their review).
    pub async fn record_sar_opinion(
        &self,
        actor: &Actor,
        id: Uuid,
        input: &OpinionInput,
        expected: Version,
    ) -> AppResult<()> {
        let (mut request, _) = self
            .sar_for_change(
                actor,
                id,
                "record serious-harm opinion",
                |s| s.reviewer || s.reach.reviews_safeguarding,
                "only the named reviewer (or the DSL in their review) records the opinion",
            )
            .await?;
        let standing = self.sar_standing_for(actor, &request);
        let allowed = (standing.reviewer && request.status == Status::InReview)
            || (standing.reach.reviews_safeguarding && request.status == Status::DslReview);
        if !allowed {
            return Err(self
                .sar_denied(
                    actor,
                    &request,
                    "record serious-harm opinion",
                    "the opinion is recorded while the request is in review",
                )
                .await);
        }
        let staff = match UserId::parse(&input.staff) {
            Ok(u) if input.from.trim() == "staff" => self.store.user(u).await?,
            _ => None,
        };
        let opinion = sar::parse_opinion(input, staff.as_ref(), self.today(), actor.user.id)?;
        request.opinion = Some(
            self.sar_seal_json(
                &child_key(request.child_id, RecordClass::Clinical),
                "subject_access_requests",
                "opinion",
                &request.id.to_string(),
                &opinion,
            )
            .await?,
        );
        let event = self.sar_event(audit::Action::SubjectAccessOpinion, actor, &request);
        self.sar_write_change(actor, &request, expected, None, vec![event])
            .await?;
        Ok(())
    }

    /// The reviewer has decided every item: on to the DSL's review when the record holds
    /// safeguarding material the reviewer did not decide, else ready to release.
    pub async fn finish_sar_review(
        &self,
        actor: &Actor,
        id: Uuid,
        expected: Version,
    ) -> AppResult<()> {
        let (mut request, standing) = self
            .sar_for_change(
                actor,
                id,
                "finish subject access review",
                |s| s.reviewer,
                "only the named reviewer finishes the review",
            )
            .await?;
        if request.status != Status::InReview || !standing.reviewer {
            return Err(Self::sar_wrong_status("Finishing the review"));
        }
        let record = self.sar_whole_record(request.child_id, true).await?;
        let (decisions, _) = self.sar_decisions_of(&request).await?;
        let decided = |i: &RecordItem| {
            decisions
                .get(&(i.kind, i.id.clone()))
                .is_some_and(|(_, d)| d.digest == i.digest())
        };
        let dsl = is_dsl(&actor.user);
        if record
            .items
            .iter()
            .any(|i| (!i.kind.is_safeguarding() || dsl) && !decided(i))
        {
            return Err(AppError::Conflict(
                "every item needs a decision first (an item changed since it was decided needs one again)"
                    .to_owned(),
            ));
        }
        let safeguarding_left = record
            .items
            .iter()
            .any(|i| i.kind.is_safeguarding() && !decided(i));
        let now = self.clock.now();
        let mut events = vec![
            self.sar_event(audit::Action::SubjectAccessUpdated, actor, &request)
                .detail("review-finished"),
        ];
        if safeguarding_left {
            request.status = Status::DslReview;
        } else {
            request.status = Status::Ready;
            if dsl && record.items.iter().any(|i| i.kind.is_safeguarding()) {
                request.dsl_reviewed_by = Some(actor.user.id);
                request.dsl_reviewed_at = Some(now);
                let mut event =
                    self.sar_event(audit::Action::SubjectAccessDslReviewed, actor, &request);
                event.category = Category::Safeguarding;
                events.push(event);
            }
        }
        self.sar_write_change(actor, &request, expected, None, events)
            .await?;
        Ok(())
    }

    /// The DSL has decided every safeguarding item: ready to release.
    pub async fn finish_sar_dsl_review(
        &self,
        actor: &Actor,
        id: Uuid,
        expected: Version,
    ) -> AppResult<()> {
        let (mut request, _) = self
            .sar_for_change(
                actor,
                id,
                "finish DSL review",
                |s| s.reach.reviews_safeguarding,
                "only the DSL or a deputy reviews the safeguarding material",
            )
            .await?;
        if request.status != Status::DslReview {
            return Err(Self::sar_wrong_status("Finishing the DSL's review"));
        }
        let record = self.sar_whole_record(request.child_id, true).await?;
        let (decisions, _) = self.sar_decisions_of(&request).await?;
        if record.items.iter().any(|i| {
            i.kind.is_safeguarding()
                && decisions
                    .get(&(i.kind, i.id.clone()))
                    .is_none_or(|(_, d)| d.digest != i.digest())
        }) {
            return Err(AppError::Conflict(
                "every safeguarding item needs a decision first".to_owned(),
            ));
        }
        request.status = Status::Ready;
        request.dsl_reviewed_by = Some(actor.user.id);
        request.dsl_reviewed_at = Some(self.clock.now());
        let mut event = self.sar_event(audit::Action::SubjectAccessDslReviewed, actor, &request);
        event.category = Category::Safeguarding;
        self.sar_write_change(actor, &request, expected, None, vec![event])
            .await?;
        Ok(())
    }

    // ----- the bundle -----

    /// May the requester receive the bundle (policy section 2), asked now.
    async fn sar_bundle_may_go(
        &self,
        request: &StoredSubjectAccess,
        details: &Details,
        child: &ChildDetails,
    ) -> AppResult<Result<(), outbound::Refusal>> {
        let item = Item::typical(OutboundKind::SubjectAccessBundle);
        Ok(match request.requester_kind {
            RequesterKind::YoungPerson => outbound::may_receive(Recipient::Child, item, child),
            RequesterKind::ParentalResponsibility => {
                let carers = self.carers_of(request.child_id).await?;
                match carers
                    .iter()
                    .find(|c| Some(c.id) == request.carer_id && c.active)
                {
                    Some(carer) => {
                        outbound::may_receive(Recipient::Carer(&carer.details), item, child)
                    }
                    None => Err(outbound::Refusal::NotForThisRecipient),
                }
            }
            RequesterKind::Representative => outbound::may_receive(
                Recipient::Representative {
                    authority_checked: details.authority.is_some(),
                },
                item,
                child,
            ),
        })
    }

    async fn sar_refuse_release(
        &self,
        actor: &Actor,
        request: &StoredSubjectAccess,
        asked: &str,
        refusal: outbound::Refusal,
    ) -> AppError {
        let event = self
            .sar_event(audit::Action::Denied, actor, request)
            .detail(&format!("{asked}: {}", refusal.code()));
        match self.record(&actor.origin, vec![event]).await {
            Ok(()) => Invalid::field("release", refusal.message()).into(),
            Err(e) => e.into(),
        }
    }

    /// The bundle as it would be released now: every item decided on its current text.
    async fn sar_build_bundle(
        &self,
        request: &StoredSubjectAccess,
        details: &Details,
        child: &ChildDetails,
    ) -> AppResult<Bundle> {
        let record = self.sar_whole_record(request.child_id, true).await?;
        let (decisions, _) = self.sar_decisions_of(request).await?;
        let mut items = Vec::new();
        // Items withheld, by the reason's general terms; and every reason given at all.
        let mut withheld: BTreeMap<&'static str, usize> = BTreeMap::new();
        let mut reasons: std::collections::BTreeSet<&'static str> = Default::default();
        let mut redacted_items = 0usize;
        for item in &record.items {
            let Some((_, d)) = decisions.get(&(item.kind, item.id.clone())) else {
                return Err(AppError::Conflict(
                    "an item has no decision: the review is not complete".to_owned(),
                ));
            };
            if d.digest != item.digest() {
                return Err(AppError::Conflict(
                    "an item changed after it was decided: it needs deciding again".to_owned(),
                ));
            }
            match d.decision {
                Decision::Disclose | Decision::Redact => {
                    let redacted = d.decision == Decision::Redact;
                    if redacted {
                        redacted_items += 1;
                        reasons.insert(d.reason.unwrap_or(Reason::Other).general_terms());
                    }
                    items.push(BundleItem {
                        kind: item.kind.label().to_owned(),
                        title: if redacted {
                            sar::redact(&item.title, &d.passages)
                        } else {
                            item.title.clone()
                        },
                        when: item.when.clone(),
                        redacted,
                        parts: item
                            .parts
                            .iter()
                            .map(|(label, text)| BundlePart {
                                label: label.clone(),
                                text: if redacted {
                                    sar::redact(text, &d.passages)
                                } else {
                                    text.clone()
                                },
                            })
                            .collect(),
                    });
                }
                Decision::Withhold => {
                    let reason = d.reason.unwrap_or(Reason::Other).general_terms();
                    *withheld.entry(reason).or_default() += 1;
                    reasons.insert(reason);
                }
            }
        }
        let service = self
            .service_profile()
            .await?
            .map(|p| p.name.as_str().to_owned())
            .unwrap_or_default();
        let requester = self.sar_requester_name(request, details, child).await?;
        let about = if request.requester_kind == RequesterKind::YoungPerson {
            "you".to_owned()
        } else {
            child.known_as().to_owned()
        };
        let mut letter = vec![
            format!(
                "You asked on {} for a copy of the personal data {service} holds about {about}. This is our answer to that subject access request.",
                uk::date(request.received_on)
            ),
            format!(
                "This bundle holds {} {} from the record.",
                items.len(),
                if items.len() == 1 { "item" } else { "items" }
            ),
        ];
        if redacted_items > 0 {
            letter.push(format!(
                "In {redacted_items} {} we removed passages, as data protection law allows: each is shown as {}.",
                if redacted_items == 1 { "item" } else { "items" },
                sar::REDACTED
            ));
        }
        let withheld_lines: Vec<WithheldLine> = withheld
            .iter()
            .map(|(reason, n)| WithheldLine {
                reason: (*reason).to_owned(),
                items: *n,
            })
            .collect();
        if !reasons.is_empty() {
            letter.push(format!(
                "Some information is not included, as data protection law allows. In general terms it is: {}.",
                reasons.into_iter().collect::<Vec<_>>().join("; ")
            ));
        }
        letter.push(
            "If you are unhappy with how we answered, please tell us. You may also complain to the Information Commissioner's Office (ico.org.uk, 0303 123 1113).".to_owned(),
        );
        Ok(Bundle {
            reference: sar_reference(request.id),
            service,
            child_name: child.legal_name.clone(),
            date_of_birth: uk::date(child.date_of_birth),
            requester,
            received_on: uk::date(request.received_on),
            released_on: uk::date(self.today()),
            letter,
            withheld: withheld_lines,
            items,
        })
    }

    /// Releases the bundle to the requester (the service lead): only once ready, only if the
    /// outbound rule lets the requester receive it now (a refusal says why and is audited).
    /// The bundle as released is kept, sealed, and returned.
    pub async fn release_sar(
        &self,
        actor: &Actor,
        id: Uuid,
        expected: Version,
    ) -> AppResult<Bundle> {
        let asked = "release subject access bundle";
        let (mut request, _) = self
            .sar_for_change(
                actor,
                id,
                asked,
                |s| s.reach.releases,
                "only the service lead releases the bundle",
            )
            .await?;
        if request.status != Status::Ready {
            return Err(Self::sar_wrong_status("Releasing the bundle"));
        }
        let details = self.sar_open_details_of(&request).await?;
        let child = self.details_of(request.child_id).await?;
        if let Err(refusal) = self.sar_bundle_may_go(&request, &details, &child).await? {
            return Err(self
                .sar_refuse_release(actor, &request, asked, refusal)
                .await);
        }
        let bundle = self.sar_build_bundle(&request, &details, &child).await?;
        request.bundle = Some(
            self.sar_seal_json(
                &child_key(request.child_id, RecordClass::Clinical),
                "subject_access_requests",
                "bundle",
                &request.id.to_string(),
                &bundle,
            )
            .await?,
        );
        request.status = Status::Released;
        request.closed_by = Some(actor.user.id);
        request.closed_at = Some(self.clock.now());
        let event = self.sar_event(audit::Action::SubjectAccessReleased, actor, &request);
        self.sar_write_change(actor, &request, expected, None, vec![event])
            .await?;
        Ok(bundle)
    }

    /// The released bundle again (the service lead), for the PDF and the JSON: asked of the
    /// outbound rule again at the moment it is produced; audited.
    pub async fn sar_bundle(&self, actor: &Actor, id: Uuid) -> AppResult<Bundle> {
        let asked = "download subject access bundle";
        let (request, standing) = self.sar_gate(actor, id, asked).await?;
        if !standing.reach.releases {
            return Err(self
                .sar_denied(
                    actor,
                    &request,
                    asked,
                    "only the service lead produces the bundle",
                )
                .await);
        }
        let Some(sealed) = &request.bundle else {
            return Err(AppError::Conflict(
                "the bundle has not been released yet".to_owned(),
            ));
        };
        let details = self.sar_open_details_of(&request).await?;
        let child = self.details_of(request.child_id).await?;
        if let Err(refusal) = self.sar_bundle_may_go(&request, &details, &child).await? {
            return Err(self
                .sar_refuse_release(actor, &request, asked, refusal)
                .await);
        }
        let bundle: Bundle = self
            .open_sg(
                &child_key(request.child_id, RecordClass::Clinical),
                "subject_access_requests",
                "bundle",
                &request.id.to_string(),
                sealed,
            )
            .await?;
        self.record(
            &actor.origin,
            vec![
                self.sar_event(audit::Action::SubjectAccessRead, actor, &request)
                    .detail("bundle"),
            ],
        )
        .await?;
        Ok(bundle)
    }

    /// Who may be named reviewer: active clinicians and safeguarding leads (id, name).
    pub async fn sar_reviewer_candidates(&self) -> AppResult<Vec<(UserId, String)>> {
        let filter = crate::store::UserFilter {
            role: None,
            active: Some(true),
            search: None,
        };
        let mut page = alliance_core::PageRequest {
            limit: alliance_core::paging::MAX_PAGE_SIZE,
            after: None,
        };
        let mut found = Vec::new();
        loop {
            let got = self.store.list_users(&filter, &page).await?;
            found.extend(
                got.items
                    .into_iter()
                    .filter(sar::may_be_reviewer)
                    .map(|u| (u.id, u.display_name)),
            );
            match got.next.as_deref().map(alliance_core::Cursor::parse) {
                Some(Ok(next)) => page.after = Some(next),
                _ => break,
            }
        }
        found.sort_by_cached_key(|(id, name)| (name.to_lowercase(), *id));
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_become_labelled_parts() {
        let value = serde_json::json!({
            "own_words": "I felt sad",
            "empty": "",
            "flag": true,
            "topics": ["attendance", "progress"],
            "nested": {"inner_key": "x"},
            "list": [{"a": "one"}],
            "none": null
        });
        let parts = parts_of(&value);
        assert!(parts.contains(&("Own words".to_owned(), "I felt sad".to_owned())));
        assert!(parts.contains(&("Flag".to_owned(), "Yes".to_owned())));
        assert!(parts.contains(&("Topics".to_owned(), "attendance, progress".to_owned())));
        assert!(parts.contains(&("Nested: inner key".to_owned(), "x".to_owned())));
        assert!(parts.contains(&("List 1: a".to_owned(), "one".to_owned())));
        assert!(!parts.iter().any(|(l, _)| l == "Empty" || l == "None"));
    }

    #[test]
    fn a_reference_names_no_one() {
        let id = Uuid::now_v7();
        let r = sar_reference(id);
        assert!(r.starts_with("SAR-") && r.len() == 12, "{r}");
    }
}
