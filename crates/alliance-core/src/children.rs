//! Children and the people who care for them (policy section 2): identity, identifiers
//! (NHS number, Unique Pupil Number), statuses, carers with their parental responsibility
//! and restrictions, and what a young person agrees their carers may be told.
//!
//! Everything here about a child is confidential: storage keeps it only sealed under the
//! child's own identity key.

use crate::directory::{SiteId, parse_optional_phone, uuid_id};
use crate::error::{
    Invalid, Validator, parse_line, parse_optional_date, parse_optional_line, parse_optional_text,
};
use crate::version::Version;
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

uuid_id!(ChildId, "a child");
uuid_id!(CarerId, "a carer");

/// The oldest a person may be and still be recorded as a child or young person here (the
/// explanation library's oldest band is 16-25).
pub const MAX_AGE_YEARS: i16 = 25;

/// A 10-digit NHS number with a valid modulus-11 check digit, kept as digits only.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NhsNumber(String);

impl NhsNumber {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let digits: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if digits.len() != 10 || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err("Enter the NHS number's 10 digits, like 943 476 5919".to_owned());
        }
        let values: Vec<u32> = digits.chars().filter_map(|c| c.to_digit(10)).collect();
        let sum: u32 = values[..9]
            .iter()
            .zip((2..=10).rev())
            .map(|(d, w)| d * w)
            .sum();
        let check = match 11 - (sum % 11) {
            11 => 0,
            10 => return Err("This is not a valid NHS number (check the digits)".to_owned()),
            n => n,
        };
        if check != values[9] {
            return Err("This is not a valid NHS number (check the digits)".to_owned());
        }
        Ok(Self(digits))
    }

    /// Digits only, for matching.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `943 476 5919`, as the NHS writes it.
    pub fn display(&self) -> String {
        format!("{} {} {}", &self.0[..3], &self.0[3..6], &self.0[6..])
    }
}

impl TryFrom<String> for NhsNumber {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        Self::parse(&raw)
    }
}

impl From<NhsNumber> for String {
    fn from(n: NhsNumber) -> String {
        n.0
    }
}

/// An English Unique Pupil Number: a check letter, then 12 characters (local authority,
/// establishment, year, serial); a temporary UPN ends in a letter. The check letter is the
/// weighted sum (weights 2 to 13) modulo 23, read from the DfE's alphabet without I, O and S.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Upn(String);

const UPN_LETTERS: &[u8; 23] = b"ABCDEFGHJKLMNPQRTUVWXYZ";

impl Upn {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let upn: String = raw
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
        let bytes = upn.as_bytes();
        let shape_ok = bytes.len() == 13
            && bytes[0].is_ascii_uppercase()
            && bytes[1..12].iter().all(u8::is_ascii_digit)
            && (bytes[12].is_ascii_digit() || UPN_LETTERS.contains(&bytes[12]));
        if !shape_ok {
            return Err(
                "Enter the 13-character UPN: a letter, then 12 digits (a temporary UPN ends in a letter)"
                    .to_owned(),
            );
        }
        let mut sum = 0usize;
        for (weight, &b) in (2..=13).zip(&bytes[1..]) {
            let value = if b.is_ascii_digit() {
                usize::from(b - b'0')
            } else {
                UPN_LETTERS.iter().position(|&l| l == b).unwrap_or(0)
            };
            sum += weight * value;
        }
        if UPN_LETTERS[sum % 23] != bytes[0] {
            return Err("This UPN's check letter does not match (check the characters)".to_owned());
        }
        Ok(Self(upn))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Upn {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        Self::parse(&raw)
    }
}

impl From<Upn> for String {
    fn from(n: Upn) -> String {
        n.0
    }
}

/// Sex as recorded (the NHS data dictionary's person stated sex codes); gender identity and
/// pronouns are separate, in the child's own words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sex {
    Female,
    Male,
    Indeterminate,
    NotKnown,
}

impl Sex {
    pub const ALL: [Sex; 4] = [Sex::Female, Sex::Male, Sex::Indeterminate, Sex::NotKnown];

    pub fn code(self) -> &'static str {
        match self {
            Sex::Female => "female",
            Sex::Male => "male",
            Sex::Indeterminate => "indeterminate",
            Sex::NotKnown => "not-known",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Sex::Female => "Female",
            Sex::Male => "Male",
            Sex::Indeterminate => "Indeterminate",
            Sex::NotKnown => "Not known",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|s| s.code() == code.trim())
            .ok_or_else(|| "Choose female, male, indeterminate or not-known".to_owned())
    }
}

