//! Rooms described for the work (issue 16): a room's arrangement and simple labelled layout,
//! what else uses it and when, material categories (service data), materials and their
//! condition, play kits that travel with a peripatetic therapist, the pre-session checklist
//! and its checks. No IO.
//!
//! Nothing here holds anything about a child: a room check belongs to a session (its booking
//! id) and records the room's state, never who the session is with. Who may do what:
//!
//! - a room's description, the materials, the kits and the checklists are directory data
//!   (policy section 1): everyone who works here reads them, administrators write them
//!   ([`crate::policy::Action::ReadDirectory`], [`crate::policy::Action::ManageDirectory`]);
//! - a therapist may also report a change in a material's condition
//!   ([`may_report_condition`]);
//! - a play kit is moved by the therapist who holds it or an administrator ([`may_move_kit`]);
//! - a session's room check is ticked by the session's therapist or by someone who may write
//!   the session's schedule ([`may_tick_check`]).

use crate::directory::{RoomId, SiteId};
use crate::error::{Validator, parse_line, parse_optional_line, parse_optional_text};
use crate::identity::{Role, User, UserId};
use crate::policy::Decision;
use crate::schedule::{BookingId, clock_text, parse_clock_time, parse_weekday, weekday_code};
use crate::{Invalid, Version};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($name:ident) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub uuid::Uuid);

        impl $name {
            pub fn parse(raw: &str) -> Result<Self, String> {
                uuid::Uuid::parse_str(raw.trim())
                    .map(Self)
                    .map_err(|_| "not a valid id".to_owned())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(MaterialId);
id_type!(KitId);

// ----- the layout -----

/// What a cell of a room's layout holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Feature {
    SandTray,
    ArtTable,
    Cushions,
    Door,
    Window,
    Sink,
    Chairs,
    Shelves,
    PlayMat,
    Table,
}

impl Feature {
    pub const ALL: [Feature; 10] = [
        Feature::SandTray,
        Feature::ArtTable,
        Feature::Cushions,
        Feature::Door,
        Feature::Window,
        Feature::Sink,
        Feature::Chairs,
        Feature::Shelves,
        Feature::PlayMat,
        Feature::Table,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Feature::SandTray => "sand-tray",
            Feature::ArtTable => "art-table",
            Feature::Cushions => "cushions",
            Feature::Door => "door",
            Feature::Window => "window",
            Feature::Sink => "sink",
            Feature::Chairs => "chairs",
            Feature::Shelves => "shelves",
            Feature::PlayMat => "play-mat",
            Feature::Table => "table",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Feature::SandTray => "Sand tray",
            Feature::ArtTable => "Art table",
            Feature::Cushions => "Cushions",
            Feature::Door => "Door",
            Feature::Window => "Window",
            Feature::Sink => "Sink",
            Feature::Chairs => "Chairs",
            Feature::Shelves => "Shelves",
            Feature::PlayMat => "Play mat",
            Feature::Table => "Table",
        }
    }

    /// A cell's code: empty (or `empty`) is an empty cell.
    pub fn parse_cell(raw: &str) -> Result<Option<Feature>, String> {
        let raw = raw.trim();
        if raw.is_empty() || raw == "empty" {
            return Ok(None);
        }
        Feature::ALL
            .into_iter()
            .find(|f| f.code() == raw)
            .map(Some)
            .ok_or_else(|| "Choose what is in this part of the room".to_owned())
    }
}

/// The layout's size: a plan of the room seen from above, 6 cells across and 4 down.
pub const LAYOUT_COLUMNS: usize = 6;
pub const LAYOUT_ROWS: usize = 4;
pub const LAYOUT_CELLS: usize = LAYOUT_COLUMNS * LAYOUT_ROWS;

/// A room's plan: row by row, left to right; each cell empty or one feature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layout {
    pub cells: Vec<Option<Feature>>,
}

impl Default for Layout {
    fn default() -> Self {
        Self {
            cells: vec![None; LAYOUT_CELLS],
        }
    }
}

