//! Reading a school's term calendar from a file: a CSV sheet or an iCalendar (`.ics`) export.
//!
//! Schools publish their term dates as a spreadsheet or a calendar feed; typing a year of
//! dates by hand invites exactly the mistakes [`TermCalendar::new`] is there to catch. So an
//! upload is first *previewed*: [`preview`] reads the text into [`ImportRow`]s, reports every
//! problem as a [`RowError`] at the line of the file it concerns (so the person can fix the
//! file, not guess), and builds the [`TermCalendar`] only when nothing is wrong. The caller
//! saves nothing unless [`Preview::calendar`] is `Some`.
//!
//! Pure functions over text: no files, no network. The caller reads the upload (and refuses
//! anything over [`MAX_IMPORT_BYTES`] before reading it all, if it can).
//!
//! **CSV.** A header row `kind,name,starts,ends,reason`, then one row per term, half-term,
//! INSET day or closure:
//!
//! ```text
//! kind,name,starts,ends,reason
//! term,Autumn 2026,01/09/2026,18/12/2026,
//! half-term,Autumn 2026,26/10/2026,30/10/2026,
//! inset,INSET day,01/09/2026,,Staff training
//! closure,Polling station,2027-05-06,,
//! ```
//!
//! Dates are `31/12/2026` or `2026-12-31`; an empty `ends` means a single day; a half-term
//! row names the term it belongs to; an INSET day or closure without a reason uses its name
//! (the `reason` column of a term or half-term row is not read). Rows of empty cells, which
//! spreadsheets leave below the data, are skipped.
//!
//! **iCalendar.** Each `VEVENT` is one row: its dates from `DTSTART` and `DTEND` (in
//! iCalendar the end of an all-day event is the day *after* the last day, so it is turned into
//! an inclusive end here), its kind from keywords in `SUMMARY` and `CATEGORIES`, and a
//! half-term is attached to the term whose dates contain it. Cancelled events
//! (`STATUS:CANCELLED`) are left out; repeating ones (`RRULE`, `RDATE`) are refused, since a
//! rule could put a closure on any number of days.

use jiff::Span;
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use serde::Serialize;

use crate::error::{parse_date, parse_line, parse_optional_line};
use crate::schedule::{
    ClosureKind, HalfTerm, MAX_CLOSURE_REASON_CHARS, MAX_TERM_NAME_CHARS, SchoolClosure, Term,
    TermCalendar,
};

/// The largest file read, in bytes (256 KB): a school year is a few kilobytes.
pub const MAX_IMPORT_BYTES: usize = 256 * 1024;
/// The most rows (CSV rows under the header, or iCalendar events) read from one file.
pub const MAX_IMPORT_ROWS: usize = 500;
/// The CSV header, in order.
pub const CSV_HEADER: [&str; 5] = ["kind", "name", "starts", "ends", "reason"];

const BOM: char = '\u{feff}';

/// The kind of file a calendar arrives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CalendarFormat {
    Csv,
    ICalendar,
}

/// What a file is, from its first line: `BEGIN:VCALENDAR` is iCalendar, the header
/// `kind,name,starts,ends,reason` (any case, spaces around the names allowed) is CSV. A byte
/// order mark and blank lines before the first line are ignored.
pub fn detect_format(text: &str) -> Option<CalendarFormat> {
    let text = without_bom(text);
    let first = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    if first.eq_ignore_ascii_case("BEGIN:VCALENDAR") {
        Some(CalendarFormat::ICalendar)
    } else if is_csv_header(first) {
        Some(CalendarFormat::Csv)
    } else {
        None
    }
}

/// What a row of the file describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RowKind {
    Term,
    HalfTerm,
    Inset,
    Closure,
}

impl RowKind {
    pub const ALL: [RowKind; 4] = [
        RowKind::Term,
        RowKind::HalfTerm,
        RowKind::Inset,
        RowKind::Closure,
    ];

    /// The code written in the CSV `kind` column.
    pub fn code(self) -> &'static str {
        match self {
            RowKind::Term => "term",
            RowKind::HalfTerm => "half-term",
            RowKind::Inset => "inset",
            RowKind::Closure => "closure",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RowKind::Term => "Term",
            RowKind::HalfTerm => "Half-term",
            RowKind::Inset => "INSET day",
            RowKind::Closure => "Closure",
        }
    }

    /// A code, in any case.
    pub fn parse(code: &str) -> Result<Self, String> {
        let code = code.trim();
        Self::ALL
            .into_iter()
            .find(|k| k.code().eq_ignore_ascii_case(code))
            .ok_or_else(|| {
                if code.is_empty() {
                    "Enter the kind: term, half-term, inset or closure".to_owned()
                } else {
                    format!("“{code}” is not a kind: use term, half-term, inset or closure")
                }
            })
    }
}

/// One row read from the file, as it will be saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportRow {
    /// The line of the file the row starts on (1-based; for iCalendar, the `BEGIN:VEVENT`).
    pub line: usize,
    pub kind: RowKind,
    /// A term's name; for a half-term, the name of the term it belongs to; for an INSET day or
    /// closure, its name in the file.
    pub name: String,
    pub starts: Date,
    /// Inclusive.
    pub ends: Date,
    /// For an INSET day or closure, why the school is shut (the name when the file gave no
    /// reason).
    pub reason: Option<String>,
}

/// A problem with one row (or with the file), to show beside that line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// The line of the file (1-based); 0 when the problem belongs to no line (the calendar's
    /// own name, say).
    pub line: usize,
    /// `file`, or the column at fault: `kind`, `name`, `starts`, `ends`, `reason`.
    pub field: String,
    pub message: String,
}

impl RowError {
    fn new(line: usize, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            line,
            field: field.into(),
            message: message.into(),
        }
    }
}

/// What a file would import: the rows read, every problem found, and the calendar (only when
/// there are no problems at all).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Preview {
    pub rows: Vec<ImportRow>,
    /// In line order.
    pub errors: Vec<RowError>,
    pub calendar: Option<TermCalendar>,
}

impl Preview {
    fn refused(error: RowError) -> Self {
        Self {
            rows: Vec::new(),
            errors: vec![error],
            calendar: None,
        }
    }
}

/// Reads `text` as whichever format [`detect_format`] finds, into a calendar called `name`.
pub fn preview(name: &str, text: &str) -> Preview {
    if let Some(refused) = refuse_file(text) {
        return refused;
    }
    match detect_format(text) {
        Some(format) => preview_as(name, text, format),
        None => Preview::refused(RowError::new(
            1,
            "file",
            "This is neither a CSV file starting with the header kind,name,starts,ends,reason \
             nor an iCalendar file (.ics, starting with BEGIN:VCALENDAR)",
        )),
    }
}

