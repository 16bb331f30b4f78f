//! Retention and destruction (issue 15): a child's retention page (each record class's date,
//! the rule in plain words with its sources, holds, the DSL's 75-year flag, legal holds), the
//! report of records past their date, a destruction request and its approval, and the
//! service's retention settings. Who may see or do what is the use-cases'
//! (`alliance_service::retention`): administrators and the service lead see the clinical record
//! and process notes, the DSL and deputies the safeguarding records too; anyone else is
//! answered "not found".

use super::{FieldErrors, FormData, Layout, STALE_MESSAGE, render, version_of};
use crate::AppState;
use crate::auth::{Auth, CurrentAuth, Signed};
use crate::errors::page_error;
use crate::respond::PageError;
use alliance_core::children::ChildId;
use alliance_core::retention::{self as rules, ClinicalChoice, Figures, Retention, Settings};
use alliance_core::{PageRequest, uk};
use alliance_service::retention::{ChildRetention, DestructionView, policies};
use alliance_service::{Actor, AppError, DestructionStatus};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/children/{id}/retention", get(child_page))
        .route("/children/{id}/retention/holds", post(set_hold))
        .route("/children/{id}/retention/holds/{hid}/lift", post(lift_hold))
        .route("/children/{id}/retention/flag", post(set_flag))
        .route("/children/{id}/retention/destruction", post(request))
        .route("/retention/report", get(report_page))
        .route(
            "/retention/settings",
            get(settings_page).post(save_settings),
        )
        .route("/retention/destructions/{rid}", get(destruction_page))
        .route("/retention/destructions/{rid}/approve", post(approve))
        .route("/retention/destructions/{rid}/refuse", post(refuse))
}

fn child_id(raw: &str) -> Result<ChildId, PageError> {
    ChildId::parse(raw).map_err(|_| page_error(AppError::NotFound))
}

fn uuid(raw: &str) -> Result<Uuid, PageError> {
    Uuid::parse_str(raw).map_err(|_| page_error(AppError::NotFound))
}

/// A source as a link.
pub(crate) struct SourceLine {
    title: String,
    url: String,
}

fn sources(r: &Retention) -> Vec<SourceLine> {
    r.sources
        .iter()
        .map(|s| SourceLine {
            title: s.title.clone(),
            url: s.url.clone(),
        })
        .collect()
}

/// Field errors (and the status to answer with) for a refused change shown beside `field`.
fn refusal(err: AppError, field: &str) -> Result<(StatusCode, FieldErrors), PageError> {
    match err {
        AppError::Invalid(invalid) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            FieldErrors::from_invalid(&invalid),
        )),
        AppError::Stale(_) => Ok((StatusCode::CONFLICT, FieldErrors::one(field, STALE_MESSAGE))),
        AppError::Conflict(why) if why.contains(' ') => Ok((
            StatusCode::CONFLICT,
            FieldErrors::one(field, &capitalise(&why)),
        )),
        AppError::Denied(why) => Ok((
            StatusCode::FORBIDDEN,
            FieldErrors::one(field, &format!("You cannot do this: {why}.")),
        )),
        other => Err(page_error(other)),
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().collect::<String>() + chars.as_str(),
        None => String::new(),
    }
}

fn respond(page: &impl Template, status: StatusCode) -> Result<Response, PageError> {
    let mut response = render(page)?.into_response();
    *response.status_mut() = status;
    Ok(response)
}

// ----- the child's page -----

struct ClassLine {
    code: &'static str,
    label: &'static str,
    until: String,
    rule_name: String,
    explanation: String,
    sources: Vec<SourceLine>,
    past: bool,
    review: bool,
    destroyed: Option<String>,
    request_href: Option<String>,
    may_request: bool,
}

struct HoldLine {
    id: String,
    reason: String,
    set: String,
    lifted: Option<String>,
    version: i64,
}

struct FlagLine {
    flagged: bool,
    version: String,
    set: Option<String>,
}

#[derive(Template)]
#[template(path = "retention_child.html")]
struct ChildPage {
    layout: Layout,
    child: String,
    child_name: String,
    born: String,
    died: Option<String>,
    classes: Vec<ClassLine>,
    holds: Vec<String>,
    legal_holds: Vec<HoldLine>,
    active_hold: Option<HoldLine>,
    may_set_hold: bool,
    flag: Option<FlagLine>,
    notice: Option<String>,
    form: FormData,
    errors: FieldErrors,
}

