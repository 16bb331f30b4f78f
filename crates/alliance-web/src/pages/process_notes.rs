//! Private process notes: the reader's own reflections about a case's child, apart from the
//! clinical record. Who may read or write them (their author alone, on the case team) is
//! decided by the use-cases; this module shows what they answer.

use super::{FieldErrors, FormData, Layout, render, unprocessable};
use crate::AppState;
use crate::auth::{Auth, CurrentAuth, Signed};
use crate::errors::page_error;
use crate::respond::PageError;
use alliance_core::cases::CaseId;
use alliance_core::uk;
use alliance_service::{Actor, AppError};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    // One method a line, so the route table the headers test reads finds both.
    Router::new()
        .route("/cases/{id}/process-notes", get(my_process_notes))
        .route("/cases/{id}/process-notes", post(write_process_note))
}

fn case_id(raw: &str) -> Result<CaseId, PageError> {
    CaseId::parse(raw).map_err(|_| page_error(AppError::NotFound))
}

/// One note, as the page shows it.
struct NoteLine {
    id: String,
    written: String,
    text: String,
}

#[derive(Template)]
#[template(path = "process_notes.html")]
struct ProcessNotesPage {
    layout: Layout,
    case_id: String,
    number: String,
    child_label: String,
    notes: Vec<NoteLine>,
    may_write: bool,
    form: FormData,
    errors: FieldErrors,
    notice: Option<String>,
}

async fn load_page(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    id: CaseId,
) -> Result<ProcessNotesPage, PageError> {
    let mine = state
        .alliance
        .my_process_notes(actor, id)
        .await
        .map_err(page_error)?;
    Ok(ProcessNotesPage {
        layout: Layout::load(state, "children", auth).await?,
        case_id: mine.case_id.to_string(),
        number: mine.case_number,
        child_label: mine.child_label,
        notes: mine
            .notes
            .into_iter()
            .map(|n| NoteLine {
                id: n.id.to_string(),
                written: uk::date_time(n.created_at),
                text: n.text,
            })
            .collect(),
        may_write: mine.may_write,
        form: FormData::default(),
        errors: FieldErrors::default(),
        notice: None,
    })
}

#[derive(Debug, Default, Deserialize)]
struct Saved {
    saved: Option<String>,
}

async fn my_process_notes(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Query(saved): Query<Saved>,
) -> Result<Response, PageError> {
    let mut page = load_page(&state, &actor, &auth, case_id(&id)?).await?;
    page.notice = saved.saved.map(|_| "The note is saved.".to_owned());
    Ok(render(&page)?.into_response())
}

async fn write_process_note(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = case_id(&id)?;
    match state
        .alliance
        .write_process_note(&actor, id, form.get("text"))
        .await
    {
        Ok(_) => {
            Ok(Redirect::to(&format!("/cases/{id}/process-notes?saved=1#notes")).into_response())
        }
        Err(AppError::Invalid(invalid)) => {
            let mut page = load_page(&state, &actor, &auth, id).await?;
            page.form = form;
            page.errors = FieldErrors::from_invalid(&invalid);
            unprocessable(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}
