//! A site's emergency procedures and daily cover (issue 16): reading them (everyone who works
//! here), saving them (administrators, at the version read), and the printable sheet's
//! content (this week's cover, the out-of-hours contacts; no child, no clinical content;
//! audited as printed). The same use-cases, rules and audit as the pages.

use super::directory::{not_found, version};
use crate::AppState;
use crate::auth::Signed;
use crate::extract::ApiJson;
use crate::problem::{ApiError, Problem};
use alliance_core::directory::SiteId;
use alliance_core::site_emergency::{DAYS, DayCover, Procedure, SitePlan, day_code, parse_plan};
use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Registers this area's routes (each with `routes!`, so each is documented).
pub(crate) fn register(router: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    router
        .routes(routes!(get_emergency, put_emergency))
        .routes(routes!(emergency_sheet))
}

fn site_id(raw: &str) -> Result<SiteId, ApiError> {
    SiteId::parse(raw).map_err(|_| not_found())
}

/// A procedure.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcedureView {
    /// `fire`, `medical`, `leaving`, `aggression` or `disclosure`.
    pub code: String,
    #[serde(default)]
    pub label: String,
    /// What to do; empty on a save means the shipped default.
    pub text: String,
}

/// Someone on duty.
#[derive(Debug, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct OnDutyView {
    #[serde(default)]
    pub name: String,
    /// How to reach them (required when named).
    #[serde(default)]
    pub contact: String,
}

/// One weekday's cover.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DayCoverView {
    /// `monday` to `sunday`.
    pub day: String,
    #[serde(default)]
    pub dsl: OnDutyView,
    #[serde(default)]
    pub first_aider: OnDutyView,
    /// On the sheet: the date of that day this week.
    #[serde(default)]
    pub date: Option<String>,
}

fn cover_view(day: &str, c: &DayCover, date: Option<String>) -> DayCoverView {
    DayCoverView {
        day: day.to_owned(),
        dsl: OnDutyView {
            name: c.dsl.name.clone(),
            contact: c.dsl.contact.clone(),
        },
        first_aider: OnDutyView {
            name: c.first_aider.name.clone(),
            contact: c.first_aider.contact.clone(),
        },
        date,
    }
}

fn procedures(plan: &SitePlan) -> Vec<ProcedureView> {
    Procedure::ALL
        .into_iter()
        .map(|p| ProcedureView {
            code: p.code().to_owned(),
            label: p.label().to_owned(),
            text: plan.procedure(p).to_owned(),
        })
        .collect()
}

/// A site's plan.
#[derive(Debug, Serialize, ToSchema)]
pub struct SiteEmergencyView {
    pub site_id: String,
    pub site_name: String,
    pub procedures: Vec<ProcedureView>,
    /// Monday to Sunday.
    pub days: Vec<DayCoverView>,
    /// None while the shipped defaults stand (save without a version then).
    pub version: Option<i64>,
    pub may_edit: bool,
}

