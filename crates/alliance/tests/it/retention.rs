//! Retention and destruction (issue 15), through the real server on both engines: each class's
//! date and rule as the service works it out (a closed case, a re-referral, a concern of sexual
//! abuse, the DSL's flag, a death, the service's settings), shown to whom the policy says
//! (safeguarding-driven dates to the DSL alone); the report of records past their date; legal
//! holds; destruction blocked by each hold (an open concern, a pending subject access request,
//! a legal hold) with the administrator told only "On hold"; the two-person rule and the sole
//! practitioner's cooling-off and password; a destroyed class unreadable (answered 410, never a
//! 500) while the others still read, and unreadable in a backup taken before it was destroyed;
//! and who may do what, tried from the denied side.

use crate::accounts::{PASSWORD, Service};
use crate::children::World;
use crate::safeguarding::{add_person, content, id_of, post, raise_and_submit};
use crate::{alliance_binary, count_as_owner, execute_as_owner};
use alliance_testkit::{Backend, TestServer, backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

/// A note of the lead's, and a contact with the school: one in each class that is destroyed
/// separately.
const NOTE: &str = "Built the same tower three times and knocked it down each time";
const SHARED: &str = "Agreed the SENCo will keep the quiet room free on Tuesdays";
/// The referral reason, sealed under the clinical key with the rest of the clinical record.
const REASON: &str = "Withdrawn at school since his father left";

fn retention_at(child: &str) -> String {
    format!("/api/v1/children/{child}/retention")
}

fn class_of<'a>(view: &'a Value, class: &str) -> &'a Value {
    view["classes"]
        .as_array()
        .and_then(|c| c.iter().find(|x| x["class"] == class))
        .unwrap_or(&Value::Null)
}

