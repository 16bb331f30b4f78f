//! Calendar feeds through the real server on both engines: the lead's feed fetched without
//! any credentials and read by an independent parser (Python's `icalendar`, from the test
//! tools' virtualenv), 15:30 on both sides of the March clock change, no child identifier
//! unless the service's policy turns initials on, the address answering 404 with an empty body
//! once it is revoked or replaced, nobody else's sessions in a feed, and only the token's
//! hash stored.

use crate::calendars::YEAR;
use crate::children::World;
use crate::count_as_owner;
use alliance_testkit::{backends, run_with_input};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::path::PathBuf;

/// The Python of the test tools' virtualenv (scripts/bootstrap makes it): the path in
/// `ALLIANCE_TOOLS_PYTHON`, else `venv/bin/python` under `ALLIANCE_TOOLS_CACHE`, else under
/// `~/.cache/alliance-tools`. Missing is a failure, never a skip.
fn tools_python() -> anyhow::Result<PathBuf> {
    let python = match std::env::var_os("ALLIANCE_TOOLS_PYTHON") {
        Some(path) => PathBuf::from(path),
        None => {
            let cache = match std::env::var_os("ALLIANCE_TOOLS_CACHE") {
                Some(cache) => PathBuf::from(cache),
                None => PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                    .join(".cache/alliance-tools"),
            };
            cache.join("venv/bin/python")
        }
    };
    anyhow::ensure!(
        python.is_file(),
        "the test tools' Python is not at {}: run scripts/bootstrap (it installs icalendar, \
         pinned in tools/requirements-test.txt), or set ALLIANCE_TOOLS_PYTHON",
        python.display()
    );
    Ok(python)
}

/// What a subscriber's calendar sees in `ics`, as `tools/check_feed.py` reports it.
async fn read_with_icalendar(ics: &str) -> anyhow::Result<Value> {
    let python = tools_python()?;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tools/check_feed.py");
    let out = run_with_input(&python, &[script], ics).await?;
    anyhow::ensure!(
        out.success,
        "tools/check_feed.py failed (if icalendar is missing, run scripts/bootstrap): {}",
        out.stderr
    );
    Ok(serde_json::from_str(&out.stdout)?)
}

/// A response's status, headers and body, fetched with no cookie and no token.
struct Fetched {
    status: StatusCode,
    content_type: String,
    cache_control: String,
    body: String,
}

async fn fetch_anonymously(url: &str) -> anyhow::Result<Fetched> {
    let response = reqwest::Client::new().get(url).send().await?;
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let (content_type, cache_control) = (header("content-type"), header("cache-control"));
    Ok(Fetched {
        status: response.status(),
        content_type,
        cache_control,
        body: response.text().await?,
    })
}

async fn assert_gone(url: &str, what: &str) -> anyhow::Result<()> {
    let gone = fetch_anonymously(url).await?;
    assert_eq!(gone.status, StatusCode::NOT_FOUND, "{what}");
    assert_eq!(gone.body, "", "{what}: the body says nothing");
    Ok(())
}

