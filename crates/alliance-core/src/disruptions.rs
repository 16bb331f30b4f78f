//! Disruptions to sessions (issue 16): a knock at the door, noise, a fire drill, a room taken
//! away, a session cut short, a phone. Logged in two taps during or after a session (the
//! minutes lost, then the kind) so that the causes can be found and removed; reported per
//! site and room over a period. Pure rules; no IO.
//!
//! A disruption is about a room and a session, never about the child: it stores the session,
//! its room and site, the date, the kind, the minutes lost, who logged it and when, and an
//! optional short note (plain text, at most [`NOTE_MAX`] characters; users are told not to
//! name children). The report holds no child identity at all: only sites, rooms, kinds and
//! figures.
//!
//! Who may log one ([`may_log`]): the session's therapist, or whoever may write the child's
//! schedule (the case team, administrators). Anyone else is refused as if the session did not
//! exist. A mistaken entry is withdrawn by its author ([`may_withdraw`]): kept, marked
//! withdrawn, and left out of the report.
//!
//! Who reads the report ([`report_scope`]): administrators and the service lead, every
//! session; a therapist, only the sessions they ran themselves (so they can see what gets in
//! the way of their own work); nobody else (supervisors, the DSL and staff have no part in
//! room bookings).

use crate::access::Access;
use crate::directory::{RoomId, SiteId, uuid_id};
use crate::error::parse_optional_line;
use crate::identity::{Role, User, UserId};
use crate::policy::Decision;
use crate::schedule::BookingId;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

uuid_id!(DisruptionId, "a disruption");

/// The most characters of a disruption's note.
pub const NOTE_MAX: usize = 200;
/// The minutes offered as one tap each.
pub const MINUTE_PRESETS: [u16; 6] = [0, 2, 5, 10, 15, 30];
/// The minutes chosen until the user picks another.
pub const DEFAULT_MINUTES: u16 = 2;
/// The most minutes one disruption may cost (a whole long session).
pub const MAX_MINUTES: u16 = 240;

/// What got in the way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Someone knocked, or walked in.
    Knock,
    Noise,
    /// A fire alarm or a drill.
    Alarm,
    /// The room was not available, or was changed at short notice.
    Room,
    /// The session was cut short.
    CutShort,
    /// A phone rang or had to be answered.
    Phone,
    Other,
}

impl Kind {
    /// In the order the buttons and the report's columns show them.
    pub const ALL: [Kind; 7] = [
        Kind::Knock,
        Kind::Noise,
        Kind::Alarm,
        Kind::Room,
        Kind::CutShort,
        Kind::Phone,
        Kind::Other,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Kind::Knock => "knock",
            Kind::Noise => "noise",
            Kind::Alarm => "alarm",
            Kind::Room => "room",
            Kind::CutShort => "cut-short",
            Kind::Phone => "phone",
            Kind::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Kind::Knock => "Knock or walk-in",
            Kind::Noise => "Noise",
            Kind::Alarm => "Alarm or drill",
            Kind::Room => "Room unavailable or changed",
            Kind::CutShort => "Session cut short",
            Kind::Phone => "Phone",
            Kind::Other => "Other",
        }
    }

    pub fn parse(raw: &str) -> Result<Kind, String> {
        let raw = raw.trim();
        Kind::ALL
            .into_iter()
            .find(|k| k.code() == raw)
            .ok_or_else(|| "Choose what got in the way".to_owned())
    }
}

/// The minutes lost as typed or tapped: a whole number from 0 to [`MAX_MINUTES`]; empty
/// means the default.
pub fn parse_minutes(raw: &str) -> Result<u16, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(DEFAULT_MINUTES);
    }
    match raw.parse::<u16>() {
        Ok(m) if m <= MAX_MINUTES => Ok(m),
        _ => Err(format!(
            "Enter the minutes lost as a whole number from 0 to {MAX_MINUTES}"
        )),
    }
}

/// The optional note: one line, at most [`NOTE_MAX`] characters.
pub fn parse_note(raw: &str) -> Result<Option<String>, String> {
    parse_optional_line(raw, NOTE_MAX)
}

/// Whether `user` may log a disruption to a session: its therapist, or whoever may write the
/// child's schedule (`schedule` is their access to it).
pub fn may_log(user: &User, session_therapist: UserId, schedule: Access) -> Decision {
    if !user.active {
        return Decision::Deny("this account is deactivated");
    }
    if user.id == session_therapist || schedule.may_write() {
        Decision::Allow
    } else {
        Decision::Deny("only the session's therapist or the child's team may log a disruption")
    }
}

