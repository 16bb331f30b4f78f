//! Break-glass access (policy section 1): time-limited read of one child's record, with a
//! written reason, for therapists, DSLs and the service lead. Pure rules; no IO.
//!
//! A grant opens the case team's read rights to one child (identity, cases, the referral
//! reason, the schedule, the clinical record, contact logs and the emergency panel), never
//! process notes, safeguarding concerns, allegations or the audit trail, which stay as the
//! person's roles allow. It ends by the clock (no job is needed), or earlier when its holder
//! ends it. The DSL, deputies and the service lead are told at once and review afterwards
//! what was done under it: the audit entries of the holder about that child between its start
//! and its end.

use crate::access::{Access, ChildData, Standing, child_access};
use crate::children::{ChildId, NhsNumber, Upn};
use crate::directory::uuid_id;
use crate::error::{Invalid, Validator, parse_text};
use crate::identity::{Role, User, UserId};
use crate::policy::Decision;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

uuid_id!(GrantId, "a break-glass grant");

/// Where the rule and its default come from, shown beside the figures.
pub const SOURCE: &str = "policy section 1";
/// The fewest characters a reason may have: a sentence that says why, not "urgent".
pub const REASON_MIN_CHARS: usize = 20;
pub const REASON_MAX_CHARS: usize = 2000;
/// The bounds of every duration, whatever the service sets.
pub const SHORTEST_MINUTES: u32 = 15;
pub const LONGEST_MINUTES: u32 = 12 * 60;
/// The policy's default: four hours.
pub const DEFAULT_MINUTES: u32 = 4 * 60;

/// The classes a grant opens, each at read: the case team's read rights, without process
/// notes, safeguarding (concerns), allegations or the audit trail.
pub const OPENS: [ChildData; 7] = [
    ChildData::Identity,
    ChildData::Cases,
    ChildData::ReferralReason,
    ChildData::Schedule,
    ChildData::Clinical,
    ChildData::ContactLogs,
    ChildData::EmergencyPanel,
];

/// What a grant in force adds for `data`, on top of the person's roles.
pub fn access_under_grant(data: ChildData) -> Access {
    if OPENS.contains(&data) {
        Access::Read
    } else {
        Access::None
    }
}

fn holds_any(user: &User, roles: &[Role]) -> bool {
    user.active && roles.iter().any(|r| user.has_role(*r))
}

/// Who may ask: therapists, the DSL and deputies, and the service lead.
pub fn may_request(user: &User) -> Decision {
    if !user.active {
        return Decision::Deny("this account is deactivated");
    }
    if holds_any(
        user,
        &[
            Role::Therapist,
            Role::Dsl,
            Role::DeputyDsl,
            Role::ServiceLead,
        ],
    ) {
        Decision::Allow
    } else {
        Decision::Deny("only therapists, the DSL and deputies, and the service lead may ask")
    }
}

/// Who reviews what was done under a grant (and is told of each at once): the DSL, deputies
/// and the service lead.
pub fn may_review(user: &User) -> Decision {
    if !user.active {
        return Decision::Deny("this account is deactivated");
    }
    if holds_any(user, &[Role::Dsl, Role::DeputyDsl, Role::ServiceLead]) {
        Decision::Allow
    } else {
        Decision::Deny("only the DSL, deputies and the service lead review break-glass access")
    }
}

/// Who changes the durations: administrators (configuration) and the service lead.
pub fn may_change_settings(user: &User) -> Decision {
    if !user.active {
        return Decision::Deny("this account is deactivated");
    }
    if holds_any(user, &[Role::Administrator, Role::ServiceLead]) {
        Decision::Allow
    } else {
        Decision::Deny("only an administrator or the service lead may change these figures")
    }
}

/// Whether a grant would add nothing to what the person's roles and standing already give
/// (the child's lead therapist, say): such a request is refused as needless.
pub fn adds_nothing(user: &User, standing: &Standing) -> bool {
    let without = Standing {
        break_glass: false,
        ..standing.clone()
    };
    OPENS
        .into_iter()
        .all(|data| child_access(user, &without, data).may_read())
}

