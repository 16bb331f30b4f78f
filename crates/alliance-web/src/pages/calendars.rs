//! Term calendars: the list, a calendar's rows (entered or pasted from a CSV or iCalendar
//! file) with a preview that names each problem by its line, and the series a weekly slot
//! makes in a term, with the days it skips and why.

use super::{
    FieldErrors, FormData, Layout, STALE_MESSAGE, conflicted, render, unprocessable, version_of,
};
use crate::AppState;
use crate::auth::{Auth, CurrentAuth, Signed};
use crate::errors::page_error;
use crate::respond::PageError;
use alliance_core::directory::SiteId;
use alliance_core::error::parse_optional_date;
use alliance_core::identity::Role;
use alliance_core::schedule::{SlotInput, TermCalendar, clock_text, weekday_label};
use alliance_core::uk;
use alliance_service::{Actor, AppError};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/calendars", get(calendars_page).post(create_calendar))
        .route("/calendars/new", get(new_calendar_page))
        .route("/calendars/{id}", get(calendar_page).post(update_calendar))
        .route("/calendars/{id}/series", post(series_preview))
}

const EXAMPLE: &str = "kind,name,starts,ends,reason\n\
term,Autumn term,02/09/2026,18/12/2026,\n\
half-term,Autumn term,26/10/2026,30/10/2026,\n\
inset,Training day,02/09/2026,,Training day\n";

struct CalendarLine {
    id: String,
    name: String,
    site: String,
    terms: usize,
}

#[derive(Template)]
#[template(path = "calendars.html")]
struct CalendarsPage {
    layout: Layout,
    calendars: Vec<CalendarLine>,
    may_edit: bool,
}

fn is_admin(actor: &Actor) -> bool {
    actor.user.has_role(Role::Administrator)
}

async fn site_names(state: &AppState, actor: &Actor) -> Result<Vec<(String, String)>, PageError> {
    Ok(state
        .alliance
        .list_sites(actor)
        .await
        .map_err(page_error)?
        .into_iter()
        .map(|s| (s.id.to_string(), s.details.name))
        .collect())
}

async fn calendars_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
) -> Result<Response, PageError> {
    let sites = site_names(&state, &actor).await?;
    let calendars = state
        .alliance
        .list_calendars(&actor)
        .await
        .map_err(page_error)?;
    Ok(render(&CalendarsPage {
        layout: Layout::load(&state, "calendars", &auth).await?,
        calendars: calendars
            .into_iter()
            .map(|c| CalendarLine {
                id: c.id.to_string(),
                name: c.calendar.name().to_owned(),
                site: c
                    .site
                    .and_then(|s| sites.iter().find(|(id, _)| *id == s.to_string()))
                    .map(|(_, n)| n.clone())
                    .unwrap_or_default(),
                terms: c.calendar.terms().len(),
            })
            .collect(),
        may_edit: is_admin(&actor),
    })?
    .into_response())
}

struct TermLine {
    name: String,
    dates: String,
    half_terms: String,
}

struct SessionLine {
    date: String,
    time: String,
}

struct SkipLine {
    date: String,
    why: String,
}

#[derive(Template)]
#[template(path = "calendar.html")]
struct CalendarPage {
    layout: Layout,
    /// None for a new calendar.
    id: Option<String>,
    title: String,
    version: i64,
    form: FormData,
    sites: Vec<(String, String)>,
    may_edit: bool,
    /// What the rows make (after a preview, or the saved calendar).
    terms: Vec<TermLine>,
    closures: Vec<String>,
    errors: FieldErrors,
    previewed: bool,
    slot_form: FormData,
    slot_errors: FieldErrors,
    series: Option<(String, Vec<SessionLine>, Vec<SkipLine>)>,
}

fn describe(calendar: &TermCalendar) -> (Vec<TermLine>, Vec<String>) {
    let range = |a, b| {
        if a == b {
            uk::date(a)
        } else {
            format!("{} to {}", uk::date(a), uk::date(b))
        }
    };
    (
        calendar
            .terms()
            .iter()
            .map(|t| TermLine {
                name: t.name.clone(),
                dates: range(t.starts, t.ends),
                half_terms: t
                    .half_terms
                    .iter()
                    .map(|h| range(h.starts, h.ends))
                    .collect::<Vec<_>>()
                    .join("; "),
            })
            .collect(),
        calendar
            .closures()
            .iter()
            .map(|c| {
                format!(
                    "{}: {} ({})",
                    range(c.starts, c.ends),
                    c.reason,
                    c.kind.label()
                )
            })
            .collect(),
    )
}

