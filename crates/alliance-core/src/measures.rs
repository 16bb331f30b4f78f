//! Measures as data (issue 17): a measure is a definition file (TOML or JSON), validated on
//! load, that says who answers it, how each item is answered, how it is scored, and which
//! cut-offs and reliable-change values apply to whom. Alliance ships its own definitions in
//! `alliance-core/data/measures/`; a service may add its own, and a measure in use changes
//! only by a new version (`id` and `version` together name one definition for ever).
//!
//! Licensed wording (SRS, CSRS, ORS, CORS, TASC-r, WAI-SR) is never shipped: those
//! definitions carry structure and scoring only, and a licensed service loads the words
//! from its own file ([`Wording`]).
//!
//! No IO: definitions arrive as text.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Who answers a measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Respondent {
    Child,
    Carer,
    Therapist,
}

/// When in a session a measure is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Given {
    StartOfSession,
    EndOfSession,
    AnyTime,
}

/// One answer an item offers: the value scored and the words (or face) shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    pub value: i32,
    /// Empty for a licensed measure until its wording is loaded.
    #[serde(default)]
    pub label: String,
}

/// How an item is answered. Every kind is a set of choices to tap or key; none needs dragging.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ResponseScale {
    /// Faces, one per choice, for the youngest children.
    Faces { choices: Vec<Choice> },
    /// A line from `min` to `max` (0-10), each whole point a target, its two ends labelled.
    Line {
        min: i32,
        max: i32,
        #[serde(default)]
        low: String,
        #[serde(default)]
        high: String,
    },
    /// Labelled points (Likert).
    Likert { choices: Vec<Choice> },
}

/// One question.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub id: String,
    /// The words asked; `None` where the wording is licensed and loaded by the service.
    #[serde(default)]
    pub text: Option<String>,
    /// The key of the scale in [`Definition::scales`].
    pub scale: String,
    /// Scored from the other end of its scale (max + min - value).
    #[serde(default)]
    pub reversed: bool,
    #[serde(default)]
    pub subscale: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    Sum,
    Mean,
}

/// Which end of the total is the better one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HigherIs {
    Better,
    Worse,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scoring {
    pub method: Method,
    /// How many items may be missing before the measure is not scored at all (never scored
    /// as if the missing items were 0).
    #[serde(default)]
    pub max_missing: u32,
    /// With items missing (up to `max_missing`), a sum is scaled up to the full item count
    /// (the mean of the answered items times the number of items).
    #[serde(default)]
    pub prorate: bool,
    pub total_min: f64,
    pub total_max: f64,
    pub higher_is: HigherIs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sex {
    Female,
    Male,
}

/// Whom a looked-up value applies to: an age band (in whole years, both ends included) and a
/// sex; a field left out matches everyone.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Band {
    #[serde(default)]
    pub min_age: Option<u8>,
    #[serde(default)]
    pub max_age: Option<u8>,
    #[serde(default)]
    pub sex: Option<Sex>,
}

/// When a total is flagged by a cut-off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Comparison {
    Below,
    AtOrBelow,
    Above,
    AtOrAbove,
}

/// A clinical cut-off, with its source. Unconfirmed figures say so and stay editable by
/// the service (a new version of the definition).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cutoff {
    #[serde(flatten)]
    pub band: Band,
    pub value: f64,
    pub flag_when: Comparison,
    pub source: String,
    #[serde(default)]
    pub confirmed: bool,
}

/// The change in total that counts as reliable, with its source.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReliableChange {
    #[serde(flatten)]
    pub band: Band,
    pub value: f64,
    pub source: String,
    #[serde(default)]
    pub confirmed: bool,
}

/// The rupture rules' parameters that suit this measure's scale (issue 18 applies them).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuptureParameters {
    /// A drop from the previous session of at least this much; `None` turns the rule off.
    #[serde(default)]
    pub drop: Option<f64>,
    /// Sessions needed before the running-mean rule applies.
    pub min_sessions: u32,
    /// Standard deviations below the running mean for amber and red.
    pub amber_sd: f64,
    pub red_sd: f64,
    /// The least spread assumed, so a flat run of top scores does not turn every wobble red.
    pub sd_floor: f64,
}

/// The measure's licence and the attribution it requires.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Licence {
    pub name: String,
    pub holder: String,
    /// The line every screen and export that shows the measure must carry.
    #[serde(default)]
    pub attribution: Option<String>,
    /// Whether the item wording is in this definition; if not, a licensed service loads it.
    pub wording_shipped: bool,
    #[serde(default)]
    pub url: Option<String>,
}

/// A measure definition, as loaded and validated.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Definition {
    /// Stable identifier (`alliance-checkin-young`, `yp-core`, `srs`).
    pub id: String,
    pub version: u32,
    pub name: String,
    pub respondent: Respondent,
    #[serde(default)]
    pub min_age: Option<u8>,
    #[serde(default)]
    pub max_age: Option<u8>,
    pub given: Given,
    /// False for a measure without published psychometric validation (Alliance's own).
    pub validated: bool,
    /// How the measure was designed and checked (shown on its page).
    #[serde(default)]
    pub note: String,
    /// Below this age, the therapist's screens say that self-report is unreliable and show
    /// the child's score beside the therapist's rating, never blended.
    #[serde(default)]
    pub self_report_caution_under: Option<u8>,
    /// The items are the child's own goals (goal-based outcomes), not fixed questions.
    #[serde(default)]
    pub goal_based: bool,
    /// Why this version may not be given, even with its wording loaded (something its
    /// scoring needs is unsettled, and a new version must settle it); `None` when it may.
    #[serde(default)]
    pub withheld: Option<String>,
    pub scales: BTreeMap<String, ResponseScale>,
    #[serde(default)]
    pub items: Vec<Item>,
    pub scoring: Scoring,
    #[serde(default)]
    pub cutoffs: Vec<Cutoff>,
    #[serde(default)]
    pub reliable_change: Vec<ReliableChange>,
    #[serde(default)]
    pub rupture: Option<RuptureParameters>,
    pub licence: Licence,
}

/// A response's answers: item id to the value chosen. An item left out is missing.
pub type Answers = BTreeMap<String, i32>;

