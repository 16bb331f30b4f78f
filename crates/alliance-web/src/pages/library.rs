//! The explanation library: every topic for every audience with its reading age against the
//! band's target and its review state; a text with its figures, its content check and every
//! version; the editor, with live readability (htmx) that also works without JavaScript (the
//! "Measure" button).

use super::{FieldErrors, FormData, Layout, render, unprocessable};
use crate::AppState;
use crate::auth::{CurrentAuth, Signed};
use crate::errors::page_error;
use crate::respond::PageError;
use alliance_core::explanations::{Assessment, ContentCheck};
use alliance_core::policy::{self, Action};
use alliance_core::uk;
use alliance_service::explanations::{LibraryText, VersionInput};
use alliance_service::{Actor, AppError};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/library", get(library_page))
        .route("/library/measure", post(measure_fragment))
        .route("/library/{topic}/{audience}", get(text_page))
        .route(
            "/library/{topic}/{audience}/edit",
            get(edit_page).post(save_or_measure),
        )
        .route("/library/{topic}/{audience}/review", post(review))
        .route("/library/{topic}/{audience}/publish", post(publish))
}

fn one_decimal(x: f64) -> String {
    format!("{x:.1}")
}

/// A text's figures as the pages show them.
pub struct Figures {
    pub not_measured: bool,
    pub no_words: bool,
    pub reading_age: String,
    pub target: String,
    pub above_target: bool,
    pub too_short: bool,
    pub ease: String,
    pub grade: String,
    pub words: u32,
    pub sentences: u32,
    pub longest: Vec<(String, u32)>,
    pub hardest: Vec<(String, u32)>,
}

fn figures(a: &Assessment) -> Figures {
    let r = a.readability.as_ref();
    Figures {
        not_measured: a.not_measured,
        no_words: !a.not_measured && r.is_none(),
        reading_age: r.map(|r| one_decimal(r.reading_age)).unwrap_or_default(),
        target: one_decimal(a.target),
        above_target: a.above_target,
        too_short: a.too_short_to_measure && r.is_some(),
        ease: r
            .map(|r| one_decimal(r.flesch_reading_ease))
            .unwrap_or_default(),
        grade: r
            .map(|r| one_decimal(r.flesch_kincaid_grade))
            .unwrap_or_default(),
        words: r.map_or(0, |r| r.words),
        sentences: r.map_or(0, |r| r.sentences),
        longest: r.map(|r| r.longest_sentences.clone()).unwrap_or_default(),
        hardest: r.map(|r| r.hardest_words.clone()).unwrap_or_default(),
    }
}

fn may(actor: &Actor, action: Action) -> bool {
    policy::decide(&actor.user, action).is_allowed()
}

struct LibraryLine {
    audience: String,
    audience_code: String,
    title: String,
    figures: Figures,
    review: String,
    reviewed: bool,
    from_default: bool,
}

struct TopicBlock {
    code: String,
    title: String,
    summary: String,
    lines: Vec<LibraryLine>,
}

#[derive(Template)]
#[template(path = "library.html")]
struct LibraryPage {
    layout: Layout,
    topics: Vec<TopicBlock>,
}

async fn library_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
) -> Result<Response, PageError> {
    let library = state
        .alliance
        .explanation_library(&actor)
        .await
        .map_err(page_error)?;
    let topics = library
        .into_iter()
        .map(|(topic, texts)| TopicBlock {
            code: topic.code.clone(),
            title: topic.title.clone(),
            summary: topic.summary.clone(),
            lines: texts
                .iter()
                .map(|t| LibraryLine {
                    audience: t.audience.label().to_owned(),
                    audience_code: t.audience.code().to_owned(),
                    title: t.title.clone(),
                    figures: figures(&t.assessment),
                    review: t.review.label(),
                    reviewed: t.review.reviewed,
                    from_default: t.is_default(),
                })
                .collect(),
        })
        .collect();
    Ok(render(&LibraryPage {
        layout: Layout::load(&state, "library", &auth).await?,
        topics,
    })?
    .into_response())
}

struct VersionLine {
    id: String,
    number: i64,
    language: String,
    title: String,
    created: String,
    review: String,
    reviewed: bool,
    published: Option<String>,
    in_use: bool,
    check: ContentCheck,
}

