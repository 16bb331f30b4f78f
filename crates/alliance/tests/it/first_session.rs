//! The first session's prompts and the consent figures, through the real server on both
//! engines: the scheduler asks the lead to go through the first-session checklist once the
//! regular time is set, asks again when the child has moved into a new age band since their
//! explanations, and never twice; the service's consent figures are read by anyone, changed
//! only by an administrator, within bounds, and change what the rules require.

use crate::alliance_binary;
use crate::children::World;
use alliance_testkit::{backends, run};
use jiff::ToSpan;
use jiff::civil::Weekday;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn scheduler(world: &World) -> anyhow::Result<()> {
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
    assert!(out.success, "{}", out.stderr);
    Ok(())
}

async fn lead_titles(world: &World) -> anyhow::Result<Vec<String>> {
    let (status, tasks) = world
        .api("lead", Method::GET, "/api/v1/tasks", None)
        .await?;
    assert_eq!(status, StatusCode::OK, "{tasks}");
    Ok(tasks["items"]
        .as_array()
        .map(|t| {
            t.iter()
                .filter_map(|x| x["title"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default())
}

fn count(titles: &[String], starts: &str) -> usize {
    titles.iter().filter(|t| t.starts_with(starts)).count()
}

#[tokio::test]
async fn the_checklist_is_prompted_at_a_new_case_and_again_in_a_new_age_band() -> anyhow::Result<()>
{
    let today = alliance_core::uk::london()
        .to_datetime(jiff::Timestamp::now())
        .date();
    let monday = today.nth_weekday(1, Weekday::Monday)?;
    let start = alliance_core::uk::date(today.checked_sub(30.days())?);
    let end = alliance_core::uk::date(today.checked_add(120.days())?);
    for backend in backends() {
        let world = World::build(backend).await?;
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

        // Nothing is asked before the regular time is set.
        scheduler(&world).await?;
        let first = "Go through the first-session checklist";
        assert_eq!(count(&lead_titles(&world).await?, first), 0);
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
        scheduler(&world).await?;
        scheduler(&world).await?;
        let titles = lead_titles(&world).await?;
        assert_eq!(count(&titles, first), 1, "{titles:?}");
        assert_eq!(count(&titles, "Explain again"), 0, "{titles:?}");
        // Nobody else is asked.
        let (_, other) = world
            .api("other-therapist", Method::GET, "/api/v1/tasks", None)
            .await?;
        assert!(!other.to_string().contains(first), "{other}");

        // Explanations given when the child (born 14/03/2016) was four, in the 3-7 band:
        // now that they are in the next band, they are asked for again, once.
        let (status, item) = world
            .api(
                "lead",
                Method::POST,
                &format!("/api/v1/cases/{}/checklist", world.case),
                Some(json!({"topic": "limits-of-confidentiality",
                    "explained_on": "2020-06-01", "methods": ["spoken"], "to_whom": "child",
                    "child_said": "You tell if someone hurts me"})),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{item}");
        scheduler(&world).await?;
        scheduler(&world).await?;
        let titles = lead_titles(&world).await?;
        assert_eq!(count(&titles, "Explain again"), 1, "{titles:?}");
        assert_eq!(count(&titles, first), 1, "{titles:?}");

        // Explained again in this band: nothing new is raised.
        let (status, _) = world
            .api(
                "lead",
                Method::POST,
                &format!("/api/v1/cases/{}/checklist", world.case),
                Some(json!({"topic": "limits-of-confidentiality",
                    "explained_on": today.to_string(), "methods": ["spoken", "story"],
                    "to_whom": "both"})),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED);
        scheduler(&world).await?;
        let again = lead_titles(&world).await?;
        assert_eq!(again.len(), titles.len(), "{again:?}");
    }
    Ok(())
}

#[tokio::test]
async fn the_consent_figures_are_the_services_within_bounds() -> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build(backend).await?;
        let (status, rules) = world
            .api("lead", Method::GET, "/api/v1/service/consent-rules", None)
            .await?;
        assert_eq!(status, StatusCode::OK, "{rules}");
        assert_eq!(rules["code"], "england-wales");
        assert_eq!(rules["presumed_capable_from"], 16);
        assert_eq!(rules["version"], Value::Null);
        assert!(rules["sources"].as_array().is_some_and(|s| !s.is_empty()));

        let eighteen = json!({"presumed_capable_from": 18, "reasoning_min_chars": 20,
            "objection_pauses_start": true});
        for who in ["lead", "service-lead", "dsl"] {
            let (status, _) = world
                .api(
                    who,
                    Method::PUT,
                    "/api/v1/service/consent-rules",
                    Some(eighteen.clone()),
                )
                .await?;
            assert_eq!(status, StatusCode::FORBIDDEN, "{who}");
        }
        let (status, body) = world
            .api(
                "admin",
                Method::PUT,
                "/api/v1/service/consent-rules",
                Some(
                    json!({"presumed_capable_from": 9, "reasoning_min_chars": 20,
                    "objection_pauses_start": true}),
                ),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let (status, changed) = world
            .api(
                "admin",
                Method::PUT,
                "/api/v1/service/consent-rules",
                Some(eighteen.clone()),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{changed}");
        assert_eq!(changed["presumed_capable_from"], 18);
        assert_eq!(changed["version"], 1);
        // Writing again without the version read is a stale update.
        let (status, _) = world
            .api(
                "admin",
                Method::PUT,
                "/api/v1/service/consent-rules",
                Some(eighteen),
            )
            .await?;
        assert_eq!(status, StatusCode::CONFLICT);
        let (_, agreement) = world
            .api(
                "lead",
                Method::GET,
                &format!("/api/v1/cases/{}/agreement", world.case),
                None,
            )
            .await?;
        assert_eq!(agreement["status"], "incomplete", "{agreement}");
    }
    Ok(())
}
