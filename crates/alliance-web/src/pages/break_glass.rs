//! Break-glass access (policy section 1): asking for time-limited read of one child's record
//! with a written reason, one's own grants (ending one early), the review page of the DSL,
//! deputies and the service lead, and the service's durations. Who may do what is decided by
//! the use-cases; this module shows what they answer.

use super::{FieldErrors, FormData, Layout, render, unprocessable, version_of};
use crate::AppState;
use crate::auth::{Auth, CurrentAuth, Signed};
use crate::errors::page_error;
use crate::respond::PageError;
use alliance_core::PageRequest;
use alliance_core::break_glass::{self as bg, GrantId, GrantState, Settings};
use alliance_core::uk;
use alliance_service::audit_views::AuditLine;
use alliance_service::break_glass::{BreakGlassRequest, GrantView};
use alliance_service::{Actor, Alliance, AppError};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    // One method a line, so the route table the headers test reads finds each.
    Router::new()
        .route("/break-glass", get(review_page))
        .route("/break-glass", post(request_access))
        .route("/break-glass/mine", get(my_page))
        .route("/break-glass/settings", get(settings_page))
        .route("/break-glass/settings", post(save_settings))
        .route("/break-glass/{id}/end", post(end_access))
        .route("/break-glass/{id}/review", post(mark_reviewed))
}

fn grant_id(raw: &str) -> Result<GrantId, PageError> {
    GrantId::parse(raw).map_err(|_| page_error(AppError::NotFound))
}

/// One audit row under a grant, as the review page shows it.
pub(super) struct EntryLine {
    pub(super) at: String,
    pub(super) what: &'static str,
    pub(super) record: String,
    pub(super) detail: String,
}

fn entry_line(l: &AuditLine) -> EntryLine {
    EntryLine {
        at: uk::date_time(l.at),
        what: l.action.label(),
        record: match &l.record_id {
            Some(id) => format!("{} {id}", l.record_type),
            None => l.record_type.clone(),
        },
        detail: l.detail.clone().unwrap_or_default(),
    }
}

/// A grant, as a page shows it.
struct GrantLine {
    id: String,
    reference: String,
    child_id: String,
    child_name: String,
    holder: String,
    reason: String,
    from: String,
    until: String,
    ended_early: bool,
    state: &'static str,
    active: bool,
    reviewed: String,
    may_end: bool,
    may_review: bool,
    entries: Vec<EntryLine>,
    more_entries: bool,
}

fn grant_line(g: &GrantView) -> GrantLine {
    GrantLine {
        id: g.id.to_string(),
        reference: g.reference.clone(),
        child_id: g.child.to_string(),
        child_name: g.child_name.clone(),
        holder: g.holder_name.clone(),
        reason: g.reason.clone(),
        from: uk::date_time(g.starts_at),
        until: uk::date_time(g.until),
        ended_early: g.ended_early,
        state: g.state.label(),
        active: g.state == GrantState::Active,
        reviewed: match (&g.reviewed_by, g.reviewed_at) {
            (Some(by), Some(at)) => format!("{by}, {}", uk::date_time(at)),
            (None, Some(at)) => uk::date_time(at),
            _ => String::new(),
        },
        may_end: g.may_end,
        may_review: g.may_review,
        entries: g.entries.iter().map(entry_line).collect(),
        more_entries: g.more_entries,
    }
}

/// The durations as the request form says them.
fn durations_text(settings: &Settings) -> String {
    format!(
        "Access lasts {} unless you choose less, and at most {} (policy section 1: \
         time-limited access to one child, default 4 hours).",
        bg::duration_words(settings.default_minutes),
        bg::duration_words(settings.longest_minutes)
    )
}

// ----- asking, and one's own grants -----

#[derive(Template)]
#[template(path = "break_glass_mine.html")]
struct MyPage {
    layout: Layout,
    may_request: bool,
    durations: String,
    choices: Vec<(String, String, bool)>,
    grants: Vec<GrantLine>,
    next: Option<String>,
    form: FormData,
    errors: FieldErrors,
    refusal: Option<String>,
    notice: Option<String>,
}