/// Reads `text` as `format` (when the caller knows it, from the file's name or type).
pub fn preview_as(name: &str, text: &str, format: CalendarFormat) -> Preview {
    if let Some(refused) = refuse_file(text) {
        return refused;
    }
    let text = without_bom(text);
    let (rows, mut errors) = match format {
        CalendarFormat::Csv => read_csv(text),
        CalendarFormat::ICalendar => read_icalendar(text),
    };
    let mut calendar = None;
    if errors.is_empty() {
        match assemble(name, &rows) {
            Ok(built) => calendar = Some(built),
            Err(found) => errors = found,
        }
    }
    errors.sort_by_key(|e| e.line);
    Preview {
        rows,
        errors,
        calendar,
    }
}

/// The checks on the whole file, before reading it: not empty, not too big.
fn refuse_file(text: &str) -> Option<Preview> {
    if text.len() > MAX_IMPORT_BYTES {
        return Some(Preview::refused(RowError::new(
            1,
            "file",
            format!(
                "The file is {} KB: a term calendar fits in {} KB, so check this is the right file",
                text.len().div_ceil(1024),
                MAX_IMPORT_BYTES / 1024
            ),
        )));
    }
    if without_bom(text).trim().is_empty() {
        return Some(Preview::refused(RowError::new(
            1,
            "file",
            "The file is empty",
        )));
    }
    None
}

fn without_bom(text: &str) -> &str {
    text.strip_prefix(BOM).unwrap_or(text)
}

fn too_many_rows(line: usize) -> RowError {
    RowError::new(
        line,
        "file",
        format!(
            "The file has more than {MAX_IMPORT_ROWS} rows: a school year needs far fewer, so \
             check this is the right file"
        ),
    )
}

// ---------------------------------------------------------------------------------------------
// Building the calendar
// ---------------------------------------------------------------------------------------------

/// The lines the calendar's parts came from, to place its errors.
#[derive(Default)]
struct Origins {
    terms: Vec<usize>,
    half_terms: Vec<Vec<usize>>,
    closures: Vec<usize>,
}

/// Turns rows without errors into a calendar; a half-term naming no term, and every problem
/// [`TermCalendar::new`] finds, come back at their rows' lines.
fn assemble(name: &str, rows: &[ImportRow]) -> Result<TermCalendar, Vec<RowError>> {
    let mut origins = Origins::default();
    let mut terms: Vec<Term> = Vec::new();
    let mut closures: Vec<SchoolClosure> = Vec::new();
    let mut errors = Vec::new();

    for row in rows.iter().filter(|r| r.kind == RowKind::Term) {
        terms.push(Term {
            name: row.name.clone(),
            starts: row.starts,
            ends: row.ends,
            half_terms: Vec::new(),
        });
        origins.terms.push(row.line);
        origins.half_terms.push(Vec::new());
    }
    for row in rows {
        match row.kind {
            RowKind::Term => {}
            RowKind::HalfTerm => {
                let wanted = row.name.trim();
                let found = terms
                    .iter()
                    .position(|t| t.name.trim().to_lowercase() == wanted.to_lowercase());
                match found.and_then(|i| Some((terms.get_mut(i)?, origins.half_terms.get_mut(i)?)))
                {
                    Some((term, lines)) => {
                        term.half_terms.push(HalfTerm {
                            starts: row.starts,
                            ends: row.ends,
                        });
                        lines.push(row.line);
                    }
                    None => errors.push(RowError::new(
                        row.line,
                        "name",
                        format!(
                            "No term in this file is called “{wanted}”: a half-term row names \
                             the term it falls in"
                        ),
                    )),
                }
            }
            RowKind::Inset | RowKind::Closure => {
                let kind = if row.kind == RowKind::Inset {
                    ClosureKind::Inset
                } else {
                    ClosureKind::OneOff
                };
                let reason = row.reason.clone().unwrap_or_else(|| row.name.clone());
                closures.push(SchoolClosure::new(kind, row.starts, row.ends, reason));
                origins.closures.push(row.line);
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    TermCalendar::new(name, terms, closures).map_err(|invalid| {
        invalid
            .errors
            .into_iter()
            .map(|e| {
                let (line, field) = locate(&e.field, &origins);
                RowError::new(line, field, e.message)
            })
            .collect()
    })
}

/// The line and column of a [`TermCalendar::new`] error path (`terms[1].half_terms[0].ends`,
/// `closures[2].reason`); line 0 and the path itself when it names no row.
fn locate(path: &str, origins: &Origins) -> (usize, String) {
    fn index(part: &str, name: &str) -> Option<usize> {
        part.strip_prefix(name)?
            .strip_prefix('[')?
            .strip_suffix(']')?
            .parse()
            .ok()
    }
    let parts: Vec<&str> = path.split('.').collect();
    let found = match parts.as_slice() {
        [term, half, field] => index(term, "terms")
            .zip(index(half, "half_terms"))
            .and_then(|(i, k)| origins.half_terms.get(i)?.get(k))
            .map(|line| (*line, *field)),
        [part, field] => index(part, "terms")
            .and_then(|i| origins.terms.get(i))
            .or_else(|| index(part, "closures").and_then(|c| origins.closures.get(c)))
            .map(|line| (*line, *field)),
        _ => None,
    };
    match found {
        Some((line, field)) => (line, field.to_owned()),
        None => (0, path.to_owned()),
    }
}

// ---------------------------------------------------------------------------------------------
// CSV
// ---------------------------------------------------------------------------------------------

fn is_csv_header(line: &str) -> bool {
    let fields: Vec<String> = line.split(',').map(|f| f.trim().to_lowercase()).collect();
    fields.len() == CSV_HEADER.len()
        && fields
            .iter()
            .zip(CSV_HEADER)
            .all(|(got, want)| got.trim_matches('"').trim() == want)
}

fn read_csv(text: &str) -> (Vec<ImportRow>, Vec<RowError>) {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut header_line = None;
    let mut count = 0usize;
    let mut lines = LineCounter::new(text);
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                let line = e.position().map_or(0, |p| lines.at(p.byte()));
                errors.push(RowError::new(
                    line,
                    "file",
                    "This row could not be read as CSV",
                ));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| lines.at(p.byte()));
        // Spreadsheets leave rows of empty cells (`,,,,`) below the data.
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if header_line.is_none() {
            header_line = Some(line);
            let fields: Vec<&str> = record.iter().collect();
            if !is_csv_header(&fields.join(",")) {
                return (
                    Vec::new(),
                    vec![RowError::new(
                        line,
                        "file",
                        "The first row must be the header kind,name,starts,ends,reason",
                    )],
                );
            }
            continue;
        }
        count += 1;
        if count > MAX_IMPORT_ROWS {
            return (Vec::new(), vec![too_many_rows(line)]);
        }
        let fields: Vec<&str> = record.iter().collect();
        match csv_row(line, &fields) {
            Ok(row) => rows.push(row),
            Err(found) => errors.extend(found),
        }
    }
    if count == 0 && errors.is_empty() {
        errors.push(RowError::new(
            header_line.unwrap_or(1),
            "file",
            "The file has a header but no rows: add a row for each term",
        ));
    }
    (rows, errors)
}

/// The line a record starts on, from its byte offset. (The csv crate's own line count is off
/// after CRLF endings and blank lines; its byte offsets are exact, but point at the line
/// endings before a record, which are skipped here.) Records come in order, so counting
/// resumes where it stopped.
struct LineCounter<'t> {
    text: &'t [u8],
    byte: usize,
    line: usize,
}

