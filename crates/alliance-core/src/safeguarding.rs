//! Safeguarding concerns and allegations against staff (policy sections 1 and 4;
//! clinical-facts section 5): what a concern records (the child's words verbatim, kept apart
//! from observations and opinion, the questions asked, when and where, who was present, what
//! the practitioner said, a body map, the categories), who may reach it, the on-duty rota and
//! the out-of-hours contacts, the service's timing, and the legal duties tied to categories
//! (data, in `data/safeguarding/duties.toml`). Pure: the service layer seals, stores and
//! routes.

use crate::directory::uuid_id;
use crate::error::{Invalid, Validator, parse_line, parse_optional_line, parse_optional_text};
use crate::identity::{RegistrationBody, Role, User, UserId};
use crate::service::Nation;
use jiff::Timestamp;
use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

uuid_id!(ConcernId, "a safeguarding concern");

/// The longest a free-text part of a concern may be.
pub const MAX_PART_CHARS: usize = 8000;
/// The most marks one body map may hold.
pub const MAX_MARKS: usize = 40;
/// The most children one concern may be linked to.
pub const MAX_LINKED: usize = 20;

/// A concern about a child, or an allegation against a member of staff (a separate,
/// restricted kind: routed to the service lead, never seen by its subject).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConcernKind {
    Concern,
    Allegation,
}

impl ConcernKind {
    pub fn code(self) -> &'static str {
        match self {
            ConcernKind::Concern => "concern",
            ConcernKind::Allegation => "allegation",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        match code {
            "concern" => Ok(Self::Concern),
            "allegation" => Ok(Self::Allegation),
            _ => Err("Choose concern or allegation".to_owned()),
        }
    }
}

/// A draft is its author's alone; once submitted a concern is sealed: no edit, no delete
/// (the database refuses both), corrections are addenda.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConcernStatus {
    Draft,
    Submitted,
}

impl ConcernStatus {
    pub fn code(self) -> &'static str {
        match self {
            ConcernStatus::Draft => "draft",
            ConcernStatus::Submitted => "submitted",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        match code {
            "draft" => Ok(Self::Draft),
            "submitted" => Ok(Self::Submitted),
            _ => Err("Choose draft or submitted".to_owned()),
        }
    }
}

macro_rules! coded_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($variant:ident => ($code:literal, $label:literal)),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "kebab-case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }

            pub fn parse(code: &str) -> Result<Self, String> {
                match code.trim() {
                    $($code => Ok($name::$variant),)+
                    _ => Err(concat!("Choose ", $what, " from the list").to_owned()),
                }
            }
        }
    };
}

coded_enum!(
    /// The categories of harm (clinical-facts section 5.5; Keeping Children Safe in Education
    /// Part one and Annex B).
    HarmCategory, "a category" {
        Physical => ("physical", "Physical abuse"),
        Emotional => ("emotional", "Emotional abuse"),
        Sexual => ("sexual", "Sexual abuse"),
        Neglect => ("neglect", "Neglect"),
        Exploitation => ("exploitation", "Exploitation (criminal or sexual, including county lines)"),
        DomesticAbuse => ("domestic-abuse", "Domestic abuse"),
        ChildOnChild => ("child-on-child", "Child-on-child abuse"),
        OnlineHarm => ("online-harm", "Online harm"),
        Radicalisation => ("radicalisation", "Radicalisation"),
        Fgm => ("fgm", "Female genital mutilation"),
        SelfHarm => ("self-harm", "Self-harm or suicide risk"),
        Other => ("other", "Other"),
    }
);

coded_enum!(
    /// Which outline of the body map a mark is on.
    BodySide, "front or back" {
        Front => ("front", "Front"),
        Back => ("back", "Back"),
    }
);

coded_enum!(
    /// The regions of the simple body map (front and back outlines).
    BodyRegion, "a region" {
        Head => ("head", "Head"),
        Face => ("face", "Face"),
        Neck => ("neck", "Neck"),
        Chest => ("chest", "Chest"),
        Abdomen => ("abdomen", "Abdomen"),
        UpperBack => ("upper-back", "Upper back"),
        LowerBack => ("lower-back", "Lower back"),
        Buttocks => ("buttocks", "Buttocks"),
        Genitals => ("genitals", "Genital area"),
        LeftArm => ("left-arm", "Left arm"),
        RightArm => ("right-arm", "Right arm"),
        LeftHand => ("left-hand", "Left hand"),
        RightHand => ("right-hand", "Right hand"),
        LeftLeg => ("left-leg", "Left leg"),
        RightLeg => ("right-leg", "Right leg"),
        LeftFoot => ("left-foot", "Left foot"),
        RightFoot => ("right-foot", "Right foot"),
    }
);

impl BodyRegion {
    /// Whether the region is drawn on that outline.
    pub fn on(self, side: BodySide) -> bool {
        use BodyRegion::*;
        match side {
            BodySide::Front => !matches!(self, UpperBack | LowerBack | Buttocks),
            BodySide::Back => !matches!(self, Face | Chest | Abdomen | Genitals),
        }
    }
}

coded_enum!(
    /// Whether the school's own DSL (who has no account here) has been told.
    SchoolDslTold, "an answer" {
        Yes => ("yes", "Yes"),
        NotYet => ("not-yet", "Not yet"),
        NotApplicable => ("not-applicable", "Not applicable (not a school, or the school's DSL is our DSL)"),
    }
);

/// One marked region of the body map, with what was seen (as typed, in a draft).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BodyMark {
    #[serde(default)]
    pub side: String,
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub description: String,
}

/// What a concern (or an allegation) says, sealed at rest under the child's safeguarding key
/// (or, before the DSL has matched the child, a service key). A draft holds whatever has been
/// typed; [`ConcernContent::check_complete`] says what submitting still needs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConcernContent {
    /// "Is the child in immediate danger?": `yes`, `no`, or empty (not answered yet).
    #[serde(default)]
    pub immediate_danger: String,
    /// The child's words, verbatim.
    #[serde(default)]
    pub child_words: String,
    /// The questions the practitioner asked, if any, as asked.
    #[serde(default)]
    pub questions_asked: String,
    /// What was seen and heard: facts, kept apart from opinion.
    #[serde(default)]
    pub observations: String,
    /// The practitioner's view, if any, marked as opinion.
    #[serde(default)]
    pub opinion: String,
    /// When the disclosure (or what was seen) happened: a date and a time, London.
    #[serde(default)]
    pub happened_on: String,
    #[serde(default)]
    pub happened_time: String,
    /// When this account was written (if on paper first), a date and a time, London.
    #[serde(default)]
    pub written_on: String,
    #[serde(default)]
    pub written_time: String,
    /// Where it happened.
    #[serde(default)]
    pub location: String,
    /// Who else was present.
    #[serde(default)]
    pub present: String,
    /// What the practitioner said to the child (never a promise of secrecy).
    #[serde(default)]
    pub practitioner_said: String,
    /// Category codes.
    #[serde(default)]
    pub categories: Vec<String>,
    /// What "other" means here.
    #[serde(default)]
    pub category_other: String,
    #[serde(default)]
    pub marks: Vec<BodyMark>,
    /// Whether the school's own DSL has been told: a [`SchoolDslTold`] code, or empty.
    #[serde(default)]
    pub school_dsl_told: String,
    /// When and by whom, if they have been.
    #[serde(default)]
    pub school_dsl_told_at: String,
    #[serde(default)]
    pub school_dsl_told_by: String,
    /// Other children involved, by id (each reader sees only their own child's identity).
    #[serde(default)]
    pub linked_children: Vec<String>,
}

/// A concern's content, checked for submitting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub urgent: bool,
    pub categories: Vec<HarmCategory>,
    pub happened_at: jiff::civil::DateTime,
    pub written_at: jiff::civil::DateTime,
}

fn parse_time(raw: &str) -> Result<Time, String> {
    let raw = raw.trim();
    let (h, m) = raw
        .split_once(':')
        .ok_or_else(|| "Enter a time like 14:05".to_owned())?;
    let hour: i8 = h
        .parse()
        .map_err(|_| "Enter a time like 14:05".to_owned())?;
    let minute: i8 = m
        .parse()
        .map_err(|_| "Enter a time like 14:05".to_owned())?;
    Time::new(hour, minute, 0, 0).map_err(|_| "Enter a time like 14:05".to_owned())
}

