//! A case's contact log (policy sections 1 and 2): contact with each carer and with the
//! professional network, and when the next carers' review meeting is due. Who may read and
//! log, and which carers need an explicit override, are the service's decisions; this module
//! turns them into JSON.

use super::agreements::CreatedView;
use super::directory::not_found;
use crate::AppState;
use crate::auth::Signed;
use crate::extract::ApiJson;
use crate::problem::{ApiError, Problem};
use alliance_core::cases::CaseId;
use alliance_core::contact_logs::{ContactInput, ContactWith};
use alliance_service::contact_logs::{CarerOption, CaseContacts, ContactView};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

fn case_id(raw: &str) -> Result<CaseId, ApiError> {
    CaseId::parse(raw).map_err(|_| not_found())
}

/// One contact.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactEntryView {
    pub id: String,
    /// `carer` or `professional`.
    pub with: String,
    /// The carer's id, for a contact with a carer.
    pub carer: Option<String>,
    /// The carer's name and relationship (their relationship only, for a pseudonymised
    /// reader).
    pub carer_label: Option<String>,
    /// For a professional: `senco`, `teacher`, `social-worker`, `gp`, `camhs`, `other`.
    pub role: Option<String>,
    pub role_label: Option<String>,
    /// The professional's name.
    pub name: Option<String>,
    pub organisation: Option<String>,
    /// For a professional: `consent`, `safeguarding`, `legal-duty`, `public-task`,
    /// `nothing-shared`.
    pub basis: Option<String>,
    pub basis_label: Option<String>,
    /// `meeting`, `phone-call`, `video-call`, `message`, `email`, `letter`.
    pub kind: String,
    pub kind_label: String,
    /// `YYYY-MM-DD`.
    pub on: String,
    /// What was shared.
    pub shared: String,
    /// What was agreed.
    pub agreed: Option<String>,
    /// Why a carer the rules would not contact was contacted (an explicit override).
    pub override_reason: Option<String>,
    pub recorded_by: String,
    /// RFC 3339, UTC.
    pub recorded_at: String,
}

fn entry_view(c: &ContactView) -> ContactEntryView {
    let mut view = ContactEntryView {
        id: c.stored.id.to_string(),
        with: "carer".to_owned(),
        carer: c.stored.carer_id.map(|id| id.to_string()),
        carer_label: c.carer.clone(),
        role: None,
        role_label: None,
        name: None,
        organisation: None,
        basis: None,
        basis_label: None,
        kind: c.contact.kind.code().to_owned(),
        kind_label: c.contact.kind.label().to_owned(),
        on: c.contact.on.to_string(),
        shared: c.contact.shared.clone(),
        agreed: c.contact.agreed.clone(),
        override_reason: c.contact.override_reason.clone(),
        recorded_by: c.recorded_by.clone(),
        recorded_at: c.stored.recorded_at.to_string(),
    };
    if let ContactWith::Professional {
        role,
        name,
        organisation,
        basis,
    } = &c.contact.with
    {
        view.with = "professional".to_owned();
        view.role = Some(role.code().to_owned());
        view.role_label = Some(role.label().to_owned());
        view.name = Some(name.clone());
        view.organisation = organisation.clone();
        view.basis = Some(basis.code().to_owned());
        view.basis_label = Some(basis.label().to_owned());
    }
    view
}

/// A carer the log's form offers.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactCarerView {
    pub id: String,
    pub label: String,
    /// Why contact with this carer may be logged only with an explicit override and its
    /// reason (a restriction, "not to be contacted", the young person's wishes); absent when
    /// none is needed.
    pub needs_override: Option<String>,
}

fn carer_view(c: &CarerOption) -> ContactCarerView {
    ContactCarerView {
        id: c.id.to_string(),
        label: c.label.clone(),
        needs_override: c.needs_override.clone(),
    }
}

