//! The reversibility sequence on a scratch database: every up in order,
//! every down in reverse, every up again, with the schema (see [`schema`])
//! and row counts read after each step and compared with the state each
//! step must restore or reproduce.
//!
//! A down that is missing, fails or does not restore the state before its
//! up leaves the database where no later down can be judged, so the
//! database is rebuilt (dropped, created, and the ups before it replayed)
//! and the next down is still tested: one bad down never hides another.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;
use tokio_postgres::Client;

use super::layout::Migration;
use super::schema::{self, Description, Differences};
use super::{Script, apply};
use crate::ProducedFile;
use crate::postgres::Scratch;

/// A finding with a stable code, naming the migration it is about.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct Problem {
    /// Such as `missing-down`, `down-mismatch`, `up-failed`.
    pub(crate) code: &'static str,
    /// The migration's id, such as `003_add_index`.
    pub(crate) migration: String,
    /// What went wrong, naming the migration and what was expected.
    pub(crate) message: String,
    /// The file that failed, when one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) file: Option<String>,
    /// Schema lines that differ from the expected state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) differences: Option<Differences>,
}

/// One step of the sequence and the state after it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Step {
    /// Its number, from 0 (the state before any migration).
    pub(crate) step: usize,
    /// `initial`, `up`, `down`, `reapply` or `rebuild`.
    pub(crate) action: &'static str,
    /// The migration it ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) migration: Option<String>,
    /// The schema digest after it.
    pub(crate) digest: String,
    /// Rows per table after it.
    pub(crate) rows: BTreeMap<String, i64>,
    /// How long the migration took, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) millis: Option<u64>,
    /// The evidence file with the schema description after it.
    pub(crate) file: String,
}

/// A database state: its schema and row counts.
#[derive(Clone, Debug)]
struct State {
    description: Description,
    rows: BTreeMap<String, i64>,
}

/// Runs the sequence and keeps what it found.
pub(crate) struct Runner<'a> {
    scratch: &'a Scratch,
    client: Client,
    root: &'a Path,
    shown: &'a str,
    migrations: &'a [Migration],
    prelude: &'a [Script],
    unit: &'static str,
    out: PathBuf,
    states: Vec<State>,
    /// Each step in order.
    pub(crate) steps: Vec<Step>,
    /// What failed.
    pub(crate) problems: Vec<Problem>,
    /// The schema description after each step.
    pub(crate) files: Vec<ProducedFile>,
    /// The digest after each migration's down, by id.
    pub(crate) down_digests: BTreeMap<String, String>,
}

/// Where the migrations are and how to speak of them.
pub(crate) struct Source<'a> {
    /// The folder.
    pub(crate) root: &'a Path,
    /// The folder as configured.
    pub(crate) shown: &'a str,
    /// `migration` or `backfill`.
    pub(crate) unit: &'static str,
}

impl<'a> Runner<'a> {
    /// A runner on a fresh scratch database; schema files go to `out`.
    pub(crate) async fn new(scratch: &'a Scratch, source: &Source<'a>, migrations: &'a [Migration], prelude: &'a [Script], out: &Path) -> Result<Self, String> {
        let client = scratch.connect().await?;
        std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
        Ok(Self {
            scratch,
            client,
            root: source.root,
            shown: source.shown,
            migrations,
            prelude,
            unit: source.unit,
            out: out.to_owned(),
            states: Vec::new(),
            steps: Vec::new(),
            problems: Vec::new(),
            files: Vec::new(),
            down_digests: BTreeMap::new(),
        })
    }

    /// The whole sequence. An error is one the check cannot go on after
    /// (the database cannot be read or rebuilt); problems are findings.
    pub(crate) async fn run(&mut self) -> Result<(), String> {
        if !self.run_prelude().await? {
            return Ok(());
        }
        let initial = self.snapshot("initial", None, None).await?;
        self.states.push(initial);
        let applied = self.apply_all().await?;
        for k in (0..applied).rev() {
            self.revert(k).await?;
        }
        self.reapply(applied).await
    }

    /// Every up in order; the number that applied.
    async fn apply_all(&mut self) -> Result<usize, String> {
        for (k, m) in self.migrations.iter().enumerate() {
            let started = Instant::now();
            if let Err(e) = self.run_file(&m.up).await {
                self.problem("up-failed", m, format!("{} {}: {} failed: {e}", self.unit, m.id, self.path(&m.up)), Some(&m.up), None);
                return Ok(k);
            }
            let state = self.snapshot("up", Some(&m.id), Some(started)).await?;
            self.states.push(state);
        }
        Ok(self.migrations.len())
    }

