//! Safeguarding (issue 13): concerns in the child's words and allegations against staff,
//! raised (from a child, a session, or by look-up for a child the raiser may not know), kept
//! as the author's draft until submitted and sealed on submitting; the receipt; the concern as
//! each reader may see it; the steps and addenda that follow; the lists and the DSL's queue;
//! the on-duty rota, the out-of-hours contacts and the timing. Who may reach what is the
//! service's (`alliance_service::safeguarding`): a concern someone may not reach answers 404,
//! exactly as one that does not exist. This module turns the answers into JSON.

use super::directory::{not_found, page_in_memory, version};
use crate::AppState;
use crate::auth::Signed;
use crate::extract::{ApiJson, ApiQuery, PageParams};
use crate::problem::{ApiError, Problem};
use alliance_core::children::ChildId;
use alliance_core::identity::UserId;
use alliance_core::safeguarding::{
    BodyMark, ChildLookup, ConcernContent, ConcernId, Contact, Contacts, Reach, Rota, RotaAbsence,
    RotaPosition, RotaSlot, SiteContacts, StepDetail, StepKind, Timing,
};
use alliance_core::schedule::BookingId;
use alliance_core::{FieldError, Invalid, Version};
use alliance_service::AppError;
use alliance_service::StoredConcern;
use alliance_service::concern_workflow::ShareView;
use alliance_service::safeguarding::{
    ConcernSummary, ConcernView, DutyView, RaiseFrom, Receipt, RotaPage, StepView,
    concern_reference,
};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

fn concern_id(raw: &str) -> Result<ConcernId, ApiError> {
    ConcernId::parse(raw).map_err(|_| not_found())
}

fn path_child(raw: &str) -> Result<ChildId, ApiError> {
    ChildId::parse(raw).map_err(|_| not_found())
}

fn unprocessable(field: &str, message: impl Into<String>) -> ApiError {
    Problem::for_status(StatusCode::UNPROCESSABLE_ENTITY)
        .field(field, message)
        .into()
}

fn body_child(field: &str, raw: &str) -> Result<ChildId, ApiError> {
    ChildId::parse(raw).map_err(|m| unprocessable(field, m))
}

/// The service names a field as its own input calls it; the API names it as the body does.
fn renamed(err: AppError, rename: impl Fn(&str) -> String) -> ApiError {
    match err {
        AppError::Invalid(invalid) => Invalid {
            errors: invalid
                .errors
                .into_iter()
                .map(|e| FieldError::new(rename(&e.field), e.message))
                .collect(),
        }
        .into(),
        other => other.into(),
    }
}

/// A concern's content is sent and read under `content`, the child as typed under `lookup`.
fn content_field(field: &str) -> String {
    match field {
        "version" => field.to_owned(),
        "name" | "date_of_birth" | "school" => format!("lookup.{field}"),
        _ => format!("content.{field}"),
    }
}

fn time(t: impl std::fmt::Display) -> String {
    t.to_string()
}

fn reach_code(reach: Reach) -> &'static str {
    match reach {
        Reach::None => "none",
        Reach::OwnEntries => "own-entries",
        Reach::Read => "read",
        Reach::Write => "write",
    }
}

// ----- what a concern says -----

/// One marked region of the body map.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BodyMarkView {
    /// `front` or `back`.
    #[serde(default)]
    pub side: String,
    /// `head`, `face`, `neck`, `chest`, `abdomen`, `upper-back`, `lower-back`, `buttocks`,
    /// `genitals`, `left-arm`, `right-arm`, `left-hand`, `right-hand`, `left-leg`,
    /// `right-leg`, `left-foot`, `right-foot` (on the outline it is drawn on).
    #[serde(default)]
    pub region: String,
    /// What was seen there.
    #[serde(default)]
    pub description: String,
}

/// What a concern (or an allegation) says. In a draft any part may still be empty; submitting
/// needs the danger question answered, the child's words or observations, what the
/// practitioner said (when the child told them something), when and where, a category, and
/// (for a school's pupil) whether the school's DSL was told.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConcernContentView {
    /// Is the child in immediate danger: `yes` (the urgent path), `no`, or empty.
    #[serde(default)]
    pub immediate_danger: String,
    /// The child's words, verbatim.
    #[serde(default)]
    pub child_words: String,
    /// The questions asked, if any, as asked.
    #[serde(default)]
    pub questions_asked: String,
    /// What was seen and heard: facts, apart from opinion.
    #[serde(default)]
    pub observations: String,
    /// The practitioner's view, marked as opinion.
    #[serde(default)]
    pub opinion: String,
    /// When it happened: `DD/MM/YYYY` (or `YYYY-MM-DD`) and `HH:MM`, Europe/London.
    #[serde(default)]
    pub happened_on: String,
    #[serde(default)]
    pub happened_time: String,
    /// When this account was written, if not now.
    #[serde(default)]
    pub written_on: String,
    #[serde(default)]
    pub written_time: String,
    /// Where it happened.
    #[serde(default)]
    pub location: String,
    /// Who else was present.
    #[serde(default)]
    pub present: String,
    /// What the practitioner said to the child (never a promise of secrecy).
    #[serde(default)]
    pub practitioner_said: String,
    /// `physical`, `emotional`, `sexual`, `neglect`, `exploitation`, `domestic-abuse`,
    /// `child-on-child`, `online-harm`, `radicalisation`, `fgm`, `self-harm`, `other`.
    #[serde(default)]
    pub categories: Vec<String>,
    /// What "other" means here.
    #[serde(default)]
    pub category_other: String,
    /// The body map.
    #[serde(default)]
    pub marks: Vec<BodyMarkView>,
    /// Whether the school's own DSL has been told: `yes`, `not-yet`, `not-applicable`.
    #[serde(default)]
    pub school_dsl_told: String,
    #[serde(default)]
    pub school_dsl_told_at: String,
    #[serde(default)]
    pub school_dsl_told_by: String,
    /// Other children involved, by id (only children the raiser works with; the DSL links
    /// any other).
    #[serde(default)]
    pub linked_children: Vec<String>,
}

impl From<&ConcernContent> for ConcernContentView {
    fn from(c: &ConcernContent) -> Self {
        Self {
            immediate_danger: c.immediate_danger.clone(),
            child_words: c.child_words.clone(),
            questions_asked: c.questions_asked.clone(),
            observations: c.observations.clone(),
            opinion: c.opinion.clone(),
            happened_on: c.happened_on.clone(),
            happened_time: c.happened_time.clone(),
            written_on: c.written_on.clone(),
            written_time: c.written_time.clone(),
            location: c.location.clone(),
            present: c.present.clone(),
            practitioner_said: c.practitioner_said.clone(),
            categories: c.categories.clone(),
            category_other: c.category_other.clone(),
            marks: c
                .marks
                .iter()
                .map(|m| BodyMarkView {
                    side: m.side.clone(),
                    region: m.region.clone(),
                    description: m.description.clone(),
                })
                .collect(),
            school_dsl_told: c.school_dsl_told.clone(),
            school_dsl_told_at: c.school_dsl_told_at.clone(),
            school_dsl_told_by: c.school_dsl_told_by.clone(),
            linked_children: c.linked_children.clone(),
        }
    }
}

impl From<ConcernContentView> for ConcernContent {
    fn from(c: ConcernContentView) -> Self {
        Self {
            immediate_danger: c.immediate_danger,
            child_words: c.child_words,
            questions_asked: c.questions_asked,
            observations: c.observations,
            opinion: c.opinion,
            happened_on: c.happened_on,
            happened_time: c.happened_time,
            written_on: c.written_on,
            written_time: c.written_time,
            location: c.location,
            present: c.present,
            practitioner_said: c.practitioner_said,
            categories: c.categories,
            category_other: c.category_other,
            marks: c
                .marks
                .into_iter()
                .map(|m| BodyMark {
                    side: m.side,
                    region: m.region,
                    description: m.description,
                })
                .collect(),
            school_dsl_told: c.school_dsl_told,
            school_dsl_told_at: c.school_dsl_told_at,
            school_dsl_told_by: c.school_dsl_told_by,
            linked_children: c.linked_children,
        }
    }
}

/// A child as typed by someone who may not know them: the DSL matches it to a record.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LookupView {
    pub name: String,
    /// `DD/MM/YYYY` or `YYYY-MM-DD`.
    pub date_of_birth: String,
    /// The school, if any (it helps the DSL match).
    #[serde(default)]
    pub school: String,
}

