//! The `migrations` kind: proves a repository's migrations reversible on a
//! real PostgreSQL. On a scratch database (`conductor_scratch_<hex>`, dropped
//! afterwards even when a step fails) it applies every up in order, reverts
//! every down in reverse order and applies every up again, reading the
//! schema digest ([`schema`]) and row counts after each step. Reverting a
//! migration must restore the state before it; applying it again must give
//! the state it gave the first time.
//!
//! Settings: `database_url` or `database_url_env` (the name of an
//! environment variable holding it); `migrations_dir`, laid out as `layout`
//! says ([`layout`], `auto` by default); `seed`, SQL files run first so
//! data-changing migrations have rows to change. With `backfills_dir` the
//! same sequence checks backfills (up/down SQL pairs), after the ups of
//! `migrations_dir` and the seed files have built the schema and data they
//! run on; row counts before and after each step are then the point.
//!
//! Each file runs in a transaction unless it contains the line
//! `-- conductor:no-transaction` (for `CREATE INDEX CONCURRENTLY`, which
//! must then be the file's only statement).
//!
//! An empty folder is missing input; a server that cannot be reached is an
//! error whose reason carries the address with its password redacted.

pub(crate) mod layout;
pub(crate) mod schema;
pub(crate) mod sequence;

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use tokio_postgres::Client;

use crate::postgres::{self, DatabaseUrl, Scratch};
use crate::{Agent, AgentOutcome, AgentTask, ProducedFile, Verdict};
use layout::{Layout, Migration, Plan};
use sequence::{Runner, Source};

/// The marker that runs a file outside a transaction.
pub(crate) const NO_TRANSACTION: &str = "-- conductor:no-transaction";

/// Applies, reverts and re-applies migrations or backfills.
pub struct MigrationsAgent;

#[async_trait::async_trait]
impl Agent for MigrationsAgent {
    fn kind(&self) -> &'static str {
        "migrations"
    }

    async fn run(&self, task: &AgentTask) -> AgentOutcome {
        match check(task).await {
            Ok(outcome) | Err(outcome) => outcome,
        }
    }
}

/// An SQL file to run, and how the repository names it.
#[derive(Clone, Debug)]
pub(crate) struct Script {
    /// The path as configured, for messages.
    pub(crate) shown: String,
    /// Where it is.
    pub(crate) path: PathBuf,
}

/// A folder of migrations read in its layout.
pub(crate) struct Folder {
    /// The folder as configured.
    pub(crate) shown: String,
    /// Where it is.
    pub(crate) path: PathBuf,
    /// What it holds.
    pub(crate) plan: Plan,
}

impl Folder {
    /// The folder the setting `key` names, in the layout of the `layout`
    /// setting; missing input when unset, unreadable or empty.
    pub(crate) fn from_task(task: &AgentTask, key: &str) -> Result<Self, AgentOutcome> {
        let choice = task.choice_setting("layout", &layout::LAYOUTS, "auto")?;
        let shown = task.text_setting(key)?.to_owned();
        let path = task.resolve(&shown);
        let files = layout::list(&path).map_err(|e| AgentOutcome::missing_input(format!("the {key} {shown} cannot be read: {e}")))?;
        let plan = layout::plan(&files, Layout::from_setting(choice));
        if plan.migrations.is_empty() && plan.problems.is_empty() {
            let what = if key == "backfills_dir" { "backfills" } else { "migrations" };
            return Err(AgentOutcome::missing_input(format!("{shown} holds no {what} in the {} layout; add files such as 001_init.up.sql and 001_init.down.sql or set layout", plan.layout.name())));
        }
        Ok(Self { shown, path, plan })
    }

    /// The ups as scripts, in order.
    pub(crate) fn ups(&self) -> Vec<Script> {
        self.plan.migrations.iter().map(|m| Script { shown: format!("{}/{}", self.shown.trim_end_matches('/'), m.up), path: self.path.join(&m.up) }).collect()
    }
}

/// The scripts a setting lists (a path or a list of paths), or none when unset.
pub(crate) fn scripts(task: &AgentTask, key: &str) -> Result<Vec<Script>, AgentOutcome> {
    if !task.settings.contains_key(key) {
        return Ok(Vec::new());
    }
    Ok(task.paths_setting(key)?.into_iter().map(|shown| Script { path: task.resolve(&shown), shown }).collect())
}

/// Runs one SQL file with [`apply_sql`].
pub(crate) async fn apply(client: &Client, path: &Path) -> Result<(), String> {
    let sql = std::fs::read_to_string(path).map_err(|e| format!("cannot read it: {e}"))?;
    apply_sql(client, &sql).await
}

/// Runs SQL in a transaction that is rolled back when it fails, unless it
/// carries [`NO_TRANSACTION`]; the error names the line it points at.
pub(crate) async fn apply_sql(client: &Client, sql: &str) -> Result<(), String> {
    if sql.lines().any(|l| l.trim() == NO_TRANSACTION) {
        return client.batch_execute(sql).await.map_err(|e| postgres::sql_error(&e, Some(sql)));
    }
    let ran = match client.batch_execute("BEGIN").await {
        Ok(()) => client.batch_execute(sql).await,
        Err(e) => Err(e),
    };
    match ran {
        Ok(()) => client.batch_execute("COMMIT").await.map_err(|e| postgres::sql_error(&e, None)),
        Err(e) => {
            // The failed transaction must end before the connection can be used again.
            let _ = client.batch_execute("ROLLBACK").await;
            Err(postgres::sql_error(&e, Some(sql)))
        }
    }
}

