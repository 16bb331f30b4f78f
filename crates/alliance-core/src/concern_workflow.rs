//! The DSL's work on a submitted concern (issue 14; policy sections 1, 2 and 4): the
//! decisions and agencies, the order steps may come in, which tasks a step settles, the
//! information-sharing record, the chronology's order and words, and the transfer of the
//! safeguarding file to a new school (five school days; clinical-facts section 5.4). Pure:
//! the service layer seals, stores and routes.

use crate::error::{Invalid, Validator, parse_line, parse_optional_line};
use crate::safeguarding::{ConcernKind, StepDetail, StepKind};
use crate::tasks::Rule;
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

macro_rules! coded {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($variant:ident => ($code:literal, $label:literal)),+ $(,)? }) => {
        $(#[$meta])*
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
                match code.trim() {
                    $($code => Ok($name::$variant),)+
                    _ => Err(concat!("Choose ", $what, " from the list").to_owned()),
                }
            }
        }
    };
}

coded!(
    /// What the DSL decided, with its reasons (Keeping Children Safe in Education: "all
    /// concerns, discussions and decisions, and the reasons for them, recorded in writing").
    Decision, "a decision" {
        NoFurtherAction => ("no-further-action", "No further action"),
        Monitor => ("monitor", "Monitor, with a review date"),
        EarlyHelp => ("early-help", "Early help"),
        ChildrensSocialCare => ("childrens-social-care", "Referral to children's social care"),
        Police => ("police", "Referral to the police"),
        OtherAgency => ("other-agency", "Referral to another agency"),
    }
);

coded!(
    /// Where a referral went.
    Agency, "an agency" {
        ChildrensSocialCare => ("childrens-social-care", "Children's social care"),
        Police => ("police", "Police"),
        EarlyHelp => ("early-help", "Early help"),
        Channel => ("channel", "Channel (Prevent)"),
        Other => ("other", "Another agency"),
    }
);

coded!(
    /// The lawful basis an information-sharing decision rests on (UK GDPR Article 6; special
    /// category data also needs the Data Protection Act 2018 Schedule 1 condition for
    /// safeguarding of children: verify locally).
    SharingBasis, "a basis" {
        PublicTask => ("public-task", "Public task (UK GDPR Article 6(1)(e))"),
        LegalObligation => ("legal-obligation", "Legal obligation (UK GDPR Article 6(1)(c))"),
        VitalInterests => ("vital-interests", "Vital interests (UK GDPR Article 6(1)(d))"),
        LegitimateInterests => ("legitimate-interests", "Legitimate interests (UK GDPR Article 6(1)(f))"),
        Consent => ("consent", "Consent (UK GDPR Article 6(1)(a))"),
    }
);

coded!(
    /// Whether consent to share was sought (and the record says why, or why not).
    ConsentSought, "whether consent was sought" {
        SoughtAndGiven => ("sought-given", "Sought and given"),
        SoughtAndRefused => ("sought-refused", "Sought and refused: shared without it"),
        NotSought => ("not-sought", "Not sought"),
    }
);

/// Where a concern stands, worked out from its steps in the order they were recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    AwaitingAcknowledgement,
    /// Acknowledged (or re-opened) and no decision since.
    AwaitingDecision,
    /// Decided, not closed.
    Open,
    Closed,
}

impl Stage {
    pub fn code(self) -> &'static str {
        match self {
            Stage::AwaitingAcknowledgement => "awaiting-acknowledgement",
            Stage::AwaitingDecision => "awaiting-decision",
            Stage::Open => "open",
            Stage::Closed => "closed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Stage::AwaitingAcknowledgement => "Awaiting acknowledgement",
            Stage::AwaitingDecision => "Awaiting a decision",
            Stage::Open => "Open",
            Stage::Closed => "Closed",
        }
    }
}

/// What the steps so far add up to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub stage: Stage,
    /// From when the decision is counted: the submission, or the latest re-opening.
    pub decision_counted_from: Timestamp,
    /// A referral made since the latest re-opening.
    pub referred: bool,
}

impl Progress {
    /// `steps` in the order they were recorded (kind, when recorded).
    pub fn of(submitted_at: Timestamp, steps: &[(StepKind, Timestamp)]) -> Self {
        let mut acknowledged = false;
        let mut decided = false;
        let mut closed = false;
        let mut referred = false;
        let mut from = submitted_at;
        for &(kind, at) in steps {
            match kind {
                StepKind::Acknowledged => acknowledged = true,
                StepKind::Decided => decided = true,
                StepKind::Referred => referred = true,
                StepKind::Closed => closed = true,
                StepKind::Reopened => {
                    closed = false;
                    decided = false;
                    referred = false;
                    from = at;
                }
                _ => {}
            }
        }
        let stage = match (acknowledged, decided, closed) {
            (_, _, true) => Stage::Closed,
            (false, _, _) => Stage::AwaitingAcknowledgement,
            (true, false, _) => Stage::AwaitingDecision,
            (true, true, _) => Stage::Open,
        };
        Progress {
            stage,
            decision_counted_from: from,
            referred,
        }
    }
}

