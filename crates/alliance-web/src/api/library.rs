//! The explanation library: every topic for every audience with the text in use, its review
//! state and readability; versions, review and publication; the live measure; and the
//! service's readability targets.

use crate::AppState;
use crate::auth::Signed;
use crate::extract::ApiJson;
use crate::problem::{ApiError, Problem};
use alliance_core::explanations::{Assessment, ContentCheck};
use alliance_service::ExplanationVersion;
use alliance_service::explanations::{
    LibraryText, ReadabilityConfig, Review, VersionInput, VersionView,
};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;
use uuid::Uuid;

/// A text's readability against its band's target.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadabilityView {
    /// False for texts the formulas do not apply to (another language, easy-read): no
    /// figures.
    pub measured: bool,
    pub words: Option<u32>,
    pub sentences: Option<u32>,
    pub flesch_reading_ease: Option<f64>,
    pub flesch_kincaid_grade: Option<f64>,
    /// The UK reading age: the grade plus the service's offset.
    pub reading_age: Option<f64>,
    /// The target reading age for the audience.
    pub target: f64,
    pub above_target: bool,
    /// Under 100 words: the formulas are unreliable.
    pub too_short_to_measure: bool,
    /// Up to three, longest first: `[sentence, words]`.
    pub longest_sentences: Vec<(String, u32)>,
    /// Up to five, hardest first: `[word, syllables]`.
    pub hardest_words: Vec<(String, u32)>,
}

pub(crate) fn readability_view(a: &Assessment) -> ReadabilityView {
    let r = a.readability.as_ref();
    ReadabilityView {
        measured: !a.not_measured,
        words: r.map(|r| r.words),
        sentences: r.map(|r| r.sentences),
        flesch_reading_ease: r.map(|r| r.flesch_reading_ease),
        flesch_kincaid_grade: r.map(|r| r.flesch_kincaid_grade),
        reading_age: r.map(|r| r.reading_age),
        target: a.target,
        above_target: a.above_target,
        too_short_to_measure: a.too_short_to_measure,
        longest_sentences: r.map(|r| r.longest_sentences.clone()).unwrap_or_default(),
        hardest_words: r.map(|r| r.hardest_words.clone()).unwrap_or_default(),
    }
}

/// What a text says against its topic's checks.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckView {
    /// Ideas the text must convey but does not (a warning).
    pub missing_ideas: Vec<String>,
    /// Statements no text of the topic may make; a version with any cannot be published.
    pub forbidden: Vec<String>,
}