impl ConcernContent {
    /// A draft may be anything typed so far, within lengths and free of control characters;
    /// choices must be from their lists (nothing is refused for being unfinished).
    pub fn parse_draft(input: &ConcernContent) -> Result<Self, Invalid> {
        let mut v = Validator::new();
        let mut out = ConcernContent::default();
        {
            let mut text = |field: &str, raw: &str| {
                v.check(field, parse_optional_text(raw, MAX_PART_CHARS))
                    .flatten()
                    .unwrap_or_default()
            };
            out.child_words = text("child_words", &input.child_words);
            out.questions_asked = text("questions_asked", &input.questions_asked);
            out.observations = text("observations", &input.observations);
            out.opinion = text("opinion", &input.opinion);
            out.present = text("present", &input.present);
            out.practitioner_said = text("practitioner_said", &input.practitioner_said);
        }
        let line = |v: &mut Validator, field: &str, raw: &str, max: usize| {
            v.check(field, parse_optional_line(raw, max))
                .flatten()
                .unwrap_or_default()
        };
        out.location = line(&mut v, "location", &input.location, 300);
        out.category_other = line(&mut v, "category_other", &input.category_other, 300);
        out.happened_on = line(&mut v, "happened_on", &input.happened_on, 20);
        out.happened_time = line(&mut v, "happened_time", &input.happened_time, 10);
        out.written_on = line(&mut v, "written_on", &input.written_on, 20);
        out.written_time = line(&mut v, "written_time", &input.written_time, 10);
        out.school_dsl_told_at = line(&mut v, "school_dsl_told_at", &input.school_dsl_told_at, 100);
        out.school_dsl_told_by = line(&mut v, "school_dsl_told_by", &input.school_dsl_told_by, 200);
        out.immediate_danger = match input.immediate_danger.trim() {
            "" => String::new(),
            "yes" | "no" => input.immediate_danger.trim().to_owned(),
            _ => {
                v.check::<()>("immediate_danger", Err("Answer yes or no".to_owned()));
                String::new()
            }
        };
        out.school_dsl_told = match input.school_dsl_told.trim() {
            "" => String::new(),
            code => v
                .check("school_dsl_told", SchoolDslTold::parse(code))
                .map(|c| c.code().to_owned())
                .unwrap_or_default(),
        };
        let mut categories = Vec::new();
        for code in &input.categories {
            if let Some(c) = v.check("categories", HarmCategory::parse(code))
                && !categories.contains(&c)
            {
                categories.push(c);
            }
        }
        categories.sort();
        out.categories = categories.iter().map(|c| c.code().to_owned()).collect();
        if input.marks.len() > MAX_MARKS {
            v.check::<()>(
                "marks",
                Err(format!("Mark at most {MAX_MARKS} regions on one body map")),
            );
        }
        for (i, mark) in input.marks.iter().take(MAX_MARKS).enumerate() {
            let field = |part: &str| format!("marks.{i}.{part}");
            let side = v.check(&field("side"), BodySide::parse(&mark.side));
            let region = v.check(&field("region"), BodyRegion::parse(&mark.region));
            if let (Some(side), Some(region)) = (side, region)
                && !region.on(side)
            {
                v.check::<()>(
                    &field("region"),
                    Err(format!(
                        "{} is not on the {} outline",
                        region.label(),
                        side.label().to_lowercase()
                    )),
                );
            }
            let description = v
                .check(&field("description"), parse_line(&mark.description, 1, 500))
                .unwrap_or_default();
            out.marks.push(BodyMark {
                side: side.map(|s| s.code().to_owned()).unwrap_or_default(),
                region: region.map(|r| r.code().to_owned()).unwrap_or_default(),
                description,
            });
        }
        if input.linked_children.len() > MAX_LINKED {
            v.check::<()>(
                "linked_children",
                Err(format!("Link at most {MAX_LINKED} other children")),
            );
        }
        for raw in input.linked_children.iter().take(MAX_LINKED) {
            if let Some(id) = v.check("linked_children", crate::children::ChildId::parse(raw))
                && !out.linked_children.contains(&id.to_string())
            {
                out.linked_children.push(id.to_string());
            }
        }
        v.finish()?;
        Ok(out)
    }

    /// What submitting needs, every field at fault at once: the danger question answered;
    /// the child's words or what was seen; when it happened (not in the future); where; at
    /// least one category ("other" described); what the practitioner said, when a child told
    /// them something; the school's DSL question, where the concern is about a school's pupil.
    pub fn check_complete(
        &self,
        now: Timestamp,
        tz: &TimeZone,
        at_school: bool,
    ) -> Result<Checked, Invalid> {
        let mut v = Validator::new();
        let urgent = match self.immediate_danger.as_str() {
            "yes" => Some(true),
            "no" => Some(false),
            _ => v.check(
                "immediate_danger",
                Err("Answer: is the child in immediate danger?".to_owned()),
            ),
        };
        if self.child_words.trim().is_empty() && self.observations.trim().is_empty() {
            v.check::<()>(
                "child_words",
                Err("Write the child's words exactly as they said them, or what you saw in observations".to_owned()),
            );
        }
        if !self.child_words.trim().is_empty() && self.practitioner_said.trim().is_empty() {
            v.check::<()>(
                "practitioner_said",
                Err("Write what you said to the child (never a promise of secrecy: who you will tell, and why)".to_owned()),
            );
        }
        if self.location.trim().is_empty() {
            v.check::<()>("location", Err("Say where it happened".to_owned()));
        }
        let local_now = tz.to_datetime(now);
        let when = |v: &mut Validator, on: &str, time: &str, field_on: &str, field_time: &str| {
            let date = v.check(field_on, crate::error::parse_date(on));
            let time = v.check(field_time, parse_time(time));
            let (date, time) = (date?, time?);
            let at = date.to_datetime(time);
            if at > local_now {
                v.check::<()>(field_on, Err("This is in the future".to_owned()));
                return None;
            }
            Some(at)
        };
        let happened_at = when(
            &mut v,
            &self.happened_on,
            &self.happened_time,
            "happened_on",
            "happened_time",
        );
        let written_at = if self.written_on.trim().is_empty() && self.written_time.trim().is_empty()
        {
            Some(local_now)
        } else {
            when(
                &mut v,
                &self.written_on,
                &self.written_time,
                "written_on",
                "written_time",
            )
        };
        if let (Some(h), Some(w)) = (happened_at, written_at)
            && w < h
        {
            v.check::<()>(
                "written_on",
                Err("It cannot have been written before it happened".to_owned()),
            );
        }
        let categories: Vec<HarmCategory> = self
            .categories
            .iter()
            .filter_map(|c| HarmCategory::parse(c).ok())
            .collect();
        if categories.is_empty() {
            v.check::<()>("categories", Err("Choose at least one category".to_owned()));
        }
        if categories.contains(&HarmCategory::Other) && self.category_other.trim().is_empty() {
            v.check::<()>(
                "category_other",
                Err("Say what the other harm is".to_owned()),
            );
        }
        if at_school {
            match SchoolDslTold::parse(&self.school_dsl_told) {
                Ok(SchoolDslTold::Yes) if self.school_dsl_told_by.trim().is_empty() => {
                    v.check::<()>(
                        "school_dsl_told_by",
                        Err("Say who told the school's DSL".to_owned()),
                    );
                }
                Ok(_) => {}
                Err(_) => {
                    v.check::<()>(
                        "school_dsl_told",
                        Err("Say whether the school's DSL has been told".to_owned()),
                    );
                }
            }
        }
        v.finish()?;
        Ok(Checked {
            urgent: urgent.unwrap_or(false),
            categories,
            happened_at: happened_at.unwrap_or(local_now),
            written_at: written_at.unwrap_or(local_now),
        })
    }

