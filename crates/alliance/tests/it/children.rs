//! Children, carers, cases and sites through the real server on both engines: the access
//! matrix of policy section 1 tried from the denied side, cell by cell; validation; the case
//! rules; the outbound rule as the API answers it; and that refusals are audited.

use crate::accounts::Service;
use crate::count_as_owner;
use alliance_testkit::backends;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A service with a school, a child with a restricted carer and an open case, and one person
/// in each position around the child.
pub(crate) struct World {
    pub(crate) service: Service,
    pub(crate) child: String,
    pub(crate) carer: String,
    pub(crate) case: String,
    /// Tokens by person: lead, parent-worker, other therapist, supervisor (of the lead),
    /// other supervisor, DSL, service lead, staff, administrator.
    pub(crate) tokens: std::collections::HashMap<&'static str, String>,
    pub(crate) ids: std::collections::HashMap<&'static str, String>,
}

impl World {
    pub(crate) async fn api(
        &self,
        who: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let token = self
            .tokens
            .get(who)
            .cloned()
            .unwrap_or_else(|| self.service.admin_token.clone());
        self.service.api(method, path, &token, body).await
    }

    pub(crate) async fn build(backend: alliance_testkit::Backend) -> anyhow::Result<Self> {
        Self::build_with(backend, &[]).await
    }

