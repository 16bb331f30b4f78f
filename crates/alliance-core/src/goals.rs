//! The child's own goals in their words and their 0-10 ratings (goal-based outcomes, GBO;
//! Duncan Law, 2011; clinical-facts section 1.6). No IO.
//!
//! A case holds up to three open goals ([`MAX_OPEN`]), each in the child's own words
//! ([`Words`], required, at most [`WORDS_MAX`] characters), with who set it ([`SetBy`]) and
//! when. A goal is rated 0 to 10 ([`Rating`]: 0 not started, 10 reached), optionally in a
//! session, with who rated it ([`RatedBy`]); its outcome is the movement from the first to the
//! latest rating ([`movement`]). A goal is closed as reached or put aside, with a date; a
//! closed goal is kept and shown, never rated again. Rewording keeps the earlier words (each
//! wording is a version).
//!
//! Goals are clinical record (policy section 1): read and written as the clinical row of the
//! matrix says ([`may_read`], [`may_write`]): the lead, co-worker and cover write; a supervisor
//! reads them pseudonymised; the parent-worker (whose clinical share is the agreement, parent
//! measures and shared records), the DSL, the service lead, administrators, staff and other
//! therapists do not. Words and ratings are sealed under the child's clinical key.
//!
//! Wherever goals are rated or shown, the measure's attribution is shown ([`ATTRIBUTION`], or
//! the shipped `gbo` definition's `licence.attribution`).

use crate::access::Access;
use crate::directory::uuid_id;
use crate::error::{Invalid, Validator, parse_optional_date, parse_text};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

uuid_id!(GoalId, "a goal");

/// Open goals a case may hold at once (GBO: up to three).
pub const MAX_OPEN: usize = 3;
/// The longest a goal's words may be, in characters.
pub const WORDS_MAX: usize = 300;
/// The lowest and highest rating.
pub const RATING_MIN: u8 = 0;
pub const RATING_MAX: u8 = 10;
/// The measure's id in the library (helper A's shipped definition).
pub const MEASURE_ID: &str = "gbo";
/// The attribution its licence requires, shown wherever goals are rated or shown.
pub const ATTRIBUTION: &str = "Goal Based Outcomes (GBO) (c) Duncan Law, CC BY-NC-SA 4.0";

/// Who set a goal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SetBy {
    /// The child, on their own.
    Child,
    /// The child with the therapist.
    ChildWithTherapist,
    /// A parent or carer.
    Carer,
}

impl SetBy {
    pub const ALL: [SetBy; 3] = [SetBy::Child, SetBy::ChildWithTherapist, SetBy::Carer];

    pub fn code(self) -> &'static str {
        match self {
            SetBy::Child => "child",
            SetBy::ChildWithTherapist => "child-with-therapist",
            SetBy::Carer => "carer",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SetBy::Child => "The child",
            SetBy::ChildWithTherapist => "The child with the therapist",
            SetBy::Carer => "A parent or carer",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|s| s.code() == raw.trim())
            .ok_or_else(|| "Choose who set the goal".to_owned())
    }
}

/// Who rated a goal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RatedBy {
    Child,
    ChildWithTherapist,
}

impl RatedBy {
    pub const ALL: [RatedBy; 2] = [RatedBy::Child, RatedBy::ChildWithTherapist];

    pub fn code(self) -> &'static str {
        match self {
            RatedBy::Child => "child",
            RatedBy::ChildWithTherapist => "child-with-therapist",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RatedBy::Child => "The child",
            RatedBy::ChildWithTherapist => "The child with the therapist",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|s| s.code() == raw.trim())
            .ok_or_else(|| "Choose who rated the goals".to_owned())
    }
}

/// Where a goal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Open,
    Reached,
    PutAside,
}

impl Status {
    pub const ALL: [Status; 3] = [Status::Open, Status::Reached, Status::PutAside];

    pub fn code(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Reached => "reached",
            Status::PutAside => "put-aside",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Open => "Open",
            Status::Reached => "Reached",
            Status::PutAside => "Put aside",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|s| s.code() == raw.trim())
            .ok_or_else(|| format!("not a goal status: {raw}"))
    }

    /// How a goal is closed: reached or put aside (never back to open).
    pub fn parse_closure(raw: &str) -> Result<Self, String> {
        match Self::parse(raw) {
            Ok(s) if s != Status::Open => Ok(s),
            _ => Err("Choose reached or put aside".to_owned()),
        }
    }
}

/// A goal in the child's own words: required, at most [`WORDS_MAX`] characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Words(String);

