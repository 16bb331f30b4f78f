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
