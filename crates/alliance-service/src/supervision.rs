//! Supervision records (clinical-facts section 6.3): a supervisor records each supervision of
//! their own supervisees (date, minutes, the cases discussed by number, the actions agreed);
//! each therapist reads their own, with the hours of the last twelve months, to show their
//! professional body. The actions are sealed under the service key `supervision`.

use crate::app::Alliance;
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::store::{StoreError, StoredSupervision};
use alliance_core::Invalid;
use alliance_core::audit::{self, Event};
use alliance_core::crypto::{KeyOwner, SealedAt};
use alliance_core::identity::{Role, UserId};
use alliance_core::supervision::{Supervision, SupervisionInput};
use uuid::Uuid;

const SUPERVISION: &str = "supervision";

fn owner() -> KeyOwner {
    KeyOwner::Service {
        purpose: SUPERVISION.to_owned(),
    }
}

/// A supervision, opened for its supervisor or supervisee.
#[derive(Debug, Clone, PartialEq)]
pub struct SupervisionView {
    pub stored: StoredSupervision,
    pub actions: Option<String>,
    pub supervisor: String,
    pub supervisee: String,
}

/// What a person sees of supervision: what they received, what they gave, and the time.
#[derive(Debug, Clone)]
pub struct MySupervision {
    /// Supervisions where they were the supervisee, newest first.
    pub received: Vec<SupervisionView>,
    /// Supervisions they gave (supervisors), newest first.
    pub given: Vec<SupervisionView>,
    /// Minutes received in the twelve months up to today.
    pub minutes_last_year: i64,
    /// Whom they may record supervision for (supervisors): id and name.
    pub supervisees: Vec<(UserId, String)>,
}

impl Alliance {
    /// The caller's supervision records.
    pub async fn my_supervision(&self, actor: &Actor) -> AppResult<MySupervision> {
        let me = actor.user.id;
        let stored = self.store.supervisions_of(me).await?;
        let mut ids: Vec<UserId> = stored
            .iter()
            .flat_map(|s| [s.supervisor, s.supervisee])
            .collect();
        let links = if actor.user.has_role(Role::Supervisor) {
            self.store.supervision_links(me).await?
        } else {
            Vec::new()
        };
        ids.extend(links.iter().map(|(u, _)| *u));
        let names = self.staff_names(&ids).await?;
        let year_ago = self
            .today()
            .checked_sub(jiff::Span::new().years(1))
            .unwrap_or(self.today());
        let mut received = Vec::new();
        let mut given = Vec::new();
        let mut minutes_last_year = 0;
        for s in stored {
            let row = s.id.to_string();
            let plain = self
                .keys
                .open(
                    &owner(),
                    &s.actions,
                    SealedAt {
                        table: "supervisions",
                        column: "actions",
                        row: &row,
                    },
                    self.clock.now(),
                )
                .await
                .map_err(|e| AppError::Store(StoreError::Other(e.to_string())))?;
            let actions = String::from_utf8_lossy(&plain).into_owned();
            let view = SupervisionView {
                actions: (!actions.is_empty()).then_some(actions),
                supervisor: names.get(&s.supervisor).cloned().unwrap_or_default(),
                supervisee: names.get(&s.supervisee).cloned().unwrap_or_default(),
                stored: s,
            };
            if view.stored.supervisee == me {
                if view.stored.held_on > year_ago {
                    minutes_last_year += view.stored.minutes;
                }
                received.push(view);
            } else if view.stored.supervisor == me {
                given.push(view);
            }
        }
        Ok(MySupervision {
            received,
            given,
            minutes_last_year,
            supervisees: links
                .iter()
                .map(|(u, _)| (*u, names.get(u).cloned().unwrap_or_default()))
                .collect(),
        })
    }

    /// Records a supervision of one of the caller's own supervisees.
    pub async fn record_supervision(
        &self,
        actor: &Actor,
        input: &SupervisionInput,
    ) -> AppResult<Uuid> {
        let supervisee = Uuid::parse_str(input.supervisee.trim())
            .map(UserId)
            .map_err(|_| Invalid::field("supervisee", "Choose one of your supervisees"))?;
        let mine = actor.user.has_role(Role::Supervisor)
            && self
                .store
                .supervision_links(actor.user.id)
                .await?
                .iter()
                .any(|(u, _)| *u == supervisee);
        if !(mine && actor.may_write()) {
            self.record(
                &actor.origin,
                vec![
                    Event::new(
                        audit::Action::Denied,
                        Some(actor.user.id.to_string()),
                        "supervision",
                        None,
                    )
                    .detail("record supervision"),
                ],
            )
            .await?;
            return Err(if !actor.may_write() {
                AppError::Denied("this API token is read-only")
            } else {
                Invalid::field("supervisee", "Choose one of your supervisees").into()
            });
        }
        let supervision = Supervision::parse(input, self.today())?;
        let id = self.new_id();
        let row = id.to_string();
        let sealed = self
            .keys
            .seal(
                &owner(),
                supervision.actions.clone().unwrap_or_default().as_bytes(),
                SealedAt {
                    table: "supervisions",
                    column: "actions",
                    row: &row,
                },
                self.clock.now(),
            )
            .await?;
        let stored = StoredSupervision {
            id,
            supervisor: actor.user.id,
            supervisee,
            held_on: supervision.held_on,
            minutes: i64::from(supervision.minutes),
            cases: supervision.cases,
            group: supervision.group,
            actions: sealed,
            created_at: self.clock.now(),
        };
        let batch = self.audit_batch(
            &actor.origin,
            vec![Event::new(
                audit::Action::SupervisionRecorded,
                Some(actor.user.id.to_string()),
                "supervision",
                Some(id.to_string()),
            )],
        );
        self.store.record_supervision(&stored, &batch).await?;
        Ok(id)
    }
}
