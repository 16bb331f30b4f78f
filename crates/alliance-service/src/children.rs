//! Children, their carers and their cases, behind the access matrix (policy section 1).
//!
//! Every path that reaches a child's record goes through [`Alliance::load_child`], which works
//! out the reader's standing and asks the core's policy. A child the reader may not know
//! about answers "not found", and the attempt is audited; so do lists, search and counts,
//! which only ever hold children the policy lets the reader know. Reads are audited too: one
//! entry per record opened, one per list naming the ids shown.
//!
//! A child's details and carers are sealed under the child's identity key; the referral
//! reason and closing summary under the child's clinical key.

use crate::app::{Alliance, CHILD_LOOKUP};
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::store::{
    ChildLookups, ChildSelection, NewCase, ReasonUpdate, StoreError, StoredCarer, StoredCase,
    StoredChild, TeamChange,
};
use alliance_core::access::{
    self, Access, ChildData, ListScope, Standing, case_access, child_access, may_know_child,
    sees_names,
};
use alliance_core::audit::{self, Event};
use alliance_core::cases::{
    Case, CaseDetails, CaseId, CaseInput, CaseStatus, Closure, ClosureInput, Membership,
    MembershipId, TeamRole,
};
use alliance_core::children::{
    AgeBand, AgeBands, Carer, CarerDetails, CarerId, CarerInput, ChildDetails, ChildId, ChildInput,
    YearGroup,
};
use alliance_core::crypto::{KeyOwner, RecordClass, Sealed, SealedAt, SealingKey};
use alliance_core::directory::{SiteId, SiteKind};
use alliance_core::identity::{Role, User, UserId};
use alliance_core::outbound::{self, Item, ItemKind, Recipient, Refusal};
use alliance_core::policy::Action;
use alliance_core::tasks::{Recipient as TaskRecipient, Rule, Subject};
use alliance_core::{Cursor, Invalid, Page, PageRequest, Version};
use jiff::civil::Date;
use std::collections::HashMap;

/// Filters for the list of children, besides paging.
#[derive(Debug, Clone, Default)]
pub struct ChildFilter {
    /// Part of a name, an NHS number or UPN, or (for pseudonymised readers) initials or a
    /// case number.
    pub search: Option<String>,
    /// The status of the newest case (`None`: any, including children without a case).
    pub status: Option<CaseStatus>,
    pub school_site: Option<SiteId>,
    /// Only children on the reader's own caseload (their current team memberships).
    pub mine: bool,
}

/// A child in a list, as this reader may see them.
#[derive(Debug, Clone)]
pub struct ChildSummary {
    pub id: ChildId,
    /// Absent when the reader sees the child only by initials and case number.
    pub named: Option<NamedChild>,
    pub initials: String,
    /// The newest case's number and status.
    pub case: Option<(String, CaseStatus)>,
    /// The reader's own roles on the newest case's current team.
    pub team_roles: Vec<TeamRole>,
}

#[derive(Debug, Clone)]
pub struct NamedChild {
    pub known_as: String,
    pub legal_name: String,
    pub date_of_birth: Date,
    pub age: i16,
}

/// A child's record as this reader may see it.
#[derive(Debug, Clone)]
pub struct ChildRecord {
    pub id: ChildId,
    pub version: Version,
    /// Absent when the reader sees the child only pseudonymised.
    pub details: Option<ChildDetails>,
    pub initials: String,
    pub age: Option<i16>,
    pub age_band: Option<AgeBand>,
    /// The year a child of this age is usually in (a hint beside the recorded one).
    pub expected_year: Option<YearGroup>,
    /// Empty unless the reader may read identity.
    pub carers: Vec<Carer>,
    /// Newest first.
    pub cases: Vec<CaseRecord>,
    pub access: ChildAccess,
}

/// What the reader may do here, for the page to offer only that.
#[derive(Debug, Clone, Copy)]
pub struct ChildAccess {
    pub identity: Access,
    pub cases: Access,
    pub referral_reason: Access,
    pub clinical: Access,
    /// May open a new case (intake, when no case is open).
    pub may_open_case: bool,
}

#[derive(Debug, Clone)]
pub struct CaseRecord {
    pub case: Case,
    pub is_newest: bool,
    /// Present when the reader may read it and one was recorded.
    pub referral_reason: Option<String>,
    pub may_read_reason: bool,
    pub closing_summary: Option<String>,
    pub may_edit: bool,
    /// The lead, the co-worker or cover on an open case: may close it.
    pub may_close: bool,
}

/// A change to a case team, as asked for.
#[derive(Debug, Clone)]
pub enum TeamRequest {
    Add {
        user: UserId,
        role: TeamRole,
        starts_on: Date,
        ends_on: Option<Date>,
    },
    End {
        membership: MembershipId,
        ends_on: Date,
    },
    Transfer {
        to: UserId,
        on: Date,
    },
}

/// What was attempted on a child's record, for the audit entry of a refusal.
struct Attempt<'a> {
    asked: &'a str,
    record_type: &'a str,
    record_id: String,
    child: ChildId,
}

/// A child loaded for one reader, with the reader's standing.
struct Loaded {
    stored: StoredChild,
    cases: Vec<StoredCase>,
    standing: Standing,
}

/// What a task about a case points at.
fn case_subject(child: ChildId, case: CaseId) -> Subject {
    Subject {
        child: Some(child),
        record_type: "case".to_owned(),
        record_id: case.to_string(),
    }
}

