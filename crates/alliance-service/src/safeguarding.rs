//! Safeguarding 1 (issue 13): concerns in the child's words, the urgent path along the
//! on-duty rota, sealed records with addenda, linked children, legal duties by category, and
//! allegations against staff (policy sections 1 and 4).
//!
//! Who may reach what is `alliance_core::safeguarding` (`concern_reach`, `allegation_reach`);
//! a concern anyone may not reach answers "not found" and the attempt is audited. A draft is
//! its author's alone. Submitting seals it (storage and the database refuse any change);
//! what follows is a step or an addendum. Concerns are sealed under the child's safeguarding
//! key; one raised by look-up (the raiser does not know the child) under the service key
//! `safeguarding-intake` until the DSL matches it; allegations under the service key
//! `allegations`. Every audit entry is in the safeguarding (or allegation) category.

use crate::app::Alliance;
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::store::{
    AuditBatch, ConcernLink, NewFiring, SealedUnder, StoreError, StoredConcern,
    StoredConcernAddendum, StoredConcernStep,
};
use alliance_core::audit::{self, Category, Event};
use alliance_core::cases::CaseId;
use alliance_core::children::ChildId;
use alliance_core::concern_workflow::Stage;
use alliance_core::crypto::{KeyOwner, RecordClass, Sealed, SealedAt};
use alliance_core::identity::{Role, User, UserId};
use alliance_core::policy;
use alliance_core::safeguarding::{
    self as sg, ChildLookup, ConcernContent, ConcernId, ConcernKind, ConcernStatus, Contact,
    Contacts, Duty, DutyCase, HarmCategory, Reach, Rota, RotaPosition, StepDetail, StepKind,
    Timing,
};
use alliance_core::schedule::BookingId;
use alliance_core::tasks::{FiringId, Recipient, Rule, Subject};
use alliance_core::{Invalid, Version, uk};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use uuid::Uuid;

/// The settings documents: the on-duty rota, the out-of-hours contacts, the timing.
pub const ROTA: &str = "safeguarding-rota";
pub const CONTACTS: &str = "safeguarding-contacts";
pub const TIMING: &str = "safeguarding-timing";
const INTAKE_KEY: &str = "safeguarding-intake";
const ALLEGATIONS_KEY: &str = "allegations";

/// How a concern is named in titles, lists and the receipt: never a name.
pub fn concern_reference(kind: ConcernKind, id: ConcernId) -> String {
    match kind {
        ConcernKind::Concern => short_reference("SG", id.0),
        ConcernKind::Allegation => short_reference("AL", id.0),
    }
}

/// `PREFIX-` and the id's random tail (its head is a timestamp, the same for ids made
/// together): how safeguarding records are named, never by whom they are about.
pub(crate) fn short_reference(prefix: &str, id: Uuid) -> String {
    let simple = id.simple().to_string();
    format!("{prefix}-{}", simple[simple.len() - 8..].to_uppercase())
}

fn record_type(kind: ConcernKind) -> &'static str {
    kind.code()
}

fn category(kind: ConcernKind) -> Category {
    match kind {
        ConcernKind::Concern => Category::Safeguarding,
        ConcernKind::Allegation => Category::Allegation,
    }
}

fn decode_error(e: impl std::fmt::Display) -> AppError {
    AppError::Store(StoreError::Other(format!(
        "a sealed safeguarding record did not open: {e}"
    )))
}

/// Where a concern is raised from.
#[derive(Debug, Clone)]
pub enum RaiseFrom {
    /// The child's page (the raiser may know the child).
    Child(ChildId),
    /// A session's record.
    Session(BookingId),
    /// A name, date of birth and school typed by someone who may not know the child: the
    /// answer is the same whether or not the child is known; the DSL matches.
    Lookup(ChildLookup),
}

/// A step, opened.
#[derive(Debug, Clone, PartialEq)]
pub struct StepView {
    pub kind: StepKind,
    pub actor: String,
    pub at: Timestamp,
    pub detail: StepDetail,
    /// The step in words (`concern_workflow::describe`).
    pub lines: Vec<(&'static str, String)>,
}

/// An addendum, opened.
#[derive(Debug, Clone, PartialEq)]
pub struct AddendumView {
    pub id: Uuid,
    pub author: String,
    pub at: Timestamp,
    pub reason: String,
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct AddendumBody {
    pub(crate) reason: String,
    pub(crate) text: String,
}

/// A legal duty that falls on the reader (the concern's author), with its deadline and
/// whether the report is recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct DutyView {
    pub duty: Duty,
    pub deadline: Timestamp,
    pub longest: Timestamp,
    pub reported: bool,
}

/// Another child on a concern, as this reader may see them.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkedChild {
    /// Set only for the child whose record the reader came from (their own child).
    pub child: Option<ChildId>,
    /// Their name for that child; "Another child" for every other.
    pub label: String,
}

/// A concern or allegation opened for a reader who may reach it.
#[derive(Debug, Clone)]
pub struct ConcernView {
    pub stored: StoredConcern,
    pub reference: String,
    pub reach: Reach,
    pub is_author: bool,
    pub content: ConcernContent,
    /// The child as typed at a look-up (for its author and the DSL).
    pub lookup: Option<ChildLookup>,
    /// Who the concern is about, for this reader: the child's name, or what the raiser typed.
    pub child_label: String,
    /// The child's id when the reader may open their record.
    pub child_link: Option<ChildId>,
    pub author_name: String,
    /// An allegation's subject (never shown to them: they cannot reach it).
    pub subject_name: Option<String>,
    pub steps: Vec<StepView>,
    pub addenda: Vec<AddendumView>,
    pub linked: Vec<LinkedChild>,
    pub duties: Vec<DutyView>,
    pub acknowledged: Option<(String, Timestamp)>,
    /// For an urgent concern: by when the DSL on duty must acknowledge.
    pub acknowledge_by: Option<Timestamp>,
    /// Tell the reader at once to call the emergency duty team or 999 (and record it): an
    /// urgent concern nobody acknowledged in time, or raised when nobody was on duty.
    pub call_now: bool,
    /// The emergency duty team for the child's site (else the service's).
    pub emergency_duty_team: Contact,
    /// The designated officer, for an allegation's handler and a sole practitioner.
    pub designated_officer: Option<Contact>,
    pub may_acknowledge: bool,
    pub may_add_addendum: bool,
    pub may_record_call: bool,
    pub may_match: bool,
    pub may_link: bool,
    pub may_refer: bool,
    /// The reader sees only what the DSL shared with them (not the concern itself).
    pub shared_only: bool,
    /// Where the DSL's work stands.
    pub stage: Stage,
    /// By when the DSL must decide (awaiting a decision).
    pub decide_by: Option<Timestamp>,
    /// The DSL (or deputy; an allegation's handler) may record workflow steps.
    pub may_work: bool,
    /// Whom the DSL may share with: the child's current case team (id, name, role).
    pub team: Vec<(UserId, String, String)>,
    /// The child's carers, for recording information shared with one (id, name and
    /// relationship).
    pub carers: Vec<(Uuid, String)>,
}

/// What the raiser is told on submitting: the same words whether or not the child is known.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub id: ConcernId,
    pub reference: String,
    pub kind: ConcernKind,
    pub urgent: bool,
    /// Who was told at once (the DSL on duty, or the handlers of an allegation).
    pub told: Vec<String>,
    /// Nobody could be told: call the emergency duty team or 999 now.
    pub call_now: bool,
    pub acknowledge_by: Option<Timestamp>,
    pub emergency_duty_team: Contact,
    /// For an allegation nobody here can handle (a sole practitioner): whom to call.
    pub designated_officer: Option<Contact>,
    pub duties: Vec<DutyView>,
}

/// One line of a list of concerns.
#[derive(Debug, Clone, PartialEq)]
pub struct ConcernSummary {
    pub id: ConcernId,
    pub reference: String,
    pub kind: ConcernKind,
    pub status: ConcernStatus,
    pub urgent: bool,
    /// Who it is about, as this reader may see it.
    pub about: String,
    pub author: String,
    pub created_at: Timestamp,
    pub submitted_at: Option<Timestamp>,
    pub acknowledged: bool,
    /// Raised by look-up and not yet matched to a record (for the DSL's queue).
    pub unmatched: bool,
    /// When acknowledgement (or, once acknowledged, the decision) is due.
    pub due: Option<Timestamp>,
    pub overdue: bool,
    /// Where the DSL's work stands (the raiser reads the decisions on their own entries,
    /// policy section 1, so they see it too).
    pub stage: Stage,
}

/// The DSL's queue: what awaits acknowledgement (urgent first), then the newest.
#[derive(Debug, Clone, Default)]
pub struct Queue {
    pub awaiting: Vec<ConcernSummary>,
    /// Acknowledged and not closed, the soonest due first (decisions awaited, then the
    /// open ones).
    pub open: Vec<ConcernSummary>,
    pub recent: Vec<ConcernSummary>,
    /// Allegations the reader handles (the service lead; the DSL when the subject is a lead).
    pub allegations: Vec<ConcernSummary>,
    pub may_act: bool,
}

