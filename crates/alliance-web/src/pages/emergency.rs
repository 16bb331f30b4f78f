//! A child's emergency panel, emergency details and safety plan (issue 16, policy section 1).
//!
//! - `/children/{id}/emergency`: the panel, one page that works on a phone (one column at
//!   320 px, buttons of 44 px, telephone numbers as `tel:` links): who may and may not
//!   collect, emergency contacts, medical needs and allergies, the safety plan's summary, and
//!   the link to the procedures of the site of the child's regular slot. Each reader sees
//!   what the matrix gives them: administrators contacts and medical only.
//! - `/children/{id}/emergency/edit`: medical needs, allergies, medication, the GP and people
//!   who may not collect who are not carers (who may collect is on each carer's own form).
//! - `/children/{id}/safety-plan` (`?version=n` for an earlier one) and
//!   `/children/{id}/safety-plan/edit`: the young person's plan, in their own words; each
//!   save is a new version.
//!
//! Who may do what is decided by the use-cases; this module shows what they answer.

use super::{FieldErrors, FormData, Layout, STALE_MESSAGE, conflicted, render, unprocessable};
use crate::AppState;
use crate::auth::{CurrentAuth, Signed};
use crate::errors::page_error;
use crate::respond::PageError;
use alliance_core::children::ChildId;
use alliance_core::emergency::{self as em, AllergyInput, BarredInput, EmergencyInput};
use alliance_core::safety_plans::{self as sp, SafetyPlan, SafetyPlanInput};
use alliance_core::uk;
use alliance_service::AppError;
use alliance_service::emergency::PanelView;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    // One method a line, so the route table the headers test reads finds each.
    Router::new()
        .route("/children/{id}/emergency", get(panel_page))
        .route("/children/{id}/emergency/edit", get(details_page))
        .route("/children/{id}/emergency/edit", post(save_details))
        .route("/children/{id}/safety-plan", get(plan_page))
        .route("/children/{id}/safety-plan/edit", get(plan_form_page))
        .route("/children/{id}/safety-plan/edit", post(save_plan))
}

fn child_id(raw: &str) -> Result<ChildId, PageError> {
    ChildId::parse(raw).map_err(|_| page_error(AppError::NotFound))
}

/// A number to call or text, as a link.
struct Phone {
    label: String,
    number: String,
    href: String,
}

// ----- the panel -----

struct PersonLine {
    name: String,
    relationship: String,
    why: String,
}

struct ContactCard {
    name: String,
    relationship: String,
    responsibility: bool,
    phone: Option<Phone>,
    do_not_contact: bool,
}

struct AllergyLine {
    what: String,
    severity: &'static str,
    severe: bool,
    action: String,
}

struct PlanSummaryView {
    review_on: String,
    warning_signs: String,
    people_to_ask: String,
    services: Vec<Phone>,
}

#[derive(Template)]
#[template(path = "emergency_panel.html")]
struct PanelPage {
    layout: Layout,
    id: String,
    name: String,
    /// None: the reader does not see who may collect (administrators).
    may_collect: Option<Vec<PersonLine>>,
    may_not_collect: Vec<PersonLine>,
    not_decided: Vec<PersonLine>,
    contacts: Vec<ContactCard>,
    medical: bool,
    medical_needs: String,
    allergies: Vec<AllergyLine>,
    medication: String,
    gp: String,
    /// None: the reader does not see the plan's summary; Some(None): there is no plan.
    plan: Option<Option<PlanSummaryView>>,
    site: Option<(String, String)>,
    may_edit: bool,
    may_read_plan: bool,
    may_write_plan: bool,
}

fn person(l: &em::CollectLine) -> PersonLine {
    PersonLine {
        name: l.name.clone(),
        relationship: l.relationship.clone(),
        why: l.why.join("; "),
    }
}