fn identity_owner(child: ChildId) -> KeyOwner {
    KeyOwner::Child {
        child: child.to_string(),
        class: RecordClass::Identity,
    }
}

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

fn child_event(
    action: audit::Action,
    actor: &Actor,
    record_type: &str,
    id: String,
    child: ChildId,
) -> Event {
    Event::new(
        action,
        Some(actor.user.id.to_string()),
        record_type,
        Some(id),
    )
    .for_child(child)
}

impl Alliance {
    /// The age bands in use (service configuration; the product's by default).
    pub fn age_bands(&self) -> AgeBands {
        AgeBands::default()
    }

    pub(crate) async fn supervisees_of(&self, actor: &Actor) -> AppResult<Vec<(UserId, bool)>> {
        if actor.user.has_role(Role::Supervisor) {
            Ok(self.store.supervision_links(actor.user.id).await?)
        } else {
            Ok(Vec::new())
        }
    }

    /// Whether `user` may know the child today (their standing with the child's newest case
    /// and their supervisees), without auditing: for a caller deciding what to show, such as a
    /// task's owner or a concern's masked linked children.
    pub(crate) async fn may_know_child_now(&self, user: &User, child: ChildId) -> AppResult<bool> {
        let cases = self.store.cases_of(child).await?;
        let supervisees = if user.has_role(Role::Supervisor) {
            self.store.supervision_links(user.id).await?
        } else {
            Vec::new()
        };
        let mut standing = access::standing(
            user.id,
            cases.first().map(|c| &c.case),
            &supervisees,
            self.today(),
        );
        standing.break_glass = self.break_glass_in_force(user, child, &standing).await?;
        Ok(may_know_child(user, &standing))
    }

    /// Audits a refused attempt on a child's record.
    pub(crate) async fn audit_refusal(
        &self,
        actor: &Actor,
        asked: &str,
        record_type: &str,
        record_id: String,
        child: ChildId,
    ) -> AppResult<()> {
        self.record(
            &actor.origin,
            vec![
                child_event(audit::Action::Denied, actor, record_type, record_id, child)
                    .detail(asked),
            ],
        )
        .await?;
        Ok(())
    }

    /// Loads a child for `actor`, or answers "not found" (audited) when the child does not
    /// exist or the policy does not let the actor know it does. The one gate every child
    /// route passes.
    async fn load_child(&self, actor: &Actor, id: ChildId, asked: &str) -> AppResult<Loaded> {
        let stored = self.store.child(id).await?;
        let cases = match stored {
            Some(_) => self.store.cases_of(id).await?,
            None => Vec::new(),
        };
        let supervisees = self.supervisees_of(actor).await?;
        let mut standing = access::standing(
            actor.user.id,
            cases.first().map(|c| &c.case),
            &supervisees,
            self.today(),
        );
        if stored.is_some() {
            standing.break_glass = self
                .break_glass_in_force(&actor.user, id, &standing)
                .await?;
        }
        match stored {
            Some(stored) if may_know_child(&actor.user, &standing) => Ok(Loaded {
                stored,
                cases,
                standing,
            }),
            _ => {
                self.audit_refusal(actor, asked, "child", id.to_string(), id)
                    .await?;
                Err(AppError::NotFound)
            }
        }
    }

    /// Refuses (audited) unless `access` allows writing. The reader knows the child exists,
    /// so the refusal may say why.
    async fn require_write(
        &self,
        actor: &Actor,
        access: Access,
        attempt: Attempt<'_>,
        why: &'static str,
    ) -> AppResult<()> {
        let Attempt {
            asked,
            record_type,
            record_id,
            child,
        } = attempt;
        if access.may_write() && actor.may_write() {
            return Ok(());
        }
        self.audit_refusal(actor, asked, record_type, record_id, child)
            .await?;
        if !actor.may_write() {
            Err(AppError::Denied("this API token is read-only"))
        } else {
            Err(AppError::Denied(why))
        }
    }

    pub(crate) fn open_details(
        &self,
        key: &SealingKey,
        stored: &StoredChild,
    ) -> AppResult<ChildDetails> {
        let id = stored.id.to_string();
        let plain = key
            .open(
                &stored.sealed_details,
                SealedAt {
                    table: "children",
                    column: "details",
                    row: &id,
                },
            )
            .map_err(|e| AppError::Store(StoreError::Other(e.to_string())))?;
        serde_json::from_slice(&plain).map_err(json_error)
    }

    /// A child's carers, opened, for a caller that has already passed the child's gate.
    pub(crate) async fn carers_of(&self, child: ChildId) -> AppResult<Vec<Carer>> {
        let key = self.identity_key(child).await?;
        self.open_carers(&key, self.store.carers(child).await?)
    }

    /// A child's details, for a caller that has already passed the child's gate.
    pub(crate) async fn details_of(&self, child: ChildId) -> AppResult<ChildDetails> {
        let stored = self.store.child(child).await?.ok_or(AppError::NotFound)?;
        let key = self.identity_key(child).await?;
        self.open_details(&key, &stored)
    }

    /// The child's details sealed for storing (a caller that has passed the child's gate).
    pub(crate) async fn seal_child_details(
        &self,
        child: ChildId,
        details: &ChildDetails,
    ) -> AppResult<Sealed> {
        let key = self.identity_key(child).await?;
        self.seal_details(&key, child, details)
    }

