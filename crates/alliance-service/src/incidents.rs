//! Use-cases: Incidents in sessions (issue 16): a child hurt, aggression, damage, any physical intervention: what happened, who was involved, what was done, who was told; links to the agreement's ground rules and to a safeguarding concern.
//!
//! The rules are `alliance_core::incidents`. An incident is clinical record (policy section
//! 1): every route passes the child's gate, then [`alliance_core::incidents::incident_access`]
//! on the reader's clinical access: the case team's lead and co-workers write, a supervisor
//! of the team reads pseudonymised, the DSL reads only incidents linked to a concern, and the
//! service lead, administrators, staff, other therapists and the parent-worker get "not
//! found" (audited as a refusal). Lists hold only what passes the same rule.
//!
//! Content is sealed under the child's clinical key (`incidents.content`, bound to the id).
//! Once saved an incident is never edited: corrections are addenda with their reason (sealed
//! the same way), as the established pattern for clinical records. Every write commits with
//! its audit entry (`IncidentRecorded`; an addendum is the same action with the detail
//! `addendum`); each incident opened, and each list, is audited as read (`IncidentRead`).
//!
//! The ground rules offered are those of the child's current (active) agreement, read through
//! the agreements use-case; the concerns offered are those about this child the recorder may
//! read, through the safeguarding use-case (never anyone else's). When someone other than the
//! child's lead therapist records one, the lead gets an `IncidentRecorded` notice (never the
//! service lead, who may not read clinical records).

use crate::app::Alliance;
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::store::{NewFiring, StoreError, StoredIncident, StoredIncidentAddendum};
use alliance_core::Invalid;
use alliance_core::access::{self, Access, ChildData, sees_names};
use alliance_core::audit::{self, Event};
use alliance_core::cases::{CaseId, TeamRole};
use alliance_core::children::ChildId;
use alliance_core::incidents::{
    AddendumContent, AddendumId, IncidentContent, IncidentId, IncidentInput, incident_access,
    parse_addendum, tell_lead,
};
use alliance_core::safeguarding::ConcernId;
use alliance_core::schedule::BookingId;
use alliance_core::tasks::{FiringId, Recipient, Rule, Subject};
use jiff::Timestamp;

/// The record type of an incident in the audit trail and in the notices about it.
pub const RECORD_TYPE: &str = "incident";

/// How an incident is named in titles and notices: never a name.
pub fn incident_reference(id: IncidentId) -> String {
    crate::safeguarding::short_reference("IN", id.0)
}

/// A concern the recorder may link, as the form offers it.
#[derive(Debug, Clone)]
pub struct ConcernChoice {
    pub id: ConcernId,
    pub label: String,
}

/// What the new-incident form needs.
#[derive(Debug, Clone)]
pub struct IncidentForm {
    pub child: ChildId,
    pub child_label: String,
    pub case: CaseId,
    /// The ground rules of the child's current agreement (none without an active one).
    pub rules: Vec<String>,
    /// The concerns about this child the recorder may read.
    pub concerns: Vec<ConcernChoice>,
    /// The session it is about, when the form was opened from one (its date and time).
    pub session: Option<(BookingId, jiff::civil::Date, jiff::civil::Time)>,
}

/// One incident in a child's list.
#[derive(Debug, Clone)]
pub struct IncidentSummary {
    pub id: IncidentId,
    pub reference: String,
    pub content: IncidentContent,
    pub recorded_by: String,
    pub recorded_at: Timestamp,
    pub concern: Option<ConcernId>,
    pub session: Option<BookingId>,
    pub addenda: usize,
}

/// A child's incidents as this reader may see them.
#[derive(Debug, Clone)]
pub struct ChildIncidents {
    pub child: ChildId,
    pub child_label: String,
    /// Newest first.
    pub incidents: Vec<IncidentSummary>,
    pub may_record: bool,
}

/// An addendum, opened.
#[derive(Debug, Clone)]
pub struct AddendumView {
    pub id: AddendumId,
    pub content: AddendumContent,
    pub written_by: String,
    pub written_at: Timestamp,
}