/// A scored response.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Score {
    pub total: f64,
    pub subscales: BTreeMap<String, f64>,
    pub answered: u32,
    pub missing: u32,
    pub prorated: bool,
}

/// Why a response was not scored. Never scored as 0.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotScored {
    TooManyMissing { missing: u32, allowed: u32 },
    UnknownItem(String),
    OutOfRange { item: String, value: i32 },
}

/// A problem in a definition or wording file, naming where it is (`items[2].scale`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadError {
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// The text format of a definition or wording file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Toml,
    Json,
}

/// A licensed measure's words, loaded by a service from its own file: the items' text and
/// each scale's choice labels, for one definition version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Wording {
    pub measure: String,
    pub version: u32,
    pub items: BTreeMap<String, String>,
    #[serde(default)]
    pub choices: BTreeMap<String, Vec<String>>,
}

// ---- Limits: a definition file is treated as hostile until it has passed every check ----

/// The largest definition or wording file accepted, in bytes.
pub const MAX_FILE_BYTES: usize = 64 * 1024;
/// The most items a definition may have.
pub const MAX_ITEMS: usize = 100;
/// The most scales a definition may have.
pub const MAX_SCALES: usize = 20;
/// The most choices a faces or Likert scale may offer.
pub const MAX_CHOICES: usize = 11;
/// The most points a line may offer (`max - min + 1`).
pub const MAX_LINE_POINTS: i32 = 21;
/// The most rows in the cut-off table, and in the reliable-change table.
pub const MAX_TABLE_ROWS: usize = 50;
/// The longest identifier (measure, item, scale, subscale).
pub const MAX_ID_CHARS: usize = 64;
/// The longest item text, choice label or line-end label.
pub const MAX_TEXT_CHARS: usize = 500;
/// The longest name, licence name or holder.
pub const MAX_NAME_CHARS: usize = 200;
/// The longest note.
pub const MAX_NOTE_CHARS: usize = 4000;
/// The oldest age a definition or band may name.
pub const MAX_AGE: u8 = 120;
/// The largest version number.
pub const MAX_VERSION: u32 = 1_000_000;
/// The largest absolute value a choice or line end may carry.
pub const MAX_ABS_VALUE: i32 = 1000;

impl LoadError {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl Format {
    /// The format a file name suggests (`.json` is JSON; anything else is TOML).
    pub fn from_file_name(name: &str) -> Format {
        if name.to_ascii_lowercase().ends_with(".json") {
            Format::Json
        } else {
            Format::Toml
        }
    }

    /// Guesses the format of pasted text: JSON starts with `{`.
    pub fn sniff(text: &str) -> Format {
        if text.trim_start().starts_with('{') {
            Format::Json
        } else {
            Format::Toml
        }
    }
}

impl Respondent {
    pub const ALL: [Respondent; 3] = [Respondent::Child, Respondent::Carer, Respondent::Therapist];

    pub fn as_str(self) -> &'static str {
        match self {
            Respondent::Child => "child",
            Respondent::Carer => "carer",
            Respondent::Therapist => "therapist",
        }
    }

    /// Words for screens.
    pub fn label(self) -> &'static str {
        match self {
            Respondent::Child => "Child or young person",
            Respondent::Carer => "Parent or carer",
            Respondent::Therapist => "Therapist",
        }
    }

    pub fn parse(s: &str) -> Option<Respondent> {
        Respondent::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl Given {
    pub fn label(self) -> &'static str {
        match self {
            Given::StartOfSession => "At the start of a session",
            Given::EndOfSession => "At the end of a session",
            Given::AnyTime => "At any time",
        }
    }
}

impl Method {
    pub fn label(self) -> &'static str {
        match self {
            Method::Sum => "Sum of the items",
            Method::Mean => "Mean of the items",
        }
    }
}

impl HigherIs {
    pub fn label(self) -> &'static str {
        match self {
            HigherIs::Better => "Higher is better",
            HigherIs::Worse => "Higher is worse",
        }
    }
}

impl Sex {
    pub fn label(self) -> &'static str {
        match self {
            Sex::Female => "Female",
            Sex::Male => "Male",
        }
    }
}

impl Comparison {
    /// Words for screens, before the value ("below 36").
    pub fn label(self) -> &'static str {
        match self {
            Comparison::Below => "below",
            Comparison::AtOrBelow => "at or below",
            Comparison::Above => "above",
            Comparison::AtOrAbove => "at or above",
        }
    }
}

impl Band {
    /// Whether a person of this age and sex falls in the band. An unknown age matches only a
    /// band without age limits; an unknown sex only a band for everyone.
    pub fn matches(&self, age: Option<u8>, sex: Option<Sex>) -> bool {
        let age_ok = match age {
            Some(a) => self.min_age.is_none_or(|m| a >= m) && self.max_age.is_none_or(|m| a <= m),
            None => self.min_age.is_none() && self.max_age.is_none(),
        };
        let sex_ok = match self.sex {
            None => true,
            Some(s) => sex == Some(s),
        };
        age_ok && sex_ok
    }

    /// Words for screens: "11 to 13, female", "everyone".
    pub fn describe(&self) -> String {
        let ages = match (self.min_age, self.max_age) {
            (None, None) => None,
            (Some(a), None) => Some(format!("{a} and over")),
            (None, Some(b)) => Some(format!("up to {b}")),
            (Some(a), Some(b)) if a == b => Some(format!("{a}")),
            (Some(a), Some(b)) => Some(format!("{a} to {b}")),
        };
        match (ages, self.sex) {
            (None, None) => "Everyone".to_owned(),
            (Some(a), None) => format!("Ages {a}"),
            (None, Some(s)) => s.label().to_owned(),
            (Some(a), Some(s)) => format!("Ages {a}, {}", s.label().to_lowercase()),
        }
    }

    /// How narrow the band is: a sex-specific band before one for everyone, then the band
    /// with the fewest ages.
    fn specificity(&self) -> (u8, u16) {
        let sex = u8::from(self.sex.is_none());
        let lo = u16::from(self.min_age.unwrap_or(0));
        let hi = u16::from(self.max_age.unwrap_or(MAX_AGE));
        (sex, hi.saturating_sub(lo))
    }

