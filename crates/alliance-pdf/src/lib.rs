//! Printable, accessible PDFs for Alliance, typeset by typst.
//!
//! Templates are our own typst files, compiled into the binary. Data never
//! goes into the markup: it is serialised to JSON and the template reads it
//! with `json("/data.json")`, so text such as `#panic("x")` or `*` prints as
//! itself. Fonts are embedded (Noto, SIL OFL) and nothing is downloaded, read
//! from disk or taken from the clock, so output depends only on the input.
//!
//! PDFs are exported as PDF/UA-1: tagged, with a title, a language and
//! reading order, so screen readers can read them.
//!
//! Rendering is synchronous and CPU-bound (tens of milliseconds for a
//! letter): call it from `tokio::task::spawn_blocking`. It is thread safe.

mod sanitize;
mod sar_bundle;
mod world;

pub use sar_bundle::{BundleEntry, SubjectAccessBundle, render_subject_access_bundle};

use std::fmt::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};

use serde::Serialize;
use typst::diag::{SourceDiagnostic, Warned};
use typst::foundations::Smart;
use typst::{World as _, WorldExt as _};
use typst_layout::PagedDocument;
use typst_pdf::{PdfOptions, PdfStandard, PdfStandards};

use crate::world::MemoryWorld;

/// The letter template (A4, UK layout).
const LETTER_TEMPLATE: &str = include_str!("../templates/letter.typ");

/// The handout template (A4; large for the younger bands).
const HANDOUT_TEMPLATE: &str = include_str!("../templates/handout.typ");

/// The therapy agreement template (A4, roomy).
const AGREEMENT_TEMPLATE: &str = include_str!("../templates/agreement.typ");

/// The safeguarding chronology template (A4, a confidential band on every page).
const CHRONOLOGY_TEMPLATE: &str = include_str!("../templates/chronology.typ");

/// How many compilations typst's memoisation cache keeps entries for. Small:
/// it bounds a long-running server's memory while still letting repeated
/// renders of one template reuse work.
const CACHE_MAX_AGE: usize = 10;

/// A letter from the service to a parent or carer. All fields are plain text; lines are separate entries.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Letter {
    /// The service's name, printed in bold above its address.
    pub service_name: String,
    /// The service's address/contact lines, may be empty.
    pub sender_lines: Vec<String>,
    /// Name then address lines.
    pub recipient_lines: Vec<String>,
    /// Already formatted, e.g. "30/11/2026".
    pub date: String,
    /// E.g. "Case C-0042" (may be empty).
    pub reference: String,
    /// Heading line, e.g. "Your child's therapy sessions this term". Also the PDF's title.
    pub subject: String,
    /// E.g. "Dear Ms Clarke,".
    pub salutation: String,
    /// The body, one entry per paragraph.
    pub paragraphs: Vec<String>,
    /// E.g. the dates of sessions.
    pub table: Option<LetterTable>,
    /// E.g. "Yours sincerely,".
    pub sign_off: String,
    /// Name, role.
    pub signatory_lines: Vec<String>,
    /// E.g. "Confidential: for the addressee only"; printed on every page.
    pub footer: String,
}

/// A simple table in a letter: a caption, one header row (repeated on every
/// page the table spans) and rows of plain-text cells.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LetterTable {
    /// Printed above the table; may be empty.
    pub caption: String,
    /// The header row; may be empty for a table without headers.
    pub headers: Vec<String>,
    /// The body rows. Ragged rows are padded with empty cells.
    pub rows: Vec<Vec<String>>,
}

/// An explanation handout from the library. All fields are plain text.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Handout {
    /// The service's name, printed small at the top.
    pub service_name: String,
    /// The service's contact lines, may be empty.
    pub service_lines: Vec<String>,
    /// The handout's heading, in the reader's words.
    pub title: String,
    /// E.g. "For Millie" (empty when the copy names no one).
    pub for_name: String,
    /// Who it is written for, printed small at the end, e.g. "For children aged 8 to 11".
    pub audience: String,
    /// The body, one entry per paragraph.
    pub paragraphs: Vec<String>,
    /// Descriptions of the pictures to show while reading aloud (younger bands).
    pub pictures: Vec<String>,
    /// The large, friendly layout (younger bands).
    pub large: bool,
}