/// One incident, opened.
#[derive(Debug, Clone)]
pub struct IncidentView {
    pub summary: IncidentSummary,
    pub child: ChildId,
    pub child_label: String,
    /// Oldest first.
    pub addenda: Vec<AddendumView>,
    pub may_add_addendum: bool,
    /// The concern's reference, for a reader who may open it.
    pub concern_reference: Option<String>,
}

/// The reader's clinical access and how the child is shown to them.
struct Gate {
    clinical: Access,
    case: Option<CaseId>,
    label: String,
}

impl Alliance {
    /// The child's gate, the reader's clinical access, and the child's label (name, or
    /// initials and case number for a pseudonymised reader). "Not found" (audited) when no
    /// incident could ever be theirs to read.
    async fn incident_gate(&self, actor: &Actor, child: ChildId, asked: &str) -> AppResult<Gate> {
        let (standing, case) = self.get_child_gate(actor, child, asked).await?;
        let clinical = access::child_access(&actor.user, &standing, ChildData::Clinical);
        if !incident_access(clinical, true).may_read() {
            self.audit_refusal(actor, asked, RECORD_TYPE, child.to_string(), child)
                .await?;
            return Err(AppError::NotFound);
        }
        let details = self.details_of(child).await?;
        let label = if sees_names(&actor.user, &standing) {
            details.known_as().to_owned()
        } else {
            let number = match case {
                Some(c) => self
                    .store
                    .case(c)
                    .await?
                    .map(|s| s.case.number_label())
                    .unwrap_or_default(),
                None => String::new(),
            };
            format!("{} ({number})", details.initials())
        };
        Ok(Gate {
            clinical,
            case,
            label,
        })
    }

    async fn summarise_incident(&self, stored: &StoredIncident) -> AppResult<IncidentSummary> {
        let content: IncidentContent = self
            .open_record_part(stored.child, "incidents", stored.id.0, &stored.content)
            .await?;
        let names = self.staff_names(&[stored.recorded_by]).await?;
        let addenda = self.store.incident_addenda(stored.id).await?.len();
        Ok(IncidentSummary {
            id: stored.id,
            reference: incident_reference(stored.id),
            content,
            recorded_by: names.get(&stored.recorded_by).cloned().unwrap_or_default(),
            recorded_at: stored.recorded_at,
            concern: stored.concern,
            session: stored.session,
            addenda,
        })
    }

    /// A child's incidents, as this reader may see them (the list audited as read).
    pub async fn child_incidents(
        &self,
        actor: &Actor,
        child: ChildId,
    ) -> AppResult<ChildIncidents> {
        let gate = self.incident_gate(actor, child, "list incidents").await?;
        let stored = self.store.incidents_of_child(child).await?;
        let mut incidents = Vec::new();
        for s in stored
            .iter()
            .filter(|s| incident_access(gate.clinical, s.concern.is_some()).may_read())
        {
            incidents.push(self.summarise_incident(s).await?);
        }
        let event = Event::new(
            audit::Action::IncidentRead,
            Some(actor.user.id.to_string()),
            "incident-list",
            None,
        )
        .for_child(child)
        .detail(
            &incidents
                .iter()
                .map(|i| i.id.to_string())
                .collect::<Vec<_>>()
                .join(","),
        );
        self.record(&actor.origin, vec![event]).await?;
        Ok(ChildIncidents {
            child,
            child_label: gate.label,
            incidents,
            may_record: gate.clinical.may_write() && actor.may_write(),
        })
    }

    /// Refuses (audited) a reader who may read but not write: the reason may be said.
    async fn require_incident_write(
        &self,
        actor: &Actor,
        gate: &Gate,
        child: ChildId,
        asked: &str,
    ) -> AppResult<()> {
        if gate.clinical.may_write() && actor.may_write() {
            return Ok(());
        }
        self.audit_refusal(actor, asked, RECORD_TYPE, child.to_string(), child)
            .await?;
        Err(AppError::Denied(if actor.may_write() {
            "only the child's lead therapist and co-workers record incidents"
        } else {
            "this API token is read-only"
        }))
    }

    /// The rules of the child's current agreement, in the child's words (none when there is
    /// no active agreement).
    async fn current_rules(&self, actor: &Actor, case: Option<CaseId>) -> AppResult<Vec<String>> {
        let Some(case) = case else {
            return Ok(Vec::new());
        };
        let agreement = self.case_agreement(actor, case).await?;
        Ok(agreement
            .active()
            .map(|a| a.content.rules.iter().map(|r| r.text.clone()).collect())
            .unwrap_or_default())
    }

