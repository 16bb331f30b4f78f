//! The frame of the work: each case's regular weekly slot, the series of sessions it books in
//! term time, sessions moved, added or cancelled (each with a reason, recorded as a change
//! to the frame and followed by a task to talk it through with the child), attendance, and
//! the frame's consistency. Booking refuses a clash by name, with the nearest free
//! alternatives; storage checks under lock, so two requests at once never both win.
//!
//! Access is the schedule row of the matrix (policy section 1), through the child's gate.

use crate::app::Alliance;
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::store::{
    Booked, FrameChange, NewSession, RegularSlot, StoreError, StoredCalendar, StoredSession,
};
use alliance_core::access::{ChildData, case_access};
use alliance_core::audit::{self, Event};
use alliance_core::cases::{CaseId, TeamRole};
use alliance_core::children::ChildId;
use alliance_core::crypto::{KeyOwner, RecordClass, Sealed, SealedAt};
use alliance_core::directory::{Room, RoomId, SiteId, SiteKind};
use alliance_core::error::{parse_date, parse_text};
use alliance_core::identity::UserId;
use alliance_core::schedule::{
    Attendance, AttendanceInput, Booking, BookingId, Clash, FrameMetrics, HeldSession, Holidays,
    Series, Slot, SlotInput, clock_text, nearest_free, parse_clock_time, parse_session_minutes,
};
use alliance_core::tasks::{Recipient, Rule, Subject};
use alliance_core::{FieldError, Invalid, Version};
use jiff::civil::{Date, Time};
use std::collections::HashMap;
use uuid::Uuid;

/// A case's schedule as a reader sees it.
#[derive(Debug, Clone)]
pub struct CaseSchedule {
    pub slot: Option<RegularSlot>,
    pub sessions: Vec<SessionView>,
    pub changes: Vec<ChangeView>,
    pub metrics: Option<FrameMetrics>,
    /// The next break and the planned ending, with the sessions left before each.
    pub outlook: Option<alliance_core::frame::FrameOutlook>,
    pub may_edit: bool,
}

#[derive(Debug, Clone)]
pub struct SessionView {
    pub session: StoredSession,
    pub reason: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ChangeView {
    pub change: FrameChange,
    pub reason: String,
}

/// Where the day's bookings are looked for alternatives.
const DAY_START: Time = Time::constant(8, 30, 0, 0);
const DAY_END: Time = Time::constant(17, 30, 0, 0);

fn parse_reason(raw: &str) -> Result<String, Invalid> {
    parse_text(raw, 1, 1000).map_err(|_| {
        Invalid::field(
            "reason",
            "Say why: the reason is kept with the change to the agreed time and place",
        )
    })
}

impl Alliance {
    async fn schedule_gate(
        &self,
        actor: &Actor,
        case: CaseId,
        asked: &str,
    ) -> AppResult<(ChildId, alliance_core::access::Access, bool)> {
        let stored = self.store.case(case).await?.ok_or(AppError::NotFound)?;
        let child = stored.case.child_id;
        let record = self.get_child_gate(actor, child, asked).await?;
        let is_newest = record.1 == Some(case);
        let access = case_access(&actor.user, &record.0, ChildData::Schedule, is_newest);
        Ok((child, access, stored.case.is_open()))
    }

    pub(crate) async fn require_schedule_write(
        &self,
        actor: &Actor,
        case: CaseId,
        asked: &str,
    ) -> AppResult<ChildId> {
        let (child, access, open) = self.schedule_gate(actor, case, asked).await?;
        if !(access.may_write() && open && actor.may_write()) {
            self.record(
                &actor.origin,
                vec![
                    Event::new(
                        audit::Action::Denied,
                        Some(actor.user.id.to_string()),
                        "case",
                        Some(case.to_string()),
                    )
                    .for_child(child)
                    .detail(asked),
                ],
            )
            .await?;
            return Err(AppError::Denied(
                "only the case team and administrators change an open case's sessions",
            ));
        }
        Ok(child)
    }

