//! Rooms described, materials, play kits, checklists and room checks (issue 16, helper A), and
//! the session view's data: the same use-cases, rules and audit as the pages. Nothing here
//! carries anything about a child but the session view, which shows the child only as the
//! timetables would to the caller.

use super::directory::{not_found, version};
use crate::AppState;
use crate::auth::Signed;
use crate::extract::{ApiJson, ApiQuery};
use crate::problem::{ApiError, Problem};
use alliance_core::Version;
use alliance_core::directory::RoomId;
use alliance_core::room_care::{
    self as rc, CheckedItemInput, DescriptionInput, Kit, KitId, Material, MaterialId,
    MaterialInput, OtherUseInput, Place, RoomCheck,
};
use alliance_core::schedule::{BookingId, clock_text};
use alliance_service::room_care::{KitView, MaterialView, SessionHub};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Registers this area's routes (each with `routes!`, so each is documented).
pub(crate) fn register(router: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    router
        .routes(routes!(room_care))
        .routes(routes!(describe_room))
        .routes(routes!(set_room_checklist))
        .routes(routes!(get_categories, set_categories))
        .routes(routes!(get_service_checklist, set_service_checklist))
        .routes(routes!(list_materials, add_material))
        .routes(routes!(get_material, update_material))
        .routes(routes!(report_condition))
        .routes(routes!(list_kits, add_kit))
        .routes(routes!(get_kit, update_kit))
        .routes(routes!(move_kit))
        .routes(routes!(session_view))
        .routes(routes!(get_room_check, tick_room_check))
}

fn room_id(raw: &str) -> Result<RoomId, ApiError> {
    RoomId::parse(raw).map_err(|_| not_found())
}

fn material_id(raw: &str) -> Result<MaterialId, ApiError> {
    MaterialId::parse(raw).map_err(|_| not_found())
}

fn kit_id(raw: &str) -> Result<KitId, ApiError> {
    KitId::parse(raw).map_err(|_| not_found())
}

fn session_id(raw: &str) -> Result<BookingId, ApiError> {
    BookingId::parse(raw).map_err(|_| not_found())
}

fn optional_version(raw: Option<i64>) -> Result<Option<Version>, ApiError> {
    match raw {
        None | Some(0) => Ok(None),
        Some(v) => version(v).map(Some),
    }
}

// ----- rooms -----

/// Another use of a room.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OtherUseView {
    /// `monday` … `sunday`.
    pub weekday: String,
    /// `12:00` (London).
    pub start: String,
    pub end: String,
    pub what: String,
}

/// A room described, its checklist and materials.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoomCareApiView {
    pub room_id: String,
    pub room_name: String,
    pub site_id: String,
    pub site_name: String,
    pub arrangement: Option<String>,
    /// Row by row, `LAYOUT_COLUMNS` (6) across and 4 down; each a feature's code
    /// (`sand-tray`, `art-table`, `cushions`, `door`, `window`, `sink`, `chairs`, `shelves`,
    /// `play-mat`, `table`) or null for an empty cell.
    pub layout: Vec<Vec<Option<String>>>,
    pub other_uses: Vec<OtherUseView>,
    /// The checklist in use.
    pub checklist: Vec<String>,
    /// Whether the room has its own checklist (else the service's).
    pub own_checklist: bool,
    /// 0 while nothing is stored for the room.
    pub version: i64,
    pub materials: Vec<MaterialApiView>,
    pub may_edit: bool,
}

