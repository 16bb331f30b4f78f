//! Break-glass access: requesting it, the gate's check, the notices to the DSL and service lead, and the review of what was done under it.
//!
//! The rules are `alliance_core::break_glass`: who may ask, what a grant opens (the case
//! team's read rights, through `access::Standing::break_glass`, which the child's gate sets
//! from the one grant in force), the durations, the review. Every request is audited, granted
//! or not; a grant commits with its audit entry and the notices to every active DSL, deputy
//! and service lead (not the requester), raised by the scheduler. It ends by the clock: the
//! gate compares the expiry with now, so nothing has to run when it expires. Its holder may
//! end it early. What was done under it is found afterwards in the audit trail (the holder's
//! rows about the child between its start and its end), with no marking at the time.

use crate::app::{Alliance, CHILD_LOOKUP};
use crate::audit_views::AuditLine;
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::store::{NewFiring, StoreError, StoredGrant};
use alliance_core::access::{self, Standing};
use alliance_core::audit::{self, Event};
use alliance_core::break_glass::{
    self as bg, ChildNamed, Grant, GrantId, GrantState, Settings, duration_words,
};
use alliance_core::children::ChildId;
use alliance_core::crypto::{KeyOwner, SealedAt};
use alliance_core::identity::{Role, User, UserId};
use alliance_core::tasks::{FiringId, Recipient, Rule, Subject};
use alliance_core::{Invalid, Page, PageRequest, Validator, Version};
use jiff::Timestamp;
use std::collections::HashMap;

/// The service key grants' reasons are sealed under.
const BREAK_GLASS_KEY: &str = "break-glass";
/// The settings document of the durations.
const SETTINGS: &str = "break-glass";
/// The record type of a grant in the audit trail and in the notices about it.
pub const RECORD_TYPE: &str = "break-glass";
/// The most audit rows shown under one grant on the review page.
const ENTRIES_SHOWN: u32 = 200;

/// How a grant is named in titles and lists: never a name.
pub fn grant_reference(id: GrantId) -> String {
    crate::safeguarding::short_reference("BG", id.0)
}

/// A request as typed (a form or the API).
#[derive(Debug, Clone, Default)]
pub struct BreakGlassRequest {
    /// An NHS number, a UPN, the child's id or a link to their record.
    pub child: String,
    pub reason: String,
    /// Minutes; none means the service's default.
    pub minutes: Option<u32>,
}

/// A grant as its holder or a reviewer sees it.
#[derive(Debug, Clone)]
pub struct GrantView {
    pub id: GrantId,
    pub reference: String,
    pub child: ChildId,
    /// The child's name, while the reader may know the child; else empty.
    pub child_name: String,
    pub holder: UserId,
    pub holder_name: String,
    pub reason: String,
    pub starts_at: Timestamp,
    pub expires_at: Timestamp,
    /// When it stops (or stopped): its expiry, or its early end.
    pub until: Timestamp,
    pub ended_early: bool,
    pub state: GrantState,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<Timestamp>,
    /// The holder, while it is in force.
    pub may_end: bool,
    /// A reviewer, once it is over.
    pub may_review: bool,
    /// On the review page: what the holder did about the child under it, oldest first.
    pub entries: Vec<AuditLine>,
    /// More rows than shown.
    pub more_entries: bool,
}

/// The review page: grants in force and awaiting review, then a page of reviewed ones.
#[derive(Debug, Clone)]
pub struct ReviewList {
    /// In force first (soonest to end first), then awaiting review (newest first).
    pub open: Vec<GrantView>,
    /// Newest first.
    pub reviewed: Page<GrantView>,
}

fn key_owner() -> KeyOwner {
    KeyOwner::Service {
        purpose: BREAK_GLASS_KEY.to_owned(),
    }
}

fn grant_event(action: audit::Action, actor: &Actor, grant: &Grant) -> Event {
    Event::new(
        action,
        Some(actor.user.id.to_string()),
        RECORD_TYPE,
        Some(grant.id.to_string()),
    )
    .for_child(grant.child)
}

/// The words of a refusal the store names.
fn store_refusal(err: StoreError) -> AppError {
    match err {
        StoreError::Conflict(c) if c == "break_glass_not_in_force" => {
            AppError::Conflict("this break-glass access has already ended".to_owned())
        }
        StoreError::Conflict(c) if c == "break_glass_not_reviewable" => AppError::Conflict(
            "this break-glass access is still in force, or has already been reviewed".to_owned(),
        ),
        other => other.into(),
    }
}

