//! The tables a tenant check looks at: those of the database's own schemas
//! with the tenant column, their row-level security flags and policies, the
//! rows each tenant has in them, and synthetic rows for a tenant that has
//! none (a value made for every required column from its type).

use serde::Serialize;
use tokio_postgres::Client;

use crate::postgres::{self, ident, literal};

/// A table with the tenant column.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Table {
    /// `invoices`, or `billing.invoices` outside the public schema.
    pub(crate) table: String,
    /// `"schema"."table"`, for SQL.
    #[serde(skip)]
    pub(crate) sql_name: String,
    /// Whether row-level security is enabled.
    pub(crate) rls: bool,
    /// Whether it is forced on the table's owner too.
    pub(crate) forced: bool,
    /// The tenant column's type.
    pub(crate) column_type: String,
    /// Its policies, as `name (command, roles): using … check …`.
    pub(crate) policies: Vec<String>,
}

/// The tables of the database's own schemas, split into those with
/// `column` and the names of those without.
pub(crate) async fn tables(client: &Client, column: &str) -> Result<(Vec<Table>, Vec<String>), String> {
    let sql = format!(
        "SELECT n.nspname, c.relname, c.relrowsecurity::text, c.relforcerowsecurity::text, format_type(a.atttypid, a.atttypmod) \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = {} AND a.attnum > 0 AND NOT a.attisdropped \
         WHERE c.relkind IN ('r', 'p') AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema' ORDER BY 1, 2",
        literal(column)
    );
    let rows = postgres::rows(client, &sql).await.map_err(|e| format!("cannot list the tables: {}", postgres::sql_error(&e, None)))?;
    let mut with = Vec::new();
    let mut without = Vec::new();
    for row in rows {
        let text = |i: usize| row.get(i).cloned().flatten().unwrap_or_default();
        let (schema, name) = (text(0), text(1));
        let shown = if schema == "public" { name.clone() } else { format!("{schema}.{name}") };
        match row.get(4).cloned().flatten() {
            Some(column_type) => {
                let sql_name = format!("{}.{}", ident(&schema), ident(&name));
                let policies = policies(client, &schema, &name).await?;
                with.push(Table { table: shown, sql_name, rls: text(2) == "true", forced: text(3) == "true", column_type, policies });
            }
            None => without.push(shown),
        }
    }
    Ok((with, without))
}

async fn policies(client: &Client, schema: &str, table: &str) -> Result<Vec<String>, String> {
    let sql = format!(
        "SELECT format('%s (%s %s, to %s): using %s check %s', policyname, permissive, cmd, roles::text, COALESCE(qual, '-'), COALESCE(with_check, '-')) \
         FROM pg_policies WHERE schemaname = {} AND tablename = {} ORDER BY policyname",
        literal(schema),
        literal(table)
    );
    let rows = postgres::rows(client, &sql).await.map_err(|e| format!("cannot read the policies of {table}: {}", postgres::sql_error(&e, None)))?;
    Ok(rows.into_iter().filter_map(|r| r.into_iter().next().flatten()).collect())
}

/// A column of a table and what a synthetic row needs for it.
#[derive(Clone, Debug)]
struct Column {
    name: String,
    type_name: String,
    required: bool,
    category: String,
    first_label: Option<String>,
}

async fn columns(client: &Client, table: &Table) -> Result<Vec<Column>, String> {
    let sql = format!(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod), \
         (a.attnotnull AND d.adbin IS NULL AND a.attidentity = '' AND a.attgenerated = '')::text, t.typcategory::text, \
         (SELECT e.enumlabel FROM pg_enum e WHERE e.enumtypid = a.atttypid ORDER BY e.enumsortorder LIMIT 1) \
         FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
         WHERE a.attrelid = {}::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        literal(&table.sql_name)
    );
    let rows = postgres::rows(client, &sql).await.map_err(|e| format!("cannot read the columns of {}: {}", table.table, postgres::sql_error(&e, None)))?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let text = |i: usize| r.get(i).cloned().flatten().unwrap_or_default();
            Column { name: text(0), type_name: text(1), required: text(2) == "true", category: text(3), first_label: r.get(4).cloned().flatten() }
        })
        .collect())
}

