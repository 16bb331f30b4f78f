//! Alliance's web layer: HTML pages for people and the JSON API under `/api/v1`, from one
//! axum router.
//!
//! This crate establishes who is calling and turns requests into use-case calls; it never
//! decides access (the core does) and never touches SQL (the storage crates do). Every error
//! response is rendered in one place ([`respond::finish`]): HTML pages for people,
//! `application/problem+json` for the API, each naming the request id and no internals.

pub mod api;
mod assets;
pub mod auth;
mod errors;
pub mod export;
pub mod extract;
mod headers;
mod pages;
mod pdf;
pub mod problem;
pub mod respond;

use alliance_service::Alliance;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use std::sync::Arc;
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

/// The largest request body accepted anywhere (uploads that need more get their own limit).
pub const BODY_LIMIT_BYTES: usize = 1024 * 1024;

/// How the server is reached, which changes the headers it sends.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// True when clients reach Alliance over HTTPS (directly or through a proxy that
    /// terminates TLS): responses then carry Strict-Transport-Security.
    pub https: bool,
    /// True when browsers see a secure context (HTTPS, or this machine): the session cookie is
    /// then `__Host-` and `Secure`. False only for plain HTTP beyond this machine.
    pub secure_cookies: bool,
    /// Where staff reach Alliance (`https://alliance.example.org`, the configured `public_url`),
    /// for addresses shown to be used elsewhere (a calendar feed's). Without it, the address
    /// the request came to is used.
    pub public_url: Option<String>,
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub alliance: Alliance,
    pub config: Arc<WebConfig>,
}

/// The whole application: pages, API, static assets and the layers every response passes.
pub fn router(alliance: Alliance, config: WebConfig) -> Router {
    let state = AppState {
        alliance,
        config: Arc::new(config),
    };
    let (api, _openapi) = api::router().split_for_parts();
    Router::new()
        .merge(pages::router())
        .merge(api)
        .fallback(respond::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        // Static assets need no credentials: no session is looked up for them.
        .merge(assets::router())
        .with_state(state.clone())
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT_BYTES))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(60),
        ))
        .layer(CatchPanicLayer::custom(respond::panicked))
        .layer(axum::middleware::from_fn_with_state(state, respond::finish))
}

/// Serves `app` on `listener` until `shutdown` completes, finishing requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
