//! Use-cases: a child's emergency details and the emergency panel (issue 16, policy section
//! 1): who may and may not collect (built on the child's carers), medical needs and
//! allergies, and what each reader of the panel may see.
//!
//! The rules are `alliance_core::emergency`. Every path passes the child's gate
//! (`get_child_gate`: a child the reader may not know answers "not found", audited), then the
//! matrix: the panel opens for `ChildData::EmergencyPanel` (the case team, cover while its
//! dates last, the DSL, the service lead, and administrators limited to contacts and
//! medical); a reader who knows the child but may not open the panel (a supervisor) also
//! gets "not found", audited. Each opening is audited (`EmergencyPanelRead`). The details are
//! written by those who may write the child's identity (the case team and administrators),
//! at an optimistic version, audited (`EmergencyDetailsUpdated`) in the same transaction.
//! They are sealed under the child's identity key; the panel's safety-plan summary is opened
//! from the plan under the child's clinical key (`crate::safety_plans`).
//!
//! The panel links to the procedures of the site of the child's regular slot (the slot's
//! room's site), when the newest case has one.

use crate::Actor;
use crate::Alliance;
use crate::demo::DemoError;
use crate::error::{AppError, AppResult};
use crate::store::{StoreError, StoredEmergencyDetails};
use alliance_core::Version;
use alliance_core::access::{ChildData, child_access};
use alliance_core::audit::{self, Event};
use alliance_core::cases::CaseId;
use alliance_core::children::{Carer, ChildId, RestrictionKind};
use alliance_core::crypto::{KeyOwner, RecordClass, SealedAt, SealingKey};
use alliance_core::directory::SiteId;
use alliance_core::emergency::{self as em, EmergencyDetails, EmergencyInput, Panel};

/// The record type of the panel and of the details in the audit trail.
pub const PANEL_RECORD: &str = "emergency-panel";
pub const DETAILS_RECORD: &str = "emergency-details";

/// The panel as one reader sees it.
#[derive(Debug, Clone)]
pub struct PanelView {
    pub child: ChildId,
    /// The name the child is known by (every reader of the panel may read identity).
    pub name: String,
    pub panel: Panel,
    /// The site of the child's regular slot, for its emergency procedures: (id, name).
    pub site: Option<(SiteId, String)>,
    /// May change the emergency details (and the carers' collect choice).
    pub may_edit: bool,
    /// May open the safety plan itself.
    pub may_read_plan: bool,
    pub may_write_plan: bool,
}

/// The details as the edit form starts from them.
#[derive(Debug, Clone)]
pub struct DetailsForm {
    pub child: ChildId,
    pub name: String,
    pub details: EmergencyDetails,
    /// None until first written.
    pub version: Option<Version>,
    /// The active carers, for their collect choices (changed on each carer's own form).
    pub carers: Vec<Carer>,
}

fn identity_owner(child: ChildId) -> KeyOwner {
    KeyOwner::Child {
        child: child.to_string(),
        class: RecordClass::Identity,
    }
}

fn event(action: audit::Action, actor: &Actor, record: &str, child: ChildId) -> Event {
    Event::new(
        action,
        Some(actor.user.id.to_string()),
        record,
        Some(child.to_string()),
    )
    .for_child(child)
}

fn at(row: &str) -> SealedAt<'_> {
    SealedAt {
        table: "emergency_details",
        column: "details",
        row,
    }
}

impl Alliance {
    async fn identity_key_of(&self, child: ChildId) -> AppResult<SealingKey> {
        Ok(self
            .keys
            .data_key(&identity_owner(child), self.clock.now())
            .await?)
    }

    /// A child's emergency details, opened, with their version (defaults and none while
    /// never written), for a caller that has passed the child's gate.
    pub(crate) async fn emergency_details_of(
        &self,
        child: ChildId,
    ) -> AppResult<(EmergencyDetails, Option<Version>)> {
        let Some(stored) = self.store.emergency_details(child).await? else {
            return Ok((EmergencyDetails::default(), None));
        };
        let key = self.identity_key_of(child).await?;
        let row = child.to_string();
        let plain = key
            .open(&stored.sealed, at(&row))
            .map_err(|e| AppError::Store(StoreError::Other(e.to_string())))?;
        let details = serde_json::from_slice(&plain).map_err(|e| {
            AppError::Store(StoreError::Other(format!(
                "stored emergency details did not decode: {e}"
            )))
        })?;
        Ok((details, Some(stored.version)))
    }

