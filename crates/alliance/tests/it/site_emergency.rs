//! Issue 16: a site's emergency procedures and daily cover through the real server on both
//! engines: everyone who works here reads them, administrators write them (at the version
//! read), the shipped defaults stand until then, and the printable sheet holds the site's
//! details, the cover, the contacts and 999, with no child data; printing it is audited.

use crate::children::World;
use crate::count_as_owner;
use crate::disruptions::page;
use alliance_testkit::backends;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn administrators_write_everyone_reads_and_the_sheet_has_no_child_data() -> anyhow::Result<()>
{
    for backend in backends() {
        let world = World::build(backend).await?;
        let (_, sites) = world
            .api("admin", Method::GET, "/api/v1/sites", None)
            .await?;
        let site = sites["items"][0]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let path = format!("/api/v1/sites/{site}/emergency");
        let (status, shipped) = world.api("staff", Method::GET, &path, None).await?;
        assert_eq!(status, StatusCode::OK, "{backend:?} {shipped}");
        assert_eq!(shipped["version"], serde_json::Value::Null);
        assert!(
            shipped["procedures"][4]["text"]
                .as_str()
                .unwrap_or_default()
                .contains("999")
        );
        let plan = json!({
            "procedures": [{"code": "fire", "text": "Assemble on the top field by the gate."}],
            "days": [{"day": "monday", "dsl": {"name": "Mrs Okafor", "contact": "ext 201"},
                "first_aider": {"name": "Mr Hill", "contact": "ext 105"}}],
        });
        for who in ["staff", "service-lead", "lead", "dsl"] {
            let (status, _) = world
                .api(who, Method::PUT, &path, Some(plan.clone()))
                .await?;
            assert_eq!(status, StatusCode::FORBIDDEN, "{who}");
        }
        let (status, problem) = world
            .api(
                "admin",
                Method::PUT,
                &path,
                Some(json!({"days": [{"day": "tuesday",
                "dsl": {"name": "Nobody's contact"}}]})),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        let (status, saved) = world
            .api("admin", Method::PUT, &path, Some(plan.clone()))
            .await?;
        assert_eq!(status, StatusCode::OK, "{saved}");
        assert_eq!(
            saved["procedures"][0]["text"],
            "Assemble on the top field by the gate."
        );
        assert_eq!(saved["days"][0]["dsl"]["name"], "Mrs Okafor");
        // Saved without the version read: refused as changed since.
        let (status, _) = world
            .api("admin", Method::PUT, &path, Some(plan.clone()))
            .await?;
        assert_eq!(status, StatusCode::CONFLICT);
        let mut again = plan.clone();
        again["version"] = saved["version"].clone();
        let (status, _) = world.api("admin", Method::PUT, &path, Some(again)).await?;
        assert_eq!(status, StatusCode::OK);
        let updates = count_as_owner(
            &world.service.db,
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'site-emergency.updated'",
        )
        .await?;
        assert_eq!(updates, 2);

        // The sheet: the site's details, 999, the contacts; no child.
        let (status, sheet) = world
            .api(
                "staff",
                Method::GET,
                &format!("/api/v1/sites/{site}/emergency-sheet"),
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{sheet}");
        assert_eq!(sheet["week"].as_array().map(Vec::len), Some(7));
        let (status, html) =
            page(&world, "staff", &format!("/sites/{site}/emergency-sheet")).await?;
        assert_eq!(status, StatusCode::OK);
        for expected in [
            "999",
            "Oakfield Primary",
            "Emergency duty team: 0113 496 0999",
            "Assemble on the top field by the gate.",
        ] {
            assert!(html.contains(expected), "{expected} missing from the sheet");
        }
        for secret in [
            "Amelia",
            "Millie",
            "Clarke",
            "Larch Close",
            world.child.as_str(),
            world.case.as_str(),
        ] {
            assert!(!html.contains(secret), "{secret} on the sheet");
            assert!(
                !sheet.to_string().contains(secret),
                "{secret} in the sheet's JSON"
            );
        }
        let printed = count_as_owner(
            &world.service.db,
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'emergency-sheet.printed'",
        )
        .await?;
        assert_eq!(printed, 2);
        let (status, html) = page(&world, "lead", &format!("/sites/{site}/emergency")).await?;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("Mrs Okafor, ext 201"));
    }
    Ok(())
}