fn calendar_id(raw: &str) -> Result<Uuid, PageError> {
    Uuid::parse_str(raw).map_err(|_| page_error(AppError::NotFound))
}

async fn calendar_view(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    id: Uuid,
) -> Result<CalendarPage, PageError> {
    let stored = state
        .alliance
        .get_calendar(actor, id)
        .await
        .map_err(page_error)?;
    let (terms, closures) = describe(&stored.calendar);
    let from = stored
        .calendar
        .terms()
        .iter()
        .find(|t| t.ends >= state.alliance.today())
        .or(stored.calendar.terms().first())
        .map(|t| uk::date(t.starts))
        .unwrap_or_default();
    Ok(CalendarPage {
        layout: Layout::load(state, "calendars", auth).await?,
        id: Some(id.to_string()),
        title: stored.calendar.name().to_owned(),
        version: stored.version.get(),
        form: FormData(vec![
            ("name".to_owned(), stored.calendar.name().to_owned()),
            (
                "site".to_owned(),
                stored.site.map(|s| s.to_string()).unwrap_or_default(),
            ),
            ("rows".to_owned(), stored.calendar.to_csv()),
        ]),
        sites: site_names(state, actor).await?,
        may_edit: is_admin(actor),
        terms,
        closures,
        errors: FieldErrors::default(),
        previewed: false,
        slot_form: FormData(vec![
            ("weekday".to_owned(), "monday".to_owned()),
            ("start".to_owned(), "15:30".to_owned()),
            ("minutes".to_owned(), "50".to_owned()),
            ("from".to_owned(), from),
        ]),
        slot_errors: FieldErrors::default(),
        series: None,
    })
}

async fn calendar_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let page = calendar_view(&state, &actor, &auth, calendar_id(&id)?).await?;
    Ok(render(&page)?.into_response())
}

async fn new_calendar_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
) -> Result<Response, PageError> {
    state
        .alliance
        .ensure_may_manage_directory(&actor, "open the new calendar page")
        .await
        .map_err(page_error)?;
    let form = FormData(vec![("rows".to_owned(), EXAMPLE.to_owned())]);
    Ok(render(&blank(&state, &actor, &auth, form).await?)?.into_response())
}

async fn blank(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    form: FormData,
) -> Result<CalendarPage, PageError> {
    Ok(CalendarPage {
        layout: Layout::load(state, "calendars", auth).await?,
        id: None,
        title: "Add a term calendar".to_owned(),
        version: 0,
        form,
        sites: site_names(state, actor).await?,
        may_edit: true,
        terms: Vec::new(),
        closures: Vec::new(),
        errors: FieldErrors::default(),
        previewed: false,
        slot_form: FormData::default(),
        slot_errors: FieldErrors::default(),
        series: None,
    })
}

fn site_of(form: &FormData) -> Result<Option<SiteId>, AppError> {
    match form.optional("site") {
        None => Ok(None),
        Some(raw) => SiteId::parse(raw).map(Some).map_err(|_| {
            alliance_core::Invalid::field("site", "Choose one of the service's sites").into()
        }),
    }
}