    /// The site of the child's regular slot (the slot's room's site), when there is one.
    async fn slot_site(&self, case: Option<CaseId>) -> AppResult<Option<(SiteId, String)>> {
        let Some(case) = case else {
            return Ok(None);
        };
        let Some(slot) = self.store.slot(case).await? else {
            return Ok(None);
        };
        let Some(room) = self.store.room(slot.room).await? else {
            return Ok(None);
        };
        Ok(self
            .store
            .site(room.site_id)
            .await?
            .map(|site| (site.id, site.details.name)))
    }

    /// The emergency panel of a child, cut to what the reader may see (audited); "not found"
    /// (audited) for anyone the panel's row gives nothing.
    pub async fn emergency_panel(&self, actor: &Actor, child: ChildId) -> AppResult<PanelView> {
        const ASKED: &str = "read emergency panel";
        let (standing, case) = self.get_child_gate(actor, child, ASKED).await?;
        let access = child_access(&actor.user, &standing, ChildData::EmergencyPanel);
        let Some(parts) = em::parts(access) else {
            self.audit_refusal(actor, ASKED, PANEL_RECORD, child.to_string(), child)
                .await?;
            return Err(AppError::NotFound);
        };
        let carers: Vec<_> = self
            .carers_of(child)
            .await?
            .into_iter()
            .filter(|c| c.active)
            .map(|c| c.details)
            .collect();
        let (details, _) = self.emergency_details_of(child).await?;
        let plan = if parts.safety_plan {
            self.current_plan_summary(child).await?
        } else {
            None
        };
        let name = self.details_of(child).await?.known_as().to_owned();
        let site = self.slot_site(case).await?;
        let clinical = child_access(&actor.user, &standing, ChildData::Clinical);
        let identity = child_access(&actor.user, &standing, ChildData::Identity);
        self.record(
            &actor.origin,
            vec![event(
                audit::Action::EmergencyPanelRead,
                actor,
                PANEL_RECORD,
                child,
            )],
        )
        .await?;
        Ok(PanelView {
            child,
            name,
            panel: Panel::build(parts, &carers, &details, plan),
            site,
            may_edit: identity.may_write() && actor.may_write(),
            may_read_plan: alliance_core::safety_plans::may_read(clinical),
            may_write_plan: alliance_core::safety_plans::may_write(clinical) && actor.may_write(),
        })
    }

    /// Which emergency links the child's page offers the reader: (the panel, the safety
    /// plan), by the same rules as the pages they open. For a caller that has passed the
    /// child's gate (nothing is audited here: the page's own read is).
    pub async fn emergency_links(&self, actor: &Actor, child: ChildId) -> AppResult<(bool, bool)> {
        let (standing, _) = self.get_child_gate(actor, child, "read child").await?;
        Ok((
            em::parts(child_access(
                &actor.user,
                &standing,
                ChildData::EmergencyPanel,
            ))
            .is_some(),
            alliance_core::safety_plans::may_read(child_access(
                &actor.user,
                &standing,
                ChildData::Clinical,
            )),
        ))
    }

    /// Refuses (audited) anyone who may not write the child's identity: the details' writers.
    async fn details_writer_gate(
        &self,
        actor: &Actor,
        child: ChildId,
        asked: &str,
    ) -> AppResult<()> {
        let (standing, _) = self.get_child_gate(actor, child, asked).await?;
        let identity = child_access(&actor.user, &standing, ChildData::Identity);
        if identity.may_write() && actor.may_write() {
            return Ok(());
        }
        self.audit_refusal(actor, asked, DETAILS_RECORD, child.to_string(), child)
            .await?;
        if !actor.may_write() {
            Err(AppError::Denied("this API token is read-only"))
        } else if identity.may_read() {
            Err(AppError::Denied(
                "only the case team and administrators change a child's emergency details",
            ))
        } else {
            Err(AppError::NotFound)
        }
    }

