//! Contact logs (policy sections 1 and 2): contact with each carer and with the professional
//! network, sealed under the child's clinical key. A carer the rules would not contact is
//! logged only with an explicit override and its reason (audited as an override). The
//! scheduler reminds the case team of the carers' review meeting at the service's interval.

use crate::app::Alliance;
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::store::{AuditBatch, NewFiring, StoreError, StoredContact};
use alliance_core::Invalid;
use alliance_core::Version;
use alliance_core::access::{ChildData, case_access, sees_names};
use alliance_core::audit::{self, Event, Origin};
use alliance_core::cases::{CaseId, TeamRole};
use alliance_core::children::{CarerId, ChildId};
use alliance_core::contact_logs::{self, Contact, ContactInput, ContactKind, ContactWith};
use alliance_core::crypto::{KeyOwner, RecordClass, SealedAt};
use alliance_core::policy::Action;
use alliance_core::tasks::{FiringId, Recipient, Rule, Subject};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The settings document the contact policy is kept under.
const CONTACT_POLICY: &str = "contact-policy";

/// How often the team reviews the work with the carers (service policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactPolicy {
    /// Weeks between carers' review meetings (1 to 26; 6 by default).
    pub carer_review_weeks: i64,
}

impl Default for ContactPolicy {
    fn default() -> Self {
        Self {
            carer_review_weeks: 6,
        }
    }
}

fn owner(child: ChildId) -> KeyOwner {
    KeyOwner::Child {
        child: child.to_string(),
        class: RecordClass::Clinical,
    }
}

/// A contact, opened for a reader who may see it.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactView {
    pub stored: StoredContact,
    pub contact: Contact,
    /// The carer's name and relationship (their relationship only, for a pseudonymised
    /// reader), for a contact with a carer.
    pub carer: Option<String>,
    pub recorded_by: String,
}

/// A carer as the log's form offers them.
#[derive(Debug, Clone, PartialEq)]
pub struct CarerOption {
    pub id: CarerId,
    pub label: String,
    /// Why contact needs an override, when it does.
    pub needs_override: Option<String>,
}

/// A case's contact log.
#[derive(Debug, Clone)]
pub struct CaseContacts {
    pub case_id: CaseId,
    pub case_number: String,
    pub child_label: String,
    pub contacts: Vec<ContactView>,
    pub carers: Vec<CarerOption>,
    /// When the next carers' review meeting is due.
    pub next_review: jiff::civil::Date,
    pub may_write: bool,
}

impl Alliance {
    /// The service's contact policy and its version (`None` while the default stands).
    pub async fn contact_policy(&self) -> AppResult<(ContactPolicy, Option<Version>)> {
        Ok(
            match self
                .settings_document::<ContactPolicy>(CONTACT_POLICY, "contact policy")
                .await?
            {
                None => (ContactPolicy::default(), None),
                Some((policy, version)) => (policy, Some(version)),
            },
        )
    }

    /// Changes the interval of carers' review meetings (administrators).
    pub async fn set_contact_policy(
        &self,
        actor: &Actor,
        policy: ContactPolicy,
        expected: Option<Version>,
    ) -> AppResult<ContactPolicy> {
        self.require(
            actor,
            Action::ManageService,
            "update contact policy",
            "service",
            None,
        )
        .await?;
        if !(1..=26).contains(&policy.carer_review_weeks) {
            return Err(
                Invalid::field("carer_review_weeks", "Choose between 1 and 26 weeks").into(),
            );
        }
        self.put_settings_document(actor, CONTACT_POLICY, &policy, expected)
            .await?;
        Ok(policy)
    }

    async fn contacts_gate(
        &self,
        actor: &Actor,
        case: CaseId,
        asked: &str,
    ) -> AppResult<(crate::store::StoredCase, bool, bool)> {
        let stored = self.store.case(case).await?.ok_or(AppError::NotFound)?;
        let child = stored.case.child_id;
        let (standing, newest) = self.get_child_gate(actor, child, asked).await?;
        let access = case_access(
            &actor.user,
            &standing,
            ChildData::ContactLogs,
            newest == Some(case),
        );
        if !access.may_read() {
            self.audit_refusal(actor, asked, "contact-log", case.to_string(), child)
                .await?;
            return Err(AppError::NotFound);
        }
        Ok((
            stored,
            access.may_write() && actor.may_write(),
            sees_names(&actor.user, &standing),
        ))
    }

