//! Retention and destruction (issue 15): a child's retention per record class (the date, the
//! rule in plain words and its sources, holds), legal holds, the DSL's 75-year flag, the report
//! of records past their date, destruction requests and their approval (crypto-shredding),
//! and the service's retention settings. Who may see or do what is the use-cases'
//! (`alliance_service::retention`): administrators and the service lead reach the clinical
//! record and process notes, the DSL and deputies the safeguarding records too; anyone else
//! is answered 404, exactly as for a child that does not exist (audited). An administrator is
//! told "On hold", never why.

use super::directory::{not_found, version};
use crate::AppState;
use crate::auth::Signed;
use crate::extract::{ApiJson, ApiQuery, PageParams};
use crate::problem::{ApiError, Problem};
use alliance_core::Version;
use alliance_core::children::ChildId;
use alliance_core::retention::{self as rules, ClinicalChoice, Figures, Retention, Settings};
use alliance_service::retention::{ChildRetention, DestructionView, ReportRow};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// Registers this area's routes (each with `routes!`, so each is documented).
pub(crate) fn register(router: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    router
        .routes(routes!(get_child_retention))
        .routes(routes!(set_legal_hold))
        .routes(routes!(lift_legal_hold))
        .routes(routes!(set_flag))
        .routes(routes!(request_destruction))
        .routes(routes!(get_destruction))
        .routes(routes!(approve_destruction))
        .routes(routes!(refuse_destruction))
        .routes(routes!(get_report))
        .routes(routes!(get_settings, set_settings))
}

fn path_child(raw: &str) -> Result<ChildId, ApiError> {
    ChildId::parse(raw).map_err(|_| not_found())
}

fn path_uuid(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| not_found())
}

fn optional_version(raw: Option<i64>) -> Result<Option<Version>, ApiError> {
    raw.map(version).transpose()
}

/// A source a rule rests on.
#[derive(Debug, Serialize, ToSchema)]
pub struct SourceView {
    pub title: String,
    pub url: String,
}

/// A class's retention date and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct RetentionView {
    /// Kept until the end of this day (`YYYY-MM-DD`); absent while there is no date yet (a
    /// case is open, or none was ever opened).
    pub until: Option<String>,
    /// `children`, `mental-health`, `death`, `open-case`, `no-case`, `safeguarding` or
    /// `abuse-75`.
    pub rule: String,
    pub rule_name: String,
    /// The rule and its figures in plain words (dates as 31/12/2026).
    pub explanation: String,
    pub sources: Vec<SourceView>,
    /// Safeguarding records are reviewed at their date.
    pub then_review: bool,
}

fn retention_view(r: &Retention) -> Result<RetentionView, ApiError> {
    let policies = alliance_service::retention::policies()?;
    Ok(RetentionView {
        until: r.until.map(|d| d.to_string()),
        rule: r.rule.code().to_owned(),
        rule_name: policies.text(r.rule).name.clone(),
        explanation: r.explanation.clone(),
        sources: r
            .sources
            .iter()
            .map(|s| SourceView {
                title: s.title.clone(),
                url: s.url.clone(),
            })
            .collect(),
        then_review: r.then_review,
    })
}

/// One class of the child's record.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClassView {
    /// `clinical`, `process-notes` or `safeguarding` (the last only for the DSL and deputies).
    pub class: String,
    pub label: String,
    /// Absent once destroyed.
    pub retention: Option<RetentionView>,
    pub past: bool,
    /// The day it was destroyed (`YYYY-MM-DD`), once it was.
    pub destroyed_on: Option<String>,
    pub open_request: Option<String>,
    /// The caller may ask for it to be destroyed now.
    pub may_request: bool,
}

/// A legal hold (for those who may know why).
#[derive(Debug, Serialize, ToSchema)]
pub struct LegalHoldView {
    pub id: String,
    pub reason: String,
    pub set_by: String,
    pub set_at: String,
    pub lifted_by: Option<String>,
    pub lifted_at: Option<String>,
    pub lift_reason: Option<String>,
    pub version: i64,
}