fn services(list: &[sp::Service]) -> Vec<Phone> {
    list.iter()
        .map(|s| Phone {
            label: if s.text {
                format!("Text {}", s.name)
            } else {
                format!("Call {}", s.name)
            },
            number: s.number.clone(),
            href: s.href(),
        })
        .collect()
}

fn panel_page_of(layout: Layout, view: PanelView) -> PanelPage {
    let p = view.panel;
    let medical = p.medical.clone().unwrap_or_default();
    PanelPage {
        layout,
        id: view.child.to_string(),
        name: view.name,
        may_collect: p
            .may_collect
            .as_ref()
            .map(|l| l.iter().map(person).collect()),
        may_not_collect: p.may_not_collect.iter().flatten().map(person).collect(),
        not_decided: p.not_decided.iter().flatten().map(person).collect(),
        contacts: p
            .contacts
            .iter()
            .flatten()
            .map(|c| ContactCard {
                name: c.name.clone(),
                relationship: c.relationship.clone(),
                responsibility: c.has_parental_responsibility,
                phone: c.phone.as_ref().map(|n| Phone {
                    label: format!("Call {}", c.name),
                    number: n.clone(),
                    href: em::tel_href(n),
                }),
                do_not_contact: c.do_not_contact,
            })
            .collect(),
        medical: p.medical.is_some(),
        medical_needs: medical.medical_needs.clone().unwrap_or_default(),
        allergies: medical
            .allergies
            .iter()
            .map(|a| AllergyLine {
                what: a.what.clone(),
                severity: a.severity.label(),
                severe: a.severity == em::Severity::Severe,
                action: a.action.clone(),
            })
            .collect(),
        medication: medical.medication.clone().unwrap_or_default(),
        gp: medical.gp.clone().unwrap_or_default(),
        plan: p.safety_plan.map(|plan| {
            plan.map(|s| PlanSummaryView {
                review_on: uk::date(s.review_on),
                warning_signs: s.warning_signs,
                people_to_ask: s.people_to_ask,
                services: services(&s.services),
            })
        }),
        site: view.site.map(|(id, name)| (id.to_string(), name)),
        may_edit: view.may_edit,
        may_read_plan: view.may_read_plan,
        may_write_plan: view.may_write_plan,
    }
}

async fn panel_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let view = state
        .alliance
        .emergency_panel(&actor, child_id(&id)?)
        .await
        .map_err(page_error)?;
    let layout = Layout::load(&state, "children", &auth).await?;
    Ok(render(&panel_page_of(layout, view))?.into_response())
}

// ----- the details -----

struct AllergyRow {
    index: usize,
    what: String,
    severity: String,
    action: String,
}

struct BarredRow {
    index: usize,
    name: String,
    relationship: String,
    source: String,
}

struct CarerCollect {
    id: String,
    name: String,
    relationship: String,
    collect: &'static str,
}

#[derive(Template)]
#[template(path = "emergency_edit.html")]
struct DetailsPage {
    layout: Layout,
    id: String,
    name: String,
    version: String,
    form: FormData,
    allergies: Vec<AllergyRow>,
    barred: Vec<BarredRow>,
    severities: Vec<(&'static str, &'static str)>,
    sources: Vec<(&'static str, &'static str)>,
    carers: Vec<CarerCollect>,
    errors: FieldErrors,
    refusal: Option<String>,
}

fn details_input(form: &FormData) -> EmergencyInput {
    let what = form.all("allergy_what");
    let severity = form.all("allergy_severity");
    let action = form.all("allergy_action");
    let names = form.all("barred_name");
    let relationships = form.all("barred_relationship");
    let sources = form.all("barred_source");
    EmergencyInput {
        medical_needs: form.get("medical_needs").to_owned(),
        medication: form.get("medication").to_owned(),
        gp: form.get("gp").to_owned(),
        allergies: (0..what.len())
            .map(|i| AllergyInput {
                what: what[i].clone(),
                severity: severity.get(i).cloned().unwrap_or_default(),
                action: action.get(i).cloned().unwrap_or_default(),
            })
            .collect(),
        barred: (0..names.len())
            .map(|i| BarredInput {
                name: names[i].clone(),
                relationship: relationships.get(i).cloned().unwrap_or_default(),
                source: sources.get(i).cloned().unwrap_or_default(),
            })
            .collect(),
    }
}

