//! Retention and destruction: each child's dates per record class, legal holds, the report of records past their date, and destruction (request, approval, crypto-shredding, tombstone).
//!
//! The rules are `alliance_core::retention` (data with their sources, the figures a settings
//! document); the dates are worked out afresh on every read from the child's facts as they
//! stand (date of birth, death, the cases, the concerns' categories, the DSL's flag), so a
//! re-referral puts the clinical date off again. Safeguarding-driven dates reach only the DSL
//! and deputies; an administrator never learns that safeguarding records exist, and sees "On
//! hold" with no reason when a destruction is stopped.
//!
//! Destruction is asked for by an administrator (the DSL for the safeguarding records), only
//! past the class's date, and approved by the service lead or the DSL, never by the person who
//! asked, unless nobody else may approve (the sole practitioner), who then waits the
//! cooling-off and gives their password again. An open concern, a pending subject access
//! request or a legal hold stops it, at the request and again at the approval. Approving
//! destroys the class's key (`KeyRing::destroy`): what it sealed is unreadable in every copy
//! of the database, backups included once the key store's own backups have aged out. The
//! request, marked destroyed, is the tombstone, with its audit entry.

use crate::app::Alliance;
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::store::{
    DestructionStatus, NewFiring, StoreError, StoredConcern, StoredDestructionRequest,
    StoredLegalHold, StoredRetentionFlag,
};
use alliance_core::audit::{self, Category, Event};
use alliance_core::cases::Case;
use alliance_core::children::{ChildDetails, ChildId};
use alliance_core::concern_workflow::{Progress, Stage};
use alliance_core::crypto::{KeyOwner, RecordClass, Sealed, SealedAt};
use alliance_core::identity::UserId;
use alliance_core::retention::{
    self as rules, Approval, Episode, Facts, Hold, Policies, Reach, Retention, Settings,
};
use alliance_core::safeguarding::{ConcernKind, ConcernStatus, HarmCategory};
use alliance_core::tasks::{FiringId, Recipient, Rule, Subject};
use alliance_core::{Cursor, Invalid, Page, PageRequest, Version, uk};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;
use uuid::Uuid;

/// The settings document holding the service's retention settings.
const SETTINGS: &str = "retention";
/// The service key legal holds' reasons are sealed under.
const LEGAL_HOLDS_KEY: &str = "legal-holds";
/// The record type tasks and audit entries name a destruction request by.
pub(crate) const DESTRUCTION: &str = "destruction";

/// The shipped policies, read and checked once (a cache: safe to lose).
pub fn policies() -> AppResult<&'static Policies> {
    static POLICIES: OnceLock<Result<Policies, String>> = OnceLock::new();
    POLICIES
        .get_or_init(Policies::shipped)
        .as_ref()
        .map_err(|e| {
            AppError::Store(StoreError::Other(format!(
                "the shipped retention policies are not valid: {e}"
            )))
        })
}

/// How a destruction request is named in titles and lists: never a name.
pub fn destruction_reference(id: Uuid) -> String {
    crate::safeguarding::short_reference("DR", id)
}

fn child_key(child: ChildId, class: RecordClass) -> KeyOwner {
    KeyOwner::Child {
        child: child.to_string(),
        class,
    }
}

fn holds_key() -> KeyOwner {
    KeyOwner::Service {
        purpose: LEGAL_HOLDS_KEY.to_owned(),
    }
}

fn london_date(at: Timestamp) -> Date {
    at.to_zoned_datetime(uk::london()).date()
}

fn decode_error(e: impl std::fmt::Display) -> AppError {
    AppError::Store(StoreError::Other(format!(
        "a sealed retention record did not decode: {e}"
    )))
}

/// The sealed form of the DSL's flag.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct FlagBody {
    flagged: bool,
}

/// A class's destruction, once done.
#[derive(Debug, Clone, PartialEq)]
pub struct Destroyed {
    pub on: Date,
    pub at: Timestamp,
    pub request: Uuid,
    pub reference: String,
}

/// One class of a child's record as this reader may see it.
#[derive(Debug, Clone)]
pub struct ClassRetention {
    pub class: RecordClass,
    pub label: &'static str,
    /// `None` once destroyed (nothing is kept, so nothing is counted).
    pub retention: Option<Retention>,
    /// The rule's name (from the policies).
    pub rule_name: String,
    pub past: bool,
    pub destroyed: Option<Destroyed>,
    /// The open request for it, if any.
    pub open_request: Option<Uuid>,
    /// This reader may ask for it to be destroyed now (past its date, no hold, none asked).
    pub may_request: bool,
}

/// A legal hold, for those who may know why.
#[derive(Debug, Clone)]
pub struct HoldView {
    pub id: Uuid,
    pub reason: String,
    pub set_by: String,
    pub set_at: Timestamp,
    pub lifted: Option<(String, Timestamp, String)>,
    pub version: Version,
}

/// The DSL's 75-year flag, for the DSL and deputies.
#[derive(Debug, Clone, Default)]
pub struct FlagView {
    pub flagged: bool,
    /// `None` until it has ever been set.
    pub version: Option<Version>,
    pub set_by: Option<String>,
    pub set_at: Option<Timestamp>,
}

/// A child's retention page.
#[derive(Debug, Clone)]
pub struct ChildRetention {
    pub child: ChildId,
    pub child_name: String,
    pub date_of_birth: Date,
    pub date_of_death: Option<Date>,
    pub classes: Vec<ClassRetention>,
    /// What holds destruction now, in this reader's words ("On hold" for an administrator).
    pub holds: Vec<String>,
    /// The legal holds with their reasons (empty for an administrator).
    pub legal_holds: Vec<HoldView>,
    pub reach: Reach,
    /// The flag, for the DSL and deputies.
    pub flag: Option<FlagView>,
    pub may_write: bool,
}

/// A destruction request as this reader may see it.
#[derive(Debug, Clone)]
pub struct DestructionView {
    pub id: Uuid,
    pub reference: String,
    pub child: ChildId,
    pub child_name: String,
    pub class: RecordClass,
    pub status: DestructionStatus,
    pub requested_by: String,
    pub requested_at: Timestamp,
    pub decided_by: Option<String>,
    pub decided_at: Option<Timestamp>,
    pub sole_practitioner: bool,
    pub version: Version,
    /// The class's retention now (for those who may see it).
    pub retention: Option<Retention>,
    /// What stops it now, in this reader's words.
    pub holds: Vec<String>,
    pub may_approve: bool,
    /// The sole practitioner approving their own request: their password again.
    pub needs_password: bool,
    /// The sole practitioner's cooling-off ends then.
    pub cooling_off_until: Option<Timestamp>,
    /// Why this reader may not approve (shown beside the button's place).
    pub approval_refused: Option<&'static str>,
    pub may_refuse: bool,
    pub may_withdraw: bool,
}

