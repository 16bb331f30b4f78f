//! The audit pages: a child's trail (service lead; the DSL for safeguarding rows), the administrators' view (ids and actions, no safeguarding or allegation rows), and each person's own activity.
//!
//! Who reads which rows is `alliance_core::audit::readable_categories`; storage is asked only
//! for those categories, so a row a reader may not see never leaves the database for them.
//! A child's trail is reached through the child's gate first (a child the reader may not
//! know is "not found"), and a reader the trail is not for is answered "not found" too,
//! audited. Reading any audit page is itself audited (`audit.viewed`, with the child's id on
//! a child's page).

use crate::app::Alliance;
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::store::AuditQuery;
use alliance_core::audit::{self, Category, Event, Trail, TrailFilter, readable_categories};
use alliance_core::children::ChildId;
use alliance_core::identity::UserId;
use alliance_core::{Invalid, PageRequest};
use jiff::Timestamp;
use std::collections::HashMap;

/// One row of an audit page, as its reader may see it: ids and the action, never content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditLine {
    pub seq: i64,
    pub at: Timestamp,
    pub action: audit::Action,
    /// Who acted (a user id), if anyone is known.
    pub actor: Option<String>,
    /// Their name, where the page may show staff names (a child's page, one's own activity).
    pub actor_name: Option<String>,
    pub record_type: String,
    pub record_id: Option<String>,
    pub child: Option<String>,
    pub category: Category,
    /// What a refusal asked for, and the like (an action name or ids): left out of the
    /// administrators' view.
    pub detail: Option<String>,
    pub request_id: String,
}

/// A page of an audit trail, newest first.
#[derive(Debug, Clone)]
pub struct TrailPage {
    pub lines: Vec<AuditLine>,
    /// The cursor of the next (older) page, if there is one.
    pub next: Option<String>,
    /// The categories this reader sees here.
    pub categories: Vec<Category>,
}

/// How an audit page shows its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shows {
    /// Staff names and details (a child's page, one's own activity).
    NamesAndDetail,
    /// Ids and actions only (the administrators' view).
    IdsOnly,
}

/// The cursor of a page of the trail: the sequence number of the last row shown.
fn before_seq(page: &PageRequest) -> AppResult<Option<i64>> {
    match &page.after {
        None => Ok(None),
        Some(cursor) => cursor
            .as_str()
            .parse::<i64>()
            .ok()
            .filter(|seq| *seq > 0)
            .map(Some)
            .ok_or_else(|| {
                Invalid::field("after", "This is not a cursor this list gave out").into()
            }),
    }
}

impl Alliance {
    /// Rows of the trail for `query` (its categories, child and actor set by the caller),
    /// with the page's filter and cursor, as `shows` allows.
    async fn trail_page(
        &self,
        mut query: AuditQuery,
        filter: &TrailFilter,
        page: &PageRequest,
        shows: Shows,
    ) -> AppResult<TrailPage> {
        let (from, until) = filter.window();
        query.action = filter.action;
        query.from = from.or(query.from);
        query.until = until.or(query.until);
        query.before_seq = before_seq(page)?;
        query.limit = page.fetch_limit();
        let categories = query.categories.clone();
        let entries = self.store.audit_trail(&query).await?;
        let limit = page.limit as usize;
        let more = entries.len() > limit;
        let entries: Vec<_> = entries.into_iter().take(limit).collect();
        let next = if more {
            entries.last().map(|e| e.seq.to_string())
        } else {
            None
        };
        let names = match shows {
            Shows::NamesAndDetail => {
                let ids: Vec<UserId> = entries
                    .iter()
                    .filter_map(|e| e.event.actor.as_deref())
                    .filter_map(|a| UserId::parse(a).ok())
                    .collect();
                self.staff_names(&ids).await?
            }
            Shows::IdsOnly => HashMap::new(),
        };
        let lines = entries
            .into_iter()
            .map(|e| {
                let actor_name = e
                    .event
                    .actor
                    .as_deref()
                    .and_then(|a| UserId::parse(a).ok())
                    .and_then(|id| names.get(&id).cloned());
                AuditLine {
                    seq: e.seq,
                    at: e.at,
                    action: e.event.action,
                    actor: e.event.actor,
                    actor_name,
                    record_type: e.event.record_type,
                    record_id: e.event.record_id,
                    child: e.event.child_id,
                    category: e.event.category,
                    detail: match shows {
                        Shows::NamesAndDetail => e.event.detail,
                        Shows::IdsOnly => None,
                    },
                    request_id: e.origin.request_id,
                }
            })
            .collect();
        Ok(TrailPage {
            lines,
            next,
            categories,
        })
    }

    fn audit_viewed(&self, actor: &Actor, record_type: &str, what: &str) -> Event {
        Event::new(
            audit::Action::AuditViewed,
            Some(actor.user.id.to_string()),
            record_type,
            None,
        )
        .detail(what)
    }

