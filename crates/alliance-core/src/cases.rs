//! Cases: episodes of work with a child, from referral to closure, and the case team (lead
//! therapist, co-worker, parent-worker; cover as a dated membership). A re-referral opens a
//! new case on the same child; a child has at most one open case.

use crate::children::ChildId;
use crate::directory::uuid_id;
use crate::error::{Invalid, Validator, parse_date, parse_optional_date, parse_optional_text};
use crate::identity::UserId;
use crate::version::Version;
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

uuid_id!(CaseId, "a case");
uuid_id!(MembershipId, "a team membership");

/// Who referred the child.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReferralSource {
    School,
    Gp,
    ParentOrCarer,
    SelfReferral,
    SocialCare,
    Camhs,
    Other,
}

impl ReferralSource {
    pub const ALL: [ReferralSource; 7] = [
        ReferralSource::School,
        ReferralSource::Gp,
        ReferralSource::ParentOrCarer,
        ReferralSource::SelfReferral,
        ReferralSource::SocialCare,
        ReferralSource::Camhs,
        ReferralSource::Other,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ReferralSource::School => "school",
            ReferralSource::Gp => "gp",
            ReferralSource::ParentOrCarer => "parent-or-carer",
            ReferralSource::SelfReferral => "self",
            ReferralSource::SocialCare => "social-care",
            ReferralSource::Camhs => "camhs",
            ReferralSource::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ReferralSource::School => "School",
            ReferralSource::Gp => "GP",
            ReferralSource::ParentOrCarer => "Parent or carer",
            ReferralSource::SelfReferral => "The young person themselves",
            ReferralSource::SocialCare => "Children's social care",
            ReferralSource::Camhs => "CAMHS",
            ReferralSource::Other => "Other",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|s| s.code() == code.trim())
            .ok_or_else(|| {
                format!(
                    "Choose a referral source from: {}",
                    Self::ALL.map(Self::code).join(", ")
                )
            })
    }
}

/// A case's editable details, once validated. The referral reason is clinical content:
/// sealed, and never shown to administrators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseDetails {
    pub referral_source: ReferralSource,
    pub referral_received: Date,
    pub first_seen: Option<Date>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct CaseInput {
    pub referral_source: String,
    pub referral_received: String,
    pub first_seen: String,
    /// `None` when the reason was not sent at all (it is then left as it is); an empty
    /// string clears it.
    pub referral_reason: Option<String>,
}

impl CaseDetails {
    /// The details and the referral reason: `None` when it was not sent, `Some(None)` when
    /// sent empty.
    #[allow(clippy::type_complexity)]
    pub fn parse(
        input: &CaseInput,
        today: Date,
    ) -> Result<(Self, Option<Option<String>>), Invalid> {
        let mut v = Validator::new();
        let source = v.check(
            "referral_source",
            ReferralSource::parse(&input.referral_source),
        );
        let received = v.check(
            "referral_received",
            parse_date(&input.referral_received).and_then(|d| {
                if d > today {
                    Err("The referral cannot have been received in the future".to_owned())
                } else {
                    Ok(d)
                }
            }),
        );
        let first_seen = v.check(
            "first_seen",
            parse_optional_date(&input.first_seen).and_then(|d| match (d, received) {
                (Some(d), _) if d > today => {
                    Err("The first session cannot be in the future".to_owned())
                }
                (Some(d), Some(r)) if d < r => {
                    Err("The child cannot be first seen before the referral arrived".to_owned())
                }
                (d, _) => Ok(d),
            }),
        );
        let reason = v.check(
            "referral_reason",
            input
                .referral_reason
                .as_deref()
                .map(|r| parse_optional_text(r, 4000))
                .transpose(),
        );
        v.finish()?;
        match (source, received, first_seen, reason) {
            (Some(referral_source), Some(referral_received), Some(first_seen), Some(reason)) => {
                Ok((
                    Self {
                        referral_source,
                        referral_received,
                        first_seen,
                    },
                    reason,
                ))
            }
            _ => Err(Invalid::field(
                "referral_source",
                "Enter the referral's details",
            )),
        }
    }
}

/// Where a case stands: derived from its dates, never set by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CaseStatus {
    /// Referred, not yet seen.
    Referred,
    Active,
    Closed,
}