/// One line of the report: a class of a child's record past its date and not destroyed.
#[derive(Debug, Clone)]
pub struct ReportRow {
    pub child: ChildId,
    pub child_name: String,
    pub date_of_birth: Date,
    pub class: RecordClass,
    pub until: Date,
    pub rule: rules::RuleId,
    pub rule_name: String,
    /// In this reader's words ("On hold" for an administrator).
    pub holds: Vec<String>,
    pub open_request: Option<Uuid>,
}

/// The report, with the requests awaiting this reader's approval.
#[derive(Debug, Clone)]
pub struct Report {
    pub rows: Page<ReportRow>,
    pub awaiting: Vec<DestructionSummary>,
    pub reach: Reach,
}

/// A request in a list.
#[derive(Debug, Clone)]
pub struct DestructionSummary {
    pub id: Uuid,
    pub reference: String,
    pub child: ChildId,
    pub class: RecordClass,
    pub requested_by: String,
    pub requested_at: Timestamp,
}

/// What the gate found: the reader's reach, and the child's identity.
struct Gate {
    reach: Reach,
    details: ChildDetails,
}

impl Alliance {
    // ----- settings -----

    /// The service's retention settings (the shipped defaults until someone changes them).
    pub async fn retention_settings(&self) -> AppResult<(Settings, Option<Version>)> {
        let policies = policies()?;
        Ok(
            match self
                .settings_document::<Settings>(SETTINGS, "retention settings")
                .await?
            {
                None => (Settings::defaults(policies), None),
                Some((s, v)) => (s, Some(v)),
            },
        )
    }

    /// Changes the retention settings (administrators: configuration).
    pub async fn set_retention_settings(
        &self,
        actor: &Actor,
        settings: Settings,
        expected: Option<Version>,
    ) -> AppResult<Settings> {
        self.require(
            actor,
            alliance_core::policy::Action::ManageService,
            "update retention settings",
            "service",
            Some("1".to_owned()),
        )
        .await?;
        settings.check()?;
        self.put_settings_document(actor, SETTINGS, &settings, expected)
            .await?;
        Ok(settings)
    }

    /// Who may see the settings page: whoever reaches retention at all ("not found",
    /// audited, for anyone else).
    pub async fn ensure_retention_reach(&self, actor: &Actor, asked: &str) -> AppResult<Reach> {
        match rules::reach(&actor.user) {
            Some(reach) => Ok(reach),
            None => {
                self.record(
                    &actor.origin,
                    vec![
                        Event::new(
                            audit::Action::Denied,
                            Some(actor.user.id.to_string()),
                            "retention",
                            None,
                        )
                        .detail(asked),
                    ],
                )
                .await?;
                Err(AppError::NotFound)
            }
        }
    }

    // ----- facts -----

    /// The gate to a child's retention: the reader reaches retention at all, and may know the
    /// child ("not found", audited, otherwise).
    async fn retention_gate(&self, actor: &Actor, child: ChildId, asked: &str) -> AppResult<Gate> {
        let Some(reach) = rules::reach(&actor.user) else {
            self.audit_refusal(actor, asked, "retention", child.to_string(), child)
                .await?;
            return Err(AppError::NotFound);
        };
        self.get_child_gate(actor, child, asked).await?;
        let details = self.details_of(child).await?;
        Ok(Gate { reach, details })
    }

    /// The classes of the child destroyed so far, with when.
    async fn destroyed_classes_of(
        &self,
        child: ChildId,
    ) -> AppResult<HashMap<RecordClass, Destroyed>> {
        Ok(self
            .store
            .destruction_requests_of(child)
            .await?
            .into_iter()
            .filter(|r| r.status == DestructionStatus::Destroyed)
            .filter_map(|r| {
                r.decided_at.map(|at| {
                    (
                        r.class,
                        Destroyed {
                            on: london_date(at),
                            at,
                            request: r.id,
                            reference: destruction_reference(r.id),
                        },
                    )
                })
            })
            .collect())
    }

    /// The day a class of the child's was destroyed, if it was: for answering a read of it
    /// clearly ("destroyed on 31/12/2026 under the retention policy").
    pub async fn destroyed_on(
        &self,
        child: ChildId,
        class: RecordClass,
    ) -> AppResult<Option<Date>> {
        Ok(self
            .destroyed_classes_of(child)
            .await?
            .get(&class)
            .map(|d| d.on))
    }

    fn retention_episode(cases: &[Case]) -> Episode {
        if cases.is_empty() {
            Episode::NoCase
        } else if cases.iter().any(Case::is_open) {
            Episode::Open
        } else {
            cases
                .iter()
                .filter_map(|c| c.closure.as_ref().map(|cl| cl.closed_on))
                .max()
                .map_or(Episode::NoCase, Episode::Ended)
        }
    }

    /// The safeguarding facts: whether a concern records sexual abuse or exploitation, the
    /// day of the latest record, and the DSL's flag. Opens the concerns (only ever for the DSL
    /// and deputies, or the report they read).
    async fn retention_sg_facts(
        &self,
        child: ChildId,
    ) -> AppResult<(bool, Option<Date>, Option<(bool, StoredRetentionFlag)>)> {
        let mut abuse = false;
        let mut latest: Option<Timestamp> = None;
        for concern in self.store.concerns_of_child(child).await? {
            if concern.kind != ConcernKind::Concern {
                continue;
            }
            // A concern about another child this one is linked to, whose safeguarding records
            // were destroyed: nothing of it can be read, nor counted.
            if let Some(other) = concern.child_id
                && other != child
                && self
                    .destroyed_on(other, RecordClass::Safeguarding)
                    .await?
                    .is_some()
            {
                continue;
            }
            let (content, _) = self.open_concern(&concern).await?;
            if content
                .harm_categories()
                .iter()
                .any(|c| matches!(c, HarmCategory::Sexual | HarmCategory::Exploitation))
            {
                abuse = true;
            }
            let mut times = vec![concern.submitted_at.unwrap_or(concern.created_at)];
            times.extend(
                self.store
                    .concern_steps(concern.id)
                    .await?
                    .iter()
                    .map(|s| s.created_at),
            );
            times.extend(
                self.store
                    .concern_addenda(concern.id)
                    .await?
                    .iter()
                    .map(|a| a.created_at),
            );
            latest = latest.max(times.into_iter().max());
        }
        let flag = match self.store.retention_flag(child).await? {
            Some(stored) => Some((self.open_retention_flag(&stored).await?, stored)),
            None => None,
        };
        Ok((abuse, latest.map(london_date), flag))
    }

