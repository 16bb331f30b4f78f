//! Sites and rooms: readable by everyone who works here, changed by administrators (policy
//! section 1). Every change is audited; a refusal is audited too.

use crate::app::Alliance;
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::store::StoreError;
use alliance_core::audit::{self, Event};
use alliance_core::directory::{
    Room, RoomDetails, RoomId, RoomInput, Site, SiteDetails, SiteId, SiteInput,
};
use alliance_core::policy::Action;
use alliance_core::{Invalid, Version};

fn event(action: audit::Action, actor: &Actor, record_type: &str, id: String) -> Event {
    Event::new(
        action,
        Some(actor.user.id.to_string()),
        record_type,
        Some(id),
    )
}

impl Alliance {
    /// For the directory pages: may this actor change sites and rooms? A refusal is audited.
    pub async fn ensure_may_manage_directory(&self, actor: &Actor, asked: &str) -> AppResult<()> {
        self.require(actor, Action::ManageDirectory, asked, "site", None)
            .await
    }

    pub async fn list_sites(&self, actor: &Actor) -> AppResult<Vec<Site>> {
        self.require(actor, Action::ReadDirectory, "list sites", "site", None)
            .await?;
        Ok(self.store.sites().await?)
    }

    /// A site and its rooms.
    pub async fn get_site(&self, actor: &Actor, id: SiteId) -> AppResult<(Site, Vec<Room>)> {
        self.require(
            actor,
            Action::ReadDirectory,
            "read site",
            "site",
            Some(id.to_string()),
        )
        .await?;
        let site = self.store.site(id).await?.ok_or(AppError::NotFound)?;
        let rooms = self.store.rooms(Some(id)).await?;
        Ok((site, rooms))
    }

    pub async fn create_site(&self, actor: &Actor, input: &SiteInput) -> AppResult<Site> {
        self.require(actor, Action::ManageDirectory, "create site", "site", None)
            .await?;
        let details = SiteDetails::parse(input)?;
        let id = SiteId(self.new_id());
        let audit = self.audit_batch(
            &actor.origin,
            vec![event(
                audit::Action::SiteCreated,
                actor,
                "site",
                id.to_string(),
            )],
        );
        self.store
            .create_site(id, &details, self.clock.now(), &audit)
            .await
            .map_err(site_name_taken)
    }

    pub async fn update_site(
        &self,
        actor: &Actor,
        id: SiteId,
        input: &SiteInput,
        active: bool,
        expected: Version,
    ) -> AppResult<Site> {
        self.require(
            actor,
            Action::ManageDirectory,
            "update site",
            "site",
            Some(id.to_string()),
        )
        .await?;
        let details = SiteDetails::parse(input)?;
        let audit = self.audit_batch(
            &actor.origin,
            vec![event(
                audit::Action::SiteUpdated,
                actor,
                "site",
                id.to_string(),
            )],
        );
        self.store
            .update_site(id, &details, active, expected, self.clock.now(), &audit)
            .await
            .map_err(site_name_taken)
    }

    /// Rooms of every site, or of one.
    pub async fn list_rooms(&self, actor: &Actor, site: Option<SiteId>) -> AppResult<Vec<Room>> {
        self.require(actor, Action::ReadDirectory, "list rooms", "room", None)
            .await?;
        Ok(self.store.rooms(site).await?)
    }

    pub async fn get_room(&self, actor: &Actor, id: RoomId) -> AppResult<Room> {
        self.require(
            actor,
            Action::ReadDirectory,
            "read room",
            "room",
            Some(id.to_string()),
        )
        .await?;
        self.store.room(id).await?.ok_or(AppError::NotFound)
    }

    pub async fn create_room(
        &self,
        actor: &Actor,
        site: SiteId,
        input: &RoomInput,
    ) -> AppResult<Room> {
        self.require(actor, Action::ManageDirectory, "create room", "room", None)
            .await?;
        let details = RoomDetails::parse(input)?;
        if self.store.site(site).await?.is_none() {
            return Err(AppError::NotFound);
        }
        let id = RoomId(self.new_id());
        let audit = self.audit_batch(
            &actor.origin,
            vec![event(
                audit::Action::RoomCreated,
                actor,
                "room",
                id.to_string(),
            )],
        );
        self.store
            .create_room(id, site, &details, self.clock.now(), &audit)
            .await
            .map_err(room_name_taken)
    }

    pub async fn update_room(
        &self,
        actor: &Actor,
        id: RoomId,
        input: &RoomInput,
        active: bool,
        expected: Version,
    ) -> AppResult<Room> {
        self.require(
            actor,
            Action::ManageDirectory,
            "update room",
            "room",
            Some(id.to_string()),
        )
        .await?;
        let details = RoomDetails::parse(input)?;
        let audit = self.audit_batch(
            &actor.origin,
            vec![event(
                audit::Action::RoomUpdated,
                actor,
                "room",
                id.to_string(),
            )],
        );
        self.store
            .update_room(id, &details, active, expected, self.clock.now(), &audit)
            .await
            .map_err(room_name_taken)
    }
}

fn site_name_taken(err: StoreError) -> AppError {
    match err {
        StoreError::Conflict(_) => {
            Invalid::field("name", "Another site has this name; choose another").into()
        }
        other => other.into(),
    }
}

fn room_name_taken(err: StoreError) -> AppError {
    match err {
        StoreError::Conflict(_) => {
            Invalid::field("name", "This site has a room of this name; choose another").into()
        }
        other => other.into(),
    }
}
