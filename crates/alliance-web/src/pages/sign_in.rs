//! Signing in (password, then the second factor or its set-up), signing out, the first-run
//! setup, and bringing back a form kept from an expired session.

use super::{FieldErrors, FormData, Layout, render, safe_next};
use crate::AppState;
use crate::auth::{Auth, CurrentAuth, RequestOrigin, Signed, clear_cookie, session_cookie};
use crate::respond::PageError;
use alliance_core::Nation;
use alliance_core::service::ServiceDetails;
use alliance_service::{AccountRequest, AppError, NextStep};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sign-in", get(sign_in_page).post(sign_in))
        .route("/sign-in/code", get(code_page).post(code))
        .route("/account/two-factor", get(enrol_page).post(enrol))
        .route("/sign-out", post(sign_out))
        .route("/setup", get(setup_page).post(setup))
        .route("/resume", get(resume_page))
}

/// Where to go after signing in: a kept form first, else the page asked for.
#[derive(Debug, Default, Deserialize)]
struct Onward {
    next: Option<String>,
    resume: Option<String>,
}

impl Onward {
    fn from_form(form: &FormData) -> Self {
        Self {
            next: form.optional("next").map(str::to_owned),
            resume: form.optional("resume").map(str::to_owned),
        }
    }

    fn destination(&self) -> String {
        match &self.resume {
            Some(token) => format!("/resume?token={}", encode(token)),
            None => safe_next(self.next.as_deref().unwrap_or("/")),
        }
    }

    fn query(&self) -> String {
        let mut parts = Vec::new();
        if let Some(next) = &self.next {
            parts.push(format!("next={}", encode(next)));
        }
        if let Some(resume) = &self.resume {
            parts.push(format!("resume={}", encode(resume)));
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!("?{}", parts.join("&"))
        }
    }
}

fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

fn with_cookie(mut response: Response, value: axum::http::HeaderValue) -> Response {
    response.headers_mut().append(header::SET_COOKIE, value);
    response
}

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    layout: Layout,
    username: String,
    next: String,
    resume: String,
    message: Option<String>,
    kept: bool,
}

async fn sign_in_page(
    State(state): State<AppState>,
    CurrentAuth(auth): CurrentAuth,
    Query(onward): Query<Onward>,
) -> Result<Response, PageError> {
    if let Auth::Signed(_) = auth {
        return Ok(Redirect::to(&onward.destination()).into_response());
    }
    let layout = Layout::load(&state, "sign-in", &Auth::Anonymous).await?;
    Ok(render(&SignInPage {
        layout,
        username: String::new(),
        kept: onward.resume.is_some(),
        next: onward.next.unwrap_or_default(),
        resume: onward.resume.unwrap_or_default(),
        message: None,
    })?
    .into_response())
}

