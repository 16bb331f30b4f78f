//! Use-cases: a young person's safety plan in their own words (issue 16): warning signs, ways
//! of coping, people and places, professionals and services, making their surroundings safer,
//! with a review date.
//!
//! The rules are `alliance_core::safety_plans`. A plan is clinical record: it passes the
//! child's gate (a child the reader may not know answers "not found", audited), then the
//! clinical row of the matrix: the lead, co-worker and cover write; a supervisor reads it
//! pseudonymised; everyone else (the DSL, whose share is only what is linked to a concern,
//! the parent-worker, the service lead, administrators, staff) gets "not found", audited.
//! Each opening is audited (`SafetyPlanRead`, one entry per version opened).
//!
//! Writing adds a version (numbered one more than the newest the writer read: a stale one is
//! refused), sealed under the child's clinical key, audited (`SafetyPlanWritten`) in the same
//! transaction as the task it schedules: `Rule::ReviewSafetyPlan` for the lead therapist, at
//! the start of the review date (Europe/London), once per version. The self-harm path of
//! `crate::safeguarding` asks [`Alliance::has_safety_plan`] before prompting the lead to
//! write one (`Rule::WriteSafetyPlan`).

use crate::Actor;
use crate::Alliance;
use crate::error::{AppError, AppResult};
use crate::store::{NewFiring, StoreError, StoredSafetyPlan};
use alliance_core::access::{Access, ChildData, child_access};
use alliance_core::audit::{self, Event};
use alliance_core::children::ChildId;
use alliance_core::crypto::{KeyOwner, RecordClass, SealedAt, SealingKey};
use alliance_core::emergency::PlanSummary;
use alliance_core::identity::UserId;
use alliance_core::safety_plans::{
    self as sp, SafetyPlan, SafetyPlanId, SafetyPlanInput, Settings,
};
use alliance_core::tasks::{FiringId, Recipient, Rule, Subject};
use jiff::Timestamp;

/// The record type of a plan in the audit trail and in tasks about it.
pub const RECORD_TYPE: &str = "safety-plan";
/// The settings document of the review interval.
const SETTINGS: &str = "safety-plans";

/// One version of a plan, opened.
#[derive(Debug, Clone)]
pub struct PlanVersion {
    pub id: SafetyPlanId,
    pub number: i64,
    pub plan: SafetyPlan,
    pub written_by: UserId,
    pub written_by_name: String,
    pub written_at: Timestamp,
}

/// A child's plan as a reader sees it.
#[derive(Debug, Clone)]
pub struct PlanView {
    pub child: ChildId,
    /// The child's name, or initials for a pseudonymised reader.
    pub child_shown: String,
    /// The version shown: the newest unless another was asked for; none while no plan.
    pub shown: Option<PlanVersion>,
    /// Every version, newest first: (number, when written).
    pub versions: Vec<(i64, Timestamp)>,
    /// The newest version's number (0 while none), which a writer starts from.
    pub newest: i64,
    pub may_write: bool,
}

fn clinical_owner(child: ChildId) -> KeyOwner {
    KeyOwner::Child {
        child: child.to_string(),
        class: RecordClass::Clinical,
    }
}

fn at(row: &str) -> SealedAt<'_> {
    SealedAt {
        table: "safety_plans",
        column: "plan",
        row,
    }
}

fn plan_event(action: audit::Action, actor: &Actor, child: ChildId, id: String) -> Event {
    Event::new(
        action,
        Some(actor.user.id.to_string()),
        RECORD_TYPE,
        Some(id),
    )
    .for_child(child)
}