    async fn open_retention_flag(&self, stored: &StoredRetentionFlag) -> AppResult<bool> {
        let row = stored.child_id.to_string();
        let plain = self
            .keys
            .open(
                &child_key(stored.child_id, RecordClass::Safeguarding),
                &stored.flag,
                SealedAt {
                    table: "retention_flags",
                    column: "flag",
                    row: &row,
                },
                self.clock.now(),
            )
            .await?;
        let body: FlagBody = serde_json::from_slice(&plain).map_err(decode_error)?;
        Ok(body.flagged)
    }

    /// The child's facts; the safeguarding ones only when `safeguarding` (the DSL's reach) and
    /// that class is not destroyed.
    async fn retention_facts(
        &self,
        child: ChildId,
        details: &ChildDetails,
        cases: &[Case],
        safeguarding: bool,
    ) -> AppResult<(Facts, Option<(bool, StoredRetentionFlag)>)> {
        let mut facts = Facts {
            date_of_birth: details.date_of_birth,
            date_of_death: details.date_of_death,
            episode: Self::retention_episode(cases),
            abuse_category: false,
            dsl_flag: None,
            latest_safeguarding: None,
        };
        let mut flag = None;
        if safeguarding {
            let (abuse, latest, stored) = self.retention_sg_facts(child).await?;
            facts.abuse_category = abuse;
            facts.latest_safeguarding = latest;
            if let Some((true, s)) = &stored {
                facts.dsl_flag = Some(london_date(s.set_at));
            }
            flag = stored;
        }
        Ok((facts, flag))
    }

    /// What holds a destruction of the child's records now.
    pub(crate) async fn retention_holds_of(&self, child: ChildId) -> AppResult<Vec<Hold>> {
        let mut holds = Vec::new();
        for concern in self.store.concerns_of_child(child).await? {
            if concern.kind == ConcernKind::Concern
                && concern.status == ConcernStatus::Submitted
                && self.retention_concern_open(&concern).await?
            {
                holds.push(Hold::OpenConcern);
                break;
            }
        }
        if self.store.open_subject_access_requests(child).await? > 0 {
            holds.push(Hold::PendingSubjectAccess);
        }
        if self
            .store
            .legal_holds_of(child)
            .await?
            .iter()
            .any(|h| h.lifted_at.is_none())
        {
            holds.push(Hold::LegalHold);
        }
        Ok(holds)
    }

    async fn retention_concern_open(&self, concern: &StoredConcern) -> AppResult<bool> {
        let steps = self.store.concern_steps(concern.id).await?;
        let progress = Progress::of(
            concern.submitted_at.unwrap_or(concern.created_at),
            &steps
                .iter()
                .map(|s| (s.kind, s.created_at))
                .collect::<Vec<_>>(),
        );
        Ok(progress.stage != Stage::Closed)
    }

    // ----- the child's page -----

    /// A child's retention as the reader may see it (administrators and the service lead: the
    /// clinical record and process notes; the DSL and deputies: the safeguarding records too).
    /// Audited as a read of the child's retention.
    pub async fn child_retention(
        &self,
        actor: &Actor,
        child: ChildId,
    ) -> AppResult<ChildRetention> {
        let gate = self.retention_gate(actor, child, "read retention").await?;
        let view = self.build_child_retention(actor, child, gate).await?;
        let mut event = Event::new(
            audit::Action::ChildRead,
            Some(actor.user.id.to_string()),
            "retention",
            Some(child.to_string()),
        )
        .for_child(child);
        if view.reach.safeguarding {
            event.category = Category::Safeguarding;
        }
        self.record(&actor.origin, vec![event]).await?;
        Ok(view)
    }

    async fn build_child_retention(
        &self,
        actor: &Actor,
        child: ChildId,
        gate: Gate,
    ) -> AppResult<ChildRetention> {
        let Gate { reach, details } = gate;
        let policies = policies()?;
        let (settings, _) = self.retention_settings().await?;
        let cases: Vec<Case> = self
            .store
            .cases_of(child)
            .await?
            .into_iter()
            .map(|c| c.case)
            .collect();
        let destroyed = self.destroyed_classes_of(child).await?;
        let sg_readable = reach.safeguarding && !destroyed.contains_key(&RecordClass::Safeguarding);
        let (facts, flag) = self
            .retention_facts(child, &details, &cases, sg_readable)
            .await?;
        let holds = self.retention_holds_of(child).await?;
        let requests = self.store.destruction_requests_of(child).await?;
        let today = self.today();
        let mut classes = Vec::new();
        for class in rules::CLASSES {
            if !rules::sees_class(&reach, class) {
                continue;
            }
            let gone = destroyed.get(&class).cloned();
            let retention = gone
                .is_none()
                .then(|| rules::retention(policies, &settings, &facts, class));
            let past = retention.as_ref().is_some_and(|r| r.is_past(today));
            let open_request = requests
                .iter()
                .find(|r| r.class == class && r.status == DestructionStatus::Requested)
                .map(|r| r.id);
            classes.push(ClassRetention {
                class,
                label: rules::class_label(class),
                rule_name: retention
                    .as_ref()
                    .map(|r| policies.text(r.rule).name.clone())
                    .unwrap_or_default(),
                past,
                may_request: past
                    && gone.is_none()
                    && open_request.is_none()
                    && holds.is_empty()
                    && rules::may_request(&actor.user, class)
                    && actor.may_write(),
                retention,
                destroyed: gone,
                open_request,
            });
        }
        let legal_holds = if reach.hold_reasons {
            self.legal_hold_views(child).await?
        } else {
            Vec::new()
        };
        let flag = if reach.flag {
            Some(match flag {
                Some((flagged, stored)) => {
                    let names = self.staff_names(&[stored.set_by]).await?;
                    FlagView {
                        flagged,
                        version: Some(stored.version),
                        set_by: names.get(&stored.set_by).cloned(),
                        set_at: Some(stored.set_at),
                    }
                }
                None => FlagView::default(),
            })
        } else {
            None
        };
        Ok(ChildRetention {
            child,
            child_name: details.legal_name.clone(),
            date_of_birth: details.date_of_birth,
            date_of_death: details.date_of_death,
            classes,
            holds: rules::hold_words(&holds, reach.hold_reasons),
            legal_holds,
            reach,
            flag: flag.filter(|_| !destroyed.contains_key(&RecordClass::Safeguarding)),
            may_write: actor.may_write(),
        })
    }

