//! Sites and rooms: the directory everyone who works here reads; administrators change it.

use super::{
    FieldErrors, FormData, Layout, STALE_MESSAGE, checked, conflicted, render, unprocessable,
    version_of,
};
use crate::AppState;
use crate::auth::{Auth, CurrentAuth, Signed};
use crate::errors::page_error;
use crate::respond::PageError;
use alliance_core::directory::{Room, RoomId, RoomInput, Site, SiteId, SiteInput, SiteKind};
use alliance_core::identity::Role;
use alliance_service::{Actor, AppError};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sites", get(sites_page).post(create_site))
        .route("/sites/new", get(new_site_page))
        .route("/sites/{id}", get(site_page).post(update_site))
        .route("/sites/{id}/rooms", post(create_room))
        .route("/rooms/{id}", get(room_page).post(update_room))
}

fn is_admin(actor: &Actor) -> bool {
    actor.user.has_role(Role::Administrator)
}

fn site_id(raw: &str) -> Result<SiteId, PageError> {
    SiteId::parse(raw).map_err(|_| page_error(AppError::NotFound))
}

fn room_id(raw: &str) -> Result<RoomId, PageError> {
    RoomId::parse(raw).map_err(|_| page_error(AppError::NotFound))
}

#[derive(Debug, Default, Deserialize)]
struct Notice {
    saved: Option<String>,
}

struct SiteLine {
    id: String,
    name: String,
    kind: &'static str,
    active: bool,
    phone: String,
}

#[derive(Template)]
#[template(path = "sites.html")]
struct SitesPage {
    layout: Layout,
    sites: Vec<SiteLine>,
    may_edit: bool,
    /// Whether the disruptions report answers this reader (administrators and the service
    /// lead: every session; a therapist: their own).
    sees_disruptions: bool,
}

async fn sites_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
) -> Result<Response, PageError> {
    let sites = state
        .alliance
        .list_sites(&actor)
        .await
        .map_err(page_error)?;
    Ok(render(&SitesPage {
        layout: Layout::load(&state, "sites", &auth).await?,
        sites: sites
            .into_iter()
            .map(|s| SiteLine {
                id: s.id.to_string(),
                kind: s.details.kind.label(),
                phone: s.details.phone.clone().unwrap_or_default(),
                name: s.details.name,
                active: s.active,
            })
            .collect(),
        may_edit: is_admin(&actor),
        sees_disruptions: alliance_core::disruptions::report_scope(&actor.user).is_some(),
    })?
    .into_response())
}

fn site_form(site: &Site) -> FormData {
    let d = &site.details;
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    FormData(vec![
        ("name".into(), d.name.clone()),
        ("kind".into(), d.kind.code().into()),
        ("address".into(), o(&d.address)),
        ("phone".into(), o(&d.phone)),
        ("out_of_hours".into(), o(&d.out_of_hours)),
        ("school_dsl_name".into(), o(&d.school_dsl_name)),
        ("school_dsl_contact".into(), o(&d.school_dsl_contact)),
        ("active".into(), if site.active { "yes" } else { "" }.into()),
    ])
}

fn site_input(form: &FormData) -> SiteInput {
    SiteInput {
        name: form.get("name").to_owned(),
        kind: form.get("kind").to_owned(),
        address: form.get("address").to_owned(),
        phone: form.get("phone").to_owned(),
        out_of_hours: form.get("out_of_hours").to_owned(),
        school_dsl_name: form.get("school_dsl_name").to_owned(),
        school_dsl_contact: form.get("school_dsl_contact").to_owned(),
    }
}

struct RoomLine {
    id: String,
    name: String,
    capacity: u16,
    step_free: bool,
    notes: String,
    active: bool,
}

fn room_line(r: Room) -> RoomLine {
    RoomLine {
        id: r.id.to_string(),
        capacity: r.details.capacity,
        step_free: r.details.step_free,
        notes: r.details.accessibility_notes.unwrap_or_default(),
        name: r.details.name,
        active: r.active,
    }
}