/// A school year: nursery, reception, years 1 to 13 (England and Wales numbering), or not in
/// school. Stored as entered: a child may be taught out of their age's year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum YearGroup {
    Nursery,
    Reception,
    Year(u8),
    NotInSchool,
}

impl YearGroup {
    pub fn all() -> Vec<YearGroup> {
        let mut all = vec![YearGroup::Nursery, YearGroup::Reception];
        all.extend((1..=13).map(YearGroup::Year));
        all.push(YearGroup::NotInSchool);
        all
    }

    pub fn code(self) -> String {
        match self {
            YearGroup::Nursery => "nursery".to_owned(),
            YearGroup::Reception => "reception".to_owned(),
            YearGroup::Year(n) => format!("year-{n}"),
            YearGroup::NotInSchool => "not-in-school".to_owned(),
        }
    }

    pub fn label(self) -> String {
        match self {
            YearGroup::Nursery => "Nursery".to_owned(),
            YearGroup::Reception => "Reception".to_owned(),
            YearGroup::Year(n) => format!("Year {n}"),
            YearGroup::NotInSchool => "Not in school".to_owned(),
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        Self::all()
            .into_iter()
            .find(|y| y.code() == code.trim())
            .ok_or_else(|| {
                "Choose nursery, reception, year-1 to year-13, or not-in-school".to_owned()
            })
    }

    /// The year a child of this date of birth is usually in on `today` in England and Wales:
    /// the school year starts on 1 September and a child starts reception in the September
    /// after their fourth birthday. A hint beside the stored year, never a substitute for it.
    pub fn expected(date_of_birth: Date, today: Date) -> YearGroup {
        let school_year_start = if today.month() >= 9 {
            today.year()
        } else {
            today.year() - 1
        };
        // Age on 31 August before the school year began.
        let aug31 = Date::new(school_year_start, 8, 31).unwrap_or(today);
        let age = age_on(date_of_birth, aug31);
        match age {
            ..=2 => YearGroup::NotInSchool,
            3 => YearGroup::Nursery,
            4 => YearGroup::Reception,
            5..=17 => YearGroup::Year(u8::try_from(age - 4).unwrap_or(13)),
            _ => YearGroup::NotInSchool,
        }
    }
}

impl TryFrom<String> for YearGroup {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        Self::parse(&raw)
    }
}

impl From<YearGroup> for String {
    fn from(y: YearGroup) -> String {
        y.code()
    }
}

/// Whole years from `date_of_birth` to `on` (a birthday on 29 February falls on 28 February
/// in other years, as in UK law for most purposes).
pub fn age_on(date_of_birth: Date, on: Date) -> i16 {
    let mut years = on.year() - date_of_birth.year();
    let birthday_this_year = Date::new(on.year(), date_of_birth.month(), date_of_birth.day())
        .unwrap_or_else(|_| Date::new(on.year(), 2, 28).unwrap_or(on));
    if on < birthday_this_year {
        years -= 1;
    }
    years
}

/// An age band: the explanation library writes for each, and prompts fire when a child moves
/// into the next. The bands are data (service configuration); these are the product's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgeBand {
    pub code: String,
    pub label: String,
    pub from_years: i16,
    pub to_years: i16,
}

/// The bands in use, youngest first, without gaps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgeBands(Vec<AgeBand>);

impl Default for AgeBands {
    /// The product's bands (product.md: 3-7 read aloud, 8-11, 12-15, 16-25), with under-3s
    /// for completeness.
    fn default() -> Self {
        let band = |code: &str, label: &str, from_years, to_years| AgeBand {
            code: code.to_owned(),
            label: label.to_owned(),
            from_years,
            to_years,
        };
        Self(vec![
            band("0-2", "Under 3", 0, 2),
            band("3-7", "3 to 7 (read aloud)", 3, 7),
            band("8-11", "8 to 11", 8, 11),
            band("12-15", "12 to 15", 12, 15),
            band("16-25", "16 to 25", 16, MAX_AGE_YEARS),
        ])
    }
}

impl AgeBands {
    pub fn new(bands: Vec<AgeBand>) -> Result<Self, String> {
        let mut expected_from = 0;
        for b in &bands {
            if b.from_years != expected_from || b.to_years < b.from_years {
                return Err(format!(
                    "age band {:?} must start at {expected_from} and not end before it starts",
                    b.code
                ));
            }
            expected_from = b.to_years + 1;
        }
        Ok(Self(bands))
    }