/// The DSL's workflow steps (recorded by the DSL or a deputy on a concern; an allegation's
/// handler on an allegation).
pub const WORKFLOW_STEPS: [StepKind; 9] = [
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

/// Whether a workflow step may be recorded now, and why not. Steps come in any order the
/// work needs (an urgent case may be referred to the police before anything else), except:
/// a closed concern takes only a re-opening or a record of sharing; only a closed one is
/// re-opened; closing needs a decision; feedback is chased and recorded after a referral;
/// the therapist is shared with only on a concern about a child.
pub fn check_step(kind: StepKind, concern: ConcernKind, progress: &Progress) -> Result<(), String> {
    let closed = progress.stage == Stage::Closed;
    let refuse = |why: &str| Err(why.to_owned());
    match kind {
        StepKind::Reopened if !closed => refuse("Only a closed concern is re-opened"),
        StepKind::Reopened => Ok(()),
        StepKind::InformationShared => Ok(()),
        StepKind::SharedWithTeam if concern == ConcernKind::Allegation => {
            refuse("An allegation is not shared with a case team")
        }
        StepKind::SharedWithTeam => Ok(()),
        _ if closed => refuse("This is closed: re-open it with the new information first"),
        StepKind::Closed
            if matches!(
                progress.stage,
                Stage::AwaitingAcknowledgement | Stage::AwaitingDecision
            ) =>
        {
            refuse("Record a decision before closing")
        }
        StepKind::Chased | StepKind::Outcome if !progress.referred => {
            refuse("Record the referral first")
        }
        StepKind::InformationGathered
        | StepKind::Decided
        | StepKind::Referred
        | StepKind::Chased
        | StepKind::Outcome
        | StepKind::Closed => Ok(()),
        _ => refuse("This step is not part of the DSL's workflow"),
    }
}

/// The tasks a step settles (closed for everyone who holds them on this concern).
pub fn settles(kind: StepKind) -> &'static [Rule] {
    match kind {
        StepKind::Decided => &[Rule::DecideConcern, Rule::ReviewConcern],
        StepKind::Outcome => &[Rule::ChaseReferralFeedback],
        StepKind::Closed => &[
            Rule::DecideConcern,
            Rule::ReviewConcern,
            Rule::ChaseReferralFeedback,
        ],
        _ => &[],
    }
}

/// A step in words, one labelled line per part it holds: the one description the page, the
/// chronology, its PDF and its JSON share. `names` turns a user id into a name.
pub fn describe(
    kind: StepKind,
    detail: &StepDetail,
    names: &dyn Fn(&str) -> String,
) -> Vec<(&'static str, String)> {
    let mut lines: Vec<(&'static str, String)> = Vec::new();
    let mut push = |label: &'static str, value: String| {
        if !value.trim().is_empty() {
            lines.push((label, value));
        }
    };
    if let Ok(d) = Decision::parse(&detail.decision) {
        push("Decision", d.label().to_owned());
    }
    if let Some(review) = detail.review_date() {
        push("Review on", crate::uk::date(review));
    }
    if let Ok(a) = Agency::parse(&detail.agency) {
        push("Agency", a.label().to_owned());
    }
    push("Agency named", detail.agency_name.clone());
    push("Spoken to", detail.spoken_to.clone());
    push("Shared with", detail.with_whom.clone());
    if kind == StepKind::SharedWithTeam {
        push("Shared with", names(&detail.shared_with));
    }
    if let Ok(b) = SharingBasis::parse(&detail.basis) {
        push("Basis", b.label().to_owned());
    }
    if let Ok(c) = ConsentSought::parse(&detail.consent) {
        push("Consent", c.label().to_owned());
    }
    push("Why", detail.consent_reason.clone());
    push("Reference", detail.reference.clone());
    push("Duty", detail.duty.clone());
    if let Ok(on) = detail.on.parse::<Date>() {
        push("When", format!("{} {}", crate::uk::date(on), detail.time));
    }
    let note_label = match kind {
        StepKind::Decided => "Reasons",
        StepKind::Closed => "Summary",
        StepKind::Reopened => "New information",
        StepKind::InformationShared | StepKind::SharedWithTeam => "What was shared",
        StepKind::Outcome => "Feedback and outcome",
        _ => "Note",
    };
    push(note_label, detail.note.clone());
    lines
}

