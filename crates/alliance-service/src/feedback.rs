//! Feedback (issue 17, helper B): the child's kiosk link for a session, responses, the
//! therapist's rating, the child's feedback page.
//!
//! The rules are `alliance_core::feedback`. A kiosk link is made by the session's own
//! therapist (who may write the child's clinical record) for one child measure that suits the
//! child's age; its token is returned once and stored only as its SHA-256. Handing the tablet
//! over ends the therapist's browser session in the same request, so going back or leaving
//! needs them to sign in again. Opening the link spends nothing; only the committed submit
//! does (`FeedbackStore::submit_through_link`). A response that cannot be scored (too many
//! questions left out) is kept with the reason, never scored as 0.
//!
//! Responses are clinical record: sealed under the child's clinical key (column
//! `measure_responses.answers`, bound to the response's id), read through the child's gate and
//! the clinical row of the matrix (`feedback::response_reach`), each response opened audited
//! (`FeedbackRead`); a reader who may not see them gets "not found", audited.

use std::collections::BTreeMap;

use crate::demo::DemoError;
use crate::error::{AppError, AppResult};
use crate::store::{FeedbackLinkRecord, StoreError, StoredResponse, StoredSession};
use crate::{Actor, Alliance, Via};
use alliance_core::Version;
use alliance_core::access::{Access, ChildData, Standing, child_access};
use alliance_core::audit::{self, Event, Origin};
use alliance_core::auth::secret_hash;
use alliance_core::children::ChildId;
use alliance_core::crypto::{KeyOwner, RecordClass, Sealed, SealedAt};
use alliance_core::feedback::{
    self as fb, Entry, FeedbackSettings, ResponseReach, Shown, SideBySideRow,
};
use alliance_core::measures::{self, Answers, Definition, Respondent, Score};
use alliance_core::policy::{Action, Decision};
use alliance_core::random::random_bytes;
use alliance_core::schedule::BookingId;
use alliance_core::{Invalid, uk};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The settings document holding [`FeedbackSettings`].
pub const SETTINGS: &str = "feedback";
/// The record type of a feedback link in the audit trail.
pub const LINK_RECORD: &str = "feedback-link";
/// The record type of a response in the audit trail.
pub const RESPONSE_RECORD: &str = "measure-response";

/// A response as sealed (JSON, under the child's clinical key): the answers, and either the
/// score or why it could not be scored (never a 0 in its place). Carers' responses
/// (`crate::carer_feedback`) use the same shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseContent {
    pub answers: Answers,
    pub score: Option<Score>,
    pub not_scored: Option<String>,
}

impl ResponseContent {
    /// Scores `answers` by `def`: the score, or the reason it cannot be scored.
    pub fn scored(def: &Definition, answers: Answers) -> Self {
        match measures::score(def, &answers) {
            Ok(score) => Self {
                answers,
                score: Some(score),
                not_scored: None,
            },
            Err(why) => Self {
                answers,
                score: None,
                not_scored: Some(why.to_string()),
            },
        }
    }

    /// As the therapist's screens show it.
    pub fn shown(&self, def: Option<&Definition>) -> Shown {
        match (&self.score, &self.not_scored) {
            (Some(score), _) => {
                let (min, max) = def.map_or((f64::NAN, f64::NAN), |d| {
                    (d.scoring.total_min, d.scoring.total_max)
                });
                Shown::Scored {
                    total: score.total,
                    min,
                    max,
                }
            }
            (None, Some(why)) => Shown::NotScored(why.clone()),
            (None, None) => Shown::NotScored("no score was recorded".to_owned()),
        }
    }
}

/// Reads answers from a form or a JSON body (item id to the value chosen, as text): an item
/// left empty is missing; an item the measure does not ask, a value that is not a whole
/// number or one its scale does not offer is refused, naming the item.
pub fn parse_answers(def: &Definition, raw: &BTreeMap<String, String>) -> Result<Answers, Invalid> {
    let mut answers = Answers::new();
    let mut errors: Vec<(String, String)> = Vec::new();
    for (key, value) in raw {
        let value = value.trim();
        let Some(item) = def.items.iter().find(|i| &i.id == key) else {
            errors.push((
                key.clone(),
                "This question is not part of the measure".into(),
            ));
            continue;
        };
        if value.is_empty() {
            continue;
        }
        match value.parse::<i32>() {
            Ok(v) if def.choices(item).iter().any(|c| c.value == v) => {
                answers.insert(key.clone(), v);
            }
            _ => errors.push((key.clone(), "Choose one of the answers offered".into())),
        }
    }
    if errors.is_empty() {
        Ok(answers)
    } else {
        Err(Invalid {
            errors: errors
                .into_iter()
                .map(|(f, m)| alliance_core::error::FieldError::new(f, m))
                .collect(),
        })
    }
}

/// What the kiosk shows: the measure's questions, and nothing about anyone.
#[derive(Debug, Clone)]
pub struct KioskView {
    pub definition: Definition,
    pub expires_at: Timestamp,
}

/// What the therapist chooses from before handing over.
#[derive(Debug, Clone)]
pub struct HandOverOptions {
    pub session: StoredSession,
    /// The child's measures that suit the child's age, the default first.
    pub measures: Vec<Definition>,
    pub minutes: u32,
}

