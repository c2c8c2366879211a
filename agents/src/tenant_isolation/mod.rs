//! The `tenant_isolation` kind: proves on a real PostgreSQL that row-level
//! security keeps tenants apart, or (`mode = "purge"`) that a tenant purge
//! removes one tenant's rows and no other's.
//!
//! A scratch database is built from the repository: the ups of
//! `migrations_dir` (see the `migrations` kind), then the `schema` SQL files,
//! then the `seed` files. Every table of its own schemas with the tenant
//! column (`tenant_column`, default `tenant_id`) is in scope; the others are
//! listed as out of scope. Two tenants are probed: `tenants` when set, else
//! the first two tenant values of the seed data, else two generated ones (UUIDs,
//! or numbers for a numeric column). A tenant with no row in a table gets a
//! synthetic one (a value for every required column from its type); when
//! none can be made the table is `not-probed`, which fails.
//!
//! Isolation: each table must have row-level security enabled and forced.
//! A scratch role without superuser or BYPASSRLS, granted the tables (and
//! `probe_roles`, the roles the policies are written for), sets the tenant
//! setting (`tenant_setting`, default `app.tenant_id`) to one tenant and
//! tries to read, update, delete and insert the other's rows: each must be
//! refused, and each tenant must see its own rows (else the probe proves
//! nothing).
//!
//! Purge: the `purge` SQL file runs with `:'tenant'` replaced by the first
//! tenant as a string literal (as `psql -v tenant=…` would); afterwards no
//! row of that tenant may remain and every other tenant's count must be
//! unchanged.
//!
//! The scratch database and role are dropped afterwards, even when a step
//! fails; the facts say if a drop did not succeed.

mod probe;
mod tables;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Value, json};
use tokio_postgres::Client;

use crate::migrations::{self, Folder, Script};
use crate::postgres::{self, DatabaseUrl, Scratch, ident, literal};
use crate::{Agent, AgentOutcome, AgentTask, Verdict};
use probe::Probe;
use tables::Table;

/// The placeholder a purge file names its tenant with.
const TENANT_PLACEHOLDER: &str = ":'tenant'";

/// Probes row-level security, or a tenant purge.
pub struct TenantIsolationAgent;

#[async_trait::async_trait]
impl Agent for TenantIsolationAgent {
    fn kind(&self) -> &'static str {
        "tenant_isolation"
    }

    async fn run(&self, task: &AgentTask) -> AgentOutcome {
        match check(task).await {
            Ok(outcome) | Err(outcome) => outcome,
        }
    }
}

/// A finding with a stable code, naming its table.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct Problem {
    /// Such as `rls-disabled` or `cross-tenant-read`.
    pub(crate) code: &'static str,
    /// The table, such as `invoices`.
    pub(crate) table: String,
    /// What was found and what was expected.
    pub(crate) message: String,
}

impl Problem {
    fn new(code: &'static str, table: &Table, message: String) -> Self {
        Self { code, table: table.table.clone(), message: format!("table {}: {message}", table.table) }
    }
}

/// The settings, checked.
struct Settings {
    url: DatabaseUrl,
    purge: Option<(String, String)>,
    folder: Option<Folder>,
    schema: Vec<Script>,
    seed: Vec<Script>,
    column: String,
    setting: String,
    tenants: Option<Vec<String>>,
    probe_roles: Vec<String>,
}

fn settings(task: &AgentTask) -> Result<Settings, AgentOutcome> {
    let url = DatabaseUrl::from_task(task)?;
    let default_mode = if task.settings.contains_key("purge") { "purge" } else { "isolation" };
    let purge = match task.choice_setting("mode", &["isolation", "purge"], default_mode)? {
        "purge" => Some(purge_file(task)?),
        _ => None,
    };
    let folder = if task.settings.contains_key("migrations_dir") { Some(Folder::from_task(task, "migrations_dir")?) } else { None };
    let schema = migrations::scripts(task, "schema")?;
    if folder.is_none() && schema.is_empty() {
        return Err(AgentOutcome::missing_input(format!("no schema to probe; set migrations_dir or schema (SQL files) under [agents.\"{}\"]", task.agent)));
    }
    let text = |key: &str, default: &str| -> Result<String, AgentOutcome> {
        if task.settings.contains_key(key) { task.text_setting(key).map(str::to_owned) } else { Ok(default.to_owned()) }
    };
    Ok(Settings {
        url,
        purge,
        folder,
        schema,
        seed: migrations::scripts(task, "seed")?,
        column: text("tenant_column", "tenant_id")?,
        setting: text("tenant_setting", "app.tenant_id")?,
        tenants: tenants_setting(task)?,
        probe_roles: if task.settings.contains_key("probe_roles") { task.paths_setting("probe_roles")? } else { Vec::new() },
    })
}