/// The instant a plan reviewed on `on` comes up: the start of that day in Europe/London.
pub fn review_instant(on: jiff::civil::Date) -> Timestamp {
    alliance_core::uk::london()
        .to_timestamp(on.to_datetime(jiff::civil::Time::midnight()))
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

impl Alliance {
    async fn clinical_key_of(&self, child: ChildId) -> AppResult<SealingKey> {
        Ok(self
            .keys
            .data_key(&clinical_owner(child), self.clock.now())
            .await?)
    }

    fn open_plan(&self, key: &SealingKey, stored: &StoredSafetyPlan) -> AppResult<SafetyPlan> {
        let row = stored.id.to_string();
        let plain = key
            .open(&stored.sealed, at(&row))
            .map_err(|e| AppError::Store(StoreError::Other(e.to_string())))?;
        serde_json::from_slice(&plain).map_err(|e| {
            AppError::Store(StoreError::Other(format!(
                "a stored safety plan did not decode: {e}"
            )))
        })
    }

    /// Whether the child has a plan (for the self-harm path's prompt).
    pub(crate) async fn has_safety_plan(&self, child: ChildId) -> AppResult<bool> {
        Ok(!self.store.safety_plans(child).await?.is_empty())
    }

    /// The newest plan's summary, for the emergency panel (a caller that has passed the
    /// panel's check).
    pub(crate) async fn current_plan_summary(
        &self,
        child: ChildId,
    ) -> AppResult<Option<PlanSummary>> {
        let plans = self.store.safety_plans(child).await?;
        let Some(newest) = plans.first() else {
            return Ok(None);
        };
        let key = self.clinical_key_of(child).await?;
        Ok(Some(self.open_plan(&key, newest)?.summary()))
    }

    /// The clinical access of the reader to the child, through the child's gate; "not found"
    /// (audited) unless it opens safety plans.
    async fn plan_gate(&self, actor: &Actor, child: ChildId, asked: &str) -> AppResult<Access> {
        let (standing, _) = self.get_child_gate(actor, child, asked).await?;
        let access = child_access(&actor.user, &standing, ChildData::Clinical);
        if sp::may_read(access) {
            Ok(access)
        } else {
            self.audit_refusal(actor, asked, RECORD_TYPE, child.to_string(), child)
                .await?;
            Err(AppError::NotFound)
        }
    }

    /// A child's plan: the newest version, or version `number`, with the list of versions
    /// (audited: one entry for the version opened).
    pub async fn safety_plan(
        &self,
        actor: &Actor,
        child: ChildId,
        number: Option<i64>,
    ) -> AppResult<PlanView> {
        let access = self.plan_gate(actor, child, "read safety plan").await?;
        let plans = self.store.safety_plans(child).await?;
        let newest = plans.first().map(|p| p.number).unwrap_or(0);
        let chosen = match number {
            None => plans.first(),
            Some(n) => Some(
                plans
                    .iter()
                    .find(|p| p.number == n)
                    .ok_or(AppError::NotFound)?,
            ),
        };
        let shown = match chosen {
            Some(stored) => {
                let key = self.clinical_key_of(child).await?;
                let plan = self.open_plan(&key, stored)?;
                let names = self.staff_names(&[stored.written_by]).await?;
                Some(PlanVersion {
                    id: stored.id,
                    number: stored.number,
                    plan,
                    written_by: stored.written_by,
                    written_by_name: names.get(&stored.written_by).cloned().unwrap_or_default(),
                    written_at: stored.created_at,
                })
            }
            None => None,
        };
        let details = self.details_of(child).await?;
        let child_shown = if access == Access::Pseudonymised {
            details.initials()
        } else {
            details.known_as().to_owned()
        };
        let id = shown
            .as_ref()
            .map(|v| v.id.to_string())
            .unwrap_or_else(|| child.to_string());
        self.record(
            &actor.origin,
            vec![plan_event(audit::Action::SafetyPlanRead, actor, child, id)],
        )
        .await?;
        Ok(PlanView {
            child,
            child_shown,
            shown,
            versions: plans.iter().map(|p| (p.number, p.created_at)).collect(),
            newest,
            may_write: sp::may_write(access) && actor.may_write(),
        })
    }

    /// Writes a new version of the child's plan, from the newest the writer read (`expected`:
    /// its number, none for the first), and schedules its review for the lead therapist.
    pub async fn write_safety_plan(
        &self,
        actor: &Actor,
        child: ChildId,
        input: &SafetyPlanInput,
        expected: Option<i64>,
    ) -> AppResult<PlanVersion> {
        const ASKED: &str = "write safety plan";
        let access = self.plan_gate(actor, child, ASKED).await?;
        if !sp::may_write(access) || !actor.may_write() {
            self.audit_refusal(actor, ASKED, RECORD_TYPE, child.to_string(), child)
                .await?;
            return Err(if actor.may_write() {
                AppError::Denied("only the lead therapist, co-worker or cover write a safety plan")
            } else {
                AppError::Denied("this API token is read-only")
            });
        }
        let (settings, _) = self.safety_plan_settings().await?;
        let plan = SafetyPlan::parse(input, self.today(), &settings)?;
        let id = SafetyPlanId(self.new_id());
        let key = self.clinical_key_of(child).await?;
        let plain = serde_json::to_vec(&plan)
            .map_err(|e| AppError::Store(StoreError::Other(e.to_string())))?;
        let row = id.to_string();
        let now = self.clock.now();
        let number = expected.unwrap_or(0) + 1;
        let stored = StoredSafetyPlan {
            id,
            child,
            number,
            sealed: self.keys.seal_with(&key, &plain, at(&row)),
            written_by: actor.user.id,
            created_at: now,
        };
        let mut audit = self.audit_batch(
            &actor.origin,
            vec![plan_event(
                audit::Action::SafetyPlanWritten,
                actor,
                child,
                row.clone(),
            )],
        );
        let cases = self.store.cases_of(child).await?;
        if let Some(case) = cases.first().filter(|c| c.case.is_open())
            && let Some(lead) = case.case.current_lead(self.today())
        {
            audit.follow_ups.push(NewFiring {
                id: FiringId(self.new_id()),
                rule: Rule::ReviewSafetyPlan,
                fire_at: review_instant(plan.review_on),
                recipient: Recipient::User(lead.user_id),
                subject: Some(Subject {
                    child: Some(child),
                    record_type: RECORD_TYPE.to_owned(),
                    record_id: row.clone(),
                }),
                reference: case.case.number_label(),
                dedupe_key: format!("safety-plan:{id}:review"),
            });
        }
        self.store
            .add_safety_plan(&stored, &audit)
            .await
            .map_err(|e| match e {
                StoreError::Stale { .. } => AppError::Conflict(
                    "the safety plan has a newer version than the one you started from: \
                     open it again"
                        .to_owned(),
                ),
                other => other.into(),
            })?;
        let names = self.staff_names(&[actor.user.id]).await?;
        Ok(PlanVersion {
            id,
            number,
            plan,
            written_by: actor.user.id,
            written_by_name: names.get(&actor.user.id).cloned().unwrap_or_default(),
            written_at: now,
        })
    }

    /// The service's review interval, with its version (none while the default stands).
    pub async fn safety_plan_settings(
        &self,
    ) -> AppResult<(Settings, Option<alliance_core::Version>)> {
        Ok(
            match self
                .settings_document::<Settings>(SETTINGS, "safety plan settings")
                .await?
            {
                None => (Settings::default(), None),
                Some((s, v)) => (s, Some(v)),
            },
        )
    }

    /// Changes the review interval (the service lead and administrators, as for the
    /// service's other settings).
    pub async fn set_safety_plan_settings(
        &self,
        actor: &Actor,
        settings: Settings,
        expected: Option<alliance_core::Version>,
    ) -> AppResult<Settings> {
        use alliance_core::identity::Role;
        if !(actor.user.has_role(Role::ServiceLead) || actor.user.has_role(Role::Administrator)) {
            self.record(
                &actor.origin,
                vec![
                    Event::new(
                        audit::Action::Denied,
                        Some(actor.user.id.to_string()),
                        "service",
                        Some("1".to_owned()),
                    )
                    .detail("update safety plan settings"),
                ],
            )
            .await?;
            return Err(AppError::Denied(
                "only the service lead and administrators change the service's settings",
            ));
        }
        actor.ensure_may_write()?;
        settings.check()?;
        self.put_settings_document(actor, SETTINGS, &settings, expected)
            .await?;
        Ok(settings)
    }
}