impl Alliance {
    /// Whether `user` holds break-glass access to `child` in force now, for the child's gate:
    /// asked only of someone who may ask for it and whom it would give more (one indexed
    /// query).
    pub(crate) async fn break_glass_in_force(
        &self,
        user: &User,
        child: ChildId,
        standing: &Standing,
    ) -> AppResult<bool> {
        if !bg::may_request(user).is_allowed() || bg::adds_nothing(user, standing) {
            return Ok(false);
        }
        Ok(self
            .store
            .grant_in_force(user.id, child, self.clock.now())
            .await?
            .is_some())
    }

    /// "until 14:05" for the banner on a child's page, while the reader holds a grant in
    /// force for the child (a caller that has passed the child's gate).
    pub async fn break_glass_banner(
        &self,
        actor: &Actor,
        child: ChildId,
    ) -> AppResult<Option<String>> {
        if !bg::may_request(&actor.user).is_allowed() {
            return Ok(None);
        }
        let now = self.clock.now();
        Ok(self
            .store
            .grant_in_force(actor.user.id, child, now)
            .await?
            .map(|g| bg::until_words(g.grant.until(), now)))
    }

    /// The service's durations, with their version (none while the policy's defaults stand).
    pub async fn break_glass_settings(&self) -> AppResult<(Settings, Option<Version>)> {
        Ok(
            match self
                .settings_document::<Settings>(SETTINGS, "break-glass durations")
                .await?
            {
                None => (Settings::default(), None),
                Some((s, v)) => (s, Some(v)),
            },
        )
    }

    /// Changes the durations (administrators and the service lead), within 15 minutes and
    /// 12 hours.
    pub async fn set_break_glass_settings(
        &self,
        actor: &Actor,
        settings: Settings,
        expected: Option<Version>,
    ) -> AppResult<Settings> {
        if let alliance_core::policy::Decision::Deny(why) = bg::may_change_settings(&actor.user) {
            self.record(
                &actor.origin,
                vec![
                    Event::new(
                        audit::Action::Denied,
                        Some(actor.user.id.to_string()),
                        "service",
                        Some("1".to_owned()),
                    )
                    .detail("update break-glass durations"),
                ],
            )
            .await?;
            return Err(AppError::Denied(why));
        }
        actor.ensure_may_write()?;
        settings.check()?;
        self.put_settings_document(actor, SETTINGS, &settings, expected)
            .await?;
        Ok(settings)
    }

    /// Audits a request that was not granted (ids and a reason code only).
    async fn refuse_request(
        &self,
        actor: &Actor,
        child: Option<ChildId>,
        why: &str,
    ) -> AppResult<()> {
        let mut event = Event::new(
            audit::Action::Denied,
            Some(actor.user.id.to_string()),
            RECORD_TYPE,
            None,
        )
        .detail(&format!("request break-glass: {why}"));
        if let Some(child) = child {
            event = event.for_child(child);
        }
        self.record(&actor.origin, vec![event]).await?;
        Ok(())
    }

    /// The child a request names, if one is recorded.
    async fn child_named(&self, named: &ChildNamed) -> AppResult<Option<ChildId>> {
        let (kind, value) = match named {
            ChildNamed::Id(id) => return Ok(self.store.child(*id).await?.map(|c| c.id)),
            ChildNamed::Nhs(nhs) => ("nhs", nhs.as_str()),
            ChildNamed::Upn(upn) => ("upn", upn.as_str()),
        };
        let key = self
            .keys
            .data_key(
                &KeyOwner::Service {
                    purpose: CHILD_LOOKUP.to_owned(),
                },
                self.clock.now(),
            )
            .await?;
        Ok(self
            .store
            .child_by_lookup(&key.lookup_hash(kind, value))
            .await?)
    }

