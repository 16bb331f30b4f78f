//! The API of issue 17 (measures): the measure library (shipped definitions and the
//! service's own versions, with the service's licensed wording applied), adding a definition
//! and loading a licensed measure's wording. The same use-cases, rules and audit as the pages.

use super::directory::not_found;
use crate::AppState;
use crate::auth::Signed;
use crate::extract::ApiJson;
use crate::problem::{ApiError, Problem};
use alliance_core::measures::{Definition, Format};
use alliance_service::measures::{Library, LibraryEntry};
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
        .routes(routes!(list_measures, add_measure))
        .routes(routes!(get_measure))
        .routes(routes!(load_wording))
}

/// One definition in the library.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeasureSummary {
    /// Stable identifier, e.g. `srs`, `alliance-checkin-young`.
    pub id: String,
    pub version: u32,
    pub name: String,
    /// `child`, `carer` or `therapist`.
    pub respondent: String,
    pub min_age: Option<u8>,
    pub max_age: Option<u8>,
    /// `start-of-session`, `end-of-session` or `any-time`.
    pub given: String,
    /// False for a measure without published psychometric validation.
    pub validated: bool,
    pub goal_based: bool,
    pub licence: String,
    /// The line every screen that shows the measure carries.
    pub attribution: Option<String>,
    /// Whether the definition carries its own wording.
    pub wording_shipped: bool,
    /// When the service loaded its wording (RFC 3339), for a licensed measure.
    pub wording_loaded_at: Option<String>,
    /// Whether every item has its words, so the measure can be given.
    pub can_be_given: bool,
    /// `shipped` (with Alliance) or `service` (added by this service).
    pub origin: String,
    /// The newest version of its measure.
    pub latest: bool,
}

fn summary(library: Option<&Library>, e: &LibraryEntry) -> MeasureSummary {
    let d = &e.definition;
    MeasureSummary {
        id: d.id.clone(),
        version: d.version,
        name: d.name.clone(),
        respondent: d.respondent.as_str().to_owned(),
        min_age: d.min_age,
        max_age: d.max_age,
        given: serde_json::to_value(d.given)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        validated: d.validated,
        goal_based: d.goal_based,
        licence: d.licence.name.clone(),
        attribution: d.licence.attribution.clone(),
        wording_shipped: d.licence.wording_shipped,
        wording_loaded_at: e.wording_loaded_at.map(|t| t.to_string()),
        can_be_given: e.can_be_given(),
        origin: match e.origin {
            alliance_service::measures::Origin::Shipped => "shipped",
            alliance_service::measures::Origin::Service => "service",
        }
        .to_owned(),
        latest: library.is_none_or(|l| l.is_latest(e)),
    }
}

/// The library.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeasureList {
    /// Every definition, by id then version.
    pub items: Vec<MeasureSummary>,
    /// Whether the caller may add definitions and load wording.
    pub may_manage: bool,
}

/// One definition in full.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeasureView {
    #[serde(flatten)]
    pub summary: MeasureSummary,
    /// The definition as its file gives it (items, scales, scoring, cut-offs and
    /// reliable change with their sources, rupture parameters, licence, note), with the
    /// service's wording applied. Items carry no `text` while a licensed measure's wording is
    /// not loaded.
    #[schema(value_type = Object)]
    pub definition: serde_json::Value,
}

fn view(e: &LibraryEntry) -> MeasureView {
    MeasureView {
        summary: summary(None, e),
        definition: serde_json::to_value(&e.definition).unwrap_or_default(),
    }
}

/// A definition or wording file.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeasureFile {
    /// The file's text (at most 64 KiB).
    pub text: String,
    /// `toml` or `json`; when left out, text starting with `{` is JSON, anything else TOML.
    #[serde(default)]
    pub format: Option<String>,
}

fn format_of(file: &MeasureFile) -> Result<Format, ApiError> {
    match file.format.as_deref() {
        None | Some("") => Ok(Format::sniff(&file.text)),
        Some("toml") => Ok(Format::Toml),
        Some("json") => Ok(Format::Json),
        Some(_) => Err(
            alliance_service::AppError::Invalid(alliance_core::Invalid::field(
                "format",
                "Give toml or json",
            ))
            .into(),
        ),
    }
}