/// One response as the feedback page shows it.
#[derive(Debug, Clone)]
pub struct ResponseView {
    pub id: Uuid,
    pub session: Option<BookingId>,
    pub given_at: Timestamp,
    pub respondent: Respondent,
    pub measure_name: String,
    pub measure_key: String,
    pub attribution: Option<String>,
    pub content: ResponseContent,
    pub shown: Shown,
    /// The cut-off for this child flags the total (only a sourced cut-off; text says which).
    pub flagged: Option<String>,
}

/// A child's feedback for a reader who may see it.
#[derive(Debug, Clone)]
pub struct ChildFeedback {
    pub child: ChildId,
    /// The child's name, or initials for a pseudonymised reader.
    pub child_shown: String,
    pub age: Option<u8>,
    /// Self-report is unreliable at this age (the child's measure says so).
    pub caution: bool,
    /// Session by session: the child's score beside the therapist's rating.
    pub side_by_side: Vec<SideBySideRow>,
    pub responses: Vec<ResponseView>,
    pub reach: ResponseReach,
}

/// The therapist's rating form for a session, with any rating already given.
#[derive(Debug, Clone)]
pub struct RatingForm {
    pub definition: Definition,
    pub given: Option<ResponseContent>,
}

fn clinical_owner(child: ChildId) -> KeyOwner {
    KeyOwner::Child {
        child: child.to_string(),
        class: RecordClass::Clinical,
    }
}

fn decode_error(e: impl std::fmt::Display) -> AppError {
    AppError::Store(StoreError::Other(format!(
        "a sealed response did not open: {e}"
    )))
}

fn age_of(details: &alliance_core::children::ChildDetails, today: jiff::civil::Date) -> Option<u8> {
    u8::try_from(details.age_on(today)).ok()
}

fn measure_sex(details: &alliance_core::children::ChildDetails) -> Option<measures::Sex> {
    match details.sex {
        alliance_core::children::Sex::Female => Some(measures::Sex::Female),
        alliance_core::children::Sex::Male => Some(measures::Sex::Male),
        _ => None,
    }
}

fn event(
    action: audit::Action,
    actor: Option<&Actor>,
    kind: &str,
    id: String,
    child: ChildId,
) -> Event {
    Event::new(action, actor.map(|a| a.user.id.to_string()), kind, Some(id)).for_child(child)
}

impl Alliance {
    /// How long feedback links last, with the version (none while the defaults stand).
    pub async fn feedback_settings(&self) -> AppResult<(FeedbackSettings, Option<Version>)> {
        Ok(
            match self
                .settings_document::<FeedbackSettings>(SETTINGS, "feedback settings")
                .await?
            {
                None => (FeedbackSettings::default(), None),
                Some((s, v)) => (s, Some(v)),
            },
        )
    }

    /// Changes how long feedback links last (administrators).
    pub async fn set_feedback_settings(
        &self,
        actor: &Actor,
        settings: FeedbackSettings,
        expected: Option<Version>,
    ) -> AppResult<FeedbackSettings> {
        self.require(
            actor,
            Action::ManageService,
            "update feedback settings",
            "service",
            Some("1".to_owned()),
        )
        .await?;
        settings.check()?;
        self.put_settings_document(actor, SETTINGS, &settings, expected)
            .await?;
        Ok(settings)
    }

    /// The feedback settings, for an administrator (a refusal is audited).
    pub async fn read_feedback_settings(
        &self,
        actor: &Actor,
    ) -> AppResult<(FeedbackSettings, Option<Version>)> {
        if let Decision::Deny(why) =
            alliance_core::policy::decide(&actor.user, Action::ManageService)
        {
            self.record(
                &actor.origin,
                vec![
                    Event::new(
                        audit::Action::Denied,
                        Some(actor.user.id.to_string()),
                        "service",
                        Some("1".to_owned()),
                    )
                    .detail("read feedback settings"),
                ],
            )
            .await?;
            return Err(AppError::Denied(why));
        }
        self.feedback_settings().await
    }

    /// Whether the actor may read the feedback settings (administrators).
    pub fn may_manage_feedback_settings(&self, actor: &Actor) -> bool {
        alliance_core::policy::decide(&actor.user, Action::ManageService) == Decision::Allow
    }

    /// Seals a response's content under the child's clinical key, bound to
    /// `measure_responses.answers` and the response's id.
    pub(crate) async fn seal_response(
        &self,
        child: ChildId,
        id: Uuid,
        content: &ResponseContent,
    ) -> AppResult<Sealed> {
        let plain = serde_json::to_vec(content).map_err(decode_error)?;
        let row = id.to_string();
        Ok(self
            .keys
            .seal(
                &clinical_owner(child),
                &plain,
                SealedAt {
                    table: "measure_responses",
                    column: "answers",
                    row: &row,
                },
                self.clock.now(),
            )
            .await?)
    }

