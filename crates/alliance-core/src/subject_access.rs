//! Subject access requests (policy section 5; clinical-facts 6.2): who may ask and how their
//! identity and authority are checked, the due date (one calendar month from the day of
//! receipt, paused while identity or clarification is awaited, extendable by two months with
//! the requester told, moved off weekends and bank holidays), who reaches the file, the named
//! reviewer's window, each item's decision (disclose, redact, withhold with a coded reason),
//! the serious-harm opinion and redaction itself. Pure rules: the service layer stores and
//! opens what they decide.
//!
//! Legal points are a careful reading (policy: "verify before release"), kept here as data
//! with their sources so they can be corrected.

use crate::calendar::WorkingCalendar;
use crate::children::age_on;
use crate::crypto::RecordClass;
use crate::error::{Invalid, Validator, parse_date, parse_line, parse_optional_line, parse_text};
use crate::identity::{RegistrationBody, Role, User, UserId};
use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

/// Where the month and its extension come from.
pub const SOURCE_TIME_LIMIT: &str = "https://cy.ico.org.uk/for-organisations/uk-gdpr-guidance-and-resources/individual-rights/right-of-access/what-should-we-consider-when-responding-to-a-request/";
/// Where the age of about 12 for a child's own understanding comes from.
pub const SOURCE_COMPETENCE: &str =
    "https://ico.org.uk/global/sar-checklist-for-smes/i-need-to-complete-a-sar";
/// Where the appropriate health professional for the serious-harm test comes from.
pub const SOURCE_SERIOUS_HARM: &str =
    "Data Protection Act 2018, section 204 and Schedule 3 Part 2 (policy section 5)";

/// What a withheld or redacted item is replaced by in the bundle.
pub const REDACTED: &str = "[redacted]";

// ----- who asks -----

/// Who made the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RequesterKind {
    /// The young person, for themselves.
    YoungPerson,
    /// A carer of the child with parental responsibility recorded.
    ParentalResponsibility,
    /// Someone authorised to act for the young person or for a parent (a solicitor, an
    /// advocate).
    Representative,
}

impl RequesterKind {
    pub const ALL: [RequesterKind; 3] = [
        RequesterKind::YoungPerson,
        RequesterKind::ParentalResponsibility,
        RequesterKind::Representative,
    ];

    pub fn code(self) -> &'static str {
        match self {
            RequesterKind::YoungPerson => "young-person",
            RequesterKind::ParentalResponsibility => "parental-responsibility",
            RequesterKind::Representative => "representative",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RequesterKind::YoungPerson => "The young person, for themselves",
            RequesterKind::ParentalResponsibility => "A person with parental responsibility",
            RequesterKind::Representative => "An authorised representative",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.code() == code.trim())
            .ok_or_else(|| {
                "Choose the young person, a person with parental responsibility or an authorised representative".to_owned()
            })
    }
}

/// For whom a representative acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActingFor {
    YoungPerson,
    Parent,
}

impl ActingFor {
    pub fn code(self) -> &'static str {
        match self {
            ActingFor::YoungPerson => "young-person",
            ActingFor::Parent => "parent",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ActingFor::YoungPerson => "the young person",
            ActingFor::Parent => "a person with parental responsibility",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        match code.trim() {
            "young-person" => Ok(ActingFor::YoungPerson),
            "parent" => Ok(ActingFor::Parent),
            _ => Err("Choose whom the representative acts for".to_owned()),
        }
    }
}

/// An authorised representative, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Representative {
    pub name: String,
    pub organisation: Option<String>,
    /// What authority was seen (a signed authority, a court order, a power of attorney).
    pub authority_seen: String,
    pub acting_for: ActingFor,
}

/// Whether the request is made on a parent's behalf (a person with parental responsibility,
/// or a representative acting for one): what the young person told in confidence, and child
/// abuse data, may then be withheld, and the young person's competence and wishes are noted.
pub fn on_parents_behalf(kind: RequesterKind, representative: Option<&Representative>) -> bool {
    match kind {
        RequesterKind::YoungPerson => false,
        RequesterKind::ParentalResponsibility => true,
        RequesterKind::Representative => {
            representative.is_some_and(|r| r.acting_for == ActingFor::Parent)
        }
    }
}

/// A request as typed by the administrator who logs it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RequestInput {
    #[serde(default)]
    pub requester_kind: String,
    /// The carer's id, for a person with parental responsibility.
    #[serde(default)]
    pub carer: String,
    #[serde(default)]
    pub representative_name: String,
    #[serde(default)]
    pub representative_organisation: String,
    #[serde(default)]
    pub authority_seen: String,
    #[serde(default)]
    pub acting_for: String,
    /// The day it was received (day 1 of the month).
    #[serde(default)]
    pub received_on: String,
    /// How it arrived (letter, email, in person, by telephone then in writing).
    #[serde(default)]
    pub how_received: String,
    /// What was asked for, in the requester's terms (everything, or part).
    #[serde(default)]
    pub asked_for: String,
}

/// A request once validated (the carer is checked by the service: the child's, active, with
/// parental responsibility).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRequest {
    pub kind: RequesterKind,
    pub carer: Option<String>,
    pub representative: Option<Representative>,
    pub received_on: Date,
    pub how_received: String,
    pub asked_for: Option<String>,
}

pub fn parse_request(input: &RequestInput, today: Date) -> Result<NewRequest, Invalid> {
    let mut v = Validator::new();
    let kind = v.check(
        "requester_kind",
        RequesterKind::parse(&input.requester_kind),
    );
    let received_on = v.check(
        "received_on",
        parse_date(&input.received_on).and_then(|d| {
            if d > today {
                Err("The day it was received cannot be in the future".to_owned())
            } else {
                Ok(d)
            }
        }),
    );
    let how_received = v.check(
        "how_received",
        parse_line(&input.how_received, 1, 200)
            .map_err(|_| "Say how the request arrived (for example: letter, email)".to_owned()),
    );
    let asked_for = v.check("asked_for", parse_optional_text(&input.asked_for, 2000));
    let mut carer = None;
    let mut representative = None;
    match kind {
        Some(RequesterKind::ParentalResponsibility) => {
            if input.carer.trim().is_empty() {
                v.check::<()>(
                    "carer",
                    Err("Choose the carer with parental responsibility who asked".to_owned()),
                );
            } else {
                carer = Some(input.carer.trim().to_owned());
            }
        }
        Some(RequesterKind::Representative) => {
            let name = v.check(
                "representative_name",
                parse_line(&input.representative_name, 1, 120)
                    .map_err(|_| "Enter the representative's name".to_owned()),
            );
            let organisation = v.check(
                "representative_organisation",
                parse_optional_line(&input.representative_organisation, 200),
            );
            let authority_seen = v.check(
                "authority_seen",
                parse_text(&input.authority_seen, 1, 1000).map_err(|_| {
                    "Say what authority was seen (a signed authority, a court order)".to_owned()
                }),
            );
            let acting_for = v.check("acting_for", ActingFor::parse(&input.acting_for));
            if let (Some(name), Some(organisation), Some(authority_seen), Some(acting_for)) =
                (name, organisation, authority_seen, acting_for)
            {
                representative = Some(Representative {
                    name,
                    organisation,
                    authority_seen,
                    acting_for,
                });
            }
        }
        Some(RequesterKind::YoungPerson) | None => {}
    }
    v.finish()?;
    match (kind, received_on, how_received, asked_for) {
        (Some(kind), Some(received_on), Some(how_received), Some(asked_for)) => Ok(NewRequest {
            kind,
            carer,
            representative,
            received_on,
            how_received,
            asked_for,
        }),
        _ => Err(Invalid::field(
            "requester_kind",
            "The request is incomplete",
        )),
    }
}

fn parse_optional_text(raw: &str, max: usize) -> Result<Option<String>, String> {
    crate::error::parse_optional_text(raw, max)
}

// ----- identity, authority, competence -----

/// A check recorded: how it was done, on what day, by whom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub how: String,
    pub on: Date,
    pub by: UserId,
}

