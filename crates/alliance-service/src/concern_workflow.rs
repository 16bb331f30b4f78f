//! Safeguarding 2 (issue 14): the DSL's work on a concern (gather, decide, refer, chase,
//! outcome, close, re-open), its deadlines through the tasks and the scheduler, the
//! information-sharing record, what the DSL shares with the therapist (all they see of it),
//! the chronology per child, and the transfer of the file to a new school.
//!
//! The order rules and the words are `alliance_core::concern_workflow`. Every step is
//! append-only and sealed like the concern; the DSL and deputies (an allegation's handlers)
//! record them; the service lead reads. A chronology or transfer the reader may not reach
//! answers "not found", audited.

use crate::app::Alliance;
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::store::{NewFiring, StoredConcern, StoredConcernStep, StoredTransfer, TransferStatus};
use alliance_core::audit::{self, Category, Event};
use alliance_core::children::ChildId;
use alliance_core::concern_workflow::{
    self as wf, ChronologyEntry, CountedIn, Decision, Progress, Stage, TransferDestination,
};
use alliance_core::crypto::{KeyOwner, RecordClass};
use alliance_core::identity::{Role, User, UserId};
use alliance_core::outbound::{self, Item, ItemKind, Reveals};
use alliance_core::safeguarding::{self as sg, ConcernId, Reach, StepDetail, StepKind};
use alliance_core::tasks::{FiringId, Recipient, Rule, Subject};
use alliance_core::{Version, uk};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use uuid::Uuid;

/// Something the DSL shared with the reader about a concern.
#[derive(Debug, Clone, PartialEq)]
pub struct ShareView {
    pub concern: ConcernId,
    pub reference: String,
    /// The child, when the reader may know them.
    pub child: Option<ChildId>,
    pub child_label: String,
    pub by: String,
    pub at: Timestamp,
    pub text: String,
}

/// A child's chronology, for the DSL, deputies and the service lead.
#[derive(Debug, Clone)]
pub struct ChronologyView {
    pub child: ChildId,
    pub child_name: String,
    pub date_of_birth: jiff::civil::Date,
    pub entries: Vec<ChronologyEntry>,
    pub transfers: Vec<TransferView>,
    /// The DSL or a deputy: may start a transfer.
    pub may_transfer: bool,
}

/// A transfer of the file, opened.
#[derive(Debug, Clone, PartialEq)]
pub struct TransferView {
    pub id: Uuid,
    pub reference: String,
    pub child: ChildId,
    pub destination: TransferDestination,
    pub due_at: Timestamp,
    pub counted_in: CountedIn,
    pub status: TransferStatus,
    pub overdue: bool,
    pub started_by: String,
    pub sent_by: Option<String>,
    pub sent_at: Option<Timestamp>,
    pub receipt: Option<String>,
    pub received_by: Option<String>,
    pub received_at: Option<Timestamp>,
    pub version: Version,
    pub may_act: bool,
}

/// What goes into the encrypted file: the chronology and where it goes.
#[derive(Debug, Clone)]
pub struct TransferPackage {
    pub transfer: TransferView,
    pub chronology: ChronologyView,
    pub service_name: String,
    pub prepared_by: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Receipt {
    text: String,
}

/// How a transfer is named in titles and lists: never a name.
pub fn transfer_reference(id: Uuid) -> String {
    crate::safeguarding::short_reference("TR", id)
}

fn transfer_subject(child: ChildId, id: Uuid) -> Subject {
    Subject {
        child: Some(child),
        record_type: "transfer".to_owned(),
        record_id: id.to_string(),
    }
}

fn child_sg_key(child: ChildId) -> KeyOwner {
    KeyOwner::Child {
        child: child.to_string(),
        class: RecordClass::Safeguarding,
    }
}

/// The DSL or a deputy (who write safeguarding records).
fn is_dsl(user: &User) -> bool {
    user.has_role(Role::Dsl) || user.has_role(Role::DeputyDsl)
}

impl Alliance {
    /// Whether `user` has something shared with them among the concern's `steps` (and may
    /// still know the child).
    pub(crate) async fn has_share_on(
        &self,
        user: &User,
        concern: &StoredConcern,
        steps: &[StoredConcernStep],
    ) -> AppResult<bool> {
        let Some(child) = concern.child_id else {
            return Ok(false);
        };
        if !steps
            .iter()
            .any(|s| s.kind == StepKind::SharedWithTeam && s.shared_with == Some(user.id))
        {
            return Ok(false);
        }
        self.may_know_child_now(user, child).await
    }

