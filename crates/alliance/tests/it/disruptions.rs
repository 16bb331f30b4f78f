//! Issue 16: disruptions through the real server on both engines: who may log one (the
//! session's therapist or whoever writes the child's schedule; everyone else 404, audited),
//! withdrawal by the author only, the report's figures against a hand-computed fixture (and
//! who may read it), and the room's "Session in progress" sign (times, never names).

use crate::calendars::YEAR;
use crate::children::World;
use crate::count_as_owner;
use alliance_testkit::backends;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A calendar, two rooms at the World's school, and the World's case booked every Monday at
/// 15:30 in the first room (its lead): (willow, oak, the case's sessions by date, the
/// calendar).
pub(crate) async fn booked(world: &World) -> anyhow::Result<(String, String, Vec<Value>, String)> {
    let (_, calendar) = world
        .api(
            "admin",
            Method::POST,
            "/api/v1/calendars",
            Some(json!({"name": "Oakfield 2026-27", "rows": YEAR})),
        )
        .await?;
    let calendar = calendar["id"].as_str().unwrap_or_default().to_owned();
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
    let sessions = book(world, &world.case, &calendar, &rooms[0], "monday").await?;
    Ok((rooms[0].clone(), rooms[1].clone(), sessions, calendar))
}

/// Sets a case's slot (as the admin) and answers its sessions.
pub(crate) async fn book(
    world: &World,
    case: &str,
    calendar: &str,
    room: &str,
    weekday: &str,
) -> anyhow::Result<Vec<Value>> {
    let (status, schedule) = world
        .api(
            "admin",
            Method::PUT,
            &format!("/api/v1/cases/{case}/slot"),
            Some(
                json!({"calendar": calendar, "room": room, "weekday": weekday,
                "start": "15:30", "minutes": 50, "from": "2027-01-05"}),
            ),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{schedule}");
    Ok(schedule["sessions"].as_array().cloned().unwrap_or_default())
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_default().to_owned()
}

async fn log(
    world: &World,
    who: &str,
    session: &str,
    kind: &str,
    minutes: u16,
) -> anyhow::Result<(StatusCode, Value)> {
    world
        .api(
            who,
            Method::POST,
            &format!("/api/v1/sessions/{session}/disruptions"),
            Some(json!({"kind": kind, "minutes": minutes})),
        )
        .await
}

async fn denied(world: &World) -> anyhow::Result<i64> {
    count_as_owner(
        &world.service.db,
        "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'denied'",
    )
    .await
}

#[tokio::test]
async fn only_the_therapist_or_the_schedule_writer_logs_and_the_author_withdraws()
-> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build(backend).await?;
        let (_, _, sessions, _) = booked(&world).await?;
        let session = id(&sessions[0]);
        for who in [
            "other-therapist",
            "staff",
            "supervisor",
            "dsl",
            "service-lead",
            "parent-worker",
        ] {
            let before = denied(&world).await?;
            let (status, body) = log(&world, who, &session, "knock", 2).await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{backend:?} {who}: {body}");
            let (status, _) = world
                .api(
                    who,
                    Method::GET,
                    &format!("/api/v1/sessions/{session}/disruptions"),
                    None,
                )
                .await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who}");
            // Each refusal audited (the child's gate or the rule of who may log).
            assert!(denied(&world).await? > before, "{who} audited");
        }
        // The kind must be known; the note short.
        let (status, problem) = log(&world, "lead", &session, "fire", 2).await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        let (status, lead) = log(&world, "lead", &session, "knock", 5).await?;
        assert_eq!(status, StatusCode::CREATED, "{lead}");
        assert!(lead.get("child_id").is_none());
        let (status, admin) = log(&world, "admin", &session, "noise", 2).await?;
        assert_eq!(status, StatusCode::CREATED, "{admin}");
        // Withdrawal: the author only; once.
        let withdraw = |d: &Value| format!("/api/v1/disruptions/{}/withdraw", id(d));
        let (status, _) = world
            .api("admin", Method::POST, &withdraw(&lead), None)
            .await?;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = world
            .api("other-therapist", Method::POST, &withdraw(&lead), None)
            .await?;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, done) = world
            .api("lead", Method::POST, &withdraw(&lead), None)
            .await?;
        assert_eq!(status, StatusCode::OK, "{done}");
        assert_eq!(done["withdrawn"], true);
        let (status, _) = world
            .api("lead", Method::POST, &withdraw(&lead), None)
            .await?;
        assert_eq!(status, StatusCode::CONFLICT);
        let (status, list) = world
            .api(
                "lead",
                Method::GET,
                &format!("/api/v1/sessions/{session}/disruptions"),
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{list}");
        let items = list["disruptions"].as_array().cloned().unwrap_or_default();
        assert_eq!(items.len(), 2, "the withdrawn one is kept");
        assert_eq!(items[0]["withdrawn"], true);
        assert_eq!(items[1]["withdrawn"], false);
    }
    Ok(())
}