    fn overlaps(&self, other: &Band) -> bool {
        if self.sex != other.sex {
            return false;
        }
        let (a0, a1) = (self.min_age.unwrap_or(0), self.max_age.unwrap_or(u8::MAX));
        let (b0, b1) = (other.min_age.unwrap_or(0), other.max_age.unwrap_or(u8::MAX));
        let same = a0 == b0 && a1 == b1;
        // One band inside another is a narrower row that wins (a row for everyone, then
        // rows for age bands); bands that only partly overlap, or repeat, are ambiguous.
        let nested = (a0 <= b0 && b1 <= a1) || (b0 <= a0 && a1 <= b1);
        a0 <= b1 && b0 <= a1 && (same || !nested)
    }
}

impl Cutoff {
    /// Whether a total is flagged by this cut-off.
    pub fn flags(&self, total: f64) -> bool {
        match self.flag_when {
            Comparison::Below => total < self.value,
            Comparison::AtOrBelow => total <= self.value,
            Comparison::Above => total > self.value,
            Comparison::AtOrAbove => total >= self.value,
        }
    }
}

impl ReliableChange {
    /// Whether the change from `before` to `after` is at least the reliable-change value.
    pub fn is_reliable(&self, before: f64, after: f64) -> bool {
        (after - before).abs() >= self.value
    }
}

impl ResponseScale {
    /// The values this scale accepts, lowest first.
    pub fn values(&self) -> Vec<i32> {
        match self {
            ResponseScale::Faces { choices } | ResponseScale::Likert { choices } => {
                let mut v: Vec<i32> = choices.iter().map(|c| c.value).collect();
                v.sort_unstable();
                v
            }
            ResponseScale::Line { min, max, .. } => (*min..=*max).collect(),
        }
    }

    /// The lowest and highest value (for reversing an item), worked out without listing the
    /// values, so a hostile line's ends cannot make a huge list.
    pub fn bounds(&self) -> (i32, i32) {
        match self {
            ResponseScale::Faces { choices } | ResponseScale::Likert { choices } => (
                choices.iter().map(|c| c.value).min().unwrap_or(0),
                choices.iter().map(|c| c.value).max().unwrap_or(0),
            ),
            ResponseScale::Line { min, max, .. } => (*min, *max),
        }
    }

    pub fn accepts(&self, value: i32) -> bool {
        match self {
            ResponseScale::Faces { choices } | ResponseScale::Likert { choices } => {
                choices.iter().any(|c| c.value == value)
            }
            ResponseScale::Line { min, max, .. } => (*min..=*max).contains(&value),
        }
    }

    /// Words for screens.
    pub fn kind_label(&self) -> &'static str {
        match self {
            ResponseScale::Faces { .. } => "Faces",
            ResponseScale::Line { .. } => "Line of whole points",
            ResponseScale::Likert { .. } => "Labelled points",
        }
    }

    /// Whether every label the scale shows is present (a line's ends may stay unlabelled).
    fn labelled(&self) -> bool {
        match self {
            ResponseScale::Faces { choices } | ResponseScale::Likert { choices } => {
                choices.iter().all(|c| !c.label.trim().is_empty())
            }
            ResponseScale::Line { .. } => true,
        }
    }
}

impl Definition {
    /// This definition with a licensed service's wording applied (items' text and choice
    /// labels). The wording must have passed [`parse_wording`] for this definition.
    pub fn with_wording(&self, w: &Wording) -> Definition {
        let mut d = self.clone();
        if w.measure != d.id || w.version != d.version {
            return d;
        }
        for item in &mut d.items {
            if let Some(t) = w.items.get(&item.id) {
                item.text = Some(t.clone());
            }
        }
        for (key, scale) in &mut d.scales {
            let Some(labels) = w.choices.get(key) else {
                continue;
            };
            match scale {
                ResponseScale::Faces { choices } | ResponseScale::Likert { choices } => {
                    for (c, l) in choices.iter_mut().zip(labels) {
                        c.label = l.clone();
                    }
                }
                ResponseScale::Line { low, high, .. } => {
                    if let [l, h] = labels.as_slice() {
                        *low = l.clone();
                        *high = h.clone();
                    }
                }
            }
        }
        d
    }

    /// Whether the measure can be shown to a respondent: every item has its words and every
    /// choice its label (shipped, or loaded by the service).
    pub fn has_wording(&self) -> bool {
        self.items
            .iter()
            .all(|i| i.text.as_deref().is_some_and(|t| !t.trim().is_empty()))
            && self.scales.values().all(ResponseScale::labelled)
    }

    /// The cut-off that applies to a person of this age and sex: a sex-specific row before
    /// one for everyone, then the narrowest age band. `None` when no row applies (a rule that
    /// needs a cut-off is then off).
    pub fn cutoff_for(&self, age: Option<u8>, sex: Option<Sex>) -> Option<&Cutoff> {
        self.cutoffs
            .iter()
            .filter(|c| c.band.matches(age, sex))
            .min_by_key(|c| c.band.specificity())
    }

    /// The reliable-change value that applies to a person of this age and sex (as
    /// [`Definition::cutoff_for`]).
    pub fn reliable_change_for(
        &self,
        age: Option<u8>,
        sex: Option<Sex>,
    ) -> Option<&ReliableChange> {
        self.reliable_change
            .iter()
            .filter(|c| c.band.matches(age, sex))
            .min_by_key(|c| c.band.specificity())
    }

    /// Whether the measure suits a person of this age. An unknown age suits every measure
    /// (the therapist chooses).
    pub fn suits_age(&self, age: Option<u8>) -> bool {
        match age {
            None => true,
            Some(a) => self.min_age.is_none_or(|m| a >= m) && self.max_age.is_none_or(|m| a <= m),
        }
    }

    /// The choices an item offers, in the order shown. A line gives each whole point from
    /// `min` to `max`, labelled with its number; its two ends add their words ("0: not at
    /// all") when the scale has them.
    pub fn choices(&self, item: &Item) -> Vec<Choice> {
        match self.scales.get(&item.scale) {
            Some(ResponseScale::Faces { choices } | ResponseScale::Likert { choices }) => {
                choices.clone()
            }
            Some(ResponseScale::Line {
                min,
                max,
                low,
                high,
            }) => (*min..=*max)
                .map(|value| {
                    let end = if value == *min {
                        low.trim()
                    } else if value == *max {
                        high.trim()
                    } else {
                        ""
                    };
                    let label = if end.is_empty() {
                        value.to_string()
                    } else {
                        format!("{value}: {end}")
                    };
                    Choice { value, label }
                })
                .collect(),
            None => Vec::new(),
        }
    }