/// A site's emergency procedures and who is its DSL and first aider each weekday.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{id}/emergency",
    tag = "site-emergency",
    params(("id" = String, Path, description = "The site's id")),
    responses(
        (status = 200, description = "The site's plan", body = SiteEmergencyView),
        (status = 404, description = "No such site", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_emergency(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Json<SiteEmergencyView>, ApiError> {
    let shown = state.alliance.site_emergency(&actor, site_id(&id)?).await?;
    Ok(Json(SiteEmergencyView {
        site_id: shown.site.id.to_string(),
        site_name: shown.site.details.name.clone(),
        procedures: procedures(&shown.plan),
        days: DAYS
            .iter()
            .map(|d| cover_view(day_code(*d), &shown.plan.day(*d), None))
            .collect(),
        version: shown.version.map(|v| v.get()),
        may_edit: shown.may_edit,
    }))
}

/// A plan to save.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteEmergencyBody {
    /// The version read; left out while the shipped defaults stand.
    #[serde(default)]
    pub version: Option<i64>,
    /// Any procedure left out keeps the shipped default.
    #[serde(default)]
    pub procedures: Vec<ProcedureView>,
    /// Any day left out has nobody named.
    #[serde(default)]
    pub days: Vec<DayCoverView>,
}

/// Saves a site's plan (administrators).
#[utoipa::path(
    put,
    path = "/api/v1/sites/{id}/emergency",
    tag = "site-emergency",
    params(("id" = String, Path, description = "The site's id")),
    request_body = SiteEmergencyBody,
    responses(
        (status = 200, description = "Saved", body = SiteEmergencyView),
        (status = 403, description = "Not an administrator, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such site", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid (`procedure.fire`, `monday.dsl_contact`, ...)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn put_emergency(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SiteEmergencyBody>,
) -> Result<Json<SiteEmergencyView>, ApiError> {
    let site = site_id(&id)?;
    let mut fields: HashMap<String, String> = HashMap::new();
    for p in &body.procedures {
        fields.insert(format!("procedure.{}", p.code), p.text.clone());
    }
    for d in &body.days {
        fields.insert(format!("{}.dsl_name", d.day), d.dsl.name.clone());
        fields.insert(format!("{}.dsl_contact", d.day), d.dsl.contact.clone());
        fields.insert(
            format!("{}.first_aider_name", d.day),
            d.first_aider.name.clone(),
        );
        fields.insert(
            format!("{}.first_aider_contact", d.day),
            d.first_aider.contact.clone(),
        );
    }
    let plan = parse_plan(|f| fields.get(f).cloned().unwrap_or_default())?;
    let expected = body.version.map(version).transpose()?;
    state
        .alliance
        .set_site_emergency(&actor, site, &plan, expected)
        .await?;
    get_emergency(State(state), Signed(actor), Path(id)).await
}

/// A contact on the sheet.
#[derive(Debug, Serialize, ToSchema)]
pub struct SheetContact {
    pub label: String,
    pub detail: String,
}

/// The printable sheet's content: no child, no clinical content.
#[derive(Debug, Serialize, ToSchema)]
pub struct EmergencySheetView {
    pub site_name: String,
    pub address: String,
    pub phone: String,
    pub procedures: Vec<ProcedureView>,
    /// This week, Monday to Sunday.
    pub week: Vec<DayCoverView>,
    /// The site's out-of-hours contacts, as its record says.
    pub out_of_hours: String,
    /// The service's safeguarding contacts.
    pub contacts: Vec<SheetContact>,
    pub printed_on: String,
}

/// The printable emergency sheet's content (everyone who works here; audited as printed).
#[utoipa::path(
    get,
    path = "/api/v1/sites/{id}/emergency-sheet",
    tag = "site-emergency",
    params(("id" = String, Path, description = "The site's id")),
    responses(
        (status = 200, description = "The sheet", body = EmergencySheetView),
        (status = 404, description = "No such site", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn emergency_sheet(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Json<EmergencySheetView>, ApiError> {
    let sheet = state
        .alliance
        .emergency_sheet(&actor, site_id(&id)?)
        .await?;
    Ok(Json(EmergencySheetView {
        site_name: sheet.site.details.name.clone(),
        address: sheet.site.details.address.clone().unwrap_or_default(),
        phone: sheet.site.details.phone.clone().unwrap_or_default(),
        procedures: procedures(&sheet.plan),
        week: sheet
            .week
            .iter()
            .map(|(date, c)| cover_view(day_code(date.weekday()), c, Some(date.to_string())))
            .collect(),
        out_of_hours: sheet.site.details.out_of_hours.clone().unwrap_or_default(),
        contacts: alliance_service::site_emergency::contact_lines(&sheet.contacts, sheet.site.id)
            .into_iter()
            .map(|(label, detail)| SheetContact { label, detail })
            .collect(),
        printed_on: sheet.printed_on.to_string(),
    }))
}
