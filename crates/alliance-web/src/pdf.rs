//! PDFs for people: letters, handouts and therapy agreements rendered by the typst-based
//! `alliance-pdf` crate, off the async workers, with a file name that says what the document
//! is and never whom it is about.

use alliance_core::uk;
use alliance_service::agreements::AgreementDocument;
use alliance_service::concern_workflow::ChronologyView;
use alliance_service::handouts::HandoutSet;
use alliance_service::letters::ComposedLetter;
use alliance_service::{Actor, Alliance, AppError, StoreError};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The letter as the PDF crate takes it.
fn pdf_letter(letter: &ComposedLetter) -> alliance_pdf::Letter {
    alliance_pdf::Letter {
        service_name: letter.service_name.clone(),
        sender_lines: vec![letter.service_name.clone()],
        recipient_lines: letter.recipient_lines.clone(),
        date: letter.date.clone(),
        reference: letter.reference.clone(),
        subject: letter.text.subject.clone(),
        salutation: letter.salutation.clone(),
        paragraphs: letter.text.paragraphs.clone(),
        table: letter.text.table.as_ref().map(|(caption, headers, rows)| {
            alliance_pdf::LetterTable {
                caption: caption.clone(),
                headers: headers.clone(),
                rows: rows.clone(),
            }
        }),
        sign_off: "Yours sincerely,".to_owned(),
        signatory_lines: vec![letter.signatory.clone(), letter.service_name.clone()],
        footer: if letter.demo {
            "DEMO SERVICE: made-up data, not a real letter".to_owned()
        } else {
            "Confidential: for the addressee only".to_owned()
        },
    }
}

/// Runs slow work (typesetting, encrypting) off the async workers.
pub(crate) async fn off_the_workers<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| AppError::Store(StoreError::Other("rendering stopped".into())))?
}

/// A file to download, named `filename`: what the document is, never whom it is about; never
/// cached.
pub(crate) fn attachment(bytes: Vec<u8>, content_type: &'static str, filename: &str) -> Response {
    let mut response = (StatusCode::OK, bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Typesets off the async workers (it takes a while) and answers with the PDF as an
/// attachment named `filename`.
async fn render_response(
    render: impl FnOnce() -> Result<Vec<u8>, alliance_pdf::PdfError> + Send + 'static,
    filename: &str,
) -> Result<Response, AppError> {
    let bytes = off_the_workers(move || {
        render().map_err(|e| AppError::Store(StoreError::Other(e.to_string())))
    })
    .await?;
    Ok(attachment(bytes, "application/pdf", filename))
}

/// A child's safeguarding chronology as the PDF crate takes it.
pub(crate) fn pdf_chronology(
    view: &ChronologyView,
    prepared_by: &str,
    prepared_at: String,
    purpose: String,
    service: String,
) -> alliance_pdf::Chronology {
    alliance_pdf::Chronology {
        child_name: view.child_name.clone(),
        date_of_birth: uk::date(view.date_of_birth),
        prepared_by: prepared_by.to_owned(),
        prepared_at,
        purpose,
        service,
        entries: view
            .entries
            .iter()
            .map(|e| alliance_pdf::ChronologyLine {
                when: uk::date_time(e.at),
                reference: e.reference.clone(),
                what: e.what.clone(),
                by: e.by.clone(),
                lines: e.lines.clone(),
            })
            .collect(),
    }
}

/// A child's chronology as a PDF for a strategy meeting (`safeguarding-chronology.pdf`),
/// prepared by the reader now.
pub(crate) async fn chronology_response(
    alliance: &Alliance,
    actor: &Actor,
    view: &ChronologyView,
) -> Result<Response, AppError> {
    let service = alliance
        .service_profile()
        .await?
        .map(|p| p.name.as_str().to_owned())
        .unwrap_or_default();
    let doc = pdf_chronology(
        view,
        &actor.user.display_name,
        uk::date_time(alliance.clock().now()),
        "For a strategy meeting".to_owned(),
        service,
    );
    render_response(
        move || alliance_pdf::render_chronology(&doc),
        "safeguarding-chronology.pdf",
    )
    .await
}

/// A letter as a PDF, named by its kind and case number.
pub(crate) async fn letter_response(letter: &ComposedLetter) -> Result<Response, AppError> {
    let input = pdf_letter(letter);
    let filename = format!(
        "letter-{}-{}.pdf",
        letter.kind.code(),
        letter.reference.replace(' ', "-").to_lowercase()
    );
    render_response(move || alliance_pdf::render_letter(&input), &filename).await
}

/// A set of handouts as a PDF (`handouts.pdf`).
pub(crate) async fn handouts_response(set: &HandoutSet) -> Result<Response, AppError> {
    let pages: Vec<alliance_pdf::Handout> = set
        .pages
        .iter()
        .map(|p| alliance_pdf::Handout {
            service_name: p.service_name.clone(),
            service_lines: Vec::new(),
            title: p.title.clone(),
            for_name: p.for_name.clone(),
            audience: format!("{}. {}", p.audience.label(), p.provenance),
            paragraphs: p.paragraphs.clone(),
            pictures: p.pictures.clone(),
            large: p.large(),
        })
        .collect();
    let (title, footer) = (set.title.clone(), set.footer.clone());
    render_response(
        move || alliance_pdf::render_handouts(&pages, &title, &footer),
        "handouts.pdf",
    )
    .await
}

/// A therapy agreement as a PDF, named by whose copy it is (`agreement-child.pdf`,
/// `agreement-carer.pdf`), never by name.
pub(crate) async fn agreement_response(
    document: &AgreementDocument,
    copy: &str,
) -> Result<Response, AppError> {
    let input = alliance_pdf::Agreement {
        service_name: document.service_name.clone(),
        title: document.title.clone(),
        for_name: if document.for_name.trim().is_empty() {
            String::new()
        } else {
            format!("For {}", document.for_name)
        },
        status_line: document.status_line.clone(),
        rules: document.rules.clone(),
        time_and_place: document.time_and_place.clone(),
        confidentiality: document.confidentiality.clone(),
        footer: document.footer.clone(),
    };
    render_response(
        move || alliance_pdf::render_agreement(&input),
        &format!("agreement-{copy}.pdf"),
    )
    .await
}