fn version_of(raw: &str) -> Result<u32, ApiError> {
    raw.parse::<u32>()
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(not_found)
}

/// The measure library: every definition shipped with Alliance or added by this service, with
/// whether its wording is loaded (clinicians, the DSL, the service lead and administrators).
#[utoipa::path(
    get,
    path = "/api/v1/measures",
    tag = "measures",
    responses(
        (status = 200, description = "The library", body = MeasureList),
        (status = 403, description = "A staff-only account", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list_measures(
    State(state): State<AppState>,
    Signed(actor): Signed,
) -> Result<Json<MeasureList>, ApiError> {
    let library = state.alliance.measure_library(&actor).await?;
    Ok(Json(MeasureList {
        items: library
            .entries
            .iter()
            .map(|e| summary(Some(&library), e))
            .collect(),
        may_manage: library.may_manage,
    }))
}

/// One definition: its items (or none of their words, for a licensed measure whose wording is
/// not loaded), scales, scoring, cut-offs and reliable change with their sources, rupture
/// parameters, licence and note.
#[utoipa::path(
    get,
    path = "/api/v1/measures/{id}/{version}",
    tag = "measures",
    params(
        ("id" = String, Path, description = "The measure's id"),
        ("version" = u32, Path, description = "The definition's version"),
    ),
    responses(
        (status = 200, description = "The definition", body = MeasureView),
        (status = 403, description = "A staff-only account", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such definition", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_measure(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path((id, version)): Path<(String, String)>,
) -> Result<Json<MeasureView>, ApiError> {
    let entry = state
        .alliance
        .measure_entry(&actor, &id, version_of(&version)?)
        .await?;
    Ok(Json(view(&entry)))
}

/// Adds a definition (a new measure, or a new version of one): administrators and the
/// service lead. Each id and version is written once: one shipped with Alliance or already
/// added is refused (409). A malformed file is refused (422) with every problem named by its
/// path (`items[2].scale`), and nothing is saved. Audited.
#[utoipa::path(
    post,
    path = "/api/v1/measures",
    tag = "measures",
    request_body = MeasureFile,
    responses(
        (status = 201, description = "Added", body = MeasureView),
        (status = 403, description = "Not an administrator or the service lead, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The id and version are shipped or already added: give a new version", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The file is malformed: each problem names its path", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn add_measure(
    State(state): State<AppState>,
    Signed(actor): Signed,
    ApiJson(body): ApiJson<MeasureFile>,
) -> Result<(StatusCode, Json<MeasureView>), ApiError> {
    let format = format_of(&body)?;
    let definition: Definition = state
        .alliance
        .add_measure_definition(&actor, &body.text, format)
        .await?;
    let entry = state
        .alliance
        .measure_entry(&actor, &definition.id, definition.version)
        .await?;
    Ok((StatusCode::CREATED, Json(view(&entry))))
}

/// Loads (or replaces) a licensed measure's wording from the service's own file, for one
/// definition version: the text of every item (`items`, by item id) and the labels of every
/// faces or labelled-points scale (`choices`, by scale key; a line's two ends may be given).
/// Administrators and the service lead. Audited.
#[utoipa::path(
    post,
    path = "/api/v1/measures/{id}/{version}/wording",
    tag = "measures",
    params(
        ("id" = String, Path, description = "The measure's id"),
        ("version" = u32, Path, description = "The definition's version"),
    ),
    request_body = MeasureFile,
    responses(
        (status = 200, description = "Loaded: the definition with its wording", body = MeasureView),
        (status = 403, description = "Not an administrator or the service lead, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such definition", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The file is malformed, or does not fit the definition: each problem names its path", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn load_wording(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path((id, version)): Path<(String, String)>,
    ApiJson(body): ApiJson<MeasureFile>,
) -> Result<Json<MeasureView>, ApiError> {
    let version = version_of(&version)?;
    let format = format_of(&body)?;
    state
        .alliance
        .load_measure_wording(&actor, &id, version, &body.text, format)
        .await?;
    let entry = state.alliance.measure_entry(&actor, &id, version).await?;
    Ok(Json(view(&entry)))
}
