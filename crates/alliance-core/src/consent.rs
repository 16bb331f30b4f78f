//! Consent and assent (policy section 3): what has been recorded for a case, and whether an
//! agreement may be marked active. The rules are data per nation (`data/consent/*.toml`),
//! so a service can correct a figure without a release; the shape of the reasoning is here.
//!
//! Nothing here ever blocks records, concerns or safeguarding: an agreement that is not
//! active only warns when sessions are scheduled and stops carer-facing outputs.

use crate::children::{CarerId, CarerTopic};
use crate::service::Nation;
use crate::uk;
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use uuid::Uuid;

/// Where a rule comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub title: String,
    pub url: String,
}

/// One nation's rules (England and Wales share one set).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentRules {
    pub code: String,
    pub name: String,
    /// The nations (`Nation::code`) these rules are for.
    pub nations: Vec<String>,
    /// From this age capacity is presumed and the young person consents for themselves.
    pub presumed_capable_from: i16,
    /// What the judgement of a younger child's competence is called here.
    pub competence_test: String,
    /// The question the therapist answers, shown beside the judgement.
    pub competence_question: String,
    /// A judgement, a discussion of dissent or a lead's decision needs reasoning this long.
    pub reasoning_min_chars: usize,
    /// Whether a known objection from a holder of parental responsibility pauses the start.
    pub objection_pauses_start: bool,
    pub sources: Vec<Source>,
}

const SHIPPED: [&str; 3] = [
    include_str!("../data/consent/england-wales.toml"),
    include_str!("../data/consent/scotland.toml"),
    include_str!("../data/consent/northern-ireland.toml"),
];

impl ConsentRules {
    /// Reads and checks one rule set.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        let rules: ConsentRules = toml::from_str(text).map_err(|e| e.to_string())?;
        rules.check()?;
        Ok(rules)
    }

    pub fn check(&self) -> Result<(), String> {
        if !(12..=18).contains(&self.presumed_capable_from) {
            return Err(format!(
                "{}: presumed_capable_from must be between 12 and 18",
                self.code
            ));
        }
        if self.nations.is_empty() {
            return Err(format!("{}: name at least one nation", self.code));
        }
        for nation in &self.nations {
            if !Nation::ALL.iter().any(|n| n.code() == nation) {
                return Err(format!("{}: {nation:?} is not a nation", self.code));
            }
        }
        if self.reasoning_min_chars == 0 || self.reasoning_min_chars > 500 {
            return Err(format!(
                "{}: reasoning_min_chars must be between 1 and 500",
                self.code
            ));
        }
        if self.sources.is_empty() {
            return Err(format!("{}: give at least one source", self.code));
        }
        Ok(())
    }

    /// The shipped rule sets, each checked.
    pub fn shipped() -> Result<Vec<ConsentRules>, String> {
        SHIPPED.iter().map(|t| Self::from_toml(t)).collect()
    }

    /// The shipped rules for a nation.
    pub fn for_nation(nation: Nation) -> Result<ConsentRules, String> {
        Self::shipped()?
            .into_iter()
            .find(|r| r.nations.iter().any(|n| n == nation.code()))
            .ok_or_else(|| format!("no consent rules for {}", nation.label()))
    }
}

/// The figures a service may change in its nation's rules (the ones marked unconfirmed in
/// the sources stay configurable); the names and sources stay the shipped ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentOverrides {
    pub presumed_capable_from: i16,
    pub reasoning_min_chars: usize,
    pub objection_pauses_start: bool,
}

impl ConsentRules {
    /// These rules with a service's figures, checked.
    pub fn with_overrides(&self, overrides: &ConsentOverrides) -> Result<Self, String> {
        let rules = Self {
            presumed_capable_from: overrides.presumed_capable_from,
            reasoning_min_chars: overrides.reasoning_min_chars,
            objection_pauses_start: overrides.objection_pauses_start,
            ..self.clone()
        };
        rules.check()?;
        Ok(rules)
    }

