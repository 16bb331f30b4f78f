//! Use-cases: Disruptions to sessions (issue 16): the kinds, minutes lost, and the report per room and site over a period.
//!
//! The rules are `alliance_core::disruptions`. A session's disruption page and its log pass
//! the child's gate first (a reader who may not know the child gets "not found", audited),
//! then [`alliance_core::disruptions::may_log`]: the session's therapist or whoever may write
//! the child's schedule; anyone else is refused as if the session did not exist (audited as
//! for a child not known). A disruption stores no child id and no child content; its note is
//! short, plain and optional. Each log and each withdrawal commits with its audit entry
//! (`DisruptionLogged`; a withdrawal is the same action with the detail `withdrawn`).
//!
//! The report reads only disruptions and bookings: sites, rooms, kinds and figures, never a
//! child. Administrators and the service lead read every session; a therapist only the
//! sessions they ran; nobody else. A session counts as held in the period unless it was
//! cancelled or the child did not attend; a session with a disruption logged counts as held
//! whatever its attendance. Reading it is audited (`DisruptionReportRead`).
//!
//! The printable "Session in progress" sign is directory data: the room's name and site and
//! the start and end of its therapy sessions that week, never a name, a child or a case.

use crate::app::Alliance;
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::store::{StoreError, StoredDisruption, StoredSession};
use alliance_core::access::{self, ChildData};
use alliance_core::audit::{self, Event};
use alliance_core::directory::{Room, RoomId, Site, SiteId};
use alliance_core::disruptions::{
    self as dr, Counted, DisruptionId, Figures, Held, Kind, ReportScope,
};
use alliance_core::policy::{Action, Decision};
use alliance_core::schedule::{AttendanceKind, BookingId};
use alliance_core::{Invalid, Validator};
use jiff::ToSpan;
use jiff::civil::{Date, Time};
use std::collections::{BTreeSet, HashMap};

/// The record type of a disruption in the audit trail.
pub const RECORD_TYPE: &str = "disruption";
/// The longest period one report covers.
pub const LONGEST_PERIOD_DAYS: i32 = 400;

/// A disruption as typed (the two taps, and the optional note).
#[derive(Debug, Clone, Default)]
pub struct DisruptionInput {
    pub kind: String,
    /// Empty: the default (2 minutes).
    pub minutes: String,
    pub note: String,
}

/// One disruption, as its session's page shows it.
#[derive(Debug, Clone)]
pub struct DisruptionView {
    pub stored: StoredDisruption,
    pub logged_by: String,
    /// Its author, while it stands.
    pub may_withdraw: bool,
}

/// A session's disruption page: where and when, and what was logged.
#[derive(Debug, Clone)]
pub struct SessionDisruptions {
    pub session: BookingId,
    pub date: Date,
    pub start: Time,
    pub end: Time,
    pub minutes: u16,
    pub room: RoomId,
    pub room_name: String,
    pub site: SiteId,
    pub site_name: String,
    /// Oldest first, withdrawn ones too.
    pub disruptions: Vec<DisruptionView>,
}

/// One room's line of the report.
#[derive(Debug, Clone)]
pub struct RoomFigures {
    pub room: RoomId,
    pub name: String,
    pub figures: Figures,
}

/// One site's part of the report.
#[derive(Debug, Clone)]
pub struct SiteFigures {
    pub site: SiteId,
    pub name: String,
    pub figures: Figures,
    /// By name.
    pub rooms: Vec<RoomFigures>,
}

/// The report over a period.
#[derive(Debug, Clone)]
pub struct DisruptionReport {
    pub from: Date,
    pub until: Date,
    pub site: Option<SiteId>,
    /// Only the reader's own sessions (a therapist).
    pub own_sessions_only: bool,
    /// By name.
    pub sites: Vec<SiteFigures>,
}

/// A room's sign for one week.
#[derive(Debug, Clone)]
pub struct RoomSign {
    pub room: Room,
    pub site: Site,
    /// The Monday.
    pub week: Date,
    /// The Mondays before and after.
    pub previous: Date,
    pub next: Date,
    /// Each day with sessions, Monday first: the start and end of each, in order.
    pub days: Vec<(Date, Vec<(Time, Time)>)>,
}

/// Whether a session took place (or may have): neither cancelled nor missed.
pub(crate) fn held(session: &StoredSession) -> bool {
    !matches!(
        session.attendance.as_ref().map(|a| a.kind()),
        Some(
            AttendanceKind::DidNotAttend
                | AttendanceKind::CancelledByChildOrFamily
                | AttendanceKind::CancelledBySchool
                | AttendanceKind::CancelledByTherapist
        )
    )
}