/// The rota with the names it needs.
#[derive(Debug, Clone)]
pub struct RotaPage {
    pub rota: Rota,
    pub version: Option<Version>,
    pub names: HashMap<UserId, String>,
    pub on_duty_now: Vec<(UserId, RotaPosition, String)>,
    /// Who may be put on the rota: active holders of the DSL or deputy role.
    pub candidates: Vec<(UserId, String, Vec<RotaPosition>)>,
    pub may_edit: bool,
}

pub(crate) fn owner_for(under: SealedUnder, child: Option<ChildId>) -> AppResult<KeyOwner> {
    Ok(match under {
        SealedUnder::Child => KeyOwner::Child {
            child: child
                .ok_or_else(|| decode_error("a child-sealed concern without a child"))?
                .to_string(),
            class: RecordClass::Safeguarding,
        },
        SealedUnder::Intake => KeyOwner::Service {
            purpose: INTAKE_KEY.to_owned(),
        },
        SealedUnder::Allegations => KeyOwner::Service {
            purpose: ALLEGATIONS_KEY.to_owned(),
        },
    })
}

impl Alliance {
    pub(crate) async fn seal_sg(
        &self,
        owner: &KeyOwner,
        table: &str,
        column: &str,
        row: &str,
        value: &impl Serialize,
    ) -> AppResult<Sealed> {
        let plain = serde_json::to_vec(value).map_err(decode_error)?;
        Ok(self
            .keys
            .seal(
                owner,
                &plain,
                SealedAt { table, column, row },
                self.clock.now(),
            )
            .await?)
    }

    pub(crate) async fn open_sg<T: serde::de::DeserializeOwned>(
        &self,
        owner: &KeyOwner,
        table: &str,
        column: &str,
        row: &str,
        sealed: &Sealed,
    ) -> AppResult<T> {
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
        serde_json::from_slice(&plain).map_err(decode_error)
    }

    pub(crate) fn concern_event(
        &self,
        action: audit::Action,
        actor: &Actor,
        concern: &StoredConcern,
    ) -> Event {
        let mut event = Event::new(
            action,
            Some(actor.user.id.to_string()),
            record_type(concern.kind),
            Some(concern.id.to_string()),
        );
        event.category = category(concern.kind);
        // An allegation is about a member of staff: it is kept out of every child's trail.
        if concern.kind == ConcernKind::Concern
            && let Some(child) = concern.child_id
        {
            event = event.for_child(child);
        }
        event
    }

    pub(crate) async fn refuse_concern(
        &self,
        actor: &Actor,
        asked: &str,
        concern: Option<&StoredConcern>,
        id: ConcernId,
    ) -> AppError {
        let mut event = Event::new(
            audit::Action::Denied,
            Some(actor.user.id.to_string()),
            concern.map_or("concern", |c| record_type(c.kind)),
            Some(id.to_string()),
        )
        .detail(asked);
        event.category = concern.map_or(Category::Safeguarding, |c| category(c.kind));
        if let Some(c) = concern
            && c.kind == ConcernKind::Concern
            && let Some(child) = c.child_id
        {
            event = event.for_child(child);
        }
        match self.record(&actor.origin, vec![event]).await {
            Ok(()) => AppError::NotFound,
            Err(e) => e.into(),
        }
    }

    /// How far `user` reaches a concern: a draft is its author's alone.
    pub(crate) async fn concern_reach_of(
        &self,
        user: &User,
        concern: &StoredConcern,
    ) -> AppResult<Reach> {
        if concern.status == ConcernStatus::Draft {
            return Ok(if concern.author == user.id {
                Reach::OwnEntries
            } else {
                Reach::None
            });
        }
        Ok(match concern.kind {
            ConcernKind::Concern => sg::concern_reach(user, concern.author),
            ConcernKind::Allegation => {
                let subject = match concern.subject_user {
                    Some(id) => self.store.user(id).await?,
                    None => None,
                };
                match subject {
                    Some(subject) => sg::allegation_reach(user, concern.author, &subject),
                    None => Reach::None,
                }
            }
        })
    }

    /// The one gate to a concern: "not found" (audited) unless the reader reaches it.
    pub(crate) async fn concern_gate(
        &self,
        actor: &Actor,
        id: ConcernId,
        asked: &str,
    ) -> AppResult<(StoredConcern, Reach)> {
        let Some(concern) = self.store.concern(id).await? else {
            return Err(self.refuse_concern(actor, asked, None, id).await);
        };
        let reach = self.concern_reach_of(&actor.user, &concern).await?;
        if reach == Reach::None || !actor.user.active {
            return Err(self.refuse_concern(actor, asked, Some(&concern), id).await);
        }
        Ok((concern, reach))
    }

    // ----- the rota, the contacts and the timing -----

    /// The on-duty rota (open to everyone who works here: a raiser needs to know who is on
    /// duty).
    pub async fn safeguarding_rota(&self, actor: &Actor) -> AppResult<RotaPage> {
        let (rota, version) = self.rota().await?;
        let mut ids: Vec<UserId> = rota.slots.iter().map(|s| s.user).collect();
        ids.extend(rota.absences.iter().map(|a| a.user));
        let names = self.staff_names(&ids).await?;
        let on_duty_now = self
            .on_duty_at(&rota, self.clock.now())
            .await?
            .into_iter()
            .map(|(u, p)| (u, p, names.get(&u).cloned().unwrap_or_default()))
            .collect();
        let mut candidates: Vec<(UserId, String, Vec<RotaPosition>)> = Vec::new();
        for position in [RotaPosition::Dsl, RotaPosition::Deputy] {
            for user in self.active_users_with_role(position.role()).await? {
                match candidates.iter_mut().find(|(id, _, _)| *id == user.id) {
                    Some((_, _, positions)) => positions.push(position),
                    None => candidates.push((user.id, user.display_name.clone(), vec![position])),
                }
            }
        }
        Ok(RotaPage {
            rota,
            version,
            names,
            on_duty_now,
            candidates,
            may_edit: sg::may_edit_rota(&actor.user) && actor.may_write(),
        })
    }

    async fn rota(&self) -> AppResult<(Rota, Option<Version>)> {
        Ok(
            match self
                .settings_document::<Rota>(ROTA, "safeguarding rota")
                .await?
            {
                None => (Rota::default(), None),
                Some((r, v)) => (r, Some(v)),
            },
        )
    }

    /// Who is on duty at `at`: the rota's people who still hold the place's role and are
    /// active, the DSL first.
    async fn on_duty_at(
        &self,
        rota: &Rota,
        at: Timestamp,
    ) -> AppResult<Vec<(UserId, RotaPosition)>> {
        let mut out = Vec::new();
        for (user, position) in rota.on_duty(at, &uk::london()) {
            if let Some(u) = self.store.user(user).await?
                && u.active
                && u.has_role(position.role())
            {
                out.push((user, position));
            }
        }
        Ok(out)
    }

    /// Everyone on duty now and every active service lead (the escalation of an urgent
    /// concern): the scheduler's `Recipient::OnDuty`.
    pub(crate) async fn on_duty_and_leads(&self) -> AppResult<Vec<UserId>> {
        let (rota, _) = self.rota().await?;
        let mut ids: Vec<UserId> = self
            .on_duty_at(&rota, self.clock.now())
            .await?
            .into_iter()
            .map(|(u, _)| u)
            .collect();
        for lead in self.active_users_with_role(Role::ServiceLead).await? {
            if !ids.contains(&lead.id) {
                ids.push(lead.id);
            }
        }
        Ok(ids)
    }

    /// Changes the rota (administrators, the service lead, the DSL): everyone on it must be
    /// active and hold the place's role.
    pub async fn set_safeguarding_rota(
        &self,
        actor: &Actor,
        rota: Rota,
        expected: Option<Version>,
    ) -> AppResult<Rota> {
        self.require(
            actor,
            policy::Action::KeepSafeguardingRota,
            "update safeguarding rota",
            "service",
            Some("1".to_owned()),
        )
        .await?;
        rota.check()?;
        let mut errors = Vec::new();
        for (i, slot) in rota.slots.iter().enumerate() {
            let fits = match self.store.user(slot.user).await? {
                Some(u) => u.active && u.has_role(slot.position.role()),
                None => false,
            };
            if !fits {
                errors.push(alliance_core::FieldError::new(
                    format!("slots.{i}.user"),
                    format!(
                        "Choose someone active who holds the {} role",
                        slot.position.role().label()
                    ),
                ));
            }
        }
        for (i, absence) in rota.absences.iter().enumerate() {
            if self.store.user(absence.user).await?.is_none() {
                errors.push(alliance_core::FieldError::new(
                    format!("absences.{i}.user"),
                    "Choose someone on the rota",
                ));
            }
        }
        if !errors.is_empty() {
            return Err(Invalid { errors }.into());
        }
        self.put_settings_document(actor, ROTA, &rota, expected)
            .await?;
        Ok(rota)
    }

