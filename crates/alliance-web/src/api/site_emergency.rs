//! API (issue 16, helper B).

use crate::AppState;
use utoipa_axum::router::OpenApiRouter;

/// Registers this area's routes (each with `routes!`, so each is documented).
pub(crate) fn register(router: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    router
}