impl From<&ChildLookup> for LookupView {
    fn from(l: &ChildLookup) -> Self {
        Self {
            name: l.name.clone(),
            date_of_birth: l.date_of_birth.clone(),
            school: l.school.clone(),
        }
    }
}

impl From<LookupView> for ChildLookup {
    fn from(l: LookupView) -> Self {
        Self {
            name: l.name,
            date_of_birth: l.date_of_birth,
            school: l.school,
        }
    }
}

/// A phone contact: the emergency duty team, the designated officer, a school's DSL.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactView {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
}

impl From<&Contact> for ContactView {
    fn from(c: &Contact) -> Self {
        Self {
            name: c.name.clone(),
            phone: c.phone.clone(),
            email: c.email.clone(),
        }
    }
}

impl From<ContactView> for Contact {
    fn from(c: ContactView) -> Self {
        Self {
            name: c.name,
            phone: c.phone,
            email: c.email,
        }
    }
}

/// Where a duty comes from.
#[derive(Debug, Serialize, ToSchema)]
pub struct DutySourceView {
    pub title: String,
    pub url: String,
}

/// A legal duty that falls on the caller personally (shown only to the concern's author, and
/// only where it applies).
#[derive(Debug, Serialize, ToSchema)]
pub struct DutyApiView {
    /// Send it back as `duty` when recording the report.
    pub code: String,
    pub title: String,
    pub report_to: String,
    pub what_to_do: String,
    /// RFC 3339, UTC: normally by then.
    pub deadline: String,
    /// RFC 3339, UTC: never later, save in exceptional cases.
    pub longest: String,
    /// The report and its reference are recorded.
    pub reported: bool,
    pub sources: Vec<DutySourceView>,
}

fn duty_view(d: &DutyView) -> DutyApiView {
    DutyApiView {
        code: d.duty.code.clone(),
        title: d.duty.title.clone(),
        report_to: d.duty.report_to.clone(),
        what_to_do: d.duty.what_to_do.clone(),
        deadline: time(d.deadline),
        longest: time(d.longest),
        reported: d.reported,
        sources: d
            .duty
            .sources
            .iter()
            .map(|s| DutySourceView {
                title: s.title.clone(),
                url: s.url.clone(),
            })
            .collect(),
    }
}

// ----- raising -----

/// A concern or allegation as stored after a change: send `version` back with the next.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConcernSavedView {
    pub id: String,
    /// How it is named in lists, tasks and the receipt (never a name): `SG-…` or `AL-…`.
    pub reference: String,
    /// `concern` or `allegation`.
    pub kind: String,
    /// `draft` (the author's alone) or `submitted` (sealed).
    pub status: String,
    pub version: i64,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub updated_at: String,
}

fn saved_view(c: &StoredConcern) -> ConcernSavedView {
    ConcernSavedView {
        id: c.id.to_string(),
        reference: concern_reference(c.kind, c.id),
        kind: c.kind.code().to_owned(),
        status: c.status.code().to_owned(),
        version: c.version.get(),
        created_at: time(c.created_at),
        updated_at: time(c.updated_at),
    }
}

/// Where the concern is raised from: exactly one of a child, a session, or the child as typed
/// (for someone who may not know the child; the answer is the same whether or not the child
/// is known).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RaiseBody {
    #[serde(default)]
    pub child_id: Option<String>,
    #[serde(default)]
    pub session_id: Option<String>,
    #[serde(default)]
    pub lookup: Option<LookupView>,
}

/// Starts a draft concern (seen by its author alone until submitted). Anyone who works with
/// children may raise one; an administrator may not (403).
#[utoipa::path(
    post,
    path = "/api/v1/concerns",
    tag = "safeguarding",
    request_body = RaiseBody,
    responses(
        (status = 201, description = "The draft", body = ConcernSavedView),
        (status = 403, description = "An administrator alone, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such child or session the caller may know (raise by look-up instead)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not exactly one of `child_id`, `session_id`, `lookup`, or a field is not valid (each is named)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn raise_concern(
    State(state): State<AppState>,
    Signed(actor): Signed,
    ApiJson(body): ApiJson<RaiseBody>,
) -> Result<(StatusCode, Json<ConcernSavedView>), ApiError> {
    let from = match (body.child_id, body.session_id, body.lookup) {
        (Some(child), None, None) => RaiseFrom::Child(body_child("child_id", &child)?),
        (None, Some(session), None) => RaiseFrom::Session(
            BookingId::parse(&session).map_err(|m| unprocessable("session_id", m))?,
        ),
        (None, None, Some(lookup)) => RaiseFrom::Lookup(lookup.into()),
        _ => {
            return Err(unprocessable(
                "body",
                "Give exactly one of child_id, session_id or lookup",
            ));
        }
    };
    let draft = state
        .alliance
        .start_concern(&actor, from)
        .await
        .map_err(|e| renamed(e, |f| format!("lookup.{f}")))?;
    Ok((StatusCode::CREATED, Json(saved_view(&draft))))
}

/// The member of staff an allegation is about.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AllegationBody {
    pub subject_user_id: String,
}

/// Starts a draft allegation against a member of staff (never oneself). It goes to the
/// service lead (the DSL when the subject is a service lead) and is never visible to its
/// subject.
#[utoipa::path(
    post,
    path = "/api/v1/allegations",
    tag = "safeguarding",
    request_body = AllegationBody,
    responses(
        (status = 201, description = "The draft", body = ConcernSavedView),
        (status = 403, description = "An administrator alone, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No such member of staff, or oneself (`subject_user_id`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn raise_allegation(
    State(state): State<AppState>,
    Signed(actor): Signed,
    ApiJson(body): ApiJson<AllegationBody>,
) -> Result<(StatusCode, Json<ConcernSavedView>), ApiError> {
    let subject =
        UserId::parse(&body.subject_user_id).map_err(|m| unprocessable("subject_user_id", m))?;
    let draft = state
        .alliance
        .start_allegation(&actor, subject)
        .await
        .map_err(|e| {
            renamed(e, |f| match f {
                "subject" => "subject_user_id".to_owned(),
                other => other.to_owned(),
            })
        })?;
    Ok((StatusCode::CREATED, Json(saved_view(&draft))))
}

// ----- reading one -----

/// Who a concern is about, as this reader may see them.
#[derive(Debug, Serialize, ToSchema)]
pub struct AboutView {
    /// The child's name for one of the child's readers who came from the child's record (or
    /// from nowhere); "Another child" for every other; the name as typed while a look-up is
    /// not yet matched; for an allegation, "A member of staff".
    pub label: String,
    /// The child's id, when the reader may open their record.
    pub child_id: Option<String>,
}

/// One labelled part of a step in words (`Decision`, `Reasons`, `Agency`, `Shared with`...):
/// what the page, the chronology and its PDF show.
#[derive(Debug, Serialize, ToSchema)]
pub struct LineView {
    pub label: String,
    pub value: String,
}

/// A step recorded on a submitted concern. The DSL, deputies and the service lead read every
/// part; a concern's author reads a decision without its reasons; a therapist the DSL shared
/// with reads what was shared with them.
#[derive(Debug, Serialize, ToSchema)]
pub struct StepApiView {
    /// `acknowledged`, `matched`, `linked-child`, `emergency-call`, `school-dsl-told`,
    /// `statutory-report`, `designated-officer-referral`, `information-gathered`, `decided`,
    /// `referred`, `chased`, `outcome`, `closed`, `reopened`, `information-shared`,
    /// `shared-with-team`.
    pub kind: String,
    pub kind_label: String,
    /// Who recorded it.
    pub actor: String,
    /// RFC 3339, UTC: when it was recorded.
    pub at: String,
    /// The step in words, one labelled part a line, empty parts left out.
    pub lines: Vec<LineView>,
    pub note: String,
    pub reference: String,
    /// A statutory report's duty code.
    pub duty: String,
    /// The parts of the DSL's work, as codes and dates (see `POST .../steps`); empty where
    /// the step has none.
    pub decision: String,
    /// `YYYY-MM-DD`.
    pub review_on: String,
    pub agency: String,
    pub agency_name: String,
    pub spoken_to: String,
    /// When it happened, if the step says (`YYYY-MM-DD` and `HH:MM`, Europe/London).
    pub on: String,
    pub time: String,
    pub with_whom: String,
    pub basis: String,
    pub consent: String,
    pub consent_reason: String,
    /// The carer shared with, by id.
    pub carer: String,
    pub reveals_location: bool,
    pub reveals_school: bool,
    /// The therapist shared with, by user id.
    pub shared_with: String,
}

fn step_view(s: &StepView) -> StepApiView {
    let d = &s.detail;
    StepApiView {
        kind: s.kind.code().to_owned(),
        kind_label: s.kind.label().to_owned(),
        actor: s.actor.clone(),
        at: time(s.at),
        lines: s
            .lines
            .iter()
            .map(|(label, value)| LineView {
                label: (*label).to_owned(),
                value: value.clone(),
            })
            .collect(),
        note: d.note.clone(),
        reference: d.reference.clone(),
        duty: d.duty.clone(),
        decision: d.decision.clone(),
        review_on: d.review_on.clone(),
        agency: d.agency.clone(),
        agency_name: d.agency_name.clone(),
        spoken_to: d.spoken_to.clone(),
        on: d.on.clone(),
        time: d.time.clone(),
        with_whom: d.with_whom.clone(),
        basis: d.basis.clone(),
        consent: d.consent.clone(),
        consent_reason: d.consent_reason.clone(),
        carer: d.carer.clone(),
        reveals_location: d.reveals_location,
        reveals_school: d.reveals_school,
        shared_with: d.shared_with.clone(),
    }
}

/// Someone on the child's current case team, whom the DSL may share with.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamMemberView {
    /// Send as `shared_with`.
    pub user: String,
    pub name: String,
    /// Lead therapist, co-worker, parent-worker.
    pub role: String,
}

