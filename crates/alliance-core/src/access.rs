//! The access matrix of policy section 1, per child: what each person may do with each class
//! of a child's data, from their roles and their standing with that child (on the case team,
//! supervising someone who is, or neither). Pure functions: the service layer works out the
//! standing from storage and asks here, for pages, API, lists, search, counts and exports
//! alike.
//!
//! "None" means the record behaves as if it did not exist; the service layer answers a
//! refused read with "not found" and audits it.

use crate::cases::{Case, Membership, TeamRole};
use crate::identity::{Role, User, UserId};
use jiff::civil::Date;

/// A class of a child's data: the rows of the matrix that are about one child.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChildData {
    /// Identity, identifiers, carers, address.
    Identity,
    /// Cases and the case team.
    Cases,
    /// The referral reason (clinical content, unlike the rest of the case).
    ReferralReason,
    /// Schedule and attendance.
    Schedule,
    /// The clinical record: agreement, checklist, session records, measures, goals, ruptures,
    /// incidents, safety plan.
    Clinical,
    /// A therapist's private process notes.
    ProcessNotes,
    /// Contact logs with carers and professionals.
    ContactLogs,
    /// Who may collect, emergency contacts, medical needs, the safety plan's summary.
    EmergencyPanel,
    /// Safeguarding concerns and their workflow.
    Safeguarding,
    /// The audit trail about this child.
    Audit,
}

impl ChildData {
    pub const ALL: [ChildData; 10] = [
        ChildData::Identity,
        ChildData::Cases,
        ChildData::ReferralReason,
        ChildData::Schedule,
        ChildData::Clinical,
        ChildData::ProcessNotes,
        ChildData::ContactLogs,
        ChildData::EmergencyPanel,
        ChildData::Safeguarding,
        ChildData::Audit,
    ];
}

/// The part of a class a person may see when they may see only part of it. Each feature
/// applies its own limit to its records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Limit {
    /// Only what they wrote themselves (process notes).
    AuthorOnly,
    /// Safeguarding: raise a concern; read their own entries, the decisions on them and what
    /// the DSL shares.
    OwnEntries,
    /// The schedule: only sessions they run themselves.
    OwnSessions,
    /// A parent-worker's share of the clinical record: the agreement, parent measures, and
    /// session records the lead shares.
    SharedWithParentWorker,
    /// The DSL's share of the clinical record: what is linked to a concern.
    LinkedToConcern,
    /// An administrator's share of the emergency panel: contacts and medical needs.
    ContactsAndMedical,
    /// An administrator's view of the audit trail: ids and actions, without safeguarding or
    /// allegation rows.
    IdsWithoutSafeguarding,
}

/// How much of a class a person may reach. Ordered: each level includes the ones before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Access {
    None,
    /// Part of the class, as the limit says.
    Limited(Limit),
    /// Read, with the child shown by initials and case number only.
    Pseudonymised,
    Read,
    Write,
}

impl Access {
    pub fn may_read(self) -> bool {
        self >= Access::Pseudonymised
    }

    pub fn may_write(self) -> bool {
        self == Access::Write
    }

    /// Whether the person may know the child exists at all (in lists, search and counts).
    pub fn reveals_existence(self) -> bool {
        self != Access::None
    }
}

/// A supervisor's relation to a child: they supervise someone on the child's current team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SupervisionLink {
    /// The service has enabled named access for this supervision relationship.
    pub named: bool,
}

/// What a person is to one child, worked out from the child's newest case and the
/// supervision relationships.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Standing {
    /// Their current memberships of the team of the child's newest case.
    pub team_roles: Vec<TeamRole>,
    /// Whether that case is still open (closed cases are read-only to the team).
    pub case_open: bool,
    /// Set when they supervise a current member of that team.
    pub supervision: Option<SupervisionLink>,
    /// Set when they hold break-glass access to this child in force now
    /// (`crate::break_glass`): the case team's read rights on top of their roles'.
    pub break_glass: bool,
}

impl Standing {
    pub fn none() -> Self {
        Self::default()
    }

