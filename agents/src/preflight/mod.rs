//! The `preflight` kind and `conductor preflight`: the seven checks a release
//! branch must pass before anything else runs.
//!
//! | id | holds when |
//! |----|------------|
//! | `remote-sync` | HEAD is on a branch that contains the remote base and is not behind its upstream |
//! | `merge` | a dry-run merge of the remote base into HEAD (`git merge-tree`) finds no conflict |
//! | `clean-tree` | no staged, unstaged or untracked changes |
//! | `secrets` | the secret scanner finds nothing in the work tree that is neither allowlisted nor baselined |
//! | `gitignore` | `.gitignore` covers `.env` and credential files, and none of them is tracked |
//! | `conventional-commits` | every commit since the last tag follows Conventional Commits |
//! | `lockfiles` | each manifest's dependencies are in its lock file |
//!
//! Every check runs even when an earlier one fails, so one run lists
//! everything to fix.

mod commits;
mod hygiene;
mod lockfiles;
mod sync;

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::json;

use crate::{Agent, AgentOutcome, AgentTask, Verdict};

/// The check ids, in the order they run and are shown.
pub const CHECKS: [&str; 7] = ["remote-sync", "merge", "clean-tree", "secrets", "gitignore", "conventional-commits", "lockfiles"];

/// How one check came out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    /// One of [`CHECKS`].
    pub id: &'static str,
    /// Whether it held.
    pub passed: bool,
    /// What was found, and when it failed, what to do.
    pub detail: String,
}

impl Check {
    fn pass(id: &'static str, detail: impl Into<String>) -> Self {
        Self { id, passed: true, detail: detail.into() }
    }

    fn fail(id: &'static str, detail: impl Into<String>) -> Self {
        Self { id, passed: false, detail: detail.into() }
    }
}

/// What the checks compare with.
#[derive(Clone, Debug)]
pub struct Options {
    /// The repository.
    pub repo: PathBuf,
    /// The base branch on the remote, such as `main`.
    pub base: String,
    /// The remote, such as `origin`.
    pub remote: String,
    /// Whether to fetch the base from the remote first.
    pub fetch: bool,
    /// Checks not to run (each is reported as skipped, which does not pass).
    pub skip: Vec<String>,
    /// The secret scanner's settings (`[agents."Secrets Escrow"]` shape).
    pub secrets: toml::Table,
    /// Conventional Commit types accepted.
    pub commit_types: Vec<String>,
}

/// The commit types of the widely used conventional configuration.
pub const DEFAULT_COMMIT_TYPES: [&str; 11] = ["build", "chore", "ci", "docs", "feat", "fix", "perf", "refactor", "revert", "style", "test"];

impl Options {
    /// Defaults for `repo`: base `main` on `origin`, fetched first.
    pub fn new(repo: &Path) -> Self {
        Self {
            repo: repo.to_owned(),
            base: "main".into(),
            remote: "origin".into(),
            fetch: true,
            skip: Vec::new(),
            secrets: toml::Table::new(),
            commit_types: DEFAULT_COMMIT_TYPES.iter().map(|t| (*t).to_owned()).collect(),
        }
    }

    /// Options from an agent's settings (`base`, `remote`, `fetch`, `skip`,
    /// `commit_types`, and the scanner's `allow_paths`, `allow_patterns`, `baseline`).
    pub fn from_settings(repo: &Path, settings: &toml::Table) -> Result<Self, String> {
        let mut options = Self::new(repo);
        let text = |key: &str| settings.get(key).map(|v| v.as_str().map(str::to_owned).ok_or_else(|| format!("'{key}' must be a string")));
        let list = |key: &str| {
            settings.get(key).map(|v| {
                v.as_array()
                    .and_then(|a| a.iter().map(|i| i.as_str().map(str::to_owned)).collect::<Option<Vec<_>>>())
                    .ok_or_else(|| format!("'{key}' must be a list of strings"))
            })
        };
        if let Some(base) = text("base").transpose()? {
            options.base = base;
        }
        if let Some(remote) = text("remote").transpose()? {
            options.remote = remote;
        }
        if let Some(fetch) = settings.get("fetch") {
            options.fetch = fetch.as_bool().ok_or("'fetch' must be true or false")?;
        }
        if let Some(skip) = list("skip").transpose()? {
            if let Some(unknown) = skip.iter().find(|s| !CHECKS.contains(&s.as_str())) {
                return Err(format!("'skip' names '{unknown}', which is not one of {}", CHECKS.join(", ")));
            }
            options.skip = skip;
        }
        if let Some(types) = list("commit_types").transpose()? {
            options.commit_types = types;
        }
        for key in ["allow_paths", "allow_patterns", "baseline", "max_file_bytes"] {
            if let Some(v) = settings.get(key) {
                options.secrets.insert(key.into(), v.clone());
            }
        }
        Ok(options)
    }
}

/// Runs every check (blocking: it runs git and reads the tree).
pub fn run(options: &Options) -> Vec<Check> {
    CHECKS
        .iter()
        .map(|id| {
            if options.skip.iter().any(|s| s == id) {
                return Check::fail(id, "skipped by configuration; a skipped check does not pass");
            }
            match *id {
                "remote-sync" => sync::remote_sync(options),
                "merge" => sync::merge(options),
                "clean-tree" => sync::clean_tree(options),
                "secrets" => hygiene::secrets(options),
                "gitignore" => hygiene::gitignore(options),
                "conventional-commits" => commits::conventional(options),
                _ => lockfiles::consistent(options),
            }
        })
        .collect()
}

/// Runs the pre-flight checks on the repository.
pub struct PreflightAgent;

#[async_trait::async_trait]
impl Agent for PreflightAgent {
    fn kind(&self) -> &'static str {
        "preflight"
    }

    async fn run(&self, task: &AgentTask) -> AgentOutcome {
        let options = match Options::from_settings(&task.workdir, &task.settings) {
            Ok(options) => options,
            Err(e) => return AgentOutcome::missing_input(format!("[agents.\"{}\"]: {e}", task.agent)),
        };
        let checks = match tokio::task::spawn_blocking(move || run(&options)).await {
            Ok(checks) => checks,
            Err(e) => return AgentOutcome::error(format!("the pre-flight checks stopped: {e}")),
        };
        let failed: Vec<&Check> = checks.iter().filter(|c| !c.passed).collect();
        let (verdict, reason) = if failed.is_empty() {
            (Verdict::Pass, format!("all {} pre-flight checks passed", checks.len()))
        } else {
            let named: Vec<String> = failed.iter().map(|c| format!("{}: {}", c.id, c.detail)).collect();
            (Verdict::Fail, format!("{} of {} pre-flight checks failed: {}", failed.len(), checks.len(), named.join("; ")))
        };
        AgentOutcome { verdict, reason, facts: json!({ "checks": checks }), files: vec![] }
    }
}

#[cfg(test)]
mod tests;
