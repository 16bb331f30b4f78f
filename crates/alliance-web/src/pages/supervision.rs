//! Supervision: what the signed-in person received (with the time of the last twelve months,
//! for their professional body), what they gave as a supervisor, and the form a supervisor
//! records a supervision of one of their supervisees with. Whom a supervisor may record for is
//! decided by the use-cases; this module shows what they answer.

use super::{FieldErrors, FormData, Layout, checked, render, unprocessable};
use crate::AppState;
use crate::auth::{Auth, CurrentAuth, Signed};
use crate::errors::page_error;
use crate::respond::PageError;
use alliance_core::supervision::{SupervisionInput, duration_text};
use alliance_core::uk;
use alliance_service::supervision::SupervisionView;
use alliance_service::{Actor, AppError};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new().route("/supervision", get(my_supervision).post(record_supervision))
}

/// Minutes in words (`1 hour 30 minutes`).
fn minutes_text(minutes: i64) -> String {
    duration_text(u32::try_from(minutes.max(0)).unwrap_or(u32::MAX))
}

/// One supervision, as a row of a table.
struct SupervisionLine {
    held_on: String,
    /// The supervisor (in the table of those received) or the supervisee (those given).
    other: String,
    time: String,
    cases: String,
    actions: String,
    group: &'static str,
}

fn line(s: &SupervisionView, received: bool) -> SupervisionLine {
    SupervisionLine {
        held_on: uk::date(s.stored.held_on),
        other: if received {
            s.supervisor.clone()
        } else {
            s.supervisee.clone()
        },
        time: minutes_text(s.stored.minutes),
        cases: if s.stored.cases.is_empty() {
            "None".to_owned()
        } else {
            s.stored.cases.join(", ")
        },
        actions: s.actions.clone().unwrap_or_default(),
        group: if s.stored.group {
            "Group"
        } else {
            "Individual"
        },
    }
}

struct SuperviseeChoice {
    id: String,
    name: String,
}

#[derive(Template)]
#[template(path = "supervision.html")]
struct SupervisionPage {
    layout: Layout,
    last_year: String,
    received: Vec<SupervisionLine>,
    given: Vec<SupervisionLine>,
    supervisees: Vec<SuperviseeChoice>,
    form: FormData,
    errors: FieldErrors,
    notice: Option<String>,
}

async fn load_page(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
) -> Result<SupervisionPage, PageError> {
    let mine = state
        .alliance
        .my_supervision(actor)
        .await
        .map_err(page_error)?;
    Ok(SupervisionPage {
        layout: Layout::load(state, "supervision", auth).await?,
        last_year: minutes_text(mine.minutes_last_year),
        received: mine.received.iter().map(|s| line(s, true)).collect(),
        given: mine.given.iter().map(|s| line(s, false)).collect(),
        supervisees: mine
            .supervisees
            .iter()
            .map(|(id, name)| SuperviseeChoice {
                id: id.to_string(),
                name: name.clone(),
            })
            .collect(),
        form: FormData(vec![(
            "held_on".to_owned(),
            uk::date(state.alliance.today()),
        )]),
        errors: FieldErrors::default(),
        notice: None,
    })
}

#[derive(Debug, Default, Deserialize)]
struct Saved {
    saved: Option<String>,
}

async fn my_supervision(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Query(saved): Query<Saved>,
) -> Result<Response, PageError> {
    let mut page = load_page(&state, &actor, &auth).await?;
    page.notice = saved
        .saved
        .map(|_| "The supervision is recorded.".to_owned());
    Ok(render(&page)?.into_response())
}

fn supervision_input(form: &FormData) -> SupervisionInput {
    SupervisionInput {
        supervisee: form.get("supervisee").to_owned(),
        held_on: form.get("held_on").to_owned(),
        minutes: form.get("minutes").to_owned(),
        cases: form.get("cases").to_owned(),
        actions: form.get("actions").to_owned(),
        group: checked(form, "group"),
    }
}

async fn record_supervision(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    match state
        .alliance
        .record_supervision(&actor, &supervision_input(&form))
        .await
    {
        Ok(_) => Ok(Redirect::to("/supervision?saved=1#given").into_response()),
        Err(AppError::Invalid(invalid)) => {
            let mut page = load_page(&state, &actor, &auth).await?;
            page.form = form;
            page.errors = FieldErrors::from_invalid(&invalid);
            unprocessable(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_becomes_the_input_and_the_box_ticks_group() {
        let form = FormData(
            [
                ("supervisee", "u"),
                ("held_on", "25/11/2026"),
                ("minutes", "90"),
                ("cases", "C00042, 7"),
                ("actions", "Review the ending"),
                ("group", "yes"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .to_vec(),
        );
        let input = supervision_input(&form);
        assert!(input.group);
        assert_eq!(input.minutes, "90");
        assert_eq!(input.cases, "C00042, 7");
        assert!(!supervision_input(&FormData::default()).group);
    }

    #[test]
    fn time_reads_in_hours_and_minutes() {
        assert_eq!(minutes_text(90), "1 hour 30 minutes");
        assert_eq!(minutes_text(0), "0 minutes");
        assert_eq!(minutes_text(-5), "0 minutes");
    }
}
