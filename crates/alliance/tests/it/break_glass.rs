//! Break-glass access (issue 15, policy section 1) through the real server on both engines:
//! who may ask and who may not (each refusal audited), how the child is named (NHS number,
//! UPN, id), what a grant opens (the case team's read rights: identity, the referral reason,
//! the clinical record) and what it never does (process notes, concerns, any write), the
//! notices to the DSL and the service lead at once (not the requester, not anyone else), the
//! review list with what was done under the grant, ending it early, its expiry by the clock
//! (the server restarted later on the same database), and the service's durations.

use crate::children::World;
use crate::count_as_owner;
use crate::safeguarding::{content, fields_of, id_of, raise_and_submit, read, restart, tasks_of};
use alliance_testkit::backends;
use jiff::{SignedDuration, Timestamp};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

/// The scheduler every second, on the real clock, so the notices come at once.
const SCHEDULER: [&str; 2] = ["--scheduler-interval", "1"];

const REASON: &str = "Millie's lead is off sick and she is in crisis at school this afternoon.";
const REFERRAL_REASON: &str = "Anxiety about school since a family bereavement";
const NOTE: &str = "My own reflection on the transference in today's session";

/// A valid NHS number for the nine digits given (the modulus-11 check digit appended), or
/// none when no check digit works for them.
fn nhs_number(first_nine: &str) -> Option<String> {
    let digits: Vec<u32> = first_nine.chars().filter_map(|c| c.to_digit(10)).collect();
    let sum: u32 = digits.iter().zip((2..=10).rev()).map(|(d, w)| d * w).sum();
    match 11 - (sum % 11) {
        10 => None,
        11 => Some(format!("{first_nine}0")),
        n => Some(format!("{first_nine}{n}")),
    }
}

