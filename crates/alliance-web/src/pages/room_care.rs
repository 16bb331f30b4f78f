//! Rooms described for the work (issue 16, helper A): a room's arrangement, its labelled
//! layout (a grid of selects, no script needed) and what else uses it, the room's own
//! checklist, the service's material categories and pre-session checklist
//! (`/admin/materials`), materials and their condition (`/materials`), and play kits
//! (`/kits`). The room page itself (`/rooms/{id}`, in `sites.rs`) shows what is here through
//! [`RoomCareSummary`]. Who may do what is decided by the use-cases; this module shows what
//! they answer.

use super::{
    FieldErrors, FormData, Layout, STALE_MESSAGE, checked, conflicted, render, unprocessable,
    version_of,
};
use crate::AppState;
use crate::auth::{Auth, CurrentAuth, Signed};
use crate::errors::page_error;
use crate::respond::PageError;
use alliance_core::Version;
use alliance_core::directory::RoomId;
use alliance_core::room_care::{
    self as rc, Condition, DescriptionInput, Feature, KitId, MaterialId, MaterialInput,
    OtherUseInput,
};
use alliance_core::uk;
use alliance_service::room_care::{KitView, MaterialView, RoomCareView};
use alliance_service::{Actor, Alliance, AppError};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    // One method a line, so the route table the headers test reads finds each.
    Router::new()
        .route("/rooms/{id}/describe", get(describe_page))
        .route("/rooms/{id}/describe", post(save_description))
        .route("/rooms/{id}/checklist", get(checklist_page))
        .route("/rooms/{id}/checklist", post(save_checklist))
        .route("/admin/materials", get(service_data_page))
        .route("/admin/materials", post(save_categories))
        .route("/admin/room-checklist", post(save_service_checklist))
        .route("/materials", get(materials_page))
        .route("/materials", post(add_material))
        .route("/materials/{id}", get(material_page))
        .route("/materials/{id}", post(save_material))
        .route("/materials/{id}/condition", post(report_condition))
        .route("/kits", get(kits_page))
        .route("/kits", post(add_kit))
        .route("/kits/{id}", get(kit_page))
        .route("/kits/{id}", post(save_kit))
        .route("/kits/{id}/move", post(move_kit))
}

fn room_id(raw: &str) -> Result<RoomId, PageError> {
    RoomId::parse(raw).map_err(|_| page_error(AppError::NotFound))
}

fn material_id(raw: &str) -> Result<MaterialId, PageError> {
    MaterialId::parse(raw).map_err(|_| page_error(AppError::NotFound))
}

fn kit_id(raw: &str) -> Result<KitId, PageError> {
    KitId::parse(raw).map_err(|_| page_error(AppError::NotFound))
}

/// `0` (or empty) means nothing is stored yet.
fn optional_version(form: &FormData) -> Result<Option<Version>, PageError> {
    match form.get("version") {
        "0" | "" => Ok(None),
        _ => version_of(form).map(Some),
    }
}

#[derive(Debug, Default, Deserialize)]
struct Notice {
    saved: Option<String>,
}

fn saved(notice: &Notice) -> Option<String> {
    notice.saved.as_ref().map(|_| "Saved.".to_owned())
}

// ----- the room page's part -----

/// A cell of the layout as a page shows it.
pub(crate) struct CellLine {
    pub(crate) field: String,
    pub(crate) name: String,
    pub(crate) code: &'static str,
    pub(crate) label: &'static str,
}

fn cell_lines(layout: &rc::Layout) -> Vec<Vec<CellLine>> {
    layout
        .cells
        .iter()
        .enumerate()
        .map(|(i, c)| CellLine {
            field: rc::cell_field(i),
            name: rc::cell_name(i),
            code: c.map_or("", Feature::code),
            label: c.map_or("", Feature::label),
        })
        .collect::<Vec<_>>()
        .chunks(rc::LAYOUT_COLUMNS)
        .map(|row| {
            row.iter()
                .map(|c| CellLine {
                    field: c.field.clone(),
                    name: c.name.clone(),
                    code: c.code,
                    label: c.label,
                })
                .collect()
        })
        .collect()
}

