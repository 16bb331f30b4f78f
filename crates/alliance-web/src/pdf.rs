//! PDFs for people: letters, handouts and therapy agreements rendered by the typst-based
//! `alliance-pdf` crate, off the async workers, with a file name that says what the document
//! is and never whom it is about.

use alliance_service::agreements::AgreementDocument;
use alliance_service::handouts::HandoutSet;
use alliance_service::letters::ComposedLetter;
use alliance_service::{AppError, StoreError};
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

/// Typesets off the async workers (it takes a while) and answers with the PDF as an
/// attachment named `filename`: what the document is, never whom it is about.
async fn render_response(
    render: impl FnOnce() -> Result<Vec<u8>, alliance_pdf::PdfError> + Send + 'static,
    filename: &str,
) -> Result<Response, AppError> {
    let bytes = tokio::task::spawn_blocking(render)
        .await
        .map_err(|_| AppError::Store(StoreError::Other("PDF rendering stopped".into())))?
        .map_err(|e| AppError::Store(StoreError::Other(e.to_string())))?;
    let mut response = (StatusCode::OK, bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
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