    /// Asks for break-glass access to one child: granted at once (the DSL, deputies and the
    /// service lead are told), or refused with the reason. Every request is audited.
    pub async fn request_break_glass(
        &self,
        actor: &Actor,
        request: &BreakGlassRequest,
    ) -> AppResult<GrantView> {
        if let alliance_core::policy::Decision::Deny(why) = bg::may_request(&actor.user) {
            self.refuse_request(actor, None, "not allowed").await?;
            return Err(AppError::Denied(why));
        }
        if !actor.may_write() {
            self.refuse_request(actor, None, "read-only token").await?;
            return Err(AppError::Denied("this API token is read-only"));
        }
        let (settings, _) = self.break_glass_settings().await?;
        let mut v = Validator::new();
        let named = v.check("child", ChildNamed::parse(&request.child));
        let reason = v.check("reason", bg::parse_reason(&request.reason));
        let minutes = v.check("minutes", settings.duration(request.minutes));
        let child = match &named {
            Some(named) => self.child_named(named).await?,
            None => None,
        };
        if let Err(invalid) = v.finish() {
            self.refuse_request(actor, child, "invalid").await?;
            return Err(invalid.into());
        }
        let (Some(named), Some(reason), Some(minutes)) = (named, reason, minutes) else {
            return Err(AppError::NotFound);
        };
        let Some(child) = child else {
            self.refuse_request(actor, None, "no such child").await?;
            return Err(Invalid::field(
                "child",
                format!(
                    "No child with this {} is recorded here: check it with whoever gave it to you",
                    named.describe()
                ),
            )
            .into());
        };
        // What the person has already, without a grant.
        let cases = self.store.cases_of(child).await?;
        let supervisees = self.supervisees_of(actor).await?;
        let standing = access::standing(
            actor.user.id,
            cases.first().map(|c| &c.case),
            &supervisees,
            self.today(),
        );
        if bg::adds_nothing(&actor.user, &standing) {
            self.refuse_request(actor, Some(child), "needless").await?;
            return Err(Invalid::field(
                "child",
                "You can already read this child's record: open it from your caseload",
            )
            .into());
        }
        let now = self.clock.now();
        if let Some(held) = self.store.grant_in_force(actor.user.id, child, now).await? {
            self.refuse_request(actor, Some(child), "already held")
                .await?;
            return Err(AppError::Conflict(format!(
                "you already hold break-glass access to this child until {}",
                bg::until_words(held.grant.until(), now)
            )));
        }
        let id = GrantId(self.new_id());
        let row = id.to_string();
        let sealed = self
            .keys
            .seal(
                &key_owner(),
                reason.as_bytes(),
                SealedAt {
                    table: "break_glass_grants",
                    column: "reason",
                    row: &row,
                },
                now,
            )
            .await?;
        let grant = Grant {
            id,
            user: actor.user.id,
            child,
            starts_at: now,
            expires_at: bg::expiry(now, minutes),
            ended_at: None,
            reviewed_by: None,
            reviewed_at: None,
        };
        // Told at once: every active DSL, deputy and service lead but the requester.
        let mut people = Vec::new();
        for role in [Role::Dsl, Role::DeputyDsl, Role::ServiceLead] {
            people.extend(self.active_users_with_role(role).await?);
        }
        let reference = grant_reference(id);
        let subject = Subject {
            child: Some(child),
            record_type: RECORD_TYPE.to_owned(),
            record_id: id.to_string(),
        };
        let follow_ups = bg::to_tell(&people, actor.user.id)
            .into_iter()
            .map(|user| NewFiring {
                id: FiringId(self.new_id()),
                rule: Rule::BreakGlassGranted,
                fire_at: now,
                recipient: Recipient::User(user),
                subject: Some(subject.clone()),
                reference: reference.clone(),
                dedupe_key: format!("break-glass:{id}:{user}"),
            })
            .collect();
        let mut batch = self.audit_batch(
            &actor.origin,
            vec![
                grant_event(audit::Action::BreakGlassGranted, actor, &grant)
                    .detail(&format!("{minutes} minutes")),
            ],
        );
        batch.follow_ups = follow_ups;
        let stored = StoredGrant {
            grant,
            reason: sealed,
            created_at: now,
        };
        self.store.create_grant(&stored, &batch).await?;
        self.grant_view(actor, stored, &HashMap::new(), false).await
    }