    /// The case's contact log, newest first.
    pub async fn case_contacts(&self, actor: &Actor, case: CaseId) -> AppResult<CaseContacts> {
        let (stored_case, may_write, names) =
            self.contacts_gate(actor, case, "read contact log").await?;
        let child = stored_case.case.child_id;
        let details = self.details_of(child).await?;
        let carers = self.carers_of(child).await?;
        let label = |id: CarerId| {
            carers
                .iter()
                .find(|c| c.id == id)
                .map(|c| {
                    if names {
                        format!("{} ({})", c.details.name, c.details.relationship)
                    } else {
                        c.details.relationship.clone()
                    }
                })
                .unwrap_or_else(|| "A former carer".to_owned())
        };
        let stored = self.store.contacts_of_case(case).await?;
        let staff = self
            .staff_names(&stored.iter().map(|c| c.recorded_by).collect::<Vec<_>>())
            .await?;
        let mut contacts = Vec::new();
        for s in stored {
            let row = s.id.to_string();
            let plain = self
                .keys
                .open(
                    &owner(child),
                    &s.detail,
                    SealedAt {
                        table: "contact_logs",
                        column: "detail",
                        row: &row,
                    },
                    self.clock.now(),
                )
                .await
                .map_err(AppError::from)?;
            let contact: Contact = serde_json::from_slice(&plain)
                .map_err(|e| AppError::Store(StoreError::Other(e.to_string())))?;
            contacts.push(ContactView {
                carer: s.carer_id.map(label),
                recorded_by: staff.get(&s.recorded_by).cloned().unwrap_or_default(),
                contact,
                stored: s,
            });
        }
        let (policy, _) = self.contact_policy().await?;
        let last_meeting = contacts
            .iter()
            .filter(|c| c.stored.carer_id.is_some() && c.contact.kind == ContactKind::Meeting)
            .map(|c| c.stored.contacted_on)
            .max();
        self.record(
            &actor.origin,
            vec![
                Event::new(
                    audit::Action::ChildRead,
                    Some(actor.user.id.to_string()),
                    "contact-log",
                    Some(case.to_string()),
                )
                .for_child(child),
            ],
        )
        .await?;
        Ok(CaseContacts {
            case_id: case,
            case_number: stored_case.case.number_label(),
            child_label: if names {
                details.known_as().to_owned()
            } else {
                format!(
                    "{} ({})",
                    details.initials(),
                    stored_case.case.number_label()
                )
            },
            carers: carers
                .iter()
                .filter(|c| c.active)
                .map(|c| CarerOption {
                    id: c.id,
                    label: label(c.id),
                    needs_override: contact_logs::carer_refusal(&c.details, &details),
                })
                .collect(),
            next_review: contact_logs::carer_review_due(
                last_meeting,
                stored_case
                    .case
                    .details
                    .first_seen
                    .unwrap_or(stored_case.case.details.referral_received),
                policy.carer_review_weeks,
            ),
            contacts,
            may_write,
        })
    }

