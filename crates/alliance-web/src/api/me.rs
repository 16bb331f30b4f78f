//! The caller's own account, sessions and API tokens.

use super::users::UserView;
use crate::AppState;
use crate::auth::Signed;
use crate::extract::ApiJson;
use crate::problem::{ApiError, Problem};
use alliance_core::auth::TokenScope;
use alliance_service::Via;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Who the credentials belong to.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "account",
    responses(
        (status = 200, description = "The signed-in account", body = UserView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn me(Signed(actor): Signed) -> Json<UserView> {
    Json(actor.user.into())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    pub started_at: String,
    pub last_seen_at: String,
    pub user_agent: String,
    pub address: String,
    /// True for the session making this request.
    pub current: bool,
}

/// Where the caller is signed in.
#[utoipa::path(
    get,
    path = "/api/v1/me/sessions",
    tag = "account",
    responses((status = 200, description = "Open sessions, newest first", body = Vec<SessionView>)),
    security(("bearer" = []))
)]
pub async fn sessions(
    State(state): State<AppState>,
    Signed(actor): Signed,
) -> Result<Json<Vec<SessionView>>, ApiError> {
    let current = match &actor.via {
        Via::Session { token_hash, .. } => Some(token_hash.clone()),
        Via::Token { .. } => None,
    };
    let sessions = state.alliance.own_sessions(&actor).await?;
    Ok(Json(
        sessions
            .into_iter()
            .map(|s| SessionView {
                current: current.as_deref() == Some(s.token_hash.as_str()),
                started_at: s.created_at.to_string(),
                last_seen_at: s.last_seen_at.to_string(),
                user_agent: s.user_agent,
                address: s.address,
            })
            .collect(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Ended {
    pub sessions_ended: u64,
}

/// Signs the caller out everywhere (every browser session ends; API tokens stay).
#[utoipa::path(
    post,
    path = "/api/v1/me/sessions/end-all",
    tag = "account",
    responses(
        (status = 200, description = "Every session ended", body = Ended),
        (status = 403, description = "A read-only token", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn end_all_sessions(
    State(state): State<AppState>,
    Signed(actor): Signed,
) -> Result<Json<Ended>, ApiError> {
    actor.ensure_may_write()?;
    let ended = state.alliance.sign_out_everywhere(&actor).await?;
    Ok(Json(Ended {
        sessions_ended: ended,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    pub id: String,
    pub name: String,
    /// `read` or `read-write`.
    pub scope: String,
    pub created_at: String,
    pub expires_at: String,
    pub last_used_at: Option<String>,
}

impl From<alliance_service::TokenRecord> for TokenView {
    fn from(t: alliance_service::TokenRecord) -> Self {
        Self {
            id: t.id.to_string(),
            name: t.name,
            scope: t.scope.code().to_owned(),
            created_at: t.created_at.to_string(),
            expires_at: t.expires_at.to_string(),
            last_used_at: t.last_used_at.map(|t| t.to_string()),
        }
    }
}

/// The caller's API tokens that still work.
#[utoipa::path(
    get,
    path = "/api/v1/me/tokens",
    tag = "account",
    responses((status = 200, description = "Tokens (never their secrets)", body = Vec<TokenView>)),
    security(("bearer" = []))
)]
pub async fn tokens(
    State(state): State<AppState>,
    Signed(actor): Signed,
) -> Result<Json<Vec<TokenView>>, ApiError> {
    let tokens = state.alliance.own_tokens(&actor).await?;
    Ok(Json(tokens.into_iter().map(TokenView::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTokenBody {
    pub name: String,
    /// `read` (default) or `read-write`.
    #[serde(default)]
    pub scope: Option<String>,
    /// Days until it expires: 1 to 366, default 90.
    #[serde(default)]
    pub expires_in_days: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedTokenView {
    /// The secret, shown this once: only its hash is kept.
    pub token: String,
    #[serde(flatten)]
    pub details: TokenView,
}

/// Creates an API token for the caller.
#[utoipa::path(
    post,
    path = "/api/v1/me/tokens",
    tag = "account",
    request_body = NewTokenBody,
    responses(
        (status = 201, description = "Created; the secret is in `token`", body = IssuedTokenView),
        (status = 403, description = "A read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create_token(
    State(state): State<AppState>,
    Signed(actor): Signed,
    ApiJson(body): ApiJson<NewTokenBody>,
) -> Result<(StatusCode, Json<IssuedTokenView>), ApiError> {
    actor.ensure_may_write()?;
    let scope = match body.scope.as_deref() {
        None => TokenScope::Read,
        Some(raw) => TokenScope::parse(raw).map_err(|m| {
            ApiError::from(Problem::for_status(StatusCode::UNPROCESSABLE_ENTITY).field("scope", m))
        })?,
    };
    let issued = state
        .alliance
        .issue_token(
            &actor.user,
            &body.name,
            scope,
            body.expires_in_days,
            &actor.origin,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(IssuedTokenView {
            token: issued.secret,
            details: issued.record.into(),
        }),
    ))
}

/// Revokes one of the caller's tokens.
#[utoipa::path(
    delete,
    path = "/api/v1/me/tokens/{id}",
    tag = "account",
    params(("id" = String, Path, description = "The token's id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "No such token of yours", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn revoke_token(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = Uuid::parse_str(&id)
        .map_err(|_| ApiError::from(Problem::for_status(StatusCode::NOT_FOUND)))?;
    state.alliance.revoke_own_token(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
