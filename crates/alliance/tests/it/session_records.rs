//! Session records (issue 12), through the real server on both engines: a draft kept on the
//! server survives a session that timed out (the page's form kept while signed out and saved
//! after signing in again) and a revoked API token, and is seen by nobody but its author;
//! nobody else may write it; a signed record changes only by amendment, by its author, with a
//! reason, the original kept; the parent-worker sees only what the lead shares, and only the
//! lead shares; the supervisor reads signed records pseudonymised; a read-only token writes
//! nothing; and what a record says never reaches the database files or the server's log.
//! Every refusal is tried from the denied side.

use crate::accounts::{PASSWORD, sign_in_and_enrol};
use crate::children::World;
use crate::{alliance_binary, count_as_owner, execute_as_owner};
use alliance_core::auth::totp;
use alliance_testkit::{Backend, Browser, TestDatabase, backends};
use jiff::ToSpan;
use jiff::civil::{Date, Weekday};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// Everyone in the World who is not on the case's team and does not supervise anyone on it:
/// the case does not exist for them, or its clinical record does not.
const OUTSIDERS: [&str; 6] = [
    "other-therapist",
    "other-supervisor",
    "dsl",
    "service-lead",
    "staff",
    "admin",
];

/// Names of the child's and the carer's that a pseudonymised reader must never be shown.
const NAMES: [&str; 5] = ["Amelia", "Rose", "Millie", "Clarke", "Sam"];

fn today() -> Date {
    alliance_core::uk::london()
        .to_datetime(jiff::Timestamp::now())
        .date()
}

fn record_at(session: &str, rest: &str) -> String {
    format!("/api/v1/sessions/{session}/record{rest}")
}

fn list_at(case: &str) -> String {
    format!("/api/v1/cases/{case}/session-records")
}

/// A record complete enough to sign, saying `brought`.
fn complete(brought: &str) -> Value {
    json!({"brought": brought,
        "own_words": "\"Nobody can get them now\"",
        "reflected": "I wondered aloud whether the animals needed keeping safe",
        "themes": "Protection, walls",
        "mood_start": "Quiet",
        "mood_end": "Brighter",
        "follow_up": "Ask about the new baby at home",
        "safeguarding": "no"})
}

/// `body` with more fields.
fn with(mut body: Value, extra: Value) -> Value {
    if let (Some(map), Some(more)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in more {
            map.insert(k.clone(), v.clone());
        }
    }
    body
}

