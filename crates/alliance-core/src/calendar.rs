//! Working days and bank holidays: the calendar the safeguarding timings of policy section 4
//! run on ("acknowledgement by the end of the working day, decision by the end of the next
//! working day"; a working day is 09:00-17:00 on a day that is neither a weekend nor one of the
//! service's bank holidays, and a concern raised outside it counts from the start of the next).
//!
//! No IO: the shipped bank holidays are compiled into the binary (`include_str!`), an import
//! arrives as text the caller has already read, and every moment is passed in. Every wall-clock
//! time is Europe/London ([`crate::uk::london`]), so 17:00 in British Summer Time is 16:00 UTC
//! and 17:00 in winter is 17:00 UTC.
//!
//! Bank holidays come in the UK government's shape (<https://www.gov.uk/bank-holidays.json>):
//! `{division: {division, events: [{title, date, notes, bunting}]}}`. Only England and Wales
//! is shipped, for 2026-2028. Scotland and Northern Ireland have no shipped data: a service
//! there imports the government's file (the same shape, with the divisions `scotland` and
//! `northern-ireland`) through [`BankHolidays::parse_gov_json`] and [`BankHolidays::merge`].
//! Until then its calendar knows only weekends, and [`WorkingCalendar::covers`] says so.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use jiff::Timestamp;
use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Nation;
use crate::error::{FieldError, Invalid, Validator, parse_line};

/// The UK government's file for England and Wales, 2026-2028, as published.
const SHIPPED: &str = include_str!("../data/bank-holidays.json");

/// The largest import accepted: 1 MB (1,000,000 bytes). The government's file for all three
/// divisions over a decade is about 30 kB.
pub const MAX_IMPORT_BYTES: usize = 1_000_000;

/// The longest holiday title accepted, in characters.
pub const MAX_TITLE_CHARS: usize = 200;

/// Years outside this range are taken to be typing mistakes.
const EARLIEST_YEAR: i16 = 2000;
const LATEST_YEAR: i16 = 2100;

/// A bank holiday division of the UK government's list. England and Wales share one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Division {
    /// `england-and-wales`: shipped for 2026-2028.
    EnglandAndWales,
    /// `scotland`: none shipped; import the government's file.
    Scotland,
    /// `northern-ireland`: none shipped; import the government's file.
    NorthernIreland,
}

impl Division {
    pub const ALL: [Division; 3] = [
        Division::EnglandAndWales,
        Division::Scotland,
        Division::NorthernIreland,
    ];

    /// The government's key: `england-and-wales`, `scotland`, `northern-ireland`.
    pub fn code(self) -> &'static str {
        match self {
            Division::EnglandAndWales => "england-and-wales",
            Division::Scotland => "scotland",
            Division::NorthernIreland => "northern-ireland",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Division::EnglandAndWales => "England and Wales",
            Division::Scotland => "Scotland",
            Division::NorthernIreland => "Northern Ireland",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|d| d.code() == code)
            .ok_or_else(|| "Choose england-and-wales, scotland or northern-ireland".to_owned())
    }

    /// The division whose bank holidays apply in a nation: England and Wales share one.
    pub fn for_nation(nation: Nation) -> Self {
        match nation {
            Nation::England | Nation::Wales => Division::EnglandAndWales,
            Nation::Scotland => Division::Scotland,
            Nation::NorthernIreland => Division::NorthernIreland,
        }
    }
}

impl fmt::Display for Division {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One problem in an imported file, and where it is: `england-and-wales.events[3].date`
/// (a division's key, then the path inside it), or an empty path for the whole file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{problem}", if path.is_empty() { String::new() } else { format!("{path}: ") })]
pub struct ImportError {
    pub path: String,
    pub problem: ImportProblem,
}

impl ImportError {
    fn new(path: impl Into<String>, problem: ImportProblem) -> Self {
        Self {
            path: path.into(),
            problem,
        }
    }
}

impl From<ImportError> for FieldError {
    fn from(error: ImportError) -> Self {
        FieldError::new(error.path, error.problem.to_string())
    }
}

/// What is wrong, in words an administrator can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportProblem {
    #[error("The file is {bytes} bytes; the largest accepted is {MAX_IMPORT_BYTES} bytes (1 MB)")]
    TooLarge { bytes: usize },
    #[error("The file is not JSON ({0})")]
    NotJson(String),
    #[error("Expected {expected}")]
    WrongShape { expected: &'static str },
    #[error("Unknown division “{0}”: expected england-and-wales, scotland or northern-ireland")]
    UnknownDivision(String),
    #[error("The division is given as “{found}”, which does not match its key")]
    DivisionMismatch { found: String },
    #[error("The division has no list of events")]
    MissingEvents,
    #[error("The holiday has no title")]
    MissingTitle,
    #[error("The title is not usable: {0}")]
    BadTitle(String),
    #[error("The holiday has no date")]
    MissingDate,
    #[error("“{0}” is not a date written YYYY-MM-DD between {EARLIEST_YEAR} and {LATEST_YEAR}")]
    BadDate(String),
    #[error("{date} is already listed at events[{earlier}] as “{earlier_title}”")]
    DuplicateDate {
        date: Date,
        earlier: usize,
        earlier_title: String,
    },
    #[error("The file lists no bank holidays")]
    NoHolidays,
}

/// Bank holidays per division: date → title.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BankHolidays {
    divisions: BTreeMap<Division, BTreeMap<Date, String>>,
}