    pub fn overrides(&self) -> ConsentOverrides {
        ConsentOverrides {
            presumed_capable_from: self.presumed_capable_from,
            reasoning_min_chars: self.reasoning_min_chars,
            objection_pauses_start: self.objection_pauses_start,
        }
    }
}

/// A consent link's token starts with this (secret scanners recognise it).
pub const LINK_PREFIX: &str = "ac_";

/// How long a consent link lasts unless the therapist chooses otherwise, and the most.
pub const LINK_DAYS_DEFAULT: i64 = 14;
pub const LINK_DAYS_MAX: i64 = 28;

/// A new consent link's token from 32 random bytes.
pub fn new_link_token(random: [u8; 32]) -> String {
    crate::auth::new_secret(LINK_PREFIX, random)
}

/// The token if `text` could be a consent link's token at all (nothing is looked up for
/// anything else).
pub fn link_token(text: &str) -> Option<&str> {
    let digits = text.strip_prefix(LINK_PREFIX)?;
    (digits.len() == 64
        && digits
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
    .then_some(text)
}

/// What an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntryKind {
    /// The child agrees to this agreement (their assent), at any age.
    Assent,
    /// The child does not agree: flagged for discussion, never silently overridden.
    Dissent,
    /// The child's dissent was talked through, and the work goes on: with the reasoning.
    DissentDiscussed,
    /// The therapist judges the child competent to consent for themselves (with reasoning).
    JudgedCompetent,
    /// The therapist judges the child not (yet) competent for this decision (with reasoning).
    JudgedNotCompetent,
    /// The young person consents for themselves, saying what their carers may be told.
    OwnConsent,
    /// A competent young person refuses: the work stops.
    OwnRefusal,
    /// A person with parental responsibility consents.
    ParentalConsent,
    /// A person with parental responsibility objects.
    ParentalObjection,
    /// The service lead decides, after an objection, that the work may start.
    LeadProceeds,
    /// The service lead decides, after an objection, that the work does not start.
    LeadDoesNotProceed,
    /// A court order settles the question (overrides an objection).
    CourtOrder,
    /// Consent is withdrawn: the work ends and the record is kept.
    Withdrawal,
}

impl EntryKind {
    pub const ALL: [EntryKind; 13] = [
        EntryKind::Assent,
        EntryKind::Dissent,
        EntryKind::DissentDiscussed,
        EntryKind::JudgedCompetent,
        EntryKind::JudgedNotCompetent,
        EntryKind::OwnConsent,
        EntryKind::OwnRefusal,
        EntryKind::ParentalConsent,
        EntryKind::ParentalObjection,
        EntryKind::LeadProceeds,
        EntryKind::LeadDoesNotProceed,
        EntryKind::CourtOrder,
        EntryKind::Withdrawal,
    ];

