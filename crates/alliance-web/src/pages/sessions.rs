//! A case's sessions: the regular weekly slot and the series it books, each session's
//! attendance, moving or adding one (with a reason), and the frame's history and consistency.

use super::{
    FieldErrors, FormData, Layout, STALE_MESSAGE, conflicted, render, unprocessable, version_of,
};
use crate::AppState;
use crate::auth::{Auth, CurrentAuth, Signed};
use crate::errors::page_error;
use crate::respond::PageError;
use alliance_core::Version;
use alliance_core::access::{Access, Limit};
use alliance_core::cases::CaseId;
use alliance_core::directory::RoomId;
use alliance_core::schedule::{
    AttendanceInput, AttendanceKind, BookingId, SlotInput, clock_text, weekday_code, weekday_label,
};
use alliance_core::uk;
use alliance_service::bookings::CaseSchedule;
use alliance_service::{Actor, AppError};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use std::collections::HashMap;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/cases/{id}/sessions", get(sessions_page).post(set_slot))
        .route("/cases/{id}/sessions/add", post(add_session))
        .route("/sessions/{id}/attendance", post(attendance))
        .route("/sessions/{id}/move", post(move_session))
}

struct SessionLine {
    id: String,
    date: String,
    time: String,
    room: String,
    room_id: String,
    regular: bool,
    attendance: String,
    reason: String,
    version: i64,
    open: bool,
    /// "Room check done" / "Room check to do" (issue 16); empty for a cancelled session.
    room_check: &'static str,
}

/// A line of the case's session records.
struct RecordLine {
    session_id: String,
    date: String,
    status: &'static str,
    author: String,
    amended: bool,
    shared: bool,
}

struct ChangeLine {
    at: String,
    what: &'static str,
    reason: String,
}

#[derive(Template)]
#[template(path = "case_sessions.html")]
struct SessionsPage {
    layout: Layout,
    case_id: String,
    number: String,
    child_id: String,
    /// The agreement is not active yet: sessions may be booked, with a warning.
    agreement_warning: Option<String>,
    slot: Option<String>,
    slot_version: i64,
    metrics: Option<(String, String)>,
    next_break: Option<String>,
    ending: Option<String>,
    /// The case whose letters may be written from here (the team, with a regular time).
    letters_case: Option<String>,
    sessions: Vec<SessionLine>,
    /// The case's session records the reader may see; `None` when they may see none (then
    /// the sessions have no record links either).
    records: Option<Vec<RecordLine>>,
    changes: Vec<ChangeLine>,
    may_edit: bool,
    calendars: Vec<(String, String)>,
    rooms: Vec<(String, String)>,
    kinds: Vec<(&'static str, &'static str)>,
    form: FormData,
    errors: FieldErrors,
    add_form: FormData,
    add_errors: FieldErrors,
    session_errors: FieldErrors,
}

fn case_id(raw: &str) -> Result<CaseId, PageError> {
    CaseId::parse(raw).map_err(|_| page_error(AppError::NotFound))
}

fn session_id(raw: &str) -> Result<BookingId, PageError> {
    BookingId::parse(raw).map_err(|_| page_error(AppError::NotFound))
}

