//! The API of issue 17 (helper C): the child's own goals (goal-based outcomes) and carers'
//! feedback links, with the same use-cases, rules and audit as the pages. Goals are clinical
//! record: the lead, co-worker and cover write; a supervisor reads them (the child shown by
//! initials); everyone else gets 404, audited. Rewording and closing carry the goal's
//! version (a stale one is refused: 409).

use super::directory::{not_found, version};
use crate::AppState;
use crate::auth::Signed;
use crate::extract::ApiJson;
use crate::problem::{ApiError, Problem};
use alliance_core::children::ChildId;
use alliance_core::goals::{GoalId, GoalInput};
use alliance_core::schedule::BookingId;
use alliance_service::goals::{GoalView, RatingInput};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Registers this area's routes (each with `routes!`, so each is documented).
pub(crate) fn register(router: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    router
        .routes(routes!(list_goals, add_goal))
        .routes(routes!(rate_goals))
        .routes(routes!(reword_goal))
        .routes(routes!(close_goal))
        .routes(routes!(carer_feedback_list, create_carer_link))
        .routes(routes!(withdraw_carer_link))
}

fn child_id(raw: &str) -> Result<ChildId, ApiError> {
    ChildId::parse(raw).map_err(|_| not_found())
}

fn goal_id(raw: &str) -> Result<GoalId, ApiError> {
    GoalId::parse(raw).map_err(|_| not_found())
}

/// One rating of a goal.
#[derive(Debug, Serialize, ToSchema)]
pub struct RatingView {
    /// 0 (not started) to 10 (reached).
    pub value: u8,
    /// `child` or `child-with-therapist`.
    pub rated_by: String,
    /// `YYYY-MM-DD`.
    pub rated_on: String,
    /// The session it was rated in, if any.
    pub session: Option<String>,
}

/// An earlier wording of a goal.
#[derive(Debug, Serialize, ToSchema)]
pub struct EarlierWordsView {
    pub number: i64,
    pub words: String,
    pub written_at: String,
}

/// A goal in the child's own words.
#[derive(Debug, Serialize, ToSchema)]
pub struct GoalApiView {
    pub id: String,
    pub case_id: String,
    pub words: String,
    /// `child`, `child-with-therapist` or `carer`.
    pub set_by: String,
    /// `YYYY-MM-DD`.
    pub set_on: String,
    /// `open`, `reached` or `put-aside`.
    pub status: String,
    pub closed_on: Option<String>,
    /// Send it back to reword or close.
    pub version: i64,
    pub earlier_words: Vec<EarlierWordsView>,
    pub ratings: Vec<RatingView>,
    pub first_rating: Option<u8>,
    pub latest_rating: Option<u8>,
    /// Latest minus first, once rated twice.
    pub movement: Option<i8>,
}

/// A child's goals.
#[derive(Debug, Serialize, ToSchema)]
pub struct GoalsListView {
    /// The child's name, or initials for a supervisor.
    pub child_shown: String,
    /// Open goals first, then closed ones.
    pub goals: Vec<GoalApiView>,
    pub may_write: bool,
    /// The line the measure's licence requires wherever goals are shown.
    pub attribution: String,
}

fn goal_view(g: GoalView) -> GoalApiView {
    GoalApiView {
        id: g.id.to_string(),
        case_id: g.case.to_string(),
        words: g.words,
        set_by: g.set_by.code().to_owned(),
        set_on: g.set_on.to_string(),
        status: g.status.code().to_owned(),
        closed_on: g.closed_on.map(|d| d.to_string()),
        version: g.version.get(),
        earlier_words: g
            .earlier
            .into_iter()
            .map(|e| EarlierWordsView {
                number: e.number,
                words: e.words,
                written_at: e.written_at.to_string(),
            })
            .collect(),
        ratings: g
            .ratings
            .into_iter()
            .map(|r| RatingView {
                value: r.value,
                rated_by: r.rated_by.code().to_owned(),
                rated_on: r.rated_on.to_string(),
                session: r.session.map(|s| s.0.to_string()),
            })
            .collect(),
        first_rating: g.first,
        latest_rating: g.latest,
        movement: g.movement,
    }
}