    async fn open_legal_hold_text(
        &self,
        hold: &StoredLegalHold,
        column: &str,
        sealed: &Sealed,
    ) -> AppResult<String> {
        let row = hold.id.to_string();
        let plain = self
            .keys
            .open(
                &holds_key(),
                sealed,
                SealedAt {
                    table: "legal_holds",
                    column,
                    row: &row,
                },
                self.clock.now(),
            )
            .await?;
        Ok(String::from_utf8_lossy(&plain).into_owned())
    }

    async fn legal_hold_views(&self, child: ChildId) -> AppResult<Vec<HoldView>> {
        let holds = self.store.legal_holds_of(child).await?;
        let mut ids: Vec<UserId> = holds.iter().map(|h| h.set_by).collect();
        ids.extend(holds.iter().filter_map(|h| h.lifted_by));
        let names = self.staff_names(&ids).await?;
        let name = |u: &UserId| names.get(u).cloned().unwrap_or_default();
        let mut views = Vec::with_capacity(holds.len());
        for hold in &holds {
            let reason = self
                .open_legal_hold_text(hold, "reason", &hold.reason)
                .await?;
            let lifted = match (hold.lifted_by, hold.lifted_at, &hold.lift_reason) {
                (Some(by), Some(at), Some(sealed)) => Some((
                    name(&by),
                    at,
                    self.open_legal_hold_text(hold, "lift_reason", sealed)
                        .await?,
                )),
                _ => None,
            };
            views.push(HoldView {
                id: hold.id,
                reason,
                set_by: name(&hold.set_by),
                set_at: hold.set_at,
                lifted,
                version: hold.version,
            });
        }
        Ok(views)
    }

    // ----- legal holds and the flag -----

    /// Refuses (audited) a change the reader's reach does not allow; they know the child, so
    /// the refusal may say why.
    async fn refuse_retention(
        &self,
        actor: &Actor,
        asked: &str,
        child: ChildId,
        why: &'static str,
    ) -> AppError {
        match self
            .audit_refusal(actor, asked, "retention", child.to_string(), child)
            .await
        {
            Ok(()) => AppError::Denied(if actor.may_write() {
                why
            } else {
                "this API token is read-only"
            }),
            Err(e) => e,
        }
    }

    /// Sets a legal hold on the child's records, with its reason (the service lead, the DSL
    /// and deputies): nothing of the child's is destroyed while it is set.
    pub async fn set_legal_hold(
        &self,
        actor: &Actor,
        child: ChildId,
        reason: &str,
    ) -> AppResult<Uuid> {
        let gate = self.retention_gate(actor, child, "set legal hold").await?;
        if !gate.reach.legal_holds || !actor.may_write() {
            return Err(self
                .refuse_retention(
                    actor,
                    "set legal hold",
                    child,
                    "only the service lead or the DSL sets a legal hold",
                )
                .await);
        }
        let reason = rules::parse_reason(reason)?;
        let id = self.new_id();
        let now = self.clock.now();
        let row = id.to_string();
        let sealed = self
            .keys
            .seal(
                &holds_key(),
                reason.as_bytes(),
                SealedAt {
                    table: "legal_holds",
                    column: "reason",
                    row: &row,
                },
                now,
            )
            .await?;
        let hold = StoredLegalHold {
            id,
            child_id: child,
            reason: sealed,
            set_by: actor.user.id,
            set_at: now,
            lifted_by: None,
            lifted_at: None,
            lift_reason: None,
            version: Version::FIRST,
        };
        let audit = self.audit_batch(
            &actor.origin,
            vec![
                Event::new(
                    audit::Action::LegalHoldSet,
                    Some(actor.user.id.to_string()),
                    "legal-hold",
                    Some(id.to_string()),
                )
                .for_child(child),
            ],
        );
        match self.store.set_legal_hold(&hold, &audit).await {
            Ok(()) => Ok(id),
            Err(StoreError::Conflict(c)) if c.contains("legal_holds") => Err(Invalid::field(
                "reason",
                "A legal hold is already set on this child's records: lift it first to set another",
            )
            .into()),
            Err(other) => Err(other.into()),
        }
    }

    /// Lifts a legal hold, with the reason (the service lead, the DSL and deputies).
    pub async fn lift_legal_hold(
        &self,
        actor: &Actor,
        child: ChildId,
        hold: Uuid,
        reason: &str,
        expected: Version,
    ) -> AppResult<()> {
        let gate = self.retention_gate(actor, child, "lift legal hold").await?;
        if !gate.reach.legal_holds || !actor.may_write() {
            return Err(self
                .refuse_retention(
                    actor,
                    "lift legal hold",
                    child,
                    "only the service lead or the DSL lifts a legal hold",
                )
                .await);
        }
        if !self
            .store
            .legal_holds_of(child)
            .await?
            .iter()
            .any(|h| h.id == hold)
        {
            return Err(AppError::NotFound);
        }
        let reason = rules::parse_reason(reason)?;
        let now = self.clock.now();
        let row = hold.to_string();
        let sealed = self
            .keys
            .seal(
                &holds_key(),
                reason.as_bytes(),
                SealedAt {
                    table: "legal_holds",
                    column: "lift_reason",
                    row: &row,
                },
                now,
            )
            .await?;
        let audit = self.audit_batch(
            &actor.origin,
            vec![
                Event::new(
                    audit::Action::LegalHoldLifted,
                    Some(actor.user.id.to_string()),
                    "legal-hold",
                    Some(hold.to_string()),
                )
                .for_child(child),
            ],
        );
        match self
            .store
            .lift_legal_hold(hold, actor.user.id, &sealed, expected, now, &audit)
            .await
        {
            Ok(_) => Ok(()),
            Err(StoreError::Conflict(c)) if c.contains("lifted") => Err(AppError::Conflict(
                "this legal hold has already been lifted".to_owned(),
            )),
            Err(other) => Err(other.into()),
        }
    }

