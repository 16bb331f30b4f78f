//! Tasks and notices: each person's inbox, and the scheduler that raises, escalates and
//! nudges by the rules features register (`alliance_core::tasks::Rule`).
//!
//! The scheduler keeps nothing in memory: firings, claims, escalation levels and the nudge
//! queue are rows, claimed with a lease, so any number of processes may run it against one
//! PostgreSQL database and nothing fires twice; after downtime it catches up on whatever fell
//! due. A task that points at a child's record is shown only to someone who passes that
//! record's check, whoever owns it.

use crate::app::Alliance;
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::store::{NewFiring, NewTask, StoreError, StoredComment, StoredHoliday, TaskFilter};
use alliance_core::audit::{self, Event};
use alliance_core::calendar::{BankHolidays, Division, WorkingCalendar, WorkingHours};
use alliance_core::crypto::{KeyOwner, SealedAt};
use alliance_core::identity::{Role, User, UserId};
use alliance_core::tasks::{
    Comment, Due, FiringId, Recipient, Rule, StepRecipient, Subject, Task, TaskId, parse_comment,
};
use alliance_core::{Invalid, Nation, Page, PageRequest, Version};
use jiff::SignedDuration;
use std::collections::{BTreeSet, HashMap};

/// The service key task comments are sealed under.
const TASK_COMMENTS: &str = "task-comments";
/// How long a process holds what it claimed before another may take it over.
const LEASE: SignedDuration = SignedDuration::from_secs(120);
/// How long to wait before trying a failed nudge again.
const NUDGE_RETRY: SignedDuration = SignedDuration::from_secs(300);
/// The most an inbox badge counts (the page says "99+").
pub const BADGE_LIMIT: i64 = 100;

/// What one pass of the scheduler did (counts only).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SchedulerReport {
    pub fired: usize,
    pub escalated: usize,
    pub nudged: usize,
    pub nudges_failed: usize,
}

/// A task with its comments, for its owner.
#[derive(Debug, Clone)]
pub struct TaskDetail {
    pub task: Task,
    pub comments: Vec<Comment>,
}

fn task_event(
    action: audit::Action,
    actor: Option<UserId>,
    task: TaskId,
    child: Option<String>,
) -> Event {
    let mut event = Event::new(
        action,
        actor.map(|a| a.to_string()),
        "task",
        Some(task.to_string()),
    );
    event.child_id = child;
    event
}

impl Alliance {
    /// A follow-up for a use-case to attach to its change's audit batch: raised now (or at
    /// `fire_at`) by the scheduler, once per `dedupe_key`.
    pub(crate) fn follow_up(
        &self,
        rule: Rule,
        recipient: Recipient,
        subject: Option<Subject>,
        dedupe_key: String,
    ) -> NewFiring {
        NewFiring {
            id: FiringId(self.new_id()),
            rule,
            fire_at: self.clock.now(),
            recipient,
            subject,
            reference: String::new(),
            dedupe_key,
        }
    }

    /// The service's working days: the bank holidays shipped for its nation and any imported
    /// since, with the policy's working hours.
    pub async fn working_calendar(&self) -> AppResult<WorkingCalendar> {
        let nation = self
            .store
            .service_profile()
            .await?
            .map_or(Nation::England, |p| p.nation);
        let division = Division::for_nation(nation);
        let mut dates: BTreeSet<jiff::civil::Date> = BankHolidays::shipped()
            .in_division(division)
            .map(|(date, _)| date)
            .collect();
        dates.extend(
            self.store
                .imported_holidays()
                .await?
                .into_iter()
                .filter(|h| h.division == division.code())
                .map(|h| h.date),
        );
        Ok(WorkingCalendar::new(dates, WorkingHours::default()))
    }

    /// Imports bank holidays in the UK government's JSON shape (administrators). With
    /// `save` false nothing is stored: the answer is the preview.
    pub async fn import_holidays(
        &self,
        actor: &Actor,
        json: &str,
        save: bool,
    ) -> AppResult<Vec<StoredHoliday>> {
        self.require(
            actor,
            alliance_core::policy::Action::ManageService,
            "import bank holidays",
            "bank-holidays",
            None,
        )
        .await?;
        if save && !actor.may_write() {
            return Err(AppError::Denied("this API token is read-only"));
        }
        self.import_holidays_as(Some(actor.user.id), &actor.origin, json, save)
            .await
    }

    /// The same, with the machine's authority (the command line).
    pub async fn import_holidays_from_command_line(
        &self,
        json: &str,
        save: bool,
    ) -> AppResult<Vec<StoredHoliday>> {
        self.import_holidays_as(None, &crate::accounts::command_line_origin(), json, save)
            .await
    }