    /// The categories that parse (a stored content is always checked).
    pub fn harm_categories(&self) -> Vec<HarmCategory> {
        self.categories
            .iter()
            .filter_map(|c| HarmCategory::parse(c).ok())
            .collect()
    }
}

/// A child as typed by someone who may not know them (the look-up raise): the DSL matches.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildLookup {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub date_of_birth: String,
    #[serde(default)]
    pub school: String,
}

impl ChildLookup {
    /// Name and date of birth are needed (the school helps the DSL match).
    pub fn parse(input: &ChildLookup, today: Date) -> Result<Self, Invalid> {
        let mut v = Validator::new();
        let name = v.check("name", parse_line(&input.name, 1, 200));
        let dob = v.check(
            "date_of_birth",
            crate::error::parse_date(&input.date_of_birth),
        );
        if let Some(d) = dob
            && (d > today || d < today.saturating_sub(jiff::Span::new().years(26)))
        {
            v.check::<()>(
                "date_of_birth",
                Err("Enter the child's date of birth".to_owned()),
            );
        }
        let school = v
            .check("school", parse_optional_line(&input.school, 200))
            .flatten()
            .unwrap_or_default();
        v.finish()?;
        Ok(ChildLookup {
            name: name.unwrap_or_default(),
            date_of_birth: dob.map(|d| d.to_string()).unwrap_or_default(),
            school,
        })
    }

    pub fn date_of_birth(&self) -> Option<Date> {
        self.date_of_birth.parse().ok()
    }
}

/// How far a person may reach a concern (policy section 1, "safeguarding concerns" and
/// "allegations against staff").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reach {
    /// As if it did not exist.
    None,
    /// Their own entries, the receipt and the decisions on them; they may add addenda.
    OwnEntries,
    /// Everything, read only (the service lead on a concern).
    Read,
    /// Everything, and the workflow (the DSL and deputies on a concern; the handler of an
    /// allegation).
    Write,
}

impl Reach {
    pub fn may_read_all(self) -> bool {
        self >= Reach::Read
    }
}

/// Who may reach a concern about a child: the DSL and deputies (write, all), the service lead
/// (read), its author (their own entries); nobody else, administrators included.
pub fn concern_reach(user: &User, author: UserId) -> Reach {
    if user.has_role(Role::Dsl) || user.has_role(Role::DeputyDsl) {
        Reach::Write
    } else if user.has_role(Role::ServiceLead) {
        Reach::Read
    } else if user.id == author {
        Reach::OwnEntries
    } else {
        Reach::None
    }
}

/// Who may reach an allegation against a member of staff: never its subject, whatever else
/// they are; the service lead handles it, or the DSL and deputies when the subject is a
/// service lead; its author reads their own entries; nobody else.
pub fn allegation_reach(user: &User, author: UserId, subject: &User) -> Reach {
    if user.id == subject.id {
        return Reach::None;
    }
    let subject_is_lead = subject.has_role(Role::ServiceLead);
    if !subject_is_lead && user.has_role(Role::ServiceLead) {
        return Reach::Write;
    }
    if subject_is_lead && (user.has_role(Role::Dsl) || user.has_role(Role::DeputyDsl)) {
        return Reach::Write;
    }
    if user.id == author {
        Reach::OwnEntries
    } else {
        Reach::None
    }
}

/// The role that handles an allegation about `subject`.
pub fn allegation_handlers(subject: &User) -> &'static [Role] {
    if subject.has_role(Role::ServiceLead) {
        &[Role::Dsl, Role::DeputyDsl]
    } else {
        &[Role::ServiceLead]
    }
}

/// Anyone who works with children may raise a concern or an allegation: every role but an
/// administrator's alone (who has no part in safeguarding, not even its existence).
pub fn may_raise(user: &User) -> bool {
    user.active && user.roles.iter().any(|r| *r != Role::Administrator)
}

/// Who works the safeguarding queue: the DSL and deputies; the service lead reads it.
pub fn sees_queue(user: &User) -> bool {
    user.has_role(Role::Dsl) || user.has_role(Role::DeputyDsl) || user.has_role(Role::ServiceLead)
}

/// Who may change the on-duty rota (the policy's `KeepSafeguardingRota`): the administrator
/// (configuration), the service lead and the DSL.
pub fn may_edit_rota(user: &User) -> bool {
    crate::policy::decide(user, crate::policy::Action::KeepSafeguardingRota).is_allowed()
}

/// Who may change the out-of-hours contacts and the timing (the policy's
/// `ManageSafeguardingSettings`): the administrator and the service lead.
pub fn may_edit_settings(user: &User) -> bool {
    crate::policy::decide(user, crate::policy::Action::ManageSafeguardingSettings).is_allowed()
}

/// A place on the on-duty rota.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RotaPosition {
    Dsl,
    Deputy,
}

impl RotaPosition {
    pub fn code(self) -> &'static str {
        match self {
            RotaPosition::Dsl => "dsl",
            RotaPosition::Deputy => "deputy",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RotaPosition::Dsl => "DSL on duty",
            RotaPosition::Deputy => "Deputy on duty",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        match code.trim() {
            "dsl" => Ok(Self::Dsl),
            "deputy" => Ok(Self::Deputy),
            _ => Err("Choose DSL or deputy".to_owned()),
        }
    }

    /// The role a person needs to hold this place.
    pub fn role(self) -> Role {
        match self {
            RotaPosition::Dsl => Role::Dsl,
            RotaPosition::Deputy => Role::DeputyDsl,
        }
    }
}

/// One weekly stretch of the rota: this person, in this place, on this weekday from `starts`
/// to `ends` (London). An `ends` at or before `starts` runs past midnight into the next day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotaSlot {
    pub user: UserId,
    pub position: RotaPosition,
    /// 1 (Monday) to 7 (Sunday).
    pub weekday: i8,
    /// `HH:MM`.
    pub starts: String,
    pub ends: String,
}

/// A person away from the rota on these dates (inclusive): leave, illness.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotaAbsence {
    pub user: UserId,
    pub from: Date,
    pub to: Date,
}

/// The on-duty rota (policy section 4): who is the DSL on duty, and the deputies, for each
/// hour of the week, less absences.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rota {
    #[serde(default)]
    pub slots: Vec<RotaSlot>,
    #[serde(default)]
    pub absences: Vec<RotaAbsence>,
}

/// The most stretches and absences a rota may hold.
pub const MAX_ROTA_ROWS: usize = 500;

fn weekday_of(n: i8) -> Option<Weekday> {
    Weekday::from_monday_one_offset(n).ok()
}

impl Rota {
    /// Checks times, weekdays and absences (who holds which role is checked by the service
    /// against the directory).
    pub fn check(&self) -> Result<(), Invalid> {
        let mut v = Validator::new();
        if self.slots.len() > MAX_ROTA_ROWS || self.absences.len() > MAX_ROTA_ROWS {
            v.check::<()>(
                "slots",
                Err(format!("A rota holds at most {MAX_ROTA_ROWS} rows")),
            );
        }
        for (i, slot) in self.slots.iter().enumerate() {
            if weekday_of(slot.weekday).is_none() {
                v.check::<()>(
                    &format!("slots.{i}.weekday"),
                    Err("Choose a day of the week".to_owned()),
                );
            }
            let starts = v.check(&format!("slots.{i}.starts"), parse_time(&slot.starts));
            let ends = v.check(&format!("slots.{i}.ends"), parse_time(&slot.ends));
            if starts.is_some() && starts == ends && slot.starts != "00:00" {
                v.check::<()>(
                    &format!("slots.{i}.ends"),
                    Err("The stretch must end at a different time from its start (00:00 to 00:00 covers the whole day)".to_owned()),
                );
            }
        }
        for (i, a) in self.absences.iter().enumerate() {
            if a.to < a.from {
                v.check::<()>(
                    &format!("absences.{i}.to"),
                    Err("The absence must end on or after its first day".to_owned()),
                );
            }
        }
        v.finish()
    }

