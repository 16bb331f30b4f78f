//! Contact logs (policy sections 1 and 2): contact with each carer (meetings, calls, messages:
//! when, who, what was shared, what was agreed) and with the professional network (school
//! SENCo or teacher, social worker, GP, CAMHS, others: what was shared and on what basis).
//! A carer whom the outbound rule would not let receive news of the work (a restriction, "not
//! to be contacted", the young person's wishes) cannot be logged as contacted without an
//! explicit override and its reason.

use crate::error::{
    Invalid, Validator, parse_date, parse_optional_line, parse_optional_text, parse_text,
};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

macro_rules! coded {
    ($name:ident { $($variant:ident => ($code:literal, $label:literal)),+ $(,)? } $err:literal) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.code() == code.trim())
                    .ok_or_else(|| $err.to_owned())
            }
        }
    };
}

coded!(ContactKind {
    Meeting => ("meeting", "Meeting"),
    PhoneCall => ("phone-call", "Phone call"),
    VideoCall => ("video-call", "Video call"),
    Message => ("message", "Message"),
    Email => ("email", "Email"),
    Letter => ("letter", "Letter"),
} "Choose meeting, phone call, video call, message, email or letter");

coded!(ProfessionalRole {
    Senco => ("senco", "School SENCo"),
    Teacher => ("teacher", "Teacher"),
    SocialWorker => ("social-worker", "Social worker"),
    Gp => ("gp", "GP"),
    Camhs => ("camhs", "CAMHS"),
    Other => ("other", "Other professional"),
} "Choose the professional's role");

coded!(SharingBasis {
    Consent => ("consent", "With consent"),
    Safeguarding => ("safeguarding", "Safeguarding (consent not needed)"),
    LegalDuty => ("legal-duty", "A legal duty"),
    PublicTask => ("public-task", "Public task (their role in the child's care)"),
    NothingShared => ("nothing-shared", "Nothing about the child was shared"),
} "Choose the basis for sharing");

/// Who the contact was with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "with", rename_all = "kebab-case")]
pub enum ContactWith {
    /// A carer of the child (by id; their name is in the carer's record).
    Carer { carer: String },
    /// Someone in the professional network.
    Professional {
        role: ProfessionalRole,
        name: String,
        organisation: Option<String>,
        basis: SharingBasis,
    },
}

/// A contact as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactInput {
    /// `carer` or `professional`.
    #[serde(default)]
    pub with: String,
    #[serde(default)]
    pub carer: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub organisation: String,
    #[serde(default)]
    pub basis: String,
    #[serde(default)]
    pub kind: String,
    /// `31/12/2026` or `2026-12-31`.
    #[serde(default)]
    pub on: String,
    #[serde(default)]
    pub shared: String,
    #[serde(default)]
    pub agreed: String,
    /// Why a carer the rules would not contact was contacted (an explicit override).
    #[serde(default)]
    pub override_reason: String,
}

/// A contact as checked (sealed at rest, apart from its date and kind).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub with: ContactWith,
    pub kind: ContactKind,
    pub on: Date,
    pub shared: String,
    pub agreed: Option<String>,
    pub override_reason: Option<String>,
}

impl Contact {
    pub fn parse(input: &ContactInput, today: Date) -> Result<Self, Invalid> {
        let mut v = Validator::new();
        let with = match input.with.trim() {
            "carer" => {
                if input.carer.trim().is_empty() {
                    v.check::<()>("carer", Err("Choose the carer".to_owned()));
                }
                Some(ContactWith::Carer {
                    carer: input.carer.trim().to_owned(),
                })
            }
            "professional" => {
                let role = v.check("role", ProfessionalRole::parse(&input.role));
                let name = v.check(
                    "name",
                    parse_text(&input.name, 1, 120).map_err(|_| "Enter their name".to_owned()),
                );
                let organisation = v.check(
                    "organisation",
                    parse_optional_line(&input.organisation, 200),
                );
                let basis = v.check("basis", SharingBasis::parse(&input.basis));
                match (role, name, organisation, basis) {
                    (Some(role), Some(name), Some(organisation), Some(basis)) => {
                        Some(ContactWith::Professional {
                            role,
                            name,
                            organisation,
                            basis,
                        })
                    }
                    _ => None,
                }
            }
            _ => {
                v.check::<()>("with", Err("Choose a carer or a professional".to_owned()));
                None
            }
        };
        let kind = v.check("kind", ContactKind::parse(&input.kind));
        let on = v.check(
            "on",
            parse_date(&input.on).and_then(|d| {
                if d > today {
                    Err("The date cannot be in the future".to_owned())
                } else {
                    Ok(d)
                }
            }),
        );
        let shared = v.check(
            "shared",
            parse_text(&input.shared, 1, 4000)
                .map_err(|_| "Say what was shared (or \"nothing\")".to_owned()),
        );
        let agreed = v.check("agreed", parse_optional_text(&input.agreed, 4000));
        let override_reason = v.check(
            "override_reason",
            parse_optional_text(&input.override_reason, 1000),
        );
        v.finish()?;
        match (with, kind, on, shared, agreed, override_reason) {
            (
                Some(with),
                Some(kind),
                Some(on),
                Some(shared),
                Some(agreed),
                Some(override_reason),
            ) => Ok(Self {
                with,
                kind,
                on,
                shared,
                agreed,
                override_reason,
            }),
            _ => Err(Invalid::field("with", "Check the form")),
        }
    }