fn user_agent(headers: &HeaderMap) -> String {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

async fn sign_in(
    State(state): State<AppState>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let onward = Onward::from_form(&form);
    let result = state
        .alliance
        .sign_in(
            form.get("username"),
            form.get("password"),
            &origin,
            &user_agent(&headers),
        )
        .await;
    let message = match result {
        Ok(start) => {
            let secure = state.config.secure_cookies;
            let to = match start.next {
                NextStep::Done => onward.destination(),
                NextStep::SecondFactor => format!("/sign-in/code{}", onward.query()),
                NextStep::Enrol => format!("/account/two-factor{}", onward.query()),
            };
            // A kiosk left in this browser ends when someone signs in: the next child on the
            // tablet must not answer as the last one.
            return Ok(with_cookie(
                with_cookie(
                    Redirect::to(&to).into_response(),
                    session_cookie(secure, &start.token),
                ),
                super::feedback::KIOSK_COOKIE.clear(secure),
            ));
        }
        // One message whatever was wrong: it must not tell an attacker which usernames exist.
        Err(AppError::Unauthenticated) => "The username or password is not right.".to_owned(),
        Err(AppError::Throttled(wait)) => format!(
            "Too many attempts. Wait {} seconds, then try again.",
            wait.as_secs().max(1)
        ),
        Err(other) => return Err(crate::errors::page_error(other)),
    };
    let layout = Layout::load(&state, "sign-in", &Auth::Anonymous).await?;
    let mut response = render(&SignInPage {
        layout,
        username: form.get("username").to_owned(),
        kept: onward.resume.is_some(),
        next: onward.next.unwrap_or_default(),
        resume: onward.resume.unwrap_or_default(),
        message: Some(message),
    })?
    .into_response();
    *response.status_mut() = axum::http::StatusCode::UNAUTHORIZED;
    Ok(response)
}

#[derive(Template)]
#[template(path = "sign_in_code.html")]
struct CodePage {
    layout: Layout,
    next: String,
    resume: String,
    message: Option<String>,
}

async fn code_page(
    State(state): State<AppState>,
    CurrentAuth(auth): CurrentAuth,
    Query(onward): Query<Onward>,
) -> Result<Response, PageError> {
    match &auth {
        Auth::Partial { user, .. } if user.totp_enrolled => {}
        Auth::Partial { .. } => {
            return Ok(
                Redirect::to(&format!("/account/two-factor{}", onward.query())).into_response(),
            );
        }
        Auth::Signed(_) => return Ok(Redirect::to(&onward.destination()).into_response()),
        Auth::Anonymous => return Ok(Redirect::to("/sign-in").into_response()),
    }
    Ok(render(&CodePage {
        layout: Layout::load(&state, "sign-in", &auth).await?,
        next: onward.next.unwrap_or_default(),
        resume: onward.resume.unwrap_or_default(),
        message: None,
    })?
    .into_response())
}

async fn code(
    State(state): State<AppState>,
    CurrentAuth(auth): CurrentAuth,
    RequestOrigin(origin): RequestOrigin,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let onward = Onward::from_form(&form);
    let Auth::Partial { user, session } = &auth else {
        return Ok(Redirect::to("/sign-in").into_response());
    };
    let message = match state
        .alliance
        .complete_second_factor(user, session, form.get("code"), &origin)
        .await
    {
        Ok(token) => {
            let response = Redirect::to(&onward.destination()).into_response();
            return Ok(with_cookie(response, session_cookie(state.config.secure_cookies, &token)));
        }
        Err(AppError::Unauthenticated) => {
            "That code is not right. Use the newest code from your app, or one of your recovery codes.".to_owned()
        }
        Err(AppError::Throttled(wait)) => format!(
            "Too many attempts. Wait {} seconds, then try again.",
            wait.as_secs().max(1)
        ),
        Err(other) => return Err(crate::errors::page_error(other)),
    };
    let mut response = render(&CodePage {
        layout: Layout::load(&state, "sign-in", &auth).await?,
        next: onward.next.unwrap_or_default(),
        resume: onward.resume.unwrap_or_default(),
        message: Some(message),
    })?
    .into_response();
    *response.status_mut() = axum::http::StatusCode::UNAUTHORIZED;
    Ok(response)
}

#[derive(Template)]
#[template(path = "enrol.html")]
struct EnrolPage {
    layout: Layout,
    qr_svg: String,
    secret: String,
    next: String,
    resume: String,
    errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "recovery_codes.html")]
struct RecoveryCodesPage {
    layout: Layout,
    codes: Vec<String>,
    onward: String,
}

/// The QR code of an `otpauth://` address, drawn as SVG by Alliance itself (no image is
/// fetched from anywhere; the secret never leaves the page).
fn qr_svg(uri: &str) -> String {
    match qrcode::QrCode::new(uri.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(220, 220)
            .quiet_zone(true)
            .build(),
        Err(_) => String::new(),
    }
}

