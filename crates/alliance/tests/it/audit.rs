//! The audit trail: entries for what happened (ids only), an intact chain after real use, and
//! `alliance audit verify` naming each kind of tampering, on both engines; two processes
//! appending on PostgreSQL keep one chain.

use crate::run_as_owner as as_owner;
use crate::{alliance_binary, execute_as_owner};
use alliance_testkit::{Backend, TestDatabase, TestServer, backends, run};
use serde_json::Value;

const PASSWORD: &str = "lantern orchard pebble";

async fn add_user(db: &TestDatabase, username: &str, role: &str) -> anyhow::Result<()> {
    let out = as_owner(
        db,
        &[
            "user",
            "add",
            "--username",
            username,
            "--role",
            role,
            "--password-stdin",
        ],
        &format!("{PASSWORD}\n"),
    )
    .await?;
    assert!(out.success, "{}", out.stderr);
    Ok(())
}

async fn verify(db: &TestDatabase) -> anyhow::Result<alliance_testkit::Output> {
    as_owner(db, &["audit", "verify"], "").await
}

async fn export(db: &TestDatabase) -> anyhow::Result<Vec<Value>> {
    let out = as_owner(db, &["audit", "export"], "").await?;
    assert!(out.success, "{}", out.stderr);
    Ok(out
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect())
}

/// A fresh database with a few entries in its chain (four accounts added).
async fn with_entries(backend: Backend) -> anyhow::Result<TestDatabase> {
    let db = TestDatabase::new(backend).await?;
    let migrated = as_owner(&db, &["migrate"], "").await?;
    assert!(migrated.success, "{}", migrated.stderr);
    for (name, role) in [
        ("ada", "administrator"),
        ("ben", "therapist"),
        ("cal", "dsl"),
        ("dee", "staff"),
    ] {
        add_user(&db, name, role).await?;
    }
    let ok = verify(&db).await?;
    assert!(ok.success, "{}", ok.stderr);
    assert!(ok.stdout.contains("intact: 4 entries"), "{}", ok.stdout);
    Ok(db)
}

/// Lets the owner change the trail, as someone with the database files or a superuser could.
async fn disable_protection(db: &TestDatabase) -> anyhow::Result<()> {
    match db.backend {
        Backend::Sqlite => {
            for trigger in [
                "audit_log_no_update",
                "audit_log_no_delete",
                "audit_head_forward",
            ] {
                execute_as_owner(db, &format!("DROP TRIGGER {trigger}")).await?;
            }
        }
        Backend::Postgres => {
            execute_as_owner(db, "ALTER TABLE audit_log DISABLE TRIGGER USER").await?;
            execute_as_owner(db, "ALTER TABLE audit_head DISABLE TRIGGER USER").await?;
        }
    }
    Ok(())
}

#[tokio::test]
async fn the_trail_refuses_changes_through_the_database() -> anyhow::Result<()> {
    for backend in backends() {
        let db = with_entries(backend).await?;
        for statement in [
            "UPDATE audit_log SET actor_id = 'someone' WHERE seq = 2",
            "DELETE FROM audit_log WHERE seq = 4",
            "UPDATE audit_head SET seq = 1 WHERE id = 1",
            "DELETE FROM audit_head",
        ] {
            assert!(
                execute_as_owner(&db, statement).await.is_err(),
                "{backend:?}: {statement} was allowed"
            );
        }
        assert!(verify(&db).await?.success);
    }
    Ok(())
}

#[tokio::test]
async fn verify_names_an_altered_entry() -> anyhow::Result<()> {
    for backend in backends() {
        let db = with_entries(backend).await?;
        disable_protection(&db).await?;
        execute_as_owner(
            &db,
            "UPDATE audit_log SET record_id = 'someone-else' WHERE seq = 2",
        )
        .await?;
        let out = verify(&db).await?;
        assert!(!out.success, "{backend:?}");
        assert!(
            out.stderr.contains("entry 2 has been altered"),
            "{backend:?}: {}",
            out.stderr
        );
    }
    Ok(())
}