    /// The scale the goal ratings use, for a goal-based measure (its only scale).
    pub fn goal_scale(&self) -> Option<&ResponseScale> {
        if self.goal_based {
            self.scales.values().next()
        } else {
            None
        }
    }

    /// Words for screens: "4 to 9", "13 and over", "any age".
    pub fn ages(&self) -> String {
        match (self.min_age, self.max_age) {
            (None, None) => "Any age".to_owned(),
            (Some(a), None) => format!("{a} and over"),
            (None, Some(b)) => format!("Up to {b}"),
            (Some(a), Some(b)) => format!("{a} to {b}"),
        }
    }

    /// The stable key of one definition: `srs@1`.
    pub fn key(&self) -> String {
        format!("{}@{}", self.id, self.version)
    }

    /// The definition as canonical JSON (for storing a service's own definition).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl Wording {
    /// The wording as canonical JSON (for storing).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

// ---- Parsing and validation ----

fn to_json_value(text: &str, format: Format) -> Result<serde_json::Value, Vec<LoadError>> {
    if text.len() > MAX_FILE_BYTES {
        return Err(vec![LoadError::new(
            "",
            format!(
                "the file is {} bytes; the most accepted is {MAX_FILE_BYTES}",
                text.len()
            ),
        )]);
    }
    if text.trim().is_empty() {
        return Err(vec![LoadError::new("", "the file is empty")]);
    }
    match format {
        Format::Json => serde_json::from_str::<serde_json::Value>(text).map_err(|e| {
            vec![LoadError::new(
                "",
                format!("not valid JSON (line {}, column {})", e.line(), e.column()),
            )]
        }),
        Format::Toml => {
            let table: toml::Table = toml::from_str(text).map_err(|e| {
                let at = e
                    .span()
                    .map(|s| {
                        let line = text[..s.start.min(text.len())].matches('\n').count() + 1;
                        format!(" (line {line})")
                    })
                    .unwrap_or_default();
                vec![LoadError::new(
                    "",
                    format!("not valid TOML{at}: {}", e.message().trim()),
                )]
            })?;
            serde_json::to_value(&table).map_err(|_| {
                vec![LoadError::new(
                    "",
                    "the file holds values that cannot be read",
                )]
            })
        }
    }
}

/// A path as serde_path_to_error gives it, in the form used everywhere here (`items[2].scale`).
fn path_string(path: &serde_path_to_error::Path) -> String {
    let s = path.to_string();
    if s == "." { String::new() } else { s }
}

fn deserialize<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
) -> Result<T, Vec<LoadError>> {
    serde_path_to_error::deserialize::<_, T>(value).map_err(|e| {
        let mut path = path_string(e.path());
        let message = e.inner().to_string();
        // A missing field is named by its own path, not its parent's.
        if let Some(field) = message
            .strip_prefix("missing field `")
            .and_then(|m| m.split('`').next())
        {
            path = if path.is_empty() {
                field.to_owned()
            } else {
                format!("{path}.{field}")
            };
        }
        // serde_json's messages end with " at line 0 column 0" for a value source: drop it.
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or(&message)
            .to_owned();
        vec![LoadError::new(path, message)]
    })
}