    fn best_team_role(&self) -> Option<TeamRole> {
        // Lead and co-worker (and cover, who stands in for them) outrank the parent-worker.
        let rank = |role: &TeamRole| match role {
            TeamRole::Lead | TeamRole::CoWorker | TeamRole::Cover => 0,
            TeamRole::ParentWorker => 1,
        };
        self.team_roles.iter().copied().min_by_key(rank)
    }
}

/// Works out a person's standing with a child from the child's newest case (`None` when the
/// child has none yet) and the people they supervise (with named access or not).
pub fn standing(
    user: UserId,
    newest_case: Option<&Case>,
    supervisees: &[(UserId, bool)],
    today: Date,
) -> Standing {
    let Some(case) = newest_case else {
        return Standing::none();
    };
    let team: Vec<&Membership> = case.current_team(today).collect();
    let team_roles = team
        .iter()
        .filter(|m| m.user_id == user)
        .map(|m| m.role)
        .collect();
    let supervision = supervisees
        .iter()
        .filter(|(supervisee, _)| team.iter().any(|m| m.user_id == *supervisee))
        .map(|&(_, named)| SupervisionLink { named })
        // Named access through any one supervisee is named access.
        .max_by_key(|link| link.named);
    Standing {
        team_roles,
        case_open: case.is_open(),
        supervision,
        // The service sets it from the grants in force (one indexed query).
        break_glass: false,
    }
}

/// What `user` may do with `data` about a child they stand to as `standing`: the most any
/// of their roles allows.
pub fn child_access(user: &User, standing: &Standing, data: ChildData) -> Access {
    if !user.active {
        return Access::None;
    }
    let own = user
        .roles
        .iter()
        .map(|&role| role_access(role, standing, data))
        .max()
        .unwrap_or(Access::None);
    // Break-glass adds the case team's read rights (never process notes, safeguarding or
    // the audit trail), for those who may ask for it.
    if standing.break_glass && crate::break_glass::may_request(user).is_allowed() {
        own.max(crate::break_glass::access_under_grant(data))
    } else {
        own
    }
}

fn role_access(role: Role, standing: &Standing, data: ChildData) -> Access {
    use Access::{Limited, None, Pseudonymised, Read, Write};
    use ChildData as D;
    match role {
        Role::Therapist => {
            let Some(team_role) = standing.best_team_role() else {
                // Another therapist: no standing with this child.
                return match data {
                    D::Schedule => Limited(Limit::OwnSessions),
                    D::Safeguarding => Limited(Limit::OwnEntries),
                    _ => None,
                };
            };
            // A closed case is read-only to its team.
            let write = if standing.case_open { Write } else { Read };
            match team_role {
                TeamRole::Lead | TeamRole::CoWorker | TeamRole::Cover => match data {
                    D::Identity
                    | D::Cases
                    | D::ReferralReason
                    | D::Schedule
                    | D::Clinical
                    | D::ContactLogs => write,
                    D::ProcessNotes => Limited(Limit::AuthorOnly),
                    D::EmergencyPanel => Read,
                    D::Safeguarding => Limited(Limit::OwnEntries),
                    D::Audit => None,
                },
                TeamRole::ParentWorker => match data {
                    D::Identity | D::Cases | D::ReferralReason | D::Schedule => Read,
                    D::Clinical => Limited(Limit::SharedWithParentWorker),
                    D::ProcessNotes => Limited(Limit::AuthorOnly),
                    D::ContactLogs => write,
                    D::EmergencyPanel => Read,
                    D::Safeguarding => Limited(Limit::OwnEntries),
                    D::Audit => None,
                },
            }
        }
        Role::Supervisor => match (standing.supervision, data) {
            (_, D::Safeguarding) => Limited(Limit::OwnEntries),
            (Some(link), D::Identity) if link.named => Read,
            (
                Some(link),
                D::Cases | D::ReferralReason | D::Schedule | D::Clinical | D::ContactLogs,
            ) => {
                if link.named {
                    Read
                } else {
                    Pseudonymised
                }
            }
            _ => None,
        },
        Role::Dsl | Role::DeputyDsl => match data {
            D::Identity
            | D::Cases
            | D::ReferralReason
            | D::Schedule
            | D::ContactLogs
            | D::EmergencyPanel
            | D::Audit => Read,
            D::Clinical => Limited(Limit::LinkedToConcern),
            D::Safeguarding => Write,
            D::ProcessNotes => None,
        },
        Role::ServiceLead => match data {
            D::Identity
            | D::Cases
            | D::ReferralReason
            | D::Schedule
            | D::EmergencyPanel
            | D::Safeguarding
            | D::Audit => Read,
            D::Clinical | D::ProcessNotes | D::ContactLogs => None,
        },
        Role::Administrator => match data {
            D::Identity | D::Cases | D::Schedule => Write,
            D::EmergencyPanel => Limited(Limit::ContactsAndMedical),
            D::Audit => Limited(Limit::IdsWithoutSafeguarding),
            D::ReferralReason
            | D::Clinical
            | D::ProcessNotes
            | D::ContactLogs
            | D::Safeguarding => None,
        },
        Role::Staff => match data {
            D::Safeguarding => Limited(Limit::OwnEntries),
            _ => None,
        },
    }
}