/// Render one or more handouts (each from a new page) to a PDF/UA-1 file. `footer` is printed
/// on every page (e.g. the version and its review state); `title` is the PDF's title.
pub fn render_handouts(
    handouts: &[Handout],
    title: &str,
    footer: &str,
) -> Result<Vec<u8>, PdfError> {
    let text = |s: &String| sanitize::breakable(&sanitize::printable(s.trim()));
    let lines = |v: &Vec<String>| -> Vec<String> {
        v.iter()
            .map(text)
            .filter(|s| !s.trim().is_empty())
            .collect()
    };
    let view = serde_json::json!({
        "footer": text(&footer.to_owned()),
        "handouts": handouts
            .iter()
            .map(|h| serde_json::json!({
                "service_name": text(&h.service_name),
                "service_lines": lines(&h.service_lines),
                "title": text(&h.title),
                "for_name": text(&h.for_name),
                "audience": text(&h.audience),
                "paragraphs": lines(&h.paragraphs),
                "pictures": lines(&h.pictures),
                "large": h.large,
            }))
            .collect::<Vec<_>>(),
    });
    render(HANDOUT_TEMPLATE, &view, title)
}

/// A therapy agreement, the child's copy or a carer's. All fields are plain text.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Agreement {
    /// The service's name, printed small at the top.
    pub service_name: String,
    /// The heading, e.g. "Our agreement". Also the PDF's title (which names no one).
    pub title: String,
    /// Who the copy is for, e.g. "For Millie" (empty when it names no one).
    pub for_name: String,
    /// E.g. "Version 2, agreed 02/11/2026".
    pub status_line: String,
    /// The ground rules in the child's words, in order (printed numbered).
    pub rules: Vec<String>,
    /// When and where the sessions are.
    pub time_and_place: String,
    /// What confidentiality means for this child; each line is a paragraph.
    pub confidentiality: String,
    /// Printed on every page (e.g. "Printed 02/11/2026").
    pub footer: String,
}

/// Render a therapy agreement to the bytes of a PDF/UA-1 file.
pub fn render_agreement(agreement: &Agreement) -> Result<Vec<u8>, PdfError> {
    let view = AgreementView::new(agreement);
    let title = match agreement.title.trim() {
        "" => "Agreement",
        title => title,
    };
    let data = serde_json::to_value(&view).map_err(|_| PdfError::Data)?;
    render(AGREEMENT_TEMPLATE, &data, title)
}

/// The agreement as the template sees it: every string printable and breakable, empty rules
/// dropped, confidentiality one paragraph per line.
#[derive(Serialize)]
struct AgreementView {
    service_name: String,
    title: String,
    for_name: String,
    status_line: String,
    rules_heading: &'static str,
    rules: Vec<String>,
    time_and_place_heading: &'static str,
    time_and_place: String,
    confidentiality_heading: &'static str,
    confidentiality: Vec<String>,
    footer: String,
}

impl AgreementView {
    fn new(agreement: &Agreement) -> Self {
        let text = |s: &str| sanitize::breakable(&sanitize::printable(s.trim()));
        let non_empty = |s: &String| !s.trim().is_empty();
        Self {
            service_name: text(&agreement.service_name),
            title: text(&agreement.title),
            for_name: text(&agreement.for_name),
            status_line: text(&agreement.status_line),
            rules_heading: "Our rules",
            rules: agreement
                .rules
                .iter()
                .map(|r| text(r))
                .filter(non_empty)
                .collect(),
            time_and_place_heading: "When and where we meet",
            time_and_place: text(&agreement.time_and_place),
            confidentiality_heading: "What stays private, and when it cannot",
            confidentiality: agreement
                .confidentiality
                .lines()
                .map(text)
                .filter(non_empty)
                .collect(),
            footer: text(&agreement.footer),
        }
    }
}

/// A safeguarding chronology about one child, for a strategy meeting or to go with the child to
/// a new school. All fields are plain text, already formatted (dates "31/12/2026", times
/// Europe/London).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Chronology {
    /// E.g. "Amira Khan". Printed in the band on every page.
    pub child_name: String,
    /// E.g. "14/03/2015".
    pub date_of_birth: String,
    /// E.g. "Dana Lee (DSL)".
    pub prepared_by: String,
    /// E.g. "30/11/2026 14:05".
    pub prepared_at: String,
    /// E.g. "For a strategy meeting" or "Transfer to Hillside Academy".
    pub purpose: String,
    /// The service's name, printed in the footer of every page.
    pub service: String,
    /// The entries, printed oldest first (see [`render_chronology`]).
    pub entries: Vec<ChronologyLine>,
}

