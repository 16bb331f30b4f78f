//! The therapy agreement, consent and assent, consent links and the first-session checklist
//! (policy sections 2 and 3). All of it is the child's clinical record: sealed under the
//! child's clinical key, read and written through the case's gate with the clinical row of
//! the matrix (the parent-worker reads the agreement and consent; the service lead reads
//! consent and decides on objections).
//!
//! Nothing here blocks records, concerns or safeguarding: an agreement that is not active
//! warns when sessions are scheduled and stops carer-facing letters and handouts.

use crate::app::Alliance;
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::store::{
    AuditBatch, ChildDetailsUpdate, ConsentLinkRecord, NewFiring, StoreError, StoredAgreement,
    StoredCase, StoredChecklistItem, StoredConsentEntry,
};
use alliance_core::access::{Access, ChildData, Limit, Standing, case_access, sees_names};
use alliance_core::agreements::{AgreementContent, AgreementInput, AgreementStatus};
use alliance_core::audit::{self, Event, Origin};
use alliance_core::auth::secret_hash;
use alliance_core::cases::CaseId;
use alliance_core::checklist::{self, ChecklistInput, ChecklistItem, LIMITS_OF_CONFIDENTIALITY};
use alliance_core::children::{Carer, CarerId, CarerTopic, ChildDetails, ChildId};
use alliance_core::consent::{
    self, Assessment, CarerStanding, ConsentRules, Entry, EntryKind, LINK_DAYS_DEFAULT,
    LINK_DAYS_MAX, Via,
};
use alliance_core::crypto::{KeyOwner, RecordClass, Sealed, SealedAt};
use alliance_core::error::{parse_date, parse_line, parse_optional_line, parse_optional_text};
use alliance_core::explanations::Audience;
use alliance_core::identity::{Role, UserId};
use alliance_core::outbound::{self, Item, ItemKind, Recipient};
use alliance_core::random::random_bytes;
use alliance_core::schedule::{clock_text, weekday_label};
use alliance_core::tasks::{FiringId, Recipient as TaskRecipient, Rule, Subject};
use alliance_core::{Invalid, uk};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use uuid::Uuid;

/// What was said with a consent entry; sealed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentDetail {
    /// The child's or young person's own words.
    #[serde(default)]
    pub words: Option<String>,
    /// The therapist's or service lead's reasoning.
    #[serde(default)]
    pub reasoning: Option<String>,
    /// With a young person's own consent: what they agree their carers may be told.
    #[serde(default)]
    pub carers_may_be_told: Vec<CarerTopic>,
    /// A carer's name as they typed it on a consent link.
    #[serde(default)]
    pub signed_name: Option<String>,
    /// A court order's reference, a scanned form's reference.
    #[serde(default)]
    pub reference: Option<String>,
}

/// What the child said back, and anything to revisit; sealed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct ChecklistWords {
    child_said: Option<String>,
    revisit: Option<String>,
}

/// An entry as typed by staff.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentInput {
    pub kind: String,
    /// The carer's id, for a parental consent or objection.
    #[serde(default)]
    pub carer: String,
    /// `31/12/2026` or `2026-12-31`; empty means today.
    #[serde(default)]
    pub given_on: String,
    #[serde(default)]
    pub words: String,
    #[serde(default)]
    pub reasoning: String,
    /// Topic codes (`attendance`, `paperwork`, `progress`), with a young person's own consent.
    #[serde(default)]
    pub carers_may_be_told: Vec<String>,
    #[serde(default)]
    pub reference: String,
}

/// A carer's answer on a consent link.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkAnswer {
    /// `consent` or `object`.
    pub decision: String,
    /// Their full name, typed as a signature.
    pub signed_name: String,
    #[serde(default)]
    pub comment: String,
}

/// One version of the agreement, opened.
#[derive(Debug, Clone, PartialEq)]
pub struct AgreementView {
    pub stored: StoredAgreement,
    pub content: AgreementContent,
    pub created_by: String,
    pub activated_by: Option<String>,
    /// The regular time or place has changed since this version was written.
    pub slot_changed: bool,
}

/// One consent entry, opened for a reader who may see it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsentRecordView {
    pub entry: StoredConsentEntry,
    pub detail: ConsentDetail,
    /// The carer's name and relationship, for a parental entry.
    pub carer: Option<String>,
    /// Who recorded it (a member of staff), or `None` through a link.
    pub recorded_by: Option<String>,
}

/// A carer as the consent page offers them.
#[derive(Debug, Clone, PartialEq)]
pub struct CarerChoice {
    pub id: CarerId,
    pub label: String,
    pub parental_responsibility: bool,
    /// Why a consent link may not go to them, if it may not.
    pub link_refused: Option<String>,
}

/// A consent link as the case page lists it (never its token).
#[derive(Debug, Clone, PartialEq)]
pub struct ConsentLinkView {
    pub link: ConsentLinkRecord,
    pub carer: String,
    /// `Waiting`, `Used`, `Expired`, `Withdrawn`.
    pub state: &'static str,
}

/// Everything about a case's agreement and consent, for its page and the API.
#[derive(Debug, Clone)]
pub struct CaseAgreement {
    pub case_id: CaseId,
    pub child_id: ChildId,
    pub case_number: String,
    /// The child's name, or their initials and case number for a pseudonymised reader.
    pub child_label: String,
    pub age_years: i16,
    pub case_open: bool,
    pub rules: ConsentRules,
    /// Newest first.
    pub versions: Vec<AgreementView>,
    /// The version the assessment is about: the newest draft, else the active one.
    pub assessed: Option<Uuid>,
    pub assessment: Assessment,
    pub entries: Vec<ConsentRecordView>,
    pub links: Vec<ConsentLinkView>,
    pub carers: Vec<CarerChoice>,
    /// The regular time and place as things stand ("" when there is no regular slot).
    pub time_and_place: String,
    /// Where an editor starts: the newest version, or the starting point.
    pub editor: AgreementInput,
    pub may_write: bool,
    /// The service lead records a decision after an objection.
    pub may_decide: bool,
    /// The parent-worker and the service lead read consent but not the checklist.
    pub may_read_checklist: bool,
    /// Whether the reader may print the agreement (they read it and see the child's name).
    pub may_print: bool,
}

impl CaseAgreement {
    pub fn active(&self) -> Option<&AgreementView> {
        self.versions
            .iter()
            .find(|v| v.stored.status == AgreementStatus::Active)
    }
}

/// A printable agreement (page, PDF).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgreementDocument {
    pub service_name: String,
    pub title: String,
    pub for_name: String,
    /// `Version 2, active since 02/11/2026`, or `Version 3, a draft: not yet agreed`.
    pub status_line: String,
    pub rules: Vec<String>,
    pub time_and_place: String,
    pub confidentiality: String,
    pub footer: String,
}

/// Who a printed agreement is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgreementCopy {
    Child,
    Carer(CarerId),
}

