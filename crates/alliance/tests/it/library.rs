//! The explanation library through the real server on both engines: the fifty default texts
//! as drafts, versions (a forbidden statement saved as a draft but never published, a clean
//! one published and in use, every version kept), review by a named clinician, who may write
//! (from the denied side), the configured targets, and the live measure.

use crate::children::World;
use crate::count_as_owner;
use alliance_testkit::backends;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const TEXT: &str = "/api/v1/library/limits-of-confidentiality/12-15";

/// A clean text for the limits of confidentiality: every idea, no forbidden statement.
const CLEAN: &str = "Most of what you tell me stays private. But if I think you might be \
hurt or in danger, I have to tell someone whose job is to keep you safe. I will try to talk \
with you first. I will only tell the people who need to know.";

fn item<'a>(list: &'a Value, topic: &str, audience: &str) -> &'a Value {
    list["items"]
        .as_array()
        .and_then(|items| {
            items
                .iter()
                .find(|t| t["topic"] == topic && t["audience"] == audience)
        })
        .unwrap_or(&Value::Null)
}

#[tokio::test]
async fn the_library_versions_review_and_publication() -> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build(backend).await?;

        // Fifty texts, every one the Alliance default and a draft until reviewed.
        let (status, list) = world
            .api("staff", Method::GET, "/api/v1/library", None)
            .await?;
        assert_eq!(status, StatusCode::OK, "{list}");
        let items = list["items"].as_array().cloned().unwrap_or_default();
        assert_eq!(items.len(), 50);
        for t in &items {
            assert_eq!(t["is_default"], true, "{t}");
            assert_eq!(t["review"]["state"], "draft", "{t}");
            assert_eq!(
                t["review"]["label"], "Draft until reviewed by a named clinician",
                "{t}"
            );
            assert_eq!(t["readability"]["above_target"], false, "{t}");
            assert!(
                t["check"]["forbidden"]
                    .as_array()
                    .is_some_and(Vec::is_empty)
            );
        }

        // A therapist writes a version that says what no text about this may say: saved,
        // as a draft, with the failure named.
        let bad = format!("{CLEAN} Do not worry: it stays between us.");
        let (status, created) = world
            .api(
                "lead",
                Method::POST,
                &format!("{TEXT}/versions"),
                Some(json!({"title": "When I have to tell", "body": bad})),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        assert_eq!(created["number"], 1);
        assert_eq!(created["review_state"], "draft");
        assert_eq!(created["check"]["forbidden"], json!(["between us"]));
        let bad_id = created["id"].as_str().unwrap_or_default().to_owned();

        // Publishing it is refused, naming the phrase; nothing changes.
        let (status, problem) = world
            .api(
                "admin",
                Method::POST,
                &format!("{TEXT}/versions/{bad_id}/publish"),
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert!(problem.to_string().contains("between us"), "{problem}");

        // Staff may read but not write, review or publish; each refusal is audited.
        let denied_before = count_as_owner(
            &world.service.db,
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'denied' \
             AND record_type = 'explanation'",
        )
        .await?;
        let (status, _) = world
            .api(
                "staff",
                Method::POST,
                &format!("{TEXT}/versions"),
                Some(json!({"title": "Mine", "body": CLEAN})),
            )
            .await?;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = world
            .api(
                "staff",
                Method::POST,
                &format!("{TEXT}/review"),
                Some(json!({})),
            )
            .await?;
        assert_eq!(status, StatusCode::FORBIDDEN);
        // Administrators publish but do not write or review texts; therapists do not publish.
        let (status, _) = world
            .api(
                "admin",
                Method::POST,
                &format!("{TEXT}/versions"),
                Some(json!({"title": "Mine", "body": CLEAN})),
            )
            .await?;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = world
            .api(
                "lead",
                Method::POST,
                &format!("{TEXT}/versions/{bad_id}/publish"),
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let denied_after = count_as_owner(
            &world.service.db,
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'denied' \
             AND record_type = 'explanation'",
        )
        .await?;
        assert_eq!(denied_after - denied_before, 4);

        // A clean version, published by the service lead, is the text in use.
        let (status, created) = world
            .api(
                "lead",
                Method::POST,
                &format!("{TEXT}/versions"),
                Some(json!({"title": "When I have to tell someone", "body": CLEAN})),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        assert_eq!(created["number"], 2);
        assert_eq!(
            created["check"],
            json!({"missing_ideas": [], "forbidden": []})
        );
        let clean_id = created["id"].as_str().unwrap_or_default().to_owned();
        let (status, published) = world
            .api(
                "service-lead",
                Method::POST,
                &format!("{TEXT}/versions/{clean_id}/publish"),
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{published}");
        let (status, detail) = world.api("staff", Method::GET, TEXT, None).await?;
        assert_eq!(status, StatusCode::OK, "{detail}");
        assert_eq!(detail["text"]["version"], clean_id.as_str());
        assert_eq!(detail["text"]["is_default"], false);
        assert_eq!(detail["text"]["body"], CLEAN);
        assert_eq!(detail["text"]["review"]["state"], "draft");
        // Under 100 words: the figures carry the warning.
        assert_eq!(detail["text"]["readability"]["too_short_to_measure"], true);
        // Every version kept, newest first; the refused one still there and still a draft.
        let versions = detail["versions"].as_array().cloned().unwrap_or_default();
        assert_eq!(versions.len(), 2);
        assert_eq!(versions[0]["id"], clean_id.as_str());
        assert_eq!(versions[0]["published"], true);
        assert_eq!(versions[1]["id"], bad_id.as_str());
        assert_eq!(versions[1]["published"], false);
        assert_eq!(versions[1]["check"]["forbidden"], json!(["between us"]));

        // A therapist reviews it: their name is recorded and shown.
        let (status, reviewed) = world
            .api(
                "lead",
                Method::POST,
                &format!("{TEXT}/review"),
                Some(json!({"version": clean_id})),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{reviewed}");
        let (_, detail) = world.api("staff", Method::GET, TEXT, None).await?;
        assert_eq!(detail["text"]["review"]["state"], "reviewed");
        let reviewer = detail["text"]["review"]["reviewed_by"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(!reviewer.is_empty(), "{detail}");
        assert_eq!(
            detail["text"]["review"]["label"],
            format!("Reviewed by {reviewer}")
        );
        // Reviewed once only.
        let (status, _) = world
            .api(
                "supervisor",
                Method::POST,
                &format!("{TEXT}/review"),
                Some(json!({"version": clean_id})),
            )
            .await?;
        assert_eq!(status, StatusCode::CONFLICT);

        // A supervisor reviews a default: a reviewed copy, and the library says so.
        let (status, copy) = world
            .api(
                "supervisor",
                Method::POST,
                "/api/v1/library/what-therapy-is/3-7/review",
                Some(json!({})),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{copy}");
        assert_eq!(copy["review_state"], "reviewed");
        let (_, list) = world
            .api("staff", Method::GET, "/api/v1/library", None)
            .await?;
        let text = item(&list, "what-therapy-is", "3-7");
        assert_eq!(text["review"]["state"], "reviewed", "{text}");
        assert!(
            text["review"]["label"]
                .as_str()
                .is_some_and(|l| l.starts_with("Reviewed by ")),
            "{text}"
        );
        assert_eq!(
            item(&list, "what-therapy-is", "8-11")["review"]["state"],
            "draft"
        );

        // The stored versions and the audit trail: three versions, each audited.
        let stored = count_as_owner(
            &world.service.db,
            "SELECT COUNT(*) AS n FROM explanation_versions",
        )
        .await?;
        assert_eq!(stored, 3);
        for (action, n) in [
            ("explanation.version-created", 3),
            ("explanation.reviewed", 2),
            ("explanation.published", 1),
        ] {
            let count = count_as_owner(
                &world.service.db,
                &format!("SELECT COUNT(*) AS n FROM audit_log WHERE action = '{action}'"),
            )
            .await?;
            assert_eq!(count, n, "{action}");
        }
    }
    Ok(())
}

#[tokio::test]
async fn the_targets_are_configured_and_the_measure_shows_the_figures() -> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build(backend).await?;

        // The defaults: each band's youngest reader, offset 5.
        let (status, config) = world
            .api("staff", Method::GET, "/api/v1/service/readability", None)
            .await?;
        assert_eq!(status, StatusCode::OK, "{config}");
        assert_eq!(config["reading_age_offset"], 5.0);
        assert_eq!(config["targets"]["3-7"], 6.0);
        assert_eq!(config["targets"]["parents"], 9.0);
        assert_eq!(config["version"], Value::Null);

        // The measure: a long, complicated sentence is flagged for the youngest band.
        let hard = "Notwithstanding the considerable organisational complexities inherent in \
            multidisciplinary safeguarding arrangements, practitioners must communicate \
            confidentiality limitations comprehensively and appropriately.";
        let (status, figures) = world
            .api(
                "staff",
                Method::POST,
                "/api/v1/library/measure",
                Some(json!({"body": hard, "audience": "8-11"})),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{figures}");
        assert_eq!(figures["words"], 18);
        assert_eq!(figures["sentences"], 1);
        assert_eq!(figures["target"], 8.0);
        assert_eq!(figures["above_target"], true);
        assert_eq!(figures["too_short_to_measure"], true);
        let grade = figures["flesch_kincaid_grade"].as_f64().unwrap_or_default();
        let age = figures["reading_age"].as_f64().unwrap_or_default();
        assert!((age - grade - 5.0).abs() < 1e-9, "{figures}");
        assert_eq!(figures["longest_sentences"][0][1], 18);
        assert!(
            figures["hardest_words"]
                .as_array()
                .is_some_and(|w| w.len() == 5),
            "{figures}"
        );
        // Not measured: no figures, no flag.
        let (_, figures) = world
            .api(
                "staff",
                Method::POST,
                "/api/v1/library/measure",
                Some(json!({"body": hard, "audience": "8-11", "measured": false})),
            )
            .await?;
        assert_eq!(figures["measured"], false);
        assert_eq!(figures["above_target"], false);
        assert_eq!(figures["words"], Value::Null);
        // An unknown audience is named.
        let (status, problem) = world
            .api(
                "staff",
                Method::POST,
                "/api/v1/library/measure",
                Some(json!({"body": hard, "audience": "adults"})),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");

        // Find a default text whose reading age is above 6: lowering the target under it
        // flips the flag; staff may not change the targets.
        let (_, list) = world
            .api("staff", Method::GET, "/api/v1/library", None)
            .await?;
        let text = item(&list, "records-and-your-rights", "parents").clone();
        let age = text["readability"]["reading_age"].as_f64().unwrap_or(0.0);
        assert!(age > 4.0, "{text}");
        assert_eq!(text["readability"]["above_target"], false);
        let lower = json!({"reading_age_offset": 5.0, "targets": {"parents": 3.0}});
        let (status, _) = world
            .api(
                "staff",
                Method::PUT,
                "/api/v1/service/readability",
                Some(lower.clone()),
            )
            .await?;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, saved) = world
            .api(
                "admin",
                Method::PUT,
                "/api/v1/service/readability",
                Some(lower),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{saved}");
        assert_eq!(saved["targets"]["parents"], 3.0);
        assert_eq!(saved["targets"]["3-7"], 6.0);
        assert_eq!(saved["version"], 1);
        let (_, list) = world
            .api("staff", Method::GET, "/api/v1/library", None)
            .await?;
        let text = item(&list, "records-and-your-rights", "parents");
        assert_eq!(text["readability"]["target"], 3.0);
        assert_eq!(text["readability"]["above_target"], true, "{text}");
        // The offset moves the reading age with it.
        let (status, saved) = world
            .api(
                "admin",
                Method::PUT,
                "/api/v1/service/readability",
                Some(json!({"reading_age_offset": 6.0, "targets": {}, "version": 1})),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{saved}");
        let (_, list) = world
            .api("staff", Method::GET, "/api/v1/library", None)
            .await?;
        let moved = item(&list, "records-and-your-rights", "parents")["readability"]["reading_age"]
            .as_f64()
            .unwrap_or(0.0);
        assert!((moved - age - 1.0).abs() < 1e-9, "{moved} {age}");
        // Out of bounds, or stale: refused.
        let (status, _) = world
            .api(
                "admin",
                Method::PUT,
                "/api/v1/service/readability",
                Some(json!({"reading_age_offset": 30.0, "targets": {}, "version": 2})),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let (status, _) = world
            .api(
                "admin",
                Method::PUT,
                "/api/v1/service/readability",
                Some(json!({"reading_age_offset": 5.0, "targets": {}, "version": 1})),
            )
            .await?;
        assert_eq!(status, StatusCode::CONFLICT);
    }
    Ok(())
}
