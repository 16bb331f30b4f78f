//! Use-cases: rooms described for the work (issue 16): a room's arrangement and simple
//! labelled layout, what else uses it and when, material categories (service data),
//! materials and their condition, play kits that travel with a peripatetic therapist, the
//! pre-session checklist and its checks, and the session view (the hub of one session).
//!
//! Who may do what is the core's (`alliance_core::room_care`, `policy`, `access`): the
//! directory rule for rooms, materials, kits and checklists (everyone who works here reads,
//! administrators write; a therapist may report a material's condition; a kit's holder moves
//! it), and the session's own rule for its room check (its therapist, or someone who may write
//! its schedule). The session view passes the child's gate: a session whose child the reader
//! may not know answers "not found", and the attempt is audited.
//!
//! Follow-ups: a material whose condition turns to needs cleaning, needs replacing or missing
//! raises a task for the administrators (`Rule::MaterialNeedsAttention`, once per material
//! and condition episode), settled when it is set back to good; a room check with any
//! problem raises one (`Rule::RoomCheckProblem`) naming the room and the date, never the
//! child.

use crate::Actor;
use crate::Alliance;
use crate::demo::DemoError;
use crate::error::{AppError, AppResult};
use crate::store::{NewFiring, StoreError, StoredRoomCare, StoredSession};
use crate::timetables::{ChildShown, SessionState};
use alliance_core::access::{ChildData, case_access, child_access};
use alliance_core::audit::{self, Event};
use alliance_core::directory::{Room, RoomId, Site, SiteId};
use alliance_core::identity::{Role, UserId};
use alliance_core::policy::Action;
use alliance_core::room_care::{
    self as rc, Attention, CheckedItemInput, Condition, DescriptionInput, Kit, KitDetails, KitId,
    KitMove, Material, MaterialDetails, MaterialId, MaterialInput, Place, RoomCheck,
    RoomDescription,
};
use alliance_core::schedule::BookingId;
use alliance_core::tasks::{FiringId, Recipient, Rule, Subject};
use alliance_core::{Invalid, Version};
use jiff::Timestamp;
use jiff::civil::{Date, Time};
use std::collections::HashMap;

/// The settings document of the material categories.
pub const CATEGORIES: &str = "material-categories";
/// The settings document of the service's pre-session checklist.
pub const CHECKLIST: &str = "room-checklist";
/// The record type a material's tasks name (storage settles them by it).
pub const MATERIAL: &str = "material";
/// The record type a room check's problem task names: the room, never the session.
pub const ROOM: &str = "room";

/// A room as the room page shows its care.
#[derive(Debug, Clone)]
pub struct RoomCareView {
    pub room: Room,
    pub site: Site,
    pub description: RoomDescription,
    /// The checklist in use: the room's own, else the service's.
    pub checklist: Vec<String>,
    /// Whether the room has its own checklist.
    pub own_checklist: bool,
    /// The description's version (none stored yet: `None`).
    pub version: Option<Version>,
    pub materials: Vec<Material>,
    pub may_edit: bool,
}

/// A material with where it is, in words.
#[derive(Debug, Clone)]
pub struct MaterialView {
    pub material: Material,
    /// `Willow Room, Oakfield Primary` or `Kit: Blue travel kit`.
    pub place_name: String,
    /// The caller may change its details (an administrator).
    pub may_edit: bool,
    /// The caller may report its condition (a therapist or an administrator).
    pub may_report: bool,
}

/// A play kit with names.
#[derive(Debug, Clone)]
pub struct KitView {
    pub kit: Kit,
    pub holder_name: String,
    pub site_name: Option<String>,
    pub may_move: bool,
    pub may_edit: bool,
}

/// A move of a kit, in words.
#[derive(Debug, Clone)]
pub struct KitMoveView {
    pub kit_move: KitMove,
    pub site_name: String,
    pub by_name: String,
}

/// A kit's page: the kit, its materials and where it has been.
#[derive(Debug, Clone)]
pub struct KitPageView {
    pub kit: KitView,
    pub materials: Vec<Material>,
    pub moves: Vec<KitMoveView>,
}

/// The session view: the hub of one session.
#[derive(Debug, Clone)]
pub struct SessionHub {
    pub session: BookingId,
    pub date: Date,
    pub start: Time,
    pub ends: Time,
    pub minutes: u16,
    pub room: RoomId,
    pub room_name: String,
    pub site: SiteId,
    pub site_name: String,
    pub therapist: UserId,
    pub therapist_name: String,
    /// As the timetables show the child to this reader.
    pub child: ChildShown,
    pub state: SessionState,
    pub check: Option<RoomCheck>,
    pub checked_by_name: Option<String>,
    /// The checklist in use for the room (what the form asks).
    pub checklist: Vec<String>,
    /// The reader may tick the room check (and it is not done, and the session stands).
    pub may_tick: bool,
    /// The reader may write the child's clinical record (the incident link).
    pub may_record_incident: bool,
    /// The reader may open the child's emergency panel.
    pub may_open_emergency_panel: bool,
}

