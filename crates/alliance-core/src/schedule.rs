//! The regular frame: "the same time, the same place, every week in term time".
//!
//! Therapy with a child in school rests on predictability: the child learns that Monday at
//! 15:30 in the Willow Room is theirs, and a session that silently moves, or a therapist who
//! arrives on an INSET day to a locked building, breaks that. So this module holds the rules
//! that keep the frame honest, and nothing else (no IO: the caller passes in the calendars,
//! the bank holidays and the bookings already made):
//!
//! - a school's or site's [`TermCalendar`] (terms, half-terms, INSET days, one-off closures),
//!   validated so a typing mistake cannot quietly cancel or invent a week of sessions;
//! - why a date holds no session ([`DayStatus`]), so a series can show what it skipped;
//! - a case's regular [`Slot`] and the [`Series`] of sessions it generates for a term;
//! - clashes between bookings (one room twice at once, one therapist in two places) and the
//!   nearest free alternatives ([`find_clashes`], [`nearest_free`], [`check_booking`]);
//! - [`Attendance`] and, per child, the [`FrameMetrics`]: how often sessions were held at the
//!   regular time and place, and how often the child came.
//!
//! Times are Europe/London wall-clock ([`crate::uk::london`]). A session is stored as the
//! London civil date and time it is agreed for (`2026-11-02`, `15:30`), never as an instant:
//! a weekly 15:30 session stays at 15:30 across the clock changes, which an instant stored in
//! summer would not (it would drift to 14:30 in winter). Instants are worked out only to
//! compare and display, by [`wall_clock`].

use std::collections::BTreeSet;
use std::fmt;

use jiff::civil::{Date, Time, Weekday};
use jiff::{SignedDuration, Span, Timestamp};
use serde::{Deserialize, Serialize};

use crate::calendar::{BankHolidays, Division};
use crate::directory::{RoomId, uuid_id};
use crate::error::{
    FieldError, Invalid, Validator, parse_date, parse_line, parse_optional_date,
    parse_optional_text,
};
use crate::identity::UserId;

uuid_id!(BookingId, "a booking");

/// The longest name of a term calendar ("Oakfield Primary 2026/27"), in characters.
pub const MAX_CALENDAR_NAME_CHARS: usize = 120;
/// The longest name of a term ("Autumn 2026"), in characters.
pub const MAX_TERM_NAME_CHARS: usize = 80;
/// The longest reason for an INSET day or closure, in characters: a line, not a letter home.
pub const MAX_CLOSURE_REASON_CHARS: usize = 200;
/// The shortest session accepted, in minutes: anything shorter is a typing mistake.
pub const MIN_SESSION_MINUTES: u16 = 5;
/// The longest session accepted, in minutes (four hours): a "25-hour session" is a typing
/// mistake, and a session past this is not a session any more.
pub const MAX_SESSION_MINUTES: u16 = 240;
/// The most minutes a child can be recorded as late (the longest session).
pub const MAX_LATE_MINUTES: u16 = MAX_SESSION_MINUTES;
/// The longest reason recorded with a missed or cancelled session, in characters.
pub const MAX_ATTENDANCE_REASON_CHARS: usize = 500;
/// How many alternatives a refused booking offers: enough to choose from, few enough to read.
pub const MAX_ALTERNATIVES: usize = 3;

// ---------------------------------------------------------------------------------------------
// Term calendars
// ---------------------------------------------------------------------------------------------

/// A half-term break inside a term, both dates inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HalfTerm {
    pub starts: Date,
    pub ends: Date,
}

impl HalfTerm {
    pub fn contains(&self, date: Date) -> bool {
        self.starts <= date && date <= self.ends
    }
}

/// One term of a school year, both dates inclusive (the first and last days the school is
/// open to pupils in that term, INSET days aside).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Term {
    pub name: String,
    pub starts: Date,
    pub ends: Date,
    pub half_terms: Vec<HalfTerm>,
}

impl Term {
    pub fn contains(&self, date: Date) -> bool {
        self.starts <= date && date <= self.ends
    }

    /// The half-term break `date` falls in, if any.
    pub fn half_term_on(&self, date: Date) -> Option<&HalfTerm> {
        self.half_terms.iter().find(|h| h.contains(date))
    }

    /// `“Autumn” (02/09/2026–18/12/2026)`, for messages that must say which term is meant.
    fn described(&self) -> String {
        format!(
            "“{}” ({})",
            self.name.trim(),
            date_range(self.starts, self.ends)
        )
    }
}

/// What kind of day a school is shut on during term.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClosureKind {
    /// A staff training day: planned a year ahead, pupils stay at home.
    Inset,
    /// Anything else that shuts the school: a polling station, a burst pipe, snow.
    OneOff,
}

impl ClosureKind {
    pub const ALL: [ClosureKind; 2] = [ClosureKind::Inset, ClosureKind::OneOff];

    pub fn code(self) -> &'static str {
        match self {
            ClosureKind::Inset => "inset",
            ClosureKind::OneOff => "one-off",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ClosureKind::Inset => "INSET day",
            ClosureKind::OneOff => "One-off closure",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.code() == code.trim())
            .ok_or_else(|| "Choose inset or one-off".to_owned())
    }
}

/// A day or run of days (both inclusive) in term when the school is shut. Named `School…` to
/// keep it apart from a case's closure ([`crate::cases::Closure`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchoolClosure {
    pub kind: ClosureKind,
    pub starts: Date,
    pub ends: Date,
    /// Why, in a line (1-200 characters): shown beside every session it cancels.
    pub reason: String,
}

impl SchoolClosure {
    pub fn new(kind: ClosureKind, starts: Date, ends: Date, reason: impl Into<String>) -> Self {
        Self {
            kind,
            starts,
            ends,
            reason: reason.into(),
        }
    }

    /// A closure of a single day.
    pub fn on(kind: ClosureKind, date: Date, reason: impl Into<String>) -> Self {
        Self::new(kind, date, date, reason)
    }

    pub fn contains(&self, date: Date) -> bool {
        self.starts <= date && date <= self.ends
    }
}

/// A school's or site's calendar: the terms it is open, their half-terms, and the days in term
/// it is shut. Sessions in school follow the school's year, not the service's working days: a
/// school shut for INSET is shut to the therapist too.
///
/// Only [`TermCalendar::new`] makes one, so every calendar in use has passed its checks; terms,
/// half-terms and closures are kept in date order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TermCalendar {
    name: String,
    terms: Vec<Term>,
    closures: Vec<SchoolClosure>,
}

/// A calendar's terms and closures as stored (JSON): the name is kept beside it.
#[derive(Serialize, Deserialize)]
struct CalendarDocument {
    terms: Vec<Term>,
    closures: Vec<SchoolClosure>,
}

impl TermCalendar {
    /// The terms and closures as one JSON document, for storage.
    pub fn to_document(&self) -> String {
        serde_json::to_string(&CalendarDocument {
            terms: self.terms.clone(),
            closures: self.closures.clone(),
        })
        .unwrap_or_else(|_| "{\"terms\":[],\"closures\":[]}".to_owned())
    }

    /// The calendar as the CSV rows the import reads (`kind,name,starts,ends,reason`), for
    /// editing it as text. Names and reasons are quoted; a quote inside is doubled.
    pub fn to_csv(&self) -> String {
        let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
        let date = |d: Date| crate::uk::date(d);
        let mut out = String::from("kind,name,starts,ends,reason\n");
        for term in &self.terms {
            out.push_str(&format!(
                "term,{},{},{},\n",
                quote(&term.name),
                date(term.starts),
                date(term.ends)
            ));
            for half in &term.half_terms {
                out.push_str(&format!(
                    "half-term,{},{},{},\n",
                    quote(&term.name),
                    date(half.starts),
                    date(half.ends)
                ));
            }
        }
        for closure in &self.closures {
            let kind = match closure.kind {
                ClosureKind::Inset => "inset",
                ClosureKind::OneOff => "closure",
            };
            out.push_str(&format!(
                "{kind},{},{},{},{}\n",
                quote(&closure.reason),
                date(closure.starts),
                date(closure.ends),
                quote(&closure.reason)
            ));
        }
        out
    }

    /// A stored calendar, checked again as when it was made.
    pub fn from_document(name: &str, document: &str) -> Result<Self, String> {
        let doc: CalendarDocument =
            serde_json::from_str(document).map_err(|e| format!("not a calendar document: {e}"))?;
        Self::new(name, doc.terms, doc.closures).map_err(|e| e.to_string())
    }

