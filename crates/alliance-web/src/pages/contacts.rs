//! A case's contact log: contact with each carer and with the professional network, when the
//! next review meeting with the carers is due, and the form to log a contact. Who may read or
//! log, and whether a carer needs an override, are decided by the use-cases; this module shows
//! what they answer.

use super::{FieldErrors, FormData, Layout, render, unprocessable};
use crate::AppState;
use crate::auth::{Auth, CurrentAuth, Signed};
use crate::errors::page_error;
use crate::respond::PageError;
use alliance_core::cases::CaseId;
use alliance_core::contact_logs::{
    ContactInput, ContactKind, ContactWith, ProfessionalRole, SharingBasis,
};
use alliance_core::uk;
use alliance_service::contact_logs::{CaseContacts, ContactView};
use alliance_service::{Actor, AppError};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new().route("/cases/{id}/contacts", get(case_contacts).post(log_contact))
}

fn case_id(raw: &str) -> Result<CaseId, PageError> {
    CaseId::parse(raw).map_err(|_| page_error(AppError::NotFound))
}

/// A choice in a select or a group of radios.
struct Choice {
    code: String,
    label: String,
}

fn choices<T: Copy>(
    all: &[T],
    code: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
) -> Vec<Choice> {
    all.iter()
        .map(|v| Choice {
            code: code(*v).to_owned(),
            label: label(*v).to_owned(),
        })
        .collect()
}

/// One contact, as a row of the table.
struct ContactLine {
    on: String,
    with: String,
    how: &'static str,
    shared: String,
    agreed: String,
    basis: &'static str,
    override_reason: Option<String>,
    recorded_by: String,
}

fn contact_line(c: &ContactView) -> ContactLine {
    let (with, basis) = match &c.contact.with {
        ContactWith::Carer { .. } => (
            c.carer
                .clone()
                .unwrap_or_else(|| "A former carer".to_owned()),
            "",
        ),
        ContactWith::Professional {
            role,
            name,
            organisation,
            basis,
        } => (
            match organisation {
                Some(org) => format!("{}: {name}, {org}", role.label()),
                None => format!("{}: {name}", role.label()),
            },
            basis.label(),
        ),
    };
    ContactLine {
        on: uk::date(c.contact.on),
        with,
        how: c.contact.kind.label(),
        shared: c.contact.shared.clone(),
        agreed: c.contact.agreed.clone().unwrap_or_default(),
        basis,
        override_reason: c.contact.override_reason.clone(),
        recorded_by: c.recorded_by.clone(),
    }
}

struct CarerLine {
    id: String,
    label: String,
    needs_override: Option<String>,
}

#[derive(Template)]
#[template(path = "contacts.html")]
struct ContactsPage {
    layout: Layout,
    case_id: String,
    number: String,
    child_label: String,
    next_review: String,
    review_overdue: bool,
    contacts: Vec<ContactLine>,
    carers: Vec<CarerLine>,
    roles: Vec<Choice>,
    bases: Vec<Choice>,
    kinds: Vec<Choice>,
    may_write: bool,
    form: FormData,
    errors: FieldErrors,
    notice: Option<String>,
}

/// The page for the log; `today` is the date shown in the form, `review_overdue` whether the
/// carers' review meeting is already due.
fn contacts_view(
    layout: Layout,
    log: CaseContacts,
    today: String,
    review_overdue: bool,
) -> ContactsPage {
    ContactsPage {
        layout,
        case_id: log.case_id.to_string(),
        number: log.case_number.clone(),
        child_label: log.child_label.clone(),
        next_review: uk::date(log.next_review),
        review_overdue,
        contacts: log.contacts.iter().map(contact_line).collect(),
        carers: log
            .carers
            .iter()
            .map(|c| CarerLine {
                id: c.id.to_string(),
                label: c.label.clone(),
                needs_override: c.needs_override.clone(),
            })
            .collect(),
        roles: choices(
            ProfessionalRole::ALL,
            ProfessionalRole::code,
            ProfessionalRole::label,
        ),
        bases: choices(SharingBasis::ALL, SharingBasis::code, SharingBasis::label),
        kinds: choices(ContactKind::ALL, ContactKind::code, ContactKind::label),
        may_write: log.may_write,
        form: FormData(vec![("on".to_owned(), today)]),
        errors: FieldErrors::default(),
        notice: None,
    }
}

async fn load_page(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    id: CaseId,
) -> Result<ContactsPage, PageError> {
    let log = state
        .alliance
        .case_contacts(actor, id)
        .await
        .map_err(page_error)?;
    let layout = Layout::load(state, "children", auth).await?;
    let today = state.alliance.today();
    let overdue = log.next_review < today;
    Ok(contacts_view(layout, log, uk::date(today), overdue))
}

#[derive(Debug, Default, Deserialize)]
struct Saved {
    saved: Option<String>,
}

async fn case_contacts(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Query(saved): Query<Saved>,
) -> Result<Response, PageError> {
    let mut page = load_page(&state, &actor, &auth, case_id(&id)?).await?;
    page.notice = saved.saved.map(|_| "The contact is logged.".to_owned());
    Ok(render(&page)?.into_response())
}

fn contact_input(form: &FormData) -> ContactInput {
    ContactInput {
        with: form.get("with").to_owned(),
        carer: form.get("carer").to_owned(),
        role: form.get("role").to_owned(),
        name: form.get("name").to_owned(),
        organisation: form.get("organisation").to_owned(),
        basis: form.get("basis").to_owned(),
        kind: form.get("kind").to_owned(),
        on: form.get("on").to_owned(),
        shared: form.get("shared").to_owned(),
        agreed: form.get("agreed").to_owned(),
        override_reason: form.get("override_reason").to_owned(),
    }
}

async fn log_contact(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = case_id(&id)?;
    match state
        .alliance
        .log_contact(&actor, id, &contact_input(&form))
        .await
    {
        Ok(_) => {
            Ok(Redirect::to(&format!("/cases/{id}/contacts?saved=1#contacts")).into_response())
        }
        Err(AppError::Invalid(invalid)) => {
            let mut page = load_page(&state, &actor, &auth, id).await?;
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
    fn every_field_of_the_form_reaches_the_input() {
        let form = FormData(
            [
                ("with", "professional"),
                ("carer", "c"),
                ("role", "senco"),
                ("name", "Ms Patel"),
                ("organisation", "Oakfield Primary"),
                ("basis", "consent"),
                ("kind", "meeting"),
                ("on", "27/11/2026"),
                ("shared", "Attendance"),
                ("agreed", "Meet again"),
                ("override_reason", "r"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .to_vec(),
        );
        let input = contact_input(&form);
        assert_eq!(
            input,
            ContactInput {
                with: "professional".into(),
                carer: "c".into(),
                role: "senco".into(),
                name: "Ms Patel".into(),
                organisation: "Oakfield Primary".into(),
                basis: "consent".into(),
                kind: "meeting".into(),
                on: "27/11/2026".into(),
                shared: "Attendance".into(),
                agreed: "Meet again".into(),
                override_reason: "r".into(),
            }
        );
    }
}
