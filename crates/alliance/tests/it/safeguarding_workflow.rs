//! Safeguarding 2 (issue 14), through the real server on both engines: the deadlines of
//! policy section 4 for a concern raised at 16:55 and at 17:50 on a Friday, on Christmas Eve,
//! in the summer holiday and at a weekend (the server started with its clock shifted, the
//! scheduler running inside it); escalation along the rota when nobody acknowledges or
//! decides; re-opening; the whole workflow in the order an urgent case needs (the police
//! first); information sharing refused by a carer's restriction, with the reason; the
//! therapist seeing exactly what the DSL shared and nothing else; the chronology in time order,
//! for the DSL and the service lead only; the transfer of the file to a new school with its
//! deadline, its encrypted file and its receipt; and who may do what, tried from the denied
//! side.

use crate::children::World;
use crate::count_as_owner;
use crate::safeguarding::{
    add_person, content, fields_of, id_of, post, raise_and_submit, read, restart, rules_about,
    tasks_of, wait_for_task, yesterday,
};
use alliance_testkit::backends;
use jiff::Timestamp;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

/// The scheduler every second, on the real clock.
const SCHEDULER: [&str; 2] = ["--scheduler-interval", "1"];

/// What the DSL shares with the parent-worker, and the reasons for a decision only the DSL
/// reads: neither may reach anyone else.
const SHARED_TEXT: &str =
    "Please watch for signs of worry about going home at the parents' sessions";
const REASONS: &str = "Mother engaging well with early help; no further concerns from school";

fn instant(raw: &str) -> Timestamp {
    raw.parse()
        .unwrap_or_else(|e| panic!("{raw:?} is not an instant: {e}"))
}

fn instant_of(value: &Value) -> Timestamp {
    instant(value.as_str().unwrap_or_default())
}

fn reference_of(receipt: &Value) -> String {
    receipt["reference"].as_str().unwrap_or_default().to_owned()
}

/// A complete, non-urgent concern that happened on `day` at 09:00 (not in the future for a
/// server whose clock is shifted).
fn content_on(day: &str) -> Value {
    let mut body = content("no", &["physical"]);
    body["happened_on"] = json!(day);
    body["happened_time"] = json!("09:00");
    body
}

/// Records a step as `who`.
async fn step(
    world: &World,
    who: &str,
    id: &str,
    body: Value,
) -> anyhow::Result<(StatusCode, Value)> {
    post(world, who, id, "steps", Some(body)).await
}

/// Records a step as the DSL, which must be taken (204).
async fn dsl_step(world: &World, id: &str, body: Value) -> anyhow::Result<()> {
    let (status, problem) = step(world, "dsl", id, body.clone()).await?;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}: {problem}");
    Ok(())
}

/// The concern as the DSL reads it.
async fn as_dsl(world: &World, id: &str) -> anyhow::Result<Value> {
    let (status, view) = read(world, "dsl", id, None).await?;
    assert_eq!(status, StatusCode::OK, "{view}");
    Ok(view)
}

