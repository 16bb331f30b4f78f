//! The session record store on both engines: a draft moves on one version at a time and a
//! stale save writes nothing; signing locks the record; an amendment needs a signed record and
//! keeps the original; sharing with the parent-worker is set and withdrawn at a version; and
//! a session has one record.

use crate::Opened;
use alliance_core::Version;
use alliance_core::audit::{Action, ChainKey, Event, Origin};
use alliance_core::cases::{CaseDetails, CaseId, ReferralSource};
use alliance_core::children::ChildId;
use alliance_core::crypto::Sealed;
use alliance_core::directory::{RoomDetails, RoomId, SiteDetails, SiteId, SiteKind};
use alliance_core::identity::{RegistrationBody, Role, UserDetails, UserId, Username};
use alliance_core::schedule::{Booking, BookingId};
use alliance_core::service::ServiceDetails;
use alliance_core::session_records::RecordStatus;
use alliance_service::store::{StoredAmendment, StoredSessionRecord};
use alliance_service::{
    AuditBatch, Booked, ChildLookups, FrameChange, NewCase, NewSession, NewUser, Store, StoreError,
    StoredChild,
};
use alliance_testkit::{Backend, TestDatabase, backends};
use jiff::Timestamp;
use jiff::civil::{date, time};
use std::sync::Arc;
use uuid::Uuid;

const KEY: ChainKey = ChainKey([9; 32]);

