//! The caller's calendar feed: whether it is on, a new address (shown once), turning it off.
//! The feed itself is served at its public address (`/feeds/af_….ics`), outside the API.

use crate::AppState;
use crate::auth::Signed;
use crate::pages::feeds::feed_links;
use crate::problem::{ApiError, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct FeedStatusView {
    /// True while the caller has a feed whose address works.
    pub live: bool,
    /// When its address was made (never the address itself: only its hash is kept).
    pub created_at: Option<String>,
}

/// Whether the caller has a calendar feed, and since when.
#[utoipa::path(
    get,
    path = "/api/v1/me/feed",
    tag = "account",
    responses(
        (status = 200, description = "The feed's state", body = FeedStatusView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn feed_status(
    State(state): State<AppState>,
    Signed(actor): Signed,
) -> Result<Json<FeedStatusView>, ApiError> {
    let status = state.alliance.feed_status(&actor).await?;
    Ok(Json(FeedStatusView {
        live: status.is_live(),
        created_at: status.created_at.map(|t| t.to_string()),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedFeedView {
    /// The feed's address, to subscribe to in a calendar program. Shown this once: only its
    /// hash is kept. Anyone with it sees the times and rooms of the caller's sessions.
    pub url: String,
    /// The same address as a `webcal://` link, which opens a calendar program.
    pub webcal_url: String,
    pub created_at: String,
}

/// Makes a new calendar feed address for the caller; any earlier address stops working. The
/// feed holds the times and rooms of the caller's sessions from four weeks back to 26 weeks
/// ahead, and no child identifier unless the service's policy shows initials.
#[utoipa::path(
    post,
    path = "/api/v1/me/feed",
    tag = "account",
    responses(
        (status = 201, description = "Created; the address is in `url`", body = IssuedFeedView),
        (status = 403, description = "A read-only token", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create_feed(
    State(state): State<AppState>,
    Signed(actor): Signed,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<IssuedFeedView>), ApiError> {
    let issued = state.alliance.create_feed(&actor).await?;
    let links = feed_links(&state, &headers, &issued.path);
    Ok((
        StatusCode::CREATED,
        Json(IssuedFeedView {
            url: links.url,
            webcal_url: links.webcal,
            created_at: issued.created_at.to_string(),
        }),
    ))
}

/// Turns off the caller's calendar feed: its address answers 404 from now on.
#[utoipa::path(
    delete,
    path = "/api/v1/me/feed",
    tag = "account",
    responses(
        (status = 204, description = "Turned off"),
        (status = 403, description = "A read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No calendar feed is on", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn revoke_feed(
    State(state): State<AppState>,
    Signed(actor): Signed,
) -> Result<StatusCode, ApiError> {
    state.alliance.revoke_feed(&actor).await?;
    Ok(StatusCode::NO_CONTENT)
}