    pub fn band_for(&self, age_years: i16) -> Option<&AgeBand> {
        self.0
            .iter()
            .find(|b| (b.from_years..=b.to_years).contains(&age_years))
    }

    pub fn all(&self) -> &[AgeBand] {
        &self.0
    }
}

/// What a young person who consents for themselves agrees their carers may be told (policy
/// section 2). Without that agreement nothing goes to carers; safeguarding sharing is
/// unaffected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CarerTopic {
    /// That they come, and when and where: letters about the regular time, breaks, the ending.
    Attendance,
    /// The agreement, handouts and consent paperwork.
    Paperwork,
    /// How the work is going, in general terms; measures the carer answers.
    Progress,
}

impl CarerTopic {
    pub const ALL: [CarerTopic; 3] = [
        CarerTopic::Attendance,
        CarerTopic::Paperwork,
        CarerTopic::Progress,
    ];

    pub fn code(self) -> &'static str {
        match self {
            CarerTopic::Attendance => "attendance",
            CarerTopic::Paperwork => "paperwork",
            CarerTopic::Progress => "progress",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CarerTopic::Attendance => "That they come, and when and where",
            CarerTopic::Paperwork => "The agreement, handouts and consent paperwork",
            CarerTopic::Progress => "How the work is going, in general terms",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|t| t.code() == code.trim())
            .ok_or_else(|| "Choose attendance, paperwork or progress".to_owned())
    }
}

/// The young person's own wishes about their carers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct YoungPersonWishes {
    /// They consent for themselves (16 or 17, or judged competent under 16; section 3).
    pub consents_for_self: bool,
    /// What they agree their carers may be told; ignored unless `consents_for_self`.
    pub carers_may_be_told: BTreeSet<CarerTopic>,
}

/// A child's record as entered, once validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildDetails {
    pub legal_name: String,
    pub preferred_name: Option<String>,
    pub date_of_birth: Date,
    pub sex: Sex,
    pub gender_identity: Option<String>,
    pub pronouns: Option<String>,
    pub nhs_number: Option<NhsNumber>,
    /// One of the service's school sites, when the child's school is one.
    pub school_site: Option<SiteId>,
    /// The school's name when it is not one of the service's sites.
    pub school_name: Option<String>,
    pub year_group: Option<YearGroup>,
    pub upn: Option<Upn>,
    pub gp_practice: Option<String>,
    pub first_language: Option<String>,
    pub communication_needs: Option<String>,
    pub looked_after: bool,
    pub child_in_need: bool,
    pub child_protection_plan: bool,
    pub ehcp: bool,
    pub social_worker: Option<String>,
    pub social_worker_contact: Option<String>,
    pub address: Option<String>,
    pub date_of_death: Option<Date>,
    pub wishes: YoungPersonWishes,
}

/// A child's form or API body before validation.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ChildInput {
    pub legal_name: String,
    pub preferred_name: String,
    pub date_of_birth: String,
    pub sex: String,
    pub gender_identity: String,
    pub pronouns: String,
    pub nhs_number: String,
    pub school_site: String,
    pub school_name: String,
    pub year_group: String,
    pub upn: String,
    pub gp_practice: String,
    pub first_language: String,
    pub communication_needs: String,
    pub looked_after: bool,
    pub child_in_need: bool,
    pub child_protection_plan: bool,
    pub ehcp: bool,
    pub social_worker: String,
    pub social_worker_contact: String,
    pub address: String,
    pub date_of_death: String,
    pub consents_for_self: bool,
    pub carers_may_be_told: Vec<String>,
}