/// A room's description and checklist (everyone who works here).
#[utoipa::path(
    get,
    path = "/api/v1/rooms/{id}/care",
    tag = "room-care",
    params(("id" = String, Path, description = "The room's id")),
    responses(
        (status = 200, description = "The room described", body = RoomCareApiView),
        (status = 404, description = "No such room", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn room_care(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Json<RoomCareApiView>, ApiError> {
    let view = state.alliance.room_care(&actor, room_id(&id)?).await?;
    let d = &view.description;
    Ok(Json(RoomCareApiView {
        room_id: view.room.id.to_string(),
        room_name: view.room.details.name.clone(),
        site_id: view.site.id.to_string(),
        site_name: view.site.details.name.clone(),
        arrangement: d.arrangement.clone(),
        layout: d
            .layout
            .rows()
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .map(|c| c.map(|f| f.code().to_owned()))
                    .collect()
            })
            .collect(),
        other_uses: d
            .other_uses
            .iter()
            .map(|u| OtherUseView {
                weekday: u.weekday.clone(),
                start: u.start.clone(),
                end: u.end.clone(),
                what: u.what.clone(),
            })
            .collect(),
        checklist: view.checklist.clone(),
        own_checklist: view.own_checklist,
        version: view.version.map_or(0, |v| v.get()),
        materials: view
            .materials
            .iter()
            .map(|m| material_api(m, &view.room.details.name))
            .collect(),
        may_edit: view.may_edit,
    }))
}

/// A room's description as sent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DescriptionBody {
    /// The version read (0 or absent: nothing stored yet).
    #[serde(default)]
    pub version: Option<i64>,
    #[serde(default)]
    pub arrangement: String,
    /// Row by row, up to 24 cells: a feature's code or empty.
    #[serde(default)]
    pub cells: Vec<String>,
    #[serde(default)]
    pub other_uses: Vec<OtherUseView>,
}

/// The written version.
#[derive(Debug, Serialize, ToSchema)]
pub struct SavedView {
    pub version: i64,
}

/// Describes a room (administrators).
#[utoipa::path(
    put,
    path = "/api/v1/rooms/{id}/description",
    tag = "room-care",
    params(("id" = String, Path, description = "The room's id")),
    request_body = DescriptionBody,
    responses(
        (status = 200, description = "Saved", body = SavedView),
        (status = 403, description = "Not an administrator, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such room", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid (`arrangement`, `cell-{row}-{column}`, `use-{n}-weekday`, …)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn describe_room(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DescriptionBody>,
) -> Result<Json<SavedView>, ApiError> {
    let input = DescriptionInput {
        arrangement: body.arrangement,
        cells: body.cells,
        other_uses: body
            .other_uses
            .into_iter()
            .map(|u| OtherUseInput {
                weekday: u.weekday,
                start: u.start,
                end: u.end,
                what: u.what,
            })
            .collect(),
    };
    let saved = state
        .alliance
        .describe_room(
            &actor,
            room_id(&id)?,
            &input,
            optional_version(body.version)?,
        )
        .await?;
    Ok(Json(SavedView {
        version: saved.version.get(),
    }))
}

/// A room's own checklist, or none to use the service's.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoomChecklistBody {
    #[serde(default)]
    pub version: Option<i64>,
    /// The items; null or absent: the service's checklist.
    #[serde(default)]
    pub items: Option<Vec<String>>,
}

/// Gives a room its own checklist, or returns it to the service's (administrators).
#[utoipa::path(
    put,
    path = "/api/v1/rooms/{id}/checklist",
    tag = "room-care",
    params(("id" = String, Path, description = "The room's id")),
    request_body = RoomChecklistBody,
    responses(
        (status = 200, description = "Saved", body = SavedView),
        (status = 403, description = "Not an administrator, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such room", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The items are not valid (`items`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn set_room_checklist(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RoomChecklistBody>,
) -> Result<Json<SavedView>, ApiError> {
    let joined = body.items.map(|i| i.join("\n"));
    let saved = state
        .alliance
        .set_room_checklist(
            &actor,
            room_id(&id)?,
            joined.as_deref(),
            optional_version(body.version)?,
        )
        .await?;
    Ok(Json(SavedView {
        version: saved.version.get(),
    }))
}

// ----- service data -----

/// A list the service keeps (material categories, or the pre-session checklist).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListView {
    pub items: Vec<String>,
    /// 0 while the defaults stand.
    #[serde(default)]
    pub version: i64,
}

/// The material categories (everyone who works here).
#[utoipa::path(
    get,
    path = "/api/v1/material-categories",
    tag = "room-care",
    responses((status = 200, description = "The categories", body = ListView)),
    security(("bearer" = []))
)]
pub async fn get_categories(
    State(state): State<AppState>,
    Signed(_actor): Signed,
) -> Result<Json<ListView>, ApiError> {
    let (items, v) = state.alliance.material_categories().await?;
    Ok(Json(ListView {
        items,
        version: v.map_or(0, |v| v.get()),
    }))
}

/// Replaces the material categories (administrators).
#[utoipa::path(
    put,
    path = "/api/v1/material-categories",
    tag = "room-care",
    request_body = ListView,
    responses(
        (status = 200, description = "Saved", body = ListView),
        (status = 403, description = "Not an administrator, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The list is not valid (`categories`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn set_categories(
    State(state): State<AppState>,
    Signed(actor): Signed,
    ApiJson(body): ApiJson<ListView>,
) -> Result<Json<ListView>, ApiError> {
    state
        .alliance
        .set_material_categories(
            &actor,
            &body.items.join("\n"),
            optional_version(Some(body.version))?,
        )
        .await?;
    let (items, v) = state.alliance.material_categories().await?;
    Ok(Json(ListView {
        items,
        version: v.map_or(0, |v| v.get()),
    }))
}

/// The service's pre-session checklist (everyone who works here).
#[utoipa::path(
    get,
    path = "/api/v1/room-checklist",
    tag = "room-care",
    responses((status = 200, description = "The checklist", body = ListView)),
    security(("bearer" = []))
)]
pub async fn get_service_checklist(
    State(state): State<AppState>,
    Signed(_actor): Signed,
) -> Result<Json<ListView>, ApiError> {
    let (items, v) = state.alliance.service_checklist().await?;
    Ok(Json(ListView {
        items,
        version: v.map_or(0, |v| v.get()),
    }))
}

