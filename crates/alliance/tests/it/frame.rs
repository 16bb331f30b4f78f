//! Breaks and endings prepared for, through the real server on both engines: the outlook on a
//! case's schedule, the service's policy (administrators only, bounds kept), the scheduler's
//! prompts raised once each and only for the lead, and letters to carers, refused to a
//! carer under a restriction or before the therapy agreement is active, and produced (page,
//! JSON and PDF) for one who may have them.

use crate::alliance_binary;
use crate::children::World;
use alliance_testkit::{backends, run};
use jiff::ToSpan;
use jiff::civil::{Date, Weekday};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A term around today with a half-term in the third week of sessions: sessions on Mondays
/// from `monday`, none in the week of `monday + 14 days`.
fn term_rows(today: Date, monday: Date) -> String {
    let d = |n: i64| alliance_core::uk::date(monday.checked_add(n.days()).unwrap_or(monday));
    let start = alliance_core::uk::date(today.checked_sub(30.days()).unwrap_or(today));
    format!(
        "kind,name,starts,ends,reason\n\
         term,Test term,{start},{},\n\
         half-term,Test term,{},{},\n",
        d(74),
        d(14),
        d(18)
    )
}

pub(crate) async fn scheduler(world: &World) -> anyhow::Result<()> {
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

fn titles(tasks: &Value) -> Vec<String> {
    tasks["items"]
        .as_array()
        .map(|t| {
            t.iter()
                .filter_map(|x| x["title"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn breaks_and_endings_are_prepared_for_and_letters_respect_restrictions() -> anyhow::Result<()>
{
    let today = alliance_core::uk::london()
        .to_datetime(jiff::Timestamp::now())
        .date();
    let monday = today.nth_weekday(1, Weekday::Monday)?;
    for backend in backends() {
        let world = World::build(backend).await?;
        let (_, calendar) = world
            .api(
                "admin",
                Method::POST,
                "/api/v1/calendars",
                Some(json!({"name": "Test calendar", "rows": term_rows(today, monday)})),
            )
            .await?;
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
        // Five weeks of Mondays with half-term in the middle: an ending with fewer sessions
        // than the countdown, so it is prompted at once.
        let until = monday.checked_add(35.days())?;
        let (status, schedule) = world
            .api(
                "lead",
                Method::PUT,
                &format!("/api/v1/cases/{}/slot", world.case),
                Some(
                    json!({"calendar": calendar["id"], "room": room["id"], "weekday": "monday",
                    "start": "15:30", "minutes": 50, "from": monday.to_string(),
                    "until": until.to_string()}),
                ),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{schedule}");
        let next_break = &schedule["next_break"];
        // The half-term, unless a bank holiday Monday comes first.
        let first_day: Date = next_break["first_day"]
            .as_str()
            .unwrap_or_default()
            .parse()?;
        assert!(first_day <= monday.checked_add(14.days())?, "{schedule}");
        assert!(
            next_break["description"]
                .as_str()
                .is_some_and(|d| d.contains("before it"))
        );
        let ending = &schedule["ending"];
        assert!(
            ending["sessions_left"]
                .as_u64()
                .is_some_and(|n| (3..=5).contains(&n)),
            "{schedule}"
        );
        assert_eq!(ending["counting_down"], true);

        // The policy: read by anyone, changed only by an administrator, within bounds.
        let (status, policy) = world
            .api("lead", Method::GET, "/api/v1/service/frame-policy", None)
            .await?;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(policy["ending_countdown_sessions"], 6);
        assert_eq!(policy["break_notice_sessions"], 1);
        let two = json!({"break_notice_sessions": 2, "ending_countdown_sessions": 6,
            "feed_shows_initials": false});
        let (status, _) = world
            .api(
                "lead",
                Method::PUT,
                "/api/v1/service/frame-policy",
                Some(two.clone()),
            )
            .await?;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, problem) = world
            .api(
                "admin",
                Method::PUT,
                "/api/v1/service/frame-policy",
                Some(
                    json!({"break_notice_sessions": 1, "ending_countdown_sessions": 3,
                    "feed_shows_initials": false}),
                ),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        let (status, policy) = world
            .api(
                "admin",
                Method::PUT,
                "/api/v1/service/frame-policy",
                Some(two.clone()),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{policy}");
        assert_eq!(policy["version"], 1);
        // A second write without the version read is stale.
        let (status, _) = world
            .api(
                "admin",
                Method::PUT,
                "/api/v1/service/frame-policy",
                Some(two),
            )
            .await?;
        assert_eq!(status, StatusCode::CONFLICT);

        // The scheduler raises the prompts once each, for the lead only.
        scheduler(&world).await?;
        scheduler(&world).await?;
        let (_, tasks) = world
            .api("lead", Method::GET, "/api/v1/tasks", None)
            .await?;
        let lead_titles = titles(&tasks);
        let count = |prefix: &str| lead_titles.iter().filter(|t| t.starts_with(prefix)).count();
        assert_eq!(count("Prepare the child of case"), 1, "{lead_titles:?}");
        assert_eq!(count("Begin the ending countdown"), 1, "{lead_titles:?}");
        assert!(
            lead_titles
                .iter()
                .any(|t| t.contains("for the break:") && t.contains("sessions resume")),
            "{lead_titles:?}"
        );
        let (_, others) = world
            .api("other-therapist", Method::GET, "/api/v1/tasks", None)
            .await?;
        assert!(
            titles(&others)
                .iter()
                .all(|t| !t.contains("break") && !t.contains("ending")),
            "{others}"
        );

        // Letters: the father is under a court order (no location or times): refused, with
        // the reason, and nothing produced.
        let letters = format!("/api/v1/cases/{}/letters", world.case);
        let (status, options) = world.api("lead", Method::GET, &letters, None).await?;
        assert_eq!(status, StatusCode::OK, "{options}");
        let father = options["recipients"]
            .as_array()
            .and_then(|r| r.iter().find(|x| x["id"] == world.carer.as_str()))
            .cloned()
            .unwrap_or_default();
        assert!(
            father["refusal"]
                .as_str()
                .is_some_and(|r| r.contains("restriction")),
            "{options}"
        );
        let (status, problem) = world
            .api(
                "lead",
                Method::GET,
                &format!("{letters}/regular-time/{}", world.carer),
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert!(problem.to_string().contains("restriction"), "{problem}");
        // The mother may have them.
        let (status, record) = world
            .api(
                "admin",
                Method::POST,
                &format!("/api/v1/children/{}/carers", world.child),
                Some(json!({"name": "Dana Clarke", "relationship": "Mother",
                    "parental_responsibility": "parent", "may_contact": true,
                    "address": "12 Larch Close\nLeeds\nLS1 1AA"})),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{record}");
        let mother = record["id"].as_str().unwrap_or_default().to_owned();
        // Letters to carers wait for an active therapy agreement (issue 11).
        let (status, problem) = world
            .api(
                "lead",
                Method::GET,
                &format!("{letters}/break/{mother}"),
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert!(problem.to_string().contains("not active"), "{problem}");
        crate::agreements::make_active(&world).await?;
        let (status, letter) = world
            .api(
                "lead",
                Method::GET,
                &format!("{letters}/break/{mother}"),
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{letter}");
        assert_eq!(letter["recipient_lines"][0], "Dana Clarke");
        assert_eq!(letter["salutation"], "Dear Dana Clarke,");
        let text = letter.to_string();
        assert!(text.contains("no therapy sessions from"), "{text}");
        // The child's preferred name goes to a carer who may know it.
        assert!(text.contains("Millie"), "{text}");
        // Not the team's: not found.
        let (status, _) = world
            .api(
                "other-therapist",
                Method::GET,
                &format!("{letters}/break/{mother}"),
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::NOT_FOUND);
        // The PDF.
        let response = world
            .service
            .server
            .client
            .get(
                world
                    .service
                    .server
                    .url(&format!("{letters}/regular-time/{mother}/pdf")),
            )
            .bearer_auth(&world.tokens["lead"])
            .send()
            .await?;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/pdf")
        );
        let disposition = response
            .headers()
            .get("content-disposition")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(
            !disposition.contains("Clarke") && !disposition.contains("Millie"),
            "{disposition}"
        );
        let bytes = response.bytes().await?;
        assert!(bytes.starts_with(b"%PDF-"), "not a PDF");
        // Every letter produced is on the record.
        assert!(
            crate::count_as_owner(
                &world.service.db,
                "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'letter.produced'"
            )
            .await?
                >= 2
        );
        world.service.server.stop().await;
    }
    Ok(())
}
