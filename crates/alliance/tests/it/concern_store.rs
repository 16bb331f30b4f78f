//! The safeguarding concern store on both engines: a draft moves on one version at a time
//! and a stale save writes nothing; submitting seals a concern (no save, no discard); the
//! DSL's queue puts urgent concerns first and drops what is acknowledged; a step closes only
//! the open tasks it answers; a looked-up concern is matched once; a child is linked once and
//! a child's concerns include those they are linked to; and the database itself refuses every
//! change of a submitted concern but its one matching, and every change or removal of steps,
//! addenda and links, whatever the route.

use crate::Opened;
use alliance_core::Version;
use alliance_core::audit::{Action, ChainKey, Event, Origin};
use alliance_core::cases::{CaseDetails, CaseId, ReferralSource};
use alliance_core::children::ChildId;
use alliance_core::crypto::Sealed;
use alliance_core::directory::{RoomDetails, RoomId, SiteDetails, SiteId, SiteKind};
use alliance_core::identity::{RegistrationBody, Role, UserDetails, UserId, Username};
use alliance_core::safeguarding::{ConcernId, ConcernKind, ConcernStatus, StepKind};
use alliance_core::schedule::{Booking, BookingId};
use alliance_core::service::ServiceDetails;
use alliance_core::tasks::{FiringId, Recipient, Rule, Subject, TaskId};
use alliance_service::store::{
    ConcernLink, SealedUnder, StoredConcern, StoredConcernAddendum, StoredConcernStep,
};
use alliance_service::{
    AuditBatch, Booked, ChildLookups, FrameChange, NewCase, NewFiring, NewSession, NewTask,
    NewUser, Store, StoreError, StoredChild,
};
use alliance_testkit::{Backend, TestDatabase, backends};
use jiff::Timestamp;
use jiff::civil::{date, time};
use std::sync::Arc;
use uuid::Uuid;

const KEY: ChainKey = ChainKey([7; 32]);

fn at(second: i64) -> Timestamp {
    Timestamp::from_second(second).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn audited(action: Action) -> AuditBatch<'static> {
    AuditBatch {
        key: &KEY,
        events: vec![Event::new(action, None, "concern", Some("1".to_owned()))],
        origin: Origin::default(),
        at: at(1_800_000_000),
        follow_ups: Vec::new(),
    }
}

