//! Subject access requests (policy section 5), through the real server on both engines: a
//! request from logging to release, every side of the matrix row "subject access files"
//! tried from the denied side (the case team, another therapist, supervisors, staff, the
//! administrator who sees the request but never the content, the DSL who reviews only the
//! safeguarding material); the named reviewer reading another author's process notes and a
//! non-reviewer who cannot; a redaction absent from the bundle's PDF text (pdftotext), its
//! metadata (pdfinfo) and its JSON; release refused by the outbound rule (a carer under a
//! restriction) and logging refused for a carer without parental responsibility; the
//! reviewer's window closing with time and with the release; and the due date through pauses
//! and an extension.

use crate::children::World;
use crate::count_as_owner;
use crate::pdf::pdf_text;
use crate::safeguarding::{content, raise_and_submit, restart};
use alliance_testkit::backends;
use jiff::ToSpan;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A passage the reviewer removes from the lead's process note: it must never leave.
const REDACTED_PASSAGE: &str = "Uncle Pete's boat at Whitby";
/// The parent-worker's note, withheld whole (serious harm): it must never leave.
const WITHHELD_NOTE: &str = "Mother described the night she left the house";
/// The lead's process note, around the passage.
const LEAD_NOTE: &str =
    "Millie talked about Uncle Pete's boat at Whitby and then about the summer fair.";

fn today() -> jiff::civil::Date {
    crate::safeguarding::today()
}

async fn api(
    world: &World,
    who: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> anyhow::Result<(StatusCode, Value)> {
    world.api(who, method, path, body).await
}

fn at(id: &str) -> String {
    format!("/api/v1/subject-access/{id}")
}

async fn version_of(world: &World, id: &str) -> anyhow::Result<i64> {
    let (status, body) = api(world, "admin", Method::GET, &at(id), None).await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    Ok(body["version"].as_i64().unwrap_or_default())
}

/// POSTs `rest` on the request as `who`, at the request's current version.
async fn act(
    world: &World,
    who: &str,
    id: &str,
    rest: &str,
    mut body: Value,
) -> anyhow::Result<(StatusCode, Value)> {
    body["version"] = json!(version_of(world, id).await?);
    api(
        world,
        who,
        Method::POST,
        &format!("{}/{rest}", at(id)),
        Some(body),
    )
    .await
}

/// Adds a carer: (status, id).
async fn add_carer(world: &World, body: Value) -> anyhow::Result<String> {
    let (status, carer) = api(
        world,
        "admin",
        Method::POST,
        &format!("/api/v1/children/{}/carers", world.child),
        Some(body),
    )
    .await?;
    assert_eq!(status, StatusCode::CREATED, "{carer}");
    Ok(carer["id"].as_str().unwrap_or_default().to_owned())
}

async fn log(world: &World, who: &str, body: Value) -> anyhow::Result<(StatusCode, Value)> {
    api(
        world,
        who,
        Method::POST,
        &format!("/api/v1/children/{}/subject-access", world.child),
        Some(body),
    )
    .await
}

fn parent_request(carer: &str, received: jiff::civil::Date) -> Value {
    json!({"requester_kind": "parental-responsibility", "carer": carer,
        "received_on": received.to_string(), "how_received": "Letter"})
}

/// Logs a parent's request and records the checks: the request's id.
async fn logged_and_checked(world: &World, carer: &str) -> anyhow::Result<String> {
    let received = today().checked_sub(3.days())?;
    let (status, body) = log(world, "admin", parent_request(carer, received)).await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_str().unwrap_or_default().to_owned();
    let (status, body) = act(
        world,
        "admin",
        &id,
        "checks",
        json!({"identity_how": "Passport seen at reception",
            "identity_on": received.to_string(),
            "authority_how": "Birth certificate names her as the child's mother",
            "authority_on": received.to_string()}),
    )
    .await?;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    Ok(id)
}

async fn file(world: &World, who: &str, id: &str) -> anyhow::Result<(StatusCode, Value)> {
    api(world, who, Method::GET, &format!("{}/file", at(id)), None).await
}

async fn decide(
    world: &World,
    who: &str,
    id: &str,
    item: &Value,
    body: Value,
) -> anyhow::Result<(StatusCode, Value)> {
    let path = format!(
        "{}/items/{}/{}",
        at(id),
        item["kind"].as_str().unwrap_or_default(),
        item["id"].as_str().unwrap_or_default()
    );
    api(world, who, Method::PUT, &path, Some(body)).await
}

/// Discloses every item `who` may still decide.
async fn disclose_the_rest(world: &World, who: &str, id: &str) -> anyhow::Result<()> {
    let (status, body) = file(world, who, id).await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    for item in body["items"].as_array().cloned().unwrap_or_default() {
        if item["may_decide"] == true && item["decision"].is_null() {
            let (status, answer) =
                decide(world, who, id, &item, json!({"decision": "disclose"})).await?;
            assert_eq!(status, StatusCode::NO_CONTENT, "{item}: {answer}");
        }
    }
    Ok(())
}

fn items_of(file: &Value) -> Vec<Value> {
    file["items"].as_array().cloned().unwrap_or_default()
}

fn find<'a>(items: &'a [Value], kind: &str, text: &str) -> Option<&'a Value> {
    items
        .iter()
        .find(|i| i["kind"] == kind && i.to_string().contains(text))
}

