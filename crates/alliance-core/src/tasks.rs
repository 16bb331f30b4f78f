//! Tasks and notices, and the rules that raise them. A feature registers a rule here (what it
//! raises, for whom, when it is due, and whom to tell when it is overdue); the scheduler in
//! the service layer raises and escalates by these rules. Titles carry case numbers, never
//! names or content, so a list of tasks says nothing a reader may not know; and every task
//! that points at a child's record is shown only to someone who passes that record's check.

use crate::children::ChildId;
use crate::directory::uuid_id;
use crate::error::parse_text;
use crate::identity::{Role, UserId};
use crate::version::Version;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

uuid_id!(TaskId, "a task");
uuid_id!(FiringId, "a scheduled firing");

/// A task asks for something to be done by a time; a notice only tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TaskKind {
    Task,
    Notice,
}

impl TaskKind {
    pub fn code(self) -> &'static str {
        match self {
            TaskKind::Task => "task",
            TaskKind::Notice => "notice",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        match code {
            "task" => Ok(Self::Task),
            "notice" => Ok(Self::Notice),
            _ => Err("Choose task or notice".to_owned()),
        }
    }
}

/// Who a rule raises its task or notice for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Recipient {
    User(UserId),
    /// Every active holder of the role.
    Role(Role),
    /// Everyone on the safeguarding rota on duty when it fires (the DSL and deputies), and
    /// every active service lead: the escalation of an urgent concern.
    OnDuty,
}

impl Recipient {
    /// Stored as the user's id, or `role:` and the role's code.
    pub fn code(self) -> String {
        match self {
            Recipient::User(id) => id.to_string(),
            Recipient::Role(role) => format!("role:{}", role.code()),
            Recipient::OnDuty => "on-duty".to_owned(),
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        if code == "on-duty" {
            return Ok(Recipient::OnDuty);
        }
        match code.strip_prefix("role:") {
            Some(role) => Role::parse(role).map(Recipient::Role),
            None => UserId::parse(code).map(Recipient::User),
        }
    }
}

/// One step of an escalation ladder: this many working days after the due time (0: as soon
/// as it is overdue), a notice goes to these people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub after_working_days: u32,
    pub notify: StepRecipient,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepRecipient {
    /// The task's owner, reminded.
    Owner,
    Role(Role),
    /// Whoever is on duty on the safeguarding rota then, and every service lead.
    OnDuty,
}

/// The rules features register. Each has a stable code (stored with what it raised).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    /// A case has a lead: arrange the first session (due in ten working days; the owner is
    /// reminded when it is overdue and the service lead told five working days later).
    ArrangeFirstSession,
    /// Someone was added to a case team.
    JoinedCaseTeam,
    /// A case was transferred to a new lead.
    CaseTransferred,
    /// A task is overdue (raised by escalation).
    Overdue,
    /// The agreed time or room changed: talk it through with the child (due in five
    /// working days).
    FrameChanged,
    /// A break is coming: prepare the child in the session before it (or as many before as
    /// the service's policy says).
    PrepareForBreak,
    /// The planned ending is near: begin the countdown with the child.
    EndingCountdown,
    /// The last session of a planned ending has passed: close the case.
    CloseAtPlannedEnding,
    /// The regular time or place changed under an active agreement: agree it again with the
    /// child.
    ReAgree,
    /// Go through the first-session checklist at a new case (again, if the child had one).
    FirstSessionChecklist,
    /// The child has moved into the next age band: explain again in words for their age.
    RevisitExplanations,
    /// A holder of parental responsibility objected: the service lead decides whether the
    /// work starts.
    DecideOnObjection,
    /// A review meeting with the carers is due (at the service's interval).
    CarerReview,
    /// A new safeguarding concern: the DSL or a deputy acknowledges it (by the end of the
    /// working day, as the service's timing says).
    AcknowledgeConcern,
    /// An urgent concern: the DSL on duty acknowledges it within the service's minutes.
    AcknowledgeUrgentConcern,
    /// An urgent concern was not acknowledged in time: everyone on duty and the service lead
    /// are told.
    UrgentConcernEscalated,
    /// Nobody acknowledged an urgent concern (or nobody was on duty): its raiser calls the
    /// emergency duty team or 999 now, and records that they did.
    CallEmergencyServices,
    /// A legal duty falls on the raiser personally (female genital mutilation): report, and
    /// record the reference.
    StatutoryReport,
    /// Self-harm or suicide risk: the DSL reviews the risk.
    RiskReview,
    /// The lead therapist is told that a risk review was opened for their child.
    RiskReviewShared,
    /// An allegation against a member of staff: refer it to the local authority designated
    /// officer.
    ReferAllegation,
    /// A concern awaits the DSL's decision (by the end of the next working day, as the
    /// service's timing says; again after a re-opening).
    DecideConcern,
    /// A concern being monitored reaches its review date.
    ReviewConcern,
    /// A referral's feedback is due (the local authority decides within one working day):
    /// chase it and record the outcome.
    ChaseReferralFeedback,
    /// The DSL shared something about a concern with the therapist: read it.
    ConcernShared,
    /// The child's safeguarding file must go to their new school (five school days).
    SendSafeguardingFile,
    /// The file went: confirm the new school received it, and record that.
    ConfirmFileReceived,
    /// Someone was granted break-glass access to a child: the DSL, deputies and the service
    /// lead are told at once, and review what was done under it.
    BreakGlassGranted,
    /// A destruction of one class of a child's record was asked for: the service lead or the
    /// DSL approves or refuses it (for the sole practitioner, once the cooling-off is over).
    ApproveDestruction,
    /// A reviewer was named for a subject access request: decide each item of the record.
    ReviewSubjectAccess,
    /// A material in a room or play kit needs replacing or cleaning: the administrators see to it.
    MaterialNeedsAttention,
    /// A pre-session room check found a problem: the administrators put it right.
    RoomCheckProblem,
    /// An incident was recorded by someone other than the child's lead therapist: the lead is
    /// told (never the service lead, who may not read the clinical record).
    IncidentRecorded,
    /// A self-harm or suicide concern was raised about a child: the lead therapist writes a safety plan with the young person.
    WriteSafetyPlan,
    /// A safety plan reaches its review date.
    ReviewSafetyPlan,
}