async fn sessions_view(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    id: CaseId,
) -> Result<SessionsPage, PageError> {
    let schedule: CaseSchedule = state
        .alliance
        .case_schedule(actor, id)
        .await
        .map_err(page_error)?;
    let child = state
        .alliance
        .child_of_case(actor, id)
        .await
        .map_err(page_error)?;
    let record = state
        .alliance
        .get_child(actor, child)
        .await
        .map_err(page_error)?;
    let number = record
        .cases
        .iter()
        .find(|c| c.case.id == id)
        .map(|c| c.case.number_label())
        .unwrap_or_default();
    let sites: HashMap<String, String> = state
        .alliance
        .list_sites(actor)
        .await
        .map_err(page_error)?
        .into_iter()
        .map(|s| (s.id.to_string(), s.details.name))
        .collect();
    let rooms: Vec<(String, String)> = state
        .alliance
        .list_rooms(actor, None)
        .await
        .map_err(page_error)?
        .into_iter()
        .filter(|r| r.active)
        .map(|r| {
            (
                r.id.to_string(),
                format!(
                    "{}, {}",
                    r.details.name,
                    sites
                        .get(&r.site_id.to_string())
                        .cloned()
                        .unwrap_or_default()
                ),
            )
        })
        .collect();
    let room_name: HashMap<String, String> = rooms.iter().cloned().collect();
    // Session records are clinical: asked for only when the reader may see some of the
    // clinical record, and a refusal shows nothing rather than failing the page.
    let clinical = record.access.clinical;
    let records =
        if clinical.may_read() || clinical == Access::Limited(Limit::SharedWithParentWorker) {
            match state.alliance.case_session_records(actor, id).await {
                Ok(records) => Some(
                    records
                        .into_iter()
                        .map(|r| RecordLine {
                            session_id: r.record.session_id.to_string(),
                            date: uk::date(r.session_date),
                            status: r.record.status.label(),
                            author: r.author,
                            amended: r.amended,
                            shared: r.record.shared_at.is_some(),
                        })
                        .collect(),
                ),
                Err(AppError::NotFound | AppError::Denied(_)) => None,
                Err(other) => return Err(page_error(other)),
            }
        } else {
            None
        };
    let agreement_warning = state
        .alliance
        .scheduling_warning(id)
        .await
        .map_err(page_error)?;
    let calendars = state
        .alliance
        .list_calendars(actor)
        .await
        .map_err(page_error)?
        .into_iter()
        .map(|c| (c.id.to_string(), c.calendar.name().to_owned()))
        .collect();
    let slot_text = schedule.slot.as_ref().map(|s| {
        format!(
            "{}s at {} for {} minutes in {}, from {}{}",
            weekday_label(s.slot.weekday),
            clock_text(s.slot.start),
            s.slot.minutes,
            room_name
                .get(&s.room.to_string())
                .cloned()
                .unwrap_or_default(),
            uk::date(s.slot.from),
            s.slot
                .until
                .map(|u| format!(" until {}", uk::date(u)))
                .unwrap_or_default()
        )
    });
    let form = match &schedule.slot {
        Some(s) => FormData(vec![
            ("calendar".to_owned(), s.calendar_id.to_string()),
            ("room".to_owned(), s.room.to_string()),
            (
                "weekday".to_owned(),
                weekday_code(s.slot.weekday).to_owned(),
            ),
            ("start".to_owned(), clock_text(s.slot.start)),
            ("minutes".to_owned(), s.slot.minutes.to_string()),
            ("from".to_owned(), uk::date(s.slot.from)),
            (
                "until".to_owned(),
                s.slot.until.map(uk::date).unwrap_or_default(),
            ),
        ]),
        None => FormData(vec![
            ("weekday".to_owned(), "monday".to_owned()),
            ("start".to_owned(), "15:30".to_owned()),
            ("minutes".to_owned(), "50".to_owned()),
            ("from".to_owned(), uk::date(state.alliance.today())),
        ]),
    };
    // The room checks of the case's sessions, in one query (issue 16).
    let ids: Vec<alliance_core::schedule::BookingId> = schedule
        .sessions
        .iter()
        .map(|s| s.session.booking.id)
        .collect();
    let checks = state
        .alliance
        .room_check_states(&ids)
        .await
        .map_err(page_error)?;
    Ok(SessionsPage {
        layout: Layout::load(state, "children", auth).await?,
        case_id: id.to_string(),
        number,
        child_id: child.to_string(),
        agreement_warning,
        slot: slot_text,
        slot_version: schedule.slot.as_ref().map_or(0, |s| s.version.get()),
        metrics: schedule
            .metrics
            .as_ref()
            .map(|m| (m.consistency.to_string(), m.attendance.to_string())),
        next_break: schedule
            .outlook
            .as_ref()
            .and_then(|o| o.next_break.as_ref())
            .map(|b| b.describe()),
        ending: schedule
            .outlook
            .as_ref()
            .and_then(|o| o.ending.as_ref())
            .map(|e| e.describe()),
        letters_case: (schedule.may_edit && schedule.slot.is_some()).then(|| id.to_string()),
        sessions: schedule
            .sessions
            .iter()
            .map(|s| {
                let b = &s.session.booking;
                SessionLine {
                    id: b.id.to_string(),
                    date: uk::date(b.date),
                    time: clock_text(b.start),
                    room: room_name
                        .get(&b.room.to_string())
                        .cloned()
                        .unwrap_or_default(),
                    room_id: b.room.to_string(),
                    regular: s.session.regular,
                    attendance: s
                        .session
                        .attendance
                        .as_ref()
                        .map(|a| a.label())
                        .unwrap_or_default(),
                    reason: s.reason.clone().unwrap_or_default(),
                    version: s.session.version.get(),
                    open: s.session.attendance.is_none(),
                    room_check: match s.session.attendance.as_ref().map(|a| a.kind()) {
                        Some(
                            alliance_core::schedule::AttendanceKind::CancelledByChildOrFamily
                            | alliance_core::schedule::AttendanceKind::CancelledBySchool
                            | alliance_core::schedule::AttendanceKind::CancelledByTherapist,
                        ) => "",
                        _ => checks.get(&b.id).map_or("", |c| c.label()),
                    },
                }
            })
            .collect(),
        records,
        changes: schedule
            .changes
            .iter()
            .map(|c| ChangeLine {
                at: uk::date_time(c.change.at),
                what: match c.change.what.as_str() {
                    "slot-set" => "Regular time and place set",
                    "moved" => "Session moved",
                    "added" => "Session added",
                    "cancelled" => "Session cancelled",
                    _ => "Change",
                },
                reason: c.reason.clone(),
            })
            .collect(),
        may_edit: schedule.may_edit,
        calendars,
        rooms,
        kinds: AttendanceKind::ALL
            .into_iter()
            .map(|k| (k.code(), k.label()))
            .collect(),
        form,
        errors: FieldErrors::default(),
        add_form: FormData(vec![("minutes".to_owned(), "50".to_owned())]),
        add_errors: FieldErrors::default(),
        session_errors: FieldErrors::default(),
    })
}