    /// The concerns about this child the actor may read, for linking.
    async fn concern_choices(
        &self,
        actor: &Actor,
        child: ChildId,
    ) -> AppResult<Vec<ConcernChoice>> {
        Ok(self
            .child_concerns(actor, child)
            .await?
            .into_iter()
            .filter(|c| c.submitted_at.is_some())
            .map(|c| ConcernChoice {
                id: c.id,
                label: format!(
                    "{} (raised {})",
                    c.reference,
                    alliance_core::uk::date_time(c.submitted_at.unwrap_or(c.created_at))
                ),
            })
            .collect())
    }

    /// What the new-incident form offers (the case team's writers only).
    pub async fn incident_form(
        &self,
        actor: &Actor,
        child: ChildId,
        session: Option<BookingId>,
    ) -> AppResult<IncidentForm> {
        let gate = self.incident_gate(actor, child, "record incident").await?;
        self.require_incident_write(actor, &gate, child, "record incident")
            .await?;
        let case = gate.case.ok_or(AppError::NotFound)?;
        let session = match session {
            Some(id) => {
                let s = self.session_of_child(id, child).await?;
                Some((id, s.0, s.1))
            }
            None => None,
        };
        Ok(IncidentForm {
            child,
            child_label: gate.label.clone(),
            case,
            rules: self.current_rules(actor, gate.case).await?,
            concerns: self.concern_choices(actor, child).await?,
            session,
        })
    }

    async fn session_of_child(
        &self,
        id: BookingId,
        child: ChildId,
    ) -> AppResult<(jiff::civil::Date, jiff::civil::Time)> {
        match self.store.booked_session(id).await? {
            Some(s) if s.child_id == child => Ok((s.booking.date, s.booking.start)),
            _ => Err(Invalid::field("session", "Choose one of this child's sessions").into()),
        }
    }

    /// Records an incident (the case team's lead and co-workers), telling the child's lead
    /// therapist when someone else recorded it.
    pub async fn record_incident(
        &self,
        actor: &Actor,
        child: ChildId,
        input: &IncidentInput,
        session: Option<BookingId>,
        concern: Option<ConcernId>,
    ) -> AppResult<IncidentId> {
        let gate = self.incident_gate(actor, child, "record incident").await?;
        self.require_incident_write(actor, &gate, child, "record incident")
            .await?;
        let case_id = gate.case.ok_or(AppError::NotFound)?;
        let rules = self.current_rules(actor, gate.case).await?;
        let content = input.parse(&rules)?;
        if let Some(id) = session {
            self.session_of_child(id, child).await?;
        }
        if let Some(c) = concern {
            let choices = self.concern_choices(actor, child).await?;
            if !choices.iter().any(|k| k.id == c) {
                return Err(Invalid::field("concern", "Choose one of the concerns listed").into());
            }
        }
        let stored_case = self.store.case(case_id).await?.ok_or(AppError::NotFound)?;
        let lead = stored_case
            .case
            .current_team(self.today())
            .find(|m| m.role == TeamRole::Lead)
            .map(|m| m.user_id);
        let id = IncidentId(self.new_id());
        let plain = serde_json::to_vec(&content)
            .map_err(|e| AppError::Store(StoreError::Other(e.to_string())))?;
        let sealed = self
            .seal_record_part(child, "incidents", id.0, &plain)
            .await?;
        let now = self.clock.now();
        let mut batch = self.audit_batch(
            &actor.origin,
            vec![
                Event::new(
                    audit::Action::IncidentRecorded,
                    Some(actor.user.id.to_string()),
                    RECORD_TYPE,
                    Some(id.to_string()),
                )
                .for_child(child),
            ],
        );
        if let Some(lead) = lead.filter(|&l| tell_lead(actor.user.id, Some(l))) {
            batch.follow_ups = vec![NewFiring {
                id: FiringId(self.new_id()),
                rule: Rule::IncidentRecorded,
                fire_at: now,
                recipient: Recipient::User(lead),
                subject: Some(Subject {
                    child: Some(child),
                    record_type: RECORD_TYPE.to_owned(),
                    record_id: id.to_string(),
                }),
                reference: format!(
                    "{} ({})",
                    incident_reference(id),
                    stored_case.case.number_label()
                ),
                dedupe_key: format!("incident:{id}:{lead}"),
            }];
        }
        self.store
            .create_incident(
                &StoredIncident {
                    id,
                    child,
                    case: case_id,
                    session,
                    concern,
                    content: sealed,
                    recorded_by: actor.user.id,
                    recorded_at: now,
                },
                &batch,
            )
            .await?;
        Ok(id)
    }

