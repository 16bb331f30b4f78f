//! The audit trail's rules: what an entry holds (ids, never content), how entries are chained
//! with a keyed MAC so that an altered, removed or reordered entry is found, and how a chain
//! is verified. Pure: storage appends, the core computes and checks.

use hmac::{Hmac, KeyInit, Mac};
use jiff::Timestamp;
use sha2::Sha256;

/// Which rows a reader may see (policy section 1): safeguarding and allegation rows only by
/// those the policy names; administrators never.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    General,
    Safeguarding,
    Allegation,
}

impl Category {
    pub fn code(self) -> &'static str {
        match self {
            Category::General => "general",
            Category::Safeguarding => "safeguarding",
            Category::Allegation => "allegation",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        match code {
            "general" => Ok(Self::General),
            "safeguarding" => Ok(Self::Safeguarding),
            "allegation" => Ok(Self::Allegation),
            _ => Err(format!("unknown audit category {code:?}")),
        }
    }
}

/// What happened: the typed events of the audit trail. Each has a stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    SignIn,
    SignInFailed,
    SignInThrottled,
    SecondFactorPassed,
    SecondFactorFailed,
    SecondFactorEnrolled,
    SecondFactorReset,
    SignOut,
    SignOutEverywhere,
    SessionExpired,
    PasswordChanged,
    PasswordReset,
    SetupCompleted,
    UserCreated,
    UserUpdated,
    RolesChanged,
    UserDeactivated,
    UserReactivated,
    SuperviseesChanged,
    TokenCreated,
    TokenRevoked,
    ServiceCreated,
    ServiceUpdated,
    DemoGenerated,
    SiteCreated,
    SiteUpdated,
    RoomCreated,
    RoomUpdated,
    ChildCreated,
    ChildUpdated,
    ChildRead,
    ChildrenListed,
    CarerAdded,
    CarerUpdated,
    CaseOpened,
    CaseUpdated,
    CaseClosed,
    CaseTeamChanged,
    CaseTransferred,
    OutboundChecked,
    /// A letter to a parent or carer was produced (to print or as a PDF).
    LetterProduced,
    /// A handout from the explanation library was produced for a child (to print or as a PDF).
    HandoutProduced,
    TaskRaised,
    TaskEscalated,
    TaskCompleted,
    TaskReassigned,
    TaskCommented,
    TaskRead,
    HolidaysImported,
    CalendarCreated,
    CalendarUpdated,
    SlotSet,
    SessionMoved,
    SessionAdded,
    AttendanceRecorded,
    /// A calendar feed was created (any earlier one of the same person's is revoked with it).
    FeedCreated,
    FeedRevoked,
    /// A calendar feed was fetched while it shows children's initials (the ids are named).
    FeedRead,
    /// A new version of an explanation-library text was saved (a copy or an edit).
    ExplanationVersionCreated,
    /// A clinician marked an explanation-library text reviewed.
    ExplanationReviewed,
    /// An explanation-library version was published: it is the text in use.
    ExplanationPublished,
    /// An item of the first-session checklist was recorded.
    ChecklistRecorded,
    /// A version of a therapy agreement was written.
    AgreementDrafted,
    /// A version of a therapy agreement was marked active (earlier ones superseded).
    AgreementActivated,
    /// A therapy agreement was printed or downloaded (for whom is in the detail).
    AgreementProduced,
    /// Consent, assent, an objection, a decision or a withdrawal was recorded.
    ConsentRecorded,
    /// A single-use consent link was made for a carer.
    ConsentLinkCreated,
    /// A consent link was opened (its token became a cookie).
    ConsentLinkOpened,
    /// A consent link was spent by a submitted answer.
    ConsentLinkUsed,
    /// A consent link was withdrawn before use.
    ConsentLinkRevoked,
    /// A session record's draft was saved (by its author).
    SessionRecordDrafted,
    /// A session record was signed: locked from now on.
    SessionRecordSigned,
    /// A signed session record was amended, with a reason.
    SessionRecordAmended,
    /// The lead shared a session record with the parent-worker, or stopped sharing it.
    SessionRecordShared,
    /// A private process note was written (read by its author alone).
    ProcessNoteWritten,
    /// A contact with a carer or a professional was logged.
    ContactLogged,
    /// A contact with a carer the rules would not contact was logged with an explicit override.
    ContactOverride,
    /// A supervision was recorded by the supervisor.
    SupervisionRecorded,
    /// A safeguarding concern's draft was saved (by its author).
    ConcernDrafted,
    /// An unsubmitted draft was thrown away by its author.
    ConcernDraftDiscarded,
    /// A concern was submitted: sealed from now on.
    ConcernSubmitted,
    /// A concern was opened.
    ConcernRead,
    /// An addendum (a correction with its reason) was added.
    ConcernAddendum,
    /// A step was recorded on a concern (acknowledged, matched, a call, a report).
    ConcernStep,
    /// Break-glass access to one child was granted (time-limited, with a written reason).
    BreakGlassGranted,
    /// Break-glass access was ended before its expiry by the person holding it.
    BreakGlassEnded,
    /// What was done under a break-glass grant was reviewed by the DSL or the service lead.
    BreakGlassReviewed,
    /// An audit page was read (a child's, the administrators' view, or one's own).
    AuditViewed,
    /// A legal hold was put on a child's records (destruction stops).
    LegalHoldSet,
    /// A legal hold was lifted.
    LegalHoldLifted,
    /// The DSL flagged a child's safeguarding records for the 75-year rule, or removed the flag.
    RetentionFlagged,
    /// The report of records past their retention date was read.
    RetentionReportRead,
    /// An administrator asked for a record class of a child to be destroyed.
    DestructionRequested,
    /// The service lead (or the DSL) approved a destruction.
    DestructionApproved,
    /// A destruction request was refused or withdrawn.
    DestructionRefused,
    /// A record class's key was destroyed (crypto-shredding): the tombstone.
    RecordClassDestroyed,
    /// A subject access request was logged.
    SubjectAccessLogged,
    /// A subject access request moved on: identity checked, paused, resumed, extended, closed.
    SubjectAccessUpdated,
    /// A reviewer was named for a subject access request (time-limited read of the whole record).
    SubjectAccessReviewerNamed,
    /// A named reviewer read a child's record for a subject access request.
    SubjectAccessRead,
    /// An item of a subject access request was decided (disclose, redact, withhold).
    SubjectAccessItemDecided,
    /// The serious-harm opinion was recorded for a subject access request.
    SubjectAccessOpinion,
    /// The DSL reviewed the safeguarding material of a subject access request.
    SubjectAccessDslReviewed,
    /// A subject access bundle was produced and released to the requester.
    SubjectAccessReleased,
    /// A room's arrangement, layout or other uses were described.
    RoomDescribed,
    /// A material was added to a room or kit, or its condition recorded.
    MaterialRecorded,
    /// A play kit was created, changed, or moved with its therapist.
    KitUpdated,
    /// The service's or a room's pre-session checklist was written.
    RoomChecklistSet,
    /// A therapist ticked a room's pre-session check.
    RoomCheckRecorded,
    /// A disruption to a session was logged.
    DisruptionLogged,
    /// The report of disruptions by room and site was read.
    DisruptionReportRead,
    /// An incident in a session was recorded (or added to).
    IncidentRecorded,
    /// An incident record was opened.
    IncidentRead,
    /// A site's emergency procedures, or who is its DSL or first aider on a day, changed.
    SiteEmergencyUpdated,
    /// A site's printable emergency sheet was produced.
    EmergencySheetPrinted,
    /// A child's emergency details changed: who may collect, medical needs, allergies.
    EmergencyDetailsUpdated,
    /// A child's emergency panel was opened.
    EmergencyPanelRead,
    /// A young person's safety plan was written or reviewed.
    SafetyPlanWritten,
    /// A young person's safety plan was opened.
    SafetyPlanRead,
    /// A service added a measure definition (a new id, or a new version of one).
    MeasureDefinitionAdded,
    /// A licensed service loaded a measure's wording from its own file.
    MeasureWordingLoaded,
    /// A single-use feedback link was made (the child's kiosk link or a carer's).
    FeedbackLinkCreated,
    /// A feedback link was withdrawn before use.
    FeedbackLinkRevoked,
    /// The therapist handed the tablet over: their session in that browser ended and the kiosk began.
    KioskHandedOver,
    /// A response came through a feedback link (the child or a carer).
    FeedbackSubmitted,
    /// The therapist rated a session.
    FeedbackRated,
    /// A child's feedback and ratings were opened.
    FeedbackRead,
    /// A goal in the child's words was set or reworded.
    GoalSet,
    /// A goal was rated 0-10.
    GoalRated,
    /// A goal was closed (reached or put aside).
    GoalClosed,
    /// A child's goals were opened.
    GoalsRead,
    /// Something was asked for and refused.
    Denied,
    /// The chain was continued from a restored backup.
    RestoreCheckpoint,
}