    async fn import_holidays_as(
        &self,
        actor: Option<UserId>,
        origin: &alliance_core::audit::Origin,
        json: &str,
        save: bool,
    ) -> AppResult<Vec<StoredHoliday>> {
        let parsed = BankHolidays::parse_gov_json(json).map_err(|errors| Invalid {
            errors: errors.into_iter().map(Into::into).collect(),
        })?;
        let mut rows = Vec::new();
        for division in [
            Division::EnglandAndWales,
            Division::Scotland,
            Division::NorthernIreland,
        ] {
            rows.extend(
                parsed
                    .in_division(division)
                    .map(|(date, title)| StoredHoliday {
                        division: division.code().to_owned(),
                        date,
                        title: title.to_owned(),
                    }),
            );
        }
        if save {
            let audit = self.audit_batch(
                origin,
                vec![
                    Event::new(
                        audit::Action::HolidaysImported,
                        actor.map(|a| a.to_string()),
                        "bank-holidays",
                        None,
                    )
                    .detail(&format!("{} dates", rows.len())),
                ],
            );
            self.store
                .import_holidays(&rows, self.clock.now(), &audit)
                .await?;
        }
        Ok(rows)
    }

    async fn recipients(&self, recipient: Recipient) -> AppResult<Vec<UserId>> {
        match recipient {
            Recipient::User(id) => Ok(match self.store.user(id).await? {
                Some(user) if user.active => vec![id],
                _ => Vec::new(),
            }),
            Recipient::Role(role) => self.active_with_role(role).await,
            Recipient::OnDuty => self.on_duty_and_leads().await,
        }
    }

    async fn active_with_role(&self, role: Role) -> AppResult<Vec<UserId>> {
        Ok(self
            .active_users_with_role(role)
            .await?
            .into_iter()
            .map(|u| u.id)
            .collect())
    }

    /// Every active holder of `role`, through every page of the directory.
    pub(crate) async fn active_users_with_role(&self, role: Role) -> AppResult<Vec<User>> {
        let filter = crate::store::UserFilter {
            role: Some(role),
            active: Some(true),
            search: None,
        };
        let mut users = Vec::new();
        let mut page = PageRequest::parse(Some(200), None)?;
        loop {
            let found = self.store.list_users(&filter, &page).await?;
            users.extend(found.items);
            match found.next {
                Some(next) => page = PageRequest::parse(Some(200), Some(&next))?,
                None => break,
            }
        }
        Ok(users)
    }

    /// Whether `user` may see what `subject` points at (the record's own check).
    async fn may_see_subject(&self, user: UserId, subject: &Option<Subject>) -> AppResult<bool> {
        if let Some(subject) = subject
            && matches!(subject.record_type.as_str(), "concern" | "allegation")
        {
            return match self.store.user(user).await? {
                Some(person) => self.may_see_concern_subject(&person, subject).await,
                None => Ok(false),
            };
        }
        if let Some(subject) = subject
            && subject.record_type == crate::break_glass::RECORD_TYPE
        {
            return match self.store.user(user).await? {
                Some(person) => Ok(self.may_see_break_glass_subject(&person)),
                None => Ok(false),
            };
        }
        if let Some(subject) = subject
            && subject.record_type == crate::retention::DESTRUCTION
        {
            return match self.store.user(user).await? {
                Some(person) => self.may_see_destruction_subject(&person, subject).await,
                None => Ok(false),
            };
        }
        if let Some(subject) = subject
            && subject.record_type == crate::subject_access::RECORD
        {
            return match self.store.user(user).await? {
                Some(person) => self.may_see_sar_subject(&person, subject).await,
                None => Ok(false),
            };
        }
        if let Some(subject) = subject
            && subject.record_type == "transfer"
        {
            return match self.store.user(user).await? {
                Some(person) => self.may_see_transfer_subject(&person, subject).await,
                None => Ok(false),
            };
        }
        let Some(child) = subject.as_ref().and_then(|s| s.child) else {
            return Ok(true);
        };
        let Some(person) = self.store.user(user).await? else {
            return Ok(false);
        };
        if self.store.child(child).await?.is_none() {
            return Ok(false);
        }
        self.may_know_child_now(&person, child).await
    }

    /// What a title names: the case number for a case, else the record type.
    async fn reference_for(&self, subject: &Option<Subject>) -> AppResult<String> {
        if let Some(subject) = subject
            && subject.record_type == "case"
            && let Ok(id) = alliance_core::cases::CaseId::parse(&subject.record_id)
            && let Some(case) = self.store.case(id).await?
        {
            return Ok(case.case.number_label());
        }
        Ok(subject
            .as_ref()
            .map(|s| s.record_type.clone())
            .unwrap_or_default())
    }

