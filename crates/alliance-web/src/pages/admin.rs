//! Administration: staff accounts and the service's details.

use super::{
    FieldErrors, FormData, Layout, STALE_MESSAGE, conflicted, render, unprocessable, version_of,
};
use crate::AppState;
use crate::auth::{CurrentAuth, Signed};
use crate::errors::page_error;
use crate::respond::PageError;
use alliance_core::explanations::Audience;
use alliance_core::frame::{FramePolicy, FramePolicyInput};
use alliance_core::identity::{RegistrationBody, Role, User, UserDetails, UserId};
use alliance_core::service::ServiceDetails;
use alliance_core::{Nation, PageRequest, Version, uk};
use alliance_service::contact_logs::ContactPolicy;
use alliance_service::explanations::ReadabilityConfig;
use alliance_service::{AccountRequest, Actor, AppError, UserFilter};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(users_page).post(create_user))
        .route("/admin/users/new", get(new_user_page))
        .route("/admin/users/{id}", get(user_page).post(update_user))
        .route("/admin/users/{id}/active", post(set_active))
        .route("/admin/users/{id}/password", post(reset_password))
        .route(
            "/admin/users/{id}/two-factor-reset",
            post(reset_second_factor),
        )
        .route("/admin/users/{id}/supervisees", post(set_supervisees))
        .route("/admin/service", get(service_page).post(update_service))
        .route("/admin/service/frame-policy", post(update_frame_policy))
        .route("/admin/service/contact-policy", post(update_contact_policy))
        .route("/admin/service/readability", post(update_readability))
}

/// The administration pages are for administrators; the refusal is the core's, audited.
async fn require_admin(state: &AppState, actor: &Actor, page: &str) -> Result<(), PageError> {
    state
        .alliance
        .ensure_may_manage_users(actor, page)
        .await
        .map_err(page_error)
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    role: Option<String>,
    active: Option<String>,
    q: Option<String>,
    after: Option<String>,
}

struct UserLine {
    id: String,
    username: String,
    name: String,
    roles: String,
    active: bool,
    second_factor: bool,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    layout: Layout,
    users: Vec<UserLine>,
    roles: Vec<(&'static str, &'static str)>,
    role: String,
    active: String,
    q: String,
    next: Option<String>,
}

fn roles_text(user: &User) -> String {
    user.roles
        .iter()
        .map(|r| r.label())
        .collect::<Vec<_>>()
        .join(", ")
}

async fn users_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    require_admin(&state, &actor, "open the staff accounts page").await?;
    let filter = UserFilter {
        role: query
            .role
            .as_deref()
            .filter(|r| !r.is_empty())
            .and_then(|r| Role::parse(r).ok()),
        active: match query.active.as_deref() {
            Some("yes") => Some(true),
            Some("no") => Some(false),
            _ => None,
        },
        search: query
            .q
            .clone()
            .filter(|q| !q.trim().is_empty())
            .map(|q| q.trim().to_owned()),
    };
    let page = PageRequest::parse(Some(50), query.after.as_deref().filter(|a| !a.is_empty()))
        .map_err(|e| page_error(AppError::Invalid(e)))?;
    let users = state
        .alliance
        .list_users(&actor, &filter, &page)
        .await
        .map_err(page_error)?;
    let next = users.next.as_ref().map(|after| {
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("role", query.role.as_deref().unwrap_or(""));
        q.append_pair("active", query.active.as_deref().unwrap_or(""));
        q.append_pair("q", query.q.as_deref().unwrap_or(""));
        q.append_pair("after", after);
        format!("/admin/users?{}", q.finish())
    });
    Ok(render(&UsersPage {
        layout: Layout::load(&state, "users", &auth).await?,
        users: users
            .items
            .iter()
            .map(|u| UserLine {
                id: u.id.to_string(),
                username: u.username.as_str().to_owned(),
                name: u.display_name.clone(),
                roles: roles_text(u),
                active: u.active,
                second_factor: u.totp_enrolled,
            })
            .collect(),
        roles: Role::ALL
            .into_iter()
            .map(|r| (r.code(), r.label()))
            .collect(),
        role: query.role.unwrap_or_default(),
        active: query.active.unwrap_or_default(),
        q: query.q.unwrap_or_default(),
        next,
    })?
    .into_response())
}