/// The PDF's metadata (title, author, subject, keywords, XMP), by pdfinfo (poppler-utils).
async fn pdf_metadata(bytes: &[u8]) -> anyhow::Result<String> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("bundle.pdf");
    std::fs::write(&path, bytes)?;
    let mut all = String::new();
    for args in [vec!["-meta"], vec![]] {
        let out = tokio::process::Command::new("pdfinfo")
            .args(&args)
            .arg(&path)
            .output()
            .await
            .map_err(|e| anyhow::anyhow!("pdfinfo is missing ({e}): run scripts/bootstrap"))?;
        anyhow::ensure!(out.status.success(), "pdfinfo failed");
        all.push_str(&String::from_utf8_lossy(&out.stdout));
    }
    Ok(all)
}

async fn download(world: &World, who: &str, path: &str) -> anyhow::Result<(StatusCode, Vec<u8>)> {
    let response = world
        .service
        .server
        .client
        .get(world.service.server.url(path))
        .bearer_auth(&world.tokens[who])
        .send()
        .await?;
    Ok((response.status(), response.bytes().await?.to_vec()))
}

async fn audit_count(world: &World, action: &str) -> anyhow::Result<i64> {
    count_as_owner(
        &world.service.db,
        &format!(
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = '{action}' AND child_id = '{}'",
            world.child
        ),
    )
    .await
}

