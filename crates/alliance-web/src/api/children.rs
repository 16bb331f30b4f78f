//! Children, their carers and their cases. What each caller sees and may change is the core's
//! access policy's answer; a child the caller may not know about answers 404, as if it did not
//! exist.

use super::directory::{not_found, text, version};
use crate::AppState;
use crate::auth::Signed;
use crate::extract::{ApiJson, ApiQuery};
use crate::problem::{ApiError, Problem};
use alliance_core::access::Access;
use alliance_core::cases::{
    CaseId, CaseInput, CaseStatus, ClosureInput, Membership, MembershipId, TeamRole,
};
use alliance_core::children::{
    Carer, CarerId, CarerInput, ChildDetails, ChildId, ChildInput, RestrictionInput,
};
use alliance_core::directory::SiteId;
use alliance_core::error::{parse_date, parse_optional_date};
use alliance_core::identity::UserId;
use alliance_core::outbound::ItemKind;
use alliance_core::{Invalid, PageRequest, Validator};
use alliance_service::children::{
    CaseRecord, ChildAccess, ChildFilter, ChildRecord, ChildSummary, TeamRequest,
};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A child in a list, as the caller may see them. The name, date of birth and age are present
/// only when the caller sees names; otherwise the child is shown by initials and case number.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChildListItem {
    pub id: String,
    pub initials: String,
    /// The preferred name if there is one, else the legal name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub known_as: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legal_name: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<String>,
    /// In whole years.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age: Option<i16>,
    /// The newest case's number, like `C00042`; null without a case.
    pub case_number: Option<String>,
    /// The newest case's status: `referred`, `active` or `closed`; null without a case.
    pub case_status: Option<String>,
    /// The caller's own current roles on the newest case's team: `lead`, `co-worker`,
    /// `parent-worker`, `cover`.
    pub team_roles: Vec<String>,
}

impl From<ChildSummary> for ChildListItem {
    fn from(s: ChildSummary) -> Self {
        let (case_number, case_status) = match s.case {
            Some((number, status)) => (Some(number), Some(status.code().to_owned())),
            None => (None, None),
        };
        let named = s.named;
        Self {
            id: s.id.to_string(),
            initials: s.initials,
            known_as: named.as_ref().map(|n| n.known_as.clone()),
            legal_name: named.as_ref().map(|n| n.legal_name.clone()),
            date_of_birth: named.as_ref().map(|n| n.date_of_birth.to_string()),
            age: named.as_ref().map(|n| n.age),
            case_number,
            case_status,
            team_roles: s.team_roles.iter().map(|r| r.code().to_owned()).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChildPage {
    pub items: Vec<ChildListItem>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<String>,
}

/// What a young person who consents for themselves agrees their carers may be told.
#[derive(Debug, Serialize, ToSchema)]
pub struct WishesView {
    pub consents_for_self: bool,
    /// Topic codes: `attendance`, `paperwork`, `progress`.
    pub carers_may_be_told: Vec<String>,
}

/// A child's details. Dates are `YYYY-MM-DD`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChildDetailsView {
    pub legal_name: String,
    pub preferred_name: Option<String>,
    pub date_of_birth: String,
    /// `female`, `male`, `indeterminate` or `not-known`.
    pub sex: String,
    pub gender_identity: Option<String>,
    pub pronouns: Option<String>,
    /// As the NHS writes it: `943 476 5919`.
    pub nhs_number: Option<String>,
    /// The id of one of the service's school sites.
    pub school_site: Option<String>,
    /// The school's name when it is not one of the service's sites.
    pub school_name: Option<String>,
    /// `nursery`, `reception`, `year-1` to `year-13`, or `not-in-school`.
    pub year_group: Option<String>,
    /// The Unique Pupil Number.
    pub upn: Option<String>,
    pub gp_practice: Option<String>,
    pub first_language: Option<String>,
    pub communication_needs: Option<String>,
    pub looked_after: bool,
    pub child_in_need: bool,
    pub child_protection_plan: bool,
    pub ehcp: bool,
    pub social_worker: Option<String>,
    pub social_worker_contact: Option<String>,
    pub address: Option<String>,
    pub date_of_death: Option<String>,
    pub wishes: WishesView,
}

impl From<ChildDetails> for ChildDetailsView {
    fn from(d: ChildDetails) -> Self {
        Self {
            legal_name: d.legal_name,
            preferred_name: d.preferred_name,
            date_of_birth: d.date_of_birth.to_string(),
            sex: d.sex.code().to_owned(),
            gender_identity: d.gender_identity,
            pronouns: d.pronouns,
            nhs_number: d.nhs_number.as_ref().map(|n| n.display()),
            school_site: d.school_site.map(|s| s.to_string()),
            school_name: d.school_name,
            year_group: d.year_group.map(|y| y.code()),
            upn: d.upn.map(|u| u.as_str().to_owned()),
            gp_practice: d.gp_practice,
            first_language: d.first_language,
            communication_needs: d.communication_needs,
            looked_after: d.looked_after,
            child_in_need: d.child_in_need,
            child_protection_plan: d.child_protection_plan,
            ehcp: d.ehcp,
            social_worker: d.social_worker,
            social_worker_contact: d.social_worker_contact,
            address: d.address,
            date_of_death: d.date_of_death.map(|d| d.to_string()),
            wishes: WishesView {
                consents_for_self: d.wishes.consents_for_self,
                carers_may_be_told: d
                    .wishes
                    .carers_may_be_told
                    .iter()
                    .map(|t| t.code().to_owned())
                    .collect(),
            },
        }
    }
}

/// An age band, for the explanation library.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgeBandView {
    /// Like `8-11`.
    pub code: String,
    pub label: String,
}

/// A restriction on what a carer may be told, from a court order or a safeguarding decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct RestrictionView {
    /// `no-location-or-times`, `no-school`, `no-clinical-content`,
    /// `no-preferred-name-or-pronouns` or `no-contact`.
    pub kind: String,
    /// `court-order` or `safeguarding-decision`.
    pub source: String,
    /// When the order was made or the decision taken (`YYYY-MM-DD`).
    pub dated: String,
    /// The order's reference or the decision's note.
    pub reference: Option<String>,
}