fn class_line(c: &alliance_service::retention::ClassRetention) -> ClassLine {
    ClassLine {
        code: c.class.code(),
        label: c.label,
        until: c
            .retention
            .as_ref()
            .map(|r| {
                r.until
                    .map(uk::date)
                    .unwrap_or_else(|| "No date yet".to_owned())
            })
            .unwrap_or_default(),
        rule_name: c.rule_name.clone(),
        explanation: c
            .retention
            .as_ref()
            .map(|r| r.explanation.clone())
            .unwrap_or_default(),
        sources: c.retention.as_ref().map(sources).unwrap_or_default(),
        past: c.past,
        review: c.retention.as_ref().is_some_and(|r| r.then_review),
        destroyed: c.destroyed.as_ref().map(|d| {
            format!(
                "Destroyed on {} under the retention policy ({})",
                uk::date(d.on),
                d.reference
            )
        }),
        request_href: c
            .open_request
            .map(|rid| format!("/retention/destructions/{rid}")),
        may_request: c.may_request,
    }
}

async fn child_view(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    child: ChildId,
) -> Result<ChildPage, PageError> {
    let view: ChildRetention = state
        .alliance
        .child_retention(actor, child)
        .await
        .map_err(page_error)?;
    let hold_line = |h: &alliance_service::retention::HoldView| HoldLine {
        id: h.id.to_string(),
        reason: h.reason.clone(),
        set: format!("{}, {}", h.set_by, uk::date_time(h.set_at)),
        lifted: h
            .lifted
            .as_ref()
            .map(|(by, at, why)| format!("Lifted by {by}, {}: {why}", uk::date_time(*at))),
        version: h.version.get(),
    };
    Ok(ChildPage {
        layout: Layout::load(state, "children", auth).await?,
        child: child.to_string(),
        child_name: view.child_name.clone(),
        born: uk::date(view.date_of_birth),
        died: view.date_of_death.map(uk::date),
        classes: view.classes.iter().map(class_line).collect(),
        holds: view.holds.clone(),
        active_hold: view
            .legal_holds
            .iter()
            .find(|h| h.lifted.is_none())
            .map(hold_line),
        legal_holds: view.legal_holds.iter().map(hold_line).collect(),
        may_set_hold: view.reach.legal_holds && view.may_write,
        flag: view.flag.as_ref().map(|f| FlagLine {
            flagged: f.flagged,
            version: f.version.map(|v| v.get().to_string()).unwrap_or_default(),
            set: match (&f.set_by, f.set_at) {
                (Some(by), Some(at)) => Some(format!("{by}, {}", uk::date_time(at))),
                _ => None,
            },
        }),
        notice: None,
        form: FormData::default(),
        errors: FieldErrors::default(),
    })
}

#[derive(Debug, Default, Deserialize)]
struct SavedQuery {
    saved: Option<String>,
}

async fn child_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Query(query): Query<SavedQuery>,
) -> Result<Response, PageError> {
    let child = child_id(&id)?;
    let mut page = child_view(&state, &actor, &auth, child).await?;
    page.notice = query.saved.map(|what| {
        match what.as_str() {
            "hold" => {
                "The legal hold is set: nothing of this child's is destroyed while it stands."
            }
            "lifted" => "The legal hold is lifted.",
            "flag" => "The flag is saved.",
            _ => "Saved.",
        }
        .to_owned()
    });
    Ok(render(&page)?.into_response())
}

/// The child's page again with a refusal beside `field` (what was typed kept).
async fn child_refused(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    child: ChildId,
    form: FormData,
    field: &str,
    err: AppError,
) -> Result<Response, PageError> {
    let (status, errors) = refusal(err, field)?;
    let mut page = child_view(state, actor, auth, child).await?;
    page.form = form;
    page.errors = errors;
    respond(&page, status)
}

async fn set_hold(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let child = child_id(&id)?;
    match state
        .alliance
        .set_legal_hold(&actor, child, form.get("reason"))
        .await
    {
        Ok(_) => {
            Ok(Redirect::to(&format!("/children/{child}/retention?saved=hold")).into_response())
        }
        Err(err) => child_refused(&state, &actor, &auth, child, form, "reason", err).await,
    }
}

