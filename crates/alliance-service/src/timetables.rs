//! Timetables: a therapist's week, a room's week and a site's day, to read on a tablet and
//! to print.
//!
//! Everyone who works here may read them (the directory, policy section 1). A booking names
//! its child (by name, or by initials and case number) only to a reader the access rules let
//! know that child; to anyone else it is "Booked" and its time, with nothing that points at
//! the child (no session, case or child id). The decision is made in one place,
//! [`Alliance::children_shown`], with the same standing and rules as the list of children,
//! and a timetable that shows any child is audited as that list is: one entry naming the
//! children shown.

use crate::app::Alliance;
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::store::{StoredCase, StoredSession, UserFilter};
use alliance_core::access::{self, ChildData, child_access, may_know_child, sees_names};
use alliance_core::audit::{self, Event};
use alliance_core::cases::CaseId;
use alliance_core::children::ChildId;
use alliance_core::crypto::{KeyOwner, RecordClass};
use alliance_core::directory::{Room, RoomId, Site, SiteId};
use alliance_core::frame::FrameOutlook;
use alliance_core::identity::{Role, UserId};
use alliance_core::policy::Action;
use alliance_core::schedule::{Attendance, AttendanceKind};
use alliance_core::{Cursor, Invalid, PageRequest};
use jiff::ToSpan;
use jiff::civil::{Date, Time, Weekday};
use std::collections::{BTreeSet, HashMap};

/// What became of a session, as a timetable shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionState {
    Booked,
    /// Attended (late or not).
    Attended,
    DidNotAttend,
    /// Cancelled, by anyone: the room and time were given up.
    Cancelled,
}

impl SessionState {
    /// The state as a reader who may know the child sees it.
    pub fn of(attendance: Option<&Attendance>) -> Self {
        match attendance.map(Attendance::kind) {
            None => Self::Booked,
            Some(AttendanceKind::Attended | AttendanceKind::Late) => Self::Attended,
            Some(AttendanceKind::DidNotAttend) => Self::DidNotAttend,
            Some(
                AttendanceKind::CancelledByChildOrFamily
                | AttendanceKind::CancelledBySchool
                | AttendanceKind::CancelledByTherapist,
            ) => Self::Cancelled,
        }
    }

    /// The state as anyone else sees it: whether the room is taken, nothing about the child's
    /// attendance.
    pub fn of_room(attendance: Option<&Attendance>) -> Self {
        match Self::of(attendance) {
            Self::Cancelled => Self::Cancelled,
            _ => Self::Booked,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::Booked => "booked",
            Self::Attended => "attended",
            Self::DidNotAttend => "did-not-attend",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Booked => "Booked",
            Self::Attended => "Attended",
            Self::DidNotAttend => "Did not attend",
            Self::Cancelled => "Cancelled",
        }
    }
}

/// The child a booking is for, as this reader may see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildShown {
    pub child_id: ChildId,
    pub case_id: CaseId,
    /// `C00042`.
    pub case_number: String,
    /// The name the child is known by; absent for a reader who sees children only by
    /// initials and case number (a supervisor without named access).
    pub name: Option<String>,
    pub initials: String,
}

/// One booking in a timetable.
#[derive(Debug, Clone)]
pub struct TimetableEntry {
    pub date: Date,
    /// London wall-clock times.
    pub start: Time,
    pub ends: Time,
    pub minutes: u16,
    pub room: RoomId,
    pub room_name: String,
    pub site: SiteId,
    pub site_name: String,
    pub therapist: UserId,
    pub therapist_name: String,
    pub state: SessionState,
    /// Only for a reader who may know the child; `None` shows as "Booked".
    pub child: Option<ChildShown>,
    /// The session (its booking id), only where the child is shown: it leads to the session
    /// view (`/sessions/{id}`). A "Booked" entry never carries it.
    pub session: Option<alliance_core::schedule::BookingId>,
    /// Whether the session's room check is done, only where the child is shown.
    pub room_check: Option<alliance_core::room_care::CheckState>,
}

