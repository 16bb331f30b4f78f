//! HTML pages for people. Semantic HTML that reads without JavaScript, in UK English.

mod account;
mod admin;
mod agreements;
mod audit;
mod break_glass;
mod calendars;
mod carer_feedback;
mod children;
mod chronology;
mod consent;
mod contacts;
mod disruptions;
mod emergency;
mod feedback;
pub(crate) mod feeds;
mod goals;
pub(crate) mod handouts;
mod incidents;
mod letters;
mod library;
mod link_cookie;
mod measures;
mod process_notes;
mod retention;
mod room_care;
mod safeguarding;
mod session_records;
mod session_view;
mod sessions;
mod sign_in;
mod site_emergency;
mod sites;
mod subject_access;
mod supervision;
mod tasks;
mod timetables;

use crate::AppState;
use crate::auth::{Auth, CurrentAuth};
use crate::respond::PageError;
use alliance_core::identity::Role;
use alliance_core::{ServiceProfile, uk};
use alliance_service::Via;
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use std::collections::BTreeMap;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/about", get(about))
        .merge(sign_in::router())
        .merge(account::router())
        .merge(admin::router())
        .merge(sites::router())
        .merge(children::router())
        .merge(tasks::router())
        .merge(calendars::router())
        .merge(sessions::router())
        .merge(session_records::router())
        .merge(letters::router())
        .merge(handouts::router())
        .merge(agreements::router())
        .merge(process_notes::router())
        .merge(contacts::router())
        .merge(supervision::router())
        .merge(consent::router())
        .merge(library::router())
        .merge(feeds::router())
        .merge(timetables::router())
        .merge(safeguarding::router())
        .merge(break_glass::router())
        .merge(audit::router())
        .merge(retention::router())
        .merge(subject_access::router())
        .merge(room_care::router())
        .merge(session_view::router())
        .merge(disruptions::router())
        .merge(incidents::router())
        .merge(site_emergency::router())
        .merge(emergency::router())
        .merge(measures::router())
        .merge(feedback::router())
        .merge(carer_feedback::router())
        .merge(goals::router())
}

/// The signed-in person, as the layout shows them.
pub struct LayoutUser {
    pub name: String,
    pub is_admin: bool,
    /// Whether the person may list children at all (staff may not).
    pub sees_children: bool,
    /// Whether the navigation offers the supervision page (therapists and supervisors).
    pub supervision: bool,
    /// Open tasks and notices, for the badge (filled in by [`Layout::load`]).
    pub open_tasks: usize,
    /// Whether the person may raise a safeguarding concern (everyone who works with children).
    pub may_raise: bool,
    /// Whether the navigation offers the safeguarding page (those who may raise, and those who
    /// keep its rota and contacts).
    pub safeguarding: bool,
    /// What awaits the person on the safeguarding queue, for its badge (filled in by
    /// [`Layout::load`]).
    pub safeguarding_badge: usize,
    /// Whether the navigation offers subject access requests (administrators, the service
    /// lead, the DSL and deputies; a named reviewer reaches theirs from its link).
    pub subject_access: bool,
    /// Where the navigation's break-glass link goes: the review page for those who review,
    /// the request page for those who may only ask; none for anyone else.
    pub break_glass: Option<&'static str>,
    /// Whether the navigation offers the measure library (issue 17: clinicians, the DSL, the
    /// service lead and administrators).
    pub measures: bool,
    /// Whether the navigation offers retention (administrators, the service lead, the DSL and
    /// deputies).
    pub retention: bool,
}

/// What the layout shows on every page.
pub struct Layout {
    pub service_name: Option<String>,
    pub demo: bool,
    pub current: &'static str,
    pub user: Option<LayoutUser>,
    /// The session's CSRF token, for every form on the page.
    pub csrf: String,
}

