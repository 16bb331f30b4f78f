//! Safeguarding 2 (issue 14): a child's chronology (every concern, step, addendum and transfer
//! in time order, printable and as a PDF for a strategy meeting) and the transfer of the
//! safeguarding file to a new school: the deadline in school days, the encrypted file whose
//! passphrase is shown once and given by telephone, and the receipt. Who may see or do what is
//! the use-cases' (`alliance_service::concern_workflow`): the DSL, deputies and the service lead
//! read, the DSL and deputies act; anyone else is answered "not found".

use super::{FieldErrors, FormData, Layout, STALE_MESSAGE, render, version_of};
use crate::AppState;
use crate::api::chronology::{TransferFile, make_transfer_file};
use crate::auth::{Auth, CurrentAuth, Signed};
use crate::errors::page_error;
use crate::pdf::{attachment, chronology_response};
use crate::respond::PageError;
use alliance_core::children::ChildId;
use alliance_core::concern_workflow::{ChronologyEntry, CountedIn, TransferDestination};
use alliance_core::identity::Role;
use alliance_core::uk;
use alliance_service::concern_workflow::TransferView;
use alliance_service::{Actor, AppError, TransferStatus};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/children/{id}/chronology", get(chronology_page))
        .route("/children/{id}/chronology.pdf", get(chronology_pdf))
        .route("/children/{id}/transfers", post(start_transfer))
        .route("/children/{id}/transfers/{tid}", get(transfer_page))
        .route("/children/{id}/transfers/{tid}/send", post(send_transfer))
        .route("/children/{id}/transfers/{tid}/file", get(transfer_file))
        .route(
            "/children/{id}/transfers/{tid}/received",
            post(record_received),
        )
}

fn child_id(raw: &str) -> Result<ChildId, PageError> {
    ChildId::parse(raw).map_err(|_| page_error(AppError::NotFound))
}

fn transfer_id(raw: &str) -> Result<Uuid, PageError> {
    Uuid::parse_str(raw).map_err(|_| page_error(AppError::NotFound))
}

fn may_act_on_file(actor: &Actor) -> bool {
    actor.user.has_role(Role::Dsl) || actor.user.has_role(Role::DeputyDsl)
}

// ----- the chronology -----

/// One line of the chronology as shown.
struct EntryLine {
    when: String,
    /// When it was recorded, when that is not when it happened.
    recorded: Option<String>,
    reference: String,
    what: String,
    by: String,
    lines: Vec<(String, String)>,
}

fn entry_line(e: &ChronologyEntry) -> EntryLine {
    let when = uk::date_time(e.at);
    let recorded = uk::date_time(e.recorded_at);
    EntryLine {
        recorded: (recorded != when).then_some(recorded),
        when,
        reference: e.reference.clone(),
        what: e.what.clone(),
        by: e.by.clone(),
        lines: e.lines.clone(),
    }
}

/// A transfer in the list on the chronology.
struct TransferLine {
    href: String,
    reference: String,
    school: String,
    due: String,
    status: String,
    overdue: bool,
}

fn status_text(t: &TransferView) -> String {
    match t.status {
        TransferStatus::Pending => "Not sent yet".to_owned(),
        TransferStatus::Sent => match (&t.sent_by, t.sent_at) {
            (Some(by), Some(at)) => format!("Sent by {by} on {}", uk::date_time(at)),
            _ => "Sent".to_owned(),
        },
        TransferStatus::Received => match (&t.received_by, t.received_at) {
            (Some(by), Some(at)) => {
                format!(
                    "Receipt confirmed, recorded by {by} on {}",
                    uk::date_time(at)
                )
            }
            _ => "Receipt confirmed".to_owned(),
        },
    }
}

#[derive(Template)]
#[template(path = "safeguarding_chronology.html")]
struct ChronologyPage {
    layout: Layout,
    child: String,
    child_name: String,
    date_of_birth: String,
    prepared: String,
    entries: Vec<EntryLine>,
    transfers: Vec<TransferLine>,
    may_transfer: bool,
    /// The page as printed: no forms or controls.
    print: bool,
    form: FormData,
    errors: FieldErrors,
}

#[derive(Debug, Default, Deserialize)]
struct ChronologyQuery {
    print: Option<String>,
}

async fn chronology_view(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    child: ChildId,
    print: bool,
) -> Result<ChronologyPage, PageError> {
    let view = state
        .alliance
        .child_chronology(actor, child)
        .await
        .map_err(page_error)?;
    Ok(ChronologyPage {
        layout: Layout::load(state, "children", auth).await?,
        child: child.to_string(),
        child_name: view.child_name.clone(),
        date_of_birth: uk::date(view.date_of_birth),
        prepared: format!(
            "{} on {}",
            actor.user.display_name,
            uk::date_time(state.alliance.clock().now())
        ),
        entries: view.entries.iter().map(entry_line).collect(),
        transfers: view
            .transfers
            .iter()
            .map(|t| TransferLine {
                href: format!("/children/{child}/transfers/{}", t.id),
                reference: t.reference.clone(),
                school: t.destination.school.clone(),
                due: uk::date_time(t.due_at),
                status: status_text(t),
                overdue: t.overdue,
            })
            .collect(),
        may_transfer: view.may_transfer && !print,
        print,
        form: FormData::default(),
        errors: FieldErrors::default(),
    })
}

