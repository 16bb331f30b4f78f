//! Retention per child and record class (policy section 5): the date each class may be
//! destroyed, from the service's policies (shipped as data with their sources). Pure rules.
//!
//! The rules and their sources are `data/retention/policies.toml` (clinical-facts section
//! 6.1); the figures there are defaults a service may change ([`Settings`], a settings
//! document). Each date is worked out afresh from the child's facts as they stand (a
//! re-referral opens a new case, which puts the clinical date off again), and carries the rule
//! that gave it, in plain words, with its sources.
//!
//! - Clinical records: the later of the children's rule (a) and the mental-health rule (b),
//!   unless the service picks one; after a death, rule (e) instead. Process notes follow the
//!   clinical rule.
//! - Safeguarding records: date of birth + 25 years, then review (c); 75 years (d) when a
//!   concern records sexual abuse or exploitation, or the DSL flags the child.
//!
//! Who may see and do what here is decided in this module too ([`reach`], [`may_request`],
//! [`approval`]): safeguarding-driven dates reach only the DSL and deputies.

use crate::crypto::RecordClass;
use crate::error::{Invalid, Validator, parse_text};
use crate::identity::{Role, User, UserId};
use crate::uk;
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// The record classes retention applies to. A child's identity is kept as long as any other
/// class is.
pub const CLASSES: [RecordClass; 3] = [
    RecordClass::Clinical,
    RecordClass::ProcessNotes,
    RecordClass::Safeguarding,
];

/// A class as typed (`clinical`, `process-notes`, `safeguarding`); identity is refused.
pub fn parse_class(code: &str) -> Result<RecordClass, String> {
    CLASSES
        .into_iter()
        .find(|c| c.code() == code.trim())
        .ok_or_else(|| "Choose the clinical record, process notes or safeguarding records".into())
}

/// The class in words.
pub fn class_label(class: RecordClass) -> &'static str {
    match class {
        RecordClass::Identity => "Identity and carers",
        RecordClass::Clinical => "Clinical record",
        RecordClass::ProcessNotes => "Process notes",
        RecordClass::Safeguarding => "Safeguarding records",
    }
}

// ----- the policies (data) -----

/// The figures of the rules: the shipped defaults, or the service's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Figures {
    /// (a) Kept until this birthday...
    pub children_birthday: u32,
    /// ...or this one, for a young person `children_extended_age` on the day the last episode
    /// ended.
    pub children_extended_birthday: u32,
    pub children_extended_age: u32,
    /// Someone this old or older when the last episode ended has an adult's record, kept
    /// `adult_years` after the end.
    pub adult_age: u32,
    pub adult_years: u32,
    /// (b) Years after the last episode ended.
    pub mental_health_years: u32,
    /// (e) Years after a death; for mental-health records, `death_mental_health_years`.
    pub death_years: u32,
    pub death_mental_health_years: u32,
    /// (c) Safeguarding records: until this birthday, then review.
    pub safeguarding_birthday: u32,
    /// (d) Years after the latest safeguarding record.
    pub abuse_years: u32,
}

impl Figures {
    /// Each figure within sensible bounds, and the ages in order; every fault named.
    pub fn check(&self) -> Result<(), Invalid> {
        let mut v = Validator::new();
        for (field, n, low, high) in [
            ("children_birthday", self.children_birthday, 18, 30),
            (
                "children_extended_birthday",
                self.children_extended_birthday,
                18,
                30,
            ),
            ("children_extended_age", self.children_extended_age, 10, 25),
            ("adult_age", self.adult_age, 16, 25),
            ("adult_years", self.adult_years, 1, 100),
            ("mental_health_years", self.mental_health_years, 1, 100),
            ("death_years", self.death_years, 1, 100),
            (
                "death_mental_health_years",
                self.death_mental_health_years,
                1,
                100,
            ),
            ("safeguarding_birthday", self.safeguarding_birthday, 18, 100),
            ("abuse_years", self.abuse_years, 1, 100),
        ] {
            if !(low..=high).contains(&n) {
                v.check::<()>(field, Err(format!("Between {low} and {high}")));
            }
        }
        if self.children_extended_birthday < self.children_birthday {
            v.check::<()>(
                "children_extended_birthday",
                Err("Not before the children's birthday".to_owned()),
            );
        }
        if self.adult_age <= self.children_extended_age {
            v.check::<()>(
                "adult_age",
                Err("Older than the age that extends the children's rule".to_owned()),
            );
        }
        v.finish()
    }
}

/// A source a rule rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub title: String,
    pub url: String,
}

/// Which rule gave a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleId {
    /// (a) Children's records.
    Children,
    /// (b) Mental-health records.
    MentalHealth,
    /// (e) After a death.
    Death,
    /// A case is open: no date yet.
    OpenCase,
    /// No case was ever opened: no date yet.
    NoCase,
    /// (c) Safeguarding records, then review.
    Safeguarding,
    /// (d) Child sexual abuse or exploitation: 75 years.
    #[serde(rename = "abuse-75")]
    Abuse75,
}

impl RuleId {
    pub const ALL: [RuleId; 7] = [
        RuleId::Children,
        RuleId::MentalHealth,
        RuleId::Death,
        RuleId::OpenCase,
        RuleId::NoCase,
        RuleId::Safeguarding,
        RuleId::Abuse75,
    ];

    pub fn code(self) -> &'static str {
        match self {
            RuleId::Children => "children",
            RuleId::MentalHealth => "mental-health",
            RuleId::Death => "death",
            RuleId::OpenCase => "open-case",
            RuleId::NoCase => "no-case",
            RuleId::Safeguarding => "safeguarding",
            RuleId::Abuse75 => "abuse-75",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|r| r.code() == code)
            .ok_or_else(|| format!("unknown retention rule {code:?}"))
    }

    /// Whether the rule is driven by safeguarding information (shown only to the DSL).
    pub fn is_safeguarding(self) -> bool {
        matches!(self, RuleId::Safeguarding | RuleId::Abuse75)
    }
}

/// A rule's words and sources, as the data file gives them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleText {
    pub code: String,
    pub name: String,
    pub summary: String,
    #[serde(default)]
    pub note: String,
    pub sources: Vec<Source>,
}

