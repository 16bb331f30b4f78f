//! Use-cases: the child's own goals in their words and their 0-10 ratings (goal-based
//! outcomes, issue 17). The rules are `alliance_core::goals`.
//!
//! Goals are clinical record: every call passes the child's gate (a child the reader may not
//! know answers "not found", audited), then the clinical row of the matrix: the lead,
//! co-worker and cover write; a supervisor reads them pseudonymised; everyone else (the
//! parent-worker, the DSL, the service lead, administrators, staff, other therapists) gets
//! "not found", audited. Reading is audited (`GoalsRead`, naming the goals shown), writing too
//! (`GoalSet` for a new goal or new words, `GoalRated`, `GoalClosed`), in the transaction of
//! the change. Words and ratings are sealed under the child's clinical key
//! (`goal_wordings.content`, `goal_ratings.content`). A case holds at most three open goals
//! (storage holds the slots, so two writers at once cannot open a fourth); rewording and
//! closing are at the goal's version (a stale one is refused: 409).

use crate::demo::DemoError;
use crate::error::{AppError, AppResult};
use crate::store::{StoredGoal, StoredGoalRating, StoredGoalWording};
use crate::{Actor, Alliance};
use alliance_core::Version;
use alliance_core::access::{Access, ChildData, child_access};
use alliance_core::audit::{self, Event};
use alliance_core::cases::CaseId;
use alliance_core::children::ChildId;
use alliance_core::error::{Invalid, Validator};
use alliance_core::goals::{
    self as g, GoalId, GoalInput, GoalWords, NewGoal, RatedBy, Rating, RatingContent, SetBy,
    Status, Words,
};
use alliance_core::identity::UserId;
use alliance_core::schedule::BookingId;
use jiff::Timestamp;
use jiff::civil::Date;

/// The record type of goals in the audit trail.
pub const RECORD_TYPE: &str = "goal";

/// One rating, opened.
#[derive(Debug, Clone)]
pub struct RatingView {
    pub value: u8,
    pub rated_by: RatedBy,
    pub rated_on: Date,
    pub session: Option<BookingId>,
}

/// An earlier wording of a goal.
#[derive(Debug, Clone)]
pub struct EarlierWords {
    pub number: i64,
    pub words: String,
    pub written_at: Timestamp,
}

/// A goal as a reader sees it.
#[derive(Debug, Clone)]
pub struct GoalView {
    pub id: GoalId,
    pub case: CaseId,
    pub set_by: SetBy,
    pub set_on: Date,
    pub status: Status,
    pub closed_on: Option<Date>,
    pub version: Version,
    /// The words in use (the newest wording).
    pub words: String,
    /// The earlier wordings, oldest first.
    pub earlier: Vec<EarlierWords>,
    /// Every rating, oldest first.
    pub ratings: Vec<RatingView>,
    pub first: Option<u8>,
    pub latest: Option<u8>,
    /// Latest minus first, once rated twice.
    pub movement: Option<i8>,
}

/// A child's goals as a reader sees them.
#[derive(Debug, Clone)]
pub struct GoalsView {
    pub child: ChildId,
    /// The child's name, or initials for a pseudonymised reader.
    pub child_shown: String,
    /// Open goals first (in the order set), then closed ones.
    pub goals: Vec<GoalView>,
    /// The open case new goals go to, when the reader may write.
    pub open_case: Option<CaseId>,
    pub may_write: bool,
    /// The case's sessions up to today, newest first (to tie a rating to one).
    pub sessions: Vec<(BookingId, Date)>,
    /// The line the measure's licence requires wherever goals are shown or rated.
    pub attribution: String,
}

impl GoalsView {
    /// The open goals of the open case: the ones rated, reworded and closed now.
    pub fn open(&self) -> impl Iterator<Item = &GoalView> {
        self.goals
            .iter()
            .filter(|g| g.status == Status::Open && Some(g.case) == self.open_case)
    }

    /// Everything else: closed goals, and those of an earlier case, kept as they were.
    pub fn kept(&self) -> impl Iterator<Item = &GoalView> {
        self.goals
            .iter()
            .filter(|g| g.status != Status::Open || Some(g.case) != self.open_case)
    }
}

