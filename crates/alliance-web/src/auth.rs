//! Who is calling, established once per request: a browser session (cookie) or an API token
//! (bearer). Also the checks every state-changing request passes: same-origin
//! (`Sec-Fetch-Site`, `Origin`) and, for cookie sessions, the per-session CSRF token (a hidden
//! `_csrf` field or the `X-CSRF-Token` header, which htmx sends). Deciding what the caller may
//! do is not done here: the use-cases ask the core.
//!
//! A form submitted on a session that has timed out is not lost: its fields are kept, sealed,
//! for their author, who gets them back after signing in again.

use crate::AppState;
use crate::problem::{ApiError, Problem};
use crate::respond::{Failure, is_api_path};
use alliance_core::audit::Origin;
use alliance_core::identity::User;
use alliance_service::{Actor, AppError, SessionRecord, SessionState, Via};
use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

/// What this request's credentials amount to.
#[derive(Debug, Clone)]
pub enum Auth {
    Anonymous,
    /// Password done; second factor (or its enrolment) to come.
    Partial {
        user: Box<User>,
        session: Box<SessionRecord>,
    },
    Signed(Box<Actor>),
}

impl Auth {
    /// The browser session this request came with (its token's hash and its user), signed
    /// in or half-way; `None` for an API token or nobody. What signing out ends.
    pub fn browser_session(&self) -> Option<(String, alliance_core::identity::UserId)> {
        match self {
            Auth::Signed(actor) => match &actor.via {
                alliance_service::Via::Session { token_hash, .. } => {
                    Some((token_hash.clone(), actor.user.id))
                }
                alliance_service::Via::Token { .. } => None,
            },
            Auth::Partial { session, user } => Some((session.token_hash.clone(), user.id)),
            Auth::Anonymous => None,
        }
    }
}

/// The cookie's name: `__Host-` (Secure, this host only, path /) wherever the browser is on a
/// secure context (HTTPS, or this machine); a plain name only with `--insecure-http`.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-alliance"
    } else {
        "alliance"
    }
}