/// A day of a week, with its bookings in time order.
#[derive(Debug, Clone)]
pub struct TimetableDay {
    pub date: Date,
    pub entries: Vec<TimetableEntry>,
}

/// A case's next break and planned ending, for a case in the week the reader may know.
#[derive(Debug, Clone)]
pub struct CaseOutlook {
    pub child: ChildShown,
    pub outlook: FrameOutlook,
}

#[derive(Debug, Clone)]
pub struct TherapistWeek {
    pub therapist: UserId,
    pub therapist_name: String,
    pub monday: Date,
    /// Monday to Friday, and Saturday or Sunday when they hold a booking.
    pub days: Vec<TimetableDay>,
    /// One per case in the week whose child the reader may know, with a regular slot.
    pub outlooks: Vec<CaseOutlook>,
}

#[derive(Debug, Clone)]
pub struct RoomWeek {
    pub room: Room,
    pub site: Site,
    pub monday: Date,
    pub days: Vec<TimetableDay>,
}

/// A room's bookings on one day.
#[derive(Debug, Clone)]
pub struct RoomDay {
    pub room: Room,
    pub entries: Vec<TimetableEntry>,
}

#[derive(Debug, Clone)]
pub struct SiteDay {
    pub site: Site,
    pub date: Date,
    /// Every room in use, and any other room with a booking that day, by name.
    pub rooms: Vec<RoomDay>,
}

/// The Monday of the week `date` falls in.
pub fn monday_of(date: Date) -> Date {
    let back = i64::from(date.weekday().to_monday_zero_offset());
    date.checked_sub(back.days()).unwrap_or(date)
}

/// `Monday 04/01/2027`.
pub fn day_heading(date: Date) -> String {
    format!(
        "{} {}",
        alliance_core::schedule::weekday_label(date.weekday()),
        alliance_core::uk::date(date)
    )
}

/// The date `days` days on (or back, when negative).
pub fn days_on(date: Date, days: i64) -> Date {
    date.checked_add(days.days()).unwrap_or(date)
}

/// What one reader may see of one child, decided once for every booking of theirs.
#[derive(Debug, Clone)]
pub(crate) struct Shown {
    pub(crate) name: Option<String>,
    pub(crate) initials: String,
    /// Every case of the child by id, with its number.
    pub(crate) cases: HashMap<CaseId, String>,
}

impl Alliance {
    /// The week a `week` (or `date`) parameter names: empty means this week; any date is
    /// snapped to its Monday. Dates as 31/12/2026 or 2026-12-31.
    pub fn week_named(&self, raw: Option<&str>, field: &str) -> Result<Date, Invalid> {
        self.day_named(raw, field).map(monday_of)
    }

    /// The day a `date` parameter names: empty means today.
    pub fn day_named(&self, raw: Option<&str>, field: &str) -> Result<Date, Invalid> {
        match raw.map(str::trim).filter(|r| !r.is_empty()) {
            None => Ok(self.today()),
            Some(raw) => {
                alliance_core::error::parse_date(raw).map_err(|m| Invalid::field(field, m))
            }
        }
    }

