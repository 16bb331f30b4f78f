//! Safeguarding 2 (issue 14): a child's chronology (every concern, action, decision, referral
//! and outcome in time order, and its PDF for a strategy meeting) and the transfer of the
//! child's safeguarding file to a new school: started with the destination and its deadline
//! (five school days), the encrypted file made (the chronology as PDF and JSON in an AES-256
//! ZIP whose passphrase is shown once, to be given separately by telephone), and receipt
//! recorded. The DSL, deputies and the service lead read them; the DSL and deputies act;
//! anyone else is answered 404, exactly as for a child who does not exist (audited). Who may
//! reach what is the service's (`alliance_service::concern_workflow`).

use super::directory::{not_found, version};
use crate::AppState;
use crate::auth::Signed;
use crate::extract::ApiJson;
use crate::pdf::{attachment, chronology_response, off_the_workers, pdf_chronology};
use crate::problem::{ApiError, Problem};
use alliance_core::children::ChildId;
use alliance_core::concern_workflow::{ChronologyEntry, CountedIn, TransferDestination};
use alliance_core::uk;
use alliance_service::concern_workflow::{ChronologyView, TransferPackage, TransferView};
use alliance_service::{AppError, StoreError};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

fn path_child(raw: &str) -> Result<ChildId, ApiError> {
    ChildId::parse(raw).map_err(|_| not_found())
}

fn path_transfer(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| not_found())
}

fn time(t: impl std::fmt::Display) -> String {
    t.to_string()
}

// ----- the chronology -----

/// One labelled part of an entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChronologyLineView {
    pub label: String,
    pub value: String,
}

/// One line of the chronology.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChronologyEntryView {
    /// When it happened (what the record says), else when it was recorded: RFC 3339, UTC.
    pub at: String,
    /// When it was recorded: RFC 3339, UTC.
    pub recorded_at: String,
    /// The concern's reference (`SG-…`) or the transfer's (`TR-…`).
    pub reference: String,
    /// What happened: "Concern raised", a step's label, "Addendum", "File sent to the new
    /// school", "Receipt confirmed".
    pub what: String,
    /// `raised`, a step's kind (`decided`, `referred`...), `addendum`, `transfer-sent` or
    /// `transfer-received`.
    pub code: String,
    /// Who recorded it.
    pub by: String,
    pub lines: Vec<ChronologyLineView>,
}

fn entry_view(e: &ChronologyEntry) -> ChronologyEntryView {
    ChronologyEntryView {
        at: time(e.at),
        recorded_at: time(e.recorded_at),
        reference: e.reference.clone(),
        what: e.what.clone(),
        code: e.code.clone(),
        by: e.by.clone(),
        lines: e
            .lines
            .iter()
            .map(|(label, value)| ChronologyLineView {
                label: label.clone(),
                value: value.clone(),
            })
            .collect(),
    }
}

/// Where the file goes.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DestinationView {
    /// The new school or service.
    #[serde(default)]
    pub school: String,
    /// Its DSL, by name.
    #[serde(default)]
    pub dsl_name: String,
    /// How to reach them (telephone or secure email).
    #[serde(default)]
    pub contact: String,
    /// The first day at the new school (or when the move was learnt of): the count starts
    /// here. `DD/MM/YYYY` or `YYYY-MM-DD` when sent; `YYYY-MM-DD` when read.
    #[serde(default)]
    pub starts_on: String,
}

impl From<&TransferDestination> for DestinationView {
    fn from(d: &TransferDestination) -> Self {
        Self {
            school: d.school.clone(),
            dsl_name: d.dsl_name.clone(),
            contact: d.contact.clone(),
            starts_on: d.starts_on.clone(),
        }
    }
}

impl From<DestinationView> for TransferDestination {
    fn from(d: DestinationView) -> Self {
        Self {
            school: d.school,
            dsl_name: d.dsl_name,
            contact: d.contact,
            starts_on: d.starts_on,
        }
    }
}