/// One line of a child's chronology.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChronologyEntry {
    /// When it happened (what the record says), else when it was recorded.
    pub at: Timestamp,
    pub recorded_at: Timestamp,
    /// The concern's reference (`SG-…`), or empty for a transfer.
    pub reference: String,
    /// What happened: "Concern raised", a step's label, "Addendum", "File transferred".
    pub what: String,
    /// The step's code, `raised`, `addendum`, `transfer-sent` or `transfer-received`.
    pub code: String,
    pub by: String,
    pub lines: Vec<(String, String)>,
}

/// Puts a chronology in time order: when it happened, then when it was recorded, then the
/// reference (stable for entries recorded together).
pub fn order_chronology(entries: &mut [ChronologyEntry]) {
    entries.sort_by(|a, b| {
        (a.at, a.recorded_at, &a.reference, &a.code).cmp(&(
            b.at,
            b.recorded_at,
            &b.reference,
            &b.code,
        ))
    });
}

/// Where the safeguarding file goes when the child moves on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferDestination {
    /// The new school or service.
    #[serde(default)]
    pub school: String,
    /// Its DSL, by name.
    #[serde(default)]
    pub dsl_name: String,
    /// How to reach them (telephone or secure email).
    #[serde(default)]
    pub contact: String,
    /// The first day at the new school (or when we learnt of the move): the count starts
    /// here.
    #[serde(default)]
    pub starts_on: String,
}

impl TransferDestination {
    pub fn parse(input: &TransferDestination) -> Result<Self, Invalid> {
        let mut v = Validator::new();
        let school = v.check("school", parse_line(&input.school, 2, 200));
        let dsl_name = v.check("dsl_name", parse_line(&input.dsl_name, 2, 200));
        let contact = v
            .check("contact", parse_optional_line(&input.contact, 200))
            .flatten()
            .unwrap_or_default();
        let starts_on = v.check("starts_on", crate::error::parse_date(&input.starts_on));
        v.finish()?;
        Ok(TransferDestination {
            school: school.unwrap_or_default(),
            dsl_name: dsl_name.unwrap_or_default(),
            contact,
            starts_on: starts_on.map(|d| d.to_string()).unwrap_or_default(),
        })
    }

    pub fn starts(&self) -> Option<Date> {
        self.starts_on.parse().ok()
    }
}

/// How the transfer deadline was counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CountedIn {
    /// In the school's term calendar (holidays, half-terms, INSET days skipped).
    SchoolDays,
    /// No term calendar for the child's school: working days instead, and the page says so.
    WorkingDays,
}