fn event(action: audit::Action, actor: &Actor, id: DisruptionId) -> Event {
    Event::new(
        action,
        Some(actor.user.id.to_string()),
        RECORD_TYPE,
        Some(id.to_string()),
    )
}

impl Alliance {
    /// The session, through the child's gate and the rule of who may log: "not found"
    /// (audited) for anyone else.
    async fn disruption_gate(
        &self,
        actor: &Actor,
        id: BookingId,
        asked: &str,
    ) -> AppResult<StoredSession> {
        let session = self
            .store
            .booked_session(id)
            .await?
            .ok_or(AppError::NotFound)?;
        let (standing, _) = self.get_child_gate(actor, session.child_id, asked).await?;
        let schedule = access::child_access(&actor.user, &standing, ChildData::Schedule);
        if let Decision::Deny(_) = dr::may_log(&actor.user, session.booking.therapist, schedule) {
            self.audit_refusal(actor, asked, "session", id.to_string(), session.child_id)
                .await?;
            return Err(AppError::NotFound);
        }
        Ok(session)
    }

    /// A session's disruption page (the session's therapist, or whoever may write the
    /// child's schedule).
    pub async fn session_disruptions(
        &self,
        actor: &Actor,
        id: BookingId,
    ) -> AppResult<SessionDisruptions> {
        let session = self
            .disruption_gate(actor, id, "read session disruptions")
            .await?;
        let stored = self.store.disruptions_of_session(id).await?;
        let names = self
            .staff_names(&stored.iter().map(|d| d.logged_by).collect::<Vec<_>>())
            .await?;
        let room = self
            .store
            .room(session.booking.room)
            .await?
            .ok_or(AppError::NotFound)?;
        let site = self
            .store
            .site(room.site_id)
            .await?
            .ok_or(AppError::NotFound)?;
        Ok(SessionDisruptions {
            session: id,
            date: session.booking.date,
            start: session.booking.start,
            end: session
                .booking
                .start
                .checked_add(i64::from(session.booking.minutes).minutes())
                .unwrap_or(session.booking.start),
            minutes: session.booking.minutes,
            room: room.id,
            room_name: room.details.name.clone(),
            site: site.id,
            site_name: site.details.name.clone(),
            disruptions: stored
                .into_iter()
                .map(|d| DisruptionView {
                    logged_by: names.get(&d.logged_by).cloned().unwrap_or_default(),
                    may_withdraw: d.withdrawn_at.is_none()
                        && dr::may_withdraw(&actor.user, d.logged_by).is_allowed()
                        && actor.may_write(),
                    stored: d,
                })
                .collect(),
        })
    }

    /// Logs a disruption to a session.
    pub async fn log_disruption(
        &self,
        actor: &Actor,
        id: BookingId,
        input: &DisruptionInput,
    ) -> AppResult<StoredDisruption> {
        let session = self.disruption_gate(actor, id, "log disruption").await?;
        actor.ensure_may_write()?;
        let mut v = Validator::new();
        let kind = v.check("kind", Kind::parse(&input.kind));
        let minutes = v.check("minutes", dr::parse_minutes(&input.minutes));
        let note = v.check("note", dr::parse_note(&input.note));
        v.finish()?;
        let (Some(kind), Some(minutes), Some(note)) = (kind, minutes, note) else {
            return Err(Invalid::field("kind", "Choose what got in the way").into());
        };
        let room = self
            .store
            .room(session.booking.room)
            .await?
            .ok_or(AppError::NotFound)?;
        let now = self.clock.now();
        let disruption = StoredDisruption {
            id: DisruptionId(self.new_id()),
            session: id,
            room: room.id,
            site: room.site_id,
            date: session.booking.date,
            kind,
            minutes,
            note,
            logged_by: actor.user.id,
            logged_at: now,
            withdrawn_by: None,
            withdrawn_at: None,
        };
        let audit = self.audit_batch(
            &actor.origin,
            vec![
                event(audit::Action::DisruptionLogged, actor, disruption.id)
                    .detail(&format!("session {id}: {} ({minutes} min)", kind.code())),
            ],
        );
        self.store.log_disruption(&disruption, &audit).await?;
        Ok(disruption)
    }

