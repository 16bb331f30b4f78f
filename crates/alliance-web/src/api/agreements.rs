//! A case's therapy agreement (its versions), consent and assent, single-use consent links
//! and the first-session checklist (policy section 3). The rules and who may do what are the
//! service's; this module turns them into JSON. A consent link's token is shown once, in the
//! answer that makes it, and never again.

use super::directory::not_found;
use crate::AppState;
use crate::auth::Signed;
use crate::extract::{ApiJson, ApiQuery};
use crate::pages::feeds::feed_links;
use crate::problem::{ApiError, Problem};
use alliance_core::agreements::{AgreementContent, AgreementInput};
use alliance_core::cases::CaseId;
use alliance_core::checklist::ChecklistInput;
use alliance_core::children::CarerId;
use alliance_core::consent::{Basis, Status};
use alliance_service::agreements::{
    AgreementCopy, AgreementDocument, AgreementView, CaseAgreement, CaseChecklist,
    ChecklistItemView, ConsentInput, ConsentRecordView,
};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

fn case_id(raw: &str) -> Result<CaseId, ApiError> {
    CaseId::parse(raw).map_err(|_| not_found())
}

fn uuid(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw.trim()).map_err(|_| not_found())
}

fn unprocessable(field: &str, message: impl Into<String>) -> ApiError {
    Problem::for_status(StatusCode::UNPROCESSABLE_ENTITY)
        .field(field, message.into())
        .into()
}

fn status_code(status: Status) -> &'static str {
    match status {
        Status::Ready => "ready",
        Status::Incomplete => "incomplete",
        Status::Paused => "paused",
        Status::Stopped => "stopped",
    }
}

fn basis_code(basis: Basis) -> &'static str {
    match basis {
        Basis::ParentalResponsibility => "parental-responsibility",
        Basis::CompetentChild => "competent-child",
        Basis::PresumedCapable => "presumed-capable",
    }
}

// ----- the agreement ---------------------------------------------------------------------

/// The consent rules of the service's nation, as they apply to this case.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentRulesView {
    /// `england-wales`, `scotland`, `northern-ireland`.
    pub code: String,
    pub name: String,
    /// From this age capacity is presumed and the young person consents for themselves.
    pub presumed_capable_from: i16,
    /// What the judgement of a younger child's competence is called here.
    pub competence_test: String,
    pub competence_question: String,
    /// A judgement, a discussion of dissent or a lead's decision needs reasoning this long.
    pub reasoning_min_chars: usize,
}

/// One ground rule as agreed.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroundRuleView {
    /// `not-hurting-yourself`, `not-hurting-the-therapist`, `not-damaging-the-room`; absent
    /// for a rule the child and therapist added.
    pub core: Option<String>,
    /// In the child's words.
    pub text: String,
}

/// What a version of the agreement says.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgreementContentView {
    pub rules: Vec<GroundRuleView>,
    /// What confidentiality means for this child.
    pub confidentiality: String,
    /// The regular time and place when the version was written.
    pub time_and_place: String,
}

fn content_view(c: &AgreementContent) -> AgreementContentView {
    AgreementContentView {
        rules: c
            .rules
            .iter()
            .map(|r| GroundRuleView {
                core: r.core.clone(),
                text: r.text.clone(),
            })
            .collect(),
        confidentiality: c.confidentiality.clone(),
        time_and_place: c.time_and_place.clone(),
    }
}

/// One version of the agreement.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgreementVersionView {
    pub id: String,
    /// From 1, per case.
    pub number: i64,
    /// `draft`, `active` or `superseded`.
    pub status: String,
    pub content: AgreementContentView,
    /// The regular time or place has changed since this version was written: agree it again.
    pub slot_changed: bool,
    pub created_by: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub activated_by: Option<String>,
    pub activated_at: Option<String>,
    pub superseded_at: Option<String>,
}

fn version_view(v: &AgreementView) -> AgreementVersionView {
    AgreementVersionView {
        id: v.stored.id.to_string(),
        number: v.stored.number,
        status: v.stored.status.code().to_owned(),
        content: content_view(&v.content),
        slot_changed: v.slot_changed,
        created_by: v.created_by.clone(),
        created_at: v.stored.created_at.to_string(),
        activated_by: v.activated_by.clone(),
        activated_at: v.stored.activated_at.map(|t| t.to_string()),
        superseded_at: v.stored.superseded_at.map(|t| t.to_string()),
    }
}

