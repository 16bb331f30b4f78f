//! Calendar feeds: each person's own sessions as an iCalendar document at a private address
//! (`/feeds/af_….ics`) that Outlook, Google Calendar or Apple Calendar subscribes to.
//!
//! The address is the only credential (calendar programs cannot sign in), so it holds 32
//! random bytes, is shown once, and only its hash is stored; the lookup is by that hash in
//! storage, never a comparison here. A person has at most one live feed: a new one revokes
//! the old, and a password change, a change of roles or deactivation revokes it with their
//! sessions and API tokens. An unknown, revoked or deactivated person's address answers "not
//! found" and nothing else.
//!
//! Calendar providers read and keep these feeds, so an event carries the time, room and site
//! and no child identifier: the child's initials only when the service's policy turns them on
//! (`feed_shows_initials`), and then only for a child the person may know (the access rule of
//! every other list), with the fetch audited naming the children shown.

use crate::app::Alliance;
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::store::{FeedRecord, StoreError, StoredSession};
use alliance_core::access::{may_know_child, standing};
use alliance_core::audit::{self, Event, Origin};
use alliance_core::auth::secret_hash;
use alliance_core::children::ChildId;
use alliance_core::directory::{RoomId, SiteId};
use alliance_core::feed::{self, FeedEvent};
use alliance_core::identity::{Role, User};
use alliance_core::random::random_bytes;
use jiff::Timestamp;
use std::collections::{HashMap, HashSet};

/// How many times creating a feed is tried when another request changes the person's live
/// feed at the same moment.
const CREATE_ATTEMPTS: usize = 3;

/// Whether the caller has a live feed, and since when. Never the address: only its hash is
/// kept, so it cannot be shown again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedStatus {
    pub created_at: Option<Timestamp>,
}

impl FeedStatus {
    pub fn is_live(&self) -> bool {
        self.created_at.is_some()
    }
}

/// A feed just created: its address, this once.
#[derive(Debug, Clone)]
pub struct IssuedFeed {
    /// The path on this server (`/feeds/af_….ics`); the secret is in it.
    pub path: String,
    pub created_at: Timestamp,
}

fn feed_event(action: audit::Action, user: &User, feed: uuid::Uuid) -> Event {
    Event::new(
        action,
        Some(user.id.to_string()),
        "calendar-feed",
        Some(feed.to_string()),
    )
}

impl Alliance {
    /// Creates the caller's feed, revoking any earlier one (whose address stops working at
    /// once). The address is returned this once.
    pub async fn create_feed(&self, actor: &Actor) -> AppResult<IssuedFeed> {
        actor.ensure_may_write()?;
        if !actor.user.active {
            return Err(AppError::Denied("the account is deactivated"));
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            let replaces = self.store.live_feed(actor.user.id).await?.map(|f| f.id);
            let token = feed::new_token(random_bytes(self.random.as_ref()));
            let record = FeedRecord {
                id: self.new_id(),
                user_id: actor.user.id,
                token_hash: secret_hash(&token),
                created_at: self.clock.now(),
                revoked_at: None,
            };
            let mut events = Vec::new();
            if let Some(old) = replaces {
                events.push(
                    feed_event(audit::Action::FeedRevoked, &actor.user, old).detail("replaced"),
                );
            }
            events.push(feed_event(
                audit::Action::FeedCreated,
                &actor.user,
                record.id,
            ));
            let batch = self.audit_batch(&actor.origin, events);
            match self.store.create_feed(&record, replaces, &batch).await {
                Ok(()) => {
                    return Ok(IssuedFeed {
                        path: feed::path_of(&token),
                        created_at: record.created_at,
                    });
                }
                Err(StoreError::Conflict(_)) if attempt < CREATE_ATTEMPTS => continue,
                Err(other) => return Err(other.into()),
            }
        }
    }