    /// The out-of-hours contacts (open to everyone who works here).
    pub async fn safeguarding_contacts(&self) -> AppResult<(Contacts, Option<Version>)> {
        Ok(
            match self
                .settings_document::<Contacts>(CONTACTS, "safeguarding contacts")
                .await?
            {
                None => (Contacts::default(), None),
                Some((c, v)) => (c, Some(v)),
            },
        )
    }

    /// Changes the out-of-hours contacts (administrators and the service lead); every site
    /// named must exist.
    pub async fn set_safeguarding_contacts(
        &self,
        actor: &Actor,
        contacts: &Contacts,
        expected: Option<Version>,
    ) -> AppResult<Contacts> {
        self.require(
            actor,
            policy::Action::ManageSafeguardingSettings,
            "update safeguarding contacts",
            "service",
            Some("1".to_owned()),
        )
        .await?;
        let contacts = Contacts::parse(contacts)?;
        for site in contacts.sites.keys() {
            let id = alliance_core::directory::SiteId::parse(site)
                .map_err(|e| Invalid::field("sites", e))?;
            if self.store.site(id).await?.is_none() {
                return Err(Invalid::field("sites", "Choose one of the service's sites").into());
            }
        }
        self.put_settings_document(actor, CONTACTS, &contacts, expected)
            .await?;
        Ok(contacts)
    }

    /// The service's safeguarding timing (the defaults until someone changes them).
    pub async fn safeguarding_timing(&self) -> AppResult<(Timing, Option<Version>)> {
        Ok(
            match self
                .settings_document::<Timing>(TIMING, "safeguarding timing")
                .await?
            {
                None => (Timing::default(), None),
                Some((t, v)) => (t, Some(v)),
            },
        )
    }

    /// Changes the timing (administrators and the service lead).
    pub async fn set_safeguarding_timing(
        &self,
        actor: &Actor,
        timing: Timing,
        expected: Option<Version>,
    ) -> AppResult<Timing> {
        self.require(
            actor,
            policy::Action::ManageSafeguardingSettings,
            "update safeguarding timing",
            "service",
            Some("1".to_owned()),
        )
        .await?;
        timing.check()?;
        self.put_settings_document(actor, TIMING, &timing, expected)
            .await?;
        Ok(timing)
    }

    // ----- raising -----

    fn refuse_raise(&self, actor: &Actor) -> AppResult<()> {
        if sg::may_raise(&actor.user) {
            actor.ensure_may_write()
        } else {
            Err(AppError::Denied(
                "concerns are raised by people who work with children",
            ))
        }
    }

    /// Starts a draft concern (its author's alone until submitted).
    pub async fn start_concern(&self, actor: &Actor, from: RaiseFrom) -> AppResult<StoredConcern> {
        self.refuse_raise(actor)?;
        let id = ConcernId(self.new_id());
        let row = id.to_string();
        let now = self.clock.now();
        let (child, session, lookup) = match from {
            RaiseFrom::Child(child) => {
                self.get_child_gate(actor, child, "raise concern").await?;
                (Some(child), None, None)
            }
            RaiseFrom::Session(session) => {
                let booked = self
                    .store
                    .booked_session(session)
                    .await?
                    .ok_or(AppError::NotFound)?;
                self.get_child_gate(actor, booked.child_id, "raise concern")
                    .await?;
                (Some(booked.child_id), Some(session), None)
            }
            RaiseFrom::Lookup(typed) => {
                let typed = ChildLookup::parse(&typed, self.today())?;
                (None, None, Some(typed))
            }
        };
        let under = if child.is_some() {
            SealedUnder::Child
        } else {
            SealedUnder::Intake
        };
        let owner = owner_for(under, child)?;
        let content = self
            .seal_sg(
                &owner,
                "concerns",
                "content",
                &row,
                &ConcernContent::default(),
            )
            .await?;
        let lookup = match &lookup {
            Some(typed) => Some(
                self.seal_sg(
                    &owner_for(SealedUnder::Intake, None)?,
                    "concerns",
                    "lookup",
                    &row,
                    typed,
                )
                .await?,
            ),
            None => None,
        };
        let concern = StoredConcern {
            id,
            kind: ConcernKind::Concern,
            status: ConcernStatus::Draft,
            child_id: child,
            author: actor.user.id,
            subject_user: None,
            session_id: session,
            urgent: false,
            sealed_under: under,
            content,
            lookup,
            version: Version::FIRST,
            created_at: now,
            updated_at: now,
            submitted_at: None,
        };
        let audit = self.audit_batch(
            &actor.origin,
            vec![self.concern_event(audit::Action::ConcernDrafted, actor, &concern)],
        );
        self.store.create_concern(&concern, &audit).await?;
        Ok(concern)
    }

    /// Starts a draft allegation against a member of staff (never oneself).
    pub async fn start_allegation(
        &self,
        actor: &Actor,
        subject: UserId,
    ) -> AppResult<StoredConcern> {
        self.refuse_raise(actor)?;
        if subject == actor.user.id {
            return Err(Invalid::field(
                "subject",
                "An allegation is about someone else; to report yourself, speak to the service lead",
            )
            .into());
        }
        if self.store.user(subject).await?.is_none() {
            return Err(Invalid::field("subject", "Choose a member of staff").into());
        }
        let id = ConcernId(self.new_id());
        let row = id.to_string();
        let now = self.clock.now();
        let content = self
            .seal_sg(
                &owner_for(SealedUnder::Allegations, None)?,
                "concerns",
                "content",
                &row,
                &ConcernContent::default(),
            )
            .await?;
        let concern = StoredConcern {
            id,
            kind: ConcernKind::Allegation,
            status: ConcernStatus::Draft,
            child_id: None,
            author: actor.user.id,
            subject_user: Some(subject),
            session_id: None,
            urgent: false,
            sealed_under: SealedUnder::Allegations,
            content,
            lookup: None,
            version: Version::FIRST,
            created_at: now,
            updated_at: now,
            submitted_at: None,
        };
        let audit = self.audit_batch(
            &actor.origin,
            vec![self.concern_event(audit::Action::ConcernDrafted, actor, &concern)],
        );
        self.store.create_concern(&concern, &audit).await?;
        Ok(concern)
    }

    async fn own_draft(
        &self,
        actor: &Actor,
        id: ConcernId,
        asked: &str,
    ) -> AppResult<StoredConcern> {
        let (concern, _) = self.concern_gate(actor, id, asked).await?;
        if concern.author != actor.user.id {
            return Err(self.refuse_concern(actor, asked, Some(&concern), id).await);
        }
        if concern.status != ConcernStatus::Draft {
            return Err(AppError::Conflict(
                "this concern was submitted and is sealed: add an addendum instead".to_owned(),
            ));
        }
        actor.ensure_may_write()?;
        Ok(concern)
    }

    /// Saves what has been typed as the author's draft (and, for a look-up, the child as
    /// typed). Nothing typed is refused for being unfinished.
    pub async fn save_concern_draft(
        &self,
        actor: &Actor,
        id: ConcernId,
        input: &ConcernContent,
        lookup: Option<&ChildLookup>,
        expected: Version,
    ) -> AppResult<StoredConcern> {
        let concern = self.own_draft(actor, id, "save concern draft").await?;
        let content = ConcernContent::parse_draft(input)?;
        let row = id.to_string();
        let owner = owner_for(concern.sealed_under, concern.child_id)?;
        let sealed = self
            .seal_sg(&owner, "concerns", "content", &row, &content)
            .await?;
        let lookup = match (lookup, &concern.lookup) {
            (Some(typed), Some(_)) => {
                let typed = ChildLookup::parse(typed, self.today())?;
                Some(
                    self.seal_sg(
                        &owner_for(SealedUnder::Intake, None)?,
                        "concerns",
                        "lookup",
                        &row,
                        &typed,
                    )
                    .await?,
                )
            }
            _ => concern.lookup.clone(),
        };
        let audit = self.audit_batch(
            &actor.origin,
            vec![self.concern_event(audit::Action::ConcernDrafted, actor, &concern)],
        );
        Ok(self
            .store
            .save_concern_draft(
                id,
                &sealed,
                lookup.as_ref(),
                expected,
                self.clock.now(),
                &audit,
            )
            .await?)
    }