impl Layout {
    /// The rows, each `LAYOUT_COLUMNS` cells.
    pub fn rows(&self) -> Vec<Vec<Option<Feature>>> {
        self.cells
            .chunks(LAYOUT_COLUMNS)
            .map(<[Option<Feature>]>::to_vec)
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.cells.iter().all(Option::is_none)
    }
}

/// The form field of a cell: `cell-{row}-{column}`, both from 1.
pub fn cell_field(index: usize) -> String {
    format!(
        "cell-{}-{}",
        index / LAYOUT_COLUMNS + 1,
        index % LAYOUT_COLUMNS + 1
    )
}

/// A cell's name for a screen reader: `Row 2, column 3`.
pub fn cell_name(index: usize) -> String {
    format!(
        "Row {}, column {}",
        index / LAYOUT_COLUMNS + 1,
        index % LAYOUT_COLUMNS + 1
    )
}

// ----- what else uses the room -----

/// Another use of the room: `Tuesday 12:00-13:00 Lunch club`. Times are London wall-clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OtherUse {
    /// `monday` … `sunday`.
    pub weekday: String,
    /// `12:00`.
    pub start: String,
    pub end: String,
    pub what: String,
}

impl OtherUse {
    pub fn text(&self) -> String {
        let day = parse_weekday(&self.weekday)
            .map(crate::schedule::weekday_label)
            .unwrap_or("");
        format!("{day} {}-{} {}", self.start, self.end, self.what)
    }
}

/// The days a form offers, Monday first: (code, label).
pub fn weekday_choices() -> Vec<(&'static str, &'static str)> {
    use jiff::civil::Weekday::*;
    [
        Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday,
    ]
    .into_iter()
    .map(|d| (weekday_code(d), crate::schedule::weekday_label(d)))
    .collect()
}

/// One line of the other uses as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct OtherUseInput {
    pub weekday: String,
    pub start: String,
    pub end: String,
    pub what: String,
}

impl OtherUseInput {
    pub fn is_blank(&self) -> bool {
        self.weekday.trim().is_empty()
            && self.start.trim().is_empty()
            && self.end.trim().is_empty()
            && self.what.trim().is_empty()
    }
}

/// The most other uses a room lists.
pub const MAX_OTHER_USES: usize = 20;

// ----- the description -----

/// A room described for the work. Kept beside the room (directory data, no child content).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RoomDescription {
    /// How the room is arranged, in words.
    pub arrangement: Option<String>,
    pub layout: Layout,
    /// What else uses the room and when, by day and time.
    pub other_uses: Vec<OtherUse>,
}

/// A description as typed: `cells` row by row (missing cells are empty).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DescriptionInput {
    pub arrangement: String,
    pub cells: Vec<String>,
    pub other_uses: Vec<OtherUseInput>,
}

impl RoomDescription {
    /// Checks a description: every bad field is named (`arrangement`, `cell-{r}-{c}`,
    /// `use-{n}-weekday`, `use-{n}-start`, `use-{n}-end`, `use-{n}-what`, `n` from 1). Blank
    /// lines of other uses are dropped.
    pub fn parse(input: &DescriptionInput) -> Result<Self, Invalid> {
        let mut v = Validator::new();
        let arrangement = v.check("arrangement", parse_optional_text(&input.arrangement, 2000));
        if input.cells.len() > LAYOUT_CELLS {
            v.check::<()>(
                "cell-1-1",
                Err(format!("A layout has at most {LAYOUT_CELLS} cells")),
            );
        }
        let mut cells = vec![None; LAYOUT_CELLS];
        for (index, raw) in input.cells.iter().take(LAYOUT_CELLS).enumerate() {
            if let Some(cell) = v.check(&cell_field(index), Feature::parse_cell(raw)) {
                cells[index] = cell;
            }
        }
        let lines: Vec<&OtherUseInput> =
            input.other_uses.iter().filter(|u| !u.is_blank()).collect();
        if lines.len() > MAX_OTHER_USES {
            v.check::<()>(
                "use-1-what",
                Err(format!("List at most {MAX_OTHER_USES} other uses")),
            );
        }
        let mut other_uses = Vec::new();
        for (n, line) in lines.iter().take(MAX_OTHER_USES).enumerate() {
            let n = n + 1;
            let day = v.check(
                &format!("use-{n}-weekday"),
                parse_weekday(&line.weekday).map_err(|_| "Choose the day".to_owned()),
            );
            let start = v.check(&format!("use-{n}-start"), parse_clock_time(&line.start));
            let end = v.check(&format!("use-{n}-end"), parse_clock_time(&line.end));
            let what = v.check(&format!("use-{n}-what"), parse_line(&line.what, 1, 80));
            if let (Some(start), Some(end)) = (start, end)
                && end <= start
            {
                v.check::<()>(
                    &format!("use-{n}-end"),
                    Err("The end is after the start".to_owned()),
                );
            }
            if let (Some(day), Some(start), Some(end), Some(what)) = (day, start, end, what) {
                other_uses.push(OtherUse {
                    weekday: weekday_code(day).to_owned(),
                    start: clock_text(start),
                    end: clock_text(end),
                    what,
                });
            }
        }
        v.finish()?;
        other_uses.sort_by_key(|u| {
            (
                parse_weekday(&u.weekday)
                    .map(|d| d.to_monday_zero_offset())
                    .unwrap_or(7),
                u.start.clone(),
            )
        });
        Ok(Self {
            arrangement: arrangement.flatten(),
            layout: Layout { cells },
            other_uses,
        })
    }
}