impl ChildDetails {
    /// Validates every field against `today` (a date of birth cannot be in the future; a
    /// person over 25 is not a child here) and reports all that are at fault.
    pub fn parse(input: &ChildInput, today: Date) -> Result<Self, Invalid> {
        let mut v = Validator::new();
        let legal_name = v.check("legal_name", parse_line(&input.legal_name, 1, 120));
        let preferred_name = v.check(
            "preferred_name",
            parse_optional_line(&input.preferred_name, 80),
        );
        let dob = v.check(
            "date_of_birth",
            parse_optional_date(&input.date_of_birth).and_then(|d| {
                let d = d.ok_or_else(|| "Enter the date of birth".to_owned())?;
                if d > today {
                    Err("The date of birth cannot be in the future".to_owned())
                } else if age_on(d, today) > MAX_AGE_YEARS {
                    Err(format!(
                        "This person is over {MAX_AGE_YEARS}: Alliance records children and young people up to {MAX_AGE_YEARS}"
                    ))
                } else {
                    Ok(d)
                }
            }),
        );
        let sex = v.check("sex", Sex::parse(&input.sex));
        let gender_identity = v.check(
            "gender_identity",
            parse_optional_line(&input.gender_identity, 80),
        );
        let pronouns = v.check("pronouns", parse_optional_line(&input.pronouns, 40));
        let nhs_number = v.check("nhs_number", optional(&input.nhs_number, NhsNumber::parse));
        let school_site = v.check("school_site", optional(&input.school_site, SiteId::parse));
        let school_name = v.check("school_name", parse_optional_line(&input.school_name, 120));
        let year_group = v.check("year_group", optional(&input.year_group, YearGroup::parse));
        let upn = v.check("upn", optional(&input.upn, Upn::parse));
        let gp_practice = v.check("gp_practice", parse_optional_line(&input.gp_practice, 200));
        let first_language = v.check(
            "first_language",
            parse_optional_line(&input.first_language, 60),
        );
        let communication_needs = v.check(
            "communication_needs",
            parse_optional_text(&input.communication_needs, 1000),
        );
        let social_worker = v.check(
            "social_worker",
            parse_optional_line(&input.social_worker, 120),
        );
        let social_worker_contact = v.check(
            "social_worker_contact",
            parse_optional_line(&input.social_worker_contact, 200),
        );
        let address = v.check("address", parse_optional_text(&input.address, 500));
        let date_of_death = v.check(
            "date_of_death",
            parse_optional_date(&input.date_of_death).and_then(|d| match (d, dob) {
                (Some(d), _) if d > today => {
                    Err("The date of death cannot be in the future".to_owned())
                }
                (Some(d), Some(born)) if d < born => {
                    Err("The date of death cannot be before the date of birth".to_owned())
                }
                (d, _) => Ok(d),
            }),
        );
        let mut topics = BTreeSet::new();
        for raw in &input.carers_may_be_told {
            if let Some(t) = v.check("carers_may_be_told", CarerTopic::parse(raw)) {
                topics.insert(t);
            }
        }
        if matches!((&school_site, &school_name), (Some(Some(_)), Some(Some(_)))) {
            v.check::<()>(
                "school_name",
                Err("Choose the school from the list or type its name, not both".to_owned()),
            );
        }
        v.finish()?;
        let details = (|| {
            Some(Self {
                legal_name: legal_name?,
                preferred_name: preferred_name?,
                date_of_birth: dob?,
                sex: sex?,
                gender_identity: gender_identity?,
                pronouns: pronouns?,
                nhs_number: nhs_number?,
                school_site: school_site?,
                school_name: school_name?,
                year_group: year_group?,
                upn: upn?,
                gp_practice: gp_practice?,
                first_language: first_language?,
                communication_needs: communication_needs?,
                looked_after: input.looked_after,
                child_in_need: input.child_in_need,
                child_protection_plan: input.child_protection_plan,
                ehcp: input.ehcp,
                social_worker: social_worker?,
                social_worker_contact: social_worker_contact?,
                address: address?,
                date_of_death: date_of_death?,
                wishes: YoungPersonWishes {
                    consents_for_self: input.consents_for_self,
                    carers_may_be_told: topics,
                },
            })
        })();
        details.ok_or_else(|| Invalid::field("legal_name", "Enter the child's details"))
    }

    /// The name to call the child by: their preferred name if they have one.
    pub fn known_as(&self) -> &str {
        self.preferred_name.as_deref().unwrap_or(&self.legal_name)
    }

    /// Initials of the legal name, for pseudonymised views (supervision).
    pub fn initials(&self) -> String {
        self.legal_name
            .split_whitespace()
            .filter_map(|w| w.chars().find(|c| c.is_alphabetic()))
            .flat_map(char::to_uppercase)
            .collect()
    }

    pub fn age_on(&self, today: Date) -> i16 {
        age_on(
            self.date_of_birth,
            self.date_of_death.unwrap_or(today).min(today),
        )
    }

