//! Agent kinds: the code that turns a real input into release evidence.
//!
//! The roster (`agents/roster.toml`) names 60 agents and maps each to a kind;
//! a kind is an implementation of [`Agent`], one file per kind. A roster agent
//! whose kind is not implemented, or whose input is not configured, yields an
//! outcome that says exactly that and never passes.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let dir = tempfile::tempdir().unwrap();
//! std::fs::write(dir.path().join("junit.xml"), "<testsuite tests=\"1\"/>").unwrap();
//! let mut settings = toml::Table::new();
//! settings.insert("path".into(), "junit.xml".into());
//! let task = agents::AgentTask::new("QE Generalist", "file", "P1", dir.path(), dir.path(), settings);
//! let outcome = agents::run_task(task).await;
//! assert_eq!(outcome.verdict, agents::Verdict::Pass);
//! assert_eq!(outcome.files[0].name, "junit.xml");
//! # });
//! ```
#![forbid(unsafe_code)]

mod alerts;
pub mod approval;
mod artifacts;
mod authz;
pub mod changelog;
mod command;
mod cost;
mod coverage;
mod docs;
mod drill;
mod file;
mod flags;
mod git;
mod junit;
mod migrations;
mod perf;
mod postgres;
mod probe;
pub mod preflight;
mod provenance;
pub mod readiness;
mod sarif;
mod sign;
mod slo;
mod signing_key;
mod tenant_isolation;
mod vulnerabilities;
pub mod rego_tests;
pub mod roster;
#[doc(hidden)]
pub mod fuzz;
pub mod sbom;
pub mod secrets;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use roster::{Roster, RosterAgent, RosterError};
pub use slo::{instant_value, range_values};

/// Reports read whole: (path as configured, bytes).
pub type Reports = Vec<(String, Vec<u8>)>;

/// How long an agent may run when its settings name no `timeout_seconds`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// What one agent is asked to do.
#[derive(Clone, Debug)]
pub struct AgentTask {
    /// The roster name, such as `QE Generalist`.
    pub agent: String,
    /// The kind that runs it, such as `file`.
    pub kind: String,
    /// The phase it runs for.
    pub phase: String,
    /// The repository being released; relative paths in settings start here.
    pub workdir: PathBuf,
    /// A folder of the agent's own for files it writes.
    pub scratch: PathBuf,
    /// The agent's settings from `[agents."<name>"]` in conductor.toml.
    pub settings: toml::Table,
    /// How long it may take.
    pub timeout: Duration,
    /// The release the task is for, when it runs inside one.
    pub release: Option<ReleaseContext>,
}

/// What an agent may know about the release it checks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseContext {
    /// Version, commit, environment and release id.
    pub binding: evidence::record::ReleaseBinding,
    /// The notary's private key file, for kinds that sign with the release's key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<PathBuf>,
    /// The same agent's facts from the previous release of this repository,
    /// for kinds that compare (new findings, regressions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<PreviousOutcome>,
    /// The release's ledger file, for kinds that read what was recorded
    /// before them (the CAB's signed approvals).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ledger: Option<PathBuf>,
    /// The latest outcome of every agent of this release in the other
    /// phases, for kinds that judge the release from its own evidence (see
    /// [`Agent::reads_release_evidence`]); empty for the rest.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<ReleaseEvidence>,
}

/// One agent's latest outcome in the current release, as the ledger holds it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseEvidence {
    /// The phase it was recorded in.
    pub phase: String,
    /// The roster name.
    pub agent: String,
    /// The kind that produced it.
    pub kind: String,
    /// The record type, such as `junit` or `lint`.
    pub record_type: String,
    /// Its verdict.
    pub verdict: Verdict,
    /// Its reason.
    pub reason: String,
    /// Its facts.
    pub facts: Value,
}

impl ReleaseContext {
    /// The context of a release known only by its binding: no key, no
    /// previous release, no ledger, no earlier evidence.
    pub fn new(binding: evidence::record::ReleaseBinding) -> Self {
        Self { binding, key: None, previous: None, ledger: None, evidence: Vec::new() }
    }
}

/// An agent's latest outcome in an earlier release.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PreviousOutcome {
    /// That release's version.
    pub version: String,
    /// Its verdict.
    pub verdict: Verdict,
    /// Its facts.
    pub facts: Value,
}

impl AgentTask {
    /// A task with the timeout from `timeout_seconds` in the settings, or the default.
    pub fn new(agent: &str, kind: &str, phase: &str, workdir: &Path, scratch: &Path, settings: toml::Table) -> Self {
        let timeout = settings
            .get("timeout_seconds")
            .and_then(toml::Value::as_integer)
            .and_then(|s| u64::try_from(s).ok())
            .map_or(DEFAULT_TIMEOUT, Duration::from_secs);
        Self {
            agent: agent.to_owned(),
            kind: kind.to_owned(),
            phase: phase.to_owned(),
            workdir: workdir.to_owned(),
            scratch: scratch.to_owned(),
            settings,
            timeout,
            release: None,
        }
    }