    /// Sets or clears the DSL's flag on the child's safeguarding records (the 75-year rule):
    /// the DSL and deputies. `expected`: the version read, or `None` if it was never set.
    pub async fn set_retention_flag(
        &self,
        actor: &Actor,
        child: ChildId,
        flagged: bool,
        expected: Option<Version>,
    ) -> AppResult<()> {
        let gate = self
            .retention_gate(actor, child, "set retention flag")
            .await?;
        if !gate.reach.flag || !actor.may_write() {
            // Anyone but the DSL may not know the safeguarding records exist: as if absent.
            if !gate.reach.safeguarding {
                self.audit_refusal(
                    actor,
                    "set retention flag",
                    "retention",
                    child.to_string(),
                    child,
                )
                .await?;
                return Err(AppError::NotFound);
            }
            return Err(self
                .refuse_retention(
                    actor,
                    "set retention flag",
                    child,
                    "only the DSL flags safeguarding records",
                )
                .await);
        }
        if self
            .destroyed_on(child, RecordClass::Safeguarding)
            .await?
            .is_some()
        {
            return Err(AppError::Conflict(
                "the safeguarding records were destroyed: there is nothing left to keep".to_owned(),
            ));
        }
        let now = self.clock.now();
        let row = child.to_string();
        let plain = serde_json::to_vec(&FlagBody { flagged }).map_err(decode_error)?;
        let sealed = self
            .keys
            .seal(
                &child_key(child, RecordClass::Safeguarding),
                &plain,
                SealedAt {
                    table: "retention_flags",
                    column: "flag",
                    row: &row,
                },
                now,
            )
            .await?;
        let mut event = Event::new(
            audit::Action::RetentionFlagged,
            Some(actor.user.id.to_string()),
            "retention-flag",
            Some(child.to_string()),
        )
        .for_child(child)
        .detail(if flagged { "set" } else { "cleared" });
        event.category = Category::Safeguarding;
        let audit = self.audit_batch(&actor.origin, vec![event]);
        self.store
            .put_retention_flag(
                &StoredRetentionFlag {
                    child_id: child,
                    flag: sealed,
                    set_by: actor.user.id,
                    set_at: now,
                    version: expected.unwrap_or(Version::FIRST),
                },
                expected,
                &audit,
            )
            .await?;
        Ok(())
    }

    // ----- the report -----

    /// The records past their date and not destroyed, per child and class, a page at a time:
    /// administrators and the service lead see the clinical record and process notes, the DSL
    /// and deputies the safeguarding records too; holds are "On hold" to an administrator.
    /// Audited (the ids shown).
    pub async fn retention_report(&self, actor: &Actor, page: &PageRequest) -> AppResult<Report> {
        let reach = self
            .ensure_retention_reach(actor, "read retention report")
            .await?;
        let policies = policies()?;
        let (settings, _) = self.retention_settings().await?;
        let today = self.today();
        let destroyed: HashSet<(ChildId, RecordClass)> = self
            .store
            .destruction_requests_in(DestructionStatus::Destroyed)
            .await?
            .into_iter()
            .map(|r| (r.child_id, r.class))
            .collect();
        let open: HashMap<(ChildId, RecordClass), Uuid> = self
            .store
            .destruction_requests_in(DestructionStatus::Requested)
            .await?
            .into_iter()
            .map(|r| ((r.child_id, r.class), r.id))
            .collect();
        let listings = self
            .store
            .children(&crate::store::ChildSelection::All)
            .await?;
        let owners: Vec<KeyOwner> = listings
            .iter()
            .map(|l| child_key(l.child.id, RecordClass::Identity))
            .collect();
        let keys = self.keys.existing_data_keys(&owners).await?;
        let mut rows = Vec::new();
        for listing in &listings {
            let child = listing.child.id;
            let Some(key) = keys.get(&child_key(child, RecordClass::Identity)) else {
                continue;
            };
            let details = self.open_details(key, &listing.child)?;
            let plain = Facts {
                date_of_birth: details.date_of_birth,
                date_of_death: details.date_of_death,
                episode: Self::retention_episode(&listing.cases),
                abuse_category: false,
                dsl_flag: None,
                latest_safeguarding: None,
            };
            let mut past = Vec::new();
            for class in rules::CLASSES {
                if !rules::sees_class(&reach, class) || destroyed.contains(&(child, class)) {
                    continue;
                }
                let retention = if class == RecordClass::Safeguarding {
                    // Never earlier than the birthday rule: only then are the concerns opened.
                    let first = rules::retention(policies, &settings, &plain, class);
                    if !first.is_past(today) {
                        continue;
                    }
                    let (facts, _) = self
                        .retention_facts(child, &details, &listing.cases, true)
                        .await?;
                    rules::retention(policies, &settings, &facts, class)
                } else {
                    rules::retention(policies, &settings, &plain, class)
                };
                if let (true, Some(until)) = (retention.is_past(today), retention.until) {
                    past.push((class, until, retention.rule));
                }
            }
            if past.is_empty() {
                continue;
            }
            let holds =
                rules::hold_words(&self.retention_holds_of(child).await?, reach.hold_reasons);
            for (class, until, rule) in past {
                rows.push(ReportRow {
                    child,
                    child_name: details.legal_name.clone(),
                    date_of_birth: details.date_of_birth,
                    class,
                    until,
                    rule,
                    rule_name: policies.text(rule).name.clone(),
                    holds: holds.clone(),
                    open_request: open.get(&(child, class)).copied(),
                });
            }
        }
        rows.sort_by(|a, b| {
            (a.until, a.child, a.class.code()).cmp(&(b.until, b.child, b.class.code()))
        });
        let rows = paginate(rows, page);
        let awaiting = self.destructions_awaiting(actor).await?;
        let shown: Vec<String> = rows
            .items
            .iter()
            .map(|r| format!("{}:{}", r.child, r.class.code()))
            .collect();
        let mut event = Event::new(
            audit::Action::RetentionReportRead,
            Some(actor.user.id.to_string()),
            "retention-report",
            None,
        )
        .detail(&shown.join(","));
        if reach.safeguarding {
            event.category = Category::Safeguarding;
        }
        self.record(&actor.origin, vec![event]).await?;
        Ok(Report {
            rows,
            awaiting,
            reach,
        })
    }

