//! Use-case errors rendered for the API (problem+json) and for pages.

use crate::problem::{ApiError, Problem};
use crate::respond::PageError;
use alliance_service::AppError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

/// A conflict's words when a use-case wrote them for people (a sentence); a bare constraint
/// name from storage (`agreements_case_number`) is an internal and is never shown.
fn human(what: &str) -> Option<&str> {
    what.contains(' ').then_some(what)
}

/// For the API.
pub fn api(err: AppError) -> ApiError {
    match err {
        AppError::Unauthenticated => Problem::for_status(StatusCode::UNAUTHORIZED).into(),
        AppError::Denied(why) => Problem::for_status(StatusCode::FORBIDDEN)
            .detail(why)
            .into(),
        AppError::NotFound => Problem::for_status(StatusCode::NOT_FOUND).into(),
        AppError::Invalid(invalid) => invalid.into(),
        AppError::Stale(current) => alliance_service::StoreError::Stale { current }.into(),
        AppError::Conflict(what) => match human(&what) {
            Some(why) => Problem::for_status(StatusCode::CONFLICT).detail(why).into(),
            None => Problem::for_status(StatusCode::CONFLICT).into(),
        },
        AppError::Throttled(wait) => Problem::for_status(StatusCode::TOO_MANY_REQUESTS)
            .detail(format!(
                "Too many attempts. Try again in {} seconds.",
                wait.as_secs().max(1)
            ))
            .into(),
        AppError::Destroyed { on } => Problem::new(
            StatusCode::GONE,
            "destroyed",
            "Destroyed under the retention policy",
        )
        .detail(destroyed_words(on.map(alliance_core::uk::date)))
        .into(),
        AppError::Store(store) => store.into(),
    }
}

/// What a reader of a destroyed record class is told (never a fault, never a 500).
/// `on` is the day as shown (31/12/2026), when known.
pub fn destroyed_words(on: Option<String>) -> String {
    match on {
        Some(day) => format!(
            "This part of the child's record was destroyed on {day} under the retention policy: it can no longer be read."
        ),
        None => "This part of the child's record was destroyed under the retention policy: it can no longer be read.".to_owned(),
    }
}

impl From<AppError> for ApiError {
    fn from(err: AppError) -> Self {
        api(err)
    }
}

/// For pages (a form's own field errors are shown on the form, not here).
pub fn page(err: AppError) -> Response {
    let (status, message) = match err {
        AppError::Unauthenticated => return Redirect::to("/sign-in").into_response(),
        AppError::Denied(why) => (StatusCode::FORBIDDEN, format!("You cannot do this: {why}.")),
        AppError::NotFound => (
            StatusCode::NOT_FOUND,
            "There is nothing here. It may have been removed, or the link may be wrong.".to_owned(),
        ),
        AppError::Invalid(invalid) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            invalid
                .errors
                .iter()
                .map(|e| e.message.clone())
                .collect::<Vec<_>>()
                .join(" "),
        ),
        AppError::Stale(_) => (
            StatusCode::CONFLICT,
            "Someone else changed this while you were working on it. Go back and reload the page to see their change, then make yours again.".to_owned(),
        ),
        AppError::Conflict(what) => (
            StatusCode::CONFLICT,
            match human(&what) {
                Some(why) => format!("You cannot do this: {why}."),
                None => "This clashes with something already stored.".to_owned(),
            },
        ),
        AppError::Throttled(wait) => {
            let mut response = PageError {
                status: StatusCode::TOO_MANY_REQUESTS,
                message: format!(
                    "Too many attempts. Wait {} seconds, then try again.",
                    wait.as_secs().max(1)
                ),
            }
            .into_response();
            if let Ok(v) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return response;
        }
        AppError::Destroyed { on } => (
            StatusCode::GONE,
            destroyed_words(on.map(alliance_core::uk::date)),
        ),
        AppError::Store(store) => return PageError::from(store).into_response(),
    };
    PageError { status, message }.into_response()
}

/// For page handlers that answer `Result<_, PageError>`.
pub fn page_error(err: AppError) -> PageError {
    match err {
        AppError::Unauthenticated => PageError {
            status: StatusCode::UNAUTHORIZED,
            message: "Sign in again to carry on.".to_owned(),
        },
        AppError::Store(store) => PageError::from(store),
        other => {
            let response = page(other);
            PageError {
                status: response.status(),
                message: response
                    .extensions()
                    .get::<crate::respond::Failure>()
                    .and_then(|f| match f {
                        crate::respond::Failure::Page { message, .. } => Some(message.clone()),
                        crate::respond::Failure::Api(_) => None,
                    })
                    .unwrap_or_default(),
            }
        }
    }
}

pub fn page_or_api(err: AppError, api_path: bool) -> Response {
    if api_path {
        api(err).into_response()
    } else {
        page(err)
    }
}