#[tokio::test]
async fn verify_names_a_removed_middle_entry() -> anyhow::Result<()> {
    for backend in backends() {
        let db = with_entries(backend).await?;
        disable_protection(&db).await?;
        execute_as_owner(&db, "DELETE FROM audit_log WHERE seq = 2").await?;
        let out = verify(&db).await?;
        assert!(!out.success);
        assert!(
            out.stderr.contains("entry 2 is missing"),
            "{backend:?}: {}",
            out.stderr
        );
    }
    Ok(())
}

#[tokio::test]
async fn verify_names_a_removed_newest_entry_even_with_the_head_rolled_back() -> anyhow::Result<()>
{
    for backend in backends() {
        let db = with_entries(backend).await?;
        disable_protection(&db).await?;
        execute_as_owner(&db, "DELETE FROM audit_log WHERE seq = 4").await?;
        let out = verify(&db).await?;
        assert!(!out.success);
        assert!(
            out.stderr.contains("newest entries are missing"),
            "{backend:?}: {}",
            out.stderr
        );
        if backend == Backend::Sqlite {
            // Rolling the head row back too does not help: the head is also kept beside the
            // database file.
            execute_as_owner(
                &db,
                "UPDATE audit_head SET seq = 3, mac = (SELECT mac FROM audit_log WHERE seq = 3) WHERE id = 1",
            )
            .await?;
            let out = verify(&db).await?;
            assert!(!out.success);
            assert!(
                out.stderr.contains("newest entries are missing"),
                "{}",
                out.stderr
            );
        }
    }
    Ok(())
}

#[tokio::test]
async fn verify_names_a_swapped_pair() -> anyhow::Result<()> {
    for backend in backends() {
        let db = with_entries(backend).await?;
        disable_protection(&db).await?;
        // Entries 2 and 3 trade places (their contents and MACs, keeping the numbers).
        execute_as_owner(&db, "UPDATE audit_log SET seq = -2 WHERE seq = 2").await?;
        execute_as_owner(&db, "UPDATE audit_log SET seq = 2 WHERE seq = 3").await?;
        execute_as_owner(&db, "UPDATE audit_log SET seq = 3 WHERE seq = -2").await?;
        let out = verify(&db).await?;
        assert!(!out.success);
        assert!(
            out.stderr.contains("entry 2 has been altered"),
            "{backend:?}: {}",
            out.stderr
        );
    }
    Ok(())
}

#[tokio::test]
async fn verify_needs_the_right_master_key() -> anyhow::Result<()> {
    let db = with_entries(Backend::Sqlite).await?;
    let other = tempfile::tempdir()?;
    let key = other.path().join("other.key");
    std::fs::write(&key, format!("{}\n", "ab".repeat(32)))?;
    let data = db.data_path().display().to_string();
    let out = run(
        &alliance_binary(),
        &[
            "--data",
            &data,
            "--master-key-file",
            &key.display().to_string(),
            "audit",
            "verify",
        ],
    )
    .await?;
    assert!(!out.success);
    // The wrong key is found before the trail is even read: it does not unwrap the key store.
    assert!(
        out.stderr
            .contains("the master key does not match the key store"),
        "{}",
        out.stderr
    );
    Ok(())
}

