//! The service's places: sites (a school, a clinic, a community base) and their rooms. The
//! directory is readable by everyone who works here and written by administrators (policy
//! section 1); later features book rooms and describe their contents.

use crate::error::{Invalid, Validator, parse_line, parse_optional_line, parse_optional_text};
use crate::version::Version;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

macro_rules! uuid_id {
    ($name:ident, $what:literal) => {
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub uuid::Uuid);

        impl $name {
            pub fn parse(raw: &str) -> Result<Self, String> {
                uuid::Uuid::parse_str(raw.trim())
                    .map(Self)
                    .map_err(|_| concat!("This is not ", $what, " id").to_owned())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}
pub(crate) use uuid_id;

uuid_id!(SiteId, "a site");
uuid_id!(RoomId, "a room");

/// What kind of place a site is. A school has its own DSL (who has no account here).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SiteKind {
    School,
    Clinic,
    Community,
}

impl SiteKind {
    pub const ALL: [SiteKind; 3] = [SiteKind::School, SiteKind::Clinic, SiteKind::Community];

    pub fn code(self) -> &'static str {
        match self {
            SiteKind::School => "school",
            SiteKind::Clinic => "clinic",
            SiteKind::Community => "community",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SiteKind::School => "School",
            SiteKind::Clinic => "Clinic",
            SiteKind::Community => "Community base",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.code() == code.trim())
            .ok_or_else(|| "Choose school, clinic or community".to_owned())
    }
}

/// A site's details as entered, once validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteDetails {
    pub name: String,
    pub kind: SiteKind,
    pub address: Option<String>,
    pub phone: Option<String>,
    /// Who to call out of hours: the local authority's emergency duty team, and so on
    /// (policy section 4). Police are always 999.
    pub out_of_hours: Option<String>,
    /// A school's own Designated Safeguarding Lead: a name and how to reach them.
    pub school_dsl_name: Option<String>,
    pub school_dsl_contact: Option<String>,
}

/// A site's form or API body before validation.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SiteInput {
    pub name: String,
    pub kind: String,
    pub address: String,
    pub phone: String,
    pub out_of_hours: String,
    pub school_dsl_name: String,
    pub school_dsl_contact: String,
}

impl SiteDetails {
    pub fn parse(input: &SiteInput) -> Result<Self, Invalid> {
        let mut v = Validator::new();
        let name = v.check("name", parse_line(&input.name, 2, 120));
        let kind = v.check("kind", SiteKind::parse(&input.kind));
        let address = v.check("address", parse_optional_text(&input.address, 500));
        let phone = v.check("phone", parse_optional_phone(&input.phone));
        let out_of_hours = v.check(
            "out_of_hours",
            parse_optional_text(&input.out_of_hours, 1000),
        );
        let dsl_name = v.check(
            "school_dsl_name",
            parse_optional_line(&input.school_dsl_name, 120),
        );
        let dsl_contact = v.check(
            "school_dsl_contact",
            parse_optional_line(&input.school_dsl_contact, 200),
        );
        if kind.is_some_and(|k| k != SiteKind::School)
            && (dsl_name.as_ref().is_some_and(Option::is_some)
                || dsl_contact.as_ref().is_some_and(Option::is_some))
        {
            v.check::<()>(
                "school_dsl_name",
                Err(
                    "Only a school has its own DSL: leave this empty or make the site a school"
                        .to_owned(),
                ),
            );
        }
        v.finish()?;
        match (
            name,
            kind,
            address,
            phone,
            out_of_hours,
            dsl_name,
            dsl_contact,
        ) {
            (
                Some(name),
                Some(kind),
                Some(address),
                Some(phone),
                Some(out_of_hours),
                Some(school_dsl_name),
                Some(school_dsl_contact),
            ) => Ok(Self {
                name,
                kind,
                address,
                phone,
                out_of_hours,
                school_dsl_name,
                school_dsl_contact,
            }),
            _ => Err(Invalid::field("name", "Enter the site's details")),
        }
    }
}