/// When a rule's task is due, counted from when it is raised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// After this many working days (at the end of the working day that many days on).
    WorkingDays(u32),
    /// At once (the task is already overdue when raised).
    Now,
    /// Within the service's urgent-acknowledgement minutes (safeguarding timing).
    UrgentMinutes,
    /// By the service's non-urgent acknowledgement (safeguarding timing).
    SafeguardingAcknowledgement,
    /// By the service's allegation referral time (safeguarding timing).
    AllegationReferral,
    /// By the service's non-urgent decision time (safeguarding timing).
    SafeguardingDecision,
    /// At the close of the working day it is raised on (a review date, a chase).
    EndOfWorkingDay,
    /// By the deadline the record it points at keeps (a transfer's five school days).
    Recorded,
}

impl Rule {
    pub const ALL: [Rule; 35] = [
        Rule::ArrangeFirstSession,
        Rule::JoinedCaseTeam,
        Rule::CaseTransferred,
        Rule::Overdue,
        Rule::FrameChanged,
        Rule::PrepareForBreak,
        Rule::EndingCountdown,
        Rule::CloseAtPlannedEnding,
        Rule::ReAgree,
        Rule::FirstSessionChecklist,
        Rule::RevisitExplanations,
        Rule::DecideOnObjection,
        Rule::CarerReview,
        Rule::AcknowledgeConcern,
        Rule::AcknowledgeUrgentConcern,
        Rule::UrgentConcernEscalated,
        Rule::CallEmergencyServices,
        Rule::StatutoryReport,
        Rule::RiskReview,
        Rule::RiskReviewShared,
        Rule::ReferAllegation,
        Rule::DecideConcern,
        Rule::ReviewConcern,
        Rule::ChaseReferralFeedback,
        Rule::ConcernShared,
        Rule::SendSafeguardingFile,
        Rule::ConfirmFileReceived,
        Rule::BreakGlassGranted,
        Rule::ApproveDestruction,
        Rule::ReviewSubjectAccess,
        Rule::MaterialNeedsAttention,
        Rule::RoomCheckProblem,
        Rule::IncidentRecorded,
        Rule::WriteSafetyPlan,
        Rule::ReviewSafetyPlan,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Rule::ArrangeFirstSession => "case.arrange-first-session",
            Rule::JoinedCaseTeam => "case.joined-team",
            Rule::CaseTransferred => "case.transferred",
            Rule::Overdue => "task.overdue",
            Rule::FrameChanged => "case.frame-changed",
            Rule::PrepareForBreak => "case.prepare-for-break",
            Rule::EndingCountdown => "case.ending-countdown",
            Rule::CloseAtPlannedEnding => "case.close-at-planned-ending",
            Rule::ReAgree => "case.re-agree",
            Rule::FirstSessionChecklist => "case.first-session-checklist",
            Rule::RevisitExplanations => "case.revisit-explanations",
            Rule::DecideOnObjection => "case.decide-on-objection",
            Rule::CarerReview => "case.carer-review",
            Rule::AcknowledgeConcern => "concern.acknowledge",
            Rule::AcknowledgeUrgentConcern => "concern.acknowledge-urgent",
            Rule::UrgentConcernEscalated => "concern.urgent-escalated",
            Rule::CallEmergencyServices => "concern.call-emergency-services",
            Rule::StatutoryReport => "concern.statutory-report",
            Rule::RiskReview => "concern.risk-review",
            Rule::RiskReviewShared => "concern.risk-review-shared",
            Rule::ReferAllegation => "allegation.refer",
            Rule::DecideConcern => "concern.decide",
            Rule::ReviewConcern => "concern.review",
            Rule::ChaseReferralFeedback => "concern.chase-feedback",
            Rule::ConcernShared => "concern.shared",
            Rule::SendSafeguardingFile => "safeguarding.send-file",
            Rule::ConfirmFileReceived => "safeguarding.confirm-received",
            Rule::BreakGlassGranted => "break-glass.granted",
            Rule::ApproveDestruction => "retention.approve-destruction",
            Rule::ReviewSubjectAccess => "sar.review",
            Rule::MaterialNeedsAttention => "room.material-attention",
            Rule::RoomCheckProblem => "room.check-problem",
            Rule::IncidentRecorded => "incident.recorded",
            Rule::WriteSafetyPlan => "safety-plan.write",
            Rule::ReviewSafetyPlan => "safety-plan.review",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|r| r.code() == code)
            .ok_or_else(|| format!("unknown rule {code:?}"))
    }

    pub fn kind(self) -> TaskKind {
        match self {
            Rule::ArrangeFirstSession
            | Rule::FrameChanged
            | Rule::PrepareForBreak
            | Rule::EndingCountdown
            | Rule::CloseAtPlannedEnding
            | Rule::ReAgree
            | Rule::FirstSessionChecklist
            | Rule::RevisitExplanations
            | Rule::DecideOnObjection
            | Rule::CarerReview
            | Rule::AcknowledgeConcern
            | Rule::AcknowledgeUrgentConcern
            | Rule::CallEmergencyServices
            | Rule::StatutoryReport
            | Rule::RiskReview
            | Rule::ReferAllegation
            | Rule::DecideConcern
            | Rule::ReviewConcern
            | Rule::ChaseReferralFeedback
            | Rule::SendSafeguardingFile
            | Rule::ConfirmFileReceived
            | Rule::ApproveDestruction
            | Rule::ReviewSubjectAccess
            | Rule::MaterialNeedsAttention
            | Rule::RoomCheckProblem
            | Rule::WriteSafetyPlan
            | Rule::ReviewSafetyPlan => TaskKind::Task,
            Rule::JoinedCaseTeam
            | Rule::CaseTransferred
            | Rule::Overdue
            | Rule::UrgentConcernEscalated
            | Rule::RiskReviewShared
            | Rule::ConcernShared
            | Rule::BreakGlassGranted
            | Rule::IncidentRecorded => TaskKind::Notice,
        }
    }

    /// For a task: when it is due, counted from when it was raised.
    pub fn due(self) -> Option<Due> {
        match self {
            Rule::ArrangeFirstSession => Some(Due::WorkingDays(10)),
            // Raised a week before the session it is for.
            Rule::FrameChanged | Rule::PrepareForBreak | Rule::EndingCountdown => {
                Some(Due::WorkingDays(5))
            }
            Rule::CloseAtPlannedEnding => Some(Due::WorkingDays(10)),
            Rule::ReAgree
            | Rule::FirstSessionChecklist
            | Rule::RevisitExplanations
            | Rule::CarerReview => Some(Due::WorkingDays(10)),
            // The work waits on it.
            Rule::DecideOnObjection => Some(Due::WorkingDays(5)),
            Rule::AcknowledgeConcern | Rule::RiskReview => Some(Due::SafeguardingAcknowledgement),
            Rule::AcknowledgeUrgentConcern => Some(Due::UrgentMinutes),
            Rule::CallEmergencyServices => Some(Due::Now),
            // The end of the next working day (the FGM duty's "normally").
            Rule::StatutoryReport => Some(Due::WorkingDays(1)),
            Rule::ReferAllegation => Some(Due::AllegationReferral),
            Rule::DecideConcern => Some(Due::SafeguardingDecision),
            Rule::ReviewConcern | Rule::ChaseReferralFeedback => Some(Due::EndOfWorkingDay),
            Rule::SendSafeguardingFile => Some(Due::Recorded),
            Rule::ConfirmFileReceived => Some(Due::WorkingDays(5)),
            Rule::ApproveDestruction => Some(Due::WorkingDays(10)),
            Rule::ReviewSubjectAccess => Some(Due::WorkingDays(10)),
            Rule::MaterialNeedsAttention => Some(Due::WorkingDays(5)),
            Rule::RoomCheckProblem => Some(Due::WorkingDays(1)),
            Rule::WriteSafetyPlan => Some(Due::WorkingDays(2)),
            Rule::ReviewSafetyPlan => Some(Due::Recorded),
            _ => None,
        }
    }

    /// Who is told, and when, once the task is overdue.
    pub fn ladder(self) -> &'static [Step] {
        match self {
            Rule::ArrangeFirstSession => &[
                Step {
                    after_working_days: 0,
                    notify: StepRecipient::Owner,
                },
                Step {
                    after_working_days: 5,
                    notify: StepRecipient::Role(Role::ServiceLead),
                },
            ],
            Rule::FrameChanged
            | Rule::PrepareForBreak
            | Rule::EndingCountdown
            | Rule::CloseAtPlannedEnding
            | Rule::ReAgree
            | Rule::FirstSessionChecklist
            | Rule::RevisitExplanations
            | Rule::DecideOnObjection
            | Rule::CarerReview
            | Rule::StatutoryReport
            | Rule::ChaseReferralFeedback
            | Rule::ConfirmFileReceived
            | Rule::ApproveDestruction
            | Rule::ReviewSubjectAccess
            | Rule::MaterialNeedsAttention
            | Rule::RoomCheckProblem
            | Rule::WriteSafetyPlan
            | Rule::ReviewSafetyPlan => &[Step {
                after_working_days: 0,
                notify: StepRecipient::Owner,
            }],
            // Safeguarding acknowledgements and decisions: the owner, then along the rota (who
            // is on duty now, and the service lead) at once.
            Rule::AcknowledgeConcern | Rule::DecideConcern => &[
                Step {
                    after_working_days: 0,
                    notify: StepRecipient::Owner,
                },
                Step {
                    after_working_days: 0,
                    notify: StepRecipient::OnDuty,
                },
            ],
            // Risk reviews, allegations, reviews and transfers: the owner, then the service
            // lead.
            Rule::RiskReview
            | Rule::ReferAllegation
            | Rule::ReviewConcern
            | Rule::SendSafeguardingFile => &[
                Step {
                    after_working_days: 0,
                    notify: StepRecipient::Owner,
                },
                Step {
                    after_working_days: 1,
                    notify: StepRecipient::Role(Role::ServiceLead),
                },
            ],
            _ => &[],
        }
    }

    /// The title, from the case number (or other reference) only: never a name.
    pub fn title(self, reference: &str) -> String {
        match self {
            Rule::ArrangeFirstSession => format!("Arrange the first session for case {reference}"),
            Rule::JoinedCaseTeam => format!("You were added to the team of case {reference}"),
            Rule::CaseTransferred => format!("Case {reference} was transferred to you"),
            Rule::Overdue => format!("Overdue: {reference}"),
            Rule::FrameChanged => format!(
                "Talk the change of time or room through with the child of case {reference}"
            ),
            Rule::PrepareForBreak => format!("Prepare the child of case {reference}"),
            Rule::EndingCountdown => {
                format!("Begin the ending countdown with the child of case {reference}")
            }
            Rule::CloseAtPlannedEnding => format!("Close case {reference} as a planned ending"),
            Rule::ReAgree => format!(
                "Agree the therapy agreement again with the child of case {reference}: the regular time or place changed"
            ),
            Rule::FirstSessionChecklist => {
                format!("Go through the first-session checklist for case {reference}")
            }
            Rule::RevisitExplanations => {
                format!("Explain again in words for their age: the child of case {reference}")
            }
            Rule::CarerReview => {
                format!("Arrange a review meeting with the carers of case {reference}")
            }
            Rule::DecideOnObjection => format!(
                "Decide on an objection to the work of case {reference}: the start is paused"
            ),
            Rule::AcknowledgeConcern => {
                format!("Acknowledge safeguarding concern {reference}")
            }
            Rule::AcknowledgeUrgentConcern => {
                format!("URGENT: acknowledge safeguarding concern {reference} now")
            }
            Rule::UrgentConcernEscalated => {
                format!("URGENT: safeguarding concern {reference} was not acknowledged in time")
            }
            Rule::CallEmergencyServices => format!(
                "Call the emergency duty team or 999 now about concern {reference}, then record that you did"
            ),
            Rule::StatutoryReport => {
                format!(
                    "Make your statutory report for concern {reference} and record the reference"
                )
            }
            Rule::RiskReview => {
                format!("Review the risk of self-harm or suicide: concern {reference}")
            }
            Rule::RiskReviewShared => {
                format!("A safeguarding risk review was opened for the child of case {reference}")
            }
            Rule::ReferAllegation => {
                format!("Refer allegation {reference} to the local authority designated officer")
            }
            Rule::DecideConcern => format!("Decide on safeguarding concern {reference}"),
            Rule::ReviewConcern => {
                format!("Review safeguarding concern {reference}: its review date has come")
            }
            Rule::ChaseReferralFeedback => {
                format!(
                    "Chase the feedback on the referral for concern {reference}, and record the outcome"
                )
            }
            Rule::ConcernShared => {
                format!("The DSL shared something with you about concern {reference}")
            }
            Rule::SendSafeguardingFile => {
                format!("Send the safeguarding file to the new school: {reference}")
            }
            Rule::ConfirmFileReceived => {
                format!("Confirm the new school received the safeguarding file: {reference}")
            }
            Rule::BreakGlassGranted => {
                format!("Break-glass access was granted: {reference}. Review what is done under it")
            }
            Rule::ApproveDestruction => {
                format!("Approve or refuse a destruction under the retention policy: {reference}")
            }
            Rule::ReviewSubjectAccess => {
                format!("Review the record for the subject access request {reference}")
            }
            Rule::MaterialNeedsAttention => {
                format!("A material needs replacing or cleaning: {reference}")
            }
            Rule::RoomCheckProblem => {
                format!("A pre-session room check found a problem: {reference}")
            }
            Rule::IncidentRecorded => format!("An incident was recorded: {reference}"),
            Rule::WriteSafetyPlan => {
                format!("Write a safety plan with the young person: case {reference}")
            }
            Rule::ReviewSafetyPlan => format!("Review the safety plan: case {reference}"),
        }
    }
}