/// What merging an import would do to one division's year, for an import preview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreviewRow {
    pub division: Division,
    pub year: i16,
    /// Holidays the import lists for this year.
    pub holidays: usize,
    /// Of those, dates not held before.
    pub added: usize,
    /// Of those, dates held before under another title (the import's title replaces it).
    pub retitled: usize,
    /// Dates held before in this year that the import does not list; a merge keeps them, so
    /// a holiday the government has moved would then appear on both dates.
    pub kept_unlisted: usize,
    /// Whether this year was covered before the import.
    pub year_was_covered: bool,
}

impl BankHolidays {
    pub fn new() -> Self {
        Self::default()
    }

    /// The shipped data: England and Wales, 2026-2028. Scotland and Northern Ireland have none
    /// shipped. The file is checked by the tests, so the empty fallback is never expected.
    pub fn shipped() -> Self {
        Self::parse_gov_json(SHIPPED).unwrap_or_default()
    }

    /// Reads a file in the UK government's shape, reporting every problem (each named by its
    /// path), not only the first. Unknown divisions, dates that are not `YYYY-MM-DD`, missing
    /// or unusable titles, and one date listed twice under different titles are refused; the
    /// same date listed twice under the same title is taken once. `notes` and `bunting` are
    /// read past.
    pub fn parse_gov_json(text: &str) -> Result<Self, Vec<ImportError>> {
        if text.len() > MAX_IMPORT_BYTES {
            return Err(vec![ImportError::new(
                "",
                ImportProblem::TooLarge { bytes: text.len() },
            )]);
        }
        let value: Value = serde_json::from_str(text)
            .map_err(|e| vec![ImportError::new("", ImportProblem::NotJson(e.to_string()))])?;
        let Value::Object(root) = value else {
            return Err(vec![ImportError::new(
                "",
                ImportProblem::WrongShape {
                    expected: "an object keyed by division",
                },
            )]);
        };

        let mut errors = Vec::new();
        let mut holidays = BankHolidays::new();
        for (key, body) in &root {
            let path = shorten(key);
            match Division::parse(key) {
                Ok(division) => {
                    let parsed = parse_division(key, &path, body, &mut errors);
                    if !parsed.is_empty() {
                        holidays.divisions.insert(division, parsed);
                    }
                }
                Err(_) => errors.push(ImportError::new(
                    path.clone(),
                    ImportProblem::UnknownDivision(path),
                )),
            }
        }
        if errors.is_empty() && holidays.is_empty() {
            errors.push(ImportError::new("", ImportProblem::NoHolidays));
        }
        if errors.is_empty() {
            Ok(holidays)
        } else {
            Err(errors)
        }
    }

    /// Adds one holiday, replacing the title of one already on that date (returned).
    pub fn insert(
        &mut self,
        division: Division,
        date: Date,
        title: impl Into<String>,
    ) -> Option<String> {
        self.divisions
            .entry(division)
            .or_default()
            .insert(date, title.into())
    }

    /// Takes in an import: new dates are added, and a date already held takes the import's
    /// title. Dates the import does not list are kept (see [`PreviewRow::kept_unlisted`]).
    pub fn merge(&mut self, other: BankHolidays) {
        for (division, dates) in other.divisions {
            self.divisions.entry(division).or_default().extend(dates);
        }
    }

    /// The title of the holiday on `date`, if it is one.
    pub fn title(&self, division: Division, date: Date) -> Option<&str> {
        self.divisions
            .get(&division)
            .and_then(|dates| dates.get(&date))
            .map(String::as_str)
    }

    /// A division's holidays, earliest first.
    pub fn in_division(&self, division: Division) -> impl Iterator<Item = (Date, &str)> + '_ {
        self.divisions
            .get(&division)
            .into_iter()
            .flat_map(|dates| dates.iter().map(|(date, title)| (*date, title.as_str())))
    }

    /// The years for which a division has any holidays.
    pub fn years_covered(&self, division: Division) -> BTreeSet<i16> {
        self.in_division(division)
            .map(|(date, _)| date.year())
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.divisions.values().all(BTreeMap::is_empty)
    }

    /// What merging `self` (an import) into `existing` would do, per division and year.
    pub fn preview(&self, existing: &BankHolidays) -> Vec<PreviewRow> {
        let mut rows: BTreeMap<(Division, i16), PreviewRow> = BTreeMap::new();
        for (&division, dates) in &self.divisions {
            let covered = existing.years_covered(division);
            for (&date, title) in dates {
                let year = date.year();
                let row = rows.entry((division, year)).or_insert_with(|| PreviewRow {
                    division,
                    year,
                    holidays: 0,
                    added: 0,
                    retitled: 0,
                    kept_unlisted: 0,
                    year_was_covered: covered.contains(&year),
                });
                row.holidays += 1;
                match existing.title(division, date) {
                    None => row.added += 1,
                    Some(old) if old != title => row.retitled += 1,
                    Some(_) => {}
                }
            }
        }
        for ((division, year), row) in &mut rows {
            row.kept_unlisted = existing
                .in_division(*division)
                .filter(|(date, _)| date.year() == *year && self.title(*division, *date).is_none())
                .count();
        }
        rows.into_values().collect()
    }
}

