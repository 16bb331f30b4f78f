//! Disruptions (issue 16): a session's two-tap log (the minutes lost as radio buttons, then
//! one big button per kind, which submits: no JavaScript), withdrawing one's own mistaken
//! entry, the report per site and room over a period (with a CSV of the same table), and a
//! room's printable "Session in progress" sign (its session times, never a name). Who may do
//! what is decided by the use-cases; this module shows what they answer.

use super::{FieldErrors, FormData, Layout, render, unprocessable};
use crate::AppState;
use crate::auth::{Auth, CurrentAuth, Signed};
use crate::errors::page_error;
use crate::respond::PageError;
use alliance_core::directory::{RoomId, SiteId};
use alliance_core::disruptions::{
    DEFAULT_MINUTES, DisruptionId, Figures, Kind, MINUTE_PRESETS, NOTE_MAX,
};
use alliance_core::schedule::BookingId;
use alliance_core::uk;
use alliance_service::disruptions::{DisruptionInput, DisruptionReport, SessionDisruptions};
use alliance_service::{Actor, AppError};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    // One method a line, so the route table the headers test reads finds each.
    Router::new()
        .route("/sessions/{id}/disruptions", get(session_page))
        .route("/sessions/{id}/disruptions", post(log))
        .route("/disruptions/{id}/withdraw", post(withdraw))
        .route("/disruptions/report", get(report_page))
        .route("/rooms/{id}/sign", get(sign_page))
}

fn booking_id(raw: &str) -> Result<BookingId, PageError> {
    BookingId::parse(raw).map_err(|_| page_error(AppError::NotFound))
}

/// A disruption as the session's page lists it.
struct Line {
    id: String,
    kind: &'static str,
    minutes: u16,
    note: String,
    by: String,
    at: String,
    withdrawn: bool,
    may_withdraw: bool,
}

#[derive(Template)]
#[template(path = "disruptions_session.html")]
struct SessionPage {
    layout: Layout,
    session_id: String,
    when: String,
    place: String,
    room_id: String,
    kinds: Vec<(&'static str, &'static str)>,
    presets: Vec<u16>,
    note_max: usize,
    lines: Vec<Line>,
    form: FormData,
    errors: FieldErrors,
    notice: Option<String>,
}

impl SessionPage {
    /// Whether a preset is the one chosen: what the form sent, else the default.
    fn preset_checked(&self, value: &u16) -> bool {
        match self.form.get("minutes") {
            "" => *value == DEFAULT_MINUTES,
            sent => sent == value.to_string(),
        }
    }

    /// The typed number, when it is not one of the presets.
    fn other_minutes(&self) -> &str {
        let sent = self.form.get("other_minutes");
        if sent.is_empty() {
            let m = self.form.get("minutes");
            if MINUTE_PRESETS.iter().any(|p| p.to_string() == m) {
                ""
            } else {
                m
            }
        } else {
            sent
        }
    }
}

fn session_page_of(layout: Layout, found: SessionDisruptions) -> SessionPage {
    SessionPage {
        layout,
        session_id: found.session.to_string(),
        when: format!(
            "{} {}-{}",
            uk::date(found.date),
            found.start.strftime("%H:%M"),
            found.end.strftime("%H:%M")
        ),
        place: format!("{}, {}", found.room_name, found.site_name),
        room_id: found.room.to_string(),
        kinds: Kind::ALL.iter().map(|k| (k.code(), k.label())).collect(),
        presets: MINUTE_PRESETS.to_vec(),
        note_max: NOTE_MAX,
        lines: found
            .disruptions
            .iter()
            .map(|d| Line {
                id: d.stored.id.to_string(),
                kind: d.stored.kind.label(),
                minutes: d.stored.minutes,
                note: d.stored.note.clone().unwrap_or_default(),
                by: d.logged_by.clone(),
                at: uk::date_time(d.stored.logged_at),
                withdrawn: d.stored.withdrawn_at.is_some(),
                may_withdraw: d.may_withdraw,
            })
            .collect(),
        form: FormData::default(),
        errors: FieldErrors::default(),
        notice: None,
    }
}

async fn load_session_page(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    id: BookingId,
) -> Result<SessionPage, PageError> {
    let found = state
        .alliance
        .session_disruptions(actor, id)
        .await
        .map_err(page_error)?;
    Ok(session_page_of(
        Layout::load(state, "timetable", auth).await?,
        found,
    ))
}

#[derive(Debug, Default, Deserialize)]
struct SessionQuery {
    logged: Option<String>,
    withdrawn: Option<String>,
}

