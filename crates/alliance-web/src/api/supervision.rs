//! Supervision records: what the caller received (with the time of the last twelve months,
//! for their professional body) and gave, and a supervisor recording a supervision of one of
//! their own supervisees. Cases are named by number only. Whom a supervisor may record for is
//! the service's decision.

use super::agreements::CreatedView;
use crate::AppState;
use crate::auth::Signed;
use crate::extract::ApiJson;
use crate::problem::{ApiError, Problem};
use alliance_core::supervision::{SupervisionInput, duration_text};
use alliance_service::supervision::{MySupervision, SupervisionView};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One supervision.
#[derive(Debug, Serialize, ToSchema)]
pub struct SupervisionRecordView {
    pub id: String,
    /// The supervisor's user id.
    pub supervisor: String,
    pub supervisor_name: String,
    /// The supervisee's user id.
    pub supervisee: String,
    pub supervisee_name: String,
    /// `YYYY-MM-DD`.
    pub held_on: String,
    pub minutes: i64,
    /// Case numbers (`C00042`), never names.
    pub cases: Vec<String>,
    /// The actions agreed.
    pub actions: Option<String>,
    /// Group supervision (else individual).
    pub group: bool,
    /// RFC 3339, UTC.
    pub recorded_at: String,
}

fn record_view(s: &SupervisionView) -> SupervisionRecordView {
    SupervisionRecordView {
        id: s.stored.id.to_string(),
        supervisor: s.stored.supervisor.to_string(),
        supervisor_name: s.supervisor.clone(),
        supervisee: s.stored.supervisee.to_string(),
        supervisee_name: s.supervisee.clone(),
        held_on: s.stored.held_on.to_string(),
        minutes: s.stored.minutes,
        cases: s.stored.cases.clone(),
        actions: s.actions.clone(),
        group: s.stored.group,
        recorded_at: s.stored.created_at.to_string(),
    }
}

/// Someone a supervisor may record supervision for.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuperviseeView {
    pub id: String,
    pub name: String,
}

/// The caller's supervision.
#[derive(Debug, Serialize, ToSchema)]
pub struct MySupervisionView {
    /// Minutes of supervision received in the twelve months up to today.
    pub minutes_last_year: i64,
    /// The same in words: `25 hours 30 minutes`.
    pub last_year_text: String,
    /// Supervisions the caller received, newest first.
    pub received: Vec<SupervisionRecordView>,
    /// Supervisions the caller gave (supervisors), newest first.
    pub given: Vec<SupervisionRecordView>,
    /// Whom the caller may record supervision for (supervisors).
    pub supervisees: Vec<SuperviseeView>,
}

fn supervision_view(m: MySupervision) -> MySupervisionView {
    MySupervisionView {
        minutes_last_year: m.minutes_last_year,
        last_year_text: duration_text(
            u32::try_from(m.minutes_last_year.max(0)).unwrap_or(u32::MAX),
        ),
        received: m.received.iter().map(record_view).collect(),
        given: m.given.iter().map(record_view).collect(),
        supervisees: m
            .supervisees
            .into_iter()
            .map(|(id, name)| SuperviseeView {
                id: id.to_string(),
                name,
            })
            .collect(),
    }
}

/// The caller's supervision: received, given, and the time received in the last twelve
/// months.
#[utoipa::path(
    get,
    path = "/api/v1/me/supervision",
    tag = "supervision",
    responses(
        (status = 200, description = "The caller's supervision", body = MySupervisionView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn my_supervision(
    State(state): State<AppState>,
    Signed(actor): Signed,
) -> Result<Json<MySupervisionView>, ApiError> {
    let mine = state.alliance.my_supervision(&actor).await?;
    Ok(Json(supervision_view(mine)))
}

/// A supervision as typed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupervisionBody {
    /// The supervisee's user id: one of the caller's own supervisees.
    pub supervisee: String,
    /// `YYYY-MM-DD` or `DD/MM/YYYY`; not in the future.
    pub held_on: String,
    /// How long, in minutes (5 to 600).
    pub minutes: u32,
    /// The cases discussed, by number (`C00042`, `c42` or `42`); never names.
    #[serde(default)]
    pub cases: Vec<String>,
    /// The actions agreed.
    #[serde(default)]
    pub actions: Option<String>,
    /// Group supervision (false by default).
    #[serde(default)]
    pub group: bool,
}

impl From<SupervisionBody> for SupervisionInput {
    fn from(b: SupervisionBody) -> Self {
        Self {
            supervisee: b.supervisee,
            held_on: b.held_on,
            minutes: b.minutes.to_string(),
            cases: b.cases.join(", "),
            actions: b.actions.unwrap_or_default(),
            group: b.group,
        }
    }
}

/// Records a supervision of one of the caller's own supervisees (supervisors).
#[utoipa::path(
    post,
    path = "/api/v1/supervisions",
    tag = "supervision",
    request_body = SupervisionBody,
    responses(
        (status = 201, description = "Recorded", body = CreatedView),
        (status = 403, description = "A read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not one of the caller's supervisees, or a field is not valid (each is named)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn record_supervision(
    State(state): State<AppState>,
    Signed(actor): Signed,
    ApiJson(body): ApiJson<SupervisionBody>,
) -> Result<(StatusCode, Json<CreatedView>), ApiError> {
    let recorded = state
        .alliance
        .record_supervision(&actor, &body.into())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedView {
            id: recorded.to_string(),
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_becomes_the_cores_input() {
        let input: SupervisionInput = SupervisionBody {
            supervisee: "u".into(),
            held_on: "2026-11-25".into(),
            minutes: 90,
            cases: vec!["C00042".into(), "7".into()],
            actions: None,
            group: true,
        }
        .into();
        assert_eq!(input.minutes, "90");
        assert_eq!(input.cases, "C00042, 7");
        assert_eq!(input.actions, "");
        assert!(input.group);
    }
}
