//! The real server, started on a free port, on every engine.

use crate::alliance_binary;
use alliance_testkit::{TestDatabase, TestServer, backends, run};
use reqwest::StatusCode;
use serde_json::Value;

const NO_STORE_HEADERS: [(&str, &str); 4] = [
    ("cache-control", "no-store"),
    ("referrer-policy", "no-referrer"),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
];

fn assert_security_headers(response: &reqwest::Response, what: &str) {
    for (name, value) in NO_STORE_HEADERS {
        let got = response.headers().get(name).and_then(|v| v.to_str().ok());
        assert_eq!(got, Some(value), "{name} on {what}");
    }
    let csp = response
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"),
        "CSP on {what}: {csp}"
    );
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "CSP on {what}: {csp}"
    );
    assert!(
        response.headers().get("x-request-id").is_some(),
        "request id on {what}"
    );
}

async fn problem(response: reqwest::Response, status: StatusCode) -> anyhow::Result<Value> {
    assert_eq!(response.status(), status);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let request_id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body: Value = response.json().await?;
    assert_eq!(body["status"], status.as_u16());
    assert_eq!(
        body["request_id"],
        request_id.as_str(),
        "the body names the header's request id"
    );
    assert!(
        body["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("urn:alliance:problem:"))
    );
    Ok(body)
}

#[tokio::test]
async fn a_new_server_answers_health_pages_and_api() -> anyhow::Result<()> {
    for backend in backends() {
        let db = TestDatabase::new(backend).await?;
        let server = TestServer::start(&alliance_binary(), &db, &[]).await?;

        let health = server.get("/healthz").await?;
        assert_eq!(health.status(), StatusCode::OK);
        assert_security_headers(&health, "/healthz");
        let health: Value = health.json().await?;
        assert_eq!(health["status"], "ok");
        let engine = match backend {
            alliance_testkit::Backend::Sqlite => "sqlite",
            alliance_testkit::Backend::Postgres => "postgresql",
        };
        assert_eq!(health["database"], engine);

        let home = server.get("/").await?;
        assert_eq!(home.status(), StatusCode::OK);
        assert_security_headers(&home, "/");
        let html = home.text().await?;
        assert!(html.contains("<html lang=\"en-GB\">"));
        assert!(html.contains("Alliance is not set up yet"));
        assert!(
            !html.contains("Demo service"),
            "no demo banner without a demo"
        );

        let about = server.get("/about").await?.text().await?;
        assert!(about.contains(if engine == "sqlite" {
            "SQLite"
        } else {
            "PostgreSQL"
        }));
        assert!(about.contains("(Europe/London)"));

        let missing = problem(server.get("/api/v1/service").await?, StatusCode::NOT_FOUND).await?;
        assert!(
            missing["detail"]
                .as_str()
                .is_some_and(|d| d.contains("set up"))
        );

        let doc: Value = server.get("/api/v1/openapi.json").await?.json().await?;
        assert_eq!(doc["openapi"], "3.1.0");
        assert!(doc["paths"]["/api/v1/service"]["get"].is_object());
        assert!(doc["paths"]["/healthz"]["get"].is_object());
        server.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn errors_show_a_reference_and_no_internals() -> anyhow::Result<()> {
    for backend in backends() {
        let db = TestDatabase::new(backend).await?;
        let server = TestServer::start(&alliance_binary(), &db, &[]).await?;

        // A page that does not exist: an HTML page with the request id, and the headers.
        let page = server.get("/no/such/page").await?;
        assert_eq!(page.status(), StatusCode::NOT_FOUND);
        assert_security_headers(&page, "a missing page");
        let id = page
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let html = page.text().await?;
        assert!(
            html.contains(&id) && !id.is_empty(),
            "the page shows its reference"
        );
        assert!(html.contains("There is nothing here"));

        // The API answers in problem+json, whatever went wrong.
        problem(
            server.get("/api/v1/no-such-thing").await?,
            StatusCode::NOT_FOUND,
        )
        .await?;
        let wrong_method = server
            .client
            .delete(server.url("/api/v1/service"))
            .send()
            .await?;
        assert!(wrong_method.headers().get("allow").is_some());
        problem(wrong_method, StatusCode::METHOD_NOT_ALLOWED).await?;

        // A body over the limit is refused from its declared length, before it is read.
        let head = raw_request(
            &server.base,
            "POST /api/v1/service HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
             Content-Length: 2097152\r\nConnection: close\r\n\r\n",
        )
        .await?;
        assert!(head.starts_with("HTTP/1.1 413"), "{head}");
        assert!(head.contains("application/problem+json"), "{head}");

        // Hostile addresses never produce a server error.
        for path in [
            "/%00",
            "/..%2f..%2fetc%2fpasswd",
            "/static/..%2fCargo.toml",
            "/static/%2e%2e/alliance.css",
            "/api/v1/service?limit=-1&after=%27%20OR%201=1",
            "/api/v1/%F0%9F%92%A5",
            "/<script>alert(1)</script>",
        ] {
            let response = server.get(path).await?;
            assert!(
                response.status().is_client_error() || response.status().is_success(),
                "{path}: {}",
                response.status()
            );
            let body = response.text().await?;
            assert!(!body.contains("<script>alert"), "{path} echoed markup");
        }
        let long = format!("/{}", "a".repeat(8000));
        let response = server.get(&long).await?;
        assert!(!response.status().is_server_error());
        server.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn static_assets_are_embedded_and_cached() -> anyhow::Result<()> {
    let db = TestDatabase::new(alliance_testkit::Backend::Sqlite).await?;
    let server = TestServer::start(&alliance_binary(), &db, &[]).await?;
    let htmx = server.get("/static/htmx-2.0.11.min.js").await?;
    assert_eq!(htmx.status(), StatusCode::OK);
    let cache = htmx
        .headers()
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(cache.contains("immutable"), "{cache}");
    assert_eq!(
        htmx.headers()
            .get("x-content-type-options")
            .and_then(|v| v.to_str().ok()),
        Some("nosniff")
    );
    assert!(htmx.text().await?.contains("htmx"));
    let css = server.get("/static/alliance.css").await?;
    assert!(
        css.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("text/css"))
    );
    assert_eq!(
        server.get("/static/nothing.js").await?.status(),
        StatusCode::NOT_FOUND
    );
    server.stop().await;
    Ok(())
}

#[tokio::test]
async fn the_demo_fills_an_empty_database_once_and_shows_a_banner() -> anyhow::Result<()> {
    for backend in backends() {
        let db = TestDatabase::new(backend).await?;
        let binary = alliance_binary();
        let owner = db.owner_args();
        let mut args: Vec<&str> = owner.iter().map(String::as_str).collect();
        args.extend(["demo", "--seed", "7"]);
        let made = run(&binary, &args).await?;
        assert!(made.success, "{}", made.stderr);
        assert!(made.stdout.contains("(demo)"), "{}", made.stdout);

        // Demo data never goes into a database that holds a service.
        let mut args: Vec<&str> = owner.iter().map(String::as_str).collect();
        args.push("demo");
        let again = run(&binary, &args).await?;
        assert!(!again.success);
        assert!(
            again.stderr.contains("already holds a service"),
            "{}",
            again.stderr
        );

        let server = TestServer::start(&binary, &db, &[]).await?;
        let service: Value = server.get("/api/v1/service").await?.json().await?;
        assert_eq!(service["is_demo"], true);
        assert_eq!(service["version"], 1);
        let name = service["name"].as_str().unwrap_or("").to_owned();
        assert!(name.ends_with("(demo)"), "{name}");
        let home = server.get("/").await?.text().await?;
        assert!(home.contains("Demo service: every person and record here is made up"));
        assert!(home.contains(&name.replace('\'', "&#39;")));
        server.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn serve_with_demo_generates_then_serves_and_restarts_cleanly() -> anyhow::Result<()> {
    let db = TestDatabase::new(alliance_testkit::Backend::Sqlite).await?;
    let data = db.data_path().display().to_string();
    let binary = alliance_binary();
    for _ in 0..2 {
        let server = TestServer::spawn(
            &binary,
            &["--data", &data, "serve", "--demo", "--bind", "127.0.0.1:0"],
        )
        .await?;
        let service: Value = server.get("/api/v1/service").await?.json().await?;
        assert_eq!(service["is_demo"], true);
        server.stop().await;
    }
    assert!(
        db.data_path().join("alliance.sqlite3").exists(),
        "the default database is in the data folder"
    );
    Ok(())
}

/// Sends raw bytes and returns what comes back, for requests a well-behaved client won't make.
async fn raw_request(base: &str, request: &str) -> anyhow::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await?;
    stream.write_all(request.as_bytes()).await?;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut answer),
    )
    .await;
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

#[tokio::test]
async fn behind_https_every_answer_carries_hsts() -> anyhow::Result<()> {
    let db = TestDatabase::new(alliance_testkit::Backend::Sqlite).await?;
    let plain = TestServer::start(&alliance_binary(), &db, &[]).await?;
    assert!(
        plain
            .get("/")
            .await?
            .headers()
            .get("strict-transport-security")
            .is_none()
    );
    plain.stop().await;
    let secure = TestServer::start(&alliance_binary(), &db, &["--https"]).await?;
    for path in ["/", "/healthz", "/nowhere", "/static/alliance.css"] {
        let response = secure.get(path).await?;
        let hsts = response
            .headers()
            .get("strict-transport-security")
            .and_then(|v| v.to_str().ok());
        assert!(
            hsts.is_some_and(|h| h.starts_with("max-age=")),
            "{path}: {hsts:?}"
        );
    }
    secure.stop().await;
    Ok(())
}
