//! The agreement store on both engines: versions move from draft to active to superseded one
//! transaction at a time, a consent link is spent once and only with its answer, and a consent
//! entry written with the child's details writes nothing when those details have moved on.

use crate::Opened;
use alliance_core::Version;
use alliance_core::agreements::AgreementStatus;
use alliance_core::audit::{Action, ChainKey, Event, Origin};
use alliance_core::cases::{CaseDetails, CaseId, ReferralSource};
use alliance_core::children::{CarerId, ChildId};
use alliance_core::consent::{EntryKind, Via};
use alliance_core::crypto::Sealed;
use alliance_core::identity::{RegistrationBody, Role, UserDetails, UserId, Username};
use alliance_core::service::ServiceDetails;
use alliance_service::{
    AuditBatch, ChildDetailsUpdate, ChildLookups, ConsentLinkRecord, NewCase, NewUser, Store,
    StoreError, StoredAgreement, StoredCarer, StoredChecklistItem, StoredChild, StoredConsentEntry,
};
use alliance_testkit::{Backend, TestDatabase, backends};
use jiff::Timestamp;
use jiff::civil::date;
use std::sync::Arc;
use uuid::Uuid;

const KEY: ChainKey = ChainKey([7; 32]);

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

fn sealed(bytes: &[u8]) -> Sealed {
    Sealed::from_stored(bytes.to_vec())
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

/// A case for a child with one carer, and a therapist; all ids from `base`.
struct World {
    db: TestDatabase,
    opened: Opened,
    store: Arc<dyn Store>,
    therapist: UserId,
    child: ChildId,
    carer: CarerId,
    case: CaseId,
    other_case: CaseId,
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
    let therapist = UserId(id(1));
    store
        .create_user(
            &NewUser {
                id: therapist,
                username: Username::parse("therapist1").map_err(anyhow::Error::msg)?,
                details: UserDetails {
                    display_name: "Therapist One".to_owned(),
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
    let child = ChildId(id(2));
    store
        .create_child(
            &StoredChild {
                id: child,
                sealed_details: sealed(b"details v1"),
                version: Version::FIRST,
                created_at: at(1_800_000_000),
                updated_at: at(1_800_000_000),
            },
            &ChildLookups::default(),
            &audited(Action::ChildCreated),
        )
        .await?;
    let carer = CarerId(id(3));
    store
        .create_carer(
            &StoredCarer {
                id: carer,
                child_id: child,
                sealed_details: sealed(b"carer"),
                active: true,
                version: Version::FIRST,
                created_at: at(1_800_000_000),
                updated_at: at(1_800_000_000),
            },
            &audited(Action::CarerAdded),
        )
        .await?;
    let mut cases = Vec::new();
    for (n, closed) in [(4, true), (5, false)] {
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
    Ok(World {
        db,
        opened,
        store,
        therapist,
        child,
        carer,
        case: cases[1],
        other_case: cases[0],
    })
}

fn draft(w: &World, n: u128, number: i64) -> StoredAgreement {
    StoredAgreement {
        id: id(n),
        case_id: w.case,
        child_id: w.child,
        number,
        status: AgreementStatus::Draft,
        content: sealed(&[n as u8, 0xA5]),
        slot_version: (number > 1).then_some(number),
        created_by: w.therapist,
        created_at: at(1_800_001_000 + number),
        activated_by: None,
        activated_at: None,
        superseded_at: None,
    }
}

fn link(w: &World, n: u128, created: i64, expires: i64) -> ConsentLinkRecord {
    ConsentLinkRecord {
        id: id(n),
        token_hash: format!("hash-{n}"),
        case_id: w.case,
        child_id: w.child,
        carer_id: w.carer,
        created_by: w.therapist,
        created_at: at(created),
        expires_at: at(expires),
        spent_at: None,
        revoked_at: None,
    }
}

fn link_entry(w: &World, n: u128, recorded: i64) -> StoredConsentEntry {
    StoredConsentEntry {
        id: id(n),
        case_id: w.case,
        child_id: w.child,
        kind: EntryKind::ParentalConsent,
        carer_id: Some(w.carer),
        agreement_id: None,
        via: Via::Link,
        given_on: date(2027, 1, 4),
        detail: sealed(&[n as u8, 0x5A]),
        recorded_by: None,
        recorded_at: at(recorded),
    }
}

async fn count(db: &TestDatabase, table: &str) -> anyhow::Result<i64> {
    crate::count_as_owner(db, &format!("SELECT COUNT(*) FROM {table}")).await
}

#[tokio::test]
async fn activation_supersedes_the_active_version_and_refuses_a_non_draft() -> anyhow::Result<()> {
    for backend in backends() {
        let w = world(backend).await?;
        let store = w.store.as_ref();
        let (v1, v2, v3) = (draft(&w, 11, 1), draft(&w, 12, 2), draft(&w, 13, 3));
        for v in [&v1, &v2, &v3] {
            store
                .create_agreement(v, &audited(Action::AgreementDrafted))
                .await?;
        }
        // Numbers are per case: a second version 2 is refused, by the same name on both.
        let twin = store
            .create_agreement(&draft(&w, 19, 2), &audited(Action::AgreementDrafted))
            .await;
        assert_eq!(
            twin.err(),
            Some(StoreError::Conflict("agreements_case_number".to_owned())),
            "{backend:?}"
        );
        assert_eq!(
            store.agreement(v1.id).await?.as_ref(),
            Some(&v1),
            "{backend:?}"
        );
        let numbers = |list: Vec<StoredAgreement>| -> Vec<i64> {
            list.into_iter().map(|v| v.number).collect()
        };
        assert_eq!(numbers(store.agreements_of_case(w.case).await?), [3, 2, 1]);
        assert!(store.agreements_of_case(w.other_case).await?.is_empty());

        assert!(
            store
                .activate_agreement(
                    w.case,
                    v1.id,
                    w.therapist,
                    at(1_800_002_000),
                    &audited(Action::AgreementActivated)
                )
                .await?,
            "{backend:?}"
        );
        let active = StoredAgreement {
            status: AgreementStatus::Active,
            activated_by: Some(w.therapist),
            activated_at: Some(at(1_800_002_000)),
            ..v1.clone()
        };
        assert_eq!(store.agreement(v1.id).await?, Some(active.clone()));

        // Refusals write nothing, not even an audit entry: an active version, a draft of
        // another case, a version that does not exist.
        let head = store.audit_head().await?;
        for (case, version) in [(w.case, v1.id), (w.other_case, v2.id), (w.case, id(99))] {
            assert!(
                !store
                    .activate_agreement(
                        case,
                        version,
                        w.therapist,
                        at(1_800_002_500),
                        &audited(Action::AgreementActivated)
                    )
                    .await?,
                "{backend:?}: {version}"
            );
        }
        assert_eq!(store.audit_head().await?, head, "{backend:?}");
        assert_eq!(store.agreement(v1.id).await?, Some(active.clone()));
        assert_eq!(store.agreement(v2.id).await?, Some(v2.clone()));

        // The next activation supersedes the active version in the same transaction.
        assert!(
            store
                .activate_agreement(
                    w.case,
                    v2.id,
                    w.therapist,
                    at(1_800_003_000),
                    &audited(Action::AgreementActivated)
                )
                .await?
        );
        assert_eq!(store.audit_head().await?.seq, head.seq + 1, "{backend:?}");
        let statuses = |list: Vec<StoredAgreement>| -> Vec<(i64, AgreementStatus)> {
            list.into_iter().map(|v| (v.number, v.status)).collect()
        };
        assert_eq!(
            statuses(store.agreements_of_case(w.case).await?),
            [
                (3, AgreementStatus::Draft),
                (2, AgreementStatus::Active),
                (1, AgreementStatus::Superseded),
            ],
            "{backend:?}"
        );
        assert_eq!(
            store.agreement(v1.id).await?,
            Some(StoredAgreement {
                status: AgreementStatus::Superseded,
                superseded_at: Some(at(1_800_003_000)),
                ..active
            })
        );
        // A superseded version is no draft either.
        assert!(
            !store
                .activate_agreement(
                    w.case,
                    v1.id,
                    w.therapist,
                    at(1_800_004_000),
                    &audited(Action::AgreementActivated)
                )
                .await?
        );
        assert_eq!(
            crate::count_as_owner(
                &w.db,
                "SELECT COUNT(*) FROM agreements WHERE status = 'active'"
            )
            .await?,
            1,
            "{backend:?}"
        );
        w.opened.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn a_consent_link_is_spent_once_and_its_entry_written_only_then() -> anyhow::Result<()> {
    for backend in backends() {
        let w = world(backend).await?;
        let store = w.store.as_ref();
        let live = link(&w, 21, 1_800_000_200, 1_800_100_000);
        let expired = link(&w, 22, 1_800_000_300, 1_800_000_400);
        let withdrawn = link(&w, 23, 1_800_000_500, 1_800_100_000);
        for l in [&live, &expired, &withdrawn] {
            store
                .create_consent_link(l, &audited(Action::ConsentLinkCreated))
                .await?;
        }
        let twin = store
            .create_consent_link(
                &ConsentLinkRecord {
                    id: id(29),
                    ..live.clone()
                },
                &audited(Action::ConsentLinkCreated),
            )
            .await;
        assert_eq!(
            twin.err(),
            Some(StoreError::Conflict(
                "consent_links_token_hash_key".to_owned()
            )),
            "{backend:?}"
        );
        assert_eq!(
            store.consent_link_by_token("hash-21").await?.as_ref(),
            Some(&live)
        );
        assert_eq!(store.consent_link_by_token("hash-99").await?, None);
        let ids = |list: Vec<ConsentLinkRecord>| -> Vec<u128> {
            list.into_iter().map(|l| l.id.as_u128()).collect()
        };
        assert_eq!(
            ids(store.consent_links_of_case(w.case).await?),
            [23, 22, 21],
            "{backend:?}"
        );

        assert!(
            store
                .revoke_consent_link(
                    withdrawn.id,
                    at(1_800_000_600),
                    &audited(Action::ConsentLinkRevoked)
                )
                .await?
        );
        let head = store.audit_head().await?;
        assert!(
            !store
                .revoke_consent_link(
                    withdrawn.id,
                    at(1_800_000_700),
                    &audited(Action::ConsentLinkRevoked)
                )
                .await?,
            "{backend:?}: revoked twice"
        );

        // An expired link, a withdrawn one and an unknown one spend nothing and record nothing.
        let now = at(1_800_001_000);
        for (link_id, entry) in [(expired.id, 32), (withdrawn.id, 33), (id(98), 34)] {
            assert!(
                !store
                    .use_consent_link(
                        link_id,
                        &link_entry(&w, entry, 1_800_001_000),
                        now,
                        &audited(Action::ConsentLinkUsed)
                    )
                    .await?,
                "{backend:?}: {link_id}"
            );
        }
        assert_eq!(store.audit_head().await?, head, "{backend:?}");
        assert_eq!(count(&w.db, "consent_entries").await?, 0, "{backend:?}");

        // The live link spends once, with its answer.
        let answer = link_entry(&w, 31, 1_800_001_000);
        assert!(
            store
                .use_consent_link(live.id, &answer, now, &audited(Action::ConsentLinkUsed))
                .await?,
            "{backend:?}"
        );
        assert_eq!(store.audit_head().await?.seq, head.seq + 1);
        assert_eq!(store.consent_entries(w.case).await?, [answer]);
        let spent = store.consent_link_by_token("hash-21").await?;
        assert_eq!(spent.as_ref().and_then(|l| l.spent_at), Some(now));
        assert!(!spent.is_some_and(|l| l.is_usable(now)));

        let head = store.audit_head().await?;
        assert!(
            !store
                .use_consent_link(
                    live.id,
                    &link_entry(&w, 35, 1_800_001_100),
                    at(1_800_001_100),
                    &audited(Action::ConsentLinkUsed)
                )
                .await?,
            "{backend:?}: spent twice"
        );
        // A spent link cannot be withdrawn either.
        assert!(
            !store
                .revoke_consent_link(
                    live.id,
                    at(1_800_001_200),
                    &audited(Action::ConsentLinkRevoked)
                )
                .await?
        );
        assert_eq!(store.audit_head().await?, head, "{backend:?}");
        assert_eq!(count(&w.db, "consent_entries").await?, 1, "{backend:?}");
        w.opened.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn consent_with_a_stale_child_version_writes_nothing() -> anyhow::Result<()> {
    for backend in backends() {
        let w = world(backend).await?;
        let store = w.store.as_ref();
        let own = |n: u128, recorded: i64| StoredConsentEntry {
            id: id(n),
            case_id: w.case,
            child_id: w.child,
            kind: EntryKind::OwnConsent,
            carer_id: None,
            agreement_id: None,
            via: Via::InPerson,
            given_on: date(2027, 1, 5),
            detail: sealed(&[n as u8]),
            recorded_by: Some(w.therapist),
            recorded_at: at(recorded),
        };
        let update = |details: &[u8], expected: Version| ChildDetailsUpdate {
            child: w.child,
            sealed_details: sealed(details),
            expected,
        };
        // Recorded out of order: entries read back in the order recorded.
        let first = own(42, 1_800_002_000);
        let earlier = StoredConsentEntry {
            kind: EntryKind::Assent,
            ..own(41, 1_800_001_000)
        };
        store
            .record_consent(
                &first,
                Some(&update(b"details v2", Version::FIRST)),
                &audited(Action::ConsentRecorded),
            )
            .await?;
        store
            .record_consent(&earlier, None, &audited(Action::ConsentRecorded))
            .await?;
        let child = store.child(w.child).await?;
        assert_eq!(
            child.map(|c| (c.version.get(), c.sealed_details, c.updated_at)),
            Some((2, sealed(b"details v2"), at(1_800_002_000))),
            "{backend:?}"
        );
        assert_eq!(
            store.consent_entries(w.case).await?,
            [earlier.clone(), first.clone()],
            "{backend:?}"
        );

        // Someone else's change came first: nothing of this one is written.
        let head = store.audit_head().await?;
        let stale = store
            .record_consent(
                &own(43, 1_800_003_000),
                Some(&update(b"details lost", Version::FIRST)),
                &audited(Action::ConsentRecorded),
            )
            .await;
        assert_eq!(
            stale.err(),
            Some(StoreError::Conflict("children_version".to_owned())),
            "{backend:?}"
        );
        assert_eq!(store.audit_head().await?, head, "{backend:?}");
        assert_eq!(count(&w.db, "consent_entries").await?, 2, "{backend:?}");
        assert_eq!(
            store.child(w.child).await?.map(|c| c.sealed_details),
            Some(sealed(b"details v2"))
        );
        w.opened.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn checklist_items_read_back_newest_explanation_first() -> anyhow::Result<()> {
    for backend in backends() {
        let w = world(backend).await?;
        let store = w.store.as_ref();
        let item =
            |n: u128, case: CaseId, day: i8, recorded: i64, methods: &[&str]| StoredChecklistItem {
                id: id(n),
                case_id: case,
                child_id: w.child,
                topic: "confidentiality".to_owned(),
                explained_on: date(2027, 1, day),
                methods: methods.iter().map(|m| (*m).to_owned()).collect(),
                to_whom: "child".to_owned(),
                library_version: None,
                band: "8-11".to_owned(),
                revisit: n.is_multiple_of(2),
                words: sealed(&[n as u8]),
                recorded_by: w.therapist,
                recorded_at: at(recorded),
            };
        let items = [
            item(51, w.other_case, 3, 1_800_000_100, &["spoken"]),
            item(
                52,
                w.case,
                5,
                1_800_000_200,
                &["spoken", "handout", "story"],
            ),
            item(53, w.case, 5, 1_800_000_300, &[]),
            item(54, w.case, 4, 1_800_000_400, &["drawing"]),
        ];
        for i in &items {
            store
                .record_checklist_item(i, &audited(Action::ChecklistRecorded))
                .await?;
        }
        let [a, b, c, d] = items;
        assert_eq!(
            store.checklist_of_child(w.child).await?,
            [c, b, d, a],
            "{backend:?}"
        );
        assert!(store.checklist_of_child(ChildId(id(77))).await?.is_empty());
        w.opened.close().await;
    }
    Ok(())
}