impl Action {
    pub const ALL: [Action; 133] = [
        Action::SignIn,
        Action::SignInFailed,
        Action::SignInThrottled,
        Action::SecondFactorPassed,
        Action::SecondFactorFailed,
        Action::SecondFactorEnrolled,
        Action::SecondFactorReset,
        Action::SignOut,
        Action::SignOutEverywhere,
        Action::SessionExpired,
        Action::PasswordChanged,
        Action::PasswordReset,
        Action::SetupCompleted,
        Action::UserCreated,
        Action::UserUpdated,
        Action::RolesChanged,
        Action::UserDeactivated,
        Action::UserReactivated,
        Action::SuperviseesChanged,
        Action::TokenCreated,
        Action::TokenRevoked,
        Action::ServiceCreated,
        Action::ServiceUpdated,
        Action::DemoGenerated,
        Action::SiteCreated,
        Action::SiteUpdated,
        Action::RoomCreated,
        Action::RoomUpdated,
        Action::ChildCreated,
        Action::ChildUpdated,
        Action::ChildRead,
        Action::ChildrenListed,
        Action::CarerAdded,
        Action::CarerUpdated,
        Action::CaseOpened,
        Action::CaseUpdated,
        Action::CaseClosed,
        Action::CaseTeamChanged,
        Action::CaseTransferred,
        Action::OutboundChecked,
        Action::LetterProduced,
        Action::HandoutProduced,
        Action::TaskRaised,
        Action::TaskEscalated,
        Action::TaskCompleted,
        Action::TaskReassigned,
        Action::TaskCommented,
        Action::TaskRead,
        Action::HolidaysImported,
        Action::CalendarCreated,
        Action::CalendarUpdated,
        Action::SlotSet,
        Action::SessionMoved,
        Action::SessionAdded,
        Action::AttendanceRecorded,
        Action::FeedCreated,
        Action::FeedRevoked,
        Action::FeedRead,
        Action::ExplanationVersionCreated,
        Action::ExplanationReviewed,
        Action::ExplanationPublished,
        Action::ChecklistRecorded,
        Action::AgreementDrafted,
        Action::AgreementActivated,
        Action::AgreementProduced,
        Action::ConsentRecorded,
        Action::ConsentLinkCreated,
        Action::ConsentLinkOpened,
        Action::ConsentLinkUsed,
        Action::ConsentLinkRevoked,
        Action::SessionRecordDrafted,
        Action::SessionRecordSigned,
        Action::SessionRecordAmended,
        Action::SessionRecordShared,
        Action::ProcessNoteWritten,
        Action::ContactLogged,
        Action::ContactOverride,
        Action::SupervisionRecorded,
        Action::ConcernDrafted,
        Action::ConcernDraftDiscarded,
        Action::ConcernSubmitted,
        Action::ConcernRead,
        Action::ConcernAddendum,
        Action::ConcernStep,
        Action::BreakGlassGranted,
        Action::BreakGlassEnded,
        Action::BreakGlassReviewed,
        Action::AuditViewed,
        Action::LegalHoldSet,
        Action::LegalHoldLifted,
        Action::RetentionFlagged,
        Action::RetentionReportRead,
        Action::DestructionRequested,
        Action::DestructionApproved,
        Action::DestructionRefused,
        Action::RecordClassDestroyed,
        Action::SubjectAccessLogged,
        Action::SubjectAccessUpdated,
        Action::SubjectAccessReviewerNamed,
        Action::SubjectAccessRead,
        Action::SubjectAccessItemDecided,
        Action::SubjectAccessOpinion,
        Action::SubjectAccessDslReviewed,
        Action::SubjectAccessReleased,
        Action::RoomDescribed,
        Action::MaterialRecorded,
        Action::KitUpdated,
        Action::RoomChecklistSet,
        Action::RoomCheckRecorded,
        Action::DisruptionLogged,
        Action::DisruptionReportRead,
        Action::IncidentRecorded,
        Action::IncidentRead,
        Action::SiteEmergencyUpdated,
        Action::EmergencySheetPrinted,
        Action::EmergencyDetailsUpdated,
        Action::EmergencyPanelRead,
        Action::SafetyPlanWritten,
        Action::SafetyPlanRead,
        Action::MeasureDefinitionAdded,
        Action::MeasureWordingLoaded,
        Action::FeedbackLinkCreated,
        Action::FeedbackLinkRevoked,
        Action::KioskHandedOver,
        Action::FeedbackSubmitted,
        Action::FeedbackRated,
        Action::FeedbackRead,
        Action::GoalSet,
        Action::GoalRated,
        Action::GoalClosed,
        Action::GoalsRead,
        Action::Denied,
        Action::RestoreCheckpoint,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Action::SignIn => "sign-in",
            Action::SignInFailed => "sign-in.failed",
            Action::SignInThrottled => "sign-in.throttled",
            Action::SecondFactorPassed => "second-factor.passed",
            Action::SecondFactorFailed => "second-factor.failed",
            Action::SecondFactorEnrolled => "second-factor.enrolled",
            Action::SecondFactorReset => "second-factor.reset",
            Action::SignOut => "sign-out",
            Action::SignOutEverywhere => "sign-out.everywhere",
            Action::SessionExpired => "session.expired",
            Action::PasswordChanged => "password.changed",
            Action::PasswordReset => "password.reset",
            Action::SetupCompleted => "setup.completed",
            Action::UserCreated => "user.created",
            Action::UserUpdated => "user.updated",
            Action::RolesChanged => "user.roles-changed",
            Action::UserDeactivated => "user.deactivated",
            Action::UserReactivated => "user.reactivated",
            Action::SuperviseesChanged => "user.supervisees-changed",
            Action::TokenCreated => "token.created",
            Action::TokenRevoked => "token.revoked",
            Action::ServiceCreated => "service.created",
            Action::ServiceUpdated => "service.updated",
            Action::DemoGenerated => "demo.generated",
            Action::SiteCreated => "site.created",
            Action::SiteUpdated => "site.updated",
            Action::RoomCreated => "room.created",
            Action::RoomUpdated => "room.updated",
            Action::ChildCreated => "child.created",
            Action::ChildUpdated => "child.updated",
            Action::ChildRead => "child.read",
            Action::ChildrenListed => "child.listed",
            Action::CarerAdded => "carer.added",
            Action::CarerUpdated => "carer.updated",
            Action::CaseOpened => "case.opened",
            Action::CaseUpdated => "case.updated",
            Action::CaseClosed => "case.closed",
            Action::CaseTeamChanged => "case.team-changed",
            Action::CaseTransferred => "case.transferred",
            Action::OutboundChecked => "outbound.checked",
            Action::LetterProduced => "letter.produced",
            Action::HandoutProduced => "handout.produced",
            Action::TaskRaised => "task.raised",
            Action::TaskEscalated => "task.escalated",
            Action::TaskCompleted => "task.completed",
            Action::TaskReassigned => "task.reassigned",
            Action::TaskCommented => "task.commented",
            Action::TaskRead => "task.read",
            Action::HolidaysImported => "holidays.imported",
            Action::CalendarCreated => "calendar.created",
            Action::CalendarUpdated => "calendar.updated",
            Action::SlotSet => "schedule.slot-set",
            Action::SessionMoved => "schedule.session-moved",
            Action::SessionAdded => "schedule.session-added",
            Action::AttendanceRecorded => "schedule.attendance",
            Action::FeedCreated => "feed.created",
            Action::FeedRevoked => "feed.revoked",
            Action::FeedRead => "feed.read",
            Action::ExplanationVersionCreated => "explanation.version-created",
            Action::ExplanationReviewed => "explanation.reviewed",
            Action::ExplanationPublished => "explanation.published",
            Action::ChecklistRecorded => "checklist.recorded",
            Action::AgreementDrafted => "agreement.drafted",
            Action::AgreementActivated => "agreement.activated",
            Action::AgreementProduced => "agreement.produced",
            Action::ConsentRecorded => "consent.recorded",
            Action::ConsentLinkCreated => "consent-link.created",
            Action::ConsentLinkOpened => "consent-link.opened",
            Action::ConsentLinkUsed => "consent-link.used",
            Action::ConsentLinkRevoked => "consent-link.revoked",
            Action::SessionRecordDrafted => "session-record.drafted",
            Action::SessionRecordSigned => "session-record.signed",
            Action::SessionRecordAmended => "session-record.amended",
            Action::SessionRecordShared => "session-record.shared",
            Action::ProcessNoteWritten => "process-note.written",
            Action::ContactLogged => "contact.logged",
            Action::ContactOverride => "contact.override",
            Action::ConcernDrafted => "concern.drafted",
            Action::ConcernDraftDiscarded => "concern.draft-discarded",
            Action::ConcernSubmitted => "concern.submitted",
            Action::ConcernRead => "concern.read",
            Action::ConcernAddendum => "concern.addendum",
            Action::ConcernStep => "concern.step",
            Action::SupervisionRecorded => "supervision.recorded",
            Action::BreakGlassGranted => "break-glass.granted",
            Action::BreakGlassEnded => "break-glass.ended",
            Action::BreakGlassReviewed => "break-glass.reviewed",
            Action::AuditViewed => "audit.viewed",
            Action::LegalHoldSet => "retention.hold-set",
            Action::LegalHoldLifted => "retention.hold-lifted",
            Action::RetentionFlagged => "retention.flagged",
            Action::RetentionReportRead => "retention.report-read",
            Action::DestructionRequested => "destruction.requested",
            Action::DestructionApproved => "destruction.approved",
            Action::DestructionRefused => "destruction.refused",
            Action::RecordClassDestroyed => "destruction.done",
            Action::SubjectAccessLogged => "sar.logged",
            Action::SubjectAccessUpdated => "sar.updated",
            Action::SubjectAccessReviewerNamed => "sar.reviewer-named",
            Action::SubjectAccessRead => "sar.read",
            Action::SubjectAccessItemDecided => "sar.item-decided",
            Action::SubjectAccessOpinion => "sar.opinion",
            Action::SubjectAccessDslReviewed => "sar.dsl-reviewed",
            Action::SubjectAccessReleased => "sar.released",
            Action::RoomDescribed => "room.described",
            Action::MaterialRecorded => "material.recorded",
            Action::KitUpdated => "kit.updated",
            Action::RoomChecklistSet => "room-checklist.set",
            Action::RoomCheckRecorded => "room-check.recorded",
            Action::DisruptionLogged => "disruption.logged",
            Action::DisruptionReportRead => "disruption.report-read",
            Action::IncidentRecorded => "incident.recorded",
            Action::IncidentRead => "incident.read",
            Action::SiteEmergencyUpdated => "site-emergency.updated",
            Action::EmergencySheetPrinted => "emergency-sheet.printed",
            Action::EmergencyDetailsUpdated => "emergency-details.updated",
            Action::EmergencyPanelRead => "emergency-panel.read",
            Action::SafetyPlanWritten => "safety-plan.written",
            Action::SafetyPlanRead => "safety-plan.read",
            Action::MeasureDefinitionAdded => "measure.definition-added",
            Action::MeasureWordingLoaded => "measure.wording-loaded",
            Action::FeedbackLinkCreated => "feedback-link.created",
            Action::FeedbackLinkRevoked => "feedback-link.revoked",
            Action::KioskHandedOver => "kiosk.handed-over",
            Action::FeedbackSubmitted => "feedback.submitted",
            Action::FeedbackRated => "feedback.rated",
            Action::FeedbackRead => "feedback.read",
            Action::GoalSet => "goal.set",
            Action::GoalRated => "goal.rated",
            Action::GoalClosed => "goal.closed",
            Action::GoalsRead => "goal.read",
            Action::Denied => "denied",
            Action::RestoreCheckpoint => "restore.checkpoint",
        }
    }

    /// What happened, in words, for the audit pages (one place for every action).
    pub fn label(self) -> &'static str {
        match self {
            Action::SignIn => "Signed in",
            Action::SignInFailed => "Sign-in failed",
            Action::SignInThrottled => "Sign-in slowed after failures",
            Action::SecondFactorPassed => "Second factor passed",
            Action::SecondFactorFailed => "Second factor failed",
            Action::SecondFactorEnrolled => "Second factor set up",
            Action::SecondFactorReset => "Second factor reset",
            Action::SignOut => "Signed out",
            Action::SignOutEverywhere => "Signed out everywhere",
            Action::SessionExpired => "Session timed out",
            Action::PasswordChanged => "Password changed",
            Action::PasswordReset => "Password reset",
            Action::SetupCompleted => "First-run setup completed",
            Action::UserCreated => "Account created",
            Action::UserUpdated => "Account changed",
            Action::RolesChanged => "Roles changed",
            Action::UserDeactivated => "Account deactivated",
            Action::UserReactivated => "Account reactivated",
            Action::SuperviseesChanged => "Supervisees changed",
            Action::TokenCreated => "API token created",
            Action::TokenRevoked => "API token revoked",
            Action::ServiceCreated => "Service created",
            Action::ServiceUpdated => "Service settings changed",
            Action::DemoGenerated => "Demo data generated",
            Action::SiteCreated => "Site added",
            Action::SiteUpdated => "Site changed",
            Action::RoomCreated => "Room added",
            Action::RoomUpdated => "Room changed",
            Action::ChildCreated => "Child added",
            Action::ChildUpdated => "Child's details changed",
            Action::ChildRead => "Child's record opened",
            Action::ChildrenListed => "List of children shown",
            Action::CarerAdded => "Carer added",
            Action::CarerUpdated => "Carer changed",
            Action::CaseOpened => "Case opened",
            Action::CaseUpdated => "Case changed",
            Action::CaseClosed => "Case closed",
            Action::CaseTeamChanged => "Case team changed",
            Action::CaseTransferred => "Case transferred",
            Action::OutboundChecked => "What may be sent was checked",
            Action::LetterProduced => "Letter produced",
            Action::HandoutProduced => "Handout produced",
            Action::TaskRaised => "Task or notice raised",
            Action::TaskEscalated => "Task escalated",
            Action::TaskCompleted => "Task done or notice read",
            Action::TaskReassigned => "Task passed on",
            Action::TaskCommented => "Comment on a task",
            Action::TaskRead => "Task opened",
            Action::HolidaysImported => "Bank holidays imported",
            Action::CalendarCreated => "Term calendar added",
            Action::CalendarUpdated => "Term calendar changed",
            Action::SlotSet => "Regular slot set",
            Action::SessionMoved => "Session moved",
            Action::SessionAdded => "Session added",
            Action::AttendanceRecorded => "Attendance recorded",
            Action::FeedCreated => "Calendar feed created",
            Action::FeedRevoked => "Calendar feed revoked",
            Action::FeedRead => "Calendar feed fetched",
            Action::ExplanationVersionCreated => "Library text version saved",
            Action::ExplanationReviewed => "Library text reviewed",
            Action::ExplanationPublished => "Library text published",
            Action::ChecklistRecorded => "First-session checklist item recorded",
            Action::AgreementDrafted => "Therapy agreement version written",
            Action::AgreementActivated => "Therapy agreement made active",
            Action::AgreementProduced => "Therapy agreement printed or downloaded",
            Action::ConsentRecorded => "Consent or assent recorded",
            Action::ConsentLinkCreated => "Consent link made",
            Action::ConsentLinkOpened => "Consent link opened",
            Action::ConsentLinkUsed => "Consent link answered",
            Action::ConsentLinkRevoked => "Consent link withdrawn",
            Action::SessionRecordDrafted => "Session record draft saved",
            Action::SessionRecordSigned => "Session record signed",
            Action::SessionRecordAmended => "Session record amended",
            Action::SessionRecordShared => "Session record sharing changed",
            Action::ProcessNoteWritten => "Process note written",
            Action::ContactLogged => "Contact logged",
            Action::ContactOverride => "Contact logged against the rules, with a reason",
            Action::SupervisionRecorded => "Supervision recorded",
            Action::ConcernDrafted => "Safeguarding draft saved",
            Action::ConcernDraftDiscarded => "Safeguarding draft discarded",
            Action::ConcernSubmitted => "Safeguarding concern submitted",
            Action::ConcernRead => "Safeguarding record read",
            Action::ConcernAddendum => "Safeguarding addendum added",
            Action::ConcernStep => "Safeguarding step recorded",
            Action::BreakGlassGranted => "Break-glass access granted",
            Action::BreakGlassEnded => "Break-glass access ended early",
            Action::BreakGlassReviewed => "Break-glass access reviewed",
            Action::AuditViewed => "Audit trail read",
            Action::LegalHoldSet => "Legal hold set",
            Action::LegalHoldLifted => "Legal hold lifted",
            Action::RetentionFlagged => "Retention flag changed",
            Action::RetentionReportRead => "Retention report read",
            Action::DestructionRequested => "Destruction requested",
            Action::DestructionApproved => "Destruction approved",
            Action::DestructionRefused => "Destruction refused or withdrawn",
            Action::RecordClassDestroyed => "Record class destroyed",
            Action::SubjectAccessLogged => "Subject access request logged",
            Action::SubjectAccessUpdated => "Subject access request updated",
            Action::SubjectAccessReviewerNamed => "Subject access reviewer named",
            Action::SubjectAccessRead => "Record read for a subject access request",
            Action::SubjectAccessItemDecided => "Subject access item decided",
            Action::SubjectAccessOpinion => "Serious-harm opinion recorded",
            Action::SubjectAccessDslReviewed => "Subject access safeguarding review",
            Action::SubjectAccessReleased => "Subject access bundle released",
            Action::RoomDescribed => "Room's arrangement described",
            Action::MaterialRecorded => "Material added or its condition recorded",
            Action::KitUpdated => "Play kit updated or moved",
            Action::RoomChecklistSet => "Pre-session checklist written",
            Action::RoomCheckRecorded => "Pre-session room check recorded",
            Action::DisruptionLogged => "Disruption logged",
            Action::DisruptionReportRead => "Disruption report read",
            Action::IncidentRecorded => "Incident recorded",
            Action::IncidentRead => "Incident read",
            Action::SiteEmergencyUpdated => "Site's emergency procedures or cover updated",
            Action::EmergencySheetPrinted => "Emergency sheet printed",
            Action::EmergencyDetailsUpdated => "Child's emergency details updated",
            Action::EmergencyPanelRead => "Emergency panel read",
            Action::SafetyPlanWritten => "Safety plan written",
            Action::SafetyPlanRead => "Safety plan read",
            Action::MeasureDefinitionAdded => "Measure definition added",
            Action::MeasureWordingLoaded => "Licensed measure wording loaded",
            Action::FeedbackLinkCreated => "Feedback link created",
            Action::FeedbackLinkRevoked => "Feedback link withdrawn",
            Action::KioskHandedOver => "Tablet handed to the child",
            Action::FeedbackSubmitted => "Feedback given",
            Action::FeedbackRated => "Therapist's rating recorded",
            Action::FeedbackRead => "Feedback read",
            Action::GoalSet => "Goal set",
            Action::GoalRated => "Goal rated",
            Action::GoalClosed => "Goal closed",
            Action::GoalsRead => "Goals read",
            Action::Denied => "Refused",
            Action::RestoreCheckpoint => "Audit chain continued after a restore",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|a| a.code() == code)
            .ok_or_else(|| format!("unknown audit action {code:?}"))
    }
}

