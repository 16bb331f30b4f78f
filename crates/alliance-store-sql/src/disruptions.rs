//! Storage of DisruptionStore (issue 16).

use alliance_service::store::DisruptionStore;

impl_for_both_engines!(DisruptionStore {});