    pub fn code(self) -> &'static str {
        match self {
            EntryKind::Assent => "assent",
            EntryKind::Dissent => "dissent",
            EntryKind::DissentDiscussed => "dissent-discussed",
            EntryKind::JudgedCompetent => "judged-competent",
            EntryKind::JudgedNotCompetent => "judged-not-competent",
            EntryKind::OwnConsent => "own-consent",
            EntryKind::OwnRefusal => "own-refusal",
            EntryKind::ParentalConsent => "parental-consent",
            EntryKind::ParentalObjection => "parental-objection",
            EntryKind::LeadProceeds => "lead-proceeds",
            EntryKind::LeadDoesNotProceed => "lead-does-not-proceed",
            EntryKind::CourtOrder => "court-order",
            EntryKind::Withdrawal => "withdrawal",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            EntryKind::Assent => "The child agrees (assent)",
            EntryKind::Dissent => "The child does not agree (dissent)",
            EntryKind::DissentDiscussed => "The child's dissent was discussed",
            EntryKind::JudgedCompetent => "Judged competent to consent",
            EntryKind::JudgedNotCompetent => "Judged not competent to consent",
            EntryKind::OwnConsent => "The young person consents",
            EntryKind::OwnRefusal => "The young person refuses",
            EntryKind::ParentalConsent => "Consent from a person with parental responsibility",
            EntryKind::ParentalObjection => "Objection from a person with parental responsibility",
            EntryKind::LeadProceeds => "Service lead's decision: the work may start",
            EntryKind::LeadDoesNotProceed => "Service lead's decision: the work does not start",
            EntryKind::CourtOrder => "Court order",
            EntryKind::Withdrawal => "Consent withdrawn",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.code() == code.trim())
            .ok_or_else(|| {
                format!(
                    "Choose what to record from: {}",
                    Self::ALL.map(Self::code).join(", ")
                )
            })
    }

    /// Entries that name the carer who gave them.
    pub fn needs_carer(self) -> bool {
        matches!(
            self,
            EntryKind::ParentalConsent | EntryKind::ParentalObjection
        )
    }

    /// Entries about one version of the agreement rather than the whole case.
    pub fn about_agreement(self) -> bool {
        matches!(
            self,
            EntryKind::Assent | EntryKind::Dissent | EntryKind::DissentDiscussed
        )
    }

    /// Entries that need written reasoning (in `detail`).
    pub fn needs_reasoning(self) -> bool {
        matches!(
            self,
            EntryKind::DissentDiscussed
                | EntryKind::JudgedCompetent
                | EntryKind::JudgedNotCompetent
                | EntryKind::LeadProceeds
                | EntryKind::LeadDoesNotProceed
        )
    }

    /// Only the service lead decides after an objection.
    pub fn is_lead_decision(self) -> bool {
        matches!(
            self,
            EntryKind::LeadProceeds | EntryKind::LeadDoesNotProceed
        )
    }
}

/// How an entry was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Via {
    /// Recorded by a member of staff (a scan may be attached elsewhere).
    InPerson,
    /// Through a single-use consent link.
    Link,
}

impl Via {
    pub fn code(self) -> &'static str {
        match self {
            Via::InPerson => "in-person",
            Via::Link => "link",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Via::InPerson => "In person",
            Via::Link => "Through a consent link",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        match code.trim() {
            "in-person" => Ok(Via::InPerson),
            "link" => Ok(Via::Link),
            _ => Err("Choose in-person or link".to_owned()),
        }
    }
}

/// An entry as the rules need it (the words and reasoning are sealed elsewhere).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: Uuid,
    pub kind: EntryKind,
    pub carer: Option<CarerId>,
    pub agreement: Option<Uuid>,
    pub via: Via,
    /// When it was given (the day the child said it, the form was signed).
    pub given_on: Date,
    /// When it was recorded: entries are read in this order.
    pub recorded_at: Timestamp,
}

/// A carer as the rules need them: whether they hold parental responsibility now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CarerStanding {
    pub id: CarerId,
    pub parental_responsibility: bool,
}

/// Who consents for this child under the rules, today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Basis {
    /// A person with parental responsibility.
    ParentalResponsibility,
    /// The child, judged competent for this decision.
    CompetentChild,
    /// The young person, capacity presumed at their age.
    PresumedCapable,
}

impl Basis {
    pub fn label(self) -> &'static str {
        match self {
            Basis::ParentalResponsibility => {
                "A person with parental responsibility consents; the child's assent is recorded"
            }
            Basis::CompetentChild => "The child consents for themselves (judged competent)",
            Basis::PresumedCapable => {
                "The young person consents for themselves (capacity presumed)"
            }
        }
    }
}

/// Where the case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Everything the rules require is recorded: the agreement may be marked active.
    Ready,
    /// Something is missing (listed).
    Incomplete,
    /// A known objection waits for the service lead's decision.
    Paused,
    /// The work does not go on (a competent refusal, a withdrawal, the lead's decision).
    Stopped,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Ready => "Ready",
            Status::Incomplete => "Something is missing",
            Status::Paused => "Paused for the service lead's decision",
            Status::Stopped => "Stopped",
        }
    }
}

/// What the rules make of a case's entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assessment {
    pub status: Status,
    pub basis: Basis,
    /// What is still needed, in plain words.
    pub missing: Vec<String>,
    /// Why the start is paused or the work stopped.
    pub reason: Option<String>,
    /// Things to know that block nothing (a note of an earlier dissent).
    pub notes: Vec<String>,
    /// When the young person consents for themselves: what they agree carers may be told.
    pub carers_may_be_told: Option<BTreeSet<CarerTopic>>,
}