/// Where a request came from, for every entry it writes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    pub request_id: String,
    pub address: String,
}

/// An entry as a use-case records it. Ids only: never names, text or secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub action: Action,
    /// Who acted (a user id), if anyone is known.
    pub actor: Option<String>,
    /// The kind of record acted on (`user`, `session`, `token`, `service`, `child`, …).
    pub record_type: String,
    pub record_id: Option<String>,
    /// The child the record belongs to, when it belongs to one.
    pub child_id: Option<String>,
    pub category: Category,
    /// For a denial: what was asked for (an action name, never content).
    pub detail: Option<String>,
}

impl Event {
    pub fn new(
        action: Action,
        actor: Option<String>,
        record_type: &str,
        record_id: Option<String>,
    ) -> Self {
        Self {
            action,
            actor,
            record_type: record_type.to_owned(),
            record_id,
            child_id: None,
            category: Category::General,
            detail: None,
        }
    }

    /// Names the child the record belongs to, so the child's audit page finds it.
    #[must_use]
    pub fn for_child(mut self, child_id: impl std::fmt::Display) -> Self {
        self.child_id = Some(child_id.to_string());
        self
    }

    #[must_use]
    pub fn detail(mut self, detail: &str) -> Self {
        self.detail = Some(detail.to_owned());
        self
    }
}