/// A consent, assent, objection, decision or withdrawal.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentEntryView {
    pub id: String,
    /// `assent`, `dissent`, `dissent-discussed`, `judged-competent`, `judged-not-competent`,
    /// `own-consent`, `own-refusal`, `parental-consent`, `parental-objection`,
    /// `lead-proceeds`, `lead-does-not-proceed`, `court-order`, `withdrawal`.
    pub kind: String,
    pub label: String,
    /// The carer's id, for a parental consent or objection.
    pub carer: Option<String>,
    /// The carer's name and relationship.
    pub carer_label: Option<String>,
    /// The version of the agreement an assent or dissent is about.
    pub agreement: Option<String>,
    /// `in-person` or `link`.
    pub via: String,
    /// `YYYY-MM-DD`: when it was given.
    pub given_on: String,
    /// The child's or young person's own words, or a carer's comment.
    pub words: Option<String>,
    /// The therapist's or service lead's reasoning.
    pub reasoning: Option<String>,
    /// With a young person's own consent: what their carers may be told (`attendance`,
    /// `paperwork`, `progress`).
    pub carers_may_be_told: Vec<String>,
    /// A carer's name as they typed it on a consent link.
    pub signed_name: Option<String>,
    /// A court order's or a scanned form's reference.
    pub reference: Option<String>,
    /// The member of staff who recorded it; absent when given through a link.
    pub recorded_by: Option<String>,
    /// RFC 3339, UTC.
    pub recorded_at: String,
}

fn entry_view(e: &ConsentRecordView) -> ConsentEntryView {
    ConsentEntryView {
        id: e.entry.id.to_string(),
        kind: e.entry.kind.code().to_owned(),
        label: e.entry.kind.label().to_owned(),
        carer: e.entry.carer_id.map(|c| c.to_string()),
        carer_label: e.carer.clone(),
        agreement: e.entry.agreement_id.map(|a| a.to_string()),
        via: e.entry.via.code().to_owned(),
        given_on: e.entry.given_on.to_string(),
        words: e.detail.words.clone(),
        reasoning: e.detail.reasoning.clone(),
        carers_may_be_told: e
            .detail
            .carers_may_be_told
            .iter()
            .map(|t| t.code().to_owned())
            .collect(),
        signed_name: e.detail.signed_name.clone(),
        reference: e.detail.reference.clone(),
        recorded_by: e.recorded_by.clone(),
        recorded_at: e.entry.recorded_at.to_string(),
    }
}

/// A consent link as listed (never its address: only its hash is kept).
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentLinkView {
    pub id: String,
    pub carer: String,
    pub carer_label: String,
    /// `Waiting`, `Used`, `Expired` or `Withdrawn`.
    pub state: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub expires_at: String,
    pub spent_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// A carer, and whether a consent link may go to them.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentCarerView {
    pub id: String,
    /// Their name and relationship.
    pub label: String,
    pub parental_responsibility: bool,
    /// Why a consent link may not go to them (for the member of staff), or absent.
    pub link_refused: Option<String>,
}

/// A case's agreement, consent and consent links.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseAgreementView {
    pub case_id: String,
    pub child_id: String,
    pub case_number: String,
    /// The child's name, or their initials and case number for a pseudonymised reader.
    pub child_label: String,
    pub age_years: i16,
    pub case_open: bool,
    pub rules: ConsentRulesView,
    /// Where the case stands: `ready`, `incomplete`, `paused` or `stopped`.
    pub status: String,
    pub status_label: String,
    /// Who consents: `parental-responsibility`, `competent-child` or `presumed-capable`.
    pub basis: String,
    pub basis_label: String,
    /// What is still needed before the agreement may be active, in plain words.
    pub missing: Vec<String>,
    /// Why the start is paused or the work stopped.
    pub reason: Option<String>,
    /// Things to know that block nothing.
    pub notes: Vec<String>,
    /// When the young person consents for themselves: what their carers may be told.
    pub carers_may_be_told: Option<Vec<String>>,
    /// The version the status is about: the newest draft, else the active one.
    pub assessed: Option<String>,
    /// The active version's id, if one is active.
    pub active: Option<String>,
    /// The regular time and place as things stand (empty without a regular slot).
    pub time_and_place: String,
    /// Newest first.
    pub versions: Vec<AgreementVersionView>,
    /// In the order they were recorded.
    pub entries: Vec<ConsentEntryView>,
    pub links: Vec<ConsentLinkView>,
    pub carers: Vec<ConsentCarerView>,
    /// The caller may write versions, record consent and make links.
    pub may_write: bool,
    /// The caller (the service lead) may decide after an objection.
    pub may_decide: bool,
    pub may_read_checklist: bool,
}