fn kinds(view: &Value) -> Vec<String> {
    view["steps"]
        .as_array()
        .map(|s| {
            s.iter()
                .filter_map(|x| x["kind"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A step's lines as (label, value).
fn lines_of(step: &Value) -> Vec<(String, String)> {
    step["lines"]
        .as_array()
        .map(|l| {
            l.iter()
                .map(|x| {
                    (
                        x["label"].as_str().unwrap_or_default().to_owned(),
                        x["value"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn step_of<'a>(view: &'a Value, kind: &str) -> &'a Value {
    view["steps"]
        .as_array()
        .and_then(|s| s.iter().rev().find(|x| x["kind"] == kind))
        .unwrap_or(&Value::Null)
}

/// A decision with its reasons.
fn decision(code: &str) -> Value {
    json!({"kind": "decided", "decision": code, "note": REASONS})
}

/// `who`'s open tasks of `rule` about `subject`.
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

/// Waits (up to 30 s) until `who` has `n` or more tasks or notices of `rule` about `subject`
/// (open or done), and answers them.
async fn wait_for_count(
    world: &World,
    who: &str,
    rule: &str,
    subject: &str,
    n: usize,
) -> anyhow::Result<Vec<Value>> {
    for _ in 0..150 {
        let found: Vec<Value> = tasks_of(world, who, false)
            .await?
            .into_iter()
            .filter(|t| t["rule"] == rule && t["subject_id"] == subject)
            .collect();
        if found.len() >= n {
            return Ok(found);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    anyhow::bail!(
        "{who} never had {n} of {rule} about {subject}: {:?}",
        tasks_of(world, who, false).await?
    )
}

/// Waits (up to 30 s) until `who` has an open task of `rule` about `subject`.
async fn wait_for_open(
    world: &World,
    who: &str,
    rule: &str,
    subject: &str,
) -> anyhow::Result<Value> {
    for _ in 0..150 {
        if let Some(task) = open_tasks(world, who, rule, subject)
            .await?
            .into_iter()
            .next()
        {
            return Ok(task);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    anyhow::bail!(
        "{who} never had an open {rule} about {subject}: {:?}",
        tasks_of(world, who, false).await?
    )
}

/// The body of a GET as bytes, with its content type.
async fn download(
    world: &World,
    who: &str,
    path: &str,
) -> anyhow::Result<(StatusCode, String, Vec<u8>)> {
    let token = world
        .tokens
        .get(who)
        .cloned()
        .unwrap_or_else(|| world.service.admin_token.clone());
    let response = reqwest::Client::new()
        .get(world.service.server.url(path))
        .bearer_auth(token)
        .send()
        .await?;
    let status = response.status();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    Ok((status, content_type, response.bytes().await?.to_vec()))
}

async fn denied_rows(world: &World) -> anyhow::Result<i64> {
    count_as_owner(
        &world.service.db,
        &format!(
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'denied' AND child_id = '{}'",
            world.child
        ),
    )
    .await
}

// ----- 1. deadlines -----

#[tokio::test]
async fn deadlines_fall_at_the_end_of_the_working_day_and_the_next_as_policy_section_4_says()
-> anyhow::Result<()> {
    // (raised at, the day it happened, acknowledge by, decide by), all UTC; London is on
    // British Summer Time in August (UTC+1) and on UTC in December.
    let cases = [
        // Friday 28/08/2026 11:00 BST, in the school summer holiday (not a closure of the
        // service); Monday 31/08 is the August bank holiday.
        (
            "2026-08-28T10:00:00Z",
            "27/08/2026",
            "2026-08-28T16:00:00Z",
            "2026-09-01T16:00:00Z",
        ),
        // Friday 04/12/2026 16:55: acknowledged by 17:00 that day, decided by Monday 17:00.
        (
            "2026-12-04T16:55:00Z",
            "03/12/2026",
            "2026-12-04T17:00:00Z",
            "2026-12-07T17:00:00Z",
        ),
        // Friday 17:50, after hours: counted from Monday 09:00.
        (
            "2026-12-04T17:50:00Z",
            "03/12/2026",
            "2026-12-07T17:00:00Z",
            "2026-12-08T17:00:00Z",
        ),
        // Saturday 05/12/2026: counted from Monday 09:00.
        (
            "2026-12-05T11:00:00Z",
            "04/12/2026",
            "2026-12-07T17:00:00Z",
            "2026-12-08T17:00:00Z",
        ),
        // Christmas Eve (Thursday) 15:00: Christmas Day, the weekend and the Boxing Day
        // substitute (Monday 28/12) are skipped.
        (
            "2026-12-24T15:00:00Z",
            "23/12/2026",
            "2026-12-24T17:00:00Z",
            "2026-12-29T17:00:00Z",
        ),
    ];
    for backend in backends() {
        let mut world = World::build(backend).await?;
        for (raised, happened, acknowledge_by, decide_by) in cases {
            world = restart(
                world,
                &["--clock-starts-at", raised, SCHEDULER[0], SCHEDULER[1]],
            )
            .await?;
            // Raised by the service lead (in August the lead therapist's case had not
            // started).
            let (id, receipt) = raise_and_submit(
                &world,
                "service-lead",
                json!({"child_id": world.child}),
                content_on(happened),
            )
            .await?;
            assert_eq!(receipt["urgent"], false, "{receipt}");
            let reference = reference_of(&receipt);
            // The scheduler inside the server raises both tasks in the DSL's inbox.
            let ack = wait_for_task(&world, "dsl", "concern.acknowledge", &id, &reference).await?;
            let decide = wait_for_task(&world, "dsl", "concern.decide", &id, &reference).await?;
            assert_eq!(
                instant_of(&ack["due_at"]),
                instant(acknowledge_by),
                "{backend:?}: acknowledgement of a concern raised at {raised}: {ack}"
            );
            assert_eq!(
                instant_of(&decide["due_at"]),
                instant(decide_by),
                "{backend:?}: decision on a concern raised at {raised}: {decide}"
            );
            assert_eq!(ack["kind"], "task");
            assert_eq!(decide["kind"], "task");
            // The concern and the queue say the same.
            let view = as_dsl(&world, &id).await?;
            assert_eq!(view["stage"], "awaiting-acknowledgement", "{view}");
            assert_eq!(
                instant_of(&view["decide_by"]),
                instant(decide_by),
                "{raised}"
            );
            let (status, queue) = world
                .api("dsl", Method::GET, "/api/v1/safeguarding/queue", None)
                .await?;
            assert_eq!(status, StatusCode::OK, "{queue}");
            let listed = queue["awaiting"]
                .as_array()
                .and_then(|a| a.iter().find(|c| c["id"] == id.as_str()).cloned())
                .unwrap_or_default();
            assert_eq!(
                instant_of(&listed["due"]),
                instant(acknowledge_by),
                "{queue}"
            );
            assert_eq!(listed["stage"], "awaiting-acknowledgement");
            // Nobody else carries them: not the raiser, not the therapists.
            for who in ["service-lead", "lead", "parent-worker"] {
                assert_eq!(
                    rules_about(&world, who, &id, false).await?,
                    Vec::<String>::new(),
                    "{raised}: {who}"
                );
            }
        }
        world.service.server.stop().await;
    }
    Ok(())
}

// ----- 2. escalation -----

#[tokio::test]
async fn what_nobody_acknowledges_or_decides_goes_to_its_owner_then_along_the_rota()
-> anyhow::Result<()> {
    for backend in backends() {
        let mut world = World::build(backend).await?;
        // A deputy, who is not on the rota; the DSL is on duty all week.
        add_person(&mut world, "deputy", &["deputy-dsl"], "none").await?;
        let slots: Vec<Value> = (1..=7)
            .map(|weekday| {
                json!({"user": world.ids["dsl"], "position": "dsl", "weekday": weekday,
                    "starts": "00:00", "ends": "00:00"})
            })
            .collect();
        let (status, rota) = world
            .api(
                "dsl",
                Method::PUT,
                "/api/v1/safeguarding/rota",
                Some(json!({"slots": slots})),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{rota}");

        // Friday 04/12/2026 10:00: two concerns; the second is acknowledged and decided in
        // time.
        let world = restart(
            world,
            &[
                "--clock-starts-at",
                "2026-12-04T10:00:00Z",
                SCHEDULER[0],
                SCHEDULER[1],
            ],
        )
        .await?;
        let (first, receipt) = raise_and_submit(
            &world,
            "lead",
            json!({"child_id": world.child}),
            content_on("03/12/2026"),
        )
        .await?;
        let first_ref = reference_of(&receipt);
        let (second, receipt) = raise_and_submit(
            &world,
            "lead",
            json!({"child_id": world.child}),
            content_on("03/12/2026"),
        )
        .await?;
        let second_ref = reference_of(&receipt);
        for who in ["dsl", "deputy"] {
            for (id, reference) in [(&first, &first_ref), (&second, &second_ref)] {
                wait_for_task(&world, who, "concern.acknowledge", id, reference).await?;
                wait_for_task(&world, who, "concern.decide", id, reference).await?;
            }
        }
        let (status, problem) = post(&world, "dsl", &second, "acknowledge", None).await?;
        assert_eq!(status, StatusCode::NO_CONTENT, "{problem}");
        dsl_step(&world, &second, decision("no-further-action")).await?;
        for who in ["dsl", "deputy"] {
            assert_eq!(
                rules_about(&world, who, &second, true).await?,
                Vec::<String>::new(),
                "{who}: acknowledging and deciding close everyone's tasks"
            );
        }

        // 17:05: the first was not acknowledged by the end of the working day.
        let world = restart(
            world,
            &[
                "--clock-starts-at",
                "2026-12-04T17:05:00Z",
                SCHEDULER[0],
                SCHEDULER[1],
            ],
        )
        .await?;
        // The owners are reminded, then whoever is on duty (the DSL) and the service lead.
        let lead_told = wait_for_count(&world, "service-lead", "task.overdue", &first, 1).await?;
        assert!(
            lead_told.iter().all(|t| t["kind"] == "notice"
                && t["title"]
                    .as_str()
                    .is_some_and(|x| x.contains("Acknowledge") && x.contains(&first_ref))),
            "{backend:?}: {lead_told:?}"
        );
        let deputy_told = wait_for_count(&world, "deputy", "task.overdue", &first, 1).await?;
        // The DSL: their own reminder, and as the one on duty.
        let dsl_told = wait_for_count(&world, "dsl", "task.overdue", &first, 2).await?;
        assert!(
            dsl_told
                .iter()
                .all(|t| t["title"].as_str().is_some_and(|x| x.contains(&first_ref))),
            "{dsl_told:?}"
        );
        // A few more passes: the ladder has no more steps, and the deputy, off the rota, has
        // only their own reminder.
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(
            rules_about(&world, "deputy", &first, false)
                .await?
                .iter()
                .filter(|r| *r == "task.overdue")
                .count(),
            deputy_told.len(),
            "{backend:?}"
        );
        assert_eq!(deputy_told.len(), 1, "{deputy_told:?}");
        // Nobody else hears of it, and nothing was escalated about the second.
        for who in [
            "lead",
            "parent-worker",
            "other-therapist",
            "supervisor",
            "staff",
            "admin",
        ] {
            assert_eq!(
                rules_about(&world, who, &first, false).await?,
                Vec::<String>::new(),
                "{who}"
            );
        }
        for who in ["dsl", "deputy", "service-lead"] {
            assert!(
                !rules_about(&world, who, &second, false)
                    .await?
                    .contains(&"task.overdue".to_owned()),
                "{backend:?} {who}: the second was acknowledged and decided in time"
            );
        }
        // The decision is still in time (Monday 17:00): no reminder about it yet.
        assert!(
            !tasks_of(&world, "service-lead", false)
                .await?
                .iter()
                .any(|t| t["rule"] == "task.overdue"
                    && t["title"].as_str().is_some_and(|x| x.contains("Decide"))),
            "{backend:?}"
        );
        let (_, queue) = world
            .api("dsl", Method::GET, "/api/v1/safeguarding/queue", None)
            .await?;
        let listed = queue["awaiting"]
            .as_array()
            .and_then(|a| a.iter().find(|c| c["id"] == first.as_str()).cloned())
            .unwrap_or_default();
        assert_eq!(listed["overdue"], true, "{queue}");

        // Monday 07/12/2026 17:05: nobody decided on the first either.
        let world = restart(
            world,
            &[
                "--clock-starts-at",
                "2026-12-07T17:05:00Z",
                SCHEDULER[0],
                SCHEDULER[1],
            ],
        )
        .await?;
        let mut decided_late = Vec::new();
        for _ in 0..150 {
            decided_late = tasks_of(&world, "service-lead", false)
                .await?
                .into_iter()
                .filter(|t| {
                    t["rule"] == "task.overdue"
                        && t["title"]
                            .as_str()
                            .is_some_and(|x| x.contains("Decide") && x.contains(&first_ref))
                })
                .collect();
            if !decided_late.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert!(!decided_late.is_empty(), "{backend:?}: the late decision");
        assert!(
            !tasks_of(&world, "service-lead", false)
                .await?
                .iter()
                .any(|t| t["title"].as_str().is_some_and(|x| x.contains(&second_ref))),
            "{backend:?}: the decided one"
        );
        world.service.server.stop().await;
    }
    Ok(())
}

// ----- 3. re-opening -----

#[tokio::test]
async fn a_closed_concern_re_opens_with_new_information_and_waits_for_a_new_decision()
-> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build_with(backend, &SCHEDULER).await?;
        let (id, receipt) = raise_and_submit(
            &world,
            "lead",
            json!({"child_id": world.child}),
            content("no", &["neglect"]),
        )
        .await?;
        let reference = reference_of(&receipt);
        wait_for_open(&world, "dsl", "concern.decide", &id).await?;

        // Closing before a decision, or re-opening what is not closed: refused, and nothing
        // written (not even the acknowledgement a first step makes).
        let (status, problem) = step(
            &world,
            "dsl",
            &id,
            json!({"kind": "closed", "note": "Nothing more"}),
        )
        .await?;
        assert_eq!(status, StatusCode::CONFLICT, "{backend:?}: {problem}");
        assert_eq!(
            problem["detail"], "Record a decision before closing",
            "{problem}"
        );
        let (status, problem) = step(
            &world,
            "dsl",
            &id,
            json!({"kind": "reopened", "note": "New information"}),
        )
        .await?;
        assert_eq!(status, StatusCode::CONFLICT, "{problem}");
        assert_eq!(problem["detail"], "Only a closed concern is re-opened");
        let view = as_dsl(&world, &id).await?;
        assert_eq!(kinds(&view), Vec::<String>::new(), "{view}");
        assert_eq!(view["stage"], "awaiting-acknowledgement");
        assert_eq!(view["may_work"], true);

        // A decision needs its reasons.
        let (status, problem) = step(&world, "dsl", &id, json!({"kind": "decided"})).await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        let mut fields = fields_of(&problem);
        fields.sort();
        assert_eq!(fields, ["decision", "note"]);
        let (status, problem) = step(
            &world,
            "dsl",
            &id,
            json!({"kind": "decided", "decision": "monitor", "note": "x", "review_on": "01/01/2020"}),
        )
        .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(fields_of(&problem), ["review_on"]);

        // Decide (acknowledging on the way), then close.
        dsl_step(&world, &id, decision("no-further-action")).await?;
        let view = as_dsl(&world, &id).await?;
        assert_eq!(kinds(&view), ["acknowledged", "decided"], "{view}");
        assert_eq!(view["stage"], "open");
        assert!(view["decide_by"].is_null(), "{view}");
        assert_eq!(
            lines_of(step_of(&view, "decided")),
            [
                ("Decision".to_owned(), "No further action".to_owned()),
                ("Reasons".to_owned(), REASONS.to_owned()),
            ]
        );
        assert_eq!(
            open_tasks(&world, "dsl", "concern.decide", &id)
                .await?
                .len(),
            0,
            "{backend:?}: the decision closes the task"
        );
        dsl_step(
            &world,
            &id,
            json!({"kind": "closed", "note": "No further action: school monitoring as usual"}),
        )
        .await?;
        let view = as_dsl(&world, &id).await?;
        assert_eq!(view["stage"], "closed", "{view}");
        assert_eq!(view["stage_label"], "Closed");

        // A closed concern takes no step of the work but a re-opening (or a record of
        // sharing).
        for body in [
            json!({"kind": "information-gathered", "note": "Spoke to the class teacher"}),
            decision("early-help"),
            json!({"kind": "closed", "note": "Again"}),
        ] {
            let (status, problem) = step(&world, "dsl", &id, body.clone()).await?;
            assert_eq!(status, StatusCode::CONFLICT, "{body}: {problem}");
            assert_eq!(
                problem["detail"],
                "This is closed: re-open it with the new information first"
            );
        }
        let (status, problem) = step(&world, "dsl", &id, json!({"kind": "reopened"})).await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(fields_of(&problem), ["note"]);
        dsl_step(
            &world,
            &id,
            json!({"kind": "reopened", "note": "The school reports new bruising on Monday"}),
        )
        .await?;
        let view = as_dsl(&world, &id).await?;
        assert_eq!(view["stage"], "awaiting-decision", "{view}");
        assert!(view["decide_by"].is_string(), "{view}");
        assert_eq!(
            lines_of(step_of(&view, "reopened")),
            [(
                "New information".to_owned(),
                "The school reports new bruising on Monday".to_owned()
            )]
        );
        // A new decision task, as the first closed.
        let task = wait_for_open(&world, "dsl", "concern.decide", &id).await?;
        assert!(
            task["title"]
                .as_str()
                .is_some_and(|t| t.contains(&reference)),
            "{task}"
        );
        assert_eq!(
            wait_for_count(&world, "dsl", "concern.decide", &id, 2)
                .await?
                .len(),
            2,
            "{backend:?}: the first and the one after re-opening"
        );
        let (_, queue) = world
            .api("dsl", Method::GET, "/api/v1/safeguarding/queue", None)
            .await?;
        let open: Vec<&Value> = queue["open"]
            .as_array()
            .map(|o| o.iter().filter(|c| c["id"] == id.as_str()).collect())
            .unwrap_or_default();
        assert_eq!(open.len(), 1, "{queue}");
        assert_eq!(open[0]["stage"], "awaiting-decision");
        assert!(open[0]["due"].is_string(), "{queue}");
        // Decided and closed again.
        dsl_step(&world, &id, decision("early-help")).await?;
        assert_eq!(
            open_tasks(&world, "dsl", "concern.decide", &id)
                .await?
                .len(),
            0
        );
        dsl_step(
            &world,
            &id,
            json!({"kind": "closed", "note": "Early help in place"}),
        )
        .await?;
        let view = as_dsl(&world, &id).await?;
        assert_eq!(
            kinds(&view),
            [
                "acknowledged",
                "decided",
                "closed",
                "reopened",
                "decided",
                "closed"
            ]
        );
        let (_, queue) = world
            .api("dsl", Method::GET, "/api/v1/safeguarding/queue", None)
            .await?;
        assert!(
            !queue["open"]
                .as_array()
                .is_some_and(|o| o.iter().any(|c| c["id"] == id.as_str())),
            "{queue}"
        );
        world.service.server.stop().await;
    }
    Ok(())
}

// ----- 4. the whole workflow, the police first -----

#[tokio::test]
async fn an_urgent_case_is_referred_to_the_police_first_and_worked_through_to_closing()
-> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build(backend).await?;
        let (id, receipt) = raise_and_submit(
            &world,
            "lead",
            json!({"child_id": world.child}),
            content("yes", &["physical"]),
        )
        .await?;
        assert_eq!(receipt["urgent"], true);

        // Feedback follows a referral.
        for kind in ["chased", "outcome"] {
            let (status, problem) =
                step(&world, "dsl", &id, json!({"kind": kind, "note": "x"})).await?;
            assert_eq!(status, StatusCode::CONFLICT, "{kind}: {problem}");
            assert_eq!(problem["detail"], "Record the referral first");
        }
        // A referral says where, to whom and when.
        let (status, problem) = step(&world, "dsl", &id, json!({"kind": "referred"})).await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        let mut fields = fields_of(&problem);
        fields.sort();
        assert_eq!(fields, ["agency", "on", "spoken_to"], "{problem}");
        let (status, problem) = step(
            &world,
            "dsl",
            &id,
            json!({"kind": "referred", "agency": "the-moon", "spoken_to": "x",
                "on": "01/01/2099", "time": "10:00"}),
        )
        .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        let mut fields = fields_of(&problem);
        fields.sort();
        assert_eq!(fields, ["agency", "on"], "{problem}");

        // The police first, before anything else.
        dsl_step(
            &world,
            &id,
            json!({"kind": "referred", "agency": "police", "spoken_to": "PC 4471 Jones",
                "on": yesterday(), "time": "16:30", "reference": "WY-2026-998877"}),
        )
        .await?;
        let view = as_dsl(&world, &id).await?;
        assert_eq!(
            kinds(&view),
            ["acknowledged", "referred"],
            "{backend:?}: {view}"
        );
        assert_eq!(view["stage"], "awaiting-decision");
        assert_eq!(view["acknowledged"]["by"], "dsl person");
        let referred = step_of(&view, "referred");
        assert_eq!(referred["agency"], "police");
        assert_eq!(referred["reference"], "WY-2026-998877");
        let lines = lines_of(referred);
        for (label, value) in [
            ("Agency", "Police"),
            ("Spoken to", "PC 4471 Jones"),
            ("Reference", "WY-2026-998877"),
        ] {
            assert!(
                lines.contains(&(label.to_owned(), value.to_owned())),
                "{label}: {lines:?}"
            );
        }
        assert!(
            lines
                .iter()
                .any(|(l, v)| l == "When" && v.ends_with("16:30")),
            "{lines:?}"
        );

        // Then the rest, each dated and signed.
        dsl_step(&world, &id, decision("police")).await?;
        dsl_step(
            &world,
            &id,
            json!({"kind": "information-gathered",
                "note": "Spoke to the class teacher: two earlier marks this term"}),
        )
        .await?;
        dsl_step(
            &world,
            &id,
            json!({"kind": "chased", "note": "Rang PC Jones: strategy discussion tomorrow"}),
        )
        .await?;
        dsl_step(
            &world,
            &id,
            json!({"kind": "outcome", "note": "Section 47 enquiry opened; child protection plan"}),
        )
        .await?;
        let (status, problem) =
            step(&world, "dsl", &id, json!({"kind": "information-shared"})).await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        let mut fields = fields_of(&problem);
        fields.sort();
        assert_eq!(
            fields,
            ["basis", "consent", "consent_reason", "note", "with_whom"]
        );
        dsl_step(
            &world,
            &id,
            json!({"kind": "information-shared", "note": "The concern and the body map",
                "with_whom": "DC Smith, West Yorkshire Police", "basis": "public-task",
                "consent": "not-sought",
                "consent_reason": "Seeking consent from the parents could put the child at risk"}),
        )
        .await?;
        let view = as_dsl(&world, &id).await?;
        assert_eq!(view["stage"], "open");
        let shared = lines_of(step_of(&view, "information-shared"));
        for (label, value) in [
            ("Shared with", "DC Smith, West Yorkshire Police"),
            ("Basis", "Public task (UK GDPR Article 6(1)(e))"),
            ("Consent", "Not sought"),
            (
                "Why",
                "Seeking consent from the parents could put the child at risk",
            ),
            ("What was shared", "The concern and the body map"),
        ] {
            assert!(
                shared.contains(&(label.to_owned(), value.to_owned())),
                "{label}: {shared:?}"
            );
        }
        dsl_step(
            &world,
            &id,
            json!({"kind": "closed", "note": "Child protection plan; school informed"}),
        )
        .await?;
        let view = as_dsl(&world, &id).await?;
        assert_eq!(
            kinds(&view),
            [
                "acknowledged",
                "referred",
                "decided",
                "information-gathered",
                "chased",
                "outcome",
                "information-shared",
                "closed"
            ],
            "{backend:?}"
        );
        assert_eq!(view["stage"], "closed");
        assert!(
            view["steps"].as_array().is_some_and(|s| s
                .iter()
                .all(|x| x["actor"] == "dsl person" && x["at"].is_string())),
            "{view}"
        );
        // The service lead reads it all and may not work on it.
        let (status, lead_view) = read(&world, "service-lead", &id, None).await?;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(kinds(&lead_view), kinds(&view));
        assert_eq!(lead_view["may_work"], false);

        // Its author reads the acknowledgement and what was decided, not the reasons, and
        // nothing else of the DSL's work.
        let (status, mine) = read(&world, "lead", &id, None).await?;
        assert_eq!(status, StatusCode::OK, "{mine}");
        assert_eq!(
            kinds(&mine),
            ["acknowledged", "decided"],
            "{backend:?}: {mine}"
        );
        let decided = step_of(&mine, "decided");
        assert_eq!(decided["decision"], "police");
        assert_eq!(decided["note"], "");
        assert_eq!(
            lines_of(decided),
            [("Decision".to_owned(), "Referral to the police".to_owned())]
        );
        assert_eq!(mine["may_work"], false);
        let text = mine.to_string();
        for hidden in [REASONS, "WY-2026-998877", "DC Smith", "Section 47"] {
            assert!(!text.contains(hidden), "{hidden}: {text}");
        }
        world.service.server.stop().await;
    }
    Ok(())
}

// ----- 5. information sharing and the outbound rule -----

#[tokio::test]
async fn sharing_with_a_carer_follows_their_restrictions_and_a_refusal_says_why()
-> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build(backend).await?;
        let (status, carer) = world
            .api(
                "admin",
                Method::POST,
                &format!("/api/v1/children/{}/carers", world.child),
                Some(json!({"name": "Pat Clarke", "relationship": "Mother",
                    "parental_responsibility": "parent", "may_contact": true,
                    "restrictions": [{"kind": "no-contact", "source": "safeguarding-decision",
                        "dated": "2026-10-01", "reference": "Strategy meeting"}]})),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{carer}");
        let barred = id_of(&carer);
        let (id, _) = raise_and_submit(
            &world,
            "lead",
            json!({"child_id": world.child}),
            content("no", &["emotional"]),
        )
        .await?;
        let view = as_dsl(&world, &id).await?;
        let offered: Vec<&str> = view["carers"]
            .as_array()
            .map(|c| c.iter().filter_map(|x| x["id"].as_str()).collect())
            .unwrap_or_default();
        assert!(
            offered.contains(&barred.as_str()) && offered.contains(&world.carer.as_str()),
            "{view}"
        );
        let share = |carer: &str, location: bool, school: bool| {
            json!({"kind": "information-shared", "note": "That a referral was made",
                "with_whom": "The child's carer", "basis": "public-task", "consent": "not-sought",
                "consent_reason": "Informing, not asking", "carer": carer,
                "reveals_location": location, "reveals_school": school})
        };

        // No contact at all: refused whatever it reveals, with the reason.
        let (status, problem) = step(&world, "dsl", &id, share(&barred, false, false)).await?;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend:?}: {problem}"
        );
        assert_eq!(fields_of(&problem), ["carer"]);
        assert!(
            problem["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("no contact at all")),
            "{problem}"
        );
        // The father: no information about location and session times (a court order).
        let (status, problem) = step(&world, "dsl", &id, share(&world.carer, true, false)).await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert!(
            problem["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("location")),
            "{problem}"
        );
        let (status, _) = step(
            &world,
            "dsl",
            &id,
            share(&uuid::Uuid::new_v4().to_string(), false, false),
        )
        .await?;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "not the child's carer"
        );
        // Nothing half-written: not even the acknowledgement a first step makes.
        let view = as_dsl(&world, &id).await?;
        assert_eq!(kinds(&view), Vec::<String>::new(), "{backend:?}: {view}");
        assert_eq!(view["stage"], "awaiting-acknowledgement");

        // What he may be told, he is.
        dsl_step(&world, &id, share(&world.carer, false, true)).await?;
        let view = as_dsl(&world, &id).await?;
        assert_eq!(kinds(&view), ["acknowledged", "information-shared"]);
        let shared = step_of(&view, "information-shared");
        assert_eq!(shared["carer"], world.carer.as_str());
        assert_eq!(shared["reveals_school"], true);
        world.service.server.stop().await;
    }
    Ok(())
}

// ----- 6. what the DSL shares with the therapist -----

#[tokio::test]
async fn the_therapist_sees_exactly_what_the_dsl_shared_and_nothing_else() -> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build_with(backend, &SCHEDULER).await?;
        let (id, receipt) = raise_and_submit(
            &world,
            "lead",
            json!({"child_id": world.child}),
            content("no", &["physical"]),
        )
        .await?;
        let reference = reference_of(&receipt);
        // The parent-worker is on the team but did not raise it: nothing.
        let (status, _) = read(&world, "parent-worker", &id, None).await?;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend:?}");

        // The DSL may share with the case team, and nobody else.
        let view = as_dsl(&world, &id).await?;
        let team: Vec<&str> = view["team"]
            .as_array()
            .map(|t| t.iter().filter_map(|x| x["user"].as_str()).collect())
            .unwrap_or_default();
        assert!(
            team.contains(&world.ids["lead"].as_str())
                && team.contains(&world.ids["parent-worker"].as_str()),
            "{view}"
        );
        assert!(!team.contains(&world.ids["other-therapist"].as_str()));
        for who in ["other-therapist", "staff", "dsl"] {
            let (status, problem) = step(
                &world,
                "dsl",
                &id,
                json!({"kind": "shared-with-team", "shared_with": world.ids[who], "note": "x"}),
            )
            .await?;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{who}: {problem}");
            assert_eq!(fields_of(&problem), ["shared_with"], "{who}");
        }
        let (status, problem) = step(
            &world,
            "dsl",
            &id,
            json!({"kind": "shared-with-team", "shared_with": world.ids["parent-worker"]}),
        )
        .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(fields_of(&problem), ["note"]);

        dsl_step(
            &world,
            &id,
            json!({"kind": "decided", "decision": "early-help", "note": REASONS}),
        )
        .await?;
        dsl_step(
            &world,
            &id,
            json!({"kind": "shared-with-team", "shared_with": world.ids["parent-worker"],
                "note": SHARED_TEXT}),
        )
        .await?;
        dsl_step(
            &world,
            &id,
            json!({"kind": "shared-with-team", "shared_with": world.ids["lead"],
                "note": "For the lead only: the strategy meeting is on Thursday"}),
        )
        .await?;
        wait_for_task(&world, "parent-worker", "concern.shared", &id, &reference).await?;

        // The parent-worker reads the share addressed to them, and nothing else.
        let (status, seen) = read(&world, "parent-worker", &id, None).await?;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {seen}");
        assert_eq!(seen["shared_only"], true, "{seen}");
        assert_eq!(kinds(&seen), ["shared-with-team"], "{seen}");
        let shared = &seen["steps"][0];
        assert_eq!(shared["note"], SHARED_TEXT);
        assert_eq!(shared["actor"], "dsl person");
        assert!(
            lines_of(shared).contains(&("What was shared".to_owned(), SHARED_TEXT.to_owned())),
            "{shared}"
        );
        assert_eq!(seen["about"]["child_id"], world.child.as_str());
        for (key, empty) in [
            ("author", json!("")),
            ("urgent", json!(false)),
            ("stage", Value::Null),
            ("decide_by", Value::Null),
            ("acknowledged", Value::Null),
            ("addenda", json!([])),
            ("may_work", json!(false)),
            ("may_add_addendum", json!(false)),
            ("team", json!([])),
        ] {
            assert_eq!(seen[key], empty, "{key}: {seen}");
        }
        assert_eq!(seen["content"]["child_words"], "");
        let text = seen.to_string();
        for hidden in [
            "belt",
            "forearm",
            "Therapy room",
            REASONS,
            "strategy meeting",
            "lead person",
            "physical",
        ] {
            assert!(!text.contains(hidden), "{backend:?}: {hidden} in {text}");
        }
        for path in [
            "/api/v1/me/concern-shares".to_owned(),
            format!("/api/v1/children/{}/concern-shares", world.child),
        ] {
            let (status, page) = world.api("parent-worker", Method::GET, &path, None).await?;
            assert_eq!(status, StatusCode::OK, "{path}: {page}");
            let items = page["items"].as_array().cloned().unwrap_or_default();
            assert_eq!(items.len(), 1, "{path}: {page}");
            assert_eq!(items[0]["text"], SHARED_TEXT);
            assert_eq!(items[0]["concern_id"], id.as_str());
            assert_eq!(items[0]["reference"], reference.as_str());
            assert_eq!(items[0]["child_id"], world.child.as_str());
            assert_eq!(items[0]["child"], "Millie");
            assert_eq!(items[0]["by"], "dsl person");
        }
        // They may not act on it.
        for (rest, body) in [
            (
                "steps",
                json!({"kind": "information-gathered", "note": "x"}),
            ),
            ("addenda", json!({"reason": "Something", "text": "More"})),
            ("acknowledge", json!({})),
        ] {
            let (status, _) = post(&world, "parent-worker", &id, rest, Some(body)).await?;
            assert!(
                status == StatusCode::NOT_FOUND || status == StatusCode::FORBIDDEN,
                "{rest}: {status}"
            );
        }

        // The lead, its author, reads their own entries, the decision (no reasons) and what
        // was shared with them; not the parent-worker's share.
        let (_, mine) = read(&world, "lead", &id, None).await?;
        assert_eq!(mine["shared_only"], false);
        assert_eq!(
            kinds(&mine),
            ["acknowledged", "decided", "shared-with-team"],
            "{mine}"
        );
        let text = mine.to_string();
        assert!(text.contains("strategy meeting is on Thursday"), "{text}");
        assert!(
            !text.contains(SHARED_TEXT) && !text.contains(REASONS),
            "{text}"
        );
        let (_, page) = world
            .api("lead", Method::GET, "/api/v1/me/concern-shares", None)
            .await?;
        assert_eq!(page["items"].as_array().map(Vec::len), Some(1), "{page}");

        // Another therapist, not on the team, and the administrator: nothing at all (the
        // administrator knows the child, and is shown an empty list; the others are not
        // told the child exists).
        for who in ["other-therapist", "admin", "staff"] {
            let (status, _) = read(&world, who, &id, None).await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who}");
            let (status, page) = world
                .api(who, Method::GET, "/api/v1/me/concern-shares", None)
                .await?;
            assert_eq!(status, StatusCode::OK, "{who}");
            assert_eq!(page["items"], json!([]), "{who}: {page}");
            let (status, page) = world
                .api(
                    who,
                    Method::GET,
                    &format!("/api/v1/children/{}/concern-shares", world.child),
                    None,
                )
                .await?;
            if who == "admin" {
                assert_eq!(status, StatusCode::OK, "{page}");
                assert_eq!(page["items"], json!([]), "{page}");
            } else {
                assert_eq!(status, StatusCode::NOT_FOUND, "{who}");
            }
            assert!(
                !tasks_of(&world, who, false)
                    .await?
                    .iter()
                    .any(|t| t["rule"] == "concern.shared"),
                "{who}"
            );
        }
        world.service.server.stop().await;
    }
    Ok(())
}

// ----- 7. the chronology -----

#[tokio::test]
async fn the_chronology_is_in_time_order_for_the_dsl_and_the_service_lead_only()
-> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build(backend).await?;
        let chronology = format!("/api/v1/children/{}/chronology", world.child);
        let (status, empty) = world.api("dsl", Method::GET, &chronology, None).await?;
        assert_eq!(status, StatusCode::OK, "{empty}");
        assert_eq!(empty["entries"], json!([]));
        assert_eq!(empty["child_name"], "Amelia Rose Clarke");
        assert_eq!(empty["date_of_birth"], "2016-03-14");
        assert_eq!(empty["may_transfer"], true);

        // It happened yesterday at 10:15; the referral was made yesterday at 16:30 and
        // recorded after the decision today.
        let (first, receipt) = raise_and_submit(
            &world,
            "lead",
            json!({"child_id": world.child}),
            content("no", &["physical"]),
        )
        .await?;
        let first_ref = reference_of(&receipt);
        dsl_step(&world, &first, decision("childrens-social-care")).await?;
        dsl_step(
            &world,
            &first,
            json!({"kind": "referred", "agency": "childrens-social-care",
                "spoken_to": "Duty social worker", "on": yesterday(), "time": "16:30"}),
        )
        .await?;
        dsl_step(
            &world,
            &first,
            json!({"kind": "outcome", "note": "Assessment under section 17"}),
        )
        .await?;
        let (status, problem) = post(
            &world,
            "lead",
            &first,
            "addenda",
            Some(json!({"reason": "A detail I left out", "text": "It was the second time"})),
        )
        .await?;
        assert_eq!(status, StatusCode::NO_CONTENT, "{problem}");
        let (_, receipt) = raise_and_submit(
            &world,
            "parent-worker",
            json!({"child_id": world.child}),
            content("no", &["emotional"]),
        )
        .await?;
        let second_ref = reference_of(&receipt);

        let (status, view) = world.api("dsl", Method::GET, &chronology, None).await?;
        assert_eq!(status, StatusCode::OK, "{view}");
        let entries = view["entries"].as_array().cloned().unwrap_or_default();
        let codes: Vec<(String, String)> = entries
            .iter()
            .map(|e| {
                (
                    e["reference"].as_str().unwrap_or_default().to_owned(),
                    e["code"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let first_codes: Vec<&str> = codes
            .iter()
            .filter(|(r, _)| *r == first_ref)
            .map(|(_, c)| c.as_str())
            .collect();
        assert_eq!(
            first_codes,
            [
                "raised",
                "referred",
                "acknowledged",
                "decided",
                "outcome",
                "addendum"
            ],
            "{backend:?}: {codes:?}"
        );
        assert!(
            codes.contains(&(second_ref.clone(), "raised".to_owned())),
            "{codes:?}"
        );
        let times: Vec<Timestamp> = entries.iter().map(|e| instant_of(&e["at"])).collect();
        assert!(
            times.windows(2).all(|w| w[0] <= w[1]),
            "{backend:?}: not in time order: {times:?}"
        );
        assert_eq!(entries.len(), 7, "{codes:?}");
        let raised = &entries[0];
        assert_eq!(raised["what"], "Concern raised");
        assert_eq!(raised["by"], "lead person");
        let referral = entries
            .iter()
            .find(|e| e["code"] == "referred")
            .cloned()
            .unwrap_or_default();
        assert!(
            lines_of(&referral)
                .contains(&("Agency".to_owned(), "Children's social care".to_owned())),
            "{referral}"
        );
        assert!(
            instant_of(&referral["at"]) < instant_of(&referral["recorded_at"]),
            "{referral}"
        );
        // The service lead reads it (and may not transfer).
        let (status, lead_view) = world
            .api("service-lead", Method::GET, &chronology, None)
            .await?;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(lead_view["entries"], view["entries"]);
        assert_eq!(lead_view["may_transfer"], false);
        // Printable for a strategy meeting.
        let (status, content_type, pdf) =
            download(&world, "dsl", &format!("{chronology}/pdf")).await?;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(content_type, "application/pdf");
        assert!(pdf.starts_with(b"%PDF"), "{backend:?}");

        // Nobody else: not the lead therapist on the case, not the administrator.
        let before = denied_rows(&world).await?;
        for who in [
            "lead",
            "parent-worker",
            "other-therapist",
            "supervisor",
            "staff",
            "admin",
        ] {
            let (status, _) = world.api(who, Method::GET, &chronology, None).await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{backend:?}: {who}");
            let (status, _, _) = download(&world, who, &format!("{chronology}/pdf")).await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who}: the PDF");
        }
        assert!(
            denied_rows(&world).await? >= before + 12,
            "{backend:?}: every refusal is audited"
        );
        for path in [
            format!("/api/v1/children/{}/chronology", uuid::Uuid::new_v4()),
            "/api/v1/children/not-an-id/chronology".to_owned(),
        ] {
            let (status, _) = world.api("dsl", Method::GET, &path, None).await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        }
        world.service.server.stop().await;
    }
    Ok(())
}

// ----- 8. the transfer -----

#[tokio::test]
async fn a_transfer_tracks_its_deadline_sends_an_encrypted_file_and_records_receipt()
-> anyhow::Result<()> {
    for backend in backends() {
        let mut world = World::build_with(backend, &SCHEDULER).await?;
        let read_only = world.service.token_for("dsl", "read").await?;
        world.tokens.insert("dsl-read-only", read_only);
        let (id, _) = raise_and_submit(
            &world,
            "lead",
            json!({"child_id": world.child}),
            content("no", &["neglect"]),
        )
        .await?;
        dsl_step(&world, &id, decision("early-help")).await?;
        let transfers = format!("/api/v1/children/{}/transfers", world.child);
        let destination = json!({"school": "Hillside Academy", "dsl_name": "R. Patel",
            "contact": "0113 496 0456", "starts_on": "07/12/2026"});

        // Each part is named.
        let (status, problem) = world
            .api("dsl", Method::POST, &transfers, Some(json!({})))
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        let mut fields = fields_of(&problem);
        fields.sort();
        assert_eq!(fields, ["dsl_name", "school", "starts_on"]);
        // Only the DSL or a deputy starts one.
        for (who, expected) in [
            ("service-lead", StatusCode::FORBIDDEN),
            ("dsl-read-only", StatusCode::FORBIDDEN),
            ("lead", StatusCode::NOT_FOUND),
            ("parent-worker", StatusCode::NOT_FOUND),
            ("admin", StatusCode::NOT_FOUND),
        ] {
            let (status, _) = world
                .api(who, Method::POST, &transfers, Some(destination.clone()))
                .await?;
            assert_eq!(status, expected, "{backend:?}: {who} starts a transfer");
        }
        let (status, transfer) = world
            .api("dsl", Method::POST, &transfers, Some(destination.clone()))
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{transfer}");
        let tid = id_of(&transfer);
        let at = format!("{transfers}/{tid}");
        assert_eq!(transfer["status"], "pending");
        assert!(
            transfer["reference"]
                .as_str()
                .is_some_and(|r| r.starts_with("TR-")),
            "{transfer}"
        );
        assert_eq!(transfer["destination"]["starts_on"], "2026-12-07");
        // The school has no term calendar: five working days from Monday 07/12/2026, the
        // close of Friday 11/12.
        assert_eq!(transfer["counted_in"], "working-days", "{transfer}");
        assert_eq!(
            instant_of(&transfer["due_at"]),
            instant("2026-12-11T17:00:00Z"),
            "{backend:?}: {transfer}"
        );
        assert_eq!(transfer["may_act"], true);
        let version = transfer["version"].clone();

        // The deadline is a task for the one who started it.
        let task = wait_for_open(&world, "dsl", "safeguarding.send-file", &tid).await?;
        assert_eq!(task["subject_type"], "transfer");
        assert_eq!(
            instant_of(&task["due_at"]),
            instant("2026-12-11T17:00:00Z"),
            "{task}"
        );
        assert!(
            task["title"].as_str().is_some_and(|t| t
                .contains(transfer["reference"].as_str().unwrap_or("?"))
                && !t.contains("Millie")
                && !t.contains("Amelia")),
            "{task}"
        );

        // Receipt before the file went: refused, and nothing written.
        let (status, problem) = world
            .api(
                "dsl",
                Method::POST,
                &format!("{at}/receipt"),
                Some(json!({"confirmation": "R. Patel confirmed by phone", "version": version})),
            )
            .await?;
        assert_eq!(status, StatusCode::CONFLICT, "{backend:?}: {problem}");
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|d| d.contains("before recording its receipt")),
            "{problem}"
        );
        let (status, _, _) = download(&world, "dsl", &format!("{at}/file")).await?;
        assert_eq!(status, StatusCode::NOT_FOUND, "no file made yet");

        // Only the DSL or a deputy makes the file.
        for (who, expected) in [
            ("service-lead", StatusCode::FORBIDDEN),
            ("dsl-read-only", StatusCode::FORBIDDEN),
            ("lead", StatusCode::NOT_FOUND),
            ("admin", StatusCode::NOT_FOUND),
        ] {
            let (status, _) = world
                .api(
                    who,
                    Method::POST,
                    &format!("{at}/file"),
                    Some(json!({"version": version})),
                )
                .await?;
            assert_eq!(status, expected, "{who} makes the file");
        }
        let (status, made) = world
            .api(
                "dsl",
                Method::POST,
                &format!("{at}/file"),
                Some(json!({"version": version})),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{backend:?}: {made}");
        let passphrase = made["passphrase"].as_str().unwrap_or_default().to_owned();
        assert_eq!(passphrase.len(), 29, "six groups of four: {passphrase}");
        assert!(
            made["instruction"]
                .as_str()
                .is_some_and(|i| i.contains("R. Patel") && i.contains("telephone")),
            "{made}"
        );
        assert_eq!(made["transfer"]["status"], "sent");
        assert_eq!(made["transfer"]["sent_by"], "dsl person");
        assert_eq!(made["download"], format!("{at}/file"));
        let version = made["transfer"]["version"].clone();
        // The file: an encrypted ZIP named by what it holds; no name or content in the clear.
        let (status, content_type, zip) = download(&world, "dsl", &format!("{at}/file")).await?;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(content_type, "application/zip");
        assert!(zip.starts_with(b"PK\x03\x04"), "{backend:?}");
        let contains = |needle: &[u8]| zip.windows(needle.len()).any(|w| w == needle);
        assert!(contains(b"chronology.pdf") && contains(b"chronology.json"));
        for clear in [
            &b"%PDF"[..],
            b"Amelia",
            b"Clarke",
            b"Hillside",
            b"belt",
            passphrase.as_bytes(),
        ] {
            assert!(!contains(clear), "{}", String::from_utf8_lossy(clear));
        }
        // The service lead reads the transfer, but not the file, and acts on nothing.
        let (status, seen) = world.api("service-lead", Method::GET, &at, None).await?;
        assert_eq!(status, StatusCode::OK, "{seen}");
        assert_eq!(seen["status"], "sent");
        assert_eq!(seen["may_act"], false);
        let (status, _, _) = download(&world, "service-lead", &format!("{at}/file")).await?;
        assert_eq!(status, StatusCode::NOT_FOUND);
        for who in ["lead", "parent-worker", "other-therapist", "staff", "admin"] {
            let (status, _) = world.api(who, Method::GET, &at, None).await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who} reads the transfer");
            let (status, _, _) = download(&world, who, &format!("{at}/file")).await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who} downloads the file");
        }
        // Sending closed the deadline's task; receipt is awaited.
        assert_eq!(
            open_tasks(&world, "dsl", "safeguarding.send-file", &tid)
                .await?
                .len(),
            0,
            "{backend:?}"
        );
        wait_for_open(&world, "dsl", "safeguarding.confirm-received", &tid).await?;

        // Receipt: a confirmation is needed, at the version read.
        let receipt_at = format!("{at}/receipt");
        let (status, problem) = world
            .api(
                "dsl",
                Method::POST,
                &receipt_at,
                Some(json!({"confirmation": "", "version": version})),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(fields_of(&problem), ["confirmation"]);
        let (status, problem) = world
            .api(
                "dsl",
                Method::POST,
                &receipt_at,
                Some(json!({"confirmation": "R. Patel confirmed it opened", "version": 1})),
            )
            .await?;
        assert_eq!(status, StatusCode::CONFLICT, "stale: {problem}");
        for (who, expected) in [
            ("service-lead", StatusCode::FORBIDDEN),
            ("lead", StatusCode::NOT_FOUND),
        ] {
            let (status, _) = world
                .api(
                    who,
                    Method::POST,
                    &receipt_at,
                    Some(json!({"confirmation": "Confirmed", "version": version})),
                )
                .await?;
            assert_eq!(status, expected, "{who} records receipt");
        }
        let (status, received) = world
            .api(
                "dsl",
                Method::POST,
                &receipt_at,
                Some(
                    json!({"confirmation": "R. Patel confirmed by telephone that the file opened",
                    "version": version}),
                ),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {received}");
        assert_eq!(received["status"], "received");
        assert_eq!(
            received["receipt"],
            "R. Patel confirmed by telephone that the file opened"
        );
        assert_eq!(received["received_by"], "dsl person");
        assert!(received["received_at"].is_string());
        assert_eq!(received["may_act"], false);
        assert_eq!(
            open_tasks(&world, "dsl", "safeguarding.confirm-received", &tid)
                .await?
                .len(),
            0
        );
        // Finished: no second receipt, no new file.
        let (status, _) = world
            .api(
                "dsl",
                Method::POST,
                &receipt_at,
                Some(json!({"confirmation": "Again", "version": received["version"]})),
            )
            .await?;
        assert_eq!(status, StatusCode::CONFLICT);
        let (status, _) = world
            .api(
                "dsl",
                Method::POST,
                &format!("{at}/file"),
                Some(json!({"version": received["version"]})),
            )
            .await?;
        assert_eq!(
            status,
            StatusCode::CONFLICT,
            "{backend:?}: a new file after receipt"
        );

        // The chronology shows it, in order.
        let (_, chronology) = world
            .api(
                "dsl",
                Method::GET,
                &format!("/api/v1/children/{}/chronology", world.child),
                None,
            )
            .await?;
        let codes: Vec<&str> = chronology["entries"]
            .as_array()
            .map(|e| e.iter().filter_map(|x| x["code"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(
            &codes[codes.len() - 2..],
            ["transfer-sent", "transfer-received"],
            "{codes:?}"
        );
        assert_eq!(chronology["transfers"][0]["id"], tid.as_str());
        // A transfer of another child's, or none: not found.
        for path in [
            format!("{transfers}/{}", uuid::Uuid::new_v4()),
            format!("{transfers}/not-an-id"),
            format!("/api/v1/children/{}/transfers/{tid}", uuid::Uuid::new_v4()),
        ] {
            let (status, _) = world.api("dsl", Method::GET, &path, None).await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        }
        // Nobody but the DSL and deputies carries its tasks.
        for who in ["lead", "parent-worker", "admin", "staff"] {
            assert_eq!(
                rules_about(&world, who, &tid, false).await?,
                Vec::<String>::new(),
                "{who}"
            );
        }
        world.service.server.stop().await;
    }
    Ok(())
}

// ----- 9. access, from the denied side -----

#[tokio::test]
async fn the_dsl_s_work_is_the_dsl_s_alone_from_the_denied_side() -> anyhow::Result<()> {
    for backend in backends() {
        let mut world = World::build(backend).await?;
        add_person(&mut world, "deputy", &["deputy-dsl"], "none").await?;
        let read_only = world.service.token_for("dsl", "read").await?;
        world.tokens.insert("dsl-read-only", read_only);
        let (id, _) = raise_and_submit(
            &world,
            "lead",
            json!({"child_id": world.child}),
            content("no", &["physical"]),
        )
        .await?;
        let work = [
            json!({"kind": "information-gathered", "note": "Spoke to school"}),
            decision("no-further-action"),
            json!({"kind": "referred", "agency": "police", "spoken_to": "x", "on": yesterday(),
                "time": "12:00"}),
            json!({"kind": "shared-with-team", "shared_with": world.ids["lead"], "note": "x"}),
        ];
        // Its author and the service lead read it but may not work on it; anyone else is
        // answered as if it did not exist.
        for (who, expected) in [
            ("lead", StatusCode::FORBIDDEN),
            ("service-lead", StatusCode::FORBIDDEN),
            ("dsl-read-only", StatusCode::FORBIDDEN),
            ("parent-worker", StatusCode::NOT_FOUND),
            ("other-therapist", StatusCode::NOT_FOUND),
            ("supervisor", StatusCode::NOT_FOUND),
            ("staff", StatusCode::NOT_FOUND),
            ("admin", StatusCode::NOT_FOUND),
        ] {
            for body in &work {
                let (status, problem) = step(&world, who, &id, body.clone()).await?;
                assert_eq!(
                    status, expected,
                    "{backend:?}: {who} records {body}: {problem}"
                );
            }
            if expected == StatusCode::FORBIDDEN && who != "dsl-read-only" {
                let (status, view) = read(&world, who, &id, None).await?;
                assert_eq!(status, StatusCode::OK, "{who}");
                assert_eq!(view["may_work"], false, "{who}");
                assert_eq!(view["team"], json!([]), "{who}");
                assert_eq!(view["carers"], json!([]), "{who}");
            }
        }
        let (_, view) = read(&world, "dsl-read-only", &id, None).await?;
        assert_eq!(view["may_work"], false);
        assert_eq!(kinds(&as_dsl(&world, &id).await?), Vec::<String>::new());
        // A deputy works on it as the DSL does.
        let (status, problem) = step(&world, "deputy", &id, work[0].clone()).await?;
        assert_eq!(status, StatusCode::NO_CONTENT, "{problem}");
        let (_, view) = read(&world, "deputy", &id, None).await?;
        assert_eq!(view["may_work"], true);
        assert_eq!(view["acknowledged"]["by"], "deputy person");
        // A draft takes no work, a made-up concern is not found, an unknown kind is named.
        let (status, draft) = world
            .api(
                "lead",
                Method::POST,
                "/api/v1/concerns",
                Some(json!({"child_id": world.child})),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED);
        let (status, _) = step(&world, "dsl", &id_of(&draft), work[0].clone()).await?;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "a draft is its author's alone"
        );
        let (status, _) = step(
            &world,
            "dsl",
            &uuid::Uuid::new_v4().to_string(),
            work[0].clone(),
        )
        .await?;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, problem) = step(
            &world,
            "dsl",
            &id,
            json!({"kind": "decided-maybe", "note": "x"}),
        )
        .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields_of(&problem), ["kind"]);
        let (status, _) = step(
            &world,
            "dsl",
            &id,
            json!({"kind": "decided", "decision": "x", "note": "x", "surprise": true}),
        )
        .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "an unknown field");
        // Only the DSL's queue lists what is open.
        for who in ["lead", "admin", "staff"] {
            let (status, _) = world
                .api(who, Method::GET, "/api/v1/safeguarding/queue", None)
                .await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who}");
        }
        let (_, queue) = world
            .api("dsl", Method::GET, "/api/v1/safeguarding/queue", None)
            .await?;
        assert!(
            queue["open"].as_array().is_some_and(|o| o
                .iter()
                .any(|c| c["id"] == id.as_str() && c["stage"] == "awaiting-decision")),
            "{queue}"
        );
        // The raiser's list shows where it stands, never more.
        let (_, mine) = world
            .api("lead", Method::GET, "/api/v1/me/concerns", None)
            .await?;
        let listed = mine["items"]
            .as_array()
            .and_then(|i| i.iter().find(|c| c["id"] == id.as_str()).cloned())
            .unwrap_or_default();
        assert!(listed["stage"].is_string(), "{mine}");
        // The timing carries the new figures and keeps their bounds.
        let (_, timing) = world
            .api("lead", Method::GET, "/api/v1/safeguarding/timing", None)
            .await?;
        assert_eq!(timing["referral_feedback_working_days"], 1, "{timing}");
        assert_eq!(timing["transfer_school_days"], 5);
        let (status, problem) = world
            .api(
                "admin",
                Method::PUT,
                "/api/v1/safeguarding/timing",
                Some(
                    json!({"urgent_acknowledge_minutes": 30, "acknowledge_working_days": 0,
                    "decide_working_days": 1, "allegation_refer_working_days": 1,
                    "referral_feedback_working_days": 11, "transfer_school_days": 0}),
                ),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        let mut fields = fields_of(&problem);
        fields.sort();
        assert_eq!(
            fields,
            ["referral_feedback_working_days", "transfer_school_days"]
        );
        let (status, timing) = world
            .api(
                "admin",
                Method::PUT,
                "/api/v1/safeguarding/timing",
                Some(
                    json!({"urgent_acknowledge_minutes": 30, "acknowledge_working_days": 0,
                    "decide_working_days": 1, "allegation_refer_working_days": 1,
                    "referral_feedback_working_days": 2, "transfer_school_days": 10}),
                ),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{timing}");
        assert_eq!(timing["referral_feedback_working_days"], 2);
        assert_eq!(timing["transfer_school_days"], 10);
        world.service.server.stop().await;
    }
    Ok(())
}
