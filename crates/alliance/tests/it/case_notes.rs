//! Private process notes, contact logs and supervision records (issue 12), through the real
//! server on both engines. Process notes reach their author and nobody else, by any way in,
//! and never reach the database files or the server's log. Contacts with a carer the rules
//! would not contact are logged only with an explicit override (audited); the log is read by
//! the case team, the DSL and (pseudonymised) the lead's supervisor, and by nobody else; the
//! service's contact policy is the administrators' to change, within bounds; the scheduler
//! asks for a review meeting with the carers once, and not again after one. Supervision is
//! recorded by a supervisor for their own supervisees only, by case number and never a name,
//! and read by the two of them alone. Every refusal is tried from the denied side.

use crate::children::World;
use crate::frame::scheduler;
use crate::{alliance_binary, count_as_owner};
use alliance_testkit::{Backend, TestDatabase, backends};
use jiff::ToSpan;
use jiff::civil::{Date, Weekday};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// Names of the child's and the carers' that a pseudonymised reader must never be shown.
const NAMES: [&str; 6] = ["Amelia", "Rose", "Millie", "Clarke", "Sam", "Lee"];

fn today() -> Date {
    alliance_core::uk::london()
        .to_datetime(jiff::Timestamp::now())
        .date()
}

fn id_of(body: &Value) -> String {
    body["id"].as_str().unwrap_or_default().to_owned()
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

fn notes_at(case: &str) -> String {
    format!("/api/v1/cases/{case}/process-notes")
}

fn contacts_at(case: &str) -> String {
    format!("/api/v1/cases/{case}/contacts")
}

/// No marker anywhere in the SQLite database's files (main, WAL, shared memory); on
/// PostgreSQL, none in the sealed columns given. The servers must be stopped first for SQLite.
async fn assert_not_stored(
    db: &TestDatabase,
    markers: &[&str],
    columns: &[(&str, &str)],
) -> anyhow::Result<()> {
    match db.backend {
        Backend::Sqlite => {
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
        Backend::Postgres => {
            for (table, column) in columns {
                for marker in markers {
                    let found = count_as_owner(
                        db,
                        &format!(
                            "SELECT COUNT(*) AS n FROM {table} \
                             WHERE position(convert_to('{marker}', 'UTF8') in {column}) > 0"
                        ),
                    )
                    .await?;
                    assert_eq!(found, 0, "{marker} in plaintext in {table}.{column}");
                }
            }
        }
    }
    // The audit trail holds ids, never content.
    for marker in markers {
        let found = count_as_owner(
            db,
            &format!(
                "SELECT COUNT(*) AS n FROM audit_log WHERE detail LIKE '%{marker}%' \
                 OR record_id LIKE '%{marker}%'"
            ),
        )
        .await?;
        assert_eq!(found, 0, "{marker} in the audit trail");
    }
    Ok(())
}

/// The number of audit entries with `action`, optionally about the World's child.
async fn audited(world: &World, action: &str) -> anyhow::Result<i64> {
    count_as_owner(
        &world.service.db,
        &format!(
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = '{action}' AND child_id = '{}'",
            world.child
        ),
    )
    .await
}

/// A term around today, a room at the World's school, and a regular Monday slot for `case`
/// at `start` (the scheduler walks the cases that have one).
async fn give_slot(world: &World, case: &str, label: &str, start: &str) -> anyhow::Result<()> {
    let from = alliance_core::uk::date(today().checked_sub(30.days())?);
    let to = alliance_core::uk::date(today().checked_add(120.days())?);
    let (status, calendar) = world
        .api(
            "admin",
            Method::POST,
            "/api/v1/calendars",
            Some(json!({"name": format!("{label} calendar"),
                "rows": format!("kind,name,starts,ends,reason\nterm,Test term,{from},{to},\n")})),
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
            Some(json!({"name": format!("{label} Room"), "capacity": 4, "step_free": true})),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{room}");
    let monday = today().nth_weekday(1, Weekday::Monday)?;
    let (status, schedule) = world
        .api(
            "lead",
            Method::PUT,
            &format!("/api/v1/cases/{case}/slot"),
            Some(json!({"calendar": calendar["id"], "room": room["id"],
                "weekday": "monday", "start": start, "minutes": 50,
                "from": monday.to_string()})),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{schedule}");
    Ok(())
}

/// Sets a case's referral date and first session (the start of the work) as its lead.
async fn set_first_seen(
    world: &World,
    child: &str,
    case: &str,
    received: Date,
    first_seen: Date,
) -> anyhow::Result<()> {
    let (status, record) = world
        .api(
            "lead",
            Method::GET,
            &format!("/api/v1/children/{child}"),
            None,
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{record}");
    let version = record["cases"]
        .as_array()
        .and_then(|c| c.iter().find(|x| x["id"] == case))
        .map(|c| c["version"].clone())
        .unwrap_or(Value::Null);
    let (status, record) = world
        .api(
            "lead",
            Method::PUT,
            &format!("/api/v1/cases/{case}"),
            Some(json!({"version": version, "referral_source": "school",
                "referral_received": received.to_string(),
                "first_seen": first_seen.to_string()})),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{record}");
    Ok(())
}

/// `who`'s open tasks raised by `rule`.
async fn tasks_by(world: &World, who: &str, rule: &str) -> anyhow::Result<Vec<Value>> {
    let (status, tasks) = world
        .api(who, Method::GET, "/api/v1/tasks?limit=100", None)
        .await?;
    assert_eq!(status, StatusCode::OK, "{tasks}");
    Ok(tasks["items"]
        .as_array()
        .map(|t| t.iter().filter(|x| x["rule"] == rule).cloned().collect())
        .unwrap_or_default())
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

    /// An API call to this server with `token`.
    async fn api(
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

// ----- process notes --------------------------------------------------------------------------

#[tokio::test]
async fn process_notes_reach_their_author_and_nobody_else() -> anyhow::Result<()> {
    const NOTE: &str = "MARKER-n0te-i-felt-pulled-to-rescue-her";
    const PW_NOTE: &str = "MARKER-pw-n0te-mum-seemed-exhausted";
    const READONLY: &str = "MARKER-r3adonly-should-never-land";
    for backend in backends() {
        let world = World::build(backend).await?;
        let case = world.case.clone();
        let path = notes_at(&case);
        // Everything about the notes' text goes through a second server whose log is kept.
        let server = LoggedServer::start(&world.service.db).await?;
        let token = |who: &str| world.tokens[who].clone();

        // The lead has none yet, and may write.
        let (status, mine) = server.api(&token("lead"), Method::GET, &path, None).await?;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {mine}");
        assert_eq!(mine["notes"], json!([]), "{mine}");
        assert_eq!(mine["may_write"], true, "{mine}");
        assert_eq!(mine["case_id"], case.as_str());

        // An empty note is refused by field.
        let (status, problem) = server
            .api(
                &token("lead"),
                Method::POST,
                &path,
                Some(json!({"text": "   "})),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(fields_of(&problem), ["text"], "{problem}");

        // The lead writes a note and reads it back.
        let written_before = audited(&world, "process-note.written").await?;
        let (status, created) = server
            .api(
                &token("lead"),
                Method::POST,
                &path,
                Some(json!({"text": format!("{NOTE}\nSecond line")})),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let note_id = id_of(&created);
        assert!(!note_id.is_empty(), "{created}");
        assert_eq!(
            audited(&world, "process-note.written").await?,
            written_before + 1,
            "the note's writing is audited"
        );
        let (status, mine) = server.api(&token("lead"), Method::GET, &path, None).await?;
        assert_eq!(status, StatusCode::OK, "{mine}");
        let notes = mine["notes"].as_array().cloned().unwrap_or_default();
        assert_eq!(notes.len(), 1, "{mine}");
        assert_eq!(notes[0]["id"], note_id.as_str());
        assert_eq!(notes[0]["text"], format!("{NOTE}\nSecond line"));
        assert_eq!(notes[0]["case_id"], case.as_str());

        // The parent-worker keeps notes of their own: none of the lead's are theirs.
        let (status, theirs) = server
            .api(&token("parent-worker"), Method::GET, &path, None)
            .await?;
        assert_eq!(status, StatusCode::OK, "{theirs}");
        assert_eq!(theirs["notes"], json!([]), "{theirs}");
        assert!(!theirs.to_string().contains("MARKER"), "{theirs}");
        let (status, created) = server
            .api(
                &token("parent-worker"),
                Method::POST,
                &path,
                Some(json!({"text": PW_NOTE})),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let (_, theirs) = server
            .api(&token("parent-worker"), Method::GET, &path, None)
            .await?;
        let text = theirs.to_string();
        assert!(text.contains(PW_NOTE) && !text.contains(NOTE), "{text}");
        // ...and the lead does not see the parent-worker's.
        let (_, mine) = server.api(&token("lead"), Method::GET, &path, None).await?;
        let text = mine.to_string();
        assert!(text.contains(NOTE) && !text.contains(PW_NOTE), "{text}");
        assert_eq!(mine["notes"].as_array().map(Vec::len), Some(1), "{mine}");

        // Nobody else reaches the notes: not found, audited, and nothing of the text.
        let denied = format!(
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'denied' AND child_id = '{}'",
            world.child
        );
        let before = count_as_owner(&world.service.db, &denied).await?;
        let outsiders = [
            "other-therapist",
            "supervisor",
            "other-supervisor",
            "dsl",
            "service-lead",
            "staff",
            "admin",
        ];
        for who in outsiders {
            let (status, body) = server.api(&token(who), Method::GET, &path, None).await?;
            assert_eq!(
                status,
                StatusCode::NOT_FOUND,
                "{backend:?} {who} reads the notes: {body}"
            );
            assert!(!body.to_string().contains("MARKER"), "{who}: {body}");
            let (status, body) = server
                .api(
                    &token(who),
                    Method::POST,
                    &path,
                    Some(json!({"text": "An outsider's note"})),
                )
                .await?;
            assert_eq!(
                status,
                StatusCode::NOT_FOUND,
                "{backend:?} {who} writes a note: {body}"
            );
        }
        assert!(
            count_as_owner(&world.service.db, &denied).await? >= before + 2 * 7,
            "every refusal is audited"
        );

        // Nor through anything else: the child, the lists, the case's other records, tasks.
        scheduler(&world).await?;
        let child = world.child.clone();
        let elsewhere = [
            format!("/api/v1/children/{child}"),
            "/api/v1/children".to_owned(),
            "/api/v1/tasks?open=false&limit=100".to_owned(),
            format!("/api/v1/cases/{case}/session-records"),
            format!("/api/v1/cases/{case}/sessions"),
            format!("/api/v1/cases/{case}/agreement"),
            format!("/api/v1/cases/{case}/checklist"),
            contacts_at(&case),
            "/api/v1/me/supervision".to_owned(),
            "/api/v1/timetables/me".to_owned(),
            "/api/v1/me".to_owned(),
        ];
        for who in outsiders.iter().chain(&["lead", "parent-worker"]) {
            for other in &elsewhere {
                let (status, body) = server.api(&token(who), Method::GET, other, None).await?;
                assert!(
                    !body.to_string().contains(NOTE),
                    "{backend:?} {who} learns the lead's note through {other} ({status}): {body}"
                );
                if *who != "parent-worker" {
                    assert!(
                        !body.to_string().contains(PW_NOTE),
                        "{who} learns the parent-worker's note through {other}: {body}"
                    );
                }
            }
        }
        // The notes' own URL answers each person with their own alone, even by a note's id.
        let (status, body) = server
            .api(
                &token("parent-worker"),
                Method::GET,
                &format!("{path}/{note_id}"),
                None,
            )
            .await?;
        assert!(
            !body.to_string().contains(NOTE),
            "{status} by the note's id: {body}"
        );

        // A read-only token of the lead's reads, and writes nothing.
        let reader = world.service.token_for("lead", "read").await?;
        let (status, mine) = server.api(&reader, Method::GET, &path, None).await?;
        assert_eq!(status, StatusCode::OK, "{mine}");
        assert_eq!(mine["may_write"], false, "{mine}");
        let (status, problem) = server
            .api(
                &reader,
                Method::POST,
                &path,
                Some(json!({"text": READONLY})),
            )
            .await?;
        assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
        let (_, mine) = server.api(&token("lead"), Method::GET, &path, None).await?;
        assert_eq!(mine["notes"].as_array().map(Vec::len), Some(1), "{mine}");

        // Neither the log nor the database files hold a note's text.
        let log = server.stop().await;
        assert!(log.contains("status=201"), "the log was captured: {log}");
        for marker in [NOTE, PW_NOTE, READONLY, "Second line"] {
            assert!(!log.contains(marker), "{marker} in the server's log");
        }
        world.service.server.stop().await;
        assert_not_stored(
            &world.service.db,
            &[NOTE, PW_NOTE, READONLY],
            &[("process_notes", "\"text\"")],
        )
        .await?;
    }
    Ok(())
}

// ----- contact logs ---------------------------------------------------------------------------

#[tokio::test]
async fn contacts_are_logged_with_overrides_and_read_by_those_the_policy_allows()
-> anyhow::Result<()> {
    const SHARED: &str = "MARKER-sh4red-times-after-half-term";
    const AGREED: &str = "MARKER-agr33d-dad-brings-her-mondays";
    const OVERRIDE: &str = "MARKER-0verride-police-asked-to-confirm-safety";
    const SENCO: &str = "MARKER-s3nco-attends-weekly";
    for backend in backends() {
        let world = World::build(backend).await?;
        let case = world.case.clone();
        let path = contacts_at(&case);
        let on = today().checked_sub(3.days())?.to_string();
        // A carer whom a court order keeps from contact.
        let (status, barred) = world
            .api(
                "admin",
                Method::POST,
                &format!("/api/v1/children/{}/carers", world.child),
                Some(json!({"name": "Lee Clarke", "relationship": "Uncle",
                    "may_contact": true,
                    "restrictions": [{"kind": "no-contact", "source": "court-order",
                        "dated": "2025-05-12", "reference": "Non-molestation order"}]})),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{barred}");
        let barred = id_of(&barred);

        // The log starts empty; the carers are offered, the barred one needing an override.
        let (status, log) = world.api("lead", Method::GET, &path, None).await?;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {log}");
        assert_eq!(log["contacts"], json!([]), "{log}");
        assert_eq!(log["may_write"], true);
        let carers = log["carers"].as_array().cloned().unwrap_or_default();
        let offered = |id: &str| {
            carers
                .iter()
                .find(|c| c["id"] == id)
                .cloned()
                .unwrap_or(Value::Null)
        };
        assert!(offered(&world.carer)["needs_override"].is_null(), "{log}");
        assert!(
            offered(&barred)["needs_override"].is_string(),
            "the barred carer needs an override: {log}"
        );
        assert!(
            offered(&world.carer)["label"]
                .as_str()
                .is_some_and(|l| l.contains("Sam Clarke")),
            "{log}"
        );

        // A call with the father, who may be contacted.
        let logged_before = audited(&world, "contact.logged").await?;
        let (status, call) = world
            .api(
                "lead",
                Method::POST,
                &path,
                Some(
                    json!({"with": "carer", "carer": world.carer, "kind": "phone-call",
                    "on": on, "shared": SHARED, "agreed": AGREED}),
                ),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{call}");
        assert_eq!(audited(&world, "contact.logged").await?, logged_before + 1);
        // An override where none is needed is refused.
        let (status, problem) = world
            .api(
                "lead",
                Method::POST,
                &path,
                Some(
                    json!({"with": "carer", "carer": world.carer, "kind": "message",
                    "on": on, "shared": "Reminder of Monday",
                    "override_reason": "No reason is needed here at all"}),
                ),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(fields_of(&problem), ["override_reason"], "{problem}");

        // The barred uncle: refused without an override, or with too short a reason...
        let overrides_before = audited(&world, "contact.override").await?;
        let barred_call = |reason: Option<&str>| {
            let mut body = json!({"with": "carer", "carer": barred, "kind": "phone-call",
                "on": on, "shared": "Confirmed the child is safe"});
            if let Some(reason) = reason {
                body["override_reason"] = json!(reason);
            }
            body
        };
        for reason in [None, Some("police")] {
            let (status, problem) = world
                .api("lead", Method::POST, &path, Some(barred_call(reason)))
                .await?;
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{backend:?} {reason:?}: {problem}"
            );
            assert_eq!(fields_of(&problem), ["override_reason"], "{problem}");
        }
        // ...and accepted with one, audited as an override.
        let (status, overridden) = world
            .api(
                "lead",
                Method::POST,
                &path,
                Some(barred_call(Some(OVERRIDE))),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{overridden}");
        assert_eq!(
            audited(&world, "contact.override").await?,
            overrides_before + 1,
            "the override is audited"
        );
        let named = count_as_owner(
            &world.service.db,
            &format!(
                "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'contact.override' \
                 AND record_id = '{barred}'"
            ),
        )
        .await?;
        assert_eq!(named, 1, "the override names the carer");

        // The school's SENCo, with consent; a professional never needs an override.
        let senco = json!({"with": "professional", "role": "senco", "name": "Ms Patel",
            "organisation": "Oakfield Primary", "basis": "consent", "kind": "meeting",
            "on": on, "shared": SENCO});
        let (status, senco_logged) = world
            .api("lead", Method::POST, &path, Some(senco.clone()))
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{senco_logged}");
        let mut with_override = senco.clone();
        with_override["override_reason"] = json!("Not needed for a professional");
        let (status, problem) = world
            .api("lead", Method::POST, &path, Some(with_override))
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(fields_of(&problem), ["override_reason"], "{problem}");

        // Bad contacts are refused field by field; a stranger's carer is not a carer here.
        let (status, problem) = world
            .api(
                "lead",
                Method::POST,
                &path,
                Some(json!({"with": "professional", "kind": "pigeon",
                    "on": "2099-01-01", "shared": ""})),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(
            fields_of(&problem),
            ["role", "name", "basis", "kind", "on", "shared"],
            "{problem}"
        );
        let (status, problem) = world
            .api(
                "lead",
                Method::POST,
                &path,
                Some(
                    json!({"with": "carer", "carer": uuid::Uuid::new_v4().to_string(),
                    "kind": "email", "on": on, "shared": "Nothing"}),
                ),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(fields_of(&problem), ["carer"], "{problem}");

        // The parent-worker logs too.
        let (status, by_parent_worker) = world
            .api(
                "parent-worker",
                Method::POST,
                &path,
                Some(
                    json!({"with": "carer", "carer": world.carer, "kind": "video-call",
                    "on": today().to_string(), "shared": "How home has been this week"}),
                ),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{by_parent_worker}");

        // The lead reads the four, newest first by date, with what was shared and agreed.
        let (status, log) = world.api("lead", Method::GET, &path, None).await?;
        assert_eq!(status, StatusCode::OK, "{log}");
        let contacts = log["contacts"].as_array().cloned().unwrap_or_default();
        assert_eq!(contacts.len(), 4, "{log}");
        let entry = |id: &str| {
            contacts
                .iter()
                .find(|c| c["id"] == id)
                .cloned()
                .unwrap_or(Value::Null)
        };
        let the_call = entry(&id_of(&call));
        assert_eq!(the_call["with"], "carer", "{log}");
        assert_eq!(the_call["carer"], world.carer.as_str());
        assert_eq!(the_call["kind"], "phone-call");
        assert_eq!(the_call["on"], on.as_str());
        assert_eq!(the_call["shared"], SHARED);
        assert_eq!(the_call["agreed"], AGREED);
        assert!(the_call["override_reason"].is_null(), "{the_call}");
        let the_override = entry(&id_of(&overridden));
        assert_eq!(the_override["override_reason"], OVERRIDE, "{log}");
        let theirs = entry(&id_of(&by_parent_worker));
        assert_eq!(theirs["kind"], "video-call", "the parent-worker's: {log}");
        assert!(
            theirs["recorded_by"]
                .as_str()
                .is_some_and(|r| r.contains("parent-worker")),
            "{theirs}"
        );
        let professional = entry(&id_of(&senco_logged));
        assert_eq!(professional["with"], "professional", "{log}");
        assert_eq!(professional["role"], "senco", "{log}");
        assert_eq!(professional["basis"], "consent");
        assert_eq!(professional["name"], "Ms Patel");
        assert_eq!(professional["shared"], SENCO);
        assert_eq!(
            contacts[0]["on"],
            today().to_string(),
            "newest first: {log}"
        );

        // The DSL reads, writes nothing.
        let (status, seen) = world.api("dsl", Method::GET, &path, None).await?;
        assert_eq!(status, StatusCode::OK, "{seen}");
        assert_eq!(seen["contacts"].as_array().map(Vec::len), Some(4));
        assert_eq!(seen["may_write"], false);
        // The lead's supervisor reads, pseudonymised: no name of the child's or a carer's.
        let (status, seen) = world.api("supervisor", Method::GET, &path, None).await?;
        assert_eq!(status, StatusCode::OK, "{seen}");
        assert_eq!(seen["contacts"].as_array().map(Vec::len), Some(4));
        assert_eq!(seen["may_write"], false);
        let text = seen.to_string();
        for name in NAMES {
            assert!(
                !text.contains(name),
                "{backend:?} {name} in the supervisor's contact log: {text}"
            );
        }
        assert!(
            seen["child_label"]
                .as_str()
                .is_some_and(|l| l.contains("ARC")),
            "{seen}"
        );
        let body = json!({"with": "carer", "carer": world.carer, "kind": "email",
            "on": on, "shared": "Nothing"});
        for who in ["dsl", "supervisor"] {
            let (status, problem) = world
                .api(who, Method::POST, &path, Some(body.clone()))
                .await?;
            assert_eq!(status, StatusCode::FORBIDDEN, "{who} logs: {problem}");
        }

        // Nobody else: not found, both ways, audited.
        let denied = format!(
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'denied' AND child_id = '{}'",
            world.child
        );
        let before = count_as_owner(&world.service.db, &denied).await?;
        for who in [
            "other-therapist",
            "other-supervisor",
            "staff",
            "admin",
            "service-lead",
        ] {
            let (status, seen) = world.api(who, Method::GET, &path, None).await?;
            assert_eq!(
                status,
                StatusCode::NOT_FOUND,
                "{backend:?} {who} reads the log: {seen}"
            );
            assert!(!seen.to_string().contains("MARKER"), "{who}: {seen}");
            let (status, answer) = world
                .api(who, Method::POST, &path, Some(body.clone()))
                .await?;
            assert_eq!(
                status,
                StatusCode::NOT_FOUND,
                "{backend:?} {who} logs: {answer}"
            );
        }
        assert!(
            count_as_owner(&world.service.db, &denied).await? >= before + 2 * 5,
            "every refusal is audited"
        );

        // A read-only token reads, and logs nothing.
        let reader = world.service.token_for("lead", "read").await?;
        let (status, seen) = world.service.api(Method::GET, &path, &reader, None).await?;
        assert_eq!(status, StatusCode::OK, "{seen}");
        assert_eq!(seen["may_write"], false);
        let (status, problem) = world
            .service
            .api(Method::POST, &path, &reader, Some(body.clone()))
            .await?;
        assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
        let (_, log) = world.api("lead", Method::GET, &path, None).await?;
        assert_eq!(log["contacts"].as_array().map(Vec::len), Some(4), "{log}");

        // "Not to be contacted" needs an override too; and once the young person consents for
        // themselves and agrees their carers may be told nothing, so does the father.
        let (status, not_to_contact) = world
            .api(
                "admin",
                Method::POST,
                &format!("/api/v1/children/{}/carers", world.child),
                Some(json!({"name": "Jo Marsh", "relationship": "Grandmother",
                    "may_contact": false})),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{not_to_contact}");
        let not_to_contact = id_of(&not_to_contact);
        let (_, record) = world.child_as("lead").await?;
        let details = record["details"].clone();
        let (status, updated) = world
            .api(
                "lead",
                Method::PUT,
                &format!("/api/v1/children/{}", world.child),
                Some(json!({"version": record["version"],
                    "legal_name": details["legal_name"],
                    "preferred_name": details["preferred_name"],
                    "date_of_birth": details["date_of_birth"], "sex": details["sex"],
                    "consents_for_self": true, "carers_may_be_told": []})),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{updated}");
        let (_, log) = world.api("lead", Method::GET, &path, None).await?;
        for carer in [&not_to_contact, &world.carer] {
            let offered = log["carers"]
                .as_array()
                .and_then(|c| c.iter().find(|x| x["id"] == carer.as_str()))
                .cloned()
                .unwrap_or(Value::Null);
            assert!(offered["needs_override"].is_string(), "{carer}: {log}");
            let (status, problem) = world
                .api(
                    "lead",
                    Method::POST,
                    &path,
                    Some(json!({"with": "carer", "carer": carer, "kind": "email",
                        "on": on, "shared": "Session times"})),
                )
                .await?;
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{backend:?} {carer}: {problem}"
            );
            assert_eq!(fields_of(&problem), ["override_reason"], "{problem}");
        }
        let (_, log) = world.api("lead", Method::GET, &path, None).await?;
        assert_eq!(log["contacts"].as_array().map(Vec::len), Some(4), "{log}");

        // What was said is sealed.
        world.service.server.stop().await;
        assert_not_stored(
            &world.service.db,
            &[SHARED, AGREED, OVERRIDE, SENCO],
            &[("contact_logs", "detail")],
        )
        .await?;
    }
    Ok(())
}

#[tokio::test]
async fn the_contact_policy_is_read_by_all_and_changed_by_administrators_within_bounds()
-> anyhow::Result<()> {
    const POLICY: &str = "/api/v1/service/contact-policy";
    for backend in backends() {
        let world = World::build(backend).await?;
        for who in ["lead", "staff", "dsl", "supervisor", "admin"] {
            let (status, policy) = world.api(who, Method::GET, POLICY, None).await?;
            assert_eq!(status, StatusCode::OK, "{backend:?} {who}: {policy}");
            assert_eq!(policy["carer_review_weeks"], 6, "{policy}");
            assert!(policy["version"].is_null(), "{policy}");
        }
        for who in ["lead", "parent-worker", "dsl", "service-lead", "staff"] {
            let (status, problem) = world
                .api(
                    who,
                    Method::PUT,
                    POLICY,
                    Some(json!({"carer_review_weeks": 4})),
                )
                .await?;
            assert_eq!(status, StatusCode::FORBIDDEN, "{who}: {problem}");
        }
        let reader = world.service.token_for("admin", "read").await?;
        let (status, _) = world
            .service
            .api(
                Method::PUT,
                POLICY,
                &reader,
                Some(json!({"carer_review_weeks": 4})),
            )
            .await?;
        assert_eq!(status, StatusCode::FORBIDDEN, "a read-only token");
        for weeks in [0, 27, -1] {
            let (status, problem) = world
                .api(
                    "admin",
                    Method::PUT,
                    POLICY,
                    Some(json!({"carer_review_weeks": weeks})),
                )
                .await?;
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{weeks}: {problem}"
            );
            assert_eq!(fields_of(&problem), ["carer_review_weeks"], "{problem}");
        }
        for weeks in [1, 26] {
            let (_, current) = world.api("admin", Method::GET, POLICY, None).await?;
            let (status, changed) = world
                .api(
                    "admin",
                    Method::PUT,
                    POLICY,
                    Some(json!({"carer_review_weeks": weeks, "version": current["version"]})),
                )
                .await?;
            assert_eq!(status, StatusCode::OK, "{weeks}: {changed}");
            assert_eq!(changed["carer_review_weeks"], weeks);
        }
        let (_, current) = world.api("lead", Method::GET, POLICY, None).await?;
        assert_eq!(current["carer_review_weeks"], 26, "{current}");
        assert_eq!(current["version"], 2, "{current}");
        // A stale version, or none once one is stored, is refused; nothing changes.
        for stale in [json!(1), Value::Null] {
            let (status, problem) = world
                .api(
                    "admin",
                    Method::PUT,
                    POLICY,
                    Some(json!({"carer_review_weeks": 8, "version": stale})),
                )
                .await?;
            assert_eq!(status, StatusCode::CONFLICT, "{stale}: {problem}");
        }
        let (status, changed) = world
            .api(
                "admin",
                Method::PUT,
                POLICY,
                Some(json!({"carer_review_weeks": 8, "version": 2})),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{changed}");
        assert_eq!(changed["carer_review_weeks"], 8);
        // The case's next review follows the policy: eight weeks from the first session.
        let first_seen = Date::new(2026, 9, 17)?;
        set_first_seen(
            &world,
            &world.child,
            &world.case,
            Date::new(2026, 9, 10)?,
            first_seen,
        )
        .await?;
        let (_, log) = world
            .api("lead", Method::GET, &contacts_at(&world.case), None)
            .await?;
        assert_eq!(
            log["next_review"],
            first_seen.checked_add(8.weeks())?.to_string(),
            "{log}"
        );
        world.service.server.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn a_review_with_the_carers_is_asked_for_once_and_not_after_a_meeting() -> anyhow::Result<()>
{
    const RULE: &str = "case.carer-review";
    const TITLE: &str = "Arrange a review meeting with the carers";
    for backend in backends() {
        let world = World::build(backend).await?;
        let case = world.case.clone();
        give_slot(&world, &case, "Willow", "15:30").await?;

        // The work began four weeks ago: within the six weeks, nothing is asked.
        let recent = today().checked_sub(4.weeks())?;
        set_first_seen(&world, &world.child, &case, recent, recent).await?;
        scheduler(&world).await?;
        for who in ["parent-worker", "lead"] {
            assert!(
                tasks_by(&world, who, RULE).await?.is_empty(),
                "{backend:?} {who} asked too soon"
            );
        }

        // A second child whose case has no parent-worker: the lead is asked for that one.
        let (status, child) = world
            .api(
                "admin",
                Method::POST,
                "/api/v1/children",
                Some(
                    json!({"legal_name": "Robin Ashdown", "date_of_birth": "2015-06-01",
                    "sex": "not-known"}),
                ),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{child}");
        let other_child = id_of(&child);
        let (status, record) = world
            .api(
                "admin",
                Method::POST,
                &format!("/api/v1/children/{other_child}/cases"),
                Some(
                    json!({"referral_source": "gp", "referral_received": "2025-01-06",
                    "lead": world.ids["lead"]}),
                ),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{record}");
        let other_case = record["cases"][0]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        give_slot(&world, &other_case, "Birch", "10:00").await?;

        // Both began long ago, with no meeting with a carer since: asked once each, however
        // often the scheduler runs.
        let long_ago = Date::new(2025, 1, 6)?;
        set_first_seen(
            &world,
            &world.child,
            &case,
            long_ago,
            long_ago.checked_add(7.days())?,
        )
        .await?;
        set_first_seen(
            &world,
            &other_child,
            &other_case,
            long_ago,
            long_ago.checked_add(14.days())?,
        )
        .await?;
        scheduler(&world).await?;
        scheduler(&world).await?;
        let asked = tasks_by(&world, "parent-worker", RULE).await?;
        assert_eq!(asked.len(), 1, "{backend:?}: {asked:?}");
        assert_eq!(asked[0]["subject_id"], case.as_str(), "{asked:?}");
        assert_eq!(asked[0]["child_id"], world.child.as_str());
        let title = asked[0]["title"].as_str().unwrap_or_default();
        assert!(title.starts_with(TITLE), "{title}");
        assert!(title.contains("C00001"), "{title}");
        for name in NAMES {
            assert!(!title.contains(name), "{title}");
        }
        let lead = tasks_by(&world, "lead", RULE).await?;
        assert_eq!(
            lead.len(),
            1,
            "only for the case without a parent-worker: {lead:?}"
        );
        assert_eq!(lead[0]["subject_id"], other_case.as_str(), "{lead:?}");
        for who in [
            "other-therapist",
            "supervisor",
            "dsl",
            "service-lead",
            "admin",
        ] {
            assert!(
                tasks_by(&world, who, RULE).await?.is_empty(),
                "{who} is asked"
            );
        }

        // A meeting with the father today: no new review is asked for.
        let (status, met) = world
            .api(
                "parent-worker",
                Method::POST,
                &contacts_at(&case),
                Some(
                    json!({"with": "carer", "carer": world.carer, "kind": "meeting",
                    "on": today().to_string(), "shared": "How the work is going",
                    "agreed": "Meet again before Christmas"}),
                ),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{met}");
        let (_, log) = world
            .api("parent-worker", Method::GET, &contacts_at(&case), None)
            .await?;
        assert_eq!(
            log["next_review"],
            today().checked_add(6.weeks())?.to_string(),
            "{log}"
        );
        scheduler(&world).await?;
        scheduler(&world).await?;
        let again = tasks_by(&world, "parent-worker", RULE).await?;
        assert_eq!(again.len(), 1, "nothing new after the meeting: {again:?}");
        assert_eq!(again[0]["id"], asked[0]["id"]);
        let (_, all) = world
            .api(
                "parent-worker",
                Method::GET,
                "/api/v1/tasks?open=false&limit=100",
                None,
            )
            .await?;
        let raised = all["items"]
            .as_array()
            .map(|t| t.iter().filter(|x| x["rule"] == RULE).count())
            .unwrap_or_default();
        assert_eq!(raised, 1, "{all}");
        world.service.server.stop().await;
    }
    Ok(())
}

// ----- supervision ----------------------------------------------------------------------------

#[tokio::test]
async fn supervision_is_recorded_for_ones_own_supervisees_by_case_number() -> anyhow::Result<()> {
    const ACTIONS: &str = "MARKER-acti0ns-plan-the-ending-with-care";
    const ME: &str = "/api/v1/me/supervision";
    const RECORD: &str = "/api/v1/supervisions";
    for backend in backends() {
        let world = World::build(backend).await?;
        let held_on = today().checked_sub(2.days())?.to_string();
        let lead = world.ids["lead"].clone();
        let supervision = |supervisee: &str, cases: &[&str]| {
            json!({"supervisee": supervisee, "held_on": held_on, "minutes": 90,
                "cases": cases, "actions": ACTIONS, "group": false})
        };

        // The supervisor sees whom they supervise, and has given nothing yet.
        let (status, mine) = world.api("supervisor", Method::GET, ME, None).await?;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {mine}");
        assert_eq!(mine["given"], json!([]), "{mine}");
        let supervisees = mine["supervisees"].to_string();
        assert!(supervisees.contains(&lead), "{mine}");
        assert!(
            !supervisees.contains(&world.ids["other-therapist"]),
            "{mine}"
        );

        // A case named rather than numbered is refused, as are bad minutes and a future date.
        let (status, problem) = world
            .api(
                "supervisor",
                Method::POST,
                RECORD,
                Some(supervision(&lead, &["Millie"])),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(fields_of(&problem), ["cases"], "{problem}");
        assert!(!problem.to_string().contains("Amelia"), "{problem}");
        let (status, problem) = world
            .api(
                "supervisor",
                Method::POST,
                RECORD,
                Some(
                    json!({"supervisee": lead, "held_on": "2099-01-01", "minutes": 0,
                    "cases": ["C00001"]}),
                ),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(fields_of(&problem), ["held_on", "minutes"], "{problem}");

        // The supervisor records a supervision of the lead.
        let recorded_before = count_as_owner(
            &world.service.db,
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'supervision.recorded'",
        )
        .await?;
        let (status, created) = world
            .api(
                "supervisor",
                Method::POST,
                RECORD,
                Some(supervision(&lead, &["C00001", "c7", "1"])),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let id = id_of(&created);
        assert_eq!(
            count_as_owner(
                &world.service.db,
                "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'supervision.recorded'",
            )
            .await?,
            recorded_before + 1
        );

        // The lead sees it under what they received, with the minutes counted.
        let (status, mine) = world.api("lead", Method::GET, ME, None).await?;
        assert_eq!(status, StatusCode::OK, "{mine}");
        let received = mine["received"].as_array().cloned().unwrap_or_default();
        assert_eq!(received.len(), 1, "{mine}");
        assert_eq!(received[0]["id"], id.as_str(), "{mine}");
        assert_eq!(received[0]["held_on"], held_on.as_str(), "{mine}");
        assert_eq!(received[0]["minutes"], 90, "{mine}");
        assert_eq!(received[0]["cases"], json!(["C00001", "C00007"]), "{mine}");
        assert_eq!(received[0]["actions"], ACTIONS, "{mine}");
        assert_eq!(mine["minutes_last_year"], 90, "{mine}");
        assert_eq!(mine["given"], json!([]), "{mine}");
        // The supervisor sees it under what they gave.
        let (_, theirs) = world.api("supervisor", Method::GET, ME, None).await?;
        let given = theirs["given"].as_array().cloned().unwrap_or_default();
        assert_eq!(given.len(), 1, "{theirs}");
        assert_eq!(given[0]["id"], id.as_str());
        assert_eq!(theirs["received"], json!([]), "{theirs}");

        // Nobody else sees any of it.
        for who in [
            "other-therapist",
            "parent-worker",
            "other-supervisor",
            "dsl",
            "service-lead",
            "staff",
            "admin",
        ] {
            let (status, seen) = world.api(who, Method::GET, ME, None).await?;
            assert_eq!(status, StatusCode::OK, "{who}: {seen}");
            assert_eq!(seen["received"], json!([]), "{who}: {seen}");
            assert_eq!(seen["given"], json!([]), "{who}: {seen}");
            assert_eq!(seen["minutes_last_year"], 0, "{who}: {seen}");
            assert!(!seen.to_string().contains("MARKER"), "{who}: {seen}");
        }

        // Refused: a supervisor recording someone not theirs; a therapist recording; another
        // supervisor recording the lead; each audited.
        let denied = "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'denied' \
                      AND record_type = 'supervision'";
        let before = count_as_owner(&world.service.db, denied).await?;
        for (who, supervisee) in [
            ("supervisor", world.ids["other-therapist"].clone()),
            ("supervisor", world.ids["parent-worker"].clone()),
            ("supervisor", "not-a-user".to_owned()),
            ("other-supervisor", lead.clone()),
            ("lead", world.ids["parent-worker"].clone()),
            ("lead", lead.clone()),
            ("dsl", lead.clone()),
            ("admin", lead.clone()),
        ] {
            let (status, problem) = world
                .api(
                    who,
                    Method::POST,
                    RECORD,
                    Some(supervision(&supervisee, &["C00001"])),
                )
                .await?;
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{backend:?} {who} records for {supervisee}: {problem}"
            );
            assert_eq!(fields_of(&problem), ["supervisee"], "{who}: {problem}");
        }
        assert!(
            count_as_owner(&world.service.db, denied).await? >= before + 7,
            "the refusals are audited"
        );
        // A read-only token of the supervisor's records nothing.
        let reader = world.service.token_for("supervisor", "read").await?;
        let (status, problem) = world
            .service
            .api(
                Method::POST,
                RECORD,
                &reader,
                Some(supervision(&lead, &["C00001"])),
            )
            .await?;
        assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
        let (status, seen) = world.service.api(Method::GET, ME, &reader, None).await?;
        assert_eq!(status, StatusCode::OK, "{seen}");
        let (_, mine) = world.api("lead", Method::GET, ME, None).await?;
        assert_eq!(
            mine["received"].as_array().map(Vec::len),
            Some(1),
            "only the one recorded: {mine}"
        );
        let rows =
            count_as_owner(&world.service.db, "SELECT COUNT(*) AS n FROM supervisions").await?;
        assert_eq!(rows, 1);
        let named = count_as_owner(
            &world.service.db,
            "SELECT COUNT(*) AS n FROM supervisions WHERE cases LIKE '%Millie%'",
        )
        .await?;
        assert_eq!(named, 0);

        // The actions are sealed.
        world.service.server.stop().await;
        assert_not_stored(
            &world.service.db,
            &[ACTIONS],
            &[("supervisions", "actions")],
        )
        .await?;
    }
    Ok(())
}