    /// The details for their edit form (their writers only; not audited as a read of the
    /// panel, but as a read of the record).
    pub async fn emergency_details_form(
        &self,
        actor: &Actor,
        child: ChildId,
    ) -> AppResult<DetailsForm> {
        self.details_writer_gate(actor, child, "edit emergency details")
            .await?;
        let (details, version) = self.emergency_details_of(child).await?;
        let carers = self
            .carers_of(child)
            .await?
            .into_iter()
            .filter(|c| c.active)
            .collect();
        let name = self.details_of(child).await?.known_as().to_owned();
        self.record(
            &actor.origin,
            vec![event(
                audit::Action::ChildRead,
                actor,
                DETAILS_RECORD,
                child,
            )],
        )
        .await?;
        Ok(DetailsForm {
            child,
            name,
            details,
            version,
            carers,
        })
    }

    /// Writes a child's emergency details at the version read (none the first time).
    pub async fn set_emergency_details(
        &self,
        actor: &Actor,
        child: ChildId,
        input: &EmergencyInput,
        expected: Option<Version>,
    ) -> AppResult<(EmergencyDetails, Version)> {
        self.details_writer_gate(actor, child, "update emergency details")
            .await?;
        let details = EmergencyDetails::parse(input)?;
        let key = self.identity_key_of(child).await?;
        let plain = serde_json::to_vec(&details)
            .map_err(|e| AppError::Store(StoreError::Other(e.to_string())))?;
        let row = child.to_string();
        let now = self.clock.now();
        let stored = StoredEmergencyDetails {
            child,
            sealed: self.keys.seal_with(&key, &plain, at(&row)),
            version: expected.map(Version::next).unwrap_or(Version::FIRST),
            updated_by: actor.user.id,
            created_at: now,
            updated_at: now,
        };
        let audit = self.audit_batch(
            &actor.origin,
            vec![event(
                audit::Action::EmergencyDetailsUpdated,
                actor,
                DETAILS_RECORD,
                child,
            )],
        );
        let stored = self
            .store
            .put_emergency_details(&stored, expected, &audit)
            .await?;
        Ok((details, stored.version))
    }
}

/// A use-case's refusal as the demo's error (a refusal means the generator is wrong).
fn demo_error(err: AppError) -> DemoError {
    match err {
        AppError::Store(store) => DemoError::Store(store),
        AppError::Invalid(invalid) => DemoError::Generated(format!(
            "emergency details or a safety plan: {}",
            invalid
                .errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; ")
        )),
        other => DemoError::Generated(format!("emergency details or a safety plan: {other}")),
    }
}

