//! Timetables through the real server on both engines: the lead's week names the child and
//! shows the breaks and ending ahead; a room's week, a site's day and another therapist's
//! week show staff and other therapists only "Booked", with no name, initials, case number or
//! id anywhere in the JSON or the HTML; a cancelled session shows as cancelled; 15:30 stays
//! 15:30 across the March clock change; unknown ids are not found; reads that show children
//! are audited.

use crate::calendars::YEAR;
use crate::children::World;
use crate::count_as_owner;
use alliance_testkit::backends;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// What the world's child and case look like wherever they might leak.
struct Secrets {
    words: Vec<String>,
}

impl Secrets {
    /// Fails if any of the child's identifiers shows up in `text`.
    fn absent_from(&self, text: &str, what: &str) {
        for word in &self.words {
            assert!(!text.contains(word.as_str()), "{what} shows {word:?}");
        }
    }
}

struct Booked {
    room: String,
    site: String,
    case_number: String,
    secrets: Secrets,
}

/// A term calendar, a room at the world's school, and the lead's Monday 15:30 slot there for
/// the spring term (until 22/03/2027), with a session added on Sunday 28/03/2027 at 15:30,
/// after the clocks go forward.
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
                "start": "15:30", "minutes": 50, "from": "2027-01-05", "until": "2027-03-22"}),
            ),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{schedule}");
    let (status, added) = world
        .api(
            "lead",
            Method::POST,
            &format!("/api/v1/cases/{}/sessions", world.case),
            Some(
                json!({"date": "2027-03-28", "start": "15:30", "minutes": 50, "room": room,
                "reason": "A catch-up before the Easter holidays"}),
            ),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    let (_, record) = world.child_as("lead").await?;
    let case_number = record["cases"][0]["number"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(case_number.starts_with('C'), "{record}");
    let mut words: Vec<String> = [
        "Amelia",
        "Millie",
        "Clarke",
        "ARC",
        &case_number,
        &world.child,
        &world.case,
    ]
    .iter()
    .map(|w| (*w).to_owned())
    .collect();
    // No session's id either: it would lead to the case.
    let (_, schedule) = world
        .api(
            "lead",
            Method::GET,
            &format!("/api/v1/cases/{}/sessions", world.case),
            None,
        )
        .await?;
    for session in schedule["sessions"].as_array().cloned().unwrap_or_default() {
        words.push(session["id"].as_str().unwrap_or_default().to_owned());
    }
    Ok(Booked {
        room,
        site,
        case_number,
        secrets: Secrets { words },
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

/// The bookings of a week's or a day's JSON, flattened.
fn bookings(view: &Value) -> Vec<Value> {
    let mut found = Vec::new();
    for group in ["days", "rooms"] {
        for day in view[group].as_array().cloned().unwrap_or_default() {
            found.extend(day["bookings"].as_array().cloned().unwrap_or_default());
        }
    }
    found
}

async fn timetable_reads(world: &World, who: &str) -> anyhow::Result<i64> {
    count_as_owner(
        &world.service.db,
        &format!(
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'child.listed' \
             AND record_type = 'timetable' AND actor_id = '{}' AND detail LIKE '%{}%'",
            world.ids.get(who).cloned().unwrap_or_default(),
            world.child
        ),
    )
    .await
}

#[tokio::test]
async fn the_lead_sees_the_child_and_the_outlook_and_everyone_else_sees_booked()
-> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build(backend).await?;
        let booked = book(&world).await?;
        let lead = world.ids["lead"].clone();

        // The lead's own week (any day of it names the week): the child by name, with the
        // case number, the room and the site, and the breaks and ending ahead.
        let (status, week) = world
            .api(
                "lead",
                Method::GET,
                "/api/v1/timetables/me?week=2027-01-13",
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{week}");
        assert_eq!(week["week"], "2027-01-11");
        let found = bookings(&week);
        assert_eq!(found.len(), 1, "{week}");
        let first = &found[0];
        assert_eq!(first["date"], "2027-01-11");
        assert_eq!(first["start"], "15:30");
        assert_eq!(first["ends"], "16:20");
        assert_eq!(first["room_name"], "Willow Room");
        assert_eq!(first["site_name"], "Oakfield Primary");
        assert_eq!(first["state"], "booked");
        assert_eq!(first["child"]["name"], "Millie");
        assert_eq!(first["child"]["case_number"], booked.case_number.as_str());
        assert_eq!(first["child"]["case"], world.case.as_str());
        let outlooks = week["outlooks"].as_array().cloned().unwrap_or_default();
        assert_eq!(outlooks.len(), 1, "{week}");
        assert_eq!(outlooks[0]["child"]["case"], world.case.as_str());
        assert_eq!(outlooks[0]["ending"]["last_day"], "2027-03-22", "{week}");
        if let Some(next) = outlooks[0]["next_break"].as_object() {
            assert!(next["what"].as_str().is_some_and(|w| !w.is_empty()));
        }
        let days: Vec<&str> = week["days"]
            .as_array()
            .map(|d| d.iter().filter_map(|d| d["weekday"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(
            days,
            ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
        );
        // The same as a page: dates as dd/mm/yyyy with weekday names, the child linked to
        // the case's sessions, the outlook.
        let (status, html) = page(&world, "lead", "/timetable?week=11/01/2027").await?;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("Monday 11/01/2027"), "{html}");
        assert!(html.contains("15:30–16:20"));
        assert!(html.contains("Millie"));
        assert!(html.contains(&booked.case_number));
        assert!(html.contains(&format!("/cases/{}/sessions", world.case)));
        assert!(html.contains("Breaks and endings ahead"));
        assert!(html.contains("Monday 22/03/2027"), "the planned ending");
        assert!(html.contains("?week=2027-01-04") && html.contains("?week=2027-01-18"));
        // Reading it is audited, naming the child shown.
        assert!(timetable_reads(&world, "lead").await? >= 2);

        // Staff see the room's week and the site's day: booked, nothing about the child.
        let room_week = format!("/api/v1/timetables/rooms/{}?week=2027-01-11", booked.room);
        let site_day = format!("/api/v1/timetables/sites/{}?date=2027-01-11", booked.site);
        for who in ["staff", "other-therapist"] {
            for path in [&room_week, &site_day] {
                let (status, view) = world.api(who, Method::GET, path, None).await?;
                assert_eq!(status, StatusCode::OK, "{who} {path}: {view}");
                let found = bookings(&view);
                assert_eq!(found.len(), 1, "{who} {path}: {view}");
                assert_eq!(found[0]["start"], "15:30");
                assert_eq!(found[0]["state"], "booked");
                assert_eq!(found[0]["room_name"], "Willow Room");
                assert!(found[0]["child"].is_null(), "{who}: {view}");
                booked
                    .secrets
                    .absent_from(&view.to_string(), &format!("{who}'s {path}"));
            }
            for path in [
                format!("/rooms/{}/week?week=2027-01-11", booked.room),
                format!("/sites/{}/day?date=11/01/2027", booked.site),
                format!("/timetable/therapists/{lead}?week=2027-01-11"),
            ] {
                let (status, html) = page(&world, who, &path).await?;
                assert_eq!(status, StatusCode::OK, "{who} {path}");
                assert!(html.contains("Booked"), "{who} {path}");
                assert!(html.contains("15:30–16:20"), "{who} {path}");
                booked
                    .secrets
                    .absent_from(&html, &format!("{who}'s page {path}"));
            }
            // Another therapist's week: booked, no child, no outlook.
            let (status, week) = world
                .api(
                    who,
                    Method::GET,
                    &format!("/api/v1/timetables/therapists/{lead}?week=2027-01-11"),
                    None,
                )
                .await?;
            assert_eq!(status, StatusCode::OK, "{week}");
            assert_eq!(bookings(&week).len(), 1);
            assert_eq!(week["outlooks"], json!([]));
            booked.secrets.absent_from(&week.to_string(), who);
            // Nothing showed them a child, so nothing was audited as if it had.
            assert_eq!(timetable_reads(&world, who).await?, 0, "{who}");
        }

        // The lead's supervisor sees the child by initials and case number only.
        let (_, view) = world
            .api("supervisor", Method::GET, &room_week, None)
            .await?;
        let found = bookings(&view);
        assert_eq!(found[0]["child"]["initials"], "ARC", "{view}");
        assert!(found[0]["child"]["name"].is_null(), "{view}");
        let text = view.to_string();
        assert!(
            !text.contains("Millie") && !text.contains("Amelia"),
            "{text}"
        );
        // The parent-worker and the administrator by name.
        for who in ["parent-worker", "admin"] {
            let (_, view) = world.api(who, Method::GET, &room_week, None).await?;
            assert_eq!(bookings(&view)[0]["child"]["name"], "Millie", "{who}");
        }
        world.service.server.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn cancelled_sessions_show_as_cancelled_and_clock_changes_keep_the_time() -> anyhow::Result<()>
{
    for backend in backends() {
        let world = World::build(backend).await?;
        let booked = book(&world).await?;
        // Cancel the session of 18/01/2027.
        let (_, schedule) = world
            .api(
                "lead",
                Method::GET,
                &format!("/api/v1/cases/{}/sessions", world.case),
                None,
            )
            .await?;
        let session = schedule["sessions"]
            .as_array()
            .and_then(|s| s.iter().find(|s| s["date"] == "2027-01-18").cloned())
            .unwrap_or_default();
        let (status, done) = world
            .api(
                "lead",
                Method::POST,
                &format!(
                    "/api/v1/sessions/{}/attendance",
                    session["id"].as_str().unwrap_or_default()
                ),
                Some(
                    json!({"version": session["version"], "kind": "cancelled-by-school",
                    "reason": "Snow day"}),
                ),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{done}");
        for who in ["lead", "staff"] {
            let (_, view) = world
                .api(
                    who,
                    Method::GET,
                    &format!("/api/v1/timetables/rooms/{}?week=2027-01-18", booked.room),
                    None,
                )
                .await?;
            let found = bookings(&view);
            assert_eq!(found.len(), 1, "{view}");
            assert_eq!(found[0]["state"], "cancelled", "{who}");
            let (_, html) = page(
                &world,
                who,
                &format!("/rooms/{}/week?week=2027-01-18", booked.room),
            )
            .await?;
            // Struck through, and said in words.
            assert!(html.contains("<s>15:30–16:20</s>"), "{who}: {html}");
            assert!(html.contains("Cancelled"), "{who}");
            assert!(
                !html.contains("Snow day"),
                "{who}: the reason stays on the record"
            );
        }

        // The week the clocks go forward (Sunday 28/03/2027): Monday's session and Sunday's
        // are both at 15:30 London time, GMT then BST; the weekend shows when booked.
        let (status, week) = world
            .api(
                "lead",
                Method::GET,
                "/api/v1/timetables/me?week=2027-03-24",
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{week}");
        assert_eq!(week["week"], "2027-03-22");
        let found = bookings(&week);
        let at: Vec<(&str, &str, &str)> = found
            .iter()
            .map(|b| {
                (
                    b["date"].as_str().unwrap_or_default(),
                    b["start"].as_str().unwrap_or_default(),
                    b["starts_at"].as_str().unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(
            at,
            [
                ("2027-03-22", "15:30", "2027-03-22T15:30:00Z"),
                ("2027-03-28", "15:30", "2027-03-28T14:30:00Z"),
            ]
        );
        let last = week["days"]
            .as_array()
            .and_then(|d| d.last().cloned())
            .unwrap_or_default();
        assert_eq!(last["weekday"], "Sunday");
        let (_, html) = page(&world, "lead", "/timetable?week=2027-03-28").await?;
        assert!(html.contains("Sunday 28/03/2027"), "{html}");
        assert_eq!(html.matches("15:30–16:20").count(), 2, "{html}");
        world.service.server.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn unknown_rooms_sites_and_therapists_are_not_found() -> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build(backend).await?;
        let nobody = "0191d8a0-0000-7000-8000-000000000000";
        for path in [
            format!("/api/v1/timetables/rooms/{nobody}"),
            format!("/api/v1/timetables/sites/{nobody}"),
            format!("/api/v1/timetables/therapists/{nobody}"),
            "/api/v1/timetables/rooms/not-an-id".to_owned(),
        ] {
            let (status, _) = world.api("staff", Method::GET, &path, None).await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        }
        for path in [
            format!("/rooms/{nobody}/week"),
            format!("/sites/{nobody}/day"),
            format!("/timetable/therapists/{nobody}"),
        ] {
            let (status, _) = page(&world, "staff", &path).await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        }
        // A week that is not a date is refused, naming the parameter.
        let (status, problem) = world
            .api(
                "staff",
                Method::GET,
                "/api/v1/timetables/me?week=someday",
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(problem.to_string().contains("week"), "{problem}");
        // Signed out: the API answers 401, the page sends you to sign in.
        let response = world
            .service
            .server
            .client
            .get(world.service.server.url("/api/v1/timetables/me"))
            .send()
            .await?;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        world.service.server.stop().await;
    }
    Ok(())
}
