//! Data keys: one per child and record class (and one per service purpose), random, wrapped
//! by the master key and kept in the key store, a database of its own with its own backups.
//! Destroying a key makes everything sealed with it unreadable, in every copy of the main
//! database.

use crate::store::StoreError;
use alliance_core::crypto::{KeyOwner, MasterKey, SealError, Sealed, SealedAt, SealingKey};
use alliance_core::random::{Random, random_bytes};
use async_trait::async_trait;
use jiff::Timestamp;
use std::sync::Arc;
use zeroize::Zeroizing;

/// A data key as the key store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKey {
    pub owner: KeyOwner,
    pub key_version: u32,
    /// The master key version it is wrapped under.
    pub master_version: u32,
    /// Empty once destroyed.
    pub wrapped: Vec<u8>,
    pub destroyed: bool,
}

#[async_trait]
pub trait KeyStore: Send + Sync + 'static {
    async fn wrapped_key(&self, owner: &KeyOwner) -> Result<Option<WrappedKey>, StoreError>;

    /// The keys of many owners at once (for a list of children); owners without a key are
    /// left out.
    async fn wrapped_keys(&self, owners: &[KeyOwner]) -> Result<Vec<WrappedKey>, StoreError>;

    /// Stores a new key unless one exists for its owner; returns the one stored (another
    /// process may have won the race).
    async fn insert_key(&self, key: &WrappedKey, now: Timestamp) -> Result<WrappedKey, StoreError>;

    /// Overwrites and marks the key destroyed; false if there was none to destroy.
    async fn destroy_key(&self, owner: &KeyOwner, now: Timestamp) -> Result<bool, StoreError>;

    /// Keys still wrapped under a master key older than `master_version`.
    async fn keys_wrapped_before(
        &self,
        master_version: u32,
        limit: i64,
    ) -> Result<Vec<WrappedKey>, StoreError>;

    /// Replaces a key's wrapping if it is still under `old_master_version`.
    async fn rewrap(
        &self,
        owner: &KeyOwner,
        old_master_version: u32,
        new_master_version: u32,
        wrapped: &[u8],
    ) -> Result<bool, StoreError>;
}

/// Where master keys come from (the key files); looked up by version, so that processes keep
/// working while a rotation moves keys to a new master key.
pub trait MasterKeys: Send + Sync {
    /// The version new data keys are wrapped under (the newest available).
    fn current(&self) -> Result<(u32, Arc<MasterKey>), KeyError>;
    fn version(&self, version: u32) -> Result<Arc<MasterKey>, KeyError>;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("this key has been destroyed: what it sealed can no longer be read")]
    Destroyed,
    #[error("master key version {0} is not available (is the right key file in place?)")]
    MasterMissing(u32),
    #[error("a data key did not unwrap: the master key does not match the key store")]
    WrongMaster,
    #[error("a sealed value did not open: {0}")]
    Seal(SealError),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for KeyError {
    fn from(e: StoreError) -> Self {
        KeyError::Store(e)
    }
}

/// Seals and opens values under their owners' data keys.
#[derive(Clone)]
pub struct KeyRing {
    store: Arc<dyn KeyStore>,
    masters: Arc<dyn MasterKeys>,
    random: Arc<dyn Random>,
}

impl KeyRing {
    pub fn new(
        store: Arc<dyn KeyStore>,
        masters: Arc<dyn MasterKeys>,
        random: Arc<dyn Random>,
    ) -> Self {
        Self {
            store,
            masters,
            random,
        }
    }