// ----- material categories (service data) -----

/// The categories a new service starts with.
pub const DEFAULT_CATEGORIES: [&str; 10] = [
    "Sand tray and miniatures",
    "Art and craft",
    "Clay and sensory",
    "Puppets and dolls",
    "Dressing up and role play",
    "Small world",
    "Building",
    "Music",
    "Games",
    "Books and stories",
];

pub fn default_categories() -> Vec<String> {
    DEFAULT_CATEGORIES.iter().map(|c| (*c).to_owned()).collect()
}

pub const MAX_CATEGORIES: usize = 40;

/// The categories, one a line: blank lines dropped, a repeat (ignoring case) refused, at
/// least one, at most [`MAX_CATEGORIES`], each up to 60 characters. Field `categories`.
pub fn parse_categories(raw: &str) -> Result<Vec<String>, Invalid> {
    let mut out: Vec<String> = Vec::new();
    for line in raw.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let name = parse_line(line, 1, 60)
            .map_err(|m| Invalid::field("categories", format!("{line}: {m}")))?;
        if out.iter().any(|c| c.eq_ignore_ascii_case(&name)) {
            return Err(Invalid::field(
                "categories",
                format!("{name} is listed twice"),
            ));
        }
        out.push(name);
    }
    if out.is_empty() {
        return Err(Invalid::field("categories", "List at least one category"));
    }
    if out.len() > MAX_CATEGORIES {
        return Err(Invalid::field(
            "categories",
            format!("List at most {MAX_CATEGORIES} categories"),
        ));
    }
    Ok(out)
}

// ----- materials -----

/// A material's condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Condition {
    Good,
    NeedsCleaning,
    NeedsReplacing,
    Missing,
}

impl Condition {
    pub const ALL: [Condition; 4] = [
        Condition::Good,
        Condition::NeedsCleaning,
        Condition::NeedsReplacing,
        Condition::Missing,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Condition::Good => "good",
            Condition::NeedsCleaning => "needs-cleaning",
            Condition::NeedsReplacing => "needs-replacing",
            Condition::Missing => "missing",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Condition::Good => "Good",
            Condition::NeedsCleaning => "Needs cleaning",
            Condition::NeedsReplacing => "Needs replacing",
            Condition::Missing => "Missing",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        Condition::ALL
            .into_iter()
            .find(|c| c.code() == raw)
            .ok_or_else(|| "Choose the condition".to_owned())
    }

    /// Whether the administrators are asked to see to it.
    pub fn needs_attention(self) -> bool {
        self != Condition::Good
    }
}

/// Where a material is kept: a room, or a play kit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Place {
    Room(RoomId),
    Kit(KitId),
}