/// Access to one of the child's cases: the team of the newest case reads the child's earlier
/// cases, but only reads them.
pub fn case_access(user: &User, standing: &Standing, data: ChildData, is_newest: bool) -> Access {
    if is_newest {
        child_access(user, standing, data)
    } else {
        let earlier = Standing {
            case_open: false,
            ..standing.clone()
        };
        child_access(user, &earlier, data)
    }
}

/// Whether the child shows up for this person at all: in lists, search results and counts.
/// Raising a concern (open to everyone) does not make a child visible.
pub fn may_know_child(user: &User, standing: &Standing) -> bool {
    [ChildData::Identity, ChildData::Cases]
        .into_iter()
        .any(|d| child_access(user, standing, d).may_read())
}

/// Whether the person sees the child's name, or only initials and the case number.
pub fn sees_names(user: &User, standing: &Standing) -> bool {
    child_access(user, standing, ChildData::Identity).may_read()
}

/// Which children a person may list, as storage can select them without opening any record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListScope {
    /// Every child (DSL, deputy, service lead, administrator).
    All,
    /// Children whose newest case has them, or someone they supervise, on its current team.
    Connected,
    /// Nobody (staff; a deactivated account).
    Nobody,
}

pub fn list_scope(user: &User) -> ListScope {
    if !user.active {
        return ListScope::Nobody;
    }
    if user.roles.iter().any(|r| {
        matches!(
            r,
            Role::Dsl | Role::DeputyDsl | Role::ServiceLead | Role::Administrator
        )
    }) {
        ListScope::All
    } else if user.has_role(Role::Therapist) || user.has_role(Role::Supervisor) {
        ListScope::Connected
    } else {
        ListScope::Nobody
    }
}