#[tokio::test]
async fn what_happens_is_recorded_with_ids_and_request_ids_and_no_content() -> anyhow::Result<()> {
    for backend in backends() {
        let db = TestDatabase::new(backend).await?;
        let server = TestServer::start(&alliance_binary(), &db, &[]).await?;
        add_user(&db, "dee", "dsl").await?;
        let data = db.data_path().display().to_string();
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
                "dee",
                "--scope",
                "read-write",
            ],
        )
        .await?;
        let token = token.stdout.trim().to_owned();
        // A refused request is recorded with its request id and what was asked.
        let refused = server
            .client
            .post(server.url("/api/v1/users"))
            .bearer_auth(&token)
            .json(&serde_json::json!({"username": "sneaky", "display_name": "Secret Name", "password": PASSWORD, "roles": ["administrator"]}))
            .send()
            .await?;
        assert_eq!(refused.status(), 403);
        let request_id = refused
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        // A failed sign-in with a name that is not an account: recorded without the name.
        let failed = server
            .client
            .post(server.url("/sign-in"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("username=Jane.Doe.Secret&password=wrong")
            .send()
            .await?;
        assert_eq!(failed.status(), 401);
        server.stop().await;

        let entries = export(&db).await?;
        let actions: Vec<&str> = entries
            .iter()
            .filter_map(|e| e["action"].as_str())
            .collect();
        for expected in ["user.created", "token.created", "denied", "sign-in.failed"] {
            assert!(
                actions.contains(&expected),
                "{backend:?}: {expected} not in {actions:?}"
            );
        }
        let denied = entries
            .iter()
            .find(|e| e["action"] == "denied")
            .cloned()
            .unwrap_or_default();
        assert_eq!(denied["request_id"], request_id.as_str());
        assert_eq!(denied["detail"], "create user");
        let all = serde_json::to_string(&entries)?;
        for secret in [
            "Secret Name",
            "Jane.Doe.Secret",
            "jane.doe.secret",
            PASSWORD,
            "sneaky",
        ] {
            assert!(
                !all.contains(secret),
                "{backend:?}: the trail holds {secret:?}"
            );
        }
        // Throttling counts the typed name under a hash, never the name itself.
        let stored = crate::count_as_owner(
            &db,
            "SELECT COUNT(*) FROM login_failures WHERE LOWER(account_key) LIKE '%jane%'",
        )
        .await?;
        assert_eq!(stored, 0, "{backend:?}: the typed username is stored");
        assert!(
            crate::count_as_owner(&db, "SELECT COUNT(*) FROM login_failures").await? > 0,
            "the failure was counted"
        );
        assert!(verify(&db).await?.success);
    }
    Ok(())
}

#[tokio::test]
async fn two_processes_appending_on_postgresql_keep_one_chain() -> anyhow::Result<()> {
    if !backends().contains(&Backend::Postgres) {
        return Ok(());
    }
    let db = TestDatabase::new(Backend::Postgres).await?;
    let first = TestServer::start(&alliance_binary(), &db, &[]).await?;
    let data = db.data_path().display().to_string();
    let second = TestServer::spawn(
        &alliance_binary(),
        &[
            "--data",
            &data,
            "--database",
            &db.app_url,
            "serve",
            "--bind",
            "127.0.0.1:0",
        ],
    )
    .await?;
    let mut tasks = Vec::new();
    for (n, server) in [&first, &second].into_iter().enumerate() {
        for i in 0..30 {
            let client = server.client.clone();
            let url = server.url("/sign-in");
            tasks.push(tokio::spawn(async move {
                client
                    .post(url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(format!("username=nobody-{n}-{i}&password=wrong"))
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
            }));
        }
    }
    for task in tasks {
        let status = task.await??;
        assert_eq!(status, 401);
    }
    first.stop().await;
    second.stop().await;
    let out = verify(&db).await?;
    assert!(out.success, "{}", out.stderr);
    let count: u64 = out
        .stdout
        .split("intact: ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(count >= 60, "expected at least 60 entries, {}", out.stdout);
    Ok(())
}

#[tokio::test]
async fn after_a_restore_a_checkpoint_lets_verification_carry_on() -> anyhow::Result<()> {
    use sqlx::Connection;
    let db = with_entries(Backend::Sqlite).await?;
    let file = db.data_path().join("alliance.sqlite3");
    let backup = db.data_path().join("backup.sqlite3");
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", file.display())).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "VACUUM INTO '{}'",
        backup.display()
    )))
    .execute(&mut conn)
    .await?;
    conn.close().await?;
    add_user(&db, "eve", "staff").await?;
    add_user(&db, "fay", "staff").await?;
    // Restore the backup (taken at entry 4) over the database.
    for suffix in ["sqlite3-wal", "sqlite3-shm"] {
        let _ = std::fs::remove_file(file.with_extension(suffix));
    }
    std::fs::copy(&backup, &file)?;
    let broken = verify(&db).await?;
    assert!(!broken.success, "the lost entries are noticed");
    assert!(
        broken.stderr.contains("newest entries are missing"),
        "{}",
        broken.stderr
    );
    let checkpoint = as_owner(&db, &["audit", "checkpoint"], "").await?;
    assert!(checkpoint.success, "{}", checkpoint.stderr);
    let ok = verify(&db).await?;
    assert!(ok.success, "{}", ok.stderr);
    let entries = export(&db).await?;
    let last = entries.last().cloned().unwrap_or_default();
    assert_eq!(last["action"], "restore.checkpoint");
    assert!(
        last["detail"]
            .as_str()
            .is_some_and(|d| d.contains("had reached entry 6")),
        "{last}"
    );
    Ok(())
}

