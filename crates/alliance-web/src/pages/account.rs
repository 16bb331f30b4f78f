//! One's own account: sessions (and "sign out everywhere"), password, second factor, API
//! tokens, and the calendar feed.

use super::feeds::{FeedLinks, feed_links};
use super::{FieldErrors, FormData, Layout, render};
use crate::AppState;
use crate::auth::{CurrentAuth, Signed, clear_cookie};
use crate::errors::page_error;
use crate::respond::PageError;
use alliance_core::auth::TokenScope;
use alliance_core::uk;
use alliance_service::{AppError, Via};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account", get(account_page))
        .route("/account/sign-out-everywhere", post(sign_out_everywhere))
        .route("/account/password", post(change_password))
        .route("/account/tokens", post(create_token))
        .route("/account/tokens/{id}/revoke", post(revoke_token))
        .route("/account/feed", post(create_feed))
        .route("/account/feed/revoke", post(revoke_feed))
}

struct SessionRow {
    started: String,
    last_seen: String,
    device: String,
    address: String,
    current: bool,
}

struct TokenRow {
    id: String,
    name: String,
    scope: &'static str,
    created: String,
    expires: String,
    last_used: String,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    layout: Layout,
    display_name: String,
    username: String,
    roles: Vec<&'static str>,
    second_factor: bool,
    sessions: Vec<SessionRow>,
    tokens: Vec<TokenRow>,
    password_errors: FieldErrors,
    token_errors: FieldErrors,
    new_token: Option<String>,
    notice: Option<String>,
    /// When the live calendar feed was created, if there is one.
    feed_created: Option<String>,
    /// Whether the service's policy puts children's initials in feeds.
    feed_shows_initials: bool,
    /// A feed just created: its address, shown this once.
    new_feed: Option<FeedLinks>,
}

async fn account_view(
    state: &AppState,
    actor: &alliance_service::Actor,
    auth: &crate::auth::Auth,
) -> Result<AccountPage, PageError> {
    let current_hash = match &actor.via {
        Via::Session { token_hash, .. } => Some(token_hash.clone()),
        Via::Token { .. } => None,
    };
    let sessions = state
        .alliance
        .own_sessions(actor)
        .await
        .map_err(page_error)?
        .into_iter()
        .map(|s| SessionRow {
            started: uk::date_time(s.created_at),
            last_seen: uk::date_time(s.last_seen_at),
            device: describe_agent(&s.user_agent),
            address: s.address,
            current: current_hash.as_deref() == Some(s.token_hash.as_str()),
        })
        .collect();
    let tokens = state
        .alliance
        .own_tokens(actor)
        .await
        .map_err(page_error)?
        .into_iter()
        .map(|t| TokenRow {
            id: t.id.to_string(),
            name: t.name,
            scope: match t.scope {
                TokenScope::Read => "read only",
                TokenScope::ReadWrite => "read and write",
            },
            created: uk::date_time(t.created_at),
            expires: uk::date_time(t.expires_at),
            last_used: t
                .last_used_at
                .map(uk::date_time)
                .unwrap_or_else(|| "never".to_owned()),
        })
        .collect();
    let feed = state
        .alliance
        .feed_status(actor)
        .await
        .map_err(page_error)?;
    let (policy, _) = state.alliance.frame_policy().await.map_err(page_error)?;
    Ok(AccountPage {
        layout: Layout::load(state, "account", auth).await?,
        display_name: actor.user.display_name.clone(),
        username: actor.user.username.as_str().to_owned(),
        roles: actor.user.roles.iter().map(|r| r.label()).collect(),
        second_factor: actor.user.totp_enrolled,
        sessions,
        tokens,
        password_errors: FieldErrors::default(),
        token_errors: FieldErrors::default(),
        new_token: None,
        notice: None,
        feed_created: feed.created_at.map(uk::date_time),
        feed_shows_initials: policy.feed_shows_initials,
        new_feed: None,
    })
}

