//! Session records (issue 12): a draft kept on the server as it is typed and seen by its
//! author alone, signing, amendments with their reasons (the original kept), and the lead
//! sharing a signed record with the parent-worker. Who may read, write, amend and share is
//! the service's; this module turns it into JSON.

use super::directory::{not_found, version};
use crate::AppState;
use crate::auth::Signed;
use crate::extract::ApiJson;
use crate::problem::{ApiError, Problem};
use alliance_core::Version;
use alliance_core::cases::CaseId;
use alliance_core::schedule::{BookingId, clock_text};
use alliance_core::session_records::RecordContent;
use alliance_service::session_records::{
    AmendmentView, RecordSummary, SessionRecordPage, SessionRecordView,
};
use alliance_service::store::StoredSessionRecord;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

fn case_id(raw: &str) -> Result<CaseId, ApiError> {
    CaseId::parse(raw).map_err(|_| not_found())
}

fn session_id(raw: &str) -> Result<BookingId, ApiError> {
    BookingId::parse(raw).map_err(|_| not_found())
}

fn optional_version(raw: Option<i64>) -> Result<Option<Version>, ApiError> {
    raw.map(version).transpose()
}

/// What a record says.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordContentView {
    /// What the child brought, and how they expressed their feelings.
    pub brought: String,
    /// The child's own words, quoted.
    pub own_words: String,
    /// How the therapist reflected and validated what the child brought.
    pub reflected: String,
    /// Themes and play.
    pub themes: String,
    pub mood_start: String,
    pub mood_end: String,
    /// Anything to follow up.
    pub follow_up: String,
    /// Did anything raise a safeguarding concern: `yes`, `no`, or empty (not answered yet).
    pub safeguarding: String,
}

fn content_view(c: &RecordContent) -> RecordContentView {
    RecordContentView {
        brought: c.brought.clone(),
        own_words: c.own_words.clone(),
        reflected: c.reflected.clone(),
        themes: c.themes.clone(),
        mood_start: c.mood_start.clone(),
        mood_end: c.mood_end.clone(),
        follow_up: c.follow_up.clone(),
        safeguarding: c.safeguarding.clone(),
    }
}

/// An amendment to a signed record: the record as amended, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct AmendmentApiView {
    pub id: String,
    pub reason: String,
    /// Who amended it (the record's author).
    pub author: String,
    /// RFC 3339, UTC.
    pub at: String,
    /// The whole record as it stood after this amendment.
    pub content: RecordContentView,
}

fn amendment_view(a: &AmendmentView) -> AmendmentApiView {
    AmendmentApiView {
        id: a.id.to_string(),
        reason: a.reason.clone(),
        author: a.author.clone(),
        at: a.at.to_string(),
        content: content_view(&a.content),
    }
}

/// A session record as the reader may see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionRecordApiView {
    pub id: String,
    /// `draft` (seen by its author alone) or `signed` (changed only by amendment).
    pub status: String,
    pub status_label: String,
    /// The author's name.
    pub author: String,
    /// The caller wrote it.
    pub is_author: bool,
    /// Send it back with the next change.
    pub version: i64,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub updated_at: String,
    pub signed_at: Option<String>,
    /// Shared by the lead with the case's parent-worker.
    pub shared: bool,
    pub shared_at: Option<String>,
    /// As written (a draft) or as signed: the original, kept after any amendment.
    pub content: RecordContentView,
    /// The record as it stands: the newest amendment, else the original.
    pub current: RecordContentView,
    /// Oldest first.
    pub amendments: Vec<AmendmentApiView>,
}

fn record_view(r: &SessionRecordView) -> SessionRecordApiView {
    SessionRecordApiView {
        id: r.stored.id.to_string(),
        status: r.stored.status.code().to_owned(),
        status_label: r.stored.status.label().to_owned(),
        author: r.author.clone(),
        is_author: r.is_author,
        version: r.stored.version.get(),
        created_at: r.stored.created_at.to_string(),
        updated_at: r.stored.updated_at.to_string(),
        signed_at: r.stored.signed_at.map(|t| t.to_string()),
        shared: r.stored.shared_at.is_some(),
        shared_at: r.stored.shared_at.map(|t| t.to_string()),
        content: content_view(&r.content),
        current: content_view(r.current()),
        amendments: r.amendments.iter().map(amendment_view).collect(),
    }
}

/// The session a record is of.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordSessionView {
    pub id: String,
    pub case_id: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    /// `HH:MM`, Europe/London.
    pub start: String,
    pub minutes: u16,
}

