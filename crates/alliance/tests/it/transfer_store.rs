//! The store of safeguarding file transfers on both engines: a transfer is written pending
//! with what it schedules; sending it (and sending it again) and recording its receipt each
//! move it on one version at a time, close only the open task they answer, and write nothing
//! when stale or refused (received is final; receipt needs a sent file); a child's transfers
//! are listed newest first; and the database itself refuses any change of a received transfer
//! and the deletion of any, whatever the route.

use crate::Opened;
use alliance_core::Version;
use alliance_core::audit::{Action, ChainKey, Event, Origin};
use alliance_core::children::ChildId;
use alliance_core::crypto::Sealed;
use alliance_core::identity::{RegistrationBody, Role, UserDetails, UserId, Username};
use alliance_core::service::ServiceDetails;
use alliance_core::tasks::{FiringId, Recipient, Rule, Subject, TaskId};
use alliance_service::store::{StoredTransfer, TransferStatus};
use alliance_service::{
    AuditBatch, ChildLookups, NewFiring, NewTask, NewUser, Store, StoreError, StoredChild,
};
use alliance_testkit::{Backend, TestDatabase, backends};
use jiff::Timestamp;
use std::sync::Arc;
use uuid::Uuid;

const KEY: ChainKey = ChainKey([9; 32]);