/// The school year, a room whose name needs escaping, and the lead's Monday 15:30 slot from
/// 01/03/2027, across the clock change of 28/03/2027 and the Easter holiday. Returns the
/// sessions booked.
async fn book_mondays(world: &World) -> anyhow::Result<Vec<Value>> {
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
    let site = sites["items"][0]["id"].as_str().unwrap_or_default();
    let (status, room) = world
        .api(
            "admin",
            Method::POST,
            &format!("/api/v1/sites/{site}/rooms"),
            Some(json!({"name": "Willow Room, upstairs; by the hall", "capacity": 4, "step_free": true})),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{room}");
    // A series covers one term: the spring term's from 01/03, then the summer term's from
    // its first day, as the slot is agreed term by term.
    let path = format!("/api/v1/cases/{}/slot", world.case);
    let (status, schedule) = world
        .api(
            "lead",
            Method::PUT,
            &path,
            Some(
                json!({"calendar": calendar["id"], "room": room["id"], "weekday": "monday",
                "start": "15:30", "minutes": 50, "from": "2027-03-01"}),
            ),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{schedule}");
    let (status, schedule) = world
        .api(
            "lead",
            Method::PUT,
            &path,
            Some(
                json!({"calendar": calendar["id"], "room": room["id"], "weekday": "monday",
                "start": "15:30", "minutes": 50, "from": "2027-04-12",
                "reason": "The summer term's sessions", "version": schedule["slot"]["version"]}),
            ),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{schedule}");
    Ok(schedule["sessions"].as_array().cloned().unwrap_or_default())
}

fn event_on<'a>(feed: &'a Value, day: &str) -> Option<&'a Value> {
    feed["events"].as_array().and_then(|events| {
        events.iter().find(|e| {
            e["start_local"]
                .as_str()
                .is_some_and(|s| s.starts_with(day))
        })
    })
}

#[tokio::test]
async fn a_therapists_feed_shows_times_and_rooms_and_no_child() -> anyhow::Result<()> {
    // Before any server starts: without the independent parser this test cannot say anything.
    tools_python()?;
    for backend in backends() {
        let world = World::build(backend).await?;
        let sessions = book_mondays(&world).await?;
        let dates: Vec<&str> = sessions.iter().filter_map(|s| s["date"].as_str()).collect();
        for day in ["2027-03-22", "2027-04-12"] {
            assert!(dates.contains(&day), "{day} booked: {dates:?}");
        }
        assert!(!dates.contains(&"2027-03-29"), "Easter holiday: {dates:?}");
        // A cancellation, with a reason that names the child (it must not reach the feed).
        let cancelled = sessions
            .iter()
            .find(|s| s["date"] == "2027-03-08")
            .cloned()
            .unwrap_or_default();
        let (status, done) = world
            .api(
                "lead",
                Method::POST,
                &format!(
                    "/api/v1/sessions/{}/attendance",
                    cancelled["id"].as_str().unwrap_or_default()
                ),
                Some(
                    json!({"version": cancelled["version"], "kind": "cancelled-by-school",
                    "reason": "Amelia's class trip"}),
                ),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{done}");

        // No feed yet; a read-only token may not make one.
        let (status, state) = world
            .api("lead", Method::GET, "/api/v1/me/feed", None)
            .await?;
        assert_eq!(status, StatusCode::OK, "{state}");
        assert_eq!(state["live"], false);
        let reader = world.service.token_for("lead", "read").await?;
        let (status, _) = world
            .service
            .api(Method::POST, "/api/v1/me/feed", &reader, None)
            .await?;
        assert_eq!(status, StatusCode::FORBIDDEN, "a read-only token");

        let (status, issued) = world
            .api("lead", Method::POST, "/api/v1/me/feed", None)
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{issued}");
        let url = issued["url"].as_str().unwrap_or_default().to_owned();
        let prefix = world.service.server.url("/feeds/af_");
        assert!(url.starts_with(&prefix) && url.ends_with(".ics"), "{url}");
        assert_eq!(
            issued["webcal_url"].as_str().unwrap_or_default(),
            url.replacen("http://", "webcal://", 1)
        );
        let (_, state) = world
            .api("lead", Method::GET, "/api/v1/me/feed", None)
            .await?;
        assert_eq!(state["live"], true, "{state}");
        assert!(state["created_at"].is_string(), "{state}");
        assert!(
            state.get("url").is_none(),
            "the address is shown once: {state}"
        );

        // Only the token's hash is stored.
        let token = url
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .trim_end_matches(".ics");
        let stored = |hash: String| {
            format!("SELECT COUNT(*) AS n FROM calendar_feeds WHERE token_hash = '{hash}'")
        };
        let db = &world.service.db;
        assert_eq!(count_as_owner(db, &stored(token.to_owned())).await?, 0);
        assert_eq!(
            count_as_owner(db, &stored(alliance_core::auth::secret_hash(token))).await?,
            1
        );

        // Fetched with no credentials at all, with or without the extension.
        let fetched = fetch_anonymously(&url).await?;
        assert_eq!(fetched.status, StatusCode::OK, "{}", fetched.body);
        assert_eq!(fetched.content_type, "text/calendar; charset=utf-8");
        assert_eq!(fetched.cache_control, "no-store");
        let bare = fetch_anonymously(url.trim_end_matches(".ics")).await?;
        assert_eq!(bare.status, StatusCode::OK);
        let ics = fetched.body;

        let feed = read_with_icalendar(&ics).await?;
        assert_eq!(feed["calendar"]["refresh_interval"], "PT1H", "{feed}");
        assert_eq!(feed["calendar"]["published_ttl"], "PT1H", "{feed}");
        assert_eq!(feed["calendar"]["timezones"], json!(["Europe/London"]));
        // 15:30 London on both sides of the change: 15:30 GMT, then 14:30 UTC in BST; and the
        // feed's own VTIMEZONE says the same.
        for (day, utc) in [
            ("2027-03-22", "2027-03-22T15:30:00Z"),
            ("2027-04-12", "2027-04-12T14:30:00Z"),
        ] {
            let event = event_on(&feed, day).unwrap_or(&Value::Null);
            assert_eq!(event["start_local"], format!("{day} 15:30"), "{feed}");
            assert_eq!(event["end_local"], format!("{day} 16:20"), "{feed}");
            assert_eq!(event["start_utc"], utc, "{event}");
            assert_eq!(event["start_utc_by_vtimezone"], utc, "{event}");
            assert_eq!(event["tzid"], "Europe/London");
            assert_eq!(event["summary"], "Therapy session");
            assert_eq!(
                event["location"],
                "Willow Room, upstairs; by the hall, Oakfield Primary"
            );
            assert_eq!(event["status"], "CONFIRMED");
        }
        let off = event_on(&feed, "2027-03-08").unwrap_or(&Value::Null);
        assert_eq!(off["status"], "CANCELLED", "{off}");
        // Every session from four weeks back to 26 weeks ahead, and none after.
        let today = jiff::Timestamp::now()
            .to_zoned_datetime(jiff::tz::TimeZone::get("Europe/London")?)
            .date();
        let (from, to) = (
            today.checked_sub(jiff::Span::new().days(28))?.to_string(),
            today.checked_add(jiff::Span::new().days(182))?.to_string(),
        );
        let in_window = dates
            .iter()
            .filter(|d| **d >= from.as_str() && **d <= to.as_str())
            .count();
        assert_eq!(
            feed["events"].as_array().map(Vec::len),
            Some(in_window),
            "every session in the window ({from} to {to}): {feed}"
        );
        // The UID is the session's id, so a session is the same event on every fetch.
        let first_id = sessions[0]["id"].as_str().unwrap_or_default();
        assert!(
            feed["events"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|e| e["uid"] == format!("{first_id}@alliance")),
            "{feed}"
        );
        // Nothing that identifies the child: no name, no initials, no case number, no reason.
        let (_, record) = world.child_as("lead").await?;
        let case_number = record["cases"][0]["number"].as_str().unwrap_or("?no case?");
        for word in [
            "Amelia",
            "Rose",
            "Clarke",
            "Millie",
            "ARC",
            "A.R.C",
            "(A",
            case_number,
            "class trip",
            &world.child,
            &world.case,
        ] {
            assert!(!ics.contains(word), "{word:?} in the feed:\n{ics}");
        }

        // Another person's feed never holds this therapist's sessions.
        let (status, other) = world
            .api("other-therapist", Method::POST, "/api/v1/me/feed", None)
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{other}");
        let other_url = other["url"].as_str().unwrap_or_default().to_owned();
        let other_feed = fetch_anonymously(&other_url).await?;
        assert_eq!(other_feed.status, StatusCode::OK);
        assert!(
            !other_feed.body.contains("BEGIN:VEVENT"),
            "{}",
            other_feed.body
        );
        for session in &sessions {
            let id = session["id"].as_str().unwrap_or("?");
            assert!(!other_feed.body.contains(id), "{id} in another's feed");
        }

        // With the service's policy on, the initials of a child the therapist knows.
        let (status, policy) = world
            .api(
                "admin",
                Method::PUT,
                "/api/v1/service/frame-policy",
                Some(
                    json!({"break_notice_sessions": 1, "ending_countdown_sessions": 6,
                    "feed_shows_initials": true}),
                ),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{policy}");
        let read_before = count_as_owner(
            db,
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'feed.read'",
        )
        .await?;
        let with_initials = read_with_icalendar(&fetch_anonymously(&url).await?.body).await?;
        let event = event_on(&with_initials, "2027-03-22").unwrap_or(&Value::Null);
        assert_eq!(event["summary"], "Therapy session (A.R.C.)", "{event}");
        assert_eq!(
            count_as_owner(
                db,
                &format!(
                    "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'feed.read' \
                     AND detail = '{}'",
                    world.child
                ),
            )
            .await?,
            read_before + 1,
            "the fetch that showed initials is audited, naming the child"
        );
        let (status, _) = world
            .api(
                "admin",
                Method::PUT,
                "/api/v1/service/frame-policy",
                Some(
                    json!({"break_notice_sessions": 1, "ending_countdown_sessions": 6,
                    "feed_shows_initials": false, "version": policy["version"]}),
                ),
            )
            .await?;
        assert_eq!(status, StatusCode::OK);
        assert!(!fetch_anonymously(&url).await?.body.contains("A.R.C."));

        // A new feed revokes the old address; revoking ends the new one.
        let (status, renewed) = world
            .api("lead", Method::POST, "/api/v1/me/feed", None)
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{renewed}");
        let renewed_url = renewed["url"].as_str().unwrap_or_default().to_owned();
        assert_ne!(renewed_url, url);
        assert_gone(&url, "the replaced address").await?;
        assert_gone(url.trim_end_matches(".ics"), "the replaced address, bare").await?;
        assert_eq!(
            fetch_anonymously(&renewed_url).await?.status,
            StatusCode::OK
        );
        let (status, _) = world
            .api("lead", Method::DELETE, "/api/v1/me/feed", None)
            .await?;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert_gone(&renewed_url, "the revoked address").await?;
        let (status, _) = world
            .api("lead", Method::DELETE, "/api/v1/me/feed", None)
            .await?;
        assert_eq!(status, StatusCode::NOT_FOUND, "nothing left to revoke");
        let (_, state) = world
            .api("lead", Method::GET, "/api/v1/me/feed", None)
            .await?;
        assert_eq!(state["live"], false, "{state}");

        // Addresses that were never feeds say nothing either.
        for path in [
            format!("/feeds/af_{}.ics", "0".repeat(64)),
            "/feeds/af_short".to_owned(),
            format!("/feeds/{}", token.replacen("af_", "at_", 1)),
        ] {
            assert_gone(&world.service.server.url(&path), &path).await?;
        }

        // Deactivating the other therapist ends their feed (and reactivating does not bring
        // it back).
        let id = &world.ids["other-therapist"];
        let (_, user) = world
            .api("admin", Method::GET, &format!("/api/v1/users/{id}"), None)
            .await?;
        let (status, user) = world
            .api(
                "admin",
                Method::PUT,
                &format!("/api/v1/users/{id}/active"),
                Some(json!({"version": user["version"], "active": false})),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{user}");
        assert_gone(&other_url, "a deactivated person's feed").await?;
        let (status, _) = world
            .api(
                "admin",
                Method::PUT,
                &format!("/api/v1/users/{id}/active"),
                Some(json!({"version": user["version"], "active": true})),
            )
            .await?;
        assert_eq!(status, StatusCode::OK);
        assert_gone(&other_url, "after reactivation").await?;

        // Two requests at once for a new feed: both answer, one address works, one live feed.
        let (a, b) = tokio::join!(
            world.api("lead", Method::POST, "/api/v1/me/feed", None),
            world.api("lead", Method::POST, "/api/v1/me/feed", None),
        );
        let (a, b) = (a?, b?);
        assert_eq!((a.0, b.0), (StatusCode::CREATED, StatusCode::CREATED));
        let working = [&a.1, &b.1]
            .into_iter()
            .filter_map(|issued| issued["url"].as_str())
            .map(|u| u.to_owned());
        let mut live = 0;
        for u in working {
            if fetch_anonymously(&u).await?.status == StatusCode::OK {
                live += 1;
            }
        }
        assert_eq!(live, 1, "{backend:?}");
        assert_eq!(
            count_as_owner(
                db,
                &format!(
                    "SELECT COUNT(*) AS n FROM calendar_feeds WHERE revoked_at IS NULL \
                     AND user_id = '{}'",
                    world.ids["lead"]
                ),
            )
            .await?,
            1
        );
        for action in ["feed.created", "feed.revoked"] {
            assert!(
                count_as_owner(
                    db,
                    &format!("SELECT COUNT(*) AS n FROM audit_log WHERE action = '{action}'"),
                )
                .await?
                    >= 2,
                "{action} audited"
            );
        }
        world.service.server.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn the_account_page_makes_a_feed_and_shows_its_address_once() -> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build(backend).await?;
        let mut browser = alliance_testkit::Browser::new(&world.service.server);
        crate::accounts::sign_in_and_enrol(&mut browser, "lead", crate::accounts::PASSWORD).await?;
        let page = browser.get("/account").await?;
        assert!(page.body.contains("Calendar feed"), "{}", page.body);
        assert!(
            page.body.contains("never shows a child's name"),
            "{}",
            page.body
        );
        assert!(page.body.contains("You have no calendar feed"));
        let csrf = page.input("_csrf").unwrap_or_default();
        // A form without the session's CSRF token is refused.
        let refused = browser.post("/account/feed", &[]).await?;
        assert_eq!(refused.status, 403, "{}", refused.body);
        let created = browser.post("/account/feed", &[("_csrf", &csrf)]).await?;
        assert_eq!(created.status, 200, "{}", created.body);
        let prefix = world.service.server.url("/feeds/af_");
        let url = created
            .body
            .split(&prefix)
            .nth(1)
            .and_then(|rest| rest.split(".ics").next())
            .map(|token| format!("{prefix}{token}.ics"))
            .unwrap_or_default();
        assert!(
            url.len() > prefix.len() + 60,
            "the address is shown: {}",
            created.body
        );
        assert!(created.body.contains("webcal://"), "{}", created.body);
        assert!(created.body.contains("Copy it now"));
        assert_eq!(fetch_anonymously(&url).await?.status, StatusCode::OK);
        // Shown once: the page afterwards says the feed is on, without the address.
        let again = browser.get("/account").await?;
        assert!(
            again.body.contains("Your calendar feed is on"),
            "{}",
            again.body
        );
        assert!(
            !again.body.contains(&prefix),
            "the address is not shown again"
        );
        // Turning it off from the page ends the address.
        let off = browser
            .post("/account/feed/revoke", &[("_csrf", &csrf)])
            .await?;
        assert_eq!(off.status, 303, "{}", off.body);
        assert_gone(&url, "turned off on the account page").await?;
        let page = browser.get("/account").await?;
        assert!(page.body.contains("You have no calendar feed"));
        world.service.server.stop().await;
    }
    Ok(())
}
