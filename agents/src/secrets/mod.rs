//! The `secrets` kind and the scanner behind `conductor scan-secrets`:
//! plaintext credentials in a work tree, in the lines added since a ref, or
//! anywhere in git history.
//!
//! Rules are a table ([`RULES`]): each has keywords, and its regex runs only
//! around a keyword found by one Aho-Corasick pass over the file. Findings
//! never hold the secret; they carry a [`fingerprint`] (hex SHA-256 of rule
//! id, path and secret) so a baseline can accept known ones.
//!
//! ```
//! let dir = tempfile::tempdir().unwrap();
//! let token = format!("ghp_{}", "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dF3hJ5");
//! std::fs::write(dir.path().join("deploy.sh"), format!("export GITHUB_TOKEN={token}\n")).unwrap();
//! let report = agents::secrets::scan_tree(dir.path(), &agents::secrets::ScanConfig::default()).unwrap();
//! assert_eq!(report.findings[0].rule, "github-pat");
//! assert_eq!((report.findings[0].path.as_str(), report.findings[0].line), ("deploy.sh", 1));
//! assert!(!serde_json::to_string(&report).unwrap().contains(&token));
//! ```
//!
//! The agent's settings under `[agents."<name>"]`: `paths` (tree mode;
//! default `.`), `mode` (`tree`, `diff` or `history`), `since` (diff mode;
//! default the previous tag), `allow_paths`, `allow_patterns`, `baseline`
//! and `max_file_bytes` (see [`ScanConfig::from_settings`]).

mod allow;
mod config;
mod detect;
mod git;
mod report;
mod rules;
mod scan;
#[cfg(test)]
mod tests;

use std::path::PathBuf;

use serde_json::{Value, json};

pub use allow::{Allowlist, Baseline, INLINE_MARKERS};
pub use config::{Cancel, ConfigError, DEFAULT_MAX_FILE_BYTES, Mode, ScanConfig};
pub use git::{scan_diff, scan_history};
pub use report::{Finding, SARIF_FINGERPRINT_KEY, ScanReport, Skipped};
pub use rules::{RULES, Region, RuleSpec, Severity, entropy};
pub use scan::{scan_paths, scan_tree};

use crate::{Agent, AgentOutcome, AgentTask, ProducedFile, Verdict};

/// How many findings the facts list.
const FINDINGS_KEPT: usize = 50;

/// How many findings the reason names.
const FINDINGS_NAMED: usize = 3;

/// The evidence file the agent writes.
pub const SARIF_FILE: &str = "secrets.sarif";

/// Hex SHA-256 of `rule id NUL path NUL secret`: stable when lines move,
/// different for the same secret in another file or under another rule.
pub fn fingerprint(rule: &str, path: &str, secret: &[u8]) -> String {
    detect::fingerprint(rule, path, secret)
}

/// Why a scan could not run.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// A path to scan cannot be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// `git` cannot be started.
    #[error("cannot run git: {source}; install git and try again")]
    GitSpawn {
        /// Why.
        source: std::io::Error,
    },
    /// The folder is not in a git repository.
    #[error("{} is not inside a git repository; diff and history scans need one (tree mode does not)", dir.display())]
    NotARepository {
        /// The folder.
        dir: PathBuf,
    },
    /// Diff mode has no ref to start from.
    #[error("no tag is reachable from HEAD^ in {}, so diff mode has no previous release to start from; name a ref with --since REF (or `since` in the agent's settings)", dir.display())]
    NoTag {
        /// The repository.
        dir: PathBuf,
    },
    /// The ref to diff from names no commit.
    #[error("'{rev}' does not name a commit in {}; pass an existing tag, branch or commit", dir.display())]
    BadRef {
        /// The repository.
        dir: PathBuf,
        /// The ref.
        rev: String,
    },
    /// A `git` command failed.
    #[error("git {args} failed: {stderr}")]
    Git {
        /// Its arguments.
        args: String,
        /// What it printed on stderr.
        stderr: String,
    },
    /// Reading `git` output failed.
    #[error("reading git output: {source}")]
    GitRead {
        /// Why.
        source: std::io::Error,
    },
    /// `git` output is not what was asked for.
    #[error("unexpected git output: {what}")]
    GitOutput {
        /// What was wrong.
        what: &'static str,
    },
    /// The scan was stopped through its [`Cancel`].
    #[error("the scan was cancelled")]
    Cancelled,
}

/// Scans the paths, the diff or the history its settings name, writes
/// `secrets.sarif`, and fails when any finding remains.
pub struct SecretsAgent;

/// A task's settings, parsed.
struct Request {
    workdir: PathBuf,
    paths: Vec<PathBuf>,
    mode: Mode,
    since: Option<String>,
    config: ScanConfig,
}