fn agreement_view(a: CaseAgreement) -> CaseAgreementView {
    let assessment = &a.assessment;
    CaseAgreementView {
        case_id: a.case_id.to_string(),
        child_id: a.child_id.to_string(),
        case_number: a.case_number.clone(),
        child_label: a.child_label.clone(),
        age_years: a.age_years,
        case_open: a.case_open,
        rules: ConsentRulesView {
            code: a.rules.code.clone(),
            name: a.rules.name.clone(),
            presumed_capable_from: a.rules.presumed_capable_from,
            competence_test: a.rules.competence_test.clone(),
            competence_question: a.rules.competence_question.clone(),
            reasoning_min_chars: a.rules.reasoning_min_chars,
        },
        status: status_code(assessment.status).to_owned(),
        status_label: assessment.status.label().to_owned(),
        basis: basis_code(assessment.basis).to_owned(),
        basis_label: assessment.basis.label().to_owned(),
        missing: assessment.missing.clone(),
        reason: assessment.reason.clone(),
        notes: assessment.notes.clone(),
        carers_may_be_told: assessment
            .carers_may_be_told
            .as_ref()
            .map(|topics| topics.iter().map(|t| t.code().to_owned()).collect()),
        assessed: a.assessed.map(|v| v.to_string()),
        active: a.active().map(|v| v.stored.id.to_string()),
        time_and_place: a.time_and_place.clone(),
        versions: a.versions.iter().map(version_view).collect(),
        entries: a.entries.iter().map(entry_view).collect(),
        links: a
            .links
            .iter()
            .map(|l| ConsentLinkView {
                id: l.link.id.to_string(),
                carer: l.link.carer_id.to_string(),
                carer_label: l.carer.clone(),
                state: l.state.to_owned(),
                created_at: l.link.created_at.to_string(),
                expires_at: l.link.expires_at.to_string(),
                spent_at: l.link.spent_at.map(|t| t.to_string()),
                revoked_at: l.link.revoked_at.map(|t| t.to_string()),
            })
            .collect(),
        carers: a
            .carers
            .iter()
            .map(|c| ConsentCarerView {
                id: c.id.to_string(),
                label: c.label.clone(),
                parental_responsibility: c.parental_responsibility,
                link_refused: c.link_refused.clone(),
            })
            .collect(),
        may_write: a.may_write,
        may_decide: a.may_decide,
        may_read_checklist: a.may_read_checklist,
    }
}

