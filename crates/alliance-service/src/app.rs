//! The application value every front end (web, command line) calls into.

use crate::store::{AuditBatch, Store, StoreError};
use alliance_core::audit::{ChainKey, Event, Origin};
use alliance_core::auth::{SessionPolicy, ThrottlePolicy};
use alliance_core::crypto::MasterKey;
use alliance_core::random::Random;
use alliance_core::{Clock, ServiceProfile};
use std::sync::Arc;

/// Settings the use-cases follow (service configuration; the policy's defaults otherwise).
#[derive(Debug, Clone, Copy, Default)]
pub struct Settings {
    pub sessions: SessionPolicy,
    pub throttle: ThrottlePolicy,
}

/// Alliance's use-cases over one store, one clock, one source of randomness and the master
/// key. Cheap to clone; holds no state of its own, so any number of processes may serve the
/// same database.
#[derive(Clone)]
pub struct Alliance {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) random: Arc<dyn Random>,
    pub(crate) keys: Arc<MasterKey>,
    pub(crate) chain_key: Arc<ChainKey>,
    pub(crate) settings: Settings,
}

impl Alliance {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        random: Arc<dyn Random>,
        keys: Arc<MasterKey>,
        settings: Settings,
    ) -> Self {
        let chain_key = Arc::new(ChainKey(*keys.mac_key("audit-chain")));
        Self {
            store,
            clock,
            random,
            keys,
            chain_key,
            settings,
        }
    }

    /// The key the audit chain is MACed with.
    pub fn chain_key(&self) -> &ChainKey {
        &self.chain_key
    }

    /// Audit entries for a change, to be written in the change's own transaction.
    pub(crate) fn audit_batch(&self, origin: &Origin, events: Vec<Event>) -> AuditBatch<'_> {
        AuditBatch {
            key: &self.chain_key,
            events,
            origin: origin.clone(),
            at: self.clock.now(),
        }
    }

    /// Appends entries on their own (a refusal, a failed sign-in, a read). The caller answers
    /// only once they are durable.
    pub(crate) async fn record(
        &self,
        origin: &Origin,
        events: Vec<Event>,
    ) -> Result<(), StoreError> {
        self.store
            .append_audit(&self.audit_batch(origin, events))
            .await
            .map(|_| ())
    }

    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The service's public profile (name, nation, whether it is a demo).
    pub async fn service_profile(&self) -> Result<Option<ServiceProfile>, StoreError> {
        self.store.service_profile().await
    }
}