/// A transfer of the child's safeguarding file.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransferApiView {
    pub id: String,
    /// `TR-…`: how tasks and lists name it (never a name).
    pub reference: String,
    pub child_id: String,
    pub destination: DestinationView,
    /// The file must have gone by then (RFC 3339, UTC): the close of the fifth school day.
    pub due_at: String,
    /// How the deadline was counted: `school-days` (the child's school's term calendar) or
    /// `working-days` (no term calendar for the school).
    pub counted_in: String,
    /// `pending` (not sent yet), `sent` (the file was made and handed over) or `received`.
    pub status: String,
    /// Not sent, and the deadline has passed.
    pub overdue: bool,
    pub started_by: String,
    pub sent_by: Option<String>,
    pub sent_at: Option<String>,
    /// How the new school confirmed receipt.
    pub receipt: Option<String>,
    pub received_by: Option<String>,
    pub received_at: Option<String>,
    /// Send it back when making the file or recording receipt.
    pub version: i64,
    /// The caller may act on it (the DSL or a deputy, with a read-write credential, until
    /// receipt is recorded).
    pub may_act: bool,
}

fn transfer_view(t: &TransferView) -> TransferApiView {
    TransferApiView {
        id: t.id.to_string(),
        reference: t.reference.clone(),
        child_id: t.child.to_string(),
        destination: (&t.destination).into(),
        due_at: time(t.due_at),
        counted_in: match t.counted_in {
            CountedIn::SchoolDays => "school-days",
            CountedIn::WorkingDays => "working-days",
        }
        .to_owned(),
        status: t.status.code().to_owned(),
        overdue: t.overdue,
        started_by: t.started_by.clone(),
        sent_by: t.sent_by.clone(),
        sent_at: t.sent_at.map(time),
        receipt: t.receipt.clone(),
        received_by: t.received_by.clone(),
        received_at: t.received_at.map(time),
        version: t.version.get(),
        may_act: t.may_act,
    }
}

/// A child's chronology: every concern about them (or linked to them), each step, addendum
/// and transfer, in time order.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChronologyApiView {
    pub child_id: String,
    pub child_name: String,
    /// `YYYY-MM-DD`.
    pub date_of_birth: String,
    /// Oldest first.
    pub entries: Vec<ChronologyEntryView>,
    pub transfers: Vec<TransferApiView>,
    /// The caller may start a transfer (the DSL or a deputy, with a read-write credential).
    pub may_transfer: bool,
}

fn chronology_view(c: &ChronologyView) -> ChronologyApiView {
    ChronologyApiView {
        child_id: c.child.to_string(),
        child_name: c.child_name.clone(),
        date_of_birth: c.date_of_birth.to_string(),
        entries: c.entries.iter().map(entry_view).collect(),
        transfers: c.transfers.iter().map(transfer_view).collect(),
        may_transfer: c.may_transfer,
    }
}

