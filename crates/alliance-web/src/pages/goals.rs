//! The child's own goals (issue 17): `/children/{id}/goals`, one page with the goals in the
//! child's words, their first and latest ratings and the movement between them, and the forms
//! (for the lead, co-worker and cover on an open case): set a goal (at most three open), rate
//! every open goal in one form (0 to 10 as radio buttons in a fieldset: keyboard and screen
//! reader, no dragging), reword a goal (the earlier words stay), close one (reached or put
//! aside). The measure's attribution is shown wherever goals are shown or rated.
//!
//! Who may do what is decided by the use-cases; this module shows what they answer.

use super::{FieldErrors, FormData, Layout, STALE_MESSAGE, conflicted, render, unprocessable};
use crate::AppState;
use crate::auth::{CurrentAuth, Signed};
use crate::errors::page_error;
use crate::respond::PageError;
use alliance_core::children::ChildId;
use alliance_core::goals::{GoalId, GoalInput, RatedBy, SetBy, Status};
use alliance_core::schedule::BookingId;
use alliance_core::uk;
use alliance_service::AppError;
use alliance_service::goals::{GoalView, GoalsView, RatingInput};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};

pub fn router() -> Router<AppState> {
    // One method a line, so the route table the headers test reads finds each.
    Router::new()
        .route("/children/{id}/goals", get(goals_page))
        .route("/children/{id}/goals", post(add_goal))
        .route("/children/{id}/goals/rate", post(rate_goals))
        .route("/children/{id}/goals/{goal}/reword", post(reword_goal))
        .route("/children/{id}/goals/{goal}/close", post(close_goal))
}

fn child_id(raw: &str) -> Result<ChildId, PageError> {
    ChildId::parse(raw).map_err(|_| page_error(AppError::NotFound))
}

fn goal_id(raw: &str) -> Result<GoalId, PageError> {
    GoalId::parse(raw).map_err(|_| page_error(AppError::NotFound))
}

/// One point of the 0-10 scale on the rating form.
struct Point {
    value: u8,
    label: &'static str,
    checked: bool,
}

struct RatingRow {
    on: String,
    value: u8,
    by: &'static str,
    in_session: bool,
}

struct GoalShown {
    id: String,
    version: i64,
    words: String,
    set_by: &'static str,
    set_on: String,
    status: &'static str,
    closed_on: String,
    first: String,
    latest: String,
    movement: String,
    ratings: Vec<RatingRow>,
    earlier: Vec<(i64, String, String)>,
    /// The rating form's points for this goal.
    points: Vec<Point>,
    /// Field names on the forms (unique on the page).
    rating_field: String,
    words_field: String,
    how_field: String,
    closed_on_field: String,
}

struct Choice {
    code: &'static str,
    label: &'static str,
    checked: bool,
}

struct SessionChoice {
    id: String,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "goals.html")]
struct GoalsPage {
    layout: Layout,
    id: String,
    child_shown: String,
    attribution: String,
    open: Vec<GoalShown>,
    closed: Vec<GoalShown>,
    may_write: bool,
    may_add: bool,
    max_open: usize,
    set_by: Vec<Choice>,
    rated_by: Vec<Choice>,
    sessions: Vec<SessionChoice>,
    form: FormData,
    errors: FieldErrors,
    refusal: Option<String>,
}

fn point_label(v: u8) -> &'static str {
    match v {
        0 => "0: not started",
        10 => "10: reached",
        1 => "1",
        2 => "2",
        3 => "3",
        4 => "4",
        5 => "5",
        6 => "6",
        7 => "7",
        8 => "8",
        9 => "9",
        _ => "",
    }
}

fn shown(goal: &GoalView, form: &FormData) -> GoalShown {
    let id = goal.id.to_string();
    let rating_field = format!("rating-{id}");
    let dash = |v: Option<u8>| v.map(|v| v.to_string()).unwrap_or_else(|| "–".to_owned());
    GoalShown {
        version: goal.version.get(),
        words: goal.words.clone(),
        set_by: goal.set_by.label(),
        set_on: uk::date(goal.set_on),
        status: goal.status.label(),
        closed_on: goal.closed_on.map(uk::date).unwrap_or_default(),
        first: dash(goal.first),
        latest: dash(goal.latest),
        movement: alliance_core::goals::movement_label(goal.movement),
        ratings: goal
            .ratings
            .iter()
            .map(|r| RatingRow {
                on: uk::date(r.rated_on),
                value: r.value,
                by: r.rated_by.label(),
                in_session: r.session.is_some(),
            })
            .collect(),
        earlier: goal
            .earlier
            .iter()
            .map(|e| (e.number, e.words.clone(), uk::date_time(e.written_at)))
            .collect(),
        points: (0..=10)
            .map(|v| Point {
                value: v,
                label: point_label(v),
                checked: form.has(&rating_field, &v.to_string()),
            })
            .collect(),
        words_field: format!("words-{id}"),
        how_field: format!("how-{id}"),
        closed_on_field: format!("closed_on-{id}"),
        rating_field,
        id,
    }
}

