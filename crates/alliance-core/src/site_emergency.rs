//! A site's emergency procedures (issue 16): what to do in a fire, a medical emergency, when a
//! child leaves the room or the site, in the face of aggression, and on a disclosure of
//! immediate danger; and who is the site's DSL and first aider on each weekday (a name and how
//! to reach them). Pure rules; no IO.
//!
//! The service ships sensible defaults ([`Procedure::default_text`]) and edits them per site.
//! It is directory data (policy section 1): everyone who works here reads it, administrators
//! write it. It holds no child and no clinical content, so the printable sheet made from it
//! may be kept on paper for when the network is down.

use crate::error::{Invalid, Validator, parse_optional_line, parse_text};
use jiff::civil::Weekday;
use serde::{Deserialize, Serialize};

/// The most characters of one procedure's text.
pub const PROCEDURE_MAX: usize = 4000;
/// The most characters of a name or of how to reach someone.
pub const LINE_MAX: usize = 120;

/// An emergency a site plans for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Procedure {
    Fire,
    Medical,
    /// A child leaving the room or the site.
    Leaving,
    Aggression,
    /// A disclosure of immediate danger.
    Disclosure,
}

impl Procedure {
    pub const ALL: [Procedure; 5] = [
        Procedure::Fire,
        Procedure::Medical,
        Procedure::Leaving,
        Procedure::Aggression,
        Procedure::Disclosure,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Procedure::Fire => "fire",
            Procedure::Medical => "medical",
            Procedure::Leaving => "leaving",
            Procedure::Aggression => "aggression",
            Procedure::Disclosure => "disclosure",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Procedure::Fire => "Fire",
            Procedure::Medical => "Medical emergency",
            Procedure::Leaving => "A child leaves the room or the site",
            Procedure::Aggression => "Aggression",
            Procedure::Disclosure => "A disclosure of immediate danger",
        }
    }

    /// What the service ships until a site writes its own.
    pub fn default_text(self) -> &'static str {
        match self {
            Procedure::Fire => {
                "Raise the alarm. Take the child with you by the nearest safe exit; do not stop \
                 for belongings or materials. Go to the site's assembly point and tell the fire \
                 marshal you are there and who is with you. Call 999 if nobody has. Do not go \
                 back in until the fire service or the site says it is safe."
            }
            Procedure::Medical => {
                "Stay with the child and keep them safe. Call the first aider on duty (below). \
                 Call 999 for anything serious: unconscious, not breathing normally, severe \
                 bleeding, a seizure, a severe allergic reaction (use their auto-injector if \
                 they have one). Tell the child's carers and the service as soon as the child is \
                 safe, and record it as an incident."
            }
            Procedure::Leaving => {
                "Do not chase the child out of sight or leave other children alone. Note the \
                 time, what they are wearing and which way they went. Tell the site office and \
                 the DSL on duty at once. If the child may leave the site or is at risk, call \
                 999 and then the carers. Record it as an incident."
            }
            Procedure::Aggression => {
                "Keep yourself and the child safe: step back, lower your voice, give space, and \
                 keep the way to the door clear. Use no physical intervention unless it is the \
                 last resort to prevent harm, and only as the site's policy allows. Call for \
                 help from the site office if needed. Record it as an incident, including any \
                 physical intervention."
            }
            Procedure::Disclosure => {
                "If a child is in immediate danger, call 999. Listen, do not promise to keep it \
                 secret, and do not question the child further. Tell the DSL on duty straight \
                 away (below), then raise a safeguarding concern in Alliance the same day, in \
                 the child's words."
            }
        }
    }

    pub fn parse(raw: &str) -> Result<Procedure, String> {
        Procedure::ALL
            .into_iter()
            .find(|p| p.code() == raw.trim())
            .ok_or_else(|| "This is not an emergency the sheet covers".to_owned())
    }
}

/// The days of the week a site's cover is kept for, Monday first.
pub const DAYS: [Weekday; 7] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
    Weekday::Saturday,
    Weekday::Sunday,
];

pub fn day_code(day: Weekday) -> &'static str {
    match day {
        Weekday::Monday => "monday",
        Weekday::Tuesday => "tuesday",
        Weekday::Wednesday => "wednesday",
        Weekday::Thursday => "thursday",
        Weekday::Friday => "friday",
        Weekday::Saturday => "saturday",
        Weekday::Sunday => "sunday",
    }
}

pub fn day_label(day: Weekday) -> &'static str {
    match day {
        Weekday::Monday => "Monday",
        Weekday::Tuesday => "Tuesday",
        Weekday::Wednesday => "Wednesday",
        Weekday::Thursday => "Thursday",
        Weekday::Friday => "Friday",
        Weekday::Saturday => "Saturday",
        Weekday::Sunday => "Sunday",
    }
}

/// A person on duty: a name and how to reach them (both may be empty: nobody named).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnDuty {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub contact: String,
}

