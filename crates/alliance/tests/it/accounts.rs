//! Accounts, sign-in, sessions, tokens and CSRF: every rule tested from the denied side too
//! (policy sections 1, 6 and 7), against the real server on both engines.

use crate::{alliance_binary, execute_as_owner};
use alliance_core::auth::totp;
use alliance_testkit::{
    Backend, Browser, Page, TestDatabase, TestServer, backends, run, run_with_input,
};
use jiff::Timestamp;
use reqwest::StatusCode;
use serde_json::{Value, json};

const ADMIN_PASSWORD: &str = "lantern orchard pebble";
pub(crate) const PASSWORD: &str = "harbour kestrel saffron";

/// A started service with an administrator made on the command line and a read-write API
/// token for them.
pub(crate) struct Service {
    pub(crate) db: TestDatabase,
    pub(crate) server: TestServer,
    pub(crate) admin_token: String,
}

impl Service {
    pub(crate) async fn start(backend: Backend) -> anyhow::Result<Self> {
        Self::start_with(backend, &[]).await
    }

    /// The same, with extra `serve` options.
    pub(crate) async fn start_with(backend: Backend, serve: &[&str]) -> anyhow::Result<Self> {
        let db = TestDatabase::new(backend).await?;
        let server = TestServer::start(&alliance_binary(), &db, serve).await?;
        let data = db.data_path().display().to_string();
        let added = run_with_input(
            &alliance_binary(),
            &[
                "--data",
                &data,
                "--database",
                &db.app_url,
                "user",
                "add",
                "--username",
                "admin",
                "--display-name",
                "Ada Admin",
                "--role",
                "administrator",
                "--password-stdin",
            ],
            &format!("{ADMIN_PASSWORD}\n"),
        )
        .await?;
        assert!(added.success, "user add: {}", added.stderr);
        let token = run(
            &alliance_binary(),
            &[
                "--data",
                &data,
                "--database",
                &db.app_url,
                "token",
                "create",
                "--username",
                "admin",
                "--scope",
                "read-write",
            ],
        )
        .await?;
        assert!(token.success, "token create: {}", token.stderr);
        let admin_token = token.stdout.trim().to_owned();
        assert!(admin_token.starts_with("at_"), "{admin_token}");
        Ok(Self {
            db,
            server,
            admin_token,
        })
    }

