//! The key store's SQL: a `SqlStore` opened on the key-store database (not the main one).

use crate::rows::KeyRow;
use crate::{Engine, map_error, to_micros};
use alliance_core::crypto::{KeyOwner, RecordClass};
use alliance_service::StoreError;
use alliance_service::keys::{KeyStore, WrappedKey};
use jiff::Timestamp;

fn owner_of(owner: &str, class: &str) -> Result<KeyOwner, StoreError> {
    if owner == "service" {
        Ok(KeyOwner::Service {
            purpose: class.to_owned(),
        })
    } else {
        Ok(KeyOwner::Child {
            child: owner.to_owned(),
            class: RecordClass::parse(class).map_err(StoreError::Other)?,
        })
    }
}

impl TryFrom<KeyRow> for WrappedKey {
    type Error = StoreError;

    fn try_from(row: KeyRow) -> Result<Self, StoreError> {
        let version = |v: i64| {
            u32::try_from(v)
                .map_err(|_| StoreError::Other("a key version is out of range".to_owned()))
        };
        Ok(WrappedKey {
            owner: owner_of(&row.owner, &row.class)?,
            key_version: version(row.key_version)?,
            master_version: version(row.master_version)?,
            wrapped: row.wrapped,
            destroyed: row.destroyed_at.is_some(),
        })
    }
}

const COLUMNS: &str =
    "SELECT owner, class, key_version, master_version, wrapped, destroyed_at FROM data_keys";

/// At most this many owners (twice as many bound values) in one statement.
const OWNERS_PER_QUERY: usize = 200;

impl_for_both_engines!(KeyStore {
    async fn wrapped_key(&self, owner: &KeyOwner) -> Result<Option<WrappedKey>, StoreError> {
        let (a, b) = owner.columns();
        let row: Option<KeyRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!("{COLUMNS} WHERE owner = $1 AND class = $2")))
            .bind(a)
            .bind(b)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_error)?;
        row.map(WrappedKey::try_from).transpose()
    }

    async fn wrapped_keys(&self, owners: &[KeyOwner]) -> Result<Vec<WrappedKey>, StoreError> {
        // An owner asked for twice is looked up (and returned) once.
        let mut seen = std::collections::HashSet::new();
        let owners: Vec<&KeyOwner> = owners.iter().filter(|o| seen.insert(*o)).collect();
        let mut keys = Vec::new();
        for chunk in owners.chunks(OWNERS_PER_QUERY) {
            // `(owner, class) IN (($1, $2), ($3, $4), …)`: only placeholders are spliced in.
            let pairs: Vec<String> = (0..chunk.len())
                .map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2))
                .collect();
            let sql = format!("{COLUMNS} WHERE (owner, class) IN ({}) ORDER BY owner, class", pairs.join(", "));
            let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
            for owner in chunk {
                let (a, b) = owner.columns();
                query = query.bind(a).bind(b);
            }
            let rows: Vec<KeyRow> = query.fetch_all(&self.pool).await.map_err(map_error)?;
            for row in rows {
                keys.push(WrappedKey::try_from(row)?);
            }
        }
        Ok(keys)
    }

    async fn insert_key(&self, key: &WrappedKey, now: Timestamp) -> Result<WrappedKey, StoreError> {
        let (a, b) = key.owner.columns();
        sqlx::query(
            "INSERT INTO data_keys (owner, class, key_version, master_version, wrapped, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (owner, class) DO NOTHING",
        )
        .bind(a)
        .bind(b)
        .bind(i64::from(key.key_version))
        .bind(i64::from(key.master_version))
        .bind(key.wrapped.clone())
        .bind(to_micros(now))
        .execute(&self.pool)
        .await
        .map_err(map_error)?;
        self.wrapped_key(&key.owner).await?.ok_or(StoreError::NotFound)
    }

    async fn destroy_key(&self, owner: &KeyOwner, now: Timestamp) -> Result<bool, StoreError> {
        let (a, b) = owner.columns();
        let mut tx = self.pool.begin_with(<DB as Engine>::BEGIN_WRITE).await.map_err(map_error)?;
        // A row for a key that never existed stops one ever being made after destruction.
        sqlx::query(
            "INSERT INTO data_keys (owner, class, key_version, master_version, wrapped, created_at) \
             VALUES ($1, $2, 1, 0, $3, $4) ON CONFLICT (owner, class) DO NOTHING",
        )
        .bind(a.clone())
        .bind(b.clone())
        .bind(Vec::<u8>::new())
        .bind(to_micros(now))
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        let destroyed = sqlx::query(
            "UPDATE data_keys SET wrapped = $1, destroyed_at = $2 \
             WHERE owner = $3 AND class = $4 AND destroyed_at IS NULL",
        )
        .bind(Vec::<u8>::new())
        .bind(to_micros(now))
        .bind(a)
        .bind(b)
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        tx.commit().await.map_err(map_error)?;
        Ok(<DB as Engine>::rows_affected(&destroyed) == 1)
    }

    async fn keys_wrapped_before(&self, master_version: u32, limit: i64) -> Result<Vec<WrappedKey>, StoreError> {
        let rows: Vec<KeyRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{COLUMNS} WHERE master_version < $1 AND destroyed_at IS NULL ORDER BY owner, class LIMIT $2"
        )))
        .bind(i64::from(master_version))
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(WrappedKey::try_from).collect()
    }

    async fn rewrap(
        &self,
        owner: &KeyOwner,
        old_master_version: u32,
        new_master_version: u32,
        wrapped: &[u8],
    ) -> Result<bool, StoreError> {
        let (a, b) = owner.columns();
        let updated = sqlx::query(
            "UPDATE data_keys SET wrapped = $1, master_version = $2 \
             WHERE owner = $3 AND class = $4 AND master_version = $5 AND destroyed_at IS NULL",
        )
        .bind(wrapped.to_vec())
        .bind(i64::from(new_master_version))
        .bind(a)
        .bind(b)
        .bind(i64::from(old_master_version))
        .execute(&self.pool)
        .await
        .map_err(map_error)?;
        Ok(<DB as Engine>::rows_affected(&updated) == 1)
    }
});