impl Place {
    /// `room:{id}` or `kit:{id}`, as forms and the API send it.
    pub fn code(self) -> String {
        match self {
            Place::Room(id) => format!("room:{id}"),
            Place::Kit(id) => format!("kit:{id}"),
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        let wrong = || "Choose a room or a play kit".to_owned();
        match raw.trim().split_once(':') {
            Some(("room", id)) => RoomId::parse(id).map(Place::Room).map_err(|_| wrong()),
            Some(("kit", id)) => KitId::parse(id).map(Place::Kit).map_err(|_| wrong()),
            _ => Err(wrong()),
        }
    }
}

/// A material's details, once checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaterialDetails {
    pub name: String,
    pub category: String,
    pub place: Place,
    pub quantity: Option<u32>,
    pub condition: Condition,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct MaterialInput {
    pub name: String,
    pub category: String,
    /// `room:{id}` or `kit:{id}`.
    pub place: String,
    /// Optional.
    pub quantity: String,
    pub condition: String,
}

pub const MAX_QUANTITY: u32 = 10_000;

impl MaterialDetails {
    /// Checks a material against the service's categories (fields `name`, `category`,
    /// `place`, `quantity`, `condition`). Whether the room or kit exists is storage's to say.
    pub fn parse(input: &MaterialInput, categories: &[String]) -> Result<Self, Invalid> {
        let mut v = Validator::new();
        let name = v.check("name", parse_line(&input.name, 1, 80));
        let category = v.check(
            "category",
            categories
                .iter()
                .find(|c| c.as_str() == input.category.trim())
                .cloned()
                .ok_or_else(|| "Choose one of the service's categories".to_owned()),
        );
        let place = v.check("place", Place::parse(&input.place));
        let quantity = v.check(
            "quantity",
            match input.quantity.trim() {
                "" => Ok(None),
                raw => raw
                    .parse::<u32>()
                    .ok()
                    .filter(|q| (1..=MAX_QUANTITY).contains(q))
                    .map(Some)
                    .ok_or_else(|| {
                        format!("Enter how many, from 1 to {MAX_QUANTITY}, or leave it empty")
                    }),
            },
        );
        let condition = v.check("condition", Condition::parse(&input.condition));
        v.finish()?;
        match (name, category, place, quantity, condition) {
            (Some(name), Some(category), Some(place), Some(quantity), Some(condition)) => {
                Ok(Self {
                    name,
                    category,
                    place,
                    quantity,
                    condition,
                })
            }
            _ => Err(Invalid::field("name", "Enter the material's details")),
        }
    }
}

/// A material as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Material {
    pub id: MaterialId,
    pub details: MaterialDetails,
    pub version: Version,
    pub updated_by: UserId,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What a change of condition asks of the administrators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attention {
    /// Nothing changes.
    None,
    /// A task for the administrators (once per material and condition episode).
    Raise(Condition),
    /// Back to good: the open tasks about it are settled.
    Settle,
}

/// What moving a material from `before` (none: new) to `after` asks for. A condition that
/// stays the same asks nothing, so editing a material's name never raises a second task.
pub fn attention(before: Option<Condition>, after: Condition) -> Attention {
    match (before, after) {
        (Some(b), a) if b == a => Attention::None,
        (_, a) if a.needs_attention() => Attention::Raise(a),
        (Some(b), Condition::Good) if b.needs_attention() => Attention::Settle,
        _ => Attention::None,
    }
}

// ----- play kits -----

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KitDetails {
    pub name: String,
    pub holder: UserId,
}

/// A play kit as stored: who holds it and where it is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kit {
    pub id: KitId,
    pub details: KitDetails,
    /// Where it is now; none until first moved.
    pub site: Option<SiteId>,
    pub version: Version,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// One move of a kit: to a site, on a day, by someone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KitMove {
    pub id: uuid::Uuid,
    pub kit: KitId,
    pub site: SiteId,
    pub moved_on: Date,
    pub moved_by: UserId,
    pub moved_at: Timestamp,
}

pub fn parse_kit_name(raw: &str) -> Result<String, Invalid> {
    parse_line(raw, 1, 80).map_err(|m| Invalid::field("name", m))
}

// ----- the checklist and its checks -----

