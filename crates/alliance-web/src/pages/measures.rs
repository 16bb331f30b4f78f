//! Pages of issue 17 (measures): the measure library (every definition shipped with Alliance
//! or added by the service, with whether its wording is loaded), one definition in full, the
//! page to add a definition (paste the file; every problem listed by its path, nothing lost
//! from the text area) and the page to load a licensed measure's wording. Who may do what is
//! decided by the use-cases; this module shows what they answer.

use super::{FormData, Layout, conflicted, render, unprocessable};
use crate::AppState;
use crate::auth::{Auth, CurrentAuth, Signed};
use crate::errors::page_error;
use crate::respond::PageError;
use alliance_core::error::FieldError;
use alliance_core::measures::{Definition, Format, ResponseScale, fmt_num};
use alliance_core::uk;
use alliance_service::measures::{Library, LibraryEntry};
use alliance_service::{Actor, AppError};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    // One method a line, so the route table the headers test reads finds each.
    Router::new()
        .route("/measures", get(list_page))
        .route("/measures", post(add_definition))
        .route("/measures/new", get(new_page))
        .route("/measures/{id}/{version}", get(detail_page))
        .route("/measures/{id}/{version}/wording", get(wording_page))
        .route("/measures/{id}/{version}/wording", post(load_wording))
}

fn version_of(raw: &str) -> Result<u32, PageError> {
    raw.parse::<u32>()
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| page_error(AppError::NotFound))
}

fn format_of(form: &FormData) -> Format {
    match form.get("format") {
        "json" => Format::Json,
        "toml" => Format::Toml,
        _ => Format::sniff(form.get("text")),
    }
}

fn wording_state(e: &LibraryEntry) -> String {
    let d = &e.definition;
    if d.licence.wording_shipped {
        "Shipped".to_owned()
    } else if let Some(at) = e.wording_loaded_at {
        format!("Loaded {}", uk::date_time(at))
    } else {
        "Not loaded".to_owned()
    }
}

// ----- the list -----

struct Row {
    href: String,
    name: String,
    version: u32,
    latest: bool,
    respondent: &'static str,
    ages: String,
    given: &'static str,
    validated: bool,
    licence: String,
    wording: String,
    can_be_given: bool,
    origin: &'static str,
}

#[derive(Template)]
#[template(path = "measures.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<Row>,
    may_manage: bool,
}

fn row(library: &Library, e: &LibraryEntry) -> Row {
    let d = &e.definition;
    Row {
        href: format!("/measures/{}/{}", d.id, d.version),
        name: d.name.clone(),
        version: d.version,
        latest: library.is_latest(e),
        respondent: d.respondent.label(),
        ages: d.ages(),
        given: d.given.label(),
        validated: d.validated,
        licence: d.licence.name.clone(),
        wording: wording_state(e),
        can_be_given: e.can_be_given(),
        origin: e.origin.label(),
    }
}

async fn list_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
) -> Result<Response, PageError> {
    let library = state
        .alliance
        .measure_library(&actor)
        .await
        .map_err(page_error)?;
    Ok(render(&ListPage {
        layout: Layout::load(&state, "measures", &auth).await?,
        rows: library.entries.iter().map(|e| row(&library, e)).collect(),
        may_manage: library.may_manage,
    })?
    .into_response())
}

// ----- one definition -----

struct ItemLine {
    number: usize,
    id: String,
    text: Option<String>,
    scale: String,
    reversed: bool,
    subscale: String,
}

struct ScaleLine {
    key: String,
    kind: &'static str,
    /// Each choice: its value and label (empty while licensed wording is not loaded).
    choices: Vec<(String, String)>,
}

struct TableRow {
    who: String,
    value: String,
    source: String,
    confirmed: bool,
}

