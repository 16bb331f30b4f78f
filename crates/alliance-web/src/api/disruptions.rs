//! Disruptions to sessions (issue 16): a session's disruptions, logging one (the session's
//! therapist or whoever may write the child's schedule; anyone else gets 404), withdrawing
//! one's own, the report per site and room over a period (administrators and the service lead
//! all sessions, a therapist their own, nobody else), and a room's "Session in progress"
//! sign times (no names). The same use-cases, rules and audit as the pages.

use super::directory::not_found;
use crate::AppState;
use crate::auth::Signed;
use crate::extract::{ApiJson, ApiQuery};
use crate::problem::{ApiError, Problem};
use alliance_core::directory::{RoomId, SiteId};
use alliance_core::disruptions::{DisruptionId, Figures};
use alliance_core::schedule::BookingId;
use alliance_service::disruptions::{DisruptionInput, DisruptionView};
use alliance_service::store::StoredDisruption;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Registers this area's routes (each with `routes!`, so each is documented).
pub(crate) fn register(router: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    router
        .routes(routes!(session_disruptions, log_disruption))
        .routes(routes!(withdraw_disruption))
        .routes(routes!(disruption_report))
        .routes(routes!(room_sign))
}

fn booking_id(raw: &str) -> Result<BookingId, ApiError> {
    BookingId::parse(raw).map_err(|_| not_found())
}

/// A disruption: a room and a session, never a child.
#[derive(Debug, Serialize, ToSchema)]
pub struct DisruptionApiView {
    pub id: String,
    pub session_id: String,
    pub room_id: String,
    pub site_id: String,
    /// The session's date, `YYYY-MM-DD`.
    pub date: String,
    /// `knock`, `noise`, `alarm`, `room`, `cut-short`, `phone` or `other`.
    pub kind: String,
    pub kind_label: String,
    pub minutes: u16,
    pub note: Option<String>,
    pub logged_by: String,
    /// RFC 3339, UTC.
    pub logged_at: String,
    pub withdrawn: bool,
    pub withdrawn_at: Option<String>,
    /// The caller logged it and it stands.
    pub may_withdraw: bool,
}

fn stored_view(d: &StoredDisruption, logged_by: String, may_withdraw: bool) -> DisruptionApiView {
    DisruptionApiView {
        id: d.id.to_string(),
        session_id: d.session.to_string(),
        room_id: d.room.to_string(),
        site_id: d.site.to_string(),
        date: d.date.to_string(),
        kind: d.kind.code().to_owned(),
        kind_label: d.kind.label().to_owned(),
        minutes: d.minutes,
        note: d.note.clone(),
        logged_by,
        logged_at: d.logged_at.to_string(),
        withdrawn: d.withdrawn_at.is_some(),
        withdrawn_at: d.withdrawn_at.map(|t| t.to_string()),
        may_withdraw,
    }
}

fn view(d: DisruptionView) -> DisruptionApiView {
    stored_view(&d.stored, d.logged_by, d.may_withdraw)
}

/// A session's disruptions, with where and when it is.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionDisruptionsView {
    pub session_id: String,
    pub date: String,
    /// `HH:MM`, Europe/London.
    pub start: String,
    pub minutes: u16,
    pub room_id: String,
    pub room_name: String,
    pub site_id: String,
    pub site_name: String,
    /// Oldest first, withdrawn ones too.
    pub disruptions: Vec<DisruptionApiView>,
}

/// A session's disruptions (its therapist, or whoever may write the child's schedule).
#[utoipa::path(
    get,
    path = "/api/v1/sessions/{id}/disruptions",
    tag = "disruptions",
    params(("id" = String, Path, description = "The session's booking id")),
    responses(
        (status = 200, description = "The session and its disruptions", body = SessionDisruptionsView),
        (status = 404, description = "No such session, or the caller may not log its disruptions (audited)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn session_disruptions(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Json<SessionDisruptionsView>, ApiError> {
    let found = state
        .alliance
        .session_disruptions(&actor, booking_id(&id)?)
        .await?;
    Ok(Json(SessionDisruptionsView {
        session_id: found.session.to_string(),
        date: found.date.to_string(),
        start: found.start.strftime("%H:%M").to_string(),
        minutes: found.minutes,
        room_id: found.room.to_string(),
        room_name: found.room_name,
        site_id: found.site.to_string(),
        site_name: found.site_name,
        disruptions: found.disruptions.into_iter().map(view).collect(),
    }))
}

/// A disruption to log.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisruptionBody {
    /// `knock`, `noise`, `alarm`, `room`, `cut-short`, `phone` or `other`.
    pub kind: String,
    /// Minutes lost, 0 to 240 (2 when left out).
    #[serde(default)]
    pub minutes: Option<u16>,
    /// At most 200 characters, plain; do not name children.
    #[serde(default)]
    pub note: Option<String>,
}

