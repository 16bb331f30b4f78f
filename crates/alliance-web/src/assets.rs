//! Static assets, embedded in the binary.

use crate::AppState;
use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub const PREFIX: &str = "/static/";

struct Asset {
    name: &'static str,
    content_type: &'static str,
    /// Versioned names never change content and may be cached for good.
    immutable: bool,
    bytes: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "htmx-2.0.11.min.js",
        content_type: "text/javascript; charset=utf-8",
        immutable: true,
        bytes: include_bytes!("../static/htmx-2.0.11.min.js"),
    },
    Asset {
        name: "alliance.css",
        content_type: "text/css; charset=utf-8",
        immutable: false,
        bytes: include_bytes!("../static/alliance.css"),
    },
    Asset {
        name: "alliance.js",
        content_type: "text/javascript; charset=utf-8",
        immutable: false,
        bytes: include_bytes!("../static/alliance.js"),
    },
    // The child's check-in (issue 17): reading each question aloud.
    Asset {
        name: "kiosk.js",
        content_type: "text/javascript; charset=utf-8",
        immutable: false,
        bytes: include_bytes!("../static/kiosk.js"),
    },
];

pub fn router() -> Router<AppState> {
    Router::new().route("/static/{name}", get(serve))
}

async fn serve(Path(name): Path<String>) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.name == name) else {
        return crate::respond::not_found().await;
    };
    let cache = if asset.immutable {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=300"
    };
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
        asset.bytes,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    /// Recorded in `static/README.md` when htmx was vendored.
    const HTMX_SHA256: &str = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717";

    #[test]
    fn the_vendored_htmx_is_the_pinned_release() {
        let htmx = ASSETS.iter().find(|a| a.name == "htmx-2.0.11.min.js");
        let digest = htmx.map(|a| Sha256::digest(a.bytes)).unwrap_or_default();
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, HTMX_SHA256);
        let layout = include_str!("../templates/base.html");
        assert!(layout.contains("/static/htmx-2.0.11.min.js"));
    }
}