    async fn identity_key(&self, child: ChildId) -> AppResult<SealingKey> {
        Ok(self
            .keys
            .data_key(&identity_owner(child), self.clock.now())
            .await?)
    }

    fn seal_details(
        &self,
        key: &SealingKey,
        id: ChildId,
        details: &ChildDetails,
    ) -> AppResult<Sealed> {
        let plain = serde_json::to_vec(details).map_err(json_error)?;
        let row = id.to_string();
        Ok(self.keys.seal_with(
            key,
            &plain,
            SealedAt {
                table: "children",
                column: "details",
                row: &row,
            },
        ))
    }

    async fn lookups(&self, details: &ChildDetails) -> AppResult<ChildLookups> {
        if details.nhs_number.is_none() && details.upn.is_none() {
            return Ok(ChildLookups::default());
        }
        let key = self
            .keys
            .data_key(
                &KeyOwner::Service {
                    purpose: CHILD_LOOKUP.to_owned(),
                },
                self.clock.now(),
            )
            .await?;
        Ok(ChildLookups {
            nhs_number: details
                .nhs_number
                .as_ref()
                .map(|n| key.lookup_hash("nhs", n.as_str())),
            upn: details
                .upn
                .as_ref()
                .map(|u| key.lookup_hash("upn", u.as_str())),
        })
    }

    /// The school must be one of the service's sites and a school.
    async fn check_school(&self, details: &ChildDetails) -> AppResult<()> {
        if let Some(site) = details.school_site {
            let found = self.store.site(site).await?;
            if !found.is_some_and(|s| s.details.kind == SiteKind::School) {
                return Err(Invalid::field(
                    "school_site",
                    "Choose one of the service's schools, or type the school's name",
                )
                .into());
            }
        }
        Ok(())
    }

    fn duplicate_identifier(err: StoreError) -> AppError {
        match err {
            StoreError::Conflict(c) if c.contains("nhs") => Invalid::field(
                "nhs_number",
                "A child with this NHS number is already recorded",
            )
            .into(),
            StoreError::Conflict(c) if c.contains("upn") => {
                Invalid::field("upn", "A child with this UPN is already recorded").into()
            }
            other => other.into(),
        }
    }

    /// Adds a child (intake: administrators).
    pub async fn create_child(&self, actor: &Actor, input: &ChildInput) -> AppResult<ChildRecord> {
        self.require(
            actor,
            Action::RegisterChildren,
            "create child",
            "child",
            None,
        )
        .await?;
        let details = ChildDetails::parse(input, self.today())?;
        self.check_school(&details).await?;
        let id = ChildId(self.new_id());
        let key = self.identity_key(id).await?;
        let now = self.clock.now();
        let stored = StoredChild {
            id,
            sealed_details: self.seal_details(&key, id, &details)?,
            version: Version::FIRST,
            created_at: now,
            updated_at: now,
        };
        let lookups = self.lookups(&details).await?;
        let audit = self.audit_batch(
            &actor.origin,
            vec![child_event(
                audit::Action::ChildCreated,
                actor,
                "child",
                id.to_string(),
                id,
            )],
        );
        self.store
            .create_child(&stored, &lookups, &audit)
            .await
            .map_err(Self::duplicate_identifier)?;
        self.get_child(actor, id).await
    }

    pub async fn update_child(
        &self,
        actor: &Actor,
        id: ChildId,
        input: &ChildInput,
        expected: Version,
    ) -> AppResult<ChildRecord> {
        let loaded = self.load_child(actor, id, "update child").await?;
        self.require_write(
            actor,
            child_access(&actor.user, &loaded.standing, ChildData::Identity),
            Attempt {
                asked: "update child",
                record_type: "child",
                record_id: id.to_string(),
                child: id,
            },
            "only the case team and administrators change a child's details",
        )
        .await?;
        let details = ChildDetails::parse(input, self.today())?;
        self.check_school(&details).await?;
        let key = self.identity_key(id).await?;
        let sealed = self.seal_details(&key, id, &details)?;
        let lookups = self.lookups(&details).await?;
        let audit = self.audit_batch(
            &actor.origin,
            vec![child_event(
                audit::Action::ChildUpdated,
                actor,
                "child",
                id.to_string(),
                id,
            )],
        );
        self.store
            .update_child(id, &sealed, &lookups, expected, self.clock.now(), &audit)
            .await
            .map_err(Self::duplicate_identifier)?;
        self.get_child(actor, id).await
    }

    /// A child's record as the actor may see it. The read is audited.
    pub async fn get_child(&self, actor: &Actor, id: ChildId) -> AppResult<ChildRecord> {
        let loaded = self.load_child(actor, id, "read child").await?;
        let record = self.record_for(actor, loaded).await?;
        self.record(
            &actor.origin,
            vec![child_event(
                audit::Action::ChildRead,
                actor,
                "child",
                id.to_string(),
                id,
            )],
        )
        .await?;
        Ok(record)
    }

