//! Timetables: a therapist's week (your own at `/timetable`), a room's week and a site's day,
//! laid out to read on a tablet and to print. A booking names its child only to a reader the
//! access rules let know that child (the service decides); anyone else sees "Booked".

use super::{Layout, render};
use crate::AppState;
use crate::auth::{CurrentAuth, Signed};
use crate::errors::page_error;
use crate::respond::PageError;
use alliance_core::directory::{RoomId, SiteId};
use alliance_core::identity::UserId;
use alliance_core::schedule::clock_text;
use alliance_service::AppError;
use alliance_service::timetables::{
    CaseOutlook, ChildShown, SessionState, TimetableDay, TimetableEntry, day_heading, days_on,
    monday_of,
};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/timetable", get(own_week))
        .route("/timetable/therapists/{id}", get(therapist_week))
        .route("/rooms/{id}/week", get(room_week))
        .route("/sites/{id}/day", get(site_day))
}

#[derive(Debug, Default, Deserialize)]
struct WhenQuery {
    week: Option<String>,
    date: Option<String>,
    /// From the form that picks another therapist's week.
    therapist: Option<String>,
}

/// The child of a booking as a link's text: the name, or initials, and the case number.
struct ChildLine {
    text: String,
    case_number: String,
    href: String,
}

fn child_line(c: &ChildShown) -> ChildLine {
    ChildLine {
        text: c.name.clone().unwrap_or_else(|| c.initials.clone()),
        case_number: c.case_number.clone(),
        href: format!("/cases/{}/sessions", c.case_id),
    }
}

struct EntryLine {
    start: String,
    ends: String,
    room: String,
    room_href: String,
    site: String,
    therapist: String,
    therapist_href: String,
    state: &'static str,
    cancelled: bool,
    child: Option<ChildLine>,
    /// `/sessions/{id}`, only where the child is shown (never for a "Booked" row).
    session_href: Option<String>,
    /// "Room check done" / "Room check to do", only where the child is shown.
    room_check: Option<&'static str>,
}

fn entry_line(e: &TimetableEntry) -> EntryLine {
    EntryLine {
        start: clock_text(e.start),
        ends: clock_text(e.ends),
        room: e.room_name.clone(),
        room_href: format!("/rooms/{}/week?week={}", e.room, e.date),
        site: e.site_name.clone(),
        therapist: e.therapist_name.clone(),
        therapist_href: format!("/timetable/therapists/{}?week={}", e.therapist, e.date),
        state: e.state.label(),
        cancelled: e.state == SessionState::Cancelled,
        child: e.child.as_ref().map(child_line),
        session_href: e
            .child
            .as_ref()
            .and(e.session)
            .map(|id| format!("/sessions/{id}")),
        room_check: e
            .child
            .as_ref()
            .and(e.room_check)
            .filter(|_| e.state != SessionState::Cancelled)
            .map(|c| c.label()),
    }
}

struct DayLine {
    heading: String,
    /// The accessible name of the day's table.
    label: String,
    /// For ids and labels: `2027-01-04`.
    iso: String,
    today: bool,
    entries: Vec<EntryLine>,
}

/// The days, each table named `{what} on Monday 04/01/2027`.
fn day_lines(days: &[TimetableDay], today: &str, what: &str) -> Vec<DayLine> {
    days.iter()
        .map(|d| DayLine {
            heading: day_heading(d.date),
            label: format!("{what} on {}", day_heading(d.date)),
            iso: d.date.to_string(),
            today: d.date.to_string() == today,
            entries: d.entries.iter().map(entry_line).collect(),
        })
        .collect()
}

struct OutlookLine {
    child: ChildLine,
    next_break: Option<String>,
    sessions_before: String,
    ending: Option<String>,
    sessions_left: String,
}

fn sessions(n: u32) -> String {
    if n == 1 {
        "1 session".to_owned()
    } else {
        format!("{n} sessions")
    }
}