/// A carer's details.
#[derive(Debug, Serialize, ToSchema)]
pub struct CarerDetailsView {
    pub name: String,
    /// Mother, father, foster carer, …
    pub relationship: String,
    /// `parent`, `special-guardian`, `local-authority` or `other`; null without parental
    /// responsibility.
    pub parental_responsibility: Option<String>,
    /// Looks after the child day to day.
    pub day_to_day_care: bool,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    /// Whether the service may contact this person at all.
    pub may_contact: bool,
    pub restrictions: Vec<RestrictionView>,
    /// Whether they may collect the child, as stored: `may-collect`, `may-not-collect` or
    /// `not-decided` (the emergency panel shows a carer with no contact at all as may not).
    pub may_collect: String,
}

/// A person who cares for a child.
#[derive(Debug, Serialize, ToSchema)]
pub struct CarerView {
    pub id: String,
    pub child_id: String,
    /// False once the carer is no longer involved (kept for the record).
    pub active: bool,
    /// The record's version, for updates (a stale one is refused with 409).
    pub version: i64,
    pub details: CarerDetailsView,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Carer> for CarerView {
    fn from(c: Carer) -> Self {
        let d = c.details;
        Self {
            id: c.id.to_string(),
            child_id: c.child_id.to_string(),
            active: c.active,
            version: c.version.get(),
            details: CarerDetailsView {
                name: d.name,
                relationship: d.relationship,
                parental_responsibility: d.parental_responsibility.map(|p| p.code().to_owned()),
                day_to_day_care: d.day_to_day_care,
                phone: d.phone,
                email: d.email,
                address: d.address,
                may_contact: d.may_contact,
                may_collect: d.may_collect.code().to_owned(),
                restrictions: d
                    .restrictions
                    .into_iter()
                    .map(|r| RestrictionView {
                        kind: r.kind.code().to_owned(),
                        source: r.source.code().to_owned(),
                        dated: r.dated.to_string(),
                        reference: r.reference,
                    })
                    .collect(),
            },
            created_at: c.created_at.to_string(),
            updated_at: c.updated_at.to_string(),
        }
    }
}

/// How a case closed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClosingView {
    /// `YYYY-MM-DD`.
    pub closed_on: String,
    /// `planned-ending`, `planned-transfer`, `disengaged`, `consent-withdrawn`, `moved-away`
    /// or `other-unplanned`.
    pub reason: String,
    /// Whether the ending was planned (prepared for) or not.
    pub planned: bool,
}

/// One membership of a case team, from `starts_on` until the day before `ends_on`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MembershipView {
    pub id: String,
    pub user_id: String,
    /// `lead`, `co-worker`, `parent-worker` or `cover`.
    pub role: String,
    pub starts_on: String,
    /// The first day they are no longer on the team.
    pub ends_on: Option<String>,
    /// On the team today.
    pub current: bool,
}

/// A case: one episode of work with the child, from referral to closure.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseView {
    pub id: String,
    /// The case number, like `C00042`.
    pub number: String,
    /// `referred`, `active` or `closed`.
    pub status: String,
    /// `school`, `gp`, `parent-or-carer`, `self`, `social-care`, `camhs` or `other`.
    pub referral_source: String,
    pub referral_received: String,
    pub first_seen: Option<String>,
    /// Present when one was recorded and the caller may read it (it is clinical).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referral_reason: Option<String>,
    /// Whether the caller may read the referral reason.
    pub may_read_reason: bool,
    /// Present once the case is closed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closing: Option<ClosingView>,
    /// Present when the case is closed and the caller may read the clinical record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closing_summary: Option<String>,
    /// Every membership, past, present and future.
    pub team: Vec<MembershipView>,
    /// The record's version, for updates (a stale one is refused with 409).
    pub version: i64,
    /// The child's newest case (older ones are read-only).
    pub is_newest: bool,
    pub may_edit: bool,
    pub may_close: bool,
}

impl CaseView {
    /// `is_current` says whether a membership is current today.
    fn new(record: CaseRecord, is_current: &dyn Fn(&Membership) -> bool) -> Self {
        let case = record.case;
        Self {
            id: case.id.to_string(),
            number: case.number_label(),
            status: case.status().code().to_owned(),
            referral_source: case.details.referral_source.code().to_owned(),
            referral_received: case.details.referral_received.to_string(),
            first_seen: case.details.first_seen.map(|d| d.to_string()),
            referral_reason: record.referral_reason,
            may_read_reason: record.may_read_reason,
            closing: case.closure.as_ref().map(|c| ClosingView {
                closed_on: c.closed_on.to_string(),
                reason: c.reason.code().to_owned(),
                planned: c.reason.is_planned(),
            }),
            closing_summary: record.closing_summary,
            team: case
                .team
                .iter()
                .map(|m| MembershipView {
                    id: m.id.to_string(),
                    user_id: m.user_id.to_string(),
                    role: m.role.code().to_owned(),
                    starts_on: m.starts_on.to_string(),
                    ends_on: m.ends_on.map(|d| d.to_string()),
                    current: is_current(m),
                })
                .collect(),
            version: case.version.get(),
            is_newest: record.is_newest,
            may_edit: record.may_edit,
            may_close: record.may_close,
        }
    }
}

/// What the caller may do with this child's record, for a client to offer only that. Each is
/// `none`, `limited`, `pseudonymised`, `read` or `write`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessView {
    /// Identity, identifiers, carers, address.
    pub identity: String,
    /// Cases and their teams.
    pub cases: String,
    pub referral_reason: String,
    /// The clinical record.
    pub clinical: String,
    /// May open a new case (no case is open, and the caller registers children).
    pub may_open_case: bool,
}

fn access_code(access: Access) -> String {
    match access {
        Access::None => "none",
        Access::Limited(_) => "limited",
        Access::Pseudonymised => "pseudonymised",
        Access::Read => "read",
        Access::Write => "write",
    }
    .to_owned()
}

