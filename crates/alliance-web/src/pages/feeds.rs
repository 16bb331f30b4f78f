//! The public address of a calendar feed (`/feeds/af_….ics`), which calendar programs fetch
//! without signing in: the address is the credential. An unknown or revoked address answers
//! 404 with an empty body, and nothing about why. The address is never logged (the request
//! log holds no paths), and the response carries the same security headers as every other.
//!
//! Also how a feed's address is written out in full for its owner, once, on the account page
//! and in the API.

use crate::AppState;
use crate::auth::RequestOrigin;
use crate::respond::AsIs;
use alliance_core::feed;
use alliance_service::AppError;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub fn router() -> Router<AppState> {
    Router::new().route("/feeds/{token}", get(calendar_feed))
}

async fn calendar_feed(
    State(state): State<AppState>,
    RequestOrigin(origin): RequestOrigin,
    Path(token): Path<String>,
) -> Response {
    match state.alliance.feed_calendar(&token, &origin).await {
        Ok(ics) => {
            let mut response = ics.into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(feed::CONTENT_TYPE),
            );
            headers.insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("inline; filename=\"sessions.ics\""),
            );
            response
        }
        Err(AppError::NotFound) => {
            let mut response = StatusCode::NOT_FOUND.into_response();
            response.extensions_mut().insert(AsIs);
            response
        }
        Err(other) => crate::errors::page(other),
    }
}

/// A feed's address in full, for its owner to copy, and as a `webcal://` link that opens
/// their calendar program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedLinks {
    pub url: String,
    pub webcal: String,
}

/// The full address of `path` (`/feeds/af_….ics`): under the configured public URL, or else
/// the host the request came to, over HTTPS when Alliance is served so.
pub fn feed_links(state: &AppState, headers: &HeaderMap, path: &str) -> FeedLinks {
    links_for(
        state.config.public_url.as_deref(),
        state.config.https,
        headers,
        path,
    )
}

fn links_for(public_url: Option<&str>, https: bool, headers: &HeaderMap, path: &str) -> FeedLinks {
    let base = match public_url {
        Some(public) => public.trim_end_matches('/').to_owned(),
        None => {
            let scheme = if https { "https" } else { "http" };
            format!("{scheme}://{}", request_host(headers))
        }
    };
    let url = format!("{base}{path}");
    let webcal = match url.split_once("://") {
        Some((_, rest)) => format!("webcal://{rest}"),
        None => url.clone(),
    };
    FeedLinks { url, webcal }
}

/// The request's `Host`, when it is only a host name or address and a port; otherwise (a
/// missing or odd header) `localhost`.
fn request_host(headers: &HeaderMap) -> String {
    headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .unwrap_or("localhost")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn only_plain_host_headers_are_used() {
        assert_eq!(request_host(&host("127.0.0.1:8080")), "127.0.0.1:8080");
        assert_eq!(
            request_host(&host("alliance.example.org")),
            "alliance.example.org"
        );
        assert_eq!(request_host(&host("[::1]:8080")), "[::1]:8080");
        assert_eq!(request_host(&host("evil.example/path?x")), "localhost");
        assert_eq!(request_host(&host("a b")), "localhost");
        assert_eq!(request_host(&HeaderMap::new()), "localhost");
    }

    #[test]
    fn the_address_follows_the_public_url_else_the_request() {
        let path = "/feeds/af_00.ics";
        assert_eq!(
            links_for(
                Some("https://alliance.example.org/"),
                false,
                &host("127.0.0.1:8080"),
                path
            ),
            FeedLinks {
                url: "https://alliance.example.org/feeds/af_00.ics".into(),
                webcal: "webcal://alliance.example.org/feeds/af_00.ics".into(),
            }
        );
        assert_eq!(
            links_for(None, true, &host("alliance.example.org"), path).url,
            "https://alliance.example.org/feeds/af_00.ics"
        );
        assert_eq!(
            links_for(None, false, &host("127.0.0.1:8080"), path),
            FeedLinks {
                url: "http://127.0.0.1:8080/feeds/af_00.ics".into(),
                webcal: "webcal://127.0.0.1:8080/feeds/af_00.ics".into(),
            }
        );
    }
}