#[derive(Template)]
#[template(path = "library_text.html")]
struct TextPage {
    layout: Layout,
    topic: String,
    topic_title: String,
    audience: String,
    audience_label: String,
    title: String,
    paragraphs: Vec<String>,
    pictures: Vec<String>,
    language: String,
    from_default: bool,
    review: String,
    reviewed: bool,
    /// The stored version in use (none: the default), for "Mark reviewed".
    in_use: Option<String>,
    figures: Figures,
    check: ContentCheck,
    versions: Vec<VersionLine>,
    may_edit: bool,
    may_publish: bool,
    /// The version just saved, with its check, to show at the top.
    saved: Option<(i64, ContentCheck)>,
    notice: Option<String>,
    errors: FieldErrors,
}

fn paragraphs(body: &str) -> Vec<String> {
    body.replace("\r\n", "\n")
        .split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect()
}

#[derive(Debug, Default, Deserialize)]
struct TextQuery {
    saved: Option<String>,
    done: Option<String>,
}

async fn text_view(
    state: &AppState,
    actor: &Actor,
    auth: &crate::auth::Auth,
    topic: &str,
    audience: &str,
    query: &TextQuery,
) -> Result<TextPage, PageError> {
    let detail = state
        .alliance
        .explanation_detail(actor, topic, audience)
        .await
        .map_err(page_error)?;
    let t: &LibraryText = &detail.text;
    let in_use = t.version.as_ref().map(|v| v.id);
    let saved = query
        .saved
        .as_deref()
        .and_then(|id| Uuid::parse_str(id).ok())
        .and_then(|id| detail.versions.iter().find(|v| v.version.id == id))
        .map(|v| (v.version.number, v.check.clone()));
    Ok(TextPage {
        layout: Layout::load(state, "library", auth).await?,
        topic: t.topic.code.clone(),
        topic_title: t.topic.title.clone(),
        audience: t.audience.code().to_owned(),
        audience_label: t.audience.label().to_owned(),
        title: t.title.clone(),
        paragraphs: paragraphs(&t.body),
        pictures: t.pictures.clone(),
        language: t.language.clone(),
        from_default: t.is_default(),
        review: t.review.label(),
        reviewed: t.review.reviewed,
        in_use: in_use.map(|id| id.to_string()),
        figures: figures(&t.assessment),
        check: t.check.clone(),
        versions: detail
            .versions
            .iter()
            .map(|v| VersionLine {
                id: v.version.id.to_string(),
                number: v.version.number,
                language: v.version.language.clone(),
                title: v.version.title.clone(),
                created: format!(
                    "{} on {}",
                    v.created_by,
                    uk::date_time(v.version.created_at)
                ),
                review: v.review.label(),
                reviewed: v.review.reviewed,
                published: v.version.published_at.map(uk::date_time),
                in_use: Some(v.version.id) == in_use,
                check: v.check.clone(),
            })
            .collect(),
        may_edit: may(actor, Action::EditExplanations),
        may_publish: may(actor, Action::PublishExplanations),
        saved,
        notice: query.done.as_deref().map(|d| match d {
            "reviewed" => "Marked reviewed.".to_owned(),
            _ => "Published: this version is now the text in use.".to_owned(),
        }),
        errors: FieldErrors::default(),
    })
}

async fn text_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path((topic, audience)): Path<(String, String)>,
    Query(query): Query<TextQuery>,
) -> Result<Response, PageError> {
    let page = text_view(&state, &actor, &auth, &topic, &audience, &query).await?;
    Ok(render(&page)?.into_response())
}

async fn review(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path((topic, audience)): Path<(String, String)>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let version = match form.optional("version") {
        None => None,
        Some(raw) => Some(Uuid::parse_str(raw).map_err(|_| page_error(AppError::NotFound))?),
    };
    state
        .alliance
        .review_explanation(&actor, &topic, &audience, version)
        .await
        .map_err(page_error)?;
    Ok(Redirect::to(&format!("/library/{topic}/{audience}?done=reviewed")).into_response())
}

