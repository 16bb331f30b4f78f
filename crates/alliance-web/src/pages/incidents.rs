//! Incidents (issue 16, clinical record): a child's incidents, the form to record one
//! (optionally from a session), one incident with its addenda, and adding a correction with
//! its reason (never an edit). The form offers the ground rules of the child's current
//! agreement, the concerns about the child the recorder may read, and a button to raise a new
//! concern. Who may do what is decided by the use-cases; this module shows what they answer.

use super::{FieldErrors, FormData, Layout, render, unprocessable};
use crate::AppState;
use crate::auth::{Auth, CurrentAuth, Signed};
use crate::errors::page_error;
use crate::respond::PageError;
use alliance_core::children::ChildId;
use alliance_core::incidents::{IncidentId, IncidentInput, IncidentKind, Told, when_words};
use alliance_core::safeguarding::ConcernId;
use alliance_core::schedule::BookingId;
use alliance_core::uk;
use alliance_service::incidents::{IncidentForm, IncidentSummary};
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
        .route("/children/{child}/incidents", get(list_page))
        .route("/children/{child}/incidents", post(record))
        .route("/children/{child}/incidents/new", get(new_page))
        .route("/incidents/{id}", get(incident_page))
        .route("/incidents/{id}/addenda", post(add_addendum))
}

fn not_found() -> PageError {
    page_error(AppError::NotFound)
}

fn child_id(raw: &str) -> Result<ChildId, PageError> {
    ChildId::parse(raw).map_err(|_| not_found())
}

/// An incident as the pages show it.
struct Shown {
    id: String,
    reference: String,
    kinds: Vec<&'static str>,
    occurred: String,
    what_happened: String,
    who_involved: String,
    what_done: String,
    told: Vec<String>,
    rules: Vec<String>,
    recorded: String,
    linked: bool,
    session: Option<String>,
    addenda: usize,
}

fn shown(s: &IncidentSummary) -> Shown {
    Shown {
        id: s.id.to_string(),
        reference: s.reference.clone(),
        kinds: s.content.kinds.iter().map(|k| k.label()).collect(),
        occurred: when_words(&s.content.occurred),
        what_happened: s.content.what_happened.clone(),
        who_involved: s.content.who_involved.clone(),
        what_done: s.content.what_done.clone(),
        told: s
            .content
            .told
            .iter()
            .map(|t| match t.when {
                Some(w) => format!("{}, {}", t.whom.label(), when_words(&w)),
                None => t.whom.label().to_owned(),
            })
            .collect(),
        rules: s.content.rules.clone(),
        recorded: format!("{}, {}", s.recorded_by, uk::date_time(s.recorded_at)),
        linked: s.concern.is_some(),
        session: s.session.map(|x| x.to_string()),
        addenda: s.addenda,
    }
}

// ----- the list -----

#[derive(Template)]
#[template(path = "incidents.html")]
struct ListPage {
    layout: Layout,
    child_id: String,
    child_label: String,
    incidents: Vec<Shown>,
    may_record: bool,
    notice: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    recorded: Option<String>,
}

async fn list_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(child): Path<String>,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    let child = child_id(&child)?;
    let list = state
        .alliance
        .child_incidents(&actor, child)
        .await
        .map_err(page_error)?;
    Ok(render(&ListPage {
        layout: Layout::load(&state, "children", &auth).await?,
        child_id: child.to_string(),
        child_label: list.child_label,
        incidents: list.incidents.iter().map(shown).collect(),
        may_record: list.may_record,
        notice: query.recorded.map(|_| "Incident recorded.".to_owned()),
    })?
    .into_response())
}

// ----- the form -----

#[derive(Template)]
#[template(path = "incident_new.html")]
struct NewPage {
    layout: Layout,
    child_id: String,
    child_label: String,
    session: Option<(String, String)>,
    kinds: Vec<(&'static str, &'static str)>,
    told: Vec<(&'static str, &'static str)>,
    rules: Vec<(usize, String)>,
    concerns: Vec<(String, String)>,
    form: FormData,
    errors: FieldErrors,
}

impl NewPage {
    fn has(&self, name: &str, value: &str) -> bool {
        self.form.has(name, value)
    }

    fn told_when(&self, code: &str) -> &str {
        self.form.get(&format!("told_when.{code}"))
    }
}

fn new_page_of(layout: Layout, f: IncidentForm) -> NewPage {
    // Opened from a session: it most likely happened then, so the time starts there.
    let form = FormData(
        f.session
            .map(|(_, date, start)| {
                vec![(
                    "occurred".to_owned(),
                    format!("{date}T{}", start.strftime("%H:%M")),
                )]
            })
            .unwrap_or_default(),
    );
    NewPage {
        layout,
        child_id: f.child.to_string(),
        child_label: f.child_label,
        session: f.session.map(|(id, date, start)| {
            (
                id.to_string(),
                format!("{} {}", uk::date(date), start.strftime("%H:%M")),
            )
        }),
        kinds: IncidentKind::ALL
            .iter()
            .map(|k| (k.code(), k.label()))
            .collect(),
        told: Told::ALL.iter().map(|t| (t.code(), t.label())).collect(),
        rules: f.rules.into_iter().enumerate().collect(),
        concerns: f
            .concerns
            .into_iter()
            .map(|c| (c.id.to_string(), c.label))
            .collect(),
        form,
        errors: FieldErrors::default(),
    }
}