/// The checklist of a case, for its page and the API.
#[derive(Debug, Clone)]
pub struct CaseChecklist {
    pub case_id: CaseId,
    pub child_id: ChildId,
    pub case_number: String,
    pub child_label: String,
    /// The band the child is in today (its code and label).
    pub band: (String, String),
    /// Every item of the child's, newest explanation first; `case_id` says which case.
    pub items: Vec<ChecklistItemView>,
    /// The library's topics (code, title), in the order they are explained.
    pub topics: Vec<(String, String)>,
    /// Library versions a therapist may name (id, label).
    pub versions: Vec<(Uuid, String)>,
    pub may_write: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChecklistItemView {
    pub stored: StoredChecklistItem,
    pub topic_title: String,
    pub child_said: Option<String>,
    pub revisit: Option<String>,
    pub recorded_by: String,
}

/// When and how the limits of confidentiality were last explained.
#[derive(Debug, Clone, PartialEq)]
pub struct LastExplained {
    pub on: jiff::civil::Date,
    pub how: String,
    pub to_whom: String,
    pub case_id: CaseId,
}

/// A consent link as its carer sees it: the least that says what is asked.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsentLinkPage {
    pub service_name: String,
    /// The child's legal first name (a preferred name may be restricted).
    pub child_first_name: String,
    pub expires_at: Timestamp,
    /// Explanations for parents and carers from the library: (title, paragraphs).
    pub explanations: Vec<(String, Vec<String>)>,
}

/// The settings document that holds the service's consent figures.
const CONSENT_RULES: &str = "consent-rules";

fn clinical_owner(child: ChildId) -> KeyOwner {
    KeyOwner::Child {
        child: child.to_string(),
        class: RecordClass::Clinical,
    }
}

fn json_error(e: serde_json::Error) -> AppError {
    AppError::Store(StoreError::Other(format!(
        "a sealed record did not decode: {e}"
    )))
}

fn seal_error(e: impl std::fmt::Display) -> AppError {
    AppError::Store(StoreError::Other(e.to_string()))
}

/// What a reader may do with a case's agreement, consent and checklist.
#[derive(Debug, Clone, Copy)]
struct Reach {
    /// The case's consent (the service lead reads it to decide after an objection).
    agreement: bool,
    /// The agreement's content and what was said with each entry (the clinical record).
    clinical: bool,
    checklist: bool,
    write: bool,
    decide: bool,
    names: bool,
}

fn reach(actor: &Actor, standing: &Standing, is_newest: bool) -> Reach {
    let clinical = case_access(&actor.user, standing, ChildData::Clinical, is_newest);
    let cases = case_access(&actor.user, standing, ChildData::Cases, is_newest);
    let parent_worker = clinical == Access::Limited(Limit::SharedWithParentWorker);
    let lead = actor.user.has_role(Role::ServiceLead) && cases.may_read();
    Reach {
        agreement: clinical.may_read() || parent_worker || lead,
        clinical: clinical.may_read() || parent_worker,
        checklist: clinical.may_read(),
        write: clinical.may_write() && actor.may_write(),
        decide: lead && actor.may_write() && is_newest,
        names: sees_names(&actor.user, standing),
    }
}

fn paragraphs(body: &str) -> Vec<String> {
    body.split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect()
}

fn case_subject(child: ChildId, case: CaseId) -> Subject {
    Subject {
        child: Some(child),
        record_type: "case".to_owned(),
        record_id: case.to_string(),
    }
}

impl Alliance {
    /// The consent rules of the service's nation, with the service's figures where it has
    /// changed them.
    pub async fn consent_rules(&self) -> AppResult<ConsentRules> {
        Ok(self.consent_rules_and_version().await?.0)
    }

    /// The rules and the version of the service's figures (`None` while the shipped ones
    /// stand).
    pub async fn consent_rules_and_version(
        &self,
    ) -> AppResult<(ConsentRules, Option<alliance_core::Version>)> {
        let nation = self
            .store
            .service_profile()
            .await?
            .map(|p| p.nation)
            .unwrap_or(alliance_core::Nation::England);
        let shipped =
            ConsentRules::for_nation(nation).map_err(|e| AppError::Store(StoreError::Other(e)))?;
        match self
            .settings_document::<consent::ConsentOverrides>(CONSENT_RULES, "consent figures")
            .await?
        {
            None => Ok((shipped, None)),
            Some((figures, version)) => {
                let rules = shipped
                    .with_overrides(&figures)
                    .map_err(|e| AppError::Store(StoreError::Other(e)))?;
                Ok((rules, Some(version)))
            }
        }
    }

    /// Changes the service's figures in its nation's consent rules (administrators).
    pub async fn set_consent_figures(
        &self,
        actor: &Actor,
        figures: &consent::ConsentOverrides,
        expected: Option<alliance_core::Version>,
    ) -> AppResult<ConsentRules> {
        self.require(
            actor,
            alliance_core::policy::Action::ManageService,
            "update consent rules",
            "service",
            None,
        )
        .await?;
        let (current, _) = self.consent_rules_and_version().await?;
        let rules = current
            .with_overrides(figures)
            .map_err(|m| Invalid::field("presumed_capable_from", m))?;
        self.put_settings_document(actor, CONSENT_RULES, figures, expected)
            .await?;
        Ok(rules)
    }

    /// Passes the child's gate for a case and works out what the reader may do with its
    /// agreement; "not found" (audited) for a reader who may not see it at all.
    async fn agreement_gate(
        &self,
        actor: &Actor,
        case: CaseId,
        asked: &str,
        need_checklist: bool,
    ) -> AppResult<(StoredCase, Reach)> {
        let stored = self.store.case(case).await?.ok_or(AppError::NotFound)?;
        let child = stored.case.child_id;
        let (standing, newest) = self.get_child_gate(actor, child, asked).await?;
        let reach = reach(actor, &standing, newest == Some(case));
        let allowed = if need_checklist {
            reach.checklist
        } else {
            reach.agreement
        };
        if !allowed {
            self.audit_refusal(actor, asked, "case", case.to_string(), child)
                .await?;
            return Err(AppError::NotFound);
        }
        Ok((stored, reach))
    }

    async fn require_agreement_write(
        &self,
        actor: &Actor,
        case: CaseId,
        asked: &str,
    ) -> AppResult<StoredCase> {
        let (stored, reach) = self.agreement_gate(actor, case, asked, false).await?;
        if !reach.write {
            self.audit_refusal(actor, asked, "case", case.to_string(), stored.case.child_id)
                .await?;
            return Err(AppError::Denied(if actor.may_write() {
                "only the case team's therapists record the agreement, consent and checklist of an open case"
            } else {
                "this API token is read-only"
            }));
        }
        Ok(stored)
    }

    fn child_label(&self, details: &ChildDetails, case: &StoredCase, names: bool) -> String {
        if names {
            details.known_as().to_owned()
        } else {
            format!("{} ({})", details.initials(), case.case.number_label())
        }
    }