    /// The incident and the reader's gate, or "not found" (audited).
    async fn load_incident(
        &self,
        actor: &Actor,
        id: IncidentId,
        asked: &str,
    ) -> AppResult<(StoredIncident, Gate)> {
        let stored = self.store.incident(id).await?.ok_or(AppError::NotFound)?;
        let gate = self.incident_gate(actor, stored.child, asked).await?;
        if !incident_access(gate.clinical, stored.concern.is_some()).may_read() {
            self.audit_refusal(actor, asked, RECORD_TYPE, id.to_string(), stored.child)
                .await?;
            return Err(AppError::NotFound);
        }
        Ok((stored, gate))
    }

    /// One incident with its addenda (audited as read).
    pub async fn incident_view(&self, actor: &Actor, id: IncidentId) -> AppResult<IncidentView> {
        let (stored, gate) = self.load_incident(actor, id, "read incident").await?;
        let summary = self.summarise_incident(&stored).await?;
        let mut addenda = Vec::new();
        let stored_addenda = self.store.incident_addenda(id).await?;
        let names = self
            .staff_names(
                &stored_addenda
                    .iter()
                    .map(|a| a.written_by)
                    .collect::<Vec<_>>(),
            )
            .await?;
        for a in stored_addenda {
            addenda.push(AddendumView {
                id: a.id,
                content: self
                    .open_record_part(stored.child, "incident_addenda", a.id.0, &a.content)
                    .await?,
                written_by: names.get(&a.written_by).cloned().unwrap_or_default(),
                written_at: a.written_at,
            });
        }
        self.record(
            &actor.origin,
            vec![
                Event::new(
                    audit::Action::IncidentRead,
                    Some(actor.user.id.to_string()),
                    RECORD_TYPE,
                    Some(id.to_string()),
                )
                .for_child(stored.child),
            ],
        )
        .await?;
        let concern_reference = match stored.concern {
            Some(c) => self
                .store
                .concern(c)
                .await?
                .map(|k| crate::safeguarding::concern_reference(k.kind, k.id)),
            None => None,
        };
        Ok(IncidentView {
            summary,
            child: stored.child,
            child_label: gate.label,
            addenda,
            may_add_addendum: incident_access(gate.clinical, stored.concern.is_some()).may_write()
                && actor.may_write(),
            concern_reference,
        })
    }

    /// Adds a correction with its reason (the case team's lead and co-workers).
    pub async fn add_incident_addendum(
        &self,
        actor: &Actor,
        id: IncidentId,
        text: &str,
        reason: &str,
    ) -> AppResult<AddendumId> {
        let (stored, gate) = self
            .load_incident(actor, id, "add incident addendum")
            .await?;
        self.require_incident_write(actor, &gate, stored.child, "add incident addendum")
            .await?;
        let content = parse_addendum(text, reason)?;
        let addendum = AddendumId(self.new_id());
        let plain = serde_json::to_vec(&content)
            .map_err(|e| AppError::Store(StoreError::Other(e.to_string())))?;
        let sealed = self
            .seal_record_part(stored.child, "incident_addenda", addendum.0, &plain)
            .await?;
        let audit = self.audit_batch(
            &actor.origin,
            vec![
                Event::new(
                    audit::Action::IncidentRecorded,
                    Some(actor.user.id.to_string()),
                    RECORD_TYPE,
                    Some(id.to_string()),
                )
                .for_child(stored.child)
                .detail("addendum"),
            ],
        );
        self.store
            .add_incident_addendum(
                &StoredIncidentAddendum {
                    id: addendum,
                    incident: id,
                    content: sealed,
                    written_by: actor.user.id,
                    written_at: self.clock.now(),
                },
                &audit,
            )
            .await?;
        Ok(addendum)
    }
}
