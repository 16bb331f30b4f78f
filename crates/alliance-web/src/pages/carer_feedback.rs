//! Carers' feedback links (issue 17, helper C).
//!
//! - `/children/{id}/carer-feedback`: for whoever writes the child's clinical record, the
//!   child's carers, whether each may receive a feedback link and why not, their links, a
//!   form to make one (shown once, to pass on) and a button to withdraw one.
//! - `/feedback/{token}` and `/feedback`: the public pages of a carer's link, for a parent or
//!   carer who has no account: the link's address is the credential. On first load the token
//!   moves into a cookie (`HttpOnly`, `SameSite=Strict`, only for `/feedback`, gone when the
//!   link expires) and the browser moves on to `/feedback` with the same-site page the
//!   consent links use (not a 303: after a cross-site redirect the browser would withhold the
//!   strict cookie). Opening spends nothing; only the committed answer does. Every link that
//!   cannot be used gets the same 404. The token is never logged (the request log holds no
//!   paths).

use super::link_cookie::LinkCookie;
use super::{FieldErrors, FormData, Layout, render};
use crate::AppState;
use crate::auth::{CurrentAuth, Signed};
use crate::errors::page_error;
use crate::respond::PageError;
use alliance_core::children::{CarerId, ChildId};
use alliance_core::measures::Definition;
use alliance_core::uk;
use alliance_service::AppError;
use alliance_service::carer_feedback::{CarerFeedbackView, CarerLinkPage, LinkState};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use std::collections::BTreeMap;

pub fn router() -> Router<AppState> {
    // One method a line, so the route table the headers test reads finds each.
    Router::new()
        .route("/children/{id}/carer-feedback", get(staff_page))
        .route("/children/{id}/carer-feedback", post(create_link))
        .route(
            "/children/{id}/carer-feedback/{link}/withdraw",
            post(withdraw_link),
        )
        .route("/feedback", get(feedback_form))
        .route("/feedback", post(answer))
        .route("/feedback/{token}", get(open_link))
}

fn child_id(raw: &str) -> Result<ChildId, PageError> {
    ChildId::parse(raw).map_err(|_| page_error(AppError::NotFound))
}

// ----- the staff page -----

struct LinkRow {
    id: String,
    measure: String,
    made: String,
    expires: String,
    state: &'static str,
    waiting: bool,
}

struct CarerRow {
    id: String,
    name: String,
    relationship: String,
    refusal: Option<String>,
    links: Vec<LinkRow>,
}

struct NewLink {
    carer: String,
    url: String,
    expires: String,
}

#[derive(Template)]
#[template(path = "carer_feedback.html")]
struct StaffPage {
    layout: Layout,
    id: String,
    child_shown: String,
    carers: Vec<CarerRow>,
    measures: Vec<(String, String)>,
    link_days: u32,
    new_link: Option<NewLink>,
    errors: FieldErrors,
}

fn staff_page_of(layout: Layout, view: CarerFeedbackView) -> StaffPage {
    StaffPage {
        layout,
        id: view.child.to_string(),
        child_shown: view.child_shown,
        carers: view
            .carers
            .into_iter()
            .map(|c| CarerRow {
                id: c.id.to_string(),
                name: c.name,
                relationship: c.relationship,
                refusal: c.refusal,
                links: c
                    .links
                    .into_iter()
                    .map(|l| LinkRow {
                        id: l.id.to_string(),
                        measure: l.measure_name,
                        made: uk::date_time(l.created_at),
                        expires: uk::date_time(l.expires_at),
                        state: l.state.label(),
                        waiting: l.state == LinkState::Waiting,
                    })
                    .collect(),
            })
            .collect(),
        measures: view.measures,
        link_days: view.link_days,
        new_link: None,
        errors: FieldErrors::default(),
    }
}

async fn load_staff_page(
    state: &AppState,
    actor: &alliance_service::Actor,
    auth: &crate::auth::Auth,
    child: ChildId,
) -> Result<StaffPage, PageError> {
    let view = state
        .alliance
        .carer_feedback(actor, child)
        .await
        .map_err(page_error)?;
    Ok(staff_page_of(
        Layout::load(state, "children", auth).await?,
        view,
    ))
}

