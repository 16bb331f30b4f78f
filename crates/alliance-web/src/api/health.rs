//! `GET /healthz`: is this process up, and can it reach its database?

use crate::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or `unavailable` when the database cannot be reached.
    pub status: &'static str,
    /// `sqlite` or `postgresql`.
    pub database: &'static str,
}

/// Health check for load balancers and monitoring. Says nothing about the service's data.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "system",
    responses(
        (status = 200, description = "Up, and the database answers", body = Health),
        (status = 503, description = "Up, but the database does not answer", body = Health),
    )
)]
pub async fn healthz(State(state): State<AppState>) -> Response {
    let store = state.alliance.store();
    let database = store.kind().name();
    match store.ping().await {
        Ok(()) => Json(Health {
            status: "ok",
            database,
        })
        .into_response(),
        Err(err) => {
            tracing::warn!(%err, "health check: database unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Health {
                    status: "unavailable",
                    database,
                }),
            )
                .into_response()
        }
    }
}