impl Request {
    fn from_task(task: &AgentTask) -> Result<Self, AgentOutcome> {
        let at = format!("[agents.\"{}\"]", task.agent);
        let paths = if task.settings.contains_key("paths") { task.paths_setting("paths")? } else { vec![".".to_owned()] };
        let mode = task.choice_setting("mode", &Mode::NAMES, "tree")?;
        let since = match task.settings.get("since") {
            None => None,
            Some(_) => Some(task.text_setting("since")?.to_owned()),
        };
        let config = ScanConfig::from_settings(&task.settings, &task.workdir).map_err(|e| match e {
            ConfigError::BaselineUnreadable { .. } | ConfigError::BaselineInvalid { .. } | ConfigError::BaselineFingerprint { .. } => AgentOutcome::error(format!("{at}: {e}")),
            _ => AgentOutcome::missing_input(format!("{at}: {e}")),
        })?;
        // `choice_setting` only returns one of the names.
        let mode = Mode::from_name(mode).unwrap_or_default();
        Ok(Self { workdir: task.workdir.clone(), paths: paths.iter().map(|p| task.resolve(p)).collect(), mode, since, config })
    }

    fn run(&self) -> Result<ScanReport, ScanError> {
        match self.mode {
            Mode::Tree => scan_paths(&self.workdir, &self.paths, &self.config),
            Mode::Diff => scan_diff(&self.workdir, self.since.as_deref(), &self.config),
            Mode::History => scan_history(&self.workdir, &self.config),
        }
    }
}

/// Cancels the scan when the agent's future is dropped (a timeout), so its
/// threads stop and its git processes are killed.
struct CancelOnDrop(Cancel);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

#[async_trait::async_trait]
impl Agent for SecretsAgent {
    fn kind(&self) -> &'static str {
        "secrets"
    }

    async fn run(&self, task: &AgentTask) -> AgentOutcome {
        let request = match Request::from_task(task) {
            Ok(request) => request,
            Err(outcome) => return outcome,
        };
        let _cancel = CancelOnDrop(request.config.cancel.clone());
        let report = match tokio::task::spawn_blocking(move || request.run()).await {
            Ok(Ok(report)) => report,
            Ok(Err(e)) => return AgentOutcome::error(format!("the secret scan cannot run: {e}")),
            Err(e) => return AgentOutcome::error(format!("the secret scan crashed: {e}")),
        };
        let sarif = task.scratch.join(SARIF_FILE);
        let written = std::fs::create_dir_all(&task.scratch).and_then(|()| std::fs::write(&sarif, report.to_sarif().to_string()));
        if let Err(e) = written {
            return AgentOutcome::error(format!("cannot write {}: {e}", sarif.display()));
        }
        let (verdict, reason) = verdict(&report);
        AgentOutcome { verdict, reason, facts: facts(&report), files: vec![ProducedFile { name: SARIF_FILE.into(), path: sarif }] }
    }
}

fn verdict(report: &ScanReport) -> (Verdict, String) {
    let accepted = format!("{} allowlisted, {} baselined", report.allowlisted, report.baselined);
    if report.findings.is_empty() {
        let scope = format!("{} files ({} bytes)", report.files_scanned, report.bytes_scanned);
        return (Verdict::Pass, format!("no secrets in {scope} scanned in {} mode; {accepted}", report.mode.as_str()));
    }
    let named: Vec<String> = report.findings.iter().take(FINDINGS_NAMED).map(|f| format!("{} {}:{}", f.rule, f.path, f.line)).collect();
    let more = report.findings.len().saturating_sub(FINDINGS_NAMED);
    let more = if more > 0 { format!(" and {more} more") } else { String::new() };
    (Verdict::Fail, format!("{} secrets found: {}{more} ({accepted})", report.findings.len(), named.join(", ")))
}

fn facts(report: &ScanReport) -> Value {
    let findings: Vec<Value> = report
        .findings
        .iter()
        .take(FINDINGS_KEPT)
        .map(|f| {
            let mut v = json!({ "rule": f.rule, "file": f.path, "line": f.line, "fingerprint": f.fingerprint });
            if let Some(commit) = &f.commit {
                v["commit"] = commit.as_str().into();
            }
            v
        })
        .collect();
    json!({
        "mode": report.mode,
        "since": report.since,
        "counts": report.counts_by_rule(),
        "total": report.findings.len(),
        "findings": findings,
        "allowlisted": report.allowlisted,
        "baselined": report.baselined,
        "filesScanned": report.files_scanned,
        "bytesScanned": report.bytes_scanned,
        "commits": report.commits,
    })
}