#[tokio::test]
async fn the_reports_figures_match_a_hand_computed_fixture() -> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build(backend).await?;
        let (willow, oak, sessions, calendar) = booked(&world).await?;
        // A second child, case led by the same lead, on Tuesdays in the Oak Room.
        let (status, child) = world
            .api(
                "admin",
                Method::POST,
                "/api/v1/children",
                Some(
                    json!({"legal_name": "Ben Second", "date_of_birth": "2015-05-05",
                    "sex": "male"}),
                ),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{child}");
        let (status, record) = world
            .api(
                "admin",
                Method::POST,
                &format!("/api/v1/children/{}/cases", id(&child)),
                Some(
                    json!({"referral_source": "school", "referral_received": "2026-09-10",
                    "lead": world.ids["lead"]}),
                ),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{record}");
        let case_b = record["cases"][0]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let oak_sessions = book(&world, &case_b, &calendar, &oak, "tuesday").await?;

        // The period: the first three Monday sessions' dates; the Tuesdays within it.
        let date = |s: &Value| s["date"].as_str().unwrap_or_default().to_owned();
        let from = date(&sessions[0]);
        let until = date(&sessions[2]);
        let oak_in: Vec<&Value> = oak_sessions
            .iter()
            .filter(|s| date(s) >= from && date(s) <= until)
            .collect();
        assert!(oak_in.len() >= 2, "{oak_in:?}");

        // The fixture: Willow session 1: knock 2 + noise 5; session 2: knock 10;
        // Oak session 1: alarm 15; a phone (30) withdrawn; a knock (5) after the period.
        for (session, kind, minutes) in [
            (id(&sessions[0]), "knock", 2),
            (id(&sessions[0]), "noise", 5),
            (id(&sessions[1]), "knock", 10),
            (id(oak_in[0]), "alarm", 15),
            (id(&sessions[5]), "knock", 5),
        ] {
            let (status, body) = log(&world, "lead", &session, kind, minutes).await?;
            assert_eq!(status, StatusCode::CREATED, "{body}");
        }
        let (_, phone) = log(&world, "lead", &id(&sessions[2]), "phone", 30).await?;
        let (status, _) = world
            .api(
                "lead",
                Method::POST,
                &format!("/api/v1/disruptions/{}/withdraw", id(&phone)),
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::OK);

        let path = format!("/api/v1/disruptions/report?from={from}&until={until}");
        let (status, report) = world.api("admin", Method::GET, &path, None).await?;
        assert_eq!(status, StatusCode::OK, "{report}");
        let site = &report["sites"][0]["figures"];
        // By hand: 4 disruptions, 2 + 5 + 10 + 15 = 32 minutes; held = 3 Mondays + the
        // Tuesdays in the period; 3 sessions disrupted.
        let held = 3 + oak_in.len() as u64;
        assert_eq!(site["count"], 4, "{report}");
        assert_eq!(site["minutes"], 32);
        assert_eq!(site["sessions_held"], held);
        assert_eq!(site["sessions_disrupted"], 3);
        assert_eq!(
            site["share_disrupted_tenths"],
            (3000 * 2 + held) / (held * 2)
        );
        assert_eq!(site["top_cause"], "knock");
        let rooms = report["sites"][0]["rooms"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let room = |rid: &str| {
            rooms
                .iter()
                .find(|r| r["room_id"] == rid)
                .map(|r| r["figures"].clone())
                .unwrap_or(Value::Null)
        };
        let w = room(&willow);
        assert_eq!(
            (w["count"].clone(), w["minutes"].clone()),
            (json!(3), json!(17))
        );
        assert_eq!(w["sessions_held"], 3);
        assert_eq!(w["sessions_disrupted"], 2);
        assert_eq!(w["share_disrupted_tenths"], 667);
        assert_eq!(w["top_cause"], "knock");
        let knock = &w["by_kind"][0];
        assert_eq!(
            (knock["count"].clone(), knock["minutes"].clone()),
            (json!(2), json!(12))
        );
        let o = room(&oak);
        assert_eq!(
            (o["count"].clone(), o["minutes"].clone()),
            (json!(1), json!(15))
        );
        assert_eq!(o["sessions_held"], oak_in.len() as u64);
        assert_eq!(o["top_cause"], "alarm");
        // No child anywhere.
        let text = report.to_string();
        for name in ["Amelia", "Millie", "Clarke", "Ben", "child"] {
            assert!(!text.contains(name), "{name} in {text}");
        }
        // The service lead reads it too; another therapist only their own sessions (none);
        // staff, the DSL and supervisors not at all.
        let (status, _) = world.api("service-lead", Method::GET, &path, None).await?;
        assert_eq!(status, StatusCode::OK);
        let (status, own) = world
            .api("other-therapist", Method::GET, &path, None)
            .await?;
        assert_eq!(status, StatusCode::OK, "{own}");
        assert_eq!(own["own_sessions_only"], true);
        assert_eq!(own["sites"], json!([]));
        let (_, mine) = world.api("lead", Method::GET, &path, None).await?;
        assert_eq!(mine["sites"][0]["figures"]["count"], 4);
        for who in ["staff", "dsl", "supervisor"] {
            let (status, _) = world.api(who, Method::GET, &path, None).await?;
            assert_eq!(status, StatusCode::FORBIDDEN, "{who}");
        }
        // The page and its CSV agree.
        let (status, csv) = crate::disruptions::page(
            &world,
            "admin",
            &format!("/disruptions/report?from={from}&until={until}&format=csv"),
        )
        .await?;
        assert_eq!(status, StatusCode::OK);
        assert!(csv.contains("\"Willow Room\",2,12,1,5,0,0"), "{csv}");
    }
    Ok(())
}

/// A page as `who` sees it (pages take API tokens too).
pub(crate) async fn page(
    world: &World,
    who: &str,
    path: &str,
) -> anyhow::Result<(StatusCode, String)> {
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

#[tokio::test]
async fn the_sign_shows_the_rooms_times_and_no_names() -> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build(backend).await?;
        let (willow, _, sessions, _) = booked(&world).await?;
        let week = sessions[0]["date"].as_str().unwrap_or_default().to_owned();
        for who in ["staff", "admin", "other-therapist"] {
            let (status, sign) = world
                .api(
                    who,
                    Method::GET,
                    &format!("/api/v1/rooms/{willow}/sign?week={week}"),
                    None,
                )
                .await?;
            assert_eq!(status, StatusCode::OK, "{who}: {sign}");
            assert_eq!(sign["days"][0]["times"][0], "15:30-16:20", "{sign}");
            let (status, html) =
                page(&world, who, &format!("/rooms/{willow}/sign?week={week}")).await?;
            assert_eq!(status, StatusCode::OK);
            assert!(html.contains("Session in progress: please do not knock or come in"));
            assert!(html.contains("15:30 to 16:20"), "{html}");
            for name in [
                "Amelia",
                "Millie",
                "Clarke",
                world.case.as_str(),
                world.child.as_str(),
            ] {
                assert!(!html.contains(name), "{name} on the sign");
                assert!(
                    !sign.to_string().contains(name),
                    "{name} in the sign's JSON"
                );
            }
        }
    }
    Ok(())
}
