//! Subject access requests (policy section 5): logged by an administrator for a child, with
//! the requester's identity and authority checked; the due date (one calendar month from the
//! day of receipt, paused while identity or clarification is awaited, extendable by two
//! months, moved off weekends and bank holidays); a named reviewer's time-limited, audited
//! read of the child's whole record for the request, process notes included, with a decision
//! per item; the DSL's review of safeguarding material; and the bundle (PDF and JSON),
//! released only to the requester through the outbound rule. Administrators see the request,
//! never the content; the service lead reads the file and releases; anyone else is answered
//! 404. Who may reach what is the service's (`alliance_service::subject_access`).

use super::directory::{not_found, version};
use crate::AppState;
use crate::auth::Signed;
use crate::extract::ApiJson;
use crate::pdf::{attachment, off_the_workers};
use crate::problem::{ApiError, Problem};
use alliance_core::children::ChildId;
use alliance_core::subject_access::{ChecksInput, DecisionInput, Due, OpinionInput, RequestInput};
use alliance_core::uk;
use alliance_service::subject_access::{
    Bundle, FileMode, SarActions, SarFile, SarSummary, SarView,
};
use alliance_service::{AppError, StoreError};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// Registers this area's routes (each with `routes!`, so each is documented).
pub(crate) fn register(router: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    router
        .routes(routes!(list_requests))
        .routes(routes!(log_request))
        .routes(routes!(get_request))
        .routes(routes!(record_checks))
        .routes(routes!(pause))
        .routes(routes!(resume))
        .routes(routes!(extend))
        .routes(routes!(name_reviewer))
        .routes(routes!(close))
        .routes(routes!(get_file))
        .routes(routes!(decide_item))
        .routes(routes!(record_opinion))
        .routes(routes!(finish_review))
        .routes(routes!(finish_dsl_review))
        .routes(routes!(release))
        .routes(routes!(get_bundle))
        .routes(routes!(bundle_pdf))
        .routes(routes!(get_settings, put_settings))
}

fn path_request(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| not_found())
}

fn path_child(raw: &str) -> Result<ChildId, ApiError> {
    ChildId::parse(raw).map_err(|_| not_found())
}

// ----- views -----

/// When the answer is due.
#[derive(Debug, Serialize, ToSchema)]
pub struct DueView {
    /// `YYYY-MM-DD`; absent while the clock is paused.
    pub date: Option<String>,
    /// The corresponding day one month (three when extended) after receipt.
    pub month_end: Option<String>,
    pub paused_days: i64,
    pub extended: bool,
    /// While the clock is paused: since when, and what is awaited (`identity`,
    /// `clarification`).
    pub paused_since: Option<String>,
    pub paused_for: Option<String>,
}

fn due_view(due: &Due) -> DueView {
    match due {
        Due::On(d) => DueView {
            date: Some(d.date.to_string()),
            month_end: Some(d.month_end.to_string()),
            paused_days: d.paused_days,
            extended: d.extended,
            paused_since: None,
            paused_for: None,
        },
        Due::Paused { since, reason } => DueView {
            date: None,
            month_end: None,
            paused_days: 0,
            extended: false,
            paused_since: Some(since.to_string()),
            paused_for: Some(reason.code().to_owned()),
        },
    }
}

/// A request in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct SarSummaryView {
    pub id: String,
    /// `SAR-…`: names no one.
    pub reference: String,
    pub child_id: String,
    pub child_name: String,
    /// `young-person`, `parental-responsibility` or `representative`.
    pub requester_kind: String,
    pub requester: String,
    pub received_on: String,
    /// `logged`, `paused`, `checked`, `in-review`, `dsl-review` (shown as `in-review` to those
    /// who may not know of safeguarding material), `ready`, `released`, `refused`,
    /// `withdrawn`.
    pub status: String,
    pub due: DueView,
    pub reviewer: Option<String>,
    /// RFC 3339, UTC: when the reviewer's window closes.
    pub reviewer_until: Option<String>,
}

fn summary_view(s: &SarSummary) -> SarSummaryView {
    SarSummaryView {
        id: s.id.to_string(),
        reference: s.reference.clone(),
        child_id: s.child.to_string(),
        child_name: s.child_name.clone(),
        requester_kind: s.requester_kind.code().to_owned(),
        requester: s.requester.clone(),
        received_on: s.received_on.to_string(),
        status: s.status.code().to_owned(),
        due: due_view(&s.due),
        reviewer: s.reviewer.clone(),
        reviewer_until: s.reviewer_until.map(|t| t.to_string()),
    }
}

