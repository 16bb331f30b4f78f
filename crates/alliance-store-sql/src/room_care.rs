//! Storage of RoomCareStore (issue 16).

use alliance_service::store::RoomCareStore;

impl_for_both_engines!(RoomCareStore {});
