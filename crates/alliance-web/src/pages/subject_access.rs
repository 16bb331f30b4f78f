//! Subject access requests (policy section 5): the list, logging a request for a child, the
//! request's page (its checks, the clock and its pauses, the extension, the reviewer, closing),
//! the file (the named reviewer's read of the whole record with a decision per item, the DSL's
//! safeguarding items, the service lead's view of what the bundle holds), the release, the
//! bundle as PDF and JSON, and the service's figures. Who may see or do what is the
//! use-cases' (`alliance_service::subject_access`); this module shows what they answer.

use super::{FieldErrors, FormData, Layout, STALE_MESSAGE, render, version_of};
use crate::AppState;
use crate::api::subject_access::{bundle_json_response, bundle_pdf_response};
use crate::auth::{Auth, CurrentAuth, Signed};
use crate::errors::page_error;
use crate::respond::PageError;
use alliance_core::children::ChildId;
use alliance_core::subject_access::{
    self as sar, ChecksInput, Decision, DecisionInput, Due, ItemKind, OpinionInput, PauseReason,
    Reason, RequestInput, RequesterKind,
};
use alliance_core::{PageRequest, uk};
use alliance_service::children::ChildFilter;
use alliance_service::subject_access::{FileMode, SarFile, SarSummary, SarView};
use alliance_service::{Actor, AppError};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    // One method a line, so the route table the headers test reads finds each.
    Router::new()
        .route("/subject-access", get(list_page))
        .route("/subject-access/new", get(choose_child))
        .route("/subject-access/settings", get(settings_page))
        .route("/subject-access/settings", post(save_settings))
        .route("/children/{id}/subject-access/new", get(new_page))
        .route("/children/{id}/subject-access", post(log_request))
        .route("/subject-access/{id}", get(request_page))
        .route("/subject-access/{id}/checks", post(record_checks))
        .route("/subject-access/{id}/pause", post(pause))
        .route("/subject-access/{id}/resume", post(resume))
        .route("/subject-access/{id}/extension", post(extend))
        .route("/subject-access/{id}/reviewer", post(name_reviewer))
        .route("/subject-access/{id}/close", post(close))
        .route("/subject-access/{id}/file", get(file_page))
        .route(
            "/subject-access/{id}/items/{kind}/{item}",
            post(decide_item),
        )
        .route("/subject-access/{id}/opinion", post(record_opinion))
        .route("/subject-access/{id}/finish-review", post(finish_review))
        .route(
            "/subject-access/{id}/finish-dsl-review",
            post(finish_dsl_review),
        )
        .route("/subject-access/{id}/release", post(release))
        .route("/subject-access/{id}/bundle.pdf", get(bundle_pdf))
        .route("/subject-access/{id}/bundle.json", get(bundle_json))
}

fn request_id(raw: &str) -> Result<Uuid, PageError> {
    Uuid::parse_str(raw).map_err(|_| page_error(AppError::NotFound))
}

fn child_id(raw: &str) -> Result<ChildId, PageError> {
    ChildId::parse(raw).map_err(|_| page_error(AppError::NotFound))
}

/// "Due 03/02/2026", or why there is no date yet.
fn due_text(due: &Due) -> String {
    match due {
        Due::On(d) => uk::date(d.date),
        Due::Paused { since, reason } => format!(
            "No due date while the clock is paused (since {}: {})",
            uk::date(*since),
            reason.label().to_lowercase()
        ),
    }
}

/// How the due date was reached, in words.
fn due_working(view: &SarView) -> String {
    match &view.summary.due {
        Due::Paused { .. } => {
            "The clock restarts when what is awaited arrives; the paused days are then added."
                .to_owned()
        }
        Due::On(d) => {
            let mut words = format!(
                "Received {} (day 1); {} from then is {}",
                uk::date(view.summary.received_on),
                if d.extended {
                    "three months (extended by two)"
                } else {
                    "one calendar month"
                },
                uk::date(d.month_end)
            );
            if d.paused_days > 0 {
                words.push_str(&format!(
                    ", plus {} day{} paused",
                    d.paused_days,
                    if d.paused_days == 1 { "" } else { "s" }
                ));
            }
            if let Some(why) = view.moved_for {
                words.push_str(&format!(
                    "; {} is {why}, so it moves to the next working day",
                    uk::date(d.before_moving)
                ));
            }
            words.push('.');
            if view.holidays_unknown {
                words.push_str(
                    " The bank holidays of that year are not known here: only weekends were counted.",
                );
            }
            words
        }
    }
}