    /// Throws away an unsubmitted draft (its author).
    pub async fn discard_concern_draft(&self, actor: &Actor, id: ConcernId) -> AppResult<()> {
        let concern = self.own_draft(actor, id, "discard concern draft").await?;
        let audit = self.audit_batch(
            &actor.origin,
            vec![self.concern_event(audit::Action::ConcernDraftDiscarded, actor, &concern)],
        );
        if self.store.discard_concern_draft(id, &audit).await? {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }

    /// The draft's content as its author typed it, with the look-up, for the form.
    pub async fn concern_draft(
        &self,
        actor: &Actor,
        id: ConcernId,
    ) -> AppResult<(StoredConcern, ConcernContent, Option<ChildLookup>)> {
        let (concern, _) = self.concern_gate(actor, id, "read concern draft").await?;
        if concern.status != ConcernStatus::Draft || concern.author != actor.user.id {
            return Err(AppError::NotFound);
        }
        let (content, lookup) = self.open_concern(&concern).await?;
        Ok((concern, content, lookup))
    }

    pub(crate) async fn open_concern(
        &self,
        concern: &StoredConcern,
    ) -> AppResult<(ConcernContent, Option<ChildLookup>)> {
        let row = concern.id.to_string();
        let content = self
            .open_sg(
                &owner_for(concern.sealed_under, concern.child_id)?,
                "concerns",
                "content",
                &row,
                &concern.content,
            )
            .await?;
        let lookup = match &concern.lookup {
            Some(sealed) => Some(
                self.open_sg(
                    &owner_for(SealedUnder::Intake, None)?,
                    "concerns",
                    "lookup",
                    &row,
                    sealed,
                )
                .await?,
            ),
            None => None,
        };
        Ok((content, lookup))
    }

    /// The child's details when known: (sex code, age, school site, at school).
    async fn child_facts(
        &self,
        concern: &StoredConcern,
        lookup: Option<&ChildLookup>,
    ) -> AppResult<(Option<String>, Option<i16>, Option<String>, bool)> {
        let today = self.today();
        if let Some(child) = concern.child_id {
            let d = self.details_of(child).await?;
            let sex = match d.sex.code() {
                "female" | "male" => Some(d.sex.code().to_owned()),
                _ => None,
            };
            return Ok((
                sex,
                Some(d.age_on(today)),
                d.school_site.map(|s| s.to_string()),
                d.school_site.is_some() || d.school_name.is_some(),
            ));
        }
        let age = lookup
            .and_then(|l| l.date_of_birth())
            .map(|dob| alliance_core::children::age_on(dob, today));
        let at_school = lookup.is_some_and(|l| !l.school.is_empty());
        Ok((None, age, None, at_school))
    }

    /// The duties that fall on the concern's author.
    async fn duties_for(
        &self,
        concern: &StoredConcern,
        content: &ConcernContent,
        lookup: Option<&ChildLookup>,
        steps: &[StoredConcernStep],
        submitted: Timestamp,
    ) -> AppResult<Vec<DutyView>> {
        if concern.kind != ConcernKind::Concern {
            return Ok(Vec::new());
        }
        let Some(author) = self.store.user(concern.author).await? else {
            return Ok(Vec::new());
        };
        let nation = match self.service_profile().await? {
            Some(p) => p.nation,
            None => return Ok(Vec::new()),
        };
        let (sex, age, _, _) = self.child_facts(concern, lookup).await?;
        let categories = content.harm_categories();
        let calendar = self.working_calendar().await?;
        let case = DutyCase {
            categories: &categories,
            sex: sex.as_deref(),
            age,
            registration: author.registration,
            nation,
        };
        let mut out = Vec::new();
        for duty in sg::duties().map_err(decode_error)? {
            if !duty.applies(&case) {
                continue;
            }
            let mut reported = false;
            for step in steps.iter().filter(|s| s.kind == StepKind::StatutoryReport) {
                let detail: StepDetail = self.open_step(concern, step).await?;
                reported |= detail.duty == duty.code;
            }
            out.push(DutyView {
                deadline: calendar
                    .deadline_after_working_days(submitted, duty.deadline_working_days),
                longest: submitted
                    .saturating_add(jiff::SignedDuration::from_hours(
                        24 * i64::from(duty.longest_days),
                    ))
                    .unwrap_or(submitted),
                reported,
                duty,
            });
        }
        Ok(out)
    }

    pub(crate) fn subject_of(concern: &StoredConcern) -> Subject {
        Subject {
            child: None,
            record_type: record_type(concern.kind).to_owned(),
            record_id: concern.id.to_string(),
        }
    }

    pub(crate) fn concern_firing(
        &self,
        concern: &StoredConcern,
        rule: Rule,
        recipient: Recipient,
        fire_at: Timestamp,
        key: &str,
    ) -> NewFiring {
        NewFiring {
            id: FiringId(self.new_id()),
            rule,
            fire_at,
            recipient,
            subject: Some(Self::subject_of(concern)),
            reference: concern_reference(concern.kind, concern.id),
            dedupe_key: format!("{}:{}:{key}", record_type(concern.kind), concern.id),
        }
    }

    /// Submits a draft: checks it is complete, seals it for good, and starts the right path
    /// (urgent along the rota, or the DSL's queue; the allegation's handlers), the duties
    /// that fall on the author, the risk review, and the explanation revisit prompt.
    pub async fn submit_concern(
        &self,
        actor: &Actor,
        id: ConcernId,
        expected: Version,
    ) -> AppResult<Receipt> {
        let concern = self.own_draft(actor, id, "submit concern").await?;
        let (content, lookup) = self.open_concern(&concern).await?;
        let now = self.clock.now();
        let (_, _, site, at_school) = self.child_facts(&concern, lookup.as_ref()).await?;
        let checked = content.check_complete(
            now,
            &uk::london(),
            at_school && concern.kind == ConcernKind::Concern,
        )?;
        // Linked children: only children the raiser may know, never the concern's own.
        let mut links = Vec::new();
        for raw in &content.linked_children {
            let child = ChildId::parse(raw).map_err(|e| Invalid::field("linked_children", e))?;
            if Some(child) == concern.child_id {
                continue;
            }
            if self
                .get_child_gate(actor, child, "link child to concern")
                .await
                .is_err()
            {
                return Err(Invalid::field(
                    "linked_children",
                    "Link only children you work with; describe any other child in your words and the DSL will link them",
                )
                .into());
            }
            links.push(ConcernLink {
                concern_id: id,
                child_id: child,
                linked_by: actor.user.id,
                created_at: now,
            });
        }
        let (timing, _) = self.safeguarding_timing().await?;
        let (contacts, _) = self.safeguarding_contacts().await?;
        let urgent_by = timing.urgent_deadline(now);
        let mut follow_ups = Vec::new();
        let mut told = Vec::new();
        let mut call_now = false;
        let mut designated_officer = None;
        let mut acknowledge_by = None;
        let urgent = checked.urgent;
        let submitted = StoredConcern {
            urgent,
            status: ConcernStatus::Submitted,
            submitted_at: Some(now),
            ..concern.clone()
        };
        match concern.kind {
            ConcernKind::Concern => {
                if urgent {
                    acknowledge_by = Some(urgent_by);
                    let (rota, _) = self.rota().await?;
                    let on_duty = self.on_duty_at(&rota, now).await?;
                    let first: Vec<UserId> =
                        match on_duty.iter().any(|(_, p)| *p == RotaPosition::Dsl) {
                            true => on_duty
                                .iter()
                                .filter(|(_, p)| *p == RotaPosition::Dsl)
                                .map(|(u, _)| *u)
                                .collect(),
                            false => on_duty.iter().map(|(u, _)| *u).collect(),
                        };
                    if first.is_empty() {
                        // Nobody on the rota: the raiser calls now; everyone is told, for
                        // when they are back.
                        call_now = true;
                        follow_ups.push(self.concern_firing(
                            &submitted,
                            Rule::CallEmergencyServices,
                            Recipient::User(actor.user.id),
                            now,
                            "call",
                        ));
                        for role in [Role::Dsl, Role::DeputyDsl] {
                            follow_ups.push(self.concern_firing(
                                &submitted,
                                Rule::AcknowledgeUrgentConcern,
                                Recipient::Role(role),
                                now,
                                &format!("ack-urgent:{}", role.code()),
                            ));
                        }
                        follow_ups.push(self.concern_firing(
                            &submitted,
                            Rule::UrgentConcernEscalated,
                            Recipient::Role(Role::ServiceLead),
                            now,
                            "escalated",
                        ));
                    } else {
                        let names = self.staff_names(&first).await?;
                        for user in &first {
                            told.push(names.get(user).cloned().unwrap_or_default());
                            follow_ups.push(self.concern_firing(
                                &submitted,
                                Rule::AcknowledgeUrgentConcern,
                                Recipient::User(*user),
                                now,
                                &format!("ack-urgent:{user}"),
                            ));
                        }
                        // If nobody has acknowledged when the minutes are up: everyone on
                        // duty and the service lead are told, and the raiser calls.
                        follow_ups.push(self.concern_firing(
                            &submitted,
                            Rule::UrgentConcernEscalated,
                            Recipient::OnDuty,
                            urgent_by,
                            "escalated",
                        ));
                        follow_ups.push(self.concern_firing(
                            &submitted,
                            Rule::CallEmergencyServices,
                            Recipient::User(actor.user.id),
                            urgent_by,
                            "call",
                        ));
                    }
                } else {
                    for role in [Role::Dsl, Role::DeputyDsl] {
                        follow_ups.push(self.concern_firing(
                            &submitted,
                            Rule::AcknowledgeConcern,
                            Recipient::Role(role),
                            now,
                            &format!("ack:{}", role.code()),
                        ));
                    }
                }
                // Every concern awaits the DSL's decision (by the end of the next working day).
                for role in [Role::Dsl, Role::DeputyDsl] {
                    follow_ups.push(self.concern_firing(
                        &submitted,
                        Rule::DecideConcern,
                        Recipient::Role(role),
                        now,
                        &format!("decide:{}", role.code()),
                    ));
                }
                if checked.categories.contains(&HarmCategory::SelfHarm) {
                    follow_ups.push(self.concern_firing(
                        &submitted,
                        Rule::RiskReview,
                        Recipient::Role(Role::Dsl),
                        now,
                        "risk-review",
                    ));
                }
                for duty in self
                    .duties_for(&submitted, &content, lookup.as_ref(), &[], now)
                    .await?
                {
                    follow_ups.push(self.concern_firing(
                        &submitted,
                        Rule::StatutoryReport,
                        Recipient::User(actor.user.id),
                        now,
                        &format!("duty:{}", duty.duty.code),
                    ));
                }
                if let Some(child) = concern.child_id {
                    follow_ups.extend(
                        self.told_about_concern(
                            &submitted,
                            child,
                            actor.user.id,
                            &checked.categories,
                        )
                        .await?,
                    );
                }
            }
            ConcernKind::Allegation => {
                let subject = match concern.subject_user {
                    Some(s) => self.store.user(s).await?,
                    None => None,
                }
                .ok_or(AppError::NotFound)?;
                let mut handlers = Vec::new();
                for role in sg::allegation_handlers(&subject) {
                    for user in self.active_users_with_role(*role).await? {
                        if user.id != subject.id && !handlers.iter().any(|h: &User| h.id == user.id)
                        {
                            handlers.push(user);
                        }
                    }
                }
                for h in &handlers {
                    told.push(h.display_name.clone());
                    follow_ups.push(self.concern_firing(
                        &submitted,
                        Rule::ReferAllegation,
                        Recipient::User(h.id),
                        now,
                        &format!("refer:{}", h.id),
                    ));
                }
                // Nobody here may handle it (a sole practitioner, or every handler is the
                // subject): the raiser goes to the designated officer directly.
                if handlers.is_empty() || handlers.iter().all(|h| h.id == actor.user.id) {
                    designated_officer = Some(contacts.designated_officer.clone());
                }
            }
        }
        let row = id.to_string();
        let sealed = self
            .seal_sg(
                &owner_for(concern.sealed_under, concern.child_id)?,
                "concerns",
                "content",
                &row,
                &content,
            )
            .await?;
        let mut audit: AuditBatch<'_> = self.audit_batch(
            &actor.origin,
            vec![self.concern_event(audit::Action::ConcernSubmitted, actor, &submitted)],
        );
        audit.follow_ups = follow_ups;
        let stored = self
            .store
            .submit_concern(id, &sealed, urgent, &links, expected, now, &audit)
            .await?;
        let duties = self
            .duties_for(&stored, &content, lookup.as_ref(), &[], now)
            .await?;
        Ok(Receipt {
            id,
            reference: concern_reference(stored.kind, id),
            kind: stored.kind,
            urgent,
            told,
            call_now,
            acknowledge_by,
            emergency_duty_team: contacts.emergency_duty_team_for(site.as_deref()).clone(),
            designated_officer,
            duties,
        })
    }