/// One goal's rating as typed.
#[derive(Debug, Clone)]
pub struct RatingInput {
    pub goal: GoalId,
    pub value: String,
}

/// The attribution line of the goal-based outcomes measure.
/// The attribution line of the goal-based outcomes measure: the shipped `gbo` definition's
/// `licence.attribution` (the newest version), else the line its licence requires.
pub fn gbo_attribution() -> String {
    alliance_core::measures::shipped()
        .iter()
        .filter(|d| d.id == g::MEASURE_ID)
        .max_by_key(|d| d.version)
        .and_then(|d| d.licence.attribution.clone())
        .unwrap_or_else(|| g::ATTRIBUTION.to_owned())
}

fn goal_event(action: audit::Action, actor: &Actor, child: ChildId, id: String) -> Event {
    Event::new(
        action,
        Some(actor.user.id.to_string()),
        RECORD_TYPE,
        Some(id),
    )
    .for_child(child)
}

fn decode_error(e: serde_json::Error) -> AppError {
    AppError::Store(crate::store::StoreError::Other(format!(
        "a stored goal did not decode: {e}"
    )))
}

impl Alliance {
    /// The reader's clinical access to the child through the child's gate; "not found"
    /// (audited) unless it reads goals. With the child's newest case.
    async fn goals_gate(
        &self,
        actor: &Actor,
        child: ChildId,
        asked: &str,
    ) -> AppResult<(Access, Option<CaseId>)> {
        let (standing, case) = self.get_child_gate(actor, child, asked).await?;
        let access = child_access(&actor.user, &standing, ChildData::Clinical);
        if g::may_read(access) {
            Ok((access, case))
        } else {
            self.audit_refusal(actor, asked, RECORD_TYPE, child.to_string(), child)
                .await?;
            Err(AppError::NotFound)
        }
    }

    /// The gate for writing: the reader may read goals (else "not found"), and writes them
    /// (else refused, audited), on the child's open newest case.
    async fn goals_write_gate(
        &self,
        actor: &Actor,
        child: ChildId,
        asked: &str,
    ) -> AppResult<CaseId> {
        let (access, case) = self.goals_gate(actor, child, asked).await?;
        if !g::may_write(access) || !actor.may_write() {
            self.audit_refusal(actor, asked, RECORD_TYPE, child.to_string(), child)
                .await?;
            return Err(if actor.may_write() {
                AppError::Denied("only the lead therapist, co-worker or cover set and rate goals")
            } else {
                AppError::Denied("this API token is read-only")
            });
        }
        let case = match case {
            Some(case) => self.store.case(case).await?.filter(|c| c.case.is_open()),
            None => None,
        };
        case.map(|c| c.case.id).ok_or_else(|| {
            AppError::Invalid(Invalid::field(
                "case",
                "Goals are set and rated on an open case: open one first",
            ))
        })
    }

    async fn goals_opened(&self, child: ChildId) -> AppResult<Vec<GoalView>> {
        let goals = self.store.goals_of_child(child).await?;
        let wordings = self.store.goal_wordings_of_child(child).await?;
        let ratings = self.store.goal_ratings_of_child(child).await?;
        let mut views = Vec::with_capacity(goals.len());
        for goal in goals {
            let mut words: Vec<EarlierWords> = Vec::new();
            for w in wordings.iter().filter(|w| w.goal == goal.id) {
                let opened: GoalWords = self
                    .open_record_part(child, "goal_wordings", w.id, &w.sealed)
                    .await?;
                words.push(EarlierWords {
                    number: w.number,
                    words: opened.words.as_str().to_owned(),
                    written_at: w.created_at,
                });
            }
            words.sort_by_key(|w| w.number);
            let current = words.pop().map(|w| w.words).unwrap_or_default();
            let mut rated = Vec::new();
            for r in ratings.iter().filter(|r| r.goal == goal.id) {
                let opened: RatingContent = self
                    .open_record_part(child, "goal_ratings", r.id, &r.sealed)
                    .await?;
                rated.push(RatingView {
                    value: opened.value.get(),
                    rated_by: opened.rated_by,
                    rated_on: r.rated_on,
                    session: r.session,
                });
            }
            let values: Vec<Rating> = rated
                .iter()
                .filter_map(|r| Rating::new(i64::from(r.value)).ok())
                .collect();
            views.push(GoalView {
                id: goal.id,
                case: goal.case,
                set_by: goal.set_by,
                set_on: goal.set_on,
                status: goal.status,
                closed_on: goal.closed_on,
                version: goal.version,
                words: current,
                earlier: words,
                first: rated.first().map(|r| r.value),
                latest: rated.last().map(|r| r.value),
                movement: g::movement(&values),
                ratings: rated,
            });
        }
        // Open goals first, each part in the order set.
        views.sort_by_key(|v| v.status != Status::Open);
        Ok(views)
    }

