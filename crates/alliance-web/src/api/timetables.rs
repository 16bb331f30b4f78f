//! Timetables as JSON: a therapist's week, a room's week and a site's day. A booking names its
//! child (`child`) only for a caller the access rules let know that child; for anyone else it
//! is a booked time with no session, case or child id.

use crate::AppState;
use crate::auth::Signed;
use crate::extract::ApiQuery;
use crate::problem::{ApiError, Problem};
use alliance_core::directory::{RoomId, SiteId};
use alliance_core::frame::FrameOutlook;
use alliance_core::identity::UserId;
use alliance_core::schedule::clock_text;
use alliance_service::timetables::{
    CaseOutlook, ChildShown, RoomDay, RoomWeek, SiteDay, TherapistWeek, TimetableDay,
    TimetableEntry,
};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

fn not_found() -> ApiError {
    Problem::for_status(StatusCode::NOT_FOUND).into()
}

/// Which week.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WeekParams {
    /// Any day of the week (`YYYY-MM-DD`, or `31/12/2026`), snapped to its Monday; this week
    /// when absent.
    pub week: Option<String>,
}

/// Which day.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DayParams {
    /// The day (`YYYY-MM-DD`, or `31/12/2026`); today when absent.
    pub date: Option<String>,
}

/// The child a booking is for, shown only to a caller who may know them.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimetableChild {
    pub child: String,
    pub case: String,
    /// `C00042`.
    pub case_number: String,
    /// Absent for a caller who sees children only by initials and case number.
    pub name: Option<String>,
    pub initials: String,
}

fn child_view(c: &ChildShown) -> TimetableChild {
    TimetableChild {
        child: c.child_id.to_string(),
        case: c.case_id.to_string(),
        case_number: c.case_number.clone(),
        name: c.name.clone(),
        initials: c.initials.clone(),
    }
}

/// One booking.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimetableBooking {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// `HH:MM`, Europe/London.
    pub start: String,
    /// `HH:MM`, Europe/London.
    pub ends: String,
    /// RFC 3339, UTC.
    pub starts_at: String,
    pub minutes: u16,
    pub room: String,
    pub room_name: String,
    pub site: String,
    pub site_name: String,
    pub therapist: String,
    pub therapist_name: String,
    /// `booked`, `attended`, `did-not-attend` or `cancelled`. A caller who may not know the
    /// child sees only `booked` or `cancelled`.
    pub state: String,
    /// Absent unless the caller may know the child.
    pub child: Option<TimetableChild>,
}

fn booking_view(e: &TimetableEntry) -> TimetableBooking {
    TimetableBooking {
        date: e.date.to_string(),
        start: clock_text(e.start),
        ends: clock_text(e.ends),
        starts_at: alliance_core::schedule::wall_clock(e.date, e.start).to_string(),
        minutes: e.minutes,
        room: e.room.to_string(),
        room_name: e.room_name.clone(),
        site: e.site.to_string(),
        site_name: e.site_name.clone(),
        therapist: e.therapist.to_string(),
        therapist_name: e.therapist_name.clone(),
        state: e.state.code().to_owned(),
        child: e.child.as_ref().map(child_view),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TimetableDayView {
    pub date: String,
    /// `Monday` … `Sunday`.
    pub weekday: String,
    pub bookings: Vec<TimetableBooking>,
}

fn days_view(days: &[TimetableDay]) -> Vec<TimetableDayView> {
    days.iter()
        .map(|d| TimetableDayView {
            date: d.date.to_string(),
            weekday: alliance_core::schedule::weekday_label(d.date.weekday()).to_owned(),
            bookings: d.entries.iter().map(booking_view).collect(),
        })
        .collect()
}

/// A case's next break and planned ending.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutlookView {
    pub child: TimetableChild,
    /// `{first_day, what, resumes, sessions_before, last_session_before}`, if a break is ahead.
    #[schema(value_type = Option<Object>)]
    pub next_break: Option<alliance_core::frame::BreakAhead>,
    /// `{last_day, sessions_left, counting_down, short_notice}`, if an ending is planned.
    #[schema(value_type = Option<Object>)]
    pub ending: Option<alliance_core::frame::EndingAhead>,
}

fn outlook_view(o: &CaseOutlook) -> OutlookView {
    let FrameOutlook { next_break, ending } = o.outlook.clone();
    OutlookView {
        child: child_view(&o.child),
        next_break,
        ending,
    }
}

/// A therapist's week.
#[derive(Debug, Serialize, ToSchema)]
pub struct TherapistWeekView {
    pub therapist: String,
    pub therapist_name: String,
    /// The Monday.
    pub week: String,
    /// Monday to Friday, and the weekend when booked.
    pub days: Vec<TimetableDayView>,
    /// One per case in the week whose child the caller may know.
    pub outlooks: Vec<OutlookView>,
}

impl From<TherapistWeek> for TherapistWeekView {
    fn from(w: TherapistWeek) -> Self {
        Self {
            therapist: w.therapist.to_string(),
            therapist_name: w.therapist_name,
            week: w.monday.to_string(),
            days: days_view(&w.days),
            outlooks: w.outlooks.iter().map(outlook_view).collect(),
        }
    }
}

/// A room's week.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoomWeekView {
    pub room: String,
    pub room_name: String,
    pub site: String,
    pub site_name: String,
    /// The Monday.
    pub week: String,
    pub days: Vec<TimetableDayView>,
}

