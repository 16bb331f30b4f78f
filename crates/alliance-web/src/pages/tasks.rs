//! Each person's tasks and notices: the inbox, one task with its comments, and completing,
//! reassigning and commenting.

use super::{
    FieldErrors, FormData, Layout, STALE_MESSAGE, conflicted, render, unprocessable, version_of,
};
use crate::AppState;
use crate::auth::{Auth, CurrentAuth, Signed};
use crate::errors::page_error;
use crate::respond::PageError;
use alliance_core::identity::UserId;
use alliance_core::tasks::{TaskId, TaskKind};
use alliance_core::{PageRequest, uk};
use alliance_service::tasks::TaskDetail;
use alliance_service::{Actor, AppError, TaskFilter, UserFilter};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tasks", get(inbox_page))
        .route("/tasks/{id}", get(task_page))
        .route("/tasks/{id}/complete", post(complete))
        .route("/tasks/{id}/reassign", post(reassign))
        .route("/tasks/{id}/comments", post(comment))
}

#[derive(Debug, Default, Deserialize)]
struct InboxQuery {
    show: Option<String>,
    after: Option<String>,
}

struct TaskLine {
    id: String,
    title: String,
    kind: &'static str,
    due: String,
    overdue: bool,
    open: bool,
}

#[derive(Template)]
#[template(path = "tasks.html")]
struct InboxPage {
    layout: Layout,
    tasks: Vec<TaskLine>,
    show_all: bool,
    next: Option<String>,
}

async fn inbox_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Query(query): Query<InboxQuery>,
) -> Result<Response, PageError> {
    let show_all = query.show.as_deref() == Some("all");
    let page = PageRequest::parse(Some(50), query.after.as_deref().filter(|a| !a.is_empty()))
        .map_err(|e| page_error(AppError::Invalid(e)))?;
    let tasks = state
        .alliance
        .inbox(
            &actor,
            TaskFilter {
                open_only: !show_all,
                kind: None,
            },
            &page,
        )
        .await
        .map_err(page_error)?;
    let now = state.alliance.clock().now();
    let next = tasks.next.as_ref().map(|after| {
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("show", if show_all { "all" } else { "open" });
        q.append_pair("after", after);
        format!("/tasks?{}", q.finish())
    });
    Ok(render(&InboxPage {
        layout: Layout::load(&state, "tasks", &auth).await?,
        tasks: tasks
            .items
            .iter()
            .map(|t| TaskLine {
                id: t.id.to_string(),
                title: t.title.clone(),
                kind: match t.kind {
                    TaskKind::Task => "Task",
                    TaskKind::Notice => "Notice",
                },
                due: t.due_at.map(uk::date_time).unwrap_or_default(),
                overdue: t.is_overdue(now),
                open: t.is_open(),
            })
            .collect(),
        show_all,
        next,
    })?
    .into_response())
}

struct CommentLine {
    author: String,
    at: String,
    text: String,
}

#[derive(Template)]
#[template(path = "task.html")]
struct TaskPage {
    layout: Layout,
    id: String,
    title: String,
    is_task: bool,
    open: bool,
    overdue: bool,
    due: String,
    raised: String,
    done: String,
    link: Option<String>,
    version: i64,
    comments: Vec<CommentLine>,
    people: Vec<(String, String)>,
    form: FormData,
    errors: FieldErrors,
}

fn task_id(raw: &str) -> Result<TaskId, PageError> {
    TaskId::parse(raw).map_err(|_| page_error(AppError::NotFound))
}