/// The last day the file may go: the `n`-th school day counting `from` as the first when it
/// is one (a move in the holidays counts from the first day of the new term: "within the
/// first 5 days of a new term"). `None` when no school day falls in the next year.
pub fn transfer_deadline(from: Date, n: u32, is_school_day: impl Fn(Date) -> bool) -> Option<Date> {
    let mut day = from;
    let mut counted = 0;
    for _ in 0..400 {
        if is_school_day(day) {
            counted += 1;
            if counted >= n.max(1) {
                return Some(day);
            }
        }
        day = day.tomorrow().ok()?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn stages_follow_the_steps_and_reopening_asks_for_a_fresh_decision() {
        let t0 = at("2026-12-01T10:00:00Z");
        let p = Progress::of(t0, &[]);
        assert_eq!(p.stage, Stage::AwaitingAcknowledgement);
        assert_eq!(p.decision_counted_from, t0);
        let t1 = at("2026-12-01T10:05:00Z");
        let steps = [(StepKind::Acknowledged, t1)];
        assert_eq!(Progress::of(t0, &steps).stage, Stage::AwaitingDecision);
        let steps = [
            (StepKind::Acknowledged, t1),
            (StepKind::Decided, t1),
            (StepKind::Referred, t1),
        ];
        let p = Progress::of(t0, &steps);
        assert_eq!(p.stage, Stage::Open);
        assert!(p.referred);
        let t2 = at("2026-12-03T09:00:00Z");
        let steps = [
            (StepKind::Acknowledged, t1),
            (StepKind::Decided, t1),
            (StepKind::Closed, t1),
            (StepKind::Reopened, t2),
        ];
        let p = Progress::of(t0, &steps);
        assert_eq!(p.stage, Stage::AwaitingDecision);
        assert_eq!(p.decision_counted_from, t2);
        assert!(!p.referred);
    }

    #[test]
    fn the_order_rules_refuse_what_does_not_fit_and_allow_an_early_police_referral() {
        let t0 = at("2026-12-01T10:00:00Z");
        let fresh = Progress::of(t0, &[]);
        // An urgent case referred to the police before anything else.
        assert!(check_step(StepKind::Referred, ConcernKind::Concern, &fresh).is_ok());
        assert!(check_step(StepKind::Closed, ConcernKind::Concern, &fresh).is_err());
        assert!(check_step(StepKind::Outcome, ConcernKind::Concern, &fresh).is_err());
        assert!(check_step(StepKind::Reopened, ConcernKind::Concern, &fresh).is_err());
        assert!(check_step(StepKind::Acknowledged, ConcernKind::Concern, &fresh).is_err());
        assert!(check_step(StepKind::SharedWithTeam, ConcernKind::Allegation, &fresh).is_err());
        let closed = Progress::of(
            t0,
            &[
                (StepKind::Acknowledged, t0),
                (StepKind::Decided, t0),
                (StepKind::Closed, t0),
            ],
        );
        assert!(check_step(StepKind::Decided, ConcernKind::Concern, &closed).is_err());
        assert!(check_step(StepKind::Reopened, ConcernKind::Concern, &closed).is_ok());
        assert!(check_step(StepKind::InformationShared, ConcernKind::Concern, &closed).is_ok());
        let referred = Progress::of(t0, &[(StepKind::Referred, t0)]);
        assert!(check_step(StepKind::Chased, ConcernKind::Concern, &referred).is_ok());
        assert!(check_step(StepKind::Outcome, ConcernKind::Concern, &referred).is_ok());
    }

    #[test]
    fn the_transfer_deadline_counts_school_days_and_a_holiday_move_counts_from_the_new_term() {
        // School days: weekdays outside 20/07/2026 - 01/09/2026 (the summer holiday).
        let school = |d: Date| {
            !matches!(
                d.weekday(),
                jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday
            ) && !(date(2026, 7, 20)..=date(2026, 9, 1)).contains(&d)
        };
        // In-year: Wednesday 01/07/2026 is day 1; the fifth is Tuesday 07/07/2026.
        assert_eq!(
            transfer_deadline(date(2026, 7, 1), 5, school),
            Some(date(2026, 7, 7))
        );
        // In the holiday: the first five days of the new term (Wed 02/09 .. Tue 08/09).
        assert_eq!(
            transfer_deadline(date(2026, 8, 10), 5, school),
            Some(date(2026, 9, 8))
        );
        assert_eq!(transfer_deadline(date(2026, 8, 10), 5, |_| false), None);
    }

    #[test]
    fn a_destination_needs_the_school_its_dsl_and_a_start() {
        let err = TransferDestination::parse(&TransferDestination::default()).unwrap_err();
        let fields: Vec<_> = err.errors.iter().map(|f| f.field.as_str()).collect();
        assert!(
            fields.contains(&"school")
                && fields.contains(&"dsl_name")
                && fields.contains(&"starts_on")
        );
        let ok = TransferDestination::parse(&TransferDestination {
            school: "Hillside Academy".into(),
            dsl_name: "R. Patel".into(),
            contact: "01234 567890".into(),
            starts_on: "07/01/2027".into(),
        })
        .unwrap();
        assert_eq!(ok.starts(), Some(date(2027, 1, 7)));
    }

    #[test]
    fn describe_words_each_part_and_leaves_out_what_is_empty() {
        let detail = StepDetail {
            decision: "monitor".into(),
            review_on: "2027-01-15".into(),
            note: "Seen twice; mother engaging".into(),
            ..StepDetail::default()
        };
        let lines = describe(StepKind::Decided, &detail, &|_| String::new());
        assert_eq!(
            lines,
            vec![
                ("Decision", "Monitor, with a review date".to_owned()),
                ("Review on", "15/01/2027".to_owned()),
                ("Reasons", "Seen twice; mother engaging".to_owned()),
            ]
        );
    }

    /// The deadlines issue 14 names, with England's bank holidays: acknowledgement by the end
    /// of the working day, decision by the end of the next; outside working hours the count
    /// starts at the next working day's opening; a school holiday is still a working day.
    #[test]
    fn acknowledgement_and_decision_deadlines_fall_where_policy_section_4_says() {
        use crate::calendar::{BankHolidays, Division, WorkingCalendar, WorkingHours};
        use crate::safeguarding::Timing;
        let calendar = WorkingCalendar::for_division(
            &BankHolidays::shipped(),
            Division::EnglandAndWales,
            WorkingHours::default(),
        );
        let timing = Timing::default();
        let london = crate::uk::london();
        let local = |s: &str| {
            london
                .to_ambiguous_zoned_datetime(s.parse::<jiff::civil::DateTime>().unwrap())
                .compatible()
                .unwrap()
                .timestamp()
        };
        let cases = [
            // Friday 16:55: acknowledged by 17:00 that day; decided by Monday 17:00.
            ("2026-12-04T16:55", "2026-12-04T17:00", "2026-12-07T17:00"),
            // Friday 17:50: counted from Monday 09:00.
            ("2026-12-04T17:50", "2026-12-07T17:00", "2026-12-08T17:00"),
            // Christmas Eve (Thursday): Christmas Day, the weekend and the Boxing Day
            // substitute (Monday 28/12) are skipped.
            ("2026-12-24T15:00", "2026-12-24T17:00", "2026-12-29T17:00"),
            ("2026-12-24T17:30", "2026-12-29T17:00", "2026-12-30T17:00"),
            // The summer holiday is not a closure of the service: Friday 28/08/2026, then the
            // August bank holiday (Monday 31/08) is skipped. British Summer Time.
            ("2026-08-28T11:00", "2026-08-28T17:00", "2026-09-01T17:00"),
            // A Saturday: counted from Monday 09:00.
            ("2026-12-05T11:00", "2026-12-07T17:00", "2026-12-08T17:00"),
        ];
        for (raised, acknowledge_by, decide_by) in cases {
            let raised_at = local(raised);
            assert_eq!(
                timing.acknowledge_deadline(raised_at, &calendar),
                local(acknowledge_by),
                "acknowledgement for {raised}"
            );
            assert_eq!(
                timing.decide_deadline(raised_at, &calendar),
                local(decide_by),
                "decision for {raised}"
            );
        }
    }

    #[test]
    fn each_workflow_step_names_what_it_is_missing() {
        let now = at("2026-12-04T12:00:00Z");
        let tz = crate::uk::london();
        let fields = |kind, input: &StepDetail| -> Vec<String> {
            match StepDetail::parse(kind, input, now, &tz) {
                Ok(_) => Vec::new(),
                Err(e) => e.errors.into_iter().map(|f| f.field).collect(),
            }
        };
        let empty = StepDetail::default();
        assert_eq!(fields(StepKind::Decided, &empty), ["decision", "note"]);
        assert_eq!(
            fields(StepKind::Referred, &empty),
            ["agency", "spoken_to", "on"]
        );
        assert_eq!(
            fields(StepKind::InformationShared, &empty),
            ["note", "with_whom", "basis", "consent", "consent_reason"]
        );
        assert_eq!(
            fields(StepKind::SharedWithTeam, &empty),
            ["shared_with", "note"]
        );
        for kind in [
            StepKind::InformationGathered,
            StepKind::Chased,
            StepKind::Outcome,
            StepKind::Closed,
            StepKind::Reopened,
        ] {
            assert_eq!(fields(kind, &empty), ["note"], "{kind:?}");
        }
        // Monitor needs a review date, not in the past; another agency needs its name.
        let monitor = StepDetail {
            decision: "monitor".into(),
            note: "Reasons".into(),
            review_on: "01/12/2026".into(),
            ..StepDetail::default()
        };
        assert_eq!(fields(StepKind::Decided, &monitor), ["review_on"]);
        let other = StepDetail {
            decision: "other-agency".into(),
            note: "Reasons".into(),
            ..StepDetail::default()
        };
        assert_eq!(fields(StepKind::Decided, &other), ["agency_name"]);
        // A referral in the future is refused; a real one is normalised.
        let referral = StepDetail {
            agency: "police".into(),
            spoken_to: "PC Jones".into(),
            on: "05/12/2026".into(),
            time: "09:00".into(),
            ..StepDetail::default()
        };
        assert_eq!(fields(StepKind::Referred, &referral), ["on"]);
        let referral = StepDetail {
            on: "04/12/2026".into(),
            time: "9:05".into(),
            ..referral
        };
        let parsed = StepDetail::parse(StepKind::Referred, &referral, now, &tz).unwrap();
        assert_eq!(
            (parsed.on.as_str(), parsed.time.as_str()),
            ("2026-12-04", "09:05")
        );
        assert_eq!(parsed.occurred_at(&tz), Some(at("2026-12-04T09:05:00Z")));
        // Hostile codes are refused, not stored.
        let bad = StepDetail {
            decision: "<script>".into(),
            note: "x".into(),
            ..StepDetail::default()
        };
        assert_eq!(fields(StepKind::Decided, &bad), ["decision"]);
    }
}