    /// The requests awaiting approval that this reader may see (approvers: every open request
    /// of a class they may know of; anyone else, their own; the approve button is decided on
    /// the request's own page).
    async fn destructions_awaiting(&self, actor: &Actor) -> AppResult<Vec<DestructionSummary>> {
        let open = self
            .store
            .destruction_requests_in(DestructionStatus::Requested)
            .await?;
        let names = self
            .staff_names(&open.iter().map(|r| r.requested_by).collect::<Vec<_>>())
            .await?;
        Ok(open
            .into_iter()
            .filter(|r| rules::sees_request(&actor.user, r.class))
            .filter(|r| rules::may_approve(&actor.user) || r.requested_by == actor.user.id)
            .map(|r| DestructionSummary {
                id: r.id,
                reference: destruction_reference(r.id),
                child: r.child_id,
                class: r.class,
                requested_by: names.get(&r.requested_by).cloned().unwrap_or_default(),
                requested_at: r.requested_at,
            })
            .collect())
    }

    // ----- destruction -----

    /// Active people, other than `requester`, who may approve a destruction.
    async fn destruction_other_approvers(&self, requester: UserId) -> AppResult<usize> {
        let mut others = HashSet::new();
        for role in rules::APPROVERS {
            for user in self.active_users_with_role(role).await? {
                if user.id != requester {
                    others.insert(user.id);
                }
            }
        }
        Ok(others.len())
    }

    /// Refuses a request about a class the reader may not know of (safeguarding, to anyone
    /// but the DSL) as if absent, or one they may not ask for, with the reason.
    async fn refuse_destruction_request(
        &self,
        actor: &Actor,
        child: ChildId,
        class: RecordClass,
    ) -> AppError {
        let sees = rules::reach(&actor.user).is_some_and(|r| rules::sees_class(&r, class));
        let asked = format!("request destruction {}", class.code());
        if !sees {
            return match self
                .audit_refusal(actor, &asked, "retention", child.to_string(), child)
                .await
            {
                Ok(()) => AppError::NotFound,
                Err(e) => e,
            };
        }
        self.refuse_retention(
            actor,
            &asked,
            child,
            if class == RecordClass::Safeguarding {
                "only the DSL asks for safeguarding records to be destroyed"
            } else {
                "only an administrator asks for a destruction"
            },
        )
        .await
    }

    /// Whether the class may be destroyed now: not destroyed already, past its date, nothing
    /// holding it. The refusal is in this reader's words (an administrator: "On hold").
    async fn check_destroyable(
        &self,
        child: ChildId,
        class: RecordClass,
        reasons: bool,
        show_date: bool,
    ) -> AppResult<()> {
        if let Some(on) = self.destroyed_on(child, class).await? {
            return Err(AppError::Conflict(format!(
                "this record class was already destroyed on {}",
                uk::date(on)
            )));
        }
        let details = self.details_of(child).await?;
        let cases: Vec<Case> = self
            .store
            .cases_of(child)
            .await?
            .into_iter()
            .map(|c| c.case)
            .collect();
        let (facts, _) = self
            .retention_facts(child, &details, &cases, class == RecordClass::Safeguarding)
            .await?;
        let (settings, _) = self.retention_settings().await?;
        let retention = rules::retention(policies()?, &settings, &facts, class);
        if !retention.is_past(self.today()) {
            return Err(AppError::Conflict(match retention.until {
                // A safeguarding-driven date is the DSL's alone.
                Some(_) if !show_date => "it is not past its retention date".to_owned(),
                Some(until) => format!(
                    "it is not past its retention date: it is kept until {}",
                    uk::date(until)
                ),
                None => "it has no retention date yet: a case is open".to_owned(),
            }));
        }
        let holds = self.retention_holds_of(child).await?;
        if !holds.is_empty() {
            return Err(AppError::Conflict(
                rules::hold_words(&holds, reasons).join("; "),
            ));
        }
        Ok(())
    }

    fn destruction_event(
        &self,
        action: audit::Action,
        actor: &Actor,
        request: Uuid,
        child: ChildId,
        class: RecordClass,
        detail: &str,
    ) -> Event {
        let mut event = Event::new(
            action,
            Some(actor.user.id.to_string()),
            DESTRUCTION,
            Some(request.to_string()),
        )
        .for_child(child)
        .detail(detail);
        if class == RecordClass::Safeguarding {
            event.category = Category::Safeguarding;
        }
        event
    }

    /// Asks for one class of a child's record to be destroyed: an administrator (the DSL for
    /// the safeguarding records), only past its date and with nothing holding it. The
    /// approvers are given a task (the sole practitioner, when the cooling-off ends).
    pub async fn request_destruction(
        &self,
        actor: &Actor,
        child: ChildId,
        class: RecordClass,
    ) -> AppResult<Uuid> {
        let asked = "request destruction";
        if !rules::may_request(&actor.user, class) {
            // The child's gate first, so an unknown child answers as one.
            if rules::reach(&actor.user).is_some() {
                self.get_child_gate(actor, child, asked).await?;
            }
            return Err(self.refuse_destruction_request(actor, child, class).await);
        }
        let gate = self.retention_gate(actor, child, asked).await?;
        if !actor.may_write() {
            return Err(self
                .refuse_retention(actor, asked, child, "this API token is read-only")
                .await);
        }
        self.check_destroyable(child, class, gate.reach.hold_reasons, true)
            .await?;
        let id = self.new_id();
        let now = self.clock.now();
        let request = StoredDestructionRequest {
            id,
            child_id: child,
            class,
            status: DestructionStatus::Requested,
            requested_by: actor.user.id,
            requested_at: now,
            decided_by: None,
            decided_at: None,
            sole_practitioner: false,
            version: Version::FIRST,
            updated_at: now,
        };
        let (settings, _) = self.retention_settings().await?;
        let mut follow_ups = Vec::new();
        let mut approvers = HashSet::new();
        for role in rules::APPROVERS {
            for user in self.active_users_with_role(role).await? {
                if user.id != actor.user.id && approvers.insert(user.id) {
                    follow_ups.push(self.destruction_approval_firing(id, child, user.id, now));
                }
            }
        }
        if approvers.is_empty() && rules::may_approve(&actor.user) {
            // The sole practitioner: their own task when the cooling-off ends.
            let at = now.saturating_add(settings.cooling_off()).unwrap_or(now);
            follow_ups.push(self.destruction_approval_firing(id, child, actor.user.id, at));
        }
        let mut audit = self.audit_batch(
            &actor.origin,
            vec![self.destruction_event(
                audit::Action::DestructionRequested,
                actor,
                id,
                child,
                class,
                class.code(),
            )],
        );
        audit.follow_ups = follow_ups;
        match self
            .store
            .create_destruction_request(&request, &audit)
            .await
        {
            Ok(()) => Ok(id),
            Err(StoreError::Conflict(c)) if c.contains("one_destroyed") => Err(AppError::Conflict(
                "this record class was already destroyed".to_owned(),
            )),
            Err(StoreError::Conflict(c)) if c.contains("one_open") => Err(AppError::Conflict(
                "a destruction of this record class has already been asked for".to_owned(),
            )),
            Err(other) => Err(other.into()),
        }
    }

