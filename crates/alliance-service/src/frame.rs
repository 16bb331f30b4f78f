//! Breaks and endings prepared for: the service's policy (how many sessions' notice), each
//! case's outlook (the next break and the planned ending, with the sessions left before
//! each), and the scheduler's pass that raises the prompts the core works out.

use crate::app::Alliance;
use crate::auth::Actor;
use crate::error::AppResult;
use crate::store::{AuditBatch, NewFiring, RegularSlot, StoredSession};
use alliance_core::Version;
use alliance_core::audit::Origin;
use alliance_core::cases::CaseId;
use alliance_core::children::ChildId;
use alliance_core::frame::{
    self, FrameOutlook, FramePolicy, FramePolicyInput, PromptKind, SessionDay,
};
use alliance_core::policy::Action;
use alliance_core::schedule::Holidays;
use alliance_core::tasks::{FiringId, Recipient, Rule, Subject};

/// The settings document the policy is kept under.
const FRAME_POLICY: &str = "frame-policy";

fn session_days(sessions: &[StoredSession]) -> Vec<SessionDay> {
    sessions
        .iter()
        .map(|s| SessionDay {
            date: s.booking.date,
            cancelled: s.attendance.as_ref().is_some_and(|a| a.is_cancellation()),
            recorded: s.attendance.is_some(),
        })
        .collect()
}

impl Alliance {
    /// The service's policy for breaks, endings and calendar feeds, and its version (`None`
    /// while the defaults have never been changed).
    pub async fn frame_policy(&self) -> AppResult<(FramePolicy, Option<Version>)> {
        Ok(
            match self
                .settings_document::<FramePolicy>(FRAME_POLICY, "frame policy")
                .await?
            {
                None => (FramePolicy::default(), None),
                Some((policy, version)) => (policy, Some(version)),
            },
        )
    }

    /// Changes the policy (administrators).
    pub async fn set_frame_policy(
        &self,
        actor: &Actor,
        input: &FramePolicyInput,
        expected: Option<Version>,
    ) -> AppResult<FramePolicy> {
        self.require(
            actor,
            Action::ManageService,
            "update frame policy",
            "service",
            None,
        )
        .await?;
        let policy = FramePolicy::parse(input)?;
        self.put_settings_document(actor, FRAME_POLICY, &policy, expected)
            .await?;
        Ok(policy)
    }

    /// The next break and the planned ending of a case with a regular slot, as of today. For
    /// callers that have passed the child's gate.
    pub(crate) async fn outlook_of(
        &self,
        slot: &RegularSlot,
        sessions: &[StoredSession],
    ) -> AppResult<Option<FrameOutlook>> {
        let Some(calendar) = self.store.calendar(slot.calendar_id).await? else {
            return Ok(None);
        };
        let (holidays, division) = self.holidays().await?;
        let (policy, _) = self.frame_policy().await?;
        Ok(Some(frame::outlook_with(
            &slot.slot,
            &calendar.calendar,
            Holidays::new(&holidays, division),
            &session_days(sessions),
            self.today(),
            &policy,
        )))
    }

    /// The scheduler's pass over every open case with a regular slot: schedules (once each,
    /// by a stable key) the prompts that have come due, to fire in the same run. Worked out
    /// afresh from the sessions each time, so a moved slot or a new ending never leaves a
    /// stale prompt behind.
    pub(crate) async fn schedule_frame_prompts(&self, origin: &Origin) -> AppResult<()> {
        let slots = self.store.slots().await?;
        if slots.is_empty() {
            return Ok(());
        }
        let (holidays, division) = self.holidays().await?;
        let (policy, _) = self.frame_policy().await?;
        let today = self.today();
        for slot in slots {
            let Some(case) = self.store.case(slot.case_id).await? else {
                continue;
            };
            if !case.case.is_open() {
                continue;
            }
            let Some(lead) = case.case.current_lead(today) else {
                continue;
            };
            let Some(calendar) = self.store.calendar(slot.calendar_id).await? else {
                continue;
            };
            let sessions = self.store.sessions_of_case(slot.case_id).await?;
            let prompts = frame::prompts(
                &slot.slot,
                &calendar.calendar,
                Holidays::new(&holidays, division),
                &session_days(&sessions),
                today,
                &policy,
            );
            if prompts.is_empty() {
                continue;
            }
            let number = case.case.number_label();
            let firings: Vec<NewFiring> = prompts
                .iter()
                .map(|p| {
                    let (rule, reference) = match p.kind {
                        PromptKind::PrepareForBreak => (
                            Rule::PrepareForBreak,
                            format!("{number} for the break: {}", p.detail),
                        ),
                        PromptKind::BeginEndingCountdown => {
                            (Rule::EndingCountdown, format!("{number}: {}", p.detail))
                        }
                        PromptKind::CloseAtPlannedEnding => (
                            Rule::CloseAtPlannedEnding,
                            format!("{number} ({})", p.detail),
                        ),
                    };
                    NewFiring {
                        id: FiringId(self.new_id()),
                        rule,
                        fire_at: self.clock.now(),
                        recipient: Recipient::User(lead.user_id),
                        subject: Some(case_subject(case.case.child_id, slot.case_id)),
                        reference,
                        dedupe_key: format!("frame:{}:{}", slot.case_id, p.key),
                    }
                })
                .collect();
            let mut batch: AuditBatch<'_> = self.audit_batch(origin, Vec::new());
            batch.follow_ups = firings;
            self.store.append_audit(&batch).await?;
        }
        Ok(())
    }
}

fn case_subject(child: ChildId, case: CaseId) -> Subject {
    Subject {
        child: Some(child),
        record_type: "case".to_owned(),
        record_id: case.to_string(),
    }
}