/// The shipped policies: the default figures and every rule's words and sources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policies {
    pub figures: Figures,
    rules: Vec<(RuleId, RuleText)>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    figures: Figures,
    rule: Vec<RuleText>,
}

impl Policies {
    /// The policies shipped with Alliance, checked.
    pub fn shipped() -> Result<Self, String> {
        Self::parse(include_str!("../data/retention/policies.toml"))
    }

    /// Reads and checks a policies file: the figures within bounds, every rule present once,
    /// each with a name, words and at least one `https` source.
    pub fn parse(text: &str) -> Result<Self, String> {
        let file: PolicyFile = toml::from_str(text).map_err(|e| e.to_string())?;
        file.figures.check().map_err(|invalid| {
            invalid
                .errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; ")
        })?;
        let mut rules: Vec<(RuleId, RuleText)> = Vec::new();
        for text in file.rule {
            let id = RuleId::parse(&text.code)?;
            if rules.iter().any(|(r, _)| *r == id) {
                return Err(format!("rule {} is listed twice", text.code));
            }
            if text.name.trim().is_empty() || text.summary.trim().is_empty() {
                return Err(format!("rule {} needs a name and a summary", text.code));
            }
            if text.sources.is_empty() {
                return Err(format!("rule {} needs a source", text.code));
            }
            if let Some(bad) = text
                .sources
                .iter()
                .find(|s| !s.url.starts_with("https://") || s.title.trim().is_empty())
            {
                return Err(format!(
                    "rule {}: a source needs a title and an https address ({})",
                    text.code, bad.url
                ));
            }
            rules.push((id, text));
        }
        if let Some(missing) = RuleId::ALL
            .into_iter()
            .find(|id| !rules.iter().any(|(r, _)| r == id))
        {
            return Err(format!("rule {} is missing", missing.code()));
        }
        Ok(Self {
            figures: file.figures,
            rules,
        })
    }

    /// A rule's words and sources.
    pub fn text(&self, rule: RuleId) -> &RuleText {
        // `parse` refuses a file without every rule.
        self.rules
            .iter()
            .find(|(r, _)| *r == rule)
            .map(|(_, t)| t)
            .unwrap_or(&self.rules[0].1)
    }

    /// Every rule with its words, in the file's order.
    pub fn rules(&self) -> impl Iterator<Item = (RuleId, &RuleText)> {
        self.rules.iter().map(|(id, t)| (*id, t))
    }
}

// ----- the service's settings -----

/// Which rule a child's clinical record follows: the code does not say which applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClinicalChoice {
    /// The later of the children's and the mental-health rules (the default).
    #[default]
    Later,
    /// The children's rule (a) only.
    Children,
    /// The mental-health rule (b) only.
    MentalHealth,
}

impl ClinicalChoice {
    pub const ALL: [ClinicalChoice; 3] = [
        ClinicalChoice::Later,
        ClinicalChoice::Children,
        ClinicalChoice::MentalHealth,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ClinicalChoice::Later => "later",
            ClinicalChoice::Children => "children",
            ClinicalChoice::MentalHealth => "mental-health",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ClinicalChoice::Later => {
                "The later of the children's and the mental-health rules (the default)"
            }
            ClinicalChoice::Children => "The children's rule only",
            ClinicalChoice::MentalHealth => "The mental-health rule only",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|c| c.code() == code.trim())
            .ok_or_else(|| "Choose which rule the clinical record follows".to_owned())
    }
}

/// The default cooling-off of a sole practitioner's own approval (policy section 1).
pub const DEFAULT_COOLING_OFF_HOURS: u32 = 24;

/// The service's retention settings: the figures, the clinical rule, and the sole
/// practitioner's cooling-off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub figures: Figures,
    #[serde(default)]
    pub clinical: ClinicalChoice,
    /// Hours a sole practitioner waits before approving their own request (policy section 1).
    pub cooling_off_hours: u32,
}

impl Settings {
    /// The shipped defaults.
    pub fn defaults(policies: &Policies) -> Self {
        Self {
            figures: policies.figures,
            clinical: ClinicalChoice::Later,
            cooling_off_hours: DEFAULT_COOLING_OFF_HOURS,
        }
    }

    pub fn check(&self) -> Result<(), Invalid> {
        let mut errors = match self.figures.check() {
            Ok(()) => Vec::new(),
            Err(invalid) => invalid.errors,
        };
        if !(1..=168).contains(&self.cooling_off_hours) {
            errors.push(crate::error::FieldError::new(
                "cooling_off_hours",
                "Between 1 and 168 hours (a week)",
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Invalid { errors })
        }
    }

    pub fn cooling_off(&self) -> SignedDuration {
        SignedDuration::from_hours(i64::from(self.cooling_off_hours))
    }
}

// ----- dates -----

/// The same day `years` on. A 29 February in a common year becomes 1 March: the later date,
/// so nothing is destroyed a day early. `None` past the calendar's end.
pub fn anniversary(date: Date, years: u32) -> Option<Date> {
    let year = i32::from(date.year()).checked_add(i32::try_from(years).ok()?)?;
    let year = i16::try_from(year).ok()?;
    match Date::new(year, date.month(), date.day()) {
        Ok(d) => Some(d),
        // Only 29 February fails, in a year without one.
        Err(_) => Date::new(year, 3, 1).ok(),
    }
}

/// Age in whole years on `on`; a 29 February birthday comes on 1 March in a common year.
pub fn age_on(date_of_birth: Date, on: Date) -> u32 {
    let mut years =
        u32::try_from(i32::from(on.year()) - i32::from(date_of_birth.year())).unwrap_or_default();
    while years > 0 && anniversary(date_of_birth, years).is_none_or(|d| d > on) {
        years -= 1;
    }
    years
}

// ----- the facts and the dates -----

/// Where the child's care stands: worked out from their cases as they are now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Episode {
    /// No case was ever opened.
    NoCase,
    /// A case is open (a re-referral included): no date yet.
    Open,
    /// Every case is closed; the newest closed on this day.
    Ended(Date),
}