    /// Opens what [`Self::seal_response`] sealed.
    pub(crate) async fn open_response(
        &self,
        stored: &StoredResponse,
    ) -> AppResult<ResponseContent> {
        let row = stored.id.to_string();
        let plain = self
            .keys
            .open(
                &clinical_owner(stored.child_id),
                &stored.answers,
                SealedAt {
                    table: "measure_responses",
                    column: "answers",
                    row: &row,
                },
                self.clock.now(),
            )
            .await
            .map_err(AppError::from)?;
        serde_json::from_slice(&plain).map_err(decode_error)
    }

    /// The session, the reader's standing with its child, and the child's age; "not found"
    /// (audited) unless the reader is the session's own therapist who may write the child's
    /// clinical record.
    async fn own_session_gate(
        &self,
        actor: &Actor,
        session: BookingId,
        asked: &str,
    ) -> AppResult<(StoredSession, Standing, Option<u8>)> {
        let stored = self
            .store
            .booked_session(session)
            .await?
            .ok_or(AppError::NotFound)?;
        let child = stored.child_id;
        let (standing, newest) = self.get_child_gate(actor, child, asked).await?;
        if newest != Some(stored.case_id)
            || !fb::may_hand_over(&actor.user, &standing, stored.booking.therapist)
        {
            self.audit_refusal(actor, asked, "session", session.to_string(), child)
                .await?;
            return Err(AppError::NotFound);
        }
        let details = self.details_of(child).await?;
        Ok((stored, standing, age_of(&details, self.today())))
    }

    /// Whether the session view offers the hand-over and the rating to this reader: the
    /// session's own therapist who may write the child's clinical record. Asks nothing of
    /// anyone else (so nothing is audited for them).
    pub async fn may_hand_over_session(
        &self,
        actor: &Actor,
        session: BookingId,
    ) -> AppResult<bool> {
        let Some(stored) = self.store.booked_session(session).await? else {
            return Ok(false);
        };
        if stored.booking.therapist != actor.user.id {
            return Ok(false);
        }
        let (standing, newest) = self
            .get_child_gate(actor, stored.child_id, "open session")
            .await?;
        Ok(newest == Some(stored.case_id)
            && fb::may_hand_over(&actor.user, &standing, stored.booking.therapist))
    }

    /// The child measures the therapist may hand over for this session, the default first.
    pub async fn hand_over_options(
        &self,
        actor: &Actor,
        session: BookingId,
    ) -> AppResult<HandOverOptions> {
        let (session, _, age) = self
            .own_session_gate(actor, session, "hand over for feedback")
            .await?;
        let all = self.measures_for(Respondent::Child, age).await?;
        let measures = fb::child_measures(&all, age).into_iter().cloned().collect();
        let (settings, _) = self.feedback_settings().await?;
        Ok(HandOverOptions {
            session,
            measures,
            minutes: settings.kiosk_minutes,
        })
    }

    /// Makes the child's kiosk link for a session: one child measure that suits the child's
    /// age (`measure` as `id@version`, else the default), expiring after the service's kiosk
    /// minutes. The token is returned once.
    pub async fn create_kiosk_link(
        &self,
        actor: &Actor,
        session: BookingId,
        measure: Option<&str>,
    ) -> AppResult<(FeedbackLinkRecord, String)> {
        let options = self.hand_over_options(actor, session).await?;
        actor.ensure_may_write()?;
        let chosen = match measure.map(str::trim).filter(|m| !m.is_empty()) {
            None => options.measures.first(),
            Some(key) => options.measures.iter().find(|d| d.key() == key),
        }
        .ok_or_else(|| {
            Invalid::field(
                "measure",
                "Choose a check-in that suits the child's age (none may be given yet)",
            )
        })?;
        let token = fb::new_link_token(random_bytes(self.random.as_ref()));
        let now = self.clock.now();
        let stored = &options.session;
        let link = FeedbackLinkRecord {
            id: self.new_id(),
            token_hash: secret_hash(&token),
            case_id: stored.case_id,
            child_id: stored.child_id,
            session_id: Some(stored.booking.id),
            carer_id: None,
            respondent: Respondent::Child,
            measure_id: chosen.id.clone(),
            measure_version: chosen.version,
            created_by: actor.user.id,
            created_at: now,
            expires_at: now
                .checked_add(SignedDuration::from_mins(i64::from(options.minutes)))
                .map_err(|e| AppError::Store(StoreError::Other(e.to_string())))?,
            spent_at: None,
            revoked_at: None,
        };
        let batch = self.audit_batch(
            &actor.origin,
            vec![
                event(
                    audit::Action::FeedbackLinkCreated,
                    Some(actor),
                    LINK_RECORD,
                    link.id.to_string(),
                    link.child_id,
                )
                .detail("kiosk"),
            ],
        );
        self.store.create_feedback_link(&link, &batch).await?;
        Ok((link, token))
    }