/// Keys in the file that the definition does not know (a misspelt `reversed` must not pass
/// silently): whatever the parsed value, written back, does not carry.
fn unknown_keys(
    original: &serde_json::Value,
    parsed: &serde_json::Value,
    path: &str,
    out: &mut Vec<LoadError>,
) {
    use serde_json::Value;
    match (original, parsed) {
        (Value::Object(o), Value::Object(p)) => {
            for (k, v) in o {
                let here = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match p.get(k) {
                    Some(pv) => unknown_keys(v, pv, &here, out),
                    None => out.push(LoadError::new(here, "unknown key")),
                }
            }
        }
        (Value::Array(o), Value::Array(p)) => {
            for (i, (v, pv)) in o.iter().zip(p).enumerate() {
                unknown_keys(v, pv, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && s.len() <= MAX_ID_CHARS
}

fn check_identifier(errors: &mut Vec<LoadError>, path: &str, s: &str) {
    if !is_identifier(s) {
        errors.push(LoadError::new(
            path,
            format!(
                "must start with a lowercase letter and hold only lowercase letters, digits, '-' and '_' (at most {MAX_ID_CHARS})"
            ),
        ));
    }
}

fn has_control(s: &str) -> bool {
    s.chars().any(|c| c.is_control() && c != '\n' && c != '\t')
}

fn check_text(
    errors: &mut Vec<LoadError>,
    path: &str,
    s: &str,
    required: bool,
    max: usize,
    multiline: bool,
) {
    if required && s.trim().is_empty() {
        errors.push(LoadError::new(path, "must not be empty"));
    }
    let n = s.chars().count();
    if n > max {
        errors.push(LoadError::new(
            path,
            format!("is {n} characters; the most is {max}"),
        ));
    }
    let bad = if multiline {
        has_control(s)
    } else {
        s.chars().any(char::is_control)
    };
    if bad {
        errors.push(LoadError::new(path, "holds control characters"));
    }
}

fn check_number(errors: &mut Vec<LoadError>, path: &str, v: f64) -> bool {
    if v.is_finite() {
        true
    } else {
        errors.push(LoadError::new(path, "must be a finite number"));
        false
    }
}

fn check_band(errors: &mut Vec<LoadError>, path: &str, band: &Band) {
    for (name, age) in [("min_age", band.min_age), ("max_age", band.max_age)] {
        if age.is_some_and(|a| a > MAX_AGE) {
            errors.push(LoadError::new(
                format!("{path}.{name}"),
                format!("must be at most {MAX_AGE}"),
            ));
        }
    }
    if let (Some(a), Some(b)) = (band.min_age, band.max_age)
        && a > b
    {
        errors.push(LoadError::new(
            format!("{path}.min_age"),
            format!("the band's min_age ({a}) is above its max_age ({b})"),
        ));
    }
}

/// Parses and validates a measure definition, treating the text as hostile: every problem is
/// collected with its path (`items[2].scale`), and nothing is returned unless all pass.
pub fn parse_definition(text: &str, format: Format) -> Result<Definition, Vec<LoadError>> {
    let value = to_json_value(text, format)?;
    let def: Definition = deserialize(value.clone())?;
    let mut errors = Vec::new();
    if let Ok(back) = serde_json::to_value(&def) {
        unknown_keys(&value, &back, "", &mut errors);
    }
    errors.extend(validate(&def));
    if errors.is_empty() {
        Ok(def)
    } else {
        Err(errors)
    }
}

/// Every problem in a definition, with its path; empty when it is sound.
pub fn validate(def: &Definition) -> Vec<LoadError> {
    let mut e = Vec::new();
    check_identifier(&mut e, "id", &def.id);
    if def.version == 0 || def.version > MAX_VERSION {
        e.push(LoadError::new(
            "version",
            format!("must be from 1 to {MAX_VERSION}"),
        ));
    }
    check_text(&mut e, "name", &def.name, true, MAX_NAME_CHARS, false);
    check_band(
        &mut e,
        "",
        &Band {
            min_age: def.min_age,
            max_age: def.max_age,
            sex: None,
        },
    );
    // check_band names ".min_age" for the top level: fix the path.
    for err in &mut e {
        if let Some(rest) = err.path.strip_prefix('.') {
            err.path = rest.to_owned();
        }
    }
    check_text(&mut e, "note", &def.note, false, MAX_NOTE_CHARS, true);
    if let Some(why) = &def.withheld {
        check_text(&mut e, "withheld", why, true, MAX_TEXT_CHARS, false);
    }
    if !def.validated && def.note.trim().is_empty() {
        e.push(LoadError::new(
            "note",
            "a measure that is not validated must say how it was designed and checked",
        ));
    }
    if def.self_report_caution_under.is_some_and(|a| a > MAX_AGE) {
        e.push(LoadError::new(
            "self_report_caution_under",
            format!("must be at most {MAX_AGE}"),
        ));
    }
    if def.self_report_caution_under.is_some() && def.respondent != Respondent::Child {
        e.push(LoadError::new(
            "self_report_caution_under",
            "applies only to a measure the child answers",
        ));
    }

    let shipped_words = def.licence.wording_shipped;

    // Scales.
    if def.scales.is_empty() {
        e.push(LoadError::new("scales", "at least one scale is needed"));
    }
    if def.scales.len() > MAX_SCALES {
        e.push(LoadError::new(
            "scales",
            format!("{} scales; the most is {MAX_SCALES}", def.scales.len()),
        ));
    }
    for (key, scale) in &def.scales {
        let path = format!("scales.{key}");
        check_identifier(&mut e, &path, key);
        match scale {
            ResponseScale::Faces { choices } | ResponseScale::Likert { choices } => {
                if choices.len() < 2 || choices.len() > MAX_CHOICES {
                    e.push(LoadError::new(
                        format!("{path}.choices"),
                        format!("{} choices; give 2 to {MAX_CHOICES}", choices.len()),
                    ));
                }
                let mut seen = std::collections::BTreeSet::new();
                for (i, c) in choices.iter().enumerate() {
                    let cp = format!("{path}.choices[{i}]");
                    if c.value.unsigned_abs() > MAX_ABS_VALUE.unsigned_abs() {
                        e.push(LoadError::new(
                            format!("{cp}.value"),
                            format!("must be from -{MAX_ABS_VALUE} to {MAX_ABS_VALUE}"),
                        ));
                    }
                    if !seen.insert(c.value) {
                        e.push(LoadError::new(
                            format!("{cp}.value"),
                            format!("the value {} is offered twice", c.value),
                        ));
                    }
                    if shipped_words {
                        check_text(
                            &mut e,
                            &format!("{cp}.label"),
                            &c.label,
                            true,
                            MAX_TEXT_CHARS,
                            false,
                        );
                    } else if !c.label.is_empty() {
                        e.push(LoadError::new(
                            format!("{cp}.label"),
                            "the wording is not shipped (licence.wording_shipped = false), so labels stay empty: a licensed service loads them",
                        ));
                    }
                }
            }
            ResponseScale::Line {
                min,
                max,
                low,
                high,
            } => {
                if min.unsigned_abs() > MAX_ABS_VALUE.unsigned_abs()
                    || max.unsigned_abs() > MAX_ABS_VALUE.unsigned_abs()
                {
                    e.push(LoadError::new(
                        format!("{path}.min"),
                        format!("the ends must be from -{MAX_ABS_VALUE} to {MAX_ABS_VALUE}"),
                    ));
                } else if min >= max {
                    e.push(LoadError::new(
                        format!("{path}.min"),
                        format!("min ({min}) must be below max ({max})"),
                    ));
                } else if i64::from(*max) - i64::from(*min) + 1 > i64::from(MAX_LINE_POINTS) {
                    e.push(LoadError::new(
                        format!("{path}.max"),
                        format!("a line offers at most {MAX_LINE_POINTS} points, each a target"),
                    ));
                }
                for (name, s) in [("low", low), ("high", high)] {
                    if shipped_words {
                        check_text(
                            &mut e,
                            &format!("{path}.{name}"),
                            s,
                            false,
                            MAX_TEXT_CHARS,
                            false,
                        );
                    } else if !s.is_empty() {
                        e.push(LoadError::new(
                            format!("{path}.{name}"),
                            "the wording is not shipped (licence.wording_shipped = false), so the line's ends stay unlabelled: a licensed service loads them",
                        ));
                    }
                }
            }
        }
    }

    // Items.
    if def.goal_based {
        if !def.items.is_empty() {
            e.push(LoadError::new(
                "items",
                "a goal-based measure has no fixed items: the child's own goals are rated",
            ));
        }
        if def.scales.len() != 1 {
            e.push(LoadError::new(
                "scales",
                "a goal-based measure has exactly one scale, on which each goal is rated",
            ));
        }
    } else if def.items.is_empty() {
        e.push(LoadError::new("items", "at least one item is needed"));
    }
    if def.items.len() > MAX_ITEMS {
        e.push(LoadError::new(
            "items",
            format!("{} items; the most is {MAX_ITEMS}", def.items.len()),
        ));
    }
    let mut ids = std::collections::BTreeMap::new();
    for (i, item) in def.items.iter().enumerate() {
        let path = format!("items[{i}]");
        check_identifier(&mut e, &format!("{path}.id"), &item.id);
        if let Some(first) = ids.insert(item.id.as_str(), i) {
            e.push(LoadError::new(
                format!("{path}.id"),
                format!("the id '{}' is used by items[{first}] too", item.id),
            ));
        }
        match (&item.text, shipped_words) {
            (Some(t), true) => check_text(&mut e, &format!("{path}.text"), t, true, MAX_TEXT_CHARS, false),
            (None, true) => e.push(LoadError::new(
                format!("{path}.text"),
                "missing: the wording is shipped (licence.wording_shipped = true), so every item has its text",
            )),
            (Some(_), false) => e.push(LoadError::new(
                format!("{path}.text"),
                "the wording is not shipped (licence.wording_shipped = false), so no item carries text: a licensed service loads it",
            )),
            (None, false) => {}
        }
        if !def.scales.contains_key(&item.scale) {
            e.push(LoadError::new(
                format!("{path}.scale"),
                format!("no scale is called '{}'", item.scale),
            ));
        }
        if let Some(s) = &item.subscale {
            check_identifier(&mut e, &format!("{path}.subscale"), s);
        }
    }

    if !def.goal_based {
        for key in def.scales.keys() {
            if !def.items.iter().any(|i| &i.scale == key) {
                e.push(LoadError::new(
                    format!("scales.{key}"),
                    "no item uses this scale",
                ));
            }
        }
    }

    // Scoring.
    let sc = &def.scoring;
    let n = u32::try_from(def.items.len()).unwrap_or(u32::MAX);
    let finite_min = check_number(&mut e, "scoring.total_min", sc.total_min);
    let finite_max = check_number(&mut e, "scoring.total_max", sc.total_max);
    let range_ok = finite_min && finite_max && sc.total_min < sc.total_max;
    if finite_min && finite_max && sc.total_min >= sc.total_max {
        e.push(LoadError::new(
            "scoring.total_min",
            format!(
                "total_min ({}) must be below total_max ({})",
                sc.total_min, sc.total_max
            ),
        ));
    }
    if !def.goal_based && n > 0 {
        if sc.max_missing >= n {
            e.push(LoadError::new(
                "scoring.max_missing",
                format!("must be below the number of items ({n})"),
            ));
        }
        if sc.max_missing > 0 && sc.method == Method::Sum && !sc.prorate {
            e.push(LoadError::new(
                "scoring.prorate",
                "a sum with missing items allowed must be prorated (missing items are never scored as 0)",
            ));
        }
        // The total's range must be the one the items give.
        let bounds: Option<Vec<(i32, i32)>> = def
            .items
            .iter()
            .map(|i| def.scales.get(&i.scale).map(ResponseScale::bounds))
            .collect();
        if let (Some(bounds), true) = (bounds, finite_min && finite_max) {
            let lo: f64 = bounds.iter().map(|b| f64::from(b.0)).sum();
            let hi: f64 = bounds.iter().map(|b| f64::from(b.1)).sum();
            let (lo, hi) = match sc.method {
                Method::Sum => (lo, hi),
                Method::Mean => (lo / f64::from(n), hi / f64::from(n)),
            };
            if (lo - sc.total_min).abs() > 1e-9 || (hi - sc.total_max).abs() > 1e-9 {
                e.push(LoadError::new(
                    "scoring.total_min",
                    format!(
                        "the items give a total from {} to {}, not {} to {}",
                        fmt_num(lo),
                        fmt_num(hi),
                        fmt_num(sc.total_min),
                        fmt_num(sc.total_max)
                    ),
                ));
            }
        }
    }
    if def.goal_based {
        if sc.method != Method::Mean {
            e.push(LoadError::new(
                "scoring.method",
                "a goal-based measure is scored as the mean of the goals' ratings",
            ));
        }
        if let Some(scale) = def.goal_scale() {
            let (lo, hi) = scale.bounds();
            if finite_min
                && finite_max
                && ((f64::from(lo) - sc.total_min).abs() > 1e-9
                    || (f64::from(hi) - sc.total_max).abs() > 1e-9)
            {
                e.push(LoadError::new(
                    "scoring.total_min",
                    format!("the scale gives a total from {lo} to {hi}"),
                ));
            }
        }
    }

    // Cut-offs and reliable change.
    for (name, len) in [
        ("cutoffs", def.cutoffs.len()),
        ("reliable_change", def.reliable_change.len()),
    ] {
        if len > MAX_TABLE_ROWS {
            e.push(LoadError::new(
                name,
                format!("{len} rows; the most is {MAX_TABLE_ROWS}"),
            ));
        }
    }
    for (i, c) in def.cutoffs.iter().enumerate() {
        let path = format!("cutoffs[{i}]");
        check_band(&mut e, &path, &c.band);
        if check_number(&mut e, &format!("{path}.value"), c.value)
            && range_ok
            && (c.value < sc.total_min || c.value > sc.total_max)
        {
            e.push(LoadError::new(
                format!("{path}.value"),
                format!(
                    "{} is outside the total range ({} to {})",
                    fmt_num(c.value),
                    fmt_num(sc.total_min),
                    fmt_num(sc.total_max)
                ),
            ));
        }
        check_text(
            &mut e,
            &format!("{path}.source"),
            &c.source,
            true,
            MAX_TEXT_CHARS,
            false,
        );
        if let Some(j) = def.cutoffs[..i]
            .iter()
            .position(|o| o.band.overlaps(&c.band))
        {
            e.push(LoadError::new(
                path.clone(),
                format!(
                    "its band overlaps cutoffs[{j}]'s without one lying inside the other: one person would have two cut-offs"
                ),
            ));
        }
    }
    for (i, r) in def.reliable_change.iter().enumerate() {
        let path = format!("reliable_change[{i}]");
        check_band(&mut e, &path, &r.band);
        if check_number(&mut e, &format!("{path}.value"), r.value)
            && range_ok
            && (r.value <= 0.0 || r.value > sc.total_max - sc.total_min)
        {
            e.push(LoadError::new(
                format!("{path}.value"),
                format!(
                    "must be above 0 and at most the total's span ({})",
                    fmt_num(sc.total_max - sc.total_min)
                ),
            ));
        }
        check_text(
            &mut e,
            &format!("{path}.source"),
            &r.source,
            true,
            MAX_TEXT_CHARS,
            false,
        );
        if let Some(j) = def.reliable_change[..i]
            .iter()
            .position(|o| o.band.overlaps(&r.band))
        {
            e.push(LoadError::new(
                path.clone(),
                format!(
                    "its band overlaps reliable_change[{j}]'s: one person would have two values"
                ),
            ));
        }
    }

    // Rupture parameters.
    if let Some(r) = &def.rupture {
        let span = sc.total_max - sc.total_min;
        if let Some(d) = r.drop
            && check_number(&mut e, "rupture.drop", d)
            && range_ok
            && (d <= 0.0 || d > span)
        {
            e.push(LoadError::new(
                "rupture.drop",
                format!(
                    "must be above 0 and at most the total's span ({})",
                    fmt_num(span)
                ),
            ));
        }
        if r.min_sessions < 2 || r.min_sessions > 50 {
            e.push(LoadError::new(
                "rupture.min_sessions",
                "must be from 2 to 50",
            ));
        }
        let amber = check_number(&mut e, "rupture.amber_sd", r.amber_sd);
        let red = check_number(&mut e, "rupture.red_sd", r.red_sd);
        if amber && (r.amber_sd <= 0.0 || r.amber_sd > 10.0) {
            e.push(LoadError::new(
                "rupture.amber_sd",
                "must be above 0 and at most 10",
            ));
        }
        if amber && red && r.red_sd < r.amber_sd {
            e.push(LoadError::new(
                "rupture.red_sd",
                "must be at least amber_sd (red is the stricter threshold)",
            ));
        }
        if red && r.red_sd > 10.0 {
            e.push(LoadError::new("rupture.red_sd", "must be at most 10"));
        }
        if check_number(&mut e, "rupture.sd_floor", r.sd_floor)
            && range_ok
            && (r.sd_floor <= 0.0 || r.sd_floor > span)
        {
            e.push(LoadError::new(
                "rupture.sd_floor",
                format!(
                    "must be above 0 and at most the total's span ({})",
                    fmt_num(span)
                ),
            ));
        }
    }

    // Licence.
    let l = &def.licence;
    check_text(&mut e, "licence.name", &l.name, true, MAX_NAME_CHARS, false);
    check_text(
        &mut e,
        "licence.holder",
        &l.holder,
        true,
        MAX_NAME_CHARS,
        false,
    );
    if let Some(a) = &l.attribution {
        check_text(
            &mut e,
            "licence.attribution",
            a,
            true,
            MAX_TEXT_CHARS,
            false,
        );
    }
    if let Some(u) = &l.url {
        check_text(&mut e, "licence.url", u, true, MAX_TEXT_CHARS, false);
        if !(u.starts_with("https://") || u.starts_with("http://"))
            || u.contains(char::is_whitespace)
        {
            e.push(LoadError::new(
                "licence.url",
                "must be an http or https address",
            ));
        }
    }
    e
}

/// A number for messages and screens: whole numbers without a decimal point.
pub fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e12 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// Parses and validates a licensed service's wording for `def`: the text of every item, and
/// the labels of every faces or Likert scale (a line's two ends, low then high, may be given).
/// Every problem is collected with its path.
pub fn parse_wording(
    text: &str,
    format: Format,
    def: &Definition,
) -> Result<Wording, Vec<LoadError>> {
    let value = to_json_value(text, format)?;
    let w: Wording = deserialize(value.clone())?;
    let mut e = Vec::new();
    if let Ok(back) = serde_json::to_value(&w) {
        unknown_keys(&value, &back, "", &mut e);
    }
    if def.licence.wording_shipped {
        e.push(LoadError::new(
            "",
            format!("{} ships its own wording; none is loaded for it", def.id),
        ));
    }
    if w.measure != def.id {
        e.push(LoadError::new(
            "measure",
            format!("is '{}', not '{}'", w.measure, def.id),
        ));
    }
    if w.version != def.version {
        e.push(LoadError::new(
            "version",
            format!("is {}, not {}", w.version, def.version),
        ));
    }
    for item in &def.items {
        if !w.items.contains_key(&item.id) {
            e.push(LoadError::new(
                format!("items.{}", item.id),
                "missing: every item needs its text",
            ));
        }
    }
    for (id, t) in &w.items {
        let path = format!("items.{id}");
        if def.items.iter().any(|i| &i.id == id) {
            check_text(&mut e, &path, t, true, MAX_TEXT_CHARS, false);
        } else {
            e.push(LoadError::new(path, "the measure has no item with this id"));
        }
    }
    for (key, scale) in &def.scales {
        if matches!(
            scale,
            ResponseScale::Faces { .. } | ResponseScale::Likert { .. }
        ) && !w.choices.contains_key(key)
        {
            e.push(LoadError::new(
                format!("choices.{key}"),
                "missing: every choice needs its label",
            ));
        }
    }
    for (key, labels) in &w.choices {
        let path = format!("choices.{key}");
        let want = match def.scales.get(key) {
            None => {
                e.push(LoadError::new(
                    path,
                    "the measure has no scale with this key",
                ));
                continue;
            }
            Some(ResponseScale::Faces { choices } | ResponseScale::Likert { choices }) => {
                choices.len()
            }
            Some(ResponseScale::Line { .. }) => 2,
        };
        if labels.len() != want {
            e.push(LoadError::new(
                path.clone(),
                format!("{} labels; the scale needs {want}", labels.len()),
            ));
        }
        for (i, l) in labels.iter().enumerate() {
            check_text(
                &mut e,
                &format!("{path}[{i}]"),
                l,
                true,
                MAX_TEXT_CHARS,
                false,
            );
        }
    }
    if e.is_empty() { Ok(w) } else { Err(e) }
}

// ---- Scoring ----

impl std::fmt::Display for NotScored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotScored::TooManyMissing { missing, allowed } => write!(
                f,
                "not scored: {missing} item(s) unanswered, and at most {allowed} may be"
            ),
            NotScored::UnknownItem(id) => write!(f, "not scored: the measure has no item '{id}'"),
            NotScored::OutOfRange { item, value } => {
                write!(
                    f,
                    "not scored: {value} is not an answer item '{item}' offers"
                )
            }
        }
    }
}

fn combine(method: Method, values: &[f64], count: usize) -> f64 {
    let sum: f64 = values.iter().sum();
    let mean = sum / values.len() as f64;
    match method {
        Method::Mean => mean,
        Method::Sum if values.len() == count => sum,
        // Prorated: the mean of the answered items times the number of items.
        Method::Sum => mean * count as f64,
    }
}

/// Scores a response. Reversed items count from the other end (`max + min - value`); a sum
/// with items missing (up to `max_missing`) is prorated; more missing and the response is not
/// scored at all (never scored as 0). An unknown item or a value the item does not offer is
/// refused. A goal-based measure's answers are the goals' ratings (any ids), scored as their
/// mean.
pub fn score(def: &Definition, answers: &Answers) -> Result<Score, NotScored> {
    if def.goal_based {
        let Some(scale) = def.goal_scale() else {
            return Err(NotScored::TooManyMissing {
                missing: 1,
                allowed: 0,
            });
        };
        for (id, v) in answers {
            if !scale.accepts(*v) {
                return Err(NotScored::OutOfRange {
                    item: id.clone(),
                    value: *v,
                });
            }
        }
        if answers.is_empty() {
            return Err(NotScored::TooManyMissing {
                missing: 1,
                allowed: 0,
            });
        }
        let values: Vec<f64> = answers.values().map(|v| f64::from(*v)).collect();
        return Ok(Score {
            total: combine(Method::Mean, &values, values.len()),
            subscales: BTreeMap::new(),
            answered: u32::try_from(values.len()).unwrap_or(u32::MAX),
            missing: 0,
            prorated: false,
        });
    }
    for (id, v) in answers {
        let Some(item) = def.items.iter().find(|i| &i.id == id) else {
            return Err(NotScored::UnknownItem(id.clone()));
        };
        let ok = def.scales.get(&item.scale).is_some_and(|s| s.accepts(*v));
        if !ok {
            return Err(NotScored::OutOfRange {
                item: id.clone(),
                value: *v,
            });
        }
    }
    let scored = |items: &[&Item]| -> Vec<f64> {
        items
            .iter()
            .filter_map(|item| {
                let v = *answers.get(&item.id)?;
                let (lo, hi) = def.scales.get(&item.scale).map(ResponseScale::bounds)?;
                Some(f64::from(if item.reversed { hi + lo - v } else { v }))
            })
            .collect()
    };
    let all: Vec<&Item> = def.items.iter().collect();
    let values = scored(&all);
    let n = all.len();
    let answered = u32::try_from(values.len()).unwrap_or(u32::MAX);
    let missing = u32::try_from(n - values.len()).unwrap_or(u32::MAX);
    let allowed = def.scoring.max_missing;
    if values.is_empty() || missing > allowed {
        return Err(NotScored::TooManyMissing {
            missing,
            allowed: allowed.min(u32::try_from(n).unwrap_or(u32::MAX).saturating_sub(1)),
        });
    }
    let total = combine(def.scoring.method, &values, n);
    let mut subscales = BTreeMap::new();
    let mut names: Vec<&str> = def
        .items
        .iter()
        .filter_map(|i| i.subscale.as_deref())
        .collect();
    names.sort_unstable();
    names.dedup();
    for name in names {
        let items: Vec<&Item> = def
            .items
            .iter()
            .filter(|i| i.subscale.as_deref() == Some(name))
            .collect();
        let v = scored(&items);
        let sub_missing = u32::try_from(items.len() - v.len()).unwrap_or(u32::MAX);
        // A subscale is left out, never scored as 0, when too many of its items are missing.
        if !v.is_empty() && sub_missing <= allowed {
            subscales.insert(
                name.to_owned(),
                combine(def.scoring.method, &v, items.len()),
            );
        }
    }
    Ok(Score {
        total,
        subscales,
        answered,
        missing,
        prorated: missing > 0,
    })
}

// ---- Shipped definitions ----

/// The definition files Alliance ships, by file name.
pub const SHIPPED_FILES: &[(&str, &str)] = &[
    (
        "alliance-checkin-young.toml",
        include_str!("../data/measures/alliance-checkin-young.toml"),
    ),
    (
        "alliance-checkin-teen.toml",
        include_str!("../data/measures/alliance-checkin-teen.toml"),
    ),
    (
        "alliance-checkin-carer.toml",
        include_str!("../data/measures/alliance-checkin-carer.toml"),
    ),
    (
        "alliance-therapist-rating.toml",
        include_str!("../data/measures/alliance-therapist-rating.toml"),
    ),
    ("gbo.toml", include_str!("../data/measures/gbo.toml")),
    (
        "yp-core.toml",
        include_str!("../data/measures/yp-core.toml"),
    ),
    ("srs.toml", include_str!("../data/measures/srs.toml")),
    ("csrs.toml", include_str!("../data/measures/csrs.toml")),
    ("ors.toml", include_str!("../data/measures/ors.toml")),
    ("cors.toml", include_str!("../data/measures/cors.toml")),
    ("tasc-r.toml", include_str!("../data/measures/tasc-r.toml")),
    ("wai-sr.toml", include_str!("../data/measures/wai-sr.toml")),
];

/// The definitions Alliance ships, each validated (a unit test loads them all; a file that
/// fails is left out rather than taking the service down).
pub fn shipped() -> &'static [Definition] {
    static SHIPPED: std::sync::OnceLock<Vec<Definition>> = std::sync::OnceLock::new();
    SHIPPED.get_or_init(|| {
        SHIPPED_FILES
            .iter()
            .filter_map(|(_, text)| parse_definition(text, Format::Toml).ok())
            .collect()
    })
}

/// A shipped definition by id and version.
pub fn shipped_definition(id: &str, version: u32) -> Option<&'static Definition> {
    shipped()
        .iter()
        .find(|d| d.id == id && d.version == version)
}

#[cfg(test)]
mod tests;
