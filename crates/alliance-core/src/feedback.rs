//! Feedback on single-use links (issue 17, helper B): the child's kiosk link for a session,
//! who may open one, and how a young child's self-report is shown beside the therapist's rating.

use serde::{Deserialize, Serialize};

use crate::access::{Access, ChildData, Limit, Standing, child_access};
use crate::error::{Invalid, Validator};
use crate::identity::{User, UserId};
use crate::measures::{Definition, Respondent};
use crate::schedule::BookingId;
use jiff::civil::Date;

/// How long single-use feedback links last: a service setting (policy section 6; the issue's
/// default for the child's kiosk link is two hours).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeedbackSettings {
    /// The child's kiosk link, in minutes (10 to 480).
    pub kiosk_minutes: u32,
    /// A carer's link, in days (1 to 28).
    pub carer_link_days: u32,
}

impl Default for FeedbackSettings {
    fn default() -> Self {
        Self {
            kiosk_minutes: 120,
            carer_link_days: 7,
        }
    }
}

impl FeedbackSettings {
    pub fn check(&self) -> Result<(), Invalid> {
        let mut v = Validator::default();
        if !(10..=480).contains(&self.kiosk_minutes) {
            v.check::<()>(
                "kiosk_minutes",
                Err("Give between 10 and 480 minutes.".into()),
            );
        }
        if !(1..=28).contains(&self.carer_link_days) {
            v.check::<()>("carer_link_days", Err("Give between 1 and 28 days.".into()));
        }
        v.finish()
    }
}

/// The prefix of a feedback link's token (the child's kiosk link and a carer's link).
pub const LINK_PREFIX: &str = "fb_";

/// A new feedback link token from 32 random bytes.
pub fn new_link_token(random: [u8; 32]) -> String {
    crate::auth::new_secret(LINK_PREFIX, random)
}

/// The token if `text` could be a feedback link's token at all (nothing is looked up for
/// anything else).
pub fn link_token(text: &str) -> Option<&str> {
    let digits = text.strip_prefix(LINK_PREFIX)?;
    (digits.len() == 64
        && digits
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
    .then_some(text)
}

/// Whether `user` may hand the tablet to the child for a session run by `session_therapist`
/// (a kiosk link), or rate that session: only the session's own therapist, and only while they
/// may write the child's clinical record (the lead, a co-worker or cover on the open case).
pub fn may_hand_over(user: &User, standing: &Standing, session_therapist: UserId) -> bool {
    user.id == session_therapist && child_access(user, standing, ChildData::Clinical).may_write()
}

/// The therapist's rating of a session: the same rule as handing over.
pub fn may_rate(user: &User, standing: &Standing, session_therapist: UserId) -> bool {
    may_hand_over(user, standing, session_therapist)
}

/// Which of a child's responses a reader reaches (measures are the clinical record).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseReach {
    /// None: the child's feedback behaves as if it did not exist (404, audited).
    None,
    /// The parent-worker: parent and carer measures only.
    CarersOnly,
    /// Every response (the case team; a supervisor pseudonymised).
    All,
}

impl ResponseReach {
    pub fn sees(self, respondent: Respondent) -> bool {
        match self {
            ResponseReach::None => false,
            ResponseReach::CarersOnly => respondent == Respondent::Carer,
            ResponseReach::All => true,
        }
    }
}

/// What a reader's clinical access opens of the child's responses.
pub fn response_reach(clinical: Access) -> ResponseReach {
    if clinical.may_read() {
        ResponseReach::All
    } else if clinical == Access::Limited(Limit::SharedWithParentWorker) {
        ResponseReach::CarersOnly
    } else {
        ResponseReach::None
    }
}

/// The words the therapist's screens show for a child under a measure's
/// `self_report_caution_under` (never the kiosk).
pub const CAUTION: &str = "Self-report is unreliable at this age. The child's own score is \
     shown beside your rating, in its own column; the two are never combined into one number.";

/// Whether the therapist's screens give the caution: a child younger than `caution_under`.
/// An unknown age is treated as young (the caution errs on the side of saying it).
pub fn self_report_caution(caution_under: Option<u8>, age: Option<u8>) -> bool {
    match (caution_under, age) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some(under), Some(age)) => age < under,
    }
}

/// The child measures that suit a child of `age`, the default first: from the definitions
/// that may be given (`Alliance::measures_for(Respondent::Child, age)`), the child's own
/// (not goal-based) measures whose ages include this child, the narrowest age band first,
/// then Alliance's own check-in before others, then by id.
pub fn child_measures(candidates: &[Definition], age: Option<u8>) -> Vec<&Definition> {
    let mut fit: Vec<&Definition> = candidates
        .iter()
        .filter(|d| d.respondent == Respondent::Child && !d.goal_based && d.suits_age(age))
        .collect();
    let span = |d: &Definition| {
        u16::from(d.max_age.unwrap_or(25)).saturating_sub(u16::from(d.min_age.unwrap_or(0)))
    };
    fit.sort_by(|a, b| {
        span(a)
            .cmp(&span(b))
            .then_with(|| (!a.id.starts_with("alliance-")).cmp(&!b.id.starts_with("alliance-")))
            .then_with(|| a.id.cmp(&b.id))
            .then_with(|| b.version.cmp(&a.version))
    });
    fit
}