impl Layout {
    pub fn new(service: Option<&ServiceProfile>, current: &'static str, auth: &Auth) -> Self {
        let (user, csrf) = match auth {
            Auth::Signed(actor) => (
                Some(LayoutUser {
                    name: actor.user.display_name.clone(),
                    is_admin: actor.user.has_role(Role::Administrator),
                    measures: alliance_core::policy::decide(
                        &actor.user,
                        alliance_core::policy::Action::ReadMeasures,
                    )
                    .is_allowed(),
                    sees_children: alliance_core::access::list_scope(&actor.user)
                        != alliance_core::access::ListScope::Nobody,
                    supervision: actor.user.has_role(Role::Therapist)
                        || actor.user.has_role(Role::Supervisor),
                    open_tasks: 0,
                    may_raise: alliance_core::safeguarding::may_raise(&actor.user),
                    safeguarding: alliance_core::safeguarding::may_raise(&actor.user)
                        || alliance_core::safeguarding::may_edit_rota(&actor.user)
                        || alliance_core::safeguarding::may_edit_settings(&actor.user),
                    safeguarding_badge: 0,
                    subject_access: alliance_core::subject_access::reach(&actor.user).sees_requests,
                    retention: alliance_core::retention::reach(&actor.user).is_some(),
                    break_glass: if alliance_core::break_glass::may_review(&actor.user).is_allowed()
                    {
                        Some("/break-glass")
                    } else if alliance_core::break_glass::may_request(&actor.user).is_allowed() {
                        Some("/break-glass/mine")
                    } else {
                        None
                    },
                }),
                match &actor.via {
                    Via::Session { csrf_token, .. } => csrf_token.clone(),
                    Via::Token { .. } => String::new(),
                },
            ),
            Auth::Partial { session, .. } => (None, session.csrf_token.clone()),
            Auth::Anonymous => (None, String::new()),
        };
        Self {
            service_name: service.map(|s| s.name.as_str().to_owned()),
            demo: service.is_some_and(|s| s.is_demo),
            current,
            user,
            csrf,
        }
    }

    pub async fn load(
        state: &AppState,
        current: &'static str,
        auth: &Auth,
    ) -> Result<Self, PageError> {
        let profile = state.alliance.service_profile().await?;
        let mut layout = Self::new(profile.as_ref(), current, auth);
        layout.count_tasks(state, auth).await;
        Ok(layout)
    }

    /// Fills in the badges (tasks, and the safeguarding queue). A failure to count leaves a
    /// badge empty rather than failing the page.
    pub async fn count_tasks(&mut self, state: &AppState, auth: &Auth) {
        if let (Some(user), Auth::Signed(actor)) = (self.user.as_mut(), auth) {
            match state.alliance.open_task_count(actor).await {
                Ok(n) => user.open_tasks = n,
                Err(err) => tracing::warn!(%err, "the task badge could not be counted"),
            }
            if user.safeguarding {
                match state.alliance.safeguarding_badge(&actor.user).await {
                    Ok(n) => user.safeguarding_badge = n,
                    Err(err) => {
                        tracing::warn!(%err, "the safeguarding badge could not be counted");
                    }
                }
            }
        }
    }
}

/// A submitted form's fields (repeated names kept, for checkboxes).
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(transparent)]
pub struct FormData(pub Vec<(String, String)>);

impl FormData {
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    pub fn optional(&self, name: &str) -> Option<&str> {
        Some(self.get(name)).filter(|v| !v.trim().is_empty())
    }

    /// Whether `name` was sent with `value` (a ticked checkbox or radio of a group).
    pub fn has(&self, name: &str, value: &str) -> bool {
        self.0.iter().any(|(k, v)| k == name && v == value)
    }

    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// Field errors for re-showing a form, by field name.
#[derive(Debug, Default)]
pub struct FieldErrors(pub BTreeMap<String, String>);

impl FieldErrors {
    pub fn from_invalid(invalid: &alliance_core::Invalid) -> Self {
        Self(
            invalid
                .errors
                .iter()
                .map(|e| (e.field.clone(), e.message.clone()))
                .collect(),
        )
    }