    /// The child's current case team: whom the DSL may share with.
    pub(crate) async fn share_candidates(
        &self,
        child: ChildId,
    ) -> AppResult<Vec<(UserId, String, String)>> {
        let today = self.today();
        let cases = self.store.cases_of(child).await?;
        let Some(case) = cases.first().filter(|c| c.case.is_open()) else {
            return Ok(Vec::new());
        };
        let team: Vec<_> = case.case.current_team(today).cloned().collect();
        let names = self
            .staff_names(&team.iter().map(|m| m.user_id).collect::<Vec<_>>())
            .await?;
        // One line per person, with every role they hold on the team.
        let mut out: Vec<(UserId, String, String)> = Vec::new();
        for m in team {
            match out.iter_mut().find(|(u, _, _)| *u == m.user_id) {
                Some((_, _, roles)) => {
                    roles.push_str(", ");
                    roles.push_str(m.role.label());
                }
                None => out.push((
                    m.user_id,
                    names.get(&m.user_id).cloned().unwrap_or_default(),
                    m.role.label().to_owned(),
                )),
            }
        }
        Ok(out)
    }

    /// Whether a workflow firing (decide, review, chase) is still wanted when it comes due.
    pub(crate) async fn workflow_firing_wanted(
        &self,
        firing: &NewFiring,
        id: ConcernId,
        steps: &[StoredConcernStep],
    ) -> AppResult<bool> {
        let Some(concern) = self.store.concern(id).await? else {
            return Ok(false);
        };
        let progress = progress_of(&concern, steps);
        Ok(match firing.rule {
            Rule::DecideConcern => matches!(
                progress.stage,
                Stage::AwaitingAcknowledgement | Stage::AwaitingDecision
            ),
            Rule::ReviewConcern => progress.stage == Stage::Open,
            Rule::ChaseReferralFeedback => {
                progress.stage != Stage::Closed && {
                    let last_referral = steps.iter().rposition(|s| s.kind == StepKind::Referred);
                    let last_outcome = steps.iter().rposition(|s| s.kind == StepKind::Outcome);
                    match (last_referral, last_outcome) {
                        (Some(r), Some(o)) => o < r,
                        (Some(_), None) => true,
                        _ => false,
                    }
                }
            }
            _ => true,
        })
    }