/// The demo service's step for this area (called from `demo::generate`, after the sites,
/// rooms, children and cases exist): for the first few children with an open case, who may
/// collect (each carer's choice: no-contact carers may not), an allergy, a barred person for
/// one child; and one teenager's safety plan, in their own (synthetic) words.
pub(crate) async fn demo_fill(
    alliance: &Alliance,
    admin: &Actor,
    therapists: &[Actor],
) -> Result<(), DemoError> {
    use alliance_core::children::CarerInput;
    let today = alliance.today();
    let children: Vec<(ChildId, Option<alliance_core::identity::UserId>)> = alliance
        .store
        .children(&crate::store::ChildSelection::All)
        .await?
        .into_iter()
        .filter_map(|l| {
            let case = l.cases.first().filter(|c| c.is_open())?;
            Some((l.child.id, case.current_lead(today).map(|m| m.user_id)))
        })
        .collect();
    let mut filled = 0;
    let mut planned = false;
    for (child, lead) in children {
        if filled >= 6 && planned {
            break;
        }
        let details = alliance.details_of(child).await.map_err(demo_error)?;
        if filled < 6 {
            // Who may collect, on each carer.
            for carer in alliance.carers_of(child).await.map_err(demo_error)? {
                if !carer.active {
                    continue;
                }
                let d = &carer.details;
                let collect = if d.has_restriction(RestrictionKind::NoContact) || !d.may_contact {
                    "may-not-collect"
                } else if d.day_to_day_care || d.parental_responsibility.is_some() {
                    "may-collect"
                } else {
                    "not-decided"
                };
                let input = CarerInput {
                    name: d.name.clone(),
                    relationship: d.relationship.clone(),
                    parental_responsibility: d
                        .parental_responsibility
                        .map(|p| p.code().to_owned())
                        .unwrap_or_default(),
                    day_to_day_care: d.day_to_day_care,
                    phone: d.phone.clone().unwrap_or_default(),
                    email: d.email.clone().unwrap_or_default(),
                    address: d.address.clone().unwrap_or_default(),
                    may_contact: d.may_contact,
                    restrictions: d
                        .restrictions
                        .iter()
                        .map(|r| alliance_core::children::RestrictionInput {
                            kind: r.kind.code().to_owned(),
                            source: r.source.code().to_owned(),
                            dated: r.dated.to_string(),
                            reference: r.reference.clone().unwrap_or_default(),
                        })
                        .collect(),
                    may_collect: collect.to_owned(),
                };
                alliance
                    .update_carer(admin, carer.id, &input, true, carer.version)
                    .await
                    .map_err(demo_error)?;
            }
            let allergy = match filled % 3 {
                0 => Some((
                    "Peanuts",
                    "severe",
                    "Adrenaline pen in the school office. Call 999, then the carer.",
                )),
                1 => Some((
                    "Plasters (latex)",
                    "mild",
                    "Use the latex-free plasters in the first aid box.",
                )),
                _ => None,
            };
            let input = EmergencyInput {
                medical_needs: if filled % 2 == 0 {
                    "Asthma: may need the blue inhaler after running or when upset.".to_owned()
                } else {
                    String::new()
                },
                allergies: allergy
                    .map(|(what, severity, action)| em::AllergyInput {
                        what: what.to_owned(),
                        severity: severity.to_owned(),
                        action: action.to_owned(),
                    })
                    .into_iter()
                    .collect(),
                medication: if filled % 2 == 0 {
                    "Blue inhaler, labelled, in the school office".to_owned()
                } else {
                    String::new()
                },
                gp: "Larchfield Surgery, 0113 496 0456".to_owned(),
                barred: if filled == 1 {
                    vec![em::BarredInput {
                        name: "Jordan Fox".to_owned(),
                        relationship: "Mother's former partner".to_owned(),
                        source: "court-order".to_owned(),
                    }]
                } else {
                    Vec::new()
                },
            };
            alliance
                .set_emergency_details(admin, child, &input, None)
                .await
                .map_err(demo_error)?;
            filled += 1;
        }
        // One teenager's safety plan, written by their lead with them.
        if !planned
            && details.age_on(today) >= 13
            && let Some(lead) = lead
            && let Some(therapist) = therapists.iter().find(|t| t.user.id == lead)
        {
            let input = alliance_core::safety_plans::SafetyPlanInput {
                warning_signs: "When I stop replying to my friends and stay in my room. When I can't sleep and keep going over things. When I start thinking nobody would notice if I wasn't here.".to_owned(),
                coping: "Put my headphones on and listen to my playlist. Draw. Have a shower. Hold an ice cube. Take the dog round the block.".to_owned(),
                people_and_places: "My nan's kitchen. The library. Gaming online with Kai.".to_owned(),
                people_to_ask: "Nan. Mum (when she's not at work). Miss Patel, my head of year.".to_owned(),
                services: alliance_core::safety_plans::SafetyPlan::services_text(
                    &alliance_core::safety_plans::default_services(),
                ),
                safer_surroundings: "Mum keeps the tablets locked away. I'll give my blades to my therapist.".to_owned(),
                reason_for_living: "My dog Biscuit, and seeing my little brother grow up.".to_owned(),
                written_with: format!("{} (therapist), with me", therapist.user.display_name),
                written_on: String::new(),
                review_on: String::new(),
            };
            alliance
                .write_safety_plan(therapist, child, &input, None)
                .await
                .map_err(demo_error)?;
            planned = true;
        }
    }
    Ok(())
}