async fn publish(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path((topic, audience)): Path<(String, String)>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = Uuid::parse_str(form.get("version")).map_err(|_| page_error(AppError::NotFound))?;
    match state
        .alliance
        .publish_explanation(&actor, &topic, &audience, id)
        .await
    {
        Ok(_) => Ok(
            Redirect::to(&format!("/library/{topic}/{audience}?done=published")).into_response(),
        ),
        Err(AppError::Invalid(invalid)) => {
            let mut page = text_view(
                &state,
                &actor,
                &auth,
                &topic,
                &audience,
                &TextQuery::default(),
            )
            .await?;
            page.errors = FieldErrors::from_invalid(&invalid);
            unprocessable(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}

#[derive(Template)]
#[template(path = "library_edit.html")]
struct EditPage {
    layout: Layout,
    topic: String,
    topic_title: String,
    audience: String,
    audience_label: String,
    form: FormData,
    errors: FieldErrors,
    figures: Figures,
    check: Option<ContentCheck>,
}

fn input_of(form: &FormData) -> VersionInput {
    VersionInput {
        title: form.get("title").to_owned(),
        body: form.get("body").to_owned(),
        pictures: form
            .get("pictures")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
        language: form.get("language").to_owned(),
        measured: form.get("measured") == "yes",
    }
}

async fn edit_view(
    state: &AppState,
    actor: &Actor,
    auth: &crate::auth::Auth,
    topic: &str,
    audience: &str,
    form: Option<FormData>,
) -> Result<EditPage, PageError> {
    state
        .alliance
        .ensure_may_edit_explanations(actor)
        .await
        .map_err(page_error)?;
    let detail = state
        .alliance
        .explanation_detail(actor, topic, audience)
        .await
        .map_err(page_error)?;
    let t = &detail.text;
    let form = form.unwrap_or_else(|| {
        FormData(vec![
            ("title".to_owned(), t.title.clone()),
            ("body".to_owned(), t.body.clone()),
            ("pictures".to_owned(), t.pictures.join("\n")),
            ("language".to_owned(), t.language.clone()),
            (
                "measured".to_owned(),
                if t.measured { "yes" } else { "" }.to_owned(),
            ),
        ])
    });
    let input = input_of(&form);
    let assessment = detail
        .config
        .assess(&input.body, t.audience, input.measured);
    Ok(EditPage {
        layout: Layout::load(state, "library", auth).await?,
        topic: t.topic.code.clone(),
        topic_title: t.topic.title.clone(),
        audience: t.audience.code().to_owned(),
        audience_label: t.audience.label().to_owned(),
        check: Some(alliance_core::explanations::check_content(
            t.topic,
            &input.title,
            &input.body,
        )),
        form,
        errors: FieldErrors::default(),
        figures: figures(&assessment),
    })
}

async fn edit_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path((topic, audience)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let mut page = edit_view(&state, &actor, &auth, &topic, &audience, None).await?;
    page.check = None;
    Ok(render(&page)?.into_response())
}

/// "Measure" re-shows the page with the figures (no JavaScript needed); "Save" writes a new
/// version as a draft and shows it on the text's page with its content check.
async fn save_or_measure(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path((topic, audience)): Path<(String, String)>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    if form.get("action") != "save" {
        let page = edit_view(&state, &actor, &auth, &topic, &audience, Some(form)).await?;
        return Ok(render(&page)?.into_response());
    }
    let input = input_of(&form);
    match state
        .alliance
        .create_explanation_version(&actor, &topic, &audience, &input)
        .await
    {
        Ok((version, _)) => Ok(Redirect::to(&format!(
            "/library/{topic}/{audience}?saved={}",
            version.id
        ))
        .into_response()),
        Err(AppError::Invalid(invalid)) => {
            let mut page = edit_view(&state, &actor, &auth, &topic, &audience, Some(form)).await?;
            page.errors = FieldErrors::from_invalid(&invalid);
            unprocessable(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}

#[derive(Template)]
#[template(path = "library_measure.html")]
struct MeasureFragment {
    figures: Figures,
}

/// The live editor's figures (an htmx fragment).
async fn measure_fragment(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let assessment = state
        .alliance
        .measure_explanation(
            &actor,
            form.get("body"),
            form.get("audience"),
            form.get("measured") == "yes",
        )
        .await
        .map_err(page_error)?;
    Ok(render(&MeasureFragment {
        figures: figures(&assessment),
    })?
    .into_response())
}
