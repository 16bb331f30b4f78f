//! Issue 16: incidents through the real server on both engines: the lead records one (from a
//! session, sealed), who may read it from the denied side (the service lead, administrators,
//! staff, another therapist and the parent-worker get 404, audited; a supervisor reads it
//! pseudonymised), incidents linked to a concern (the DSL reads a linked incident but not an
//! unlinked one), and corrections as addenda.

use crate::children::World;
use crate::count_as_owner;
use crate::safeguarding::{content, raise_and_submit};
use alliance_testkit::backends;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn body(session: Option<&str>, concern: Option<&str>) -> Value {
    json!({
        "kinds": ["aggression", "damage"],
        "occurred": "2027-01-11T15:50",
        "what_happened": "Threw the sand tray lid at the wall; it cracked.",
        "who_involved": "The child and me (Ms Lead).",
        "what_done": "Paused, named the rule, made the room safe, tidied together.",
        "told": [{"whom": "carers", "when": "2027-01-11T16:30"}, {"whom": "dsl"}],
        "session_id": session,
        "concern_id": concern,
    })
}

async fn record(world: &World, who: &str, body: Value) -> anyhow::Result<(StatusCode, Value)> {
    world
        .api(
            who,
            Method::POST,
            &format!("/api/v1/children/{}/incidents", world.child),
            Some(body),
        )
        .await
}

#[tokio::test]
async fn who_reads_an_incident_and_the_dsl_only_when_linked_to_a_concern() -> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build(backend).await?;
        let (_, _, sessions, _) = crate::disruptions::booked(&world).await?;
        let session = sessions[0]["id"].as_str().unwrap_or_default().to_owned();

        // Not the team's writers: refused (404 for those who may not know, 403 otherwise).
        for who in [
            "service-lead",
            "admin",
            "staff",
            "other-therapist",
            "parent-worker",
        ] {
            let (status, _) = record(&world, who, body(Some(&session), None)).await?;
            assert!(
                status == StatusCode::NOT_FOUND || status == StatusCode::FORBIDDEN,
                "{who}: {status}"
            );
        }
        let (status, created) = record(&world, "lead", body(Some(&session), None)).await?;
        assert_eq!(status, StatusCode::CREATED, "{backend:?} {created}");
        let unlinked = created["id"].as_str().unwrap_or_default().to_owned();
        // Sealed at rest: the words are not in the table.
        let plain = count_as_owner(
            &world.service.db,
            "SELECT COUNT(*) AS n FROM incidents WHERE content LIKE '%sand tray%'",
        )
        .await
        .unwrap_or(0);
        assert_eq!(plain, 0);

        let get = |id: &str| format!("/api/v1/incidents/{id}");
        let list = format!("/api/v1/children/{}/incidents", world.child);
        let (status, read) = world
            .api("lead", Method::GET, &get(&unlinked), None)
            .await?;
        assert_eq!(status, StatusCode::OK, "{read}");
        assert_eq!(read["incident"]["kinds"], json!(["aggression", "damage"]));
        assert_eq!(read["incident"]["session_id"], session);
        assert_eq!(read["incident"]["told"][0]["whom"], "carers");

        let denied_before = count_as_owner(
            &world.service.db,
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'denied'",
        )
        .await?;
        for who in [
            "service-lead",
            "admin",
            "other-therapist",
            "staff",
            "parent-worker",
            "dsl",
        ] {
            let (status, _) = world.api(who, Method::GET, &get(&unlinked), None).await?;
            assert_eq!(
                status,
                StatusCode::NOT_FOUND,
                "{who} reads an unlinked incident"
            );
        }
        let denied_after = count_as_owner(
            &world.service.db,
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'denied'",
        )
        .await?;
        assert!(denied_after >= denied_before + 6, "refusals audited");
        for who in [
            "service-lead",
            "admin",
            "other-therapist",
            "staff",
            "parent-worker",
        ] {
            let (status, _) = world.api(who, Method::GET, &list, None).await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who} lists incidents");
        }
        // The supervisor of the lead reads pseudonymised.
        let (status, sup) = world
            .api("supervisor", Method::GET, &get(&unlinked), None)
            .await?;
        assert_eq!(status, StatusCode::OK, "{sup}");
        assert!(!sup.to_string().contains("Millie"), "{sup}");
        assert!(
            sup["child_label"]
                .as_str()
                .unwrap_or_default()
                .starts_with("ARC")
        );

        // A concern raised; an incident linked to it: the DSL reads that one, not the other.
        let (concern, _) = raise_and_submit(
            &world,
            "lead",
            json!({"child_id": world.child}),
            content("no", &["physical"]),
        )
        .await?;
        let (status, linked) = record(&world, "lead", body(None, Some(&concern))).await?;
        assert_eq!(status, StatusCode::CREATED, "{linked}");
        let linked = linked["id"].as_str().unwrap_or_default().to_owned();
        let (status, read) = world.api("dsl", Method::GET, &get(&linked), None).await?;
        assert_eq!(status, StatusCode::OK, "{read}");
        assert_eq!(read["incident"]["concern_id"], concern);
        assert_eq!(read["may_add_addendum"], false);
        let (status, _) = world.api("dsl", Method::GET, &get(&unlinked), None).await?;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, dsl_list) = world.api("dsl", Method::GET, &list, None).await?;
        assert_eq!(status, StatusCode::OK, "{dsl_list}");
        let ids: Vec<&str> = dsl_list["items"]
            .as_array()
            .map(|a| a.iter().filter_map(|i| i["id"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(ids, vec![linked.as_str()]);
        // The service lead is still refused, linked or not.
        let (status, _) = world
            .api("service-lead", Method::GET, &get(&linked), None)
            .await?;
        assert_eq!(status, StatusCode::NOT_FOUND);
        // A concern the recorder may not read cannot be linked: another's id is refused.
        let (status, _) = record(
            &world,
            "lead",
            body(None, Some("0190f5a0-0000-7000-8000-000000000000")),
        )
        .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

        // Corrections are addenda: the lead adds one; the DSL may not.
        let addenda = format!("/api/v1/incidents/{linked}/addenda");
        let correction = json!({"text": "It was 15:55, not 15:50.", "reason": "Misread the clock"});
        let (status, _) = world
            .api("dsl", Method::POST, &addenda, Some(correction.clone()))
            .await?;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = world
            .api("lead", Method::POST, &addenda, Some(correction))
            .await?;
        assert_eq!(status, StatusCode::CREATED);
        let (_, read) = world.api("lead", Method::GET, &get(&linked), None).await?;
        assert_eq!(read["addenda"][0]["reason"], "Misread the clock");
        assert_eq!(
            read["incident"]["what_happened"],
            "Threw the sand tray lid at the wall; it cracked."
        );
        // Validation: a kind is required, the time must parse.
        let (status, problem) = record(
            &world,
            "lead",
            json!({"kinds": [], "occurred": "yesterday", "what_happened": "x",
                "who_involved": "x", "what_done": "x"}),
        )
        .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    }
    Ok(())
}