impl MyPage {
    /// The length chosen: what the form sent, else the service's default.
    fn minutes_selected(&self, value: &str, default: &bool) -> bool {
        match self.form.get("minutes") {
            "" => *default,
            sent => sent == value,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct MyQuery {
    after: Option<String>,
    ended: Option<String>,
    child: Option<String>,
}

async fn load_my_page(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    after: Option<&str>,
) -> Result<MyPage, PageError> {
    let page = PageRequest::parse(Some(50), after.filter(|a| !a.is_empty()))
        .map_err(|e| page_error(AppError::Invalid(e)))?;
    let grants = state
        .alliance
        .my_break_glass(actor, &page)
        .await
        .map_err(page_error)?;
    let (settings, _) = state
        .alliance
        .break_glass_settings()
        .await
        .map_err(page_error)?;
    Ok(MyPage {
        layout: Layout::load(state, "break-glass", auth).await?,
        may_request: bg::may_request(&actor.user).is_allowed(),
        durations: durations_text(&settings),
        choices: settings
            .choices()
            .into_iter()
            .map(|m| {
                (
                    m.to_string(),
                    bg::duration_words(m),
                    m == settings.default_minutes,
                )
            })
            .collect(),
        grants: grants.items.iter().map(grant_line).collect(),
        next: grants.next.map(|n| {
            let mut q = form_urlencoded::Serializer::new(String::new());
            q.append_pair("after", &n);
            format!("/break-glass/mine?{}", q.finish())
        }),
        form: FormData::default(),
        errors: FieldErrors::default(),
        refusal: None,
        notice: None,
    })
}

async fn my_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Query(query): Query<MyQuery>,
) -> Result<Response, PageError> {
    let mut page = load_my_page(&state, &actor, &auth, query.after.as_deref()).await?;
    page.notice = query
        .ended
        .map(|_| "Your break-glass access has ended.".to_owned());
    // A colleague's link may carry the child: the form starts with it.
    if let Some(child) = query.child.filter(|c| !c.trim().is_empty()) {
        page.form = FormData(vec![("child".to_owned(), child)]);
    }
    Ok(render(&page)?.into_response())
}

async fn request_access(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let minutes = bg::parse_minutes(form.get("minutes"));
    let request = BreakGlassRequest {
        child: form.get("child").to_owned(),
        reason: form.get("reason").to_owned(),
        minutes: minutes.clone().ok().flatten(),
    };
    if let Err(message) = minutes {
        let mut page = load_my_page(&state, &actor, &auth, None).await?;
        page.form = form;
        page.errors = FieldErrors::one("minutes", &message);
        return unprocessable(&page);
    }
    match state.alliance.request_break_glass(&actor, &request).await {
        Ok(grant) => Ok(Redirect::to(&format!("/children/{}", grant.child)).into_response()),
        Err(AppError::Invalid(invalid)) => {
            let mut page = load_my_page(&state, &actor, &auth, None).await?;
            page.form = form;
            page.errors = FieldErrors::from_invalid(&invalid);
            unprocessable(&page)
        }
        Err(AppError::Conflict(why)) => {
            let mut page = load_my_page(&state, &actor, &auth, None).await?;
            page.form = form;
            page.refusal = Some(format!("You cannot do this: {why}."));
            let mut response = render(&page)?.into_response();
            *response.status_mut() = StatusCode::CONFLICT;
            Ok(response)
        }
        Err(other) => Err(page_error(other)),
    }
}

async fn end_access(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    state
        .alliance
        .end_break_glass(&actor, grant_id(&id)?)
        .await
        .map_err(page_error)?;
    Ok(Redirect::to("/break-glass/mine?ended=1").into_response())
}

// ----- the review page -----

#[derive(Template)]
#[template(path = "break_glass.html")]
struct ReviewPage {
    layout: Layout,
    open: Vec<GrantLine>,
    reviewed: Vec<GrantLine>,
    next: Option<String>,
    may_change_settings: bool,
    durations: String,
    notice: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct ReviewQuery {
    after: Option<String>,
    reviewed: Option<String>,
}

async fn review_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Query(query): Query<ReviewQuery>,
) -> Result<Response, PageError> {
    let page = PageRequest::parse(Some(20), query.after.as_deref().filter(|a| !a.is_empty()))
        .map_err(|e| page_error(AppError::Invalid(e)))?;
    let list = state
        .alliance
        .break_glass_review(&actor, &page)
        .await
        .map_err(page_error)?;
    let (settings, _) = state
        .alliance
        .break_glass_settings()
        .await
        .map_err(page_error)?;
    Ok(render(&ReviewPage {
        layout: Layout::load(&state, "break-glass", &auth).await?,
        open: list.open.iter().map(grant_line).collect(),
        reviewed: list.reviewed.items.iter().map(grant_line).collect(),
        next: list.reviewed.next.map(|n| {
            let mut q = form_urlencoded::Serializer::new(String::new());
            q.append_pair("after", &n);
            format!("/break-glass?{}#reviewed", q.finish())
        }),
        may_change_settings: bg::may_change_settings(&actor.user).is_allowed(),
        durations: durations_text(&settings),
        notice: query
            .reviewed
            .map(|_| "Marked reviewed: the notices about it are read.".to_owned()),
    })?
    .into_response())
}

async fn mark_reviewed(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = grant_id(&id)?;
    state
        .alliance
        .review_break_glass(&actor, id)
        .await
        .map_err(page_error)?;
    Ok(Redirect::to(&format!("/break-glass?reviewed=1#grant-{id}")).into_response())
}

// ----- the durations -----

#[derive(Template)]
#[template(path = "break_glass_settings.html")]
struct SettingsPage {
    layout: Layout,
    form: FormData,
    errors: FieldErrors,
    version: i64,
    defaults: String,
    notice: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct SavedQuery {
    saved: Option<String>,
}

async fn settings_form(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
) -> Result<SettingsPage, PageError> {
    ensure_may_change(state, actor).await?;
    let (settings, version) = state
        .alliance
        .break_glass_settings()
        .await
        .map_err(page_error)?;
    Ok(SettingsPage {
        layout: Layout::load(state, "break-glass", auth).await?,
        form: FormData(vec![
            (
                "default_minutes".to_owned(),
                settings.default_minutes.to_string(),
            ),
            (
                "longest_minutes".to_owned(),
                settings.longest_minutes.to_string(),
            ),
        ]),
        errors: FieldErrors::default(),
        version: version.map_or(0, |v| v.get()),
        defaults: format!(
            "The policy's default is {} (policy section 1); every figure is from {} to {}.",
            bg::duration_words(bg::DEFAULT_MINUTES),
            bg::duration_words(bg::SHORTEST_MINUTES),
            bg::duration_words(bg::LONGEST_MINUTES)
        ),
        notice: None,
    })
}

/// Only those who may change the figures see the form; anyone else is refused, audited, by
/// the use-case (asked with the figures as they stand, which it refuses before saving).
async fn ensure_may_change(state: &AppState, actor: &Actor) -> Result<(), PageError> {
    if bg::may_change_settings(&actor.user).is_allowed() {
        return Ok(());
    }
    let (settings, version) = state
        .alliance
        .break_glass_settings()
        .await
        .map_err(page_error)?;
    Err(page_error(
        state
            .alliance
            .set_break_glass_settings(actor, settings, version)
            .await
            .err()
            .unwrap_or(AppError::Denied(
                "only an administrator or the service lead may change these figures",
            )),
    ))
}

async fn settings_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Query(query): Query<SavedQuery>,
) -> Result<Response, PageError> {
    let mut page = settings_form(&state, &actor, &auth).await?;
    page.notice = query.saved.map(|_| "Saved.".to_owned());
    Ok(render(&page)?.into_response())
}

fn minutes_field(form: &FormData, field: &str) -> Result<u32, FieldErrors> {
    match bg::parse_minutes(form.get(field)) {
        Ok(Some(m)) => Ok(m),
        Ok(None) => Err(FieldErrors::one(field, "Enter a number of minutes")),
        Err(_) => Err(FieldErrors::one(field, "Enter a whole number of minutes")),
    }
}

async fn save_settings(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let expected = match form.get("version") {
        "0" | "" => None,
        _ => Some(version_of(&form)?),
    };
    let parsed = minutes_field(&form, "default_minutes").and_then(|default_minutes| {
        minutes_field(&form, "longest_minutes").map(|longest_minutes| Settings {
            default_minutes,
            longest_minutes,
        })
    });
    let result = match parsed {
        Ok(settings) => state
            .alliance
            .set_break_glass_settings(&actor, settings, expected)
            .await
            .map_err(|e| match e {
                AppError::Invalid(invalid) => Ok(FieldErrors::from_invalid(&invalid)),
                other => Err(other),
            }),
        Err(errors) => {
            ensure_may_change(&state, &actor).await?;
            Err(Ok(errors))
        }
    };
    match result {
        Ok(_) => Ok(Redirect::to("/break-glass/settings?saved=1").into_response()),
        Err(Ok(errors)) => {
            let mut page = settings_form(&state, &actor, &auth).await?;
            page.form = form;
            page.errors = errors;
            unprocessable(&page)
        }
        Err(Err(other)) => Err(page_error(other)),
    }
}

/// The banner's words on a child's page, for the child page's handler.
pub(crate) async fn banner(
    alliance: &Alliance,
    actor: &Actor,
    child: alliance_core::children::ChildId,
) -> Result<Option<String>, PageError> {
    alliance
        .break_glass_banner(actor, child)
        .await
        .map_err(page_error)
}