fn at(second: i64) -> Timestamp {
    Timestamp::from_second(second).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn audited(action: Action) -> AuditBatch<'static> {
    AuditBatch {
        key: &KEY,
        events: vec![Event::new(action, None, "service", Some("1".to_owned()))],
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

fn version(n: i64) -> anyhow::Result<Version> {
    Version::new(n).map_err(anyhow::Error::msg)
}

/// A therapist and a lead, a child with an open case and a closed one, and three sessions
/// of the open case and one of the closed one.
struct World {
    db: TestDatabase,
    opened: Opened,
    store: Arc<dyn Store>,
    therapist: UserId,
    lead: UserId,
    child: ChildId,
    case: CaseId,
    other_case: CaseId,
    /// Sessions of `case`.
    sessions: [BookingId; 3],
    /// A session of `other_case`.
    other_session: BookingId,
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
    let therapist = new_user(store.as_ref(), 1, "therapist1").await?;
    let lead = new_user(store.as_ref(), 2, "lead1").await?;
    let child = ChildId(id(3));
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
    let site = SiteId(id(4));
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
    let room = RoomId(id(5));
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
    let mut cases = Vec::new();
    for (n, closed) in [(6, true), (7, false)] {
        let case = store
            .open_case(
                &NewCase {
                    id: CaseId(id(n)),
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
        if closed {
            store
                .close_case(
                    case.case.id,
                    &alliance_core::cases::Closure {
                        closed_on: date(2026, 9, 2),
                        reason: alliance_core::cases::ClosureReason::PlannedEnding,
                    },
                    &sealed(b"summary"),
                    case.case.version,
                    at(1_800_000_150),
                    &audited(Action::CaseClosed),
                )
                .await?;
        }
        cases.push(case.case.id);
    }
    let (other_case, case) = (cases[0], cases[1]);
    // One session a week, Mondays at 15:30; the closed case's a Tuesday in its time.
    let mut booked = Vec::new();
    for (n, of, day) in [
        (11, case, date(2026, 9, 7)),
        (12, case, date(2026, 9, 14)),
        (13, case, date(2026, 9, 21)),
        (14, other_case, date(2026, 9, 1)),
    ] {
        let session = BookingId(id(n));
        let done = store
            .add_session(
                &NewSession {
                    booking: Booking {
                        id: session,
                        room,
                        therapist,
                        date: day,
                        start: time(15, 30, 0, 0),
                        minutes: 50,
                    },
                    case_id: of,
                    child_id: child,
                    regular: false,
                },
                &FrameChange {
                    id: id(n + 100),
                    case_id: of,
                    what: "added".to_owned(),
                    session: Some(session),
                    by: therapist,
                    sealed_reason: sealed(b"reason"),
                    at: at(1_800_000_200),
                },
                at(1_800_000_200),
                &audited(Action::SessionAdded),
            )
            .await?;
        if let Booked::Clashed(clashes) = done {
            anyhow::bail!("the world's sessions clash: {clashes:?}");
        }
        booked.push(session);
    }
    Ok(World {
        db,
        opened,
        store,
        therapist,
        lead,
        child,
        case,
        other_case,
        sessions: [booked[0], booked[1], booked[2]],
        other_session: booked[3],
    })
}

/// A new draft of record `n` for `session` of `case`, written at `second`.
fn draft(w: &World, n: u128, session: BookingId, case: CaseId, second: i64) -> StoredSessionRecord {
    StoredSessionRecord {
        id: id(n),
        session_id: session,
        case_id: case,
        child_id: w.child,
        author: w.therapist,
        status: RecordStatus::Draft,
        content: sealed(&[n as u8, 1]),
        version: Version::FIRST,
        created_at: at(second),
        updated_at: at(second),
        signed_at: None,
        shared_at: None,
        shared_by: None,
    }
}

fn amendment(w: &World, n: u128, record: Uuid, second: i64) -> StoredAmendment {
    StoredAmendment {
        id: id(n),
        record_id: record,
        content: sealed(&[n as u8, 0xAD]),
        author: w.therapist,
        created_at: at(second),
    }
}

async fn count(db: &TestDatabase, table: &str) -> anyhow::Result<i64> {
    crate::count_as_owner(db, &format!("SELECT COUNT(*) FROM {table}")).await
}

/// Creates `record` and signs it at version 1 with its own content, at `second`.
async fn signed(
    store: &dyn Store,
    record: &StoredSessionRecord,
    second: i64,
) -> anyhow::Result<StoredSessionRecord> {
    store
        .create_session_record(record, &audited(Action::SessionRecordDrafted))
        .await?;
    Ok(store
        .sign_session_record(
            record.id,
            &record.content,
            Version::FIRST,
            at(second),
            &audited(Action::SessionRecordSigned),
        )
        .await?)
}

#[tokio::test]
async fn a_draft_moves_on_one_version_at_a_time_and_a_stale_save_writes_nothing()
-> anyhow::Result<()> {
    for backend in backends() {
        let w = world(backend).await?;
        let store = w.store.as_ref();
        let record = draft(&w, 21, w.sessions[0], w.case, 1_800_001_000);
        store
            .create_session_record(&record, &audited(Action::SessionRecordDrafted))
            .await?;
        assert_eq!(
            store.session_record(record.id).await?.as_ref(),
            Some(&record),
            "{backend:?}"
        );
        assert_eq!(
            store.session_record_of_session(w.sessions[0]).await?,
            Some(record.clone())
        );
        assert_eq!(store.session_record_of_session(w.sessions[1]).await?, None);

        let saved = store
            .save_session_record_draft(
                record.id,
                &sealed(b"second"),
                Version::FIRST,
                at(1_800_001_100),
                &audited(Action::SessionRecordDrafted),
            )
            .await?;
        let saved = store
            .save_session_record_draft(
                record.id,
                &sealed(b"third"),
                saved.version,
                at(1_800_001_200),
                &audited(Action::SessionRecordDrafted),
            )
            .await?;
        let third = StoredSessionRecord {
            content: sealed(b"third"),
            version: version(3)?,
            updated_at: at(1_800_001_200),
            ..record.clone()
        };
        assert_eq!(saved, third, "{backend:?}");
        assert_eq!(
            store.session_record(record.id).await?.as_ref(),
            Some(&third)
        );

        // A save from version 2 (someone else's tab) is stale and writes nothing, not even
        // an audit entry; an unknown record is not found.
        let head = store.audit_head().await?;
        let stale = store
            .save_session_record_draft(
                record.id,
                &sealed(b"lost"),
                version(2)?,
                at(1_800_001_300),
                &audited(Action::SessionRecordDrafted),
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
            .save_session_record_draft(
                id(99),
                &sealed(b"lost"),
                Version::FIRST,
                at(1_800_001_300),
                &audited(Action::SessionRecordDrafted),
            )
            .await;
        assert_eq!(unknown.err(), Some(StoreError::NotFound), "{backend:?}");
        assert_eq!(store.audit_head().await?, head, "{backend:?}");
        assert_eq!(
            store.session_record(record.id).await?.as_ref(),
            Some(&third)
        );

        // The case's records newest first; the other case's apart.
        let later = draft(&w, 22, w.sessions[1], w.case, 1_800_002_000);
        let elsewhere = draft(&w, 23, w.other_session, w.other_case, 1_800_003_000);
        for r in [&later, &elsewhere] {
            store
                .create_session_record(r, &audited(Action::SessionRecordDrafted))
                .await?;
        }
        assert_eq!(
            store.session_records_of_case(w.case).await?,
            [later, third],
            "{backend:?}"
        );
        assert_eq!(
            store.session_records_of_case(w.other_case).await?,
            [elsewhere]
        );
        assert!(
            store
                .session_records_of_case(CaseId(id(98)))
                .await?
                .is_empty()
        );
        w.opened.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn signing_locks_the_record() -> anyhow::Result<()> {
    for backend in backends() {
        let w = world(backend).await?;
        let store = w.store.as_ref();
        let record = draft(&w, 31, w.sessions[0], w.case, 1_800_001_000);
        store
            .create_session_record(&record, &audited(Action::SessionRecordDrafted))
            .await?;
        let stale = store
            .sign_session_record(
                record.id,
                &sealed(b"final"),
                version(2)?,
                at(1_800_001_100),
                &audited(Action::SessionRecordSigned),
            )
            .await;
        assert_eq!(
            stale.err(),
            Some(StoreError::Stale {
                current: Version::FIRST
            }),
            "{backend:?}"
        );
        assert_eq!(
            store.session_record(record.id).await?.as_ref(),
            Some(&record)
        );

        let head = store.audit_head().await?;
        let signed = store
            .sign_session_record(
                record.id,
                &sealed(b"final"),
                Version::FIRST,
                at(1_800_001_200),
                &audited(Action::SessionRecordSigned),
            )
            .await?;
        let expected = StoredSessionRecord {
            status: RecordStatus::Signed,
            content: sealed(b"final"),
            version: version(2)?,
            updated_at: at(1_800_001_200),
            signed_at: Some(at(1_800_001_200)),
            ..record.clone()
        };
        assert_eq!(signed, expected, "{backend:?}");
        assert_eq!(store.audit_head().await?.seq, head.seq + 1, "{backend:?}");

        // Signed is final: a save or a second signing, even at the current version, is the
        // named conflict and writes nothing.
        let head = store.audit_head().await?;
        let saved = store
            .save_session_record_draft(
                record.id,
                &sealed(b"after"),
                version(2)?,
                at(1_800_001_300),
                &audited(Action::SessionRecordDrafted),
            )
            .await;
        let resigned = store
            .sign_session_record(
                record.id,
                &sealed(b"after"),
                version(2)?,
                at(1_800_001_300),
                &audited(Action::SessionRecordSigned),
            )
            .await;
        // A stale version on a signed record names the lock too, not the version.
        let stale_save = store
            .save_session_record_draft(
                record.id,
                &sealed(b"after"),
                Version::FIRST,
                at(1_800_001_300),
                &audited(Action::SessionRecordDrafted),
            )
            .await;
        for refused in [saved, resigned, stale_save] {
            assert_eq!(
                refused.err(),
                Some(StoreError::Conflict("session_records_signed".to_owned())),
                "{backend:?}"
            );
        }
        assert_eq!(store.audit_head().await?, head, "{backend:?}");
        assert_eq!(store.session_record(record.id).await?, Some(expected));
        w.opened.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn an_amendment_needs_a_signed_record_and_keeps_the_original() -> anyhow::Result<()> {
    for backend in backends() {
        let w = world(backend).await?;
        let store = w.store.as_ref();
        let record = draft(&w, 41, w.sessions[0], w.case, 1_800_001_000);
        store
            .create_session_record(&record, &audited(Action::SessionRecordDrafted))
            .await?;
        // A draft is edited, not amended; an unknown record is not found. Neither writes.
        let head = store.audit_head().await?;
        let on_draft = store
            .amend_session_record(
                &amendment(&w, 51, record.id, 1_800_001_100),
                Version::FIRST,
                &audited(Action::SessionRecordAmended),
            )
            .await;
        assert_eq!(
            on_draft.err(),
            Some(StoreError::Conflict("session_records_draft".to_owned())),
            "{backend:?}"
        );
        let unknown = store
            .amend_session_record(
                &amendment(&w, 52, id(99), 1_800_001_100),
                Version::FIRST,
                &audited(Action::SessionRecordAmended),
            )
            .await;
        assert_eq!(unknown.err(), Some(StoreError::NotFound), "{backend:?}");
        assert_eq!(store.audit_head().await?, head, "{backend:?}");
        assert_eq!(
            count(&w.db, "session_record_amendments").await?,
            0,
            "{backend:?}"
        );
        assert_eq!(
            store.session_record(record.id).await?.as_ref(),
            Some(&record)
        );

        let signed = store
            .sign_session_record(
                record.id,
                &sealed(b"as signed"),
                Version::FIRST,
                at(1_800_001_200),
                &audited(Action::SessionRecordSigned),
            )
            .await?;
        let first = amendment(&w, 53, record.id, 1_800_001_300);
        let amended = store
            .amend_session_record(
                &first,
                signed.version,
                &audited(Action::SessionRecordAmended),
            )
            .await?;
        // The version and the time move; what was signed stays as it was.
        assert_eq!(
            amended,
            StoredSessionRecord {
                version: version(3)?,
                updated_at: at(1_800_001_300),
                ..signed.clone()
            },
            "{backend:?}"
        );
        assert_eq!(amended.content, sealed(b"as signed"));

        // An amendment from the version before is stale: no amendment, no audit entry.
        let head = store.audit_head().await?;
        let stale = store
            .amend_session_record(
                &amendment(&w, 54, record.id, 1_800_001_400),
                signed.version,
                &audited(Action::SessionRecordAmended),
            )
            .await;
        assert_eq!(
            stale.err(),
            Some(StoreError::Stale {
                current: version(3)?
            }),
            "{backend:?}"
        );
        assert_eq!(store.audit_head().await?, head, "{backend:?}");
        assert_eq!(
            store.amendments(record.id).await?,
            std::slice::from_ref(&first)
        );

        let second = amendment(&w, 55, record.id, 1_800_001_500);
        let twice = store
            .amend_session_record(
                &second,
                amended.version,
                &audited(Action::SessionRecordAmended),
            )
            .await?;
        assert_eq!(twice.version, version(4)?);
        assert_eq!(store.session_record(record.id).await?, Some(twice));
        assert_eq!(
            store.amendments(record.id).await?,
            [first, second],
            "{backend:?}"
        );
        assert!(store.amendments(id(99)).await?.is_empty());
        w.opened.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn a_signed_record_is_shared_and_unshared_at_its_version() -> anyhow::Result<()> {
    for backend in backends() {
        let w = world(backend).await?;
        let store = w.store.as_ref();
        let record = draft(&w, 61, w.sessions[0], w.case, 1_800_001_000);
        store
            .create_session_record(&record, &audited(Action::SessionRecordDrafted))
            .await?;
        let head = store.audit_head().await?;
        let on_draft = store
            .share_session_record(
                record.id,
                Some(w.lead),
                Version::FIRST,
                at(1_800_001_100),
                &audited(Action::SessionRecordShared),
            )
            .await;
        assert_eq!(
            on_draft.err(),
            Some(StoreError::Conflict("session_records_draft".to_owned())),
            "{backend:?}"
        );
        let unknown = store
            .share_session_record(
                id(99),
                Some(w.lead),
                Version::FIRST,
                at(1_800_001_100),
                &audited(Action::SessionRecordShared),
            )
            .await;
        assert_eq!(unknown.err(), Some(StoreError::NotFound), "{backend:?}");
        assert_eq!(store.audit_head().await?, head, "{backend:?}");
        assert_eq!(
            store.session_record(record.id).await?.as_ref(),
            Some(&record)
        );

        let signed = store
            .sign_session_record(
                record.id,
                &record.content,
                Version::FIRST,
                at(1_800_001_200),
                &audited(Action::SessionRecordSigned),
            )
            .await?;
        let shared = store
            .share_session_record(
                record.id,
                Some(w.lead),
                signed.version,
                at(1_800_001_300),
                &audited(Action::SessionRecordShared),
            )
            .await?;
        let expected = StoredSessionRecord {
            version: version(3)?,
            shared_at: Some(at(1_800_001_300)),
            shared_by: Some(w.lead),
            ..signed.clone()
        };
        assert_eq!(shared, expected, "{backend:?}");
        assert_eq!(
            store.session_record(record.id).await?.as_ref(),
            Some(&expected)
        );

        // Withdrawing from a stale version is refused and writes nothing.
        let head = store.audit_head().await?;
        let stale = store
            .share_session_record(
                record.id,
                None,
                signed.version,
                at(1_800_001_400),
                &audited(Action::SessionRecordShared),
            )
            .await;
        assert_eq!(
            stale.err(),
            Some(StoreError::Stale {
                current: version(3)?
            }),
            "{backend:?}"
        );
        assert_eq!(store.audit_head().await?, head, "{backend:?}");
        assert_eq!(
            store.session_record(record.id).await?.as_ref(),
            Some(&expected)
        );

        let unshared = store
            .share_session_record(
                record.id,
                None,
                shared.version,
                at(1_800_001_500),
                &audited(Action::SessionRecordShared),
            )
            .await?;
        let expected = StoredSessionRecord {
            version: version(4)?,
            shared_at: None,
            shared_by: None,
            ..signed
        };
        assert_eq!(unshared, expected, "{backend:?}");
        assert_eq!(store.session_record(record.id).await?, Some(expected));
        w.opened.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn a_session_has_one_record() -> anyhow::Result<()> {
    for backend in backends() {
        let w = world(backend).await?;
        let store = w.store.as_ref();
        let record = draft(&w, 71, w.sessions[2], w.case, 1_800_001_000);
        let first = signed(store, &record, 1_800_001_100).await?;
        let head = store.audit_head().await?;
        // Another record of the same session (a second tab's first save): the named conflict.
        let twin = store
            .create_session_record(
                &draft(&w, 72, w.sessions[2], w.case, 1_800_001_200),
                &audited(Action::SessionRecordDrafted),
            )
            .await;
        assert_eq!(
            twin.err(),
            Some(StoreError::Conflict("session_records_session".to_owned())),
            "{backend:?}"
        );
        // The same id for another session.
        let same_id = store
            .create_session_record(
                &draft(&w, 71, w.sessions[1], w.case, 1_800_001_200),
                &audited(Action::SessionRecordDrafted),
            )
            .await;
        assert_eq!(
            same_id.err(),
            Some(StoreError::Conflict("session_records_pkey".to_owned())),
            "{backend:?}"
        );
        // A record is written as a draft: never signed or shared from the start.
        let born_signed = store
            .create_session_record(
                &StoredSessionRecord {
                    status: RecordStatus::Signed,
                    signed_at: Some(at(1_800_001_200)),
                    ..draft(&w, 73, w.sessions[1], w.case, 1_800_001_200)
                },
                &audited(Action::SessionRecordDrafted),
            )
            .await;
        assert!(
            matches!(born_signed, Err(StoreError::Other(_))),
            "{backend:?}"
        );
        assert_eq!(store.audit_head().await?, head, "{backend:?}");
        assert_eq!(count(&w.db, "session_records").await?, 1, "{backend:?}");
        assert_eq!(
            store.session_record_of_session(w.sessions[2]).await?,
            Some(first)
        );
        w.opened.close().await;
    }
    Ok(())
}