fn classes(view: &Value) -> Vec<String> {
    view["classes"]
        .as_array()
        .map(|c| {
            c.iter()
                .filter_map(|x| x["class"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

async fn retention_as(world: &World, who: &str, child: &str) -> anyhow::Result<Value> {
    let (status, view) = world
        .api(who, Method::GET, &retention_at(child), None)
        .await?;
    assert_eq!(status, StatusCode::OK, "{who}: {view}");
    Ok(view)
}

/// A child who died in 2014, with an open case led by the World's lead (referred in 2013):
/// after a death the clinical record is kept 10 years, so it is past its date today. The lead
/// writes a process note and a contact with the school. (the child's id, the case's id)
async fn deceased_child(world: &World, name: &str) -> anyhow::Result<(String, String)> {
    let (status, child) = world
        .api(
            "admin",
            Method::POST,
            "/api/v1/children",
            Some(json!({"legal_name": name, "date_of_birth": "2005-01-01",
                "date_of_death": "2014-06-01", "sex": "male"})),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{child}");
    let child_id = id_of(&child);
    let (status, record) = world
        .api(
            "admin",
            Method::POST,
            &format!("/api/v1/children/{child_id}/cases"),
            Some(
                json!({"referral_source": "school", "referral_received": "2013-03-01",
                "lead": world.ids["lead"]}),
            ),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{record}");
    let case = record["cases"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (status, record) = world
        .api(
            "lead",
            Method::PUT,
            &format!("/api/v1/cases/{case}"),
            Some(
                json!({"version": record["cases"][0]["version"], "referral_source": "school",
                "referral_received": "2013-03-01", "referral_reason": REASON}),
            ),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{record}");
    assert_eq!(record["cases"][0]["referral_reason"], REASON);
    let (status, note) = world
        .api(
            "lead",
            Method::POST,
            &format!("/api/v1/cases/{case}/process-notes"),
            Some(json!({"text": NOTE})),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{note}");
    let (status, contact) = world
        .api(
            "lead",
            Method::POST,
            &format!("/api/v1/cases/{case}/contacts"),
            Some(
                json!({"with": "professional", "role": "senco", "name": "Ms Patel",
                "organisation": "Oakfield Primary", "basis": "consent", "kind": "meeting",
                "on": "2014-02-03", "shared": SHARED}),
            ),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{contact}");
    Ok((child_id, case))
}

/// Asks, as `who`, for `class` of `child` to be destroyed.
async fn ask(
    world: &World,
    who: &str,
    child: &str,
    class: &str,
) -> anyhow::Result<(StatusCode, Value)> {
    world
        .api(
            who,
            Method::POST,
            &format!("/api/v1/children/{child}/destruction-requests"),
            Some(json!({"class": class})),
        )
        .await
}

async fn approve(
    world: &World,
    who: &str,
    request: &Value,
    password: Option<&str>,
) -> anyhow::Result<(StatusCode, Value)> {
    let mut body = json!({"version": request["version"]});
    if let Some(p) = password {
        body["password"] = json!(p);
    }
    world
        .api(
            who,
            Method::POST,
            &format!("/api/v1/destruction-requests/{}/approve", id_of(request)),
            Some(body),
        )
        .await
}

async fn denied(world: &World, child: &str) -> anyhow::Result<i64> {
    count_as_owner(
        &world.service.db,
        &format!(
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'denied' AND child_id = '{child}'"
        ),
    )
    .await
}

async fn set_hold(world: &World, who: &str, child: &str) -> anyhow::Result<String> {
    let (status, hold) = world
        .api(
            who,
            Method::POST,
            &format!("/api/v1/children/{child}/legal-holds"),
            Some(json!({"reason": "Solicitor's letter of 20/11/2026: a claim is expected"})),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{who}: {hold}");
    Ok(id_of(&hold))
}

async fn lift_hold(world: &World, child: &str, hold: &str) -> anyhow::Result<()> {
    let (status, problem) = world
        .api(
            "service-lead",
            Method::POST,
            &format!("/api/v1/children/{child}/legal-holds/{hold}/lift"),
            Some(json!({"reason": "The claim was withdrawn on 25/11/2026", "version": 1})),
        )
        .await?;
    assert_eq!(status, StatusCode::NO_CONTENT, "{problem}");
    Ok(())
}

// ----- the dates -----

#[tokio::test]
async fn each_class_has_its_date_its_rule_and_its_sources_for_whom_may_see_it() -> anyhow::Result<()>
{
    for backend in backends() {
        let world = World::build(backend).await?;
        let child = world.child.clone();
        // An open case: no clinical date yet; the safeguarding records to the 25th birthday.
        let admin = retention_as(&world, "admin", &child).await?;
        assert_eq!(classes(&admin), ["clinical", "process-notes"], "{admin}");
        let clinical = &class_of(&admin, "clinical")["retention"];
        assert_eq!(clinical["rule"], "open-case", "{admin}");
        assert!(clinical["until"].is_null());
        assert!(
            clinical["sources"]
                .as_array()
                .is_some_and(|s| !s.is_empty())
        );
        let lead = retention_as(&world, "service-lead", &child).await?;
        assert_eq!(classes(&lead), ["clinical", "process-notes"]);
        let dsl = retention_as(&world, "dsl", &child).await?;
        assert_eq!(classes(&dsl), ["clinical", "process-notes", "safeguarding"]);
        let sg = &class_of(&dsl, "safeguarding")["retention"];
        assert_eq!(
            (sg["rule"].as_str(), sg["until"].as_str()),
            (Some("safeguarding"), Some("2041-03-14")),
            "{dsl}"
        );
        assert_eq!(sg["then_review"], true);

        // The case closes on 01/11/2026: the later of the 25th birthday (14/03/2041) and 20
        // years after the end.
        let (status, closed) = world
            .api(
                "lead",
                Method::POST,
                &format!("/api/v1/cases/{}/close", world.case),
                Some(
                    json!({"version": 2, "closed_on": "2026-11-01", "reason": "planned-ending",
                    "summary": "Ended as planned"}),
                ),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{closed}");
        let admin = retention_as(&world, "admin", &child).await?;
        for class in ["clinical", "process-notes"] {
            let r = &class_of(&admin, class)["retention"];
            assert_eq!(r["until"], "2046-11-01", "{admin}");
            assert_eq!(r["rule"], "mental-health");
            let why = r["explanation"].as_str().unwrap_or_default();
            assert!(
                why.contains("14/03/2041") && why.contains("later of"),
                "{why}"
            );
        }
        assert_eq!(class_of(&admin, "clinical")["past"], false);

        // The service follows the children's rule instead: the 25th birthday.
        let (status, settings) = world
            .api("admin", Method::GET, "/api/v1/retention/settings", None)
            .await?;
        assert_eq!(status, StatusCode::OK, "{settings}");
        assert_eq!(settings["clinical"], "later");
        assert_eq!(settings["mental_health_years"], 20);
        let mut changed = settings.clone();
        changed["clinical"] = json!("children");
        // The service lead may read them, not change them.
        let (status, _) = world
            .api(
                "service-lead",
                Method::PUT,
                "/api/v1/retention/settings",
                Some(changed.clone()),
            )
            .await?;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let mut silly = changed.clone();
        silly["abuse_years"] = json!(0);
        silly["adult_age"] = json!(12);
        let (status, problem) = world
            .api(
                "admin",
                Method::PUT,
                "/api/v1/retention/settings",
                Some(silly),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        let fields = crate::safeguarding::fields_of(&problem);
        assert!(
            fields.contains(&"abuse_years".to_owned()) && fields.contains(&"adult_age".to_owned()),
            "{problem}"
        );
        let (status, saved) = world
            .api(
                "admin",
                Method::PUT,
                "/api/v1/retention/settings",
                Some(changed),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{saved}");
        assert_eq!(saved["version"], 1);
        let admin = retention_as(&world, "admin", &child).await?;
        assert_eq!(
            class_of(&admin, "clinical")["retention"]["until"],
            "2041-03-14",
            "{admin}"
        );
        assert_eq!(
            class_of(&admin, "clinical")["retention"]["rule"],
            "children"
        );

        // A re-referral: a new case is open, so there is no date again.
        let (status, record) = world
            .api(
                "admin",
                Method::POST,
                &format!("/api/v1/children/{child}/cases"),
                Some(
                    json!({"referral_source": "gp", "referral_received": "2026-11-20",
                    "lead": world.ids["lead"]}),
                ),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{record}");
        let admin = retention_as(&world, "admin", &child).await?;
        assert_eq!(
            class_of(&admin, "clinical")["retention"]["rule"],
            "open-case"
        );
        assert!(class_of(&admin, "clinical")["retention"]["until"].is_null());

        // A concern of sexual abuse: 75 years from it, for the DSL alone.
        raise_and_submit(
            &world,
            "lead",
            json!({"child_id": child}),
            content("no", &["sexual"]),
        )
        .await?;
        let dsl = retention_as(&world, "dsl", &child).await?;
        let sg = &class_of(&dsl, "safeguarding")["retention"];
        assert_eq!(sg["rule"], "abuse-75", "{dsl}");
        let until = sg["until"].as_str().unwrap_or_default();
        assert!(until.starts_with("21"), "75 years on: {until}");
        let admin = retention_as(&world, "admin", &child).await?;
        let text = admin.to_string();
        assert!(
            !text.contains("abuse") && !text.contains("safeguarding"),
            "{text}"
        );
        // Nor does an administrator learn of it through the holds: only "On hold".
        assert_eq!(admin["holds"], json!(["On hold"]), "{admin}");
        assert_eq!(
            retention_as(&world, "service-lead", &child).await?["holds"],
            json!(["A safeguarding concern about the child is open"])
        );

        // The DSL's flag, on a child with no concern: the 75 years from the flag.
        let (other, _) = crate::safeguarding::add_child(
            &world,
            json!({"legal_name": "Noah Brook", "date_of_birth": "2015-05-05", "sex": "male"}),
            &world.ids["lead"],
            &[],
        )
        .await?;
        let flag_at = format!("/api/v1/children/{other}/retention/flag");
        let before = denied(&world, &other).await?;
        for who in ["admin", "service-lead", "lead"] {
            let (status, _) = world
                .api(who, Method::PUT, &flag_at, Some(json!({"flagged": true})))
                .await?;
            assert_eq!(
                status,
                StatusCode::NOT_FOUND,
                "{who} may not know the records exist"
            );
        }
        assert_eq!(denied(&world, &other).await?, before + 3);
        let (status, problem) = world
            .api("dsl", Method::PUT, &flag_at, Some(json!({"flagged": true})))
            .await?;
        assert_eq!(status, StatusCode::NO_CONTENT, "{problem}");
        let dsl = retention_as(&world, "dsl", &other).await?;
        assert_eq!(dsl["flag"]["flagged"], true, "{dsl}");
        assert_eq!(
            class_of(&dsl, "safeguarding")["retention"]["rule"],
            "abuse-75"
        );
        // A stale version is refused; clearing it brings back the birthday rule.
        let (status, _) = world
            .api(
                "dsl",
                Method::PUT,
                &flag_at,
                Some(json!({"flagged": false})),
            )
            .await?;
        assert_eq!(status, StatusCode::CONFLICT);
        let (status, _) = world
            .api(
                "dsl",
                Method::PUT,
                &flag_at,
                Some(json!({"flagged": false, "version": 1})),
            )
            .await?;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let dsl = retention_as(&world, "dsl", &other).await?;
        assert_eq!(
            class_of(&dsl, "safeguarding")["retention"]["until"],
            "2040-05-05"
        );
        assert!(
            count_as_owner(
                &world.service.db,
                "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'retention.flagged' \
                 AND category = 'safeguarding'",
            )
            .await?
                == 2
        );

        // Nobody else reaches retention at all: as for a child that does not exist (audited).
        let before = denied(&world, &child).await?;
        for who in [
            "lead",
            "parent-worker",
            "other-therapist",
            "supervisor",
            "staff",
        ] {
            let (status, _) = world
                .api(who, Method::GET, &retention_at(&child), None)
                .await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who}");
            let (status, _) = world
                .api(who, Method::GET, "/api/v1/retention/report", None)
                .await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who}");
        }
        assert_eq!(denied(&world, &child).await?, before + 5);
        world.service.server.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn a_death_puts_the_clinical_record_past_its_date_and_the_report_shows_it()
-> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build(backend).await?;
        let (child, _) = deceased_child(&world, "Oliver Grant").await?;
        let admin = retention_as(&world, "admin", &child).await?;
        let clinical = class_of(&admin, "clinical");
        assert_eq!(clinical["retention"]["rule"], "death", "{admin}");
        assert_eq!(clinical["retention"]["until"], "2024-06-01");
        assert_eq!(clinical["past"], true);
        assert_eq!(clinical["may_request"], true);
        assert_eq!(
            class_of(&admin, "process-notes")["retention"]["until"],
            "2024-06-01"
        );
        // The death rule is not a safeguarding rule: the 25th birthday, not yet past.
        let dsl = retention_as(&world, "dsl", &child).await?;
        assert_eq!(
            class_of(&dsl, "safeguarding")["retention"]["until"],
            "2030-01-01"
        );
        assert_eq!(class_of(&dsl, "safeguarding")["past"], false);

        for who in ["admin", "service-lead", "dsl"] {
            let (status, report) = world
                .api(who, Method::GET, "/api/v1/retention/report?limit=1", None)
                .await?;
            assert_eq!(status, StatusCode::OK, "{who}: {report}");
            let items = report["items"].as_array().cloned().unwrap_or_default();
            assert_eq!(items.len(), 1, "{report}");
            assert_eq!(items[0]["child_id"], child.as_str());
            let next = report["next"].as_str().unwrap_or_default().to_owned();
            assert!(!next.is_empty(), "two rows, one a page: {report}");
            let (_, second) = world
                .api(
                    who,
                    Method::GET,
                    &format!("/api/v1/retention/report?limit=1&after={next}"),
                    None,
                )
                .await?;
            let rows: Vec<&str> = [&items[0], &second["items"][0]]
                .iter()
                .filter_map(|r| r["class"].as_str())
                .collect();
            assert_eq!(rows, ["clinical", "process-notes"], "{second}");
            assert!(second["next"].is_null());
        }
        assert_eq!(
            count_as_owner(
                &world.service.db,
                "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'retention.report-read'",
            )
            .await?,
            6
        );
        world.service.server.stop().await;
    }
    Ok(())
}

// ----- holds -----

#[tokio::test]
async fn destruction_is_blocked_by_each_hold_and_an_administrator_sees_only_on_hold()
-> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build(backend).await?;
        let (child, _) = deceased_child(&world, "Oliver Grant").await?;

        // A legal hold: only the service lead and the DSL set one, with a reason.
        let (status, _) = world
            .api(
                "admin",
                Method::POST,
                &format!("/api/v1/children/{child}/legal-holds"),
                Some(json!({"reason": "I would like to keep these"})),
            )
            .await?;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, problem) = world
            .api(
                "service-lead",
                Method::POST,
                &format!("/api/v1/children/{child}/legal-holds"),
                Some(json!({"reason": "short"})),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        let hold = set_hold(&world, "service-lead", &child).await?;
        let (status, problem) = ask(&world, "admin", &child, "clinical").await?;
        assert_eq!(status, StatusCode::CONFLICT, "{problem}");
        assert_eq!(
            problem["detail"], "On hold",
            "the administrator is never told why: {problem}"
        );
        let admin = retention_as(&world, "admin", &child).await?;
        assert_eq!(admin["holds"], json!(["On hold"]));
        assert_eq!(admin["legal_holds"], json!([]), "{admin}");
        assert!(!admin.to_string().contains("Solicitor"));
        let lead = retention_as(&world, "service-lead", &child).await?;
        assert_eq!(lead["holds"], json!(["A legal hold is set"]));
        assert!(
            lead["legal_holds"][0]["reason"]
                .as_str()
                .unwrap_or_default()
                .contains("Solicitor")
        );
        // One at a time.
        let (status, _) = world
            .api(
                "dsl",
                Method::POST,
                &format!("/api/v1/children/{child}/legal-holds"),
                Some(json!({"reason": "The coroner's inquest has asked for the file"})),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        lift_hold(&world, &child, &hold).await?;
        let (status, _) = world
            .api(
                "service-lead",
                Method::POST,
                &format!("/api/v1/children/{child}/legal-holds/{hold}/lift"),
                Some(json!({"reason": "The claim was withdrawn on 25/11/2026", "version": 2})),
            )
            .await?;
        assert_eq!(status, StatusCode::CONFLICT, "lifted once");

        // A pending subject access request (logged as H3's table keeps it).
        let now = jiff::Timestamp::now().as_microsecond();
        let blob = match backend {
            Backend::Sqlite => "X'00'",
            Backend::Postgres => "'\\x00'::bytea",
        };
        execute_as_owner(
            &world.service.db,
            &format!(
                "INSERT INTO subject_access_requests (id, child_id, requester_kind, details, \
                 received_on, status, logged_by, version, created_at, updated_at) VALUES \
                 ('0193a0c0-0000-7000-8000-000000000001', '{child}', 'young-person', {blob}, \
                 '2026-11-30', 'logged', '{}', 1, {now}, {now})",
                world.ids["service-lead"]
            ),
        )
        .await?;
        let (status, problem) = ask(&world, "admin", &child, "clinical").await?;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(problem["detail"], "On hold", "{problem}");
        assert_eq!(
            retention_as(&world, "dsl", &child).await?["holds"],
            json!(["A subject access request is pending"])
        );
        execute_as_owner(
            &world.service.db,
            &format!(
                "UPDATE subject_access_requests SET status = 'withdrawn', closed_by = '{}', \
                 closed_at = {now} WHERE child_id = '{child}'",
                world.ids["service-lead"]
            ),
        )
        .await?;

        // Nothing holds it now: asked for. Then a concern is raised before the approval: the
        // approver is told why it cannot go ahead; the administrator still only "On hold".
        let (status, request) = ask(&world, "admin", &child, "clinical").await?;
        assert_eq!(status, StatusCode::CREATED, "{request}");
        assert_eq!(request["status"], "requested");
        let (status, _) = ask(&world, "admin", &child, "clinical").await?;
        assert_eq!(status, StatusCode::CONFLICT, "one open request per class");
        let (concern, _) = raise_and_submit(
            &world,
            "lead",
            json!({"child_id": child}),
            content("no", &["neglect"]),
        )
        .await?;
        let (status, problem) = approve(&world, "service-lead", &request, None).await?;
        assert_eq!(status, StatusCode::CONFLICT, "{problem}");
        assert_eq!(
            problem["detail"],
            "A safeguarding concern about the child is open"
        );
        let (status, problem) = ask(&world, "admin", &child, "process-notes").await?;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(problem["detail"], "On hold", "{problem}");
        let (status, seen) = world
            .api(
                "admin",
                Method::GET,
                &format!("/api/v1/destruction-requests/{}", id_of(&request)),
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{seen}");
        assert_eq!(seen["holds"], json!(["On hold"]));
        // Closed by the DSL, the concern holds nothing.
        let (status, _) = post(&world, "dsl", &concern, "acknowledge", None).await?;
        assert_eq!(status, StatusCode::NO_CONTENT);
        for step in [
            json!({"kind": "decided", "decision": "no-further-action", "note": "Historic; nothing to act on"}),
            json!({"kind": "closed", "note": "Nothing more"}),
        ] {
            let (status, problem) = post(&world, "dsl", &concern, "steps", Some(step)).await?;
            assert_eq!(status, StatusCode::NO_CONTENT, "{problem}");
        }
        let (status, done) = approve(&world, "service-lead", &request, None).await?;
        assert_eq!(status, StatusCode::OK, "{done}");
        assert_eq!(done["status"], "destroyed");
        world.service.server.stop().await;
    }
    Ok(())
}

// ----- the two-person rule, and what destruction leaves -----

#[tokio::test]
async fn two_people_destroy_a_class_and_it_is_unreadable_while_the_others_read()
-> anyhow::Result<()> {
    for backend in backends() {
        let mut world = World::build_with(backend, &["--scheduler-interval", "1"]).await?;
        add_person(
            &mut world,
            "both",
            &["administrator", "service-lead"],
            "none",
        )
        .await?;
        let (child, case) = deceased_child(&world, "Oliver Grant").await?;
        let contacts = format!("/api/v1/cases/{case}/contacts");
        let notes = format!("/api/v1/cases/{case}/process-notes");

        // Who may ask: an administrator for the clinical record; never the safeguarding records
        // (404: they may not know they exist), nor anyone but the DSL.
        let before = denied(&world, &child).await?;
        for who in ["lead", "staff", "supervisor"] {
            let (status, _) = ask(&world, who, &child, "clinical").await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who}");
        }
        let (status, _) = ask(&world, "service-lead", &child, "clinical").await?;
        assert_eq!(status, StatusCode::FORBIDDEN);
        for who in ["admin", "service-lead"] {
            let (status, _) = ask(&world, who, &child, "safeguarding").await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who}");
        }
        let (status, problem) = ask(&world, "dsl", &child, "safeguarding").await?;
        assert_eq!(status, StatusCode::CONFLICT, "not past its date: {problem}");
        assert!(
            problem["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("01/01/2030"),
            "{problem}"
        );
        let (status, problem) = ask(&world, "admin", &child, "identity").await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(denied(&world, &child).await?, before + 6);

        // Asked for by someone who could also approve: never by them.
        let (status, request) = ask(&world, "both", &child, "clinical").await?;
        assert_eq!(status, StatusCode::CREATED, "{request}");
        assert_eq!(request["may_approve"], false);
        let (status, problem) = approve(&world, "both", &request, Some(PASSWORD)).await?;
        assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
        for who in ["admin", "lead"] {
            let (status, _) = approve(&world, who, &request, None).await?;
            assert_ne!(status, StatusCode::OK, "{who}");
        }
        // The approvers are each given a task; the requester is not.
        let rid = id_of(&request);
        for who in ["service-lead", "dsl"] {
            let mut found = false;
            for _ in 0..100 {
                let tasks = crate::safeguarding::tasks_of(&world, who, true).await?;
                if tasks.iter().any(|t| {
                    t["rule"] == "retention.approve-destruction" && t["subject_id"] == rid.as_str()
                }) {
                    found = true;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            assert!(found, "{who} has the approval task");
        }
        assert!(
            !crate::safeguarding::tasks_of(&world, "both", false)
                .await?
                .iter()
                .any(|t| t["rule"] == "retention.approve-destruction")
        );
        // A stale version is refused; the service lead approves.
        let mut stale = request.clone();
        stale["version"] = json!(7);
        let (status, _) = approve(&world, "service-lead", &stale, None).await?;
        assert_eq!(status, StatusCode::CONFLICT);
        let (status, done) = approve(&world, "service-lead", &request, None).await?;
        assert_eq!(status, StatusCode::OK, "{done}");
        assert_eq!(done["status"], "destroyed");
        assert_eq!(done["sole_practitioner"], false);
        let (status, _) = approve(&world, "service-lead", &done, None).await?;
        assert_eq!(status, StatusCode::CONFLICT, "decided once");
        // The approval task is done.
        assert!(
            !crate::safeguarding::tasks_of(&world, "service-lead", true)
                .await?
                .iter()
                .any(|t| t["subject_id"] == rid.as_str())
        );

        // The clinical record can no longer be read: a clear 410, never a 500.
        let (status, problem) = world.api("lead", Method::GET, &contacts, None).await?;
        assert_eq!(status, StatusCode::GONE, "{problem}");
        assert_eq!(problem["type"], "urn:alliance:problem:destroyed");
        assert!(
            problem["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("retention policy")
        );
        // The process notes and who the child is still read.
        let (status, mine) = world.api("lead", Method::GET, &notes, None).await?;
        assert_eq!(status, StatusCode::OK, "{mine}");
        assert!(mine.to_string().contains(NOTE));
        let (status, record) = world
            .api(
                "lead",
                Method::GET,
                &format!("/api/v1/children/{child}"),
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{record}");
        assert_eq!(record["details"]["legal_name"], "Oliver Grant", "{record}");
        // The referral reason went with the clinical record.
        assert!(record["cases"][0]["referral_reason"].is_null(), "{record}");
        // The retention page says when; it is out of the report; it is never destroyed twice.
        let admin = retention_as(&world, "admin", &child).await?;
        let today = crate::safeguarding::today().to_string();
        assert_eq!(
            class_of(&admin, "clinical")["destroyed_on"],
            today.as_str(),
            "{admin}"
        );
        assert!(class_of(&admin, "clinical")["retention"].is_null());
        let (_, report) = world
            .api("admin", Method::GET, "/api/v1/retention/report", None)
            .await?;
        let rows: Vec<&str> = report["items"]
            .as_array()
            .map(|i| i.iter().filter_map(|r| r["class"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(rows, ["process-notes"], "{report}");
        let (status, problem) = ask(&world, "admin", &child, "clinical").await?;
        assert_eq!(status, StatusCode::CONFLICT, "{problem}");
        assert!(
            problem["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("already destroyed")
        );
        // The tombstone: who asked, who approved, which request and class; ids only.
        let tombstone = format!(
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'destruction.done' \
             AND child_id = '{child}' AND record_id = '{rid}' AND actor_id = '{}' \
             AND detail LIKE '%class=clinical%requested_by={}%approved_by={}%'",
            world.ids["service-lead"], world.ids["both"], world.ids["service-lead"]
        );
        assert_eq!(count_as_owner(&world.service.db, &tombstone).await?, 1);

        // A refusal and a withdrawal: the process notes.
        let (status, request) = ask(&world, "admin", &child, "process-notes").await?;
        assert_eq!(status, StatusCode::CREATED, "{request}");
        let refuse = format!("/api/v1/destruction-requests/{}/refuse", id_of(&request));
        let (status, _) = world
            .api("lead", Method::POST, &refuse, Some(json!({"version": 1})))
            .await?;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, withdrawn) = world
            .api("admin", Method::POST, &refuse, Some(json!({"version": 1})))
            .await?;
        assert_eq!(status, StatusCode::OK, "{withdrawn}");
        assert_eq!(withdrawn["status"], "withdrawn");
        let (status, again) = ask(&world, "admin", &child, "process-notes").await?;
        assert_eq!(status, StatusCode::CREATED, "{again}");
        let refuse = format!("/api/v1/destruction-requests/{}/refuse", id_of(&again));
        let (status, refused) = world
            .api("dsl", Method::POST, &refuse, Some(json!({"version": 1})))
            .await?;
        assert_eq!(status, StatusCode::OK, "{refused}");
        assert_eq!(refused["status"], "refused");
        let (status, mine) = world.api("lead", Method::GET, &notes, None).await?;
        assert_eq!(status, StatusCode::OK, "{mine}");
        world.service.server.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn the_sole_practitioner_waits_the_cooling_off_and_gives_their_password() -> anyhow::Result<()>
{
    for backend in backends() {
        let service = Service::start(backend).await?;
        let solo = service
            .add_user(
                "solo",
                &["administrator", "service-lead", "dsl", "therapist"],
            )
            .await?;
        let token = service.token_for("solo", "read-write").await?;
        let (status, child) = service
            .api(
                Method::POST,
                "/api/v1/children",
                &token,
                Some(
                    json!({"legal_name": "Oliver Grant", "date_of_birth": "2005-01-01",
                    "date_of_death": "2014-06-01", "sex": "male"}),
                ),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{child}");
        let child = id_of(&child);
        let (status, request) = service
            .api(
                Method::POST,
                &format!("/api/v1/children/{child}/destruction-requests"),
                &token,
                Some(json!({"class": "clinical"})),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{request}");
        assert_eq!(request["may_approve"], false);
        assert!(request["cooling_off_until"].is_string(), "{request}");
        let approve_at = format!("/api/v1/destruction-requests/{}/approve", id_of(&request));
        let body = json!({"version": 1, "password": PASSWORD});
        let (status, problem) = service
            .api(Method::POST, &approve_at, &token, Some(body.clone()))
            .await?;
        assert_eq!(status, StatusCode::CONFLICT, "cooling off: {problem}");
        assert!(
            problem["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("cooling-off")
        );

        // A day and an hour later (the server's clock moved on).
        let Service {
            db,
            server,
            admin_token,
        } = service;
        server.stop().await;
        let later = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(25)).to_string();
        let server =
            TestServer::start(&alliance_binary(), &db, &["--clock-starts-at", &later]).await?;
        let service = Service {
            db,
            server,
            admin_token,
        };
        let (status, view) = service
            .api(
                Method::GET,
                &format!("/api/v1/destruction-requests/{}", id_of(&request)),
                &token,
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{view}");
        assert_eq!(
            (
                view["may_approve"].as_bool(),
                view["needs_password"].as_bool()
            ),
            (Some(true), Some(true)),
            "{view}"
        );
        for password in [None, Some("not my password at all")] {
            let mut wrong = json!({"version": 1});
            if let Some(p) = password {
                wrong["password"] = json!(p);
            }
            let (status, problem) = service
                .api(Method::POST, &approve_at, &token, Some(wrong))
                .await?;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
            assert_eq!(crate::safeguarding::fields_of(&problem), ["password"]);
        }
        let (status, done) = service
            .api(Method::POST, &approve_at, &token, Some(body))
            .await?;
        assert_eq!(status, StatusCode::OK, "{done}");
        assert_eq!(done["status"], "destroyed");
        assert_eq!(done["sole_practitioner"], true);
        assert_eq!(done["decided_by"], solo["display_name"]);
        service.server.stop().await;
    }
    Ok(())
}

// ----- the safeguarding records -----

#[tokio::test]
async fn the_dsl_destroys_safeguarding_records_an_administrator_never_learns_of()
-> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build(backend).await?;
        let (child, case) = deceased_child(&world, "Oliver Grant").await?;
        // The service keeps safeguarding records to the 18th birthday: past for this child.
        let (_, mut settings) = world
            .api("admin", Method::GET, "/api/v1/retention/settings", None)
            .await?;
        settings["safeguarding_birthday"] = json!(18);
        let (status, saved) = world
            .api(
                "admin",
                Method::PUT,
                "/api/v1/retention/settings",
                Some(settings),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{saved}");
        let (concern, _) = raise_and_submit(
            &world,
            "lead",
            json!({"child_id": child}),
            content("no", &["neglect"]),
        )
        .await?;
        let (status, _) = post(&world, "dsl", &concern, "acknowledge", None).await?;
        assert_eq!(status, StatusCode::NO_CONTENT);
        for step in [
            json!({"kind": "decided", "decision": "no-further-action", "note": "Historic; nothing to act on"}),
            json!({"kind": "closed", "note": "Nothing more"}),
        ] {
            let (status, problem) = post(&world, "dsl", &concern, "steps", Some(step)).await?;
            assert_eq!(status, StatusCode::NO_CONTENT, "{problem}");
        }
        // The DSL's report has the safeguarding records; the administrator's never does.
        let (_, report) = world
            .api("dsl", Method::GET, "/api/v1/retention/report", None)
            .await?;
        assert!(report.to_string().contains("\"safeguarding\""), "{report}");
        let (_, report) = world
            .api("admin", Method::GET, "/api/v1/retention/report", None)
            .await?;
        assert!(!report.to_string().contains("safeguarding"), "{report}");

        let (status, request) = ask(&world, "dsl", &child, "safeguarding").await?;
        assert_eq!(status, StatusCode::CREATED, "{request}");
        // The administrator may not know of it: 404, and it is not among theirs.
        let (status, _) = world
            .api(
                "admin",
                Method::GET,
                &format!("/api/v1/destruction-requests/{}", id_of(&request)),
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (_, report) = world
            .api("admin", Method::GET, "/api/v1/retention/report", None)
            .await?;
        assert_eq!(report["awaiting"], json!([]), "{report}");
        let (status, done) = approve(&world, "service-lead", &request, None).await?;
        assert_eq!(status, StatusCode::OK, "{done}");

        // The concern can no longer be read, by anyone: a clear 410.
        for who in ["dsl", "lead"] {
            let (status, problem) = crate::safeguarding::read(&world, who, &concern, None).await?;
            assert_eq!(status, StatusCode::GONE, "{who}: {problem}");
        }
        let (status, _) = world
            .api(
                "dsl",
                Method::GET,
                &format!("/api/v1/children/{child}/chronology"),
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::GONE);
        // The clinical record and process notes still read.
        let (status, _) = world
            .api(
                "lead",
                Method::GET,
                &format!("/api/v1/cases/{case}/contacts"),
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::OK);
        let dsl = retention_as(&world, "dsl", &child).await?;
        assert!(
            class_of(&dsl, "safeguarding")["destroyed_on"].is_string(),
            "{dsl}"
        );
        assert!(dsl["flag"].is_null());
        // The audit entries of the safeguarding records' destruction are safeguarding rows.
        assert_eq!(
            count_as_owner(
                &world.service.db,
                &format!(
                    "SELECT COUNT(*) AS n FROM audit_log WHERE record_type = 'destruction' \
                     AND child_id = '{child}' AND category <> 'safeguarding'"
                ),
            )
            .await?,
            0
        );
        world.service.server.stop().await;
    }
    Ok(())
}

// ----- backups -----

/// A backup of the main database taken before a destruction, restored afterwards with the key
/// store as it is now (its own backups, which held the key, have aged out): the destroyed
/// class cannot be read from it, while who the child is and the other classes still can.
/// SQLite: the backup is `VACUUM INTO` a file. PostgreSQL: a copy of the database made with it
/// as the template.
#[tokio::test]
async fn a_destroyed_class_is_unreadable_in_a_backup_taken_before_it() -> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build(backend).await?;
        let (child, case) = deceased_child(&world, "Oliver Grant").await?;
        let contacts = format!("/api/v1/cases/{case}/contacts");
        let notes = format!("/api/v1/cases/{case}/process-notes");
        let (status, before) = world.api("lead", Method::GET, &contacts, None).await?;
        assert_eq!(status, StatusCode::OK);
        assert!(before.to_string().contains(SHARED));

        // The backup.
        let data = world.service.db.data_path().to_path_buf();
        let backup_url = match backend {
            Backend::Sqlite => {
                let file = data.join("backup.sqlite3");
                execute_as_owner(
                    &world.service.db,
                    &format!("VACUUM INTO '{}'", file.display()),
                )
                .await?;
                format!("sqlite://{}", file.display())
            }
            Backend::Postgres => {
                // A template must have no connections: the server stops while it is copied.
                let World {
                    service,
                    tokens,
                    ids,
                    ..
                } = world;
                let Service {
                    db,
                    server,
                    admin_token,
                } = service;
                server.stop().await;
                let name = db
                    .owner_url
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                let copy = format!("{name}_backup");
                let admin = alliance_testkit::postgres_admin_url();
                // The stopped server's connections may take a moment to go.
                let mut copied = Err(anyhow::anyhow!("not tried"));
                for _ in 0..20 {
                    copied = execute_on(&admin, &format!("CREATE DATABASE {copy} TEMPLATE {name}"))
                        .await;
                    if copied.is_ok() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                copied?;
                let server = TestServer::start(&alliance_binary(), &db, &[]).await?;
                let service = Service {
                    db,
                    server,
                    admin_token,
                };
                let url = match service.db.app_url.rsplit_once('/') {
                    Some((server, _)) => format!("{server}/{copy}"),
                    None => anyhow::bail!("no database in {}", service.db.app_url),
                };
                let world = World {
                    service,
                    child: String::new(),
                    carer: String::new(),
                    case: String::new(),
                    tokens,
                    ids,
                };
                destroy_clinical(&world, &child).await?;
                check_backup(&world, &url, &contacts, &notes, &child).await?;
                execute_on(
                    &admin,
                    &format!("DROP DATABASE IF EXISTS {copy} WITH (FORCE)"),
                )
                .await?;
                continue;
            }
        };
        destroy_clinical(&world, &child).await?;
        check_backup(&world, &backup_url, &contacts, &notes, &child).await?;
    }
    Ok(())
}

async fn execute_on(url: &str, sql: &str) -> anyhow::Result<()> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await?;
    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(())
}

async fn destroy_clinical(world: &World, child: &str) -> anyhow::Result<()> {
    let (status, request) = ask(world, "admin", child, "clinical").await?;
    assert_eq!(status, StatusCode::CREATED, "{request}");
    let (status, done) = approve(world, "service-lead", &request, None).await?;
    assert_eq!(status, StatusCode::OK, "{done}");
    Ok(())
}

/// Stops the World's server and serves the backup instead, with the same data folder (its
/// master key and, on SQLite, its key store as they are now), then reads from it.
async fn check_backup(
    world: &World,
    backup_url: &str,
    contacts: &str,
    notes: &str,
    child: &str,
) -> anyhow::Result<()> {
    let data = world.service.db.data_path().display().to_string();
    let server = TestServer::spawn(
        &alliance_binary(),
        &[
            "--data",
            &data,
            "--database",
            backup_url,
            "serve",
            "--bind",
            "127.0.0.1:0",
        ],
    )
    .await?;
    let get = |path: String| {
        let token = world.tokens["lead"].clone();
        let client = server.client.clone();
        let url = server.url(&path);
        async move {
            let response = client.get(url).bearer_auth(token).send().await?;
            let status = response.status();
            let body: Value = serde_json::from_str(&response.text().await?).unwrap_or(Value::Null);
            anyhow::Ok((status, body))
        }
    };
    // The backup still holds the sealed contact, from before: its key is gone.
    let (status, problem) = get(contacts.to_owned()).await?;
    assert_eq!(status, StatusCode::GONE, "{problem}");
    assert!(!problem.to_string().contains(SHARED));
    let (status, mine) = get(notes.to_owned()).await?;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert!(mine.to_string().contains(NOTE));
    let (status, record) = get(format!("/api/v1/children/{child}")).await?;
    assert_eq!(status, StatusCode::OK, "{record}");
    assert_eq!(record["details"]["legal_name"], "Oliver Grant");
    assert!(record["cases"][0]["referral_reason"].is_null(), "{record}");
    server.stop().await;
    Ok(())
}