/// The written reason, as typed: a sentence or more.
pub fn parse_reason(raw: &str) -> Result<String, String> {
    let text = parse_text(raw, 1, REASON_MAX_CHARS)
        .map_err(|_| "Say why you need to see this child's record now".to_owned())?;
    if text.chars().count() < REASON_MIN_CHARS {
        return Err(format!(
            "Say why in a sentence or more ({REASON_MIN_CHARS} characters at least): the DSL and the service lead read it"
        ));
    }
    Ok(text)
}

/// How the child is named in a request: by NHS number, by UPN, or by the child's id (or a
/// link to their record a colleague gave).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChildNamed {
    Id(ChildId),
    Nhs(NhsNumber),
    Upn(Upn),
}

impl ChildNamed {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(
                "Enter the child's NHS number or UPN, or paste the link to their record".to_owned(),
            );
        }
        // A link: `…/children/{id}`, perhaps with more after it.
        if let Some((_, rest)) = raw.split_once("/children/") {
            let id = rest
                .split(['/', '?', '#'])
                .next()
                .unwrap_or_default()
                .trim();
            return ChildId::parse(id)
                .map(Self::Id)
                .map_err(|_| "This link is not the address of a child's record".to_owned());
        }
        if let Ok(id) = ChildId::parse(raw) {
            return Ok(Self::Id(id));
        }
        let digits_only = raw
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-'));
        if digits_only {
            return NhsNumber::parse(raw).map(Self::Nhs);
        }
        if raw.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return Upn::parse(raw).map(Self::Upn);
        }
        Err("Enter an NHS number (10 digits), a UPN (a letter and 12 characters) or the link to the child's record".to_owned())
    }

    /// Which field of the form it came from, for an error about it.
    pub fn describe(&self) -> &'static str {
        match self {
            Self::Id(_) => "link",
            Self::Nhs(_) => "NHS number",
            Self::Upn(_) => "UPN",
        }
    }
}

/// The service's durations: a settings document, the policy's defaults until changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// How long a grant lasts unless a shorter time is asked for.
    pub default_minutes: u32,
    /// The most anyone may ask for.
    pub longest_minutes: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            default_minutes: DEFAULT_MINUTES,
            longest_minutes: LONGEST_MINUTES,
        }
    }
}

impl Settings {
    /// Both within 15 minutes and 12 hours, the default no longer than the longest.
    pub fn check(&self) -> Result<(), Invalid> {
        let mut v = Validator::new();
        let within = |minutes: u32| {
            if (SHORTEST_MINUTES..=LONGEST_MINUTES).contains(&minutes) {
                Ok(())
            } else {
                Err(format!(
                    "Choose from {SHORTEST_MINUTES} to {LONGEST_MINUTES} minutes (15 minutes to 12 hours)"
                ))
            }
        };
        v.check("default_minutes", within(self.default_minutes));
        let longest = within(self.longest_minutes).and_then(|()| {
            if self.default_minutes > self.longest_minutes {
                Err("The longest may not be shorter than the usual length".to_owned())
            } else {
                Ok(())
            }
        });
        v.check("longest_minutes", longest);
        v.finish()
    }

    /// The duration of a request: the default when none was asked for, else what was asked,
    /// from 15 minutes to the longest.
    pub fn duration(&self, asked: Option<u32>) -> Result<u32, String> {
        let minutes = asked.unwrap_or(self.default_minutes);
        if (SHORTEST_MINUTES..=self.longest_minutes).contains(&minutes) {
            Ok(minutes)
        } else {
            Err(format!(
                "Choose from {} to {}",
                duration_words(SHORTEST_MINUTES),
                duration_words(self.longest_minutes)
            ))
        }
    }