    /// Checks a calendar and reports every problem at once, each at its path
    /// (`terms[1].half_terms[0].ends`, `closures[2].reason`):
    ///
    /// - the calendar and each term have a name (term names distinct, so messages can name
    ///   them), and there is at least one term;
    /// - each term, half-term and closure starts on or before it ends;
    /// - terms do not overlap (the message names both): a date in two terms would make "which
    ///   term does this slot follow" ambiguous;
    /// - each half-term lies inside its term (the message names the term);
    /// - each closure has a reason of 1-200 characters and lies inside one term. A closure
    ///   outside every term is refused rather than kept: it could never cancel a session, so
    ///   it is almost certainly a mistyped date (2026 for 2027), and keeping it would hide
    ///   the real closure that was meant.
    pub fn new(
        name: &str,
        terms: Vec<Term>,
        closures: Vec<SchoolClosure>,
    ) -> Result<Self, Invalid> {
        let mut v = Validator::new();
        v.check("name", parse_line(name, 1, MAX_CALENDAR_NAME_CHARS));
        if terms.is_empty() {
            v.check::<()>(
                "terms",
                Err("Add at least one term: without terms no day can hold a session".to_owned()),
            );
        }

        // Terms that start on or before they end; only these are compared with others.
        let mut ordered: Vec<bool> = Vec::with_capacity(terms.len());
        let mut names_seen: BTreeSet<String> = BTreeSet::new();
        for (i, term) in terms.iter().enumerate() {
            let at = format!("terms[{i}]");
            if let Some(name) = v.check(
                &format!("{at}.name"),
                parse_line(&term.name, 1, MAX_TERM_NAME_CHARS),
            ) && !names_seen.insert(name.to_lowercase())
            {
                v.check::<()>(
                    &format!("{at}.name"),
                    Err(format!(
                        "Another term is already called “{name}”: give each term its own name"
                    )),
                );
            }
            let in_order = term.starts <= term.ends;
            ordered.push(in_order);
            if !in_order {
                v.check::<()>(
                    &format!("{at}.ends"),
                    Err(format!(
                        "“{}” ends ({}) before it starts ({})",
                        term.name.trim(),
                        crate::uk::date(term.ends),
                        crate::uk::date(term.starts)
                    )),
                );
            }
            for (k, half) in term.half_terms.iter().enumerate() {
                let at = format!("{at}.half_terms[{k}]");
                if half.starts > half.ends {
                    v.check::<()>(
                        &format!("{at}.ends"),
                        Err(format!(
                            "The half-term ends ({}) before it starts ({})",
                            crate::uk::date(half.ends),
                            crate::uk::date(half.starts)
                        )),
                    );
                    continue;
                }
                if !in_order {
                    continue;
                }
                for (field, day) in [("starts", half.starts), ("ends", half.ends)] {
                    if !term.contains(day) {
                        v.check::<()>(
                            &format!("{at}.{field}"),
                            Err(format!(
                                "{} is outside {}: a half-term lies inside its term",
                                crate::uk::date(day),
                                term.described()
                            )),
                        );
                    }
                }
            }
        }

        for j in 0..terms.len() {
            for i in 0..j {
                let (a, b) = (&terms[i], &terms[j]);
                if ordered[i] && ordered[j] && a.starts <= b.ends && b.starts <= a.ends {
                    v.check::<()>(
                        &format!("terms[{j}].starts"),
                        Err(format!(
                            "{} overlaps {}: terms cannot overlap",
                            b.described(),
                            a.described()
                        )),
                    );
                }
            }
        }

        let usable: Vec<&Term> = terms
            .iter()
            .zip(&ordered)
            .filter_map(|(t, ok)| ok.then_some(t))
            .collect();
        for (c, closure) in closures.iter().enumerate() {
            let at = format!("closures[{c}]");
            v.check(
                &format!("{at}.reason"),
                parse_line(&closure.reason, 1, MAX_CLOSURE_REASON_CHARS),
            );
            if closure.starts > closure.ends {
                v.check::<()>(
                    &format!("{at}.ends"),
                    Err(format!(
                        "The closure ends ({}) before it starts ({})",
                        crate::uk::date(closure.ends),
                        crate::uk::date(closure.starts)
                    )),
                );
                continue;
            }
            let touching: Vec<&&Term> = usable
                .iter()
                .filter(|t| t.starts <= closure.ends && closure.starts <= t.ends)
                .collect();
            let what = format!(
                "The {} on {}",
                match closure.kind {
                    ClosureKind::Inset => "INSET day",
                    ClosureKind::OneOff => "closure",
                },
                date_range(closure.starts, closure.ends)
            );
            match touching.first() {
                None => {
                    v.check::<()>(
                        &format!("{at}.starts"),
                        Err(format!(
                            "{what} falls outside every term: a closure only matters on a term \
                             day, so check the dates"
                        )),
                    );
                }
                Some(term) if !(term.contains(closure.starts) && term.contains(closure.ends)) => {
                    v.check::<()>(
                        &format!("{at}.ends"),
                        Err(format!(
                            "{what} runs outside {}: keep each closure inside one term",
                            term.described()
                        )),
                    );
                }
                Some(_) => {}
            }
        }
        v.finish()?;

        let mut terms: Vec<Term> = terms
            .into_iter()
            .map(|mut term| {
                term.name = term.name.trim().to_owned();
                term.half_terms.sort_by_key(|h| h.starts);
                term
            })
            .collect();
        terms.sort_by_key(|t| t.starts);
        let mut closures: Vec<SchoolClosure> = closures
            .into_iter()
            .map(|mut closure| {
                closure.reason = closure.reason.trim().to_owned();
                closure
            })
            .collect();
        closures.sort_by_key(|c| (c.starts, c.ends));
        Ok(Self {
            name: name.trim().to_owned(),
            terms,
            closures,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The terms, earliest first.
    pub fn terms(&self) -> &[Term] {
        &self.terms
    }

    /// The closures, earliest first.
    pub fn closures(&self) -> &[SchoolClosure] {
        &self.closures
    }

    /// The term `date` falls in (terms never overlap, so there is at most one).
    pub fn term_containing(&self, date: Date) -> Option<&Term> {
        self.terms.iter().find(|t| t.contains(date))
    }

    /// The term a slot starting on `from` follows: the one containing it, else the next to
    /// begin (a slot agreed in the summer holidays starts with the autumn term).
    pub fn term_for(&self, from: Date) -> Option<&Term> {
        self.terms.iter().find(|t| from <= t.ends)
    }

    /// Why `date` holds no session, or `None` for a term day on which a session can go ahead.
    ///
    /// When several reasons apply, one is chosen in this order: the weekend, a bank holiday
    /// (national, and the reason families know), outside term, half-term, then the school's
    /// own INSET days and closures. So the Spring bank holiday that falls in half-term is shown
    /// as the bank holiday.
    pub fn status(&self, date: Date, holidays: Holidays<'_>) -> Option<DayStatus> {
        if matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday) {
            return Some(DayStatus::Weekend);
        }
        if let Some(title) = holidays.title(date) {
            return Some(DayStatus::BankHoliday(title.to_owned()));
        }
        let Some(term) = self.term_containing(date) else {
            return Some(DayStatus::OutsideTerm);
        };
        if term.half_term_on(date).is_some() {
            return Some(DayStatus::HalfTerm(term.name.clone()));
        }
        self.closures
            .iter()
            .find(|c| c.contains(date))
            .map(|c| match c.kind {
                ClosureKind::Inset => DayStatus::Inset(c.reason.clone()),
                ClosureKind::OneOff => DayStatus::Closure(c.reason.clone()),
            })
    }
}

/// The bank holidays a calendar is read with: one division of a [`BankHolidays`] list (for a
/// service, the division of its nation: [`Division::for_nation`]). Borrowed, so generating a
/// series copies nothing.
#[derive(Debug, Clone, Copy)]
pub struct Holidays<'a> {
    list: &'a BankHolidays,
    division: Division,
}

impl<'a> Holidays<'a> {
    pub fn new(list: &'a BankHolidays, division: Division) -> Self {
        Self { list, division }
    }

    pub fn division(self) -> Division {
        self.division
    }

    /// The bank holiday's title on `date`, if it is one.
    pub fn title(self, date: Date) -> Option<&'a str> {
        self.list.title(self.division, date)
    }
}

/// Why a date holds no session: shown beside each date a series skipped, so a therapist can
/// tell the child and family in advance, and nobody wonders where a week went.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", content = "detail", rename_all = "kebab-case")]
pub enum DayStatus {
    Weekend,
    /// The bank holiday's title ("Early May bank holiday").
    BankHoliday(String),
    /// The name of the term whose half-term it is.
    HalfTerm(String),
    /// The INSET day's reason.
    Inset(String),
    /// The one-off closure's reason.
    Closure(String),
    /// Between terms: the school holidays.
    OutsideTerm,
}

impl DayStatus {
    pub fn code(&self) -> &'static str {
        match self {
            DayStatus::Weekend => "weekend",
            DayStatus::BankHoliday(_) => "bank-holiday",
            DayStatus::HalfTerm(_) => "half-term",
            DayStatus::Inset(_) => "inset",
            DayStatus::Closure(_) => "closure",
            DayStatus::OutsideTerm => "outside-term",
        }
    }

    /// The reason in words: `Bank holiday: Early May bank holiday`, `Autumn half-term`.
    pub fn label(&self) -> String {
        match self {
            DayStatus::Weekend => "Weekend".to_owned(),
            DayStatus::BankHoliday(title) => format!("Bank holiday: {title}"),
            DayStatus::HalfTerm(term) => format!("{term} half-term"),
            DayStatus::Inset(reason) => format!("INSET day: {reason}"),
            DayStatus::Closure(reason) => format!("School closed: {reason}"),
            DayStatus::OutsideTerm => "Outside term time".to_owned(),
        }
    }
}

impl fmt::Display for DayStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

// ---------------------------------------------------------------------------------------------
// Wall-clock time
// ---------------------------------------------------------------------------------------------

/// The instant at which it is `time` on `date` in London.
///
/// Sessions are stored as civil date and time; this is used only to compare them (clashes) and
/// to show them. Twice a year the clock jumps, and jiff's "compatible" disambiguation (the
/// same as RFC 5545 calendars and `java.time`) settles the two awkward cases:
///
/// - in the spring-forward gap (01:00-02:00 on the last Sunday of March does not exist), the
///   time is read with the offset before the jump, so 01:30 becomes 02:30 BST (01:30 UTC):
///   the later wall-clock reading;
/// - in the autumn fold (01:00-02:00 on the last Sunday of October happens twice), the earlier
///   of the two is taken: 01:30 BST (00:30 UTC).
///
/// Neither arises in school hours; the rule is written down so storage and display agree.
/// Dates past jiff's range saturate at [`Timestamp::MAX`] rather than fail.
pub fn wall_clock(date: Date, time: Time) -> Timestamp {
    crate::uk::london()
        .to_ambiguous_timestamp(date.to_datetime(time))
        .compatible()
        .unwrap_or(Timestamp::MAX)
}

/// The instants a session of `minutes` starting at `time` on `date` (London) occupies, the end
/// excluded: a session ending at 16:00 and one starting at 16:00 do not meet. The length is
/// elapsed time, so a session is never stretched or squeezed by a clock change.
pub fn session_interval(date: Date, time: Time, minutes: u16) -> (Timestamp, Timestamp) {
    let start = wall_clock(date, time);
    let end = start
        .checked_add(SignedDuration::from_mins(i64::from(minutes)))
        .unwrap_or(Timestamp::MAX);
    (start, end)
}

/// `15:30`.
pub fn clock_text(time: Time) -> String {
    format!("{:02}:{:02}", time.hour(), time.minute())
}

/// `HH:MM`, 24-hour clock, as forms send it.
pub fn parse_clock_time(raw: &str) -> Result<Time, String> {
    let raw = raw.trim();
    let bytes = raw.as_bytes();
    let shaped = bytes.len() == 5
        && bytes.iter().enumerate().all(|(i, b)| match i {
            2 => *b == b':',
            _ => b.is_ascii_digit(),
        });
    let bad = || "Enter a time on the 24-hour clock, like 15:30".to_owned();
    if !shaped {
        return Err(bad());
    }
    raw.parse::<Time>().map_err(|_| bad())
}

/// `monday` … `sunday`: the code a form or the API sends for a weekday.
pub fn weekday_code(day: Weekday) -> &'static str {
    match day {
        Weekday::Monday => "monday",
        Weekday::Tuesday => "tuesday",
        Weekday::Wednesday => "wednesday",
        Weekday::Thursday => "thursday",
        Weekday::Friday => "friday",
        Weekday::Saturday => "saturday",
        Weekday::Sunday => "sunday",
    }
}

/// `Monday` … `Sunday`.
pub fn weekday_label(day: Weekday) -> &'static str {
    match day {
        Weekday::Monday => "Monday",
        Weekday::Tuesday => "Tuesday",
        Weekday::Wednesday => "Wednesday",
        Weekday::Thursday => "Thursday",
        Weekday::Friday => "Friday",
        Weekday::Saturday => "Saturday",
        Weekday::Sunday => "Sunday",
    }
}

const WEEKDAYS: [Weekday; 7] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
    Weekday::Saturday,
    Weekday::Sunday,
];

/// A weekday by its code or name, in any case (`monday`, `Monday`).
pub fn parse_weekday(raw: &str) -> Result<Weekday, String> {
    let raw = raw.trim().to_lowercase();
    WEEKDAYS
        .into_iter()
        .find(|d| weekday_code(*d) == raw)
        .ok_or_else(|| "Choose a day of the week, like Monday".to_owned())
}

// ---------------------------------------------------------------------------------------------
// The regular slot and its series
// ---------------------------------------------------------------------------------------------

/// A case's regular slot: every `weekday` at `start` (London) for `minutes`, from `from`
/// until `until` (inclusive) or, without one, until the case's planned ending or the end of
/// the term. Which room, and which calendar it follows, the case holds beside it.
///
/// Any weekday is accepted (a Saturday club exists), but a series never places a session on a
/// weekend: schools are shut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub weekday: Weekday,
    pub start: Time,
    pub minutes: u16,
    pub from: Date,
    pub until: Option<Date>,
}

/// A slot's form or API body before validation.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SlotInput {
    /// `monday` … `sunday`.
    pub weekday: String,
    /// `15:30`.
    pub start: String,
    /// `50`.
    pub minutes: String,
    /// `07/09/2026` or `2026-09-07`.
    pub from: String,
    /// Empty for "until the planned ending or the end of term".
    pub until: String,
}