/// Requests the caller may see.
#[derive(Debug, Serialize, ToSchema)]
pub struct SarListView {
    pub items: Vec<SarSummaryView>,
}

/// A check: how, when, by whom.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckApiView {
    pub how: String,
    pub on: String,
    pub by: String,
}

/// What the caller may do with the request now.
#[derive(Debug, Serialize, ToSchema)]
pub struct SarActionsView {
    pub record_checks: bool,
    pub pause: bool,
    pub resume: bool,
    pub extend: bool,
    pub name_reviewer: bool,
    pub open_file: bool,
    pub record_opinion: bool,
    pub finish_review: bool,
    pub finish_dsl_review: bool,
    pub release: bool,
    pub download: bool,
    pub close: bool,
}

fn actions_view(a: &SarActions) -> SarActionsView {
    SarActionsView {
        record_checks: a.record_checks,
        pause: a.pause,
        resume: a.resume,
        extend: a.extend,
        name_reviewer: a.name_reviewer,
        open_file: a.open_file,
        record_opinion: a.record_opinion,
        finish_review: a.finish_review,
        finish_dsl_review: a.finish_dsl_review,
        release: a.release,
        download: a.download,
        close: a.close,
    }
}

/// A pause of the clock.
#[derive(Debug, Serialize, ToSchema)]
pub struct PauseApiView {
    pub reason: String,
    pub started_on: String,
    pub ended_on: Option<String>,
}

/// A request as the caller may see it: its facts, never the record's content.
#[derive(Debug, Serialize, ToSchema)]
pub struct SarApiView {
    #[serde(flatten)]
    pub summary: SarSummaryView,
    pub carer_id: Option<String>,
    pub representative_name: Option<String>,
    pub representative_organisation: Option<String>,
    pub authority_seen: Option<String>,
    /// `young-person` or `parent`.
    pub acting_for: Option<String>,
    pub how_received: String,
    pub asked_for: Option<String>,
    pub identity: Option<CheckApiView>,
    pub authority: Option<CheckApiView>,
    pub competence: Option<String>,
    pub wishes: Option<String>,
    pub competence_needed: bool,
    pub pauses: Vec<PauseApiView>,
    pub extended_on: Option<String>,
    pub extension_told_on: Option<String>,
    pub extension_reason: Option<String>,
    /// The serious-harm opinion, for the service lead, the reviewer and the DSL.
    pub opinion: Option<String>,
    pub closing_reason: Option<String>,
    pub version: i64,
    pub may: SarActionsView,
}

fn request_view(v: &SarView) -> SarApiView {
    let check = |c: &alliance_service::subject_access::CheckView| CheckApiView {
        how: c.how.clone(),
        on: c.on.to_string(),
        by: c.by.clone(),
    };
    SarApiView {
        summary: summary_view(&v.summary),
        carer_id: v.carer.map(|c| c.to_string()),
        representative_name: v.representative.as_ref().map(|r| r.name.clone()),
        representative_organisation: v
            .representative
            .as_ref()
            .and_then(|r| r.organisation.clone()),
        authority_seen: v.representative.as_ref().map(|r| r.authority_seen.clone()),
        acting_for: v
            .representative
            .as_ref()
            .map(|r| r.acting_for.code().to_owned()),
        how_received: v.how_received.clone(),
        asked_for: v.asked_for.clone(),
        identity: v.identity.as_ref().map(check),
        authority: v.authority.as_ref().map(check),
        competence: v.competence.as_ref().map(|c| c.assessment.clone()),
        wishes: v.competence.as_ref().map(|c| c.wishes.clone()),
        competence_needed: v.competence_needed,
        pauses: v
            .pauses
            .iter()
            .map(|p| PauseApiView {
                reason: p.reason.code().to_owned(),
                started_on: p.started_on.to_string(),
                ended_on: p.ended_on.map(|d| d.to_string()),
            })
            .collect(),
        extended_on: v.extended_on.map(|d| d.to_string()),
        extension_told_on: v.extension_told_on.map(|d| d.to_string()),
        extension_reason: v.extension_reason.clone(),
        opinion: v
            .opinion
            .as_ref()
            .map(|o| format!("{} on {}: {}", o.from, uk::date(o.given_on), o.opinion)),
        closing_reason: v.closing_reason.clone(),
        version: v.version.get(),
        may: actions_view(&v.may),
    }
}