    /// Whether the stretch covers this London date and time.
    fn covers(slot: &RotaSlot, at: jiff::civil::DateTime) -> bool {
        let (Some(day), Ok(starts), Ok(ends)) = (
            weekday_of(slot.weekday),
            parse_time(&slot.starts),
            parse_time(&slot.ends),
        ) else {
            return false;
        };
        let time = at.time();
        let today = at.date().weekday();
        if starts < ends {
            today == day && time >= starts && time < ends
        } else {
            // Past midnight (or the whole day when both are 00:00).
            (today == day && time >= starts) || (today == day.next() && time < ends)
        }
    }

    /// Who is on duty at this instant, the DSL first, then deputies; each person once; those
    /// absent that day left out.
    pub fn on_duty(&self, at: Timestamp, tz: &TimeZone) -> Vec<(UserId, RotaPosition)> {
        let local = tz.to_datetime(at);
        let date = local.date();
        let mut found: Vec<(UserId, RotaPosition)> = self
            .slots
            .iter()
            .filter(|s| Self::covers(s, local))
            .filter(|s| {
                !self
                    .absences
                    .iter()
                    .any(|a| a.user == s.user && a.from <= date && date <= a.to)
            })
            .map(|s| (s.user, s.position))
            .collect();
        found.sort_by_key(|(_, p)| *p);
        let mut seen = Vec::new();
        found.retain(|(u, _)| {
            if seen.contains(u) {
                false
            } else {
                seen.push(*u);
                true
            }
        });
        found
    }
}

/// A phone contact kept on the service or a site.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
}

/// A site's own contacts: where the site is a school, its DSL (who has no account here), and
/// its local authority's emergency duty team when it differs from the service's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteContacts {
    #[serde(default)]
    pub school_dsl: Contact,
    #[serde(default)]
    pub emergency_duty_team: Contact,
}

/// The out-of-hours contacts (policy section 4): the local authority's emergency duty team,
/// the local authority designated officer (allegations against staff), and each site's own.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contacts {
    #[serde(default)]
    pub emergency_duty_team: Contact,
    #[serde(default)]
    pub designated_officer: Contact,
    /// Anything else a raiser needs out of hours (free text).
    #[serde(default)]
    pub out_of_hours_note: String,
    /// By site id.
    #[serde(default)]
    pub sites: BTreeMap<String, SiteContacts>,
}

impl Contact {
    fn check(&self, v: &mut Validator, field: &str) -> Contact {
        let mut line = |part: &str, raw: &str, max: usize| {
            v.check(&format!("{field}.{part}"), parse_optional_line(raw, max))
                .flatten()
                .unwrap_or_default()
        };
        Contact {
            name: line("name", &self.name, 200),
            phone: line("phone", &self.phone, 40),
            email: line("email", &self.email, 254),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.name.is_empty() && self.phone.is_empty() && self.email.is_empty()
    }
}

impl Contacts {
    pub fn parse(input: &Contacts) -> Result<Self, Invalid> {
        let mut v = Validator::new();
        let emergency_duty_team = input
            .emergency_duty_team
            .check(&mut v, "emergency_duty_team");
        let designated_officer = input.designated_officer.check(&mut v, "designated_officer");
        let out_of_hours_note = v
            .check(
                "out_of_hours_note",
                parse_optional_text(&input.out_of_hours_note, 2000),
            )
            .flatten()
            .unwrap_or_default();
        let mut sites = BTreeMap::new();
        if input.sites.len() > MAX_ROTA_ROWS {
            v.check::<()>("sites", Err("Too many sites".to_owned()));
        }
        for (site, c) in input.sites.iter().take(MAX_ROTA_ROWS) {
            if let Some(id) = v.check("sites", crate::directory::SiteId::parse(site)) {
                let field = format!("sites.{id}");
                sites.insert(
                    id.to_string(),
                    SiteContacts {
                        school_dsl: c.school_dsl.check(&mut v, &format!("{field}.school_dsl")),
                        emergency_duty_team: c
                            .emergency_duty_team
                            .check(&mut v, &format!("{field}.emergency_duty_team")),
                    },
                );
            }
        }
        v.finish()?;
        Ok(Contacts {
            emergency_duty_team,
            designated_officer,
            out_of_hours_note,
            sites,
        })
    }

    /// The emergency duty team for a site: its own, else the service's.
    pub fn emergency_duty_team_for(&self, site: Option<&str>) -> &Contact {
        site.and_then(|s| self.sites.get(s))
            .map(|s| &s.emergency_duty_team)
            .filter(|c| !c.is_empty())
            .unwrap_or(&self.emergency_duty_team)
    }
}

/// The service's safeguarding timing (policy section 4): service policy, not statute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timing {
    /// Urgent: the DSL on duty acknowledges within this many minutes, else escalation and the
    /// raiser is told to call the emergency duty team or 999.
    pub urgent_acknowledge_minutes: u32,
    /// Non-urgent: acknowledged by the end of the working day (0) or this many working days
    /// after.
    pub acknowledge_working_days: u32,
    /// Non-urgent: decided by the end of the next working day (1).
    pub decide_working_days: u32,
    /// Allegations: referred to the designated officer within this many working days.
    pub allegation_refer_working_days: u32,
    /// After a referral: the local authority acknowledges and decides within one working
    /// day (clinical-facts section 5.4); feedback is chased when this many pass without it.
    #[serde(default = "default_referral_feedback_working_days")]
    pub referral_feedback_working_days: u32,
    /// The safeguarding file goes to a new school within this many school days (in-year), or
    /// the first this many days of a new term (clinical-facts section 5.4).
    #[serde(default = "default_transfer_school_days")]
    pub transfer_school_days: u32,
}

fn default_referral_feedback_working_days() -> u32 {
    1
}

fn default_transfer_school_days() -> u32 {
    5
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            urgent_acknowledge_minutes: 30,
            acknowledge_working_days: 0,
            decide_working_days: 1,
            allegation_refer_working_days: 1,
            referral_feedback_working_days: default_referral_feedback_working_days(),
            transfer_school_days: default_transfer_school_days(),
        }
    }
}

impl Timing {
    /// By when the DSL on duty must acknowledge an urgent concern raised at `raised`.
    pub fn urgent_deadline(&self, raised: Timestamp) -> Timestamp {
        raised
            .saturating_add(jiff::SignedDuration::from_mins(i64::from(
                self.urgent_acknowledge_minutes,
            )))
            .unwrap_or(raised)
    }

    /// By when a non-urgent concern raised at `raised` must be acknowledged: the end of the
    /// working day it counts from, or that many working days on.
    pub fn acknowledge_deadline(
        &self,
        raised: Timestamp,
        calendar: &crate::calendar::WorkingCalendar,
    ) -> Timestamp {
        match self.acknowledge_working_days {
            0 => calendar.end_of_working_day(raised),
            n => calendar.deadline_after_working_days(raised, n),
        }
    }

    /// By when a concern counted from `from` (its submission, or its re-opening) must be
    /// decided: the close of the working day that many working days on.
    pub fn decide_deadline(
        &self,
        from: Timestamp,
        calendar: &crate::calendar::WorkingCalendar,
    ) -> Timestamp {
        calendar.deadline_after_working_days(from, self.decide_working_days)
    }

    pub fn check(&self) -> Result<(), Invalid> {
        let mut v = Validator::new();
        if !(5..=240).contains(&self.urgent_acknowledge_minutes) {
            v.check::<()>(
                "urgent_acknowledge_minutes",
                Err("Between 5 and 240 minutes".to_owned()),
            );
        }
        for (field, n) in [
            ("acknowledge_working_days", self.acknowledge_working_days),
            ("decide_working_days", self.decide_working_days),
            (
                "allegation_refer_working_days",
                self.allegation_refer_working_days,
            ),
            (
                "referral_feedback_working_days",
                self.referral_feedback_working_days,
            ),
        ] {
            if n > 10 {
                v.check::<()>(field, Err("At most 10 working days".to_owned()));
            }
        }
        if !(1..=20).contains(&self.transfer_school_days) {
            v.check::<()>(
                "transfer_school_days",
                Err("Between 1 and 20 school days".to_owned()),
            );
        }
        v.finish()
    }
}

/// A source for a duty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    pub title: String,
    pub url: String,
}