/// A case's contact log.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseContactsView {
    pub case_id: String,
    pub case_number: String,
    /// The child's name, or their initials and case number for a pseudonymised reader.
    pub child_label: String,
    /// Newest first.
    pub contacts: Vec<ContactEntryView>,
    /// The child's current carers.
    pub carers: Vec<ContactCarerView>,
    /// `YYYY-MM-DD`: when the next review meeting with the carers is due.
    pub next_review: String,
    /// Whether the caller may log a contact.
    pub may_write: bool,
}

fn contacts_view(c: CaseContacts) -> CaseContactsView {
    CaseContactsView {
        case_id: c.case_id.to_string(),
        case_number: c.case_number,
        child_label: c.child_label,
        contacts: c.contacts.iter().map(entry_view).collect(),
        carers: c.carers.iter().map(carer_view).collect(),
        next_review: c.next_review.to_string(),
        may_write: c.may_write,
    }
}

/// A case's contact log: contacts with carers and professionals, newest first, the carers
/// (with any override they need) and when the next carers' review meeting is due. Anyone the
/// access policy does not let read it gets 404 (audited).
#[utoipa::path(
    get,
    path = "/api/v1/cases/{id}/contacts",
    tag = "contacts",
    params(("id" = String, Path, description = "The case's id")),
    responses(
        (status = 200, description = "The contact log", body = CaseContactsView),
        (status = 404, description = "No such case, or none the caller may see", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn case_contacts(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Json<CaseContactsView>, ApiError> {
    let log = state.alliance.case_contacts(&actor, case_id(&id)?).await?;
    Ok(Json(contacts_view(log)))
}

/// A contact as typed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactBody {
    /// `carer` or `professional`.
    pub with: String,
    /// With a carer: the carer's id.
    #[serde(default)]
    pub carer: Option<String>,
    /// With a professional: `senco`, `teacher`, `social-worker`, `gp`, `camhs`, `other`.
    #[serde(default)]
    pub role: Option<String>,
    /// With a professional: their name.
    #[serde(default)]
    pub name: Option<String>,
    /// With a professional: their organisation.
    #[serde(default)]
    pub organisation: Option<String>,
    /// With a professional: `consent`, `safeguarding`, `legal-duty`, `public-task`,
    /// `nothing-shared`.
    #[serde(default)]
    pub basis: Option<String>,
    /// `meeting`, `phone-call`, `video-call`, `message`, `email`, `letter`.
    pub kind: String,
    /// `YYYY-MM-DD` or `DD/MM/YYYY`; not in the future.
    pub on: String,
    /// What was shared (or "nothing").
    pub shared: String,
    /// What was agreed.
    #[serde(default)]
    pub agreed: Option<String>,
    /// Only for a carer the rules would not contact (see `needs_override`): why they were
    /// contacted. Refused when no override is needed.
    #[serde(default)]
    pub override_reason: Option<String>,
}

impl From<ContactBody> for ContactInput {
    fn from(b: ContactBody) -> Self {
        Self {
            with: b.with,
            carer: b.carer.unwrap_or_default(),
            role: b.role.unwrap_or_default(),
            name: b.name.unwrap_or_default(),
            organisation: b.organisation.unwrap_or_default(),
            basis: b.basis.unwrap_or_default(),
            kind: b.kind,
            on: b.on,
            shared: b.shared,
            agreed: b.agreed.unwrap_or_default(),
            override_reason: b.override_reason.unwrap_or_default(),
        }
    }
}

/// Logs a contact with a carer or a professional. A carer the rules would not contact is
/// logged only with `override_reason` (audited as an override).
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/contacts",
    tag = "contacts",
    params(("id" = String, Path, description = "The case's id")),
    request_body = ContactBody,
    responses(
        (status = 201, description = "Logged", body = CreatedView),
        (status = 403, description = "Not one who logs this case's contacts, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such case, or none the caller may see", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid, or an override is missing or not needed (each is named)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn log_contact(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ContactBody>,
) -> Result<(StatusCode, Json<CreatedView>), ApiError> {
    let logged = state
        .alliance
        .log_contact(&actor, case_id(&id)?, &body.into())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedView {
            id: logged.to_string(),
        }),
    ))
}