impl CaseStatus {
    pub fn code(self) -> &'static str {
        match self {
            CaseStatus::Referred => "referred",
            CaseStatus::Active => "active",
            CaseStatus::Closed => "closed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CaseStatus::Referred => "Referred, not yet seen",
            CaseStatus::Active => "Active",
            CaseStatus::Closed => "Closed",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        match code.trim() {
            "referred" => Ok(Self::Referred),
            "active" => Ok(Self::Active),
            "closed" => Ok(Self::Closed),
            _ => Err("Choose referred, active or closed".to_owned()),
        }
    }
}

/// Why a case closed. Planned endings are prepared for (a countdown of sessions); unplanned
/// ones are not, and the difference matters to the child.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClosureReason {
    /// Planned: the work reached an agreed ending.
    PlannedEnding,
    /// Planned: moved on to another service, with a handover.
    PlannedTransfer,
    /// Unplanned: the child or family stopped coming.
    Disengaged,
    /// Unplanned: consent withdrawn (the record is kept: policy section 3).
    ConsentWithdrawn,
    /// Unplanned: moved away or changed school.
    MovedAway,
    /// Unplanned: anything else.
    OtherUnplanned,
}

impl ClosureReason {
    pub const ALL: [ClosureReason; 6] = [
        ClosureReason::PlannedEnding,
        ClosureReason::PlannedTransfer,
        ClosureReason::Disengaged,
        ClosureReason::ConsentWithdrawn,
        ClosureReason::MovedAway,
        ClosureReason::OtherUnplanned,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ClosureReason::PlannedEnding => "planned-ending",
            ClosureReason::PlannedTransfer => "planned-transfer",
            ClosureReason::Disengaged => "disengaged",
            ClosureReason::ConsentWithdrawn => "consent-withdrawn",
            ClosureReason::MovedAway => "moved-away",
            ClosureReason::OtherUnplanned => "other-unplanned",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ClosureReason::PlannedEnding => "Planned: an agreed ending",
            ClosureReason::PlannedTransfer => "Planned: moved on to another service",
            ClosureReason::Disengaged => "Unplanned: stopped coming",
            ClosureReason::ConsentWithdrawn => "Unplanned: consent withdrawn",
            ClosureReason::MovedAway => "Unplanned: moved away or changed school",
            ClosureReason::OtherUnplanned => "Unplanned: another reason",
        }
    }

    pub fn is_planned(self) -> bool {
        matches!(
            self,
            ClosureReason::PlannedEnding | ClosureReason::PlannedTransfer
        )
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|r| r.code() == code.trim())
            .ok_or_else(|| {
                format!(
                    "Choose a reason from: {}",
                    Self::ALL.map(Self::code).join(", ")
                )
            })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closure {
    pub closed_on: Date,
    pub reason: ClosureReason,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ClosureInput {
    pub closed_on: String,
    pub reason: String,
    pub summary: String,
}

impl Closure {
    /// The closure and its summary (which is required: the next therapist reads it).
    pub fn parse(
        input: &ClosureInput,
        referral_received: Date,
        today: Date,
    ) -> Result<(Self, String), Invalid> {
        let mut v = Validator::new();
        let closed_on = v.check(
            "closed_on",
            parse_date(&input.closed_on).and_then(|d| {
                if d > today {
                    Err("A case cannot be closed in the future".to_owned())
                } else if d < referral_received {
                    Err("A case cannot close before its referral arrived".to_owned())
                } else {
                    Ok(d)
                }
            }),
        );
        let reason = v.check("reason", ClosureReason::parse(&input.reason));
        let summary = v.check(
            "summary",
            parse_optional_text(&input.summary, 8000).and_then(|s| {
                s.ok_or_else(|| "Write a closing summary for whoever reads this next".to_owned())
            }),
        );
        v.finish()?;
        match (closed_on, reason, summary) {
            (Some(closed_on), Some(reason), Some(summary)) => {
                Ok((Self { closed_on, reason }, summary))
            }
            _ => Err(Invalid::field("closed_on", "Enter the closure's details")),
        }
    }
}

/// A member's place on a case team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TeamRole {
    Lead,
    CoWorker,
    ParentWorker,
    /// Covers for an absent member between two dates.
    Cover,
}

