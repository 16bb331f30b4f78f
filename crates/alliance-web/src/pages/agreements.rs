//! A case's therapy agreement and consent (its versions in the child's words, what the
//! nation's rules need, the entries recorded, consent links for carers), the agreement
//! printed and as a PDF, and the first-session checklist. Who may see or do what is decided
//! by the use-cases; this module shows what they answer.

use super::feeds::feed_links;
use super::{FieldErrors, FormData, Layout, render, unprocessable};
use crate::AppState;
use crate::auth::{Auth, CurrentAuth, Signed};
use crate::errors::page_error;
use crate::respond::PageError;
use alliance_core::agreements::AgreementStatus;
use alliance_core::cases::CaseId;
use alliance_core::checklist::{ChecklistInput, ExplainedTo, Method};
use alliance_core::children::{CarerId, CarerTopic};
use alliance_core::consent::{EntryKind, LINK_DAYS_DEFAULT, LINK_DAYS_MAX};
use alliance_core::uk;
use alliance_core::{Invalid, agreements::AgreementInput};
use alliance_service::agreements::{
    AgreementCopy, AgreementDocument, AgreementView, CaseAgreement, ConsentInput,
};
use alliance_service::{Actor, AppError, StoreError};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/cases/{id}/agreement",
            get(agreement_page).post(draft_agreement),
        )
        .route("/cases/{id}/agreement/consent", post(record_consent))
        .route("/cases/{id}/agreement/links", post(create_link))
        .route(
            "/cases/{id}/agreement/links/{link}/revoke",
            post(revoke_link),
        )
        .route(
            "/cases/{id}/agreement/{agreement}/activate",
            post(activate_agreement),
        )
        .route(
            "/cases/{id}/agreement/{agreement}/print",
            get(agreement_print),
        )
        .route("/cases/{id}/agreement/{agreement}/pdf", get(agreement_pdf))
        .route(
            "/cases/{id}/checklist",
            get(checklist_page).post(record_checklist_item),
        )
}

fn case_id(raw: &str) -> Result<CaseId, PageError> {
    CaseId::parse(raw).map_err(|_| page_error(AppError::NotFound))
}

fn uuid(raw: &str) -> Result<Uuid, PageError> {
    Uuid::parse_str(raw.trim()).map_err(|_| page_error(AppError::NotFound))
}

/// A choice in a select, a group of checkboxes or radios.
struct Choice {
    code: String,
    label: String,
}

/// A copy of a version to print: who it is for, and the query that asks for it.
struct CopyLink {
    /// `child`, or `carer:{id}`.
    query: String,
    /// "the child's copy", "Jo Testfield's copy".
    label: String,
}

/// One version of the agreement as the page shows it.
struct VersionLine {
    id: String,
    number: i64,
    status: &'static str,
    written: String,
    activated: Option<String>,
    rules: Vec<String>,
    time_and_place: String,
    confidentiality: String,
    slot_changed: bool,
    copies: Vec<CopyLink>,
}

/// One consent entry, as a row of the table.
struct EntryLine {
    given_on: String,
    what: String,
    who: String,
    how: &'static str,
    words: Option<String>,
    reasoning: Option<String>,
    told: Option<String>,
    signed_name: Option<String>,
    reference: Option<String>,
    recorded_by: String,
}

struct LinkLine {
    id: String,
    carer: String,
    state: &'static str,
    made: String,
    expires: String,
    waiting: bool,
}

struct CarerLine {
    id: String,
    label: String,
    parental_responsibility: bool,
    link_refused: Option<String>,
}

/// A consent link just made: its address, shown once.
struct NewLink {
    url: String,
    carer: String,
    expires: String,
}