    /// The children of these sessions that `actor` may know, and how: the one decision every
    /// timetable asks. The reader's standing with each child comes from the child's newest
    /// case and the reader's supervision links, exactly as for the list of children; a child
    /// is shown only where `may_know_child` holds and the schedule is the reader's to read,
    /// by name only where `sees_names` holds. A child whose identity key is gone is not shown.
    pub(crate) async fn children_shown(
        &self,
        actor: &Actor,
        sessions: &[StoredSession],
    ) -> AppResult<HashMap<ChildId, Shown>> {
        let children: BTreeSet<ChildId> = sessions.iter().map(|s| s.child_id).collect();
        if children.is_empty() {
            return Ok(HashMap::new());
        }
        let today = self.today();
        let supervisees = self.supervisees_of(actor).await?;
        let mut known: Vec<(ChildId, bool, Vec<StoredCase>)> = Vec::new();
        for child in children {
            let cases = self.store.cases_of(child).await?;
            let mut standing = access::standing(
                actor.user.id,
                cases.first().map(|c| &c.case),
                &supervisees,
                today,
            );
            standing.break_glass = self
                .break_glass_in_force(&actor.user, child, &standing)
                .await?;
            let may_know = may_know_child(&actor.user, &standing)
                && child_access(&actor.user, &standing, ChildData::Schedule).may_read();
            if may_know {
                known.push((child, sees_names(&actor.user, &standing), cases));
            }
        }
        let owner = |child: ChildId| KeyOwner::Child {
            child: child.to_string(),
            class: RecordClass::Identity,
        };
        let owners: Vec<KeyOwner> = known.iter().map(|(c, _, _)| owner(*c)).collect();
        let keys = self.keys.existing_data_keys(&owners).await?;
        let mut shown = HashMap::with_capacity(known.len());
        for (child, named, cases) in known {
            let (Some(key), Some(stored)) =
                (keys.get(&owner(child)), self.store.child(child).await?)
            else {
                continue;
            };
            let details = self.open_details(key, &stored)?;
            shown.insert(
                child,
                Shown {
                    name: named.then(|| details.known_as().to_owned()),
                    initials: details.initials(),
                    cases: cases
                        .iter()
                        .map(|c| (c.case.id, c.case.number_label()))
                        .collect(),
                },
            );
        }
        Ok(shown)
    }

    /// The sessions as entries for this reader, and the children shown (audited when any is).
    async fn entries(
        &self,
        actor: &Actor,
        sessions: Vec<StoredSession>,
    ) -> AppResult<Vec<TimetableEntry>> {
        let shown = self.children_shown(actor, &sessions).await?;
        let rooms: HashMap<RoomId, (String, SiteId)> = self
            .store
            .rooms(None)
            .await?
            .into_iter()
            .map(|r| (r.id, (r.details.name, r.site_id)))
            .collect();
        let sites: HashMap<SiteId, String> = self
            .store
            .sites()
            .await?
            .into_iter()
            .map(|s| (s.id, s.details.name))
            .collect();
        let therapists: Vec<UserId> = sessions
            .iter()
            .map(|s| s.booking.therapist)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let names = self.staff_names(&therapists).await?;
        // The room checks of the sessions shown, in one query (issue 16).
        let shown_sessions: Vec<alliance_core::schedule::BookingId> = sessions
            .iter()
            .filter(|s| shown.contains_key(&s.child_id))
            .map(|s| s.booking.id)
            .collect();
        let checks = if shown_sessions.is_empty() {
            HashMap::new()
        } else {
            self.store.room_check_states(&shown_sessions).await?
        };
        let mut named_children: BTreeSet<ChildId> = BTreeSet::new();
        let entries: Vec<TimetableEntry> = sessions
            .into_iter()
            // Every session has its room (a foreign key); the filter only satisfies the types.
            .filter_map(|s| {
                let b = s.booking;
                let (room_name, site) = rooms.get(&b.room).cloned()?;
                let child = shown.get(&s.child_id).map(|c| ChildShown {
                    child_id: s.child_id,
                    case_id: s.case_id,
                    case_number: c.cases.get(&s.case_id).cloned().unwrap_or_default(),
                    name: c.name.clone(),
                    initials: c.initials.clone(),
                });
                if child.is_some() {
                    named_children.insert(s.child_id);
                }
                Some(TimetableEntry {
                    date: b.date,
                    start: b.start,
                    ends: b
                        .ends_at()
                        .to_zoned_datetime(alliance_core::uk::london())
                        .time(),
                    minutes: b.minutes,
                    room: b.room,
                    room_name,
                    site,
                    site_name: sites.get(&site).cloned().unwrap_or_default(),
                    therapist: b.therapist,
                    therapist_name: names.get(&b.therapist).cloned().unwrap_or_default(),
                    state: if child.is_some() {
                        SessionState::of(s.attendance.as_ref())
                    } else {
                        SessionState::of_room(s.attendance.as_ref())
                    },
                    session: child.as_ref().map(|_| b.id),
                    room_check: child.as_ref().map(|_| {
                        alliance_core::room_care::CheckState::of(checks.get(&b.id).copied())
                    }),
                    child,
                })
            })
            .collect();
        if !named_children.is_empty() {
            let ids: Vec<String> = named_children.iter().map(ToString::to_string).collect();
            self.record(
                &actor.origin,
                vec![
                    Event::new(
                        audit::Action::ChildrenListed,
                        Some(actor.user.id.to_string()),
                        "timetable",
                        None,
                    )
                    .detail(&ids.join(",")),
                ],
            )
            .await?;
        }
        Ok(entries)
    }