    /// Opens a grant for a reader who may see it (its holder, or a reviewer).
    async fn grant_view(
        &self,
        actor: &Actor,
        stored: StoredGrant,
        names: &HashMap<UserId, String>,
        with_entries: bool,
    ) -> AppResult<GrantView> {
        let now = self.clock.now();
        let StoredGrant { grant, reason, .. } = stored;
        let row = grant.id.to_string();
        let reason = self
            .keys
            .open(
                &key_owner(),
                &reason,
                SealedAt {
                    table: "break_glass_grants",
                    column: "reason",
                    row: &row,
                },
                now,
            )
            .await?;
        let mut names = names.clone();
        let mut wanted = vec![grant.user];
        wanted.extend(grant.reviewed_by);
        wanted.retain(|u| !names.contains_key(u));
        names.extend(self.staff_names(&wanted).await?);
        let child_name = if self.may_know_child_now(&actor.user, grant.child).await? {
            match self.details_of(grant.child).await {
                Ok(details) => details.known_as().to_owned(),
                Err(AppError::NotFound) => String::new(),
                Err(other) => return Err(other),
            }
        } else {
            String::new()
        };
        let reviewer = bg::may_review(&actor.user).is_allowed();
        let (entries, more_entries) = if with_entries && reviewer {
            self.entries_under_grant(
                actor,
                grant.user,
                grant.child,
                grant.starts_at,
                grant.until().min(now),
                ENTRIES_SHOWN,
            )
            .await?
        } else {
            (Vec::new(), false)
        };
        Ok(GrantView {
            reference: grant_reference(grant.id),
            child_name,
            holder_name: names.get(&grant.user).cloned().unwrap_or_default(),
            reason: String::from_utf8_lossy(&reason).into_owned(),
            until: grant.until(),
            ended_early: grant.ended_at.is_some_and(|e| e < grant.expires_at),
            state: grant.state(now),
            reviewed_by: grant.reviewed_by.and_then(|u| names.get(&u).cloned()),
            may_end: grant.may_end(actor.user.id, now).is_ok() && actor.may_write(),
            may_review: reviewer
                && actor.may_write()
                && grant.state(now) == GrantState::AwaitingReview
                && (grant.user != actor.user.id || self.other_reviewers(actor).await? == 0),
            id: grant.id,
            child: grant.child,
            holder: grant.user,
            starts_at: grant.starts_at,
            expires_at: grant.expires_at,
            reviewed_at: grant.reviewed_at,
            entries,
            more_entries,
        })
    }

    /// A list that names children is audited as a list is: one entry naming the ids shown.
    async fn audit_names_shown(&self, actor: &Actor, grants: &[GrantView]) -> AppResult<()> {
        let mut named: Vec<String> = grants
            .iter()
            .filter(|g| !g.child_name.is_empty())
            .map(|g| g.child.to_string())
            .collect();
        named.sort();
        named.dedup();
        if named.is_empty() {
            return Ok(());
        }
        self.record(
            &actor.origin,
            vec![
                Event::new(
                    audit::Action::ChildrenListed,
                    Some(actor.user.id.to_string()),
                    "child",
                    None,
                )
                .detail(&named.join(",")),
            ],
        )
        .await?;
        Ok(())
    }

    /// How many active reviewers there are besides the actor.
    async fn other_reviewers(&self, actor: &Actor) -> AppResult<usize> {
        let mut people = Vec::new();
        for role in [Role::Dsl, Role::DeputyDsl, Role::ServiceLead] {
            people.extend(self.active_users_with_role(role).await?);
        }
        Ok(bg::to_tell(&people, actor.user.id).len())
    }

    /// The actor's own grants, newest first (anyone signed in: possibly none).
    pub async fn my_break_glass(
        &self,
        actor: &Actor,
        page: &PageRequest,
    ) -> AppResult<Page<GrantView>> {
        let found = match self.store.grants_of_user(actor.user.id, page).await {
            Err(StoreError::NotFound) => {
                return Err(
                    Invalid::field("after", "This is not a cursor this list gave out").into(),
                );
            }
            other => other?,
        };
        let mut items = Vec::with_capacity(found.items.len());
        for stored in found.items {
            items.push(
                self.grant_view(actor, stored, &HashMap::new(), false)
                    .await?,
            );
        }
        self.audit_names_shown(actor, &items).await?;
        Ok(Page {
            items,
            next: found.next,
        })
    }

    /// Ends one of the actor's own grants now.
    pub async fn end_break_glass(&self, actor: &Actor, id: GrantId) -> AppResult<GrantView> {
        let stored = self.store.grant(id).await?;
        let Some(stored) = stored.filter(|s| s.grant.user == actor.user.id) else {
            self.record(
                &actor.origin,
                vec![
                    Event::new(
                        audit::Action::Denied,
                        Some(actor.user.id.to_string()),
                        RECORD_TYPE,
                        Some(id.to_string()),
                    )
                    .detail("end break-glass"),
                ],
            )
            .await?;
            return Err(AppError::NotFound);
        };
        actor.ensure_may_write()?;
        let now = self.clock.now();
        if let Err(why) = stored.grant.may_end(actor.user.id, now) {
            return Err(AppError::Conflict(why.to_owned()));
        }
        let batch = self.audit_batch(
            &actor.origin,
            vec![grant_event(
                audit::Action::BreakGlassEnded,
                actor,
                &stored.grant,
            )],
        );
        let ended = self
            .store
            .end_grant(id, actor.user.id, now, &batch)
            .await
            .map_err(store_refusal)?;
        self.grant_view(actor, ended, &HashMap::new(), false).await
    }

