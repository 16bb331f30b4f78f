//! Tasks and notices (each person's own), and the bank holidays that working-day deadlines
//! count around.

use super::directory::version;
use crate::AppState;
use crate::auth::Signed;
use crate::extract::{ApiJson, ApiQuery, PageParams};
use crate::problem::{ApiError, Problem};
use alliance_core::identity::UserId;
use alliance_core::tasks::{Task, TaskId, TaskKind};
use alliance_service::TaskFilter;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A task (something to do by a time) or a notice (something to know).
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskView {
    pub id: String,
    /// `task` or `notice`.
    pub kind: String,
    /// The rule that raised it, e.g. `case.arrange-first-session`.
    pub rule: String,
    /// Names a case number, never a child.
    pub title: String,
    /// What it is about: a record type and id (and the child's id, when it is a child's).
    pub subject_type: Option<String>,
    pub subject_id: Option<String>,
    pub child_id: Option<String>,
    /// RFC 3339, UTC.
    pub due_at: Option<String>,
    pub overdue: bool,
    pub done_at: Option<String>,
    pub escalation_level: u32,
    pub version: i64,
    pub created_at: String,
}

fn view(task: Task, overdue: bool) -> TaskView {
    TaskView {
        overdue,
        id: task.id.to_string(),
        kind: task.kind.code().to_owned(),
        rule: task.rule.code().to_owned(),
        title: task.title,
        subject_type: task.subject.as_ref().map(|s| s.record_type.clone()),
        subject_id: task.subject.as_ref().map(|s| s.record_id.clone()),
        child_id: task
            .subject
            .as_ref()
            .and_then(|s| s.child)
            .map(|c| c.to_string()),
        due_at: task.due_at.map(|t| t.to_string()),
        done_at: task.done_at.map(|t| t.to_string()),
        escalation_level: task.escalation_level,
        version: task.version.get(),
        created_at: task.created_at.to_string(),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TaskPage {
    pub items: Vec<TaskView>,
    pub next: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TaskListParams {
    /// Only open ones (default true): not done, not read.
    pub open: Option<bool>,
    /// `task` or `notice`.
    pub kind: Option<String>,
    pub limit: Option<i64>,
    pub after: Option<String>,
}

/// Your tasks and notices, open first. Any that point at a record you may not see are left
/// out.
#[utoipa::path(
    get,
    path = "/api/v1/tasks",
    tag = "tasks",
    params(TaskListParams),
    responses(
        (status = 200, description = "A page of tasks and notices", body = TaskPage),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A filter is not valid", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list_tasks(
    State(state): State<AppState>,
    Signed(actor): Signed,
    ApiQuery(params): ApiQuery<TaskListParams>,
) -> Result<Json<TaskPage>, ApiError> {
    let page = PageParams {
        limit: params.limit,
        after: params.after.clone(),
    }
    .request()?;
    let kind = params
        .kind
        .as_deref()
        .map(TaskKind::parse)
        .transpose()
        .map_err(|m| {
            ApiError::from(Problem::for_status(StatusCode::UNPROCESSABLE_ENTITY).field("kind", m))
        })?;
    let found = state
        .alliance
        .inbox(
            &actor,
            TaskFilter {
                open_only: params.open.unwrap_or(true),
                kind,
            },
            &page,
        )
        .await?;
    let now = state.alliance.clock().now();
    Ok(Json(TaskPage {
        next: found.next.clone(),
        items: found
            .items
            .into_iter()
            .map(|t| {
                let overdue = t.is_overdue(now);
                view(t, overdue)
            })
            .collect(),
    }))
}

/// A comment on a task.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentView {
    pub author: String,
    pub text: String,
    pub at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TaskDetailView {
    pub task: TaskView,
    pub comments: Vec<CommentView>,
}

fn task_id(raw: &str) -> Result<TaskId, ApiError> {
    TaskId::parse(raw).map_err(|_| Problem::for_status(StatusCode::NOT_FOUND).into())
}

/// One of your tasks or notices, with its comments.
#[utoipa::path(
    get,
    path = "/api/v1/tasks/{id}",
    tag = "tasks",
    params(("id" = String, Path, description = "The task's id")),
    responses(
        (status = 200, description = "The task", body = TaskDetailView),
        (status = 404, description = "No such task of yours", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_task(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Json<TaskDetailView>, ApiError> {
    let detail = state.alliance.get_task(&actor, task_id(&id)?).await?;
    let now = state.alliance.clock().now();
    Ok(Json(TaskDetailView {
        task: {
            let overdue = detail.task.is_overdue(now);
            view(detail.task, overdue)
        },
        comments: detail
            .comments
            .into_iter()
            .map(|c| CommentView {
                author: c.author.to_string(),
                text: c.text,
                at: c.at.to_string(),
            })
            .collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteBody {
    pub version: i64,
}

/// Marks a task done, or a notice read.
#[utoipa::path(
    post,
    path = "/api/v1/tasks/{id}/complete",
    tag = "tasks",
    params(("id" = String, Path, description = "The task's id")),
    request_body = CompleteBody,
    responses(
        (status = 200, description = "Done", body = TaskView),
        (status = 404, description = "No such task of yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Done already", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn complete_task(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CompleteBody>,
) -> Result<Json<TaskView>, ApiError> {
    let task = state
        .alliance
        .complete_task(&actor, task_id(&id)?, version(body.version)?)
        .await?;
    let overdue = task.is_overdue(state.alliance.clock().now());
    Ok(Json(view(task, overdue)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReassignBody {
    pub version: i64,
    /// The account id of the person to give it to.
    pub to: String,
}

/// Gives a task to someone else (who must be able to see what it is about).
#[utoipa::path(
    post,
    path = "/api/v1/tasks/{id}/reassign",
    tag = "tasks",
    params(("id" = String, Path, description = "The task's id")),
    request_body = ReassignBody,
    responses(
        (status = 200, description = "Given to them", body = TaskView),
        (status = 404, description = "No such task of yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not someone it can go to", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn reassign_task(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReassignBody>,
) -> Result<Json<TaskView>, ApiError> {
    let to = UserId::parse(&body.to).map_err(|m| {
        ApiError::from(Problem::for_status(StatusCode::UNPROCESSABLE_ENTITY).field("to", m))
    })?;
    let task = state
        .alliance
        .reassign_task(&actor, task_id(&id)?, to, version(body.version)?)
        .await?;
    let overdue = task.is_overdue(state.alliance.clock().now());
    Ok(Json(view(task, overdue)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentBody {
    pub text: String,
}

/// Adds a comment to one of your tasks.
#[utoipa::path(
    post,
    path = "/api/v1/tasks/{id}/comments",
    tag = "tasks",
    params(("id" = String, Path, description = "The task's id")),
    request_body = CommentBody,
    responses(
        (status = 204, description = "Added"),
        (status = 404, description = "No such task of yours", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The comment is empty or too long", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn comment_on_task(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CommentBody>,
) -> Result<StatusCode, ApiError> {
    state
        .alliance
        .comment_on_task(&actor, task_id(&id)?, &body.text)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A bank holiday.
#[derive(Debug, Serialize, ToSchema)]
pub struct HolidayView {
    /// `england-and-wales`, `scotland` or `northern-ireland`.
    pub division: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    pub title: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportParams {
    /// `true` stores the holidays; otherwise the answer is only the preview.
    pub save: Option<bool>,
}

/// Imports bank holidays from a file in the UK government's JSON shape
/// (`{division: {division, events: [{title, date, notes, bunting}]}}`), for years Alliance
/// does not ship; administrators. Without `save=true` nothing is stored.
#[utoipa::path(
    post,
    path = "/api/v1/bank-holidays/import",
    tag = "tasks",
    params(ImportParams),
    request_body(content = String, content_type = "application/json",
        description = "The government's bank-holidays JSON"),
    responses(
        (status = 200, description = "What was (or would be) imported", body = [HolidayView]),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Problems, each with where it is in the file", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn import_holidays(
    State(state): State<AppState>,
    Signed(actor): Signed,
    ApiQuery(params): ApiQuery<ImportParams>,
    body: String,
) -> Result<Json<Vec<HolidayView>>, ApiError> {
    let rows = state
        .alliance
        .import_holidays(&actor, &body, params.save.unwrap_or(false))
        .await?;
    Ok(Json(
        rows.into_iter()
            .map(|h| HolidayView {
                division: h.division,
                date: h.date.to_string(),
                title: h.title,
            })
            .collect(),
    ))
}
