//! Incidents in sessions (issue 16): a child hurt in the room, aggression, damage to property,
//! any physical intervention (several may apply): what happened, who was involved, what was
//! done, and who was told (carers, the DSL, the service lead, school staff) and when. Pure
//! rules; no IO.
//!
//! An incident is clinical record (policy section 1): its content is sealed under the child's
//! clinical key, written by the case team's lead and co-workers, read pseudonymised by a
//! supervisor of the team, read by the DSL only when it is linked to a safeguarding concern,
//! and neither read nor listed by the service lead, administrators, staff, other therapists or
//! the parent-worker (a refusal answers "not found"). It may name the ground rules of the
//! child's agreement that were relevant, and the concern raised about it.
//!
//! Once saved an incident is never edited: like a session record's amendments, a correction
//! is an addendum with its reason, shown under the original.

use crate::access::{Access, Limit};
use crate::directory::uuid_id;
use crate::error::{Invalid, Validator, parse_text};
use jiff::civil::DateTime;
use serde::{Deserialize, Serialize};

uuid_id!(IncidentId, "an incident");
uuid_id!(AddendumId, "an incident addendum");

/// The most characters of each free-text part.
pub const TEXT_MAX: usize = 5000;
/// The most characters of an addendum's reason.
pub const REASON_MAX: usize = 500;

/// What kind of incident (several may apply).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IncidentKind {
    /// The child was hurt in the room.
    Hurt,
    Aggression,
    /// Damage to property.
    Damage,
    /// Any physical intervention.
    PhysicalIntervention,
}

impl IncidentKind {
    pub const ALL: [IncidentKind; 4] = [
        IncidentKind::Hurt,
        IncidentKind::Aggression,
        IncidentKind::Damage,
        IncidentKind::PhysicalIntervention,
    ];

    pub fn code(self) -> &'static str {
        match self {
            IncidentKind::Hurt => "hurt",
            IncidentKind::Aggression => "aggression",
            IncidentKind::Damage => "damage",
            IncidentKind::PhysicalIntervention => "physical-intervention",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            IncidentKind::Hurt => "The child was hurt in the room",
            IncidentKind::Aggression => "Aggression",
            IncidentKind::Damage => "Damage to property",
            IncidentKind::PhysicalIntervention => "Physical intervention",
        }
    }

    pub fn parse(raw: &str) -> Result<IncidentKind, String> {
        IncidentKind::ALL
            .into_iter()
            .find(|k| k.code() == raw.trim())
            .ok_or_else(|| "This is not a kind of incident".to_owned())
    }
}

/// Who may have been told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Told {
    Carers,
    Dsl,
    ServiceLead,
    SchoolStaff,
}

impl Told {
    pub const ALL: [Told; 4] = [
        Told::Carers,
        Told::Dsl,
        Told::ServiceLead,
        Told::SchoolStaff,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Told::Carers => "carers",
            Told::Dsl => "dsl",
            Told::ServiceLead => "service-lead",
            Told::SchoolStaff => "school-staff",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Told::Carers => "The child's carers",
            Told::Dsl => "The DSL",
            Told::ServiceLead => "The service lead",
            Told::SchoolStaff => "School staff",
        }
    }

    pub fn parse(raw: &str) -> Result<Told, String> {
        Told::ALL
            .into_iter()
            .find(|t| t.code() == raw.trim())
            .ok_or_else(|| "This is not someone the form lists".to_owned())
    }
}

/// Someone told, and when (wall-clock time in Europe/London).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToldEntry {
    pub whom: Told,
    pub when: Option<DateTime>,
}

/// What an incident says (sealed at rest under the child's clinical key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentContent {
    pub kinds: Vec<IncidentKind>,
    /// When it happened (Europe/London).
    pub occurred: DateTime,
    pub what_happened: String,
    /// Free text: it may name staff.
    pub who_involved: String,
    pub what_done: String,
    pub told: Vec<ToldEntry>,
    /// The ground rules of the child's agreement that were relevant, in the child's words.
    #[serde(default)]
    pub rules: Vec<String>,
}