impl Slot {
    /// Checks every field, then the slot against the calendar it follows. Refused: a length
    /// outside 5-240 minutes (a 25-hour or 0-minute session), a session running past midnight
    /// (its date would be wrong), an `until` before `from`, dates that meet no term ("outside
    /// every term", so the series would be empty), and dates whose only term days never fall
    /// on the slot's weekday.
    pub fn parse(input: &SlotInput, calendar: &TermCalendar) -> Result<Slot, Invalid> {
        let mut v = Validator::new();
        let weekday = v.check("weekday", parse_weekday(&input.weekday));
        let start = v.check("start", parse_clock_time(&input.start));
        let minutes = v.check("minutes", parse_session_minutes(&input.minutes));
        let from = v.check("from", parse_date(&input.from));
        let until = v.check("until", parse_optional_date(&input.until));

        if let (Some(start), Some(minutes)) = (start, minutes) {
            let ends = minute_of_day(start) + i32::from(minutes);
            if ends > MINUTES_PER_DAY {
                v.check::<()>(
                    "minutes",
                    Err(format!(
                        "A {minutes}-minute session starting at {} would run past midnight",
                        clock_text(start)
                    )),
                );
            }
        }
        if let (Some(from), Some(until)) = (from, until) {
            let last = until.unwrap_or(Date::MAX);
            let dates = match until {
                Some(until) => format!("{} to {}", crate::uk::date(from), crate::uk::date(until)),
                None => format!("{} onwards", crate::uk::date(from)),
            };
            if last < from {
                v.check::<()>(
                    "until",
                    Err(format!(
                        "The slot cannot end ({}) before it starts ({})",
                        crate::uk::date(last),
                        crate::uk::date(from)
                    )),
                );
            } else if !calendar
                .terms()
                .iter()
                .any(|t| t.starts <= last && from <= t.ends)
            {
                v.check::<()>(
                    "from",
                    Err(format!(
                        "{dates} is outside every term of “{}”: choose dates in term time",
                        calendar.name()
                    )),
                );
            } else if let Some(weekday) = weekday
                && !calendar.terms().iter().any(|t| {
                    let first = first_on_or_after(from.max(t.starts), weekday);
                    first.is_some_and(|d| d <= last.min(t.ends))
                })
            {
                v.check::<()>(
                    "weekday",
                    Err(format!(
                        "No {} from {dates} falls in term",
                        weekday_label(weekday)
                    )),
                );
            }
        }
        v.finish()?;
        match (weekday, start, minutes, from, until) {
            (Some(weekday), Some(start), Some(minutes), Some(from), Some(until)) => Ok(Slot {
                weekday,
                start,
                minutes,
                from,
                until,
            }),
            _ => Err(Invalid::field("weekday", "Enter the slot's details")),
        }
    }
}

/// A session's length: whole minutes, 5-240.
pub fn parse_session_minutes(raw: &str) -> Result<u16, String> {
    raw.trim()
        .parse::<u16>()
        .ok()
        .filter(|m| (MIN_SESSION_MINUTES..=MAX_SESSION_MINUTES).contains(m))
        .ok_or_else(|| {
            format!(
                "Enter the session's length in minutes, from {MIN_SESSION_MINUTES} to \
                 {MAX_SESSION_MINUTES} (four hours)"
            )
        })
}

/// One session a series places: a London civil date and time, and its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct PlannedSession {
    pub date: Date,
    pub start: Time,
    pub minutes: u16,
}

impl PlannedSession {
    pub fn starts_at(&self) -> Timestamp {
        wall_clock(self.date, self.start)
    }

    pub fn ends_at(&self) -> Timestamp {
        session_interval(self.date, self.start, self.minutes).1
    }
}

/// The sessions a slot generates for one term, and every slot day it skipped, with why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Series {
    pub sessions: Vec<PlannedSession>,
    /// Each date on the slot's weekday that holds no session, and the reason.
    pub skipped: Vec<(Date, DayStatus)>,
    /// The name of the term the series follows; `None` when the calendar has no term on or
    /// after the slot's `from` (and the series is empty).
    pub term: Option<String>,
    /// The last date the series covers: the earliest of the slot's `until`, the planned
    /// ending and the term's end.
    pub last_day: Option<Date>,
}

impl Series {
    /// Places a session on every `slot.weekday` from `slot.from` through the earliest of
    /// `slot.until`, `planned_end` and the end of the term containing (or next following)
    /// `slot.from`, all inclusive; every such day that is not a term day (see
    /// [`TermCalendar::status`]) is skipped and recorded with its reason.
    ///
    /// A series covers one term, because timetables (and so the frame) are agreed term by
    /// term; the next term's series is generated from its first day. Days before the term
    /// begins are not listed as skipped: the summer holidays were never going to hold
    /// sessions, and listing them would bury the skips that matter.
    pub fn generate(
        slot: &Slot,
        calendar: &TermCalendar,
        holidays: Holidays<'_>,
        planned_end: Option<Date>,
    ) -> Series {
        let mut series = Series {
            sessions: Vec::new(),
            skipped: Vec::new(),
            term: None,
            last_day: None,
        };
        let Some(term) = calendar.term_for(slot.from) else {
            return series;
        };
        let last = [Some(term.ends), slot.until, planned_end]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(term.ends);
        series.term = Some(term.name.clone());
        series.last_day = Some(last);

        let mut day = first_on_or_after(slot.from.max(term.starts), slot.weekday);
        while let Some(date) = day.filter(|d| *d <= last) {
            match calendar.status(date, holidays) {
                None => series.sessions.push(PlannedSession {
                    date,
                    start: slot.start,
                    minutes: slot.minutes,
                }),
                Some(status) => series.skipped.push((date, status)),
            }
            day = add_days(date, 7);
        }
        series
    }
}

// ---------------------------------------------------------------------------------------------
// Bookings and clashes
// ---------------------------------------------------------------------------------------------

/// A room booked for a therapist at a London date and time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Booking {
    pub id: BookingId,
    pub room: RoomId,
    pub therapist: UserId,
    pub date: Date,
    pub start: Time,
    pub minutes: u16,
}

impl Booking {
    pub fn starts_at(&self) -> Timestamp {
        wall_clock(self.date, self.start)
    }

    pub fn ends_at(&self) -> Timestamp {
        session_interval(self.date, self.start, self.minutes).1
    }

    /// Whether the two occupy any instant in common; the end is excluded, so back-to-back
    /// sessions (one ends 16:00, the next starts 16:00) do not overlap. Compared as instants,
    /// so a booking made in any form of the time compares correctly.
    pub fn overlaps(&self, other: &Booking) -> bool {
        self.starts_at() < other.ends_at() && other.starts_at() < self.ends_at()
    }

    /// `05/10/2026 15:30-16:20` (London).
    pub fn when(&self) -> String {
        let ends = self.ends_at().to_zoned_datetime(crate::uk::london()).time();
        format!(
            "{} {}-{}",
            crate::uk::date(self.date),
            clock_text(self.start),
            clock_text(ends)
        )
    }
}

/// Why a booking cannot be made as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Clash {
    /// The room is booked by `with` at the same time.
    Room { with: Booking },
    /// The therapist is booked by `with` at the same time (in another room, or this one).
    Therapist { with: Booking },
}

impl Clash {
    /// The booking clashed with.
    pub fn with(&self) -> &Booking {
        match self {
            Clash::Room { with } | Clash::Therapist { with } => with,
        }
    }

    /// The clash in words. Rooms and people are named by the caller, who knows their names;
    /// the core knows only ids.
    pub fn message(&self) -> String {
        match self {
            Clash::Room { with } => format!("The room is already booked {}", with.when()),
            Clash::Therapist { with } => {
                format!("The therapist is already booked {}", with.when())
            }
        }
    }
}

impl fmt::Display for Clash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

/// Every clash between `new` and the bookings already made: a room clash where the same room
/// overlaps, a therapist clash where the same therapist overlaps (both, when one booking is
/// both). A booking never clashes with itself (same id), so moving a booking checks it only
/// against the others.
pub fn find_clashes(new: &Booking, existing: &[Booking]) -> Vec<Clash> {
    let mut clashes = Vec::new();
    for other in existing {
        if other.id == new.id || !new.overlaps(other) {
            continue;
        }
        if other.room == new.room {
            clashes.push(Clash::Room { with: *other });
        }
        if other.therapist == new.therapist {
            clashes.push(Clash::Therapist { with: *other });
        }
    }
    clashes
}

/// A free place and time offered instead of a refused booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Alternative {
    pub room: RoomId,
    pub date: Date,
    pub start: Time,
    pub minutes: u16,
    /// How far the start moved, in minutes: negative earlier, positive later, 0 for another
    /// room at the time asked for.
    pub shift_minutes: i32,
}

impl Alternative {
    /// The booking this alternative would make.
    pub fn as_booking(&self, like: &Booking) -> Booking {
        Booking {
            room: self.room,
            date: self.date,
            start: self.start,
            minutes: self.minutes,
            ..*like
        }
    }
}

/// Up to [`MAX_ALTERNATIVES`] free alternatives to `new` on its day, nearest first, never at
/// a time its therapist is busy (in any room):
///
/// 1. the same room at the nearest free start times before or after, stepping out from the
///    time asked for by `step_minutes` (earlier first when two are equally near), each
///    starting no earlier than `day_start` and ending by `day_end`;
/// 2. then other rooms of `rooms` (in the order given) free at the time asked for.
///
/// The same room comes first because the place is half the frame; but at most two such
/// times are offered while another room is free at the usual time, so that choice is never
/// crowded out. With `step_minutes` 0 only other rooms are offered.
pub fn nearest_free(
    new: &Booking,
    existing: &[Booking],
    rooms: &[RoomId],
    day_start: Time,
    day_end: Time,
    step_minutes: u16,
) -> Vec<Alternative> {
    let is_free = |candidate: &Booking| {
        existing.iter().all(|other| {
            other.id == candidate.id
                || !(other.room == candidate.room || other.therapist == candidate.therapist)
                || !candidate.overlaps(other)
        })
    };

    let mut same_room: Vec<Alternative> = Vec::new();
    let asked = minute_of_day(new.start);
    let (earliest, latest_start) = (
        minute_of_day(day_start),
        minute_of_day(day_end) - i32::from(new.minutes),
    );
    if step_minutes > 0 {
        let step = i32::from(step_minutes);
        let mut k = 1;
        loop {
            let earlier = asked - k * step;
            let later = asked + k * step;
            if earlier < earliest && later > latest_start {
                break;
            }
            for start in [earlier, later] {
                if start < earliest || start > latest_start {
                    continue;
                }
                let Some(time) = time_of_minute(start) else {
                    continue;
                };
                let candidate = Booking {
                    start: time,
                    ..*new
                };
                if is_free(&candidate) {
                    same_room.push(Alternative {
                        room: new.room,
                        date: new.date,
                        start: time,
                        minutes: new.minutes,
                        shift_minutes: start - asked,
                    });
                }
            }
            if same_room.len() >= MAX_ALTERNATIVES {
                break;
            }
            k += 1;
        }
    }

    let mut seen = BTreeSet::from([new.room]);
    let other_rooms: Vec<Alternative> = rooms
        .iter()
        .filter(|room| seen.insert(**room))
        .filter(|room| {
            is_free(&Booking {
                room: **room,
                ..*new
            })
        })
        .map(|room| Alternative {
            room: *room,
            date: new.date,
            start: new.start,
            minutes: new.minutes,
            shift_minutes: 0,
        })
        .collect();

    let reserved_same = same_room.len().min(MAX_ALTERNATIVES - 1);
    let from_others = other_rooms.len().min(MAX_ALTERNATIVES - reserved_same);
    let from_same = same_room.len().min(MAX_ALTERNATIVES - from_others);
    same_room
        .into_iter()
        .take(from_same)
        .chain(other_rooms.into_iter().take(from_others))
        .collect()
}