/// Stand-in bytes: the store only moves sealed values, it never opens them.
fn sealed(bytes: &[u8]) -> Sealed {
    Sealed::from_stored(bytes.to_vec())
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn cid(n: u128) -> ConcernId {
    ConcernId(id(n))
}

fn version(n: i64) -> anyhow::Result<Version> {
    Version::new(n).map_err(anyhow::Error::msg)
}

/// A therapist who raises concerns, the DSL, a member of staff an allegation is about, two
/// children (the first with an open case and one session).
struct World {
    db: TestDatabase,
    opened: Opened,
    store: Arc<dyn Store>,
    author: UserId,
    dsl: UserId,
    staff: UserId,
    child: ChildId,
    other_child: ChildId,
    session: BookingId,
}

async fn new_user(store: &dyn Store, n: u128, username: &str) -> anyhow::Result<UserId> {
    let user = UserId(id(n));
    store
        .create_user(
            &NewUser {
                id: user,
                username: Username::parse(username).map_err(anyhow::Error::msg)?,
                details: UserDetails {
                    display_name: format!("User {n}"),
                    roles: vec![Role::Therapist],
                    registration: RegistrationBody::None,
                    registration_number: None,
                    email: None,
                },
                password_hash: "not a real hash".to_owned(),
            },
            at(1_800_000_000),
            &audited(Action::UserCreated),
        )
        .await?;
    Ok(user)
}

async fn new_child(store: &dyn Store, n: u128) -> anyhow::Result<ChildId> {
    let child = ChildId(id(n));
    store
        .create_child(
            &StoredChild {
                id: child,
                sealed_details: sealed(b"details"),
                version: Version::FIRST,
                created_at: at(1_800_000_000),
                updated_at: at(1_800_000_000),
            },
            &ChildLookups::default(),
            &audited(Action::ChildCreated),
        )
        .await?;
    Ok(child)
}

async fn world(backend: Backend) -> anyhow::Result<World> {
    let db = TestDatabase::new(backend).await?;
    let opened = Opened::migrated(&db).await?;
    let store = opened.store();
    store
        .create_service_profile(
            &ServiceDetails::parse("Riverside Play Therapy", "england")
                .map_err(|e| anyhow::anyhow!("{e:?}"))?,
            false,
            at(1_800_000_000),
            &audited(Action::ServiceCreated),
        )
        .await?;
    let author = new_user(store.as_ref(), 1, "therapist1").await?;
    let dsl = new_user(store.as_ref(), 2, "dsl1").await?;
    let staff = new_user(store.as_ref(), 3, "staff1").await?;
    let child = new_child(store.as_ref(), 4).await?;
    let other_child = new_child(store.as_ref(), 5).await?;
    let site = SiteId(id(6));
    store
        .create_site(
            site,
            &SiteDetails {
                name: "Oakfield Primary".to_owned(),
                kind: SiteKind::School,
                address: None,
                phone: None,
                out_of_hours: None,
                school_dsl_name: None,
                school_dsl_contact: None,
            },
            at(1_800_000_000),
            &audited(Action::SiteCreated),
        )
        .await?;
    let room = RoomId(id(7));
    store
        .create_room(
            room,
            site,
            &RoomDetails {
                name: "Willow Room".to_owned(),
                capacity: 4,
                step_free: true,
                accessibility_notes: None,
            },
            at(1_800_000_000),
            &audited(Action::RoomCreated),
        )
        .await?;
    let case = store
        .open_case(
            &NewCase {
                id: CaseId(id(8)),
                child_id: child,
                details: CaseDetails {
                    referral_source: ReferralSource::School,
                    referral_received: date(2026, 9, 1),
                    first_seen: None,
                },
                sealed_reason: None,
                lead: None,
            },
            at(1_800_000_100),
            &audited(Action::CaseOpened),
        )
        .await?;
    let session = BookingId(id(9));
    let done = store
        .add_session(
            &NewSession {
                booking: Booking {
                    id: session,
                    room,
                    therapist: author,
                    date: date(2026, 9, 7),
                    start: time(15, 30, 0, 0),
                    minutes: 50,
                },
                case_id: case.case.id,
                child_id: child,
                regular: false,
            },
            &FrameChange {
                id: id(10),
                case_id: case.case.id,
                what: "added".to_owned(),
                session: Some(session),
                by: author,
                sealed_reason: sealed(b"reason"),
                at: at(1_800_000_200),
            },
            at(1_800_000_200),
            &audited(Action::SessionAdded),
        )
        .await?;
    if let Booked::Clashed(clashes) = done {
        anyhow::bail!("the world's session clashes: {clashes:?}");
    }
    Ok(World {
        db,
        opened,
        store,
        author,
        dsl,
        staff,
        child,
        other_child,
        session,
    })
}

/// A new draft `n` of `kind` written at `second`: about `child` (sealed under the child's
/// key), or raised by look-up (the intake key, with the child as typed); an allegation about
/// the world's member of staff, under the allegations key.
fn draft(
    w: &World,
    n: u128,
    kind: ConcernKind,
    child: Option<ChildId>,
    second: i64,
) -> StoredConcern {
    let allegation = kind == ConcernKind::Allegation;
    StoredConcern {
        id: cid(n),
        kind,
        status: ConcernStatus::Draft,
        child_id: child,
        author: w.author,
        subject_user: allegation.then_some(w.staff),
        session_id: None,
        urgent: false,
        sealed_under: match (allegation, child) {
            (true, _) => SealedUnder::Allegations,
            (false, Some(_)) => SealedUnder::Child,
            (false, None) => SealedUnder::Intake,
        },
        content: sealed(&[n as u8, 1]),
        lookup: (!allegation && child.is_none()).then(|| sealed(&[n as u8, 0x10])),
        version: Version::FIRST,
        created_at: at(second),
        updated_at: at(second),
        submitted_at: None,
    }
}

fn step(
    n: u128,
    concern: ConcernId,
    kind: StepKind,
    actor: UserId,
    second: i64,
) -> StoredConcernStep {
    StoredConcernStep {
        id: id(n),
        concern_id: concern,
        kind,
        actor,
        sealed_under: SealedUnder::Child,
        detail: sealed(&[n as u8, 0x5E]),
        shared_with: None,
        created_at: at(second),
    }
}

fn link(w: &World, concern: ConcernId, child: ChildId, second: i64) -> ConcernLink {
    ConcernLink {
        concern_id: concern,
        child_id: child,
        linked_by: w.author,
        created_at: at(second),
    }
}

/// Creates `concern` and submits it at version 1 with its own content, at `second`.
async fn submit(
    store: &dyn Store,
    concern: &StoredConcern,
    urgent: bool,
    links: &[ConcernLink],
    second: i64,
) -> anyhow::Result<StoredConcern> {
    store
        .create_concern(concern, &audited(Action::ConcernDrafted))
        .await?;
    Ok(store
        .submit_concern(
            concern.id,
            &concern.content,
            urgent,
            links,
            Version::FIRST,
            at(second),
            &audited(Action::ConcernSubmitted),
        )
        .await?)
}

fn ids(concerns: &[StoredConcern]) -> Vec<ConcernId> {
    concerns.iter().map(|c| c.id).collect()
}

async fn count(db: &TestDatabase, sql: &str) -> anyhow::Result<i64> {
    crate::count_as_owner(db, sql).await
}

#[tokio::test]
async fn a_draft_moves_on_one_version_at_a_time_and_a_stale_save_writes_nothing()
-> anyhow::Result<()> {
    for backend in backends() {
        let w = world(backend).await?;
        let store = w.store.as_ref();
        // Raised from a session, about a known child.
        let first = StoredConcern {
            session_id: Some(w.session),
            ..draft(&w, 21, ConcernKind::Concern, Some(w.child), 1_800_001_000)
        };
        store
            .create_concern(&first, &audited(Action::ConcernDrafted))
            .await?;
        assert_eq!(
            store.concern(first.id).await?.as_ref(),
            Some(&first),
            "{backend:?}"
        );

        // A save replaces the content and the look-up, and moves the version on.
        let saved = store
            .save_concern_draft(
                first.id,
                &sealed(b"second"),
                Some(&sealed(b"typed")),
                Version::FIRST,
                at(1_800_001_100),
                &audited(Action::ConcernDrafted),
            )
            .await?;
        let expected = StoredConcern {
            content: sealed(b"second"),
            lookup: Some(sealed(b"typed")),
            version: version(2)?,
            updated_at: at(1_800_001_100),
            ..first.clone()
        };
        assert_eq!(saved, expected, "{backend:?}");
        let saved = store
            .save_concern_draft(
                first.id,
                &sealed(b"third"),
                None,
                version(2)?,
                at(1_800_001_200),
                &audited(Action::ConcernDrafted),
            )
            .await?;
        let expected = StoredConcern {
            content: sealed(b"third"),
            lookup: None,
            version: version(3)?,
            updated_at: at(1_800_001_200),
            ..first.clone()
        };
        assert_eq!(saved, expected, "{backend:?}");

        // A save from an older version, or of no such draft, writes nothing, not even audit.
        let head = store.audit_head().await?;
        let stale = store
            .save_concern_draft(
                first.id,
                &sealed(b"lost"),
                None,
                version(2)?,
                at(1_800_001_300),
                &audited(Action::ConcernDrafted),
            )
            .await;
        assert_eq!(
            stale.err(),
            Some(StoreError::Stale {
                current: version(3)?
            }),
            "{backend:?}"
        );
        let unknown = store
            .save_concern_draft(
                cid(99),
                &sealed(b"lost"),
                None,
                Version::FIRST,
                at(1_800_001_300),
                &audited(Action::ConcernDrafted),
            )
            .await;
        assert_eq!(unknown.err(), Some(StoreError::NotFound), "{backend:?}");
        let stale_submit = store
            .submit_concern(
                first.id,
                &sealed(b"lost"),
                true,
                &[],
                version(2)?,
                at(1_800_001_300),
                &audited(Action::ConcernSubmitted),
            )
            .await;
        assert_eq!(
            stale_submit.err(),
            Some(StoreError::Stale {
                current: version(3)?
            }),
            "{backend:?}"
        );
        assert_eq!(store.audit_head().await?, head, "{backend:?}");
        assert_eq!(store.concern(first.id).await?.as_ref(), Some(&expected));

        // A concern is written as a draft, once.
        let born_submitted = store
            .create_concern(
                &StoredConcern {
                    status: ConcernStatus::Submitted,
                    submitted_at: Some(at(1_800_001_000)),
                    ..draft(&w, 22, ConcernKind::Concern, Some(w.child), 1_800_001_000)
                },
                &audited(Action::ConcernDrafted),
            )
            .await;
        assert!(
            matches!(born_submitted, Err(StoreError::Other(_))),
            "{backend:?}"
        );
        let twice = store
            .create_concern(&first, &audited(Action::ConcernDrafted))
            .await;
        assert_eq!(
            twice.err(),
            Some(StoreError::Conflict("concerns_pkey".to_owned())),
            "{backend:?}"
        );
        assert_eq!(store.audit_head().await?, head, "{backend:?}");

        // Everything one person raised, drafts and allegations too, newest first.
        let looked_up = draft(&w, 23, ConcernKind::Concern, None, 1_800_002_000);
        let allegation = draft(&w, 24, ConcernKind::Allegation, None, 1_800_003_000);
        for c in [&looked_up, &allegation] {
            store
                .create_concern(c, &audited(Action::ConcernDrafted))
                .await?;
        }
        assert_eq!(
            store.concerns_by_author(w.author).await?,
            [allegation, looked_up, expected],
            "{backend:?}"
        );
        assert!(store.concerns_by_author(w.dsl).await?.is_empty());
        w.opened.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn a_submitted_concern_is_neither_saved_nor_discarded() -> anyhow::Result<()> {
    for backend in backends() {
        let w = world(backend).await?;
        let store = w.store.as_ref();
        let concern = draft(&w, 31, ConcernKind::Concern, Some(w.child), 1_800_001_000);
        store
            .create_concern(&concern, &audited(Action::ConcernDrafted))
            .await?;
        // Submitting writes the final content, the urgency, the links and what the batch
        // schedules, together.
        let mut batch = audited(Action::ConcernSubmitted);
        batch.follow_ups.push(NewFiring {
            id: FiringId(id(32)),
            rule: Rule::AcknowledgeUrgentConcern,
            fire_at: at(1_800_001_100),
            recipient: Recipient::OnDuty,
            subject: Some(Subject {
                child: Some(w.child),
                record_type: "concern".to_owned(),
                record_id: concern.id.to_string(),
            }),
            reference: "a concern".to_owned(),
            dedupe_key: format!("concern:{}:acknowledge", concern.id),
        });
        let head = store.audit_head().await?;
        let submitted = store
            .submit_concern(
                concern.id,
                &sealed(b"final"),
                true,
                &[link(&w, concern.id, w.other_child, 1_800_001_100)],
                Version::FIRST,
                at(1_800_001_100),
                &batch,
            )
            .await?;
        let expected = StoredConcern {
            status: ConcernStatus::Submitted,
            urgent: true,
            content: sealed(b"final"),
            version: version(2)?,
            updated_at: at(1_800_001_100),
            submitted_at: Some(at(1_800_001_100)),
            ..concern.clone()
        };
        assert_eq!(submitted, expected, "{backend:?}");
        assert_eq!(store.audit_head().await?.seq, head.seq + 1, "{backend:?}");
        assert_eq!(
            store.concern_links(concern.id).await?,
            [link(&w, concern.id, w.other_child, 1_800_001_100)],
            "{backend:?}"
        );
        assert_eq!(
            count(&w.db, "SELECT COUNT(*) FROM firings").await?,
            1,
            "{backend:?}"
        );

        // Submitted is final: a save or a second submission, at any version, is the named
        // conflict; a discard finds no draft. None writes anything.
        let head = store.audit_head().await?;
        for at_version in [Version::FIRST, version(2)?] {
            let saved = store
                .save_concern_draft(
                    concern.id,
                    &sealed(b"after"),
                    None,
                    at_version,
                    at(1_800_001_200),
                    &audited(Action::ConcernDrafted),
                )
                .await;
            let resubmitted = store
                .submit_concern(
                    concern.id,
                    &sealed(b"after"),
                    false,
                    &[],
                    at_version,
                    at(1_800_001_200),
                    &audited(Action::ConcernSubmitted),
                )
                .await;
            for refused in [saved, resubmitted] {
                assert_eq!(
                    refused.err(),
                    Some(StoreError::Conflict("concerns_submitted".to_owned())),
                    "{backend:?}"
                );
            }
        }
        assert!(
            !store
                .discard_concern_draft(concern.id, &audited(Action::ConcernDraftDiscarded))
                .await?,
            "{backend:?}"
        );
        assert!(
            !store
                .discard_concern_draft(cid(99), &audited(Action::ConcernDraftDiscarded))
                .await?,
            "{backend:?}"
        );
        assert_eq!(store.audit_head().await?, head, "{backend:?}");
        assert_eq!(store.concern(concern.id).await?, Some(expected));

        // A draft is discarded, audited, and gone.
        let other = draft(&w, 33, ConcernKind::Concern, None, 1_800_002_000);
        store
            .create_concern(&other, &audited(Action::ConcernDrafted))
            .await?;
        let head = store.audit_head().await?;
        assert!(
            store
                .discard_concern_draft(other.id, &audited(Action::ConcernDraftDiscarded))
                .await?,
            "{backend:?}"
        );
        assert_eq!(store.audit_head().await?.seq, head.seq + 1, "{backend:?}");
        assert_eq!(store.concern(other.id).await?, None, "{backend:?}");
        w.opened.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn the_unacknowledged_queue_puts_urgent_first_and_drops_what_is_acknowledged()
-> anyhow::Result<()> {
    for backend in backends() {
        let w = world(backend).await?;
        let store = w.store.as_ref();
        let c = |n, second| draft(&w, n, ConcernKind::Concern, Some(w.child), second);
        let early = submit(store, &c(41, 1_800_001_000), false, &[], 1_800_001_100).await?;
        let urgent = submit(store, &c(42, 1_800_001_000), true, &[], 1_800_001_300).await?;
        let later = submit(store, &c(43, 1_800_001_000), false, &[], 1_800_001_200).await?;
        let urgent_later = submit(store, &c(44, 1_800_001_000), true, &[], 1_800_001_400).await?;
        // A draft is in nobody's queue; an allegation is in its own.
        store
            .create_concern(&c(45, 1_800_001_000), &audited(Action::ConcernDrafted))
            .await?;
        let allegation = submit(
            store,
            &draft(&w, 46, ConcernKind::Allegation, None, 1_800_001_000),
            false,
            &[],
            1_800_001_500,
        )
        .await?;

        assert_eq!(
            ids(&store.unacknowledged_concerns(ConcernKind::Concern).await?),
            [urgent.id, urgent_later.id, early.id, later.id],
            "{backend:?}"
        );
        assert_eq!(
            store
                .unacknowledged_concerns(ConcernKind::Allegation)
                .await?,
            std::slice::from_ref(&allegation),
            "{backend:?}"
        );

        // Another step leaves a concern in the queue; an acknowledgement takes it out.
        store
            .add_concern_step(
                &step(
                    47,
                    early.id,
                    StepKind::SchoolDslTold,
                    w.author,
                    1_800_002_000,
                ),
                &[],
                &audited(Action::ConcernStep),
            )
            .await?;
        store
            .add_concern_step(
                &step(48, urgent.id, StepKind::Acknowledged, w.dsl, 1_800_002_100),
                &[],
                &audited(Action::ConcernStep),
            )
            .await?;
        assert_eq!(
            ids(&store.unacknowledged_concerns(ConcernKind::Concern).await?),
            [urgent_later.id, early.id, later.id],
            "{backend:?}"
        );

        // The newest submitted, whatever their acknowledgement; drafts and allegations apart.
        assert_eq!(
            ids(&store.recent_concerns(ConcernKind::Concern, 3).await?),
            [urgent_later.id, urgent.id, later.id],
            "{backend:?}"
        );
        assert_eq!(
            ids(&store.recent_concerns(ConcernKind::Concern, 10).await?),
            [urgent_later.id, urgent.id, later.id, early.id],
            "{backend:?}"
        );
        assert_eq!(
            ids(&store.recent_concerns(ConcernKind::Allegation, 10).await?),
            [allegation.id],
            "{backend:?}"
        );
        w.opened.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn a_step_closes_only_the_open_tasks_it_answers() -> anyhow::Result<()> {
    for backend in backends() {
        let w = world(backend).await?;
        let store = w.store.as_ref();
        let concern = submit(
            store,
            &draft(&w, 51, ConcernKind::Concern, Some(w.child), 1_800_001_000),
            true,
            &[],
            1_800_001_100,
        )
        .await?;
        let other = submit(
            store,
            &draft(&w, 52, ConcernKind::Concern, Some(w.child), 1_800_001_000),
            false,
            &[],
            1_800_001_100,
        )
        .await?;
        let allegation = submit(
            store,
            &draft(&w, 53, ConcernKind::Allegation, None, 1_800_001_000),
            false,
            &[],
            1_800_001_100,
        )
        .await?;

        // Tasks raised the way the scheduler raises them: a change schedules a firing, and
        // firing it raises the tasks.
        let mut batch = audited(Action::ConcernDrafted);
        batch.follow_ups.push(NewFiring {
            id: FiringId(id(54)),
            rule: Rule::AcknowledgeConcern,
            fire_at: at(1_800_001_200),
            recipient: Recipient::User(w.dsl),
            subject: None,
            reference: "a concern".to_owned(),
            dedupe_key: "concern-store-test".to_owned(),
        });
        store
            .create_concern(
                &draft(&w, 55, ConcernKind::Concern, None, 1_800_001_200),
                &batch,
            )
            .await?;
        let claimed = store
            .claim_firings("test", at(1_800_001_300), at(1_800_001_400), 10)
            .await?;
        assert_eq!(claimed.len(), 1, "{backend:?}");
        let about = |record_type: &str, record: ConcernId| {
            Some(Subject {
                child: None,
                record_type: record_type.to_owned(),
                record_id: record.to_string(),
            })
        };
        let task = |n: u128, rule: Rule, subject: Option<Subject>| NewTask {
            id: TaskId(id(n)),
            rule,
            owner: w.dsl,
            title: "a task".to_owned(),
            subject,
            due_at: None,
        };
        let acknowledge = task(61, Rule::AcknowledgeConcern, about("concern", concern.id));
        let acknowledge_urgent = task(
            62,
            Rule::AcknowledgeUrgentConcern,
            about("concern", concern.id),
        );
        let risk_review = task(63, Rule::RiskReview, about("concern", concern.id));
        let others = task(64, Rule::AcknowledgeConcern, about("concern", other.id));
        let not_a_concern = task(65, Rule::AcknowledgeConcern, about("case", concern.id));
        let done_already = task(66, Rule::AcknowledgeConcern, about("concern", concern.id));
        let refer = task(
            67,
            Rule::ReferAllegation,
            about("allegation", allegation.id),
        );
        let tasks = [
            acknowledge,
            acknowledge_urgent,
            risk_review,
            others,
            not_a_concern,
            done_already,
            refer,
        ];
        assert!(
            store
                .fire(
                    claimed[0].id,
                    &tasks,
                    &[],
                    at(1_800_001_300),
                    &audited(Action::TaskRaised),
                )
                .await?,
            "{backend:?}"
        );
        let done_earlier = store
            .complete_task(
                TaskId(id(66)),
                w.author,
                Version::FIRST,
                at(1_800_001_350),
                &audited(Action::TaskCompleted),
            )
            .await?;

        let acknowledged = step(68, concern.id, StepKind::Acknowledged, w.dsl, 1_800_001_500);
        let head = store.audit_head().await?;
        let closed = store
            .add_concern_step(
                &acknowledged,
                &[Rule::AcknowledgeConcern, Rule::AcknowledgeUrgentConcern],
                &audited(Action::ConcernStep),
            )
            .await?;
        assert_eq!(closed, 2, "{backend:?}");
        assert_eq!(store.audit_head().await?.seq, head.seq + 1, "{backend:?}");
        for n in [61, 62] {
            let task = store
                .task(TaskId(id(n)))
                .await?
                .ok_or_else(|| anyhow::anyhow!("task {n} is gone"))?;
            assert_eq!(
                (task.done_at, task.done_by, task.version),
                (Some(at(1_800_001_500)), Some(w.dsl), version(2)?),
                "{backend:?} task {n}"
            );
            assert_eq!(task.updated_at, at(1_800_001_500), "{backend:?}");
        }
        for n in [63, 64, 65, 67] {
            let task = store.task(TaskId(id(n))).await?;
            assert!(
                task.as_ref().is_some_and(|t| t.is_open()),
                "{backend:?} task {n}: {task:?}"
            );
        }
        // A task done already keeps who did it, and when.
        assert_eq!(
            store.task(TaskId(id(66))).await?,
            Some(done_earlier),
            "{backend:?}"
        );

        // An allegation's task is closed by its record type too; closing nothing is fine.
        let referred = step(
            69,
            allegation.id,
            StepKind::DesignatedOfficerReferral,
            w.dsl,
            1_800_001_600,
        );
        assert_eq!(
            store
                .add_concern_step(
                    &referred,
                    &[Rule::ReferAllegation],
                    &audited(Action::ConcernStep)
                )
                .await?,
            1,
            "{backend:?}"
        );
        let again = step(
            70,
            concern.id,
            StepKind::SchoolDslTold,
            w.author,
            1_800_001_400,
        );
        assert_eq!(
            store
                .add_concern_step(
                    &again,
                    &[Rule::AcknowledgeConcern],
                    &audited(Action::ConcernStep)
                )
                .await?,
            0,
            "{backend:?}"
        );
        assert!(
            store
                .task(TaskId(id(67)))
                .await?
                .is_some_and(|t| t.done_by == Some(w.dsl))
        );
        // Steps oldest first, each concern its own.
        assert_eq!(
            store.concern_steps(concern.id).await?,
            [again, acknowledged],
            "{backend:?}"
        );
        assert_eq!(store.concern_steps(allegation.id).await?, [referred]);
        // A step of no such concern, or with an id already used, is refused and closes nothing.
        let head = store.audit_head().await?;
        let orphan = store
            .add_concern_step(
                &step(71, cid(99), StepKind::Acknowledged, w.dsl, 1_800_001_700),
                &[Rule::RiskReview],
                &audited(Action::ConcernStep),
            )
            .await;
        assert!(
            matches!(orphan, Err(StoreError::Conflict(_))),
            "{backend:?}"
        );
        let reused = store
            .add_concern_step(
                &step(68, concern.id, StepKind::Acknowledged, w.dsl, 1_800_001_700),
                &[Rule::RiskReview],
                &audited(Action::ConcernStep),
            )
            .await;
        assert_eq!(
            reused.err(),
            Some(StoreError::Conflict("concern_steps_pkey".to_owned())),
            "{backend:?}"
        );
        assert_eq!(store.audit_head().await?, head, "{backend:?}");
        assert!(
            store
                .task(TaskId(id(63)))
                .await?
                .is_some_and(|t| t.is_open())
        );

        // Addenda, oldest first.
        let addendum = |n: u128, second| StoredConcernAddendum {
            id: id(n),
            concern_id: concern.id,
            author: w.author,
            sealed_under: SealedUnder::Child,
            content: sealed(&[n as u8, 0xAD]),
            created_at: at(second),
        };
        for a in [addendum(72, 1_800_002_000), addendum(73, 1_800_001_900)] {
            store
                .add_concern_addendum(&a, &audited(Action::ConcernAddendum))
                .await?;
        }
        assert_eq!(
            store.concern_addenda(concern.id).await?,
            [addendum(73, 1_800_001_900), addendum(72, 1_800_002_000)],
            "{backend:?}"
        );
        assert!(store.concern_addenda(other.id).await?.is_empty());
        w.opened.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn a_looked_up_concern_is_matched_once() -> anyhow::Result<()> {
    for backend in backends() {
        let w = world(backend).await?;
        let store = w.store.as_ref();
        let raised = draft(&w, 81, ConcernKind::Concern, None, 1_800_001_000);
        let submitted = submit(store, &raised, false, &[], 1_800_001_100).await?;
        assert_eq!(submitted.sealed_under, SealedUnder::Intake);
        // Nobody's concern until matched.
        assert!(store.concerns_of_child(w.child).await?.is_empty());

        let matching = step(82, raised.id, StepKind::Matched, w.dsl, 1_800_001_200);
        let matched = store
            .match_concern(
                raised.id,
                w.child,
                &sealed(b"resealed"),
                &matching,
                &audited(Action::ConcernStep),
            )
            .await?;
        let expected = StoredConcern {
            child_id: Some(w.child),
            sealed_under: SealedUnder::Child,
            content: sealed(b"resealed"),
            // The version and the last change stay as submitted: the raiser of a look-up
            // must not learn of the matching from them.
            // The child as typed stays, under the intake key.
            lookup: raised.lookup.clone(),
            ..submitted.clone()
        };
        assert_eq!(matched, expected, "{backend:?}");
        assert_eq!(store.concern(raised.id).await?.as_ref(), Some(&expected));
        assert_eq!(store.concern_steps(raised.id).await?, [matching]);
        assert_eq!(
            ids(&store.concerns_of_child(w.child).await?),
            [raised.id],
            "{backend:?}"
        );

        // Once: a second matching (to the same child or another) is the named conflict, and
        // no such concern is not found; neither writes anything.
        let head = store.audit_head().await?;
        for child in [w.child, w.other_child] {
            let again = store
                .match_concern(
                    raised.id,
                    child,
                    &sealed(b"again"),
                    &step(83, raised.id, StepKind::Matched, w.dsl, 1_800_001_300),
                    &audited(Action::ConcernStep),
                )
                .await;
            assert_eq!(
                again.err(),
                Some(StoreError::Conflict("concerns_matched".to_owned())),
                "{backend:?}"
            );
        }
        let unknown = store
            .match_concern(
                cid(99),
                w.child,
                &sealed(b"again"),
                &step(84, cid(99), StepKind::Matched, w.dsl, 1_800_001_300),
                &audited(Action::ConcernStep),
            )
            .await;
        assert_eq!(unknown.err(), Some(StoreError::NotFound), "{backend:?}");
        assert_eq!(store.audit_head().await?, head, "{backend:?}");
        assert_eq!(store.concern(raised.id).await?, Some(expected));
        assert_eq!(store.concern_steps(raised.id).await?.len(), 1);

        // A concern raised about a known child was matched from the start.
        let known = submit(
            store,
            &draft(&w, 85, ConcernKind::Concern, Some(w.child), 1_800_001_000),
            false,
            &[],
            1_800_001_100,
        )
        .await?;
        let refused = store
            .match_concern(
                known.id,
                w.other_child,
                &sealed(b"again"),
                &step(86, known.id, StepKind::Matched, w.dsl, 1_800_001_300),
                &audited(Action::ConcernStep),
            )
            .await;
        assert_eq!(
            refused.err(),
            Some(StoreError::Conflict("concerns_matched".to_owned())),
            "{backend:?}"
        );
        assert_eq!(store.concern(known.id).await?, Some(known));
        w.opened.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn a_child_is_linked_once_and_their_concerns_include_the_linked() -> anyhow::Result<()> {
    for backend in backends() {
        let w = world(backend).await?;
        let store = w.store.as_ref();
        let (a, b) = (w.child, w.other_child);
        let about = |n, child| draft(&w, n, ConcernKind::Concern, Some(child), 1_800_001_000);
        // About A, linked to B at submission.
        let first = submit(
            store,
            &about(91, a),
            false,
            &[link(&w, cid(91), b, 1_800_001_100)],
            1_800_001_100,
        )
        .await?;
        // About B.
        let second = submit(store, &about(92, b), false, &[], 1_800_001_200).await?;
        // About A, B linked later.
        let third = submit(store, &about(93, a), false, &[], 1_800_001_300).await?;
        // About B, and linked to B too: listed once.
        let fourth = submit(
            store,
            &about(94, b),
            true,
            &[link(&w, cid(94), b, 1_800_001_400)],
            1_800_001_400,
        )
        .await?;
        // Not listed: a draft about B, and an allegation naming B.
        store
            .create_concern(&about(95, b), &audited(Action::ConcernDrafted))
            .await?;
        submit(
            store,
            &StoredConcern {
                child_id: Some(b),
                ..draft(&w, 96, ConcernKind::Allegation, None, 1_800_001_000)
            },
            false,
            &[],
            1_800_001_500,
        )
        .await?;

        let linked = link(&w, third.id, b, 1_800_002_000);
        let linking = step(97, third.id, StepKind::LinkedChild, w.author, 1_800_002_000);
        let head = store.audit_head().await?;
        store
            .link_concern_child(&linked, &linking, &audited(Action::ConcernStep))
            .await?;
        assert_eq!(store.audit_head().await?.seq, head.seq + 1, "{backend:?}");
        assert_eq!(
            store.concern_links(third.id).await?,
            std::slice::from_ref(&linked)
        );
        assert_eq!(store.concern_steps(third.id).await?, [linking]);

        // Twice is the named conflict, and writes neither the link nor its step.
        let head = store.audit_head().await?;
        let twice = store
            .link_concern_child(
                &link(&w, third.id, b, 1_800_002_100),
                &step(98, third.id, StepKind::LinkedChild, w.author, 1_800_002_100),
                &audited(Action::ConcernStep),
            )
            .await;
        assert_eq!(
            twice.err(),
            Some(StoreError::Conflict("concern_links_pkey".to_owned())),
            "{backend:?}"
        );
        assert_eq!(store.audit_head().await?, head, "{backend:?}");
        assert_eq!(store.concern_steps(third.id).await?.len(), 1, "{backend:?}");
        assert_eq!(store.concern_links(third.id).await?, [linked]);

        assert_eq!(
            ids(&store.concerns_of_child(b).await?),
            [fourth.id, third.id, second.id, first.id],
            "{backend:?}"
        );
        assert_eq!(
            ids(&store.concerns_of_child(a).await?),
            [third.id, first.id],
            "{backend:?}"
        );
        assert!(store.concerns_of_child(ChildId(id(199))).await?.is_empty());
        w.opened.close().await;
    }
    Ok(())
}

/// Runs `sql` as the tables' owner, straight at the database: whether it was allowed.
async fn allowed(db: &TestDatabase, sql: &str) -> bool {
    crate::execute_as_owner(db, sql).await.is_ok()
}

#[tokio::test]
async fn the_database_refuses_to_change_what_is_sealed() -> anyhow::Result<()> {
    for backend in backends() {
        let w = world(backend).await?;
        let store = w.store.as_ref();
        let blob = match backend {
            Backend::Sqlite => "X'0102'",
            Backend::Postgres => "'\\x0102'::bytea",
        };
        let sealed_one = submit(
            store,
            &draft(&w, 101, ConcernKind::Concern, Some(w.child), 1_800_001_000),
            true,
            &[link(&w, cid(101), w.other_child, 1_800_001_100)],
            1_800_001_100,
        )
        .await?;
        let looked_up = submit(
            store,
            &draft(&w, 102, ConcernKind::Concern, None, 1_800_001_000),
            false,
            &[],
            1_800_001_100,
        )
        .await?;
        let a_draft = draft(&w, 103, ConcernKind::Concern, Some(w.child), 1_800_001_000);
        store
            .create_concern(&a_draft, &audited(Action::ConcernDrafted))
            .await?;
        store
            .add_concern_step(
                &step(
                    104,
                    sealed_one.id,
                    StepKind::Acknowledged,
                    w.dsl,
                    1_800_001_200,
                ),
                &[],
                &audited(Action::ConcernStep),
            )
            .await?;
        store
            .add_concern_addendum(
                &StoredConcernAddendum {
                    id: id(105),
                    concern_id: sealed_one.id,
                    author: w.author,
                    sealed_under: SealedUnder::Child,
                    content: sealed(b"addendum"),
                    created_at: at(1_800_001_300),
                },
                &audited(Action::ConcernAddendum),
            )
            .await?;
        let (one, lu) = (sealed_one.id, looked_up.id);
        let (child, other) = (w.child, w.other_child);

        let refused = [
            format!("UPDATE concerns SET content = {blob} WHERE id = '{one}'"),
            format!("UPDATE concerns SET urgent = FALSE WHERE id = '{one}'"),
            format!("UPDATE concerns SET status = 'draft', submitted_at = NULL WHERE id = '{one}'"),
            format!("UPDATE concerns SET version = version + 1 WHERE id = '{one}'"),
            // A matched concern is not matched again.
            format!("UPDATE concerns SET child_id = '{other}' WHERE id = '{one}'"),
            format!("UPDATE concerns SET child_id = NULL WHERE id = '{one}'"),
            // A matching that changes anything else too.
            format!("UPDATE concerns SET child_id = '{child}', urgent = TRUE WHERE id = '{lu}'"),
            format!("UPDATE concerns SET child_id = '{child}', lookup = NULL WHERE id = '{lu}'"),
            format!(
                "UPDATE concerns SET child_id = '{child}', submitted_at = submitted_at + 1 \
                 WHERE id = '{lu}'"
            ),
            format!(
                "UPDATE concerns SET child_id = '{child}', author_id = '{}' WHERE id = '{lu}'",
                w.dsl
            ),
            format!("DELETE FROM concerns WHERE id = '{one}'"),
            format!("DELETE FROM concerns WHERE id = '{lu}'"),
            format!("UPDATE concern_steps SET detail = {blob} WHERE concern_id = '{one}'"),
            format!("UPDATE concern_steps SET kind = 'matched' WHERE concern_id = '{one}'"),
            format!("DELETE FROM concern_steps WHERE concern_id = '{one}'"),
            format!("UPDATE concern_addenda SET content = {blob} WHERE concern_id = '{one}'"),
            format!("DELETE FROM concern_addenda WHERE concern_id = '{one}'"),
            format!("UPDATE concern_links SET child_id = '{child}' WHERE concern_id = '{one}'"),
            format!("UPDATE concern_links SET created_at = 0 WHERE concern_id = '{one}'"),
            format!("DELETE FROM concern_links WHERE concern_id = '{one}'"),
        ];
        for sql in &refused {
            assert!(!allowed(&w.db, sql).await, "{backend:?} allowed: {sql}");
        }
        assert_eq!(store.concern(one).await?, Some(sealed_one.clone()));
        assert_eq!(store.concern(lu).await?, Some(looked_up.clone()));
        assert_eq!(store.concern_steps(one).await?.len(), 1);
        assert_eq!(store.concern_addenda(one).await?.len(), 1);
        assert_eq!(store.concern_links(one).await?.len(), 1);

        // The one change a submitted concern allows: its matching, content, sealing, version
        // and time with it. And a draft may change, or go.
        let matching = format!(
            "UPDATE concerns SET child_id = '{child}', content = {blob}, sealed_under = 'child', \
             version = version + 1, updated_at = updated_at + 1 WHERE id = '{lu}'"
        );
        assert!(allowed(&w.db, &matching).await, "{backend:?}: {matching}");
        let now = store
            .concern(lu)
            .await?
            .ok_or_else(|| anyhow::anyhow!("the matched concern is gone"))?;
        assert_eq!(
            (now.child_id, now.sealed_under, now.content.as_bytes()),
            (Some(child), SealedUnder::Child, &[1u8, 2][..]),
            "{backend:?}"
        );
        let rematch = format!("UPDATE concerns SET child_id = '{other}' WHERE id = '{lu}'");
        assert!(!allowed(&w.db, &rematch).await, "{backend:?}: {rematch}");
        let edit = format!(
            "UPDATE concerns SET content = {blob}, version = version + 1 WHERE id = '{}'",
            a_draft.id
        );
        assert!(allowed(&w.db, &edit).await, "{backend:?}: {edit}");
        let discard = format!("DELETE FROM concerns WHERE id = '{}'", a_draft.id);
        assert!(allowed(&w.db, &discard).await, "{backend:?}: {discard}");
        assert_eq!(store.concern(a_draft.id).await?, None, "{backend:?}");
        w.opened.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn the_server_role_on_postgresql_only_appends_to_safeguarding_records() -> anyhow::Result<()>
{
    use sqlx::Connection;
    if !backends().contains(&Backend::Postgres) {
        return Ok(());
    }
    let w = world(Backend::Postgres).await?;
    let store = w.store.as_ref();
    let concern = submit(
        store,
        &draft(&w, 111, ConcernKind::Concern, Some(w.child), 1_800_001_000),
        false,
        &[link(&w, cid(111), w.other_child, 1_800_001_100)],
        1_800_001_100,
    )
    .await?;
    let a_draft = draft(&w, 112, ConcernKind::Concern, None, 1_800_001_000);
    store
        .create_concern(&a_draft, &audited(Action::ConcernDrafted))
        .await?;
    w.opened.close().await;
    let owner = alliance_store_postgres::PostgresStore::open(&w.db.owner_url).await?;
    owner.grant_app_role(alliance_testkit::APP_ROLE).await?;
    owner.close().await;

    let mut app = sqlx::PgConnection::connect(&w.db.app_url).await?;
    let one = concern.id;
    for statement in [
        format!("UPDATE concern_steps SET created_at = 0 WHERE concern_id = '{one}'"),
        format!("DELETE FROM concern_steps WHERE concern_id = '{one}'"),
        format!("UPDATE concern_addenda SET created_at = 0 WHERE concern_id = '{one}'"),
        format!("DELETE FROM concern_addenda WHERE concern_id = '{one}'"),
        format!("UPDATE concern_links SET created_at = 0 WHERE concern_id = '{one}'"),
        format!("DELETE FROM concern_links WHERE concern_id = '{one}'"),
        "TRUNCATE concern_steps".to_owned(),
        "TRUNCATE concern_addenda".to_owned(),
        "TRUNCATE concern_links".to_owned(),
        "TRUNCATE concerns CASCADE".to_owned(),
    ] {
        let result = sqlx::query(sqlx::AssertSqlSafe(statement.clone()))
            .execute(&mut app)
            .await;
        assert!(result.is_err(), "the server's role could run: {statement}");
    }
    // It reads them all, and writes what the store writes: drafts changed and discarded.
    for statement in [
        "SELECT COUNT(*) FROM concern_steps".to_owned(),
        "SELECT COUNT(*) FROM concern_addenda".to_owned(),
        "SELECT COUNT(*) FROM concern_links".to_owned(),
        format!(
            "UPDATE concerns SET version = version + 1 WHERE id = '{}'",
            a_draft.id
        ),
        format!("DELETE FROM concerns WHERE id = '{}'", a_draft.id),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(statement))
            .execute(&mut app)
            .await?;
    }
    app.close().await?;
    Ok(())
}

#[tokio::test]
async fn every_kind_of_step_is_accepted_and_no_other() -> anyhow::Result<()> {
    for backend in backends() {
        let w = world(backend).await?;
        let store = w.store.as_ref();
        let concern = submit(
            store,
            &draft(&w, 121, ConcernKind::Concern, Some(w.child), 1_800_001_000),
            false,
            &[],
            1_800_001_100,
        )
        .await?;
        let mut written = Vec::new();
        for (n, kind) in (0..).zip(StepKind::ALL) {
            let step = StoredConcernStep {
                shared_with: (kind == StepKind::SharedWithTeam).then_some(w.author),
                ..step(130 + n, concern.id, kind, w.dsl, 1_800_002_000 + n as i64)
            };
            store
                .add_concern_step(&step, &[], &audited(Action::ConcernStep))
                .await?;
            written.push(step);
        }
        assert_eq!(
            store.concern_steps(concern.id).await?,
            written,
            "{backend:?}"
        );
        let blob = match backend {
            Backend::Sqlite => "X'0102'",
            Backend::Postgres => "'\\x0102'::bytea",
        };
        let unknown = format!(
            "INSERT INTO concern_steps (id, concern_id, kind, actor_id, sealed_under, detail, \
             created_at) VALUES ('{}', '{}', 'made-up', '{}', 'child', {blob}, 1)",
            id(129),
            concern.id,
            w.dsl
        );
        assert!(!allowed(&w.db, &unknown).await, "{backend:?}: {unknown}");
        w.opened.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn what_is_shared_with_a_therapist_is_found_by_them_alone() -> anyhow::Result<()> {
    for backend in backends() {
        let w = world(backend).await?;
        let store = w.store.as_ref();
        let about = |n| draft(&w, n, ConcernKind::Concern, Some(w.child), 1_800_001_000);
        let first = submit(store, &about(141), false, &[], 1_800_001_100).await?;
        let second = submit(store, &about(142), true, &[], 1_800_001_200).await?;
        let shared = |n: u128, concern: ConcernId, with: UserId, second: i64| StoredConcernStep {
            shared_with: Some(with),
            ..step(n, concern, StepKind::SharedWithTeam, w.dsl, second)
        };
        // With the therapist: on the second concern, then twice on the first.
        let later = shared(143, first.id, w.author, 1_800_003_000);
        let earliest = shared(144, second.id, w.author, 1_800_002_000);
        let latest = shared(145, first.id, w.author, 1_800_004_000);
        // With someone else; and another kind of step, whatever it names.
        let elsewhere = shared(146, first.id, w.staff, 1_800_002_500);
        let not_shared = StoredConcernStep {
            shared_with: Some(w.author),
            ..step(147, second.id, StepKind::Decided, w.dsl, 1_800_002_600)
        };
        for s in [&later, &earliest, &latest, &elsewhere, &not_shared] {
            store
                .add_concern_step(s, &[], &audited(Action::ConcernStep))
                .await?;
        }
        // The therapist's id is kept with the step.
        assert_eq!(
            store.concern_steps(first.id).await?,
            [elsewhere.clone(), later.clone(), latest.clone()],
            "{backend:?}"
        );
        assert_eq!(
            store.concern_steps(second.id).await?,
            [earliest.clone(), not_shared],
            "{backend:?}"
        );

        assert_eq!(
            store.concern_shares_for(w.author).await?,
            [
                (second.clone(), earliest),
                (first.clone(), later),
                (first.clone(), latest),
            ],
            "{backend:?}"
        );
        assert_eq!(
            store.concern_shares_for(w.staff).await?,
            [(first, elsewhere)],
            "{backend:?}"
        );
        assert!(store.concern_shares_for(w.dsl).await?.is_empty());
        w.opened.close().await;
    }
    Ok(())
}