impl From<ChildAccess> for AccessView {
    fn from(a: ChildAccess) -> Self {
        Self {
            identity: access_code(a.identity),
            cases: access_code(a.cases),
            referral_reason: access_code(a.referral_reason),
            clinical: access_code(a.clinical),
            may_open_case: a.may_open_case,
        }
    }
}

/// A child's record as the caller may see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChildRecordView {
    pub id: String,
    /// The record's version, for updates (a stale one is refused with 409).
    pub version: i64,
    /// Initials of the legal name: all a pseudonymised reader sees of the child.
    pub initials: String,
    /// Null when the caller sees the child only pseudonymised.
    pub details: Option<ChildDetailsView>,
    /// In whole years; null when pseudonymised.
    pub age: Option<i16>,
    pub age_band: Option<AgeBandView>,
    /// The year a child of this age is usually in (a hint beside the recorded one).
    pub expected_year: Option<String>,
    /// Empty unless the caller may read the child's identity.
    pub carers: Vec<CarerView>,
    /// Newest first.
    pub cases: Vec<CaseView>,
    pub access: AccessView,
}

impl ChildRecordView {
    /// `is_current` says whether a case team membership is current today.
    fn new(record: ChildRecord, is_current: &dyn Fn(&Membership) -> bool) -> Self {
        Self {
            id: record.id.to_string(),
            version: record.version.get(),
            initials: record.initials,
            details: record.details.map(ChildDetailsView::from),
            age: record.age,
            age_band: record.age_band.map(|b| AgeBandView {
                code: b.code,
                label: b.label,
            }),
            expected_year: record.expected_year.map(|y| y.code()),
            carers: record.carers.into_iter().map(CarerView::from).collect(),
            cases: record
                .cases
                .into_iter()
                .map(|c| CaseView::new(c, is_current))
                .collect(),
            access: record.access.into(),
        }
    }
}

/// Whether an item may go to a carer.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutboundView {
    pub allowed: bool,
    /// Why not: `restricted`, `not-to-be-contacted`, `needs-parental-responsibility`,
    /// `young-person-has-not-agreed`, `child-has-died` or `not-for-this-recipient`.
    pub reason: Option<String>,
    /// The reason in words, for the member of staff (never for the recipient).
    pub message: Option<String>,
}

/// A child's record as the caller may see it, with memberships marked current as of today.
fn record_view(state: &AppState, record: ChildRecord) -> ChildRecordView {
    let today = state.alliance.today();
    ChildRecordView::new(record, &|m: &Membership| m.is_current(today))
}

/// Defines a child body: the fields of `ChildInput`, each optional (absent or null meaning
/// empty or false), and any more given, with the conversion to the core's input.
macro_rules! child_body {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident: $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Deserialize, ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty,)*
            #[serde(default)]
            pub legal_name: Option<String>,
            #[serde(default)]
            pub preferred_name: Option<String>,
            /// `YYYY-MM-DD`; the person must be 25 or under.
            #[serde(default)]
            pub date_of_birth: Option<String>,
            /// `female`, `male`, `indeterminate` or `not-known`.
            #[serde(default)]
            pub sex: Option<String>,
            #[serde(default)]
            pub gender_identity: Option<String>,
            #[serde(default)]
            pub pronouns: Option<String>,
            /// 10 digits with a valid check digit; spaces and dashes are ignored.
            #[serde(default)]
            pub nhs_number: Option<String>,
            /// The id of one of the service's school sites (or give `school_name`, not both).
            #[serde(default)]
            pub school_site: Option<String>,
            #[serde(default)]
            pub school_name: Option<String>,
            /// `nursery`, `reception`, `year-1` to `year-13`, or `not-in-school`.
            #[serde(default)]
            pub year_group: Option<String>,
            /// The 13-character Unique Pupil Number.
            #[serde(default)]
            pub upn: Option<String>,
            #[serde(default)]
            pub gp_practice: Option<String>,
            #[serde(default)]
            pub first_language: Option<String>,
            #[serde(default)]
            pub communication_needs: Option<String>,
            #[serde(default)]
            pub looked_after: bool,
            #[serde(default)]
            pub child_in_need: bool,
            #[serde(default)]
            pub child_protection_plan: bool,
            #[serde(default)]
            pub ehcp: bool,
            #[serde(default)]
            pub social_worker: Option<String>,
            #[serde(default)]
            pub social_worker_contact: Option<String>,
            #[serde(default)]
            pub address: Option<String>,
            /// `YYYY-MM-DD`.
            #[serde(default)]
            pub date_of_death: Option<String>,
            /// The young person consents for themselves.
            #[serde(default)]
            pub consents_for_self: bool,
            /// What they agree their carers may be told: `attendance`, `paperwork`,
            /// `progress`.
            #[serde(default)]
            pub carers_may_be_told: Vec<String>,
        }

        impl $name {
            /// The core's input: an absent field is empty.
            pub fn input(&self) -> ChildInput {
                ChildInput {
                    legal_name: text(&self.legal_name),
                    preferred_name: text(&self.preferred_name),
                    date_of_birth: text(&self.date_of_birth),
                    sex: text(&self.sex),
                    gender_identity: text(&self.gender_identity),
                    pronouns: text(&self.pronouns),
                    nhs_number: text(&self.nhs_number),
                    school_site: text(&self.school_site),
                    school_name: text(&self.school_name),
                    year_group: text(&self.year_group),
                    upn: text(&self.upn),
                    gp_practice: text(&self.gp_practice),
                    first_language: text(&self.first_language),
                    communication_needs: text(&self.communication_needs),
                    looked_after: self.looked_after,
                    child_in_need: self.child_in_need,
                    child_protection_plan: self.child_protection_plan,
                    ehcp: self.ehcp,
                    social_worker: text(&self.social_worker),
                    social_worker_contact: text(&self.social_worker_contact),
                    address: text(&self.address),
                    date_of_death: text(&self.date_of_death),
                    consents_for_self: self.consents_for_self,
                    carers_may_be_told: self.carers_may_be_told.clone(),
                }
            }
        }
    };
}

child_body! {
    /// A new child (intake).
    ChildBody {}
}

child_body! {
    /// A child's details, with the version they were read at. Every field is replaced:
    /// one left out is cleared.
    UpdateChildBody {
        version: i64,
    }
}

