//! Issue 17 (helper C) through the real server on both engines: the child's own goals
//! (goal-based outcomes) as clinical record, tried from the denied side for every role; at
//! most three open goals; ratings 0 to 10 only; rewording keeps the earlier words; a stale
//! version is refused (409). And carers' feedback links: only to a carer who may receive one
//! (a refusal says why and is audited), a link scanner's visit spends nothing, the answer
//! spends it, and a used, expired, withdrawn or no-longer-allowed link answers the same 404.

use crate::children::World;
use crate::{count_as_owner, execute_as_owner};
use alliance_testkit::backends;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn count(world: &World, sql: &str) -> anyhow::Result<i64> {
    count_as_owner(&world.service.db, sql).await
}

async fn action_count(world: &World, action: &str) -> anyhow::Result<i64> {
    count(
        world,
        &format!("SELECT COUNT(*) AS n FROM audit_log WHERE action = '{action}'"),
    )
    .await
}

async fn goals_of(world: &World, who: &str) -> anyhow::Result<(StatusCode, Value)> {
    world
        .api(
            who,
            Method::GET,
            &format!("/api/v1/children/{}/goals", world.child),
            None,
        )
        .await
}

async fn add_goal(world: &World, who: &str, words: &str) -> anyhow::Result<(StatusCode, Value)> {
    world
        .api(
            who,
            Method::POST,
            &format!("/api/v1/children/{}/goals", world.child),
            Some(json!({"words": words, "set_by": "child-with-therapist"})),
        )
        .await
}

async fn rate(world: &World, who: &str, ratings: Value) -> anyhow::Result<(StatusCode, Value)> {
    world
        .api(
            who,
            Method::POST,
            &format!("/api/v1/children/{}/goals/ratings", world.child),
            Some(json!({"rated_by": "child-with-therapist", "ratings": ratings})),
        )
        .await
}

fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|e| {
            e.iter()
                .filter_map(|x| x["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_default().to_owned()
}

fn goal<'a>(list: &'a Value, id: &str) -> &'a Value {
    list["goals"]
        .as_array()
        .and_then(|g| g.iter().find(|x| x["id"] == id))
        .unwrap_or(&Value::Null)
}