/// A telephone number as people write them: digits, spaces, `+`, `(`, `)` and `-`, with at
/// least 3 digits (999) and at most 15 (the international maximum).
pub fn parse_optional_phone(raw: &str) -> Result<Option<String>, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let digits = raw.chars().filter(char::is_ascii_digit).count();
    let allowed = raw
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '(' | ')' | '-'));
    if !allowed || !(3..=15).contains(&digits) {
        return Err("Enter a telephone number, like 0113 496 0000".to_owned());
    }
    Ok(Some(raw.to_owned()))
}

/// A site as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    pub id: SiteId,
    pub details: SiteDetails,
    pub active: bool,
    pub version: Version,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A room's details, once validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomDetails {
    pub name: String,
    /// How many people the room holds.
    pub capacity: u16,
    /// Step-free access, an accessible toilet nearby: what a wheelchair user needs.
    pub step_free: bool,
    pub accessibility_notes: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RoomInput {
    pub name: String,
    pub capacity: String,
    pub step_free: bool,
    pub accessibility_notes: String,
}

impl RoomDetails {
    pub const MAX_CAPACITY: u16 = 200;

    pub fn parse(input: &RoomInput) -> Result<Self, Invalid> {
        let mut v = Validator::new();
        let name = v.check("name", parse_line(&input.name, 1, 80));
        let capacity = v.check(
            "capacity",
            input
                .capacity
                .trim()
                .parse::<u16>()
                .ok()
                .filter(|c| (1..=Self::MAX_CAPACITY).contains(c))
                .ok_or_else(|| {
                    format!(
                        "Enter how many people the room holds, from 1 to {}",
                        Self::MAX_CAPACITY
                    )
                }),
        );
        let notes = v.check(
            "accessibility_notes",
            parse_optional_text(&input.accessibility_notes, 500),
        );
        v.finish()?;
        match (name, capacity, notes) {
            (Some(name), Some(capacity), Some(accessibility_notes)) => Ok(Self {
                name,
                capacity,
                step_free: input.step_free,
                accessibility_notes,
            }),
            _ => Err(Invalid::field("name", "Enter the room's details")),
        }
    }
}

/// A room as stored: it belongs to one site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room {
    pub id: RoomId,
    pub site_id: SiteId,
    pub details: RoomDetails,
    pub active: bool,
    pub version: Version,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(kind: &str) -> SiteInput {
        SiteInput {
            name: "Oakfield Primary".into(),
            kind: kind.into(),
            phone: "0113 496 0000".into(),
            out_of_hours: "Emergency duty team: 0113 496 0999".into(),
            ..SiteInput::default()
        }
    }

    fn fields(err: Invalid) -> Vec<String> {
        err.errors.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn only_a_school_has_its_own_dsl() {
        let mut input = site("school");
        input.school_dsl_name = "Ms Patel".into();
        assert!(SiteDetails::parse(&input).is_ok());
        input.kind = "clinic".into();
        assert_eq!(
            SiteDetails::parse(&input).err().map(fields),
            Some(vec!["school_dsl_name".to_owned()])
        );
    }

    #[test]
    fn every_bad_field_is_named() {
        let input = SiteInput {
            name: " ".into(),
            kind: "castle".into(),
            phone: "call me".into(),
            ..SiteInput::default()
        };
        assert_eq!(
            SiteDetails::parse(&input).err().map(fields),
            Some(vec!["name".into(), "kind".into(), "phone".into()])
        );
    }

    #[test]
    fn phone_numbers_are_checked_loosely() {
        assert_eq!(parse_optional_phone("999"), Ok(Some("999".into())));
        assert_eq!(
            parse_optional_phone("+44 (0)113 496-0000"),
            Ok(Some("+44 (0)113 496-0000".into()))
        );
        assert_eq!(parse_optional_phone(""), Ok(None));
        assert!(parse_optional_phone("12").is_err());
        assert!(parse_optional_phone("0113 496 0000 ext 4").is_err());
    }

    #[test]
    fn room_capacity_is_bounded() {
        let mut room = RoomInput {
            name: "Willow Room".into(),
            capacity: "4".into(),
            step_free: true,
            accessibility_notes: String::new(),
        };
        assert_eq!(RoomDetails::parse(&room).map(|r| r.capacity), Ok(4));
        for bad in ["0", "-1", "201", "four", ""] {
            room.capacity = bad.into();
            assert!(RoomDetails::parse(&room).is_err(), "{bad}");
        }
    }
}