/// A legal duty tied to categories of concern, falling on the person who raised it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Duty {
    pub code: String,
    pub title: String,
    pub categories: Vec<String>,
    #[serde(default)]
    pub sexes: Vec<String>,
    pub under_age: Option<i16>,
    #[serde(default)]
    pub registrations: Vec<String>,
    #[serde(default)]
    pub nations: Vec<String>,
    pub report_to: String,
    pub deadline_working_days: u32,
    pub longest_days: u32,
    pub what_to_do: String,
    pub sources: Vec<Source>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DutyFile {
    duty: Vec<Duty>,
}

/// What a duty's conditions are tested against.
#[derive(Debug, Clone, Copy)]
pub struct DutyCase<'a> {
    pub categories: &'a [HarmCategory],
    /// The child's recorded sex code, when known.
    pub sex: Option<&'a str>,
    /// The child's age in years, when known.
    pub age: Option<i16>,
    pub registration: RegistrationBody,
    pub nation: Nation,
}

impl Duty {
    /// Whether the duty falls on the raiser here. Unknown sex or age count as a match.
    pub fn applies(&self, case: &DutyCase<'_>) -> bool {
        let category = self
            .categories
            .iter()
            .any(|c| case.categories.iter().any(|h| h.code() == c));
        let sex =
            self.sexes.is_empty() || case.sex.is_none_or(|s| self.sexes.iter().any(|x| x == s));
        let age = match (self.under_age, case.age) {
            (Some(limit), Some(age)) => age < limit,
            _ => true,
        };
        let registration = self.registrations.is_empty()
            || self
                .registrations
                .iter()
                .any(|r| r == case.registration.code());
        let nation =
            self.nations.is_empty() || self.nations.iter().any(|n| n == case.nation.code());
        category && sex && age && registration && nation
    }
}

/// The shipped duties, checked.
pub fn duties() -> Result<Vec<Duty>, String> {
    parse_duties(include_str!("../data/safeguarding/duties.toml"))
}

/// Reads and checks a duties file: codes unique, categories and registrations known.
pub fn parse_duties(text: &str) -> Result<Vec<Duty>, String> {
    let file: DutyFile = toml::from_str(text).map_err(|e| e.to_string())?;
    let mut codes = Vec::new();
    for duty in &file.duty {
        if codes.contains(&duty.code) {
            return Err(format!("duty {} is listed twice", duty.code));
        }
        codes.push(duty.code.clone());
        for c in &duty.categories {
            HarmCategory::parse(c)
                .map_err(|_| format!("duty {}: unknown category {c}", duty.code))?;
        }
        for r in &duty.registrations {
            if !RegistrationBody::ALL.iter().any(|b| b.code() == r) {
                return Err(format!("duty {}: unknown registration {r}", duty.code));
            }
        }
        if duty.sources.is_empty() {
            return Err(format!("duty {} needs a source", duty.code));
        }
    }
    Ok(file.duty)
}

/// A step recorded on a submitted concern (append-only; its detail sealed like the concern).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepKind {
    /// The DSL (or deputy, or the allegation's handler) has it.
    Acknowledged,
    /// The DSL matched a looked-up child to a record.
    Matched,
    /// Another child linked.
    LinkedChild,
    /// The raiser called the emergency duty team or 999.
    EmergencyCall,
    /// The school's own DSL was told (when, by whom).
    SchoolDslTold,
    /// A statutory report made (the duty's code and the reference).
    StatutoryReport,
    /// An allegation referred to the local authority designated officer.
    DesignatedOfficerReferral,
    /// The DSL gathered information (whom they spoke to, what they learnt).
    InformationGathered,
    /// The DSL's decision and its rationale (issue 14: no further action, monitor with a
    /// review date, early help, children's social care, police, another agency).
    Decided,
    /// A referral made: the agency, its reference, who was spoken to, when.
    Referred,
    /// The agency chased for feedback.
    Chased,
    /// Feedback and outcome from the agency.
    Outcome,
    /// Closed, with a summary.
    Closed,
    /// Re-opened on new information (a fresh decision is then due).
    Reopened,
    /// An information-sharing decision: what, with whom, on what basis, consent.
    InformationShared,
    /// What the DSL shares with a therapist on the child's case team: all they see of it.
    SharedWithTeam,
}

impl StepKind {
    pub const ALL: [StepKind; 16] = [
        StepKind::Acknowledged,
        StepKind::Matched,
        StepKind::LinkedChild,
        StepKind::EmergencyCall,
        StepKind::SchoolDslTold,
        StepKind::StatutoryReport,
        StepKind::DesignatedOfficerReferral,
        StepKind::InformationGathered,
        StepKind::Decided,
        StepKind::Referred,
        StepKind::Chased,
        StepKind::Outcome,
        StepKind::Closed,
        StepKind::Reopened,
        StepKind::InformationShared,
        StepKind::SharedWithTeam,
    ];

    pub fn code(self) -> &'static str {
        match self {
            StepKind::Acknowledged => "acknowledged",
            StepKind::Matched => "matched",
            StepKind::LinkedChild => "linked-child",
            StepKind::EmergencyCall => "emergency-call",
            StepKind::SchoolDslTold => "school-dsl-told",
            StepKind::StatutoryReport => "statutory-report",
            StepKind::DesignatedOfficerReferral => "designated-officer-referral",
            StepKind::InformationGathered => "information-gathered",
            StepKind::Decided => "decided",
            StepKind::Referred => "referred",
            StepKind::Chased => "chased",
            StepKind::Outcome => "outcome",
            StepKind::Closed => "closed",
            StepKind::Reopened => "reopened",
            StepKind::InformationShared => "information-shared",
            StepKind::SharedWithTeam => "shared-with-team",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            StepKind::Acknowledged => "Acknowledged",
            StepKind::Matched => "Matched to the child's record",
            StepKind::LinkedChild => "Another child linked",
            StepKind::EmergencyCall => "Emergency duty team or 999 called",
            StepKind::SchoolDslTold => "The school's DSL told",
            StepKind::StatutoryReport => "Statutory report made",
            StepKind::DesignatedOfficerReferral => "Referred to the designated officer",
            StepKind::InformationGathered => "Information gathered",
            StepKind::Decided => "Decision",
            StepKind::Referred => "Referral made",
            StepKind::Chased => "Feedback chased",
            StepKind::Outcome => "Feedback and outcome",
            StepKind::Closed => "Closed",
            StepKind::Reopened => "Re-opened",
            StepKind::InformationShared => "Information shared",
            StepKind::SharedWithTeam => "Shared with the therapist",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.code() == code)
            .ok_or_else(|| "Choose a step from the list".to_owned())
    }
}

/// What a step says (sealed). Every field is text as a form sends it; [`StepDetail::parse`]
/// checks what the step's kind needs and returns the same shape normalised (codes checked,
/// the date as `2026-12-31`, the time as `14:05`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepDetail {
    /// Free text: whom was called, what was learnt, the rationale, the summary, what was
    /// shared.
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub reference: String,
    /// A statutory report's duty code.
    #[serde(default)]
    pub duty: String,
    /// A decision's code ([`crate::concern_workflow::Decision`]).
    #[serde(default)]
    pub decision: String,
    /// Monitor: the review date.
    #[serde(default)]
    pub review_on: String,
    /// A referral's (or outcome's) agency code ([`crate::concern_workflow::Agency`]).
    #[serde(default)]
    pub agency: String,
    /// The agency's name when it is another agency (or the team within it).
    #[serde(default)]
    pub agency_name: String,
    /// Who was spoken to.
    #[serde(default)]
    pub spoken_to: String,
    /// When it happened (empty: when it was recorded).
    #[serde(default)]
    pub on: String,
    #[serde(default)]
    pub time: String,
    /// Information shared: with whom (person and organisation).
    #[serde(default)]
    pub with_whom: String,
    /// Information shared: the lawful basis's code ([`crate::concern_workflow::SharingBasis`]).
    #[serde(default)]
    pub basis: String,
    /// Information shared: whether consent was sought ([`crate::concern_workflow::ConsentSought`]).
    #[serde(default)]
    pub consent: String,
    /// Why consent was, or was not, sought.
    #[serde(default)]
    pub consent_reason: String,
    /// Information shared with one of the child's carers: the carer's id (the outbound rule
    /// of policy section 2 is asked).
    #[serde(default)]
    pub carer: String,
    /// What the sharing reveals about the child, for the outbound rule.
    #[serde(default)]
    pub reveals_location: bool,
    #[serde(default)]
    pub reveals_school: bool,
    /// Shared with the team: the therapist's user id.
    #[serde(default)]
    pub shared_with: String,
}