    /// Withdraws a mistaken disruption (its author only): kept, marked withdrawn, audited,
    /// and left out of the report.
    pub async fn withdraw_disruption(
        &self,
        actor: &Actor,
        id: DisruptionId,
    ) -> AppResult<StoredDisruption> {
        let stored = self.store.disruption(id).await?.ok_or(AppError::NotFound)?;
        // Through the session's gate first: a stranger learns nothing.
        self.disruption_gate(actor, stored.session, "withdraw disruption")
            .await?;
        if let Decision::Deny(why) = dr::may_withdraw(&actor.user, stored.logged_by) {
            self.record(
                &actor.origin,
                vec![event(audit::Action::Denied, actor, id).detail("withdraw disruption")],
            )
            .await?;
            return Err(AppError::Denied(why));
        }
        actor.ensure_may_write()?;
        let audit = self.audit_batch(
            &actor.origin,
            vec![event(audit::Action::DisruptionLogged, actor, id).detail("withdrawn")],
        );
        match self
            .store
            .withdraw_disruption(id, actor.user.id, self.clock.now(), &audit)
            .await
        {
            Ok(d) => Ok(d),
            Err(StoreError::Conflict(_)) => Err(AppError::Conflict(
                "this disruption has already been withdrawn".to_owned(),
            )),
            Err(other) => Err(other.into()),
        }
    }

    /// The period a report covers, from the text of its query ("" for the default: the last
    /// 28 days to today).
    pub fn report_period(&self, from: &str, until: &str) -> Result<(Date, Date), Invalid> {
        let today = self.today();
        let mut v = Validator::new();
        let until = if until.trim().is_empty() {
            Some(today)
        } else {
            v.check("until", alliance_core::error::parse_date(until))
        };
        let from = if from.trim().is_empty() {
            until.and_then(|u| u.checked_sub(27.days()).ok())
        } else {
            v.check("from", alliance_core::error::parse_date(from))
        };
        v.finish()?;
        let (Some(from), Some(until)) = (from, until) else {
            return Err(Invalid::field("from", "Enter the start of the period"));
        };
        if from > until {
            return Err(Invalid::field(
                "until",
                "The end must not be before the start",
            ));
        }
        if from.until(until).map(|s| s.get_days()).unwrap_or(i32::MAX) > LONGEST_PERIOD_DAYS {
            return Err(Invalid::field(
                "from",
                format!("A report covers at most {LONGEST_PERIOD_DAYS} days"),
            ));
        }
        Ok((from, until))
    }

