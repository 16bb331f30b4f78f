//! Letters to parents and carers about a case's sessions: the list of who may receive them
//! (and why not, for those who may not), each letter as a printable page, and as a PDF.

use super::{Layout, render};
use crate::AppState;
use crate::auth::{CurrentAuth, Signed};
use crate::errors::page_error;
use crate::respond::PageError;
use alliance_core::cases::CaseId;
use alliance_core::children::CarerId;
use alliance_core::letters::LetterKind;
use alliance_service::AppError;
use alliance_service::letters::ComposedLetter;
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/cases/{id}/letters", get(letters_page))
        .route("/cases/{id}/letters/{kind}/{carer}", get(letter_page))
        .route("/cases/{id}/letters/{kind}/{carer}/pdf", get(letter_pdf))
}

struct RecipientLine {
    id: String,
    name: String,
    relationship: String,
    standing: &'static str,
    refusal: Option<String>,
}

#[derive(Template)]
#[template(path = "letters.html")]
struct LettersPage {
    layout: Layout,
    case_id: String,
    number: String,
    recipients: Vec<RecipientLine>,
    kinds: Vec<(&'static str, &'static str, Option<String>)>,
}

#[derive(Template)]
#[template(path = "letter.html")]
struct LetterPage {
    layout: Layout,
    case_id: String,
    pdf_href: String,
    letter: ComposedLetter,
    refusal: Option<String>,
}

fn case_id(raw: &str) -> Result<CaseId, PageError> {
    CaseId::parse(raw).map_err(|_| page_error(AppError::NotFound))
}

fn letter_params(kind: &str, carer: &str) -> Result<(LetterKind, CarerId), PageError> {
    let kind = LetterKind::parse(kind).map_err(|_| page_error(AppError::NotFound))?;
    let carer = CarerId::parse(carer).map_err(|_| page_error(AppError::NotFound))?;
    Ok((kind, carer))
}

async fn letters_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = case_id(&id)?;
    let options = state
        .alliance
        .letter_options(&actor, id)
        .await
        .map_err(page_error)?;
    Ok(render(&LettersPage {
        layout: Layout::load(&state, "children", &auth).await?,
        case_id: id.to_string(),
        number: options.number,
        recipients: options
            .recipients
            .into_iter()
            .map(|r| RecipientLine {
                id: r.carer.to_string(),
                name: r.name,
                relationship: r.relationship,
                standing: match (r.parental_responsibility, r.day_to_day_care) {
                    (true, true) => "Parental responsibility; day-to-day care",
                    (true, false) => "Parental responsibility",
                    _ => "Day-to-day care",
                },
                refusal: r.refusal.map(|f| f.message()),
            })
            .collect(),
        kinds: options
            .kinds
            .into_iter()
            .map(|(k, why)| (k.code(), k.label(), why))
            .collect(),
    })?
    .into_response())
}

async fn letter_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path((id, kind, carer)): Path<(String, String, String)>,
) -> Result<Response, PageError> {
    let id = case_id(&id)?;
    let (kind, carer) = letter_params(&kind, &carer)?;
    match state.alliance.compose_letter(&actor, id, kind, carer).await {
        Ok(letter) => Ok(render(&LetterPage {
            layout: Layout::load(&state, "children", &auth).await?,
            case_id: id.to_string(),
            pdf_href: format!("/cases/{id}/letters/{}/{carer}/pdf", kind.code()),
            letter,
            refusal: None,
        })?
        .into_response()),
        Err(AppError::Invalid(invalid)) => {
            let message = invalid
                .errors
                .first()
                .map(|e| e.message.clone())
                .unwrap_or_default();
            let page = LetterPage {
                layout: Layout::load(&state, "children", &auth).await?,
                case_id: id.to_string(),
                pdf_href: String::new(),
                letter: ComposedLetter {
                    kind,
                    service_name: String::new(),
                    recipient_lines: Vec::new(),
                    salutation: String::new(),
                    date: String::new(),
                    reference: String::new(),
                    text: alliance_core::letters::LetterText {
                        subject: String::new(),
                        paragraphs: Vec::new(),
                        table: None,
                    },
                    signatory: String::new(),
                    demo: false,
                },
                refusal: Some(message),
            };
            super::unprocessable(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}

async fn letter_pdf(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path((id, kind, carer)): Path<(String, String, String)>,
) -> Result<Response, PageError> {
    let id = case_id(&id)?;
    let (kind, carer) = letter_params(&kind, &carer)?;
    let letter = state
        .alliance
        .compose_letter(&actor, id, kind, carer)
        .await
        .map_err(page_error)?;
    crate::pdf::letter_response(&letter)
        .await
        .map_err(page_error)
}