fn outlook_line(o: &CaseOutlook) -> OutlookLine {
    let b = o.outlook.next_break.as_ref();
    let e = o.outlook.ending.as_ref();
    OutlookLine {
        child: child_line(&o.child),
        next_break: b.map(|b| {
            format!(
                "{} from {}{}",
                b.what,
                day_heading(b.first_day),
                b.resumes
                    .map(|r| format!("; back on {}", day_heading(r)))
                    .unwrap_or_default()
            )
        }),
        sessions_before: b.map(|b| sessions(b.sessions_before)).unwrap_or_default(),
        ending: e.map(|e| {
            let mut text = format!("Last session {}", day_heading(e.last_day));
            if e.short_notice {
                text.push_str(" (short notice)");
            } else if e.counting_down {
                text.push_str(" (counting down)");
            }
            text
        }),
        sessions_left: e.map(|e| sessions(e.sessions_left)).unwrap_or_default(),
    }
}

/// Previous, this and next: (text, href).
struct Pager {
    label: &'static str,
    links: Vec<(&'static str, String)>,
}

/// Links to the weeks before and after the one shown (`monday`, a `YYYY-MM-DD`), and to
/// this week.
fn week_pager(base: &str, previous: String, this_week: String, next: String) -> Pager {
    Pager {
        label: "Weeks",
        links: vec![
            ("Previous week", format!("{base}?week={previous}")),
            ("This week", format!("{base}?week={this_week}")),
            ("Next week", format!("{base}?week={next}")),
        ],
    }
}

#[derive(Template)]
#[template(path = "timetable_week.html")]
struct TherapistWeekPage {
    layout: Layout,
    title: String,
    therapist_id: String,
    week_label: String,
    monday_iso: String,
    pager: Pager,
    days: Vec<DayLine>,
    outlooks: Vec<OutlookLine>,
    therapists: Vec<(String, String)>,
}

async fn week_page(
    state: &AppState,
    actor: &alliance_service::Actor,
    auth: &crate::auth::Auth,
    therapist: UserId,
    week: Option<&str>,
) -> Result<Response, PageError> {
    let monday = state
        .alliance
        .week_named(week, "week")
        .map_err(|i| page_error(i.into()))?;
    let week = state
        .alliance
        .therapist_week(actor, therapist, monday)
        .await
        .map_err(page_error)?;
    let therapists = state
        .alliance
        .timetable_therapists(actor)
        .await
        .map_err(page_error)?;
    let own = therapist == actor.user.id;
    let today = state.alliance.today().to_string();
    let base = if own {
        "/timetable".to_owned()
    } else {
        format!("/timetable/therapists/{therapist}")
    };
    let page = TherapistWeekPage {
        layout: Layout::load(state, "timetable", auth).await?,
        title: if own {
            "Your week".to_owned()
        } else {
            format!("{}'s week", week.therapist_name)
        },
        therapist_id: therapist.to_string(),
        week_label: day_heading(week.monday),
        monday_iso: week.monday.to_string(),
        pager: week_pager(
            &base,
            days_on(week.monday, -7).to_string(),
            monday_of(state.alliance.today()).to_string(),
            days_on(week.monday, 7).to_string(),
        ),
        days: day_lines(&week.days, &today, "Sessions"),
        outlooks: week.outlooks.iter().map(outlook_line).collect(),
        therapists: therapists
            .into_iter()
            .map(|(id, name)| (id.to_string(), name))
            .collect(),
    };
    Ok(render(&page)?.into_response())
}

async fn own_week(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Query(query): Query<WhenQuery>,
) -> Result<Response, PageError> {
    // The form that picks another therapist's week sends their id here.
    if let Some(raw) = query.therapist.as_deref().filter(|t| !t.is_empty()) {
        let id = UserId::parse(raw).map_err(|_| page_error(AppError::NotFound))?;
        let week = query
            .week
            .as_deref()
            .filter(|w| !w.trim().is_empty())
            .map(|w| format!("?week={}", urlencoding(w)))
            .unwrap_or_default();
        let to = if id == actor.user.id {
            format!("/timetable{week}")
        } else {
            format!("/timetable/therapists/{id}{week}")
        };
        return Ok(Redirect::to(&to).into_response());
    }
    week_page(&state, &actor, &auth, actor.user.id, query.week.as_deref()).await
}

/// A query value made safe to put back in a URL (dates only hold digits, `-` and `/`).
fn urlencoding(raw: &str) -> String {
    raw.chars()
        .filter(|c| c.is_ascii_digit() || matches!(c, '-'))
        .collect()
}

async fn therapist_week(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Query(query): Query<WhenQuery>,
) -> Result<Response, PageError> {
    let id = UserId::parse(&id).map_err(|_| page_error(AppError::NotFound))?;
    week_page(&state, &actor, &auth, id, query.week.as_deref()).await
}

#[derive(Template)]
#[template(path = "room_week.html")]
struct RoomWeekPage {
    layout: Layout,
    title: String,
    room_id: String,
    room: String,
    site: String,
    site_id: String,
    week_label: String,
    pager: Pager,
    days: Vec<DayLine>,
}

async fn room_week(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Query(query): Query<WhenQuery>,
) -> Result<Response, PageError> {
    let id = RoomId::parse(&id).map_err(|_| page_error(AppError::NotFound))?;
    let monday = state
        .alliance
        .week_named(query.week.as_deref(), "week")
        .map_err(|i| page_error(i.into()))?;
    let week = state
        .alliance
        .room_week(&actor, id, monday)
        .await
        .map_err(page_error)?;
    let today = state.alliance.today().to_string();
    let page = RoomWeekPage {
        layout: Layout::load(&state, "sites", &auth).await?,
        title: format!("{}, {}", week.room.details.name, week.site.details.name),
        room_id: id.to_string(),
        room: week.room.details.name.clone(),
        site: week.site.details.name.clone(),
        site_id: week.site.id.to_string(),
        week_label: day_heading(week.monday),
        pager: week_pager(
            &format!("/rooms/{id}/week"),
            days_on(week.monday, -7).to_string(),
            monday_of(state.alliance.today()).to_string(),
            days_on(week.monday, 7).to_string(),
        ),
        days: day_lines(
            &week.days,
            &today,
            &format!("Bookings of {}", week.room.details.name),
        ),
    };
    Ok(render(&page)?.into_response())
}

struct RoomColumn {
    name: String,
    /// The accessible name of the room's table.
    label: String,
    href: String,
    active: bool,
    entries: Vec<EntryLine>,
}

#[derive(Template)]
#[template(path = "site_day.html")]
struct SiteDayPage {
    layout: Layout,
    site: String,
    site_id: String,
    day_label: String,
    pager: Pager,
    rooms: Vec<RoomColumn>,
}

async fn site_day(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Query(query): Query<WhenQuery>,
) -> Result<Response, PageError> {
    let id = SiteId::parse(&id).map_err(|_| page_error(AppError::NotFound))?;
    let date = state
        .alliance
        .day_named(query.date.as_deref(), "date")
        .map_err(|i| page_error(i.into()))?;
    let day = state
        .alliance
        .site_day(&actor, id, date)
        .await
        .map_err(page_error)?;
    let today = state.alliance.today().to_string();
    let at = |d: String| format!("/sites/{id}/day?date={d}");
    let page = SiteDayPage {
        layout: Layout::load(&state, "sites", &auth).await?,
        site: day.site.details.name.clone(),
        site_id: id.to_string(),
        day_label: day_heading(day.date),
        pager: Pager {
            label: "Days",
            links: vec![
                ("Previous day", at(days_on(day.date, -1).to_string())),
                ("Today", at(today.clone())),
                ("Next day", at(days_on(day.date, 1).to_string())),
            ],
        },
        rooms: day
            .rooms
            .iter()
            .map(|r| RoomColumn {
                name: r.room.details.name.clone(),
                label: format!(
                    "Bookings of {} on {}",
                    r.room.details.name,
                    day_heading(day.date)
                ),
                href: format!("/rooms/{}/week?week={}", r.room.id, day.date),
                active: r.room.active,
                entries: r.entries.iter().map(entry_line).collect(),
            })
            .collect(),
    };
    Ok(render(&page)?.into_response())
}