fn event(action: audit::Action, actor: &Actor, record_type: &str, id: String) -> Event {
    Event::new(
        action,
        Some(actor.user.id.to_string()),
        record_type,
        Some(id),
    )
}

fn kit_name_taken(err: StoreError) -> AppError {
    match err {
        StoreError::Conflict(c) if c.contains("play_kits") => {
            Invalid::field("name", "Another kit has this name; choose another").into()
        }
        other => other.into(),
    }
}

impl Alliance {
    // ----- service data: categories and the service's checklist -----

    /// The material categories and their version (`None` while the defaults stand).
    pub async fn material_categories(&self) -> AppResult<(Vec<String>, Option<Version>)> {
        Ok(
            match self
                .settings_document::<Vec<String>>(CATEGORIES, "material categories")
                .await?
            {
                Some((list, version)) => (list, Some(version)),
                None => (rc::default_categories(), None),
            },
        )
    }

    /// Replaces the categories (administrators), one a line. A material keeps the category it
    /// was given.
    pub async fn set_material_categories(
        &self,
        actor: &Actor,
        raw: &str,
        expected: Option<Version>,
    ) -> AppResult<Vec<String>> {
        self.require(
            actor,
            Action::ManageDirectory,
            "set material categories",
            "service",
            None,
        )
        .await?;
        let list = rc::parse_categories(raw)?;
        self.put_settings_document(actor, CATEGORIES, &list, expected)
            .await?;
        Ok(list)
    }

    /// The service's pre-session checklist and its version (`None` while the default stands).
    pub async fn service_checklist(&self) -> AppResult<(Vec<String>, Option<Version>)> {
        Ok(
            match self
                .settings_document::<Vec<String>>(CHECKLIST, "room checklist")
                .await?
            {
                Some((list, version)) => (list, Some(version)),
                None => (rc::default_checklist(), None),
            },
        )
    }

    /// Replaces the service's checklist (administrators), one item a line.
    pub async fn set_service_checklist(
        &self,
        actor: &Actor,
        raw: &str,
        expected: Option<Version>,
    ) -> AppResult<Vec<String>> {
        self.require(
            actor,
            Action::ManageDirectory,
            "set room checklist",
            "service",
            None,
        )
        .await?;
        let list = rc::parse_checklist(raw)?;
        self.put_settings_document(actor, CHECKLIST, &list, expected)
            .await?;
        Ok(list)
    }

    async fn checklist_for(&self, care: Option<&StoredRoomCare>) -> AppResult<Vec<String>> {
        match care.and_then(|c| c.checklist.clone()) {
            Some(own) => Ok(own),
            None => Ok(self.service_checklist().await?.0),
        }
    }

    // ----- a room described -----