#[derive(Template)]
#[template(path = "agreement.html")]
struct AgreementPage {
    layout: Layout,
    case_id: String,
    number: String,
    child_label: String,
    age_years: i16,
    case_open: bool,
    rules_name: String,
    basis: &'static str,
    competence_test: String,
    competence_question: String,
    presumed_capable_from: i16,
    sources: Vec<(String, String)>,
    status: &'static str,
    ready: bool,
    assessed_number: Option<i64>,
    /// The version assessed is the active one (nothing newer is drafted).
    assessed_is_active: bool,
    missing: Vec<String>,
    reason: Option<String>,
    notes: Vec<String>,
    carers_may_be_told: Option<String>,
    time_and_place: String,
    active: Option<VersionLine>,
    draft: Option<VersionLine>,
    earlier: Vec<VersionLine>,
    entries: Vec<EntryLine>,
    links: Vec<LinkLine>,
    carers: Vec<CarerLine>,
    kinds: Vec<Choice>,
    lead_kinds: Vec<Choice>,
    topics: Vec<Choice>,
    may_write: bool,
    may_decide: bool,
    may_read_checklist: bool,
    editor: FormData,
    editor_errors: FieldErrors,
    consent: FormData,
    consent_errors: FieldErrors,
    lead: FormData,
    lead_errors: FieldErrors,
    link_form: FormData,
    link_errors: FieldErrors,
    activate_errors: FieldErrors,
    new_link: Option<NewLink>,
    notice: Option<String>,
}

fn editor_form(input: &AgreementInput) -> FormData {
    FormData(vec![
        (
            "not_hurting_yourself".to_owned(),
            input.not_hurting_yourself.clone(),
        ),
        (
            "not_hurting_the_therapist".to_owned(),
            input.not_hurting_the_therapist.clone(),
        ),
        (
            "not_damaging_the_room".to_owned(),
            input.not_damaging_the_room.clone(),
        ),
        ("added_rules".to_owned(), input.added_rules.clone()),
        ("confidentiality".to_owned(), input.confidentiality.clone()),
    ])
}

fn who_for(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::Assent | EntryKind::Dissent => "The child",
        EntryKind::OwnConsent | EntryKind::OwnRefusal => "The young person",
        EntryKind::DissentDiscussed
        | EntryKind::JudgedCompetent
        | EntryKind::JudgedNotCompetent => "The therapist",
        EntryKind::LeadProceeds | EntryKind::LeadDoesNotProceed => "The service lead",
        EntryKind::CourtOrder => "A court",
        EntryKind::ParentalConsent | EntryKind::ParentalObjection | EntryKind::Withdrawal => {
            "A person with parental responsibility"
        }
    }
}

fn version_line(v: &AgreementView, carers: &[CarerLine], may_print: bool) -> VersionLine {
    let is_active = v.stored.status == AgreementStatus::Active;
    // A reader who may not print (initials only) is offered no copies.
    let mut copies = Vec::new();
    if may_print {
        copies.push(CopyLink {
            query: "child".to_owned(),
            label: "the child's copy".to_owned(),
        });
    }
    if is_active && may_print {
        copies.extend(carers.iter().map(|c| CopyLink {
            query: format!("carer:{}", c.id),
            label: format!("a copy for {}", c.label),
        }));
    }
    VersionLine {
        id: v.stored.id.to_string(),
        number: v.stored.number,
        status: v.stored.status.label(),
        written: format!(
            "Written {} by {}",
            uk::date_time(v.stored.created_at),
            v.created_by
        ),
        activated: v.stored.activated_at.map(|at| {
            format!(
                "Marked active {}{}",
                uk::date_time(at),
                v.activated_by
                    .as_ref()
                    .map(|by| format!(" by {by}"))
                    .unwrap_or_default()
            )
        }),
        rules: v.content.rules.iter().map(|r| r.text.clone()).collect(),
        time_and_place: v.content.time_and_place.clone(),
        confidentiality: v.content.confidentiality.clone(),
        slot_changed: v.slot_changed,
        copies,
    }
}