/// A booking refused: every clash, and what is free instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub clashes: Vec<Clash>,
    pub alternatives: Vec<Alternative>,
}

impl Refused {
    /// The clashes in words, then the alternatives.
    pub fn message(&self) -> String {
        let clashes: Vec<String> = self.clashes.iter().map(Clash::message).collect();
        let mut message = format!("This booking clashes: {}", clashes.join("; "));
        if self.alternatives.is_empty() {
            message.push_str(". Nothing nearby is free that day");
        } else {
            let offers: Vec<String> = self
                .alternatives
                .iter()
                .map(|a| {
                    // Only the room asked for is offered at another time.
                    if a.shift_minutes != 0 {
                        format!("{} in the same room", clock_text(a.start))
                    } else {
                        format!("{} in room {}", clock_text(a.start), a.room)
                    }
                })
                .collect();
            message.push_str(". Free instead: ");
            message.push_str(&offers.join(", "));
        }
        message
    }
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for Refused {}

impl From<Refused> for Invalid {
    /// One error per clash, at `start`, for a form to show beside the time.
    fn from(refused: Refused) -> Self {
        Invalid {
            errors: refused
                .clashes
                .iter()
                .map(|c| FieldError::new("start", c.message()))
                .collect(),
        }
    }
}

/// Checks `new` against the bookings already made: `Ok` when it clashes with none, else the
/// clashes and [`nearest_free`]'s alternatives.
pub fn check_booking(
    new: &Booking,
    existing: &[Booking],
    rooms: &[RoomId],
    day_start: Time,
    day_end: Time,
    step_minutes: u16,
) -> Result<(), Refused> {
    let clashes = find_clashes(new, existing);
    if clashes.is_empty() {
        return Ok(());
    }
    Err(Refused {
        clashes,
        alternatives: nearest_free(new, existing, rooms, day_start, day_end, step_minutes),
    })
}

// ---------------------------------------------------------------------------------------------
// Attendance
// ---------------------------------------------------------------------------------------------

/// What happened to a session, without its details: the codes forms and the API use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AttendanceKind {
    Attended,
    Late,
    DidNotAttend,
    CancelledByChildOrFamily,
    CancelledBySchool,
    CancelledByTherapist,
}

impl AttendanceKind {
    pub const ALL: [AttendanceKind; 6] = [
        AttendanceKind::Attended,
        AttendanceKind::Late,
        AttendanceKind::DidNotAttend,
        AttendanceKind::CancelledByChildOrFamily,
        AttendanceKind::CancelledBySchool,
        AttendanceKind::CancelledByTherapist,
    ];

    pub fn code(self) -> &'static str {
        match self {
            AttendanceKind::Attended => "attended",
            AttendanceKind::Late => "late",
            AttendanceKind::DidNotAttend => "did-not-attend",
            AttendanceKind::CancelledByChildOrFamily => "cancelled-by-child-or-family",
            AttendanceKind::CancelledBySchool => "cancelled-by-school",
            AttendanceKind::CancelledByTherapist => "cancelled-by-therapist",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AttendanceKind::Attended => "Attended",
            AttendanceKind::Late => "Attended, late",
            AttendanceKind::DidNotAttend => "Did not attend",
            AttendanceKind::CancelledByChildOrFamily => "Cancelled by the child or family",
            AttendanceKind::CancelledBySchool => "Cancelled by the school",
            AttendanceKind::CancelledByTherapist => "Cancelled by the therapist",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.code() == code.trim())
            .ok_or_else(|| format!("Choose from: {}", Self::ALL.map(Self::code).join(", ")))
    }
}

/// What happened to a session. Who cancelled matters: a session the school or the therapist
/// cancelled says nothing about the child's attendance, one the family cancelled does.
///
/// A reason may hold personal detail ("unwell", "contact visit"): it belongs with the child's
/// sealed record, not in logs or the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Attendance {
    Attended,
    /// Came, `minutes` (1-240) late.
    Late {
        minutes: u16,
    },
    DidNotAttend {
        reason: Option<String>,
    },
    CancelledByChildOrFamily {
        reason: Option<String>,
    },
    CancelledBySchool {
        reason: Option<String>,
    },
    CancelledByTherapist {
        reason: Option<String>,
    },
}

/// An attendance form or API body before validation.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AttendanceInput {
    /// One of [`AttendanceKind`]'s codes.
    pub kind: String,
    /// Only for `late`.
    pub late_minutes: String,
    /// Only for a session that did not go ahead; optional.
    pub reason: String,
}

impl Attendance {
    pub fn kind(&self) -> AttendanceKind {
        match self {
            Attendance::Attended => AttendanceKind::Attended,
            Attendance::Late { .. } => AttendanceKind::Late,
            Attendance::DidNotAttend { .. } => AttendanceKind::DidNotAttend,
            Attendance::CancelledByChildOrFamily { .. } => AttendanceKind::CancelledByChildOrFamily,
            Attendance::CancelledBySchool { .. } => AttendanceKind::CancelledBySchool,
            Attendance::CancelledByTherapist { .. } => AttendanceKind::CancelledByTherapist,
        }
    }

    pub fn code(&self) -> &'static str {
        self.kind().code()
    }

    /// `Attended, 10 minutes late` for a late arrival, else the kind's label.
    pub fn label(&self) -> String {
        match self {
            Attendance::Late { minutes: 1 } => "Attended, 1 minute late".to_owned(),
            Attendance::Late { minutes } => format!("Attended, {minutes} minutes late"),
            other => other.kind().label().to_owned(),
        }
    }

    pub fn reason(&self) -> Option<&str> {
        match self {
            Attendance::Attended | Attendance::Late { .. } => None,
            Attendance::DidNotAttend { reason }
            | Attendance::CancelledByChildOrFamily { reason }
            | Attendance::CancelledBySchool { reason }
            | Attendance::CancelledByTherapist { reason } => reason.as_deref(),
        }
    }

    pub fn late_minutes(&self) -> Option<u16> {
        match self {
            Attendance::Late { minutes } => Some(*minutes),
            _ => None,
        }
    }

    /// Whether the session was cancelled, which frees its room and therapist.
    pub fn is_cancellation(&self) -> bool {
        matches!(
            self,
            Attendance::CancelledByChildOrFamily { .. }
                | Attendance::CancelledBySchool { .. }
                | Attendance::CancelledByTherapist { .. }
        )
    }

    /// Whether the session went ahead with the child there (attended, or late).
    pub fn is_held(&self) -> bool {
        matches!(self, Attendance::Attended | Attendance::Late { .. })
    }

    /// Whether the session counts towards the child's attendance: everything except a
    /// cancellation by the school or the therapist, which the child had no part in.
    pub fn counts_for_attendance(&self) -> bool {
        !matches!(
            self,
            Attendance::CancelledBySchool { .. } | Attendance::CancelledByTherapist { .. }
        )
    }

    /// Checks the kind, the minutes late (required for `late`, 1-240, and refused for any
    /// other kind) and the reason (optional for a session that did not go ahead, up to 500
    /// characters; refused for one that did, where it would be a clinical note in the wrong
    /// place).
    pub fn parse(input: &AttendanceInput) -> Result<Self, Invalid> {
        let mut v = Validator::new();
        let kind = v.check("kind", AttendanceKind::parse(&input.kind));
        let late = input.late_minutes.trim();
        let minutes = match kind {
            Some(AttendanceKind::Late) => v.check(
                "late_minutes",
                late.parse::<u16>()
                    .ok()
                    .filter(|m| (1..=MAX_LATE_MINUTES).contains(m))
                    .ok_or_else(|| {
                        format!("Enter how many minutes late, from 1 to {MAX_LATE_MINUTES}")
                    }),
            ),
            Some(_) if !late.is_empty() => {
                v.check::<()>(
                    "late_minutes",
                    Err("Minutes late are recorded only for a late arrival".to_owned()),
                );
                None
            }
            _ => None,
        };
        let reason = match kind {
            Some(AttendanceKind::Attended | AttendanceKind::Late) => {
                if !input.reason.trim().is_empty() {
                    v.check::<()>(
                        "reason",
                        Err(
                            "A reason is recorded only for a session that did not go ahead"
                                .to_owned(),
                        ),
                    );
                }
                None
            }
            _ => v
                .check(
                    "reason",
                    parse_optional_text(&input.reason, MAX_ATTENDANCE_REASON_CHARS),
                )
                .flatten(),
        };
        v.finish()?;
        match (kind, minutes) {
            (Some(AttendanceKind::Attended), _) => Ok(Attendance::Attended),
            (Some(AttendanceKind::Late), Some(minutes)) => Ok(Attendance::Late { minutes }),
            (Some(AttendanceKind::DidNotAttend), _) => Ok(Attendance::DidNotAttend { reason }),
            (Some(AttendanceKind::CancelledByChildOrFamily), _) => {
                Ok(Attendance::CancelledByChildOrFamily { reason })
            }
            (Some(AttendanceKind::CancelledBySchool), _) => {
                Ok(Attendance::CancelledBySchool { reason })
            }
            (Some(AttendanceKind::CancelledByTherapist), _) => {
                Ok(Attendance::CancelledByTherapist { reason })
            }
            _ => Err(Invalid::field("kind", "Enter what happened to the session")),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Metrics
// ---------------------------------------------------------------------------------------------

/// A past session of a child's, as it happened (whether or not it went ahead): the London
/// date, time and room it was held in, or would have been.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldSession {
    pub date: Date,
    pub start: Time,
    pub room: RoomId,
    pub attendance: Attendance,
}

impl HeldSession {
    /// Whether it was at the regular weekday, start time and room. Worked out from the
    /// session's own date, time and room rather than stored beside them, so the two can never
    /// disagree.
    pub fn at_regular_frame(&self, regular: (Weekday, Time, RoomId)) -> bool {
        let (weekday, start, room) = regular;
        self.date.weekday() == weekday && self.start == start && self.room == room
    }
}

/// A share as a count out of a count, so a page can say "5 of 6" as well as "83%", and nothing
/// is lost to rounding before it is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Ratio {
    pub numerator: u32,
    pub denominator: u32,
}

impl Ratio {
    pub fn new(numerator: u32, denominator: u32) -> Self {
        Self {
            numerator,
            denominator,
        }
    }

    /// `(numerator, denominator)`.
    pub fn pair(self) -> (u32, u32) {
        (self.numerator, self.denominator)
    }

    /// The whole percentage, rounded half up; `None` with nothing to count. Never 100 unless
    /// every one counted, and never 0 unless none did: "100% attendance" for a child who
    /// missed one session in 200 would be untrue.
    pub fn percent(self) -> Option<u32> {
        if self.denominator == 0 {
            return None;
        }
        let (n, d) = (u64::from(self.numerator), u64::from(self.denominator));
        let rounded = (n * 100 + d / 2) / d;
        let clamped = if n == 0 || n >= d {
            rounded
        } else {
            rounded.clamp(1, 99)
        };
        Some(u32::try_from(clamped).unwrap_or(u32::MAX))
    }

    /// `83%`, or `–` with nothing to count.
    pub fn percent_text(self) -> String {
        self.percent()
            .map_or_else(|| "–".to_owned(), |p| format!("{p}%"))
    }
}

impl fmt::Display for Ratio {
    /// `5 of 6 (83%)`, or `none yet` with nothing to count.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.denominator == 0 {
            f.write_str("none yet")
        } else {
            write!(
                f,
                "{} of {} ({})",
                self.numerator,
                self.denominator,
                self.percent_text()
            )
        }
    }
}