/// The checklist a new service starts with.
pub const DEFAULT_CHECKLIST: [&str; 8] = [
    "Room free and private",
    "Sign on the door",
    "Materials in place",
    "Sand tray ready",
    "Tissues and water",
    "Nothing hazardous",
    "Phone silenced",
    "Emergency details at hand",
];

pub fn default_checklist() -> Vec<String> {
    DEFAULT_CHECKLIST.iter().map(|c| (*c).to_owned()).collect()
}

pub const MAX_CHECKLIST_ITEMS: usize = 30;

/// A checklist, one item a line (field `items`): blank lines dropped, at least one item, at
/// most [`MAX_CHECKLIST_ITEMS`], each up to 120 characters, none twice.
pub fn parse_checklist(raw: &str) -> Result<Vec<String>, Invalid> {
    let mut out: Vec<String> = Vec::new();
    for line in raw.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let item = parse_line(line, 1, 120)
            .map_err(|m| Invalid::field("items", format!("{line}: {m}")))?;
        if out.iter().any(|c| c.eq_ignore_ascii_case(&item)) {
            return Err(Invalid::field("items", format!("{item} is listed twice")));
        }
        out.push(item);
    }
    if out.is_empty() {
        return Err(Invalid::field("items", "List at least one item to check"));
    }
    if out.len() > MAX_CHECKLIST_ITEMS {
        return Err(Invalid::field(
            "items",
            format!("List at most {MAX_CHECKLIST_ITEMS} items"),
        ));
    }
    Ok(out)
}

/// One item of a check as ticked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckedItem {
    pub item: String,
    pub ok: bool,
    /// What the problem is (short); only with a problem.
    pub note: Option<String>,
}

/// One item as sent: `ok` or `problem`, and the note.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CheckedItemInput {
    pub state: String,
    pub note: String,
}

/// A check as ticked (fields `item-{n}` and `note-{n}`, `n` from 1): every item of the
/// checklist in use answered, a problem with a short note saying what.
pub fn parse_check(
    checklist: &[String],
    answers: &[CheckedItemInput],
) -> Result<Vec<CheckedItem>, Invalid> {
    let mut v = Validator::new();
    let mut out = Vec::new();
    for (n, item) in checklist.iter().enumerate() {
        let n = n + 1;
        let answer = answers.get(n - 1).cloned().unwrap_or_default();
        let ok = v.check(
            &format!("item-{n}"),
            match answer.state.trim() {
                "ok" => Ok(true),
                "problem" => Ok(false),
                _ => Err(format!("Say whether “{item}” is OK or a problem")),
            },
        );
        let note = v.check(&format!("note-{n}"), parse_optional_line(&answer.note, 200));
        if ok == Some(false) && matches!(note, Some(None)) {
            v.check::<()>(
                &format!("note-{n}"),
                Err("Say briefly what the problem is".to_owned()),
            );
        }
        if let (Some(ok), Some(note)) = (ok, note) {
            out.push(CheckedItem {
                item: item.clone(),
                ok,
                note: if ok { None } else { note },
            });
        }
    }
    v.finish()?;
    Ok(out)
}

/// A session's room check as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomCheck {
    pub session: BookingId,
    pub room: RoomId,
    pub items: Vec<CheckedItem>,
    pub checked_by: UserId,
    pub checked_at: Timestamp,
}

impl RoomCheck {
    pub fn has_problem(&self) -> bool {
        self.items.iter().any(|i| !i.ok)
    }
}

/// Whether a session's room check is done, as timetables show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckState {
    Done,
    /// Done, with a problem reported.
    DoneWithProblem,
    ToDo,
}

impl CheckState {
    pub fn code(self) -> &'static str {
        match self {
            CheckState::Done => "done",
            CheckState::DoneWithProblem => "done-with-problem",
            CheckState::ToDo => "to-do",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CheckState::Done => "Room check done",
            CheckState::DoneWithProblem => "Room check done (problem reported)",
            CheckState::ToDo => "Room check to do",
        }
    }

    /// `problems` is whether the check (if any) found one.
    pub fn of(check: Option<bool>) -> Self {
        match check {
            None => CheckState::ToDo,
            Some(false) => CheckState::Done,
            Some(true) => CheckState::DoneWithProblem,
        }
    }
}

// ----- who may -----