pub fn session_cookie(secure: bool, token: &str) -> HeaderValue {
    let attributes = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Lax{attributes}",
        cookie_name(secure)
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub fn clear_cookie(secure: bool) -> HeaderValue {
    let attributes = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{attributes}",
        cookie_name(secure)
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub(crate) fn read_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// Where a request came from, for the audit trail and throttling: its request id and the
/// client's address as this process saw it (a proxy's, behind one).
pub fn origin_of(parts: &Parts) -> Origin {
    Origin {
        request_id: parts
            .extensions
            .get::<crate::respond::RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_default(),
        address: parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_else(|| "unknown".to_owned()),
    }
}

/// A handler argument: where this request came from.
pub struct RequestOrigin(pub Origin);

impl<S: Send + Sync> FromRequestParts<S> for RequestOrigin {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(RequestOrigin(origin_of(parts)))
    }
}

fn is_unsafe(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Refuses a state-changing request that a browser says came from another site. Browsers
/// that send `Sec-Fetch-Site` are believed; otherwise a real `Origin` must match the host.
/// (`Origin: null` is what browsers send for our own forms too, because every page says
/// `Referrer-Policy: no-referrer`; the session's CSRF token covers that case.)
fn cross_site(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return !matches!(site, "same-origin" | "none");
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok())
        && origin != "null"
    {
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let origin_host = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"))
            .unwrap_or("\u{0}");
        return origin_host != host;
    }
    false
}

fn forbidden(api: bool, message: &str) -> Response {
    let mut response = StatusCode::FORBIDDEN.into_response();
    response.extensions_mut().insert(if api {
        Failure::Api(Problem::for_status(StatusCode::FORBIDDEN).detail(message))
    } else {
        Failure::Page {
            status: StatusCode::FORBIDDEN,
            message: message.to_owned(),
        }
    });
    response
}

/// Constant-time comparison, so the CSRF check leaks nothing through timing.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

/// The middleware: authenticate, check origin and CSRF, keep forms from expired sessions.
pub async fn authenticate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let origin = origin_of(&parts);
    let api = is_api_path(&path);
    let unsafe_method = is_unsafe(&parts.method);

    if unsafe_method && cross_site(&parts.headers) {
        return forbidden(api, "This request came from another site and was refused.");
    }

    // An API token: no cookie, so no cross-site request can carry it; no CSRF check needed.
    if let Some(token) = bearer(&parts.headers) {
        let auth = match state.alliance.authenticate_token(token, &origin).await {
            Ok(actor) => Auth::Signed(Box::new(actor)),
            Err(AppError::Unauthenticated) => {
                return ApiError::from(
                    Problem::for_status(StatusCode::UNAUTHORIZED)
                        .detail("The API token is not valid, has expired or was revoked."),
                )
                .into_response();
            }
            Err(err) => return crate::errors::api(err).into_response(),
        };
        parts.extensions.insert(auth);
        return next.run(Request::from_parts(parts, body)).await;
    }

    let secure = state.config.secure_cookies;
    let cookie = read_cookie(&parts.headers, cookie_name(secure)).map(str::to_owned);
    let session = match &cookie {
        Some(token) => match state.alliance.session_state(token, &origin).await {
            Ok(s) => s,
            Err(err) => return crate::errors::page_or_api(err, api),
        },
        None => SessionState::Invalid,
    };

    let (auth, csrf) = match session {
        SessionState::Active(actor) => {
            let csrf = match &actor.via {
                Via::Session { csrf_token, .. } => Some(csrf_token.clone()),
                Via::Token { .. } => None,
            };
            (Auth::Signed(Box::new(actor)), csrf)
        }
        SessionState::AwaitingSecondFactor { user, session } => {
            let csrf = Some(session.csrf_token.clone());
            (
                Auth::Partial {
                    user: Box::new(user),
                    session: Box::new(session),
                },
                csrf,
            )
        }
        SessionState::Expired { user_id, .. } => {
            // A carer's answer on a consent or feedback link, and a child's on the kiosk,
            // need no session: they are never kept for whoever last signed in on this browser.
            let public = ["/consent", "/kiosk", "/feedback"]
                .iter()
                .any(|p| path == *p || path.starts_with(&format!("{p}/")));
            if unsafe_method && !api && !public && is_form(&parts.headers) {
                let background = parts.headers.contains_key("hx-request");
                return keep_expired_form(&state, user_id, &path, background, body).await;
            }
            (Auth::Anonymous, None)
        }
        SessionState::Invalid => (Auth::Anonymous, None),
    };

    // Signing in and the first-run setup start a session rather than act on one: they need no
    // session token (a half-finished sign-in must not block a fresh one); the same-origin
    // check above still guards them.
    let starts_session = path == "/sign-in" || path == "/setup";
    let body = if unsafe_method
        && !starts_session
        && let Some(expected) = csrf
    {
        match check_csrf(&parts.headers, body, &expected).await {
            Ok(body) => body,
            Err(()) => {
                return forbidden(
                    api,
                    "This form has expired or did not come from Alliance. Go back, reload the page and try again.",
                );
            }
        }
    } else {
        body
    };
    parts.extensions.insert(auth);
    next.run(Request::from_parts(parts, body)).await
}

/// Checks the request's CSRF token (header, or the `_csrf` field of a form), handing back the
/// body it had to read.
async fn check_csrf(headers: &HeaderMap, body: Body, expected: &str) -> Result<Body, ()> {
    if let Some(sent) = headers.get("x-csrf-token").and_then(|v| v.to_str().ok()) {
        return if same_secret(sent, expected) {
            Ok(body)
        } else {
            Err(())
        };
    }
    if !is_form(headers) {
        return Err(());
    }
    let bytes = axum::body::to_bytes(body, crate::BODY_LIMIT_BYTES)
        .await
        .map_err(|_| ())?;
    let sent = form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == "_csrf")
        .map(|(_, v)| v.into_owned());
    match sent {
        Some(sent) if same_secret(&sent, expected) => Ok(Body::from(bytes)),
        _ => Err(()),
    }
}