/// The `purge` file as configured and its text, which must name its tenant.
fn purge_file(task: &AgentTask) -> Result<(String, String), AgentOutcome> {
    let shown = task.text_setting("purge").map_err(|_| AgentOutcome::missing_input(format!("mode \"purge\" needs purge, an SQL file that deletes the tenant {TENANT_PLACEHOLDER}; set it under [agents.\"{}\"]", task.agent)))?;
    let sql = std::fs::read_to_string(task.resolve(shown)).map_err(|e| AgentOutcome::missing_input(format!("the purge file {shown} cannot be read: {e}")))?;
    if !sql.contains(TENANT_PLACEHOLDER) {
        return Err(AgentOutcome::missing_input(format!("the purge file {shown} never names its tenant; write {TENANT_PLACEHOLDER} where the tenant id goes")));
    }
    Ok((shown.to_owned(), sql))
}

/// `tenants`: two different ids, as strings or integers.
fn tenants_setting(task: &AgentTask) -> Result<Option<Vec<String>>, AgentOutcome> {
    let Some(value) = task.settings.get("tenants") else { return Ok(None) };
    let ids: Option<Vec<String>> = value.as_array().map(|items| items.iter().filter_map(|i| i.as_str().map(str::to_owned).or_else(|| i.as_integer().map(|n| n.to_string()))).collect());
    match ids {
        Some(ids) if ids.len() == 2 && ids[0] != ids[1] && value.as_array().is_some_and(|a| a.len() == 2) => Ok(Some(ids)),
        _ => Err(AgentOutcome::missing_input(format!("'tenants' of [agents.\"{}\"] must list two different tenant ids, such as [\"acme\", \"globex\"]", task.agent))),
    }
}

async fn check(task: &AgentTask) -> Result<AgentOutcome, AgentOutcome> {
    let s = settings(task)?;
    let scratch = Scratch::create(&s.url).await.map_err(AgentOutcome::error)?;
    let role = scratch.name.replace("conductor_scratch_", "conductor_probe_");
    let mut facts = json!({
        "mode": if s.purge.is_some() { "purge" } else { "isolation" },
        "database": s.url.redacted(),
        "scratchDatabase": scratch.name,
        "tenantColumn": s.column,
        "tenantSetting": s.setting,
    });
    let examined = examine(&scratch, &s, &role, &mut facts).await;
    let dropped = scratch.drop_database().await;
    let role_dropped = if s.purge.is_none() { probe::drop_role(scratch.admin(), &role).await } else { Ok(()) };
    facts["scratchDropped"] = dropped.is_ok().into();
    if s.purge.is_none() {
        facts["probeRole"] = role.into();
        facts["probeRoleDropped"] = role_dropped.is_ok().into();
    }
    let cleanup: Vec<String> = [dropped.err(), role_dropped.err()].into_iter().flatten().collect();
    if !cleanup.is_empty() {
        facts["cleanupErrors"] = json!(cleanup);
    }
    let problems = examined.map_err(|mut outcome| {
        outcome.facts = facts.clone();
        outcome
    })?;
    facts["problems"] = json!(problems);
    let (verdict, reason) = match problems.first() {
        Some(first) if problems.len() > 1 => (Verdict::Fail, format!("{} (and {} more problems)", first.message, problems.len() - 1)),
        Some(first) => (Verdict::Fail, first.message.clone()),
        None => (Verdict::Pass, passed(&facts)),
    };
    Ok(AgentOutcome { verdict, reason, facts, files: Vec::new() })
}

fn passed(facts: &Value) -> String {
    let tables = facts["tables"].as_array().map_or(0, Vec::len);
    if facts["mode"] == "purge" {
        format!("the purge removed every row of tenant {} from {tables} tenant tables and left the other tenant's rows as they were", facts["tenants"][0].as_str().unwrap_or("?"))
    } else {
        format!("{tables} tenant tables have row-level security enabled and forced, and every cross-tenant read and write was refused")
    }
}