    /// Records a step of the DSL's work (the DSL or a deputy on a concern; an allegation's
    /// handler on an allegation). A step on a concern nobody acknowledged acknowledges it
    /// first. Raises what the step needs: a review at a monitor's date, a chase when a
    /// referral's feedback is due, a fresh decision after a re-opening, a notice to the
    /// therapist shared with.
    pub async fn record_workflow_step(
        &self,
        actor: &Actor,
        id: ConcernId,
        kind: StepKind,
        input: &StepDetail,
    ) -> AppResult<()> {
        let (concern, reach) = self
            .submitted_gate(actor, id, "record concern step")
            .await?;
        if reach != Reach::Write {
            return Err(AppError::Denied(
                "only the DSL or a deputy records the work on a concern",
            ));
        }
        if !wf::WORKFLOW_STEPS.contains(&kind) {
            return Err(AppError::Denied("that is not a step of the DSL's work"));
        }
        let now = self.clock.now();
        let tz = uk::london();
        let detail = StepDetail::parse(kind, input, now, &tz)?;
        let steps = self.store.concern_steps(id).await?;
        let progress = progress_of(&concern, &steps);
        wf::check_step(kind, concern.kind, &progress).map_err(AppError::Conflict)?;
        let mut shared_with = None;
        match kind {
            StepKind::SharedWithTeam => {
                let Some(child) = concern.child_id else {
                    return Err(AppError::Conflict(
                        "Match the concern to the child's record first".to_owned(),
                    ));
                };
                let user = UserId::parse(&detail.shared_with)
                    .map_err(|e| alliance_core::Invalid::field("shared_with", e))?;
                let on_team = self
                    .share_candidates(child)
                    .await?
                    .iter()
                    .any(|(u, _, _)| *u == user);
                let may_know = match self.store.user(user).await? {
                    Some(person) if person.active && on_team => {
                        self.may_know_child_now(&person, child).await?
                    }
                    _ => false,
                };
                if !may_know {
                    return Err(alliance_core::Invalid::field(
                        "shared_with",
                        "Choose a therapist on the child's case team",
                    )
                    .into());
                }
                shared_with = Some(user);
            }
            StepKind::InformationShared if !detail.carer.is_empty() => {
                // A carer receives through the one outbound rule (policy section 2): a
                // restriction from a court order or a safeguarding decision still stands.
                let Some(child) = concern.child_id else {
                    return Err(AppError::Conflict(
                        "Match the concern to the child's record first".to_owned(),
                    ));
                };
                let carers = self.carers_of(child).await?;
                let carer = carers
                    .iter()
                    .find(|c| c.id.0.to_string() == detail.carer)
                    .ok_or_else(|| {
                        alliance_core::Invalid::field("carer", "Choose a carer from the list")
                    })?;
                let details = self.details_of(child).await?;
                let item = Item {
                    kind: ItemKind::SafeguardingShare,
                    reveals: Reveals {
                        location_and_times: detail.reveals_location,
                        school: detail.reveals_school,
                        ..Reveals::default()
                    },
                };
                if let Err(refusal) = outbound::may_receive(
                    outbound::Recipient::Carer(&carer.details),
                    item,
                    &details,
                ) {
                    return Err(alliance_core::Invalid::field("carer", refusal.message()).into());
                }
            }
            _ => {}
        }
        if progress.stage == Stage::AwaitingAcknowledgement {
            self.write_step_with(
                actor,
                &concern,
                self.new_id(),
                StepKind::Acknowledged,
                &StepDetail::default(),
                &[
                    Rule::AcknowledgeConcern,
                    Rule::AcknowledgeUrgentConcern,
                    Rule::UrgentConcernEscalated,
                ],
                None,
                Vec::new(),
            )
            .await?;
        }
        let step_id = self.new_id();
        let mut follow_ups = Vec::new();
        let key = |what: &str| format!("{what}:{step_id}");
        match kind {
            StepKind::Decided if detail.decision == Decision::Monitor.code() => {
                if let Some(review) = detail.review_date() {
                    let calendar = self.working_calendar().await?;
                    let day = calendar.next_working_day(review);
                    let fire_at = calendar.counting_start(alliance_core::schedule::wall_clock(
                        day,
                        jiff::civil::Time::constant(9, 0, 0, 0),
                    ));
                    follow_ups.push(self.concern_firing(
                        &concern,
                        Rule::ReviewConcern,
                        Recipient::User(actor.user.id),
                        fire_at.max(now),
                        &key("review"),
                    ));
                }
            }
            StepKind::Referred => {
                let (timing, _) = self.safeguarding_timing().await?;
                let calendar = self.working_calendar().await?;
                let made = detail.occurred_at(&tz).unwrap_or(now);
                let fire_at = calendar
                    .deadline_after_working_days(made, timing.referral_feedback_working_days);
                follow_ups.push(self.concern_firing(
                    &concern,
                    Rule::ChaseReferralFeedback,
                    Recipient::User(actor.user.id),
                    fire_at.max(now),
                    &key("chase"),
                ));
            }
            StepKind::Reopened => {
                for role in [Role::Dsl, Role::DeputyDsl] {
                    follow_ups.push(self.concern_firing(
                        &concern,
                        Rule::DecideConcern,
                        Recipient::Role(role),
                        now,
                        &key(&format!("decide:{}", role.code())),
                    ));
                }
            }
            StepKind::SharedWithTeam => {
                if let Some(user) = shared_with {
                    follow_ups.push(self.concern_firing(
                        &concern,
                        Rule::ConcernShared,
                        Recipient::User(user),
                        now,
                        &key("shared"),
                    ));
                }
            }
            _ => {}
        }
        self.write_step_with(
            actor,
            &concern,
            step_id,
            kind,
            &detail,
            wf::settles(kind),
            shared_with,
            follow_ups,
        )
        .await
    }