/// What a child's retention is worked out from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    pub date_of_birth: Date,
    pub date_of_death: Option<Date>,
    pub episode: Episode,
    /// A concern about the child records sexual abuse or exploitation.
    pub abuse_category: bool,
    /// The DSL flagged the child's safeguarding records for the 75-year rule, on this day.
    pub dsl_flag: Option<Date>,
    /// The day of the latest safeguarding record (a concern, a step, an addendum).
    pub latest_safeguarding: Option<Date>,
}

/// A class's retention: until when, by which rule, why, and on what authority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retention {
    pub class: RecordClass,
    /// Kept until the end of this day; `None` while there is no date yet (a case is open).
    pub until: Option<Date>,
    pub rule: RuleId,
    /// The rule and the figures it was applied with, in plain words (dates as 31/12/2026).
    pub explanation: String,
    /// The sources of every rule the date rests on.
    pub sources: Vec<Source>,
    /// Safeguarding records are reviewed at their date rather than destroyed unseen.
    pub then_review: bool,
}

impl Retention {
    /// Whether the class is past its date on `today` (kept until the end of its day).
    pub fn is_past(&self, today: Date) -> bool {
        self.until.is_some_and(|until| until < today)
    }
}

fn years_word(n: u32) -> String {
    if n == 1 {
        "1 year".to_owned()
    } else {
        format!("{n} years")
    }
}

fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// A date that overflowed the calendar is kept for good (never destroyed by mistake).
fn far(date: Option<Date>) -> Date {
    date.unwrap_or(Date::MAX)
}

/// The children's rule (a) applied to a last episode that ended on `end`: the date, and why.
fn childrens_rule(f: &Figures, dob: Date, end: Date) -> (Date, String) {
    let age = age_on(dob, end);
    if age >= f.adult_age {
        let until = far(anniversary(end, f.adult_years));
        (
            until,
            format!(
                "the children's rule: {age} when the last episode ended on {}, so an adult's record, kept {} after the end ({})",
                uk::date(end),
                years_word(f.adult_years),
                uk::date(until)
            ),
        )
    } else if age >= f.children_extended_age {
        let until = far(anniversary(dob, f.children_extended_birthday));
        (
            until,
            format!(
                "the children's rule: {age} when the last episode ended on {}, so kept until the {} birthday ({})",
                uk::date(end),
                ordinal(f.children_extended_birthday),
                uk::date(until)
            ),
        )
    } else {
        let until = far(anniversary(dob, f.children_birthday));
        (
            until,
            format!(
                "the children's rule: {age} when the last episode ended on {}, so kept until the {} birthday ({})",
                uk::date(end),
                ordinal(f.children_birthday),
                uk::date(until)
            ),
        )
    }
}

fn mental_health_rule(f: &Figures, end: Date) -> (Date, String) {
    let until = far(anniversary(end, f.mental_health_years));
    (
        until,
        format!(
            "the mental-health rule: {} after the last episode ended on {} ({})",
            years_word(f.mental_health_years),
            uk::date(end),
            uk::date(until)
        ),
    )
}

fn sources_of(policies: &Policies, rules: &[RuleId]) -> Vec<Source> {
    let mut sources: Vec<Source> = Vec::new();
    for rule in rules {
        for s in &policies.text(*rule).sources {
            if !sources.iter().any(|x| x.url == s.url) {
                sources.push(s.clone());
            }
        }
    }
    sources
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().collect::<String>() + chars.as_str(),
        None => String::new(),
    }
}

/// The clinical record's retention (process notes follow it).
fn clinical(policies: &Policies, settings: &Settings, facts: &Facts) -> Retention {
    let f = &settings.figures;
    let class = RecordClass::Clinical;
    if let Some(death) = facts.date_of_death {
        let plain = far(anniversary(death, f.death_years));
        let mental = far(anniversary(death, f.death_mental_health_years));
        let (until, which) = match settings.clinical {
            ClinicalChoice::Later if mental >= plain => (
                mental,
                format!(
                    "the longer, mental-health, period of {}",
                    years_word(f.death_mental_health_years)
                ),
            ),
            ClinicalChoice::Later | ClinicalChoice::Children => (plain, years_word(f.death_years)),
            ClinicalChoice::MentalHealth => (
                mental,
                format!(
                    "the mental-health period of {}",
                    years_word(f.death_mental_health_years)
                ),
            ),
        };
        return Retention {
            class,
            until: Some(until),
            rule: RuleId::Death,
            explanation: format!(
                "Kept until {}: the child died on {}, and after a death the record is kept for {which} (this replaces the children's and mental-health rules).",
                uk::date(until),
                uk::date(death)
            ),
            sources: sources_of(policies, &[RuleId::Death]),
            then_review: false,
        };
    }
    let end = match facts.episode {
        Episode::Open => {
            return Retention {
                class,
                until: None,
                rule: RuleId::OpenCase,
                explanation: "Kept while a case is open: the date is worked out from the day the last case closes.".to_owned(),
                sources: sources_of(policies, &[RuleId::OpenCase]),
                then_review: false,
            };
        }
        Episode::NoCase => {
            return Retention {
                class,
                until: None,
                rule: RuleId::NoCase,
                explanation: "No case has been opened, so no episode of care has ended: there is no date to count from yet.".to_owned(),
                sources: sources_of(policies, &[RuleId::NoCase]),
                then_review: false,
            };
        }
        Episode::Ended(end) => end,
    };
    let (children_until, children_why) = childrens_rule(f, facts.date_of_birth, end);
    let (mental_until, mental_why) = mental_health_rule(f, end);
    let (until, rule, explanation, rules) = match settings.clinical {
        ClinicalChoice::Later => {
            let (until, rule) = if mental_until >= children_until {
                (mental_until, RuleId::MentalHealth)
            } else {
                (children_until, RuleId::Children)
            };
            (
                until,
                rule,
                format!(
                    "Kept until {}: the later of {children_why}, and {mental_why}. The code does not say which applies to a child's mental-health record, so the later is kept.",
                    uk::date(until)
                ),
                vec![RuleId::Children, RuleId::MentalHealth],
            )
        }
        ClinicalChoice::Children => (
            children_until,
            RuleId::Children,
            format!(
                "Kept until {}: {children_why} (the service follows the children's rule).",
                uk::date(children_until)
            ),
            vec![RuleId::Children],
        ),
        ClinicalChoice::MentalHealth => (
            mental_until,
            RuleId::MentalHealth,
            format!(
                "Kept until {}: {mental_why} (the service follows the mental-health rule).",
                uk::date(mental_until)
            ),
            vec![RuleId::MentalHealth],
        ),
    };
    Retention {
        class,
        until: Some(until),
        rule,
        explanation,
        sources: sources_of(policies, &rules),
        then_review: false,
    }
}