/// An incident as typed. `told_when` pairs with `told` by position.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IncidentInput {
    pub kinds: Vec<String>,
    pub occurred: String,
    pub what_happened: String,
    pub who_involved: String,
    pub what_done: String,
    pub told: Vec<(String, String)>,
    pub rules: Vec<String>,
}

/// A date and time as a form's `datetime-local` field or a person writes it:
/// `2026-12-01T15:40`, `2026-12-01 15:40` or `01/12/2026 15:40`.
pub fn parse_when(raw: &str) -> Result<DateTime, String> {
    let raw = raw.trim();
    let message = || "Enter a date and time, like 01/12/2026 15:40".to_owned();
    if let Ok(dt) = raw.replace(' ', "T").parse::<DateTime>() {
        return Ok(dt);
    }
    let (date, time) = raw.split_once(' ').ok_or_else(message)?;
    let date = crate::error::parse_date(date).map_err(|_| message())?;
    let time = time
        .trim()
        .parse::<jiff::civil::Time>()
        .map_err(|_| message())?;
    Ok(date.to_datetime(time))
}

/// `01/12/2026 15:40`.
pub fn when_words(dt: &DateTime) -> String {
    format!(
        "{} {}",
        crate::uk::date(dt.date()),
        dt.time().strftime("%H:%M")
    )
}

impl IncidentInput {
    /// Checks every part; `allowed_rules` are the rules of the child's current agreement (a
    /// rule not among them is refused).
    pub fn parse(&self, allowed_rules: &[String]) -> Result<IncidentContent, Invalid> {
        let mut v = Validator::new();
        let mut kinds = Vec::new();
        for raw in &self.kinds {
            if let Some(k) = v.check("kinds", IncidentKind::parse(raw))
                && !kinds.contains(&k)
            {
                kinds.push(k);
            }
        }
        if self.kinds.is_empty() {
            v.check::<()>(
                "kinds",
                Err("Choose at least one kind of incident".to_owned()),
            );
        }
        kinds.sort();
        let occurred = v.check("occurred", parse_when(&self.occurred));
        let what_happened = v.check(
            "what_happened",
            parse_text(&self.what_happened, 1, TEXT_MAX),
        );
        let who_involved = v.check("who_involved", parse_text(&self.who_involved, 1, TEXT_MAX));
        let what_done = v.check("what_done", parse_text(&self.what_done, 1, TEXT_MAX));
        let mut told = Vec::new();
        for (whom, when) in &self.told {
            let Some(whom) = v.check("told", Told::parse(whom)) else {
                continue;
            };
            let field = format!("told_when.{}", whom.code());
            let when = if when.trim().is_empty() {
                None
            } else {
                v.check(&field, parse_when(when))
            };
            if !told.iter().any(|t: &ToldEntry| t.whom == whom) {
                told.push(ToldEntry { whom, when });
            }
        }
        let mut rules = Vec::new();
        for rule in &self.rules {
            if allowed_rules.iter().any(|r| r == rule) {
                if !rules.contains(rule) {
                    rules.push(rule.clone());
                }
            } else {
                v.check::<()>(
                    "rules",
                    Err("Choose rules from the child's current agreement".to_owned()),
                );
            }
        }
        v.finish()?;
        match (occurred, what_happened, who_involved, what_done) {
            (Some(occurred), Some(what_happened), Some(who_involved), Some(what_done)) => {
                Ok(IncidentContent {
                    kinds,
                    occurred,
                    what_happened,
                    who_involved,
                    what_done,
                    told,
                    rules,
                })
            }
            _ => Err(Invalid::field("what_happened", "Say what happened")),
        }
    }
}

/// An addendum as stored inside its seal: the correction and its reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddendumContent {
    pub text: String,
    pub reason: String,
}

pub fn parse_addendum(text: &str, reason: &str) -> Result<AddendumContent, Invalid> {
    let mut v = Validator::new();
    let text = v.check("text", parse_text(text, 1, TEXT_MAX));
    let reason = v.check("reason", parse_text(reason, 1, REASON_MAX));
    v.finish()?;
    match (text, reason) {
        (Some(text), Some(reason)) => Ok(AddendumContent { text, reason }),
        _ => Err(Invalid::field("text", "Write the correction")),
    }
}