/// One labelled part of an item.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartView {
    pub label: String,
    pub text: String,
}

/// An item's decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionApiView {
    /// `disclose`, `redact` or `withhold`.
    pub decision: String,
    pub reason: Option<String>,
    pub words: Option<String>,
    /// For a redaction: the passages removed (the reviewer and the DSL only).
    pub passages: Vec<String>,
    pub by: String,
    pub at: String,
    /// The item changed after it was decided: decide it again.
    pub stale: bool,
}

/// One item of the file.
#[derive(Debug, Serialize, ToSchema)]
pub struct FileItemView {
    /// `identity`, `carer`, `case`, `agreement`, `consent-entry`, `checklist-item`,
    /// `session-record`, `contact-log`, `process-note`, `supervision`, `concern`,
    /// `concern-step`, `concern-addendum`.
    pub kind: String,
    pub id: String,
    pub title: String,
    pub when: Option<String>,
    /// The reviewer and the DSL: as recorded. The service lead: as it would be released.
    pub parts: Vec<PartView>,
    pub decision: Option<DecisionApiView>,
    pub may_decide: bool,
}

/// A request's file, as the caller reads it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SarFileView {
    /// `reviewer`, `dsl` or `service-lead`.
    pub mode: String,
    pub request: SarApiView,
    pub items: Vec<FileItemView>,
    /// Record classes left out because their key was destroyed under the retention policy.
    pub unreadable: Vec<String>,
    pub undecided: usize,
}

fn file_view(f: &SarFile) -> SarFileView {
    let service_lead = f.mode == FileMode::ServiceLead;
    SarFileView {
        mode: match f.mode {
            FileMode::Reviewer => "reviewer",
            FileMode::Dsl => "dsl",
            FileMode::ServiceLead => "service-lead",
        }
        .to_owned(),
        request: request_view(&f.view),
        items: f
            .items
            .iter()
            .map(|i| FileItemView {
                kind: i.kind.code().to_owned(),
                id: i.id.clone(),
                title: i.title.clone(),
                when: i.when.clone(),
                parts: i
                    .parts
                    .iter()
                    .map(|(label, text)| PartView {
                        label: label.clone(),
                        text: text.clone(),
                    })
                    .collect(),
                decision: i.decision.as_ref().map(|d| DecisionApiView {
                    decision: d.decision.code().to_owned(),
                    reason: d.reason.map(|r| r.code().to_owned()),
                    words: d.words.clone(),
                    // The passages quote what is withheld: never to the service lead.
                    passages: if service_lead {
                        Vec::new()
                    } else {
                        d.passages.clone()
                    },
                    by: d.by.clone(),
                    at: d.at.to_string(),
                    stale: d.stale,
                }),
                may_decide: i.may_decide,
            })
            .collect(),
        unreadable: f.unreadable.iter().map(|c| c.code().to_owned()).collect(),
        undecided: f.undecided,
    }
}

/// A change made against the version read.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionBody {
    pub version: i64,
}

/// The id of what was made.
#[derive(Debug, Serialize, ToSchema)]
pub struct SarCreatedView {
    pub id: String,
}

const NOT_FOUND: &str = "No such request, or none the caller may know of";

// ----- the list and logging -----

/// The requests the caller may see: every request for administrators and the service lead;
/// those that reached the DSL's review for the DSL and deputies; a named reviewer's own while
/// their window is open; nothing for anyone else.
#[utoipa::path(
    get,
    path = "/api/v1/subject-access",
    tag = "subject-access",
    responses((status = 200, description = "The requests", body = SarListView)),
    security(("bearer" = []))
)]
pub async fn list_requests(
    State(state): State<AppState>,
    Signed(actor): Signed,
) -> Result<Json<SarListView>, ApiError> {
    let items = state.alliance.list_subject_access(&actor).await?;
    Ok(Json(SarListView {
        items: items.iter().map(summary_view).collect(),
    }))
}

/// A request as typed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestBody {
    /// `young-person`, `parental-responsibility` or `representative`.
    pub requester_kind: String,
    /// For `parental-responsibility`: the carer's id (a carer of the child, with parental
    /// responsibility recorded).
    #[serde(default)]
    pub carer: Option<String>,
    #[serde(default)]
    pub representative_name: Option<String>,
    #[serde(default)]
    pub representative_organisation: Option<String>,
    #[serde(default)]
    pub authority_seen: Option<String>,
    /// `young-person` or `parent`.
    #[serde(default)]
    pub acting_for: Option<String>,
    /// `YYYY-MM-DD` or `31/12/2026`: day 1 of the month.
    pub received_on: String,
    pub how_received: String,
    #[serde(default)]
    pub asked_for: Option<String>,
}