impl TeamRole {
    pub const ALL: [TeamRole; 4] = [
        TeamRole::Lead,
        TeamRole::CoWorker,
        TeamRole::ParentWorker,
        TeamRole::Cover,
    ];

    pub fn code(self) -> &'static str {
        match self {
            TeamRole::Lead => "lead",
            TeamRole::CoWorker => "co-worker",
            TeamRole::ParentWorker => "parent-worker",
            TeamRole::Cover => "cover",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            TeamRole::Lead => "Lead therapist",
            TeamRole::CoWorker => "Co-worker",
            TeamRole::ParentWorker => "Parent-worker",
            TeamRole::Cover => "Cover",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|r| r.code() == code.trim())
            .ok_or_else(|| "Choose lead, co-worker, parent-worker or cover".to_owned())
    }
}

/// One person's membership of a case team, from `starts_on` until the day before `ends_on`
/// (`ends_on` is the first day they are no longer on the team).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub id: MembershipId,
    pub case_id: CaseId,
    pub user_id: UserId,
    pub role: TeamRole,
    pub starts_on: Date,
    pub ends_on: Option<Date>,
}

impl Membership {
    pub fn is_current(&self, today: Date) -> bool {
        self.starts_on <= today && self.ends_on.is_none_or(|end| today < end)
    }
}

/// A case as stored, with its team (every membership, past and present).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub id: CaseId,
    pub child_id: ChildId,
    /// The service's case number, shown to supervisors instead of the child's name.
    pub number: i64,
    pub details: CaseDetails,
    pub closure: Option<Closure>,
    pub team: Vec<Membership>,
    pub version: Version,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Case {
    pub fn status(&self) -> CaseStatus {
        if self.closure.is_some() {
            CaseStatus::Closed
        } else if self.details.first_seen.is_some() {
            CaseStatus::Active
        } else {
            CaseStatus::Referred
        }
    }

    pub fn is_open(&self) -> bool {
        self.closure.is_none()
    }

    /// `C00042`: short enough to say aloud in supervision.
    pub fn number_label(&self) -> String {
        case_number_label(self.number)
    }

    /// The memberships current on `today`.
    pub fn current_team(&self, today: Date) -> impl Iterator<Item = &Membership> {
        self.team.iter().filter(move |m| m.is_current(today))
    }

    pub fn current_lead(&self, today: Date) -> Option<&Membership> {
        self.current_team(today).find(|m| m.role == TeamRole::Lead)
    }

    /// Checks a new membership against the team: one lead at a time (a change of lead is a
    /// transfer), nobody twice in the same role at once, cover with an end date.
    pub fn check_new_member(
        &self,
        user: UserId,
        role: TeamRole,
        starts_on: Date,
        ends_on: Option<Date>,
        today: Date,
    ) -> Result<(), Invalid> {
        if !self.is_open() {
            return Err(Invalid::field(
                "role",
                "This case is closed: open a new case for a re-referral",
            ));
        }
        if ends_on.is_some_and(|end| end <= starts_on) {
            return Err(Invalid::field(
                "ends_on",
                "The end date must be after the start date",
            ));
        }
        if role == TeamRole::Cover && ends_on.is_none() {
            return Err(Invalid::field("ends_on", "Cover needs an end date"));
        }
        if role == TeamRole::Lead && self.current_lead(today.max(starts_on)).is_some() {
            return Err(Invalid::field(
                "role",
                "This case has a lead therapist: transfer the case to change the lead",
            ));
        }
        let overlaps = self.team.iter().any(|m| {
            m.user_id == user
                && m.role == role
                && m.ends_on.is_none_or(|end| starts_on < end)
                && ends_on.is_none_or(|end| m.starts_on < end)
        });
        if overlaps {
            return Err(Invalid::field(
                "user",
                "This person already has this role on the team for those dates",
            ));
        }
        Ok(())
    }
}