#[tokio::test]
async fn goals_are_clinical_record_from_the_denied_side() -> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build(backend).await?;
        let (status, made) = add_goal(&world, "lead", "To sleep in my own bed all night").await?;
        assert_eq!(status, StatusCode::CREATED, "{made}");

        // The lead reads; the supervisor reads pseudonymised, and may not write.
        let (status, list) = goals_of(&world, "lead").await?;
        assert_eq!(status, StatusCode::OK, "{list}");
        assert_eq!(list["child_shown"], "Millie");
        assert_eq!(list["may_write"], true);
        assert_eq!(
            list["attribution"],
            "Goal Based Outcomes (GBO) (c) Duncan Law, CC BY-NC-SA 4.0"
        );
        let (status, seen) = goals_of(&world, "supervisor").await?;
        assert_eq!(status, StatusCode::OK, "{seen}");
        assert_eq!(seen["may_write"], false);
        assert!(!seen.to_string().contains("Millie"), "{seen}");
        let (status, _) = add_goal(&world, "supervisor", "To be braver").await?;
        assert_eq!(status, StatusCode::FORBIDDEN);

        // Everyone else: 404, each audited; reads and writes alike.
        let denied =
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'denied' AND record_type = 'goal'";
        let before = count(&world, denied).await?;
        let others = [
            "parent-worker",
            "other-therapist",
            "other-supervisor",
            "dsl",
            "service-lead",
            "admin",
            "staff",
        ];
        for who in others {
            let (status, body) = goals_of(&world, who).await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who}: {body}");
            let (status, _) = add_goal(&world, who, "To be braver").await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who}");
            let (status, _) = rate(&world, who, json!([{"goal": id(&made), "value": 5}])).await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who}");
            let (status, _) = world
                .api(
                    who,
                    Method::PUT,
                    &format!("/api/v1/children/{}/goals/{}/words", world.child, id(&made)),
                    Some(json!({"words": "Something else", "version": 1})),
                )
                .await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who}");
        }
        // The parent-worker, staff and others are refused at the clinical row (audited as
        // goals); those who may not know the child at all at the child's gate.
        assert!(count(&world, denied).await? > before, "{backend:?}");
        let all_denied = action_count(&world, "denied").await?;
        assert!(
            all_denied >= before + 4 * others.len() as i64,
            "{all_denied}"
        );
        // Nothing was written by a refusal.
        assert_eq!(
            count(&world, "SELECT COUNT(*) AS n FROM goals").await?,
            1,
            "{backend:?}"
        );
        assert_eq!(
            count(&world, "SELECT COUNT(*) AS n FROM goal_ratings").await?,
            0
        );
        // A read-only token reads but may not write.
        let reader = world.service.token_for("lead", "read").await?;
        let (status, _) = world
            .service
            .api(
                Method::POST,
                &format!("/api/v1/children/{}/goals", world.child),
                &reader,
                Some(json!({"words": "To be braver", "set_by": "child"})),
            )
            .await?;
        assert_eq!(status, StatusCode::FORBIDDEN);
        world.service.server.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn three_open_goals_ratings_0_to_10_and_rewording_kept_by_version() -> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build(backend).await?;
        let child = world.child.clone();

        // Words are required and bounded; who set it must be named; no date after today.
        let (status, problem) = world
            .api(
                "lead",
                Method::POST,
                &format!("/api/v1/children/{child}/goals"),
                Some(json!({"words": " ", "set_by": "teacher", "set_on": "2099-01-01"})),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(fields(&problem), vec!["words", "set_by", "set_on"]);
        let (status, _) = add_goal(&world, "lead", &"a".repeat(301)).await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

        // Three open goals; a fourth is refused.
        let mut ids = Vec::new();
        for words in [
            "To go to school without a tummy ache",
            "To tell someone when I feel angry",
            "To have a friend at break time",
        ] {
            let (status, made) = add_goal(&world, "lead", words).await?;
            assert_eq!(status, StatusCode::CREATED, "{made}");
            ids.push(id(&made));
        }
        let (status, problem) = add_goal(&world, "lead", "To go to the shop on my own").await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(fields(&problem), vec!["words"]);
        // The words are sealed: not stored as typed.
        assert_eq!(
            count(
                &world,
                "SELECT COUNT(*) AS n FROM goal_wordings WHERE content LIKE '%tummy%'"
            )
            .await?,
            0
        );

        // Ratings are whole numbers 0 to 10; a refused set records nothing.
        for bad in [11, -1] {
            let (status, problem) = rate(
                &world,
                "lead",
                json!([{"goal": ids[0], "value": 5}, {"goal": ids[1], "value": bad}]),
            )
            .await?;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
            assert_eq!(fields(&problem), vec![format!("rating-{}", ids[1])]);
        }
        // A session must be one of this case's.
        let (status, problem) = world
            .api(
                "lead",
                Method::POST,
                &format!("/api/v1/children/{child}/goals/ratings"),
                Some(
                    json!({"rated_by": "child", "session": uuid::Uuid::new_v4().to_string(),
                    "ratings": [{"goal": ids[0], "value": 4}]}),
                ),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(fields(&problem), vec!["session"]);
        assert_eq!(
            count(&world, "SELECT COUNT(*) AS n FROM goal_ratings").await?,
            0
        );
        let rated = action_count(&world, "goal.rated").await?;
        let (status, body) = rate(
            &world,
            "lead",
            json!([{"goal": ids[0], "value": 0}, {"goal": ids[1], "value": 7}]),
        )
        .await?;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["rated"], 2);
        let (status, _) = rate(
            &world,
            "lead",
            json!([{"goal": ids[0], "value": 3}, {"goal": ids[1], "value": 6}, {"goal": ids[2], "value": 10}]),
        )
        .await?;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(action_count(&world, "goal.rated").await?, rated + 5);
        let (_, list) = goals_of(&world, "lead").await?;
        let first = goal(&list, &ids[0]);
        assert_eq!(first["first_rating"], 0, "{list}");
        assert_eq!(first["latest_rating"], 3);
        assert_eq!(first["movement"], 3);
        assert_eq!(goal(&list, &ids[1])["movement"], -1);
        assert!(goal(&list, &ids[2])["movement"].is_null(), "rated once");

        // Rewording keeps the earlier words; a stale version is refused.
        let words_path = format!("/api/v1/children/{child}/goals/{}/words", ids[0]);
        let (status, v) = world
            .api(
                "lead",
                Method::PUT,
                &words_path,
                Some(json!({"words": "To go to school happy most mornings", "version": 1})),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["version"], 2);
        let (status, _) = world
            .api(
                "lead",
                Method::PUT,
                &words_path,
                Some(json!({"words": "Something else", "version": 1})),
            )
            .await?;
        assert_eq!(status, StatusCode::CONFLICT);
        let (_, list) = goals_of(&world, "lead").await?;
        let first = goal(&list, &ids[0]);
        assert_eq!(first["words"], "To go to school happy most mornings");
        assert_eq!(
            first["earlier_words"][0]["words"],
            "To go to school without a tummy ache"
        );
        assert_eq!(first["ratings"].as_array().map(Vec::len), Some(2));

        // Closing: reached or put aside, at the version read; a closed goal is not rated,
        // and its slot is free again.
        let close_path = format!("/api/v1/children/{child}/goals/{}/close", ids[0]);
        let (status, problem) = world
            .api(
                "lead",
                Method::POST,
                &close_path,
                Some(json!({"how": "open", "version": 2})),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(fields(&problem), vec!["how"]);
        let (status, _) = world
            .api(
                "lead",
                Method::POST,
                &close_path,
                Some(json!({"how": "reached", "version": 1})),
            )
            .await?;
        assert_eq!(status, StatusCode::CONFLICT);
        let (status, closed) = world
            .api(
                "lead",
                Method::POST,
                &close_path,
                Some(json!({"how": "reached", "version": 2})),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{closed}");
        assert_eq!(action_count(&world, "goal.closed").await?, 1);
        let (status, problem) = rate(&world, "lead", json!([{"goal": ids[0], "value": 9}])).await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        let (status, _) = add_goal(&world, "lead", "To go to the shop on my own").await?;
        assert_eq!(status, StatusCode::CREATED);
        let (_, list) = goals_of(&world, "lead").await?;
        assert_eq!(goal(&list, &ids[0])["status"], "reached");
        assert_eq!(list["goals"].as_array().map(Vec::len), Some(4));
        assert_eq!(
            action_count(&world, "goal.read").await?,
            3,
            "one entry a read"
        );

        // The page shows the goals, the attribution and the 0-10 radio buttons.
        world.service.server.stop().await;
    }
    Ok(())
}

/// A page fetched as a carer's browser would (no account; the link's cookie only when given).
struct Fetched {
    status: StatusCode,
    cookie: Option<String>,
    body: String,
}

async fn fetch(
    client: &reqwest::Client,
    method: Method,
    url: &str,
    cookie: Option<&str>,
    form: Option<&[(&str, &str)]>,
) -> anyhow::Result<Fetched> {
    let mut request = client.request(method, url);
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
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    Ok(Fetched {
        status: response.status(),
        cookie,
        body: response.text().await?,
    })
}

async fn add_carer(world: &World, body: Value) -> anyhow::Result<String> {
    let (status, made) = world
        .api(
            "admin",
            Method::POST,
            &format!("/api/v1/children/{}/carers", world.child),
            Some(body),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    Ok(id(&made))
}

#[tokio::test]
async fn a_carers_link_goes_only_to_a_carer_who_may_receive_it_and_is_spent_by_the_answer()
-> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build(backend).await?;
        let child = world.child.clone();
        let base = world.service.server.base.clone();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let barred = add_carer(
            &world,
            json!({"name": "Lee Clarke", "relationship": "Uncle",
                "parental_responsibility": "parent", "may_contact": true,
                "restrictions": [{"kind": "no-contact", "source": "court-order",
                    "dated": "2025-05-12", "reference": "Non-molestation order"}]}),
        )
        .await?;
        let not_contacted = add_carer(
            &world,
            json!({"name": "Pat Clarke", "relationship": "Grandparent", "may_contact": false}),
        )
        .await?;
        let list_path = format!("/api/v1/children/{child}/carer-feedback");

        // Who may receive one, and why not, for the lead only.
        let (status, view) = world.api("lead", Method::GET, &list_path, None).await?;
        assert_eq!(status, StatusCode::OK, "{view}");
        let line = |id: &str| {
            view["carers"]
                .as_array()
                .and_then(|c| c.iter().find(|x| x["carer_id"] == id))
                .cloned()
                .unwrap_or_default()
        };
        assert_eq!(line(&world.carer)["may_receive"], true, "{view}");
        assert!(
            line(&barred)["reason"]
                .as_str()
                .is_some_and(|r| r.contains("no contact")),
            "{view}"
        );
        assert!(
            line(&not_contacted)["reason"]
                .as_str()
                .is_some_and(|r| r.contains("not to be contacted")),
            "{view}"
        );
        assert!(
            view["measures"]
                .as_array()
                .is_some_and(|m| m.iter().any(|k| k == "alliance-checkin-carer@1")),
            "{view}"
        );
        let (status, _) = world
            .api("supervisor", Method::GET, &list_path, None)
            .await?;
        assert_eq!(status, StatusCode::FORBIDDEN);
        for who in ["staff", "other-therapist", "admin", "parent-worker", "dsl"] {
            let (status, _) = world.api(who, Method::GET, &list_path, None).await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who}");
        }

        // A refused carer: the reason named, the refusal audited, nothing made.
        let refusals = action_count(&world, "denied").await?;
        for (carer, why) in [
            (&barred, "no contact"),
            (&not_contacted, "not to be contacted"),
        ] {
            let (status, problem) = world
                .api(
                    "lead",
                    Method::POST,
                    &list_path,
                    Some(json!({"carer_id": carer})),
                )
                .await?;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
            assert_eq!(fields(&problem), vec!["carer"]);
            assert!(problem.to_string().contains(why), "{problem}");
        }
        assert_eq!(action_count(&world, "denied").await?, refusals + 2);
        assert_eq!(
            count(&world, "SELECT COUNT(*) AS n FROM feedback_links").await?,
            0
        );

        // A link for the father: its address once, only its hash kept.
        let make = || async {
            let (status, made) = world
                .api(
                    "lead",
                    Method::POST,
                    &list_path,
                    Some(json!({"carer_id": world.carer})),
                )
                .await?;
            assert_eq!(status, StatusCode::CREATED, "{made}");
            let path = made["path"].as_str().unwrap_or_default().to_owned();
            assert!(path.starts_with("/feedback/"), "{made}");
            let token = path.rsplit('/').next().unwrap_or_default().to_owned();
            anyhow::Ok((id(&made), token, made))
        };
        let (link, token, made) = make().await?;
        let expires: jiff::Timestamp = made["expires_at"].as_str().unwrap_or_default().parse()?;
        let days = expires.duration_since(jiff::Timestamp::now()).as_hours() / 24;
        assert!((6..=7).contains(&days), "{made}");
        let hashed =
            |h: &str| format!("SELECT COUNT(*) AS n FROM feedback_links WHERE token_hash = '{h}'");
        assert_eq!(count(&world, &hashed(&token)).await?, 0);
        assert_eq!(
            count(&world, &hashed(&alliance_core::auth::secret_hash(&token))).await?,
            1
        );

        // A link scanner opens it twice: nothing spent; the token moves into a cookie, and the
        // page moves on with a page, not a redirect.
        let url = format!("{base}/feedback/{token}");
        let mut cookie = String::new();
        for _ in 0..2 {
            let opened = fetch(&client, Method::GET, &url, None, None).await?;
            assert_eq!(opened.status, StatusCode::OK, "{}", opened.body);
            assert!(
                opened.body.contains("href=\"/feedback\""),
                "{}",
                opened.body
            );
            let set = opened.cookie.unwrap_or_default();
            assert!(
                set.starts_with(&format!("alliance_feedback={token};")),
                "{set}"
            );
            for attribute in ["Path=/feedback", "HttpOnly", "SameSite=Strict"] {
                assert!(set.contains(attribute), "{attribute}: {set}");
            }
            cookie = set.split(';').next().unwrap_or_default().to_owned();
        }
        let form_url = format!("{base}/feedback");
        let form = fetch(&client, Method::GET, &form_url, Some(&cookie), None).await?;
        assert_eq!(form.status, StatusCode::OK, "{}", form.body);
        assert!(form.body.contains("name=\"welcome\""), "{}", form.body);
        assert!(form.body.contains("Amelia"), "the child's first name");
        for absent in ["Clarke", "Millie", "Rose", "Sam"] {
            assert!(!form.body.contains(absent), "{absent} on the carer's page");
        }
        let state = |view: &Value, link: &str| {
            view["carers"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|c| c["links"].as_array().cloned().unwrap_or_default())
                .find(|l| l["id"] == link)
                .map(|l| l["state"].clone())
                .unwrap_or_default()
        };
        let (_, view) = world.api("lead", Method::GET, &list_path, None).await?;
        assert_eq!(state(&view, &link), "waiting", "{view}");

        // A value the scale does not offer is refused and spends nothing.
        let refused = fetch(
            &client,
            Method::POST,
            &form_url,
            Some(&cookie),
            Some(&[("welcome", "9")]),
        )
        .await?;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        // The answer spends it and records the carer's response, sealed.
        let answer = [
            ("welcome", "4"),
            ("raise", "3"),
            ("aims", "3"),
            ("understand", "2"),
            ("part", "2"),
            ("home", "3"),
        ];
        let sent = fetch(
            &client,
            Method::POST,
            &form_url,
            Some(&cookie),
            Some(&answer),
        )
        .await?;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
        assert!(sent.body.contains("Thank you"));
        assert_eq!(
            count(
                &world,
                &format!(
                    "SELECT COUNT(*) AS n FROM measure_responses WHERE respondent = 'carer' \
                     AND carer_id = '{}' AND link_id = '{link}'",
                    world.carer
                )
            )
            .await?,
            1
        );
        let (_, view) = world.api("lead", Method::GET, &list_path, None).await?;
        assert_eq!(state(&view, &link), "answered", "{view}");

        // Used: the same 404 for the link, the form and a second answer.
        let unusable = |f: &Fetched| {
            f.status == StatusCode::NOT_FOUND && f.body.contains("This link cannot be used")
        };
        assert!(unusable(
            &fetch(&client, Method::GET, &url, None, None).await?
        ));
        assert!(unusable(
            &fetch(&client, Method::GET, &form_url, Some(&cookie), None).await?
        ));
        assert!(unusable(
            &fetch(
                &client,
                Method::POST,
                &form_url,
                Some(&cookie),
                Some(&answer)
            )
            .await?
        ));
        // Unknown, and no cookie at all: the same.
        let unknown = format!("{base}/feedback/fb_{}", "0".repeat(64));
        assert!(unusable(
            &fetch(&client, Method::GET, &unknown, None, None).await?
        ));
        assert!(unusable(
            &fetch(&client, Method::GET, &form_url, None, None).await?
        ));

        // Expired: its expiry written into the past.
        let (expired, expired_token, _) = make().await?;
        let now = jiff::Timestamp::now().as_microsecond();
        execute_as_owner(
            &world.service.db,
            &format!(
                "UPDATE feedback_links SET created_at = {}, expires_at = {} WHERE id = '{expired}'",
                now - 8 * 86_400_000_000_i64,
                now - 3_600_000_000_i64
            ),
        )
        .await?;
        let expired_cookie = format!("alliance_feedback={expired_token}");
        assert!(unusable(
            &fetch(
                &client,
                Method::GET,
                &format!("{base}/feedback/{expired_token}"),
                None,
                None
            )
            .await?
        ));
        assert!(unusable(
            &fetch(
                &client,
                Method::POST,
                &form_url,
                Some(&expired_cookie),
                Some(&answer)
            )
            .await?
        ));

        // Withdrawn: by the lead; then the same 404; withdrawing twice is refused.
        let (withdrawn, withdrawn_token, _) = make().await?;
        let withdraw = format!("/api/v1/children/{child}/carer-feedback/{withdrawn}/withdraw");
        let (status, _) = world
            .api("supervisor", Method::POST, &withdraw, None)
            .await?;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, body) = world.api("lead", Method::POST, &withdraw, None).await?;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let (status, _) = world.api("lead", Method::POST, &withdraw, None).await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let withdrawn_cookie = format!("alliance_feedback={withdrawn_token}");
        assert!(unusable(
            &fetch(
                &client,
                Method::GET,
                &form_url,
                Some(&withdrawn_cookie),
                None
            )
            .await?
        ));

        // No longer allowed: the father is later recorded as not to be contacted.
        let (allowed, allowed_token, _) = make().await?;
        let allowed_cookie = format!("alliance_feedback={allowed_token}");
        let form = fetch(&client, Method::GET, &form_url, Some(&allowed_cookie), None).await?;
        assert_eq!(form.status, StatusCode::OK);
        let (status, carer) = world
            .api(
                "admin",
                Method::GET,
                &format!("/api/v1/carers/{}", world.carer),
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{carer}");
        let (status, changed) = world
            .api(
                "admin",
                Method::PUT,
                &format!("/api/v1/carers/{}", world.carer),
                Some(
                    json!({"version": carer["version"], "active": true, "name": "Sam Clarke",
                    "relationship": "Father", "parental_responsibility": "parent",
                    "may_contact": false}),
                ),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{changed}");
        assert!(unusable(
            &fetch(&client, Method::GET, &form_url, Some(&allowed_cookie), None).await?
        ));
        assert!(unusable(
            &fetch(
                &client,
                Method::POST,
                &form_url,
                Some(&allowed_cookie),
                Some(&answer)
            )
            .await?
        ));
        let _ = allowed;

        // The young person consents for themselves and agrees carers are told nothing: a
        // mother who could receive a link now may not, and is told why.
        let mother = add_carer(
            &world,
            json!({"name": "Dana Clarke", "relationship": "Mother",
                "parental_responsibility": "parent", "may_contact": true}),
        )
        .await?;
        let (status, _) = world
            .api(
                "lead",
                Method::POST,
                &list_path,
                Some(json!({"carer_id": mother})),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED);
        let (_, record) = world.child_as("lead").await?;
        let details = record["details"].clone();
        let (status, updated) = world
            .api(
                "lead",
                Method::PUT,
                &format!("/api/v1/children/{child}"),
                Some(json!({"version": record["version"],
                    "legal_name": details["legal_name"],
                    "preferred_name": details["preferred_name"],
                    "date_of_birth": details["date_of_birth"], "sex": details["sex"],
                    "consents_for_self": true, "carers_may_be_told": []})),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{updated}");
        let (_, view) = world.api("lead", Method::GET, &list_path, None).await?;
        let reason = view["carers"]
            .as_array()
            .and_then(|c| c.iter().find(|x| x["carer_id"] == mother.as_str()))
            .map(|x| x["reason"].to_string())
            .unwrap_or_default();
        assert!(reason.contains("young person"), "{view}");
        let refusals = action_count(&world, "denied").await?;
        let (status, problem) = world
            .api(
                "lead",
                Method::POST,
                &list_path,
                Some(json!({"carer_id": mother})),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert!(problem.to_string().contains("young person"), "{problem}");
        assert_eq!(action_count(&world, "denied").await?, refusals + 1);
        assert_eq!(
            count(&world, "SELECT COUNT(*) AS n FROM measure_responses").await?,
            1,
            "only the one answer was recorded"
        );
        world.service.server.stop().await;
    }
    Ok(())
}