/// Whether `user` may withdraw a disruption `logged_by` logged: only its author.
pub fn may_withdraw(user: &User, logged_by: UserId) -> Decision {
    if user.active && user.id == logged_by {
        Decision::Allow
    } else {
        Decision::Deny("only the person who logged a disruption may withdraw it")
    }
}

/// Which sessions the report covers for a reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportScope {
    /// Every session (administrators, the service lead).
    All,
    /// Only the sessions this therapist ran.
    OwnSessions(UserId),
}

/// Who reads the report, and of which sessions (none: refused).
pub fn report_scope(user: &User) -> Option<ReportScope> {
    if !user.active {
        return None;
    }
    if user.has_role(Role::Administrator) || user.has_role(Role::ServiceLead) {
        Some(ReportScope::All)
    } else if user.has_role(Role::Therapist) {
        Some(ReportScope::OwnSessions(user.id))
    } else {
        None
    }
}

/// One disruption, as the report counts it (withdrawn ones are left out before).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    pub site: SiteId,
    pub room: RoomId,
    pub session: BookingId,
    pub kind: Kind,
    pub minutes: u16,
}

/// One session held in a room in the period (not cancelled).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    pub site: SiteId,
    pub room: RoomId,
    pub session: BookingId,
}

/// Count and minutes lost for one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct KindFigures {
    pub count: u32,
    pub minutes: u32,
}

/// The figures for one room or one site.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Figures {
    /// By kind, in [`Kind::ALL`]'s order (every kind, zeros included).
    pub by_kind: Vec<(Kind, KindFigures)>,
    pub count: u32,
    pub minutes: u32,
    /// Sessions held there in the period (a session with a disruption logged counts as held).
    pub sessions_held: u32,
    /// Sessions with at least one disruption.
    pub sessions_disrupted: u32,
    /// The kind with the most disruptions (ties: more minutes, then [`Kind::ALL`]'s order);
    /// none when there were none.
    pub top_cause: Option<Kind>,
}

impl Figures {
    /// The share of sessions disrupted, in tenths of a per cent (rounded half up), so the
    /// arithmetic stays whole: 1 of 3 is 333 (33.3%).
    pub fn share_tenths(&self) -> u32 {
        if self.sessions_held == 0 {
            return 0;
        }
        let num = u64::from(self.sessions_disrupted) * 1000;
        let held = u64::from(self.sessions_held);
        u32::try_from((num * 2 + held) / (held * 2)).unwrap_or(u32::MAX)
    }

    /// "33.3%".
    pub fn share_words(&self) -> String {
        let t = self.share_tenths();
        format!("{}.{}%", t / 10, t % 10)
    }

    fn from(disruptions: &[&Counted], held: &BTreeSet<BookingId>) -> Figures {
        let mut by_kind: BTreeMap<Kind, KindFigures> = BTreeMap::new();
        let mut disrupted = BTreeSet::new();
        for d in disruptions {
            let f = by_kind.entry(d.kind).or_default();
            f.count += 1;
            f.minutes += u32::from(d.minutes);
            disrupted.insert(d.session);
        }
        let all_held: BTreeSet<BookingId> = held.union(&disrupted).copied().collect();
        let top_cause = Kind::ALL
            .into_iter()
            .filter_map(|k| by_kind.get(&k).map(|f| (k, *f)))
            .filter(|(_, f)| f.count > 0)
            // max_by_key keeps the last of equals: reverse the order so the first kind wins.
            .rev()
            .max_by_key(|(_, f)| (f.count, f.minutes))
            .map(|(k, _)| k);
        Figures {
            by_kind: Kind::ALL
                .into_iter()
                .map(|k| (k, by_kind.get(&k).copied().unwrap_or_default()))
                .collect(),
            count: by_kind.values().map(|f| f.count).sum(),
            minutes: by_kind.values().map(|f| f.minutes).sum(),
            sessions_held: u32::try_from(all_held.len()).unwrap_or(u32::MAX),
            sessions_disrupted: u32::try_from(disrupted.len()).unwrap_or(u32::MAX),
            top_cause,
        }
    }
}

/// One site's figures, with its rooms'.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteReport {
    pub site: SiteId,
    pub figures: Figures,
    /// Every room with a session held or a disruption, by id (the caller orders by name).
    pub rooms: Vec<(RoomId, Figures)>,
}