    /// One pass of the scheduler: raise what fell due, escalate what is overdue, send the
    /// nudges. Safe to run in any number of processes at once.
    pub async fn run_scheduler_once(&self, worker: &str) -> AppResult<SchedulerReport> {
        let mut report = SchedulerReport::default();
        let calendar = self.working_calendar().await?;
        let (timing, _) = self.safeguarding_timing().await?;
        let origin = alliance_core::audit::Origin {
            request_id: format!("scheduler-{worker}"),
            address: "local".to_owned(),
        };
        // Prompts worked out from the sessions (breaks, endings) join what is due.
        self.schedule_frame_prompts(&origin).await?;
        // The first-session checklist at a new case, and explanations again in a new band.
        self.schedule_checklist_prompts(&origin).await?;
        // Carers' review meetings at the service's interval.
        self.schedule_carer_reviews(&origin).await?;
        // Raise what fell due (including whatever fell due while nothing was running).
        loop {
            let now = self.clock.now();
            let claimed = self
                .store
                .claim_firings(worker, now, now.saturating_add(LEASE).unwrap_or(now), 50)
                .await?;
            if claimed.is_empty() {
                break;
            }
            for firing in claimed {
                // A scheduled escalation nobody needs any more (the concern was
                // acknowledged): spent without raising anything.
                if !self.safeguarding_firing_wanted(&firing).await? {
                    let audit = self.audit_batch(&origin, Vec::new());
                    if self.store.fire(firing.id, &[], &[], now, &audit).await? {
                        report.fired += 1;
                    }
                    continue;
                }
                let reference = if firing.reference.is_empty() {
                    self.reference_for(&firing.subject).await?
                } else {
                    firing.reference.clone()
                };
                // Counted from when it was raised (the firing's time), not from when this
                // pass runs: a late or paused scheduler never moves a deadline.
                let raised = firing.fire_at.min(now);
                let due_at = firing.rule.due().map(|due| match due {
                    Due::WorkingDays(n) => calendar.deadline_after_working_days(raised, n),
                    Due::Now => now,
                    Due::UrgentMinutes => timing.urgent_deadline(raised),
                    Due::SafeguardingAcknowledgement => {
                        timing.acknowledge_deadline(raised, &calendar)
                    }
                    Due::AllegationReferral => calendar
                        .deadline_after_working_days(raised, timing.allegation_refer_working_days),
                    Due::SafeguardingDecision => timing.decide_deadline(raised, &calendar),
                    Due::EndOfWorkingDay => calendar.end_of_working_day(raised),
                    // Worked out below from the record (a transfer's deadline).
                    Due::Recorded => now,
                });
                let due_at = match firing.rule.due() {
                    Some(Due::Recorded) => self.recorded_due(&firing.subject).await?.or(due_at),
                    _ => due_at,
                };
                let mut tasks = Vec::new();
                for owner in self.recipients(firing.recipient).await? {
                    if !self.may_see_subject(owner, &firing.subject).await? {
                        continue;
                    }
                    tasks.push(NewTask {
                        id: TaskId(self.new_id()),
                        rule: firing.rule,
                        owner,
                        title: firing.rule.title(&reference),
                        subject: firing.subject.clone(),
                        due_at,
                    });
                }
                let child = firing
                    .subject
                    .as_ref()
                    .and_then(|s| s.child)
                    .map(|c| c.to_string());
                let events = tasks
                    .iter()
                    .map(|t| task_event(audit::Action::TaskRaised, None, t.id, child.clone()))
                    .collect::<Vec<_>>();
                let nudges: Vec<UserId> = tasks.iter().map(|t| t.owner).collect();
                let audit = self.audit_batch(&origin, events);
                if self
                    .store
                    .fire(firing.id, &tasks, &nudges, now, &audit)
                    .await?
                {
                    report.fired += 1;
                }
            }
        }
        // Escalate what is overdue, one ladder step at a time.
        let now = self.clock.now();
        for task in self.store.overdue_tasks(now, 500).await? {
            let ladder = task.rule.ladder();
            let Some(step) = ladder.get(task.escalation_level as usize) else {
                continue;
            };
            let Some(due) = task.due_at else { continue };
            let step_at = if step.after_working_days == 0 {
                due
            } else {
                calendar.deadline_after_working_days(due, step.after_working_days)
            };
            if now < step_at {
                continue;
            }
            let told = match step.notify {
                StepRecipient::Owner => vec![task.owner],
                StepRecipient::Role(role) => self.active_with_role(role).await?,
                StepRecipient::OnDuty => self.on_duty_and_leads().await?,
            };
            let mut notices = Vec::new();
            for owner in told {
                if !self.may_see_subject(owner, &task.subject).await? {
                    continue;
                }
                notices.push(NewTask {
                    id: TaskId(self.new_id()),
                    rule: Rule::Overdue,
                    owner,
                    title: Rule::Overdue.title(&task.title),
                    subject: task.subject.clone(),
                    due_at: None,
                });
            }
            let child = task
                .subject
                .as_ref()
                .and_then(|s| s.child)
                .map(|c| c.to_string());
            let mut events = vec![task_event(
                audit::Action::TaskEscalated,
                None,
                task.id,
                child.clone(),
            )];
            events.extend(
                notices
                    .iter()
                    .map(|n| task_event(audit::Action::TaskRaised, None, n.id, child.clone())),
            );
            let nudges: Vec<UserId> = notices.iter().map(|n| n.owner).collect();
            let audit = self.audit_batch(&origin, events);
            if self
                .store
                .escalate(
                    task.id,
                    task.escalation_level,
                    &notices,
                    &nudges,
                    now,
                    &audit,
                )
                .await?
            {
                report.escalated += 1;
            }
        }
        // Nudge by email: no names, no content.
        loop {
            let now = self.clock.now();
            let claimed = self
                .store
                .claim_nudges(worker, now, now.saturating_add(LEASE).unwrap_or(now), 50)
                .await?;
            if claimed.is_empty() {
                break;
            }
            for (id, user) in claimed {
                let email = self
                    .store
                    .user(user)
                    .await?
                    .filter(|u| u.active)
                    .and_then(|u| u.email);
                match (&self.mailer, email) {
                    (Some(mailer), Some(to)) => match mailer.send_nudge(&to).await {
                        Ok(()) => {
                            self.store.nudge_done(id, now).await?;
                            report.nudged += 1;
                        }
                        Err(err) => {
                            tracing::warn!(%err, "a nudge could not be sent; it will be tried again");
                            self.store
                                .nudge_failed(id, now.saturating_add(NUDGE_RETRY).unwrap_or(now))
                                .await?;
                            report.nudges_failed += 1;
                        }
                    },
                    // No mail server, or no address: nothing to send.
                    _ => self.store.nudge_done(id, now).await?,
                }
            }
        }
        Ok(report)
    }