/// How a child's frame has held: counts of each outcome, the consistency of the frame and the
/// attendance rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct FrameMetrics {
    /// Every session counted.
    pub sessions: u32,
    pub attended: u32,
    pub late: u32,
    pub did_not_attend: u32,
    pub cancelled_by_child_or_family: u32,
    pub cancelled_by_school: u32,
    pub cancelled_by_therapist: u32,
    /// Of the sessions held (attended or late), those at the regular weekday, time and room.
    pub held_at_frame: u32,
    /// Held sessions at the regular frame, out of held sessions: how often "the same time,
    /// the same place" was kept when the child was there.
    pub consistency: Ratio,
    /// Held sessions out of every session except those cancelled by the school or the
    /// therapist (the child had no part in those); a did-not-attend or a family's
    /// cancellation counts against it.
    pub attendance: Ratio,
}

impl FrameMetrics {
    pub fn compute(sessions: &[HeldSession], regular: (Weekday, Time, RoomId)) -> Self {
        let mut m = FrameMetrics::default();
        for session in sessions {
            m.sessions = m.sessions.saturating_add(1);
            let count = match session.attendance {
                Attendance::Attended => &mut m.attended,
                Attendance::Late { .. } => &mut m.late,
                Attendance::DidNotAttend { .. } => &mut m.did_not_attend,
                Attendance::CancelledByChildOrFamily { .. } => &mut m.cancelled_by_child_or_family,
                Attendance::CancelledBySchool { .. } => &mut m.cancelled_by_school,
                Attendance::CancelledByTherapist { .. } => &mut m.cancelled_by_therapist,
            };
            *count = count.saturating_add(1);
            if session.attendance.is_held() && session.at_regular_frame(regular) {
                m.held_at_frame = m.held_at_frame.saturating_add(1);
            }
        }
        let held = m.attended.saturating_add(m.late);
        let counted = m
            .sessions
            .saturating_sub(m.cancelled_by_school)
            .saturating_sub(m.cancelled_by_therapist);
        m.consistency = Ratio::new(m.held_at_frame, held);
        m.attendance = Ratio::new(held, counted);
        m
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const MINUTES_PER_DAY: i32 = 24 * 60;

fn minute_of_day(time: Time) -> i32 {
    i32::from(time.hour()) * 60 + i32::from(time.minute())
}

fn time_of_minute(minute: i32) -> Option<Time> {
    if !(0..MINUTES_PER_DAY).contains(&minute) {
        return None;
    }
    let hour = i8::try_from(minute / 60).ok()?;
    let min = i8::try_from(minute % 60).ok()?;
    Time::new(hour, min, 0, 0).ok()
}

fn add_days(date: Date, days: i64) -> Option<Date> {
    date.checked_add(Span::new().days(days)).ok()
}

/// The first date on or after `date` that falls on `weekday`.
fn first_on_or_after(date: Date, weekday: Weekday) -> Option<Date> {
    add_days(date, i64::from(date.weekday().until(weekday)))
}

/// `23/11/2026`, or `15/03/2027–16/03/2027`.
fn date_range(starts: Date, ends: Date) -> String {
    if starts == ends {
        crate::uk::date(starts)
    } else {
        format!("{}–{}", crate::uk::date(starts), crate::uk::date(ends))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, time};

    const EW: Division = Division::EnglandAndWales;

    fn shipped() -> BankHolidays {
        BankHolidays::shipped()
    }

    fn autumn() -> Term {
        Term {
            name: "Autumn".into(),
            starts: date(2026, 9, 2),
            ends: date(2026, 12, 18),
            half_terms: vec![HalfTerm {
                starts: date(2026, 10, 26),
                ends: date(2026, 10, 30),
            }],
        }
    }

    fn spring() -> Term {
        Term {
            name: "Spring".into(),
            starts: date(2027, 1, 5),
            ends: date(2027, 3, 26),
            half_terms: vec![HalfTerm {
                starts: date(2027, 2, 15),
                ends: date(2027, 2, 19),
            }],
        }
    }

    fn summer() -> Term {
        Term {
            name: "Summer".into(),
            starts: date(2027, 4, 12),
            ends: date(2027, 7, 21),
            half_terms: vec![HalfTerm {
                starts: date(2027, 5, 31),
                ends: date(2027, 6, 4),
            }],
        }
    }

    fn closures() -> Vec<SchoolClosure> {
        vec![
            SchoolClosure::on(ClosureKind::Inset, date(2026, 9, 2), "Staff training day"),
            SchoolClosure::on(
                ClosureKind::Inset,
                date(2026, 11, 23),
                "Safeguarding training",
            ),
            SchoolClosure::on(ClosureKind::Inset, date(2027, 1, 5), "Curriculum planning"),
            SchoolClosure::new(
                ClosureKind::OneOff,
                date(2027, 3, 15),
                date(2027, 3, 16),
                "Heating repairs",
            ),
            SchoolClosure::on(
                ClosureKind::Inset,
                date(2027, 7, 21),
                "End-of-year training",
            ),
        ]
    }

    /// A full English school year, 2026/27.
    fn year() -> TermCalendar {
        TermCalendar::new(
            "Oakfield Primary 2026/27",
            vec![autumn(), spring(), summer()],
            closures(),
        )
        .unwrap()
    }

    fn slot(weekday: Weekday, from: Date, until: Option<Date>) -> Slot {
        Slot {
            weekday,
            start: time(15, 30, 0, 0),
            minutes: 50,
            from,
            until,
        }
    }

    fn utc(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn errors(err: Invalid) -> Vec<(String, String)> {
        err.errors
            .into_iter()
            .map(|e| (e.field, e.message))
            .collect()
    }

    fn fields(err: Invalid) -> Vec<String> {
        err.errors.into_iter().map(|e| e.field).collect()
    }

    // --- term calendars --------------------------------------------------------------------

    #[test]
    fn a_full_school_year_is_accepted_and_kept_in_order() {
        let cal = TermCalendar::new(
            "  Oakfield Primary 2026/27 ",
            vec![summer(), autumn(), spring()],
            closures().into_iter().rev().collect(),
        )
        .unwrap();
        assert_eq!(cal.name(), "Oakfield Primary 2026/27");
        let names: Vec<_> = cal.terms().iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["Autumn", "Spring", "Summer"]);
        assert_eq!(cal.closures()[0].starts, date(2026, 9, 2));
        assert_eq!(cal.closures().len(), 5);
        assert_eq!(
            cal.term_containing(date(2027, 2, 1))
                .map(|t| t.name.as_str()),
            Some("Spring")
        );
        assert_eq!(cal.term_containing(date(2027, 4, 1)), None);
        assert_eq!(
            cal.term_for(date(2027, 4, 1)).map(|t| t.name.as_str()),
            Some("Summer")
        );
        assert_eq!(cal.term_for(date(2027, 7, 22)), None);
    }

    #[test]
    fn overlapping_terms_are_refused_naming_both() {
        let mut late_autumn = spring();
        late_autumn.starts = date(2026, 12, 14);
        let err = TermCalendar::new("Oakfield", vec![autumn(), late_autumn], vec![]).unwrap_err();
        assert_eq!(
            errors(err),
            [(
                "terms[1].starts".to_owned(),
                "“Spring” (14/12/2026–26/03/2027) overlaps “Autumn” (02/09/2026–18/12/2026): \
                 terms cannot overlap"
                    .to_owned()
            )]
        );
        // Touching is not overlapping: one term may start the day after another ends.
        let mut next = spring();
        next.starts = date(2026, 12, 19);
        assert!(TermCalendar::new("Oakfield", vec![autumn(), next], vec![]).is_ok());
    }

    #[test]
    fn a_half_term_outside_its_term_is_refused_naming_it() {
        let mut bad = spring();
        bad.half_terms[0].ends = date(2027, 3, 29);
        let err = TermCalendar::new("Oakfield", vec![autumn(), bad], vec![]).unwrap_err();
        assert_eq!(
            errors(err),
            [(
                "terms[1].half_terms[0].ends".to_owned(),
                "29/03/2027 is outside “Spring” (05/01/2027–26/03/2027): a half-term lies \
                 inside its term"
                    .to_owned()
            )]
        );

        let mut early = autumn();
        early.half_terms.push(HalfTerm {
            starts: date(2026, 8, 31),
            ends: date(2026, 9, 4),
        });
        let err = TermCalendar::new("Oakfield", vec![early], vec![]).unwrap_err();
        assert_eq!(fields(err), ["terms[0].half_terms[1].starts"]);
    }

    #[test]
    fn backwards_dates_and_bad_names_are_each_named() {
        let mut backwards = autumn();
        backwards.ends = date(2026, 9, 1);
        backwards.half_terms.clear();
        let mut nameless = spring();
        nameless.name = "  ".into();
        nameless.half_terms[0] = HalfTerm {
            starts: date(2027, 2, 19),
            ends: date(2027, 2, 15),
        };
        let mut twin = summer();
        twin.name = "spring".into();
        let err = TermCalendar::new(
            "",
            vec![backwards, nameless, spring(), twin],
            vec![SchoolClosure::new(
                ClosureKind::OneOff,
                date(2027, 3, 16),
                date(2027, 3, 15),
                "Heating",
            )],
        )
        .unwrap_err();
        let found = errors(err);
        let paths: Vec<_> = found.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            paths,
            [
                "name",
                "terms[0].ends",
                "terms[1].name",
                "terms[1].half_terms[0].ends",
                "terms[3].name",
                // The nameless term and "Spring" share their dates.
                "terms[2].starts",
                "closures[0].ends",
            ]
        );
        assert_eq!(
            found[1].1,
            "“Autumn” ends (01/09/2026) before it starts (02/09/2026)"
        );
        assert!(found[4].1.contains("already called “spring”"), "{found:?}");
    }

    #[test]
    fn a_calendar_needs_a_term() {
        let err = TermCalendar::new("Oakfield", vec![], vec![]).unwrap_err();
        assert_eq!(fields(err), ["terms"]);
    }

    #[test]
    fn a_closure_outside_every_term_is_refused() {
        let holiday = SchoolClosure::on(ClosureKind::Inset, date(2026, 12, 21), "Training");
        let err =
            TermCalendar::new("Oakfield", vec![autumn(), spring()], vec![holiday]).unwrap_err();
        assert_eq!(
            errors(err),
            [(
                "closures[0].starts".to_owned(),
                "The INSET day on 21/12/2026 falls outside every term: a closure only matters \
                 on a term day, so check the dates"
                    .to_owned()
            )]
        );

        let straddling = SchoolClosure::new(
            ClosureKind::OneOff,
            date(2026, 12, 17),
            date(2026, 12, 22),
            "Boiler",
        );
        let err = TermCalendar::new("Oakfield", vec![autumn()], vec![straddling]).unwrap_err();
        let found = errors(err);
        assert_eq!(found[0].0, "closures[0].ends");
        assert!(found[0].1.contains("“Autumn”"), "{found:?}");
    }

    #[test]
    fn closure_reasons_are_one_line_of_at_most_200_characters() {
        let reason = |text: &str| {
            TermCalendar::new(
                "Oakfield",
                vec![autumn()],
                vec![SchoolClosure::on(
                    ClosureKind::OneOff,
                    date(2026, 10, 1),
                    text,
                )],
            )
            .map_err(fields)
        };
        assert!(reason(&"x".repeat(200)).is_ok());
        assert_eq!(
            reason(&"x".repeat(201)),
            Err(vec!["closures[0].reason".into()])
        );
        assert_eq!(reason("  "), Err(vec!["closures[0].reason".into()]));
        assert_eq!(reason("two\nlines"), Err(vec!["closures[0].reason".into()]));
        let cal = reason("  Polling station ").unwrap();
        assert_eq!(cal.closures()[0].reason, "Polling station");
    }

    #[test]
    fn closure_kinds_round_trip() {
        for kind in ClosureKind::ALL {
            assert_eq!(ClosureKind::parse(kind.code()), Ok(kind));
        }
        assert_eq!(ClosureKind::Inset.label(), "INSET day");
        assert!(ClosureKind::parse("snow").is_err());
    }

    // --- why a day has no session ----------------------------------------------------------

    #[test]
    fn every_reason_for_no_session_in_2026_27() {
        let cal = year();
        let bank = shipped();
        let holidays = Holidays::new(&bank, EW);
        let status = |y, m, d| cal.status(date(y, m, d), holidays);

        assert_eq!(status(2026, 9, 3), None); // first Thursday of term
        assert_eq!(
            status(2026, 9, 2),
            Some(DayStatus::Inset("Staff training day".into()))
        );
        assert_eq!(status(2026, 9, 5), Some(DayStatus::Weekend));
        assert_eq!(
            status(2026, 10, 28),
            Some(DayStatus::HalfTerm("Autumn".into()))
        );
        assert_eq!(
            status(2026, 11, 23),
            Some(DayStatus::Inset("Safeguarding training".into()))
        );
        assert_eq!(status(2026, 12, 18), None); // last day of autumn term
        assert_eq!(status(2026, 12, 21), Some(DayStatus::OutsideTerm));
        assert_eq!(
            status(2026, 12, 25),
            Some(DayStatus::BankHoliday("Christmas Day".into()))
        );
        assert_eq!(
            status(2027, 3, 16),
            Some(DayStatus::Closure("Heating repairs".into()))
        );
        // Good Friday is the spring term's last day; Easter Monday is in the Easter break.
        assert_eq!(
            status(2027, 3, 26),
            Some(DayStatus::BankHoliday("Good Friday".into()))
        );
        assert_eq!(
            status(2027, 3, 29),
            Some(DayStatus::BankHoliday("Easter Monday".into()))
        );
        assert_eq!(status(2027, 3, 30), Some(DayStatus::OutsideTerm));
        assert_eq!(
            status(2027, 5, 3),
            Some(DayStatus::BankHoliday("Early May bank holiday".into()))
        );
        // The Spring bank holiday falls in half-term: the bank holiday is named.
        assert_eq!(
            status(2027, 5, 31),
            Some(DayStatus::BankHoliday("Spring bank holiday".into()))
        );
        assert_eq!(
            status(2027, 6, 1),
            Some(DayStatus::HalfTerm("Summer".into()))
        );
        assert_eq!(
            status(2027, 7, 21),
            Some(DayStatus::Inset("End-of-year training".into()))
        );

        // Without bank holidays (a Scottish service that has imported none), only the school's
        // own calendar applies.
        let none = Holidays::new(&bank, Division::Scotland);
        assert_eq!(none.division(), Division::Scotland);
        assert_eq!(cal.status(date(2027, 5, 3), none), None);
    }

    #[test]
    fn day_statuses_have_codes_and_labels() {
        let all = [
            (DayStatus::Weekend, "weekend", "Weekend"),
            (
                DayStatus::BankHoliday("Good Friday".into()),
                "bank-holiday",
                "Bank holiday: Good Friday",
            ),
            (
                DayStatus::HalfTerm("Autumn".into()),
                "half-term",
                "Autumn half-term",
            ),
            (
                DayStatus::Inset("Training".into()),
                "inset",
                "INSET day: Training",
            ),
            (
                DayStatus::Closure("Snow".into()),
                "closure",
                "School closed: Snow",
            ),
            (DayStatus::OutsideTerm, "outside-term", "Outside term time"),
        ];
        for (status, code, label) in all {
            assert_eq!(status.code(), code);
            assert_eq!(status.to_string(), label);
        }
        let json = serde_json::to_value(DayStatus::BankHoliday("Good Friday".into())).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kind": "bank-holiday", "detail": "Good Friday"})
        );
    }