    /// The lengths a form offers: the usual ones up to the longest, and the default.
    pub fn choices(&self) -> Vec<u32> {
        let mut out: Vec<u32> = [15, 30, 60, 120, 240, 480, 720]
            .into_iter()
            .filter(|m| *m <= self.longest_minutes)
            .collect();
        for m in [self.default_minutes, self.longest_minutes] {
            if !out.contains(&m) {
                out.push(m);
            }
        }
        out.sort_unstable();
        out
    }
}

/// A duration in minutes as a form field gives it: empty means the default.
pub fn parse_minutes(raw: &str) -> Result<Option<u32>, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse::<u32>()
        .map(Some)
        .map_err(|_| "Choose how long you need".to_owned())
}

/// `4 hours`, `1 hour 30 minutes`, `15 minutes`.
pub fn duration_words(minutes: u32) -> String {
    let (hours, rest) = (minutes / 60, minutes % 60);
    let hours_words = match hours {
        0 => String::new(),
        1 => "1 hour".to_owned(),
        n => format!("{n} hours"),
    };
    let minutes_words = match rest {
        0 => String::new(),
        1 => "1 minute".to_owned(),
        n => format!("{n} minutes"),
    };
    match (hours_words.is_empty(), minutes_words.is_empty()) {
        (true, true) => "0 minutes".to_owned(),
        (false, true) => hours_words,
        (true, false) => minutes_words,
        (false, false) => format!("{hours_words} {minutes_words}"),
    }
}

/// When a grant made at `now` for `minutes` ends.
pub fn expiry(now: Timestamp, minutes: u32) -> Timestamp {
    now.saturating_add(SignedDuration::from_mins(i64::from(minutes)))
        .unwrap_or(now)
}

/// Where a grant stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GrantState {
    /// In force now.
    Active,
    /// Over (expired or ended), not yet reviewed.
    AwaitingReview,
    Reviewed,
}

impl GrantState {
    pub fn code(self) -> &'static str {
        match self {
            GrantState::Active => "active",
            GrantState::AwaitingReview => "awaiting-review",
            GrantState::Reviewed => "reviewed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            GrantState::Active => "In force",
            GrantState::AwaitingReview => "Over, awaiting review",
            GrantState::Reviewed => "Reviewed",
        }
    }
}

/// A grant: who, which child, from when until when; ended early, reviewed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub id: GrantId,
    pub user: UserId,
    pub child: ChildId,
    pub starts_at: Timestamp,
    pub expires_at: Timestamp,
    /// Ended early by its holder.
    pub ended_at: Option<Timestamp>,
    pub reviewed_by: Option<UserId>,
    pub reviewed_at: Option<Timestamp>,
}

impl Grant {
    /// When it stops (or stopped): its expiry, or its early end.
    pub fn until(&self) -> Timestamp {
        match self.ended_at {
            Some(ended) => ended.min(self.expires_at),
            None => self.expires_at,
        }
    }

    /// In force at `now`: started, not ended, not expired. Expiry is by the clock.
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.ended_at.is_none() && self.starts_at <= now && now < self.expires_at
    }

    pub fn state(&self, now: Timestamp) -> GrantState {
        if self.reviewed_at.is_some() {
            GrantState::Reviewed
        } else if self.is_active(now) {
            GrantState::Active
        } else {
            GrantState::AwaitingReview
        }
    }

    /// Its holder may end it while it is in force.
    pub fn may_end(&self, user: UserId, now: Timestamp) -> Result<(), &'static str> {
        if user != self.user {
            Err("only the person who holds it may end it")
        } else if !self.is_active(now) {
            Err("it has already ended")
        } else {
            Ok(())
        }
    }

    /// A reviewer marks it reviewed once it is over, and never their own, unless nobody else
    /// may review (a sole practitioner): `other_reviewers` counts the active reviewers besides
    /// them.
    pub fn may_mark_reviewed(
        &self,
        reviewer: &User,
        other_reviewers: usize,
        now: Timestamp,
    ) -> Result<(), &'static str> {
        if !may_review(reviewer).is_allowed() {
            return Err("only the DSL, deputies and the service lead review break-glass access");
        }
        if self.reviewed_at.is_some() {
            return Err("it has already been reviewed");
        }
        if self.is_active(now) {
            return Err("it is still in force: review it once it has ended");
        }
        if reviewer.id == self.user && other_reviewers > 0 {
            return Err("someone else reviews your own break-glass access");
        }
        Ok(())
    }
}