    /// The report per site and room over a period (audited as read).
    pub async fn disruption_report(
        &self,
        actor: &Actor,
        from: Date,
        until: Date,
        site: Option<SiteId>,
    ) -> AppResult<DisruptionReport> {
        let Some(scope) = dr::report_scope(&actor.user) else {
            self.record(
                &actor.origin,
                vec![
                    Event::new(
                        audit::Action::Denied,
                        Some(actor.user.id.to_string()),
                        "disruption-report",
                        None,
                    )
                    .detail("read disruption report"),
                ],
            )
            .await?;
            return Err(AppError::Denied(
                "the disruption report is for administrators, the service lead and therapists",
            ));
        };
        let sites = self.store.sites().await?;
        let rooms = self.store.rooms(None).await?;
        let rooms: Vec<Room> = rooms
            .into_iter()
            .filter(|r| site.is_none_or(|s| r.site_id == s))
            .collect();
        let room_site: HashMap<RoomId, SiteId> = rooms.iter().map(|r| (r.id, r.site_id)).collect();
        let sessions = match scope {
            ReportScope::All => {
                let ids: Vec<RoomId> = rooms.iter().map(|r| r.id).collect();
                if ids.is_empty() {
                    Vec::new()
                } else {
                    self.store.sessions_between(from, until, &ids, &[]).await?
                }
            }
            ReportScope::OwnSessions(me) => {
                self.store.sessions_between(from, until, &[], &[me]).await?
            }
        };
        let in_scope: BTreeSet<BookingId> = sessions
            .iter()
            .filter(|s| match scope {
                ReportScope::All => true,
                ReportScope::OwnSessions(me) => s.booking.therapist == me,
            })
            .map(|s| s.booking.id)
            .collect();
        let held_sessions: Vec<Held> = sessions
            .iter()
            .filter(|s| in_scope.contains(&s.booking.id) && held(s))
            .filter_map(|s| {
                room_site.get(&s.booking.room).map(|&site| Held {
                    site,
                    room: s.booking.room,
                    session: s.booking.id,
                })
            })
            .collect();
        let counted: Vec<Counted> = self
            .store
            .disruptions_between(from, until, site)
            .await?
            .into_iter()
            .filter(|d| match scope {
                ReportScope::All => true,
                ReportScope::OwnSessions(_) => in_scope.contains(&d.session),
            })
            .map(|d| Counted {
                site: d.site,
                room: d.room,
                session: d.session,
                kind: d.kind,
                minutes: d.minutes,
            })
            .collect();
        let site_names: HashMap<SiteId, String> = sites
            .iter()
            .map(|s| (s.id, s.details.name.clone()))
            .collect();
        let all_rooms = self.store.rooms(None).await?;
        let room_names: HashMap<RoomId, String> = all_rooms
            .iter()
            .map(|r| (r.id, r.details.name.clone()))
            .collect();
        let mut out: Vec<SiteFigures> = dr::report(&counted, &held_sessions)
            .into_iter()
            .map(|s| {
                let mut rooms: Vec<RoomFigures> = s
                    .rooms
                    .into_iter()
                    .map(|(room, figures)| RoomFigures {
                        room,
                        name: room_names.get(&room).cloned().unwrap_or_default(),
                        figures,
                    })
                    .collect();
                rooms.sort_by(|a, b| a.name.cmp(&b.name));
                SiteFigures {
                    site: s.site,
                    name: site_names.get(&s.site).cloned().unwrap_or_default(),
                    figures: s.figures,
                    rooms,
                }
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        self.record(
            &actor.origin,
            vec![
                Event::new(
                    audit::Action::DisruptionReportRead,
                    Some(actor.user.id.to_string()),
                    "disruption-report",
                    None,
                )
                .detail(&format!(
                    "{from} to {until}{}",
                    site.map(|s| format!(", site {s}")).unwrap_or_default()
                )),
            ],
        )
        .await?;
        Ok(DisruptionReport {
            from,
            until,
            site,
            own_sessions_only: matches!(scope, ReportScope::OwnSessions(_)),
            sites: out,
        })
    }

    /// A room's "Session in progress" sign for the week `week` falls in (everyone who works
    /// here): the times of its therapy sessions, never who they are with.
    pub async fn room_sign(&self, actor: &Actor, id: RoomId, week: Date) -> AppResult<RoomSign> {
        self.require(
            actor,
            Action::ReadDirectory,
            "print room sign",
            "room",
            Some(id.to_string()),
        )
        .await?;
        let room = self.store.room(id).await?.ok_or(AppError::NotFound)?;
        let site = self
            .store
            .site(room.site_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let monday = crate::timetables::monday_of(week);
        let sunday = monday.checked_add(6.days()).unwrap_or(monday);
        let sessions = self
            .store
            .sessions_between(monday, sunday, &[id], &[])
            .await?;
        let mut days: Vec<(Date, Vec<(Time, Time)>)> = Vec::new();
        for s in sessions.iter().filter(|s| s.booking.room == id && held(s)) {
            let end = s
                .booking
                .start
                .checked_add(i64::from(s.booking.minutes).minutes())
                .unwrap_or(s.booking.start);
            match days.iter_mut().find(|(d, _)| *d == s.booking.date) {
                Some((_, times)) => times.push((s.booking.start, end)),
                None => days.push((s.booking.date, vec![(s.booking.start, end)])),
            }
        }
        days.sort_by_key(|(d, _)| *d);
        for (_, times) in &mut days {
            times.sort();
            times.dedup();
        }
        Ok(RoomSign {
            room,
            site,
            week: monday,
            previous: monday.checked_sub(7.days()).unwrap_or(monday),
            next: monday.checked_add(7.days()).unwrap_or(monday),
            days,
        })
    }
}

/// The demo service's disruptions: a few on past sessions (through the use-case, as the
/// administrator, who may write every child's schedule), so the report has figures.
pub(crate) async fn demo_disruptions(alliance: &Alliance, admin: &Actor) -> AppResult<()> {
    let today = alliance.today();
    let from = today.checked_sub(42.days()).unwrap_or(today);
    let until = today.checked_sub(1.days()).unwrap_or(today);
    let rooms: Vec<RoomId> = alliance
        .store
        .rooms(None)
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect();
    if rooms.is_empty() {
        return Ok(());
    }
    let sessions = alliance
        .store
        .sessions_between(from, until, &rooms, &[])
        .await?;
    let plan = [
        ("knock", "2", "A parent looking for the office"),
        ("noise", "5", "Assembly practice next door"),
        ("knock", "2", ""),
        ("alarm", "15", "Planned fire drill"),
        ("phone", "0", ""),
        ("room", "10", "Room double-booked for a meeting"),
        ("knock", "5", ""),
        ("cut-short", "10", "Pick-up time moved"),
    ];
    for (session, (kind, minutes, note)) in sessions.iter().filter(|s| held(s)).step_by(3).zip(plan)
    {
        alliance
            .log_disruption(
                admin,
                session.booking.id,
                &DisruptionInput {
                    kind: kind.to_owned(),
                    minutes: minutes.to_owned(),
                    note: note.to_owned(),
                },
            )
            .await?;
    }
    Ok(())
}