    /// The task bound to a release.
    #[must_use]
    pub fn with_release(mut self, release: ReleaseContext) -> Self {
        self.release = Some(release);
        self
    }

    /// The release, or a missing-input outcome for kinds that need one.
    pub fn release(&self) -> Result<&ReleaseContext, AgentOutcome> {
        self.release.as_ref().ok_or_else(|| {
            AgentOutcome::missing_input(format!("{} needs the release it checks; run it through `conductor run` after `conductor init`", self.agent))
        })
    }

    /// A setting as text, or a missing-input outcome naming it.
    pub fn text_setting(&self, key: &str) -> Result<&str, AgentOutcome> {
        match self.settings.get(key) {
            Some(toml::Value::String(text)) if !text.trim().is_empty() => Ok(text),
            Some(_) => Err(AgentOutcome::missing_input(format!("setting '{key}' of [agents.\"{}\"] must be a non-empty string", self.agent))),
            None => Err(AgentOutcome::missing_input(format!("no '{key}' is configured; set it under [agents.\"{}\"] in conductor.toml", self.agent))),
        }
    }

    /// A list of repository paths from a setting that is a string or an
    /// array of strings, or a missing-input outcome naming it.
    pub fn paths_setting(&self, key: &str) -> Result<Vec<String>, AgentOutcome> {
        match self.settings.get(key) {
            Some(toml::Value::Array(items)) if !items.is_empty() => items
                .iter()
                .map(|i| i.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| AgentOutcome::missing_input(format!("'{key}' of [agents.\"{}\"] must list paths as strings", self.agent))),
            _ => self.text_setting(key).map(|p| vec![p.to_owned()]),
        }
    }

    /// Reads each listed report whole (reports are small), or a missing-input
    /// outcome naming the first that cannot be read.
    pub fn read_reports(&self, key: &str) -> Result<Reports, AgentOutcome> {
        let paths = self.paths_setting(key)?;
        paths
            .into_iter()
            .map(|p| match std::fs::read(self.resolve(&p)) {
                Ok(bytes) => Ok((p, bytes)),
                Err(e) => Err(AgentOutcome::missing_input(format!("{p} cannot be read: {e}"))),
            })
            .collect()
    }

    /// Reads every report named by `key` and parses each with `parse`; a
    /// report that does not parse is an error outcome naming it as not `what`.
    pub fn parse_reports<T>(&self, key: &str, what: &str, parse: impl Fn(&[u8]) -> Result<T, String>) -> Result<(Reports, Vec<T>), AgentOutcome> {
        let reports = self.read_reports(key)?;
        let parsed = reports
            .iter()
            .map(|(path, bytes)| parse(bytes).map_err(|e| AgentOutcome::error(format!("{path} is not {what}: {e}"))))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((reports, parsed))
    }

    /// A setting that must be one of `choices`, `default` when absent, or a
    /// missing-input outcome listing the choices.
    pub fn choice_setting(&self, key: &str, choices: &[&'static str], default: &'static str) -> Result<&'static str, AgentOutcome> {
        let value = self.settings.get(key).and_then(toml::Value::as_str).unwrap_or(default);
        choices.iter().copied().find(|c| *c == value).ok_or_else(|| {
            AgentOutcome::missing_input(format!("{key} '{value}' of [agents.\"{}\"] is not one of {}", self.agent, choices.join(", ")))
        })
    }

    /// The reports as evidence files.
    pub fn report_files(&self, reports: &[(String, Vec<u8>)]) -> Vec<ProducedFile> {
        reports
            .iter()
            .map(|(p, _)| ProducedFile { name: Path::new(p).file_name().map_or_else(|| p.clone(), |n| n.to_string_lossy().into_owned()), path: self.resolve(p) })
            .collect()
    }

    /// A path relative to the repository.
    pub fn resolve(&self, path: &str) -> PathBuf {
        self.workdir.join(path)
    }
}

/// How an agent's check came out. Only `Pass` passes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The check ran on its input and held.
    Pass,
    /// The check ran on its input and did not hold.
    Fail,
    /// The check could not run (a crash, a spawn failure, a panic).
    Error,
    /// The input the check needs is not configured or not there.
    MissingInput,
    /// The roster names a kind that is not implemented.
    UnknownKind,
    /// The check did not finish within its timeout.
    TimedOut,
    /// The check ran but had nothing to judge against (no baseline), so it
    /// can neither pass nor fail.
    Inconclusive,
}

/// A file an agent produced or ingested; the conductor stores it by digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProducedFile {
    /// The name it is recorded under.
    pub name: String,
    /// Where it is now.
    pub path: PathBuf,
}

/// What an agent found.
#[derive(Clone, Debug)]
pub struct AgentOutcome {
    /// The verdict.
    pub verdict: Verdict,
    /// A sentence saying why, for people.
    pub reason: String,
    /// Structured facts for gate policies.
    pub facts: Value,
    /// Evidence files.
    pub files: Vec<ProducedFile>,
}

