//! API errors as `application/problem+json` (RFC 9457), naming the field at fault.

use alliance_core::Invalid;
use alliance_service::StoreError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// One field's problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ProblemField {
    /// The field as the client sent it; nested fields as a dotted path (`carers[0].name`).
    pub field: String,
    pub message: String,
}

/// An error answer. `type` is a stable URN a client can match on; `title` and `detail` are
/// for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Every field at fault, for input that was refused.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
    /// For a stale update (409): the record's version now, to re-read it at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_version: Option<i64>,
    /// The request's id, also in the `X-Request-Id` header: quote it when reporting a fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl Problem {
    pub fn new(status: StatusCode, code: &str, title: &str) -> Self {
        Self {
            kind: format!("urn:alliance:problem:{code}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: None,
            errors: Vec::new(),
            current_version: None,
            request_id: None,
        }
    }

    #[must_use]
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    #[must_use]
    pub fn field(mut self, field: impl Into<String>, message: impl Into<String>) -> Self {
        self.errors.push(ProblemField {
            field: field.into(),
            message: message.into(),
        });
        self
    }

    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The problem for a status that no handler described (a route that does not exist, a
    /// method it does not take, a body too large, a server fault).
    pub fn for_status(status: StatusCode) -> Self {
        let (code, title) = match status {
            StatusCode::BAD_REQUEST => ("bad-request", "The request could not be read"),
            StatusCode::UNAUTHORIZED => ("unauthenticated", "Sign in first"),
            StatusCode::FORBIDDEN => ("forbidden", "You may not do this"),
            StatusCode::NOT_FOUND => ("not-found", "There is nothing here"),
            StatusCode::METHOD_NOT_ALLOWED => (
                "method-not-allowed",
                "This address does not take that method",
            ),
            StatusCode::REQUEST_TIMEOUT => ("timeout", "The request took too long"),
            StatusCode::CONFLICT => ("conflict", "This clashes with what is stored"),
            StatusCode::PAYLOAD_TOO_LARGE => ("too-large", "The request body is too large"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => (
                "unsupported-media-type",
                "Send the body as application/json",
            ),
            StatusCode::UNPROCESSABLE_ENTITY => ("invalid-input", "Some input was not valid"),
            StatusCode::TOO_MANY_REQUESTS => ("too-many-requests", "Too many requests; wait"),
            StatusCode::SERVICE_UNAVAILABLE => {
                ("unavailable", "Alliance cannot reach its database just now")
            }
            s if s.is_client_error() => ("client-error", "The request was refused"),
            _ => ("internal", "Something went wrong on the server"),
        };
        Self::new(status, code, title)
    }
}

/// A handler's error: rendered (with the request id) by [`crate::respond::finish`].
#[derive(Debug)]
pub struct ApiError(pub Box<Problem>);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.0.status_code();
        let mut response = status.into_response();
        response
            .extensions_mut()
            .insert(crate::respond::Failure::Api(*self.0));
        response
    }
}

impl From<Problem> for ApiError {
    fn from(problem: Problem) -> Self {
        Self(Box::new(problem))
    }
}

impl From<Invalid> for ApiError {
    fn from(invalid: Invalid) -> Self {
        let mut problem = Problem::for_status(StatusCode::UNPROCESSABLE_ENTITY);
        problem.errors = invalid
            .errors
            .into_iter()
            .map(|e| ProblemField {
                field: e.field,
                message: e.message,
            })
            .collect();
        problem.into()
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        let problem = match err {
            StoreError::NotFound => Problem::for_status(StatusCode::NOT_FOUND),
            StoreError::Conflict(_) => Problem::for_status(StatusCode::CONFLICT),
            StoreError::Stale { current } => {
                let mut p = Problem::new(
                    StatusCode::CONFLICT,
                    "stale-version",
                    "Someone changed this record after you read it",
                )
                .detail("Read the record again, then make your change to the current version.");
                p.current_version = Some(current.get());
                p
            }
            StoreError::Unavailable(cause) => {
                tracing::error!(%cause, "database unavailable");
                Problem::for_status(StatusCode::SERVICE_UNAVAILABLE)
            }
            StoreError::Schema(cause) | StoreError::Other(cause) => {
                tracing::error!(%cause, "storage failed");
                Problem::for_status(StatusCode::INTERNAL_SERVER_ERROR)
            }
        };
        problem.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alliance_core::Version;

    #[test]
    fn a_stale_update_is_a_409_that_says_the_current_version() {
        let current = Version::new(4).unwrap_or(Version::FIRST);
        let ApiError(problem) = StoreError::Stale { current }.into();
        assert_eq!(problem.status, 409);
        assert_eq!(problem.current_version, Some(4));
        assert_eq!(problem.kind, "urn:alliance:problem:stale-version");
    }

    #[test]
    fn invalid_input_names_every_field() {
        let invalid = Invalid {
            errors: vec![
                alliance_core::FieldError::new("name", "Enter a name"),
                alliance_core::FieldError::new("nation", "Choose a nation"),
            ],
        };
        let ApiError(problem) = invalid.into();
        assert_eq!(problem.status, 422);
        let fields: Vec<&str> = problem.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "nation"]);
    }

    #[test]
    fn internal_causes_never_reach_the_client() {
        let ApiError(problem) =
            StoreError::Other("constraint service_nation failed for 'secret'".into()).into();
        let body = serde_json::to_string(&problem).unwrap_or_default();
        assert_eq!(problem.status, 500);
        assert!(!body.contains("secret"), "{body}");
        assert!(!body.contains("service_nation"), "{body}");
    }
}
