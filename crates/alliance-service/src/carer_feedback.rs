//! Carers' feedback links (issue 17, helper C): sent only to a carer who may receive one;
//! answered on the public /feedback pages.
//!
//! From the child's record, whoever writes the child's clinical record (the lead, co-worker
//! and cover on an open case) sees the child's carers, whether each may receive a feedback
//! link and, if not, why (`outbound::may_receive` with `ItemKind::FeedbackLink`), and makes a
//! link for one carer to the carer measure (`Alliance::measures_for(Respondent::Carer, age)`).
//! A refusal is audited (`Denied`) and its reason shown to the member of staff. The token is
//! returned once (stored only as its SHA-256) and lasts the service's `carer_link_days`.
//!
//! The carer opens it without an account: opening spends nothing; only the committed answer
//! does (`FeedbackStore::submit_through_link`, a conditional update in the transaction that
//! records the response). Every link that cannot be used (unknown, used, expired, withdrawn,
//! a carer no longer active or no longer allowed, a measure gone) answers the same "not
//! found". The carer sees their own measure and the child's first name, nothing else. The
//! response is a `StoredResponse` (respondent Carer, the carer's id) sealed like the child's
//! (`Alliance::seal_response`).

use crate::error::{AppError, AppResult};
use crate::feedback::{LINK_RECORD, RESPONSE_RECORD, ResponseContent, parse_answers};
use crate::store::{FeedbackLinkRecord, StoreError, StoredResponse};
use crate::{Actor, Alliance};
use alliance_core::Invalid;
use alliance_core::access::{Access, ChildData, child_access};
use alliance_core::audit::{self, Event, Origin};
use alliance_core::auth::secret_hash;
use alliance_core::children::{Carer, CarerId, ChildDetails, ChildId};
use alliance_core::feedback as fb;
use alliance_core::measures::{Definition, Respondent};
use alliance_core::outbound::{self, Item, ItemKind, Recipient};
use alliance_core::random::random_bytes;
use jiff::{SignedDuration, Timestamp};
use std::collections::BTreeMap;
use uuid::Uuid;

/// The record type of the carers' feedback page in the audit trail.
pub const RECORD_TYPE: &str = "carer-feedback";

/// Where a carer's link stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    Waiting,
    Answered,
    Expired,
    Withdrawn,
}

impl LinkState {
    pub fn label(self) -> &'static str {
        match self {
            LinkState::Waiting => "Waiting for an answer",
            LinkState::Answered => "Answered",
            LinkState::Expired => "Expired",
            LinkState::Withdrawn => "Withdrawn",
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            LinkState::Waiting => "waiting",
            LinkState::Answered => "answered",
            LinkState::Expired => "expired",
            LinkState::Withdrawn => "withdrawn",
        }
    }

    fn of(link: &FeedbackLinkRecord, now: Timestamp) -> Self {
        if link.spent_at.is_some() {
            LinkState::Answered
        } else if link.revoked_at.is_some() {
            LinkState::Withdrawn
        } else if now >= link.expires_at {
            LinkState::Expired
        } else {
            LinkState::Waiting
        }
    }
}

/// One carer's link, as the staff page lists it.
#[derive(Debug, Clone)]
pub struct CarerLink {
    pub id: Uuid,
    pub measure_name: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub state: LinkState,
}

/// A carer, whether they may receive a feedback link, and their links.
#[derive(Debug, Clone)]
pub struct CarerLine {
    pub id: CarerId,
    pub name: String,
    pub relationship: String,
    /// `None` when they may; the reason (for staff) when they may not.
    pub refusal: Option<String>,
    pub links: Vec<CarerLink>,
}

/// The carers' feedback page of a child.
#[derive(Debug, Clone)]
pub struct CarerFeedbackView {
    pub child: ChildId,
    pub child_shown: String,
    pub carers: Vec<CarerLine>,
    /// The carer measures that can be given (`id@version`, name), the default first.
    pub measures: Vec<(String, String)>,
    pub link_days: u32,
}

