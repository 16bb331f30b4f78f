//! The command line: start-up fails with a clear message and changes nothing.

use crate::{Opened, alliance_binary};
use alliance_testkit::{TestDatabase, backends, run};

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