async fn sessions_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let page = sessions_view(&state, &actor, &auth, case_id(&id)?).await?;
    Ok(render(&page)?.into_response())
}

fn room_of(form: &FormData, field: &str) -> Result<RoomId, AppError> {
    RoomId::parse(form.get(field))
        .map_err(|_| alliance_core::Invalid::field(field, "Choose a room").into())
}

async fn set_slot(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = case_id(&id)?;
    let input = SlotInput {
        weekday: form.get("weekday").to_owned(),
        start: form.get("start").to_owned(),
        minutes: form.get("minutes").to_owned(),
        from: form.get("from").to_owned(),
        until: form.get("until").to_owned(),
    };
    let expected = form
        .get("version")
        .parse::<i64>()
        .ok()
        .and_then(|v| Version::new(v).ok());
    let calendar = match form.get("calendar").trim() {
        "" => Ok(None),
        raw => Uuid::parse_str(raw).map(Some),
    };
    let result = match (calendar, room_of(&form, "room")) {
        (Ok(calendar), Ok(room)) => {
            state
                .alliance
                .set_regular_slot(
                    &actor,
                    id,
                    calendar,
                    room,
                    &input,
                    form.get("reason"),
                    expected,
                )
                .await
        }
        (Err(_), _) => {
            Err(alliance_core::Invalid::field("calendar", "Choose a term calendar").into())
        }
        (_, Err(e)) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{id}/sessions")).into_response()),
        Err(AppError::Invalid(invalid)) => {
            let mut page = sessions_view(&state, &actor, &auth, id).await?;
            page.form = form;
            page.errors = FieldErrors::from_invalid(&invalid);
            unprocessable(&page)
        }
        Err(AppError::Stale(_)) => {
            let mut page = sessions_view(&state, &actor, &auth, id).await?;
            page.form = form;
            page.errors = FieldErrors::one("start", STALE_MESSAGE);
            conflicted(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}

async fn add_session(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = case_id(&id)?;
    let result = match room_of(&form, "add_room") {
        Ok(room) => {
            state
                .alliance
                .add_session(
                    &actor,
                    id,
                    form.get("add_date"),
                    form.get("add_start"),
                    form.get("minutes"),
                    room,
                    form.get("add_reason"),
                )
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{id}/sessions")).into_response()),
        Err(AppError::Invalid(invalid)) => {
            let mut page = sessions_view(&state, &actor, &auth, id).await?;
            page.add_form = form;
            page.add_errors = FieldErrors(
                FieldErrors::from_invalid(&invalid)
                    .0
                    .into_iter()
                    .map(|(k, v)| {
                        (
                            if k == "minutes" {
                                k
                            } else {
                                format!("add_{k}")
                            },
                            v,
                        )
                    })
                    .collect(),
            );
            unprocessable(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}

async fn case_of_session(
    state: &AppState,
    actor: &Actor,
    id: BookingId,
) -> Result<CaseId, PageError> {
    state
        .alliance
        .case_of_session(actor, id)
        .await
        .map_err(page_error)
}

async fn attendance(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = session_id(&id)?;
    let case = case_of_session(&state, &actor, id).await?;
    let input = AttendanceInput {
        kind: form.get("kind").to_owned(),
        late_minutes: form.get("late_minutes").to_owned(),
        reason: form.get("reason").to_owned(),
    };
    match state
        .alliance
        .record_attendance(&actor, id, &input, version_of(&form)?)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{case}/sessions#sessions")).into_response()),
        Err(AppError::Invalid(invalid)) => {
            let mut page = sessions_view(&state, &actor, &auth, case).await?;
            page.session_errors = FieldErrors::from_invalid(&invalid);
            unprocessable(&page)
        }
        Err(AppError::Stale(_)) => {
            let mut page = sessions_view(&state, &actor, &auth, case).await?;
            page.session_errors = FieldErrors::one("kind", STALE_MESSAGE);
            conflicted(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}

async fn move_session(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = session_id(&id)?;
    let case = case_of_session(&state, &actor, id).await?;
    let result = match room_of(&form, "room") {
        Ok(room) => {
            state
                .alliance
                .move_session(
                    &actor,
                    id,
                    form.get("date"),
                    form.get("start"),
                    room,
                    form.get("reason"),
                    version_of(&form)?,
                )
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{case}/sessions#sessions")).into_response()),
        Err(AppError::Invalid(invalid)) => {
            let mut page = sessions_view(&state, &actor, &auth, case).await?;
            page.session_errors = FieldErrors::from_invalid(&invalid);
            unprocessable(&page)
        }
        Err(AppError::Stale(_)) => {
            let mut page = sessions_view(&state, &actor, &auth, case).await?;
            page.session_errors = FieldErrors::one("date", STALE_MESSAGE);
            conflicted(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}