fn agreement_view(layout: Layout, agreement: CaseAgreement) -> AgreementPage {
    let carers: Vec<CarerLine> = agreement
        .carers
        .iter()
        .map(|c| CarerLine {
            id: c.id.to_string(),
            label: c.label.clone(),
            parental_responsibility: c.parental_responsibility,
            link_refused: c.link_refused.clone(),
        })
        .collect();
    let draft_id = agreement
        .versions
        .iter()
        .find(|v| v.stored.status == AgreementStatus::Draft)
        .map(|v| v.stored.id);
    let active_id = agreement.active().map(|v| v.stored.id);
    let number_of = |id: Option<Uuid>| {
        id.and_then(|id| {
            agreement
                .versions
                .iter()
                .find(|v| v.stored.id == id)
                .map(|v| v.stored.number)
        })
    };
    let assessment = &agreement.assessment;
    let entries = agreement
        .entries
        .iter()
        .rev()
        .map(|e| {
            let kind = e.entry.kind;
            let what = match number_of(e.entry.agreement_id) {
                Some(n) => format!("{} (version {n})", kind.label()),
                None => kind.label().to_owned(),
            };
            EntryLine {
                given_on: uk::date(e.entry.given_on),
                what,
                who: e.carer.clone().unwrap_or_else(|| who_for(kind).to_owned()),
                how: e.entry.via.label(),
                words: e.detail.words.clone(),
                reasoning: e.detail.reasoning.clone(),
                told: (kind == EntryKind::OwnConsent).then(|| {
                    if e.detail.carers_may_be_told.is_empty() {
                        "Nothing".to_owned()
                    } else {
                        e.detail
                            .carers_may_be_told
                            .iter()
                            .map(|t| t.label())
                            .collect::<Vec<_>>()
                            .join("; ")
                    }
                }),
                signed_name: e.detail.signed_name.clone(),
                reference: e.detail.reference.clone(),
                recorded_by: e
                    .recorded_by
                    .clone()
                    .unwrap_or_else(|| "The carer, through the link".to_owned()),
            }
        })
        .collect();
    let links = agreement
        .links
        .iter()
        .map(|l| LinkLine {
            id: l.link.id.to_string(),
            carer: l.carer.clone(),
            state: l.state,
            made: uk::date_time(l.link.created_at),
            expires: uk::date_time(l.link.expires_at),
            waiting: l.state == "Waiting",
        })
        .collect();
    let choice = |k: EntryKind| Choice {
        code: k.code().to_owned(),
        label: k.label().to_owned(),
    };
    AgreementPage {
        layout,
        case_id: agreement.case_id.to_string(),
        number: agreement.case_number.clone(),
        child_label: agreement.child_label.clone(),
        age_years: agreement.age_years,
        case_open: agreement.case_open,
        rules_name: agreement.rules.name.clone(),
        basis: assessment.basis.label(),
        competence_test: agreement.rules.competence_test.clone(),
        competence_question: agreement.rules.competence_question.clone(),
        presumed_capable_from: agreement.rules.presumed_capable_from,
        sources: agreement
            .rules
            .sources
            .iter()
            .map(|s| (s.title.clone(), s.url.clone()))
            .collect(),
        status: assessment.status.label(),
        ready: assessment.may_activate(),
        assessed_number: number_of(agreement.assessed),
        assessed_is_active: agreement.assessed.is_some() && agreement.assessed == active_id,
        missing: assessment.missing.clone(),
        reason: assessment.reason.clone(),
        notes: assessment.notes.clone(),
        carers_may_be_told: assessment.carers_may_be_told.as_ref().map(|topics| {
            if topics.is_empty() {
                "nothing".to_owned()
            } else {
                topics
                    .iter()
                    .map(|t| t.label().to_lowercase())
                    .collect::<Vec<_>>()
                    .join("; ")
            }
        }),
        time_and_place: agreement.time_and_place.clone(),
        active: agreement
            .versions
            .iter()
            .find(|v| Some(v.stored.id) == active_id)
            .map(|v| version_line(v, &carers, agreement.may_print)),
        draft: agreement
            .versions
            .iter()
            .find(|v| Some(v.stored.id) == draft_id)
            .map(|v| version_line(v, &carers, agreement.may_print)),
        earlier: agreement
            .versions
            .iter()
            .filter(|v| Some(v.stored.id) != active_id && Some(v.stored.id) != draft_id)
            .map(|v| version_line(v, &carers, agreement.may_print))
            .collect(),
        entries,
        links,
        kinds: EntryKind::ALL
            .into_iter()
            .filter(|k| !k.is_lead_decision())
            .map(choice)
            .collect(),
        lead_kinds: EntryKind::ALL
            .into_iter()
            .filter(|k| k.is_lead_decision())
            .map(choice)
            .collect(),
        topics: CarerTopic::ALL
            .into_iter()
            .map(|t| Choice {
                code: t.code().to_owned(),
                label: t.label().to_owned(),
            })
            .collect(),
        may_write: agreement.may_write,
        may_decide: agreement.may_decide,
        may_read_checklist: agreement.may_read_checklist,
        editor: editor_form(&agreement.editor),
        editor_errors: FieldErrors::default(),
        consent: FormData::default(),
        consent_errors: FieldErrors::default(),
        lead: FormData::default(),
        lead_errors: FieldErrors::default(),
        link_form: FormData(vec![("days".to_owned(), LINK_DAYS_DEFAULT.to_string())]),
        link_errors: FieldErrors::default(),
        activate_errors: FieldErrors::default(),
        new_link: None,
        notice: None,
        carers,
    }
}