pub fn case_number_label(number: i64) -> String {
    format!("C{number:05}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use uuid::Uuid;

    fn case_with(team: Vec<Membership>) -> Case {
        Case {
            id: CaseId(Uuid::nil()),
            child_id: ChildId(Uuid::nil()),
            number: 42,
            details: CaseDetails {
                referral_source: ReferralSource::School,
                referral_received: date(2026, 9, 10),
                first_seen: None,
            },
            closure: None,
            team,
            version: Version::FIRST,
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
        }
    }

    fn member(user: u128, role: TeamRole, starts: Date, ends: Option<Date>) -> Membership {
        Membership {
            id: MembershipId(Uuid::from_u128(user + 1000)),
            case_id: CaseId(Uuid::nil()),
            user_id: UserId(Uuid::from_u128(user)),
            role,
            starts_on: starts,
            ends_on: ends,
        }
    }

    #[test]
    fn status_follows_the_dates() {
        let mut case = case_with(vec![]);
        assert_eq!(case.status(), CaseStatus::Referred);
        case.details.first_seen = Some(date(2026, 9, 20));
        assert_eq!(case.status(), CaseStatus::Active);
        case.closure = Some(Closure {
            closed_on: date(2026, 11, 1),
            reason: ClosureReason::PlannedEnding,
        });
        assert_eq!(case.status(), CaseStatus::Closed);
        assert_eq!(case.number_label(), "C00042");
    }

    #[test]
    fn cover_is_current_only_between_its_dates() {
        let cover = member(
            2,
            TeamRole::Cover,
            date(2026, 11, 2),
            Some(date(2026, 11, 16)),
        );
        assert!(!cover.is_current(date(2026, 11, 1)));
        assert!(cover.is_current(date(2026, 11, 2)));
        assert!(cover.is_current(date(2026, 11, 15)));
        assert!(!cover.is_current(date(2026, 11, 16)));
    }

    #[test]
    fn a_case_has_one_lead_at_a_time() {
        let today = date(2026, 11, 30);
        let case = case_with(vec![member(1, TeamRole::Lead, date(2026, 9, 10), None)]);
        let second_lead = case.check_new_member(
            UserId(Uuid::from_u128(2)),
            TeamRole::Lead,
            today,
            None,
            today,
        );
        assert!(second_lead.is_err());
        assert!(
            case.check_new_member(
                UserId(Uuid::from_u128(2)),
                TeamRole::CoWorker,
                today,
                None,
                today
            )
            .is_ok()
        );
        assert!(
            case.check_new_member(
                UserId(Uuid::from_u128(2)),
                TeamRole::Cover,
                today,
                None,
                today
            )
            .is_err(),
            "cover needs an end"
        );
        assert!(
            case.check_new_member(
                UserId(Uuid::from_u128(1)),
                TeamRole::Lead,
                today,
                Some(date(2027, 1, 1)),
                today
            )
            .is_err()
        );
    }

    #[test]
    fn case_details_check_their_dates() {
        let today = date(2026, 11, 30);
        let input = CaseInput {
            referral_source: "gp".into(),
            referral_received: "01/10/2026".into(),
            first_seen: "15/09/2026".into(),
            referral_reason: Some("Low mood since a family bereavement".into()),
        };
        let err = CaseDetails::parse(&input, today).err();
        assert_eq!(
            err.map(|e| e.errors.into_iter().map(|f| f.field).collect::<Vec<_>>()),
            Some(vec!["first_seen".to_owned()])
        );
        let ok = CaseDetails::parse(
            &CaseInput {
                first_seen: String::new(),
                ..input
            },
            today,
        );
        assert!(ok.is_ok_and(|(_, reason)| reason.flatten().is_some()));
    }

    #[test]
    fn a_closure_needs_a_summary_and_a_sensible_date() {
        let today = date(2026, 11, 30);
        let input = ClosureInput {
            closed_on: "01/12/2026".into(),
            reason: "planned-ending".into(),
            summary: " ".into(),
        };
        let err = Closure::parse(&input, date(2026, 9, 1), today).err();
        assert_eq!(
            err.map(|e| e.errors.into_iter().map(|f| f.field).collect::<Vec<_>>()),
            Some(vec!["closed_on".to_owned(), "summary".to_owned()])
        );
        assert!(ClosureReason::PlannedEnding.is_planned());
        assert!(!ClosureReason::Disengaged.is_planned());
    }
}