async fn session_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Query(query): Query<SessionQuery>,
) -> Result<Response, PageError> {
    let mut page = load_session_page(&state, &actor, &auth, booking_id(&id)?).await?;
    page.notice = if query.logged.is_some() {
        Some("Disruption logged. Thank you: it helps remove the causes.".to_owned())
    } else if query.withdrawn.is_some() {
        Some("Withdrawn: it is kept, marked withdrawn, and left out of the report.".to_owned())
    } else {
        None
    };
    Ok(render(&page)?.into_response())
}

async fn log(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = booking_id(&id)?;
    // A number typed in "other" wins over the preset chosen.
    let minutes = match form.get("other_minutes").trim() {
        "" => form.get("minutes").to_owned(),
        typed => typed.to_owned(),
    };
    let input = DisruptionInput {
        kind: form.get("kind").to_owned(),
        minutes,
        note: form.get("note").to_owned(),
    };
    match state.alliance.log_disruption(&actor, id, &input).await {
        Ok(_) => Ok(
            Redirect::to(&format!("/sessions/{id}/disruptions?logged=1#logged")).into_response(),
        ),
        Err(AppError::Invalid(invalid)) => {
            let mut page = load_session_page(&state, &actor, &auth, id).await?;
            let mut errors = FieldErrors::from_invalid(&invalid);
            // The typed number is where the minutes' error belongs when one was typed.
            if !form.get("other_minutes").trim().is_empty()
                && let Some(m) = errors.0.remove("minutes")
            {
                errors.0.insert("other_minutes".to_owned(), m);
            }
            page.form = form;
            page.errors = errors;
            unprocessable(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}

async fn withdraw(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = DisruptionId::parse(&id).map_err(|_| page_error(AppError::NotFound))?;
    let stored = state
        .alliance
        .withdraw_disruption(&actor, id)
        .await
        .map_err(page_error)?;
    Ok(Redirect::to(&format!(
        "/sessions/{}/disruptions?withdrawn=1",
        stored.session
    ))
    .into_response())
}

// ----- the report -----

/// One row of the report's table: a site's total or one of its rooms.
struct Row {
    site: String,
    room: String,
    is_site: bool,
    by_kind: Vec<(u32, u32)>,
    count: u32,
    minutes: u32,
    held: u32,
    disrupted: u32,
    share: String,
    top: &'static str,
}

fn row(site: &str, room: &str, is_site: bool, f: &Figures) -> Row {
    Row {
        site: site.to_owned(),
        room: room.to_owned(),
        is_site,
        by_kind: f
            .by_kind
            .iter()
            .map(|(_, k)| (k.count, k.minutes))
            .collect(),
        count: f.count,
        minutes: f.minutes,
        held: f.sessions_held,
        disrupted: f.sessions_disrupted,
        share: f.share_words(),
        top: f.top_cause.map(|k| k.label()).unwrap_or("None"),
    }
}

fn rows(report: &DisruptionReport) -> Vec<Row> {
    let mut out = Vec::new();
    for s in &report.sites {
        out.push(row(&s.name, "All rooms", true, &s.figures));
        for r in &s.rooms {
            out.push(row(&s.name, &r.name, false, &r.figures));
        }
    }
    out
}

#[derive(Template)]
#[template(path = "disruptions_report.html")]
struct ReportPage {
    layout: Layout,
    from: String,
    until: String,
    site: String,
    sites: Vec<(String, String)>,
    kinds: Vec<&'static str>,
    rows: Vec<Row>,
    own_sessions_only: bool,
    period: String,
    csv_href: String,
    errors: FieldErrors,
}

#[derive(Debug, Default, Deserialize)]
struct ReportQuery {
    from: Option<String>,
    until: Option<String>,
    site: Option<String>,
    format: Option<String>,
}

fn csv_field(raw: &str) -> String {
    // Nothing a spreadsheet would run as a formula, and quotes doubled.
    let safe = if raw.starts_with(['=', '+', '-', '@']) {
        format!("'{raw}")
    } else {
        raw.to_owned()
    };
    format!("\"{}\"", safe.replace('"', "\"\""))
}

fn csv_of(report: &DisruptionReport) -> String {
    let mut header = vec!["Site".to_owned(), "Room".to_owned()];
    for k in Kind::ALL {
        header.push(format!("{} (count)", k.label()));
        header.push(format!("{} (minutes)", k.label()));
    }
    for h in [
        "Disruptions",
        "Minutes lost",
        "Sessions held",
        "Sessions disrupted",
        "Share disrupted",
        "Top cause",
    ] {
        header.push(h.to_owned());
    }
    let mut out = header
        .iter()
        .map(|h| csv_field(h))
        .collect::<Vec<_>>()
        .join(",");
    out.push_str("\r\n");
    for r in rows(report) {
        let mut cells = vec![csv_field(&r.site), csv_field(&r.room)];
        for (c, m) in &r.by_kind {
            cells.push(c.to_string());
            cells.push(m.to_string());
        }
        cells.push(r.count.to_string());
        cells.push(r.minutes.to_string());
        cells.push(r.held.to_string());
        cells.push(r.disrupted.to_string());
        cells.push(csv_field(&r.share));
        cells.push(csv_field(r.top));
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

async fn report_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Query(query): Query<ReportQuery>,
) -> Result<Response, PageError> {
    let from = query.from.clone().unwrap_or_default();
    let until = query.until.clone().unwrap_or_default();
    let site_raw = query.site.clone().unwrap_or_default();
    let sites = state
        .alliance
        .list_sites(&actor)
        .await
        .map_err(page_error)?;
    let site_choices: Vec<(String, String)> = sites
        .iter()
        .map(|s| (s.id.to_string(), s.details.name.clone()))
        .collect();
    let mut errors = FieldErrors::default();
    let site = match site_raw.trim() {
        "" => None,
        raw => match SiteId::parse(raw) {
            Ok(id) if sites.iter().any(|s| s.id == id) => Some(id),
            _ => {
                errors = FieldErrors::one("site", "Choose one of the service's sites");
                None
            }
        },
    };
    let period = state.alliance.report_period(&from, &until);
    let (period, errors) = match (period, errors.is_empty()) {
        (Ok(p), true) => (Some(p), errors),
        (Ok(_), false) => (None, errors),
        (Err(invalid), _) => (None, FieldErrors::from_invalid(&invalid)),
    };
    let mut page = ReportPage {
        layout: Layout::load(&state, "sites", &auth).await?,
        from,
        until,
        site: site_raw,
        sites: site_choices,
        kinds: Kind::ALL.iter().map(|k| k.label()).collect(),
        rows: Vec::new(),
        own_sessions_only: false,
        period: String::new(),
        csv_href: String::new(),
        errors,
    };
    let Some((from, until)) = period else {
        return unprocessable(&page);
    };
    let report = state
        .alliance
        .disruption_report(&actor, from, until, site)
        .await
        .map_err(page_error)?;
    if query.format.as_deref() == Some("csv") {
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"disruptions-{from}-{until}.csv\""),
                ),
            ],
            csv_of(&report),
        )
            .into_response());
    }
    if page.from.is_empty() {
        page.from = uk::date(from);
    }
    if page.until.is_empty() {
        page.until = uk::date(until);
    }
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("from", &from.to_string());
    q.append_pair("until", &until.to_string());
    if let Some(s) = site {
        q.append_pair("site", &s.to_string());
    }
    q.append_pair("format", "csv");
    page.csv_href = format!("/disruptions/report?{}", q.finish());
    page.period = format!("{} to {}", uk::date(from), uk::date(until));
    page.own_sessions_only = report.own_sessions_only;
    page.rows = rows(&report);
    Ok(render(&page)?.into_response())
}