    /// Logs a contact. A carer the rules would not contact needs an explicit override and
    /// its reason.
    pub async fn log_contact(
        &self,
        actor: &Actor,
        case: CaseId,
        input: &ContactInput,
    ) -> AppResult<Uuid> {
        let (stored_case, may_write, _) = self.contacts_gate(actor, case, "log contact").await?;
        let child = stored_case.case.child_id;
        if !may_write {
            return Err(AppError::Denied(if actor.may_write() {
                "only the case team's therapists log contacts"
            } else {
                "this API token is read-only"
            }));
        }
        let contact = Contact::parse(input, self.today())?;
        let carer_id = match &contact.with {
            ContactWith::Carer { carer } => {
                let id = Uuid::parse_str(carer)
                    .map(CarerId)
                    .map_err(|_| Invalid::field("carer", "Choose the carer"))?;
                let details = self.details_of(child).await?;
                let found = self
                    .carers_of(child)
                    .await?
                    .into_iter()
                    .find(|c| c.id == id && c.active)
                    .ok_or_else(|| Invalid::field("carer", "Choose the carer"))?;
                contact.check_override(
                    contact_logs::carer_refusal(&found.details, &details).as_deref(),
                )?;
                Some(id)
            }
            ContactWith::Professional { .. } => {
                if contact.override_reason.is_some() {
                    return Err(Invalid::field(
                        "override_reason",
                        "No override is needed for this contact: leave the reason empty",
                    )
                    .into());
                }
                None
            }
        };
        let id = self.new_id();
        let row = id.to_string();
        let plain = serde_json::to_vec(&contact)
            .map_err(|e| AppError::Store(StoreError::Other(e.to_string())))?;
        let sealed = self
            .keys
            .seal(
                &owner(child),
                &plain,
                SealedAt {
                    table: "contact_logs",
                    column: "detail",
                    row: &row,
                },
                self.clock.now(),
            )
            .await?;
        let overridden = contact.override_reason.is_some();
        let stored = StoredContact {
            id,
            case_id: case,
            child_id: child,
            carer_id,
            kind: contact.kind.code().to_owned(),
            contacted_on: contact.on,
            overridden,
            detail: sealed,
            recorded_by: actor.user.id,
            recorded_at: self.clock.now(),
        };
        let mut events = vec![
            Event::new(
                audit::Action::ContactLogged,
                Some(actor.user.id.to_string()),
                "contact-log",
                Some(id.to_string()),
            )
            .for_child(child),
        ];
        if overridden {
            events.push(
                Event::new(
                    audit::Action::ContactOverride,
                    Some(actor.user.id.to_string()),
                    "carer",
                    carer_id.map(|c| c.to_string()),
                )
                .for_child(child),
            );
        }
        let batch = self.audit_batch(&actor.origin, events);
        self.store.log_contact(&stored, &batch).await?;
        Ok(id)
    }

    /// The scheduler's pass: a carers' review meeting is due on an open case when the last
    /// meeting with a carer (or the case's start) is older than the service's interval. The
    /// parent-worker is asked, else the lead; keyed by the due date, so never twice.
    pub(crate) async fn schedule_carer_reviews(&self, origin: &Origin) -> AppResult<()> {
        let today = self.today();
        let (policy, _) = self.contact_policy().await?;
        for slot in self.store.slots().await? {
            let Some(case) = self.store.case(slot.case_id).await? else {
                continue;
            };
            if !case.case.is_open() {
                continue;
            }
            let team: Vec<_> = case.case.current_team(today).collect();
            let Some(owner) = team
                .iter()
                .find(|m| m.role == TeamRole::ParentWorker)
                .or_else(|| team.iter().find(|m| m.role == TeamRole::Lead))
                .map(|m| m.user_id)
            else {
                continue;
            };
            // Reviews are counted from when the work began.
            let Some(began) = case.case.details.first_seen else {
                continue;
            };
            let last_meeting = self
                .store
                .contacts_of_case(case.case.id)
                .await?
                .iter()
                .filter(|c| c.carer_id.is_some() && c.kind == ContactKind::Meeting.code())
                .map(|c| c.contacted_on)
                .max();
            let due =
                contact_logs::carer_review_due(last_meeting, began, policy.carer_review_weeks);
            if due > today {
                continue;
            }
            let mut batch: AuditBatch<'_> = self.audit_batch(origin, Vec::new());
            batch.follow_ups = vec![NewFiring {
                id: FiringId(self.new_id()),
                rule: Rule::CarerReview,
                fire_at: self.clock.now(),
                recipient: Recipient::User(owner),
                subject: Some(Subject {
                    child: Some(case.case.child_id),
                    record_type: "case".to_owned(),
                    record_id: case.case.id.to_string(),
                }),
                reference: case.case.number_label(),
                // Keyed by what the review follows (the last meeting, or the start of the work),
                // not by its due date: a change of interval or of the start date must not
                // raise the same review twice.
                dedupe_key: format!(
                    "carer-review:{}:{}",
                    case.case.id,
                    last_meeting.map_or_else(|| "start".to_owned(), |d| d.to_string())
                ),
            }];
            self.store.append_audit(&batch).await?;
        }
        Ok(())
    }
}
