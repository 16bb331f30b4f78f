//! Letters to parents and carers about a case's sessions: who may receive them (and why not),
//! each letter's words, and the PDF.

use super::directory::not_found;
use crate::AppState;
use crate::auth::Signed;
use crate::problem::{ApiError, Problem};
use alliance_core::cases::CaseId;
use alliance_core::children::CarerId;
use alliance_core::letters::LetterKind;
use alliance_service::letters::ComposedLetter;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Serialize;
use utoipa::ToSchema;

/// A carer and whether a letter about the sessions may go to them.
#[derive(Debug, Serialize, ToSchema)]
pub struct LetterRecipientView {
    pub id: String,
    pub name: String,
    pub relationship: String,
    pub parental_responsibility: bool,
    pub day_to_day_care: bool,
    /// Why no letter may go to them (for the member of staff), or absent.
    pub refusal: Option<String>,
    /// The refusal's code: `restricted`, `not-to-be-contacted`, `young-person-has-not-agreed`,
    /// `child-has-died`.
    pub refusal_code: Option<String>,
}

/// A kind of letter and whether it can be written now.
#[derive(Debug, Serialize, ToSchema)]
pub struct LetterKindView {
    /// `regular-time`, `break`, `changes` or `ending`.
    pub kind: String,
    pub label: String,
    /// Why not now (no break ahead, no ending agreed, no changes), or absent.
    pub unavailable: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LetterOptionsView {
    pub case_number: String,
    pub recipients: Vec<LetterRecipientView>,
    pub kinds: Vec<LetterKindView>,
}

/// A letter's words.
#[derive(Debug, Serialize, ToSchema)]
pub struct LetterView {
    pub kind: String,
    pub recipient_lines: Vec<String>,
    pub salutation: String,
    /// `DD/MM/YYYY`.
    pub date: String,
    pub reference: String,
    pub subject: String,
    pub paragraphs: Vec<String>,
    /// The sessions to come: a header row, then one row per session.
    pub table: Option<Vec<Vec<String>>>,
    pub signatory: String,
}

impl From<ComposedLetter> for LetterView {
    fn from(l: ComposedLetter) -> Self {
        Self {
            kind: l.kind.code().to_owned(),
            recipient_lines: l.recipient_lines,
            salutation: l.salutation,
            date: l.date,
            reference: l.reference,
            subject: l.text.subject,
            paragraphs: l.text.paragraphs,
            table: l
                .text
                .table
                .map(|(_, headers, rows)| std::iter::once(headers).chain(rows).collect()),
            signatory: l.signatory,
        }
    }
}

fn case_id(raw: &str) -> Result<CaseId, ApiError> {
    CaseId::parse(raw).map_err(|_| not_found())
}

fn letter_params(kind: &str, carer: &str) -> Result<(LetterKind, CarerId), ApiError> {
    let kind = LetterKind::parse(kind).map_err(|_| not_found())?;
    let carer = CarerId::parse(carer).map_err(|_| not_found())?;
    Ok((kind, carer))
}

/// Who may receive the case's letters, and which can be written now (the case team and
/// administrators).
#[utoipa::path(
    get,
    path = "/api/v1/cases/{id}/letters",
    tag = "sessions",
    params(("id" = String, Path, description = "The case's id")),
    responses(
        (status = 200, description = "The letters and their recipients", body = LetterOptionsView),
        (status = 403, description = "Not on the case team nor an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such case", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No regular time is set", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn letter_options(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Json<LetterOptionsView>, ApiError> {
    let options = state.alliance.letter_options(&actor, case_id(&id)?).await?;
    Ok(Json(LetterOptionsView {
        case_number: options.number,
        recipients: options
            .recipients
            .into_iter()
            .map(|r| LetterRecipientView {
                id: r.carer.to_string(),
                name: r.name,
                relationship: r.relationship,
                parental_responsibility: r.parental_responsibility,
                day_to_day_care: r.day_to_day_care,
                refusal: r.refusal.map(|f| f.message()),
                refusal_code: r.refusal.map(|f| f.code().to_owned()),
            })
            .collect(),
        kinds: options
            .kinds
            .into_iter()
            .map(|(k, why)| LetterKindView {
                kind: k.code().to_owned(),
                label: k.label().to_owned(),
                unavailable: why,
            })
            .collect(),
    }))
}

/// One letter to one carer (recorded in the audit trail). Refused with 422 and the reason
/// when the carer may not receive it.
#[utoipa::path(
    get,
    path = "/api/v1/cases/{id}/letters/{kind}/{carer}",
    tag = "sessions",
    params(
        ("id" = String, Path, description = "The case's id"),
        ("kind" = String, Path, description = "`regular-time`, `break`, `changes` or `ending`"),
        ("carer" = String, Path, description = "The carer's id"),
    ),
    responses(
        (status = 200, description = "The letter", body = LetterView),
        (status = 403, description = "Not on the case team nor an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such case, letter or carer", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "This carer may not receive it, or there is nothing to say", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn letter(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path((id, kind, carer)): Path<(String, String, String)>,
) -> Result<Json<LetterView>, ApiError> {
    let (kind, carer) = letter_params(&kind, &carer)?;
    let letter = state
        .alliance
        .compose_letter(&actor, case_id(&id)?, kind, carer)
        .await?;
    Ok(Json(letter.into()))
}

/// The letter as a PDF (A4, tagged for accessibility).
#[utoipa::path(
    get,
    path = "/api/v1/cases/{id}/letters/{kind}/{carer}/pdf",
    tag = "sessions",
    params(
        ("id" = String, Path, description = "The case's id"),
        ("kind" = String, Path, description = "`regular-time`, `break`, `changes` or `ending`"),
        ("carer" = String, Path, description = "The carer's id"),
    ),
    responses(
        (status = 200, description = "The PDF", content_type = "application/pdf"),
        (status = 403, description = "Not on the case team nor an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such case, letter or carer", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "This carer may not receive it, or there is nothing to say", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn letter_pdf(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path((id, kind, carer)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let (kind, carer) = letter_params(&kind, &carer)?;
    let letter = state
        .alliance
        .compose_letter(&actor, case_id(&id)?, kind, carer)
        .await?;
    Ok(crate::pdf::letter_response(&letter).await?)
}