#[tokio::test]
async fn a_request_goes_from_logging_to_release_and_its_redaction_never_leaves()
-> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build(backend).await?;
        // The record: two authors' process notes, a referral reason, a safeguarding concern.
        for (who, text) in [("lead", LEAD_NOTE), ("parent-worker", WITHHELD_NOTE)] {
            let (status, body) = api(
                &world,
                who,
                Method::POST,
                &format!("/api/v1/cases/{}/process-notes", world.case),
                Some(json!({"text": text})),
            )
            .await?;
            assert_eq!(status, StatusCode::CREATED, "{who}: {body}");
        }
        raise_and_submit(
            &world,
            "lead",
            json!({"child_id": world.child}),
            content("no", &["physical"]),
        )
        .await?;
        let mother = add_carer(
            &world,
            json!({"name": "Jo Clarke", "relationship": "Mother",
                "parental_responsibility": "parent", "may_contact": true}),
        )
        .await?;
        let foster = add_carer(
            &world,
            json!({"name": "Kim Ward", "relationship": "Foster carer", "may_contact": true,
                "day_to_day_care": true}),
        )
        .await?;

        // Logging: administrators only; a carer without parental responsibility is refused.
        let received = today().checked_sub(3.days())?;
        let (status, problem) = log(&world, "admin", parent_request(&foster, received)).await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["errors"][0]["field"], "carer", "{problem}");
        for who in ["service-lead", "dsl"] {
            let (status, problem) = log(&world, who, parent_request(&mother, received)).await?;
            assert_eq!(status, StatusCode::FORBIDDEN, "{who}: {problem}");
        }
        for who in [
            "lead",
            "parent-worker",
            "other-therapist",
            "supervisor",
            "staff",
        ] {
            let (status, problem) = log(&world, who, parent_request(&mother, received)).await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who}: {problem}");
        }
        let id = logged_and_checked(&world, &mother).await?;

        // The request: the administrator, the service lead and the DSL see it; nobody else
        // knows it exists, and the list holds nothing for them.
        for who in ["admin", "service-lead", "dsl"] {
            let (status, body) = api(&world, who, Method::GET, &at(&id), None).await?;
            assert_eq!(status, StatusCode::OK, "{who}: {body}");
            assert_eq!(body["requester"], "Jo Clarke (Mother)", "{body}");
            assert_eq!(body["status"], "checked");
        }
        let denied_before = audit_count(&world, "denied").await?;
        for who in [
            "lead",
            "parent-worker",
            "other-therapist",
            "supervisor",
            "other-supervisor",
            "staff",
        ] {
            let (status, _) = api(&world, who, Method::GET, &at(&id), None).await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who}");
            let (status, _) = file(&world, who, &id).await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who}");
            let (status, list) =
                api(&world, who, Method::GET, "/api/v1/subject-access", None).await?;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(list["items"], json!([]), "{who}: {list}");
        }
        assert!(audit_count(&world, "denied").await? >= denied_before + 12);
        // Nobody but the administrator and the service lead names a reviewer.
        let reviewer = json!({"reviewer": world.ids["other-therapist"]});
        for who in ["dsl", "lead"] {
            let (status, _) = act(&world, who, &id, "reviewer", reviewer.clone()).await?;
            assert!(
                matches!(status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
                "{who}: {status}"
            );
        }
        // The administrator never reads the content; the DSL only in their review.
        for who in ["admin", "dsl"] {
            let (status, _) = file(&world, who, &id).await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who}");
        }

        // The service lead names another therapist, not on the case team, as reviewer.
        let (status, body) = act(&world, "service-lead", &id, "reviewer", reviewer).await?;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        // Their task is scheduled with the naming (the scheduler raises it).
        assert_eq!(
            count_as_owner(
                &world.service.db,
                &format!(
                    "SELECT COUNT(*) AS n FROM firings WHERE rule = 'sar.review' AND recipient = '{}'",
                    world.ids["other-therapist"]
                ),
            )
            .await?,
            1
        );

        // The reviewer reads the whole record: both authors' process notes, the identity,
        // the carers, the case; never the safeguarding material (they are not a DSL).
        let reads_before = audit_count(&world, "sar.read").await?;
        let (status, record) = file(&world, "other-therapist", &id).await?;
        assert_eq!(status, StatusCode::OK, "{record}");
        assert_eq!(record["mode"], "reviewer");
        assert_eq!(audit_count(&world, "sar.read").await?, reads_before + 1);
        let items = items_of(&record);
        let lead_note = find(&items, "process-note", LEAD_NOTE).cloned();
        let other_note = find(&items, "process-note", WITHHELD_NOTE).cloned();
        assert!(lead_note.is_some() && other_note.is_some(), "{record}");
        assert!(
            find(&items, "identity", "Amelia Rose Clarke").is_some(),
            "{record}"
        );
        assert!(find(&items, "carer", "Jo Clarke").is_some(), "{record}");
        assert!(
            !items
                .iter()
                .any(|i| i["kind"].as_str().unwrap_or("").starts_with("concern")),
            "{record}"
        );
        assert!(!record.to_string().contains("belt"), "{record}");
        // The lead (on the case team, but not the reviewer) cannot read the file or decide.
        let (status, _) = file(&world, "lead", &id).await?;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let lead_note = lead_note.unwrap_or_default();
        let other_note = other_note.unwrap_or_default();
        let (status, _) = decide(
            &world,
            "lead",
            &id,
            &lead_note,
            json!({"decision": "disclose"}),
        )
        .await?;
        assert_eq!(status, StatusCode::NOT_FOUND);
        // The administrator still sees the request, never its content.
        let (_, seen) = api(&world, "admin", Method::GET, &at(&id), None).await?;
        for secret in [LEAD_NOTE, WITHHELD_NOTE, "Whitby"] {
            assert!(!seen.to_string().contains(secret), "{seen}");
        }

        // Redact a passage; a passage not in the item is refused.
        let (status, problem) = decide(
            &world,
            "other-therapist",
            &id,
            &lead_note,
            json!({"decision": "redact", "reason": "third-party", "passages": "not in the note"}),
        )
        .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["errors"][0]["field"], "passages");
        let (status, body) = decide(
            &world,
            "other-therapist",
            &id,
            &lead_note,
            json!({"decision": "redact", "reason": "third-party",
                "passages": REDACTED_PASSAGE.to_lowercase()}),
        )
        .await?;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        // Serious harm needs the opinion first: then an outside professional's is recorded.
        let harm = json!({"decision": "withhold", "reason": "serious-harm"});
        let (status, problem) =
            decide(&world, "other-therapist", &id, &other_note, harm.clone()).await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["errors"][0]["field"], "reason");
        // A play therapist on the staff is not an appropriate health professional.
        let (status, problem) = act(
            &world,
            "other-therapist",
            &id,
            "opinion",
            json!({"from": "staff", "staff": world.ids["lead"], "given_on": today().to_string(),
                "opinion": "Likely to cause serious harm"}),
        )
        .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["errors"][0]["field"], "staff");
        let (status, body) = act(
            &world,
            "other-therapist",
            &id,
            "opinion",
            json!({"from": "outside", "name": "Dr R. Patel",
                "profession": "Consultant child psychiatrist", "registration": "GMC 7654321",
                "given_on": today().to_string(),
                "opinion": "Disclosing the mother's account would be likely to cause serious harm"}),
        )
        .await?;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let (status, body) = decide(&world, "other-therapist", &id, &other_note, harm).await?;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        disclose_the_rest(&world, "other-therapist", &id).await?;
        let (status, body) =
            act(&world, "other-therapist", &id, "finish-review", json!({})).await?;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

        // The DSL's review: the administrator sees "in review", the service lead the truth.
        let (_, seen) = api(&world, "admin", Method::GET, &at(&id), None).await?;
        assert_eq!(seen["status"], "in-review", "{seen}");
        let (_, seen) = api(&world, "service-lead", Method::GET, &at(&id), None).await?;
        assert_eq!(seen["status"], "dsl-review", "{seen}");
        // The reviewer cannot decide the safeguarding items, nor finish the DSL's review.
        let (status, _) = act(
            &world,
            "other-therapist",
            &id,
            "finish-dsl-review",
            json!({}),
        )
        .await?;
        assert!(
            matches!(status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
            "{status}"
        );
        let (status, dsl_file) = file(&world, "dsl", &id).await?;
        assert_eq!(status, StatusCode::OK, "{dsl_file}");
        assert_eq!(dsl_file["mode"], "dsl");
        let dsl_items = items_of(&dsl_file);
        assert!(!dsl_items.is_empty(), "{dsl_file}");
        assert!(
            dsl_items
                .iter()
                .all(|i| i["kind"].as_str().unwrap_or("").starts_with("concern")),
            "{dsl_file}"
        );
        assert!(dsl_file.to_string().contains("belt"), "{dsl_file}");
        let (status, _) = act(&world, "dsl", &id, "finish-dsl-review", json!({})).await?;
        assert_eq!(status, StatusCode::CONFLICT, "undecided items first");
        // The concern itself is withheld (third party); its steps disclosed.
        let concern = dsl_items
            .iter()
            .find(|i| i["kind"] == "concern")
            .cloned()
            .unwrap_or_default();
        let (status, body) = decide(
            &world,
            "dsl",
            &id,
            &concern,
            json!({"decision": "withhold", "reason": "child-abuse-data"}),
        )
        .await?;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        disclose_the_rest(&world, "dsl", &id).await?;
        let (status, body) = act(&world, "dsl", &id, "finish-dsl-review", json!({})).await?;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        assert!(
            count_as_owner(
                &world.service.db,
                "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'sar.dsl-reviewed' AND category = 'safeguarding'",
            )
            .await?
                == 1
        );

        // The service lead reads what the bundle holds: the passage already removed, the
        // withheld note's reason only, no passages quoted.
        let (status, lead_view) = file(&world, "service-lead", &id).await?;
        assert_eq!(status, StatusCode::OK, "{lead_view}");
        let text = lead_view.to_string();
        assert!(
            !text.contains("Whitby") && !text.contains(WITHHELD_NOTE),
            "{text}"
        );
        assert!(text.contains("[redacted]"), "{text}");

        // Only the service lead releases.
        for who in ["admin", "dsl", "other-therapist"] {
            let (status, _) = act(&world, who, &id, "release", json!({})).await?;
            assert!(
                matches!(status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
                "{who}: {status}"
            );
        }
        let (status, bundle) = act(&world, "service-lead", &id, "release", json!({})).await?;
        assert_eq!(status, StatusCode::OK, "{bundle}");
        let json_text = bundle.to_string();
        for secret in ["Whitby", WITHHELD_NOTE, "belt"] {
            assert!(!json_text.contains(secret), "{secret:?} in {json_text}");
        }
        assert!(
            json_text.contains("Millie talked about [redacted] and then about the summer fair."),
            "{json_text}"
        );
        assert!(
            json_text.contains("information about other people"),
            "{json_text}"
        );

        // The bundle again: JSON (page download) and PDF; the passage in neither the text nor
        // the metadata.
        let (status, json_bytes) =
            download(&world, "service-lead", &format!("{}/bundle", at(&id))).await?;
        assert_eq!(status, StatusCode::OK);
        let json_again = String::from_utf8_lossy(&json_bytes);
        assert!(!json_again.contains("Whitby") && !json_again.contains(WITHHELD_NOTE));
        let (status, pdf) =
            download(&world, "service-lead", &format!("{}/bundle/pdf", at(&id))).await?;
        assert_eq!(status, StatusCode::OK);
        assert!(pdf.starts_with(b"%PDF"));
        let text = pdf_text(&pdf).await?;
        assert!(text.contains("[redacted]"), "{text}");
        assert!(text.contains("the summer fair"), "{text}");
        for secret in ["Whitby", "Uncle Pete", "night she left", "belt"] {
            assert!(!text.contains(secret), "{secret:?} in {text}");
        }
        let metadata = pdf_metadata(&pdf).await?;
        assert!(metadata.contains("Subject access bundle"), "{metadata}");
        for secret in ["Whitby", "Uncle Pete", "Clarke", "Millie"] {
            assert!(!metadata.contains(secret), "{secret:?} in {metadata}");
        }
        let raw = String::from_utf8_lossy(&pdf);
        assert!(!raw.contains("Whitby"));
        // Nobody else downloads it.
        for who in ["admin", "dsl", "other-therapist", "lead"] {
            let (status, _) = download(&world, who, &format!("{}/bundle/pdf", at(&id))).await?;
            assert!(
                matches!(status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
                "{who}: {status}"
            );
        }
        // Once released, the reviewer's access ends, and the request is no longer pending.
        let (status, _) = file(&world, "other-therapist", &id).await?;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (_, seen) = api(&world, "admin", Method::GET, &at(&id), None).await?;
        assert_eq!(seen["status"], "released");
        assert_eq!(audit_count(&world, "sar.released").await?, 1);
        // A closed request never changes.
        let (status, _) = act(
            &world,
            "admin",
            &id,
            "close",
            json!({"outcome": "withdrawn", "closing_reason": "Changed their mind"}),
        )
        .await?;
        assert_eq!(status, StatusCode::CONFLICT);
    }
    Ok(())
}

/// Takes a parent's request through review (every item disclosed) to ready.
async fn ready(world: &World, carer: &str) -> anyhow::Result<String> {
    let id = logged_and_checked(world, carer).await?;
    let (status, body) = act(
        world,
        "admin",
        &id,
        "reviewer",
        json!({"reviewer": world.ids["other-therapist"]}),
    )
    .await?;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    disclose_the_rest(world, "other-therapist", &id).await?;
    let (status, body) = act(world, "other-therapist", &id, "finish-review", json!({})).await?;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (_, seen) = api(world, "service-lead", Method::GET, &at(&id), None).await?;
    assert_eq!(seen["status"], "ready", "{seen}");
    Ok(id)
}

#[tokio::test]
async fn release_goes_only_where_the_outbound_rule_allows() -> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build(backend).await?;
        // The World's father has parental responsibility and a court order: nothing about
        // where or when the child is seen. A bundle reveals that: refused, with the reason.
        let id = ready(&world, &world.carer).await?;
        let denied = audit_count(&world, "denied").await?;
        let (status, problem) = act(&world, "service-lead", &id, "release", json!({})).await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["errors"][0]["field"], "release", "{problem}");
        assert!(problem.to_string().contains("restriction"), "{problem}");
        assert_eq!(audit_count(&world, "denied").await?, denied + 1);
        let (_, seen) = api(&world, "service-lead", Method::GET, &at(&id), None).await?;
        assert_eq!(seen["status"], "ready", "nothing released: {seen}");
        // It stays pending (a hold on destruction) until closed.
        assert_eq!(
            count_as_owner(
                &world.service.db,
                "SELECT COUNT(*) AS n FROM subject_access_requests WHERE status NOT IN ('released', 'refused', 'withdrawn')",
            )
            .await?,
            1
        );
        let (status, body) = act(
            &world,
            "service-lead",
            &id,
            "close",
            json!({"outcome": "refused", "closing_reason": "The court order forbids it"}),
        )
        .await?;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

        // The young person's own request: released to them.
        let received = today().checked_sub(2.days())?;
        let (status, body) = log(
            &world,
            "admin",
            json!({"requester_kind": "young-person", "received_on": received.to_string(),
                "how_received": "In person"}),
        )
        .await?;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let young = body["id"].as_str().unwrap_or_default().to_owned();
        // Authority is not asked of the young person; identity is.
        let (status, problem) = act(
            &world,
            "admin",
            &young,
            "checks",
            json!({"identity_how": "", "identity_on": ""}),
        )
        .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        let (status, body) = act(
            &world,
            "admin",
            &young,
            "checks",
            json!({"identity_how": "Known to the service; school ID seen",
                "identity_on": received.to_string()}),
        )
        .await?;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let (status, body) = act(
            &world,
            "service-lead",
            &young,
            "reviewer",
            json!({"reviewer": world.ids["lead"]}),
        )
        .await?;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        disclose_the_rest(&world, "lead", &young).await?;
        let (status, body) = act(&world, "lead", &young, "finish-review", json!({})).await?;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let (status, bundle) = act(&world, "service-lead", &young, "release", json!({})).await?;
        assert_eq!(status, StatusCode::OK, "{bundle}");
        assert!(
            bundle["letter"][0]
                .as_str()
                .unwrap_or("")
                .contains("about you"),
            "{bundle}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn the_reviewers_window_closes_after_its_days() -> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build(backend).await?;
        let mother = add_carer(
            &world,
            json!({"name": "Jo Clarke", "relationship": "Mother",
                "parental_responsibility": "parent", "may_contact": true}),
        )
        .await?;
        // The service's window is one day.
        let (status, body) = api(
            &world,
            "admin",
            Method::PUT,
            "/api/v1/subject-access/settings",
            Some(json!({"version": 0, "reviewer_days": 1, "competence_age": 12})),
        )
        .await?;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, _) = api(
            &world,
            "service-lead",
            Method::PUT,
            "/api/v1/subject-access/settings",
            Some(json!({"version": 1, "reviewer_days": 30, "competence_age": 12})),
        )
        .await?;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let id = logged_and_checked(&world, &mother).await?;
        let (status, body) = act(
            &world,
            "admin",
            &id,
            "reviewer",
            json!({"reviewer": world.ids["other-therapist"]}),
        )
        .await?;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let (status, _) = file(&world, "other-therapist", &id).await?;
        assert_eq!(status, StatusCode::OK);
        // Two days later the window has closed: not found, audited.
        let later = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(49)).to_string();
        let world = restart(world, &["--clock-starts-at", &later]).await?;
        let denied = audit_count(&world, "denied").await?;
        let (status, _) = file(&world, "other-therapist", &id).await?;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = api(&world, "other-therapist", Method::GET, &at(&id), None).await?;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let denied_now = count_as_owner(
            &world.service.db,
            &format!(
                "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'denied' AND record_id = '{id}'"
            ),
        )
        .await?;
        assert!(
            denied_now >= 2,
            "{denied_now} (child's denials before: {denied})"
        );
        // Naming them again opens a new window.
        let (status, body) = act(
            &world,
            "admin",
            &id,
            "reviewer",
            json!({"reviewer": world.ids["other-therapist"]}),
        )
        .await?;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let (status, _) = file(&world, "other-therapist", &id).await?;
        assert_eq!(status, StatusCode::OK);
        // An administrator-only account or a member of staff is never a reviewer.
        let (status, problem) = act(
            &world,
            "admin",
            &id,
            "reviewer",
            json!({"reviewer": world.ids["staff"]}),
        )
        .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    }
    Ok(())
}