impl OnDuty {
    pub fn is_named(&self) -> bool {
        !self.name.is_empty()
    }
}

/// One weekday's cover at a site.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayCover {
    #[serde(default)]
    pub dsl: OnDuty,
    #[serde(default)]
    pub first_aider: OnDuty,
}

/// A site's procedures and cover, as stored (a JSON document per site).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SitePlan {
    /// One text per procedure, in [`Procedure::ALL`]'s order.
    pub procedures: Vec<(Procedure, String)>,
    /// Monday to Sunday.
    pub days: Vec<DayCover>,
}

impl Default for SitePlan {
    /// The shipped procedures, and nobody named yet.
    fn default() -> Self {
        SitePlan {
            procedures: Procedure::ALL
                .into_iter()
                .map(|p| (p, p.default_text().to_owned()))
                .collect(),
            days: vec![DayCover::default(); DAYS.len()],
        }
    }
}

impl SitePlan {
    pub fn procedure(&self, p: Procedure) -> &str {
        self.procedures
            .iter()
            .find(|(q, _)| *q == p)
            .map(|(_, t)| t.as_str())
            .unwrap_or_else(|| p.default_text())
    }

    pub fn day(&self, day: Weekday) -> DayCover {
        let i = DAYS.iter().position(|d| *d == day).unwrap_or(0);
        self.days.get(i).cloned().unwrap_or_default()
    }
}

/// The plan as typed: fields `procedure.{code}`, `{day}.dsl_name`, `{day}.dsl_contact`,
/// `{day}.first_aider_name`, `{day}.first_aider_contact`. An empty procedure means the
/// shipped default.
pub fn parse_plan(get: impl Fn(&str) -> String) -> Result<SitePlan, Invalid> {
    let mut v = Validator::new();
    let mut procedures = Vec::new();
    for p in Procedure::ALL {
        let field = format!("procedure.{}", p.code());
        let raw = get(&field);
        let text = if raw.trim().is_empty() {
            Some(p.default_text().to_owned())
        } else {
            v.check(&field, parse_text(&raw, 1, PROCEDURE_MAX))
        };
        procedures.push((p, text.unwrap_or_default()));
    }
    let mut days = Vec::new();
    for d in DAYS {
        let code = day_code(d);
        let mut line = |what: &str| {
            let field = format!("{code}.{what}");
            v.check(&field, parse_optional_line(&get(&field), LINE_MAX))
                .flatten()
                .unwrap_or_default()
        };
        let cover = DayCover {
            dsl: OnDuty {
                name: line("dsl_name"),
                contact: line("dsl_contact"),
            },
            first_aider: OnDuty {
                name: line("first_aider_name"),
                contact: line("first_aider_contact"),
            },
        };
        for (who, duty) in [("dsl", &cover.dsl), ("first_aider", &cover.first_aider)] {
            if !duty.name.is_empty() && duty.contact.is_empty() {
                v.check::<()>(
                    &format!("{code}.{who}_contact"),
                    Err("Say how to reach them".to_owned()),
                );
            }
        }
        days.push(cover);
    }
    v.finish()?;
    Ok(SitePlan { procedures, days })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn every_procedure_has_a_default_and_parses_from_its_code() {
        for p in Procedure::ALL {
            assert!(p.default_text().len() > 100, "{p:?}");
            assert_eq!(Procedure::parse(p.code()), Ok(p));
        }
        assert!(Procedure::parse("flood").is_err());
        let plan = SitePlan::default();
        assert_eq!(plan.days.len(), 7);
        assert!(plan.procedure(Procedure::Disclosure).contains("999"));
    }

    #[test]
    fn a_plan_parses_with_defaults_and_names_need_a_way_to_reach_them() {
        let mut form: HashMap<String, String> = HashMap::new();
        form.insert("procedure.fire".into(), "Assemble on the field.".into());
        form.insert("monday.dsl_name".into(), "Mrs Okafor".into());
        form.insert("monday.dsl_contact".into(), "Office, ext 201".into());
        let get = |f: &str| form.get(f).cloned().unwrap_or_default();
        let plan = parse_plan(get).unwrap_or_default();
        assert_eq!(plan.procedure(Procedure::Fire), "Assemble on the field.");
        assert_eq!(
            plan.procedure(Procedure::Medical),
            Procedure::Medical.default_text()
        );
        assert_eq!(plan.day(Weekday::Monday).dsl.name, "Mrs Okafor");
        assert!(!plan.day(Weekday::Tuesday).dsl.is_named());

        form.insert("tuesday.first_aider_name".into(), "Mr Hill".into());
        let get = |f: &str| form.get(f).cloned().unwrap_or_default();
        let err = parse_plan(get).err().map(|e| e.errors[0].field.clone());
        assert_eq!(err.as_deref(), Some("tuesday.first_aider_contact"));
    }
}