fn safeguarding(policies: &Policies, settings: &Settings, facts: &Facts) -> Retention {
    let f = &settings.figures;
    let class = RecordClass::Safeguarding;
    let review = far(anniversary(facts.date_of_birth, f.safeguarding_birthday));
    let anchor = facts.latest_safeguarding.or(facts.dsl_flag);
    let why = match (facts.abuse_category, facts.dsl_flag.is_some()) {
        (true, true) => {
            Some("a concern records sexual abuse or exploitation, and the DSL flagged the records")
        }
        (true, false) => Some("a concern records sexual abuse or exploitation"),
        (false, true) => Some("the DSL flagged the records for the 75-year rule"),
        (false, false) => None,
    };
    if let (Some(why), Some(anchor)) = (why, anchor) {
        let long = far(anniversary(anchor, f.abuse_years)).max(review);
        let from = if facts.latest_safeguarding.is_some() {
            format!("the latest safeguarding record ({})", uk::date(anchor))
        } else {
            format!(
                "the DSL's flag ({}), as there is no record yet",
                uk::date(anchor)
            )
        };
        return Retention {
            class,
            until: Some(long),
            rule: RuleId::Abuse75,
            explanation: format!(
                "Kept until {}: {why}, so kept {} from {from}.",
                uk::date(long),
                years_word(f.abuse_years)
            ),
            sources: sources_of(policies, &[RuleId::Abuse75, RuleId::Safeguarding]),
            then_review: false,
        };
    }
    Retention {
        class,
        until: Some(review),
        rule: RuleId::Safeguarding,
        explanation: format!(
            "Kept until {}, the {} birthday, then reviewed before anything is destroyed.",
            uk::date(review),
            ordinal(f.safeguarding_birthday)
        ),
        sources: sources_of(policies, &[RuleId::Safeguarding]),
        then_review: true,
    }
}

/// The retention of one class of a child's record.
pub fn retention(
    policies: &Policies,
    settings: &Settings,
    facts: &Facts,
    class: RecordClass,
) -> Retention {
    match class {
        RecordClass::Safeguarding => safeguarding(policies, settings, facts),
        RecordClass::ProcessNotes => {
            let mut r = clinical(policies, settings, facts);
            r.class = RecordClass::ProcessNotes;
            r.explanation = format!(
                "Process notes follow the clinical rule. {}",
                capitalised(&r.explanation)
            );
            r
        }
        // Identity is kept as long as the clinical record (and every other class).
        RecordClass::Clinical | RecordClass::Identity => clinical(policies, settings, facts),
    }
}

// ----- who may do what -----

/// What a person reaches of a child's retention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Reach {
    /// The safeguarding class and its dates (the DSL and deputies).
    pub safeguarding: bool,
    /// Why a class is on hold (the service lead, the DSL, deputies); administrators see only
    /// "On hold".
    pub hold_reasons: bool,
    /// Set and lift legal holds (the service lead, the DSL, deputies).
    pub legal_holds: bool,
    /// Set and clear the 75-year flag (the DSL and deputies).
    pub flag: bool,
}

fn is_dsl(user: &User) -> bool {
    user.has_role(Role::Dsl) || user.has_role(Role::DeputyDsl)
}

/// Who reaches the retention pages at all (`None`: as if they did not exist): administrators
/// and the service lead (the clinical record and process notes), the DSL and deputies (the
/// safeguarding records too).
pub fn reach(user: &User) -> Option<Reach> {
    if !user.active {
        return None;
    }
    let admin = user.has_role(Role::Administrator);
    let lead = user.has_role(Role::ServiceLead);
    let dsl = is_dsl(user);
    (admin || lead || dsl).then_some(Reach {
        safeguarding: dsl,
        hold_reasons: lead || dsl,
        legal_holds: lead || dsl,
        flag: dsl,
    })
}

/// Whether `user` may see this class at all.
pub fn sees_class(reach: &Reach, class: RecordClass) -> bool {
    class != RecordClass::Safeguarding || reach.safeguarding
}

/// Who may see a destruction request of this class: those who see the class, and for the
/// safeguarding records the service lead too (who reads concerns, and approves their
/// destruction: policy section 5), though never their safeguarding-driven date.
pub fn sees_request(user: &User, class: RecordClass) -> bool {
    reach(user).is_some_and(|r| sees_class(&r, class))
        || (class == RecordClass::Safeguarding && user.active && user.has_role(Role::ServiceLead))
}

/// Who asks for a class to be destroyed: an administrator for the clinical record and process
/// notes; the DSL or a deputy for the safeguarding records (whose existence an administrator
/// may not know).
pub fn may_request(user: &User, class: RecordClass) -> bool {
    user.active
        && match class {
            RecordClass::Safeguarding => is_dsl(user),
            RecordClass::Clinical | RecordClass::ProcessNotes => user.has_role(Role::Administrator),
            RecordClass::Identity => false,
        }
}

/// The roles that approve a destruction: the service lead or the DSL (policy section 5).
pub const APPROVERS: [Role; 3] = [Role::ServiceLead, Role::Dsl, Role::DeputyDsl];

pub fn may_approve(user: &User) -> bool {
    user.active && APPROVERS.iter().any(|r| user.has_role(*r))
}

/// Whether the approver may approve a request made by `requester` at `requested_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approval {
    /// Someone other than the requester: they may approve.
    Allowed,
    /// The sole practitioner, past the cooling-off: they may approve their own request once
    /// they have given their password again.
    SoleAfterReauthentication,
    /// The sole practitioner, still cooling off: not before this instant.
    CoolingOff(Timestamp),
    /// Refused, with the reason for the member of staff.
    Refused(&'static str),
}

