//! A session's record (issue 12): the form that prompts for what matters to the alliance,
//! kept as a draft on the server (saved by its button, or in the background by htmx as it is
//! typed), signed, amended with a reason, and shared by the case's lead with the
//! parent-worker. Who may see or do what is decided by the use-cases (a draft reaches its
//! author alone); this module shows what they answer.

use super::{FieldErrors, FormData, Layout, STALE_MESSAGE, render};
use crate::AppState;
use crate::auth::{Auth, CurrentAuth, NotSigned, Signed};
use crate::errors::page_error;
use crate::respond::PageError;
use alliance_core::schedule::{BookingId, clock_text};
use alliance_core::session_records::{RecordContent, RecordStatus};
use alliance_core::{Invalid, Version, uk};
use alliance_service::session_records::SessionRecordPage;
use alliance_service::{Actor, AppError, StoreError};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sessions/{id}/record", get(record_page).post(save_draft))
        .route("/sessions/{id}/record/autosave", post(autosave))
        .route("/sessions/{id}/record/sign", post(sign))
        .route("/sessions/{id}/record/amend", post(amend))
        .route("/sessions/{id}/record/share", post(share))
}

fn session_id(raw: &str) -> Result<BookingId, PageError> {
    BookingId::parse(raw).map_err(|_| page_error(AppError::NotFound))
}

/// One part of the record's form: its field, label and a short hint.
pub struct Part {
    pub name: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    /// A few words on one line (the moods), rather than a text area.
    pub line: bool,
}

/// The parts in the order the form asks for them; the safeguarding question follows them.
const PARTS: [Part; 7] = [
    Part {
        name: "brought",
        label: "What the child brought, and how they expressed their feelings",
        hint: "What they played, made, said or did, and the feelings you noticed. Needed to sign.",
        line: false,
    },
    Part {
        name: "own_words",
        label: "In their own words (quote them where you can)",
        hint: "Optional. Their words as they said them.",
        line: false,
    },
    Part {
        name: "reflected",
        label: "How you reflected and validated it",
        hint: "What you said or did in return, and how they took it. Needed to sign.",
        line: false,
    },
    Part {
        name: "themes",
        label: "Themes and play",
        hint: "Optional. Themes that came up or came back, and what they chose to play with.",
        line: false,
    },
    Part {
        name: "mood_start",
        label: "Mood at the start",
        hint: "A few words, such as quiet, wary or excited. Needed to sign.",
        line: true,
    },
    Part {
        name: "mood_end",
        label: "Mood at the end",
        hint: "A few words. Needed to sign.",
        line: true,
    },
    Part {
        name: "follow_up",
        label: "Anything to follow up",
        hint: "Optional. For the next session, for supervision, or with the family.",
        line: false,
    },
];

const SAFEGUARDING_QUESTION: &str = "Did anything in this session raise a safeguarding concern?";

/// A part of a signed record or an amendment, shown as text under its heading.
struct ShownPart {
    heading: &'static str,
    text: String,
}

fn shown(content: &RecordContent) -> Vec<ShownPart> {
    let mut parts: Vec<ShownPart> = PARTS
        .iter()
        .map(|p| ShownPart {
            heading: p.label,
            text: match p.name {
                "brought" => content.brought.clone(),
                "own_words" => content.own_words.clone(),
                "reflected" => content.reflected.clone(),
                "themes" => content.themes.clone(),
                "mood_start" => content.mood_start.clone(),
                "mood_end" => content.mood_end.clone(),
                _ => content.follow_up.clone(),
            },
        })
        .collect();
    parts.push(ShownPart {
        heading: SAFEGUARDING_QUESTION,
        text: match content.safeguarding.as_str() {
            "yes" => "Yes".to_owned(),
            "no" => "No".to_owned(),
            _ => String::new(),
        },
    });
    parts
}

fn content_form(content: &RecordContent) -> FormData {
    FormData(vec![
        ("brought".to_owned(), content.brought.clone()),
        ("own_words".to_owned(), content.own_words.clone()),
        ("reflected".to_owned(), content.reflected.clone()),
        ("themes".to_owned(), content.themes.clone()),
        ("mood_start".to_owned(), content.mood_start.clone()),
        ("mood_end".to_owned(), content.mood_end.clone()),
        ("follow_up".to_owned(), content.follow_up.clone()),
        ("safeguarding".to_owned(), content.safeguarding.clone()),
    ])
}