    /// The actor's tasks and notices, without any that point at a record they may no longer
    /// see (a child's case moved on, say).
    pub async fn inbox(
        &self,
        actor: &Actor,
        filter: TaskFilter,
        page: &PageRequest,
    ) -> AppResult<Page<Task>> {
        let mut found = match self.store.tasks_for(actor.user.id, filter, page).await {
            Err(StoreError::NotFound) => {
                return Err(
                    Invalid::field("after", "This is not a cursor this list gave out").into(),
                );
            }
            other => other?,
        };
        let mut visible = Vec::with_capacity(found.items.len());
        let mut seen: HashMap<String, bool> = HashMap::new();
        for task in found.items {
            let key = task
                .subject
                .as_ref()
                .and_then(|s| s.child)
                .map(|c| c.to_string())
                .unwrap_or_default();
            let allowed = match seen.get(&key) {
                Some(allowed) => *allowed,
                None => {
                    let allowed = self.may_see_subject(actor.user.id, &task.subject).await?;
                    seen.insert(key, allowed);
                    allowed
                }
            };
            if allowed {
                visible.push(task);
            }
        }
        found.items = visible;
        Ok(found)
    }

    /// How many open tasks and notices the actor has (at most [`BADGE_LIMIT`]), for the badge
    /// on every page.
    pub async fn open_task_count(&self, actor: &Actor) -> AppResult<usize> {
        let page = PageRequest::parse(Some(BADGE_LIMIT), None)?;
        let open = self
            .inbox(
                actor,
                TaskFilter {
                    open_only: true,
                    kind: None,
                },
                &page,
            )
            .await?;
        Ok(open.items.len())
    }

    /// One of the actor's tasks, through the same checks as the inbox ("not found" otherwise,
    /// audited).
    async fn own_task(&self, actor: &Actor, id: TaskId, asked: &str) -> AppResult<Task> {
        let task = self.store.task(id).await?;
        match task {
            Some(task)
                if task.owner == actor.user.id
                    && self.may_see_subject(actor.user.id, &task.subject).await? =>
            {
                Ok(task)
            }
            _ => {
                self.record(
                    &actor.origin,
                    vec![
                        task_event(audit::Action::Denied, Some(actor.user.id), id, None)
                            .detail(asked),
                    ],
                )
                .await?;
                Err(AppError::NotFound)
            }
        }
    }