    /// Refuses (audited) anyone who does not review break-glass access.
    async fn require_reviewer(
        &self,
        actor: &Actor,
        asked: &str,
        id: Option<GrantId>,
    ) -> AppResult<()> {
        if let alliance_core::policy::Decision::Deny(why) = bg::may_review(&actor.user) {
            self.record(
                &actor.origin,
                vec![
                    Event::new(
                        audit::Action::Denied,
                        Some(actor.user.id.to_string()),
                        RECORD_TYPE,
                        id.map(|i| i.to_string()),
                    )
                    .detail(asked),
                ],
            )
            .await?;
            return Err(AppError::Denied(why));
        }
        Ok(())
    }

    /// The review list (the DSL, deputies and the service lead): grants in force first, then
    /// those awaiting review, then a page of reviewed ones; each with what was done under it.
    /// Reading it is audited, naming the grants shown.
    pub async fn break_glass_review(
        &self,
        actor: &Actor,
        reviewed_page: &PageRequest,
    ) -> AppResult<ReviewList> {
        self.require_reviewer(actor, "read break-glass review", None)
            .await?;
        let open_page = PageRequest::parse(Some(200), None)?;
        let open = self.store.grants_for_review(false, &open_page).await?;
        let reviewed = match self.store.grants_for_review(true, reviewed_page).await {
            Err(StoreError::NotFound) => {
                return Err(
                    Invalid::field("after", "This is not a cursor this list gave out").into(),
                );
            }
            other => other?,
        };
        let now = self.clock.now();
        let mut open_grants: Vec<StoredGrant> = open.items;
        let mut order: Vec<Grant> = open_grants.iter().map(|s| s.grant.clone()).collect();
        bg::review_order(&mut order, now);
        open_grants.sort_by_key(|s| order.iter().position(|g| g.id == s.grant.id));
        let mut shown = Vec::new();
        let mut open_views = Vec::with_capacity(open_grants.len());
        for stored in open_grants {
            shown.push(stored.grant.id.to_string());
            open_views.push(
                self.grant_view(actor, stored, &HashMap::new(), true)
                    .await?,
            );
        }
        let mut reviewed_views = Vec::with_capacity(reviewed.items.len());
        for stored in reviewed.items {
            shown.push(stored.grant.id.to_string());
            reviewed_views.push(
                self.grant_view(actor, stored, &HashMap::new(), true)
                    .await?,
            );
        }
        self.record(
            &actor.origin,
            vec![
                Event::new(
                    audit::Action::AuditViewed,
                    Some(actor.user.id.to_string()),
                    RECORD_TYPE,
                    None,
                )
                .detail(&shown.join(",")),
            ],
        )
        .await?;
        let all: Vec<GrantView> = open_views.iter().chain(&reviewed_views).cloned().collect();
        self.audit_names_shown(actor, &all).await?;
        Ok(ReviewList {
            open: open_views,
            reviewed: Page {
                items: reviewed_views,
                next: reviewed.next,
            },
        })
    }

    /// Marks a grant reviewed, once it is over (the DSL, deputies and the service lead; never
    /// one's own unless nobody else reviews). The notices about it are marked read with it.
    pub async fn review_break_glass(&self, actor: &Actor, id: GrantId) -> AppResult<GrantView> {
        self.require_reviewer(actor, "review break-glass", Some(id))
            .await?;
        actor.ensure_may_write()?;
        let Some(stored) = self.store.grant(id).await? else {
            return Err(AppError::NotFound);
        };
        let now = self.clock.now();
        let others = self.other_reviewers(actor).await?;
        if let Err(why) = stored.grant.may_mark_reviewed(&actor.user, others, now) {
            return Err(AppError::Conflict(why.to_owned()));
        }
        let batch = self.audit_batch(
            &actor.origin,
            vec![grant_event(
                audit::Action::BreakGlassReviewed,
                actor,
                &stored.grant,
            )],
        );
        let reviewed = self
            .store
            .review_grant(id, actor.user.id, now, &batch)
            .await
            .map_err(store_refusal)?;
        self.grant_view(actor, reviewed, &HashMap::new(), false)
            .await
    }

    /// Whether a notice about a grant may be shown to `user`: only to those who may read the
    /// review page it points at.
    pub(crate) fn may_see_break_glass_subject(&self, user: &User) -> bool {
        bg::may_review(user).is_allowed()
    }

    /// The words of a duration, for pages that show the settings.
    pub fn break_glass_duration_words(minutes: u32) -> String {
        duration_words(minutes)
    }
}