/// A material as a list shows it.
pub(crate) struct MaterialLine {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) category: String,
    pub(crate) place: String,
    pub(crate) quantity: String,
    pub(crate) condition: &'static str,
    pub(crate) attention: bool,
}

fn material_line(m: &rc::Material, place: &str) -> MaterialLine {
    MaterialLine {
        id: m.id.to_string(),
        name: m.details.name.clone(),
        category: m.details.category.clone(),
        place: place.to_owned(),
        quantity: m
            .details
            .quantity
            .map(|q| q.to_string())
            .unwrap_or_default(),
        condition: m.details.condition.label(),
        attention: m.details.condition.needs_attention(),
    }
}

/// What the room page shows of the room's care (built here, shown by `room.html`).
pub(crate) struct RoomCareSummary {
    pub(crate) arrangement: String,
    pub(crate) rows: Vec<Vec<CellLine>>,
    pub(crate) layout_empty: bool,
    pub(crate) other_uses: Vec<String>,
    pub(crate) checklist: Vec<String>,
    pub(crate) own_checklist: bool,
    pub(crate) materials: Vec<MaterialLine>,
    pub(crate) may_edit: bool,
}

/// The room page's part, for `sites.rs`.
pub(crate) async fn summary(
    alliance: &Alliance,
    actor: &Actor,
    room: RoomId,
) -> Result<RoomCareSummary, PageError> {
    let view = alliance.room_care(actor, room).await.map_err(page_error)?;
    Ok(summary_of(&view))
}

fn summary_of(view: &RoomCareView) -> RoomCareSummary {
    let d = &view.description;
    RoomCareSummary {
        arrangement: d.arrangement.clone().unwrap_or_default(),
        rows: cell_lines(&d.layout),
        layout_empty: d.layout.is_empty(),
        other_uses: d.other_uses.iter().map(rc::OtherUse::text).collect(),
        checklist: view.checklist.clone(),
        own_checklist: view.own_checklist,
        materials: view
            .materials
            .iter()
            .map(|m| material_line(m, &view.room.details.name))
            .collect(),
        may_edit: view.may_edit,
    }
}

// ----- describing a room -----

#[derive(Template)]
#[template(path = "room_describe.html")]
struct DescribePage {
    layout: Layout,
    id: String,
    title: String,
    version: i64,
    form: FormData,
    errors: FieldErrors,
    rows: Vec<Vec<CellLine>>,
    features: Vec<(&'static str, &'static str)>,
    weekdays: Vec<(&'static str, &'static str)>,
    uses: Vec<usize>,
}

/// Blank lines offered for more other uses.
const SPARE_USES: usize = 3;

async fn describe_form(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    id: RoomId,
) -> Result<DescribePage, PageError> {
    let view = state
        .alliance
        .room_care(actor, id)
        .await
        .map_err(page_error)?;
    if !view.may_edit {
        // Refused, audited, by the use-case.
        return Err(page_error(
            state
                .alliance
                .ensure_may_manage_directory(actor, "describe room")
                .await
                .err()
                .unwrap_or(AppError::Denied("only an administrator may do this")),
        ));
    }
    let d = &view.description;
    let mut form = vec![(
        "arrangement".to_owned(),
        d.arrangement.clone().unwrap_or_default(),
    )];
    for (i, cell) in d.layout.cells.iter().enumerate() {
        form.push((rc::cell_field(i), cell.map_or("", Feature::code).to_owned()));
    }
    for (n, u) in d.other_uses.iter().enumerate() {
        let n = n + 1;
        form.push((format!("use-{n}-weekday"), u.weekday.clone()));
        form.push((format!("use-{n}-start"), u.start.clone()));
        form.push((format!("use-{n}-end"), u.end.clone()));
        form.push((format!("use-{n}-what"), u.what.clone()));
    }
    let count = d.other_uses.len() + SPARE_USES;
    Ok(DescribePage {
        layout: Layout::load(state, "sites", auth).await?,
        id: id.to_string(),
        title: format!("Describe {}", view.room.details.name),
        version: view.version.map_or(0, |v| v.get()),
        form: FormData(form),
        errors: FieldErrors::default(),
        rows: cell_lines(&d.layout),
        features: Feature::ALL.iter().map(|f| (f.code(), f.label())).collect(),
        weekdays: rc::weekday_choices(),
        uses: (1..=count.min(rc::MAX_OTHER_USES)).collect(),
    })
}