    /// The world, its server started with extra `serve` options.
    pub(crate) async fn build_with(
        backend: alliance_testkit::Backend,
        serve: &[&str],
    ) -> anyhow::Result<Self> {
        let service = Service::start_with(backend, serve).await?;
        // The service's details, as the Service page's first save makes them.
        let (status, body) = service
            .api(
                Method::PUT,
                "/api/v1/service",
                &service.admin_token,
                Some(json!({"version": 1, "name": "Riverside Play Therapy", "nation": "england"})),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{body}");
        let mut tokens = std::collections::HashMap::new();
        let mut ids = std::collections::HashMap::new();
        for (who, roles) in [
            ("lead", vec!["therapist"]),
            ("parent-worker", vec!["therapist"]),
            ("other-therapist", vec!["therapist"]),
            ("supervisor", vec!["supervisor"]),
            ("other-supervisor", vec!["supervisor"]),
            ("dsl", vec!["dsl"]),
            ("service-lead", vec!["service-lead"]),
            ("staff", vec!["staff"]),
        ] {
            let user = service.add_user(who, &roles).await?;
            ids.insert(who, user["id"].as_str().unwrap_or_default().to_owned());
            tokens.insert(who, service.token_for(who, "read-write").await?);
        }
        tokens.insert("admin", service.admin_token.clone());
        let admin = service.admin_token.clone();
        for (supervisor, supervisee) in [
            ("supervisor", "lead"),
            ("other-supervisor", "other-therapist"),
        ] {
            let (status, body) = service
                .api(
                    Method::PUT,
                    &format!("/api/v1/users/{}/supervisees", ids[supervisor]),
                    &admin,
                    Some(json!({"supervisees": [ids[supervisee]]})),
                )
                .await?;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        let (status, site) = service
            .api(
                Method::POST,
                "/api/v1/sites",
                &admin,
                Some(json!({"name": "Oakfield Primary", "kind": "school",
                    "school_dsl_name": "Mrs Okafor", "school_dsl_contact": "0113 496 0123",
                    "out_of_hours": "Emergency duty team: 0113 496 0999"})),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{site}");
        let (status, child) = service
            .api(
                Method::POST,
                "/api/v1/children",
                &admin,
                Some(
                    json!({"legal_name": "Amelia Rose Clarke", "preferred_name": "Millie",
                    "date_of_birth": "2016-03-14", "sex": "female", "nhs_number": "943 476 5919",
                    "school_site": site["id"], "year_group": "year-5",
                    "address": "12 Larch Close\nLeeds"}),
                ),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{child}");
        let child_id = child["id"].as_str().unwrap_or_default().to_owned();
        let (status, carer) = service
            .api(
                Method::POST,
                &format!("/api/v1/children/{child_id}/carers"),
                &admin,
                Some(json!({"name": "Sam Clarke", "relationship": "Father",
                    "parental_responsibility": "parent", "may_contact": true,
                    "restrictions": [{"kind": "no-location-or-times", "source": "court-order",
                        "dated": "2025-05-12", "reference": "Prohibited steps order"}]})),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{carer}");
        let (status, record) = service
            .api(
                Method::POST,
                &format!("/api/v1/children/{child_id}/cases"),
                &admin,
                Some(
                    json!({"referral_source": "school", "referral_received": "2026-09-10",
                    "lead": ids["lead"]}),
                ),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{record}");
        let case = record["cases"][0].clone();
        let case_id = case["id"].as_str().unwrap_or_default().to_owned();
        let (status, record) = service
            .api(
                Method::POST,
                &format!("/api/v1/cases/{case_id}/team"),
                &admin,
                Some(json!({"version": case["version"], "action": "add",
                    "user": ids["parent-worker"], "role": "parent-worker",
                    "starts_on": "2026-09-10"})),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{record}");
        Ok(Self {
            service,
            child: child_id,
            carer: carer["id"].as_str().unwrap_or_default().to_owned(),
            case: case_id,
            tokens,
            ids,
        })
    }

    pub(crate) async fn child_as(&self, who: &str) -> anyhow::Result<(StatusCode, Value)> {
        self.api(
            who,
            Method::GET,
            &format!("/api/v1/children/{}", self.child),
            None,
        )
        .await
    }

    async fn listed_for(&self, who: &str) -> anyhow::Result<Vec<Value>> {
        let (status, page) = self.api(who, Method::GET, "/api/v1/children", None).await?;
        assert_eq!(status, StatusCode::OK, "{who}: {page}");
        Ok(page["items"].as_array().cloned().unwrap_or_default())
    }

    async fn denied_count(&self) -> anyhow::Result<i64> {
        count_as_owner(
            &self.service.db,
            &format!(
                "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'denied' AND child_id = '{}'",
                self.child
            ),
        )
        .await
    }
}

#[tokio::test]
async fn the_access_matrix_holds_from_the_denied_side() -> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build(backend).await?;
        let child = world.child.clone();

        // The lead writes the referral reason; an administrator may not.
        let (_, record) = world.child_as("lead").await?;
        let version = record["cases"][0]["version"].clone();
        let case_path = format!("/api/v1/cases/{}", world.case);
        let reason = "Anxiety about school since a family bereavement";
        let (status, problem) = world
            .api(
                "admin",
                Method::PUT,
                &case_path,
                Some(json!({"version": version, "referral_source": "school",
                    "referral_received": "2026-09-10", "referral_reason": "typed by admin"})),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["errors"][0]["field"], "referral_reason");
        let (status, record) = world
            .api(
                "lead",
                Method::PUT,
                &case_path,
                Some(json!({"version": version, "referral_source": "school",
                    "referral_received": "2026-09-10", "first_seen": "2026-09-17",
                    "referral_reason": reason})),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{record}");
        assert_eq!(record["cases"][0]["referral_reason"], reason);
        assert_eq!(record["cases"][0]["status"], "active");

        // Who sees the child, and how.
        for (who, sees_names, sees_reason, writes_identity) in [
            ("lead", true, true, true),
            ("parent-worker", true, true, false),
            ("dsl", true, true, false),
            ("service-lead", true, true, false),
            ("admin", true, false, true),
            ("supervisor", false, true, false),
        ] {
            let (status, record) = world.child_as(who).await?;
            assert_eq!(status, StatusCode::OK, "{backend:?} {who}: {record}");
            assert_eq!(!record["details"].is_null(), sees_names, "{who} names");
            assert_eq!(
                record["cases"][0]["referral_reason"] == reason,
                sees_reason,
                "{who} referral reason: {record}"
            );
            assert_eq!(
                record["access"]["identity"] == "write",
                writes_identity,
                "{who} identity access"
            );
            if !sees_names {
                assert_eq!(record["initials"], "ARC");
                assert_eq!(record["carers"], json!([]), "{who} carers");
                let text = record.to_string();
                assert!(
                    !text.contains("Amelia") && !text.contains("Millie"),
                    "{who}: {text}"
                );
            }
            let listed = world.listed_for(who).await?;
            assert_eq!(listed.len(), 1, "{who} lists the child");
            assert_eq!(
                listed[0]["known_as"].is_string(),
                sees_names,
                "{who}: {listed:?}"
            );
        }

        // Nobody else: not in the list, not by id, not through carers, not by writing.
        let before = world.denied_count().await?;
        let mut refusals = 0;
        for who in ["other-therapist", "other-supervisor", "staff"] {
            assert!(
                world.listed_for(who).await?.is_empty(),
                "{who} lists nothing"
            );
            let (status, _) = world.child_as(who).await?;
            assert_eq!(
                status,
                StatusCode::NOT_FOUND,
                "{backend:?} {who} reads the child"
            );
            let (status, _) = world
                .api(
                    who,
                    Method::GET,
                    &format!("/api/v1/carers/{}", world.carer),
                    None,
                )
                .await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who} reads the carer");
            let (status, _) = world
                .api(
                    who,
                    Method::GET,
                    &format!("/api/v1/carers/{}/outbound?item=handout", world.carer),
                    None,
                )
                .await?;
            assert_eq!(
                status,
                StatusCode::NOT_FOUND,
                "{who} asks the outbound rule"
            );
            let (status, _) = world
                .api(
                    who,
                    Method::PUT,
                    &format!("/api/v1/children/{child}"),
                    Some(json!({"version": 1, "legal_name": "X", "date_of_birth": "2016-03-14", "sex": "female"})),
                )
                .await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who} writes the child");
            let (status, _) = world
                .api(
                    who,
                    Method::POST,
                    &format!("/api/v1/children/{child}/carers"),
                    Some(json!({"name": "Someone", "relationship": "Aunt"})),
                )
                .await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who} adds a carer");
            let (status, _) = world
                .api(who, Method::PUT, &case_path, Some(json!({"version": 1, "referral_source": "gp", "referral_received": "2026-09-10"})))
                .await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who} changes the case");
            refusals += 6;
        }
        // The child's readers who may not write are refused with a reason, and audited too.
        for who in ["parent-worker", "dsl", "service-lead", "supervisor"] {
            let (status, problem) = world
                .api(
                    who,
                    Method::POST,
                    &format!("/api/v1/children/{child}/carers"),
                    Some(json!({"name": "Someone", "relationship": "Aunt"})),
                )
                .await?;
            assert_eq!(
                status,
                StatusCode::FORBIDDEN,
                "{who} adds a carer: {problem}"
            );
            refusals += 1;
        }
        // A parent-worker does not change the case; an administrator does not close it.
        let (status, _) = world
            .api("parent-worker", Method::PUT, &case_path, Some(json!({"version": 1, "referral_source": "gp", "referral_received": "2026-09-10"})))
            .await?;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, problem) = world
            .api(
                "admin",
                Method::POST,
                &format!("{case_path}/close"),
                Some(json!({"version": 1, "closed_on": "2026-11-01", "reason": "planned-ending", "summary": "Done"})),
            )
            .await?;
        assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
        refusals += 2;
        // Staff may not add children; nor may the lead therapist (intake is administrative).
        for who in ["staff", "lead", "dsl"] {
            let (status, _) = world
                .api(who, Method::POST, "/api/v1/children", Some(json!({"legal_name": "New Child", "date_of_birth": "2015-01-01", "sex": "male"})))
                .await?;
            assert_eq!(status, StatusCode::FORBIDDEN, "{who} adds a child");
        }
        let after = world.denied_count().await?;
        assert!(
            after - before >= refusals,
            "{backend:?}: {refusals} refusals about the child, {} audited",
            after - before
        );
        // Named access, enabled for this supervision relationship, shows the names.
        let (status, body) = world
            .api(
                "admin",
                Method::PUT,
                &format!("/api/v1/users/{}/supervisees", world.ids["supervisor"]),
                Some(json!({"supervisees": [world.ids["lead"]], "named": [world.ids["lead"]]})),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (_, record) = world.child_as("supervisor").await?;
        assert_eq!(record["details"]["preferred_name"], "Millie", "{record}");
        assert_eq!(record["access"]["identity"], "read");
        let (status, _) = world
            .api(
                "admin",
                Method::PUT,
                &format!("/api/v1/users/{}/supervisees", world.ids["supervisor"]),
                Some(json!({"supervisees": [], "named": [world.ids["lead"]]})),
            )
            .await?;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "named access without supervision"
        );
        // A read-only token reads but never writes.
        let reader = world.service.token_for("lead", "read").await?;
        let (status, record) = world
            .service
            .api(
                Method::GET,
                &format!("/api/v1/children/{child}"),
                &reader,
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = world
            .service
            .api(
                Method::PUT,
                &format!("/api/v1/children/{child}"),
                &reader,
                Some(
                    json!({"version": record["version"], "legal_name": "Amelia Rose Clarke",
                    "date_of_birth": "2016-03-14", "sex": "female"}),
                ),
            )
            .await?;
        assert_eq!(status, StatusCode::FORBIDDEN);
        world.service.server.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn cases_transfer_close_and_reopen_by_the_rules() -> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build(backend).await?;
        let child = world.child.clone();
        let case_path = format!("/api/v1/cases/{}", world.case);
        let (_, record) = world.child_as("lead").await?;
        let version = record["cases"][0]["version"].clone();

        // A second open case is refused while one is open.
        let (status, problem) = world
            .api(
                "admin",
                Method::POST,
                &format!("/api/v1/children/{child}/cases"),
                Some(json!({"referral_source": "gp", "referral_received": "2026-10-01"})),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");

        // A stale version is refused, never merged.
        let (status, _) = world
            .api(
                "lead",
                Method::POST,
                &format!("{case_path}/close"),
                Some(json!({"version": 999, "closed_on": "2026-11-01", "reason": "planned-ending", "summary": "Done"})),
            )
            .await?;
        assert_eq!(status, StatusCode::CONFLICT);

        // Transfer to the other therapist from today: the old lead loses the child.
        let today = jiff::Timestamp::now()
            .to_zoned_datetime(jiff::tz::TimeZone::get("Europe/London")?)
            .date()
            .to_string();
        let (status, record) = world
            .api(
                "admin",
                Method::POST,
                &format!("{case_path}/team"),
                Some(json!({"version": version, "action": "transfer",
                    "to": world.ids["other-therapist"], "on": today})),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{record}");
        let (status, _) = world.child_as("lead").await?;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "{backend:?}: the old lead still reads"
        );
        let (status, record) = world.child_as("other-therapist").await?;
        assert_eq!(status, StatusCode::OK);
        // Now the other supervisor supervises the lead, and the first one sees nothing.
        let (status, _) = world.child_as("other-supervisor").await?;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = world.child_as("supervisor").await?;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // The new lead closes with a summary; the service lead never sees the summary.
        let version = record["cases"][0]["version"].clone();
        let (status, problem) = world
            .api(
                "other-therapist",
                Method::POST,
                &format!("{case_path}/close"),
                Some(json!({"version": version, "closed_on": today, "reason": "planned-ending", "summary": " "})),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem["errors"][0]["field"], "summary");
        let summary = "Twelve sessions; Millie can name her worries now.";
        let (status, record) = world
            .api(
                "other-therapist",
                Method::POST,
                &format!("{case_path}/close"),
                Some(json!({"version": version, "closed_on": today, "reason": "planned-ending", "summary": summary})),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{record}");
        assert_eq!(record["cases"][0]["status"], "closed");
        assert_eq!(record["cases"][0]["closing_summary"], summary);
        assert_eq!(
            record["cases"][0]["may_edit"], false,
            "a closed case is read-only to its team"
        );
        let (_, record) = world.child_as("service-lead").await?;
        assert!(record["cases"][0]["closing_summary"].is_null(), "{record}");
        let (_, record) = world.child_as("admin").await?;
        assert!(record["cases"][0]["closing_summary"].is_null());

        // A re-referral opens a new case, numbered after the first; the earlier one stays.
        let (status, record) = world
            .api(
                "admin",
                Method::POST,
                &format!("/api/v1/children/{child}/cases"),
                Some(
                    json!({"referral_source": "parent-or-carer", "referral_received": today,
                    "lead": world.ids["lead"]}),
                ),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{record}");
        let cases = record["cases"].as_array().cloned().unwrap_or_default();
        assert_eq!(cases.len(), 2);
        assert_eq!(cases[0]["number"], "C00002");
        assert_eq!(cases[1]["number"], "C00001");
        // The new lead reads the earlier case, read-only; the earlier lead now does not.
        let (status, record) = world.child_as("lead").await?;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(record["cases"][1]["may_edit"], false);
        assert_eq!(record["cases"][1]["closing_summary"], summary);
        let (status, _) = world.child_as("other-therapist").await?;
        assert_eq!(status, StatusCode::NOT_FOUND);
        world.service.server.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn bad_input_is_refused_field_by_field_and_nothing_is_kept() -> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build(backend).await?;
        let (status, problem) = world
            .api(
                "admin",
                Method::POST,
                "/api/v1/children",
                Some(
                    json!({"legal_name": "Future Child", "date_of_birth": "2099-01-01",
                    "sex": "female", "nhs_number": "943 476 5918", "upn": "B123456789012"}),
                ),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .map(|e| e.iter().filter_map(|f| f["field"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(fields, ["date_of_birth", "nhs_number", "upn"], "{problem}");
        let (status, problem) = world
            .api(
                "admin",
                Method::POST,
                "/api/v1/children",
                Some(
                    json!({"legal_name": "Grown Up", "date_of_birth": "1990-01-01", "sex": "male"}),
                ),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem["errors"][0]["field"], "date_of_birth");
        let (status, problem) = world
            .api(
                "admin",
                Method::POST,
                "/api/v1/children",
                Some(json!({"legal_name": "Odd Field", "date_of_birth": "2015-01-01", "sex": "male", "favourite_colour": "red"})),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert!(
            problem.to_string().contains("favourite_colour"),
            "{problem}"
        );
        // The same NHS number twice is refused.
        let (status, problem) = world
            .api(
                "admin",
                Method::POST,
                "/api/v1/children",
                Some(json!({"legal_name": "Another Child", "date_of_birth": "2015-01-01", "sex": "male", "nhs_number": "9434765919"})),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem["errors"][0]["field"], "nhs_number");
        // Only the first child is stored.
        assert_eq!(world.listed_for("admin").await?.len(), 1);
        let rows = count_as_owner(&world.service.db, "SELECT COUNT(*) AS n FROM children").await?;
        assert_eq!(rows, 1, "{backend:?}");
        // Nothing readable is stored: the child's name is only in sealed form.
        let plain = count_as_owner(
            &world.service.db,
            "SELECT COUNT(*) AS n FROM children WHERE id LIKE '%Amelia%'",
        )
        .await?;
        assert_eq!(plain, 0);
        world.service.server.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn the_outbound_rule_answers_for_each_carer() -> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build(backend).await?;
        let ask = |item: &str| format!("/api/v1/carers/{}/outbound?item={item}", world.carer);
        let (status, answer) = world
            .api("lead", Method::GET, &ask("schedule-letter"), None)
            .await?;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(answer["allowed"], false);
        assert_eq!(answer["reason"], "restricted");
        let (_, answer) = world
            .api("lead", Method::GET, &ask("handout"), None)
            .await?;
        assert_eq!(answer["allowed"], true, "{answer}");
        let (status, problem) = world
            .api("lead", Method::GET, &ask("everything"), None)
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        // The young person consents for themselves and agrees to nothing: nothing goes.
        let (_, record) = world.child_as("lead").await?;
        let details = record["details"].clone();
        let body = json!({"version": record["version"], "legal_name": details["legal_name"],
            "preferred_name": details["preferred_name"], "date_of_birth": details["date_of_birth"],
            "sex": details["sex"], "consents_for_self": true, "carers_may_be_told": []});
        let (status, updated) = world
            .api(
                "lead",
                Method::PUT,
                &format!("/api/v1/children/{}", world.child),
                Some(body),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{updated}");
        let (_, answer) = world
            .api("lead", Method::GET, &ask("handout"), None)
            .await?;
        assert_eq!(answer["allowed"], false);
        assert_eq!(answer["reason"], "young-person-has-not-agreed");
        world.service.server.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn sites_and_rooms_are_read_by_all_and_changed_by_administrators() -> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build(backend).await?;
        let (status, sites) = world
            .api("staff", Method::GET, "/api/v1/sites", None)
            .await?;
        assert_eq!(status, StatusCode::OK);
        let site = sites["items"][0].clone();
        let site_id = site["id"].as_str().unwrap_or_default().to_owned();
        let (status, room) = world
            .api(
                "admin",
                Method::POST,
                &format!("/api/v1/sites/{site_id}/rooms"),
                Some(json!({"name": "Willow Room", "capacity": 4, "step_free": true})),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{room}");
        for who in ["lead", "dsl", "staff", "service-lead"] {
            let (status, _) = world
                .api(
                    who,
                    Method::POST,
                    &format!("/api/v1/sites/{site_id}/rooms"),
                    Some(json!({"name": "Another", "capacity": 2, "step_free": false})),
                )
                .await?;
            assert_eq!(status, StatusCode::FORBIDDEN, "{who} adds a room");
        }
        let (status, problem) = world
            .api(
                "admin",
                Method::POST,
                &format!("/api/v1/sites/{site_id}/rooms"),
                Some(json!({"name": "Willow Room", "capacity": 0, "step_free": false})),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem["errors"][0]["field"], "capacity");
        let room_id = room["id"].as_str().unwrap_or_default();
        let (status, _) = world
            .api(
                "admin",
                Method::PUT,
                &format!("/api/v1/rooms/{room_id}"),
                Some(json!({"version": 7, "name": "Willow Room", "capacity": 5, "step_free": true, "active": true})),
            )
            .await?;
        assert_eq!(status, StatusCode::CONFLICT);
        let (status, problem) = world
            .api(
                "admin",
                Method::POST,
                "/api/v1/sites",
                Some(json!({"name": "Hillside Clinic", "kind": "clinic", "school_dsl_name": "Mr Lee"})),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem["errors"][0]["field"], "school_dsl_name");
        world.service.server.stop().await;
    }
    Ok(())
}
