//! The application value every front end (web, command line) calls into.

use crate::store::{Store, StoreError};
use alliance_core::{Clock, ServiceProfile};
use std::sync::Arc;

/// Alliance's use-cases over one store and one clock. Cheap to clone; holds no state of its
/// own, so any number of processes may serve the same database.
#[derive(Clone)]
pub struct Alliance {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl Alliance {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    /// The service's public profile (name, nation, whether it is a demo).
    pub async fn service_profile(&self) -> Result<Option<ServiceProfile>, StoreError> {
        self.store.service_profile().await
    }
}