    async fn seal_clinical(
        &self,
        child: ChildId,
        table: &str,
        column: &str,
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
                    column,
                    row: &row,
                },
                self.clock.now(),
            )
            .await?)
    }

    async fn open_clinical(
        &self,
        child: ChildId,
        table: &str,
        column: &str,
        row: Uuid,
        sealed: &Sealed,
    ) -> AppResult<zeroize::Zeroizing<Vec<u8>>> {
        let row = row.to_string();
        self.keys
            .open(
                &clinical_owner(child),
                sealed,
                SealedAt {
                    table,
                    column,
                    row: &row,
                },
                self.clock.now(),
            )
            .await
            .map_err(AppError::from)
    }

    async fn open_agreement(&self, stored: &StoredAgreement) -> AppResult<AgreementContent> {
        let plain = self
            .open_clinical(
                stored.child_id,
                "agreements",
                "content",
                stored.id,
                &stored.content,
            )
            .await?;
        serde_json::from_slice(&plain).map_err(json_error)
    }

    async fn open_consent(&self, entry: &StoredConsentEntry) -> AppResult<ConsentDetail> {
        let plain = self
            .open_clinical(
                entry.child_id,
                "consent_entries",
                "detail",
                entry.id,
                &entry.detail,
            )
            .await?;
        serde_json::from_slice(&plain).map_err(json_error)
    }

    /// The regular time and place in words, as the agreement records it; empty without a
    /// regular slot.
    async fn time_and_place(&self, case: CaseId) -> AppResult<(String, Option<i64>)> {
        let Some(slot) = self.store.slot(case).await? else {
            return Ok((String::new(), None));
        };
        let (room, site) = match self.store.room(slot.room).await? {
            Some(room) => {
                let site = self
                    .store
                    .site(room.site_id)
                    .await?
                    .map(|s| s.details.name)
                    .unwrap_or_default();
                (room.details.name, site)
            }
            None => (String::new(), String::new()),
        };
        let end = slot
            .slot
            .start
            .checked_add(SignedDuration::from_mins(i64::from(slot.slot.minutes)))
            .unwrap_or(slot.slot.start);
        Ok((
            format!(
                "Every {}, {} to {}, in {} at {}, in term time",
                weekday_label(slot.slot.weekday),
                clock_text(slot.slot.start),
                clock_text(end),
                room,
                site
            ),
            Some(slot.version.get()),
        ))
    }

    async fn consent_facts(
        &self,
        case: CaseId,
        child: ChildId,
    ) -> AppResult<(
        Vec<StoredConsentEntry>,
        Vec<Carer>,
        ChildDetails,
        HashMap<Uuid, ConsentDetail>,
    )> {
        let entries = self.store.consent_entries(case).await?;
        let carers = self.carers_of(child).await?;
        let details = self.details_of(child).await?;
        let mut opened = HashMap::new();
        for e in &entries {
            opened.insert(e.id, self.open_consent(e).await?);
        }
        Ok((entries, carers, details, opened))
    }

    fn assess_with(
        &self,
        rules: &ConsentRules,
        details: &ChildDetails,
        entries: &[StoredConsentEntry],
        carers: &[Carer],
        opened: &HashMap<Uuid, ConsentDetail>,
        agreement: Option<Uuid>,
    ) -> Assessment {
        let core_entries: Vec<Entry> = entries
            .iter()
            .map(|e| Entry {
                id: e.id,
                kind: e.kind,
                carer: e.carer_id,
                agreement: e.agreement_id,
                via: e.via,
                given_on: e.given_on,
                recorded_at: e.recorded_at,
            })
            .collect();
        let standings: Vec<CarerStanding> = carers
            .iter()
            .map(|c| CarerStanding {
                id: c.id,
                parental_responsibility: c.active && c.details.parental_responsibility.is_some(),
            })
            .collect();
        let topics = |id: Uuid| -> BTreeSet<CarerTopic> {
            opened
                .get(&id)
                .map(|d| d.carers_may_be_told.iter().copied().collect())
                .unwrap_or_default()
        };
        consent::assess(
            rules,
            details.age_on(self.today()),
            &core_entries,
            &standings,
            agreement,
            &topics,
        )
    }

    /// The version the assessment is about: the newest draft, else the active one.
    fn assessed_version(versions: &[StoredAgreement]) -> Option<Uuid> {
        versions
            .iter()
            .find(|v| v.status == AgreementStatus::Draft)
            .or_else(|| {
                versions
                    .iter()
                    .find(|v| v.status == AgreementStatus::Active)
            })
            .map(|v| v.id)
    }

    /// A case's agreement, consent and links.
    pub async fn case_agreement(&self, actor: &Actor, case: CaseId) -> AppResult<CaseAgreement> {
        let (stored_case, reach) = self
            .agreement_gate(actor, case, "read agreement", false)
            .await?;
        let child = stored_case.case.child_id;
        let rules = self.consent_rules().await?;
        let (entries, carers, details, opened) = self.consent_facts(case, child).await?;
        let stored_versions = self.store.agreements_of_case(case).await?;
        let (time_and_place, slot_version) = self.time_and_place(case).await?;
        let names = self
            .staff_names(
                &stored_versions
                    .iter()
                    .flat_map(|v| [Some(v.created_by), v.activated_by])
                    .chain(entries.iter().map(|e| e.recorded_by))
                    .flatten()
                    .collect::<Vec<UserId>>(),
            )
            .await?;
        let mut versions = Vec::new();
        for v in &stored_versions {
            versions.push(AgreementView {
                content: self.open_agreement(v).await?,
                created_by: names.get(&v.created_by).cloned().unwrap_or_default(),
                activated_by: v.activated_by.and_then(|u| names.get(&u).cloned()),
                slot_changed: v.slot_version != slot_version,
                stored: v.clone(),
            });
        }
        let assessed = Self::assessed_version(&stored_versions);
        let assessment = self.assess_with(&rules, &details, &entries, &carers, &opened, assessed);
        // A pseudonymised reader sees a carer's relationship, never their name.
        let carer_label = |id: CarerId| {
            carers
                .iter()
                .find(|c| c.id == id)
                .map(|c| {
                    if reach.names {
                        format!("{} ({})", c.details.name, c.details.relationship)
                    } else {
                        c.details.relationship.clone()
                    }
                })
                .unwrap_or_else(|| "A former carer".to_owned())
        };
        // The service lead reads consent to decide on an objection, not the clinical record:
        // what was said is shown only with an objection and the decisions on it.
        let shows_detail = |kind: EntryKind| {
            reach.clinical
                || matches!(
                    kind,
                    EntryKind::ParentalObjection
                        | EntryKind::LeadProceeds
                        | EntryKind::LeadDoesNotProceed
                        | EntryKind::CourtOrder
                )
        };
        if !reach.clinical {
            versions.clear();
        }
        let entry_views = entries
            .iter()
            .map(|e| ConsentRecordView {
                detail: if shows_detail(e.kind) {
                    opened.get(&e.id).cloned().unwrap_or_default()
                } else {
                    ConsentDetail::default()
                },
                carer: e.carer_id.map(carer_label),
                recorded_by: e.recorded_by.and_then(|u| names.get(&u).cloned()),
                entry: e.clone(),
            })
            .collect();
        let now = self.clock.now();
        let links = self
            .store
            .consent_links_of_case(case)
            .await?
            .into_iter()
            .map(|link| ConsentLinkView {
                carer: carer_label(link.carer_id),
                state: if link.spent_at.is_some() {
                    "Used"
                } else if link.revoked_at.is_some() {
                    "Withdrawn"
                } else if now >= link.expires_at {
                    "Expired"
                } else {
                    "Waiting"
                },
                link,
            })
            .collect();
        let carer_choices = carers
            .iter()
            .filter(|c| c.active)
            .map(|c| CarerChoice {
                id: c.id,
                label: carer_label(c.id),
                parental_responsibility: c.details.parental_responsibility.is_some(),
                link_refused: outbound::may_receive(
                    Recipient::Carer(&c.details),
                    Item::typical(ItemKind::ConsentLink),
                    &details,
                )
                .err()
                .map(|r| r.message()),
            })
            .collect();
        let editor = match versions.first().filter(|_| reach.write) {
            Some(v) => AgreementInput::from_content(&v.content),
            None => AgreementInput::starting_point(""),
        };
        self.record(
            &actor.origin,
            vec![
                Event::new(
                    audit::Action::ChildRead,
                    Some(actor.user.id.to_string()),
                    "agreement",
                    Some(case.to_string()),
                )
                .for_child(child),
            ],
        )
        .await?;
        Ok(CaseAgreement {
            case_id: case,
            child_id: child,
            case_number: stored_case.case.number_label(),
            child_label: self.child_label(&details, &stored_case, reach.names),
            age_years: details.age_on(self.today()),
            case_open: stored_case.case.is_open(),
            rules,
            versions,
            assessed,
            assessment,
            entries: entry_views,
            links,
            carers: carer_choices,
            time_and_place,
            editor,
            may_write: reach.write,
            may_decide: reach.decide,
            may_read_checklist: reach.checklist,
            may_print: reach.names && reach.clinical,
        })
    }

    /// Writes a new draft version of the agreement.
    pub async fn draft_agreement(
        &self,
        actor: &Actor,
        case: CaseId,
        input: &AgreementInput,
    ) -> AppResult<StoredAgreement> {
        let stored_case = self
            .require_agreement_write(actor, case, "draft agreement")
            .await?;
        let (time_and_place, slot_version) = self.time_and_place(case).await?;
        let shown = if time_and_place.is_empty() {
            "To be agreed: no regular time and place yet".to_owned()
        } else {
            time_and_place
        };
        let content = AgreementContent::parse(input, &shown)?;
        // Two drafts written at once both read the same newest number; the loser tries the
        // next one (the database's `agreements_case_number` decides).
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self
                .write_draft(actor, &stored_case, &content, slot_version)
                .await
            {
                Err(AppError::Store(StoreError::Conflict(name)))
                    if name == "agreements_case_number" && attempts < 3 => {}
                other => return other,
            }
        }
    }

    async fn write_draft(
        &self,
        actor: &Actor,
        stored_case: &StoredCase,
        content: &AgreementContent,
        slot_version: Option<i64>,
    ) -> AppResult<StoredAgreement> {
        let case = stored_case.case.id;
        let child = stored_case.case.child_id;
        let number = self
            .store
            .agreements_of_case(case)
            .await?
            .first()
            .map_or(1, |v| v.number + 1);
        let id = self.new_id();
        let plain = serde_json::to_vec(&content).map_err(json_error)?;
        let sealed = self
            .seal_clinical(child, "agreements", "content", id, &plain)
            .await?;
        let now = self.clock.now();
        let agreement = StoredAgreement {
            id,
            case_id: case,
            child_id: child,
            number,
            status: AgreementStatus::Draft,
            content: sealed,
            slot_version,
            created_by: actor.user.id,
            created_at: now,
            activated_by: None,
            activated_at: None,
            superseded_at: None,
        };
        let batch = self.audit_batch(
            &actor.origin,
            vec![
                Event::new(
                    audit::Action::AgreementDrafted,
                    Some(actor.user.id.to_string()),
                    "agreement",
                    Some(id.to_string()),
                )
                .for_child(child),
            ],
        );
        self.store.create_agreement(&agreement, &batch).await?;
        Ok(agreement)
    }

    /// Marks a draft active, if the consent rules allow; otherwise says what is missing.
    pub async fn activate_agreement(
        &self,
        actor: &Actor,
        case: CaseId,
        agreement: Uuid,
    ) -> AppResult<()> {
        let stored_case = self
            .require_agreement_write(actor, case, "activate agreement")
            .await?;
        let child = stored_case.case.child_id;
        let version = self
            .store
            .agreement(agreement)
            .await?
            .filter(|v| v.case_id == case)
            .ok_or(AppError::NotFound)?;
        if version.status != AgreementStatus::Draft {
            return Err(Invalid::field("agreement", "Only a draft can be marked active").into());
        }
        let rules = self.consent_rules().await?;
        let (entries, carers, details, opened) = self.consent_facts(case, child).await?;
        let assessment = self.assess_with(
            &rules,
            &details,
            &entries,
            &carers,
            &opened,
            Some(agreement),
        );
        if !assessment.may_activate() {
            let mut why: Vec<String> = assessment.reason.iter().cloned().collect();
            why.extend(assessment.missing.iter().cloned());
            return Err(Invalid::field(
                "agreement",
                format!("The agreement cannot be active yet: {}", why.join("; ")),
            )
            .into());
        }
        let batch = self.audit_batch(
            &actor.origin,
            vec![
                Event::new(
                    audit::Action::AgreementActivated,
                    Some(actor.user.id.to_string()),
                    "agreement",
                    Some(agreement.to_string()),
                )
                .for_child(child),
            ],
        );
        if !self
            .store
            .activate_agreement(case, agreement, actor.user.id, self.clock.now(), &batch)
            .await?
        {
            return Err(AppError::Conflict(
                "This version was marked active or replaced by someone else: reload the page"
                    .to_owned(),
            ));
        }
        Ok(())
    }

    /// Records consent, assent, an objection, a decision or a withdrawal.
    pub async fn record_consent(
        &self,
        actor: &Actor,
        case: CaseId,
        input: &ConsentInput,
    ) -> AppResult<Uuid> {
        let kind = EntryKind::parse(&input.kind).map_err(|m| Invalid::field("kind", m))?;
        let (stored_case, reach) = self
            .agreement_gate(actor, case, "record consent", false)
            .await?;
        let child = stored_case.case.child_id;
        let allowed = if kind.is_lead_decision() {
            reach.decide
        } else {
            reach.write
        };
        if !allowed {
            self.audit_refusal(actor, "record consent", "case", case.to_string(), child)
                .await?;
            return Err(AppError::Denied(if kind.is_lead_decision() {
                "only the service lead decides after an objection"
            } else {
                "only the case team's therapists record consent and assent"
            }));
        }
        let rules = self.consent_rules().await?;
        let details = self.details_of(child).await?;
        let carers = self.carers_of(child).await?;
        let age = details.age_on(self.today());
        let carer = if input.carer.trim().is_empty() {
            None
        } else {
            let id = Uuid::parse_str(input.carer.trim())
                .map(CarerId)
                .map_err(|_| Invalid::field("carer", "Choose a carer"))?;
            let found = carers
                .iter()
                .find(|c| c.id == id && c.active)
                .ok_or_else(|| Invalid::field("carer", "Choose a carer"))?;
            Some(found)
        };
        let standing = carer.map(|c| CarerStanding {
            id: c.id,
            parental_responsibility: c.details.parental_responsibility.is_some(),
        });
        consent::check_entry(&rules, age, kind, standing, &input.reasoning)
            .map_err(|(field, message)| Invalid::field(field, message))?;
        let given_on = if input.given_on.trim().is_empty() {
            self.today()
        } else {
            let d = parse_date(&input.given_on).map_err(|m| Invalid::field("given_on", m))?;
            if d > self.today() {
                return Err(Invalid::field("given_on", "The date cannot be in the future").into());
            }
            d
        };
        let words =
            parse_optional_text(&input.words, 2000).map_err(|m| Invalid::field("words", m))?;
        let reasoning = parse_optional_text(&input.reasoning, 4000)
            .map_err(|m| Invalid::field("reasoning", m))?;
        let reference = parse_optional_line(&input.reference, 200)
            .map_err(|m| Invalid::field("reference", m))?;
        let mut topics = Vec::new();
        for raw in input
            .carers_may_be_told
            .iter()
            .filter(|t| !t.trim().is_empty())
        {
            let topic =
                CarerTopic::parse(raw).map_err(|m| Invalid::field("carers_may_be_told", m))?;
            if !topics.contains(&topic) {
                topics.push(topic);
            }
        }
        if kind != EntryKind::OwnConsent && !topics.is_empty() {
            return Err(Invalid::field(
                "carers_may_be_told",
                "What carers may be told goes with the young person's own consent",
            )
            .into());
        }
        let agreement = if kind.about_agreement() {
            let versions = self.store.agreements_of_case(case).await?;
            Some(Self::assessed_version(&versions).ok_or_else(|| {
                Invalid::field(
                    "kind",
                    "Write the agreement before recording the child's answer",
                )
            })?)
        } else {
            None
        };
        // The young person's own consent says what their carers may be told; the outbound
        // rule reads it from the child's details, so both are written together.
        let child_update = if kind == EntryKind::OwnConsent {
            let stored = self.store.child(child).await?.ok_or(AppError::NotFound)?;
            let mut updated = details.clone();
            updated.wishes.consents_for_self = true;
            updated.wishes.carers_may_be_told = topics.iter().copied().collect();
            Some(ChildDetailsUpdate {
                child,
                sealed_details: self.seal_child_details(child, &updated).await?,
                expected: stored.version,
            })
        } else {
            None
        };
        let id = self.new_id();
        let detail = ConsentDetail {
            words,
            reasoning,
            carers_may_be_told: topics,
            signed_name: None,
            reference,
        };
        let entry = StoredConsentEntry {
            id,
            case_id: case,
            child_id: child,
            kind,
            carer_id: carer.map(|c| c.id),
            agreement_id: agreement,
            via: Via::InPerson,
            given_on,
            detail: self
                .seal_clinical(
                    child,
                    "consent_entries",
                    "detail",
                    id,
                    &serde_json::to_vec(&detail).map_err(json_error)?,
                )
                .await?,
            recorded_by: Some(actor.user.id),
            recorded_at: self.clock.now(),
        };
        let mut batch = self.audit_batch(
            &actor.origin,
            vec![
                Event::new(
                    audit::Action::ConsentRecorded,
                    Some(actor.user.id.to_string()),
                    "consent",
                    Some(id.to_string()),
                )
                .for_child(child)
                .detail(kind.code()),
            ],
        );
        if kind == EntryKind::ParentalObjection && rules.objection_pauses_start {
            batch.follow_ups = vec![self.objection_task(&stored_case, id)];
        }
        self.store
            .record_consent(&entry, child_update.as_ref(), &batch)
            .await?;
        Ok(id)
    }

    fn objection_task(&self, case: &StoredCase, entry: Uuid) -> NewFiring {
        NewFiring {
            id: FiringId(self.new_id()),
            rule: Rule::DecideOnObjection,
            fire_at: self.clock.now(),
            recipient: TaskRecipient::Role(Role::ServiceLead),
            subject: Some(case_subject(case.case.child_id, case.case.id)),
            reference: case.case.number_label(),
            dedupe_key: format!("objection:{}:{entry}", case.case.id),
        }
    }

    /// Makes a single-use consent link for a carer; the token is returned once. Refused
    /// (audited, with the reason for staff) when the carer may not receive it.
    pub async fn create_consent_link(
        &self,
        actor: &Actor,
        case: CaseId,
        carer: CarerId,
        days: Option<i64>,
    ) -> AppResult<(ConsentLinkRecord, String)> {
        let stored_case = self
            .require_agreement_write(actor, case, "create consent link")
            .await?;
        let child = stored_case.case.child_id;
        let days = days.unwrap_or(LINK_DAYS_DEFAULT);
        if !(1..=LINK_DAYS_MAX).contains(&days) {
            return Err(Invalid::field(
                "days",
                format!("A link lasts between 1 and {LINK_DAYS_MAX} days"),
            )
            .into());
        }
        let details = self.details_of(child).await?;
        let Some(found) = self
            .carers_of(child)
            .await?
            .into_iter()
            .find(|c| c.id == carer && c.active)
        else {
            return Err(Invalid::field("carer", "Choose a carer").into());
        };
        if let Err(refusal) = outbound::may_receive(
            Recipient::Carer(&found.details),
            Item::typical(ItemKind::ConsentLink),
            &details,
        ) {
            self.audit_refusal(
                actor,
                &format!("consent link refused: {}", refusal.code()),
                "carer",
                carer.to_string(),
                child,
            )
            .await?;
            return Err(Invalid::field("carer", refusal.message()).into());
        }
        let token = consent::new_link_token(random_bytes(self.random.as_ref()));
        let now = self.clock.now();
        let link = ConsentLinkRecord {
            id: self.new_id(),
            token_hash: secret_hash(&token),
            case_id: case,
            child_id: child,
            carer_id: carer,
            created_by: actor.user.id,
            created_at: now,
            expires_at: now
                .checked_add(SignedDuration::from_hours(24 * days))
                .map_err(seal_error)?,
            spent_at: None,
            revoked_at: None,
        };
        let batch = self.audit_batch(
            &actor.origin,
            vec![
                Event::new(
                    audit::Action::ConsentLinkCreated,
                    Some(actor.user.id.to_string()),
                    "consent-link",
                    Some(link.id.to_string()),
                )
                .for_child(child),
            ],
        );
        self.store.create_consent_link(&link, &batch).await?;
        Ok((link, token))
    }

    /// Withdraws a link before it is used.
    pub async fn revoke_consent_link(
        &self,
        actor: &Actor,
        case: CaseId,
        link: Uuid,
    ) -> AppResult<()> {
        let stored_case = self
            .require_agreement_write(actor, case, "withdraw consent link")
            .await?;
        let found = self
            .store
            .consent_links_of_case(case)
            .await?
            .into_iter()
            .find(|l| l.id == link)
            .ok_or(AppError::NotFound)?;
        let batch = self.audit_batch(
            &actor.origin,
            vec![
                Event::new(
                    audit::Action::ConsentLinkRevoked,
                    Some(actor.user.id.to_string()),
                    "consent-link",
                    Some(found.id.to_string()),
                )
                .for_child(stored_case.case.child_id),
            ],
        );
        if !self
            .store
            .revoke_consent_link(found.id, self.clock.now(), &batch)
            .await?
        {
            return Err(Invalid::field("link", "This link was already used or withdrawn").into());
        }
        Ok(())
    }

    /// The usable link with this token, its carer and the child, or "not found" for anything
    /// else (unknown, used, expired, withdrawn, or a carer who may no longer receive it): the
    /// carer is told only that the link cannot be used.
    async fn usable_link(
        &self,
        token: &str,
    ) -> AppResult<(ConsentLinkRecord, Carer, ChildDetails)> {
        let token = consent::link_token(token).ok_or(AppError::NotFound)?;
        let link = self
            .store
            .consent_link_by_token(&secret_hash(token))
            .await?
            .filter(|l| l.is_usable(self.clock.now()))
            .ok_or(AppError::NotFound)?;
        let details = self.details_of(link.child_id).await?;
        let carer = self
            .carers_of(link.child_id)
            .await?
            .into_iter()
            .find(|c| c.id == link.carer_id && c.active)
            .ok_or(AppError::NotFound)?;
        if outbound::may_receive(
            Recipient::Carer(&carer.details),
            Item::typical(ItemKind::ConsentLink),
            &details,
        )
        .is_err()
        {
            return Err(AppError::NotFound);
        }
        Ok((link, carer, details))
    }

    /// What a consent link shows its carer. Opening it spends nothing.
    pub async fn consent_link_page(
        &self,
        token: &str,
        origin: &Origin,
        first_open: bool,
    ) -> AppResult<ConsentLinkPage> {
        let (link, _carer, details) = self.usable_link(token).await?;
        if first_open {
            self.record(
                origin,
                vec![
                    Event::new(
                        audit::Action::ConsentLinkOpened,
                        None,
                        "consent-link",
                        Some(link.id.to_string()),
                    )
                    .for_child(link.child_id),
                ],
            )
            .await?;
        }
        let service_name = self
            .store
            .service_profile()
            .await?
            .map(|p| p.name.as_str().to_owned())
            .unwrap_or_default();
        let mut explanations = Vec::new();
        for topic in [
            "what-therapy-is",
            "confidentiality",
            LIMITS_OF_CONFIDENTIALITY,
        ] {
            if let Ok(text) = self
                .library_text_in_use(topic, Audience::ParentsAndCarers)
                .await
            {
                explanations.push((text.0, paragraphs(&text.1)));
            }
        }
        Ok(ConsentLinkPage {
            service_name,
            child_first_name: details
                .legal_name
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_owned(),
            expires_at: link.expires_at,
            explanations,
        })
    }

    /// Records a carer's answer and spends the link, together; the link is spent by nothing
    /// else. "Not found" when the link cannot be used (already used, expired, withdrawn).
    pub async fn answer_consent_link(
        &self,
        token: &str,
        answer: &LinkAnswer,
        origin: &Origin,
    ) -> AppResult<()> {
        let (link, _carer, _details) = self.usable_link(token).await?;
        let kind = match answer.decision.trim() {
            "consent" => EntryKind::ParentalConsent,
            "object" => EntryKind::ParentalObjection,
            _ => {
                return Err(
                    Invalid::field("decision", "Choose whether you agree to the therapy").into(),
                );
            }
        };
        let signed_name = parse_line(&answer.signed_name, 2, 120)
            .map_err(|_| Invalid::field("signed_name", "Type your full name to sign"))?;
        let comment =
            parse_optional_text(&answer.comment, 2000).map_err(|m| Invalid::field("comment", m))?;
        let stored_case = self
            .store
            .case(link.case_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let id = self.new_id();
        let detail = ConsentDetail {
            words: comment,
            signed_name: Some(signed_name),
            ..ConsentDetail::default()
        };
        let now = self.clock.now();
        let entry = StoredConsentEntry {
            id,
            case_id: link.case_id,
            child_id: link.child_id,
            kind,
            carer_id: Some(link.carer_id),
            agreement_id: None,
            via: Via::Link,
            given_on: self.today(),
            detail: self
                .seal_clinical(
                    link.child_id,
                    "consent_entries",
                    "detail",
                    id,
                    &serde_json::to_vec(&detail).map_err(json_error)?,
                )
                .await?,
            recorded_by: None,
            recorded_at: now,
        };
        let mut batch = self.audit_batch(
            origin,
            vec![
                Event::new(
                    audit::Action::ConsentLinkUsed,
                    None,
                    "consent-link",
                    Some(link.id.to_string()),
                )
                .for_child(link.child_id),
                Event::new(
                    audit::Action::ConsentRecorded,
                    None,
                    "consent",
                    Some(id.to_string()),
                )
                .for_child(link.child_id)
                .detail(kind.code()),
            ],
        );
        let rules = self.consent_rules().await?;
        if kind == EntryKind::ParentalObjection && rules.objection_pauses_start {
            batch.follow_ups = vec![self.objection_task(&stored_case, id)];
        }
        if self
            .store
            .use_consent_link(link.id, &entry, now, &batch)
            .await?
        {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }

    /// The agreement to print: the child's copy in any status (a draft says so), a carer's
    /// only when active and when they may receive it.
    pub async fn agreement_document(
        &self,
        actor: &Actor,
        case: CaseId,
        agreement: Uuid,
        copy: AgreementCopy,
    ) -> AppResult<AgreementDocument> {
        let (stored_case, reach) = self
            .agreement_gate(actor, case, "print agreement", false)
            .await?;
        let child = stored_case.case.child_id;
        if !(reach.names && reach.clinical) {
            self.audit_refusal(actor, "print agreement", "case", case.to_string(), child)
                .await?;
            return Err(AppError::Denied(
                "only those who may read the agreement and see the child's name print it",
            ));
        }
        let version = self
            .store
            .agreement(agreement)
            .await?
            .filter(|v| v.case_id == case)
            .ok_or(AppError::NotFound)?;
        let content = self.open_agreement(&version).await?;
        let details = self.details_of(child).await?;
        let (for_name, record_type, record_id) = match copy {
            AgreementCopy::Child => {
                outbound::may_receive(
                    Recipient::Child,
                    Item::typical(ItemKind::Agreement),
                    &details,
                )
                .map_err(|r| Invalid::field("copy_for", r.message()))?;
                (details.known_as().to_owned(), "child", child.to_string())
            }
            AgreementCopy::Carer(id) => {
                if version.status != AgreementStatus::Active {
                    return Err(Invalid::field(
                        "copy_for",
                        "Only the active agreement goes to parents and carers",
                    )
                    .into());
                }
                let Some(carer) = self
                    .carers_of(child)
                    .await?
                    .into_iter()
                    .find(|c| c.id == id && c.active)
                else {
                    return Err(AppError::NotFound);
                };
                if let Err(refusal) = outbound::may_receive(
                    Recipient::Carer(&carer.details),
                    Item::typical(ItemKind::Agreement),
                    &details,
                ) {
                    self.audit_refusal(
                        actor,
                        &format!("agreement refused: {}", refusal.code()),
                        "carer",
                        carer.id.to_string(),
                        child,
                    )
                    .await?;
                    return Err(Invalid::field("copy_for", refusal.message()).into());
                }
                (details.known_as().to_owned(), "carer", carer.id.to_string())
            }
        };
        let status_line = match version.status {
            AgreementStatus::Active => format!(
                "Version {}, agreed {}",
                version.number,
                version
                    .activated_at
                    .map(|t| uk::date(t.to_zoned_datetime(uk::london()).date()))
                    .unwrap_or_default()
            ),
            AgreementStatus::Draft => {
                format!("Version {}: a draft, not yet agreed", version.number)
            }
            AgreementStatus::Superseded => {
                format!("Version {}: replaced by a later agreement", version.number)
            }
        };
        let profile = self.store.service_profile().await?;
        let (service_name, demo) = profile
            .map(|p| (p.name.as_str().to_owned(), p.is_demo))
            .unwrap_or_default();
        self.record(
            &actor.origin,
            vec![
                Event::new(
                    audit::Action::AgreementProduced,
                    Some(actor.user.id.to_string()),
                    record_type,
                    Some(record_id),
                )
                .for_child(child)
                .detail(&format!("agreement {}", version.id)),
            ],
        )
        .await?;
        Ok(AgreementDocument {
            service_name,
            title: "Our agreement".to_owned(),
            for_name,
            status_line,
            rules: content.rules.iter().map(|r| r.text.clone()).collect(),
            time_and_place: content.time_and_place,
            confidentiality: content.confidentiality,
            footer: if demo {
                "DEMO SERVICE: made-up text for trying Alliance".to_owned()
            } else {
                format!("Printed {}", uk::date(self.today()))
            },
        })
    }

    /// Whether carer-facing outputs (letters, handouts, the agreement) may go for this child:
    /// their current case's agreement must be active. The message says what is missing.
    pub(crate) async fn carer_outputs_allowed(
        &self,
        child: ChildId,
    ) -> AppResult<Result<(), String>> {
        let Some(case) = self.store.cases_of(child).await?.into_iter().next() else {
            return Ok(Err("The child has no case".to_owned()));
        };
        let active = self
            .store
            .agreements_of_case(case.case.id)
            .await?
            .into_iter()
            .any(|v| v.status == AgreementStatus::Active);
        let withdrawn = self
            .store
            .consent_entries(case.case.id)
            .await?
            .iter()
            .any(|e| e.kind == EntryKind::Withdrawal);
        Ok(if withdrawn {
            Err(
                "Consent was withdrawn: nothing more goes to parents and carers about this work"
                    .to_owned(),
            )
        } else if active {
            Ok(())
        } else {
            Err("The therapy agreement is not active yet: letters, handouts and the agreement go to parents and carers once it is".to_owned())
        })
    }

    /// A warning for whoever schedules sessions for a case whose agreement is not active.
    pub async fn scheduling_warning(&self, case: CaseId) -> AppResult<Option<String>> {
        let active = self
            .store
            .agreements_of_case(case)
            .await?
            .into_iter()
            .any(|v| v.status == AgreementStatus::Active);
        Ok((!active).then(|| {
            "The therapy agreement is not active yet: sessions can be booked, but check consent before the work starts".to_owned()
        }))
    }

    /// The re-agreement task when the regular slot changes under an active agreement.
    pub(crate) async fn re_agreement_follow_up(
        &self,
        case: &StoredCase,
        change: Uuid,
    ) -> AppResult<Option<NewFiring>> {
        let active = self
            .store
            .agreements_of_case(case.case.id)
            .await?
            .into_iter()
            .any(|v| v.status == AgreementStatus::Active);
        let Some(lead) = case.case.current_lead(self.today()) else {
            return Ok(None);
        };
        Ok(active.then(|| NewFiring {
            id: FiringId(self.new_id()),
            rule: Rule::ReAgree,
            fire_at: self.clock.now(),
            recipient: TaskRecipient::User(lead.user_id),
            subject: Some(case_subject(case.case.child_id, case.case.id)),
            reference: case.case.number_label(),
            dedupe_key: format!("re-agree:{}:{change}", case.case.id),
        }))
    }

    // ----- the first-session checklist ---------------------------------------------------

    /// A case's checklist (with the child's items from earlier cases).
    pub async fn case_checklist(&self, actor: &Actor, case: CaseId) -> AppResult<CaseChecklist> {
        let (stored_case, reach) = self
            .agreement_gate(actor, case, "read checklist", true)
            .await?;
        let child = stored_case.case.child_id;
        let details = self.details_of(child).await?;
        let topics = crate::explanations::topics()?;
        let stored = self.store.checklist_of_child(child).await?;
        let names = self
            .staff_names(&stored.iter().map(|i| i.recorded_by).collect::<Vec<_>>())
            .await?;
        let mut items = Vec::new();
        for item in stored {
            let plain = self
                .open_clinical(child, "checklist_items", "words", item.id, &item.words)
                .await?;
            let words: ChecklistWords = serde_json::from_slice(&plain).map_err(json_error)?;
            items.push(ChecklistItemView {
                topic_title: topics
                    .iter()
                    .find(|t| t.code == item.topic)
                    .map(|t| t.title.clone())
                    .unwrap_or_else(|| item.topic.clone()),
                child_said: words.child_said,
                revisit: words.revisit,
                recorded_by: names.get(&item.recorded_by).cloned().unwrap_or_default(),
                stored: item,
            });
        }
        let bands = self.age_bands();
        let band = bands
            .band_for(details.age_on(self.today()))
            .map(|b| (b.code.clone(), b.label.clone()))
            .unwrap_or_default();
        let versions = self
            .store
            .explanation_versions()
            .await?
            .into_iter()
            .filter(|v| v.is_published())
            .map(|v| {
                let topic = topics
                    .iter()
                    .find(|t| t.code == v.topic)
                    .map(|t| t.title.as_str())
                    .unwrap_or(v.topic.as_str());
                (
                    v.id,
                    format!("{topic}, for {}, version {}", v.audience, v.number),
                )
            })
            .collect();
        self.record(
            &actor.origin,
            vec![
                Event::new(
                    audit::Action::ChildRead,
                    Some(actor.user.id.to_string()),
                    "checklist",
                    Some(case.to_string()),
                )
                .for_child(child),
            ],
        )
        .await?;
        Ok(CaseChecklist {
            case_id: case,
            child_id: child,
            case_number: stored_case.case.number_label(),
            child_label: self.child_label(&details, &stored_case, reach.names),
            band,
            items,
            topics: topics
                .iter()
                .map(|t| (t.code.clone(), t.title.clone()))
                .collect(),
            versions,
            may_write: reach.write,
        })
    }

    /// Records an item of the checklist.
    pub async fn record_checklist_item(
        &self,
        actor: &Actor,
        case: CaseId,
        input: &ChecklistInput,
    ) -> AppResult<Uuid> {
        let stored_case = self
            .require_agreement_write(actor, case, "record checklist")
            .await?;
        let child = stored_case.case.child_id;
        let topics = crate::explanations::topics()?;
        let codes: Vec<&str> = topics.iter().map(|t| t.code.as_str()).collect();
        let item = ChecklistItem::parse(input, &codes, self.today())?;
        if let Some(version) = item.library_version {
            let found = self.store.explanation_version(version).await?;
            if found.is_none_or(|v| v.topic != item.topic) {
                return Err(Invalid::field(
                    "library_version",
                    "Choose a version of this topic from the library",
                )
                .into());
            }
        }
        let details = self.details_of(child).await?;
        let band = self
            .age_bands()
            .band_for(details.age_on(item.explained_on))
            .map(|b| b.code.clone())
            .unwrap_or_default();
        let id = self.new_id();
        let words = ChecklistWords {
            child_said: item.child_said.clone(),
            revisit: item.revisit.clone(),
        };
        let stored = StoredChecklistItem {
            id,
            case_id: case,
            child_id: child,
            topic: item.topic.clone(),
            explained_on: item.explained_on,
            methods: item.methods.iter().map(|m| m.code().to_owned()).collect(),
            to_whom: item.to_whom.code().to_owned(),
            library_version: item.library_version,
            band,
            revisit: item.revisit.is_some(),
            words: self
                .seal_clinical(
                    child,
                    "checklist_items",
                    "words",
                    id,
                    &serde_json::to_vec(&words).map_err(json_error)?,
                )
                .await?,
            recorded_by: actor.user.id,
            recorded_at: self.clock.now(),
        };
        let batch = self.audit_batch(
            &actor.origin,
            vec![
                Event::new(
                    audit::Action::ChecklistRecorded,
                    Some(actor.user.id.to_string()),
                    "checklist",
                    Some(id.to_string()),
                )
                .for_child(child),
            ],
        );
        self.store.record_checklist_item(&stored, &batch).await?;
        Ok(id)
    }

    /// When and how the limits of confidentiality were last explained to this child, for a
    /// reader of the child's clinical record (`None` for anyone else, or when never).
    pub async fn confidentiality_last_explained(
        &self,
        actor: &Actor,
        child: ChildId,
    ) -> AppResult<Option<LastExplained>> {
        let (standing, newest) = self.get_child_gate(actor, child, "read child").await?;
        if newest.is_none() || !reach(actor, &standing, true).checklist {
            return Ok(None);
        }
        let items = self.store.checklist_of_child(child).await?;
        Ok(items
            .into_iter()
            .find(|i| i.topic == LIMITS_OF_CONFIDENTIALITY)
            .map(|i| LastExplained {
                on: i.explained_on,
                how: i
                    .methods
                    .iter()
                    .filter_map(|m| checklist::Method::parse(m).ok())
                    .map(|m| m.label().to_lowercase())
                    .collect::<Vec<_>>()
                    .join(", "),
                to_whom: checklist::ExplainedTo::parse(&i.to_whom)
                    .map(|t| t.label().to_lowercase())
                    .unwrap_or_default(),
                case_id: i.case_id,
            }))
    }

    /// The scheduler's pass: the first-session checklist at a new case, and explanations
    /// again when a child has moved into the next age band. Derived afresh each pass and
    /// keyed, so nothing is raised twice.
    pub(crate) async fn schedule_checklist_prompts(&self, origin: &Origin) -> AppResult<()> {
        let today = self.today();
        let bands = self.age_bands();
        for slot in self.store.slots().await? {
            let Some(case) = self.store.case(slot.case_id).await? else {
                continue;
            };
            if !case.case.is_open() {
                continue;
            }
            let Some(lead) = case.case.current_lead(today) else {
                continue;
            };
            let child = case.case.child_id;
            let items = self.store.checklist_of_child(child).await?;
            let details = self.details_of(child).await?;
            let Some(band) = bands.band_for(details.age_on(today)) else {
                continue;
            };
            let mut firings = Vec::new();
            let number = case.case.number_label();
            if !items.iter().any(|i| i.case_id == case.case.id) {
                firings.push(NewFiring {
                    id: FiringId(self.new_id()),
                    rule: Rule::FirstSessionChecklist,
                    fire_at: self.clock.now(),
                    recipient: TaskRecipient::User(lead.user_id),
                    subject: Some(case_subject(child, case.case.id)),
                    reference: number.clone(),
                    dedupe_key: format!("checklist-new:{}", case.case.id),
                });
            }
            let explained_in: Vec<&str> = items.iter().map(|i| i.band.as_str()).collect();
            if checklist::band_revisit_due(&explained_in, &band.code) {
                firings.push(NewFiring {
                    id: FiringId(self.new_id()),
                    rule: Rule::RevisitExplanations,
                    fire_at: self.clock.now(),
                    recipient: TaskRecipient::User(lead.user_id),
                    subject: Some(case_subject(child, case.case.id)),
                    reference: number,
                    dedupe_key: format!("checklist-band:{}:{}", case.case.id, band.code),
                });
            }
            if firings.is_empty() {
                continue;
            }
            let mut batch: AuditBatch<'_> = self.audit_batch(origin, Vec::new());
            batch.follow_ups = firings;
            self.store.append_audit(&batch).await?;
        }
        Ok(())
    }
}
