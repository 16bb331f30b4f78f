//! Tasks, notices and the scheduler through the real server on both engines: raised once by
//! two processes at once, caught up after downtime, escalated when overdue, and never shown
//! to someone who may not see the record they point at.

use crate::children::World;
use crate::{alliance_binary, count_as_owner, execute_as_owner};
use alliance_testkit::{SmtpSink, TestServer, backends, run};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

async fn tasks_of(world: &World, who: &str, open: bool) -> anyhow::Result<Vec<Value>> {
    let (status, page) = world
        .api(
            who,
            Method::GET,
            &format!("/api/v1/tasks?open={open}"),
            None,
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{page}");
    Ok(page["items"].as_array().cloned().unwrap_or_default())
}

/// Waits (up to 30 s) until `who` has a task whose title contains `title`.
async fn wait_for(world: &World, who: &str, title: &str) -> anyhow::Result<Value> {
    for _ in 0..150 {
        let found = tasks_of(world, who, false).await?;
        if let Some(task) = found
            .into_iter()
            .find(|t| t["title"].as_str().is_some_and(|s| s.contains(title)))
        {
            return Ok(task);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    anyhow::bail!("{who} never got a task titled {title:?}")
}

async fn scheduler_pass(world: &World) -> anyhow::Result<()> {
    let data = world.service.db.data_path().display().to_string();
    let out = run(
        &alliance_binary(),
        &[
            "--data",
            &data,
            "--database",
            &world.service.db.app_url,
            "scheduler",
            "run-once",
        ],
    )
    .await?;
    assert!(out.success, "scheduler run-once: {}", out.stderr);
    Ok(())
}

#[tokio::test]
async fn two_processes_raise_each_task_once_and_only_for_those_who_may_see_it() -> anyhow::Result<()>
{
    for backend in backends() {
        let world = World::build_with(backend, &["--scheduler-interval", "1"]).await?;
        // A second process on the same database, scheduling too.
        let second = TestServer::start(
            &alliance_binary(),
            &world.service.db,
            &["--scheduler-interval", "1"],
        )
        .await?;
        let task = wait_for(&world, "lead", "Arrange the first session for case C00001").await?;
        assert_eq!(task["kind"], "task");
        assert!(task["due_at"].is_string(), "{task}");
        let notice = wait_for(&world, "parent-worker", "added to the team of case C00001").await?;
        assert_eq!(notice["kind"], "notice");
        // Both processes ran several passes; each firing raised exactly one task.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let raised = count_as_owner(&world.service.db, "SELECT COUNT(*) AS n FROM tasks").await?;
        assert_eq!(raised, 2, "{backend:?}: nothing fires twice");
        let unfired = count_as_owner(
            &world.service.db,
            "SELECT COUNT(*) AS n FROM firings WHERE fired_at IS NULL",
        )
        .await?;
        assert_eq!(unfired, 0);
        second.stop().await;

        // The titles name the case, never the child.
        for t in [&task, &notice] {
            assert!(!t.to_string().contains("Millie") && !t.to_string().contains("Amelia"));
        }
        // Others see none of it.
        for who in ["other-therapist", "staff", "admin"] {
            assert!(tasks_of(&world, who, false).await?.is_empty(), "{who}");
            let (status, _) = world
                .api(
                    who,
                    Method::GET,
                    &format!("/api/v1/tasks/{}", task["id"].as_str().unwrap_or_default()),
                    None,
                )
                .await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who} reads the lead's task");
        }

        // A task goes only to someone who may see what it is about.
        let task_path = format!("/api/v1/tasks/{}", task["id"].as_str().unwrap_or_default());
        let (status, problem) = world
            .api(
                "lead",
                Method::POST,
                &format!("{task_path}/reassign"),
                Some(json!({"version": task["version"], "to": world.ids["other-therapist"]})),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["errors"][0]["field"], "to");
        let (status, _) = world
            .api(
                "lead",
                Method::POST,
                &format!("{task_path}/comments"),
                Some(json!({"text": "Rang school; first session Tuesday."})),
            )
            .await?;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (_, detail) = world.api("lead", Method::GET, &task_path, None).await?;
        assert_eq!(
            detail["comments"][0]["text"],
            "Rang school; first session Tuesday."
        );
        let (status, done) = world
            .api(
                "lead",
                Method::POST,
                &format!("{task_path}/complete"),
                Some(json!({"version": task["version"]})),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{done}");
        assert!(done["done_at"].is_string());
        assert!(tasks_of(&world, "lead", true).await?.is_empty());
        let (status, _) = world
            .api(
                "lead",
                Method::POST,
                &format!("{task_path}/complete"),
                Some(json!({"version": done["version"]})),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "done twice");

        // The parent-worker leaves the team: the notice about the child goes from their
        // inbox, and reading it directly answers as if it did not exist.
        let (_, record) = world.child_as("admin").await?;
        let membership = record["cases"][0]["team"]
            .as_array()
            .and_then(|team| team.iter().find(|m| m["role"] == "parent-worker"))
            .map(|m| m["id"].clone())
            .unwrap_or_default();
        let today = jiff::Timestamp::now()
            .to_zoned_datetime(jiff::tz::TimeZone::get("Europe/London")?)
            .date()
            .to_string();
        let (status, body) = world
            .api(
                "admin",
                Method::POST,
                &format!("/api/v1/cases/{}/team", world.case),
                Some(
                    json!({"version": record["cases"][0]["version"], "action": "end",
                    "membership": membership, "ends_on": today}),
                ),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(tasks_of(&world, "parent-worker", false).await?.is_empty());
        let (status, _) = world
            .api(
                "parent-worker",
                Method::GET,
                &format!(
                    "/api/v1/tasks/{}",
                    notice["id"].as_str().unwrap_or_default()
                ),
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::NOT_FOUND);
        world.service.server.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn what_fell_due_during_downtime_fires_on_restart_and_overdue_tasks_escalate()
-> anyhow::Result<()> {
    for backend in backends() {
        // A long interval: only the pass at start-up runs while the test watches.
        let world = World::build_with(backend, &["--scheduler-interval", "3600"]).await?;
        world.service.server.stop().await;
        // The firings of building the world were stored; nothing ran them.
        assert_eq!(
            count_as_owner(&world.service.db, "SELECT COUNT(*) AS n FROM tasks").await?,
            0
        );
        // Mail is set up while Alliance is stopped; the lead has an address, the
        // parent-worker none.
        let sink = SmtpSink::start().await?;
        let mut config = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(world.service.db.data_path().join("alliance.toml"))?;
        std::io::Write::write_all(
            &mut config,
            format!(
                "\npublic_url = \"https://alliance.example.org\"\n\n[mail]\nsmtp_url = \"{}\"\n\
                 from = \"Alliance <{}>\"\n",
                sink.url(),
                crate::mail::FROM
            )
            .as_bytes(),
        )?;
        let lead_email = "lead.therapist@example.org";
        execute_as_owner(
            &world.service.db,
            &format!(
                "UPDATE users SET email = '{lead_email}' WHERE id = '{}'",
                world.ids["lead"]
            ),
        )
        .await?;
        let server = TestServer::start(
            &alliance_binary(),
            &world.service.db,
            &["--scheduler-interval", "3600"],
        )
        .await?;
        let world = World {
            service: crate::accounts::Service {
                db: world.service.db,
                server,
                admin_token: world.service.admin_token,
            },
            ..world
        };
        wait_for(&world, "lead", "Arrange the first session").await?;
        // One nudge, to the lead only, with the fixed words and nothing about the child.
        let received = sink.wait_for(1, Duration::from_secs(15)).await?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(sink.received().len(), 1, "{:?}", sink.received());
        crate::mail::assert_is_only_the_nudge(
            &received[0],
            lead_email,
            Some("https://alliance.example.org/sign-in"),
        );

        // A first-session task thirty days overdue: the owner is reminded, then (five working
        // days after the due time) the service lead is told; each step once.
        let due = jiff::Timestamp::now().as_microsecond() - 30 * 24 * 3600 * 1_000_000;
        execute_as_owner(
            &world.service.db,
            &format!(
                "INSERT INTO tasks (id, kind, rule, owner_id, title, subject_child, subject_type, \
                 subject_id, due_at, escalation_level, version, created_at, updated_at) VALUES \
                 ('{id}', 'task', 'case.arrange-first-session', '{owner}', \
                 'Arrange the first session for case C00001', '{child}', 'case', '{case}', \
                 {due}, 0, 1, {due}, {due})",
                id = uuid::Uuid::now_v7(),
                owner = world.ids["lead"],
                child = world.child,
                case = world.case,
            ),
        )
        .await?;
        scheduler_pass(&world).await?;
        wait_for(&world, "lead", "Overdue: Arrange the first session").await?;
        assert!(
            tasks_of(&world, "service-lead", false).await?.is_empty(),
            "one step per pass"
        );
        scheduler_pass(&world).await?;
        let told = wait_for(&world, "service-lead", "Overdue: Arrange the first session").await?;
        assert_eq!(told["kind"], "notice");
        scheduler_pass(&world).await?;
        scheduler_pass(&world).await?;
        let overdue = count_as_owner(
            &world.service.db,
            "SELECT COUNT(*) AS n FROM tasks WHERE rule = 'task.overdue'",
        )
        .await?;
        assert_eq!(overdue, 2, "{backend:?}: each step once");
        let (_, page) = world
            .api(
                "lead",
                Method::GET,
                "/api/v1/tasks?open=true&kind=task",
                None,
            )
            .await?;
        let escalated = page["items"]
            .as_array()
            .and_then(|items| items.iter().find(|t| t["overdue"] == true).cloned())
            .unwrap_or_default();
        assert_eq!(escalated["escalation_level"], 2, "{page}");
        world.service.server.stop().await;
    }
    Ok(())
}