/// One entry of a [`Chronology`]: a row of the table, its labelled parts beneath it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ChronologyLine {
    /// E.g. "28/11/2026 10:15" (or a date alone, "28/11/2026").
    pub when: String,
    /// E.g. "SG-1A2B3C4D" (may be empty).
    pub reference: String,
    /// E.g. "Referral made".
    pub what: String,
    /// E.g. "Dana Lee".
    pub by: String,
    /// Labelled parts, in order, e.g. ("Agency", "Children's social care") or ("Child's
    /// words", "..."). An empty label prints the text alone; a part with neither is dropped.
    pub lines: Vec<(String, String)>,
}

/// Render a [`Chronology`] to the bytes of a PDF/UA-1 file.
///
/// Entries are printed oldest first: when every `when` reads as "dd/mm/yyyy" or
/// "dd/mm/yyyy hh:mm" they are sorted by it (entries at the same time keep the order given);
/// otherwise they are printed in the order given. The PDF's title is "Safeguarding
/// chronology" (it names no one: titles show in window bars and recent-file lists).
pub fn render_chronology(doc: &Chronology) -> Result<Vec<u8>, PdfError> {
    let view = ChronologyView::new(doc);
    let data = serde_json::to_value(&view).map_err(|_| PdfError::Data)?;
    render(CHRONOLOGY_TEMPLATE, &data, CHRONOLOGY_TITLE)
}

/// The chronology's heading and PDF title.
const CHRONOLOGY_TITLE: &str = "Safeguarding chronology";