    /// The therapists whose weeks may be looked at (active accounts with the therapist role),
    /// by name.
    pub async fn timetable_therapists(&self, actor: &Actor) -> AppResult<Vec<(UserId, String)>> {
        self.require(actor, Action::ReadDirectory, "list users", "user", None)
            .await?;
        let filter = UserFilter {
            role: Some(Role::Therapist),
            active: Some(true),
            search: None,
        };
        let mut page = PageRequest {
            limit: alliance_core::paging::MAX_PAGE_SIZE,
            after: None,
        };
        let mut found = Vec::new();
        loop {
            let got = self.store.list_users(&filter, &page).await?;
            found.extend(got.items.into_iter().map(|u| (u.id, u.display_name)));
            match got.next.as_deref().map(Cursor::parse) {
                Some(Ok(next)) => page.after = Some(next),
                _ => break,
            }
        }
        found.sort_by_cached_key(|(id, name)| (name.to_lowercase(), *id));
        Ok(found)
    }

    /// A therapist's week from `monday` (snapped to its Monday): every session they run, and
    /// for each case whose child the reader may know, its next break and planned ending.
    pub async fn therapist_week(
        &self,
        actor: &Actor,
        therapist: UserId,
        monday: Date,
    ) -> AppResult<TherapistWeek> {
        self.require(
            actor,
            Action::ReadDirectory,
            "read timetable",
            "user",
            Some(therapist.to_string()),
        )
        .await?;
        let user = self
            .store
            .user(therapist)
            .await?
            .ok_or(AppError::NotFound)?;
        let monday = monday_of(monday);
        let sunday = monday.checked_add(6.days()).unwrap_or(monday);
        let sessions = self
            .store
            .sessions_between(monday, sunday, &[], &[therapist])
            .await?;
        let entries = self.entries(actor, sessions).await?;
        // The outlook of each case shown, once per case.
        let mut outlooks = Vec::new();
        let mut seen: BTreeSet<CaseId> = BTreeSet::new();
        for entry in &entries {
            let Some(child) = &entry.child else {
                continue;
            };
            if !seen.insert(child.case_id) {
                continue;
            }
            let Some(case) = self.store.case(child.case_id).await? else {
                continue;
            };
            if !case.case.is_open() {
                continue;
            }
            let Some(slot) = self.store.slot(child.case_id).await? else {
                continue;
            };
            let sessions = self.store.sessions_of_case(child.case_id).await?;
            if let Some(outlook) = self.outlook_of(&slot, &sessions).await? {
                outlooks.push(CaseOutlook {
                    child: child.clone(),
                    outlook,
                });
            }
        }
        Ok(TherapistWeek {
            therapist,
            therapist_name: user.display_name,
            monday,
            days: week_days(monday, entries),
            outlooks,
        })
    }

