//! The store conformance suite: the same behaviour on SQLite and PostgreSQL.

use crate::Opened;
use alliance_core::audit::{Action, ChainKey, Event, Origin};
use alliance_core::cases::{
    CaseDetails, CaseId, Closure, ClosureReason, Membership, MembershipId, ReferralSource, TeamRole,
};
use alliance_core::children::{CarerId, ChildId};
use alliance_core::crypto::{KeyOwner, RecordClass, Sealed};
use alliance_core::directory::{RoomDetails, RoomId, SiteDetails, SiteId, SiteKind};
use alliance_core::identity::{RegistrationBody, Role, UserDetails, UserId, Username};
use alliance_core::tasks::{FiringId, Recipient, Rule, Subject, TaskId, TaskKind};
use alliance_core::{Page, PageRequest};
use alliance_core::{Version, service::ServiceDetails};
use alliance_service::keys::{KeyStore, WrappedKey};
use alliance_service::{
    AuditBatch, ChildLookups, ChildSelection, NewCase, NewFiring, NewTask, NewUser, ReasonUpdate,
    Store, StoreError, StoredCarer, StoredChild, StoredComment, StoredHoliday, TaskFilter,
    TeamChange,
};
use alliance_store_postgres::PostgresStore;
use alliance_store_sqlite::{OpenMode, SqliteStore};
use alliance_testkit::{Backend, TestDatabase, backends};
use jiff::Timestamp;
use jiff::civil::{Date, date};
use std::sync::Arc;
use uuid::Uuid;

fn at(second: i64) -> Timestamp {
    Timestamp::from_second(second).unwrap_or(Timestamp::UNIX_EPOCH)
}

const KEY: ChainKey = ChainKey([3; 32]);

/// An audit batch recording one change, as a use-case would write with it.
fn audited(action: Action) -> AuditBatch<'static> {
    AuditBatch {
        key: &KEY,
        events: vec![Event::new(action, None, "service", Some("1".to_owned()))],
        origin: Origin::default(),
        at: at(1_800_000_000),
        follow_ups: Vec::new(),
    }
}

fn details(name: &str) -> ServiceDetails {
    ServiceDetails::parse(name, "england").unwrap_or_else(|e| panic!("{e:?}"))
}