// ----- the sign -----

#[derive(Template)]
#[template(path = "room_sign.html")]
struct SignPage {
    layout: Layout,
    room_id: String,
    room: String,
    site: String,
    week: String,
    days: Vec<(String, Vec<String>)>,
    previous: String,
    next: String,
}

#[derive(Debug, Default, Deserialize)]
struct SignQuery {
    week: Option<String>,
}

async fn sign_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Query(query): Query<SignQuery>,
) -> Result<Response, PageError> {
    let id = RoomId::parse(&id).map_err(|_| page_error(AppError::NotFound))?;
    let week = match query
        .week
        .as_deref()
        .map(str::trim)
        .filter(|w| !w.is_empty())
    {
        Some(raw) => alliance_service::Alliance::parse_day(raw)
            .map_err(|e| page_error(AppError::Invalid(e)))?,
        None => state.alliance.today(),
    };
    let sign = state
        .alliance
        .room_sign(&actor, id, week)
        .await
        .map_err(page_error)?;
    Ok(render(&SignPage {
        layout: Layout::load(&state, "sites", &auth).await?,
        room_id: id.to_string(),
        room: sign.room.details.name.clone(),
        site: sign.site.details.name.clone(),
        week: uk::date(sign.week),
        previous: sign.previous.to_string(),
        next: sign.next.to_string(),
        days: sign
            .days
            .iter()
            .map(|(d, times)| {
                (
                    format!(
                        "{} {}",
                        alliance_core::schedule::weekday_label(d.weekday()),
                        uk::date(*d)
                    ),
                    times
                        .iter()
                        .map(|(a, b)| format!("{} to {}", a.strftime("%H:%M"), b.strftime("%H:%M")))
                        .collect(),
                )
            })
            .collect(),
    })?
    .into_response())
}
