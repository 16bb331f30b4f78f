//! The command line: start-up fails with a clear message and changes nothing.

use crate::{Opened, alliance_binary};
use alliance_testkit::{TestDatabase, TestServer, backends, run};
use serde_json::Value;

#[tokio::test]
async fn a_bad_database_url_is_refused_and_nothing_is_created() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("never-created");
    let data_arg = data.display().to_string();
    for (url, expect) in [
        (
            "mysql://root@localhost/x",
            "must start with sqlite:// or postgres://",
        ),
        ("postgres://", "names no host"),
        ("postgres://root@127.0.0.1:5432", "names no database"),
    ] {
        let out = run(
            &alliance_binary(),
            &["--data", &data_arg, "--database", url, "serve"],
        )
        .await?;
        assert!(!out.success, "{url} was accepted");
        assert!(out.stderr.contains(expect), "{url}: {}", out.stderr);
        assert!(!data.exists(), "{url}: the data folder was created");
    }
    Ok(())
}

#[tokio::test]
async fn an_unreachable_database_is_named_without_its_password() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let out = run(
        &alliance_binary(),
        &[
            "--data",
            &data.display().to_string(),
            "--database",
            "postgres://someone:hunter2secret@127.0.0.1:1/alliance",
            "serve",
        ],
    )
    .await?;
    assert!(!out.success);
    assert!(
        out.stderr.contains("cannot reach the database"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("127.0.0.1:1"), "{}", out.stderr);
    assert!(!out.stderr.contains("hunter2secret") && !out.stdout.contains("hunter2secret"));

    let check = run(
        &alliance_binary(),
        &[
            "--data",
            &data.display().to_string(),
            "--database",
            "postgres://someone:hunter2secret@127.0.0.1:1/alliance",
            "check-config",
        ],
    )
    .await?;
    assert!(!check.success);
    assert!(
        check
            .stdout
            .contains("postgres://someone:********@127.0.0.1:1/alliance"),
        "{}",
        check.stdout
    );
    assert!(!check.stdout.contains("hunter2secret") && !check.stderr.contains("hunter2secret"));
    Ok(())
}

#[tokio::test]
async fn an_unusable_data_folder_is_refused() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a folder")?;
    let data = file.join("data").display().to_string();
    let out = run(&alliance_binary(), &["--data", &data, "serve"]).await?;
    assert!(!out.success);
    assert!(out.stderr.contains("data folder"), "{}", out.stderr);
    assert_eq!(std::fs::read_to_string(&file)?, "not a folder");
    Ok(())
}

#[tokio::test]
async fn the_config_file_is_read_and_unknown_keys_are_refused() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().display().to_string();
    std::fs::write(
        dir.path().join("alliance.toml"),
        "bind = \"127.0.0.1:9123\"\n",
    )?;
    let out = run(&alliance_binary(), &["--data", &data, "check-config"]).await?;
    assert!(out.success, "{}", out.stderr);
    assert!(
        out.stdout.contains("127.0.0.1:9123 (alliance.toml)"),
        "{}",
        out.stdout
    );
    assert!(
        !dir.path().join("alliance.sqlite3").exists(),
        "check-config created the database"
    );

    std::fs::write(
        dir.path().join("alliance.toml"),
        "bind = \"127.0.0.1:9123\"\nport = 80\n",
    )?;
    let out = run(&alliance_binary(), &["--data", &data, "check-config"]).await?;
    assert!(!out.success);
    assert!(
        out.stderr.contains("unknown field `port`"),
        "{}",
        out.stderr
    );
    Ok(())
}

#[tokio::test]
async fn plain_http_beyond_loopback_needs_to_be_asked_for() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let out = run(
        &alliance_binary(),
        &[
            "--data",
            &data.display().to_string(),
            "serve",
            "--bind",
            "0.0.0.0:0",
        ],
    )
    .await?;
    assert!(!out.success);
    assert!(out.stderr.contains("--insecure-http"), "{}", out.stderr);
    assert!(!data.exists());
    Ok(())
}

#[tokio::test]
async fn a_database_from_a_newer_alliance_stops_the_server_before_it_changes_anything()
-> anyhow::Result<()> {
    for backend in backends() {
        let db = TestDatabase::new(backend).await?;
        let opened = Opened::migrated(&db).await?;
        crate::insert_future_migration(&db).await?;
        for command in ["serve", "migrate", "demo", "check-config"] {
            let mut args = db.owner_args();
            args.push(command.to_owned());
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = run(&alliance_binary(), &args).await?;
            assert!(
                !out.success,
                "{backend:?} {command} accepted a newer database"
            );
            assert!(
                out.stderr.contains("newer than this"),
                "{backend:?} {command}: {}",
                out.stderr
            );
        }
        assert!(opened.store().is_empty().await?, "nothing was written");
        opened.close().await;
    }
    Ok(())
}

/// An API token for a demo account, made from the command line.
async fn demo_token(db: &TestDatabase, username: &str) -> anyhow::Result<String> {
    let data = db.data_path().display().to_string();
    let out = run(
        &alliance_binary(),
        &[
            "--data",
            &data,
            "--database",
            &db.app_url,
            "token",
            "create",
            "--username",
            username,
        ],
    )
    .await?;
    assert!(out.success, "{}", out.stderr);
    Ok(out.stdout.trim().to_owned())
}