impl Assessment {
    pub fn may_activate(&self) -> bool {
        self.status == Status::Ready
    }

    /// The work has ended or may not start: nothing new is scheduled or sent.
    pub fn is_stopped(&self) -> bool {
        self.status == Status::Stopped
    }
}

/// An own-consent entry's topics, looked up by entry id (they live in the sealed detail).
pub type TopicsOf<'a> = &'a dyn Fn(Uuid) -> BTreeSet<CarerTopic>;

/// Applies the rules to a case's entries (any order; they are read oldest first), the
/// child's age today, the carers as they stand today, and the agreement version in question.
pub fn assess(
    rules: &ConsentRules,
    age_years: i16,
    entries: &[Entry],
    carers: &[CarerStanding],
    agreement: Option<Uuid>,
    topics_of: TopicsOf<'_>,
) -> Assessment {
    let mut ordered: Vec<&Entry> = entries.iter().collect();
    ordered.sort_by_key(|e| (e.recorded_at, e.id));
    let latest = |kinds: &[EntryKind]| -> Option<&Entry> {
        ordered
            .iter()
            .rev()
            .find(|e| kinds.contains(&e.kind))
            .copied()
    };
    let has_pr = |carer: Option<CarerId>| {
        carer.is_some_and(|id| {
            carers
                .iter()
                .any(|c| c.id == id && c.parental_responsibility)
        })
    };
    let mut missing = Vec::new();
    let mut notes = Vec::new();

    let presumed = age_years >= rules.presumed_capable_from;
    let judgement = latest(&[EntryKind::JudgedCompetent, EntryKind::JudgedNotCompetent]);
    let competent = match judgement {
        Some(j) => j.kind == EntryKind::JudgedCompetent,
        None => presumed,
    };
    let basis = match (competent, presumed) {
        (true, true) => Basis::PresumedCapable,
        (true, false) => Basis::CompetentChild,
        (false, _) => Basis::ParentalResponsibility,
    };
    let stopped = |reason: String, carers_may_be_told| Assessment {
        status: Status::Stopped,
        basis,
        missing: Vec::new(),
        reason: Some(reason),
        notes: Vec::new(),
        carers_may_be_told,
    };

    if let Some(w) = latest(&[EntryKind::Withdrawal]) {
        return stopped(
            format!(
                "Consent was withdrawn on {}: the work has ended, and the record is kept",
                uk::date(w.given_on)
            ),
            None,
        );
    }

    let mut carers_may_be_told = None;
    let mut paused = None;
    if competent {
        match latest(&[EntryKind::OwnConsent, EntryKind::OwnRefusal]) {
            Some(e) if e.kind == EntryKind::OwnRefusal => {
                return stopped(
                    format!(
                        "The young person refused on {}: a competent refusal stops the work",
                        uk::date(e.given_on)
                    ),
                    None,
                );
            }
            Some(e) => carers_may_be_told = Some(topics_of(e.id)),
            None => missing.push(if presumed {
                format!(
                    "The young person's own consent (capacity is presumed from {})",
                    rules.presumed_capable_from
                )
            } else {
                format!(
                    "The child's own consent (they were judged competent: {})",
                    rules.competence_test
                )
            }),
        }
        // A competent child's own consent stands against a parent's objection.
    } else {
        if latest(&[EntryKind::OwnConsent]).is_some() && !presumed {
            notes.push(format!(
                "The child's own consent is recorded, but they are not judged competent ({}): a person with parental responsibility consents",
                rules.competence_test
            ));
        }
        // Each holder's latest word counts; a consent from someone who no longer holds
        // parental responsibility does not.
        let mut consenting = false;
        let mut objecting: Option<&Entry> = None;
        let mut holders: Vec<CarerId> = Vec::new();
        for carer in ordered
            .iter()
            .filter(|e| e.kind.needs_carer())
            .filter_map(|e| e.carer)
        {
            if !holders.contains(&carer) {
                holders.push(carer);
            }
        }
        for holder in holders {
            if !has_pr(Some(holder)) {
                continue;
            }
            let word = ordered
                .iter()
                .rev()
                .find(|e| e.kind.needs_carer() && e.carer == Some(holder));
            let Some(word) = word.copied() else {
                continue;
            };
            match word.kind {
                EntryKind::ParentalConsent => consenting = true,
                // The latest holder's objection is the one the lead decides on.
                EntryKind::ParentalObjection
                    if objecting.is_none_or(|o| word.recorded_at > o.recorded_at) =>
                {
                    objecting = Some(word);
                }
                _ => {}
            }
        }
        if let Some(objection) = objecting.filter(|_| rules.objection_pauses_start) {
            let settled = ordered.iter().rev().find(|e| {
                e.recorded_at > objection.recorded_at
                    && matches!(
                        e.kind,
                        EntryKind::LeadProceeds
                            | EntryKind::LeadDoesNotProceed
                            | EntryKind::CourtOrder
                    )
            });
            match settled.map(|e| e.kind) {
                Some(EntryKind::LeadDoesNotProceed) => {
                    return stopped(
                        format!(
                            "A person with parental responsibility objected on {}, and the service lead decided the work does not start",
                            uk::date(objection.given_on)
                        ),
                        None,
                    );
                }
                Some(kind) => notes.push(format!(
                    "A person with parental responsibility objected on {}; {}",
                    uk::date(objection.given_on),
                    if kind == EntryKind::CourtOrder {
                        "a court order settles it"
                    } else {
                        "the service lead decided the work may start"
                    }
                )),
                None => {
                    paused = Some(format!(
                        "A person with parental responsibility objected on {}: the start waits for the service lead's decision",
                        uk::date(objection.given_on)
                    ));
                }
            }
        }
        let ordered_by_court = latest(&[EntryKind::CourtOrder]).is_some();
        if !consenting && !ordered_by_court {
            missing.push("Consent from a person with parental responsibility".to_owned());
        }
    }

    // The child's assent to this agreement, at every age.
    let word = agreement.and_then(|agreement| {
        ordered
            .iter()
            .rev()
            .find(|e| e.kind.about_agreement() && e.agreement == Some(agreement))
            .copied()
    });
    match word.map(|e| (e.kind, e.given_on)) {
        Some((EntryKind::Assent, _)) => {}
        Some((EntryKind::DissentDiscussed, on)) => notes.push(format!(
            "The child did not agree at first; it was discussed on {}",
            uk::date(on)
        )),
        Some((_, on)) => missing.push(format!(
            "The child did not agree on {}: talk it through and record the discussion, or their assent",
            uk::date(on)
        )),
        None => missing.push("The child's assent to this agreement".to_owned()),
    }

    let status = if paused.is_some() {
        Status::Paused
    } else if missing.is_empty() {
        Status::Ready
    } else {
        Status::Incomplete
    };
    Assessment {
        status,
        basis,
        missing,
        reason: paused,
        notes,
        carers_may_be_told,
    }
}

