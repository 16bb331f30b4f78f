//! Storage of rooms described, materials, play kits and room checks (issue 16).
//!
//! Nothing here is confidential or about a child: the description, other uses and checklist
//! are JSON the core checked; a room check names its session by id alone. Each change is a
//! conditional update at the version it was read at (a stale one writes nothing and answers
//! `Stale`), committed with its audit entries. Settling a material (back to good) marks done
//! the open tasks about it, and spends any firing not yet raised, in the same transaction.

use crate::{
    Engine, from_micros, map_error, map_error_named, placeholders, stale_or_missing, to_micros,
};
use alliance_core::Version;
use alliance_core::directory::{RoomId, SiteId};
use alliance_core::room_care::{
    CheckedItem, Condition, Kit, KitDetails, KitId, KitMove, Material, MaterialDetails, MaterialId,
    Place, RoomCheck, RoomDescription,
};
use alliance_core::schedule::BookingId;
use alliance_core::tasks::Rule;
use alliance_service::store::{RoomCareStore, StoredRoomCare};
use alliance_service::{AuditBatch, StoreError};
use sqlx::AssertSqlSafe;
use std::collections::HashMap;

/// The record type a material's tasks name as their subject.
pub const MATERIAL_SUBJECT: &str = "material";

const MATERIAL_COLUMNS: &str = "id, name, category, room_id, kit_id, quantity, condition, \
     version, updated_by, created_at, updated_at";
const KIT_COLUMNS: &str = "id, name, holder_id, site_id, version, created_at, updated_at";

/// SQLite names a broken unique constraint by its columns; PostgreSQL by its name.
const UNIQUE: &[(&str, &str)] = &[
    ("play_kits.name", "play_kits_name_unique"),
    ("room_checks.session_id", "room_checks_pkey"),
    ("room_descriptions.room_id", "room_descriptions_pkey"),
];

fn corrupt(what: &str) -> StoreError {
    StoreError::Other(format!("a stored {what} is not valid"))
}

fn version(raw: i64) -> Result<Version, StoreError> {
    Version::new(raw).map_err(|_| corrupt("version"))
}

fn json<T: ?Sized + ToJson>(value: &T) -> Result<String, StoreError> {
    value.to_json()
}

/// What this module writes as JSON (the store crate names no serde traits of its own).
trait ToJson {
    fn to_json(&self) -> Result<String, StoreError>;
}

impl ToJson for RoomDescription {
    fn to_json(&self) -> Result<String, StoreError> {
        serde_json::to_string(self).map_err(|e| StoreError::Other(e.to_string()))
    }
}

impl ToJson for Vec<String> {
    fn to_json(&self) -> Result<String, StoreError> {
        serde_json::to_string(self).map_err(|e| StoreError::Other(e.to_string()))
    }
}