// ----- the list -----

struct RequestLine {
    href: String,
    reference: String,
    child: String,
    requester: String,
    received: String,
    status: &'static str,
    due: String,
}

fn line_of(s: &SarSummary) -> RequestLine {
    RequestLine {
        href: format!("/subject-access/{}", s.id),
        reference: s.reference.clone(),
        child: s.child_name.clone(),
        requester: s.requester.clone(),
        received: uk::date(s.received_on),
        status: s.status.label(),
        due: due_text(&s.due),
    }
}

#[derive(Template)]
#[template(path = "sar_list.html")]
struct ListPage {
    layout: Layout,
    requests: Vec<RequestLine>,
    may_log: bool,
}

async fn list_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
) -> Result<Response, PageError> {
    let requests = state
        .alliance
        .list_subject_access(&actor)
        .await
        .map_err(page_error)?;
    let page = ListPage {
        layout: Layout::load(&state, "subject-access", &auth).await?,
        requests: requests.iter().map(line_of).collect(),
        may_log: sar::reach(&actor.user).logs,
    };
    Ok(render(&page)?.into_response())
}

#[derive(Debug, Default, Deserialize)]
struct ChooseQuery {
    q: Option<String>,
}

struct ChildChoice {
    href: String,
    name: String,
}

#[derive(Template)]
#[template(path = "sar_choose.html")]
struct ChoosePage {
    layout: Layout,
    q: String,
    children: Vec<ChildChoice>,
    searched: bool,
}

/// "Log a request": find the child (administrators), then the form for them.
async fn choose_child(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Query(query): Query<ChooseQuery>,
) -> Result<Response, PageError> {
    if !sar::reach(&actor.user).logs {
        return Err(page_error(AppError::NotFound));
    }
    let q = query.q.unwrap_or_default().trim().to_owned();
    let children = if q.is_empty() {
        Vec::new()
    } else {
        let filter = ChildFilter {
            search: Some(q.clone()),
            ..ChildFilter::default()
        };
        state
            .alliance
            .list_children(&actor, &filter, &PageRequest::default())
            .await
            .map_err(page_error)?
            .items
            .into_iter()
            .map(|c| ChildChoice {
                href: format!("/children/{}/subject-access/new", c.id),
                name: match &c.named {
                    Some(n) => format!("{} (born {})", n.legal_name, uk::date(n.date_of_birth)),
                    None => c.initials.clone(),
                },
            })
            .collect()
    };
    let page = ChoosePage {
        layout: Layout::load(&state, "subject-access", &auth).await?,
        searched: !q.is_empty(),
        q,
        children,
    };
    Ok(render(&page)?.into_response())
}

// ----- logging a request -----

struct CarerChoice {
    id: String,
    label: String,
}

#[derive(Template)]
#[template(path = "sar_new.html")]
struct NewPage {
    layout: Layout,
    child: String,
    child_name: String,
    carers: Vec<CarerChoice>,
    today: String,
    form: FormData,
    errors: FieldErrors,
}

async fn new_view(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    child: ChildId,
) -> Result<NewPage, PageError> {
    let record = state
        .alliance
        .get_child(actor, child)
        .await
        .map_err(page_error)?;
    Ok(NewPage {
        layout: Layout::load(state, "subject-access", auth).await?,
        child: child.to_string(),
        child_name: record
            .details
            .as_ref()
            .map(|d| d.legal_name.clone())
            .unwrap_or_else(|| record.initials.clone()),
        carers: record
            .carers
            .iter()
            .filter(|c| c.active)
            .map(|c| CarerChoice {
                id: c.id.to_string(),
                label: format!(
                    "{} ({}){}",
                    c.details.name,
                    c.details.relationship,
                    match c.details.parental_responsibility {
                        Some(pr) => format!(": {}", pr.label().to_lowercase()),
                        None => ": no parental responsibility recorded".to_owned(),
                    }
                ),
            })
            .collect(),
        today: uk::date(state.alliance.today()),
        form: FormData::default(),
        errors: FieldErrors::default(),
    })
}