impl AgentOutcome {
    fn with(verdict: Verdict, reason: impl Into<String>) -> Self {
        Self { verdict, reason: reason.into(), facts: Value::Null, files: Vec::new() }
    }

    /// The input is not configured or not there.
    pub fn missing_input(reason: impl Into<String>) -> Self {
        Self::with(Verdict::MissingInput, reason)
    }

    /// The check could not run.
    pub fn error(reason: impl Into<String>) -> Self {
        Self::with(Verdict::Error, reason)
    }
}

/// One agent kind.
#[async_trait::async_trait]
pub trait Agent: Send + Sync {
    /// The kind's name, as the roster writes it.
    fn kind(&self) -> &'static str;

    /// Runs the check. Cancellation is by dropping the future: a kind that
    /// starts processes must make sure they die with it.
    async fn run(&self, task: &AgentTask) -> AgentOutcome;

    /// Whether the kind reads the release's earlier evidence, so the
    /// conductor fills [`ReleaseContext::evidence`] for it.
    fn reads_release_evidence(&self) -> bool {
        false
    }
}

/// Every implemented kind.
pub fn kinds() -> Vec<Box<dyn Agent>> {
    vec![
        Box::new(command::CommandAgent),
        Box::new(drill::DrillAgent),
        Box::new(perf::PerfAgent),
        Box::new(probe::ProbeAgent),
        Box::new(flags::FlagsAgent),
        Box::new(file::FileAgent),
        Box::new(git::GitAgent),
        Box::new(preflight::PreflightAgent),
        Box::new(junit::JunitAgent),
        Box::new(coverage::CoverageAgent),
        Box::new(sarif::SarifAgent),
        Box::new(vulnerabilities::VulnerabilitiesAgent),
        Box::new(provenance::ProvenanceAgent),
        Box::new(sign::SignAgent),
        Box::new(approval::ApprovalAgent),
        Box::new(docs::DocsAgent),
        Box::new(alerts::AlertsAgent),
        Box::new(authz::AuthzAgent),
        Box::new(sbom::SbomAgent),
        Box::new(secrets::SecretsAgent),
        Box::new(readiness::ReadinessAgent),
        Box::new(changelog::ChangelogAgent),
        Box::new(slo::SloAgent),
        Box::new(cost::CostAgent),
        Box::new(migrations::MigrationsAgent),
        Box::new(tenant_isolation::TenantIsolationAgent),
    ]
}

/// The implemented kind called `name`.
pub fn find_kind(name: &str) -> Option<Box<dyn Agent>> {
    kinds().into_iter().find(|k| k.kind() == name)
}

/// Runs a task to an outcome, whatever happens: an unknown kind, a timeout
/// and a panic each become an outcome that says so.
pub async fn run_task(task: AgentTask) -> AgentOutcome {
    match find_kind(&task.kind) {
        Some(agent) => run_with(agent, task).await,
        None => AgentOutcome::with(Verdict::UnknownKind, format!("agent kind '{}' of {} is not implemented yet, so its evidence cannot be produced", task.kind, task.agent)),
    }
}

/// Runs a task with a given kind on its own task, so a timeout stops it and a
/// panic is caught and reported rather than taking the run down.
pub async fn run_with(agent: Box<dyn Agent>, task: AgentTask) -> AgentOutcome {
    let timeout = task.timeout;
    let name = task.agent.clone();
    let handle = tokio::spawn(async move { tokio::time::timeout(timeout, agent.run(&task)).await });
    match handle.await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(_)) => AgentOutcome::with(Verdict::TimedOut, format!("{name} did not finish within {} s and was stopped", timeout.as_secs())),
        Err(e) if e.is_panic() => AgentOutcome::error(format!("{name} crashed: {}", panic_text(e.into_panic()))),
        Err(_) => AgentOutcome::error(format!("{name} was cancelled")),
    }
}

fn panic_text(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Panicking;

    #[async_trait::async_trait]
    impl Agent for Panicking {
        fn kind(&self) -> &'static str {
            "panicking"
        }

        async fn run(&self, _task: &AgentTask) -> AgentOutcome {
            panic!("index out of range in the report parser")
        }
    }

    #[tokio::test]
    async fn a_panicking_agent_becomes_an_error_outcome() {
        let dir = tempfile::tempdir().unwrap();
        let task = AgentTask::new("QE Generalist", "panicking", "P1", dir.path(), dir.path(), toml::Table::new());
        let outcome = run_with(Box::new(Panicking), task).await;
        assert_eq!(outcome.verdict, Verdict::Error);
        assert!(outcome.reason.contains("crashed: index out of range"), "{}", outcome.reason);
    }

    #[tokio::test]
    async fn an_unknown_kind_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let task = AgentTask::new("Supply-Chain Lead", "sbom-from-the-future", "P0", dir.path(), dir.path(), toml::Table::new());
        let outcome = run_task(task).await;
        assert_eq!(outcome.verdict, Verdict::UnknownKind);
        assert!(outcome.reason.contains("not implemented yet"));
    }
}