fn at(second: i64) -> Timestamp {
    Timestamp::from_second(second).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn audited(action: Action) -> AuditBatch<'static> {
    AuditBatch {
        key: &KEY,
        events: vec![Event::new(action, None, "transfer", Some("1".to_owned()))],
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

/// The DSL, a therapist, and two children.
struct World {
    db: TestDatabase,
    opened: Opened,
    store: Arc<dyn Store>,
    dsl: UserId,
    therapist: UserId,
    child: ChildId,
    other_child: ChildId,
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
    let dsl = new_user(store.as_ref(), 1, "dsl1").await?;
    let therapist = new_user(store.as_ref(), 2, "therapist1").await?;
    let child = new_child(store.as_ref(), 3).await?;
    let other_child = new_child(store.as_ref(), 4).await?;
    Ok(World {
        db,
        opened,
        store,
        dsl,
        therapist,
        child,
        other_child,
    })
}

/// A new (pending) transfer `n` of `child`, started at `second`.
fn pending(w: &World, n: u128, child: ChildId, second: i64) -> StoredTransfer {
    StoredTransfer {
        id: id(n),
        child_id: child,
        started_by: w.dsl,
        destination: sealed(&[n as u8, 0xDE]),
        due_at: at(second + 5 * 86_400),
        counted_in: "school-days".to_owned(),
        status: TransferStatus::Pending,
        export: None,
        sent_by: None,
        sent_at: None,
        receipt: None,
        received_by: None,
        received_at: None,
        version: Version::FIRST,
        created_at: at(second),
        updated_at: at(second),
    }
}

/// Whether task `n` is there and still open.
async fn open(store: &dyn Store, n: u128) -> anyhow::Result<bool> {
    Ok(store
        .task(TaskId(id(n)))
        .await?
        .is_some_and(|t| t.is_open()))
}

async fn count(db: &TestDatabase, sql: &str) -> anyhow::Result<i64> {
    crate::count_as_owner(db, sql).await
}

#[tokio::test]
async fn a_transfer_is_sent_then_received_closing_the_tasks_it_answers() -> anyhow::Result<()> {
    for backend in backends() {
        let w = world(backend).await?;
        let store = w.store.as_ref();
        let transfer = pending(&w, 11, w.child, 1_800_001_000);
        let subject = |record_type: &str, record: Uuid| {
            Some(Subject {
                child: Some(w.child),
                record_type: record_type.to_owned(),
                record_id: record.to_string(),
            })
        };

        // Written pending, with what it schedules, and audited.
        let mut batch = audited(Action::ConcernStep);
        batch.follow_ups.push(NewFiring {
            id: FiringId(id(12)),
            rule: Rule::SendSafeguardingFile,
            fire_at: at(1_800_001_100),
            recipient: Recipient::User(w.dsl),
            subject: subject("transfer", transfer.id),
            reference: "a transfer".to_owned(),
            dedupe_key: format!("transfer:{}:send", transfer.id),
        });
        let head = store.audit_head().await?;
        store.create_transfer(&transfer, &batch).await?;
        assert_eq!(store.audit_head().await?.seq, head.seq + 1, "{backend:?}");
        assert_eq!(
            store.transfer(transfer.id).await?.as_ref(),
            Some(&transfer),
            "{backend:?}"
        );
        assert_eq!(
            count(&w.db, "SELECT COUNT(*) FROM firings").await?,
            1,
            "{backend:?}"
        );
        assert_eq!(store.transfer(id(99)).await?, None, "{backend:?}");

        // Once, and pending.
        let head = store.audit_head().await?;
        let twice = store
            .create_transfer(&transfer, &audited(Action::ConcernStep))
            .await;
        assert_eq!(
            twice.err(),
            Some(StoreError::Conflict(
                "safeguarding_transfers_pkey".to_owned()
            )),
            "{backend:?}"
        );
        let born_sent = store
            .create_transfer(
                &StoredTransfer {
                    status: TransferStatus::Sent,
                    export: Some(sealed(b"file")),
                    sent_by: Some(w.dsl),
                    sent_at: Some(at(1_800_001_000)),
                    ..pending(&w, 13, w.child, 1_800_001_000)
                },
                &audited(Action::ConcernStep),
            )
            .await;
        assert!(
            matches!(born_sent, Err(StoreError::Other(_))),
            "{backend:?}"
        );
        assert_eq!(store.audit_head().await?, head, "{backend:?}");

        // Tasks raised the way the scheduler raises them.
        let claimed = store
            .claim_firings("test", at(1_800_001_100), at(1_800_001_200), 10)
            .await?;
        assert_eq!(claimed.len(), 1, "{backend:?}");
        let task = |n: u128, rule: Rule, subject: Option<Subject>| NewTask {
            id: TaskId(id(n)),
            rule,
            owner: w.dsl,
            title: "a task".to_owned(),
            subject,
            due_at: None,
        };
        let tasks = [
            task(
                21,
                Rule::SendSafeguardingFile,
                subject("transfer", transfer.id),
            ),
            task(22, Rule::SendSafeguardingFile, subject("transfer", id(98))),
            task(
                23,
                Rule::SendSafeguardingFile,
                subject("concern", transfer.id),
            ),
            task(
                24,
                Rule::ConfirmFileReceived,
                subject("transfer", transfer.id),
            ),
            task(25, Rule::ConfirmFileReceived, subject("transfer", id(98))),
        ];
        assert!(
            store
                .fire(
                    claimed[0].id,
                    &tasks,
                    &[],
                    at(1_800_001_100),
                    &audited(Action::TaskRaised),
                )
                .await?,
            "{backend:?}"
        );

        // Receipt of what has not gone is refused, whatever the version; nothing written.
        let head = store.audit_head().await?;
        for at_version in [Version::FIRST, version(2)?] {
            let early = store
                .record_transfer_received(
                    transfer.id,
                    &sealed(b"receipt"),
                    w.dsl,
                    at_version,
                    at(1_800_001_200),
                    &audited(Action::ConcernStep),
                )
                .await;
            assert_eq!(
                early.err(),
                Some(StoreError::Conflict(
                    "safeguarding_transfers_not_sent".to_owned()
                )),
                "{backend:?}"
            );
        }
        assert_eq!(store.audit_head().await?, head, "{backend:?}");

        // Sent: the file, by whom and when, one version on; the send task closed.
        let sent = store
            .record_transfer_sent(
                transfer.id,
                &sealed(b"file one"),
                w.therapist,
                Version::FIRST,
                at(1_800_001_300),
                &audited(Action::ConcernStep),
            )
            .await?;
        let expected = StoredTransfer {
            status: TransferStatus::Sent,
            export: Some(sealed(b"file one")),
            sent_by: Some(w.therapist),
            sent_at: Some(at(1_800_001_300)),
            version: version(2)?,
            updated_at: at(1_800_001_300),
            ..transfer.clone()
        };
        assert_eq!(sent, expected, "{backend:?}");
        assert_eq!(store.audit_head().await?.seq, head.seq + 1, "{backend:?}");
        assert_eq!(store.transfer(transfer.id).await?.as_ref(), Some(&expected));
        let send_task = store
            .task(TaskId(id(21)))
            .await?
            .ok_or_else(|| anyhow::anyhow!("the send task is gone"))?;
        assert_eq!(
            (send_task.done_at, send_task.done_by, send_task.version),
            (Some(at(1_800_001_300)), Some(w.therapist), version(2)?),
            "{backend:?}"
        );
        for n in [22, 23, 24, 25] {
            assert!(open(store, n).await?, "{backend:?} task {n}");
        }

        // A stale send, or one of no such transfer, writes nothing.
        let head = store.audit_head().await?;
        let stale = store
            .record_transfer_sent(
                transfer.id,
                &sealed(b"lost"),
                w.dsl,
                Version::FIRST,
                at(1_800_001_400),
                &audited(Action::ConcernStep),
            )
            .await;
        assert_eq!(
            stale.err(),
            Some(StoreError::Stale {
                current: version(2)?
            }),
            "{backend:?}"
        );
        for unknown in [
            store
                .record_transfer_sent(
                    id(99),
                    &sealed(b"lost"),
                    w.dsl,
                    Version::FIRST,
                    at(1_800_001_400),
                    &audited(Action::ConcernStep),
                )
                .await,
            store
                .record_transfer_received(
                    id(99),
                    &sealed(b"lost"),
                    w.dsl,
                    Version::FIRST,
                    at(1_800_001_400),
                    &audited(Action::ConcernStep),
                )
                .await,
        ] {
            assert_eq!(unknown.err(), Some(StoreError::NotFound), "{backend:?}");
        }
        assert_eq!(store.audit_head().await?, head, "{backend:?}");
        assert_eq!(store.transfer(transfer.id).await?.as_ref(), Some(&expected));

        // Sent again, with a new file: the task done already keeps who did it, and when.
        let resent = store
            .record_transfer_sent(
                transfer.id,
                &sealed(b"file two"),
                w.dsl,
                version(2)?,
                at(1_800_001_500),
                &audited(Action::ConcernStep),
            )
            .await?;
        let expected = StoredTransfer {
            export: Some(sealed(b"file two")),
            sent_by: Some(w.dsl),
            sent_at: Some(at(1_800_001_500)),
            version: version(3)?,
            updated_at: at(1_800_001_500),
            ..expected
        };
        assert_eq!(resent, expected, "{backend:?}");
        assert_eq!(store.task(TaskId(id(21))).await?, Some(send_task));

        // Receipt at a stale version writes nothing; at the current one it is recorded and
        // closes the confirmation task.
        let head = store.audit_head().await?;
        let stale = store
            .record_transfer_received(
                transfer.id,
                &sealed(b"lost"),
                w.dsl,
                version(2)?,
                at(1_800_001_600),
                &audited(Action::ConcernStep),
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
        let received = store
            .record_transfer_received(
                transfer.id,
                &sealed(b"receipt"),
                w.dsl,
                version(3)?,
                at(1_800_001_700),
                &audited(Action::ConcernStep),
            )
            .await?;
        let expected = StoredTransfer {
            status: TransferStatus::Received,
            receipt: Some(sealed(b"receipt")),
            received_by: Some(w.dsl),
            received_at: Some(at(1_800_001_700)),
            version: version(4)?,
            updated_at: at(1_800_001_700),
            ..expected
        };
        assert_eq!(received, expected, "{backend:?}");
        assert_eq!(store.audit_head().await?.seq, head.seq + 1, "{backend:?}");
        let confirm_task = store
            .task(TaskId(id(24)))
            .await?
            .ok_or_else(|| anyhow::anyhow!("the confirmation task is gone"))?;
        assert_eq!(
            (confirm_task.done_at, confirm_task.done_by),
            (Some(at(1_800_001_700)), Some(w.dsl)),
            "{backend:?}"
        );
        for n in [22, 23, 25] {
            assert!(open(store, n).await?, "{backend:?} task {n}");
        }

        // Received is final: sent again, or received again, at any version, is refused and
        // writes nothing.
        let head = store.audit_head().await?;
        for at_version in [version(3)?, version(4)?] {
            let again = store
                .record_transfer_sent(
                    transfer.id,
                    &sealed(b"file three"),
                    w.dsl,
                    at_version,
                    at(1_800_001_800),
                    &audited(Action::ConcernStep),
                )
                .await;
            assert_eq!(
                again.err(),
                Some(StoreError::Conflict(
                    "safeguarding_transfers_received".to_owned()
                )),
                "{backend:?}"
            );
            let twice = store
                .record_transfer_received(
                    transfer.id,
                    &sealed(b"receipt two"),
                    w.dsl,
                    at_version,
                    at(1_800_001_800),
                    &audited(Action::ConcernStep),
                )
                .await;
            assert_eq!(
                twice.err(),
                Some(StoreError::Conflict(
                    "safeguarding_transfers_not_sent".to_owned()
                )),
                "{backend:?}"
            );
        }
        assert_eq!(store.audit_head().await?, head, "{backend:?}");
        assert_eq!(store.transfer(transfer.id).await?, Some(expected));
        w.opened.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn a_childs_transfers_are_listed_newest_first() -> anyhow::Result<()> {
    for backend in backends() {
        let w = world(backend).await?;
        let store = w.store.as_ref();
        let first = pending(&w, 31, w.child, 1_800_001_000);
        let third = pending(&w, 32, w.child, 1_800_003_000);
        let second = StoredTransfer {
            counted_in: "working-days".to_owned(),
            ..pending(&w, 33, w.child, 1_800_002_000)
        };
        let others = pending(&w, 34, w.other_child, 1_800_004_000);
        for t in [&first, &third, &second, &others] {
            store
                .create_transfer(t, &audited(Action::ConcernStep))
                .await?;
        }
        assert_eq!(
            store.transfers_of_child(w.child).await?,
            [third, second, first],
            "{backend:?}"
        );
        assert_eq!(
            store.transfers_of_child(w.other_child).await?,
            [others],
            "{backend:?}"
        );
        assert!(store.transfers_of_child(ChildId(id(199))).await?.is_empty());
        w.opened.close().await;
    }
    Ok(())
}

/// Runs `sql` as the tables' owner, straight at the database: whether it was allowed.
async fn allowed(db: &TestDatabase, sql: &str) -> bool {
    crate::execute_as_owner(db, sql).await.is_ok()
}

#[tokio::test]
async fn the_database_keeps_every_transfer_and_a_received_one_as_it_is() -> anyhow::Result<()> {
    for backend in backends() {
        let w = world(backend).await?;
        let store = w.store.as_ref();
        let blob = match backend {
            Backend::Sqlite => "X'0102'",
            Backend::Postgres => "'\\x0102'::bytea",
        };
        let open_one = pending(&w, 41, w.child, 1_800_001_000);
        let done_one = pending(&w, 42, w.child, 1_800_001_000);
        for t in [&open_one, &done_one] {
            store
                .create_transfer(t, &audited(Action::ConcernStep))
                .await?;
        }
        store
            .record_transfer_sent(
                done_one.id,
                &sealed(b"file"),
                w.dsl,
                Version::FIRST,
                at(1_800_001_100),
                &audited(Action::ConcernStep),
            )
            .await?;
        let done = store
            .record_transfer_received(
                done_one.id,
                &sealed(b"receipt"),
                w.dsl,
                version(2)?,
                at(1_800_001_200),
                &audited(Action::ConcernStep),
            )
            .await?;
        let (unsent, received) = (open_one.id, done_one.id);
        let (child, other, dsl) = (w.child, w.other_child, w.dsl);

        let refused = [
            format!("UPDATE safeguarding_transfers SET receipt = {blob} WHERE id = '{received}'"),
            format!("UPDATE safeguarding_transfers SET updated_at = 0 WHERE id = '{received}'"),
            format!(
                "UPDATE safeguarding_transfers SET status = 'sent', receipt = NULL, \
                 received_by = NULL, received_at = NULL WHERE id = '{received}'"
            ),
            format!("DELETE FROM safeguarding_transfers WHERE id = '{received}'"),
            format!("DELETE FROM safeguarding_transfers WHERE id = '{unsent}'"),
            // A transfer stays the same child's, started by the same person.
            format!("UPDATE safeguarding_transfers SET child_id = '{other}' WHERE id = '{unsent}'"),
            format!("UPDATE safeguarding_transfers SET created_at = 0 WHERE id = '{unsent}'"),
            // What the status says is there, is: and nothing more.
            format!("UPDATE safeguarding_transfers SET status = 'sent' WHERE id = '{unsent}'"),
            format!("UPDATE safeguarding_transfers SET status = 'lost' WHERE id = '{unsent}'"),
            format!("UPDATE safeguarding_transfers SET export = {blob} WHERE id = '{unsent}'"),
            format!("UPDATE safeguarding_transfers SET counted_in = 'weeks' WHERE id = '{unsent}'"),
            format!("UPDATE safeguarding_transfers SET version = 0 WHERE id = '{unsent}'"),
        ];
        for sql in &refused {
            assert!(!allowed(&w.db, sql).await, "{backend:?} allowed: {sql}");
        }
        assert_eq!(store.transfer(unsent).await?, Some(open_one.clone()));
        assert_eq!(store.transfer(received).await?, Some(done));

        // A transfer not yet received may move on.
        let sending = format!(
            "UPDATE safeguarding_transfers SET status = 'sent', export = {blob}, \
             sent_by = '{dsl}', sent_at = 1, version = version + 1 WHERE id = '{unsent}' \
             AND child_id = '{child}'"
        );
        assert!(allowed(&w.db, &sending).await, "{backend:?}: {sending}");
        assert_eq!(
            store.transfer(unsent).await?.map(|t| t.status),
            Some(TransferStatus::Sent),
            "{backend:?}"
        );
        w.opened.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn the_server_role_on_postgresql_never_removes_a_transfer() -> anyhow::Result<()> {
    use sqlx::Connection;
    if !backends().contains(&Backend::Postgres) {
        return Ok(());
    }
    let w = world(Backend::Postgres).await?;
    let transfer = pending(&w, 51, w.child, 1_800_001_000);
    w.store
        .create_transfer(&transfer, &audited(Action::ConcernStep))
        .await?;
    w.opened.close().await;
    let owner = alliance_store_postgres::PostgresStore::open(&w.db.owner_url).await?;
    owner.grant_app_role(alliance_testkit::APP_ROLE).await?;
    owner.close().await;

    let mut app = sqlx::PgConnection::connect(&w.db.app_url).await?;
    for statement in [
        format!(
            "DELETE FROM safeguarding_transfers WHERE id = '{}'",
            transfer.id
        ),
        "TRUNCATE safeguarding_transfers".to_owned(),
    ] {
        let result = sqlx::query(sqlx::AssertSqlSafe(statement.clone()))
            .execute(&mut app)
            .await;
        assert!(result.is_err(), "the server's role could run: {statement}");
    }
    // It reads them, and moves them on.
    for statement in [
        "SELECT COUNT(*) FROM safeguarding_transfers".to_owned(),
        format!(
            "UPDATE safeguarding_transfers SET version = version + 1 WHERE id = '{}'",
            transfer.id
        ),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(statement))
            .execute(&mut app)
            .await?;
    }
    app.close().await?;
    Ok(())
}