    /// What the DSL shared with the reader, newest first; only about `child` when given.
    pub async fn concern_shares(
        &self,
        actor: &Actor,
        child: Option<ChildId>,
    ) -> AppResult<Vec<ShareView>> {
        if let Some(child) = child {
            self.get_child_gate(actor, child, "list shared safeguarding")
                .await?;
        }
        let found = self.store.concern_shares_for(actor.user.id).await?;
        let names = self
            .staff_names(&found.iter().map(|(_, s)| s.actor).collect::<Vec<_>>())
            .await?;
        let mut out = Vec::new();
        let mut seen_children: HashMap<ChildId, bool> = HashMap::new();
        for (concern, step) in found {
            let Some(about) = concern.child_id else {
                continue;
            };
            if child.is_some_and(|c| c != about) {
                continue;
            }
            let may_know = match seen_children.get(&about) {
                Some(v) => *v,
                None => {
                    let v = self.may_know_child_now(&actor.user, about).await?;
                    seen_children.insert(about, v);
                    v
                }
            };
            if !may_know {
                continue;
            }
            let detail = self.open_step(&concern, &step).await?;
            out.push(ShareView {
                concern: concern.id,
                reference: crate::safeguarding::concern_reference(concern.kind, concern.id),
                child: Some(about),
                child_label: self.concern_child_label(about).await?,
                by: names.get(&step.actor).cloned().unwrap_or_default(),
                at: step.created_at,
                text: detail.note,
            });
        }
        out.reverse();
        if !out.is_empty() {
            let mut event = Event::new(
                audit::Action::ConcernRead,
                Some(actor.user.id.to_string()),
                "concern-share-list",
                None,
            )
            .detail(
                &out.iter()
                    .map(|s| s.concern.to_string())
                    .collect::<Vec<_>>()
                    .join(","),
            );
            if let Some(child) = child {
                event = event.for_child(child);
            }
            event.category = Category::Safeguarding;
            self.record(&actor.origin, vec![event]).await?;
        }
        Ok(out)
    }

    /// The gate to a child's safeguarding file (chronology, transfers): the DSL, deputies and
    /// the service lead who may know the child; "not found", audited, for anyone else.
    async fn safeguarding_file_gate(
        &self,
        actor: &Actor,
        child: ChildId,
        asked: &str,
    ) -> AppResult<()> {
        if !sg::sees_queue(&actor.user) || !actor.user.active {
            let mut event = Event::new(
                audit::Action::Denied,
                Some(actor.user.id.to_string()),
                "chronology",
                Some(child.to_string()),
            )
            .for_child(child)
            .detail(asked);
            event.category = Category::Safeguarding;
            self.record(&actor.origin, vec![event]).await?;
            return Err(AppError::NotFound);
        }
        self.get_child_gate(actor, child, asked).await?;
        Ok(())
    }

    /// Every concern, step, addendum and transfer about the child in time order (the
    /// chronology for a strategy meeting). Audited as a read of each concern.
    pub async fn child_chronology(
        &self,
        actor: &Actor,
        child: ChildId,
    ) -> AppResult<ChronologyView> {
        self.safeguarding_file_gate(actor, child, "read chronology")
            .await?;
        let view = self.build_chronology(actor, child).await?;
        let mut event = Event::new(
            audit::Action::ConcernRead,
            Some(actor.user.id.to_string()),
            "chronology",
            Some(child.to_string()),
        )
        .for_child(child);
        event.category = Category::Safeguarding;
        self.record(&actor.origin, vec![event]).await?;
        Ok(view)
    }

