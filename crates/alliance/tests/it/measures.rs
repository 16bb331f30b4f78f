//! Issue 17 (measures) through the real server on both engines: the library lists what is
//! shipped and what the service added; clinicians, the DSL, the service lead and
//! administrators read it, staff-only accounts do not; only administrators and the service
//! lead add definitions (each id and version once, never a shipped one) and load licensed
//! wording; a malformed file is refused with every problem named by its path and nothing is
//! saved; every addition is audited.

use crate::accounts::{PASSWORD, Service, sign_in_and_enrol};
use crate::count_as_owner;
use alliance_testkit::{Browser, backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::HashMap;

const NEW_MEASURE: &str = r#"
id = "riverside-checkin"
version = 1
name = "Riverside check-in"
respondent = "child"
min_age = 8
max_age = 12
given = "end-of-session"
validated = false
note = "Our own two questions, written by the service; not validated."
scoring = { method = "sum", total_min = 0, total_max = 4, higher_is = "better" }

[scales.faces]
kind = "faces"
choices = [{ value = 0, label = "Sad" }, { value = 1, label = "In between" }, { value = 2, label = "Happy" }]

[[items]]
id = "today"
text = "How was today?"
scale = "faces"

[[items]]
id = "next"
text = "Do you want to come back?"
scale = "faces"

[licence]
name = "The service's own"
holder = "Riverside Play Therapy"
wording_shipped = true
"#;

const SRS_WORDING: &str = r#"
measure = "srs"
version = 1
[items]
relationship = "Words one"
goals = "Words two"
approach = "Words three"
overall = "Words four"
[choices]
line = ["Low end words", "High end words"]
"#;

struct Setup {
    service: Service,
    tokens: HashMap<&'static str, String>,
}

impl Setup {
    async fn start(backend: alliance_testkit::Backend) -> anyhow::Result<Self> {
        let service = Service::start(backend).await?;
        let mut tokens = HashMap::new();
        for (who, roles) in [
            ("therapist", vec!["therapist"]),
            ("dsl", vec!["dsl"]),
            ("staff", vec!["staff"]),
            ("service-lead", vec!["service-lead"]),
            ("supervisor", vec!["supervisor"]),
        ] {
            service.add_user(who, &roles).await?;
            tokens.insert(who, service.token_for(who, "read-write").await?);
        }
        tokens.insert("reader", service.token_for("service-lead", "read").await?);
        tokens.insert("admin", service.admin_token.clone());
        Ok(Self { service, tokens })
    }

    async fn api(
        &self,
        who: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<(StatusCode, Value)> {
        self.service
            .api(method, path, &self.tokens[who], body)
            .await
    }

    async fn page(&self, who: &str, path: &str) -> anyhow::Result<(StatusCode, String)> {
        let response = self
            .service
            .server
            .client
            .get(self.service.server.url(path))
            .bearer_auth(&self.tokens[who])
            .send()
            .await?;
        Ok((response.status(), response.text().await?))
    }

    async fn count(&self, sql: &str) -> anyhow::Result<i64> {
        count_as_owner(&self.service.db, sql).await
    }
}

fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn the_library_lists_shipped_measures_to_clinicians_not_to_staff() -> anyhow::Result<()> {
    for backend in backends() {
        let s = Setup::start(backend).await?;
        for who in [
            "therapist",
            "dsl",
            "supervisor",
            "service-lead",
            "admin",
            "reader",
        ] {
            let (status, list) = s.api(who, Method::GET, "/api/v1/measures", None).await?;
            assert_eq!(status, StatusCode::OK, "{backend:?} {who}: {list}");
            assert_eq!(list["items"].as_array().map(Vec::len), Some(12), "{list}");
        }
        let (_, list) = s
            .api("therapist", Method::GET, "/api/v1/measures", None)
            .await?;
        assert_eq!(list["may_manage"], false);
        let srs = list["items"]
            .as_array()
            .and_then(|a| a.iter().find(|m| m["id"] == "srs"))
            .cloned()
            .unwrap_or_default();
        assert_eq!(srs["wording_shipped"], false);
        assert_eq!(srs["can_be_given"], false);
        assert_eq!(srs["origin"], "shipped");
        let (_, list) = s
            .api("service-lead", Method::GET, "/api/v1/measures", None)
            .await?;
        assert_eq!(list["may_manage"], true);

        // Staff-only accounts do not read the library; the refusal is audited.
        let (status, _) = s
            .api("staff", Method::GET, "/api/v1/measures", None)
            .await?;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = s
            .api("staff", Method::GET, "/api/v1/measures/srs/1", None)
            .await?;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = s.page("staff", "/measures").await?;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(
            s.count("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'denied' AND record_type = 'measure'")
                .await?,
            3
        );

        // ORS: the cut-offs are a table by age band, each with its source, not confirmed.
        let (status, ors) = s
            .api("therapist", Method::GET, "/api/v1/measures/ors/1", None)
            .await?;
        assert_eq!(status, StatusCode::OK, "{ors}");
        let cutoffs = ors["definition"]["cutoffs"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(cutoffs.len(), 2);
        assert_eq!(cutoffs[0]["min_age"], 13);
        assert_eq!(cutoffs[0]["value"], 28.0);
        assert_eq!(cutoffs[0]["confirmed"], false);
        assert!(
            ors["definition"]["items"][0]
                .get("text")
                .is_none_or(Value::is_null)
        );
        for path in [
            "/api/v1/measures/ors/9",
            "/api/v1/measures/nothing/1",
            "/api/v1/measures/ors/x",
        ] {
            let (status, _) = s.api("therapist", Method::GET, path, None).await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        }

        // The pages, read-only for a therapist.
        let (status, html) = s.page("therapist", "/measures").await?;
        assert_eq!(status, StatusCode::OK);
        assert!(
            html.contains("Session Rating Scale (SRS), version 1"),
            "{html}"
        );
        assert!(html.contains("Not validated"));
        assert!(!html.contains("Add a definition"));
        let (status, html) = s.page("therapist", "/measures/srs/1").await?;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains(
            "Licensed wording, not shipped: a licensed service loads it from its own file."
        ));
        assert!(html.contains("36"));
        assert!(!html.contains("Load the wording"));
        let (status, html) = s.page("therapist", "/measures/gbo/1").await?;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("Goal Based Outcomes (GBO) (c) Duncan Law, CC BY-NC-SA 4.0"));
        let (status, html) = s.page("admin", "/measures").await?;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("Add a definition"));
        let (status, html) = s.page("admin", "/measures/srs/1").await?;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("Load the wording"));
        s.service.server.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn definitions_are_added_once_and_malformed_files_are_refused_by_path() -> anyhow::Result<()>
{
    for backend in backends() {
        let s = Setup::start(backend).await?;
        let body = json!({"text": NEW_MEASURE});
        for who in ["therapist", "dsl", "staff", "supervisor", "reader"] {
            let (status, _) = s
                .api(who, Method::POST, "/api/v1/measures", Some(body.clone()))
                .await?;
            assert_eq!(status, StatusCode::FORBIDDEN, "{backend:?} {who}");
        }
        let broken = NEW_MEASURE
            .replace("id = \"next\"", "id = \"today\"")
            .replace("scale = \"faces\"\n\n[licence]", "scale = \"smiles\"\n\n[licence]")
            .replace("validated = false\nnote = \"Our own two questions, written by the service; not validated.\"", "validated = false");
        let (status, problem) = s
            .api(
                "admin",
                Method::POST,
                "/api/v1/measures",
                Some(json!({"text": broken, "format": "toml"})),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        let at = fields(&problem);
        for path in ["items[1].id", "items[1].scale", "note"] {
            assert!(at.iter().any(|f| f == path), "{path} in {problem}");
        }
        let (status, problem) = s
            .api(
                "admin",
                Method::POST,
                "/api/v1/measures",
                Some(json!({"text": "id = ["})),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(fields(&problem), ["file"]);
        let (status, _) = s
            .api(
                "admin",
                Method::POST,
                "/api/v1/measures",
                Some(json!({"text": NEW_MEASURE, "format": "yaml"})),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            s.count("SELECT COUNT(*) AS n FROM measure_definitions")
                .await?,
            0
        );

        // A shipped id and version is never reused.
        let srs = alliance_core::measures::SHIPPED_FILES
            .iter()
            .find(|(name, _)| *name == "srs.toml")
            .map(|(_, t)| *t)
            .unwrap_or_default();
        let (status, problem) = s
            .api(
                "admin",
                Method::POST,
                "/api/v1/measures",
                Some(json!({"text": srs})),
            )
            .await?;
        assert_eq!(status, StatusCode::CONFLICT, "{problem}");
        // A new version of it is added, as JSON too.
        let mut v2: Value =
            serde_json::to_value(alliance_core::measures::shipped_definition("srs", 1))?;
        v2["version"] = json!(2);
        v2["cutoffs"][0]["flag_when"] = json!("at-or-below");
        let (status, added) = s
            .api(
                "admin",
                Method::POST,
                "/api/v1/measures",
                Some(json!({"text": v2.to_string()})),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{added}");
        assert_eq!(added["origin"], "service");
        assert_eq!(
            added["definition"]["cutoffs"][0]["flag_when"],
            "at-or-below"
        );
        let (status, added) = s
            .api(
                "service-lead",
                Method::POST,
                "/api/v1/measures",
                Some(body.clone()),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{added}");
        assert_eq!(added["can_be_given"], true);
        // Written once: the same id and version again is refused, and nothing changes.
        let changed = NEW_MEASURE.replace("How was today?", "Changed words");
        let (status, _) = s
            .api(
                "admin",
                Method::POST,
                "/api/v1/measures",
                Some(json!({"text": changed})),
            )
            .await?;
        assert_eq!(status, StatusCode::CONFLICT);
        let (_, now) = s
            .api(
                "therapist",
                Method::GET,
                "/api/v1/measures/riverside-checkin/1",
                None,
            )
            .await?;
        assert_eq!(now["definition"]["items"][0]["text"], "How was today?");
        assert_eq!(
            s.count("SELECT COUNT(*) AS n FROM measure_definitions")
                .await?,
            2
        );
        assert_eq!(
            s.count(
                "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'measure.definition-added'"
            )
            .await?,
            2
        );
        let (_, list) = s
            .api("therapist", Method::GET, "/api/v1/measures", None)
            .await?;
        let items = list["items"].as_array().cloned().unwrap_or_default();
        assert_eq!(items.len(), 14);
        let srs1 = items
            .iter()
            .find(|m| m["id"] == "srs" && m["version"] == 1)
            .cloned()
            .unwrap_or_default();
        let srs2 = items
            .iter()
            .find(|m| m["id"] == "srs" && m["version"] == 2)
            .cloned()
            .unwrap_or_default();
        assert_eq!(
            (srs1["latest"].clone(), srs2["latest"].clone()),
            (json!(false), json!(true))
        );
        s.service.server.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn licensed_wording_is_loaded_by_the_service_and_applied() -> anyhow::Result<()> {
    for backend in backends() {
        let s = Setup::start(backend).await?;
        let path = "/api/v1/measures/srs/1/wording";
        let body = json!({"text": SRS_WORDING});
        for who in ["therapist", "dsl", "staff", "reader"] {
            let (status, _) = s.api(who, Method::POST, path, Some(body.clone())).await?;
            assert_eq!(status, StatusCode::FORBIDDEN, "{backend:?} {who}");
        }
        let (status, _) = s
            .api(
                "admin",
                Method::POST,
                "/api/v1/measures/nothing/1/wording",
                Some(body.clone()),
            )
            .await?;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let bad = SRS_WORDING.replace("overall = \"Words four\"\n", "");
        let (status, problem) = s
            .api("admin", Method::POST, path, Some(json!({"text": bad})))
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(fields(&problem), ["items.overall"]);
        // A measure that ships its words takes none.
        let (status, _) = s
            .api(
                "admin",
                Method::POST,
                "/api/v1/measures/alliance-checkin-teen/1/wording",
                Some(body.clone()),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            s.count("SELECT COUNT(*) AS n FROM measure_wordings")
                .await?,
            0
        );

        let (status, loaded) = s
            .api("service-lead", Method::POST, path, Some(body.clone()))
            .await?;
        assert_eq!(status, StatusCode::OK, "{loaded}");
        assert_eq!(loaded["can_be_given"], true);
        assert!(loaded["wording_loaded_at"].is_string());
        let (_, srs) = s
            .api("therapist", Method::GET, "/api/v1/measures/srs/1", None)
            .await?;
        assert_eq!(srs["definition"]["items"][0]["text"], "Words one");
        assert_eq!(srs["definition"]["scales"]["line"]["low"], "Low end words");
        // Loading again replaces it.
        let again = SRS_WORDING.replace("Words one", "Words one, corrected");
        let (status, _) = s
            .api("admin", Method::POST, path, Some(json!({"text": again})))
            .await?;
        assert_eq!(status, StatusCode::OK);
        let (_, srs) = s
            .api("therapist", Method::GET, "/api/v1/measures/srs/1", None)
            .await?;
        assert_eq!(
            srs["definition"]["items"][0]["text"],
            "Words one, corrected"
        );
        assert_eq!(
            s.count("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'measure.wording-loaded'")
                .await?,
            2
        );
        let (status, html) = s.page("therapist", "/measures/srs/1").await?;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("Words one, corrected"));
        assert!(!html.contains("<p class=\"notice\">Licensed wording, not shipped"));
        let (_, list) = s
            .api("therapist", Method::GET, "/api/v1/measures", None)
            .await?;
        let srs = list["items"]
            .as_array()
            .and_then(|a| a.iter().find(|m| m["id"] == "srs"))
            .cloned()
            .unwrap_or_default();
        assert_eq!(srs["can_be_given"], true);
        s.service.server.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn the_add_page_lists_problems_by_path_and_keeps_the_text() -> anyhow::Result<()> {
    for backend in backends() {
        let s = Setup::start(backend).await?;
        s.service.add_user("ada", &["administrator"]).await?;
        let mut browser = Browser::new(&s.service.server);
        sign_in_and_enrol(&mut browser, "ada", PASSWORD).await?;
        let form = browser.get("/measures/new").await?;
        assert_eq!(form.status, 200, "{}", form.body);
        let csrf = form.input("_csrf").unwrap_or_default();
        let broken = NEW_MEASURE.replace("total_max = 4", "total_max = 9");
        let refused = browser
            .post(
                "/measures",
                &[("_csrf", &csrf), ("format", "toml"), ("text", &broken)],
            )
            .await?;
        assert_eq!(refused.status, 422, "{}", refused.body);
        assert!(
            refused.body.contains("<code>scoring.total_min</code>"),
            "{}",
            refused.body
        );
        assert!(
            refused.body.contains("total_max = 9"),
            "the text area keeps what was pasted"
        );
        assert_eq!(
            s.count("SELECT COUNT(*) AS n FROM measure_definitions")
                .await?,
            0
        );
        let added = browser
            .post(
                "/measures",
                &[("_csrf", &csrf), ("format", "toml"), ("text", NEW_MEASURE)],
            )
            .await?;
        assert_eq!(added.status, 303, "{}", added.body);
        assert_eq!(
            added.location(),
            Some("/measures/riverside-checkin/1?done=added")
        );
        let again = browser
            .post(
                "/measures",
                &[("_csrf", &csrf), ("format", "toml"), ("text", NEW_MEASURE)],
            )
            .await?;
        assert_eq!(again.status, 409);
        assert!(
            again
                .body
                .contains("a measure changes only by a new version")
        );
        let page = browser.get("/measures/srs/1/wording").await?;
        assert_eq!(page.status, 200);
        // The file to fill in names every item and scale (quotes escaped in the HTML).
        let skeleton = page.body.replace("&#34;", "\"").replace("&quot;", "\"");
        assert!(
            skeleton.contains("\"relationship\" = \"\""),
            "{}",
            page.body
        );
        assert!(
            skeleton.contains("\"line\" = [\"\", \"\"]"),
            "{}",
            page.body
        );
        let loaded = browser
            .post(
                "/measures/srs/1/wording",
                &[("_csrf", &csrf), ("format", "toml"), ("text", SRS_WORDING)],
            )
            .await?;
        assert_eq!(loaded.status, 303, "{}", loaded.body);
        // A therapist's session may not open the pages that add.
        let (status, _) = s.page("therapist", "/measures/new").await?;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = s.page("therapist", "/measures/srs/1/wording").await?;
        assert_eq!(status, StatusCode::FORBIDDEN);
        s.service.server.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn the_cli_checks_a_definition_file_without_a_database() -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("alliance-measures-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let good = dir.join("riverside.toml");
    std::fs::write(&good, NEW_MEASURE)?;
    let out = alliance_testkit::run(
        &crate::alliance_binary(),
        &["measures", "check", &good.display().to_string()],
    )
    .await?;
    assert!(out.success, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("Riverside check-in (riverside-checkin), version 1: sound"),
        "{}",
        out.stdout
    );
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        NEW_MEASURE.replace(
            "scale = \"faces\"\n\n[licence]",
            "scale = \"smiles\"\n\n[licence]",
        ),
    )?;
    let out = alliance_testkit::run(
        &crate::alliance_binary(),
        &["measures", "check", &bad.display().to_string()],
    )
    .await?;
    assert!(!out.success);
    assert!(
        out.stderr
            .contains("items[1].scale: no scale is called 'smiles'"),
        "{}",
        out.stderr
    );
    let json = dir.join("srs.json");
    std::fs::write(
        &json,
        alliance_core::measures::shipped_definition("srs", 1)
            .map(alliance_core::measures::Definition::to_json)
            .unwrap_or_default(),
    )?;
    let out = alliance_testkit::run(
        &crate::alliance_binary(),
        &["measures", "check", &json.display().to_string()],
    )
    .await?;
    assert!(!out.success, "a shipped id and version would be refused");
    assert!(
        out.stderr.contains("is shipped with Alliance"),
        "{}",
        out.stderr
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