    /// The form fields that would produce these details (for editing).
    pub fn to_input(&self) -> ChildInput {
        let s = |o: &Option<String>| o.clone().unwrap_or_default();
        ChildInput {
            legal_name: self.legal_name.clone(),
            preferred_name: s(&self.preferred_name),
            date_of_birth: crate::uk::date(self.date_of_birth),
            sex: self.sex.code().to_owned(),
            gender_identity: s(&self.gender_identity),
            pronouns: s(&self.pronouns),
            nhs_number: self
                .nhs_number
                .as_ref()
                .map(NhsNumber::display)
                .unwrap_or_default(),
            school_site: self.school_site.map(|s| s.to_string()).unwrap_or_default(),
            school_name: s(&self.school_name),
            year_group: self.year_group.map(YearGroup::code).unwrap_or_default(),
            upn: self
                .upn
                .as_ref()
                .map(|u| u.as_str().to_owned())
                .unwrap_or_default(),
            gp_practice: s(&self.gp_practice),
            first_language: s(&self.first_language),
            communication_needs: s(&self.communication_needs),
            looked_after: self.looked_after,
            child_in_need: self.child_in_need,
            child_protection_plan: self.child_protection_plan,
            ehcp: self.ehcp,
            social_worker: s(&self.social_worker),
            social_worker_contact: s(&self.social_worker_contact),
            address: s(&self.address),
            date_of_death: self.date_of_death.map(crate::uk::date).unwrap_or_default(),
            consents_for_self: self.wishes.consents_for_self,
            carers_may_be_told: self
                .wishes
                .carers_may_be_told
                .iter()
                .map(|t| t.code().to_owned())
                .collect(),
        }
    }
}

fn optional<T>(raw: &str, parse: impl Fn(&str) -> Result<T, String>) -> Result<Option<T>, String> {
    if raw.trim().is_empty() {
        Ok(None)
    } else {
        parse(raw).map(Some)
    }
}

/// A child as stored: the details are opened from their sealed form by the service layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Child {
    pub id: ChildId,
    pub details: ChildDetails,
    pub version: Version,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The kind of parental responsibility a carer holds (Children Act 1989), if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ParentalResponsibility {
    Parent,
    SpecialGuardian,
    /// The local authority, under a care order.
    LocalAuthority,
    /// Someone else with a court order that gives it (a child arrangements order).
    Other,
}

impl ParentalResponsibility {
    pub const ALL: [ParentalResponsibility; 4] = [
        ParentalResponsibility::Parent,
        ParentalResponsibility::SpecialGuardian,
        ParentalResponsibility::LocalAuthority,
        ParentalResponsibility::Other,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ParentalResponsibility::Parent => "parent",
            ParentalResponsibility::SpecialGuardian => "special-guardian",
            ParentalResponsibility::LocalAuthority => "local-authority",
            ParentalResponsibility::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ParentalResponsibility::Parent => "Parent with parental responsibility",
            ParentalResponsibility::SpecialGuardian => "Special guardian",
            ParentalResponsibility::LocalAuthority => "Local authority (care order)",
            ParentalResponsibility::Other => "Other holder of parental responsibility",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|p| p.code() == code.trim())
            .ok_or_else(|| {
                "Choose parent, special-guardian, local-authority or other (or leave empty)"
                    .to_owned()
            })
    }
}

/// A structured restriction on what a carer may be told (policy section 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestrictionKind {
    /// Nothing about where the child is seen or when.
    NoLocationOrTimes,
    /// Nothing that names or locates the child's school.
    NoSchool,
    /// Nothing of what happens in the work.
    NoClinicalContent,
    /// Not the child's preferred name or pronouns.
    NoPreferredNameOrPronouns,
    /// No contact at all.
    NoContact,
}

impl RestrictionKind {
    pub const ALL: [RestrictionKind; 5] = [
        RestrictionKind::NoLocationOrTimes,
        RestrictionKind::NoSchool,
        RestrictionKind::NoClinicalContent,
        RestrictionKind::NoPreferredNameOrPronouns,
        RestrictionKind::NoContact,
    ];

    pub fn code(self) -> &'static str {
        match self {
            RestrictionKind::NoLocationOrTimes => "no-location-or-times",
            RestrictionKind::NoSchool => "no-school",
            RestrictionKind::NoClinicalContent => "no-clinical-content",
            RestrictionKind::NoPreferredNameOrPronouns => "no-preferred-name-or-pronouns",
            RestrictionKind::NoContact => "no-contact",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RestrictionKind::NoLocationOrTimes => "No information about location or session times",
            RestrictionKind::NoSchool => "No information about the school",
            RestrictionKind::NoClinicalContent => "No clinical content",
            RestrictionKind::NoPreferredNameOrPronouns => {
                "Not the child's preferred name or pronouns"
            }
            RestrictionKind::NoContact => "No contact at all",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.code() == code.trim())
            .ok_or_else(|| {
                format!(
                    "Choose a restriction from: {}",
                    Self::ALL.map(Self::code).join(", ")
                )
            })
    }
}

/// Where a restriction comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestrictionSource {
    CourtOrder,
    SafeguardingDecision,
}