/// Keeps the form and sends its author to sign in again. A form htmx sent in the background
/// (a record saved as it is typed) moves the whole page on (`HX-Redirect`): a redirect would
/// be followed inside the background request and the sign-in page swapped into a corner of
/// this one, and the next submit, with the session already ended, would not be kept.
async fn keep_expired_form(
    state: &AppState,
    user_id: alliance_core::identity::UserId,
    path: &str,
    background: bool,
    body: Body,
) -> Response {
    let Ok(bytes): Result<Bytes, _> = axum::body::to_bytes(body, crate::BODY_LIMIT_BYTES).await
    else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    // Passwords and codes are never kept: they are typed again.
    let fields: Vec<(String, String)> = form_urlencoded::parse(&bytes)
        .filter(|(k, _)| k != "_csrf" && !k.contains("password") && k != "code")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    match state.alliance.keep_form(user_id, path, &fields).await {
        Ok(token) => {
            let to = format!("/sign-in?resume={token}");
            let mut response = match HeaderValue::from_str(&to) {
                Ok(location) if background => {
                    ([(header::HeaderName::from_static("hx-redirect"), location)]).into_response()
                }
                _ => Redirect::to(&to).into_response(),
            };
            response.headers_mut().insert(
                header::SET_COOKIE,
                clear_cookie(state.config.secure_cookies),
            );
            response
        }
        Err(err) => crate::errors::page_or_api(err, false),
    }
}

/// A handler argument: the signed-in actor. Pages without one redirect to the sign-in page
/// (and back afterwards); the API answers 401.
pub struct Signed(pub Actor);

/// Why [`Signed`] was refused.
pub enum NotSigned {
    Page { back_to: String },
    Api,
}

impl IntoResponse for NotSigned {
    fn into_response(self) -> Response {
        match self {
            NotSigned::Api => {
                let mut response = ApiError::from(
                    Problem::for_status(StatusCode::UNAUTHORIZED)
                        .detail("Sign in, or send an API token as Authorization: Bearer."),
                )
                .into_response();
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"alliance\""),
                );
                response
            }
            NotSigned::Page { back_to } => Redirect::to(&format!(
                "/sign-in?next={}",
                form_urlencoded::byte_serialize(back_to.as_bytes()).collect::<String>()
            ))
            .into_response(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Signed {
    type Rejection = NotSigned;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Auth>() {
            Some(Auth::Signed(actor)) => Ok(Signed((**actor).clone())),
            _ if is_api_path(parts.uri.path()) => Err(NotSigned::Api),
            Some(Auth::Partial { .. }) => Err(NotSigned::Page {
                back_to: "/sign-in/code".to_owned(),
            }),
            _ => Err(NotSigned::Page {
                back_to: if parts.method == Method::GET {
                    parts
                        .uri
                        .path_and_query()
                        .map(|p| p.as_str().to_owned())
                        .unwrap_or_default()
                } else {
                    "/".to_owned()
                },
            }),
        }
    }
}

/// A handler argument: whatever the credentials amount to (nothing is required).
pub struct CurrentAuth(pub Auth);

impl<S: Send + Sync> FromRequestParts<S> for CurrentAuth {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(CurrentAuth(
            parts
                .extensions
                .get::<Auth>()
                .cloned()
                .unwrap_or(Auth::Anonymous),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn cross_site_requests_are_recognised() {
        assert!(cross_site(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(cross_site(&headers(&[("sec-fetch-site", "same-site")])));
        assert!(!cross_site(&headers(&[("sec-fetch-site", "same-origin")])));
        assert!(cross_site(&headers(&[
            ("origin", "https://evil.example"),
            ("host", "alliance.example")
        ])));
        // Our own forms arrive with Origin: null (no-referrer); the browser's Sec-Fetch-Site
        // decides, and without it the session's CSRF token does.
        assert!(!cross_site(&headers(&[
            ("origin", "null"),
            ("sec-fetch-site", "same-origin")
        ])));
        assert!(cross_site(&headers(&[
            ("origin", "null"),
            ("sec-fetch-site", "cross-site")
        ])));
        assert!(!cross_site(&headers(&[
            ("origin", "null"),
            ("host", "alliance.example")
        ])));
        assert!(!cross_site(&headers(&[
            ("origin", "https://alliance.example"),
            ("host", "alliance.example")
        ])));
        assert!(!cross_site(&headers(&[])));
    }

    #[test]
    fn cookies_are_read_by_exact_name() {
        let h = headers(&[("cookie", "x=1; __Host-alliance=as_abc; alliance=other")]);
        assert_eq!(read_cookie(&h, "__Host-alliance"), Some("as_abc"));
        assert_eq!(read_cookie(&h, "alliance"), Some("other"));
        assert_eq!(read_cookie(&h, "missing"), None);
        assert!(
            session_cookie(true, "as_x")
                .to_str()
                .unwrap_or("")
                .contains("; Secure")
        );
        assert!(
            session_cookie(true, "as_x")
                .to_str()
                .unwrap_or("")
                .contains("HttpOnly")
        );
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
    }
}