    /// The lead therapist is told of a self-harm risk review, and the explanation revisit
    /// prompt fires for the therapists who raised the concern or were told about it (never
    /// otherwise).
    async fn told_about_concern(
        &self,
        concern: &StoredConcern,
        child: ChildId,
        raiser: UserId,
        categories: &[HarmCategory],
    ) -> AppResult<Vec<NewFiring>> {
        let today = self.today();
        let cases = self.store.cases_of(child).await?;
        let Some(case) = cases.first().filter(|c| c.case.is_open()) else {
            return Ok(Vec::new());
        };
        let case_id: CaseId = case.case.id;
        let subject = Subject {
            child: Some(child),
            record_type: "case".to_owned(),
            record_id: case_id.to_string(),
        };
        let number = case.case.number_label();
        let mut told_therapists: Vec<UserId> = Vec::new();
        if case.case.current_team(today).any(|m| m.user_id == raiser) {
            told_therapists.push(raiser);
        }
        let mut out = Vec::new();
        if categories.contains(&HarmCategory::SelfHarm)
            && let Some(lead) = case.case.current_lead(today)
        {
            out.push(NewFiring {
                id: FiringId(self.new_id()),
                rule: Rule::RiskReviewShared,
                fire_at: self.clock.now(),
                recipient: Recipient::User(lead.user_id),
                subject: Some(subject.clone()),
                reference: number.clone(),
                dedupe_key: format!("concern:{}:risk-shared", concern.id),
            });
            if !told_therapists.contains(&lead.user_id) {
                told_therapists.push(lead.user_id);
            }
            // Issue 16: with no safety plan yet, the lead writes one with the young person.
            if !self.has_safety_plan(child).await? {
                out.push(NewFiring {
                    id: FiringId(self.new_id()),
                    rule: Rule::WriteSafetyPlan,
                    fire_at: self.clock.now(),
                    recipient: Recipient::User(lead.user_id),
                    subject: Some(Subject {
                        child: Some(child),
                        record_type: crate::safety_plans::RECORD_TYPE.to_owned(),
                        record_id: child.to_string(),
                    }),
                    reference: number.clone(),
                    dedupe_key: format!("safety-plan:{child}:concern:{}:write", concern.id),
                });
            }
        }
        for user in told_therapists {
            out.push(NewFiring {
                id: FiringId(self.new_id()),
                rule: Rule::RevisitExplanations,
                fire_at: self.clock.now(),
                recipient: Recipient::User(user),
                subject: Some(subject.clone()),
                reference: number.clone(),
                dedupe_key: format!("concern:{}:revisit:{user}", concern.id),
            });
        }
        Ok(out)
    }

    // ----- reading -----

    pub(crate) async fn open_step(
        &self,
        concern: &StoredConcern,
        step: &StoredConcernStep,
    ) -> AppResult<StepDetail> {
        self.open_sg(
            &owner_for(step.sealed_under, concern.child_id)?,
            "concern_steps",
            "detail",
            &step.id.to_string(),
            &step.detail,
        )
        .await
    }

    pub(crate) async fn concern_child_label(&self, child: ChildId) -> AppResult<String> {
        Ok(self.details_of(child).await?.known_as().to_owned())
    }