/// A restriction on what a carer may be told.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestrictionBody {
    /// `no-location-or-times`, `no-school`, `no-clinical-content`,
    /// `no-preferred-name-or-pronouns` or `no-contact`.
    #[serde(default)]
    pub kind: Option<String>,
    /// `court-order` or `safeguarding-decision`.
    #[serde(default)]
    pub source: Option<String>,
    /// When the order was made or the decision taken (`YYYY-MM-DD`, not in the future).
    #[serde(default)]
    pub dated: Option<String>,
    /// The order's reference or the decision's note.
    #[serde(default)]
    pub reference: Option<String>,
}

impl RestrictionBody {
    fn input(&self) -> RestrictionInput {
        RestrictionInput {
            kind: text(&self.kind),
            source: text(&self.source),
            dated: text(&self.dated),
            reference: text(&self.reference),
        }
    }
}

/// Defines a carer body: the fields of `CarerInput` and any more given, with the conversion
/// to the core's input.
macro_rules! carer_body {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident: $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Deserialize, ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty,)*
            #[serde(default)]
            pub name: Option<String>,
            /// Mother, father, foster carer, …
            #[serde(default)]
            pub relationship: Option<String>,
            /// `parent`, `special-guardian`, `local-authority` or `other`; absent without
            /// parental responsibility.
            #[serde(default)]
            pub parental_responsibility: Option<String>,
            #[serde(default)]
            pub day_to_day_care: bool,
            #[serde(default)]
            pub phone: Option<String>,
            #[serde(default)]
            pub email: Option<String>,
            #[serde(default)]
            pub address: Option<String>,
            /// Whether the service may contact this person at all (false when absent).
            #[serde(default)]
            pub may_contact: bool,
            #[serde(default)]
            pub restrictions: Vec<RestrictionBody>,
            /// Whether they may collect the child: `may-collect`, `may-not-collect` or
            /// `not-decided` (absent: not decided). Never `may-collect` with a `no-contact`
            /// restriction.
            #[serde(default)]
            pub may_collect: Option<String>,
        }

        impl $name {
            /// The core's input: an absent field is empty.
            pub fn input(&self) -> CarerInput {
                CarerInput {
                    name: text(&self.name),
                    relationship: text(&self.relationship),
                    parental_responsibility: text(&self.parental_responsibility),
                    day_to_day_care: self.day_to_day_care,
                    phone: text(&self.phone),
                    email: text(&self.email),
                    address: text(&self.address),
                    may_contact: self.may_contact,
                    restrictions: self.restrictions.iter().map(RestrictionBody::input).collect(),
                    may_collect: text(&self.may_collect),
                }
            }
        }
    };
}

carer_body! {
    /// A new carer of a child.
    CarerBody {}
}

carer_body! {
    /// A carer's details, whether they are still involved, and the version they were read at.
    UpdateCarerBody {
        version: i64,
        /// False once the carer is no longer involved (kept for the record).
        active: bool,
    }
}

/// Defines a case body: the fields of `CaseInput` and any more given, with the conversion to
/// the core's input.
macro_rules! case_body {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident: $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Deserialize, ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty,)*
            /// `school`, `gp`, `parent-or-carer`, `self`, `social-care`, `camhs` or `other`.
            #[serde(default)]
            pub referral_source: Option<String>,
            /// `YYYY-MM-DD`, not in the future.
            #[serde(default)]
            pub referral_received: Option<String>,
            /// `YYYY-MM-DD`: the first session; the case is active from then.
            #[serde(default)]
            pub first_seen: Option<String>,
            /// Clinical: recorded by the lead therapist, never by an administrator.
            #[serde(default)]
            pub referral_reason: Option<String>,
        }

        impl $name {
            /// The core's input: an absent field is empty.
            pub fn input(&self) -> CaseInput {
                CaseInput {
                    referral_source: text(&self.referral_source),
                    referral_received: text(&self.referral_received),
                    first_seen: text(&self.first_seen),
                    // Absent keeps the reason as it is; an empty string clears it.
                    referral_reason: self.referral_reason.clone(),
                }
            }
        }
    };
}

case_body! {
    /// A new case (a referral, or a re-referral once the last case closed).
    NewCaseBody {
        /// The lead therapist's account id (an active therapist); the case may start without.
        #[serde(default)]
        lead: Option<String>,
    }
}

case_body! {
    /// A case's details, with the version they were read at. For a caller who may write the
    /// referral reason, leaving it out clears it.
    UpdateCaseBody {
        version: i64,
    }
}

/// A case's closure, with the version it was read at.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseCaseBody {
    pub version: i64,
    /// `YYYY-MM-DD`: not in the future, not before the referral arrived.
    #[serde(default)]
    pub closed_on: Option<String>,
    /// `planned-ending`, `planned-transfer`, `disengaged`, `consent-withdrawn`, `moved-away`
    /// or `other-unplanned`.
    #[serde(default)]
    pub reason: Option<String>,
    /// The closing summary, for whoever reads this next (required; clinical).
    #[serde(default)]
    pub summary: Option<String>,
}

impl CloseCaseBody {
    pub fn input(&self) -> ClosureInput {
        ClosureInput {
            closed_on: text(&self.closed_on),
            reason: text(&self.reason),
            summary: text(&self.summary),
        }
    }
}

/// A change to a case team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TeamAction {
    /// Someone joins the team: needs `user`, `role`, `starts_on`; `ends_on` is optional
    /// (required for cover).
    Add,
    /// A membership ends: needs `membership` and `ends_on`.
    End,
    /// The case moves to a new lead: needs `to` and `on`.
    Transfer,
}

