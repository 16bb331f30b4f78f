//! The frame through the real server on both engines: a regular slot booking the spring
//! term around its half-term, clashes refused by name with alternatives (and two requests at
//! once never both winning), attendance and cancellations with reasons, moves recorded as
//! changes to the frame with a task to talk them through, and access from the denied side.

use crate::calendars::YEAR;
use crate::children::World;
use crate::{alliance_binary, count_as_owner};
use alliance_testkit::{backends, run};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn setup(world: &World) -> anyhow::Result<(String, String, String)> {
    let (_, calendar) = world
        .api(
            "admin",
            Method::POST,
            "/api/v1/calendars",
            Some(json!({"name": "Oakfield 2026-27", "rows": YEAR})),
        )
        .await?;
    let (_, sites) = world
        .api("admin", Method::GET, "/api/v1/sites", None)
        .await?;
    let site = sites["items"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut rooms = Vec::new();
    for name in ["Willow Room", "Oak Room"] {
        let (status, room) = world
            .api(
                "admin",
                Method::POST,
                &format!("/api/v1/sites/{site}/rooms"),
                Some(json!({"name": name, "capacity": 4, "step_free": true})),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{room}");
        rooms.push(room["id"].as_str().unwrap_or_default().to_owned());
    }
    Ok((
        calendar["id"].as_str().unwrap_or_default().to_owned(),
        rooms[0].clone(),
        rooms[1].clone(),
    ))
}

/// A second child with a case led by `lead`.
async fn another_case(world: &World, name: &str, lead: &str) -> anyhow::Result<String> {
    let (status, child) = world
        .api(
            "admin",
            Method::POST,
            "/api/v1/children",
            Some(json!({"legal_name": name, "date_of_birth": "2015-05-05", "sex": "male"})),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{child}");
    let (status, record) = world
        .api(
            "admin",
            Method::POST,
            &format!("/api/v1/children/{}/cases", child["id"].as_str().unwrap_or_default()),
            Some(json!({"referral_source": "school", "referral_received": "2026-09-10", "lead": world.ids[lead]})),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{record}");
    Ok(record["cases"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

fn slot(calendar: &str, room: &str) -> Value {
    json!({"calendar": calendar, "room": room, "weekday": "monday", "start": "15:30", "minutes": 50, "from": "2027-01-05"})
}

#[tokio::test]
async fn the_regular_slot_books_the_term_and_clashes_are_refused() -> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build(backend).await?;
        let (calendar, willow, oak) = setup(&world).await?;
        let path = format!("/api/v1/cases/{}/slot", world.case);
        // Not the team's to set: refused; not theirs to know: not found.
        let (status, _) = world
            .api(
                "parent-worker",
                Method::PUT,
                &path,
                Some(slot(&calendar, &willow)),
            )
            .await?;
        assert_eq!(status, StatusCode::FORBIDDEN);
        for who in ["other-therapist", "staff"] {
            let (status, _) = world
                .api(who, Method::PUT, &path, Some(slot(&calendar, &willow)))
                .await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who}");
            let (status, _) = world
                .api(
                    who,
                    Method::GET,
                    &format!("/api/v1/cases/{}/sessions", world.case),
                    None,
                )
                .await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who}");
        }
        let (status, schedule) = world
            .api("lead", Method::PUT, &path, Some(slot(&calendar, &willow)))
            .await?;
        assert_eq!(status, StatusCode::OK, "{schedule}");
        let sessions = schedule["sessions"].as_array().cloned().unwrap_or_default();
        let dates: Vec<&str> = sessions.iter().filter_map(|s| s["date"].as_str()).collect();
        assert_eq!(dates.len(), 10, "{dates:?}");
        assert!(!dates.contains(&"2027-02-15"), "no session in half-term");
        assert!(sessions.iter().all(|s| s["start"] == "15:30"));
        // Both sides of the March clock change: 15:30 London is 15:30 then 14:30 UTC.
        let at = |d: &str| {
            sessions
                .iter()
                .find(|s| s["date"] == d)
                .map(|s| s["starts_at"].clone())
        };
        assert_eq!(at("2027-03-22"), Some(json!("2027-03-22T15:30:00Z")));

        // Another case wants the same room at the same time: refused by name, with
        // alternatives, nothing booked.
        let second = another_case(&world, "Ben Second", "other-therapist").await?;
        let (status, problem) = world
            .api(
                "admin",
                Method::PUT,
                &format!("/api/v1/cases/{second}/slot"),
                Some(slot(&calendar, &willow)),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        let text = problem.to_string();
        assert!(text.contains("Willow Room is already booked"), "{text}");
        assert!(text.contains("Free instead"), "{text}");
        assert_eq!(
            count_as_owner(
                &world.service.db,
                &format!("SELECT COUNT(*) AS n FROM therapy_sessions WHERE case_id = '{second}'")
            )
            .await?,
            0
        );
        // The same therapist cannot be in two rooms at once.
        let third = another_case(&world, "Cara Third", "lead").await?;
        let (status, problem) = world
            .api(
                "admin",
                Method::PUT,
                &format!("/api/v1/cases/{third}/slot"),
                Some(slot(&calendar, &oak)),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert!(
            problem
                .to_string()
                .contains("The therapist is already booked"),
            "{problem}"
        );
        // Two requests at once for the same room and time: exactly one wins.
        let fourth = another_case(&world, "Dev Fourth", "other-therapist").await?;
        let tuesday = json!({"calendar": calendar, "room": oak, "weekday": "tuesday", "start": "10:00", "minutes": 50, "from": "2027-01-05"});
        let (path_a, path_b) = (
            format!("/api/v1/cases/{second}/slot"),
            format!("/api/v1/cases/{fourth}/slot"),
        );
        let (a, b) = tokio::join!(
            world.api("admin", Method::PUT, &path_a, Some(tuesday.clone())),
            world.api("admin", Method::PUT, &path_b, Some(tuesday.clone())),
        );
        let statuses = [a?.0, b?.0];
        assert_eq!(
            statuses.iter().filter(|s| **s == StatusCode::OK).count(),
            1,
            "{backend:?}: {statuses:?}"
        );

        // Attendance: a cancellation needs a reason, and is a change to the frame.
        let first = sessions[0].clone();
        let attend = format!(
            "/api/v1/sessions/{}/attendance",
            first["id"].as_str().unwrap_or_default()
        );
        let (status, problem) = world
            .api(
                "lead",
                Method::POST,
                &attend,
                Some(json!({"version": first["version"], "kind": "cancelled-by-school"})),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        let (status, done) = world
            .api(
                "lead",
                Method::POST,
                &attend,
                Some(json!({"version": first["version"], "kind": "cancelled-by-school", "reason": "Snow day"})),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{done}");
        // The cancelled session gave up its time: it cannot quietly be taken back.
        let (status, problem) = world
            .api(
                "lead",
                Method::POST,
                &attend,
                Some(json!({"version": done["version"], "kind": "attended"})),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert!(
            problem.to_string().contains("add a session instead"),
            "{problem}"
        );
        let second_session = sessions[1].clone();
        let (status, _) = world
            .api(
                "lead",
                Method::POST,
                &format!("/api/v1/sessions/{}/attendance", second_session["id"].as_str().unwrap_or_default()),
                Some(json!({"version": second_session["version"], "kind": "late", "late_minutes": 10})),
            )
            .await?;
        assert_eq!(status, StatusCode::OK);
        // A move needs a reason, is recorded, and asks the lead to talk it through.
        let third_session = sessions[2].clone();
        let (status, moved) = world
            .api(
                "lead",
                Method::POST,
                &format!("/api/v1/sessions/{}/move", third_session["id"].as_str().unwrap_or_default()),
                Some(json!({"version": third_session["version"], "date": "2027-01-26", "start": "11:00", "room": oak, "reason": "School trip on Monday"})),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{moved}");
        let (_, schedule) = world
            .api(
                "lead",
                Method::GET,
                &format!("/api/v1/cases/{}/sessions", world.case),
                None,
            )
            .await?;
        let whats: Vec<&str> = schedule["changes"]
            .as_array()
            .map(|c| c.iter().filter_map(|x| x["what"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(whats, ["moved", "cancelled", "slot-set"], "{schedule}");
        assert_eq!(schedule["changes"][0]["reason"], "School trip on Monday");
        // One session held (late, at the regular time and room): 1 of 1; attendance 1 of 1
        // (the school's cancellation does not count against the child).
        assert_eq!(schedule["consistency"], json!([1, 1]), "{schedule}");
        assert_eq!(schedule["attendance"], json!([1, 1]));
        // An administrator sees the schedule; reasons are sealed at rest.
        let (status, _) = world
            .api(
                "admin",
                Method::GET,
                &format!("/api/v1/cases/{}/sessions", world.case),
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::OK);
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
        let (_, tasks) = world
            .api("lead", Method::GET, "/api/v1/tasks", None)
            .await?;
        assert!(
            tasks["items"]
                .as_array()
                .is_some_and(|t| t.iter().any(|x| x["title"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("Talk the change of time or room through")))),
            "{tasks}"
        );
        world.service.server.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn a_slot_follows_the_schools_calendar_unless_another_is_chosen() -> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build(backend).await?;
        // The only calendar so far belongs to no site: nothing to follow by default.
        let (_, school_room, _) = setup(&world).await?;
        let path = format!("/api/v1/cases/{}/slot", world.case);
        let without_calendar = |room: &str| json!({"room": room, "weekday": "monday", "start": "15:30", "minutes": 50, "from": "2027-01-05"});
        let (status, problem) = world
            .api(
                "lead",
                Method::PUT,
                &path,
                Some(without_calendar(&school_room)),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert!(
            problem.to_string().contains("has a term calendar"),
            "{problem}"
        );
        // The school's own calendar, and a clinic room: the child's school's terms decide.
        let (_, sites) = world
            .api("admin", Method::GET, "/api/v1/sites", None)
            .await?;
        let school = sites["items"][0]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let (status, own) = world
            .api(
                "admin",
                Method::POST,
                "/api/v1/calendars",
                Some(json!({"name": "Oakfield Primary's terms", "site": school, "rows": YEAR})),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{own}");
        let (status, clinic) = world
            .api(
                "admin",
                Method::POST,
                "/api/v1/sites",
                Some(json!({"name": "Hillside Clinic", "kind": "clinic"})),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{clinic}");
        let (status, room) = world
            .api(
                "admin",
                Method::POST,
                &format!(
                    "/api/v1/sites/{}/rooms",
                    clinic["id"].as_str().unwrap_or_default()
                ),
                Some(json!({"name": "Clinic Room 2", "capacity": 3, "step_free": true})),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{room}");
        let (status, schedule) = world
            .api(
                "lead",
                Method::PUT,
                &path,
                Some(without_calendar(room["id"].as_str().unwrap_or_default())),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{schedule}");
        assert_eq!(schedule["slot"]["calendar"], own["id"], "{schedule}");
        assert_eq!(schedule["sessions"].as_array().map(Vec::len), Some(10));
        world.service.server.stop().await;
    }
    Ok(())
}