/// The young person's competence and wishes, noted on a parent's request for a young person
/// of about 12 or over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Competence {
    /// Whether they understand their rights, in the checker's words.
    pub assessment: String,
    /// What they want done with the request.
    pub wishes: String,
}

/// The checks as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ChecksInput {
    #[serde(default)]
    pub identity_how: String,
    #[serde(default)]
    pub identity_on: String,
    #[serde(default)]
    pub authority_how: String,
    #[serde(default)]
    pub authority_on: String,
    #[serde(default)]
    pub competence: String,
    #[serde(default)]
    pub wishes: String,
}

/// The checks once validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checks {
    pub identity: Check,
    /// Absent for the young person asking for themselves.
    pub authority: Option<Check>,
    pub competence: Option<Competence>,
}

/// Whether a parent's request (or one made for a parent) about this child must note the young
/// person's competence and wishes: the child was `competence_age` or over on the day it was
/// received.
pub fn competence_needed(
    on_parents_behalf: bool,
    date_of_birth: Date,
    received_on: Date,
    competence_age: u8,
) -> bool {
    on_parents_behalf && age_on(date_of_birth, received_on) >= i16::from(competence_age)
}

/// Validates the checks for a request of `kind`: identity always; authority for a parent or a
/// representative; competence and wishes when [`competence_needed`]. Days on or after the
/// request's receipt and not in the future.
pub fn parse_checks(
    input: &ChecksInput,
    kind: RequesterKind,
    needs_competence: bool,
    received_on: Date,
    today: Date,
    by: UserId,
) -> Result<Checks, Invalid> {
    let mut v = Validator::new();
    let day = |raw: &str| {
        parse_date(raw).and_then(|d| {
            if d > today {
                Err("This day cannot be in the future".to_owned())
            } else if d < received_on {
                Err("This day is before the request was received".to_owned())
            } else {
                Ok(d)
            }
        })
    };
    let identity_how = v.check(
        "identity_how",
        parse_text(&input.identity_how, 1, 1000)
            .map_err(|_| "Say how the requester's identity was checked".to_owned()),
    );
    let identity_on = v.check("identity_on", day(&input.identity_on));
    let authority = if kind == RequesterKind::YoungPerson {
        None
    } else {
        let how = v.check(
            "authority_how",
            parse_text(&input.authority_how, 1, 1000).map_err(|_| {
                "Say how their authority was checked (parental responsibility, a signed authority)"
                    .to_owned()
            }),
        );
        let on = v.check("authority_on", day(&input.authority_on));
        match (how, on) {
            (Some(how), Some(on)) => Some(Check { how, on, by }),
            _ => None,
        }
    };
    let competence = if needs_competence {
        let assessment = v.check(
            "competence",
            parse_text(&input.competence, 1, 2000).map_err(|_| {
                "Note the young person's understanding: at about 12 or over they may decide for themselves".to_owned()
            }),
        );
        let wishes = v.check(
            "wishes",
            parse_text(&input.wishes, 1, 2000)
                .map_err(|_| "Note the young person's wishes about this request".to_owned()),
        );
        match (assessment, wishes) {
            (Some(assessment), Some(wishes)) => Some(Competence { assessment, wishes }),
            _ => None,
        }
    } else {
        None
    };
    v.finish()?;
    match (identity_how, identity_on) {
        (Some(how), Some(on)) => Ok(Checks {
            identity: Check { how, on, by },
            authority,
            competence,
        }),
        _ => Err(Invalid::field("identity_how", "The checks are incomplete")),
    }
}

// ----- the clock -----

/// Why the clock stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PauseReason {
    /// Waiting for proof of the requester's identity (or authority).
    Identity,
    /// Waiting for the requester to say what they are asking for.
    Clarification,
}

impl PauseReason {
    pub const ALL: [PauseReason; 2] = [PauseReason::Identity, PauseReason::Clarification];

    pub fn code(self) -> &'static str {
        match self {
            PauseReason::Identity => "identity",
            PauseReason::Clarification => "clarification",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            PauseReason::Identity => "Awaiting proof of identity or authority",
            PauseReason::Clarification => "Awaiting clarification of the request",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|r| r.code() == code.trim())
            .ok_or_else(|| "Choose what is awaited: identity or clarification".to_owned())
    }
}

/// A pause of the clock, from `started_on` until `ended_on` (open while `None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pause {
    pub reason: PauseReason,
    pub started_on: Date,
    pub ended_on: Option<Date>,
}

impl Pause {
    /// Whole days the clock stood still (0 for a pause started and ended the same day).
    pub fn days(&self) -> Option<i64> {
        let end = self.ended_on?;
        Some(i64::from((end - self.started_on).get_days()).max(0))
    }
}

/// A pause may start on or after receipt, not in the future, and not while another is open.
pub fn check_pause_start(
    received_on: Date,
    started_on: Date,
    today: Date,
    pauses: &[Pause],
) -> Result<(), Invalid> {
    if pauses.iter().any(|p| p.ended_on.is_none()) {
        return Err(Invalid::field("reason", "The clock is already paused"));
    }
    if started_on < received_on {
        return Err(Invalid::field(
            "started_on",
            "A pause cannot start before the request was received",
        ));
    }
    if started_on > today {
        return Err(Invalid::field(
            "started_on",
            "A pause cannot start in the future",
        ));
    }
    if let Some(last) = pauses.iter().filter_map(|p| p.ended_on).max()
        && started_on < last
    {
        return Err(Invalid::field(
            "started_on",
            "A pause cannot start before the last one ended",
        ));
    }
    Ok(())
}

/// A pause ends on or after its start, not in the future.
pub fn check_pause_end(pause: &Pause, ended_on: Date, today: Date) -> Result<(), Invalid> {
    if ended_on < pause.started_on {
        return Err(Invalid::field(
            "ended_on",
            "The clock cannot restart before it was paused",
        ));
    }
    if ended_on > today {
        return Err(Invalid::field(
            "ended_on",
            "The clock cannot restart in the future",
        ));
    }
    Ok(())
}

/// When the answer is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// The clock is paused: no due date until it restarts.
    Paused {
        since: Date,
        reason: PauseReason,
    },
    On(DueDate),
}

/// A due date and how it was reached, to show the working.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueDate {
    /// The day the answer is due (a working day).
    pub date: Date,
    /// The corresponding day one month (three when extended) after receipt, or the last day
    /// of that month when it has no such day.
    pub month_end: Date,
    /// Days the clock was paused, added after the month.
    pub paused_days: i64,
    /// The date before it moved off a weekend or bank holiday.
    pub before_moving: Date,
    pub extended: bool,
}

impl DueDate {
    /// Why the date moved, when it did.
    pub fn moved_for(&self, calendar: &WorkingCalendar) -> Option<&'static str> {
        if self.date == self.before_moving {
            None
        } else if calendar.is_bank_holiday(self.before_moving) {
            Some("a bank holiday")
        } else {
            Some("a weekend")
        }
    }
}

/// The corresponding day `months` after `day`, or the last day of that month when it has no
/// such day (31 January and one month: 28 or 29 February).
pub fn months_after(day: Date, months: i64) -> Date {
    // jiff constrains an impossible day to the month's last.
    day.checked_add(months.months()).unwrap_or(Date::MAX)
}

/// The due date (clinical-facts 6.2): the day of receipt is day 1, so the answer is due on the
/// corresponding day of the next month (the last day of that month when it has none); an
/// extension makes it three months from receipt; the days the clock was paused are added; a
/// weekend or bank holiday moves it to the next working day. An open pause: no date yet.
pub fn due(received_on: Date, pauses: &[Pause], extended: bool, calendar: &WorkingCalendar) -> Due {
    if let Some(open) = pauses.iter().find(|p| p.ended_on.is_none()) {
        return Due::Paused {
            since: open.started_on,
            reason: open.reason,
        };
    }
    let month_end = months_after(received_on, if extended { 3 } else { 1 });
    let paused_days: i64 = pauses.iter().filter_map(Pause::days).sum();
    let before_moving = month_end
        .checked_add(paused_days.days())
        .unwrap_or(Date::MAX);
    let date = if calendar.is_working_day(before_moving) {
        before_moving
    } else {
        calendar.next_working_day(before_moving)
    };
    Due::On(DueDate {
        date,
        month_end,
        paused_days,
        before_moving,
        extended,
    })
}