/// The form's fields from stored details.
fn details_form(details: &em::EmergencyDetails) -> FormData {
    let mut fields = vec![
        (
            "medical_needs".to_owned(),
            details.medical_needs.clone().unwrap_or_default(),
        ),
        (
            "medication".to_owned(),
            details.medication.clone().unwrap_or_default(),
        ),
        ("gp".to_owned(), details.gp.clone().unwrap_or_default()),
    ];
    for a in &details.allergies {
        fields.push(("allergy_what".to_owned(), a.what.clone()));
        fields.push(("allergy_severity".to_owned(), a.severity.code().to_owned()));
        fields.push(("allergy_action".to_owned(), a.action.clone()));
    }
    for b in &details.barred {
        fields.push(("barred_name".to_owned(), b.name.clone()));
        fields.push((
            "barred_relationship".to_owned(),
            b.relationship.clone().unwrap_or_default(),
        ));
        fields.push(("barred_source".to_owned(), b.source.code().to_owned()));
    }
    FormData(fields)
}

async fn load_details_page(
    state: &AppState,
    actor: &alliance_service::Actor,
    auth: &crate::auth::Auth,
    child: ChildId,
    form: Option<FormData>,
    errors: FieldErrors,
) -> Result<DetailsPage, PageError> {
    let found = state
        .alliance
        .emergency_details_form(actor, child)
        .await
        .map_err(page_error)?;
    let form = form.unwrap_or_else(|| details_form(&found.details));
    let input = details_input(&form);
    let mut allergies: Vec<AllergyRow> = input
        .allergies
        .iter()
        .filter(|a| !(a.what.trim().is_empty() && a.action.trim().is_empty()))
        .enumerate()
        .map(|(index, a)| AllergyRow {
            index,
            what: a.what.clone(),
            severity: a.severity.clone(),
            action: a.action.clone(),
        })
        .collect();
    allergies.push(AllergyRow {
        index: allergies.len(),
        what: String::new(),
        severity: String::new(),
        action: String::new(),
    });
    let mut barred: Vec<BarredRow> = input
        .barred
        .iter()
        .filter(|b| !(b.name.trim().is_empty() && b.source.trim().is_empty()))
        .enumerate()
        .map(|(index, b)| BarredRow {
            index,
            name: b.name.clone(),
            relationship: b.relationship.clone(),
            source: b.source.clone(),
        })
        .collect();
    barred.push(BarredRow {
        index: barred.len(),
        name: String::new(),
        relationship: String::new(),
        source: String::new(),
    });
    Ok(DetailsPage {
        layout: Layout::load(state, "children", auth).await?,
        id: child.to_string(),
        name: found.name,
        version: found
            .version
            .map(|v| v.get().to_string())
            .unwrap_or_default(),
        form,
        allergies,
        barred,
        severities: em::Severity::ALL.map(|s| (s.code(), s.label())).to_vec(),
        sources: em::BarSource::ALL.map(|s| (s.code(), s.label())).to_vec(),
        carers: found
            .carers
            .iter()
            .map(|c| CarerCollect {
                id: c.id.to_string(),
                name: c.details.name.clone(),
                relationship: c.details.relationship.clone(),
                collect: em::collects(&c.details).label(),
            })
            .collect(),
        errors,
        refusal: None,
    })
}

async fn details_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let page = load_details_page(
        &state,
        &actor,
        &auth,
        child_id(&id)?,
        None,
        FieldErrors::default(),
    )
    .await?;
    Ok(render(&page)?.into_response())
}