/// Builds the scratch database and runs the check, filling `facts`; its
/// problems, or the outcome when the check could not run.
async fn examine(scratch: &Scratch, s: &Settings, role: &str, facts: &mut Value) -> Result<Vec<Problem>, AgentOutcome> {
    let client = scratch.connect().await.map_err(AgentOutcome::error)?;
    let mut scripts = s.folder.as_ref().map(Folder::ups).unwrap_or_default();
    scripts.extend(s.schema.iter().chain(&s.seed).cloned());
    facts["scripts"] = json!(scripts.iter().map(|x| x.shown.clone()).collect::<Vec<_>>());
    for script in &scripts {
        migrations::apply(&client, &script.path).await.map_err(|e| AgentOutcome::error(format!("{} failed on the scratch database: {e}", script.shown)))?;
    }
    let (tables, out_of_scope) = tables::tables(&client, &s.column).await.map_err(AgentOutcome::error)?;
    facts["outOfScope"] = json!(out_of_scope);
    if tables.is_empty() {
        return Err(AgentOutcome::missing_input(format!("no table has the tenant column {}; set tenant_column to the column that names a row's tenant", s.column)));
    }
    let (tenants, from) = tenants(&client, s, &tables).await.map_err(AgentOutcome::error)?;
    facts["tenants"] = json!(tenants);
    facts["tenantsFrom"] = from.into();
    let pair = [tenants[0].as_str(), tenants[1].as_str()];
    match &s.purge {
        Some((shown, sql)) => purge(&client, s, &tables, pair, (shown, sql), facts).await,
        None => isolation(scratch, &client, s, role, &tables, pair, facts).await,
    }
    .map_err(AgentOutcome::error)
}

/// The two tenants: set, from the seed, or generated to fit the column.
async fn tenants(client: &Client, s: &Settings, tables: &[Table]) -> Result<(Vec<String>, &'static str), String> {
    if let Some(t) = &s.tenants {
        return Ok((t.clone(), "setting"));
    }
    let mut seen = BTreeSet::new();
    for table in tables {
        let sql = format!("SELECT DISTINCT {c}::text FROM {} WHERE {c} IS NOT NULL", table.sql_name, c = ident(&s.column));
        let rows = postgres::rows(client, &sql).await.map_err(|e| postgres::sql_error(&e, None))?;
        seen.extend(rows.into_iter().filter_map(|r| r.into_iter().next().flatten()));
    }
    let mut chosen: Vec<String> = seen.into_iter().take(2).collect();
    let from = if chosen.len() == 2 { "seed" } else { "generated" };
    let numeric = ["smallint", "integer", "bigint"].contains(&tables[0].column_type.as_str()) || tables[0].column_type.starts_with("numeric");
    let generate = if numeric { "SELECT (floor(random() * 1000000000) + 1)::bigint::text" } else { "SELECT gen_random_uuid()::text" };
    while chosen.len() < 2 {
        let id = postgres::value(client, generate).await.map_err(|e| postgres::sql_error(&e, None))?.unwrap_or_default();
        if !chosen.contains(&id) {
            chosen.push(id);
        }
    }
    Ok((chosen, from))
}

/// Gives both tenants a row in `table`; the tenants that got a synthetic
/// one, or the problem that leaves the table unprobed.
async fn ensure_rows(client: &Client, s: &Settings, table: &Table, tenants: [&str; 2], n: u32) -> Result<Vec<String>, Problem> {
    let mut synthetic = Vec::new();
    for (i, tenant) in tenants.into_iter().enumerate() {
        match tables::ensure_row(client, table, &s.column, &s.setting, tenant, n * 2 + i as u32).await {
            Ok(true) => synthetic.push(tenant.to_owned()),
            Ok(false) => {}
            Err(why) => return Err(Problem::new("not-probed", table, format!("not probed: {why}; add seed rows for tenants {} and {}", tenants[0], tenants[1]))),
        }
    }
    Ok(synthetic)
}

async fn isolation(scratch: &Scratch, client: &Client, s: &Settings, role: &str, tables: &[Table], tenants: [&str; 2], facts: &mut Value) -> Result<Vec<Problem>, String> {
    scratch.own_role(role);
    probe::create_role(scratch.admin(), client, role, &s.probe_roles).await?;
    let probe = Probe { role, column: &s.column, setting: &s.setting };
    let mut problems = Vec::new();
    let mut table_facts = Vec::new();
    for (n, table) in (0u32..).zip(tables) {
        problems.extend(flag_problems(table));
        let mut entry = json!(table);
        match ensure_rows(client, s, table, tenants, n).await {
            Ok(synthetic) => {
                entry["syntheticRows"] = json!(synthetic);
                let mut attempts = Vec::new();
                for (viewer, other) in [(tenants[0], tenants[1]), (tenants[1], tenants[0])] {
                    let attempt = probe.attempt(client, table, viewer, other, 1000 + n).await?;
                    problems.extend(attempt_problems(table, &attempt));
                    attempts.push(attempt);
                }
                entry["attempts"] = json!(attempts);
            }
            Err(problem) => problems.push(problem),
        }
        table_facts.push(entry);
    }
    facts["tables"] = table_facts.into();
    Ok(problems)
}