#[tokio::test]
async fn the_due_date_pauses_extends_and_moves_off_bank_holidays() -> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build(backend).await?;
        // Received Saturday 25 April 2026: a month on is Monday 25 May, the spring bank
        // holiday: due Tuesday 26 May.
        let (status, body) = log(
            &world,
            "admin",
            json!({"requester_kind": "young-person", "received_on": "25/04/2026",
                "how_received": "Email"}),
        )
        .await?;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let id = body["id"].as_str().unwrap_or_default().to_owned();
        let (_, seen) = api(&world, "admin", Method::GET, &at(&id), None).await?;
        assert_eq!(seen["due"]["date"], "2026-05-26", "{seen}");
        assert_eq!(seen["due"]["month_end"], "2026-05-25", "{seen}");
        // Paused from 27 April: no due date; a second pause at once is refused.
        let (status, body) = act(
            &world,
            "admin",
            &id,
            "pause",
            json!({"reason": "identity", "started_on": "2026-04-27"}),
        )
        .await?;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let (_, seen) = api(&world, "admin", Method::GET, &at(&id), None).await?;
        assert_eq!(seen["status"], "paused");
        assert!(seen["due"]["date"].is_null(), "{seen}");
        assert_eq!(seen["due"]["paused_for"], "identity");
        let (status, _) = act(
            &world,
            "admin",
            &id,
            "pause",
            json!({"reason": "clarification", "started_on": "2026-04-28"}),
        )
        .await?;
        assert_eq!(status, StatusCode::CONFLICT);
        // Restarted on 4 May: seven days added, 1 June (a Monday).
        let (status, body) = act(
            &world,
            "admin",
            &id,
            "resume",
            json!({"ended_on": "2026-05-04"}),
        )
        .await?;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let (_, seen) = api(&world, "admin", Method::GET, &at(&id), None).await?;
        assert_eq!(seen["status"], "logged");
        assert_eq!(seen["due"]["paused_days"], 7);
        assert_eq!(seen["due"]["date"], "2026-06-01", "{seen}");
        // An extension told after the first month is refused; within it, allowed: three
        // months from receipt (25 July, a Saturday) plus seven days is Saturday 1 August →
        // Monday 3 August.
        let (status, problem) = act(
            &world,
            "admin",
            &id,
            "extension",
            json!({"told_on": "2026-06-02", "extension_reason": "Complex: two services' records"}),
        )
        .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["errors"][0]["field"], "told_on");
        let (status, body) = act(
            &world,
            "service-lead",
            &id,
            "extension",
            json!({"told_on": "2026-05-20", "extension_reason": "Complex: two services' records"}),
        )
        .await?;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let (_, seen) = api(&world, "admin", Method::GET, &at(&id), None).await?;
        assert_eq!(seen["due"]["extended"], true);
        assert_eq!(seen["due"]["date"], "2026-08-03", "{seen}");
        assert_eq!(seen["extension_told_on"], "2026-05-20");
        // Extended once only; a stale version is refused.
        let (status, _) = act(
            &world,
            "admin",
            &id,
            "extension",
            json!({"told_on": "2026-05-20", "extension_reason": "Again"}),
        )
        .await?;
        assert_eq!(status, StatusCode::CONFLICT);
        let (status, _) = api(
            &world,
            "admin",
            Method::POST,
            &format!("{}/resume", at(&id)),
            Some(json!({"version": 1, "ended_on": "2026-05-04"})),
        )
        .await?;
        assert_eq!(status, StatusCode::CONFLICT);
        // The page shows the working.
        let page = world
            .service
            .server
            .client
            .get(world.service.server.url(&format!("/subject-access/{id}")))
            .bearer_auth(&world.tokens["admin"])
            .send()
            .await?;
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await?;
        assert!(html.contains("03/08/2026"), "{html}");
        assert!(html.contains("plus 7 days paused"), "{html}");
    }
    Ok(())
}