/// An extension by two further months: the requester must be told within the first month
/// (on or before the unextended due date), and the reason given.
pub fn check_extension(
    received_on: Date,
    pauses: &[Pause],
    calendar: &WorkingCalendar,
    told_on: Date,
    today: Date,
) -> Result<(), Invalid> {
    if told_on > today {
        return Err(Invalid::field(
            "told_on",
            "The day the requester was told cannot be in the future",
        ));
    }
    if told_on < received_on {
        return Err(Invalid::field(
            "told_on",
            "The day the requester was told is before the request was received",
        ));
    }
    match due(received_on, pauses, false, calendar) {
        Due::Paused { .. } => Err(Invalid::field(
            "told_on",
            "Restart the clock before extending the time limit",
        )),
        Due::On(first) if told_on > first.date => Err(Invalid::field(
            "told_on",
            "The requester must be told of an extension within the first month: it is too late to extend",
        )),
        Due::On(_) => Ok(()),
    }
}

// ----- where a request stands, and who reaches it -----

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Logged; identity and authority not yet checked.
    Logged,
    /// The clock is paused (identity or clarification awaited).
    Paused,
    /// Identity and authority checked; no reviewer yet.
    Checked,
    /// The named reviewer is deciding the items.
    InReview,
    /// The DSL is reviewing the safeguarding material.
    DslReview,
    /// Decided: the service lead may release it.
    Ready,
    Released,
    Refused,
    Withdrawn,
}

impl Status {
    pub const ALL: [Status; 9] = [
        Status::Logged,
        Status::Paused,
        Status::Checked,
        Status::InReview,
        Status::DslReview,
        Status::Ready,
        Status::Released,
        Status::Refused,
        Status::Withdrawn,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Status::Logged => "logged",
            Status::Paused => "paused",
            Status::Checked => "checked",
            Status::InReview => "in-review",
            Status::DslReview => "dsl-review",
            Status::Ready => "ready",
            Status::Released => "released",
            Status::Refused => "refused",
            Status::Withdrawn => "withdrawn",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Logged => "Logged: identity and authority to check",
            Status::Paused => "Paused: the clock is stopped",
            Status::Checked => "Checked: a reviewer to name",
            Status::InReview => "In review",
            Status::DslReview => "The DSL's review of safeguarding material",
            Status::Ready => "Ready to release",
            Status::Released => "Released",
            Status::Refused => "Refused",
            Status::Withdrawn => "Withdrawn",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|s| s.code() == code)
            .ok_or_else(|| format!("unknown status {code:?}"))
    }

    /// Pending: not yet released, refused or withdrawn (a hold on destruction).
    pub fn is_open(self) -> bool {
        !matches!(self, Status::Released | Status::Refused | Status::Withdrawn)
    }

    /// The status as shown to someone who may not know that safeguarding material exists
    /// (an administrator, the reviewer): the DSL's review reads as review.
    pub fn without_safeguarding(self) -> Status {
        match self {
            Status::DslReview => Status::InReview,
            other => other,
        }
    }

    /// Where a request goes when its clock restarts.
    pub fn after_pause(checked: bool, reviewer_named: bool) -> Status {
        match (checked, reviewer_named) {
            (_, true) => Status::InReview,
            (true, false) => Status::Checked,
            (false, false) => Status::Logged,
        }
    }
}

/// What a person may do with subject access files in general (the matrix row "subject access
/// files"): the administrator logs requests and their checks and sees the request, never the
/// content; the service lead reads the file and releases; the DSL and deputies review the
/// safeguarding material; nobody else (a named reviewer reaches one request for a time, see
/// [`reviewer_may_read`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Reach {
    /// Sees the list of requests and each request's facts (who, dates, state, due date).
    pub sees_requests: bool,
    /// Logs a request, records its checks, pauses and extensions (administrators).
    pub logs: bool,
    /// Names the reviewer (the service lead or an administrator).
    pub names_reviewer: bool,
    /// Reads the file: the decisions, and what the bundle holds (the service lead).
    pub reads_file: bool,
    /// Releases the bundle (the service lead).
    pub releases: bool,
    /// Reviews the safeguarding material (the DSL and deputies).
    pub reviews_safeguarding: bool,
    /// Refuses or closes a request as withdrawn (the service lead or an administrator).
    pub closes: bool,
}

pub fn reach(user: &User) -> Reach {
    if !user.active {
        return Reach::default();
    }
    let admin = user.has_role(Role::Administrator);
    let lead = user.has_role(Role::ServiceLead);
    let dsl = user.has_role(Role::Dsl) || user.has_role(Role::DeputyDsl);
    Reach {
        sees_requests: admin || lead || dsl,
        logs: admin,
        names_reviewer: admin || lead,
        reads_file: lead,
        releases: lead,
        reviews_safeguarding: dsl,
        closes: admin || lead,
    }
}

/// Who may be named to review a request: an active clinician or safeguarding lead (never an
/// account that is only an administrator's or a member of staff's).
pub fn may_be_reviewer(user: &User) -> bool {
    user.active
        && [
            Role::Therapist,
            Role::Supervisor,
            Role::ServiceLead,
            Role::Dsl,
            Role::DeputyDsl,
        ]
        .into_iter()
        .any(|r| user.has_role(r))
}

/// The named reviewer reads the child's whole record for this request while their window is
/// open and the request is in review (or ready, to check it); never once released, refused or
/// withdrawn, and never after `until`.
pub fn reviewer_may_read(
    status: Status,
    reviewer: Option<UserId>,
    until: Option<Timestamp>,
    user: UserId,
    now: Timestamp,
) -> bool {
    matches!(status, Status::InReview | Status::DslReview | Status::Ready)
        && reviewer == Some(user)
        && until.is_some_and(|until| now < until)
}

// ----- the items and their decisions -----

/// A kind of item of the child's record, as the reviewer sees it listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ItemKind {
    Identity,
    Carer,
    Case,
    Agreement,
    ConsentEntry,
    ChecklistItem,
    SessionRecord,
    ContactLog,
    ProcessNote,
    Supervision,
    Concern,
    ConcernStep,
    ConcernAddendum,
}

impl ItemKind {
    pub const ALL: [ItemKind; 13] = [
        ItemKind::Identity,
        ItemKind::Carer,
        ItemKind::Case,
        ItemKind::Agreement,
        ItemKind::ConsentEntry,
        ItemKind::ChecklistItem,
        ItemKind::SessionRecord,
        ItemKind::ContactLog,
        ItemKind::ProcessNote,
        ItemKind::Supervision,
        ItemKind::Concern,
        ItemKind::ConcernStep,
        ItemKind::ConcernAddendum,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ItemKind::Identity => "identity",
            ItemKind::Carer => "carer",
            ItemKind::Case => "case",
            ItemKind::Agreement => "agreement",
            ItemKind::ConsentEntry => "consent-entry",
            ItemKind::ChecklistItem => "checklist-item",
            ItemKind::SessionRecord => "session-record",
            ItemKind::ContactLog => "contact-log",
            ItemKind::ProcessNote => "process-note",
            ItemKind::Supervision => "supervision",
            ItemKind::Concern => "concern",
            ItemKind::ConcernStep => "concern-step",
            ItemKind::ConcernAddendum => "concern-addendum",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ItemKind::Identity => "The child's details",
            ItemKind::Carer => "A carer's details",
            ItemKind::Case => "Case",
            ItemKind::Agreement => "Therapy agreement",
            ItemKind::ConsentEntry => "Consent record",
            ItemKind::ChecklistItem => "First-session checklist",
            ItemKind::SessionRecord => "Session record",
            ItemKind::ContactLog => "Contact log entry",
            ItemKind::ProcessNote => "Process note",
            ItemKind::Supervision => "Supervision actions",
            ItemKind::Concern => "Safeguarding concern",
            ItemKind::ConcernStep => "Safeguarding action",
            ItemKind::ConcernAddendum => "Safeguarding addendum",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.code() == code.trim())
            .ok_or_else(|| "This is not a kind of item".to_owned())
    }

    /// The class of the child's record the item belongs to: its decision is sealed under the
    /// child's key of that class, so destroying the class destroys the decision's quotations.
    pub fn class(self) -> RecordClass {
        match self {
            ItemKind::Identity | ItemKind::Carer => RecordClass::Identity,
            ItemKind::ProcessNote => RecordClass::ProcessNotes,
            ItemKind::Concern | ItemKind::ConcernStep | ItemKind::ConcernAddendum => {
                RecordClass::Safeguarding
            }
            _ => RecordClass::Clinical,
        }
    }

    /// Safeguarding material: listed for the DSL's review, never shown to a reviewer who is
    /// not a DSL.
    pub fn is_safeguarding(self) -> bool {
        self.class() == RecordClass::Safeguarding
    }
}

