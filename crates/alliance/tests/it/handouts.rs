//! Handouts from the explanation library for one child, through the real server on both
//! engines: the PDF's text read back with pdftotext (poppler), the child's preferred name only
//! where the recipient may know it, a carer who may not be contacted refused, and the child's
//! gate from the denied side.

use crate::children::World;
use crate::pdf::pdf_text;
use alliance_testkit::backends;
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn get_pdf(world: &World, who: &str, path: &str) -> anyhow::Result<(StatusCode, Vec<u8>)> {
    let response = world
        .service
        .server
        .client
        .get(world.service.server.url(path))
        .bearer_auth(&world.tokens[who])
        .send()
        .await?;
    Ok((response.status(), response.bytes().await?.to_vec()))
}

#[tokio::test]
async fn a_childs_handouts_print_with_the_right_name_and_only_to_those_who_may_have_them()
-> anyhow::Result<()> {
    let library = alliance_core::explanations::default_library().map_err(anyhow::Error::msg)?;
    let limits = library
        .iter()
        .find(|t| t.code == "limits-of-confidentiality")
        .and_then(|t| t.texts.iter().find(|x| x.audience.code() == "8-11"))
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("no default text"))?;
    for backend in backends() {
        let world = World::build(backend).await?;
        let base = format!(
            "/api/v1/children/{}/handouts/pdf?topics=limits-of-confidentiality&topics=ground-rules&audience=8-11",
            world.child
        );
        // The child's own copy: both topics, the preferred name, the default's review state.
        let (status, bytes) = get_pdf(&world, "lead", &format!("{base}&copy_for=child")).await?;
        assert_eq!(status, StatusCode::OK);
        let text = pdf_text(&bytes).await?;
        assert!(text.contains("For Millie"), "{text}");
        assert!(text.contains(&limits.title), "{text}");
        let first_sentence = limits
            .body
            .split_whitespace()
            .take(6)
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            text.contains(&first_sentence),
            "{first_sentence:?} not in {text}"
        );
        assert!(
            text.contains("Draft until reviewed by a named clinician"),
            "{text}"
        );

        // Carers' copies wait for an active therapy agreement (issue 11).
        crate::agreements::make_active(&world).await?;

        // A carer under a restriction on the preferred name gets the legal name.
        let (status, carer) = world
            .api(
                "admin",
                Method::POST,
                &format!("/api/v1/children/{}/carers", world.child),
                Some(json!({"name": "Pat Clarke", "relationship": "Grandparent",
                    "parental_responsibility": "other", "may_contact": true,
                    "restrictions": [{"kind": "no-preferred-name-or-pronouns",
                        "source": "safeguarding-decision", "dated": "2026-01-05"}]})),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{carer}");
        let pat = carer["id"].as_str().unwrap_or_default().to_owned();
        let (status, bytes) = get_pdf(&world, "lead", &format!("{base}&copy_for={pat}")).await?;
        assert_eq!(status, StatusCode::OK);
        let text = pdf_text(&bytes).await?;
        assert!(text.contains("For Amelia Rose Clarke"), "{text}");
        assert!(!text.contains("Millie"), "{text}");

        // A carer who may not be contacted: refused, with the reason.
        let (status, carer) = world
            .api(
                "admin",
                Method::POST,
                &format!("/api/v1/children/{}/carers", world.child),
                Some(json!({"name": "Lee Clarke", "relationship": "Uncle",
                    "may_contact": false})),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{carer}");
        let lee = carer["id"].as_str().unwrap_or_default().to_owned();
        let (status, body) = world
            .api("lead", Method::GET, &format!("{base}&copy_for={lee}"), None)
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body.to_string().contains("not to be contacted"), "{body}");

        // Not theirs to know: not found; initials only: refused.
        for who in ["other-therapist", "staff"] {
            let (status, _) = get_pdf(&world, who, &format!("{base}&copy_for=child")).await?;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who}");
        }
        let (status, _) = get_pdf(&world, "supervisor", &format!("{base}&copy_for=child")).await?;
        assert_eq!(status, StatusCode::FORBIDDEN);
        // No topic: a clear error.
        let (status, _) = world
            .api(
                "lead",
                Method::GET,
                &format!(
                    "/api/v1/children/{}/handouts/pdf?audience=8-11&copy_for=child",
                    world.child
                ),
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            crate::count_as_owner(
                &world.service.db,
                "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'handout.produced'"
            )
            .await?,
            2
        );
        world.service.server.stop().await;
    }
    Ok(())
}