impl<'t> LineCounter<'t> {
    fn new(text: &'t str) -> Self {
        Self {
            text: text.as_bytes(),
            byte: 0,
            line: 1,
        }
    }

    fn at(&mut self, byte: u64) -> usize {
        let mut target = usize::try_from(byte)
            .unwrap_or(usize::MAX)
            .min(self.text.len());
        while let Some(b'\r' | b'\n') = self.text.get(target) {
            target += 1;
        }
        if target < self.byte {
            return self.line;
        }
        let newlines = self
            .text
            .get(self.byte..target)
            .map_or(0, |skipped| skipped.iter().filter(|b| **b == b'\n').count());
        self.line += newlines;
        self.byte = target;
        self.line
    }
}

/// Collects one row's field errors.
struct Check<'e> {
    line: usize,
    errors: &'e mut Vec<RowError>,
}

impl Check<'_> {
    fn field<T>(&mut self, field: &str, parsed: Result<T, String>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(message) => {
                self.errors.push(RowError::new(self.line, field, message));
                None
            }
        }
    }
}

/// One CSV row (not the header), with every field at fault.
fn csv_row(line: usize, fields: &[&str]) -> Result<ImportRow, Vec<RowError>> {
    let [kind, name, starts, ends, reason] = fields else {
        return Err(vec![RowError::new(
            line,
            "file",
            format!(
                "This row has {} column(s): each row has 5 (kind,name,starts,ends,reason), \
                 with empty ones kept as commas",
                fields.len()
            ),
        )]);
    };
    let mut errors = Vec::new();
    let mut check = Check {
        line,
        errors: &mut errors,
    };

    let kind = check.field("kind", RowKind::parse(kind));
    let starts: Option<Date> = check.field("starts", parse_date(starts));
    let ends: Option<Date> = if ends.trim().is_empty() {
        starts
    } else {
        check.field("ends", parse_date(ends))
    };
    if let (Some(s), Some(e)) = (starts, ends)
        && e < s
    {
        check.field(
            "ends",
            Err::<(), _>(format!(
                "Ends ({}) before it starts ({})",
                crate::uk::date(e),
                crate::uk::date(s)
            )),
        );
    }
    let (name, reason) = match kind {
        Some(RowKind::Term | RowKind::HalfTerm) => {
            let name = if name.trim().is_empty() {
                check.field::<String>(
                    "name",
                    Err(if kind == Some(RowKind::Term) {
                        "Enter the term's name".to_owned()
                    } else {
                        "Enter the name of the term this half-term falls in".to_owned()
                    }),
                )
            } else {
                check.field("name", parse_line(name, 1, MAX_TERM_NAME_CHARS))
            };
            // A term has no reason: the column is left unread.
            (name, None)
        }
        Some(RowKind::Inset | RowKind::Closure) => {
            let name = check.field("name", parse_optional_line(name, MAX_CLOSURE_REASON_CHARS));
            let reason = check.field(
                "reason",
                parse_optional_line(reason, MAX_CLOSURE_REASON_CHARS),
            );
            match (name, reason) {
                (Some(name), Some(reason)) => match reason.or_else(|| name.clone()) {
                    Some(reason) => (Some(name.unwrap_or_else(|| reason.clone())), Some(reason)),
                    None => {
                        check.field::<()>(
                            "reason",
                            Err("Give the reason the school is shut (or put it in the name \
                                 column)"
                                .to_owned()),
                        );
                        (None, None)
                    }
                },
                _ => (None, None),
            }
        }
        None => (None, None),
    };

    match (kind, name, starts, ends) {
        (Some(kind), Some(name), Some(starts), Some(ends)) if errors.is_empty() => Ok(ImportRow {
            line,
            kind,
            name,
            starts,
            ends,
            reason,
        }),
        _ => Err(errors),
    }
}

// ---------------------------------------------------------------------------------------------
// iCalendar
// ---------------------------------------------------------------------------------------------

/// Where one top-level `VEVENT` is in the source: its `BEGIN` line, and the first line of each
/// of its own properties (by upper-case name).
#[derive(Default)]
struct EventLines {
    begin: usize,
    properties: Vec<(String, usize)>,
}

impl EventLines {
    fn of(&self, property: &str) -> usize {
        self.properties
            .iter()
            .find(|(name, _)| name == property)
            .map_or(self.begin, |(_, line)| *line)
    }
}

/// Unfolds content lines (RFC 5545 3.1: a line starting with a space or tab continues the one
/// before), keeping the physical line each starts on. Blank lines are dropped.
fn unfold(text: &str) -> Vec<(usize, String)> {
    let mut lines: Vec<(usize, String)> = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        match (raw.strip_prefix([' ', '\t']), lines.last_mut()) {
            (Some(rest), Some((_, previous))) => previous.push_str(rest),
            _ => lines.push((i + 1, raw.to_owned())),
        }
    }
    lines.retain(|(_, l)| !l.trim().is_empty());
    lines
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| text.get(prefix.len()..))
        .flatten()
}

/// The top-level events' lines, in document order (the parser keeps the same order).
fn index_events(lines: &[(usize, String)]) -> Vec<EventLines> {
    let mut events: Vec<EventLines> = Vec::new();
    let mut open: Vec<String> = Vec::new();
    for (number, line) in lines {
        if let Some(name) = strip_prefix_ignore_case(line, "BEGIN:") {
            let name = name.trim().to_ascii_uppercase();
            if open.len() == 1 && name == "VEVENT" {
                events.push(EventLines {
                    begin: *number,
                    properties: Vec::new(),
                });
            }
            open.push(name);
        } else if strip_prefix_ignore_case(line, "END:").is_some() {
            open.pop();
        } else if open.len() == 2
            && open.last().is_some_and(|n| n == "VEVENT")
            && let Some(event) = events.last_mut()
        {
            let name = line
                .split([';', ':'])
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_uppercase();
            if !event.properties.iter().any(|(n, _)| *n == name) {
                event.properties.push((name, *number));
            }
        }
    }
    events
}

fn not_icalendar(why: &str) -> (Vec<ImportRow>, Vec<RowError>) {
    (
        Vec::new(),
        vec![RowError::new(
            1,
            "file",
            format!("This is not an iCalendar file that can be read: {why}"),
        )],
    )
}