/// The form for a new account or an existing one.
#[derive(Template)]
#[template(path = "admin_user.html")]
struct UserPage {
    layout: Layout,
    /// None for a new account.
    id: Option<String>,
    username: String,
    form: FormData,
    version: i64,
    active: bool,
    second_factor: bool,
    created: String,
    roles: Vec<(&'static str, &'static str, bool)>,
    registrations: Vec<(&'static str, &'static str, bool)>,
    is_supervisor: bool,
    /// (id, name, supervised, named access)
    therapists: Vec<(String, String, bool, bool)>,
    errors: FieldErrors,
    notice: Option<String>,
}

fn role_choices(chosen: &[String]) -> Vec<(&'static str, &'static str, bool)> {
    Role::ALL
        .into_iter()
        .map(|r| (r.code(), r.label(), chosen.iter().any(|c| c == r.code())))
        .collect()
}

fn registration_choices(chosen: &str) -> Vec<(&'static str, &'static str, bool)> {
    RegistrationBody::ALL
        .into_iter()
        .map(|r| (r.code(), r.label(), r.code() == chosen))
        .collect()
}

fn form_of(user: &User) -> FormData {
    let mut fields = vec![
        ("display_name".to_owned(), user.display_name.clone()),
        (
            "registration".to_owned(),
            user.registration.code().to_owned(),
        ),
        (
            "registration_number".to_owned(),
            user.registration_number.clone().unwrap_or_default(),
        ),
        ("email".to_owned(), user.email.clone().unwrap_or_default()),
    ];
    fields.extend(
        user.roles
            .iter()
            .map(|r| ("roles".to_owned(), r.code().to_owned())),
    );
    FormData(fields)
}