/// One of the child's carers, for recording information shared with them.
#[derive(Debug, Serialize, ToSchema)]
pub struct CarerChoiceView {
    /// Send as `carer`.
    pub id: String,
    /// Their name and relationship.
    pub label: String,
}

/// An addendum: a correction or something learnt later, with its reason (the original
/// stands).
#[derive(Debug, Serialize, ToSchema)]
pub struct AddendumApiView {
    pub id: String,
    pub author: String,
    /// RFC 3339, UTC.
    pub at: String,
    pub reason: String,
    pub text: String,
}

/// Another child on a concern: named only for the reader who came from that child's record.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkedChildView {
    pub child_id: Option<String>,
    /// The child's name, or "Another child".
    pub label: String,
}

/// Who acknowledged, and when.
#[derive(Debug, Serialize, ToSchema)]
pub struct AcknowledgedView {
    pub by: String,
    /// RFC 3339, UTC.
    pub at: String,
}

/// A concern or allegation as the caller may see it. Its author reads their own entries,
/// the acknowledgement and the duties that fall on them; the DSL and deputies read and act on
/// everything; the service lead reads. An allegation is never shown to its subject.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConcernApiView {
    pub id: String,
    pub reference: String,
    /// `concern` or `allegation`.
    pub kind: String,
    /// `draft` or `submitted`.
    pub status: String,
    /// The child was said to be in immediate danger (fixed on submitting).
    pub urgent: bool,
    pub version: i64,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub updated_at: String,
    pub submitted_at: Option<String>,
    /// The session it was raised from.
    pub session_id: Option<String>,
    /// How far the caller reaches it: `own-entries`, `read` or `write`; `none` for a caller
    /// who sees only what the DSL shared with them.
    pub reach: String,
    pub is_author: bool,
    /// The author's name.
    pub author: String,
    pub about: AboutView,
    /// For an allegation: the member of staff it is about.
    pub subject: Option<String>,
    /// What it says: as typed (a draft) or as sealed.
    pub content: ConcernContentView,
    /// The child as typed at a look-up (for its author and the DSL).
    pub lookup: Option<LookupView>,
    /// Oldest first: the caller's own and the acknowledgement, or (the DSL, the service lead)
    /// all of them.
    pub steps: Vec<StepApiView>,
    pub addenda: Vec<AddendumApiView>,
    pub linked: Vec<LinkedChildView>,
    /// The legal duties that fall on the caller (the author) here.
    pub duties: Vec<DutyApiView>,
    pub acknowledged: Option<AcknowledgedView>,
    /// An urgent concern: by when the DSL on duty must acknowledge (RFC 3339, UTC).
    pub acknowledge_by: Option<String>,
    /// Call the emergency duty team or 999 now (and record that you did): nobody was on duty,
    /// or nobody acknowledged in time.
    pub call_now: bool,
    pub emergency_duty_team: ContactView,
    /// The local authority designated officer (allegations).
    pub designated_officer: Option<ContactView>,
    pub may_acknowledge: bool,
    pub may_add_addendum: bool,
    pub may_record_call: bool,
    pub may_match: bool,
    pub may_link: bool,
    pub may_refer: bool,
    /// The caller sees only what the DSL shared with them (a therapist on the case): `steps`
    /// holds those shares and nothing else of the concern is given (the content, its author,
    /// its urgency, its stage and everything else are left empty).
    pub shared_only: bool,
    /// Where the DSL's work stands: `awaiting-acknowledgement`, `awaiting-decision`, `open`
    /// (decided, not closed) or `closed`; null for a caller who sees only what was shared.
    pub stage: Option<String>,
    pub stage_label: Option<String>,
    /// A concern awaiting a decision: by when the DSL must decide (RFC 3339, UTC).
    pub decide_by: Option<String>,
    /// The caller may record the DSL's work on it (the DSL or a deputy; an allegation's
    /// handler).
    pub may_work: bool,
    /// For the DSL: whom they may share with (the child's current case team). Empty where
    /// the concern's child is not named to the caller (read from a linked child's record).
    pub team: Vec<TeamMemberView>,
    /// For the DSL: the child's carers, for recording information shared with one (empty
    /// likewise).
    pub carers: Vec<CarerChoiceView>,
}

/// What a caller who sees only the DSL's shares is given: the concern's name, who it is about
/// (they work with the child) and the shares; everything else left empty.
fn shared_only_view(v: &ConcernView) -> ConcernApiView {
    let c = &v.stored;
    ConcernApiView {
        id: c.id.to_string(),
        reference: v.reference.clone(),
        kind: c.kind.code().to_owned(),
        status: c.status.code().to_owned(),
        urgent: false,
        version: c.version.get(),
        created_at: time(c.created_at),
        updated_at: time(c.updated_at),
        submitted_at: None,
        session_id: None,
        reach: reach_code(v.reach).to_owned(),
        is_author: false,
        author: String::new(),
        about: AboutView {
            label: v.child_label.clone(),
            child_id: v.child_link.map(|c| c.to_string()),
        },
        subject: None,
        content: ConcernContentView::default(),
        lookup: None,
        steps: v.steps.iter().map(step_view).collect(),
        addenda: Vec::new(),
        linked: Vec::new(),
        duties: Vec::new(),
        acknowledged: None,
        acknowledge_by: None,
        call_now: false,
        emergency_duty_team: ContactView::default(),
        designated_officer: None,
        may_acknowledge: false,
        may_add_addendum: false,
        may_record_call: false,
        may_match: false,
        may_link: false,
        may_refer: false,
        shared_only: true,
        stage: None,
        stage_label: None,
        decide_by: None,
        may_work: false,
        team: Vec::new(),
        carers: Vec::new(),
    }
}