/// What a carer sees through their link: their measure and the child's first name.
#[derive(Debug, Clone)]
pub struct CarerLinkPage {
    pub child_first_name: String,
    pub definition: Definition,
    pub expires_at: Timestamp,
}

fn first_name(details: &ChildDetails) -> String {
    details
        .legal_name
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn link_event(action: audit::Action, actor: Option<&Actor>, id: String, child: ChildId) -> Event {
    Event::new(
        action,
        actor.map(|a| a.user.id.to_string()),
        LINK_RECORD,
        Some(id),
    )
    .for_child(child)
}

impl Alliance {
    /// The gate of the carers' feedback page: through the child's gate ("not found", audited,
    /// for a child the reader may not know); then only whoever writes the child's clinical
    /// record (others who may read it are refused, audited; the rest "not found", audited).
    async fn carer_feedback_gate(
        &self,
        actor: &Actor,
        child: ChildId,
        asked: &str,
    ) -> AppResult<()> {
        let (standing, _) = self.get_child_gate(actor, child, asked).await?;
        let clinical = child_access(&actor.user, &standing, ChildData::Clinical);
        let identity = child_access(&actor.user, &standing, ChildData::Identity);
        if clinical.may_write() && identity >= Access::Read {
            return Ok(());
        }
        self.audit_refusal(actor, asked, RECORD_TYPE, child.to_string(), child)
            .await?;
        if clinical.may_read() {
            Err(AppError::Denied(
                "only the lead therapist, co-worker or cover send carers' feedback links",
            ))
        } else {
            Err(AppError::NotFound)
        }
    }

    /// The child's age today, for choosing a measure that suits it.
    fn age_today(&self, details: &ChildDetails) -> Option<u8> {
        u8::try_from(details.age_on(self.today())).ok()
    }

    /// The carers' feedback page: each active carer, whether they may receive a link and why
    /// not, and their links (audited: `FeedbackRead`).
    pub async fn carer_feedback(
        &self,
        actor: &Actor,
        child: ChildId,
    ) -> AppResult<CarerFeedbackView> {
        self.carer_feedback_gate(actor, child, "read carers' feedback links")
            .await?;
        let details = self.details_of(child).await?;
        let now = self.clock.now();
        let cases = self.store.cases_of(child).await?;
        let mut links = Vec::new();
        if let Some(case) = cases.first() {
            links = self.store.feedback_links_of_case(case.case.id).await?;
        }
        let measures = self
            .measures_for(Respondent::Carer, self.age_today(&details))
            .await?;
        let mut names: BTreeMap<(String, u32), String> = BTreeMap::new();
        for l in &links {
            let key = (l.measure_id.clone(), l.measure_version);
            if let std::collections::btree_map::Entry::Vacant(slot) = names.entry(key) {
                let name = self
                    .measure_definition(&l.measure_id, l.measure_version)
                    .await?
                    .map(|d| d.name)
                    .unwrap_or_else(|| l.measure_id.clone());
                slot.insert(name);
            }
        }
        let carers = self
            .carers_of(child)
            .await?
            .into_iter()
            .filter(|c| c.active)
            .map(|c| CarerLine {
                id: c.id,
                name: c.details.name.clone(),
                relationship: c.details.relationship.clone(),
                refusal: outbound::may_receive(
                    Recipient::Carer(&c.details),
                    Item::typical(ItemKind::FeedbackLink),
                    &details,
                )
                .err()
                .map(|r| r.message()),
                links: links
                    .iter()
                    .filter(|l| l.carer_id == Some(c.id))
                    .map(|l| CarerLink {
                        id: l.id,
                        measure_name: names
                            .get(&(l.measure_id.clone(), l.measure_version))
                            .cloned()
                            .unwrap_or_default(),
                        created_at: l.created_at,
                        expires_at: l.expires_at,
                        state: LinkState::of(l, now),
                    })
                    .collect(),
            })
            .collect();
        let (settings, _) = self.feedback_settings().await?;
        self.record(
            &actor.origin,
            vec![
                Event::new(
                    audit::Action::FeedbackRead,
                    Some(actor.user.id.to_string()),
                    RECORD_TYPE,
                    Some(child.to_string()),
                )
                .for_child(child)
                .detail("carers' links"),
            ],
        )
        .await?;
        Ok(CarerFeedbackView {
            child,
            child_shown: details.known_as().to_owned(),
            carers,
            measures: measures.iter().map(|d| (d.key(), d.name.clone())).collect(),
            link_days: settings.carer_link_days,
        })
    }

    /// Makes a carer's single-use link to a carer measure (`measure` as `id@version`, else the
    /// first that can be given), lasting the service's `carer_link_days`. Refused (audited,
    /// with the reason for staff) when the carer may not receive it. The token is returned
    /// once.
    pub async fn create_carer_link(
        &self,
        actor: &Actor,
        child: ChildId,
        carer: CarerId,
        measure: Option<&str>,
    ) -> AppResult<(FeedbackLinkRecord, String)> {
        const ASKED: &str = "create carer's feedback link";
        self.carer_feedback_gate(actor, child, ASKED).await?;
        actor.ensure_may_write()?;
        let case = self
            .store
            .cases_of(child)
            .await?
            .into_iter()
            .next()
            .filter(|c| c.case.is_open())
            .ok_or_else(|| Invalid::field("carer", "Links are sent on an open case"))?;
        let details = self.details_of(child).await?;
        let Some(found) = self
            .carers_of(child)
            .await?
            .into_iter()
            .find(|c| c.id == carer && c.active)
        else {
            return Err(Invalid::field("carer", "Choose one of the child's carers").into());
        };
        if let Err(refusal) = outbound::may_receive(
            Recipient::Carer(&found.details),
            Item::typical(ItemKind::FeedbackLink),
            &details,
        ) {
            self.audit_refusal(
                actor,
                &format!("feedback link refused: {}", refusal.code()),
                "carer",
                carer.to_string(),
                child,
            )
            .await?;
            return Err(Invalid::field("carer", refusal.message()).into());
        }
        let measures = self
            .measures_for(Respondent::Carer, self.age_today(&details))
            .await?;
        let chosen = match measure.map(str::trim).filter(|m| !m.is_empty()) {
            None => measures.first(),
            Some(key) => measures.iter().find(|d| d.key() == key),
        }
        .ok_or_else(|| {
            Invalid::field(
                "measure",
                "Choose a carer measure that can be given (none suits the child's age yet)",
            )
        })?;
        let (settings, _) = self.feedback_settings().await?;
        let token = fb::new_link_token(random_bytes(self.random.as_ref()));
        let now = self.clock.now();
        let link = FeedbackLinkRecord {
            id: self.new_id(),
            token_hash: secret_hash(&token),
            case_id: case.case.id,
            child_id: child,
            session_id: None,
            carer_id: Some(carer),
            respondent: Respondent::Carer,
            measure_id: chosen.id.clone(),
            measure_version: chosen.version,
            created_by: actor.user.id,
            created_at: now,
            expires_at: now
                .checked_add(SignedDuration::from_hours(
                    24 * i64::from(settings.carer_link_days),
                ))
                .map_err(|e| AppError::Store(StoreError::Other(e.to_string())))?,
            spent_at: None,
            revoked_at: None,
        };
        let batch = self.audit_batch(
            &actor.origin,
            vec![
                link_event(
                    audit::Action::FeedbackLinkCreated,
                    Some(actor),
                    link.id.to_string(),
                    child,
                )
                .detail("carer"),
            ],
        );
        self.store.create_feedback_link(&link, &batch).await?;
        Ok((link, token))
    }

    /// Withdraws a carer's link of this child before it is used.
    pub async fn withdraw_carer_link(
        &self,
        actor: &Actor,
        child: ChildId,
        link: Uuid,
    ) -> AppResult<()> {
        const ASKED: &str = "withdraw carer's feedback link";
        self.carer_feedback_gate(actor, child, ASKED).await?;
        let Some(found) = self
            .store
            .feedback_link(link)
            .await?
            .filter(|l| l.child_id == child && l.respondent == Respondent::Carer)
        else {
            self.audit_refusal(actor, ASKED, "feedback-link", link.to_string(), child)
                .await?;
            return Err(AppError::NotFound);
        };
        self.revoke_feedback_link(actor, None, found.id).await
    }

    /// The usable carer's link with this token, its carer, the child and the measure, or "not
    /// found" for anything else: the carer is told only that the link cannot be used.
    async fn usable_carer_link(
        &self,
        token: &str,
    ) -> AppResult<(FeedbackLinkRecord, Carer, ChildDetails, Definition)> {
        let token = fb::link_token(token).ok_or(AppError::NotFound)?;
        let link = self
            .store
            .feedback_link_by_token(&secret_hash(token))
            .await?
            .filter(|l| l.is_usable(self.clock.now()) && l.respondent == Respondent::Carer)
            .ok_or(AppError::NotFound)?;
        // No longer allowed: the case closed since the link was made.
        self.store
            .case(link.case_id)
            .await?
            .filter(|c| c.case.is_open())
            .ok_or(AppError::NotFound)?;
        let carer_id = link.carer_id.ok_or(AppError::NotFound)?;
        let details = self.details_of(link.child_id).await?;
        let carer = self
            .carers_of(link.child_id)
            .await?
            .into_iter()
            .find(|c| c.id == carer_id && c.active)
            .ok_or(AppError::NotFound)?;
        if outbound::may_receive(
            Recipient::Carer(&carer.details),
            Item::typical(ItemKind::FeedbackLink),
            &details,
        )
        .is_err()
        {
            return Err(AppError::NotFound);
        }
        let definition = self
            .measure_definition(&link.measure_id, link.measure_version)
            .await?
            .filter(|d| d.has_wording() && d.respondent == Respondent::Carer)
            .ok_or(AppError::NotFound)?;
        Ok((link, carer, details, definition))
    }

    /// What a carer's link shows. Opening it spends nothing (a link scanner, a reload).
    pub async fn carer_link_page(&self, token: &str) -> AppResult<CarerLinkPage> {
        let (link, _carer, details, definition) = self.usable_carer_link(token).await?;
        Ok(CarerLinkPage {
            child_first_name: first_name(&details),
            definition,
            expires_at: link.expires_at,
        })
    }

    /// Records the carer's answers and spends the link, together. A response that cannot be
    /// scored is kept with the reason. "Not found" when the link cannot be used.
    pub async fn answer_carer_link(
        &self,
        token: &str,
        raw: &BTreeMap<String, String>,
        origin: &Origin,
    ) -> AppResult<()> {
        let (link, carer, _details, definition) = self.usable_carer_link(token).await?;
        let answers = parse_answers(&definition, raw)?;
        if answers.is_empty() {
            return Err(Invalid::field(
                definition
                    .items
                    .first()
                    .map(|i| i.id.clone())
                    .unwrap_or_else(|| "answers".to_owned()),
                "Answer at least one question",
            )
            .into());
        }
        let content = ResponseContent::scored(&definition, answers);
        let id = self.new_id();
        let now = self.clock.now();
        let response = StoredResponse {
            id,
            child_id: link.child_id,
            case_id: link.case_id,
            session_id: None,
            respondent: Respondent::Carer,
            carer_id: Some(carer.id),
            measure_id: link.measure_id.clone(),
            measure_version: link.measure_version,
            link_id: Some(link.id),
            recorded_by: None,
            given_at: now,
            answers: self.seal_response(link.child_id, id, &content).await?,
        };
        let batch = self.audit_batch(
            origin,
            vec![
                Event::new(
                    audit::Action::FeedbackSubmitted,
                    None,
                    RESPONSE_RECORD,
                    Some(id.to_string()),
                )
                .for_child(link.child_id)
                .detail("carer"),
            ],
        );
        if self
            .store
            .submit_through_link(link.id, &response, now, &batch)
            .await?
        {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }
}