/// One division's events; problems go to `errors`.
fn parse_division(
    key: &str,
    path: &str,
    body: &Value,
    errors: &mut Vec<ImportError>,
) -> BTreeMap<Date, String> {
    let mut dates: BTreeMap<Date, String> = BTreeMap::new();
    let Value::Object(body) = body else {
        errors.push(ImportError::new(
            path,
            ImportProblem::WrongShape {
                expected: "an object with a list of events",
            },
        ));
        return dates;
    };
    match body.get("division") {
        None => {}
        Some(Value::String(named)) if named == key => {}
        Some(other) => errors.push(ImportError::new(
            format!("{path}.division"),
            ImportProblem::DivisionMismatch {
                found: shorten(&match other {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                }),
            },
        )),
    }
    let events = match body.get("events") {
        Some(Value::Array(events)) => events,
        Some(_) => {
            errors.push(ImportError::new(
                format!("{path}.events"),
                ImportProblem::WrongShape {
                    expected: "a list of events",
                },
            ));
            return dates;
        }
        None => {
            errors.push(ImportError::new(
                format!("{path}.events"),
                ImportProblem::MissingEvents,
            ));
            return dates;
        }
    };

    // Where each date was first listed, to name it when a later entry disagrees.
    let mut first_listed: BTreeMap<Date, usize> = BTreeMap::new();
    for (index, event) in events.iter().enumerate() {
        let at = format!("{path}.events[{index}]");
        let Value::Object(event) = event else {
            errors.push(ImportError::new(
                at,
                ImportProblem::WrongShape {
                    expected: "an event with a title and a date",
                },
            ));
            continue;
        };
        let title = match event.get("title") {
            Some(Value::String(raw)) => match parse_line(raw, 1, MAX_TITLE_CHARS) {
                Ok(title) => Some(title),
                Err(message) => {
                    errors.push(ImportError::new(
                        format!("{at}.title"),
                        ImportProblem::BadTitle(message),
                    ));
                    None
                }
            },
            _ => {
                errors.push(ImportError::new(
                    format!("{at}.title"),
                    ImportProblem::MissingTitle,
                ));
                None
            }
        };
        let date = match event.get("date") {
            Some(Value::String(raw)) => match parse_iso_date(raw) {
                Some(date) => Some(date),
                None => {
                    errors.push(ImportError::new(
                        format!("{at}.date"),
                        ImportProblem::BadDate(shorten(raw)),
                    ));
                    None
                }
            },
            Some(other) => {
                errors.push(ImportError::new(
                    format!("{at}.date"),
                    ImportProblem::BadDate(shorten(&other.to_string())),
                ));
                None
            }
            None => {
                errors.push(ImportError::new(
                    format!("{at}.date"),
                    ImportProblem::MissingDate,
                ));
                None
            }
        };
        let (Some(title), Some(date)) = (title, date) else {
            continue;
        };
        match dates.get(&date) {
            None => {
                first_listed.insert(date, index);
                dates.insert(date, title);
            }
            Some(earlier_title) if *earlier_title == title => {}
            Some(earlier_title) => errors.push(ImportError::new(
                format!("{at}.date"),
                ImportProblem::DuplicateDate {
                    date,
                    earlier: first_listed.get(&date).copied().unwrap_or_default(),
                    earlier_title: earlier_title.clone(),
                },
            )),
        }
    }
    dates
}

/// Exactly `YYYY-MM-DD`, a real date, in a plausible year.
fn parse_iso_date(raw: &str) -> Option<Date> {
    let bytes = raw.as_bytes();
    let shaped = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shaped {
        return None;
    }
    let date: Date = raw.parse().ok()?;
    (EARLIEST_YEAR..=LATEST_YEAR)
        .contains(&date.year())
        .then_some(date)
}

/// Text from a file, cut short for a message.
fn shorten(raw: &str) -> String {
    const MAX: usize = 40;
    if raw.chars().count() <= MAX {
        raw.to_owned()
    } else {
        let mut cut: String = raw.chars().take(MAX).collect();
        cut.push('…');
        cut
    }
}

/// The hours of a working day, London wall-clock; 09:00-17:00 unless the service says
/// otherwise (policy section 4). The start is inside the day, the end is not: a concern raised
/// at exactly 17:00 counts from the next working day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkingHours {
    start: Time,
    end: Time,
}

impl WorkingHours {
    /// 09:00-17:00.
    pub const STANDARD: WorkingHours = WorkingHours {
        start: jiff::civil::time(9, 0, 0, 0),
        end: jiff::civil::time(17, 0, 0, 0),
    };

    /// Refused unless `start` is before `end`.
    pub fn new(start: Time, end: Time) -> Result<Self, String> {
        if start < end {
            Ok(Self { start, end })
        } else {
            Err("The working day must start before it ends".to_owned())
        }
    }

    /// From form fields `start` and `end` (`09:00`), every problem named by its field.
    pub fn parse(start: &str, end: &str) -> Result<Self, Invalid> {
        let mut v = Validator::new();
        let start = v.check("start", parse_clock_time(start));
        let end = v.check("end", parse_clock_time(end));
        v.finish()?;
        match (start, end) {
            (Some(start), Some(end)) => Self::new(start, end).map_err(|m| Invalid::field("end", m)),
            _ => Err(Invalid::field("start", "Enter a time such as 09:00")),
        }
    }

    pub fn start(self) -> Time {
        self.start
    }

    pub fn end(self) -> Time {
        self.end
    }

