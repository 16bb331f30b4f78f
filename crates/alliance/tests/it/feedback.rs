//! Issue 17 (feedback, helper B) through the real server on both engines: the child's kiosk
//! link (a link scanner's visit spends nothing, the submit spends it, reuse, expiry and
//! withdrawal all answer the same 404), handing over ends the therapist's session, a kiosk
//! for one child cannot reach another's session, the child's feedback page from the denied
//! side for each role (404, audited), a young child's check-in beside the therapist's rating
//! (never blended), a response that cannot be scored kept with its reason, the settings
//! (administrators), and the answers never on disk in plaintext.

use crate::accounts::{PASSWORD, sign_in_and_enrol};
use crate::calendars::YEAR;
use crate::children::World;
use crate::{count_as_owner, execute_as_owner};
use alliance_testkit::{Backend, Browser, TestDatabase, backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A room at the world's school, the lead's Monday 15:30 slot there in January 2027, and a
/// second child (Ben) whose case the other therapist leads, on Mondays at 14:00 in the same
/// room. Returns (the lead's sessions, Ben's id, Ben's sessions).
async fn book(world: &World) -> anyhow::Result<(Vec<String>, String, Vec<String>)> {
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
    let (status, ben) = world
        .api(
            "admin",
            Method::POST,
            "/api/v1/children",
            Some(
                json!({"legal_name": "Benjamin Hart", "preferred_name": "Ben",
                "date_of_birth": "2019-06-02", "sex": "male", "school_site": site,
                "year_group": "year-2", "address": "3 Elm Row\nLeeds"}),
            ),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{ben}");
    let ben = ben["id"].as_str().unwrap_or_default().to_owned();
    let (status, record) = world
        .api(
            "admin",
            Method::POST,
            &format!("/api/v1/children/{ben}/cases"),
            Some(
                json!({"referral_source": "school", "referral_received": "2026-09-10",
                "lead": world.ids["other-therapist"]}),
            ),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{record}");
    let ben_case = record["cases"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut all = Vec::new();
    for (who, case, start) in [
        ("lead", world.case.clone(), "15:30"),
        ("other-therapist", ben_case, "14:00"),
    ] {
        let (status, schedule) = world
            .api(
                who,
                Method::PUT,
                &format!("/api/v1/cases/{case}/slot"),
                Some(
                    json!({"calendar": calendar["id"], "room": room, "weekday": "monday",
                    "start": start, "minutes": 50, "from": "2027-01-05", "until": "2027-01-25"}),
                ),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{schedule}");
        let (_, schedule) = world
            .api(
                who,
                Method::GET,
                &format!("/api/v1/cases/{case}/sessions"),
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
        all.push(sessions);
    }
    let ben_sessions = all.pop().unwrap_or_default();
    let lead_sessions = all.pop().unwrap_or_default();
    Ok((lead_sessions, ben, ben_sessions))
}

/// A response read whole, fetched as the child's device would (no account).
struct Answer {
    status: StatusCode,
    location: Option<String>,
    cookies: Vec<String>,
    body: String,
}

async fn fetch(
    world: &World,
    method: Method,
    path: &str,
    cookie: Option<&str>,
    form: Option<&[(&str, &str)]>,
) -> anyhow::Result<Answer> {
    let url = if path.starts_with("http") {
        path.to_owned()
    } else {
        world.service.server.url(path)
    };
    let mut request = world.service.server.client.request(method, url);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    if let Some(fields) = form {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        request = request
            .header("content-type", "application/x-www-form-urlencoded")
            .header("origin", "null")
            .header("sec-fetch-site", "same-origin")
            .body(body);
    }
    let response = request.send().await?;
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let cookies = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    Ok(Answer {
        status: response.status(),
        location,
        cookies,
        body: response.text().await?,
    })
}

/// Makes a kiosk link for `session` as `who`: (status, body).
async fn link_for(world: &World, who: &str, session: &str) -> anyhow::Result<(StatusCode, Value)> {
    world
        .api(
            who,
            Method::POST,
            &format!("/api/v1/sessions/{session}/feedback-links"),
            Some(json!({})),
        )
        .await
}

fn token_of(issued: &Value) -> String {
    issued["url"]
        .as_str()
        .unwrap_or_default()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned()
}

async fn feedback_of(world: &World, who: &str, child: &str) -> anyhow::Result<(StatusCode, Value)> {
    world
        .api(
            who,
            Method::GET,
            &format!("/api/v1/children/{child}/feedback"),
            None,
        )
        .await
}

async fn count_action(world: &World, action: &str) -> anyhow::Result<i64> {
    count_as_owner(
        &world.service.db,
        &format!("SELECT COUNT(*) AS n FROM audit_log WHERE action = '{action}'"),
    )
    .await
}

/// The teenager's check-in, answered whole (the world's child is 10).
const TEEN: [(&str, &str); 5] = [
    ("q-myself", "4"),
    ("q-honest", "3"),
    ("q-matters", "4"),
    ("q-suited", "2"),
    ("q-say", "3"),
];

#[tokio::test]
async fn a_kiosk_link_works_once_expires_and_a_scanners_visit_spends_nothing() -> anyhow::Result<()>
{
    for backend in backends() {
        let world = World::build(backend).await?;
        let (sessions, _, _) = book(&world).await?;
        let session = &sessions[0];
        let (status, issued) = link_for(&world, "lead", session).await?;
        assert_eq!(status, StatusCode::CREATED, "{issued}");
        assert_eq!(issued["measure"], "alliance-checkin-teen@1", "{issued}");
        let expires: jiff::Timestamp = issued["expires_at"].as_str().unwrap_or_default().parse()?;
        let minutes = expires.duration_since(jiff::Timestamp::now()).as_mins();
        assert!(
            (118..=120).contains(&minutes),
            "two hours by default: {minutes}"
        );
        let url = issued["url"].as_str().unwrap_or_default().to_owned();
        let token = token_of(&issued);
        assert!(token.starts_with("fb_") && token.len() == 67, "{url}");
        let path = format!("/kiosk/{token}");

        // A link scanner's visits: the page moves on (never a 303), a strict cookie for
        // /kiosk only is set, and nothing is spent.
        for _ in 0..2 {
            let opened = fetch(&world, Method::GET, &path, None, None).await?;
            assert_eq!(opened.status, StatusCode::OK, "{}", opened.body);
            assert!(opened.body.contains("url=/kiosk"), "{}", opened.body);
            let cookie = opened.cookies.join("\n");
            assert!(
                cookie.contains(&format!("alliance_kiosk={token}")),
                "{cookie}"
            );
            for part in ["Path=/kiosk;", "HttpOnly", "SameSite=Strict"] {
                assert!(cookie.contains(part), "{part}: {cookie}");
            }
        }
        let cookie = format!("alliance_kiosk={token}");
        let page = fetch(&world, Method::GET, "/kiosk", Some(&cookie), None).await?;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("Question 1 of 5"), "{}", page.body);
        assert!(page.body.contains("type=\"radio\""));
        assert!(page.body.contains("<fieldset"));
        assert!(page.body.contains("/static/kiosk.js"));
        for absent in ["Amelia", "Millie", "Clarke", "lead person", "<nav"] {
            assert!(!page.body.contains(absent), "{absent} on the kiosk");
        }
        assert_eq!(count_action(&world, "feedback.submitted").await?, 0);

        // A value the scale does not offer is refused, naming the question; nothing spent.
        let mut wrong: Vec<(&str, &str)> = TEEN.to_vec();
        wrong[0] = ("q-myself", "9");
        let refused = fetch(&world, Method::POST, "/kiosk", Some(&cookie), Some(&wrong)).await?;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.body
        );
        assert!(
            refused.body.contains("href=\"#q-myself\""),
            "{}",
            refused.body
        );

        // The submit spends it, and says thank you.
        let sent = fetch(&world, Method::POST, "/kiosk", Some(&cookie), Some(&TEEN)).await?;
        assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
        assert_eq!(sent.location.as_deref(), Some("/kiosk/thanks"));
        assert!(sent.cookies.join("\n").contains("Max-Age=0"));
        let thanks = fetch(&world, Method::GET, "/kiosk/thanks", None, None).await?;
        assert!(
            thanks.body.contains("Please hand the tablet back"),
            "{}",
            thanks.body
        );
        assert_eq!(count_action(&world, "feedback.submitted").await?, 1);

        // Reuse: the same cookie, the link again, and the withdrawal of a used link.
        let unusable = fetch(&world, Method::GET, &path, None, None).await?;
        assert_eq!(unusable.status, StatusCode::NOT_FOUND);
        let again = fetch(&world, Method::POST, "/kiosk", Some(&cookie), Some(&TEEN)).await?;
        assert_eq!(again.status, StatusCode::NOT_FOUND);
        assert_eq!(
            again.body, unusable.body,
            "the same 404 for every unusable link"
        );
        let (status, _) = world
            .api(
                "lead",
                Method::DELETE,
                &format!(
                    "/api/v1/sessions/{session}/feedback-links/{}",
                    issued["id"].as_str().unwrap_or_default()
                ),
                None,
            )
            .await?;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "a used link stays used"
        );
        let (_, view) = feedback_of(&world, "lead", &world.child).await?;
        assert_eq!(
            view["responses"].as_array().map(Vec::len),
            Some(1),
            "{view}"
        );

        // Unknown: the same page.
        let unknown = fetch(
            &world,
            Method::GET,
            &format!("/kiosk/fb_{}", "ab".repeat(32)),
            None,
            None,
        )
        .await?;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND);
        assert_eq!(unknown.body, unusable.body);

        // Expired: its expiry written into the past, after it was opened.
        let (_, issued) = link_for(&world, "lead", session).await?;
        let expired = fetch(
            &world,
            Method::GET,
            &format!("/kiosk/{}", token_of(&issued)),
            None,
            None,
        )
        .await?;
        assert_eq!(expired.status, StatusCode::OK);
        let now = jiff::Timestamp::now().as_microsecond();
        execute_as_owner(
            &world.service.db,
            &format!(
                "UPDATE feedback_links SET created_at = {}, expires_at = {} WHERE id = '{}'",
                now - 4 * 3_600_000_000,
                now - 3_600_000_000,
                issued["id"].as_str().unwrap_or_default()
            ),
        )
        .await?;
        let late_cookie = format!("alliance_kiosk={}", token_of(&issued));
        for (method, form) in [(Method::GET, None), (Method::POST, Some(&TEEN[..]))] {
            let late = fetch(&world, method, "/kiosk", Some(&late_cookie), form).await?;
            assert_eq!(late.status, StatusCode::NOT_FOUND);
            assert_eq!(late.body, unusable.body);
        }

        // Withdrawn: by the session's therapist; its address answers the same 404.
        let (_, issued) = link_for(&world, "lead", session).await?;
        let withdraw = format!(
            "/api/v1/sessions/{session}/feedback-links/{}",
            issued["id"].as_str().unwrap_or_default()
        );
        let (status, _) = world
            .api("other-therapist", Method::DELETE, &withdraw, None)
            .await?;
        assert_eq!(status, StatusCode::NOT_FOUND, "not their session");
        let (status, _) = world.api("lead", Method::DELETE, &withdraw, None).await?;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let gone = fetch(
            &world,
            Method::GET,
            &format!("/kiosk/{}", token_of(&issued)),
            None,
            None,
        )
        .await?;
        assert_eq!(gone.status, StatusCode::NOT_FOUND);
        assert_eq!(gone.body, unusable.body);

        // Nothing chosen at all spends nothing; a check-in with most questions left out is
        // kept, not scored, with the reason.
        let (_, issued) = link_for(&world, "lead", &sessions[1]).await?;
        let blank_cookie = format!("alliance_kiosk={}", token_of(&issued));
        let blank = fetch(
            &world,
            Method::POST,
            "/kiosk",
            Some(&blank_cookie),
            Some(&[("q-myself", "")]),
        )
        .await?;
        assert_eq!(
            blank.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            blank.body
        );
        let partial = fetch(
            &world,
            Method::POST,
            "/kiosk",
            Some(&blank_cookie),
            Some(&[("q-myself", "4")]),
        )
        .await?;
        assert_eq!(partial.status, StatusCode::SEE_OTHER, "{}", partial.body);
        let (_, view) = feedback_of(&world, "lead", &world.child).await?;
        let responses = view["responses"].as_array().cloned().unwrap_or_default();
        assert_eq!(responses.len(), 2, "{view}");
        let kept = &responses[1]["score"];
        assert!(kept["total"].is_null(), "never scored as 0: {view}");
        assert!(
            kept["not_scored"].as_str().is_some_and(|s| !s.is_empty()),
            "{view}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn handing_over_ends_the_therapists_session_and_back_needs_a_sign_in() -> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build(backend).await?;
        let (sessions, _, _) = book(&world).await?;
        let session = &sessions[0];
        let mut browser = Browser::new(&world.service.server);
        sign_in_and_enrol(&mut browser, "lead", PASSWORD).await?;
        let view = browser.get(&format!("/sessions/{session}")).await?;
        assert_eq!(view.status, 200, "{}", view.body);
        assert!(
            view.body
                .contains("Hand the tablet to the child for feedback")
        );
        let choose = browser
            .get(&format!("/sessions/{session}/hand-over"))
            .await?;
        assert_eq!(choose.status, 200, "{}", choose.body);
        assert!(
            choose.body.contains("alliance-checkin-teen@1"),
            "{}",
            choose.body
        );
        let csrf = view.input("_csrf").unwrap_or_default();
        let signed_in = browser.cookie.clone().unwrap_or_default();
        let handed = browser
            .post(
                &format!("/sessions/{session}/hand-over"),
                &[("_csrf", &csrf)],
            )
            .await?;
        assert_eq!(handed.status, 303, "{}", handed.body);
        assert_eq!(handed.location(), Some("/kiosk"));
        let cookies: Vec<String> = handed
            .headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect();
        let kiosk = cookies
            .iter()
            .find(|c| c.starts_with("alliance_kiosk="))
            .cloned()
            .unwrap_or_default();
        for part in ["Path=/kiosk;", "HttpOnly", "SameSite=Strict"] {
            assert!(kiosk.contains(part), "{part}: {kiosk}");
        }
        assert!(
            browser.cookie.is_none(),
            "the session's cookie is cleared: {cookies:?}"
        );
        assert_eq!(count_action(&world, "kiosk.handed-over").await?, 1);
        // The session itself has ended: the old cookie opens nothing.
        let old = fetch(&world, Method::GET, "/account", Some(&signed_in), None).await?;
        assert_eq!(old.status, StatusCode::SEE_OTHER);
        assert!(
            old.location
                .as_deref()
                .is_some_and(|l| l.starts_with("/sign-in")),
            "{:?}",
            old.location
        );
        let back = fetch(
            &world,
            Method::GET,
            &format!("/sessions/{session}"),
            Some(&signed_in),
            None,
        )
        .await?;
        assert_eq!(back.status, StatusCode::SEE_OTHER);
        // The kiosk, with both cookies as the browser would send them.
        let kiosk_pair = kiosk.split(';').next().unwrap_or_default().to_owned();
        let both = format!("{signed_in}; {kiosk_pair}");
        let page = fetch(&world, Method::GET, "/kiosk", Some(&both), None).await?;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        for absent in ["Amelia", "Millie", "lead person", "Sign out"] {
            assert!(!page.body.contains(absent), "{absent} on the kiosk");
        }
        let sent = fetch(&world, Method::POST, "/kiosk", Some(&both), Some(&TEEN)).await?;
        assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
        // Back to the kiosk without a kiosk in progress: sign in.
        let back = fetch(&world, Method::GET, "/kiosk", Some(&signed_in), None).await?;
        assert_eq!(back.status, StatusCode::SEE_OTHER);
        assert_eq!(back.location.as_deref(), Some("/sign-in"));
        // The response landed on the lead's session.
        let (_, view) = feedback_of(&world, "lead", &world.child).await?;
        assert_eq!(
            view["responses"][0]["session_id"],
            session.as_str(),
            "{view}"
        );
        // An API token has no browser to hand over from: it makes a link instead.
        let handed = world
            .service
            .server
            .client
            .post(
                world
                    .service
                    .server
                    .url(&format!("/sessions/{session}/hand-over")),
            )
            .bearer_auth(&world.tokens["lead"])
            .header("content-type", "application/x-www-form-urlencoded")
            .body("measure=")
            .send()
            .await?;
        assert_eq!(handed.status(), StatusCode::UNPROCESSABLE_ENTITY);

        // A link from the API opened in a browser someone is signed in on signs them out
        // there too, so the child cannot go Back into their pages.
        // (Another therapist's browser: any signed-in person is signed out alike.)
        let mut browser = Browser::new(&world.service.server);
        sign_in_and_enrol(&mut browser, "parent-worker", PASSWORD).await?;
        let signed_in = browser.cookie.clone().unwrap_or_default();
        let still = fetch(&world, Method::GET, "/account", Some(&signed_in), None).await?;
        assert_eq!(still.status, StatusCode::OK, "signed in before the link");
        let (status, issued) = link_for(&world, "lead", &sessions[1]).await?;
        assert_eq!(status, StatusCode::CREATED, "{issued}");
        let opened = fetch(
            &world,
            Method::GET,
            &format!("/kiosk/{}", token_of(&issued)),
            Some(&signed_in),
            None,
        )
        .await?;
        assert_eq!(opened.status, StatusCode::OK, "{}", opened.body);
        let back = fetch(&world, Method::GET, "/account", Some(&signed_in), None).await?;
        assert_eq!(back.status, StatusCode::SEE_OTHER, "signed out by the link");
    }
    Ok(())
}

#[tokio::test]
async fn feedback_is_clinical_record_and_refused_from_every_other_side() -> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build(backend).await?;
        let (sessions, ben, ben_sessions) = book(&world).await?;
        // Some feedback to refuse: the lead's rating and the child's check-in.
        let (status, body) = world
            .api(
                "lead",
                Method::POST,
                &format!("/api/v1/sessions/{}/rating", sessions[0]),
                Some(json!({"answers": {"bond": 3, "goals": 2, "tasks": 3, "repair": 2}})),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{body}");

        // A therapist who may not know Ben: his session's link, rating and feedback are 404,
        // each audited.
        let denied = count_action(&world, "denied").await?;
        let (status, _) = link_for(&world, "lead", &ben_sessions[0]).await?;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = world
            .api(
                "lead",
                Method::POST,
                &format!("/api/v1/sessions/{}/rating", ben_sessions[0]),
                Some(json!({"answers": {"bond": 3}})),
            )
            .await?;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = feedback_of(&world, "lead", &ben).await?;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(count_action(&world, "denied").await?, denied + 3);

        // The lead's session, from everyone else: no link, no rating.
        for who in [
            "parent-worker",
            "other-therapist",
            "supervisor",
            "dsl",
            "service-lead",
            "staff",
            "admin",
        ] {
            let (status, _) = link_for(&world, who, &sessions[0]).await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who}");
            let (status, _) = world
                .api(
                    who,
                    Method::POST,
                    &format!("/api/v1/sessions/{}/rating", sessions[0]),
                    Some(json!({"answers": {"bond": 1}})),
                )
                .await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who}");
        }

        // A kiosk for Amelia's session cannot reach Ben's: whatever the form names, the
        // response is the link's, for Amelia's session.
        let (_, issued) = link_for(&world, "lead", &sessions[1]).await?;
        let cookie = format!("alliance_kiosk={}", token_of(&issued));
        let mut form: Vec<(&str, &str)> = TEEN.to_vec();
        form.push(("session", &ben_sessions[0]));
        form.push(("child", &ben));
        let sent = fetch(&world, Method::POST, "/kiosk", Some(&cookie), Some(&form)).await?;
        assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
        let (status, ben_view) = feedback_of(&world, "other-therapist", &ben).await?;
        assert_eq!(status, StatusCode::OK, "{ben_view}");
        assert_eq!(
            ben_view["responses"].as_array().map(Vec::len),
            Some(0),
            "{ben_view}"
        );

        // The child's feedback page and its API, for each role.
        let (status, view) = feedback_of(&world, "lead", &world.child).await?;
        assert_eq!(status, StatusCode::OK, "{view}");
        assert_eq!(
            view["responses"].as_array().map(Vec::len),
            Some(2),
            "{view}"
        );
        let (status, view) = feedback_of(&world, "parent-worker", &world.child).await?;
        assert_eq!(status, StatusCode::OK, "{view}");
        assert_eq!(
            view["responses"].as_array().map(Vec::len),
            Some(0),
            "carers' only: {view}"
        );
        let (status, view) = feedback_of(&world, "supervisor", &world.child).await?;
        assert_eq!(status, StatusCode::OK, "{view}");
        assert_eq!(view["child"], "ARC", "pseudonymised: {view}");
        let reads = count_action(&world, "feedback.read").await?;
        assert!(reads >= 3, "{reads}");
        for who in [
            "other-therapist",
            "other-supervisor",
            "dsl",
            "service-lead",
            "staff",
            "admin",
        ] {
            let denied = count_action(&world, "denied").await?;
            let (status, _) = feedback_of(&world, who, &world.child).await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who}");
            let page = world
                .service
                .server
                .client
                .get(
                    world
                        .service
                        .server
                        .url(&format!("/children/{}/feedback", world.child)),
                )
                .bearer_auth(&world.tokens[who])
                .send()
                .await?;
            assert_eq!(page.status(), StatusCode::NOT_FOUND, "{who}");
            assert!(
                count_action(&world, "denied").await? > denied,
                "{who}: the refusal is audited"
            );
        }
        assert_eq!(count_action(&world, "feedback.read").await?, reads);

        // The settings: administrators only; a stale version is refused.
        let (status, _) = world
            .api(
                "lead",
                Method::GET,
                "/api/v1/service/feedback-settings",
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, settings) = world
            .api(
                "admin",
                Method::GET,
                "/api/v1/service/feedback-settings",
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{settings}");
        assert_eq!(settings["kiosk_minutes"], 120);
        let (status, body) = world
            .api(
                "admin",
                Method::PUT,
                "/api/v1/service/feedback-settings",
                Some(json!({"kiosk_minutes": 5, "carer_link_days": 7})),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let (status, body) = world
            .api(
                "admin",
                Method::PUT,
                "/api/v1/service/feedback-settings",
                Some(json!({"kiosk_minutes": 30, "carer_link_days": 7})),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, _) = world
            .api(
                "lead",
                Method::PUT,
                "/api/v1/service/feedback-settings",
                Some(json!({"kiosk_minutes": 60, "carer_link_days": 7, "version": 1})),
            )
            .await?;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (_, issued) = link_for(&world, "lead", &sessions[1]).await?;
        let expires: jiff::Timestamp = issued["expires_at"].as_str().unwrap_or_default().parse()?;
        let minutes = expires.duration_since(jiff::Timestamp::now()).as_mins();
        assert!((28..=30).contains(&minutes), "{minutes}");
        // The settings page: administrators only.
        for (who, expected) in [("admin", StatusCode::OK), ("lead", StatusCode::FORBIDDEN)] {
            let page = world
                .service
                .server
                .client
                .get(world.service.server.url("/admin/feedback-settings"))
                .bearer_auth(&world.tokens[who])
                .send()
                .await?;
            assert_eq!(page.status(), expected, "{who}");
            if expected == StatusCode::OK {
                assert!(page.text().await?.contains("value=\"30\""));
            }
        }
    }
    Ok(())
}

/// No marker anywhere in the SQLite database's files (main, WAL, shared memory). The server
/// must be stopped first.
fn assert_not_on_disk(db: &TestDatabase, markers: &[&str]) {
    if db.backend != Backend::Sqlite {
        return;
    }
    let file = db.data_path().join("alliance.sqlite3");
    let mut looked = 0;
    for path in [
        file.clone(),
        file.with_extension("sqlite3-wal"),
        file.with_extension("sqlite3-shm"),
    ] {
        let bytes = std::fs::read(&path).unwrap_or_default();
        looked += bytes.len();
        for marker in markers {
            assert!(
                !bytes.windows(marker.len()).any(|w| w == marker.as_bytes()),
                "{marker} in plaintext in {}",
                path.display()
            );
        }
    }
    assert!(looked > 0, "the database files were read");
}

#[tokio::test]
async fn a_young_childs_check_in_sits_beside_the_rating_never_blended() -> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build(backend).await?;
        let (sessions, _, _) = book(&world).await?;
        let (_, issued) = link_for(&world, "lead", &sessions[0]).await?;
        let cookie = format!("alliance_kiosk={}", token_of(&issued));
        let sent = fetch(&world, Method::POST, "/kiosk", Some(&cookie), Some(&TEEN)).await?;
        assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
        let rating = format!("/sessions/{}/rating", sessions[0]);
        let form = world
            .service
            .server
            .client
            .get(world.service.server.url(&rating))
            .bearer_auth(&world.tokens["lead"])
            .send()
            .await?;
        assert_eq!(form.status(), StatusCode::OK);
        let (status, body) = world
            .api(
                "lead",
                Method::POST,
                &format!("/api/v1/sessions/{}/rating", sessions[0]),
                Some(json!({"answers": {"bond": 3, "goals": 2, "tasks": 3, "repair": 4}})),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (status, body) = world
            .api(
                "lead",
                Method::POST,
                &format!("/api/v1/sessions/{}/rating", sessions[0]),
                Some(json!({"answers": {"bond": 9}})),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let (status, view) = feedback_of(&world, "lead", &world.child).await?;
        assert_eq!(status, StatusCode::OK, "{view}");
        assert_eq!(view["self_report_caution"], true, "the child is 10: {view}");
        let rows = view["side_by_side"].as_array().cloned().unwrap_or_default();
        assert_eq!(rows.len(), 1, "{view}");
        assert_eq!(rows[0]["session_id"], sessions[0].as_str());
        assert_eq!(rows[0]["child"]["total"], 16.0, "{view}");
        assert_eq!(rows[0]["therapist"]["total"], 12.0, "{view}");
        // The page: the caution, and two columns.
        let page = world
            .service
            .server
            .client
            .get(
                world
                    .service
                    .server
                    .url(&format!("/children/{}/feedback", world.child)),
            )
            .bearer_auth(&world.tokens["lead"])
            .send()
            .await?
            .text()
            .await?;
        assert!(
            page.contains("Self-report is unreliable at this age"),
            "{page}"
        );
        assert!(
            page.contains("The child&#x27;s score") || page.contains("The child's score"),
            "{page}"
        );
        assert!(
            page.contains("The therapist&#x27;s rating") || page.contains("The therapist's rating")
        );
        assert!(page.contains("16 (0 to 20)"), "{page}");
        // The kiosk never says it.
        let (_, issued) = link_for(&world, "lead", &sessions[1]).await?;
        let kiosk = fetch(
            &world,
            Method::GET,
            "/kiosk",
            Some(&format!("alliance_kiosk={}", token_of(&issued))),
            None,
        )
        .await?;
        assert!(!kiosk.body.contains("unreliable"));

        world.service.server.stop().await;
        assert_not_on_disk(
            &world.service.db,
            &["\"answers\":{", "\"myself\":", "\"bond\":"],
        );
    }
    Ok(())
}

const CSRS_WORDING: &str = r#"
measure = "csrs"
version = 1
[items]
relationship = "Words one"
goals = "Words two"
approach = "Words three"
overall = "Words four"
[choices]
line = ["Low end words", "High end words"]
"#;

#[tokio::test]
async fn a_licensed_measures_wording_stays_as_it_was_once_it_has_been_given() -> anyhow::Result<()>
{
    for backend in backends() {
        let world = World::build(backend).await?;
        let (sessions, _, _) = book(&world).await?;
        let path = "/api/v1/measures/csrs/1/wording";
        let load =
            |text: String| world.api("admin", Method::POST, path, Some(json!({"text": text})));
        let (status, loaded) = load(CSRS_WORDING.to_owned()).await?;
        assert_eq!(status, StatusCode::OK, "{backend:?} {loaded}");
        // Nothing has been given with it yet, so it may still be corrected.
        let corrected = CSRS_WORDING.replace("Words one", "Words one, corrected");
        let (status, _) = load(corrected).await?;
        assert_eq!(status, StatusCode::OK);
        let (status, issued) = world
            .api(
                "lead",
                Method::POST,
                &format!("/api/v1/sessions/{}/feedback-links", sessions[0]),
                Some(json!({"measure": "csrs@1"})),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{issued}");
        // Now a link names the version: its words are what the child answers, for ever.
        let (status, problem) = load(CSRS_WORDING.to_owned()).await?;
        assert_eq!(status, StatusCode::CONFLICT, "{problem}");
        let (_, csrs) = world
            .api("lead", Method::GET, "/api/v1/measures/csrs/1", None)
            .await?;
        assert_eq!(
            csrs["definition"]["items"][0]["text"],
            "Words one, corrected"
        );
        assert_eq!(
            count_action(&world, "measure.wording-loaded").await?,
            2,
            "the refused load wrote nothing"
        );
        world.service.server.stop().await;
    }
    Ok(())
}