    pub(crate) async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let mut request = self
            .server
            .client
            .request(method, self.server.url(path))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let status = response.status();
        let text = response.text().await?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    /// Opens an account through the API, as the administrator.
    pub(crate) async fn add_user(&self, username: &str, roles: &[&str]) -> anyhow::Result<Value> {
        let (status, body) = self
            .api(
                reqwest::Method::POST,
                "/api/v1/users",
                &self.admin_token,
                Some(
                    json!({"username": username, "display_name": format!("{username} person"),
                            "password": PASSWORD, "roles": roles}),
                ),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        Ok(body)
    }

    pub(crate) async fn token_for(&self, username: &str, scope: &str) -> anyhow::Result<String> {
        let data = self.db.data_path().display().to_string();
        let out = run(
            &alliance_binary(),
            &[
                "--data",
                &data,
                "--database",
                &self.db.app_url,
                "token",
                "create",
                "--username",
                username,
                "--scope",
                scope,
            ],
        )
        .await?;
        assert!(out.success, "{}", out.stderr);
        Ok(out.stdout.trim().to_owned())
    }
}

fn code_for(secret: &[u8], offset_steps: i64) -> String {
    let at = Timestamp::now()
        .checked_add(jiff::SignedDuration::from_secs(30 * offset_steps))
        .unwrap_or_else(|_| Timestamp::now());
    totp::code_at(secret, at).unwrap_or_default()
}

/// Signs in a user who has no second factor yet and sets one up; returns its secret.
pub(crate) async fn sign_in_and_enrol(
    browser: &mut Browser,
    username: &str,
    password: &str,
) -> anyhow::Result<Vec<u8>> {
    Ok(sign_in_and_enrol_with_codes(browser, username, password)
        .await?
        .0)
}

/// As [`sign_in_and_enrol`], also returning the recovery codes shown once.
async fn sign_in_and_enrol_with_codes(
    browser: &mut Browser,
    username: &str,
    password: &str,
) -> anyhow::Result<(Vec<u8>, Vec<String>)> {
    let page = browser
        .post(
            "/sign-in",
            &[("username", username), ("password", password)],
        )
        .await?;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(page.location(), Some("/account/two-factor"));
    let page = browser.get("/account/two-factor").await?;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<svg"), "the QR code is drawn");
    let secret_text = page.input("secret").unwrap_or_default();
    let csrf = page.input("_csrf").unwrap_or_default();
    let secret = totp::decode_base32(&secret_text).unwrap_or_default();
    let code = code_for(&secret, 0);
    let page = browser
        .post(
            "/account/two-factor",
            &[("_csrf", &csrf), ("secret", &secret_text), ("code", &code)],
        )
        .await?;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Your recovery codes"));
    let codes: Vec<String> = page
        .body
        .split("<li><code>")
        .skip(1)
        .filter_map(|c| c.split("</code>").next())
        .map(str::to_owned)
        .collect();
    assert_eq!(codes.len(), 10);
    Ok((secret, codes))
}

/// Signs in with a password and a code; returns the final page.
async fn sign_in_with_code(
    browser: &mut Browser,
    username: &str,
    password: &str,
    code: &str,
) -> anyhow::Result<Page> {
    let page = browser
        .post(
            "/sign-in",
            &[("username", username), ("password", password)],
        )
        .await?;
    assert_eq!(page.location(), Some("/sign-in/code"), "{}", page.body);
    let form = browser.get("/sign-in/code").await?;
    let csrf = form.input("_csrf").unwrap_or_default();
    browser
        .post("/sign-in/code", &[("_csrf", &csrf), ("code", code)])
        .await
}

/// The CSRF token of the signed-in session, from any page's forms.
async fn csrf_of(browser: &mut Browser) -> anyhow::Result<String> {
    let page = browser.get("/account").await?;
    assert_eq!(page.status, 200, "not signed in: {}", page.body);
    Ok(page.input("_csrf").unwrap_or_default())
}

#[tokio::test]
async fn first_run_setup_needs_the_printed_code_and_closes_after_use() -> anyhow::Result<()> {
    for backend in backends() {
        let db = TestDatabase::new(backend).await?;
        let server = TestServer::start(&alliance_binary(), &db, &[]).await?;
        let mut browser = Browser::new(&server);
        let page = browser.get("/setup").await?;
        assert_eq!(page.status, 200);
        assert!(page.body.contains("One-time set-up code"));
        // A wrong code is refused, with the field named, and nothing is created.
        let wrong = browser
            .post(
                "/setup",
                &[
                    ("code", "aaaaa-aaaaa"),
                    ("service_name", "Riverside"),
                    ("nation", "england"),
                    ("display_name", "Ada"),
                    ("username", "ada"),
                    ("password", ADMIN_PASSWORD),
                    ("roles", "administrator"),
                ],
            )
            .await?;
        assert_eq!(wrong.status, 422, "{backend:?}");
        assert!(wrong.body.contains("set-up code is not right"));
        assert!(
            !wrong.body.contains(ADMIN_PASSWORD),
            "the password is not echoed back"
        );
        // A cross-site post is refused before anything is looked at.
        let forged = browser
            .post_with(
                "/setup",
                &[("code", "x")],
                &[("origin", "https://evil.example")],
            )
            .await?;
        assert_eq!(forged.status, 403);
        server.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn setup_creates_the_first_administrator_then_is_gone() -> anyhow::Result<()> {
    let db = TestDatabase::new(Backend::Sqlite).await?;
    let data = db.data_path().display().to_string();
    let binary = alliance_binary();
    let mut child = tokio::process::Command::new(&binary)
        .args(["--data", &data, "serve", "--bind", "127.0.0.1:0"])
        .env("ALLIANCE_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    use tokio::io::AsyncBufReadExt;
    let mut lines = tokio::io::BufReader::new(
        child
            .stdout
            .take()
            .ok_or_else(|| anyhow::anyhow!("stdout"))?,
    )
    .lines();
    let mut code = String::new();
    let mut base = String::new();
    while let Some(line) = lines.next_line().await? {
        if let Some(rest) = line.split("one-time code ").nth(1) {
            code = rest.split(' ').next().unwrap_or("").to_owned();
        }
        if let Some(rest) = line.strip_prefix("Alliance is listening on ") {
            base = rest.split(' ').next().unwrap_or("").to_owned();
            break;
        }
    }
    assert!(
        !code.is_empty(),
        "a set-up code is printed while no user exists"
    );
    let server_client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let post = |fields: Vec<(&'static str, String)>| {
        let client = server_client.clone();
        let url = format!("{base}/setup");
        let origin = base.clone();
        async move {
            let body: String = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(fields.iter().map(|(k, v)| (*k, v.as_str())))
                .finish();
            client
                .post(url)
                .header("origin", origin)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
        }
    };
    let fields = vec![
        ("code", code.clone()),
        ("service_name", "Riverside Play Therapy".to_owned()),
        ("nation", "wales".to_owned()),
        ("display_name", "Ada Admin".to_owned()),
        ("username", "ada".to_owned()),
        ("password", ADMIN_PASSWORD.to_owned()),
        ("roles", "administrator".to_owned()),
        ("roles", "service-lead".to_owned()),
    ];
    let done = post(fields.clone()).await?;
    assert_eq!(done.status(), 303);
    assert_eq!(
        done.headers().get("location").and_then(|v| v.to_str().ok()),
        Some("/account/two-factor")
    );
    // Once a user exists the page is gone, and the code cannot be used again.
    let again = post(fields).await?;
    assert_eq!(again.status(), 404);
    let page = server_client.get(format!("{base}/setup")).send().await?;
    assert_eq!(page.status(), 404);
    let service: Value = server_client
        .get(format!("{base}/api/v1/service"))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(service["nation"], "wales");
    assert_eq!(service["is_demo"], false);
    child.kill().await?;
    Ok(())
}

#[tokio::test]
async fn sign_in_with_password_and_second_factor_and_its_refusals() -> anyhow::Result<()> {
    for backend in backends() {
        let service = Service::start(backend).await?;
        service.add_user("tess", &["therapist"]).await?;
        let mut browser = Browser::new(&service.server);

        // A therapist must set up a second factor before anything else opens.
        let secret = sign_in_and_enrol(&mut browser, "tess", PASSWORD).await?;
        let home = browser.get("/").await?;
        assert!(home.body.contains("Welcome, tess person"), "{backend:?}");
        let cookie = browser.cookie.clone().unwrap_or_default();
        assert!(cookie.starts_with("__Host-alliance="), "{cookie}");

        // Sign out, then in again with a code: it works once; the same code is refused after.
        let csrf = csrf_of(&mut browser).await?;
        let out = browser.post("/sign-out", &[("_csrf", &csrf)]).await?;
        assert_eq!(out.status, 303);
        assert!(
            browser
                .get("/account")
                .await?
                .location()
                .is_some_and(|l| l.starts_with("/sign-in"))
        );
        let code = code_for(&secret, 1);
        let done = sign_in_with_code(&mut browser, "tess", PASSWORD, &code).await?;
        assert_eq!(done.status, 303, "{}", done.body);
        assert_eq!(done.location(), Some("/"));
        let csrf = csrf_of(&mut browser).await?;
        browser.post("/sign-out", &[("_csrf", &csrf)]).await?;
        let replay = sign_in_with_code(&mut browser, "tess", PASSWORD, &code).await?;
        assert_eq!(
            replay.status, 401,
            "{backend:?}: a TOTP code is not accepted twice"
        );
        assert!(replay.body.contains("That code is not right"));
        // The half-signed-in session opens nothing.
        let account = browser.get("/account").await?;
        assert_eq!(account.location(), Some("/sign-in?next=%2Fsign-in%2Fcode"));
        let api = browser.get("/api/v1/me").await?;
        assert_eq!(api.status, 401);
        service.server.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn wrong_password_and_unknown_user_look_the_same_and_throttling_follows() -> anyhow::Result<()>
{
    for backend in backends() {
        let service = Service::start(backend).await?;
        service.add_user("tess", &["therapist"]).await?;
        let mut browser = Browser::new(&service.server);

        let started = std::time::Instant::now();
        let wrong = browser
            .post(
                "/sign-in",
                &[
                    ("username", "tess"),
                    ("password", "not the password at all"),
                ],
            )
            .await?;
        let wrong_time = started.elapsed();
        let started = std::time::Instant::now();
        let unknown = browser
            .post(
                "/sign-in",
                &[
                    ("username", "nobody-here"),
                    ("password", "not the password at all"),
                ],
            )
            .await?;
        let unknown_time = started.elapsed();
        assert_eq!(wrong.status, 401);
        assert_eq!(unknown.status, 401);
        let message = "The username or password is not right.";
        assert!(wrong.body.contains(message) && unknown.body.contains(message));
        let strip = |p: &Page| p.body.replace("nobody-here", "").replace("tess", "");
        assert_eq!(
            strip(&wrong),
            strip(&unknown),
            "{backend:?}: the two refusals differ"
        );
        // An unknown user costs a password hash too (a decoy), so timing does not tell them
        // apart: far from instant compared with a real check.
        assert!(
            unknown_time.as_secs_f64() > wrong_time.as_secs_f64() * 0.3,
            "unknown user answered in {unknown_time:?}, wrong password in {wrong_time:?}"
        );

        // Five failures for the account in 15 minutes: the next attempt must wait, even with
        // the right password.
        for _ in 0..3 {
            browser
                .post(
                    "/sign-in",
                    &[("username", "tess"), ("password", "still not it at all")],
                )
                .await?;
        }
        let throttled = browser
            .post("/sign-in", &[("username", "tess"), ("password", PASSWORD)])
            .await?;
        assert_eq!(throttled.status, 401, "{backend:?}");
        assert!(
            throttled.body.contains("Too many attempts"),
            "{}",
            throttled.body
        );
        service.server.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn a_form_submitted_on_an_idle_session_is_kept_and_completes_after_signing_in()
-> anyhow::Result<()> {
    for backend in backends() {
        let service = Service::start(backend).await?;
        let tess = service.add_user("tess", &["therapist"]).await?;
        let mut browser = Browser::new(&service.server);
        let secret = sign_in_and_enrol(&mut browser, "admin", ADMIN_PASSWORD).await?;
        let id = tess["id"].as_str().unwrap_or_default().to_owned();
        let form = browser.get(&format!("/admin/users/{id}")).await?;
        assert_eq!(form.status, 200);
        let csrf = form.input("_csrf").unwrap_or_default();
        let version = form.input("version").unwrap_or_default();

        // Thirty-one minutes without a request: the session has gone idle.
        execute_as_owner(
            &service.db,
            "UPDATE sessions SET last_seen_at = last_seen_at - 1860000000",
        )
        .await?;
        let kept = browser
            .post(
                &format!("/admin/users/{id}"),
                &[
                    ("_csrf", &csrf),
                    ("version", &version),
                    ("display_name", "Tess Renamed"),
                    ("roles", "therapist"),
                    ("registration", "bapt"),
                ],
            )
            .await?;
        assert_eq!(kept.status, 303, "{backend:?}: {}", kept.body);
        let to = kept.location().unwrap_or_default().to_owned();
        assert!(to.starts_with("/sign-in?resume=ar_"), "{to}");
        let still = service
            .api(
                reqwest::Method::GET,
                &format!("/api/v1/users/{id}"),
                &service.admin_token,
                None,
            )
            .await?;
        assert_eq!(
            still.1["display_name"], "tess person",
            "nothing was saved on the idle session"
        );
        assert!(
            browser
                .get("/account")
                .await?
                .location()
                .is_some_and(|l| l.starts_with("/sign-in"))
        );
        let sign_in = browser.get(&to).await?;
        assert!(
            sign_in.body.contains("They are kept"),
            "the sign-in page says the changes are kept"
        );

        // Signing in again brings the form back; saving it completes the change.
        let resume = to.trim_start_matches("/sign-in?resume=").to_owned();
        let page = browser
            .post(
                "/sign-in",
                &[
                    ("username", "admin"),
                    ("password", ADMIN_PASSWORD),
                    ("resume", &resume),
                ],
            )
            .await?;
        let code_page = browser.get(page.location().unwrap_or("/")).await?;
        assert_eq!(code_page.input("resume").as_deref(), Some(resume.as_str()));
        let csrf = code_page.input("_csrf").unwrap_or_default();
        let code = code_for(&secret, 1);
        let done = browser
            .post(
                "/sign-in/code",
                &[("_csrf", &csrf), ("code", &code), ("resume", &resume)],
            )
            .await?;
        let back = done.location().unwrap_or_default().to_owned();
        assert!(back.starts_with("/resume?token="), "{back}");
        let review = browser.get(&back).await?;
        assert_eq!(review.status, 200);
        assert!(
            review.body.contains("Tess Renamed"),
            "the kept changes are shown"
        );
        let mut fields: Vec<(String, String)> = Vec::new();
        for chunk in review.body.split("<input type=\"hidden\" name=\"").skip(1) {
            let name = chunk.split('"').next().unwrap_or("").to_owned();
            let value = chunk
                .split("value=\"")
                .nth(1)
                .and_then(|v| v.split('"').next())
                .unwrap_or("")
                .to_owned();
            fields.push((name, value.replace("&#39;", "'")));
        }
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let saved = browser.post(&format!("/admin/users/{id}"), &pairs).await?;
        assert_eq!(saved.status, 303, "{}", saved.body);
        let now = service
            .api(
                reqwest::Method::GET,
                &format!("/api/v1/users/{id}"),
                &service.admin_token,
                None,
            )
            .await?;
        assert_eq!(now.1["display_name"], "Tess Renamed", "{backend:?}");
        // The kept form is given back once, and to nobody else.
        assert_eq!(browser.get(&back).await?.status, 404);
        service.server.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn a_session_ends_after_twelve_hours_however_active() -> anyhow::Result<()> {
    for backend in backends() {
        let service = Service::start(backend).await?;
        let mut browser = Browser::new(&service.server);
        sign_in_and_enrol(&mut browser, "admin", ADMIN_PASSWORD).await?;
        assert_eq!(browser.get("/account").await?.status, 200);
        execute_as_owner(
            &service.db,
            "UPDATE sessions SET created_at = created_at - 43200000000",
        )
        .await?;
        let page = browser.get("/account").await?;
        assert_eq!(page.status, 303, "{backend:?}");
        assert!(page.location().is_some_and(|l| l.starts_with("/sign-in")));
        service.server.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn forms_need_the_session_csrf_token_and_same_origin() -> anyhow::Result<()> {
    for backend in backends() {
        let service = Service::start(backend).await?;
        let mut browser = Browser::new(&service.server);
        sign_in_and_enrol(&mut browser, "admin", ADMIN_PASSWORD).await?;
        let csrf = csrf_of(&mut browser).await?;
        let form = [("name", "laptop"), ("scope", "read"), ("days", "30")];

        let missing = browser.post("/account/tokens", &form).await?;
        assert_eq!(missing.status, 403, "{backend:?}: no CSRF token");
        let forged = browser
            .post(
                "/account/tokens",
                &[("_csrf", "0".repeat(64).as_str()), ("name", "x")],
            )
            .await?;
        assert_eq!(forged.status, 403, "a forged CSRF token");
        let mut with_token = vec![("_csrf", csrf.as_str())];
        with_token.extend_from_slice(&form);
        let cross_site = browser
            .post_with(
                "/account/tokens",
                &with_token,
                &[("sec-fetch-site", "cross-site")],
            )
            .await?;
        assert_eq!(
            cross_site.status, 403,
            "a cross-site POST, even with the token"
        );
        let other_origin = browser
            .post_with(
                "/account/tokens",
                &with_token,
                &[("origin", "https://evil.example")],
            )
            .await?;
        assert_eq!(other_origin.status, 403);
        let tokens_before = browser.get("/account").await?;
        assert!(
            !tokens_before.body.contains("<td>laptop</td>"),
            "nothing was created"
        );

        let ok = browser.post("/account/tokens", &with_token).await?;
        assert_eq!(ok.status, 200);
        assert!(ok.body.contains("shown only once"));
        // htmx sends the token as a header: the API accepts a session with it, not without.
        let client = reqwest::Client::new();
        let cookie = browser.cookie.clone().unwrap_or_default();
        let without = client
            .post(service.server.url("/api/v1/me/sessions/end-all"))
            .header("cookie", &cookie)
            .send()
            .await?;
        assert_eq!(without.status(), 403);
        let with = client
            .post(service.server.url("/api/v1/me/sessions/end-all"))
            .header("cookie", &cookie)
            .header("x-csrf-token", &csrf)
            .send()
            .await?;
        assert_eq!(with.status(), 200);
        service.server.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn tokens_follow_their_scope_and_die_with_their_owner_access() -> anyhow::Result<()> {
    for backend in backends() {
        let service = Service::start(backend).await?;
        let tess = service.add_user("tess", &["therapist"]).await?;
        let id = tess["id"].as_str().unwrap_or_default().to_owned();
        let read_only = service.token_for("tess", "read").await?;
        let writer = service.token_for("tess", "read-write").await?;

        let (status, me) = service
            .api(reqwest::Method::GET, "/api/v1/me", &read_only, None)
            .await?;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(me["username"], "tess");
        // A read-only token cannot write, even what its owner may.
        let (status, _) = service
            .api(
                reqwest::Method::POST,
                "/api/v1/me/tokens",
                &read_only,
                Some(json!({"name": "more"})),
            )
            .await?;
        assert_eq!(status, StatusCode::FORBIDDEN, "{backend:?}");
        let (status, _) = service
            .api(
                reqwest::Method::POST,
                "/api/v1/me/tokens",
                &writer,
                Some(json!({"name": "more"})),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED);
        // A therapist is not an administrator.
        let (status, problem) = service
            .api(
                reqwest::Method::PUT,
                &format!("/api/v1/users/{id}/active"),
                &writer,
                Some(json!({"version": 1, "active": false})),
            )
            .await?;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|d| d.contains("administrator"))
        );

        // Deactivation ends every token at once.
        let (_, user) = service
            .api(
                reqwest::Method::GET,
                &format!("/api/v1/users/{id}"),
                &service.admin_token,
                None,
            )
            .await?;
        let (status, _) = service
            .api(
                reqwest::Method::PUT,
                &format!("/api/v1/users/{id}/active"),
                &service.admin_token,
                Some(json!({"version": user["version"], "active": false})),
            )
            .await?;
        assert_eq!(status, StatusCode::OK);
        for token in [&read_only, &writer] {
            let (status, _) = service
                .api(reqwest::Method::GET, "/api/v1/me", token, None)
                .await?;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{backend:?}: a deactivated user's token still works"
            );
        }
        // Reactivating does not bring old tokens back.
        let (_, user) = service
            .api(
                reqwest::Method::GET,
                &format!("/api/v1/users/{id}"),
                &service.admin_token,
                None,
            )
            .await?;
        service
            .api(
                reqwest::Method::PUT,
                &format!("/api/v1/users/{id}/active"),
                &service.admin_token,
                Some(json!({"version": user["version"], "active": true})),
            )
            .await?;
        let (status, _) = service
            .api(reqwest::Method::GET, "/api/v1/me", &read_only, None)
            .await?;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, _) = service
            .api(reqwest::Method::GET, "/api/v1/me", "at_0000", None)
            .await?;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        service.server.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn password_and_role_changes_end_every_session() -> anyhow::Result<()> {
    for backend in backends() {
        let service = Service::start(backend).await?;
        let tess = service.add_user("tess", &["therapist"]).await?;
        let id = tess["id"].as_str().unwrap_or_default().to_owned();
        let mut laptop = Browser::new(&service.server);
        let (secret, recovery) =
            sign_in_and_enrol_with_codes(&mut laptop, "tess", PASSWORD).await?;
        let mut tablet = Browser::new(&service.server);
        let done = sign_in_with_code(&mut tablet, "tess", PASSWORD, &code_for(&secret, 1)).await?;
        assert_eq!(done.status, 303);
        let token = service.token_for("tess", "read").await?;

        // A role change (by an administrator) signs her out everywhere.
        let (_, user) = service
            .api(
                reqwest::Method::GET,
                &format!("/api/v1/users/{id}"),
                &service.admin_token,
                None,
            )
            .await?;
        let (status, body) = service
            .api(
                reqwest::Method::PUT,
                &format!("/api/v1/users/{id}"),
                &service.admin_token,
                Some(
                    json!({"version": user["version"], "display_name": "tess person",
                             "roles": ["therapist", "supervisor"], "registration": "bapt"}),
                ),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{body}");
        for browser in [&mut laptop, &mut tablet] {
            assert!(
                browser
                    .get("/account")
                    .await?
                    .location()
                    .is_some_and(|l| l.starts_with("/sign-in")),
                "{backend:?}"
            );
        }
        let (status, _) = service
            .api(reqwest::Method::GET, "/api/v1/me", &token, None)
            .await?;
        assert_eq!(status, StatusCode::UNAUTHORIZED);

        // A stale update is refused, never merged.
        let (status, problem) = service
            .api(
                reqwest::Method::PUT,
                &format!("/api/v1/users/{id}"),
                &service.admin_token,
                Some(
                    json!({"version": user["version"], "display_name": "lost update",
                             "roles": ["therapist"], "registration": "none"}),
                ),
            )
            .await?;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(problem["current_version"], body["version"]);

        // Her own password change ends her other sessions too. (The app codes of these time
        // steps are spent, so she uses recovery codes, each once.)
        let mut again = Browser::new(&service.server);
        let first =
            sign_in_with_code(&mut again, "tess", PASSWORD, &recovery[0].to_uppercase()).await?;
        assert_eq!(
            first.status, 303,
            "a recovery code works, typed in capitals too"
        );
        let mut other = Browser::new(&service.server);
        let reused = sign_in_with_code(&mut other, "tess", PASSWORD, &recovery[0]).await?;
        assert_eq!(reused.status, 401, "a recovery code works once");
        sign_in_with_code(&mut other, "tess", PASSWORD, &recovery[1]).await?;
        let csrf = csrf_of(&mut again).await?;
        let short = again
            .post(
                "/account/password",
                &[
                    ("_csrf", &csrf),
                    ("current_password", PASSWORD),
                    ("new_password", "short"),
                    ("confirm_password", "short"),
                ],
            )
            .await?;
        assert_eq!(short.status, 422);
        assert!(short.body.contains("at least 12 characters"));
        let changed = again
            .post(
                "/account/password",
                &[
                    ("_csrf", &csrf),
                    ("current_password", PASSWORD),
                    ("new_password", "walnut thistle beacon"),
                    ("confirm_password", "walnut thistle beacon"),
                ],
            )
            .await?;
        assert_eq!(changed.status, 303, "{}", changed.body);
        assert!(
            other
                .get("/account")
                .await?
                .location()
                .is_some_and(|l| l.starts_with("/sign-in"))
        );
        let old = other
            .post("/sign-in", &[("username", "tess"), ("password", PASSWORD)])
            .await?;
        assert_eq!(old.status, 401, "the old password no longer works");
        service.server.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn the_staff_list_pages_and_filters_and_writes_are_for_administrators() -> anyhow::Result<()>
{
    for backend in backends() {
        let service = Service::start(backend).await?;
        for n in 0..5 {
            service
                .add_user(&format!("therapist{n}"), &["therapist"])
                .await?;
        }
        service.add_user("dee", &["dsl"]).await?;
        let (status, page) = service
            .api(
                reqwest::Method::GET,
                "/api/v1/users?limit=3",
                &service.admin_token,
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(page["items"].as_array().map(Vec::len), Some(3));
        let next = page["next"].as_str().unwrap_or_default().to_owned();
        let (_, rest) = service
            .api(
                reqwest::Method::GET,
                &format!("/api/v1/users?limit=3&after={next}"),
                &service.admin_token,
                None,
            )
            .await?;
        let names: Vec<&str> = page["items"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(rest["items"].as_array().into_iter().flatten())
            .filter_map(|u| u["username"].as_str())
            .collect();
        assert_eq!(
            names,
            [
                "admin",
                "dee",
                "therapist0",
                "therapist1",
                "therapist2",
                "therapist3"
            ],
            "{backend:?}"
        );
        let (_, dsls) = service
            .api(
                reqwest::Method::GET,
                "/api/v1/users?role=dsl",
                &service.admin_token,
                None,
            )
            .await?;
        assert_eq!(dsls["items"].as_array().map(Vec::len), Some(1));
        let (_, search) = service
            .api(
                reqwest::Method::GET,
                "/api/v1/users?q=RAPIST3",
                &service.admin_token,
                None,
            )
            .await?;
        assert_eq!(search["items"][0]["username"], "therapist3");
        let (_, wildcard) = service
            .api(
                reqwest::Method::GET,
                "/api/v1/users?q=%25",
                &service.admin_token,
                None,
            )
            .await?;
        assert_eq!(
            wildcard["items"].as_array().map(Vec::len),
            Some(0),
            "% is matched literally"
        );
        for bad in [
            "limit=0",
            "limit=abc",
            "role=wizard",
            "after=%27%20OR%201%3D1",
            "colour=blue",
        ] {
            let (status, problem) = service
                .api(
                    reqwest::Method::GET,
                    &format!("/api/v1/users?{bad}"),
                    &service.admin_token,
                    None,
                )
                .await?;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {problem}");
            assert!(
                problem["errors"][0]["field"].is_string(),
                "{bad}: {problem}"
            );
        }
        // Invalid input names every field at fault; a duplicate username is refused.
        let (status, problem) = service
            .api(reqwest::Method::POST, "/api/v1/users", &service.admin_token,
                 Some(json!({"username": "x", "display_name": "", "password": "short", "roles": ["wizard"]})))
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["field"].as_str())
            .collect();
        for field in ["username", "display_name", "roles", "password"] {
            assert!(fields.contains(&field), "{field} not named in {problem}");
        }
        let (status, _) = service
            .api(reqwest::Method::POST, "/api/v1/users", &service.admin_token,
                 Some(json!({"username": "DEE", "display_name": "Another", "password": PASSWORD, "roles": ["staff"]})))
            .await?;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "usernames are case-insensitive"
        );
        // Writing takes an administrator: a DSL may read the directory, not change it.
        let dsl_token = service.token_for("dee", "read-write").await?;
        let (status, _) = service
            .api(reqwest::Method::GET, "/api/v1/users", &dsl_token, None)
            .await?;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = service
            .api(reqwest::Method::POST, "/api/v1/users", &dsl_token,
                 Some(json!({"username": "sneaky", "display_name": "S", "password": PASSWORD, "roles": ["administrator"]})))
            .await?;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = service
            .api(reqwest::Method::GET, "/api/v1/users", "", None)
            .await?;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        // An administrator cannot lock themselves out.
        let (_, me) = service
            .api(
                reqwest::Method::GET,
                "/api/v1/me",
                &service.admin_token,
                None,
            )
            .await?;
        let (status, _) = service
            .api(
                reqwest::Method::PUT,
                &format!("/api/v1/users/{}/active", me["id"].as_str().unwrap_or("")),
                &service.admin_token,
                Some(json!({"version": me["version"], "active": false})),
            )
            .await?;
        assert_eq!(status, StatusCode::FORBIDDEN);
        service.server.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn the_service_record_takes_versioned_updates_from_administrators() -> anyhow::Result<()> {
    for backend in backends() {
        let service = Service::start(backend).await?;
        let data = service.db.data_path().display().to_string();
        // No service yet: made by the demo? No: the setup page or an update; create it here.
        execute_as_owner(
            &service.db,
            "INSERT INTO service (id, name, nation, is_demo, second_factor_required, version, created_at, updated_at) \
             VALUES (1, 'Riverside Play Therapy', 'england', FALSE, TRUE, 1, 0, 0)",
        )
        .await?;
        let _ = data;
        let body = json!({"version": 1, "name": "Riverside Therapy", "nation": "wales"});
        let (status, updated) = service
            .api(
                reqwest::Method::PUT,
                "/api/v1/service",
                &service.admin_token,
                Some(body.clone()),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{updated}");
        assert_eq!(updated["version"], 2);
        let (status, stale) = service
            .api(
                reqwest::Method::PUT,
                "/api/v1/service",
                &service.admin_token,
                Some(body),
            )
            .await?;
        assert_eq!(status, StatusCode::CONFLICT, "{backend:?}");
        assert_eq!(stale["current_version"], 2);
        assert_eq!(stale["type"], "urn:alliance:problem:stale-version");
        let (status, invalid) = service
            .api(
                reqwest::Method::PUT,
                "/api/v1/service",
                &service.admin_token,
                Some(json!({"version": 2, "name": "", "nation": "atlantis"})),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(invalid["errors"].as_array().map(Vec::len), Some(2));
        let (status, wrong_type) = service
            .api(
                reqwest::Method::PUT,
                "/api/v1/service",
                &service.admin_token,
                Some(json!({"version": "two", "name": "x", "nation": "wales"})),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(wrong_type["errors"][0]["field"], "version");
        let reader = service.token_for("admin", "read").await?;
        let (status, _) = service
            .api(
                reqwest::Method::PUT,
                "/api/v1/service",
                &reader,
                Some(json!({"version": 2, "name": "x y", "nation": "wales"})),
            )
            .await?;
        assert_eq!(status, StatusCode::FORBIDDEN, "a read-only token");
        service.server.stop().await;
    }
    Ok(())
}

/// Every route in the route table (the page routers' source and the OpenAPI document), with
/// each of its methods, for the headers test.
fn route_table() -> Vec<(String, String)> {
    let pages = concat!(env!("CARGO_MANIFEST_DIR"), "/../alliance-web/src/pages");
    let mut routes = Vec::new();
    for entry in std::fs::read_dir(pages).into_iter().flatten().flatten() {
        let source = std::fs::read_to_string(entry.path()).unwrap_or_default();
        for chunk in source.split(".route(\"").skip(1) {
            let path = chunk.split('"').next().unwrap_or("").to_owned();
            let rest = chunk.split(')').take(3).collect::<Vec<_>>().join(")");
            for method in ["get", "post", "put", "delete"] {
                if rest.contains(&format!("{method}(")) {
                    routes.push((method.to_uppercase(), path.clone()));
                }
            }
        }
    }
    routes
}

#[tokio::test]
async fn every_route_sends_the_security_headers_signed_in_or_not() -> anyhow::Result<()> {
    let service = Service::start(Backend::Sqlite).await?;
    let mut routes = route_table();
    assert!(
        routes.len() >= 15,
        "the route table was not read: {routes:?}"
    );
    let doc: Value = service
        .server
        .get("/api/v1/openapi.json")
        .await?
        .json()
        .await?;
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for method in item
            .as_object()
            .into_iter()
            .flatten()
            .map(|(m, _)| m.to_uppercase())
        {
            routes.push((method, path.clone()));
        }
    }
    let (_, me) = service
        .api(
            reqwest::Method::GET,
            "/api/v1/me",
            &service.admin_token,
            None,
        )
        .await?;
    let admin_id = me["id"].as_str().unwrap_or_default().to_owned();
    let mut browser = Browser::new(&service.server);
    sign_in_and_enrol(&mut browser, "admin", ADMIN_PASSWORD).await?;
    let cookie = browser.cookie.clone().unwrap_or_default();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    for (method, path) in &routes {
        let url = service.server.url(&path.replace("{id}", &admin_id));
        for signed_in in [false, true] {
            let mut request = client.request(method.parse()?, &url);
            if signed_in {
                request = request.header("cookie", &cookie);
            }
            let response = request.send().await?;
            let what = format!(
                "{method} {path} (signed in: {signed_in}) -> {}",
                response.status()
            );
            assert!(!response.status().is_server_error(), "{what}");
            for (name, value) in [
                ("cache-control", "no-store"),
                ("referrer-policy", "no-referrer"),
                ("x-content-type-options", "nosniff"),
                ("x-frame-options", "DENY"),
            ] {
                assert_eq!(
                    response.headers().get(name).and_then(|v| v.to_str().ok()),
                    Some(value),
                    "{name}: {what}"
                );
            }
            let csp = response
                .headers()
                .get("content-security-policy")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            assert!(
                csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
                "CSP: {what}"
            );
        }
    }
    // Static assets are the exception: cacheable, but still nosniff.
    let asset = client
        .get(service.server.url("/static/alliance.css"))
        .send()
        .await?;
    assert_ne!(
        asset
            .headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    assert_eq!(
        asset
            .headers()
            .get("x-content-type-options")
            .and_then(|v| v.to_str().ok()),
        Some("nosniff")
    );
    service.server.stop().await;
    Ok(())
}

#[tokio::test]
async fn administration_pages_refuse_everyone_but_administrators() -> anyhow::Result<()> {
    let service = Service::start(Backend::Sqlite).await?;
    let tess = service.add_user("tess", &["therapist"]).await?;
    let mut browser = Browser::new(&service.server);
    sign_in_and_enrol(&mut browser, "tess", PASSWORD).await?;
    let id = tess["id"].as_str().unwrap_or_default().to_owned();
    for path in [
        "/admin/users".to_owned(),
        "/admin/users/new".to_owned(),
        format!("/admin/users/{id}"),
        "/admin/service".to_owned(),
    ] {
        let page = browser.get(&path).await?;
        assert_eq!(page.status, 403, "{path}");
        assert!(
            page.body.contains("only an administrator may do this"),
            "{path}: the reason is shown to staff"
        );
    }
    let csrf = csrf_of(&mut browser).await?;
    let posted = browser
        .post(
            &format!("/admin/users/{id}"),
            &[
                ("_csrf", &csrf),
                ("version", "1"),
                ("display_name", "x"),
                ("roles", "administrator"),
                ("registration", "none"),
            ],
        )
        .await?;
    assert_eq!(
        posted.status, 403,
        "a therapist cannot make herself an administrator"
    );
    let (_, me) = service
        .api(
            reqwest::Method::GET,
            &format!("/api/v1/users/{id}"),
            &service.admin_token,
            None,
        )
        .await?;
    assert_eq!(me["roles"], serde_json::json!(["therapist"]));
    service.server.stop().await;
    Ok(())
}