/// Logs a disruption to a session.
#[utoipa::path(
    post,
    path = "/api/v1/sessions/{id}/disruptions",
    tag = "disruptions",
    params(("id" = String, Path, description = "The session's booking id")),
    request_body = DisruptionBody,
    responses(
        (status = 201, description = "Logged", body = DisruptionApiView),
        (status = 403, description = "A read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session, or the caller may not log its disruptions (audited)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The kind, the minutes or the note is not valid (`kind`, `minutes`, `note`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn log_disruption(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DisruptionBody>,
) -> Result<(StatusCode, Json<DisruptionApiView>), ApiError> {
    let stored = state
        .alliance
        .log_disruption(
            &actor,
            booking_id(&id)?,
            &DisruptionInput {
                kind: body.kind,
                minutes: body.minutes.map(|m| m.to_string()).unwrap_or_default(),
                note: body.note.unwrap_or_default(),
            },
        )
        .await?;
    let name = actor.user.display_name.clone();
    Ok((StatusCode::CREATED, Json(stored_view(&stored, name, true))))
}

/// Withdraws a disruption the caller logged by mistake: kept, marked withdrawn, left out of
/// the report.
#[utoipa::path(
    post,
    path = "/api/v1/disruptions/{id}/withdraw",
    tag = "disruptions",
    params(("id" = String, Path, description = "The disruption's id")),
    responses(
        (status = 200, description = "Withdrawn", body = DisruptionApiView),
        (status = 403, description = "Not the caller's own, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such disruption, or its session is not the caller's (audited)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already withdrawn", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn withdraw_disruption(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Json<DisruptionApiView>, ApiError> {
    let id = DisruptionId::parse(&id).map_err(|_| not_found())?;
    let stored = state.alliance.withdraw_disruption(&actor, id).await?;
    let name = actor.user.display_name.clone();
    Ok(Json(stored_view(&stored, name, false)))
}

/// The report's period and site.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportParams {
    /// The first day (`YYYY-MM-DD` or `31/12/2026`); 27 days before `until` when absent.
    pub from: Option<String>,
    /// The last day; today when absent.
    pub until: Option<String>,
    /// One site's id; every site when absent.
    pub site: Option<String>,
}

/// Count and minutes lost for one kind.
#[derive(Debug, Serialize, ToSchema)]
pub struct KindFiguresView {
    pub kind: String,
    pub label: String,
    pub count: u32,
    pub minutes: u32,
}

/// The figures of a room or a site.
#[derive(Debug, Serialize, ToSchema)]
pub struct FiguresView {
    pub by_kind: Vec<KindFiguresView>,
    pub count: u32,
    pub minutes: u32,
    pub sessions_held: u32,
    pub sessions_disrupted: u32,
    /// In tenths of a per cent: 333 is 33.3%.
    pub share_disrupted_tenths: u32,
    /// The kind with the most disruptions, if any.
    pub top_cause: Option<String>,
}

pub(crate) fn figures_view(f: &Figures) -> FiguresView {
    FiguresView {
        by_kind: f
            .by_kind
            .iter()
            .map(|(k, kf)| KindFiguresView {
                kind: k.code().to_owned(),
                label: k.label().to_owned(),
                count: kf.count,
                minutes: kf.minutes,
            })
            .collect(),
        count: f.count,
        minutes: f.minutes,
        sessions_held: f.sessions_held,
        sessions_disrupted: f.sessions_disrupted,
        share_disrupted_tenths: f.share_tenths(),
        top_cause: f.top_cause.map(|k| k.code().to_owned()),
    }
}

/// A room's line.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoomReportView {
    pub room_id: String,
    pub name: String,
    pub figures: FiguresView,
}

/// A site's part.
#[derive(Debug, Serialize, ToSchema)]
pub struct SiteReportView {
    pub site_id: String,
    pub name: String,
    pub figures: FiguresView,
    pub rooms: Vec<RoomReportView>,
}

/// The report: no child anywhere.
#[derive(Debug, Serialize, ToSchema)]
pub struct DisruptionReportView {
    pub from: String,
    pub until: String,
    pub site: Option<String>,
    /// Only the caller's own sessions (a therapist).
    pub own_sessions_only: bool,
    pub sites: Vec<SiteReportView>,
}

/// Disruptions per site and room over a period: count and minutes lost by kind, sessions
/// held and the share disrupted, the top cause. Administrators and the service lead see every
/// session; a therapist only their own; anyone else is refused. Audited as read.
#[utoipa::path(
    get,
    path = "/api/v1/disruptions/report",
    tag = "disruptions",
    params(ReportParams),
    responses(
        (status = 200, description = "The report", body = DisruptionReportView),
        (status = 403, description = "Not for the caller's roles", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The period is not valid (`from`, `until`) or the site unknown (`site`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn disruption_report(
    State(state): State<AppState>,
    Signed(actor): Signed,
    ApiQuery(params): ApiQuery<ReportParams>,
) -> Result<Json<DisruptionReportView>, ApiError> {
    let (from, until) = state.alliance.report_period(
        params.from.as_deref().unwrap_or_default(),
        params.until.as_deref().unwrap_or_default(),
    )?;
    let site = match params
        .site
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(raw) => Some(SiteId::parse(raw).map_err(|m| {
            ApiError::from(Problem::for_status(StatusCode::UNPROCESSABLE_ENTITY).field("site", m))
        })?),
        None => None,
    };
    let report = state
        .alliance
        .disruption_report(&actor, from, until, site)
        .await?;
    Ok(Json(DisruptionReportView {
        from: report.from.to_string(),
        until: report.until.to_string(),
        site: report.site.map(|s| s.to_string()),
        own_sessions_only: report.own_sessions_only,
        sites: report
            .sites
            .iter()
            .map(|s| SiteReportView {
                site_id: s.site.to_string(),
                name: s.name.clone(),
                figures: figures_view(&s.figures),
                rooms: s
                    .rooms
                    .iter()
                    .map(|r| RoomReportView {
                        room_id: r.room.to_string(),
                        name: r.name.clone(),
                        figures: figures_view(&r.figures),
                    })
                    .collect(),
            })
            .collect(),
    }))
}

/// Which week.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SignParams {
    /// Any day of the week (`YYYY-MM-DD` or `31/12/2026`); this week when absent.
    pub week: Option<String>,
}

/// One day's session times on the sign.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignDay {
    pub date: String,
    /// `HH:MM-HH:MM`, Europe/London.
    pub times: Vec<String>,
}

/// A room's sign: the room, its site and its therapy session times; never a name.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoomSignView {
    pub room_id: String,
    pub room_name: String,
    pub site_name: String,
    /// The Monday.
    pub week: String,
    pub days: Vec<SignDay>,
}

/// The times a room is in use for therapy in a week, for its "Session in progress" sign
/// (everyone who works here).
#[utoipa::path(
    get,
    path = "/api/v1/rooms/{id}/sign",
    tag = "disruptions",
    params(("id" = String, Path, description = "The room's id"), SignParams),
    responses(
        (status = 200, description = "The sign's content", body = RoomSignView),
        (status = 404, description = "No such room", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The week is not a date (`week`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn room_sign(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<SignParams>,
) -> Result<Json<RoomSignView>, ApiError> {
    let id = RoomId::parse(&id).map_err(|_| not_found())?;
    let week = match params
        .week
        .as_deref()
        .map(str::trim)
        .filter(|w| !w.is_empty())
    {
        Some(raw) => alliance_service::Alliance::parse_day(raw).map_err(|_| {
            ApiError::from(
                Problem::for_status(StatusCode::UNPROCESSABLE_ENTITY)
                    .field("week", "Enter a date, like 31/12/2026"),
            )
        })?,
        None => state.alliance.today(),
    };
    let sign = state.alliance.room_sign(&actor, id, week).await?;
    Ok(Json(RoomSignView {
        room_id: sign.room.id.to_string(),
        room_name: sign.room.details.name.clone(),
        site_name: sign.site.details.name.clone(),
        week: sign.week.to_string(),
        days: sign
            .days
            .iter()
            .map(|(d, times)| SignDay {
                date: d.to_string(),
                times: times
                    .iter()
                    .map(|(a, b)| format!("{}-{}", a.strftime("%H:%M"), b.strftime("%H:%M")))
                    .collect(),
            })
            .collect(),
    }))
}
