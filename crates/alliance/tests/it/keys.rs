//! Data keys and the master key: sealing per child and record class, destruction, rotation
//! interrupted and resumed, recovery from the export alone, and no plaintext on disk.

use crate::run_as_owner as owner_run;
use crate::{alliance_binary, execute_as_owner};
use alliance_core::crypto::{KeyOwner, MasterKey, RecordClass, Sealed, SealedAt};
use alliance_service::OsRandom;
use alliance_service::keys::{KeyError, KeyRing, KeyStore, MasterKeys};
use alliance_store_postgres::PostgresStore;
use alliance_store_sqlite::{OpenMode, SqliteStore};
use alliance_testkit::{Backend, TestDatabase, backends, run};
use jiff::Timestamp;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Master keys held in memory, by version, for tests of the key ring.
#[derive(Default)]
struct Masters(Mutex<BTreeMap<u32, Arc<MasterKey>>>);

impl Masters {
    fn with(keys: &[(u32, u8)]) -> Arc<Self> {
        let masters = Self::default();
        for (version, byte) in keys {
            masters.add(*version, *byte);
        }
        Arc::new(masters)
    }

    fn add(&self, version: u32, byte: u8) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(version, Arc::new(MasterKey::from_bytes([byte; 32])));
    }
}

impl MasterKeys for Masters {
    fn current(&self) -> Result<(u32, Arc<MasterKey>), KeyError> {
        let keys = self.0.lock().unwrap_or_else(|p| p.into_inner());
        keys.iter()
            .next_back()
            .map(|(v, k)| (*v, k.clone()))
            .ok_or(KeyError::MasterMissing(1))
    }

    fn version(&self, version: u32) -> Result<Arc<MasterKey>, KeyError> {
        let keys = self.0.lock().unwrap_or_else(|p| p.into_inner());
        keys.get(&version)
            .cloned()
            .ok_or(KeyError::MasterMissing(version))
    }
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

fn child(id: &str, class: RecordClass) -> KeyOwner {
    KeyOwner::Child {
        child: id.to_owned(),
        class,
    }
}

fn at(row: &str) -> SealedAt<'_> {
    SealedAt {
        table: "session_records",
        column: "what_the_child_said",
        row,
    }
}

#[tokio::test]
async fn destroying_a_childs_safeguarding_key_leaves_their_clinical_records_readable()
-> anyhow::Result<()> {
    for backend in backends() {
        let db = TestDatabase::new(backend).await?;
        let ring = KeyRing::new(
            key_store(&db).await?,
            Masters::with(&[(1, 9)]),
            Arc::new(OsRandom),
        );
        let now = Timestamp::now();
        let clinical = child("child-1", RecordClass::Clinical);
        let safeguarding = child("child-1", RecordClass::Safeguarding);
        let note = ring
            .seal(&clinical, b"drew a house with a big garden", at("r1"), now)
            .await?;
        let concern = ring
            .seal(&safeguarding, b"said she is scared at home", at("r2"), now)
            .await?;
        // A copy of the sealed values, as a backup of the main database would hold them.
        let backup = (note.clone(), concern.clone());

        assert!(ring.destroy(&safeguarding, now).await?, "{backend:?}");
        let opened = ring.open(&clinical, &backup.0, at("r1"), now).await?;
        assert_eq!(opened.as_slice(), b"drew a house with a big garden");
        let gone = ring.open(&safeguarding, &backup.1, at("r2"), now).await;
        assert!(
            matches!(gone, Err(KeyError::Destroyed)),
            "{backend:?}: {gone:?}"
        );
        // And no new key is made in its place.
        let again = ring.seal(&safeguarding, b"anything", at("r3"), now).await;
        assert!(matches!(again, Err(KeyError::Destroyed)));
        // Another child's keys are their own.
        let other = ring
            .seal(
                &child("child-2", RecordClass::Clinical),
                b"x",
                at("r1"),
                now,
            )
            .await?;
        assert!(
            ring.open(&clinical, &other, at("r1"), now).await.is_err(),
            "one child's key opens another's"
        );
    }
    Ok(())
}