/// A change to a case team, with the case's version as read. Send only the fields the action
/// uses: any other is refused.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamBody {
    pub version: i64,
    pub action: TeamAction,
    /// `add`: the account id of the therapist who joins.
    #[serde(default)]
    pub user: Option<String>,
    /// `add`: `lead`, `co-worker`, `parent-worker` or `cover`.
    #[serde(default)]
    pub role: Option<String>,
    /// `add`: the first day on the team (`YYYY-MM-DD`).
    #[serde(default)]
    pub starts_on: Option<String>,
    /// `add` (optional) and `end`: the first day no longer on the team (`YYYY-MM-DD`).
    #[serde(default)]
    pub ends_on: Option<String>,
    /// `end`: the id of the membership that ends.
    #[serde(default)]
    pub membership: Option<String>,
    /// `transfer`: the account id of the new lead.
    #[serde(default)]
    pub to: Option<String>,
    /// `transfer`: the new lead's first day (`YYYY-MM-DD`).
    #[serde(default)]
    pub on: Option<String>,
}

/// A field the action needs: absent or blank is refused with `missing`.
fn required<'a>(value: &'a Option<String>, missing: &str) -> Result<&'a str, String> {
    match value.as_deref().map(str::trim) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(missing.to_owned()),
    }
}

impl TeamBody {
    /// The request the use-case takes, or every field at fault: those the action needs and
    /// were not sent or do not parse, and those sent that it does not use.
    pub fn request(&self) -> Result<TeamRequest, Invalid> {
        let mut v = Validator::new();
        let action = match self.action {
            TeamAction::Add => "add",
            TeamAction::End => "end",
            TeamAction::Transfer => "transfer",
        };
        let fields = [
            ("user", &self.user),
            ("role", &self.role),
            ("starts_on", &self.starts_on),
            ("ends_on", &self.ends_on),
            ("membership", &self.membership),
            ("to", &self.to),
            ("on", &self.on),
        ];
        let uses: &[&str] = match self.action {
            TeamAction::Add => &["user", "role", "starts_on", "ends_on"],
            TeamAction::End => &["membership", "ends_on"],
            TeamAction::Transfer => &["to", "on"],
        };
        for (name, value) in fields {
            if value.is_some() && !uses.contains(&name) {
                v.check::<()>(
                    name,
                    Err(format!("Leave this out when the action is {action}")),
                );
            }
        }
        let request = match self.action {
            TeamAction::Add => {
                let user = v.check(
                    "user",
                    required(&self.user, "Choose who joins the team").and_then(UserId::parse),
                );
                let role = v.check(
                    "role",
                    required(&self.role, "Choose their role on the team").and_then(TeamRole::parse),
                );
                let starts_on = v.check(
                    "starts_on",
                    required(&self.starts_on, "Enter the first day on the team")
                        .and_then(parse_date),
                );
                let ends_on = v.check(
                    "ends_on",
                    parse_optional_date(self.ends_on.as_deref().unwrap_or("")),
                );
                match (user, role, starts_on, ends_on) {
                    (Some(user), Some(role), Some(starts_on), Some(ends_on)) => {
                        Some(TeamRequest::Add {
                            user,
                            role,
                            starts_on,
                            ends_on,
                        })
                    }
                    _ => None,
                }
            }
            TeamAction::End => {
                let membership = v.check(
                    "membership",
                    required(&self.membership, "Choose the membership that ends")
                        .and_then(MembershipId::parse),
                );
                let ends_on = v.check(
                    "ends_on",
                    required(&self.ends_on, "Enter the first day no longer on the team")
                        .and_then(parse_date),
                );
                match (membership, ends_on) {
                    (Some(membership), Some(ends_on)) => Some(TeamRequest::End {
                        membership,
                        ends_on,
                    }),
                    _ => None,
                }
            }
            TeamAction::Transfer => {
                let to = v.check(
                    "to",
                    required(&self.to, "Choose the new lead therapist").and_then(UserId::parse),
                );
                let on = v.check(
                    "on",
                    required(&self.on, "Enter the new lead's first day").and_then(parse_date),
                );
                match (to, on) {
                    (Some(to), Some(on)) => Some(TeamRequest::Transfer { to, on }),
                    _ => None,
                }
            }
        };
        v.finish()?;
        request.ok_or_else(|| Invalid::field("action", "Enter the change to the team"))
    }
}

/// Filters for the list of children, besides `limit` and `after`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ChildListParams {
    /// Part of a name, an NHS number or a UPN; for a caller who sees children only
    /// pseudonymised, their initials or case number.
    pub q: Option<String>,
    /// The newest case's status: `referred`, `active` or `closed`.
    pub status: Option<String>,
    /// Only children at this school site (by its id).
    pub school_site: Option<String>,
    /// Only children on the caller's own caseload.
    pub mine: Option<bool>,
    pub limit: Option<i64>,
    pub after: Option<String>,
}

impl ChildListParams {
    /// The filter and page the use-case takes, or every parameter at fault. An empty
    /// parameter is as if it were absent.
    fn filter(&self) -> Result<(ChildFilter, PageRequest), Invalid> {
        let given = |p: &Option<String>| p.clone().filter(|v| !v.trim().is_empty());
        let mut v = Validator::new();
        let status = v.check(
            "status",
            given(&self.status)
                .as_deref()
                .map(CaseStatus::parse)
                .transpose(),
        );
        let school_site = v.check(
            "school_site",
            given(&self.school_site)
                .as_deref()
                .map(SiteId::parse)
                .transpose(),
        );
        let mut errors = v.finish().err().map(|i| i.errors).unwrap_or_default();
        let page = match PageRequest::parse(self.limit, self.after.as_deref()) {
            Ok(page) => Some(page),
            Err(invalid) => {
                errors.extend(invalid.errors);
                None
            }
        };
        match (status, school_site, page) {
            (Some(status), Some(school_site), Some(page)) if errors.is_empty() => Ok((
                ChildFilter {
                    search: given(&self.q),
                    status,
                    school_site,
                    mine: self.mine.unwrap_or(false),
                },
                page,
            )),
            _ => Err(Invalid { errors }),
        }
    }
}

/// Which kind of item would be sent.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OutboundParams {
    /// Required: `handout`, `agreement`, `consent-link`, `feedback-link`, `schedule-letter`,
    /// `progress-report`, `record-export`, `subject-access-bundle` or `safeguarding-share`.
    pub item: Option<String>,
}

fn child_id(raw: &str) -> Result<ChildId, ApiError> {
    ChildId::parse(raw).map_err(|_| not_found())
}