    /// A concern or allegation for a reader who reaches it. `context` is the child whose
    /// record the reader came from: that child is named; every other linked child is
    /// "Another child".
    pub async fn concern_view(
        &self,
        actor: &Actor,
        id: ConcernId,
        context: Option<ChildId>,
    ) -> AppResult<ConcernView> {
        let Some(concern) = self.store.concern(id).await? else {
            return Err(self.refuse_concern(actor, "read concern", None, id).await);
        };
        let reach = self.concern_reach_of(&actor.user, &concern).await?;
        let stored_steps = self.store.concern_steps(id).await?;
        // Someone the DSL shared with sees what was shared, and nothing else of it.
        let shared_only = reach == Reach::None
            && actor.user.active
            && self
                .has_share_on(&actor.user, &concern, &stored_steps)
                .await?;
        if (reach == Reach::None && !shared_only) || !actor.user.active {
            return Err(self
                .refuse_concern(actor, "read concern", Some(&concern), id)
                .await);
        }
        let is_author = concern.author == actor.user.id;
        let (content, lookup) = if shared_only {
            (ConcernContent::default(), None)
        } else {
            self.open_concern(&concern).await?
        };
        let all = reach.may_read_all();
        let stored_addenda = self.store.concern_addenda(id).await?;
        let links = self.store.concern_links(id).await?;
        let mut ids: Vec<UserId> = stored_steps.iter().map(|s| s.actor).collect();
        ids.extend(stored_steps.iter().filter_map(|s| s.shared_with));
        ids.extend(stored_addenda.iter().map(|a| a.author));
        ids.push(concern.author);
        if let Some(s) = concern.subject_user {
            ids.push(s);
        }
        let names = self.staff_names(&ids).await?;
        let name = |u: &UserId| names.get(u).cloned().unwrap_or_default();
        let mut steps = Vec::new();
        let mut acknowledged = None;
        for step in &stored_steps {
            if step.kind == StepKind::Acknowledged && acknowledged.is_none() {
                acknowledged = Some((name(&step.actor), step.created_at));
            }
            let shared_with_me = step.shared_with == Some(actor.user.id);
            // The author reads their own steps, the receipt (the acknowledgement) and the
            // decisions on it (what was decided, not the reasons); anyone reads what the DSL
            // shared with them.
            let shown = if shared_only {
                shared_with_me
            } else {
                all || step.actor == actor.user.id
                    || step.kind == StepKind::Acknowledged
                    || shared_with_me
                    || (is_author && step.kind == StepKind::Decided)
            };
            if !shown {
                continue;
            }
            let mut detail = self.open_step(&concern, step).await?;
            if !all && step.kind == StepKind::Decided && step.actor != actor.user.id {
                detail = StepDetail {
                    decision: detail.decision,
                    review_on: detail.review_on,
                    ..StepDetail::default()
                };
            }
            let describe_name = |raw: &str| {
                UserId::parse(raw)
                    .ok()
                    .map(|u| name(&u))
                    .unwrap_or_default()
            };
            steps.push(StepView {
                kind: step.kind,
                actor: name(&step.actor),
                at: step.created_at,
                lines: alliance_core::concern_workflow::describe(
                    step.kind,
                    &detail,
                    &describe_name,
                ),
                detail,
            });
        }
        let mut addenda = Vec::new();
        for a in &stored_addenda {
            if shared_only || !(all || a.author == actor.user.id) {
                continue;
            }
            let body: AddendumBody = self
                .open_sg(
                    &owner_for(a.sealed_under, concern.child_id)?,
                    "concern_addenda",
                    "content",
                    &a.id.to_string(),
                    &a.content,
                )
                .await?;
            addenda.push(AddendumView {
                id: a.id,
                author: name(&a.author),
                at: a.created_at,
                reason: body.reason,
                text: body.text,
            });
        }
        // Who it is about: the child's own readers see their own child only.
        let primary_visible = match (concern.child_id, context) {
            (Some(child), Some(ctx)) => child == ctx,
            (Some(_), None) => true,
            (None, _) => false,
        };
        let (child_label, child_link) = match concern.child_id {
            Some(child)
                if primary_visible && self.may_know_child_now(&actor.user, child).await? =>
            {
                (self.concern_child_label(child).await?, Some(child))
            }
            // The raiser of a look-up who may not know the child sees what they typed, the
            // same before and after the DSL matches it (they must not learn the child is
            // known here).
            Some(_) | None if is_author && !all && lookup.is_some() => (
                lookup
                    .as_ref()
                    .map(|l| format!("{} (as you entered them)", l.name))
                    .unwrap_or_default(),
                None,
            ),
            Some(_) => ("Another child".to_owned(), None),
            None => (
                match &lookup {
                    Some(l) => format!("{} (not yet matched to a record)", l.name),
                    None => "Not yet matched".to_owned(),
                },
                None,
            ),
        };
        let mut linked = Vec::new();
        for link in &links {
            if Some(link.child_id) == context
                && self.may_know_child_now(&actor.user, link.child_id).await?
            {
                linked.push(LinkedChild {
                    child: Some(link.child_id),
                    label: self.concern_child_label(link.child_id).await?,
                });
            } else if all {
                linked.push(LinkedChild {
                    child: None,
                    label: "Another child".to_owned(),
                });
            }
        }
        let (timing, _) = self.safeguarding_timing().await?;
        let (contacts, _) = self.safeguarding_contacts().await?;
        // The child's own site's emergency duty team only for a reader who may know the child
        // (a look-up's raiser would otherwise see the match in the number).
        let site = match concern.child_id {
            Some(child) if all || self.may_know_child_now(&actor.user, child).await? => {
                self.child_facts(&concern, lookup.as_ref()).await?.2
            }
            _ => None,
        };
        let submitted = concern.submitted_at;
        let acknowledge_by = match (concern.urgent, submitted) {
            (true, Some(at)) => Some(timing.urgent_deadline(at)),
            _ => None,
        };
        let called = stored_steps
            .iter()
            .any(|s| s.kind == StepKind::EmergencyCall);
        let now = self.clock.now();
        let call_now = match (concern.kind, acknowledge_by, submitted) {
            _ if shared_only => false,
            (ConcernKind::Concern, Some(by), Some(at)) if acknowledged.is_none() && !called => {
                let (rota, _) = self.rota().await?;
                now >= by || self.on_duty_at(&rota, at).await?.is_empty()
            }
            _ => false,
        };
        let duties = if is_author {
            match submitted {
                Some(at) => {
                    self.duties_for(&concern, &content, lookup.as_ref(), &stored_steps, at)
                        .await?
                }
                None => Vec::new(),
            }
        } else {
            Vec::new()
        };
        let writer = reach == Reach::Write && actor.may_write();
        let is_submitted = concern.status == ConcernStatus::Submitted;
        let progress = alliance_core::concern_workflow::Progress::of(
            submitted.unwrap_or(concern.created_at),
            &stored_steps
                .iter()
                .map(|s| (s.kind, s.created_at))
                .collect::<Vec<_>>(),
        );
        let decide_by = if is_submitted
            && concern.kind == ConcernKind::Concern
            && matches!(
                progress.stage,
                Stage::AwaitingAcknowledgement | Stage::AwaitingDecision
            ) {
            let calendar = self.working_calendar().await?;
            Some(timing.decide_deadline(progress.decision_counted_from, &calendar))
        } else {
            None
        };
        let may_work = writer && is_submitted;
        let (team, carers) = match concern.child_id {
            // Only where the concern's own child is the one named (never from a linked child's
            // record: their team and carers are another child's).
            Some(child) if may_work && primary_visible && concern.kind == ConcernKind::Concern => (
                self.share_candidates(child).await?,
                self.carers_of(child)
                    .await?
                    .into_iter()
                    .filter(|c| c.active)
                    .map(|c| {
                        (
                            c.id.0,
                            format!("{} ({})", c.details.name, c.details.relationship),
                        )
                    })
                    .collect(),
            ),
            _ => (Vec::new(), Vec::new()),
        };
        let view = ConcernView {
            shared_only,
            stage: progress.stage,
            decide_by,
            may_work,
            team,
            carers,
            reference: concern_reference(concern.kind, concern.id),
            is_author,
            content,
            lookup: if all || is_author { lookup } else { None },
            child_label,
            child_link,
            author_name: name(&concern.author),
            subject_name: concern.subject_user.map(|s| name(&s)),
            steps,
            addenda,
            linked,
            duties,
            acknowledge_by,
            call_now,
            emergency_duty_team: contacts.emergency_duty_team_for(site.as_deref()).clone(),
            designated_officer: (concern.kind == ConcernKind::Allegation)
                .then(|| contacts.designated_officer.clone()),
            may_acknowledge: writer && is_submitted && acknowledged.is_none(),
            may_add_addendum: is_submitted
                && !shared_only
                && actor.may_write()
                && (reach == Reach::Write || is_author),
            may_record_call: is_submitted
                && !shared_only
                && actor.may_write()
                && concern.kind == ConcernKind::Concern
                && (is_author || reach == Reach::Write),
            may_match: writer
                && is_submitted
                && concern.kind == ConcernKind::Concern
                && concern.child_id.is_none(),
            may_link: writer && is_submitted && concern.kind == ConcernKind::Concern,
            may_refer: writer && is_submitted && concern.kind == ConcernKind::Allegation,
            acknowledged,
            reach,
            stored: concern,
        };
        // What was shared, and nothing else of the concern: who raised it, when it was
        // acknowledged, its deadlines are not theirs to know.
        let mut view = view;
        if shared_only {
            view.author_name.clear();
            view.acknowledged = None;
            view.acknowledge_by = None;
            view.decide_by = None;
            view.designated_officer = None;
        }
        self.record(
            &actor.origin,
            vec![self.concern_event(audit::Action::ConcernRead, actor, &view.stored)],
        )
        .await?;
        Ok(view)
    }

    async fn summarise(
        &self,
        user: &User,
        concerns: Vec<StoredConcern>,
        context: Option<ChildId>,
        timing: &Timing,
    ) -> AppResult<Vec<ConcernSummary>> {
        let calendar = self.working_calendar().await?;
        let now = self.clock.now();
        let mut ids: Vec<UserId> = concerns.iter().map(|c| c.author).collect();
        ids.dedup();
        let names = self.staff_names(&ids).await?;
        let mut out = Vec::new();
        for c in concerns {
            let steps = if c.status == ConcernStatus::Submitted {
                self.store.concern_steps(c.id).await?
            } else {
                Vec::new()
            };
            let acknowledged = steps.iter().any(|s| s.kind == StepKind::Acknowledged);
            let all = self.concern_reach_of(user, &c).await?.may_read_all();
            let about = match (c.kind, c.child_id) {
                (ConcernKind::Allegation, _) => match c.subject_user {
                    Some(s) if all => format!(
                        "A member of staff: {}",
                        self.staff_names(&[s])
                            .await?
                            .get(&s)
                            .cloned()
                            .unwrap_or_default()
                    ),
                    _ => "A member of staff".to_owned(),
                },
                (_, Some(child))
                    if context.is_none_or(|ctx| ctx == child)
                        && self.may_know_child_now(user, child).await? =>
                {
                    self.concern_child_label(child).await?
                }
                // The raiser of a look-up: what they typed, matched or not.
                (_, _) if !all && c.author == user.id && c.lookup.is_some() => {
                    let (_, lookup) = self.open_concern(&c).await?;
                    lookup.map_or_else(String::new, |l| format!("{} (as you entered them)", l.name))
                }
                (_, Some(_)) => "Another child".to_owned(),
                (_, None) => match &c.lookup {
                    Some(_) if all => {
                        let (_, lookup) = self.open_concern(&c).await?;
                        lookup.map_or_else(
                            || "Not yet matched".to_owned(),
                            |l| format!("{} (not yet matched)", l.name),
                        )
                    }
                    _ => "Not yet matched".to_owned(),
                },
            };
            let progress = alliance_core::concern_workflow::Progress::of(
                c.submitted_at.unwrap_or(c.created_at),
                &steps
                    .iter()
                    .map(|s| (s.kind, s.created_at))
                    .collect::<Vec<_>>(),
            );
            let due = match (c.submitted_at, acknowledged) {
                (Some(at), false) if c.urgent => Some(timing.urgent_deadline(at)),
                (Some(at), false) => Some(timing.acknowledge_deadline(at, &calendar)),
                (Some(_), true)
                    if all
                        && c.kind == ConcernKind::Concern
                        && progress.stage == Stage::AwaitingDecision =>
                {
                    Some(timing.decide_deadline(progress.decision_counted_from, &calendar))
                }
                _ => None,
            };
            out.push(ConcernSummary {
                id: c.id,
                reference: concern_reference(c.kind, c.id),
                kind: c.kind,
                status: c.status,
                urgent: c.urgent,
                about,
                author: names.get(&c.author).cloned().unwrap_or_default(),
                created_at: c.created_at,
                submitted_at: c.submitted_at,
                acknowledged,
                unmatched: all && c.kind == ConcernKind::Concern && c.child_id.is_none(),
                overdue: due.is_some_and(|d| d < now),
                due,
                stage: progress.stage,
            });
        }
        Ok(out)
    }

