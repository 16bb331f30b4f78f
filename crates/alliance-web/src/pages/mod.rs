//! HTML pages for people. Semantic HTML that reads without JavaScript, in UK English.

use crate::AppState;
use crate::respond::PageError;
use alliance_core::{ServiceProfile, uk};
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/about", get(about))
}

/// What the layout shows on every page.
pub struct Layout {
    pub service_name: Option<String>,
    pub demo: bool,
    pub current: &'static str,
}

impl Layout {
    fn new(service: Option<&ServiceProfile>, current: &'static str) -> Self {
        Self {
            service_name: service.map(|s| s.name.as_str().to_owned()),
            demo: service.is_some_and(|s| s.is_demo),
            current,
        }
    }
}

fn render(template: &impl Template) -> Result<Html<String>, PageError> {
    template.render().map(Html).map_err(|err| {
        tracing::error!(%err, "a template failed to render");
        PageError::internal()
    })
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
}

async fn home(State(state): State<AppState>) -> Result<Html<String>, PageError> {
    let profile = state.alliance.service_profile().await?;
    render(&HomePage {
        layout: Layout::new(profile.as_ref(), "home"),
        service: profile.map(|p| ServiceSummary {
            name: p.name.as_str().to_owned(),
            nation: p.nation.label(),
            updated: uk::date_time(p.updated_at),
        }),
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

async fn about(State(state): State<AppState>) -> Result<Html<String>, PageError> {
    let profile = state.alliance.service_profile().await?;
    render(&AboutPage {
        layout: Layout::new(profile.as_ref(), "about"),
        version: env!("CARGO_PKG_VERSION"),
        database: match state.alliance.store().kind() {
            alliance_service::DatabaseKind::Sqlite => "SQLite",
            alliance_service::DatabaseKind::Postgres => "PostgreSQL",
        },
        local_time: uk::date_time(state.alliance.clock().now()),
    })
}
