//! A site's emergency procedures and daily cover (issue 16): the page everyone who works here
//! reads (administrators edit it in place, at the version read), and the printable emergency
//! sheet for the wall and for when the network is down (no child, no clinical content;
//! audited as printed). Who may do what is decided by the use-cases; this module shows what
//! they answer.

use super::{FieldErrors, FormData, Layout, STALE_MESSAGE, conflicted, render, unprocessable};
use crate::AppState;
use crate::auth::{Auth, CurrentAuth, Signed};
use crate::errors::page_error;
use crate::respond::PageError;
use alliance_core::Version;
use alliance_core::directory::SiteId;
use alliance_core::site_emergency::{DAYS, Procedure, SitePlan, day_code, day_label, parse_plan};
use alliance_core::uk;
use alliance_service::{Actor, AppError};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};

pub fn router() -> Router<AppState> {
    // One method a line, so the route table the headers test reads finds each.
    Router::new()
        .route("/sites/{id}/emergency", get(plan_page))
        .route("/sites/{id}/emergency", post(save_plan))
        .route("/sites/{id}/emergency-sheet", get(sheet_page))
}

fn site_id(raw: &str) -> Result<SiteId, PageError> {
    SiteId::parse(raw).map_err(|_| page_error(AppError::NotFound))
}

/// One day's cover as shown.
struct Day {
    code: &'static str,
    label: String,
    dsl: String,
    first_aider: String,
}

fn duty(name: &str, contact: &str) -> String {
    match (name.is_empty(), contact.is_empty()) {
        (true, _) => "Nobody named".to_owned(),
        (false, true) => name.to_owned(),
        (false, false) => format!("{name}, {contact}"),
    }
}

/// The form's fields from a plan.
fn form_of(plan: &SitePlan) -> FormData {
    let mut fields = Vec::new();
    for p in Procedure::ALL {
        fields.push((
            format!("procedure.{}", p.code()),
            plan.procedure(p).to_owned(),
        ));
    }
    for d in DAYS {
        let c = plan.day(d);
        let code = day_code(d);
        fields.push((format!("{code}.dsl_name"), c.dsl.name));
        fields.push((format!("{code}.dsl_contact"), c.dsl.contact));
        fields.push((format!("{code}.first_aider_name"), c.first_aider.name));
        fields.push((format!("{code}.first_aider_contact"), c.first_aider.contact));
    }
    FormData(fields)
}

#[derive(Template)]
#[template(path = "site_emergency.html")]
struct PlanPage {
    layout: Layout,
    site_id: String,
    site_name: String,
    procedures: Vec<(&'static str, &'static str, String)>,
    days: Vec<Day>,
    may_edit: bool,
    version: String,
    form: FormData,
    errors: FieldErrors,
    refusal: Option<String>,
}

impl PlanPage {
    fn field(&self, code: &str, what: &str) -> String {
        format!("{code}.{what}")
    }
}

async fn load_plan_page(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    id: SiteId,
) -> Result<PlanPage, PageError> {
    let shown = state
        .alliance
        .site_emergency(actor, id)
        .await
        .map_err(page_error)?;
    Ok(PlanPage {
        layout: Layout::load(state, "sites", auth).await?,
        site_id: id.to_string(),
        site_name: shown.site.details.name.clone(),
        procedures: Procedure::ALL
            .into_iter()
            .map(|p| (p.code(), p.label(), shown.plan.procedure(p).to_owned()))
            .collect(),
        days: DAYS
            .into_iter()
            .map(|d| {
                let c = shown.plan.day(d);
                Day {
                    code: day_code(d),
                    label: day_label(d).to_owned(),
                    dsl: duty(&c.dsl.name, &c.dsl.contact),
                    first_aider: duty(&c.first_aider.name, &c.first_aider.contact),
                }
            })
            .collect(),
        may_edit: shown.may_edit,
        version: shown
            .version
            .map(|v| v.get().to_string())
            .unwrap_or_default(),
        form: form_of(&shown.plan),
        errors: FieldErrors::default(),
        refusal: None,
    })
}

async fn plan_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let page = load_plan_page(&state, &actor, &auth, site_id(&id)?).await?;
    Ok(render(&page)?.into_response())
}

async fn save_plan(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = site_id(&id)?;
    let expected = match form.get("version").trim() {
        "" => None,
        raw => Some(
            raw.parse::<i64>()
                .ok()
                .and_then(|v| Version::new(v).ok())
                .ok_or_else(|| page_error(AppError::NotFound))?,
        ),
    };
    let parsed = parse_plan(|f| form.get(f).to_owned());
    let result = match parsed {
        Ok(plan) => {
            state
                .alliance
                .set_site_emergency(&actor, id, &plan, expected)
                .await
        }
        Err(invalid) => Err(AppError::Invalid(invalid)),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/sites/{id}/emergency#saved")).into_response()),
        Err(AppError::Invalid(invalid)) => {
            let mut page = load_plan_page(&state, &actor, &auth, id).await?;
            page.form = form;
            page.errors = FieldErrors::from_invalid(&invalid);
            unprocessable(&page)
        }
        Err(AppError::Stale(_)) => {
            let mut page = load_plan_page(&state, &actor, &auth, id).await?;
            page.form = form;
            page.refusal = Some(STALE_MESSAGE.to_owned());
            conflicted(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}

#[derive(Template)]
#[template(path = "site_emergency_sheet.html")]
struct SheetPage {
    layout: Layout,
    site_id: String,
    site_name: String,
    address: String,
    phone: String,
    out_of_hours: String,
    procedures: Vec<(&'static str, String)>,
    days: Vec<(String, String, String)>,
    contacts: Vec<(String, String)>,
    printed_on: String,
}

async fn sheet_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = site_id(&id)?;
    let sheet = state
        .alliance
        .emergency_sheet(&actor, id)
        .await
        .map_err(page_error)?;
    Ok(render(&SheetPage {
        layout: Layout::load(&state, "sites", &auth).await?,
        site_id: id.to_string(),
        site_name: sheet.site.details.name.clone(),
        address: sheet.site.details.address.clone().unwrap_or_default(),
        phone: sheet.site.details.phone.clone().unwrap_or_default(),
        out_of_hours: sheet.site.details.out_of_hours.clone().unwrap_or_default(),
        procedures: Procedure::ALL
            .into_iter()
            .map(|p| (p.label(), sheet.plan.procedure(p).to_owned()))
            .collect(),
        days: sheet
            .week
            .iter()
            .map(|(date, c)| {
                (
                    format!("{} {}", day_label(date.weekday()), uk::date(*date)),
                    duty(&c.dsl.name, &c.dsl.contact),
                    duty(&c.first_aider.name, &c.first_aider.contact),
                )
            })
            .collect(),
        contacts: alliance_service::site_emergency::contact_lines(&sheet.contacts, id),
        printed_on: uk::date(sheet.printed_on),
    })?
    .into_response())
}