async fn load_page(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    id: CaseId,
) -> Result<AgreementPage, PageError> {
    let agreement = state
        .alliance
        .case_agreement(actor, id)
        .await
        .map_err(page_error)?;
    let layout = Layout::load(state, "children", auth).await?;
    Ok(agreement_view(layout, agreement))
}

#[derive(Debug, Default, Deserialize)]
struct Saved {
    saved: Option<String>,
}

async fn agreement_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Query(saved): Query<Saved>,
) -> Result<Response, PageError> {
    let mut page = load_page(&state, &actor, &auth, case_id(&id)?).await?;
    page.notice = saved.saved.map(|what| {
        match what.as_str() {
            "draft" => "The new version is saved as a draft.",
            "active" => "The agreement is active.",
            "entry" => "Recorded.",
            "withdrawn" => "The link is withdrawn: it no longer works.",
            _ => "Saved.",
        }
        .to_owned()
    });
    Ok(render(&page)?.into_response())
}

/// The answer when a form lost a race with another change: the page again, with the message.
const CHANGED_MEANWHILE: &str = "Someone else changed this agreement at the same time. Look at the page as it is now, then try again.";

async fn draft_agreement(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = case_id(&id)?;
    let input = AgreementInput {
        not_hurting_yourself: form.get("not_hurting_yourself").to_owned(),
        not_hurting_the_therapist: form.get("not_hurting_the_therapist").to_owned(),
        not_damaging_the_room: form.get("not_damaging_the_room").to_owned(),
        added_rules: form.get("added_rules").to_owned(),
        confidentiality: form.get("confidentiality").to_owned(),
    };
    let errors = match state.alliance.draft_agreement(&actor, id, &input).await {
        Ok(_) => {
            return Ok(
                Redirect::to(&format!("/cases/{id}/agreement?saved=draft#draft")).into_response(),
            );
        }
        Err(AppError::Invalid(invalid)) => FieldErrors::from_invalid(&invalid),
        Err(AppError::Conflict(_) | AppError::Store(StoreError::Conflict(_))) => {
            FieldErrors::one("not_hurting_yourself", CHANGED_MEANWHILE)
        }
        Err(other) => return Err(page_error(other)),
    };
    let mut page = load_page(&state, &actor, &auth, id).await?;
    page.editor = form;
    page.editor_errors = errors;
    unprocessable(&page)
}