/// A child's goals with their ratings and movement (audited). The lead, co-worker and cover;
/// a supervisor of the team. Everyone else: 404, audited.
#[utoipa::path(
    get,
    path = "/api/v1/children/{id}/goals",
    tag = "children",
    params(("id" = String, Path, description = "The child's id")),
    responses(
        (status = 200, description = "The goals", body = GoalsListView),
        (status = 404, description = "No such child, or the caller may not read goals (audited)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list_goals(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Json<GoalsListView>, ApiError> {
    let view = state.alliance.goals(&actor, child_id(&id)?).await?;
    Ok(Json(GoalsListView {
        child_shown: view.child_shown,
        may_write: view.may_write,
        attribution: view.attribution,
        goals: view.goals.into_iter().map(goal_view).collect(),
    }))
}

/// A new goal, in the child's own words.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGoalBody {
    /// Required; at most 300 characters.
    pub words: String,
    /// `child`, `child-with-therapist` or `carer`.
    pub set_by: String,
    /// `YYYY-MM-DD`; absent: today. Not after today.
    #[serde(default)]
    pub set_on: Option<String>,
}

/// The goal made.
#[derive(Debug, Serialize, ToSchema)]
pub struct GoalCreated {
    pub id: String,
}

/// Sets a goal on the child's open case (the lead, co-worker or cover; audited). A case holds
/// at most three open goals (422 for a fourth).
#[utoipa::path(
    post,
    path = "/api/v1/children/{id}/goals",
    tag = "children",
    params(("id" = String, Path, description = "The child's id")),
    request_body = NewGoalBody,
    responses(
        (status = 201, description = "Set", body = GoalCreated),
        (status = 403, description = "The caller reads goals but may not write them, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such child, or the caller may not read goals (audited)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid, three goals are open, or no open case", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn add_goal(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewGoalBody>,
) -> Result<(StatusCode, Json<GoalCreated>), ApiError> {
    let input = GoalInput {
        words: body.words,
        set_by: body.set_by,
        set_on: body.set_on.unwrap_or_default(),
    };
    let goal = state
        .alliance
        .add_goal(&actor, child_id(&id)?, &input)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(GoalCreated {
            id: goal.to_string(),
        }),
    ))
}

/// One goal's rating.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GoalRatingBody {
    pub goal: String,
    /// 0 (not started) to 10 (reached).
    pub value: i64,
}

/// Ratings of open goals, given together.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingsBody {
    /// `child` or `child-with-therapist`.
    pub rated_by: String,
    /// A session of the case, if rated in one.
    #[serde(default)]
    pub session: Option<String>,
    /// `YYYY-MM-DD`; absent: the session's date, or today.
    #[serde(default)]
    pub rated_on: Option<String>,
    pub ratings: Vec<GoalRatingBody>,
}

/// How many ratings were recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct RatedView {
    pub rated: usize,
}

/// Rates open goals (the lead, co-worker or cover; audited, one entry a goal). Each value is
/// a whole number from 0 to 10; a goal closed meanwhile: 409, nothing recorded.
#[utoipa::path(
    post,
    path = "/api/v1/children/{id}/goals/ratings",
    tag = "children",
    params(("id" = String, Path, description = "The child's id")),
    request_body = RatingsBody,
    responses(
        (status = 201, description = "Recorded", body = RatedView),
        (status = 403, description = "The caller reads goals but may not write them, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such child, or the caller may not read goals (audited)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A goal was closed meanwhile", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A value is out of 0-10, a goal is not open, or another field is not valid (each named)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn rate_goals(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RatingsBody>,
) -> Result<(StatusCode, Json<RatedView>), ApiError> {
    let child = child_id(&id)?;
    let mut ratings = Vec::with_capacity(body.ratings.len());
    for r in &body.ratings {
        let goal = GoalId::parse(&r.goal).map_err(|m| -> ApiError {
            Problem::for_status(StatusCode::UNPROCESSABLE_ENTITY)
                .field("ratings", m)
                .into()
        })?;
        ratings.push(RatingInput {
            goal,
            value: r.value.to_string(),
        });
    }
    let session =
        match body.session.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => Some(uuid::Uuid::parse_str(raw).map(BookingId).map_err(
                |_| -> ApiError {
                    Problem::for_status(StatusCode::UNPROCESSABLE_ENTITY)
                        .field("session", "Choose one of this case's sessions")
                        .into()
                },
            )?),
        };
    let rated = state
        .alliance
        .rate_goals(
            &actor,
            child,
            &ratings,
            &body.rated_by,
            session,
            body.rated_on.as_deref().unwrap_or_default(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(RatedView { rated })))
}

/// New words for a goal.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RewordBody {
    pub words: String,
    /// The goal's version read.
    pub version: i64,
}