impl From<RoomWeek> for RoomWeekView {
    fn from(w: RoomWeek) -> Self {
        Self {
            room: w.room.id.to_string(),
            room_name: w.room.details.name,
            site: w.site.id.to_string(),
            site_name: w.site.details.name,
            week: w.monday.to_string(),
            days: days_view(&w.days),
        }
    }
}

/// A room's bookings on the day.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoomDayView {
    pub room: String,
    pub room_name: String,
    pub active: bool,
    pub bookings: Vec<TimetableBooking>,
}

/// A site's day.
#[derive(Debug, Serialize, ToSchema)]
pub struct SiteDayView {
    pub site: String,
    pub site_name: String,
    pub date: String,
    /// `Monday` … `Sunday`.
    pub weekday: String,
    /// Every room in use, and any other with a booking that day, by name.
    pub rooms: Vec<RoomDayView>,
}

impl From<SiteDay> for SiteDayView {
    fn from(d: SiteDay) -> Self {
        let room = |r: &RoomDay| RoomDayView {
            room: r.room.id.to_string(),
            room_name: r.room.details.name.clone(),
            active: r.room.active,
            bookings: r.entries.iter().map(booking_view).collect(),
        };
        Self {
            site: d.site.id.to_string(),
            site_name: d.site.details.name.clone(),
            date: d.date.to_string(),
            weekday: alliance_core::schedule::weekday_label(d.date.weekday()).to_owned(),
            rooms: d.rooms.iter().map(room).collect(),
        }
    }
}

/// The caller's own week.
#[utoipa::path(
    get,
    path = "/api/v1/timetables/me",
    tag = "timetables",
    params(WeekParams),
    responses(
        (status = 200, description = "The week", body = TherapistWeekView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The week is not a date", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn my_week(
    State(state): State<AppState>,
    Signed(actor): Signed,
    ApiQuery(params): ApiQuery<WeekParams>,
) -> Result<Json<TherapistWeekView>, ApiError> {
    let monday = state.alliance.week_named(params.week.as_deref(), "week")?;
    let week = state
        .alliance
        .therapist_week(&actor, actor.user.id, monday)
        .await?;
    Ok(Json(week.into()))
}

/// A therapist's week: each booking names its child only if the caller may know the child.
#[utoipa::path(
    get,
    path = "/api/v1/timetables/therapists/{id}",
    tag = "timetables",
    params(("id" = String, Path, description = "The therapist's user id"), WeekParams),
    responses(
        (status = 200, description = "The week", body = TherapistWeekView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The week is not a date", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn therapist_week(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<WeekParams>,
) -> Result<Json<TherapistWeekView>, ApiError> {
    let id = UserId::parse(&id).map_err(|_| not_found())?;
    let monday = state.alliance.week_named(params.week.as_deref(), "week")?;
    let week = state.alliance.therapist_week(&actor, id, monday).await?;
    Ok(Json(week.into()))
}

/// A room's week: each booking names its child only if the caller may know the child.
#[utoipa::path(
    get,
    path = "/api/v1/timetables/rooms/{id}",
    tag = "timetables",
    params(("id" = String, Path, description = "The room's id"), WeekParams),
    responses(
        (status = 200, description = "The week", body = RoomWeekView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such room", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The week is not a date", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn room_week(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<WeekParams>,
) -> Result<Json<RoomWeekView>, ApiError> {
    let id = RoomId::parse(&id).map_err(|_| not_found())?;
    let monday = state.alliance.week_named(params.week.as_deref(), "week")?;
    let week = state.alliance.room_week(&actor, id, monday).await?;
    Ok(Json(week.into()))
}

/// A site's day, room by room: each booking names its child only if the caller may know the
/// child.
#[utoipa::path(
    get,
    path = "/api/v1/timetables/sites/{id}",
    tag = "timetables",
    params(("id" = String, Path, description = "The site's id"), DayParams),
    responses(
        (status = 200, description = "The day", body = SiteDayView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such site", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The date is not a date", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn site_day(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<DayParams>,
) -> Result<Json<SiteDayView>, ApiError> {
    let id = SiteId::parse(&id).map_err(|_| not_found())?;
    let date = state.alliance.day_named(params.date.as_deref(), "date")?;
    let day = state.alliance.site_day(&actor, id, date).await?;
    Ok(Json(day.into()))
}