    pub fn one(field: &str, message: &str) -> Self {
        Self([(field.to_owned(), message.to_owned())].into())
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// (field, message) pairs for the error summary at the top of a form.
    pub fn list(&self) -> Vec<(&str, &str)> {
        self.0
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }
}

pub fn render(template: &impl Template) -> Result<Html<String>, PageError> {
    template.render().map(Html).map_err(|err| {
        tracing::error!(%err, "a template failed to render");
        PageError::internal()
    })
}

/// A form page re-shown with its errors, as 422.
pub fn unprocessable(page: &impl Template) -> Result<axum::response::Response, PageError> {
    use axum::response::IntoResponse;
    let mut response = render(page)?.into_response();
    *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}

/// A form re-shown as 409 because the record changed while it was being edited: what was
/// typed is kept on the form, nothing is merged.
pub fn conflicted(page: &impl Template) -> Result<axum::response::Response, PageError> {
    use axum::response::IntoResponse;
    let mut response = render(page)?.into_response();
    *response.status_mut() = axum::http::StatusCode::CONFLICT;
    Ok(response)
}

/// The message shown on a form that lost a race with another change.
pub const STALE_MESSAGE: &str = "Someone else changed this record while you were editing it. \
    What you typed is kept below: open the record in a new tab to see their change, then save \
    again if yours should still stand.";

/// The version a form was read at.
pub fn version_of(form: &FormData) -> Result<alliance_core::Version, PageError> {
    form.get("version")
        .parse::<i64>()
        .ok()
        .and_then(|v| alliance_core::Version::new(v).ok())
        .ok_or_else(|| {
            crate::errors::page_error(alliance_service::AppError::Invalid(
                alliance_core::Invalid::field(
                    "version",
                    "The form is missing its version; reload the page",
                ),
            ))
        })
}

/// A checkbox's value in a submitted form.
pub fn checked(form: &FormData, name: &str) -> bool {
    matches!(form.get(name), "yes" | "on" | "true")
}

/// A local path to return to after signing in; anything else (another site, `//host`) is
/// replaced by the home page.
pub fn safe_next(next: &str) -> String {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control());
    if ok { next.to_owned() } else { "/".to_owned() }
}

struct ServiceSummary {
    name: String,
    nation: &'static str,
    updated: String,
}

#[derive(Template)]
#[template(path = "index.html")]
struct HomePage {
    layout: Layout,
    service: Option<ServiceSummary>,
    setup_needed: bool,
}

async fn home(
    State(state): State<AppState>,
    CurrentAuth(auth): CurrentAuth,
) -> Result<Html<String>, PageError> {
    let profile = state.alliance.service_profile().await?;
    let setup_needed = state.alliance.setup_needed().await.unwrap_or(false);
    let mut layout = Layout::new(profile.as_ref(), "home", &auth);
    layout.count_tasks(&state, &auth).await;
    render(&HomePage {
        layout,
        service: profile.map(|p| ServiceSummary {
            name: p.name.as_str().to_owned(),
            nation: p.nation.label(),
            updated: uk::date_time(p.updated_at),
        }),
        setup_needed,
    })
}

#[derive(Template)]
#[template(path = "about.html")]
struct AboutPage {
    layout: Layout,
    version: &'static str,
    database: &'static str,
    local_time: String,
}

async fn about(
    State(state): State<AppState>,
    CurrentAuth(auth): CurrentAuth,
) -> Result<Html<String>, PageError> {
    render(&AboutPage {
        layout: Layout::load(&state, "about", &auth).await?,
        version: env!("CARGO_PKG_VERSION"),
        database: match state.alliance.store().kind() {
            alliance_service::DatabaseKind::Sqlite => "SQLite",
            alliance_service::DatabaseKind::Postgres => "PostgreSQL",
        },
        local_time: uk::date_time(state.alliance.clock().now()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_returned_to() {
        assert_eq!(safe_next("/account"), "/account");
        assert_eq!(safe_next("/admin/users?role=dsl"), "/admin/users?role=dsl");
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "",
            "javascript:x",
            "/a\nb",
        ] {
            assert_eq!(safe_next(bad), "/", "{bad}");
        }
    }
}
