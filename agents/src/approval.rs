//! The `approval` kind (roster agent "CAB Secretary"): the approvals matrix of
//! the release, built from the signed approvals in its ledger under the
//! repository's trust root, and the release's commit authors, whom separation
//! of duties keeps from approving. It passes when every required role has its
//! quorum and no rejection.
//!
//! Settings under `[agents."CAB Secretary"]`: `roles` (the roles that must
//! approve; default `["cab"]`) and `trust` (the trust root; default
//! `trust.toml`). `conductor approve`, `conductor cab` and `conductor pack`
//! read the same settings through [`required_roles`].

use std::path::Path;

use evidence::approval::{APPROVALS_MATRIX, ApprovalsMatrix, MatrixInput};
use evidence::record::ReleaseBinding;
use evidence::trust::TrustRoot;

use crate::git::git;
use crate::{Agent, AgentOutcome, AgentTask, ProducedFile, Verdict};

/// The roles a release needs approved when the settings name none.
pub const DEFAULT_ROLES: [&str; 1] = ["cab"];

/// The roles `settings` require (`roles`), or [`DEFAULT_ROLES`].
pub fn required_roles(settings: &toml::Table) -> Result<Vec<String>, String> {
    match settings.get("roles") {
        None => Ok(DEFAULT_ROLES.iter().map(|r| (*r).to_owned()).collect()),
        Some(value) => value
            .as_array()
            .and_then(|a| a.iter().map(|r| r.as_str().filter(|r| !r.is_empty()).map(str::to_owned)).collect::<Option<Vec<_>>>())
            .filter(|roles| !roles.is_empty())
            .ok_or_else(|| "'roles' must be a non-empty list of trust-root role names, such as [\"cab\"]".to_owned()),
    }
}

/// The emails of the authors and `Co-authored-by` co-authors of the
/// release's commits: those after the newest tag before `commit`, up to and
/// including `commit` (all of its history when no tag comes before it),
/// lowercased, sorted and without repeats.
pub fn release_authors(repo: &Path, commit: &str) -> Result<Vec<String>, String> {
    let parent = format!("{commit}^");
    let range = match git(repo, &["describe", "--tags", "--abbrev=0", &parent]) {
        Ok(tag) if !tag.is_empty() => format!("{tag}..{commit}"),
        _ => commit.to_owned(),
    };
    let log = git(repo, &["log", "--format=%ae%n%(trailers:key=Co-authored-by,valueonly)", &range])?;
    let mut authors: Vec<String> = log.lines().filter_map(email).collect();
    authors.sort();
    authors.dedup();
    Ok(authors)
}

/// The email in `Name <email>` or a bare address.
fn email(line: &str) -> Option<String> {
    let line = line.trim();
    let address = match (line.find('<'), line.rfind('>')) {
        (Some(start), Some(end)) if start < end => &line[start + 1..end],
        _ => line,
    };
    address.contains('@').then(|| address.to_lowercase())
}

/// The matrix of `release` from `ledger`, under `trust`, for `roles`.
pub fn matrix(repo: &Path, ledger: &Path, trust: &TrustRoot, release: &ReleaseBinding, roles: &[String]) -> Result<ApprovalsMatrix, String> {
    let records = evidence::ledger::read_records(ledger).map_err(|e| e.to_string())?;
    let authors = release_authors(repo, &release.commit)?;
    Ok(ApprovalsMatrix::build(&MatrixInput { records: &records, trust, release, authors: &authors, required_roles: roles }))
}

/// Checks the CAB's signed approvals against the trust root's roles.
pub struct ApprovalAgent;