async fn enrol_page(
    State(state): State<AppState>,
    CurrentAuth(auth): CurrentAuth,
    Query(onward): Query<Onward>,
) -> Result<Response, PageError> {
    let user = match &auth {
        Auth::Partial { user, .. } => user.as_ref().clone(),
        Auth::Signed(actor) => actor.user.clone(),
        Auth::Anonymous => return Ok(Redirect::to("/sign-in").into_response()),
    };
    let enrolment = state
        .alliance
        .begin_enrolment(&user)
        .map_err(crate::errors::page_error)?;
    Ok(render(&EnrolPage {
        layout: Layout::load(&state, "account", &auth).await?,
        qr_svg: qr_svg(&enrolment.provisioning_uri),
        secret: enrolment.secret_base32,
        next: onward.next.unwrap_or_default(),
        resume: onward.resume.unwrap_or_default(),
        errors: FieldErrors::default(),
    })?
    .into_response())
}

async fn enrol(
    State(state): State<AppState>,
    CurrentAuth(auth): CurrentAuth,
    RequestOrigin(origin): RequestOrigin,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let onward = Onward::from_form(&form);
    let (user, session) = match &auth {
        Auth::Partial { user, session } => (user.as_ref().clone(), Some(session.as_ref())),
        Auth::Signed(actor) => (actor.user.clone(), None),
        Auth::Anonymous => return Ok(Redirect::to("/sign-in").into_response()),
    };
    let secret = form.get("secret").to_owned();
    match state
        .alliance
        .confirm_enrolment(&user, session, &secret, form.get("code"), &origin)
        .await
    {
        Ok((codes, token)) => {
            // Signed in fully now, with a new session token if the old one was waiting on this.
            let auth_after = auth.clone();
            let mut response = render(&RecoveryCodesPage {
                layout: Layout::load(&state, "account", &auth_after).await?,
                codes,
                onward: onward.destination(),
            })?
            .into_response();
            if let Some(token) = token {
                response = with_cookie(
                    response,
                    session_cookie(state.config.secure_cookies, &token),
                );
            }
            Ok(response)
        }
        Err(AppError::Invalid(invalid)) => {
            let uri = alliance_core::auth::totp::decode_base32(&secret)
                .and_then(|s| {
                    alliance_core::auth::totp::provisioning_uri(
                        &s,
                        user.username.as_str(),
                        "Alliance",
                    )
                    .ok()
                })
                .unwrap_or_default();
            let mut response = render(&EnrolPage {
                layout: Layout::load(&state, "account", &auth).await?,
                qr_svg: qr_svg(&uri),
                secret,
                next: onward.next.unwrap_or_default(),
                resume: onward.resume.unwrap_or_default(),
                errors: FieldErrors::from_invalid(&invalid),
            })?
            .into_response();
            *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(response)
        }
        Err(other) => Err(crate::errors::page_error(other)),
    }
}

async fn sign_out(
    State(state): State<AppState>,
    CurrentAuth(auth): CurrentAuth,
    RequestOrigin(origin): RequestOrigin,
) -> Response {
    if let Some((hash, user)) = auth.browser_session()
        && let Err(err) = state.alliance.sign_out(&hash, user, &origin).await
    {
        return crate::errors::page(err);
    }
    with_cookie(
        Redirect::to("/sign-in?signed_out=1").into_response(),
        clear_cookie(state.config.secure_cookies),
    )
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    layout: Layout,
    needs_service: bool,
    nations: Vec<(&'static str, &'static str)>,
    form: FormData,
    roles: Vec<(&'static str, &'static str, bool)>,
    errors: FieldErrors,
}

fn setup_roles(form: &FormData, fresh: bool) -> Vec<(&'static str, &'static str, bool)> {
    let chosen = form.all("roles");
    alliance_core::identity::Role::ALL
        .into_iter()
        .map(|r| {
            let checked = if fresh {
                r == alliance_core::identity::Role::Administrator
            } else {
                chosen.iter().any(|c| c == r.code())
            };
            (r.code(), r.label(), checked)
        })
        .collect()
}

fn nations() -> Vec<(&'static str, &'static str)> {
    Nation::ALL
        .into_iter()
        .map(|n| (n.code(), n.label()))
        .collect()
}