/// A therapist may report that a material's condition changed (administrators may change
/// anything about it).
pub fn may_report_condition(user: &User) -> Decision {
    if !user.active {
        return Decision::Deny("this account is deactivated");
    }
    if user.has_role(Role::Administrator) || user.has_role(Role::Therapist) {
        Decision::Allow
    } else {
        Decision::Deny("only a therapist or an administrator may report a material's condition")
    }
}

/// A kit is moved by the therapist who holds it, or an administrator.
pub fn may_move_kit(user: &User, holder: UserId) -> Decision {
    if !user.active {
        return Decision::Deny("this account is deactivated");
    }
    if user.id == holder || user.has_role(Role::Administrator) {
        Decision::Allow
    } else {
        Decision::Deny("only the kit's holder or an administrator may move it")
    }
}

/// A session's room check is ticked by the session's therapist, or by someone who may
/// write that session's schedule (`may_write_schedule`, as the schedule row of the matrix
/// answers for them).
pub fn may_tick_check(user: &User, therapist: UserId, may_write_schedule: bool) -> Decision {
    if !user.active {
        return Decision::Deny("this account is deactivated");
    }
    if user.id == therapist || may_write_schedule {
        Decision::Allow
    } else {
        Decision::Deny(
            "only the session's therapist or someone who arranges its sessions may tick its room check",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Role;

    fn user(roles: &[Role]) -> User {
        use crate::identity::{RegistrationBody, Username};
        User {
            id: UserId(uuid::Uuid::now_v7()),
            username: Username::parse("someone").unwrap_or_else(|_| unreachable!()),
            display_name: "Some One".into(),
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
    fn a_layout_takes_one_feature_a_cell_and_names_the_bad_one() {
        let mut cells = vec![String::new(); LAYOUT_CELLS];
        cells[0] = "door".into();
        cells[7] = "sand-tray".into();
        let input = DescriptionInput {
            arrangement: "Cushions in the corner by the window".into(),
            cells: cells.clone(),
            other_uses: vec![],
        };
        let d = RoomDescription::parse(&input).expect("valid");
        assert_eq!(d.layout.cells[0], Some(Feature::Door));
        assert_eq!(d.layout.rows()[1][1], Some(Feature::SandTray));
        assert_eq!(d.layout.rows().len(), LAYOUT_ROWS);
        cells[9] = "trampoline".into();
        let err = RoomDescription::parse(&DescriptionInput { cells, ..input }).err();
        assert_eq!(
            err.map(|e| e.errors[0].field.clone()),
            Some("cell-2-4".to_owned())
        );
    }

    #[test]
    fn other_uses_are_checked_sorted_and_blank_lines_dropped() {
        let line = |d: &str, s: &str, e: &str, w: &str| OtherUseInput {
            weekday: d.into(),
            start: s.into(),
            end: e.into(),
            what: w.into(),
        };
        let input = DescriptionInput {
            other_uses: vec![
                line("thursday", "15:30", "16:30", "Chess club"),
                line("", "", "", ""),
                line("tuesday", "12:00", "13:00", "Lunch club"),
            ],
            ..DescriptionInput::default()
        };
        let d = RoomDescription::parse(&input).expect("valid");
        assert_eq!(d.other_uses.len(), 2);
        assert_eq!(d.other_uses[0].text(), "Tuesday 12:00-13:00 Lunch club");
        let bad = DescriptionInput {
            other_uses: vec![line("tuesday", "13:00", "12:00", "")],
            ..DescriptionInput::default()
        };
        let fields: Vec<String> = RoomDescription::parse(&bad)
            .err()
            .map(|e| e.errors.into_iter().map(|e| e.field).collect())
            .unwrap_or_default();
        assert_eq!(fields, vec!["use-1-what", "use-1-end"]);
    }

    #[test]
    fn categories_are_one_a_line_without_repeats() {
        assert_eq!(
            parse_categories("Music\n\n  Games  \n").ok(),
            Some(vec!["Music".to_owned(), "Games".to_owned()])
        );
        assert!(parse_categories("Music\nmusic").is_err());
        assert!(parse_categories("  \n").is_err());
        assert_eq!(default_categories().len(), 10);
    }

    #[test]
    fn a_material_belongs_to_a_known_category_and_a_place() {
        let cats = default_categories();
        let room = RoomId(uuid::Uuid::nil());
        let input = MaterialInput {
            name: "Miniature animals".into(),
            category: "Sand tray and miniatures".into(),
            place: format!("room:{room}"),
            quantity: "40".into(),
            condition: "needs-cleaning".into(),
        };
        let m = MaterialDetails::parse(&input, &cats).expect("valid");
        assert_eq!(m.place, Place::Room(room));
        assert_eq!(m.quantity, Some(40));
        assert_eq!(m.condition, Condition::NeedsCleaning);
        let bad = MaterialInput {
            category: "Trampolines".into(),
            place: "garden".into(),
            quantity: "0".into(),
            condition: "broken".into(),
            ..input
        };
        let fields: Vec<String> = MaterialDetails::parse(&bad, &cats)
            .err()
            .map(|e| e.errors.into_iter().map(|e| e.field).collect())
            .unwrap_or_default();
        assert_eq!(fields, vec!["category", "place", "quantity", "condition"]);
    }

    #[test]
    fn a_condition_raises_once_and_good_settles() {
        use Condition::*;
        assert_eq!(attention(None, Good), Attention::None);
        assert_eq!(attention(None, Missing), Attention::Raise(Missing));
        assert_eq!(
            attention(Some(Good), NeedsCleaning),
            Attention::Raise(NeedsCleaning)
        );
        assert_eq!(
            attention(Some(NeedsCleaning), NeedsCleaning),
            Attention::None
        );
        assert_eq!(
            attention(Some(NeedsCleaning), NeedsReplacing),
            Attention::Raise(NeedsReplacing)
        );
        assert_eq!(attention(Some(Missing), Good), Attention::Settle);
        assert_eq!(attention(Some(Good), Good), Attention::None);
    }

    #[test]
    fn a_check_answers_every_item_and_a_problem_says_what() {
        let list = vec![
            "Room free and private".to_owned(),
            "Sign on the door".to_owned(),
        ];
        let ok = |s: &str, n: &str| CheckedItemInput {
            state: s.into(),
            note: n.into(),
        };
        let items =
            parse_check(&list, &[ok("ok", "ignored"), ok("problem", "No sign")]).expect("valid");
        assert!(items[0].ok && items[0].note.is_none());
        assert_eq!(items[1].note.as_deref(), Some("No sign"));
        let fields: Vec<String> = parse_check(&list, &[ok("", ""), ok("problem", " ")])
            .err()
            .map(|e| e.errors.into_iter().map(|e| e.field).collect())
            .unwrap_or_default();
        assert_eq!(fields, vec!["item-1", "note-2"]);
        assert!(parse_checklist("").is_err());
        assert_eq!(parse_checklist("A\n\nB").ok().map(|l| l.len()), Some(2));
        assert_eq!(CheckState::of(None).label(), "Room check to do");
        assert_eq!(CheckState::of(Some(false)).label(), "Room check done");
    }

    #[test]
    fn who_may_tick_move_and_report_from_the_denied_side() {
        let therapist = user(&[Role::Therapist]);
        let other = user(&[Role::Therapist]);
        let staff = user(&[Role::Staff]);
        let admin = user(&[Role::Administrator]);
        assert!(may_tick_check(&therapist, therapist.id, false).is_allowed());
        assert!(!may_tick_check(&other, therapist.id, false).is_allowed());
        assert!(!may_tick_check(&staff, therapist.id, false).is_allowed());
        assert!(may_tick_check(&admin, therapist.id, true).is_allowed());
        let mut gone = therapist.clone();
        gone.active = false;
        assert!(!may_tick_check(&gone, therapist.id, true).is_allowed());

        assert!(may_move_kit(&therapist, therapist.id).is_allowed());
        assert!(!may_move_kit(&other, therapist.id).is_allowed());
        assert!(may_move_kit(&admin, therapist.id).is_allowed());

        assert!(may_report_condition(&therapist).is_allowed());
        assert!(!may_report_condition(&staff).is_allowed());
    }
}