async fn chronology_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Query(query): Query<ChronologyQuery>,
) -> Result<Response, PageError> {
    let child = child_id(&id)?;
    let print = query.print.is_some();
    let page = chronology_view(&state, &actor, &auth, child, print).await?;
    Ok(render(&page)?.into_response())
}

async fn chronology_pdf(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let child = child_id(&id)?;
    let view = state
        .alliance
        .child_chronology(&actor, child)
        .await
        .map_err(page_error)?;
    chronology_response(&state.alliance, &actor, &view)
        .await
        .map_err(page_error)
}

// ----- transfers -----

fn destination_of(form: &FormData) -> TransferDestination {
    TransferDestination {
        school: form.get("school").to_owned(),
        dsl_name: form.get("dsl_name").to_owned(),
        contact: form.get("contact").to_owned(),
        starts_on: form.get("starts_on").to_owned(),
    }
}

async fn start_transfer(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let child = child_id(&id)?;
    match state
        .alliance
        .start_transfer(&actor, child, &destination_of(&form))
        .await
    {
        Ok(tid) => Ok(
            Redirect::to(&format!("/children/{child}/transfers/{tid}?saved=started"))
                .into_response(),
        ),
        Err(AppError::Invalid(invalid)) => {
            let mut page = chronology_view(&state, &actor, &auth, child, false).await?;
            page.errors = FieldErrors::from_invalid(&invalid);
            page.form = form;
            super::unprocessable(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}

#[derive(Template)]
#[template(path = "safeguarding_transfer.html")]
struct TransferPage {
    layout: Layout,
    child: String,
    id: String,
    reference: String,
    school: String,
    dsl_name: String,
    contact: String,
    starts_on: String,
    due: String,
    counted: String,
    status: String,
    overdue: bool,
    receipt: Option<String>,
    /// "Make the encrypted file" (again, once sent).
    may_send: bool,
    /// "Record receipt": once the file has gone.
    may_receive: bool,
    /// The encrypted file as made, to download again.
    file_href: Option<String>,
    sent: bool,
    version: i64,
    notice: Option<String>,
    form: FormData,
    errors: FieldErrors,
}

#[derive(Debug, Default, Deserialize)]
struct TransferQuery {
    saved: Option<String>,
}

/// The name of the child's school, for saying whose term calendar the deadline was counted
/// in (the reader may know the child: the transfer's gate let them through).
async fn school_of(state: &AppState, actor: &Actor, child: ChildId) -> Option<String> {
    let record = state.alliance.get_child(actor, child).await.ok()?;
    let site = record.details?.school_site?;
    let sites = state.alliance.list_sites(actor).await.ok()?;
    sites
        .into_iter()
        .find(|s| s.id == site)
        .map(|s| s.details.name)
}

async fn transfer_view(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    child: ChildId,
    tid: Uuid,
) -> Result<TransferPage, PageError> {
    let t = state
        .alliance
        .transfer_view(actor, child, tid)
        .await
        .map_err(page_error)?;
    let counted = match t.counted_in {
        CountedIn::SchoolDays => {
            let (timing, _) = state
                .alliance
                .safeguarding_timing()
                .await
                .map_err(page_error)?;
            let school = school_of(state, actor, child)
                .await
                .unwrap_or_else(|| "the child's school".to_owned());
            let n = timing.transfer_school_days;
            format!(
                "{n} school day{} in {school}'s term calendar",
                if n == 1 { "" } else { "s" }
            )
        }
        CountedIn::WorkingDays => {
            "working days: no term calendar for the child's school".to_owned()
        }
    };
    let sent = t.status != TransferStatus::Pending;
    Ok(TransferPage {
        layout: Layout::load(state, "children", auth).await?,
        child: child.to_string(),
        id: tid.to_string(),
        reference: t.reference.clone(),
        school: t.destination.school.clone(),
        dsl_name: t.destination.dsl_name.clone(),
        contact: t.destination.contact.clone(),
        starts_on: t
            .destination
            .starts()
            .map(uk::date)
            .unwrap_or_else(|| t.destination.starts_on.clone()),
        due: uk::date_time(t.due_at),
        counted,
        status: status_text(&t),
        overdue: t.overdue,
        receipt: t.receipt.clone(),
        may_send: t.may_act && t.status != TransferStatus::Received,
        may_receive: t.may_act && t.status == TransferStatus::Sent,
        file_href: (sent && may_act_on_file(actor))
            .then(|| format!("/children/{child}/transfers/{tid}/file")),
        sent,
        version: t.version.get(),
        notice: None,
        form: FormData::default(),
        errors: FieldErrors::default(),
    })
}

async fn transfer_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path((id, tid)): Path<(String, String)>,
    Query(query): Query<TransferQuery>,
) -> Result<Response, PageError> {
    let (child, tid) = (child_id(&id)?, transfer_id(&tid)?);
    let mut page = transfer_view(&state, &actor, &auth, child, tid).await?;
    page.notice = query.saved.map(|what| {
        match what.as_str() {
            "started" => "The transfer is started: the deadline is tracked as a task.",
            "received" => "The receipt is recorded.",
            _ => "Saved.",
        }
        .to_owned()
    });
    Ok(render(&page)?.into_response())
}

/// The transfer page again with a refusal beside `field` (what was typed kept).
async fn transfer_refused(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    (child, tid): (ChildId, Uuid),
    form: FormData,
    field: &str,
    err: AppError,
) -> Result<Response, PageError> {
    let (status, errors) = match err {
        AppError::Invalid(invalid) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            FieldErrors::from_invalid(&invalid),
        ),
        AppError::Stale(_) => (StatusCode::CONFLICT, FieldErrors::one(field, STALE_MESSAGE)),
        AppError::Conflict(why) if why.contains(' ') => {
            (StatusCode::CONFLICT, FieldErrors::one(field, &why))
        }
        other => return Err(page_error(other)),
    };
    let mut page = transfer_view(state, actor, auth, child, tid).await?;
    page.form = form;
    page.errors = errors;
    let mut response = render(&page)?.into_response();
    *response.status_mut() = status;
    Ok(response)
}

/// What the new school receives beside the PDF, for their own systems.
#[derive(Template)]
#[template(path = "safeguarding_transfer_sent.html")]
struct SentPage {
    layout: Layout,
    child: String,
    id: String,
    reference: String,
    school: String,
    dsl_name: String,
    contact: String,
    passphrase: String,
}

/// "Make the encrypted file": the chronology as PDF and JSON, zipped and encrypted under a
/// fresh passphrase that is shown once (here) and never stored.
async fn send_transfer(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path((id, tid)): Path<(String, String)>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let (child, tid) = (child_id(&id)?, transfer_id(&tid)?);
    let version = version_of(&form)?;
    let package = state
        .alliance
        .transfer_package(&actor, child, tid)
        .await
        .map_err(page_error)?;
    let destination = package.transfer.destination.clone();
    let reference = package.transfer.reference.clone();
    let now = state.alliance.clock().now();
    let TransferFile { zip, passphrase } = make_transfer_file(package, now, uk::date_time(now))
        .await
        .map_err(page_error)?;
    if let Err(err) = state
        .alliance
        .record_transfer_sent(&actor, child, tid, &zip, version)
        .await
    {
        return transfer_refused(&state, &actor, &auth, (child, tid), form, "send", err).await;
    }
    let page = SentPage {
        layout: Layout::load(&state, "children", &auth).await?,
        child: child.to_string(),
        id: tid.to_string(),
        reference,
        school: destination.school,
        dsl_name: destination.dsl_name,
        contact: destination.contact,
        passphrase,
    };
    let mut response = render(&page)?.into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

async fn transfer_file(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path((id, tid)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let (child, tid) = (child_id(&id)?, transfer_id(&tid)?);
    let bytes = state
        .alliance
        .transfer_file(&actor, child, tid)
        .await
        .map_err(page_error)?;
    let reference = alliance_service::concern_workflow::transfer_reference(tid);
    Ok(attachment(
        bytes,
        "application/zip",
        &format!("safeguarding-file-{reference}.zip"),
    ))
}

async fn record_received(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path((id, tid)): Path<(String, String)>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let (child, tid) = (child_id(&id)?, transfer_id(&tid)?);
    let version = version_of(&form)?;
    match state
        .alliance
        .record_transfer_received(&actor, child, tid, form.get("confirmation"), version)
        .await
    {
        Ok(()) => Ok(
            Redirect::to(&format!("/children/{child}/transfers/{tid}?saved=received"))
                .into_response(),
        ),
        Err(err) => {
            transfer_refused(
                &state,
                &actor,
                &auth,
                (child, tid),
                form,
                "confirmation",
                err,
            )
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(at: &str, recorded: &str) -> ChronologyEntry {
        ChronologyEntry {
            at: at.parse().unwrap(),
            recorded_at: recorded.parse().unwrap(),
            reference: "SG-1A2B3C4D".into(),
            what: "Referral made".into(),
            code: "referred".into(),
            by: "Dana Lee".into(),
            lines: vec![("Agency".into(), "Children's social care".into())],
        }
    }

    #[test]
    fn an_entry_says_when_it_was_recorded_only_when_that_is_not_when_it_happened() {
        let same = entry_line(&entry("2026-12-01T10:05:00Z", "2026-12-01T10:05:30Z"));
        assert_eq!(same.when, "01/12/2026 10:05");
        assert_eq!(same.recorded, None);
        let later = entry_line(&entry("2026-12-01T10:05:00Z", "2026-12-01T14:20:00Z"));
        assert_eq!(later.when, "01/12/2026 10:05");
        assert_eq!(later.recorded.as_deref(), Some("01/12/2026 14:20"));
        assert_eq!(
            later.lines,
            vec![("Agency".to_owned(), "Children's social care".to_owned())]
        );
    }
}