    fn destruction_approval_firing(
        &self,
        id: Uuid,
        child: ChildId,
        to: UserId,
        at: Timestamp,
    ) -> NewFiring {
        NewFiring {
            id: FiringId(self.new_id()),
            rule: Rule::ApproveDestruction,
            fire_at: at,
            recipient: Recipient::User(to),
            subject: Some(Subject {
                child: Some(child),
                record_type: DESTRUCTION.to_owned(),
                record_id: id.to_string(),
            }),
            reference: destruction_reference(id),
            dedupe_key: format!("{DESTRUCTION}:{id}:{to}"),
        }
    }

    /// The gate to a request: the reader reaches retention and the request's class (anyone
    /// else, and an unknown request: "not found", audited), and may know the child.
    async fn destruction_gate(
        &self,
        actor: &Actor,
        id: Uuid,
        asked: &str,
    ) -> AppResult<(StoredDestructionRequest, Reach)> {
        let found = self.store.destruction_request(id).await?;
        let reach = rules::reach(&actor.user);
        match (found, reach) {
            (Some(request), Some(reach)) if rules::sees_request(&actor.user, request.class) => {
                self.get_child_gate(actor, request.child_id, asked).await?;
                Ok((request, reach))
            }
            (found, _) => {
                let mut event = Event::new(
                    audit::Action::Denied,
                    Some(actor.user.id.to_string()),
                    DESTRUCTION,
                    Some(id.to_string()),
                )
                .detail(asked);
                if let Some(r) = &found {
                    event = event.for_child(r.child_id);
                    // Kept out of the administrators' view of the trail, like the request.
                    if r.class == RecordClass::Safeguarding {
                        event.category = Category::Safeguarding;
                    }
                }
                self.record(&actor.origin, vec![event]).await?;
                Err(AppError::NotFound)
            }
        }
    }

    /// A destruction request as this reader may see it (audited as a read).
    pub async fn destruction_view(&self, actor: &Actor, id: Uuid) -> AppResult<DestructionView> {
        let (request, reach) = self.destruction_gate(actor, id, "read destruction").await?;
        let view = self.build_destruction_view(actor, &request, &reach).await?;
        let mut event = Event::new(
            audit::Action::ChildRead,
            Some(actor.user.id.to_string()),
            DESTRUCTION,
            Some(id.to_string()),
        )
        .for_child(request.child_id);
        if request.class == RecordClass::Safeguarding {
            event.category = Category::Safeguarding;
        }
        self.record(&actor.origin, vec![event]).await?;
        Ok(view)
    }

    async fn build_destruction_view(
        &self,
        actor: &Actor,
        request: &StoredDestructionRequest,
        reach: &Reach,
    ) -> AppResult<DestructionView> {
        let child = request.child_id;
        let details = self.details_of(child).await?;
        let mut ids = vec![request.requested_by];
        ids.extend(request.decided_by);
        let names = self.staff_names(&ids).await?;
        let name = |u: &UserId| names.get(u).cloned().unwrap_or_default();
        let open = request.status == DestructionStatus::Requested;
        // The service lead sees a safeguarding request, never its safeguarding-driven date.
        let (retention, holds) = if open && rules::sees_class(reach, request.class) {
            let cases: Vec<Case> = self
                .store
                .cases_of(child)
                .await?
                .into_iter()
                .map(|c| c.case)
                .collect();
            let (facts, _) = self
                .retention_facts(
                    child,
                    &details,
                    &cases,
                    request.class == RecordClass::Safeguarding,
                )
                .await?;
            let (settings, _) = self.retention_settings().await?;
            (
                Some(rules::retention(
                    policies()?,
                    &settings,
                    &facts,
                    request.class,
                )),
                rules::hold_words(&self.retention_holds_of(child).await?, reach.hold_reasons),
            )
        } else if open {
            (
                None,
                rules::hold_words(&self.retention_holds_of(child).await?, reach.hold_reasons),
            )
        } else {
            (None, Vec::new())
        };
        let (mut may_approve, mut needs_password, mut cooling, mut refused) =
            (false, false, None, None);
        if open {
            let (settings, _) = self.retention_settings().await?;
            match rules::approval(
                &actor.user,
                request.requested_by,
                self.destruction_other_approvers(request.requested_by)
                    .await?,
                request.requested_at,
                self.clock.now(),
                settings.cooling_off(),
            ) {
                Approval::Allowed => may_approve = true,
                Approval::SoleAfterReauthentication => {
                    may_approve = true;
                    needs_password = true;
                }
                Approval::CoolingOff(until) => cooling = Some(until),
                Approval::Refused(why) => refused = Some(why),
            }
        }
        let may_write = actor.may_write();
        Ok(DestructionView {
            id: request.id,
            reference: destruction_reference(request.id),
            child,
            child_name: details.legal_name,
            class: request.class,
            status: request.status,
            requested_by: name(&request.requested_by),
            requested_at: request.requested_at,
            decided_by: request.decided_by.as_ref().map(name),
            decided_at: request.decided_at,
            sole_practitioner: request.sole_practitioner,
            version: request.version,
            retention,
            holds,
            may_approve: may_approve && may_write,
            needs_password,
            cooling_off_until: cooling,
            approval_refused: refused,
            may_refuse: open
                && may_write
                && rules::may_approve(&actor.user)
                && actor.user.id != request.requested_by,
            may_withdraw: open && may_write && actor.user.id == request.requested_by,
        })
    }

    /// Checks the password of the person approving their own request (the sole practitioner).
    async fn reauthenticate_for_destruction(
        &self,
        actor: &Actor,
        password: Option<&str>,
    ) -> AppResult<()> {
        let typed = password.unwrap_or_default().to_owned();
        let credentials = self
            .store
            .credentials(actor.user.id)
            .await?
            .ok_or(AppError::NotFound)?;
        let hash = credentials.password_hash;
        let ok = !typed.is_empty()
            && tokio::task::spawn_blocking(move || {
                alliance_core::auth::password::verify(&typed, &hash)
            })
            .await
            .unwrap_or(false);
        if ok {
            Ok(())
        } else {
            Err(Invalid::field(
                "password",
                "Your password is not right: give it again to approve your own request",
            )
            .into())
        }
    }

