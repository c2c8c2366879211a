//! The schema of a database as sorted text, one object per line, read from
//! the catalogs of its non-system schemas: schemas, tables with their
//! row-level security flags, columns (type, nullability, default, identity),
//! indexes, constraints, views, sequences, functions, triggers, policies,
//! enum and domain types and extensions. Its SHA-256 is the schema digest;
//! two descriptions differ by the lines one has and the other lacks.
//!
//! Columns are described without their position, so a column dropped and
//! added back counts as restored. Row counts are read separately, since they
//! are data, not schema.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio_postgres::Client;

use crate::postgres;

/// Objects of the catalog that belong to the database's own schemas.
const USER: &str = "n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'";

/// Objects an extension created (they come and go with the extension line).
fn not_extension(oid: &str) -> String {
    format!("NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = {oid} AND d.deptype = 'e')")
}

/// One query per kind of object, each yielding one line per object.
fn queries() -> Vec<String> {
    let ext_class = not_extension("c.oid");
    vec![
        format!("SELECT 'schema ' || n.nspname FROM pg_namespace n WHERE {USER}"),
        format!(
            "SELECT format('table %s.%s kind=%s rls=%s forced=%s', n.nspname, c.relname, c.relkind, c.relrowsecurity, c.relforcerowsecurity) \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'f') AND {USER} AND {ext_class}"
        ),
        format!(
            "SELECT format('column %s.%s.%s %s%s%s%s%s', n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), \
             CASE WHEN a.attnotnull THEN ' not null' ELSE '' END, COALESCE(' default ' || pg_get_expr(d.adbin, d.adrelid), ''), \
             CASE a.attidentity WHEN 'a' THEN ' identity always' WHEN 'd' THEN ' identity by default' ELSE '' END, \
             CASE a.attgenerated WHEN 's' THEN ' generated' ELSE '' END) \
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
             WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND {USER} AND {ext_class}"
        ),
        format!(
            "SELECT format('index %s.%s %s', n.nspname, c.relname, pg_get_indexdef(i.indexrelid)) \
             FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USER} AND {ext_class}"
        ),
        format!(
            "SELECT format('constraint %s.%s %s %s', n.nspname, COALESCE(c.relname, t.typname), con.conname, pg_get_constraintdef(con.oid)) \
             FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace \
             LEFT JOIN pg_class c ON c.oid = con.conrelid LEFT JOIN pg_type t ON t.oid = con.contypid WHERE {USER}"
        ),
        format!(
            "SELECT format('view %s.%s kind=%s %s', n.nspname, c.relname, c.relkind, replace(pg_get_viewdef(c.oid, true), E'\\n', '\\n')) \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('v', 'm') AND {USER} AND {ext_class}"
        ),
        format!(
            "SELECT format('sequence %s.%s %s start=%s increment=%s min=%s max=%s cycle=%s', n.nspname, c.relname, format_type(s.seqtypid, NULL), \
             s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcycle) \
             FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USER} AND {ext_class}"
        ),
        format!(
            "SELECT format('function %s.%s(%s) %s', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), replace(pg_get_functiondef(p.oid), E'\\n', '\\n')) \
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.prokind IN ('f', 'p') AND {USER} AND {}",
            not_extension("p.oid")
        ),
        format!(
            "SELECT format('trigger %s.%s %s', n.nspname, c.relname, pg_get_triggerdef(t.oid)) \
             FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT t.tgisinternal AND {USER}"
        ),
        "SELECT format('policy %s.%s %s %s %s to=%s using=%s check=%s', schemaname, tablename, policyname, permissive, cmd, roles::text, \
         COALESCE(qual, ''), COALESCE(with_check, '')) FROM pg_policies WHERE schemaname NOT LIKE 'pg\\_%' AND schemaname <> 'information_schema'"
            .to_owned(),
        format!(
            "SELECT format('enum %s.%s %s', n.nspname, t.typname, string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)) \
             FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace WHERE {USER} AND {} GROUP BY n.nspname, t.typname",
            not_extension("t.oid")
        ),
        format!(
            "SELECT format('domain %s.%s %s', n.nspname, t.typname, format_type(t.typbasetype, t.typtypmod)) \
             FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.typtype = 'd' AND {USER} AND {}",
            not_extension("t.oid")
        ),
        "SELECT format('extension %s %s', extname, extversion) FROM pg_extension WHERE extname <> 'plpgsql'".to_owned(),
    ]
}

/// A schema as sorted lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Description {
    lines: Vec<String>,
}

/// What one description has that another lacks.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Differences {
    /// Lines only in the later description.
    pub(crate) added: Vec<String>,
    /// Lines only in the earlier description.
    pub(crate) removed: Vec<String>,
}

impl Differences {
    /// Whether the two were the same.
    pub(crate) fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }

    /// The first few differences for a message, each line after the label
    /// of its side: `left behind column public.users.email text`.
    pub(crate) fn summary(&self, added: &str, removed: &str) -> String {
        let mut parts: Vec<String> = self.added.iter().map(|l| format!("{added} {l}")).chain(self.removed.iter().map(|l| format!("{removed} {l}"))).collect();
        let more = parts.len().saturating_sub(3);
        parts.truncate(3);
        if more > 0 {
            parts.push(format!("{more} more"));
        }
        parts.join("; ")
    }
}

impl Description {
    /// Reads the schema of the database `client` is connected to.
    pub(crate) async fn read(client: &Client) -> Result<Self, String> {
        let mut lines = BTreeSet::new();
        for sql in queries() {
            let rows = postgres::rows(client, &sql).await.map_err(|e| format!("cannot read the schema: {}", postgres::sql_error(&e, None)))?;
            lines.extend(rows.into_iter().filter_map(|r| r.into_iter().next().flatten()));
        }
        Ok(Self::from_lines(lines))
    }

    /// A description of the given lines.
    pub(crate) fn from_lines(lines: impl IntoIterator<Item = String>) -> Self {
        let set: BTreeSet<String> = lines.into_iter().collect();
        Self { lines: set.into_iter().collect() }
    }

    /// The lines joined, each ending in a newline.
    pub(crate) fn text(&self) -> String {
        self.lines.iter().map(|l| format!("{l}\n")).collect()
    }

    /// SHA-256 of the text, in hex.
    pub(crate) fn digest(&self) -> String {
        hex::encode(Sha256::digest(self.text().as_bytes()))
    }

    /// What `later` has and lacks compared with this one.
    pub(crate) fn differences(&self, later: &Self) -> Differences {
        let before: BTreeSet<&String> = self.lines.iter().collect();
        let after: BTreeSet<&String> = later.lines.iter().collect();
        Differences { added: after.difference(&before).map(|l| (*l).clone()).collect(), removed: before.difference(&after).map(|l| (*l).clone()).collect() }
    }
}

/// The number of rows of every table in the database's own schemas, by
/// `schema.table`, read in one query.
pub(crate) async fn row_counts(client: &Client) -> Result<BTreeMap<String, i64>, String> {
    let sql = format!(
        "SELECT n.nspname || '.' || c.relname, \
         (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND {USER} AND {}",
        not_extension("c.oid")
    );
    let rows = postgres::rows(client, &sql).await.map_err(|e| format!("cannot count rows: {}", postgres::sql_error(&e, None)))?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let mut r = r.into_iter();
            Some((r.next().flatten()?, r.next().flatten()?.parse().ok()?))
        })
        .collect())
}