/// A score as the therapist's screens show it: the total out of the measure's range, or why
/// it was not scored (never shown as 0).
#[derive(Debug, Clone, PartialEq)]
pub enum Shown {
    Scored { total: f64, min: f64, max: f64 },
    NotScored(String),
}

impl Shown {
    /// `7 (0 to 9)`, or `Not scored: …`.
    pub fn text(&self) -> String {
        match self {
            Shown::Scored { total, min, max } => format!(
                "{} ({} to {})",
                crate::measures::fmt_num(*total),
                crate::measures::fmt_num(*min),
                crate::measures::fmt_num(*max)
            ),
            Shown::NotScored(reason) => format!("Not scored: {reason}"),
        }
    }
}

/// One response, ready to place in the side-by-side table.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub session: Option<BookingId>,
    pub date: Date,
    pub respondent: Respondent,
    /// The measure's name (and version).
    pub measure: String,
    pub shown: Shown,
}

/// One session's row: the child's score and the therapist's rating in their own columns.
/// There is deliberately no combined value.
#[derive(Debug, Clone, PartialEq)]
pub struct SideBySideRow {
    pub session: Option<BookingId>,
    pub date: Date,
    pub child: Option<(String, Shown)>,
    pub therapist: Option<(String, Shown)>,
}