    // --- wall-clock time -------------------------------------------------------------------

    #[test]
    fn a_1530_session_stays_at_1530_across_the_october_clock_change() {
        // British Summer Time ends at 02:00 on Sunday 25 October 2026.
        assert_eq!(
            wall_clock(date(2026, 10, 19), time(15, 30, 0, 0)),
            utc("2026-10-19T14:30:00Z")
        );
        assert_eq!(
            wall_clock(date(2026, 11, 2), time(15, 30, 0, 0)),
            utc("2026-11-02T15:30:00Z")
        );
    }

    #[test]
    fn a_1530_session_stays_at_1530_across_the_march_clock_change() {
        // British Summer Time begins at 01:00 on Sunday 28 March 2027.
        assert_eq!(
            wall_clock(date(2027, 3, 22), time(15, 30, 0, 0)),
            utc("2027-03-22T15:30:00Z")
        );
        assert_eq!(
            wall_clock(date(2027, 3, 29), time(15, 30, 0, 0)),
            utc("2027-03-29T14:30:00Z")
        );
    }

    #[test]
    fn gaps_read_later_and_folds_read_earlier() {
        // 01:30 on 28 March 2027 does not exist: it is read as 02:30 BST.
        assert_eq!(
            wall_clock(date(2027, 3, 28), time(1, 30, 0, 0)),
            utc("2027-03-28T01:30:00Z")
        );
        // 01:30 on 25 October 2026 happens twice: the first (BST) is taken.
        assert_eq!(
            wall_clock(date(2026, 10, 25), time(1, 30, 0, 0)),
            utc("2026-10-25T00:30:00Z")
        );
        // The length is elapsed time.
        let (start, end) = session_interval(date(2026, 10, 25), time(1, 30, 0, 0), 60);
        assert_eq!(end.duration_since(start), SignedDuration::from_mins(60));
    }

    #[test]
    fn times_and_weekdays_parse() {
        assert_eq!(parse_clock_time(" 15:30 "), Ok(time(15, 30, 0, 0)));
        for bad in ["3:30", "3.30pm", "25:00", "15:60", "", "15:30:00"] {
            assert!(parse_clock_time(bad).is_err(), "{bad}");
        }
        assert_eq!(clock_text(time(9, 5, 0, 0)), "09:05");
        for day in WEEKDAYS {
            assert_eq!(parse_weekday(weekday_code(day)), Ok(day));
            assert_eq!(parse_weekday(weekday_label(day)), Ok(day));
        }
        assert_eq!(parse_weekday(" MONDAY "), Ok(Weekday::Monday));
        assert!(parse_weekday("mon").is_err());
    }

    // --- slots -----------------------------------------------------------------------------

    fn slot_input(minutes: &str, from: &str, until: &str) -> SlotInput {
        SlotInput {
            weekday: "monday".into(),
            start: "15:30".into(),
            minutes: minutes.into(),
            from: from.into(),
            until: until.into(),
        }
    }

    #[test]
    fn a_slot_parses() {
        let parsed = Slot::parse(&slot_input("50", "07/09/2026", ""), &year()).unwrap();
        assert_eq!(parsed, slot(Weekday::Monday, date(2026, 9, 7), None));
        let bounded = Slot::parse(&slot_input("240", "2026-09-07", "14/12/2026"), &year()).unwrap();
        assert_eq!(bounded.until, Some(date(2026, 12, 14)));
        assert_eq!(bounded.minutes, 240);
    }

    #[test]
    fn a_25_hour_or_empty_session_is_refused() {
        for bad in ["1500", "0", "4", "241", "fifty", "", "-50"] {
            let err = Slot::parse(&slot_input(bad, "07/09/2026", ""), &year()).unwrap_err();
            assert_eq!(
                errors(err),
                [(
                    "minutes".to_owned(),
                    "Enter the session's length in minutes, from 5 to 240 (four hours)".to_owned()
                )],
                "{bad}"
            );
        }
        assert_eq!(parse_session_minutes("5"), Ok(5));
    }

    #[test]
    fn a_session_past_midnight_is_refused() {
        let mut input = slot_input("90", "07/09/2026", "");
        input.start = "23:00".into();
        let err = Slot::parse(&input, &year()).unwrap_err();
        assert_eq!(
            errors(err),
            [(
                "minutes".to_owned(),
                "A 90-minute session starting at 23:00 would run past midnight".to_owned()
            )]
        );
        input.minutes = "60".into();
        assert!(Slot::parse(&input, &year()).is_ok());
    }

    #[test]
    fn a_slot_outside_every_term_is_refused() {
        let err = Slot::parse(&slot_input("50", "22/07/2027", "31/08/2027"), &year()).unwrap_err();
        assert_eq!(
            errors(err),
            [(
                "from".to_owned(),
                "22/07/2027 to 31/08/2027 is outside every term of “Oakfield Primary 2026/27”: \
                 choose dates in term time"
                    .to_owned()
            )]
        );
        let err = Slot::parse(&slot_input("50", "01/08/2027", ""), &year()).unwrap_err();
        assert_eq!(fields(err), ["from"]);
        // A slot agreed in the Easter break, open-ended, reaches the summer term.
        assert!(Slot::parse(&slot_input("50", "01/04/2027", ""), &year()).is_ok());
    }

    #[test]
    fn a_slot_whose_term_days_miss_its_weekday_is_refused() {
        // Tuesday 8 to Wednesday 9 September 2026 holds no Monday.
        let err = Slot::parse(&slot_input("50", "08/09/2026", "09/09/2026"), &year()).unwrap_err();
        assert_eq!(
            errors(err),
            [(
                "weekday".to_owned(),
                "No Monday from 08/09/2026 to 09/09/2026 falls in term".to_owned()
            )]
        );
    }

    #[test]
    fn a_slot_ending_before_it_starts_is_refused_with_every_other_fault() {
        let input = SlotInput {
            weekday: "someday".into(),
            start: "3pm".into(),
            minutes: "50".into(),
            from: "14/12/2026".into(),
            until: "07/09/2026".into(),
        };
        let err = Slot::parse(&input, &year()).unwrap_err();
        assert_eq!(fields(err), ["weekday", "start", "until"]);
        let mut bad_dates = slot_input("50", "31/02/2027", "soon");
        bad_dates.weekday = "Friday".into();
        assert_eq!(
            fields(Slot::parse(&bad_dates, &year()).unwrap_err()),
            ["from", "until"]
        );
    }

    // --- series ----------------------------------------------------------------------------

    #[test]
    fn a_monday_summer_series_skips_the_early_may_and_spring_bank_holidays() {
        let bank = shipped();
        let series = Series::generate(
            &slot(Weekday::Monday, date(2027, 4, 12), None),
            &year(),
            Holidays::new(&bank, EW),
            None,
        );
        assert_eq!(series.term.as_deref(), Some("Summer"));
        assert_eq!(series.last_day, Some(date(2027, 7, 21)));
        assert_eq!(
            series.skipped,
            [
                (
                    date(2027, 5, 3),
                    DayStatus::BankHoliday("Early May bank holiday".into())
                ),
                (
                    date(2027, 5, 31),
                    DayStatus::BankHoliday("Spring bank holiday".into())
                ),
            ]
        );
        assert_eq!(series.sessions.len(), 13);
        assert_eq!(series.sessions[0].date, date(2027, 4, 12));
        assert_eq!(series.sessions[12].date, date(2027, 7, 19));
        assert!(
            series
                .sessions
                .iter()
                .all(|s| s.date.weekday() == Weekday::Monday
                    && s.start == time(15, 30, 0, 0)
                    && s.minutes == 50)
        );
        // Summer time throughout: 15:30 London is 14:30 UTC.
        assert_eq!(series.sessions[0].starts_at(), utc("2027-04-12T14:30:00Z"));
        assert_eq!(series.sessions[0].ends_at(), utc("2027-04-12T15:20:00Z"));
    }

