//! The audit trail's pages as JSON (policy section 1, row "audit trail"): a child's trail
//! (the service lead every row; the DSL and deputies general and safeguarding rows; anyone
//! else 404), the administrators' view (ids and actions, never safeguarding or allegation
//! rows), and the caller's own activity. Newest first, filtered and paged like the pages;
//! every read is audited.

use super::directory::not_found;
use crate::AppState;
use crate::auth::Signed;
use crate::extract::{ApiQuery, PageParams};
use crate::problem::{ApiError, Problem};
use alliance_core::audit::{TrailFilter, TrailFilterInput};
use alliance_core::children::ChildId;
use alliance_service::audit_views::{AuditLine, TrailPage};
use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Registers this area's routes (each with `routes!`, so each is documented).
pub(crate) fn register(router: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    router
        .routes(routes!(child_trail))
        .routes(routes!(administrators_trail))
        .routes(routes!(own_activity))
}

/// One row of the trail: ids and the action, never content.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryView {
    /// Its place in the chain (the `after` of the next page is the last one's).
    pub seq: i64,
    /// RFC 3339, UTC.
    pub at: String,
    /// The action's code, e.g. `concern.submitted`.
    pub action: String,
    /// The action in words.
    pub label: String,
    /// Who acted (a user id), if anyone is known.
    pub actor_id: Option<String>,
    /// Their name (a child's trail and one's own activity; never on the administrators' view).
    pub actor_name: Option<String>,
    pub record_type: String,
    pub record_id: Option<String>,
    pub child_id: Option<String>,
    /// `general`, `safeguarding` or `allegation`.
    pub category: String,
    /// What a refusal asked for and the like (never on the administrators' view).
    pub detail: Option<String>,
    pub request_id: String,
}

fn entry(l: AuditLine) -> AuditEntryView {
    AuditEntryView {
        seq: l.seq,
        at: l.at.to_string(),
        action: l.action.code().to_owned(),
        label: l.action.label().to_owned(),
        actor_id: l.actor,
        actor_name: l.actor_name,
        record_type: l.record_type,
        record_id: l.record_id,
        child_id: l.child,
        category: l.category.code().to_owned(),
        detail: l.detail,
        request_id: l.request_id,
    }
}

/// A page of the trail, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPageView {
    pub items: Vec<AuditEntryView>,
    pub next: Option<String>,
    /// The categories the caller reads here.
    pub categories: Vec<String>,
}

fn page_view(t: TrailPage) -> AuditPageView {
    AuditPageView {
        items: t.lines.into_iter().map(entry).collect(),
        next: t.next,
        categories: t.categories.iter().map(|c| c.code().to_owned()).collect(),
    }
}

/// The filters and paging every audit list takes.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// Only rows by this member of staff (their id).
    pub actor: Option<String>,
    /// Only rows naming this child (their id; the administrators' view and one's own
    /// activity).
    pub child: Option<String>,
    /// Only rows of this action (its code, e.g. `child.read`).
    pub action: Option<String>,
    /// From this London day (2026-12-31 or 31/12/2026).
    pub from: Option<String>,
    /// To the end of this London day.
    pub to: Option<String>,
    /// How many rows (1 to 200; 50 by default).
    pub limit: Option<i64>,
    /// The `next` of the page before.
    pub after: Option<String>,
}

impl AuditParams {
    fn parse(&self) -> Result<(TrailFilter, alliance_core::PageRequest), ApiError> {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        let filter = TrailFilter::parse(&TrailFilterInput {
            actor: text(&self.actor),
            child: text(&self.child),
            action: text(&self.action),
            from: text(&self.from),
            to: text(&self.to),
        })?;
        let page = PageParams {
            limit: self.limit,
            after: self.after.clone(),
        }
        .request()?;
        Ok((filter, page))
    }
}

/// A child's audit trail: the service lead reads every row, the DSL and deputies the general
/// and safeguarding rows; anyone else is answered 404 (audited), as for a child they may not
/// know. The read is audited with the child's id.
#[utoipa::path(
    get,
    path = "/api/v1/children/{id}/audit",
    tag = "audit",
    params(("id" = String, Path, description = "The child's id"), AuditParams),
    responses(
        (status = 200, description = "A page of the child's trail", body = AuditPageView),
        (status = 404, description = "No such child, or not one whose trail the caller reads", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A filter is not valid (each is named)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn child_trail(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> Result<Json<AuditPageView>, ApiError> {
    let child = ChildId::parse(&id).map_err(|_| not_found())?;
    let (filter, page) = params.parse()?;
    let trail = state
        .alliance
        .child_audit(&actor, child, &filter, &page)
        .await?;
    Ok(Json(page_view(trail)))
}

/// The administrators' view of the audit trail: every row but safeguarding and allegation
/// rows, by ids and actions only (no names, no details). Administrators only.
#[utoipa::path(
    get,
    path = "/api/v1/audit",
    tag = "audit",
    params(AuditParams),
    responses(
        (status = 200, description = "A page of the trail", body = AuditPageView),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A filter is not valid (each is named)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn administrators_trail(
    State(state): State<AppState>,
    Signed(actor): Signed,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> Result<Json<AuditPageView>, ApiError> {
    let (filter, page) = params.parse()?;
    let trail = state
        .alliance
        .administrators_audit(&actor, &filter, &page)
        .await?;
    Ok(Json(page_view(trail)))
}

/// Your own activity: the rows you wrote, whatever their category.
#[utoipa::path(
    get,
    path = "/api/v1/me/activity",
    tag = "audit",
    params(AuditParams),
    responses(
        (status = 200, description = "A page of your activity", body = AuditPageView),
        (status = 422, description = "A filter is not valid (each is named)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn own_activity(
    State(state): State<AppState>,
    Signed(actor): Signed,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> Result<Json<AuditPageView>, ApiError> {
    let (filter, page) = params.parse()?;
    let trail = state.alliance.own_activity(&actor, &filter, &page).await?;
    Ok(Json(page_view(trail)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_audit_route_is_documented() {
        let doc = super::super::openapi();
        for path in [
            "/api/v1/children/{id}/audit",
            "/api/v1/audit",
            "/api/v1/me/activity",
        ] {
            let item = doc.paths.paths.get(path);
            assert!(item.and_then(|i| i.get.as_ref()).is_some(), "{path}");
        }
    }

    #[test]
    fn bad_filters_are_named() {
        let params = AuditParams {
            actor: Some("nobody".into()),
            from: Some("yesterday".into()),
            ..AuditParams::default()
        };
        let problem = params.parse().err().map(|e| e.0);
        let fields: Vec<String> = problem
            .map(|p| p.errors.into_iter().map(|e| e.field).collect())
            .unwrap_or_default();
        assert_eq!(fields, ["actor", "from"]);
    }
}
