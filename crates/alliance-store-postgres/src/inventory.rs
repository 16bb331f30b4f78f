//! Reads PostgreSQL's catalogue into the engine-neutral [`SchemaInventory`].

use alliance_service::{
    ColumnInventory, ForeignKeyInventory, SchemaInventory, StoreError, TableInventory,
};
use alliance_store_sql::map_error;
use sqlx::PgPool;

pub(crate) async fn read(pool: &PgPool) -> Result<SchemaInventory, StoreError> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
         AND table_name <> '_sqlx_migrations' ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .map_err(map_error)?;
    let mut inventory = SchemaInventory::default();
    for name in tables {
        inventory.tables.push(read_table(pool, name).await?);
    }
    inventory.triggers = sqlx::query_as(
        "SELECT DISTINCT event_object_table::text, trigger_name::text \
         FROM information_schema.triggers WHERE trigger_schema = current_schema() ORDER BY 1, 2",
    )
    .fetch_all(pool)
    .await
    .map_err(map_error)?;
    Ok(inventory)
}

async fn read_table(pool: &PgPool, name: String) -> Result<TableInventory, StoreError> {
    let columns: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT column_name::text, data_type::text, is_nullable::text \
         FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = $1",
    )
    .bind(&name)
    .fetch_all(pool)
    .await
    .map_err(map_error)?;
    let mut table = TableInventory {
        columns: columns
            .into_iter()
            .map(|(column, data_type, nullable)| ColumnInventory {
                name: column,
                kind: canonical_kind(&data_type),
                nullable: nullable == "YES",
            })
            .collect(),
        ..TableInventory::default()
    };
    table.columns.sort();

    type ConstraintRow = (
        String,
        String,
        Vec<String>,
        Option<String>,
        Vec<String>,
        String,
    );
    let constraints: Vec<ConstraintRow> = sqlx::query_as(
        "SELECT con.conname::text, con.contype::text, \
           ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(num, ord) \
                 JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num ORDER BY k.ord), \
           target.relname::text, \
           ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(num, ord) \
                 JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num ORDER BY k.ord), \
           con.confdeltype::text \
         FROM pg_constraint con LEFT JOIN pg_class target ON target.oid = con.confrelid \
         WHERE con.conrelid = ($1::text)::regclass",
    )
    .bind(&name)
    .fetch_all(pool)
    .await
    .map_err(map_error)?;
    for (constraint, kind, columns, target, target_columns, on_delete) in constraints {
        match kind.as_str() {
            "p" => table.primary_key = columns,
            "c" => table.checks.push(constraint),
            "f" => table.foreign_keys.push(ForeignKeyInventory {
                columns,
                target_table: target.unwrap_or_default(),
                target_columns,
                on_delete: on_delete_name(&on_delete).to_owned(),
            }),
            // Unique constraints are read with the indexes that enforce them.
            _ => {}
        }
    }
    table.checks.sort();
    table.foreign_keys.sort();

    let indexes: Vec<(String, bool, bool, Vec<String>)> = sqlx::query_as(
        "SELECT i.relname::text, ix.indisunique, ix.indisprimary, \
           ARRAY(SELECT a.attname::text FROM unnest(ix.indkey::int2[]) WITH ORDINALITY k(num, ord) \
                 JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.num ORDER BY k.ord) \
         FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid \
         WHERE ix.indrelid = ($1::text)::regclass",
    )
    .bind(&name)
    .fetch_all(pool)
    .await
    .map_err(map_error)?;
    for (index, unique, primary, columns) in indexes {
        if primary {
            continue;
        }
        if unique {
            table.unique.push(columns);
        } else {
            table.indexes.push((index, columns));
        }
    }
    table.unique.sort();
    table.indexes.sort();
    table.name = name;
    Ok(table)
}

fn canonical_kind(data_type: &str) -> String {
    match data_type {
        "text" => "text".to_owned(),
        "bigint" => "bigint".to_owned(),
        "boolean" => "boolean".to_owned(),
        "bytea" => "bytes".to_owned(),
        "double precision" => "double".to_owned(),
        other => format!("postgres:{other}"),
    }
}

/// `pg_constraint.confdeltype` in the words SQLite's catalogue uses.
fn on_delete_name(code: &str) -> &'static str {
    match code {
        "c" => "cascade",
        "n" => "set null",
        "d" => "set default",
        "r" => "restrict",
        _ => "no action",
    }
}