async fn user_view(
    state: &AppState,
    actor: &Actor,
    auth: &crate::auth::Auth,
    user: &User,
    form: FormData,
) -> Result<UserPage, PageError> {
    let supervising = if user.has_role(Role::Supervisor) {
        state
            .alliance
            .supervision_of(actor, user.id)
            .await
            .map_err(page_error)?
    } else {
        Vec::new()
    };
    let therapists = if user.has_role(Role::Supervisor) {
        let filter = UserFilter {
            role: Some(Role::Therapist),
            active: Some(true),
            search: None,
        };
        let page =
            PageRequest::parse(Some(200), None).map_err(|e| page_error(AppError::Invalid(e)))?;
        state
            .alliance
            .list_users(actor, &filter, &page)
            .await
            .map_err(page_error)?
            .items
            .into_iter()
            .filter(|t| t.id != user.id)
            .map(|t| {
                let link = supervising.iter().find(|(id, _)| *id == t.id);
                (
                    t.id.to_string(),
                    t.display_name,
                    link.is_some(),
                    link.is_some_and(|(_, named)| *named),
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    let chosen_roles = form.all("roles");
    let registration = form.get("registration").to_owned();
    Ok(UserPage {
        layout: Layout::load(state, "users", auth).await?,
        id: Some(user.id.to_string()),
        username: user.username.as_str().to_owned(),
        version: user.version.get(),
        active: user.active,
        second_factor: user.totp_enrolled,
        created: uk::date_time(user.created_at),
        roles: role_choices(&chosen_roles),
        registrations: registration_choices(&registration),
        is_supervisor: user.has_role(Role::Supervisor),
        therapists,
        form,
        errors: FieldErrors::default(),
        notice: None,
    })
}

async fn new_user_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
) -> Result<Response, PageError> {
    require_admin(&state, &actor, "open the new account page").await?;
    Ok(
        render(
            &blank_user_page(&state, &auth, FormData::default(), FieldErrors::default()).await?,
        )?
        .into_response(),
    )
}

async fn blank_user_page(
    state: &AppState,
    auth: &crate::auth::Auth,
    form: FormData,
    errors: FieldErrors,
) -> Result<UserPage, PageError> {
    let roles = form.all("roles");
    let registration = form.optional("registration").unwrap_or("none").to_owned();
    Ok(UserPage {
        layout: Layout::load(state, "users", auth).await?,
        id: None,
        username: form.get("username").to_owned(),
        version: 0,
        active: true,
        second_factor: false,
        created: String::new(),
        roles: role_choices(&roles),
        registrations: registration_choices(&registration),
        is_supervisor: false,
        therapists: Vec::new(),
        form: FormData(
            form.0
                .into_iter()
                .filter(|(k, _)| k != "password")
                .collect(),
        ),
        errors,
        notice: None,
    })
}

async fn create_user(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let roles = form.all("roles");
    let account = AccountRequest {
        username: form.get("username"),
        display_name: form.get("display_name"),
        password: form.get("password"),
        roles: &roles,
        registration: form.optional("registration").unwrap_or("none"),
        registration_number: form.optional("registration_number"),
        email: form.optional("email"),
    };
    match state.alliance.create_user(&actor, account).await {
        Ok(user) => {
            Ok(Redirect::to(&format!("/admin/users/{}?created=1", user.id)).into_response())
        }
        Err(AppError::Invalid(invalid)) => {
            let page =
                blank_user_page(&state, &auth, form, FieldErrors::from_invalid(&invalid)).await?;
            unprocessable(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}

fn user_id(raw: &str) -> Result<UserId, PageError> {
    UserId::parse(raw).map_err(|_| page_error(AppError::NotFound))
}

#[derive(Debug, Default, Deserialize)]
struct Notice {
    created: Option<String>,
    saved: Option<String>,
}

async fn user_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Query(notice): Query<Notice>,
) -> Result<Response, PageError> {
    require_admin(&state, &actor, "open an account page").await?;
    let user = state
        .alliance
        .get_user(&actor, user_id(&id)?)
        .await
        .map_err(page_error)?;
    let mut page = user_view(&state, &actor, &auth, &user, form_of(&user)).await?;
    page.notice = if notice.created.is_some() {
        Some("The account was created. Give its first password to its owner in person; they set up their second factor when they first sign in.".to_owned())
    } else if notice.saved.is_some() {
        Some("Saved.".to_owned())
    } else {
        None
    };
    Ok(render(&page)?.into_response())
}

async fn update_user(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = user_id(&id)?;
    let expected = version_of(&form)?;
    let roles = form.all("roles");
    let details = UserDetails::parse(
        form.get("display_name"),
        &roles,
        form.optional("registration").unwrap_or("none"),
        form.optional("registration_number"),
        form.optional("email"),
    );
    let result = match details {
        Ok(details) => {
            state
                .alliance
                .update_user(&actor, id, details, expected)
                .await
        }
        Err(invalid) => Err(AppError::Invalid(invalid)),
    };
    match result {
        Ok(user) => Ok(Redirect::to(&format!("/admin/users/{}?saved=1", user.id)).into_response()),
        Err(AppError::Invalid(invalid)) => {
            let user = state
                .alliance
                .get_user(&actor, id)
                .await
                .map_err(page_error)?;
            let mut page = user_view(&state, &actor, &auth, &user, form).await?;
            page.errors = FieldErrors::from_invalid(&invalid);
            unprocessable(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}

async fn set_active(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = user_id(&id)?;
    let active = form.get("active") == "yes";
    state
        .alliance
        .set_user_active(&actor, id, active, version_of(&form)?)
        .await
        .map_err(page_error)?;
    Ok(Redirect::to(&format!("/admin/users/{id}?saved=1")).into_response())
}

async fn reset_password(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = user_id(&id)?;
    match state
        .alliance
        .reset_password(&actor, id, form.get("password"))
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/admin/users/{id}?saved=1")).into_response()),
        Err(AppError::Invalid(invalid)) => {
            let user = state
                .alliance
                .get_user(&actor, id)
                .await
                .map_err(page_error)?;
            let mut page = user_view(&state, &actor, &auth, &user, form_of(&user)).await?;
            page.errors = FieldErrors::from_invalid(&invalid);
            unprocessable(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}

async fn reset_second_factor(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = user_id(&id)?;
    state
        .alliance
        .reset_second_factor(&actor, id)
        .await
        .map_err(page_error)?;
    Ok(Redirect::to(&format!("/admin/users/{id}?saved=1")).into_response())
}

async fn set_supervisees(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = user_id(&id)?;
    let chosen: Vec<UserId> = form
        .all("supervisees")
        .iter()
        .filter_map(|s| UserId::parse(s).ok())
        .collect();
    let named: Vec<UserId> = form
        .all("named")
        .iter()
        .filter_map(|s| UserId::parse(s).ok())
        .collect();
    state
        .alliance
        .set_supervisees(&actor, id, &chosen, &named)
        .await
        .map_err(page_error)?;
    Ok(Redirect::to(&format!("/admin/users/{id}?saved=1")).into_response())
}

#[derive(Template)]
#[template(path = "admin_service.html")]
struct ServicePage {
    layout: Layout,
    name: String,
    nations: Vec<(&'static str, &'static str, bool)>,
    version: i64,
    errors: FieldErrors,
    notice: Option<String>,
    policy: FormData,
    policy_version: i64,
    policy_errors: FieldErrors,
    readability: Readability,
    contact: ContactPolicyForm,
}

/// The contact policy's form: how often the carers' review meeting falls due.
struct ContactPolicyForm {
    form: FormData,
    version: i64,
    errors: FieldErrors,
}

async fn contact_section(state: &AppState) -> Result<ContactPolicyForm, PageError> {
    let (policy, version) = state.alliance.contact_policy().await.map_err(page_error)?;
    Ok(ContactPolicyForm {
        form: FormData(vec![(
            "carer_review_weeks".to_owned(),
            policy.carer_review_weeks.to_string(),
        )]),
        version: version.map_or(0, |v| v.get()),
        errors: FieldErrors::default(),
    })
}

/// The readability targets' form: (audience code, label, value) and the offset.
struct Readability {
    form: FormData,
    audiences: Vec<(&'static str, &'static str)>,
    version: i64,
    errors: FieldErrors,
}

async fn readability_section(state: &AppState) -> Result<Readability, PageError> {
    let (config, version) = state
        .alliance
        .readability_config()
        .await
        .map_err(page_error)?;
    let mut form = vec![(
        "reading_age_offset".to_owned(),
        config.reading_age_offset.to_string(),
    )];
    for a in Audience::ALL {
        form.push((
            format!("targets.{}", a.code()),
            config.target(a).to_string(),
        ));
    }
    Ok(Readability {
        form: FormData(form),
        audiences: Audience::ALL.map(|a| (a.code(), a.label())).to_vec(),
        version: version.map_or(0, |v| v.get()),
        errors: FieldErrors::default(),
    })
}

/// The frame policy as the form shows it.
fn policy_form(policy: &FramePolicy) -> FormData {
    let mut form = vec![
        (
            "break_notice_sessions".to_owned(),
            policy.break_notice_sessions.to_string(),
        ),
        (
            "ending_countdown_sessions".to_owned(),
            policy.ending_countdown_sessions.to_string(),
        ),
    ];
    if policy.feed_shows_initials {
        form.push(("feed_shows_initials".to_owned(), "on".to_owned()));
    }
    FormData(form)
}

async fn service_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Query(notice): Query<Notice>,
) -> Result<Response, PageError> {
    require_admin(&state, &actor, "open the service page").await?;
    let (policy, policy_version) = state.alliance.frame_policy().await.map_err(page_error)?;
    let Some(profile) = state.alliance.service_profile().await? else {
        // Not set up yet (the first administrator was made on the command line): the first
        // save creates it.
        return Ok(render(&ServicePage {
            layout: Layout::new(None, "service", &auth),
            name: String::new(),
            nations: Nation::ALL
                .into_iter()
                .map(|n| (n.code(), n.label(), n == Nation::England))
                .collect(),
            version: 1,
            errors: FieldErrors::default(),
            notice: Some(
                "The service is not set up yet: give its name and nation, then save.".to_owned(),
            ),
            policy: policy_form(&policy),
            policy_version: policy_version.map_or(0, |v| v.get()),
            policy_errors: FieldErrors::default(),
            readability: readability_section(&state).await?,
            contact: contact_section(&state).await?,
        })?
        .into_response());
    };
    Ok(render(&ServicePage {
        layout: Layout::new(Some(&profile), "service", &auth),
        name: profile.name.as_str().to_owned(),
        nations: Nation::ALL
            .into_iter()
            .map(|n| (n.code(), n.label(), n == profile.nation))
            .collect(),
        version: profile.version.get(),
        errors: FieldErrors::default(),
        notice: notice.saved.map(|_| "Saved.".to_owned()),
        policy: policy_form(&policy),
        policy_version: policy_version.map_or(0, |v| v.get()),
        policy_errors: FieldErrors::default(),
        readability: readability_section(&state).await?,
        contact: contact_section(&state).await?,
    })?
    .into_response())
}

async fn update_frame_policy(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let expected = form
        .get("policy_version")
        .parse::<i64>()
        .ok()
        .and_then(|v| Version::new(v).ok());
    let input = FramePolicyInput {
        break_notice_sessions: form.get("break_notice_sessions").to_owned(),
        ending_countdown_sessions: form.get("ending_countdown_sessions").to_owned(),
        feed_shows_initials: !form.get("feed_shows_initials").is_empty(),
    };
    let result = state
        .alliance
        .set_frame_policy(&actor, &input, expected)
        .await;
    let errors = match result {
        Ok(_) => return Ok(Redirect::to("/admin/service?saved=1").into_response()),
        Err(AppError::Invalid(invalid)) => FieldErrors::from_invalid(&invalid),
        Err(AppError::Stale(_)) => FieldErrors::one("break_notice_sessions", STALE_MESSAGE),
        Err(other) => return Err(page_error(other)),
    };
    let profile = state.alliance.service_profile().await?;
    let page = ServicePage {
        layout: Layout::load(&state, "service", &auth).await?,
        name: profile
            .as_ref()
            .map(|p| p.name.as_str().to_owned())
            .unwrap_or_default(),
        nations: Nation::ALL
            .into_iter()
            .map(|n| {
                (
                    n.code(),
                    n.label(),
                    profile.as_ref().map(|p| p.nation) == Some(n),
                )
            })
            .collect(),
        version: profile.as_ref().map_or(1, |p| p.version.get()),
        errors: FieldErrors::default(),
        notice: None,
        policy: form,
        policy_version: expected.map_or(0, |v| v.get()),
        policy_errors: errors,
        readability: readability_section(&state).await?,
        contact: contact_section(&state).await?,
    };
    unprocessable(&page)
}

async fn update_contact_policy(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let expected = form
        .get("contact_version")
        .parse::<i64>()
        .ok()
        .and_then(|v| Version::new(v).ok());
    // Anything but a whole number is out of bounds: the service answers (after its own check
    // of who is asking) with the bounds.
    let policy = ContactPolicy {
        carer_review_weeks: form
            .get("carer_review_weeks")
            .trim()
            .parse::<i64>()
            .unwrap_or(0),
    };
    let (errors, stale) = match state
        .alliance
        .set_contact_policy(&actor, policy, expected)
        .await
    {
        Ok(_) => return Ok(Redirect::to("/admin/service?saved=1").into_response()),
        Err(AppError::Invalid(invalid)) => (FieldErrors::from_invalid(&invalid), false),
        Err(AppError::Stale(_)) => (FieldErrors::one("carer_review_weeks", STALE_MESSAGE), true),
        Err(other) => return Err(page_error(other)),
    };
    let (frame, frame_version) = state.alliance.frame_policy().await.map_err(page_error)?;
    let profile = state.alliance.service_profile().await?;
    let page = ServicePage {
        layout: Layout::load(&state, "service", &auth).await?,
        name: profile
            .as_ref()
            .map(|p| p.name.as_str().to_owned())
            .unwrap_or_default(),
        nations: Nation::ALL
            .into_iter()
            .map(|n| {
                (
                    n.code(),
                    n.label(),
                    profile.as_ref().map(|p| p.nation) == Some(n),
                )
            })
            .collect(),
        version: profile.as_ref().map_or(1, |p| p.version.get()),
        errors: FieldErrors::default(),
        notice: None,
        policy: policy_form(&frame),
        policy_version: frame_version.map_or(0, |v| v.get()),
        policy_errors: FieldErrors::default(),
        readability: readability_section(&state).await?,
        contact: ContactPolicyForm {
            version: expected.map_or(0, |v| v.get()),
            form,
            errors,
        },
    };
    if stale {
        conflicted(&page)
    } else {
        unprocessable(&page)
    }
}

async fn update_readability(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let expected = form
        .get("readability_version")
        .parse::<i64>()
        .ok()
        .and_then(|v| Version::new(v).ok());
    let mut errors = FieldErrors::default();
    let mut number = |field: String| match form.get(&field).trim().parse::<f64>() {
        Ok(x) if x.is_finite() => x,
        _ => {
            errors
                .0
                .insert(field, "Enter a number, like 5 or 9.5".to_owned());
            f64::NAN
        }
    };
    let offset = number("reading_age_offset".to_owned());
    let targets = Audience::ALL
        .into_iter()
        .map(|a| {
            let field = format!("targets.{}", a.code());
            (a.code().to_owned(), number(field))
        })
        .collect();
    // The bands are kept as they are here; they change through the API.
    let current_bands = state
        .alliance
        .readability_config()
        .await
        .map_err(page_error)?
        .0
        .bands;
    if errors.is_empty() {
        let input = ReadabilityConfig {
            reading_age_offset: offset,
            targets,
            bands: current_bands,
        };
        match state
            .alliance
            .set_readability_config(&actor, &input, expected)
            .await
        {
            Ok(_) => return Ok(Redirect::to("/admin/service?saved=1").into_response()),
            Err(AppError::Invalid(invalid)) => errors = FieldErrors::from_invalid(&invalid),
            Err(AppError::Stale(_)) => {
                errors = FieldErrors::one("reading_age_offset", STALE_MESSAGE)
            }
            Err(other) => return Err(page_error(other)),
        }
    }
    let (policy, policy_version) = state.alliance.frame_policy().await.map_err(page_error)?;
    let profile = state.alliance.service_profile().await?;
    let mut readability = readability_section(&state).await?;
    readability.form = form;
    readability.errors = errors;
    readability.version = expected.map_or(0, |v| v.get());
    let page = ServicePage {
        layout: Layout::load(&state, "service", &auth).await?,
        name: profile
            .as_ref()
            .map(|p| p.name.as_str().to_owned())
            .unwrap_or_default(),
        nations: Nation::ALL
            .into_iter()
            .map(|n| {
                (
                    n.code(),
                    n.label(),
                    profile.as_ref().map(|p| p.nation) == Some(n),
                )
            })
            .collect(),
        version: profile.as_ref().map_or(1, |p| p.version.get()),
        errors: FieldErrors::default(),
        notice: None,
        policy: policy_form(&policy),
        policy_version: policy_version.map_or(0, |v| v.get()),
        policy_errors: FieldErrors::default(),
        readability,
        contact: contact_section(&state).await?,
    };
    unprocessable(&page)
}

async fn update_service(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let expected = version_of(&form)?;
    let result = match ServiceDetails::parse(form.get("name"), form.get("nation")) {
        Ok(details) => {
            state
                .alliance
                .update_service(&actor, details, expected)
                .await
        }
        Err(invalid) => Err(AppError::Invalid(invalid)),
    };
    match result {
        Ok(_) => Ok(Redirect::to("/admin/service?saved=1").into_response()),
        Err(AppError::Invalid(invalid)) => {
            let (policy, policy_version) =
                state.alliance.frame_policy().await.map_err(page_error)?;
            let page = ServicePage {
                layout: Layout::load(&state, "service", &auth).await?,
                name: form.get("name").to_owned(),
                nations: Nation::ALL
                    .into_iter()
                    .map(|n| (n.code(), n.label(), n.code() == form.get("nation")))
                    .collect(),
                version: expected.get(),
                errors: FieldErrors::from_invalid(&invalid),
                notice: None,
                policy: policy_form(&policy),
                policy_version: policy_version.map_or(0, |v| v.get()),
                policy_errors: FieldErrors::default(),
                readability: readability_section(&state).await?,
                contact: contact_section(&state).await?,
            };
            unprocessable(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}
