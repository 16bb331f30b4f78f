//! The service: the organisation that runs Alliance (a school counselling service, a play
//! therapy practice, a CAMHS team). One database holds one service.

use crate::error::{Invalid, Validator, parse_line};
use crate::version::Version;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The service's name as staff and letters show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ServiceName(String);

impl ServiceName {
    pub const MAX_CHARS: usize = 120;

    pub fn parse(raw: &str) -> Result<Self, String> {
        parse_line(raw, 2, Self::MAX_CHARS).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The UK nation whose law and calendars apply: consent rules, bank holidays and safeguarding
/// procedures differ between them, so every rule set is chosen by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Nation {
    England,
    Wales,
    Scotland,
    NorthernIreland,
}

impl Nation {
    pub const ALL: [Nation; 4] = [
        Nation::England,
        Nation::Wales,
        Nation::Scotland,
        Nation::NorthernIreland,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Nation::England => "england",
            Nation::Wales => "wales",
            Nation::Scotland => "scotland",
            Nation::NorthernIreland => "northern-ireland",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Nation::England => "England",
            Nation::Wales => "Wales",
            Nation::Scotland => "Scotland",
            Nation::NorthernIreland => "Northern Ireland",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|n| n.code() == code)
            .ok_or_else(|| "Choose england, wales, scotland or northern-ireland".to_owned())
    }
}

/// The service's own record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceProfile {
    pub name: ServiceName,
    pub nation: Nation,
    /// A demo database holds only synthetic data and every page says so.
    pub is_demo: bool,
    /// Whether roles that can read children's records must use a second factor (policy
    /// section 6: yes; a demo service turns it off so a newcomer can look around).
    pub second_factor_required: bool,
    pub version: Version,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What a new service (or a change to one) consists of, once validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceDetails {
    pub name: ServiceName,
    pub nation: Nation,
}

impl ServiceDetails {
    /// Checks every field and reports all that are at fault.
    pub fn parse(name: &str, nation: &str) -> Result<Self, Invalid> {
        let mut v = Validator::new();
        let name = v.check("name", ServiceName::parse(name));
        let nation = v.check("nation", Nation::parse(nation));
        v.finish()?;
        match (name, nation) {
            (Some(name), Some(nation)) => Ok(Self { name, nation }),
            // The validator has already failed if either is missing.
            _ => Err(Invalid::field("name", "Enter the service's details")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nations_round_trip_through_their_codes() {
        for nation in Nation::ALL {
            assert_eq!(Nation::parse(nation.code()), Ok(nation));
        }
        assert!(Nation::parse("England").is_err());
        assert!(Nation::parse("").is_err());
    }

    #[test]
    fn details_report_both_fields_at_fault() {
        let err = ServiceDetails::parse(" ", "mars").err().map(|e| e.errors);
        let fields: Vec<String> = err
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["name", "nation"]);
        let ok = ServiceDetails::parse(" Riverside Play Therapy ", "wales");
        assert_eq!(
            ok.map(|d| (d.name.as_str().to_owned(), d.nation)),
            Ok(("Riverside Play Therapy".to_owned(), Nation::Wales))
        );
    }
}
