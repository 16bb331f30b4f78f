//! A child's emergency panel, emergency details and safety plan (issue 16, policy section 1):
//! the same use-cases, rules and audit as the pages. The panel holds only what the reader
//! may see: absent parts are `null` (an administrator's panel has no `may_collect`,
//! `may_not_collect`, `not_decided` nor `safety_plan`). Who may collect is set on each carer
//! (`may_collect` on the carer bodies of `/api/v1/children/{id}/carers` and
//! `/api/v1/carers/{id}`).

use super::directory::{not_found, version};
use crate::AppState;
use crate::auth::Signed;
use crate::extract::{ApiJson, ApiQuery};
use crate::problem::{ApiError, Problem};
use alliance_core::children::ChildId;
use alliance_core::emergency::{self as em, AllergyInput, BarredInput, EmergencyInput};
use alliance_core::safety_plans::{self as sp, SafetyPlan, SafetyPlanInput, Settings};
use alliance_service::safety_plans::PlanVersion;
use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Registers this area's routes (each with `routes!`, so each is documented).
pub(crate) fn register(router: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    router
        .routes(routes!(get_panel))
        .routes(routes!(get_details, put_details))
        .routes(routes!(get_plan, put_plan))
        .routes(routes!(get_plan_settings, put_plan_settings))
}

fn child_id(raw: &str) -> Result<ChildId, ApiError> {
    ChildId::parse(raw).map_err(|_| not_found())
}

/// A person who may or may not collect the child.
#[derive(Debug, Serialize, ToSchema)]
pub struct CollectView {
    pub name: String,
    pub relationship: String,
    /// The carer's restrictions' kinds, or where a bar comes from (never a document).
    pub why: Vec<String>,
}

/// An emergency contact (a carer). `phone` is absent when they are not to be contacted.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactView {
    pub name: String,
    pub relationship: String,
    pub phone: Option<String>,
    pub has_parental_responsibility: bool,
    pub do_not_contact: bool,
}

/// An allergy.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AllergyView {
    pub what: String,
    /// `mild`, `moderate` or `severe`.
    pub severity: String,
    /// What to do.
    pub action: String,
}

/// Someone (not a carer) who may not collect the child.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BarredView {
    pub name: String,
    #[serde(default)]
    pub relationship: Option<String>,
    /// `court-order`, `safeguarding-decision` or `carers-instruction`.
    pub source: String,
}

/// Medical needs and allergies.
#[derive(Debug, Serialize, ToSchema)]
pub struct MedicalView {
    pub medical_needs: Option<String>,
    pub allergies: Vec<AllergyView>,
    pub medication: Option<String>,
    pub gp: Option<String>,
}

/// A professional or service to call or text.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ServiceView {
    pub name: String,
    pub number: String,
    /// Reached by text message (Shout).
    #[serde(default)]
    pub text: bool,
}

/// The safety plan's summary on the panel.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanSummaryView {
    /// `YYYY-MM-DD`.
    pub review_on: String,
    pub warning_signs: String,
    pub people_to_ask: String,
    pub services: Vec<ServiceView>,
}

/// The emergency panel as the caller may see it: absent parts are `null`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PanelApiView {
    pub child_id: String,
    pub name: String,
    pub may_collect: Option<Vec<CollectView>>,
    pub may_not_collect: Option<Vec<CollectView>>,
    pub not_decided: Option<Vec<CollectView>>,
    pub contacts: Option<Vec<ContactView>>,
    pub medical: Option<MedicalView>,
    /// The newest plan's summary, for readers of the whole panel (never administrators);
    /// `null` when there is no plan or the caller's panel has no such part
    /// (`shows_safety_plan`).
    pub safety_plan: Option<PlanSummaryView>,
    /// Whether the caller's panel includes the safety plan's part.
    pub shows_safety_plan: bool,
    /// The site of the child's regular slot, whose procedures are at `/sites/{id}/emergency`.
    pub site_id: Option<String>,
    pub site_name: Option<String>,
}

fn collect_view(l: em::CollectLine) -> CollectView {
    CollectView {
        name: l.name,
        relationship: l.relationship,
        why: l.why,
    }
}

fn service_view(s: sp::Service) -> ServiceView {
    ServiceView {
        name: s.name,
        number: s.number,
        text: s.text,
    }
}