#[tokio::test]
async fn a_destroyed_key_does_not_linger_in_the_key_store_file() -> anyhow::Result<()> {
    let db = TestDatabase::new(Backend::Sqlite).await?;
    let store = key_store(&db).await?;
    let ring = KeyRing::new(store.clone(), Masters::with(&[(1, 9)]), Arc::new(OsRandom));
    let owner = child("child-9", RecordClass::Safeguarding);
    ring.seal(&owner, b"x", at("r"), Timestamp::now()).await?;
    let wrapped = store
        .wrapped_key(&owner)
        .await?
        .map(|k| k.wrapped)
        .unwrap_or_default();
    assert_eq!(wrapped.len(), 2 + 4 + 24 + 32 + 16);
    let file = db.data_path().join("keystore.sqlite3");
    let on_disk = |file: &std::path::Path| -> bool {
        let main = std::fs::read(file).unwrap_or_default();
        let wal = std::fs::read(file.with_extension("sqlite3-wal")).unwrap_or_default();
        [main, wal].iter().any(|bytes| {
            bytes
                .windows(wrapped.len())
                .any(|w| w == wrapped.as_slice())
        })
    };
    execute_as_keystore(&file, "PRAGMA wal_checkpoint(TRUNCATE)").await?;
    assert!(
        on_disk(&file),
        "the test looks in the right place: the key is on disk before"
    );
    ring.destroy(&owner, Timestamp::now()).await?;
    execute_as_keystore(&file, "PRAGMA wal_checkpoint(TRUNCATE)").await?;
    assert!(!on_disk(&file), "the destroyed key is still on disk");
    Ok(())
}

async fn execute_as_keystore(file: &std::path::Path, sql: &str) -> anyhow::Result<()> {
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", file.display())).await?;
    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(())
}

#[tokio::test]
async fn a_rotation_interrupted_and_resumed_keeps_every_key_readable() -> anyhow::Result<()> {
    for backend in backends() {
        let db = TestDatabase::new(backend).await?;
        let store = key_store(&db).await?;
        let masters = Masters::with(&[(1, 9)]);
        let ring = KeyRing::new(store.clone(), masters.clone(), Arc::new(OsRandom));
        let now = Timestamp::now();
        let mut sealed: Vec<(KeyOwner, Sealed)> = Vec::new();
        for n in 0..7 {
            let owner = child(&format!("child-{n}"), RecordClass::Clinical);
            sealed.push((
                owner.clone(),
                ring.seal(&owner, format!("note {n}").as_bytes(), at("r"), now)
                    .await?,
            ));
        }
        // The new master key appears; one batch of three moves, then the process stops.
        masters.add(2, 10);
        assert_eq!(ring.rewrap_batch(2, 3).await?, 3);
        // A new process (a new ring) carries on; values open throughout.
        let resumed = KeyRing::new(store.clone(), masters.clone(), Arc::new(OsRandom));
        for (owner, value) in &sealed {
            assert!(
                resumed.open(owner, value, at("r"), now).await.is_ok(),
                "{backend:?}: unreadable mid-rotation"
            );
        }
        let mut total = 3;
        loop {
            let done = resumed.rewrap_batch(2, 3).await?;
            if done == 0 {
                break;
            }
            total += done;
        }
        assert_eq!(total, 7, "{backend:?}");
        // With the old master key gone, everything still opens under the new one.
        let only_new = Masters::with(&[(2, 10)]);
        let after = KeyRing::new(store, only_new, Arc::new(OsRandom));
        for (n, (owner, value)) in sealed.iter().enumerate() {
            let opened = after.open(owner, value, at("r"), now).await?;
            assert_eq!(opened.as_slice(), format!("note {n}").as_bytes());
        }
    }
    Ok(())
}

#[tokio::test]
async fn the_master_key_rotates_in_slices_and_comes_back_from_the_recovery_export()
-> anyhow::Result<()> {
    for backend in backends() {
        let db = TestDatabase::new(backend).await?;
        assert!(owner_run(&db, &["migrate"], "").await?.success);
        let added = owner_run(
            &db,
            &[
                "user",
                "add",
                "--username",
                "ada",
                "--role",
                "administrator",
                "--password-stdin",
            ],
            "lantern orchard pebble\n",
        )
        .await?;
        assert!(added.success, "{}", added.stderr);
        let key_file = db.data_path().join("keys").join("master.key");
        let before = std::fs::read_to_string(&key_file)?;

        // One slice, then stop: both key files are in place, and everything still works.
        let slice = owner_run(
            &db,
            &["key", "rotate", "--batch", "1", "--max-batches", "1"],
            "",
        )
        .await?;
        assert!(slice.success, "{backend:?}: {}", slice.stderr);
        assert!(
            slice.stdout.contains("Stopped after 1 batches"),
            "{}",
            slice.stdout
        );
        assert!(db.data_path().join("keys").join("master.key.next").exists());
        assert!(
            owner_run(&db, &["audit", "verify"], "").await?.success,
            "mid-rotation"
        );
        // Carry on to the end: the new key replaces the old.
        let rest = owner_run(&db, &["key", "rotate"], "").await?;
        assert!(rest.success, "{}", rest.stderr);
        assert!(rest.stdout.contains("Carrying on"), "{}", rest.stdout);
        assert!(!db.data_path().join("keys").join("master.key.next").exists());
        let after = std::fs::read_to_string(&key_file)?;
        assert_ne!(before, after);
        assert!(after.starts_with("alliance-master-key v2 "));
        let verified = owner_run(&db, &["audit", "verify"], "").await?;
        assert!(verified.success, "{backend:?}: {}", verified.stderr);

        // The recovery export brings the key back when the file is lost.
        let export = db.data_path().join("recovery.txt");
        let phrase = "walnut thistle beacon harbour lantern";
        let exported = owner_run(
            &db,
            &[
                "key",
                "export",
                "--recovery",
                "--out",
                &export.display().to_string(),
            ],
            &format!("{phrase}\n"),
        )
        .await?;
        assert!(exported.success, "{}", exported.stderr);
        std::fs::remove_file(&key_file)?;
        let without = owner_run(&db, &["audit", "verify"], "").await?;
        assert!(!without.success);
        let serve = tokio::time::timeout(
            std::time::Duration::from_secs(60),
            owner_run(&db, &["serve", "--bind", "127.0.0.1:0"], ""),
        )
        .await??;
        assert!(!serve.success, "serving without the key");
        assert!(serve.stderr.contains("master key file"), "{}", serve.stderr);
        assert!(
            !key_file.exists(),
            "a new master key was made over a key store that holds keys"
        );
        let wrong = owner_run(
            &db,
            &["key", "import", "--recovery", &export.display().to_string()],
            "not the passphrase at all\n",
        )
        .await?;
        assert!(!wrong.success);
        let imported = owner_run(
            &db,
            &["key", "import", "--recovery", &export.display().to_string()],
            &format!("{phrase}\n"),
        )
        .await?;
        assert!(imported.success, "{}", imported.stderr);
        let verified = owner_run(&db, &["audit", "verify"], "").await?;
        assert!(
            verified.success,
            "{backend:?} after recovery: {}",
            verified.stderr
        );
    }
    Ok(())
}