/// Checks an entry before it is recorded, against the rules and the child's age. Returns the
/// field and message of the first problem.
pub fn check_entry(
    rules: &ConsentRules,
    age_years: i16,
    kind: EntryKind,
    carer: Option<CarerStanding>,
    reasoning: &str,
) -> Result<(), (&'static str, String)> {
    if kind.needs_carer() {
        match carer {
            None => {
                return Err((
                    "carer",
                    "Choose the person with parental responsibility".to_owned(),
                ));
            }
            Some(c) if !c.parental_responsibility => {
                return Err((
                    "carer",
                    "Only a person with parental responsibility may consent or object".to_owned(),
                ));
            }
            Some(_) => {}
        }
    } else if carer.is_some() {
        return Err((
            "carer",
            "Name a carer only for their consent or objection".to_owned(),
        ));
    }
    if kind.needs_reasoning() && reasoning.trim().chars().count() < rules.reasoning_min_chars {
        return Err((
            "reasoning",
            format!(
                "Write the reasoning (at least {} characters)",
                rules.reasoning_min_chars
            ),
        ));
    }
    let presumed = age_years >= rules.presumed_capable_from;
    if presumed && kind == EntryKind::JudgedCompetent {
        return Err((
            "kind",
            format!(
                "From {} capacity is presumed: there is nothing to judge",
                rules.presumed_capable_from
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn rules() -> ConsentRules {
        ConsentRules::for_nation(Nation::England).unwrap_or_else(|e| panic!("{e}"))
    }

    const AGREEMENT: Uuid = Uuid::from_u128(900);
    const MUM: CarerId = CarerId(Uuid::from_u128(1));
    const DAD: CarerId = CarerId(Uuid::from_u128(2));
    const FOSTER: CarerId = CarerId(Uuid::from_u128(3));

    fn carers() -> Vec<CarerStanding> {
        vec![
            CarerStanding {
                id: MUM,
                parental_responsibility: true,
            },
            CarerStanding {
                id: DAD,
                parental_responsibility: true,
            },
            CarerStanding {
                id: FOSTER,
                parental_responsibility: false,
            },
        ]
    }

    struct Log(Vec<Entry>);

    impl Log {
        fn new() -> Self {
            Self(Vec::new())
        }

        fn add(mut self, kind: EntryKind, carer: Option<CarerId>) -> Self {
            let n = self.0.len() as i64;
            self.0.push(Entry {
                id: Uuid::from_u128(100 + n as u128),
                kind,
                carer,
                agreement: kind.about_agreement().then_some(AGREEMENT),
                via: Via::InPerson,
                given_on: date(2026, 11, 2),
                recorded_at: Timestamp::from_second(1_800_000_000 + n).unwrap_or_default(),
            });
            self
        }

        fn assess(&self, age: i16) -> Assessment {
            let topics = |_: Uuid| BTreeSet::from([CarerTopic::Attendance]);
            assess(&rules(), age, &self.0, &carers(), Some(AGREEMENT), &topics)
        }
    }

    #[test]
    fn shipped_rules_load_for_every_nation() {
        for nation in Nation::ALL {
            let r = ConsentRules::for_nation(nation).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(r.presumed_capable_from, 16);
        }
        assert_eq!(
            ConsentRules::for_nation(Nation::Scotland).map(|r| r.code),
            Ok("scotland".to_owned())
        );
        let bad = SHIPPED[0].replace("presumed_capable_from = 16", "presumed_capable_from = 4");
        assert!(ConsentRules::from_toml(&bad).is_err());
        let unknown = format!("{}\nsurprise = 1\n", SHIPPED[0]);
        assert!(ConsentRules::from_toml(&unknown).is_err());
    }

    #[test]
    fn a_young_child_needs_a_parent_and_their_own_assent() {
        for age in [3, 12, 15] {
            let nothing = Log::new().assess(age);
            assert_eq!(nothing.status, Status::Incomplete);
            assert_eq!(nothing.basis, Basis::ParentalResponsibility);
            assert_eq!(nothing.missing.len(), 2, "{age}: {:?}", nothing.missing);
            let parent_only = Log::new()
                .add(EntryKind::ParentalConsent, Some(MUM))
                .assess(age);
            assert_eq!(
                parent_only.missing,
                vec!["The child's assent to this agreement"]
            );
            let both = Log::new()
                .add(EntryKind::ParentalConsent, Some(MUM))
                .add(EntryKind::Assent, None)
                .assess(age);
            assert!(both.may_activate(), "{age}: {both:?}");
        }
    }

    #[test]
    fn a_carer_without_parental_responsibility_cannot_consent() {
        let log = Log::new()
            .add(EntryKind::ParentalConsent, Some(FOSTER))
            .add(EntryKind::Assent, None)
            .assess(8);
        assert_eq!(
            log.missing,
            vec!["Consent from a person with parental responsibility"]
        );
        assert_eq!(
            check_entry(
                &rules(),
                8,
                EntryKind::ParentalConsent,
                Some(carers()[2]),
                ""
            )
            .map_err(|e| e.0),
            Err("carer")
        );
    }

    #[test]
    fn a_younger_childs_dissent_is_flagged_never_silently_overridden() {
        let dissent = Log::new()
            .add(EntryKind::ParentalConsent, Some(MUM))
            .add(EntryKind::Dissent, None);
        let flagged = dissent.assess(7);
        assert_eq!(flagged.status, Status::Incomplete);
        assert!(flagged.missing[0].contains("did not agree"));
        let discussed = dissent.add(EntryKind::DissentDiscussed, None).assess(7);
        assert!(discussed.may_activate());
        assert!(discussed.notes[0].contains("discussed"));
    }

    #[test]
    fn a_competent_child_consents_for_themselves_and_their_refusal_stops_the_work() {
        for age in [12, 15] {
            let judged = Log::new()
                .add(EntryKind::JudgedCompetent, None)
                .add(EntryKind::Assent, None);
            let waiting = judged.assess(age);
            assert_eq!(waiting.basis, Basis::CompetentChild);
            assert!(waiting.missing[0].contains("own consent"));
            let consenting = Log::new()
                .add(EntryKind::JudgedCompetent, None)
                .add(EntryKind::OwnConsent, None)
                .add(EntryKind::Assent, None)
                .assess(age);
            assert!(consenting.may_activate(), "{consenting:?}");
            assert_eq!(
                consenting.carers_may_be_told,
                Some(BTreeSet::from([CarerTopic::Attendance]))
            );
            let refusing = Log::new()
                .add(EntryKind::ParentalConsent, Some(MUM))
                .add(EntryKind::JudgedCompetent, None)
                .add(EntryKind::OwnRefusal, None)
                .assess(age);
            assert_eq!(refusing.status, Status::Stopped);
        }
    }

    #[test]
    fn an_incompetent_childs_own_consent_does_not_replace_a_parents() {
        let log = Log::new()
            .add(EntryKind::JudgedNotCompetent, None)
            .add(EntryKind::OwnConsent, None)
            .add(EntryKind::Assent, None)
            .assess(12);
        assert_eq!(log.basis, Basis::ParentalResponsibility);
        assert_eq!(
            log.missing,
            vec!["Consent from a person with parental responsibility"]
        );
        assert!(!log.notes.is_empty());
    }

    #[test]
    fn sixteen_and_seventeen_are_presumed_capable() {
        for age in [16, 17] {
            let parent = Log::new()
                .add(EntryKind::ParentalConsent, Some(MUM))
                .add(EntryKind::Assent, None)
                .assess(age);
            assert_eq!(parent.basis, Basis::PresumedCapable);
            assert_eq!(
                parent.status,
                Status::Incomplete,
                "a parent cannot consent for them"
            );
            let own = Log::new()
                .add(EntryKind::OwnConsent, None)
                .add(EntryKind::Assent, None)
                .assess(age);
            assert!(own.may_activate());
            // Capacity presumed unless the therapist records it lacking for this decision.
            let lacking = Log::new()
                .add(EntryKind::JudgedNotCompetent, None)
                .add(EntryKind::ParentalConsent, Some(MUM))
                .add(EntryKind::Assent, None)
                .assess(age);
            assert!(lacking.may_activate());
            assert_eq!(lacking.basis, Basis::ParentalResponsibility);
            assert!(
                check_entry(
                    &rules(),
                    age,
                    EntryKind::JudgedCompetent,
                    None,
                    "x".repeat(30).as_str()
                )
                .is_err()
            );
        }
    }

    #[test]
    fn an_objection_pauses_until_the_service_lead_decides() {
        let objected = Log::new()
            .add(EntryKind::ParentalConsent, Some(MUM))
            .add(EntryKind::ParentalObjection, Some(DAD))
            .add(EntryKind::Assent, None);
        let paused = objected.assess(9);
        assert_eq!(paused.status, Status::Paused);
        assert!(!paused.may_activate());
        let proceed = Log(objected.0.clone())
            .add(EntryKind::LeadProceeds, None)
            .assess(9);
        assert!(proceed.may_activate(), "{proceed:?}");
        let no = Log(objected.0.clone())
            .add(EntryKind::LeadDoesNotProceed, None)
            .assess(9);
        assert_eq!(no.status, Status::Stopped);
        let court = Log(objected.0.clone())
            .add(EntryKind::CourtOrder, None)
            .assess(9);
        assert!(court.may_activate());
        // A holder who objected and later consented no longer objects.
        let changed_mind = Log::new()
            .add(EntryKind::ParentalObjection, Some(DAD))
            .add(EntryKind::ParentalConsent, Some(DAD))
            .add(EntryKind::Assent, None)
            .assess(9);
        assert!(changed_mind.may_activate());
        // A foster carer's objection is not a holder's.
        let foster = Log::new()
            .add(EntryKind::ParentalConsent, Some(MUM))
            .add(EntryKind::ParentalObjection, Some(FOSTER))
            .add(EntryKind::Assent, None)
            .assess(9);
        assert!(foster.may_activate());
    }

    #[test]
    fn a_competent_childs_own_consent_stands_against_an_objection() {
        let log = Log::new()
            .add(EntryKind::ParentalObjection, Some(DAD))
            .add(EntryKind::JudgedCompetent, None)
            .add(EntryKind::OwnConsent, None)
            .add(EntryKind::Assent, None)
            .assess(14);
        assert!(log.may_activate(), "{log:?}");
        let seventeen = Log::new()
            .add(EntryKind::ParentalObjection, Some(DAD))
            .add(EntryKind::OwnConsent, None)
            .add(EntryKind::Assent, None)
            .assess(17);
        assert!(seventeen.may_activate());
    }

    #[test]
    fn withdrawal_ends_the_work() {
        let log = Log::new()
            .add(EntryKind::ParentalConsent, Some(MUM))
            .add(EntryKind::Assent, None)
            .add(EntryKind::Withdrawal, None)
            .assess(10);
        assert!(log.is_stopped());
        assert!(log.reason.is_some_and(|r| r.contains("record is kept")));
    }

    #[test]
    fn assent_belongs_to_one_version_of_the_agreement() {
        let log = Log::new()
            .add(EntryKind::ParentalConsent, Some(MUM))
            .add(EntryKind::Assent, None);
        let topics = |_: Uuid| BTreeSet::new();
        let next = assess(
            &rules(),
            10,
            &log.0,
            &carers(),
            Some(Uuid::from_u128(901)),
            &topics,
        );
        assert_eq!(next.missing, vec!["The child's assent to this agreement"]);
    }

    #[test]
    fn a_service_may_change_the_figures_within_bounds() {
        let shipped = rules();
        let mut figures = shipped.overrides();
        figures.presumed_capable_from = 18;
        let changed = shipped
            .with_overrides(&figures)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(changed.presumed_capable_from, 18);
        assert_eq!(changed.sources, shipped.sources);
        let seventeen = Log::new()
            .add(EntryKind::OwnConsent, None)
            .add(EntryKind::Assent, None);
        let topics = |_: Uuid| BTreeSet::new();
        let under = assess(
            &changed,
            17,
            &seventeen.0,
            &carers(),
            Some(AGREEMENT),
            &topics,
        );
        assert_eq!(under.basis, Basis::ParentalResponsibility);
        figures.presumed_capable_from = 9;
        assert!(shipped.with_overrides(&figures).is_err());
    }

    #[test]
    fn link_tokens_are_recognised_and_nothing_else() {
        let token = new_link_token([7; 32]);
        assert_eq!(link_token(&token), Some(token.as_str()));
        assert_eq!(link_token("ac_../../etc/passwd"), None);
        assert_eq!(link_token(&token.replace("ac_", "af_")), None);
        assert_eq!(link_token(&format!("{token}0")), None);
    }

    #[test]
    fn reasoning_is_required_where_a_judgement_is_made() {
        for kind in EntryKind::ALL {
            assert_eq!(EntryKind::parse(kind.code()), Ok(kind));
            if kind.needs_reasoning() {
                assert!(check_entry(&rules(), 10, kind, None, "too short").is_err());
            }
        }
    }
}
