//! Incidents (issue 16, clinical record): a child's incidents, recording one (the case team's
//! lead and co-workers), one incident with its addenda, and adding a correction with its
//! reason. The DSL reads only incidents linked to a concern, a supervisor of the team reads
//! them pseudonymised; the service lead, administrators, staff, other therapists and the
//! parent-worker get 404 (audited). The same use-cases, rules and audit as the pages.

use super::directory::not_found;
use crate::AppState;
use crate::auth::Signed;
use crate::extract::ApiJson;
use crate::problem::{ApiError, Problem};
use alliance_core::children::ChildId;
use alliance_core::incidents::{IncidentId, IncidentInput};
use alliance_core::safeguarding::ConcernId;
use alliance_core::schedule::BookingId;
use alliance_service::incidents::{IncidentSummary, IncidentView};
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
        .routes(routes!(child_incidents, record_incident))
        .routes(routes!(get_incident))
        .routes(routes!(add_addendum))
}

fn invalid(field: &str, message: &str) -> ApiError {
    Problem::for_status(StatusCode::UNPROCESSABLE_ENTITY)
        .field(field, message)
        .into()
}

/// Someone told, and when.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ToldBody {
    /// `carers`, `dsl`, `service-lead` or `school-staff`.
    pub whom: String,
    /// `YYYY-MM-DDTHH:MM` (Europe/London), if known.
    #[serde(default)]
    pub when: Option<String>,
}

/// An incident as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentApiView {
    pub id: String,
    /// `IN-` and eight characters.
    pub reference: String,
    /// `hurt`, `aggression`, `damage`, `physical-intervention`.
    pub kinds: Vec<String>,
    /// `YYYY-MM-DDTHH:MM:SS`, Europe/London.
    pub occurred: String,
    pub what_happened: String,
    /// Free text; may name staff.
    pub who_involved: String,
    pub what_done: String,
    pub told: Vec<ToldBody>,
    /// The ground rules of the agreement that were relevant, in the child's words.
    pub rules: Vec<String>,
    pub session_id: Option<String>,
    pub concern_id: Option<String>,
    pub recorded_by: String,
    /// RFC 3339, UTC.
    pub recorded_at: String,
    pub addenda_count: usize,
}

fn summary_view(s: IncidentSummary) -> IncidentApiView {
    IncidentApiView {
        id: s.id.to_string(),
        reference: s.reference,
        kinds: s
            .content
            .kinds
            .iter()
            .map(|k| k.code().to_owned())
            .collect(),
        occurred: s.content.occurred.to_string(),
        what_happened: s.content.what_happened,
        who_involved: s.content.who_involved,
        what_done: s.content.what_done,
        told: s
            .content
            .told
            .iter()
            .map(|t| ToldBody {
                whom: t.whom.code().to_owned(),
                when: t.when.map(|w| w.to_string()),
            })
            .collect(),
        rules: s.content.rules,
        session_id: s.session.map(|x| x.to_string()),
        concern_id: s.concern.map(|x| x.to_string()),
        recorded_by: s.recorded_by,
        recorded_at: s.recorded_at.to_string(),
        addenda_count: s.addenda,
    }
}

/// A child's incidents as the caller may see them.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChildIncidentsView {
    pub child_id: String,
    /// The child's name, or initials and case number for a pseudonymised reader.
    pub child_label: String,
    /// Newest first.
    pub items: Vec<IncidentApiView>,
    pub may_record: bool,
}

/// A child's incidents (audited as read).
#[utoipa::path(
    get,
    path = "/api/v1/children/{id}/incidents",
    tag = "incidents",
    params(("id" = String, Path, description = "The child's id")),
    responses(
        (status = 200, description = "The incidents the caller may read", body = ChildIncidentsView),
        (status = 404, description = "No such child, or no incident of theirs is the caller's to read (audited)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn child_incidents(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Json<ChildIncidentsView>, ApiError> {
    let child = ChildId::parse(&id).map_err(|_| not_found())?;
    let list = state.alliance.child_incidents(&actor, child).await?;
    Ok(Json(ChildIncidentsView {
        child_id: list.child.to_string(),
        child_label: list.child_label,
        items: list.incidents.into_iter().map(summary_view).collect(),
        may_record: list.may_record,
    }))
}

/// An incident to record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentBody {
    /// One or more of `hurt`, `aggression`, `damage`, `physical-intervention`.
    pub kinds: Vec<String>,
    /// When it happened: `YYYY-MM-DDTHH:MM` (Europe/London).
    pub occurred: String,
    pub what_happened: String,
    pub who_involved: String,
    pub what_done: String,
    #[serde(default)]
    pub told: Vec<ToldBody>,
    /// Rules of the child's current agreement, exactly as worded there.
    #[serde(default)]
    pub rules: Vec<String>,
    /// The session (booking id) it happened in.
    #[serde(default)]
    pub session_id: Option<String>,
    /// A concern about this child the caller may read.
    #[serde(default)]
    pub concern_id: Option<String>,
}