/// What is done with an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Decision {
    Disclose,
    /// Disclosed with passages removed, each shown as "[redacted]".
    Redact,
    Withhold,
}

impl Decision {
    pub const ALL: [Decision; 3] = [Decision::Disclose, Decision::Redact, Decision::Withhold];

    pub fn code(self) -> &'static str {
        match self {
            Decision::Disclose => "disclose",
            Decision::Redact => "redact",
            Decision::Withhold => "withhold",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Decision::Disclose => "Disclose",
            Decision::Redact => "Disclose with passages removed",
            Decision::Withhold => "Withhold",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|d| d.code() == code.trim())
            .ok_or_else(|| "Choose disclose, redact or withhold".to_owned())
    }
}

/// Why an item (or a passage) is not disclosed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// Disclosure would be likely to cause serious harm to someone's physical or mental health
    /// (the opinion of an appropriate health professional is needed).
    SeriousHarm,
    /// Information about someone else (professionals acting in their role are normally
    /// disclosed).
    ThirdParty,
    /// Given by the child expecting it would not be shared with the parent who asks.
    GivenInConfidence,
    /// Child abuse data, on a parent's request (Schedule 3 Part 5).
    ChildAbuseData,
    LegalPrivilege,
    /// Another exemption, in words.
    Other,
}

impl Reason {
    pub const ALL: [Reason; 6] = [
        Reason::SeriousHarm,
        Reason::ThirdParty,
        Reason::GivenInConfidence,
        Reason::ChildAbuseData,
        Reason::LegalPrivilege,
        Reason::Other,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Reason::SeriousHarm => "serious-harm",
            Reason::ThirdParty => "third-party",
            Reason::GivenInConfidence => "given-in-confidence",
            Reason::ChildAbuseData => "child-abuse-data",
            Reason::LegalPrivilege => "legal-privilege",
            Reason::Other => "other",
        }
    }

    /// For staff.
    pub fn label(self) -> &'static str {
        match self {
            Reason::SeriousHarm => "Serious harm (an appropriate health professional's opinion)",
            Reason::ThirdParty => "Information about someone else (third party)",
            Reason::GivenInConfidence => {
                "Given by the child in confidence, not to be shared with the parent who asks"
            }
            Reason::ChildAbuseData => "Child abuse data, on a parent's request",
            Reason::LegalPrivilege => "Legal professional privilege",
            Reason::Other => "Another exemption (say which)",
        }
    }

    /// For the requester's cover letter: in general terms, never what was withheld. The
    /// reasons that would tell a parent what their child said or what was recorded about
    /// abuse share one form of words.
    pub fn general_terms(self) -> &'static str {
        match self {
            Reason::SeriousHarm => {
                "information whose disclosure would be likely to cause serious harm to someone's physical or mental health"
            }
            Reason::ThirdParty => "information about other people",
            Reason::GivenInConfidence | Reason::ChildAbuseData => {
                "information the law allows us to withhold to protect the child"
            }
            Reason::LegalPrivilege => "legally privileged information",
            Reason::Other => "information covered by another exemption in data protection law",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|r| r.code() == code.trim())
            .ok_or_else(|| "Choose a reason from the list".to_owned())
    }

    /// Only a request made on a parent's behalf may be answered with these.
    pub fn only_on_parents_request(self) -> bool {
        matches!(self, Reason::GivenInConfidence | Reason::ChildAbuseData)
    }
}

/// A decision as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DecisionInput {
    #[serde(default)]
    pub decision: String,
    #[serde(default)]
    pub reason: String,
    /// The reason in words (needed for "other").
    #[serde(default)]
    pub words: String,
    /// The passages to remove, one a line.
    #[serde(default)]
    pub passages: String,
}

/// A decision on one item, once validated. Sealed with the item's class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemDecision {
    pub decision: Decision,
    pub reason: Option<Reason>,
    pub words: Option<String>,
    /// For a redaction: the exact passages removed.
    #[serde(default)]
    pub passages: Vec<String>,
    /// A digest of the item's text when decided: an item changed since is decided again.
    #[serde(default)]
    pub digest: String,
}

/// Validates a decision for a request made by `kind` (on a parent's behalf or not), given
/// whether the serious-harm opinion is recorded. The passages are checked against the item by
/// the caller ([`missing_passages`]).
pub fn parse_decision(
    input: &DecisionInput,
    parents_request: bool,
    opinion_recorded: bool,
) -> Result<ItemDecision, Invalid> {
    let mut v = Validator::new();
    let decision = v.check("decision", Decision::parse(&input.decision));
    let mut reason = None;
    let mut words = None;
    let mut passages = Vec::new();
    if let Some(d) = decision
        && d != Decision::Disclose
    {
        reason = v.check(
            "reason",
            Reason::parse(&input.reason).and_then(|r| {
                if r.only_on_parents_request() && !parents_request {
                    Err("This reason applies only to a request made on a parent's behalf".to_owned())
                } else if r == Reason::SeriousHarm && !opinion_recorded {
                    Err("Record the appropriate health professional's opinion before withholding for serious harm".to_owned())
                } else {
                    Ok(r)
                }
            }),
        );
        words = v
            .check(
                "words",
                if reason == Some(Reason::Other) {
                    parse_text(&input.words, 1, 2000)
                        .map(Some)
                        .map_err(|_| "Say which exemption applies".to_owned())
                } else {
                    parse_optional_text(&input.words, 2000)
                },
            )
            .flatten();
        if d == Decision::Redact {
            let typed: Vec<String> = input
                .passages
                .replace("\r\n", "\n")
                .split('\n')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect();
            if typed.is_empty() {
                v.check::<()>(
                    "passages",
                    Err("Copy each passage to remove, one a line".to_owned()),
                );
            } else if typed.iter().any(|p| p.chars().count() > 4000) {
                v.check::<()>(
                    "passages",
                    Err("A passage may be up to 4,000 characters".to_owned()),
                );
            } else if typed.iter().any(|p| p.chars().any(char::is_control)) {
                v.check::<()>("passages", Err("Remove control characters".to_owned()));
            }
            passages = typed;
        }
    }
    v.finish()?;
    let decision = decision.ok_or_else(|| Invalid::field("decision", "Choose a decision"))?;
    Ok(ItemDecision {
        decision,
        reason,
        words,
        passages,
        digest: String::new(),
    })
}