    /// A child's goals with their words, ratings and movement (audited: `GoalsRead`, naming
    /// the goals shown).
    pub async fn goals(&self, actor: &Actor, child: ChildId) -> AppResult<GoalsView> {
        let (access, case) = self.goals_gate(actor, child, "read goals").await?;
        let goals = self.goals_opened(child).await?;
        let details = self.details_of(child).await?;
        let child_shown = if access == Access::Pseudonymised {
            details.initials()
        } else {
            details.known_as().to_owned()
        };
        let open_case = match case {
            Some(case) => self
                .store
                .case(case)
                .await?
                .filter(|c| c.case.is_open())
                .map(|c| c.case.id),
            None => None,
        };
        let today = self.today();
        let sessions = match open_case {
            Some(case) if g::may_write(access) => {
                let mut list: Vec<(BookingId, Date)> = self
                    .store
                    .sessions_of_case(case)
                    .await?
                    .into_iter()
                    .filter(|s| s.booking.date <= today)
                    .map(|s| (s.booking.id, s.booking.date))
                    .collect();
                list.reverse();
                list.truncate(12);
                list
            }
            _ => Vec::new(),
        };
        let ids: Vec<String> = goals.iter().map(|g| g.id.to_string()).collect();
        let mut event = goal_event(audit::Action::GoalsRead, actor, child, child.to_string());
        if !ids.is_empty() {
            event = event.detail(&ids.join(" "));
        }
        self.record(&actor.origin, vec![event]).await?;
        Ok(GoalsView {
            child,
            child_shown,
            goals,
            open_case,
            may_write: g::may_write(access) && actor.may_write() && open_case.is_some(),
            sessions,
            attribution: gbo_attribution(),
        })
    }

    /// Sets a new goal in the child's words on the child's open case (at most three open).
    pub async fn add_goal(
        &self,
        actor: &Actor,
        child: ChildId,
        input: &GoalInput,
    ) -> AppResult<GoalId> {
        const ASKED: &str = "set goal";
        let case = self.goals_write_gate(actor, child, ASKED).await?;
        let new = NewGoal::parse(input, self.today())?;
        let open = self
            .store
            .goals_of_child(child)
            .await?
            .iter()
            .filter(|g| g.case == case && g.status == Status::Open)
            .count();
        g::may_open_another(open)?;
        let id = GoalId(self.new_id());
        let now = self.clock.now();
        let words = self
            .wording(child, id, &new.words, actor.user.id, now)
            .await?;
        let goal = StoredGoal {
            id,
            child,
            case,
            slot: None,
            set_by: new.set_by,
            set_on: new.set_on,
            status: Status::Open,
            closed_on: None,
            version: Version::FIRST,
            created_by: actor.user.id,
            created_at: now,
            updated_at: now,
        };
        let audit = self.audit_batch(
            &actor.origin,
            vec![goal_event(audit::Action::GoalSet, actor, child, id.to_string()).detail("set")],
        );
        if self.store.add_goal(&goal, &words, &audit).await? {
            Ok(id)
        } else {
            // Another writer took the last slot since the count above.
            g::may_open_another(g::MAX_OPEN)?;
            Err(AppError::Conflict(
                "the case's goals changed: open them again".to_owned(),
            ))
        }
    }

    async fn wording(
        &self,
        child: ChildId,
        goal: GoalId,
        words: &Words,
        by: UserId,
        at: Timestamp,
    ) -> AppResult<StoredGoalWording> {
        let id = self.new_id();
        let plain = serde_json::to_vec(&GoalWords {
            words: words.clone(),
        })
        .map_err(decode_error)?;
        Ok(StoredGoalWording {
            id,
            goal,
            number: 0,
            sealed: self
                .seal_record_part(child, "goal_wordings", id, &plain)
                .await?,
            written_by: by,
            created_at: at,
        })
    }