/// Replaces the service's pre-session checklist (administrators).
#[utoipa::path(
    put,
    path = "/api/v1/room-checklist",
    tag = "room-care",
    request_body = ListView,
    responses(
        (status = 200, description = "Saved", body = ListView),
        (status = 403, description = "Not an administrator, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The list is not valid (`items`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn set_service_checklist(
    State(state): State<AppState>,
    Signed(actor): Signed,
    ApiJson(body): ApiJson<ListView>,
) -> Result<Json<ListView>, ApiError> {
    state
        .alliance
        .set_service_checklist(
            &actor,
            &body.items.join("\n"),
            optional_version(Some(body.version))?,
        )
        .await?;
    let (items, v) = state.alliance.service_checklist().await?;
    Ok(Json(ListView {
        items,
        version: v.map_or(0, |v| v.get()),
    }))
}

// ----- materials -----

/// A material.
#[derive(Debug, Serialize, ToSchema)]
pub struct MaterialApiView {
    pub id: String,
    pub name: String,
    pub category: String,
    /// `room:{id}` or `kit:{id}`.
    pub place: String,
    pub place_name: String,
    pub quantity: Option<u32>,
    /// `good`, `needs-cleaning`, `needs-replacing` or `missing`.
    pub condition: String,
    pub version: i64,
}

fn material_api(m: &Material, place_name: &str) -> MaterialApiView {
    MaterialApiView {
        id: m.id.to_string(),
        name: m.details.name.clone(),
        category: m.details.category.clone(),
        place: m.details.place.code(),
        place_name: place_name.to_owned(),
        quantity: m.details.quantity,
        condition: m.details.condition.code().to_owned(),
        version: m.version.get(),
    }
}

fn material_view(v: &MaterialView) -> MaterialApiView {
    material_api(&v.material, &v.place_name)
}

/// Which materials.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct MaterialsParams {
    /// `room:{id}` or `kit:{id}`; absent: every material.
    pub place: Option<String>,
}

