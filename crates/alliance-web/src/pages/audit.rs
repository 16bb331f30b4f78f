//! The audit pages (policy section 1, row "audit trail"): a child's trail for the service lead
//! and the DSL, the administrators' view (ids and actions, no safeguarding or allegation
//! rows), and each person's own activity. Which rows each reader sees is decided by the
//! use-cases; this module shows what they answer, with actions in words and times in
//! Europe/London.

use super::{Layout, render};
use crate::AppState;
use crate::auth::{CurrentAuth, Signed};
use crate::errors::page_error;
use crate::respond::PageError;
use alliance_core::audit::{Action, Category, TrailFilter, TrailFilterInput};
use alliance_core::children::ChildId;
use alliance_core::{PageRequest, uk};
use alliance_service::audit_views::{AuditLine, TrailPage};
use alliance_service::{Actor, AppError, UserFilter};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/children/{id}/audit", get(child_trail))
        .route("/admin/audit", get(administrators_trail))
        .route("/account/activity", get(own_activity))
}

/// Which page: it decides the columns and the filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Child,
    Administrators,
    Own,
}

/// One row, as the page shows it.
struct Line {
    at: String,
    what: &'static str,
    code: &'static str,
    who: String,
    actor_id: String,
    record_type: String,
    record_id: String,
    child_id: String,
    safeguarding: Option<&'static str>,
    detail: String,
    request_id: String,
}

fn line(l: AuditLine) -> Line {
    Line {
        at: uk::date_time(l.at),
        what: l.action.label(),
        code: l.action.code(),
        who: l
            .actor_name
            .clone()
            .or_else(|| l.actor.as_ref().map(|_| "A former account".to_owned()))
            .unwrap_or_else(|| "Alliance itself".to_owned()),
        actor_id: l.actor.unwrap_or_default(),
        record_type: l.record_type,
        record_id: l.record_id.unwrap_or_default(),
        child_id: l.child.unwrap_or_default(),
        safeguarding: match l.category {
            Category::General => None,
            Category::Safeguarding => Some("Safeguarding"),
            Category::Allegation => Some("Allegation"),
        },
        detail: l.detail.unwrap_or_default(),
        request_id: l.request_id,
    }
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    layout: Layout,
    kind: Kind,
    title: String,
    intro: String,
    /// The page's own address, for the filter form and the next page.
    path: String,
    back: Option<(String, String)>,
    lines: Vec<Line>,
    next: Option<String>,
    /// Staff for the "who" filter, as (id, name).
    staff: Vec<(String, String)>,
    actions: Vec<(&'static str, &'static str)>,
    filter: TrailFilterInput,
    errors: super::FieldErrors,
}

impl AuditPage {
    fn is_child(&self) -> bool {
        self.kind == Kind::Child
    }

    fn is_admin(&self) -> bool {
        self.kind == Kind::Administrators
    }

    fn is_own(&self) -> bool {
        self.kind == Kind::Own
    }
}

#[derive(Debug, Default, Deserialize)]
struct TrailQuery {
    actor: Option<String>,
    child: Option<String>,
    action: Option<String>,
    from: Option<String>,
    to: Option<String>,
    after: Option<String>,
}

impl TrailQuery {
    fn input(&self) -> TrailFilterInput {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        TrailFilterInput {
            actor: text(&self.actor),
            child: text(&self.child),
            action: text(&self.action),
            from: text(&self.from),
            to: text(&self.to),
        }
    }
}

/// Every member of staff, for the "who" filter (the directory is open to everyone here).
async fn staff(state: &AppState, actor: &Actor) -> Result<Vec<(String, String)>, PageError> {
    let filter = UserFilter {
        role: None,
        active: None,
        search: None,
    };
    let mut out = Vec::new();
    let mut page = PageRequest::parse(Some(200), None).map_err(|e| page_error(e.into()))?;
    loop {
        let found = state
            .alliance
            .list_users(actor, &filter, &page)
            .await
            .map_err(page_error)?;
        out.extend(
            found
                .items
                .into_iter()
                .map(|u| (u.id.to_string(), u.display_name)),
        );
        match found.next {
            Some(next) => {
                page =
                    PageRequest::parse(Some(200), Some(&next)).map_err(|e| page_error(e.into()))?;
            }
            None => break,
        }
    }
    out.sort_by_key(|a| a.1.to_lowercase());
    Ok(out)
}

fn actions() -> Vec<(&'static str, &'static str)> {
    let mut all: Vec<_> = Action::ALL.iter().map(|a| (a.code(), a.label())).collect();
    all.sort_by_key(|(_, label)| *label);
    all
}

