//! Storage of EmergencyStore (issue 16).

use alliance_service::store::EmergencyStore;

impl_for_both_engines!(EmergencyStore {});