fn read_icalendar(text: &str) -> (Vec<ImportRow>, Vec<RowError>) {
    let lines = unfold(text.trim_end());
    let starts_right = lines
        .first()
        .is_some_and(|(_, l)| l.trim().eq_ignore_ascii_case("BEGIN:VCALENDAR"));
    if !starts_right {
        return not_icalendar("it does not start with BEGIN:VCALENDAR");
    }
    let index = index_events(&lines);
    let unfolded: String = lines.iter().map(|(_, l)| format!("{l}\n")).collect();
    let roots = match icalendar::parser::read_components(&unfolded) {
        Ok(roots) => roots,
        Err(_) => {
            return not_icalendar(
                "its contents do not follow the iCalendar format (check it was exported as .ics)",
            );
        }
    };
    let Some(root) = roots
        .iter()
        .find(|c| c.name.as_str().eq_ignore_ascii_case("VCALENDAR"))
    else {
        return not_icalendar("it holds no VCALENDAR");
    };
    let events: Vec<&icalendar::parser::Component<'_>> = root
        .components
        .iter()
        .filter(|c| c.name.as_str().eq_ignore_ascii_case("VEVENT"))
        .collect();
    if events.len() > MAX_IMPORT_ROWS {
        let line = index.get(MAX_IMPORT_ROWS).map_or(1, |e| e.begin);
        return (Vec::new(), vec![too_many_rows(line)]);
    }
    if events.is_empty() {
        return (
            Vec::new(),
            vec![RowError::new(
                1,
                "file",
                "The calendar holds no events: add one for each term",
            )],
        );
    }

    let fallback = EventLines::default();
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (i, event) in events.into_iter().enumerate() {
        let at = index.get(i).unwrap_or(&fallback);
        match ics_event(event, at) {
            Ok(Some(row)) => rows.push(row),
            Ok(None) => {}
            Err(found) => errors.extend(found),
        }
    }

    // A half-term belongs to the term whose dates contain it (or, failing that, one it
    // touches, so the calendar's own check can say it runs outside).
    let terms: Vec<(String, Date, Date)> = rows
        .iter()
        .filter(|r| r.kind == RowKind::Term)
        .map(|r| (r.name.clone(), r.starts, r.ends))
        .collect();
    let mut kept = Vec::with_capacity(rows.len());
    for mut row in rows {
        if row.kind == RowKind::HalfTerm {
            let term = terms
                .iter()
                .find(|(_, s, e)| *s <= row.starts && row.ends <= *e)
                .or_else(|| {
                    terms
                        .iter()
                        .find(|(_, s, e)| *s <= row.ends && row.starts <= *e)
                });
            match term {
                Some((name, _, _)) => row.name = name.clone(),
                None => {
                    errors.push(RowError::new(
                        row.line,
                        "starts",
                        format!(
                            "The half-term “{}” ({}) is not inside any term in this calendar: \
                             add the term as an event too",
                            row.name,
                            range(row.starts, row.ends)
                        ),
                    ));
                    continue;
                }
            }
        }
        kept.push(row);
    }
    (kept, errors)
}

fn range(starts: Date, ends: Date) -> String {
    if starts == ends {
        crate::uk::date(starts)
    } else {
        format!("{}–{}", crate::uk::date(starts), crate::uk::date(ends))
    }
}

fn property<'c>(
    event: &'c icalendar::parser::Component<'_>,
    name: &str,
) -> Option<&'c icalendar::parser::Property<'c>> {
    event
        .properties
        .iter()
        .find(|p| p.name.as_str().eq_ignore_ascii_case(name))
}

fn parameter<'p>(property: &'p icalendar::parser::Property<'_>, key: &str) -> Option<&'p str> {
    property
        .params
        .iter()
        .find(|p| p.key.as_str().eq_ignore_ascii_case(key))
        .and_then(|p| p.val.as_ref())
        .map(|v| v.as_str())
}