/// A preview (the "Check" button) or a save; either way a problem is shown by its line.
async fn save_or_preview(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    id: Option<Uuid>,
    form: FormData,
) -> Result<Response, PageError> {
    let mut page = match id {
        Some(id) => calendar_view(state, actor, auth, id).await?,
        None => blank(state, actor, auth, FormData::default()).await?,
    };
    if form.get("action") == "preview" {
        let preview = state
            .alliance
            .preview_calendar(form.get("name"), form.get("rows"));
        match preview {
            Ok(preview) => {
                let (terms, closures) = preview.calendar.as_ref().map(describe).unwrap_or_default();
                page.terms = terms;
                page.closures = closures;
                page.errors = FieldErrors(
                    preview
                        .errors
                        .iter()
                        .map(|e| ("rows".to_owned(), format!("Line {}: {}", e.line, e.message)))
                        .fold(std::collections::BTreeMap::new(), |mut map, (k, v)| {
                            map.entry(k)
                                .and_modify(|m: &mut String| {
                                    m.push(' ');
                                    m.push_str(&v);
                                })
                                .or_insert(v);
                            map
                        }),
                );
            }
            Err(AppError::Invalid(invalid)) => page.errors = FieldErrors::from_invalid(&invalid),
            Err(other) => return Err(page_error(other)),
        }
        page.previewed = true;
        page.version = form.get("version").parse().unwrap_or(page.version);
        page.form = form;
        return Ok(render(&page)?.into_response());
    }
    let site = match site_of(&form) {
        Ok(site) => site,
        Err(AppError::Invalid(invalid)) => {
            page.errors = FieldErrors::from_invalid(&invalid);
            page.form = form;
            return unprocessable(&page);
        }
        Err(other) => return Err(page_error(other)),
    };
    let result = match id {
        None => {
            state
                .alliance
                .create_calendar(actor, form.get("name"), site, form.get("rows"))
                .await
        }
        Some(id) => {
            state
                .alliance
                .update_calendar(
                    actor,
                    id,
                    form.get("name"),
                    site,
                    form.get("rows"),
                    version_of(&form)?,
                )
                .await
        }
    };
    match result {
        Ok(saved) => Ok(Redirect::to(&format!("/calendars/{}", saved.id)).into_response()),
        Err(AppError::Invalid(invalid)) => {
            page.errors = FieldErrors::from_invalid(&invalid);
            // Row problems are shown together above the rows.
            let rows: Vec<String> = page
                .errors
                .0
                .iter()
                .filter(|(k, _)| k.starts_with("rows["))
                .map(|(_, v)| v.clone())
                .collect();
            if !rows.is_empty() {
                page.errors.0.retain(|k, _| !k.starts_with("rows["));
                page.errors.0.insert("rows".to_owned(), rows.join(" "));
            }
            page.form = form;
            unprocessable(&page)
        }
        Err(AppError::Stale(current)) => {
            page.errors = FieldErrors::one("rows", STALE_MESSAGE);
            page.version = current.get();
            page.form = form;
            conflicted(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}

async fn create_calendar(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    save_or_preview(&state, &actor, &auth, None, form).await
}

async fn update_calendar(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    save_or_preview(&state, &actor, &auth, Some(calendar_id(&id)?), form).await
}

#[derive(Debug, Default, Deserialize)]
struct NoQuery {}

async fn series_preview(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Query(_): Query<NoQuery>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = calendar_id(&id)?;
    let mut page = calendar_view(&state, &actor, &auth, id).await?;
    let input = SlotInput {
        weekday: form.get("weekday").to_owned(),
        start: form.get("start").to_owned(),
        minutes: form.get("minutes").to_owned(),
        from: form.get("from").to_owned(),
        until: form.get("until").to_owned(),
    };
    let planned_end = parse_optional_date(form.get("planned_end")).ok().flatten();
    match state
        .alliance
        .preview_series(&actor, id, &input, planned_end)
        .await
    {
        Ok((slot, series)) => {
            page.series = Some((
                format!(
                    "{}s at {} for {} minutes{}",
                    weekday_label(slot.weekday),
                    clock_text(slot.start),
                    slot.minutes,
                    series
                        .term
                        .as_ref()
                        .map(|t| format!(", {t}"))
                        .unwrap_or_default()
                ),
                series
                    .sessions
                    .iter()
                    .map(|s| SessionLine {
                        date: uk::date(s.date),
                        time: clock_text(s.start),
                    })
                    .collect(),
                series
                    .skipped
                    .iter()
                    .map(|(d, why)| SkipLine {
                        date: uk::date(*d),
                        why: why.label(),
                    })
                    .collect(),
            ));
        }
        Err(AppError::Invalid(invalid)) => {
            page.slot_errors = FieldErrors::from_invalid(&invalid);
            page.slot_form = form;
            return unprocessable(&page);
        }
        Err(other) => return Err(page_error(other)),
    }
    page.slot_form = form;
    Ok(render(&page)?.into_response())
}