    #[test]
    fn a_monday_autumn_series_crosses_the_clock_change_at_1530() {
        let bank = shipped();
        let series = Series::generate(
            &slot(Weekday::Monday, date(2026, 9, 1), None),
            &year(),
            Holidays::new(&bank, EW),
            None,
        );
        assert_eq!(
            series.skipped,
            [
                (date(2026, 10, 26), DayStatus::HalfTerm("Autumn".into())),
                (
                    date(2026, 11, 23),
                    DayStatus::Inset("Safeguarding training".into())
                ),
            ]
        );
        let dates: Vec<Date> = series.sessions.iter().map(|s| s.date).collect();
        assert_eq!(dates.len(), 13);
        assert_eq!(dates[0], date(2026, 9, 7));
        assert_eq!(dates[12], date(2026, 12, 14));
        let before = series
            .sessions
            .iter()
            .find(|s| s.date == date(2026, 10, 19))
            .unwrap();
        let after = series
            .sessions
            .iter()
            .find(|s| s.date == date(2026, 11, 2))
            .unwrap();
        assert_eq!(before.start, time(15, 30, 0, 0));
        assert_eq!(after.start, time(15, 30, 0, 0));
        assert_eq!(before.starts_at(), utc("2026-10-19T14:30:00Z"));
        assert_eq!(after.starts_at(), utc("2026-11-02T15:30:00Z"));
    }

    #[test]
    fn the_spring_and_summer_series_straddle_the_march_clock_change() {
        let bank = shipped();
        let holidays = Holidays::new(&bank, EW);
        let cal = year();
        let spring = Series::generate(
            &slot(Weekday::Monday, date(2027, 1, 5), None),
            &cal,
            holidays,
            None,
        );
        let summer = Series::generate(
            &slot(Weekday::Monday, date(2027, 3, 27), None),
            &cal,
            holidays,
            None,
        );
        let last = spring.sessions.last().unwrap();
        let first = summer.sessions.first().unwrap();
        assert_eq!(last.date, date(2027, 3, 22));
        assert_eq!(first.date, date(2027, 4, 12));
        assert_eq!(
            (last.start, first.start),
            (time(15, 30, 0, 0), time(15, 30, 0, 0))
        );
        assert_eq!(last.starts_at(), utc("2027-03-22T15:30:00Z"));
        assert_eq!(first.starts_at(), utc("2027-04-12T14:30:00Z"));
        // Nothing in the Easter break is listed as skipped.
        assert!(summer.skipped.iter().all(|(d, _)| *d >= date(2027, 4, 12)));
        assert_eq!(
            spring.skipped,
            [
                (date(2027, 2, 15), DayStatus::HalfTerm("Spring".into())),
                (
                    date(2027, 3, 15),
                    DayStatus::Closure("Heating repairs".into())
                ),
            ]
        );
    }

    #[test]
    fn a_friday_spring_series_skips_good_friday_by_name() {
        let bank = shipped();
        let series = Series::generate(
            &slot(Weekday::Friday, date(2027, 1, 5), None),
            &year(),
            Holidays::new(&bank, EW),
            None,
        );
        assert_eq!(
            series.skipped,
            [
                (date(2027, 2, 19), DayStatus::HalfTerm("Spring".into())),
                (
                    date(2027, 3, 26),
                    DayStatus::BankHoliday("Good Friday".into())
                ),
            ]
        );
        assert_eq!(series.sessions.len(), 10);
        assert_eq!(series.skipped[1].1.label(), "Bank holiday: Good Friday");
    }

    #[test]
    fn a_series_starting_in_the_holidays_follows_the_next_term() {
        let bank = shipped();
        let series = Series::generate(
            &slot(Weekday::Wednesday, date(2026, 8, 1), None),
            &year(),
            Holidays::new(&bank, EW),
            None,
        );
        assert_eq!(series.term.as_deref(), Some("Autumn"));
        assert_eq!(
            series.skipped[0],
            (
                date(2026, 9, 2),
                DayStatus::Inset("Staff training day".into())
            )
        );
        assert_eq!(series.sessions[0].date, date(2026, 9, 9));
    }

    #[test]
    fn the_series_stops_at_the_planned_end_or_the_slot_end() {
        let bank = shipped();
        let holidays = Holidays::new(&bank, EW);
        let cal = year();
        let monday = slot(Weekday::Monday, date(2026, 9, 7), None);

        let planned = Series::generate(&monday, &cal, holidays, Some(date(2026, 11, 9)));
        assert_eq!(planned.last_day, Some(date(2026, 11, 9)));
        assert_eq!(
            planned.sessions.last().map(|s| s.date),
            Some(date(2026, 11, 9))
        );
        assert_eq!(planned.sessions.len(), 9);

        let until = slot(Weekday::Monday, date(2026, 9, 7), Some(date(2026, 9, 27)));
        let bounded = Series::generate(&until, &cal, holidays, Some(date(2026, 11, 9)));
        assert_eq!(bounded.last_day, Some(date(2026, 9, 27)));
        assert_eq!(bounded.sessions.len(), 3);

        let before = Series::generate(&monday, &cal, holidays, Some(date(2026, 9, 1)));
        assert!(before.sessions.is_empty() && before.skipped.is_empty());
    }

    #[test]
    fn a_weekend_slot_places_nothing_and_says_why() {
        let bank = shipped();
        let series = Series::generate(
            &slot(Weekday::Saturday, date(2026, 9, 2), Some(date(2026, 9, 30))),
            &year(),
            Holidays::new(&bank, EW),
            None,
        );
        assert!(series.sessions.is_empty());
        assert_eq!(series.skipped.len(), 4);
        assert!(series.skipped.iter().all(|(_, s)| *s == DayStatus::Weekend));
    }

    #[test]
    fn no_term_ahead_means_an_empty_series() {
        let bank = shipped();
        let series = Series::generate(
            &slot(Weekday::Monday, date(2027, 8, 2), None),
            &year(),
            Holidays::new(&bank, EW),
            None,
        );
        assert_eq!(
            series,
            Series {
                sessions: vec![],
                skipped: vec![],
                term: None,
                last_day: None,
            }
        );
    }

    // --- clashes ---------------------------------------------------------------------------

    fn id(n: u128) -> uuid::Uuid {
        uuid::Uuid::from_u128(n)
    }

    fn room(n: u128) -> RoomId {
        RoomId(id(0x100 + n))
    }

    fn therapist(n: u128) -> UserId {
        UserId(id(0x200 + n))
    }

    fn booking(n: u128, r: u128, t: u128, h: i8, m: i8, minutes: u16) -> Booking {
        Booking {
            id: BookingId(id(n)),
            room: room(r),
            therapist: therapist(t),
            date: date(2026, 10, 5),
            start: time(h, m, 0, 0),
            minutes,
        }
    }

    #[test]
    fn the_same_room_at_the_same_time_clashes() {
        let existing = [booking(1, 1, 1, 15, 30, 50)];
        let new = booking(2, 1, 2, 16, 0, 50);
        let clashes = find_clashes(&new, &existing);
        assert_eq!(clashes, [Clash::Room { with: existing[0] }]);
        assert_eq!(
            clashes[0].message(),
            "The room is already booked 05/10/2026 15:30-16:20"
        );
        assert_eq!(clashes[0].with().id, BookingId(id(1)));
    }

    #[test]
    fn one_therapist_in_two_rooms_clashes() {
        let existing = [booking(1, 1, 1, 15, 30, 50)];
        let new = booking(2, 2, 1, 15, 0, 45);
        let clashes = find_clashes(&new, &existing);
        assert_eq!(clashes, [Clash::Therapist { with: existing[0] }]);
        assert!(
            clashes[0]
                .to_string()
                .starts_with("The therapist is already booked 05/10/2026 15:30-16:20")
        );
        // The same therapist in the same room is both.
        let twice = booking(3, 1, 1, 15, 30, 50);
        assert_eq!(find_clashes(&twice, &existing).len(), 2);
    }

    #[test]
    fn touching_sessions_do_not_clash() {
        let existing = [booking(1, 1, 1, 15, 0, 60)]; // ends 16:00
        assert!(find_clashes(&booking(2, 1, 1, 16, 0, 50), &existing).is_empty());
        assert!(find_clashes(&booking(3, 1, 1, 14, 10, 50), &existing).is_empty());
        // One minute more and they meet.
        assert_eq!(
            find_clashes(&booking(4, 1, 2, 15, 59, 50), &existing).len(),
            1
        );
    }

    #[test]
    fn other_days_other_rooms_and_the_booking_itself_do_not_clash() {
        let mut tomorrow = booking(1, 1, 1, 15, 30, 50);
        tomorrow.date = date(2026, 10, 6);
        let elsewhere = booking(2, 2, 2, 15, 30, 50);
        let me = booking(3, 1, 1, 15, 30, 50);
        let moved = Booking {
            start: time(15, 45, 0, 0),
            ..me
        };
        assert!(find_clashes(&moved, &[tomorrow, elsewhere, me]).is_empty());
    }

    #[test]
    fn clashes_compare_instants_across_the_clock_change() {
        // On 25 October 2026 the clocks go back at 02:00 BST: two hours from 00:30 BST end at
        // 01:30 GMT, so a booking at 02:00 that night does not clash, though on the face of
        // the wall clock 00:30 plus two hours is 02:30.
        let mut night = booking(1, 1, 1, 0, 30, 120);
        night.date = date(2026, 10, 25);
        assert_eq!(night.when(), "25/10/2026 00:30-01:30");
        let mut after = booking(2, 1, 2, 2, 0, 30);
        after.date = date(2026, 10, 25);
        assert!(find_clashes(&after, &[night]).is_empty());
        let mut during = booking(3, 1, 2, 1, 15, 10);
        during.date = date(2026, 10, 25);
        assert_eq!(find_clashes(&during, &[night]).len(), 1);
    }

    const OPEN: Time = time(8, 30, 0, 0);
    const CLOSE: Time = time(17, 30, 0, 0);

    #[test]
    fn nearest_free_offers_nearby_times_then_another_room() {
        // Room 1 is taken 15:30-16:20 by someone else; room 3 is taken too; room 2 is free.
        let existing = [booking(1, 1, 9, 15, 30, 50), booking(2, 3, 8, 15, 0, 90)];
        let new = booking(10, 1, 1, 15, 30, 50);
        let alternatives = nearest_free(
            &new,
            &existing,
            &[room(1), room(2), room(3)],
            OPEN,
            CLOSE,
            15,
        );
        let got: Vec<(RoomId, Time, i32)> = alternatives
            .iter()
            .map(|a| (a.room, a.start, a.shift_minutes))
            .collect();
        assert_eq!(
            got,
            [
                (room(1), time(14, 30, 0, 0), -60),
                (room(1), time(16, 30, 0, 0), 60),
                (room(2), time(15, 30, 0, 0), 0),
            ]
        );
        // Every alternative is itself free.
        for a in &alternatives {
            assert!(find_clashes(&a.as_booking(&new), &existing).is_empty());
            assert_eq!((a.date, a.minutes), (new.date, 50));
        }
    }