/// The chronology as the template sees it: every string printable and breakable (short runs
/// in the narrow columns), empty details and parts dropped, entries oldest first.
#[derive(Serialize)]
struct ChronologyView {
    marking: &'static str,
    title: &'static str,
    /// Said once in the body, for screen readers (the band is an artifact).
    handling: &'static str,
    /// The child's name and date of birth, for the band.
    band_child: String,
    details: Vec<LabelledView>,
    columns: [&'static str; 4],
    no_entries: &'static str,
    entries: Vec<ChronologyLineView>,
    footer: String,
}

#[derive(Serialize)]
struct LabelledView {
    label: String,
    text: String,
}

#[derive(Serialize)]
struct ChronologyLineView {
    when: String,
    reference: String,
    what: String,
    by: String,
    lines: Vec<LabelledView>,
}

/// Runs (between spaces) of up to this many characters are left whole in the chronology's
/// narrow columns (when, reference, by), so that a reference such as "SG-1A2B3C4D" copies
/// from the PDF intact; longer ones may break every [`NARROW_PIECE`] characters.
const NARROW_RUN: usize = 12;
/// Six of the widest letter (W) fit the narrowest column at 10 pt.
const NARROW_PIECE: usize = 6;

impl ChronologyView {
    fn new(doc: &Chronology) -> Self {
        let text = |s: &str| sanitize::breakable(&sanitize::printable(s.trim()));
        let narrow = |s: &str| breakable_ascii(&text(s), NARROW_RUN, NARROW_PIECE);
        let child_name = text(&doc.child_name);
        let date_of_birth = text(&doc.date_of_birth);
        let band_child = match (child_name.is_empty(), date_of_birth.is_empty()) {
            (false, false) => format!("{child_name}, born {date_of_birth}"),
            (false, true) => child_name.clone(),
            (true, false) => format!("Born {date_of_birth}"),
            (true, true) => String::new(),
        };
        let details = [
            ("Child", child_name),
            ("Date of birth", date_of_birth),
            ("Purpose", text(&doc.purpose)),
            ("Prepared by", text(&doc.prepared_by)),
            ("Prepared on", text(&doc.prepared_at)),
            ("Service", text(&doc.service)),
        ]
        .into_iter()
        .filter(|(_, value)| !value.trim().is_empty())
        .map(|(label, text)| LabelledView {
            label: label.to_owned(),
            text,
        })
        .collect();
        let mut entries: Vec<&ChronologyLine> = doc.entries.iter().collect();
        let keys: Option<Vec<_>> = entries.iter().map(|e| when_key(&e.when)).collect();
        if let Some(keys) = keys {
            let mut keyed: Vec<_> = keys.into_iter().zip(entries).collect();
            keyed.sort_by_key(|(key, _)| *key);
            entries = keyed.into_iter().map(|(_, e)| e).collect();
        }
        Self {
            marking: "CONFIDENTIAL: SAFEGUARDING",
            title: CHRONOLOGY_TITLE,
            handling: "Confidential: safeguarding. Share only with those who need it to keep \
                       the child safe.",
            band_child,
            details,
            columns: ["When", "Reference", "What", "By"],
            no_entries: "No entries.",
            entries: entries
                .into_iter()
                .map(|e| ChronologyLineView {
                    when: narrow(&e.when),
                    reference: narrow(&e.reference),
                    what: text(&e.what),
                    by: narrow(&e.by),
                    lines: e
                        .lines
                        .iter()
                        .map(|(label, body)| LabelledView {
                            label: text(label),
                            text: text(body),
                        })
                        .filter(|l| !(l.label.trim().is_empty() && l.text.trim().is_empty()))
                        .collect(),
                })
                .collect(),
            footer: text(&doc.service),
        }
    }
}

/// "dd/mm/yyyy" or "dd/mm/yyyy hh:mm" as (year, month, day, hour, minute), for sorting.
fn when_key(when: &str) -> Option<(u16, u8, u8, u8, u8)> {
    let when = when.trim();
    let (date, time) = match when.split_once(' ') {
        Some((date, time)) => (date, Some(time.trim())),
        None => (when, None),
    };
    let number = |s: &str, len: usize| {
        (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u16>().ok())
            .flatten()
    };
    let mut parts = date.split('/');
    let (day, month, year) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let (day, month, year) = (number(day, 2)?, number(month, 2)?, number(year, 4)?);
    let (hour, minute) = match time {
        None => (0, 0),
        Some(time) => {
            let (hour, minute) = time.split_once(':')?;
            (number(hour, 2)?, number(minute, 2)?)
        }
    };
    if !(1..=31).contains(&day) || !(1..=12).contains(&month) || hour > 23 || minute > 59 {
        return None;
    }
    Some((
        year,
        u8::try_from(month).ok()?,
        u8::try_from(day).ok()?,
        u8::try_from(hour).ok()?,
        u8::try_from(minute).ok()?,
    ))
}

/// Put a zero-width space (a line-break opportunity) after every `piece` characters of each
/// run without spaces longer than `long`, for narrow table columns. Hyphens and slashes count
/// as part of a run (there is no break after them before a digit). Breaks only before an
/// ASCII character, so never between a letter and its combining mark; runs of other scripts
/// are left to [`sanitize::breakable`].
fn breakable_ascii(text: &str, long: usize, piece: usize) -> String {
    fn flush(run: &mut Vec<char>, out: &mut String, long: usize, piece: usize) {
        let mut since = 0usize;
        for &c in run.iter() {
            if run.len() > long && since >= piece && c.is_ascii_graphic() {
                out.push('\u{200B}');
                since = 0;
            }
            since += 1;
            out.push(c);
        }
        run.clear();
    }
    let mut out = String::with_capacity(text.len());
    let mut run = Vec::new();
    for c in text.chars() {
        if c.is_whitespace() || c == '\u{200B}' {
            flush(&mut run, &mut out, long, piece);
            out.push(c);
        } else {
            run.push(c);
        }
    }
    flush(&mut run, &mut out, long, piece);
    out
}

/// Why a PDF could not be made.
///
/// Messages never include the document's text: anything typst quotes in a
/// diagnostic (between backticks or double quotes), panic messages and any
/// word found in the data are replaced by `…`, and locations refer to lines of
/// our template, not of the data. So they are safe to log.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// The template did not compile: a bug in the template, or data of a shape it does not expect.
    #[error("the PDF template failed to compile: {}", .0.join("; "))]
    Compile(Vec<String>),
    /// The typeset document could not be exported as PDF/UA-1.
    #[error("the PDF could not be exported: {}", .0.join("; "))]
    Export(Vec<String>),
    /// The data could not be serialised as JSON.
    #[error("the document data could not be serialised as JSON")]
    Data,
    /// A bug in the renderer (or a panic inside typst).
    #[error("internal error in the PDF renderer: {0}")]
    Internal(&'static str),
}

/// Render a [`Letter`] to the bytes of a PDF/UA-1 file.
pub fn render_letter(letter: &Letter) -> Result<Vec<u8>, PdfError> {
    let view = LetterView::new(letter);
    let title = letter_title(letter);
    let data = serde_json::to_value(&view).map_err(|_| PdfError::Data)?;
    render(LETTER_TEMPLATE, &data, &title)
}

/// Lower level, for later documents: compile a typst source (trusted, ours) with `data` exposed as /data.json.
///
/// Every string in `data` is first made printable (characters our fonts lack
/// become "�"; control characters become spaces or go). `title` becomes the
/// PDF's title (required for PDF/UA); the template need not set it. The
/// document date is whatever the template sets with `set document(date: ..)`,
/// or none.
pub fn render(
    template_source: &str,
    data: &serde_json::Value,
    title: &str,
) -> Result<Vec<u8>, PdfError> {
    let compiled = compile(template_source, data, title)?;
    export(&compiled)
}

/// Parse the embedded fonts and build typst's standard library now, so the
/// first real render does not pay for it. Optional; call it at start-up.
pub fn warm_up() {
    world::warm_up();
}

/// A typeset document before PDF export, with typst's warnings (redacted).
struct Compiled {
    world: MemoryWorld,
    /// The data as the template saw it, to redact error messages.
    data: serde_json::Value,
    document: PagedDocument,
    #[cfg_attr(not(test), allow(dead_code))]
    warnings: Vec<String>,
}

/// Typeset `template` with `data` as `/data.json`.
fn compile(template: &str, data: &serde_json::Value, title: &str) -> Result<Compiled, PdfError> {
    let mut data = data.clone();
    sanitize::printable_json(&mut data);
    let json = serde_json::to_vec(&data).map_err(|_| PdfError::Data)?;
    let world = MemoryWorld::new(template, json)?;

    let Warned { output, warnings } = guard(|| typst::compile::<PagedDocument>(&world))?;
    // Bound the global memoisation cache (typst never evicts by itself).
    typst::comemo::evict(CACHE_MAX_AGE);

    let mut document =
        output.map_err(|errors| PdfError::Compile(describe(&world, &data, errors.as_slice())))?;
    let info = document.info_mut();
    let title = sanitize::printable(title.trim());
    info.title = Some(if title.is_empty() {
        "Document".into()
    } else {
        title.into()
    });
    if info.date.is_auto() {
        // Never the clock: no date unless the template sets one.
        info.date = Smart::Custom(None);
    }
    let warnings = describe(&world, &data, warnings.as_slice());
    Ok(Compiled {
        world,
        data,
        document,
        warnings,
    })
}

/// Export as PDF/UA-1 (which implies a tagged PDF).
fn export(compiled: &Compiled) -> Result<Vec<u8>, PdfError> {
    let standards = PdfStandards::new(&[PdfStandard::Ua_1])
        .map_err(|_| PdfError::Internal("PDF/UA-1 is not a valid configuration"))?;
    let options = PdfOptions {
        standards,
        tagged: true,
        ..PdfOptions::default()
    };
    guard(|| typst_pdf::pdf(&compiled.document, &options))?.map_err(|errors| {
        PdfError::Export(describe(&compiled.world, &compiled.data, errors.as_slice()))
    })
}

/// Run typst, turning a panic inside it into an error rather than taking the
/// caller's thread down.
fn guard<T>(f: impl FnOnce() -> T) -> Result<T, PdfError> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|_| PdfError::Internal("typst panicked"))
}

