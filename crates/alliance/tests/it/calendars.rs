//! Term calendars and the series a weekly slot makes, through the real server on both
//! engines: a full school year with half-terms and INSET days around the real bank holidays
//! and the October clock change; every bad calendar or slot refused with nothing saved.

use crate::children::World;
use crate::count_as_owner;
use alliance_testkit::backends;
use reqwest::{Method, StatusCode};
use serde_json::json;

pub(crate) const YEAR: &str = "kind,name,starts,ends,reason\n\
term,Autumn term,02/09/2026,18/12/2026,\n\
half-term,Autumn term,26/10/2026,30/10/2026,\n\
inset,Training day,02/09/2026,,Training day\n\
inset,Training day,23/11/2026,,Training day\n\
term,Spring term,05/01/2027,26/03/2027,\n\
half-term,Spring term,15/02/2027,19/02/2027,\n\
term,Summer term,12/04/2027,21/07/2027,\n\
half-term,Summer term,31/05/2027,04/06/2027,\n";

#[tokio::test]
async fn a_school_year_makes_its_series_and_bad_calendars_are_refused() -> anyhow::Result<()> {
    for backend in backends() {
        let world = World::build(backend).await?;
        // Refused, nothing saved: overlapping terms, a half-term outside its term, a file
        // that is not iCalendar.
        for (rows, what) in [
            (
                "kind,name,starts,ends,reason\nterm,Autumn,01/09/2026,18/12/2026,\nterm,Winter,01/12/2026,20/12/2026,\n",
                "overlapping terms",
            ),
            (
                "kind,name,starts,ends,reason\nterm,Autumn,01/09/2026,18/12/2026,\nhalf-term,Autumn,21/12/2026,23/12/2026,\n",
                "a half-term outside its term",
            ),
            (
                "BEGIN:VCALENDAR\nthis is not a calendar at all",
                "not iCalendar",
            ),
        ] {
            let (status, problem) = world
                .api(
                    "admin",
                    Method::POST,
                    "/api/v1/calendars",
                    Some(json!({"name": "Bad", "rows": rows})),
                )
                .await?;
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{what}: {problem}"
            );
            assert!(
                problem["errors"][0]["field"]
                    .as_str()
                    .is_some_and(|f| f.starts_with("rows[")),
                "{what}: {problem}"
            );
        }
        assert_eq!(
            count_as_owner(
                &world.service.db,
                "SELECT COUNT(*) AS n FROM term_calendars"
            )
            .await?,
            0
        );
        // Only administrators add calendars; everyone reads them.
        let body = json!({"name": "Oakfield Primary 2026-27", "rows": YEAR});
        let (status, _) = world
            .api(
                "lead",
                Method::POST,
                "/api/v1/calendars",
                Some(body.clone()),
            )
            .await?;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, calendar) = world
            .api("admin", Method::POST, "/api/v1/calendars", Some(body))
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{calendar}");
        assert_eq!(calendar["terms"].as_array().map(Vec::len), Some(3));
        let id = calendar["id"].as_str().unwrap_or_default().to_owned();
        let (status, list) = world
            .api("staff", Method::GET, "/api/v1/calendars", None)
            .await?;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(list["items"].as_array().map(Vec::len), Some(1));

        // A Monday 15:30 slot for the autumn term: no session in half-term, 15:30 London on
        // both sides of the clock change (14:30 and 15:30 UTC).
        let (status, series) = world
            .api(
                "lead",
                Method::POST,
                &format!("/api/v1/calendars/{id}/series"),
                Some(json!({"weekday": "monday", "start": "15:30", "minutes": 50, "from": "2026-09-02"})),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{series}");
        let sessions = series["sessions"].as_array().cloned().unwrap_or_default();
        let at = |date: &str| {
            sessions
                .iter()
                .find(|s| s["date"] == date)
                .map(|s| s["starts_at"].as_str().unwrap_or_default().to_owned())
        };
        assert_eq!(at("2026-10-19").as_deref(), Some("2026-10-19T14:30:00Z"));
        assert_eq!(at("2026-11-02").as_deref(), Some("2026-11-02T15:30:00Z"));
        assert_eq!(at("2026-10-26"), None, "half-term");
        assert_eq!(at("2026-11-23"), None, "an INSET day");
        assert!(sessions.iter().all(|s| s["start"] == "15:30"));
        let skipped = series["skipped"].as_array().cloned().unwrap_or_default();
        assert!(
            skipped
                .iter()
                .any(|s| s["date"] == "2026-10-26" && s["why"] == "half-term"),
            "{series}"
        );
        assert!(
            skipped
                .iter()
                .any(|s| s["date"] == "2026-11-23" && s["why"] == "inset")
        );
        assert_eq!(sessions.len(), 13, "{series}");

        // The summer term's Monday series leaves out both May bank holidays, by name.
        let (_, summer) = world
            .api(
                "lead",
                Method::POST,
                &format!("/api/v1/calendars/{id}/series"),
                Some(json!({"weekday": "monday", "start": "15:30", "minutes": 50, "from": "2027-04-12"})),
            )
            .await?;
        let labels: Vec<String> = summer["skipped"]
            .as_array()
            .map(|s| {
                s.iter()
                    .map(|x| format!("{} {}", x["date"], x["label"]))
                    .collect()
            })
            .unwrap_or_default();
        assert!(
            labels
                .iter()
                .any(|l| l.contains("2027-05-03") && l.contains("Early May")),
            "{labels:?}"
        );

        // A 25-hour session, a slot outside every term: refused.
        for (slot, field) in [
            (
                json!({"weekday": "monday", "start": "15:30", "minutes": 1500, "from": "2026-09-02"}),
                "minutes",
            ),
            (
                json!({"weekday": "monday", "start": "15:30", "minutes": 50, "from": "2030-01-07"}),
                "from",
            ),
        ] {
            let (status, problem) = world
                .api(
                    "lead",
                    Method::POST,
                    &format!("/api/v1/calendars/{id}/series"),
                    Some(slot),
                )
                .await?;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
            assert!(problem.to_string().contains(field), "{field}: {problem}");
        }
        // A stale change is refused.
        let (status, _) = world
            .api(
                "admin",
                Method::PUT,
                &format!("/api/v1/calendars/{id}"),
                Some(json!({"name": "Oakfield", "rows": YEAR, "version": 9})),
            )
            .await?;
        assert_eq!(status, StatusCode::CONFLICT);
        world.service.server.stop().await;
    }
    Ok(())
}