/// Logs a request about the child (administrators).
#[utoipa::path(
    post,
    path = "/api/v1/children/{id}/subject-access",
    tag = "subject-access",
    params(("id" = String, Path, description = "The child's id")),
    request_body = RequestBody,
    responses(
        (status = 201, description = "Logged", body = SarCreatedView),
        (status = 403, description = "The service lead or the DSL (who do not log requests), or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such child, or the caller may not know of subject access files", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is missing or not valid", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn log_request(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RequestBody>,
) -> Result<(StatusCode, Json<SarCreatedView>), ApiError> {
    let child = path_child(&id)?;
    let input = RequestInput {
        requester_kind: body.requester_kind,
        carer: body.carer.unwrap_or_default(),
        representative_name: body.representative_name.unwrap_or_default(),
        representative_organisation: body.representative_organisation.unwrap_or_default(),
        authority_seen: body.authority_seen.unwrap_or_default(),
        acting_for: body.acting_for.unwrap_or_default(),
        received_on: body.received_on,
        how_received: body.how_received,
        asked_for: body.asked_for.unwrap_or_default(),
    };
    let rid = state
        .alliance
        .log_subject_access(&actor, child, &input)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(SarCreatedView {
            id: rid.to_string(),
        }),
    ))
}

/// The request's facts (who, dates, where it stands, the due date and how it was reached):
/// never the record's content.
#[utoipa::path(
    get,
    path = "/api/v1/subject-access/{id}",
    tag = "subject-access",
    params(("id" = String, Path, description = "The request's id")),
    responses(
        (status = 200, description = "The request", body = SarApiView),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_request(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Json<SarApiView>, ApiError> {
    let view = state
        .alliance
        .subject_access_view(&actor, path_request(&id)?)
        .await?;
    Ok(Json(request_view(&view)))
}

/// Identity, authority, and the young person's competence and wishes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecksBody {
    pub version: i64,
    pub identity_how: String,
    pub identity_on: String,
    #[serde(default)]
    pub authority_how: Option<String>,
    #[serde(default)]
    pub authority_on: Option<String>,
    /// Needed on a parent's request about a young person of about 12 or over.
    #[serde(default)]
    pub competence: Option<String>,
    #[serde(default)]
    pub wishes: Option<String>,
}

/// Records the checks (administrators); a logged request becomes checked.
#[utoipa::path(
    post,
    path = "/api/v1/subject-access/{id}/checks",
    tag = "subject-access",
    params(("id" = String, Path, description = "The request's id")),
    request_body = ChecksBody,
    responses(
        (status = 204, description = "Recorded"),
        (status = 403, description = "Not an administrator, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed since read, or no longer at this stage", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A check is missing or not valid", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn record_checks(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ChecksBody>,
) -> Result<StatusCode, ApiError> {
    let input = ChecksInput {
        identity_how: body.identity_how,
        identity_on: body.identity_on,
        authority_how: body.authority_how.unwrap_or_default(),
        authority_on: body.authority_on.unwrap_or_default(),
        competence: body.competence.unwrap_or_default(),
        wishes: body.wishes.unwrap_or_default(),
    };
    state
        .alliance
        .record_sar_checks(&actor, path_request(&id)?, &input, version(body.version)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What is awaited, from when.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PauseBody {
    pub version: i64,
    /// `identity` or `clarification`.
    pub reason: String,
    pub started_on: String,
}

/// Stops the clock (an administrator or the service lead).
#[utoipa::path(
    post,
    path = "/api/v1/subject-access/{id}/pause",
    tag = "subject-access",
    params(("id" = String, Path, description = "The request's id")),
    request_body = PauseBody,
    responses(
        (status = 204, description = "Paused"),
        (status = 403, description = "Not an administrator or the service lead, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed since read, already paused, or closed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not valid (`reason`, `started_on`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn pause(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PauseBody>,
) -> Result<StatusCode, ApiError> {
    state
        .alliance
        .pause_sar(
            &actor,
            path_request(&id)?,
            &body.reason,
            &body.started_on,
            version(body.version)?,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// When what was awaited arrived.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResumeBody {
    pub version: i64,
    pub ended_on: String,
}

/// Restarts the clock.
#[utoipa::path(
    post,
    path = "/api/v1/subject-access/{id}/resume",
    tag = "subject-access",
    params(("id" = String, Path, description = "The request's id")),
    request_body = ResumeBody,
    responses(
        (status = 204, description = "Restarted"),
        (status = 403, description = "Not an administrator or the service lead, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed since read, or not paused", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not valid (`ended_on`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn resume(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ResumeBody>,
) -> Result<StatusCode, ApiError> {
    state
        .alliance
        .resume_sar(
            &actor,
            path_request(&id)?,
            &body.ended_on,
            version(body.version)?,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The extension: when the requester was told, and why.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionBody {
    pub version: i64,
    pub told_on: String,
    pub extension_reason: String,
}

/// Extends the time limit by two months (the requester told within the first month).
#[utoipa::path(
    post,
    path = "/api/v1/subject-access/{id}/extension",
    tag = "subject-access",
    params(("id" = String, Path, description = "The request's id")),
    request_body = ExtensionBody,
    responses(
        (status = 204, description = "Extended"),
        (status = 403, description = "Not an administrator or the service lead, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed since read, extended already, paused or closed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not valid, or told too late (`told_on`, `extension_reason`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn extend(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ExtensionBody>,
) -> Result<StatusCode, ApiError> {
    state
        .alliance
        .extend_sar(
            &actor,
            path_request(&id)?,
            &body.told_on,
            &body.extension_reason,
            version(body.version)?,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who reviews.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewerBody {
    pub version: i64,
    /// The user's id: an active clinician or safeguarding lead.
    pub reviewer: String,
}

/// Names the reviewer (the service lead or an administrator): they read the child's whole
/// record for this request for the service's number of days (default 14).
#[utoipa::path(
    post,
    path = "/api/v1/subject-access/{id}/reviewer",
    tag = "subject-access",
    params(("id" = String, Path, description = "The request's id")),
    request_body = ReviewerBody,
    responses(
        (status = 204, description = "Named"),
        (status = 403, description = "Not the service lead or an administrator, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed since read, or not checked yet", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not an active clinician (`reviewer`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn name_reviewer(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReviewerBody>,
) -> Result<StatusCode, ApiError> {
    state
        .alliance
        .name_sar_reviewer(
            &actor,
            path_request(&id)?,
            &body.reviewer,
            version(body.version)?,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Refused or withdrawn, with the reason.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseBody {
    pub version: i64,
    /// `refused` or `withdrawn`.
    pub outcome: String,
    pub closing_reason: String,
}

/// Closes the request as refused or withdrawn (the service lead or an administrator).
#[utoipa::path(
    post,
    path = "/api/v1/subject-access/{id}/close",
    tag = "subject-access",
    params(("id" = String, Path, description = "The request's id")),
    request_body = CloseBody,
    responses(
        (status = 204, description = "Closed"),
        (status = 403, description = "Not the service lead or an administrator, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed since read, or closed already", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not valid (`outcome`, `closing_reason`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn close(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CloseBody>,
) -> Result<StatusCode, ApiError> {
    state
        .alliance
        .close_sar(
            &actor,
            path_request(&id)?,
            &body.outcome,
            &body.closing_reason,
            version(body.version)?,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ----- the file -----

/// The file as the caller reads it: the named reviewer (the child's whole record; audited
/// each time), the DSL (the safeguarding items, in their review) or the service lead (the
/// decisions, and each item as it would be released). Anyone else, the administrator
/// included, and a reviewer whose window closed: 404, audited.
#[utoipa::path(
    get,
    path = "/api/v1/subject-access/{id}/file",
    tag = "subject-access",
    params(("id" = String, Path, description = "The request's id")),
    responses(
        (status = 200, description = "The file", body = SarFileView),
        (status = 404, description = "No such request, or none whose file the caller may read now", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_file(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Json<SarFileView>, ApiError> {
    let file = state.alliance.sar_file(&actor, path_request(&id)?).await?;
    Ok(Json(file_view(&file)))
}

/// A decision on one item.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// `disclose`, `redact` or `withhold`.
    pub decision: String,
    /// To redact or withhold: `serious-harm` (needs the opinion recorded first),
    /// `third-party`, `given-in-confidence` and `child-abuse-data` (a parent's request only),
    /// `legal-privilege`, `other` (with `words`).
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub words: Option<String>,
    /// To redact: the exact passages to remove, one a line (each must be in the item).
    #[serde(default)]
    pub passages: Option<String>,
}

/// Decides an item: the named reviewer while in review (safeguarding items only when they are
/// a DSL), the DSL the safeguarding items in their review.
#[utoipa::path(
    put,
    path = "/api/v1/subject-access/{id}/items/{kind}/{item}",
    tag = "subject-access",
    params(
        ("id" = String, Path, description = "The request's id"),
        ("kind" = String, Path, description = "The item's kind"),
        ("item" = String, Path, description = "The item's id"),
    ),
    request_body = DecisionBody,
    responses(
        (status = 204, description = "Decided"),
        (status = 403, description = "Not the one who decides this item now, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The request has moved on", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not valid (`decision`, `reason`, `words`, `passages`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn decide_item(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path((id, kind, item)): Path<(String, String, String)>,
    ApiJson(body): ApiJson<DecisionBody>,
) -> Result<StatusCode, ApiError> {
    let input = DecisionInput {
        decision: body.decision,
        reason: body.reason.unwrap_or_default(),
        words: body.words.unwrap_or_default(),
        passages: body.passages.unwrap_or_default(),
    };
    state
        .alliance
        .decide_sar_item(&actor, path_request(&id)?, &kind, &item, &input)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The serious-harm opinion.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpinionBody {
    pub version: i64,
    /// `staff` (a member of staff registered with the GMC, NMC, HCPC or as a child
    /// psychotherapist) or `outside`.
    pub from: String,
    #[serde(default)]
    pub staff: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub profession: Option<String>,
    #[serde(default)]
    pub registration: Option<String>,
    pub given_on: String,
    pub opinion: String,
}

/// Records the serious-harm opinion (the named reviewer, or the DSL in their review).
#[utoipa::path(
    post,
    path = "/api/v1/subject-access/{id}/opinion",
    tag = "subject-access",
    params(("id" = String, Path, description = "The request's id")),
    request_body = OpinionBody,
    responses(
        (status = 204, description = "Recorded"),
        (status = 403, description = "Not the reviewer (or the DSL in their review), or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not valid, or not an appropriate health professional (`staff`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn record_opinion(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<OpinionBody>,
) -> Result<StatusCode, ApiError> {
    let input = OpinionInput {
        from: body.from,
        staff: body.staff.unwrap_or_default(),
        name: body.name.unwrap_or_default(),
        profession: body.profession.unwrap_or_default(),
        registration: body.registration.unwrap_or_default(),
        given_on: body.given_on,
        opinion: body.opinion,
    };
    state
        .alliance
        .record_sar_opinion(&actor, path_request(&id)?, &input, version(body.version)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The reviewer has decided every item: on to the DSL's review when safeguarding material is
/// left, else ready to release.
#[utoipa::path(
    post,
    path = "/api/v1/subject-access/{id}/finish-review",
    tag = "subject-access",
    params(("id" = String, Path, description = "The request's id")),
    request_body = VersionBody,
    responses(
        (status = 204, description = "Finished"),
        (status = 403, description = "Not the named reviewer, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed since read, or an item is undecided", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn finish_review(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<VersionBody>,
) -> Result<StatusCode, ApiError> {
    state
        .alliance
        .finish_sar_review(&actor, path_request(&id)?, version(body.version)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The DSL has decided every safeguarding item: ready to release.
#[utoipa::path(
    post,
    path = "/api/v1/subject-access/{id}/finish-dsl-review",
    tag = "subject-access",
    params(("id" = String, Path, description = "The request's id")),
    request_body = VersionBody,
    responses(
        (status = 204, description = "Finished"),
        (status = 403, description = "Not the DSL or a deputy, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed since read, or an item is undecided", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn finish_dsl_review(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<VersionBody>,
) -> Result<StatusCode, ApiError> {
    state
        .alliance
        .finish_sar_dsl_review(&actor, path_request(&id)?, version(body.version)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ----- release and the bundle -----

/// A part of a bundle item.
#[derive(Debug, Serialize, ToSchema)]
pub struct BundlePartView {
    pub label: String,
    pub text: String,
}

/// A disclosed item.
#[derive(Debug, Serialize, ToSchema)]
pub struct BundleItemView {
    pub kind: String,
    pub title: String,
    pub when: Option<String>,
    /// Passages were removed, each shown as `[redacted]`.
    pub redacted: bool,
    pub parts: Vec<BundlePartView>,
}

/// What was withheld, in general terms.
#[derive(Debug, Serialize, ToSchema)]
pub struct WithheldView {
    pub reason: String,
    pub items: usize,
}

/// The bundle: the cover letter and the disclosed and redacted items, nothing withheld.
#[derive(Debug, Serialize, ToSchema)]
pub struct BundleView {
    pub reference: String,
    pub service: String,
    pub child_name: String,
    pub date_of_birth: String,
    pub requester: String,
    pub received_on: String,
    pub released_on: String,
    pub letter: Vec<String>,
    pub withheld: Vec<WithheldView>,
    pub items: Vec<BundleItemView>,
}

fn bundle_view(b: &Bundle) -> BundleView {
    BundleView {
        reference: b.reference.clone(),
        service: b.service.clone(),
        child_name: b.child_name.clone(),
        date_of_birth: b.date_of_birth.clone(),
        requester: b.requester.clone(),
        received_on: b.received_on.clone(),
        released_on: b.released_on.clone(),
        letter: b.letter.clone(),
        withheld: b
            .withheld
            .iter()
            .map(|w| WithheldView {
                reason: w.reason.clone(),
                items: w.items,
            })
            .collect(),
        items: b
            .items
            .iter()
            .map(|i| BundleItemView {
                kind: i.kind.clone(),
                title: i.title.clone(),
                when: i.when.clone(),
                redacted: i.redacted,
                parts: i
                    .parts
                    .iter()
                    .map(|p| BundlePartView {
                        label: p.label.clone(),
                        text: p.text.clone(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// Releases the bundle to the requester (the service lead): only when ready, and only if the
/// outbound rule lets the requester receive it now; a refusal (422, field `release`) says why
/// and is audited.
#[utoipa::path(
    post,
    path = "/api/v1/subject-access/{id}/release",
    tag = "subject-access",
    params(("id" = String, Path, description = "The request's id")),
    request_body = VersionBody,
    responses(
        (status = 200, description = "Released: the bundle", body = BundleView),
        (status = 403, description = "Not the service lead, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed since read, not ready, or an item changed after its decision", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The requester may not receive it (`release`: why)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn release(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<VersionBody>,
) -> Result<Json<BundleView>, ApiError> {
    let bundle = state
        .alliance
        .release_sar(&actor, path_request(&id)?, version(body.version)?)
        .await?;
    Ok(Json(bundle_view(&bundle)))
}

/// The released bundle as JSON (the service lead), asked of the outbound rule again.
#[utoipa::path(
    get,
    path = "/api/v1/subject-access/{id}/bundle",
    tag = "subject-access",
    params(("id" = String, Path, description = "The request's id")),
    responses(
        (status = 200, description = "The bundle", body = BundleView),
        (status = 403, description = "Not the service lead", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not released yet", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The requester may no longer receive it (`release`: why)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_bundle(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Json<BundleView>, ApiError> {
    let bundle = state
        .alliance
        .sar_bundle(&actor, path_request(&id)?)
        .await?;
    Ok(Json(bundle_view(&bundle)))
}

/// The bundle as the PDF crate takes it.
pub(crate) fn pdf_bundle(bundle: &Bundle) -> alliance_pdf::SubjectAccessBundle {
    alliance_pdf::SubjectAccessBundle {
        reference: bundle.reference.clone(),
        service: bundle.service.clone(),
        requester: bundle.requester.clone(),
        child_name: bundle.child_name.clone(),
        date_of_birth: bundle.date_of_birth.clone(),
        received_on: bundle.received_on.clone(),
        released_on: bundle.released_on.clone(),
        letter: bundle.letter.clone(),
        withheld: bundle
            .withheld
            .iter()
            .map(|w| {
                let mut chars = w.reason.chars();
                let reason: String = match chars.next() {
                    Some(first) => first.to_uppercase().chain(chars).collect(),
                    None => String::new(),
                };
                format!(
                    "{reason}: {} {}",
                    w.items,
                    if w.items == 1 { "item" } else { "items" }
                )
            })
            .collect(),
        items: bundle
            .items
            .iter()
            .map(|i| alliance_pdf::BundleEntry {
                kind: i.kind.clone(),
                title: i.title.clone(),
                when: i.when.clone().unwrap_or_default(),
                redacted: i.redacted,
                parts: i
                    .parts
                    .iter()
                    .map(|p| (p.label.clone(), p.text.clone()))
                    .collect(),
            })
            .collect(),
    }
}

/// The bundle as a PDF (`subject-access-bundle-SAR-….pdf`): named by its reference, never
/// whom it is about.
pub(crate) async fn bundle_pdf_response(bundle: &Bundle) -> Result<Response, AppError> {
    let doc = pdf_bundle(bundle);
    let filename = format!("subject-access-bundle-{}.pdf", bundle.reference);
    let bytes = off_the_workers(move || {
        alliance_pdf::render_subject_access_bundle(&doc)
            .map_err(|e| AppError::Store(StoreError::Other(e.to_string())))
    })
    .await?;
    Ok(attachment(bytes, "application/pdf", &filename))
}

/// The bundle as JSON, to download.
pub(crate) fn bundle_json_response(bundle: &Bundle) -> Result<Response, AppError> {
    let bytes = serde_json::to_vec_pretty(bundle)
        .map_err(|e| AppError::Store(StoreError::Other(e.to_string())))?;
    Ok(attachment(
        bytes,
        "application/json",
        &format!("subject-access-bundle-{}.json", bundle.reference),
    ))
}

/// The released bundle as a PDF (the service lead), asked of the outbound rule again.
#[utoipa::path(
    get,
    path = "/api/v1/subject-access/{id}/bundle/pdf",
    tag = "subject-access",
    params(("id" = String, Path, description = "The request's id")),
    responses(
        (status = 200, description = "The PDF", content_type = "application/pdf"),
        (status = 403, description = "Not the service lead", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not released yet", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The requester may no longer receive it (`release`: why)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn bundle_pdf(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let bundle = state
        .alliance
        .sar_bundle(&actor, path_request(&id)?)
        .await?;
    Ok(bundle_pdf_response(&bundle).await?)
}

// ----- settings -----

/// The service's figures for subject access, with their sources.
#[derive(Debug, Serialize, ToSchema)]
pub struct SarSettingsView {
    /// How many days a named reviewer reads the record (policy section 5; default 14).
    pub reviewer_days: u32,
    /// From what age a young person's understanding and wishes are noted on a parent's
    /// request (default 12).
    pub competence_age: u8,
    /// 0 while the defaults stand.
    pub version: i64,
    pub sources: Vec<String>,
}

/// The figures.
#[utoipa::path(
    get,
    path = "/api/v1/subject-access/settings",
    tag = "subject-access",
    responses((status = 200, description = "The figures", body = SarSettingsView)),
    security(("bearer" = []))
)]
pub async fn get_settings(
    State(state): State<AppState>,
    Signed(_actor): Signed,
) -> Result<Json<SarSettingsView>, ApiError> {
    let (s, v) = state.alliance.subject_access_settings().await?;
    Ok(Json(SarSettingsView {
        reviewer_days: s.reviewer_days,
        competence_age: s.competence_age,
        version: v.map_or(0, |v| v.get()),
        sources: vec![
            alliance_core::subject_access::SOURCE_TIME_LIMIT.to_owned(),
            alliance_core::subject_access::SOURCE_COMPETENCE.to_owned(),
            alliance_core::subject_access::SOURCE_SERIOUS_HARM.to_owned(),
        ],
    }))
}

/// New figures.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SarSettingsBody {
    /// The version read (0 while the defaults stand).
    pub version: i64,
    pub reviewer_days: u32,
    pub competence_age: u8,
}

/// Changes the figures (administrators).
#[utoipa::path(
    put,
    path = "/api/v1/subject-access/settings",
    tag = "subject-access",
    request_body = SarSettingsBody,
    responses(
        (status = 200, description = "Saved", body = SarSettingsView),
        (status = 403, description = "Not an administrator, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Out of bounds (`reviewer_days` 1 to 60, `competence_age` 10 to 16)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn put_settings(
    State(state): State<AppState>,
    Signed(actor): Signed,
    ApiJson(body): ApiJson<SarSettingsBody>,
) -> Result<Json<SarSettingsView>, ApiError> {
    let expected = if body.version == 0 {
        None
    } else {
        Some(version(body.version)?)
    };
    state
        .alliance
        .set_subject_access_settings(
            &actor,
            &body.reviewer_days.to_string(),
            &body.competence_age.to_string(),
            expected,
        )
        .await?;
    get_settings(State(state), Signed(actor)).await
}