#[tokio::test]
async fn sign_in_sign_out_role_and_token_changes_are_audit_events() -> anyhow::Result<()> {
    use alliance_testkit::Browser;
    for backend in backends() {
        let db = TestDatabase::new(backend).await?;
        let server = TestServer::start(&alliance_binary(), &db, &[]).await?;
        add_user(&db, "ada", "administrator").await?;
        add_user(&db, "sam", "staff").await?;
        // Staff need no second factor: a plain sign-in and sign-out.
        let mut browser = Browser::new(&server);
        let signed_in = browser
            .post("/sign-in", &[("username", "sam"), ("password", PASSWORD)])
            .await?;
        assert_eq!(signed_in.status, 303);
        let account = browser.get("/account").await?;
        let csrf = account.input("_csrf").unwrap_or_default();
        let created = browser
            .post(
                "/account/tokens",
                &[("_csrf", &csrf), ("name", "laptop"), ("scope", "read")],
            )
            .await?;
        assert_eq!(created.status, 200);
        let token_id = created
            .body
            .split("/account/tokens/")
            .nth(1)
            .and_then(|r| r.split('/').next())
            .unwrap_or_default()
            .to_owned();
        let revoked = browser
            .post(
                &format!("/account/tokens/{token_id}/revoke"),
                &[("_csrf", &csrf)],
            )
            .await?;
        assert_eq!(revoked.status, 303);
        let out = browser.post("/sign-out", &[("_csrf", &csrf)]).await?;
        assert_eq!(out.status, 303);
        // An administrator changes sam's roles through the API.
        let owner = db.owner_args();
        let mut args: Vec<&str> = owner.iter().map(String::as_str).collect();
        args.extend([
            "token",
            "create",
            "--username",
            "ada",
            "--scope",
            "read-write",
        ]);
        let token = run(&alliance_binary(), &args)
            .await?
            .stdout
            .trim()
            .to_owned();
        let users: Value = server
            .client
            .get(server.url("/api/v1/users?q=sam"))
            .bearer_auth(&token)
            .send()
            .await?
            .json()
            .await?;
        let sam = users["items"][0].clone();
        let changed = server
            .client
            .put(server.url(&format!(
                "/api/v1/users/{}",
                sam["id"].as_str().unwrap_or("")
            )))
            .bearer_auth(&token)
            .json(
                &serde_json::json!({"version": sam["version"], "display_name": "sam person",
                                      "roles": ["staff", "therapist"], "registration": "none"}),
            )
            .send()
            .await?;
        assert_eq!(changed.status(), 200);
        server.stop().await;

        let entries = export(&db).await?;
        let sam_id = sam["id"].as_str().unwrap_or_default();
        let about_sam: Vec<&str> = entries
            .iter()
            .filter(|e| e["record_id"] == sam_id || e["actor_id"] == sam_id)
            .filter_map(|e| e["action"].as_str())
            .collect();
        for expected in [
            "user.created",
            "sign-in",
            "token.created",
            "token.revoked",
            "sign-out",
            "user.updated",
            "user.roles-changed",
        ] {
            assert!(
                about_sam.contains(&expected),
                "{backend:?}: {expected} missing from {about_sam:?}"
            );
        }
        assert!(verify(&db).await?.success);
    }
    Ok(())
}
