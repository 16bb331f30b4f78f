//! Staff accounts and their roles (policy section 1). Children and carers have no accounts.

use crate::error::{Invalid, Validator, parse_line};
use crate::version::Version;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What a member of staff does in the service. A user may hold several roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Works on children's cases as lead, co-worker or parent-worker.
    Therapist,
    /// Clinical supervisor of named therapists.
    Supervisor,
    /// Designated Safeguarding Lead.
    Dsl,
    /// Deputy Designated Safeguarding Lead.
    DeputyDsl,
    /// Runs the service; handles allegations; second signature on destruction.
    ServiceLead,
    /// People, sites, rooms, calendars, configuration; never clinical content.
    Administrator,
    /// Anyone else who works with children (reception, school staff).
    Staff,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Therapist,
        Role::Supervisor,
        Role::Dsl,
        Role::DeputyDsl,
        Role::ServiceLead,
        Role::Administrator,
        Role::Staff,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Role::Therapist => "therapist",
            Role::Supervisor => "supervisor",
            Role::Dsl => "dsl",
            Role::DeputyDsl => "deputy-dsl",
            Role::ServiceLead => "service-lead",
            Role::Administrator => "administrator",
            Role::Staff => "staff",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Therapist => "Therapist",
            Role::Supervisor => "Supervisor",
            Role::Dsl => "Designated Safeguarding Lead",
            Role::DeputyDsl => "Deputy Designated Safeguarding Lead",
            Role::ServiceLead => "Service lead",
            Role::Administrator => "Administrator",
            Role::Staff => "Staff",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|r| r.code() == code)
            .ok_or_else(|| {
                format!(
                    "Choose a role from: {}",
                    Self::ALL.map(Role::code).join(", ")
                )
            })
    }

    /// Roles that can read a child's identity or clinical content need a second factor
    /// (policy section 6); for staff it is optional.
    pub fn needs_second_factor(self) -> bool {
        !matches!(self, Role::Staff)
    }
}

/// The professional register a user is on, because some legal duties and reviews depend on it
/// (a serious-harm opinion for subject access needs an appropriate health professional; the
/// FGM duty falls on regulated professionals and teachers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RegistrationBody {
    None,
    Hcpc,
    Nmc,
    Gmc,
    SocialWorkEngland,
    Teacher,
    AcpChildPsychotherapist,
    Bacp,
    Ukcp,
    Bapt,
    Other,
}

impl RegistrationBody {
    pub const ALL: [RegistrationBody; 11] = [
        RegistrationBody::None,
        RegistrationBody::Hcpc,
        RegistrationBody::Nmc,
        RegistrationBody::Gmc,
        RegistrationBody::SocialWorkEngland,
        RegistrationBody::Teacher,
        RegistrationBody::AcpChildPsychotherapist,
        RegistrationBody::Bacp,
        RegistrationBody::Ukcp,
        RegistrationBody::Bapt,
        RegistrationBody::Other,
    ];

    pub fn code(self) -> &'static str {
        match self {
            RegistrationBody::None => "none",
            RegistrationBody::Hcpc => "hcpc",
            RegistrationBody::Nmc => "nmc",
            RegistrationBody::Gmc => "gmc",
            RegistrationBody::SocialWorkEngland => "social-work-england",
            RegistrationBody::Teacher => "teacher",
            RegistrationBody::AcpChildPsychotherapist => "acp",
            RegistrationBody::Bacp => "bacp",
            RegistrationBody::Ukcp => "ukcp",
            RegistrationBody::Bapt => "bapt",
            RegistrationBody::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RegistrationBody::None => "None",
            RegistrationBody::Hcpc => "Health and Care Professions Council (HCPC)",
            RegistrationBody::Nmc => "Nursing and Midwifery Council (NMC)",
            RegistrationBody::Gmc => "General Medical Council (GMC)",
            RegistrationBody::SocialWorkEngland => "Social Work England",
            RegistrationBody::Teacher => "Qualified teacher",
            RegistrationBody::AcpChildPsychotherapist => {
                "Association of Child Psychotherapists (ACP)"
            }
            RegistrationBody::Bacp => {
                "British Association for Counselling and Psychotherapy (BACP)"
            }
            RegistrationBody::Ukcp => "UK Council for Psychotherapy (UKCP)",
            RegistrationBody::Bapt => "British Association of Play Therapists (BAPT)",
            RegistrationBody::Other => "Other",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|r| r.code() == code)
            .ok_or_else(|| "Choose a registration body from the list".to_owned())
    }
}

/// A sign-in name: 3 to 64 characters of lower-case letters, digits, `.`, `_` and `-`.
/// Compared case-insensitively by storing it lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let lowered = raw.trim().to_lowercase();
        let count = lowered.chars().count();
        if !(3..=64).contains(&count) {
            return Err("Use 3 to 64 characters".to_owned());
        }
        if !lowered
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        {
            return Err("Use only letters, digits, dots, hyphens and underscores".to_owned());
        }
        Ok(Self(lowered))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A user's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub Uuid);