fn check_view(c: &ContentCheck) -> CheckView {
    CheckView {
        missing_ideas: c.missing_ideas.clone(),
        forbidden: c.forbidden.clone(),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewView {
    /// `draft` or `reviewed`.
    pub state: String,
    /// "Draft until reviewed by a named clinician" or "Reviewed by …".
    pub label: String,
    pub reviewed_by: Option<String>,
    /// RFC 3339, UTC.
    pub reviewed_at: Option<String>,
}

fn review_view(r: &Review) -> ReviewView {
    ReviewView {
        state: if r.reviewed { "reviewed" } else { "draft" }.to_owned(),
        label: r.label(),
        reviewed_by: r.reviewed_by.clone(),
        reviewed_at: r.reviewed_at.map(|t| t.to_string()),
    }
}

/// One version as stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionItem {
    pub id: String,
    pub number: i64,
    pub language: String,
    pub measured: bool,
    pub title: String,
    pub body: String,
    pub pictures: Vec<String>,
    /// The version id it was copied from, or `default`.
    pub based_on: String,
    pub review: ReviewView,
    pub published: bool,
    pub published_at: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub check: CheckView,
}

fn version_item(v: &VersionView) -> VersionItem {
    let s = &v.version;
    VersionItem {
        id: s.id.to_string(),
        number: s.number,
        language: s.language.clone(),
        measured: s.measured,
        title: s.title.clone(),
        body: s.body.clone(),
        pictures: s.pictures.clone(),
        based_on: s.based_on.clone(),
        review: review_view(&v.review),
        published: s.is_published(),
        published_at: s.published_at.map(|t| t.to_string()),
        created_by: v.created_by.clone(),
        created_at: s.created_at.to_string(),
        check: check_view(&v.check),
    }
}

/// The text in use for one topic and audience.
#[derive(Debug, Serialize, ToSchema)]
pub struct TextView {
    pub topic: String,
    pub topic_title: String,
    /// `3-7`, `8-11`, `12-15`, `16-25` or `parents`.
    pub audience: String,
    pub audience_label: String,
    pub title: String,
    pub body: String,
    pub pictures: Vec<String>,
    pub language: String,
    /// The stored version in use; absent for the Alliance default.
    pub version: Option<String>,
    pub is_default: bool,
    pub review: ReviewView,
    pub readability: ReadabilityView,
    pub check: CheckView,
}

fn text_view(t: &LibraryText) -> TextView {
    TextView {
        topic: t.topic.code.clone(),
        topic_title: t.topic.title.clone(),
        audience: t.audience.code().to_owned(),
        audience_label: t.audience.label().to_owned(),
        title: t.title.clone(),
        body: t.body.clone(),
        pictures: t.pictures.clone(),
        language: t.language.clone(),
        version: t.version.as_ref().map(|v| v.id.to_string()),
        is_default: t.is_default(),
        review: review_view(&t.review),
        readability: readability_view(&t.assessment),
        check: check_view(&t.check),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LibraryList {
    /// Every topic for every audience, in the order topics are explained.
    pub items: Vec<TextView>,
    pub next: Option<String>,
}

/// The library: every topic for every audience (anyone signed in).
#[utoipa::path(
    get,
    path = "/api/v1/library",
    tag = "library",
    responses(
        (status = 200, description = "The texts in use", body = LibraryList),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list_library(
    State(state): State<AppState>,
    Signed(actor): Signed,
) -> Result<Json<LibraryList>, ApiError> {
    let library = state.alliance.explanation_library(&actor).await?;
    Ok(Json(LibraryList {
        items: library
            .iter()
            .flat_map(|(_, texts)| texts.iter().map(text_view))
            .collect(),
        next: None,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TextDetail {
    pub text: TextView,
    /// Every version, newest first (in every language).
    pub versions: Vec<VersionItem>,
}

/// One topic for one audience: the text in use and every version.
#[utoipa::path(
    get,
    path = "/api/v1/library/{topic}/{audience}",
    tag = "library",
    params(
        ("topic" = String, Path, description = "The topic's code, like `limits-of-confidentiality`"),
        ("audience" = String, Path, description = "`3-7`, `8-11`, `12-15`, `16-25` or `parents`"),
    ),
    responses(
        (status = 200, description = "The text and its versions", body = TextDetail),
        (status = 404, description = "No such topic or audience", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_text(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path((topic, audience)): Path<(String, String)>,
) -> Result<Json<TextDetail>, ApiError> {
    let detail = state
        .alliance
        .explanation_detail(&actor, &topic, &audience)
        .await?;
    Ok(Json(TextDetail {
        text: text_view(&detail.text),
        versions: detail.versions.iter().map(version_item).collect(),
    }))
}

/// A new version: the words, the pictures described, the language, and whether the
/// readability formulas apply.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionBody {
    pub title: String,
    pub body: String,
    #[serde(default)]
    pub pictures: Vec<String>,
    /// `en-GB` when absent.
    #[serde(default)]
    pub language: Option<String>,
    /// False for another language or easy-read ("readability not measured"); true when
    /// absent.
    #[serde(default)]
    pub measured: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VersionCreated {
    pub id: String,
    pub number: i64,
    /// Always `draft`.
    pub review_state: String,
    /// The content check: a version that fails it is saved as a draft all the same.
    pub check: CheckView,
}

fn created(v: &ExplanationVersion, check: &ContentCheck) -> VersionCreated {
    VersionCreated {
        id: v.id.to_string(),
        number: v.number,
        review_state: if v.is_reviewed() { "reviewed" } else { "draft" }.to_owned(),
        check: check_view(check),
    }
}

/// Saves a new version as a draft (clinicians: therapists, supervisors, the service lead).
#[utoipa::path(
    post,
    path = "/api/v1/library/{topic}/{audience}/versions",
    tag = "library",
    params(
        ("topic" = String, Path, description = "The topic's code"),
        ("audience" = String, Path, description = "The audience's code"),
    ),
    request_body = VersionBody,
    responses(
        (status = 201, description = "Saved as a draft, with its content check", body = VersionCreated),
        (status = 403, description = "Not a clinician, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such topic or audience", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create_version(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path((topic, audience)): Path<(String, String)>,
    ApiJson(body): ApiJson<VersionBody>,
) -> Result<(StatusCode, Json<VersionCreated>), ApiError> {
    let input = VersionInput {
        title: body.title,
        body: body.body,
        pictures: body.pictures,
        language: body.language.unwrap_or_default(),
        measured: body.measured.unwrap_or(true),
    };
    let (version, check) = state
        .alliance
        .create_explanation_version(&actor, &topic, &audience, &input)
        .await?;
    Ok((StatusCode::CREATED, Json(created(&version, &check))))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    /// The version to mark reviewed; absent to review the Alliance default (which writes a
    /// reviewed copy of it).
    #[serde(default)]
    pub version: Option<String>,
}

fn version_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| {
        Problem::for_status(StatusCode::UNPROCESSABLE_ENTITY)
            .field("version", "Not a version id")
            .into()
    })
}

/// Marks a text reviewed by the caller, a named clinician.
#[utoipa::path(
    post,
    path = "/api/v1/library/{topic}/{audience}/review",
    tag = "library",
    params(
        ("topic" = String, Path, description = "The topic's code"),
        ("audience" = String, Path, description = "The audience's code"),
    ),
    request_body = ReviewBody,
    responses(
        (status = 200, description = "Reviewed", body = VersionCreated),
        (status = 403, description = "Not a clinician, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such topic, audience or version", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already reviewed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn review_text(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path((topic, audience)): Path<(String, String)>,
    ApiJson(body): ApiJson<ReviewBody>,
) -> Result<Json<VersionCreated>, ApiError> {
    let version = body.version.as_deref().map(version_id).transpose()?;
    let reviewed = state
        .alliance
        .review_explanation(&actor, &topic, &audience, version)
        .await?;
    let check = alliance_core::explanations::ContentCheck::default();
    Ok(Json(created(&reviewed, &check)))
}

/// Publishes a version: it becomes the text in use (administrators and the service lead).
/// Refused with 422, naming them, when it makes a statement the topic forbids.
#[utoipa::path(
    post,
    path = "/api/v1/library/{topic}/{audience}/versions/{id}/publish",
    tag = "library",
    params(
        ("topic" = String, Path, description = "The topic's code"),
        ("audience" = String, Path, description = "The audience's code"),
        ("id" = String, Path, description = "The version's id"),
    ),
    responses(
        (status = 200, description = "Published", body = VersionCreated),
        (status = 403, description = "Not an administrator or the service lead", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such version", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The version makes a forbidden statement", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn publish_version(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path((topic, audience, id)): Path<(String, String, String)>,
) -> Result<Json<VersionCreated>, ApiError> {
    let id =
        Uuid::parse_str(&id).map_err(|_| ApiError::from(alliance_service::AppError::NotFound))?;
    let published = state
        .alliance
        .publish_explanation(&actor, &topic, &audience, id)
        .await?;
    let check = alliance_core::explanations::ContentCheck::default();
    Ok(Json(created(&published, &check)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeasureBody {
    pub body: String,
    /// The audience whose target applies.
    pub audience: String,
    /// False: not measured (another language, easy-read). True when absent.
    #[serde(default)]
    pub measured: Option<bool>,
}

/// Measures a text against an audience's target; nothing is stored (the live editor).
#[utoipa::path(
    post,
    path = "/api/v1/library/measure",
    tag = "library",
    request_body = MeasureBody,
    responses(
        (status = 200, description = "The figures", body = ReadabilityView),
        (status = 422, description = "No such audience, or the text is too long", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn measure(
    State(state): State<AppState>,
    Signed(actor): Signed,
    ApiJson(body): ApiJson<MeasureBody>,
) -> Result<Json<ReadabilityView>, ApiError> {
    let assessment = state
        .alliance
        .measure_explanation(
            &actor,
            &body.body,
            &body.audience,
            body.measured.unwrap_or(true),
        )
        .await?;
    Ok(Json(readability_view(&assessment)))
}

/// The readability targets per audience and the reading-age offset.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReadabilityConfigView {
    /// UK reading age = Flesch–Kincaid grade + this (0 to 10; 5 by default).
    pub reading_age_offset: f64,
    /// The target reading age per audience code (3 to 25); a missing one keeps its default.
    pub targets: BTreeMap<String, f64>,
    /// The ages `[from, to]` each children's and young people's audience covers (`3-7`,
    /// `8-11`, `12-15`, `16-25`), contiguous; a missing one keeps its default.
    #[serde(default)]
    pub bands: BTreeMap<String, [u8; 2]>,
    /// The setting's version, for updates; absent while the defaults stand.
    #[serde(default)]
    pub version: Option<i64>,
}

/// The readability targets (anyone signed in may read them).
#[utoipa::path(
    get,
    path = "/api/v1/service/readability",
    tag = "service",
    responses((status = 200, description = "The targets", body = ReadabilityConfigView)),
    security(("bearer" = []))
)]
pub async fn get_readability(
    State(state): State<AppState>,
    Signed(_actor): Signed,
) -> Result<Json<ReadabilityConfigView>, ApiError> {
    let (config, version) = state.alliance.readability_config().await?;
    Ok(Json(ReadabilityConfigView {
        reading_age_offset: config.reading_age_offset,
        targets: config.targets,
        bands: config.bands,
        version: version.map(|v| v.get()),
    }))
}

/// Changes the targets (administrators). Send the version you read, or none while the
/// defaults stand; a stale one is refused with 409.
#[utoipa::path(
    put,
    path = "/api/v1/service/readability",
    tag = "service",
    request_body = ReadabilityConfigView,
    responses(
        (status = 200, description = "Changed", body = ReadabilityConfigView),
        (status = 403, description = "Not an administrator, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed by someone else since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A number is out of bounds", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn update_readability(
    State(state): State<AppState>,
    Signed(actor): Signed,
    ApiJson(body): ApiJson<ReadabilityConfigView>,
) -> Result<Json<ReadabilityConfigView>, ApiError> {
    let expected = body.version.map(super::directory::version).transpose()?;
    let input = ReadabilityConfig {
        reading_age_offset: body.reading_age_offset,
        targets: body.targets,
        bands: body.bands,
    };
    state
        .alliance
        .set_readability_config(&actor, &input, expected)
        .await?;
    let (config, version) = state.alliance.readability_config().await?;
    Ok(Json(ReadabilityConfigView {
        reading_age_offset: config.reading_age_offset,
        targets: config.targets,
        bands: config.bands,
        version: version.map(|v| v.get()),
    }))
}

/// A chosen set of handouts for one child as a PDF: the child's own copy, or a carer's (only
/// to a carer who may receive it; the preferred name only where they may know it). Query:
/// `topics` (repeated), `audience` (`3-7`, `8-11`, `12-15`, `16-25`, `parents`), `copy_for`
/// (`child` or a carer's id). Audited.
#[utoipa::path(
    get,
    path = "/api/v1/children/{id}/handouts/pdf",
    tag = "library",
    params(
        ("id" = String, Path, description = "The child's id"),
        ("topics" = Vec<String>, Query, description = "Topic codes, repeated"),
        ("audience" = String, Query, description = "The band the texts are written for"),
        ("copy_for" = Option<String>, Query, description = "`child` (the default) or a carer's id"),
    ),
    responses(
        (status = 200, description = "The PDF", content_type = "application/pdf"),
        (status = 403, description = "May not see the child's name", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such child or carer", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No topic chosen, an unknown audience, or a carer who may not receive handouts", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn child_handouts_pdf(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> Result<axum::response::Response, ApiError> {
    let child = alliance_core::children::ChildId::parse(&id)
        .map_err(|_| ApiError::from(Problem::for_status(StatusCode::NOT_FOUND)))?;
    let query = crate::pages::handouts::parse_query(raw.as_deref());
    let audience = alliance_core::explanations::Audience::parse(&query.audience).map_err(|m| {
        ApiError::from(Problem::for_status(StatusCode::UNPROCESSABLE_ENTITY).field("audience", m))
    })?;
    let copy = crate::pages::handouts::copy_for(&query.copy_for)?;
    let set = state
        .alliance
        .child_handouts(&actor, child, &query.topics, audience, copy)
        .await?;
    Ok(crate::pdf::handouts_response(&set).await?)
}