/// An SQL value of `column`'s type for a synthetic row, `n` keeping
/// numbers and texts distinct between rows; None for a type with no value
/// to make.
fn synthetic_value(column: &Column, n: u32) -> Option<String> {
    let value = match (column.category.as_str(), column.type_name.as_str()) {
        (_, "uuid") => "gen_random_uuid()".to_owned(),
        (_, "json" | "jsonb") => "'{}'".to_owned(),
        ("S", _) => literal(&format!("probe-{n}")),
        ("N", _) => (20_000 + n % 10_000).to_string(),
        ("B", _) => "false".to_owned(),
        ("D", _) => "now()".to_owned(),
        ("A", _) => "'{}'".to_owned(),
        ("E", _) => literal(column.first_label.as_deref()?),
        _ => return None,
    };
    Some(format!("{value}::{}", column.type_name))
}

/// An INSERT of one row of `tenant` into `table`, or why none can be made.
pub(crate) async fn synthetic_insert(client: &Client, table: &Table, tenant_column: &str, tenant: &str, n: u32) -> Result<String, String> {
    let mut names = vec![ident(tenant_column)];
    let mut values = vec![format!("{}::{}", literal(tenant), table.column_type)];
    for column in columns(client, table).await? {
        if column.name == tenant_column || !column.required {
            continue;
        }
        let value = synthetic_value(&column, n).ok_or_else(|| format!("column {} of type {} needs a value and none can be made for its type", column.name, column.type_name))?;
        names.push(ident(&column.name));
        values.push(value);
    }
    Ok(format!("INSERT INTO {} ({}) VALUES ({})", table.sql_name, names.join(", "), values.join(", ")))
}

/// The rows of `tenant` in `table`, counted with the tenant setting set to
/// it, so a table owner held to forced row-level security counts them too.
pub(crate) async fn count(client: &Client, table: &Table, tenant_column: &str, setting: &str, tenant: &str) -> Result<i64, String> {
    let sql = format!(
        "BEGIN; SELECT set_config({}, {}, true); SELECT count(*) FROM {} WHERE {}::text = {}; COMMIT",
        literal(setting),
        literal(tenant),
        table.sql_name,
        ident(tenant_column),
        literal(tenant)
    );
    let rows = match postgres::rows(client, &sql).await {
        Ok(rows) => rows,
        Err(e) => {
            let _ = client.batch_execute("ROLLBACK").await;
            return Err(format!("cannot count the rows of {}: {}", table.table, postgres::sql_error(&e, None)));
        }
    };
    rows.into_iter().filter(|r| r.len() == 1).filter_map(|r| r.into_iter().next().flatten()).filter_map(|v| v.parse().ok()).next_back().ok_or_else(|| format!("counting the rows of {} returned nothing", table.table))
}

/// Makes sure `tenant` has a row in `table`, inserting a synthetic one
/// when it has none; the reason when it cannot.
pub(crate) async fn ensure_row(client: &Client, table: &Table, tenant_column: &str, setting: &str, tenant: &str, n: u32) -> Result<bool, String> {
    if count(client, table, tenant_column, setting, tenant).await? > 0 {
        return Ok(false);
    }
    let insert = synthetic_insert(client, table, tenant_column, tenant, n).await?;
    let sql = format!("BEGIN; SELECT set_config({}, {}, true); {insert}; COMMIT", literal(setting), literal(tenant));
    if let Err(e) = client.batch_execute(&sql).await {
        let _ = client.batch_execute("ROLLBACK").await;
        return Err(format!("cannot insert a row for tenant {tenant}: {}", postgres::sql_error(&e, None)));
    }
    Ok(true)
}