async fn setup_page(State(state): State<AppState>) -> Result<Response, PageError> {
    if !state
        .alliance
        .setup_needed()
        .await
        .map_err(crate::errors::page_error)?
    {
        return Ok(crate::respond::not_found().await);
    }
    let profile = state.alliance.service_profile().await?;
    let form = FormData::default();
    Ok(render(&SetupPage {
        layout: Layout::new(profile.as_ref(), "setup", &Auth::Anonymous),
        needs_service: profile.is_none(),
        nations: nations(),
        roles: setup_roles(&form, true),
        form,
        errors: FieldErrors::default(),
    })?
    .into_response())
}

async fn setup(
    State(state): State<AppState>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    if !state
        .alliance
        .setup_needed()
        .await
        .map_err(crate::errors::page_error)?
    {
        return Ok(crate::respond::not_found().await);
    }
    let profile = state.alliance.service_profile().await?;
    let mut errors = FieldErrors::default();
    let service = if profile.is_none() {
        match ServiceDetails::parse(form.get("service_name"), form.get("nation")) {
            Ok(d) => Some(d),
            Err(invalid) => {
                for e in invalid.errors {
                    let field = if e.field == "name" {
                        "service_name".to_owned()
                    } else {
                        e.field
                    };
                    errors.0.insert(field, e.message);
                }
                None
            }
        }
    } else {
        None
    };
    let roles = form.all("roles");
    let account = AccountRequest {
        username: form.get("username"),
        display_name: form.get("display_name"),
        password: form.get("password"),
        roles: &roles,
        registration: "none",
        registration_number: None,
        email: None,
    };
    if errors.is_empty() {
        match state
            .alliance
            .complete_setup(form.get("code"), account, service, &origin)
            .await
        {
            Ok(_) => {
                // Sign straight in with the new account: the second factor comes next.
                let start = state
                    .alliance
                    .sign_in(
                        form.get("username"),
                        form.get("password"),
                        &origin,
                        &user_agent(&headers),
                    )
                    .await
                    .map_err(crate::errors::page_error)?;
                let to = match start.next {
                    NextStep::Done => "/".to_owned(),
                    NextStep::SecondFactor => "/sign-in/code".to_owned(),
                    NextStep::Enrol => "/account/two-factor".to_owned(),
                };
                return Ok(with_cookie(
                    Redirect::to(&to).into_response(),
                    session_cookie(state.config.secure_cookies, &start.token),
                ));
            }
            Err(AppError::Invalid(invalid)) => errors = FieldErrors::from_invalid(&invalid),
            Err(other) => return Err(crate::errors::page_error(other)),
        }
    } else if let Err(AppError::Invalid(invalid)) =
        state.alliance.check_account_fields(account).await
    {
        errors.0.extend(FieldErrors::from_invalid(&invalid).0);
    }
    let mut response = render(&SetupPage {
        layout: Layout::new(profile.as_ref(), "setup", &Auth::Anonymous),
        needs_service: profile.is_none(),
        nations: nations(),
        roles: setup_roles(&form, false),
        form: FormData(
            form.0
                .into_iter()
                .filter(|(k, _)| k != "password" && k != "code")
                .collect(),
        ),
        errors,
    })?
    .into_response();
    *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}

#[derive(Debug, Deserialize)]
struct ResumeQuery {
    token: String,
}

#[derive(Template)]
#[template(path = "resume.html")]
struct ResumePage {
    layout: Layout,
    path: String,
    fields: Vec<(String, String)>,
}

async fn resume_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Query(query): Query<ResumeQuery>,
) -> Result<Response, PageError> {
    match state.alliance.take_kept_form(&actor, &query.token).await {
        Ok(kept) => Ok(render(&ResumePage {
            layout: Layout::load(&state, "home", &auth).await?,
            path: safe_next(&kept.path),
            fields: kept.fields,
        })?
        .into_response()),
        Err(err) => Err(crate::errors::page_error(err)),
    }
}