/// The version a form was read at: empty for details never written.
fn optional_version(form: &FormData) -> Result<Option<alliance_core::Version>, PageError> {
    match form.get("version").trim() {
        "" => Ok(None),
        raw => raw
            .parse::<i64>()
            .ok()
            .and_then(|v| alliance_core::Version::new(v).ok())
            .map(Some)
            .ok_or_else(|| {
                page_error(AppError::Invalid(alliance_core::Invalid::field(
                    "version",
                    "The form's version is not valid; reload the page",
                )))
            }),
    }
}

async fn save_details(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let child = child_id(&id)?;
    let expected = optional_version(&form)?;
    match state
        .alliance
        .set_emergency_details(&actor, child, &details_input(&form), expected)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/children/{child}/emergency")).into_response()),
        Err(AppError::Invalid(invalid)) => {
            let page = load_details_page(
                &state,
                &actor,
                &auth,
                child,
                Some(form),
                FieldErrors::from_invalid(&invalid),
            )
            .await?;
            unprocessable(&page)
        }
        Err(AppError::Stale(_)) => {
            let mut page = load_details_page(
                &state,
                &actor,
                &auth,
                child,
                Some(form),
                FieldErrors::default(),
            )
            .await?;
            page.refusal = Some(STALE_MESSAGE.to_owned());
            // Saving again keeps what was typed, over the newer version.
            conflicted(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}

// ----- the safety plan -----

struct VersionLink {
    number: i64,
    written: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "safety_plan.html")]
struct PlanPage {
    layout: Layout,
    id: String,
    child_shown: String,
    plan: Option<PlanShown>,
    versions: Vec<VersionLink>,
    may_write: bool,
    is_newest: bool,
}

struct PlanShown {
    number: i64,
    warning_signs: String,
    coping: String,
    people_and_places: String,
    people_to_ask: String,
    services: Vec<Phone>,
    safer_surroundings: String,
    reason_for_living: String,
    written_with: String,
    written_on: String,
    written_by: String,
    review_on: String,
}

#[derive(Debug, Default, Deserialize)]
struct PlanQuery {
    version: Option<String>,
}

async fn plan_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Query(query): Query<PlanQuery>,
) -> Result<Response, PageError> {
    let child = child_id(&id)?;
    let number = match query.version.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => Some(
            raw.parse::<i64>()
                .map_err(|_| page_error(AppError::NotFound))?,
        ),
    };
    let view = state
        .alliance
        .safety_plan(&actor, child, number)
        .await
        .map_err(page_error)?;
    let shown_number = view.shown.as_ref().map(|v| v.number);
    Ok(render(&PlanPage {
        layout: Layout::load(&state, "children", &auth).await?,
        id: child.to_string(),
        child_shown: view.child_shown,
        is_newest: shown_number == Some(view.newest),
        plan: view.shown.map(|v| PlanShown {
            number: v.number,
            warning_signs: v.plan.warning_signs,
            coping: v.plan.coping,
            people_and_places: v.plan.people_and_places.unwrap_or_default(),
            people_to_ask: v.plan.people_to_ask.unwrap_or_default(),
            services: services(&v.plan.services),
            safer_surroundings: v.plan.safer_surroundings.unwrap_or_default(),
            reason_for_living: v.plan.reason_for_living.unwrap_or_default(),
            written_with: v.plan.written_with,
            written_on: uk::date(v.plan.written_on),
            written_by: v.written_by_name,
            review_on: uk::date(v.plan.review_on),
        }),
        versions: view
            .versions
            .iter()
            .map(|(n, at)| VersionLink {
                number: *n,
                written: uk::date_time(*at),
                current: Some(*n) == shown_number,
            })
            .collect(),
        may_write: view.may_write,
    })?
    .into_response())
}

#[derive(Template)]
#[template(path = "safety_plan_edit.html")]
struct PlanFormPage {
    layout: Layout,
    id: String,
    child_shown: String,
    expected: i64,
    review_hint: String,
    form: FormData,
    errors: FieldErrors,
    refusal: Option<String>,
}