    /// Hands the tablet to the child: makes the kiosk link and ends the therapist's browser
    /// session, so nothing of it is reachable from this browser until they sign in again.
    /// Only from a browser session (an API token has no browser to hand over).
    pub async fn hand_over(
        &self,
        actor: &Actor,
        session: BookingId,
        measure: Option<&str>,
    ) -> AppResult<(FeedbackLinkRecord, String)> {
        let Via::Session { token_hash, .. } = &actor.via else {
            return Err(Invalid::field(
                "measure",
                "Hand over from the therapist's own browser; the API makes a link instead",
            )
            .into());
        };
        let (link, token) = self.create_kiosk_link(actor, session, measure).await?;
        let batch = self.audit_batch(
            &actor.origin,
            vec![event(
                audit::Action::KioskHandedOver,
                Some(actor),
                LINK_RECORD,
                link.id.to_string(),
                link.child_id,
            )],
        );
        self.store
            .end_session(
                token_hash,
                "handed over to a child",
                self.clock.now(),
                &batch,
            )
            .await?;
        Ok((link, token))
    }

    /// Withdraws a link before it is used: the child's kiosk link by the session's therapist;
    /// a carer's link by whoever may write the child's clinical record. "Not found" (audited)
    /// for anyone else, and for a link of another session.
    pub async fn revoke_feedback_link(
        &self,
        actor: &Actor,
        session: Option<BookingId>,
        link: Uuid,
    ) -> AppResult<()> {
        let found = self
            .store
            .feedback_link(link)
            .await?
            .ok_or(AppError::NotFound)?;
        if session.is_some() && session != found.session_id {
            // A link of another session, asked for by id: refused and audited, as any
            // reach past the caller's own session is.
            self.audit_refusal(
                actor,
                "withdraw feedback link",
                "feedback-link",
                link.to_string(),
                found.child_id,
            )
            .await?;
            return Err(AppError::NotFound);
        }
        match found
            .session_id
            .filter(|_| found.respondent == Respondent::Child)
        {
            Some(s) => {
                self.own_session_gate(actor, s, "withdraw feedback link")
                    .await?;
            }
            None => {
                let (standing, _) = self
                    .get_child_gate(actor, found.child_id, "withdraw feedback link")
                    .await?;
                if !child_access(&actor.user, &standing, ChildData::Clinical).may_write() {
                    self.audit_refusal(
                        actor,
                        "withdraw feedback link",
                        LINK_RECORD,
                        found.id.to_string(),
                        found.child_id,
                    )
                    .await?;
                    return Err(AppError::NotFound);
                }
            }
        }
        actor.ensure_may_write()?;
        let batch = self.audit_batch(
            &actor.origin,
            vec![event(
                audit::Action::FeedbackLinkRevoked,
                Some(actor),
                LINK_RECORD,
                found.id.to_string(),
                found.child_id,
            )],
        );
        if !self
            .store
            .revoke_feedback_link(found.id, self.clock.now(), &batch)
            .await?
        {
            return Err(Invalid::field("link", "This link was already used or withdrawn").into());
        }
        Ok(())
    }

    /// The usable kiosk link with this token and its measure, or "not found" for anything
    /// else (unknown, used, expired, withdrawn, a carer's link, a case closed since, or a
    /// measure gone).
    async fn usable_kiosk_link(&self, token: &str) -> AppResult<(FeedbackLinkRecord, Definition)> {
        let token = fb::link_token(token).ok_or(AppError::NotFound)?;
        let link = self
            .store
            .feedback_link_by_token(&secret_hash(token))
            .await?
            .filter(|l| l.is_usable(self.clock.now()) && l.respondent == Respondent::Child)
            .ok_or(AppError::NotFound)?;
        // No longer allowed: the case closed since the link was made.
        self.store
            .case(link.case_id)
            .await?
            .filter(|c| c.case.is_open())
            .ok_or(AppError::NotFound)?;
        let definition = self
            .measure_definition(&link.measure_id, link.measure_version)
            .await?
            .filter(Definition::has_wording)
            .ok_or(AppError::NotFound)?;
        Ok((link, definition))
    }

    /// What the kiosk shows. Opening it spends nothing (a link scanner, a reload).
    pub async fn kiosk(&self, token: &str) -> AppResult<KioskView> {
        let (link, definition) = self.usable_kiosk_link(token).await?;
        Ok(KioskView {
            definition,
            expires_at: link.expires_at,
        })
    }