    /// The child's goal `goal` on the open case `case`, or "not found": a goal of an earlier
    /// case is kept as it was when that case closed.
    async fn goal_of(&self, child: ChildId, goal: GoalId, case: CaseId) -> AppResult<StoredGoal> {
        self.store
            .goals_of_child(child)
            .await?
            .into_iter()
            .find(|g| g.id == goal && g.case == case)
            .ok_or(AppError::NotFound)
    }

    /// New words for an open goal, at the version read; the earlier words stay.
    pub async fn reword_goal(
        &self,
        actor: &Actor,
        child: ChildId,
        goal: GoalId,
        words: &str,
        expected: Version,
    ) -> AppResult<Version> {
        const ASKED: &str = "reword goal";
        let case = self.goals_write_gate(actor, child, ASKED).await?;
        let stored = self.goal_of(child, goal, case).await?;
        if stored.status != Status::Open {
            return Err(Invalid::field("words", "A closed goal is not reworded").into());
        }
        let words = Words::parse(words).map_err(|m| Invalid::field("words", m))?;
        let wording = self
            .wording(child, goal, &words, actor.user.id, self.clock.now())
            .await?;
        let audit = self.audit_batch(
            &actor.origin,
            vec![
                goal_event(audit::Action::GoalSet, actor, child, goal.to_string())
                    .detail("reworded"),
            ],
        );
        Ok(self.store.reword_goal(&wording, expected, &audit).await?)
    }

    /// Rates open goals together (each 0-10), by the child or the child with the therapist,
    /// optionally in one of the case's sessions, on a date (today when empty).
    pub async fn rate_goals(
        &self,
        actor: &Actor,
        child: ChildId,
        ratings: &[RatingInput],
        rated_by: &str,
        session: Option<BookingId>,
        rated_on: &str,
    ) -> AppResult<usize> {
        const ASKED: &str = "rate goals";
        let case = self.goals_write_gate(actor, child, ASKED).await?;
        let goals = self.store.goals_of_child(child).await?;
        let mut v = Validator::new();
        let rated_by = v.check("rated_by", RatedBy::parse(rated_by));
        let session_date = match session {
            None => None,
            Some(id) => {
                let found = self
                    .store
                    .booked_session(id)
                    .await?
                    .filter(|s| s.case_id == case);
                v.check(
                    "session",
                    found
                        .map(|s| s.booking.date)
                        .ok_or_else(|| "Choose one of this case's sessions".to_owned()),
                )
            }
        };
        let today = self.today();
        let on = if rated_on.trim().is_empty() {
            Some(session_date.unwrap_or(today))
        } else {
            v.check("rated_on", g::not_after(rated_on, today, "rated"))
        };
        let mut parsed = Vec::new();
        for input in ratings {
            if input.value.trim().is_empty() {
                continue;
            }
            let field = format!("rating-{}", input.goal);
            let Some(goal) = goals
                .iter()
                .find(|g| g.id == input.goal && g.case == case && g.status == Status::Open)
            else {
                v.check::<()>(&field, Err("This goal is not open on this case".to_owned()));
                continue;
            };
            if let Some(value) = v.check(&field, Rating::parse(&input.value)) {
                parsed.push((goal.id, value));
            }
        }
        if parsed.is_empty() && ratings.iter().all(|r| r.value.trim().is_empty()) {
            v.check::<()>("ratings", Err("Rate at least one goal".to_owned()));
        }
        v.finish()?;
        let (Some(rated_by), Some(on)) = (rated_by, on) else {
            return Err(Invalid::field("rated_by", "Choose who rated the goals").into());
        };
        let now = self.clock.now();
        let mut stored = Vec::with_capacity(parsed.len());
        let mut events = Vec::with_capacity(parsed.len());
        for (goal, value) in &parsed {
            let id = self.new_id();
            let plain = serde_json::to_vec(&RatingContent {
                value: *value,
                rated_by,
            })
            .map_err(decode_error)?;
            stored.push(StoredGoalRating {
                id,
                goal: *goal,
                session,
                rated_on: on,
                sealed: self
                    .seal_record_part(child, "goal_ratings", id, &plain)
                    .await?,
                recorded_by: actor.user.id,
                created_at: now,
            });
            events.push(goal_event(
                audit::Action::GoalRated,
                actor,
                child,
                goal.to_string(),
            ));
        }
        let audit = self.audit_batch(&actor.origin, events);
        self.store
            .rate_goals(&stored, &audit)
            .await
            .map_err(|e| match e {
                crate::store::StoreError::Conflict(_) => AppError::Conflict(
                    "a goal was closed since the page was read: open the goals again".to_owned(),
                ),
                other => other.into(),
            })?;
        Ok(stored.len())
    }