fn concern_view(v: ConcernView) -> ConcernApiView {
    if v.shared_only {
        return shared_only_view(&v);
    }
    // The case team and the carers belong to the concern's own child: given only where that
    // child is named to the reader (never from a linked child's record, where it is "Another
    // child").
    let named = v.child_link.is_some();
    let c = &v.stored;
    ConcernApiView {
        id: c.id.to_string(),
        reference: v.reference.clone(),
        kind: c.kind.code().to_owned(),
        status: c.status.code().to_owned(),
        urgent: c.urgent,
        version: c.version.get(),
        created_at: time(c.created_at),
        updated_at: time(c.updated_at),
        submitted_at: c.submitted_at.map(time),
        session_id: c.session_id.map(|s| s.to_string()),
        reach: reach_code(v.reach).to_owned(),
        is_author: v.is_author,
        author: v.author_name.clone(),
        about: AboutView {
            label: match c.kind {
                alliance_core::safeguarding::ConcernKind::Allegation => {
                    "A member of staff".to_owned()
                }
                alliance_core::safeguarding::ConcernKind::Concern => v.child_label.clone(),
            },
            child_id: v.child_link.map(|c| c.to_string()),
        },
        subject: v.subject_name.clone(),
        content: (&v.content).into(),
        lookup: v.lookup.as_ref().map(LookupView::from),
        steps: v.steps.iter().map(step_view).collect(),
        addenda: v
            .addenda
            .iter()
            .map(|a| AddendumApiView {
                id: a.id.to_string(),
                author: a.author.clone(),
                at: time(a.at),
                reason: a.reason.clone(),
                text: a.text.clone(),
            })
            .collect(),
        linked: v
            .linked
            .iter()
            .map(|l| LinkedChildView {
                child_id: l.child.map(|c| c.to_string()),
                label: l.label.clone(),
            })
            .collect(),
        duties: v.duties.iter().map(duty_view).collect(),
        acknowledged: v.acknowledged.as_ref().map(|(by, at)| AcknowledgedView {
            by: by.clone(),
            at: time(*at),
        }),
        acknowledge_by: v.acknowledge_by.map(time),
        call_now: v.call_now,
        emergency_duty_team: (&v.emergency_duty_team).into(),
        designated_officer: v.designated_officer.as_ref().map(ContactView::from),
        may_acknowledge: v.may_acknowledge,
        may_add_addendum: v.may_add_addendum,
        may_record_call: v.may_record_call,
        may_match: v.may_match,
        may_link: v.may_link,
        may_refer: v.may_refer,
        shared_only: false,
        stage: Some(v.stage.code().to_owned()),
        stage_label: Some(v.stage.label().to_owned()),
        decide_by: v.decide_by.map(time),
        may_work: v.may_work,
        team: v
            .team
            .iter()
            .filter(|_| named)
            .map(|(user, name, role)| TeamMemberView {
                user: user.to_string(),
                name: name.clone(),
                role: role.clone(),
            })
            .collect(),
        carers: v
            .carers
            .iter()
            .filter(|_| named)
            .map(|(id, label)| CarerChoiceView {
                id: id.to_string(),
                label: label.clone(),
            })
            .collect(),
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ConcernParams {
    /// The child whose record the caller came from: that child is named, every other child on
    /// the concern is "Another child".
    pub child: Option<String>,
}

/// A concern or allegation as the caller may see it (audited). Anyone it is not for (an
/// administrator, another therapist, an allegation's subject) gets 404, as if it did not
/// exist; the refusal is audited.
#[utoipa::path(
    get,
    path = "/api/v1/concerns/{id}",
    tag = "safeguarding",
    params(("id" = String, Path, description = "The concern's id"), ConcernParams),
    responses(
        (status = 200, description = "The concern", body = ConcernApiView),
        (status = 404, description = "No such concern, or none the caller may see", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`child` is not a child's id", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_concern(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<ConcernParams>,
) -> Result<Json<ConcernApiView>, ApiError> {
    let id = concern_id(&id)?;
    let context = params
        .child
        .as_deref()
        .map(|c| body_child("child", c))
        .transpose()?;
    let view = state.alliance.concern_view(&actor, id, context).await?;
    Ok(Json(concern_view(view)))
}

/// The draft as it now stands.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftBody {
    pub content: ConcernContentView,
    /// For a concern raised by look-up: the child as typed, corrected.
    #[serde(default)]
    pub lookup: Option<LookupView>,
    /// The draft's version as read.
    pub version: i64,
}

/// Saves the caller's draft (nothing typed is refused for being unfinished). A submitted
/// concern is sealed: 409, and it is not changed.
#[utoipa::path(
    put,
    path = "/api/v1/concerns/{id}",
    tag = "safeguarding",
    params(("id" = String, Path, description = "The concern's id")),
    request_body = DraftBody,
    responses(
        (status = 200, description = "Saved", body = ConcernSavedView),
        (status = 403, description = "A read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such draft of the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Submitted (sealed: add an addendum), or changed since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A part is too long or not valid (each is named)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn save_draft(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DraftBody>,
) -> Result<Json<ConcernSavedView>, ApiError> {
    let id = concern_id(&id)?;
    let expected = version(body.version)?;
    let lookup: Option<ChildLookup> = body.lookup.map(Into::into);
    let saved = state
        .alliance
        .save_concern_draft(&actor, id, &body.content.into(), lookup.as_ref(), expected)
        .await
        .map_err(|e| renamed(e, content_field))?;
    Ok(Json(saved_view(&saved)))
}

/// Throws away the caller's unsubmitted draft. A submitted concern is sealed: 409, and it
/// stays.
#[utoipa::path(
    delete,
    path = "/api/v1/concerns/{id}",
    tag = "safeguarding",
    params(("id" = String, Path, description = "The concern's id")),
    responses(
        (status = 204, description = "Discarded"),
        (status = 403, description = "A read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such draft of the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Submitted: sealed for good", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn discard_draft(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .alliance
        .discard_concern_draft(&actor, concern_id(&id)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The draft's version as read.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionBody {
    pub version: i64,
}

/// What the raiser is told on submitting: the same words whether or not the child is known.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptView {
    pub id: String,
    pub reference: String,
    /// `concern` or `allegation`.
    pub kind: String,
    /// Always `submitted`.
    pub status: String,
    pub urgent: bool,
    /// Who was told at once (the DSL on duty; an allegation's handlers).
    pub told: Vec<String>,
    /// Nobody could be told: call the emergency duty team or 999 now, then record it.
    pub call_now: bool,
    /// An urgent concern: by when the DSL on duty must acknowledge (RFC 3339, UTC).
    pub acknowledge_by: Option<String>,
    pub emergency_duty_team: ContactView,
    /// For an allegation nobody here can handle: whom to call.
    pub designated_officer: Option<ContactView>,
    /// The legal duties that fall on the caller personally.
    pub duties: Vec<DutyApiView>,
}

fn receipt_view(r: &Receipt) -> ReceiptView {
    ReceiptView {
        id: r.id.to_string(),
        reference: r.reference.clone(),
        kind: r.kind.code().to_owned(),
        status: "submitted".to_owned(),
        urgent: r.urgent,
        told: r.told.clone(),
        call_now: r.call_now,
        acknowledge_by: r.acknowledge_by.map(time),
        emergency_duty_team: (&r.emergency_duty_team).into(),
        designated_officer: r.designated_officer.as_ref().map(ContactView::from),
        duties: r.duties.iter().map(duty_view).collect(),
    }
}

/// Submits the caller's draft: it is checked (each missing part named under `content`),
/// sealed for good, and passed on at once (urgent: the DSL on duty, or, when nobody is, the
/// caller is told to call the emergency duty team or 999).
#[utoipa::path(
    post,
    path = "/api/v1/concerns/{id}/submit",
    tag = "safeguarding",
    params(("id" = String, Path, description = "The concern's id")),
    request_body = VersionBody,
    responses(
        (status = 200, description = "Submitted: the receipt", body = ReceiptView),
        (status = 403, description = "A read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such draft of the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Submitted already, or changed since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A part is missing or not valid (each is named)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn submit_concern(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<VersionBody>,
) -> Result<Json<ReceiptView>, ApiError> {
    let id = concern_id(&id)?;
    let expected = version(body.version)?;
    let receipt = state
        .alliance
        .submit_concern(&actor, id, expected)
        .await
        .map_err(|e| renamed(e, content_field))?;
    Ok(Json(receipt_view(&receipt)))
}

// ----- lists -----

/// One concern or allegation in a list (never what it says).
#[derive(Debug, Serialize, ToSchema)]
pub struct ConcernSummaryView {
    pub id: String,
    pub reference: String,
    /// `concern` or `allegation`.
    pub kind: String,
    /// `draft` or `submitted`.
    pub status: String,
    pub urgent: bool,
    /// Who it is about, as the caller may see it.
    pub about: String,
    /// The author's name.
    pub author: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub submitted_at: Option<String>,
    pub acknowledged: bool,
    /// When acknowledgement is due, while it waits; once acknowledged (for the DSL, deputies
    /// and the service lead), when the decision is due, while it waits.
    pub due: Option<String>,
    pub overdue: bool,
    /// Where the DSL's work stands: `awaiting-acknowledgement`, `awaiting-decision`, `open`
    /// or `closed`.
    pub stage: String,
}

fn summary_view(s: &ConcernSummary) -> ConcernSummaryView {
    ConcernSummaryView {
        id: s.id.to_string(),
        reference: s.reference.clone(),
        kind: s.kind.code().to_owned(),
        status: s.status.code().to_owned(),
        urgent: s.urgent,
        about: s.about.clone(),
        author: s.author.clone(),
        created_at: time(s.created_at),
        submitted_at: s.submitted_at.map(time),
        acknowledged: s.acknowledged,
        due: s.due.map(time),
        overdue: s.overdue,
        stage: s.stage.code().to_owned(),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConcernPage {
    pub items: Vec<ConcernSummaryView>,
    pub next: Option<String>,
}

fn concern_page(rows: Vec<ConcernSummary>, params: &PageParams) -> Result<ConcernPage, ApiError> {
    let page = params.request()?;
    let (items, next) = page_in_memory(rows, |s| s.id.to_string(), &page);
    Ok(ConcernPage {
        items: items.iter().map(summary_view).collect(),
        next,
    })
}

/// Everything the caller raised, drafts included, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/me/concerns",
    tag = "safeguarding",
    params(PageParams),
    responses(
        (status = 200, description = "A page of the caller's concerns and allegations", body = ConcernPage),
        (status = 422, description = "A paging parameter is not valid", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn my_concerns(
    State(state): State<AppState>,
    Signed(actor): Signed,
    ApiQuery(params): ApiQuery<PageParams>,
) -> Result<Json<ConcernPage>, ApiError> {
    params.request()?;
    let rows = state.alliance.my_concerns(&actor).await?;
    Ok(Json(concern_page(rows, &params)?))
}

/// The concerns on a child's record as the caller may see them: the DSL, deputies and the
/// service lead all of them, anyone else their own. A child the caller may not know: 404.
#[utoipa::path(
    get,
    path = "/api/v1/children/{id}/concerns",
    tag = "safeguarding",
    params(("id" = String, Path, description = "The child's id"), PageParams),
    responses(
        (status = 200, description = "A page of the child's concerns", body = ConcernPage),
        (status = 404, description = "No such child, or none the caller may know", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A paging parameter is not valid", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn child_concerns(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<PageParams>,
) -> Result<Json<ConcernPage>, ApiError> {
    let child = path_child(&id)?;
    params.request()?;
    let rows = state.alliance.child_concerns(&actor, child).await?;
    Ok(Json(concern_page(rows, &params)?))
}

/// Something the DSL shared with the caller about a concern: all they are given of it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShareApiView {
    /// The concern's id (`GET /api/v1/concerns/{id}` shows the caller these shares).
    pub concern_id: String,
    pub reference: String,
    /// The child, by id.
    pub child_id: Option<String>,
    /// The child's name as the caller knows them.
    pub child: String,
    /// Who shared it (the DSL or a deputy).
    pub by: String,
    /// RFC 3339, UTC.
    pub at: String,
    /// What was shared.
    pub text: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SharePage {
    pub items: Vec<ShareApiView>,
    pub next: Option<String>,
}

fn share_page(rows: Vec<ShareView>, params: &PageParams) -> Result<SharePage, ApiError> {
    let page = params.request()?;
    let (items, next) = page_in_memory(rows, |s| format!("{}.{}", s.concern, s.at), &page);
    Ok(SharePage {
        items: items
            .iter()
            .map(|s| ShareApiView {
                concern_id: s.concern.to_string(),
                reference: s.reference.clone(),
                child_id: s.child.map(|c| c.to_string()),
                child: s.child_label.clone(),
                by: s.by.clone(),
                at: time(s.at),
                text: s.text.clone(),
            })
            .collect(),
        next,
    })
}

/// What the DSL shared with the caller (a therapist on a child's case team), newest first:
/// all they are given of those concerns. Audited.
#[utoipa::path(
    get,
    path = "/api/v1/me/concern-shares",
    tag = "safeguarding",
    params(PageParams),
    responses(
        (status = 200, description = "A page of what was shared with the caller", body = SharePage),
        (status = 422, description = "A paging parameter is not valid", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn my_concern_shares(
    State(state): State<AppState>,
    Signed(actor): Signed,
    ApiQuery(params): ApiQuery<PageParams>,
) -> Result<Json<SharePage>, ApiError> {
    params.request()?;
    let rows = state.alliance.concern_shares(&actor, None).await?;
    Ok(Json(share_page(rows, &params)?))
}

/// What the DSL shared with the caller about one child, newest first. A child the caller may
/// not know: 404.
#[utoipa::path(
    get,
    path = "/api/v1/children/{id}/concern-shares",
    tag = "safeguarding",
    params(("id" = String, Path, description = "The child's id"), PageParams),
    responses(
        (status = 200, description = "A page of what was shared with the caller about the child", body = SharePage),
        (status = 404, description = "No such child, or none the caller may know", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A paging parameter is not valid", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn child_concern_shares(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<PageParams>,
) -> Result<Json<SharePage>, ApiError> {
    let child = path_child(&id)?;
    params.request()?;
    let rows = state.alliance.concern_shares(&actor, Some(child)).await?;
    Ok(Json(share_page(rows, &params)?))
}

/// The DSL's queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueView {
    /// Awaiting acknowledgement, urgent first.
    pub awaiting: Vec<ConcernSummaryView>,
    /// Acknowledged and not closed (awaiting a decision, or open), the soonest due first.
    pub open: Vec<ConcernSummaryView>,
    /// The newest 50, acknowledged or not.
    pub recent: Vec<ConcernSummaryView>,
    /// Allegations the caller handles (the service lead; the DSL when the subject is a
    /// service lead).
    pub allegations: Vec<ConcernSummaryView>,
    /// The caller may act on the queue (the DSL or a deputy, with a read-write credential).
    pub may_act: bool,
}

/// The DSL's queue: what awaits acknowledgement (urgent first), what awaits a decision or is
/// open (the soonest due first), the newest concerns, and the allegations the caller handles. The DSL, deputies and the service lead; anyone else 404.
#[utoipa::path(
    get,
    path = "/api/v1/safeguarding/queue",
    tag = "safeguarding",
    responses(
        (status = 200, description = "The queue", body = QueueView),
        (status = 404, description = "Not one who works the queue", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn queue(
    State(state): State<AppState>,
    Signed(actor): Signed,
) -> Result<Json<QueueView>, ApiError> {
    let q = state.alliance.safeguarding_queue(&actor).await?;
    Ok(Json(QueueView {
        awaiting: q.awaiting.iter().map(summary_view).collect(),
        open: q.open.iter().map(summary_view).collect(),
        recent: q.recent.iter().map(summary_view).collect(),
        allegations: q.allegations.iter().map(summary_view).collect(),
        may_act: q.may_act,
    }))
}

/// How many items await the caller on the safeguarding queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct BadgeView {
    pub count: usize,
}

/// The caller's safeguarding badge: unacknowledged concerns for the DSL and deputies, and
/// unacknowledged allegations the caller handles; zero for everyone else.
#[utoipa::path(
    get,
    path = "/api/v1/safeguarding/badge",
    tag = "safeguarding",
    responses((status = 200, description = "The count", body = BadgeView)),
    security(("bearer" = []))
)]
pub async fn badge(
    State(state): State<AppState>,
    Signed(actor): Signed,
) -> Result<Json<BadgeView>, ApiError> {
    let count = state.alliance.safeguarding_badge(&actor.user).await?;
    Ok(Json(BadgeView { count }))
}

// ----- acting on a submitted concern -----

/// The DSL (or a deputy; an allegation's handler) acknowledges: the urgent path stops
/// escalating and the acknowledgement tasks close. The service lead reads a concern but may
/// not acknowledge it (403).
#[utoipa::path(
    post,
    path = "/api/v1/concerns/{id}/acknowledge",
    tag = "safeguarding",
    params(("id" = String, Path, description = "The concern's id")),
    responses(
        (status = 204, description = "Acknowledged"),
        (status = 403, description = "Not the DSL or a deputy (or the allegation's handler), or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such concern, or none the caller may see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not submitted, or acknowledged already", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn acknowledge(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .alliance
        .acknowledge_concern(&actor, concern_id(&id)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A step to record. Each kind needs its own parts (each missing one is named); the rest are
/// left empty.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepBody {
    /// `emergency-call` (the raiser or the DSL), `school-dsl-told`, `statutory-report` (the
    /// author, for a duty that falls on them), `designated-officer-referral` (an allegation's
    /// handler); and the DSL's work (the DSL or a deputy; an allegation's handler):
    /// `information-gathered`, `decided`, `referred`, `chased`, `outcome`, `closed`,
    /// `reopened`, `information-shared`, `shared-with-team`.
    pub kind: String,
    /// Whom you called, when, what they said (a call, the school's DSL, a referral to the
    /// designated officer); what was learnt (information gathered); the reasons (a decision);
    /// the feedback and outcome; the summary (closing); the new information (re-opening);
    /// what was shared.
    #[serde(default)]
    pub note: String,
    /// The reference you were given (a statutory report, a referral).
    #[serde(default)]
    pub reference: String,
    /// A statutory report's duty code (from `duties`).
    #[serde(default)]
    pub duty: String,
    /// A decision: `no-further-action`, `monitor` (with `review_on`), `early-help`,
    /// `childrens-social-care`, `police`, `other-agency` (with `agency_name`).
    #[serde(default)]
    pub decision: String,
    /// Monitor: the review date, `DD/MM/YYYY` or `YYYY-MM-DD` (not in the past).
    #[serde(default)]
    pub review_on: String,
    /// A referral: `childrens-social-care`, `police`, `early-help`, `channel`, `other` (with
    /// `agency_name`).
    #[serde(default)]
    pub agency: String,
    /// The agency's name (another agency, or the team within one).
    #[serde(default)]
    pub agency_name: String,
    /// A referral: who was spoken to.
    #[serde(default)]
    pub spoken_to: String,
    /// When it happened (needed for a referral; empty for now): `DD/MM/YYYY` or
    /// `YYYY-MM-DD`, with `time` as `HH:MM`, Europe/London; never in the future.
    #[serde(default)]
    pub on: String,
    #[serde(default)]
    pub time: String,
    /// Information shared: with whom (person and organisation).
    #[serde(default)]
    pub with_whom: String,
    /// Information shared: the lawful basis: `public-task`, `legal-obligation`,
    /// `vital-interests`, `legitimate-interests`, `consent`.
    #[serde(default)]
    pub basis: String,
    /// Information shared: `sought-given`, `sought-refused`, `not-sought`.
    #[serde(default)]
    pub consent: String,
    /// Why consent was, or was not, sought.
    #[serde(default)]
    pub consent_reason: String,
    /// Information shared with one of the child's carers: the carer's id (from `carers`). The
    /// outbound rule is asked, and a refusal is named under `carer` with its reason.
    #[serde(default)]
    pub carer: String,
    /// What the sharing with a carer reveals: where the child is and when.
    #[serde(default)]
    pub reveals_location: bool,
    /// What the sharing with a carer reveals: the child's school.
    #[serde(default)]
    pub reveals_school: bool,
    /// Shared with the team: the therapist's user id (from `team`).
    #[serde(default)]
    pub shared_with: String,
}

impl From<StepBody> for StepDetail {
    fn from(b: StepBody) -> Self {
        StepDetail {
            note: b.note,
            reference: b.reference,
            duty: b.duty,
            decision: b.decision,
            review_on: b.review_on,
            agency: b.agency,
            agency_name: b.agency_name,
            spoken_to: b.spoken_to,
            on: b.on,
            time: b.time,
            with_whom: b.with_whom,
            basis: b.basis,
            consent: b.consent,
            consent_reason: b.consent_reason,
            carer: b.carer,
            reveals_location: b.reveals_location,
            reveals_school: b.reveals_school,
            shared_with: b.shared_with,
        }
    }
}

/// Records a call to the emergency duty team or 999, the school's DSL being told, a
/// statutory report with its reference, an allegation's referral to the designated officer,
/// or a step of the DSL's work: information gathered, a decision with its reasons, a
/// referral, feedback chased, the outcome, closing with a summary, re-opening with the new
/// information, information shared outside the service (with whom, on what basis, whether
/// consent was sought and why), and what the DSL shares with a therapist on the case team.
/// Steps come in any order the rules allow (an urgent case may be referred to the police
/// before anything else); a step of the DSL's work on a concern nobody acknowledged
/// acknowledges it first. Steps are added, never changed; the concern itself stays as sealed.
#[utoipa::path(
    post,
    path = "/api/v1/concerns/{id}/steps",
    tag = "safeguarding",
    params(("id" = String, Path, description = "The concern's id")),
    request_body = StepBody,
    responses(
        (status = 204, description = "Recorded"),
        (status = 403, description = "Not one who may record that step here, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such concern, or none the caller may see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not submitted yet, or not in this order: `detail` says why (\"Record a decision before closing\", \"This is closed: re-open it with the new information first\", \"Record the referral first\", \"Only a closed concern is re-opened\")", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is missing or not valid, no such duty falls on the caller, the carer may not receive it (`carer`, with the reason), or the therapist is not on the child's case team (`shared_with`); each is named", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn record_step(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<StepBody>,
) -> Result<StatusCode, ApiError> {
    let id = concern_id(&id)?;
    let kind = StepKind::parse(body.kind.trim()).map_err(|m| unprocessable("kind", m))?;
    let detail = StepDetail::from(body);
    state
        .alliance
        .record_concern_step(&actor, id, kind, &detail)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An addendum: why, and what.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddendumBody {
    /// Why (a correction, something learnt later).
    pub reason: String,
    pub text: String,
}

/// Adds an addendum (the author, or the DSL): the original stands, the addendum and its
/// reason are kept beside it.
#[utoipa::path(
    post,
    path = "/api/v1/concerns/{id}/addenda",
    tag = "safeguarding",
    params(("id" = String, Path, description = "The concern's id")),
    request_body = AddendumBody,
    responses(
        (status = 204, description = "Added"),
        (status = 403, description = "Neither its author nor the DSL, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such concern, or none the caller may see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not submitted yet (change the draft instead)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason or no text (each is named)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn add_addendum(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AddendumBody>,
) -> Result<StatusCode, ApiError> {
    state
        .alliance
        .add_concern_addendum(&actor, concern_id(&id)?, &body.reason, &body.text)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A child's record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChildBody {
    pub child_id: String,
}

fn child_field(field: &str) -> String {
    match field {
        "child" => "child_id".to_owned(),
        other => other.to_owned(),
    }
}

/// The DSL (or a deputy) matches a concern raised by look-up to the child's record.
#[utoipa::path(
    post,
    path = "/api/v1/concerns/{id}/match",
    tag = "safeguarding",
    params(("id" = String, Path, description = "The concern's id")),
    request_body = ChildBody,
    responses(
        (status = 204, description = "Matched"),
        (status = 403, description = "Not the DSL or a deputy, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such concern or child, or none the caller may see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not submitted, or matched already", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`child_id` is not a child's id", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn match_child(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ChildBody>,
) -> Result<StatusCode, ApiError> {
    let id = concern_id(&id)?;
    let child = body_child("child_id", &body.child_id)?;
    state
        .alliance
        .match_concern(&actor, id, child)
        .await
        .map_err(|e| renamed(e, child_field))?;
    Ok(StatusCode::NO_CONTENT)
}

/// The DSL (or a deputy) links another child to a concern: each child's readers see only
/// their own child's identity.
#[utoipa::path(
    post,
    path = "/api/v1/concerns/{id}/links",
    tag = "safeguarding",
    params(("id" = String, Path, description = "The concern's id")),
    request_body = ChildBody,
    responses(
        (status = 204, description = "Linked"),
        (status = 403, description = "Not the DSL or a deputy, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such concern or child, or none the caller may see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not submitted yet", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The concern's own child, linked already, or not a child's id (`child_id`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn link_child(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ChildBody>,
) -> Result<StatusCode, ApiError> {
    let id = concern_id(&id)?;
    let child = body_child("child_id", &body.child_id)?;
    state
        .alliance
        .link_concern_child(&actor, id, child)
        .await
        .map_err(|e| renamed(e, child_field))?;
    Ok(StatusCode::NO_CONTENT)
}

// ----- the rota, the contacts, the timing -----

/// One weekly stretch of the rota.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RotaSlotView {
    /// The person's user id: active, and holding the place's role.
    pub user: String,
    /// Their name (read only).
    #[serde(default)]
    pub name: String,
    /// `dsl` or `deputy`.
    pub position: String,
    /// 1 (Monday) to 7 (Sunday).
    pub weekday: i8,
    /// `HH:MM`, Europe/London. An end at or before the start runs past midnight; 00:00 to
    /// 00:00 is the whole day.
    pub starts: String,
    pub ends: String,
}

/// Someone away from the rota on these dates (inclusive).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RotaAbsenceView {
    pub user: String,
    /// Read only.
    #[serde(default)]
    pub name: String,
    /// `YYYY-MM-DD`.
    pub from: String,
    pub to: String,
}

/// Someone on duty now.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OnDutyView {
    pub user: String,
    pub name: String,
    /// `dsl` or `deputy`.
    pub position: String,
}

/// Someone who may be put on the rota.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RotaCandidateView {
    pub user: String,
    pub name: String,
    /// The places they may hold: `dsl`, `deputy`.
    pub positions: Vec<String>,
}

/// The on-duty rota: who is the DSL on duty, and the deputies, for each hour of the week.
/// Send it back whole to change it; the read-only parts are ignored.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RotaView {
    #[serde(default)]
    pub slots: Vec<RotaSlotView>,
    #[serde(default)]
    pub absences: Vec<RotaAbsenceView>,
    /// The rota's version, for updates; absent while there is none.
    #[serde(default)]
    pub version: Option<i64>,
    /// Read only.
    #[serde(default)]
    pub on_duty_now: Vec<OnDutyView>,
    /// Read only.
    #[serde(default)]
    pub candidates: Vec<RotaCandidateView>,
    /// Read only: the caller may change the rota.
    #[serde(default)]
    pub may_edit: bool,
}

fn rota_view(p: &RotaPage) -> RotaView {
    let name = |u: &UserId| p.names.get(u).cloned().unwrap_or_default();
    RotaView {
        slots: p
            .rota
            .slots
            .iter()
            .map(|s| RotaSlotView {
                user: s.user.to_string(),
                name: name(&s.user),
                position: s.position.code().to_owned(),
                weekday: s.weekday,
                starts: s.starts.clone(),
                ends: s.ends.clone(),
            })
            .collect(),
        absences: p
            .rota
            .absences
            .iter()
            .map(|a| RotaAbsenceView {
                user: a.user.to_string(),
                name: name(&a.user),
                from: a.from.to_string(),
                to: a.to.to_string(),
            })
            .collect(),
        version: p.version.map(|v| v.get()),
        on_duty_now: p
            .on_duty_now
            .iter()
            .map(|(u, position, name)| OnDutyView {
                user: u.to_string(),
                name: name.clone(),
                position: position.code().to_owned(),
            })
            .collect(),
        candidates: p
            .candidates
            .iter()
            .map(|(u, name, positions)| RotaCandidateView {
                user: u.to_string(),
                name: name.clone(),
                positions: positions.iter().map(|p| p.code().to_owned()).collect(),
            })
            .collect(),
        may_edit: p.may_edit,
    }
}

fn rota_of(body: RotaView) -> Result<Rota, ApiError> {
    let mut errors = Vec::new();
    let mut slots = Vec::new();
    for (i, s) in body.slots.into_iter().enumerate() {
        let user = UserId::parse(&s.user)
            .map_err(|m| errors.push(FieldError::new(format!("slots.{i}.user"), m)))
            .ok();
        let position = RotaPosition::parse(&s.position)
            .map_err(|m| errors.push(FieldError::new(format!("slots.{i}.position"), m)))
            .ok();
        if let (Some(user), Some(position)) = (user, position) {
            slots.push(RotaSlot {
                user,
                position,
                weekday: s.weekday,
                starts: s.starts,
                ends: s.ends,
            });
        }
    }
    let mut absences = Vec::new();
    for (i, a) in body.absences.into_iter().enumerate() {
        let user = UserId::parse(&a.user)
            .map_err(|m| errors.push(FieldError::new(format!("absences.{i}.user"), m)))
            .ok();
        let from = alliance_core::error::parse_date(&a.from)
            .map_err(|m| errors.push(FieldError::new(format!("absences.{i}.from"), m)))
            .ok();
        let to = alliance_core::error::parse_date(&a.to)
            .map_err(|m| errors.push(FieldError::new(format!("absences.{i}.to"), m)))
            .ok();
        if let (Some(user), Some(from), Some(to)) = (user, from, to) {
            absences.push(RotaAbsence { user, from, to });
        }
    }
    if errors.is_empty() {
        Ok(Rota { slots, absences })
    } else {
        Err(Invalid { errors }.into())
    }
}

fn optional_version(raw: Option<i64>) -> Result<Option<Version>, ApiError> {
    raw.map(version).transpose()
}

/// The on-duty rota, who is on duty now, and who may be put on it (everyone signed in may
/// read it: a raiser needs to know who is on duty).
#[utoipa::path(
    get,
    path = "/api/v1/safeguarding/rota",
    tag = "safeguarding",
    responses((status = 200, description = "The rota", body = RotaView)),
    security(("bearer" = []))
)]
pub async fn get_rota(
    State(state): State<AppState>,
    Signed(actor): Signed,
) -> Result<Json<RotaView>, ApiError> {
    let page = state.alliance.safeguarding_rota(&actor).await?;
    Ok(Json(rota_view(&page)))
}

/// Changes the rota (administrators, the service lead, the DSL): everyone on it must be
/// active and hold the place's role. Send the version you read, or none while there is no
/// rota; a stale one is refused with 409.
#[utoipa::path(
    put,
    path = "/api/v1/safeguarding/rota",
    tag = "safeguarding",
    request_body = RotaView,
    responses(
        (status = 200, description = "Changed", body = RotaView),
        (status = 403, description = "Not an administrator, the service lead or the DSL, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed by someone else since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A row is not valid (each is named)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn set_rota(
    State(state): State<AppState>,
    Signed(actor): Signed,
    ApiJson(body): ApiJson<RotaView>,
) -> Result<Json<RotaView>, ApiError> {
    let expected = optional_version(body.version)?;
    let rota = rota_of(body)?;
    state
        .alliance
        .set_safeguarding_rota(&actor, rota, expected)
        .await?;
    let page = state.alliance.safeguarding_rota(&actor).await?;
    Ok(Json(rota_view(&page)))
}

/// A site's own contacts.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteContactsView {
    /// Where the site is a school: its own DSL (who has no account here).
    #[serde(default)]
    pub school_dsl: ContactView,
    /// Its local authority's emergency duty team, when it differs from the service's.
    #[serde(default)]
    pub emergency_duty_team: ContactView,
}

/// The out-of-hours contacts.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactsView {
    /// The local authority's emergency duty team.
    #[serde(default)]
    pub emergency_duty_team: ContactView,
    /// The local authority designated officer (allegations against staff).
    #[serde(default)]
    pub designated_officer: ContactView,
    #[serde(default)]
    pub out_of_hours_note: String,
    /// By site id.
    #[serde(default)]
    pub sites: BTreeMap<String, SiteContactsView>,
    /// The contacts' version, for updates; absent while there are none.
    #[serde(default)]
    pub version: Option<i64>,
}

fn contacts_view(c: &Contacts, version: Option<Version>) -> ContactsView {
    ContactsView {
        emergency_duty_team: (&c.emergency_duty_team).into(),
        designated_officer: (&c.designated_officer).into(),
        out_of_hours_note: c.out_of_hours_note.clone(),
        sites: c
            .sites
            .iter()
            .map(|(site, s)| {
                (
                    site.clone(),
                    SiteContactsView {
                        school_dsl: (&s.school_dsl).into(),
                        emergency_duty_team: (&s.emergency_duty_team).into(),
                    },
                )
            })
            .collect(),
        version: version.map(|v| v.get()),
    }
}

/// The out-of-hours contacts: the emergency duty team, the designated officer, each site's
/// own (everyone signed in may read them).
#[utoipa::path(
    get,
    path = "/api/v1/safeguarding/contacts",
    tag = "safeguarding",
    responses((status = 200, description = "The contacts", body = ContactsView)),
    security(("bearer" = []))
)]
pub async fn get_contacts(
    State(state): State<AppState>,
    Signed(_actor): Signed,
) -> Result<Json<ContactsView>, ApiError> {
    let (contacts, version) = state.alliance.safeguarding_contacts().await?;
    Ok(Json(contacts_view(&contacts, version)))
}

/// Changes the out-of-hours contacts (administrators and the service lead). Send the version
/// you read, or none while there are none; a stale one is refused with 409.
#[utoipa::path(
    put,
    path = "/api/v1/safeguarding/contacts",
    tag = "safeguarding",
    request_body = ContactsView,
    responses(
        (status = 200, description = "Changed", body = ContactsView),
        (status = 403, description = "Not an administrator or the service lead, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed by someone else since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid, or a site is not the service's (each is named)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn set_contacts(
    State(state): State<AppState>,
    Signed(actor): Signed,
    ApiJson(body): ApiJson<ContactsView>,
) -> Result<Json<ContactsView>, ApiError> {
    let expected = optional_version(body.version)?;
    let contacts = Contacts {
        emergency_duty_team: body.emergency_duty_team.into(),
        designated_officer: body.designated_officer.into(),
        out_of_hours_note: body.out_of_hours_note,
        sites: body
            .sites
            .into_iter()
            .map(|(site, s)| {
                (
                    site,
                    SiteContacts {
                        school_dsl: s.school_dsl.into(),
                        emergency_duty_team: s.emergency_duty_team.into(),
                    },
                )
            })
            .collect(),
    };
    state
        .alliance
        .set_safeguarding_contacts(&actor, &contacts, expected)
        .await?;
    let (contacts, version) = state.alliance.safeguarding_contacts().await?;
    Ok(Json(contacts_view(&contacts, version)))
}

/// The service's safeguarding timing: service policy, not statute.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimingView {
    /// Urgent: the DSL on duty acknowledges within this many minutes (5 to 240; 30 by
    /// default), else escalation and the raiser is told to call.
    pub urgent_acknowledge_minutes: u32,
    /// Non-urgent: acknowledged by the end of the working day (0, the default) or this many
    /// working days after (at most 10).
    pub acknowledge_working_days: u32,
    /// Non-urgent: decided within this many working days (1 by default).
    pub decide_working_days: u32,
    /// Allegations: referred to the designated officer within this many working days (1).
    pub allegation_refer_working_days: u32,
    /// After a referral: its feedback is chased when this many working days pass without it
    /// (at most 10; 1 by default, the local authority deciding within one working day). Left
    /// out: the default.
    #[serde(default = "default_referral_feedback_working_days")]
    pub referral_feedback_working_days: u32,
    /// The safeguarding file goes to a new school within this many school days (1 to 20; 5 by
    /// default). Left out: the default.
    #[serde(default = "default_transfer_school_days")]
    pub transfer_school_days: u32,
    /// The timing's version, for updates; absent while the defaults stand.
    #[serde(default)]
    pub version: Option<i64>,
}

fn default_referral_feedback_working_days() -> u32 {
    Timing::default().referral_feedback_working_days
}

fn default_transfer_school_days() -> u32 {
    Timing::default().transfer_school_days
}

fn timing_view(t: &Timing, version: Option<Version>) -> TimingView {
    TimingView {
        urgent_acknowledge_minutes: t.urgent_acknowledge_minutes,
        acknowledge_working_days: t.acknowledge_working_days,
        decide_working_days: t.decide_working_days,
        allegation_refer_working_days: t.allegation_refer_working_days,
        referral_feedback_working_days: t.referral_feedback_working_days,
        transfer_school_days: t.transfer_school_days,
        version: version.map(|v| v.get()),
    }
}

/// The service's safeguarding timing (everyone signed in may read it).
#[utoipa::path(
    get,
    path = "/api/v1/safeguarding/timing",
    tag = "safeguarding",
    responses((status = 200, description = "The timing", body = TimingView)),
    security(("bearer" = []))
)]
pub async fn get_timing(
    State(state): State<AppState>,
    Signed(_actor): Signed,
) -> Result<Json<TimingView>, ApiError> {
    let (timing, version) = state.alliance.safeguarding_timing().await?;
    Ok(Json(timing_view(&timing, version)))
}

/// Changes the timing (administrators and the service lead). Send the version you read, or
/// none while the defaults stand; a stale one is refused with 409.
#[utoipa::path(
    put,
    path = "/api/v1/safeguarding/timing",
    tag = "safeguarding",
    request_body = TimingView,
    responses(
        (status = 200, description = "Changed", body = TimingView),
        (status = 403, description = "Not an administrator or the service lead, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed by someone else since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A figure is out of bounds (each is named)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn set_timing(
    State(state): State<AppState>,
    Signed(actor): Signed,
    ApiJson(body): ApiJson<TimingView>,
) -> Result<Json<TimingView>, ApiError> {
    let expected = optional_version(body.version)?;
    let timing = Timing {
        urgent_acknowledge_minutes: body.urgent_acknowledge_minutes,
        acknowledge_working_days: body.acknowledge_working_days,
        decide_working_days: body.decide_working_days,
        allegation_refer_working_days: body.allegation_refer_working_days,
        referral_feedback_working_days: body.referral_feedback_working_days,
        transfer_school_days: body.transfer_school_days,
    };
    state
        .alliance
        .set_safeguarding_timing(&actor, timing, expected)
        .await?;
    let (timing, version) = state.alliance.safeguarding_timing().await?;
    Ok(Json(timing_view(&timing, version)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_safeguarding_route_is_documented() {
        let doc = super::super::openapi();
        for (path, methods) in [
            ("/api/v1/concerns", &["post"][..]),
            ("/api/v1/allegations", &["post"][..]),
            ("/api/v1/concerns/{id}", &["get", "put", "delete"][..]),
            ("/api/v1/concerns/{id}/submit", &["post"][..]),
            ("/api/v1/concerns/{id}/acknowledge", &["post"][..]),
            ("/api/v1/concerns/{id}/steps", &["post"][..]),
            ("/api/v1/concerns/{id}/addenda", &["post"][..]),
            ("/api/v1/concerns/{id}/match", &["post"][..]),
            ("/api/v1/concerns/{id}/links", &["post"][..]),
            ("/api/v1/me/concerns", &["get"][..]),
            ("/api/v1/children/{id}/concerns", &["get"][..]),
            ("/api/v1/safeguarding/queue", &["get"][..]),
            ("/api/v1/safeguarding/badge", &["get"][..]),
            ("/api/v1/safeguarding/rota", &["get", "put"][..]),
            ("/api/v1/safeguarding/contacts", &["get", "put"][..]),
            ("/api/v1/safeguarding/timing", &["get", "put"][..]),
            ("/api/v1/me/concern-shares", &["get"][..]),
            ("/api/v1/children/{id}/concern-shares", &["get"][..]),
        ] {
            let item = doc.paths.paths.get(path);
            assert!(item.is_some(), "{path} is missing");
            for method in methods {
                let operation = item.and_then(|i| match *method {
                    "get" => i.get.as_ref(),
                    "put" => i.put.as_ref(),
                    "delete" => i.delete.as_ref(),
                    _ => i.post.as_ref(),
                });
                assert!(operation.is_some(), "{method} {path} is missing");
            }
        }
    }

    #[test]
    fn the_bodies_refuse_unknown_fields() {
        let raise: Result<RaiseBody, _> =
            serde_json::from_str(r#"{"lookup": {"name": "A B", "date_of_birth": "2015-01-01"}}"#);
        assert!(raise.is_ok_and(|r| r.lookup.is_some() && r.child_id.is_none()));
        let stray: Result<RaiseBody, _> = serde_json::from_str(r#"{"child": "x"}"#);
        assert!(stray.is_err());
        let draft: Result<DraftBody, _> =
            serde_json::from_str(r#"{"content": {"child_words": "x"}}"#);
        assert!(draft.is_err(), "a draft is saved against the version read");
        let draft: Result<DraftBody, _> =
            serde_json::from_str(r#"{"content": {"words": "x"}, "version": 1}"#);
        assert!(draft.is_err(), "an unknown part is refused");
    }

    #[test]
    fn a_step_body_carries_every_part_of_the_dsl_s_work() {
        let body: StepBody = serde_json::from_str(
            r#"{"kind": "information-shared", "note": "n", "reference": "r", "duty": "d",
                "decision": "monitor", "review_on": "2027-01-15", "agency": "police",
                "agency_name": "a", "spoken_to": "s", "on": "2026-12-01", "time": "10:00",
                "with_whom": "w", "basis": "public-task", "consent": "not-sought",
                "consent_reason": "c", "carer": "x", "reveals_location": true,
                "reveals_school": true, "shared_with": "u"}"#,
        )
        .unwrap();
        let detail = StepDetail::from(body);
        assert_eq!(detail.decision, "monitor");
        assert_eq!(detail.review_on, "2027-01-15");
        assert_eq!(detail.consent_reason, "c");
        assert!(detail.reveals_location && detail.reveals_school);
        assert_eq!(detail.shared_with, "u");
        let stray: Result<StepBody, _> = serde_json::from_str(r#"{"kind": "x", "why": "y"}"#);
        assert!(stray.is_err());
    }

    #[test]
    fn the_timing_s_new_figures_default_when_left_out() {
        let body: TimingView = serde_json::from_str(
            r#"{"urgent_acknowledge_minutes": 30, "acknowledge_working_days": 0,
                "decide_working_days": 1, "allegation_refer_working_days": 1}"#,
        )
        .unwrap();
        assert_eq!(body.referral_feedback_working_days, 1);
        assert_eq!(body.transfer_school_days, 5);
    }

    #[test]
    fn the_service_s_field_names_become_the_body_s() {
        assert_eq!(content_field("child_words"), "content.child_words");
        assert_eq!(content_field("date_of_birth"), "lookup.date_of_birth");
        assert_eq!(content_field("version"), "version");
        let err = renamed(AppError::Invalid(Invalid::field("subject", "no")), |f| {
            format!("x.{f}")
        });
        assert_eq!(err.0.errors[0].field, "x.subject");
    }
}