fn content_of(form: &FormData) -> RecordContent {
    RecordContent {
        brought: form.get("brought").to_owned(),
        own_words: form.get("own_words").to_owned(),
        reflected: form.get("reflected").to_owned(),
        themes: form.get("themes").to_owned(),
        mood_start: form.get("mood_start").to_owned(),
        mood_end: form.get("mood_end").to_owned(),
        follow_up: form.get("follow_up").to_owned(),
        safeguarding: form.get("safeguarding").to_owned(),
    }
}

/// The version a draft form was read at: none before the first save.
fn draft_version(form: &FormData) -> Option<Version> {
    form.get("version")
        .trim()
        .parse::<i64>()
        .ok()
        .and_then(|v| Version::new(v).ok())
}

/// `15:30` of `31/12/2026 15:30` (an instant as [`uk::date_time`] shows it, in London).
fn clock_of(date_time: String) -> String {
    date_time
        .split_once(' ')
        .map(|(_, time)| time.to_owned())
        .unwrap_or(date_time)
}

struct AmendmentLine {
    number: usize,
    /// "Amended on 31/12/2026 15:30 by Sam Jones: the reason".
    line: String,
    parts: Vec<ShownPart>,
}

/// A signed record: who signed it and when, and the parts as signed (the original, kept).
struct SignedLine {
    by: String,
    on: String,
    parts: Vec<ShownPart>,
}

#[derive(Template)]
#[template(path = "session_record.html")]
struct RecordPage {
    layout: Layout,
    session_id: String,
    case_id: String,
    case_number: String,
    child_label: String,
    date: String,
    time: String,
    notice: Option<String>,
    /// The form for a new record or the reader's draft.
    editing: bool,
    /// The reader's draft is saved (only they can see it).
    has_draft: bool,
    drafted_by_someone_else: bool,
    signed: Option<SignedLine>,
    amendments: Vec<AmendmentLine>,
    may_amend: bool,
    may_share: bool,
    /// "Shared with the parent-worker since …", while shared.
    shared: Option<String>,
    /// The record's version, for the forms; empty before the first save.
    version: String,
    parts: &'static [Part],
    safeguarding_question: &'static str,
    /// The draft or amendment form's fields (whichever the page shows).
    form: FormData,
    errors: FieldErrors,
    share_errors: FieldErrors,
    /// "Room check done" / "Room check to do" (issue 16); filled in by `load_page`.
    room_check: &'static str,
}

