//! A case's regular slot and sessions: the frame of the work.

use super::directory::version;
use crate::AppState;
use crate::auth::Signed;
use crate::extract::ApiJson;
use crate::problem::{ApiError, Problem};
use alliance_core::Version;
use alliance_core::cases::CaseId;
use alliance_core::directory::RoomId;
use alliance_core::schedule::{AttendanceInput, BookingId, SlotInput, clock_text, weekday_code};
use alliance_service::StoredSession;
use alliance_service::bookings::CaseSchedule;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

fn unprocessable(field: &str, message: impl Into<String>) -> ApiError {
    Problem::for_status(StatusCode::UNPROCESSABLE_ENTITY)
        .field(field, message.into())
        .into()
}

fn not_found() -> ApiError {
    Problem::for_status(StatusCode::NOT_FOUND).into()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SlotView {
    pub calendar: String,
    pub room: String,
    pub therapist: String,
    /// monday … friday.
    pub weekday: String,
    /// `HH:MM`, Europe/London.
    pub start: String,
    pub minutes: u16,
    pub from: String,
    pub until: Option<String>,
    pub version: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    pub id: String,
    pub date: String,
    pub start: String,
    /// RFC 3339, UTC.
    pub starts_at: String,
    pub minutes: u16,
    pub room: String,
    pub therapist: String,
    /// Booked by the regular slot (false once moved or added by hand).
    pub regular: bool,
    /// attended, late, did-not-attend, cancelled-by-child-or-family, cancelled-by-school,
    /// cancelled-by-therapist; absent until recorded.
    pub attendance: Option<String>,
    pub late_minutes: Option<u16>,
    pub reason: Option<String>,
    pub version: i64,
}

fn session_view(s: &StoredSession, reason: Option<String>) -> SessionView {
    let b = &s.booking;
    SessionView {
        id: b.id.to_string(),
        date: b.date.to_string(),
        start: clock_text(b.start),
        starts_at: b.starts_at().to_string(),
        minutes: b.minutes,
        room: b.room.to_string(),
        therapist: b.therapist.to_string(),
        regular: s.regular,
        attendance: s.attendance.as_ref().map(|a| a.code().to_owned()),
        late_minutes: s.attendance.as_ref().and_then(|a| a.late_minutes()),
        reason,
        version: s.version.get(),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeView {
    /// slot-set, moved, added, cancelled.
    pub what: String,
    pub session: Option<String>,
    pub by: String,
    pub reason: String,
    pub at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleView {
    pub slot: Option<SlotView>,
    pub sessions: Vec<SessionView>,
    pub changes: Vec<ChangeView>,
    /// Held sessions at the regular time and room, of held sessions: `[numerator, denominator]`.
    pub consistency: Option<[u32; 2]>,
    /// Held sessions of those the child could attend: `[numerator, denominator]`.
    pub attendance: Option<[u32; 2]>,
    /// The next break, with the sessions left before it (open cases with a regular time).
    pub next_break: Option<BreakView>,
    /// The planned ending (the regular time's end date), counted down.
    pub ending: Option<EndingView>,
    pub may_edit: bool,
    /// In the answer to setting the regular slot: a warning when the case's therapy agreement
    /// is not active yet (sessions can be booked; check consent before the work starts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// The next break in the sessions.
#[derive(Debug, Serialize, ToSchema)]
pub struct BreakView {
    /// `YYYY-MM-DD`: the first regular session day that holds no session.
    pub first_day: String,
    /// `Spring half-term`, `School holidays`, …
    pub what: String,
    /// `YYYY-MM-DD`: when sessions resume, if the calendar says.
    pub resumes: Option<String>,
    pub sessions_before: u32,
    /// In words, as the pages show it.
    pub description: String,
}

/// The planned ending.
#[derive(Debug, Serialize, ToSchema)]
pub struct EndingView {
    /// `YYYY-MM-DD`: the last session.
    pub last_day: String,
    pub sessions_left: u32,
    pub counting_down: bool,
    /// Fewer than four sessions' notice.
    pub short_notice: bool,
    pub description: String,
}

fn schedule_view(s: CaseSchedule) -> ScheduleView {
    let next_break = s
        .outlook
        .as_ref()
        .and_then(|o| o.next_break.as_ref())
        .map(|b| BreakView {
            first_day: b.first_day.to_string(),
            what: b.what.clone(),
            resumes: b.resumes.map(|d| d.to_string()),
            sessions_before: b.sessions_before,
            description: b.describe(),
        });
    let ending = s
        .outlook
        .as_ref()
        .and_then(|o| o.ending.as_ref())
        .map(|e| EndingView {
            last_day: e.last_day.to_string(),
            sessions_left: e.sessions_left,
            counting_down: e.counting_down,
            short_notice: e.short_notice,
            description: e.describe(),
        });
    ScheduleView {
        next_break,
        ending,
        slot: s.slot.as_ref().map(|r| SlotView {
            calendar: r.calendar_id.to_string(),
            room: r.room.to_string(),
            therapist: r.therapist.to_string(),
            weekday: weekday_code(r.slot.weekday).to_owned(),
            start: clock_text(r.slot.start),
            minutes: r.slot.minutes,
            from: r.slot.from.to_string(),
            until: r.slot.until.map(|u| u.to_string()),
            version: r.version.get(),
        }),
        sessions: s
            .sessions
            .iter()
            .map(|v| session_view(&v.session, v.reason.clone()))
            .collect(),
        changes: s
            .changes
            .iter()
            .map(|c| ChangeView {
                what: c.change.what.clone(),
                session: c.change.session.map(|x| x.to_string()),
                by: c.change.by.to_string(),
                reason: c.reason.clone(),
                at: c.change.at.to_string(),
            })
            .collect(),
        consistency: s
            .metrics
            .as_ref()
            .map(|m| [m.consistency.numerator, m.consistency.denominator]),
        attendance: s
            .metrics
            .as_ref()
            .map(|m| [m.attendance.numerator, m.attendance.denominator]),
        may_edit: s.may_edit,
        warning: None,
    }
}

fn case_id(raw: &str) -> Result<CaseId, ApiError> {
    CaseId::parse(raw).map_err(|_| not_found())
}

fn session_id(raw: &str) -> Result<BookingId, ApiError> {
    BookingId::parse(raw).map_err(|_| not_found())
}

fn room(raw: &str, field: &str) -> Result<RoomId, ApiError> {
    RoomId::parse(raw).map_err(|m| unprocessable(field, m))
}

/// A case's regular slot, sessions, changes to the frame and its consistency.
#[utoipa::path(
    get,
    path = "/api/v1/cases/{id}/sessions",
    tag = "sessions",
    params(("id" = String, Path, description = "The case's id")),
    responses(
        (status = 200, description = "The schedule", body = ScheduleView),
        (status = 404, description = "No such case, or none the caller may see", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn case_sessions(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Json<ScheduleView>, ApiError> {
    let schedule = state.alliance.case_schedule(&actor, case_id(&id)?).await?;
    Ok(Json(schedule_view(schedule)))
}

/// The regular weekly slot.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SlotBody {
    /// The term calendar to follow; by default the room's school's, or for work in a clinic
    /// the child's school's.
    #[serde(default)]
    pub calendar: Option<String>,
    pub room: String,
    pub weekday: String,
    /// `HH:MM`.
    pub start: String,
    pub minutes: u16,
    /// `YYYY-MM-DD`.
    pub from: String,
    #[serde(default)]
    pub until: Option<String>,
    /// Needed when changing an agreed slot.
    #[serde(default)]
    pub reason: Option<String>,
    /// The slot's version when changing it.
    #[serde(default)]
    pub version: Option<i64>,
}

/// Sets or changes the regular slot and books the term's series (clashes refused by name,
/// with the nearest free alternatives).
#[utoipa::path(
    put,
    path = "/api/v1/cases/{id}/slot",
    tag = "sessions",
    params(("id" = String, Path, description = "The case's id")),
    request_body = SlotBody,
    responses(
        (status = 200, description = "Set, with the sessions booked", body = ScheduleView),
        (status = 403, description = "Not on the case team nor an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such case", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slot changed since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not valid, or it clashes (named, with alternatives)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn set_slot(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SlotBody>,
) -> Result<Json<ScheduleView>, ApiError> {
    let id = case_id(&id)?;
    let calendar = body
        .calendar
        .as_deref()
        .filter(|c| !c.trim().is_empty())
        .map(|c| {
            Uuid::parse_str(c.trim())
                .map_err(|_| unprocessable("calendar", "This is not a calendar id"))
        })
        .transpose()?;
    let room = room(&body.room, "room")?;
    let expected: Option<Version> = body.version.map(version).transpose()?;
    let input = SlotInput {
        weekday: body.weekday.clone(),
        start: body.start.clone(),
        minutes: body.minutes.to_string(),
        from: body.from.clone(),
        until: body.until.clone().unwrap_or_default(),
    };
    state
        .alliance
        .set_regular_slot(
            &actor,
            id,
            calendar,
            room,
            &input,
            body.reason.as_deref().unwrap_or(""),
            expected,
        )
        .await?;
    let schedule = state.alliance.case_schedule(&actor, id).await?;
    let mut view = schedule_view(schedule);
    view.warning = state.alliance.scheduling_warning(id).await?;
    Ok(Json(view))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddBody {
    pub date: String,
    pub start: String,
    pub minutes: u16,
    pub room: String,
    pub reason: String,
}

/// Adds a session by hand (a change to the frame: a reason is needed).
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/sessions",
    tag = "sessions",
    params(("id" = String, Path, description = "The case's id")),
    request_body = AddBody,
    responses(
        (status = 201, description = "Booked", body = SessionView),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such case", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not valid, or it clashes", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn add_session(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AddBody>,
) -> Result<(StatusCode, Json<SessionView>), ApiError> {
    let room = room(&body.room, "room")?;
    let saved = state
        .alliance
        .add_session(
            &actor,
            case_id(&id)?,
            &body.date,
            &body.start,
            &body.minutes.to_string(),
            room,
            &body.reason,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(session_view(&saved, None))))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveBody {
    pub version: i64,
    pub date: String,
    pub start: String,
    pub room: String,
    pub reason: String,
}

/// Moves a session (a change to the frame: a reason is needed).
#[utoipa::path(
    post,
    path = "/api/v1/sessions/{id}/move",
    tag = "sessions",
    params(("id" = String, Path, description = "The session's id")),
    request_body = MoveBody,
    responses(
        (status = 200, description = "Moved", body = SessionView),
        (status = 404, description = "No such session", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not valid, or it clashes", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn move_session(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<MoveBody>,
) -> Result<Json<SessionView>, ApiError> {
    let room = room(&body.room, "room")?;
    let saved = state
        .alliance
        .move_session(
            &actor,
            session_id(&id)?,
            &body.date,
            &body.start,
            room,
            &body.reason,
            version(body.version)?,
        )
        .await?;
    Ok(Json(session_view(&saved, None)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttendanceBody {
    pub version: i64,
    /// attended, late, did-not-attend, cancelled-by-child-or-family, cancelled-by-school,
    /// cancelled-by-therapist.
    pub kind: String,
    #[serde(default)]
    pub late_minutes: Option<u16>,
    #[serde(default)]
    pub reason: Option<String>,
}

/// Records attendance; a cancellation needs a reason and frees the room.
#[utoipa::path(
    post,
    path = "/api/v1/sessions/{id}/attendance",
    tag = "sessions",
    params(("id" = String, Path, description = "The session's id")),
    request_body = AttendanceBody,
    responses(
        (status = 200, description = "Recorded", body = SessionView),
        (status = 404, description = "No such session", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not valid", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn record_attendance(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AttendanceBody>,
) -> Result<Json<SessionView>, ApiError> {
    let input = AttendanceInput {
        kind: body.kind.clone(),
        late_minutes: body.late_minutes.map(|m| m.to_string()).unwrap_or_default(),
        reason: body.reason.clone().unwrap_or_default(),
    };
    let saved = state
        .alliance
        .record_attendance(&actor, session_id(&id)?, &input, version(body.version)?)
        .await?;
    Ok(Json(session_view(&saved, body.reason.clone())))
}