    /// A refused carer may be logged only with an override of at least this many characters.
    pub const OVERRIDE_MIN_CHARS: usize = 10;

    /// Checks the override against the outbound rule's answer for this carer (`refusal` is
    /// its message, when it refuses).
    pub fn check_override(&self, refusal: Option<&str>) -> Result<(), Invalid> {
        match (refusal, &self.override_reason) {
            (Some(why), None) => Err(Invalid::field(
                "override_reason",
                format!(
                    "{why}. Logging contact with them needs an explicit override and its reason"
                ),
            )),
            (Some(_), Some(reason)) if reason.chars().count() < Self::OVERRIDE_MIN_CHARS => {
                Err(Invalid::field(
                    "override_reason",
                    format!(
                        "Give the reason for the override (at least {} characters)",
                        Self::OVERRIDE_MIN_CHARS
                    ),
                ))
            }
            (None, Some(_)) => Err(Invalid::field(
                "override_reason",
                "No override is needed for this contact: leave the reason empty",
            )),
            _ => Ok(()),
        }
    }
}

/// Why contact with this carer may not be logged without an override: a no-contact
/// restriction, "not to be contacted", or a young person who consents for themselves and has
/// agreed their carers may be told nothing. `None` when contact is fine.
pub fn carer_refusal(
    carer: &crate::children::CarerDetails,
    child: &crate::children::ChildDetails,
) -> Option<String> {
    use crate::children::RestrictionKind;
    if carer.has_restriction(RestrictionKind::NoContact) {
        Some(format!(
            "A restriction on this carer forbids it: {}",
            RestrictionKind::NoContact.label().to_lowercase()
        ))
    } else if !carer.may_contact {
        Some("This carer is recorded as not to be contacted".to_owned())
    } else if child.wishes.consents_for_self && child.wishes.carers_may_be_told.is_empty() {
        Some("The young person consents for themselves and has agreed their carers may be told nothing".to_owned())
    } else {
        None
    }
}

/// When the next review meeting with the carers is due: `interval_weeks` after the last
/// meeting with a carer, or after `since` (the case's start) when there has been none.
pub fn carer_review_due(last_meeting: Option<Date>, since: Date, interval_weeks: i64) -> Date {
    let from = last_meeting.unwrap_or(since);
    from.checked_add(jiff::Span::new().weeks(interval_weeks))
        .unwrap_or(from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn carer_call() -> ContactInput {
        ContactInput {
            with: "carer".into(),
            carer: "c1".into(),
            kind: "phone-call".into(),
            on: "27/11/2026".into(),
            shared: "Times of the sessions after half-term".into(),
            agreed: "Mum will bring her on Tuesdays".into(),
            ..ContactInput::default()
        }
    }

    #[test]
    fn a_carer_contact_and_a_professional_contact_parse() {
        let c =
            Contact::parse(&carer_call(), date(2026, 11, 30)).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(c.kind, ContactKind::PhoneCall);
        assert!(c.check_override(None).is_ok());
        let p = Contact::parse(
            &ContactInput {
                with: "professional".into(),
                role: "senco".into(),
                name: "Ms Patel".into(),
                basis: "consent".into(),
                kind: "meeting".into(),
                on: "2026-11-30".into(),
                shared: "That she attends weekly".into(),
                ..ContactInput::default()
            },
            date(2026, 11, 30),
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert!(matches!(
            p.with,
            ContactWith::Professional {
                basis: SharingBasis::Consent,
                ..
            }
        ));
    }

    #[test]
    fn a_refused_carer_needs_an_explicit_override_with_its_reason() {
        let c =
            Contact::parse(&carer_call(), date(2026, 11, 30)).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(
            c.check_override(Some("This carer is recorded as not to be contacted"))
                .is_err()
        );
        let mut with_reason = carer_call();
        with_reason.override_reason = "Police asked us to confirm the child is safe".into();
        let c =
            Contact::parse(&with_reason, date(2026, 11, 30)).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(c.check_override(Some("restricted")).is_ok());
        assert!(
            c.check_override(None).is_err(),
            "an override where none is needed is refused"
        );
    }

    #[test]
    fn bad_contacts_name_every_field() {
        let bad = ContactInput {
            with: "professional".into(),
            kind: "pigeon".into(),
            on: "01/01/2030".into(),
            ..ContactInput::default()
        };
        let errors = Contact::parse(&bad, date(2026, 11, 30))
            .err()
            .map(|e| e.errors)
            .unwrap_or_default();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec!["role", "name", "basis", "kind", "on", "shared"]
        );
    }

    #[test]
    fn the_review_is_due_after_the_interval() {
        assert_eq!(
            carer_review_due(None, date(2026, 9, 1), 6),
            date(2026, 10, 13)
        );
        assert_eq!(
            carer_review_due(Some(date(2026, 11, 2)), date(2026, 9, 1), 6),
            date(2026, 12, 14)
        );
    }
}