#[tokio::test]
async fn migrating_twice_is_harmless_and_leaves_the_schema_current() -> anyhow::Result<()> {
    for backend in backends() {
        let db = TestDatabase::new(backend).await?;
        let opened = Opened::new(&db).await?;
        let before = opened.store().schema_status().await?;
        assert_eq!(before.applied, 0, "{backend:?}");
        let first = opened.migrate().await?;
        let second = opened.migrate().await?;
        assert!(first.is_current() && second.is_current(), "{backend:?}");
        assert!(first.known >= 1);
        opened.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn the_service_record_is_created_once_and_versioned() -> anyhow::Result<()> {
    for backend in backends() {
        let db = TestDatabase::new(backend).await?;
        let opened = Opened::migrated(&db).await?;
        let store = opened.store();
        assert!(store.is_empty().await?, "{backend:?}");
        assert_eq!(store.service_profile().await?, None);

        let created = store
            .create_service_profile(
                &details("Riverside Play Therapy"),
                false,
                at(1_800_000_000),
                &audited(Action::ServiceCreated),
            )
            .await?;
        assert_eq!(created.version, Version::FIRST);
        assert_eq!(created.created_at, at(1_800_000_000));
        assert!(!store.is_empty().await?);

        let again = store
            .create_service_profile(
                &details("Another"),
                true,
                at(1_800_000_001),
                &audited(Action::ServiceCreated),
            )
            .await;
        assert!(
            matches!(again, Err(StoreError::Conflict(_))),
            "{backend:?}: {again:?}"
        );

        let updated = store
            .update_service_profile(
                &details("Riverside Therapy"),
                Version::FIRST,
                at(1_800_000_100),
                &audited(Action::ServiceUpdated),
            )
            .await?;
        assert_eq!(updated.version.get(), 2);
        assert_eq!(updated.name.as_str(), "Riverside Therapy");
        assert_eq!(updated.created_at, at(1_800_000_000));
        assert_eq!(updated.updated_at, at(1_800_000_100));

        // A second writer still holding version 1 is refused, and told the current version.
        let stale = store
            .update_service_profile(
                &details("Lost update"),
                Version::FIRST,
                at(1_800_000_200),
                &audited(Action::ServiceUpdated),
            )
            .await;
        assert_eq!(
            stale.err(),
            Some(StoreError::Stale {
                current: updated.version
            }),
            "{backend:?}"
        );
        let stored = store.service_profile().await?;
        assert_eq!(
            stored.map(|s| s.name.as_str().to_owned()).as_deref(),
            Some("Riverside Therapy")
        );
        opened.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn updating_a_service_that_does_not_exist_is_not_found() -> anyhow::Result<()> {
    for backend in backends() {
        let db = TestDatabase::new(backend).await?;
        let opened = Opened::migrated(&db).await?;
        let result = opened
            .store()
            .update_service_profile(
                &details("Nobody"),
                Version::FIRST,
                at(1_800_000_000),
                &audited(Action::ServiceUpdated),
            )
            .await;
        assert_eq!(result.err(), Some(StoreError::NotFound), "{backend:?}");
        opened.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn a_database_from_a_newer_alliance_is_refused_and_left_alone() -> anyhow::Result<()> {
    for backend in backends() {
        let db = TestDatabase::new(backend).await?;
        let opened = Opened::migrated(&db).await?;
        crate::insert_future_migration(&db).await?;
        let status = opened.store().schema_status().await?;
        assert_eq!(status.applied, 999_999, "{backend:?}");
        let refused = opened.migrate().await;
        match refused {
            Err(StoreError::Schema(message)) => assert!(message.contains("newer"), "{message}"),
            other => panic!("{backend:?}: expected a refusal, got {other:?}"),
        }
        assert_eq!(opened.store().schema_status().await?.applied, 999_999);
        opened.close().await;
    }
    Ok(())
}

// ---- The directory, children, carers, cases and case teams ----

fn version(n: i64) -> Version {
    Version::new(n).unwrap_or(Version::FIRST)
}

fn sealed(bytes: &[u8]) -> Sealed {
    Sealed::from_stored(bytes.to_vec())
}

/// A migrated database with its service set up (cases take their numbers from it).
async fn with_service(backend: Backend) -> anyhow::Result<(TestDatabase, Opened)> {
    let db = TestDatabase::new(backend).await?;
    let opened = Opened::migrated(&db).await?;
    opened
        .store()
        .create_service_profile(
            &details("Riverside Play Therapy"),
            false,
            at(1_800_000_000),
            &audited(Action::ServiceCreated),
        )
        .await?;
    Ok((db, opened))
}

/// A therapist's account, to put on case teams.
async fn therapist(store: &dyn Store, n: u128) -> anyhow::Result<UserId> {
    let id = UserId(Uuid::from_u128(n));
    let username = format!("therapist{n}");
    store
        .create_user(
            &NewUser {
                id,
                username: Username::parse(&username).map_err(anyhow::Error::msg)?,
                details: UserDetails {
                    display_name: format!("Therapist {n}"),
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
    Ok(id)
}

fn site(name: &str, kind: SiteKind) -> SiteDetails {
    SiteDetails {
        name: name.to_owned(),
        kind,
        address: Some("1 High Street, Leeds".to_owned()),
        phone: Some("0113 496 0000".to_owned()),
        out_of_hours: Some("Emergency duty team: 0113 496 0999".to_owned()),
        school_dsl_name: (kind == SiteKind::School).then(|| "Ms Patel".to_owned()),
        school_dsl_contact: None,
    }
}

fn room(name: &str, capacity: u16) -> RoomDetails {
    RoomDetails {
        name: name.to_owned(),
        capacity,
        step_free: true,
        accessibility_notes: None,
    }
}

async fn new_child(
    store: &dyn Store,
    n: u128,
    lookups: &ChildLookups,
) -> Result<StoredChild, StoreError> {
    store
        .create_child(
            &StoredChild {
                id: ChildId(Uuid::from_u128(n)),
                sealed_details: sealed(&[n as u8, 1, 2, 3]),
                version: Version::FIRST,
                created_at: at(1_800_000_000),
                updated_at: at(1_800_000_000),
            },
            lookups,
            &audited(Action::ChildCreated),
        )
        .await
}

fn member(
    n: u128,
    case: CaseId,
    user: UserId,
    role: TeamRole,
    starts: Date,
    ends: Option<Date>,
) -> Membership {
    Membership {
        id: MembershipId(Uuid::from_u128(n)),
        case_id: case,
        user_id: user,
        role,
        starts_on: starts,
        ends_on: ends,
    }
}

fn referral(received: Date) -> CaseDetails {
    CaseDetails {
        referral_source: ReferralSource::School,
        referral_received: received,
        first_seen: None,
    }
}

/// Opens a case for `child` with `lead` as its lead from `starts`.
async fn open(
    store: &dyn Store,
    n: u128,
    child: ChildId,
    lead: Option<(UserId, Date)>,
) -> Result<alliance_service::StoredCase, StoreError> {
    let id = CaseId(Uuid::from_u128(n));
    store
        .open_case(
            &NewCase {
                id,
                child_id: child,
                details: referral(date(2026, 9, 1)),
                sealed_reason: Some(sealed(b"sealed reason")),
                lead: lead
                    .map(|(user, starts)| member(n + 1, id, user, TeamRole::Lead, starts, None)),
            },
            at(1_800_000_100),
            &audited(Action::CaseOpened),
        )
        .await
}

async fn close(
    store: &dyn Store,
    case: &alliance_service::StoredCase,
    on: Date,
) -> Result<alliance_service::StoredCase, StoreError> {
    store
        .close_case(
            case.case.id,
            &Closure {
                closed_on: on,
                reason: ClosureReason::PlannedEnding,
            },
            &sealed(b"sealed summary"),
            case.case.version,
            at(1_800_000_200),
            &audited(Action::CaseClosed),
        )
        .await
}

#[tokio::test]
async fn sites_and_rooms_are_versioned_and_their_names_unique() -> anyhow::Result<()> {
    for backend in backends() {
        let (_db, opened) = with_service(backend).await?;
        let store = opened.store();
        let oak = SiteId(Uuid::from_u128(1));
        let beech = SiteId(Uuid::from_u128(2));
        let created = store
            .create_site(
                oak,
                &site("Oakfield Primary", SiteKind::School),
                at(100),
                &audited(Action::SiteCreated),
            )
            .await?;
        assert_eq!(
            created.details,
            site("Oakfield Primary", SiteKind::School),
            "{backend:?}"
        );
        assert!(created.active);
        assert_eq!(created.version, Version::FIRST);
        assert_eq!((created.created_at, created.updated_at), (at(100), at(100)));
        store
            .create_site(
                beech,
                &site("Beech Clinic", SiteKind::Clinic),
                at(100),
                &audited(Action::SiteCreated),
            )
            .await?;
        let twin = store
            .create_site(
                SiteId(Uuid::from_u128(3)),
                &site("Oakfield Primary", SiteKind::Community),
                at(100),
                &audited(Action::SiteCreated),
            )
            .await;
        assert_eq!(
            twin.err(),
            Some(StoreError::Conflict("sites_name_key".into())),
            "{backend:?}"
        );
        assert_eq!(store.site(SiteId(Uuid::from_u128(3))).await?, None);

        let renamed = store
            .update_site(
                oak,
                &site("Oakfield Primary School", SiteKind::School),
                false,
                Version::FIRST,
                at(200),
                &audited(Action::SiteUpdated),
            )
            .await?;
        assert_eq!(renamed.version, version(2));
        assert_eq!(renamed.details.name, "Oakfield Primary School");
        assert!(!renamed.active);
        assert_eq!((renamed.created_at, renamed.updated_at), (at(100), at(200)));
        let stale = store
            .update_site(
                oak,
                &site("Lost", SiteKind::School),
                true,
                Version::FIRST,
                at(300),
                &audited(Action::SiteUpdated),
            )
            .await;
        assert_eq!(
            stale.err(),
            Some(StoreError::Stale {
                current: version(2)
            }),
            "{backend:?}"
        );
        let missing = store
            .update_site(
                SiteId(Uuid::from_u128(9)),
                &site("Nowhere", SiteKind::Clinic),
                true,
                Version::FIRST,
                at(300),
                &audited(Action::SiteUpdated),
            )
            .await;
        assert_eq!(missing.err(), Some(StoreError::NotFound));
        let taken = store
            .update_site(
                beech,
                &site("Oakfield Primary School", SiteKind::Clinic),
                true,
                Version::FIRST,
                at(300),
                &audited(Action::SiteUpdated),
            )
            .await;
        assert_eq!(
            taken.err(),
            Some(StoreError::Conflict("sites_name_key".into())),
            "{backend:?}"
        );
        assert_eq!(store.site(oak).await?, Some(renamed));
        let names: Vec<String> = store
            .sites()
            .await?
            .into_iter()
            .map(|s| s.details.name)
            .collect();
        assert_eq!(
            names,
            ["Beech Clinic", "Oakfield Primary School"],
            "{backend:?}"
        );

        // Rooms: unique by name within a site, listed by site name and then room name.
        let willow = RoomId(Uuid::from_u128(11));
        let made = store
            .create_room(
                willow,
                oak,
                &room("Willow Room", 4),
                at(100),
                &audited(Action::RoomCreated),
            )
            .await?;
        assert_eq!(
            (made.site_id, made.details.clone(), made.version),
            (oak, room("Willow Room", 4), Version::FIRST)
        );
        store
            .create_room(
                RoomId(Uuid::from_u128(12)),
                oak,
                &room("Ash Room", 2),
                at(100),
                &audited(Action::RoomCreated),
            )
            .await?;
        store
            .create_room(
                RoomId(Uuid::from_u128(13)),
                beech,
                &room("Ash Room", 200),
                at(100),
                &audited(Action::RoomCreated),
            )
            .await?;
        let twin = store
            .create_room(
                RoomId(Uuid::from_u128(14)),
                oak,
                &room("Willow Room", 3),
                at(100),
                &audited(Action::RoomCreated),
            )
            .await;
        assert_eq!(
            twin.err(),
            Some(StoreError::Conflict("rooms_site_name_key".into())),
            "{backend:?}"
        );
        let nowhere = store
            .create_room(
                RoomId(Uuid::from_u128(15)),
                SiteId(Uuid::from_u128(9)),
                &room("Attic", 3),
                at(100),
                &audited(Action::RoomCreated),
            )
            .await;
        assert_eq!(nowhere.err(), Some(StoreError::NotFound));

        let all: Vec<(SiteId, String)> = store
            .rooms(None)
            .await?
            .into_iter()
            .map(|r| (r.site_id, r.details.name))
            .collect();
        assert_eq!(
            all,
            [
                (beech, "Ash Room".to_owned()),
                (oak, "Ash Room".to_owned()),
                (oak, "Willow Room".to_owned())
            ],
            "{backend:?}"
        );
        let oaks: Vec<String> = store
            .rooms(Some(oak))
            .await?
            .into_iter()
            .map(|r| r.details.name)
            .collect();
        assert_eq!(oaks, ["Ash Room", "Willow Room"]);

        let bigger = store
            .update_room(
                willow,
                &room("Willow Room", 6),
                false,
                Version::FIRST,
                at(200),
                &audited(Action::RoomUpdated),
            )
            .await?;
        assert_eq!(
            (bigger.details.capacity, bigger.active, bigger.version),
            (6, false, version(2))
        );
        let stale = store
            .update_room(
                willow,
                &room("Willow Room", 8),
                true,
                Version::FIRST,
                at(300),
                &audited(Action::RoomUpdated),
            )
            .await;
        assert_eq!(
            stale.err(),
            Some(StoreError::Stale {
                current: version(2)
            }),
            "{backend:?}"
        );
        let clash = store
            .update_room(
                willow,
                &room("Ash Room", 8),
                true,
                version(2),
                at(300),
                &audited(Action::RoomUpdated),
            )
            .await;
        assert_eq!(
            clash.err(),
            Some(StoreError::Conflict("rooms_site_name_key".into())),
            "{backend:?}"
        );
        assert_eq!(store.room(willow).await?, Some(bigger));
        assert_eq!(store.room(RoomId(Uuid::from_u128(99))).await?, None);
        opened.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn children_are_found_by_their_lookups_and_an_identifier_is_recorded_once()
-> anyhow::Result<()> {
    for backend in backends() {
        let (_db, opened) = with_service(backend).await?;
        let store = opened.store();
        let lookups = ChildLookups {
            nhs_number: Some("nhs-hash-1".into()),
            upn: Some("upn-hash-1".into()),
        };
        let first = new_child(store.as_ref(), 1, &lookups).await?;
        assert_eq!(first.version, Version::FIRST);
        assert_eq!(first.sealed_details, sealed(&[1, 1, 2, 3]));
        assert_eq!(
            store.child(first.id).await?,
            Some(first.clone()),
            "{backend:?}"
        );
        assert_eq!(store.child_by_lookup("nhs-hash-1").await?, Some(first.id));
        assert_eq!(store.child_by_lookup("upn-hash-1").await?, Some(first.id));
        assert_eq!(store.child_by_lookup("unknown").await?, None);

        let same_nhs = new_child(
            store.as_ref(),
            2,
            &ChildLookups {
                nhs_number: Some("nhs-hash-1".into()),
                upn: None,
            },
        )
        .await;
        assert_eq!(
            same_nhs.err(),
            Some(StoreError::Conflict("children_nhs_lookup_key".into())),
            "{backend:?}"
        );
        let same_upn = new_child(
            store.as_ref(),
            2,
            &ChildLookups {
                nhs_number: None,
                upn: Some("upn-hash-1".into()),
            },
        )
        .await;
        assert_eq!(
            same_upn.err(),
            Some(StoreError::Conflict("children_upn_lookup_key".into())),
            "{backend:?}"
        );
        assert_eq!(store.child(ChildId(Uuid::from_u128(2))).await?, None);
        // Children without identifiers are not duplicates of each other.
        let second = new_child(store.as_ref(), 2, &ChildLookups::default()).await?;
        new_child(store.as_ref(), 3, &ChildLookups::default()).await?;
        let again = new_child(store.as_ref(), 3, &ChildLookups::default()).await;
        assert_eq!(
            again.err(),
            Some(StoreError::Conflict("children_pkey".into())),
            "{backend:?}"
        );

        let updated = store
            .update_child(
                first.id,
                &sealed(b"new details"),
                &ChildLookups {
                    nhs_number: None,
                    upn: Some("upn-hash-1".into()),
                },
                Version::FIRST,
                at(1_800_000_500),
                &audited(Action::ChildUpdated),
            )
            .await?;
        assert_eq!(updated.version, version(2));
        assert_eq!(updated.sealed_details, sealed(b"new details"));
        assert_eq!(
            (updated.created_at, updated.updated_at),
            (at(1_800_000_000), at(1_800_000_500))
        );
        assert_eq!(
            store.child_by_lookup("nhs-hash-1").await?,
            None,
            "{backend:?}"
        );
        assert_eq!(store.child_by_lookup("upn-hash-1").await?, Some(first.id));
        let taken = store
            .update_child(
                second.id,
                &sealed(b"x"),
                &ChildLookups {
                    nhs_number: None,
                    upn: Some("upn-hash-1".into()),
                },
                Version::FIRST,
                at(1_800_000_500),
                &audited(Action::ChildUpdated),
            )
            .await;
        assert_eq!(
            taken.err(),
            Some(StoreError::Conflict("children_upn_lookup_key".into())),
            "{backend:?}"
        );
        let stale = store
            .update_child(
                first.id,
                &sealed(b"lost"),
                &lookups,
                Version::FIRST,
                at(1_800_000_600),
                &audited(Action::ChildUpdated),
            )
            .await;
        assert_eq!(
            stale.err(),
            Some(StoreError::Stale {
                current: version(2)
            })
        );
        let missing = store
            .update_child(
                ChildId(Uuid::from_u128(9)),
                &sealed(b"x"),
                &lookups,
                Version::FIRST,
                at(1_800_000_600),
                &audited(Action::ChildUpdated),
            )
            .await;
        assert_eq!(missing.err(), Some(StoreError::NotFound));

        let mut all: Vec<(ChildId, usize)> = store
            .children(&ChildSelection::All)
            .await?
            .into_iter()
            .map(|l| (l.child.id, l.cases.len()))
            .collect();
        all.sort();
        assert_eq!(
            all,
            [
                (first.id, 0),
                (second.id, 0),
                (ChildId(Uuid::from_u128(3)), 0)
            ],
            "{backend:?}"
        );
        opened.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn carers_are_listed_active_first_then_oldest_first() -> anyhow::Result<()> {
    for backend in backends() {
        let (_db, opened) = with_service(backend).await?;
        let store = opened.store();
        let child = new_child(store.as_ref(), 1, &ChildLookups::default())
            .await?
            .id;
        let carer = |n: u128, active: bool, created: i64| StoredCarer {
            id: CarerId(Uuid::from_u128(n)),
            child_id: child,
            sealed_details: sealed(&[n as u8]),
            active,
            version: Version::FIRST,
            created_at: at(created),
            updated_at: at(created),
        };
        // Created out of order: 20 and 21 at the same instant, 22 later, 23 earliest but inactive.
        for c in [
            carer(22, true, 300),
            carer(21, true, 200),
            carer(23, false, 100),
            carer(20, true, 200),
        ] {
            let stored = store.create_carer(&c, &audited(Action::CarerAdded)).await?;
            assert_eq!(stored, c, "{backend:?}");
        }
        let order = |carers: Vec<StoredCarer>| -> Vec<u128> {
            carers.into_iter().map(|c| c.id.0.as_u128()).collect()
        };
        assert_eq!(
            order(store.carers(child).await?),
            [20, 21, 22, 23],
            "{backend:?}"
        );

        let inactive = store
            .update_carer(
                CarerId(Uuid::from_u128(22)),
                &sealed(b"moved"),
                false,
                Version::FIRST,
                at(400),
                &audited(Action::CarerUpdated),
            )
            .await?;
        assert_eq!(
            (inactive.active, inactive.version, inactive.updated_at),
            (false, version(2), at(400))
        );
        assert_eq!(inactive.sealed_details, sealed(b"moved"));
        assert_eq!(
            order(store.carers(child).await?),
            [20, 21, 23, 22],
            "{backend:?}"
        );
        assert_eq!(
            store.carer(CarerId(Uuid::from_u128(22))).await?,
            Some(inactive)
        );

        let stale = store
            .update_carer(
                CarerId(Uuid::from_u128(22)),
                &sealed(b"x"),
                true,
                Version::FIRST,
                at(500),
                &audited(Action::CarerUpdated),
            )
            .await;
        assert_eq!(
            stale.err(),
            Some(StoreError::Stale {
                current: version(2)
            })
        );
        let orphan = store
            .create_carer(
                &StoredCarer {
                    child_id: ChildId(Uuid::from_u128(9)),
                    ..carer(30, true, 100)
                },
                &audited(Action::CarerAdded),
            )
            .await;
        assert_eq!(orphan.err(), Some(StoreError::NotFound), "{backend:?}");
        assert!(store.carers(ChildId(Uuid::from_u128(9))).await?.is_empty());
        opened.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn case_numbers_rise_and_a_child_has_one_open_case_at_a_time() -> anyhow::Result<()> {
    for backend in backends() {
        let (db, opened) = with_service(backend).await?;
        let store = opened.store();
        let lead = therapist(store.as_ref(), 500).await?;
        let x = new_child(store.as_ref(), 1, &ChildLookups::default())
            .await?
            .id;
        let y = new_child(store.as_ref(), 2, &ChildLookups::default())
            .await?
            .id;

        let first = open(store.as_ref(), 100, x, Some((lead, date(2026, 9, 2)))).await?;
        assert_eq!(first.case.number, 1, "{backend:?}");
        assert_eq!(first.case.version, Version::FIRST);
        assert_eq!(first.case.child_id, x);
        assert_eq!(first.case.details, referral(date(2026, 9, 1)));
        assert_eq!(first.case.closure, None);
        assert_eq!(first.sealed_reason, Some(sealed(b"sealed reason")));
        assert_eq!(first.sealed_summary, None);
        assert_eq!(
            first.case.team,
            [member(
                101,
                first.case.id,
                lead,
                TeamRole::Lead,
                date(2026, 9, 2),
                None
            )]
        );
        assert_eq!(
            store.case(first.case.id).await?,
            Some(first.clone()),
            "{backend:?}"
        );

        let second_open = open(store.as_ref(), 200, x, None).await;
        assert_eq!(
            second_open.err(),
            Some(StoreError::Conflict("cases_one_open".into())),
            "{backend:?}"
        );
        assert_eq!(store.case(CaseId(Uuid::from_u128(200))).await?, None);
        // The refused case spent no number.
        let other = open(store.as_ref(), 300, y, None).await?;
        assert_eq!(other.case.number, 2, "{backend:?}");
        assert!(other.case.team.is_empty());
        let nobody = open(store.as_ref(), 400, ChildId(Uuid::from_u128(9)), None).await;
        assert_eq!(nobody.err(), Some(StoreError::NotFound));

        // The database itself refuses a second open case, whatever writes it.
        let bypass = crate::execute_as_owner(
            &db,
            &format!(
                "INSERT INTO cases (id, child_id, number, referral_source, referral_received, \
                 version, created_at, updated_at) VALUES ('bypass', '{y}', 99, 'gp', '2026-09-01', 1, 0, 0)"
            ),
        )
        .await;
        assert!(
            bypass.is_err(),
            "{backend:?}: a second open case was stored"
        );

        // Updating: the referral reason is kept, cleared or replaced as asked.
        let seen = CaseDetails {
            first_seen: Some(date(2026, 9, 20)),
            referral_source: ReferralSource::Gp,
            ..referral(date(2026, 9, 1))
        };
        let kept = store
            .update_case(
                first.case.id,
                &seen,
                &ReasonUpdate::Keep,
                Version::FIRST,
                at(1_800_000_150),
                &audited(Action::CaseUpdated),
            )
            .await?;
        assert_eq!(
            (kept.case.version, kept.case.details.clone()),
            (version(2), seen.clone())
        );
        assert_eq!(
            kept.sealed_reason,
            Some(sealed(b"sealed reason")),
            "{backend:?}"
        );
        assert_eq!(kept.case.team, first.case.team);
        let cleared = store
            .update_case(
                first.case.id,
                &seen,
                &ReasonUpdate::Set(None),
                version(2),
                at(1_800_000_160),
                &audited(Action::CaseUpdated),
            )
            .await?;
        assert_eq!(cleared.sealed_reason, None, "{backend:?}");
        let replaced = store
            .update_case(
                first.case.id,
                &seen,
                &ReasonUpdate::Set(Some(sealed(b"new reason"))),
                version(3),
                at(1_800_000_170),
                &audited(Action::CaseUpdated),
            )
            .await?;
        assert_eq!(replaced.sealed_reason, Some(sealed(b"new reason")));
        assert_eq!(replaced.case.version, version(4));
        assert_eq!(replaced.case.updated_at, at(1_800_000_170));
        let stale = store
            .update_case(
                first.case.id,
                &seen,
                &ReasonUpdate::Keep,
                version(2),
                at(1_800_000_180),
                &audited(Action::CaseUpdated),
            )
            .await;
        assert_eq!(
            stale.err(),
            Some(StoreError::Stale {
                current: version(4)
            })
        );

        // Closing, then a re-referral opens a new case with the next number.
        let stale_close = close(store.as_ref(), &first, date(2026, 11, 1)).await;
        assert_eq!(
            stale_close.err(),
            Some(StoreError::Stale {
                current: version(4)
            })
        );
        let closed = close(store.as_ref(), &replaced, date(2026, 11, 1)).await?;
        assert_eq!(
            closed.case.closure,
            Some(Closure {
                closed_on: date(2026, 11, 1),
                reason: ClosureReason::PlannedEnding
            }),
            "{backend:?}"
        );
        assert_eq!(closed.sealed_summary, Some(sealed(b"sealed summary")));
        assert_eq!(closed.sealed_reason, Some(sealed(b"new reason")));
        assert_eq!(closed.case.version, version(5));
        let reopened = open(store.as_ref(), 500, x, None).await?;
        assert_eq!(reopened.case.number, 3, "{backend:?}");
        let numbers: Vec<i64> = store
            .cases_of(x)
            .await?
            .into_iter()
            .map(|c| c.case.number)
            .collect();
        assert_eq!(numbers, [3, 1], "{backend:?}");
        assert_eq!(store.cases_of(x).await?.get(1), Some(&closed));
        opened.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn a_case_team_changes_by_adding_ending_and_transferring() -> anyhow::Result<()> {
    for backend in backends() {
        let (_db, opened) = with_service(backend).await?;
        let store = opened.store();
        let first_lead = therapist(store.as_ref(), 501).await?;
        let co_worker = therapist(store.as_ref(), 502).await?;
        let new_lead = therapist(store.as_ref(), 503).await?;
        let child = new_child(store.as_ref(), 1, &ChildLookups::default())
            .await?
            .id;
        let other_child = new_child(store.as_ref(), 2, &ChildLookups::default())
            .await?
            .id;
        let case = open(
            store.as_ref(),
            100,
            child,
            Some((first_lead, date(2026, 9, 1))),
        )
        .await?;
        let other = open(
            store.as_ref(),
            200,
            other_child,
            Some((first_lead, date(2026, 9, 1))),
        )
        .await?;
        let id = case.case.id;

        let added = store
            .change_team(
                id,
                &TeamChange::Add(member(
                    110,
                    id,
                    co_worker,
                    TeamRole::CoWorker,
                    date(2026, 9, 10),
                    None,
                )),
                Version::FIRST,
                at(1_800_000_300),
                &audited(Action::CaseTeamChanged),
            )
            .await?;
        assert_eq!(added.case.version, version(2), "{backend:?}");
        assert_eq!(added.case.updated_at, at(1_800_000_300));
        assert_eq!(added.case.team.len(), 2);

        let ended = store
            .change_team(
                id,
                &TeamChange::End {
                    membership: MembershipId(Uuid::from_u128(110)),
                    ends_on: date(2026, 10, 1),
                },
                version(2),
                at(1_800_000_400),
                &audited(Action::CaseTeamChanged),
            )
            .await?;
        assert_eq!(ended.case.version, version(3));
        assert_eq!(
            ended.case.team.get(1).map(|m| (m.user_id, m.ends_on)),
            Some((co_worker, Some(date(2026, 10, 1)))),
            "{backend:?}"
        );

        // Another case's membership is not this case's to end, and nothing changes.
        let elsewhere = store
            .change_team(
                id,
                &TeamChange::End {
                    membership: other.case.team[0].id,
                    ends_on: date(2026, 10, 1),
                },
                version(3),
                at(1_800_000_450),
                &audited(Action::CaseTeamChanged),
            )
            .await;
        assert_eq!(elsewhere.err(), Some(StoreError::NotFound), "{backend:?}");
        assert_eq!(
            store.case(id).await?.map(|c| c.case.version),
            Some(version(3))
        );
        assert_eq!(store.case(other.case.id).await?, Some(other.clone()));

        let transferred = store
            .change_team(
                id,
                &TeamChange::Transfer {
                    from: MembershipId(Uuid::from_u128(101)),
                    to: member(120, id, new_lead, TeamRole::Lead, date(2026, 11, 1), None),
                },
                version(3),
                at(1_800_000_500),
                &audited(Action::CaseTransferred),
            )
            .await?;
        assert_eq!(transferred.case.version, version(4));
        assert_eq!(
            transferred.case.team,
            [
                member(
                    101,
                    id,
                    first_lead,
                    TeamRole::Lead,
                    date(2026, 9, 1),
                    Some(date(2026, 11, 1))
                ),
                member(
                    110,
                    id,
                    co_worker,
                    TeamRole::CoWorker,
                    date(2026, 9, 10),
                    Some(date(2026, 10, 1))
                ),
                member(120, id, new_lead, TeamRole::Lead, date(2026, 11, 1), None),
            ],
            "{backend:?}"
        );
        assert_eq!(
            transferred
                .case
                .current_lead(date(2026, 11, 15))
                .map(|m| m.user_id),
            Some(new_lead)
        );
        assert_eq!(
            transferred
                .case
                .current_lead(date(2026, 10, 15))
                .map(|m| m.user_id),
            Some(first_lead)
        );
        assert_eq!(store.case(id).await?, Some(transferred.clone()));

        let stale = store
            .change_team(
                id,
                &TeamChange::Add(member(
                    130,
                    id,
                    co_worker,
                    TeamRole::CoWorker,
                    date(2026, 11, 2),
                    None,
                )),
                version(3),
                at(1_800_000_600),
                &audited(Action::CaseTeamChanged),
            )
            .await;
        assert_eq!(
            stale.err(),
            Some(StoreError::Stale {
                current: version(4)
            }),
            "{backend:?}"
        );
        let missing = store
            .change_team(
                CaseId(Uuid::from_u128(999)),
                &TeamChange::Add(member(
                    140,
                    id,
                    co_worker,
                    TeamRole::CoWorker,
                    date(2026, 11, 2),
                    None,
                )),
                Version::FIRST,
                at(1_800_000_600),
                &audited(Action::CaseTeamChanged),
            )
            .await;
        assert_eq!(missing.err(), Some(StoreError::NotFound));
        assert_eq!(store.case(id).await?.map(|c| c.case.team.len()), Some(3));
        opened.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn teams_of_selects_children_whose_newest_case_has_a_current_member() -> anyhow::Result<()> {
    for backend in backends() {
        let (_db, opened) = with_service(backend).await?;
        let store = opened.store();
        let today = date(2026, 11, 15);
        let current = therapist(store.as_ref(), 501).await?;
        let ended = therapist(store.as_ref(), 502).await?;
        let future_cover = therapist(store.as_ref(), 503).await?;
        let old_lead = therapist(store.as_ref(), 504).await?;
        let new_lead = therapist(store.as_ref(), 505).await?;

        // A: a current lead.
        let a = new_child(store.as_ref(), 1, &ChildLookups::default())
            .await?
            .id;
        open(store.as_ref(), 100, a, Some((current, date(2026, 9, 1)))).await?;
        // B: a co-worker who left the team before today.
        let b = new_child(store.as_ref(), 2, &ChildLookups::default())
            .await?
            .id;
        let case_b = open(store.as_ref(), 200, b, None).await?;
        store
            .change_team(
                case_b.case.id,
                &TeamChange::Add(member(
                    210,
                    case_b.case.id,
                    ended,
                    TeamRole::CoWorker,
                    date(2026, 9, 1),
                    Some(date(2026, 10, 1)),
                )),
                Version::FIRST,
                at(1_800_000_300),
                &audited(Action::CaseTeamChanged),
            )
            .await?;
        // C: cover that starts after today.
        let c = new_child(store.as_ref(), 3, &ChildLookups::default())
            .await?
            .id;
        let case_c = open(store.as_ref(), 300, c, None).await?;
        store
            .change_team(
                case_c.case.id,
                &TeamChange::Add(member(
                    310,
                    case_c.case.id,
                    future_cover,
                    TeamRole::Cover,
                    date(2026, 12, 1),
                    Some(date(2027, 1, 1)),
                )),
                Version::FIRST,
                at(1_800_000_300),
                &audited(Action::CaseTeamChanged),
            )
            .await?;
        // D: an older case (closed) led by one therapist, the newest by another.
        let d = new_child(store.as_ref(), 4, &ChildLookups::default())
            .await?
            .id;
        let old = open(store.as_ref(), 400, d, Some((old_lead, date(2026, 9, 1)))).await?;
        close(store.as_ref(), &old, date(2026, 10, 1)).await?;
        let newest = open(store.as_ref(), 410, d, Some((new_lead, date(2026, 10, 2)))).await?;
        // E: no case at all.
        let e = new_child(store.as_ref(), 5, &ChildLookups::default())
            .await?
            .id;

        let select = |members: Vec<UserId>| ChildSelection::TeamsOf { members, today };
        let ids = |listings: Vec<alliance_service::ChildListing>| -> Vec<ChildId> {
            let mut ids: Vec<ChildId> = listings.into_iter().map(|l| l.child.id).collect();
            ids.sort();
            ids
        };
        let mine = store
            .children(&select(vec![current, ended, future_cover, old_lead]))
            .await?;
        assert_eq!(ids(mine), [a], "{backend:?}");
        let d_only = store.children(&select(vec![new_lead])).await?;
        assert_eq!(d_only.len(), 1, "{backend:?}");
        let listing = &d_only[0];
        assert_eq!(listing.child.id, d);
        let numbers: Vec<i64> = listing.cases.iter().map(|c| c.number).collect();
        assert_eq!(
            numbers,
            [newest.case.number, old.case.number],
            "newest first"
        );
        assert_eq!(listing.cases[0].team, newest.case.team);
        assert_eq!(listing.cases[1].team, old.case.team);
        assert!(listing.cases[1].closure.is_some());
        assert!(store.children(&select(vec![])).await?.is_empty());
        assert!(
            store
                .children(&select(vec![UserId(Uuid::from_u128(9))]))
                .await?
                .is_empty()
        );
        // On the day the cover starts, C is theirs.
        let on_cover_day = ChildSelection::TeamsOf {
            members: vec![future_cover],
            today: date(2026, 12, 1),
        };
        assert_eq!(
            ids(store.children(&on_cover_day).await?),
            [c],
            "{backend:?}"
        );

        let all = store.children(&ChildSelection::All).await?;
        assert_eq!(ids(all.clone()), [a, b, c, d, e], "{backend:?}");
        let of_d: Vec<i64> = all
            .iter()
            .find(|l| l.child.id == d)
            .map(|l| l.cases.iter().map(|c| c.number).collect())
            .unwrap_or_default();
        assert_eq!(of_d, [newest.case.number, old.case.number]);
        assert!(all.iter().any(|l| l.child.id == e && l.cases.is_empty()));

        // Supervision links come with their named-access flag.
        store
            .set_supervisees(
                old_lead,
                &[(new_lead, false), (current, true)],
                at(1_800_000_700),
                &audited(Action::UserUpdated),
            )
            .await?;
        assert_eq!(
            store.supervision_links(old_lead).await?,
            [(current, true), (new_lead, false)],
            "{backend:?}"
        );
        assert!(store.supervision_links(current).await?.is_empty());
        opened.close().await;
    }
    Ok(())
}

async fn key_store(db: &TestDatabase) -> anyhow::Result<Arc<dyn KeyStore>> {
    Ok(match db.backend {
        Backend::Sqlite => {
            let url = format!(
                "sqlite://{}",
                db.data_path().join("keystore.sqlite3").display()
            );
            let store = SqliteStore::open_key_store(&url, OpenMode::CreateIfMissing).await?;
            store.migrate().await?;
            store.key_store()
        }
        Backend::Postgres => {
            let url = db.owner_key_store_url.clone().unwrap_or_default();
            let store = PostgresStore::open_key_store(&url).await?;
            store.migrate().await?;
            store.key_store()
        }
    })
}

#[tokio::test]
async fn wrapped_keys_are_read_in_batches_and_missing_ones_left_out() -> anyhow::Result<()> {
    let owner = |child: usize, class: RecordClass| KeyOwner::Child {
        child: format!("child-{child:03}"),
        class,
    };
    let key = |owner: KeyOwner, byte: u8| WrappedKey {
        owner,
        key_version: 1,
        master_version: 1,
        wrapped: vec![byte; 8],
        destroyed: false,
    };
    for backend in backends() {
        let db = TestDatabase::new(backend).await?;
        let store = key_store(&db).await?;
        assert!(store.wrapped_keys(&[]).await?.is_empty());
        // 250 children with an identity key, so a batch spans more than one statement.
        for n in 0..250 {
            store
                .insert_key(&key(owner(n, RecordClass::Identity), 1), at(100))
                .await?;
        }
        store
            .insert_key(&key(owner(0, RecordClass::Clinical), 2), at(100))
            .await?;
        let totp = KeyOwner::Service {
            purpose: "totp".to_owned(),
        };
        store.insert_key(&key(totp.clone(), 3), at(100)).await?;
        store
            .destroy_key(&owner(1, RecordClass::Clinical), at(200))
            .await?;

        let few = store
            .wrapped_keys(&[
                owner(0, RecordClass::Clinical),
                owner(0, RecordClass::Safeguarding),
                owner(7, RecordClass::Clinical),
                owner(1, RecordClass::Clinical),
                totp.clone(),
                owner(0, RecordClass::Clinical),
            ])
            .await?;
        let mut found: Vec<(KeyOwner, Vec<u8>, bool)> = few
            .into_iter()
            .map(|k| (k.owner, k.wrapped, k.destroyed))
            .collect();
        found.sort_by_key(|(o, _, _)| o.columns());
        assert_eq!(
            found,
            [
                (owner(0, RecordClass::Clinical), vec![2; 8], false),
                // A destroyed key is reported as such (the key ring leaves it out).
                (owner(1, RecordClass::Clinical), vec![], true),
                (totp, vec![3; 8], false),
            ],
            "{backend:?}"
        );

        // 450 owners asked for: the 250 with keys come back, once each.
        let asked: Vec<KeyOwner> = (0..450).map(|n| owner(n, RecordClass::Identity)).collect();
        let mut many: Vec<String> = store
            .wrapped_keys(&asked)
            .await?
            .into_iter()
            .map(|k| k.owner.columns().0)
            .collect();
        many.sort();
        let expected: Vec<String> = (0..250).map(|n| format!("child-{n:03}")).collect();
        assert_eq!(many, expected, "{backend:?}");
    }
    Ok(())
}

#[tokio::test]
async fn cases_opened_at_once_get_distinct_numbers_and_one_open_case_per_child()
-> anyhow::Result<()> {
    for backend in backends() {
        let (_db, opened) = with_service(backend).await?;
        let store = opened.store();
        for n in 1..=4 {
            new_child(store.as_ref(), n, &ChildLookups::default()).await?;
        }
        // Four children, and child 1 twice, all at once.
        let attempts = [(10, 1), (20, 1), (30, 2), (40, 3), (50, 4)].map(|(case, child)| {
            let store = store.clone();
            tokio::spawn(async move {
                open(store.as_ref(), case, ChildId(Uuid::from_u128(child)), None).await
            })
        });
        let mut numbers = Vec::new();
        let mut refused = Vec::new();
        for attempt in attempts {
            match attempt.await? {
                Ok(case) => numbers.push(case.case.number),
                Err(e) => refused.push(e),
            }
        }
        numbers.sort_unstable();
        assert_eq!(numbers, [1, 2, 3, 4], "{backend:?}");
        assert_eq!(
            refused,
            [StoreError::Conflict("cases_one_open".into())],
            "{backend:?}"
        );
        assert_eq!(store.cases_of(ChildId(Uuid::from_u128(1))).await?.len(), 1);
        opened.close().await;
    }
    Ok(())
}

// ---- Tasks, notices, the firings that raise them, and nudges ----

/// A firing of the first-session rule for the service lead, about case C00001 of child 77.
fn firing(n: u128, fire_at: Timestamp, dedupe_key: &str) -> NewFiring {
    NewFiring {
        id: FiringId(Uuid::from_u128(n)),
        rule: Rule::ArrangeFirstSession,
        fire_at,
        recipient: Recipient::Role(Role::ServiceLead),
        subject: Some(Subject {
            child: Some(ChildId(Uuid::from_u128(77))),
            record_type: "case".to_owned(),
            record_id: "case-1".to_owned(),
        }),
        reference: "C00001".to_owned(),
        dedupe_key: dedupe_key.to_owned(),
    }
}

/// An audit batch whose change schedules `follow_ups`.
fn scheduling(action: Action, follow_ups: Vec<NewFiring>) -> AuditBatch<'static> {
    AuditBatch {
        follow_ups,
        ..audited(action)
    }
}

/// Schedules `firings` with an audit entry of their own.
async fn schedule(store: &dyn Store, firings: Vec<NewFiring>) -> Result<(), StoreError> {
    store
        .append_audit(&scheduling(Action::TaskRaised, firings))
        .await
        .map(|_| ())
}

fn new_task(n: u128, rule: Rule, owner: UserId, due_at: Option<Timestamp>) -> NewTask {
    NewTask {
        id: TaskId(Uuid::from_u128(n)),
        rule,
        owner,
        title: rule.title("C00001"),
        subject: None,
        due_at,
    }
}

fn task_id(n: u128) -> TaskId {
    TaskId(Uuid::from_u128(n))
}

/// Schedules firing `n` at `now` and fires it at once, raising `tasks` and queueing `nudges`.
async fn raise(
    store: &dyn Store,
    n: u128,
    tasks: &[NewTask],
    nudges: &[UserId],
    now: Timestamp,
) -> anyhow::Result<()> {
    schedule(store, vec![firing(n, now, &format!("raise-{n}"))]).await?;
    let fired = store
        .fire(
            FiringId(Uuid::from_u128(n)),
            tasks,
            nudges,
            now,
            &audited(Action::TaskRaised),
        )
        .await?;
    anyhow::ensure!(fired, "firing {n} had fired already");
    Ok(())
}

async fn task_of(store: &dyn Store, n: u128) -> anyhow::Result<alliance_core::tasks::Task> {
    store
        .task(task_id(n))
        .await?
        .ok_or_else(|| anyhow::anyhow!("task {n} is missing"))
}

fn firing_ids(firings: &[NewFiring]) -> Vec<u128> {
    firings.iter().map(|f| f.id.0.as_u128()).collect()
}

/// Nudges for `user`, pending (not sent) or all.
async fn nudges_of(db: &TestDatabase, user: UserId, pending: bool) -> anyhow::Result<i64> {
    let sent = if pending { " AND sent_at IS NULL" } else { "" };
    crate::count_as_owner(
        db,
        &format!("SELECT COUNT(*) FROM nudges WHERE user_id = '{user}'{sent}"),
    )
    .await
}

#[tokio::test]
async fn follow_ups_land_with_their_change_and_a_repeated_dedupe_key_does_not_fail_it()
-> anyhow::Result<()> {
    for backend in backends() {
        let (db, opened) = with_service(backend).await?;
        let store = opened.store();
        let lead = therapist(store.as_ref(), 401).await?;
        let oak = SiteId(Uuid::from_u128(1));
        store
            .create_site(
                oak,
                &site("Oakfield Primary", SiteKind::School),
                at(100),
                &scheduling(
                    Action::SiteCreated,
                    vec![firing(1, at(100), "case-1:first-session")],
                ),
            )
            .await?;
        // The same key again, from another change: the change goes ahead, the firing is
        // stored once, and the change's other follow-up is stored beside it.
        let joined = NewFiring {
            rule: Rule::JoinedCaseTeam,
            recipient: Recipient::User(lead),
            subject: None,
            ..firing(3, at(300), "case-1:joined:401")
        };
        let updated = store
            .update_site(
                oak,
                &site("Oakfield Primary School", SiteKind::School),
                true,
                Version::FIRST,
                at(200),
                &scheduling(
                    Action::SiteUpdated,
                    vec![firing(2, at(200), "case-1:first-session"), joined.clone()],
                ),
            )
            .await?;
        assert_eq!(updated.version, version(2), "{backend:?}");
        // A change that is refused schedules nothing.
        let stale = store
            .update_site(
                oak,
                &site("Lost", SiteKind::School),
                true,
                Version::FIRST,
                at(250),
                &scheduling(Action::SiteUpdated, vec![firing(4, at(250), "lost")]),
            )
            .await;
        assert_eq!(
            stale.err(),
            Some(StoreError::Stale {
                current: version(2)
            }),
            "{backend:?}"
        );
        assert_eq!(
            crate::count_as_owner(&db, "SELECT COUNT(*) FROM firings").await?,
            2,
            "{backend:?}"
        );
        // What was stored reads back whole, due first.
        let claimed = store.claim_firings("w1", at(1000), at(1060), 10).await?;
        assert_eq!(
            claimed,
            [firing(1, at(100), "case-1:first-session"), joined],
            "{backend:?}"
        );
        opened.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn a_claimed_firing_raises_its_tasks_once() -> anyhow::Result<()> {
    for backend in backends() {
        let (db, opened) = with_service(backend).await?;
        let store = opened.store();
        let owner = therapist(store.as_ref(), 501).await?;
        let other = therapist(store.as_ref(), 502).await?;
        schedule(
            store.as_ref(),
            vec![firing(1, at(1000), "now"), firing(2, at(5000), "later")],
        )
        .await?;
        // Nothing is due before its time.
        assert!(
            store
                .claim_firings("w1", at(999), at(1099), 10)
                .await?
                .is_empty()
        );
        let claimed = store.claim_firings("w1", at(1000), at(1100), 10).await?;
        assert_eq!(firing_ids(&claimed), [1], "{backend:?}");
        // Held by w1: nobody else gets it.
        assert!(
            store
                .claim_firings("w2", at(1050), at(1150), 10)
                .await?
                .is_empty()
        );

        let head = store.audit_head().await?;
        let fired = store
            .fire(
                FiringId(Uuid::from_u128(1)),
                &[
                    new_task(11, Rule::ArrangeFirstSession, owner, Some(at(2000))),
                    new_task(12, Rule::JoinedCaseTeam, owner, None),
                ],
                &[owner],
                at(1010),
                &audited(Action::TaskRaised),
            )
            .await?;
        assert!(fired, "{backend:?}");
        assert_eq!(store.audit_head().await?.seq, head.seq + 1);
        let task = task_of(store.as_ref(), 11).await?;
        assert_eq!(
            (
                task.kind,
                task.rule,
                task.owner,
                task.title.as_str(),
                task.subject.clone(),
                task.due_at,
                task.escalation_level,
                task.done_at,
                task.done_by,
                task.version,
                task.created_at,
                task.updated_at,
            ),
            (
                TaskKind::Task,
                Rule::ArrangeFirstSession,
                owner,
                "Arrange the first session for case C00001",
                None,
                Some(at(2000)),
                0,
                None,
                None,
                Version::FIRST,
                at(1010),
                at(1010),
            ),
            "{backend:?}"
        );
        assert_eq!(task_of(store.as_ref(), 12).await?.kind, TaskKind::Notice);
        assert_eq!(nudges_of(&db, owner, true).await?, 1);

        // Fired once: a second attempt writes nothing, not even an audit entry.
        let head = store.audit_head().await?;
        let again = store
            .fire(
                FiringId(Uuid::from_u128(1)),
                &[new_task(13, Rule::ArrangeFirstSession, other, None)],
                &[other],
                at(1020),
                &audited(Action::TaskRaised),
            )
            .await?;
        assert!(!again, "{backend:?}");
        assert_eq!(store.task(task_id(13)).await?, None);
        assert_eq!(nudges_of(&db, other, false).await?, 0);
        assert_eq!(store.audit_head().await?, head, "{backend:?}");
        // A fired firing is never claimed again, lease or no lease; an unknown one never fires.
        assert!(
            store
                .claim_firings("w3", at(4000), at(4100), 10)
                .await?
                .is_empty()
        );
        assert!(
            !store
                .fire(
                    FiringId(Uuid::from_u128(99)),
                    &[],
                    &[],
                    at(1030),
                    &audited(Action::TaskRaised)
                )
                .await?
        );
        let later = store.claim_firings("w3", at(5000), at(5100), 10).await?;
        assert_eq!(firing_ids(&later), [2], "{backend:?}");
        opened.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn a_firing_whose_lease_ran_out_is_claimed_again() -> anyhow::Result<()> {
    for backend in backends() {
        let (_db, opened) = with_service(backend).await?;
        let store = opened.store();
        schedule(store.as_ref(), vec![firing(1, at(1000), "k")]).await?;
        let first = store.claim_firings("w1", at(1000), at(1100), 10).await?;
        assert_eq!(firing_ids(&first), [1], "{backend:?}");
        // Still held at the lease's last instant.
        assert!(
            store
                .claim_firings("w2", at(1100), at(1200), 10)
                .await?
                .is_empty(),
            "{backend:?}"
        );
        // w1 went away: once its lease has run out, another worker takes the firing over.
        let second = store.claim_firings("w2", at(1101), at(1201), 10).await?;
        assert_eq!(firing_ids(&second), [1], "{backend:?}");
        assert!(
            store
                .claim_firings("w3", at(1150), at(1250), 10)
                .await?
                .is_empty()
        );
        opened.close().await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn claimers_at_once_never_share_a_firing() -> anyhow::Result<()> {
    const FIRINGS: u128 = 150;
    for backend in backends() {
        let (_db, opened) = with_service(backend).await?;
        let store = opened.store();
        schedule(
            store.as_ref(),
            (1..=FIRINGS)
                .map(|n| firing(n, at(1000 + n as i64), &format!("k{n}")))
                .collect(),
        )
        .await?;
        // Eight workers claim a few at a time, all at once, until they find nothing.
        let workers: Vec<_> = (0..8)
            .map(|w| {
                let store = store.clone();
                tokio::spawn(async move {
                    let mut mine = Vec::new();
                    loop {
                        let got = store
                            .claim_firings(&format!("worker-{w}"), at(5000), at(5060), 4)
                            .await?;
                        if got.is_empty() {
                            return Ok::<_, StoreError>(mine);
                        }
                        mine.extend(firing_ids(&got));
                    }
                })
            })
            .collect();
        let mut all = Vec::new();
        for worker in workers {
            all.extend(worker.await??);
        }
        // A worker whose choice others had just taken may stop early; the rest is left for
        // the next round, never handed out twice.
        loop {
            let got = store
                .claim_firings("sweeper", at(5000), at(5060), 50)
                .await?;
            if got.is_empty() {
                break;
            }
            all.extend(firing_ids(&got));
        }
        let distinct: std::collections::BTreeSet<u128> = all.iter().copied().collect();
        assert_eq!(
            distinct.len(),
            all.len(),
            "{backend:?}: a firing was claimed twice"
        );
        assert_eq!(distinct, (1..=FIRINGS).collect(), "{backend:?}");
        opened.close().await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_overdue_task_escalates_one_step_at_a_time() -> anyhow::Result<()> {
    for backend in backends() {
        let (db, opened) = with_service(backend).await?;
        let store = opened.store();
        let owner = therapist(store.as_ref(), 601).await?;
        let lead = therapist(store.as_ref(), 602).await?;
        raise(
            store.as_ref(),
            1,
            &[
                new_task(11, Rule::ArrangeFirstSession, owner, Some(at(2000))),
                new_task(12, Rule::ArrangeFirstSession, owner, Some(at(9000))),
                new_task(13, Rule::JoinedCaseTeam, owner, None),
                new_task(14, Rule::ArrangeFirstSession, owner, Some(at(1500))),
            ],
            &[],
            at(1000),
        )
        .await?;
        let overdue = |tasks: Vec<alliance_core::tasks::Task>| -> Vec<u128> {
            tasks.into_iter().map(|t| t.id.0.as_u128()).collect()
        };
        assert_eq!(
            overdue(store.overdue_tasks(at(3000), 10).await?),
            [14, 11],
            "{backend:?}"
        );
        assert_eq!(overdue(store.overdue_tasks(at(3000), 1).await?), [14]);
        assert!(store.overdue_tasks(at(1500), 10).await?.is_empty());

        // Four processes take the first step at once: one does.
        let attempts: Vec<_> = (0..4u128)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    store
                        .escalate(
                            task_id(11),
                            0,
                            &[new_task(21 + i, Rule::Overdue, lead, None)],
                            &[lead],
                            at(3000),
                            &audited(Action::TaskEscalated),
                        )
                        .await
                })
            })
            .collect();
        let mut taken = 0;
        for attempt in attempts {
            if attempt.await?? {
                taken += 1;
            }
        }
        assert_eq!(taken, 1, "{backend:?}");
        let mut notices = 0;
        for n in 21..25 {
            if let Some(notice) = store.task(task_id(n)).await? {
                assert_eq!((notice.kind, notice.owner), (TaskKind::Notice, lead));
                notices += 1;
            }
        }
        assert_eq!(notices, 1, "{backend:?}");
        let task = task_of(store.as_ref(), 11).await?;
        // Escalation is not an edit: the owner's version still holds.
        assert_eq!(
            (task.escalation_level, task.version, task.updated_at),
            (1, Version::FIRST, at(3000)),
            "{backend:?}"
        );
        assert_eq!(nudges_of(&db, lead, true).await?, 1);

        // The same step again is refused; the next one is taken, without a second nudge while
        // the first waits.
        let repeat = store
            .escalate(
                task_id(11),
                0,
                &[new_task(25, Rule::Overdue, lead, None)],
                &[lead],
                at(3100),
                &audited(Action::TaskEscalated),
            )
            .await?;
        assert!(!repeat, "{backend:?}");
        assert_eq!(store.task(task_id(25)).await?, None);
        let next = store
            .escalate(
                task_id(11),
                1,
                &[new_task(26, Rule::Overdue, lead, None)],
                &[lead],
                at(4000),
                &audited(Action::TaskEscalated),
            )
            .await?;
        assert!(next, "{backend:?}");
        assert_eq!(task_of(store.as_ref(), 11).await?.escalation_level, 2);
        assert_eq!(nudges_of(&db, lead, false).await?, 1, "{backend:?}");

        // A task done is neither overdue nor escalated.
        store
            .complete_task(
                task_id(11),
                owner,
                Version::FIRST,
                at(4100),
                &audited(Action::TaskCompleted),
            )
            .await?;
        assert_eq!(overdue(store.overdue_tasks(at(5000), 10).await?), [14]);
        let done = store
            .escalate(
                task_id(11),
                2,
                &[],
                &[],
                at(5000),
                &audited(Action::TaskEscalated),
            )
            .await?;
        assert!(!done, "{backend:?}");
        opened.close().await;
    }
    Ok(())
}

/// Every page of `owner`'s list, `limit` at a time, as task numbers.
async fn every_page(
    store: &dyn Store,
    owner: UserId,
    filter: TaskFilter,
    limit: i64,
) -> anyhow::Result<Vec<u128>> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let request = PageRequest::parse(Some(limit), after.as_deref())
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let page: Page<alliance_core::tasks::Task> =
            store.tasks_for(owner, filter, &request).await?;
        anyhow::ensure!(page.items.len() <= limit as usize);
        all.extend(page.items.iter().map(|t| t.id.0.as_u128()));
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(all),
        }
    }
}

#[tokio::test]
async fn a_persons_tasks_are_listed_open_first_then_by_due_time_then_newest_and_paged()
-> anyhow::Result<()> {
    for backend in backends() {
        let (_db, opened) = with_service(backend).await?;
        let store = opened.store();
        let owner = therapist(store.as_ref(), 701).await?;
        let other = therapist(store.as_ref(), 702).await?;
        let task = |n, due: Option<i64>| new_task(n, Rule::ArrangeFirstSession, owner, due.map(at));
        let notice = |n| new_task(n, Rule::JoinedCaseTeam, owner, None);
        raise(
            store.as_ref(),
            1,
            &[
                task(31, Some(5000)),
                notice(32),
                task(33, Some(3000)),
                new_task(39, Rule::ArrangeFirstSession, other, Some(at(1))),
            ],
            &[],
            at(1000),
        )
        .await?;
        raise(
            store.as_ref(),
            2,
            &[
                notice(34),
                task(38, Some(3000)),
                task(35, Some(3000)),
                task(36, Some(1000)),
                new_task(37, Rule::JoinedCaseTeam, owner, None),
            ],
            &[],
            at(2000),
        )
        .await?;
        for n in [36, 37] {
            store
                .complete_task(
                    task_id(n),
                    owner,
                    Version::FIRST,
                    at(2500),
                    &audited(Action::TaskCompleted),
                )
                .await?;
        }
        // Open ones by due time (the same due time: newest first, then by id), the undated
        // after them (newest first); then what is done, in the same order.
        let expected = [35, 38, 33, 31, 34, 32, 36, 37];
        for limit in 1..=9 {
            assert_eq!(
                every_page(store.as_ref(), owner, TaskFilter::default(), limit).await?,
                expected,
                "{backend:?}, {limit} a page"
            );
        }
        let open = TaskFilter {
            open_only: true,
            kind: None,
        };
        for limit in [1, 2, 50] {
            assert_eq!(
                every_page(store.as_ref(), owner, open, limit).await?,
                [35, 38, 33, 31, 34, 32],
                "{backend:?}"
            );
        }
        let notices = TaskFilter {
            open_only: false,
            kind: Some(TaskKind::Notice),
        };
        for limit in [1, 2] {
            assert_eq!(
                every_page(store.as_ref(), owner, notices, limit).await?,
                [34, 32, 37],
                "{backend:?}"
            );
        }
        let open_notices = TaskFilter {
            open_only: true,
            kind: Some(TaskKind::Notice),
        };
        assert_eq!(
            every_page(store.as_ref(), owner, open_notices, 1).await?,
            [34, 32]
        );
        assert_eq!(
            every_page(store.as_ref(), other, TaskFilter::default(), 1).await?,
            [39]
        );
        // A cursor this list never gave out is no position in it.
        let made_up = PageRequest::parse(Some(2), Some("0:0:0:0:nope"))
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        assert_eq!(
            store
                .tasks_for(owner, TaskFilter::default(), &made_up)
                .await
                .err(),
            Some(StoreError::NotFound),
            "{backend:?}"
        );
        opened.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn a_task_is_completed_once_at_its_version_and_takes_comments() -> anyhow::Result<()> {
    for backend in backends() {
        let (_db, opened) = with_service(backend).await?;
        let store = opened.store();
        let owner = therapist(store.as_ref(), 801).await?;
        raise(
            store.as_ref(),
            1,
            &[new_task(
                41,
                Rule::ArrangeFirstSession,
                owner,
                Some(at(9000)),
            )],
            &[],
            at(1000),
        )
        .await?;
        let complete = |expected: Version| {
            let store = store.clone();
            async move {
                store
                    .complete_task(
                        task_id(41),
                        owner,
                        expected,
                        at(1500),
                        &audited(Action::TaskCompleted),
                    )
                    .await
            }
        };
        assert_eq!(
            complete(version(2)).await.err(),
            Some(StoreError::Stale {
                current: Version::FIRST
            }),
            "{backend:?}"
        );
        let done = complete(Version::FIRST).await?;
        assert_eq!(
            (done.done_at, done.done_by, done.version, done.updated_at),
            (Some(at(1500)), Some(owner), version(2), at(1500)),
            "{backend:?}"
        );
        assert!(!done.is_open());
        assert_eq!(store.task(task_id(41)).await?, Some(done));
        // Done already, at the version it is now: a conflict, not a second completion.
        assert_eq!(
            complete(version(2)).await.err(),
            Some(StoreError::Conflict("tasks_done".into())),
            "{backend:?}"
        );
        assert_eq!(
            complete(Version::FIRST).await.err(),
            Some(StoreError::Stale {
                current: version(2)
            })
        );
        let missing = store
            .complete_task(
                task_id(49),
                owner,
                Version::FIRST,
                at(1500),
                &audited(Action::TaskCompleted),
            )
            .await;
        assert_eq!(missing.err(), Some(StoreError::NotFound));

        // Comments, oldest first; none on a task that does not exist.
        let comment = |n: u128, task: u128, second: i64| StoredComment {
            id: Uuid::from_u128(n),
            task_id: task_id(task),
            author: owner,
            sealed_text: sealed(&[n as u8; 4]),
            created_at: at(second),
        };
        store
            .add_comment(&comment(2, 41, 1700), &audited(Action::TaskCommented))
            .await?;
        store
            .add_comment(&comment(1, 41, 1600), &audited(Action::TaskCommented))
            .await?;
        assert_eq!(
            store.comments(task_id(41)).await?,
            [comment(1, 41, 1600), comment(2, 41, 1700)],
            "{backend:?}"
        );
        let nowhere = store
            .add_comment(&comment(3, 49, 1800), &audited(Action::TaskCommented))
            .await;
        assert_eq!(nowhere.err(), Some(StoreError::NotFound), "{backend:?}");
        assert!(store.comments(task_id(49)).await?.is_empty());
        opened.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn reassigning_a_task_queues_one_nudge_for_the_new_owner() -> anyhow::Result<()> {
    for backend in backends() {
        let (db, opened) = with_service(backend).await?;
        let store = opened.store();
        let first = therapist(store.as_ref(), 901).await?;
        let second = therapist(store.as_ref(), 902).await?;
        let third = therapist(store.as_ref(), 903).await?;
        raise(
            store.as_ref(),
            1,
            &[
                new_task(51, Rule::ArrangeFirstSession, first, None),
                new_task(52, Rule::ArrangeFirstSession, first, None),
            ],
            &[],
            at(1000),
        )
        .await?;
        let reassign = |n: u128, to: UserId, expected: Version, second: i64| {
            let store = store.clone();
            async move {
                store
                    .reassign_task(
                        task_id(n),
                        to,
                        expected,
                        at(second),
                        &audited(Action::TaskReassigned),
                    )
                    .await
            }
        };
        let moved = reassign(51, second, Version::FIRST, 1100).await?;
        assert_eq!(
            (moved.owner, moved.version, moved.updated_at),
            (second, version(2), at(1100)),
            "{backend:?}"
        );
        assert_eq!(nudges_of(&db, second, true).await?, 1, "{backend:?}");
        // A second task for them while the nudge waits: still one nudge.
        reassign(52, second, Version::FIRST, 1200).await?;
        assert_eq!(nudges_of(&db, second, false).await?, 1, "{backend:?}");
        assert_eq!(
            reassign(51, third, Version::FIRST, 1300).await.err(),
            Some(StoreError::Stale {
                current: version(2)
            }),
            "{backend:?}"
        );
        assert_eq!(nudges_of(&db, third, false).await?, 0);
        assert_eq!(
            reassign(59, third, Version::FIRST, 1300).await.err(),
            Some(StoreError::NotFound)
        );
        // Once it has gone out, the next task brings a new one.
        let claimed = store.claim_nudges("w1", at(1300), at(1360), 10).await?;
        assert_eq!(
            claimed.iter().map(|(_, user)| *user).collect::<Vec<_>>(),
            [second],
            "{backend:?}"
        );
        store.nudge_done(claimed[0].0, at(1310)).await?;
        reassign(52, first, version(2), 1400).await?;
        reassign(52, second, version(3), 1500).await?;
        assert_eq!(nudges_of(&db, second, true).await?, 1, "{backend:?}");
        assert_eq!(nudges_of(&db, second, false).await?, 2, "{backend:?}");
        opened.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn nudges_are_claimed_sent_and_retried_after_a_failure() -> anyhow::Result<()> {
    for backend in backends() {
        let (db, opened) = with_service(backend).await?;
        let store = opened.store();
        let one = therapist(store.as_ref(), 1001).await?;
        let two = therapist(store.as_ref(), 1002).await?;
        raise(store.as_ref(), 1, &[], &[one, two], at(1000)).await?;
        assert!(
            store
                .claim_nudges("w1", at(999), at(1059), 10)
                .await?
                .is_empty()
        );
        let claimed = store.claim_nudges("w1", at(1000), at(1060), 10).await?;
        let mut users: Vec<UserId> = claimed.iter().map(|(_, u)| *u).collect();
        users.sort();
        assert_eq!(users, [one, two], "{backend:?}");
        let id_of = |user: UserId| {
            claimed
                .iter()
                .find(|(_, u)| *u == user)
                .map(|(id, _)| *id)
                .unwrap_or_default()
        };
        // Held: nobody else takes them.
        assert!(
            store
                .claim_nudges("w2", at(1010), at(1070), 10)
                .await?
                .is_empty()
        );
        store.nudge_done(id_of(two), at(1020)).await?;
        store.nudge_failed(id_of(one), at(2000)).await?;
        let attempts = format!("SELECT attempts FROM nudges WHERE user_id = '{one}'");
        assert_eq!(
            crate::count_as_owner(&db, &attempts).await?,
            1,
            "{backend:?}"
        );
        // The failed one waits for its retry time, lease released or not; the sent one is done.
        assert!(
            store
                .claim_nudges("w2", at(1999), at(2059), 10)
                .await?
                .is_empty(),
            "{backend:?}"
        );
        let retried = store.claim_nudges("w2", at(2000), at(2060), 10).await?;
        assert_eq!(retried, [(id_of(one), one)], "{backend:?}");
        store.nudge_done(id_of(one), at(2010)).await?;
        // Saying so again changes nothing; a failure after the sending does not unsend it.
        store.nudge_done(id_of(one), at(2020)).await?;
        store.nudge_failed(id_of(one), at(3000)).await?;
        assert!(
            store
                .claim_nudges("w3", at(9000), at(9060), 10)
                .await?
                .is_empty(),
            "{backend:?}"
        );
        assert_eq!(
            crate::count_as_owner(
                &db,
                "SELECT COUNT(*) FROM nudges WHERE sent_at IS NOT NULL AND attempts = 1 \
                 AND sent_at = 2010000000"
            )
            .await?,
            1,
            "{backend:?}"
        );
        let unknown = Uuid::from_u128(12345);
        assert_eq!(
            store.nudge_done(unknown, at(1)).await.err(),
            Some(StoreError::NotFound)
        );
        assert_eq!(
            store.nudge_failed(unknown, at(1)).await.err(),
            Some(StoreError::NotFound)
        );
        opened.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn imported_bank_holidays_replace_the_title_of_a_date_already_stored() -> anyhow::Result<()> {
    let holiday = |division: &str, on: Date, title: &str| StoredHoliday {
        division: division.to_owned(),
        date: on,
        title: title.to_owned(),
    };
    for backend in backends() {
        let (_db, opened) = with_service(backend).await?;
        let store = opened.store();
        assert!(store.imported_holidays().await?.is_empty());
        store
            .import_holidays(
                &[
                    holiday("scotland", date(2026, 11, 30), "St Andrew's Day"),
                    holiday("england-and-wales", date(2026, 12, 28), "Boxing Day"),
                    holiday("england-and-wales", date(2026, 12, 25), "Christmas Day"),
                ],
                at(1000),
                &audited(Action::HolidaysImported),
            )
            .await?;
        store
            .import_holidays(
                &[
                    holiday(
                        "england-and-wales",
                        date(2026, 12, 28),
                        "Boxing Day (substitute day)",
                    ),
                    holiday("northern-ireland", date(2026, 3, 17), "St Patrick's Day"),
                ],
                at(2000),
                &audited(Action::HolidaysImported),
            )
            .await?;
        assert_eq!(
            store.imported_holidays().await?,
            [
                holiday("england-and-wales", date(2026, 12, 25), "Christmas Day"),
                holiday(
                    "england-and-wales",
                    date(2026, 12, 28),
                    "Boxing Day (substitute day)"
                ),
                holiday("northern-ireland", date(2026, 3, 17), "St Patrick's Day"),
                holiday("scotland", date(2026, 11, 30), "St Andrew's Day"),
            ],
            "{backend:?}"
        );
        opened.close().await;
    }
    Ok(())
}

// ---- The regular frame: slots, sessions, clashes and the frame's history ----

use alliance_core::schedule::{Attendance, Booking, BookingId, Clash, Slot, Term, TermCalendar};
use alliance_service::{Booked, FrameChange, NewSession, RegularSlot};
use jiff::civil::{Weekday, time};

const FRAME_CALENDAR: u128 = 800;

fn frame_room(n: u128) -> RoomId {
    RoomId(Uuid::from_u128(900 + n))
}

fn frame_therapist(n: u128) -> UserId {
    UserId(Uuid::from_u128(500 + n))
}

fn frame_child(n: u128) -> ChildId {
    ChildId(Uuid::from_u128(n))
}

fn frame_case(n: u128) -> CaseId {
    CaseId(Uuid::from_u128(1000 + 10 * n))
}

/// A migrated database with a school, rooms 1 and 2, its autumn term, and for each of
/// `1..=people` a therapist, a child and the child's open case.
async fn frame_world(backend: Backend, people: u128) -> anyhow::Result<(TestDatabase, Opened)> {
    let (db, opened) = with_service(backend).await?;
    let store = opened.store();
    let school = SiteId(Uuid::from_u128(700));
    store
        .create_site(
            school,
            &site("Oakfield Primary", SiteKind::School),
            at(10),
            &audited(Action::SiteCreated),
        )
        .await?;
    for (n, name) in [(1, "Willow Room"), (2, "Rowan Room")] {
        store
            .create_room(
                frame_room(n),
                school,
                &room(name, 4),
                at(10),
                &audited(Action::RoomCreated),
            )
            .await?;
    }
    let calendar = TermCalendar::new(
        "Oakfield 2026/27",
        vec![Term {
            name: "Autumn term".to_owned(),
            starts: date(2026, 9, 2),
            ends: date(2026, 12, 18),
            half_terms: Vec::new(),
        }],
        Vec::new(),
    )
    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    store
        .create_calendar(
            Uuid::from_u128(FRAME_CALENDAR),
            Some(school),
            &calendar,
            at(10),
            &audited(Action::CalendarCreated),
        )
        .await?;
    for n in 1..=people {
        therapist(store.as_ref(), 500 + n).await?;
        new_child(store.as_ref(), n, &ChildLookups::default()).await?;
        open(store.as_ref(), 1000 + 10 * n, frame_child(n), None).await?;
    }
    Ok((db, opened))
}

/// Booking `n`: room `room` for therapist `therapist` on `day` at `h:m` for `minutes`.
fn frame_booking(
    n: u128,
    room: u128,
    therapist: u128,
    day: Date,
    hm: (i8, i8),
    minutes: u16,
) -> Booking {
    Booking {
        id: BookingId(Uuid::from_u128(n)),
        room: frame_room(room),
        therapist: frame_therapist(therapist),
        date: day,
        start: time(hm.0, hm.1, 0, 0),
        minutes,
    }
}

/// `booking` as a session of case `case` (of child `case`).
fn frame_session(case: u128, booking: Booking, regular: bool) -> NewSession {
    NewSession {
        booking,
        case_id: frame_case(case),
        child_id: frame_child(case),
        regular,
    }
}

/// Case `case`'s slot: every `weekday` at `h:m` for `minutes` from `from`, in room `room`
/// with therapist `therapist`.
fn frame_slot(
    case: u128,
    room: u128,
    therapist: u128,
    weekday: Weekday,
    hm: (i8, i8),
    minutes: u16,
    from: Date,
) -> RegularSlot {
    RegularSlot {
        case_id: frame_case(case),
        calendar_id: Uuid::from_u128(FRAME_CALENDAR),
        room: frame_room(room),
        therapist: frame_therapist(therapist),
        slot: Slot {
            weekday,
            start: time(hm.0, hm.1, 0, 0),
            minutes,
            from,
            until: None,
        },
        version: Version::FIRST,
        created_at: at(0),
        updated_at: at(0),
    }
}

fn frame_change(
    n: u128,
    case: u128,
    what: &str,
    session: Option<u128>,
    second: i64,
) -> FrameChange {
    FrameChange {
        id: Uuid::from_u128(n),
        case_id: frame_case(case),
        what: what.to_owned(),
        session: session.map(|s| BookingId(Uuid::from_u128(s))),
        by: frame_therapist(case),
        sealed_reason: sealed(format!("sealed reason {n}").as_bytes()),
        at: at(second),
    }
}

fn booked<T: std::fmt::Debug>(result: Booked<T>) -> anyhow::Result<T> {
    match result {
        Booked::Done(done) => Ok(done),
        Booked::Clashed(clashes) => anyhow::bail!("refused for clashes: {clashes:?}"),
    }
}

fn clashed<T: std::fmt::Debug>(result: Booked<T>) -> anyhow::Result<Vec<Clash>> {
    match result {
        Booked::Clashed(clashes) => Ok(clashes),
        Booked::Done(done) => anyhow::bail!("booked, though it should clash: {done:?}"),
    }
}

fn session_ids(sessions: &[alliance_service::StoredSession]) -> Vec<u128> {
    sessions.iter().map(|s| s.booking.id.0.as_u128()).collect()
}

async fn count_rows(db: &TestDatabase, table: &str) -> anyhow::Result<i64> {
    crate::count_as_owner(db, &format!("SELECT COUNT(*) FROM {table}")).await
}

#[tokio::test]
async fn a_regular_slot_books_its_series_and_reads_it_back() -> anyhow::Result<()> {
    for backend in backends() {
        let (db, opened) = frame_world(backend, 2).await?;
        let store = opened.store();
        let slot = frame_slot(1, 1, 1, Weekday::Monday, (15, 30), 50, date(2026, 9, 7));
        let series: Vec<NewSession> = [(1, 7), (2, 14), (3, 21)]
            .map(|(n, day)| {
                frame_session(
                    1,
                    frame_booking(n, 1, 1, date(2026, 9, day), (15, 30), 50),
                    true,
                )
            })
            .to_vec();
        let change = frame_change(50, 1, "slot-set", None, 100);
        let stored = booked(
            store
                .set_slot(
                    &slot,
                    None,
                    &series,
                    &change,
                    at(100),
                    &audited(Action::CaseUpdated),
                )
                .await?,
        )?;
        assert_eq!(
            stored,
            RegularSlot {
                version: Version::FIRST,
                created_at: at(100),
                updated_at: at(100),
                ..slot.clone()
            },
            "{backend:?}"
        );
        assert_eq!(store.slot(frame_case(1)).await?, Some(stored.clone()));
        assert_eq!(store.slot(frame_case(2)).await?, None);

        let sessions = store.sessions_of_case(frame_case(1)).await?;
        assert_eq!(session_ids(&sessions), [1, 2, 3], "{backend:?}");
        for (session, new) in sessions.iter().zip(&series) {
            assert_eq!(session.booking, new.booking);
            assert_eq!(
                (session.case_id, session.child_id),
                (frame_case(1), frame_child(1))
            );
            assert!(session.regular);
            assert_eq!(
                (session.attendance.clone(), session.sealed_reason.clone()),
                (None, None)
            );
            assert_eq!(session.version, Version::FIRST);
            assert_eq!((session.created_at, session.updated_at), (at(100), at(100)));
        }
        assert_eq!(
            store
                .booked_session(BookingId(Uuid::from_u128(2)))
                .await?
                .as_ref(),
            Some(&sessions[1])
        );
        assert_eq!(
            store.booked_session(BookingId(Uuid::from_u128(9))).await?,
            None
        );

        // Found by room or by therapist, between two dates inclusive.
        let first_two = vec![series[0].booking, series[1].booking];
        let (from, to) = (date(2026, 9, 7), date(2026, 9, 14));
        assert_eq!(
            store
                .bookings_between(from, to, &[frame_room(1)], &[])
                .await?,
            first_two
        );
        assert_eq!(
            store
                .bookings_between(from, to, &[], &[frame_therapist(1)])
                .await?,
            first_two
        );
        assert_eq!(
            store
                .bookings_between(from, to, &[frame_room(1)], &[frame_therapist(1)])
                .await?,
            first_two
        );
        assert!(
            store
                .bookings_between(from, to, &[frame_room(2)], &[frame_therapist(2)])
                .await?
                .is_empty()
        );
        assert!(store.bookings_between(from, to, &[], &[]).await?.is_empty());
        assert_eq!(store.frame_changes(frame_case(1)).await?, [change]);

        // A second slot for the case without the version is refused; so is a stale version.
        let again = store
            .set_slot(
                &slot,
                None,
                &[],
                &frame_change(51, 1, "slot-set", None, 200),
                at(200),
                &audited(Action::CaseUpdated),
            )
            .await;
        assert_eq!(
            again.err(),
            Some(StoreError::Conflict("regular_slots_pkey".into())),
            "{backend:?}"
        );
        let stale = store
            .set_slot(
                &slot,
                Some(version(2)),
                &[],
                &frame_change(52, 1, "slot-set", None, 200),
                at(200),
                &audited(Action::CaseUpdated),
            )
            .await;
        assert_eq!(
            stale.err(),
            Some(StoreError::Stale {
                current: Version::FIRST
            })
        );
        let missing = store
            .set_slot(
                &frame_slot(2, 1, 2, Weekday::Friday, (9, 0), 50, date(2026, 9, 11)),
                Some(Version::FIRST),
                &[],
                &frame_change(53, 2, "slot-set", None, 200),
                at(200),
                &audited(Action::CaseUpdated),
            )
            .await;
        assert_eq!(missing.err(), Some(StoreError::NotFound));
        assert_eq!(count_rows(&db, "frame_changes").await?, 1);
        opened.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn a_clashing_booking_is_refused_naming_what_it_meets_and_nothing_is_written()
-> anyhow::Result<()> {
    for backend in backends() {
        let (db, opened) = frame_world(backend, 3).await?;
        let store = opened.store();
        let audit = audited(Action::CaseUpdated);
        // Case 1: the Willow Room with therapist 1, Mondays 15:10-16:00.
        let monday = |n, day| frame_booking(n, 1, 1, date(2026, 9, day), (15, 10), 50);
        let (first, second) = (monday(1, 7), monday(2, 14));
        booked(
            store
                .set_slot(
                    &frame_slot(1, 1, 1, Weekday::Monday, (15, 10), 50, date(2026, 9, 7)),
                    None,
                    &[
                        frame_session(1, first, true),
                        frame_session(1, second, true),
                    ],
                    &frame_change(50, 1, "slot-set", None, 100),
                    at(100),
                    &audit,
                )
                .await?,
        )?;

        // Case 2 wants the same room at 15:30 with another therapist: the room clashes.
        let refused = store
            .set_slot(
                &frame_slot(2, 1, 2, Weekday::Monday, (15, 30), 50, date(2026, 9, 14)),
                None,
                &[
                    frame_session(
                        2,
                        frame_booking(11, 1, 2, date(2026, 9, 14), (15, 30), 50),
                        true,
                    ),
                    frame_session(
                        2,
                        frame_booking(12, 1, 2, date(2026, 9, 21), (15, 30), 50),
                        true,
                    ),
                ],
                &frame_change(51, 2, "slot-set", None, 200),
                at(200),
                &audit,
            )
            .await?;
        assert_eq!(
            clashed(refused)?,
            [Clash::Room { with: second }],
            "{backend:?}"
        );
        assert_eq!(store.slot(frame_case(2)).await?, None);
        assert!(store.sessions_of_case(frame_case(2)).await?.is_empty());
        assert!(store.frame_changes(frame_case(2)).await?.is_empty());

        // Therapist 1 in the other room at an overlapping time: the therapist clashes.
        let elsewhere = store
            .add_session(
                &frame_session(
                    2,
                    frame_booking(13, 2, 1, date(2026, 9, 7), (15, 45), 50),
                    false,
                ),
                &frame_change(52, 2, "added", Some(13), 200),
                at(200),
                &audit,
            )
            .await?;
        assert_eq!(
            clashed(elsewhere)?,
            [Clash::Therapist { with: first }],
            "{backend:?}"
        );
        // The same room and therapist: both.
        let twice = store
            .add_session(
                &frame_session(
                    2,
                    frame_booking(14, 1, 1, date(2026, 9, 7), (15, 0), 30),
                    false,
                ),
                &frame_change(53, 2, "added", Some(14), 200),
                at(200),
                &audit,
            )
            .await?;
        assert_eq!(
            clashed(twice)?,
            [
                Clash::Room { with: first },
                Clash::Therapist { with: first }
            ]
        );

        // Touching is not clashing: 16:00 in the room after the session ending at 16:00, and
        // therapist 1 until 15:10 in the other room.
        booked(
            store
                .set_slot(
                    &frame_slot(2, 1, 2, Weekday::Monday, (16, 0), 50, date(2026, 9, 7)),
                    None,
                    &[
                        frame_session(
                            2,
                            frame_booking(15, 1, 2, date(2026, 9, 7), (16, 0), 50),
                            true,
                        ),
                        frame_session(
                            2,
                            frame_booking(16, 1, 2, date(2026, 9, 14), (16, 0), 50),
                            true,
                        ),
                    ],
                    &frame_change(54, 2, "slot-set", None, 300),
                    at(300),
                    &audit,
                )
                .await?,
        )?;
        booked(
            store
                .add_session(
                    &frame_session(
                        3,
                        frame_booking(17, 2, 1, date(2026, 9, 7), (14, 20), 50),
                        false,
                    ),
                    &frame_change(55, 3, "added", Some(17), 300),
                    at(300),
                    &audit,
                )
                .await?,
        )?;

        // The new bookings of one request are checked against each other too.
        let own = frame_booking(18, 2, 3, date(2026, 9, 8), (10, 0), 50);
        let overlapping = store
            .set_slot(
                &frame_slot(3, 2, 3, Weekday::Tuesday, (10, 0), 50, date(2026, 9, 8)),
                None,
                &[
                    frame_session(3, own, true),
                    frame_session(
                        3,
                        frame_booking(19, 2, 3, date(2026, 9, 8), (10, 30), 50),
                        true,
                    ),
                ],
                &frame_change(56, 3, "slot-set", None, 400),
                at(400),
                &audit,
            )
            .await?;
        assert_eq!(
            clashed(overlapping)?,
            [Clash::Room { with: own }, Clash::Therapist { with: own }],
            "{backend:?}"
        );
        assert_eq!(store.slot(frame_case(3)).await?, None);
        assert_eq!(count_rows(&db, "therapy_sessions").await?, 5, "{backend:?}");
        assert_eq!(count_rows(&db, "regular_slots").await?, 2);
        assert_eq!(count_rows(&db, "frame_changes").await?, 3);
        opened.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn a_cancelled_session_frees_its_room_and_attendance_is_versioned() -> anyhow::Result<()> {
    for backend in backends() {
        let (_db, opened) = frame_world(backend, 2).await?;
        let store = opened.store();
        let audit = audited(Action::CaseUpdated);
        let tuesday = date(2026, 9, 8);
        let one = frame_booking(1, 1, 1, tuesday, (10, 0), 50);
        let added = booked(
            store
                .add_session(
                    &frame_session(1, one, false),
                    &frame_change(50, 1, "added", Some(1), 100),
                    at(100),
                    &audit,
                )
                .await?,
        )?;
        assert_eq!(
            (added.booking, added.regular, added.version),
            (one, false, Version::FIRST)
        );

        let two = frame_booking(2, 1, 2, tuesday, (10, 15), 50);
        let refused = store
            .add_session(
                &frame_session(2, two, false),
                &frame_change(51, 2, "added", Some(2), 150),
                at(150),
                &audit,
            )
            .await?;
        assert_eq!(
            clashed(refused)?,
            [Clash::Room { with: one }],
            "{backend:?}"
        );

        // Cancelled by the school: the reason is kept sealed, apart from the attendance.
        let cancelled = store
            .set_attendance(
                one.id,
                &Attendance::CancelledBySchool {
                    reason: Some("Class trip".to_owned()),
                },
                Some(&sealed(b"sealed class trip")),
                Version::FIRST,
                Some(&frame_change(52, 1, "cancelled", Some(1), 200)),
                at(200),
                &audit,
            )
            .await?;
        assert_eq!(
            cancelled.attendance,
            Some(Attendance::CancelledBySchool { reason: None }),
            "{backend:?}"
        );
        assert_eq!(cancelled.sealed_reason, Some(sealed(b"sealed class trip")));
        assert_eq!(
            (cancelled.version, cancelled.updated_at),
            (version(2), at(200))
        );
        assert_eq!(store.booked_session(one.id).await?, Some(cancelled));
        let stale = store
            .set_attendance(
                one.id,
                &Attendance::Attended,
                None,
                Version::FIRST,
                None,
                at(250),
                &audit,
            )
            .await;
        assert_eq!(
            stale.err(),
            Some(StoreError::Stale {
                current: version(2)
            })
        );
        let missing = store
            .set_attendance(
                BookingId(Uuid::from_u128(99)),
                &Attendance::Attended,
                None,
                Version::FIRST,
                None,
                at(250),
                &audit,
            )
            .await;
        assert_eq!(missing.err(), Some(StoreError::NotFound));
        assert!(
            store
                .bookings_between(tuesday, tuesday, &[frame_room(1)], &[frame_therapist(1)])
                .await?
                .is_empty()
        );

        // The room is free again.
        booked(
            store
                .add_session(
                    &frame_session(2, two, false),
                    &frame_change(53, 2, "added", Some(2), 300),
                    at(300),
                    &audit,
                )
                .await?,
        )?;
        let late = store
            .set_attendance(
                two.id,
                &Attendance::Late { minutes: 10 },
                None,
                Version::FIRST,
                None,
                at(400),
                &audit,
            )
            .await?;
        assert_eq!(late.attendance, Some(Attendance::Late { minutes: 10 }));
        assert_eq!(late.sealed_reason, None);

        // A session the child did not come to still held the room.
        let absent = store
            .set_attendance(
                two.id,
                &Attendance::DidNotAttend { reason: None },
                Some(&sealed(b"sealed unwell")),
                version(2),
                None,
                at(500),
                &audit,
            )
            .await?;
        assert_eq!(
            absent.attendance,
            Some(Attendance::DidNotAttend { reason: None })
        );
        let three = frame_booking(3, 1, 1, tuesday, (10, 0), 50);
        let refused = store
            .add_session(
                &frame_session(1, three, false),
                &frame_change(54, 1, "added", Some(3), 600),
                at(600),
                &audit,
            )
            .await?;
        assert_eq!(
            clashed(refused)?,
            [Clash::Room { with: two }],
            "{backend:?}"
        );
        assert_eq!(
            store.frame_changes(frame_case(1)).await?,
            [
                frame_change(52, 1, "cancelled", Some(1), 200),
                frame_change(50, 1, "added", Some(1), 100)
            ]
        );
        opened.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn replacing_a_slot_deletes_the_sessions_it_planned_but_keeps_those_held_or_added()
-> anyhow::Result<()> {
    for backend in backends() {
        let (_db, opened) = frame_world(backend, 1).await?;
        let store = opened.store();
        let audit = audited(Action::CaseUpdated);
        let monday =
            |n, day, minutes| frame_booking(n, 1, 1, date(2026, 9, day), (15, 30), minutes);
        let first = monday(1, 7, 50);
        booked(
            store
                .set_slot(
                    &frame_slot(1, 1, 1, Weekday::Monday, (15, 30), 50, date(2026, 9, 7)),
                    None,
                    &[(1, 7), (2, 14), (3, 21)]
                        .map(|(n, d)| frame_session(1, monday(n, d, 50), true)),
                    &frame_change(50, 1, "slot-set", None, 100),
                    at(100),
                    &audit,
                )
                .await?,
        )?;
        store
            .set_attendance(
                first.id,
                &Attendance::Attended,
                None,
                Version::FIRST,
                None,
                at(150),
                &audit,
            )
            .await?;
        booked(
            store
                .add_session(
                    &frame_session(
                        1,
                        frame_booking(4, 2, 1, date(2026, 9, 16), (10, 0), 50),
                        false,
                    ),
                    &frame_change(51, 1, "added", Some(4), 160),
                    at(160),
                    &audit,
                )
                .await?,
        )?;

        // Sessions of an hour from 14 September, at the very times of the ones they replace.
        let replaced = booked(
            store
                .set_slot(
                    &frame_slot(1, 1, 1, Weekday::Monday, (15, 30), 60, date(2026, 9, 14)),
                    Some(Version::FIRST),
                    &[(5, 14), (6, 21)].map(|(n, d)| frame_session(1, monday(n, d, 60), true)),
                    &frame_change(52, 1, "slot-set", None, 300),
                    at(300),
                    &audit,
                )
                .await?,
        )?;
        assert_eq!(
            (replaced.version, replaced.slot.minutes, replaced.slot.from),
            (version(2), 60, date(2026, 9, 14)),
            "{backend:?}"
        );
        assert_eq!(
            (replaced.created_at, replaced.updated_at),
            (at(100), at(300))
        );
        let sessions = store.sessions_of_case(frame_case(1)).await?;
        assert_eq!(session_ids(&sessions), [1, 5, 4, 6], "{backend:?}");
        assert_eq!(sessions[0].attendance, Some(Attendance::Attended));
        assert_eq!(
            store.booked_session(BookingId(Uuid::from_u128(2))).await?,
            None
        );

        // A slot from 7 September meets the session already held that day: refused, and the
        // slot and its sessions stay as they were.
        let refused = store
            .set_slot(
                &frame_slot(1, 1, 1, Weekday::Monday, (15, 30), 50, date(2026, 9, 7)),
                Some(version(2)),
                &[frame_session(1, monday(7, 7, 50), true)],
                &frame_change(53, 1, "slot-set", None, 400),
                at(400),
                &audit,
            )
            .await?;
        let held = Booking {
            minutes: 50,
            ..first
        };
        assert_eq!(
            clashed(refused)?,
            [Clash::Room { with: held }, Clash::Therapist { with: held }],
            "{backend:?}"
        );
        assert_eq!(store.slot(frame_case(1)).await?, Some(replaced));
        assert_eq!(
            session_ids(&store.sessions_of_case(frame_case(1)).await?),
            [1, 5, 4, 6]
        );
        opened.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn moving_a_session_is_versioned_and_checked_for_clashes() -> anyhow::Result<()> {
    for backend in backends() {
        let (_db, opened) = frame_world(backend, 2).await?;
        let store = opened.store();
        let audit = audited(Action::CaseUpdated);
        let first = frame_booking(1, 1, 1, date(2026, 9, 7), (15, 30), 50);
        booked(
            store
                .set_slot(
                    &frame_slot(1, 1, 1, Weekday::Monday, (15, 30), 50, date(2026, 9, 7)),
                    None,
                    &[frame_session(1, first, true)],
                    &frame_change(50, 1, "slot-set", None, 100),
                    at(100),
                    &audit,
                )
                .await?,
        )?;
        let other = frame_booking(10, 2, 2, date(2026, 9, 7), (15, 30), 50);
        booked(
            store
                .add_session(
                    &frame_session(2, other, false),
                    &frame_change(60, 2, "added", Some(10), 150),
                    at(150),
                    &audit,
                )
                .await?,
        )?;

        // A quarter of an hour later in the same room: it overlaps only itself.
        let later = Booking {
            start: time(15, 45, 0, 0),
            ..first
        };
        let moved = booked(
            store
                .move_session(
                    first.id,
                    &later,
                    Version::FIRST,
                    &frame_change(51, 1, "moved", Some(1), 200),
                    at(200),
                    &audit,
                )
                .await?,
        )?;
        assert_eq!(moved.booking, later, "{backend:?}");
        assert!(!moved.regular);
        assert_eq!((moved.version, moved.updated_at), (version(2), at(200)));

        let stale = store
            .move_session(
                first.id,
                &first,
                Version::FIRST,
                &frame_change(52, 1, "moved", Some(1), 300),
                at(300),
                &audit,
            )
            .await;
        assert_eq!(
            stale.err(),
            Some(StoreError::Stale {
                current: version(2)
            })
        );
        let missing = store
            .move_session(
                BookingId(Uuid::from_u128(99)),
                &first,
                Version::FIRST,
                &frame_change(53, 1, "moved", Some(99), 300),
                at(300),
                &audit,
            )
            .await;
        assert_eq!(missing.err(), Some(StoreError::NotFound));

        // Into the Rowan Room, taken by case 2 at 15:30: refused, and the session stays put.
        let into_other = Booking {
            room: frame_room(2),
            ..first
        };
        let refused = store
            .move_session(
                first.id,
                &into_other,
                version(2),
                &frame_change(54, 1, "moved", Some(1), 400),
                at(400),
                &audit,
            )
            .await?;
        assert_eq!(
            clashed(refused)?,
            [Clash::Room { with: other }],
            "{backend:?}"
        );
        assert_eq!(store.booked_session(first.id).await?, Some(moved));

        // The next day it is free.
        let next_day = Booking {
            date: date(2026, 9, 8),
            ..into_other
        };
        let moved = booked(
            store
                .move_session(
                    first.id,
                    &next_day,
                    version(2),
                    &frame_change(55, 1, "moved", Some(1), 500),
                    at(500),
                    &audit,
                )
                .await?,
        )?;
        assert_eq!((moved.booking, moved.version), (next_day, version(3)));
        assert_eq!(
            store
                .bookings_between(date(2026, 9, 1), date(2026, 9, 30), &[frame_room(2)], &[])
                .await?,
            [other, next_day]
        );
        opened.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn frame_changes_are_listed_newest_first() -> anyhow::Result<()> {
    for backend in backends() {
        let (_db, opened) = frame_world(backend, 2).await?;
        let store = opened.store();
        let audit = audited(Action::CaseUpdated);
        let day = date(2026, 9, 9);
        // Recorded out of order: the list follows when each change happened.
        for (n, second, start) in [(1, 300, 9), (2, 100, 10), (3, 200, 11)] {
            booked(
                store
                    .add_session(
                        &frame_session(1, frame_booking(n, 1, 1, day, (start, 0), 50), false),
                        &frame_change(50 + n, 1, "added", Some(n), second),
                        at(second),
                        &audit,
                    )
                    .await?,
            )?;
        }
        booked(
            store
                .add_session(
                    &frame_session(2, frame_booking(4, 2, 2, day, (9, 0), 50), false),
                    &frame_change(60, 2, "added", Some(4), 400),
                    at(400),
                    &audit,
                )
                .await?,
        )?;
        assert_eq!(
            store.frame_changes(frame_case(1)).await?,
            [
                frame_change(51, 1, "added", Some(1), 300),
                frame_change(53, 1, "added", Some(3), 200),
                frame_change(52, 1, "added", Some(2), 100),
            ],
            "{backend:?}"
        );
        assert_eq!(store.frame_changes(frame_case(2)).await?.len(), 1);
        opened.close().await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bookings_at_once_for_one_room_or_one_therapist_let_exactly_one_through()
-> anyhow::Result<()> {
    const CASES: u128 = 6;
    for backend in backends() {
        let (db, opened) = frame_world(backend, CASES).await?;
        let store = opened.store();

        // Six cases, each with its own therapist, all setting a slot in the Willow Room for
        // Monday 15:30 at once.
        let attempts: Vec<_> = (1..=CASES)
            .map(|n| {
                let store = store.clone();
                tokio::spawn(async move {
                    let booking = frame_booking(100 + n, 1, n, date(2026, 9, 7), (15, 30), 50);
                    let result = store
                        .set_slot(
                            &frame_slot(n, 1, n, Weekday::Monday, (15, 30), 50, date(2026, 9, 7)),
                            None,
                            &[frame_session(n, booking, true)],
                            &frame_change(200 + n, n, "slot-set", None, 100),
                            at(100),
                            &audited(Action::CaseUpdated),
                        )
                        .await;
                    (booking, result)
                })
            })
            .collect();
        let mut won = Vec::new();
        let mut refused = Vec::new();
        for attempt in attempts {
            match attempt.await? {
                (booking, Ok(Booked::Done(_))) => won.push(booking),
                (_, Ok(Booked::Clashed(clashes))) => refused.push(clashes),
                (_, Err(e)) => anyhow::bail!("{backend:?}: {e}"),
            }
        }
        assert_eq!(won.len(), 1, "{backend:?}: {won:?}");
        assert_eq!(refused.len(), CASES as usize - 1);
        for clashes in &refused {
            assert_eq!(clashes, &[Clash::Room { with: won[0] }], "{backend:?}");
        }
        assert_eq!(count_rows(&db, "therapy_sessions").await?, 1, "{backend:?}");
        assert_eq!(count_rows(&db, "regular_slots").await?, 1);
        assert_eq!(count_rows(&db, "frame_changes").await?, 1);

        // Therapist 1 booked at once in either room on the Tuesday: one wins again.
        let attempts: Vec<_> = (1..=CASES)
            .map(|n| {
                let store = store.clone();
                tokio::spawn(async move {
                    let booking =
                        frame_booking(300 + n, 1 + n % 2, 1, date(2026, 9, 8), (11, 0), 50);
                    let result = store
                        .add_session(
                            &frame_session(n, booking, false),
                            &frame_change(400 + n, n, "added", Some(300 + n), 200),
                            at(200),
                            &audited(Action::CaseUpdated),
                        )
                        .await;
                    (booking, result)
                })
            })
            .collect();
        let mut won = Vec::new();
        let mut refused = Vec::new();
        for attempt in attempts {
            match attempt.await? {
                (booking, Ok(Booked::Done(_))) => won.push(booking),
                (_, Ok(Booked::Clashed(clashes))) => refused.push(clashes),
                (_, Err(e)) => anyhow::bail!("{backend:?}: {e}"),
            }
        }
        assert_eq!(won.len(), 1, "{backend:?}: {won:?}");
        assert_eq!(refused.len(), CASES as usize - 1);
        for clashes in &refused {
            // The therapist always; the room too for those that chose the same one.
            assert!(
                clashes.contains(&Clash::Therapist { with: won[0] }),
                "{backend:?}: {clashes:?}"
            );
            assert!(clashes.iter().all(|c| *c.with() == won[0]));
        }
        assert_eq!(count_rows(&db, "therapy_sessions").await?, 2, "{backend:?}");
        opened.close().await;
    }
    Ok(())
}