#[derive(Template)]
#[template(path = "measures_detail.html")]
struct DetailPage {
    layout: Layout,
    d: Definition,
    origin: &'static str,
    wording: String,
    licensed_missing: bool,
    items: Vec<ItemLine>,
    scales: Vec<ScaleLine>,
    method: &'static str,
    range: String,
    higher_is: &'static str,
    missing_rule: String,
    cutoffs: Vec<TableRow>,
    reliable: Vec<TableRow>,
    rupture: Vec<(&'static str, String)>,
    versions: Vec<(u32, String, bool)>,
    may_manage: bool,
    notice: Option<&'static str>,
}

#[derive(Debug, Default, Deserialize)]
struct DetailQuery {
    done: Option<String>,
}

fn scale_line(key: &str, scale: &ResponseScale) -> ScaleLine {
    let choices = match scale {
        ResponseScale::Faces { choices } | ResponseScale::Likert { choices } => choices
            .iter()
            .map(|c| (c.value.to_string(), c.label.clone()))
            .collect(),
        ResponseScale::Line {
            min,
            max,
            low,
            high,
        } => vec![
            (format!("{min} (one end)"), low.clone()),
            (format!("{max} (other end)"), high.clone()),
        ],
    };
    ScaleLine {
        key: key.to_owned(),
        kind: scale.kind_label(),
        choices,
    }
}

async fn detail_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path((id, version)): Path<(String, String)>,
    Query(query): Query<DetailQuery>,
) -> Result<Response, PageError> {
    let version = version_of(&version)?;
    let entry = state
        .alliance
        .measure_entry(&actor, &id, version)
        .await
        .map_err(page_error)?;
    let library = state
        .alliance
        .measure_library(&actor)
        .await
        .map_err(page_error)?;
    let d = entry.definition.clone();
    let sc = &d.scoring;
    let missing_rule = if d.goal_based {
        "Each goal is rated on its own; the total is the mean of the goals rated.".to_owned()
    } else if sc.max_missing == 0 {
        "Every item must be answered; otherwise the response is not scored (never scored as 0)."
            .to_owned()
    } else {
        format!(
            "Up to {} item(s) may be missing{}; more, and the response is not scored (never scored as 0).",
            sc.max_missing,
            match sc.method {
                alliance_core::measures::Method::Sum =>
                    ": the total is prorated (the mean of the answered items times the number of items)",
                alliance_core::measures::Method::Mean => ": the mean is of the answered items",
            }
        )
    };
    let table =
        |band: &alliance_core::measures::Band, value: String, source: &str, confirmed| TableRow {
            who: band.describe(),
            value,
            source: source.to_owned(),
            confirmed,
        };
    let page = DetailPage {
        layout: Layout::load(&state, "measures", &auth).await?,
        origin: entry.origin.label(),
        wording: wording_state(&entry),
        licensed_missing: !d.licence.wording_shipped && !entry.can_be_given(),
        items: d
            .items
            .iter()
            .enumerate()
            .map(|(i, item)| ItemLine {
                number: i + 1,
                id: item.id.clone(),
                text: item.text.clone(),
                scale: item.scale.clone(),
                reversed: item.reversed,
                subscale: item.subscale.clone().unwrap_or_default(),
            })
            .collect(),
        scales: d.scales.iter().map(|(k, s)| scale_line(k, s)).collect(),
        method: sc.method.label(),
        range: format!("{} to {}", fmt_num(sc.total_min), fmt_num(sc.total_max)),
        higher_is: sc.higher_is.label(),
        missing_rule,
        cutoffs: d
            .cutoffs
            .iter()
            .map(|c| {
                table(
                    &c.band,
                    format!("Flagged {} {}", c.flag_when.label(), fmt_num(c.value)),
                    &c.source,
                    c.confirmed,
                )
            })
            .collect(),
        reliable: d
            .reliable_change
            .iter()
            .map(|r| table(&r.band, fmt_num(r.value), &r.source, r.confirmed))
            .collect(),
        rupture: d
            .rupture
            .as_ref()
            .map(|r| {
                vec![
                    (
                        "A drop from the previous session of at least",
                        r.drop.map_or_else(|| "Off".to_owned(), fmt_num),
                    ),
                    (
                        "Sessions before the running-mean rule applies",
                        r.min_sessions.to_string(),
                    ),
                    (
                        "Standard deviations below the running mean: amber",
                        fmt_num(r.amber_sd),
                    ),
                    (
                        "Standard deviations below the running mean: red",
                        fmt_num(r.red_sd),
                    ),
                    ("The least spread assumed", fmt_num(r.sd_floor)),
                ]
            })
            .unwrap_or_default(),
        versions: library
            .entries
            .iter()
            .filter(|e| e.definition.id == d.id)
            .map(|e| {
                (
                    e.definition.version,
                    format!("/measures/{}/{}", e.definition.id, e.definition.version),
                    e.definition.version == d.version,
                )
            })
            .collect(),
        may_manage: library.may_manage,
        notice: match query.done.as_deref() {
            Some("added") => Some("The definition was added."),
            Some("wording") => Some("The wording was loaded."),
            _ => None,
        },
        d,
    };
    Ok(render(&page)?.into_response())
}

