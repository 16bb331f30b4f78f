//! Extractors that turn bad input into problems naming the field, never a 500.

use crate::problem::{ApiError, Problem};
use alliance_core::PageRequest;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use utoipa::IntoParams;

/// A JSON body. Wrong content type: 415. Not JSON: 400. A field of the wrong shape: 422
/// naming the field by its path.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                let v = v.trim();
                v.eq_ignore_ascii_case("application/json")
                    || (v.starts_with("application/") && v.ends_with("+json"))
            });
        if !is_json {
            return Err(Problem::for_status(StatusCode::UNSUPPORTED_MEDIA_TYPE).into());
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| Problem::for_status(rejection.status()))?;
        parse_json(&bytes).map(ApiJson)
    }
}

fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if inner.is_data() {
            ApiError::from(
                Problem::for_status(StatusCode::UNPROCESSABLE_ENTITY)
                    .field(field_name(&path), short(&inner.to_string())),
            )
        } else {
            ApiError::from(
                Problem::for_status(StatusCode::BAD_REQUEST).detail("The body is not valid JSON."),
            )
        }
    })?;
    // Trailing content after the value is refused too.
    deserializer.end().map_err(|_| {
        ApiError::from(
            Problem::for_status(StatusCode::BAD_REQUEST).detail("The body is not valid JSON."),
        )
    })?;
    Ok(value)
}

/// A query string. A parameter of the wrong shape: 422 naming it.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(ApiQuery)
            .map_err(|err| {
                let path = err.path().to_string();
                ApiError::from(
                    Problem::for_status(StatusCode::UNPROCESSABLE_ENTITY)
                        .field(field_name(&path), short(&err.into_inner().to_string())),
                )
            })
    }
}

/// serde reports a missing top-level field with the path `.`; the message names it instead.
fn field_name(path: &str) -> String {
    if path.is_empty() || path == "." {
        "body".to_owned()
    } else {
        path.to_owned()
    }
}

/// serde's messages can quote what was sent; keep them short.
fn short(message: &str) -> String {
    let mut out: String = message.chars().take(160).collect();
    if out.len() < message.len() {
        out.push('…');
    }
    out
}

/// The pagination parameters every list takes.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// How many items to return, from 1 to 200 (default 50).
    pub limit: Option<i64>,
    /// The `next` value of the previous page, to continue from it.
    pub after: Option<String>,
}

impl PageParams {
    pub fn request(&self) -> Result<PageRequest, ApiError> {
        PageRequest::parse(self.limit, self.after.as_deref()).map_err(ApiError::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Carer {
        name: String,
        may_contact: bool,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Child {
        carers: Vec<Carer>,
    }

    #[test]
    fn a_wrongly_typed_nested_field_is_named_by_its_path() {
        let body =
            br#"{"carers":[{"name":"A","may_contact":true},{"name":"B","may_contact":"yes"}]}"#;
        let err = parse_json::<Child>(body).err().map(|e| e.0);
        assert_eq!(err.as_ref().map(|p| p.status), Some(422));
        let field = err.and_then(|p| p.errors.first().map(|e| e.field.clone()));
        assert_eq!(field.as_deref(), Some("carers[1].may_contact"));
    }

    #[test]
    fn malformed_json_is_a_400_and_trailing_junk_too() {
        for body in [&b"{"[..], b"not json", b"{\"carers\":[]} trailing", b""] {
            let err = parse_json::<Child>(body).err().map(|e| e.0.status);
            assert_eq!(err, Some(400), "{}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn page_parameters_are_validated() {
        let bad = PageParams {
            limit: Some(0),
            after: None,
        };
        assert_eq!(bad.request().err().map(|e| e.0.status), Some(422));
        assert_eq!(
            PageParams::default().request().map(|r| r.limit).ok(),
            Some(50)
        );
    }
}