/// A short, readable description of a browser from its user-agent string.
fn describe_agent(agent: &str) -> String {
    let browser = ["Edg/", "Firefox/", "Chrome/", "Safari/", "curl/"]
        .into_iter()
        .find(|b| agent.contains(b))
        .map(|b| match b {
            "Edg/" => "Edge",
            "Firefox/" => "Firefox",
            "Chrome/" => "Chrome",
            "Safari/" => "Safari",
            _ => "Command line",
        })
        .unwrap_or("Unknown browser");
    let system = [
        "Windows", "Mac OS", "iPhone", "iPad", "Android", "Linux", "CrOS",
    ]
    .into_iter()
    .find(|s| agent.contains(s))
    .map(|s| match s {
        "Mac OS" => "macOS",
        "CrOS" => "ChromeOS",
        other => other,
    });
    match system {
        Some(system) => format!("{browser} on {system}"),
        None => browser.to_owned(),
    }
}

async fn account_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
) -> Result<Response, PageError> {
    Ok(render(&account_view(&state, &actor, &auth).await?)?.into_response())
}

async fn sign_out_everywhere(State(state): State<AppState>, Signed(actor): Signed) -> Response {
    match state.alliance.sign_out_everywhere(&actor).await {
        Ok(_) => {
            let mut response = Redirect::to("/sign-in?signed_out=1").into_response();
            response.headers_mut().append(
                header::SET_COOKIE,
                clear_cookie(state.config.secure_cookies),
            );
            response
        }
        Err(err) => crate::errors::page(err),
    }
}

async fn change_password(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let new = form.get("new_password");
    if new != form.get("confirm_password") {
        let mut page = account_view(&state, &actor, &auth).await?;
        page.password_errors =
            FieldErrors::one("confirm_password", "The two new passwords are not the same");
        return unprocessable(&page);
    }
    match state
        .alliance
        .change_own_password(&actor, form.get("current_password"), new)
        .await
    {
        Ok(()) => {
            // Every session has ended, this one too: sign in again with the new password.
            let mut response = Redirect::to("/sign-in?password_changed=1").into_response();
            response.headers_mut().append(
                header::SET_COOKIE,
                clear_cookie(state.config.secure_cookies),
            );
            Ok(response)
        }
        Err(AppError::Invalid(invalid)) => {
            let mut page = account_view(&state, &actor, &auth).await?;
            page.password_errors = FieldErrors::from_invalid(&invalid);
            unprocessable(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}

fn unprocessable(page: &AccountPage) -> Result<Response, PageError> {
    let mut response = render(page)?.into_response();
    *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}

async fn create_token(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let scope = TokenScope::parse(form.get("scope")).unwrap_or(TokenScope::Read);
    let days = form.get("days").trim().parse::<i64>().ok();
    match state
        .alliance
        .issue_token(&actor.user, form.get("name"), scope, days, &actor.origin)
        .await
    {
        Ok(issued) => {
            let mut page = account_view(&state, &actor, &auth).await?;
            page.new_token = Some(issued.secret);
            Ok(render(&page)?.into_response())
        }
        Err(AppError::Invalid(invalid)) => {
            let mut page = account_view(&state, &actor, &auth).await?;
            page.token_errors = FieldErrors::from_invalid(&invalid);
            unprocessable(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}

async fn revoke_token(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = Uuid::parse_str(&id).map_err(|_| page_error(AppError::NotFound))?;
    state
        .alliance
        .revoke_own_token(&actor, id)
        .await
        .map_err(page_error)?;
    Ok(Redirect::to("/account#tokens").into_response())
}

async fn create_feed(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let issued = state
        .alliance
        .create_feed(&actor)
        .await
        .map_err(page_error)?;
    let mut page = account_view(&state, &actor, &auth).await?;
    page.new_feed = Some(feed_links(&state, &headers, &issued.path));
    Ok(render(&page)?.into_response())
}

async fn revoke_feed(
    State(state): State<AppState>,
    Signed(actor): Signed,
) -> Result<Response, PageError> {
    match state.alliance.revoke_feed(&actor).await {
        // Already off (another tab, say): the page shows it off either way.
        Ok(()) | Err(AppError::NotFound) => {
            Ok(Redirect::to("/account#calendar-feed").into_response())
        }
        Err(other) => Err(page_error(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::describe_agent;

    #[test]
    fn browsers_are_described_briefly() {
        let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";
        assert_eq!(describe_agent(chrome), "Chrome on Windows");
        assert_eq!(describe_agent("curl/8.0"), "Command line");
        assert_eq!(describe_agent(""), "Unknown browser");
    }
}