fn page_of(
    layout: Layout,
    view: GoalsView,
    form: FormData,
    errors: FieldErrors,
    refusal: Option<String>,
) -> GoalsPage {
    let open: Vec<GoalShown> = view.open().map(|g| shown(g, &form)).collect();
    let closed: Vec<GoalShown> = view.kept().map(|g| shown(g, &form)).collect();
    let chosen_set_by = match form.get("set_by") {
        "" => "child-with-therapist",
        other => other,
    };
    let chosen_rated_by = match form.get("rated_by") {
        "" => "child-with-therapist",
        other => other,
    };
    GoalsPage {
        layout,
        id: view.child.to_string(),
        child_shown: view.child_shown.clone(),
        attribution: view.attribution.clone(),
        may_add: view.may_write
            && view.open_case.is_some_and(|c| {
                view.goals
                    .iter()
                    .filter(|g| g.case == c && g.status == Status::Open)
                    .count()
                    < alliance_core::goals::MAX_OPEN
            }),
        may_write: view.may_write,
        max_open: alliance_core::goals::MAX_OPEN,
        set_by: SetBy::ALL
            .iter()
            .map(|s| Choice {
                code: s.code(),
                label: s.label(),
                checked: s.code() == chosen_set_by,
            })
            .collect(),
        rated_by: RatedBy::ALL
            .iter()
            .map(|s| Choice {
                code: s.code(),
                label: s.label(),
                checked: s.code() == chosen_rated_by,
            })
            .collect(),
        sessions: view
            .sessions
            .iter()
            .map(|(id, date)| SessionChoice {
                id: id.to_string(),
                label: uk::date(*date),
                selected: form.get("session") == id.to_string(),
            })
            .collect(),
        open,
        closed,
        form,
        errors,
        refusal,
    }
}

async fn load_page(
    state: &AppState,
    actor: &alliance_service::Actor,
    auth: &crate::auth::Auth,
    child: ChildId,
    form: FormData,
    errors: FieldErrors,
    refusal: Option<String>,
) -> Result<GoalsPage, PageError> {
    let view = state
        .alliance
        .goals(actor, child)
        .await
        .map_err(page_error)?;
    Ok(page_of(
        Layout::load(state, "children", auth).await?,
        view,
        form,
        errors,
        refusal,
    ))
}

async fn goals_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let page = load_page(
        &state,
        &actor,
        &auth,
        child_id(&id)?,
        FormData::default(),
        FieldErrors::default(),
        None,
    )
    .await?;
    Ok(render(&page)?.into_response())
}

/// Answers a form's outcome: back to the page, or the page again with what was typed and the
/// errors (422), or the stale message (409). `rename` moves the use-case's field names onto
/// the form's (unique on the page).
async fn answer<T>(
    state: &AppState,
    actor: &alliance_service::Actor,
    auth: &crate::auth::Auth,
    child: ChildId,
    form: FormData,
    outcome: Result<T, AppError>,
    suffix: Option<GoalId>,
) -> Result<Response, PageError> {
    match outcome {
        Ok(_) => Ok(Redirect::to(&format!("/children/{child}/goals")).into_response()),
        Err(AppError::Invalid(invalid)) => {
            let mut errors = FieldErrors::from_invalid(&invalid);
            if let Some(goal) = suffix {
                errors.0 = errors
                    .0
                    .into_iter()
                    .map(|(k, v)| (format!("{k}-{goal}"), v))
                    .collect();
            }
            let page = load_page(state, actor, auth, child, form, errors, None).await?;
            unprocessable(&page)
        }
        Err(AppError::Conflict(_) | AppError::Stale(_)) => {
            let page = load_page(
                state,
                actor,
                auth,
                child,
                form,
                FieldErrors::default(),
                Some(STALE_MESSAGE.to_owned()),
            )
            .await?;
            conflicted(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}

async fn add_goal(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let child = child_id(&id)?;
    let input = GoalInput {
        words: form.get("words").to_owned(),
        set_by: form.get("set_by").to_owned(),
        set_on: form.get("set_on").to_owned(),
    };
    let outcome = state.alliance.add_goal(&actor, child, &input).await;
    answer(&state, &actor, &auth, child, form, outcome, None).await
}

async fn rate_goals(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let child = child_id(&id)?;
    let ratings: Vec<RatingInput> = form
        .0
        .iter()
        .filter_map(|(k, v)| {
            let goal = GoalId::parse(k.strip_prefix("rating-")?).ok()?;
            Some(RatingInput {
                goal,
                value: v.clone(),
            })
        })
        .collect();
    let session = match form.get("session").trim() {
        "" => None,
        raw => Some(
            uuid::Uuid::parse_str(raw)
                .map(BookingId)
                .map_err(|_| page_error(AppError::NotFound))?,
        ),
    };
    let outcome = state
        .alliance
        .rate_goals(
            &actor,
            child,
            &ratings,
            form.get("rated_by"),
            session,
            form.get("rated_on"),
        )
        .await;
    answer(&state, &actor, &auth, child, form, outcome, None).await
}

async fn reword_goal(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path((id, goal)): Path<(String, String)>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let child = child_id(&id)?;
    let goal = goal_id(&goal)?;
    let version = super::version_of(&form)?;
    let field = format!("words-{goal}");
    let outcome = state
        .alliance
        .reword_goal(&actor, child, goal, form.get(&field), version)
        .await;
    answer(&state, &actor, &auth, child, form, outcome, Some(goal)).await
}

async fn close_goal(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path((id, goal)): Path<(String, String)>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let child = child_id(&id)?;
    let goal = goal_id(&goal)?;
    let version = super::version_of(&form)?;
    let outcome = state
        .alliance
        .close_goal(
            &actor,
            child,
            goal,
            form.get(&format!("how-{goal}")),
            form.get(&format!("closed_on-{goal}")),
            version,
        )
        .await;
    answer(&state, &actor, &auth, child, form, outcome, Some(goal)).await
}