/// A session and its record as the caller may see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionRecordPageView {
    pub session: RecordSessionView,
    pub case_number: String,
    /// The child's name, or their initials and case number for a pseudonymised reader.
    pub child_label: String,
    /// Null when there is no record the caller may see.
    pub record: Option<SessionRecordApiView>,
    /// Someone else on the team is writing this session's record (a draft only they see).
    pub drafted_by_someone_else: bool,
    /// The caller may write a record of this session.
    pub may_write: bool,
    /// The caller (the case's lead) may share the record with the parent-worker, or stop.
    pub may_share: bool,
}

fn page_view(p: SessionRecordPage) -> SessionRecordPageView {
    let b = &p.session.booking;
    SessionRecordPageView {
        session: RecordSessionView {
            id: b.id.to_string(),
            case_id: p.session.case_id.to_string(),
            date: b.date.to_string(),
            start: clock_text(b.start),
            minutes: b.minutes,
        },
        case_number: p.case_number,
        child_label: p.child_label,
        may_share: p.record.as_ref().is_some_and(|r| r.may_share),
        record: p.record.as_ref().map(record_view),
        drafted_by_someone_else: p.drafted_by_someone_else,
        may_write: p.may_write,
    }
}

/// A record as stored after a change: what to send back as `version` next. (The text is the
/// caller's own; read the record for it.)
#[derive(Debug, Serialize, ToSchema)]
pub struct SavedRecordView {
    pub id: String,
    pub session_id: String,
    /// `draft` or `signed`.
    pub status: String,
    pub version: i64,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub updated_at: String,
    pub signed_at: Option<String>,
    pub shared: bool,
}

fn saved_view(r: &StoredSessionRecord) -> SavedRecordView {
    SavedRecordView {
        id: r.id.to_string(),
        session_id: r.session_id.to_string(),
        status: r.status.code().to_owned(),
        version: r.version.get(),
        created_at: r.created_at.to_string(),
        updated_at: r.updated_at.to_string(),
        signed_at: r.signed_at.map(|t| t.to_string()),
        shared: r.shared_at.is_some(),
    }
}