impl ToJson for Vec<CheckedItem> {
    fn to_json(&self) -> Result<String, StoreError> {
        serde_json::to_string(self).map_err(|e| StoreError::Other(e.to_string()))
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct RoomCareRow {
    pub room_id: String,
    pub description: String,
    pub checklist: Option<String>,
    pub version: i64,
    pub updated_by: String,
    pub updated_at: i64,
}

impl TryFrom<RoomCareRow> for StoredRoomCare {
    type Error = StoreError;

    fn try_from(row: RoomCareRow) -> Result<Self, StoreError> {
        Ok(StoredRoomCare {
            room: RoomId::parse(&row.room_id).map_err(|_| corrupt("room id"))?,
            description: serde_json::from_str::<RoomDescription>(&row.description)
                .map_err(|_| corrupt("room description"))?,
            checklist: row
                .checklist
                .as_deref()
                .map(serde_json::from_str::<Vec<String>>)
                .transpose()
                .map_err(|_| corrupt("room checklist"))?,
            version: version(row.version)?,
            updated_by: crate::rows::user_id(&row.updated_by)?,
            updated_at: from_micros(row.updated_at)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct MaterialRow {
    pub id: String,
    pub name: String,
    pub category: String,
    pub room_id: Option<String>,
    pub kit_id: Option<String>,
    pub quantity: Option<i64>,
    pub condition: String,
    pub version: i64,
    pub updated_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl TryFrom<MaterialRow> for Material {
    type Error = StoreError;

    fn try_from(row: MaterialRow) -> Result<Self, StoreError> {
        let place = match (row.room_id.as_deref(), row.kit_id.as_deref()) {
            (Some(room), None) => Place::Room(RoomId::parse(room).map_err(|_| corrupt("room id"))?),
            (None, Some(kit)) => Place::Kit(KitId::parse(kit).map_err(|_| corrupt("kit id"))?),
            _ => return Err(corrupt("material's place")),
        };
        Ok(Material {
            id: MaterialId::parse(&row.id).map_err(|_| corrupt("material id"))?,
            details: MaterialDetails {
                name: row.name,
                category: row.category,
                place,
                quantity: row
                    .quantity
                    .map(|q| u32::try_from(q).map_err(|_| corrupt("quantity")))
                    .transpose()?,
                condition: Condition::parse(&row.condition).map_err(|_| corrupt("condition"))?,
            },
            version: version(row.version)?,
            updated_by: crate::rows::user_id(&row.updated_by)?,
            created_at: from_micros(row.created_at)?,
            updated_at: from_micros(row.updated_at)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct KitRow {
    pub id: String,
    pub name: String,
    pub holder_id: String,
    pub site_id: Option<String>,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl TryFrom<KitRow> for Kit {
    type Error = StoreError;

    fn try_from(row: KitRow) -> Result<Self, StoreError> {
        Ok(Kit {
            id: KitId::parse(&row.id).map_err(|_| corrupt("kit id"))?,
            details: KitDetails {
                name: row.name,
                holder: crate::rows::user_id(&row.holder_id)?,
            },
            site: row
                .site_id
                .as_deref()
                .map(|s| SiteId::parse(s).map_err(|_| corrupt("site id")))
                .transpose()?,
            version: version(row.version)?,
            created_at: from_micros(row.created_at)?,
            updated_at: from_micros(row.updated_at)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct KitMoveRow {
    pub id: String,
    pub kit_id: String,
    pub site_id: String,
    pub moved_on: String,
    pub moved_by: String,
    pub moved_at: i64,
}

impl TryFrom<KitMoveRow> for KitMove {
    type Error = StoreError;

    fn try_from(row: KitMoveRow) -> Result<Self, StoreError> {
        Ok(KitMove {
            id: uuid::Uuid::parse_str(&row.id).map_err(|_| corrupt("kit move id"))?,
            kit: KitId::parse(&row.kit_id).map_err(|_| corrupt("kit id"))?,
            site: SiteId::parse(&row.site_id).map_err(|_| corrupt("site id"))?,
            moved_on: row.moved_on.parse().map_err(|_| corrupt("date"))?,
            moved_by: crate::rows::user_id(&row.moved_by)?,
            moved_at: from_micros(row.moved_at)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct RoomCheckRow {
    pub session_id: String,
    pub room_id: String,
    pub items: String,
    pub checked_by: String,
    pub checked_at: i64,
}

impl TryFrom<RoomCheckRow> for RoomCheck {
    type Error = StoreError;

    fn try_from(row: RoomCheckRow) -> Result<Self, StoreError> {
        Ok(RoomCheck {
            session: BookingId::parse(&row.session_id).map_err(|_| corrupt("session id"))?,
            room: RoomId::parse(&row.room_id).map_err(|_| corrupt("room id"))?,
            items: serde_json::from_str::<Vec<CheckedItem>>(&row.items)
                .map_err(|_| corrupt("room check"))?,
            checked_by: crate::rows::user_id(&row.checked_by)?,
            checked_at: from_micros(row.checked_at)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct CheckStateRow {
    pub session_id: String,
    pub problems: bool,
}

fn place_columns(place: Place) -> (Option<String>, Option<String>) {
    match place {
        Place::Room(room) => (Some(room.to_string()), None),
        Place::Kit(kit) => (None, Some(kit.to_string())),
    }
}

impl_for_both_engines!(RoomCareStore {
    async fn room_care(&self, room: RoomId) -> Result<Option<StoredRoomCare>, StoreError> {
        let row: Option<RoomCareRow> = sqlx::query_as(
            "SELECT room_id, description, checklist, version, updated_by, updated_at \
             FROM room_descriptions WHERE room_id = $1",
        )
        .bind(room.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?;
        row.map(StoredRoomCare::try_from).transpose()
    }

    async fn put_room_care(
        &self,
        care: &StoredRoomCare,
        expected: Option<Version>,
        audit: &AuditBatch<'_>,
    ) -> Result<StoredRoomCare, StoreError> {
        let description = json(&care.description)?;
        let checklist = care.checklist.as_ref().map(json).transpose()?;
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let written = match expected {
            None => sqlx::query(
                "INSERT INTO room_descriptions (room_id, description, checklist, version, \
                 updated_by, updated_at) VALUES ($1, $2, $3, 1, $4, $5) \
                 ON CONFLICT (room_id) DO NOTHING",
            )
            .bind(care.room.to_string())
            .bind(description)
            .bind(checklist)
            .bind(care.updated_by.to_string())
            .bind(to_micros(care.updated_at))
            .execute(&mut *tx)
            .await
            .map_err(|e| map_error_named(e, UNIQUE))?,
            Some(expected) => sqlx::query(
                "UPDATE room_descriptions SET description = $1, checklist = $2, \
                 version = version + 1, updated_by = $3, updated_at = $4 \
                 WHERE room_id = $5 AND version = $6",
            )
            .bind(description)
            .bind(checklist)
            .bind(care.updated_by.to_string())
            .bind(to_micros(care.updated_at))
            .bind(care.room.to_string())
            .bind(expected.get())
            .execute(&mut *tx)
            .await
            .map_err(map_error)?,
        };
        if <DB as Engine>::rows_affected(&written) == 0 {
            let current: Option<crate::rows::VersionRow> =
                sqlx::query_as("SELECT version FROM room_descriptions WHERE room_id = $1")
                    .bind(care.room.to_string())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(map_error)?;
            return Err(match current {
                Some(row) => stale_or_missing(Some(row.version)),
                None => StoreError::NotFound,
            });
        }
        self.commit_audited(tx, audit).await?;
        self.room_care(care.room).await?.ok_or(StoreError::NotFound)
    }

    async fn materials(&self, place: Option<Place>) -> Result<Vec<Material>, StoreError> {
        let (clause, value) = match place {
            None => ("", None),
            Some(Place::Room(room)) => (" WHERE room_id = $1", Some(room.to_string())),
            Some(Place::Kit(kit)) => (" WHERE kit_id = $1", Some(kit.to_string())),
        };
        let mut query = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {MATERIAL_COLUMNS} FROM materials{clause} ORDER BY name, id"
        )));
        if let Some(value) = value {
            query = query.bind(value);
        }
        let rows: Vec<MaterialRow> = query.fetch_all(&self.pool).await.map_err(map_error)?;
        rows.into_iter().map(Material::try_from).collect()
    }

    async fn material(&self, id: MaterialId) -> Result<Option<Material>, StoreError> {
        let row: Option<MaterialRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {MATERIAL_COLUMNS} FROM materials WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?;
        row.map(Material::try_from).transpose()
    }

    async fn create_material(
        &self,
        material: &Material,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError> {
        let d = &material.details;
        let (room, kit) = place_columns(d.place);
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO materials ({MATERIAL_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $9, $9)"
        )))
        .bind(material.id.to_string())
        .bind(d.name.clone())
        .bind(d.category.clone())
        .bind(room)
        .bind(kit)
        .bind(d.quantity.map(i64::from))
        .bind(d.condition.code().to_owned())
        .bind(material.updated_by.to_string())
        .bind(to_micros(material.created_at))
        .execute(&mut *tx)
        .await
        .map_err(|e| map_error_named(e, UNIQUE))?;
        self.commit_audited(tx, audit).await
    }

    async fn update_material(
        &self,
        material: &Material,
        expected: Version,
        settle: bool,
        audit: &AuditBatch<'_>,
    ) -> Result<Material, StoreError> {
        let d = &material.details;
        let (room, kit) = place_columns(d.place);
        let now = to_micros(material.updated_at);
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let done = sqlx::query(
            "UPDATE materials SET name = $1, category = $2, room_id = $3, kit_id = $4, \
             quantity = $5, condition = $6, version = version + 1, updated_by = $7, \
             updated_at = $8 WHERE id = $9 AND version = $10",
        )
        .bind(d.name.clone())
        .bind(d.category.clone())
        .bind(room)
        .bind(kit)
        .bind(d.quantity.map(i64::from))
        .bind(d.condition.code().to_owned())
        .bind(material.updated_by.to_string())
        .bind(now)
        .bind(material.id.to_string())
        .bind(expected.get())
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        if <DB as Engine>::rows_affected(&done) == 0 {
            let current: Option<crate::rows::VersionRow> =
                sqlx::query_as("SELECT version FROM materials WHERE id = $1")
                    .bind(material.id.to_string())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(map_error)?;
            return Err(stale_or_missing(current.map(|r| r.version)));
        }
        if settle {
            // Only open tasks: one done already keeps who did it, and when.
            sqlx::query(
                "UPDATE tasks SET done_at = $1, done_by = $2, version = version + 1, \
                 updated_at = $1 WHERE done_at IS NULL AND subject_type = $3 \
                 AND subject_id = $4 AND rule = $5",
            )
            .bind(now)
            .bind(material.updated_by.to_string())
            .bind(MATERIAL_SUBJECT.to_owned())
            .bind(material.id.to_string())
            .bind(Rule::MaterialNeedsAttention.code().to_owned())
            .execute(&mut *tx)
            .await
            .map_err(map_error)?;
            // A firing not yet raised is spent without raising anything.
            sqlx::query(
                "UPDATE firings SET fired_at = $1 WHERE fired_at IS NULL AND subject_type = $2 \
                 AND subject_id = $3 AND rule = $4",
            )
            .bind(now)
            .bind(MATERIAL_SUBJECT.to_owned())
            .bind(material.id.to_string())
            .bind(Rule::MaterialNeedsAttention.code().to_owned())
            .execute(&mut *tx)
            .await
            .map_err(map_error)?;
        }
        self.commit_audited(tx, audit).await?;
        self.material(material.id).await?.ok_or(StoreError::NotFound)
    }

    async fn kits(&self) -> Result<Vec<Kit>, StoreError> {
        let rows: Vec<KitRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {KIT_COLUMNS} FROM play_kits ORDER BY name, id"
        )))
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(Kit::try_from).collect()
    }

    async fn kit(&self, id: KitId) -> Result<Option<Kit>, StoreError> {
        let row: Option<KitRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {KIT_COLUMNS} FROM play_kits WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?;
        row.map(Kit::try_from).transpose()
    }

    async fn create_kit(&self, kit: &Kit, audit: &AuditBatch<'_>) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO play_kits ({KIT_COLUMNS}) VALUES ($1, $2, $3, $4, 1, $5, $5)"
        )))
        .bind(kit.id.to_string())
        .bind(kit.details.name.clone())
        .bind(kit.details.holder.to_string())
        .bind(kit.site.map(|s| s.to_string()))
        .bind(to_micros(kit.created_at))
        .execute(&mut *tx)
        .await
        .map_err(|e| map_error_named(e, UNIQUE))?;
        self.commit_audited(tx, audit).await
    }

    async fn update_kit(
        &self,
        kit: &Kit,
        expected: Version,
        audit: &AuditBatch<'_>,
    ) -> Result<Kit, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let done = sqlx::query(
            "UPDATE play_kits SET name = $1, holder_id = $2, version = version + 1, \
             updated_at = $3 WHERE id = $4 AND version = $5",
        )
        .bind(kit.details.name.clone())
        .bind(kit.details.holder.to_string())
        .bind(to_micros(kit.updated_at))
        .bind(kit.id.to_string())
        .bind(expected.get())
        .execute(&mut *tx)
        .await
        .map_err(|e| map_error_named(e, UNIQUE))?;
        if <DB as Engine>::rows_affected(&done) == 0 {
            let current: Option<crate::rows::VersionRow> =
                sqlx::query_as("SELECT version FROM play_kits WHERE id = $1")
                    .bind(kit.id.to_string())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(map_error)?;
            return Err(stale_or_missing(current.map(|r| r.version)));
        }
        self.commit_audited(tx, audit).await?;
        self.kit(kit.id).await?.ok_or(StoreError::NotFound)
    }

    async fn move_kit(
        &self,
        kit_move: &KitMove,
        expected: Version,
        audit: &AuditBatch<'_>,
    ) -> Result<Kit, StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        let done = sqlx::query(
            "UPDATE play_kits SET site_id = $1, version = version + 1, updated_at = $2 \
             WHERE id = $3 AND version = $4",
        )
        .bind(kit_move.site.to_string())
        .bind(to_micros(kit_move.moved_at))
        .bind(kit_move.kit.to_string())
        .bind(expected.get())
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        if <DB as Engine>::rows_affected(&done) == 0 {
            let current: Option<crate::rows::VersionRow> =
                sqlx::query_as("SELECT version FROM play_kits WHERE id = $1")
                    .bind(kit_move.kit.to_string())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(map_error)?;
            return Err(stale_or_missing(current.map(|r| r.version)));
        }
        sqlx::query(
            "INSERT INTO play_kit_moves (id, kit_id, site_id, moved_on, moved_by, moved_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(kit_move.id.to_string())
        .bind(kit_move.kit.to_string())
        .bind(kit_move.site.to_string())
        .bind(kit_move.moved_on.to_string())
        .bind(kit_move.moved_by.to_string())
        .bind(to_micros(kit_move.moved_at))
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        self.commit_audited(tx, audit).await?;
        self.kit(kit_move.kit).await?.ok_or(StoreError::NotFound)
    }

    async fn kit_moves(&self, kit: KitId) -> Result<Vec<KitMove>, StoreError> {
        let rows: Vec<KitMoveRow> = sqlx::query_as(
            "SELECT id, kit_id, site_id, moved_on, moved_by, moved_at FROM play_kit_moves \
             WHERE kit_id = $1 ORDER BY moved_at DESC, id DESC",
        )
        .bind(kit.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(KitMove::try_from).collect()
    }

    async fn room_check(&self, session: BookingId) -> Result<Option<RoomCheck>, StoreError> {
        let row: Option<RoomCheckRow> = sqlx::query_as(
            "SELECT session_id, room_id, items, checked_by, checked_at FROM room_checks \
             WHERE session_id = $1",
        )
        .bind(session.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?;
        row.map(RoomCheck::try_from).transpose()
    }

    async fn record_room_check(
        &self,
        check: &RoomCheck,
        audit: &AuditBatch<'_>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        sqlx::query(
            "INSERT INTO room_checks (session_id, room_id, items, problems, checked_by, \
             checked_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(check.session.to_string())
        .bind(check.room.to_string())
        .bind(json(&check.items)?)
        .bind(check.has_problem())
        .bind(check.checked_by.to_string())
        .bind(to_micros(check.checked_at))
        .execute(&mut *tx)
        .await
        .map_err(|e| map_error_named(e, UNIQUE))?;
        self.commit_audited(tx, audit).await
    }

    async fn room_check_states(
        &self,
        sessions: &[BookingId],
    ) -> Result<HashMap<BookingId, bool>, StoreError> {
        let mut found = HashMap::new();
        // In chunks, so no statement outgrows an engine's limit on bound values.
        for chunk in sessions.chunks(500) {
            let sql = format!(
                "SELECT session_id, problems FROM room_checks WHERE session_id IN ({})",
                placeholders(1, chunk.len())
            );
            let mut query = sqlx::query_as(AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(id.to_string());
            }
            let rows: Vec<CheckStateRow> =
                query.fetch_all(&self.pool).await.map_err(map_error)?;
            for row in rows {
                found.insert(
                    BookingId::parse(&row.session_id).map_err(|_| corrupt("session id"))?,
                    row.problems,
                );
            }
        }
        Ok(found)
    }
});
