//! Break-glass access (policy section 1): asking for time-limited read of one child's record
//! with a written reason, one's own grants (and ending one early), the review list of the
//! DSL, deputies and the service lead (each grant with what was done under it), marking a
//! grant reviewed, and the service's durations. The same use-cases, rules and audit as the
//! pages.

use super::directory::{not_found, version};
use crate::AppState;
use crate::auth::Signed;
use crate::extract::{ApiJson, ApiQuery, PageParams};
use crate::problem::{ApiError, Problem};
use alliance_core::break_glass::{GrantId, Settings};
use alliance_service::audit_views::AuditLine;
use alliance_service::break_glass::{BreakGlassRequest, GrantView};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Registers this area's routes (each with `routes!`, so each is documented).
pub(crate) fn register(router: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    router
        .routes(routes!(request_access, review_list))
        .routes(routes!(my_grants))
        .routes(routes!(end_access))
        .routes(routes!(mark_reviewed))
        .routes(routes!(get_settings, set_settings))
}

fn grant_id(raw: &str) -> Result<GrantId, ApiError> {
    GrantId::parse(raw).map_err(|_| not_found())
}

/// One audit row done under a grant: ids and the action, never content.
#[derive(Debug, Serialize, ToSchema)]
pub struct GrantEntryView {
    pub seq: i64,
    /// RFC 3339, UTC.
    pub at: String,
    /// The action's code, e.g. `child.read`.
    pub action: String,
    /// The action in words.
    pub label: String,
    pub record_type: String,
    pub record_id: Option<String>,
    pub detail: Option<String>,
}

fn entry_view(l: AuditLine) -> GrantEntryView {
    GrantEntryView {
        seq: l.seq,
        at: l.at.to_string(),
        action: l.action.code().to_owned(),
        label: l.action.label().to_owned(),
        record_type: l.record_type,
        record_id: l.record_id,
        detail: l.detail,
    }
}

/// A break-glass grant.
#[derive(Debug, Serialize, ToSchema)]
pub struct GrantApiView {
    pub id: String,
    /// `BG-` and eight characters: how notices name it.
    pub reference: String,
    pub child_id: String,
    /// The child's name, while the caller may know the child; else empty.
    pub child_name: String,
    pub holder_id: String,
    pub holder_name: String,
    /// As written.
    pub reason: String,
    /// RFC 3339, UTC.
    pub starts_at: String,
    pub expires_at: String,
    /// When it stops (or stopped): its expiry, or its early end.
    pub until: String,
    pub ended_early: bool,
    /// `active`, `awaiting-review` or `reviewed`.
    pub state: String,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<String>,
    /// The caller holds it and it is in force.
    pub may_end: bool,
    /// The caller reviews, and it is over and not yet reviewed.
    pub may_review: bool,
    /// On the review list: what its holder did about the child under it, oldest first.
    pub entries: Vec<GrantEntryView>,
    /// More rows were done under it than are listed.
    pub more_entries: bool,
}

fn grant_view(g: GrantView) -> GrantApiView {
    GrantApiView {
        id: g.id.to_string(),
        reference: g.reference,
        child_id: g.child.to_string(),
        child_name: g.child_name,
        holder_id: g.holder.to_string(),
        holder_name: g.holder_name,
        reason: g.reason,
        starts_at: g.starts_at.to_string(),
        expires_at: g.expires_at.to_string(),
        until: g.until.to_string(),
        ended_early: g.ended_early,
        state: g.state.code().to_owned(),
        reviewed_by: g.reviewed_by,
        reviewed_at: g.reviewed_at.map(|t| t.to_string()),
        may_end: g.may_end,
        may_review: g.may_review,
        entries: g.entries.into_iter().map(entry_view).collect(),
        more_entries: g.more_entries,
    }
}

/// A request for break-glass access.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BreakGlassBody {
    /// The child: their NHS number, their UPN, their id, or a link to their record.
    pub child: String,
    /// Why you need to see the record now (a sentence or more; the DSL and the service lead
    /// read it).
    pub reason: String,
    /// For how long, in minutes (from 15 to the service's longest; the service's default when
    /// left out: 240 unless changed).
    #[serde(default)]
    pub minutes: Option<u32>,
}

