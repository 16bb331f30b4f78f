//! The audit pages (issue 15, policy section 1 row "audit trail") through the real server on
//! both engines, as JSON and as pages: a child's trail read by the service lead (every row)
//! and the DSL (general and safeguarding rows), and by nobody else (the therapist on the
//! team, the parent-worker, another therapist, the supervisor, an administrator, staff: "not
//! found", audited); the administrators' view, which never shows a safeguarding row (a
//! submitted concern, say) nor a name or a detail, and which nobody else reads; each person's
//! own activity, which holds only their rows; filters, paging, and the reads audited.

use crate::accounts::{PASSWORD, sign_in_and_enrol};
use crate::children::World;
use crate::count_as_owner;
use crate::safeguarding::{content, fields_of, raise_and_submit};
use alliance_testkit::{Browser, backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn items(page: &Value) -> Vec<Value> {
    page["items"].as_array().cloned().unwrap_or_default()
}

fn actions(page: &Value) -> Vec<String> {
    items(page)
        .iter()
        .filter_map(|e| e["action"].as_str().map(str::to_owned))
        .collect()
}

async fn trail(world: &World, who: &str, path: &str) -> anyhow::Result<(StatusCode, Value)> {
    world.api(who, Method::GET, path, None).await
}

async fn denied(world: &World) -> anyhow::Result<i64> {
    count_as_owner(
        &world.service.db,
        &format!(
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'denied' AND child_id = '{}' \
             AND detail = 'read child audit'",
            world.child
        ),
    )
    .await
}

#[tokio::test]
async fn a_childs_trail_is_the_service_leads_and_the_dsls_only() -> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build(backend).await?;
        let child = world.child.clone();
        let (concern, _) = raise_and_submit(
            &world,
            "lead",
            json!({"child_id": child}),
            content("no", &["physical"]),
        )
        .await?;
        let path = format!("/api/v1/children/{child}/audit");

        // The service lead reads every row of it, safeguarding rows among them, with names.
        let (status, page) = trail(&world, "service-lead", &path).await?;
        assert_eq!(status, StatusCode::OK, "{page}");
        let seen = actions(&page);
        assert!(seen.contains(&"child.created".to_owned()), "{seen:?}");
        assert!(seen.contains(&"concern.submitted".to_owned()), "{seen:?}");
        assert_eq!(
            page["categories"],
            json!(["general", "safeguarding", "allegation"])
        );
        let submitted = items(&page)
            .into_iter()
            .find(|e| e["action"] == "concern.submitted")
            .unwrap_or_default();
        assert_eq!(submitted["category"], "safeguarding");
        assert_eq!(submitted["record_id"], concern.as_str());
        assert_eq!(submitted["actor_name"], "lead person");
        assert_eq!(submitted["label"], "Safeguarding concern submitted");
        assert!(
            items(&page).iter().all(|e| e["child_id"] == child.as_str()),
            "only the child's rows"
        );
        // Newest first.
        let seqs: Vec<i64> = items(&page)
            .iter()
            .filter_map(|e| e["seq"].as_i64())
            .collect();
        assert!(seqs.windows(2).all(|w| w[0] > w[1]), "{seqs:?}");

        // The DSL reads its general and safeguarding rows.
        let (status, page) = trail(&world, "dsl", &path).await?;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(actions(&page).contains(&"concern.submitted".to_owned()));
        assert_eq!(page["categories"], json!(["general", "safeguarding"]));

        // Nobody else: not found, as for a child they may not know, and audited.
        let before = denied(&world).await?;
        for who in [
            "lead",
            "parent-worker",
            "other-therapist",
            "supervisor",
            "admin",
            "staff",
        ] {
            let (status, body) = trail(&world, who, &path).await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{backend:?} {who}: {body}");
            assert!(!body.to_string().contains("concern"), "{who}: {body}");
        }
        // Each refusal is audited: by the trail for those who know the child (the lead, the
        // parent-worker, the supervisor, the administrator), at the child's gate for the rest.
        assert_eq!(denied(&world).await?, before + 6);
        let (status, _) = trail(
            &world,
            "service-lead",
            &format!("/api/v1/children/{}/audit", uuid::Uuid::now_v7()),
        )
        .await?;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // Reading it is audited, with the child's id.
        let viewed = count_as_owner(
            &world.service.db,
            &format!(
                "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'audit.viewed' \
                 AND child_id = '{child}' AND actor_id = '{}'",
                world.ids["service-lead"]
            ),
        )
        .await?;
        assert_eq!(viewed, 1);

        // Filters: by action, by actor, by dates; a bad one is named.
        let (_, page) = trail(&world, "dsl", &format!("{path}?action=concern.submitted")).await?;
        assert_eq!(actions(&page), ["concern.submitted"]);
        let (_, page) = trail(
            &world,
            "dsl",
            &format!("{path}?actor={}", world.ids["lead"]),
        )
        .await?;
        assert!(
            items(&page)
                .iter()
                .all(|e| e["actor_id"] == world.ids["lead"].as_str()),
            "{page}"
        );
        let (_, page) = trail(&world, "dsl", &format!("{path}?to=01/01/2020")).await?;
        assert_eq!(items(&page), Vec::<Value>::new());
        let (status, problem) = trail(
            &world,
            "dsl",
            &format!("{path}?action=drop-table&from=31/02/2026"),
        )
        .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(fields_of(&problem), ["action", "from"]);
        let (status, _) = trail(&world, "dsl", &format!("{path}?sort=seq")).await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

        // Paging: two at a time, no row twice, newest first throughout.
        let mut seen_seqs = Vec::new();
        let mut next = format!("{path}?limit=2");
        for _ in 0..50 {
            let (status, page) = trail(&world, "service-lead", &next).await?;
            assert_eq!(status, StatusCode::OK, "{page}");
            assert!(items(&page).len() <= 2);
            seen_seqs.extend(items(&page).iter().filter_map(|e| e["seq"].as_i64()));
            match page["next"].as_str() {
                Some(after) => next = format!("{path}?limit=2&after={after}"),
                None => break,
            }
        }
        assert!(seen_seqs.len() > 4, "{seen_seqs:?}");
        assert!(seen_seqs.windows(2).all(|w| w[0] > w[1]), "{seen_seqs:?}");
        let (status, _) = trail(&world, "service-lead", &format!("{path}?after=abc")).await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        world.service.server.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn the_administrators_view_never_shows_a_safeguarding_row() -> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build(backend).await?;
        let child = world.child.clone();
        raise_and_submit(
            &world,
            "lead",
            json!({"child_id": child}),
            content("no", &["physical"]),
        )
        .await?;
        let submitted = count_as_owner(
            &world.service.db,
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'concern.submitted'",
        )
        .await?;
        assert_eq!(submitted, 1, "the row exists");

        // Not by action, not by child, not at all; and no names or details.
        let (status, page) =
            trail(&world, "admin", "/api/v1/audit?action=concern.submitted").await?;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(items(&page), Vec::<Value>::new());
        assert_eq!(page["categories"], json!(["general"]));
        let mut next = format!("/api/v1/audit?child={child}&limit=200");
        let mut rows = Vec::new();
        for _ in 0..20 {
            let (status, page) = trail(&world, "admin", &next).await?;
            assert_eq!(status, StatusCode::OK, "{page}");
            rows.extend(items(&page));
            match page["next"].as_str() {
                Some(after) => {
                    next = format!("/api/v1/audit?child={child}&limit=200&after={after}")
                }
                None => break,
            }
        }
        assert!(rows.iter().any(|e| e["action"] == "child.created"));
        for row in &rows {
            assert_eq!(row["category"], "general", "{row}");
            assert!(
                !row["action"]
                    .as_str()
                    .unwrap_or_default()
                    .starts_with("concern."),
                "{row}"
            );
            assert!(
                row["actor_name"].is_null() && row["detail"].is_null(),
                "{row}"
            );
            assert_eq!(row["child_id"], child.as_str());
        }
        let (_, everything) = trail(&world, "admin", "/api/v1/audit?limit=200").await?;
        assert!(
            items(&everything)
                .iter()
                .all(|e| e["category"] == "general"),
            "{everything}"
        );
        let text = everything.to_string();
        for name in ["Amelia", "Millie", "Clarke", "lead person"] {
            assert!(!text.contains(name), "{name} in the administrators' view");
        }
        // Reading it is audited (each of the reads above).
        let viewed = count_as_owner(
            &world.service.db,
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'audit.viewed' \
             AND detail = 'administrators'",
        )
        .await?;
        assert!(viewed >= 3, "{viewed}");

        // Nobody else reads it, the service lead and the DSL included (audited).
        for who in ["service-lead", "dsl", "lead", "staff", "supervisor"] {
            let (status, body) = trail(&world, who, "/api/v1/audit").await?;
            assert_eq!(status, StatusCode::FORBIDDEN, "{who}: {body}");
        }
        let refused = count_as_owner(
            &world.service.db,
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'denied' \
             AND detail = 'read audit trail'",
        )
        .await?;
        assert_eq!(refused, 5);
        world.service.server.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn own_activity_holds_only_ones_own_rows() -> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build(backend).await?;
        raise_and_submit(
            &world,
            "lead",
            json!({"child_id": world.child}),
            content("no", &["physical"]),
        )
        .await?;
        let (_, _) = world.child_as("parent-worker").await?;
        for who in ["lead", "parent-worker", "staff"] {
            let (status, page) = trail(&world, who, "/api/v1/me/activity?limit=200").await?;
            assert_eq!(status, StatusCode::OK, "{page}");
            assert!(
                items(&page)
                    .iter()
                    .all(|e| e["actor_id"] == world.ids[who].as_str()),
                "{who}: {page}"
            );
            let seen = actions(&page);
            match who {
                // They did it: their own safeguarding rows are theirs to see.
                "lead" => assert!(seen.contains(&"concern.submitted".to_owned()), "{seen:?}"),
                "parent-worker" => {
                    assert!(seen.contains(&"child.read".to_owned()), "{seen:?}");
                    assert!(!seen.contains(&"concern.submitted".to_owned()), "{seen:?}");
                }
                _ => assert!(!seen.contains(&"child.read".to_owned()), "{seen:?}"),
            }
        }
        world.service.server.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn the_audit_pages_read_in_words_and_refuse_alike() -> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build(backend).await?;
        let child = world.child.clone();
        raise_and_submit(
            &world,
            "lead",
            json!({"child_id": child}),
            content("no", &["physical"]),
        )
        .await?;
        // The service lead's page: words, London times, the safeguarding row.
        let mut lead = Browser::new(&world.service.server);
        sign_in_and_enrol(&mut lead, "service-lead", PASSWORD).await?;
        let page = lead.get(&format!("/children/{child}/audit")).await?;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("Safeguarding concern submitted"));
        assert!(page.body.contains("Child added"));
        assert!(page.body.contains("lead person"));
        let page = lead.get(&format!("/children/{child}")).await?;
        assert!(page.body.contains(&format!("/children/{child}/audit")));
        let page = lead.get("/admin/audit").await?;
        assert_eq!(page.status, 403);
        let page = lead
            .get(&format!("/children/{child}/audit?from=31/02/2026"))
            .await?;
        assert_eq!(page.status, 422);
        let page = lead.get("/account/activity").await?;
        assert_eq!(page.status, 200);
        assert!(page.body.contains("Audit trail read"), "{}", page.body);

        // A therapist on the team: not found.
        let mut therapist = Browser::new(&world.service.server);
        sign_in_and_enrol(&mut therapist, "lead", PASSWORD).await?;
        let page = therapist.get(&format!("/children/{child}/audit")).await?;
        assert_eq!(page.status, 404);
        let page = therapist.get(&format!("/children/{child}")).await?;
        assert!(!page.body.contains(&format!("/children/{child}/audit")));
        world.service.server.stop().await;
    }
    Ok(())
}