async fn describe_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let page = describe_form(&state, &actor, &auth, room_id(&id)?).await?;
    Ok(render(&page)?.into_response())
}

fn description_input(form: &FormData) -> DescriptionInput {
    DescriptionInput {
        arrangement: form.get("arrangement").to_owned(),
        cells: (0..rc::LAYOUT_CELLS)
            .map(|i| form.get(&rc::cell_field(i)).to_owned())
            .collect(),
        other_uses: (1..=rc::MAX_OTHER_USES)
            .map(|n| OtherUseInput {
                weekday: form.get(&format!("use-{n}-weekday")).to_owned(),
                start: form.get(&format!("use-{n}-start")).to_owned(),
                end: form.get(&format!("use-{n}-end")).to_owned(),
                what: form.get(&format!("use-{n}-what")).to_owned(),
            })
            .collect(),
    }
}

async fn save_description(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = room_id(&id)?;
    let expected = optional_version(&form)?;
    let input = description_input(&form);
    match state
        .alliance
        .describe_room(&actor, id, &input, expected)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/rooms/{id}?saved=1#arrangement")).into_response()),
        Err(AppError::Invalid(invalid)) => {
            let mut page = describe_form(&state, &actor, &auth, id).await?;
            page.uses = (1..=rc::MAX_OTHER_USES)
                .filter(|n| *n <= page.uses.len() || !form.get(&format!("use-{n}-what")).is_empty())
                .collect();
            page.version = expected.map_or(0, |v| v.get());
            page.form = form;
            page.errors = FieldErrors::from_invalid(&invalid);
            unprocessable(&page)
        }
        Err(AppError::Stale(current)) => {
            let mut page = describe_form(&state, &actor, &auth, id).await?;
            page.version = current.get();
            page.form = form;
            page.errors = FieldErrors::one("arrangement", STALE_MESSAGE);
            conflicted(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}

impl DescribePage {
    fn selected(&self, field: &str, code: &str) -> bool {
        self.form.get(field) == code
    }
}

// ----- a room's own checklist -----

#[derive(Template)]
#[template(path = "room_checklist.html")]
struct RoomChecklistPage {
    layout: Layout,
    id: String,
    title: String,
    version: i64,
    form: FormData,
    errors: FieldErrors,
    service_items: Vec<String>,
}

async fn room_checklist_form(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    id: RoomId,
) -> Result<RoomChecklistPage, PageError> {
    let view = state
        .alliance
        .room_care(actor, id)
        .await
        .map_err(page_error)?;
    if !view.may_edit {
        return Err(page_error(
            state
                .alliance
                .ensure_may_manage_directory(actor, "set room checklist")
                .await
                .err()
                .unwrap_or(AppError::Denied("only an administrator may do this")),
        ));
    }
    let (service_items, _) = state
        .alliance
        .service_checklist()
        .await
        .map_err(page_error)?;
    Ok(RoomChecklistPage {
        layout: Layout::load(state, "sites", auth).await?,
        id: id.to_string(),
        title: format!("Checklist for {}", view.room.details.name),
        version: view.version.map_or(0, |v| v.get()),
        form: FormData(vec![
            ("items".to_owned(), view.checklist.join("\n")),
            (
                "own".to_owned(),
                if view.own_checklist { "yes" } else { "" }.to_owned(),
            ),
        ]),
        errors: FieldErrors::default(),
        service_items,
    })
}

async fn checklist_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let page = room_checklist_form(&state, &actor, &auth, room_id(&id)?).await?;
    Ok(render(&page)?.into_response())
}

async fn save_checklist(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = room_id(&id)?;
    let expected = optional_version(&form)?;
    let items = checked(&form, "own").then(|| form.get("items"));
    match state
        .alliance
        .set_room_checklist(&actor, id, items, expected)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/rooms/{id}?saved=1#checklist")).into_response()),
        Err(AppError::Invalid(invalid)) => {
            let mut page = room_checklist_form(&state, &actor, &auth, id).await?;
            page.version = expected.map_or(0, |v| v.get());
            page.form = form;
            page.errors = FieldErrors::from_invalid(&invalid);
            unprocessable(&page)
        }
        Err(AppError::Stale(current)) => {
            let mut page = room_checklist_form(&state, &actor, &auth, id).await?;
            page.version = current.get();
            page.form = form;
            page.errors = FieldErrors::one("items", STALE_MESSAGE);
            conflicted(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}

// ----- service data: categories and the service's checklist -----

#[derive(Template)]
#[template(path = "room_service_data.html")]
struct ServiceDataPage {
    layout: Layout,
    categories_version: i64,
    checklist_version: i64,
    form: FormData,
    errors: FieldErrors,
    notice: Option<String>,
}

async fn service_data_form(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
) -> Result<ServiceDataPage, PageError> {
    state
        .alliance
        .ensure_may_manage_directory(actor, "read material categories")
        .await
        .map_err(page_error)?;
    let (categories, cv) = state
        .alliance
        .material_categories()
        .await
        .map_err(page_error)?;
    let (checklist, lv) = state
        .alliance
        .service_checklist()
        .await
        .map_err(page_error)?;
    Ok(ServiceDataPage {
        layout: Layout::load(state, "sites", auth).await?,
        categories_version: cv.map_or(0, |v| v.get()),
        checklist_version: lv.map_or(0, |v| v.get()),
        form: FormData(vec![
            ("categories".to_owned(), categories.join("\n")),
            ("items".to_owned(), checklist.join("\n")),
        ]),
        errors: FieldErrors::default(),
        notice: None,
    })
}

async fn service_data_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Query(notice): Query<Notice>,
) -> Result<Response, PageError> {
    let mut page = service_data_form(&state, &actor, &auth).await?;
    page.notice = saved(&notice);
    Ok(render(&page)?.into_response())
}

async fn save_categories(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let expected = optional_version(&form)?;
    let result = state
        .alliance
        .set_material_categories(&actor, form.get("categories"), expected)
        .await;
    service_data_answer(
        &state,
        &actor,
        &auth,
        form,
        result.map(|_| ()),
        "categories",
    )
    .await
}

async fn save_service_checklist(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let expected = optional_version(&form)?;
    let result = state
        .alliance
        .set_service_checklist(&actor, form.get("items"), expected)
        .await;
    service_data_answer(&state, &actor, &auth, form, result.map(|_| ()), "items").await
}

async fn service_data_answer(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    form: FormData,
    result: Result<(), AppError>,
    field: &str,
) -> Result<Response, PageError> {
    match result {
        Ok(()) => Ok(Redirect::to("/admin/materials?saved=1").into_response()),
        Err(AppError::Invalid(invalid)) => {
            let mut page = service_data_form(state, actor, auth).await?;
            // Only the form sent is kept as typed; the other shows what is stored.
            let other = if field == "items" {
                "categories"
            } else {
                "items"
            };
            let kept = page.form.get(other).to_owned();
            page.form = FormData(vec![
                (field.to_owned(), form.get(field).to_owned()),
                (other.to_owned(), kept),
            ]);
            page.errors = FieldErrors::from_invalid(&invalid);
            unprocessable(&page)
        }
        Err(AppError::Stale(_)) => {
            let mut page = service_data_form(state, actor, auth).await?;
            page.errors = FieldErrors::one(field, STALE_MESSAGE);
            conflicted(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}

// ----- materials -----

#[derive(Template)]
#[template(path = "room_materials.html")]
struct MaterialsPage {
    layout: Layout,
    materials: Vec<MaterialLine>,
    may_edit: bool,
    categories: Vec<String>,
    places: Vec<(String, String)>,
    conditions: Vec<(&'static str, &'static str)>,
    form: FormData,
    errors: FieldErrors,
    notice: Option<String>,
}

fn conditions() -> Vec<(&'static str, &'static str)> {
    Condition::ALL
        .iter()
        .map(|c| (c.code(), c.label()))
        .collect()
}

#[derive(Debug, Default, Deserialize)]
struct MaterialsQuery {
    saved: Option<String>,
    place: Option<String>,
}

async fn materials_form(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
) -> Result<MaterialsPage, PageError> {
    let list = state
        .alliance
        .list_materials(actor, None)
        .await
        .map_err(page_error)?;
    let (categories, _) = state
        .alliance
        .material_categories()
        .await
        .map_err(page_error)?;
    let places = state
        .alliance
        .material_places(actor)
        .await
        .map_err(page_error)?;
    Ok(MaterialsPage {
        layout: Layout::load(state, "sites", auth).await?,
        materials: list
            .iter()
            .map(|m| material_line(&m.material, &m.place_name))
            .collect(),
        may_edit: alliance_core::policy::decide(
            &actor.user,
            alliance_core::policy::Action::ManageDirectory,
        )
        .is_allowed(),
        categories,
        places,
        conditions: conditions(),
        form: FormData(vec![("condition".to_owned(), "good".to_owned())]),
        errors: FieldErrors::default(),
        notice: None,
    })
}

async fn materials_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Query(query): Query<MaterialsQuery>,
) -> Result<Response, PageError> {
    let mut page = materials_form(&state, &actor, &auth).await?;
    page.notice = query.saved.map(|_| "Saved.".to_owned());
    if let Some(place) = query.place {
        page.form.0.push(("place".to_owned(), place));
    }
    Ok(render(&page)?.into_response())
}

fn material_input(form: &FormData) -> MaterialInput {
    MaterialInput {
        name: form.get("name").to_owned(),
        category: form.get("category").to_owned(),
        place: form.get("place").to_owned(),
        quantity: form.get("quantity").to_owned(),
        condition: form.get("condition").to_owned(),
    }
}

async fn add_material(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    match state
        .alliance
        .add_material(&actor, &material_input(&form))
        .await
    {
        Ok(_) => Ok(Redirect::to("/materials?saved=1").into_response()),
        Err(AppError::Invalid(invalid)) => {
            let mut page = materials_form(&state, &actor, &auth).await?;
            page.form = form;
            page.errors = FieldErrors::from_invalid(&invalid);
            unprocessable(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}

#[derive(Template)]
#[template(path = "room_material.html")]
struct MaterialPage {
    layout: Layout,
    id: String,
    title: String,
    version: i64,
    place_name: String,
    condition: &'static str,
    may_edit: bool,
    may_report: bool,
    categories: Vec<String>,
    places: Vec<(String, String)>,
    conditions: Vec<(&'static str, &'static str)>,
    form: FormData,
    errors: FieldErrors,
    notice: Option<String>,
}

async fn material_form(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    id: MaterialId,
) -> Result<MaterialPage, PageError> {
    let view: MaterialView = state
        .alliance
        .get_material(actor, id)
        .await
        .map_err(page_error)?;
    let (mut categories, _) = state
        .alliance
        .material_categories()
        .await
        .map_err(page_error)?;
    let d = &view.material.details;
    if !categories.contains(&d.category) {
        categories.push(d.category.clone());
    }
    let places = state
        .alliance
        .material_places(actor)
        .await
        .map_err(page_error)?;
    Ok(MaterialPage {
        layout: Layout::load(state, "sites", auth).await?,
        id: id.to_string(),
        title: d.name.clone(),
        version: view.material.version.get(),
        place_name: view.place_name.clone(),
        condition: d.condition.label(),
        may_edit: view.may_edit,
        may_report: view.may_report,
        categories,
        places,
        conditions: conditions(),
        form: FormData(vec![
            ("name".to_owned(), d.name.clone()),
            ("category".to_owned(), d.category.clone()),
            ("place".to_owned(), d.place.code()),
            (
                "quantity".to_owned(),
                d.quantity.map(|q| q.to_string()).unwrap_or_default(),
            ),
            ("condition".to_owned(), d.condition.code().to_owned()),
        ]),
        errors: FieldErrors::default(),
        notice: None,
    })
}

async fn material_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Query(notice): Query<Notice>,
) -> Result<Response, PageError> {
    let mut page = material_form(&state, &actor, &auth, material_id(&id)?).await?;
    page.notice = saved(&notice);
    Ok(render(&page)?.into_response())
}

async fn material_answer(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    id: MaterialId,
    form: FormData,
    result: Result<rc::Material, AppError>,
    expected: Version,
) -> Result<Response, PageError> {
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/materials/{id}?saved=1")).into_response()),
        Err(AppError::Invalid(invalid)) => {
            let mut page = material_form(state, actor, auth, id).await?;
            page.version = expected.get();
            page.form = form;
            page.errors = FieldErrors::from_invalid(&invalid);
            unprocessable(&page)
        }
        Err(AppError::Stale(current)) => {
            let mut page = material_form(state, actor, auth, id).await?;
            page.version = current.get();
            page.form = form;
            page.errors = FieldErrors::one("condition", STALE_MESSAGE);
            conflicted(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}

async fn save_material(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = material_id(&id)?;
    let expected = version_of(&form)?;
    let result = state
        .alliance
        .update_material(&actor, id, &material_input(&form), expected)
        .await;
    material_answer(&state, &actor, &auth, id, form, result, expected).await
}

async fn report_condition(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = material_id(&id)?;
    let expected = version_of(&form)?;
    let result = state
        .alliance
        .report_material_condition(&actor, id, form.get("condition"), expected)
        .await;
    material_answer(&state, &actor, &auth, id, form, result, expected).await
}

// ----- play kits -----

struct KitLine {
    id: String,
    name: String,
    holder: String,
    site: String,
}

fn kit_line(k: &KitView) -> KitLine {
    KitLine {
        id: k.kit.id.to_string(),
        name: k.kit.details.name.clone(),
        holder: k.holder_name.clone(),
        site: k
            .site_name
            .clone()
            .unwrap_or_else(|| "Not yet moved".to_owned()),
    }
}

#[derive(Template)]
#[template(path = "room_kits.html")]
struct KitsPage {
    layout: Layout,
    kits: Vec<KitLine>,
    may_add: bool,
    holders: Vec<(String, String)>,
    form: FormData,
    errors: FieldErrors,
}

async fn kits_form(state: &AppState, actor: &Actor, auth: &Auth) -> Result<KitsPage, PageError> {
    let kits = state.alliance.list_kits(actor).await.map_err(page_error)?;
    let may_add =
        alliance_core::policy::decide(&actor.user, alliance_core::policy::Action::ManageDirectory)
            .is_allowed();
    let holders = if may_add {
        state
            .alliance
            .kit_holders(actor)
            .await
            .map_err(page_error)?
            .into_iter()
            .map(|(id, name)| (id.to_string(), name))
            .collect()
    } else {
        Vec::new()
    };
    Ok(KitsPage {
        layout: Layout::load(state, "sites", auth).await?,
        kits: kits.iter().map(kit_line).collect(),
        may_add,
        holders,
        form: FormData::default(),
        errors: FieldErrors::default(),
    })
}

async fn kits_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
) -> Result<Response, PageError> {
    let page = kits_form(&state, &actor, &auth).await?;
    Ok(render(&page)?.into_response())
}

async fn add_kit(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    match state
        .alliance
        .add_kit(&actor, form.get("name"), form.get("holder"))
        .await
    {
        Ok(kit) => Ok(Redirect::to(&format!("/kits/{}", kit.id)).into_response()),
        Err(AppError::Invalid(invalid)) => {
            let mut page = kits_form(&state, &actor, &auth).await?;
            page.form = form;
            page.errors = FieldErrors::from_invalid(&invalid);
            unprocessable(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}

struct MoveLine {
    text: String,
}

#[derive(Template)]
#[template(path = "room_kit.html")]
struct KitPage {
    layout: Layout,
    id: String,
    title: String,
    holder: String,
    site: String,
    version: i64,
    may_move: bool,
    may_edit: bool,
    materials: Vec<MaterialLine>,
    moves: Vec<MoveLine>,
    sites: Vec<(String, String)>,
    holders: Vec<(String, String)>,
    form: FormData,
    errors: FieldErrors,
    notice: Option<String>,
}

async fn kit_form(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    id: KitId,
) -> Result<KitPage, PageError> {
    let view = state
        .alliance
        .get_kit(actor, id)
        .await
        .map_err(page_error)?;
    let sites = state
        .alliance
        .list_sites(actor)
        .await
        .map_err(page_error)?
        .into_iter()
        .filter(|s| s.active)
        .map(|s| (s.id.to_string(), s.details.name))
        .collect();
    let holders = if view.kit.may_edit {
        state
            .alliance
            .kit_holders(actor)
            .await
            .map_err(page_error)?
            .into_iter()
            .map(|(id, name)| (id.to_string(), name))
            .collect()
    } else {
        Vec::new()
    };
    let k = &view.kit;
    Ok(KitPage {
        layout: Layout::load(state, "sites", auth).await?,
        id: id.to_string(),
        title: k.kit.details.name.clone(),
        holder: k.holder_name.clone(),
        site: k
            .site_name
            .clone()
            .unwrap_or_else(|| "Not yet moved".to_owned()),
        version: k.kit.version.get(),
        may_move: k.may_move,
        may_edit: k.may_edit,
        materials: view
            .materials
            .iter()
            .map(|m| material_line(m, &k.kit.details.name))
            .collect(),
        moves: view
            .moves
            .iter()
            .map(|m| MoveLine {
                text: format!(
                    "Moved to {} on {} by {}",
                    m.site_name,
                    uk::date(m.kit_move.moved_on),
                    m.by_name
                ),
            })
            .collect(),
        sites,
        holders,
        form: FormData(vec![
            ("name".to_owned(), k.kit.details.name.clone()),
            ("holder".to_owned(), k.kit.details.holder.to_string()),
            (
                "site".to_owned(),
                k.kit.site.map(|s| s.to_string()).unwrap_or_default(),
            ),
            ("moved_on".to_owned(), uk::date(state.alliance.today())),
        ]),
        errors: FieldErrors::default(),
        notice: None,
    })
}

#[derive(Debug, Default, Deserialize)]
struct KitQuery {
    saved: Option<String>,
    moved: Option<String>,
}

async fn kit_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Query(query): Query<KitQuery>,
) -> Result<Response, PageError> {
    let mut page = kit_form(&state, &actor, &auth, kit_id(&id)?).await?;
    page.notice = match (query.saved, query.moved) {
        (_, Some(_)) => Some("Moved.".to_owned()),
        (Some(_), _) => Some("Saved.".to_owned()),
        _ => None,
    };
    Ok(render(&page)?.into_response())
}

async fn kit_answer(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    id: KitId,
    form: FormData,
    result: Result<rc::Kit, AppError>,
    done: &str,
) -> Result<Response, PageError> {
    let stale_field = if done == "moved" { "site" } else { "name" };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/kits/{id}?{done}=1")).into_response()),
        Err(AppError::Invalid(invalid)) => {
            let mut page = kit_form(state, actor, auth, id).await?;
            page.form = form;
            page.errors = FieldErrors::from_invalid(&invalid);
            unprocessable(&page)
        }
        Err(AppError::Stale(current)) => {
            let mut page = kit_form(state, actor, auth, id).await?;
            page.version = current.get();
            page.form = form;
            page.errors = FieldErrors::one(stale_field, STALE_MESSAGE);
            conflicted(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}

async fn save_kit(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = kit_id(&id)?;
    let expected = version_of(&form)?;
    let result = state
        .alliance
        .update_kit(&actor, id, form.get("name"), form.get("holder"), expected)
        .await;
    kit_answer(&state, &actor, &auth, id, form, result, "saved").await
}

async fn move_kit(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = kit_id(&id)?;
    let expected = version_of(&form)?;
    let result = state
        .alliance
        .move_kit(&actor, id, form.get("site"), form.get("moved_on"), expected)
        .await;
    kit_answer(&state, &actor, &auth, id, form, result, "moved").await
}