/// Materials (everyone who works here), by name.
#[utoipa::path(
    get,
    path = "/api/v1/materials",
    tag = "room-care",
    params(MaterialsParams),
    responses(
        (status = 200, description = "The materials", body = [MaterialApiView]),
        (status = 422, description = "The place is not valid", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list_materials(
    State(state): State<AppState>,
    Signed(actor): Signed,
    ApiQuery(params): ApiQuery<MaterialsParams>,
) -> Result<Json<Vec<MaterialApiView>>, ApiError> {
    let place = params
        .place
        .as_deref()
        .filter(|p| !p.trim().is_empty())
        .map(Place::parse)
        .transpose()
        .map_err(|m| {
            ApiError::from(Problem::for_status(StatusCode::UNPROCESSABLE_ENTITY).field("place", m))
        })?;
    let list = state.alliance.list_materials(&actor, place).await?;
    Ok(Json(list.iter().map(material_view).collect()))
}

/// A material as sent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MaterialBody {
    /// Required when changing one.
    #[serde(default)]
    pub version: Option<i64>,
    pub name: String,
    /// One of the service's categories.
    pub category: String,
    /// `room:{id}` or `kit:{id}`.
    pub place: String,
    #[serde(default)]
    pub quantity: Option<u32>,
    /// `good`, `needs-cleaning`, `needs-replacing` or `missing`.
    pub condition: String,
}

fn material_input(body: &MaterialBody) -> MaterialInput {
    MaterialInput {
        name: body.name.clone(),
        category: body.category.clone(),
        place: body.place.clone(),
        quantity: body.quantity.map(|q| q.to_string()).unwrap_or_default(),
        condition: body.condition.clone(),
    }
}

/// Adds a material (administrators). A condition other than good raises a task for the
/// administrators.
#[utoipa::path(
    post,
    path = "/api/v1/materials",
    tag = "room-care",
    request_body = MaterialBody,
    responses(
        (status = 201, description = "Added", body = MaterialApiView),
        (status = 403, description = "Not an administrator, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid (`name`, `category`, `place`, `quantity`, `condition`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn add_material(
    State(state): State<AppState>,
    Signed(actor): Signed,
    ApiJson(body): ApiJson<MaterialBody>,
) -> Result<(StatusCode, Json<MaterialApiView>), ApiError> {
    let m = state
        .alliance
        .add_material(&actor, &material_input(&body))
        .await?;
    let view = state.alliance.get_material(&actor, m.id).await?;
    Ok((StatusCode::CREATED, Json(material_view(&view))))
}

/// A material (everyone who works here).
#[utoipa::path(
    get,
    path = "/api/v1/materials/{id}",
    tag = "room-care",
    params(("id" = String, Path, description = "The material's id")),
    responses(
        (status = 200, description = "The material", body = MaterialApiView),
        (status = 404, description = "No such material", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_material(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Json<MaterialApiView>, ApiError> {
    let view = state
        .alliance
        .get_material(&actor, material_id(&id)?)
        .await?;
    Ok(Json(material_view(&view)))
}

/// Changes a material (administrators). Back to good settles the task about it.
#[utoipa::path(
    put,
    path = "/api/v1/materials/{id}",
    tag = "room-care",
    params(("id" = String, Path, description = "The material's id")),
    request_body = MaterialBody,
    responses(
        (status = 200, description = "Saved", body = MaterialApiView),
        (status = 403, description = "Not an administrator, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such material", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn update_material(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<MaterialBody>,
) -> Result<Json<MaterialApiView>, ApiError> {
    let id = material_id(&id)?;
    let expected = version(body.version.unwrap_or(0))?;
    state
        .alliance
        .update_material(&actor, id, &material_input(&body), expected)
        .await?;
    let view = state.alliance.get_material(&actor, id).await?;
    Ok(Json(material_view(&view)))
}

/// A change of condition as reported.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConditionBody {
    pub version: i64,
    /// `good`, `needs-cleaning`, `needs-replacing` or `missing`.
    pub condition: String,
}

/// Reports a material's condition (a therapist or an administrator).
#[utoipa::path(
    post,
    path = "/api/v1/materials/{id}/condition",
    tag = "room-care",
    params(("id" = String, Path, description = "The material's id")),
    request_body = ConditionBody,
    responses(
        (status = 200, description = "Saved", body = MaterialApiView),
        (status = 403, description = "Not a therapist or an administrator, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such material", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a condition (`condition`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn report_condition(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ConditionBody>,
) -> Result<Json<MaterialApiView>, ApiError> {
    let id = material_id(&id)?;
    let expected = version(body.version)?;
    state
        .alliance
        .report_material_condition(&actor, id, &body.condition, expected)
        .await?;
    let view = state.alliance.get_material(&actor, id).await?;
    Ok(Json(material_view(&view)))
}

// ----- kits -----

/// A move of a kit.
#[derive(Debug, Serialize, ToSchema)]
pub struct KitMoveApiView {
    pub site_id: String,
    pub site_name: String,
    /// `YYYY-MM-DD`.
    pub moved_on: String,
    pub moved_by: String,
    pub moved_by_name: String,
}

/// A play kit.
#[derive(Debug, Serialize, ToSchema)]
pub struct KitApiView {
    pub id: String,
    pub name: String,
    pub holder_id: String,
    pub holder_name: String,
    pub site_id: Option<String>,
    pub site_name: Option<String>,
    pub version: i64,
    pub may_move: bool,
    /// On a kit's own read: what is in it, and where it has been (newest first).
    pub materials: Vec<MaterialApiView>,
    pub moves: Vec<KitMoveApiView>,
}

fn kit_api(k: &KitView) -> KitApiView {
    KitApiView {
        id: k.kit.id.to_string(),
        name: k.kit.details.name.clone(),
        holder_id: k.kit.details.holder.to_string(),
        holder_name: k.holder_name.clone(),
        site_id: k.kit.site.map(|s| s.to_string()),
        site_name: k.site_name.clone(),
        version: k.kit.version.get(),
        may_move: k.may_move,
        materials: Vec::new(),
        moves: Vec::new(),
    }
}

/// Every play kit (everyone who works here).
#[utoipa::path(
    get,
    path = "/api/v1/kits",
    tag = "room-care",
    responses((status = 200, description = "The kits", body = [KitApiView])),
    security(("bearer" = []))
)]
pub async fn list_kits(
    State(state): State<AppState>,
    Signed(actor): Signed,
) -> Result<Json<Vec<KitApiView>>, ApiError> {
    let kits = state.alliance.list_kits(&actor).await?;
    Ok(Json(kits.iter().map(kit_api).collect()))
}

/// A kit as sent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KitBody {
    /// Required when changing one.
    #[serde(default)]
    pub version: Option<i64>,
    pub name: String,
    /// The therapist who holds it.
    pub holder: String,
}

async fn kit_answer(
    state: &AppState,
    actor: &alliance_service::Actor,
    kit: &Kit,
) -> Result<KitApiView, ApiError> {
    let page = state.alliance.get_kit(actor, kit.id).await?;
    let mut view = kit_api(&page.kit);
    view.materials = page
        .materials
        .iter()
        .map(|m| material_api(m, &page.kit.kit.details.name))
        .collect();
    view.moves = page
        .moves
        .iter()
        .map(|m| KitMoveApiView {
            site_id: m.kit_move.site.to_string(),
            site_name: m.site_name.clone(),
            moved_on: m.kit_move.moved_on.to_string(),
            moved_by: m.kit_move.moved_by.to_string(),
            moved_by_name: m.by_name.clone(),
        })
        .collect();
    Ok(view)
}

/// Adds a play kit held by a therapist (administrators).
#[utoipa::path(
    post,
    path = "/api/v1/kits",
    tag = "room-care",
    request_body = KitBody,
    responses(
        (status = 201, description = "Added", body = KitApiView),
        (status = 403, description = "Not an administrator, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid (`name`, `holder`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn add_kit(
    State(state): State<AppState>,
    Signed(actor): Signed,
    ApiJson(body): ApiJson<KitBody>,
) -> Result<(StatusCode, Json<KitApiView>), ApiError> {
    let kit = state
        .alliance
        .add_kit(&actor, &body.name, &body.holder)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(kit_answer(&state, &actor, &kit).await?),
    ))
}

/// A kit with its materials and moves (everyone who works here).
#[utoipa::path(
    get,
    path = "/api/v1/kits/{id}",
    tag = "room-care",
    params(("id" = String, Path, description = "The kit's id")),
    responses(
        (status = 200, description = "The kit", body = KitApiView),
        (status = 404, description = "No such kit", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_kit(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Json<KitApiView>, ApiError> {
    let page = state.alliance.get_kit(&actor, kit_id(&id)?).await?;
    Ok(Json(kit_answer(&state, &actor, &page.kit.kit).await?))
}

/// Renames a kit or gives it to another therapist (administrators).
#[utoipa::path(
    put,
    path = "/api/v1/kits/{id}",
    tag = "room-care",
    params(("id" = String, Path, description = "The kit's id")),
    request_body = KitBody,
    responses(
        (status = 200, description = "Saved", body = KitApiView),
        (status = 403, description = "Not an administrator, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such kit", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn update_kit(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<KitBody>,
) -> Result<Json<KitApiView>, ApiError> {
    let expected = version(body.version.unwrap_or(0))?;
    let kit = state
        .alliance
        .update_kit(&actor, kit_id(&id)?, &body.name, &body.holder, expected)
        .await?;
    Ok(Json(kit_answer(&state, &actor, &kit).await?))
}

/// A move of a kit as sent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveBody {
    pub version: i64,
    /// The site it goes to.
    pub site: String,
    /// `YYYY-MM-DD` or `31/12/2026`; absent: today.
    #[serde(default)]
    pub moved_on: String,
}

/// Moves a kit to a site (its holder or an administrator).
#[utoipa::path(
    post,
    path = "/api/v1/kits/{id}/move",
    tag = "room-care",
    params(("id" = String, Path, description = "The kit's id")),
    request_body = MoveBody,
    responses(
        (status = 200, description = "Moved", body = KitApiView),
        (status = 403, description = "Neither its holder nor an administrator, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such kit", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid (`site`, `moved_on`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn move_kit(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<MoveBody>,
) -> Result<Json<KitApiView>, ApiError> {
    let kit = state
        .alliance
        .move_kit(
            &actor,
            kit_id(&id)?,
            &body.site,
            &body.moved_on,
            version(body.version)?,
        )
        .await?;
    Ok(Json(kit_answer(&state, &actor, &kit).await?))
}

// ----- the session view and its room check -----

/// One item of a room check.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckedItemView {
    pub item: String,
    pub ok: bool,
    pub note: Option<String>,
}

/// A session's room check.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoomCheckView {
    /// `done`, `done-with-problem` or `to-do`.
    pub state: String,
    /// "Room check done" / "Room check to do".
    pub label: String,
    pub checked_by: Option<String>,
    pub checked_by_name: Option<String>,
    /// RFC 3339, UTC.
    pub checked_at: Option<String>,
    pub items: Vec<CheckedItemView>,
    /// What the check asks (the room's checklist in use).
    pub checklist: Vec<String>,
    pub may_tick: bool,
}

fn check_view(hub: &SessionHub) -> RoomCheckView {
    let c: Option<&RoomCheck> = hub.check.as_ref();
    let state = rc::CheckState::of(c.map(RoomCheck::has_problem));
    RoomCheckView {
        state: state.code().to_owned(),
        label: state.label().to_owned(),
        checked_by: c.map(|c| c.checked_by.to_string()),
        checked_by_name: hub.checked_by_name.clone(),
        checked_at: c.map(|c| c.checked_at.to_string()),
        items: c
            .map(|c| {
                c.items
                    .iter()
                    .map(|i| CheckedItemView {
                        item: i.item.clone(),
                        ok: i.ok,
                        note: i.note.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        checklist: hub.checklist.clone(),
        may_tick: hub.may_tick,
    }
}

/// The child of a session, as the timetables show them to the caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionChildView {
    pub child_id: String,
    pub case_id: String,
    pub case_number: String,
    /// Absent for a reader who sees children by initials only.
    pub name: Option<String>,
    pub initials: String,
}

/// The session view's data (the hub of one session).
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionHubView {
    pub id: String,
    /// `YYYY-MM-DD`, London.
    pub date: String,
    pub start: String,
    pub ends: String,
    pub minutes: u16,
    pub room_id: String,
    pub room_name: String,
    pub site_id: String,
    pub site_name: String,
    pub therapist_id: String,
    pub therapist_name: String,
    pub child: SessionChildView,
    /// `booked`, `attended`, `did-not-attend` or `cancelled`.
    pub state: String,
    pub room_check: RoomCheckView,
    /// The links the caller may follow: `record`, `disruptions`, and `incident` and
    /// `emergency_panel` where their access allows.
    pub links: Vec<LinkView>,
}

/// A link from the session view.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkView {
    pub rel: String,
    pub href: String,
}

fn hub_view(hub: &SessionHub) -> SessionHubView {
    let id = hub.session;
    let child = hub.child.child_id;
    let mut links = vec![
        LinkView {
            rel: "record".into(),
            href: format!("/sessions/{id}/record"),
        },
        LinkView {
            rel: "disruptions".into(),
            href: format!("/sessions/{id}/disruptions"),
        },
    ];
    if hub.may_record_incident {
        links.push(LinkView {
            rel: "incident".into(),
            href: format!("/children/{child}/incidents/new?session={id}"),
        });
    }
    if hub.may_open_emergency_panel {
        links.push(LinkView {
            rel: "emergency_panel".into(),
            href: format!("/children/{child}/emergency"),
        });
    }
    SessionHubView {
        id: id.to_string(),
        date: hub.date.to_string(),
        start: clock_text(hub.start),
        ends: clock_text(hub.ends),
        minutes: hub.minutes,
        room_id: hub.room.to_string(),
        room_name: hub.room_name.clone(),
        site_id: hub.site.to_string(),
        site_name: hub.site_name.clone(),
        therapist_id: hub.therapist.to_string(),
        therapist_name: hub.therapist_name.clone(),
        child: SessionChildView {
            child_id: child.to_string(),
            case_id: hub.child.case_id.to_string(),
            case_number: hub.child.case_number.clone(),
            name: hub.child.name.clone(),
            initials: hub.child.initials.clone(),
        },
        state: hub.state.code().to_owned(),
        room_check: check_view(hub),
        links,
    }
}

/// The session view's data. A session whose child the caller may not know is not found
/// (audited); reading it is audited.
#[utoipa::path(
    get,
    path = "/api/v1/sessions/{id}",
    tag = "room-care",
    params(("id" = String, Path, description = "The session's (booking's) id")),
    responses(
        (status = 200, description = "The session", body = SessionHubView),
        (status = 404, description = "No such session the caller may know", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn session_view(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Json<SessionHubView>, ApiError> {
    let hub = state.alliance.session_hub(&actor, session_id(&id)?).await?;
    Ok(Json(hub_view(&hub)))
}

/// A session's room check.
#[utoipa::path(
    get,
    path = "/api/v1/sessions/{id}/room-check",
    tag = "room-care",
    params(("id" = String, Path, description = "The session's (booking's) id")),
    responses(
        (status = 200, description = "The check (or what it will ask)", body = RoomCheckView),
        (status = 404, description = "No such session the caller may know", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_room_check(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Json<RoomCheckView>, ApiError> {
    let hub = state.alliance.session_hub(&actor, session_id(&id)?).await?;
    Ok(Json(check_view(&hub)))
}

/// One item as ticked.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckedItemBody {
    /// `ok` or `problem`.
    pub state: String,
    /// What the problem is (required with a problem).
    #[serde(default)]
    pub note: String,
}

/// A room check as ticked: one answer per item of the checklist, in its order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoomCheckBody {
    pub items: Vec<CheckedItemBody>,
}

/// Ticks a session's room check (its therapist, or someone who may write its schedule). A
/// problem raises one task for the administrators naming the room and the date.
#[utoipa::path(
    post,
    path = "/api/v1/sessions/{id}/room-check",
    tag = "room-care",
    params(("id" = String, Path, description = "The session's (booking's) id")),
    request_body = RoomCheckBody,
    responses(
        (status = 201, description = "Recorded", body = RoomCheckView),
        (status = 403, description = "Neither the session's therapist nor someone who may write its schedule, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session the caller may know", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Done already, or the session was cancelled", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An item is not answered, or a problem has no note (`item-{n}`, `note-{n}`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn tick_room_check(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RoomCheckBody>,
) -> Result<(StatusCode, Json<RoomCheckView>), ApiError> {
    let id = session_id(&id)?;
    let answers: Vec<CheckedItemInput> = body
        .items
        .into_iter()
        .map(|i| CheckedItemInput {
            state: i.state,
            note: i.note,
        })
        .collect();
    state
        .alliance
        .record_room_check(&actor, id, &answers)
        .await?;
    let hub = state.alliance.session_hub(&actor, id).await?;
    Ok((StatusCode::CREATED, Json(check_view(&hub))))
}