/// One event as a row; `None` for a cancelled event.
fn ics_event(
    event: &icalendar::parser::Component<'_>,
    at: &EventLines,
) -> Result<Option<ImportRow>, Vec<RowError>> {
    if property(event, "STATUS")
        .is_some_and(|s| s.val.as_str().trim().eq_ignore_ascii_case("CANCELLED"))
    {
        return Ok(None);
    }
    let mut errors = Vec::new();
    let summary = property(event, "SUMMARY")
        .map(|p| p.val.as_str().trim().to_owned())
        .unwrap_or_default();
    let described = if summary.is_empty() {
        "an event with no title".to_owned()
    } else {
        format!("“{summary}”")
    };
    for repeat in ["RRULE", "RDATE"] {
        if property(event, repeat).is_some() {
            errors.push(RowError::new(
                at.of(repeat),
                "starts",
                format!(
                    "{described} repeats ({repeat}): give each date as an event of its own, so \
                     every day the school is shut is written down"
                ),
            ));
        }
    }

    let categories: Vec<String> = event
        .properties
        .iter()
        .filter(|p| p.name.as_str().eq_ignore_ascii_case("CATEGORIES"))
        .flat_map(|p| {
            p.val
                .as_str()
                .split(',')
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    let kind = classify(&summary, &categories);
    if kind.is_none() {
        errors.push(RowError::new(
            at.begin,
            "kind",
            format!(
                "Not a term, half-term, INSET day or closure: {described} (name it with one of \
                 “term”, “half term”, “INSET” or “closed”, or remove it from the file)"
            ),
        ));
    }

    let name = match kind {
        None => None,
        Some(_) if summary.is_empty() => {
            errors.push(RowError::new(
                at.begin,
                "name",
                "The event has no title (SUMMARY)",
            ));
            None
        }
        Some(RowKind::Term) => parse_line(&summary, 1, MAX_TERM_NAME_CHARS)
            .map_err(|m| errors.push(RowError::new(at.of("SUMMARY"), "name", m)))
            .ok(),
        Some(RowKind::HalfTerm) => Some(summary.clone()),
        Some(RowKind::Inset | RowKind::Closure) => {
            parse_line(&summary, 1, MAX_CLOSURE_REASON_CHARS)
                .map_err(|m| errors.push(RowError::new(at.of("SUMMARY"), "name", m)))
                .ok()
        }
    };

    let dates = ics_dates(event, at).map_err(|e| errors.push(e)).ok();

    match (kind, name, dates) {
        (Some(kind), Some(name), Some((starts, ends))) if errors.is_empty() => {
            let reason = matches!(kind, RowKind::Inset | RowKind::Closure).then(|| name.clone());
            Ok(Some(ImportRow {
                line: at.begin,
                kind,
                name,
                starts,
                ends,
                reason,
            }))
        }
        _ => Err(errors),
    }
}

/// The kind an event's title and categories name, in this order: half-term, INSET day,
/// closure, term (so "Autumn half term" is a half-term and "INSET day – school closed" an
/// INSET day). Whole words, any case, plurals allowed.
fn classify(summary: &str, categories: &[String]) -> Option<RowKind> {
    const RULES: [(RowKind, &[&[&str]]); 4] = [
        (
            RowKind::HalfTerm,
            &[&["half", "term"], &["halfterm"], &["half-term"]],
        ),
        (
            RowKind::Inset,
            &[&["inset"], &["training", "day"], &["staff", "development"]],
        ),
        (RowKind::Closure, &[&["closed"], &["closure"]]),
        (RowKind::Term, &[&["term"]]),
    ];
    let texts: Vec<Vec<String>> = std::iter::once(summary)
        .chain(categories.iter().map(String::as_str))
        .map(words)
        .collect();
    RULES.into_iter().find_map(|(kind, phrases)| {
        phrases
            .iter()
            .any(|phrase| texts.iter().any(|w| has_phrase(w, phrase)))
            .then_some(kind)
    })
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn has_phrase(words: &[String], phrase: &[&str]) -> bool {
    let matches = |word: &String, want: &&str| {
        word == want || word.strip_suffix('s').is_some_and(|stem| stem == *want)
    };
    words
        .windows(phrase.len())
        .any(|window| window.iter().zip(phrase).all(|(w, p)| matches(w, p)))
}

/// A `DTSTART` or `DTEND` value: a date, or a date and time (in the event's own wall clock,
/// or London's for UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum When {
    Day(Date),
    At(DateTime),
}

fn ics_when(property: &icalendar::parser::Property<'_>) -> Result<When, String> {
    let raw = property.val.as_str().trim();
    let value = parameter(property, "VALUE").map(str::trim);
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let date = |s: &str| -> Option<Date> {
        if s.len() != 8 || !digits(s) {
            return None;
        }
        let year = s.get(0..4)?.parse().ok()?;
        let month = s.get(4..6)?.parse().ok()?;
        let day = s.get(6..8)?.parse().ok()?;
        Date::new(year, month, day).ok()
    };
    let bad = || format!("“{raw}” is not a date like 20260901 (VALUE=DATE) or 20260901T090000");
    if value.is_some_and(|v| v.eq_ignore_ascii_case("DATE")) {
        return date(raw).map(When::Day).ok_or_else(bad);
    }
    if value.is_some_and(|v| !v.eq_ignore_ascii_case("DATE-TIME")) {
        return Err(format!(
            "VALUE={} is not a date: use VALUE=DATE",
            value.unwrap_or_default()
        ));
    }
    if let Some(day) = date(raw) {
        // A bare date without VALUE=DATE: a common export slip, and unambiguous.
        return Ok(When::Day(day));
    }
    let (stamp, utc) = match raw.strip_suffix(['Z', 'z']) {
        Some(stamp) => (stamp, true),
        None => (raw, false),
    };
    let (day, clock) = stamp.split_once(['T', 't']).ok_or_else(bad)?;
    let day = date(day).ok_or_else(bad)?;
    if clock.len() != 6 || !digits(clock) {
        return Err(bad());
    }
    let part = |r: std::ops::Range<usize>| clock.get(r).and_then(|s| s.parse::<i8>().ok());
    let (Some(h), Some(m), Some(s)) = (part(0..2), part(2..4), part(4..6)) else {
        return Err(bad());
    };
    // A leap second (60) is read as the last second of the minute.
    let time = Time::new(h, m, s.min(59), 0).map_err(|_| bad())?;
    let local = day.to_datetime(time);
    if utc {
        let instant = TimeZone::UTC.to_timestamp(local).map_err(|_| bad())?;
        Ok(When::At(crate::uk::london().to_datetime(instant)))
    } else {
        Ok(When::At(local))
    }
}

/// An event's first and last days, both inclusive. iCalendar's end is exclusive: an all-day
/// event on 1 September has `DTEND` 2 September, and a timed one ending at midnight has
/// ended the day before.
fn ics_dates(
    event: &icalendar::parser::Component<'_>,
    at: &EventLines,
) -> Result<(Date, Date), RowError> {
    let Some(start) = property(event, "DTSTART") else {
        return Err(RowError::new(
            at.begin,
            "starts",
            "The event has no start (DTSTART)",
        ));
    };
    let start = ics_when(start).map_err(|m| RowError::new(at.of("DTSTART"), "starts", m))?;
    let end_error = |field: &str, message: String| RowError::new(at.of(field), "ends", message);
    let day_before = |d: Date, field: &str| {
        d.yesterday()
            .map_err(|_| end_error(field, "This end date is out of range".to_owned()))
    };

    let end: Option<When> = if let Some(end) = property(event, "DTEND") {
        Some(ics_when(end).map_err(|m| end_error("DTEND", m))?)
    } else if let Some(duration) = property(event, "DURATION") {
        let raw = duration.val.as_str().trim();
        let bad = || {
            end_error(
                "DURATION",
                format!("“{raw}” is not a length like P1D, P5D or P2W"),
            )
        };
        let span: Span = raw.parse().map_err(|_| bad())?;
        if span.is_negative() {
            return Err(bad());
        }
        Some(match start {
            When::Day(day) => {
                let has_time = span.get_hours() != 0
                    || span.get_minutes() != 0
                    || span.get_seconds() != 0
                    || span.get_milliseconds() != 0
                    || span.get_microseconds() != 0
                    || span.get_nanoseconds() != 0;
                if has_time || span.get_years() != 0 || span.get_months() != 0 {
                    return Err(end_error(
                        "DURATION",
                        format!(
                            "An all-day event lasts whole days or weeks (P1D, P2W), not “{raw}”"
                        ),
                    ));
                }
                When::Day(day.checked_add(span).map_err(|_| bad())?)
            }
            When::At(moment) => When::At(moment.checked_add(span).map_err(|_| bad())?),
        })
    } else {
        None
    };

    let field = if property(event, "DTEND").is_some() {
        "DTEND"
    } else {
        "DURATION"
    };
    match (start, end) {
        (When::Day(day), None) => Ok((day, day)),
        (When::At(moment), None) => Ok((moment.date(), moment.date())),
        (When::Day(first), Some(When::Day(after))) => {
            if after <= first {
                return Err(end_error(
                    field,
                    format!(
                        "The event ends ({}) on or before it starts ({}): in iCalendar an \
                         all-day event ends on the day after its last day",
                        crate::uk::date(after),
                        crate::uk::date(first)
                    ),
                ));
            }
            Ok((first, day_before(after, field)?))
        }
        (When::At(first), Some(When::At(after))) => {
            if after <= first {
                return Err(end_error(
                    field,
                    "The event ends on or before it starts".to_owned(),
                ));
            }
            let last = if after.time() == Time::midnight() {
                day_before(after.date(), field)?
            } else {
                after.date()
            };
            Ok((first.date(), last.max(first.date())))
        }
        _ => Err(end_error(
            field,
            "DTSTART and DTEND must both be dates (VALUE=DATE) or both dates and times".to_owned(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    const YEAR_CSV: &str = "\
kind,name,starts,ends,reason
term,Autumn 2026,01/09/2026,18/12/2026,
half-term,Autumn 2026,26/10/2026,30/10/2026,
inset,INSET day,01/09/2026,,Staff training
inset,INSET day,02/09/2026,,Staff training
term,Spring 2027,2027-01-04,2027-03-26,
half-term,spring 2027,15/02/2027,19/02/2027,
inset,Safeguarding training day,04/01/2027,,
term,Summer 2027,12/04/2027,21/07/2027,
half-term,Summer 2027,31/05/2027,04/06/2027,
closure,Polling station,06/05/2027,,Polling station
inset,INSET day,21/07/2027,,Staff training
";

    fn expected_year() -> TermCalendar {
        let term = |name: &str, starts, ends, half: (Date, Date)| Term {
            name: name.to_owned(),
            starts,
            ends,
            half_terms: vec![HalfTerm {
                starts: half.0,
                ends: half.1,
            }],
        };
        TermCalendar::new(
            "Oakfield Primary 2026/27",
            vec![
                term(
                    "Autumn 2026",
                    date(2026, 9, 1),
                    date(2026, 12, 18),
                    (date(2026, 10, 26), date(2026, 10, 30)),
                ),
                term(
                    "Spring 2027",
                    date(2027, 1, 4),
                    date(2027, 3, 26),
                    (date(2027, 2, 15), date(2027, 2, 19)),
                ),
                term(
                    "Summer 2027",
                    date(2027, 4, 12),
                    date(2027, 7, 21),
                    (date(2027, 5, 31), date(2027, 6, 4)),
                ),
            ],
            vec![
                SchoolClosure::on(ClosureKind::Inset, date(2026, 9, 1), "Staff training"),
                SchoolClosure::on(ClosureKind::Inset, date(2026, 9, 2), "Staff training"),
                SchoolClosure::on(
                    ClosureKind::Inset,
                    date(2027, 1, 4),
                    "Safeguarding training day",
                ),
                SchoolClosure::on(ClosureKind::OneOff, date(2027, 5, 6), "Polling station"),
                SchoolClosure::on(ClosureKind::Inset, date(2027, 7, 21), "Staff training"),
            ],
        )
        .unwrap()
    }

    fn fields(preview: &Preview) -> Vec<(usize, &str)> {
        preview
            .errors
            .iter()
            .map(|e| (e.line, e.field.as_str()))
            .collect()
    }

    #[test]
    fn a_school_year_in_csv_round_trips_into_a_calendar() {
        assert_eq!(detect_format(YEAR_CSV), Some(CalendarFormat::Csv));
        let p = preview("Oakfield Primary 2026/27", YEAR_CSV);
        assert_eq!(p.errors, vec![]);
        assert_eq!(p.calendar, Some(expected_year()));
        assert_eq!(p.rows.len(), 11);
        let first = &p.rows[0];
        assert_eq!(
            (first.line, first.kind, first.name.as_str()),
            (2, RowKind::Term, "Autumn 2026")
        );
        // An empty `ends` is a single day; an empty reason is the name.
        let safeguarding = &p.rows[6];
        assert_eq!(safeguarding.line, 8);
        assert_eq!(safeguarding.kind, RowKind::Inset);
        assert_eq!(
            (safeguarding.starts, safeguarding.ends),
            (date(2027, 1, 4), date(2027, 1, 4))
        );
        assert_eq!(
            safeguarding.reason.as_deref(),
            Some("Safeguarding training day")
        );
        let lines: Vec<usize> = p.rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, (2..=12).collect::<Vec<_>>());
    }

    /// The same year as a school's calendar feed would give it: CRLF, lines folded at 75
    /// octets, all-day events with an exclusive DTEND, kinds from titles and categories,
    /// and events that are not term dates left to the preview to report.
    const YEAR_ICS: &str = "BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Oakfield Primary//Term dates//EN\r
BEGIN:VEVENT\r
UID:1@oakfield\r
DTSTART;VALUE=DATE:20260901\r
DTEND;VALUE=DATE:20261219\r
SUMMARY:Autumn 2026\r
CATEGORIES:Term dates\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:2@oakfield\r
DTSTART;VALUE=DATE:20261026\r
DTEND;VALUE=DATE:20261031\r
SUMMARY:Autumn half term (school closed to pupils for the week - reopens Mon\r
 day 2 November)\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:3@oakfield\r
DTSTART;VALUE=DATE:20260901\r
DTEND;VALUE=DATE:20260902\r
SUMMARY:Staff training\r
CATEGORIES:INSET\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:4@oakfield\r
DTSTART;VALUE=DATE:20260902\r
DTEND;VALUE=DATE:20260903\r
SUMMARY:Staff training\r
CATEGORIES:Holidays,INSET\r
BEGIN:VALARM\r
ACTION:DISPLAY\r
DESCRIPTION:Tomorrow\r
TRIGGER:-P1D\r
END:VALARM\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:5@oakfield\r
DTSTART;VALUE=DATE:20270104\r
DTEND;VALUE=DATE:20270327\r
SUMMARY:Spring 2027\r
CATEGORIES:TERM\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:6@oakfield\r
DTSTART;VALUE=DATE:20270215\r
DTEND;VALUE=DATE:20270220\r
SUMMARY:Half-term\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:7@oakfield\r
DTSTART;VALUE=DA\r
 TE:20270104\r
DTEND;VALUE=DATE:20270105\r
SUMMARY:Safeguarding training day\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:8@oakfield\r
DTSTART;VALUE=DATE:20270412\r
DTEND;VALUE=DATE:20270722\r
SUMMARY:Summer 2027\r
CATEGORIES:Term\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:9@oakfield\r
DTSTART;VALUE=DATE:20270531\r
DTEND;VALUE=DATE:20270605\r
SUMMARY:Summer half-term\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:10@oakfield\r
DTSTART;VALUE=DATE:20270506\r
DTEND;VALUE=DATE:20270507\r
SUMMARY:Polling station\r
CATEGORIES:School closed\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:11@oakfield\r
DTSTART;VALUE=DATE:20270721\r
SUMMARY:Staff training\r
CATEGORIES:Staff development\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:12@oakfield\r
DTSTART;VALUE=DATE:20261105\r
DTEND;VALUE=DATE:20261106\r
SUMMARY:Bonfire night disco\r
STATUS:CANCELLED\r
END:VEVENT\r
END:VCALENDAR\r
";

    #[test]
    fn the_same_year_reads_from_icalendar() {
        assert_eq!(detect_format(YEAR_ICS), Some(CalendarFormat::ICalendar));
        let p = preview("Oakfield Primary 2026/27", YEAR_ICS);
        assert_eq!(p.errors, vec![]);
        assert_eq!(p.calendar, Some(expected_year()));
        // The cancelled event is left out; the rest are rows at their BEGIN:VEVENT lines.
        assert_eq!(p.rows.len(), 11);
        let half = &p.rows[1];
        assert_eq!(half.line, 11);
        assert_eq!(half.kind, RowKind::HalfTerm);
        assert_eq!(half.name, "Autumn 2026");
        // DTEND 31/10 is exclusive: the half-term's last day is Friday 30/10.
        assert_eq!(
            (half.starts, half.ends),
            (date(2026, 10, 26), date(2026, 10, 30))
        );
        // The folded DTSTART was unfolded.
        let safeguarding = p
            .rows
            .iter()
            .find(|r| r.name.contains("Safeguarding"))
            .unwrap();
        assert_eq!(safeguarding.line, 50);
        assert_eq!(safeguarding.starts, date(2027, 1, 4));
        assert_eq!(safeguarding.kind, RowKind::Inset);
    }

    #[test]
    fn an_event_that_is_not_term_dates_is_a_row_error() {
        let ics = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20260901\n\
DTEND;VALUE=DATE:20261219\nSUMMARY:Autumn term\nEND:VEVENT\nBEGIN:VEVENT\n\
DTSTART;VALUE=DATE:20260831\nSUMMARY:Summer bank holiday\nEND:VEVENT\nEND:VCALENDAR\n";
        let p = preview("Oakfield", ics);
        assert_eq!(fields(&p), [(7, "kind")]);
        assert!(
            p.errors[0]
                .message
                .starts_with("Not a term, half-term, INSET day or closure: “Summer bank holiday”")
        );
        assert_eq!(p.rows.len(), 1);
        assert_eq!(p.calendar, None);
    }

    #[test]
    fn a_file_that_is_not_icalendar_is_one_error_at_line_1() {
        for text in [
            "Term dates for 2026/27: see the school website",
            "BEGIN:VCARD\nFN:Oakfield\nEND:VCARD\n",
            YEAR_CSV,
        ] {
            let p = preview_as("Oakfield", text, CalendarFormat::ICalendar);
            assert_eq!(fields(&p), [(1, "file")], "{text}");
            assert!(p.errors[0].message.contains("BEGIN:VCALENDAR"));
        }
        // Starts right but does not parse: an event never ended, a line that is no property.
        for text in [
            "BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:Autumn term\nEND:VCALENDAR\n",
            "BEGIN:VCALENDAR\nthis is not a property\nEND:VCALENDAR\n",
        ] {
            let p = preview_as("Oakfield", text, CalendarFormat::ICalendar);
            assert_eq!(fields(&p), [(1, "file")], "{text}");
            assert!(p.errors[0].message.contains("do not follow"));
        }
        // Neither format at all.
        let p = preview("Oakfield", "Autumn: 1 September to 18 December");
        assert_eq!(fields(&p), [(1, "file")]);
        assert_eq!(detect_format("Autumn: 1 September"), None);
    }

    #[test]
    fn overlapping_terms_are_reported_at_the_second_terms_line() {
        let csv = "kind,name,starts,ends,reason\n\
term,Autumn,01/09/2026,18/12/2026,\n\
term,Spring,10/12/2026,26/03/2027,\n";
        let p = preview("Oakfield", csv);
        assert_eq!(fields(&p), [(3, "starts")]);
        assert!(p.errors[0].message.contains("overlaps"));
        assert_eq!(p.rows.len(), 2);
        assert_eq!(p.calendar, None);
    }

    #[test]
    fn calendar_problems_point_at_their_rows() {
        let csv = "kind,name,starts,ends,reason\n\
term,Autumn,01/09/2026,18/12/2026,\n\
closure,Burst pipe,04/01/2027,,\n\
half-term,Autumn,21/12/2026,23/12/2026,\n";
        let p = preview("", csv);
        assert_eq!(
            fields(&p),
            [(0, "name"), (3, "starts"), (4, "starts"), (4, "ends")]
        );
        assert!(p.errors[1].message.contains("outside every term"));
    }

    #[test]
    fn a_half_term_must_name_a_term_in_the_file() {
        let csv = "kind,name,starts,ends,reason\n\
term,Autumn 2026,01/09/2026,18/12/2026,\n\
half-term,Autum 2026,26/10/2026,30/10/2026,\n";
        let p = preview("Oakfield", csv);
        assert_eq!(fields(&p), [(3, "name")]);
        assert!(p.errors[0].message.contains("“Autum 2026”"));

        // In iCalendar, a half-term outside every term.
        let ics = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20261026\n\
DTEND;VALUE=DATE:20261031\nSUMMARY:Half term\nEND:VEVENT\nEND:VCALENDAR\n";
        let p = preview("Oakfield", ics);
        assert_eq!(fields(&p), [(2, "starts")]);
        assert!(p.errors[0].message.contains("not inside any term"));
    }

    #[test]
    fn bad_dates_are_reported_by_line_and_field() {
        let csv = "kind,name,starts,ends,reason\n\
term,Autumn,31/02/2026,18/12/2026,\n\
term,Spring,2027-01-04,2027-13-01,\n\
term,Summer,21/07/2027,12/04/2027,\n\
inset,INSET,,,Training\n\
term,Later,12/04/27,,\n";
        let p = preview("Oakfield", csv);
        assert_eq!(
            fields(&p),
            [
                (2, "starts"),
                (3, "ends"),
                (4, "ends"),
                (5, "starts"),
                (6, "starts")
            ]
        );
        assert_eq!(p.errors[0].message, "This date does not exist");
        assert!(p.errors[2].message.contains("before it starts"));
        assert_eq!(p.errors[3].message, "Enter a date");
        assert!(p.errors[4].message.contains("year in full"));
        assert!(p.rows.is_empty());
        assert_eq!(p.calendar, None);

        // iCalendar: an end on the start day (DTEND is exclusive), an impossible date.
        let ics = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:Autumn term\n\
DTSTART;VALUE=DATE:20260901\nDTEND;VALUE=DATE:20260901\nEND:VEVENT\nBEGIN:VEVENT\n\
SUMMARY:Spring term\nDTSTART;VALUE=DATE:20270230\nEND:VEVENT\nEND:VCALENDAR\n";
        let p = preview("Oakfield", ics);
        assert_eq!(fields(&p), [(5, "ends"), (9, "starts")]);
        assert!(p.errors[0].message.contains("day after its last day"));
    }

    #[test]
    fn dates_and_times_in_icalendar_are_read_as_days() {
        let ics = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:Autumn term\n\
DTSTART:20260901T000000\nDTEND:20261219T000000\nEND:VEVENT\nBEGIN:VEVENT\n\
SUMMARY:INSET\nDTSTART;TZID=Europe/London:20260902T083000\n\
DTEND;TZID=Europe/London:20260902T153000\n\
END:VEVENT\nBEGIN:VEVENT\nSUMMARY:School closed\nDTSTART:20261001T230000Z\nDURATION:PT8H\n\
END:VEVENT\nBEGIN:VEVENT\nSUMMARY:Closed for snow\nDTSTART;VALUE=DATE:20261207\nDURATION:P2D\n\
END:VEVENT\nEND:VCALENDAR\n";
        let p = preview("Oakfield", ics);
        assert_eq!(p.errors, vec![]);
        let days: Vec<(Date, Date)> = p.rows.iter().map(|r| (r.starts, r.ends)).collect();
        assert_eq!(
            days,
            [
                (date(2026, 9, 1), date(2026, 12, 18)),
                (date(2026, 9, 2), date(2026, 9, 2)),
                // 23:00 UTC on 1 October is midnight on the 2nd in London (BST).
                (date(2026, 10, 2), date(2026, 10, 2)),
                (date(2026, 12, 7), date(2026, 12, 8)),
            ]
        );
        assert!(p.calendar.is_some());
    }

    #[test]
    fn repeating_events_are_refused() {
        let ics = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:INSET day\n\
DTSTART;VALUE=DATE:20260901\nRRULE:FREQ=WEEKLY;COUNT=3\nEND:VEVENT\nEND:VCALENDAR\n";
        let p = preview("Oakfield", ics);
        assert_eq!(fields(&p), [(5, "starts")]);
    }

    #[test]
    fn too_many_rows_are_refused() {
        let mut csv = String::from("kind,name,starts,ends,reason\n");
        csv.push_str("term,Autumn,01/09/2026,18/12/2026,\n");
        for _ in 1..MAX_IMPORT_ROWS {
            csv.push_str("inset,INSET,02/09/2026,,Training\n");
        }
        let at_limit = preview("Oakfield", &csv);
        assert_eq!(at_limit.errors, vec![]);
        assert_eq!(at_limit.rows.len(), MAX_IMPORT_ROWS);

        csv.push_str("inset,INSET,03/09/2026,,Training\n");
        let over = preview("Oakfield", &csv);
        assert_eq!(fields(&over), [(MAX_IMPORT_ROWS + 2, "file")]);
        assert!(over.errors[0].message.contains("more than 500 rows"));
        assert!(over.rows.is_empty());
        assert_eq!(over.calendar, None);
    }

    #[test]
    fn a_file_over_256_kb_or_empty_is_refused_whole() {
        let mut big = String::from("kind,name,starts,ends,reason\n");
        big.push_str(&format!(
            "term,Autumn,01/09/2026,18/12/2026,{}\n",
            "x".repeat(MAX_IMPORT_BYTES)
        ));
        let preview_big = preview("Oakfield", &big);
        assert_eq!(fields(&preview_big), [(1, "file")]);
        assert!(preview_big.errors[0].message.contains("256 KB"));

        for empty in ["", "\u{feff}", " \r\n\r\n"] {
            let p = preview("Oakfield", empty);
            assert_eq!(fields(&p), [(1, "file")]);
            assert_eq!(p.errors[0].message, "The file is empty");
        }
        let header_only = preview("Oakfield", "kind,name,starts,ends,reason\n");
        assert_eq!(fields(&header_only), [(1, "file")]);
    }

    #[test]
    fn unknown_kinds_wrong_columns_and_missing_reasons_are_row_errors() {
        let csv = "kind,name,starts,ends,reason\n\
term,Autumn,01/09/2026,18/12/2026,\n\
holiday,Christmas,21/12/2026,01/01/2027,\n\
inset,01/09/2026,,\n\
closure,,05/10/2026,,\n\
,,,,\n\
half-term,,26/10/2026,30/10/2026,\n\
\"term\",\"Spring, part one\",04/01/2027,12/02/2027,\n";
        let p = preview("Oakfield", csv);
        assert_eq!(
            fields(&p),
            [(3, "kind"), (4, "file"), (5, "reason"), (7, "name")]
        );
        assert!(p.errors[0].message.contains("“holiday”"));
        assert!(p.errors[1].message.contains("4 column(s)"));
        // The row of empty cells is skipped; quoted commas stay in the name.
        assert_eq!(p.rows.len(), 2);
        assert_eq!(p.rows[1].name, "Spring, part one");
        assert_eq!(p.rows[1].line, 8);
    }

    #[test]
    fn a_wrong_header_is_one_error() {
        let csv = "type,name,from,to,why\nterm,Autumn,01/09/2026,18/12/2026,\n";
        assert_eq!(detect_format(csv), None);
        let p = preview_as("Oakfield", csv, CalendarFormat::Csv);
        assert_eq!(fields(&p), [(1, "file")]);
        assert!(p.errors[0].message.contains("kind,name,starts,ends,reason"));
    }

    #[test]
    fn crlf_line_endings_read_the_same() {
        let crlf = YEAR_CSV.replace('\n', "\r\n");
        let p = preview("Oakfield Primary 2026/27", &crlf);
        assert_eq!(p.errors, vec![]);
        assert_eq!(p.calendar, Some(expected_year()));
        let lines: Vec<usize> = p.rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, (2..=12).collect::<Vec<_>>());

        // And a bad row is still placed on its line.
        let bad = "kind,name,starts,ends,reason\r\n\r\nterm,Autumn,01/09/2026,31/11/2026,\r\n";
        assert_eq!(
            fields(&preview_as("Oakfield", bad, CalendarFormat::Csv)),
            [(3, "ends")]
        );

        // iCalendar with bare LF reads the same as the CRLF fixture.
        let lf = YEAR_ICS.replace("\r\n", "\n");
        assert_eq!(
            preview("Oakfield Primary 2026/27", &lf).calendar,
            Some(expected_year())
        );
    }

    #[test]
    fn a_byte_order_mark_is_ignored() {
        let csv = format!("\u{feff}{}", YEAR_CSV.replace("kind,name", " KIND , Name"));
        assert_eq!(detect_format(&csv), Some(CalendarFormat::Csv));
        let preview_csv = preview("Oakfield Primary 2026/27", &csv);
        assert_eq!(preview_csv.errors, vec![]);
        assert_eq!(preview_csv.calendar, Some(expected_year()));
        assert_eq!(preview_csv.rows[0].line, 2);

        let ics = format!("\u{feff}{YEAR_ICS}");
        assert_eq!(detect_format(&ics), Some(CalendarFormat::ICalendar));
        let preview_ics = preview("Oakfield Primary 2026/27", &ics);
        assert_eq!(preview_ics.errors, vec![]);
        assert_eq!(preview_ics.calendar, Some(expected_year()));
    }

    #[test]
    fn events_are_classified_by_whole_words() {
        let no = Vec::<String>::new();
        assert_eq!(classify("Autumn Half Term", &no), Some(RowKind::HalfTerm));
        assert_eq!(classify("October half-term", &no), Some(RowKind::HalfTerm));
        assert_eq!(
            classify("INSET day - school closed", &no),
            Some(RowKind::Inset)
        );
        assert_eq!(classify("Training Days", &no), Some(RowKind::Inset));
        assert_eq!(
            classify("School closed: polling", &no),
            Some(RowKind::Closure)
        );
        assert_eq!(classify("Spring Term", &no), Some(RowKind::Term));
        assert_eq!(classify("Terminal exams", &no), None);
        assert_eq!(
            classify("Sports day", &["Term dates".to_owned()]),
            Some(RowKind::Term)
        );
        // A phrase lies within one category: "Half" and "Term" apart are a term, not a
        // half-term.
        assert_eq!(
            classify("Staff day", &["Half".to_owned(), "Term".to_owned()]),
            Some(RowKind::Term)
        );
    }
}
