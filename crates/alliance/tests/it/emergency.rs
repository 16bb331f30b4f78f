//! A child's emergency details, safety plan and emergency panel (issue 16, policy section 1)
//! through the real server on both engines: who may collect on each carer (a carer with no
//! contact at all never may; a carer stored without the choice reads "not decided"); who may
//! see the panel and what each sees (the administrator contacts and medical only), cover only
//! within its dates, every refusal a 404 and audited; who may read and write the safety plan,
//! its versions and a stale write; the self-harm concern's prompt to write a plan; and the
//! review task at the review date.

use crate::children::World;
use crate::count_as_owner;
use crate::safeguarding::{content, fields_of, id_of, raise_and_submit, tasks_of, today};
use alliance_testkit::backends;
use jiff::ToSpan;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

/// The scheduler every second, on the real clock, so tasks come at once.
const SCHEDULER: [&str; 2] = ["--scheduler-interval", "1"];

const WARNING_SIGNS: &str = "When I stop replying to my friends and stay in my room";

fn day(offset: i64) -> String {
    today()
        .checked_add(offset.days())
        .unwrap_or_else(|_| today())
        .to_string()
}

async fn refusals(world: &World) -> anyhow::Result<i64> {
    count_as_owner(
        &world.service.db,
        "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'denied'",
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

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .map(|l| {
            l.iter()
                .filter_map(|p| p["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

async fn panel(world: &World, who: &str) -> anyhow::Result<(StatusCode, Value)> {
    world
        .api(
            who,
            Method::GET,
            &format!("/api/v1/children/{}/emergency", world.child),
            None,
        )
        .await
}

async fn plan_of(world: &World, who: &str) -> anyhow::Result<(StatusCode, Value)> {
    world
        .api(
            who,
            Method::GET,
            &format!("/api/v1/children/{}/safety-plan", world.child),
            None,
        )
        .await
}

async fn write_plan(world: &World, who: &str, body: Value) -> anyhow::Result<(StatusCode, Value)> {
    world
        .api(
            who,
            Method::PUT,
            &format!("/api/v1/children/{}/safety-plan", world.child),
            Some(body),
        )
        .await
}

fn plan_body(expected: i64) -> Value {
    json!({"expected": expected, "warning_signs": WARNING_SIGNS,
        "coping": "Music with my headphones on; drawing",
        "people_to_ask": "Nan, 07700 900456", "written_with": "Alex (therapist), with me"})
}

/// Adds `user` to the case team as cover from `from` until the day before `until`.
async fn add_cover(world: &World, user: &str, from: &str, until: &str) -> anyhow::Result<()> {
    let (_, record) = world.child_as("admin").await?;
    let (status, body) = world
        .api(
            "admin",
            Method::POST,
            &format!("/api/v1/cases/{}/team", world.case),
            Some(
                json!({"version": record["cases"][0]["version"], "action": "add",
                "user": world.ids[user], "role": "cover", "starts_on": from, "ends_on": until}),
            ),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    Ok(())
}

/// Waits (up to 30 s) until `who` has a task of `rule` about `subject`.
async fn wait_for(world: &World, who: &str, rule: &str, subject: &str) -> anyhow::Result<Value> {
    for _ in 0..150 {
        if let Some(task) = tasks_of(world, who, false)
            .await?
            .into_iter()
            .find(|t| t["rule"] == rule && t["subject_id"] == subject)
        {
            return Ok(task);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    anyhow::bail!("{who} never got {rule} about {subject}")
}

async fn count_tasks(world: &World, who: &str, rule: &str) -> anyhow::Result<usize> {
    Ok(tasks_of(world, who, false)
        .await?
        .iter()
        .filter(|t| t["rule"] == rule)
        .count())
}

#[tokio::test]
async fn the_panel_shows_each_reader_what_the_policy_allows() -> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build(backend).await?;
        let child = world.child.clone();

        // The World's carer was written without a collect choice: not decided.
        let (status, carer) = world
            .api(
                "lead",
                Method::GET,
                &format!("/api/v1/carers/{}", world.carer),
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{carer}");
        assert_eq!(
            carer["details"]["may_collect"], "not-decided",
            "{backend:?}"
        );

        // A carer with no contact at all may never be one who collects.
        let barred_carer = json!({"name": "Lee Clarke", "relationship": "Uncle",
            "may_contact": false, "may_collect": "may-collect", "phone": "07700 900999",
            "restrictions": [{"kind": "no-contact", "source": "court-order",
                "dated": "2025-05-12", "reference": "Non-molestation order"}]});
        let path = format!("/api/v1/children/{child}/carers");
        let (status, problem) = world
            .api("lead", Method::POST, &path, Some(barred_carer.clone()))
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(fields_of(&problem), vec!["may_collect"]);
        let mut allowed = barred_carer.clone();
        allowed["may_collect"] = json!("may-not-collect");
        let (status, body) = world
            .api("lead", Method::POST, &path, Some(allowed))
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (status, body) = world
            .api(
                "lead",
                Method::POST,
                &path,
                Some(json!({"name": "Jo Clarke", "relationship": "Mother",
                    "parental_responsibility": "parent", "may_contact": true,
                    "phone": "07700 900123", "may_collect": "may-collect"})),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{body}");

        // The details: the case team and administrators write; the parent-worker may not.
        let details = json!({"medical_needs": "Asthma", "medication": "Blue inhaler in the office",
            "gp": "Larch Surgery, 0113 496 0456",
            "allergies": [{"what": "Peanuts", "severity": "severe",
                "action": "Adrenaline pen in the office; call 999"}],
            "barred": [{"name": "Jordan Fox", "relationship": "Mother's former partner",
                "source": "court-order"}]});
        let details_path = format!("/api/v1/children/{child}/emergency/details");
        let (status, _) = world
            .api(
                "parent-worker",
                Method::PUT,
                &details_path,
                Some(details.clone()),
            )
            .await?;
        assert_eq!(status, StatusCode::FORBIDDEN);
        for who in ["supervisor", "staff", "other-therapist"] {
            let (status, _) = world
                .api(who, Method::PUT, &details_path, Some(details.clone()))
                .await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who}");
        }
        let (status, written) = world
            .api("lead", Method::PUT, &details_path, Some(details.clone()))
            .await?;
        assert_eq!(status, StatusCode::OK, "{written}");
        assert_eq!(written["version"], 1);
        // A second first write is stale; at the version read it passes.
        let (status, _) = world
            .api("admin", Method::PUT, &details_path, Some(details.clone()))
            .await?;
        assert_eq!(status, StatusCode::CONFLICT);
        let mut again = details.clone();
        again["version"] = json!(1);
        let (status, written) = world
            .api("admin", Method::PUT, &details_path, Some(again))
            .await?;
        assert_eq!(status, StatusCode::OK, "{written}");
        let mut bad = details.clone();
        bad["version"] = json!(2);
        bad["allergies"][0]["severity"] = json!("deadly");
        let (status, problem) = world
            .api("lead", Method::PUT, &details_path, Some(bad))
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields_of(&problem), vec!["allergies[0].severity"]);

        // Those who see all of it: the team, the DSL, the service lead.
        let reads = count_action(&world, "emergency-panel.read").await?;
        for who in ["lead", "parent-worker", "dsl", "service-lead"] {
            let (status, p) = panel(&world, who).await?;
            assert_eq!(status, StatusCode::OK, "{who}: {p}");
            assert_eq!(names(&p["may_collect"]), vec!["Jo Clarke"], "{who}");
            assert_eq!(
                names(&p["may_not_collect"]),
                vec!["Lee Clarke", "Jordan Fox"],
                "{who}"
            );
            assert_eq!(names(&p["not_decided"]), vec!["Sam Clarke"], "{who}");
            assert_eq!(p["shows_safety_plan"], true, "{who}");
            assert_eq!(p["medical"]["allergies"][0]["what"], "Peanuts");
            let contacts = p["contacts"].as_array().cloned().unwrap_or_default();
            let lee = contacts.iter().find(|c| c["name"] == "Lee Clarke");
            assert_eq!(lee.map(|c| c["do_not_contact"].clone()), Some(json!(true)));
            assert_eq!(lee.map(|c| c["phone"].clone()), Some(Value::Null));
            // Restrictions by kind, never their documents.
            assert!(!p.to_string().contains("Non-molestation"), "{who}: {p}");
            assert!(!p.to_string().contains("Prohibited steps"), "{who}: {p}");
        }
        assert_eq!(
            count_action(&world, "emergency-panel.read").await?,
            reads + 4
        );

        // The administrator: contacts and medical only.
        let (status, p) = panel(&world, "admin").await?;
        assert_eq!(status, StatusCode::OK, "{p}");
        for absent in [
            "may_collect",
            "may_not_collect",
            "not_decided",
            "safety_plan",
        ] {
            assert!(p[absent].is_null(), "{absent}: {p}");
        }
        assert_eq!(p["shows_safety_plan"], false);
        assert!(!p.to_string().contains("Jordan Fox"), "{p}");
        assert_eq!(p["contacts"].as_array().map(Vec::len), Some(3));
        assert_eq!(p["medical"]["medical_needs"], "Asthma");

        // Refused, each a 404 and audited: the supervisor, staff, another therapist.
        let before = refusals(&world).await?;
        for who in ["supervisor", "staff", "other-therapist", "other-supervisor"] {
            let (status, _) = panel(&world, who).await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who}");
        }
        assert_eq!(refusals(&world).await?, before + 4);
        // The same from the pages.
        for who in ["supervisor", "staff"] {
            let (status, _) = world
                .api(
                    who,
                    Method::GET,
                    &format!("/api/v1/children/{child}/emergency/details"),
                    None,
                )
                .await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who}");
        }

        // Cover sees it only within its dates.
        add_cover(&world, "other-therapist", &day(-10), &day(0)).await?;
        let (status, _) = panel(&world, "other-therapist").await?;
        assert_eq!(status, StatusCode::NOT_FOUND, "cover that has ended");
        add_cover(&world, "other-therapist", &day(0), &day(7)).await?;
        let (status, p) = panel(&world, "other-therapist").await?;
        assert_eq!(status, StatusCode::OK, "cover today: {p}");
        assert_eq!(names(&p["may_collect"]), vec!["Jo Clarke"]);
        world.service.server.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn the_safety_plan_is_read_as_clinical_record_and_kept_by_version() -> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build_with(backend, &SCHEDULER).await?;
        let child = world.child.clone();

        let (status, empty) = plan_of(&world, "lead").await?;
        assert_eq!(status, StatusCode::OK, "{empty}");
        assert!(empty["plan"].is_null());
        assert_eq!(empty["newest"], 0);

        // Only the lead, co-worker and cover write.
        let (status, _) = write_plan(&world, "supervisor", plan_body(0)).await?;
        assert_eq!(status, StatusCode::FORBIDDEN);
        for who in [
            "parent-worker",
            "dsl",
            "service-lead",
            "admin",
            "staff",
            "other-therapist",
        ] {
            let (status, _) = write_plan(&world, who, plan_body(0)).await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who}");
        }
        let (status, problem) = write_plan(
            &world,
            "lead",
            json!({"expected": 0, "warning_signs": "", "coping": "", "written_with": ""}),
        )
        .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            fields_of(&problem),
            vec!["warning_signs", "coping", "written_with"]
        );

        // The first plan: written a week ago, reviewed today, so its review task fires now.
        let mut first = plan_body(0);
        first["written_on"] = json!(day(-7));
        first["review_on"] = json!(day(0));
        let (status, v1) = write_plan(&world, "lead", first).await?;
        assert_eq!(status, StatusCode::CREATED, "{v1}");
        assert_eq!(v1["number"], 1);
        assert_eq!(v1["services"].as_array().map(Vec::len), Some(5));
        let v1_id = id_of(&v1);
        let task = wait_for(&world, "lead", "safety-plan.review", &v1_id).await?;
        assert_eq!(task["kind"], "task", "{task}");

        // A stale write is refused; a review from the newest is version 2, four weeks on.
        let (status, _) = write_plan(&world, "lead", plan_body(0)).await?;
        assert_eq!(status, StatusCode::CONFLICT);
        let (status, v2) = write_plan(&world, "lead", plan_body(1)).await?;
        assert_eq!(status, StatusCode::CREATED, "{v2}");
        assert_eq!(v2["number"], 2);
        assert_eq!(v2["review_on"], day(28));
        // Its review is not due yet: no task for it.
        tokio::time::sleep(Duration::from_millis(2500)).await;
        let v2_id = id_of(&v2);
        assert!(
            !tasks_of(&world, "lead", false)
                .await?
                .iter()
                .any(|t| t["subject_id"] == v2_id.as_str()),
            "{backend:?}"
        );

        // Readers: the lead (and the supervisor, pseudonymised), each version kept.
        let reads = count_action(&world, "safety-plan.read").await?;
        for who in ["lead", "supervisor"] {
            let (status, plan) = plan_of(&world, who).await?;
            assert_eq!(status, StatusCode::OK, "{who}: {plan}");
            assert_eq!(plan["plan"]["number"], 2);
            assert_eq!(plan["versions"], json!([2, 1]));
        }
        assert_eq!(plan_of(&world, "supervisor").await?.1["may_write"], false);
        let (status, old) = world
            .api(
                "lead",
                Method::GET,
                &format!("/api/v1/children/{child}/safety-plan?version=1"),
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(old["plan"]["id"], v1_id.as_str());
        assert_eq!(count_action(&world, "safety-plan.read").await?, reads + 4);

        // Everyone else: 404, audited.
        let before = refusals(&world).await?;
        for who in [
            "parent-worker",
            "dsl",
            "service-lead",
            "admin",
            "staff",
            "other-therapist",
        ] {
            let (status, _) = plan_of(&world, who).await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who}");
        }
        assert_eq!(refusals(&world).await?, before + 6);

        // The panel's readers see its summary; the administrator never does.
        let (_, p) = panel(&world, "dsl").await?;
        assert_eq!(p["safety_plan"]["warning_signs"], WARNING_SIGNS);
        assert_eq!(p["safety_plan"]["services"][0]["number"], "0800 1111");
        let (_, p) = panel(&world, "admin").await?;
        assert!(p["safety_plan"].is_null());
        assert!(!p.to_string().contains(WARNING_SIGNS));
        world.service.server.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn a_self_harm_concern_prompts_the_lead_to_write_a_safety_plan() -> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build_with(backend, &SCHEDULER).await?;
        let child = world.child.clone();

        // A concern of another kind prompts nothing.
        raise_and_submit(
            &world,
            "parent-worker",
            json!({"child_id": child}),
            content("no", &["physical"]),
        )
        .await?;
        // Self-harm, with no plan: the lead is asked to write one.
        raise_and_submit(
            &world,
            "parent-worker",
            json!({"child_id": child}),
            content("no", &["self-harm"]),
        )
        .await?;
        let task = wait_for(&world, "lead", "safety-plan.write", &child).await?;
        assert_eq!(task["kind"], "task", "{task}");
        assert_eq!(count_tasks(&world, "lead", "safety-plan.write").await?, 1);
        // Nobody else is asked.
        for who in ["parent-worker", "dsl", "service-lead"] {
            assert_eq!(
                count_tasks(&world, who, "safety-plan.write").await?,
                0,
                "{who}"
            );
        }

        // Once a plan exists, another self-harm concern does not ask again.
        let (status, _) = write_plan(&world, "lead", plan_body(0)).await?;
        assert_eq!(status, StatusCode::CREATED);
        let risks = count_tasks(&world, "lead", "concern.risk-review-shared").await?;
        raise_and_submit(
            &world,
            "parent-worker",
            json!({"child_id": child}),
            content("no", &["self-harm"]),
        )
        .await?;
        for _ in 0..150 {
            if count_tasks(&world, "lead", "concern.risk-review-shared").await? > risks {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert!(count_tasks(&world, "lead", "concern.risk-review-shared").await? > risks);
        assert_eq!(count_tasks(&world, "lead", "safety-plan.write").await?, 1);
        world.service.server.stop().await;
    }
    Ok(())
}