    /// Revokes the caller's feed: its address answers "not found" from now on. Not found
    /// when there is no live feed.
    pub async fn revoke_feed(&self, actor: &Actor) -> AppResult<()> {
        actor.ensure_may_write()?;
        let live = self
            .store
            .live_feed(actor.user.id)
            .await?
            .ok_or(AppError::NotFound)?;
        let batch = self.audit_batch(
            &actor.origin,
            vec![feed_event(audit::Action::FeedRevoked, &actor.user, live.id)],
        );
        if self
            .store
            .revoke_feed(actor.user.id, live.id, self.clock.now(), &batch)
            .await?
        {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }

    /// Whether the caller has a live feed, and since when.
    pub async fn feed_status(&self, actor: &Actor) -> AppResult<FeedStatus> {
        Ok(FeedStatus {
            created_at: self
                .store
                .live_feed(actor.user.id)
                .await?
                .map(|f| f.created_at),
        })
    }

    /// The feed at a public address (`token` is the address's last part, with or without
    /// `.ics`): the person's sessions from four weeks back to 26 weeks ahead, cancelled ones
    /// marked so. [`AppError::NotFound`], and nothing else, for a token that is unknown or
    /// revoked, or whose person is deactivated.
    pub async fn feed_calendar(&self, token: &str, origin: &Origin) -> AppResult<String> {
        let token = feed::token_from_path(token).ok_or(AppError::NotFound)?;
        let record = self
            .store
            .feed_by_token(&secret_hash(token))
            .await?
            .filter(|f| f.revoked_at.is_none())
            .ok_or(AppError::NotFound)?;
        let user = self
            .store
            .user(record.user_id)
            .await?
            .filter(|u| u.active)
            .ok_or(AppError::NotFound)?;

        let today = self.today();
        let (from, to) = feed::window(today);
        let sessions = self
            .store
            .sessions_between(from, to, &[], &[user.id])
            .await?;
        let sessions: Vec<_> = sessions
            .into_iter()
            .filter(|s| s.booking.therapist == user.id)
            .collect();
        let places = self.feed_places(&sessions).await?;
        let initials = if self.frame_policy().await?.0.feed_shows_initials {
            self.feed_initials(&user, &sessions).await?
        } else {
            HashMap::new()
        };
        let events: Vec<FeedEvent> = sessions
            .iter()
            .map(|session| {
                let booking = &session.booking;
                let (room, site) = places
                    .get(&booking.room)
                    .cloned()
                    .unwrap_or_else(|| ("Room not recorded".to_owned(), None));
                FeedEvent {
                    id: booking.id.to_string(),
                    date: booking.date,
                    start: booking.start,
                    minutes: booking.minutes,
                    room,
                    site,
                    initials: initials.get(&session.child_id).cloned(),
                    cancelled: session
                        .attendance
                        .as_ref()
                        .is_some_and(|a| a.is_cancellation()),
                    sequence: u32::try_from(session.version.get().saturating_sub(1)).unwrap_or(0),
                    last_modified: session.updated_at,
                }
            })
            .collect();

        // Children's initials left the building: one entry naming whose.
        if !initials.is_empty() {
            let mut named: Vec<String> = initials.keys().map(ToString::to_string).collect();
            named.sort();
            self.record(
                origin,
                vec![
                    feed_event(audit::Action::FeedRead, &user, record.id).detail(&named.join(",")),
                ],
            )
            .await?;
        }

        let name = match self.store.service_profile().await? {
            Some(profile) => format!("{}: your sessions", profile.name.as_str()),
            None => "Alliance: your sessions".to_owned(),
        };
        Ok(feed::write_ics(&name, self.clock.now(), &events))
    }

    /// Each room's name and its site's name, for the sessions' rooms.
    async fn feed_places(
        &self,
        sessions: &[StoredSession],
    ) -> AppResult<HashMap<RoomId, (String, Option<String>)>> {
        let mut seen = HashSet::new();
        let rooms: Vec<RoomId> = sessions
            .iter()
            .map(|s| s.booking.room)
            .filter(|r| seen.insert(*r))
            .collect();
        let mut sites: HashMap<SiteId, Option<String>> = HashMap::new();
        let mut places = HashMap::with_capacity(rooms.len());
        for id in rooms {
            let Some(room) = self.store.room(id).await? else {
                continue;
            };
            let site = match sites.get(&room.site_id) {
                Some(name) => name.clone(),
                None => {
                    let name = self.store.site(room.site_id).await?.map(|s| s.details.name);
                    sites.insert(room.site_id, name.clone());
                    name
                }
            };
            places.insert(id, (room.details.name, site));
        }
        Ok(places)
    }

    /// The initials of the sessions' children that `user` may know (through the same rule as
    /// every list); a child they may not know (a case handed on, say) has none.
    async fn feed_initials(
        &self,
        user: &User,
        sessions: &[StoredSession],
    ) -> AppResult<HashMap<ChildId, String>> {
        let supervisees = if user.has_role(Role::Supervisor) {
            self.store.supervision_links(user.id).await?
        } else {
            Vec::new()
        };
        let mut seen = HashSet::new();
        let children: Vec<ChildId> = sessions
            .iter()
            .map(|s| s.child_id)
            .filter(|c| seen.insert(*c))
            .collect();
        let today = self.today();
        let mut initials = HashMap::new();
        for child in children {
            let cases = self.store.cases_of(child).await?;
            let standing = standing(user.id, cases.first().map(|c| &c.case), &supervisees, today);
            if !may_know_child(user, &standing) {
                continue;
            }
            match self.details_of(child).await {
                Ok(details) => {
                    let letters = details.initials();
                    if !letters.is_empty() {
                        initials.insert(child, letters);
                    }
                }
                Err(AppError::NotFound) => {}
                Err(other) => return Err(other),
            }
        }
        Ok(initials)
    }
}