/// A stored entry: its place in the chain, when, the event, where from, and its MAC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub seq: i64,
    pub at: Timestamp,
    pub event: Event,
    pub origin: Origin,
    pub mac: [u8; 32],
}

/// The chain's newest entry, or the start of an empty chain (seq 0, MAC all zeros).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    pub seq: i64,
    pub mac: [u8; 32],
}

impl Head {
    pub const START: Head = Head {
        seq: 0,
        mac: [0; 32],
    };
}

/// The key the chain is MACed with (derived from the master key; never stored).
pub struct ChainKey(pub [u8; 32]);

impl std::fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChainKey(..)")
    }
}

/// The bytes an entry's MAC covers: every field, each length-prefixed, so no two different
/// entries encode alike.
pub fn canonical(seq: i64, at: Timestamp, event: &Event, origin: &Origin) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    let mut field = |bytes: &[u8]| {
        out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        out.extend_from_slice(bytes);
    };
    field(b"alliance-audit-v1");
    field(&seq.to_be_bytes());
    field(&at.as_microsecond().to_be_bytes());
    field(event.action.code().as_bytes());
    field(event.actor.as_deref().unwrap_or("").as_bytes());
    field(event.record_type.as_bytes());
    field(event.record_id.as_deref().unwrap_or("").as_bytes());
    field(event.child_id.as_deref().unwrap_or("").as_bytes());
    field(event.category.code().as_bytes());
    field(event.detail.as_deref().unwrap_or("").as_bytes());
    field(origin.request_id.as_bytes());
    field(origin.address.as_bytes());
    out
}