    /// Whether a wall-clock time is within the hours: from the start, up to but not at the end.
    pub fn contains(self, time: Time) -> bool {
        self.start <= time && time < self.end
    }
}

impl Default for WorkingHours {
    fn default() -> Self {
        Self::STANDARD
    }
}

/// `HH:MM`, 24-hour clock.
fn parse_clock_time(raw: &str) -> Result<Time, String> {
    let raw = raw.trim();
    let bytes = raw.as_bytes();
    let shaped = bytes.len() == 5
        && bytes.iter().enumerate().all(|(i, b)| match i {
            2 => *b == b':',
            _ => b.is_ascii_digit(),
        });
    if !shaped {
        return Err("Enter a time such as 09:00".to_owned());
    }
    raw.parse::<Time>()
        .map_err(|_| "Enter a time such as 09:00".to_owned())
}

/// Working days and hours for one service: weekends and its bank holidays are not working
/// days, and every wall-clock time is Europe/London.
///
/// Dates beyond jiff's last date (9999-12-31) saturate there rather than fail; no deadline
/// comes near it.
#[derive(Debug, Clone)]
pub struct WorkingCalendar {
    holidays: BTreeSet<Date>,
    years: BTreeSet<i16>,
    hours: WorkingHours,
    tz: TimeZone,
}

impl WorkingCalendar {
    /// A calendar with these bank holidays. A year counts as covered (see [`Self::covers`])
    /// when at least one of the holidays falls in it.
    pub fn new(holidays: impl IntoIterator<Item = Date>, hours: WorkingHours) -> Self {
        let holidays: BTreeSet<Date> = holidays.into_iter().collect();
        let years = holidays.iter().map(|d| d.year()).collect();
        Self {
            holidays,
            years,
            hours,
            tz: crate::uk::london(),
        }
    }

    /// The calendar of one division's holidays (for a service, the division of its nation:
    /// [`Division::for_nation`]).
    pub fn for_division(holidays: &BankHolidays, division: Division, hours: WorkingHours) -> Self {
        Self::new(holidays.in_division(division).map(|(date, _)| date), hours)
    }

    pub fn hours(&self) -> WorkingHours {
        self.hours
    }

    pub fn is_bank_holiday(&self, date: Date) -> bool {
        self.holidays.contains(&date)
    }

    /// Not a Saturday or Sunday, and not a bank holiday.
    pub fn is_working_day(&self, date: Date) -> bool {
        !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
            && !self.is_bank_holiday(date)
    }

    /// The first working day strictly after `date`.
    pub fn next_working_day(&self, date: Date) -> Date {
        let mut day = date;
        loop {
            match day.tomorrow() {
                Ok(next) => day = next,
                Err(_) => return day,
            }
            if self.is_working_day(day) {
                return day;
            }
        }
    }

    /// `n` working days on from `date`: with `n = 0`, `date` itself if it is a working day,
    /// else the next one; a day that is not a working day first moves on to the next one, so
    /// one working day after a Saturday is the Tuesday.
    pub fn add_working_days(&self, date: Date, n: u32) -> Date {
        let mut day = if self.is_working_day(date) {
            date
        } else {
            self.next_working_day(date)
        };
        for _ in 0..n {
            let next = self.next_working_day(day);
            if next == day {
                break;
            }
            day = next;
        }
        day
    }

    /// Whether the moment is within working hours on a working day (London wall-clock).
    pub fn is_within_working_hours(&self, instant: Timestamp) -> bool {
        let local = instant.to_zoned_datetime(self.tz.clone());
        self.is_working_day(local.date()) && self.hours.contains(local.time())
    }

    /// When the clock starts for something raised at `raised`: the moment itself within
    /// working hours, else the start of the next working hours (the same day's start before
    /// opening on a working day; otherwise the next working day's). Raised at 17:30 on the
    /// Friday before a bank holiday Monday, it counts from Tuesday 09:00.
    pub fn counting_start(&self, raised: Timestamp) -> Timestamp {
        let (day, started_at) = self.counting(raised);
        started_at.unwrap_or_else(|| self.at(day, self.hours.start))
    }

    /// The close of the working day on which counting starts ("acknowledgement by the end of
    /// the working day").
    pub fn end_of_working_day(&self, raised: Timestamp) -> Timestamp {
        self.deadline_after_working_days(raised, 0)
    }

    /// The close of the `n`-th working day after the day counting starts (`n = 1`: "decision
    /// by the end of the next working day"; `n = 0` is [`Self::end_of_working_day`]).
    pub fn deadline_after_working_days(&self, raised: Timestamp, n: u32) -> Timestamp {
        let (day, _) = self.counting(raised);
        self.at(self.add_working_days(day, n), self.hours.end)
    }

    /// Whether the bank holidays include `date`'s year. A deadline on a date not covered was
    /// worked out from weekends alone, and callers should say so.
    pub fn covers(&self, date: Date) -> bool {
        self.years.contains(&date.year())
    }

    /// The working day counting starts on, and the moment itself when it is within hours.
    fn counting(&self, raised: Timestamp) -> (Date, Option<Timestamp>) {
        let local = raised.to_zoned_datetime(self.tz.clone());
        let (date, time) = (local.date(), local.time());
        if self.is_working_day(date) {
            if self.hours.contains(time) {
                return (date, Some(raised));
            }
            if time < self.hours.start {
                return (date, None);
            }
        }
        (self.next_working_day(date), None)
    }