    /// A room's description, checklist and materials (everyone who works here).
    pub async fn room_care(&self, actor: &Actor, id: RoomId) -> AppResult<RoomCareView> {
        self.require(
            actor,
            Action::ReadDirectory,
            "read room",
            "room",
            Some(id.to_string()),
        )
        .await?;
        let room = self.store.room(id).await?.ok_or(AppError::NotFound)?;
        let site = self
            .store
            .site(room.site_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let care = self.store.room_care(id).await?;
        let checklist = self.checklist_for(care.as_ref()).await?;
        let materials = self.store.materials(Some(Place::Room(id))).await?;
        Ok(RoomCareView {
            room,
            site,
            own_checklist: care.as_ref().is_some_and(|c| c.checklist.is_some()),
            version: care.as_ref().map(|c| c.version),
            description: care.map(|c| c.description).unwrap_or_default(),
            checklist,
            materials,
            may_edit: alliance_core::policy::decide(&actor.user, Action::ManageDirectory)
                .is_allowed(),
        })
    }

    async fn write_room_care(
        &self,
        actor: &Actor,
        id: RoomId,
        asked: &str,
        action: audit::Action,
        expected: Option<Version>,
        change: impl FnOnce(&mut StoredRoomCare),
    ) -> AppResult<StoredRoomCare> {
        self.require(
            actor,
            Action::ManageDirectory,
            asked,
            "room",
            Some(id.to_string()),
        )
        .await?;
        if self.store.room(id).await?.is_none() {
            return Err(AppError::NotFound);
        }
        let stored = self.store.room_care(id).await?;
        // A stale version is refused by storage; a missing row is written at `None` only.
        if let (Some(stored), None) = (&stored, expected) {
            return Err(AppError::Stale(stored.version));
        }
        let mut care = stored.unwrap_or(StoredRoomCare {
            room: id,
            description: RoomDescription::default(),
            checklist: None,
            version: Version::FIRST,
            updated_by: actor.user.id,
            updated_at: self.clock.now(),
        });
        change(&mut care);
        care.updated_by = actor.user.id;
        care.updated_at = self.clock.now();
        let audit = self.audit_batch(
            &actor.origin,
            vec![event(action, actor, "room", id.to_string())],
        );
        Ok(self.store.put_room_care(&care, expected, &audit).await?)
    }

    /// Describes a room: arrangement, layout, other uses (administrators).
    pub async fn describe_room(
        &self,
        actor: &Actor,
        id: RoomId,
        input: &DescriptionInput,
        expected: Option<Version>,
    ) -> AppResult<StoredRoomCare> {
        // Checked after the rule: a refusal is audited whatever was typed.
        self.require(
            actor,
            Action::ManageDirectory,
            "describe room",
            "room",
            Some(id.to_string()),
        )
        .await?;
        let description = RoomDescription::parse(input)?;
        self.write_room_care(
            actor,
            id,
            "describe room",
            audit::Action::RoomDescribed,
            expected,
            |c| c.description = description,
        )
        .await
    }

    /// Gives a room its own checklist (`Some`, one item a line), or returns it to the
    /// service's (`None`) (administrators).
    pub async fn set_room_checklist(
        &self,
        actor: &Actor,
        id: RoomId,
        raw: Option<&str>,
        expected: Option<Version>,
    ) -> AppResult<StoredRoomCare> {
        self.require(
            actor,
            Action::ManageDirectory,
            "set room checklist",
            "room",
            Some(id.to_string()),
        )
        .await?;
        let list = raw.map(rc::parse_checklist).transpose()?;
        self.write_room_care(
            actor,
            id,
            "set room checklist",
            audit::Action::RoomChecklistSet,
            expected,
            |c| c.checklist = list,
        )
        .await
    }

    // ----- materials -----

    async fn place_names(&self) -> AppResult<HashMap<String, String>> {
        let sites: HashMap<SiteId, String> = self
            .store
            .sites()
            .await?
            .into_iter()
            .map(|s| (s.id, s.details.name))
            .collect();
        let mut names: HashMap<String, String> = self
            .store
            .rooms(None)
            .await?
            .into_iter()
            .map(|r| {
                (
                    Place::Room(r.id).code(),
                    format!(
                        "{}, {}",
                        r.details.name,
                        sites.get(&r.site_id).cloned().unwrap_or_default()
                    ),
                )
            })
            .collect();
        for kit in self.store.kits().await? {
            names.insert(
                Place::Kit(kit.id).code(),
                format!("Play kit: {}", kit.details.name),
            );
        }
        Ok(names)
    }

    fn material_view(
        &self,
        actor: &Actor,
        m: Material,
        names: &HashMap<String, String>,
    ) -> MaterialView {
        MaterialView {
            place_name: names
                .get(&m.details.place.code())
                .cloned()
                .unwrap_or_default(),
            material: m,
            may_edit: alliance_core::policy::decide(&actor.user, Action::ManageDirectory)
                .is_allowed(),
            may_report: rc::may_report_condition(&actor.user).is_allowed(),
        }
    }

    /// Materials (everyone who works here): every one, or one room's or kit's.
    pub async fn list_materials(
        &self,
        actor: &Actor,
        place: Option<Place>,
    ) -> AppResult<Vec<MaterialView>> {
        self.require(
            actor,
            Action::ReadDirectory,
            "list materials",
            MATERIAL,
            None,
        )
        .await?;
        let names = self.place_names().await?;
        Ok(self
            .store
            .materials(place)
            .await?
            .into_iter()
            .map(|m| self.material_view(actor, m, &names))
            .collect())
    }

    pub async fn get_material(&self, actor: &Actor, id: MaterialId) -> AppResult<MaterialView> {
        self.require(
            actor,
            Action::ReadDirectory,
            "read material",
            MATERIAL,
            Some(id.to_string()),
        )
        .await?;
        let m = self.store.material(id).await?.ok_or(AppError::NotFound)?;
        let names = self.place_names().await?;
        Ok(self.material_view(actor, m, &names))
    }

    /// The rooms and kits a material may be kept in: (code, name), by name.
    pub async fn material_places(&self, actor: &Actor) -> AppResult<Vec<(String, String)>> {
        self.require(
            actor,
            Action::ReadDirectory,
            "list materials",
            MATERIAL,
            None,
        )
        .await?;
        let mut places: Vec<(String, String)> = self.place_names().await?.into_iter().collect();
        places.sort_by_cached_key(|(code, name)| (name.to_lowercase(), code.clone()));
        Ok(places)
    }

    async fn check_place(&self, place: Place) -> AppResult<()> {
        let known = match place {
            Place::Room(room) => self.store.room(room).await?.is_some(),
            Place::Kit(kit) => self.store.kit(kit).await?.is_some(),
        };
        if known {
            Ok(())
        } else {
            Err(Invalid::field("place", "Choose a room or a play kit").into())
        }
    }

    /// The task a condition needing attention raises (no child: the material alone).
    fn material_task(
        &self,
        material: &Material,
        place_name: &str,
        condition: Condition,
        version: Version,
    ) -> NewFiring {
        NewFiring {
            id: FiringId(self.new_id()),
            rule: Rule::MaterialNeedsAttention,
            fire_at: self.clock.now(),
            recipient: Recipient::Role(Role::Administrator),
            subject: Some(Subject {
                child: None,
                record_type: MATERIAL.to_owned(),
                record_id: material.id.to_string(),
            }),
            reference: format!(
                "{} ({place_name}): {}",
                material.details.name,
                condition.label().to_lowercase()
            ),
            dedupe_key: format!(
                "{MATERIAL}:{}:{}:{}",
                material.id,
                condition.code(),
                version.get()
            ),
        }
    }

    /// Adds a material (administrators).
    pub async fn add_material(&self, actor: &Actor, input: &MaterialInput) -> AppResult<Material> {
        self.require(
            actor,
            Action::ManageDirectory,
            "add material",
            MATERIAL,
            None,
        )
        .await?;
        let (categories, _) = self.material_categories().await?;
        let details = MaterialDetails::parse(input, &categories)?;
        self.check_place(details.place).await?;
        let now = self.clock.now();
        let material = Material {
            id: MaterialId(self.new_id()),
            details,
            version: Version::FIRST,
            updated_by: actor.user.id,
            created_at: now,
            updated_at: now,
        };
        let mut audit = self.audit_batch(
            &actor.origin,
            vec![
                event(
                    audit::Action::MaterialRecorded,
                    actor,
                    MATERIAL,
                    material.id.to_string(),
                )
                .detail(material.details.condition.code()),
            ],
        );
        if let Attention::Raise(condition) = rc::attention(None, material.details.condition) {
            let names = self.place_names().await?;
            let place = names
                .get(&material.details.place.code())
                .cloned()
                .unwrap_or_default();
            audit
                .follow_ups
                .push(self.material_task(&material, &place, condition, Version::FIRST));
        }
        self.store.create_material(&material, &audit).await?;
        Ok(material)
    }

    async fn save_material(
        &self,
        actor: &Actor,
        before: &Material,
        details: MaterialDetails,
        expected: Version,
    ) -> AppResult<Material> {
        let attention = rc::attention(Some(before.details.condition), details.condition);
        let changed = Material {
            details,
            updated_by: actor.user.id,
            updated_at: self.clock.now(),
            ..before.clone()
        };
        let mut audit = self.audit_batch(
            &actor.origin,
            vec![
                event(
                    audit::Action::MaterialRecorded,
                    actor,
                    MATERIAL,
                    before.id.to_string(),
                )
                .detail(changed.details.condition.code()),
            ],
        );
        if let Attention::Raise(condition) = attention {
            let names = self.place_names().await?;
            let place = names
                .get(&changed.details.place.code())
                .cloned()
                .unwrap_or_default();
            let next = Version::new(expected.get() + 1).map_err(StoreError::Other)?;
            audit
                .follow_ups
                .push(self.material_task(&changed, &place, condition, next));
        }
        Ok(self
            .store
            .update_material(&changed, expected, attention == Attention::Settle, &audit)
            .await?)
    }

    /// Changes a material (administrators).
    pub async fn update_material(
        &self,
        actor: &Actor,
        id: MaterialId,
        input: &MaterialInput,
        expected: Version,
    ) -> AppResult<Material> {
        self.require(
            actor,
            Action::ManageDirectory,
            "update material",
            MATERIAL,
            Some(id.to_string()),
        )
        .await?;
        let before = self.store.material(id).await?.ok_or(AppError::NotFound)?;
        let (mut categories, _) = self.material_categories().await?;
        // A material keeps a category the service has since dropped.
        if !categories.contains(&before.details.category) {
            categories.push(before.details.category.clone());
        }
        let details = MaterialDetails::parse(input, &categories)?;
        self.check_place(details.place).await?;
        self.save_material(actor, &before, details, expected).await
    }

    /// Reports a change in a material's condition (a therapist or an administrator).
    pub async fn report_material_condition(
        &self,
        actor: &Actor,
        id: MaterialId,
        condition: &str,
        expected: Version,
    ) -> AppResult<Material> {
        let decision = rc::may_report_condition(&actor.user);
        if !decision.is_allowed() || !actor.may_write() {
            self.record(
                &actor.origin,
                vec![
                    event(audit::Action::Denied, actor, MATERIAL, id.to_string())
                        .detail("report material condition"),
                ],
            )
            .await?;
            return Err(AppError::Denied(match decision {
                alliance_core::policy::Decision::Deny(why) => why,
                alliance_core::policy::Decision::Allow => "this API token is read-only",
            }));
        }
        let condition = Condition::parse(condition).map_err(|m| Invalid::field("condition", m))?;
        let before = self.store.material(id).await?.ok_or(AppError::NotFound)?;
        let details = MaterialDetails {
            condition,
            ..before.details.clone()
        };
        self.save_material(actor, &before, details, expected).await
    }

    // ----- play kits -----

    async fn kit_view(
        &self,
        actor: &Actor,
        kit: Kit,
        names: &HashMap<UserId, String>,
        sites: &HashMap<SiteId, String>,
    ) -> KitView {
        KitView {
            holder_name: names.get(&kit.details.holder).cloned().unwrap_or_default(),
            site_name: kit.site.and_then(|s| sites.get(&s).cloned()),
            may_move: rc::may_move_kit(&actor.user, kit.details.holder).is_allowed(),
            may_edit: alliance_core::policy::decide(&actor.user, Action::ManageDirectory)
                .is_allowed(),
            kit,
        }
    }

    async fn site_names(&self) -> AppResult<HashMap<SiteId, String>> {
        Ok(self
            .store
            .sites()
            .await?
            .into_iter()
            .map(|s| (s.id, s.details.name))
            .collect())
    }

    /// Every play kit (everyone who works here).
    pub async fn list_kits(&self, actor: &Actor) -> AppResult<Vec<KitView>> {
        self.require(actor, Action::ReadDirectory, "list kits", "kit", None)
            .await?;
        let kits = self.store.kits().await?;
        let holders: Vec<UserId> = kits.iter().map(|k| k.details.holder).collect();
        let names = self.staff_names(&holders).await?;
        let sites = self.site_names().await?;
        let mut out = Vec::with_capacity(kits.len());
        for kit in kits {
            out.push(self.kit_view(actor, kit, &names, &sites).await);
        }
        Ok(out)
    }

    /// A kit, its materials and its moves (everyone who works here).
    pub async fn get_kit(&self, actor: &Actor, id: KitId) -> AppResult<KitPageView> {
        self.require(
            actor,
            Action::ReadDirectory,
            "read kit",
            "kit",
            Some(id.to_string()),
        )
        .await?;
        let kit = self.store.kit(id).await?.ok_or(AppError::NotFound)?;
        let moves = self.store.kit_moves(id).await?;
        let mut people: Vec<UserId> = moves.iter().map(|m| m.moved_by).collect();
        people.push(kit.details.holder);
        let names = self.staff_names(&people).await?;
        let sites = self.site_names().await?;
        let materials = self.store.materials(Some(Place::Kit(id))).await?;
        Ok(KitPageView {
            kit: self.kit_view(actor, kit, &names, &sites).await,
            materials,
            moves: moves
                .into_iter()
                .map(|m| KitMoveView {
                    site_name: sites.get(&m.site).cloned().unwrap_or_default(),
                    by_name: names.get(&m.moved_by).cloned().unwrap_or_default(),
                    kit_move: m,
                })
                .collect(),
        })
    }

    /// The active therapists a kit may be given to: (id, name).
    pub async fn kit_holders(&self, actor: &Actor) -> AppResult<Vec<(UserId, String)>> {
        self.timetable_therapists(actor).await
    }

    async fn check_holder(&self, holder: &str) -> AppResult<UserId> {
        let wrong = || Invalid::field("holder", "Choose the therapist who holds the kit");
        let id = UserId::parse(holder.trim()).map_err(|_| wrong())?;
        match self.store.user(id).await? {
            Some(u) if u.active && u.has_role(Role::Therapist) => Ok(id),
            _ => Err(wrong().into()),
        }
    }

    /// Adds a play kit held by a therapist (administrators).
    pub async fn add_kit(&self, actor: &Actor, name: &str, holder: &str) -> AppResult<Kit> {
        self.require(actor, Action::ManageDirectory, "add kit", "kit", None)
            .await?;
        let name = rc::parse_kit_name(name);
        let holder = self.check_holder(holder).await;
        let (name, holder) = match (name, holder) {
            (Ok(n), Ok(h)) => (n, h),
            (Err(mut a), Err(AppError::Invalid(b))) => {
                a.errors.extend(b.errors);
                return Err(a.into());
            }
            (Err(a), _) => return Err(a.into()),
            (_, Err(b)) => return Err(b),
        };
        let now = self.clock.now();
        let kit = Kit {
            id: KitId(self.new_id()),
            details: KitDetails { name, holder },
            site: None,
            version: Version::FIRST,
            created_at: now,
            updated_at: now,
        };
        let audit = self.audit_batch(
            &actor.origin,
            vec![
                event(audit::Action::KitUpdated, actor, "kit", kit.id.to_string()).detail("added"),
            ],
        );
        self.store
            .create_kit(&kit, &audit)
            .await
            .map_err(kit_name_taken)?;
        Ok(kit)
    }

    /// Renames a kit or gives it to another therapist (administrators).
    pub async fn update_kit(
        &self,
        actor: &Actor,
        id: KitId,
        name: &str,
        holder: &str,
        expected: Version,
    ) -> AppResult<Kit> {
        self.require(
            actor,
            Action::ManageDirectory,
            "update kit",
            "kit",
            Some(id.to_string()),
        )
        .await?;
        let before = self.store.kit(id).await?.ok_or(AppError::NotFound)?;
        let name = rc::parse_kit_name(name)?;
        let holder = self.check_holder(holder).await?;
        let kit = Kit {
            details: KitDetails { name, holder },
            updated_at: self.clock.now(),
            ..before
        };
        let audit = self.audit_batch(
            &actor.origin,
            vec![event(audit::Action::KitUpdated, actor, "kit", id.to_string()).detail("changed")],
        );
        self.store
            .update_kit(&kit, expected, &audit)
            .await
            .map_err(kit_name_taken)
    }

    /// Moves a kit to a site on a day (its holder or an administrator); empty `on`: today.
    pub async fn move_kit(
        &self,
        actor: &Actor,
        id: KitId,
        site: &str,
        on: &str,
        expected: Version,
    ) -> AppResult<Kit> {
        let kit = self.store.kit(id).await?.ok_or(AppError::NotFound)?;
        let decision = rc::may_move_kit(&actor.user, kit.details.holder);
        if !decision.is_allowed() || !actor.may_write() {
            self.record(
                &actor.origin,
                vec![event(audit::Action::Denied, actor, "kit", id.to_string()).detail("move kit")],
            )
            .await?;
            return Err(AppError::Denied(match decision {
                alliance_core::policy::Decision::Deny(why) => why,
                alliance_core::policy::Decision::Allow => "this API token is read-only",
            }));
        }
        let mut v = alliance_core::error::Validator::new();
        let site = v.check(
            "site",
            SiteId::parse(site).map_err(|_| "Choose the site it goes to".to_owned()),
        );
        let moved_on = v.check(
            "moved_on",
            match on.trim() {
                "" => Ok(self.today()),
                raw => alliance_core::error::parse_date(raw),
            },
        );
        v.finish()?;
        let (Some(site), Some(moved_on)) = (site, moved_on) else {
            return Err(Invalid::field("site", "Choose the site it goes to").into());
        };
        if self.store.site(site).await?.is_none() {
            return Err(Invalid::field("site", "Choose the site it goes to").into());
        }
        let kit_move = KitMove {
            id: self.new_id(),
            kit: id,
            site,
            moved_on,
            moved_by: actor.user.id,
            moved_at: self.clock.now(),
        };
        let audit = self.audit_batch(
            &actor.origin,
            vec![event(audit::Action::KitUpdated, actor, "kit", id.to_string()).detail("moved")],
        );
        Ok(self.store.move_kit(&kit_move, expected, &audit).await?)
    }

    // ----- the session view and its room check -----

    /// Whether each of these sessions' room check is done (and found a problem), in one
    /// query. For pages that have already passed the sessions' gate.
    pub async fn room_check_states(
        &self,
        sessions: &[BookingId],
    ) -> AppResult<HashMap<BookingId, rc::CheckState>> {
        let found = self.store.room_check_states(sessions).await?;
        Ok(sessions
            .iter()
            .map(|s| (*s, rc::CheckState::of(found.get(s).copied())))
            .collect())
    }

    /// The session, its child as this reader may see them (through the child's gate: not
    /// found, audited, for a reader who may not know the child), and whether they may write
    /// its schedule.
    async fn session_gate(
        &self,
        actor: &Actor,
        id: BookingId,
        asked: &str,
    ) -> AppResult<(
        StoredSession,
        ChildShown,
        alliance_core::access::Standing,
        bool,
        bool,
    )> {
        let session = self
            .store
            .booked_session(id)
            .await?
            .ok_or(AppError::NotFound)?;
        let (standing, newest) = self.get_child_gate(actor, session.child_id, asked).await?;
        let shown = self
            .children_shown(actor, std::slice::from_ref(&session))
            .await?;
        let Some(shown) = shown.get(&session.child_id) else {
            self.audit_refusal(actor, asked, "session", id.to_string(), session.child_id)
                .await?;
            return Err(AppError::NotFound);
        };
        let child = ChildShown {
            child_id: session.child_id,
            case_id: session.case_id,
            case_number: shown
                .cases
                .get(&session.case_id)
                .cloned()
                .unwrap_or_default(),
            name: shown.name.clone(),
            initials: shown.initials.clone(),
        };
        let case_open = self
            .store
            .case(session.case_id)
            .await?
            .is_some_and(|c| c.case.is_open());
        let may_write_schedule = case_open
            && case_access(
                &actor.user,
                &standing,
                ChildData::Schedule,
                newest == Some(session.case_id),
            )
            .may_write();
        let may_write_clinical = case_open
            && case_access(
                &actor.user,
                &standing,
                ChildData::Clinical,
                newest == Some(session.case_id),
            )
            .may_write();
        Ok((
            session,
            child,
            standing,
            may_write_schedule,
            may_write_clinical,
        ))
    }

    /// The session view (the hub of one session). Reading it is audited, as opening a
    /// record of the child is.
    pub async fn session_hub(&self, actor: &Actor, id: BookingId) -> AppResult<SessionHub> {
        let (session, child, standing, may_write_schedule, may_write_clinical) =
            self.session_gate(actor, id, "read session").await?;
        let b = &session.booking;
        let room = self.store.room(b.room).await?.ok_or(AppError::NotFound)?;
        let site = self
            .store
            .site(room.site_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let care = self.store.room_care(b.room).await?;
        let checklist = self.checklist_for(care.as_ref()).await?;
        let check = self.store.room_check(id).await?;
        let mut people = vec![b.therapist];
        if let Some(c) = &check {
            people.push(c.checked_by);
        }
        let names = self.staff_names(&people).await?;
        let state = SessionState::of(session.attendance.as_ref());
        let may_tick = check.is_none()
            && state != SessionState::Cancelled
            && actor.may_write()
            && rc::may_tick_check(&actor.user, b.therapist, may_write_schedule).is_allowed();
        self.record(
            &actor.origin,
            vec![
                Event::new(
                    audit::Action::ChildRead,
                    Some(actor.user.id.to_string()),
                    "session",
                    Some(id.to_string()),
                )
                .for_child(session.child_id),
            ],
        )
        .await?;
        Ok(SessionHub {
            session: id,
            date: b.date,
            start: b.start,
            ends: b
                .ends_at()
                .to_zoned_datetime(alliance_core::uk::london())
                .time(),
            minutes: b.minutes,
            room: b.room,
            room_name: room.details.name,
            site: site.id,
            site_name: site.details.name,
            therapist: b.therapist,
            therapist_name: names.get(&b.therapist).cloned().unwrap_or_default(),
            child,
            state,
            checked_by_name: check
                .as_ref()
                .and_then(|c| names.get(&c.checked_by).cloned()),
            check,
            checklist,
            may_tick,
            may_record_incident: may_write_clinical,
            may_open_emergency_panel: child_access(
                &actor.user,
                &standing,
                ChildData::EmergencyPanel,
            )
            .may_read(),
        })
    }

    /// Ticks a session's room check: each item of the room's checklist OK or a problem with
    /// a short note. Only the session's therapist or someone who may write its schedule
    /// (refused and audited otherwise). A problem raises one task for the administrators,
    /// naming the room and the date.
    pub async fn record_room_check(
        &self,
        actor: &Actor,
        id: BookingId,
        answers: &[CheckedItemInput],
    ) -> AppResult<RoomCheck> {
        let (session, _child, _standing, may_write_schedule, _) =
            self.session_gate(actor, id, "tick room check").await?;
        let b = &session.booking;
        let decision = rc::may_tick_check(&actor.user, b.therapist, may_write_schedule);
        if !decision.is_allowed() || !actor.may_write() {
            self.audit_refusal(
                actor,
                "tick room check",
                "session",
                id.to_string(),
                session.child_id,
            )
            .await?;
            return Err(AppError::Denied(match decision {
                alliance_core::policy::Decision::Deny(why) => why,
                alliance_core::policy::Decision::Allow => "this API token is read-only",
            }));
        }
        if SessionState::of(session.attendance.as_ref()) == SessionState::Cancelled {
            return Err(AppError::Conflict(
                "the session was cancelled: there is no room to check".to_owned(),
            ));
        }
        let room = self.store.room(b.room).await?.ok_or(AppError::NotFound)?;
        let site = self
            .store
            .site(room.site_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let care = self.store.room_care(b.room).await?;
        let checklist = self.checklist_for(care.as_ref()).await?;
        let items = rc::parse_check(&checklist, answers)?;
        let check = RoomCheck {
            session: id,
            room: b.room,
            items,
            checked_by: actor.user.id,
            checked_at: self.clock.now(),
        };
        // The audit entry names the session and the room; the child only through the
        // session's own record, never in a task.
        let mut audit = self.audit_batch(
            &actor.origin,
            vec![
                event(
                    audit::Action::RoomCheckRecorded,
                    actor,
                    "session",
                    id.to_string(),
                )
                .detail(if check.has_problem() { "problem" } else { "ok" }),
            ],
        );
        if check.has_problem() {
            audit.follow_ups.push(NewFiring {
                id: FiringId(self.new_id()),
                rule: Rule::RoomCheckProblem,
                fire_at: self.clock.now(),
                recipient: Recipient::Role(Role::Administrator),
                subject: Some(Subject {
                    child: None,
                    record_type: ROOM.to_owned(),
                    record_id: b.room.to_string(),
                }),
                reference: format!(
                    "{}, {}, {}",
                    room.details.name,
                    site.details.name,
                    alliance_core::uk::date(b.date)
                ),
                dedupe_key: format!("room-check:{id}"),
            });
        }
        match self.store.record_room_check(&check, &audit).await {
            Ok(()) => Ok(check),
            Err(StoreError::Conflict(_)) => Err(AppError::Conflict(
                "this session's room check is done already".to_owned(),
            )),
            Err(other) => Err(other.into()),
        }
    }

    /// The checklist the session's room uses (for a form that is shown again).
    pub async fn checklist_of_room(&self, room: RoomId) -> AppResult<Vec<String>> {
        let care = self.store.room_care(room).await?;
        self.checklist_for(care.as_ref()).await
    }

    /// The time a check was made, in London.
    pub fn checked_at_text(at: Timestamp) -> String {
        alliance_core::uk::date_time(at)
    }
}

/// The demo service's step for this area (called from `demo::generate`, after the sites,
/// rooms, children and cases exist): each room described (layout, other uses), materials in
/// it (one needing cleaning), a play kit held by the first therapist, and the service's
/// default checklist stated.
pub(crate) async fn demo_fill(
    alliance: &Alliance,
    admin: &Actor,
    therapists: &[Actor],
) -> Result<(), DemoError> {
    demo_steps(alliance, admin, therapists)
        .await
        .map_err(|e| match e {
            AppError::Store(s) => DemoError::Store(s),
            other => DemoError::Generated(format!("room care: {other}")),
        })
}

async fn demo_steps(alliance: &Alliance, admin: &Actor, therapists: &[Actor]) -> AppResult<()> {
    let rooms = alliance.store.rooms(None).await?;
    let (checklist, version) = alliance.service_checklist().await?;
    if version.is_none() {
        alliance
            .set_service_checklist(admin, &checklist.join("\n"), None)
            .await?;
    }
    let layout: [&str; rc::LAYOUT_CELLS] = [
        "door",
        "",
        "",
        "",
        "window",
        "window", //
        "shelves",
        "",
        "play-mat",
        "play-mat",
        "",
        "cushions", //
        "shelves",
        "",
        "play-mat",
        "play-mat",
        "",
        "cushions", //
        "sink",
        "art-table",
        "art-table",
        "",
        "sand-tray",
        "sand-tray",
    ];
    let uses = [
        ("tuesday", "12:00", "13:00", "Lunch club"),
        ("thursday", "15:30", "16:30", "Homework club"),
    ];
    let materials: [(&str, &str, &str, &str); 5] = [
        (
            "Sand tray miniatures",
            "Sand tray and miniatures",
            "120",
            "good",
        ),
        ("Finger paints", "Art and craft", "12", "good"),
        ("Play dough", "Clay and sensory", "6", "needs-cleaning"),
        ("Family puppets", "Puppets and dolls", "8", "good"),
        ("Feelings cards", "Games", "1", "good"),
    ];
    for (n, room) in rooms.iter().enumerate() {
        let input = DescriptionInput {
            arrangement: "Cushions in the quiet corner, the sand tray by the window, paints \
                          on the art table by the sink. The door has a window panel: the \
                          sign covers it during sessions."
                .to_owned(),
            cells: layout.iter().map(|c| (*c).to_owned()).collect(),
            other_uses: uses
                .iter()
                .map(|(d, s, e, w)| rc::OtherUseInput {
                    weekday: (*d).to_owned(),
                    start: (*s).to_owned(),
                    end: (*e).to_owned(),
                    what: (*w).to_owned(),
                })
                .collect(),
        };
        if alliance.store.room_care(room.id).await?.is_none() {
            alliance.describe_room(admin, room.id, &input, None).await?;
        }
        for (i, (name, category, quantity, condition)) in materials.iter().enumerate() {
            // One needing cleaning in the first room; good elsewhere.
            let condition = if n == 0 || *condition == "good" {
                *condition
            } else {
                "good"
            };
            if i > 0 && n > 2 {
                break;
            }
            alliance
                .add_material(
                    admin,
                    &MaterialInput {
                        name: (*name).to_owned(),
                        category: (*category).to_owned(),
                        place: Place::Room(room.id).code(),
                        quantity: (*quantity).to_owned(),
                        condition: condition.to_owned(),
                    },
                )
                .await?;
        }
    }
    if let Some(therapist) = therapists.first()
        && alliance.store.kits().await?.is_empty()
    {
        let kit = alliance
            .add_kit(admin, "Travelling play kit", &therapist.user.id.to_string())
            .await?;
        for (name, category, quantity) in [
            ("Small world figures", "Small world", "30"),
            ("Hand puppets", "Puppets and dolls", "4"),
            ("Travel sand tray", "Sand tray and miniatures", "1"),
        ] {
            alliance
                .add_material(
                    admin,
                    &MaterialInput {
                        name: name.to_owned(),
                        category: category.to_owned(),
                        place: Place::Kit(kit.id).code(),
                        quantity: quantity.to_owned(),
                        condition: "good".to_owned(),
                    },
                )
                .await?;
        }
        let sites = alliance.store.sites().await?;
        if let Some(site) = sites.first() {
            alliance
                .move_kit(therapist, kit.id, &site.id.to_string(), "", kit.version)
                .await?;
        }
    }
    Ok(())
}