/// The two-person rule (policy section 1): never the requester, unless nobody else may
/// approve (the sole practitioner), who then waits the cooling-off and signs in again.
/// `others` counts the active people, other than the requester, who hold an approving role.
pub fn approval(
    approver: &User,
    requester: UserId,
    others: usize,
    requested_at: Timestamp,
    now: Timestamp,
    cooling_off: SignedDuration,
) -> Approval {
    if !may_approve(approver) {
        return Approval::Refused("only the service lead or the DSL approves a destruction");
    }
    if approver.id != requester {
        return Approval::Allowed;
    }
    if others > 0 {
        return Approval::Refused(
            "someone other than the person who asked must approve a destruction",
        );
    }
    let from = requested_at
        .saturating_add(cooling_off)
        .unwrap_or(requested_at);
    if now < from {
        Approval::CoolingOff(from)
    } else {
        Approval::SoleAfterReauthentication
    }
}

/// What stops a destruction (checked at the request and again at the approval).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Hold {
    /// A safeguarding concern about the child is not closed.
    OpenConcern,
    /// A subject access request is pending.
    PendingSubjectAccess,
    /// A legal hold is set.
    LegalHold,
}

impl Hold {
    pub fn code(self) -> &'static str {
        match self {
            Hold::OpenConcern => "open-concern",
            Hold::PendingSubjectAccess => "pending-subject-access",
            Hold::LegalHold => "legal-hold",
        }
    }

    /// The reason, for those who may know it (never an administrator).
    pub fn reason(self) -> &'static str {
        match self {
            Hold::OpenConcern => "A safeguarding concern about the child is open",
            Hold::PendingSubjectAccess => "A subject access request is pending",
            Hold::LegalHold => "A legal hold is set",
        }
    }
}

/// What an administrator is told of any hold: that there is one, never why.
pub const ON_HOLD: &str = "On hold";

/// The words of a hold for this reader: the reasons, or only "On hold".
pub fn hold_words(holds: &[Hold], reasons: bool) -> Vec<String> {
    if holds.is_empty() {
        Vec::new()
    } else if reasons {
        holds.iter().map(|h| h.reason().to_owned()).collect()
    } else {
        vec![ON_HOLD.to_owned()]
    }
}

