//! The API of issue 17 (feedback, helper B): the child's kiosk link for a session (for a
//! second device), its withdrawal, the therapist's rating of a session, a child's feedback,
//! and the service's feedback settings. The same use-cases, rules and audit as the pages.

use std::collections::BTreeMap;

use super::directory::{not_found, version};
use crate::AppState;
use crate::auth::Signed;
use crate::extract::ApiJson;
use crate::pages::feeds::feed_links;
use crate::problem::{ApiError, Problem};
use alliance_core::children::ChildId;
use alliance_core::feedback::{FeedbackSettings, Shown};
use alliance_core::schedule::BookingId;
use alliance_service::feedback::ResponseView;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// Registers this area's routes (each with `routes!`, so each is documented).
pub(crate) fn register(router: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    router
        .routes(routes!(create_kiosk_link))
        .routes(routes!(revoke_kiosk_link))
        .routes(routes!(rate_session))
        .routes(routes!(child_feedback))
        .routes(routes!(get_settings, put_settings))
}

fn session_id(raw: &str) -> Result<BookingId, ApiError> {
    BookingId::parse(raw).map_err(|_| not_found())
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KioskLinkBody {
    /// The child measure, as `id@version` (`alliance-checkin-young@1`); absent: the default
    /// for the child's age.
    #[serde(default)]
    pub measure: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KioskLinkView {
    pub id: String,
    /// The address to open on the child's device. Shown this once: only its hash is kept.
    /// Opening it spends nothing; the child's submitted answers spend it.
    pub url: String,
    /// `id@version` of the measure the child answers.
    pub measure: String,
    /// RFC 3339, UTC.
    pub expires_at: String,
}

/// Makes the child's single-use kiosk link for a session, to open on a second device (the
/// session's own therapist, who may write the child's clinical record). Expires after the
/// service's kiosk minutes (default 120).
#[utoipa::path(
    post,
    path = "/api/v1/sessions/{id}/feedback-links",
    tag = "sessions",
    params(("id" = String, Path, description = "The session's (booking's) id")),
    request_body = KioskLinkBody,
    responses(
        (status = 201, description = "Made; the address is in `url`", body = KioskLinkView),
        (status = 403, description = "A read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session, or not the caller's own session with a child whose record they write (audited)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`measure` is not a child measure that suits the child's age", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create_kiosk_link(
    State(state): State<AppState>,
    Signed(actor): Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<KioskLinkBody>,
) -> Result<(StatusCode, Json<KioskLinkView>), ApiError> {
    let (link, token) = state
        .alliance
        .create_kiosk_link(&actor, session_id(&id)?, body.measure.as_deref())
        .await?;
    let url = feed_links(&state, &headers, &format!("/kiosk/{token}")).url;
    Ok((
        StatusCode::CREATED,
        Json(KioskLinkView {
            id: link.id.to_string(),
            url,
            measure: format!("{}@{}", link.measure_id, link.measure_version),
            expires_at: link.expires_at.to_string(),
        }),
    ))
}

/// Withdraws a kiosk link before it is used: its address answers 404 from now on.
#[utoipa::path(
    delete,
    path = "/api/v1/sessions/{id}/feedback-links/{link}",
    tag = "sessions",
    params(
        ("id" = String, Path, description = "The session's (booking's) id"),
        ("link" = String, Path, description = "The link's id"),
    ),
    responses(
        (status = 204, description = "Withdrawn"),
        (status = 403, description = "A read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session or link, or not the caller's own session (audited)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Already used or withdrawn", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn revoke_kiosk_link(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path((id, link)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let link = Uuid::parse_str(link.trim()).map_err(|_| not_found())?;
    state
        .alliance
        .revoke_feedback_link(&actor, Some(session_id(&id)?), link)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingBody {
    /// Item id to the value chosen (`{"bond": 3, "goals": 2, ...}`).
    pub answers: BTreeMap<String, i32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedView {
    pub id: String,
}

/// The therapist's rating of a session (the session's own therapist). Each rating is kept;
/// the newest stands.
#[utoipa::path(
    post,
    path = "/api/v1/sessions/{id}/rating",
    tag = "sessions",
    params(("id" = String, Path, description = "The session's (booking's) id")),
    request_body = RatingBody,
    responses(
        (status = 201, description = "Recorded", body = CreatedView),
        (status = 403, description = "A read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session, or not the caller's own session (audited)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An item the rating does not ask, or a value it does not offer (each named)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn rate_session(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RatingBody>,
) -> Result<(StatusCode, Json<CreatedView>), ApiError> {
    let raw: BTreeMap<String, String> = body
        .answers
        .into_iter()
        .map(|(k, v)| (k, v.to_string()))
        .collect();
    let id = state
        .alliance
        .rate_session(&actor, session_id(&id)?, &raw)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedView { id: id.to_string() }),
    ))
}

/// A score as shown: the total, or why it was not scored (never 0 in its place).
#[derive(Debug, Serialize, ToSchema)]
pub struct ScoreView {
    pub total: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub not_scored: Option<String>,
}

fn score_view(shown: &Shown) -> ScoreView {
    match shown {
        Shown::Scored { total, min, max } => ScoreView {
            total: Some(*total),
            min: min.is_finite().then_some(*min),
            max: max.is_finite().then_some(*max),
            not_scored: None,
        },
        Shown::NotScored(why) => ScoreView {
            total: None,
            min: None,
            max: None,
            not_scored: Some(why.clone()),
        },
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResponseApiView {
    pub id: String,
    /// `child`, `carer` or `therapist`.
    pub respondent: String,
    pub session_id: Option<String>,
    /// `id@version`.
    pub measure: String,
    pub measure_name: String,
    /// The attribution the measure's licence requires.
    pub attribution: Option<String>,
    /// RFC 3339, UTC.
    pub given_at: String,
    /// Item id to the value chosen.
    pub answers: BTreeMap<String, i32>,
    pub score: ScoreView,
    /// The cut-off that flags the total, with its source.
    pub flagged: Option<String>,
}

fn response_view(r: &ResponseView) -> ResponseApiView {
    ResponseApiView {
        id: r.id.to_string(),
        respondent: r.respondent.as_str().to_owned(),
        session_id: r.session.map(|s| s.to_string()),
        measure: r.measure_key.clone(),
        measure_name: r.measure_name.clone(),
        attribution: r.attribution.clone(),
        given_at: r.given_at.to_string(),
        answers: r.content.answers.clone(),
        score: score_view(&r.shown),
        flagged: r.flagged.clone(),
    }
}

/// One session: the child's score and the therapist's rating, each on its own (never one
/// blended number).
#[derive(Debug, Serialize, ToSchema)]
pub struct PairView {
    pub session_id: Option<String>,
    /// `YYYY-MM-DD` (London).
    pub date: String,
    pub child: Option<ScoreView>,
    pub therapist: Option<ScoreView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChildFeedbackView {
    pub child_id: String,
    /// The child's name, or initials for a pseudonymised reader.
    pub child: String,
    /// Self-report is unreliable at this child's age for their measure: read the child's
    /// score beside the therapist's rating.
    pub self_report_caution: bool,
    pub caution: Option<String>,
    /// Oldest first.
    pub side_by_side: Vec<PairView>,
    /// Oldest first: every response the caller may see (a parent-worker: carers' only).
    pub responses: Vec<ResponseApiView>,
}

/// A child's feedback: the responses the caller may see, and the child's score beside the
/// therapist's rating session by session. Each response opened is audited.
#[utoipa::path(
    get,
    path = "/api/v1/children/{id}/feedback",
    tag = "children",
    params(("id" = String, Path, description = "The child's id")),
    responses(
        (status = 200, description = "The feedback the caller may see", body = ChildFeedbackView),
        (status = 404, description = "No such child, or the caller may not see their measures (audited)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn child_feedback(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Json<ChildFeedbackView>, ApiError> {
    let child = ChildId::parse(&id).map_err(|_| not_found())?;
    let view = state.alliance.child_feedback(&actor, child).await?;
    Ok(Json(ChildFeedbackView {
        child_id: view.child.to_string(),
        child: view.child_shown.clone(),
        self_report_caution: view.caution,
        caution: view
            .caution
            .then(|| alliance_core::feedback::CAUTION.to_owned()),
        side_by_side: view
            .side_by_side
            .iter()
            .map(|row| PairView {
                session_id: row.session.map(|s| s.to_string()),
                date: row.date.to_string(),
                child: row.child.as_ref().map(|(_, s)| score_view(s)),
                therapist: row.therapist.as_ref().map(|(_, s)| score_view(s)),
            })
            .collect(),
        responses: view.responses.iter().map(response_view).collect(),
    }))
}

/// How long feedback links last.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackSettingsView {
    /// The child's kiosk link, in minutes (10 to 480; 120 by default).
    pub kiosk_minutes: u32,
    /// A carer's link, in days (1 to 28; 7 by default).
    pub carer_link_days: u32,
    /// The settings' version, for updates; absent while the defaults stand.
    #[serde(default)]
    pub version: Option<i64>,
}

fn settings_view(s: &FeedbackSettings, v: Option<alliance_core::Version>) -> FeedbackSettingsView {
    FeedbackSettingsView {
        kiosk_minutes: s.kiosk_minutes,
        carer_link_days: s.carer_link_days,
        version: v.map(|v| v.get()),
    }
}

/// The service's feedback settings (administrators).
#[utoipa::path(
    get,
    path = "/api/v1/service/feedback-settings",
    tag = "service",
    responses(
        (status = 200, description = "The settings", body = FeedbackSettingsView),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_settings(
    State(state): State<AppState>,
    Signed(actor): Signed,
) -> Result<Json<FeedbackSettingsView>, ApiError> {
    let (settings, v) = state.alliance.read_feedback_settings(&actor).await?;
    Ok(Json(settings_view(&settings, v)))
}

/// Changes the feedback settings (administrators). Send the version you read, or none while
/// the defaults stand; a stale one is refused with 409.
#[utoipa::path(
    put,
    path = "/api/v1/service/feedback-settings",
    tag = "service",
    request_body = FeedbackSettingsView,
    responses(
        (status = 200, description = "Changed", body = FeedbackSettingsView),
        (status = 403, description = "Not an administrator, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed by someone else since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A figure is out of bounds (each is named)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn put_settings(
    State(state): State<AppState>,
    Signed(actor): Signed,
    ApiJson(body): ApiJson<FeedbackSettingsView>,
) -> Result<Json<FeedbackSettingsView>, ApiError> {
    let expected = body.version.map(version).transpose()?;
    state
        .alliance
        .set_feedback_settings(
            &actor,
            FeedbackSettings {
                kiosk_minutes: body.kiosk_minutes,
                carer_link_days: body.carer_link_days,
            },
            expected,
        )
        .await?;
    let (settings, v) = state.alliance.feedback_settings().await?;
    Ok(Json(settings_view(&settings, v)))
}