async fn load_new_page(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    child: ChildId,
    session: Option<BookingId>,
) -> Result<NewPage, PageError> {
    let form = state
        .alliance
        .incident_form(actor, child, session)
        .await
        .map_err(page_error)?;
    Ok(new_page_of(
        Layout::load(state, "children", auth).await?,
        form,
    ))
}

#[derive(Debug, Default, Deserialize)]
struct NewQuery {
    session: Option<String>,
}

fn session_of(raw: Option<&str>) -> Result<Option<BookingId>, PageError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        Some(raw) => BookingId::parse(raw).map(Some).map_err(|_| not_found()),
        None => Ok(None),
    }
}

async fn new_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(child): Path<String>,
    Query(query): Query<NewQuery>,
) -> Result<Response, PageError> {
    let child = child_id(&child)?;
    let session = session_of(query.session.as_deref())?;
    let page = load_new_page(&state, &actor, &auth, child, session).await?;
    Ok(render(&page)?.into_response())
}

async fn record(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(child): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let child = child_id(&child)?;
    let session = session_of(form.optional("session"))?;
    let rules_offered: Vec<String> = form.all("rule");
    let input = IncidentInput {
        kinds: form.all("kinds"),
        occurred: form.get("occurred").to_owned(),
        what_happened: form.get("what_happened").to_owned(),
        who_involved: form.get("who_involved").to_owned(),
        what_done: form.get("what_done").to_owned(),
        told: form
            .all("told")
            .into_iter()
            .map(|code| {
                let at = form.get(&format!("told_when.{code}")).to_owned();
                (code, at)
            })
            .collect(),
        rules: rules_offered,
    };
    let concern = match form.get("concern").trim() {
        "" => None,
        raw => Some(ConcernId::parse(raw).map_err(|_| not_found())?),
    };
    match state
        .alliance
        .record_incident(&actor, child, &input, session, concern)
        .await
    {
        Ok(id) => Ok(Redirect::to(&format!("/incidents/{id}")).into_response()),
        Err(AppError::Invalid(invalid)) => {
            let mut page = load_new_page(&state, &actor, &auth, child, session).await?;
            page.form = form;
            page.errors = FieldErrors::from_invalid(&invalid);
            unprocessable(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}

// ----- one incident -----

struct AddendumLine {
    text: String,
    reason: String,
    by: String,
}

#[derive(Template)]
#[template(path = "incident.html")]
struct IncidentPage {
    layout: Layout,
    child_id: String,
    child_label: String,
    incident: Shown,
    concern: Option<(String, String)>,
    addenda: Vec<AddendumLine>,
    may_add: bool,
    form: FormData,
    errors: FieldErrors,
}

async fn load_incident_page(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    id: IncidentId,
) -> Result<IncidentPage, PageError> {
    let v = state
        .alliance
        .incident_view(actor, id)
        .await
        .map_err(page_error)?;
    Ok(IncidentPage {
        layout: Layout::load(state, "children", auth).await?,
        child_id: v.child.to_string(),
        child_label: v.child_label.clone(),
        concern: match (v.summary.concern, v.concern_reference.clone()) {
            (Some(c), Some(r)) => Some((c.to_string(), r)),
            _ => None,
        },
        incident: shown(&v.summary),
        addenda: v
            .addenda
            .iter()
            .map(|a| AddendumLine {
                text: a.content.text.clone(),
                reason: a.content.reason.clone(),
                by: format!("{}, {}", a.written_by, uk::date_time(a.written_at)),
            })
            .collect(),
        may_add: v.may_add_addendum,
        form: FormData::default(),
        errors: FieldErrors::default(),
    })
}

async fn incident_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = IncidentId::parse(&id).map_err(|_| not_found())?;
    Ok(render(&load_incident_page(&state, &actor, &auth, id).await?)?.into_response())
}

async fn add_addendum(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = IncidentId::parse(&id).map_err(|_| not_found())?;
    match state
        .alliance
        .add_incident_addendum(&actor, id, form.get("text"), form.get("reason"))
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/incidents/{id}#addenda")).into_response()),
        Err(AppError::Invalid(invalid)) => {
            let mut page = load_incident_page(&state, &actor, &auth, id).await?;
            page.form = form;
            page.errors = FieldErrors::from_invalid(&invalid);
            unprocessable(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}
