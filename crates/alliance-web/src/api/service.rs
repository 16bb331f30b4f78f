//! The service's public profile.

use crate::AppState;
use crate::problem::{ApiError, Problem};
use alliance_core::ServiceProfile;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// The service that runs this Alliance.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceView {
    pub name: String,
    /// `england`, `wales`, `scotland` or `northern-ireland`: which nation's rules apply.
    pub nation: String,
    /// True for a demo database, which holds only made-up data.
    pub is_demo: bool,
    /// The record's version, for updates (a stale one is refused with 409).
    pub version: i64,
    /// When the record last changed (RFC 3339, UTC).
    pub updated_at: String,
}

impl From<ServiceProfile> for ServiceView {
    fn from(p: ServiceProfile) -> Self {
        Self {
            name: p.name.as_str().to_owned(),
            nation: p.nation.code().to_owned(),
            is_demo: p.is_demo,
            version: p.version.get(),
            updated_at: p.updated_at.to_string(),
        }
    }
}

/// The service's name, nation and whether it is a demo.
#[utoipa::path(
    get,
    path = "/api/v1/service",
    tag = "service",
    responses(
        (status = 200, description = "The service", body = ServiceView,
            headers(("ETag" = String, description = "The record's version, as \"v<version>\""))),
        (status = 404, description = "No service has been set up yet", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn get_service(State(state): State<AppState>) -> Result<Response, ApiError> {
    let Some(profile) = state.alliance.service_profile().await? else {
        return Err(Problem::for_status(StatusCode::NOT_FOUND)
            .detail("No service has been set up in this Alliance yet.")
            .into());
    };
    let etag = HeaderValue::from_str(&format!("\"v{}\"", profile.version.get())).ok();
    let mut response = Json(ServiceView::from(profile)).into_response();
    if let Some(etag) = etag {
        response.headers_mut().insert(header::ETAG, etag);
    }
    Ok(response)
}

/// The service's details with the version they were read at.
#[derive(Debug, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateServiceBody {
    pub version: i64,
    pub name: String,
    pub nation: String,
}

/// Changes the service's name or nation (administrators). Send the version you read (also
/// the ETag); a stale one is refused with 409 and the current version.
#[utoipa::path(
    put,
    path = "/api/v1/service",
    tag = "service",
    request_body = UpdateServiceBody,
    responses(
        (status = 200, description = "Changed", body = ServiceView),
        (status = 403, description = "Not an administrator, or a read-only token", body = Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "Changed by someone else since it was read", body = Problem,
            content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid", body = Problem,
            content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn update_service(
    State(state): State<AppState>,
    crate::auth::Signed(actor): crate::auth::Signed,
    crate::extract::ApiJson(body): crate::extract::ApiJson<UpdateServiceBody>,
) -> Result<Json<ServiceView>, ApiError> {
    let expected = alliance_core::Version::new(body.version).map_err(|m| {
        ApiError::from(Problem::for_status(StatusCode::UNPROCESSABLE_ENTITY).field("version", m))
    })?;
    let details = alliance_core::service::ServiceDetails::parse(&body.name, &body.nation)?;
    let profile = state
        .alliance
        .update_service(&actor, details, expected)
        .await?;
    Ok(Json(profile.into()))
}

/// How children are prepared for breaks and endings, and what calendar feeds say.
#[derive(Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct FramePolicyView {
    /// Prepare the child this many sessions before every break (1 to 4; 1: the session
    /// before).
    pub break_notice_sessions: u8,
    /// Begin the ending countdown this many sessions before the last (4 to 12; 6 by default,
    /// never fewer than 4).
    pub ending_countdown_sessions: u8,
    /// Whether therapists' calendar feeds carry children's initials (off by default).
    pub feed_shows_initials: bool,
    /// The policy's version, for updates; absent while the defaults stand.
    #[serde(default)]
    pub version: Option<i64>,
}

fn policy_view(
    policy: alliance_core::frame::FramePolicy,
    version: Option<alliance_core::Version>,
) -> FramePolicyView {
    FramePolicyView {
        break_notice_sessions: policy.break_notice_sessions,
        ending_countdown_sessions: policy.ending_countdown_sessions,
        feed_shows_initials: policy.feed_shows_initials,
        version: version.map(|v| v.get()),
    }
}

/// The policy for breaks, endings and calendar feeds (anyone signed in may read it).
#[utoipa::path(
    get,
    path = "/api/v1/service/frame-policy",
    tag = "service",
    responses((status = 200, description = "The policy", body = FramePolicyView)),
    security(("bearer" = []))
)]
pub async fn get_frame_policy(
    State(state): State<AppState>,
    crate::auth::Signed(_actor): crate::auth::Signed,
) -> Result<Json<FramePolicyView>, ApiError> {
    let (policy, version) = state.alliance.frame_policy().await?;
    Ok(Json(policy_view(policy, version)))
}

