//! The session view (issue 16, helper A): `/sessions/{id}`, the hub of one session (`{id}` is
//! the booking id of therapy_sessions). It shows the date, time, room and site, the child as
//! the timetables show them to this reader, the attendance, today's room check (who did it
//! and when, or the form to tick it), and the links to the session record, the disruptions,
//! an incident and the child's emergency panel, each only where the reader's access allows.
//! A session whose child the reader may not know answers "not found" (the use-case audits
//! it). The check is ticked at `POST /sessions/{id}/check`.

use super::{FieldErrors, FormData, Layout, render, unprocessable};
use crate::AppState;
use crate::auth::{Auth, CurrentAuth, Signed};
use crate::errors::page_error;
use crate::respond::PageError;
use alliance_core::room_care::CheckedItemInput;
use alliance_core::schedule::{BookingId, clock_text};
use alliance_core::uk;
use alliance_service::room_care::SessionHub;
use alliance_service::timetables::{SessionState, day_heading};
use alliance_service::{Actor, AppError};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};

pub fn router() -> Router<AppState> {
    // One method a line, so the route table the headers test reads finds each.
    Router::new()
        .route("/sessions/{id}", get(session_page))
        .route("/sessions/{id}/check", post(tick_check))
}

fn session_id(raw: &str) -> Result<BookingId, PageError> {
    BookingId::parse(raw).map_err(|_| page_error(AppError::NotFound))
}

/// One item of the check as done, or as the form asks it.
struct ItemLine {
    n: usize,
    item: String,
    ok: bool,
    note: String,
}

#[derive(Template)]
#[template(path = "session_view.html")]
struct SessionPage {
    layout: Layout,
    id: String,
    title: String,
    when: String,
    room_id: String,
    room: String,
    site_id: String,
    site: String,
    therapist: String,
    child_text: String,
    case_number: String,
    child_id: String,
    case_id: String,
    state: &'static str,
    check_done: bool,
    check_by: String,
    check_at: String,
    check_problem: bool,
    done_items: Vec<ItemLine>,
    may_tick: bool,
    cancelled: bool,
    items: Vec<ItemLine>,
    may_record_incident: bool,
    may_open_emergency_panel: bool,
    /// The session's own therapist may hand the tablet to the child and rate the session
    /// (issue 17).
    may_hand_over: bool,
    form: FormData,
    errors: FieldErrors,
    refusal: Option<String>,
}

impl SessionPage {
    fn answered(&self, n: &usize, value: &str) -> bool {
        self.form.get(&format!("item-{n}")) == value
    }
}

fn page_of(layout: Layout, hub: SessionHub) -> SessionPage {
    let child_text = hub
        .child
        .name
        .clone()
        .unwrap_or_else(|| hub.child.initials.clone());
    let (check_done, check_by, check_at, check_problem, done_items) = match &hub.check {
        Some(c) => (
            true,
            hub.checked_by_name.clone().unwrap_or_default(),
            uk::date_time(c.checked_at),
            c.has_problem(),
            c.items
                .iter()
                .enumerate()
                .map(|(i, it)| ItemLine {
                    n: i + 1,
                    item: it.item.clone(),
                    ok: it.ok,
                    note: it.note.clone().unwrap_or_default(),
                })
                .collect(),
        ),
        None => (false, String::new(), String::new(), false, Vec::new()),
    };
    SessionPage {
        layout,
        id: hub.session.to_string(),
        title: format!("Session with {child_text}"),
        when: format!(
            "{}, {}–{}",
            day_heading(hub.date),
            clock_text(hub.start),
            clock_text(hub.ends)
        ),
        room_id: hub.room.to_string(),
        room: hub.room_name.clone(),
        site_id: hub.site.to_string(),
        site: hub.site_name.clone(),
        therapist: hub.therapist_name.clone(),
        child_text,
        case_number: hub.child.case_number.clone(),
        child_id: hub.child.child_id.to_string(),
        case_id: hub.child.case_id.to_string(),
        state: hub.state.label(),
        check_done,
        check_by,
        check_at,
        check_problem,
        done_items,
        may_tick: hub.may_tick,
        cancelled: hub.state == SessionState::Cancelled,
        items: hub
            .checklist
            .iter()
            .enumerate()
            .map(|(i, item)| ItemLine {
                n: i + 1,
                item: item.clone(),
                ok: true,
                note: String::new(),
            })
            .collect(),
        may_record_incident: hub.may_record_incident,
        may_open_emergency_panel: hub.may_open_emergency_panel,
        may_hand_over: false,
        form: FormData::default(),
        errors: FieldErrors::default(),
        refusal: None,
    }
}

async fn load(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    id: BookingId,
) -> Result<SessionPage, PageError> {
    let hub = state
        .alliance
        .session_hub(actor, id)
        .await
        .map_err(page_error)?;
    let mut page = page_of(Layout::load(state, "timetable", auth).await?, hub);
    page.may_hand_over = state
        .alliance
        .may_hand_over_session(actor, id)
        .await
        .map_err(page_error)?;
    Ok(page)
}

async fn session_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let page = load(&state, &actor, &auth, session_id(&id)?).await?;
    Ok(render(&page)?.into_response())
}

async fn tick_check(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = session_id(&id)?;
    let answers: Vec<CheckedItemInput> = (1..=alliance_core::room_care::MAX_CHECKLIST_ITEMS)
        .map(|n| CheckedItemInput {
            state: form.get(&format!("item-{n}")).to_owned(),
            note: form.get(&format!("note-{n}")).to_owned(),
        })
        .collect();
    match state.alliance.record_room_check(&actor, id, &answers).await {
        Ok(_) => Ok(Redirect::to(&format!("/sessions/{id}#room-check")).into_response()),
        Err(AppError::Invalid(invalid)) => {
            let mut page = load(&state, &actor, &auth, id).await?;
            page.form = form;
            page.errors = FieldErrors::from_invalid(&invalid);
            unprocessable(&page)
        }
        Err(AppError::Conflict(why)) => {
            let mut page = load(&state, &actor, &auth, id).await?;
            page.refusal = Some(format!("You cannot do this: {why}."));
            let mut response = render(&page)?.into_response();
            *response.status_mut() = StatusCode::CONFLICT;
            Ok(response)
        }
        Err(other) => Err(page_error(other)),
    }
}