// ----- adding a definition -----

#[derive(Template)]
#[template(path = "measures_new.html")]
struct NewPage {
    layout: Layout,
    form: FormData,
    errors: Vec<FieldError>,
    refusal: Option<String>,
}

impl NewPage {
    fn format_is(&self, f: &str) -> bool {
        match self.form.get("format") {
            "" => f == "toml",
            sent => sent == f,
        }
    }
}

async fn new_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
) -> Result<Response, PageError> {
    state
        .alliance
        .ensure_may_manage_measures(&actor, "open the page to add a measure")
        .await
        .map_err(page_error)?;
    Ok(render(&NewPage {
        layout: Layout::load(&state, "measures", &auth).await?,
        form: FormData::default(),
        errors: Vec::new(),
        refusal: None,
    })?
    .into_response())
}

async fn add_definition(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let result = state
        .alliance
        .add_measure_definition(&actor, form.get("text"), format_of(&form))
        .await;
    match result {
        Ok(d) => Ok(
            Redirect::to(&format!("/measures/{}/{}?done=added", d.id, d.version)).into_response(),
        ),
        Err(AppError::Invalid(invalid)) => unprocessable(&NewPage {
            layout: Layout::load(&state, "measures", &auth).await?,
            form,
            errors: invalid.errors,
            refusal: None,
        }),
        Err(AppError::Conflict(why)) => conflicted(&NewPage {
            layout: Layout::load(&state, "measures", &auth).await?,
            form,
            errors: Vec::new(),
            refusal: Some(why),
        }),
        Err(other) => Err(page_error(other)),
    }
}

// ----- loading wording -----

#[derive(Template)]
#[template(path = "measures_wording.html")]
struct WordingPage {
    layout: Layout,
    d: Definition,
    href: String,
    skeleton: String,
    form: FormData,
    errors: Vec<FieldError>,
}

impl WordingPage {
    fn format_is(&self, f: &str) -> bool {
        match self.form.get("format") {
            "" => f == "toml",
            sent => sent == f,
        }
    }
}

/// A wording file with every key the definition needs and the words left for the service to
/// fill in from its licensed copy.
fn skeleton(d: &Definition) -> String {
    let mut s = format!(
        "measure = \"{}\"\nversion = {}\n\n[items]\n",
        d.id, d.version
    );
    for item in &d.items {
        s.push_str(&format!("\"{}\" = \"\"\n", item.id));
    }
    s.push_str("\n[choices]\n");
    for (key, scale) in &d.scales {
        let n = match scale {
            ResponseScale::Faces { choices } | ResponseScale::Likert { choices } => choices.len(),
            ResponseScale::Line { .. } => 2,
        };
        let blanks = vec!["\"\""; n].join(", ");
        s.push_str(&format!("\"{key}\" = [{blanks}]\n"));
    }
    s
}

async fn load_wording_page(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    id: &str,
    version: u32,
    form: FormData,
    errors: Vec<FieldError>,
) -> Result<WordingPage, PageError> {
    let entry = state
        .alliance
        .measure_entry(actor, id, version)
        .await
        .map_err(page_error)?;
    let d = entry.definition;
    Ok(WordingPage {
        layout: Layout::load(state, "measures", auth).await?,
        href: format!("/measures/{}/{}", d.id, d.version),
        skeleton: skeleton(&d),
        d,
        form,
        errors,
    })
}

async fn wording_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path((id, version)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let version = version_of(&version)?;
    state
        .alliance
        .ensure_may_manage_measures(&actor, "open the page to load a measure's wording")
        .await
        .map_err(page_error)?;
    let page = load_wording_page(
        &state,
        &actor,
        &auth,
        &id,
        version,
        FormData::default(),
        Vec::new(),
    )
    .await?;
    Ok(render(&page)?.into_response())
}

async fn load_wording(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path((id, version)): Path<(String, String)>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let version = version_of(&version)?;
    let result = state
        .alliance
        .load_measure_wording(&actor, &id, version, form.get("text"), format_of(&form))
        .await;
    match result {
        Ok(d) => Ok(
            Redirect::to(&format!("/measures/{}/{}?done=wording", d.id, d.version)).into_response(),
        ),
        Err(AppError::Invalid(invalid)) => {
            let page = load_wording_page(&state, &actor, &auth, &id, version, form, invalid.errors)
                .await?;
            unprocessable(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}