impl StepDetail {
    /// Checks what `kind` needs. `now` and `tz` bound the "when" (never in the future) and a
    /// monitor's review date (never in the past).
    pub fn parse(
        kind: StepKind,
        input: &StepDetail,
        now: Timestamp,
        tz: &TimeZone,
    ) -> Result<Self, Invalid> {
        use crate::concern_workflow::{Agency, ConsentSought, Decision, SharingBasis};
        let mut v = Validator::new();
        let text = |v: &mut Validator, field: &str, raw: &str, max: usize| {
            v.check(field, parse_optional_text(raw, max))
                .flatten()
                .unwrap_or_default()
        };
        let line = |v: &mut Validator, field: &str, raw: &str, max: usize| {
            v.check(field, parse_optional_line(raw, max))
                .flatten()
                .unwrap_or_default()
        };
        let need = |v: &mut Validator, field: &str, value: &str, message: &str| {
            if value.is_empty() {
                v.check::<()>(field, Err(message.to_owned()));
            }
        };
        let note = text(&mut v, "note", &input.note, MAX_PART_CHARS);
        let reference = line(&mut v, "reference", &input.reference, 100);
        let duty = line(&mut v, "duty", &input.duty, 100);
        let agency_name = line(&mut v, "agency_name", &input.agency_name, 200);
        let spoken_to = line(&mut v, "spoken_to", &input.spoken_to, 200);
        let with_whom = line(&mut v, "with_whom", &input.with_whom, 300);
        let consent_reason = text(&mut v, "consent_reason", &input.consent_reason, 2000);
        let local_now = tz.to_datetime(now);
        let (on, time) = match (input.on.trim(), input.time.trim()) {
            ("", "") => (String::new(), String::new()),
            (on, time) => {
                let date = v.check("on", crate::error::parse_date(on));
                let clock = v.check("time", parse_time(time));
                match (date, clock) {
                    (Some(d), Some(t)) if d.to_datetime(t) > local_now => {
                        v.check::<()>("on", Err("This is in the future".to_owned()));
                        (String::new(), String::new())
                    }
                    (Some(d), Some(t)) => (d.to_string(), t.strftime("%H:%M").to_string()),
                    _ => (String::new(), String::new()),
                }
            }
        };
        let code = |v: &mut Validator,
                    field: &str,
                    raw: &str,
                    parse: fn(&str) -> Result<&'static str, String>| {
            if raw.trim().is_empty() {
                String::new()
            } else {
                v.check(field, parse(raw))
                    .map(str::to_owned)
                    .unwrap_or_default()
            }
        };
        let decision = code(&mut v, "decision", &input.decision, |r| {
            Decision::parse(r).map(Decision::code)
        });
        let agency = code(&mut v, "agency", &input.agency, |r| {
            Agency::parse(r).map(Agency::code)
        });
        let basis = code(&mut v, "basis", &input.basis, |r| {
            SharingBasis::parse(r).map(SharingBasis::code)
        });
        let consent = code(&mut v, "consent", &input.consent, |r| {
            ConsentSought::parse(r).map(ConsentSought::code)
        });
        let mut review_on = String::new();
        let carer = input.carer.trim().to_owned();
        if !carer.is_empty() && uuid::Uuid::parse_str(&carer).is_err() {
            v.check::<()>("carer", Err("Choose a carer from the list".to_owned()));
        }
        let shared_with = input.shared_with.trim().to_owned();
        if !shared_with.is_empty() && UserId::parse(&shared_with).is_err() {
            v.check::<()>(
                "shared_with",
                Err("Choose a therapist from the list".to_owned()),
            );
        }
        match kind {
            StepKind::EmergencyCall => {
                need(
                    &mut v,
                    "note",
                    &note,
                    "Say whom you called, when, and what they said",
                );
            }
            StepKind::SchoolDslTold => {
                need(
                    &mut v,
                    "note",
                    &note,
                    "Say who told the school's DSL, and when",
                );
            }
            StepKind::StatutoryReport => {
                if reference.is_empty() || duty.is_empty() {
                    v.check::<()>(
                        "reference",
                        Err("Enter the reference you were given".to_owned()),
                    );
                }
            }
            StepKind::DesignatedOfficerReferral => {
                need(
                    &mut v,
                    "note",
                    &note,
                    "Say who you spoke to, when, and what was agreed",
                );
            }
            StepKind::InformationGathered => {
                need(
                    &mut v,
                    "note",
                    &note,
                    "Say whom you spoke to and what you learnt",
                );
            }
            StepKind::Decided => {
                need(
                    &mut v,
                    "decision",
                    input.decision.trim(),
                    "Choose the decision",
                );
                need(&mut v, "note", &note, "Give the reasons for the decision");
                if decision == Decision::Monitor.code() {
                    match v.check("review_on", crate::error::parse_date(&input.review_on)) {
                        Some(d) if d < local_now.date() => {
                            v.check::<()>(
                                "review_on",
                                Err("The review date is in the past".to_owned()),
                            );
                        }
                        Some(d) => review_on = d.to_string(),
                        None => {}
                    }
                }
                if decision == Decision::OtherAgency.code() {
                    need(&mut v, "agency_name", &agency_name, "Name the agency");
                }
            }
            StepKind::Referred => {
                need(&mut v, "agency", input.agency.trim(), "Choose the agency");
                if agency == Agency::Other.code() {
                    need(&mut v, "agency_name", &agency_name, "Name the agency");
                }
                need(&mut v, "spoken_to", &spoken_to, "Say who you spoke to");
                if input.on.trim().is_empty() {
                    v.check::<()>("on", Err("Say when the referral was made".to_owned()));
                }
            }
            StepKind::Chased => {
                need(
                    &mut v,
                    "note",
                    &note,
                    "Say whom you chased and what they said",
                );
            }
            StepKind::Outcome => {
                need(&mut v, "note", &note, "Write the feedback and the outcome");
            }
            StepKind::Closed => {
                need(&mut v, "note", &note, "Write a summary for the closure");
            }
            StepKind::Reopened => {
                need(
                    &mut v,
                    "note",
                    &note,
                    "Say what new information re-opens it",
                );
            }
            StepKind::InformationShared => {
                need(&mut v, "note", &note, "Say what was shared");
                need(
                    &mut v,
                    "with_whom",
                    &with_whom,
                    "Say with whom (person and organisation)",
                );
                need(
                    &mut v,
                    "basis",
                    input.basis.trim(),
                    "Choose the basis for sharing",
                );
                need(
                    &mut v,
                    "consent",
                    input.consent.trim(),
                    "Say whether consent was sought",
                );
                need(
                    &mut v,
                    "consent_reason",
                    &consent_reason,
                    "Say why consent was, or was not, sought",
                );
            }
            StepKind::SharedWithTeam => {
                need(&mut v, "shared_with", &shared_with, "Choose the therapist");
                need(&mut v, "note", &note, "Write what you share with them");
            }
            StepKind::Acknowledged | StepKind::Matched | StepKind::LinkedChild => {}
        }
        v.finish()?;
        Ok(StepDetail {
            note,
            reference,
            duty,
            decision,
            review_on,
            agency,
            agency_name,
            spoken_to,
            on,
            time,
            with_whom,
            basis,
            consent,
            consent_reason,
            carer,
            reveals_location: input.reveals_location,
            reveals_school: input.reveals_school,
            shared_with,
        })
    }

    /// When the step says it happened (its date and time), if it says.
    pub fn occurred_at(&self, tz: &TimeZone) -> Option<Timestamp> {
        let date: Date = self.on.parse().ok()?;
        let time = parse_time(&self.time).ok()?;
        tz.to_ambiguous_zoned_datetime(date.to_datetime(time))
            .compatible()
            .ok()
            .map(|z| z.timestamp())
    }

    /// A monitor decision's review date.
    pub fn review_date(&self) -> Option<Date> {
        self.review_on.parse().ok()
    }
}