    /// Everything the reader raised, drafts included, newest first.
    pub async fn my_concerns(&self, actor: &Actor) -> AppResult<Vec<ConcernSummary>> {
        let mine = self.store.concerns_by_author(actor.user.id).await?;
        let (timing, _) = self.safeguarding_timing().await?;
        self.summarise(&actor.user, mine, None, &timing).await
    }

    /// The concerns on a child's record as this reader may see them: the DSL, deputies and
    /// the service lead all of them; anyone else only their own.
    pub async fn child_concerns(
        &self,
        actor: &Actor,
        child: ChildId,
    ) -> AppResult<Vec<ConcernSummary>> {
        self.get_child_gate(actor, child, "list concerns").await?;
        let all = self.store.concerns_of_child(child).await?;
        let sees_all = sg::sees_queue(&actor.user);
        let shown: Vec<StoredConcern> = all
            .into_iter()
            .filter(|c| sees_all || c.author == actor.user.id)
            .collect();
        if !shown.is_empty() {
            let mut event = Event::new(
                audit::Action::ConcernRead,
                Some(actor.user.id.to_string()),
                "concern-list",
                None,
            )
            .for_child(child)
            .detail(
                &shown
                    .iter()
                    .map(|c| c.id.to_string())
                    .collect::<Vec<_>>()
                    .join(","),
            );
            event.category = Category::Safeguarding;
            self.record(&actor.origin, vec![event]).await?;
        }
        let (timing, _) = self.safeguarding_timing().await?;
        self.summarise(&actor.user, shown, Some(child), &timing)
            .await
    }

    /// The DSL's queue (the DSL, deputies and the service lead; "not found" for anyone else):
    /// what awaits acknowledgement, urgent first; the newest; and the allegations the reader
    /// handles.
    pub async fn safeguarding_queue(&self, actor: &Actor) -> AppResult<Queue> {
        let (timing, _) = self.safeguarding_timing().await?;
        let mut queue = Queue::default();
        let mut allegations = self
            .store
            .recent_concerns(ConcernKind::Allegation, 200)
            .await?;
        let mut handled = Vec::new();
        for a in allegations.drain(..) {
            if self.concern_reach_of(&actor.user, &a).await? == Reach::Write {
                handled.push(a);
            }
        }
        let sees = sg::sees_queue(&actor.user);
        if !sees && handled.is_empty() {
            let mut event = Event::new(
                audit::Action::Denied,
                Some(actor.user.id.to_string()),
                "concern-queue",
                None,
            )
            .detail("read safeguarding queue");
            event.category = Category::Safeguarding;
            self.record(&actor.origin, vec![event]).await?;
            return Err(AppError::NotFound);
        }
        queue.allegations = self.summarise(&actor.user, handled, None, &timing).await?;
        if sees {
            let awaiting = self
                .store
                .unacknowledged_concerns(ConcernKind::Concern)
                .await?;
            let recent = self.store.recent_concerns(ConcernKind::Concern, 50).await?;
            let mut event = Event::new(
                audit::Action::ConcernRead,
                Some(actor.user.id.to_string()),
                "concern-queue",
                None,
            );
            event.category = Category::Safeguarding;
            self.record(&actor.origin, vec![event]).await?;
            queue.awaiting = self.summarise(&actor.user, awaiting, None, &timing).await?;
            queue.recent = self.summarise(&actor.user, recent, None, &timing).await?;
            let mut open: Vec<ConcernSummary> = queue
                .recent
                .iter()
                .filter(|c| matches!(c.stage, Stage::AwaitingDecision | Stage::Open))
                .cloned()
                .collect();
            open.sort_by_key(|c| (c.due.is_none(), c.due));
            queue.open = open;
            queue.may_act = (actor.user.has_role(Role::Dsl)
                || actor.user.has_role(Role::DeputyDsl))
                && actor.may_write();
        }
        Ok(queue)
    }

    /// How many items await the reader on the safeguarding queue (the badge): unacknowledged
    /// concerns for the DSL and deputies, unacknowledged allegations they handle for the
    /// service lead (and the DSL). Zero for everyone else, without a query of concerns.
    pub async fn safeguarding_badge(&self, user: &User) -> AppResult<usize> {
        let dsl = user.has_role(Role::Dsl) || user.has_role(Role::DeputyDsl);
        let mut count = 0;
        if dsl {
            count += self
                .store
                .unacknowledged_concerns(ConcernKind::Concern)
                .await?
                .len();
        }
        if dsl || user.has_role(Role::ServiceLead) {
            for a in self
                .store
                .unacknowledged_concerns(ConcernKind::Allegation)
                .await?
            {
                if self.concern_reach_of(user, &a).await? == Reach::Write {
                    count += 1;
                }
            }
        }
        Ok(count)
    }

    // ----- acting on a submitted concern -----

    pub(crate) async fn submitted_gate(
        &self,
        actor: &Actor,
        id: ConcernId,
        asked: &str,
    ) -> AppResult<(StoredConcern, Reach)> {
        let (concern, reach) = self.concern_gate(actor, id, asked).await?;
        if concern.status != ConcernStatus::Submitted {
            return Err(AppError::Conflict("submit the concern first".to_owned()));
        }
        actor.ensure_may_write()?;
        Ok((concern, reach))
    }

    async fn write_step(
        &self,
        actor: &Actor,
        concern: &StoredConcern,
        kind: StepKind,
        detail: &StepDetail,
        closes: &[Rule],
    ) -> AppResult<()> {
        self.write_step_with(
            actor,
            concern,
            self.new_id(),
            kind,
            detail,
            closes,
            None,
            Vec::new(),
        )
        .await
    }