/// Describe diagnostics without leaking document text: quoted parts, panic
/// messages and any word that occurs in `data` are redacted, and positions are
/// given as template line and column.
fn describe(
    world: &MemoryWorld,
    data: &serde_json::Value,
    diagnostics: &[SourceDiagnostic],
) -> Vec<String> {
    if diagnostics.is_empty() {
        return Vec::new();
    }
    let words = data_words(data);
    diagnostics
        .iter()
        .map(|diag| {
            let mut text = redact(&diag.message, &words);
            if diag.span.id() == Some(world.main()) {
                let position = world
                    .range(diag.span)
                    .and_then(|range| world.main_source().lines().byte_to_line_column(range.start));
                if let Some((line, column)) = position {
                    let _ = write!(text, " (template line {}, column {})", line + 1, column + 1);
                }
            }
            for hint in &diag.hints {
                let _ = write!(text, " (hint: {})", redact(&hint.v, &words));
            }
            text
        })
        .collect()
}

/// Every word (run of three or more letters or digits) in the strings of
/// `data`, longest first, for [`redact`].
fn data_words(data: &serde_json::Value) -> Vec<String> {
    fn collect(value: &serde_json::Value, words: &mut Vec<String>) {
        match value {
            serde_json::Value::String(s) => words.extend(
                s.split(|c: char| !c.is_alphanumeric())
                    .filter(|w| w.chars().count() >= 3)
                    .map(str::to_owned),
            ),
            serde_json::Value::Array(items) => items.iter().for_each(|v| collect(v, words)),
            serde_json::Value::Object(map) => map.values().for_each(|v| collect(v, words)),
            serde_json::Value::Null | serde_json::Value::Bool(_) | serde_json::Value::Number(_) => {
            }
        }
    }
    let mut words = Vec::new();
    collect(data, &mut words);
    words.sort_unstable_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    words.dedup();
    words
}