/// `MAC(key, previous MAC ‖ canonical(entry))`.
pub fn chain_mac(key: &ChainKey, previous: &[u8; 32], canonical: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key.0)
        .unwrap_or_else(|_| <Hmac<Sha256> as KeyInit>::new(&Default::default()));
    mac.update(previous);
    mac.update(canonical);
    mac.finalize().into_bytes().into()
}

/// Seals the next entry onto `head`.
pub fn next_entry(
    key: &ChainKey,
    head: Head,
    at: Timestamp,
    event: Event,
    origin: Origin,
) -> Entry {
    let seq = head.seq + 1;
    let mac = chain_mac(key, &head.mac, &canonical(seq, at, &event, &origin));
    Entry {
        seq,
        at,
        event,
        origin,
        mac,
    }
}

/// Where and how a chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Break {
    #[error("entry {seq} has been altered (or an entry before it was reordered)")]
    Altered { seq: i64 },
    #[error("entry {expected} is missing (the next entry found is {found})")]
    Missing { expected: i64, found: i64 },
    #[error(
        "the newest entries are missing: the chain ends at {ends_at}, but its head says {head}"
    )]
    Truncated { ends_at: i64, head: i64 },
    #[error("the chain's head does not match its newest entry ({seq})")]
    HeadMismatch { seq: i64 },
}

