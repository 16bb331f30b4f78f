//! Private process notes: the caller's own reflections about a case's child, apart from the
//! clinical record. Only their author reads them; anyone else (the case team, the supervisor,
//! the service lead, an administrator) is answered 404, as the service decides.

use super::agreements::CreatedView;
use super::directory::not_found;
use crate::AppState;
use crate::auth::Signed;
use crate::extract::ApiJson;
use crate::problem::{ApiError, Problem};
use alliance_core::cases::CaseId;
use alliance_service::process_notes::{MyProcessNotes, ProcessNoteView};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

fn case_id(raw: &str) -> Result<CaseId, ApiError> {
    CaseId::parse(raw).map_err(|_| not_found())
}

/// One of the caller's notes.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProcessNoteApiView {
    pub id: String,
    /// The case it was written in (notes from the child's earlier cases are listed too).
    pub case_id: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// As written, line breaks kept.
    pub text: String,
}

fn note_view(n: ProcessNoteView) -> ProcessNoteApiView {
    ProcessNoteApiView {
        id: n.id.to_string(),
        case_id: n.case_id.to_string(),
        created_at: n.created_at.to_string(),
        text: n.text,
    }
}

/// The caller's own process notes about a case's child.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseProcessNotesView {
    pub case_id: String,
    pub case_number: String,
    /// The child's name, or their initials and case number for a pseudonymised reader.
    pub child_label: String,
    /// Newest first.
    pub notes: Vec<ProcessNoteApiView>,
    /// Whether the caller may write one now (the child's open case, not a read-only token).
    pub may_write: bool,
}

fn notes_view(m: MyProcessNotes) -> CaseProcessNotesView {
    CaseProcessNotesView {
        case_id: m.case_id.to_string(),
        case_number: m.case_number,
        child_label: m.child_label,
        notes: m.notes.into_iter().map(note_view).collect(),
        may_write: m.may_write,
    }
}

/// The caller's own process notes about the case's child, newest first. Only a therapist on
/// the case team keeps them, and each reads only their own; anyone else gets 404 (audited).
/// They are still personal data: a subject access request may include them, read by a named
/// reviewer.
#[utoipa::path(
    get,
    path = "/api/v1/cases/{id}/process-notes",
    tag = "process-notes",
    params(("id" = String, Path, description = "The case's id")),
    responses(
        (status = 200, description = "The caller's notes", body = CaseProcessNotesView),
        (status = 404, description = "No such case, or none the caller may keep notes about", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn my_process_notes(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Json<CaseProcessNotesView>, ApiError> {
    let notes = state
        .alliance
        .my_process_notes(&actor, case_id(&id)?)
        .await?;
    Ok(Json(notes_view(notes)))
}

/// A note as typed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcessNoteBody {
    /// The note (line breaks kept; up to 20,000 characters).
    pub text: String,
}

/// Writes a process note of the caller's own, sealed under the child's process-notes key.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/process-notes",
    tag = "process-notes",
    params(("id" = String, Path, description = "The case's id")),
    request_body = ProcessNoteBody,
    responses(
        (status = 201, description = "Written", body = CreatedView),
        (status = 403, description = "The case is closed (or not the child's newest), or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such case, or none the caller may keep notes about", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The note is empty or too long (`text`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn write_process_note(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ProcessNoteBody>,
) -> Result<(StatusCode, Json<CreatedView>), ApiError> {
    let written = state
        .alliance
        .write_process_note(&actor, case_id(&id)?, &body.text)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedView {
            id: written.to_string(),
        }),
    ))
}