/// A digest of an item's texts (hex SHA-256 over each text, separated), to notice an item that
/// changed after it was decided.
pub fn digest(texts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for t in texts {
        hasher.update((t.len() as u64).to_be_bytes());
        hasher.update(t.as_bytes());
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Where `passage` occurs in `text`, as char ranges: letters compared without case, and any
/// run of spaces or line breaks in the passage matching any such run in the text (so a passage
/// copied from a page whose lines were wrapped still matches).
fn occurrences(text: &[char], passage: &[char]) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    if passage.is_empty() {
        return found;
    }
    let same = |a: char, b: char| a == b || a.to_lowercase().eq(b.to_lowercase());
    let mut start = 0;
    while start < text.len() {
        let (mut t, mut p) = (start, 0);
        let mut matched = true;
        while p < passage.len() {
            if passage[p].is_whitespace() {
                if t >= text.len() || !text[t].is_whitespace() {
                    matched = false;
                    break;
                }
                while p < passage.len() && passage[p].is_whitespace() {
                    p += 1;
                }
                while t < text.len() && text[t].is_whitespace() {
                    t += 1;
                }
            } else {
                if t >= text.len() || !same(text[t], passage[p]) {
                    matched = false;
                    break;
                }
                t += 1;
                p += 1;
            }
        }
        if matched && t > start {
            found.push((start, t));
            start = t;
        } else {
            start += 1;
        }
    }
    found
}

/// The passages found in none of `texts`: a redaction whose passage is missing is refused
/// (nothing would be removed).
pub fn missing_passages<'a>(texts: &[&str], passages: &'a [String]) -> Vec<&'a String> {
    let texts: Vec<Vec<char>> = texts.iter().map(|t| t.chars().collect()).collect();
    passages
        .iter()
        .filter(|p| {
            let p: Vec<char> = p.trim().chars().collect();
            !texts.iter().any(|t| !occurrences(t, &p).is_empty())
        })
        .collect()
}

/// `text` with every occurrence of every passage replaced by [`REDACTED`]; overlapping and
/// touching occurrences become one.
pub fn redact(text: &str, passages: &[String]) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut ranges: Vec<(usize, usize)> = passages
        .iter()
        .flat_map(|p| {
            let p: Vec<char> = p.trim().chars().collect();
            occurrences(&chars, &p)
        })
        .collect();
    if ranges.is_empty() {
        return text.to_owned();
    }
    ranges.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (s, e) in ranges {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (s, e) in merged {
        out.extend(&chars[at..s]);
        out.push_str(REDACTED);
        at = e;
    }
    out.extend(&chars[at..]);
    out
}

// ----- the serious-harm opinion -----

/// Whether a registration makes someone an appropriate health professional for the
/// serious-harm test (DPA 2018 s204): registered medical practitioners (GMC), nurses (NMC),
/// HCPC-registered professions, child psychotherapists (ACP). Counsellors, play therapists,
/// social workers and teachers record an outside opinion instead.
pub fn appropriate_health_professional(body: RegistrationBody) -> bool {
    matches!(
        body,
        RegistrationBody::Gmc
            | RegistrationBody::Nmc
            | RegistrationBody::Hcpc
            | RegistrationBody::AcpChildPsychotherapist
    )
}

/// Whose opinion it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "from")]
pub enum OpinionFrom {
    /// A member of staff whose registration qualifies.
    Staff {
        user: UserId,
        name: String,
        registration: RegistrationBody,
        number: Option<String>,
    },
    /// An appropriate health professional outside the service.
    Outside {
        name: String,
        profession: String,
        registration: String,
    },
}

/// The opinion, as recorded (sealed under the child's clinical key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Opinion {
    pub from: OpinionFrom,
    pub given_on: Date,
    /// What they advised.
    pub opinion: String,
    pub recorded_by: UserId,
}

/// The opinion as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct OpinionInput {
    /// `staff` or `outside`.
    #[serde(default)]
    pub from: String,
    /// The member of staff's id.
    #[serde(default)]
    pub staff: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub profession: String,
    #[serde(default)]
    pub registration: String,
    #[serde(default)]
    pub given_on: String,
    #[serde(default)]
    pub opinion: String,
}

/// Validates the opinion; `staff` is the member of staff named (looked up by the service).
pub fn parse_opinion(
    input: &OpinionInput,
    staff: Option<&User>,
    today: Date,
    recorded_by: UserId,
) -> Result<Opinion, Invalid> {
    let mut v = Validator::new();
    let given_on = v.check(
        "given_on",
        parse_date(&input.given_on).and_then(|d| {
            if d > today {
                Err("The opinion cannot be dated in the future".to_owned())
            } else {
                Ok(d)
            }
        }),
    );
    let opinion = v.check(
        "opinion",
        parse_text(&input.opinion, 1, 4000).map_err(|_| "Record what they advised".to_owned()),
    );
    let from = match input.from.trim() {
        "staff" => match staff {
            Some(user) if user.active && appropriate_health_professional(user.registration) => {
                Some(OpinionFrom::Staff {
                    user: user.id,
                    name: user.display_name.clone(),
                    registration: user.registration,
                    number: user.registration_number.clone(),
                })
            }
            Some(_) => v.check(
                "staff",
                Err("Their registration does not make them an appropriate health professional (GMC, NMC, HCPC or a child psychotherapist): record an outside opinion".to_owned()),
            ),
            None => v.check("staff", Err("Choose the member of staff".to_owned())),
        },
        "outside" => {
            let name = v.check(
                "name",
                parse_line(&input.name, 1, 120).map_err(|_| "Enter their name".to_owned()),
            );
            let profession = v.check(
                "profession",
                parse_line(&input.profession, 1, 120)
                    .map_err(|_| "Enter their profession".to_owned()),
            );
            let registration = v.check(
                "registration",
                parse_line(&input.registration, 1, 120).map_err(|_| {
                    "Enter their registration (body and number)".to_owned()
                }),
            );
            match (name, profession, registration) {
                (Some(name), Some(profession), Some(registration)) => Some(OpinionFrom::Outside {
                    name,
                    profession,
                    registration,
                }),
                _ => None,
            }
        }
        _ => v.check(
            "from",
            Err("Choose a member of staff or an outside professional".to_owned()),
        ),
    };
    v.finish()?;
    match (from, given_on, opinion) {
        (Some(from), Some(given_on), Some(opinion)) => Ok(Opinion {
            from,
            given_on,
            opinion,
            recorded_by,
        }),
        _ => Err(Invalid::field("opinion", "The opinion is incomplete")),
    }
}

// ----- settings -----

/// The service's figures for subject access, with their sources shown on screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// How long the named reviewer may read the record (policy section 5; default 14 days).
    pub reviewer_days: u32,
    /// From what age a young person's competence and wishes are noted on a parent's request
    /// (ICO: 12 a reasonable guide; presumed competent in Scotland).
    pub competence_age: u8,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            reviewer_days: 14,
            competence_age: 12,
        }
    }
}