/// The goal's new version.
#[derive(Debug, Serialize, ToSchema)]
pub struct GoalVersionView {
    pub version: i64,
}

/// Rewords an open goal (the earlier words are kept; audited).
#[utoipa::path(
    put,
    path = "/api/v1/children/{id}/goals/{goal}/words",
    tag = "children",
    params(
        ("id" = String, Path, description = "The child's id"),
        ("goal" = String, Path, description = "The goal's id"),
    ),
    request_body = RewordBody,
    responses(
        (status = 200, description = "Reworded", body = GoalVersionView),
        (status = 403, description = "The caller reads goals but may not write them, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such child or goal, or the caller may not read goals (audited)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The goal changed since `version`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The words are empty or too long, or the goal is closed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn reword_goal(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path((id, goal)): Path<(String, String)>,
    ApiJson(body): ApiJson<RewordBody>,
) -> Result<Json<GoalVersionView>, ApiError> {
    let v = state
        .alliance
        .reword_goal(
            &actor,
            child_id(&id)?,
            goal_id(&goal)?,
            &body.words,
            version(body.version)?,
        )
        .await?;
    Ok(Json(GoalVersionView { version: v.get() }))
}

/// How a goal is closed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseBody {
    /// `reached` or `put-aside`.
    pub how: String,
    /// `YYYY-MM-DD`; absent: today.
    #[serde(default)]
    pub closed_on: Option<String>,
    /// The goal's version read.
    pub version: i64,
}