/// Changes the policy (administrators). Send the version you read, or none while the
/// defaults stand; a stale one is refused with 409.
#[utoipa::path(
    put,
    path = "/api/v1/service/frame-policy",
    tag = "service",
    request_body = FramePolicyView,
    responses(
        (status = 200, description = "Changed", body = FramePolicyView),
        (status = 403, description = "Not an administrator, or a read-only token", body = Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "Changed by someone else since it was read", body = Problem,
            content_type = "application/problem+json"),
        (status = 422, description = "A number is out of bounds", body = Problem,
            content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn update_frame_policy(
    State(state): State<AppState>,
    crate::auth::Signed(actor): crate::auth::Signed,
    crate::extract::ApiJson(body): crate::extract::ApiJson<FramePolicyView>,
) -> Result<Json<FramePolicyView>, ApiError> {
    let expected = body.version.map(super::directory::version).transpose()?;
    let input = alliance_core::frame::FramePolicyInput {
        break_notice_sessions: body.break_notice_sessions.to_string(),
        ending_countdown_sessions: body.ending_countdown_sessions.to_string(),
        feed_shows_initials: body.feed_shows_initials,
    };
    state
        .alliance
        .set_frame_policy(&actor, &input, expected)
        .await?;
    let (policy, version) = state.alliance.frame_policy().await?;
    Ok(Json(policy_view(policy, version)))
}

/// The consent rules in use: the service's nation's rule set (policy section 3), with the
/// figures a service may change.
#[derive(Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct ConsentRulesView {
    /// Which rule set: `england-wales`, `scotland` or `northern-ireland` (read only).
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub name: String,
    /// From this age capacity is presumed and the young person consents for themselves
    /// (12 to 18; 16 by default in every nation).
    pub presumed_capable_from: i16,
    /// What a judgement of a younger child's competence is called here (read only).
    #[serde(default)]
    pub competence_test: String,
    /// A judgement, a discussion of dissent or a decision needs reasoning this long.
    pub reasoning_min_chars: usize,
    /// Whether a known objection from a holder of parental responsibility pauses the start.
    pub objection_pauses_start: bool,
    /// Where the rules come from (read only).
    #[serde(default)]
    pub sources: Vec<String>,
    /// The version of the service's figures (none while the shipped ones stand).
    #[serde(default)]
    pub version: Option<i64>,
}

fn consent_view(
    rules: alliance_core::consent::ConsentRules,
    version: Option<alliance_core::Version>,
) -> ConsentRulesView {
    ConsentRulesView {
        code: rules.code,
        name: rules.name,
        presumed_capable_from: rules.presumed_capable_from,
        competence_test: rules.competence_test,
        reasoning_min_chars: rules.reasoning_min_chars,
        objection_pauses_start: rules.objection_pauses_start,
        sources: rules
            .sources
            .into_iter()
            .map(|s| format!("{}: {}", s.title, s.url))
            .collect(),
        version: version.map(|v| v.get()),
    }
}

/// The consent rules in use (anyone signed in may read them).
#[utoipa::path(
    get,
    path = "/api/v1/service/consent-rules",
    tag = "service",
    responses((status = 200, description = "The rules", body = ConsentRulesView)),
    security(("bearer" = []))
)]
pub async fn get_consent_rules(
    State(state): State<AppState>,
    crate::auth::Signed(_actor): crate::auth::Signed,
) -> Result<Json<ConsentRulesView>, ApiError> {
    let (rules, version) = state.alliance.consent_rules_and_version().await?;
    Ok(Json(consent_view(rules, version)))
}

