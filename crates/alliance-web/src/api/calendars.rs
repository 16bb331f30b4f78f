//! Term calendars and the series a weekly slot makes in them.

use super::directory::version;
use crate::AppState;
use crate::auth::Signed;
use crate::extract::ApiJson;
use crate::problem::{ApiError, Problem};
use alliance_core::directory::SiteId;
use alliance_core::error::parse_optional_date;
use alliance_core::schedule::{SlotInput, clock_text, weekday_code};
use alliance_service::StoredCalendar;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
pub struct TermView {
    pub name: String,
    /// `YYYY-MM-DD`, inclusive.
    pub starts: String,
    pub ends: String,
    /// Each `{starts, ends}`.
    pub half_terms: Vec<RangeView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RangeView {
    pub starts: String,
    pub ends: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClosureView {
    /// `inset` or `one-off`.
    pub kind: String,
    pub starts: String,
    pub ends: String,
    pub reason: String,
}

/// A term calendar.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarView {
    pub id: String,
    pub name: String,
    pub site: Option<String>,
    pub terms: Vec<TermView>,
    pub closures: Vec<ClosureView>,
    /// The same calendar as the rows the import reads (CSV), for editing.
    pub rows: String,
    pub version: i64,
}

fn view(c: StoredCalendar) -> CalendarView {
    CalendarView {
        id: c.id.to_string(),
        name: c.calendar.name().to_owned(),
        site: c.site.map(|s| s.to_string()),
        terms: c
            .calendar
            .terms()
            .iter()
            .map(|t| TermView {
                name: t.name.clone(),
                starts: t.starts.to_string(),
                ends: t.ends.to_string(),
                half_terms: t
                    .half_terms
                    .iter()
                    .map(|h| RangeView {
                        starts: h.starts.to_string(),
                        ends: h.ends.to_string(),
                    })
                    .collect(),
            })
            .collect(),
        closures: c
            .calendar
            .closures()
            .iter()
            .map(|x| ClosureView {
                kind: x.kind.code().to_owned(),
                starts: x.starts.to_string(),
                ends: x.ends.to_string(),
                reason: x.reason.clone(),
            })
            .collect(),
        rows: c.calendar.to_csv(),
        version: c.version.get(),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarList {
    pub items: Vec<CalendarView>,
    pub next: Option<String>,
}

/// Every term calendar (a service has a few).
#[utoipa::path(
    get,
    path = "/api/v1/calendars",
    tag = "calendars",
    responses(
        (status = 200, description = "The calendars", body = CalendarList),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list_calendars(
    State(state): State<AppState>,
    Signed(actor): Signed,
) -> Result<Json<CalendarList>, ApiError> {
    let all = state.alliance.list_calendars(&actor).await?;
    Ok(Json(CalendarList {
        items: all.into_iter().map(view).collect(),
        next: None,
    }))
}

/// A calendar's rows: `kind,name,starts,ends,reason` lines (CSV) or an iCalendar file.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarBody {
    pub name: String,
    /// The site whose calendar it is (one per site), if any.
    #[serde(default)]
    pub site: Option<String>,
    pub rows: String,
    /// On updates: the version read.
    #[serde(default)]
    pub version: Option<i64>,
}

fn site(raw: &Option<String>) -> Result<Option<SiteId>, ApiError> {
    raw.as_deref()
        .filter(|s| !s.is_empty())
        .map(SiteId::parse)
        .transpose()
        .map_err(|m| {
            Problem::for_status(StatusCode::UNPROCESSABLE_ENTITY)
                .field("site", m)
                .into()
        })
}

/// A row's problem in a preview.
#[derive(Debug, Serialize, ToSchema)]
pub struct RowProblem {
    /// 1-based line in the text sent.
    pub line: usize,
    pub field: String,
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarPreview {
    /// True when the rows make a calendar that can be saved.
    pub valid: bool,
    pub problems: Vec<RowProblem>,
    pub terms: Vec<TermView>,
}

/// Reads rows without saving anything: every problem named by its line.
#[utoipa::path(
    post,
    path = "/api/v1/calendars/preview",
    tag = "calendars",
    request_body = CalendarBody,
    responses(
        (status = 200, description = "What the rows make, or what is wrong with them", body = CalendarPreview),
        (status = 422, description = "The name or the text itself is not usable", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn preview_calendar(
    State(state): State<AppState>,
    Signed(_actor): Signed,
    ApiJson(body): ApiJson<CalendarBody>,
) -> Result<Json<CalendarPreview>, ApiError> {
    let preview = state.alliance.preview_calendar(&body.name, &body.rows)?;
    let terms = preview
        .calendar
        .as_ref()
        .map(|c| {
            c.terms()
                .iter()
                .map(|t| TermView {
                    name: t.name.clone(),
                    starts: t.starts.to_string(),
                    ends: t.ends.to_string(),
                    half_terms: t
                        .half_terms
                        .iter()
                        .map(|h| RangeView {
                            starts: h.starts.to_string(),
                            ends: h.ends.to_string(),
                        })
                        .collect(),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Json(CalendarPreview {
        valid: preview.errors.is_empty() && preview.calendar.is_some(),
        problems: preview
            .errors
            .iter()
            .map(|e| RowProblem {
                line: e.line,
                field: e.field.clone(),
                message: e.message.clone(),
            })
            .collect(),
        terms,
    }))
}

/// Adds a term calendar (administrators); refused with every row's problem, nothing saved.
#[utoipa::path(
    post,
    path = "/api/v1/calendars",
    tag = "calendars",
    request_body = CalendarBody,
    responses(
        (status = 201, description = "Added", body = CalendarView),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Problems, each as rows[LINE].FIELD", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create_calendar(
    State(state): State<AppState>,
    Signed(actor): Signed,
    ApiJson(body): ApiJson<CalendarBody>,
) -> Result<(StatusCode, Json<CalendarView>), ApiError> {
    let site = site(&body.site)?;
    let saved = state
        .alliance
        .create_calendar(&actor, &body.name, site, &body.rows)
        .await?;
    Ok((StatusCode::CREATED, Json(view(saved))))
}

fn calendar_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| Problem::for_status(StatusCode::NOT_FOUND).into())
}

/// One term calendar.
#[utoipa::path(
    get,
    path = "/api/v1/calendars/{id}",
    tag = "calendars",
    params(("id" = String, Path, description = "The calendar's id")),
    responses(
        (status = 200, description = "The calendar", body = CalendarView),
        (status = 404, description = "No such calendar", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_calendar(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Json<CalendarView>, ApiError> {
    let found = state
        .alliance
        .get_calendar(&actor, calendar_id(&id)?)
        .await?;
    Ok(Json(view(found)))
}

/// Replaces a calendar's name, site and rows at its version (administrators).
#[utoipa::path(
    put,
    path = "/api/v1/calendars/{id}",
    tag = "calendars",
    params(("id" = String, Path, description = "The calendar's id")),
    request_body = CalendarBody,
    responses(
        (status = 200, description = "Changed", body = CalendarView),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Problems, each as rows[LINE].FIELD", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn update_calendar(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CalendarBody>,
) -> Result<Json<CalendarView>, ApiError> {
    let expected = version(body.version.ok_or_else(|| {
        ApiError::from(
            Problem::for_status(StatusCode::UNPROCESSABLE_ENTITY)
                .field("version", "Send the version you read"),
        )
    })?)?;
    let site = site(&body.site)?;
    let saved = state
        .alliance
        .update_calendar(
            &actor,
            calendar_id(&id)?,
            &body.name,
            site,
            &body.rows,
            expected,
        )
        .await?;
    Ok(Json(view(saved)))
}

/// A weekly slot to try against a calendar.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SlotBody {
    /// `monday` … `friday`.
    pub weekday: String,
    /// `HH:MM`, Europe/London.
    pub start: String,
    pub minutes: u16,
    /// `YYYY-MM-DD`.
    pub from: String,
    #[serde(default)]
    pub until: Option<String>,
    #[serde(default)]
    pub planned_end: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlannedView {
    pub date: String,
    /// `HH:MM`, Europe/London (the same wall-clock time all year).
    pub start: String,
    /// RFC 3339, UTC.
    pub starts_at: String,
    pub minutes: u16,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SkippedView {
    pub date: String,
    /// weekend, bank-holiday, half-term, inset, closure, outside-term.
    pub why: String,
    pub label: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SeriesView {
    pub weekday: String,
    pub term: Option<String>,
    pub sessions: Vec<PlannedView>,
    pub skipped: Vec<SkippedView>,
}

/// The sessions a weekly slot makes in the calendar's term, and every day left out with why.
/// Nothing is booked.
#[utoipa::path(
    post,
    path = "/api/v1/calendars/{id}/series",
    tag = "calendars",
    params(("id" = String, Path, description = "The calendar's id")),
    request_body = SlotBody,
    responses(
        (status = 200, description = "The series", body = SeriesView),
        (status = 404, description = "No such calendar", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The slot is not valid (a 25-hour session, outside every term…)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn preview_series(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SlotBody>,
) -> Result<Json<SeriesView>, ApiError> {
    let planned_end =
        parse_optional_date(body.planned_end.as_deref().unwrap_or("")).map_err(|m| {
            ApiError::from(
                Problem::for_status(StatusCode::UNPROCESSABLE_ENTITY).field("planned_end", m),
            )
        })?;
    let input = SlotInput {
        weekday: body.weekday.clone(),
        start: body.start.clone(),
        minutes: body.minutes.to_string(),
        from: body.from.clone(),
        until: body.until.clone().unwrap_or_default(),
    };
    let (slot, series) = state
        .alliance
        .preview_series(&actor, calendar_id(&id)?, &input, planned_end)
        .await?;
    Ok(Json(SeriesView {
        weekday: weekday_code(slot.weekday).to_owned(),
        term: series.term.clone(),
        sessions: series
            .sessions
            .iter()
            .map(|s| PlannedView {
                date: s.date.to_string(),
                start: clock_text(s.start),
                starts_at: s.starts_at().to_string(),
                minutes: s.minutes,
            })
            .collect(),
        skipped: series
            .skipped
            .iter()
            .map(|(d, why)| SkippedView {
                date: d.to_string(),
                why: why.code().to_owned(),
                label: why.label(),
            })
            .collect(),
    }))
}