#[tokio::test]
async fn a_wrong_master_key_stops_start_up_and_changes_nothing() -> anyhow::Result<()> {
    let db = TestDatabase::new(Backend::Sqlite).await?;
    let added = owner_run(
        &db,
        &[
            "user",
            "add",
            "--username",
            "ada",
            "--role",
            "staff",
            "--password-stdin",
        ],
        "lantern orchard pebble\n",
    )
    .await?;
    assert!(added.success, "{}", added.stderr);
    let key_file = db.data_path().join("keys").join("master.key");
    std::fs::write(&key_file, format!("{}\n", "cd".repeat(32)))?;
    let head_before = crate::Opened::new(&db).await?.store().audit_head().await?;
    let out = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        owner_run(&db, &["serve", "--bind", "127.0.0.1:0"], ""),
    )
    .await??;
    assert!(!out.success);
    assert!(
        out.stderr.contains("does not match the key store"),
        "{}",
        out.stderr
    );
    let head_after = crate::Opened::new(&db).await?.store().audit_head().await?;
    assert_eq!(head_before, head_after, "nothing was written");
    Ok(())
}

#[tokio::test]
async fn sealed_fields_leave_no_plaintext_in_the_database_files() -> anyhow::Result<()> {
    use alliance_testkit::{Browser, TestServer};
    let db = TestDatabase::new(Backend::Sqlite).await?;
    let server = TestServer::start(&alliance_binary(), &db, &[]).await?;
    let added = owner_run(
        &db,
        &[
            "user",
            "add",
            "--username",
            "ada",
            "--role",
            "staff",
            "--password-stdin",
        ],
        "lantern orchard pebble\n",
    )
    .await?;
    assert!(added.success);
    let mut browser = Browser::new(&server);
    let page = browser
        .post(
            "/sign-in",
            &[("username", "ada"), ("password", "lantern orchard pebble")],
        )
        .await?;
    assert_eq!(page.status, 303);
    let account = browser.get("/account").await?;
    let csrf = account.input("_csrf").unwrap_or_default();
    // A form kept from an expired session holds what was typed: it must be sealed on disk.
    execute_as_owner(
        &db,
        "UPDATE sessions SET last_seen_at = last_seen_at - 1860000000",
    )
    .await?;
    let marker = "MARKER-7f3a9c-the-child-said-this";
    let kept = browser
        .post(
            "/account/tokens",
            &[("_csrf", &csrf), ("name", marker), ("scope", "read")],
        )
        .await?;
    assert!(
        kept.location()
            .unwrap_or("")
            .starts_with("/sign-in?resume="),
        "{}",
        kept.body
    );
    server.stop().await;
    let file = db.data_path().join("alliance.sqlite3");
    for path in [
        file.clone(),
        file.with_extension("sqlite3-wal"),
        file.with_extension("sqlite3-shm"),
    ] {
        let bytes = std::fs::read(&path).unwrap_or_default();
        assert!(
            !bytes.windows(marker.len()).any(|w| w == marker.as_bytes()),
            "plaintext in {}",
            path.display()
        );
    }
    let _ = run(&alliance_binary(), &["--version"]).await?;
    Ok(())
}