/// A case's therapy agreement, consent and assent, and consent links: where it stands under
/// the consent rules and what is missing. Read by the case team (the parent-worker too), the
/// lead's supervisor (pseudonymised) and the service lead; anyone else gets 404.
#[utoipa::path(
    get,
    path = "/api/v1/cases/{id}/agreement",
    tag = "agreements",
    params(("id" = String, Path, description = "The case's id")),
    responses(
        (status = 200, description = "The agreement and consent", body = CaseAgreementView),
        (status = 404, description = "No such case, or none the caller may see", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_agreement(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Json<CaseAgreementView>, ApiError> {
    let agreement = state.alliance.case_agreement(&actor, case_id(&id)?).await?;
    Ok(Json(agreement_view(agreement)))
}

/// A version of the agreement as typed: the three core rules in the child's words, any
/// added rules one per line, and what confidentiality means for this child. The regular time
/// and place come from the case's slot.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgreementBody {
    #[serde(default)]
    pub not_hurting_yourself: String,
    #[serde(default)]
    pub not_hurting_the_therapist: String,
    #[serde(default)]
    pub not_damaging_the_room: String,
    /// One rule per line (at most 12).
    #[serde(default)]
    pub added_rules: String,
    #[serde(default)]
    pub confidentiality: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DraftedView {
    pub id: String,
    pub number: i64,
    /// Always `draft`.
    pub status: String,
}

/// Writes a new draft version of the agreement. Any active version stays active until this
/// one is activated.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/agreement/versions",
    tag = "agreements",
    params(("id" = String, Path, description = "The case's id")),
    request_body = AgreementBody,
    responses(
        (status = 201, description = "Drafted", body = DraftedView),
        (status = 403, description = "Not one of the case team's therapists, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such case, or none the caller may see", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A rule or the confidentiality text is missing or too long", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn draft_version(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AgreementBody>,
) -> Result<(StatusCode, Json<DraftedView>), ApiError> {
    let input = AgreementInput {
        not_hurting_yourself: body.not_hurting_yourself,
        not_hurting_the_therapist: body.not_hurting_the_therapist,
        not_damaging_the_room: body.not_damaging_the_room,
        added_rules: body.added_rules,
        confidentiality: body.confidentiality,
    };
    let drafted = state
        .alliance
        .draft_agreement(&actor, case_id(&id)?, &input)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(DraftedView {
            id: drafted.id.to_string(),
            number: drafted.number,
            status: drafted.status.code().to_owned(),
        }),
    ))
}

/// Marks a draft active, when the consent rules allow; the version active until now is
/// superseded (and kept). Refused with 422 naming `agreement` and saying what is missing, or
/// why the start is paused or the work stopped.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/agreement/versions/{agreement}/activate",
    tag = "agreements",
    params(
        ("id" = String, Path, description = "The case's id"),
        ("agreement" = String, Path, description = "The version's id"),
    ),
    responses(
        (status = 204, description = "Active"),
        (status = 403, description = "Not one of the case team's therapists, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such case or version", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another version was activated at the same moment", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a draft, or the consent rules do not allow it yet (what is missing is named)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn activate_version(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path((id, agreement)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let case = case_id(&id)?;
    state
        .alliance
        .activate_agreement(&actor, case, uuid(&agreement)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Consent, assent, an objection, a decision or a withdrawal, as recorded by staff.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentBody {
    /// `assent`, `dissent`, `dissent-discussed`, `judged-competent`, `judged-not-competent`,
    /// `own-consent`, `own-refusal`, `parental-consent`, `parental-objection`,
    /// `lead-proceeds` and `lead-does-not-proceed` (the service lead only), `court-order`,
    /// `withdrawal`.
    pub kind: String,
    /// The carer's id, for a parental consent or objection (they must hold parental
    /// responsibility).
    #[serde(default)]
    pub carer: Option<String>,
    /// `YYYY-MM-DD` or `DD/MM/YYYY`; today when absent.
    #[serde(default)]
    pub given_on: Option<String>,
    /// The child's own words, or a carer's.
    #[serde(default)]
    pub words: Option<String>,
    /// Needed for a judgement of competence, a discussed dissent and a lead's decision.
    #[serde(default)]
    pub reasoning: Option<String>,
    /// With a young person's own consent: what their carers may be told (`attendance`,
    /// `paperwork`, `progress`). Nothing, by default.
    #[serde(default)]
    pub carers_may_be_told: Option<Vec<String>>,
    /// A court order's or a scanned form's reference.
    #[serde(default)]
    pub reference: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedView {
    pub id: String,
}

/// Records consent, assent, an objection, the service lead's decision after an objection, a
/// court order or a withdrawal (which ends the work and keeps the record). An objection from
/// a holder of parental responsibility pauses the start and raises a task for the service
/// lead.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/agreement/consent",
    tag = "agreements",
    params(("id" = String, Path, description = "The case's id")),
    request_body = ConsentBody,
    responses(
        (status = 201, description = "Recorded", body = CreatedView),
        (status = 403, description = "Not one of the case team's therapists (or, for a decision, not the service lead), or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such case, or none the caller may see", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not valid under the consent rules (the field is named: `carer` for someone without parental responsibility)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn record_consent(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ConsentBody>,
) -> Result<(StatusCode, Json<CreatedView>), ApiError> {
    let input = ConsentInput {
        kind: body.kind,
        carer: body.carer.unwrap_or_default(),
        given_on: body.given_on.unwrap_or_default(),
        words: body.words.unwrap_or_default(),
        reasoning: body.reasoning.unwrap_or_default(),
        carers_may_be_told: body.carers_may_be_told.unwrap_or_default(),
        reference: body.reference.unwrap_or_default(),
    };
    let recorded = state
        .alliance
        .record_consent(&actor, case_id(&id)?, &input)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedView {
            id: recorded.to_string(),
        }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkBody {
    /// The carer's id: someone with parental responsibility who may receive it.
    pub carer: String,
    /// Days until it expires: 1 to 28, default 14.
    #[serde(default)]
    pub days: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedLinkView {
    pub id: String,
    /// The link's address, to send to the carer. Shown this once: only its hash is kept.
    /// Opening it spends nothing; the carer's answer spends it.
    pub url: String,
    /// RFC 3339, UTC.
    pub expires_at: String,
}

/// Makes a single-use consent link for a carer with parental responsibility. Refused with 422
/// naming `carer`, and the reason, when they may not receive it (a restriction, not to be
/// contacted, no parental responsibility).
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/agreement/links",
    tag = "agreements",
    params(("id" = String, Path, description = "The case's id")),
    request_body = LinkBody,
    responses(
        (status = 201, description = "Made; the address is in `url`", body = IssuedLinkView),
        (status = 403, description = "Not one of the case team's therapists, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such case, or none the caller may see", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "This carer may not receive it, or `days` is out of range", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create_link(
    State(state): State<AppState>,
    Signed(actor): Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<LinkBody>,
) -> Result<(StatusCode, Json<IssuedLinkView>), ApiError> {
    let case = case_id(&id)?;
    let carer =
        CarerId::parse(body.carer.trim()).map_err(|_| unprocessable("carer", "Choose a carer"))?;
    let (link, token) = state
        .alliance
        .create_consent_link(&actor, case, carer, body.days)
        .await?;
    let url = feed_links(&state, &headers, &format!("/consent/{token}")).url;
    Ok((
        StatusCode::CREATED,
        Json(IssuedLinkView {
            id: link.id.to_string(),
            url,
            expires_at: link.expires_at.to_string(),
        }),
    ))
}

/// Withdraws a consent link before it is used: its address answers 404 from now on.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/agreement/links/{link}/revoke",
    tag = "agreements",
    params(
        ("id" = String, Path, description = "The case's id"),
        ("link" = String, Path, description = "The link's id"),
    ),
    responses(
        (status = 204, description = "Withdrawn"),
        (status = 403, description = "Not one of the case team's therapists, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such case or link", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Already used or withdrawn", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn revoke_link(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path((id, link)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let case = case_id(&id)?;
    state
        .alliance
        .revoke_consent_link(&actor, case, uuid(&link)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DocumentParams {
    /// `child` (the default) or `carer:{id}`. A carer's copy only of the active version, and
    /// only to a carer who may receive it.
    #[serde(default, rename = "for")]
    pub copy_for: Option<String>,
}

fn copy_for(raw: Option<&str>) -> Result<AgreementCopy, ApiError> {
    match raw.map(str::trim) {
        None | Some("" | "child") => Ok(AgreementCopy::Child),
        Some(other) => other
            .strip_prefix("carer:")
            .and_then(|id| CarerId::parse(id.trim()).ok())
            .map(AgreementCopy::Carer)
            .ok_or_else(|| unprocessable("for", "Choose child or carer:{id}")),
    }
}

/// A printable agreement: what the PDF and the printed page hold.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgreementDocumentView {
    pub service_name: String,
    pub title: String,
    /// Who the copy is for (the child's name as this reader may know it).
    pub for_name: String,
    pub status_line: String,
    pub rules: Vec<String>,
    pub time_and_place: String,
    pub confidentiality: String,
    pub footer: String,
}

impl From<AgreementDocument> for AgreementDocumentView {
    fn from(d: AgreementDocument) -> Self {
        Self {
            service_name: d.service_name,
            title: d.title,
            for_name: d.for_name,
            status_line: d.status_line,
            rules: d.rules,
            time_and_place: d.time_and_place,
            confidentiality: d.confidentiality,
            footer: d.footer,
        }
    }
}

/// One version of the agreement as it prints, for the child or for a carer (audited). A
/// carer's copy is refused (422 naming `copy_for`) before the version is active or when the
/// carer may not receive it.
#[utoipa::path(
    get,
    path = "/api/v1/cases/{id}/agreement/versions/{agreement}/document",
    tag = "agreements",
    params(
        ("id" = String, Path, description = "The case's id"),
        ("agreement" = String, Path, description = "The version's id"),
        DocumentParams,
    ),
    responses(
        (status = 200, description = "The agreement to print", body = AgreementDocumentView),
        (status = 403, description = "May not see the child's name", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such case, version or carer", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "This copy may not be made", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn agreement_document(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path((id, agreement)): Path<(String, String)>,
    ApiQuery(params): ApiQuery<DocumentParams>,
) -> Result<Json<AgreementDocumentView>, ApiError> {
    let case = case_id(&id)?;
    let agreement = uuid(&agreement)?;
    let copy = copy_for(params.copy_for.as_deref())?;
    let document = state
        .alliance
        .agreement_document(&actor, case, agreement, copy)
        .await?;
    Ok(Json(document.into()))
}

// ----- the first-session checklist -------------------------------------------------------

/// One item of the checklist: a topic explained.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChecklistItemApiView {
    pub id: String,
    /// The case it was recorded in (the child's earlier cases' items are listed too).
    pub case_id: String,
    /// The library topic's code.
    pub topic: String,
    pub topic_title: String,
    /// `YYYY-MM-DD`.
    pub explained_on: String,
    /// `spoken`, `handout`, `drawing`, `story`.
    pub methods: Vec<String>,
    /// `child`, `parent` or `both`.
    pub to_whom: String,
    /// The library version used, if any.
    pub library_version: Option<String>,
    /// The age band the child was in then.
    pub band: String,
    /// What the child said back, in their own words.
    pub child_said: Option<String>,
    /// Anything to revisit.
    pub revisit: Option<String>,
    pub recorded_by: String,
    /// RFC 3339, UTC.
    pub recorded_at: String,
}

fn item_view(i: &ChecklistItemView) -> ChecklistItemApiView {
    ChecklistItemApiView {
        id: i.stored.id.to_string(),
        case_id: i.stored.case_id.to_string(),
        topic: i.stored.topic.clone(),
        topic_title: i.topic_title.clone(),
        explained_on: i.stored.explained_on.to_string(),
        methods: i.stored.methods.clone(),
        to_whom: i.stored.to_whom.clone(),
        library_version: i.stored.library_version.map(|v| v.to_string()),
        band: i.stored.band.clone(),
        child_said: i.child_said.clone(),
        revisit: i.revisit.clone(),
        recorded_by: i.recorded_by.clone(),
        recorded_at: i.stored.recorded_at.to_string(),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TopicView {
    pub code: String,
    pub title: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LibraryVersionChoice {
    pub id: String,
    pub label: String,
}

/// A case's first-session checklist.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseChecklistView {
    pub case_id: String,
    pub child_id: String,
    pub case_number: String,
    /// The child's name, or their initials and case number for a pseudonymised reader.
    pub child_label: String,
    /// The age band the child is in today (its code).
    pub band: String,
    pub band_label: String,
    /// Every item of the child's, newest explanation first.
    pub items: Vec<ChecklistItemApiView>,
    /// The library's topics, in the order they are explained.
    pub topics: Vec<TopicView>,
    /// Published library versions a therapist may name.
    pub library_versions: Vec<LibraryVersionChoice>,
    pub may_write: bool,
}

fn checklist_view(c: CaseChecklist) -> CaseChecklistView {
    CaseChecklistView {
        case_id: c.case_id.to_string(),
        child_id: c.child_id.to_string(),
        case_number: c.case_number,
        child_label: c.child_label,
        band: c.band.0,
        band_label: c.band.1,
        items: c.items.iter().map(item_view).collect(),
        topics: c
            .topics
            .into_iter()
            .map(|(code, title)| TopicView { code, title })
            .collect(),
        library_versions: c
            .versions
            .into_iter()
            .map(|(id, label)| LibraryVersionChoice {
                id: id.to_string(),
                label,
            })
            .collect(),
        may_write: c.may_write,
    }
}

/// A case's first-session checklist: which topics were explained, when, how, to whom, and
/// what the child said back. The case team's therapists and the lead's supervisor
/// (pseudonymised); not the parent-worker; anyone else gets 404.
#[utoipa::path(
    get,
    path = "/api/v1/cases/{id}/checklist",
    tag = "agreements",
    params(("id" = String, Path, description = "The case's id")),
    responses(
        (status = 200, description = "The checklist", body = CaseChecklistView),
        (status = 404, description = "No such case, or none the caller may see", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_checklist(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Json<CaseChecklistView>, ApiError> {
    let checklist = state.alliance.case_checklist(&actor, case_id(&id)?).await?;
    Ok(Json(checklist_view(checklist)))
}

/// An item of the checklist as typed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistBody {
    /// A library topic's code, e.g. `limits-of-confidentiality`.
    pub topic: String,
    /// `YYYY-MM-DD` or `DD/MM/YYYY`; not in the future.
    pub explained_on: String,
    /// `spoken`, `handout`, `drawing`, `story`: at least one.
    pub methods: Vec<String>,
    /// `child`, `parent` or `both`.
    pub to_whom: String,
    /// The library version used, if any (its id).
    #[serde(default)]
    pub library_version: Option<String>,
    /// What the child said back, in their own words.
    #[serde(default)]
    pub child_said: Option<String>,
    /// Anything to revisit.
    #[serde(default)]
    pub revisit: Option<String>,
}

/// Records that a topic was explained.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/checklist",
    tag = "agreements",
    params(("id" = String, Path, description = "The case's id")),
    request_body = ChecklistBody,
    responses(
        (status = 201, description = "Recorded", body = CreatedView),
        (status = 403, description = "Not one of the case team's therapists, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such case, or none the caller may see", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid (each is named)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn record_checklist_item(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ChecklistBody>,
) -> Result<(StatusCode, Json<CreatedView>), ApiError> {
    let input = ChecklistInput {
        topic: body.topic,
        explained_on: body.explained_on,
        methods: body.methods,
        to_whom: body.to_whom,
        library_version: body.library_version.unwrap_or_default(),
        child_said: body.child_said.unwrap_or_default(),
        revisit: body.revisit.unwrap_or_default(),
    };
    let recorded = state
        .alliance
        .record_checklist_item(&actor, case_id(&id)?, &input)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedView {
            id: recorded.to_string(),
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_is_for_the_child_or_a_named_carer() {
        assert!(matches!(copy_for(None), Ok(AgreementCopy::Child)));
        assert!(matches!(copy_for(Some("child")), Ok(AgreementCopy::Child)));
        let id = Uuid::from_u128(7);
        assert!(matches!(
            copy_for(Some(&format!("carer:{id}"))),
            Ok(AgreementCopy::Carer(c)) if c.0 == id
        ));
        for bad in ["carer:", "carer:nope", "mother", &id.to_string()] {
            let status = copy_for(Some(bad)).err().map(|e| e.0.status);
            assert_eq!(status, Some(422), "{bad}");
        }
    }

    #[test]
    fn the_documents_copy_is_asked_for_as_for() {
        let doc = super::super::openapi();
        let operation = doc
            .paths
            .paths
            .get("/api/v1/cases/{id}/agreement/versions/{agreement}/document")
            .and_then(|item| item.get.as_ref());
        let names: Vec<&str> = operation
            .and_then(|o| o.parameters.as_ref())
            .map(|p| {
                p.iter()
                    .filter_map(|p| match p {
                        utoipa::openapi::RefOr::T(p) => Some(p.name.as_str()),
                        utoipa::openapi::RefOr::Ref(_) => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(names, ["id", "agreement", "for"]);
    }

    #[test]
    fn statuses_and_bases_have_the_cores_codes() {
        for status in [
            Status::Ready,
            Status::Incomplete,
            Status::Paused,
            Status::Stopped,
        ] {
            assert_eq!(
                serde_json::to_value(status).ok(),
                Some(serde_json::Value::from(status_code(status)))
            );
        }
        for basis in [
            Basis::ParentalResponsibility,
            Basis::CompetentChild,
            Basis::PresumedCapable,
        ] {
            assert_eq!(
                serde_json::to_value(basis).ok(),
                Some(serde_json::Value::from(basis_code(basis)))
            );
        }
    }
}