/// The id of what was written.
#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentCreated {
    pub id: String,
}

/// Records an incident (the case team's lead and co-workers); the child's lead therapist is
/// told when someone else recorded it.
#[utoipa::path(
    post,
    path = "/api/v1/children/{id}/incidents",
    tag = "incidents",
    params(("id" = String, Path, description = "The child's id")),
    request_body = IncidentBody,
    responses(
        (status = 201, description = "Recorded", body = IncidentCreated),
        (status = 403, description = "The caller reads but may not write the clinical record, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such child, or not the caller's to know (audited)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn record_incident(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<IncidentBody>,
) -> Result<(StatusCode, Json<IncidentCreated>), ApiError> {
    let child = ChildId::parse(&id).map_err(|_| not_found())?;
    let session = match body.session_id.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(raw) => Some(
            BookingId::parse(raw)
                .map_err(|_| invalid("session_id", "Choose one of this child's sessions"))?,
        ),
        None => None,
    };
    let concern = match body.concern_id.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(raw) => Some(
            ConcernId::parse(raw)
                .map_err(|_| invalid("concern_id", "Choose one of the concerns listed"))?,
        ),
        None => None,
    };
    let input = IncidentInput {
        kinds: body.kinds,
        occurred: body.occurred,
        what_happened: body.what_happened,
        who_involved: body.who_involved,
        what_done: body.what_done,
        told: body
            .told
            .into_iter()
            .map(|t| (t.whom, t.when.unwrap_or_default()))
            .collect(),
        rules: body.rules,
    };
    let id = state
        .alliance
        .record_incident(&actor, child, &input, session, concern)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(IncidentCreated { id: id.to_string() }),
    ))
}

/// A correction.
#[derive(Debug, Serialize, ToSchema)]
pub struct AddendumApiView {
    pub id: String,
    pub text: String,
    pub reason: String,
    pub written_by: String,
    pub written_at: String,
}

/// One incident with its addenda.
#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentDetailView {
    pub child_id: String,
    pub child_label: String,
    pub incident: IncidentApiView,
    /// Oldest first.
    pub addenda: Vec<AddendumApiView>,
    pub may_add_addendum: bool,
    pub concern_reference: Option<String>,
}

fn detail_view(v: IncidentView) -> IncidentDetailView {
    IncidentDetailView {
        child_id: v.child.to_string(),
        child_label: v.child_label,
        incident: summary_view(v.summary),
        addenda: v
            .addenda
            .into_iter()
            .map(|a| AddendumApiView {
                id: a.id.to_string(),
                text: a.content.text,
                reason: a.content.reason,
                written_by: a.written_by,
                written_at: a.written_at.to_string(),
            })
            .collect(),
        may_add_addendum: v.may_add_addendum,
        concern_reference: v.concern_reference,
    }
}

/// One incident (audited as read).
#[utoipa::path(
    get,
    path = "/api/v1/incidents/{id}",
    tag = "incidents",
    params(("id" = String, Path, description = "The incident's id")),
    responses(
        (status = 200, description = "The incident", body = IncidentDetailView),
        (status = 404, description = "No such incident, or not the caller's to read (audited)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_incident(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Json<IncidentDetailView>, ApiError> {
    let id = IncidentId::parse(&id).map_err(|_| not_found())?;
    Ok(Json(detail_view(
        state.alliance.incident_view(&actor, id).await?,
    )))
}

/// A correction, with its reason.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddendumBody {
    pub text: String,
    pub reason: String,
}

/// Adds a correction to an incident (the case team's lead and co-workers): the incident
/// itself is never edited.
#[utoipa::path(
    post,
    path = "/api/v1/incidents/{id}/addenda",
    tag = "incidents",
    params(("id" = String, Path, description = "The incident's id")),
    request_body = AddendumBody,
    responses(
        (status = 201, description = "Added", body = IncidentCreated),
        (status = 403, description = "The caller reads but may not write, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such incident, or not the caller's to read (audited)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The text or the reason is missing (`text`, `reason`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn add_addendum(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AddendumBody>,
) -> Result<(StatusCode, Json<IncidentCreated>), ApiError> {
    let id = IncidentId::parse(&id).map_err(|_| not_found())?;
    let added = state
        .alliance
        .add_incident_addendum(&actor, id, &body.text, &body.reason)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(IncidentCreated {
            id: added.to_string(),
        }),
    ))
}