    /// Records the child's answers and spends the link, together. A response that cannot be
    /// scored is kept with the reason. "Not found" when the link cannot be used.
    pub async fn submit_kiosk(
        &self,
        token: &str,
        raw: &BTreeMap<String, String>,
        origin: &Origin,
    ) -> AppResult<()> {
        let (link, definition) = self.usable_kiosk_link(token).await?;
        let answers = parse_answers(&definition, raw)?;
        // Nothing chosen at all (a tap on "Send" too soon) spends nothing: the child can
        // still answer. Some answers are kept, scored or with the reason they cannot be.
        if answers.is_empty() {
            let first = definition
                .items
                .first()
                .map_or("answers", |i| i.id.as_str());
            return Err(Invalid::field(first, "Choose an answer, then send").into());
        }
        let content = ResponseContent::scored(&definition, answers);
        let id = self.new_id();
        let now = self.clock.now();
        let response = StoredResponse {
            id,
            child_id: link.child_id,
            case_id: link.case_id,
            session_id: link.session_id,
            respondent: Respondent::Child,
            carer_id: None,
            measure_id: link.measure_id.clone(),
            measure_version: link.measure_version,
            link_id: Some(link.id),
            recorded_by: None,
            given_at: now,
            answers: self.seal_response(link.child_id, id, &content).await?,
        };
        let batch = self.audit_batch(
            origin,
            vec![
                event(
                    audit::Action::FeedbackSubmitted,
                    None,
                    RESPONSE_RECORD,
                    id.to_string(),
                    link.child_id,
                )
                .detail("child"),
            ],
        );
        if self
            .store
            .submit_through_link(link.id, &response, now, &batch)
            .await?
        {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }

    /// The therapist's rating measure (Alliance's own unless the service chose another).
    async fn rating_measure(&self) -> AppResult<Option<Definition>> {
        let mut all = self.measures_for(Respondent::Therapist, None).await?;
        all.sort_by_key(|d| d.id != "alliance-therapist-rating");
        Ok(all.into_iter().next())
    }

    /// The rating form for a session, for its own therapist (`None` for anyone else: the
    /// session record page shows no form). Reads the rating already given, if any.
    pub async fn rating_form(
        &self,
        actor: &Actor,
        session: BookingId,
    ) -> AppResult<Option<RatingForm>> {
        let Some(stored) = self.store.booked_session(session).await? else {
            return Ok(None);
        };
        if stored.booking.therapist != actor.user.id {
            return Ok(None);
        }
        let (standing, newest) = self
            .get_child_gate(actor, stored.child_id, "rate session")
            .await?;
        if newest != Some(stored.case_id)
            || !fb::may_rate(&actor.user, &standing, stored.booking.therapist)
        {
            return Ok(None);
        }
        let Some(definition) = self.rating_measure().await? else {
            return Ok(None);
        };
        let mut given = None;
        for r in self.store.responses_of_child(stored.child_id).await? {
            if r.session_id == Some(session) && r.respondent == Respondent::Therapist {
                given = Some(self.open_response(&r).await?);
            }
        }
        if given.is_some() {
            self.record(
                &actor.origin,
                vec![
                    event(
                        audit::Action::FeedbackRead,
                        Some(actor),
                        RESPONSE_RECORD,
                        session.to_string(),
                        stored.child_id,
                    )
                    .detail("session rating"),
                ],
            )
            .await?;
        }
        Ok(Some(RatingForm { definition, given }))
    }

    /// The therapist's rating of a session (respondent Therapist, through no link), by the
    /// session's own therapist. Each rating is appended; the newest stands.
    pub async fn rate_session(
        &self,
        actor: &Actor,
        session: BookingId,
        raw: &BTreeMap<String, String>,
    ) -> AppResult<Uuid> {
        let (stored, _, _) = self
            .own_session_gate(actor, session, "rate session")
            .await?;
        actor.ensure_may_write()?;
        let definition = self
            .rating_measure()
            .await?
            .ok_or_else(|| Invalid::field("rating", "No therapist's rating can be given yet"))?;
        let answers = parse_answers(&definition, raw)?;
        if answers.is_empty() {
            return Err(Invalid::field(
                definition.items.first().map_or("rating", |i| i.id.as_str()),
                "Rate at least one part of the session",
            )
            .into());
        }
        let content = ResponseContent::scored(&definition, answers);
        let id = self.new_id();
        let response = StoredResponse {
            id,
            child_id: stored.child_id,
            case_id: stored.case_id,
            session_id: Some(session),
            respondent: Respondent::Therapist,
            carer_id: None,
            measure_id: definition.id.clone(),
            measure_version: definition.version,
            link_id: None,
            recorded_by: Some(actor.user.id),
            given_at: self.clock.now(),
            answers: self.seal_response(stored.child_id, id, &content).await?,
        };
        let batch = self.audit_batch(
            &actor.origin,
            vec![event(
                audit::Action::FeedbackRated,
                Some(actor),
                RESPONSE_RECORD,
                id.to_string(),
                stored.child_id,
            )],
        );
        self.store.record_response(&response, &batch).await?;
        Ok(id)
    }

    /// A child's feedback: the responses the reader may see, and for the child's own measure
    /// the child's score beside the therapist's rating, session by session. Each response
    /// opened is audited (`FeedbackRead`); a reader who may see none gets "not found",
    /// audited.
    pub async fn child_feedback(&self, actor: &Actor, child: ChildId) -> AppResult<ChildFeedback> {
        let asked = "read feedback";
        let (standing, _) = self.get_child_gate(actor, child, asked).await?;
        let clinical = child_access(&actor.user, &standing, ChildData::Clinical);
        let reach = fb::response_reach(clinical);
        if reach == ResponseReach::None {
            self.audit_refusal(actor, asked, "feedback", child.to_string(), child)
                .await?;
            return Err(AppError::NotFound);
        }
        let details = self.details_of(child).await?;
        let today = self.today();
        let age = age_of(&details, today);
        let sex = measure_sex(&details);
        let stored: Vec<StoredResponse> = self
            .store
            .responses_of_child(child)
            .await?
            .into_iter()
            .filter(|r| reach.sees(r.respondent))
            .collect();
        let mut definitions: BTreeMap<(String, u32), Option<Definition>> = BTreeMap::new();
        let mut responses = Vec::new();
        let mut caution = false;
        for r in &stored {
            let key = (r.measure_id.clone(), r.measure_version);
            if !definitions.contains_key(&key) {
                let d = self.measure_definition(&key.0, key.1).await?;
                definitions.insert(key.clone(), d);
            }
            let def = definitions.get(&key).and_then(Option::as_ref);
            let content = self.open_response(r).await?;
            let shown = content.shown(def);
            if r.respondent == Respondent::Child
                && fb::self_report_caution(def.and_then(|d| d.self_report_caution_under), age)
            {
                caution = true;
            }
            let flagged = match (def, &content.score) {
                (Some(d), Some(score)) => d
                    .cutoff_for(age, sex)
                    .filter(|c| c.flags(score.total))
                    .map(|c| {
                        format!(
                            "Beyond the cut-off of {} ({}{})",
                            measures::fmt_num(c.value),
                            c.source,
                            if c.confirmed { "" } else { "; unconfirmed" }
                        )
                    }),
                _ => None,
            };
            responses.push(ResponseView {
                id: r.id,
                session: r.session_id,
                given_at: r.given_at,
                respondent: r.respondent,
                measure_name: def.map_or_else(
                    || format!("{} version {}", r.measure_id, r.measure_version),
                    |d| d.name.clone(),
                ),
                measure_key: format!("{}@{}", r.measure_id, r.measure_version),
                attribution: def.and_then(|d| d.licence.attribution.clone()),
                content,
                shown,
                flagged,
            });
        }
        let mut session_dates: BTreeMap<BookingId, jiff::civil::Date> = BTreeMap::new();
        for s in responses.iter().filter_map(|v| v.session) {
            if !session_dates.contains_key(&s)
                && let Some(found) = self.store.booked_session(s).await?
            {
                session_dates.insert(s, found.booking.date);
            }
        }
        let entries: Vec<Entry> = responses
            .iter()
            .map(|v| Entry {
                session: v.session,
                date: v
                    .session
                    .and_then(|s| session_dates.get(&s).copied())
                    .unwrap_or_else(|| v.given_at.to_zoned_datetime(uk::london()).date()),
                respondent: v.respondent,
                measure: v.measure_name.clone(),
                shown: v.shown.clone(),
            })
            .collect();
        let mut events: Vec<Event> = stored
            .iter()
            .map(|r| {
                event(
                    audit::Action::FeedbackRead,
                    Some(actor),
                    RESPONSE_RECORD,
                    r.id.to_string(),
                    child,
                )
            })
            .collect();
        if events.is_empty() {
            events.push(event(
                audit::Action::FeedbackRead,
                Some(actor),
                "feedback",
                child.to_string(),
                child,
            ));
        }
        self.record(&actor.origin, events).await?;
        let child_shown = if clinical == Access::Pseudonymised
            || !alliance_core::access::sees_names(&actor.user, &standing)
        {
            details.initials()
        } else {
            details.known_as().to_owned()
        };
        Ok(ChildFeedback {
            child,
            child_shown,
            age,
            caution,
            side_by_side: if reach == ResponseReach::All {
                fb::side_by_side(&entries)
            } else {
                Vec::new()
            },
            responses,
            reach,
        })
    }
}

/// A demo answer for each item: near the top of each scale, `lower` steps down from it.
fn demo_answers(def: &Definition, seed: usize, lower: usize) -> Answers {
    def.items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            let values: Vec<i32> = def.choices(item).iter().map(|c| c.value).collect();
            let top = values.len().checked_sub(1)?;
            let wobble = (seed + i) % 2;
            let at = top.saturating_sub(wobble + lower);
            values.get(at).map(|v| (item.id.clone(), *v))
        })
        .collect()
}

