//! The public pages of a consent link, for a parent or carer who has no account: the link's
//! address (`/consent/ac_…`) is the credential. On first load the token moves into a cookie
//! (`HttpOnly`, `SameSite=Strict`, only for `/consent`, gone when the link expires) and the
//! browser is sent on to `/consent`, so the token leaves the address bar and the history.
//! Opening the link spends nothing: only a committed answer does, so a link scanner or a
//! retried request loses nothing. Every link that cannot be used (unknown, used, expired,
//! withdrawn, or a carer who may no longer receive it) gets the same answer.
//!
//! The token is never logged (the request log holds no paths), and these pages carry the same
//! security headers as every other, `Cache-Control: no-store` included. Posting an answer
//! passes the same-origin check every state-changing request passes; there is no session, so
//! no session CSRF token, and the cookie is `SameSite=Strict`.

use super::link_cookie::LinkCookie;
use super::{FieldErrors, FormData, Layout, render};
use crate::AppState;
use crate::auth::{CurrentAuth, RequestOrigin};
use crate::errors::page_error;
use crate::respond::PageError;
use alliance_service::AppError;
use alliance_service::agreements::{ConsentLinkPage, LinkAnswer};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/consent", get(consent_form).post(answer))
        .route("/consent/{token}", get(open_link))
}

/// The cookie that holds a consent link's token between its pages.
const COOKIE: LinkCookie = LinkCookie::new("alliance_consent", "/consent");

#[derive(Template)]
#[template(path = "consent_unusable.html")]
struct UnusablePage {
    layout: Layout,
}

/// The one answer for every link that cannot be used, and for a browser without the cookie.
async fn unusable(
    state: &AppState,
    auth: &crate::auth::Auth,
    headers: &HeaderMap,
) -> Result<Response, PageError> {
    let profile = state.alliance.service_profile().await?;
    let mut response = render(&UnusablePage {
        layout: Layout::new(profile.as_ref(), "consent", auth),
    })?
    .into_response();
    *response.status_mut() = StatusCode::NOT_FOUND;
    // A link that cannot be used leaves nothing behind. Only a cookie that was sent is
    // cleared: one the browser held back (a page opened from another site) may still be good.
    if COOKIE.token(headers).is_some() {
        response.headers_mut().insert(
            header::SET_COOKIE,
            COOKIE.clear(state.config.secure_cookies),
        );
    }
    Ok(response)
}

#[derive(Template)]
#[template(path = "consent_continue.html")]
struct ContinuePage {
    layout: Layout,
}

/// The link's first load: the token goes into the cookie and the browser moves on to
/// `/consent` at once. Not with a 303: after a redirect the navigation still counts as coming
/// from the site the link was clicked on (a webmail), so the browser would not send a
/// `SameSite=Strict` cookie to `/consent`; a navigation this page starts is same-site.
async fn open_link(
    State(state): State<AppState>,
    CurrentAuth(auth): CurrentAuth,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    match state
        .alliance
        .consent_link_page(&token, &origin, true)
        .await
    {
        Ok(page) => {
            let now = state.alliance.clock().now();
            let seconds = page.expires_at.duration_since(now).as_secs().max(1);
            let profile = state.alliance.service_profile().await?;
            let mut response = render(&ContinuePage {
                layout: Layout::new(profile.as_ref(), "consent", &auth),
            })?
            .into_response();
            if let Some(cookie) = COOKIE.set(state.config.secure_cookies, &token, seconds) {
                response.headers_mut().insert(header::SET_COOKIE, cookie);
            }
            Ok(response)
        }
        Err(AppError::NotFound) => unusable(&state, &auth, &headers).await,
        Err(other) => Err(page_error(other)),
    }
}

#[derive(Template)]
#[template(path = "consent_form.html")]
struct ConsentFormPage {
    layout: Layout,
    link: ConsentLinkPage,
    expires: String,
    form: FormData,
    errors: FieldErrors,
}