/// Checks entries in order, starting after `start` (the chain's start, or a checkpoint), and
/// that the chain reaches `witness`: the head as last recorded where truncating the entries
/// cannot reach it. The chain may run past the witness (a crash between the commit and the
/// witness's update) but must pass through it.
pub struct Verifier<'k> {
    key: &'k ChainKey,
    current: Head,
    witness: Head,
    witness_seen: bool,
    pub checked: u64,
}

impl<'k> Verifier<'k> {
    pub fn new(key: &'k ChainKey, start: Head, witness: Head) -> Self {
        Self {
            key,
            current: start,
            witness,
            witness_seen: witness.seq <= start.seq,
            checked: 0,
        }
    }

    pub fn check(&mut self, entry: &Entry) -> Result<(), Break> {
        let expected = self.current.seq + 1;
        if entry.seq != expected {
            return Err(Break::Missing {
                expected,
                found: entry.seq,
            });
        }
        let mac = chain_mac(
            self.key,
            &self.current.mac,
            &canonical(entry.seq, entry.at, &entry.event, &entry.origin),
        );
        if mac != entry.mac {
            return Err(Break::Altered { seq: entry.seq });
        }
        if entry.seq == self.witness.seq {
            if entry.mac != self.witness.mac {
                return Err(Break::HeadMismatch { seq: entry.seq });
            }
            self.witness_seen = true;
        }
        self.current = Head {
            seq: entry.seq,
            mac: entry.mac,
        };
        self.checked += 1;
        Ok(())
    }