/// The child's safeguarding chronology, in time order (audited): the DSL, deputies and the
/// service lead. Anyone else (a therapist on the case, an administrator) gets 404, as for a
/// child that does not exist; the refusal is audited.
#[utoipa::path(
    get,
    path = "/api/v1/children/{id}/chronology",
    tag = "safeguarding",
    params(("id" = String, Path, description = "The child's id")),
    responses(
        (status = 200, description = "The chronology", body = ChronologyApiView),
        (status = 404, description = "No such child, or the caller may not read their safeguarding file", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_chronology(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Json<ChronologyApiView>, ApiError> {
    let child = path_child(&id)?;
    let view = state.alliance.child_chronology(&actor, child).await?;
    Ok(Json(chronology_view(&view)))
}

fn render_failed(_: impl std::fmt::Display) -> AppError {
    AppError::Store(StoreError::Other(
        "the chronology could not be rendered".into(),
    ))
}

/// The chronology as a PDF for a strategy meeting (`safeguarding-chronology.pdf`, never named after the
/// child), audited as a read: the DSL, deputies and the service lead; anyone else 404.
#[utoipa::path(
    get,
    path = "/api/v1/children/{id}/chronology/pdf",
    tag = "safeguarding",
    params(("id" = String, Path, description = "The child's id")),
    responses(
        (status = 200, description = "The PDF", content_type = "application/pdf"),
        (status = 404, description = "No such child, or the caller may not read their safeguarding file", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn chronology_pdf(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let child = path_child(&id)?;
    let view = state.alliance.child_chronology(&actor, child).await?;
    Ok(chronology_response(&state.alliance, &actor, &view).await?)
}

// ----- transfers -----

/// Starts a transfer of the child's safeguarding file to a new school (the DSL or a deputy):
/// the deadline is the close of the fifth school day from the first day there, counted in the
/// child's school's term calendar (working days when it has none; a move in the holidays
/// counts from the new term), and a task tracks it.
#[utoipa::path(
    post,
    path = "/api/v1/children/{id}/transfers",
    tag = "safeguarding",
    params(("id" = String, Path, description = "The child's id")),
    request_body = DestinationView,
    responses(
        (status = 201, description = "Started", body = TransferApiView),
        (status = 403, description = "The service lead (who reads but does not act), or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such child, or the caller may not reach their safeguarding file", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A part is missing or not valid (`school`, `dsl_name`, `contact`, `starts_on`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn start_transfer(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DestinationView>,
) -> Result<(StatusCode, Json<TransferApiView>), ApiError> {
    let child = path_child(&id)?;
    let destination: TransferDestination = body.into();
    let tid = state
        .alliance
        .start_transfer(&actor, child, &destination)
        .await?;
    let view = state.alliance.transfer_view(&actor, child, tid).await?;
    Ok((StatusCode::CREATED, Json(transfer_view(&view))))
}

/// A transfer (audited): the DSL, deputies and the service lead; anyone else 404.
#[utoipa::path(
    get,
    path = "/api/v1/children/{id}/transfers/{tid}",
    tag = "safeguarding",
    params(
        ("id" = String, Path, description = "The child's id"),
        ("tid" = String, Path, description = "The transfer's id"),
    ),
    responses(
        (status = 200, description = "The transfer", body = TransferApiView),
        (status = 404, description = "No such transfer of this child's, or the caller may not reach it", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_transfer(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path((id, tid)): Path<(String, String)>,
) -> Result<Json<TransferApiView>, ApiError> {
    let (child, tid) = (path_child(&id)?, path_transfer(&tid)?);
    let view = state.alliance.transfer_view(&actor, child, tid).await?;
    Ok(Json(transfer_view(&view)))
}

/// The transfer's version as read.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferVersionBody {
    pub version: i64,
}

/// The encrypted file, made: the passphrase is shown here once and kept nowhere.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransferFileView {
    /// Six groups of four capitals and digits, e.g. `K7QM-3XWD-PH9A-TN4E-RZ2B-8FGY`.
    pub passphrase: String,
    /// "Give this passphrase to … separately, by telephone; never in the same email as the
    /// file."
    pub instruction: String,
    /// Where to download the file (as often as needed, by the DSL or a deputy).
    pub download: String,
    pub transfer: TransferApiView,
}

/// The encrypted file for a new school and the passphrase it opens with (shown once, never
/// stored).
pub(crate) struct TransferFile {
    pub(crate) zip: Vec<u8>,
    pub(crate) passphrase: String,
}

/// The chronology as JSON, for the new school's own system.
#[derive(Serialize)]
struct TransferJson<'a> {
    format: &'static str,
    format_version: u32,
    service: &'a str,
    prepared_by: &'a str,
    prepared_at: String,
    transfer: &'a str,
    child: TransferJsonChild<'a>,
    destination: &'a TransferDestination,
    entries: Vec<ChronologyEntryView>,
}

#[derive(Serialize)]
struct TransferJsonChild<'a> {
    name: &'a str,
    date_of_birth: String,
}

/// Makes the encrypted file for a transfer: `chronology.pdf` and `chronology.json` in a ZIP
/// whose entries are AES-256 encrypted under a fresh passphrase (the pages and the API share
/// this: `now` is when it is prepared, `now_uk` the same as the PDF prints it).
pub(crate) async fn make_transfer_file(
    package: TransferPackage,
    now: impl std::fmt::Display + Copy + Send + 'static,
    now_uk: String,
) -> Result<TransferFile, AppError> {
    off_the_workers(move || {
        let purpose = format!("Transfer to {}", package.transfer.destination.school);
        let doc = pdf_chronology(
            &package.chronology,
            &package.prepared_by,
            now_uk,
            purpose,
            package.service_name.clone(),
        );
        let pdf = alliance_pdf::render_chronology(&doc).map_err(render_failed)?;
        let json = serde_json::to_vec_pretty(&TransferJson {
            format: "alliance-safeguarding-chronology",
            format_version: 1,
            service: &package.service_name,
            prepared_by: &package.prepared_by,
            prepared_at: time(now),
            transfer: &package.transfer.reference,
            child: TransferJsonChild {
                name: &package.chronology.child_name,
                date_of_birth: package.chronology.date_of_birth.to_string(),
            },
            destination: &package.transfer.destination,
            entries: package.chronology.entries.iter().map(entry_view).collect(),
        })
        .map_err(render_failed)?;
        let passphrase = crate::export::new_passphrase();
        let zip = crate::export::encrypted_zip(
            &[("chronology.pdf", &pdf), ("chronology.json", &json)],
            &passphrase,
        )
        .map_err(render_failed)?;
        Ok(TransferFile { zip, passphrase })
    })
    .await
}

/// Makes the encrypted file (the chronology as PDF and JSON, AES-256 under a fresh
/// passphrase), stores it and marks the transfer sent; receipt is then awaited. The
/// passphrase is answered once, here: give it to the new school's DSL separately, by
/// telephone. Making it again (before receipt) makes a new file with a new passphrase.
#[utoipa::path(
    post,
    path = "/api/v1/children/{id}/transfers/{tid}/file",
    tag = "safeguarding",
    params(
        ("id" = String, Path, description = "The child's id"),
        ("tid" = String, Path, description = "The transfer's id"),
    ),
    request_body = TransferVersionBody,
    responses(
        (status = 201, description = "Made: the passphrase, once", body = TransferFileView),
        (status = 403, description = "The service lead (who reads but does not act), or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such transfer of this child's, or the caller may not reach it", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Receipt is recorded already, or the transfer changed since it was read", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn make_file(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path((id, tid)): Path<(String, String)>,
    ApiJson(body): ApiJson<TransferVersionBody>,
) -> Result<(StatusCode, Json<TransferFileView>), ApiError> {
    let (child, tid) = (path_child(&id)?, path_transfer(&tid)?);
    let expected = version(body.version)?;
    let package = state.alliance.transfer_package(&actor, child, tid).await?;
    let dsl_name = package.transfer.destination.dsl_name.clone();
    let now = state.alliance.clock().now();
    let file = make_transfer_file(package, now, uk::date_time(now)).await?;
    state
        .alliance
        .record_transfer_sent(&actor, child, tid, &file.zip, expected)
        .await?;
    let view = state.alliance.transfer_view(&actor, child, tid).await?;
    Ok((
        StatusCode::CREATED,
        Json(TransferFileView {
            passphrase: file.passphrase,
            instruction: format!(
                "Give this passphrase to {dsl_name} separately, by telephone; never in the same \
                 email as the file."
            ),
            download: format!("/api/v1/children/{child}/transfers/{tid}/file"),
            transfer: transfer_view(&view),
        }),
    ))
}

/// The encrypted file as made (`safeguarding-file-TR-….zip`, never named after the child),
/// audited: the DSL and deputies; anyone else 404, and 404 before it is made.
#[utoipa::path(
    get,
    path = "/api/v1/children/{id}/transfers/{tid}/file",
    tag = "safeguarding",
    params(
        ("id" = String, Path, description = "The child's id"),
        ("tid" = String, Path, description = "The transfer's id"),
    ),
    responses(
        (status = 200, description = "The encrypted ZIP", content_type = "application/zip"),
        (status = 404, description = "No file made yet, or the caller may not reach it", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_file(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path((id, tid)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (child, tid) = (path_child(&id)?, path_transfer(&tid)?);
    let bytes = state.alliance.transfer_file(&actor, child, tid).await?;
    let reference = alliance_service::concern_workflow::transfer_reference(tid);
    Ok(attachment(
        bytes,
        "application/zip",
        &format!("safeguarding-file-{reference}.zip"),
    ))
}

/// How the new school confirmed receipt.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptBody {
    /// Who confirmed, when and how (e.g. "R. Patel confirmed by telephone that the file opened").
    pub confirmation: String,
    /// The transfer's version as read.
    pub version: i64,
}

/// Records that the new school confirmed receipt (the DSL or a deputy): the transfer is then
/// finished. Refused (409) before the file was sent.
#[utoipa::path(
    post,
    path = "/api/v1/children/{id}/transfers/{tid}/receipt",
    tag = "safeguarding",
    params(
        ("id" = String, Path, description = "The child's id"),
        ("tid" = String, Path, description = "The transfer's id"),
    ),
    request_body = ReceiptBody,
    responses(
        (status = 200, description = "Recorded", body = TransferApiView),
        (status = 403, description = "The service lead (who reads but does not act), or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such transfer of this child's, or the caller may not reach it", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not sent yet, recorded already, or changed since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No confirmation (`confirmation`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn record_receipt(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path((id, tid)): Path<(String, String)>,
    ApiJson(body): ApiJson<ReceiptBody>,
) -> Result<Json<TransferApiView>, ApiError> {
    let (child, tid) = (path_child(&id)?, path_transfer(&tid)?);
    let expected = version(body.version)?;
    state
        .alliance
        .record_transfer_received(&actor, child, tid, &body.confirmation, expected)
        .await?;
    let view = state.alliance.transfer_view(&actor, child, tid).await?;
    Ok(Json(transfer_view(&view)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_chronology_and_transfer_route_is_documented() {
        let doc = super::super::openapi();
        for (path, methods) in [
            ("/api/v1/children/{id}/chronology", &["get"][..]),
            ("/api/v1/children/{id}/chronology/pdf", &["get"][..]),
            ("/api/v1/children/{id}/transfers", &["post"][..]),
            ("/api/v1/children/{id}/transfers/{tid}", &["get"][..]),
            (
                "/api/v1/children/{id}/transfers/{tid}/file",
                &["get", "post"][..],
            ),
            (
                "/api/v1/children/{id}/transfers/{tid}/receipt",
                &["post"][..],
            ),
        ] {
            let item = doc.paths.paths.get(path);
            assert!(item.is_some(), "{path} is missing");
            for method in methods {
                let operation = item.and_then(|i| match *method {
                    "get" => i.get.as_ref(),
                    _ => i.post.as_ref(),
                });
                assert!(operation.is_some(), "{method} {path} is missing");
            }
        }
    }

    #[test]
    fn the_bodies_refuse_unknown_fields() {
        let ok: Result<DestinationView, _> = serde_json::from_str(
            r#"{"school": "Hillside Academy", "dsl_name": "R. Patel", "starts_on": "2027-01-07"}"#,
        );
        assert!(ok.is_ok_and(|d| d.contact.is_empty()));
        let stray: Result<DestinationView, _> = serde_json::from_str(r#"{"name": "x"}"#);
        assert!(stray.is_err());
        let receipt: Result<ReceiptBody, _> = serde_json::from_str(r#"{"confirmation": "ok"}"#);
        assert!(
            receipt.is_err(),
            "receipt is recorded against the version read"
        );
    }

    #[test]
    fn the_pdf_takes_the_entries_in_order_with_london_times() {
        let entry = |at: &str, what: &str| ChronologyEntry {
            at: at.parse().unwrap(),
            recorded_at: at.parse().unwrap(),
            reference: "SG-1".to_owned(),
            what: what.to_owned(),
            code: "raised".to_owned(),
            by: "D".to_owned(),
            lines: vec![("Agency".to_owned(), "Police".to_owned())],
        };
        let view = ChronologyView {
            child: ChildId(Uuid::nil()),
            child_name: "A Child".to_owned(),
            date_of_birth: "2016-03-14".parse().unwrap(),
            entries: vec![
                entry("2026-07-01T09:30:00Z", "Concern raised"),
                entry("2026-07-02T10:00:00Z", "Referral made"),
            ],
            transfers: Vec::new(),
            may_transfer: false,
        };
        let doc = pdf_chronology(
            &view,
            "Dana Lee",
            "03/07/2026 13:00".to_owned(),
            "For a strategy meeting".to_owned(),
            "Riverside".to_owned(),
        );
        assert_eq!(doc.date_of_birth, "14/03/2016");
        let whens: Vec<&str> = doc.entries.iter().map(|e| e.when.as_str()).collect();
        assert_eq!(
            whens,
            ["01/07/2026 10:30", "02/07/2026 11:00"],
            "British Summer Time"
        );
        assert_eq!(doc.entries[1].lines[0].1, "Police");
    }
}