/// What kind of check the settings ask for.
struct Mode {
    /// `migrations` or `backfills`, for the facts.
    name: &'static str,
    /// `migration` or `backfill`, for messages.
    unit: &'static str,
    /// The folder under test.
    folder: Folder,
    /// What runs before it.
    prelude: Vec<Script>,
}

fn mode(task: &AgentTask) -> Result<Mode, AgentOutcome> {
    let seeds = scripts(task, "seed")?;
    if task.settings.contains_key("backfills_dir") {
        let mut prelude = if task.settings.contains_key("migrations_dir") { Folder::from_task(task, "migrations_dir")?.ups() } else { Vec::new() };
        prelude.extend(seeds);
        return Ok(Mode { name: "backfills", unit: "backfill", folder: Folder::from_task(task, "backfills_dir")?, prelude });
    }
    Ok(Mode { name: "migrations", unit: "migration", folder: Folder::from_task(task, "migrations_dir")?, prelude: seeds })
}

async fn check(task: &AgentTask) -> Result<AgentOutcome, AgentOutcome> {
    let url = DatabaseUrl::from_task(task)?;
    let mode = mode(task)?;
    let mut facts = json!({
        "mode": mode.name,
        "database": url.redacted(),
        "layout": mode.folder.plan.layout.name(),
        "directory": mode.folder.shown,
        "ignored": mode.folder.plan.ignored,
        "prelude": mode.prelude.iter().map(|s| s.shown.clone()).collect::<Vec<_>>(),
    });
    if !mode.folder.plan.problems.is_empty() {
        return Ok(layout_failure(&mode, facts));
    }
    let scratch = Scratch::create(&url).await.map_err(AgentOutcome::error)?;
    facts["scratchDatabase"] = scratch.name.clone().into();
    let source = Source { root: &mode.folder.path, shown: &mode.folder.shown, unit: mode.unit };
    let migrations = &mode.folder.plan.migrations;
    let out = task.scratch.join("schema");
    let result = match Runner::new(&scratch, &source, migrations, &mode.prelude, &out).await {
        Ok(mut runner) => {
            let ran = runner.run().await;
            Ok((runner, ran))
        }
        Err(e) => Err(e),
    };
    let dropped = scratch.drop_database().await;
    facts["scratchDropped"] = dropped.is_ok().into();
    if let Err(e) = &dropped {
        facts["dropError"] = e.clone().into();
    }
    let (runner, ran) = result.map_err(|e| AgentOutcome { facts: facts.clone(), ..AgentOutcome::error(e) })?;
    Ok(judge(&mode, &runner, ran, facts))
}

/// A folder whose files cannot be ordered: nothing runs.
fn layout_failure(mode: &Mode, mut facts: Value) -> AgentOutcome {
    let problems = &mode.folder.plan.problems;
    facts["migrations"] = json!(mode.folder.plan.migrations);
    facts["problems"] = json!(problems);
    let reason = with_count(&problems[0].message, problems.len());
    AgentOutcome { verdict: Verdict::Fail, reason, facts, files: Vec::new() }
}

fn judge(mode: &Mode, runner: &Runner<'_>, ran: Result<(), String>, mut facts: Value) -> AgentOutcome {
    let migrations = &mode.folder.plan.migrations;
    facts["migrations"] = migrations.iter().enumerate().map(|(k, m)| migration_facts(mode, runner, k, m)).collect::<Vec<_>>().into();
    facts["steps"] = json!(runner.steps);
    facts["initialDigest"] = runner.steps.first().map_or(Value::Null, |s| s.digest.clone().into());
    facts["finalDigest"] = runner.steps.last().map_or(Value::Null, |s| s.digest.clone().into());
    facts["problems"] = json!(runner.problems);
    let mut files = runner.files.clone();
    files.extend(migration_files(mode));
    let (verdict, reason) = match (&ran, runner.problems.first()) {
        (Err(e), _) => (Verdict::Error, e.clone()),
        (Ok(()), Some(first)) => (Verdict::Fail, with_count(&first.message, runner.problems.len())),
        (Ok(()), None) => (Verdict::Pass, passed(mode, runner)),
    };
    AgentOutcome { verdict, reason, facts, files }
}

fn migration_facts(mode: &Mode, runner: &Runner<'_>, k: usize, m: &Migration) -> Value {
    let path = |f: &String| format!("{}/{f}", mode.folder.shown.trim_end_matches('/'));
    json!({
        "id": m.id,
        "version": m.version,
        "name": m.name,
        "up": path(&m.up),
        "down": m.down.as_ref().map(path),
        "upDigest": runner.digest_after(k + 1),
        "downDigest": runner.down_digests.get(&m.id),
    })
}

/// The migration files themselves, so the evidence shows what was run.
fn migration_files(mode: &Mode) -> Vec<ProducedFile> {
    let file = |f: &String| ProducedFile { name: f.replace('/', "-"), path: mode.folder.path.join(f) };
    mode.folder.plan.migrations.iter().flat_map(|m| std::iter::once(file(&m.up)).chain(m.down.as_ref().map(file))).collect()
}

fn passed(mode: &Mode, runner: &Runner<'_>) -> String {
    let n = mode.folder.plan.migrations.len();
    let last = runner.digest_after(n).unwrap_or_default();
    format!("{n} {}s applied, reverted and applied again on a scratch database with matching schema digests (last {})", mode.unit, &last[..last.len().min(12)])
}

fn with_count(first: &str, count: usize) -> String {
    if count > 1 { format!("{first} (and {} more problems)", count - 1) } else { first.to_owned() }
}

#[cfg(test)]
mod tests;