async fn new_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let child = child_id(&id)?;
    if !sar::reach(&actor.user).logs {
        // The use-case audits the refusal; the form is for administrators only.
        let _ = state
            .alliance
            .log_subject_access(&actor, child, &RequestInput::default())
            .await
            .map_err(page_error)?;
    }
    let page = new_view(&state, &actor, &auth, child).await?;
    Ok(render(&page)?.into_response())
}

fn request_input(form: &FormData) -> RequestInput {
    RequestInput {
        requester_kind: form.get("requester_kind").to_owned(),
        carer: form.get("carer").to_owned(),
        representative_name: form.get("representative_name").to_owned(),
        representative_organisation: form.get("representative_organisation").to_owned(),
        authority_seen: form.get("authority_seen").to_owned(),
        acting_for: form.get("acting_for").to_owned(),
        received_on: form.get("received_on").to_owned(),
        how_received: form.get("how_received").to_owned(),
        asked_for: form.get("asked_for").to_owned(),
    }
}

async fn log_request(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let child = child_id(&id)?;
    match state
        .alliance
        .log_subject_access(&actor, child, &request_input(&form))
        .await
    {
        Ok(rid) => Ok(Redirect::to(&format!("/subject-access/{rid}?saved=logged")).into_response()),
        Err(AppError::Invalid(invalid)) => {
            let mut page = new_view(&state, &actor, &auth, child).await?;
            page.errors = FieldErrors::from_invalid(&invalid);
            page.form = form;
            super::unprocessable(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}

// ----- the request -----

struct Fact {
    label: &'static str,
    value: String,
}

struct PauseLine {
    reason: &'static str,
    from: String,
    until: String,
}

struct Choice {
    value: String,
    label: String,
}

#[derive(Template)]
#[template(path = "sar_request.html")]
struct RequestPage {
    layout: Layout,
    id: String,
    reference: String,
    facts: Vec<Fact>,
    status: &'static str,
    due: String,
    due_working: String,
    pauses: Vec<PauseLine>,
    competence_needed: bool,
    requester_kind: &'static str,
    pause_reasons: Vec<Choice>,
    reviewers: Vec<Choice>,
    version: i64,
    may: alliance_service::subject_access::SarActions,
    notice: Option<String>,
    form: FormData,
    errors: FieldErrors,
}

fn facts_of(view: &SarView) -> Vec<Fact> {
    let mut facts = vec![
        Fact {
            label: "Reference",
            value: view.summary.reference.clone(),
        },
        Fact {
            label: "About",
            value: view.summary.child_name.clone(),
        },
        Fact {
            label: "Requester",
            value: format!(
                "{}: {}",
                view.summary.requester_kind.label(),
                view.summary.requester
            ),
        },
    ];
    if let Some(r) = &view.representative {
        facts.push(Fact {
            label: "Acting for",
            value: r.acting_for.label().to_owned(),
        });
        facts.push(Fact {
            label: "Authority seen",
            value: r.authority_seen.clone(),
        });
    }
    facts.push(Fact {
        label: "Received",
        value: format!(
            "{} ({})",
            uk::date(view.summary.received_on),
            view.how_received
        ),
    });
    if let Some(asked) = &view.asked_for {
        facts.push(Fact {
            label: "Asked for",
            value: asked.clone(),
        });
    }
    let check = |c: &alliance_service::subject_access::CheckView| {
        format!("{} (on {}, by {})", c.how, uk::date(c.on), c.by)
    };
    facts.push(Fact {
        label: "Identity",
        value: view
            .identity
            .as_ref()
            .map(check)
            .unwrap_or_else(|| "Not checked yet".to_owned()),
    });
    if view.summary.requester_kind != RequesterKind::YoungPerson {
        facts.push(Fact {
            label: "Authority",
            value: view
                .authority
                .as_ref()
                .map(check)
                .unwrap_or_else(|| "Not checked yet".to_owned()),
        });
    }
    if let Some(c) = &view.competence {
        facts.push(Fact {
            label: "The young person's understanding",
            value: c.assessment.clone(),
        });
        facts.push(Fact {
            label: "Their wishes",
            value: c.wishes.clone(),
        });
    }
    if let (Some(on), Some(told)) = (view.extended_on, view.extension_told_on) {
        facts.push(Fact {
            label: "Extended",
            value: format!(
                "On {}, the requester told on {}{}",
                uk::date(on),
                uk::date(told),
                view.extension_reason
                    .as_ref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            ),
        });
    }
    if let Some(name) = &view.summary.reviewer {
        facts.push(Fact {
            label: "Reviewer",
            value: match view.summary.reviewer_until {
                Some(until) => format!("{name}, reading until {}", uk::date_time(until)),
                None => name.clone(),
            },
        });
    }
    if let Some(o) = &view.opinion {
        facts.push(Fact {
            label: "Serious-harm opinion",
            value: format!("{} on {}: {}", o.from, uk::date(o.given_on), o.opinion),
        });
    }
    if let Some((by, at)) = &view.dsl_reviewed {
        facts.push(Fact {
            label: "Safeguarding review",
            value: format!("By {by} on {}", uk::date_time(*at)),
        });
    }
    if let Some((by, at)) = &view.closed {
        facts.push(Fact {
            label: "Closed",
            value: format!(
                "By {by} on {}{}",
                uk::date_time(*at),
                view.closing_reason
                    .as_ref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            ),
        });
    }
    facts
}

async fn request_view(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    id: Uuid,
) -> Result<RequestPage, PageError> {
    let view = state
        .alliance
        .subject_access_view(actor, id)
        .await
        .map_err(page_error)?;
    let reviewers = if view.may.name_reviewer {
        state
            .alliance
            .sar_reviewer_candidates()
            .await
            .map_err(page_error)?
            .into_iter()
            .map(|(id, name)| Choice {
                value: id.to_string(),
                label: name,
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(RequestPage {
        layout: Layout::load(state, "subject-access", auth).await?,
        id: id.to_string(),
        reference: view.summary.reference.clone(),
        facts: facts_of(&view),
        status: view.summary.status.label(),
        due: due_text(&view.summary.due),
        due_working: due_working(&view),
        pauses: view
            .pauses
            .iter()
            .map(|p| PauseLine {
                reason: p.reason.label(),
                from: uk::date(p.started_on),
                until: p
                    .ended_on
                    .map(uk::date)
                    .unwrap_or_else(|| "still paused".to_owned()),
            })
            .collect(),
        competence_needed: view.competence_needed,
        requester_kind: view.summary.requester_kind.code(),
        pause_reasons: PauseReason::ALL
            .into_iter()
            .map(|r| Choice {
                value: r.code().to_owned(),
                label: r.label().to_owned(),
            })
            .collect(),
        reviewers,
        version: view.version.get(),
        may: view.may,
        notice: None,
        form: FormData::default(),
        errors: FieldErrors::default(),
    })
}

#[derive(Debug, Default, Deserialize)]
struct SavedQuery {
    saved: Option<String>,
}

fn saved_words(what: &str) -> &'static str {
    match what {
        "logged" => "The request is logged. Check the requester's identity and authority next.",
        "checks" => "The checks are recorded.",
        "paused" => "The clock is paused.",
        "resumed" => "The clock has restarted.",
        "extended" => "The time limit is extended by two months.",
        "reviewer" => "The reviewer is named: they may now read the record for this request.",
        "closed" => "The request is closed.",
        "review-finished" => "The review is finished.",
        "dsl-finished" => "The safeguarding review is finished: the bundle is ready to release.",
        "released" => "The bundle is released. Download it below to send to the requester.",
        "opinion" => "The opinion is recorded.",
        _ => "Saved.",
    }
}

async fn request_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Query(query): Query<SavedQuery>,
) -> Result<Response, PageError> {
    let id = request_id(&id)?;
    let mut page = request_view(&state, &actor, &auth, id).await?;
    page.notice = query.saved.map(|w| saved_words(&w).to_owned());
    Ok(render(&page)?.into_response())
}

/// The request page again with a refusal beside `field` (what was typed kept).
async fn request_refused(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    id: Uuid,
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
    let mut page = request_view(state, actor, auth, id).await?;
    page.form = form;
    page.errors = errors;
    let mut response = render(&page)?.into_response();
    *response.status_mut() = status;
    Ok(response)
}

/// Runs a change, then back to the request with `saved`, or the page again with the refusal.
#[allow(clippy::too_many_arguments)]
async fn after_change(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    id: Uuid,
    form: FormData,
    field: &str,
    saved: &str,
    result: Result<(), AppError>,
) -> Result<Response, PageError> {
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/subject-access/{id}?saved={saved}")).into_response()),
        Err(err) => request_refused(state, actor, auth, id, form, field, err).await,
    }
}

macro_rules! change_handler {
    ($name:ident, $field:literal, $saved:literal, |$state:ident, $actor:ident, $id:ident, $form:ident, $version:ident| $body:expr) => {
        async fn $name(
            State($state): State<AppState>,
            Signed($actor): Signed,
            CurrentAuth(auth): CurrentAuth,
            Path(raw): Path<String>,
            Form($form): Form<FormData>,
        ) -> Result<Response, PageError> {
            let $id = request_id(&raw)?;
            let $version = version_of(&$form)?;
            let result = $body;
            after_change(&$state, &$actor, &auth, $id, $form, $field, $saved, result).await
        }
    };
}

change_handler!(
    record_checks,
    "identity_how",
    "checks",
    |state, actor, id, form, version| {
        let input = ChecksInput {
            identity_how: form.get("identity_how").to_owned(),
            identity_on: form.get("identity_on").to_owned(),
            authority_how: form.get("authority_how").to_owned(),
            authority_on: form.get("authority_on").to_owned(),
            competence: form.get("competence").to_owned(),
            wishes: form.get("wishes").to_owned(),
        };
        state
            .alliance
            .record_sar_checks(&actor, id, &input, version)
            .await
    }
);

change_handler!(
    pause,
    "reason",
    "paused",
    |state, actor, id, form, version| {
        state
            .alliance
            .pause_sar(
                &actor,
                id,
                form.get("reason"),
                form.get("started_on"),
                version,
            )
            .await
    }
);

change_handler!(
    resume,
    "ended_on",
    "resumed",
    |state, actor, id, form, version| {
        state
            .alliance
            .resume_sar(&actor, id, form.get("ended_on"), version)
            .await
    }
);

change_handler!(
    extend,
    "told_on",
    "extended",
    |state, actor, id, form, version| {
        state
            .alliance
            .extend_sar(
                &actor,
                id,
                form.get("told_on"),
                form.get("extension_reason"),
                version,
            )
            .await
    }
);

change_handler!(
    name_reviewer,
    "reviewer",
    "reviewer",
    |state, actor, id, form, version| {
        state
            .alliance
            .name_sar_reviewer(&actor, id, form.get("reviewer"), version)
            .await
    }
);

change_handler!(
    close,
    "outcome",
    "closed",
    |state, actor, id, form, version| {
        state
            .alliance
            .close_sar(
                &actor,
                id,
                form.get("outcome"),
                form.get("closing_reason"),
                version,
            )
            .await
    }
);

change_handler!(
    finish_dsl_review,
    "finish",
    "dsl-finished",
    |state, actor, id, form, version| {
        state
            .alliance
            .finish_sar_dsl_review(&actor, id, version)
            .await
    }
);

// ----- the file -----

struct ItemLine {
    anchor: String,
    action: String,
    kind: &'static str,
    title: String,
    when: String,
    parts: Vec<(String, String)>,
    decision: Option<String>,
    stale: bool,
    may_decide: bool,
    /// The form's values: the decision's own, or what was typed.
    chosen: String,
    reason: String,
    words: String,
    passages: String,
}

#[derive(Template)]
#[template(path = "sar_file.html")]
struct FilePage {
    layout: Layout,
    id: String,
    reference: String,
    heading: &'static str,
    intro: &'static str,
    mode: &'static str,
    items: Vec<ItemLine>,
    unreadable: Vec<&'static str>,
    undecided: usize,
    decisions: Vec<Choice>,
    reasons: Vec<Choice>,
    staff: Vec<Choice>,
    may_finish: bool,
    may_opinion: bool,
    has_opinion: bool,
    version: i64,
    notice: Option<String>,
    error_item: String,
    form: FormData,
    errors: FieldErrors,
}

fn decision_text(d: &alliance_service::subject_access::DecisionView) -> String {
    let mut words = d.decision.label().to_owned();
    if let Some(r) = d.reason {
        words.push_str(&format!(": {}", r.label()));
    }
    if let Some(w) = &d.words {
        words.push_str(&format!(" ({w})"));
    }
    words.push_str(&format!(", by {} on {}", d.by, uk::date_time(d.at)));
    words
}

async fn file_view(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    id: Uuid,
) -> Result<(FilePage, SarFile), PageError> {
    let file = state
        .alliance
        .sar_file(actor, id)
        .await
        .map_err(page_error)?;
    let (heading, intro, mode) = match file.mode {
        FileMode::Reviewer => (
            "The record, for review",
            "You are the named reviewer of this request: you may read the child's whole record for it until your window closes. Decide each item: disclose, disclose with passages removed, or withhold, with the reason. Each time you open this page it is recorded.",
            "reviewer",
        ),
        FileMode::Dsl => (
            "Safeguarding material, for the DSL's review",
            "Decide each safeguarding item: disclose, disclose with passages removed, or withhold, with the reason.",
            "dsl",
        ),
        FileMode::ServiceLead => (
            "What the bundle holds",
            "Each item as it would be released: passages removed show as [redacted]; a withheld item shows its reason only.",
            "service-lead",
        ),
    };
    let staff = if file.view.may.record_opinion {
        state
            .alliance
            .sar_reviewer_candidates()
            .await
            .map_err(page_error)?
            .into_iter()
            .map(|(id, name)| Choice {
                value: id.to_string(),
                label: name,
            })
            .collect()
    } else {
        Vec::new()
    };
    let items = file
        .items
        .iter()
        .map(|i| {
            let anchor = format!("item-{}-{}", i.kind.code(), i.id);
            ItemLine {
                action: format!("/subject-access/{id}/items/{}/{}", i.kind.code(), i.id),
                kind: i.kind.label(),
                title: i.title.clone(),
                when: i.when.clone().unwrap_or_default(),
                parts: i.parts.clone(),
                decision: i.decision.as_ref().map(decision_text),
                stale: i.decision.as_ref().is_some_and(|d| d.stale),
                may_decide: i.may_decide,
                chosen: i
                    .decision
                    .as_ref()
                    .map(|d| d.decision.code().to_owned())
                    .unwrap_or_default(),
                reason: i
                    .decision
                    .as_ref()
                    .and_then(|d| d.reason)
                    .map(|r| r.code().to_owned())
                    .unwrap_or_default(),
                words: i
                    .decision
                    .as_ref()
                    .and_then(|d| d.words.clone())
                    .unwrap_or_default(),
                passages: i
                    .decision
                    .as_ref()
                    .map(|d| d.passages.join("\n"))
                    .unwrap_or_default(),
                anchor,
            }
        })
        .collect();
    let may = file.view.may;
    let page = FilePage {
        layout: Layout::load(state, "subject-access", auth).await?,
        id: id.to_string(),
        reference: file.view.summary.reference.clone(),
        heading,
        intro,
        mode,
        items,
        unreadable: file
            .unreadable
            .iter()
            .map(|c| match c {
                alliance_core::crypto::RecordClass::Identity => "identity",
                alliance_core::crypto::RecordClass::Clinical => "the clinical record",
                alliance_core::crypto::RecordClass::ProcessNotes => "process notes",
                alliance_core::crypto::RecordClass::Safeguarding => "safeguarding records",
            })
            .collect(),
        undecided: file.undecided,
        decisions: Decision::ALL
            .into_iter()
            .map(|d| Choice {
                value: d.code().to_owned(),
                label: d.label().to_owned(),
            })
            .collect(),
        reasons: Reason::ALL
            .into_iter()
            .map(|r| Choice {
                value: r.code().to_owned(),
                label: r.label().to_owned(),
            })
            .collect(),
        staff,
        may_finish: match file.mode {
            FileMode::Reviewer => may.finish_review,
            FileMode::Dsl => may.finish_dsl_review,
            FileMode::ServiceLead => false,
        },
        may_opinion: may.record_opinion && file.mode == FileMode::Reviewer,
        has_opinion: file.view.opinion.is_some(),
        version: file.view.version.get(),
        notice: None,
        error_item: String::new(),
        form: FormData::default(),
        errors: FieldErrors::default(),
    };
    Ok((page, file))
}

async fn file_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Query(query): Query<SavedQuery>,
) -> Result<Response, PageError> {
    let id = request_id(&id)?;
    let (mut page, _) = file_view(&state, &actor, &auth, id).await?;
    page.notice = query.saved.map(|w| match w.as_str() {
        "decided" => "The decision is recorded.".to_owned(),
        other => saved_words(other).to_owned(),
    });
    Ok(render(&page)?.into_response())
}

/// The file again with a refusal on one item's form (or the opinion's).
#[allow(clippy::too_many_arguments)]
async fn file_refused(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    id: Uuid,
    form: FormData,
    anchor: String,
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
    let (mut page, _) = file_view(state, actor, auth, id).await?;
    for item in &mut page.items {
        if item.anchor == anchor {
            item.chosen = form.get("decision").to_owned();
            item.reason = form.get("reason").to_owned();
            item.words = form.get("words").to_owned();
            item.passages = form.get("passages").to_owned();
        }
    }
    page.error_item = anchor;
    page.form = form;
    page.errors = errors;
    let mut response = render(&page)?.into_response();
    *response.status_mut() = status;
    Ok(response)
}

async fn decide_item(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path((raw, kind, item)): Path<(String, String, String)>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = request_id(&raw)?;
    let kind_code = ItemKind::parse(&kind)
        .map(ItemKind::code)
        .map_err(|_| page_error(AppError::NotFound))?;
    let input = DecisionInput {
        decision: form.get("decision").to_owned(),
        reason: form.get("reason").to_owned(),
        words: form.get("words").to_owned(),
        passages: form.get("passages").to_owned(),
    };
    let anchor = format!("item-{kind_code}-{item}");
    match state
        .alliance
        .decide_sar_item(&actor, id, kind_code, &item, &input)
        .await
    {
        Ok(()) => Ok(
            Redirect::to(&format!("/subject-access/{id}/file?saved=decided#{anchor}"))
                .into_response(),
        ),
        Err(err) => file_refused(&state, &actor, &auth, id, form, anchor, "decision", err).await,
    }
}

async fn record_opinion(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(raw): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = request_id(&raw)?;
    let version = version_of(&form)?;
    let input = OpinionInput {
        from: form.get("from").to_owned(),
        staff: form.get("staff").to_owned(),
        name: form.get("name").to_owned(),
        profession: form.get("profession").to_owned(),
        registration: form.get("registration").to_owned(),
        given_on: form.get("given_on").to_owned(),
        opinion: form.get("opinion").to_owned(),
    };
    match state
        .alliance
        .record_sar_opinion(&actor, id, &input, version)
        .await
    {
        Ok(()) => {
            Ok(Redirect::to(&format!("/subject-access/{id}/file?saved=opinion")).into_response())
        }
        Err(err) => {
            file_refused(
                &state,
                &actor,
                &auth,
                id,
                form,
                "opinion".to_owned(),
                "from",
                err,
            )
            .await
        }
    }
}

async fn finish_review(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(raw): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = request_id(&raw)?;
    let version = version_of(&form)?;
    match state.alliance.finish_sar_review(&actor, id, version).await {
        Ok(()) => Ok(
            Redirect::to(&format!("/subject-access/{id}?saved=review-finished")).into_response(),
        ),
        Err(err) => {
            file_refused(
                &state,
                &actor,
                &auth,
                id,
                form,
                "finish".to_owned(),
                "finish",
                err,
            )
            .await
        }
    }
}

// ----- release and the bundle -----

async fn release(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(raw): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = request_id(&raw)?;
    let version = version_of(&form)?;
    match state.alliance.release_sar(&actor, id, version).await {
        Ok(_) => Ok(Redirect::to(&format!("/subject-access/{id}?saved=released")).into_response()),
        Err(err) => request_refused(&state, &actor, &auth, id, form, "release", err).await,
    }
}

async fn bundle_pdf(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let id = request_id(&raw)?;
    let bundle = state
        .alliance
        .sar_bundle(&actor, id)
        .await
        .map_err(page_error)?;
    bundle_pdf_response(&bundle).await.map_err(page_error)
}

async fn bundle_json(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let id = request_id(&raw)?;
    let bundle = state
        .alliance
        .sar_bundle(&actor, id)
        .await
        .map_err(page_error)?;
    bundle_json_response(&bundle).map_err(page_error)
}

// ----- the service's figures -----

#[derive(Template)]
#[template(path = "sar_settings.html")]
struct SettingsPage {
    layout: Layout,
    reviewer_days: String,
    competence_age: String,
    version: i64,
    source_competence: &'static str,
    source_time_limit: &'static str,
    source_serious_harm: &'static str,
    may_edit: bool,
    notice: Option<String>,
    errors: FieldErrors,
}

async fn settings_view(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
) -> Result<SettingsPage, PageError> {
    let reach = sar::reach(&actor.user);
    let may_edit =
        alliance_core::policy::decide(&actor.user, alliance_core::policy::Action::ManageService)
            .is_allowed();
    if !(reach.sees_requests || may_edit) {
        return Err(page_error(AppError::NotFound));
    }
    let (settings, version) = state
        .alliance
        .subject_access_settings()
        .await
        .map_err(page_error)?;
    Ok(SettingsPage {
        layout: Layout::load(state, "subject-access", auth).await?,
        reviewer_days: settings.reviewer_days.to_string(),
        competence_age: settings.competence_age.to_string(),
        version: version.map_or(0, |v| v.get()),
        source_competence: sar::SOURCE_COMPETENCE,
        source_time_limit: sar::SOURCE_TIME_LIMIT,
        source_serious_harm: sar::SOURCE_SERIOUS_HARM,
        may_edit,
        notice: None,
        errors: FieldErrors::default(),
    })
}

async fn settings_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Query(query): Query<SavedQuery>,
) -> Result<Response, PageError> {
    let mut page = settings_view(&state, &actor, &auth).await?;
    page.notice = query.saved.map(|_| "The figures are saved.".to_owned());
    Ok(render(&page)?.into_response())
}

async fn save_settings(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let expected = form
        .get("version")
        .parse::<i64>()
        .ok()
        .and_then(|v| alliance_core::Version::new(v).ok());
    match state
        .alliance
        .set_subject_access_settings(
            &actor,
            form.get("reviewer_days"),
            form.get("competence_age"),
            expected,
        )
        .await
    {
        Ok(_) => Ok(Redirect::to("/subject-access/settings?saved=1").into_response()),
        Err(AppError::Invalid(invalid)) => {
            let mut page = settings_view(&state, &actor, &auth).await?;
            page.reviewer_days = form.get("reviewer_days").to_owned();
            page.competence_age = form.get("competence_age").to_owned();
            page.errors = FieldErrors::from_invalid(&invalid);
            super::unprocessable(&page)
        }
        Err(AppError::Stale(_)) => {
            let mut page = settings_view(&state, &actor, &auth).await?;
            page.errors = FieldErrors::one("reviewer_days", STALE_MESSAGE);
            super::conflicted(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_paused_request_says_it_has_no_date() {
        let paused = Due::Paused {
            since: alliance_core::error::parse_date("04/03/2026").unwrap(),
            reason: PauseReason::Identity,
        };
        let text = due_text(&paused);
        assert!(
            text.contains("04/03/2026") && text.contains("paused"),
            "{text}"
        );
    }
}