fn form_page(layout: Layout, link: ConsentLinkPage) -> ConsentFormPage {
    ConsentFormPage {
        layout,
        expires: alliance_core::uk::date_time(link.expires_at),
        link,
        form: FormData::default(),
        errors: FieldErrors::default(),
    }
}

async fn consent_form(
    State(state): State<AppState>,
    CurrentAuth(auth): CurrentAuth,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let Some(token) = COOKIE.token(&headers) else {
        return unusable(&state, &auth, &headers).await;
    };
    match state
        .alliance
        .consent_link_page(&token, &origin, false)
        .await
    {
        Ok(link) => {
            let profile = state.alliance.service_profile().await?;
            let layout = Layout::new(profile.as_ref(), "consent", &auth);
            Ok(render(&form_page(layout, link))?.into_response())
        }
        Err(AppError::NotFound) => unusable(&state, &auth, &headers).await,
        Err(other) => Err(page_error(other)),
    }
}

#[derive(Template)]
#[template(path = "consent_thanks.html")]
struct ThanksPage {
    layout: Layout,
    service_name: String,
    child_first_name: String,
    agreed: bool,
}

async fn answer(
    State(state): State<AppState>,
    CurrentAuth(auth): CurrentAuth,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let Some(token) = COOKIE.token(&headers) else {
        return unusable(&state, &auth, &headers).await;
    };
    // What the page says: read before the answer spends the link.
    let link = match state
        .alliance
        .consent_link_page(&token, &origin, false)
        .await
    {
        Ok(link) => link,
        Err(AppError::NotFound) => return unusable(&state, &auth, &headers).await,
        Err(other) => return Err(page_error(other)),
    };
    let answer = LinkAnswer {
        decision: form.get("decision").to_owned(),
        signed_name: form.get("signed_name").to_owned(),
        comment: form.get("comment").to_owned(),
    };
    let profile = state.alliance.service_profile().await?;
    let layout = Layout::new(profile.as_ref(), "consent", &auth);
    match state
        .alliance
        .answer_consent_link(&token, &answer, &origin)
        .await
    {
        Ok(()) => {
            let mut response = render(&ThanksPage {
                layout,
                service_name: link.service_name,
                child_first_name: link.child_first_name,
                agreed: answer.decision.trim() == "consent",
            })?
            .into_response();
            response.headers_mut().insert(
                header::SET_COOKIE,
                COOKIE.clear(state.config.secure_cookies),
            );
            Ok(response)
        }
        Err(AppError::Invalid(invalid)) => {
            let mut page = form_page(layout, link);
            page.form = form;
            page.errors = FieldErrors::from_invalid(&invalid);
            super::unprocessable(&page)
        }
        Err(AppError::NotFound) => unusable(&state, &auth, &headers).await,
        Err(other) => Err(page_error(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_cookie_is_strict_http_only_and_only_for_the_consent_pages() {
        let cookie = COOKIE
            .set(true, "ac_00", 60)
            .and_then(|v| v.to_str().ok().map(str::to_owned))
            .unwrap_or_default();
        assert_eq!(
            cookie,
            "alliance_consent=ac_00; Path=/consent; HttpOnly; SameSite=Strict; Max-Age=60; Secure"
        );
        let plain = COOKIE
            .set(false, "ac_00", 60)
            .and_then(|v| v.to_str().ok().map(str::to_owned))
            .unwrap_or_default();
        assert!(!plain.contains("Secure"));
        assert!(
            COOKIE
                .clear(false)
                .to_str()
                .unwrap_or("")
                .contains("Max-Age=0")
        );
    }

    #[test]
    fn the_token_is_read_from_its_own_cookie_only() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("alliance=as_x; alliance_consent=ac_1"),
        );
        assert_eq!(COOKIE.token(&headers).as_deref(), Some("ac_1"));
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("alliance_consent="),
        );
        assert_eq!(COOKIE.token(&headers), None);
        assert_eq!(COOKIE.token(&HeaderMap::new()), None);
    }
}