/// Make a typst message safe to log: replace whatever it quotes (between
/// backticks or double quotes) and the text of a panic or assertion with `…`,
/// then any remaining word taken from the data.
fn redact(message: &str, data_words: &[String]) -> String {
    let mut out = String::with_capacity(message.len());
    let mut quote: Option<char> = None;
    for c in message.chars() {
        match quote {
            Some(q) if c == q => {
                out.push('…');
                out.push(c);
                quote = None;
            }
            Some(_) => {}
            None => {
                out.push(c);
                if c == '`' || c == '"' {
                    quote = Some(c);
                }
            }
        }
    }
    if quote.is_some() {
        out.push('…');
    }
    for prefix in ["panicked with:", "assertion failed:"] {
        if out.starts_with(prefix) {
            out.truncate(prefix.len());
            out.push_str(" …");
        }
    }
    for word in data_words {
        if out.contains(word.as_str()) {
            out = out.replace(word.as_str(), "…");
        }
    }
    out
}

/// The PDF title: the subject, or failing that who the letter is from.
fn letter_title(letter: &Letter) -> String {
    let subject = letter.subject.trim();
    let service = letter.service_name.trim();
    if !subject.is_empty() {
        subject.to_owned()
    } else if !service.is_empty() {
        format!("Letter from {service}")
    } else {
        "Letter".to_owned()
    }
}

/// The letter as the template sees it: every string printable and breakable,
/// blank lines and paragraphs dropped, the table rectangular (or absent when it
/// has no rows).
#[derive(Serialize)]
struct LetterView {
    service_name: String,
    sender_lines: Vec<String>,
    recipient_lines: Vec<String>,
    date: String,
    reference: String,
    subject: String,
    salutation: String,
    paragraphs: Vec<String>,
    table: Option<TableView>,
    sign_off: String,
    signatory_lines: Vec<String>,
    footer: String,
}

#[derive(Serialize)]
struct TableView {
    caption: String,
    /// Empty when the table has no header row; otherwise `columns` long.
    headers: Vec<String>,
    columns: usize,
    /// Row-major cells, `columns` per row.
    cells: Vec<String>,
}

impl LetterView {
    fn new(letter: &Letter) -> Self {
        let text = |s: &String| sanitize::breakable(&sanitize::printable(s.trim()));
        let lines = |v: &Vec<String>| -> Vec<String> {
            v.iter()
                .map(text)
                .filter(|s| !s.trim().is_empty())
                .collect()
        };
        Self {
            service_name: text(&letter.service_name),
            sender_lines: lines(&letter.sender_lines),
            recipient_lines: lines(&letter.recipient_lines),
            date: text(&letter.date),
            reference: text(&letter.reference),
            subject: text(&letter.subject),
            salutation: text(&letter.salutation),
            paragraphs: lines(&letter.paragraphs),
            table: letter
                .table
                .as_ref()
                .and_then(|table| TableView::new(table, text)),
            sign_off: text(&letter.sign_off),
            signatory_lines: lines(&letter.signatory_lines),
            footer: text(&letter.footer),
        }
    }
}

impl TableView {
    fn new(table: &LetterTable, text: impl Fn(&String) -> String) -> Option<Self> {
        let columns = table
            .rows
            .iter()
            .map(Vec::len)
            .chain([table.headers.len()])
            .max()
            .unwrap_or(0);
        if table.rows.is_empty() || columns == 0 {
            return None;
        }
        let pad = |row: &Vec<String>| {
            let mut cells: Vec<String> = row.iter().map(&text).collect();
            cells.resize(columns, String::new());
            cells
        };
        let headers = if table.headers.iter().all(|h| h.trim().is_empty()) {
            Vec::new()
        } else {
            pad(&table.headers)
        };
        Some(Self {
            caption: text(&table.caption),
            headers,
            columns,
            cells: table.rows.iter().flat_map(pad).collect(),
        })
    }
}

#[cfg(test)]
mod tests;