async fn task_view(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    detail: TaskDetail,
) -> Result<TaskPage, PageError> {
    let task = &detail.task;
    let mut ids: Vec<UserId> = detail.comments.iter().map(|c| c.author).collect();
    ids.extend(task.done_by);
    let names = state.alliance.staff_names(&ids).await.map_err(page_error)?;
    let link = task
        .subject
        .as_ref()
        .and_then(|s| match (s.record_type.as_str(), s.child) {
            ("case", Some(_)) => Some(format!("/cases/{}", s.record_id)),
            // Shown only to those who reach it (the inbox passes the concern's own check).
            ("concern" | "allegation", _) => Some(format!("/concerns/{}", s.record_id)),
            // The review page (the notice passes its check).
            ("break-glass", _) => Some(format!("/break-glass#grant-{}", s.record_id)),
            // The request's page (the task passes the request's own check).
            ("subject-access", _) => Some(format!("/subject-access/{}", s.record_id)),
            // The request's page (the task passes the request's own check).
            ("destruction", _) => Some(format!("/retention/destructions/{}", s.record_id)),
            // Issue 16: an incident (the notice passes the incident's own check), a material or
            // a room needing attention (the directory: everyone who works here reads it), and
            // a child's safety plan.
            ("incident", _) => Some(format!("/incidents/{}", s.record_id)),
            ("material", None) => Some(format!("/materials/{}", s.record_id)),
            ("room", None) => Some(format!("/rooms/{}", s.record_id)),
            ("safety-plan", Some(child)) => Some(format!("/children/{child}/safety-plan")),
            ("transfer", Some(child)) => {
                Some(format!("/children/{child}/transfers/{}", s.record_id))
            }
            (_, Some(child)) => Some(format!("/children/{child}")),
            _ => None,
        });
    let people = if task.is_open() && task.kind == TaskKind::Task {
        let filter = UserFilter {
            role: None,
            active: Some(true),
            search: None,
        };
        let page =
            PageRequest::parse(Some(200), None).map_err(|e| page_error(AppError::Invalid(e)))?;
        state
            .alliance
            .list_users(actor, &filter, &page)
            .await
            .map_err(page_error)?
            .items
            .into_iter()
            .filter(|u| u.id != actor.user.id)
            .map(|u| (u.id.to_string(), u.display_name))
            .collect()
    } else {
        Vec::new()
    };
    let now = state.alliance.clock().now();
    Ok(TaskPage {
        layout: Layout::load(state, "tasks", auth).await?,
        id: task.id.to_string(),
        title: task.title.clone(),
        is_task: task.kind == TaskKind::Task,
        open: task.is_open(),
        overdue: task.is_overdue(now),
        due: task.due_at.map(uk::date_time).unwrap_or_default(),
        raised: uk::date_time(task.created_at),
        done: match (task.done_at, task.done_by) {
            (Some(at), by) => format!(
                "{}{}",
                uk::date_time(at),
                by.and_then(|b| names.get(&b).cloned())
                    .map(|n| format!(" by {n}"))
                    .unwrap_or_default()
            ),
            _ => String::new(),
        },
        link,
        version: task.version.get(),
        comments: detail
            .comments
            .iter()
            .map(|c| CommentLine {
                author: names.get(&c.author).cloned().unwrap_or_default(),
                at: uk::date_time(c.at),
                text: c.text.clone(),
            })
            .collect(),
        people,
        form: FormData::default(),
        errors: FieldErrors::default(),
    })
}

async fn task_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let detail = state
        .alliance
        .get_task(&actor, task_id(&id)?)
        .await
        .map_err(page_error)?;
    Ok(render(&task_view(&state, &actor, &auth, detail).await?)?.into_response())
}

async fn complete(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = task_id(&id)?;
    match state
        .alliance
        .complete_task(&actor, id, version_of(&form)?)
        .await
    {
        Ok(_) => Ok(Redirect::to("/tasks").into_response()),
        Err(AppError::Stale(_)) => {
            let detail = state
                .alliance
                .get_task(&actor, id)
                .await
                .map_err(page_error)?;
            let mut page = task_view(&state, &actor, &auth, detail).await?;
            page.errors = FieldErrors::one("version", STALE_MESSAGE);
            conflicted(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}

async fn reassign(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = task_id(&id)?;
    let expected = version_of(&form)?;
    let result = match UserId::parse(form.get("to")) {
        Ok(to) => state.alliance.reassign_task(&actor, id, to, expected).await,
        Err(_) => Err(AppError::Invalid(alliance_core::Invalid::field(
            "to",
            "Choose who to give it to",
        ))),
    };
    match result {
        Ok(_) => Ok(Redirect::to("/tasks").into_response()),
        Err(AppError::Invalid(invalid)) => {
            let detail = state
                .alliance
                .get_task(&actor, id)
                .await
                .map_err(page_error)?;
            let mut page = task_view(&state, &actor, &auth, detail).await?;
            page.form = form;
            page.errors = FieldErrors::from_invalid(&invalid);
            unprocessable(&page)
        }
        Err(AppError::Stale(_)) => {
            let detail = state
                .alliance
                .get_task(&actor, id)
                .await
                .map_err(page_error)?;
            let mut page = task_view(&state, &actor, &auth, detail).await?;
            page.form = form;
            page.errors = FieldErrors::one("to", STALE_MESSAGE);
            conflicted(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}

async fn comment(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = task_id(&id)?;
    match state
        .alliance
        .comment_on_task(&actor, id, form.get("text"))
        .await
    {
        Ok(()) => Ok(Redirect::to(&format!("/tasks/{id}#comments")).into_response()),
        Err(AppError::Invalid(invalid)) => {
            let detail = state
                .alliance
                .get_task(&actor, id)
                .await
                .map_err(page_error)?;
            let mut page = task_view(&state, &actor, &auth, detail).await?;
            page.form = form;
            page.errors = FieldErrors::from_invalid(&invalid);
            unprocessable(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}
