//! Storage of SiteEmergencyStore (issue 16).

use alliance_service::store::SiteEmergencyStore;

impl_for_both_engines!(SiteEmergencyStore {});