impl UserId {
    pub fn parse(raw: &str) -> Result<Self, String> {
        Uuid::parse_str(raw)
            .map(Self)
            .map_err(|_| "This is not a user id".to_owned())
    }
}

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A member of staff's account, without secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub username: Username,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub registration: RegistrationBody,
    pub registration_number: Option<String>,
    pub email: Option<String>,
    pub active: bool,
    /// True once a second factor is enrolled.
    pub totp_enrolled: bool,
    pub version: Version,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl User {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Whether signing in needs a second factor (any role but staff alone).
    pub fn needs_second_factor(&self) -> bool {
        self.roles.iter().any(|r| r.needs_second_factor())
    }

    pub fn initials(&self) -> String {
        self.display_name
            .split_whitespace()
            .filter_map(|w| w.chars().next())
            .flat_map(char::to_uppercase)
            .collect()
    }
}

/// The details an administrator sets on an account, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserDetails {
    pub display_name: String,
    pub roles: Vec<Role>,
    pub registration: RegistrationBody,
    pub registration_number: Option<String>,
    pub email: Option<String>,
}

impl UserDetails {
    pub fn parse(
        display_name: &str,
        roles: &[String],
        registration: &str,
        registration_number: Option<&str>,
        email: Option<&str>,
    ) -> Result<Self, Invalid> {
        let mut v = Validator::new();
        let display_name = v.check("display_name", parse_line(display_name, 1, 120));
        let mut parsed_roles = Vec::new();
        let mut role_error = None;
        for role in roles {
            match Role::parse(role) {
                Ok(r) if !parsed_roles.contains(&r) => parsed_roles.push(r),
                Ok(_) => {}
                Err(e) => role_error = Some(e),
            }
        }
        if roles.is_empty() {
            role_error = Some("Choose at least one role".to_owned());
        }
        v.check::<()>("roles", role_error.map_or(Ok(()), Err));
        parsed_roles.sort();
        let registration = v.check("registration", RegistrationBody::parse(registration));
        let registration_number = v.check(
            "registration_number",
            registration_number
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(|n| parse_line(n, 1, 40))
                .transpose(),
        );
        let email = v.check(
            "email",
            email
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .map(parse_email)
                .transpose(),
        );
        v.finish()?;
        Ok(Self {
            display_name: display_name.unwrap_or_default(),
            roles: parsed_roles,
            registration: registration.unwrap_or(RegistrationBody::None),
            registration_number: registration_number.flatten(),
            email: email.flatten(),
        })
    }
}

/// A plausible email address: one `@`, something either side, a dot in the domain.
fn parse_email(raw: &str) -> Result<String, String> {
    let line = parse_line(raw, 3, 254)?;
    let mut parts = line.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err("Enter an email address like name@example.org".to_owned());
    };
    if local.is_empty()
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || line.contains(char::is_whitespace)
    {
        return Err("Enter an email address like name@example.org".to_owned());
    }
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_registrations_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.code()), Ok(role));
        }
        for body in RegistrationBody::ALL {
            assert_eq!(RegistrationBody::parse(body.code()), Ok(body));
        }
        assert!(Role::parse("root").is_err());
    }

    #[test]
    fn only_staff_alone_may_sign_in_without_a_second_factor() {
        assert!(!Role::Staff.needs_second_factor());
        for role in Role::ALL.into_iter().filter(|r| *r != Role::Staff) {
            assert!(role.needs_second_factor(), "{role:?}");
        }
    }

    #[test]
    fn usernames_are_plain_and_lower_cased() {
        assert_eq!(
            Username::parse(" J.Smith ").map(|u| u.0),
            Ok("j.smith".to_owned())
        );
        for bad in [
            "ab",
            "a b c",
            "josé",
            "<script>",
            &"a".repeat(65),
            "semi;colon",
        ] {
            assert!(Username::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn details_report_every_field_at_fault() {
        let err = UserDetails::parse(
            "",
            &["wizard".into()],
            "nowhere",
            None,
            Some("not-an-email"),
        )
        .err()
        .map(|e| e.errors.into_iter().map(|f| f.field).collect::<Vec<_>>());
        assert_eq!(
            err,
            Some(vec![
                "display_name".into(),
                "roles".into(),
                "registration".into(),
                "email".into()
            ])
        );
        let ok = UserDetails::parse(
            "Sam Okafor",
            &["therapist".into(), "supervisor".into(), "therapist".into()],
            "hcpc",
            Some(" AS12345 "),
            Some(""),
        );
        let ok = ok.ok();
        assert_eq!(
            ok.as_ref().map(|d| d.roles.clone()),
            Some(vec![Role::Therapist, Role::Supervisor])
        );
        assert_eq!(
            ok.and_then(|d| d.registration_number),
            Some("AS12345".to_owned())
        );
        assert!(UserDetails::parse("Sam", &[], "none", None, None).is_err());
    }
}