async fn activate_agreement(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path((id, agreement)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let id = case_id(&id)?;
    let agreement = uuid(&agreement)?;
    let (status, message) = match state
        .alliance
        .activate_agreement(&actor, id, agreement)
        .await
    {
        Ok(()) => {
            return Ok(
                Redirect::to(&format!("/cases/{id}/agreement?saved=active#active")).into_response(),
            );
        }
        Err(AppError::Invalid(invalid)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            invalid
                .errors
                .iter()
                .map(|e| e.message.clone())
                .collect::<Vec<_>>()
                .join(" "),
        ),
        Err(AppError::Conflict(_) | AppError::Store(StoreError::Conflict(_))) => {
            (StatusCode::CONFLICT, CHANGED_MEANWHILE.to_owned())
        }
        Err(other) => return Err(page_error(other)),
    };
    let mut page = load_page(&state, &actor, &auth, id).await?;
    page.activate_errors = FieldErrors::one("activate", &message);
    let mut response = render(&page)?.into_response();
    *response.status_mut() = status;
    Ok(response)
}

/// Which of the two entry forms was sent: the therapist's, or the service lead's decision.
fn is_lead_form(form: &FormData) -> bool {
    form.get("form") == "lead"
}

async fn record_consent(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = case_id(&id)?;
    let lead = is_lead_form(&form);
    let input = ConsentInput {
        kind: form.get("kind").to_owned(),
        carer: form.get("carer").to_owned(),
        given_on: form.get("given_on").to_owned(),
        words: form.get("words").to_owned(),
        reasoning: form.get("reasoning").to_owned(),
        carers_may_be_told: form.all("carers_may_be_told"),
        reference: form.get("reference").to_owned(),
    };
    let errors = match state.alliance.record_consent(&actor, id, &input).await {
        Ok(_) => {
            return Ok(
                Redirect::to(&format!("/cases/{id}/agreement?saved=entry#entries")).into_response(),
            );
        }
        Err(AppError::Invalid(invalid)) => invalid
            .errors
            .iter()
            .map(|e| {
                let field = e.field.as_str();
                let field = if lead {
                    format!("lead_{field}")
                } else {
                    field.to_owned()
                };
                (field, e.message.clone())
            })
            .collect(),
        Err(AppError::Conflict(_) | AppError::Store(StoreError::Conflict(_))) => [(
            if lead { "lead_kind" } else { "kind" }.to_owned(),
            CHANGED_MEANWHILE.to_owned(),
        )]
        .into(),
        Err(other) => return Err(page_error(other)),
    };
    let mut page = load_page(&state, &actor, &auth, id).await?;
    if lead {
        page.lead = form;
        page.lead_errors = FieldErrors(errors);
    } else {
        page.consent = form;
        page.consent_errors = FieldErrors(errors);
    }
    unprocessable(&page)
}

async fn create_link(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = case_id(&id)?;
    let carer = CarerId::parse(form.get("carer"))
        .map_err(|_| AppError::from(Invalid::field("carer", "Choose a carer")));
    let days = match form.get("days").trim() {
        "" => Ok(None),
        raw => raw.parse::<i64>().map(Some).map_err(|_| {
            AppError::from(Invalid::field(
                "days",
                format!("Enter a number of days, from 1 to {LINK_DAYS_MAX}"),
            ))
        }),
    };
    let result = match (carer, days) {
        (Ok(carer), Ok(days)) => {
            state
                .alliance
                .create_consent_link(&actor, id, carer, days)
                .await
        }
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    match result {
        Ok((link, token)) => {
            let mut page = load_page(&state, &actor, &auth, id).await?;
            let carer = page
                .carers
                .iter()
                .find(|c| c.id == link.carer_id.to_string())
                .map(|c| c.label.clone())
                .unwrap_or_default();
            page.new_link = Some(NewLink {
                url: feed_links(&state, &headers, &format!("/consent/{token}")).url,
                carer,
                expires: uk::date_time(link.expires_at),
            });
            Ok(render(&page)?.into_response())
        }
        Err(AppError::Invalid(invalid)) => {
            let mut page = load_page(&state, &actor, &auth, id).await?;
            page.link_form = form;
            page.link_errors = FieldErrors(
                invalid
                    .errors
                    .iter()
                    .map(|e| {
                        let field = if e.field == "carer" {
                            "link_carer".to_owned()
                        } else {
                            e.field.clone()
                        };
                        (field, e.message.clone())
                    })
                    .collect(),
            );
            unprocessable(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}

async fn revoke_link(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path((id, link)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let id = case_id(&id)?;
    let link = uuid(&link)?;
    match state.alliance.revoke_consent_link(&actor, id, link).await {
        Ok(()) => Ok(
            Redirect::to(&format!("/cases/{id}/agreement?saved=withdrawn#links")).into_response(),
        ),
        Err(AppError::Invalid(invalid)) => {
            let mut page = load_page(&state, &actor, &auth, id).await?;
            page.link_errors = FieldErrors(
                invalid
                    .errors
                    .iter()
                    .map(|e| ("links".to_owned(), e.message.clone()))
                    .collect(),
            );
            unprocessable(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}

// ----- the agreement printed, and as a PDF -----

#[derive(Debug, Default, Deserialize)]
struct CopyQuery {
    #[serde(rename = "for", default)]
    copy_for: String,
}

fn copy_of(raw: &str) -> Result<AgreementCopy, PageError> {
    match raw.trim() {
        "" | "child" => Ok(AgreementCopy::Child),
        other => other
            .strip_prefix("carer:")
            .and_then(|id| CarerId::parse(id).ok())
            .map(AgreementCopy::Carer)
            .ok_or_else(|| page_error(AppError::NotFound)),
    }
}

#[derive(Template)]
#[template(path = "agreement_print.html")]
struct AgreementPrintPage {
    layout: Layout,
    case_id: String,
    pdf_href: String,
    document: Option<AgreementDocument>,
    /// Confidentiality, a paragraph per line.
    confidentiality: Vec<String>,
    refusal: Option<String>,
}

async fn agreement_print(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path((id, agreement)): Path<(String, String)>,
    Query(query): Query<CopyQuery>,
) -> Result<Response, PageError> {
    let id = case_id(&id)?;
    let agreement = uuid(&agreement)?;
    let copy = copy_of(&query.copy_for)?;
    let result = state
        .alliance
        .agreement_document(&actor, id, agreement, copy)
        .await;
    let layout = Layout::load(&state, "children", &auth).await?;
    let for_query = form_urlencoded::byte_serialize(query.copy_for.as_bytes()).collect::<String>();
    match result {
        Ok(document) => Ok(render(&AgreementPrintPage {
            layout,
            case_id: id.to_string(),
            pdf_href: format!("/cases/{id}/agreement/{agreement}/pdf?for={for_query}"),
            confidentiality: document
                .confidentiality
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
            document: Some(document),
            refusal: None,
        })?
        .into_response()),
        Err(AppError::Invalid(invalid)) => unprocessable(&AgreementPrintPage {
            layout,
            case_id: id.to_string(),
            pdf_href: String::new(),
            document: None,
            confidentiality: Vec::new(),
            refusal: Some(
                invalid
                    .errors
                    .iter()
                    .map(|e| e.message.clone())
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
        }),
        Err(other) => Err(page_error(other)),
    }
}

async fn agreement_pdf(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path((id, agreement)): Path<(String, String)>,
    Query(query): Query<CopyQuery>,
) -> Result<Response, PageError> {
    let id = case_id(&id)?;
    let agreement = uuid(&agreement)?;
    let copy = copy_of(&query.copy_for)?;
    let document = state
        .alliance
        .agreement_document(&actor, id, agreement, copy)
        .await
        .map_err(page_error)?;
    let which = match copy {
        AgreementCopy::Child => "child",
        AgreementCopy::Carer(_) => "carer",
    };
    crate::pdf::agreement_response(&document, which)
        .await
        .map_err(page_error)
}

// ----- the first-session checklist -----

struct ItemLine {
    topic: String,
    explained_on: String,
    methods: String,
    to_whom: String,
    version: String,
    child_said: String,
    revisit: String,
    recorded_by: String,
    earlier_case: bool,
}

#[derive(Template)]
#[template(path = "checklist.html")]
struct ChecklistPage {
    layout: Layout,
    case_id: String,
    number: String,
    child_label: String,
    child_id: String,
    band: String,
    items: Vec<ItemLine>,
    topics: Vec<Choice>,
    methods: Vec<Choice>,
    audiences: Vec<Choice>,
    versions: Vec<Choice>,
    may_write: bool,
    form: FormData,
    errors: FieldErrors,
    notice: Option<String>,
}

async fn checklist_view(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    id: CaseId,
) -> Result<ChecklistPage, PageError> {
    let checklist = state
        .alliance
        .case_checklist(actor, id)
        .await
        .map_err(page_error)?;
    let version_label = |v: Option<Uuid>| {
        v.map(|v| {
            checklist
                .versions
                .iter()
                .find(|(id, _)| *id == v)
                .map(|(_, label)| label.clone())
                .unwrap_or_else(|| "A version no longer published".to_owned())
        })
        .unwrap_or_default()
    };
    let items = checklist
        .items
        .iter()
        .map(|i| ItemLine {
            topic: i.topic_title.clone(),
            explained_on: uk::date(i.stored.explained_on),
            methods: i
                .stored
                .methods
                .iter()
                .filter_map(|m| Method::parse(m).ok())
                .map(|m| m.label())
                .collect::<Vec<_>>()
                .join(", "),
            to_whom: ExplainedTo::parse(&i.stored.to_whom)
                .map(|t| t.label().to_owned())
                .unwrap_or_default(),
            version: version_label(i.stored.library_version),
            child_said: i.child_said.clone().unwrap_or_default(),
            revisit: i.revisit.clone().unwrap_or_default(),
            recorded_by: i.recorded_by.clone(),
            earlier_case: i.stored.case_id != checklist.case_id,
        })
        .collect();
    Ok(ChecklistPage {
        layout: Layout::load(state, "children", auth).await?,
        case_id: id.to_string(),
        number: checklist.case_number.clone(),
        child_label: checklist.child_label.clone(),
        child_id: checklist.child_id.to_string(),
        band: checklist.band.1.clone(),
        items,
        topics: checklist
            .topics
            .iter()
            .map(|(code, title)| Choice {
                code: code.clone(),
                label: title.clone(),
            })
            .collect(),
        methods: Method::ALL
            .into_iter()
            .map(|m| Choice {
                code: m.code().to_owned(),
                label: m.label().to_owned(),
            })
            .collect(),
        audiences: ExplainedTo::ALL
            .into_iter()
            .map(|t| Choice {
                code: t.code().to_owned(),
                label: t.label().to_owned(),
            })
            .collect(),
        versions: checklist
            .versions
            .iter()
            .map(|(id, label)| Choice {
                code: id.to_string(),
                label: label.clone(),
            })
            .collect(),
        may_write: checklist.may_write,
        form: FormData(vec![(
            "explained_on".to_owned(),
            uk::date(state.alliance.today()),
        )]),
        errors: FieldErrors::default(),
        notice: None,
    })
}

async fn checklist_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Query(saved): Query<Saved>,
) -> Result<Response, PageError> {
    let mut page = checklist_view(&state, &actor, &auth, case_id(&id)?).await?;
    page.notice = saved.saved.map(|_| "Recorded.".to_owned());
    Ok(render(&page)?.into_response())
}

async fn record_checklist_item(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = case_id(&id)?;
    let input = ChecklistInput {
        topic: form.get("topic").to_owned(),
        explained_on: form.get("explained_on").to_owned(),
        methods: form.all("methods"),
        to_whom: form.get("to_whom").to_owned(),
        library_version: form.get("library_version").to_owned(),
        child_said: form.get("child_said").to_owned(),
        revisit: form.get("revisit").to_owned(),
    };
    match state
        .alliance
        .record_checklist_item(&actor, id, &input)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{id}/checklist?saved=1#items")).into_response()),
        Err(AppError::Invalid(invalid)) => {
            let mut page = checklist_view(&state, &actor, &auth, id).await?;
            page.form = form;
            page.errors = FieldErrors::from_invalid(&invalid);
            unprocessable(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}