/// The DSL's 75-year flag (for the DSL and deputies).
#[derive(Debug, Serialize, ToSchema)]
pub struct FlagView {
    pub flagged: bool,
    /// Absent until it was ever set.
    pub version: Option<i64>,
}

/// A child's retention as the caller may see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChildRetentionView {
    pub child_id: String,
    pub classes: Vec<ClassView>,
    /// What holds destruction now: the reasons, or only "On hold" for an administrator.
    pub holds: Vec<String>,
    /// Empty for an administrator.
    pub legal_holds: Vec<LegalHoldView>,
    pub flag: Option<FlagView>,
}

fn child_view(v: &ChildRetention) -> Result<ChildRetentionView, ApiError> {
    let mut classes = Vec::new();
    for c in &v.classes {
        classes.push(ClassView {
            class: c.class.code().to_owned(),
            label: c.label.to_owned(),
            retention: c.retention.as_ref().map(retention_view).transpose()?,
            past: c.past,
            destroyed_on: c.destroyed.as_ref().map(|d| d.on.to_string()),
            open_request: c.open_request.map(|r| r.to_string()),
            may_request: c.may_request,
        });
    }
    Ok(ChildRetentionView {
        child_id: v.child.to_string(),
        classes,
        holds: v.holds.clone(),
        legal_holds: v
            .legal_holds
            .iter()
            .map(|h| LegalHoldView {
                id: h.id.to_string(),
                reason: h.reason.clone(),
                set_by: h.set_by.clone(),
                set_at: h.set_at.to_string(),
                lifted_by: h.lifted.as_ref().map(|l| l.0.clone()),
                lifted_at: h.lifted.as_ref().map(|l| l.1.to_string()),
                lift_reason: h.lifted.as_ref().map(|l| l.2.clone()),
                version: h.version.get(),
            })
            .collect(),
        flag: v.flag.as_ref().map(|f| FlagView {
            flagged: f.flagged,
            version: f.version.map(Version::get),
        }),
    })
}