/// The child's responses and the therapist's ratings, a row per session (a response that
/// came through no session, a row per date), oldest first. Carers' responses are not part of
/// this table. Should a column hold two responses for one session, the later one is shown.
pub fn side_by_side(entries: &[Entry]) -> Vec<SideBySideRow> {
    let mut rows: Vec<SideBySideRow> = Vec::new();
    for e in entries {
        let slot = match e.respondent {
            Respondent::Child | Respondent::Therapist => e,
            Respondent::Carer => continue,
        };
        let found = rows.iter_mut().find(|r| match (r.session, slot.session) {
            (Some(a), Some(b)) => a == b,
            (None, None) => r.date == slot.date,
            _ => false,
        });
        let row = match found {
            Some(row) => row,
            None => {
                rows.push(SideBySideRow {
                    session: slot.session,
                    date: slot.date,
                    child: None,
                    therapist: None,
                });
                let last = rows.len() - 1;
                &mut rows[last]
            }
        };
        let cell = Some((slot.measure.clone(), slot.shown.clone()));
        match slot.respondent {
            Respondent::Child => row.child = cell,
            Respondent::Therapist => row.therapist = cell,
            Respondent::Carer => {}
        }
    }
    rows.sort_by_key(|r| r.date);
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Version;
    use crate::cases::TeamRole;
    use crate::identity::{RegistrationBody, Role, Username};
    use jiff::Timestamp;
    use jiff::civil::date;

    fn user(n: u128, roles: &[Role]) -> User {
        User {
            id: UserId(uuid::Uuid::from_u128(n)),
            username: Username::parse("someone").unwrap_or_else(|_| unreachable!()),
            display_name: "Someone".to_owned(),
            roles: roles.to_vec(),
            registration: RegistrationBody::None,
            registration_number: None,
            email: None,
            active: true,
            totp_enrolled: false,
            version: Version::FIRST,
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
        }
    }

    fn on_team(role: TeamRole, open: bool) -> Standing {
        Standing {
            team_roles: vec![role],
            case_open: open,
            ..Standing::none()
        }
    }

    #[test]
    fn tokens_have_the_prefix_and_64_hex_digits() {
        let token = new_link_token([9; 32]);
        assert_eq!(link_token(&token), Some(token.as_str()));
        assert_eq!(link_token("fb_../../etc/passwd"), None);
        assert_eq!(link_token(&token.replace("fb_", "ac_")), None);
        assert_eq!(link_token(&format!("{token}0")), None);
        assert_eq!(link_token(&token.to_uppercase()), None);
    }

    #[test]
    fn only_the_sessions_own_therapist_who_writes_the_record_hands_over() {
        let me = user(1, &[Role::Therapist]);
        let other = user(2, &[Role::Therapist]);
        for role in [TeamRole::Lead, TeamRole::CoWorker, TeamRole::Cover] {
            assert!(may_hand_over(&me, &on_team(role, true), me.id), "{role:?}");
            assert!(may_rate(&me, &on_team(role, true), me.id), "{role:?}");
            // Someone else's session, even on the same team.
            assert!(
                !may_hand_over(&me, &on_team(role, true), other.id),
                "{role:?}"
            );
            // A closed case is read-only.
            assert!(
                !may_hand_over(&me, &on_team(role, false), me.id),
                "{role:?}"
            );
        }
        assert!(!may_hand_over(
            &me,
            &on_team(TeamRole::ParentWorker, true),
            me.id
        ));
        assert!(!may_hand_over(&me, &Standing::none(), me.id));
        for roles in [
            vec![Role::Administrator],
            vec![Role::Staff],
            vec![Role::ServiceLead],
            vec![Role::Dsl],
            vec![Role::Supervisor],
        ] {
            let u = user(3, &roles);
            assert!(!may_hand_over(&u, &Standing::none(), u.id), "{roles:?}");
        }
        let mut inactive = me.clone();
        inactive.active = false;
        assert!(!may_hand_over(
            &inactive,
            &on_team(TeamRole::Lead, true),
            me.id
        ));
    }

    #[test]
    fn responses_are_clinical_record_and_the_parent_worker_sees_carers_only() {
        let t = user(1, &[Role::Therapist]);
        let reach =
            |u: &User, s: &Standing| response_reach(child_access(u, s, ChildData::Clinical));
        assert_eq!(
            reach(&t, &on_team(TeamRole::Lead, true)),
            ResponseReach::All
        );
        assert_eq!(
            reach(&t, &on_team(TeamRole::Lead, false)),
            ResponseReach::All
        );
        let pw = reach(&t, &on_team(TeamRole::ParentWorker, true));
        assert_eq!(pw, ResponseReach::CarersOnly);
        assert!(pw.sees(Respondent::Carer));
        assert!(!pw.sees(Respondent::Child));
        assert!(!pw.sees(Respondent::Therapist));
        assert_eq!(reach(&t, &Standing::none()), ResponseReach::None);
        for roles in [
            vec![Role::Administrator],
            vec![Role::Staff],
            vec![Role::ServiceLead],
            vec![Role::Dsl],
            vec![Role::Supervisor],
        ] {
            let u = user(3, &roles);
            assert_eq!(
                reach(&u, &Standing::none()),
                ResponseReach::None,
                "{roles:?}"
            );
        }
        // The DSL's share is what is linked to a concern: not measures.
        assert_eq!(
            response_reach(Access::Limited(Limit::LinkedToConcern)),
            ResponseReach::None
        );
        assert_eq!(response_reach(Access::Pseudonymised), ResponseReach::All);
    }

    #[test]
    fn the_caution_is_for_children_under_the_measures_age() {
        assert!(self_report_caution(Some(8), Some(5)));
        assert!(self_report_caution(Some(8), Some(7)));
        assert!(!self_report_caution(Some(8), Some(8)));
        assert!(!self_report_caution(Some(8), Some(14)));
        assert!(self_report_caution(Some(8), None));
        assert!(!self_report_caution(None, Some(4)));
    }

    fn entry(session: u128, day: i8, respondent: Respondent, total: f64) -> Entry {
        Entry {
            session: Some(BookingId(uuid::Uuid::from_u128(session))),
            date: date(2026, 11, day),
            respondent,
            measure: "m".into(),
            shown: Shown::Scored {
                total,
                min: 0.0,
                max: 10.0,
            },
        }
    }

    #[test]
    fn side_by_side_keeps_the_child_and_the_therapist_apart() {
        let rows = side_by_side(&[
            entry(2, 10, Respondent::Child, 3.0),
            entry(1, 3, Respondent::Therapist, 8.0),
            entry(1, 3, Respondent::Child, 9.0),
            entry(2, 10, Respondent::Carer, 1.0),
            entry(2, 10, Respondent::Therapist, 6.0),
            entry(3, 17, Respondent::Therapist, 7.0),
        ]);
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].date, date(2026, 11, 3));
        let total = |c: &Option<(String, Shown)>| match c {
            Some((_, Shown::Scored { total, .. })) => Some(*total),
            _ => None,
        };
        assert_eq!(
            (total(&rows[0].child), total(&rows[0].therapist)),
            (Some(9.0), Some(8.0))
        );
        assert_eq!(
            (total(&rows[1].child), total(&rows[1].therapist)),
            (Some(3.0), Some(6.0))
        );
        assert_eq!(
            (total(&rows[2].child), total(&rows[2].therapist)),
            (None, Some(7.0))
        );
    }

    #[test]
    fn a_response_not_scored_says_why_and_never_shows_zero() {
        let shown = Shown::NotScored("too many questions left out".into());
        assert_eq!(shown.text(), "Not scored: too many questions left out");
        assert!(!shown.text().contains('0'));
        let scored = Shown::Scored {
            total: 7.0,
            min: 0.0,
            max: 9.0,
        };
        assert_eq!(scored.text(), "7 (0 to 9)");
    }
}