/// Closes an open goal, reached or put aside (audited).
#[utoipa::path(
    post,
    path = "/api/v1/children/{id}/goals/{goal}/close",
    tag = "children",
    params(
        ("id" = String, Path, description = "The child's id"),
        ("goal" = String, Path, description = "The goal's id"),
    ),
    request_body = CloseBody,
    responses(
        (status = 200, description = "Closed", body = GoalVersionView),
        (status = 403, description = "The caller reads goals but may not write them, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such child or goal, or the caller may not read goals (audited)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The goal changed (or was closed) since `version`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn close_goal(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path((id, goal)): Path<(String, String)>,
    ApiJson(body): ApiJson<CloseBody>,
) -> Result<Json<GoalVersionView>, ApiError> {
    let v = state
        .alliance
        .close_goal(
            &actor,
            child_id(&id)?,
            goal_id(&goal)?,
            &body.how,
            body.closed_on.as_deref().unwrap_or_default(),
            version(body.version)?,
        )
        .await?;
    Ok(Json(GoalVersionView { version: v.get() }))
}

// ----- carers' feedback links -----

/// One carer's link.
#[derive(Debug, Serialize, ToSchema)]
pub struct CarerLinkView {
    pub id: String,
    pub measure: String,
    pub created_at: String,
    pub expires_at: String,
    /// `waiting`, `answered`, `expired` or `withdrawn`.
    pub state: String,
}

/// A carer, whether they may receive a feedback link (and why not), and their links.
#[derive(Debug, Serialize, ToSchema)]
pub struct CarerFeedbackLine {
    pub carer_id: String,
    pub name: String,
    pub relationship: String,
    pub may_receive: bool,
    /// Why not, for staff (absent when they may).
    pub reason: Option<String>,
    pub links: Vec<CarerLinkView>,
}

/// The carers' feedback links of a child.
#[derive(Debug, Serialize, ToSchema)]
pub struct CarerFeedbackListView {
    pub carers: Vec<CarerFeedbackLine>,
    /// The carer measures that can be given, as `id@version`, the default first.
    pub measures: Vec<String>,
    /// How long a link lasts.
    pub link_days: u32,
}

/// The child's carers, whether each may receive a feedback link and why not, and their links
/// (audited). Only the lead, co-worker and cover: a supervisor 403; anyone else 404, audited.
#[utoipa::path(
    get,
    path = "/api/v1/children/{id}/carer-feedback",
    tag = "children",
    params(("id" = String, Path, description = "The child's id")),
    responses(
        (status = 200, description = "The carers and their links", body = CarerFeedbackListView),
        (status = 403, description = "The caller reads the clinical record but does not write it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such child, or the caller may not know it (audited)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn carer_feedback_list(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Json<CarerFeedbackListView>, ApiError> {
    let view = state
        .alliance
        .carer_feedback(&actor, child_id(&id)?)
        .await?;
    Ok(Json(CarerFeedbackListView {
        carers: view
            .carers
            .into_iter()
            .map(|c| CarerFeedbackLine {
                carer_id: c.id.to_string(),
                name: c.name,
                relationship: c.relationship,
                may_receive: c.refusal.is_none(),
                reason: c.refusal,
                links: c
                    .links
                    .into_iter()
                    .map(|l| CarerLinkView {
                        id: l.id.to_string(),
                        measure: l.measure_name,
                        created_at: l.created_at.to_string(),
                        expires_at: l.expires_at.to_string(),
                        state: l.state.code().to_owned(),
                    })
                    .collect(),
            })
            .collect(),
        measures: view.measures.into_iter().map(|(k, _)| k).collect(),
        link_days: view.link_days,
    }))
}

/// A link to make for one carer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CarerLinkBody {
    pub carer_id: String,
    /// `id@version` of a carer measure that can be given; absent: the first.
    #[serde(default)]
    pub measure: Option<String>,
}

/// The link made: its address is shown only now.
#[derive(Debug, Serialize, ToSchema)]
pub struct CarerLinkCreated {
    pub id: String,
    /// The path to pass on to the carer (`/feedback/fb_…`), on this service's address.
    pub path: String,
    pub expires_at: String,
}

/// Makes a carer's single-use feedback link (the lead, co-worker or cover; audited). A carer
/// who may not receive one (a restriction, not to be contacted, the young person's wishes) is
/// refused with the reason (422, `carer`), and the refusal is audited.
#[utoipa::path(
    post,
    path = "/api/v1/children/{id}/carer-feedback",
    tag = "children",
    params(("id" = String, Path, description = "The child's id")),
    request_body = CarerLinkBody,
    responses(
        (status = 201, description = "Made; the path is shown once", body = CarerLinkCreated),
        (status = 403, description = "The caller reads the clinical record but does not write it, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such child, or the caller may not know it (audited)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The carer may not receive it (the reason named), or another field is not valid", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create_carer_link(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CarerLinkBody>,
) -> Result<(StatusCode, Json<CarerLinkCreated>), ApiError> {
    let child = child_id(&id)?;
    let carer =
        alliance_core::children::CarerId::parse(&body.carer_id).map_err(|m| -> ApiError {
            Problem::for_status(StatusCode::UNPROCESSABLE_ENTITY)
                .field("carer_id", m)
                .into()
        })?;
    let (link, token) = state
        .alliance
        .create_carer_link(&actor, child, carer, body.measure.as_deref())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CarerLinkCreated {
            id: link.id.to_string(),
            path: format!("/feedback/{token}"),
            expires_at: link.expires_at.to_string(),
        }),
    ))
}

/// Withdraws a carer's link before it is used (audited).
#[utoipa::path(
    post,
    path = "/api/v1/children/{id}/carer-feedback/{link}/withdraw",
    tag = "children",
    params(
        ("id" = String, Path, description = "The child's id"),
        ("link" = String, Path, description = "The link's id"),
    ),
    responses(
        (status = 204, description = "Withdrawn"),
        (status = 403, description = "The caller reads the clinical record but does not write it, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such child or link, or the caller may not know it (audited)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The link was already used or withdrawn", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn withdraw_carer_link(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path((id, link)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let link = uuid::Uuid::parse_str(&link).map_err(|_| not_found())?;
    state
        .alliance
        .withdraw_carer_link(&actor, child_id(&id)?, link)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