fn fields_of(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|e| {
            e.iter()
                .filter_map(|x| x["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn version_of(body: &Value) -> i64 {
    body["version"].as_i64().unwrap_or_default()
}

/// A TOTP code `steps` periods from now.
fn code_for(secret: &[u8], steps: i64) -> String {
    let at = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_secs(30 * steps))
        .unwrap_or_else(|_| jiff::Timestamp::now());
    totp::code_at(secret, at).unwrap_or_default()
}

/// The World with a co-worker on the case's team and a regular weekly slot: the ids of the
/// case's first sessions.
async fn world_with_sessions(backend: Backend) -> anyhow::Result<(World, Vec<String>)> {
    let mut world = World::build(backend).await?;
    let coworker = world.service.add_user("co-worker", &["therapist"]).await?;
    let (status, child) = world
        .api(
            "admin",
            Method::GET,
            &format!("/api/v1/children/{}", world.child),
            None,
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{child}");
    let (status, record) = world
        .api(
            "admin",
            Method::POST,
            &format!("/api/v1/cases/{}/team", world.case),
            Some(
                json!({"version": child["cases"][0]["version"], "action": "add",
                "user": coworker["id"], "role": "co-worker", "starts_on": "2026-09-10"}),
            ),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{record}");
    let token = world.service.token_for("co-worker", "read-write").await?;
    world.tokens.insert("co-worker", token);
    world.ids.insert(
        "co-worker",
        coworker["id"].as_str().unwrap_or_default().to_owned(),
    );

    // A term around today, a room, and the regular time from next Monday.
    let start = alliance_core::uk::date(today().checked_sub(30.days())?);
    let end = alliance_core::uk::date(today().checked_add(120.days())?);
    let (status, calendar) = world
        .api(
            "admin",
            Method::POST,
            "/api/v1/calendars",
            Some(json!({"name": "Test calendar",
                "rows": format!("kind,name,starts,ends,reason\nterm,Test term,{start},{end},\n")})),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{calendar}");
    let (_, sites) = world
        .api("admin", Method::GET, "/api/v1/sites", None)
        .await?;
    let site = sites["items"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (status, room) = world
        .api(
            "admin",
            Method::POST,
            &format!("/api/v1/sites/{site}/rooms"),
            Some(json!({"name": "Willow Room", "capacity": 4, "step_free": true})),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{room}");
    let monday = today().nth_weekday(1, Weekday::Monday)?;
    let (status, schedule) = world
        .api(
            "lead",
            Method::PUT,
            &format!("/api/v1/cases/{}/slot", world.case),
            Some(json!({"calendar": calendar["id"], "room": room["id"],
                "weekday": "monday", "start": "15:30", "minutes": 50,
                "from": monday.to_string()})),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{schedule}");
    let (status, schedule) = world
        .api(
            "lead",
            Method::GET,
            &format!("/api/v1/cases/{}/sessions", world.case),
            None,
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{schedule}");
    let sessions: Vec<String> = schedule["sessions"]
        .as_array()
        .map(|s| {
            s.iter()
                .filter_map(|x| x["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    assert!(sessions.len() >= 3, "{schedule}");
    Ok((world, sessions))
}

/// No marker anywhere in the SQLite database's files (main, WAL, shared memory). The server
/// must be stopped first.
fn assert_not_on_disk(db: &TestDatabase, markers: &[&str]) {
    if db.backend != Backend::Sqlite {
        return;
    }
    let file = db.data_path().join("alliance.sqlite3");
    let mut looked = 0;
    for path in [
        file.clone(),
        file.with_extension("sqlite3-wal"),
        file.with_extension("sqlite3-shm"),
    ] {
        let bytes = std::fs::read(&path).unwrap_or_default();
        looked += bytes.len();
        for marker in markers {
            assert!(
                !bytes.windows(marker.len()).any(|w| w == marker.as_bytes()),
                "{marker} in plaintext in {}",
                path.display()
            );
        }
    }
    assert!(looked > 0, "the database files were read");
}

// ----- a second server whose log is kept ----------------------------------------------------

/// A second `alliance serve` on the same database whose standard output and error are kept,
/// at the most talkative log level, to show what its log holds (as in `agreements.rs`).
struct LoggedServer {
    base: String,
    client: reqwest::Client,
    child: tokio::process::Child,
    log: Arc<Mutex<Vec<u8>>>,
    readers: Vec<tokio::task::JoinHandle<()>>,
}

/// Copies everything `from` writes into `log`, byte for byte.
fn keep_all(
    mut from: impl tokio::io::AsyncRead + Unpin + Send + 'static,
    log: Arc<Mutex<Vec<u8>>>,
) -> tokio::task::JoinHandle<()> {
    use tokio::io::AsyncReadExt;
    tokio::spawn(async move {
        let mut buffer = vec![0u8; 64 * 1024];
        while let Ok(n) = from.read(&mut buffer).await {
            if n == 0 {
                break;
            }
            if let Ok(mut log) = log.lock() {
                log.extend_from_slice(&buffer[..n]);
            }
        }
    })
}

impl LoggedServer {
    async fn start(db: &TestDatabase) -> anyhow::Result<Self> {
        use std::process::Stdio;
        let data = db.data_path().display().to_string();
        let mut child = tokio::process::Command::new(alliance_binary())
            .args([
                "--data",
                &data,
                "--database",
                &db.app_url,
                "serve",
                "--bind",
                "127.0.0.1:0",
            ])
            .env_remove("ALLIANCE_DATA")
            .env_remove("ALLIANCE_DATABASE_URL")
            .env_remove("ALLIANCE_BIND")
            .env("ALLIANCE_LOG", "trace")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = child
            .stderr
            .take()
            .ok_or_else(|| anyhow::anyhow!("no stderr"))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| anyhow::anyhow!("no stdout"))?;
        let readers = vec![keep_all(stderr, log.clone()), keep_all(stdout, log.clone())];
        let base = tokio::time::timeout(std::time::Duration::from_secs(60), async {
            loop {
                let text = log
                    .lock()
                    .map(|l| String::from_utf8_lossy(&l).into_owned())
                    .unwrap_or_default();
                if let Some(rest) = text.split("Alliance is listening on ").nth(1) {
                    return rest.split(' ').next().unwrap_or("").to_owned();
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        })
        .await?;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            base,
            client,
            child,
            log,
            readers,
        })
    }

    /// An API call to this server as `who` of the World.
    async fn api(
        &self,
        world: &World,
        who: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let token = world.tokens.get(who).cloned().unwrap_or_default();
        self.api_with(&token, method, path, body).await
    }

    async fn api_with(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let status = response.status();
        let text = response.text().await?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    /// Stops the server; everything it wrote.
    async fn stop(mut self) -> String {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
        for reader in self.readers {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(10), reader).await;
        }
        let raw = self
            .log
            .lock()
            .map(|l| String::from_utf8_lossy(&l).into_owned())
            .unwrap_or_default();
        without_colours(&raw)
    }
}

/// The text without terminal colour codes (`ESC [ … letter`), which the log may carry.
fn without_colours(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for next in chars.by_ref() {
                if next.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The hidden fields of the page that gives back a kept form, to send it again.
fn kept_fields(body: &str) -> Vec<(String, String)> {
    body.split("<input type=\"hidden\" name=\"")
        .skip(1)
        .map(|chunk| {
            let name = chunk.split('"').next().unwrap_or("").to_owned();
            let value = chunk
                .split("value=\"")
                .nth(1)
                .and_then(|v| v.split('"').next())
                .unwrap_or("")
                .replace("&#39;", "'")
                .replace("&quot;", "\"")
                .replace("&#34;", "\"")
                .replace("&amp;", "&");
            (name, value)
        })
        .collect()
}

// ----- drafts ---------------------------------------------------------------------------------

#[tokio::test]
async fn a_draft_survives_an_expired_session_and_nobody_else_sees_or_writes_it()
-> anyhow::Result<()> {
    const FIRST: &str = "MARKER-f1rst-a-wall-in-the-sand";
    const KEPT: &str = "MARKER-k3pt-while-signed-out";
    const BY_TOKEN: &str = "MARKER-t0ken-draft-outlives-its-token";
    const INTRUDER: &str = "MARKER-1ntruder-writes-here";
    const AMENDED: &str = "MARKER-am3nded-the-wall-had-a-door";
    const REASON: &str = "MARKER-r3ason-the-door-was-left-out";
    for backend in backends() {
        let (world, sessions) = world_with_sessions(backend).await?;
        let session = sessions[0].clone();
        // Everything goes through a second server whose log is kept.
        let server = LoggedServer::start(&world.service.db).await?;
        let page_path = format!("/sessions/{session}/record");
        let read_as = |who: &'static str| {
            let (server, world, path) = (&server, &world, record_at(&session, ""));
            async move { server.api(world, who, Method::GET, &path, None).await }
        };

        // The lead signs in with a browser and saves a first draft through the page's form.
        let mut browser = Browser::new(&world.service.server);
        browser.base = server.base.clone();
        let secret = sign_in_and_enrol(&mut browser, "lead", PASSWORD).await?;
        let form = browser.get(&page_path).await?;
        assert_eq!(form.status, 200, "{backend:?}: {}", form.body);
        let csrf = form.input("_csrf").unwrap_or_default();
        assert!(!csrf.is_empty(), "{}", form.body);
        let saved = browser
            .post(
                &page_path,
                &[
                    ("_csrf", &csrf),
                    ("version", ""),
                    ("brought", FIRST),
                    ("mood_start", "Quiet"),
                ],
            )
            .await?;
        assert_eq!(saved.status, 303, "{}", saved.body);
        assert!(
            saved.location().is_some_and(|l| l.starts_with(&page_path)),
            "{:?}",
            saved.location()
        );
        let (status, view) = read_as("lead").await?;
        assert_eq!(status, StatusCode::OK, "{view}");
        assert_eq!(view["record"]["status"], "draft", "{view}");
        assert_eq!(view["record"]["content"]["brought"], FIRST);
        assert_eq!(view["record"]["is_author"], true);
        assert_eq!(view["record"]["version"], 1);
        assert_eq!(view["may_write"], true);
        assert_eq!(view["may_share"], false, "a draft is not shared");
        assert_eq!(view["session"]["id"], session.as_str());

        // Thirty-one minutes without a request: the session has gone idle. What is typed and
        // sent now is kept, and nothing is saved until the lead signs in again.
        execute_as_owner(
            &world.service.db,
            "UPDATE sessions SET last_seen_at = last_seen_at - 1860000000",
        )
        .await?;
        let kept = browser
            .post(
                &page_path,
                &[
                    ("_csrf", &csrf),
                    ("version", "1"),
                    ("brought", KEPT),
                    ("mood_start", "Quiet"),
                    ("mood_end", "Settled"),
                ],
            )
            .await?;
        assert_eq!(kept.status, 303, "{backend:?}: {}", kept.body);
        let to = kept.location().unwrap_or_default().to_owned();
        assert!(to.starts_with("/sign-in?resume=ar_"), "{to}");
        let (_, view) = read_as("lead").await?;
        assert_eq!(
            view["record"]["content"]["brought"], FIRST,
            "nothing was saved on the idle session"
        );
        assert_eq!(view["record"]["version"], 1);

        // Signing in again gives the form back; sending it saves the draft.
        let resume = to.trim_start_matches("/sign-in?resume=").to_owned();
        let page = browser
            .post(
                "/sign-in",
                &[
                    ("username", "lead"),
                    ("password", PASSWORD),
                    ("resume", &resume),
                ],
            )
            .await?;
        let code_page = browser.get(page.location().unwrap_or("/")).await?;
        assert_eq!(code_page.input("resume").as_deref(), Some(resume.as_str()));
        let code_csrf = code_page.input("_csrf").unwrap_or_default();
        let code = code_for(&secret, 1);
        let done = browser
            .post(
                "/sign-in/code",
                &[("_csrf", &code_csrf), ("code", &code), ("resume", &resume)],
            )
            .await?;
        let back = done.location().unwrap_or_default().to_owned();
        assert!(back.starts_with("/resume?token="), "{back}: {}", done.body);
        let review = browser.get(&back).await?;
        assert_eq!(review.status, 200, "{}", review.body);
        assert!(review.body.contains(KEPT), "the kept draft is shown");
        let fields = kept_fields(&review.body);
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let resent = browser.post(&page_path, &pairs).await?;
        assert_eq!(resent.status, 303, "{}", resent.body);
        let (_, view) = read_as("lead").await?;
        assert_eq!(view["record"]["status"], "draft", "{view}");
        assert_eq!(view["record"]["content"]["brought"], KEPT, "{view}");
        assert_eq!(view["record"]["content"]["mood_end"], "Settled");
        assert_eq!(view["record"]["version"], 2);
        assert_eq!(browser.get(&back).await?.status, 404, "given back once");

        // The same through the API: a draft saved with a token outlives the token.
        let (status, issued) = server
            .api(
                &world,
                "lead",
                Method::POST,
                "/api/v1/me/tokens",
                Some(json!({"name": "tablet", "scope": "read-write", "expires_in_days": 1})),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{issued}");
        let tablet = issued["token"].as_str().unwrap_or_default().to_owned();
        let (status, saved) = server
            .api_with(
                &tablet,
                Method::PUT,
                &record_at(&session, "/draft"),
                Some(json!({"brought": BY_TOKEN, "mood_start": "Quiet", "version": 2})),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{saved}");
        assert_eq!(saved["status"], "draft");
        assert_eq!(version_of(&saved), 3);
        let (status, _) = server
            .api_with(
                &tablet,
                Method::DELETE,
                &format!("/api/v1/me/tokens/{}", issued["id"].as_str().unwrap_or("")),
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, _) = server
            .api_with(&tablet, Method::GET, &record_at(&session, ""), None)
            .await?;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "the token is gone");
        let fresh = world.service.token_for("lead", "read-write").await?;
        let (status, view) = server
            .api_with(&fresh, Method::GET, &record_at(&session, ""), None)
            .await?;
        assert_eq!(status, StatusCode::OK, "{view}");
        assert_eq!(view["record"]["content"]["brought"], BY_TOKEN, "{view}");
        assert_eq!(view["record"]["content"]["mood_end"], "", "{view}");
        assert_eq!(view["record"]["version"], 3);
        let (status, list) = server
            .api(&world, "lead", Method::GET, &list_at(&world.case), None)
            .await?;
        assert_eq!(status, StatusCode::OK, "{list}");
        assert_eq!(list["items"].as_array().map(Vec::len), Some(1), "{list}");
        assert_eq!(list["items"][0]["status"], "draft");
        assert_eq!(list["items"][0]["session_id"], session.as_str());
        assert!(!list.to_string().contains("MARKER"), "a list says nothing");

        // Nobody else sees the draft, or learns what it says.
        let denied = format!(
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'denied' AND child_id = '{}'",
            world.child
        );
        let before = count_as_owner(&world.service.db, &denied).await?;
        // The co-worker may write this session's record, so is told someone else is writing
        // it; the parent-worker and the supervisor are not told even that.
        for (who, someone_else, may_write) in [
            ("co-worker", true, true),
            ("parent-worker", false, false),
            ("supervisor", false, false),
        ] {
            let (status, view) = read_as(who).await?;
            assert_eq!(status, StatusCode::OK, "{backend:?} {who}: {view}");
            assert!(view["record"].is_null(), "{who}: {view}");
            assert_eq!(view["drafted_by_someone_else"], someone_else, "{who}");
            assert_eq!(view["may_write"], may_write, "{who}");
            assert_eq!(view["may_share"], false, "{who}");
            let (status, list) = server
                .api(&world, who, Method::GET, &list_at(&world.case), None)
                .await?;
            assert_eq!(status, StatusCode::OK, "{who}: {list}");
            assert_eq!(list["items"], json!([]), "{who}: {list}");
        }
        for who in OUTSIDERS {
            let (status, body) = read_as(who).await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{backend:?} {who}: {body}");
            let (status, body) = server
                .api(&world, who, Method::GET, &list_at(&world.case), None)
                .await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{backend:?} {who}: {body}");
        }
        // None of them may write it, sign it, amend it or share it.
        let attempts = [
            (
                Method::PUT,
                "/draft",
                json!({"brought": INTRUDER, "version": 3}),
            ),
            (Method::PUT, "/draft", json!({"brought": INTRUDER})),
            (
                Method::POST,
                "/sign",
                with(complete(INTRUDER), json!({"version": 3})),
            ),
            (
                Method::POST,
                "/amendments",
                with(
                    complete(INTRUDER),
                    json!({"reason": "Corrected what was brought", "version": 3}),
                ),
            ),
            (Method::POST, "/share", json!({"share": true, "version": 3})),
        ];
        let expected = |who: &str, rest: &str| match (who, rest) {
            // Someone else's draft, for a member of the team who writes records.
            ("co-worker", "/draft" | "/sign") => StatusCode::CONFLICT,
            // A draft they may not see is not found to amend or share.
            ("co-worker", _) => StatusCode::NOT_FOUND,
            // On the team or supervising, but never writing records.
            ("parent-worker" | "supervisor", "/share") => StatusCode::NOT_FOUND,
            ("parent-worker" | "supervisor", _) => StatusCode::FORBIDDEN,
            _ => StatusCode::NOT_FOUND,
        };
        let mut everyone = vec!["co-worker", "parent-worker", "supervisor"];
        everyone.extend(OUTSIDERS);
        for who in everyone {
            for (method, rest, body) in &attempts {
                let (status, answer) = server
                    .api(
                        &world,
                        who,
                        method.clone(),
                        &record_at(&session, rest),
                        Some(body.clone()),
                    )
                    .await?;
                assert_eq!(
                    status,
                    expected(who, rest),
                    "{backend:?} {who} {method} {rest}: {answer}"
                );
                assert!(!answer.to_string().contains("MARKER"), "{who}: {answer}");
            }
        }
        let after = count_as_owner(&world.service.db, &denied).await?;
        assert!(
            after >= before + 6 * 7 + 2 * 4 + 2 * 2,
            "every refusal is audited: {before} then {after}"
        );
        let (_, view) = server
            .api_with(&fresh, Method::GET, &record_at(&session, ""), None)
            .await?;
        assert_eq!(view["record"]["content"]["brought"], BY_TOKEN, "{view}");
        assert_eq!(view["record"]["status"], "draft");
        assert_eq!(view["record"]["version"], 3, "nothing was written");

        // The co-worker writes the record of another session: a draft of their own, which
        // the lead does not see either.
        let other = sessions[1].clone();
        let (status, theirs) = server
            .api(
                &world,
                "co-worker",
                Method::PUT,
                &record_at(&other, "/draft"),
                Some(json!({"brought": INTRUDER})),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{theirs}");
        let (status, view) = server
            .api(&world, "lead", Method::GET, &record_at(&other, ""), None)
            .await?;
        assert_eq!(status, StatusCode::OK, "{view}");
        assert!(view["record"].is_null(), "{view}");
        assert_eq!(view["drafted_by_someone_else"], true);
        let (_, list) = server
            .api(&world, "lead", Method::GET, &list_at(&world.case), None)
            .await?;
        assert_eq!(list["items"].as_array().map(Vec::len), Some(1), "{list}");

        // Signed and amended through the same server, so the log has seen it all.
        let (status, signed) = server
            .api_with(
                &fresh,
                Method::POST,
                &record_at(&session, "/sign"),
                Some(with(complete(BY_TOKEN), json!({"version": 3}))),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{signed}");
        let (status, amended) = server
            .api_with(
                &fresh,
                Method::POST,
                &record_at(&session, "/amendments"),
                Some(with(
                    complete(AMENDED),
                    json!({"reason": REASON, "version": signed["version"]}),
                )),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{amended}");
        let (_, view) = server
            .api_with(&fresh, Method::GET, &record_at(&session, ""), None)
            .await?;
        assert_eq!(view["record"]["current"]["brought"], AMENDED, "{view}");
        assert_eq!(view["record"]["amendments"][0]["reason"], REASON);

        // The log was kept and holds nothing any record said.
        let log = server.stop().await;
        assert!(log.contains("status="), "the log was captured: {log}");
        for marker in [FIRST, KEPT, BY_TOKEN, INTRUDER, AMENDED, REASON] {
            assert!(!log.contains(marker), "{marker} is in the server's log");
        }
        assert!(!log.contains("MARKER"), "a record's text is in the log");
        world.service.server.stop().await;
        assert_not_on_disk(
            &world.service.db,
            &[FIRST, KEPT, BY_TOKEN, INTRUDER, AMENDED, REASON],
        );
    }
    Ok(())
}

// ----- signing, amendments, sharing -----------------------------------------------------------

#[tokio::test]
async fn a_signed_record_changes_only_by_amendment_and_only_the_lead_shares_it()
-> anyhow::Result<()> {
    const ORIGINAL: &str = "MARKER-0riginal-built-a-wall-of-sand";
    const AMENDED: &str = "MARKER-am3nded-built-a-wall-with-a-door";
    const REASON: &str = "MARKER-r3ason-I-left-the-door-out";
    const LATER: &str = "MARKER-l4ter-a-draft-of-next-week";
    for backend in backends() {
        let (world, sessions) = world_with_sessions(backend).await?;
        let session = sessions[0].clone();
        let case = world.case.clone();
        let draft = record_at(&session, "/draft");
        let sign = record_at(&session, "/sign");
        let amend = record_at(&session, "/amendments");
        let share = record_at(&session, "/share");
        let read = |who: &'static str| {
            let (world, path) = (&world, record_at(&session, ""));
            async move { world.api(who, Method::GET, &path, None).await }
        };
        let listed = |who: &'static str| {
            let (world, path) = (&world, list_at(&case));
            async move { world.api(who, Method::GET, &path, None).await }
        };

        // Nothing yet: no record, and signing needs a saved draft.
        let (status, view) = read("lead").await?;
        assert_eq!(status, StatusCode::OK, "{view}");
        assert!(view["record"].is_null());
        assert_eq!(view["drafted_by_someone_else"], false);
        let (status, problem) = world
            .api(
                "lead",
                Method::POST,
                &sign,
                Some(with(complete(ORIGINAL), json!({"version": 1}))),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(fields_of(&problem), ["version"], "{problem}");

        // A draft: created (201), then saved again at the version read (200); a save without
        // the version, or at an old one, is refused and changes nothing.
        let (status, saved) = world
            .api(
                "lead",
                Method::PUT,
                &draft,
                Some(json!({"brought": "Sand tray"})),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{saved}");
        assert_eq!(saved["status"], "draft");
        assert_eq!(version_of(&saved), 1);
        let (status, problem) = world
            .api(
                "lead",
                Method::PUT,
                &draft,
                Some(json!({"brought": ORIGINAL})),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(fields_of(&problem), ["version"]);
        let (status, saved) = world
            .api(
                "lead",
                Method::PUT,
                &draft,
                Some(json!({"brought": ORIGINAL, "mood_start": "Quiet", "version": 1})),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{saved}");
        assert_eq!(version_of(&saved), 2);
        let (status, problem) = world
            .api(
                "lead",
                Method::PUT,
                &draft,
                Some(json!({"brought": "Stale", "version": 1})),
            )
            .await?;
        assert_eq!(status, StatusCode::CONFLICT, "{problem}");
        assert_eq!(problem["current_version"], 2, "{problem}");
        let (status, problem) = world
            .api(
                "lead",
                Method::PUT,
                &draft,
                Some(json!({"mood_start": "a\nb", "safeguarding": "maybe", "version": 2})),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(fields_of(&problem), ["mood_start", "safeguarding"]);
        let (status, problem) = world
            .api(
                "lead",
                Method::PUT,
                &draft,
                Some(json!({"brought": "x", "mood": "Quiet", "version": 2})),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");

        // Signing needs every part: each missing one is named, and nothing is signed.
        let (status, problem) = world
            .api(
                "lead",
                Method::POST,
                &sign,
                Some(json!({"brought": ORIGINAL, "version": 2})),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(
            fields_of(&problem),
            ["reflected", "mood_start", "mood_end", "safeguarding"],
            "{problem}"
        );
        let (status, problem) = world
            .api("lead", Method::POST, &sign, Some(json!({"version": 2})))
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(
            fields_of(&problem),
            [
                "brought",
                "reflected",
                "mood_start",
                "mood_end",
                "safeguarding"
            ],
            "{problem}"
        );
        let (status, problem) = world
            .api(
                "lead",
                Method::POST,
                &sign,
                Some(with(complete(ORIGINAL), json!({"version": 1}))),
            )
            .await?;
        assert_eq!(status, StatusCode::CONFLICT, "{problem}");
        let (_, view) = read("lead").await?;
        assert_eq!(view["record"]["status"], "draft", "{view}");
        assert_eq!(view["record"]["version"], 2);
        assert!(view["record"]["signed_at"].is_null());

        // Signed: the version moves on and the record is locked.
        let (status, signed) = world
            .api(
                "lead",
                Method::POST,
                &sign,
                Some(with(complete(ORIGINAL), json!({"version": 2}))),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{signed}");
        assert_eq!(signed["status"], "signed");
        assert!(signed["signed_at"].is_string(), "{signed}");
        let v = version_of(&signed);
        assert!(v > 2, "{signed}");
        for body in [
            json!({"brought": "Rewritten", "version": v}),
            json!({"brought": "Rewritten"}),
        ] {
            let (status, problem) = world
                .api("lead", Method::PUT, &draft, Some(body.clone()))
                .await?;
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{backend:?} {body}: {problem}"
            );
            assert_eq!(fields_of(&problem), ["version"], "{problem}");
        }
        let (status, problem) = world
            .api(
                "lead",
                Method::POST,
                &sign,
                Some(with(complete("Rewritten"), json!({"version": v}))),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        let (_, view) = read("lead").await?;
        let record = &view["record"];
        assert_eq!(record["status"], "signed", "{view}");
        assert_eq!(record["version"], v, "nothing changed");
        assert_eq!(record["content"]["brought"], ORIGINAL);
        assert_eq!(record["current"], record["content"]);
        assert_eq!(record["amendments"], json!([]));
        assert_eq!(record["shared"], false);
        assert_eq!(
            view["may_share"], true,
            "the lead may share a signed record"
        );

        // An amendment needs a reason and a complete record.
        for (body, field) in [
            (with(complete(AMENDED), json!({"version": v})), "reason"),
            (
                with(complete(AMENDED), json!({"reason": "typo", "version": v})),
                "reason",
            ),
            (
                json!({"brought": AMENDED, "reason": "The door was left out", "version": v}),
                "reflected",
            ),
        ] {
            let (status, problem) = world.api("lead", Method::POST, &amend, Some(body)).await?;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
            assert!(
                fields_of(&problem).iter().any(|f| f == field),
                "{field}: {problem}"
            );
        }
        let amendment = with(complete(AMENDED), json!({"reason": REASON, "version": v}));
        // Only the author amends: the co-worker reads it, and is refused.
        let (status, seen) = read("co-worker").await?;
        assert_eq!(status, StatusCode::OK, "{seen}");
        assert_eq!(seen["record"]["content"]["brought"], ORIGINAL, "{seen}");
        assert_eq!(seen["record"]["is_author"], false);
        assert_eq!(seen["may_share"], false);
        for (who, refused) in [
            ("co-worker", StatusCode::FORBIDDEN),
            ("parent-worker", StatusCode::FORBIDDEN),
            ("supervisor", StatusCode::FORBIDDEN),
        ] {
            let (status, answer) = world
                .api(who, Method::POST, &amend, Some(amendment.clone()))
                .await?;
            assert_eq!(status, refused, "{backend:?} {who}: {answer}");
        }
        for who in OUTSIDERS {
            let (status, answer) = world
                .api(who, Method::POST, &amend, Some(amendment.clone()))
                .await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{backend:?} {who}: {answer}");
            assert!(!answer.to_string().contains("MARKER"), "{who}: {answer}");
        }
        let stale = with(
            complete(AMENDED),
            json!({"reason": REASON, "version": v - 1}),
        );
        let (status, problem) = world.api("lead", Method::POST, &amend, Some(stale)).await?;
        assert_eq!(status, StatusCode::CONFLICT, "{problem}");
        assert_eq!(problem["current_version"], v);
        let (status, amended) = world
            .api("lead", Method::POST, &amend, Some(amendment.clone()))
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{amended}");
        assert_eq!(amended["status"], "signed");
        let v = version_of(&amended);
        let (_, view) = read("lead").await?;
        let record = &view["record"];
        assert_eq!(record["version"], v, "{view}");
        assert_eq!(
            record["content"]["brought"], ORIGINAL,
            "the original is kept"
        );
        assert_eq!(record["current"]["brought"], AMENDED, "{view}");
        assert_eq!(record["amendments"].as_array().map(Vec::len), Some(1));
        assert_eq!(record["amendments"][0]["reason"], REASON);
        assert_eq!(record["amendments"][0]["content"]["brought"], AMENDED);
        assert_eq!(record["amendments"][0]["author"], "lead person");
        assert!(record["amendments"][0]["at"].is_string());
        let (_, list) = listed("lead").await?;
        assert_eq!(list["items"][0]["amended"], true, "{list}");
        assert_eq!(list["items"][0]["status"], "signed");
        assert_eq!(list["items"][0]["author"], "lead person");

        // A draft of another session, to show the parent-worker never sees drafts.
        let (status, _) = world
            .api(
                "lead",
                Method::PUT,
                &record_at(&sessions[1], "/draft"),
                Some(json!({"brought": LATER})),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED);
        let (status, problem) = world
            .api(
                "lead",
                Method::POST,
                &record_at(&sessions[1], "/share"),
                Some(json!({"share": true, "version": 1})),
            )
            .await?;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "a draft is not shared: {problem}"
        );

        // Before sharing, the parent-worker sees no record and none is listed.
        let (status, seen) = read("parent-worker").await?;
        assert_eq!(status, StatusCode::OK, "{seen}");
        assert!(seen["record"].is_null(), "{seen}");
        let (status, list) = listed("parent-worker").await?;
        assert_eq!(status, StatusCode::OK, "{list}");
        assert_eq!(list["items"], json!([]), "{list}");

        // Only the lead shares: everyone else is refused, and nothing is shared.
        for (who, refused) in [
            ("co-worker", StatusCode::FORBIDDEN),
            ("supervisor", StatusCode::FORBIDDEN),
            // A record the parent-worker may not see yet is not found to them.
            ("parent-worker", StatusCode::NOT_FOUND),
        ] {
            let (status, answer) = world
                .api(
                    who,
                    Method::POST,
                    &share,
                    Some(json!({"share": true, "version": v})),
                )
                .await?;
            assert_eq!(status, refused, "{backend:?} {who}: {answer}");
        }
        for who in OUTSIDERS {
            let (status, answer) = world
                .api(
                    who,
                    Method::POST,
                    &share,
                    Some(json!({"share": true, "version": v})),
                )
                .await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{backend:?} {who}: {answer}");
        }
        let (status, problem) = world
            .api(
                "lead",
                Method::POST,
                &share,
                Some(json!({"share": true, "version": v - 1})),
            )
            .await?;
        assert_eq!(status, StatusCode::CONFLICT, "{problem}");
        let (_, seen) = read("parent-worker").await?;
        assert!(seen["record"].is_null(), "nothing was shared: {seen}");

        // Shared: the parent-worker reads it (as amended) and sees it listed, alone.
        let (status, shared) = world
            .api(
                "lead",
                Method::POST,
                &share,
                Some(json!({"share": true, "version": v})),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{shared}");
        assert_eq!(shared["shared"], true);
        let v = version_of(&shared);
        let (status, seen) = read("parent-worker").await?;
        assert_eq!(status, StatusCode::OK, "{seen}");
        assert_eq!(seen["record"]["current"]["brought"], AMENDED, "{seen}");
        assert_eq!(seen["record"]["shared"], true);
        assert_eq!(seen["may_write"], false);
        assert_eq!(seen["may_share"], false);
        assert!(!seen.to_string().contains(LATER));
        let (_, list) = listed("parent-worker").await?;
        let items = list["items"].as_array().cloned().unwrap_or_default();
        assert_eq!(items.len(), 1, "the draft is not listed: {list}");
        assert_eq!(items[0]["session_id"], session.as_str());
        assert_eq!(items[0]["shared"], true);
        let (_, later) = world
            .api(
                "parent-worker",
                Method::GET,
                &record_at(&sessions[1], ""),
                None,
            )
            .await?;
        assert!(later["record"].is_null(), "{later}");
        assert_eq!(later["drafted_by_someone_else"], false);
        // Reading it gives the parent-worker no right to change it, or to unshare it.
        for (method, path, body) in [
            (Method::POST, &amend, amendment.clone()),
            (Method::PUT, &draft, json!({"brought": "x", "version": v})),
            (Method::POST, &share, json!({"share": false, "version": v})),
        ] {
            let (status, answer) = world
                .api("parent-worker", method.clone(), path, Some(body))
                .await?;
            assert_eq!(
                status,
                StatusCode::FORBIDDEN,
                "{backend:?} {method} {path}: {answer}"
            );
        }

        // Unshared: gone again for the parent-worker.
        let (status, unshared) = world
            .api(
                "lead",
                Method::POST,
                &share,
                Some(json!({"share": false, "version": v})),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{unshared}");
        assert_eq!(unshared["shared"], false);
        let v = version_of(&unshared);
        let (_, seen) = read("parent-worker").await?;
        assert!(seen["record"].is_null(), "{seen}");
        let (_, list) = listed("parent-worker").await?;
        assert_eq!(list["items"], json!([]), "{list}");

        // The supervisor reads signed records pseudonymised: no name of the child or carer.
        let (status, seen) = read("supervisor").await?;
        assert_eq!(status, StatusCode::OK, "{seen}");
        assert_eq!(seen["record"]["current"]["brought"], AMENDED, "{seen}");
        assert_eq!(seen["may_write"], false);
        assert_eq!(seen["may_share"], false);
        assert!(
            seen["child_label"]
                .as_str()
                .is_some_and(|l| l.contains("ARC")),
            "{seen}"
        );
        let (status, list) = listed("supervisor").await?;
        assert_eq!(status, StatusCode::OK, "{list}");
        assert_eq!(
            list["items"].as_array().map(Vec::len),
            Some(1),
            "signed only: {list}"
        );
        for text in [seen.to_string(), list.to_string()] {
            for name in NAMES {
                assert!(
                    !text.contains(name),
                    "{name} in the supervisor's view: {text}"
                );
            }
        }
        let (_, named) = read("lead").await?;
        assert!(
            named["child_label"]
                .as_str()
                .is_some_and(|l| l.contains("Millie")),
            "the lead sees the name: {named}"
        );

        // A read-only token reads, and writes nothing.
        let reader = world.service.token_for("lead", "read").await?;
        let (status, seen) = world
            .service
            .api(Method::GET, &record_at(&session, ""), &reader, None)
            .await?;
        assert_eq!(status, StatusCode::OK, "{seen}");
        assert_eq!(seen["record"]["current"]["brought"], AMENDED);
        assert_eq!(seen["may_write"], false);
        assert_eq!(seen["may_share"], false);
        for (method, path, body) in [
            (
                Method::PUT,
                record_at(&sessions[2], "/draft"),
                json!({"brought": "x"}),
            ),
            (
                Method::PUT,
                record_at(&sessions[1], "/draft"),
                json!({"brought": "x", "version": 1}),
            ),
            (
                Method::POST,
                record_at(&sessions[1], "/sign"),
                with(complete("x"), json!({"version": 1})),
            ),
            (
                Method::POST,
                amend.clone(),
                with(
                    complete("x"),
                    json!({"reason": "Corrected it", "version": v}),
                ),
            ),
            (
                Method::POST,
                share.clone(),
                json!({"share": true, "version": v}),
            ),
        ] {
            let (status, answer) = world
                .service
                .api(method.clone(), &path, &reader, Some(body))
                .await?;
            assert_eq!(
                status,
                StatusCode::FORBIDDEN,
                "{backend:?} read-only {method} {path}: {answer}"
            );
        }
        let (_, view) = read("lead").await?;
        assert_eq!(view["record"]["version"], v, "nothing changed: {view}");
        assert_eq!(view["record"]["shared"], false);
        let (_, empty) = read_session(&world, &sessions[2]).await?;
        assert!(empty["record"].is_null(), "{empty}");

        // Ids that are not ids, or sessions that do not exist, are not found.
        for path in [
            record_at("not-a-session", ""),
            record_at(&uuid::Uuid::new_v4().to_string(), ""),
            list_at("not-a-case"),
        ] {
            let (status, _) = world.api("lead", Method::GET, &path, None).await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        }

        world.service.server.stop().await;
        assert_not_on_disk(&world.service.db, &[ORIGINAL, AMENDED, REASON, LATER]);
    }
    Ok(())
}

async fn read_session(world: &World, session: &str) -> anyhow::Result<(StatusCode, Value)> {
    world
        .api("lead", Method::GET, &record_at(session, ""), None)
        .await
}