impl Settings {
    pub fn parse(reviewer_days: &str, competence_age: &str) -> Result<Self, Invalid> {
        let mut v = Validator::new();
        let days = v.check(
            "reviewer_days",
            reviewer_days
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|d| (1..=60).contains(d))
                .ok_or_else(|| "Choose between 1 and 60 days".to_owned()),
        );
        let age = v.check(
            "competence_age",
            competence_age
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|a| (10..=16).contains(a))
                .ok_or_else(|| "Choose an age between 10 and 16".to_owned()),
        );
        v.finish()?;
        match (days, age) {
            (Some(reviewer_days), Some(competence_age)) => Ok(Self {
                reviewer_days,
                competence_age,
            }),
            _ => Err(Invalid::field("reviewer_days", "Settings incomplete")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{BankHolidays, Division, WorkingHours};
    use crate::identity::Username;
    use crate::version::Version;
    use jiff::civil::date;

    fn england() -> WorkingCalendar {
        WorkingCalendar::for_division(
            &BankHolidays::shipped(),
            Division::EnglandAndWales,
            WorkingHours::default(),
        )
    }

    /// Scotland's holidays are not shipped (an administrator imports them): the ones these
    /// tests need, as the government's list has them.
    fn scotland() -> WorkingCalendar {
        WorkingCalendar::new(
            [
                date(2026, 8, 3),
                date(2026, 11, 30),
                date(2026, 12, 25),
                date(2026, 12, 28),
                date(2027, 1, 1),
                date(2027, 1, 4),
            ],
            WorkingHours::default(),
        )
    }

    fn on(due: Due) -> Date {
        match due {
            Due::On(d) => d.date,
            Due::Paused { .. } => panic!("paused"),
        }
    }

    fn closed(started: Date, ended: Date) -> Pause {
        Pause {
            reason: PauseReason::Identity,
            started_on: started,
            ended_on: Some(ended),
        }
    }

    fn user(roles: &[Role], registration: RegistrationBody) -> User {
        User {
            id: UserId(uuid::Uuid::now_v7()),
            username: Username::parse("someone").unwrap(),
            display_name: "Dr Some One".into(),
            roles: roles.to_vec(),
            registration,
            registration_number: Some("PYL12345".into()),
            email: None,
            active: true,
            totp_enrolled: false,
            version: Version::FIRST,
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
        }
    }

    // ----- the due date -----

    #[test]
    fn received_day_is_day_one_so_the_answer_is_due_on_the_corresponding_day() {
        // Tuesday 3 February 2026 is a working day.
        assert_eq!(
            on(due(date(2026, 1, 3), &[], false, &england())),
            date(2026, 2, 3)
        );
        // Received 14 October 2026 → Saturday 14 November 2026 → Monday 16 November.
        let d = due(date(2026, 10, 14), &[], false, &england());
        let Due::On(d) = d else { panic!() };
        assert_eq!(d.month_end, date(2026, 11, 14));
        assert_eq!(d.date, date(2026, 11, 16));
        assert_eq!(d.moved_for(&england()), Some("a weekend"));
    }

    #[test]
    fn a_month_without_the_day_ends_on_its_last_day() {
        // 31 January 2026 → 28 February 2026 (a Saturday) → Monday 2 March.
        let Due::On(d) = due(date(2026, 1, 31), &[], false, &england()) else {
            panic!()
        };
        assert_eq!(d.month_end, date(2026, 2, 28));
        assert_eq!(d.date, date(2026, 3, 2));
        // In a leap year: 31 January 2028 → Tuesday 29 February 2028.
        assert_eq!(
            on(due(date(2028, 1, 31), &[], false, &england())),
            date(2028, 2, 29)
        );
        // 30 January 2028 → Tuesday 29 February too (no 30 February).
        assert_eq!(months_after(date(2028, 1, 30), 1), date(2028, 2, 29));
        // 31 March → 30 April; 31 August → 30 September.
        assert_eq!(months_after(date(2026, 3, 31), 1), date(2026, 4, 30));
        assert_eq!(months_after(date(2026, 8, 31), 1), date(2026, 9, 30));
        // 29 February 2028 → 29 March 2028.
        assert_eq!(months_after(date(2028, 2, 29), 1), date(2028, 3, 29));
        // Over the year's end: 15 December 2026 → 15 January 2027.
        assert_eq!(months_after(date(2026, 12, 15), 1), date(2027, 1, 15));
    }

    #[test]
    fn a_bank_holiday_moves_the_date_to_the_next_working_day() {
        // Received Friday 25 April 2025 → Sunday 25 May... use 26 April 2026 (a Sunday receipt
        // is still day 1): due Tuesday 26 May 2026? 25 May 2026 is the spring bank holiday.
        let Due::On(d) = due(date(2026, 4, 25), &[], false, &england()) else {
            panic!()
        };
        assert_eq!(d.month_end, date(2026, 5, 25));
        assert_eq!(d.date, date(2026, 5, 26));
        assert_eq!(d.moved_for(&england()), Some("a bank holiday"));
        // Christmas: received 25 November 2026 → Friday 25 December → Christmas, then Boxing
        // Day (Saturday), its substitute Monday 28 December → Tuesday 29 December.
        assert_eq!(
            on(due(date(2026, 11, 25), &[], false, &england())),
            date(2026, 12, 29)
        );
        // New Year's Day 2027 is a Friday.
        assert_eq!(
            on(due(date(2026, 12, 1), &[], false, &england())),
            date(2027, 1, 4)
        );
    }

    #[test]
    fn the_nations_bank_holidays_differ() {
        // 2 January 2027 (a Saturday) → Monday 4 January in England; in Scotland 4 January
        // 2027 is the substitute for 2 January, so Tuesday 5 January.
        assert_eq!(
            on(due(date(2026, 12, 2), &[], false, &england())),
            date(2027, 1, 4)
        );
        assert_eq!(
            on(due(date(2026, 12, 2), &[], false, &scotland())),
            date(2027, 1, 5)
        );
        // The summer bank holiday: last Monday of August in England (31 August 2026), first
        // Monday in Scotland (3 August 2026).
        assert_eq!(
            on(due(date(2026, 7, 31), &[], false, &england())),
            date(2026, 9, 1)
        );
        assert_eq!(
            on(due(date(2026, 7, 31), &[], false, &scotland())),
            date(2026, 8, 31)
        );
        assert_eq!(
            on(due(date(2026, 7, 3), &[], false, &scotland())),
            date(2026, 8, 4)
        );
    }

    #[test]
    fn paused_days_are_added_and_an_open_pause_has_no_date() {
        let received = date(2026, 3, 2);
        // Paused 4 March until 11 March: seven days.
        let pauses = [closed(date(2026, 3, 4), date(2026, 3, 11))];
        let Due::On(d) = due(received, &pauses, false, &england()) else {
            panic!()
        };
        assert_eq!(d.month_end, date(2026, 4, 2));
        assert_eq!(d.paused_days, 7);
        // 2 April + 7 = Thursday 9 April 2026.
        assert_eq!(d.date, date(2026, 4, 9));
        // Two pauses add up; landing on Good Friday (3 April 2026) and Easter Monday (6 April)
        // moves it to Tuesday 7 April.
        let pauses = [
            closed(date(2026, 3, 3), date(2026, 3, 3)),
            Pause {
                reason: PauseReason::Clarification,
                started_on: date(2026, 3, 10),
                ended_on: Some(date(2026, 3, 11)),
            },
        ];
        let Due::On(d) = due(received, &pauses, false, &england()) else {
            panic!()
        };
        assert_eq!(d.paused_days, 1);
        assert_eq!(d.before_moving, date(2026, 4, 3));
        assert_eq!(d.date, date(2026, 4, 7));
        // An open pause: no date until the clock restarts.
        let open = [Pause {
            reason: PauseReason::Clarification,
            started_on: date(2026, 3, 20),
            ended_on: None,
        }];
        assert_eq!(
            due(received, &open, false, &england()),
            Due::Paused {
                since: date(2026, 3, 20),
                reason: PauseReason::Clarification
            }
        );
    }

    #[test]
    fn an_extension_makes_it_three_months_from_receipt() {
        // 3 January 2026 → 3 April 2026 is Good Friday → Easter Monday → Tuesday 7 April.
        let Due::On(d) = due(date(2026, 1, 3), &[], true, &england()) else {
            panic!()
        };
        assert_eq!(d.month_end, date(2026, 4, 3));
        assert_eq!(d.date, date(2026, 4, 7));
        assert!(d.extended);
        // 30 November 2027 → 29 February 2028 (leap) → a Tuesday.
        assert_eq!(
            on(due(date(2027, 11, 30), &[], true, &england())),
            date(2028, 2, 29)
        );
        // 30 November 2026 → 28 February 2027 (a Sunday) → Monday 1 March.
        assert_eq!(
            on(due(date(2026, 11, 30), &[], true, &england())),
            date(2027, 3, 1)
        );
        // With a pause of ten days: 3 April + 10 = Monday 13 April.
        let pauses = [closed(date(2026, 1, 5), date(2026, 1, 15))];
        assert_eq!(
            on(due(date(2026, 1, 3), &pauses, true, &england())),
            date(2026, 4, 13)
        );
    }

    #[test]
    fn an_extension_is_told_within_the_first_month() {
        let cal = england();
        let received = date(2026, 1, 3);
        // Due 3 February: telling on 3 February is in time, on 4 February too late.
        assert!(check_extension(received, &[], &cal, date(2026, 2, 3), date(2026, 2, 10)).is_ok());
        let late = check_extension(received, &[], &cal, date(2026, 2, 4), date(2026, 2, 10));
        assert_eq!(late.unwrap_err().errors[0].field, "told_on");
        // A pause pushes the first month on.
        let pauses = [closed(date(2026, 1, 5), date(2026, 1, 8))];
        assert!(
            check_extension(received, &pauses, &cal, date(2026, 2, 6), date(2026, 2, 10)).is_ok()
        );
        // Not in the future, not before receipt, not while paused.
        assert!(
            check_extension(received, &[], &cal, date(2026, 1, 20), date(2026, 1, 10)).is_err()
        );
        assert!(check_extension(received, &[], &cal, date(2026, 1, 2), date(2026, 1, 10)).is_err());
        let open = [Pause {
            reason: PauseReason::Identity,
            started_on: date(2026, 1, 4),
            ended_on: None,
        }];
        assert!(
            check_extension(received, &open, &cal, date(2026, 1, 5), date(2026, 1, 10)).is_err()
        );
    }

    #[test]
    fn pauses_start_and_end_in_order() {
        let received = date(2026, 3, 2);
        let today = date(2026, 3, 20);
        assert!(check_pause_start(received, date(2026, 3, 2), today, &[]).is_ok());
        assert!(check_pause_start(received, date(2026, 3, 1), today, &[]).is_err());
        assert!(check_pause_start(received, date(2026, 3, 21), today, &[]).is_err());
        let open = [Pause {
            reason: PauseReason::Identity,
            started_on: date(2026, 3, 4),
            ended_on: None,
        }];
        assert!(check_pause_start(received, date(2026, 3, 10), today, &open).is_err());
        let done = [closed(date(2026, 3, 4), date(2026, 3, 11))];
        assert!(check_pause_start(received, date(2026, 3, 10), today, &done).is_err());
        assert!(check_pause_start(received, date(2026, 3, 11), today, &done).is_ok());
        assert!(check_pause_end(&open[0], date(2026, 3, 3), today).is_err());
        assert!(check_pause_end(&open[0], date(2026, 3, 21), today).is_err());
        assert!(check_pause_end(&open[0], date(2026, 3, 4), today).is_ok());
        assert_eq!(closed(date(2026, 3, 4), date(2026, 3, 4)).days(), Some(0));
    }

    // ----- requests and checks -----

    #[test]
    fn a_request_names_its_requester() {
        let today = date(2026, 3, 10);
        let base = RequestInput {
            requester_kind: "young-person".into(),
            received_on: "09/03/2026".into(),
            how_received: "Letter".into(),
            ..RequestInput::default()
        };
        let r = parse_request(&base, today).unwrap();
        assert_eq!(r.kind, RequesterKind::YoungPerson);
        assert_eq!(r.received_on, date(2026, 3, 9));
        // A parent needs the carer.
        let parent = RequestInput {
            requester_kind: "parental-responsibility".into(),
            ..base.clone()
        };
        let e = parse_request(&parent, today).unwrap_err();
        assert_eq!(e.errors[0].field, "carer");
        // A representative needs a name, the authority seen and whom they act for.
        let rep = RequestInput {
            requester_kind: "representative".into(),
            ..base.clone()
        };
        let e = parse_request(&rep, today).unwrap_err();
        let fields: Vec<&str> = e.errors.iter().map(|e| e.field.as_str()).collect();
        assert!(fields.contains(&"representative_name"), "{fields:?}");
        assert!(fields.contains(&"authority_seen"), "{fields:?}");
        assert!(fields.contains(&"acting_for"), "{fields:?}");
        let rep = RequestInput {
            representative_name: "A. Solicitor".into(),
            representative_organisation: "Legal & Co".into(),
            authority_seen: "Signed authority from the young person, 1/3/2026".into(),
            acting_for: "young-person".into(),
            ..rep
        };
        let r = parse_request(&rep, today).unwrap();
        assert!(!on_parents_behalf(r.kind, r.representative.as_ref()));
        // Not received in the future; the kind is from the list.
        let future = RequestInput {
            received_on: "11/03/2026".into(),
            ..base.clone()
        };
        assert_eq!(
            parse_request(&future, today).unwrap_err().errors[0].field,
            "received_on"
        );
        let odd = RequestInput {
            requester_kind: "neighbour".into(),
            ..base
        };
        assert_eq!(
            parse_request(&odd, today).unwrap_err().errors[0].field,
            "requester_kind"
        );
    }

    #[test]
    fn checks_need_identity_authority_and_for_a_young_person_of_about_twelve_their_wishes() {
        let by = UserId(uuid::Uuid::now_v7());
        let received = date(2026, 3, 2);
        let today = date(2026, 3, 10);
        let input = ChecksInput {
            identity_how: "Passport seen at reception".into(),
            identity_on: "03/03/2026".into(),
            ..ChecksInput::default()
        };
        // The young person: identity alone.
        let c = parse_checks(
            &input,
            RequesterKind::YoungPerson,
            false,
            received,
            today,
            by,
        )
        .unwrap();
        assert!(c.authority.is_none());
        // A parent: authority too.
        let e = parse_checks(
            &input,
            RequesterKind::ParentalResponsibility,
            false,
            received,
            today,
            by,
        )
        .unwrap_err();
        assert_eq!(e.errors[0].field, "authority_how");
        // A child of 12 or more on the day: competence and wishes.
        let dob = date(2014, 3, 2);
        assert!(competence_needed(true, dob, received, 12));
        assert!(!competence_needed(true, dob, date(2026, 3, 1), 12));
        assert!(!competence_needed(false, dob, received, 12));
        let full = ChecksInput {
            authority_how: "Birth certificate names her as mother".into(),
            authority_on: "03/03/2026".into(),
            ..input.clone()
        };
        let e = parse_checks(
            &full,
            RequesterKind::ParentalResponsibility,
            true,
            received,
            today,
            by,
        )
        .unwrap_err();
        let fields: Vec<&str> = e.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["competence", "wishes"]);
        let full = ChecksInput {
            competence: "Understands what a request is and what it would show".into(),
            wishes: "Does not want her mother to see her own words".into(),
            ..full
        };
        let c = parse_checks(
            &full,
            RequesterKind::ParentalResponsibility,
            true,
            received,
            today,
            by,
        )
        .unwrap();
        assert!(c.competence.is_some() && c.authority.is_some());
        // Days between receipt and today.
        let early = ChecksInput {
            identity_on: "01/03/2026".into(),
            ..input.clone()
        };
        assert!(
            parse_checks(
                &early,
                RequesterKind::YoungPerson,
                false,
                received,
                today,
                by
            )
            .is_err()
        );
        let late = ChecksInput {
            identity_on: "11/03/2026".into(),
            ..input
        };
        assert!(
            parse_checks(
                &late,
                RequesterKind::YoungPerson,
                false,
                received,
                today,
                by
            )
            .is_err()
        );
    }

    // ----- who reaches what -----

    #[test]
    fn the_matrix_row_for_subject_access_files() {
        let none = RegistrationBody::None;
        let admin = reach(&user(&[Role::Administrator], none));
        assert!(admin.sees_requests && admin.logs && admin.names_reviewer && admin.closes);
        assert!(!admin.reads_file && !admin.releases && !admin.reviews_safeguarding);
        let lead = reach(&user(&[Role::ServiceLead], none));
        assert!(lead.reads_file && lead.releases && lead.names_reviewer && !lead.logs);
        assert!(!lead.reviews_safeguarding);
        for role in [Role::Dsl, Role::DeputyDsl] {
            let dsl = reach(&user(&[role], none));
            assert!(dsl.reviews_safeguarding && dsl.sees_requests);
            assert!(!dsl.reads_file && !dsl.releases && !dsl.logs && !dsl.names_reviewer);
        }
        for role in [Role::Therapist, Role::Supervisor, Role::Staff] {
            assert_eq!(reach(&user(&[role], none)), Reach::default(), "{role:?}");
        }
        let mut gone = user(&[Role::ServiceLead, Role::Administrator], none);
        gone.active = false;
        assert_eq!(reach(&gone), Reach::default());
        // Reviewers are clinicians or safeguarding leads.
        assert!(may_be_reviewer(&user(&[Role::Therapist], none)));
        assert!(!may_be_reviewer(&user(&[Role::Administrator], none)));
        assert!(!may_be_reviewer(&user(&[Role::Staff], none)));
    }

    #[test]
    fn the_reviewers_window_closes_with_time_and_with_the_request() {
        let me = UserId(uuid::Uuid::now_v7());
        let other = UserId(uuid::Uuid::now_v7());
        let now: Timestamp = "2026-03-10T10:00:00Z".parse().unwrap();
        let until: Timestamp = "2026-03-24T10:00:00Z".parse().unwrap();
        assert!(reviewer_may_read(
            Status::InReview,
            Some(me),
            Some(until),
            me,
            now
        ));
        assert!(reviewer_may_read(
            Status::Ready,
            Some(me),
            Some(until),
            me,
            now
        ));
        assert!(!reviewer_may_read(
            Status::InReview,
            Some(me),
            Some(until),
            other,
            now
        ));
        assert!(!reviewer_may_read(
            Status::InReview,
            Some(me),
            Some(until),
            me,
            until
        ));
        for closed in [
            Status::Released,
            Status::Refused,
            Status::Withdrawn,
            Status::Checked,
        ] {
            assert!(
                !reviewer_may_read(closed, Some(me), Some(until), me, now),
                "{closed:?}"
            );
        }
        assert!(!reviewer_may_read(Status::InReview, None, None, me, now));
    }

    #[test]
    fn statuses_round_trip_and_hide_the_dsls_review() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.code()), Ok(s));
            assert!(!s.label().is_empty());
        }
        assert_eq!(Status::DslReview.without_safeguarding(), Status::InReview);
        assert_eq!(Status::Ready.without_safeguarding(), Status::Ready);
        assert!(Status::Paused.is_open() && Status::Ready.is_open());
        assert!(!Status::Released.is_open() && !Status::Withdrawn.is_open());
        assert_eq!(Status::after_pause(false, false), Status::Logged);
        assert_eq!(Status::after_pause(true, false), Status::Checked);
        assert_eq!(Status::after_pause(true, true), Status::InReview);
        for k in ItemKind::ALL {
            assert_eq!(ItemKind::parse(k.code()), Ok(k));
        }
        assert!(ItemKind::ConcernStep.is_safeguarding());
        assert_eq!(ItemKind::ProcessNote.class(), RecordClass::ProcessNotes);
        assert_eq!(ItemKind::Carer.class(), RecordClass::Identity);
    }

    // ----- decisions and redaction -----

    #[test]
    fn decisions_need_their_reasons() {
        let disclose = DecisionInput {
            decision: "disclose".into(),
            ..DecisionInput::default()
        };
        assert_eq!(
            parse_decision(&disclose, false, false).unwrap().decision,
            Decision::Disclose
        );
        let withhold = DecisionInput {
            decision: "withhold".into(),
            ..DecisionInput::default()
        };
        assert_eq!(
            parse_decision(&withhold, false, false).unwrap_err().errors[0].field,
            "reason"
        );
        // Other needs words.
        let other = DecisionInput {
            reason: "other".into(),
            ..withhold.clone()
        };
        assert_eq!(
            parse_decision(&other, false, false).unwrap_err().errors[0].field,
            "words"
        );
        // Given in confidence and child abuse data only on a parent's request.
        for code in ["given-in-confidence", "child-abuse-data"] {
            let input = DecisionInput {
                reason: code.into(),
                ..withhold.clone()
            };
            assert!(parse_decision(&input, false, false).is_err(), "{code}");
            assert!(parse_decision(&input, true, false).is_ok(), "{code}");
        }
        // Serious harm needs the opinion recorded first.
        let harm = DecisionInput {
            reason: "serious-harm".into(),
            ..withhold
        };
        assert!(parse_decision(&harm, false, false).is_err());
        assert_eq!(
            parse_decision(&harm, false, true).unwrap().reason,
            Some(Reason::SeriousHarm)
        );
        // A redaction needs its passages.
        let redact = DecisionInput {
            decision: "redact".into(),
            reason: "third-party".into(),
            ..DecisionInput::default()
        };
        assert_eq!(
            parse_decision(&redact, false, false).unwrap_err().errors[0].field,
            "passages"
        );
        let redact = DecisionInput {
            passages: "Mum's new partner\r\n\r\n  lives at 4 Elm Road  ".into(),
            ..redact
        };
        assert_eq!(
            parse_decision(&redact, false, false).unwrap().passages,
            ["Mum's new partner", "lives at 4 Elm Road"]
        );
        for r in Reason::ALL {
            assert_eq!(Reason::parse(r.code()), Ok(r));
            assert!(!r.general_terms().is_empty());
        }
    }

    #[test]
    fn redaction_removes_every_occurrence_whatever_its_case_and_line_breaks() {
        let text = "She said Mum's new partner shouts.\nLater: mum's new\npartner left.";
        let out = redact(text, &["Mum's new partner".to_owned()]);
        assert_eq!(out, "She said [redacted] shouts.\nLater: [redacted] left.");
        assert!(!out.to_lowercase().contains("partner"));
        // Overlapping passages become one.
        let out = redact(
            "one two three four",
            &["two three".to_owned(), "three four".to_owned()],
        );
        assert_eq!(out, "one [redacted]");
        // Non-ASCII text keeps its characters around the passage.
        let out = redact("Ŵyn said Dŵr is ŵ", &["dŵr".to_owned()]);
        assert_eq!(out, "Ŵyn said [redacted] is ŵ");
        // Nothing to remove: unchanged.
        assert_eq!(redact("plain", &["absent".to_owned()]), "plain");
        // A passage missing from the item is reported.
        let passages = ["shouts".to_owned(), "absent".to_owned()];
        assert_eq!(
            missing_passages(&[text, "other"], &passages),
            [&passages[1]]
        );
    }

    #[test]
    fn a_digest_notices_a_changed_item() {
        assert_eq!(digest(&["a", "b"]), digest(&["a", "b"]));
        assert_ne!(digest(&["a", "b"]), digest(&["ab", ""]));
        assert_eq!(digest(&[]).len(), 64);
    }

    // ----- the serious-harm opinion -----

    #[test]
    fn the_opinion_comes_from_an_appropriate_health_professional() {
        use RegistrationBody as R;
        for body in [R::Gmc, R::Nmc, R::Hcpc, R::AcpChildPsychotherapist] {
            assert!(appropriate_health_professional(body), "{body:?}");
        }
        for body in [
            R::Bacp,
            R::Ukcp,
            R::Bapt,
            R::SocialWorkEngland,
            R::Teacher,
            R::None,
            R::Other,
        ] {
            assert!(!appropriate_health_professional(body), "{body:?}");
        }
        let today = date(2026, 3, 10);
        let me = UserId(uuid::Uuid::now_v7());
        let psychotherapist = user(&[Role::Therapist], R::AcpChildPsychotherapist);
        let input = OpinionInput {
            from: "staff".into(),
            staff: psychotherapist.id.to_string(),
            given_on: "09/03/2026".into(),
            opinion: "Disclosing the drawings would be likely to cause serious harm".into(),
            ..OpinionInput::default()
        };
        let o = parse_opinion(&input, Some(&psychotherapist), today, me).unwrap();
        assert!(matches!(
            o.from,
            OpinionFrom::Staff {
                registration: R::AcpChildPsychotherapist,
                ..
            }
        ));
        // A play therapist (BAPT) is not: an outside opinion is recorded instead.
        let play = user(&[Role::Therapist], R::Bapt);
        assert_eq!(
            parse_opinion(&input, Some(&play), today, me)
                .unwrap_err()
                .errors[0]
                .field,
            "staff"
        );
        let outside = OpinionInput {
            from: "outside".into(),
            name: "Dr R. Patel".into(),
            profession: "Consultant child psychiatrist".into(),
            registration: "GMC 7654321".into(),
            ..input.clone()
        };
        assert!(matches!(
            parse_opinion(&outside, None, today, me).unwrap().from,
            OpinionFrom::Outside { .. }
        ));
        let future = OpinionInput {
            given_on: "11/03/2026".into(),
            ..outside
        };
        assert_eq!(
            parse_opinion(&future, None, today, me).unwrap_err().errors[0].field,
            "given_on"
        );
    }

    #[test]
    fn settings_are_bounded() {
        assert_eq!(Settings::parse("14", "12"), Ok(Settings::default()));
        assert!(Settings::parse("0", "12").is_err());
        assert!(Settings::parse("61", "12").is_err());
        assert!(Settings::parse("14", "9").is_err());
        assert!(Settings::parse("x", "12").is_err());
    }
}