/// A site's page: its details (a form for administrators), its rooms, and for
/// administrators a form to add a room.
#[derive(Template)]
#[template(path = "site.html")]
struct SitePage {
    layout: Layout,
    /// None for a new site.
    id: Option<String>,
    title: String,
    version: i64,
    form: FormData,
    kinds: Vec<(&'static str, &'static str)>,
    rooms: Vec<RoomLine>,
    room_form: FormData,
    may_edit: bool,
    errors: FieldErrors,
    room_errors: FieldErrors,
    notice: Option<String>,
}

async fn site_view(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    id: SiteId,
) -> Result<SitePage, PageError> {
    let (site, rooms) = state
        .alliance
        .get_site(actor, id)
        .await
        .map_err(page_error)?;
    Ok(SitePage {
        layout: Layout::load(state, "sites", auth).await?,
        id: Some(site.id.to_string()),
        title: site.details.name.clone(),
        version: site.version.get(),
        form: site_form(&site),
        kinds: kinds(),
        rooms: rooms.into_iter().map(room_line).collect(),
        room_form: FormData::default(),
        may_edit: is_admin(actor),
        errors: FieldErrors::default(),
        room_errors: FieldErrors::default(),
        notice: None,
    })
}

fn kinds() -> Vec<(&'static str, &'static str)> {
    SiteKind::ALL
        .into_iter()
        .map(|k| (k.code(), k.label()))
        .collect()
}

async fn site_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Query(notice): Query<Notice>,
) -> Result<Response, PageError> {
    let mut page = site_view(&state, &actor, &auth, site_id(&id)?).await?;
    page.notice = notice.saved.map(|_| "Saved.".to_owned());
    Ok(render(&page)?.into_response())
}

async fn new_site_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
) -> Result<Response, PageError> {
    state
        .alliance
        .ensure_may_manage_directory(&actor, "open the new site page")
        .await
        .map_err(page_error)?;
    Ok(render(&blank_site(&state, &auth, FormData::default()).await?)?.into_response())
}

async fn blank_site(state: &AppState, auth: &Auth, form: FormData) -> Result<SitePage, PageError> {
    Ok(SitePage {
        layout: Layout::load(state, "sites", auth).await?,
        id: None,
        title: "Add a site".to_owned(),
        version: 0,
        form,
        kinds: kinds(),
        rooms: Vec::new(),
        room_form: FormData::default(),
        may_edit: true,
        errors: FieldErrors::default(),
        room_errors: FieldErrors::default(),
        notice: None,
    })
}