    /// London wall-clock `time` on `date`, as a moment.
    fn at(&self, date: Date, time: Time) -> Timestamp {
        self.tz
            .to_timestamp(date.to_datetime(time))
            .unwrap_or(Timestamp::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, time};

    fn shipped_calendar() -> WorkingCalendar {
        WorkingCalendar::for_division(
            &BankHolidays::shipped(),
            Division::EnglandAndWales,
            WorkingHours::default(),
        )
    }

    /// A London wall-clock moment.
    fn london(y: i16, m: i8, d: i8, h: i8, min: i8) -> Timestamp {
        crate::uk::london()
            .to_timestamp(date(y, m, d).at(h, min, 0, 0))
            .unwrap()
    }

    fn utc(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn paths(errors: &[ImportError]) -> Vec<&str> {
        errors.iter().map(|e| e.path.as_str()).collect()
    }

    #[test]
    fn shipped_data_parses_and_covers_england_and_wales_2026_to_2028() {
        let holidays = BankHolidays::parse_gov_json(SHIPPED).unwrap();
        assert_eq!(holidays, BankHolidays::shipped());
        assert_eq!(
            holidays.years_covered(Division::EnglandAndWales),
            BTreeSet::from([2026, 2027, 2028])
        );
        assert_eq!(holidays.in_division(Division::EnglandAndWales).count(), 24);
        assert!(holidays.years_covered(Division::Scotland).is_empty());
        assert_eq!(holidays.in_division(Division::NorthernIreland).count(), 0);
        for year in [2026, 2027, 2028] {
            let in_year = holidays
                .in_division(Division::EnglandAndWales)
                .filter(|(d, _)| d.year() == year)
                .count();
            assert_eq!(in_year, 8, "{year}");
        }
    }

    #[test]
    fn christmas_2026_with_boxing_day_substitute() {
        let holidays = BankHolidays::shipped();
        let ew = Division::EnglandAndWales;
        assert_eq!(
            holidays.title(ew, date(2026, 12, 25)),
            Some("Christmas Day")
        );
        assert_eq!(holidays.title(ew, date(2026, 12, 28)), Some("Boxing Day"));
        assert_eq!(holidays.title(ew, date(2026, 12, 26)), None);

        let cal = shipped_calendar();
        assert_eq!(date(2026, 12, 25).weekday(), Weekday::Friday);
        assert!(!cal.is_working_day(date(2026, 12, 25)));
        assert!(!cal.is_working_day(date(2026, 12, 26))); // Saturday
        assert!(!cal.is_working_day(date(2026, 12, 27))); // Sunday
        assert!(!cal.is_working_day(date(2026, 12, 28))); // substitute Boxing Day
        assert!(cal.is_working_day(date(2026, 12, 29)));
        assert_eq!(cal.next_working_day(date(2026, 12, 24)), date(2026, 12, 29));

        // Raised on Christmas Eve after hours: counts from Tuesday 29 December.
        let raised = london(2026, 12, 24, 17, 30);
        assert_eq!(cal.counting_start(raised), utc("2026-12-29T09:00:00Z"));
        assert_eq!(cal.end_of_working_day(raised), utc("2026-12-29T17:00:00Z"));
        assert_eq!(
            cal.deadline_after_working_days(raised, 1),
            utc("2026-12-30T17:00:00Z")
        );
    }

    #[test]
    fn easter_2027() {
        let cal = shipped_calendar();
        assert!(!cal.is_working_day(date(2027, 3, 26))); // Good Friday
        assert!(!cal.is_working_day(date(2027, 3, 29))); // Easter Monday
        assert!(cal.is_working_day(date(2027, 3, 25)));
        assert_eq!(cal.next_working_day(date(2027, 3, 25)), date(2027, 3, 30));
        // Maundy Thursday 16:00 GMT (the clocks change on 28 March): decision due Tuesday,
        // 17:00 BST = 16:00 UTC.
        let raised = london(2027, 3, 25, 16, 0);
        assert_eq!(raised, utc("2027-03-25T16:00:00Z"));
        assert_eq!(cal.end_of_working_day(raised), utc("2027-03-25T17:00:00Z"));
        assert_eq!(
            cal.deadline_after_working_days(raised, 1),
            utc("2027-03-30T16:00:00Z")
        );
    }

    #[test]
    fn spring_bank_holiday_monday_counts_from_tuesday() {
        let cal = shipped_calendar();
        let raised = london(2026, 5, 22, 17, 30); // Friday
        assert!(!cal.is_within_working_hours(raised));
        // Tuesday 26 May 09:00 BST is 08:00 UTC.
        assert_eq!(cal.counting_start(raised), utc("2026-05-26T08:00:00Z"));
        assert_eq!(cal.end_of_working_day(raised), utc("2026-05-26T16:00:00Z"));
        assert_eq!(
            cal.deadline_after_working_days(raised, 1),
            utc("2026-05-27T16:00:00Z")
        );
    }

    #[test]
    fn after_hours_and_weekends_count_from_the_next_working_morning() {
        let cal = shipped_calendar();
        // Wednesday 10 June 2026 18:00: counts from Thursday.
        let evening = london(2026, 6, 10, 18, 0);
        assert_eq!(cal.counting_start(evening), london(2026, 6, 11, 9, 0));
        assert_eq!(cal.end_of_working_day(evening), london(2026, 6, 11, 17, 0));
        // Before opening on a working day: the same day's 09:00.
        let early = london(2026, 6, 10, 7, 15);
        assert_eq!(cal.counting_start(early), london(2026, 6, 10, 9, 0));
        assert_eq!(cal.end_of_working_day(early), london(2026, 6, 10, 17, 0));
        // Saturday and Sunday: Monday.
        for raised in [london(2026, 6, 13, 11, 0), london(2026, 6, 14, 23, 59)] {
            assert!(!cal.is_within_working_hours(raised));
            assert_eq!(cal.counting_start(raised), london(2026, 6, 15, 9, 0));
            assert_eq!(
                cal.deadline_after_working_days(raised, 1),
                london(2026, 6, 16, 17, 0)
            );
        }
        // Within hours: the moment itself, closing the same day.
        let within = london(2026, 6, 10, 12, 34);
        assert!(cal.is_within_working_hours(within));
        assert_eq!(cal.counting_start(within), within);
        assert_eq!(cal.end_of_working_day(within), london(2026, 6, 10, 17, 0));
        assert_eq!(
            cal.deadline_after_working_days(within, 1),
            london(2026, 6, 11, 17, 0)
        );
    }

    #[test]
    fn exactly_nine_is_inside_and_exactly_five_is_outside() {
        let cal = shipped_calendar();
        let nine = london(2026, 6, 10, 9, 0);
        assert!(cal.is_within_working_hours(nine));
        assert_eq!(cal.counting_start(nine), nine);
        let just_before_nine = nine - jiff::SignedDuration::from_secs(1);
        assert!(!cal.is_within_working_hours(just_before_nine));
        assert_eq!(cal.counting_start(just_before_nine), nine);

        let five = london(2026, 6, 10, 17, 0);
        assert!(!cal.is_within_working_hours(five));
        assert_eq!(cal.counting_start(five), london(2026, 6, 11, 9, 0));
        assert_eq!(cal.end_of_working_day(five), london(2026, 6, 11, 17, 0));
        let just_before_five = five - jiff::SignedDuration::from_secs(1);
        assert!(cal.is_within_working_hours(just_before_five));
        assert_eq!(cal.end_of_working_day(just_before_five), five);
    }

    #[test]
    fn october_clock_change() {
        let cal = shipped_calendar();
        // Friday 23 October 2026, 16:30 BST = 15:30 UTC; the clocks go back on Sunday 25th.
        let raised = london(2026, 10, 23, 16, 30);
        assert_eq!(raised, utc("2026-10-23T15:30:00Z"));
        assert!(cal.is_within_working_hours(raised));
        assert_eq!(cal.counting_start(raised), raised);
        assert_eq!(cal.end_of_working_day(raised), utc("2026-10-23T16:00:00Z"));
        // Monday 26 October closes at 17:00 GMT = 17:00 UTC.
        assert_eq!(
            cal.deadline_after_working_days(raised, 1),
            utc("2026-10-26T17:00:00Z")
        );
        // 16:30 UTC on the Friday is 17:30 BST: after hours.
        let late = utc("2026-10-23T16:30:00Z");
        assert!(!cal.is_within_working_hours(late));
        assert_eq!(cal.counting_start(late), utc("2026-10-26T09:00:00Z"));
        // And in March the other way: Monday 30 March 2026 opens at 09:00 BST = 08:00 UTC.
        let weekend = utc("2026-03-28T12:00:00Z");
        assert_eq!(cal.counting_start(weekend), utc("2026-03-30T08:00:00Z"));
    }

    #[test]
    fn add_working_days_over_christmas_and_new_year() {
        let cal = shipped_calendar();
        // 2026: Fri 25, Mon 28 and Fri 1 Jan are holidays.
        assert_eq!(
            cal.add_working_days(date(2026, 12, 24), 0),
            date(2026, 12, 24)
        );
        assert_eq!(
            cal.add_working_days(date(2026, 12, 24), 1),
            date(2026, 12, 29)
        );
        assert_eq!(
            cal.add_working_days(date(2026, 12, 24), 3),
            date(2026, 12, 31)
        );
        assert_eq!(
            cal.add_working_days(date(2026, 12, 24), 4),
            date(2027, 1, 4)
        );
        assert_eq!(
            cal.add_working_days(date(2026, 12, 25), 0),
            date(2026, 12, 29)
        );
        assert_eq!(
            cal.add_working_days(date(2026, 12, 25), 1),
            date(2026, 12, 30)
        );
        // 2027: Christmas and Boxing Day fall at the weekend; Mon 27, Tue 28 and Mon 3 Jan
        // (New Year's Day substitute) are holidays.
        assert_eq!(
            cal.add_working_days(date(2027, 12, 24), 1),
            date(2027, 12, 29)
        );
        assert_eq!(
            cal.add_working_days(date(2027, 12, 24), 3),
            date(2027, 12, 31)
        );
        assert_eq!(
            cal.add_working_days(date(2027, 12, 24), 4),
            date(2028, 1, 4)
        );
        assert_eq!(
            cal.add_working_days(date(2027, 12, 25), 0),
            date(2027, 12, 29)
        );
        // Ten working days from Monday 21 December 2026:
        // 22, 23, 24, 29, 30, 31 December, then 4, 5, 6, 7 January.
        assert_eq!(
            cal.add_working_days(date(2026, 12, 21), 10),
            date(2027, 1, 7)
        );
    }

    #[test]
    fn covers_only_the_shipped_years() {
        let cal = shipped_calendar();
        assert!(!cal.covers(date(2025, 12, 25)));
        assert!(cal.covers(date(2026, 1, 1)));
        assert!(cal.covers(date(2028, 12, 31)));
        assert!(!cal.covers(date(2029, 1, 1)));
        // No Scottish data shipped: weekends only, nothing covered.
        let scotland = WorkingCalendar::for_division(
            &BankHolidays::shipped(),
            Division::Scotland,
            WorkingHours::default(),
        );
        assert!(!scotland.covers(date(2026, 12, 25)));
        assert!(scotland.is_working_day(date(2026, 12, 25)));
    }

    #[test]
    fn far_dates_saturate_instead_of_panicking() {
        let cal = shipped_calendar();
        assert_eq!(cal.next_working_day(Date::MAX), Date::MAX);
        let near_end = date(9999, 12, 20);
        assert_eq!(cal.add_working_days(near_end, 1_000), Date::MAX);
        let _ = cal.deadline_after_working_days(Timestamp::MAX, 5);
        let _ = cal.deadline_after_working_days(Timestamp::MIN, 5);
    }

    #[test]
    fn division_codes_and_nations() {
        for division in Division::ALL {
            assert_eq!(Division::parse(division.code()), Ok(division));
        }
        assert!(Division::parse("wales").is_err());
        assert_eq!(
            Division::for_nation(Nation::England),
            Division::EnglandAndWales
        );
        assert_eq!(
            Division::for_nation(Nation::Wales),
            Division::EnglandAndWales
        );
        assert_eq!(Division::for_nation(Nation::Scotland), Division::Scotland);
        assert_eq!(
            Division::for_nation(Nation::NorthernIreland),
            Division::NorthernIreland
        );
    }

    #[test]
    fn a_scottish_import_in_the_governments_shape() {
        let text = r#"{
            "scotland": {"division": "scotland", "events": [
                {"title": "2nd January", "date": "2026-01-02", "notes": "", "bunting": true},
                {"title": "St Andrew’s Day", "date": "2026-11-30", "notes": "", "bunting": true},
                {"title": "St Andrew’s Day", "date": "2026-11-30", "notes": "", "bunting": true}
            ]},
            "northern-ireland": {"division": "northern-ireland", "events": [
                {"title": "St Patrick’s Day", "date": "2026-03-17", "notes": "", "bunting": true}
            ]}
        }"#;
        let imported = BankHolidays::parse_gov_json(text).unwrap();
        assert_eq!(imported.in_division(Division::Scotland).count(), 2);
        assert_eq!(
            imported.title(Division::NorthernIreland, date(2026, 3, 17)),
            Some("St Patrick’s Day")
        );
        let mut holidays = BankHolidays::shipped();
        holidays.merge(imported);
        assert_eq!(
            holidays.years_covered(Division::Scotland),
            BTreeSet::from([2026])
        );
        assert_eq!(holidays.in_division(Division::EnglandAndWales).count(), 24);
    }

    #[test]
    fn parse_errors_are_all_named_by_path() {
        let text = r#"{
            "england-and-wales": {"division": "england-and-wales", "events": [
                {"title": "Christmas Day", "date": "2029-12-25"},
                {"title": "", "date": "2029-12-26"},
                {"date": "2029-05-07"},
                {"title": "Spring bank holiday", "date": "2029-02-30"},
                {"title": "Summer", "date": "27/08/2029"},
                {"title": "Christmas", "date": "2029-12-25"},
                {"title": "No date"},
                "not an event"
            ]},
            "wales": {"division": "wales", "events": []},
            "scotland": {"division": "northern-ireland", "events": {}}
        }"#;
        let errors = BankHolidays::parse_gov_json(text).unwrap_err();
        let mut found = paths(&errors);
        found.sort_unstable();
        assert_eq!(
            found,
            [
                "england-and-wales.events[1].title",
                "england-and-wales.events[2].title",
                "england-and-wales.events[3].date",
                "england-and-wales.events[4].date",
                "england-and-wales.events[5].date",
                "england-and-wales.events[6].date",
                "england-and-wales.events[7]",
                "scotland.division",
                "scotland.events",
                "wales",
            ]
        );
        let problem = |path: &str| {
            &errors
                .iter()
                .find(|e| e.path == path)
                .unwrap_or_else(|| panic!("no error at {path}"))
                .problem
        };
        assert!(matches!(
            problem("england-and-wales.events[1].title"),
            ImportProblem::BadTitle(_)
        ));
        assert_eq!(
            problem("england-and-wales.events[2].title"),
            &ImportProblem::MissingTitle
        );
        assert_eq!(
            problem("england-and-wales.events[3].date"),
            &ImportProblem::BadDate("2029-02-30".into())
        );
        assert_eq!(
            problem("england-and-wales.events[4].date"),
            &ImportProblem::BadDate("27/08/2029".into())
        );
        assert_eq!(
            problem("england-and-wales.events[5].date"),
            &ImportProblem::DuplicateDate {
                date: date(2029, 12, 25),
                earlier: 0,
                earlier_title: "Christmas Day".into(),
            }
        );
        assert_eq!(
            problem("england-and-wales.events[6].date"),
            &ImportProblem::MissingDate
        );
        assert_eq!(
            problem("wales"),
            &ImportProblem::UnknownDivision("wales".into())
        );
        assert_eq!(
            problem("scotland.division"),
            &ImportProblem::DivisionMismatch {
                found: "northern-ireland".into()
            }
        );
        let message = errors
            .iter()
            .find(|e| e.path == "england-and-wales.events[5].date")
            .unwrap()
            .to_string();
        assert_eq!(
            message,
            "england-and-wales.events[5].date: 2029-12-25 is already listed at events[0] as \
             “Christmas Day”"
        );
        let field: FieldError = errors[0].clone().into();
        assert_eq!(field.field, errors[0].path);
    }