    pub async fn get_task(&self, actor: &Actor, id: TaskId) -> AppResult<TaskDetail> {
        let task = self.own_task(actor, id, "read task").await?;
        let mut comments = Vec::new();
        let stored = self.store.comments(id).await?;
        if !stored.is_empty() {
            let key = self
                .keys
                .data_key(
                    &KeyOwner::Service {
                        purpose: TASK_COMMENTS.to_owned(),
                    },
                    self.clock.now(),
                )
                .await?;
            for c in stored {
                let row = c.id.to_string();
                let text = key
                    .open(
                        &c.sealed_text,
                        SealedAt {
                            table: "task_comments",
                            column: "text",
                            row: &row,
                        },
                    )
                    .map_err(|e| AppError::Store(StoreError::Other(e.to_string())))?;
                comments.push(Comment {
                    author: c.author,
                    text: String::from_utf8_lossy(&text).into_owned(),
                    at: c.created_at,
                });
            }
        }
        Ok(TaskDetail { task, comments })
    }

    /// Completes a task, or marks a notice read.
    pub async fn complete_task(
        &self,
        actor: &Actor,
        id: TaskId,
        expected: Version,
    ) -> AppResult<Task> {
        let task = self.own_task(actor, id, "complete task").await?;
        if !actor.may_write() {
            return Err(AppError::Denied("this API token is read-only"));
        }
        let child = task
            .subject
            .as_ref()
            .and_then(|s| s.child)
            .map(|c| c.to_string());
        let audit = self.audit_batch(
            &actor.origin,
            vec![task_event(
                audit::Action::TaskCompleted,
                Some(actor.user.id),
                id,
                child,
            )],
        );
        match self
            .store
            .complete_task(id, actor.user.id, expected, self.clock.now(), &audit)
            .await
        {
            Err(StoreError::Conflict(_)) => {
                Err(Invalid::field("version", "This is done already").into())
            }
            other => Ok(other?),
        }
    }

    /// Gives a task to someone else, who must be able to see what it is about.
    pub async fn reassign_task(
        &self,
        actor: &Actor,
        id: TaskId,
        to: UserId,
        expected: Version,
    ) -> AppResult<Task> {
        let task = self.own_task(actor, id, "reassign task").await?;
        if !actor.may_write() {
            return Err(AppError::Denied("this API token is read-only"));
        }
        if !task.is_open() {
            return Err(Invalid::field("to", "This is done already").into());
        }
        let active = self.store.user(to).await?.is_some_and(|u| u.active);
        if !active || !self.may_see_subject(to, &task.subject).await? {
            return Err(Invalid::field(
                "to",
                "Choose someone who works on what this task is about",
            )
            .into());
        }
        let child = task
            .subject
            .as_ref()
            .and_then(|s| s.child)
            .map(|c| c.to_string());
        let audit = self.audit_batch(
            &actor.origin,
            vec![task_event(
                audit::Action::TaskReassigned,
                Some(actor.user.id),
                id,
                child,
            )],
        );
        Ok(self
            .store
            .reassign_task(id, to, expected, self.clock.now(), &audit)
            .await?)
    }

    pub async fn comment_on_task(&self, actor: &Actor, id: TaskId, text: &str) -> AppResult<()> {
        let task = self.own_task(actor, id, "comment on task").await?;
        if !actor.may_write() {
            return Err(AppError::Denied("this API token is read-only"));
        }
        let text = parse_comment(text).map_err(|m| Invalid::field("text", m))?;
        let comment_id = self.new_id();
        let row = comment_id.to_string();
        let sealed = self
            .keys
            .seal(
                &KeyOwner::Service {
                    purpose: TASK_COMMENTS.to_owned(),
                },
                text.as_bytes(),
                SealedAt {
                    table: "task_comments",
                    column: "text",
                    row: &row,
                },
                self.clock.now(),
            )
            .await?;
        let child = task
            .subject
            .as_ref()
            .and_then(|s| s.child)
            .map(|c| c.to_string());
        let audit = self.audit_batch(
            &actor.origin,
            vec![task_event(
                audit::Action::TaskCommented,
                Some(actor.user.id),
                id,
                child,
            )],
        );
        self.store
            .add_comment(
                &StoredComment {
                    id: comment_id,
                    task_id: id,
                    author: actor.user.id,
                    sealed_text: sealed,
                    created_at: self.clock.now(),
                },
                &audit,
            )
            .await?;
        Ok(())
    }
}