    /// Runs the down of migration `k` (from 0) and checks it restores state `k`.
    async fn revert(&mut self, k: usize) -> Result<(), String> {
        let m = &self.migrations[k];
        let Some(down) = &m.down else {
            self.problem("missing-down", m, format!("{} {} has no down {}", self.unit, m.id, self.unit), None, None);
            return self.rebuild(k).await;
        };
        let started = Instant::now();
        if let Err(e) = self.run_file(down).await {
            self.problem("down-failed", m, format!("{} {}: {} failed: {e}", self.unit, m.id, self.path(down)), Some(down), None);
            return self.rebuild(k).await;
        }
        let after = self.snapshot("down", Some(&m.id), Some(started)).await?;
        self.down_digests.insert(m.id.clone(), after.description.digest());
        let expected = &self.states[k];
        let differences = expected.description.differences(&after.description);
        let rows = row_differences(&expected.rows, &after.rows);
        if differences.is_empty() && rows.is_empty() {
            return Ok(());
        }
        if !differences.is_empty() {
            let message = format!("reverting {} {} does not restore the schema before it: {}", self.unit, m.id, differences.summary("left behind", "missing"));
            self.problem("down-mismatch", m, message, Some(down), Some(differences));
        }
        if !rows.is_empty() {
            let message = format!("reverting {} {} does not restore the row counts before it: {}", self.unit, m.id, rows.join("; "));
            self.problem("rows-mismatch", m, message, Some(down), None);
        }
        self.rebuild(k).await
    }

    /// Every up again from the empty state, each expected to reproduce the
    /// state it gave the first time.
    async fn reapply(&mut self, applied: usize) -> Result<(), String> {
        for k in 0..applied {
            let m = &self.migrations[k];
            let started = Instant::now();
            if let Err(e) = self.run_file(&m.up).await {
                self.problem("reapply-failed", m, format!("{} {}: {} failed when applied again after its down: {e}", self.unit, m.id, self.path(&m.up)), Some(&m.up), None);
                return Ok(());
            }
            let again = self.snapshot("reapply", Some(&m.id), Some(started)).await?;
            let differences = self.states[k + 1].description.differences(&again.description);
            if !differences.is_empty() {
                let message = format!("applying {} {} again gives a different schema from the first time: {}", self.unit, m.id, differences.summary("new", "missing"));
                self.problem("reapply-mismatch", m, message, Some(&m.up), Some(differences));
            }
        }
        Ok(())
    }

    /// Brings the database to state `k` from nothing: a new database, the
    /// prelude and the first `k` ups.
    async fn rebuild(&mut self, k: usize) -> Result<(), String> {
        self.scratch.recreate().await?;
        self.client = self.scratch.connect().await?;
        if !self.run_prelude().await? {
            return Err("the seed files failed on the rebuilt scratch database".into());
        }
        for m in &self.migrations[..k] {
            self.run_file(&m.up).await.map_err(|e| format!("{} {}: {} failed while rebuilding the scratch database: {e}", self.unit, m.id, self.path(&m.up)))?;
        }
        let label = self.migrations.get(k.wrapping_sub(1)).map(|m| m.id.clone());
        let state = self.snapshot("rebuild", label.as_deref(), None).await?;
        if state.description != self.states[k].description {
            return Err(format!("replaying the first {k} {}s did not reproduce their schema, so the downs below them cannot be judged", self.unit));
        }
        Ok(())
    }

    /// Runs the prelude (earlier migrations' ups, seed files); false, with a
    /// problem, when one of them fails.
    async fn run_prelude(&mut self) -> Result<bool, String> {
        for script in self.prelude {
            if let Err(e) = apply(&self.client, &script.path).await {
                self.problems.push(Problem { code: "prelude-failed", migration: String::new(), message: format!("{} failed: {e}", script.shown), file: Some(script.shown.clone()), differences: None });
                return Ok(false);
            }
        }
        Ok(true)
    }

    async fn run_file(&self, file: &str) -> Result<(), String> {
        apply(&self.client, &self.root.join(file)).await
    }

    /// Reads the state, records it as a step and files its description.
    async fn snapshot(&mut self, action: &'static str, migration: Option<&str>, started: Option<Instant>) -> Result<State, String> {
        let millis = started.map(|s| u64::try_from(s.elapsed().as_millis()).unwrap_or(u64::MAX));
        let description = Description::read(&self.client).await?;
        let rows = schema::row_counts(&self.client).await?;
        let step = self.steps.len();
        let name = format!("schema-{step:02}-{action}{}.txt", migration.map_or_else(String::new, |m| format!("-{}", m.replace(['/', '\\'], "_"))));
        let path = self.out.join(&name);
        std::fs::write(&path, description.text()).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        self.files.push(ProducedFile { name: name.clone(), path });
        self.steps.push(Step { step, action, migration: migration.map(str::to_owned), digest: description.digest(), rows: rows.clone(), millis, file: name });
        Ok(State { description, rows })
    }

    fn problem(&mut self, code: &'static str, m: &Migration, message: String, file: Option<&str>, differences: Option<Differences>) {
        self.problems.push(Problem { code, migration: m.id.clone(), message, file: file.map(|f| self.path(f)), differences });
    }

    /// A migration file as the repository names it.
    fn path(&self, file: &str) -> String {
        format!("{}/{file}", self.shown.trim_end_matches('/'))
    }

    /// The digest after migration `k` (from 1) was first applied.
    pub(crate) fn digest_after(&self, k: usize) -> Option<String> {
        self.states.get(k).map(|s| s.description.digest())
    }
}

/// Tables whose row count differs from the expected one: `public.users 3 rows, expected 5`.
fn row_differences(expected: &BTreeMap<String, i64>, actual: &BTreeMap<String, i64>) -> Vec<String> {
    let mut out = Vec::new();
    for (table, want) in expected {
        match actual.get(table) {
            Some(got) if got != want => out.push(format!("{table} has {got} rows, expected {want}")),
            _ => {}
        }
    }
    out
}