    #[test]
    fn whole_file_problems() {
        let not_json = BankHolidays::parse_gov_json("<html>").unwrap_err();
        assert_eq!(not_json.len(), 1);
        assert_eq!(not_json[0].path, "");
        assert!(matches!(not_json[0].problem, ImportProblem::NotJson(_)));

        let too_large = " ".repeat(MAX_IMPORT_BYTES + 1);
        assert_eq!(
            BankHolidays::parse_gov_json(&too_large).unwrap_err()[0].problem,
            ImportProblem::TooLarge {
                bytes: MAX_IMPORT_BYTES + 1
            }
        );
        assert!(matches!(
            BankHolidays::parse_gov_json("[]").unwrap_err()[0].problem,
            ImportProblem::WrongShape { .. }
        ));
        assert_eq!(
            BankHolidays::parse_gov_json("{}").unwrap_err()[0].problem,
            ImportProblem::NoHolidays
        );
        let no_events = BankHolidays::parse_gov_json(r#"{"scotland": {}}"#).unwrap_err();
        assert_eq!(no_events[0].path, "scotland.events");
        assert_eq!(no_events[0].problem, ImportProblem::MissingEvents);
        // Dates must be exactly YYYY-MM-DD, in a plausible year.
        for bad in [
            "2026-1-01",
            "2026-01-01T00:00",
            " 2026-01-01",
            "1899-01-01",
            "3026-01-01",
        ] {
            assert_eq!(parse_iso_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn merge_adds_years_and_replaces_titles() {
        let mut holidays = BankHolidays::shipped();
        let text = r#"{"england-and-wales": {"division": "england-and-wales", "events": [
            {"title": "Christmas Day (observed)", "date": "2028-12-25", "notes": "", "bunting": true},
            {"title": "Boxing Day", "date": "2028-12-26", "notes": "", "bunting": true},
            {"title": "New Year’s Day", "date": "2029-01-01", "notes": "", "bunting": true}
        ]}}"#;
        let import = BankHolidays::parse_gov_json(text).unwrap();

        let preview = import.preview(&holidays);
        assert_eq!(
            preview,
            [
                PreviewRow {
                    division: Division::EnglandAndWales,
                    year: 2028,
                    holidays: 2,
                    added: 0,
                    retitled: 1,
                    kept_unlisted: 6,
                    year_was_covered: true,
                },
                PreviewRow {
                    division: Division::EnglandAndWales,
                    year: 2029,
                    holidays: 1,
                    added: 1,
                    retitled: 0,
                    kept_unlisted: 0,
                    year_was_covered: false,
                },
            ]
        );

        holidays.merge(import);
        let ew = Division::EnglandAndWales;
        assert_eq!(
            holidays.title(ew, date(2028, 12, 25)),
            Some("Christmas Day (observed)")
        );
        assert_eq!(holidays.title(ew, date(2028, 12, 26)), Some("Boxing Day"));
        assert_eq!(
            holidays.years_covered(ew),
            BTreeSet::from([2026, 2027, 2028, 2029])
        );
        assert_eq!(holidays.in_division(ew).count(), 25);
        let cal = WorkingCalendar::for_division(&holidays, ew, WorkingHours::default());
        assert!(cal.covers(date(2029, 6, 1)));
        assert!(!cal.is_working_day(date(2029, 1, 1)));
    }

    #[test]
    fn working_hours_are_validated() {
        assert_eq!(
            WorkingHours::default(),
            WorkingHours::new(time(9, 0, 0, 0), time(17, 0, 0, 0)).unwrap()
        );
        assert!(WorkingHours::new(time(17, 0, 0, 0), time(9, 0, 0, 0)).is_err());
        assert!(WorkingHours::new(time(9, 0, 0, 0), time(9, 0, 0, 0)).is_err());
        let parsed = WorkingHours::parse("08:30", "16:30").unwrap();
        assert_eq!(parsed.start(), time(8, 30, 0, 0));
        assert_eq!(parsed.end(), time(16, 30, 0, 0));
        let both = WorkingHours::parse("9am", "25:00").unwrap_err();
        let fields: Vec<_> = both.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["start", "end"]);
        let backwards = WorkingHours::parse("17:00", "09:00").unwrap_err();
        assert_eq!(backwards.errors[0].field, "end");

        // A shorter day moves the close.
        let cal = WorkingCalendar::new([], parsed);
        let raised = london(2026, 6, 10, 16, 45);
        assert!(!cal.is_within_working_hours(raised));
        assert_eq!(cal.counting_start(raised), london(2026, 6, 11, 8, 30));
        assert_eq!(cal.end_of_working_day(raised), london(2026, 6, 11, 16, 30));
    }
}