    /// A child's audit trail: the service lead reads every row of it, the DSL and deputies
    /// its general and safeguarding rows; anyone else is answered "not found" (audited),
    /// after the child's own gate. The read is audited with the child's id.
    pub async fn child_audit(
        &self,
        actor: &Actor,
        child: ChildId,
        filter: &TrailFilter,
        page: &PageRequest,
    ) -> AppResult<TrailPage> {
        self.get_child_gate(actor, child, "read child audit")
            .await?;
        let categories = readable_categories(&actor.user, Trail::Child);
        if categories.is_empty() {
            self.audit_refusal(actor, "read child audit", "audit", child.to_string(), child)
                .await?;
            return Err(AppError::NotFound);
        }
        let trail = self
            .trail_page(
                AuditQuery {
                    child: Some(child),
                    actor: filter.actor,
                    categories,
                    ..AuditQuery::default()
                },
                filter,
                page,
                Shows::NamesAndDetail,
            )
            .await?;
        self.record(
            &actor.origin,
            vec![
                self.audit_viewed(actor, "audit", "child trail")
                    .for_child(child),
            ],
        )
        .await?;
        Ok(trail)
    }

    /// The administrators' view: every row but safeguarding and allegation rows, with ids
    /// and actions only (no names, no details). Anyone else is refused (audited).
    pub async fn administrators_audit(
        &self,
        actor: &Actor,
        filter: &TrailFilter,
        page: &PageRequest,
    ) -> AppResult<TrailPage> {
        let categories = readable_categories(&actor.user, Trail::Administrators);
        if categories.is_empty() {
            self.record(
                &actor.origin,
                vec![
                    Event::new(
                        audit::Action::Denied,
                        Some(actor.user.id.to_string()),
                        "audit",
                        None,
                    )
                    .detail("read audit trail"),
                ],
            )
            .await?;
            return Err(AppError::Denied(
                "only administrators read the service's audit trail here",
            ));
        }
        let trail = self
            .trail_page(
                AuditQuery {
                    child: filter.child,
                    actor: filter.actor,
                    categories,
                    ..AuditQuery::default()
                },
                filter,
                page,
                Shows::IdsOnly,
            )
            .await?;
        self.record(
            &actor.origin,
            vec![self.audit_viewed(actor, "audit", "administrators")],
        )
        .await?;
        Ok(trail)
    }

    /// The reader's own activity: the rows they wrote, whatever the category (they did it).
    pub async fn own_activity(
        &self,
        actor: &Actor,
        filter: &TrailFilter,
        page: &PageRequest,
    ) -> AppResult<TrailPage> {
        let categories = readable_categories(&actor.user, Trail::Own);
        if categories.is_empty() {
            return Err(AppError::Unauthenticated);
        }
        let trail = self
            .trail_page(
                AuditQuery {
                    child: filter.child,
                    actor: Some(actor.user.id),
                    categories,
                    ..AuditQuery::default()
                },
                filter,
                page,
                Shows::NamesAndDetail,
            )
            .await?;
        self.record(
            &actor.origin,
            vec![self.audit_viewed(actor, "audit", "own activity")],
        )
        .await?;
        Ok(trail)
    }

    /// What was done under a break-glass grant: the holder's rows about the child between
    /// its start and its end, in the categories the reviewer reads on a child's trail
    /// (oldest first, at most `limit`).
    pub(crate) async fn entries_under_grant(
        &self,
        reviewer: &Actor,
        holder: UserId,
        child: ChildId,
        from: Timestamp,
        until: Timestamp,
        limit: u32,
    ) -> AppResult<(Vec<AuditLine>, bool)> {
        let categories = readable_categories(&reviewer.user, Trail::Child);
        if categories.is_empty() {
            return Ok((Vec::new(), false));
        }
        let page = PageRequest::parse(Some(i64::from(limit)), None)?;
        let mut trail = self
            .trail_page(
                AuditQuery {
                    child: Some(child),
                    actor: Some(holder),
                    categories,
                    from: Some(from),
                    // The end itself included (ending it early is done under it).
                    until: Some(
                        until
                            .saturating_add(jiff::SignedDuration::from_micros(1))
                            .unwrap_or(until),
                    ),
                    ..AuditQuery::default()
                },
                &TrailFilter::default(),
                &page,
                Shows::NamesAndDetail,
            )
            .await?;
        // Oldest first, as it happened; the caller says when there was more.
        trail.lines.reverse();
        Ok((trail.lines, trail.next.is_some()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cursor_is_a_sequence_number() {
        let page = |after: &str| PageRequest::parse(Some(10), Some(after)).unwrap_or_default();
        assert_eq!(before_seq(&page("42")).ok().flatten(), Some(42));
        assert!(before_seq(&page("abc")).is_err());
        assert!(before_seq(&page("0")).is_err());
        assert_eq!(before_seq(&PageRequest::default()).ok().flatten(), None);
    }
}