fn plan_input(form: &FormData) -> SafetyPlanInput {
    SafetyPlanInput {
        warning_signs: form.get("warning_signs").to_owned(),
        coping: form.get("coping").to_owned(),
        people_and_places: form.get("people_and_places").to_owned(),
        people_to_ask: form.get("people_to_ask").to_owned(),
        services: form.get("services").to_owned(),
        safer_surroundings: form.get("safer_surroundings").to_owned(),
        reason_for_living: form.get("reason_for_living").to_owned(),
        written_with: form.get("written_with").to_owned(),
        written_on: form.get("written_on").to_owned(),
        review_on: form.get("review_on").to_owned(),
    }
}

/// A new version starts from the newest (a review changes what has changed), or from the
/// national services for a first plan; the dates start empty (today, and the default review).
fn plan_form(plan: Option<&SafetyPlan>) -> FormData {
    let services = SafetyPlan::services_text(
        &plan
            .map(|p| p.services.clone())
            .unwrap_or_else(sp::default_services),
    );
    let mut fields = vec![("services".to_owned(), services)];
    if let Some(p) = plan {
        for (name, value) in [
            ("warning_signs", p.warning_signs.clone()),
            ("coping", p.coping.clone()),
            (
                "people_and_places",
                p.people_and_places.clone().unwrap_or_default(),
            ),
            ("people_to_ask", p.people_to_ask.clone().unwrap_or_default()),
            (
                "safer_surroundings",
                p.safer_surroundings.clone().unwrap_or_default(),
            ),
            (
                "reason_for_living",
                p.reason_for_living.clone().unwrap_or_default(),
            ),
            ("written_with", p.written_with.clone()),
        ] {
            fields.push((name.to_owned(), value));
        }
    }
    FormData(fields)
}

async fn load_plan_form(
    state: &AppState,
    actor: &alliance_service::Actor,
    auth: &crate::auth::Auth,
    child: ChildId,
    form: Option<FormData>,
    errors: FieldErrors,
) -> Result<PlanFormPage, PageError> {
    let view = state
        .alliance
        .safety_plan(actor, child, None)
        .await
        .map_err(page_error)?;
    if !view.may_write {
        return Err(page_error(AppError::Denied(
            "only the lead therapist, co-worker or cover write a safety plan",
        )));
    }
    let (settings, _) = state
        .alliance
        .safety_plan_settings()
        .await
        .map_err(page_error)?;
    let form = form.unwrap_or_else(|| plan_form(view.shown.as_ref().map(|v| &v.plan)));
    Ok(PlanFormPage {
        layout: Layout::load(state, "children", auth).await?,
        id: child.to_string(),
        child_shown: view.child_shown,
        expected: view.newest,
        review_hint: format!(
            "Leave empty for {} weeks after the date written ({} if written today).",
            settings.review_weeks,
            uk::date(settings.review_after(state.alliance.today()))
        ),
        form,
        errors,
        refusal: None,
    })
}

async fn plan_form_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let page = load_plan_form(
        &state,
        &actor,
        &auth,
        child_id(&id)?,
        None,
        FieldErrors::default(),
    )
    .await?;
    Ok(render(&page)?.into_response())
}

async fn save_plan(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let child = child_id(&id)?;
    let expected = form
        .get("expected")
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0);
    match state
        .alliance
        .write_safety_plan(&actor, child, &plan_input(&form), expected)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/children/{child}/safety-plan")).into_response()),
        Err(AppError::Invalid(invalid)) => {
            let page = load_plan_form(
                &state,
                &actor,
                &auth,
                child,
                Some(form),
                FieldErrors::from_invalid(&invalid),
            )
            .await?;
            unprocessable(&page)
        }
        Err(AppError::Conflict(_) | AppError::Stale(_)) => {
            let mut page = load_plan_form(
                &state,
                &actor,
                &auth,
                child,
                Some(form),
                FieldErrors::default(),
            )
            .await?;
            page.refusal = Some(STALE_MESSAGE.to_owned());
            conflicted(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}