/// A session's record as the caller may see it: the author's own draft, a signed record (the
/// parent-worker only one the lead shared), with its amendments; null otherwise. The case
/// team, the parent-worker and the lead's supervisor (pseudonymised); anyone else gets 404.
#[utoipa::path(
    get,
    path = "/api/v1/sessions/{id}/record",
    tag = "session-records",
    params(("id" = String, Path, description = "The session's id")),
    responses(
        (status = 200, description = "The session and its record", body = SessionRecordPageView),
        (status = 404, description = "No such session, or none the caller may see", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_record(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Json<SessionRecordPageView>, ApiError> {
    let page = state
        .alliance
        .session_record_page(&actor, session_id(&id)?)
        .await?;
    Ok(Json(page_view(page)))
}

/// A draft as typed so far: any part may still be empty.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftBody {
    #[serde(default)]
    pub brought: String,
    #[serde(default)]
    pub own_words: String,
    #[serde(default)]
    pub reflected: String,
    #[serde(default)]
    pub themes: String,
    #[serde(default)]
    pub mood_start: String,
    #[serde(default)]
    pub mood_end: String,
    #[serde(default)]
    pub follow_up: String,
    /// `yes`, `no` or empty.
    #[serde(default)]
    pub safeguarding: String,
    /// The draft's version as read; absent for the first save.
    #[serde(default)]
    pub version: Option<i64>,
}

/// Saves the caller's draft of a session's record, creating it the first time (201) and
/// replacing it afterwards (200, with the version read). Nothing typed is refused for being
/// unfinished. A signed record is changed only by amendment (422 naming `version`); someone
/// else's draft answers 409.
#[utoipa::path(
    put,
    path = "/api/v1/sessions/{id}/record/draft",
    tag = "session-records",
    params(("id" = String, Path, description = "The session's id")),
    request_body = DraftBody,
    responses(
        (status = 200, description = "Saved", body = SavedRecordView),
        (status = 201, description = "Created", body = SavedRecordView),
        (status = 403, description = "Not one of the case team's therapists on an open case, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session, or none the caller may see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed since it was read, or someone else is writing this record", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A part is too long or not valid, `version` is missing, or the record is signed (each is named)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn save_draft(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DraftBody>,
) -> Result<(StatusCode, Json<SavedRecordView>), ApiError> {
    let session = session_id(&id)?;
    let expected = optional_version(body.version)?;
    let content = RecordContent {
        brought: body.brought,
        own_words: body.own_words,
        reflected: body.reflected,
        themes: body.themes,
        mood_start: body.mood_start,
        mood_end: body.mood_end,
        follow_up: body.follow_up,
        safeguarding: body.safeguarding,
    };
    let saved = state
        .alliance
        .save_session_record_draft(&actor, session, &content, expected)
        .await?;
    // Every save after the first moves the version on: the first is the one that created it.
    let status = if saved.version == Version::FIRST {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(saved_view(&saved))))
}

/// The record's final text, to sign.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignBody {
    /// What the child brought and how they expressed their feelings (needed).
    #[serde(default)]
    pub brought: String,
    #[serde(default)]
    pub own_words: String,
    /// How the therapist reflected and validated it (needed).
    #[serde(default)]
    pub reflected: String,
    #[serde(default)]
    pub themes: String,
    /// Needed.
    #[serde(default)]
    pub mood_start: String,
    /// Needed.
    #[serde(default)]
    pub mood_end: String,
    #[serde(default)]
    pub follow_up: String,
    /// `yes` or `no` (needed).
    #[serde(default)]
    pub safeguarding: String,
    /// The draft's version as read.
    pub version: i64,
}

/// Signs the caller's draft with this text: from now on it changes only by amendment. Refused
/// with 422 naming each missing part (`brought`, `reflected`, `mood_start`, `mood_end`,
/// `safeguarding`).
#[utoipa::path(
    post,
    path = "/api/v1/sessions/{id}/record/sign",
    tag = "session-records",
    params(("id" = String, Path, description = "The session's id")),
    request_body = SignBody,
    responses(
        (status = 200, description = "Signed", body = SavedRecordView),
        (status = 403, description = "Not one of the case team's therapists on an open case, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session, or none the caller may see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed since it was read, or someone else is writing this record", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A part is missing or not valid, no draft was saved, or it is signed already (each is named)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn sign_record(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SignBody>,
) -> Result<Json<SavedRecordView>, ApiError> {
    let session = session_id(&id)?;
    let expected = version(body.version)?;
    let content = RecordContent {
        brought: body.brought,
        own_words: body.own_words,
        reflected: body.reflected,
        themes: body.themes,
        mood_start: body.mood_start,
        mood_end: body.mood_end,
        follow_up: body.follow_up,
        safeguarding: body.safeguarding,
    };
    let signed = state
        .alliance
        .sign_session_record(&actor, session, &content, expected)
        .await?;
    Ok(Json(saved_view(&signed)))
}

/// The whole record as it should now read, and why it changes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AmendmentBody {
    #[serde(default)]
    pub brought: String,
    #[serde(default)]
    pub own_words: String,
    #[serde(default)]
    pub reflected: String,
    #[serde(default)]
    pub themes: String,
    #[serde(default)]
    pub mood_start: String,
    #[serde(default)]
    pub mood_end: String,
    #[serde(default)]
    pub follow_up: String,
    #[serde(default)]
    pub safeguarding: String,
    /// Why the record is changed (at least 5 characters).
    #[serde(default)]
    pub reason: String,
    /// The record's version as read.
    pub version: i64,
}

/// Amends a signed record (its author only), with the reason. The original stays in
/// `content`; the record as it stands is in `current`.
#[utoipa::path(
    post,
    path = "/api/v1/sessions/{id}/record/amendments",
    tag = "session-records",
    params(("id" = String, Path, description = "The session's id")),
    request_body = AmendmentBody,
    responses(
        (status = 201, description = "Amended", body = SavedRecordView),
        (status = 403, description = "Not the record's author, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session or record, or none the caller may see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason, a part missing or not valid, or the record is still a draft (each is named)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn amend_record(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AmendmentBody>,
) -> Result<(StatusCode, Json<SavedRecordView>), ApiError> {
    let session = session_id(&id)?;
    let expected = version(body.version)?;
    let content = RecordContent {
        brought: body.brought,
        own_words: body.own_words,
        reflected: body.reflected,
        themes: body.themes,
        mood_start: body.mood_start,
        mood_end: body.mood_end,
        follow_up: body.follow_up,
        safeguarding: body.safeguarding,
    };
    let amended = state
        .alliance
        .amend_session_record(&actor, session, &content, &body.reason, expected)
        .await?;
    Ok((StatusCode::CREATED, Json(saved_view(&amended))))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareBody {
    /// `true` to share with the case's parent-worker, `false` to stop.
    pub share: bool,
    /// The record's version as read.
    pub version: i64,
}

/// The case's lead shares a signed record with the case's parent-worker, or stops sharing it.
#[utoipa::path(
    post,
    path = "/api/v1/sessions/{id}/record/share",
    tag = "session-records",
    params(("id" = String, Path, description = "The session's id")),
    request_body = ShareBody,
    responses(
        (status = 200, description = "Shared, or no longer shared", body = SavedRecordView),
        (status = 403, description = "Not the case's lead, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session or record, or none the caller may see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not signed yet", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn share_record(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ShareBody>,
) -> Result<Json<SavedRecordView>, ApiError> {
    let session = session_id(&id)?;
    let expected = version(body.version)?;
    let shared = state
        .alliance
        .share_session_record(&actor, session, body.share, expected)
        .await?;
    Ok(Json(saved_view(&shared)))
}

/// One of a case's records, as listed (never what it says).
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordSummaryView {
    pub id: String,
    pub session_id: String,
    /// `YYYY-MM-DD`: the session's date.
    pub session_date: String,
    /// `draft` (the caller's own) or `signed`.
    pub status: String,
    pub status_label: String,
    /// The author's name.
    pub author: String,
    /// Amended since it was signed.
    pub amended: bool,
    /// Shared with the parent-worker.
    pub shared: bool,
    pub version: i64,
    /// RFC 3339, UTC.
    pub signed_at: Option<String>,
}

fn summary_view(s: &RecordSummary) -> RecordSummaryView {
    RecordSummaryView {
        id: s.record.id.to_string(),
        session_id: s.record.session_id.to_string(),
        session_date: s.session_date.to_string(),
        status: s.record.status.code().to_owned(),
        status_label: s.record.status.label().to_owned(),
        author: s.author.clone(),
        amended: s.amended,
        shared: s.record.shared_at.is_some(),
        version: s.record.version.get(),
        signed_at: s.record.signed_at.map(|t| t.to_string()),
    }
}

/// A case's session records the caller may see.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseRecordsView {
    pub case_id: String,
    /// Newest first.
    pub items: Vec<RecordSummaryView>,
}

/// A case's session records the caller may see: their own drafts and every signed record (the
/// parent-worker only those the lead shared). Anyone else gets 404.
#[utoipa::path(
    get,
    path = "/api/v1/cases/{id}/session-records",
    tag = "session-records",
    params(("id" = String, Path, description = "The case's id")),
    responses(
        (status = 200, description = "The records", body = CaseRecordsView),
        (status = 404, description = "No such case, or none the caller may see", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn case_records(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Json<CaseRecordsView>, ApiError> {
    let case = case_id(&id)?;
    let records = state.alliance.case_session_records(&actor, case).await?;
    Ok(Json(CaseRecordsView {
        case_id: case.to_string(),
        items: records.iter().map(summary_view).collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_record_route_is_documented() {
        let doc = super::super::openapi();
        for (path, methods) in [
            ("/api/v1/sessions/{id}/record", &["get"][..]),
            ("/api/v1/sessions/{id}/record/draft", &["put"][..]),
            ("/api/v1/sessions/{id}/record/sign", &["post"][..]),
            ("/api/v1/sessions/{id}/record/amendments", &["post"][..]),
            ("/api/v1/sessions/{id}/record/share", &["post"][..]),
            ("/api/v1/cases/{id}/session-records", &["get"][..]),
        ] {
            let item = doc.paths.paths.get(path);
            assert!(item.is_some(), "{path} is missing");
            for method in methods {
                let operation = item.and_then(|i| match *method {
                    "get" => i.get.as_ref(),
                    "put" => i.put.as_ref(),
                    _ => i.post.as_ref(),
                });
                assert!(operation.is_some(), "{method} {path} is missing");
            }
        }
    }

    #[test]
    fn the_bodies_refuse_unknown_fields_and_take_a_draft_without_a_version() {
        let draft: Result<DraftBody, _> = serde_json::from_str(r#"{"brought": "Sand"}"#);
        assert!(draft.is_ok_and(|d| d.version.is_none() && d.brought == "Sand"));
        let stray: Result<DraftBody, _> = serde_json::from_str(r#"{"reason": "typo fixed"}"#);
        assert!(stray.is_err());
        let unsigned: Result<SignBody, _> = serde_json::from_str(r#"{"brought": "Sand"}"#);
        assert!(unsigned.is_err(), "signing needs the version read");
        let share: Result<ShareBody, _> = serde_json::from_str(r#"{"share": true}"#);
        assert!(share.is_err());
    }
}