/// Asks for break-glass access to one child: granted at once, the DSL, deputies and the
/// service lead told. Every request is audited, granted or not.
#[utoipa::path(
    post,
    path = "/api/v1/break-glass",
    tag = "break-glass",
    request_body = BreakGlassBody,
    responses(
        (status = 201, description = "Granted: the child's record reads as the case team's, until it ends", body = GrantApiView),
        (status = 403, description = "The caller may not ask (only therapists, the DSL and deputies, and the service lead), or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The caller already holds access to this child", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The child is not named or not found, the reason is too short, or the length is out of bounds (`child`, `reason`, `minutes`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn request_access(
    State(state): State<AppState>,
    Signed(actor): Signed,
    ApiJson(body): ApiJson<BreakGlassBody>,
) -> Result<(StatusCode, Json<GrantApiView>), ApiError> {
    let grant = state
        .alliance
        .request_break_glass(
            &actor,
            &BreakGlassRequest {
                child: body.child,
                reason: body.reason,
                minutes: body.minutes,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(grant_view(grant))))
}

/// A page of grants.
#[derive(Debug, Serialize, ToSchema)]
pub struct GrantPage {
    pub items: Vec<GrantApiView>,
    pub next: Option<String>,
}

/// Your own break-glass grants, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/me/break-glass",
    tag = "break-glass",
    params(PageParams),
    responses(
        (status = 200, description = "A page of your grants", body = GrantPage),
        (status = 422, description = "A paging parameter is not valid", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn my_grants(
    State(state): State<AppState>,
    Signed(actor): Signed,
    ApiQuery(params): ApiQuery<PageParams>,
) -> Result<Json<GrantPage>, ApiError> {
    let page = params.request()?;
    let found = state.alliance.my_break_glass(&actor, &page).await?;
    Ok(Json(GrantPage {
        next: found.next,
        items: found.items.into_iter().map(grant_view).collect(),
    }))
}

/// Ends one of your own grants now.
#[utoipa::path(
    post,
    path = "/api/v1/break-glass/{id}/end",
    tag = "break-glass",
    params(("id" = String, Path, description = "The grant's id")),
    responses(
        (status = 200, description = "Ended", body = GrantApiView),
        (status = 403, description = "A read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such grant of yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "It has already ended", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn end_access(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Json<GrantApiView>, ApiError> {
    let grant = state
        .alliance
        .end_break_glass(&actor, grant_id(&id)?)
        .await?;
    Ok(Json(grant_view(grant)))
}

/// The review list: grants in force and awaiting review (`open`), then a page of reviewed ones.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewListView {
    /// In force first (soonest to end first), then awaiting review (newest first).
    pub open: Vec<GrantApiView>,
    /// Reviewed, newest first (paged by `limit` and `after`).
    pub reviewed: Vec<GrantApiView>,
    pub next: Option<String>,
}

/// The break-glass review list (the DSL, deputies and the service lead), each grant with
/// what its holder did about the child under it. Reading it is audited.
#[utoipa::path(
    get,
    path = "/api/v1/break-glass",
    tag = "break-glass",
    params(PageParams),
    responses(
        (status = 200, description = "The review list", body = ReviewListView),
        (status = 403, description = "Not the DSL, a deputy or the service lead", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A paging parameter is not valid", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn review_list(
    State(state): State<AppState>,
    Signed(actor): Signed,
    ApiQuery(params): ApiQuery<PageParams>,
) -> Result<Json<ReviewListView>, ApiError> {
    let page = params.request()?;
    let list = state.alliance.break_glass_review(&actor, &page).await?;
    Ok(Json(ReviewListView {
        open: list.open.into_iter().map(grant_view).collect(),
        next: list.reviewed.next,
        reviewed: list.reviewed.items.into_iter().map(grant_view).collect(),
    }))
}

/// Marks a grant reviewed once it has ended (the DSL, deputies and the service lead; never
/// one's own, unless nobody else reviews). The notices about it are marked read.
#[utoipa::path(
    post,
    path = "/api/v1/break-glass/{id}/review",
    tag = "break-glass",
    params(("id" = String, Path, description = "The grant's id")),
    responses(
        (status = 200, description = "Reviewed", body = GrantApiView),
        (status = 403, description = "Not the DSL, a deputy or the service lead, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such grant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Still in force, already reviewed, or your own", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn mark_reviewed(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Json<GrantApiView>, ApiError> {
    let grant = state
        .alliance
        .review_break_glass(&actor, grant_id(&id)?)
        .await?;
    Ok(Json(grant_view(grant)))
}

/// How long break-glass access lasts (policy section 1: default 4 hours).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DurationsView {
    /// How long a grant lasts unless less is asked for (15 to 720 minutes; 240 by default).
    pub default_minutes: u32,
    /// The most anyone may ask for (15 to 720 minutes, not less than the default; 720 by
    /// default).
    pub longest_minutes: u32,
    /// The figures' version, for updates; absent while the defaults stand.
    #[serde(default)]
    pub version: Option<i64>,
    /// Where the rule and its default come from.
    #[serde(default)]
    pub source: Option<String>,
}

fn durations_view(s: &Settings, v: Option<alliance_core::Version>) -> DurationsView {
    DurationsView {
        default_minutes: s.default_minutes,
        longest_minutes: s.longest_minutes,
        version: v.map(|v| v.get()),
        source: Some(alliance_core::break_glass::SOURCE.to_owned()),
    }
}

/// The service's break-glass durations (everyone signed in may read them).
#[utoipa::path(
    get,
    path = "/api/v1/break-glass/settings",
    tag = "break-glass",
    responses((status = 200, description = "The durations", body = DurationsView)),
    security(("bearer" = []))
)]
pub async fn get_settings(
    State(state): State<AppState>,
    Signed(_actor): Signed,
) -> Result<Json<DurationsView>, ApiError> {
    let (settings, v) = state.alliance.break_glass_settings().await?;
    Ok(Json(durations_view(&settings, v)))
}

/// Changes the durations (administrators and the service lead). Send the version you read,
/// or none while the defaults stand; a stale one is refused with 409.
#[utoipa::path(
    put,
    path = "/api/v1/break-glass/settings",
    tag = "break-glass",
    request_body = DurationsView,
    responses(
        (status = 200, description = "Changed", body = DurationsView),
        (status = 403, description = "Not an administrator or the service lead, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed by someone else since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A figure is out of bounds (each is named)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn set_settings(
    State(state): State<AppState>,
    Signed(actor): Signed,
    ApiJson(body): ApiJson<DurationsView>,
) -> Result<Json<DurationsView>, ApiError> {
    let expected = body.version.map(version).transpose()?;
    state
        .alliance
        .set_break_glass_settings(
            &actor,
            Settings {
                default_minutes: body.default_minutes,
                longest_minutes: body.longest_minutes,
            },
            expected,
        )
        .await?;
    let (settings, v) = state.alliance.break_glass_settings().await?;
    Ok(Json(durations_view(&settings, v)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_break_glass_route_is_documented() {
        let doc = super::super::openapi();
        for (path, methods) in [
            ("/api/v1/break-glass", &["get", "post"][..]),
            ("/api/v1/me/break-glass", &["get"][..]),
            ("/api/v1/break-glass/{id}/end", &["post"][..]),
            ("/api/v1/break-glass/{id}/review", &["post"][..]),
            ("/api/v1/break-glass/settings", &["get", "put"][..]),
        ] {
            let item = doc.paths.paths.get(path);
            assert!(item.is_some(), "{path} is missing");
            for method in methods {
                let operation = item.and_then(|i| match *method {
                    "get" => i.get.as_ref(),
                    "put" => i.put.as_ref(),
                    _ => i.post.as_ref(),
                });
                assert!(operation.is_some(), "{method} {path} is missing");
            }
        }
    }

    #[test]
    fn the_request_refuses_unknown_fields() {
        let ok: Result<BreakGlassBody, _> =
            serde_json::from_str(r#"{"child": "943 476 5919", "reason": "r"}"#);
        assert!(ok.is_ok_and(|b| b.minutes.is_none()));
        let stray: Result<BreakGlassBody, _> =
            serde_json::from_str(r#"{"child": "x", "reason": "r", "hours": 4}"#);
        assert!(stray.is_err());
    }
}