/// The child's retention per record class, audited: administrators and the service lead (the
/// clinical record and process notes), the DSL and deputies (the safeguarding records too).
#[utoipa::path(
    get,
    path = "/api/v1/children/{id}/retention",
    tag = "retention",
    params(("id" = String, Path, description = "The child's id")),
    responses(
        (status = 200, description = "The child's retention", body = ChildRetentionView),
        (status = 404, description = "No such child, or the caller does not reach retention", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_child_retention(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Json<ChildRetentionView>, ApiError> {
    let child = path_child(&id)?;
    let view = state.alliance.child_retention(&actor, child).await?;
    Ok(Json(child_view(&view)?))
}

/// A legal hold's reason, or its lifting's.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldBody {
    /// Why (at least 10 characters).
    #[serde(default)]
    pub reason: String,
    /// The hold's version, to lift it.
    pub version: Option<i64>,
}

/// Something made, by its id.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedView {
    pub id: String,
}

/// Sets a legal hold on the child's records (the service lead, the DSL and deputies): nothing
/// of the child's is destroyed while it is set.
#[utoipa::path(
    post,
    path = "/api/v1/children/{id}/legal-holds",
    tag = "retention",
    params(("id" = String, Path, description = "The child's id")),
    request_body = HoldBody,
    responses(
        (status = 201, description = "Set", body = CreatedView),
        (status = 403, description = "An administrator, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such child, or the caller does not reach retention", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason, or one is already set (`reason`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn set_legal_hold(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<HoldBody>,
) -> Result<(StatusCode, Json<CreatedView>), ApiError> {
    let child = path_child(&id)?;
    let hold = state
        .alliance
        .set_legal_hold(&actor, child, &body.reason)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedView {
            id: hold.to_string(),
        }),
    ))
}

/// Lifts a legal hold with its reason (the service lead, the DSL and deputies).
#[utoipa::path(
    post,
    path = "/api/v1/children/{id}/legal-holds/{hid}/lift",
    tag = "retention",
    params(
        ("id" = String, Path, description = "The child's id"),
        ("hid" = String, Path, description = "The hold's id"),
    ),
    request_body = HoldBody,
    responses(
        (status = 204, description = "Lifted"),
        (status = 403, description = "An administrator, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such hold of this child's, or the caller does not reach retention", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already lifted, or changed since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason, or no version", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn lift_legal_hold(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path((id, hid)): Path<(String, String)>,
    ApiJson(body): ApiJson<HoldBody>,
) -> Result<StatusCode, ApiError> {
    let (child, hold) = (path_child(&id)?, path_uuid(&hid)?);
    let expected = optional_version(body.version)?.ok_or_else(|| {
        ApiError::from(
            Problem::for_status(StatusCode::UNPROCESSABLE_ENTITY)
                .field("version", "Send the hold's version as read"),
        )
    })?;
    state
        .alliance
        .lift_legal_hold(&actor, child, hold, &body.reason, expected)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The DSL's flag, as sent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlagBody {
    pub flagged: bool,
    /// The version read; absent when it was never set.
    pub version: Option<i64>,
}

/// Sets or clears the DSL's flag on the child's safeguarding records (the 75-year rule): the
/// DSL and deputies. Anyone else: 404, as if the records did not exist.
#[utoipa::path(
    put,
    path = "/api/v1/children/{id}/retention/flag",
    tag = "retention",
    params(("id" = String, Path, description = "The child's id")),
    request_body = FlagBody,
    responses(
        (status = 204, description = "Saved"),
        (status = 403, description = "A read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such child, or the caller is not the DSL or a deputy", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed since it was read, or the records were destroyed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn set_flag(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<FlagBody>,
) -> Result<StatusCode, ApiError> {
    let child = path_child(&id)?;
    let expected = optional_version(body.version)?;
    state
        .alliance
        .set_retention_flag(&actor, child, body.flagged, expected)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The class to destroy.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DestructionBody {
    /// `clinical` or `process-notes` (an administrator); `safeguarding` (the DSL).
    #[serde(default)]
    pub class: String,
}

/// A destruction request.
#[derive(Debug, Serialize, ToSchema)]
pub struct DestructionApiView {
    pub id: String,
    /// `DR-…`: how tasks and lists name it.
    pub reference: String,
    pub child_id: String,
    pub class: String,
    /// `requested`, `destroyed`, `refused` or `withdrawn`.
    pub status: String,
    pub requested_by: String,
    pub requested_at: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub sole_practitioner: bool,
    pub version: i64,
    /// The class's retention now, while the request is open.
    pub retention: Option<RetentionView>,
    /// What holds it now: reasons, or "On hold" for an administrator.
    pub holds: Vec<String>,
    pub may_approve: bool,
    /// The sole practitioner approving their own request sends their password.
    pub needs_password: bool,
    /// The sole practitioner's cooling-off ends then.
    pub cooling_off_until: Option<String>,
    pub may_refuse: bool,
    pub may_withdraw: bool,
}

fn destruction_view(v: &DestructionView) -> Result<DestructionApiView, ApiError> {
    Ok(DestructionApiView {
        id: v.id.to_string(),
        reference: v.reference.clone(),
        child_id: v.child.to_string(),
        class: v.class.code().to_owned(),
        status: v.status.code().to_owned(),
        requested_by: v.requested_by.clone(),
        requested_at: v.requested_at.to_string(),
        decided_by: v.decided_by.clone(),
        decided_at: v.decided_at.map(|t| t.to_string()),
        sole_practitioner: v.sole_practitioner,
        version: v.version.get(),
        retention: v.retention.as_ref().map(retention_view).transpose()?,
        holds: v.holds.clone(),
        may_approve: v.may_approve,
        needs_password: v.needs_password,
        cooling_off_until: v.cooling_off_until.map(|t| t.to_string()),
        may_refuse: v.may_refuse,
        may_withdraw: v.may_withdraw,
    })
}

/// Asks for one class of the child's record to be destroyed: an administrator (the clinical
/// record, process notes), the DSL or a deputy (the safeguarding records). Only past its date,
/// with nothing holding it (an open concern, a pending subject access request, a legal hold:
/// an administrator is told only "On hold"). The approvers are given a task.
#[utoipa::path(
    post,
    path = "/api/v1/children/{id}/destruction-requests",
    tag = "retention",
    params(("id" = String, Path, description = "The child's id")),
    request_body = DestructionBody,
    responses(
        (status = 201, description = "Asked for", body = DestructionApiView),
        (status = 403, description = "Not one who asks for this class, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such child, or the caller may not know of this class", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not past its date, on hold, already asked for, or already destroyed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No such class (`class`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn request_destruction(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DestructionBody>,
) -> Result<(StatusCode, Json<DestructionApiView>), ApiError> {
    let child = path_child(&id)?;
    let class = rules::parse_class(&body.class).map_err(|m| {
        ApiError::from(Problem::for_status(StatusCode::UNPROCESSABLE_ENTITY).field("class", m))
    })?;
    let rid = state
        .alliance
        .request_destruction(&actor, child, class)
        .await?;
    let view = state.alliance.destruction_view(&actor, rid).await?;
    Ok((StatusCode::CREATED, Json(destruction_view(&view)?)))
}

/// A destruction request (audited): those who reach its class; anyone else 404.
#[utoipa::path(
    get,
    path = "/api/v1/destruction-requests/{rid}",
    tag = "retention",
    params(("rid" = String, Path, description = "The request's id")),
    responses(
        (status = 200, description = "The request", body = DestructionApiView),
        (status = 404, description = "No such request, or the caller may not know of it", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_destruction(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(rid): Path<String>,
) -> Result<Json<DestructionApiView>, ApiError> {
    let rid = path_uuid(&rid)?;
    let view = state.alliance.destruction_view(&actor, rid).await?;
    Ok(Json(destruction_view(&view)?))
}

/// An approval.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalBody {
    pub version: i64,
    /// The sole practitioner approving their own request: their password again.
    pub password: Option<String>,
}

/// Approves a destruction (the service lead or the DSL; never the person who asked, unless
/// nobody else may approve: then after the cooling-off, with their password). The holds and
/// the date are checked again; the class's key is destroyed and the request becomes the
/// tombstone.
#[utoipa::path(
    post,
    path = "/api/v1/destruction-requests/{rid}/approve",
    tag = "retention",
    params(("rid" = String, Path, description = "The request's id")),
    request_body = ApprovalBody,
    responses(
        (status = 200, description = "Destroyed", body = DestructionApiView),
        (status = 403, description = "Not an approver, the person who asked, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request, or the caller may not know of it", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "On hold, not past its date, still cooling off, already decided or destroyed, or changed since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The password is not right (`password`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn approve_destruction(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(rid): Path<String>,
    ApiJson(body): ApiJson<ApprovalBody>,
) -> Result<Json<DestructionApiView>, ApiError> {
    let rid = path_uuid(&rid)?;
    let expected = version(body.version)?;
    state
        .alliance
        .approve_destruction(&actor, rid, body.password.as_deref(), expected)
        .await?;
    let view = state.alliance.destruction_view(&actor, rid).await?;
    Ok(Json(destruction_view(&view)?))
}

/// The version read.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestVersionBody {
    pub version: i64,
}

/// Refuses a destruction (an approver) or withdraws it (the person who asked).
#[utoipa::path(
    post,
    path = "/api/v1/destruction-requests/{rid}/refuse",
    tag = "retention",
    params(("rid" = String, Path, description = "The request's id")),
    request_body = RequestVersionBody,
    responses(
        (status = 200, description = "Refused or withdrawn", body = DestructionApiView),
        (status = 403, description = "Neither an approver nor the person who asked, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request, or the caller may not know of it", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already decided, or changed since it was read", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn refuse_destruction(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(rid): Path<String>,
    ApiJson(body): ApiJson<RequestVersionBody>,
) -> Result<Json<DestructionApiView>, ApiError> {
    let rid = path_uuid(&rid)?;
    let expected = version(body.version)?;
    state
        .alliance
        .close_destruction(&actor, rid, expected)
        .await?;
    let view = state.alliance.destruction_view(&actor, rid).await?;
    Ok(Json(destruction_view(&view)?))
}

/// A line of the report.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportRowView {
    pub child_id: String,
    pub child_name: String,
    pub date_of_birth: String,
    pub class: String,
    /// Kept until (`YYYY-MM-DD`): it is past.
    pub until: String,
    pub rule: String,
    pub rule_name: String,
    /// What holds it: reasons, or "On hold" for an administrator.
    pub holds: Vec<String>,
    pub open_request: Option<String>,
}

/// A page of the report.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportView {
    pub items: Vec<ReportRowView>,
    /// Pass as `after` for the next page.
    pub next: Option<String>,
    /// The open requests the caller may see.
    pub awaiting: Vec<String>,
}

fn row_view(r: &ReportRow) -> ReportRowView {
    ReportRowView {
        child_id: r.child.to_string(),
        child_name: r.child_name.clone(),
        date_of_birth: r.date_of_birth.to_string(),
        class: r.class.code().to_owned(),
        until: r.until.to_string(),
        rule: r.rule.code().to_owned(),
        rule_name: r.rule_name.clone(),
        holds: r.holds.clone(),
        open_request: r.open_request.map(|id| id.to_string()),
    }
}

/// The records past their date and not destroyed, per child and class, a page at a time
/// (audited): administrators and the service lead (the clinical record and process notes), the
/// DSL and deputies (the safeguarding records too). Anyone else 404.
#[utoipa::path(
    get,
    path = "/api/v1/retention/report",
    tag = "retention",
    params(PageParams),
    responses(
        (status = 200, description = "A page of the report", body = ReportView),
        (status = 404, description = "The caller does not reach retention", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_report(
    State(state): State<AppState>,
    Signed(actor): Signed,
    ApiQuery(params): ApiQuery<PageParams>,
) -> Result<Json<ReportView>, ApiError> {
    let page = params.request()?;
    let report = state.alliance.retention_report(&actor, &page).await?;
    Ok(Json(ReportView {
        items: report.rows.items.iter().map(row_view).collect(),
        next: report.rows.next,
        awaiting: report.awaiting.iter().map(|a| a.id.to_string()).collect(),
    }))
}

/// The service's retention settings.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsView {
    /// The version read; absent while the defaults stand (and when sending the first change).
    pub version: Option<i64>,
    pub children_birthday: u32,
    pub children_extended_birthday: u32,
    pub children_extended_age: u32,
    pub adult_age: u32,
    pub adult_years: u32,
    pub mental_health_years: u32,
    pub death_years: u32,
    pub death_mental_health_years: u32,
    pub safeguarding_birthday: u32,
    pub abuse_years: u32,
    /// `later` (the default), `children` or `mental-health`.
    pub clinical: String,
    /// A sole practitioner's cooling-off, in hours (policy section 1; default 24).
    pub cooling_off_hours: u32,
}

fn settings_view(s: &Settings, v: Option<Version>) -> SettingsView {
    let f = &s.figures;
    SettingsView {
        version: v.map(Version::get),
        children_birthday: f.children_birthday,
        children_extended_birthday: f.children_extended_birthday,
        children_extended_age: f.children_extended_age,
        adult_age: f.adult_age,
        adult_years: f.adult_years,
        mental_health_years: f.mental_health_years,
        death_years: f.death_years,
        death_mental_health_years: f.death_mental_health_years,
        safeguarding_birthday: f.safeguarding_birthday,
        abuse_years: f.abuse_years,
        clinical: s.clinical.code().to_owned(),
        cooling_off_hours: s.cooling_off_hours,
    }
}

/// The retention settings (those who reach retention; anyone else 404).
#[utoipa::path(
    get,
    path = "/api/v1/retention/settings",
    tag = "retention",
    responses(
        (status = 200, description = "The settings", body = SettingsView),
        (status = 404, description = "The caller does not reach retention", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_settings(
    State(state): State<AppState>,
    Signed(actor): Signed,
) -> Result<Json<SettingsView>, ApiError> {
    state
        .alliance
        .ensure_retention_reach(&actor, "read retention settings")
        .await?;
    let (settings, version) = state.alliance.retention_settings().await?;
    Ok(Json(settings_view(&settings, version)))
}

/// Changes the retention settings (administrators). Send the version you read, or none while
/// the defaults stand; a stale one is refused with 409.
#[utoipa::path(
    put,
    path = "/api/v1/retention/settings",
    tag = "retention",
    request_body = SettingsView,
    responses(
        (status = 200, description = "Changed", body = SettingsView),
        (status = 403, description = "Not an administrator, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed by someone else since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A figure is out of bounds (each is named)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn set_settings(
    State(state): State<AppState>,
    Signed(actor): Signed,
    ApiJson(body): ApiJson<SettingsView>,
) -> Result<Json<SettingsView>, ApiError> {
    let expected = optional_version(body.version)?;
    let clinical = ClinicalChoice::parse(&body.clinical).map_err(|m| {
        ApiError::from(Problem::for_status(StatusCode::UNPROCESSABLE_ENTITY).field("clinical", m))
    })?;
    let settings = Settings {
        figures: Figures {
            children_birthday: body.children_birthday,
            children_extended_birthday: body.children_extended_birthday,
            children_extended_age: body.children_extended_age,
            adult_age: body.adult_age,
            adult_years: body.adult_years,
            mental_health_years: body.mental_health_years,
            death_years: body.death_years,
            death_mental_health_years: body.death_mental_health_years,
            safeguarding_birthday: body.safeguarding_birthday,
            abuse_years: body.abuse_years,
        },
        clinical,
        cooling_off_hours: body.cooling_off_hours,
    };
    state
        .alliance
        .set_retention_settings(&actor, settings, expected)
        .await
        .map_err(ApiError::from)?;
    let (settings, version) = state.alliance.retention_settings().await?;
    Ok(Json(settings_view(&settings, version)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_retention_route_is_documented() {
        let doc = super::super::openapi();
        for (path, methods) in [
            ("/api/v1/children/{id}/retention", &["get"][..]),
            ("/api/v1/children/{id}/legal-holds", &["post"][..]),
            (
                "/api/v1/children/{id}/legal-holds/{hid}/lift",
                &["post"][..],
            ),
            ("/api/v1/children/{id}/retention/flag", &["put"][..]),
            ("/api/v1/children/{id}/destruction-requests", &["post"][..]),
            ("/api/v1/destruction-requests/{rid}", &["get"][..]),
            ("/api/v1/destruction-requests/{rid}/approve", &["post"][..]),
            ("/api/v1/destruction-requests/{rid}/refuse", &["post"][..]),
            ("/api/v1/retention/report", &["get"][..]),
            ("/api/v1/retention/settings", &["get", "put"][..]),
        ] {
            let item = doc.paths.paths.get(path);
            assert!(item.is_some(), "{path} is missing");
            for method in methods {
                let operation = item.and_then(|i| match *method {
                    "get" => i.get.as_ref(),
                    "put" => i.put.as_ref(),
                    _ => i.post.as_ref(),
                });
                assert!(operation.is_some(), "{method} {path} is missing");
            }
        }
    }

    #[test]
    fn the_bodies_refuse_unknown_fields() {
        assert!(serde_json::from_str::<HoldBody>(r#"{"reason": "x", "why": 1}"#).is_err());
        assert!(serde_json::from_str::<DestructionBody>(r#"{"class": "clinical"}"#).is_ok());
        assert!(
            serde_json::from_str::<ApprovalBody>(r#"{"version": 1, "approved_by": "x"}"#).is_err()
        );
        assert!(serde_json::from_str::<FlagBody>(r#"{"flagged": true}"#).is_ok());
    }
}