    #[test]
    fn nearest_free_never_offers_a_time_the_therapist_is_busy() {
        // The room is taken at 15:30; the therapist is elsewhere 14:00-15:00 and 16:30-17:30.
        let existing = [
            booking(1, 1, 9, 15, 30, 50),
            booking(2, 4, 1, 14, 0, 60),
            booking(3, 5, 1, 16, 30, 60),
        ];
        let new = booking(10, 1, 1, 15, 30, 50);
        let alternatives = nearest_free(&new, &existing, &[room(2)], OPEN, CLOSE, 15);
        let got: Vec<(RoomId, Time)> = alternatives.iter().map(|a| (a.room, a.start)).collect();
        assert_eq!(
            got,
            [
                (room(1), time(13, 0, 0, 0)),
                (room(1), time(12, 45, 0, 0)),
                (room(2), time(15, 30, 0, 0)),
            ]
        );

        // Busy at the time asked for: no other room is offered at it, only other times.
        let busy = [booking(1, 3, 1, 15, 0, 90)];
        let alternatives = nearest_free(&new, &busy, &[room(2)], OPEN, CLOSE, 15);
        assert_eq!(alternatives.len(), 3);
        assert!(alternatives.iter().all(|a| a.room == room(1)));
        assert_eq!(
            alternatives.iter().map(|a| a.start).collect::<Vec<_>>(),
            [time(16, 30, 0, 0), time(14, 0, 0, 0), time(13, 45, 0, 0)]
        );
    }

    #[test]
    fn nearest_free_keeps_to_the_day_and_the_step() {
        // Everything is free but the time asked for: a 60-minute session at 16:30 with the day
        // ending at 17:30 can only move earlier.
        let existing = [booking(1, 1, 9, 16, 30, 60)];
        let new = booking(10, 1, 1, 16, 30, 60);
        let alternatives = nearest_free(&new, &existing, &[], OPEN, CLOSE, 30);
        assert_eq!(
            alternatives.iter().map(|a| a.start).collect::<Vec<_>>(),
            [time(15, 30, 0, 0), time(15, 0, 0, 0), time(14, 30, 0, 0)]
        );
        // A step of 0 offers only other rooms.
        let rooms = [room(1), room(2), room(2), room(3), room(4)];
        let alternatives = nearest_free(&new, &existing, &rooms, OPEN, CLOSE, 0);
        assert_eq!(
            alternatives.iter().map(|a| a.room).collect::<Vec<_>>(),
            [room(2), room(3), room(4)]
        );
        // Nothing free at all.
        let whole_day = [
            booking(1, 1, 1, 8, 0, 240),
            booking(2, 2, 1, 12, 0, 240),
            booking(3, 3, 1, 16, 0, 90),
        ];
        let new = booking(10, 1, 1, 10, 0, 50);
        assert!(nearest_free(&new, &whole_day, &[room(2)], OPEN, CLOSE, 15).is_empty());
    }

    #[test]
    fn a_refused_booking_names_the_clash_and_the_alternatives() {
        let existing = [booking(1, 1, 9, 15, 30, 50)];
        let free = booking(10, 2, 1, 15, 30, 50);
        assert_eq!(
            check_booking(&free, &existing, &[room(1), room(2)], OPEN, CLOSE, 15),
            Ok(())
        );

        let new = booking(10, 1, 1, 15, 30, 50);
        let refused =
            check_booking(&new, &existing, &[room(1), room(2)], OPEN, CLOSE, 15).unwrap_err();
        assert_eq!(refused.clashes, [Clash::Room { with: existing[0] }]);
        assert_eq!(refused.alternatives.len(), 3);
        assert_eq!(
            refused.to_string(),
            format!(
                "This booking clashes: The room is already booked 05/10/2026 15:30-16:20. Free \
                 instead: 14:30 in the same room, 16:30 in the same room, 15:30 in room {}",
                room(2)
            )
        );
        let invalid: Invalid = refused.into();
        assert_eq!(fields(invalid), ["start"]);
    }

    // --- attendance ------------------------------------------------------------------------

    fn attendance(kind: &str, late: &str, reason: &str) -> Result<Attendance, Invalid> {
        Attendance::parse(&AttendanceInput {
            kind: kind.into(),
            late_minutes: late.into(),
            reason: reason.into(),
        })
    }

    #[test]
    fn attendance_codes_round_trip() {
        let codes: Vec<_> = AttendanceKind::ALL.map(AttendanceKind::code).to_vec();
        assert_eq!(
            codes,
            [
                "attended",
                "late",
                "did-not-attend",
                "cancelled-by-child-or-family",
                "cancelled-by-school",
                "cancelled-by-therapist",
            ]
        );
        for kind in AttendanceKind::ALL {
            assert_eq!(AttendanceKind::parse(kind.code()), Ok(kind));
            let late = if kind == AttendanceKind::Late {
                "5"
            } else {
                ""
            };
            assert_eq!(
                attendance(kind.code(), late, "").map(|a| a.kind()),
                Ok(kind)
            );
        }
        let unknown = AttendanceKind::parse("absent").unwrap_err();
        assert!(unknown.contains("did-not-attend"), "{unknown}");
        assert_eq!(
            serde_json::to_value(AttendanceKind::CancelledByChildOrFamily).unwrap(),
            "cancelled-by-child-or-family"
        );
        assert_eq!(
            serde_json::to_value(Attendance::Late { minutes: 10 }).unwrap(),
            serde_json::json!({"kind": "late", "minutes": 10})
        );
    }

    #[test]
    fn late_needs_minutes_from_1_to_240() {
        assert_eq!(
            attendance("late", "10", ""),
            Ok(Attendance::Late { minutes: 10 })
        );
        assert_eq!(
            attendance("late", "10", "").unwrap().label(),
            "Attended, 10 minutes late"
        );
        assert_eq!(
            Attendance::Late { minutes: 1 }.label(),
            "Attended, 1 minute late"
        );
        assert_eq!(
            attendance("late", "240", "").map(|a| a.late_minutes()),
            Ok(Some(240))
        );
        for bad in ["0", "241", "", "ten"] {
            assert_eq!(
                attendance("late", bad, "").map_err(fields),
                Err(vec!["late_minutes".into()]),
                "{bad}"
            );
        }
        assert_eq!(
            attendance("attended", "5", "").map_err(fields),
            Err(vec!["late_minutes".into()])
        );
    }

    #[test]
    fn reasons_belong_to_sessions_that_did_not_go_ahead() {
        let cancelled = attendance("cancelled-by-school", "", " Class trip ").unwrap();
        assert_eq!(
            cancelled,
            Attendance::CancelledBySchool {
                reason: Some("Class trip".into())
            }
        );
        assert_eq!(cancelled.reason(), Some("Class trip"));
        assert_eq!(cancelled.label(), "Cancelled by the school");
        assert_eq!(
            attendance("did-not-attend", "", ""),
            Ok(Attendance::DidNotAttend { reason: None })
        );
        assert_eq!(
            attendance("attended", "", "Lovely session").map_err(fields),
            Err(vec!["reason".into()])
        );
        assert_eq!(
            attendance("late", "5", "Bus").map_err(fields),
            Err(vec!["reason".into()])
        );
        assert_eq!(
            attendance("cancelled-by-therapist", "", &"x".repeat(501)).map_err(fields),
            Err(vec!["reason".into()])
        );
        assert_eq!(
            attendance("", "", "").map_err(fields),
            Err(vec!["kind".into()])
        );
    }

    #[test]
    fn who_cancelled_decides_whether_it_counts() {
        assert!(Attendance::Attended.is_held());
        assert!(Attendance::Late { minutes: 3 }.is_held());
        assert!(!Attendance::DidNotAttend { reason: None }.is_held());
        assert!(Attendance::CancelledByChildOrFamily { reason: None }.counts_for_attendance());
        assert!(Attendance::DidNotAttend { reason: None }.counts_for_attendance());
        assert!(!Attendance::CancelledBySchool { reason: None }.counts_for_attendance());
        assert!(!Attendance::CancelledByTherapist { reason: None }.counts_for_attendance());
    }

    // --- metrics ---------------------------------------------------------------------------

    fn held(d: Date, h: i8, m: i8, r: u128, attendance: Attendance) -> HeldSession {
        HeldSession {
            date: d,
            start: time(h, m, 0, 0),
            room: room(r),
            attendance,
        }
    }

    fn regular() -> (Weekday, Time, RoomId) {
        (Weekday::Monday, time(15, 30, 0, 0), room(1))
    }

    #[test]
    fn metrics_with_no_sessions_have_nothing_to_show() {
        let m = FrameMetrics::compute(&[], regular());
        assert_eq!(m, FrameMetrics::default());
        assert_eq!(m.consistency.pair(), (0, 0));
        assert_eq!(m.attendance.percent(), None);
        assert_eq!(m.attendance.percent_text(), "–");
        assert_eq!(m.consistency.to_string(), "none yet");
    }

    #[test]
    fn metrics_count_the_frame_and_attendance() {
        let sessions = [
            // Held at the frame.
            held(date(2026, 9, 7), 15, 30, 1, Attendance::Attended),
            held(
                date(2026, 9, 14),
                15,
                30,
                1,
                Attendance::Late { minutes: 10 },
            ),
            // Held, but moved: another room, another time, another day.
            held(date(2026, 9, 21), 15, 30, 2, Attendance::Attended),
            held(date(2026, 9, 28), 14, 30, 1, Attendance::Attended),
            held(date(2026, 9, 29), 15, 30, 1, Attendance::Attended),
            // Not held.
            held(
                date(2026, 10, 5),
                15,
                30,
                1,
                Attendance::DidNotAttend { reason: None },
            ),
            held(
                date(2026, 10, 12),
                15,
                30,
                1,
                Attendance::CancelledByChildOrFamily { reason: None },
            ),
            held(
                date(2026, 10, 19),
                15,
                30,
                1,
                Attendance::CancelledBySchool { reason: None },
            ),
            held(
                date(2026, 11, 2),
                15,
                30,
                1,
                Attendance::CancelledByTherapist { reason: None },
            ),
        ];
        let m = FrameMetrics::compute(&sessions, regular());
        assert_eq!(
            (
                m.sessions,
                m.attended,
                m.late,
                m.did_not_attend,
                m.cancelled_by_child_or_family,
                m.cancelled_by_school,
                m.cancelled_by_therapist,
                m.held_at_frame,
            ),
            (9, 4, 1, 1, 1, 1, 1, 2)
        );
        assert_eq!(m.consistency.pair(), (2, 5));
        assert_eq!(m.attendance.pair(), (5, 7));
        assert_eq!(m.consistency.to_string(), "2 of 5 (40%)");
        assert_eq!(m.attendance.percent_text(), "71%");
        assert!(sessions[0].at_regular_frame(regular()));
        assert!(!sessions[2].at_regular_frame(regular()));
    }

    #[test]
    fn only_school_and_therapist_cancellations_leave_nothing_to_count() {
        let sessions = [held(
            date(2026, 9, 7),
            15,
            30,
            1,
            Attendance::CancelledBySchool { reason: None },
        )];
        let m = FrameMetrics::compute(&sessions, regular());
        assert_eq!(m.attendance.pair(), (0, 0));
        assert_eq!(m.consistency.pair(), (0, 0));
        assert_eq!(m.attendance.percent(), None);
    }

    #[test]
    fn percentages_round_but_never_claim_all_or_none_falsely() {
        assert_eq!(Ratio::new(2, 3).percent(), Some(67));
        assert_eq!(Ratio::new(1, 2).percent(), Some(50));
        assert_eq!(Ratio::new(199, 200).percent(), Some(99));
        assert_eq!(Ratio::new(1, 201).percent(), Some(1));
        assert_eq!(Ratio::new(0, 5).percent(), Some(0));
        assert_eq!(Ratio::new(5, 5).percent(), Some(100));
        assert_eq!(Ratio::new(5, 6).to_string(), "5 of 6 (83%)");
        assert_eq!(Ratio::new(u32::MAX, u32::MAX).percent(), Some(100));
    }
}