    /// Closes an open goal (reached, or put aside) on a date (today when empty), at the
    /// version read.
    pub async fn close_goal(
        &self,
        actor: &Actor,
        child: ChildId,
        goal: GoalId,
        how: &str,
        on: &str,
        expected: Version,
    ) -> AppResult<Version> {
        const ASKED: &str = "close goal";
        let case = self.goals_write_gate(actor, child, ASKED).await?;
        let stored = self.goal_of(child, goal, case).await?;
        let mut v = Validator::new();
        let status = v.check("how", Status::parse_closure(how));
        let on = v.check("closed_on", g::not_after(on, self.today(), "closed"));
        if let Some(on) = on
            && on < stored.set_on
        {
            v.check::<()>(
                "closed_on",
                Err("A goal cannot close before it was set".to_owned()),
            );
        }
        v.finish()?;
        let (Some(status), Some(on)) = (status, on) else {
            return Err(Invalid::field("how", "Choose reached or put aside").into());
        };
        let audit = self.audit_batch(
            &actor.origin,
            vec![
                goal_event(audit::Action::GoalClosed, actor, child, goal.to_string())
                    .detail(status.code()),
            ],
        );
        Ok(self
            .store
            .close_goal(goal, status, on, expected, self.clock.now(), &audit)
            .await?)
    }
}

/// Demo data for this area, called from `demo::generate`: on the first few open cases, one
/// goal set by the child with their lead therapist (room for two more) and a few ratings. Seeded by position
/// only (deterministic).
pub(crate) async fn demo_fill(
    alliance: &Alliance,
    _admin: &Actor,
    therapists: &[Actor],
) -> Result<(), DemoError> {
    const GOALS: [&str; 6] = [
        "To go to school without a tummy ache every morning",
        "To tell someone when I feel angry instead of hitting",
        "To sleep in my own bed all night",
        "To have a friend to play with at break time",
        "To talk to Mum about Dad without crying every time",
        "To go to the shop on my own",
    ];
    const ROUNDS: [u8; 3] = [2, 4, 6];
    let today = alliance.today();
    let children: Vec<(ChildId, UserId)> = alliance
        .store
        .children(&crate::store::ChildSelection::All)
        .await?
        .into_iter()
        .filter_map(|l| {
            let case = l.cases.first().filter(|c| c.is_open())?;
            Some((l.child.id, case.current_lead(today)?.user_id))
        })
        .collect();
    let mut n = 0usize;
    for (child, lead) in children.into_iter().take(8) {
        let Some(therapist) = therapists.iter().find(|t| t.user.id == lead) else {
            continue;
        };
        let mut ids = Vec::new();
        for _ in 0..1 {
            let input = GoalInput {
                words: GOALS[n % GOALS.len()].to_owned(),
                set_by: "child-with-therapist".to_owned(),
                set_on: String::new(),
            };
            n += 1;
            ids.push(
                alliance
                    .add_goal(therapist, child, &input)
                    .await
                    .map_err(demo_error)?,
            );
        }
        for round in ROUNDS {
            let ratings: Vec<RatingInput> = ids
                .iter()
                .map(|goal| RatingInput {
                    goal: *goal,
                    value: (round + (n % 3) as u8).to_string(),
                })
                .collect();
            alliance
                .rate_goals(therapist, child, &ratings, "child-with-therapist", None, "")
                .await
                .map_err(demo_error)?;
        }
    }
    Ok(())
}

fn demo_error(err: AppError) -> DemoError {
    match err {
        AppError::Store(store) => DemoError::Store(store),
        other => DemoError::Generated(format!("goals: {other}")),
    }
}