/// What a task or notice points at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    /// The child whose record it is, when it is one: the task is shown only to people who
    /// may know the child.
    pub child: Option<ChildId>,
    pub record_type: String,
    pub record_id: String,
}

/// A task or notice as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub id: TaskId,
    pub kind: TaskKind,
    pub rule: Rule,
    pub owner: UserId,
    pub title: String,
    pub subject: Option<Subject>,
    pub due_at: Option<Timestamp>,
    /// How many steps of the rule's ladder have been taken.
    pub escalation_level: u32,
    /// Completed (a task) or read (a notice).
    pub done_at: Option<Timestamp>,
    pub done_by: Option<UserId>,
    pub version: Version,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Task {
    pub fn is_open(&self) -> bool {
        self.done_at.is_none()
    }

    pub fn is_overdue(&self, now: Timestamp) -> bool {
        self.is_open() && self.due_at.is_some_and(|due| due < now)
    }
}

/// A comment on a task (sealed at rest: it may say anything).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub author: UserId,
    pub text: String,
    pub at: Timestamp,
}

/// A comment as typed.
pub fn parse_comment(raw: &str) -> Result<String, String> {
    parse_text(raw, 1, 2000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_round_trip_and_only_tasks_have_ladders_and_deadlines() {
        for rule in Rule::ALL {
            assert_eq!(Rule::parse(rule.code()), Ok(rule));
            if rule.kind() == TaskKind::Notice {
                assert!(rule.ladder().is_empty() && rule.due().is_none());
            } else {
                assert!(
                    rule.due().is_some(),
                    "{rule:?} is a task without a due time"
                );
            }
        }
        assert!(Rule::parse("nope").is_err());
    }

    #[test]
    fn titles_name_the_case_not_the_child() {
        assert_eq!(
            Rule::ArrangeFirstSession.title("C00042"),
            "Arrange the first session for case C00042"
        );
    }

    #[test]
    fn recipients_round_trip() {
        let user = Recipient::User(UserId(uuid::Uuid::from_u128(7)));
        assert_eq!(Recipient::parse(&user.code()), Ok(user));
        let role = Recipient::Role(Role::ServiceLead);
        assert_eq!(role.code(), "role:service-lead");
        assert_eq!(Recipient::parse("role:service-lead"), Ok(role));
        assert!(Recipient::parse("role:king").is_err());
        assert_eq!(
            Recipient::parse(&Recipient::OnDuty.code()),
            Ok(Recipient::OnDuty)
        );
    }

    #[test]
    fn a_task_is_overdue_only_while_open_and_past_due() {
        let now = Timestamp::from_second(1_800_000_000).unwrap_or(Timestamp::UNIX_EPOCH);
        let mut task = Task {
            id: TaskId(uuid::Uuid::nil()),
            kind: TaskKind::Task,
            rule: Rule::ArrangeFirstSession,
            owner: UserId(uuid::Uuid::nil()),
            title: String::new(),
            subject: None,
            due_at: Some(Timestamp::UNIX_EPOCH),
            escalation_level: 0,
            done_at: None,
            done_by: None,
            version: Version::FIRST,
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
        };
        assert!(task.is_overdue(now));
        task.done_at = Some(now);
        assert!(!task.is_overdue(now));
    }
}