    /// The owner's data key, made (and stored, wrapped) on first use.
    pub async fn data_key(&self, owner: &KeyOwner, now: Timestamp) -> Result<SealingKey, KeyError> {
        let stored = match self.store.wrapped_key(owner).await? {
            Some(found) => found,
            None => {
                let (master_version, master) = self.masters.current()?;
                let fresh: Zeroizing<[u8; 32]> = Zeroizing::new(random_bytes(self.random.as_ref()));
                let wrapped = master.wrap(
                    master_version,
                    owner,
                    1,
                    &fresh,
                    random_bytes(self.random.as_ref()),
                );
                self.store
                    .insert_key(
                        &WrappedKey {
                            owner: owner.clone(),
                            key_version: 1,
                            master_version,
                            wrapped,
                            destroyed: false,
                        },
                        now,
                    )
                    .await?
            }
        };
        if stored.destroyed {
            return Err(KeyError::Destroyed);
        }
        let master = self.masters.version(stored.master_version)?;
        master
            .unwrap_key(
                stored.master_version,
                owner,
                stored.key_version,
                &stored.wrapped,
            )
            .map_err(|_| KeyError::WrongMaster)
    }

    /// The data keys of many owners in one round trip to the key store; an owner with no
    /// key yet, or a destroyed one, is left out (what it sealed cannot be opened).
    pub async fn existing_data_keys(
        &self,
        owners: &[KeyOwner],
    ) -> Result<std::collections::HashMap<KeyOwner, SealingKey>, KeyError> {
        let mut keys = std::collections::HashMap::with_capacity(owners.len());
        for stored in self.store.wrapped_keys(owners).await? {
            if stored.destroyed {
                continue;
            }
            let master = self.masters.version(stored.master_version)?;
            let key = master
                .unwrap_key(
                    stored.master_version,
                    &stored.owner,
                    stored.key_version,
                    &stored.wrapped,
                )
                .map_err(|_| KeyError::WrongMaster)?;
            keys.insert(stored.owner, key);
        }
        Ok(keys)
    }

    /// Seals with a key already in hand (from [`KeyRing::existing_data_keys`]).
    pub fn seal_with(&self, key: &SealingKey, plaintext: &[u8], at: SealedAt<'_>) -> Sealed {
        key.seal(plaintext, at, random_bytes(self.random.as_ref()))
    }

    pub async fn seal(
        &self,
        owner: &KeyOwner,
        plaintext: &[u8],
        at: SealedAt<'_>,
        now: Timestamp,
    ) -> Result<Sealed, KeyError> {
        let key = self.data_key(owner, now).await?;
        Ok(key.seal(plaintext, at, random_bytes(self.random.as_ref())))
    }

    pub async fn open(
        &self,
        owner: &KeyOwner,
        sealed: &Sealed,
        at: SealedAt<'_>,
        now: Timestamp,
    ) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let key = self.data_key(owner, now).await?;
        key.open(sealed, at).map_err(KeyError::Seal)
    }

    /// Destroys an owner's key: what it sealed becomes unreadable everywhere.
    pub async fn destroy(&self, owner: &KeyOwner, now: Timestamp) -> Result<bool, KeyError> {
        Ok(self.store.destroy_key(owner, now).await?)
    }

    /// Re-wraps up to `limit` keys still under an older master key with master key
    /// `version`; returns how many were done (0 when the rotation is complete).
    pub async fn rewrap_batch(&self, version: u32, limit: i64) -> Result<usize, KeyError> {
        let new_master = self.masters.version(version)?;
        let batch = self.store.keys_wrapped_before(version, limit).await?;
        let mut done = 0;
        for key in batch {
            let old = self.masters.version(key.master_version)?;
            let data = old
                .unwrap_key(
                    key.master_version,
                    &key.owner,
                    key.key_version,
                    &key.wrapped,
                )
                .map_err(|_| KeyError::WrongMaster)?;
            let wrapped = new_master.wrap(
                version,
                &key.owner,
                key.key_version,
                data.expose_bytes(),
                random_bytes(self.random.as_ref()),
            );
            if self
                .store
                .rewrap(&key.owner, key.master_version, version, &wrapped)
                .await?
            {
                done += 1;
            }
        }
        Ok(done)
    }
}
