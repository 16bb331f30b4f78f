//! Issue 16, room care, through the real server on both engines: a room described (layout
//! and other uses) by an administrator and refused to anyone else; the pre-session check of a
//! session (an all-OK check raises nothing, a problem raises exactly one task for the
//! administrators naming the room and no child; a second check is refused); who may tick it
//! (the session's therapist; never another therapist, staff or the parent-worker); the
//! therapist's week shows the check state and the session view's link only where the child is
//! shown, and a "Booked" row carries neither; a material's condition becomes one task and
//! back to good settles it; a play kit moved by its holder and refused to anyone else.

use crate::calendars::YEAR;
use crate::children::World;
use crate::safeguarding::tasks_of;
use alliance_testkit::backends;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

/// The scheduler every second, on the real clock, so tasks come at once.
const SCHEDULER: [&str; 2] = ["--scheduler-interval", "1"];

struct Booked {
    room: String,
    site: String,
    sessions: Vec<String>,
}

/// A room at the world's school and the lead's Monday 15:30 slot there in January 2027.
async fn book(world: &World) -> anyhow::Result<Booked> {
    let (status, calendar) = world
        .api(
            "admin",
            Method::POST,
            "/api/v1/calendars",
            Some(json!({"name": "Oakfield 2026-27", "rows": YEAR})),
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
    let room = room["id"].as_str().unwrap_or_default().to_owned();
    let (status, schedule) = world
        .api(
            "lead",
            Method::PUT,
            &format!("/api/v1/cases/{}/slot", world.case),
            Some(
                json!({"calendar": calendar["id"], "room": room, "weekday": "monday",
                "start": "15:30", "minutes": 50, "from": "2027-01-05", "until": "2027-01-25"}),
            ),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{schedule}");
    let (_, schedule) = world
        .api(
            "lead",
            Method::GET,
            &format!("/api/v1/cases/{}/sessions", world.case),
            None,
        )
        .await?;
    let sessions: Vec<String> = schedule["sessions"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|s| s["id"].as_str().map(str::to_owned))
        .collect();
    assert!(sessions.len() >= 2, "{schedule}");
    Ok(Booked {
        room,
        site,
        sessions,
    })
}

/// A page as `who` sees it (pages take API tokens too).
async fn page(world: &World, who: &str, path: &str) -> anyhow::Result<(StatusCode, String)> {
    let response = world
        .service
        .server
        .client
        .get(world.service.server.url(path))
        .bearer_auth(&world.tokens[who])
        .send()
        .await?;
    Ok((response.status(), response.text().await?))
}

/// The open tasks of `who` raised by `rule` about `subject`, once the scheduler has had its
/// chance to raise them.
async fn open_tasks(
    world: &World,
    who: &str,
    rule: &str,
    subject: &str,
) -> anyhow::Result<Vec<Value>> {
    Ok(tasks_of(world, who, true)
        .await?
        .into_iter()
        .filter(|t| t["rule"] == rule && t["subject_id"] == subject)
        .collect())
}

async fn wait_for_task(
    world: &World,
    who: &str,
    rule: &str,
    subject: &str,
) -> anyhow::Result<Vec<Value>> {
    for _ in 0..150 {
        let found = open_tasks(world, who, rule, subject).await?;
        if !found.is_empty() {
            return Ok(found);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    anyhow::bail!("{who} never got {rule} about {subject}")
}

/// Every item OK, or one a problem with a note.
fn answers(count: usize, problem: Option<usize>) -> Value {
    let items: Vec<Value> = (0..count)
        .map(|i| {
            if Some(i) == problem {
                json!({"state": "problem", "note": "No sign on the door"})
            } else {
                json!({"state": "ok"})
            }
        })
        .collect();
    json!({ "items": items })
}

#[tokio::test]
async fn the_room_check_raises_one_task_for_a_problem_and_shows_in_the_week() -> anyhow::Result<()>
{
    for backend in backends() {
        let world = World::build_with(backend, &SCHEDULER).await?;
        let booked = book(&world).await?;
        let first = booked.sessions[0].clone();
        let second = booked.sessions[1].clone();

        // The room described by an administrator; a therapist may not.
        let mut cells = vec![""; 24];
        cells[0] = "door";
        cells[23] = "sand-tray";
        let description = json!({"arrangement": "Cushions by the window", "cells": cells,
            "other_uses": [{"weekday": "tuesday", "start": "12:00", "end": "13:00",
                "what": "Lunch club"}]});
        let path = format!("/api/v1/rooms/{}/description", booked.room);
        let (status, problem) = world
            .api("lead", Method::PUT, &path, Some(description.clone()))
            .await?;
        assert_eq!(status, StatusCode::FORBIDDEN, "{backend:?}: {problem}");
        let (status, saved) = world
            .api("admin", Method::PUT, &path, Some(description.clone()))
            .await?;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {saved}");
        // Written again at no version: it changed since (someone wrote it first).
        let (status, _) = world
            .api("admin", Method::PUT, &path, Some(description))
            .await?;
        assert_eq!(status, StatusCode::CONFLICT);
        let (status, care) = world
            .api(
                "staff",
                Method::GET,
                &format!("/api/v1/rooms/{}/care", booked.room),
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{care}");
        assert_eq!(care["layout"][0][0], "door");
        assert_eq!(care["layout"][3][5], "sand-tray");
        assert_eq!(care["other_uses"][0]["what"], "Lunch club");
        assert_eq!(care["checklist"].as_array().map(Vec::len), Some(8));
        let (status, room_page) = page(&world, "staff", &format!("/rooms/{}", booked.room)).await?;
        assert_eq!(status, StatusCode::OK);
        assert!(room_page.contains("Tuesday 12:00-13:00 Lunch club"));
        assert!(room_page.contains("Sand tray"));

        // The lead's week: the check to do and the session view's link.
        let (status, week) = page(&world, "lead", "/timetable?week=2027-01-11").await?;
        assert_eq!(status, StatusCode::OK);
        assert!(week.contains("Room check to do"), "{week}");
        assert!(week.contains(&format!("/sessions/{first}")), "{week}");
        // Another therapist's view of the lead's week: "Booked", no session id, no check.
        let (status, week) = page(
            &world,
            "other-therapist",
            &format!(
                "/timetable/therapists/{}?week=2027-01-11",
                world.ids["lead"]
            ),
        )
        .await?;
        assert_eq!(status, StatusCode::OK);
        assert!(week.contains("Booked"), "{week}");
        for session in &booked.sessions {
            assert!(
                !week.contains(session.as_str()),
                "{backend:?}: a session id leaked"
            );
        }
        assert!(!week.contains("Room check"), "{week}");
        let (status, week) = page(
            &world,
            "staff",
            &format!("/rooms/{}/week?week=2027-01-11", booked.room),
        )
        .await?;
        assert_eq!(status, StatusCode::OK);
        for session in &booked.sessions {
            assert!(
                !week.contains(session.as_str()),
                "{backend:?}: a session id leaked"
            );
        }

        // Who may tick: not another therapist or staff (they may not know the child), not the
        // parent-worker (they do, but neither run nor arrange its sessions).
        let check_path = |s: &str| format!("/api/v1/sessions/{s}/room-check");
        for (who, expected) in [
            ("other-therapist", StatusCode::NOT_FOUND),
            ("staff", StatusCode::NOT_FOUND),
            ("parent-worker", StatusCode::FORBIDDEN),
        ] {
            let (status, problem) = world
                .api(
                    who,
                    Method::POST,
                    &check_path(&first),
                    Some(answers(8, None)),
                )
                .await?;
            assert_eq!(status, expected, "{backend:?} {who}: {problem}");
        }
        let (status, hub) = world
            .api(
                "lead",
                Method::GET,
                &format!("/api/v1/sessions/{first}"),
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{hub}");
        assert_eq!(hub["room_check"]["state"], "to-do");
        assert_eq!(hub["room_check"]["may_tick"], true);
        assert_eq!(hub["child"]["name"], "Millie");
        let (status, _) = world
            .api(
                "other-therapist",
                Method::GET,
                &format!("/api/v1/sessions/{first}"),
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // A problem needs its note; every item must be answered.
        let (status, problem) = world
            .api(
                "lead",
                Method::POST,
                &check_path(&first),
                Some(json!({"items": [{"state": "problem"}]})),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");

        // All OK: done, and no task.
        let (status, check) = world
            .api(
                "lead",
                Method::POST,
                &check_path(&first),
                Some(answers(8, None)),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{backend:?}: {check}");
        assert_eq!(check["state"], "done");
        // One problem: exactly one task for the administrators, about the room, no child.
        let (status, check) = world
            .api(
                "lead",
                Method::POST,
                &check_path(&second),
                Some(answers(8, Some(1))),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{backend:?}: {check}");
        assert_eq!(check["state"], "done-with-problem");
        let (status, _) = world
            .api(
                "lead",
                Method::POST,
                &check_path(&second),
                Some(answers(8, None)),
            )
            .await?;
        assert_eq!(status, StatusCode::CONFLICT);
        let tasks = wait_for_task(&world, "admin", "room.check-problem", &booked.room).await?;
        // Give the scheduler time to raise anything else it would.
        tokio::time::sleep(Duration::from_millis(2500)).await;
        let tasks_now = open_tasks(&world, "admin", "room.check-problem", &booked.room).await?;
        assert_eq!(tasks_now.len(), 1, "{backend:?}: {tasks_now:?}");
        assert!(tasks[0]["child_id"].is_null(), "{:?}", tasks[0]);
        let title = tasks[0]["title"].as_str().unwrap_or_default();
        assert!(title.contains("Willow Room"), "{title}");
        assert!(
            !title.contains("Millie") && !title.contains("Amelia"),
            "{title}"
        );
        assert!(
            open_tasks(&world, "lead", "room.check-problem", &booked.room)
                .await?
                .is_empty()
        );

        // The week now says the check is done.
        let (_, week) = page(&world, "lead", "/timetable?week=2027-01-11").await?;
        assert!(week.contains("Room check done"), "{week}");
        let (status, hub_page) = page(&world, "lead", &format!("/sessions/{second}")).await?;
        assert_eq!(status, StatusCode::OK);
        assert!(hub_page.contains("Room check done"));
        assert!(hub_page.contains(&format!("/sessions/{second}/record")));
        assert!(hub_page.contains(&format!("/sessions/{second}/disruptions")));
        let _ = &booked.site;
    }
    Ok(())
}

#[tokio::test]
async fn a_materials_condition_becomes_one_task_and_a_kit_moves_with_its_holder()
-> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build_with(backend, &SCHEDULER).await?;
        let booked = book(&world).await?;

        // Only administrators add materials; the category is the service's.
        let body = json!({"name": "Play dough", "category": "Clay and sensory",
            "place": format!("room:{}", booked.room), "quantity": 6,
            "condition": "needs-cleaning"});
        let (status, _) = world
            .api(
                "lead",
                Method::POST,
                "/api/v1/materials",
                Some(body.clone()),
            )
            .await?;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let mut bad = body.clone();
        bad["category"] = json!("Trampolines");
        let (status, problem) = world
            .api("admin", Method::POST, "/api/v1/materials", Some(bad))
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        let (status, material) = world
            .api("admin", Method::POST, "/api/v1/materials", Some(body))
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{backend:?}: {material}");
        let id = material["id"].as_str().unwrap_or_default().to_owned();
        let tasks = wait_for_task(&world, "admin", "room.material-attention", &id).await?;
        assert_eq!(tasks.len(), 1, "{tasks:?}");
        assert!(tasks[0]["child_id"].is_null());

        // Staff may not report its condition; the lead may, and back to good settles it.
        let condition = format!("/api/v1/materials/{id}/condition");
        let (status, _) = world
            .api(
                "staff",
                Method::POST,
                &condition,
                Some(json!({"version": material["version"], "condition": "good"})),
            )
            .await?;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, material) = world
            .api(
                "lead",
                Method::POST,
                &condition,
                Some(json!({"version": material["version"], "condition": "good"})),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{material}");
        assert_eq!(material["condition"], "good");
        assert!(
            open_tasks(&world, "admin", "room.material-attention", &id)
                .await?
                .is_empty(),
            "{backend:?}: the task was not settled"
        );
        // A stale version is refused.
        let (status, _) = world
            .api(
                "lead",
                Method::POST,
                &condition,
                Some(json!({"version": 1, "condition": "missing"})),
            )
            .await?;
        assert_eq!(status, StatusCode::CONFLICT);
        // Missing now: a new task.
        let (status, _) = world
            .api(
                "lead",
                Method::POST,
                &condition,
                Some(json!({"version": material["version"], "condition": "missing"})),
            )
            .await?;
        assert_eq!(status, StatusCode::OK);
        let tasks = wait_for_task(&world, "admin", "room.material-attention", &id).await?;
        assert_eq!(tasks.len(), 1, "{tasks:?}");

        // A kit held by the lead: moved by the lead, not by another therapist.
        let (status, kit) = world
            .api(
                "admin",
                Method::POST,
                "/api/v1/kits",
                Some(json!({"name": "Travelling kit", "holder": world.ids["lead"]})),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{kit}");
        let kit_id = kit["id"].as_str().unwrap_or_default().to_owned();
        let move_path = format!("/api/v1/kits/{kit_id}/move");
        let (status, _) = world
            .api(
                "other-therapist",
                Method::POST,
                &move_path,
                Some(json!({"version": kit["version"], "site": booked.site,
                    "moved_on": "2026-12-01"})),
            )
            .await?;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, moved) = world
            .api(
                "lead",
                Method::POST,
                &move_path,
                Some(json!({"version": kit["version"], "site": booked.site,
                    "moved_on": "2026-12-01"})),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{moved}");
        assert_eq!(moved["site_name"], "Oakfield Primary");
        assert_eq!(moved["moves"][0]["moved_on"], "2026-12-01");
        let (status, kit_page) = page(&world, "staff", &format!("/kits/{kit_id}")).await?;
        assert_eq!(status, StatusCode::OK);
        assert!(
            kit_page.contains("Moved to Oakfield Primary on 01/12/2026 by"),
            "{kit_page}"
        );
    }
    Ok(())
}
