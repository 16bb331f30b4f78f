//! The one place responses are finished: every request gets an id, every error is rendered
//! here (HTML for pages, problem+json for the API) with that id and no internals, and every
//! response gets its security headers.

use crate::problem::Problem;
use crate::{AppState, headers};
use askama::Template;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use std::any::Any;
use std::time::Instant;
use tracing::Instrument;
use uuid::Uuid;

/// The id of one request, shown on error pages and in the `X-Request-Id` header, and attached
/// to every log line of the request, so a user's report can be matched to the logs.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// A failed response waiting to be rendered by [`finish`].
#[derive(Debug, Clone)]
pub enum Failure {
    /// An API error, rendered as problem+json.
    Api(Problem),
    /// A page error, rendered as an HTML page; the message is for the person reading it.
    Page { status: StatusCode, message: String },
}

/// Marks an answer that stands as its handler made it, error status or not: a calendar feed's
/// address that is not found answers 404 with an empty body, saying nothing about why.
#[derive(Debug, Clone, Copy)]
pub struct AsIs;

/// A page handler's error.
#[derive(Debug)]
pub struct PageError {
    pub status: StatusCode,
    pub message: String,
}

impl PageError {
    pub fn internal() -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: "Something went wrong on our side. Nothing you typed has been lost; try \
                      again, and if it happens again, tell your administrator the reference \
                      below."
                .to_owned(),
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        response.extensions_mut().insert(Failure::Page {
            status: self.status,
            message: self.message,
        });
        response
    }
}

impl From<alliance_service::StoreError> for PageError {
    fn from(err: alliance_service::StoreError) -> Self {
        let crate::problem::ApiError(problem) = err.into();
        let status = problem.status_code();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            Self {
                status,
                message: "Alliance cannot reach its database just now. Try again in a minute."
                    .to_owned(),
            }
        } else {
            Self::internal()
        }
    }
}

/// Is this request for the API (answered in JSON) rather than a page?
pub fn is_api_path(path: &str) -> bool {
    path == "/healthz" || path == "/api" || path.starts_with("/api/")
}

/// The fallback for any address no route serves.
pub async fn not_found() -> Response {
    let mut response = StatusCode::NOT_FOUND.into_response();
    response.extensions_mut().insert(Failure::Page {
        status: StatusCode::NOT_FOUND,
        message: "There is no page at this address. Check the address, or start again from \
                  the home page."
            .to_owned(),
    });
    response
}

/// What a panicking handler answers: a plain 500, rendered by [`finish`]. The panic's message
/// is not shown or logged here: it may hold data.
pub fn panicked(_payload: Box<dyn Any + Send + 'static>) -> Response {
    tracing::error!("a handler panicked");
    PageError::internal().into_response()
}

/// Middleware around everything: request id, logging without personal data, error rendering,
/// security headers.
pub async fn finish(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let id = RequestId(Uuid::new_v4().to_string());
    request.extensions_mut().insert(id.clone());
    let path = request.uri().path().to_owned();
    let api = is_api_path(&path);
    let static_asset = path.starts_with(crate::assets::PREFIX);
    // Logged: method, status, time and the request id. Not logged: the query string or the
    // body (they may hold personal data or single-use tokens).
    let span = tracing::info_span!("request", id = %id.0, method = %request.method());
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    let status = response.status();
    let _entered = span.enter();
    if status.is_server_error() {
        tracing::error!(status = status.as_u16(), "request failed");
    } else {
        tracing::info!(
            status = status.as_u16(),
            ms = started.elapsed().as_millis() as u64,
            "request"
        );
    }

    let failure = response.extensions_mut().remove::<Failure>();
    let as_is = response.extensions_mut().remove::<AsIs>().is_some();
    // A handler that answered an error with its own page or JSON (a form shown again with its
    // errors, the health check) keeps it; the framework's plain-text errors are replaced.
    let rendered = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html") || t.contains("json"));
    if let Some(failure) = failure {
        response = render_failure(failure, api, &id);
    } else if (status.is_client_error() || status.is_server_error()) && !rendered && !as_is {
        // An error from the framework itself (405, 413, 408, a panic's 500): rendered the
        // same way as ours, whatever body it came with.
        let failure = if api {
            Failure::Api(Problem::for_status(status))
        } else {
            Failure::Page {
                status,
                message: Problem::for_status(status).title,
            }
        };
        let allow = response.headers().get(header::ALLOW).cloned();
        response = render_failure(failure, api, &id);
        if let Some(allow) = allow {
            response.headers_mut().insert(header::ALLOW, allow);
        }
    }
    if let Ok(value) = HeaderValue::from_str(&id.0) {
        response.headers_mut().insert("x-request-id", value);
    }
    headers::apply(response.headers_mut(), static_asset, state.config.https);
    response
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    status: u16,
    message: &'a str,
    request_id: &'a str,
}

fn render_failure(failure: Failure, api: bool, id: &RequestId) -> Response {
    match failure {
        Failure::Api(mut problem) => {
            problem.request_id = Some(id.0.clone());
            problem_response(&problem)
        }
        // A page error on an API path is still answered in JSON.
        Failure::Page { status, .. } if api => {
            let mut problem = Problem::for_status(status);
            problem.request_id = Some(id.0.clone());
            problem_response(&problem)
        }
        Failure::Page { status, message } => {
            let title = Problem::for_status(status).title;
            let page = ErrorPage {
                title: &title,
                status: status.as_u16(),
                message: &message,
                request_id: &id.0,
            };
            match page.render() {
                Ok(html) => (status, Html(html)).into_response(),
                Err(_) => (
                    status,
                    format!("Error {} (reference {})", status.as_u16(), id.0),
                )
                    .into_response(),
            }
        }
    }
}

fn problem_response(problem: &Problem) -> Response {
    let body = serde_json::to_vec(problem).unwrap_or_default();
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = problem.status_code();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}