fn instant(value: &Value) -> Timestamp {
    value
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

async fn ask(world: &World, who: &str, body: Value) -> anyhow::Result<(StatusCode, Value)> {
    world
        .api(who, Method::POST, "/api/v1/break-glass", Some(body))
        .await
}

async fn refusals(world: &World) -> anyhow::Result<i64> {
    count_as_owner(
        &world.service.db,
        "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'denied' \
         AND record_type = 'break-glass'",
    )
    .await
}

/// The World, with a referral reason (the lead's), a process note (the lead's) and a concern
/// (the lead's) on the child's record: (the concern's id).
async fn with_records(world: &World) -> anyhow::Result<String> {
    let (_, record) = world.child_as("lead").await?;
    let (status, record) = world
        .api(
            "lead",
            Method::PUT,
            &format!("/api/v1/cases/{}", world.case),
            Some(
                json!({"version": record["cases"][0]["version"], "referral_source": "school",
                "referral_received": "2026-09-10", "first_seen": "2026-09-17",
                "referral_reason": REFERRAL_REASON}),
            ),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{record}");
    let (status, note) = world
        .api(
            "lead",
            Method::POST,
            &format!("/api/v1/cases/{}/process-notes", world.case),
            Some(json!({"text": NOTE})),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{note}");
    let (concern, _) = raise_and_submit(
        world,
        "lead",
        json!({"child_id": world.child}),
        content("no", &["physical"]),
    )
    .await?;
    Ok(concern)
}

/// Waits (up to 30 s) until `who` has a notice of `rule` about `subject`.
async fn wait_for_notice(
    world: &World,
    who: &str,
    rule: &str,
    subject: &str,
) -> anyhow::Result<Value> {
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

#[tokio::test]
async fn break_glass_opens_the_teams_read_rights_and_nothing_more() -> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build_with(backend, &SCHEDULER).await?;
        let concern = with_records(&world).await?;
        let child = world.child.clone();

        // Without a grant, another therapist may not know the child.
        let (status, _) = world.child_as("other-therapist").await?;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend:?}");

        // Who may not ask: staff, supervisors, administrators (each refusal audited).
        let before = refusals(&world).await?;
        for who in ["staff", "supervisor", "admin"] {
            let (status, problem) = ask(
                &world,
                who,
                json!({"child": "943 476 5919", "reason": REASON}),
            )
            .await?;
            assert_eq!(status, StatusCode::FORBIDDEN, "{who}: {problem}");
        }
        assert_eq!(refusals(&world).await?, before + 3);

        // A reason is a sentence; the child must be named and found; the length bounded.
        let (status, problem) = ask(
            &world,
            "other-therapist",
            json!({"child": "943 476 5919", "reason": "urgent"}),
        )
        .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(fields_of(&problem), ["reason"]);
        let unknown = nhs_number("401023213")
            .or_else(|| nhs_number("401023214"))
            .unwrap_or_default();
        let (status, problem) = ask(
            &world,
            "other-therapist",
            json!({"child": unknown, "reason": REASON}),
        )
        .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(fields_of(&problem), ["child"]);
        for bad in [
            "Millie Clarke",
            "943 476 5918",
            "",
            "https://x.example/children/nope",
        ] {
            let (status, problem) = ask(
                &world,
                "other-therapist",
                json!({"child": bad, "reason": REASON}),
            )
            .await?;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {problem}");
            assert_eq!(fields_of(&problem), ["child"], "{bad}");
        }
        for minutes in [0, 14, 721] {
            let (status, problem) = ask(
                &world,
                "other-therapist",
                json!({"child": child, "reason": REASON, "minutes": minutes}),
            )
            .await?;
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{minutes}: {problem}"
            );
            assert_eq!(fields_of(&problem), ["minutes"]);
        }
        // The child's own lead has all it would give: refused as needless.
        let (status, problem) =
            ask(&world, "lead", json!({"child": child, "reason": REASON})).await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        // Unknown fields are refused; a read-only token may not ask.
        let (status, _) = ask(
            &world,
            "other-therapist",
            json!({"child": child, "reason": REASON, "hours": 4}),
        )
        .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let read_only = world.service.token_for("other-therapist", "read").await?;
        let (status, _) = world
            .service
            .api(
                Method::POST,
                "/api/v1/break-glass",
                &read_only,
                Some(json!({"child": child, "reason": REASON})),
            )
            .await?;
        assert_eq!(status, StatusCode::FORBIDDEN);
        // Nothing was granted by any of that.
        let granted = count_as_owner(
            &world.service.db,
            "SELECT COUNT(*) AS n FROM break_glass_grants",
        )
        .await?;
        assert_eq!(granted, 0);

        // Named by NHS number: granted at once, for the default four hours.
        let (status, grant) = ask(
            &world,
            "other-therapist",
            json!({"child": "943 476 5919", "reason": REASON}),
        )
        .await?;
        assert_eq!(status, StatusCode::CREATED, "{grant}");
        assert_eq!(grant["child_id"], child.as_str());
        assert_eq!(grant["state"], "active");
        assert_eq!(grant["reason"], REASON);
        assert_eq!(
            instant(&grant["expires_at"]).duration_since(instant(&grant["starts_at"])),
            SignedDuration::from_hours(4)
        );
        let grant_id = id_of(&grant);
        let reference = grant["reference"].as_str().unwrap_or_default().to_owned();
        assert!(reference.starts_with("BG-"), "{reference}");
        // A second one while it stands is refused.
        let (status, _) = ask(
            &world,
            "other-therapist",
            json!({"child": child, "reason": REASON}),
        )
        .await?;
        assert_eq!(status, StatusCode::CONFLICT);
        // The reason is sealed: in the audit trail neither, nor in the grant's row.
        let plain = count_as_owner(
            &world.service.db,
            "SELECT COUNT(*) AS n FROM audit_log WHERE detail LIKE '%crisis%'",
        )
        .await?;
        assert_eq!(plain, 0);
        let plain = count_as_owner(
            &world.service.db,
            match backend {
                alliance_testkit::Backend::Sqlite => {
                    "SELECT COUNT(*) AS n FROM break_glass_grants \
                     WHERE instr(reason, CAST('crisis' AS BLOB)) > 0"
                }
                alliance_testkit::Backend::Postgres => {
                    "SELECT COUNT(*) AS n FROM break_glass_grants \
                     WHERE position(convert_to('crisis', 'UTF8') in reason) > 0"
                }
            },
        )
        .await?;
        assert_eq!(plain, 0);

        // What it opens: the child's identity, the referral reason, the clinical record, read.
        let (status, record) = world.child_as("other-therapist").await?;
        assert_eq!(status, StatusCode::OK, "{record}");
        assert!(!record["details"].is_null(), "{record}");
        assert_eq!(record["cases"][0]["referral_reason"], REFERRAL_REASON);
        assert_eq!(record["access"]["identity"], "read");
        assert_eq!(record["access"]["clinical"], "read");
        // What it never opens: the lead's process notes, the concern; and nothing is written.
        let (status, notes) = world
            .api(
                "other-therapist",
                Method::GET,
                &format!("/api/v1/cases/{}/process-notes", world.case),
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::NOT_FOUND, "{notes}");
        assert!(!notes.to_string().contains("transference"));
        let (status, seen) = read(&world, "other-therapist", &concern, None).await?;
        assert_eq!(status, StatusCode::NOT_FOUND, "{seen}");
        let (_, listed) = world
            .api(
                "other-therapist",
                Method::GET,
                &format!("/api/v1/children/{child}/concerns"),
                None,
            )
            .await?;
        assert!(!listed.to_string().contains(&concern), "{listed}");
        let (status, _) = world
            .api(
                "other-therapist",
                Method::PUT,
                &format!("/api/v1/children/{child}"),
                Some(
                    json!({"version": record["version"], "legal_name": "Changed Name",
                    "date_of_birth": "2016-03-14", "sex": "female"}),
                ),
            )
            .await?;
        assert_eq!(status, StatusCode::FORBIDDEN);
        // Nor another child's record.
        let (status, _) = world
            .api(
                "other-therapist",
                Method::GET,
                &format!("/api/v1/children/{}", uuid::Uuid::now_v7()),
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // The DSL and the service lead are told at once; nobody else is.
        for who in ["dsl", "service-lead"] {
            let notice = wait_for_notice(&world, who, "break-glass.granted", &grant_id).await?;
            assert_eq!(notice["kind"], "notice");
            let title = notice["title"].as_str().unwrap_or_default();
            assert!(title.contains(&reference), "{title}");
            assert!(
                !title.contains("Millie") && !title.contains("Amelia"),
                "{title}"
            );
        }
        // A moment for any wrongly raised notice to show.
        tokio::time::sleep(Duration::from_secs(2)).await;
        for who in ["other-therapist", "lead", "admin", "staff", "supervisor"] {
            assert!(
                !tasks_of(&world, who, false)
                    .await?
                    .iter()
                    .any(|t| t["rule"] == "break-glass.granted"),
                "{who} was told"
            );
        }

        // The review list: the DSL sees it, with what was done under it; others may not.
        let (status, list) = world
            .api("dsl", Method::GET, "/api/v1/break-glass", None)
            .await?;
        assert_eq!(status, StatusCode::OK, "{list}");
        let shown = list["open"]
            .as_array()
            .and_then(|o| o.iter().find(|g| g["id"] == grant_id.as_str()).cloned())
            .unwrap_or_default();
        assert_eq!(shown["state"], "active");
        assert_eq!(shown["reason"], REASON);
        assert_eq!(shown["may_review"], false, "not while it is in force");
        let actions: Vec<&str> = shown["entries"]
            .as_array()
            .map(|e| e.iter().filter_map(|x| x["action"].as_str()).collect())
            .unwrap_or_default();
        assert!(actions.contains(&"break-glass.granted"), "{actions:?}");
        assert!(actions.contains(&"child.read"), "{actions:?}");
        for who in ["other-therapist", "lead", "admin", "staff", "supervisor"] {
            let (status, _) = world
                .api(who, Method::GET, "/api/v1/break-glass", None)
                .await?;
            assert_eq!(status, StatusCode::FORBIDDEN, "{who}");
        }
        let (status, _) = world
            .api(
                "dsl",
                Method::POST,
                &format!("/api/v1/break-glass/{grant_id}/review"),
                None,
            )
            .await?;
        assert_eq!(
            status,
            StatusCode::CONFLICT,
            "reviewed only once it is over"
        );

        // Only its holder ends it; then the record is closed to them again.
        let (status, _) = world
            .api(
                "dsl",
                Method::POST,
                &format!("/api/v1/break-glass/{grant_id}/end"),
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, ended) = world
            .api(
                "other-therapist",
                Method::POST,
                &format!("/api/v1/break-glass/{grant_id}/end"),
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{ended}");
        assert_eq!(ended["ended_early"], true);
        assert_eq!(ended["state"], "awaiting-review");
        let (status, _) = world.child_as("other-therapist").await?;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = world
            .api(
                "other-therapist",
                Method::POST,
                &format!("/api/v1/break-glass/{grant_id}/end"),
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::CONFLICT);
        let (status, mine) = world
            .api(
                "other-therapist",
                Method::GET,
                "/api/v1/me/break-glass",
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(mine["items"][0]["id"], grant_id.as_str());
        assert_eq!(mine["items"][0]["may_end"], false);

        // Reviewed by the service lead: the notices about it are read, once only.
        let (status, reviewed) = world
            .api(
                "service-lead",
                Method::POST,
                &format!("/api/v1/break-glass/{grant_id}/review"),
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{reviewed}");
        assert_eq!(reviewed["state"], "reviewed");
        for who in ["dsl", "service-lead"] {
            let open = tasks_of(&world, who, true).await?;
            assert!(
                !open.iter().any(|t| t["subject_id"] == grant_id.as_str()),
                "{who}: {open:?}"
            );
        }
        let (status, _) = world
            .api(
                "dsl",
                Method::POST,
                &format!("/api/v1/break-glass/{grant_id}/review"),
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::CONFLICT);
        let (_, list) = world
            .api("dsl", Method::GET, "/api/v1/break-glass", None)
            .await?;
        assert_eq!(list["open"], json!([]), "{list}");
        assert_eq!(list["reviewed"][0]["id"], grant_id.as_str());

        // The trail: granted, ended, reviewed, each naming the child.
        for action in [
            "break-glass.granted",
            "break-glass.ended",
            "break-glass.reviewed",
        ] {
            let n = count_as_owner(
                &world.service.db,
                &format!(
                    "SELECT COUNT(*) AS n FROM audit_log WHERE action = '{action}' \
                     AND child_id = '{child}' AND record_id = '{grant_id}'"
                ),
            )
            .await?;
            assert_eq!(n, 1, "{action}");
        }
        // The database keeps every grant: no delete, no rewrite.
        for sql in [
            "DELETE FROM break_glass_grants",
            "UPDATE break_glass_grants SET expires_at = expires_at + 1",
        ] {
            assert!(
                crate::execute_as_owner(&world.service.db, sql)
                    .await
                    .is_err(),
                "{sql}"
            );
        }
        world.service.server.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn break_glass_ends_by_the_clock() -> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build(backend).await?;
        let child = world.child.clone();
        // The DSL (who reads no clinical record by role) asks for the shortest time, by id.
        let (status, grant) = ask(
            &world,
            "dsl",
            json!({"child": format!("https://alliance.example/children/{child}"),
                "reason": REASON, "minutes": 15}),
        )
        .await?;
        assert_eq!(status, StatusCode::CREATED, "{grant}");
        let grant_id = id_of(&grant);
        let (_, record) = world.child_as("dsl").await?;
        assert_eq!(record["access"]["clinical"], "read");
        let expires = instant(&grant["expires_at"]);

        // Sixteen minutes later (the server restarted on the same database): expired, with
        // nothing having run; the DSL reads as a DSL again, and the grant awaits review.
        let later = expires
            .checked_add(SignedDuration::from_mins(1))
            .unwrap_or(expires)
            .to_string();
        let world = restart(world, &["--clock-starts-at", &later]).await?;
        let (_, record) = world.child_as("dsl").await?;
        assert_eq!(record["access"]["clinical"], "limited", "{record}");
        let (_, mine) = world
            .api("dsl", Method::GET, "/api/v1/me/break-glass", None)
            .await?;
        assert_eq!(mine["items"][0]["state"], "awaiting-review", "{mine}");
        assert_eq!(mine["items"][0]["ended_early"], false);
        // Someone else reviews the DSL's own grant: the DSL may not, the service lead may.
        let (status, _) = world
            .api(
                "dsl",
                Method::POST,
                &format!("/api/v1/break-glass/{grant_id}/review"),
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::CONFLICT);
        let (status, reviewed) = world
            .api(
                "service-lead",
                Method::POST,
                &format!("/api/v1/break-glass/{grant_id}/review"),
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{reviewed}");
        world.service.server.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn the_durations_are_the_services_within_the_policys_bounds() -> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build(backend).await?;
        let (status, durations) = world
            .api("staff", Method::GET, "/api/v1/break-glass/settings", None)
            .await?;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(durations["default_minutes"], 240);
        assert_eq!(durations["longest_minutes"], 720);
        assert_eq!(durations["source"], "policy section 1");
        for who in ["staff", "dsl", "lead"] {
            let (status, _) = world
                .api(
                    who,
                    Method::PUT,
                    "/api/v1/break-glass/settings",
                    Some(json!({"default_minutes": 60, "longest_minutes": 120})),
                )
                .await?;
            assert_eq!(status, StatusCode::FORBIDDEN, "{who}");
        }
        let (status, problem) = world
            .api(
                "admin",
                Method::PUT,
                "/api/v1/break-glass/settings",
                Some(json!({"default_minutes": 10, "longest_minutes": 800})),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields_of(&problem), ["default_minutes", "longest_minutes"]);
        let (status, saved) = world
            .api(
                "service-lead",
                Method::PUT,
                "/api/v1/break-glass/settings",
                Some(json!({"default_minutes": 60, "longest_minutes": 120})),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{saved}");
        // A stale version is refused.
        let (status, _) = world
            .api(
                "admin",
                Method::PUT,
                "/api/v1/break-glass/settings",
                Some(json!({"default_minutes": 30, "longest_minutes": 60})),
            )
            .await?;
        assert_eq!(status, StatusCode::CONFLICT);
        // Requests follow the service's figures.
        let (status, problem) = ask(
            &world,
            "other-therapist",
            json!({"child": world.child, "reason": REASON, "minutes": 240}),
        )
        .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        let (status, grant) = ask(
            &world,
            "other-therapist",
            json!({"child": world.child, "reason": REASON}),
        )
        .await?;
        assert_eq!(status, StatusCode::CREATED, "{grant}");
        assert_eq!(
            instant(&grant["expires_at"]).duration_since(instant(&grant["starts_at"])),
            SignedDuration::from_hours(1)
        );
        world.service.server.stop().await;
    }
    Ok(())
}