    async fn build_chronology(&self, actor: &Actor, child: ChildId) -> AppResult<ChronologyView> {
        let tz = uk::london();
        let details = self.details_of(child).await?;
        let concerns = self.store.concerns_of_child(child).await?;
        let mut entries = Vec::new();
        let mut ids = Vec::new();
        let mut per_concern = Vec::new();
        for concern in concerns {
            let steps = self.store.concern_steps(concern.id).await?;
            let addenda = self.store.concern_addenda(concern.id).await?;
            ids.push(concern.author);
            ids.extend(steps.iter().map(|s| s.actor));
            ids.extend(steps.iter().filter_map(|s| s.shared_with));
            ids.extend(addenda.iter().map(|a| a.author));
            per_concern.push((concern, steps, addenda));
        }
        let transfers = self.store.transfers_of_child(child).await?;
        for t in &transfers {
            ids.push(t.started_by);
            ids.extend(t.sent_by);
            ids.extend(t.received_by);
        }
        let names = self.staff_names(&ids).await?;
        let name = |u: &UserId| names.get(u).cloned().unwrap_or_default();
        let describe_name = |raw: &str| {
            UserId::parse(raw)
                .ok()
                .map(|u| name(&u))
                .unwrap_or_default()
        };
        for (concern, steps, addenda) in &per_concern {
            let reference = crate::safeguarding::concern_reference(concern.kind, concern.id);
            let (content, _) = self.open_concern(concern).await?;
            let submitted = concern.submitted_at.unwrap_or(concern.created_at);
            let happened = match (
                alliance_core::error::parse_date(&content.happened_on),
                content.happened_time.trim(),
            ) {
                (Ok(date), time) => {
                    let detail = StepDetail {
                        on: date.to_string(),
                        time: time.to_owned(),
                        ..StepDetail::default()
                    };
                    detail.occurred_at(&tz)
                }
                _ => None,
            };
            let mut lines = vec![(
                "Urgency".to_owned(),
                if concern.urgent {
                    "Urgent: immediate danger or serious risk".to_owned()
                } else {
                    "Not urgent".to_owned()
                },
            )];
            let categories: Vec<&str> = content
                .harm_categories()
                .into_iter()
                .map(|c| c.label())
                .collect();
            if !categories.is_empty() {
                lines.push(("Categories".to_owned(), categories.join(", ")));
            }
            // A concern about another child that this child is linked to: that it exists and
            // its categories, never the other child's words or its steps (the file may leave
            // the building with this child).
            let linked_only = concern.child_id != Some(child);
            for (label, value) in [
                ("The child's words", &content.child_words),
                ("Observations", &content.observations),
                ("Where", &content.location),
                ("Present", &content.present),
            ] {
                if !value.trim().is_empty() && !linked_only {
                    lines.push((label.to_owned(), value.clone()));
                }
            }
            if linked_only {
                lines.push((
                    "Linked".to_owned(),
                    "Raised about another child; this child is linked to it".to_owned(),
                ));
            }
            entries.push(ChronologyEntry {
                at: happened.unwrap_or(submitted),
                recorded_at: submitted,
                reference: reference.clone(),
                what: "Concern raised".to_owned(),
                code: "raised".to_owned(),
                by: name(&concern.author),
                lines,
            });
            if linked_only {
                continue;
            }
            for step in steps {
                let detail = self.open_step(concern, step).await?;
                entries.push(ChronologyEntry {
                    at: detail.occurred_at(&tz).unwrap_or(step.created_at),
                    recorded_at: step.created_at,
                    reference: reference.clone(),
                    what: step.kind.label().to_owned(),
                    code: step.kind.code().to_owned(),
                    by: name(&step.actor),
                    lines: wf::describe(step.kind, &detail, &describe_name)
                        .into_iter()
                        .map(|(l, v)| (l.to_owned(), v))
                        .collect(),
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
                entries.push(ChronologyEntry {
                    at: a.created_at,
                    recorded_at: a.created_at,
                    reference: reference.clone(),
                    what: "Addendum".to_owned(),
                    code: "addendum".to_owned(),
                    by: name(&a.author),
                    lines: vec![
                        ("Reason".to_owned(), body.reason),
                        ("Text".to_owned(), body.text),
                    ],
                });
            }
        }
        let mut transfer_views = Vec::new();
        for t in &transfers {
            let view = self.open_transfer(actor, t, &names).await?;
            if let (Some(at), Some(by)) = (t.sent_at, t.sent_by) {
                entries.push(ChronologyEntry {
                    at,
                    recorded_at: at,
                    reference: view.reference.clone(),
                    what: "File sent to the new school".to_owned(),
                    code: "transfer-sent".to_owned(),
                    by: name(&by),
                    lines: vec![
                        ("To".to_owned(), view.destination.school.clone()),
                        ("Their DSL".to_owned(), view.destination.dsl_name.clone()),
                    ],
                });
            }
            if let (Some(at), Some(by)) = (t.received_at, t.received_by) {
                entries.push(ChronologyEntry {
                    at,
                    recorded_at: at,
                    reference: view.reference.clone(),
                    what: "Receipt confirmed".to_owned(),
                    code: "transfer-received".to_owned(),
                    by: name(&by),
                    lines: vec![(
                        "Confirmation".to_owned(),
                        view.receipt.clone().unwrap_or_default(),
                    )],
                });
            }
            transfer_views.push(view);
        }
        wf::order_chronology(&mut entries);
        Ok(ChronologyView {
            child,
            child_name: details.legal_name.clone(),
            date_of_birth: details.date_of_birth,
            entries,
            transfers: transfer_views,
            may_transfer: is_dsl(&actor.user) && actor.may_write(),
        })
    }

    async fn open_transfer(
        &self,
        actor: &Actor,
        t: &StoredTransfer,
        names: &HashMap<UserId, String>,
    ) -> AppResult<TransferView> {
        let owner = child_sg_key(t.child_id);
        let id = t.id.to_string();
        let destination: TransferDestination = self
            .open_sg(
                &owner,
                "safeguarding_transfers",
                "destination",
                &id,
                &t.destination,
            )
            .await?;
        let receipt = match &t.receipt {
            Some(sealed) => Some(
                self.open_sg::<Receipt>(&owner, "safeguarding_transfers", "receipt", &id, sealed)
                    .await?
                    .text,
            ),
            None => None,
        };
        let name = |u: &UserId| names.get(u).cloned().unwrap_or_default();
        Ok(TransferView {
            id: t.id,
            reference: transfer_reference(t.id),
            child: t.child_id,
            destination,
            due_at: t.due_at,
            counted_in: if t.counted_in == "working-days" {
                CountedIn::WorkingDays
            } else {
                CountedIn::SchoolDays
            },
            status: t.status,
            overdue: t.status == TransferStatus::Pending && self.clock.now() > t.due_at,
            started_by: name(&t.started_by),
            sent_by: t.sent_by.map(|u| name(&u)),
            sent_at: t.sent_at,
            receipt,
            received_by: t.received_by.map(|u| name(&u)),
            received_at: t.received_at,
            version: t.version,
            may_act: is_dsl(&actor.user)
                && actor.may_write()
                && t.status != TransferStatus::Received,
        })
    }

    /// The deadline for a transfer starting `from`: the close of the fifth school day in the
    /// term calendar of the child's school (working days when it has none).
    async fn transfer_due(
        &self,
        child: ChildId,
        from: jiff::civil::Date,
    ) -> AppResult<(Timestamp, CountedIn)> {
        let (timing, _) = self.safeguarding_timing().await?;
        let working = self.working_calendar().await?;
        let site = self.details_of(child).await?.school_site;
        let calendars = self.store.calendars().await?;
        let term = site.and_then(|s| calendars.into_iter().find(|c| c.site == Some(s)));
        let empty = alliance_core::calendar::BankHolidays::new();
        let holidays = alliance_core::schedule::Holidays::new(
            &empty,
            alliance_core::calendar::Division::EnglandAndWales,
        );
        let (date, counted) = match &term {
            Some(stored) => (
                wf::transfer_deadline(from, timing.transfer_school_days, |d| {
                    working.is_working_day(d) && stored.calendar.status(d, holidays).is_none()
                }),
                CountedIn::SchoolDays,
            ),
            None => (None, CountedIn::WorkingDays),
        };
        let (date, counted) = match date {
            Some(d) => (d, counted),
            // No calendar, or no school day in it within a year: count working days.
            None => (
                wf::transfer_deadline(from, timing.transfer_school_days, |d| {
                    working.is_working_day(d)
                })
                .unwrap_or(from),
                CountedIn::WorkingDays,
            ),
        };
        let close = alliance_core::schedule::wall_clock(date, working.hours().end());
        Ok((close, counted))
    }

    /// Starts a transfer of the child's safeguarding file (the DSL or a deputy): the deadline
    /// is tracked as a task for the one who started it.
    pub async fn start_transfer(
        &self,
        actor: &Actor,
        child: ChildId,
        input: &TransferDestination,
    ) -> AppResult<Uuid> {
        self.safeguarding_file_gate(actor, child, "start transfer")
            .await?;
        actor.ensure_may_write()?;
        if !is_dsl(&actor.user) {
            return Err(AppError::Denied(
                "only the DSL or a deputy transfers the file",
            ));
        }
        let destination = TransferDestination::parse(input)?;
        let from = destination.starts().unwrap_or_else(|| self.today());
        let (due_at, counted) = self.transfer_due(child, from).await?;
        let id = self.new_id();
        let sealed = self
            .seal_sg(
                &child_sg_key(child),
                "safeguarding_transfers",
                "destination",
                &id.to_string(),
                &destination,
            )
            .await?;
        let now = self.clock.now();
        let transfer = StoredTransfer {
            id,
            child_id: child,
            started_by: actor.user.id,
            destination: sealed,
            due_at,
            counted_in: match counted {
                CountedIn::SchoolDays => "school-days",
                CountedIn::WorkingDays => "working-days",
            }
            .to_owned(),
            status: TransferStatus::Pending,
            export: None,
            sent_by: None,
            sent_at: None,
            receipt: None,
            received_by: None,
            received_at: None,
            version: Version::FIRST,
            created_at: now,
            updated_at: now,
        };
        let mut audit = self.audit_batch(
            &actor.origin,
            vec![self.transfer_event(actor, child, id, "transfer started")],
        );
        audit.follow_ups = vec![NewFiring {
            id: FiringId(self.new_id()),
            rule: Rule::SendSafeguardingFile,
            fire_at: now,
            recipient: Recipient::User(actor.user.id),
            subject: Some(transfer_subject(child, id)),
            reference: transfer_reference(id),
            dedupe_key: format!("transfer:{id}:send"),
        }];
        self.store.create_transfer(&transfer, &audit).await?;
        Ok(id)
    }

    fn transfer_event(&self, actor: &Actor, child: ChildId, id: Uuid, what: &str) -> Event {
        let mut event = Event::new(
            audit::Action::ConcernStep,
            Some(actor.user.id.to_string()),
            "transfer",
            Some(id.to_string()),
        )
        .for_child(child)
        .detail(what);
        event.category = Category::Safeguarding;
        event
    }

    async fn transfer_gate(
        &self,
        actor: &Actor,
        child: ChildId,
        id: Uuid,
        asked: &str,
    ) -> AppResult<StoredTransfer> {
        self.safeguarding_file_gate(actor, child, asked).await?;
        match self.store.transfer(id).await? {
            Some(t) if t.child_id == child => Ok(t),
            _ => Err(AppError::NotFound),
        }
    }

    /// One transfer, opened.
    pub async fn transfer_view(
        &self,
        actor: &Actor,
        child: ChildId,
        id: Uuid,
    ) -> AppResult<TransferView> {
        let t = self
            .transfer_gate(actor, child, id, "read transfer")
            .await?;
        let mut ids = vec![t.started_by];
        ids.extend(t.sent_by);
        ids.extend(t.received_by);
        let names = self.staff_names(&ids).await?;
        self.open_transfer(actor, &t, &names).await
    }

    /// What goes into the encrypted file (the web layer renders the PDF and JSON and
    /// encrypts them; the passphrase never reaches the service).
    pub async fn transfer_package(
        &self,
        actor: &Actor,
        child: ChildId,
        id: Uuid,
    ) -> AppResult<TransferPackage> {
        let t = self
            .transfer_gate(actor, child, id, "prepare transfer")
            .await?;
        actor.ensure_may_write()?;
        if !is_dsl(&actor.user) {
            return Err(AppError::Denied(
                "only the DSL or a deputy transfers the file",
            ));
        }
        let chronology = self.build_chronology(actor, child).await?;
        let names = self.staff_names(&[t.started_by, actor.user.id]).await?;
        let transfer = self.open_transfer(actor, &t, &names).await?;
        let service_name = self
            .store
            .service_profile()
            .await?
            .map(|p| p.name.as_str().to_owned())
            .unwrap_or_default();
        Ok(TransferPackage {
            transfer,
            chronology,
            service_name,
            prepared_by: names.get(&actor.user.id).cloned().unwrap_or_default(),
        })
    }

    /// Stores the encrypted file and marks the transfer sent; receipt is then awaited (a
    /// task for whoever sent it).
    pub async fn record_transfer_sent(
        &self,
        actor: &Actor,
        child: ChildId,
        id: Uuid,
        encrypted: &[u8],
        expected: Version,
    ) -> AppResult<()> {
        let t = self
            .transfer_gate(actor, child, id, "send transfer")
            .await?;
        actor.ensure_may_write()?;
        if !is_dsl(&actor.user) {
            return Err(AppError::Denied(
                "only the DSL or a deputy transfers the file",
            ));
        }
        let sealed = self
            .seal_sg(
                &child_sg_key(child),
                "safeguarding_transfers",
                "export",
                &id.to_string(),
                &serde_bytes_b64(encrypted),
            )
            .await?;
        let now = self.clock.now();
        let mut audit = self.audit_batch(
            &actor.origin,
            vec![self.transfer_event(actor, child, id, "file sent")],
        );
        audit.follow_ups = vec![NewFiring {
            id: FiringId(self.new_id()),
            rule: Rule::ConfirmFileReceived,
            fire_at: now,
            recipient: Recipient::User(actor.user.id),
            subject: Some(transfer_subject(child, id)),
            reference: transfer_reference(id),
            dedupe_key: format!("transfer:{id}:confirm:{}", self.new_id()),
        }];
        let _ = t;
        self.store
            .record_transfer_sent(id, &sealed, actor.user.id, expected, now, &audit)
            .await
            .map_err(transfer_conflict)?;
        Ok(())
    }

    /// The encrypted file as made (for the DSL to hand over again).
    pub async fn transfer_file(
        &self,
        actor: &Actor,
        child: ChildId,
        id: Uuid,
    ) -> AppResult<Vec<u8>> {
        let t = self
            .transfer_gate(actor, child, id, "download transfer")
            .await?;
        if !is_dsl(&actor.user) {
            return Err(AppError::NotFound);
        }
        let Some(sealed) = &t.export else {
            return Err(AppError::NotFound);
        };
        let text: String = self
            .open_sg(
                &child_sg_key(child),
                "safeguarding_transfers",
                "export",
                &id.to_string(),
                sealed,
            )
            .await?;
        self.record(
            &actor.origin,
            vec![self.transfer_event(actor, child, id, "file downloaded")],
        )
        .await?;
        bytes_from_b64(&text)
    }

    /// Records that the new school confirmed receipt (who, when, how).
    pub async fn record_transfer_received(
        &self,
        actor: &Actor,
        child: ChildId,
        id: Uuid,
        confirmation: &str,
        expected: Version,
    ) -> AppResult<()> {
        self.transfer_gate(actor, child, id, "confirm transfer")
            .await?;
        actor.ensure_may_write()?;
        if !is_dsl(&actor.user) {
            return Err(AppError::Denied(
                "only the DSL or a deputy transfers the file",
            ));
        }
        let text = alliance_core::error::parse_text(confirmation, 3, 2000)
            .map_err(|e| alliance_core::Invalid::field("confirmation", e))?;
        let sealed = self
            .seal_sg(
                &child_sg_key(child),
                "safeguarding_transfers",
                "receipt",
                &id.to_string(),
                &Receipt { text },
            )
            .await?;
        let audit = self.audit_batch(
            &actor.origin,
            vec![self.transfer_event(actor, child, id, "receipt confirmed")],
        );
        self.store
            .record_transfer_received(
                id,
                &sealed,
                actor.user.id,
                expected,
                self.clock.now(),
                &audit,
            )
            .await
            .map_err(transfer_conflict)?;
        Ok(())
    }

    /// Whether a task pointing at a transfer may be shown to `user`.
    pub(crate) async fn may_see_transfer_subject(
        &self,
        user: &User,
        subject: &Subject,
    ) -> AppResult<bool> {
        let Some(child) = subject.child else {
            return Ok(false);
        };
        Ok(user.active && sg::sees_queue(user) && self.may_know_child_now(user, child).await?)
    }

    /// A transfer's deadline (for the task the scheduler raises).
    pub(crate) async fn recorded_due(
        &self,
        subject: &Option<Subject>,
    ) -> AppResult<Option<Timestamp>> {
        let Some(subject) = subject else {
            return Ok(None);
        };
        if subject.record_type != "transfer" {
            return Ok(None);
        }
        let Ok(id) = Uuid::parse_str(&subject.record_id) else {
            return Ok(None);
        };
        Ok(self.store.transfer(id).await?.map(|t| t.due_at))
    }
}

/// The store's refusals of a transfer, in words.
fn transfer_conflict(err: crate::store::StoreError) -> AppError {
    match err {
        crate::store::StoreError::Conflict(name) => AppError::Conflict(
            match name.as_str() {
                "safeguarding_transfers_received" => {
                    "The new school has confirmed receipt: this transfer is complete"
                }
                "safeguarding_transfers_not_sent" => {
                    "Make and send the encrypted file before recording its receipt"
                }
                _ => "This transfer changed: reload it",
            }
            .to_owned(),
        ),
        other => other.into(),
    }
}

fn progress_of(concern: &StoredConcern, steps: &[StoredConcernStep]) -> Progress {
    Progress::of(
        concern.submitted_at.unwrap_or(concern.created_at),
        &steps
            .iter()
            .map(|s| (s.kind, s.created_at))
            .collect::<Vec<_>>(),
    )
}

/// The encrypted file is sealed as JSON: its bytes as base64.
fn serde_bytes_b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn bytes_from_b64(text: &str) -> AppResult<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| AppError::Store(crate::store::StoreError::Other(e.to_string())))
}