    /// A room's week from `monday` (snapped to its Monday).
    pub async fn room_week(
        &self,
        actor: &Actor,
        room: RoomId,
        monday: Date,
    ) -> AppResult<RoomWeek> {
        self.require(
            actor,
            Action::ReadDirectory,
            "read timetable",
            "room",
            Some(room.to_string()),
        )
        .await?;
        let room = self.store.room(room).await?.ok_or(AppError::NotFound)?;
        let site = self
            .store
            .site(room.site_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let monday = monday_of(monday);
        let sunday = monday.checked_add(6.days()).unwrap_or(monday);
        let sessions = self
            .store
            .sessions_between(monday, sunday, &[room.id], &[])
            .await?;
        let entries = self.entries(actor, sessions).await?;
        Ok(RoomWeek {
            room,
            site,
            monday,
            days: week_days(monday, entries),
        })
    }

    /// A site's day: each of its rooms with that day's bookings in time order.
    pub async fn site_day(&self, actor: &Actor, site: SiteId, date: Date) -> AppResult<SiteDay> {
        self.require(
            actor,
            Action::ReadDirectory,
            "read timetable",
            "site",
            Some(site.to_string()),
        )
        .await?;
        let site = self.store.site(site).await?.ok_or(AppError::NotFound)?;
        let mut rooms = self.store.rooms(Some(site.id)).await?;
        let ids: Vec<RoomId> = rooms.iter().map(|r| r.id).collect();
        let sessions = if ids.is_empty() {
            Vec::new()
        } else {
            self.store.sessions_between(date, date, &ids, &[]).await?
        };
        let entries = self.entries(actor, sessions).await?;
        rooms.sort_by_cached_key(|r| (r.details.name.to_lowercase(), r.id));
        let rooms = rooms
            .into_iter()
            .map(|room| RoomDay {
                entries: entries
                    .iter()
                    .filter(|e| e.room == room.id)
                    .cloned()
                    .collect(),
                room,
            })
            .filter(|r| r.room.active || !r.entries.is_empty())
            .collect();
        Ok(SiteDay { site, date, rooms })
    }
}

/// The week's days with their entries: Monday to Friday always, the weekend when booked.
fn week_days(monday: Date, entries: Vec<TimetableEntry>) -> Vec<TimetableDay> {
    let mut days: Vec<TimetableDay> = (0..7)
        .filter_map(|n| monday.checked_add(n.days()).ok())
        .map(|date| TimetableDay {
            date,
            entries: Vec::new(),
        })
        .collect();
    for entry in entries {
        if let Some(day) = days.iter_mut().find(|d| d.date == entry.date) {
            day.entries.push(entry);
        }
    }
    for day in &mut days {
        day.entries
            .sort_by_key(|e| (e.start, e.ends, e.room_name.clone(), e.room));
    }
    days.retain(|d| {
        !matches!(d.date.weekday(), Weekday::Saturday | Weekday::Sunday) || !d.entries.is_empty()
    });
    days
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn any_day_snaps_to_its_monday() {
        assert_eq!(monday_of(date(2027, 1, 4)), date(2027, 1, 4));
        assert_eq!(monday_of(date(2027, 1, 7)), date(2027, 1, 4));
        assert_eq!(monday_of(date(2027, 1, 10)), date(2027, 1, 4));
        // Across the end of a month and a year.
        assert_eq!(monday_of(date(2027, 1, 1)), date(2026, 12, 28));
    }

    #[test]
    fn a_reader_who_may_not_know_the_child_learns_only_whether_the_room_is_taken() {
        let dna = Attendance::DidNotAttend { reason: None };
        let cancelled = Attendance::CancelledByChildOrFamily { reason: None };
        assert_eq!(SessionState::of(Some(&dna)), SessionState::DidNotAttend);
        assert_eq!(SessionState::of_room(Some(&dna)), SessionState::Booked);
        assert_eq!(
            SessionState::of_room(Some(&Attendance::Late { minutes: 5 })),
            SessionState::Booked
        );
        assert_eq!(SessionState::of(Some(&cancelled)), SessionState::Cancelled);
        assert_eq!(
            SessionState::of_room(Some(&cancelled)),
            SessionState::Cancelled
        );
        assert_eq!(SessionState::of(None), SessionState::Booked);
    }
}