/// Who may add children and open cases: administrators (intake), and the DSL and service
/// lead do not, since their access is read-only.
pub fn may_register_children(user: &User) -> bool {
    user.active && user.has_role(Role::Administrator)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{RegistrationBody, UserId, Username};
    use crate::version::Version;
    use Access::{Limited, None, Pseudonymised, Read, Write};
    use ChildData as D;
    use jiff::Timestamp;

    fn user(roles: &[Role]) -> User {
        User {
            id: UserId(uuid::Uuid::now_v7()),
            username: Username::parse("someone").unwrap_or_else(|_| unreachable!()),
            display_name: "Some One".into(),
            roles: roles.to_vec(),
            registration: RegistrationBody::None,
            registration_number: Option::None,
            email: Option::None,
            active: true,
            totp_enrolled: false,
            version: Version::FIRST,
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
        }
    }

    fn on_team(role: TeamRole) -> Standing {
        Standing {
            team_roles: vec![role],
            case_open: true,
            supervision: Option::None,
            break_glass: false,
        }
    }

    fn supervising(named: bool) -> Standing {
        Standing {
            team_roles: vec![],
            case_open: true,
            supervision: Some(SupervisionLink { named }),
            break_glass: false,
        }
    }

    /// One column of the matrix: the expected access for each class, in `ChildData::ALL`
    /// order.
    fn column(roles: &[Role], standing: &Standing, expected: [Access; 10]) {
        let u = user(roles);
        for (data, want) in ChildData::ALL.into_iter().zip(expected) {
            assert_eq!(
                child_access(&u, standing, data),
                want,
                "{roles:?} {standing:?} {data:?}"
            );
        }
    }

    // Columns in ChildData::ALL order: identity, cases, referral reason, schedule, clinical,
    // process notes, contact logs, emergency panel, safeguarding, audit.

    #[test]
    fn lead_and_co_worker_write_the_record() {
        for role in [TeamRole::Lead, TeamRole::CoWorker, TeamRole::Cover] {
            column(
                &[Role::Therapist],
                &on_team(role),
                [
                    Write,
                    Write,
                    Write,
                    Write,
                    Write,
                    Limited(Limit::AuthorOnly),
                    Write,
                    Read,
                    Limited(Limit::OwnEntries),
                    None,
                ],
            );
        }
    }

    #[test]
    fn cover_outranks_a_parent_worker_membership_of_the_same_person() {
        let standing = Standing {
            team_roles: vec![TeamRole::ParentWorker, TeamRole::Cover],
            case_open: true,
            supervision: Option::None,
            break_glass: false,
        };
        let u = user(&[Role::Therapist]);
        assert_eq!(child_access(&u, &standing, D::Clinical), Write);
        assert_eq!(child_access(&u, &standing, D::Identity), Write);
    }

    #[test]
    fn a_closed_case_is_read_only_to_its_team() {
        let mut standing = on_team(TeamRole::Lead);
        standing.case_open = false;
        let u = user(&[Role::Therapist]);
        for data in ChildData::ALL {
            assert!(!child_access(&u, &standing, data).may_write(), "{data:?}");
        }
        assert_eq!(child_access(&u, &standing, D::Clinical), Read);
    }

    #[test]
    fn the_parent_worker_reads_and_keeps_contact_logs() {
        column(
            &[Role::Therapist],
            &on_team(TeamRole::ParentWorker),
            [
                Read,
                Read,
                Read,
                Read,
                Limited(Limit::SharedWithParentWorker),
                Limited(Limit::AuthorOnly),
                Write,
                Read,
                Limited(Limit::OwnEntries),
                None,
            ],
        );
    }

    #[test]
    fn another_therapist_sees_nothing_of_the_child() {
        let u = user(&[Role::Therapist]);
        column(
            &[Role::Therapist],
            &Standing::none(),
            [
                None,
                None,
                None,
                Limited(Limit::OwnSessions),
                None,
                None,
                None,
                None,
                Limited(Limit::OwnEntries),
                None,
            ],
        );
        assert!(!may_know_child(&u, &Standing::none()));
    }

    #[test]
    fn a_supervisor_reads_pseudonymised_unless_named_access_is_enabled() {
        column(
            &[Role::Supervisor],
            &supervising(false),
            [
                None,
                Pseudonymised,
                Pseudonymised,
                Pseudonymised,
                Pseudonymised,
                None,
                Pseudonymised,
                None,
                Limited(Limit::OwnEntries),
                None,
            ],
        );
        let u = user(&[Role::Supervisor]);
        assert!(may_know_child(&u, &supervising(false)));
        assert!(!sees_names(&u, &supervising(false)));
        assert!(sees_names(&u, &supervising(true)));
        assert_eq!(child_access(&u, &supervising(true), D::Clinical), Read);
        // Without a supervisee on the team: nothing.
        assert!(!may_know_child(&u, &Standing::none()));
        assert_eq!(child_access(&u, &Standing::none(), D::Clinical), None);
    }

    #[test]
    fn the_dsl_reads_everything_but_clinical_detail_and_process_notes() {
        for role in [Role::Dsl, Role::DeputyDsl] {
            column(
                &[role],
                &Standing::none(),
                [
                    Read,
                    Read,
                    Read,
                    Read,
                    Limited(Limit::LinkedToConcern),
                    None,
                    Read,
                    Read,
                    Write,
                    Read,
                ],
            );
        }
    }

    #[test]
    fn the_service_lead_reads_no_clinical_content() {
        column(
            &[Role::ServiceLead],
            &Standing::none(),
            [Read, Read, Read, Read, None, None, None, Read, Read, Read],
        );
    }

    #[test]
    fn the_administrator_never_reaches_clinical_content_or_safeguarding() {
        column(
            &[Role::Administrator],
            &Standing::none(),
            [
                Write,
                Write,
                None,
                Write,
                None,
                None,
                None,
                Limited(Limit::ContactsAndMedical),
                None,
                Limited(Limit::IdsWithoutSafeguarding),
            ],
        );
    }

    #[test]
    fn staff_may_only_raise_concerns() {
        column(
            &[Role::Staff],
            &Standing::none(),
            [
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                Limited(Limit::OwnEntries),
                None,
            ],
        );
        assert_eq!(list_scope(&user(&[Role::Staff])), ListScope::Nobody);
    }

    #[test]
    fn roles_combine_to_the_most_each_allows() {
        // An administrator who is also the lead therapist writes the clinical record as the
        // lead; an administrator alone may not.
        let both = user(&[Role::Administrator, Role::Therapist]);
        assert_eq!(
            child_access(&both, &on_team(TeamRole::Lead), D::Clinical),
            Write
        );
        assert_eq!(child_access(&both, &Standing::none(), D::Clinical), None);
    }

    #[test]
    fn standing_comes_from_the_newest_cases_current_team() {
        use crate::cases::{CaseDetails, CaseId, MembershipId, ReferralSource};
        use crate::children::ChildId;
        use jiff::civil::date;
        let lead = UserId(uuid::Uuid::from_u128(1));
        let cover = UserId(uuid::Uuid::from_u128(2));
        let member = |id: u128, user: UserId, role, starts, ends| Membership {
            id: MembershipId(uuid::Uuid::from_u128(id)),
            case_id: CaseId(uuid::Uuid::nil()),
            user_id: user,
            role,
            starts_on: starts,
            ends_on: ends,
        };
        let case = Case {
            id: CaseId(uuid::Uuid::nil()),
            child_id: ChildId(uuid::Uuid::nil()),
            number: 1,
            details: CaseDetails {
                referral_source: ReferralSource::Gp,
                referral_received: date(2026, 9, 1),
                first_seen: Option::None,
            },
            closure: Option::None,
            team: vec![
                member(10, lead, TeamRole::Lead, date(2026, 9, 1), Option::None),
                member(
                    11,
                    cover,
                    TeamRole::Cover,
                    date(2026, 12, 1),
                    Some(date(2026, 12, 15)),
                ),
            ],
            version: Version::FIRST,
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
        };
        let today = date(2026, 11, 30);
        assert_eq!(
            standing(lead, Some(&case), &[], today).team_roles,
            vec![TeamRole::Lead]
        );
        // Cover starts tomorrow: nothing today, the lead's rights on 1 December.
        assert!(
            standing(cover, Some(&case), &[], today)
                .team_roles
                .is_empty()
        );
        assert_eq!(
            standing(cover, Some(&case), &[], date(2026, 12, 1)).team_roles,
            vec![TeamRole::Cover]
        );
        let supervisor = UserId(uuid::Uuid::from_u128(3));
        let s = standing(supervisor, Some(&case), &[(lead, false)], today);
        assert_eq!(s.supervision, Some(SupervisionLink { named: false }));
        // Supervising the cover, who is not on the team yet, gives nothing.
        let s = standing(supervisor, Some(&case), &[(cover, true)], today);
        assert_eq!(s.supervision, Option::None);
        assert_eq!(standing(lead, Option::None, &[], today), Standing::none());
    }

    #[test]
    fn earlier_cases_are_read_only_to_the_current_team() {
        let lead = user(&[Role::Therapist]);
        let standing = on_team(TeamRole::Lead);
        assert_eq!(case_access(&lead, &standing, D::Cases, true), Write);
        assert_eq!(case_access(&lead, &standing, D::Cases, false), Read);
        let admin = user(&[Role::Administrator]);
        assert_eq!(
            case_access(&admin, &Standing::none(), D::Cases, false),
            Write
        );
    }

    fn with_glass(standing: Standing) -> Standing {
        Standing {
            break_glass: true,
            ..standing
        }
    }

    #[test]
    fn break_glass_gives_another_therapist_the_teams_read_rights_only() {
        column(
            &[Role::Therapist],
            &with_glass(Standing::none()),
            [
                Read,
                Read,
                Read,
                Read,
                Read,
                None,
                Read,
                Read,
                Limited(Limit::OwnEntries),
                None,
            ],
        );
        let u = user(&[Role::Therapist]);
        assert!(may_know_child(&u, &with_glass(Standing::none())));
        assert!(sees_names(&u, &with_glass(Standing::none())));
        for data in ChildData::ALL {
            assert!(
                !child_access(&u, &with_glass(Standing::none()), data).may_write(),
                "{data:?}"
            );
        }
    }

    #[test]
    fn break_glass_adds_to_the_dsl_and_service_lead_but_never_notes_or_concerns() {
        for role in [Role::Dsl, Role::DeputyDsl] {
            column(
                &[role],
                &with_glass(Standing::none()),
                [Read, Read, Read, Read, Read, None, Read, Read, Write, Read],
            );
        }
        column(
            &[Role::ServiceLead],
            &with_glass(Standing::none()),
            [Read, Read, Read, Read, Read, None, Read, Read, Read, Read],
        );
    }

    #[test]
    fn break_glass_keeps_a_team_members_own_rights_and_never_lowers_them() {
        // The lead still writes; their process notes stay their own.
        column(
            &[Role::Therapist],
            &with_glass(on_team(TeamRole::Lead)),
            [
                Write,
                Write,
                Write,
                Write,
                Write,
                Limited(Limit::AuthorOnly),
                Write,
                Read,
                Limited(Limit::OwnEntries),
                None,
            ],
        );
        // The parent-worker reads the whole clinical record under it.
        let u = user(&[Role::Therapist]);
        assert_eq!(
            child_access(
                &u,
                &with_glass(on_team(TeamRole::ParentWorker)),
                D::Clinical
            ),
            Read
        );
        assert_eq!(
            child_access(
                &u,
                &with_glass(on_team(TeamRole::ParentWorker)),
                D::ProcessNotes
            ),
            Limited(Limit::AuthorOnly)
        );
    }

    #[test]
    fn break_glass_opens_nothing_for_those_who_may_not_ask() {
        // The flag is only ever set from a grant, and grants only go to those who may ask;
        // even so, it opens nothing for anyone else.
        for role in [Role::Administrator, Role::Supervisor, Role::Staff] {
            let u = user(&[role]);
            for data in ChildData::ALL {
                assert_eq!(
                    child_access(&u, &with_glass(Standing::none()), data),
                    child_access(&u, &Standing::none(), data),
                    "{role:?} {data:?}"
                );
            }
        }
        let mut gone = user(&[Role::Therapist]);
        gone.active = false;
        for data in ChildData::ALL {
            assert_eq!(
                child_access(&gone, &with_glass(Standing::none()), data),
                None
            );
        }
    }

    #[test]
    fn without_break_glass_nothing_changes() {
        let u = user(&[Role::Therapist]);
        assert!(!may_know_child(&u, &Standing::none()));
        assert_eq!(child_access(&u, &Standing::none(), D::Clinical), None);
    }

    #[test]
    fn a_deactivated_account_reaches_nothing() {
        let mut dsl = user(&[Role::Dsl]);
        dsl.active = false;
        for data in ChildData::ALL {
            assert_eq!(child_access(&dsl, &Standing::none(), data), None);
        }
        assert_eq!(list_scope(&dsl), ListScope::Nobody);
        assert!(!may_register_children(&dsl));
    }
}