async fn create_site(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    match state.alliance.create_site(&actor, &site_input(&form)).await {
        Ok(site) => Ok(Redirect::to(&format!("/sites/{}?saved=1", site.id)).into_response()),
        Err(AppError::Invalid(invalid)) => {
            let mut page = blank_site(&state, &auth, form).await?;
            page.errors = FieldErrors::from_invalid(&invalid);
            unprocessable(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}

async fn update_site(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = site_id(&id)?;
    let expected = version_of(&form)?;
    let result = state
        .alliance
        .update_site(
            &actor,
            id,
            &site_input(&form),
            checked(&form, "active"),
            expected,
        )
        .await;
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/sites/{id}?saved=1")).into_response()),
        Err(AppError::Invalid(invalid)) => {
            let mut page = site_view(&state, &actor, &auth, id).await?;
            page.form = form;
            page.version = expected.get();
            page.errors = FieldErrors::from_invalid(&invalid);
            unprocessable(&page)
        }
        Err(AppError::Stale(current)) => {
            let mut page = site_view(&state, &actor, &auth, id).await?;
            page.form = form;
            page.version = current.get();
            page.errors = FieldErrors::one("name", STALE_MESSAGE);
            conflicted(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}

fn room_input(form: &FormData) -> RoomInput {
    RoomInput {
        name: form.get("name").to_owned(),
        capacity: form.get("capacity").to_owned(),
        step_free: checked(form, "step_free"),
        accessibility_notes: form.get("accessibility_notes").to_owned(),
    }
}

async fn create_room(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = site_id(&id)?;
    // The room form shares the page with the site's own form, so its fields are prefixed.
    let input = RoomInput {
        name: form.get("room_name").to_owned(),
        capacity: form.get("room_capacity").to_owned(),
        step_free: checked(&form, "room_step_free"),
        accessibility_notes: form.get("room_accessibility_notes").to_owned(),
    };
    match state.alliance.create_room(&actor, id, &input).await {
        Ok(_) => Ok(Redirect::to(&format!("/sites/{id}?saved=1#rooms")).into_response()),
        Err(AppError::Invalid(invalid)) => {
            let mut page = site_view(&state, &actor, &auth, id).await?;
            page.room_form = form;
            page.room_errors = FieldErrors(
                FieldErrors::from_invalid(&invalid)
                    .0
                    .into_iter()
                    .map(|(field, message)| (format!("room_{field}"), message))
                    .collect(),
            );
            unprocessable(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}

#[derive(Template)]
#[template(path = "room.html")]
struct RoomPage {
    layout: Layout,
    id: String,
    site_id: String,
    site_name: String,
    title: String,
    version: i64,
    form: FormData,
    may_edit: bool,
    errors: FieldErrors,
    notice: Option<String>,
    /// The room described, its materials and checklist (issue 16, `room_care.rs`).
    care: super::room_care::RoomCareSummary,
}

async fn room_view(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    id: RoomId,
) -> Result<RoomPage, PageError> {
    let room = state
        .alliance
        .get_room(actor, id)
        .await
        .map_err(page_error)?;
    let (site, _) = state
        .alliance
        .get_site(actor, room.site_id)
        .await
        .map_err(page_error)?;
    let d = &room.details;
    Ok(RoomPage {
        layout: Layout::load(state, "sites", auth).await?,
        id: room.id.to_string(),
        site_id: site.id.to_string(),
        site_name: site.details.name,
        title: d.name.clone(),
        version: room.version.get(),
        form: FormData(vec![
            ("name".into(), d.name.clone()),
            ("capacity".into(), d.capacity.to_string()),
            (
                "step_free".into(),
                if d.step_free { "yes" } else { "" }.into(),
            ),
            (
                "accessibility_notes".into(),
                d.accessibility_notes.clone().unwrap_or_default(),
            ),
            ("active".into(), if room.active { "yes" } else { "" }.into()),
        ]),
        may_edit: is_admin(actor),
        errors: FieldErrors::default(),
        notice: None,
        care: super::room_care::summary(&state.alliance, actor, id).await?,
    })
}

async fn room_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Query(notice): Query<Notice>,
) -> Result<Response, PageError> {
    let mut page = room_view(&state, &actor, &auth, room_id(&id)?).await?;
    page.notice = notice.saved.map(|_| "Saved.".to_owned());
    Ok(render(&page)?.into_response())
}

async fn update_room(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = room_id(&id)?;
    let expected = version_of(&form)?;
    let result = state
        .alliance
        .update_room(
            &actor,
            id,
            &room_input(&form),
            checked(&form, "active"),
            expected,
        )
        .await;
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/rooms/{id}?saved=1")).into_response()),
        Err(AppError::Invalid(invalid)) => {
            let mut page = room_view(&state, &actor, &auth, id).await?;
            page.form = form;
            page.version = expected.get();
            page.errors = FieldErrors::from_invalid(&invalid);
            unprocessable(&page)
        }
        Err(AppError::Stale(current)) => {
            let mut page = room_view(&state, &actor, &auth, id).await?;
            page.form = form;
            page.version = current.get();
            page.errors = FieldErrors::one("name", STALE_MESSAGE);
            conflicted(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}