/// The report: per site, and per room within it, over the sessions given.
pub fn report(disruptions: &[Counted], held: &[Held]) -> Vec<SiteReport> {
    let mut sites: BTreeSet<SiteId> = BTreeSet::new();
    let mut rooms: BTreeMap<SiteId, BTreeSet<RoomId>> = BTreeMap::new();
    for (site, room) in disruptions
        .iter()
        .map(|d| (d.site, d.room))
        .chain(held.iter().map(|h| (h.site, h.room)))
    {
        sites.insert(site);
        rooms.entry(site).or_default().insert(room);
    }
    sites
        .into_iter()
        .map(|site| {
            let in_site: Vec<&Counted> = disruptions.iter().filter(|d| d.site == site).collect();
            let held_site: BTreeSet<BookingId> = held
                .iter()
                .filter(|h| h.site == site)
                .map(|h| h.session)
                .collect();
            let room_figures = rooms
                .get(&site)
                .into_iter()
                .flatten()
                .map(|&room| {
                    let in_room: Vec<&Counted> =
                        in_site.iter().copied().filter(|d| d.room == room).collect();
                    let held_room: BTreeSet<BookingId> = held
                        .iter()
                        .filter(|h| h.site == site && h.room == room)
                        .map(|h| h.session)
                        .collect();
                    (room, Figures::from(&in_room, &held_room))
                })
                .collect();
            SiteReport {
                site,
                figures: Figures::from(&in_site, &held_site),
                rooms: room_figures,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{RegistrationBody, Username};
    use crate::version::Version;
    use jiff::Timestamp;

    fn id(n: u128) -> uuid::Uuid {
        uuid::Uuid::from_u128(n)
    }

    fn user(roles: &[Role]) -> User {
        User {
            id: UserId(id(900)),
            username: Username::parse("someone").unwrap_or_else(|_| unreachable!()),
            display_name: "Someone".to_owned(),
            roles: roles.to_vec(),
            registration: RegistrationBody::None,
            registration_number: None,
            email: None,
            active: true,
            totp_enrolled: false,
            version: Version::FIRST,
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn kinds_parse_from_their_codes_and_nothing_else() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.code()), Ok(k));
            assert_eq!(Kind::parse(&format!(" {} ", k.code())), Ok(k));
        }
        for bad in ["", "Knock", "cut_short", "fire"] {
            assert!(Kind::parse(bad).is_err(), "{bad}");
        }
        let codes: BTreeSet<&str> = Kind::ALL.iter().map(|k| k.code()).collect();
        assert_eq!(codes.len(), Kind::ALL.len());
    }

    #[test]
    fn minutes_default_to_two_and_stay_in_range() {
        assert_eq!(parse_minutes(""), Ok(2));
        assert_eq!(parse_minutes(" 15 "), Ok(15));
        assert_eq!(parse_minutes("0"), Ok(0));
        assert_eq!(parse_minutes("240"), Ok(240));
        for bad in ["241", "-1", "2.5", "ten"] {
            assert!(parse_minutes(bad).is_err(), "{bad}");
        }
        assert!(MINUTE_PRESETS.contains(&DEFAULT_MINUTES));
    }

    #[test]
    fn notes_are_short_and_optional() {
        assert_eq!(parse_note("  "), Ok(None));
        assert_eq!(parse_note("Builders"), Ok(Some("Builders".to_owned())));
        assert!(parse_note(&"x".repeat(NOTE_MAX + 1)).is_err());
    }

    #[test]
    fn the_therapist_or_the_schedule_writer_logs_and_nobody_else() {
        let me = user(&[Role::Therapist]);
        assert!(may_log(&me, me.id, Access::None).is_allowed());
        let other = UserId(id(1));
        assert!(!may_log(&me, other, Access::None).is_allowed());
        assert!(!may_log(&me, other, Access::Read).is_allowed());
        assert!(
            !may_log(
                &me,
                other,
                Access::Limited(crate::access::Limit::OwnSessions)
            )
            .is_allowed()
        );
        assert!(may_log(&me, other, Access::Write).is_allowed());
        let mut gone = me.clone();
        gone.active = false;
        assert!(!may_log(&gone, gone.id, Access::Write).is_allowed());
        assert!(may_withdraw(&me, me.id).is_allowed());
        assert!(!may_withdraw(&me, other).is_allowed());
    }

    #[test]
    fn the_report_is_for_administrators_the_service_lead_and_therapists_own_sessions() {
        assert_eq!(
            report_scope(&user(&[Role::Administrator])),
            Some(ReportScope::All)
        );
        assert_eq!(
            report_scope(&user(&[Role::ServiceLead])),
            Some(ReportScope::All)
        );
        let t = user(&[Role::Therapist]);
        assert_eq!(report_scope(&t), Some(ReportScope::OwnSessions(t.id)));
        for r in [Role::Supervisor, Role::Dsl, Role::DeputyDsl, Role::Staff] {
            assert_eq!(report_scope(&user(&[r])), None, "{r:?}");
        }
    }

    #[test]
    fn the_reports_arithmetic_matches_a_hand_count() {
        let (s1, s2) = (SiteId(id(1)), SiteId(id(2)));
        let (r1, r2, r3) = (RoomId(id(11)), RoomId(id(12)), RoomId(id(21)));
        let b = |n: u128| BookingId(id(100 + n));
        let d = |site, room, session, kind, minutes| Counted {
            site,
            room,
            session: b(session),
            kind,
            minutes,
        };
        // Room 1: sessions 1-4 held; 1 had a knock (2) and noise (5), 2 a knock (10).
        // Room 2: sessions 5-6 held; 5 had an alarm (15). Room 3 (site 2): session 7 held and
        // 8, cancelled but with a phone (0) logged, counts as held.
        let disruptions = [
            d(s1, r1, 1, Kind::Knock, 2),
            d(s1, r1, 1, Kind::Noise, 5),
            d(s1, r1, 2, Kind::Knock, 10),
            d(s1, r2, 5, Kind::Alarm, 15),
            d(s2, r3, 8, Kind::Phone, 0),
        ];
        let h = |site, room, n| Held {
            site,
            room,
            session: b(n),
        };
        let held = [
            h(s1, r1, 1),
            h(s1, r1, 2),
            h(s1, r1, 3),
            h(s1, r1, 4),
            h(s1, r2, 5),
            h(s1, r2, 6),
            h(s2, r3, 7),
        ];
        let report = report(&disruptions, &held);
        assert_eq!(report.len(), 2);
        let site1 = &report[0];
        assert_eq!(site1.site, s1);
        assert_eq!(site1.figures.count, 4);
        assert_eq!(site1.figures.minutes, 32);
        assert_eq!(site1.figures.sessions_held, 6);
        assert_eq!(site1.figures.sessions_disrupted, 3);
        assert_eq!(site1.figures.share_words(), "50.0%");
        assert_eq!(site1.figures.top_cause, Some(Kind::Knock));
        let knock = site1.figures.by_kind[0];
        assert_eq!(
            knock,
            (
                Kind::Knock,
                KindFigures {
                    count: 2,
                    minutes: 12
                }
            )
        );
        let room1 = &site1.rooms[0].1;
        assert_eq!((room1.count, room1.minutes), (3, 17));
        assert_eq!((room1.sessions_held, room1.sessions_disrupted), (4, 2));
        assert_eq!(room1.share_words(), "50.0%");
        let room2 = &site1.rooms[1].1;
        assert_eq!(
            (room2.count, room2.minutes, room2.sessions_held),
            (1, 15, 2)
        );
        assert_eq!(room2.top_cause, Some(Kind::Alarm));
        let site2 = &report[1];
        assert_eq!(site2.figures.sessions_held, 2);
        assert_eq!(site2.figures.sessions_disrupted, 1);
        assert_eq!(site2.figures.top_cause, Some(Kind::Phone));
        assert_eq!(site2.figures.share_words(), "50.0%");
    }

    #[test]
    fn shares_round_half_up_and_ties_go_to_more_minutes_then_the_first_kind() {
        let f = |held, disrupted| Figures {
            sessions_held: held,
            sessions_disrupted: disrupted,
            ..Figures::default()
        };
        assert_eq!(f(3, 1).share_words(), "33.3%");
        assert_eq!(f(3, 2).share_words(), "66.7%");
        assert_eq!(f(0, 0).share_words(), "0.0%");
        assert_eq!(f(8, 1).share_words(), "12.5%");
        let (s, r) = (SiteId(id(1)), RoomId(id(2)));
        let c = |n, kind, minutes| Counted {
            site: s,
            room: r,
            session: BookingId(id(n)),
            kind,
            minutes,
        };
        let tie = report(&[c(1, Kind::Noise, 5), c(2, Kind::Knock, 5)], &[]);
        assert_eq!(tie[0].figures.top_cause, Some(Kind::Knock));
        let more = report(&[c(1, Kind::Noise, 6), c(2, Kind::Knock, 5)], &[]);
        assert_eq!(more[0].figures.top_cause, Some(Kind::Noise));
        assert_eq!(report(&[], &[]), Vec::new());
    }
}