fn record_view(layout: Layout, page: SessionRecordPage) -> RecordPage {
    let booking = &page.session.booking;
    let record = page.record.as_ref();
    let own_draft = record.is_some_and(|r| r.stored.status == RecordStatus::Draft && r.is_author);
    let signed = record.filter(|r| r.stored.status == RecordStatus::Signed);
    let editing = page.may_write
        && match record {
            None => !page.drafted_by_someone_else,
            Some(_) => own_draft,
        };
    let form = match (record, signed) {
        (_, Some(r)) => content_form(r.current()),
        (Some(r), None) => content_form(&r.content),
        (None, None) => FormData::default(),
    };
    RecordPage {
        room_check: "",
        layout,
        session_id: booking.id.to_string(),
        case_id: page.session.case_id.to_string(),
        case_number: page.case_number.clone(),
        child_label: page.child_label.clone(),
        date: uk::date(booking.date),
        time: clock_text(booking.start),
        notice: None,
        editing,
        has_draft: own_draft,
        drafted_by_someone_else: page.drafted_by_someone_else,
        signed: signed.map(|r| SignedLine {
            by: r.author.clone(),
            on: r.stored.signed_at.map(uk::date_time).unwrap_or_default(),
            parts: shown(&r.content),
        }),
        amendments: signed
            .map(|r| {
                r.amendments
                    .iter()
                    .enumerate()
                    .map(|(i, a)| AmendmentLine {
                        number: i + 1,
                        line: format!(
                            "Amended on {} by {}: {}",
                            uk::date_time(a.at),
                            a.author,
                            a.reason
                        ),
                        parts: shown(&a.content),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        may_amend: page.may_write && signed.is_some_and(|r| r.is_author),
        may_share: signed.is_some_and(|r| r.may_share),
        shared: signed.and_then(|r| {
            r.stored
                .shared_at
                .map(|at| format!("Shared with the parent-worker since {}.", uk::date_time(at)))
        }),
        version: record
            .map(|r| r.stored.version.get().to_string())
            .unwrap_or_default(),
        parts: &PARTS,
        safeguarding_question: SAFEGUARDING_QUESTION,
        form,
        errors: FieldErrors::default(),
        share_errors: FieldErrors::default(),
    }
}

async fn load_page(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    session: BookingId,
) -> Result<(RecordPage, Option<String>), PageError> {
    let page = state
        .alliance
        .session_record_page(actor, session)
        .await
        .map_err(page_error)?;
    let saved_at = page
        .record
        .as_ref()
        .filter(|r| r.stored.status == RecordStatus::Draft)
        .map(|r| clock_of(uk::date_time(r.stored.updated_at)));
    let layout = Layout::load(state, "children", auth).await?;
    let checks = state
        .alliance
        .room_check_states(&[session])
        .await
        .map_err(page_error)?;
    let mut view = record_view(layout, page);
    view.room_check = checks.get(&session).map_or("", |c| c.label());
    Ok((view, saved_at))
}

#[derive(Debug, Default, Deserialize)]
struct Saved {
    saved: Option<String>,
}

async fn record_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Query(saved): Query<Saved>,
) -> Result<Response, PageError> {
    let (mut page, saved_at) = load_page(&state, &actor, &auth, session_id(&id)?).await?;
    page.notice = saved.saved.map(|what| match what.as_str() {
        "draft" => saved_at
            .map(|at| format!("Draft saved at {at}."))
            .unwrap_or_else(|| "Saved.".to_owned()),
        "signed" => "The record is signed.".to_owned(),
        "amended" => "The amendment is saved.".to_owned(),
        "shared" => "The record is shared with the parent-worker.".to_owned(),
        "unshared" => "The record is no longer shared with the parent-worker.".to_owned(),
        _ => "Saved.".to_owned(),
    });
    Ok(render(&page)?.into_response())
}

/// The draft was saved elsewhere (another tab or window) since this form was read.
const DRAFT_CHANGED: &str = "This draft was saved from another tab or window after you opened \
    this page, so what you sent was not saved. What you typed is kept below: check it against \
    the draft as saved (open this page in a new tab), then save again if yours should stand.";

/// Someone else on the team started the record while this form was being filled in.
const SOMEONE_ELSE_STARTED: &str = "Someone else on the team started writing this session's \
    record, so yours was not saved: a session has one record, written by one person. What you \
    typed is kept below: copy it before you leave this page, and agree with them who writes \
    the record.";

/// Field errors from a refusal, the form's own version errors shown on its first part.
fn errors_of(invalid: &Invalid) -> FieldErrors {
    let mut errors = FieldErrors::default();
    for e in &invalid.errors {
        let field = if e.field == "version" {
            "brought"
        } else {
            e.field.as_str()
        };
        errors
            .0
            .entry(field.to_owned())
            .and_modify(|m| {
                m.push(' ');
                m.push_str(&e.message);
            })
            .or_insert_with(|| e.message.clone());
    }
    errors
}

/// The draft form re-shown after a refusal, with what was typed kept: 422 for what the
/// form says, 409 when the record changed meanwhile.
async fn draft_refused(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    session: BookingId,
    form: FormData,
    err: AppError,
) -> Result<Response, PageError> {
    let (mut page, _) = load_page(state, actor, auth, session).await?;
    // The draft moved on since the form was read (saved from another tab, or created there
    // while this one still had none).
    let changed = page.has_draft && page.version != form.get("version").trim();
    let (status, errors) = match err {
        AppError::Invalid(invalid)
            if changed && invalid.errors.iter().all(|e| e.field == "version") =>
        {
            (
                StatusCode::CONFLICT,
                FieldErrors::one("brought", DRAFT_CHANGED),
            )
        }
        AppError::Invalid(invalid) => (StatusCode::UNPROCESSABLE_ENTITY, errors_of(&invalid)),
        AppError::Stale(_) => (
            StatusCode::CONFLICT,
            FieldErrors::one("brought", DRAFT_CHANGED),
        ),
        AppError::Conflict(_) | AppError::Store(StoreError::Conflict(_)) => (
            StatusCode::CONFLICT,
            FieldErrors::one(
                "brought",
                if page.has_draft {
                    DRAFT_CHANGED
                } else {
                    SOMEONE_ELSE_STARTED
                },
            ),
        ),
        other => return Err(page_error(other)),
    };
    if status == StatusCode::UNPROCESSABLE_ENTITY && page.has_draft {
        // Sent again, the form must still be checked against the version it was read at.
        page.version = form.get("version").trim().to_owned();
    }
    // A record signed meanwhile (in another tab) offers what was typed as an amendment.
    page.editing = page.signed.is_none();
    page.form = form;
    page.errors = errors;
    let mut response = render(&page)?.into_response();
    *response.status_mut() = status;
    Ok(response)
}

async fn save_draft(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let session = session_id(&id)?;
    save_draft_page(&state, &actor, &auth, session, form).await
}

async fn save_draft_page(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    session: BookingId,
    form: FormData,
) -> Result<Response, PageError> {
    match state
        .alliance
        .save_session_record_draft(actor, session, &content_of(&form), draft_version(&form))
        .await
    {
        Ok(_) => Ok(
            Redirect::to(&format!("/sessions/{session}/record?saved=draft#record")).into_response(),
        ),
        Err(err) => draft_refused(state, actor, auth, session, form, err).await,
    }
}

#[derive(Template)]
#[template(path = "session_record_autosave.html")]
struct AutosaveFragment {
    message: String,
    /// The draft's new version, swapped into the form's hidden field.
    version: Option<i64>,
}

/// Saves the draft in the background as it is typed (htmx), answering a line for the
/// form's status region and the draft's new version. Sent without htmx (a kept form sent
/// again after signing in), it is the "Save draft" button.
async fn autosave(
    State(state): State<AppState>,
    CurrentAuth(auth): CurrentAuth,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let session = session_id(&id)?;
    let htmx = headers.contains_key("hx-request");
    let Auth::Signed(actor) = &auth else {
        if !htmx {
            return Ok(NotSigned::Page {
                back_to: "/".to_owned(),
            }
            .into_response());
        }
        return fragment(
            "Not saved: you are signed out. Copy what you typed somewhere safe, then sign in again.",
            None,
        );
    };
    if !htmx {
        return save_draft_page(&state, actor, &auth, session, form).await;
    }
    let result = state
        .alliance
        .save_session_record_draft(actor, session, &content_of(&form), draft_version(&form))
        .await;
    match result {
        Ok(record) => fragment(
            &format!(
                "Draft saved at {}. Only you can see this draft.",
                clock_of(uk::date_time(record.updated_at))
            ),
            Some(record.version.get()),
        ),
        Err(AppError::Invalid(invalid)) => fragment(
            &format!(
                "Not saved: {}",
                invalid
                    .errors
                    .iter()
                    .map(|e| e.message.clone())
                    .collect::<Vec<_>>()
                    .join(". ")
            ),
            None,
        ),
        Err(AppError::Stale(_) | AppError::Conflict(_)) => fragment(
            "Not saved: this record was saved somewhere else meanwhile (another tab or window, \
             or someone else on the team). Press Save draft to see what to do: what you typed \
             stays on this page.",
            None,
        ),
        Err(AppError::Denied(why)) => fragment(&format!("Not saved: {why}."), None),
        Err(other) => {
            tracing::warn!(err = %other, "a background save of a session record failed");
            fragment(
                "Not saved just now. Press Save draft: what you typed stays on this page.",
                None,
            )
        }
    }
}

fn fragment(message: &str, version: Option<i64>) -> Result<Response, PageError> {
    Ok(render(&AutosaveFragment {
        message: message.to_owned(),
        version,
    })?
    .into_response())
}

async fn sign(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(mut form): Form<FormData>,
) -> Result<Response, PageError> {
    let session = session_id(&id)?;
    let content = content_of(&form);
    let result = match draft_version(&form) {
        Some(version) => {
            state
                .alliance
                .sign_session_record(&actor, session, &content, version)
                .await
        }
        // Never saved (no JavaScript, straight to signing): saved as a draft first, so
        // nothing typed is lost if it cannot be signed yet.
        None => match state
            .alliance
            .save_session_record_draft(&actor, session, &content, None)
            .await
        {
            Ok(draft) => {
                form.0.retain(|(k, _)| k != "version");
                form.0
                    .push(("version".to_owned(), draft.version.get().to_string()));
                state
                    .alliance
                    .sign_session_record(&actor, session, &content, draft.version)
                    .await
            }
            Err(err) => Err(err),
        },
    };
    match result {
        Ok(_) => Ok(
            Redirect::to(&format!("/sessions/{session}/record?saved=signed#record"))
                .into_response(),
        ),
        Err(err) => draft_refused(&state, &actor, &auth, session, form, err).await,
    }
}

async fn amend(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let session = session_id(&id)?;
    let expected = super::version_of(&form)?;
    let (status, errors) = match state
        .alliance
        .amend_session_record(
            &actor,
            session,
            &content_of(&form),
            form.get("reason"),
            expected,
        )
        .await
    {
        Ok(_) => {
            return Ok(Redirect::to(&format!(
                "/sessions/{session}/record?saved=amended#amendments"
            ))
            .into_response());
        }
        Err(AppError::Invalid(invalid)) => (StatusCode::UNPROCESSABLE_ENTITY, errors_of(&invalid)),
        Err(AppError::Stale(_) | AppError::Conflict(_)) => (
            StatusCode::CONFLICT,
            FieldErrors::one("brought", STALE_MESSAGE),
        ),
        Err(other) => return Err(page_error(other)),
    };
    let (mut page, _) = load_page(&state, &actor, &auth, session).await?;
    if status == StatusCode::UNPROCESSABLE_ENTITY {
        page.version = expected.get().to_string();
    }
    page.form = form;
    page.errors = errors;
    let mut response = render(&page)?.into_response();
    *response.status_mut() = status;
    Ok(response)
}

async fn share(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let session = session_id(&id)?;
    let expected = super::version_of(&form)?;
    let share = match form.get("share") {
        "yes" => true,
        "no" => false,
        _ => {
            return Err(page_error(AppError::Invalid(Invalid::field(
                "share",
                "Choose whether to share the record",
            ))));
        }
    };
    let (status, message) = match state
        .alliance
        .share_session_record(&actor, session, share, expected)
        .await
    {
        Ok(_) => {
            let saved = if share { "shared" } else { "unshared" };
            return Ok(
                Redirect::to(&format!("/sessions/{session}/record?saved={saved}#sharing"))
                    .into_response(),
            );
        }
        Err(AppError::Invalid(invalid)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            invalid
                .errors
                .iter()
                .map(|e| e.message.clone())
                .collect::<Vec<_>>()
                .join(" "),
        ),
        Err(AppError::Stale(_) | AppError::Conflict(_)) => {
            (StatusCode::CONFLICT, STALE_MESSAGE.to_owned())
        }
        Err(other) => return Err(page_error(other)),
    };
    let (mut page, _) = load_page(&state, &actor, &auth, session).await?;
    page.share_errors = FieldErrors::one("share", &message);
    let mut response = render(&page)?.into_response();
    *response.status_mut() = status;
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_and_a_record_say_the_same_thing() {
        let content = RecordContent {
            brought: "Sand tray".into(),
            own_words: "\"Mine\"".into(),
            reflected: "I said it was hers".into(),
            themes: "Ownership".into(),
            mood_start: "Quiet".into(),
            mood_end: "Brighter".into(),
            follow_up: "Ask about the wall".into(),
            safeguarding: "no".into(),
        };
        assert_eq!(content_of(&content_form(&content)), content);
        let parts = shown(&content);
        assert_eq!(parts.len(), PARTS.len() + 1);
        assert_eq!(parts[0].text, "Sand tray");
        assert_eq!(parts[6].text, "Ask about the wall");
        assert_eq!(parts[7].heading, SAFEGUARDING_QUESTION);
        assert_eq!(parts[7].text, "No");
        // Every part of the form is a field of the record.
        for part in &PARTS {
            assert!(
                !content_form(&content).get(part.name).is_empty(),
                "{}",
                part.name
            );
        }
    }

    #[test]
    fn version_errors_show_on_the_first_part() {
        let invalid = Invalid::field("version", "Save the draft first");
        let errors = errors_of(&invalid);
        assert_eq!(errors.get("brought"), Some("Save the draft first"));
        assert!(draft_version(&FormData::default()).is_none());
        assert_eq!(
            draft_version(&FormData(vec![("version".into(), "3".into())])).map(|v| v.get()),
            Some(3)
        );
    }

    #[test]
    fn the_time_saved_is_the_clock_of_the_london_date_and_time() {
        assert_eq!(clock_of("01/07/2026 15:30".to_owned()), "15:30");
    }
}