    /// The newest entry checked, once the chain has been seen to reach the witness.
    pub fn finish(&self) -> Result<Head, Break> {
        if !self.witness_seen {
            return Err(Break::Truncated {
                ends_at: self.current.seq,
                head: self.witness.seq,
            });
        }
        Ok(self.current)
    }
}

/// The audit pages (policy section 1, row "audit trail"): a child's trail, the
/// administrators' view, and each person's own activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Trail {
    /// One child's rows, reached through the child's own gate first.
    Child,
    /// Every row but safeguarding and allegation rows: ids and actions only.
    Administrators,
    /// The rows the reader wrote themselves (whatever the category: they did it).
    Own,
}

/// The categories of rows `user` reads on `trail`; empty means the page is not theirs.
/// A child's trail: the service lead reads every row; the DSL and deputies the general and
/// safeguarding rows; nobody else. The administrators' view: administrators, general rows
/// only. One's own activity: everyone.
pub fn readable_categories(user: &crate::identity::User, trail: Trail) -> Vec<Category> {
    use crate::identity::Role;
    if !user.active {
        return Vec::new();
    }
    match trail {
        Trail::Child if user.has_role(Role::ServiceLead) => vec![
            Category::General,
            Category::Safeguarding,
            Category::Allegation,
        ],
        Trail::Child if user.has_role(Role::Dsl) || user.has_role(Role::DeputyDsl) => {
            vec![Category::General, Category::Safeguarding]
        }
        Trail::Administrators if user.has_role(Role::Administrator) => vec![Category::General],
        Trail::Own => vec![
            Category::General,
            Category::Safeguarding,
            Category::Allegation,
        ],
        _ => Vec::new(),
    }
}

/// The filters an audit page takes, as typed: empty means any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrailFilterInput {
    pub actor: String,
    pub child: String,
    pub action: String,
    /// Dates as 31/12/2026 (or 2026-12-31), London days, both included.
    pub from: String,
    pub to: String,
}

/// The filters, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrailFilter {
    pub actor: Option<crate::identity::UserId>,
    pub child: Option<crate::children::ChildId>,
    pub action: Option<Action>,
    /// From the start of this London day.
    pub from: Option<jiff::civil::Date>,
    /// To the end of this London day.
    pub to: Option<jiff::civil::Date>,
}

impl TrailFilter {
    pub fn parse(input: &TrailFilterInput) -> Result<Self, crate::error::Invalid> {
        let mut v = crate::error::Validator::new();
        fn optional(raw: &str) -> Option<&str> {
            Some(raw.trim()).filter(|r| !r.is_empty())
        }
        let actor = optional(&input.actor).and_then(|raw| {
            v.check(
                "actor",
                crate::identity::UserId::parse(raw)
                    .map_err(|_| "Choose a member of staff from the list".to_owned()),
            )
        });
        let child = optional(&input.child).and_then(|raw| {
            v.check(
                "child",
                crate::children::ChildId::parse(raw)
                    .map_err(|_| "Enter a child's id (from the record's address)".to_owned()),
            )
        });
        let action = optional(&input.action).and_then(|raw| {
            v.check(
                "action",
                Action::parse(raw).map_err(|_| "Choose an action from the list".to_owned()),
            )
        });
        let from =
            optional(&input.from).and_then(|raw| v.check("from", crate::error::parse_date(raw)));
        let to = optional(&input.to).and_then(|raw| v.check("to", crate::error::parse_date(raw)));
        if let (Some(from), Some(to)) = (from, to)
            && to < from
        {
            v.check::<()>(
                "to",
                Err("The end date is before the start date".to_owned()),
            );
        }
        v.finish()?;
        Ok(Self {
            actor,
            child,
            action,
            from,
            to,
        })
    }