async fn lift_hold(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path((id, hid)): Path<(String, String)>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let (child, hold) = (child_id(&id)?, uuid(&hid)?);
    let version = version_of(&form)?;
    match state
        .alliance
        .lift_legal_hold(&actor, child, hold, form.get("lift_reason"), version)
        .await
    {
        Ok(()) => {
            Ok(Redirect::to(&format!("/children/{child}/retention?saved=lifted")).into_response())
        }
        Err(AppError::Invalid(invalid)) => {
            // The lifting form names its reason `lift_reason`.
            let mut errors = FieldErrors::from_invalid(&invalid);
            if let Some(message) = errors.0.remove("reason") {
                errors.0.insert("lift_reason".to_owned(), message);
            }
            let mut page = child_view(&state, &actor, &auth, child).await?;
            page.form = form;
            page.errors = errors;
            respond(&page, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(err) => child_refused(&state, &actor, &auth, child, form, "lift_reason", err).await,
    }
}

async fn set_flag(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let child = child_id(&id)?;
    let flagged = match form.get("flagged") {
        "yes" => true,
        "no" => false,
        _ => {
            let mut page = child_view(&state, &actor, &auth, child).await?;
            page.errors = FieldErrors::one("flagged", "Choose whether the 75-year rule applies");
            return respond(&page, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let expected = match form.optional("version") {
        None => None,
        Some(_) => Some(version_of(&form)?),
    };
    match state
        .alliance
        .set_retention_flag(&actor, child, flagged, expected)
        .await
    {
        Ok(()) => {
            Ok(Redirect::to(&format!("/children/{child}/retention?saved=flag")).into_response())
        }
        Err(err) => child_refused(&state, &actor, &auth, child, form, "flagged", err).await,
    }
}

async fn request(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let child = child_id(&id)?;
    let class = match rules::parse_class(form.get("class")) {
        Ok(class) => class,
        Err(message) => {
            let mut page = child_view(&state, &actor, &auth, child).await?;
            page.errors = FieldErrors::one("destruction", &message);
            return respond(&page, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    match state
        .alliance
        .request_destruction(&actor, child, class)
        .await
    {
        Ok(rid) => Ok(
            Redirect::to(&format!("/retention/destructions/{rid}?saved=requested")).into_response(),
        ),
        Err(err) => child_refused(&state, &actor, &auth, child, form, "destruction", err).await,
    }
}

// ----- a destruction request -----

#[derive(Template)]
#[template(path = "destruction.html")]
struct DestructionPage {
    layout: Layout,
    id: String,
    reference: String,
    child: String,
    child_name: String,
    class: &'static str,
    status: String,
    open: bool,
    requested: String,
    decided: Option<String>,
    until: Option<String>,
    explanation: Option<String>,
    holds: Vec<String>,
    may_approve: bool,
    needs_password: bool,
    cooling_off: Option<String>,
    approval_refused: Option<&'static str>,
    may_refuse: bool,
    may_withdraw: bool,
    version: i64,
    notice: Option<String>,
    errors: FieldErrors,
}

fn status_words(v: &DestructionView) -> String {
    match v.status {
        DestructionStatus::Requested => "Awaiting approval".to_owned(),
        DestructionStatus::Destroyed => match v.decided_at {
            Some(at) => format!(
                "Destroyed on {} under the retention policy{}",
                uk::date(at.to_zoned_datetime(uk::london()).date()),
                if v.sole_practitioner {
                    " (approved by the sole practitioner after the cooling-off)"
                } else {
                    ""
                }
            ),
            None => "Destroyed".to_owned(),
        },
        DestructionStatus::Refused => "Refused".to_owned(),
        DestructionStatus::Withdrawn => "Withdrawn by the person who asked".to_owned(),
    }
}

async fn destruction_view(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    rid: Uuid,
) -> Result<DestructionPage, PageError> {
    let v = state
        .alliance
        .destruction_view(actor, rid)
        .await
        .map_err(page_error)?;
    Ok(DestructionPage {
        layout: Layout::load(state, "children", auth).await?,
        id: v.id.to_string(),
        reference: v.reference.clone(),
        child: v.child.to_string(),
        child_name: v.child_name.clone(),
        class: rules::class_label(v.class),
        status: status_words(&v),
        open: v.status == DestructionStatus::Requested,
        requested: format!("{}, {}", v.requested_by, uk::date_time(v.requested_at)),
        decided: match (&v.decided_by, v.decided_at) {
            (Some(by), Some(at)) => Some(format!("{by}, {}", uk::date_time(at))),
            _ => None,
        },
        until: v.retention.as_ref().map(|r| {
            r.until
                .map(uk::date)
                .unwrap_or_else(|| "No date yet".to_owned())
        }),
        explanation: v.retention.as_ref().map(|r| r.explanation.clone()),
        holds: v.holds.clone(),
        may_approve: v.may_approve,
        needs_password: v.needs_password,
        cooling_off: v.cooling_off_until.map(uk::date_time),
        approval_refused: v.approval_refused,
        may_refuse: v.may_refuse,
        may_withdraw: v.may_withdraw,
        version: v.version.get(),
        notice: None,
        errors: FieldErrors::default(),
    })
}

async fn destruction_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(rid): Path<String>,
    Query(query): Query<SavedQuery>,
) -> Result<Response, PageError> {
    let rid = uuid(&rid)?;
    let mut page = destruction_view(&state, &actor, &auth, rid).await?;
    page.notice = query.saved.map(|what| {
        match what.as_str() {
            "requested" => "The destruction is asked for: the service lead or the DSL approves it.",
            "destroyed" => {
                "Destroyed: the key of this part of the record is gone, and with it every copy."
            }
            "refused" => "The request is closed.",
            _ => "Saved.",
        }
        .to_owned()
    });
    Ok(render(&page)?.into_response())
}

async fn destruction_refused(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    rid: Uuid,
    field: &str,
    err: AppError,
) -> Result<Response, PageError> {
    let (status, errors) = refusal(err, field)?;
    let mut page = destruction_view(state, actor, auth, rid).await?;
    page.errors = errors;
    respond(&page, status)
}

async fn approve(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(rid): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let rid = uuid(&rid)?;
    let version = version_of(&form)?;
    match state
        .alliance
        .approve_destruction(&actor, rid, form.optional("password"), version)
        .await
    {
        Ok(()) => Ok(
            Redirect::to(&format!("/retention/destructions/{rid}?saved=destroyed")).into_response(),
        ),
        Err(err) => destruction_refused(&state, &actor, &auth, rid, "approve", err).await,
    }
}

async fn refuse(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(rid): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let rid = uuid(&rid)?;
    let version = version_of(&form)?;
    match state.alliance.close_destruction(&actor, rid, version).await {
        Ok(_) => Ok(
            Redirect::to(&format!("/retention/destructions/{rid}?saved=refused")).into_response(),
        ),
        Err(err) => destruction_refused(&state, &actor, &auth, rid, "refuse", err).await,
    }
}

// ----- the report -----

struct ReportLine {
    child_href: String,
    child_name: String,
    born: String,
    class: &'static str,
    until: String,
    rule: String,
    holds: String,
    request_href: Option<String>,
}

struct AwaitingLine {
    href: String,
    reference: String,
    class: &'static str,
    requested: String,
}

#[derive(Template)]
#[template(path = "retention_report.html")]
struct ReportPage {
    layout: Layout,
    rows: Vec<ReportLine>,
    awaiting: Vec<AwaitingLine>,
    safeguarding: bool,
    next: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct ReportQuery {
    after: Option<String>,
}

async fn report_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Query(query): Query<ReportQuery>,
) -> Result<Response, PageError> {
    let page = PageRequest::parse(Some(50), query.after.as_deref())
        .map_err(|e| page_error(AppError::Invalid(e)))?;
    let report = state
        .alliance
        .retention_report(&actor, &page)
        .await
        .map_err(page_error)?;
    let page = ReportPage {
        layout: Layout::load(&state, "retention", &auth).await?,
        rows: report
            .rows
            .items
            .iter()
            .map(|r| ReportLine {
                child_href: format!("/children/{}/retention", r.child),
                child_name: r.child_name.clone(),
                born: uk::date(r.date_of_birth),
                class: rules::class_label(r.class),
                until: uk::date(r.until),
                rule: r.rule_name.clone(),
                holds: r.holds.join("; "),
                request_href: r
                    .open_request
                    .map(|rid| format!("/retention/destructions/{rid}")),
            })
            .collect(),
        awaiting: report
            .awaiting
            .iter()
            .map(|a| AwaitingLine {
                href: format!("/retention/destructions/{}", a.id),
                reference: a.reference.clone(),
                class: rules::class_label(a.class),
                requested: format!("{}, {}", a.requested_by, uk::date_time(a.requested_at)),
            })
            .collect(),
        safeguarding: report.reach.safeguarding,
        next: report
            .rows
            .next
            .map(|n| format!("/retention/report?after={n}")),
    };
    Ok(render(&page)?.into_response())
}

// ----- settings -----

/// One figure of the settings, with the rule it belongs to.
struct FigureLine {
    name: &'static str,
    label: &'static str,
    value: u32,
    rule: String,
}

struct RuleLine {
    name: String,
    summary: String,
    note: String,
    sources: Vec<SourceLine>,
}

struct ChoiceLine {
    code: &'static str,
    label: &'static str,
}

#[derive(Template)]
#[template(path = "retention_settings.html")]
struct SettingsPage {
    layout: Layout,
    figures: Vec<FigureLine>,
    choices: Vec<ChoiceLine>,
    clinical: &'static str,
    cooling_off_hours: u32,
    rules: Vec<RuleLine>,
    may_edit: bool,
    version: String,
    notice: Option<String>,
    form: FormData,
    errors: FieldErrors,
}

/// The figures in order: (field, label, value, the rule's code).
fn figure_list(f: &Figures) -> [(&'static str, &'static str, u32, &'static str); 10] {
    [
        (
            "children_birthday",
            "Children's records: kept until this birthday",
            f.children_birthday,
            "children",
        ),
        (
            "children_extended_birthday",
            "...or until this birthday",
            f.children_extended_birthday,
            "children",
        ),
        (
            "children_extended_age",
            "...for a young person this old when the last episode ended",
            f.children_extended_age,
            "children",
        ),
        (
            "adult_age",
            "An adult's record from this age at the end",
            f.adult_age,
            "children",
        ),
        (
            "adult_years",
            "An adult's record: years kept after the end",
            f.adult_years,
            "children",
        ),
        (
            "mental_health_years",
            "Mental-health records: years kept after the end",
            f.mental_health_years,
            "mental-health",
        ),
        (
            "death_years",
            "After a death: years kept",
            f.death_years,
            "death",
        ),
        (
            "death_mental_health_years",
            "After a death, mental-health records: years kept",
            f.death_mental_health_years,
            "death",
        ),
        (
            "safeguarding_birthday",
            "Safeguarding records: kept until this birthday, then reviewed",
            f.safeguarding_birthday,
            "safeguarding",
        ),
        (
            "abuse_years",
            "Child sexual abuse or exploitation: years kept after the latest safeguarding record",
            f.abuse_years,
            "abuse-75",
        ),
    ]
}

async fn settings_view(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
) -> Result<SettingsPage, PageError> {
    state
        .alliance
        .ensure_retention_reach(actor, "read retention settings")
        .await
        .map_err(page_error)?;
    let (settings, version) = state
        .alliance
        .retention_settings()
        .await
        .map_err(page_error)?;
    let policies = policies().map_err(page_error)?;
    let rule_name = |code: &str| {
        rules::RuleId::parse(code)
            .map(|r| policies.text(r).name.clone())
            .unwrap_or_default()
    };
    let mut form = FormData::default();
    for (name, _, value, _) in figure_list(&settings.figures) {
        form.0.push((name.to_owned(), value.to_string()));
    }
    form.0.push((
        "cooling_off_hours".to_owned(),
        settings.cooling_off_hours.to_string(),
    ));
    form.0
        .push(("clinical".to_owned(), settings.clinical.code().to_owned()));
    Ok(SettingsPage {
        layout: Layout::load(state, "retention", auth).await?,
        figures: figure_list(&settings.figures)
            .into_iter()
            .map(|(name, label, value, rule)| FigureLine {
                name,
                label,
                value,
                rule: rule_name(rule),
            })
            .collect(),
        choices: ClinicalChoice::ALL
            .into_iter()
            .map(|c| ChoiceLine {
                code: c.code(),
                label: c.label(),
            })
            .collect(),
        clinical: settings.clinical.label(),
        cooling_off_hours: settings.cooling_off_hours,
        rules: policies
            .rules()
            .map(|(_, t)| RuleLine {
                name: t.name.clone(),
                summary: t.summary.clone(),
                note: t.note.clone(),
                sources: t
                    .sources
                    .iter()
                    .map(|s| SourceLine {
                        title: s.title.clone(),
                        url: s.url.clone(),
                    })
                    .collect(),
            })
            .collect(),
        may_edit: alliance_core::policy::decide(
            &actor.user,
            alliance_core::policy::Action::ManageService,
        )
        .is_allowed()
            && actor.may_write(),
        version: version.map(|v| v.get().to_string()).unwrap_or_default(),
        notice: None,
        form,
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
    page.notice = query
        .saved
        .map(|_| "The retention settings are saved.".to_owned());
    Ok(render(&page)?.into_response())
}

/// The settings as typed: each figure a whole number (a field error otherwise).
fn settings_of(form: &FormData) -> Result<Settings, alliance_core::Invalid> {
    let mut v = alliance_core::Validator::new();
    let mut number = |name: &str| -> u32 {
        v.check(
            name,
            form.get(name)
                .trim()
                .parse::<u32>()
                .map_err(|_| "Enter a whole number".to_owned()),
        )
        .unwrap_or_default()
    };
    let figures = Figures {
        children_birthday: number("children_birthday"),
        children_extended_birthday: number("children_extended_birthday"),
        children_extended_age: number("children_extended_age"),
        adult_age: number("adult_age"),
        adult_years: number("adult_years"),
        mental_health_years: number("mental_health_years"),
        death_years: number("death_years"),
        death_mental_health_years: number("death_mental_health_years"),
        safeguarding_birthday: number("safeguarding_birthday"),
        abuse_years: number("abuse_years"),
    };
    let cooling_off_hours = number("cooling_off_hours");
    let clinical = v
        .check("clinical", ClinicalChoice::parse(form.get("clinical")))
        .unwrap_or_default();
    v.finish()?;
    Ok(Settings {
        figures,
        clinical,
        cooling_off_hours,
    })
}

async fn save_settings(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let expected = match form.optional("version") {
        None => None,
        Some(_) => Some(version_of(&form)?),
    };
    let result = match settings_of(&form) {
        Ok(settings) => state
            .alliance
            .set_retention_settings(&actor, settings, expected)
            .await
            .map(|_| ()),
        Err(invalid) => Err(AppError::Invalid(invalid)),
    };
    match result {
        Ok(()) => Ok(Redirect::to("/retention/settings?saved=1").into_response()),
        Err(err) => {
            let (status, errors) = refusal(err, "settings")?;
            let mut page = settings_view(&state, &actor, &auth).await?;
            page.form = form;
            page.errors = errors;
            respond(&page, status)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alliance_core::Version;

    fn form(pairs: &[(&str, &str)]) -> FormData {
        FormData(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn the_settings_form_reads_every_figure_and_names_each_bad_one() {
        let defaults = Settings::defaults(policies().unwrap());
        let mut pairs: Vec<(String, String)> = figure_list(&defaults.figures)
            .into_iter()
            .map(|(n, _, v, _)| (n.to_owned(), v.to_string()))
            .collect();
        pairs.push(("cooling_off_hours".into(), "24".into()));
        pairs.push(("clinical".into(), "later".into()));
        let typed = FormData(pairs.clone());
        assert_eq!(settings_of(&typed).unwrap(), defaults);
        let bad = form(&[("children_birthday", "twenty-five"), ("clinical", "?")]);
        let fields: Vec<String> = settings_of(&bad)
            .unwrap_err()
            .errors
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert!(fields.contains(&"children_birthday".to_owned()));
        assert!(fields.contains(&"clinical".to_owned()));
        assert!(fields.contains(&"cooling_off_hours".to_owned()));
    }

    #[test]
    fn a_conflict_in_words_is_shown_beside_its_field_and_a_bare_one_is_not() {
        let (status, errors) =
            refusal(AppError::Conflict("On hold".into()), "destruction").unwrap();
        // "On hold" has a space: it is words.
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(errors.get("destruction"), Some("On hold"));
        assert!(refusal(AppError::Conflict("legal_holds_one_active".into()), "x").is_err());
        assert_eq!(
            refusal(AppError::Stale(Version::FIRST), "approve")
                .unwrap()
                .1
                .get("approve"),
            Some(STALE_MESSAGE)
        );
    }
}
