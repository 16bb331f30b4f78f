//! The store conformance suite: the same behaviour on SQLite and PostgreSQL.

use crate::Opened;
use alliance_core::audit::{Action, ChainKey, Event, Origin};
use alliance_core::{Version, service::ServiceDetails};
use alliance_service::{AuditBatch, StoreError};
use alliance_testkit::{TestDatabase, backends};
use jiff::Timestamp;

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