fn flag_problems(table: &Table) -> Vec<Problem> {
    if !table.rls {
        vec![Problem::new("rls-disabled", table, "row-level security is not enabled; run ALTER TABLE … ENABLE ROW LEVEL SECURITY".into())]
    } else if !table.forced {
        vec![Problem::new("rls-not-forced", table, "row-level security is not forced, so the table's owner bypasses it; run ALTER TABLE … FORCE ROW LEVEL SECURITY".into())]
    } else {
        Vec::new()
    }
}

fn attempt_problems(table: &Table, a: &probe::Attempt) -> Vec<Problem> {
    let (v, o) = (&a.viewer, &a.other);
    let rows = |n: u64| if n == 1 { "1 row".to_owned() } else { format!("{n} rows") };
    let mut out = Vec::new();
    if a.read_other > 0 {
        out.push(Problem::new("cross-tenant-read", table, format!("tenant {v} read {} of tenant {o}, expected none", rows(a.read_other.unsigned_abs()))));
    }
    if a.updated_other > 0 {
        out.push(Problem::new("cross-tenant-write", table, format!("tenant {v} updated {} of tenant {o}, expected none", rows(a.updated_other))));
    }
    if a.deleted_other > 0 {
        out.push(Problem::new("cross-tenant-write", table, format!("tenant {v} deleted {} of tenant {o}, expected none", rows(a.deleted_other))));
    }
    if a.inserted_other == Some(true) {
        out.push(Problem::new("cross-tenant-write", table, format!("tenant {v} inserted a row for tenant {o}, expected a refusal")));
    }
    if a.read_own == 0 {
        out.push(Problem::new("own-rows-hidden", table, format!("tenant {v} sees none of its own rows, so the probe cannot tell isolation from no access; check the policies' roles or set probe_roles")));
    }
    out
}

async fn purge(client: &Client, s: &Settings, tables: &[Table], tenants: [&str; 2], (shown, sql): (&str, &str), facts: &mut Value) -> Result<Vec<Problem>, String> {
    let mut problems = Vec::new();
    let mut probed = Vec::new();
    for (n, table) in (0u32..).zip(tables) {
        match ensure_rows(client, s, table, tenants, n).await {
            Ok(_) => probed.push(table),
            Err(problem) => problems.push(problem),
        }
    }
    let before = purge_counts(client, s, &probed, tenants).await?;
    migrations::apply_sql(client, &sql.replace(TENANT_PLACEHOLDER, &literal(tenants[0]))).await.map_err(|e| format!("the purge {shown} failed for tenant {}: {e}", tenants[0]))?;
    let after = purge_counts(client, s, &probed, tenants).await?;
    let mut table_facts = Vec::new();
    for table in &probed {
        let (b, a) = (before[&table.table], after[&table.table]);
        if a.0 > 0 {
            problems.push(Problem::new("purge-incomplete", table, format!("{} of tenant {} left after the purge, expected none", plural(a.0), tenants[0])));
        }
        if a.1 != b.1 {
            problems.push(Problem::new("purge-touched-other-tenant", table, format!("tenant {} had {} before the purge of tenant {} and {} after", tenants[1], plural(b.1), tenants[0], plural(a.1))));
        }
        table_facts.push(json!({"table": table.table, "before": {tenants[0]: b.0, tenants[1]: b.1}, "after": {tenants[0]: a.0, tenants[1]: a.1}}));
    }
    facts["purge"] = shown.into();
    facts["tables"] = table_facts.into();
    Ok(problems)
}

fn plural(n: i64) -> String {
    if n == 1 { "1 row".into() } else { format!("{n} rows") }
}

/// Rows of each tenant in each table, by table.
async fn purge_counts(client: &Client, s: &Settings, tables: &[&Table], tenants: [&str; 2]) -> Result<BTreeMap<String, (i64, i64)>, String> {
    let mut counts = BTreeMap::new();
    for table in tables {
        let a = tables::count(client, table, &s.column, &s.setting, tenants[0]).await?;
        let b = tables::count(client, table, &s.column, &s.setting, tenants[1]).await?;
        counts.insert(table.table.clone(), (a, b));
    }
    Ok(counts)
}

#[cfg(test)]
mod tests;