    async fn record_for(&self, actor: &Actor, loaded: Loaded) -> AppResult<ChildRecord> {
        let Loaded {
            stored,
            cases,
            standing,
        } = loaded;
        let user = &actor.user;
        let today = self.today();
        let id = stored.id;
        let key = self.identity_key(id).await?;
        let details = self.open_details(&key, &stored)?;
        let initials = details.initials();
        let named = sees_names(user, &standing);
        let carers = if named {
            self.open_carers(&key, self.store.carers(id).await?)?
        } else {
            Vec::new()
        };
        let access = ChildAccess {
            identity: child_access(user, &standing, ChildData::Identity),
            cases: child_access(user, &standing, ChildData::Cases),
            referral_reason: child_access(user, &standing, ChildData::ReferralReason),
            clinical: child_access(user, &standing, ChildData::Clinical),
            may_open_case: alliance_core::policy::decide(user, Action::RegisterChildren)
                .is_allowed()
                && cases.iter().all(|c| !c.case.is_open()),
        };
        let clinical_key = if cases
            .iter()
            .any(|c| c.sealed_reason.is_some() || c.sealed_summary.is_some())
        {
            match self
                .keys
                .data_key(&clinical_owner(id), self.clock.now())
                .await
            {
                Ok(key) => Some(key),
                // The clinical record was destroyed under the retention policy (issue 15): the
                // referral reasons and closing summaries went with it; the rest still reads.
                Err(crate::keys::KeyError::Destroyed) => None,
                Err(other) => return Err(other.into()),
            }
        } else {
            None
        };
        let mut case_records = Vec::with_capacity(cases.len());
        for (i, stored_case) in cases.into_iter().enumerate() {
            let is_newest = i == 0;
            let reason_access = case_access(user, &standing, ChildData::ReferralReason, is_newest);
            let clinical_access = case_access(user, &standing, ChildData::Clinical, is_newest);
            let cases_access = case_access(user, &standing, ChildData::Cases, is_newest);
            let case_id = stored_case.case.id.to_string();
            let open_text = |sealed: &Option<Sealed>, column: &str| -> AppResult<Option<String>> {
                match (sealed, &clinical_key) {
                    (Some(sealed), Some(key)) => {
                        let plain = key
                            .open(
                                sealed,
                                SealedAt {
                                    table: "cases",
                                    column,
                                    row: &case_id,
                                },
                            )
                            .map_err(|e| AppError::Store(StoreError::Other(e.to_string())))?;
                        Ok(Some(String::from_utf8_lossy(&plain).into_owned()))
                    }
                    _ => Ok(None),
                }
            };
            let referral_reason = if reason_access.may_read() {
                open_text(&stored_case.sealed_reason, "referral_reason")?
            } else {
                None
            };
            let closing_summary = if clinical_access.may_read() {
                open_text(&stored_case.sealed_summary, "closing_summary")?
            } else {
                None
            };
            let on_team = standing
                .team_roles
                .iter()
                .any(|r| matches!(r, TeamRole::Lead | TeamRole::CoWorker | TeamRole::Cover));
            case_records.push(CaseRecord {
                may_edit: cases_access.may_write(),
                may_close: is_newest
                    && stored_case.case.is_open()
                    && on_team
                    && clinical_access.may_write(),
                may_read_reason: reason_access.may_read(),
                referral_reason,
                closing_summary,
                is_newest,
                case: stored_case.case,
            });
        }
        let bands = self.age_bands();
        let age = details.age_on(today);
        Ok(ChildRecord {
            id,
            version: stored.version,
            initials,
            age: named.then_some(age),
            age_band: if named {
                bands.band_for(age).cloned()
            } else {
                None
            },
            expected_year: named.then(|| YearGroup::expected(details.date_of_birth, today)),
            details: named.then_some(details),
            carers,
            cases: case_records,
            access,
        })
    }

    fn open_carers(&self, key: &SealingKey, stored: Vec<StoredCarer>) -> AppResult<Vec<Carer>> {
        stored
            .into_iter()
            .map(|c| {
                let row = c.id.to_string();
                let plain = key
                    .open(
                        &c.sealed_details,
                        SealedAt {
                            table: "carers",
                            column: "details",
                            row: &row,
                        },
                    )
                    .map_err(|e| AppError::Store(StoreError::Other(e.to_string())))?;
                Ok(Carer {
                    id: c.id,
                    child_id: c.child_id,
                    details: serde_json::from_slice(&plain).map_err(json_error)?,
                    active: c.active,
                    version: c.version,
                    created_at: c.created_at,
                    updated_at: c.updated_at,
                })
            })
            .collect()
    }

