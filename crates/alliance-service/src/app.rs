//! The application value every front end (web, command line) calls into.

use crate::store::{Store, StoreError};
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
        Self {
            store,
            clock,
            random,
            keys,
            settings,
        }
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