impl RestrictionSource {
    pub const ALL: [RestrictionSource; 2] = [
        RestrictionSource::CourtOrder,
        RestrictionSource::SafeguardingDecision,
    ];

    pub fn code(self) -> &'static str {
        match self {
            RestrictionSource::CourtOrder => "court-order",
            RestrictionSource::SafeguardingDecision => "safeguarding-decision",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RestrictionSource::CourtOrder => "Court order",
            RestrictionSource::SafeguardingDecision => "Safeguarding decision",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.code() == code.trim())
            .ok_or_else(|| "Choose court-order or safeguarding-decision".to_owned())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Restriction {
    pub kind: RestrictionKind,
    pub source: RestrictionSource,
    /// When the order was made or the decision taken.
    pub dated: Date,
    /// The order's reference or the decision's note.
    pub reference: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RestrictionInput {
    pub kind: String,
    pub source: String,
    pub dated: String,
    #[serde(default)]
    pub reference: String,
}

/// A carer's details, once validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CarerDetails {
    pub name: String,
    /// Mother, father, grandmother, foster carer, …
    pub relationship: String,
    pub parental_responsibility: Option<ParentalResponsibility>,
    /// Looks after the child day to day (a foster carer may, without parental
    /// responsibility).
    pub day_to_day_care: bool,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    /// Whether the service may contact this person at all.
    pub may_contact: bool,
    pub restrictions: Vec<Restriction>,
    /// Whether they may collect the child (issue 16). Defaulted, so carers stored before it
    /// existed decode as "not decided". See `crate::emergency::collects` for what the panel
    /// shows (a carer with no contact at all never collects).
    #[serde(default)]
    pub may_collect: crate::emergency::Collect,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct CarerInput {
    pub name: String,
    pub relationship: String,
    pub parental_responsibility: String,
    pub day_to_day_care: bool,
    pub phone: String,
    pub email: String,
    pub address: String,
    pub may_contact: bool,
    pub restrictions: Vec<RestrictionInput>,
    /// `may-collect`, `may-not-collect` or `not-decided` (empty: not decided).
    #[serde(default)]
    pub may_collect: String,
}

/// An email address, checked for shape only (the only real check is a message arriving).
pub fn parse_optional_email(raw: &str) -> Result<Option<String>, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let ok = raw.len() <= 254
        && !raw.chars().any(|c| c.is_whitespace() || c.is_control())
        && raw.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.contains('@')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if ok {
        Ok(Some(raw.to_owned()))
    } else {
        Err("Enter an email address like name@example.org".to_owned())
    }
}

impl CarerDetails {
    pub fn parse(input: &CarerInput, today: Date) -> Result<Self, Invalid> {
        let mut v = Validator::new();
        let name = v.check("name", parse_line(&input.name, 1, 120));
        let relationship = v.check("relationship", parse_line(&input.relationship, 1, 60));
        let pr = v.check(
            "parental_responsibility",
            optional(
                &input.parental_responsibility,
                ParentalResponsibility::parse,
            ),
        );
        let phone = v.check("phone", parse_optional_phone(&input.phone));
        let email = v.check("email", parse_optional_email(&input.email));
        let address = v.check("address", parse_optional_text(&input.address, 500));
        let mut restrictions = Vec::new();
        for (i, r) in input.restrictions.iter().enumerate() {
            if r.kind.trim().is_empty() && r.source.trim().is_empty() && r.dated.trim().is_empty() {
                continue; // an empty row of the form
            }
            let kind = v.check(
                &format!("restrictions[{i}].kind"),
                RestrictionKind::parse(&r.kind),
            );
            let source = v.check(
                &format!("restrictions[{i}].source"),
                RestrictionSource::parse(&r.source),
            );
            let dated = v.check(
                &format!("restrictions[{i}].dated"),
                parse_optional_date(&r.dated).and_then(|d| match d {
                    None => Err("Enter the date of the order or decision".to_owned()),
                    Some(d) if d > today => Err("This date cannot be in the future".to_owned()),
                    Some(d) => Ok(d),
                }),
            );
            let reference = v.check(
                &format!("restrictions[{i}].reference"),
                parse_optional_line(&r.reference, 200),
            );
            if let (Some(kind), Some(source), Some(dated), Some(reference)) =
                (kind, source, dated, reference)
            {
                restrictions.push(Restriction {
                    kind,
                    source,
                    dated,
                    reference,
                });
            }
        }
        let may_collect = v.check(
            "may_collect",
            crate::emergency::Collect::parse(&input.may_collect),
        );
        // A carer with no contact at all may never be named as one who may collect.
        if may_collect == Some(crate::emergency::Collect::MayCollect)
            && restrictions
                .iter()
                .any(|r| r.kind == RestrictionKind::NoContact)
        {
            v.check::<()>(
                "may_collect",
                Err("A carer with no contact at all may not collect the child".to_owned()),
            );
        }
        v.finish()?;
        match (name, relationship, pr, phone, email, address) {
            (
                Some(name),
                Some(relationship),
                Some(parental_responsibility),
                Some(phone),
                Some(email),
                Some(address),
            ) => Ok(Self {
                name,
                relationship,
                parental_responsibility,
                day_to_day_care: input.day_to_day_care,
                phone,
                email,
                address,
                may_contact: input.may_contact,
                restrictions,
                may_collect: may_collect.unwrap_or_default(),
            }),
            _ => Err(Invalid::field("name", "Enter the carer's details")),
        }
    }