#[async_trait::async_trait]
impl Agent for ApprovalAgent {
    fn kind(&self) -> &'static str {
        "approval"
    }

    async fn run(&self, task: &AgentTask) -> AgentOutcome {
        let release = match task.release() {
            Ok(release) => release,
            Err(outcome) => return outcome,
        };
        let Some(ledger) = release.ledger.clone() else {
            return AgentOutcome::missing_input(format!("{} reads the release's ledger; run it through `conductor run`", task.agent));
        };
        let roles = match required_roles(&task.settings) {
            Ok(roles) => roles,
            Err(e) => return AgentOutcome::missing_input(format!("[agents.\"{}\"]: {e}", task.agent)),
        };
        let trust_path = task.resolve(task.settings.get("trust").and_then(toml::Value::as_str).unwrap_or("trust.toml"));
        let trust = match std::fs::read_to_string(&trust_path) {
            Ok(text) => match TrustRoot::parse(&text, &trust_path.display().to_string()) {
                Ok(trust) => trust,
                Err(e) => return AgentOutcome::missing_input(e.to_string()),
            },
            Err(e) => return AgentOutcome::missing_input(format!("cannot read the trust root {} ({e}); its [roles] say who may approve", trust_path.display())),
        };
        let (workdir, binding) = (task.workdir.clone(), release.binding.clone());
        let built = tokio::task::spawn_blocking(move || matrix(&workdir, &ledger, &trust, &binding, &roles)).await;
        let matrix = match built {
            Ok(Ok(matrix)) => matrix,
            Ok(Err(e)) => return AgentOutcome::error(e),
            Err(e) => return AgentOutcome::error(format!("the approvals matrix could not be built: {e}")),
        };
        outcome(task, &matrix)
    }
}

fn outcome(task: &AgentTask, matrix: &ApprovalsMatrix) -> AgentOutcome {
    let path = task.scratch.join(APPROVALS_MATRIX);
    if let Err(e) = std::fs::create_dir_all(&task.scratch).and_then(|()| std::fs::write(&path, matrix.to_json())) {
        return AgentOutcome::error(format!("cannot write {}: {e}", path.display()));
    }
    let required = matrix.roles.iter().filter(|r| matrix.required_roles.contains(&r.role));
    let lines: Vec<String> = required
        .map(|r| match &r.problem {
            Some(problem) => format!("{}: {problem}", r.role),
            None => format!("{}: {} of {} approvals, quorum met", r.role, r.approvals, r.threshold),
        })
        .collect();
    let verdict = if matrix.approved() { Verdict::Pass } else { Verdict::Fail };
    let facts = serde_json::to_value(matrix).unwrap_or_default();
    AgentOutcome { verdict, reason: lines.join("; "), facts, files: vec![ProducedFile { name: APPROVALS_MATRIX.into(), path }] }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_default_to_cab_and_must_be_names() {
        assert_eq!(required_roles(&toml::Table::new()).unwrap(), ["cab"]);
        let given: toml::Table = toml::from_str("roles = [\"cab\", \"security\"]").unwrap();
        assert_eq!(required_roles(&given).unwrap(), ["cab", "security"]);
        for bad in ["roles = []", "roles = \"cab\"", "roles = [\"\"]"] {
            assert!(required_roles(&toml::from_str(bad).unwrap()).is_err(), "{bad}");
        }
    }

    #[test]
    fn co_authors_count_as_authors_of_the_release() {
        let dir = crate::git::tests::repo();
        let sh = |args: &[&str]| crate::git::tests::sh(dir.path(), args);
        sh(&["tag", "v1.0.0"]);
        sh(&["commit", "-q", "--allow-empty", "-m", "fix: a\n\nCo-authored-by: Carol Example <Carol@Example.com>"]);
        let head = sh(&["rev-parse", "HEAD"]);
        let authors = release_authors(dir.path(), head.trim()).unwrap();
        assert!(authors.contains(&"carol@example.com".to_owned()), "{authors:?}");
        assert_eq!(authors.len(), 2, "the committer of the fix and its co-author: {authors:?}");
    }

    #[test]
    fn addresses_are_read_from_either_form() {
        assert_eq!(email("Carol <carol@example.com>").as_deref(), Some("carol@example.com"));
        assert_eq!(email(" bob@example.com ").as_deref(), Some("bob@example.com"));
        assert_eq!(email("not an address"), None);
    }
}