fn carer_id(raw: &str) -> Result<CarerId, ApiError> {
    CarerId::parse(raw).map_err(|_| not_found())
}

fn case_id(raw: &str) -> Result<CaseId, ApiError> {
    CaseId::parse(raw).map_err(|_| not_found())
}

fn invalid(field: &str, message: String) -> ApiError {
    Problem::for_status(StatusCode::UNPROCESSABLE_ENTITY)
        .field(field, message)
        .into()
}

/// The children the caller may know about, a page at a time: named children by the name they
/// are known by, then pseudonymised ones by case number.
#[utoipa::path(
    get,
    path = "/api/v1/children",
    tag = "children",
    params(ChildListParams),
    responses(
        (status = 200, description = "A page of children", body = ChildPage),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A filter is not valid", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list_children(
    State(state): State<AppState>,
    Signed(actor): Signed,
    ApiQuery(params): ApiQuery<ChildListParams>,
) -> Result<Json<ChildPage>, ApiError> {
    let (filter, page) = params.filter()?;
    let children = state.alliance.list_children(&actor, &filter, &page).await?;
    Ok(Json(ChildPage {
        items: children
            .items
            .into_iter()
            .map(ChildListItem::from)
            .collect(),
        next: children.next,
    }))
}

/// Adds a child (intake: administrators).
#[utoipa::path(
    post,
    path = "/api/v1/children",
    tag = "children",
    request_body = ChildBody,
    responses(
        (status = 201, description = "Created", body = ChildRecordView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed to register children, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid, or the NHS number or UPN is already recorded", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create_child(
    State(state): State<AppState>,
    Signed(actor): Signed,
    ApiJson(body): ApiJson<ChildBody>,
) -> Result<(StatusCode, Json<ChildRecordView>), ApiError> {
    let record = state.alliance.create_child(&actor, &body.input()).await?;
    Ok((StatusCode::CREATED, Json(record_view(&state, record))))
}

/// A child's record, as the caller may see it. The read is audited.
#[utoipa::path(
    get,
    path = "/api/v1/children/{id}",
    tag = "children",
    params(("id" = String, Path, description = "The child's id")),
    responses(
        (status = 200, description = "The child's record", body = ChildRecordView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such child, or none the caller may know about", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_child(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Json<ChildRecordView>, ApiError> {
    let record = state.alliance.get_child(&actor, child_id(&id)?).await?;
    Ok(Json(record_view(&state, record)))
}

/// Changes a child's details (the case team and administrators).
#[utoipa::path(
    put,
    path = "/api/v1/children/{id}",
    tag = "children",
    params(("id" = String, Path, description = "The child's id")),
    request_body = UpdateChildBody,
    responses(
        (status = 200, description = "Changed", body = ChildRecordView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such child, or none the caller may know about", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed by someone else since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid, or the NHS number or UPN is already recorded", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn update_child(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateChildBody>,
) -> Result<Json<ChildRecordView>, ApiError> {
    let id = child_id(&id)?;
    let expected = version(body.version)?;
    let record = state
        .alliance
        .update_child(&actor, id, &body.input(), expected)
        .await?;
    Ok(Json(record_view(&state, record)))
}

/// Adds a carer to a child (the case team and administrators).
#[utoipa::path(
    post,
    path = "/api/v1/children/{id}/carers",
    tag = "children",
    params(("id" = String, Path, description = "The child's id")),
    request_body = CarerBody,
    responses(
        (status = 201, description = "Added", body = CarerView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such child, or none the caller may know about", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn add_carer(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CarerBody>,
) -> Result<(StatusCode, Json<CarerView>), ApiError> {
    let child = child_id(&id)?;
    let carer = state
        .alliance
        .add_carer(&actor, child, &body.input())
        .await?;
    Ok((StatusCode::CREATED, Json(carer.into())))
}

/// One carer, for a caller who sees the child's name. The read is audited.
#[utoipa::path(
    get,
    path = "/api/v1/carers/{id}",
    tag = "children",
    params(("id" = String, Path, description = "The carer's id")),
    responses(
        (status = 200, description = "The carer", body = CarerView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such carer, or none the caller may see", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_carer(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Json<CarerView>, ApiError> {
    let carer = state.alliance.get_carer(&actor, carer_id(&id)?).await?;
    Ok(Json(carer.into()))
}

/// Changes a carer, or records that they are no longer involved (the case team and
/// administrators).
#[utoipa::path(
    put,
    path = "/api/v1/carers/{id}",
    tag = "children",
    params(("id" = String, Path, description = "The carer's id")),
    request_body = UpdateCarerBody,
    responses(
        (status = 200, description = "Changed", body = CarerView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such carer, or none the caller may see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed by someone else since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn update_carer(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateCarerBody>,
) -> Result<Json<CarerView>, ApiError> {
    let id = carer_id(&id)?;
    let expected = version(body.version)?;
    let carer = state
        .alliance
        .update_carer(&actor, id, &body.input(), body.active, expected)
        .await?;
    Ok(Json(carer.into()))
}

/// Whether an item of this kind may go to this carer (policy section 2): restrictions, contact,
/// parental responsibility and the young person's own wishes. Every outbound feature asks the
/// same rule.
#[utoipa::path(
    get,
    path = "/api/v1/carers/{id}/outbound",
    tag = "children",
    params(("id" = String, Path, description = "The carer's id"), OutboundParams),
    responses(
        (status = 200, description = "The decision", body = OutboundView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such carer, or none the caller may see", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No item, or an unknown one", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn outbound(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<OutboundParams>,
) -> Result<Json<OutboundView>, ApiError> {
    let id = carer_id(&id)?;
    let item =
        ItemKind::parse(params.item.as_deref().unwrap_or("")).map_err(|m| invalid("item", m))?;
    let decision = state.alliance.outbound_decision(&actor, id, item).await?;
    Ok(Json(match decision {
        Ok(()) => OutboundView {
            allowed: true,
            reason: None,
            message: None,
        },
        Err(refusal) => OutboundView {
            allowed: false,
            reason: Some(refusal.code().to_owned()),
            message: Some(refusal.message()),
        },
    }))
}

/// Opens a case for a child (a referral, or a re-referral once the last case closed).
#[utoipa::path(
    post,
    path = "/api/v1/children/{id}/cases",
    tag = "children",
    params(("id" = String, Path, description = "The child's id")),
    request_body = NewCaseBody,
    responses(
        (status = 201, description = "Opened; the child's record", body = ChildRecordView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed to open cases, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such child, or none the caller may know about", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid, the lead is not an active therapist, or a case is open", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn open_case(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewCaseBody>,
) -> Result<(StatusCode, Json<ChildRecordView>), ApiError> {
    let child = child_id(&id)?;
    let lead = match body.lead.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => Some(UserId::parse(raw).map_err(|m| invalid("lead", m))?),
    };
    let record = state
        .alliance
        .open_case(&actor, child, &body.input(), lead)
        .await?;
    Ok((StatusCode::CREATED, Json(record_view(&state, record))))
}

/// Changes a case's details (the case team and administrators).
#[utoipa::path(
    put,
    path = "/api/v1/cases/{id}",
    tag = "children",
    params(("id" = String, Path, description = "The case's id")),
    request_body = UpdateCaseBody,
    responses(
        (status = 200, description = "Changed; the child's record", body = ChildRecordView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such case, or none the caller may know about", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed by someone else since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn update_case(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateCaseBody>,
) -> Result<Json<ChildRecordView>, ApiError> {
    let id = case_id(&id)?;
    let expected = version(body.version)?;
    let record = state
        .alliance
        .update_case(&actor, id, &body.input(), expected)
        .await?;
    Ok(Json(record_view(&state, record)))
}

/// Closes a case with its reason and closing summary (the case team: the summary is
/// clinical).
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/close",
    tag = "children",
    params(("id" = String, Path, description = "The case's id")),
    request_body = CloseCaseBody,
    responses(
        (status = 200, description = "Closed; the child's record", body = ChildRecordView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not on the team of this open case, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such case, or none the caller may know about", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed by someone else since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn close_case(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CloseCaseBody>,
) -> Result<Json<ChildRecordView>, ApiError> {
    let id = case_id(&id)?;
    let expected = version(body.version)?;
    let record = state
        .alliance
        .close_case(&actor, id, &body.input(), expected)
        .await?;
    Ok(Json(record_view(&state, record)))
}

/// Adds someone to a case team, ends a membership, or transfers the case to a new lead.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/team",
    tag = "children",
    params(("id" = String, Path, description = "The case's id")),
    request_body = TeamBody,
    responses(
        (status = 200, description = "Changed; the child's record", body = ChildRecordView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such case or membership, or none the caller may know about", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed by someone else since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field the action needs is missing or not valid, or one it does not use was sent", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn change_team(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<TeamBody>,
) -> Result<Json<ChildRecordView>, ApiError> {
    let id = case_id(&id)?;
    let expected = version(body.version)?;
    let request = body.request()?;
    let record = state
        .alliance
        .change_team(&actor, id, &request, expected)
        .await?;
    Ok(Json(record_view(&state, record)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    fn fields(err: Invalid) -> Vec<String> {
        err.errors.into_iter().map(|e| e.field).collect()
    }

    const USER: &str = "0190f5a4-0000-7000-8000-000000000001";
    const MEMBERSHIP: &str = "0190f5a4-0000-7000-8000-000000000002";

    #[test]
    fn a_child_body_may_leave_out_anything_and_refuses_unknown_fields() {
        let child: Result<ChildBody, _> = body(
            r#"{"legal_name":"Amelia Rose Clarke","preferred_name":null,
                "date_of_birth":"2016-03-14","sex":"female","ehcp":true,
                "carers_may_be_told":["attendance","progress"]}"#,
        );
        let input = child.map(|c| c.input());
        assert_eq!(
            input.as_ref().map(|i| i.legal_name.as_str()),
            Ok("Amelia Rose Clarke")
        );
        assert_eq!(input.as_ref().map(|i| i.preferred_name.as_str()), Ok(""));
        assert_eq!(
            input.as_ref().map(|i| i.date_of_birth.as_str()),
            Ok("2016-03-14")
        );
        assert_eq!(
            input.as_ref().map(|i| (i.ehcp, i.looked_after)),
            Ok((true, false))
        );
        assert_eq!(
            input.as_ref().map(|i| i.carers_may_be_told.clone()),
            Ok(vec!["attendance".to_owned(), "progress".to_owned()])
        );
        assert!(body::<ChildBody>("{}").is_ok());
        assert!(
            body::<ChildBody>(r#"{"nickname":"Millie"}"#).is_err_and(|e| e.contains("nickname"))
        );
        assert!(body::<UpdateChildBody>("{}").is_err_and(|e| e.contains("version")));
    }

    #[test]
    fn a_child_body_round_trips_through_the_core_parser() {
        // A fixed day, through the core's own parser (this crate does not depend on jiff).
        let today = parse_date("2026-11-30");
        let child: Result<ChildBody, _> = body(
            r#"{"legal_name":"Amelia Rose Clarke","date_of_birth":"2016-03-14","sex":"female",
                "nhs_number":"943 476 5919","year_group":"year-5","consents_for_self":true,
                "carers_may_be_told":["paperwork"]}"#,
        );
        let details = child.and_then(|c| {
            let today = today.clone()?;
            ChildDetails::parse(&c.input(), today).map_err(|e| format!("{e:?}"))
        });
        let view = details.map(ChildDetailsView::from);
        assert_eq!(
            view.as_ref().map(|v| v.nhs_number.clone()),
            Ok(Some("943 476 5919".to_owned()))
        );
        assert_eq!(
            view.as_ref().map(|v| v.date_of_birth.as_str()),
            Ok("2016-03-14")
        );
        assert_eq!(
            view.as_ref().map(|v| v.year_group.clone()),
            Ok(Some("year-5".to_owned()))
        );
        assert_eq!(
            view.as_ref().map(|v| v.wishes.carers_may_be_told.clone()),
            Ok(vec!["paperwork".to_owned()])
        );
    }

    #[test]
    fn a_carer_body_carries_its_restrictions() {
        let carer: Result<UpdateCarerBody, _> = body(
            r#"{"version":3,"active":false,"name":"Sam Clarke","relationship":"Father",
                "may_contact":true,
                "restrictions":[{"kind":"no-school","source":"court-order","dated":"2025-05-12"}]}"#,
        );
        let input = carer.map(|c| c.input());
        assert_eq!(input.as_ref().map(|i| i.restrictions.len()), Ok(1));
        assert_eq!(
            input.as_ref().map(|i| {
                let r = &i.restrictions[0];
                (
                    r.kind.clone(),
                    r.source.clone(),
                    r.dated.clone(),
                    r.reference.clone(),
                )
            }),
            Ok((
                "no-school".to_owned(),
                "court-order".to_owned(),
                "2025-05-12".to_owned(),
                String::new()
            ))
        );
        let unknown = body::<CarerBody>(r#"{"restrictions":[{"kind":"no-school","until":"x"}]}"#);
        assert!(unknown.is_err_and(|e| e.contains("until")));
    }

    #[test]
    fn case_bodies_become_the_core_inputs() {
        let case: Result<NewCaseBody, _> =
            body(r#"{"referral_source":"gp","referral_received":"2026-10-01","lead":null}"#);
        let case = case.map(|c| (c.input(), c.lead));
        assert_eq!(
            case.as_ref().map(|(i, lead)| (
                i.referral_source.as_str(),
                i.first_seen.as_str(),
                lead.is_none()
            )),
            Ok(("gp", "", true))
        );
        assert!(
            body::<UpdateCaseBody>(r#"{"version":1,"lead":"x"}"#)
                .is_err_and(|e| e.contains("lead"))
        );
        let close: Result<CloseCaseBody, _> = body(
            r#"{"version":2,"closed_on":"2026-11-01","reason":"planned-ending","summary":"Done"}"#,
        );
        assert_eq!(
            close.map(|c| c.input().reason),
            Ok("planned-ending".to_owned())
        );
    }

    fn team(json: &str) -> Result<TeamRequest, Vec<String>> {
        let body: TeamBody = serde_json::from_str(json).map_err(|e| vec![e.to_string()])?;
        body.request().map_err(fields)
    }

    #[test]
    fn adding_to_a_team_needs_a_user_a_role_and_a_start() {
        let added = team(&format!(
            r#"{{"version":1,"action":"add","user":"{USER}","role":"cover",
                "starts_on":"2026-11-02","ends_on":"2026-11-16"}}"#
        ));
        assert!(matches!(
            added,
            Ok(TeamRequest::Add {
                role: TeamRole::Cover,
                ends_on: Some(_),
                ..
            })
        ));
        let open_ended = team(&format!(
            r#"{{"version":1,"action":"add","user":"{USER}","role":"co-worker","starts_on":"2026-11-02"}}"#
        ));
        assert!(matches!(
            open_ended,
            Ok(TeamRequest::Add { ends_on: None, .. })
        ));
        assert_eq!(
            team(r#"{"version":1,"action":"add"}"#).err(),
            Some(vec!["user".into(), "role".into(), "starts_on".into()])
        );
        assert_eq!(
            team(r#"{"version":1,"action":"add","user":"nobody","role":"boss","starts_on":"soon","ends_on":"later"}"#).err(),
            Some(vec!["user".into(), "role".into(), "starts_on".into(), "ends_on".into()])
        );
    }

    #[test]
    fn ending_and_transferring_need_their_own_fields_and_no_others() {
        let ended = team(&format!(
            r#"{{"version":1,"action":"end","membership":"{MEMBERSHIP}","ends_on":"2026-12-01"}}"#
        ));
        assert!(matches!(ended, Ok(TeamRequest::End { .. })));
        assert_eq!(
            team(r#"{"version":1,"action":"end","ends_on":"2026-12-01"}"#).err(),
            Some(vec!["membership".into()])
        );
        assert_eq!(
            team(r#"{"version":1,"action":"end","membership":"m1","ends_on":""}"#).err(),
            Some(vec!["membership".into(), "ends_on".into()])
        );
        let moved = team(&format!(
            r#"{{"version":1,"action":"transfer","to":"{USER}","on":"2026-12-01"}}"#
        ));
        assert!(matches!(moved, Ok(TeamRequest::Transfer { .. })));
        assert_eq!(
            team(&format!(
                r#"{{"version":1,"action":"transfer","to":"{USER}","on":"2026-12-01","role":"lead"}}"#
            ))
            .err(),
            Some(vec!["role".into()])
        );
        assert_eq!(
            team(r#"{"version":1,"action":"transfer"}"#).err(),
            Some(vec!["to".into(), "on".into()])
        );
        let unknown_action = team(r#"{"version":1,"action":"promote"}"#).err();
        assert!(unknown_action.is_some_and(|e| e.iter().any(|m| m.contains("promote"))));
    }

    #[test]
    fn list_filters_name_every_bad_parameter_and_ignore_empty_ones() {
        let params = ChildListParams {
            status: Some("open".into()),
            school_site: Some("oakfield".into()),
            limit: Some(0),
            ..ChildListParams::default()
        };
        assert_eq!(
            params.filter().err().map(fields),
            Some(vec!["status".into(), "school_site".into(), "limit".into()])
        );
        let params = ChildListParams {
            q: Some("  ".into()),
            status: Some("active".into()),
            school_site: Some(String::new()),
            mine: Some(true),
            ..ChildListParams::default()
        };
        let filter = params.filter().ok();
        assert!(filter.as_ref().is_some_and(|(f, _)| f.search.is_none()
            && f.status == Some(CaseStatus::Active)
            && f.school_site.is_none()
            && f.mine));
        assert_eq!(filter.map(|(_, p)| p.limit), Some(50));
    }

    #[test]
    fn access_levels_have_codes() {
        assert_eq!(access_code(Access::None), "none");
        assert_eq!(
            access_code(Access::Limited(alliance_core::access::Limit::AuthorOnly)),
            "limited"
        );
        assert_eq!(access_code(Access::Pseudonymised), "pseudonymised");
        assert_eq!(access_code(Access::Read), "read");
        assert_eq!(access_code(Access::Write), "write");
    }
}