    async fn seal_reason(
        &self,
        child: ChildId,
        table: &str,
        row: &str,
        text: &str,
    ) -> AppResult<Sealed> {
        Ok(self
            .keys
            .seal(
                &KeyOwner::Child {
                    child: child.to_string(),
                    class: RecordClass::Identity,
                },
                text.as_bytes(),
                SealedAt {
                    table,
                    column: "reason",
                    row,
                },
                self.clock.now(),
            )
            .await?)
    }

    /// Names for the rooms involved, for messages.
    async fn room_names(
        &self,
    ) -> AppResult<HashMap<RoomId, (String, alliance_core::directory::SiteId)>> {
        Ok(self
            .store
            .rooms(None)
            .await?
            .into_iter()
            .map(|r| (r.id, (r.details.name, r.site_id)))
            .collect())
    }

    /// A clash refused in words, with the nearest free alternatives in the same site.
    async fn refusal(&self, wanted: &Booking, clashes: &[Clash]) -> AppResult<AppError> {
        let names = self.room_names().await?;
        let name = |id: &RoomId| names.get(id).map(|(n, _)| n.clone()).unwrap_or_default();
        let site = names.get(&wanted.room).map(|(_, s)| *s);
        let rooms: Vec<RoomId> = names
            .iter()
            .filter(|(_, (_, s))| Some(*s) == site)
            .map(|(id, _)| *id)
            .collect();
        let existing = self
            .store
            .bookings_between(wanted.date, wanted.date, &rooms, &[wanted.therapist])
            .await?;
        let alternatives = nearest_free(wanted, &existing, &rooms, DAY_START, DAY_END, 15);
        let mut errors: Vec<FieldError> = clashes
            .iter()
            .map(|c| {
                let with = c.with();
                let text = match c {
                    Clash::Room { .. } => {
                        format!("{} is already booked {}", name(&with.room), with.when())
                    }
                    Clash::Therapist { .. } => format!(
                        "The therapist is already booked {} (in {})",
                        with.when(),
                        name(&with.room)
                    ),
                };
                FieldError::new("start", text)
            })
            .collect();
        errors.push(FieldError::new(
            "room",
            if alternatives.is_empty() {
                "Nothing nearby is free that day".to_owned()
            } else {
                format!(
                    "Free instead: {}",
                    alternatives
                        .iter()
                        .map(|a| format!(
                            "{} {} in {}",
                            alliance_core::uk::date(a.date),
                            clock_text(a.start),
                            name(&a.room)
                        ))
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            },
        ));
        Ok(Invalid { errors }.into())
    }

    async fn check_room(&self, room: RoomId) -> AppResult<Room> {
        match self.store.room(room).await? {
            Some(r) if r.active => Ok(r),
            _ => Err(Invalid::field("room", "Choose a room in use").into()),
        }
    }

    /// The calendar a slot follows when none is chosen: the school's own when the room is in
    /// a school; for work in a clinic or the community, the child's school's, because the
    /// child's terms decide when they can come.
    async fn default_calendar(&self, child: ChildId, room: &Room) -> AppResult<StoredCalendar> {
        let site = self
            .store
            .site(room.site_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let calendars = self.store.calendars().await?;
        let of_site = |site: SiteId| calendars.iter().find(|c| c.site == Some(site)).cloned();
        let found = if site.details.kind == SiteKind::School {
            of_site(site.id)
        } else {
            let school = self.details_of(child).await?.school_site;
            school.and_then(of_site).or_else(|| of_site(site.id))
        };
        found.ok_or_else(|| {
            Invalid::field(
                "calendar",
                "Neither the room's site nor the child's school has a term calendar: choose one",
            )
            .into()
        })
    }

    fn frame_change(
        &self,
        case: CaseId,
        what: &str,
        session: Option<BookingId>,
        by: UserId,
        sealed: Sealed,
    ) -> FrameChange {
        FrameChange {
            id: self.new_id(),
            case_id: case,
            what: what.to_owned(),
            session,
            by,
            sealed_reason: sealed,
            at: self.clock.now(),
        }
    }

    /// The task to talk a change of the frame through with the child, for the lead.
    async fn talk_it_through(
        &self,
        case: CaseId,
        child: ChildId,
        change: Uuid,
    ) -> AppResult<Vec<crate::store::NewFiring>> {
        let stored = self.store.case(case).await?.ok_or(AppError::NotFound)?;
        let today = self.today();
        Ok(stored
            .case
            .current_lead(today)
            .map(|lead| {
                vec![self.follow_up(
                    Rule::FrameChanged,
                    Recipient::User(lead.user_id),
                    Some(Subject {
                        child: Some(child),
                        record_type: "case".to_owned(),
                        record_id: case.to_string(),
                    }),
                    format!("frame-changed:{change}"),
                )]
            })
            .unwrap_or_default())
    }

    /// Sets (or changes) a case's regular slot and books its series in the calendar's term.
    /// A change needs a reason and raises a task to talk it through with the child.
    #[allow(clippy::too_many_arguments)]
    pub async fn set_regular_slot(
        &self,
        actor: &Actor,
        case: CaseId,
        calendar: Option<Uuid>,
        room: RoomId,
        input: &SlotInput,
        reason: &str,
        expected: Option<Version>,
    ) -> AppResult<(RegularSlot, Series)> {
        let child = self
            .require_schedule_write(actor, case, "set regular slot")
            .await?;
        let stored_case = self.store.case(case).await?.ok_or(AppError::NotFound)?;
        let Some(lead) = stored_case.case.current_lead(self.today()) else {
            return Err(Invalid::field(
                "room",
                "Allocate a lead therapist before setting the regular time",
            )
            .into());
        };
        let room_row = self.check_room(room).await?;
        let calendar_row = match calendar {
            Some(id) => self.store.calendar(id).await?.ok_or_else(|| {
                AppError::from(Invalid::field("calendar", "Choose a term calendar"))
            })?,
            None => self.default_calendar(child, &room_row).await?,
        };
        let calendar = calendar_row.id;
        let slot = Slot::parse(input, &calendar_row.calendar)?;
        let existing = self.store.slot(case).await?;
        let reason = match (&existing, reason.trim().is_empty()) {
            (None, true) => "The regular time and place agreed".to_owned(),
            _ => parse_reason(reason)?,
        };
        let (holidays, division) = self.holidays().await?;
        let series = Series::generate(
            &slot,
            &calendar_row.calendar,
            Holidays::new(&holidays, division),
            None,
        );
        let therapist = lead.user_id;
        let sessions: Vec<NewSession> = series
            .sessions
            .iter()
            .map(|s| NewSession {
                booking: Booking {
                    id: BookingId(self.new_id()),
                    room,
                    therapist,
                    date: s.date,
                    start: s.start,
                    minutes: s.minutes,
                },
                case_id: case,
                child_id: child,
                regular: true,
            })
            .collect();
        let now = self.clock.now();
        let regular = RegularSlot {
            case_id: case,
            calendar_id: calendar,
            room,
            therapist,
            slot,
            version: Version::FIRST,
            created_at: now,
            updated_at: now,
        };
        let change_id = self.new_id();
        let sealed = self
            .seal_reason(child, "frame_changes", &change_id.to_string(), &reason)
            .await?;
        let mut change = self.frame_change(case, "slot-set", None, actor.user.id, sealed);
        change.id = change_id;
        let mut audit = self.audit_batch(
            &actor.origin,
            vec![
                Event::new(
                    audit::Action::SlotSet,
                    Some(actor.user.id.to_string()),
                    "case",
                    Some(case.to_string()),
                )
                .for_child(child),
            ],
        );
        if existing.is_some() {
            audit.follow_ups = self.talk_it_through(case, child, change_id).await?;
            // Under an active agreement, the new time or place is agreed again with the child.
            if let Some(re_agree) = self.re_agreement_follow_up(&stored_case, change_id).await? {
                audit.follow_ups.push(re_agree);
            }
        }
        match self
            .store
            .set_slot(
                &regular,
                existing
                    .as_ref()
                    .map(|_| expected.unwrap_or(Version::FIRST)),
                &sessions,
                &change,
                now,
                &audit,
            )
            .await
        {
            Ok(Booked::Done(saved)) => Ok((saved, series)),
            Ok(Booked::Clashed(clashes)) => {
                let first = clashes
                    .first()
                    .and_then(|c| sessions.iter().find(|s| s.booking.overlaps(c.with())))
                    .map(|s| s.booking)
                    .or(sessions.first().map(|s| s.booking));
                match first {
                    Some(wanted) => Err(self.refusal(&wanted, &clashes).await?),
                    None => {
                        Err(Invalid::field("start", "This time clashes with other bookings").into())
                    }
                }
            }
            Err(StoreError::Conflict(_)) => Err(AppError::Stale(Version::FIRST)),
            Err(other) => Err(other.into()),
        }
    }

    /// A case's slot, sessions, frame changes and metrics, through the child's gate.
    pub async fn case_schedule(&self, actor: &Actor, case: CaseId) -> AppResult<CaseSchedule> {
        let (child, access, open) = self.schedule_gate(actor, case, "read schedule").await?;
        if !access.may_read() {
            return Err(AppError::NotFound);
        }
        let slot = self.store.slot(case).await?;
        let stored = self.store.sessions_of_case(case).await?;
        let key = self
            .keys
            .data_key(
                &KeyOwner::Child {
                    child: child.to_string(),
                    class: RecordClass::Identity,
                },
                self.clock.now(),
            )
            .await?;
        let open_text = |sealed: &Sealed, table: &str, row: &str| -> AppResult<String> {
            let plain = key
                .open(
                    sealed,
                    SealedAt {
                        table,
                        column: "reason",
                        row,
                    },
                )
                .map_err(|e| AppError::Store(StoreError::Other(e.to_string())))?;
            Ok(String::from_utf8_lossy(&plain).into_owned())
        };
        let mut sessions = Vec::with_capacity(stored.len());
        for s in stored {
            let reason = match &s.sealed_reason {
                Some(sealed) => Some(open_text(
                    sealed,
                    "therapy_sessions",
                    &s.booking.id.to_string(),
                )?),
                None => None,
            };
            sessions.push(SessionView { session: s, reason });
        }
        let mut changes = Vec::new();
        for c in self.store.frame_changes(case).await? {
            let reason = open_text(&c.sealed_reason, "frame_changes", &c.id.to_string())?;
            changes.push(ChangeView { change: c, reason });
        }
        let metrics = slot.as_ref().map(|slot| {
            let held: Vec<HeldSession> = sessions
                .iter()
                .filter_map(|s| {
                    s.session.attendance.clone().map(|attendance| HeldSession {
                        date: s.session.booking.date,
                        start: s.session.booking.start,
                        room: s.session.booking.room,
                        attendance,
                    })
                })
                .collect();
            FrameMetrics::compute(&held, (slot.slot.weekday, slot.slot.start, slot.room))
        });
        let outlook = match &slot {
            Some(slot) if open => {
                let stored: Vec<StoredSession> =
                    sessions.iter().map(|s| s.session.clone()).collect();
                self.outlook_of(slot, &stored).await?
            }
            _ => None,
        };
        Ok(CaseSchedule {
            slot,
            sessions,
            changes,
            metrics,
            outlook,
            may_edit: access.may_write() && open,
        })
    }

    /// The next break and the planned ending of an open case with a regular time, for those
    /// who may read its schedule; `None` otherwise.
    pub async fn case_outlook(
        &self,
        actor: &Actor,
        case: CaseId,
    ) -> AppResult<Option<alliance_core::frame::FrameOutlook>> {
        let (_, access, open) = self.schedule_gate(actor, case, "read schedule").await?;
        if !access.may_read() || !open {
            return Ok(None);
        }
        let Some(slot) = self.store.slot(case).await? else {
            return Ok(None);
        };
        let sessions = self.store.sessions_of_case(case).await?;
        self.outlook_of(&slot, &sessions).await
    }

    /// Moves a session (a change to the frame: a reason, and a task to talk it through).
    #[allow(clippy::too_many_arguments)]
    pub async fn move_session(
        &self,
        actor: &Actor,
        id: BookingId,
        date: &str,
        start: &str,
        room: RoomId,
        reason: &str,
        expected: Version,
    ) -> AppResult<StoredSession> {
        let session = self
            .store
            .booked_session(id)
            .await?
            .ok_or(AppError::NotFound)?;
        let case = session.case_id;
        let child = self
            .require_schedule_write(actor, case, "move session")
            .await?;
        let mut v = alliance_core::Validator::new();
        let date = v.check("date", parse_date(date));
        let start = v.check("start", parse_clock_time(start));
        let reason = v.check(
            "reason",
            parse_reason(reason).map_err(|e| e.errors[0].message.clone()),
        );
        v.finish()?;
        let (Some(date), Some(start), Some(reason)) = (date, start, reason) else {
            return Err(Invalid::field("date", "Enter the new date and time").into());
        };
        self.check_room(room).await?;
        let to = Booking {
            date,
            start,
            room,
            ..session.booking
        };
        let change_id = self.new_id();
        let sealed = self
            .seal_reason(child, "frame_changes", &change_id.to_string(), &reason)
            .await?;
        let mut change = self.frame_change(case, "moved", Some(id), actor.user.id, sealed);
        change.id = change_id;
        let mut audit = self.audit_batch(
            &actor.origin,
            vec![
                Event::new(
                    audit::Action::SessionMoved,
                    Some(actor.user.id.to_string()),
                    "session",
                    Some(id.to_string()),
                )
                .for_child(child),
            ],
        );
        audit.follow_ups = self.talk_it_through(case, child, change_id).await?;
        match self
            .store
            .move_session(id, &to, expected, &change, self.clock.now(), &audit)
            .await?
        {
            Booked::Done(saved) => Ok(saved),
            Booked::Clashed(clashes) => Err(self.refusal(&to, &clashes).await?),
        }
    }

    /// Adds a session by hand (a change to the frame).
    #[allow(clippy::too_many_arguments)]
    pub async fn add_session(
        &self,
        actor: &Actor,
        case: CaseId,
        date: &str,
        start: &str,
        minutes: &str,
        room: RoomId,
        reason: &str,
    ) -> AppResult<StoredSession> {
        let child = self
            .require_schedule_write(actor, case, "add session")
            .await?;
        let stored_case = self.store.case(case).await?.ok_or(AppError::NotFound)?;
        let therapist = stored_case
            .case
            .current_team(self.today())
            .find(|m| m.user_id == actor.user.id && m.role != TeamRole::ParentWorker)
            .or(stored_case.case.current_lead(self.today()))
            .map(|m| m.user_id)
            .ok_or_else(|| {
                AppError::from(Invalid::field("start", "Allocate a lead therapist first"))
            })?;
        let mut v = alliance_core::Validator::new();
        let date = v.check("date", parse_date(date));
        let start = v.check("start", parse_clock_time(start));
        let minutes = v.check("minutes", parse_session_minutes(minutes));
        let reason = v.check(
            "reason",
            parse_reason(reason).map_err(|e| e.errors[0].message.clone()),
        );
        v.finish()?;
        let (Some(date), Some(start), Some(minutes), Some(reason)) = (date, start, minutes, reason)
        else {
            return Err(Invalid::field("date", "Enter the session's date and time").into());
        };
        self.check_room(room).await?;
        let booking = Booking {
            id: BookingId(self.new_id()),
            room,
            therapist,
            date,
            start,
            minutes,
        };
        let change_id = self.new_id();
        let sealed = self
            .seal_reason(child, "frame_changes", &change_id.to_string(), &reason)
            .await?;
        let mut change = self.frame_change(case, "added", Some(booking.id), actor.user.id, sealed);
        change.id = change_id;
        let mut audit = self.audit_batch(
            &actor.origin,
            vec![
                Event::new(
                    audit::Action::SessionAdded,
                    Some(actor.user.id.to_string()),
                    "session",
                    Some(booking.id.to_string()),
                )
                .for_child(child),
            ],
        );
        audit.follow_ups = self.talk_it_through(case, child, change_id).await?;
        let new = NewSession {
            booking,
            case_id: case,
            child_id: child,
            regular: false,
        };
        match self
            .store
            .add_session(&new, &change, self.clock.now(), &audit)
            .await?
        {
            Booked::Done(saved) => Ok(saved),
            Booked::Clashed(clashes) => Err(self.refusal(&booking, &clashes).await?),
        }
    }

    /// Records attendance; a cancellation needs a reason and is a change to the frame.
    pub async fn record_attendance(
        &self,
        actor: &Actor,
        id: BookingId,
        input: &AttendanceInput,
        expected: Version,
    ) -> AppResult<StoredSession> {
        let session = self
            .store
            .booked_session(id)
            .await?
            .ok_or(AppError::NotFound)?;
        let case = session.case_id;
        let child = self
            .require_schedule_write(actor, case, "record attendance")
            .await?;
        let attendance = Attendance::parse(input)?;
        let reason_text = attendance.reason().map(str::to_owned);
        let sealed = match &reason_text {
            Some(text) => Some(
                self.seal_reason(child, "therapy_sessions", &id.to_string(), text)
                    .await?,
            ),
            None => None,
        };
        let is_cancellation = attendance.is_cancellation();
        // A cancelled session gave up its room and time, which may since have been booked:
        // taking the cancellation back would double-book without a clash check.
        if session
            .attendance
            .as_ref()
            .is_some_and(Attendance::is_cancellation)
            && !is_cancellation
        {
            return Err(Invalid::field(
                "kind",
                "This session was cancelled and its time given up; add a session instead",
            )
            .into());
        }
        let change = if is_cancellation {
            let Some(text) = &reason_text else {
                return Err(Invalid::field("reason", "Say why the session was cancelled").into());
            };
            let change_id = self.new_id();
            let sealed = self
                .seal_reason(child, "frame_changes", &change_id.to_string(), text)
                .await?;
            let mut change = self.frame_change(case, "cancelled", Some(id), actor.user.id, sealed);
            change.id = change_id;
            Some(change)
        } else {
            None
        };
        let audit = self.audit_batch(
            &actor.origin,
            vec![
                Event::new(
                    audit::Action::AttendanceRecorded,
                    Some(actor.user.id.to_string()),
                    "session",
                    Some(id.to_string()),
                )
                .for_child(child),
            ],
        );
        Ok(self
            .store
            .set_attendance(
                id,
                &attendance,
                sealed.as_ref(),
                expected,
                change.as_ref(),
                self.clock.now(),
                &audit,
            )
            .await?)
    }

    /// The case a session belongs to, through the child's gate.
    pub async fn case_of_session(&self, actor: &Actor, id: BookingId) -> AppResult<CaseId> {
        let session = self
            .store
            .booked_session(id)
            .await?
            .ok_or(AppError::NotFound)?;
        self.get_child_gate(actor, session.child_id, "read session")
            .await?;
        Ok(session.case_id)
    }

    /// The date a text names, for callers that take dates as text.
    pub fn parse_day(raw: &str) -> Result<Date, Invalid> {
        parse_date(raw).map_err(|m| Invalid::field("date", m))
    }
}