impl Words {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.trim().is_empty() {
            return Err("Write the goal in the child's own words".to_owned());
        }
        parse_text(raw, 1, WORDS_MAX).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A rating from 0 (not started) to 10 (reached).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Rating(u8);

impl Rating {
    pub fn new(value: i64) -> Result<Self, String> {
        if (i64::from(RATING_MIN)..=i64::from(RATING_MAX)).contains(&value) {
            Ok(Self(value as u8))
        } else {
            Err(format!(
                "Choose a whole number from {RATING_MIN} (not started) to {RATING_MAX} (reached)"
            ))
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        raw.trim()
            .parse::<i64>()
            .map_err(|_| {
                format!(
                    "Choose a whole number from {RATING_MIN} (not started) to {RATING_MAX} (reached)"
                )
            })
            .and_then(Self::new)
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<i64> for Rating {
    type Error = String;
    fn try_from(v: i64) -> Result<Self, String> {
        Self::new(v)
    }
}

impl From<Rating> for i64 {
    fn from(r: Rating) -> i64 {
        i64::from(r.0)
    }
}

/// What is sealed for one wording of a goal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoalWords {
    pub words: Words,
}

/// What is sealed for one rating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatingContent {
    pub value: Rating,
    pub rated_by: RatedBy,
}

/// A new goal as typed.
#[derive(Debug, Clone, Default)]
pub struct GoalInput {
    pub words: String,
    pub set_by: String,
    /// Empty for today.
    pub set_on: String,
}

/// A new goal, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGoal {
    pub words: Words,
    pub set_by: SetBy,
    pub set_on: Date,
}

impl NewGoal {
    /// Checks a new goal: words required and bounded, who set it, a date not after today.
    pub fn parse(input: &GoalInput, today: Date) -> Result<Self, Invalid> {
        let mut v = Validator::new();
        let words = v.check("words", Words::parse(&input.words));
        let set_by = v.check("set_by", SetBy::parse(&input.set_by));
        let set_on = v.check("set_on", not_after(&input.set_on, today, "set"));
        v.finish()?;
        match (words, set_by, set_on) {
            (Some(words), Some(set_by), Some(set_on)) => Ok(Self {
                words,
                set_by,
                set_on,
            }),
            _ => Err(Invalid::field("words", "The goal could not be read")),
        }
    }
}

/// A date as typed, today when empty; never after today.
pub fn not_after(raw: &str, today: Date, what: &str) -> Result<Date, String> {
    let date = parse_optional_date(raw)?.unwrap_or(today);
    if date > today {
        Err(format!("The date {what} cannot be after today"))
    } else {
        Ok(date)
    }
}

/// Whether another goal may be opened on a case holding `open` open goals.
pub fn may_open_another(open: usize) -> Result<(), Invalid> {
    if open >= MAX_OPEN {
        Err(Invalid::field(
            "words",
            format!(
                "A case holds at most {MAX_OPEN} open goals: close one (reached or put aside) first"
            ),
        ))
    } else {
        Ok(())
    }
}

/// The outcome: the movement from the first rating to the latest (none until rated twice).
pub fn movement(ratings: &[Rating]) -> Option<i8> {
    match ratings {
        [first, .., latest] => Some(latest.get() as i8 - first.get() as i8),
        _ => None,
    }
}

/// Movement as shown: "+3", "0", "-2"; "not yet" until rated twice.
pub fn movement_label(m: Option<i8>) -> String {
    match m {
        None => "not yet (rated once or not at all)".to_owned(),
        Some(m) if m > 0 => format!("+{m}"),
        Some(m) => m.to_string(),
    }
}

/// Whether clinical access `access` reads goals (the lead, co-worker and cover; a supervisor
/// pseudonymised; break-glass read).
pub fn may_read(access: Access) -> bool {
    access.may_read()
}

/// Whether clinical access `access` sets, rewords, rates and closes goals (the lead, co-worker
/// and cover on an open case).
pub fn may_write(access: Access) -> bool {
    access.may_write()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Limit;
    use jiff::civil::date;

    #[test]
    fn ratings_are_whole_numbers_from_0_to_10() {
        assert_eq!(Rating::parse("0").unwrap().get(), 0);
        assert_eq!(Rating::parse(" 10 ").unwrap().get(), 10);
        for bad in ["-1", "11", "5.5", "", "ten"] {
            assert!(Rating::parse(bad).is_err(), "{bad}");
        }
        assert!(serde_json::from_str::<Rating>("11").is_err());
        assert_eq!(serde_json::from_str::<Rating>("7").unwrap().get(), 7);
    }

    #[test]
    fn words_are_required_and_bounded() {
        assert!(Words::parse("  ").is_err());
        assert!(Words::parse(&"a".repeat(WORDS_MAX + 1)).is_err());
        assert_eq!(
            Words::parse(" to make a friend ").unwrap().as_str(),
            "to make a friend"
        );
    }

    #[test]
    fn a_new_goal_names_every_bad_field_and_no_future_date() {
        let today = date(2026, 12, 1);
        let err = NewGoal::parse(
            &GoalInput {
                words: String::new(),
                set_by: "teacher".into(),
                set_on: "2/12/2026".into(),
            },
            today,
        )
        .unwrap_err();
        let fields: Vec<_> = err.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["words", "set_by", "set_on"]);
        let ok = NewGoal::parse(
            &GoalInput {
                words: "sleep in my own bed".into(),
                set_by: "child-with-therapist".into(),
                set_on: String::new(),
            },
            today,
        )
        .unwrap();
        assert_eq!(ok.set_on, today);
    }

    #[test]
    fn three_open_goals_at_most() {
        assert!(may_open_another(2).is_ok());
        assert!(may_open_another(3).is_err());
    }

    #[test]
    fn movement_is_first_to_latest() {
        let r = |v| Rating::new(v).unwrap();
        assert_eq!(movement(&[]), None);
        assert_eq!(movement(&[r(3)]), None);
        assert_eq!(movement(&[r(2), r(9), r(6)]), Some(4));
        assert_eq!(movement(&[r(6), r(4)]), Some(-2));
        assert_eq!(movement_label(Some(4)), "+4");
        assert_eq!(movement_label(Some(-2)), "-2");
    }

    #[test]
    fn closing_is_reached_or_put_aside_only() {
        assert_eq!(Status::parse_closure("reached"), Ok(Status::Reached));
        assert_eq!(Status::parse_closure("put-aside"), Ok(Status::PutAside));
        assert!(Status::parse_closure("open").is_err());
    }

    #[test]
    fn the_clinical_row_decides() {
        assert!(may_write(Access::Write));
        assert!(may_read(Access::Pseudonymised) && !may_write(Access::Pseudonymised));
        assert!(!may_read(Access::Limited(Limit::LinkedToConcern)));
        assert!(!may_read(Access::None));
    }
}