/// What a reader may do with one incident, from their access to the child's clinical record
/// and whether the incident is linked to a safeguarding concern.
pub fn incident_access(clinical: Access, linked_to_concern: bool) -> Access {
    match clinical {
        Access::Write | Access::Read | Access::Pseudonymised => clinical,
        // The DSL: only what is linked to a concern, and only to read.
        Access::Limited(Limit::LinkedToConcern) if linked_to_concern => Access::Read,
        // The parent-worker's share is the agreement, parent measures and shared session
        // records: never incidents.
        Access::Limited(_) | Access::None => Access::None,
    }
}

/// Whether the recorder is someone other than the child's lead therapist, so the lead is
/// told (never the service lead, who may not read clinical records).
pub fn tell_lead(recorder: crate::identity::UserId, lead: Option<crate::identity::UserId>) -> bool {
    matches!(lead, Some(lead) if lead != recorder)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::UserId;

    fn input() -> IncidentInput {
        IncidentInput {
            kinds: vec!["aggression".into(), "damage".into()],
            occurred: "2026-12-01T15:40".into(),
            what_happened: "Threw the sand tray lid".into(),
            who_involved: "The child and me".into(),
            what_done: "Paused, named the rule, tidied together".into(),
            told: vec![
                ("carers".into(), "01/12/2026 16:30".into()),
                ("dsl".into(), "".into()),
            ],
            rules: vec!["We keep each other safe".into()],
        }
    }

    #[test]
    fn an_incident_parses_kinds_times_and_rules_from_the_agreement() {
        let rules = vec!["We keep each other safe".to_owned()];
        let content = input().parse(&rules).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            content.kinds,
            vec![IncidentKind::Aggression, IncidentKind::Damage]
        );
        assert_eq!(content.occurred.hour(), 15);
        assert_eq!(content.told.len(), 2);
        assert_eq!(content.told[0].when.map(|w| w.minute()), Some(30));
        assert_eq!(content.told[1].when, None);
        assert_eq!(content.rules, rules);

        let mut bad = input();
        bad.kinds = vec![];
        bad.rules = vec!["A rule never agreed".into()];
        bad.occurred = "yesterday".into();
        let fields: Vec<String> = bad
            .parse(&rules)
            .err()
            .map(|e| e.errors.into_iter().map(|f| f.field).collect())
            .unwrap_or_default();
        assert!(fields.contains(&"kinds".to_owned()));
        assert!(fields.contains(&"rules".to_owned()));
        assert!(fields.contains(&"occurred".to_owned()));
        for k in IncidentKind::ALL {
            assert_eq!(IncidentKind::parse(k.code()), Ok(k));
        }
        for t in Told::ALL {
            assert_eq!(Told::parse(t.code()), Ok(t));
        }
    }

    #[test]
    fn who_reads_an_incident() {
        assert_eq!(incident_access(Access::Write, false), Access::Write);
        assert_eq!(
            incident_access(Access::Pseudonymised, false),
            Access::Pseudonymised
        );
        let dsl = Access::Limited(Limit::LinkedToConcern);
        assert_eq!(incident_access(dsl, true), Access::Read);
        assert_eq!(incident_access(dsl, false), Access::None);
        let parent_worker = Access::Limited(Limit::SharedWithParentWorker);
        assert_eq!(incident_access(parent_worker, true), Access::None);
        assert_eq!(incident_access(Access::None, true), Access::None);
    }

    #[test]
    fn the_lead_is_told_only_when_someone_else_recorded_it() {
        let (a, b) = (
            UserId(uuid::Uuid::from_u128(1)),
            UserId(uuid::Uuid::from_u128(2)),
        );
        assert!(tell_lead(a, Some(b)));
        assert!(!tell_lead(a, Some(a)));
        assert!(!tell_lead(a, None));
        assert!(parse_addendum("", "").is_err());
        assert!(parse_addendum("Time was 15:45", "Misread the clock").is_ok());
    }
}
