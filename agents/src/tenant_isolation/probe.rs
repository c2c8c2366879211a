//! Cross-tenant attempts as an ordinary role: a scratch role without
//! superuser or BYPASSRLS, granted what an application role has (usage of
//! the schemas, reads and writes on the tables, the sequences) and any
//! `probe_roles`, sets the tenant setting to one tenant and tries to read,
//! update, delete and insert rows of the other. Every attempt runs in a
//! transaction that is rolled back, so each table is probed on the same rows.

use serde::Serialize;
use tokio_postgres::{Client, SimpleQueryMessage};

use super::tables::{self, Table};
use crate::postgres::{self, ident, literal};

/// What one tenant could do to another's rows in one table.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Attempt {
    /// The tenant the setting named.
    pub(crate) viewer: String,
    /// The tenant whose rows were tried.
    pub(crate) other: String,
    /// Rows of `other` it could read.
    pub(crate) read_other: i64,
    /// Rows of its own it could read.
    pub(crate) read_own: i64,
    /// Rows of `other` an UPDATE changed.
    pub(crate) updated_other: u64,
    /// Rows of `other` a DELETE removed.
    pub(crate) deleted_other: u64,
    /// Whether an INSERT of a row for `other` was accepted; None when no
    /// row could be made.
    pub(crate) inserted_other: Option<bool>,
    /// Why the INSERT was refused, or why it could not be tried.
    pub(crate) insert_note: Option<String>,
}

/// The settings the attempts use.
pub(crate) struct Probe<'a> {
    /// The role, `conductor_probe_<hex>`.
    pub(crate) role: &'a str,
    /// The tenant column.
    pub(crate) column: &'a str,
    /// The setting the policies read, such as `app.tenant_id`.
    pub(crate) setting: &'a str,
}

/// Creates the probe role (on the cluster, through `admin`) and grants it
/// the schemas and tables of the scratch database (through `client`).
pub(crate) async fn create_role(admin: &Client, client: &Client, role: &str, member_of: &[String]) -> Result<(), String> {
    let create = format!("CREATE ROLE {r} NOLOGIN NOSUPERUSER NOBYPASSRLS INHERIT; GRANT {r} TO CURRENT_USER", r = ident(role));
    admin.batch_execute(&create).await.map_err(|e| format!("cannot create the probe role {role}: {}; the user needs CREATEROLE", postgres::sql_error(&e, None)))?;
    let schemas = postgres::rows(client, "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'")
        .await
        .map_err(|e| postgres::sql_error(&e, None))?;
    let mut grants = String::new();
    for schema in schemas.into_iter().filter_map(|r| r.into_iter().next().flatten()) {
        let (s, r) = (ident(&schema), ident(role));
        grants.push_str(&format!(
            "GRANT USAGE ON SCHEMA {s} TO {r}; GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {r}; GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {r};"
        ));
    }
    for other in member_of {
        grants.push_str(&format!("GRANT {} TO {};", ident(other), ident(role)));
    }
    client.batch_execute(&grants).await.map_err(|e| format!("cannot grant the probe role its access: {}", postgres::sql_error(&e, None)))
}

/// Drops the probe role; run after the scratch database is gone, so no
/// grant holds it.
pub(crate) async fn drop_role(admin: &Client, role: &str) -> Result<(), String> {
    admin.batch_execute(&format!("DROP ROLE IF EXISTS {}", ident(role))).await.map_err(|e| format!("cannot drop the probe role {role}: {}; drop it by hand", postgres::sql_error(&e, None)))
}

impl Probe<'_> {
    /// The attempts of `viewer` on `other`'s rows of `table`.
    pub(crate) async fn attempt(&self, client: &Client, table: &Table, viewer: &str, other: &str, n: u32) -> Result<Attempt, String> {
        let col = ident(self.column);
        let reads = format!(
            "SELECT count(*) FILTER (WHERE {col}::text = {o}), count(*) FILTER (WHERE {col}::text = {v}) FROM {t}",
            o = literal(other),
            v = literal(viewer),
            t = table.sql_name
        );
        let row = self.as_viewer(client, viewer, &reads).await?.into_iter().find_map(|m| match m {
            SimpleQueryMessage::Row(r) if r.len() == 2 => Some((r.get(0).and_then(|v| v.parse().ok()), r.get(1).and_then(|v| v.parse().ok()))),
            _ => None,
        });
        let (read_other, read_own) = match row {
            Some((Some(o), Some(v))) => (o, v),
            _ => return Err(format!("reading {} as the probe role returned no counts", table.table)),
        };
        let update = format!("UPDATE {} SET {col} = {col} WHERE {col}::text = {}", table.sql_name, literal(other));
        let delete = format!("DELETE FROM {} WHERE {col}::text = {}", table.sql_name, literal(other));
        let updated_other = self.changed(client, viewer, &update).await;
        let deleted_other = self.changed(client, viewer, &delete).await;
        let mut attempt = Attempt { viewer: viewer.to_owned(), other: other.to_owned(), read_other, read_own, updated_other, deleted_other, ..Attempt::default() };
        match tables::synthetic_insert(client, table, self.column, other, n).await {
            Ok(insert) => match self.as_viewer(client, viewer, &insert).await {
                Ok(_) => attempt.inserted_other = Some(true),
                Err(refusal) => {
                    attempt.inserted_other = Some(false);
                    attempt.insert_note = Some(refusal);
                }
            },
            Err(why) => attempt.insert_note = Some(why),
        }
        Ok(attempt)
    }

    /// Rows a statement changed as the viewer; a refusal changed none.
    async fn changed(&self, client: &Client, viewer: &str, sql: &str) -> u64 {
        let messages = self.as_viewer(client, viewer, sql).await.unwrap_or_default();
        messages.iter().filter_map(|m| if let SimpleQueryMessage::CommandComplete(n) = m { Some(*n) } else { None }).next_back().unwrap_or(0)
    }

    /// Runs `sql` as the probe role with the setting naming `viewer`, in a
    /// transaction that is always rolled back.
    async fn as_viewer(&self, client: &Client, viewer: &str, sql: &str) -> Result<Vec<SimpleQueryMessage>, String> {
        let setup = format!("BEGIN; SELECT set_config({}, {}, true); SET LOCAL ROLE {}", literal(self.setting), literal(viewer), ident(self.role));
        let result = match client.batch_execute(&setup).await {
            Ok(()) => client.simple_query(sql).await.map_err(|e| postgres::sql_error(&e, None)),
            Err(e) => Err(postgres::sql_error(&e, None)),
        };
        client.batch_execute("ROLLBACK").await.map_err(|e| postgres::sql_error(&e, None))?;
        result
    }
}
