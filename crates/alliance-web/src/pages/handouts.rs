//! Handouts from the explanation library: one text to print (naming no one), and a chosen set
//! for one child as the child's copy or a carer's, printable and as a PDF.

use super::{FieldErrors, Layout, render};
use crate::AppState;
use crate::auth::{CurrentAuth, Signed};
use crate::errors::page_error;
use crate::respond::PageError;
use alliance_core::children::{CarerId, ChildId};
use alliance_core::explanations::Audience;
use alliance_service::AppError;
use alliance_service::handouts::{CopyFor, HandoutSet};
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/library/{topic}/{audience}/handout", get(library_handout))
        .route(
            "/library/{topic}/{audience}/handout/pdf",
            get(library_handout_pdf),
        )
        .route("/children/{id}/handouts", get(child_handouts))
        .route("/children/{id}/handouts/pdf", get(child_handouts_pdf))
}

#[derive(Template)]
#[template(path = "handout.html")]
struct HandoutPage {
    layout: Layout,
    set: HandoutSet,
    pdf_href: String,
    back_href: String,
    back_label: String,
}

struct Choice {
    code: String,
    label: String,
    checked: bool,
}

#[derive(Template)]
#[template(path = "child_handouts.html")]
struct ChildHandoutsPage {
    layout: Layout,
    child_id: String,
    topics: Vec<Choice>,
    audiences: Vec<Choice>,
    recipients: Vec<Choice>,
    errors: FieldErrors,
    /// The chosen set, shown to print, when the form was sent.
    set: Option<HandoutSet>,
    pdf_href: String,
}

/// What the child's handout form sends: `topics` may repeat.
#[derive(Debug, Default)]
pub(crate) struct ChildQuery {
    pub(crate) topics: Vec<String>,
    pub(crate) audience: String,
    pub(crate) copy_for: String,
}

pub(crate) fn parse_query(raw: Option<&str>) -> ChildQuery {
    let mut q = ChildQuery::default();
    for (key, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "topics" => q.topics.push(value.into_owned()),
            "audience" => q.audience = value.into_owned(),
            "copy_for" => q.copy_for = value.into_owned(),
            _ => {}
        }
    }
    q
}

pub(crate) fn copy_for(raw: &str) -> Result<CopyFor, AppError> {
    match raw {
        "" | "child" => Ok(CopyFor::Child),
        other => CarerId::parse(other)
            .map(CopyFor::Carer)
            .map_err(|_| AppError::NotFound),
    }
}

async fn library_handout(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path((topic, audience)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let set = state
        .alliance
        .library_handout(&actor, &topic, &audience)
        .await
        .map_err(page_error)?;
    Ok(render(&HandoutPage {
        layout: Layout::load(&state, "library", &auth).await?,
        set,
        pdf_href: format!("/library/{topic}/{audience}/handout/pdf"),
        back_href: format!("/library/{topic}/{audience}"),
        back_label: "Back to the text".to_owned(),
    })?
    .into_response())
}

async fn library_handout_pdf(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path((topic, audience)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let set = state
        .alliance
        .library_handout(&actor, &topic, &audience)
        .await
        .map_err(page_error)?;
    crate::pdf::handouts_response(&set)
        .await
        .map_err(page_error)
}

async fn child_handouts(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> Result<Response, PageError> {
    let child = ChildId::parse(&id).map_err(|_| page_error(AppError::NotFound))?;
    let query = parse_query(raw.as_deref());
    let record = state
        .alliance
        .get_child(&actor, child)
        .await
        .map_err(page_error)?;
    // The configured band for the child's age; the therapist may choose another.
    let (config, _) = state
        .alliance
        .readability_config()
        .await
        .map_err(page_error)?;
    let suggested = record
        .age
        .map_or(Audience::Children8To11, |age| config.audience_for_age(age));
    let chosen_audience = Audience::parse(&query.audience).unwrap_or(suggested);
    let library = state
        .alliance
        .explanation_library(&actor)
        .await
        .map_err(page_error)?;
    let mut recipients = vec![Choice {
        code: "child".to_owned(),
        label: "The child's own copy".to_owned(),
        checked: query.copy_for.is_empty() || query.copy_for == "child",
    }];
    for carer in record.carers.iter().filter(|c| c.active) {
        let code = carer.id.to_string();
        recipients.push(Choice {
            label: format!(
                "A copy for {} ({})",
                carer.details.name, carer.details.relationship
            ),
            checked: query.copy_for == code,
            code,
        });
    }
    // The form was sent (it always carries the audience and the copy).
    let sent = !query.topics.is_empty() || !query.audience.is_empty() || !query.copy_for.is_empty();
    let (set, errors) = if sent {
        let result = match copy_for(&query.copy_for) {
            Ok(copy) => {
                state
                    .alliance
                    .child_handouts(&actor, child, &query.topics, chosen_audience, copy)
                    .await
            }
            Err(e) => Err(e),
        };
        match result {
            Ok(set) => (Some(set), FieldErrors::default()),
            Err(AppError::Invalid(invalid)) => (None, FieldErrors::from_invalid(&invalid)),
            Err(other) => return Err(page_error(other)),
        }
    } else {
        (None, FieldErrors::default())
    };
    let pdf_href = format!(
        "/children/{child}/handouts/pdf?{}",
        raw.as_deref().unwrap_or_default()
    );
    let page = ChildHandoutsPage {
        layout: Layout::load(&state, "children", &auth).await?,
        child_id: child.to_string(),
        topics: library
            .iter()
            .map(|(topic, _)| Choice {
                code: topic.code.clone(),
                label: topic.title.clone(),
                checked: query.topics.contains(&topic.code),
            })
            .collect(),
        audiences: Audience::ALL
            .into_iter()
            .map(|a| Choice {
                code: a.code().to_owned(),
                label: a.label().to_owned(),
                checked: a == chosen_audience,
            })
            .collect(),
        recipients,
        errors,
        set,
        pdf_href,
    };
    if page.errors.is_empty() {
        Ok(render(&page)?.into_response())
    } else {
        super::unprocessable(&page)
    }
}

async fn child_handouts_pdf(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> Result<Response, PageError> {
    let child = ChildId::parse(&id).map_err(|_| page_error(AppError::NotFound))?;
    let query = parse_query(raw.as_deref());
    let audience = Audience::parse(&query.audience)
        .map_err(|m| page_error(alliance_core::Invalid::field("audience", m).into()))?;
    let copy = copy_for(&query.copy_for).map_err(page_error)?;
    let set = state
        .alliance
        .child_handouts(&actor, child, &query.topics, audience, copy)
        .await
        .map_err(page_error)?;
    crate::pdf::handouts_response(&set)
        .await
        .map_err(page_error)
}