async fn api_get(server: &TestServer, token: &str, path: &str) -> anyhow::Result<Value> {
    let response = server
        .client
        .get(server.url(path))
        .bearer_auth(token)
        .send()
        .await?;
    assert_eq!(response.status(), 200, "{path}");
    Ok(response.json().await?)
}

/// Every child in a list, following the pages.
async fn all_children(server: &TestServer, token: &str, query: &str) -> anyhow::Result<Vec<Value>> {
    let mut items = Vec::new();
    let mut after = String::new();
    loop {
        let page = api_get(
            server,
            token,
            &format!("/api/v1/children?limit=200{query}{after}"),
        )
        .await?;
        items.extend(page["items"].as_array().cloned().unwrap_or_default());
        match page["next"].as_str() {
            Some(next) => after = format!("&after={next}"),
            None => return Ok(items),
        }
    }
}

fn roles(child: &Value) -> Vec<&str> {
    child["team_roles"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_demo_fills_sites_children_and_caseloads_through_the_use_cases() -> anyhow::Result<()> {
    for backend in backends() {
        let db = TestDatabase::new(backend).await?;
        let binary = alliance_binary();
        let mut args = db.owner_args();
        args.extend(["demo".to_owned(), "--seed".to_owned(), "11".to_owned()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let made = run(&binary, &args).await?;
        assert!(made.success, "{backend:?}: {}", made.stderr);
        assert!(made.stdout.contains("demo-therapist-1"), "{}", made.stdout);

        let server = TestServer::start(&binary, &db, &[]).await?;
        let admin = demo_token(&db, "demo-admin").await?;
        let therapist = demo_token(&db, "demo-therapist-1").await?;

        // The directory: three schools with their own DSLs, a clinic and a community base.
        let sites = api_get(&server, &admin, "/api/v1/sites").await?;
        let sites = sites["items"].as_array().cloned().unwrap_or_default();
        assert_eq!(sites.len(), 5, "{backend:?}");
        let schools: Vec<&Value> = sites.iter().filter(|s| s["kind"] == "school").collect();
        assert_eq!(schools.len(), 3);
        assert!(schools.iter().all(|s| s["school_dsl_name"].is_string()));
        for site in &sites {
            let id = site["id"].as_str().unwrap_or_default();
            let rooms = api_get(&server, &admin, &format!("/api/v1/sites/{id}/rooms")).await?;
            let rooms = rooms["items"].as_array().map_or(0, Vec::len);
            assert!((2..=3).contains(&rooms), "{rooms} rooms");
        }

        // Every child, to an administrator; most with an open case.
        let children = all_children(&server, &admin, "").await?;
        assert_eq!(children.len(), 100, "{backend:?}");
        let open = children
            .iter()
            .filter(|c| matches!(c["case_status"].as_str(), Some("active" | "referred")))
            .count();
        assert!((70..=95).contains(&open), "{open} open cases");

        // demo-therapist-1's own caseload, with the children every rule needs.
        let mine = all_children(&server, &therapist, "&mine=true").await?;
        let led: Vec<&Value> = mine.iter().filter(|c| roles(c).contains(&"lead")).collect();
        assert!(led.len() >= 8, "leads {} cases", led.len());
        assert!(mine.iter().any(|c| roles(c).contains(&"cover")));
        let mut restricted = false;
        let mut self_consenting = false;
        for child in &led {
            let id = child["id"].as_str().unwrap_or_default();
            let record = api_get(&server, &therapist, &format!("/api/v1/children/{id}")).await?;
            let newest = &record["cases"][0];
            assert!(
                newest["referral_reason"].is_string(),
                "the lead wrote the reason"
            );
            let details = &record["details"];
            if details["wishes"]["consents_for_self"] == true
                && details["wishes"]["carers_may_be_told"] == serde_json::json!(["attendance"])
                && matches!(record["age"].as_i64(), Some(16 | 17))
            {
                self_consenting = true;
            }
            let carers = record["carers"].as_array().cloned().unwrap_or_default();
            if carers.iter().any(|c| {
                let kinds: Vec<&str> = c["details"]["restrictions"]
                    .as_array()
                    .map(|r| r.iter().filter_map(|r| r["kind"].as_str()).collect())
                    .unwrap_or_default();
                kinds.contains(&"no-location-or-times") && kinds.contains(&"no-school")
            }) {
                restricted = true;
            }
        }
        assert!(
            self_consenting,
            "a 16- or 17-year-old who consents for themselves"
        );
        assert!(restricted, "a carer restricted by a court order");

        // The referral reason is clinical: an administrator sees the case, not the reason.
        let id = led
            .first()
            .and_then(|c| c["id"].as_str())
            .unwrap_or_default();
        let record = api_get(&server, &admin, &format!("/api/v1/children/{id}")).await?;
        assert_eq!(record["cases"][0]["may_read_reason"], false);
        assert!(record["cases"][0]["referral_reason"].is_null());
        server.stop().await;
    }
    Ok(())
}