    pub fn has_restriction(&self, kind: RestrictionKind) -> bool {
        self.restrictions.iter().any(|r| r.kind == kind)
    }
}

/// A carer as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Carer {
    pub id: CarerId,
    pub child_id: ChildId,
    pub details: CarerDetails,
    /// False once the carer is no longer involved (kept for the record).
    pub active: bool,
    pub version: Version,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn nhs_numbers_need_a_valid_check_digit() {
        // The NHS's published example numbers.
        for good in ["943 476 5919", "9434765870", "401-023-2137"] {
            assert!(NhsNumber::parse(good).is_ok(), "{good}");
        }
        assert_eq!(
            NhsNumber::parse("9434765919").map(|n| n.display()),
            Ok("943 476 5919".to_owned())
        );
        for bad in ["9434765918", "943476591", "94347659190", "943476591A", ""] {
            assert!(NhsNumber::parse(bad).is_err(), "{bad}");
        }
        // A check value of 10 means the number was never issued.
        assert!(NhsNumber::parse("1000000010").is_err());
    }

    #[test]
    fn upns_need_the_right_check_letter() {
        // Made with the DfE algorithm: weights 2..13 over 12 characters, modulo 23.
        let body = "201123456789";
        let sum: usize = body
            .bytes()
            .zip(2..)
            .map(|(b, w)| usize::from(b - b'0') * w)
            .sum();
        let letter = UPN_LETTERS[sum % 23] as char;
        let upn = format!("{letter}{body}");
        assert_eq!(
            Upn::parse(&upn.to_lowercase()).map(|u| u.0),
            Ok(upn.clone())
        );
        let wrong = if letter == 'A' { 'B' } else { 'A' };
        assert!(Upn::parse(&format!("{wrong}{body}")).is_err());
        // Worked by hand: 8×2 + 1×4 + 2×5 + 1×10 + 1×13 = 53; 53 mod 23 = 7, the letter H.
        assert!(Upn::parse("H801200001001").is_ok());
        for bad in [
            "",
            "H80120000100",
            "H8012000010011",
            "1801200001001",
            "H80120000100I",
        ] {
            assert!(Upn::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_temporary_upn_ends_in_a_letter_that_counts_in_the_sum() {
        let body = "20112345678";
        for last in ['A', 'Z'] {
            let value = UPN_LETTERS
                .iter()
                .position(|&l| l as char == last)
                .unwrap_or(0);
            let sum: usize = body
                .bytes()
                .zip(2..)
                .map(|(b, w)| usize::from(b - b'0') * w)
                .sum::<usize>()
                + 13 * value;
            let upn = format!("{}{body}{last}", UPN_LETTERS[sum % 23] as char);
            assert!(Upn::parse(&upn).is_ok(), "{upn}");
        }
    }

    #[test]
    fn ages_count_whole_years_and_leap_birthdays() {
        assert_eq!(age_on(date(2015, 6, 15), date(2026, 6, 14)), 10);
        assert_eq!(age_on(date(2015, 6, 15), date(2026, 6, 15)), 11);
        assert_eq!(age_on(date(2012, 2, 29), date(2026, 2, 27)), 13);
        assert_eq!(age_on(date(2012, 2, 29), date(2026, 2, 28)), 14);
    }

    #[test]
    fn age_bands_cover_every_age_and_reject_gaps() {
        let bands = AgeBands::default();
        assert_eq!(bands.band_for(7).map(|b| b.code.as_str()), Some("3-7"));
        assert_eq!(bands.band_for(8).map(|b| b.code.as_str()), Some("8-11"));
        assert_eq!(bands.band_for(25).map(|b| b.code.as_str()), Some("16-25"));
        assert!(bands.band_for(26).is_none());
        let mut gap = bands.all().to_vec();
        gap.remove(2);
        assert!(AgeBands::new(gap).is_err());
    }

    #[test]
    fn the_expected_year_group_follows_the_september_start() {
        // Born 1 September 2018: the oldest in their year; reception from September 2022.
        let today = date(2026, 11, 30);
        assert_eq!(
            YearGroup::expected(date(2018, 9, 1), today),
            YearGroup::Year(3)
        );
        // Born 31 August 2019: the youngest in the year above those born a day later.
        assert_eq!(
            YearGroup::expected(date(2019, 8, 31), today),
            YearGroup::Year(3)
        );
        assert_eq!(
            YearGroup::expected(date(2019, 9, 1), today),
            YearGroup::Year(2)
        );
        assert_eq!(
            YearGroup::expected(date(2022, 3, 1), today),
            YearGroup::Reception
        );
    }

    fn child_input() -> ChildInput {
        ChildInput {
            legal_name: "Amelia Rose Clarke".into(),
            preferred_name: "Millie".into(),
            date_of_birth: "14/03/2016".into(),
            sex: "female".into(),
            nhs_number: "943 476 5919".into(),
            year_group: "year-5".into(),
            ..ChildInput::default()
        }
    }

    fn fields(err: Invalid) -> Vec<String> {
        err.errors.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_child_is_validated_field_by_field() {
        let today = date(2026, 11, 30);
        let child = ChildDetails::parse(&child_input(), today);
        assert_eq!(child.as_ref().map(|c| c.known_as()), Ok("Millie"));
        assert_eq!(
            child.as_ref().map(ChildDetails::initials),
            Ok("ARC".to_owned())
        );
        assert_eq!(child.as_ref().map(|c| c.age_on(today)), Ok(10));
        let round_trip = child
            .as_ref()
            .ok()
            .map(|c| ChildDetails::parse(&c.to_input(), today));
        assert_eq!(round_trip, Some(child.clone()));

        let mut bad = child_input();
        bad.date_of_birth = "01/01/2027".into();
        bad.nhs_number = "943 476 5918".into();
        bad.upn = "A123".into();
        bad.sex = "unknown".into();
        bad.carers_may_be_told = vec!["everything".into()];
        assert_eq!(
            ChildDetails::parse(&bad, today).err().map(fields),
            Some(vec![
                "date_of_birth".into(),
                "sex".into(),
                "nhs_number".into(),
                "upn".into(),
                "carers_may_be_told".into()
            ])
        );
    }

    #[test]
    fn over_25s_and_impossible_deaths_are_refused() {
        let today = date(2026, 11, 30);
        let mut old = child_input();
        old.date_of_birth = "29/11/2000".into();
        assert_eq!(
            ChildDetails::parse(&old, today).err().map(fields),
            Some(vec!["date_of_birth".into()])
        );
        old.date_of_birth = "30/11/2001".into(); // 25 today: still a young person
        assert!(ChildDetails::parse(&old, today).is_ok());
        let mut died = child_input();
        died.date_of_death = "01/01/2015".into();
        assert_eq!(
            ChildDetails::parse(&died, today).err().map(fields),
            Some(vec!["date_of_death".into()])
        );
    }

    #[test]
    fn carers_restrictions_need_a_source_and_a_past_date() {
        let today = date(2026, 11, 30);
        let mut input = CarerInput {
            name: "Sam Clarke".into(),
            relationship: "Father".into(),
            parental_responsibility: "parent".into(),
            may_contact: true,
            restrictions: vec![
                RestrictionInput {
                    kind: "no-location-or-times".into(),
                    source: "court-order".into(),
                    dated: "12/05/2025".into(),
                    reference: "Prohibited steps order".into(),
                },
                RestrictionInput::default(),
            ],
            ..CarerInput::default()
        };
        let carer = CarerDetails::parse(&input, today);
        assert!(
            carer
                .as_ref()
                .is_ok_and(|c| c.has_restriction(RestrictionKind::NoLocationOrTimes)
                    && c.restrictions.len() == 1)
        );
        input.restrictions[0].dated = "01/01/2030".into();
        input.restrictions[1].kind = "no-school".into();
        input.email = "not an email".into();
        assert_eq!(
            CarerDetails::parse(&input, today).err().map(fields),
            Some(vec![
                "email".into(),
                "restrictions[0].dated".into(),
                "restrictions[1].source".into(),
                "restrictions[1].dated".into()
            ])
        );
    }
}