    /// Appends a step, closing the tasks of `closes` on this concern and raising
    /// `follow_ups`, in one transaction.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn write_step_with(
        &self,
        actor: &Actor,
        concern: &StoredConcern,
        step_id: Uuid,
        kind: StepKind,
        detail: &StepDetail,
        closes: &[Rule],
        shared_with: Option<UserId>,
        follow_ups: Vec<NewFiring>,
    ) -> AppResult<()> {
        let under = concern.sealed_under;
        let sealed = self
            .seal_sg(
                &owner_for(under, concern.child_id)?,
                "concern_steps",
                "detail",
                &step_id.to_string(),
                detail,
            )
            .await?;
        let step = StoredConcernStep {
            id: step_id,
            concern_id: concern.id,
            kind,
            actor: actor.user.id,
            sealed_under: under,
            detail: sealed,
            shared_with,
            created_at: self.clock.now(),
        };
        let mut audit = self.audit_batch(
            &actor.origin,
            vec![
                self.concern_event(audit::Action::ConcernStep, actor, concern)
                    .detail(kind.code()),
            ],
        );
        audit.follow_ups = follow_ups;
        self.store.add_concern_step(&step, closes, &audit).await?;
        Ok(())
    }

    /// The DSL (or a deputy; an allegation's handler) acknowledges: the urgent path stops
    /// escalating and the acknowledgement tasks close.
    pub async fn acknowledge_concern(&self, actor: &Actor, id: ConcernId) -> AppResult<()> {
        let (concern, reach) = self
            .submitted_gate(actor, id, "acknowledge concern")
            .await?;
        if reach != Reach::Write {
            return Err(AppError::Denied(
                "only the DSL or a deputy acknowledges a concern",
            ));
        }
        let steps = self.store.concern_steps(id).await?;
        if steps.iter().any(|s| s.kind == StepKind::Acknowledged) {
            return Err(AppError::Conflict(
                "this was acknowledged already".to_owned(),
            ));
        }
        self.write_step(
            actor,
            &concern,
            StepKind::Acknowledged,
            &StepDetail::default(),
            &[
                Rule::AcknowledgeConcern,
                Rule::AcknowledgeUrgentConcern,
                Rule::UrgentConcernEscalated,
            ],
        )
        .await
    }

    /// Records a call to the emergency duty team or 999, the school's DSL being told, a
    /// statutory report, or an allegation's referral to the designated officer.
    pub async fn record_concern_step(
        &self,
        actor: &Actor,
        id: ConcernId,
        kind: StepKind,
        input: &StepDetail,
    ) -> AppResult<()> {
        if alliance_core::concern_workflow::WORKFLOW_STEPS.contains(&kind) {
            return Box::pin(self.record_workflow_step(actor, id, kind, input)).await;
        }
        let (concern, reach) = self
            .submitted_gate(actor, id, "record concern step")
            .await?;
        let is_author = concern.author == actor.user.id;
        let writer = reach == Reach::Write;
        let detail = StepDetail::parse(kind, input, self.clock.now(), &uk::london())?;
        let closes: &[Rule] = match kind {
            StepKind::EmergencyCall
                if concern.kind == ConcernKind::Concern && (is_author || writer) =>
            {
                &[Rule::CallEmergencyServices]
            }
            StepKind::SchoolDslTold
                if concern.kind == ConcernKind::Concern && (is_author || writer) =>
            {
                &[]
            }
            StepKind::StatutoryReport if is_author && concern.kind == ConcernKind::Concern => {
                let (content, lookup) = self.open_concern(&concern).await?;
                let steps = self.store.concern_steps(id).await?;
                let duties = self
                    .duties_for(
                        &concern,
                        &content,
                        lookup.as_ref(),
                        &steps,
                        concern.submitted_at.unwrap_or(concern.created_at),
                    )
                    .await?;
                if !duties.iter().any(|d| d.duty.code == detail.duty) {
                    return Err(Invalid::field("duty", "No such duty falls on you here").into());
                }
                &[Rule::StatutoryReport]
            }
            StepKind::DesignatedOfficerReferral
                if writer && concern.kind == ConcernKind::Allegation =>
            {
                &[Rule::ReferAllegation]
            }
            _ => {
                return Err(AppError::Denied(
                    "you may not record that step on this record",
                ));
            }
        };
        self.write_step(actor, &concern, kind, &detail, closes)
            .await
    }

    /// Adds an addendum (the author, or the DSL): the original stands, the correction and its
    /// reason are kept beside it.
    pub async fn add_concern_addendum(
        &self,
        actor: &Actor,
        id: ConcernId,
        reason: &str,
        text: &str,
    ) -> AppResult<()> {
        let (concern, reach) = self
            .submitted_gate(actor, id, "add concern addendum")
            .await?;
        if !(reach == Reach::Write || concern.author == actor.user.id) {
            return Err(AppError::Denied(
                "only its author or the DSL adds to a concern",
            ));
        }
        let (reason, text) = sg::parse_addendum(reason, text)?;
        let addendum_id = self.new_id();
        let under = concern.sealed_under;
        let sealed = self
            .seal_sg(
                &owner_for(under, concern.child_id)?,
                "concern_addenda",
                "content",
                &addendum_id.to_string(),
                &AddendumBody { reason, text },
            )
            .await?;
        let addendum = StoredConcernAddendum {
            id: addendum_id,
            concern_id: id,
            author: actor.user.id,
            sealed_under: under,
            content: sealed,
            created_at: self.clock.now(),
        };
        let audit = self.audit_batch(
            &actor.origin,
            vec![self.concern_event(audit::Action::ConcernAddendum, actor, &concern)],
        );
        self.store.add_concern_addendum(&addendum, &audit).await?;
        Ok(())
    }

    /// The DSL matches a concern raised by look-up to a child's record: the concern is
    /// sealed again under that child's safeguarding key.
    pub async fn match_concern(
        &self,
        actor: &Actor,
        id: ConcernId,
        child: ChildId,
    ) -> AppResult<()> {
        let (concern, reach) = self.submitted_gate(actor, id, "match concern").await?;
        if reach != Reach::Write || concern.kind != ConcernKind::Concern {
            return Err(AppError::Denied(
                "only the DSL or a deputy matches a concern",
            ));
        }
        if concern.child_id.is_some() {
            return Err(AppError::Conflict(
                "this concern is matched already".to_owned(),
            ));
        }
        self.get_child_gate(actor, child, "match concern").await?;
        let (content, _) = self.open_concern(&concern).await?;
        let row = id.to_string();
        let owner = owner_for(SealedUnder::Child, Some(child))?;
        let sealed = self
            .seal_sg(&owner, "concerns", "content", &row, &content)
            .await?;
        let step_id = self.new_id();
        let detail = self
            .seal_sg(
                &owner,
                "concern_steps",
                "detail",
                &step_id.to_string(),
                &StepDetail::default(),
            )
            .await?;
        let step = StoredConcernStep {
            id: step_id,
            concern_id: id,
            kind: StepKind::Matched,
            actor: actor.user.id,
            sealed_under: SealedUnder::Child,
            detail,
            shared_with: None,
            created_at: self.clock.now(),
        };
        let matched = StoredConcern {
            child_id: Some(child),
            ..concern.clone()
        };
        let audit = self.audit_batch(
            &actor.origin,
            vec![
                self.concern_event(audit::Action::ConcernStep, actor, &matched)
                    .detail(StepKind::Matched.code()),
            ],
        );
        self.store
            .match_concern(id, child, &sealed, &step, &audit)
            .await?;
        Ok(())
    }

    /// The DSL links another child to a concern.
    pub async fn link_concern_child(
        &self,
        actor: &Actor,
        id: ConcernId,
        child: ChildId,
    ) -> AppResult<()> {
        let (concern, reach) = self
            .submitted_gate(actor, id, "link child to concern")
            .await?;
        if reach != Reach::Write || concern.kind != ConcernKind::Concern {
            return Err(AppError::Denied("only the DSL or a deputy links children"));
        }
        if concern.child_id == Some(child) {
            return Err(Invalid::field("child", "This is the concern's own child").into());
        }
        self.get_child_gate(actor, child, "link child to concern")
            .await?;
        let step_id = self.new_id();
        let under = concern.sealed_under;
        let detail = self
            .seal_sg(
                &owner_for(under, concern.child_id)?,
                "concern_steps",
                "detail",
                &step_id.to_string(),
                &StepDetail::default(),
            )
            .await?;
        let now = self.clock.now();
        let step = StoredConcernStep {
            id: step_id,
            concern_id: id,
            kind: StepKind::LinkedChild,
            actor: actor.user.id,
            sealed_under: under,
            detail,
            shared_with: None,
            created_at: now,
        };
        let link = ConcernLink {
            concern_id: id,
            child_id: child,
            linked_by: actor.user.id,
            created_at: now,
        };
        let mut linked_event = self
            .concern_event(audit::Action::ConcernStep, actor, &concern)
            .detail(StepKind::LinkedChild.code());
        linked_event.child_id = Some(child.to_string());
        let audit = self.audit_batch(&actor.origin, vec![linked_event]);
        match self.store.link_concern_child(&link, &step, &audit).await {
            Err(StoreError::Conflict(_)) => {
                Err(Invalid::field("child", "This child is linked already").into())
            }
            other => Ok(other?),
        }
    }

    /// Whether a scheduled safeguarding firing is still wanted when it comes due: the urgent
    /// escalation and the call to the raiser only while nobody has acknowledged (and, for the
    /// call, nobody has recorded one).
    pub(crate) async fn safeguarding_firing_wanted(&self, firing: &NewFiring) -> AppResult<bool> {
        if !matches!(
            firing.rule,
            Rule::UrgentConcernEscalated
                | Rule::CallEmergencyServices
                | Rule::DecideConcern
                | Rule::ReviewConcern
                | Rule::ChaseReferralFeedback
        ) {
            return Ok(true);
        }
        let Some(subject) = &firing.subject else {
            return Ok(true);
        };
        let Ok(id) = ConcernId::parse(&subject.record_id) else {
            return Ok(true);
        };
        let steps = self.store.concern_steps(id).await?;
        if matches!(
            firing.rule,
            Rule::DecideConcern | Rule::ReviewConcern | Rule::ChaseReferralFeedback
        ) {
            return self.workflow_firing_wanted(firing, id, &steps).await;
        }
        let acknowledged = steps.iter().any(|s| s.kind == StepKind::Acknowledged);
        let called = steps.iter().any(|s| s.kind == StepKind::EmergencyCall);
        Ok(!(acknowledged || (firing.rule == Rule::CallEmergencyServices && called)))
    }

    /// Whether a task or notice pointing at a concern or allegation may be shown to `user`.
    pub(crate) async fn may_see_concern_subject(
        &self,
        user: &User,
        subject: &Subject,
    ) -> AppResult<bool> {
        let Ok(id) = ConcernId::parse(&subject.record_id) else {
            return Ok(false);
        };
        let Some(concern) = self.store.concern(id).await? else {
            return Ok(false);
        };
        if !user.active {
            return Ok(false);
        }
        if self.concern_reach_of(user, &concern).await? != Reach::None {
            return Ok(true);
        }
        let steps = self.store.concern_steps(id).await?;
        self.has_share_on(user, &concern, &steps).await
    }
}