    /// The window as instants: from the start of `from` (London) to the start of the day
    /// after `to`, the end excluded.
    pub fn window(&self) -> (Option<Timestamp>, Option<Timestamp>) {
        let tz = crate::uk::london();
        let start = |date: jiff::civil::Date| {
            tz.to_timestamp(date.to_datetime(jiff::civil::Time::midnight()))
                .ok()
        };
        (
            self.from.and_then(start),
            self.to.and_then(|d| d.tomorrow().ok()).and_then(start),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> (ChainKey, Vec<Entry>, Head) {
        let key = ChainKey([5; 32]);
        let mut head = Head::START;
        let mut entries = Vec::new();
        for i in 0..n {
            let at = Timestamp::from_second(1_800_000_000 + i).unwrap_or(Timestamp::UNIX_EPOCH);
            let event = Event::new(Action::SignIn, Some(format!("user-{i}")), "session", None);
            let entry = next_entry(&key, head, at, event, Origin::default());
            head = Head {
                seq: entry.seq,
                mac: entry.mac,
            };
            entries.push(entry);
        }
        (key, entries, head)
    }

    fn verify(key: &ChainKey, entries: &[Entry], head: Head) -> Result<Head, Break> {
        let mut v = Verifier::new(key, Head::START, head);
        for e in entries {
            v.check(e)?;
        }
        v.finish()
    }

    #[test]
    fn an_intact_chain_verifies() {
        let (key, entries, head) = chain(5);
        assert_eq!(verify(&key, &entries, head), Ok(head));
    }

    #[test]
    fn every_kind_of_tampering_is_named() {
        let (key, entries, head) = chain(5);
        let mut altered = entries.clone();
        altered[2].event.actor = Some("someone-else".into());
        assert_eq!(verify(&key, &altered, head), Err(Break::Altered { seq: 3 }));

        let mut removed = entries.clone();
        removed.remove(2);
        assert_eq!(
            verify(&key, &removed, head),
            Err(Break::Missing {
                expected: 3,
                found: 4
            })
        );

        let truncated = &entries[..4];
        assert_eq!(
            verify(&key, truncated, head),
            Err(Break::Truncated {
                ends_at: 4,
                head: 5
            })
        );

        let mut swapped = entries.clone();
        let (a, b) = (swapped[1].event.clone(), swapped[2].event.clone());
        swapped[1].event = b;
        swapped[2].event = a;
        assert_eq!(verify(&key, &swapped, head), Err(Break::Altered { seq: 2 }));

        // A witness left behind by a crash is fine if the chain passes through it...
        let behind = Head {
            seq: entries[2].seq,
            mac: entries[2].mac,
        };
        assert_eq!(verify(&key, &entries, behind), Ok(head));
        // ...but not a witness the chain does not match.
        let forged = Head {
            seq: 3,
            mac: [1; 32],
        };
        assert_eq!(
            verify(&key, &entries, forged),
            Err(Break::HeadMismatch { seq: 3 })
        );

        let wrong_key = ChainKey([6; 32]);
        assert_eq!(
            verify(&wrong_key, &entries, head),
            Err(Break::Altered { seq: 1 })
        );
    }

    #[test]
    fn the_encoding_cannot_be_shifted_between_fields() {
        let o = Origin::default();
        let at = Timestamp::UNIX_EPOCH;
        let a = Event::new(Action::SignIn, Some("ab".into()), "c", None);
        let b = Event::new(Action::SignIn, Some("a".into()), "bc", None);
        assert_ne!(canonical(1, at, &a, &o), canonical(1, at, &b, &o));
    }

    fn person(roles: &[crate::identity::Role]) -> crate::identity::User {
        crate::identity::User {
            id: crate::identity::UserId(uuid::Uuid::now_v7()),
            username: crate::identity::Username::parse("someone")
                .unwrap_or_else(|_| unreachable!()),
            display_name: "Some One".into(),
            roles: roles.to_vec(),
            registration: crate::identity::RegistrationBody::None,
            registration_number: None,
            email: None,
            active: true,
            totp_enrolled: false,
            version: crate::version::Version::FIRST,
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn who_reads_which_rows_on_each_audit_page() {
        use crate::identity::Role;
        use Category::{Allegation, General, Safeguarding};
        for role in Role::ALL {
            let u = person(&[role]);
            let child = readable_categories(&u, Trail::Child);
            let want: Vec<Category> = match role {
                Role::ServiceLead => vec![General, Safeguarding, Allegation],
                Role::Dsl | Role::DeputyDsl => vec![General, Safeguarding],
                _ => vec![],
            };
            assert_eq!(child, want, "{role:?}");
            let admin = readable_categories(&u, Trail::Administrators);
            let want = if role == Role::Administrator {
                vec![General]
            } else {
                vec![]
            };
            assert_eq!(admin, want, "{role:?}");
            // Administrators never read safeguarding or allegation rows in their view.
            assert!(!admin.contains(&Safeguarding) && !admin.contains(&Allegation));
            assert_eq!(readable_categories(&u, Trail::Own).len(), 3, "{role:?}");
        }
        // A therapist on the team reads no child's trail; a deactivated account nothing.
        assert!(readable_categories(&person(&[Role::Therapist]), Trail::Child).is_empty());
        let mut gone = person(&[Role::ServiceLead, Role::Administrator]);
        gone.active = false;
        for trail in [Trail::Child, Trail::Administrators, Trail::Own] {
            assert!(readable_categories(&gone, trail).is_empty());
        }
    }

    #[test]
    fn the_filters_are_typed_and_the_window_is_in_london_days() {
        let ok = TrailFilter::parse(&TrailFilterInput {
            actor: "0190a000-0000-7000-8000-000000000001".into(),
            child: String::new(),
            action: "concern.submitted".into(),
            from: "29/03/2026".into(),
            to: "2026-03-29".into(),
        });
        assert!(ok.is_ok(), "{ok:?}");
        let filter = ok.unwrap_or_default();
        assert_eq!(filter.action, Some(Action::ConcernSubmitted));
        // The clocks went forward on 29 March 2026: the day is 23 hours long.
        let (from, to) = filter.window();
        assert_eq!(
            from.map(|t| t.to_string()).as_deref(),
            Some("2026-03-29T00:00:00Z")
        );
        assert_eq!(
            to.map(|t| t.to_string()).as_deref(),
            Some("2026-03-29T23:00:00Z")
        );
        let bad = TrailFilter::parse(&TrailFilterInput {
            actor: "somebody".into(),
            child: "x".into(),
            action: "drop table".into(),
            from: "31/02/2026".into(),
            to: String::new(),
        });
        let fields: Vec<String> = bad
            .err()
            .map(|e| e.errors.into_iter().map(|f| f.field).collect())
            .unwrap_or_default();
        assert_eq!(fields, ["actor", "child", "action", "from"]);
        let backwards = TrailFilter::parse(&TrailFilterInput {
            from: "02/12/2026".into(),
            to: "01/12/2026".into(),
            ..TrailFilterInput::default()
        });
        assert!(backwards.is_err());
        assert_eq!(
            TrailFilter::parse(&TrailFilterInput::default()),
            Ok(TrailFilter::default())
        );
    }

    #[test]
    fn every_action_has_words_of_its_own() {
        let mut seen = std::collections::HashSet::new();
        for action in Action::ALL {
            let label = action.label();
            assert!(!label.is_empty() && label != action.code(), "{action:?}");
            assert!(seen.insert(label), "{label:?} names two actions");
        }
    }

    #[test]
    fn codes_round_trip() {
        for action in Action::ALL {
            assert_eq!(Action::parse(action.code()), Ok(action));
        }
        for c in [
            Category::General,
            Category::Safeguarding,
            Category::Allegation,
        ] {
            assert_eq!(Category::parse(c.code()), Ok(c));
        }
    }
}