fn medical_view(d: em::EmergencyDetails) -> MedicalView {
    MedicalView {
        medical_needs: d.medical_needs,
        allergies: d
            .allergies
            .into_iter()
            .map(|a| AllergyView {
                what: a.what,
                severity: a.severity.code().to_owned(),
                action: a.action,
            })
            .collect(),
        medication: d.medication,
        gp: d.gp,
    }
}

/// The child's emergency panel (audited). The case team, cover while it lasts, the DSL and
/// the service lead see all of it; administrators contacts and medical only.
#[utoipa::path(
    get,
    path = "/api/v1/children/{id}/emergency",
    tag = "children",
    params(("id" = String, Path, description = "The child's id")),
    responses(
        (status = 200, description = "The panel, cut to what the caller may see", body = PanelApiView),
        (status = 404, description = "No such child, or the caller may not see the panel (audited)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_panel(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Json<PanelApiView>, ApiError> {
    let view = state
        .alliance
        .emergency_panel(&actor, child_id(&id)?)
        .await?;
    let p = view.panel;
    let shows_safety_plan = p.safety_plan.is_some();
    Ok(Json(PanelApiView {
        child_id: view.child.to_string(),
        name: view.name,
        may_collect: p
            .may_collect
            .map(|l| l.into_iter().map(collect_view).collect()),
        may_not_collect: p
            .may_not_collect
            .map(|l| l.into_iter().map(collect_view).collect()),
        not_decided: p
            .not_decided
            .map(|l| l.into_iter().map(collect_view).collect()),
        contacts: p.contacts.map(|l| {
            l.into_iter()
                .map(|c| ContactView {
                    name: c.name,
                    relationship: c.relationship,
                    phone: c.phone,
                    has_parental_responsibility: c.has_parental_responsibility,
                    do_not_contact: c.do_not_contact,
                })
                .collect()
        }),
        medical: p.medical.map(medical_view),
        safety_plan: p.safety_plan.flatten().map(|s| PlanSummaryView {
            review_on: s.review_on.to_string(),
            warning_signs: s.warning_signs,
            people_to_ask: s.people_to_ask,
            services: s.services.into_iter().map(service_view).collect(),
        }),
        shows_safety_plan,
        site_id: view.site.as_ref().map(|(id, _)| id.to_string()),
        site_name: view.site.map(|(_, name)| name),
    }))
}

/// A child's emergency details beyond the carers, with their version.
#[derive(Debug, Serialize, ToSchema)]
pub struct DetailsView {
    #[serde(flatten)]
    pub medical: MedicalView,
    pub barred: Vec<BarredView>,
    /// For updates; absent until first written.
    pub version: Option<i64>,
}

fn details_view(d: em::EmergencyDetails, v: Option<alliance_core::Version>) -> DetailsView {
    let barred = d
        .barred
        .iter()
        .map(|b| BarredView {
            name: b.name.clone(),
            relationship: b.relationship.clone(),
            source: b.source.code().to_owned(),
        })
        .collect();
    DetailsView {
        medical: medical_view(d),
        barred,
        version: v.map(|v| v.get()),
    }
}

/// The emergency details as written (those who may write the child's identity: the case
/// team and administrators).
#[utoipa::path(
    get,
    path = "/api/v1/children/{id}/emergency/details",
    tag = "children",
    params(("id" = String, Path, description = "The child's id")),
    responses(
        (status = 200, description = "The details", body = DetailsView),
        (status = 403, description = "The caller may read the child but not change the details", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such child, or not one the caller may know (audited)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_details(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Json<DetailsView>, ApiError> {
    let found = state
        .alliance
        .emergency_details_form(&actor, child_id(&id)?)
        .await?;
    Ok(Json(details_view(found.details, found.version)))
}

/// New emergency details. Send the version read, or none the first time.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DetailsBody {
    #[serde(default)]
    pub version: Option<i64>,
    #[serde(default)]
    pub medical_needs: Option<String>,
    #[serde(default)]
    pub allergies: Vec<AllergyView>,
    #[serde(default)]
    pub medication: Option<String>,
    #[serde(default)]
    pub gp: Option<String>,
    #[serde(default)]
    pub barred: Vec<BarredView>,
}

/// Writes the emergency details (audited).
#[utoipa::path(
    put,
    path = "/api/v1/children/{id}/emergency/details",
    tag = "children",
    params(("id" = String, Path, description = "The child's id")),
    request_body = DetailsBody,
    responses(
        (status = 200, description = "Written", body = DetailsView),
        (status = 403, description = "Not the case team or an administrator, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such child, or not one the caller may know (audited)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed by someone else since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid (each is named, e.g. `allergies[0].severity`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn put_details(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DetailsBody>,
) -> Result<Json<DetailsView>, ApiError> {
    let expected = body.version.map(version).transpose()?;
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let input = EmergencyInput {
        medical_needs: text(&body.medical_needs),
        medication: text(&body.medication),
        gp: text(&body.gp),
        allergies: body
            .allergies
            .iter()
            .map(|a| AllergyInput {
                what: a.what.clone(),
                severity: a.severity.clone(),
                action: a.action.clone(),
            })
            .collect(),
        barred: body
            .barred
            .iter()
            .map(|b| BarredInput {
                name: b.name.clone(),
                relationship: text(&b.relationship),
                source: b.source.clone(),
            })
            .collect(),
    };
    let (details, v) = state
        .alliance
        .set_emergency_details(&actor, child_id(&id)?, &input, expected)
        .await?;
    Ok(Json(details_view(details, Some(v))))
}

/// One version of a safety plan.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanView {
    pub id: String,
    /// 1 for the first, then one more for each new version.
    pub number: i64,
    pub warning_signs: String,
    pub coping: String,
    pub people_and_places: Option<String>,
    pub people_to_ask: Option<String>,
    pub services: Vec<ServiceView>,
    pub safer_surroundings: Option<String>,
    pub reason_for_living: Option<String>,
    pub written_with: String,
    /// `YYYY-MM-DD`.
    pub written_on: String,
    /// `YYYY-MM-DD`.
    pub review_on: String,
    pub written_by: String,
    /// RFC 3339, UTC.
    pub written_at: String,
}

fn plan_view(v: PlanVersion) -> PlanView {
    let p = v.plan;
    PlanView {
        id: v.id.to_string(),
        number: v.number,
        warning_signs: p.warning_signs,
        coping: p.coping,
        people_and_places: p.people_and_places,
        people_to_ask: p.people_to_ask,
        services: p.services.into_iter().map(service_view).collect(),
        safer_surroundings: p.safer_surroundings,
        reason_for_living: p.reason_for_living,
        written_with: p.written_with,
        written_on: p.written_on.to_string(),
        review_on: p.review_on.to_string(),
        written_by: v.written_by.to_string(),
        written_at: v.written_at.to_string(),
    }
}

/// A child's safety plan: the version shown and the list of versions.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanPageView {
    /// The version asked for, else the newest; absent while none is written.
    pub plan: Option<PlanView>,
    /// The newest version's number (0 while none): send it as `expected` to write.
    pub newest: i64,
    /// Every version's number, newest first.
    pub versions: Vec<i64>,
    pub may_write: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlanParams {
    /// A version's number; absent for the newest.
    pub version: Option<i64>,
}

/// A child's safety plan (audited). The lead, co-worker and cover; a supervisor of the team
/// (pseudonymised). Everyone else: 404, audited.
#[utoipa::path(
    get,
    path = "/api/v1/children/{id}/safety-plan",
    tag = "children",
    params(("id" = String, Path, description = "The child's id"), PlanParams),
    responses(
        (status = 200, description = "The plan", body = PlanPageView),
        (status = 404, description = "No such child or version, or the caller may not read the plan (audited)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_plan(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<PlanParams>,
) -> Result<Json<PlanPageView>, ApiError> {
    let view = state
        .alliance
        .safety_plan(&actor, child_id(&id)?, params.version)
        .await?;
    Ok(Json(PlanPageView {
        plan: view.shown.map(plan_view),
        newest: view.newest,
        versions: view.versions.iter().map(|(n, _)| *n).collect(),
        may_write: view.may_write,
    }))
}

/// A new version of the plan, in the young person's words.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanBody {
    /// The newest version's number read (0 for the first plan).
    pub expected: i64,
    pub warning_signs: String,
    pub coping: String,
    #[serde(default)]
    pub people_and_places: Option<String>,
    #[serde(default)]
    pub people_to_ask: Option<String>,
    /// Absent: the national services (Childline, Samaritans, Shout, NHS 111, 999).
    #[serde(default)]
    pub services: Option<Vec<ServiceView>>,
    #[serde(default)]
    pub safer_surroundings: Option<String>,
    #[serde(default)]
    pub reason_for_living: Option<String>,
    pub written_with: String,
    /// `YYYY-MM-DD`; absent: today.
    #[serde(default)]
    pub written_on: Option<String>,
    /// `YYYY-MM-DD`; absent: the service's interval (4 weeks by default) after written_on.
    #[serde(default)]
    pub review_on: Option<String>,
}

/// Writes a new version of the plan (the lead, co-worker or cover; audited) and schedules its
/// review for the lead therapist.
#[utoipa::path(
    put,
    path = "/api/v1/children/{id}/safety-plan",
    tag = "children",
    params(("id" = String, Path, description = "The child's id")),
    request_body = PlanBody,
    responses(
        (status = 201, description = "Written", body = PlanView),
        (status = 403, description = "The caller reads the plan but may not write it, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such child, or the caller may not read the plan (audited)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A newer version was written since `expected`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid (each is named)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn put_plan(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PlanBody>,
) -> Result<(axum::http::StatusCode, Json<PlanView>), ApiError> {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let services: Vec<sp::Service> = match &body.services {
        None => sp::default_services(),
        Some(list) => list
            .iter()
            .map(|s| sp::Service {
                name: s.name.clone(),
                number: s.number.clone(),
                text: s.text,
            })
            .collect(),
    };
    let input = SafetyPlanInput {
        warning_signs: body.warning_signs.clone(),
        coping: body.coping.clone(),
        people_and_places: text(&body.people_and_places),
        people_to_ask: text(&body.people_to_ask),
        services: SafetyPlan::services_text(&services),
        safer_surroundings: text(&body.safer_surroundings),
        reason_for_living: text(&body.reason_for_living),
        written_with: body.written_with.clone(),
        written_on: text(&body.written_on),
        review_on: text(&body.review_on),
    };
    let written = state
        .alliance
        .write_safety_plan(
            &actor,
            child_id(&id)?,
            &input,
            Some(body.expected).filter(|n| *n > 0),
        )
        .await?;
    Ok((axum::http::StatusCode::CREATED, Json(plan_view(written))))
}

/// The service's safety-plan settings.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanSettingsView {
    /// Weeks from writing a plan to its review, when none is chosen (1 to 26; 4 by default).
    pub review_weeks: u8,
    /// For updates; absent while the default stands.
    #[serde(default)]
    pub version: Option<i64>,
}

/// The service's safety-plan settings (everyone signed in may read them).
#[utoipa::path(
    get,
    path = "/api/v1/safety-plans/settings",
    tag = "children",
    responses((status = 200, description = "The settings", body = PlanSettingsView)),
    security(("bearer" = []))
)]
pub async fn get_plan_settings(
    State(state): State<AppState>,
    Signed(_actor): Signed,
) -> Result<Json<PlanSettingsView>, ApiError> {
    let (s, v) = state.alliance.safety_plan_settings().await?;
    Ok(Json(PlanSettingsView {
        review_weeks: s.review_weeks,
        version: v.map(|v| v.get()),
    }))
}

/// Changes the review interval (the service lead and administrators). Send the version read,
/// or none while the default stands.
#[utoipa::path(
    put,
    path = "/api/v1/safety-plans/settings",
    tag = "children",
    request_body = PlanSettingsView,
    responses(
        (status = 200, description = "Changed", body = PlanSettingsView),
        (status = 403, description = "Not the service lead or an administrator, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed by someone else since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Out of bounds (`review_weeks`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn put_plan_settings(
    State(state): State<AppState>,
    Signed(actor): Signed,
    ApiJson(body): ApiJson<PlanSettingsView>,
) -> Result<Json<PlanSettingsView>, ApiError> {
    let expected = body.version.map(version).transpose()?;
    state
        .alliance
        .set_safety_plan_settings(
            &actor,
            Settings {
                review_weeks: body.review_weeks,
            },
            expected,
        )
        .await?;
    let (s, v) = state.alliance.safety_plan_settings().await?;
    Ok(Json(PlanSettingsView {
        review_weeks: s.review_weeks,
        version: v.map(|v| v.get()),
    }))
}
