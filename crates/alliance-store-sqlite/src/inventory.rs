//! Reads SQLite's catalogue into the engine-neutral [`SchemaInventory`].

use alliance_service::{
    ColumnInventory, ForeignKeyInventory, SchemaInventory, StoreError, TableInventory,
};
use alliance_store_sql::map_error;
use sqlx::SqlitePool;

pub(crate) async fn read(pool: &SqlitePool) -> Result<SchemaInventory, StoreError> {
    let tables: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY name",
    )
    .fetch_all(pool)
    .await
    .map_err(map_error)?;
    let mut inventory = SchemaInventory::default();
    for (name, sql) in tables {
        inventory.tables.push(read_table(pool, name, &sql).await?);
    }
    let mut triggers: Vec<(String, String)> = sqlx::query_as(
        "SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger' ORDER BY tbl_name, name",
    )
    .fetch_all(pool)
    .await
    .map_err(map_error)?;
    triggers.sort();
    inventory.triggers = triggers;
    Ok(inventory)
}

async fn read_table(
    pool: &SqlitePool,
    name: String,
    sql: &str,
) -> Result<TableInventory, StoreError> {
    let columns: Vec<(String, String, bool, i64)> = sqlx::query_as(
        "SELECT name, type, \"notnull\", pk FROM pragma_table_info($1) ORDER BY cid",
    )
    .bind(&name)
    .fetch_all(pool)
    .await
    .map_err(map_error)?;
    let mut primary: Vec<(i64, String)> = columns
        .iter()
        .filter(|c| c.3 > 0)
        .map(|c| (c.3, c.0.clone()))
        .collect();
    primary.sort();
    let mut table = TableInventory {
        primary_key: primary.into_iter().map(|(_, c)| c).collect(),
        columns: columns
            .into_iter()
            .map(|(column, declared, not_null, _)| ColumnInventory {
                name: column,
                kind: canonical_kind(&declared),
                nullable: !not_null,
            })
            .collect(),
        checks: named_checks(sql),
        ..TableInventory::default()
    };
    table.columns.sort();

    let indexes: Vec<(String, bool, String)> =
        sqlx::query_as("SELECT name, \"unique\", origin FROM pragma_index_list($1)")
            .bind(&name)
            .fetch_all(pool)
            .await
            .map_err(map_error)?;
    for (index, unique, origin) in indexes {
        if origin == "pk" {
            continue;
        }
        let columns: Vec<String> =
            sqlx::query_scalar("SELECT name FROM pragma_index_info($1) ORDER BY seqno")
                .bind(&index)
                .fetch_all(pool)
                .await
                .map_err(map_error)?;
        if unique {
            table.unique.push(columns);
        } else {
            table.indexes.push((index, columns));
        }
    }
    table.unique.sort();
    table.indexes.sort();

    let keys: Vec<(i64, String, String, String, String)> = sqlx::query_as(
        "SELECT id, \"table\", \"from\", \"to\", on_delete FROM pragma_foreign_key_list($1) ORDER BY id, seq",
    )
    .bind(&name)
    .fetch_all(pool)
    .await
    .map_err(map_error)?;
    let mut grouped: Vec<(i64, ForeignKeyInventory)> = Vec::new();
    for (id, target, from, to, on_delete) in keys {
        match grouped.last_mut() {
            Some((last, fk)) if *last == id => {
                fk.columns.push(from);
                fk.target_columns.push(to);
            }
            _ => grouped.push((
                id,
                ForeignKeyInventory {
                    columns: vec![from],
                    target_table: target,
                    target_columns: vec![to],
                    on_delete: on_delete.to_lowercase(),
                },
            )),
        }
    }
    table.foreign_keys = grouped.into_iter().map(|(_, fk)| fk).collect();
    table.foreign_keys.sort();
    table.name = name;
    Ok(table)
}

/// Our migrations declare only these types; anything else is reported as itself so the
/// comparison with PostgreSQL fails and names it.
fn canonical_kind(declared: &str) -> String {
    match declared.to_ascii_uppercase().as_str() {
        "TEXT" => "text".to_owned(),
        "BIGINT" => "bigint".to_owned(),
        "BOOLEAN" => "boolean".to_owned(),
        "BLOB" => "bytes".to_owned(),
        "DOUBLE PRECISION" => "double".to_owned(),
        other => format!("sqlite:{other}"),
    }
}

/// The names of `CONSTRAINT name CHECK` clauses in a table's SQL. An unnamed CHECK is reported
/// as `unnamed`, so the comparison fails: every check must be named to be compared.
fn named_checks(sql: &str) -> Vec<String> {
    let tokens: Vec<String> = sql
        .split(|c: char| c.is_whitespace() || c == '(' || c == ',')
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect();
    let mut names = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        if token.eq_ignore_ascii_case("CHECK") {
            let named = i >= 2 && tokens[i - 2].eq_ignore_ascii_case("CONSTRAINT");
            names.push(if named {
                tokens[i - 1].clone()
            } else {
                "unnamed".to_owned()
            });
        }
    }
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_are_found_by_name_and_unnamed_ones_stand_out() {
        let sql = "CREATE TABLE t (a BIGINT CONSTRAINT t_a CHECK (a > 0), b TEXT CHECK(b <> ''))";
        assert_eq!(named_checks(sql), ["t_a", "unnamed"]);
    }
}