    /// The children the actor may know about, filtered, a page at a time. One audit entry
    /// names the children shown.
    pub async fn list_children(
        &self,
        actor: &Actor,
        filter: &ChildFilter,
        page: &PageRequest,
    ) -> AppResult<Page<ChildSummary>> {
        let today = self.today();
        let supervisees = self.supervisees_of(actor).await?;
        let selection = match access::list_scope(&actor.user) {
            ListScope::Nobody => None,
            ListScope::All if !filter.mine => Some(ChildSelection::All),
            ListScope::All | ListScope::Connected => {
                let mut members = vec![actor.user.id];
                if !filter.mine {
                    members.extend(supervisees.iter().map(|(id, _)| *id));
                }
                Some(ChildSelection::TeamsOf { members, today })
            }
        };
        let listings = match &selection {
            Some(selection) => self.store.children(selection).await?,
            None => Vec::new(),
        };
        let visible: Vec<_> = listings
            .into_iter()
            .filter_map(|listing| {
                let standing =
                    access::standing(actor.user.id, listing.cases.first(), &supervisees, today);
                may_know_child(&actor.user, &standing).then_some((listing, standing))
            })
            .collect();
        let owners: Vec<KeyOwner> = visible
            .iter()
            .map(|(l, _)| identity_owner(l.child.id))
            .collect();
        let keys = self.keys.existing_data_keys(&owners).await?;
        let search = filter
            .search
            .as_deref()
            .map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty());
        let mut rows = Vec::with_capacity(visible.len());
        for (listing, standing) in visible {
            let Some(key) = keys.get(&identity_owner(listing.child.id)) else {
                // A destroyed identity key: nothing to show.
                continue;
            };
            let details = self.open_details(key, &listing.child)?;
            let newest = listing.cases.first();
            if let Some(status) = filter.status
                && newest.map(Case::status) != Some(status)
            {
                continue;
            }
            let named = sees_names(&actor.user, &standing);
            if let Some(site) = filter.school_site
                && !(named && details.school_site == Some(site))
            {
                continue;
            }
            let case = newest.map(|c| (c.number_label(), c.status()));
            if let Some(q) = &search {
                let matches = if named {
                    let digits: String = q.chars().filter(char::is_ascii_digit).collect();
                    details.legal_name.to_lowercase().contains(q)
                        || details
                            .preferred_name
                            .as_deref()
                            .is_some_and(|p| p.to_lowercase().contains(q))
                        || (digits.len() >= 3
                            && details
                                .nhs_number
                                .as_ref()
                                .is_some_and(|n| n.as_str().contains(&digits)))
                        || details
                            .upn
                            .as_ref()
                            .is_some_and(|u| u.as_str().to_lowercase() == *q)
                } else {
                    details.initials().to_lowercase() == *q
                        || case
                            .as_ref()
                            .is_some_and(|(n, _)| n.to_lowercase().contains(q))
                };
                if !matches {
                    continue;
                }
            }
            rows.push(ChildSummary {
                id: listing.child.id,
                initials: details.initials(),
                named: named.then(|| NamedChild {
                    known_as: details.known_as().to_owned(),
                    legal_name: details.legal_name.clone(),
                    date_of_birth: details.date_of_birth,
                    age: details.age_on(today),
                }),
                case,
                team_roles: standing.team_roles.clone(),
            });
        }
        // Named children by the name they are known by; pseudonymised ones by case number.
        rows.sort_by_cached_key(|r| {
            (
                r.named.is_none(),
                r.named
                    .as_ref()
                    .map(|n| n.known_as.to_lowercase())
                    .unwrap_or_default(),
                r.case.as_ref().map(|(n, _)| n.clone()).unwrap_or_default(),
                r.id,
            )
        });
        let page = paginate(rows, page);
        let shown: Vec<String> = page.items.iter().map(|r| r.id.to_string()).collect();
        self.record(
            &actor.origin,
            vec![
                Event::new(
                    audit::Action::ChildrenListed,
                    Some(actor.user.id.to_string()),
                    "child",
                    None,
                )
                .detail(&shown.join(",")),
            ],
        )
        .await?;
        Ok(page)
    }

    async fn seal_carer(
        &self,
        child: ChildId,
        id: CarerId,
        details: &CarerDetails,
    ) -> AppResult<Sealed> {
        let key = self.identity_key(child).await?;
        let plain = serde_json::to_vec(details).map_err(json_error)?;
        let row = id.to_string();
        Ok(self.keys.seal_with(
            &key,
            &plain,
            SealedAt {
                table: "carers",
                column: "details",
                row: &row,
            },
        ))
    }

    pub async fn add_carer(
        &self,
        actor: &Actor,
        child: ChildId,
        input: &CarerInput,
    ) -> AppResult<Carer> {
        let loaded = self.load_child(actor, child, "add carer").await?;
        self.require_write(
            actor,
            child_access(&actor.user, &loaded.standing, ChildData::Identity),
            Attempt {
                asked: "add carer",
                record_type: "carer",
                record_id: child.to_string(),
                child,
            },
            "only the case team and administrators change a child's carers",
        )
        .await?;
        let details = CarerDetails::parse(input, self.today())?;
        let id = CarerId(self.new_id());
        let now = self.clock.now();
        let stored = StoredCarer {
            id,
            child_id: child,
            sealed_details: self.seal_carer(child, id, &details).await?,
            active: true,
            version: Version::FIRST,
            created_at: now,
            updated_at: now,
        };
        let audit = self.audit_batch(
            &actor.origin,
            vec![child_event(
                audit::Action::CarerAdded,
                actor,
                "carer",
                id.to_string(),
                child,
            )],
        );
        let stored = self.store.create_carer(&stored, &audit).await?;
        Ok(Carer {
            id,
            child_id: child,
            details,
            active: stored.active,
            version: stored.version,
            created_at: stored.created_at,
            updated_at: stored.updated_at,
        })
    }

    /// A carer, through the child's gate.
    pub async fn get_carer(&self, actor: &Actor, id: CarerId) -> AppResult<Carer> {
        let stored = self.store.carer(id).await?.ok_or(AppError::NotFound)?;
        let loaded = self
            .load_child(actor, stored.child_id, "read carer")
            .await?;
        if !sees_names(&actor.user, &loaded.standing) {
            self.audit_refusal(
                actor,
                "read carer",
                "carer",
                id.to_string(),
                stored.child_id,
            )
            .await?;
            return Err(AppError::NotFound);
        }
        let key = self.identity_key(stored.child_id).await?;
        let carer = self
            .open_carers(&key, vec![stored])?
            .pop()
            .ok_or(AppError::NotFound)?;
        self.record(
            &actor.origin,
            vec![child_event(
                audit::Action::ChildRead,
                actor,
                "carer",
                id.to_string(),
                carer.child_id,
            )],
        )
        .await?;
        Ok(carer)
    }

    pub async fn update_carer(
        &self,
        actor: &Actor,
        id: CarerId,
        input: &CarerInput,
        active: bool,
        expected: Version,
    ) -> AppResult<Carer> {
        let stored = self.store.carer(id).await?.ok_or(AppError::NotFound)?;
        let child = stored.child_id;
        let loaded = self.load_child(actor, child, "update carer").await?;
        self.require_write(
            actor,
            child_access(&actor.user, &loaded.standing, ChildData::Identity),
            Attempt {
                asked: "update carer",
                record_type: "carer",
                record_id: id.to_string(),
                child,
            },
            "only the case team and administrators change a child's carers",
        )
        .await?;
        let details = CarerDetails::parse(input, self.today())?;
        let sealed = self.seal_carer(child, id, &details).await?;
        let audit = self.audit_batch(
            &actor.origin,
            vec![child_event(
                audit::Action::CarerUpdated,
                actor,
                "carer",
                id.to_string(),
                child,
            )],
        );
        let stored = self
            .store
            .update_carer(id, &sealed, active, expected, self.clock.now(), &audit)
            .await?;
        Ok(Carer {
            id,
            child_id: child,
            details,
            active: stored.active,
            version: stored.version,
            created_at: stored.created_at,
            updated_at: stored.updated_at,
        })
    }

    /// The outbound rule for one carer and one kind of item (policy section 2), for the
    /// member of staff deciding what to send. Every outbound feature asks the same core rule.
    pub async fn outbound_decision(
        &self,
        actor: &Actor,
        carer: CarerId,
        item: ItemKind,
    ) -> AppResult<Result<(), Refusal>> {
        let carer = self.get_carer(actor, carer).await?;
        let stored = self
            .store
            .child(carer.child_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let key = self.identity_key(carer.child_id).await?;
        let child = self.open_details(&key, &stored)?;
        Ok(outbound::may_receive(
            Recipient::Carer(&carer.details),
            Item::typical(item),
            &child,
        ))
    }

    async fn seal_case_text(
        &self,
        child: ChildId,
        case: CaseId,
        column: &str,
        text: &str,
    ) -> AppResult<Sealed> {
        let row = case.to_string();
        Ok(self
            .keys
            .seal(
                &clinical_owner(child),
                text.as_bytes(),
                SealedAt {
                    table: "cases",
                    column,
                    row: &row,
                },
                self.clock.now(),
            )
            .await?)
    }

    /// Checks that `user` is an active therapist who may join a case team.
    async fn check_therapist(&self, user: UserId, field: &str) -> AppResult<()> {
        let found = self.store.user(user).await?;
        if found.is_some_and(|u| u.active && u.has_role(Role::Therapist)) {
            Ok(())
        } else {
            Err(Invalid::field(field, "Choose an active therapist").into())
        }
    }

    /// Opens a case (a referral, or a re-referral after the last case closed).
    pub async fn open_case(
        &self,
        actor: &Actor,
        child: ChildId,
        input: &CaseInput,
        lead: Option<UserId>,
    ) -> AppResult<ChildRecord> {
        let loaded = self.load_child(actor, child, "open case").await?;
        self.require(
            actor,
            Action::RegisterChildren,
            "open case",
            "case",
            Some(child.to_string()),
        )
        .await?;
        let (details, reason) = CaseDetails::parse(input, self.today())?;
        if self.store.service_profile().await?.is_none() {
            return Err(AppError::Denied(
                "the service is not set up yet: an administrator saves its name and nation on the Service page first",
            ));
        }
        let reason_access = child_access(&actor.user, &loaded.standing, ChildData::ReferralReason);
        let reason = reason.flatten();
        if reason.is_some() && !reason_access.may_write() {
            return Err(Invalid::field(
                "referral_reason",
                "The referral reason is clinical: the lead therapist records it, not an administrator",
            )
            .into());
        }
        if let Some(lead) = lead {
            self.check_therapist(lead, "lead").await?;
        }
        let id = CaseId(self.new_id());
        let sealed_reason = match &reason {
            Some(text) => Some(
                self.seal_case_text(child, id, "referral_reason", text)
                    .await?,
            ),
            None => None,
        };
        // The lead allocated at opening leads from the referral onwards.
        let starts_on = details.referral_received;
        let new_case = NewCase {
            id,
            child_id: child,
            details,
            sealed_reason,
            lead: lead.map(|user| Membership {
                id: MembershipId(self.new_id()),
                case_id: id,
                user_id: user,
                role: TeamRole::Lead,
                starts_on,
                ends_on: None,
            }),
        };
        let mut audit = self.audit_batch(
            &actor.origin,
            vec![child_event(
                audit::Action::CaseOpened,
                actor,
                "case",
                id.to_string(),
                child,
            )],
        );
        if let Some(lead) = lead {
            audit.follow_ups.push(self.follow_up(
                Rule::ArrangeFirstSession,
                TaskRecipient::User(lead),
                Some(case_subject(child, id)),
                format!("first-session:{id}"),
            ));
        }
        match self
            .store
            .open_case(&new_case, self.clock.now(), &audit)
            .await
        {
            Err(StoreError::Conflict(c)) if c.contains("cases_one_open") => {
                return Err(Invalid::field(
                    "referral_source",
                    "This child has an open case: close it before opening another",
                )
                .into());
            }
            other => other?,
        };
        self.get_child(actor, child).await
    }

    /// Loads a case through its child's gate, with the actor's access to it.
    async fn load_case(
        &self,
        actor: &Actor,
        id: CaseId,
        asked: &str,
    ) -> AppResult<(Loaded, StoredCase, bool)> {
        let stored = self.store.case(id).await?.ok_or(AppError::NotFound)?;
        let loaded = self.load_child(actor, stored.case.child_id, asked).await?;
        let is_newest = loaded.cases.first().is_some_and(|c| c.case.id == id);
        Ok((loaded, stored, is_newest))
    }

    pub async fn update_case(
        &self,
        actor: &Actor,
        id: CaseId,
        input: &CaseInput,
        expected: Version,
    ) -> AppResult<ChildRecord> {
        let (loaded, stored, is_newest) = self.load_case(actor, id, "update case").await?;
        let child = stored.case.child_id;
        self.require_write(
            actor,
            case_access(&actor.user, &loaded.standing, ChildData::Cases, is_newest),
            Attempt {
                asked: "update case",
                record_type: "case",
                record_id: id.to_string(),
                child,
            },
            "only the case team and administrators change a case",
        )
        .await?;
        let (details, reason) = CaseDetails::parse(input, self.today())?;
        let may_write_reason = case_access(
            &actor.user,
            &loaded.standing,
            ChildData::ReferralReason,
            is_newest,
        )
        .may_write();
        let reason_update = match reason {
            // Not sent: left as it is.
            None => ReasonUpdate::Keep,
            Some(reason) if may_write_reason => ReasonUpdate::Set(match reason {
                Some(text) => Some(
                    self.seal_case_text(child, id, "referral_reason", &text)
                        .await?,
                ),
                None => None,
            }),
            Some(None) => ReasonUpdate::Keep,
            Some(Some(_)) => {
                return Err(Invalid::field(
                    "referral_reason",
                    "The referral reason is clinical: the lead therapist records it, not an administrator",
                )
                .into());
            }
        };
        let audit = self.audit_batch(
            &actor.origin,
            vec![child_event(
                audit::Action::CaseUpdated,
                actor,
                "case",
                id.to_string(),
                child,
            )],
        );
        self.store
            .update_case(
                id,
                &details,
                &reason_update,
                expected,
                self.clock.now(),
                &audit,
            )
            .await?;
        self.get_child(actor, child).await
    }

    /// Closes a case with its reason and summary: the team's work, since the summary is
    /// clinical.
    pub async fn close_case(
        &self,
        actor: &Actor,
        id: CaseId,
        input: &ClosureInput,
        expected: Version,
    ) -> AppResult<ChildRecord> {
        let (loaded, stored, is_newest) = self.load_case(actor, id, "close case").await?;
        let child = stored.case.child_id;
        let on_team = loaded
            .standing
            .team_roles
            .iter()
            .any(|r| matches!(r, TeamRole::Lead | TeamRole::CoWorker | TeamRole::Cover));
        let access = if on_team && stored.case.is_open() {
            case_access(
                &actor.user,
                &loaded.standing,
                ChildData::Clinical,
                is_newest,
            )
        } else {
            Access::None
        };
        self.require_write(
            actor,
            access,
            Attempt {
                asked: "close case",
                record_type: "case",
                record_id: id.to_string(),
                child,
            },
            "only the case team closes an open case, since the closing summary is clinical",
        )
        .await?;
        let (closure, summary) =
            Closure::parse(input, stored.case.details.referral_received, self.today())?;
        let sealed = self
            .seal_case_text(child, id, "closing_summary", &summary)
            .await?;
        let audit = self.audit_batch(
            &actor.origin,
            vec![child_event(
                audit::Action::CaseClosed,
                actor,
                "case",
                id.to_string(),
                child,
            )],
        );
        self.store
            .close_case(id, &closure, &sealed, expected, self.clock.now(), &audit)
            .await?;
        self.get_child(actor, child).await
    }

    /// Adds or ends a team membership, or transfers the case to a new lead.
    pub async fn change_team(
        &self,
        actor: &Actor,
        id: CaseId,
        request: &TeamRequest,
        expected: Version,
    ) -> AppResult<ChildRecord> {
        let (loaded, stored, is_newest) = self.load_case(actor, id, "change case team").await?;
        let child = stored.case.child_id;
        self.require_write(
            actor,
            case_access(&actor.user, &loaded.standing, ChildData::Cases, is_newest),
            Attempt {
                asked: "change case team",
                record_type: "case",
                record_id: id.to_string(),
                child,
            },
            "only the case team and administrators change a case team",
        )
        .await?;
        let case = &stored.case;
        let today = self.today();
        let (change, action) = match *request {
            TeamRequest::Add {
                user,
                role,
                starts_on,
                ends_on,
            } => {
                self.check_therapist(user, "user").await?;
                case.check_new_member(user, role, starts_on, ends_on, today)?;
                (
                    TeamChange::Add(Membership {
                        id: MembershipId(self.new_id()),
                        case_id: id,
                        user_id: user,
                        role,
                        starts_on,
                        ends_on,
                    }),
                    audit::Action::CaseTeamChanged,
                )
            }
            TeamRequest::End {
                membership,
                ends_on,
            } => {
                let Some(m) = case.team.iter().find(|m| m.id == membership) else {
                    return Err(Invalid::field(
                        "membership",
                        "This person is not on this case's team",
                    )
                    .into());
                };
                if ends_on <= m.starts_on {
                    return Err(Invalid::field(
                        "ends_on",
                        "The end date must be after the membership started",
                    )
                    .into());
                }
                if m.role == TeamRole::Lead && case.is_open() {
                    return Err(Invalid::field(
                        "membership",
                        "The lead's membership ends by transferring the case to a new lead",
                    )
                    .into());
                }
                (
                    TeamChange::End {
                        membership,
                        ends_on,
                    },
                    audit::Action::CaseTeamChanged,
                )
            }
            TeamRequest::Transfer { to, on } => {
                self.check_therapist(to, "to").await?;
                if !case.is_open() {
                    return Err(Invalid::field("to", "A closed case cannot be transferred").into());
                }
                let Some(lead) = case
                    .current_lead(on.max(today))
                    .or(case.current_lead(today))
                else {
                    return Err(Invalid::field(
                        "to",
                        "This case has no lead to transfer from: add a lead instead",
                    )
                    .into());
                };
                if lead.user_id == to {
                    return Err(Invalid::field("to", "This therapist is already the lead").into());
                }
                if on <= lead.starts_on {
                    return Err(Invalid::field(
                        "on",
                        "The transfer must be after the current lead started",
                    )
                    .into());
                }
                (
                    TeamChange::Transfer {
                        from: lead.id,
                        to: Membership {
                            id: MembershipId(self.new_id()),
                            case_id: id,
                            user_id: to,
                            role: TeamRole::Lead,
                            starts_on: on,
                            ends_on: None,
                        },
                    },
                    audit::Action::CaseTransferred,
                )
            }
        };
        let mut audit = self.audit_batch(
            &actor.origin,
            vec![child_event(action, actor, "case", id.to_string(), child)],
        );
        match &change {
            TeamChange::Add(member) => audit.follow_ups.push(self.follow_up(
                Rule::JoinedCaseTeam,
                TaskRecipient::User(member.user_id),
                Some(case_subject(child, id)),
                format!("joined-team:{}", member.id),
            )),
            TeamChange::Transfer { to, .. } => audit.follow_ups.push(self.follow_up(
                Rule::CaseTransferred,
                TaskRecipient::User(to.user_id),
                Some(case_subject(child, id)),
                format!("transferred:{}", to.id),
            )),
            TeamChange::End { .. } => {}
        }
        self.store
            .change_team(id, &change, expected, self.clock.now(), &audit)
            .await?;
        self.get_child(actor, child).await
    }

    /// For the intake pages: may this actor add children and open cases? Audited if not.
    pub async fn ensure_may_register_children(&self, actor: &Actor, asked: &str) -> AppResult<()> {
        self.require(actor, Action::RegisterChildren, asked, "child", None)
            .await
    }

    /// The child a case belongs to, through the child's gate (for pages that start at a case).
    pub async fn child_of_case(&self, actor: &Actor, id: CaseId) -> AppResult<ChildId> {
        let (loaded, _, _) = self.load_case(actor, id, "read case").await?;
        Ok(loaded.stored.id)
    }

    /// The gate for other areas of a child's record: the actor's standing with the child and
    /// the child's newest case ("not found", audited, when they may not know the child).
    pub(crate) async fn get_child_gate(
        &self,
        actor: &Actor,
        child: ChildId,
        asked: &str,
    ) -> AppResult<(Standing, Option<CaseId>)> {
        let loaded = self.load_child(actor, child, asked).await?;
        Ok((loaded.standing, loaded.cases.first().map(|c| c.case.id)))
    }

    /// Display names of staff, for showing case teams (the directory is open to everyone
    /// who works here).
    pub async fn staff_names(&self, ids: &[UserId]) -> AppResult<HashMap<UserId, String>> {
        let mut names = HashMap::new();
        for id in ids {
            if names.contains_key(id) {
                continue;
            }
            if let Some(user) = self.store.user(*id).await? {
                names.insert(*id, user.display_name);
            }
        }
        Ok(names)
    }
}

/// A page of an in-memory sorted list. The cursor is the last id shown (with its position
/// as a fallback when that child has left the list), so adding children between requests
/// neither skips nor repeats the ones already shown before it.
fn paginate(rows: Vec<ChildSummary>, request: &PageRequest) -> Page<ChildSummary> {
    let start = match &request.after {
        None => 0,
        Some(cursor) => {
            let (position, id) = cursor.as_str().split_once('.').unwrap_or(("0", ""));
            match rows.iter().position(|r| r.id.to_string() == id) {
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
                .map(|r| format!("{end}.{}", r.id))
        })
        .flatten();
    let items = rows.into_iter().skip(start).take(limit).collect();
    Page {
        items,
        next: next.map(|n| Cursor::from_key(n).as_str().to_owned()),
    }
}