async fn staff_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let page = load_staff_page(&state, &actor, &auth, child_id(&id)?).await?;
    Ok(render(&page)?.into_response())
}

async fn create_link(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let child = child_id(&id)?;
    let carer = CarerId::parse(form.get("carer"));
    let outcome = match carer {
        Ok(carer) => {
            state
                .alliance
                .create_carer_link(&actor, child, carer, form.optional("measure"))
                .await
        }
        Err(_) => Err(AppError::Invalid(alliance_core::Invalid::field(
            "carer",
            "Choose one of the child's carers",
        ))),
    };
    match outcome {
        Ok((link, token)) => {
            let mut page = load_staff_page(&state, &actor, &auth, child).await?;
            let carer = link.carer_id.map(|c| c.to_string()).unwrap_or_default();
            page.new_link = Some(NewLink {
                carer: page
                    .carers
                    .iter()
                    .find(|c| c.id == carer)
                    .map(|c| c.name.clone())
                    .unwrap_or_default(),
                url: super::feeds::feed_links(&state, &headers, &format!("/feedback/{token}")).url,
                expires: uk::date_time(link.expires_at),
            });
            Ok(render(&page)?.into_response())
        }
        Err(AppError::Invalid(invalid)) => {
            let mut page = load_staff_page(&state, &actor, &auth, child).await?;
            page.errors = FieldErrors::from_invalid(&invalid);
            super::unprocessable(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}

async fn withdraw_link(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path((id, link)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let child = child_id(&id)?;
    let link = uuid::Uuid::parse_str(&link).map_err(|_| page_error(AppError::NotFound))?;
    match state
        .alliance
        .withdraw_carer_link(&actor, child, link)
        .await
    {
        Ok(()) => Ok(Redirect::to(&format!("/children/{child}/carer-feedback")).into_response()),
        Err(AppError::Invalid(invalid)) => {
            let mut page = load_staff_page(&state, &actor, &auth, child).await?;
            page.errors = FieldErrors::from_invalid(&invalid);
            super::unprocessable(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}

// ----- the carer's public pages -----

/// The cookie that holds a carer's link token between its pages.
const COOKIE: LinkCookie = LinkCookie::new("alliance_feedback", "/feedback");

#[derive(Template)]
#[template(path = "carer_feedback_unusable.html")]
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
        layout: Layout::new(profile.as_ref(), "feedback", auth),
    })?
    .into_response();
    *response.status_mut() = StatusCode::NOT_FOUND;
    // Only a cookie that was sent is cleared: one the browser held back may still be good.
    if COOKIE.token(headers).is_some() {
        response.headers_mut().insert(
            header::SET_COOKIE,
            COOKIE.clear(state.config.secure_cookies),
        );
    }
    Ok(response)
}

#[derive(Template)]
#[template(path = "carer_feedback_continue.html")]
struct ContinuePage {
    layout: Layout,
}

/// The link's first load: the token goes into the cookie and the browser moves on to
/// `/feedback` at once, with a page (never a 303), so the strict cookie goes with it.
async fn open_link(
    State(state): State<AppState>,
    CurrentAuth(auth): CurrentAuth,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    match state.alliance.carer_link_page(&token).await {
        Ok(page) => {
            let now = state.alliance.clock().now();
            let seconds = page.expires_at.duration_since(now).as_secs().max(1);
            let profile = state.alliance.service_profile().await?;
            let mut response = render(&ContinuePage {
                layout: Layout::new(profile.as_ref(), "feedback", &auth),
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

struct Question {
    id: String,
    text: String,
    choices: Vec<(String, i32, String, bool)>,
}

#[derive(Template)]
#[template(path = "carer_feedback_form.html")]
struct FormPage {
    layout: Layout,
    child_first_name: String,
    measure_name: String,
    attribution: Option<String>,
    questions: Vec<Question>,
    expires: String,
    errors: FieldErrors,
}

fn questions(def: &Definition, form: &FormData) -> Vec<Question> {
    def.items
        .iter()
        .map(|item| Question {
            id: item.id.clone(),
            text: item.text.clone().unwrap_or_default(),
            choices: def
                .choices(item)
                .into_iter()
                .enumerate()
                .map(|(n, c)| {
                    let dom = if n == 0 {
                        item.id.clone()
                    } else {
                        format!("{}-{}", item.id, c.value)
                    };
                    let label = if c.label.is_empty() {
                        c.value.to_string()
                    } else {
                        c.label.clone()
                    };
                    let checked = form.has(&item.id, &c.value.to_string());
                    (dom, c.value, label, checked)
                })
                .collect(),
        })
        .collect()
}

fn form_page(
    layout: Layout,
    link: &CarerLinkPage,
    form: &FormData,
    errors: FieldErrors,
) -> FormPage {
    FormPage {
        layout,
        child_first_name: link.child_first_name.clone(),
        measure_name: link.definition.name.clone(),
        attribution: link.definition.licence.attribution.clone(),
        questions: questions(&link.definition, form),
        expires: uk::date_time(link.expires_at),
        errors,
    }
}

async fn feedback_form(
    State(state): State<AppState>,
    CurrentAuth(auth): CurrentAuth,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let Some(token) = COOKIE.token(&headers) else {
        return unusable(&state, &auth, &headers).await;
    };
    match state.alliance.carer_link_page(&token).await {
        Ok(link) => {
            let profile = state.alliance.service_profile().await?;
            let layout = Layout::new(profile.as_ref(), "feedback", &auth);
            Ok(render(&form_page(
                layout,
                &link,
                &FormData::default(),
                FieldErrors::default(),
            ))?
            .into_response())
        }
        Err(AppError::NotFound) => unusable(&state, &auth, &headers).await,
        Err(other) => Err(page_error(other)),
    }
}

#[derive(Template)]
#[template(path = "carer_feedback_thanks.html")]
struct ThanksPage {
    layout: Layout,
}

async fn answer(
    State(state): State<AppState>,
    CurrentAuth(auth): CurrentAuth,
    crate::auth::RequestOrigin(origin): crate::auth::RequestOrigin,
    headers: HeaderMap,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let Some(token) = COOKIE.token(&headers) else {
        return unusable(&state, &auth, &headers).await;
    };
    let link = match state.alliance.carer_link_page(&token).await {
        Ok(link) => link,
        Err(AppError::NotFound) => return unusable(&state, &auth, &headers).await,
        Err(other) => return Err(page_error(other)),
    };
    let raw: BTreeMap<String, String> = form
        .0
        .iter()
        .filter(|(k, _)| !k.starts_with('_'))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let profile = state.alliance.service_profile().await?;
    let layout = Layout::new(profile.as_ref(), "feedback", &auth);
    match state
        .alliance
        .answer_carer_link(&token, &raw, &origin)
        .await
    {
        Ok(()) => {
            let mut response = render(&ThanksPage { layout })?.into_response();
            response.headers_mut().insert(
                header::SET_COOKIE,
                COOKIE.clear(state.config.secure_cookies),
            );
            Ok(response)
        }
        Err(AppError::Invalid(invalid)) => {
            let page = form_page(layout, &link, &form, FieldErrors::from_invalid(&invalid));
            super::unprocessable(&page)
        }
        Err(AppError::NotFound) => unusable(&state, &auth, &headers).await,
        Err(other) => Err(page_error(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_strict_http_only_and_only_for_the_feedback_pages() {
        let cookie = COOKIE.set(true, "fb_00", 60).unwrap();
        let cookie = cookie.to_str().unwrap();
        assert!(cookie.contains("Path=/feedback;"));
        assert!(cookie.contains("HttpOnly"));
        assert!(cookie.contains("SameSite=Strict"));
        assert!(cookie.contains("Secure"));
    }
}