    /// Approves a destruction (the service lead or the DSL, never the person who asked unless
    /// they are the sole practitioner, after the cooling-off and with their password): the
    /// holds and the date are checked again, the class's key is destroyed, and the request
    /// becomes the tombstone.
    pub async fn approve_destruction(
        &self,
        actor: &Actor,
        id: Uuid,
        password: Option<&str>,
        expected: Version,
    ) -> AppResult<()> {
        let asked = "approve destruction";
        let (request, reach) = self.destruction_gate(actor, id, asked).await?;
        let child = request.child_id;
        if !actor.may_write() {
            return Err(self
                .refuse_retention(actor, asked, child, "this API token is read-only")
                .await);
        }
        if request.status != DestructionStatus::Requested {
            return Err(AppError::Conflict(
                "this request has already been decided".to_owned(),
            ));
        }
        if request.version != expected {
            return Err(AppError::Stale(request.version));
        }
        let (settings, _) = self.retention_settings().await?;
        let sole = match rules::approval(
            &actor.user,
            request.requested_by,
            self.destruction_other_approvers(request.requested_by)
                .await?,
            request.requested_at,
            self.clock.now(),
            settings.cooling_off(),
        ) {
            Approval::Allowed => false,
            Approval::SoleAfterReauthentication => true,
            Approval::CoolingOff(until) => {
                self.audit_refusal(actor, asked, DESTRUCTION, id.to_string(), child)
                    .await?;
                return Err(AppError::Conflict(format!(
                    "as the only person who may approve, you may approve your own request after the cooling-off, from {}",
                    uk::date_time(until)
                )));
            }
            Approval::Refused(why) => {
                self.audit_refusal(actor, asked, DESTRUCTION, id.to_string(), child)
                    .await?;
                return Err(AppError::Denied(why));
            }
        };
        if sole && let Err(e) = self.reauthenticate_for_destruction(actor, password).await {
            self.audit_refusal(actor, asked, DESTRUCTION, id.to_string(), child)
                .await?;
            return Err(e);
        }
        self.check_destroyable(
            child,
            request.class,
            reach.hold_reasons,
            rules::sees_class(&reach, request.class),
        )
        .await?;
        let now = self.clock.now();
        // The key first: if the tombstone then fails to commit, the request stays open and
        // approving again finds the key already gone and writes it.
        self.keys
            .destroy(&child_key(child, request.class), now)
            .await?;
        let detail = format!(
            "class={};request={};requested_by={};approved_by={}{}",
            request.class.code(),
            id,
            request.requested_by,
            actor.user.id,
            if sole { ";sole-practitioner" } else { "" }
        );
        let audit = self.audit_batch(
            &actor.origin,
            vec![
                self.destruction_event(
                    audit::Action::DestructionApproved,
                    actor,
                    id,
                    child,
                    request.class,
                    request.class.code(),
                ),
                self.destruction_event(
                    audit::Action::RecordClassDestroyed,
                    actor,
                    id,
                    child,
                    request.class,
                    &detail,
                ),
            ],
        );
        self.store
            .decide_destruction_request(
                id,
                DestructionStatus::Destroyed,
                actor.user.id,
                sole,
                expected,
                now,
                &audit,
            )
            .await
            .map_err(decided_conflict)?;
        Ok(())
    }

    /// Refuses a request (an approver other than the person who asked) or withdraws it (the
    /// person who asked).
    pub async fn close_destruction(
        &self,
        actor: &Actor,
        id: Uuid,
        expected: Version,
    ) -> AppResult<DestructionStatus> {
        let asked = "refuse destruction";
        let (request, _) = self.destruction_gate(actor, id, asked).await?;
        let child = request.child_id;
        let status = if actor.user.id == request.requested_by {
            DestructionStatus::Withdrawn
        } else if rules::may_approve(&actor.user) {
            DestructionStatus::Refused
        } else {
            return Err(self
                .refuse_retention(
                    actor,
                    asked,
                    child,
                    "only the service lead or the DSL refuses a destruction",
                )
                .await);
        };
        if !actor.may_write() {
            return Err(self
                .refuse_retention(actor, asked, child, "this API token is read-only")
                .await);
        }
        let audit = self.audit_batch(
            &actor.origin,
            vec![self.destruction_event(
                audit::Action::DestructionRefused,
                actor,
                id,
                child,
                request.class,
                status.code(),
            )],
        );
        self.store
            .decide_destruction_request(
                id,
                status,
                actor.user.id,
                false,
                expected,
                self.clock.now(),
                &audit,
            )
            .await
            .map_err(decided_conflict)?;
        Ok(status)
    }
}

impl Alliance {
    /// Whether `user` may see a task about a destruction request: the request's own check
    /// (those who may see its class; the service lead for the safeguarding records), and the
    /// child's gate.
    pub(crate) async fn may_see_destruction_subject(
        &self,
        user: &alliance_core::identity::User,
        subject: &Subject,
    ) -> AppResult<bool> {
        let Ok(id) = Uuid::parse_str(&subject.record_id) else {
            return Ok(false);
        };
        let Some(request) = self.store.destruction_request(id).await? else {
            return Ok(false);
        };
        Ok(rules::sees_request(user, request.class)
            && self.may_know_child_now(user, request.child_id).await?)
    }
}

fn decided_conflict(err: StoreError) -> AppError {
    match err {
        StoreError::Conflict(c) if c.contains("decided") => {
            AppError::Conflict("this request has already been decided".to_owned())
        }
        other => other.into(),
    }
}

/// A page of the report: the cursor is the position and the key of the last row shown.
fn paginate(rows: Vec<ReportRow>, request: &PageRequest) -> Page<ReportRow> {
    let key = |r: &ReportRow| format!("{}:{}", r.child, r.class.code());
    let start = match &request.after {
        None => 0,
        Some(cursor) => {
            let (position, last) = cursor.as_str().split_once('.').unwrap_or(("0", ""));
            match rows.iter().position(|r| key(r) == last) {
                Some(i) => i + 1,
                None => position.parse::<usize>().unwrap_or(0).min(rows.len()),
            }
        }
    };
    let limit = request.limit as usize;
    let end = (start + limit).min(rows.len());
    let next = (end < rows.len())
        .then(|| {
            rows.get(end.wrapping_sub(1))
                .map(|r| format!("{end}.{}", key(r)))
        })
        .flatten();
    let items = rows.into_iter().skip(start).take(limit).collect();
    Page {
        items,
        next: next.map(|n| Cursor::from_key(n).as_str().to_owned()),
    }
}