/// The query, parsed: an unreadable filter is shown on the form (and nothing is listed);
/// the use-case is still asked, with no filter, so its gate and its audit hold whatever was
/// typed.
struct Parsed {
    input: TrailFilterInput,
    filter: TrailFilter,
    errors: super::FieldErrors,
    page: PageRequest,
}

fn parse(query: &TrailQuery) -> Result<Parsed, PageError> {
    let input = query.input();
    let page = PageRequest::parse(Some(50), query.after.as_deref().filter(|a| !a.is_empty()))
        .map_err(|e| page_error(AppError::Invalid(e)))?;
    let (filter, errors) = match TrailFilter::parse(&input) {
        Ok(f) => (f, super::FieldErrors::default()),
        Err(invalid) => (
            TrailFilter::default(),
            super::FieldErrors::from_invalid(&invalid),
        ),
    };
    Ok(Parsed {
        input,
        filter,
        errors,
        page,
    })
}

/// Renders `shown` with the trail the use-case answered.
async fn finish(
    state: &AppState,
    actor: &Actor,
    parsed: Parsed,
    trail: TrailPage,
    mut shown: AuditPage,
) -> Result<Response, PageError> {
    shown.staff = match shown.kind {
        Kind::Own => Vec::new(),
        _ => staff(state, actor).await?,
    };
    let Parsed { input, errors, .. } = parsed;
    if errors.is_empty() {
        shown.lines = trail.lines.into_iter().map(line).collect();
        shown.next = trail.next.map(|n| {
            let mut q = form_urlencoded::Serializer::new(String::new());
            for (name, value) in [
                ("actor", &input.actor),
                ("child", &input.child),
                ("action", &input.action),
                ("from", &input.from),
                ("to", &input.to),
            ] {
                if !value.is_empty() {
                    q.append_pair(name, value);
                }
            }
            q.append_pair("after", &n);
            format!("{}?{}", shown.path, q.finish())
        });
    }
    shown.filter = input;
    shown.errors = errors;
    let mut response = render(&shown)?.into_response();
    if !shown.errors.is_empty() {
        *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

fn blank(layout: Layout, kind: Kind, title: &str, intro: &str, path: String) -> AuditPage {
    AuditPage {
        layout,
        kind,
        title: title.to_owned(),
        intro: intro.to_owned(),
        path,
        back: None,
        lines: Vec::new(),
        next: None,
        staff: Vec::new(),
        actions: actions(),
        filter: TrailFilterInput::default(),
        errors: super::FieldErrors::default(),
    }
}

async fn child_trail(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Query(query): Query<TrailQuery>,
) -> Result<Response, PageError> {
    let child = ChildId::parse(&id).map_err(|_| page_error(AppError::NotFound))?;
    let parsed = parse(&query)?;
    let trail = state
        .alliance
        .child_audit(&actor, child, &parsed.filter, &parsed.page)
        .await
        .map_err(page_error)?;
    let intro = if trail.categories.contains(&Category::Allegation) {
        "Everything done with this child's record, newest first: general and safeguarding \
         rows, and any about an allegation."
    } else {
        "Everything done with this child's record, newest first: general and safeguarding \
         rows (allegation rows are the service lead's)."
    };
    let mut page = blank(
        Layout::load(&state, "children", &auth).await?,
        Kind::Child,
        "The child's audit trail",
        intro,
        format!("/children/{child}/audit"),
    );
    page.back = Some((format!("/children/{child}"), "Back to the child".to_owned()));
    finish(&state, &actor, parsed, trail, page).await
}

async fn administrators_trail(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Query(query): Query<TrailQuery>,
) -> Result<Response, PageError> {
    let parsed = parse(&query)?;
    let trail = state
        .alliance
        .administrators_audit(&actor, &parsed.filter, &parsed.page)
        .await
        .map_err(page_error)?;
    let page = blank(
        Layout::load(&state, "audit", &auth).await?,
        Kind::Administrators,
        "Audit trail",
        "Who did what, by ids and actions, newest first. Safeguarding and allegation rows are \
         not shown here: the DSL and the service lead read them on each child's trail.",
        "/admin/audit".to_owned(),
    );
    finish(&state, &actor, parsed, trail, page).await
}

async fn own_activity(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Query(query): Query<TrailQuery>,
) -> Result<Response, PageError> {
    let parsed = parse(&query)?;
    let trail = state
        .alliance
        .own_activity(&actor, &parsed.filter, &parsed.page)
        .await
        .map_err(page_error)?;
    let mut page = blank(
        Layout::load(&state, "account", &auth).await?,
        Kind::Own,
        "Your activity",
        "Everything you have done in Alliance, newest first, as the audit trail keeps it.",
        "/account/activity".to_owned(),
    );
    page.back = Some(("/account".to_owned(), "Your account".to_owned()));
    finish(&state, &actor, parsed, trail, page).await
}