/// An addendum's reason and text (a correction or something learnt later; the original
/// stands).
pub fn parse_addendum(reason: &str, text: &str) -> Result<(String, String), Invalid> {
    let mut v = Validator::new();
    let reason = v.check("reason", parse_line(reason, 3, 500));
    let text = v.check("text", crate::error::parse_text(text, 1, MAX_PART_CHARS));
    v.finish()?;
    Ok((reason.unwrap_or_default(), text.unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::version::Version;

    fn london() -> TimeZone {
        TimeZone::get("Europe/London").unwrap()
    }

    fn user(roles: &[Role]) -> User {
        User {
            id: UserId(uuid::Uuid::new_v4()),
            username: crate::identity::Username::parse("someone").unwrap(),
            display_name: "Some One".to_owned(),
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

    fn complete() -> ConcernContent {
        ConcernContent {
            immediate_danger: "no".to_owned(),
            child_words: "He said \"my dad hit me with the belt\"".to_owned(),
            practitioner_said: "I said I would have to tell Ms Shah, who keeps children safe"
                .to_owned(),
            location: "Therapy room 2".to_owned(),
            happened_on: "30/11/2026".to_owned(),
            happened_time: "10:15".to_owned(),
            categories: vec!["physical".to_owned()],
            ..Default::default()
        }
    }

    fn noon() -> Timestamp {
        "2026-11-30T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_complete_concern_is_checked_with_its_times() {
        let checked = complete().check_complete(noon(), &london(), false).unwrap();
        assert!(!checked.urgent);
        assert_eq!(checked.categories, vec![HarmCategory::Physical]);
        assert_eq!(checked.happened_at.time(), Time::constant(10, 15, 0, 0));
        assert_eq!(checked.written_at.time(), Time::constant(12, 0, 0, 0));
    }

    #[test]
    fn submitting_names_every_missing_part_at_once() {
        let err = ConcernContent::default()
            .check_complete(noon(), &london(), true)
            .unwrap_err();
        let fields: Vec<&str> = err.errors.iter().map(|e| e.field.as_str()).collect();
        for f in [
            "immediate_danger",
            "child_words",
            "location",
            "happened_on",
            "happened_time",
            "categories",
            "school_dsl_told",
        ] {
            assert!(fields.contains(&f), "{f} missing from {fields:?}");
        }
    }

    #[test]
    fn words_without_what_was_said_back_are_refused_and_the_future_is_refused() {
        let mut c = complete();
        c.practitioner_said.clear();
        c.happened_on = "01/12/2026".to_owned();
        let err = c.check_complete(noon(), &london(), false).unwrap_err();
        let fields: Vec<&str> = err.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["practitioner_said", "happened_on"]);
    }

    #[test]
    fn other_needs_words_and_written_cannot_precede_happened() {
        let mut c = complete();
        c.categories = vec!["other".to_owned()];
        c.written_on = "29/11/2026".to_owned();
        c.written_time = "09:00".to_owned();
        let err = c.check_complete(noon(), &london(), false).unwrap_err();
        let fields: Vec<&str> = err.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["written_on", "category_other"]);
    }

    #[test]
    fn drafts_refuse_unknown_choices_and_marks_off_the_outline() {
        let input = ConcernContent {
            immediate_danger: "maybe".to_owned(),
            categories: vec!["physical".to_owned(), "witchcraft".to_owned()],
            marks: vec![
                BodyMark {
                    side: "back".to_owned(),
                    region: "face".to_owned(),
                    description: "bruise".to_owned(),
                },
                BodyMark {
                    side: "front".to_owned(),
                    region: "left-arm".to_owned(),
                    description: "three finger-shaped bruises".to_owned(),
                },
            ],
            ..Default::default()
        };
        let err = ConcernContent::parse_draft(&input).unwrap_err();
        let fields: Vec<&str> = err.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec!["immediate_danger", "categories", "marks.0.region"]
        );
        let mut ok = input.clone();
        ok.immediate_danger = "yes".to_owned();
        ok.categories = vec![
            "sexual".to_owned(),
            "physical".to_owned(),
            "physical".to_owned(),
        ];
        ok.marks.remove(0);
        let parsed = ConcernContent::parse_draft(&ok).unwrap();
        assert_eq!(parsed.categories, vec!["physical", "sexual"]);
    }

    #[test]
    fn control_characters_are_refused_in_a_draft() {
        let input = ConcernContent {
            child_words: "a\u{0}b".to_owned(),
            ..Default::default()
        };
        assert!(ConcernContent::parse_draft(&input).is_err());
    }

    #[test]
    fn only_the_dsl_deputies_lead_and_author_reach_a_concern() {
        let author = user(&[Role::Staff]);
        assert_eq!(concern_reach(&author, author.id), Reach::OwnEntries);
        assert_eq!(concern_reach(&user(&[Role::Dsl]), author.id), Reach::Write);
        assert_eq!(
            concern_reach(&user(&[Role::DeputyDsl]), author.id),
            Reach::Write
        );
        assert_eq!(
            concern_reach(&user(&[Role::ServiceLead]), author.id),
            Reach::Read
        );
        for role in [
            Role::Administrator,
            Role::Therapist,
            Role::Supervisor,
            Role::Staff,
        ] {
            assert_eq!(
                concern_reach(&user(&[role]), author.id),
                Reach::None,
                "{role:?}"
            );
        }
    }

    #[test]
    fn administrators_neither_raise_nor_see_the_queue() {
        assert!(!may_raise(&user(&[Role::Administrator])));
        assert!(may_raise(&user(&[Role::Administrator, Role::Staff])));
        assert!(may_raise(&user(&[Role::Staff])));
        assert!(!sees_queue(&user(&[Role::Administrator, Role::Therapist])));
        assert!(sees_queue(&user(&[Role::DeputyDsl])));
        assert!(may_edit_rota(&user(&[Role::Dsl])));
        assert!(!may_edit_rota(&user(&[Role::DeputyDsl])));
        assert!(!may_edit_settings(&user(&[Role::Dsl])));
    }

    #[test]
    fn an_allegation_is_never_seen_by_its_subject() {
        let author = user(&[Role::Therapist]);
        let therapist = user(&[Role::Therapist]);
        let lead = user(&[Role::ServiceLead]);
        let dsl = user(&[Role::Dsl]);
        let admin = user(&[Role::Administrator]);
        assert_eq!(allegation_reach(&lead, author.id, &therapist), Reach::Write);
        assert_eq!(allegation_reach(&dsl, author.id, &therapist), Reach::None);
        assert_eq!(allegation_reach(&admin, author.id, &therapist), Reach::None);
        assert_eq!(
            allegation_reach(&therapist, author.id, &therapist),
            Reach::None
        );
        assert_eq!(
            allegation_reach(&author, author.id, &therapist),
            Reach::OwnEntries
        );
        // About the service lead: the DSL handles it, the lead never sees it.
        assert_eq!(allegation_reach(&dsl, author.id, &lead), Reach::Write);
        assert_eq!(allegation_reach(&lead, author.id, &lead), Reach::None);
        let other_lead = user(&[Role::ServiceLead]);
        assert_eq!(allegation_reach(&other_lead, author.id, &lead), Reach::None);
        // About a DSL: the service lead, not the DSL.
        assert_eq!(allegation_reach(&dsl, author.id, &dsl), Reach::None);
        assert_eq!(allegation_reach(&lead, author.id, &dsl), Reach::Write);
        // Even its own author, if they are the subject.
        assert_eq!(
            allegation_reach(&therapist, therapist.id, &therapist),
            Reach::None
        );
        assert_eq!(allegation_handlers(&lead), &[Role::Dsl, Role::DeputyDsl]);
        assert_eq!(allegation_handlers(&therapist), &[Role::ServiceLead]);
    }

    fn slot(
        user: UserId,
        position: RotaPosition,
        weekday: i8,
        starts: &str,
        ends: &str,
    ) -> RotaSlot {
        RotaSlot {
            user,
            position,
            weekday,
            starts: starts.to_owned(),
            ends: ends.to_owned(),
        }
    }

    #[test]
    fn the_rota_names_the_dsl_first_and_leaves_out_absences_and_gaps() {
        let (a, b, c) = (
            UserId(uuid::Uuid::new_v4()),
            UserId(uuid::Uuid::new_v4()),
            UserId(uuid::Uuid::new_v4()),
        );
        let rota = Rota {
            slots: vec![
                slot(b, RotaPosition::Deputy, 1, "08:00", "18:00"),
                slot(a, RotaPosition::Dsl, 1, "08:00", "18:00"),
                // Friday evening into Saturday morning.
                slot(c, RotaPosition::Dsl, 5, "18:00", "09:00"),
            ],
            absences: vec![RotaAbsence {
                user: a,
                from: jiff::civil::date(2026, 12, 7),
                to: jiff::civil::date(2026, 12, 7),
            }],
        };
        rota.check().unwrap();
        let tz = london();
        // Monday 30/11/2026 12:00 London.
        assert_eq!(
            rota.on_duty(noon(), &tz),
            vec![(a, RotaPosition::Dsl), (b, RotaPosition::Deputy)]
        );
        // The next Monday, a is away.
        let next: Timestamp = "2026-12-07T12:00:00Z".parse().unwrap();
        assert_eq!(rota.on_duty(next, &tz), vec![(b, RotaPosition::Deputy)]);
        // Saturday 05/12 at 02:00: past midnight from Friday.
        let sat: Timestamp = "2026-12-05T02:00:00Z".parse().unwrap();
        assert_eq!(rota.on_duty(sat, &tz), vec![(c, RotaPosition::Dsl)]);
        // Sunday 06/12 at 02:00: nobody.
        let sun: Timestamp = "2026-12-06T02:00:00Z".parse().unwrap();
        assert!(rota.on_duty(sun, &tz).is_empty());
    }

    #[test]
    fn the_rota_refuses_bad_days_times_and_absences() {
        let a = UserId(uuid::Uuid::new_v4());
        let rota = Rota {
            slots: vec![slot(a, RotaPosition::Dsl, 8, "25:00", "09:00")],
            absences: vec![RotaAbsence {
                user: a,
                from: jiff::civil::date(2026, 12, 7),
                to: jiff::civil::date(2026, 12, 1),
            }],
        };
        let err = rota.check().unwrap_err();
        let fields: Vec<&str> = err.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec!["slots.0.weekday", "slots.0.starts", "absences.0.to"]
        );
    }

    #[test]
    fn the_fgm_duty_falls_only_on_regulated_professionals_and_teachers_for_girls_under_18() {
        let duties = duties().unwrap();
        let fgm = duties
            .iter()
            .find(|d| d.code == "fgm-mandatory-report")
            .unwrap();
        let case = |registration, sex, age, nation| DutyCase {
            categories: &[HarmCategory::Fgm],
            sex,
            age,
            registration,
            nation,
        };
        assert!(fgm.applies(&case(
            RegistrationBody::Hcpc,
            Some("female"),
            Some(12),
            Nation::England
        )));
        assert!(fgm.applies(&case(RegistrationBody::Teacher, None, None, Nation::Wales)));
        assert!(!fgm.applies(&case(
            RegistrationBody::Bacp,
            Some("female"),
            Some(12),
            Nation::England
        )));
        assert!(!fgm.applies(&case(
            RegistrationBody::Hcpc,
            Some("male"),
            Some(12),
            Nation::England
        )));
        assert!(!fgm.applies(&case(
            RegistrationBody::Hcpc,
            Some("female"),
            Some(18),
            Nation::England
        )));
        assert!(!fgm.applies(&case(
            RegistrationBody::Hcpc,
            Some("female"),
            Some(12),
            Nation::Scotland
        )));
        let other = DutyCase {
            categories: &[HarmCategory::Physical],
            ..case(
                RegistrationBody::Hcpc,
                Some("female"),
                Some(12),
                Nation::England,
            )
        };
        assert!(!fgm.applies(&other));
    }

    #[test]
    fn a_duties_file_with_unknown_categories_is_refused() {
        let text =
            include_str!("../data/safeguarding/duties.toml").replace("\"fgm\"]", "\"fgmx\"]");
        assert!(
            parse_duties(&text)
                .unwrap_err()
                .contains("unknown category")
        );
    }

    #[test]
    fn contacts_pick_a_sites_own_emergency_duty_team() {
        let site = crate::directory::SiteId(uuid::Uuid::new_v4()).to_string();
        let mut contacts = Contacts {
            emergency_duty_team: Contact {
                name: "County EDT".to_owned(),
                phone: "0300 123 4567".to_owned(),
                email: String::new(),
            },
            ..Default::default()
        };
        contacts.sites.insert(
            site.clone(),
            SiteContacts {
                emergency_duty_team: Contact {
                    name: "City EDT".to_owned(),
                    phone: "0300 765 4321".to_owned(),
                    email: String::new(),
                },
                ..Default::default()
            },
        );
        let parsed = Contacts::parse(&contacts).unwrap();
        assert_eq!(parsed.emergency_duty_team_for(Some(&site)).name, "City EDT");
        assert_eq!(parsed.emergency_duty_team_for(None).name, "County EDT");
        contacts
            .sites
            .insert("not-a-site".to_owned(), SiteContacts::default());
        assert!(Contacts::parse(&contacts).is_err());
    }

    #[test]
    fn a_look_up_needs_a_name_and_a_plausible_date_of_birth() {
        let today = jiff::civil::date(2026, 11, 30);
        let ok = ChildLookup::parse(
            &ChildLookup {
                name: " Sam Jones ".to_owned(),
                date_of_birth: "01/02/2015".to_owned(),
                school: "Hillside Primary".to_owned(),
            },
            today,
        )
        .unwrap();
        assert_eq!(ok.name, "Sam Jones");
        assert_eq!(ok.date_of_birth(), Some(jiff::civil::date(2015, 2, 1)));
        let err = ChildLookup::parse(
            &ChildLookup {
                date_of_birth: "01/02/2030".to_owned(),
                ..Default::default()
            },
            today,
        )
        .unwrap_err();
        assert_eq!(err.errors.len(), 2);
    }

    #[test]
    fn the_timing_gives_the_urgent_minutes_and_the_next_working_days_end() {
        let timing = Timing::default();
        let sunday: Timestamp = "2026-12-06T02:00:00Z".parse().unwrap();
        assert_eq!(
            timing.urgent_deadline(sunday),
            "2026-12-06T02:30:00Z".parse::<Timestamp>().unwrap()
        );
        let hours = crate::calendar::WorkingHours::parse("09:00", "17:00").unwrap();
        let calendar = crate::calendar::WorkingCalendar::new(Vec::new(), hours);
        // Raised outside working hours: counts from Monday 09:00, due by Monday 17:00.
        assert_eq!(
            timing.acknowledge_deadline(sunday, &calendar),
            "2026-12-07T17:00:00Z".parse::<Timestamp>().unwrap()
        );
    }

    #[test]
    fn steps_need_their_details() {
        assert!(
            StepDetail::parse(
                StepKind::EmergencyCall,
                &StepDetail::default(),
                Timestamp::now(),
                &london()
            )
            .is_err()
        );
        assert!(
            StepDetail::parse(
                StepKind::Acknowledged,
                &StepDetail::default(),
                Timestamp::now(),
                &london()
            )
            .is_ok()
        );
        let report = StepDetail {
            reference: "PR-1234".to_owned(),
            duty: "fgm-mandatory-report".to_owned(),
            ..Default::default()
        };
        assert!(
            StepDetail::parse(
                StepKind::StatutoryReport,
                &report,
                Timestamp::now(),
                &london()
            )
            .is_ok()
        );
        assert!(parse_addendum("ok", "x").is_err());
        assert!(parse_addendum("Wrong time recorded", "It was 10:45, not 10:15").is_ok());
    }
}