/// A legal hold's (or its lifting's) reason as typed.
pub fn parse_reason(raw: &str) -> Result<String, Invalid> {
    parse_text(raw, 10, 2000).map_err(|m| {
        Invalid::field(
            "reason",
            if raw.trim().is_empty() {
                "Give the reason (at least 10 characters)".to_owned()
            } else {
                m
            },
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{RegistrationBody, Username};
    use crate::version::Version;

    fn d(y: i16, m: i8, day: i8) -> Date {
        Date::new(y, m, day).unwrap()
    }

    fn policies() -> Policies {
        Policies::shipped().unwrap()
    }

    fn settings() -> Settings {
        Settings::defaults(&policies())
    }

    fn facts(dob: Date, episode: Episode) -> Facts {
        Facts {
            date_of_birth: dob,
            date_of_death: None,
            episode,
            abuse_category: false,
            dsl_flag: None,
            latest_safeguarding: None,
        }
    }

    fn with(choice: ClinicalChoice) -> Settings {
        Settings {
            clinical: choice,
            ..settings()
        }
    }

    fn until(s: &Settings, f: &Facts, class: RecordClass) -> Option<Date> {
        retention(&policies(), s, f, class).until
    }

    fn user(roles: &[Role]) -> User {
        User {
            id: UserId(uuid::Uuid::now_v7()),
            username: Username::parse("someone").unwrap(),
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
    fn the_shipped_policies_load_with_every_rule_and_a_source_for_each() {
        let p = policies();
        assert_eq!(p.figures.children_birthday, 25);
        assert_eq!(p.figures.children_extended_birthday, 26);
        assert_eq!(p.figures.children_extended_age, 17);
        assert_eq!(p.figures.adult_years, 8);
        assert_eq!(p.figures.mental_health_years, 20);
        assert_eq!(p.figures.death_years, 8);
        assert_eq!(p.figures.death_mental_health_years, 10);
        assert_eq!(p.figures.safeguarding_birthday, 25);
        assert_eq!(p.figures.abuse_years, 75);
        for rule in RuleId::ALL {
            let text = p.text(rule);
            assert_eq!(text.code, rule.code());
            assert!(!text.sources.is_empty(), "{rule:?}");
            assert!(text.sources.iter().all(|s| s.url.starts_with("https://")));
        }
        assert!(
            p.text(RuleId::Abuse75)
                .summary
                .contains("latest safeguarding record"),
            "the data says what the 75 years count from"
        );
    }

    #[test]
    fn a_policies_file_missing_a_rule_or_a_source_or_in_breach_of_bounds_is_refused() {
        let shipped = include_str!("../data/retention/policies.toml");
        let without_death = shipped.replace("code = \"death\"", "code = \"children\"");
        assert!(
            Policies::parse(&without_death)
                .unwrap_err()
                .contains("twice")
        );
        let http = shipped.replacen("url = \"https://", "url = \"http://", 1);
        assert!(Policies::parse(&http).unwrap_err().contains("https"));
        let silly = shipped.replace("abuse_years = 75", "abuse_years = 0");
        assert!(Policies::parse(&silly).unwrap_err().contains("abuse_years"));
        let unknown = shipped.replace("[figures]", "[figures]\nextra = 1");
        assert!(Policies::parse(&unknown).is_err());
    }

    #[test]
    fn leap_days_fall_on_the_first_of_march_in_a_common_year() {
        assert_eq!(anniversary(d(2012, 2, 29), 25), Some(d(2037, 3, 1)));
        assert_eq!(anniversary(d(2012, 2, 29), 4), Some(d(2016, 2, 29)));
        assert_eq!(anniversary(d(2011, 3, 14), 25), Some(d(2036, 3, 14)));
        // A leap-day child is still 16 on 28 February of a common year, 17 on 1 March.
        assert_eq!(age_on(d(2008, 2, 29), d(2025, 2, 28)), 16);
        assert_eq!(age_on(d(2008, 2, 29), d(2025, 3, 1)), 17);
        assert_eq!(age_on(d(2008, 2, 29), d(2024, 2, 29)), 16);
        assert_eq!(age_on(d(2010, 6, 1), d(2010, 6, 1)), 0);
        assert_eq!(age_on(d(2010, 6, 1), d(2027, 5, 31)), 16);
        assert_eq!(age_on(d(2010, 6, 1), d(2027, 6, 1)), 17);
        assert_eq!(anniversary(d(9990, 1, 1), 20), None);
    }

    #[test]
    fn the_childrens_rule_at_its_birthdays_boundaries() {
        let s = with(ClinicalChoice::Children);
        let dob = d(2010, 6, 1);
        // 16 the day before the 17th birthday: the 25th birthday.
        let f = facts(dob, Episode::Ended(d(2027, 5, 31)));
        assert_eq!(until(&s, &f, RecordClass::Clinical), Some(d(2035, 6, 1)));
        // 17 on the very day the work ended: the 26th birthday.
        let f = facts(dob, Episode::Ended(d(2027, 6, 1)));
        assert_eq!(until(&s, &f, RecordClass::Clinical), Some(d(2036, 6, 1)));
        // Still 17 the day before the 18th birthday: the 26th.
        let f = facts(dob, Episode::Ended(d(2028, 5, 31)));
        assert_eq!(until(&s, &f, RecordClass::Clinical), Some(d(2036, 6, 1)));
        // 18 on the day it ended: an adult's record, 8 years after the end.
        let f = facts(dob, Episode::Ended(d(2028, 6, 1)));
        assert_eq!(until(&s, &f, RecordClass::Clinical), Some(d(2036, 6, 1)));
        let f = facts(dob, Episode::Ended(d(2030, 9, 15)));
        let r = retention(&policies(), &s, &f, RecordClass::Clinical);
        assert_eq!(r.until, Some(d(2038, 9, 15)));
        assert_eq!(r.rule, RuleId::Children);
        assert!(
            r.explanation.contains("adult's record"),
            "{}",
            r.explanation
        );
        assert!(r.explanation.contains("15/09/2038"), "{}", r.explanation);
    }

    #[test]
    fn a_leap_day_child_turns_seventeen_on_the_first_of_march() {
        let s = with(ClinicalChoice::Children);
        let dob = d(2008, 2, 29);
        // Ended on 28/02/2025: still 16, so the 25th birthday (01/03/2033, a common year).
        let f = facts(dob, Episode::Ended(d(2025, 2, 28)));
        assert_eq!(until(&s, &f, RecordClass::Clinical), Some(d(2033, 3, 1)));
        // Ended on 01/03/2025: 17, so the 26th birthday (01/03/2034).
        let f = facts(dob, Episode::Ended(d(2025, 3, 1)));
        assert_eq!(until(&s, &f, RecordClass::Clinical), Some(d(2034, 3, 1)));
        // A 25th birthday in a leap year is the 29th itself.
        let dob = d(2012, 2, 29);
        let f = facts(dob, Episode::Ended(d(2020, 1, 10)));
        assert_eq!(until(&s, &f, RecordClass::Clinical), Some(d(2037, 3, 1)));
        let f = facts(d(2011, 2, 28), Episode::Ended(d(2020, 1, 10)));
        assert_eq!(until(&s, &f, RecordClass::Clinical), Some(d(2036, 2, 28)));
    }

    #[test]
    fn the_clinical_default_is_the_later_of_the_two_rules() {
        let s = settings();
        // A 10-year-old: 25th birthday 2041; 20 years after 2026 is 2046 (later).
        let f = facts(d(2016, 3, 14), Episode::Ended(d(2026, 7, 1)));
        let r = retention(&policies(), &s, &f, RecordClass::Clinical);
        assert_eq!(r.until, Some(d(2046, 7, 1)));
        assert_eq!(r.rule, RuleId::MentalHealth);
        assert!(r.explanation.contains("later of"), "{}", r.explanation);
        assert!(r.explanation.contains("14/03/2041"), "{}", r.explanation);
        assert!(r.explanation.contains("does not say which applies"));
        let urls: Vec<&str> = r.sources.iter().map(|s| s.url.as_str()).collect();
        assert!(!urls.is_empty());
        // A service that follows one rule gets that rule's date.
        assert_eq!(
            until(&with(ClinicalChoice::Children), &f, RecordClass::Clinical),
            Some(d(2041, 3, 14))
        );
        assert_eq!(
            until(
                &with(ClinicalChoice::MentalHealth),
                &f,
                RecordClass::Clinical
            ),
            Some(d(2046, 7, 1))
        );
        // With figures where the children's rule is later, the later still wins.
        let mut short = settings();
        short.figures.mental_health_years = 2;
        let r = retention(&policies(), &short, &f, RecordClass::Clinical);
        assert_eq!((r.until, r.rule), (Some(d(2041, 3, 14)), RuleId::Children));
    }

    #[test]
    fn process_notes_follow_the_clinical_rule() {
        let f = facts(d(2016, 3, 14), Episode::Ended(d(2026, 7, 1)));
        let clinical = retention(&policies(), &settings(), &f, RecordClass::Clinical);
        let notes = retention(&policies(), &settings(), &f, RecordClass::ProcessNotes);
        assert_eq!(notes.until, clinical.until);
        assert_eq!(notes.rule, clinical.rule);
        assert_eq!(notes.class, RecordClass::ProcessNotes);
        assert!(
            notes
                .explanation
                .starts_with("Process notes follow the clinical rule. Kept until")
        );
    }

    #[test]
    fn an_open_case_or_a_re_referral_has_no_date_yet() {
        let dob = d(2014, 1, 9);
        let f = facts(dob, Episode::Open);
        for class in [RecordClass::Clinical, RecordClass::ProcessNotes] {
            let r = retention(&policies(), &settings(), &f, class);
            assert_eq!((r.until, r.rule), (None, RuleId::OpenCase));
            assert!(!r.is_past(d(2099, 1, 1)));
        }
        let none = retention(
            &policies(),
            &settings(),
            &facts(dob, Episode::NoCase),
            RecordClass::Clinical,
        );
        assert_eq!((none.until, none.rule), (None, RuleId::NoCase));
        // Closed in 2020 and past its date by 2045; re-referred, the date goes; closed again in
        // 2030, the date is worked out from the new end.
        let first = facts(dob, Episode::Ended(d(2020, 5, 1)));
        assert_eq!(
            until(&settings(), &first, RecordClass::Clinical),
            Some(d(2040, 5, 1))
        );
        let again = facts(dob, Episode::Ended(d(2030, 5, 1)));
        assert_eq!(
            until(&settings(), &again, RecordClass::Clinical),
            Some(d(2050, 5, 1))
        );
    }

    #[test]
    fn a_death_replaces_the_childrens_and_mental_health_rules() {
        let mut f = facts(d(2012, 4, 2), Episode::Ended(d(2020, 1, 1)));
        f.date_of_death = Some(d(2021, 8, 20));
        let r = retention(&policies(), &settings(), &f, RecordClass::Clinical);
        assert_eq!((r.until, r.rule), (Some(d(2031, 8, 20)), RuleId::Death));
        assert!(r.explanation.contains("20/08/2021"), "{}", r.explanation);
        assert!(r.explanation.contains("mental-health"), "{}", r.explanation);
        assert_eq!(
            until(&with(ClinicalChoice::Children), &f, RecordClass::Clinical),
            Some(d(2029, 8, 20))
        );
        assert_eq!(
            until(
                &with(ClinicalChoice::MentalHealth),
                &f,
                RecordClass::Clinical
            ),
            Some(d(2031, 8, 20))
        );
        assert_eq!(
            until(&settings(), &f, RecordClass::ProcessNotes),
            Some(d(2031, 8, 20))
        );
        // Even with a case still open.
        f.episode = Episode::Open;
        assert_eq!(
            until(&settings(), &f, RecordClass::Clinical),
            Some(d(2031, 8, 20))
        );
        // A death on a leap day.
        f.date_of_death = Some(d(2024, 2, 29));
        assert_eq!(
            until(&settings(), &f, RecordClass::Clinical),
            Some(d(2034, 3, 1))
        );
        // It is not a safeguarding rule: safeguarding stays at the 25th birthday.
        assert_eq!(
            until(&settings(), &f, RecordClass::Safeguarding),
            Some(d(2037, 4, 2))
        );
        // Past its date only after the day itself.
        f.date_of_death = Some(d(2010, 1, 1));
        f.date_of_birth = d(2005, 1, 1);
        let r = retention(&policies(), &settings(), &f, RecordClass::Clinical);
        assert_eq!(r.until, Some(d(2020, 1, 1)));
        assert!(!r.is_past(d(2020, 1, 1)));
        assert!(r.is_past(d(2020, 1, 2)));
    }

    #[test]
    fn safeguarding_records_are_kept_to_the_25th_birthday_then_reviewed() {
        let f = facts(d(2016, 3, 14), Episode::Ended(d(2026, 7, 1)));
        let r = retention(&policies(), &settings(), &f, RecordClass::Safeguarding);
        assert_eq!(
            (r.until, r.rule),
            (Some(d(2041, 3, 14)), RuleId::Safeguarding)
        );
        assert!(r.then_review);
        assert!(r.explanation.contains("25th birthday"), "{}", r.explanation);
        assert!(r.rule.is_safeguarding());
        // Not moved by the cases: open or closed.
        let open = facts(d(2016, 3, 14), Episode::Open);
        assert_eq!(
            until(&settings(), &open, RecordClass::Safeguarding),
            Some(d(2041, 3, 14))
        );
        // A leap-day child: 1 March.
        let leap = facts(d(2008, 2, 29), Episode::Open);
        assert_eq!(
            until(&settings(), &leap, RecordClass::Safeguarding),
            Some(d(2033, 3, 1))
        );
    }

    #[test]
    fn sexual_abuse_exploitation_or_the_dsl_flag_keep_safeguarding_records_75_years() {
        let mut f = facts(d(2016, 3, 14), Episode::Open);
        f.abuse_category = true;
        f.latest_safeguarding = Some(d(2026, 11, 30));
        let r = retention(&policies(), &settings(), &f, RecordClass::Safeguarding);
        assert_eq!((r.until, r.rule), (Some(d(2101, 11, 30)), RuleId::Abuse75));
        assert!(r.explanation.contains("sexual abuse or exploitation"));
        assert!(
            r.explanation
                .contains("latest safeguarding record (30/11/2026)")
        );
        assert!(!r.then_review);
        // The DSL's flag alone, with no record yet: counted from the flag.
        let mut g = facts(d(2016, 3, 14), Episode::Open);
        g.dsl_flag = Some(d(2027, 1, 4));
        let r = retention(&policies(), &settings(), &g, RecordClass::Safeguarding);
        assert_eq!((r.until, r.rule), (Some(d(2102, 1, 4)), RuleId::Abuse75));
        assert!(r.explanation.contains("DSL"));
        // A flag with records: from the latest record.
        g.latest_safeguarding = Some(d(2030, 6, 1));
        assert_eq!(
            until(&settings(), &g, RecordClass::Safeguarding),
            Some(d(2105, 6, 1))
        );
        // The clinical record is not moved by it.
        assert_eq!(until(&settings(), &g, RecordClass::Clinical), None);
        // The flag cleared and no such category: the 25th birthday again.
        g.dsl_flag = None;
        assert_eq!(
            until(&settings(), &g, RecordClass::Safeguarding),
            Some(d(2041, 3, 14))
        );
        // Anchored on a leap day.
        f.latest_safeguarding = Some(d(2028, 2, 29));
        assert_eq!(
            until(&settings(), &f, RecordClass::Safeguarding),
            Some(d(2103, 3, 1))
        );
    }

    #[test]
    fn figures_and_settings_are_checked_field_by_field() {
        assert!(settings().check().is_ok());
        let mut s = settings();
        s.figures.children_extended_birthday = 24;
        s.figures.adult_age = 17;
        s.figures.mental_health_years = 0;
        s.cooling_off_hours = 0;
        let fields: Vec<String> = s
            .check()
            .unwrap_err()
            .errors
            .into_iter()
            .map(|e| e.field)
            .collect();
        for field in [
            "children_extended_birthday",
            "adult_age",
            "mental_health_years",
            "cooling_off_hours",
        ] {
            assert!(fields.iter().any(|f| f == field), "{field} in {fields:?}");
        }
        // A stored settings document round-trips; an unknown part is refused.
        let json = serde_json::to_string(&settings()).unwrap();
        assert_eq!(serde_json::from_str::<Settings>(&json).unwrap(), settings());
        assert!(serde_json::from_str::<Settings>(&json.replacen('{', "{\"x\":1,", 1)).is_err());
        assert_eq!(settings().cooling_off(), SignedDuration::from_hours(24));
    }

    #[test]
    fn classes_parse_and_identity_is_never_destroyed_by_retention() {
        assert_eq!(parse_class("clinical"), Ok(RecordClass::Clinical));
        assert_eq!(parse_class("process-notes"), Ok(RecordClass::ProcessNotes));
        assert_eq!(parse_class("safeguarding"), Ok(RecordClass::Safeguarding));
        assert!(parse_class("identity").is_err());
        assert!(parse_class("").is_err());
        assert_eq!(ClinicalChoice::parse("later"), Ok(ClinicalChoice::Later));
        assert!(ClinicalChoice::parse("never").is_err());
        for rule in RuleId::ALL {
            assert_eq!(RuleId::parse(rule.code()), Ok(rule));
        }
    }

    #[test]
    fn who_reaches_what() {
        let admin = user(&[Role::Administrator]);
        let lead = user(&[Role::ServiceLead]);
        let dsl = user(&[Role::Dsl]);
        let deputy = user(&[Role::DeputyDsl]);
        for nobody in [
            user(&[Role::Therapist]),
            user(&[Role::Supervisor]),
            user(&[Role::Staff]),
        ] {
            assert_eq!(reach(&nobody), None);
            assert!(!may_approve(&nobody));
            for class in CLASSES {
                assert!(!may_request(&nobody, class));
            }
        }
        let a = reach(&admin).unwrap();
        assert!(!a.safeguarding && !a.hold_reasons && !a.legal_holds && !a.flag);
        assert!(!sees_class(&a, RecordClass::Safeguarding));
        assert!(sees_class(&a, RecordClass::Clinical));
        let l = reach(&lead).unwrap();
        assert!(!l.safeguarding && l.hold_reasons && l.legal_holds && !l.flag);
        for d in [&dsl, &deputy] {
            let r = reach(d).unwrap();
            assert!(r.safeguarding && r.hold_reasons && r.legal_holds && r.flag);
        }
        assert!(may_request(&admin, RecordClass::Clinical));
        assert!(may_request(&admin, RecordClass::ProcessNotes));
        assert!(!may_request(&admin, RecordClass::Safeguarding));
        assert!(!may_request(&admin, RecordClass::Identity));
        assert!(may_request(&dsl, RecordClass::Safeguarding));
        assert!(!may_request(&dsl, RecordClass::Clinical));
        assert!(!may_request(&lead, RecordClass::Clinical));
        assert!(may_approve(&lead) && may_approve(&dsl) && !may_approve(&admin));
        assert!(sees_request(&lead, RecordClass::Safeguarding));
        assert!(sees_request(&dsl, RecordClass::Safeguarding));
        assert!(!sees_request(&admin, RecordClass::Safeguarding));
        assert!(sees_request(&admin, RecordClass::Clinical));
        assert!(!sees_request(
            &user(&[Role::Therapist]),
            RecordClass::Clinical
        ));
        let mut gone = lead.clone();
        gone.active = false;
        assert_eq!(reach(&gone), None);
        assert!(!may_approve(&gone));
    }

    #[test]
    fn the_two_person_rule_and_the_sole_practitioners_cooling_off() {
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        let asked = now - SignedDuration::from_hours(2);
        let day = SignedDuration::from_hours(24);
        let admin = user(&[Role::Administrator]);
        let lead = user(&[Role::ServiceLead]);
        // Someone else approves at once.
        assert_eq!(
            approval(&lead, admin.id, 1, asked, now, day),
            Approval::Allowed
        );
        // Never the requester while anyone else may approve.
        let all = user(&[Role::Administrator, Role::ServiceLead, Role::Dsl]);
        assert!(matches!(
            approval(&all, all.id, 1, asked, now, day),
            Approval::Refused(_)
        ));
        // The sole practitioner: after the cooling-off, with the password again.
        assert_eq!(
            approval(&all, all.id, 0, asked, now, day),
            Approval::CoolingOff(asked + day)
        );
        assert_eq!(
            approval(&all, all.id, 0, asked, asked + day, day),
            Approval::SoleAfterReauthentication
        );
        assert_eq!(
            approval(
                &all,
                all.id,
                0,
                asked,
                asked + day - SignedDuration::from_secs(1),
                day
            ),
            Approval::CoolingOff(asked + day)
        );
        // An administrator alone never approves.
        assert!(matches!(
            approval(&admin, lead.id, 0, asked, now, day),
            Approval::Refused(_)
        ));
    }

    #[test]
    fn an_administrator_sees_on_hold_and_never_why() {
        let holds = [
            Hold::OpenConcern,
            Hold::PendingSubjectAccess,
            Hold::LegalHold,
        ];
        assert_eq!(hold_words(&holds, false), vec![ON_HOLD.to_owned()]);
        let reasons = hold_words(&holds, true);
        assert_eq!(reasons.len(), 3);
        assert!(reasons[0].contains("concern"));
        assert!(hold_words(&[], false).is_empty());
        assert!(parse_reason("short").is_err());
        assert!(parse_reason("   ").is_err());
        assert_eq!(
            parse_reason("  Solicitor's letter of 01/12/2026: litigation expected ").as_deref(),
            Ok("Solicitor's letter of 01/12/2026: litigation expected")
        );
    }
}