/// Whether `user` holds a grant in force for `child` among `grants`.
pub fn in_force(grants: &[Grant], user: UserId, child: ChildId, now: Timestamp) -> bool {
    grants
        .iter()
        .any(|g| g.user == user && g.child == child && g.is_active(now))
}

/// The review list's order: in force first (soonest to end first), then those awaiting
/// review, then the reviewed (each newest first).
pub fn review_order(grants: &mut [Grant], now: Timestamp) {
    grants.sort_by(|a, b| {
        let (sa, sb) = (a.state(now), b.state(now));
        sa.cmp(&sb).then_with(|| match sa {
            GrantState::Active => a.until().cmp(&b.until()),
            _ => b.starts_at.cmp(&a.starts_at),
        })
    });
}

/// Who is told of a new grant at once: every active DSL, deputy and service lead, but not
/// the person who asked.
pub fn to_tell(people: &[User], requester: UserId) -> Vec<UserId> {
    let mut out: Vec<UserId> = people
        .iter()
        .filter(|u| u.id != requester && may_review(u).is_allowed())
        .map(|u| u.id)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// "until 14:05" as the banner says it: the time alone when it ends today in London, with
/// the date otherwise.
pub fn until_words(until: Timestamp, now: Timestamp) -> String {
    let tz = crate::uk::london();
    let end = until.to_zoned_datetime(tz.clone());
    let today = now.to_zoned_datetime(tz).date();
    let time = format!("{:02}:{:02}", end.hour(), end.minute());
    if end.date() == today {
        time
    } else {
        format!("{time} on {}", crate::uk::date(end.date()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::{Limit, may_know_child};
    use crate::cases::TeamRole;
    use crate::identity::{RegistrationBody, Username};
    use crate::version::Version;

    fn user(roles: &[Role]) -> User {
        User {
            id: UserId(uuid::Uuid::now_v7()),
            username: Username::parse("someone").unwrap_or_else(|_| unreachable!()),
            display_name: "Some One".into(),
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

    fn at(raw: &str) -> Timestamp {
        raw.parse().unwrap_or(Timestamp::UNIX_EPOCH)
    }

    fn grant(user: UserId, child: ChildId, starts: &str, minutes: u32) -> Grant {
        let starts_at = at(starts);
        Grant {
            id: GrantId(uuid::Uuid::now_v7()),
            user,
            child,
            starts_at,
            expires_at: expiry(starts_at, minutes),
            ended_at: None,
            reviewed_by: None,
            reviewed_at: None,
        }
    }

    #[test]
    fn therapists_dsls_and_the_service_lead_may_ask_and_nobody_else() {
        for role in Role::ALL {
            let allowed = matches!(
                role,
                Role::Therapist | Role::Dsl | Role::DeputyDsl | Role::ServiceLead
            );
            assert_eq!(
                may_request(&user(&[role])).is_allowed(),
                allowed,
                "{role:?}"
            );
            let reviews = matches!(role, Role::Dsl | Role::DeputyDsl | Role::ServiceLead);
            assert_eq!(may_review(&user(&[role])).is_allowed(), reviews, "{role:?}");
            let settings = matches!(role, Role::Administrator | Role::ServiceLead);
            assert_eq!(
                may_change_settings(&user(&[role])).is_allowed(),
                settings,
                "{role:?}"
            );
        }
        let mut gone = user(&[Role::Therapist, Role::Dsl]);
        gone.active = false;
        assert!(!may_request(&gone).is_allowed());
        assert!(!may_review(&gone).is_allowed());
    }

    #[test]
    fn a_grant_opens_the_team_read_rights_and_never_notes_concerns_or_audit() {
        let opened: Vec<ChildData> = ChildData::ALL
            .into_iter()
            .filter(|d| access_under_grant(*d) == Access::Read)
            .collect();
        assert_eq!(opened, OPENS.to_vec());
        for closed in [
            ChildData::ProcessNotes,
            ChildData::Safeguarding,
            ChildData::Audit,
        ] {
            assert_eq!(access_under_grant(closed), Access::None, "{closed:?}");
        }
    }

    #[test]
    fn a_reason_is_a_sentence() {
        assert!(parse_reason("").is_err());
        assert!(parse_reason("   urgent  ").is_err());
        assert!(parse_reason("x".repeat(REASON_MAX_CHARS + 1).as_str()).is_err());
        assert!(parse_reason("bad\u{7}char in an otherwise long reason").is_err());
        assert_eq!(
            parse_reason("  Lead off sick; the child is in crisis at school now.  ").as_deref(),
            Ok("Lead off sick; the child is in crisis at school now.")
        );
    }

    #[test]
    fn the_child_is_named_by_nhs_number_upn_id_or_link() {
        let id = ChildId(uuid::Uuid::from_u128(42));
        assert_eq!(ChildNamed::parse(&id.to_string()), Ok(ChildNamed::Id(id)));
        assert_eq!(
            ChildNamed::parse(&format!("https://alliance.example/children/{id}?saved=1")),
            Ok(ChildNamed::Id(id))
        );
        assert_eq!(
            ChildNamed::parse(&format!("/children/{id}/chronology")),
            Ok(ChildNamed::Id(id))
        );
        assert!(ChildNamed::parse("https://alliance.example/children/not-an-id").is_err());
        assert!(matches!(
            ChildNamed::parse("943 476 5919"),
            Ok(ChildNamed::Nhs(_))
        ));
        assert!(ChildNamed::parse("943 476 5918").is_err(), "check digit");
        assert!(matches!(
            ChildNamed::parse("a123 4567 89012"),
            Ok(ChildNamed::Upn(_))
        ));
        assert!(ChildNamed::parse("B123456789012").is_err(), "check letter");
        assert!(ChildNamed::parse("").is_err());
        assert!(ChildNamed::parse("Millie Clarke!").is_err());
        assert!(ChildNamed::parse("'; DROP TABLE children; --").is_err());
    }

    #[test]
    fn durations_are_bounded_and_default_to_four_hours() {
        let s = Settings::default();
        assert_eq!(s.default_minutes, 240);
        assert_eq!(s.duration(None), Ok(240));
        assert_eq!(s.duration(Some(15)), Ok(15));
        assert_eq!(s.duration(Some(720)), Ok(720));
        assert!(s.duration(Some(14)).is_err());
        assert!(s.duration(Some(721)).is_err());
        assert!(s.check().is_ok());
        let short = Settings {
            default_minutes: 60,
            longest_minutes: 120,
        };
        assert!(short.check().is_ok());
        assert!(short.duration(Some(240)).is_err());
        assert_eq!(short.choices(), vec![15, 30, 60, 120]);
        for bad in [
            Settings {
                default_minutes: 10,
                longest_minutes: 120,
            },
            Settings {
                default_minutes: 60,
                longest_minutes: 721,
            },
            Settings {
                default_minutes: 240,
                longest_minutes: 120,
            },
        ] {
            assert!(bad.check().is_err(), "{bad:?}");
        }
        assert_eq!(parse_minutes(""), Ok(None));
        assert_eq!(parse_minutes("90"), Ok(Some(90)));
        assert!(parse_minutes("four hours").is_err());
        assert_eq!(duration_words(240), "4 hours");
        assert_eq!(duration_words(90), "1 hour 30 minutes");
        assert_eq!(duration_words(15), "15 minutes");
        assert_eq!(duration_words(60), "1 hour");
    }

    #[test]
    fn a_grant_ends_by_the_clock_or_by_its_holder() {
        let holder = UserId(uuid::Uuid::from_u128(1));
        let child = ChildId(uuid::Uuid::from_u128(2));
        let g = grant(holder, child, "2026-12-01T10:00:00Z", 240);
        assert!(!g.is_active(at("2026-12-01T09:59:59Z")));
        assert!(g.is_active(at("2026-12-01T10:00:00Z")));
        assert!(g.is_active(at("2026-12-01T13:59:59Z")));
        assert!(
            !g.is_active(at("2026-12-01T14:00:00Z")),
            "expired by the clock"
        );
        assert_eq!(
            g.state(at("2026-12-01T14:00:00Z")),
            GrantState::AwaitingReview
        );
        assert!(in_force(
            std::slice::from_ref(&g),
            holder,
            child,
            at("2026-12-01T11:00:00Z")
        ));
        assert!(!in_force(
            std::slice::from_ref(&g),
            holder,
            ChildId(uuid::Uuid::from_u128(3)),
            at("2026-12-01T11:00:00Z")
        ));
        let other = UserId(uuid::Uuid::from_u128(9));
        assert!(!in_force(
            std::slice::from_ref(&g),
            other,
            child,
            at("2026-12-01T11:00:00Z")
        ));

        let now = at("2026-12-01T11:00:00Z");
        assert!(g.may_end(holder, now).is_ok());
        assert!(g.may_end(other, now).is_err());
        let mut ended = g.clone();
        ended.ended_at = Some(now);
        assert!(!ended.is_active(now));
        assert_eq!(ended.until(), now);
        assert!(ended.may_end(holder, now).is_err());
        assert!(g.may_end(holder, at("2026-12-01T15:00:00Z")).is_err());
    }

    #[test]
    fn review_comes_after_the_end_and_never_of_ones_own_unless_alone() {
        let dsl = user(&[Role::Dsl]);
        let therapist = user(&[Role::Therapist]);
        let child = ChildId(uuid::Uuid::from_u128(2));
        let g = grant(therapist.id, child, "2026-12-01T10:00:00Z", 60);
        let during = at("2026-12-01T10:30:00Z");
        let after = at("2026-12-01T11:30:00Z");
        assert!(g.may_mark_reviewed(&dsl, 1, during).is_err());
        assert!(g.may_mark_reviewed(&dsl, 1, after).is_ok());
        assert!(g.may_mark_reviewed(&therapist, 1, after).is_err());
        let mut done = g.clone();
        done.reviewed_at = Some(after);
        done.reviewed_by = Some(dsl.id);
        assert!(done.may_mark_reviewed(&dsl, 1, after).is_err());
        assert_eq!(done.state(after), GrantState::Reviewed);
        // The DSL's own grant: another reviewer, unless there is none.
        let own = grant(dsl.id, child, "2026-12-01T10:00:00Z", 60);
        assert!(own.may_mark_reviewed(&dsl, 1, after).is_err());
        assert!(own.may_mark_reviewed(&dsl, 0, after).is_ok());
    }

    #[test]
    fn the_review_list_puts_grants_in_force_first_then_awaiting_then_reviewed() {
        let a = UserId(uuid::Uuid::from_u128(1));
        let child = ChildId(uuid::Uuid::from_u128(2));
        let now = at("2026-12-01T12:00:00Z");
        let mut reviewed = grant(a, child, "2026-11-30T10:00:00Z", 60);
        reviewed.reviewed_at = Some(now);
        let old_over = grant(a, child, "2026-11-29T10:00:00Z", 60);
        let new_over = grant(a, child, "2026-12-01T09:00:00Z", 60);
        let long_active = grant(a, child, "2026-12-01T11:00:00Z", 240);
        let short_active = grant(a, child, "2026-12-01T11:30:00Z", 60);
        let mut all = vec![
            reviewed.clone(),
            old_over.clone(),
            long_active.clone(),
            new_over.clone(),
            short_active.clone(),
        ];
        review_order(&mut all, now);
        assert_eq!(
            all,
            vec![short_active, long_active, new_over, old_over, reviewed]
        );
    }

    #[test]
    fn the_dsls_and_service_leads_are_told_but_not_the_requester() {
        let dsl = user(&[Role::Dsl]);
        let deputy = user(&[Role::DeputyDsl]);
        let lead = user(&[Role::ServiceLead]);
        let admin = user(&[Role::Administrator]);
        let mut gone = user(&[Role::Dsl]);
        gone.active = false;
        let told = to_tell(
            &[
                dsl.clone(),
                deputy.clone(),
                lead.clone(),
                admin,
                gone,
                dsl.clone(),
            ],
            deputy.id,
        );
        let mut want = vec![dsl.id, lead.id];
        want.sort();
        assert_eq!(told, want);
    }

    #[test]
    fn a_grant_in_force_opens_the_record_and_an_expired_one_does_not() {
        let therapist = user(&[Role::Therapist]);
        let child = ChildId(uuid::Uuid::from_u128(2));
        let g = grant(therapist.id, child, "2026-12-01T10:00:00Z", 15);
        let standing_at = |now: &str| Standing {
            break_glass: in_force(std::slice::from_ref(&g), therapist.id, child, at(now)),
            ..Standing::none()
        };
        let during = standing_at("2026-12-01T10:14:00Z");
        assert!(may_know_child(&therapist, &during));
        assert_eq!(
            child_access(&therapist, &during, ChildData::Clinical),
            Access::Read
        );
        assert_eq!(
            child_access(&therapist, &during, ChildData::ProcessNotes),
            Access::None
        );
        assert_eq!(
            child_access(&therapist, &during, ChildData::Safeguarding),
            Access::Limited(Limit::OwnEntries)
        );
        let expired = standing_at("2026-12-01T10:15:00Z");
        assert!(!may_know_child(&therapist, &expired));
        assert_eq!(
            child_access(&therapist, &expired, ChildData::Clinical),
            Access::None
        );
    }

    #[test]
    fn a_grant_adds_nothing_for_the_childs_own_lead() {
        let therapist = user(&[Role::Therapist]);
        let lead = Standing {
            team_roles: vec![TeamRole::Lead],
            case_open: true,
            ..Standing::none()
        };
        assert!(adds_nothing(&therapist, &lead));
        assert!(!adds_nothing(&therapist, &Standing::none()));
        // The parent-worker reads the clinical record only as shared: a grant adds to it.
        let parent_worker = Standing {
            team_roles: vec![TeamRole::ParentWorker],
            case_open: true,
            ..Standing::none()
        };
        assert!(!adds_nothing(&therapist, &parent_worker));
        // The DSL and the service lead do not read the clinical record by their roles.
        assert!(!adds_nothing(&user(&[Role::Dsl]), &Standing::none()));
        assert!(!adds_nothing(
            &user(&[Role::ServiceLead]),
            &Standing::none()
        ));
    }

    #[test]
    fn the_banner_says_the_time_and_the_date_when_not_today() {
        // 1 December: London is on UTC.
        let now = at("2026-12-01T10:00:00Z");
        assert_eq!(until_words(at("2026-12-01T14:05:00Z"), now), "14:05");
        assert_eq!(
            until_words(at("2026-12-02T02:00:00Z"), now),
            "02:00 on 02/12/2026"
        );
        // Summer time: 13:00 UTC is 14:00 in London.
        let summer = at("2026-07-01T10:00:00Z");
        assert_eq!(until_words(at("2026-07-01T13:00:00Z"), summer), "14:00");
    }
}
