//! Staff accounts: the directory for everyone signed in; changes for administrators.

use super::directory::version;
use crate::AppState;
use crate::auth::Signed;
use crate::extract::{ApiJson, ApiQuery, PageParams};
use crate::problem::{ApiError, Problem};
use alliance_core::identity::{Role, User, UserDetails, UserId};
use alliance_service::{AccountRequest, UserFilter};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A member of staff's account (no secrets).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: String,
    pub username: String,
    pub display_name: String,
    /// Role codes: therapist, supervisor, dsl, deputy-dsl, service-lead, administrator, staff.
    pub roles: Vec<String>,
    /// none, hcpc, nmc, gmc, social-work-england, teacher, acp, bacp, ukcp, bapt, other.
    pub registration: String,
    pub registration_number: Option<String>,
    pub email: Option<String>,
    pub active: bool,
    pub second_factor: bool,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        Self {
            id: u.id.to_string(),
            username: u.username.as_str().to_owned(),
            display_name: u.display_name,
            roles: u.roles.iter().map(|r| r.code().to_owned()).collect(),
            registration: u.registration.code().to_owned(),
            registration_number: u.registration_number,
            email: u.email,
            active: u.active,
            second_factor: u.totp_enrolled,
            version: u.version.get(),
            created_at: u.created_at.to_string(),
            updated_at: u.updated_at.to_string(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserPage {
    pub items: Vec<UserView>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<String>,
}

/// Filters for the staff list, besides `limit` and `after`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UserListParams {
    /// Only people with this role.
    pub role: Option<String>,
    /// Only active (true) or deactivated (false) accounts.
    pub active: Option<bool>,
    /// Part of a name or username.
    pub q: Option<String>,
    pub limit: Option<i64>,
    pub after: Option<String>,
}

/// The staff directory, a page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/users",
    tag = "users",
    params(UserListParams),
    responses(
        (status = 200, description = "A page of accounts", body = UserPage),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A filter is not valid", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list_users(
    State(state): State<AppState>,
    Signed(actor): Signed,
    ApiQuery(params): ApiQuery<UserListParams>,
) -> Result<Json<UserPage>, ApiError> {
    let page = PageParams {
        limit: params.limit,
        after: params.after.clone(),
    }
    .request()?;
    let role = params
        .role
        .as_deref()
        .map(Role::parse)
        .transpose()
        .map_err(|m| {
            ApiError::from(Problem::for_status(StatusCode::UNPROCESSABLE_ENTITY).field("role", m))
        })?;
    let filter = UserFilter {
        role,
        active: params.active,
        search: params.q.filter(|q| !q.trim().is_empty()),
    };
    let users = state.alliance.list_users(&actor, &filter, &page).await?;
    Ok(Json(UserPage {
        next: users.next.clone(),
        items: users.items.into_iter().map(UserView::from).collect(),
    }))
}

fn parse_id(raw: &str) -> Result<UserId, ApiError> {
    UserId::parse(raw).map_err(|_| Problem::for_status(StatusCode::NOT_FOUND).into())
}

/// One account.
#[utoipa::path(
    get,
    path = "/api/v1/users/{id}",
    tag = "users",
    params(("id" = String, Path, description = "The account's id")),
    responses(
        (status = 200, description = "The account", body = UserView),
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_user(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Json<UserView>, ApiError> {
    let user = state.alliance.get_user(&actor, parse_id(&id)?).await?;
    Ok(Json(user.into()))
}

/// A new account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserBody {
    pub username: String,
    pub display_name: String,
    /// The first password (at least 12 characters, not a common one).
    pub password: String,
    pub roles: Vec<String>,
    #[serde(default)]
    pub registration: Option<String>,
    #[serde(default)]
    pub registration_number: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

/// Opens an account (administrators).
#[utoipa::path(
    post,
    path = "/api/v1/users",
    tag = "users",
    request_body = NewUserBody,
    responses(
        (status = 201, description = "Created", body = UserView),
        (status = 403, description = "Not an administrator, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create_user(
    State(state): State<AppState>,
    Signed(actor): Signed,
    ApiJson(body): ApiJson<NewUserBody>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    let user = state
        .alliance
        .create_user(
            &actor,
            AccountRequest {
                username: &body.username,
                display_name: &body.display_name,
                password: &body.password,
                roles: &body.roles,
                registration: body.registration.as_deref().unwrap_or("none"),
                registration_number: body.registration_number.as_deref(),
                email: body.email.as_deref(),
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

/// The details of an account, with the version they were read at.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserBody {
    pub version: i64,
    pub display_name: String,
    pub roles: Vec<String>,
    pub registration: String,
    #[serde(default)]
    pub registration_number: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

/// Changes an account (administrators). A change of roles signs the person out everywhere.
#[utoipa::path(
    put,
    path = "/api/v1/users/{id}",
    tag = "users",
    params(("id" = String, Path, description = "The account's id")),
    request_body = UpdateUserBody,
    responses(
        (status = 200, description = "Changed", body = UserView),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed by someone else since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn update_user(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateUserBody>,
) -> Result<Json<UserView>, ApiError> {
    let id = parse_id(&id)?;
    let expected = version(body.version)?;
    let details = UserDetails::parse(
        &body.display_name,
        &body.roles,
        &body.registration,
        body.registration_number.as_deref(),
        body.email.as_deref(),
    )?;
    let user = state
        .alliance
        .update_user(&actor, id, details, expected)
        .await?;
    Ok(Json(user.into()))
}

/// Whether an account may sign in, with the version it was read at.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActiveBody {
    pub version: i64,
    /// False deactivates (and signs the person out everywhere); true reactivates.
    pub active: bool,
}

/// Deactivates or reactivates an account (administrators). Accounts are never deleted.
#[utoipa::path(
    put,
    path = "/api/v1/users/{id}/active",
    tag = "users",
    params(("id" = String, Path, description = "The account's id")),
    request_body = ActiveBody,
    responses(
        (status = 200, description = "Changed", body = UserView),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed by someone else since it was read", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn set_active(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ActiveBody>,
) -> Result<Json<UserView>, ApiError> {
    let id = parse_id(&id)?;
    let user = state
        .alliance
        .set_user_active(&actor, id, body.active, version(body.version)?)
        .await?;
    Ok(Json(user.into()))
}

/// The therapists a supervisor supervises.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuperviseesBody {
    pub supervisees: Vec<String>,
    /// Of those, the ones whose children the supervisor sees by name (named access);
    /// the rest by initials and case number.
    #[serde(default)]
    pub named: Vec<String>,
}

/// Names the therapists a supervisor supervises (administrators).
#[utoipa::path(
    put,
    path = "/api/v1/users/{id}/supervisees",
    tag = "users",
    params(("id" = String, Path, description = "The supervisor's account id")),
    request_body = SuperviseesBody,
    responses(
        (status = 200, description = "Saved", body = SuperviseesBody),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a supervisor, or an unknown supervisee", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn set_supervisees(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SuperviseesBody>,
) -> Result<Json<SuperviseesBody>, ApiError> {
    let id = parse_id(&id)?;
    let mut ids = Vec::new();
    for raw in &body.supervisees {
        ids.push(UserId::parse(raw).map_err(|m| {
            ApiError::from(
                Problem::for_status(StatusCode::UNPROCESSABLE_ENTITY).field("supervisees", m),
            )
        })?);
    }
    let mut named = Vec::new();
    for raw in &body.named {
        named.push(UserId::parse(raw).map_err(|m| {
            ApiError::from(Problem::for_status(StatusCode::UNPROCESSABLE_ENTITY).field("named", m))
        })?);
    }
    state
        .alliance
        .set_supervisees(&actor, id, &ids, &named)
        .await?;
    Ok(Json(body))
}