fn demo_error(err: AppError) -> DemoError {
    match err {
        AppError::Store(store) => DemoError::Store(store),
        other => DemoError::Generated(format!("feedback: {other}")),
    }
}

/// Demo data for this area, called from `demo::generate`: for the first open cases' past
/// sessions not cancelled nor missed (the last six of each), the child's check-in through a spent kiosk link and the
/// therapist's rating; the first child with enough sessions shows a drop over the last three
/// check-ins; a few carers answer their version through their own link. Deterministic.
pub(crate) async fn demo_fill(
    alliance: &Alliance,
    _admin: &Actor,
    therapists: &[Actor],
) -> Result<(), DemoError> {
    use alliance_core::outbound::{self, Item, ItemKind, Recipient};
    let today = alliance.today();
    let origin = crate::accounts::command_line_origin();
    type Lead = Option<alliance_core::identity::UserId>;
    let children: Vec<(ChildId, alliance_core::cases::CaseId, Lead)> = alliance
        .store
        .children(&crate::store::ChildSelection::All)
        .await?
        .into_iter()
        .filter_map(|l| {
            let case = l.cases.first().filter(|c| c.is_open())?;
            Some((
                l.child.id,
                case.id,
                case.current_lead(today).map(|m| m.user_id),
            ))
        })
        .collect();
    let rating = alliance.rating_measure().await.map_err(demo_error)?;
    let carer_measure = alliance
        .measures_for(Respondent::Carer, None)
        .await
        .map_err(demo_error)?
        .into_iter()
        .find(|d| d.id == "alliance-checkin-carer");
    let mut shown_drop = false;
    let mut carers_done = 0;
    for (n, (child, case, lead)) in children.into_iter().take(10).enumerate() {
        let details = alliance.details_of(child).await.map_err(demo_error)?;
        let age = age_of(&details, today);
        let all = alliance
            .measures_for(Respondent::Child, age)
            .await
            .map_err(demo_error)?;
        let Some(measure) = fb::child_measures(&all, age).first().map(|d| (*d).clone()) else {
            continue;
        };
        let mut held: Vec<StoredSession> = alliance
            .store
            .sessions_of_case(case)
            .await?
            .into_iter()
            .filter(|s| s.attendance.as_ref().is_none_or(|a| a.is_held()) && s.booking.date < today)
            .collect();
        held.sort_by_key(|s| s.booking.starts_at());
        // (session, therapist, end): the last six sessions held; where the case has none
        // yet (the demo's timetable starts today), six weekly ones before Alliance booked
        // its sessions, answered on the lead's tablet and linked to no session.
        let mut past: Vec<(
            Option<BookingId>,
            alliance_core::identity::UserId,
            Timestamp,
        )> = held
            .iter()
            .rev()
            .take(6)
            .rev()
            .map(|s| (Some(s.booking.id), s.booking.therapist, s.booking.ends_at()))
            .collect();
        if past.is_empty()
            && let Some(lead) = lead
        {
            for weeks in (1..=6).rev() {
                let day = today
                    .checked_sub(jiff::Span::new().days(7 * weeks))
                    .unwrap_or(today);
                let ends = uk::london()
                    .to_timestamp(day.at(16, 20, 0, 0))
                    .unwrap_or_else(|_| alliance.clock.now());
                past.push((None, lead, ends));
            }
        }
        if past.is_empty() {
            continue;
        }
        let drop_here = !shown_drop && past.len() >= 4;
        shown_drop |= drop_here;
        let count = past.len();
        for (k, &(session, therapist_id, ends)) in past.iter().enumerate() {
            let Some(therapist) = therapists.iter().find(|t| t.user.id == therapist_id) else {
                continue;
            };
            // The child's check-in, through a kiosk link spent at the end of the session.
            let lower = if drop_here && k + 3 >= count {
                k + 3 - count + 1
            } else {
                0
            };
            let content = ResponseContent::scored(&measure, demo_answers(&measure, n + k, lower));
            let link = FeedbackLinkRecord {
                id: alliance.new_id(),
                token_hash: secret_hash(&fb::new_link_token(random_bytes(
                    alliance.random.as_ref(),
                ))),
                case_id: case,
                child_id: child,
                session_id: session,
                carer_id: None,
                respondent: Respondent::Child,
                measure_id: measure.id.clone(),
                measure_version: measure.version,
                created_by: therapist.user.id,
                created_at: ends
                    .checked_sub(SignedDuration::from_mins(5))
                    .unwrap_or(ends),
                expires_at: ends
                    .checked_add(SignedDuration::from_mins(115))
                    .unwrap_or(ends),
                spent_at: None,
                revoked_at: None,
            };
            let created = alliance.audit_batch(
                &origin,
                vec![event(
                    audit::Action::FeedbackLinkCreated,
                    Some(therapist),
                    LINK_RECORD,
                    link.id.to_string(),
                    child,
                )],
            );
            alliance.store.create_feedback_link(&link, &created).await?;
            let id = alliance.new_id();
            let response = StoredResponse {
                id,
                child_id: child,
                case_id: case,
                session_id: session,
                respondent: Respondent::Child,
                carer_id: None,
                measure_id: measure.id.clone(),
                measure_version: measure.version,
                link_id: Some(link.id),
                recorded_by: None,
                given_at: ends,
                answers: alliance
                    .seal_response(child, id, &content)
                    .await
                    .map_err(demo_error)?,
            };
            let submitted = alliance.audit_batch(
                &origin,
                vec![event(
                    audit::Action::FeedbackSubmitted,
                    None,
                    RESPONSE_RECORD,
                    id.to_string(),
                    child,
                )],
            );
            alliance
                .store
                .submit_through_link(link.id, &response, ends, &submitted)
                .await?;
            // The therapist's rating of most sessions.
            if let Some(def) = rating.as_ref().filter(|_| (n + k) % 4 != 3) {
                let lower = usize::from(drop_here && k + 2 >= count);
                let content = ResponseContent::scored(def, demo_answers(def, n + k + 1, lower));
                let id = alliance.new_id();
                let response = StoredResponse {
                    id,
                    child_id: child,
                    case_id: case,
                    session_id: session,
                    respondent: Respondent::Therapist,
                    carer_id: None,
                    measure_id: def.id.clone(),
                    measure_version: def.version,
                    link_id: None,
                    recorded_by: Some(therapist.user.id),
                    given_at: ends
                        .checked_add(SignedDuration::from_mins(10))
                        .unwrap_or(ends),
                    answers: alliance
                        .seal_response(child, id, &content)
                        .await
                        .map_err(demo_error)?,
                };
                let rated = alliance.audit_batch(
                    &origin,
                    vec![event(
                        audit::Action::FeedbackRated,
                        Some(therapist),
                        RESPONSE_RECORD,
                        id.to_string(),
                        child,
                    )],
                );
                alliance.store.record_response(&response, &rated).await?;
            }
        }
        // A carer's answer to their version, for the first few children, through a link
        // only a carer who may receive one is sent.
        let (Some(def), Some(&(_, last_therapist, last_ends))) =
            (carer_measure.as_ref(), past.last())
        else {
            continue;
        };
        if carers_done >= 3 {
            continue;
        }
        let carer = alliance
            .carers_of(child)
            .await
            .map_err(demo_error)?
            .into_iter()
            .find(|c| {
                c.active
                    && outbound::may_receive(
                        Recipient::Carer(&c.details),
                        Item::typical(ItemKind::FeedbackLink),
                        &details,
                    )
                    .is_ok()
            });
        let Some(carer) = carer else {
            continue;
        };
        carers_done += 1;
        let at = last_ends;
        let link = FeedbackLinkRecord {
            id: alliance.new_id(),
            token_hash: secret_hash(&fb::new_link_token(random_bytes(alliance.random.as_ref()))),
            case_id: case,
            child_id: child,
            session_id: None,
            carer_id: Some(carer.id),
            respondent: Respondent::Carer,
            measure_id: def.id.clone(),
            measure_version: def.version,
            created_by: last_therapist,
            created_at: at,
            expires_at: at
                .checked_add(SignedDuration::from_hours(24 * 7))
                .unwrap_or(at),
            spent_at: None,
            revoked_at: None,
        };
        let created = alliance.audit_batch(
            &origin,
            vec![
                event(
                    audit::Action::FeedbackLinkCreated,
                    None,
                    LINK_RECORD,
                    link.id.to_string(),
                    child,
                )
                .detail("carer"),
            ],
        );
        alliance.store.create_feedback_link(&link, &created).await?;
        let given = at.checked_add(SignedDuration::from_hours(20)).unwrap_or(at);
        let content = ResponseContent::scored(def, demo_answers(def, n, 0));
        let id = alliance.new_id();
        let response = StoredResponse {
            id,
            child_id: child,
            case_id: case,
            session_id: None,
            respondent: Respondent::Carer,
            carer_id: Some(carer.id),
            measure_id: def.id.clone(),
            measure_version: def.version,
            link_id: Some(link.id),
            recorded_by: None,
            given_at: given,
            answers: alliance
                .seal_response(child, id, &content)
                .await
                .map_err(demo_error)?,
        };
        let submitted = alliance.audit_batch(
            &origin,
            vec![
                event(
                    audit::Action::FeedbackSubmitted,
                    None,
                    RESPONSE_RECORD,
                    id.to_string(),
                    child,
                )
                .detail("carer"),
            ],
        );
        alliance
            .store
            .submit_through_link(link.id, &response, given, &submitted)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn young() -> Definition {
        measures::shipped_definition("alliance-checkin-young", 1)
            .cloned()
            .unwrap_or_else(|| unreachable!("the young check-in ships"))
    }

    fn raw(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn answers_are_only_the_measures_items_and_the_values_it_offers() {
        let def = young();
        let answers = parse_answers(
            &def,
            &raw(&[("together", "2"), ("helps", " 1 "), ("liked", "")]),
        );
        assert_eq!(
            answers.ok().map(|a| a.into_iter().collect::<Vec<_>>()),
            Some(vec![("helps".to_owned(), 1), ("together".to_owned(), 2)])
        );
        let refused = parse_answers(
            &def,
            &raw(&[("together", "3"), ("helps", "one"), ("session", "x")]),
        );
        let fields: Vec<String> = refused
            .err()
            .map(|i| i.errors.into_iter().map(|e| e.field).collect())
            .unwrap_or_default();
        assert_eq!(fields, vec!["helps", "session", "together"]);
    }

    #[test]
    fn a_response_that_cannot_be_scored_keeps_its_answers_and_the_reason() {
        let def = young();
        let whole = ResponseContent::scored(
            &def,
            [("together", 2), ("helps", 1), ("liked", 2)]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
        );
        assert_eq!(whole.score.as_ref().map(|s| s.total), Some(5.0));
        assert_eq!(whole.not_scored, None);
        assert_eq!(
            whole.shown(Some(&def)),
            Shown::Scored {
                total: 5.0,
                min: 0.0,
                max: 6.0
            }
        );
        let part =
            ResponseContent::scored(&def, [("together".to_owned(), 2)].into_iter().collect());
        assert!(part.score.is_none(), "never scored as 0");
        assert!(part.not_scored.as_deref().is_some_and(|r| !r.is_empty()));
        assert_eq!(part.answers.len(), 1, "the answers are kept");
        assert!(matches!(part.shown(Some(&def)), Shown::NotScored(_)));
        // The sealed shape round-trips.
        let json = serde_json::to_string(&part).unwrap_or_default();
        let back: Option<ResponseContent> = serde_json::from_str(&json).ok();
        assert_eq!(back, Some(part));
    }
}