/// Changes the service's figures (administrators): the age capacity is presumed from, the
/// reasoning's length, and whether an objection pauses the start. Send the version you read,
/// or none while the shipped figures stand; a stale one is refused with 409.
#[utoipa::path(
    put,
    path = "/api/v1/service/consent-rules",
    tag = "service",
    request_body = ConsentRulesView,
    responses(
        (status = 200, description = "Changed", body = ConsentRulesView),
        (status = 403, description = "Not an administrator, or a read-only token", body = Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "Changed by someone else since it was read", body = Problem,
            content_type = "application/problem+json"),
        (status = 422, description = "A figure is out of bounds", body = Problem,
            content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn update_consent_rules(
    State(state): State<AppState>,
    crate::auth::Signed(actor): crate::auth::Signed,
    crate::extract::ApiJson(body): crate::extract::ApiJson<ConsentRulesView>,
) -> Result<Json<ConsentRulesView>, ApiError> {
    let expected = body.version.map(super::directory::version).transpose()?;
    let figures = alliance_core::consent::ConsentOverrides {
        presumed_capable_from: body.presumed_capable_from,
        reasoning_min_chars: body.reasoning_min_chars,
        objection_pauses_start: body.objection_pauses_start,
    };
    state
        .alliance
        .set_consent_figures(&actor, &figures, expected)
        .await?;
    let (rules, version) = state.alliance.consent_rules_and_version().await?;
    Ok(Json(consent_view(rules, version)))
}

/// How often the case team reviews the work with the carers.
#[derive(Debug, Serialize, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactPolicyView {
    /// Weeks between carers' review meetings (1 to 26; 6 by default). The case team is
    /// reminded when the last meeting with a carer (or the start of the work) is this old.
    pub carer_review_weeks: i64,
    /// The policy's version, for updates; absent while the default stands.
    #[serde(default)]
    pub version: Option<i64>,
}

fn contact_policy_view(
    policy: alliance_service::contact_logs::ContactPolicy,
    version: Option<alliance_core::Version>,
) -> ContactPolicyView {
    ContactPolicyView {
        carer_review_weeks: policy.carer_review_weeks,
        version: version.map(|v| v.get()),
    }
}

/// The contact policy: how often the carers' review meeting falls due (anyone signed in may
/// read it).
#[utoipa::path(
    get,
    path = "/api/v1/service/contact-policy",
    tag = "service",
    responses((status = 200, description = "The policy", body = ContactPolicyView)),
    security(("bearer" = []))
)]
pub async fn contact_policy(
    State(state): State<AppState>,
    crate::auth::Signed(_actor): crate::auth::Signed,
) -> Result<Json<ContactPolicyView>, ApiError> {
    let (policy, version) = state.alliance.contact_policy().await?;
    Ok(Json(contact_policy_view(policy, version)))
}

/// Changes the contact policy (administrators). Send the version you read, or none while
/// the default stands; a stale one is refused with 409.
#[utoipa::path(
    put,
    path = "/api/v1/service/contact-policy",
    tag = "service",
    request_body = ContactPolicyView,
    responses(
        (status = 200, description = "Changed", body = ContactPolicyView),
        (status = 403, description = "Not an administrator, or a read-only token", body = Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "Changed by someone else since it was read", body = Problem,
            content_type = "application/problem+json"),
        (status = 422, description = "The number of weeks is out of bounds", body = Problem,
            content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn set_contact_policy(
    State(state): State<AppState>,
    crate::auth::Signed(actor): crate::auth::Signed,
    crate::extract::ApiJson(body): crate::extract::ApiJson<ContactPolicyView>,
) -> Result<Json<ContactPolicyView>, ApiError> {
    let expected = body.version.map(super::directory::version).transpose()?;
    let policy = alliance_service::contact_logs::ContactPolicy {
        carer_review_weeks: body.carer_review_weeks,
    };
    state
        .alliance
        .set_contact_policy(&actor, policy, expected)
        .await?;
    let (policy, version) = state.alliance.contact_policy().await?;
    Ok(Json(contact_policy_view(policy, version)))
}
